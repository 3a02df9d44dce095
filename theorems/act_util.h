/* Helpers shared by the activation claims (relu-limit, gelu-approx,
 * activation-class): certified sup gaps, converted MLP instances, and a
 * minimiser in doubles (an estimate, never a verdict). */
#ifndef ATTNCHECK_ACT_UTIL_H
#define ATTNCHECK_ACT_UTIL_H

#include "thm_common.h"
#include "act.h"
#include "supnorm.h"

/* A random MLP instance: X (n x d), W_in (d x l), W_out (l x d), dyadic.
 * family "random": seeded entries; "adv": every column of W_in is e_1, the
 * rows of W_out are positive multiples of one row u, token 0 is t e_1 and
 * token 1 is -t e_1 (t dyadic), so the bound's triangle inequality is tight
 * up to the gap at t.  Returns -1 for an unknown family. */
typedef struct {
    imat_t X, W_in, W_out;
} au_mlp_t;
int au_mlp_init(au_mlp_t *m, const char *family, long d, long l, long n, const mpfr_t t,
                unsigned long seed, mpfr_prec_t prec);
void au_mlp_clear(au_mlp_t *m);

/* E (and the largest |entry|) between X + phi(X W_in) W_out and the
 * attention-only conversion (mlp-layer's neuron heads with SiLU_a, mask B,
 * bias-token stream) over the real tokens; zmax = hi max |X W_in|; T the
 * trivial bound of E (error_trivial_bound). */
void au_mlp_vs_heads(arb_t E, arb_t Eabs, arb_t T, mpfr_t zmax, const au_mlp_t *m,
                     ival_act_fn phi, const void *ctx, const arb_t a, mpfr_prec_t prec);

/* The estimate_bytes of relu-limit and gelu-approx: a row with a shape
 * holds an MLP instance (W_out inexact in the adv family), X W_in and the
 * conversion (thm_mlp_layer_bytes); a sup-norm row, a few balls. */
double au_estimate_bytes(const params_t *p, mpfr_prec_t prec);

/* s = sum_k ||W_out[k,:]||_2 and mx = max_k (enclosures). */
void au_row_norms(arb_t s, arb_t mx, const imat_t W_out, mpfr_prec_t prec);

#endif
