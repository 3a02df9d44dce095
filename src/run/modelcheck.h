/* Certified checks of a model's attention-only conversion (convert.h)
 * against the model itself, streamed block by block: one block's weights
 * and its two converted layers are in memory at a time.
 *
 * The checks (each fills one row, see claim.h):
 *   ATTN b     block b's attention sublayer alone: layer A on the stream of
 *              h against h + Attn(LN1(h)) + b_O, h the original's stream
 *              entering block b as computed by restarting from the exact
 *              midpoints of every sublayer's enclosure (an exact input close
 *              to the true stream; enclosures do not widen from block to
 *              block); exact rule, one layer.
 *   MLP b      block b's MLP sublayer alone, the same way with layer B:
 *              exact rule for silu, sigmoid and GLU; for the approximated
 *              activations the bound E <= G sum_k ||W_out[k,:]||_2, G the
 *              certified sup |phi - SiLU_a| on [-zmax, zmax], zmax the
 *              certified largest |pre-activation| on this input.
 *   MLP_SILU b (approximations) layer B against the MLP with phi replaced
 *              by SiLU_a: exact rule.
 *   BLOCK b    a parallel block (one converted layer): that layer on h
 *              against h + Attn(LN1(h)) + b_O + MLP(LN2(h)) + b_out, the
 *              rules of MLP b (exact, or the MLP bound: the attention part
 *              is exact in both); BLOCK_SILU b its SiLU_a twin, exact rule.
 *              A parallel block has no ATTN, MLP or MLP_SILU rows.
 *   MODEL      the whole model end to end from the exact tokens X: the
 *              converted network's output (2L layers, L for parallel
 *              blocks, then ln_final on the features) against [[ln_final(0),
 *              1, 1], [model(X), 1, 0]]; exact rule with depth layers + 1
 *              (the maps both streams pass through: the layers and
 *              ln_final; the layers alone without a final LN).
 *              For approximations the reference
 *              is the model with phi replaced by SiLU_a, and the distance to
 *              the model itself is a measured column (no claim).
 *   ENCODED    the whole converted network with every mask encoded by
 *              one-hot positions and Omega (maskenc.h), end to end, against
 *              the model: E <= the derived bound at Omega plus the certified
 *              distance of the masked network to the model; with Omega_req
 *              for eps = 1e-3, 1e-6, 1e-12 (the smallest Omega at which the
 *              bound is <= eps) as columns.
 * E is over all n + 1 rows and all d + 2 columns: the bias token's row
 * must come out as the layout says. */
#ifndef ATTNCHECK_MODELCHECK_H
#define ATTNCHECK_MODELCHECK_H

#include <pthread.h>
#include "aztrack.h"
#include "claim.h"
#include "convert.h"

typedef enum {
    MCHECK_ATTN, MCHECK_MLP, MCHECK_MLP_SILU, MCHECK_MODEL, MCHECK_ENCODED,
    MCHECK_BLOCK, MCHECK_BLOCK_SILU, /* parallel blocks */
    MCHECK_N
} mcheck_t;
#define MCHECK_BIT(k) (1u << (k))


typedef struct {
    mpfr_prec_t prec;          /* the sublayer checks' precision */
    mpfr_prec_t e2e_prec;      /* the end-to-end chains' (MODEL, ENCODED; 0: prec) */
    int mutation;              /* CONVERT_MUT_* */
    convert_form_t form;       /* the conversion's form (0: float-robust, the default) */
    const convert_act_t *act;
    unsigned checks;           /* MCHECK_BIT()s of the checks wanted */
    long block;                /* sublayer checks of this block only (-1: every block) */
    /* A fresh row for a check (row_start done, parameters set), or NULL to
     * skip it. */
    row_t *(*row)(void *ctx, mcheck_t kind, long block);
    void *row_ctx;
    const aonet_sink_t *sink;  /* or NULL */
    imat_struct *ref_out;      /* MODEL: the reference stream the network must end in,
                                  [[ln_final(0), 1, 1], [model(X), 1, 0]] (or NULL) */
    /* ENCODED: Omega, and mutations of the encoded network only (the masked
     * network the bound follows stays the claimed one) */
    const arb_struct *omega;
    int enc_mutation;          /* MASKENC_MUT_* */
    int enc_convert_mutation;  /* CONVERT_MUT_* of the encoded network's conversion */
} mcheck_opts_t;

/* Ball enclosures of a dense pre-LN block widen by 17 to 20 bits (measured
 * on SVTR and the GPT-2-shaped model: the interval wrapping of LN, four
 * products with d-wide sums and the softmax); end-to-end chains need that
 * much more precision per block to end near the working precision. */
#define MCHECK_E2E_BITS_PER_BLOCK 20

/* The eps of the Omega_req columns. */
#define MCHECK_N_EPS 3
extern const double mcheck_eps[MCHECK_N_EPS];
extern const char *const mcheck_eps_column[MCHECK_N_EPS];

/* A row source (mcheck_opts_t.row) that hands out its one row, once. */
typedef struct {
    row_t *r;
    int taken;
} mcheck_one_row_t;
row_t *mcheck_give_one_row(void *ctx, mcheck_t kind, long block);

/* Run the checks on tokens X (n x d_model, exact), each by its function
 * below (the encoded network by its own chain).  0, or an exit code with
 * one line in err (a tensor that cannot be read). */
int mcheck_run(const tmodel_t *m, const imat_t X, const mcheck_opts_t *o, char *err,
               size_t errsz);

/* The converted network's layers and final LN (conversion `mutation`) to
 * sink, block by block; 0 or an exit code with err. */
int mcheck_convert(const tmodel_t *m, const convert_act_t *ca, convert_opts_t co,
                   const aonet_sink_t *sink, char *err, size_t errsz);

/* The name of a check ("attn", "mlp", "mlp-silu_a", "model"). */
const char *mcheck_name(mcheck_t kind);

/* ---- one check at a time: what a claim's independent rows call ---- */

/* An activation that records an upper bound of max |a x| over its inputs
 * (thread-safe): the instance part of the resolution rule (verdict.h). */
typedef struct {
    const act_t *act;
    az_track_t az;
} mcheck_track_t;
void mcheck_track_init(mcheck_track_t *t, const act_t *act, const arb_t a);
void mcheck_track_clear(mcheck_track_t *t);
void mcheck_act_tracked(arb_t y, const arb_t x, const void *track, mpfr_prec_t prec);
void mcheck_track_resolve(row_t *r, const mcheck_track_t *t);

/* The original's streams through block B from h (exact): h_mlp = mid of
 * the stream entering the MLP (h itself for a parallel block), h_next = mid
 * of the block's output. */
void mcheck_block_streams(imat_t h_mlp, imat_t h_next, const tblock_t *B, const imat_t h,
                          const convert_act_t *ca, mpfr_prec_t prec);
/* Row r (at r->prec) of check kind (ATTN, MLP, MLP_SILU of a sequential
 * block; BLOCK, BLOCK_SILU of a parallel one) of block b, on h,
 * the original's stream entering that sublayer (exact): as mcheck_run
 * fills it, with r->depth 1 and r->resolve_bits.  0, or an exit code with err. */
int mcheck_sublayer(row_t *r, const tmodel_t *m, long b, mcheck_t kind, const imat_t h,
                    const convert_act_t *ca, convert_opts_t co, char *err, size_t errsz);
/* The exact parts two rows of one block compute alike (MLP and MLP_SILU,
 * BLOCK and BLOCK_SILU: the same converted layer on the same stream, the
 * same MLP pre-activations): made by the first at its precision and
 * conversion mutation, handed to the second (the same bits); a row at
 * another precision makes its own. */
typedef struct {
    int ready;
    mpfr_prec_t prec;
    int mutation;
    imat_t M, M2;
} mcheck_kept_t;
typedef struct {
    pthread_mutex_t lock;
    mcheck_kept_t conv;   /* the converted layer's output */
    mcheck_kept_t pre;    /* the MLP's pre-activations Z and G (tblock_mlp_pre) */
} mcheck_shared_t;
void mcheck_shared_init(mcheck_shared_t *sh);
void mcheck_shared_clear(mcheck_shared_t *sh);
/* mcheck_sublayer with the converted output taken from (or left in) sh. */
int mcheck_sublayer_shared(row_t *r, const tmodel_t *m, long b, mcheck_t kind, const imat_t h,
                           const convert_act_t *ca, convert_opts_t co, mcheck_shared_t *sh,
                           char *err, size_t errsz);

/* The end-to-end outputs at one precision: the converted network's stream
 * after ln_final (con, N x (d+2)), the model's (ref) and, for activations
 * approximated by SiLU_a, the SiLU_a twin's (refs; 0 rows otherwise), each
 * n x d after ln_final; the bias token's features (zero, 1 x d). */
typedef struct {
    mpfr_prec_t prec;
    int mutation;
    imat_t con, ref, refs, zero;
    int depth;
    long layers, heads_per_block, heads;
    double max_az;        /* over the exactly checked chain's activations */
} mcheck_e2e_t;
void mcheck_e2e_init(mcheck_e2e_t *e);
void mcheck_e2e_clear(mcheck_e2e_t *e);
int mcheck_e2e(mcheck_e2e_t *e, const tmodel_t *m, const imat_t X, const convert_act_t *ca,
               convert_opts_t co, mpfr_prec_t prec, char *err, size_t errsz);
/* The exact row (MODEL, or the SiLU_a twin when e has one): depth, resolve_bits. */
void mcheck_e2e_row(row_t *r, const mcheck_e2e_t *e);
/* R = the reference stream [[ln_final(0), 1, 1], [Y, 1, 0]] of the model
 * (twin 0) or of the SiLU_a twin (twin 1, when e has one). */
void mcheck_e2e_reference(imat_t R, const mcheck_e2e_t *e, int twin);
/* The row `real`: E between the converted network and the model itself,
 * against tol_abs, or (tol_abs NULL) tol_rel times the output scale S. */
void mcheck_real_row(row_t *r, const mcheck_e2e_t *e, const arb_t tol_abs, double tol_rel);

/* E of the row `real` alone (the converted network against the model itself). */
void mcheck_real_error(arb_t E, const mcheck_e2e_t *e, mpfr_prec_t prec);
/* The MLP bound's parts on h (the stream entering block B's MLP, exact):
 * zmax the certified largest |pre-activation| (rounded up), G the certified
 * sup |phi - S| over [-zmax, zmax] (S: block B's neuron heads, SiLU_a or
 * sum_j c_j SiLU_{a_j}), W = sum_k ||W_out[k,:]||_2.  The MLP's E <= G W. */
void mcheck_mlp_gap(arb_t G, arb_t W, mpfr_t zmax, const tblock_t *B, const imat_t h,
                    const convert_act_t *ca, mpfr_prec_t prec);

/* mid(X): the midpoints of X's balls, exact (Y initialised, any shape). */
void imat_get_mid(imat_t Y, const imat_t X);

#endif
