/* Helpers shared by the theorem modules: seeded exact instances, the
 * bias-token stream, parameter parsing, and the exact-claim epilogue. */
#ifndef ATTNCHECK_THM_COMMON_H
#define ATTNCHECK_THM_COMMON_H

#include <stdio.h>
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
/* Dimensions from the "shape" parameter; -1 with a note otherwise. */
int thm_get_shape(long *dims, int count, row_t *r, long max);

/* claim_t.estimate_bytes, shared: the working memory of one row from its
 * sizes ("shape"'s dimensions, "N", "n", "d", "d_head", and "heads" and
 * "blocks" as multiples) at precision prec.  An estimate, calibrated to stay
 * above the peak resident memory measured for mlp-layer, attention-only,
 * neuron-head and mask-encoding rows; malformed sizes count as none (the
 * claim refuses them when the row runs). */
double thm_estimate_bytes(const params_t *p, mpfr_prec_t prec);

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

/* A neuron head of claims.md (neuron-head): W_Q = a[w;0], W_K = [0;-1],
 * W_V = [w;0], W_O = [u, 0], on a stream of width d+1.  w is column k of
 * W_in (d x l), u is row k of W_out (l x d). */
void thm_neuron_head(attn_head_t h, const arb_t a, const imat_t W_in, const imat_t W_out,
                     long k, mpfr_prec_t prec);

/* The l neuron heads of mlp-layer, one per column of W_in (d x l); heads
 * must have room for l heads.  Mask: B. */
void thm_mlp_heads(attn_head_struct *heads, const arb_t a, const imat_t W_in,
                   const imat_t W_out, mpfr_prec_t prec);

#endif
