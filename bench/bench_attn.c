/* make bench: one table, measured side by side in one run.  Each comparison
 * interleaves its contenders round by round and reports medians:
 *   - certified (Arb balls) against plain MPFR running the same algorithm,
 *     one head and a whole mlp-layer check, at 53 to 4096 bits;
 *   - against mpmath's interval context on instances written by
 *     `attncheck export` (when Debian's python3-mpmath and python3-gmpy2 are
 *     there);
 *   - a GPT-2-small MLP layer (768 x 3072) at 128 bits, n = 16 and 1024, as
 *     a user runs it (wall, CPU, peak memory), and a row for a GPT-2-shaped
 *     model converted end to end (issue 9's `attncheck model`);
 *   - the blog one-layer construction at the author's size, per row;
 *   - scaling exponents of the time in n, d, l and p (least-squares
 *     estimates);
 *   - make verify, verify --full and make check.
 * Environment: ATTNCHECK_BIN (default build/attncheck), ATTNCHECK_CHECK_BIN
 * (build/check_all), ATTNCHECK_BENCH_ROUNDS (5), ATTNCHECK_BENCH_QUICK=1
 * (skip the n = 1024 layer and the whole-suite runs), ATTNCHECK_BENCH_MODEL
 * (the model command's arguments after the binary, split at spaces). */
#define _DEFAULT_SOURCE /* wait4, mkdtemp */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "par.h"
#include "plain.h"
#include "runner.h"
#include "thm_common.h"
#include "version.h"
#include "xalloc.h"

#define MAX_ROUNDS 32

static int rounds = 5;
static const char *bin = "build/attncheck";
static char tmp[256];

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
    double s[MAX_ROUNDS];
    memcpy(s, v, sizeof *v * (size_t)n);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The CPU seconds per call of the last per_call (all threads): the loaded
 * machine's fair measure, which the floor column compares. */
static double last_cpu;

/* Seconds per call of fn(arg), repeated for at least `least` seconds. */
static double per_call(void (*fn)(void *), void *arg, double least)
{
    long reps = 0;
    double t0 = now(), c0 = cpu_now(), t;
    do {
        fn(arg);
        reps++;
        t = now();
    } while (t - t0 < least);
    last_cpu = (cpu_now() - c0) / (double)reps;
    return (t - t0) / (double)reps;
}

/* ------------------------------------------------------------- the table */

/* A row with its time as a multiple of the floor kernel (floor_cell). */
static void line_f(const char *item, const char *bits, const char *mine, const char *other,
                   const char *ratio, const char *floor, const char *target)
{
    printf("  %-40s %5s %12s %12s %10s %9s  %s\n", item, bits, mine, other, ratio, floor,
           target);
}

static void line(const char *item, const char *bits, const char *mine, const char *other,
                 const char *ratio, const char *target)
{
    line_f(item, bits, mine, other, ratio, "", target);
}

static void section(const char *title) { printf("%s\n", title); }

static void fmt_s(char *buf, size_t n, double s)
{
    if (!(s >= 0))
        snprintf(buf, n, "-");
    else if (s < 1e-3)
        snprintf(buf, n, "%.0f us", s * 1e6);
    else if (s < 1)
        snprintf(buf, n, "%.1f ms", s * 1e3);
    else
        snprintf(buf, n, "%.2f s", s);
}

static void fmt_mib(char *buf, size_t n, long kb) { snprintf(buf, n, "%.0f MiB", (double)kb / 1024); }

/* "met" or how far off a target is. */
static void verdict_le(char *buf, size_t n, const char *what, double v, double limit)
{
    if (v <= limit)
        snprintf(buf, n, "%s: met", what);
    else
        snprintf(buf, n, "%s: MISSED by %.0f%%", what, 100 * (v / limit - 1));
}

/* ------------------------------------------------------------ processes */

/* Run argv (no shell), stdout and stderr to tmp/out.txt; its wall time, CPU
 * time (user + system) and peak RSS.  Returns the exit code (or 128 + the
 * signal; -1 when it could not start). */
static int run_cmd(char *const argv[], const char *const env[], double *wall, double *cpu,
                   long *rss_kb)
{
    char out[300];
    snprintf(out, sizeof out, "%s/out.txt", tmp);
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        for (int k = 0; env && env[k]; k += 2)
            setenv(env[k], env[k + 1], 1);
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR)
            return -1;
    if (wall)
        *wall = now() - t0;
    if (cpu)
        *cpu = (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
               (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
    if (rss_kb)
        *rss_kb = ru.ru_maxrss;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The first line of the last command's output. */
static void last_output(char *buf, size_t n)
{
    char path[300];
    snprintf(path, sizeof path, "%s/out.txt", tmp);
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f) {
        if (!fgets(buf, (int)n, f))
            buf[0] = '\0';
        fclose(f);
    }
    buf[strcspn(buf, "\n")] = '\0';
}

/* ------------------------------------------------------------ the floor */

/* The floor kernel: the essential multiply-adds once at the needed
 * precision in fixed point (no radii, no rounding, no memory traffic
 * beyond the operands), plus arb_exp for every exponential.  A
 * multiply-add by an exact weight is one mpn_addmul_1 of an L-limb
 * fixed-point number by a 64-bit integer into an (L + 2)-limb accumulator
 * (one per sign); one of two computed values is an L x L-limb mpn_mul_n
 * and an add.  Each cost is measured once per precision (one thread,
 * medians); a case's floor is its counted terms times those costs, an
 * estimate. */
typedef struct {
    mpfr_prec_t prec;
    double exact, full, exp; /* seconds per term and per exponential */
} floor_cost_t;

typedef struct {
    long L, M, K, P;
    uint64_t *A, *C; /* limbs of 64 bits (mp_limb_t on this platform) */
    mp_limb_t *B, *T;
    int64_t *W;
    arb_ptr x, y;
    long nx;
    mpfr_prec_t prec;
} floor_case_t;

static void floor_exact(void *arg)
{
    floor_case_t *f = arg;
    long L = f->L, M = f->M, K = f->K, P = f->P;
    memset(f->C, 0, sizeof *f->C * (size_t)(M * P * 2 * (L + 2)));
    for (long i = 0; i < M; i++)
        for (long k = 0; k < K; k++) {
            const uint64_t *a = f->A + (i * K + k) * L;
            for (long j = 0; j < P; j++) {
                int64_t w = f->W[k * P + j];
                uint64_t *c = f->C + ((i * P + j) * 2 + (w < 0)) * (L + 2);
                uint64_t u = w < 0 ? -(uint64_t)w : (uint64_t)w, cy = 0;
                for (long t = 0; t < L; t++) { /* inline: no call per term */
                    unsigned __int128 q = (unsigned __int128)a[t] * u + c[t] + cy;
                    c[t] = (uint64_t)q;
                    cy = (uint64_t)(q >> 64);
                }
                unsigned __int128 q = (unsigned __int128)c[L] + cy;
                c[L] = (uint64_t)q;
                c[L + 1] += (uint64_t)(q >> 64);
            }
        }
}

static void floor_full(void *arg)
{
    floor_case_t *f = arg;
    long L = f->L, M = f->M, K = f->K, P = f->P;
    memset(f->C, 0, sizeof *f->C * (size_t)(M * P * 2 * (L + 2)));
    for (long i = 0; i < M; i++)
        for (long k = 0; k < K; k++)
            for (long j = 0; j < P; j++) {
                mpn_mul_n(f->T, (const mp_limb_t *)f->A + (i * K + k) * L,
                          f->B + (k * P + j) * L, L);
                mp_limb_t *c = (mp_limb_t *)f->C + (i * P + j) * 2 * (L + 2);
                mpn_add(c, c, 2 * L + 1, f->T, 2 * L);
            }
}

static void floor_exp(void *arg)
{
    floor_case_t *f = arg;
    for (long k = 0; k < f->nx; k++)
        arb_exp(f->y + k, f->x + k, f->prec);
}

static floor_cost_t floor_costs[16];
static int n_floor_costs;

/* The floor's costs per term at prec (measured on first use). */
static const floor_cost_t *floor_cost(mpfr_prec_t prec)
{
    for (int k = 0; k < n_floor_costs; k++)
        if (floor_costs[k].prec == prec)
            return floor_costs + k;
    floor_case_t f = {.L = (prec + 63) / 64, .M = 16, .K = 128, .P = 128, .nx = 512,
                      .prec = prec};
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, 7);
    f.A = xmallocarray((size_t)(f.M * f.K * f.L), sizeof *f.A);
    f.B = xmallocarray((size_t)(f.K * f.P * f.L), sizeof *f.B);
    f.C = xmallocarray((size_t)(f.M * f.P * 2 * (f.L + 2)), sizeof *f.C);
    f.T = xmallocarray((size_t)(2 * f.L), sizeof *f.T);
    f.W = xmallocarray((size_t)(f.K * f.P), sizeof *f.W);
    for (long k = 0; k < f.M * f.K * f.L; k++)
        f.A[k] = gmp_urandomb_ui(st, 32) << 32 | gmp_urandomb_ui(st, 32);
    for (long k = 0; k < f.K * f.P * f.L; k++)
        f.B[k] = gmp_urandomb_ui(st, 32) << 32 | gmp_urandomb_ui(st, 32);
    for (long k = 0; k < f.K * f.P; k++) /* float32-like: 24-bit mantissas, either sign */
        f.W[k] = (int64_t)gmp_urandomb_ui(st, 24) - (1 << 23);
    f.x = _arb_vec_init(f.nx);
    f.y = _arb_vec_init(f.nx);
    for (long k = 0; k < f.nx; k++) { /* computed values in [-8, 8], radius 2^-prec */
        arb_set_si(f.x + k, (long)gmp_urandomb_ui(st, 20) - (1L << 19));
        arb_mul_2exp_si(f.x + k, f.x + k, -16);
        arb_add_error_2exp_si(f.x + k, -(slong)prec);
    }
    gmp_randclear(st);
    double te[MAX_ROUNDS], tf[MAX_ROUNDS], tx[MAX_ROUNDS];
    double terms = (double)(f.M * f.K * f.P);
    for (int q = 0; q < rounds; q++) {
        per_call(floor_exact, &f, 0.05);
        te[q] = last_cpu / terms;
        per_call(floor_full, &f, 0.05);
        tf[q] = last_cpu / terms;
        per_call(floor_exp, &f, 0.05);
        tx[q] = last_cpu / (double)f.nx;
    }
    free(f.A);
    free(f.B);
    free(f.C);
    free(f.T);
    free(f.W);
    _arb_vec_clear(f.x, f.nx);
    _arb_vec_clear(f.y, f.nx);
    floor_cost_t *c = floor_costs + (n_floor_costs < 15 ? n_floor_costs++ : 15);
    *c = (floor_cost_t){prec, median(te, rounds), median(tf, rounds), median(tx, rounds)};
    return c;
}

/* Seconds of the floor: exact-weight terms, terms of two computed values,
 * exponentials, at prec. */
static double floor_seconds(double exact, double full, double exps, mpfr_prec_t prec)
{
    const floor_cost_t *c = floor_cost(prec);
    return exact * c->exact + full * c->full + exps * c->exp;
}

/* One causal head N x D, internal dimension r: X W_Q, X W_K, X W_V and the
 * output by W_O against exact weights; scores and weights times values over
 * the N (N + 1) / 2 allowed pairs; an exponential per pair. */
static double floor_causal_head(long N, long D, long r, mpfr_prec_t prec)
{
    double n = (double)N, pairs = n * (n + 1) / 2;
    return floor_seconds(4 * n * (double)D * (double)r, 2 * pairs * (double)r, pairs, prec);
}

/* An mlp-layer row d x l x n: the reference's X W_in and H W_out, the
 * construction's stacked X^ W_V and output (the queries are a W_V's
 * columns, the keys the bias coordinate), against exact weights; per
 * neuron (2n + 1) logits and weighted values; n sigmoids and 2n + 1
 * softmax exponentials per neuron. */
static double floor_mlp_layer(long d, long l, long n, mpfr_prec_t prec)
{
    double D = (double)d, Lh = (double)l, N = (double)n;
    return floor_seconds(2 * N * D * Lh + 2 * (N + 1) * (D + 1) * Lh, 2 * (2 * N + 1) * Lh,
                         (3 * N + 1) * Lh, prec);
}

/* The GPT-2-shaped model (L blocks, d_model d, H heads of d / H, d_mlp m,
 * n tokens), the model and its converted network each once: per block and
 * side Q, K, V, O and the MLP's two products against exact weights, the
 * causal scores and weighted values, and the exponentials of the softmax,
 * the model's activation (one each) and the converted MLP's neuron heads
 * (3n + 1 per neuron). */
static double floor_model(long L, long d, long H, long m, long n, mpfr_prec_t prec)
{
    double D = (double)d, M = (double)m, N = (double)n, pairs = N * (N + 1) / 2;
    double exact = 2 * (4 * N * D * D + 2 * N * D * M);
    double full = 2 * 2 * pairs * D;
    double exps = 2 * (double)H * pairs + N * M + (3 * N + 1) * M;
    return (double)L * floor_seconds(exact, full, exps, prec);
}

static void fmt_floor(char *buf, size_t n, double t, double floor)
{
    if (t > 0 && floor > 0)
        snprintf(buf, n, "%.1fx", t / floor);
    else
        snprintf(buf, n, "-");
}

/* ----------------------------------------------- certified vs plain MPFR */

typedef struct {
    attn_head_t h;
    imat_t X, Y;
    fmat_t x, y;
    mask_t M;
    mpfr_prec_t prec;
} head_case_t;

/* A causal head of random 4-bit dyadic weights and tokens (N x D, internal
 * dimension r), the tokens also as a plain matrix. */
static void head_case_init(head_case_t *c, long N, long D, long r, mpfr_prec_t p,
                           unsigned long seed)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, seed);
    attn_head_init(c->h, D, r);
    imat_randtest_dyadic(c->h->W_Q, st, 4);
    imat_randtest_dyadic(c->h->W_K, st, 4);
    imat_randtest_dyadic(c->h->W_V, st, 4);
    imat_randtest_dyadic(c->h->W_O, st, 4);
    imat_init(c->X, N, D);
    imat_init(c->Y, N, D);
    imat_randtest_dyadic(c->X, st, 4);
    fmat_init(&c->x, N, D, 64);
    fmat_init(&c->y, N, D, p);
    fmat_from_imat(&c->x, c->X);
    mask_causal(&c->M, N);
    c->prec = p;
    gmp_randclear(st);
}

static void head_case_clear(head_case_t *c)
{
    mask_clear(&c->M);
    fmat_clear(&c->x);
    fmat_clear(&c->y);
    imat_clear(c->X);
    imat_clear(c->Y);
    attn_head_clear(c->h);
}

static void head_certified(void *arg)
{
    head_case_t *c = arg;
    attn_head_apply(c->Y, c->h, c->X, &c->M, c->prec);
}

static void head_plain(void *arg)
{
    head_case_t *c = arg;
    plain_head_apply(&c->y, c->h, &c->x, &c->M, c->prec);
}

/* One row of a claim through the runner (build, both outputs, E, verdict). */
typedef struct {
    const claim_t *claim;
    params_t params;
    char buf[PARAM_MAX][64];
    mpfr_prec_t prec;
    mpfr_prec_t prec_used; /* the working precision that decided the row */
    int verdict;
    arb_t E;
} row_case_t;

static void row_case_init(row_case_t *c, const char *claim, const char *const *kv)
{
    memset(c, 0, sizeof *c);
    c->claim = claim_find(claim);
    for (int k = 0; kv[2 * k]; k++) {
        c->params.name[k] = kv[2 * k];
        snprintf(c->buf[k], sizeof c->buf[k], "%s", kv[2 * k + 1]);
        c->params.value[k] = c->buf[k];
        c->params.n = k + 1;
    }
    long p;
    c->prec = params_get_long(&p, &c->params, "prec") == 0 ? (mpfr_prec_t)p : 128;
    arb_init(c->E);
}

static void row_case_run(void *arg)
{
    row_case_t *c = arg;
    row_t r;
    memset(&r, 0, sizeof r);
    r.params = c->params;
    r.seed = 1;
    r.sweep = "bench";
    if (runner_eval_row(&r, c->claim, 65536) == 0) {
        c->verdict = r.verdict;
        c->prec_used = r.prec;
        arb_set(c->E, r.error);
    } else {
        c->verdict = -1;
    }
    row_clear(&r);
}

typedef struct {
    row_case_t row;
    imat_t X, W_in, W_out;
    mpfr_t a, E;
} mlp_case_t;

static void mlp_plain(void *arg)
{
    mlp_case_t *c = arg;
    plain_mlp_layer_check(c->E, c->X, c->W_in, c->W_out, c->a, c->row.prec);
}

static const mpfr_prec_t precs[] = {53, 256, 1024, 4096};

static void bench_plain(void)
{
    section("certified (Arb balls) against plain MPFR: the same algorithm, one thread each");
    line_f("case", "bits", "certified", "plain MPFR", "ratio", "x floor", "target <= 1.0x");
    par_set_threads(1);
    static const long head_sizes[][3] = {{17, 17, 4}, {128, 64, 16}};
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < 4; k++) {
            mpfr_prec_t p = precs[k];
            long N = head_sizes[s][0], D = head_sizes[s][1], r = head_sizes[s][2];
            head_case_t c;
            head_case_init(&c, N, D, r, p, 1);
            double tc[MAX_ROUNDS], tp[MAX_ROUNDS], cc[MAX_ROUNDS];
            for (int q = 0; q < rounds; q++) {
                tc[q] = per_call(head_certified, &c, 0.2);
                cc[q] = last_cpu;
                tp[q] = per_call(head_plain, &c, 0.2);
            }
            char item[64], bits[16], a[32], b[32], ratio[32], target[64];
            double mc = median(tc, rounds), mp = median(tp, rounds);
            snprintf(item, sizeof item, "one causal head, N %ld, D %ld, r %ld", N, D, r);
            snprintf(bits, sizeof bits, "%ld", (long)p);
            fmt_s(a, sizeof a, mc);
            fmt_s(b, sizeof b, mp);
            snprintf(ratio, sizeof ratio, "%.2fx", mc / mp);
            verdict_le(target, sizeof target, "1.0x", mc / mp, 1.0);
            char fl[32];
            fmt_floor(fl, sizeof fl, median(cc, rounds), floor_causal_head(N, D, r, p));
            line_f(item, bits, a, b, ratio, fl, target);
            head_case_clear(&c);
        }
    static const long mlp_sizes[][3] = {{8, 16, 6}, {64, 256, 16}};
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < 4; k++) {
            mpfr_prec_t p = precs[k];
            long d = mlp_sizes[s][0], l = mlp_sizes[s][1], n = mlp_sizes[s][2];
            char shape[64], prec[16];
            snprintf(shape, sizeof shape, "%ldx%ldx%ld", d, l, n);
            snprintf(prec, sizeof prec, "%ld", (long)p);
            const char *kv[] = {"shape", shape, "a", "1.702", "prec", prec, "seed", "1", NULL};
            mlp_case_t c;
            row_case_init(&c.row, "mlp-layer", kv);
            /* the instance the claim draws (salt 2 of seed 1) */
            gmp_randstate_t st;
            thm_rand_init(st, 1, 2);
            imat_init(c.X, n, d);
            imat_init(c.W_in, d, l);
            imat_init(c.W_out, l, d);
            imat_randtest_dyadic(c.X, st, WEIGHT_BITS);
            imat_randtest_dyadic(c.W_in, st, WEIGHT_BITS);
            imat_randtest_dyadic(c.W_out, st, WEIGHT_BITS);
            gmp_randclear(st);
            mpfr_inits2(p, c.a, c.E, (mpfr_ptr)0);
            mpfr_set_str(c.a, "1.702", 10, MPFR_RNDN);
            double tc[MAX_ROUNDS], tp[MAX_ROUNDS], cc[MAX_ROUNDS];
            for (int q = 0; q < rounds; q++) {
                tc[q] = per_call(row_case_run, &c.row, 0.2);
                cc[q] = last_cpu;
                tp[q] = per_call(mlp_plain, &c, 0.2);
            }
            char item[128], a[32], b[32], ratio[32], target[64];
            double mc = median(tc, rounds), mp = median(tp, rounds);
            snprintf(item, sizeof item, "mlp-layer check %s (whole row)", shape);
            fmt_s(a, sizeof a, mc);
            fmt_s(b, sizeof b, mp);
            snprintf(ratio, sizeof ratio, "%.2fx", mc / mp);
            verdict_le(target, sizeof target, "1.0x", mc / mp, 1.0);
            char fl[32];
            fmt_floor(fl, sizeof fl, median(cc, rounds), floor_mlp_layer(d, l, n, c.row.prec_used));
            line_f(item, prec, a, b, ratio, fl, target);
            /* both found the identity to their own precision */
            if (c.row.verdict != VERDICT_HOLDS || !(mpfr_get_d(c.E, MPFR_RNDN) < 1e-10))
                printf("  (!) %s at %ld bits: certified verdict %d, plain E %.3g\n", shape, (long)p,
                       c.row.verdict, mpfr_get_d(c.E, MPFR_RNDN));
            mpfr_clears(c.a, c.E, (mpfr_ptr)0);
            arb_clear(c.row.E);
            imat_clear(c.X);
            imat_clear(c.W_in);
            imat_clear(c.W_out);
        }
    printf("  (certified mlp-layer: the runner's whole row, drawing the instance, both outputs, E "
           "and the verdict; plain: the same two outputs and E from the drawn instance)\n"
           "  (x floor: the certified CPU time over the floor kernel's at the working precision "
           "that decided the row; see the floor section)\n");
    par_set_threads(0);
}

/* ---------------------------------------------------- against mpmath.iv */

/* mpmath's seconds per check and its E, from bench/mpmath_iv.py; 1 on a
 * skip (reason in why), -1 on failure. */
static int mpmath_time(const char *json, mpfr_prec_t p, double *sec, double *lo, double *hi,
                       char *why, size_t n)
{
    char prec[16];
    snprintf(prec, sizeof prec, "%ld", (long)p);
    char *argv[] = {"/usr/bin/python3", "bench/mpmath_iv.py", (char *)json, prec, "0.2", NULL};
    int rc = run_cmd(argv, NULL, NULL, NULL, NULL);
    char out[512];
    last_output(out, sizeof out);
    if (rc == 0 && strncmp(out, "skip:", 5) == 0) {
        snprintf(why, n, "%s", out + 6);
        return 1;
    }
    if (rc != 0 || sscanf(out, "%lf %lf %lf", sec, lo, hi) != 3) {
        snprintf(why, n, "bench/mpmath_iv.py failed (exit %d): %s", rc, out);
        return -1;
    }
    return 0;
}

static void bench_mpmath(void)
{
    section("certified against mpmath's interval context (mpmath.iv with gmpy2), one thread, "
            "the same exported instance");
    if (access("/usr/bin/python3", X_OK) != 0) {
        printf("  skipped: /usr/bin/python3 is not installed\n");
        return;
    }
    line("case", "bits", "attncheck", "mpmath.iv", "speedup", "target >= 30x (>= 10x at 4096)");
    par_set_threads(1);
    static const char *const cases[][3] = {{"neuron-head", "16x16", "one neuron head"},
                                           {"mlp-layer", "8x16x6", "mlp-layer check"}};
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < 4; k++) {
            mpfr_prec_t p = precs[k];
            char json[300], prec[16], sh[64];
            snprintf(json, sizeof json, "%s/%s-%ld.json", tmp, cases[s][0], (long)p);
            snprintf(prec, sizeof prec, "%ld", (long)p);
            snprintf(sh, sizeof sh, "shape=%s", cases[s][1]);
            char *ex[] = {(char *)bin, "export", (char *)cases[s][0], "--seed", "1", "--set", sh,
                          "--set", "a=1.702", "--prec", prec, "--out", json, NULL};
            if (run_cmd(ex, NULL, NULL, NULL, NULL) != 0) {
                char out[512];
                last_output(out, sizeof out);
                printf("  export failed: %s\n", out);
                continue;
            }
            const char *kv[] = {"shape", cases[s][1], "a", "1.702", "prec", prec, "seed", "1", NULL};
            row_case_t c;
            row_case_init(&c, cases[s][0], kv);
            double tc[MAX_ROUNDS], tm[MAX_ROUNDS], lo = 0, hi = 0;
            char why[600];
            int skip = 0;
            for (int q = 0; q < rounds && !skip; q++) {
                tc[q] = per_call(row_case_run, &c, 0.2);
                skip = mpmath_time(json, p, tm + q, &lo, &hi, why, sizeof why);
            }
            if (skip) {
                printf("  skipped: %s\n", why);
                arb_clear(c.E);
                par_set_threads(0);
                return;
            }
            char item[160], a[32], b[32], ratio[32], target[80];
            double mc = median(tc, rounds), mm = median(tm, rounds), min = p >= 4096 ? 10 : 30;
            snprintf(item, sizeof item, "%s %s", cases[s][2], cases[s][1]);
            fmt_s(a, sizeof a, mc);
            fmt_s(b, sizeof b, mm);
            snprintf(ratio, sizeof ratio, "%.1fx", mm / mc);
            /* both enclose the same E: their enclosures must overlap */
            int overlap = ival_lo_d(c.E) <= hi && lo <= ival_hi_d(c.E);
            if (mm / mc >= min)
                snprintf(target, sizeof target, ">= %.0fx: met%s", min, overlap ? "" : "; E disagree!");
            else
                snprintf(target, sizeof target, ">= %.0fx: MISSED (%.0f%% of it)%s", min,
                         100 * mm / mc / min, overlap ? "" : "; E disagree!");
            line(item, prec, a, b, ratio, target);
            arb_clear(c.E);
        }
    printf("  (both sides compute E for the same instance; their enclosures overlap unless "
           "marked)\n");
    par_set_threads(0);
}

/* ------------------------------------------------------- GPT-2-sized rows */

/* The working precision the runner gives mlp-layer row (shape, a, prec
 * asked, seed 1): the claim's prediction of the resolution rule. */
static mpfr_prec_t mlp_row_prec(const char *shape, const char *a, mpfr_prec_t asked)
{
    char prec[16];
    snprintf(prec, sizeof prec, "%ld", (long)asked);
    const char *kv[] = {"shape", shape, "a", a, "prec", prec, "seed", "1", NULL};
    row_case_t c;
    row_case_init(&c, "mlp-layer", kv);
    row_t r;
    memset(&r, 0, sizeof r);
    r.params = c.params;
    r.seed = 1;
    row_start(&r, asked);
    long need = asked;
    if (c.claim->predict && c.claim->predict(&r) == 0 && r.resolve_bits >= 0)
        need = verdict_resolve_prec(r.depth, verdict_param_bits(c.params.n, c.params.name,
                                                                 c.params.value),
                                    r.resolve_bits);
    row_clear(&r);
    arb_clear(c.E);
    return need > asked && need < PREC_MAX ? (mpfr_prec_t)need : asked;
}

/* One GPT-2-small MLP row (n tokens) as a user runs it: wall, CPU, peak
 * memory, and the CPU time as a multiple of the floor. */
static void gpt2_row(const char *label, long n, int rounds_here, double wall_target,
                     double floor_target)
{
    char shape[96], sh[64];
    snprintf(sh, sizeof sh, "768x3072x%ld", n);
    snprintf(shape, sizeof shape, "shape=%s", sh);
    char *argv[] = {(char *)bin, "sweep", "mlp-layer", "--set", shape, "--set", "prec=128",
                    "--set", "a=1", "--set", "seed=1", "--no-write", NULL};
    double wall[MAX_ROUNDS], cpu[MAX_ROUNDS];
    long rss = 0;
    int rc = 0;
    for (int q = 0; q < rounds_here; q++) {
        long r;
        rc = run_cmd(argv, NULL, wall + q, cpu + q, &r);
        rss = r > rss ? r : rss;
    }
    mpfr_prec_t p = mlp_row_prec(sh, "1", 128);
    double fl = floor_mlp_layer(768, 3072, n, p), mc = median(cpu, rounds_here);
    char a[32], b[32], m[32], target[200], t1[64], t2[64], bits[16], f[32];
    fmt_s(a, sizeof a, median(wall, rounds_here));
    fmt_s(b, sizeof b, mc);
    fmt_mib(m, sizeof m, rss);
    fmt_floor(f, sizeof f, mc, fl);
    snprintf(bits, sizeof bits, "%ld", (long)p);
    char lim[32];
    snprintf(lim, sizeof lim, "<= %.0f s wall", wall_target);
    verdict_le(t1, sizeof t1, lim, median(wall, rounds_here), wall_target);
    if (floor_target > 0) {
        snprintf(lim, sizeof lim, "<= %.0fx floor (CPU)", floor_target);
        verdict_le(t2, sizeof t2, lim, mc / fl, floor_target);
        snprintf(target, sizeof target, "%s; %s; %s", rc == 0 ? "holds" : "DID NOT HOLD", t1, t2);
    } else {
        snprintf(target, sizeof target, "%s; %s", rc == 0 ? "holds" : "DID NOT HOLD", t1);
    }
    line_f(label, bits, a, b, m, f, target);
}

/* Run the model command (argv) once: wall and CPU, or a reason it did not run. */
static int model_run(char **argv, int n, double *wall, double *cpu, long *rss, char *why,
                     size_t whysz)
{
    char *probe[] = {(char *)bin, argv[1], "--help", NULL};
    if (run_cmd(probe, NULL, NULL, NULL, NULL) != 0) {
        snprintf(why, whysz, "not run: this attncheck has no '%s' command", argv[1]);
        return -1;
    }
    for (int k = 2; k < n; k++)
        if (strstr(argv[k], ".safetensors") && access(argv[k], R_OK) != 0) {
            snprintf(why, whysz, "not run: %s is missing (make models)", argv[k]);
            return -1;
        }
    return run_cmd(argv, NULL, wall, cpu, rss);
}

/* The GPT-2-shaped model (12 blocks, d_model 768, 12 heads, d_mlp 3072)
 * end to end with every row, on 32 drawn tokens and on 16 (the cost of a
 * token: the difference over 16); ATTNCHECK_BENCH_MODEL replaces the
 * command (the 16-token run is then left out when it sets --input or
 * --tokens). */
static void gpt2_model_rows(void)
{
    const char *label = "GPT-2-shaped model, end to end, 32 tokens";
    const char *spec = getenv("ATTNCHECK_BENCH_MODEL");
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", spec && *spec ? spec
             : "model models/gpt2-shaped.safetensors --prec 128 --no-write");
    char *argv[64];
    int n = 0, own_tokens = 0;
    argv[n++] = (char *)bin;
    for (char *t = strtok(buf, " "); t && n < 60; t = strtok(NULL, " ")) {
        own_tokens |= strcmp(t, "--input") == 0 || strcmp(t, "--tokens") == 0;
        argv[n++] = t;
    }
    argv[n] = NULL;
    double wall, cpu, wall16 = -1, cpu16 = -1;
    long rss;
    char why[400];
    int rc = model_run(argv, n, &wall, &cpu, &rss, why, sizeof why);
    if (rc < 0) {
        line_f(label, "128", "-", "-", "-", "-", why);
        return;
    }
    /* the end-to-end rows' precision: 128 + 20 bits per block */
    mpfr_prec_t pe = 128 + 20 * 12;
    double fl = floor_model(12, 768, 12, 3072, 32, pe);
    char a[32], b[32], m[32], f[32], t[200], t1[64];
    fmt_s(a, sizeof a, wall);
    fmt_s(b, sizeof b, cpu);
    fmt_mib(m, sizeof m, rss);
    fmt_floor(f, sizeof f, cpu, fl);
    verdict_le(t1, sizeof t1, "<= 30 s wall", wall, 30);
    snprintf(t, sizeof t, "exit %d (0: holds); %s", rc, t1);
    line_f(label, "368", a, b, m, f, t);
    if (own_tokens)
        return;
    argv[n++] = "--tokens";
    argv[n++] = "16";
    argv[n] = NULL;
    if (model_run(argv, n, &wall16, &cpu16, &rss, why, sizeof why) < 0)
        return;
    double per = (wall - wall16) / 16, per_cpu = (cpu - cpu16) / 16;
    fmt_s(a, sizeof a, per);
    fmt_s(b, sizeof b, per_cpu);
    fmt_floor(f, sizeof f, per_cpu, fl / 32);
    verdict_le(t1, sizeof t1, "<= 1 s wall", per, 1);
    snprintf(t, sizeof t, "(32 tokens - 16 tokens) / 16; %s", t1);
    line_f("  per additional token", "368", a, b, "-", f, t);
}

static void bench_gpt2(int quick)
{
    section("GPT-2-small MLP layer (d_model 768, d_mlp 3072) as one mlp-layer row, 128 bits "
            "asked (bits: the working precision), every core");
    line_f("case", "bits", "wall", "CPU", "peak RSS", "x floor", "targets (2 idle cores)");
    gpt2_row("n = 16 (--set a=1 --set seed=1)", 16, rounds < 3 ? rounds : 3, 3, 3);
    printf("  %-40s %5s %12s %12s %10s %9s  %s\n", "  against a hand-written Arb program", "",
           "", "", "", "", "<= 0.5x: not measured (no such contender in this bench)");
    if (quick)
        line("n = 1024", "128", "-", "-", "-", "skipped (ATTNCHECK_BENCH_QUICK)");
    else
        gpt2_row("n = 1024 (--set a=1 --set seed=1)", 1024, 1, 15, 0);
    /* the command as the issue types it: the claim's a and seed axes stay (15 rows) */
    char *argv[] = {(char *)bin, "sweep", "mlp-layer", "--set", "shape=768x3072x16", "--set",
                    "prec=128", "--no-write", NULL};
    double wall, cpu;
    long rss;
    int rc = quick ? 0 : run_cmd(argv, NULL, &wall, &cpu, &rss);
    if (quick) {
        line("n = 16, the sweep as typed (15 rows)", "128", "-", "-", "-",
             "skipped (ATTNCHECK_BENCH_QUICK)");
    } else {
        char a[32], b[32], m[32];
        fmt_s(a, sizeof a, wall);
        fmt_s(b, sizeof b, cpu);
        fmt_mib(m, sizeof m, rss);
        line("n = 16, the sweep as typed (15 rows)", "128", a, b, m,
             rc == 0 ? "holds (5 values of a x 3 seeds)" : "DID NOT HOLD");
    }
    if (quick)
        line_f("GPT-2-shaped model, end to end", "128", "-", "-", "-", "-",
               "skipped (ATTNCHECK_BENCH_QUICK)");
    else
        gpt2_model_rows();
}

/* The floor's costs as measured, and what a case's floor counts. */
static void bench_floor(void)
{
    section("the floor kernel (one thread, CPU time): fixed-point multiply-adds at the working "
            "precision, no radii, plus arb_exp; x floor = a case's CPU time / its floor");
    line("precision", "bits", "exact w.", "two values", "arb_exp", "per term / per exp");
    for (int k = 0; k < n_floor_costs; k++) {
        char bits[16], a[32], b[32], c[32];
        snprintf(bits, sizeof bits, "%ld", (long)floor_costs[k].prec);
        snprintf(a, sizeof a, "%.2f ns", floor_costs[k].exact * 1e9);
        snprintf(b, sizeof b, "%.2f ns", floor_costs[k].full * 1e9);
        snprintf(c, sizeof c, "%.0f ns", floor_costs[k].exp * 1e9);
        line("", bits, a, b, c, "");
    }
    printf("  (counted per case: a causal head 4NDr exact-weight terms, N(N+1)r of two values, "
           "N(N+1)/2 exps; an mlp-layer row 2ndl + 2(n+1)(d+1)l, 2(2n+1)l, (3n+1)l; the model "
           "and its converted network once each at the end-to-end precision; estimates)\n");
}

/* ------------------------------------------------------ blog, one layer */

static void bench_blog(void)
{
    section("blog one-layer construction at the author's size (d 30, hidden 120, n 20, "
            "Omega 1000), every core");
    line("case", "bits", "per row", "", "verdict", "");
    const char *kv[] = {"shape", "30x120x20", "omega", "1000", NULL};
    row_case_t c;
    row_case_init(&c, "blog-one-layer", kv);
    double t[MAX_ROUNDS];
    for (int q = 0; q < rounds; q++)
        t[q] = per_call(row_case_run, &c, 0.2);
    char a[32], bits[16];
    fmt_s(a, sizeof a, median(t, rounds));
    snprintf(bits, sizeof bits, "%ld", (long)c.claim->start_prec(&c.params));
    line("one row (seed 1)", bits, a, "", c.verdict < 0 ? "refused" : verdict_name(c.verdict), "");
    arb_clear(c.E);
}

/* ---------------------------------------------------------------- scaling */

/* Least-squares slope of log t against log x. */
static double slope(const double *x, const double *t, int n)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (int k = 0; k < n; k++) {
        double u = log(x[k]), v = log(t[k]);
        sx += u;
        sy += v;
        sxx += u * u;
        sxy += u * v;
    }
    return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

static double time_mlp_row(long d, long l, long n, mpfr_prec_t p)
{
    char shape[64], prec[16];
    snprintf(shape, sizeof shape, "%ldx%ldx%ld", d, l, n);
    snprintf(prec, sizeof prec, "%ld", (long)p);
    const char *kv[] = {"shape", shape, "a", "1.702", "prec", prec, "seed", "1", NULL};
    row_case_t c;
    row_case_init(&c, "mlp-layer", kv);
    double t[MAX_ROUNDS];
    int r = rounds < 3 ? rounds : 3;
    for (int q = 0; q < r; q++)
        t[q] = per_call(row_case_run, &c, 0.1);
    arb_clear(c.E);
    return median(t, r);
}

static double time_causal_head(long N, long D, long r, mpfr_prec_t p)
{
    head_case_t c;
    head_case_init(&c, N, D, r, p, 2);
    double t[MAX_ROUNDS];
    int rr = rounds < 3 ? rounds : 3;
    for (int q = 0; q < rr; q++)
        t[q] = per_call(head_certified, &c, 0.1);
    head_case_clear(&c);
    return median(t, rr);
}

static void bench_scaling(void)
{
    section("scaling of the time (estimates: least-squares slopes of log time, one thread)");
    line("sweep", "bits", "exponent", "", "", "points");
    par_set_threads(1);
    double x[8], t[8];
    char e[32], pts[128];
    static const long ns[] = {16, 32, 64, 128};
    for (int k = 0; k < 4; k++) {
        x[k] = (double)ns[k] + 1;
        t[k] = time_mlp_row(32, 128, ns[k], 256);
    }
    snprintf(e, sizeof e, "%.2f", slope(x, t, 4));
    line("mlp-layer row, n = 16..128 (d 32, l 128)", "256", e, "", "", "N = n + 1 tokens");
    static const long ds[] = {16, 32, 64, 128};
    for (int k = 0; k < 4; k++) {
        x[k] = (double)ds[k];
        t[k] = time_mlp_row(ds[k], 128, 16, 256);
    }
    snprintf(e, sizeof e, "%.2f", slope(x, t, 4));
    line("mlp-layer row, d = 16..128 (l 128, n 16)", "256", e, "", "", "");
    static const long ls[] = {64, 128, 256, 512};
    for (int k = 0; k < 4; k++) {
        x[k] = (double)ls[k];
        t[k] = time_mlp_row(32, ls[k], 16, 256);
    }
    snprintf(e, sizeof e, "%.2f", slope(x, t, 4));
    line("mlp-layer row, l = 64..512 (d 32, n 16)", "256", e, "", "", "l heads");
    static const mpfr_prec_t ps[] = {128, 256, 512, 1024, 2048};
    for (int k = 0; k < 5; k++) {
        x[k] = (double)ps[k];
        t[k] = time_mlp_row(32, 128, 16, ps[k]);
    }
    snprintf(e, sizeof e, "%.2f", slope(x, t, 5));
    snprintf(pts, sizeof pts, "128..2048 bits");
    line("mlp-layer row, p (shape 32x128x16)", "-", e, "", "", pts);
    static const long Ns[] = {64, 128, 256, 512};
    for (int k = 0; k < 4; k++) {
        x[k] = (double)Ns[k];
        t[k] = time_causal_head(Ns[k], 16, 4, 128);
    }
    snprintf(e, sizeof e, "%.2f", slope(x, t, 4));
    line("one causal head, N = 64..512 (D 16, r 4)", "128", e, "", "", "dense causal: O(N^2)");
    par_set_threads(0);
}

/* -------------------------------------------------------------- whole runs */

static void bench_runs(int quick)
{
    section("whole runs (wall time; make verify and verify --full use --jobs 2 as make verify "
            "does)");
    line("run", "", "wall", "CPU", "exit", "target");
    if (quick) {
        line("make verify, verify --full, make check", "", "-", "-", "-",
             "skipped (ATTNCHECK_BENCH_QUICK)");
        return;
    }
    char out1[300], out2[300];
    snprintf(out1, sizeof out1, "%s/verify", tmp);
    snprintf(out2, sizeof out2, "%s/full", tmp);
    char *v[] = {(char *)bin, "verify", "--jobs", "2", "--out", out1, NULL};
    char *f[] = {(char *)bin, "verify", "--full", "--jobs", "2", "--out", out2, NULL};
    const char *check = getenv("ATTNCHECK_CHECK_BIN");
    char *c[] = {(char *)(check && *check ? check : "build/check_all"), NULL};
    const char *env[] = {"ATTNCHECK_BIN", bin, NULL};
    struct {
        const char *label;
        char **argv;
        const char *const *env;
        double limit;
        const char *target;
    } runs[] = {{"make verify (attncheck verify --jobs 2)", v, NULL, 8, "<= 8 s"},
                {"attncheck verify --full --jobs 2", f, NULL, 45, "<= 45 s"},
                {"make check (the Check suites)", c, env, 120, "<= 2 min"}};
    for (int k = 0; k < 3; k++) {
        double wall, cpu;
        int rc = run_cmd(runs[k].argv, runs[k].env, &wall, &cpu, NULL);
        char a[32], b[32], e[16], t[64];
        fmt_s(a, sizeof a, wall);
        fmt_s(b, sizeof b, cpu);
        snprintf(e, sizeof e, "%d", rc);
        verdict_le(t, sizeof t, runs[k].target, wall, runs[k].limit);
        line(runs[k].label, "", a, b, e, t);
    }
}

static void remove_tree(const char *dir)
{
    char *argv[] = {"rm", "-rf", "--", (char *)dir, NULL};
    run_cmd(argv, NULL, NULL, NULL, NULL);
}

int main(void)
{
    const char *s = getenv("ATTNCHECK_BENCH_ROUNDS");
    if (s && atoi(s) > 0)
        rounds = atoi(s) < MAX_ROUNDS ? atoi(s) : MAX_ROUNDS;
    if ((s = getenv("ATTNCHECK_BIN")) && *s)
        bin = s;
    int quick = (s = getenv("ATTNCHECK_BENCH_QUICK")) && *s && strcmp(s, "0") != 0;
    snprintf(tmp, sizeof tmp, "/tmp/attncheck-bench-XXXXXX");
    if (!mkdtemp(tmp)) {
        perror("attncheck bench: mkdtemp");
        return 1;
    }
    double load[3] = {0, 0, 0};
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf %lf %lf", load, load + 1, load + 2) != 3)
            load[0] = -1;
        fclose(f);
    }
    printf("attncheck bench (%s): %d interleaved rounds, medians; %d online CPUs, load average "
           "%.2f at the start;", attncheck_version(), rounds, par_online_cpus(), load[0]);
    library_version_t libs[8];
    int nl = attncheck_libraries(libs, 8);
    for (int k = 0; k < nl; k++)
        printf(" %s %s", libs[k].name, libs[k].version);
    printf("\n\n");
    bench_plain();
    bench_mpmath();
    bench_gpt2(quick);
    bench_blog();
    bench_scaling();
    bench_runs(quick);
    bench_floor();
    remove_tree(tmp);
    par_shutdown();
    mpfr_free_cache();
    flint_cleanup();
    return 0;
}
