/* Helpers shared by the theorem modules: seeded exact instances, the
 * bias-token stream, parameter parsing, and the exact-claim epilogue. */
#ifndef ATTNCHECK_THM_COMMON_H
#define ATTNCHECK_THM_COMMON_H

#include <pthread.h>
#include <stdio.h>
#include "aztrack.h"
#include "claim.h"
#include "mlp.h"

/* Bits of the dyadic random entries k/2^WEIGHT_BITS. */
#define WEIGHT_BITS 4

/* A generator for (seed, salt): different salts give independent streams. */
void thm_rand_init(gmp_randstate_t st, unsigned long seed, unsigned long salt);
/* Dyadic random weights scaled by 2^-ceil(log2(fan_in)/2) ~ 1/sqrt(fan_in),
 * as real transformers are initialised, so deep stacks stay well
 * conditioned; still exact at every precision. */
void thm_rand_weights(imat_t A, gmp_randstate_t st, long fan_in);
/* 1 when X B is all zero (B a column block; the product is exact for the
 * few-bit dyadic instances): a degenerate draw that no break could show on. */
int thm_all_zero_product(const imat_t X, const imat_t B);
/* Draw column c of W (d x l) again from st while X W[:,c] is all zero. */
void thm_nonzero_column(imat_t W, long c, const imat_t X, gmp_randstate_t st);
/* Parse "4x8x3" into up to 3 positive longs; returns the count, -1 on error. */
int thm_parse_dims(long *dims, int max, const char *s);
/* The bias-token stream in words (exported networks' layout). */
#define THM_LAYOUT_BIAS                                                               \
    "each token a row [features (d) | bias coordinate]: the bias token at position 0 is " \
    "[0, 1], real tokens [x, 0]"
/* Xh ((n+1) x (d+1)) = [[0, 1], [X, 0]]: the bias token at position 0. */
void thm_bias_stream(imat_t Xh, const imat_t X);
/* The slope a > 0 from the row (default 1); -1 with a note otherwise. */
int thm_get_slope(arb_t a, row_t *r);
/* Sizes are limited by the run's row and memory estimates, not here; this
 * bound only keeps products of two sizes far from overflowing a long. */
#define THM_SIZE_MAX 2147483647L
/* Dimensions from the "shape" parameter (each in [1, THM_SIZE_MAX]); -1
 * with a note otherwise. */
int thm_get_shape(long *dims, int count, row_t *r);
/* The size parameter name (an integer in [lo, THM_SIZE_MAX]); -1 with a
 * note otherwise. */
int thm_get_size(long *v, row_t *r, const char *name, long lo);

/* claim_t.estimate_bytes, generic: the working memory of one row from its
 * sizes ("shape"'s dimensions, "N", "n", "d", "d_head", and "heads" and
 * "blocks" as multiples) at precision prec.  An estimate, calibrated to stay
 * above the peak resident memory measured for neuron-head and
 * activation-head rows (the claims that use it); claims with stacked layers
 * have their own, which follow the chunks the code streams its heads in
 * (thm_mlp_layer_bytes, tf_estimate_bytes, ...).  Malformed sizes count as
 * none (the claim refuses them when the row runs). */
double thm_estimate_bytes(const params_t *p, mpfr_prec_t prec);

/* The fixed part of every row's estimate (small tables and temporaries). */
#define THM_EST_BASE_BYTES (1024.0 * 1024.0)
/* Bytes of a ball holding a weight of a few bits (no heap at any precision;
 * ball_bytes(prec) for the others). */
#define THM_EXACT_BALL_BYTES ((double)sizeof(arb_struct))
/* mlp-layer's estimate_bytes: the instance (X, W_in, W_out), the streams
 * (Y, the reference, X^, the construction), and the larger of the MLP's and
 * the stacked layer's working sets, as the code sizes its chunks. */
double thm_mlp_layer_bytes(const params_t *p, mpfr_prec_t prec);

/* The exact-claim epilogue: E and the largest |difference| between ref and
 * con over rows [row0, row0+rows) and all columns, and S from ref (the
 * reports add kappa, the tolerance S 2^(kappa-p) and the slack used). */
void thm_finish_exact(row_t *r, const imat_t ref, const imat_t con, long row0, long rows);

/* An exact claim's builder: fills ref and con (same shape; E is taken over
 * all their rows) and, when I != NULL, the instance's matrices. */
typedef int (*thm_exact_build_fn)(imat_t ref, imat_t con, instance_t *I, row_t *r,
                                  mpfr_prec_t prec);
/* claim_t.run for an exact claim, given its builder. */
int thm_exact_run(row_t *r, thm_exact_build_fn build);
/* claim_t.export_instance for an exact claim, given its builder. */
int thm_exact_export(instance_t *I, const params_t *p, unsigned long seed, mpfr_prec_t prec,
                     thm_exact_build_fn build);

/* claim_t.export_instance for a claim whose evaluator fills the instance's
 * network when given one: the first grid point's row at prec, evaluated
 * with I; note says what is exported (the row's note on failure). */
int thm_export_evaluated(instance_t *I, const params_t *p, unsigned long seed, mpfr_prec_t prec,
                         int (*evaluate)(row_t *r, instance_t *out), const char *note);

/* ---- the resolution rule's instance part (verdict.h) ----
 * SiLU_a through a tracker: an ival_act_fn (ctx = the tracker) that
 * evaluates SiLU_a and records the largest |a z| it is called with, the
 * bias token's logit in the construction.  The reference computation runs
 * through it, so what it records depends on the instance, not on a
 * mutation of the construction.  Safe for concurrent calls. */
typedef az_track_t thm_silu_track_t;
void thm_silu_track_init(thm_silu_track_t *t, const arb_t a);
void thm_silu_track_clear(thm_silu_track_t *t);
void thm_silu_a_tracked(arb_t y, const arb_t x, const void *track, mpfr_prec_t prec);
/* Record |a x| only (a visit of mlp_preact_visit: the resolution rule's
 * prediction, runner.c). */
void thm_silu_a_note(arb_t y, const arb_t x, const void *track, mpfr_prec_t prec);
/* r->resolve_bits from what t recorded (az_track_resolve_bits). */
void thm_silu_track_resolve(row_t *r, const thm_silu_track_t *t);
/* A claim's predict (claim_t.predict): the row's slope, then visit notes in
 * track every SiLU_a input the row's build meets (thm_silu_a_note), and
 * r->resolve_bits follows from them.  visit returns 0, or -1 (the row's
 * parameters are not its claim's). */
int thm_predict(row_t *r, int (*visit)(row_t *r, thm_silu_track_t *track));

/* A neuron head of claims.md (neuron-head): W_Q = a[w;0], W_K = [0;-1],
 * W_V = [w;0], W_O = [u, 0], on a stream of width d+1.  w is column k of
 * W_in (d x l), u is row k of W_out (l x d). */
void thm_neuron_head(attn_head_t h, const arb_t a, const imat_t W_in, const imat_t W_out,
                     long k, mpfr_prec_t prec);

/* The l neuron heads of mlp-layer (one per column k of W_in, d x l) as a
 * stacked source: chunks are filled straight from W_in and W_out, no head
 * is ever a matrix of its own.  flip_wk: the head whose W_K is [0; +1] (a
 * mutation), or -1. */
typedef struct {
    arb_srcptr a;
    const imat_struct *W_in, *W_out;
    long flip_wk;
} thm_neurons_t;
/* src reads ctx (which must outlive it) and M (mask B for the claim). */
void thm_neuron_source(attn_source_t *src, thm_neurons_t *ctx, const arb_t a,
                       const imat_t W_in, const imat_t W_out, const mask_t *M);

#endif
