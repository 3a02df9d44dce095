/* Softmax rows: plain MPFR (round to nearest, no enclosure) against the
 * certified softmax on Arb balls at uniform precision (attn_softmax_uniform)
 * and with adaptive precision for negligible terms
 * (attn_softmax), side by side in one run.  Logits are those of an encoded
 * causal mask (Omega (M - 1) plus tau x W x^T in [-2, 2]) or dense logits in
 * [-4, 4] (nothing negligible: the adaptive path must not be slower). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "attn.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Plain MPFR softmax of every row (the floating-point baseline). */
static void softmax_mpfr(mpfr_t *A, mpfr_t *S, long N, mpfr_prec_t prec)
{
    mpfr_t m, z;
    mpfr_inits2(prec, m, z, (mpfr_ptr)0);
    for (long i = 0; i < N; i++) {
        mpfr_set(m, S[i * N], MPFR_RNDN);
        for (long j = 1; j < N; j++)
            mpfr_max(m, m, S[i * N + j], MPFR_RNDN);
        mpfr_set_ui(z, 0, MPFR_RNDN);
        for (long j = 0; j < N; j++) {
            mpfr_sub(A[i * N + j], S[i * N + j], m, MPFR_RNDN);
            mpfr_exp(A[i * N + j], A[i * N + j], MPFR_RNDN);
            mpfr_add(z, z, A[i * N + j], MPFR_RNDN);
        }
        for (long j = 0; j < N; j++)
            mpfr_div(A[i * N + j], A[i * N + j], z, MPFR_RNDN);
    }
    mpfr_clears(m, z, (mpfr_ptr)0);
}

typedef struct {
    const char *name;
    long N;
    double omega; /* 0: dense logits */
    mpfr_prec_t prec;
} case_t;

int main(void)
{
    case_t cases[] = {
        {"dense logits in [-4,4]", 64, 0, 256},
        {"encoded causal, Omega=64", 64, 64, 192},
        {"encoded causal, Omega=256", 64, 256, 454},
        {"encoded causal, Omega=1000", 64, 1000, 1600},
        {"blog-like, 2 Omega=2000", 16, 2000, 3045},
        {"encoded causal, Omega=256", 256, 256, 454},
    };
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, 7);
    printf("softmax of N x N logits (one head), seconds per call; ratios against uniform\n");
    printf("%-28s %5s %5s | %10s | %10s | %10s | %8s | %8s | %s\n", "case", "N", "prec", "MPFR",
           "ball unif", "ball adapt", "unif/ad", "ad/MPFR", "max hi-lo (adapt / unif)");
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        case_t *k = cases + c;
        long N = k->N;
        imat_t S, A1, A2;
        imat_init(S, N, N);
        imat_init(A1, N, N);
        imat_init(A2, N, N);
        imat_randtest_dyadic(S, st, 4); /* entries in [-1, 1] */
        arb_t two;
        arb_init(two);
        arb_set_ui(two, k->omega > 0 ? 2 : 4);
        imat_scale(S, S, two, k->prec); /* exact: a power of two */
        for (long i = 0; i < N && k->omega > 0; i++)
            for (long j = i + 1; j < N; j++) /* causal: masked keys get -Omega */
                arb_sub_si(imat_entry(S, i, j), imat_entry(S, i, j), (slong)k->omega, k->prec);
        mpfr_t *Sp = malloc(sizeof *Sp * (size_t)(N * N)), *Ap = malloc(sizeof *Ap * (size_t)(N * N));
        for (long e = 0; e < N * N; e++) {
            mpfr_init2(Sp[e], k->prec);
            mpfr_init2(Ap[e], k->prec);
            arf_get_mpfr(Sp[e], arb_midref(S->e + e), MPFR_RNDN);
        }
        double t[3];
        for (int which = 0; which < 3; which++) {
            int reps = 0;
            double t0 = now(), el;
            do {
                if (which == 0)
                    softmax_mpfr(Ap, Sp, N, k->prec);
                else if (which == 1)
                    attn_softmax_uniform(A1, S, NULL, k->prec);
                else
                    attn_softmax(A2, S, NULL, k->prec);
                reps++;
                el = now() - t0;
            } while (el < 0.3);
            t[which] = el / reps;
        }
        /* widest enclosure (absolute) of each certified result, and a check
         * that the enclosures intersect */
        mpfr_t w1, w2, w;
        mpfr_inits2(53, w1, w2, w, (mpfr_ptr)0);
        mpfr_set_ui(w1, 0, MPFR_RNDU);
        mpfr_set_ui(w2, 0, MPFR_RNDU);
        int disjoint = 0;
        for (long e = 0; e < N * N; e++) {
            ival_get_diam(w, A1->e + e);
            mpfr_max(w1, w1, w, MPFR_RNDU);
            ival_get_diam(w, A2->e + e);
            mpfr_max(w2, w2, w, MPFR_RNDU);
            disjoint |= !arb_overlaps(A1->e + e, A2->e + e);
        }
        mpfr_printf("%-28s %5ld %5ld | %10.3e | %10.3e | %10.3e | %7.2fx | %7.2fx | %.2Re / %.2Re%s\n",
                    k->name, N, (long)k->prec, t[0], t[1], t[2], t[1] / t[2], t[2] / t[0], w2, w1,
                    disjoint ? "  DISJOINT!" : "");
        mpfr_clears(w1, w2, w, (mpfr_ptr)0);
        for (long e = 0; e < N * N; e++) {
            mpfr_clear(Sp[e]);
            mpfr_clear(Ap[e]);
        }
        free(Sp);
        free(Ap);
        arb_clear(two);
        imat_clear(S);
        imat_clear(A1);
        imat_clear(A2);
    }
    gmp_randclear(st);
    mpfr_free_cache();
    flint_cleanup();
    return 0;
}
