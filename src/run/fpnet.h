/* A converted network (aonet.h) run in an emulated float format (fpformat.h,
 * fpmat.h), and the certified distances that say what the float run cost.
 *
 * The forward pass, in ar->fmt with sums in ar->acc and ar->order:
 *   every input and weight is rounded once to fmt (a ball must round to one
 *   fmt value, else the call asks for more precision);
 *   per layer: U = LN(X) on the first d columns (fpf_layernorm), then per
 *   head group: Q = U W_Q, K = U W_K, V = U W_V (fpf_mat_mul), per head and
 *   query the logits s_j = fl(q . k_j) (divided by fl(attn_scale) when it
 *   is not 1) over the keys the mask allows, ascending; w = fpf_softmax(s);
 *   z = sum_j w_j v_j (fpf_dot, keys ascending); the heads' z side by side
 *   times the stacked W_O is one product (a concatenated-heads GEMM: the
 *   heads meet inside its dot products); X = fl(X + that), group by group;
 *   the final LN last.
 * The float result is a matrix of fmt values, exact dyadic numbers: its
 * distance to an Arb reference is a certified enclosure, for this order
 * and this model of the hardware (fpformat.h: correctly rounded exp, ...). */
#ifndef ATTNCHECK_FPNET_H
#define ATTNCHECK_FPNET_H

#include "claim.h"
#include "fpmat.h"
#include "tblock.h"

typedef struct {
    fpf_arith_t ar;
    /* A deliberately broken emulation (a mutation), or -1: the logits' terms
     * from the query's stream columns [omega_col, D) -- the one-hot
     * positions, where every Omega of an encoded network lives -- are added
     * exactly after the rest of the logit is rounded, instead of being
     * rounded with it. */
    long omega_col;
    /* When not NULL: called with the stream Y (fmt values) after every
     * layer, k = 0 .. n_layers - 1, and after the final LN, k = n_layers
     * (when the network has one). */
    void (*after_layer)(void *ctx, long k, const fpf_mat_struct *Y);
    void *after_ctx;
} fpnet_opts_t;

/* LayerNorm conditioning of a float run, over every LN it applied and
 * every row: the gain |gamma|_inf sqrt(d) / sqrt(sigma^2 + eps) (gamma and
 * eps as rounded to the format; sigma the row's spread, for RMSNorm its
 * root mean square, of the float stream entering the LN), and the rows with
 * sigma < 10 sqrt(eps), where a perturbation of the features is amplified
 * by up to |gamma|_inf / sqrt(eps).  Rows whose features are all exactly 0
 * (the float-robust bias token's) are counted apart: LN maps them to beta
 * exactly, there is nothing to amplify. */
typedef struct {
    double gain;   /* the largest gain over the other rows, rounded up (0: none) */
    long rows;     /* rows normalised */
    long flagged;  /* rows (not all 0) with sigma < 10 sqrt(eps) */
    long zero;     /* rows with features all exactly 0 */
} fpnet_ln_cond_t;

/* What a run produced that is not a fmt value (logits, outputs): 0 for an
 * honest run in fmt. */
typedef struct {
    long off_grid;
    fpnet_ln_cond_t ln;
} fpnet_stats_t;

/* fpf_arith_t from names: fmt, acc ("same" or a format) and order; -1 when
 * a name is unknown. */
int fpnet_arith_parse(fpf_arith_t *ar, const char *fmt, const char *acc, const char *order);

/* Y (initialised here in o->ar.fmt) = the network A on X (N x A->D).
 * 0; 1 when an input or weight ball does not round to one fmt value at its
 * precision (more bits are needed); -1 when a mask row is empty (Y is
 * left empty unless 0).  st may be NULL. */
int fpnet_apply(fpf_mat_t Y, const aonet_t *A, const imat_t X, const fpnet_opts_t *o,
                fpnet_stats_t *st);

/* ---- the original computation in the format (onet.h, tblock.h) ----
 * The same model of the hardware.  A tblock's attention: U = LN1(X)
 * (fpf_layernorm), Q = U W_Q + b_Q, K, V likewise (fpf_mat_mul, the bias
 * added last), logits fl(q . k) divided by fl(attn_scale), softmax and z
 * as above, Y = Z W_O + b_O over the heads side by side, X = fl(X + Y).
 * Its MLP: U = LN2(X), Z = U W_in + b_in, A = phi(Z) by fpformat.h's
 * sequence (gated: fl(phi(U W_gate) * Z)), X = fl(X + (A W_out + b_out)).
 * Activations: silu_a (slope a rounded to the format), silu, gelu (erf),
 * gelu_tanh = gelu_new = gelu_pytorch_tanh (and gelu_fast, the same
 * function, by gelu_tanh's sequence), relu, sigmoid.  Each returns 0, 1
 * when a weight ball does not round to one value (more bits are needed),
 * -1 for an unknown activation or an empty mask row. */

/* Y (initialised here in ar->fmt) = I's original (held, or handed over
 * stage by stage by its source) on I->orig_in.  0, 1, -1 as above; -2 when
 * the source failed (err says why). */
int fpnet_orig_apply(fpf_mat_t Y, const instance_t *I, const fpf_arith_t *ar, char *err,
                     size_t errsz);
/* A model's original blocks in the format: Y (initialised here) = ln_final
 * (NULL or none: skipped) after blocks[0 .. n_blocks) on the tokens X
 * (N x d_model, rounded once), activation act (a TransformerLens act_fn). */
int fpnet_model_apply(fpf_mat_t Y, const tblock_t *blocks, long n_blocks,
                      const aonet_ln_t *ln_final, const char *act, const imat_t X,
                      const fpf_arith_t *ar);

/* B (initialised here, A's shape) = A rounded to f entry by entry: 0, or 1
 * when a ball does not round to one f value. */
int fpnet_mat_round(fpf_mat_t B, const imat_t A, const fpf_format_t *f);
/* B (re-shaped) = the exact values of A (inf stays inf, NaN is an
 * indeterminate ball). */
void fpnet_mat_exact(imat_t B, const fpf_mat_t A);

/* A certified lower bound of max over rows [row0, row0 + rows) of the
 * Euclidean distance from C_i (columns [0, cols)) to the nearest vector of
 * f values, less a relative 2^-20 (so that a result on the nearest grid
 * points is certified above it): every f-valued result is farther from C. */
void fpnet_grid_floor(arb_t floor, const imat_t C, long row0, long rows, long cols,
                      const fpf_format_t *f, mpfr_prec_t prec);

/* The float measurements of one network against its exact evaluation and
 * its reference, over rows [row0, row0 + rows) and columns [0, cols) of
 * the output stream (rows 0: all of it). */
typedef struct {
    fpnet_ln_cond_t ln;
    arb_t E_ref;       /* float output vs the instance's reference */
    arb_t E_ref_abs;
    arb_t D;           /* float output vs the same network run exactly */
    arb_t D_abs;
    arb_t floor;       /* fpnet_grid_floor of the exact output */
    arb_t E_exact;     /* the exact output vs the reference */
    long off_grid;
    char note[200];    /* why a network's source failed (fpnet_measure's -2) */
} fpnet_measure_t;

void fpnet_measure_init(fpnet_measure_t *m);
void fpnet_measure_clear(fpnet_measure_t *m);
/* Run I's network on I->net_in in o's format and exactly (at prec), in one
 * pass over its layers (held, or handed over one at a time by its source),
 * and measure; floor_fmt is the format whose grid the result is claimed to
 * lie on (o->ar.fmt unless a mutation runs another).  0, 1 (more bits), -1
 * (as fpnet_apply), -2 when the source failed (m->note says why). */
int fpnet_measure(fpnet_measure_t *m, const instance_t *I, const fpnet_opts_t *o,
                  const fpf_format_t *floor_fmt, long row0, long rows, long cols,
                  mpfr_prec_t prec);

/* The column "LN conditioning" of a float row whose network has a LayerNorm
 * (fpnet_ln_cond_t: the certified gain bound, the rows with sigma < 10 sqrt(eps),
 * the rows exactly 0); nothing without one. */
void fpnet_ln_column(row_t *r, const fpnet_measure_t *m);

/* What a format allows an Omega-encoded mask (maskenc.h): max_logit, the
 * largest finite value (binary16: 65504), bounds every logit and so the
 * gap Omega (and s Omega, before the division by a scale s); flush, an
 * enclosure of (p - emin) ln 2, is the gap from which a masked key's weight
 * fl(exp(-gap)) is exactly 0 (half the smallest subnormal rounds to 0).
 * fpnet_omega_columns: both as the column "Omega range of the format", next
 * to the row's Omega. */
void fpnet_logit_range(arb_t max_logit, arb_t flush, const fpf_format_t *f, mpfr_prec_t prec);
void fpnet_omega_columns(row_t *r, const fpf_format_t *f);

/* The sentence a report gives for what a float row certified. */
const char *fpnet_certifies(void);

#endif
