/* Activation-claim helpers (act_util.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "act_util.h"
#include "xalloc.h"

int au_mlp_init(au_mlp_t *m, const char *family, long d, long l, long n, const mpfr_t t,
                unsigned long seed, mpfr_prec_t prec)
{
    int adv = strcmp(family, "adv") == 0;
    if (!adv && strcmp(family, "random") != 0)
        return -1;
    gmp_randstate_t st;
    thm_rand_init(st, seed, 41);
    imat_init(m->X, n, d);
    imat_init(m->W_in, d, l);
    imat_init(m->W_out, l, d);
    imat_randtest_dyadic(m->X, st, WEIGHT_BITS);
    imat_randtest_dyadic(m->W_in, st, WEIGHT_BITS);
    imat_randtest_dyadic(m->W_out, st, WEIGHT_BITS);
    if (adv) {
        imat_t u;
        imat_init(u, 1, d);
        imat_randtest_dyadic(u, st, WEIGHT_BITS);
        for (long k = 0; k < l; k++) {
            /* c_k = |k-th random entry| > 0: W_out[k,:] = c_k u (exact) */
            arb_t c;
            arb_init(c);
            ival_abs(c, imat_entry(m->W_out, k, 0), prec);
            for (long j = 0; j < d; j++) {
                arb_mul(imat_entry(m->W_out, k, j), imat_entry(u, 0, j), c, prec);
                arb_set_ui(imat_entry(m->W_in, j, k), j == 0);
            }
            arb_clear(c);
        }
        for (long i = 0; i < 2 && i < n; i++)
            for (long j = 0; j < d; j++) {
                arb_set_ui(imat_entry(m->X, i, j), 0);
                if (j == 0) {
                    ival_set_fr(imat_entry(m->X, i, 0), t);
                    if (i == 1)
                        arb_neg(imat_entry(m->X, i, 0), imat_entry(m->X, i, 0));
                }
            }
        imat_clear(u);
    }
    gmp_randclear(st);
    return 0;
}

void au_mlp_clear(au_mlp_t *m)
{
    imat_clear(m->X);
    imat_clear(m->W_in);
    imat_clear(m->W_out);
}

void au_mlp_vs_heads(arb_t E, arb_t Eabs, arb_t T, mpfr_t zmax, const au_mlp_t *m,
                     ival_act_fn phi, const void *ctx, const arb_t a, mpfr_prec_t prec)
{
    long n = m->X->rows, d = m->X->cols, l = m->W_in->cols;
    imat_t Y, ref, con, Z;
    imat_init(Y, n, d);
    imat_init(Z, n, l);
    imat_init(ref, 0, 0);
    imat_init(con, 0, 0);
    imat_mul(Z, m->X, m->W_in, prec);
    imat_max_abs_upper(zmax, Z);
    mlp_apply(Y, m->X, m->W_in, m->W_out, phi, ctx, prec);
    imat_add(Y, Y, m->X, prec);
    thm_bias_stream(ref, Y);
    thm_bias_stream(con, m->X);
    mask_t M;
    mask_self_bias(&M, n + 1);
    attn_source_t src;
    thm_neurons_t neurons;
    thm_neuron_source(&src, &neurons, a, m->W_in, m->W_out, &M);
    attn_layer_sum(con, con, &src, 1, 1, prec);
    error_metric(E, Eabs, ref, con, 1, n, d + 1, prec);
    error_trivial_bound(T, ref, con, 1, n, d + 1, prec);
    mask_clear(&M);
    imat_clear(Y);
    imat_clear(Z);
    imat_clear(ref);
    imat_clear(con);
}

double au_estimate_bytes(const params_t *p, mpfr_prec_t prec)
{
    long v[3];
    const char *shape = params_get(p, "shape");
    double layer = thm_mlp_layer_bytes(p, prec);
    if (!shape || layer == 0 || thm_parse_dims(v, 3, shape) != 3)
        return THM_EST_BASE_BYTES;
    double d = (double)v[0], l = (double)v[1], n = (double)v[2];
    return layer + (n * l + l * d) * ball_bytes(prec);
}

void au_row_norms(arb_t s, arb_t mx, const imat_t W_out, mpfr_prec_t prec)
{
    arb_t t;
    arb_init(t);
    arb_set_ui(s, 0);
    arb_set_ui(mx, 0);
    for (long k = 0; k < W_out->rows; k++) {
        imat_row_norm2(t, W_out, k, prec);
        arb_add(s, s, t, prec);
        ival_max(mx, mx, t, prec);
    }
    arb_clear(t);
}
