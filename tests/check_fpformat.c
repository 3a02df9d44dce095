/* The float-format emulation (fpformat, fpmat) against independent oracles:
 * - binary64 and binary32 against this machine's double and float arithmetic,
 *   bit for bit (SSE, no x87, no contraction: see the Makefile flag);
 * - binary16 and bfloat16 against arithmetic in double followed by this file's
 *   own bit-level rounding (double rounding through binary64 is innocuous for
 *   + - * / sqrt of p-bit inputs since 53 >= 2p + 2), against GCC's _Float16
 *   where the compiler has it, and against numpy float16 and torch bfloat16
 *   through /usr/bin/python3 when those modules are installed;
 * - the global exponent range and flags are the same after every call;
 * - forward passes (softmax, LayerNorm, activations, a head, an MLP) against a
 *   reference written here in doubles with the same stated model, and the same
 *   pass run by mistake in binary64 is caught. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "testutil.h"
#include "fpmat.h"

/* An assertion for hot loops: Check's ck_assert reports every passing check
 * to the parent process, which costs a system call each. */
#define REQUIRE(cond, ...)                                                                     \
    do {                                                                                       \
        if (!(cond))                                                                           \
            ck_abort_msg(__VA_ARGS__);                                                         \
    } while (0)

/* Valgrind emulates the FMA instruction (glibc's fma uses it) without the
 * sign of zero right: under valgrind the native fma is no oracle. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND() RUNNING_ON_VALGRIND
#endif
#endif
#ifndef UNDER_VALGRIND
#define UNDER_VALGRIND() 0
#endif

static int native_fma_trusted(void)
{
    if (!UNDER_VALGRIND())
        return 1;
    fprintf(stderr, "fpformat: native fma comparisons skipped under valgrind\n");
    return 0;
}

#if FLT_EVAL_METHOD != 0
#error "the native comparisons need float and double evaluated in their own formats (SSE, not x87)"
#endif

/* ---------------------------------------------------------------------- */
/* bits and random numbers                                                 */

static uint64_t dbits(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

static double dfrom(uint64_t b)
{
    double x;
    memcpy(&x, &b, sizeof x);
    return x;
}

/* Same value and sign (any two NaNs are the same). */
static int same_d(double a, double b)
{
    return (isnan(a) && isnan(b)) || dbits(a) == dbits(b);
}

static uint64_t rand64(gmp_randstate_t st)
{
    uint64_t hi = gmp_urandomb_ui(st, 32), lo = gmp_urandomb_ui(st, 32);
    return hi << 32 | lo;
}

/* A random sign, 53 random significant bits, exponent uniform in [elo, ehi]
 * (rounded like ldexp when that is below the normal range). */
static double rand_exp(gmp_randstate_t st, int elo, int ehi)
{
    double m = (double)((rand64(st) >> 11) | (1ULL << 52)); /* [2^52, 2^53) */
    int e = elo + (int)gmp_urandomm_ui(st, (unsigned long)(ehi - elo + 1));
    double x = ldexp(m, e - 52);
    return gmp_urandomb_ui(st, 1) ? -x : x;
}

/* ---------------------------------------------------------------------- */
/* this file's own rounding: x to nearest-even in format f, on x's bits    */

static double ref_round(double x, const fpf_format_t *f)
{
    uint64_t b = dbits(x);
    int bexp = (int)((b >> 52) & 0x7ff);
    uint64_t m = b & ((1ULL << 52) - 1);
    if (bexp == 0x7ff || (bexp == 0 && m == 0))
        return x; /* inf, NaN, signed zero */
    int e; /* |x| = m 2^(e-52) with the leading bit of m at bit 52 */
    if (bexp == 0) {
        e = -1022;
        while (!(m >> 52)) {
            m <<= 1;
            e--;
        }
    } else {
        m |= 1ULL << 52;
        e = bexp - 1023;
    }
    int p = (int)f->prec, q = (e > f->emin ? e : (int)f->emin) - (p - 1); /* quantum 2^q */
    int drop = q - (e - 52);
    uint64_t kept = m;
    if (drop >= 54) {
        kept = 0; /* |x| < 2^(q-1): below half the quantum */
    } else if (drop > 0) {
        uint64_t rem = m & ((1ULL << drop) - 1), half = 1ULL << (drop - 1);
        kept = m >> drop;
        if (rem > half || (rem == half && (kept & 1)))
            kept++;
    } else {
        q = e - 52;
    }
    double r = ldexp((double)kept, q); /* exact: kept has at most 54 bits */
    double max = ldexp((double)((1ULL << p) - 1), (int)f->emax - p + 1);
    if (r > max)
        r = INFINITY;
    return (b >> 63) ? -r : r;
}

/* The 16-bit pattern of v, an f value (binary16 or bfloat16). */
static unsigned ref_encode16(double v, const fpf_format_t *f)
{
    int mbits = (int)f->prec - 1, bias = (int)f->emax;
    unsigned sign = signbit(v) ? 0x8000u : 0, allones = (unsigned)(2 * bias + 1);
    if (isnan(v))
        return 0x7fffu;
    if (isinf(v))
        return sign | allones << mbits;
    double a = fabs(v);
    if (a == 0)
        return sign;
    int ex;
    frexp(a, &ex);
    int E = ex - 1;
    if (E < f->emin)
        return sign | (unsigned)ldexp(a, -((int)f->emin - mbits));
    return sign | (unsigned)(E + bias) << mbits | ((unsigned)ldexp(a, mbits - E) - (1u << mbits));
}

static double ref_decode16(unsigned b, const fpf_format_t *f)
{
    int mbits = (int)f->prec - 1, bias = (int)f->emax;
    unsigned field = (b >> mbits) & (unsigned)(2 * bias + 1), man = b & ((1u << mbits) - 1);
    double v;
    if (field == (unsigned)(2 * bias + 1))
        v = man ? NAN : INFINITY;
    else if (field == 0)
        v = ldexp((double)man, (int)f->emin - mbits);
    else
        v = ldexp((double)(man | 1u << mbits), (int)field - bias - mbits);
    return (b & 0x8000u) ? -v : v;
}

/* An MPFR value to double with one rounding to nearest in f: binary64 rounds
 * directly; narrower formats round to odd at 53 bits first (exact for any
 * later rounding to p <= 51 bits), then ref_round.  v must be at least
 * 2^-1022 in magnitude or zero; beyond binary64's range it is +-inf. */
static double ref_from_mpfr(const mpfr_t v, const fpf_format_t *f)
{
    if (f == &fpf_binary64 || !mpfr_regular_p(v))
        return mpfr_get_d(v, MPFR_RNDN);
    if (mpfr_get_exp(v) > 1024) /* beyond binary64, so beyond f */
        return mpfr_sgn(v) > 0 ? INFINITY : -INFINITY;
    mpfr_t t;
    mpfr_init2(t, 53);
    int inexact = mpfr_set(t, v, MPFR_RNDZ) != 0;
    double z = mpfr_get_d(t, MPFR_RNDN); /* exact */
    if (inexact && !(dbits(z) & 1))
        z = dfrom(dbits(z) + 1); /* round to odd: one step away from zero */
    double d = ref_round(z, f);
    mpfr_clear(t);
    return d;
}

/* ---------------------------------------------------------------------- */
/* reference operations in doubles: native op, then ref_round (innocuous)  */

static double R(double x, const fpf_format_t *f)
{
    return f == &fpf_binary64 ? x : ref_round(x, f);
}

static double r_add(double a, double b, const fpf_format_t *f) { return R(a + b, f); }
static double r_sub(double a, double b, const fpf_format_t *f) { return R(a - b, f); }
static double r_mul(double a, double b, const fpf_format_t *f) { return R(a * b, f); }
static double r_div(double a, double b, const fpf_format_t *f) { return R(a / b, f); }
static double r_sqrt(double a, const fpf_format_t *f) { return R(sqrt(a), f); }

/* a b + c exactly at 400 bits (the test values are within 300 binades), then once to f */
static double r_fma(double a, double b, double c, const fpf_format_t *f)
{
    if (f == &fpf_binary64)
        return fma(a, b, c);
    mpfr_t t, u;
    mpfr_inits2(400, t, u, (mpfr_ptr)0);
    mpfr_set_d(t, a, MPFR_RNDN);
    mpfr_mul_d(t, t, b, MPFR_RNDN);
    mpfr_set_d(u, c, MPFR_RNDN);
    int inex = mpfr_add(t, t, u, MPFR_RNDN);
    REQUIRE(inex == 0, "reference fma not exact at 400 bits");
    double d = ref_from_mpfr(t, f);
    mpfr_clears(t, u, (mpfr_ptr)0);
    return d;
}

typedef enum { RF_EXP, RF_TANH, RF_ERF, RF_RSQRT2, RF_SQRT_2_PI, RF_C0044715 } rfun_t;

/* A function or constant at 300 bits, then once to f (the 300-bit error can
 * only matter within 2^-290 of a rounding boundary). */
static double r_fun(rfun_t fn, double x, const fpf_format_t *f)
{
    if (isnan(x))
        return x;
    mpfr_t t;
    mpfr_init2(t, 300);
    mpfr_set_d(t, x, MPFR_RNDN);
    switch (fn) {
    case RF_EXP: mpfr_exp(t, t, MPFR_RNDN); break;
    case RF_TANH: mpfr_tanh(t, t, MPFR_RNDN); break;
    case RF_ERF: mpfr_erf(t, t, MPFR_RNDN); break;
    case RF_RSQRT2: mpfr_set_ui(t, 2, MPFR_RNDN); mpfr_rec_sqrt(t, t, MPFR_RNDN); break;
    case RF_SQRT_2_PI:
        mpfr_const_pi(t, MPFR_RNDN);
        mpfr_ui_div(t, 2, t, MPFR_RNDN);
        mpfr_sqrt(t, t, MPFR_RNDN);
        break;
    case RF_C0044715: mpfr_set_str(t, "0.044715", 10, MPFR_RNDN); break;
    }
    double d;
    if (mpfr_regular_p(t) && mpfr_get_exp(t) < -1000) {
        /* below every format's range but binary64's subnormals: round there directly */
        d = f == &fpf_binary64 ? mpfr_get_d(t, MPFR_RNDN) : (mpfr_sgn(t) > 0 ? 0.0 : -0.0);
    } else {
        d = ref_from_mpfr(t, f);
    }
    mpfr_clear(t);
    return d;
}

static double r_sigmoid(double x, const fpf_format_t *f)
{
    return r_div(1.0, r_add(1.0, r_fun(RF_EXP, -x, f), f), f);
}

static double r_act(fpf_act_t act, double x, double a, const fpf_format_t *f)
{
    switch (act) {
    case FPF_ACT_RELU: return isnan(x) || x > 0 ? x : 0.0;
    case FPF_ACT_SIGMOID: return r_sigmoid(x, f);
    case FPF_ACT_SILU_A: return r_mul(x, r_sigmoid(r_mul(a, x, f), f), f);
    case FPF_ACT_GELU: {
        double t = r_fun(RF_ERF, r_mul(x, r_fun(RF_RSQRT2, 0, f), f), f);
        return r_mul(r_mul(0.5, x, f), r_add(1.0, t, f), f);
    }
    case FPF_ACT_GELU_TANH: {
        double x3 = r_mul(r_mul(x, x, f), x, f);
        double in = r_add(x, r_mul(r_fun(RF_C0044715, 0, f), x3, f), f);
        double t = r_fun(RF_TANH, r_mul(r_fun(RF_SQRT_2_PI, 0, f), in, f), f);
        return r_mul(r_mul(0.5, x, f), r_add(1.0, t, f), f);
    }
    }
    return NAN;
}

/* v[0] = pairwise sum of v[0..n) */
static void r_pairwise(double *v, long n, const fpf_format_t *A)
{
    if (n <= 1)
        return;
    long m = n / 2;
    r_pairwise(v, m, A);
    r_pairwise(v + m, n - m, A);
    v[0] = r_add(v[0], v[m], A);
}

/* sum_i x[i*incx] y[i*incy] (y NULL: sum of x) + addend (if has_addend), the stated model */
static double r_dot(const double *x, long incx, const double *y, long incy, long n,
                    int has_addend, double addend, const fpf_arith_t *ar)
{
    const fpf_format_t *A = ar->acc;
    double s = 0.0;
    if (n > 0 && ar->order == FPF_SUM_PAIRWISE) {
        double *v = malloc(sizeof *v * (size_t)n);
        ck_assert_ptr_nonnull(v);
        for (long i = 0; i < n; i++)
            v[i] = y ? r_mul(x[i * incx], y[i * incy], A) : R(x[i * incx], A);
        r_pairwise(v, n, A);
        s = v[0];
        free(v);
    } else if (n > 0) {
        s = y ? r_mul(x[0], y[0], A) : R(x[0], A);
        for (long i = 1; i < n; i++) {
            if (y && ar->order == FPF_SUM_SEQUENTIAL_FMA)
                s = r_fma(x[i * incx], y[i * incy], s, A);
            else
                s = r_add(s, y ? r_mul(x[i * incx], y[i * incy], A) : R(x[i * incx], A), A);
        }
    }
    if (has_addend)
        s = r_add(s, R(addend, A), A);
    return R(s, ar->fmt);
}

static void r_softmax(double *w, const double *s, long n, const fpf_arith_t *ar)
{
    const fpf_format_t *F = ar->fmt;
    double m = s[0];
    for (long i = 1; i < n; i++)
        if (s[i] > m)
            m = s[i];
    for (long i = 0; i < n; i++)
        w[i] = r_fun(RF_EXP, r_sub(s[i], m, F), F);
    double S = r_dot(w, 1, NULL, 0, n, 0, 0, ar);
    for (long i = 0; i < n; i++)
        w[i] = r_div(w[i], S, F);
}

static void r_layernorm(double *y, const double *x, long n, const double *g, const double *b,
                        double eps, const fpf_arith_t *ar)
{
    const fpf_format_t *F = ar->fmt;
    double nn = R((double)n, F);
    double mu = r_div(r_dot(x, 1, NULL, 0, n, 0, 0, ar), nn, F);
    double *c = malloc(sizeof *c * (size_t)n);
    ck_assert_ptr_nonnull(c);
    for (long i = 0; i < n; i++)
        c[i] = r_sub(x[i], mu, F);
    double var = r_div(r_dot(c, 1, c, 1, n, 0, 0, ar), nn, F);
    double sd = r_sqrt(r_add(var, eps, F), F);
    for (long i = 0; i < n; i++)
        y[i] = r_add(r_mul(r_div(c[i], sd, F), g[i], F), b[i], F);
    free(c);
}

/* C (m x p) = A (m x n) B (n x p) + bias (or NULL) */
static void r_matmul(double *C, const double *A, const double *B, const double *bias, long m,
                     long n, long p, const fpf_arith_t *ar)
{
    for (long i = 0; i < m; i++)
        for (long j = 0; j < p; j++)
            C[i * p + j] = r_dot(A + i * n, 1, B + j, p, n, bias != NULL, bias ? bias[j] : 0, ar);
}

/* ---------------------------------------------------------------------- */
/* native comparisons                                                      */

typedef enum { OPK_ADD, OPK_SUB, OPK_MUL, OPK_DIV, OPK_SQRT, OPK_FMA, OPK_N } opk_t;
static const char *const opk_name[] = {"add", "sub", "mul", "div", "sqrt", "fma"};

/* The emulated op on format values a, b, c (as doubles), returned as a double. */
static double emu_op(opk_t op, double a, double b, double c, const fpf_format_t *f)
{
    mpfr_t x, y, z, r;
    fpf_init(x, f);
    fpf_init(y, f);
    fpf_init(z, f);
    fpf_init(r, f);
    REQUIRE(fpf_set_d(x, a, f) == 0 && fpf_set_d(y, b, f) == 0 && fpf_set_d(z, c, f) == 0,
            "operands %a %a %a are not all %s values", a, b, c, f->name);
    switch (op) {
    case OPK_ADD: fpf_add(r, x, y, f); break;
    case OPK_SUB: fpf_sub(r, x, y, f); break;
    case OPK_MUL: fpf_mul(r, x, y, f); break;
    case OPK_DIV: fpf_div(r, x, y, f); break;
    case OPK_SQRT: fpf_sqrt(r, x, f); break;
    case OPK_FMA: fpf_fma(r, x, y, z, f); break;
    case OPK_N: break;
    }
    REQUIRE(fpf_is_member(r, f), "%s result is not a %s value", opk_name[op], f->name);
    double d = mpfr_get_d(r, MPFR_RNDN); /* exact: r is a format value */
    mpfr_clears(x, y, z, r, (mpfr_ptr)0);
    return d;
}

static double native_d(opk_t op, double a, double b, double c)
{
    switch (op) {
    case OPK_ADD: return a + b;
    case OPK_SUB: return a - b;
    case OPK_MUL: return a * b;
    case OPK_DIV: return a / b;
    case OPK_SQRT: return sqrt(a);
    case OPK_FMA: return fma(a, b, c);
    case OPK_N: break;
    }
    return NAN;
}

static float native_f(opk_t op, float a, float b, float c)
{
    switch (op) {
    case OPK_ADD: return a + b;
    case OPK_SUB: return a - b;
    case OPK_MUL: return a * b;
    case OPK_DIV: return a / b;
    case OPK_SQRT: return sqrtf(a);
    case OPK_FMA: return fmaf(a, b, c);
    case OPK_N: break;
    }
    return NAN;
}

/* Operand triples for a format with exponents [emin - p + 1, emax]: random
 * bit patterns, nearby exponents (cancellation), products and quotients that
 * underflow into subnormals or overflow, exact ties, and edge values. */
static void draw_operands(double v[3], gmp_randstate_t st, const fpf_format_t *f,
                          const double *edges, int n_edges)
{
    int p = (int)f->prec, emin = (int)f->emin, emax = (int)f->emax;
    int kind = (int)gmp_urandomm_ui(st, 8);
    for (int k = 0; k < 3; k++) {
        switch (kind) {
        case 0: /* any bits */
            v[k] = f == &fpf_binary64 ? dfrom(rand64(st)) : rand_exp(st, emin - p - 2, emax + 1);
            break;
        case 1: { /* close exponents */
            int e = -8 + (int)gmp_urandomm_ui(st, 17);
            v[k] = rand_exp(st, e - (k ? (int)gmp_urandomm_ui(st, (unsigned long)p + 3) : 0),
                            e + (k ? 1 : 0));
            break;
        }
        case 2: v[k] = rand_exp(st, emin, emax); break;
        case 3: v[k] = rand_exp(st, emin / 2 - p, emin / 2 + 2); break;      /* mul -> subnormal */
        case 4: v[k] = k == 0 ? rand_exp(st, emin - p + 1, emin + 1)          /* div -> subnormal */
                              : rand_exp(st, 0, p);
            break;
        case 5: v[k] = rand_exp(st, emax / 2 - 1, emax / 2 + 2); break;      /* mul -> overflow */
        case 6: /* a + b with b half an ulp of a times an odd number: ties */
            if (k == 1) {
                int e;
                frexp(v[0], &e);
                v[k] = ldexp((double)(1 + 2 * (int)gmp_urandomm_ui(st, 3)), e - 1 - p);
                if (gmp_urandomb_ui(st, 1))
                    v[k] = -v[k];
            } else {
                v[k] = rand_exp(st, -4, 4);
            }
            break;
        default: v[k] = edges[gmp_urandomm_ui(st, (unsigned long)n_edges)]; break;
        }
        v[k] = f == &fpf_binary64 ? v[k] : R(v[k], f); /* a format value */
    }
}

static void check_native(const fpf_format_t *f, unsigned long seed_offset)
{
    int is64 = f == &fpf_binary64;
    const double edges64[] = {0.0, -0.0, DBL_TRUE_MIN, -DBL_TRUE_MIN, DBL_MIN - DBL_TRUE_MIN,
                              DBL_MIN, -DBL_MIN, DBL_MAX, -DBL_MAX, INFINITY, -INFINITY, NAN,
                              1.0, -1.0, 1.0 + DBL_EPSILON, 1.0 - DBL_EPSILON / 2, 0x1p-53,
                              3.0, 0.5, 2.0, 0x1p-1074 * 3, 0x1p1023};
    const double edges32[] = {0.0, -0.0, FLT_TRUE_MIN, -FLT_TRUE_MIN, FLT_MIN - FLT_TRUE_MIN,
                              FLT_MIN, -FLT_MIN, FLT_MAX, -FLT_MAX, INFINITY, -INFINITY, NAN,
                              1.0, -1.0, 1.0 + FLT_EPSILON, 1.0 - FLT_EPSILON / 2, 0x1p-24,
                              3.0, 0.5, 2.0, 0x1p-149 * 3, 0x1p127};
    const double *edges = is64 ? edges64 : edges32;
    int n_edges = (int)(sizeof edges64 / sizeof edges64[0]);
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + seed_offset);
    long reps = test_quick() ? 3000 : 40000;
    long checked = 0;
    int n_ops = native_fma_trusted() ? OPK_N : OPK_FMA;
    /* every pair of edge values, then random triples */
    for (long t = -(long)n_edges * n_edges; t < reps; t++) {
        double v[3];
        if (t < 0) {
            long u = t + (long)n_edges * n_edges;
            v[0] = edges[u / n_edges];
            v[1] = edges[u % n_edges];
            v[2] = edges[(u * 7) % n_edges];
        } else {
            draw_operands(v, st, f, edges, n_edges);
        }
        for (int op = 0; op < n_ops; op++) {
            double want = is64 ? native_d((opk_t)op, v[0], v[1], v[2])
                               : (double)native_f((opk_t)op, (float)v[0], (float)v[1],
                                                  (float)v[2]);
            double got = emu_op((opk_t)op, v[0], v[1], v[2], f);
            REQUIRE(same_d(got, want),
                          "%s %s(%a, %a, %a): emulated %a, native %a (seed %lu)", f->name,
                          opk_name[op], v[0], v[1], v[2], got, want, test_seed());
            checked++;
        }
    }
    ck_assert_int_gt(checked, (long)n_ops * reps);
    gmp_randclear(st);
}

START_TEST(test_binary64_equals_double)
{
    check_native(&fpf_binary64, 11);
}
END_TEST

START_TEST(test_binary32_equals_float)
{
    check_native(&fpf_binary32, 12);
}
END_TEST

/* Sequential and pairwise sums and dot products against native loops. */
static double native_pairwise_d(const double *v, long n)
{
    if (n == 1)
        return v[0];
    long m = n / 2;
    return native_pairwise_d(v, m) + native_pairwise_d(v + m, n - m);
}

static float native_pairwise_f(const float *v, long n)
{
    if (n == 1)
        return v[0];
    long m = n / 2;
    return native_pairwise_f(v, m) + native_pairwise_f(v + m, n - m);
}

START_TEST(test_native_sums_and_dots)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + 13);
    const fpf_arith_t seq64 = {&fpf_binary64, &fpf_binary64, FPF_SUM_SEQUENTIAL};
    const fpf_arith_t seq32 = {&fpf_binary32, &fpf_binary32, FPF_SUM_SEQUENTIAL};
    const fpf_arith_t fma64 = {&fpf_binary64, &fpf_binary64, FPF_SUM_SEQUENTIAL_FMA};
    const fpf_arith_t fma32 = {&fpf_binary32, &fpf_binary32, FPF_SUM_SEQUENTIAL_FMA};
    const fpf_arith_t pw64 = {&fpf_binary64, &fpf_binary64, FPF_SUM_PAIRWISE};
    const fpf_arith_t pw32 = {&fpf_binary32, &fpf_binary32, FPF_SUM_PAIRWISE};
    const fpf_arith_t f32acc64 = {&fpf_binary32, &fpf_binary64, FPF_SUM_SEQUENTIAL};
    int reps = test_quick() ? 40 : 400;
    int fma_ok = native_fma_trusted();
    for (int rep = 0; rep < reps; rep++) {
        long n = 1 + (long)gmp_urandomm_ui(st, 40);
        double xd[40] = {0}, yd[40] = {0}, pd[40];
        float xf[40] = {0}, yf[40] = {0}, pf[40];
        int spread = 1 + (int)gmp_urandomm_ui(st, 60); /* magnitudes: rounding and cancellation */
        mpfr_t r;
        fpf_init(r, &fpf_binary64);
        __mpfr_struct X64[40], Y64[40], X32[40], Y32[40];
        for (long i = 0; i < n; i++) {
            xd[i] = rand_exp(st, -spread, spread);
            yd[i] = rand_exp(st, -spread, spread);
            xf[i] = (float)xd[i];
            yf[i] = (float)yd[i];
            pd[i] = xd[i] * yd[i];
            pf[i] = xf[i] * yf[i];
            fpf_init(X64 + i, &fpf_binary64);
            fpf_init(Y64 + i, &fpf_binary64);
            fpf_init(X32 + i, &fpf_binary32);
            fpf_init(Y32 + i, &fpf_binary32);
            fpf_set_d(X64 + i, xd[i], &fpf_binary64);
            fpf_set_d(Y64 + i, yd[i], &fpf_binary64);
            fpf_set_d(X32 + i, (double)xf[i], &fpf_binary32);
            fpf_set_d(Y32 + i, (double)yf[i], &fpf_binary32);
        }
        /* native, in the stated orders */
        double sd = xd[0], dd = xd[0] * yd[0], fd = xd[0] * yd[0];
        float sf = xf[0], df = xf[0] * yf[0], ff = xf[0] * yf[0];
        double mixed = (double)xf[0] * (double)yf[0];
        for (long i = 1; i < n; i++) {
            sd += xd[i];
            dd += xd[i] * yd[i];
            fd = fma(xd[i], yd[i], fd);
            sf += xf[i];
            df += xf[i] * yf[i];
            ff = fmaf(xf[i], yf[i], ff);
            mixed += (double)xf[i] * (double)yf[i];
        }
        struct {
            const char *what;
            const fpf_arith_t *ar;
            __mpfr_struct *x, *y;
            double want;
        } cases[] = {
            {"sum64", &seq64, X64, NULL, sd},
            {"dot64", &seq64, X64, Y64, dd},
            {"fma-dot64", &fma64, X64, Y64, fd},
            {"pairwise-sum64", &pw64, X64, NULL, native_pairwise_d(xd, n)},
            {"pairwise-dot64", &pw64, X64, Y64, native_pairwise_d(pd, n)},
            {"sum32", &seq32, X32, NULL, (double)sf},
            {"dot32", &seq32, X32, Y32, (double)df},
            {"fma-dot32", &fma32, X32, Y32, (double)ff},
            {"pairwise-sum32", &pw32, X32, NULL, (double)native_pairwise_f(xf, n)},
            {"pairwise-dot32", &pw32, X32, Y32, (double)native_pairwise_f(pf, n)},
            {"dot32-acc64", &f32acc64, X32, Y32, (double)(float)mixed},
        };
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            if (cases[c].ar->order == FPF_SUM_SEQUENTIAL_FMA && !fma_ok)
                continue;
            int rc = cases[c].y ? fpf_dot(r, cases[c].x, 1, cases[c].y, 1, n, NULL, cases[c].ar)
                                : fpf_sum(r, cases[c].x, 1, n, cases[c].ar);
            ck_assert_int_eq(rc, 0);
            double got = mpfr_get_d(r, MPFR_RNDN);
            REQUIRE(same_d(got, cases[c].want), "%s of %ld terms: emulated %a, native %a "
                          "(seed %lu)", cases[c].what, n, got, cases[c].want, test_seed());
        }
        for (long i = 0; i < n; i++)
            mpfr_clears(X64 + i, Y64 + i, X32 + i, Y32 + i, (mpfr_ptr)0);
        mpfr_clear(r);
    }
    gmp_randclear(st);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* 16-bit formats                                                          */

/* The reference rounding itself, against the hardware's double -> float
 * conversion and (where GCC has it) libgcc's double -> _Float16. */
START_TEST(test_ref_round_against_hardware)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + 14);
    long reps = test_quick() ? 20000 : 400000;
    for (long t = 0; t < reps; t++) {
        double x = t % 3 ? rand_exp(st, -160, 130) : dfrom(rand64(st));
        if (t % 5 == 0) /* ties and near-ties of binary32 */
            x = dfrom((dbits(x) & ~((1ULL << 29) - 1)) | (1ULL << 28) |
                     (unsigned long long)(t % 2)); /* t >= 0 */
        double want = (double)(float)x;
        REQUIRE(same_d(ref_round(x, &fpf_binary32), want), "ref_round binary32 %a", x);
#ifdef __FLT16_MAX__
        double y = t % 3 ? rand_exp(st, -27, 17) : x;
        if (t % 5 == 0)
            y = dfrom((dbits(y) & ~((1ULL << 42) - 1)) | (1ULL << 41) |
                     (unsigned long long)(t % 2)); /* t >= 0 */
        REQUIRE(same_d(ref_round(y, &fpf_binary16), (double)(_Float16)y),
                      "ref_round binary16 %a", y);
#endif
    }
    /* encode and decode are inverse on all 2^16 patterns */
    const fpf_format_t *f16[2] = {&fpf_binary16, &fpf_bfloat16};
    for (int k = 0; k < 2; k++)
        for (unsigned b = 0; b < 65536; b++) {
            double v = ref_decode16(b, f16[k]);
            if (!isnan(v)) {
                REQUIRE(ref_encode16(v, f16[k]) == b && same_d(ref_round(v, f16[k]), v),
                        "%s pattern %04x: decode, encode and round disagree", f16[k]->name, b);
            }
        }
    gmp_randclear(st);
}
END_TEST

static double draw16(gmp_randstate_t st, const fpf_format_t *f)
{
    unsigned k = (unsigned)gmp_urandomm_ui(st, 4);
    if (k == 0) /* near 1: cancellation and ties */
        return ref_decode16((f == &fpf_binary16 ? 0x3c00u : 0x3f80u) ^
                                (unsigned)gmp_urandomb_ui(st, 10), f);
    return ref_decode16((unsigned)gmp_urandomb_ui(st, 16), f);
}

START_TEST(test_16bit_ops_against_double)
{
    const fpf_format_t *fs[3] = {&fpf_binary16, &fpf_bfloat16, &fpf_binary32};
    /* sqrt and exp of every 16-bit pattern */
    for (int k = 0; k < 2; k++)
        for (unsigned bits = 0; bits < 65536; bits++) {
            double a = ref_decode16(bits, fs[k]);
            double got = emu_op(OPK_SQRT, a, 0, 0, fs[k]);
            REQUIRE(same_d(got, R(sqrt(a), fs[k])), "%s sqrt(%a): emulated %a", fs[k]->name, a,
                    got);
            mpfr_t x, r;
            fpf_init(x, fs[k]);
            fpf_init(r, fs[k]);
            fpf_set_d(x, a, fs[k]);
            fpf_exp(r, x, fs[k]);
            REQUIRE(same_d(mpfr_get_d(r, MPFR_RNDN), r_fun(RF_EXP, a, fs[k])),
                    "%s exp(%a): emulated %a", fs[k]->name, a, mpfr_get_d(r, MPFR_RNDN));
            mpfr_clears(x, r, (mpfr_ptr)0);
        }
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + 15);
    long reps = test_quick() ? 4000 : 60000;
    for (int k = 0; k < 3; k++) {
        const fpf_format_t *f = fs[k];
        for (long t = 0; t < reps; t++) {
            double a, b;
            if (f == &fpf_binary32) {
                a = R(rand_exp(st, -150, 128), f);
                b = R(rand_exp(st, -150, 128), f);
            } else {
                a = draw16(st, f);
                b = draw16(st, f);
            }
            for (int op = OPK_ADD; op <= OPK_SQRT; op++) {
                double want = R(native_d((opk_t)op, a, b, 0), f);
                double got = emu_op((opk_t)op, a, b, 0, f);
                REQUIRE(same_d(got, want), "%s %s(%a, %a): emulated %a, double+round %a",
                              f->name, opk_name[op], a, b, got, want);
#ifdef __FLT16_MAX__
                if (f == &fpf_binary16) {
                    _Float16 ha = (_Float16)a, hb = (_Float16)b, hr = 0;
                    switch (op) {
                    case OPK_ADD: hr = ha + hb; break;
                    case OPK_SUB: hr = ha - hb; break;
                    case OPK_MUL: hr = ha * hb; break;
                    case OPK_DIV: hr = ha / hb; break;
                    default: hr = (_Float16)sqrtf((float)ha); break;
                    }
                    REQUIRE(same_d(got, (double)hr), "binary16 %s(%a, %a): emulated %a, "
                                  "_Float16 %a", opk_name[op], a, b, got, (double)hr);
                }
#endif
            }
        }
    }
    gmp_randclear(st);
}
END_TEST

/* Run /usr/bin/python3 tests/fpf_oracle.py with argv; its exit status, or -1. */
static int run_oracle(const char *mode, const char *in, const char *out)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        char *const argv[] = {"python3", "tests/fpf_oracle.py", (char *)mode, (char *)in,
                              (char *)out, NULL};
        execv("/usr/bin/python3", argv);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Cases written to a file, computed by numpy float16 or torch bfloat16. */
static void check_python_oracle(const char *mode, const fpf_format_t *f, unsigned long seed_off)
{
    if (access("/usr/bin/python3", X_OK) != 0) {
        fprintf(stderr, "fpformat: %s comparison skipped: no /usr/bin/python3\n", mode);
        return;
    }
    char dir[512], in[600], out[600];
    test_tmpdir_make(dir, sizeof dir, "attncheck-fpf");
    snprintf(in, sizeof in, "%s/cases", dir);
    snprintf(out, sizeof out, "%s/results", dir);
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + seed_off);
    long n = test_quick() ? 2000 : 20000;
    unsigned *ab = malloc(sizeof *ab * 2 * (size_t)n);
    ck_assert_ptr_nonnull(ab);
    FILE *fp = fopen(in, "w");
    ck_assert_ptr_nonnull(fp);
    for (long t = 0; t < n; t++) {
        ab[2 * t] = ref_encode16(draw16(st, f), f);
        ab[2 * t + 1] = ref_encode16(draw16(st, f), f);
        fprintf(fp, "%04x %04x\n", ab[2 * t], ab[2 * t + 1]);
    }
    ck_assert_int_eq(fclose(fp), 0);
    int rc = run_oracle(mode, in, out);
    if (rc == 77) {
        fprintf(stderr, "fpformat: %s comparison skipped (module not installed)\n", mode);
    } else {
        ck_assert_msg(rc == 0, "tests/fpf_oracle.py %s failed (exit %d)", mode, rc);
        fp = fopen(out, "r");
        ck_assert_ptr_nonnull(fp);
        long compared = 0;
        for (long t = 0; t < n; t++) {
            double a = ref_decode16(ab[2 * t], f), b = ref_decode16(ab[2 * t + 1], f);
            for (int op = OPK_ADD; op <= OPK_SQRT; op++) {
                unsigned want;
                REQUIRE(fscanf(fp, "%x", &want) == 1, "%s: short results file", mode);
                double got = emu_op((opk_t)op, a, b, 0, f);
                double w = ref_decode16(want, f);
                REQUIRE(same_d(got, w), "%s %s(%a, %a): emulated %a (%04x), %s %a (%04x)",
                              f->name, opk_name[op], a, b, got,
                              isnan(got) ? 0x7fffu : ref_encode16(got, f), mode, w, want);
                compared++;
            }
        }
        fclose(fp);
        ck_assert_int_eq(compared, 5 * n);
    }
    test_tmpdir_remove(dir);
    free(ab);
    gmp_randclear(st);
}

START_TEST(test_binary16_against_numpy)
{
    check_python_oracle("numpy-float16", &fpf_binary16, 16);
}
END_TEST

START_TEST(test_bfloat16_against_torch)
{
    check_python_oracle("torch-bfloat16", &fpf_bfloat16, 17);
}
END_TEST

/* Values worked out by hand from the formats' definitions.  Near 2000 (in
 * [1024, 2048)) bfloat16 (8 bits) has spacing 2^(10-7) = 8 and binary16
 * (11 bits) 2^(10-10) = 1; in [2048, 4096) they are 16 and 2. */
START_TEST(test_worked_examples)
{
    static const struct {
        const fpf_format_t *f;
        const char *op, *a, *b, *want;
    } ex[] = {
        /* bfloat16: 2000 = 250 * 8 is a value; 2000 + z with |z| < 4 is 2000 */
        {&fpf_bfloat16, "add", "2000", "3.5", "2000"},
        {&fpf_bfloat16, "add", "2000", "-3.5", "2000"},
        {&fpf_bfloat16, "add", "2000", "4", "2000"},   /* tie: 250 even beats 251 */
        {&fpf_bfloat16, "add", "2000", "4.5", "2008"},
        {&fpf_bfloat16, "add", "2000", "12", "2016"},  /* tie 2008 (251) / 2016 (252) */
        {&fpf_bfloat16, "add", "2048", "8", "2048"},   /* tie at spacing 16: 128 even */
        {&fpf_bfloat16, "add", "2048", "9", "2064"},
        {&fpf_bfloat16, "add", "1", "0.00390625", "1"},          /* 1 + 2^-8: tie, 1 even */
        {&fpf_bfloat16, "add", "1", "0.01171875", "1.015625"},   /* 1 + 3 2^-8 -> 1 + 2^-6 */
        /* binary16: spacing 1 below 2048, 2 above */
        {&fpf_binary16, "add", "2000", "0.5", "2000"},  /* tie, 2000 even */
        {&fpf_binary16, "add", "2001", "0.5", "2002"},  /* tie, 2002 even */
        {&fpf_binary16, "add", "2000", "0.75", "2001"},
        {&fpf_binary16, "add", "2048", "1", "2048"},    /* tie: 1024 even */
        {&fpf_binary16, "add", "2050", "1", "2052"},    /* tie: 1026 even */
        /* binary16 overflow: max 65504 = 2047 * 32; 65504 + 16 is the tie with 2^16 */
        {&fpf_binary16, "add", "65504", "8", "65504"},
        {&fpf_binary16, "add", "65504", "16", "inf"},
        {&fpf_binary16, "mul", "-65504", "2", "-inf"},
        /* binary16 subnormals: 2^-24 is the smallest */
        {&fpf_binary16, "mul", "5.9604644775390625e-8", "0.5", "0"},      /* tie, 0 even */
        {&fpf_binary16, "mul", "-5.9604644775390625e-8", "0.5", "-0"},
        {&fpf_binary16, "mul", "5.9604644775390625e-8", "1.5", "1.1920928955078125e-7"},
        {&fpf_binary16, "mul", "6.103515625e-5", "0.5", "3.0517578125e-5"}, /* 2^-14 / 2 exact */
        /* signed zeros */
        {&fpf_bfloat16, "add", "-0", "0", "0"},
        {&fpf_bfloat16, "add", "-0", "-0", "-0"},
        {&fpf_bfloat16, "sqrt", "-0", "0", "-0"},
        {&fpf_binary16, "div", "1", "-0", "-inf"},
        /* exp in binary16: exp(-17) = 4.14e-8 is closer to 2^-24 = 5.96e-8 than to 0 */
        {&fpf_binary16, "exp", "-17", "0", "5.9604644775390625e-8"},
        {&fpf_binary16, "exp", "-18", "0", "0"},       /* 1.52e-8 < 2^-25 */
        {&fpf_binary16, "exp", "12", "0", "inf"},      /* 162755 > 65520 */
        {&fpf_bfloat16, "exp", "0", "0", "1"},
    };
    for (size_t k = 0; k < sizeof ex / sizeof ex[0]; k++) {
        const fpf_format_t *f = ex[k].f;
        mpfr_t a, b, r, w;
        fpf_init(a, f);
        fpf_init(b, f);
        fpf_init(r, f);
        fpf_init(w, f);
        ck_assert_int_eq(fpf_set_str(a, ex[k].a, f), 0);
        ck_assert_int_eq(fpf_set_str(b, ex[k].b, f), 0);
        ck_assert_int_eq(fpf_set_str(w, ex[k].want, f), 0);
        if (strcmp(ex[k].op, "add") == 0)
            fpf_add(r, a, b, f);
        else if (strcmp(ex[k].op, "mul") == 0)
            fpf_mul(r, a, b, f);
        else if (strcmp(ex[k].op, "div") == 0)
            fpf_div(r, a, b, f);
        else if (strcmp(ex[k].op, "sqrt") == 0)
            fpf_sqrt(r, a, f);
        else
            fpf_exp(r, a, f);
        ck_assert_msg(mpfr_equal_p(r, w) && mpfr_signbit(r) == mpfr_signbit(w),
                      "%s %s(%s, %s) = %a, expected %s", f->name, ex[k].op, ex[k].a, ex[k].b,
                      mpfr_get_d(r, MPFR_RNDN), ex[k].want);
        mpfr_clears(a, b, r, w, (mpfr_ptr)0);
    }
    /* the statement: every bfloat16 z with |z| < 4 vanishes in 2000 + z */
    mpfr_t z, s, two_omega;
    fpf_init(z, &fpf_bfloat16);
    fpf_init(s, &fpf_bfloat16);
    fpf_init(two_omega, &fpf_bfloat16);
    fpf_set_si(two_omega, 2000, &fpf_bfloat16);
    for (unsigned bits = 0; bits < 65536; bits++) {
        double zd = ref_decode16(bits, &fpf_bfloat16);
        if (isnan(zd) || fabs(zd) >= 4)
            continue;
        fpf_set_d(z, zd, &fpf_bfloat16);
        fpf_add(s, two_omega, z, &fpf_bfloat16);
        REQUIRE(mpfr_cmp_ui(s, 2000) == 0, "bfloat16 2000 + %a is not 2000", zd);
    }
    mpfr_clears(z, s, two_omega, (mpfr_ptr)0);
    /* names */
    ck_assert_ptr_eq(fpf_format_find("bf16"), &fpf_bfloat16);
    ck_assert_ptr_eq(fpf_format_find("fp16"), &fpf_binary16);
    ck_assert_ptr_eq(fpf_format_find("float32"), &fpf_binary32);
    ck_assert_ptr_eq(fpf_format_find("binary64"), &fpf_binary64);
    ck_assert_ptr_null(fpf_format_find("binary8"));
    ck_assert_ptr_null(fpf_format_find(NULL));
    fpf_order_t o;
    ck_assert_int_eq(fpf_order_find(&o, "pairwise"), 0);
    ck_assert_int_eq(o, FPF_SUM_PAIRWISE);
    ck_assert_str_eq(fpf_order_name(FPF_SUM_SEQUENTIAL_FMA), "sequential-fma");
    ck_assert_int_eq(fpf_order_find(&o, "random"), -1);
    mpfr_t x;
    fpf_init(x, &fpf_binary16);
    ck_assert_int_eq(fpf_set_str(x, "1.5x", &fpf_binary16), -2);
    ck_assert_int_eq(fpf_set_str(x, "", &fpf_binary16), -2);
    mpfr_clear(x);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* MPFR's global state                                                     */

START_TEST(test_global_state_restored)
{
    ck_assert_msg(mpfr_buildopt_tls_p(), "this MPFR keeps its exponent range per process, not "
                  "per thread: the runner's threads would race on it");
    const fpf_format_t *f = &fpf_binary16;
    const fpf_arith_t ar = {f, &fpf_binary32, FPF_SUM_PAIRWISE};
    mpfr_exp_t emin0 = mpfr_get_emin(), emax0 = mpfr_get_emax();
    /* an unusual caller state: any change shows */
    ck_assert(mpfr_set_emin(-4321) == 0 && mpfr_set_emax(1234) == 0);
    mpfr_flags_clear(MPFR_FLAGS_ALL);
    mpfr_flags_set(MPFR_FLAGS_DIVBY0);
    mpfr_t a, b, c, r;
    fpf_init(a, f);
    fpf_init(b, f);
    fpf_init(c, f);
    fpf_init(r, f);
    fpf_set_str(a, "40000", f);
    fpf_set_str(b, "3", f);
    fpf_set_str(c, "1e-7", f);
    fpf_mat_t X, Y, Y2;
    fpf_head_t h;
    fpf_mlp_t m;
    fpf_mask_t M;
    __mpfr_struct v[3] = {a[0], b[0], c[0]}; /* shallow views, not cleared */
    __mpfr_struct w[3];
    for (int k = 0; k < 3; k++)
        fpf_init(w + k, f);
    ck_assert_int_eq(fpf_mat_init(X, 3, 2, f), 0);
    ck_assert_int_eq(fpf_mat_init(Y, 3, 2, f), 0);
    ck_assert_int_eq(fpf_mat_init(Y2, 3, 2, f), 0);
    ck_assert_int_eq(fpf_head_init(h, 2, 1, f), 0);
    ck_assert_int_eq(fpf_mlp_init(m, 2, 3, f), 0);
    ck_assert_int_eq(fpf_mask_init_causal(&M, 3), 0);
    const double xs[6] = {0.3, -1.7, 2.5, 0.125, -3, 7e-6};
#define STATE_KEPT(call)                                                                       \
    do {                                                                                       \
        call;                                                                                  \
        ck_assert_msg(mpfr_get_emin() == -4321 && mpfr_get_emax() == 1234 &&                   \
                          mpfr_flags_save() == MPFR_FLAGS_DIVBY0,                              \
                      "%s changed MPFR's global state", #call);                                \
    } while (0)
    STATE_KEPT(fpf_set_d(r, 1e300, f));
    /* NaN raises MPFR's NaN flag, comparisons with it the erange flag */
    mpfr_t nan;
    fpf_init(nan, f);
    STATE_KEPT(fpf_set_d(nan, NAN, f));
    STATE_KEPT(fpf_sigmoid(r, nan, f));
    STATE_KEPT(fpf_relu(r, nan, f));
    STATE_KEPT(fpf_silu_a(r, nan, nan, f));
    STATE_KEPT(fpf_gelu(r, nan, f));
    STATE_KEPT(fpf_is_member(nan, f));
    __mpfr_struct vn[2] = {b[0], nan[0]}; /* shallow views, not cleared */
    STATE_KEPT(ck_assert_int_eq(fpf_softmax(w, vn, 2, &ar), 0));
    STATE_KEPT(ck_assert_int_eq(fpf_layernorm(w, vn, 2, NULL, NULL, c, &ar), 0));
    mpfr_clear(nan);
    STATE_KEPT(fpf_set_si(r, -70000, f));
    STATE_KEPT(fpf_set_str(r, "1e-9", f));
    STATE_KEPT(fpf_set_fr(r, a, &fpf_bfloat16));
    STATE_KEPT(fpf_is_member(a, &fpf_bfloat16));
    STATE_KEPT(fpf_add(r, a, a, f));  /* overflow */
    STATE_KEPT(fpf_sub(r, b, a, f));
    STATE_KEPT(fpf_mul(r, c, c, f));  /* underflow */
    STATE_KEPT(fpf_div(r, b, c, f));  /* overflow */
    STATE_KEPT(fpf_div(r, b, r, f));
    STATE_KEPT(fpf_fma(r, a, b, c, f));
    STATE_KEPT(fpf_sqrt(r, b, f));
    STATE_KEPT(fpf_exp(r, a, f));
    STATE_KEPT(fpf_tanh(r, b, f));
    STATE_KEPT(fpf_erf(r, c, f));
    STATE_KEPT(fpf_sigmoid(r, b, f));
    STATE_KEPT(fpf_silu_a(r, b, b, f));
    STATE_KEPT(fpf_relu(r, b, f));
    STATE_KEPT(fpf_gelu(r, b, f));
    STATE_KEPT(fpf_gelu_tanh(r, b, f));
    STATE_KEPT(fpf_act_apply(r, c, FPF_ACT_GELU_TANH, b, f));
    STATE_KEPT(ck_assert_int_eq(fpf_sum(r, v, 1, 3, &ar), 0));
    STATE_KEPT(ck_assert_int_eq(fpf_dot(r, v, 1, v, 1, 3, b, &ar), 0));
    STATE_KEPT(ck_assert_int_eq(fpf_softmax(w, v, 3, &ar), 0));
    STATE_KEPT(ck_assert_int_eq(fpf_layernorm(w, v, 3, v, v, c, &ar), 0));
    STATE_KEPT(fpf_mat_set_d(X, xs));
    STATE_KEPT(fpf_mat_set(Y, X));
    STATE_KEPT(fpf_mat_add(Y, X, X));
    STATE_KEPT(fpf_mat_set_d(h->W_Q, xs));
    STATE_KEPT(fpf_mat_set_d(h->W_K, xs + 2));
    STATE_KEPT(fpf_mat_set_d(h->W_V, xs + 1));
    STATE_KEPT(fpf_mat_set_d(h->W_O, xs + 3));
    STATE_KEPT(ck_assert_int_eq(fpf_head_apply(Y, h, X, &M, &ar), 0));
    STATE_KEPT(fpf_mat_set_d(m->W_in, xs));
    STATE_KEPT(fpf_mat_set_d(m->W_out, xs));
    STATE_KEPT(ck_assert_int_eq(fpf_mlp_apply(Y2, m, X, &ar), 0));
#undef STATE_KEPT
    /* and the results do not depend on the caller's range */
    mpfr_set_emin(emin0);
    mpfr_set_emax(emax0);
    fpf_mat_t Yd;
    ck_assert_int_eq(fpf_mat_init(Yd, 3, 2, f), 0);
    ck_assert_int_eq(fpf_head_apply(Yd, h, X, &M, &ar), 0);
    for (long k = 0; k < 6; k++)
        ck_assert(mpfr_equal_p(Yd->e + k, Y->e + k) ||
                  (mpfr_nan_p(Yd->e + k) && mpfr_nan_p(Y->e + k)));
    fpf_mat_clear(Yd);
    mpfr_flags_clear(MPFR_FLAGS_ALL);
    for (int k = 0; k < 3; k++)
        mpfr_clear(w + k);
    mpfr_clears(a, b, c, r, (mpfr_ptr)0);
    fpf_mat_clear(X);
    fpf_mat_clear(Y);
    fpf_mat_clear(Y2);
    fpf_head_clear(h);
    fpf_mlp_clear(m);
    fpf_mask_clear(&M);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* forward passes against the reference in doubles                        */

static const fpf_format_t *const all_formats[4] = {&fpf_binary64, &fpf_binary32, &fpf_bfloat16,
                                                   &fpf_binary16};

/* The loop index _i picks a format and an accumulation model. */
static fpf_arith_t arith_of(int i)
{
    fpf_arith_t ar;
    ar.fmt = all_formats[i % 4];
    int mode = (i / 4) % 4;
    /* mode 3: binary32 accumulation for the 16-bit formats (tensor cores),
     * binary64 for binary32 (exact products), none wider for binary64 */
    ar.acc = mode != 3 ? ar.fmt
           : ar.fmt->prec < 24 ? &fpf_binary32 : &fpf_binary64;
    ar.order = mode == 1 ? FPF_SUM_PAIRWISE
             : mode == 2 ? FPF_SUM_SEQUENTIAL_FMA : FPF_SUM_SEQUENTIAL;
    return ar;
}

static void fill_random(double *v, long n, gmp_randstate_t st, int elo, int ehi)
{
    for (long k = 0; k < n; k++)
        v[k] = rand_exp(st, elo, ehi);
}

/* Y (rows x cols) equals the reference yr entry for entry, bit for bit. */
static void assert_matches(const __mpfr_struct *Y, const double *yr, long n, const char *what,
                           const fpf_arith_t *ar)
{
    for (long k = 0; k < n; k++) {
        double got = mpfr_get_d(Y + k, MPFR_RNDN);
        REQUIRE(fpf_is_member(Y + k, ar->fmt), "%s: entry %ld is not a %s value", what, k,
                      ar->fmt->name);
        REQUIRE(same_d(got, yr[k]), "%s in %s (acc %s, %s), entry %ld: emulated %a, "
                      "reference %a (seed %lu)", what, ar->fmt->name, ar->acc->name,
                      fpf_order_name(ar->order), k, got, yr[k], test_seed());
    }
}

START_TEST(test_elementwise_against_reference)
{
    fpf_arith_t ar = arith_of(_i);
    const fpf_format_t *f = ar.fmt;
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + 100u + (unsigned long)_i);
    const fpf_act_t acts[5] = {FPF_ACT_RELU, FPF_ACT_SILU_A, FPF_ACT_GELU, FPF_ACT_GELU_TANH,
                               FPF_ACT_SIGMOID};
    mpfr_t x, a, r;
    fpf_init(x, f);
    fpf_init(a, f);
    fpf_init(r, f);
    int reps = test_quick() ? 30 : 300;
    for (int t = 0; t < reps; t++) {
        double xd = R(rand_exp(st, -12, 4), f), ad = R(rand_exp(st, -3, 3), f);
        if (ad < 0)
            ad = -ad;
        fpf_set_d(x, xd, f);
        fpf_set_d(a, ad, f);
        for (int k = 0; k < 5; k++) {
            fpf_act_apply(r, x, acts[k], a, f);
            double want = r_act(acts[k], xd, ad, f);
            REQUIRE(same_d(mpfr_get_d(r, MPFR_RNDN), want),
                          "%s activation %d at %a (a %a): emulated %a, reference %a", f->name, k,
                          xd, ad, mpfr_get_d(r, MPFR_RNDN), want);
        }
    }
    /* softmax and LayerNorm of random rows */
    for (int t = 0; t < reps / 3; t++) {
        long n = 1 + (long)gmp_urandomm_ui(st, 9);
        double s[9], g[9], b[9], w[9];
        fill_random(s, n, st, -2, 5);
        fill_random(g, n, st, -2, 1);
        fill_random(b, n, st, -4, 0);
        __mpfr_struct S[9], G[9], B[9], W[9];
        for (long k = 0; k < n; k++) {
            s[k] = R(s[k], f);
            g[k] = R(g[k], f);
            b[k] = R(b[k], f);
            fpf_init(S + k, f);
            fpf_init(G + k, f);
            fpf_init(B + k, f);
            fpf_init(W + k, f);
            fpf_set_d(S + k, s[k], f);
            fpf_set_d(G + k, g[k], f);
            fpf_set_d(B + k, b[k], f);
        }
        ck_assert_int_eq(fpf_softmax(W, S, n, &ar), 0);
        r_softmax(w, s, n, &ar);
        assert_matches(W, w, n, "softmax", &ar);
        mpfr_t eps;
        fpf_init(eps, f);
        fpf_set_d(eps, 1e-5, f);
        ck_assert_int_eq(fpf_layernorm(W, S, n, G, B, eps, &ar), 0);
        r_layernorm(w, s, n, g, b, R(1e-5, f), &ar);
        assert_matches(W, w, n, "layernorm", &ar);
        mpfr_clear(eps);
        for (long k = 0; k < n; k++)
            mpfr_clears(S + k, G + k, B + k, W + k, (mpfr_ptr)0);
    }
    mpfr_clears(x, a, r, (mpfr_ptr)0);
    gmp_randclear(st);
}
END_TEST

/* One random head instance in doubles (N tokens, width D, internal r). */
typedef struct {
    long N, D, r;
    double X[6 * 5], WQ[5 * 3], WK[5 * 3], WV[5 * 3], WO[3 * 5];
    double bQ[3], bK[3], bV[3], bO[5], scale;
    int has_bias, causal;
} head_case_t;

static void head_case_draw(head_case_t *c, gmp_randstate_t st)
{
    c->N = 2 + (long)gmp_urandomm_ui(st, 5);
    c->D = 1 + (long)gmp_urandomm_ui(st, 5);
    c->r = 1 + (long)gmp_urandomm_ui(st, 3);
    fill_random(c->X, c->N * c->D, st, -3, 1);
    fill_random(c->WQ, c->D * c->r, st, -3, 1);
    fill_random(c->WK, c->D * c->r, st, -3, 1);
    fill_random(c->WV, c->D * c->r, st, -3, 1);
    fill_random(c->WO, c->r * c->D, st, -3, 1);
    fill_random(c->bQ, c->r, st, -4, 0);
    fill_random(c->bK, c->r, st, -4, 0);
    fill_random(c->bV, c->r, st, -4, 0);
    fill_random(c->bO, c->D, st, -4, 0);
    c->scale = fabs(rand_exp(st, -2, 1));
    c->has_bias = (int)gmp_urandomb_ui(st, 1);
    c->causal = (int)gmp_urandomb_ui(st, 1);
}

/* The head in the library, in ar's model; Y is N x D in ar->fmt. */
static void head_case_run(fpf_mat_t Y, const head_case_t *c, const fpf_arith_t *ar)
{
    const fpf_format_t *f = ar->fmt;
    fpf_head_t h;
    fpf_mat_t X;
    fpf_mask_t M;
    ck_assert_int_eq(fpf_head_init(h, c->D, c->r, f), 0);
    ck_assert_int_eq(fpf_mat_init(X, c->N, c->D, f), 0);
    ck_assert_int_eq(fpf_mat_init(Y, c->N, c->D, f), 0);
    ck_assert_int_eq(c->causal ? fpf_mask_init_causal(&M, c->N)
                               : fpf_mask_init_self_bias(&M, c->N), 0);
    fpf_mat_set_d(X, c->X);
    fpf_mat_set_d(h->W_Q, c->WQ);
    fpf_mat_set_d(h->W_K, c->WK);
    fpf_mat_set_d(h->W_V, c->WV);
    fpf_mat_set_d(h->W_O, c->WO);
    fpf_mat_set_d(h->b_Q, c->bQ);
    fpf_mat_set_d(h->b_K, c->bK);
    fpf_mat_set_d(h->b_V, c->bV);
    fpf_mat_set_d(h->b_O, c->bO);
    fpf_set_d(h->scale, c->scale, f);
    h->has_bias = c->has_bias;
    ck_assert_int_eq(fpf_head_apply(Y, h, X, &M, ar), 0);
    fpf_mask_clear(&M);
    fpf_mat_clear(X);
    fpf_head_clear(h);
}

/* The head in the reference, written out in doubles. */
static void head_case_ref(double *Y, const head_case_t *c, const fpf_arith_t *ar)
{
    const fpf_format_t *f = ar->fmt;
    long N = c->N, D = c->D, r = c->r;
    double X[30], WQ[15], WK[15], WV[15], WO[15], bQ[3], bK[3], bV[3], bO[5];
    double Q[18], K[18], V[18], Z[18], s[6], w[6], vv[6];
    for (long k = 0; k < N * D; k++)
        X[k] = R(c->X[k], f);
    for (long k = 0; k < D * r; k++) {
        WQ[k] = R(c->WQ[k], f);
        WK[k] = R(c->WK[k], f);
        WV[k] = R(c->WV[k], f);
        WO[k] = R(c->WO[k], f);
    }
    for (long k = 0; k < r; k++) {
        bQ[k] = R(c->bQ[k], f);
        bK[k] = R(c->bK[k], f);
        bV[k] = R(c->bV[k], f);
    }
    for (long k = 0; k < D; k++)
        bO[k] = R(c->bO[k], f);
    double scale = R(c->scale, f);
    r_matmul(Q, X, WQ, c->has_bias ? bQ : NULL, N, D, r, ar);
    r_matmul(K, X, WK, c->has_bias ? bK : NULL, N, D, r, ar);
    r_matmul(V, X, WV, c->has_bias ? bV : NULL, N, D, r, ar);
    for (long i = 0; i < N; i++) {
        long keys[6], nk = 0;
        for (long j = 0; j < N; j++) /* ascending keys: causal j <= i; mask B: j = 0 or i */
            if (c->causal ? j <= i : (j == 0 || j == i))
                keys[nk++] = j;
        for (long t = 0; t < nk; t++)
            s[t] = r_mul(r_dot(Q + i * r, 1, K + keys[t] * r, 1, r, 0, 0, ar), scale, f);
        r_softmax(w, s, nk, ar);
        for (long ch = 0; ch < r; ch++) {
            for (long t = 0; t < nk; t++)
                vv[t] = V[keys[t] * r + ch];
            Z[i * r + ch] = r_dot(w, 1, vv, 1, nk, 0, 0, ar);
        }
    }
    r_matmul(Y, Z, WO, c->has_bias ? bO : NULL, N, r, D, ar);
}

START_TEST(test_head_against_reference)
{
    fpf_arith_t ar = arith_of(_i);
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + 200u + (unsigned long)_i);
    int reps = test_quick() ? 4 : 25;
    for (int t = 0; t < reps; t++) {
        head_case_t c;
        head_case_draw(&c, st);
        fpf_mat_t Y;
        double yr[30];
        head_case_run(Y, &c, &ar);
        head_case_ref(yr, &c, &ar);
        assert_matches(Y->e, yr, c.N * c.D, "head", &ar);
        fpf_mat_clear(Y);
    }
    gmp_randclear(st);
}
END_TEST

START_TEST(test_mlp_against_reference)
{
    fpf_arith_t ar = arith_of(_i);
    const fpf_format_t *f = ar.fmt;
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + 300u + (unsigned long)_i);
    int reps = test_quick() ? 4 : 25;
    for (int t = 0; t < reps; t++) {
        long N = 1 + (long)gmp_urandomm_ui(st, 4), d = 1 + (long)gmp_urandomm_ui(st, 4),
             l = 1 + (long)gmp_urandomm_ui(st, 6);
        double X[16], Win[24], Wout[24], bin[6], bout[4], H[24], Y[16];
        fill_random(X, N * d, st, -3, 1);
        fill_random(Win, d * l, st, -3, 1);
        fill_random(Wout, l * d, st, -3, 1);
        fill_random(bin, l, st, -4, 0);
        fill_random(bout, d, st, -4, 0);
        fpf_act_t act = (fpf_act_t)gmp_urandomm_ui(st, 5);
        double a = R(fabs(rand_exp(st, -1, 2)), f);
        int has_bias = (int)gmp_urandomb_ui(st, 1);
        fpf_mlp_t m;
        fpf_mat_t Xm, Ym;
        ck_assert_int_eq(fpf_mlp_init(m, d, l, f), 0);
        ck_assert_int_eq(fpf_mat_init(Xm, N, d, f), 0);
        ck_assert_int_eq(fpf_mat_init(Ym, N, d, f), 0);
        fpf_mat_set_d(Xm, X);
        fpf_mat_set_d(m->W_in, Win);
        fpf_mat_set_d(m->W_out, Wout);
        fpf_mat_set_d(m->b_in, bin);
        fpf_mat_set_d(m->b_out, bout);
        m->has_bias = has_bias;
        m->act = act;
        fpf_set_d(m->a, a, f);
        ck_assert_int_eq(fpf_mlp_apply(Ym, m, Xm, &ar), 0);
        /* reference */
        for (long k = 0; k < N * d; k++)
            X[k] = R(X[k], f);
        for (long k = 0; k < d * l; k++) {
            Win[k] = R(Win[k], f);
            Wout[k] = R(Wout[k], f);
        }
        for (long k = 0; k < l; k++)
            bin[k] = R(bin[k], f);
        for (long k = 0; k < d; k++)
            bout[k] = R(bout[k], f);
        r_matmul(H, X, Win, has_bias ? bin : NULL, N, d, l, &ar);
        for (long k = 0; k < N * l; k++)
            H[k] = r_act(act, H[k], a, f);
        r_matmul(Y, H, Wout, has_bias ? bout : NULL, N, l, d, &ar);
        assert_matches(Ym->e, Y, N * d, "mlp", &ar);
        fpf_mat_clear(Xm);
        fpf_mat_clear(Ym);
        fpf_mlp_clear(m);
    }
    gmp_randclear(st);
}
END_TEST

/* The mutation "the emulation silently runs in binary64": the binary16 pass
 * is caught by the reference comparison and by its outputs not being binary16
 * values. */
START_TEST(test_binary64_mistake_is_caught)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + 400);
    const fpf_arith_t ar16 = {&fpf_binary16, &fpf_binary16, FPF_SUM_SEQUENTIAL};
    const fpf_arith_t ar64 = {&fpf_binary64, &fpf_binary64, FPF_SUM_SEQUENTIAL};
    int reps = test_quick() ? 4 : 20;
    for (int t = 0; t < reps; t++) {
        head_case_t c;
        head_case_draw(&c, st);
        fpf_mat_t Y16, Y64;
        double yr[30];
        head_case_run(Y16, &c, &ar16);
        head_case_run(Y64, &c, &ar64);
        head_case_ref(yr, &c, &ar16);
        long differ = 0, outside = 0;
        for (long k = 0; k < c.N * c.D; k++) {
            differ += !same_d(mpfr_get_d(Y64->e + k, MPFR_RNDN), yr[k]);
            outside += !fpf_is_member(Y64->e + k, &fpf_binary16);
            ck_assert(fpf_is_member(Y16->e + k, &fpf_binary16));
        }
        ck_assert_msg(differ > 0 && outside > 0, "a binary64 run passed for binary16 (N %ld, D "
                      "%ld, seed %lu)", c.N, c.D, test_seed());
        fpf_mat_clear(Y16);
        fpf_mat_clear(Y64);
    }
    gmp_randclear(st);
}
END_TEST

/* Two threads run the same head at once, each with its own caller exponent
 * range: every result equals the serial one and each thread's range is kept
 * (MPFR's range is per thread). */
typedef struct {
    const fpf_head_struct *h;
    const fpf_mat_struct *X;
    const fpf_mask_t *M;
    const fpf_arith_t *ar;
    const double *want;
    mpfr_exp_t emax;
    int failures;
} thread_job_t;

static void *thread_run(void *arg)
{
    thread_job_t *job = arg;
    mpfr_set_emax(job->emax);
    for (int rep = 0; rep < 20; rep++) {
        fpf_mat_t Y;
        if (fpf_mat_init(Y, job->X->rows, job->X->cols, job->ar->fmt) != 0 ||
            fpf_head_apply(Y, job->h, job->X, job->M, job->ar) != 0) {
            job->failures++;
            fpf_mat_clear(Y);
            continue;
        }
        for (long k = 0; k < Y->rows * Y->cols; k++)
            job->failures += !same_d(mpfr_get_d(Y->e + k, MPFR_RNDN), job->want[k]);
        job->failures += mpfr_get_emax() != job->emax;
        fpf_mat_clear(Y);
    }
    mpfr_free_cache(); /* this thread's caches and pools */
    return NULL;
}

START_TEST(test_threads_agree)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + 500);
    const fpf_arith_t ar = {&fpf_binary16, &fpf_binary32, FPF_SUM_SEQUENTIAL};
    head_case_t c;
    head_case_draw(&c, st);
    double want[30];
    head_case_ref(want, &c, &ar);
    fpf_head_t h;
    fpf_mat_t X;
    fpf_mask_t M;
    ck_assert_int_eq(fpf_head_init(h, c.D, c.r, ar.fmt), 0);
    ck_assert_int_eq(fpf_mat_init(X, c.N, c.D, ar.fmt), 0);
    ck_assert_int_eq(c.causal ? fpf_mask_init_causal(&M, c.N)
                              : fpf_mask_init_self_bias(&M, c.N), 0);
    fpf_mat_set_d(X, c.X);
    fpf_mat_set_d(h->W_Q, c.WQ);
    fpf_mat_set_d(h->W_K, c.WK);
    fpf_mat_set_d(h->W_V, c.WV);
    fpf_mat_set_d(h->W_O, c.WO);
    fpf_mat_set_d(h->b_Q, c.bQ);
    fpf_mat_set_d(h->b_K, c.bK);
    fpf_mat_set_d(h->b_V, c.bV);
    fpf_mat_set_d(h->b_O, c.bO);
    fpf_set_d(h->scale, c.scale, ar.fmt);
    h->has_bias = c.has_bias;
    thread_job_t jobs[2];
    pthread_t tid[2];
    for (int k = 0; k < 2; k++) {
        jobs[k] = (thread_job_t){h, X, &M, &ar, want, 777 + 1000 * k, 0};
        ck_assert_int_eq(pthread_create(&tid[k], NULL, thread_run, &jobs[k]), 0);
    }
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(pthread_join(tid[k], NULL), 0);
        ck_assert_msg(jobs[k].failures == 0, "thread %d: %d results differ from the serial "
                      "reference or its range moved (seed %lu)", k, jobs[k].failures,
                      test_seed());
    }
    fpf_mask_clear(&M);
    fpf_mat_clear(X);
    fpf_head_clear(h);
    gmp_randclear(st);
}
END_TEST

/* Bad shapes, empty masks and impossible sizes are refused, not crashed on. */
START_TEST(test_bad_input_refused)
{
    const fpf_format_t *f = &fpf_bfloat16;
    const fpf_arith_t ar = {f, f, FPF_SUM_SEQUENTIAL};
    fpf_mat_t A, B, C;
    ck_assert_int_eq(fpf_mat_init(A, -1, 2, f), -1);
    ck_assert_int_eq(fpf_mat_init(A, LONG_MAX, LONG_MAX, f), -1);
    ck_assert_int_eq(fpf_mat_init(A, 2, 3, f), 0);
    ck_assert_int_eq(fpf_mat_init(B, 2, 3, f), 0);
    ck_assert_int_eq(fpf_mat_init(C, 2, 3, &fpf_binary16), 0);
    ck_assert_int_eq(fpf_mat_mul(C, A, B, NULL, &ar), -1); /* 2x3 times 2x3 */
    fpf_mat_clear(C);
    ck_assert_int_eq(fpf_mat_init(C, 2, 2, &fpf_binary16), 0);
    fpf_mat_t Bt;
    ck_assert_int_eq(fpf_mat_init(Bt, 3, 2, f), 0);
    ck_assert_int_eq(fpf_mat_mul(C, A, Bt, NULL, &ar), -1); /* C in another format */
    fpf_mask_t M;
    unsigned char none[4] = {1, 0, 0, 0}; /* query 1 allows no key */
    ck_assert_int_eq(fpf_mask_init_dense(&M, 2, none), 0);
    fpf_head_t h;
    fpf_mat_t X, Y;
    ck_assert_int_eq(fpf_head_init(h, 3, 1, f), 0);
    ck_assert_int_eq(fpf_mat_init(X, 2, 3, f), 0);
    ck_assert_int_eq(fpf_mat_init(Y, 2, 3, f), 0);
    ck_assert_int_eq(fpf_head_apply(Y, h, X, &M, &ar), -1);
    fpf_mask_clear(&M);
    ck_assert_int_eq(fpf_mask_init_full(&M, 2), 0);
    const fpf_arith_t ar16 = {&fpf_binary16, &fpf_binary16, FPF_SUM_SEQUENTIAL};
    ck_assert_int_eq(fpf_head_apply(Y, h, X, &M, &ar16), -1); /* weights in bfloat16 */
    ck_assert_int_eq(fpf_head_apply(Y, h, X, &M, &ar), 0);
    fpf_mask_clear(&M);
    ck_assert_int_eq(fpf_mask_init_causal(&M, -3), -1);
    ck_assert_int_eq(fpf_mask_init_full(&M, LONG_MAX), -1);
    ck_assert_int_eq(fpf_mask_init_self_bias(&M, 0), -1);
    __mpfr_struct s[1];
    ck_assert_int_eq(fpf_softmax(s, s, 0, &ar), -1);
    mpfr_t eps;
    fpf_init(eps, f);
    ck_assert_int_eq(fpf_layernorm(s, s, 0, NULL, NULL, eps, &ar), -1);
    mpfr_clear(eps);
    fpf_head_clear(h);
    fpf_mat_clear(X);
    fpf_mat_clear(Y);
    fpf_mat_clear(A);
    fpf_mat_clear(B);
    fpf_mat_clear(Bt);
    fpf_mat_clear(C);
}
END_TEST

Suite *suite_fpformat(void)
{
    Suite *s = suite_create("fpformat");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_binary64_equals_double);
    tcase_add_test(tc, test_binary32_equals_float);
    tcase_add_test(tc, test_native_sums_and_dots);
    tcase_add_test(tc, test_ref_round_against_hardware);
    tcase_add_test(tc, test_16bit_ops_against_double);
    tcase_add_test(tc, test_binary16_against_numpy);
    tcase_add_test(tc, test_bfloat16_against_torch);
    tcase_add_test(tc, test_worked_examples);
    tcase_add_test(tc, test_global_state_restored);
    tcase_add_loop_test(tc, test_elementwise_against_reference, 0, 16);
    tcase_add_loop_test(tc, test_head_against_reference, 0, 16);
    tcase_add_loop_test(tc, test_mlp_against_reference, 0, 16);
    tcase_add_test(tc, test_binary64_mistake_is_caught);
    tcase_add_test(tc, test_threads_agree);
    tcase_add_test(tc, test_bad_input_refused);
    suite_add_tcase(s, tc);
    return s;
}
