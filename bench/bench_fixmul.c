/* Ball matrix times exact weights: ns per term of Arb's dot products,
 * Arb's block product and imat_mul's integer kernel, CPU time on one thread,
 * contenders interleaved round by round, medians (an estimate, not a test).
 * Also the radius of the kernel's entries against arb_dot's.
 *   build/bench_fixmul [ROUNDS] [PREC] [SHAPE 1-3]
 * A is a GPT-2-like activation block (dyadic / 3 at prec: real balls), W
 * float32-like weights (24-bit mantissas, magnitudes 2^-12 .. 2^-2). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "imat.h"
#include "par.h"
#include "xalloc.h"

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The pre-kernel path for inexact A: one arb_dot per entry over a
 * transposed W (what mul_dot_task does), rows [0, m). */
static void dot_path(imat_t C, const imat_t A, const imat_t W, long m, mpfr_prec_t prec)
{
    long K = A->cols, P = W->cols;
    arb_struct *Wt = xmallocarray((size_t)K * (size_t)P, sizeof *Wt);
    for (long k = 0; k < K; k++)
        for (long j = 0; j < P; j++)
            Wt[j * K + k] = *imat_entry(W, k, j); /* shallow */
    for (long i = 0; i < m; i++)
        for (long j = 0; j < P; j++)
            arb_dot(imat_entry(C, i, j), NULL, 0, imat_entry(A, i, 0), 1, Wt + j * K, 1, K, prec);
    free(Wt);
}

static void run_shape(long M, long K, long P, long dot_rows, int rounds, mpfr_prec_t prec,
                      gmp_randstate_t st)
{
    imat_t A, W, C0, C1, C2;
    imat_init(A, M, K);
    imat_init(W, K, P);
    imat_init(C0, M, P);
    imat_init(C1, M, P);
    imat_init(C2, M, P);
    imat_randtest_dyadic(A, st, 20);
    for (long q = 0; q < M * K; q++)
        arb_div_ui(A->e + q, A->e + q, 3, prec);
    for (long q = 0; q < K * P; q++) { /* a float32-like weight */
        long man = (long)gmp_urandomm_ui(st, 1UL << 24) - (1L << 23);
        arb_set_si(W->e + q, man);
        arb_mul_2exp_si(W->e + q, W->e + q, -24 - 2 - (long)gmp_urandomm_ui(st, 11));
    }
    double td[64], tb[64], tk[64];
    for (int r = 0; r < rounds; r++) {
        double t0 = cpu_now();
        dot_path(C0, A, W, dot_rows, prec);
        double t1 = cpu_now();
        imat_mul(C1, A, W, prec);
        double t2 = cpu_now();
        tk[r] = (t2 - t1) / ((double)M * K * P) * 1e9;
        td[r] = (t1 - t0) / ((double)dot_rows * K * P) * 1e9;
        if (M >= 2 && dot_rows == M) {
            double t3 = cpu_now();
            arb_mat_mul_block(C2->m, A->m, W->m, prec);
            tb[r] = (cpu_now() - t3) / ((double)M * K * P) * 1e9;
        } else {
            tb[r] = 0;
        }
    }
    /* radii: kernel / arb_dot over the rows both computed */
    double rmax = 0, rs[4096];
    long nr = 0;
    int contained = 1;
    for (long i = 0; i < dot_rows; i++)
        for (long j = 0; j < P; j++) {
            arb_srcptr a = imat_entry(C0, i, j), b = imat_entry(C1, i, j);
            contained &= arb_overlaps(a, b);
            double ra = mag_get_d(arb_radref(a)), rb = mag_get_d(arb_radref(b));
            double q = ra > 0 ? rb / ra : 0;
            rmax = q > rmax ? q : rmax;
            if (nr < 4096)
                rs[nr++] = q;
        }
    printf("%5ldx%ldx%ld  prec %ld  arb_dot %6.2f ns/term  block %6.2f  kernel %6.2f  "
           "(x%.1f vs arb_dot)  rad kernel/arb_dot median %.3g max %.3g  overlap %s\n",
           M, K, P, (long)prec, median(td, rounds), median(tb, rounds), median(tk, rounds),
           median(td, rounds) / median(tk, rounds), median(rs, (int)nr), rmax,
           contained ? "yes" : "NO");
    fflush(stdout);
    imat_clear(A);
    imat_clear(W);
    imat_clear(C0);
    imat_clear(C1);
    imat_clear(C2);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 3;
    mpfr_prec_t prec = argc > 2 ? atol(argv[2]) : 128;
    rounds = rounds < 1 ? 1 : rounds > 64 ? 64 : rounds;
    par_set_threads(1);
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, 1);
    int only = argc > 3 ? atoi(argv[3]) : 0; /* 1, 2, 3: that shape alone */
    if (!only || only == 1)
        run_shape(16, 768, 3072, 16, rounds, prec, st);  /* X W_in, n = 16 */
    if (!only || only == 2)
        run_shape(16, 3072, 768, 16, rounds, prec, st);  /* H W_out, n = 16 */
    if (!only || only == 3)
        run_shape(1024, 768, 3072, 8, rounds, prec, st); /* n = 1024: arb_dot on 8 rows */
    gmp_randclear(st);
    flint_cleanup();
    return 0;
}
