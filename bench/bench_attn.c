/* make bench: certified (Arb balls) against plain MPFR (round-to-nearest,
 * no enclosure) for the same attention head and for a whole mlp-layer check,
 * at 53, 256, 1024 and 4096 bits, side by side in one run. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "oracle.h"
#include "runner.h"
#include "thm_common.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Seconds per call of fn(arg), repeated for at least 0.3 s. */
static double time_per_call(void (*fn)(void *), void *arg)
{
    long reps = 0;
    double t0 = now(), t;
    do {
        fn(arg);
        reps++;
        t = now();
    } while (t - t0 < 0.3);
    return (t - t0) / (double)reps;
}

typedef struct {
    attn_head_t h;
    imat_t X, Y;
    fmat_t x, y;
    mask_t M;
    mpfr_prec_t prec;
} head_case_t;

static void head_certified(void *arg)
{
    head_case_t *c = arg;
    attn_head_apply(c->Y, c->h, c->X, &c->M, c->prec);
}

static void head_plain(void *arg)
{
    head_case_t *c = arg;
    oracle_head_apply(&c->y, c->h, &c->x, &c->M, c->prec);
}

typedef struct {
    const claim_t *claim;
    params_t params;
    mpfr_prec_t prec;
    imat_t X, W_in, W_out;
    attn_head_struct *heads;
    long d, l, n;
} mlp_case_t;

static void mlp_certified(void *arg)
{
    mlp_case_t *c = arg;
    row_t r = {0};
    r.params = c->params;
    r.seed = 1;
    runner_eval_row(&r, c->claim, c->prec); /* the whole check: build, both outputs, E, verdict */
    row_clear(&r);
}

static void mlp_plain(void *arg)
{
    /* The same computation in plain MPFR: X + SiLU(X W_in) W_out against the
     * l heads on the bias stream, and the largest row difference. */
    mlp_case_t *c = arg;
    mpfr_prec_t p = c->prec;
    fmat_t x, wi, wo, h, y, xh;
    fmat_init(&x, c->n, c->d, p);
    fmat_init(&wi, c->d, c->l, p);
    fmat_init(&wo, c->l, c->d, p);
    fmat_init(&h, c->n, c->l, p);
    fmat_init(&y, c->n, c->d, p);
    fmat_init(&xh, c->n + 1, c->d + 1, p);
    fmat_from_imat(&x, c->X);
    fmat_from_imat(&wi, c->W_in);
    fmat_from_imat(&wo, c->W_out);
    fmat_mul(&h, &x, &wi);
    mpfr_t one, e, t;
    mpfr_inits2(p, one, e, t, (mpfr_ptr)0);
    mpfr_set_ui(one, 1, MPFR_RNDN);
    for (long k = 0; k < c->n * c->l; k++)
        oracle_silu(h.e[k], h.e[k], one);
    fmat_mul(&y, &h, &wo);
    mpfr_set_ui(fmat_entry(&xh, 0, c->d), 1, MPFR_RNDN);
    for (long i = 0; i < c->n; i++)
        for (long j = 0; j < c->d; j++)
            mpfr_set(fmat_entry(&xh, i + 1, j), fmat_entry(&x, i, j), MPFR_RNDN);
    mask_t B;
    mask_self_bias(&B, c->n + 1);
    oracle_attn_layer(&xh, c->heads, c->l, &B, p);
    mpfr_set_ui(e, 0, MPFR_RNDN);
    for (long i = 0; i < c->n; i++)
        for (long j = 0; j < c->d; j++) {
            mpfr_add(t, fmat_entry(&x, i, j), fmat_entry(&y, i, j), MPFR_RNDN);
            mpfr_sub(t, t, fmat_entry(&xh, i + 1, j), MPFR_RNDN);
            mpfr_abs(t, t, MPFR_RNDN);
            mpfr_max(e, e, t, MPFR_RNDN);
        }
    mask_clear(&B);
    mpfr_clears(one, e, t, (mpfr_ptr)0);
    fmat_t *all[] = {&x, &wi, &wo, &h, &y, &xh};
    for (int k = 0; k < 6; k++)
        fmat_clear(all[k]);
}

int main(void)
{
    const mpfr_prec_t precs[] = {53, 256, 1024, 4096};
    printf("attncheck bench: seconds per call, certified (Arb balls) vs plain MPFR, one run\n\n");
    printf("%-44s %6s %12s %12s %7s\n", "case", "bits", "certified", "plain", "ratio");
    for (int k = 0; k < 4; k++) {
        mpfr_prec_t p = precs[k];
        head_case_t c;
        long N = 17, D = 17, r = 4;
        gmp_randstate_t st;
        gmp_randinit_default(st);
        gmp_randseed_ui(st, 1);
        attn_head_init(c.h, D, r);
        imat_randtest_dyadic(c.h->W_Q, st, 4);
        imat_randtest_dyadic(c.h->W_K, st, 4);
        imat_randtest_dyadic(c.h->W_V, st, 4);
        imat_randtest_dyadic(c.h->W_O, st, 4);
        imat_init(c.X, N, D);
        imat_init(c.Y, N, D);
        imat_randtest_dyadic(c.X, st, 4);
        fmat_init(&c.x, N, D, p);
        fmat_init(&c.y, N, D, p);
        fmat_from_imat(&c.x, c.X);
        mask_causal(&c.M, N);
        c.prec = p;
        double tc = time_per_call(head_certified, &c), tp = time_per_call(head_plain, &c);
        printf("%-44s %6ld %12.3e %12.3e %6.2fx\n", "one causal head, N=17, D=17, r=4", (long)p, tc, tp,
               tc / tp);
        mask_clear(&c.M);
        fmat_clear(&c.x);
        fmat_clear(&c.y);
        imat_clear(c.X);
        imat_clear(c.Y);
        attn_head_clear(c.h);
        gmp_randclear(st);
    }
    for (int k = 0; k < 4; k++) {
        mpfr_prec_t p = precs[k];
        mlp_case_t c;
        char precbuf[16];
        snprintf(precbuf, sizeof precbuf, "%ld", (long)p);
        c.claim = claim_find("mlp-layer");
        c.prec = p;
        c.params.n = 3;
        c.params.name[0] = "prec";
        c.params.value[0] = precbuf;
        c.params.name[1] = "a";
        c.params.value[1] = "1";
        c.params.name[2] = "shape";
        c.params.value[2] = "8x16x6";
        c.d = 8;
        c.l = 16;
        c.n = 6;
        /* the same instance the claim draws (salt 2 of seed 1) */
        gmp_randstate_t st;
        thm_rand_init(st, 1, 2);
        imat_init(c.X, c.n, c.d);
        imat_init(c.W_in, c.d, c.l);
        imat_init(c.W_out, c.l, c.d);
        imat_randtest_dyadic(c.X, st, WEIGHT_BITS);
        imat_randtest_dyadic(c.W_in, st, WEIGHT_BITS);
        imat_randtest_dyadic(c.W_out, st, WEIGHT_BITS);
        gmp_randclear(st);
        arb_t a;
        arb_init(a);
        arb_set_ui(a, 1);
        c.heads = malloc(sizeof *c.heads * (size_t)c.l);
        thm_mlp_heads(c.heads, a, c.W_in, c.W_out, p);
        double tc = time_per_call(mlp_certified, &c), tp = time_per_call(mlp_plain, &c);
        printf("%-44s %6ld %12.3e %12.3e %6.2fx\n", "mlp-layer check, d=8, l=16, n=6", (long)p, tc, tp,
               tc / tp);
        for (long h = 0; h < c.l; h++)
            attn_head_clear(c.heads + h);
        free(c.heads);
        arb_clear(a);
        imat_clear(c.X);
        imat_clear(c.W_in);
        imat_clear(c.W_out);
    }
    printf("\nratio = certified / plain: the price of enclosures (a midpoint and a\n"
           "30-bit radius per value).  The certified mlp-layer column is a whole check\n"
           "(construction, reference, E, verdict); plain computes the same two outputs.\n");
    mpfr_free_cache();
    flint_cleanup();
    return 0;
}
