/* Ball matrices: products, dot products and norms enclose plain-MPFR values
 * computed 100 bits higher; dyadic instances are exact points whose products
 * are the same at every precision. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "imat.h"
#include "oracle.h"
#include "par.h"
#include "testutil.h"

/* (A0 / 3) B for dyadic A0, B (n x k, k x m) at p bits encloses the oracle
 * at p + 100, and an oracle shifted by 1 is caught. */
static void check_mul(unsigned long seed, gmp_randstate_t st, long n, long k, long m,
                      unsigned bits, mpfr_prec_t p)
{
    imat_t A0, A, B, C;
    imat_init(A0, n, k);
    imat_init(A, n, k);
    imat_init(B, k, m);
    imat_init(C, n, m);
    imat_randtest_dyadic(A0, st, bits);
    imat_randtest_dyadic(B, st, bits);
    /* A = A0 / 3 is inexact at every precision: a real enclosure */
    for (long q = 0; q < n * k; q++)
        arb_div_ui(A->e + q, A0->e + q, 3, p);
    imat_mul(C, A, B, p);
    fmat_t a, b, c;
    fmat_init(&a, n, k, p + 100);
    fmat_init(&b, k, m, p + 100);
    fmat_init(&c, n, m, p + 100);
    fmat_from_imat(&a, A0);
    for (long q = 0; q < n * k; q++)
        mpfr_div_ui(a.e[q], a.e[q], 3, MPFR_RNDN);
    fmat_from_imat(&b, B);
    fmat_mul(&c, &a, &b);
    ck_assert_msg(fmat_inside(&c, C), "product does not enclose the oracle (seed %lu, prec %ld, "
                  "%ldx%ldx%ld)", seed, (long)p, n, k, m);
    /* a test that can fail: shift the oracle by far more than the width */
    mpfr_add_ui(c.e[0], c.e[0], 1, MPFR_RNDN);
    ck_assert(!fmat_inside(&c, C));
    fmat_clear(&a);
    fmat_clear(&b);
    fmat_clear(&c);
    imat_clear(A0);
    imat_clear(A);
    imat_clear(B);
    imat_clear(C);
}

START_TEST(test_mul_contains_oracle)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    unsigned long seed = test_seed() + (unsigned long)_i;
    gmp_randseed_ui(st, seed);
    mpfr_prec_t p = test_random_prec(st, 24, 600);
    long n = 1 + (long)gmp_urandomm_ui(st, 6), m = 1 + (long)gmp_urandomm_ui(st, 6),
         k = 1 + (long)gmp_urandomm_ui(st, 6);
    check_mul(seed, st, n, k, m, 6, p);
    gmp_randclear(st);
}
END_TEST

START_TEST(test_dyadic_same_at_every_precision)
{
    gmp_randstate_t s1, s2;
    gmp_randinit_default(s1);
    gmp_randinit_default(s2);
    gmp_randseed_ui(s1, 77);
    gmp_randseed_ui(s2, 77);
    imat_t A, B, C24, C4096;
    imat_init(A, 4, 5);
    imat_init(B, 5, 3);
    imat_init(C24, 4, 3);
    imat_init(C4096, 4, 3);
    imat_randtest_dyadic(A, s1, 8);
    imat_randtest_dyadic(B, s2, 8);
    ck_assert(imat_is_exact(A) && imat_is_exact(B));
    for (long k = 0; k < 20; k++)
        ck_assert(!arb_is_zero(A->e + k));
    /* 8-bit entries: every product has 16 bits, every sum of 5 at most 20 */
    imat_mul(C24, A, B, 24);
    imat_mul(C4096, A, B, 4096);
    ck_assert(imat_is_exact(C24) && imat_is_exact(C4096));
    for (long k = 0; k < 12; k++)
        ck_assert(arb_equal(C24->e + k, C4096->e + k));
    imat_clear(A);
    imat_clear(B);
    imat_clear(C24);
    imat_clear(C4096);
    gmp_randclear(s1);
    gmp_randclear(s2);
}
END_TEST

/* Row norms (a dot product rounded once, then a square root) enclose the
 * oracle at +100 bits, at random precisions, on inexact entries. */
START_TEST(test_row_norm_contains_oracle)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    unsigned long seed = test_seed() + 300 + (unsigned long)_i;
    gmp_randseed_ui(st, seed);
    mpfr_prec_t p = test_random_prec(st, 24, 2000);
    long n = 1 + (long)gmp_urandomm_ui(st, 40);
    imat_t A;
    imat_init(A, 1, n);
    imat_randtest_dyadic(A, st, 10);
    mpfr_t s, t;
    mpfr_inits2(p + 100, s, t, (mpfr_ptr)0);
    mpfr_set_ui(s, 0, MPFR_RNDN);
    for (long k = 0; k < n; k++) {
        arf_get_mpfr(t, arb_midref(A->e + k), MPFR_RNDN);
        mpfr_div_ui(t, t, 7, MPFR_RNDN);
        mpfr_sqr(t, t, MPFR_RNDN);
        mpfr_add(s, s, t, MPFR_RNDN);
        arb_div_ui(A->e + k, A->e + k, 7, p); /* inexact: a real enclosure */
    }
    mpfr_sqrt(s, s, MPFR_RNDN);
    arb_t r;
    arb_init(r);
    imat_row_norm2(r, A, 0, p);
    ck_assert_msg(arb_contains_mpfr(r, s), "row norm does not enclose the oracle (seed %lu, prec %ld)",
                  seed, (long)p);
    mpfr_nextabove(s);
    mpfr_mul_ui(s, s, 2, MPFR_RNDN); /* a test that can fail */
    ck_assert(!arb_contains_mpfr(r, s));
    arb_clear(r);
    mpfr_clears(s, t, (mpfr_ptr)0);
    imat_clear(A);
    gmp_randclear(st);
}
END_TEST

/* A product large enough that arb_mat_mul takes its block algorithm (every
 * size above its cutoff of 40 to 60) encloses the oracle. */
START_TEST(test_large_mul_contains_oracle)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    unsigned long seed = test_seed() + 400 + (unsigned long)_i;
    gmp_randseed_ui(st, seed);
    check_mul(seed, st, 64, 72, 66, 20, test_random_prec(st, 53, 400));
    gmp_randclear(st);
}
END_TEST

/* Every path of the product: exact operands (Arb's block product) or
 * inexact ones (dot products), inner terms that are exactly zero (left
 * out), C = A B or C = C0 + A B, aliasing, on 1, 2 and 3 threads: each
 * encloses the oracle at p + 100 bits, and the threads give the same bits. */
START_TEST(test_mul_paths)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    unsigned long seed = test_seed() + 500 + (unsigned long)_i;
    gmp_randseed_ui(st, seed);
    mpfr_prec_t p = test_random_prec(st, 30, 700);
    long n = 2 + (long)gmp_urandomm_ui(st, 40), k = 1 + (long)gmp_urandomm_ui(st, 90),
         m = 2 + (long)gmp_urandomm_ui(st, 90);
    int exact = _i % 2, add = (_i / 2) % 2;
    if (_i % 8 >= 6) { /* above the block cutoff in every dimension, several panels */
        n = 61 + (long)gmp_urandomm_ui(st, 20);
        k = 61 + (long)gmp_urandomm_ui(st, 20);
        m = 257 + (long)gmp_urandomm_ui(st, 40);
    }
    imat_t A, B, C0, C[3];
    imat_init(A, n, k);
    imat_init(B, k, m);
    imat_init(C0, n, m);
    imat_randtest_dyadic(A, st, 6);
    imat_randtest_dyadic(B, st, 6);
    imat_randtest_dyadic(C0, st, 6);
    for (long q = 0; q < k; q++) /* zero rows of B and zero columns of A */
        if (gmp_urandomm_ui(st, 3) == 0) {
            for (long j = 0; j < m; j++)
                arb_zero(imat_entry(B, q, j));
        } else if (gmp_urandomm_ui(st, 4) == 0) {
            for (long i = 0; i < n; i++)
                arb_zero(imat_entry(A, i, q));
        }
    fmat_t a, b, c;
    fmat_init(&a, n, k, p + 100);
    fmat_init(&b, k, m, p + 100);
    fmat_init(&c, n, m, p + 100);
    fmat_from_imat(&a, A);
    fmat_from_imat(&b, B);
    if (!exact) /* A / 3: a real enclosure */
        for (long q = 0; q < n * k; q++) {
            arb_div_ui(A->e + q, A->e + q, 3, p);
            mpfr_div_ui(a.e[q], a.e[q], 3, MPFR_RNDN);
        }
    fmat_mul(&c, &a, &b);
    if (add)
        for (long q = 0; q < n * m; q++) {
            mpfr_t t;
            mpfr_init2(t, p + 100);
            arf_get_mpfr(t, arb_midref(C0->e + q), MPFR_RNDN);
            mpfr_add(c.e[q], c.e[q], t, MPFR_RNDN);
            mpfr_clear(t);
        }
    for (int t = 0; t < 3; t++) {
        par_set_threads(t + 1);
        imat_init(C[t], n, m);
        imat_set(C[t], C0);
        if (add)
            imat_addmul(C[t], A, B, p);
        else
            imat_mul(C[t], A, B, p);
        ck_assert_msg(fmat_inside(&c, C[t]), "product misses the oracle (seed %lu, prec %ld, "
                      "%ldx%ldx%ld, exact %d, add %d)", seed, (long)p, n, k, m, exact, add);
        for (long q = 0; q < n * m; q++)
            ck_assert_msg(arb_equal(C[t]->e + q, C[0]->e + q),
                          "%d threads give other bits (seed %lu)", t + 1, seed);
    }
    mpfr_add_ui(c.e[0], c.e[0], 1, MPFR_RNDN); /* a test that can fail */
    ck_assert(!fmat_inside(&c, C[0]));
    /* aliased: B square, C = C + C B */
    if (k == m) {
        imat_t D, E;
        imat_init(D, n, m);
        imat_init(E, n, m);
        imat_set(D, C[0]);
        imat_mul(E, D, B, p);
        imat_add(E, E, D, p);
        imat_addmul(D, D, B, p);
        for (long q = 0; q < n * m; q++)
            ck_assert(arb_overlaps(D->e + q, E->e + q));
        imat_clear(D);
        imat_clear(E);
    }
    par_shutdown();
    par_set_threads(0);
    fmat_clear(&a);
    fmat_clear(&b);
    fmat_clear(&c);
    for (int t = 0; t < 3; t++)
        imat_clear(C[t]);
    imat_clear(A);
    imat_clear(B);
    imat_clear(C0);
    gmp_randclear(st);
}
END_TEST

/* A random ball: midpoint k / 2^8 and radius j / 2^10 (j may be 0). */
static void random_ball(arb_t x, gmp_randstate_t st)
{
    arb_set_si(x, (long)gmp_urandomm_ui(st, 2001) - 1000);
    arb_mul_2exp_si(x, x, -8);
    mag_set_ui_2exp_si(arb_radref(x), gmp_urandomm_ui(st, 4) ? gmp_urandomm_ui(st, 2000) : 0, -10);
}

/* ival_max and ival_abs: every max (|.|) of points of the operands lies in
 * the result, ival_abs's lower end is exactly 0 when the ball straddles 0,
 * and ival_max is no wider than Arb's arb_max. */
START_TEST(test_max_abs_enclose)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    unsigned long seed = test_seed() + 600 + (unsigned long)_i;
    gmp_randseed_ui(st, seed);
    arb_t x, y, r, m, a, b;
    arb_init(x);
    arb_init(y);
    arb_init(r);
    arb_init(m);
    arb_init(a);
    arb_init(b);
    for (int t = 0; t < 200; t++) {
        random_ball(x, st);
        random_ball(y, st);
        if (t % 3 == 0)
            ival_abs(x, x, 64);
        if (t % 3 == 1) {
            ival_abs(x, x, 64);
            ival_abs(y, y, 64);
        }
        ival_max(r, x, y, 64);
        arb_max(m, x, y, 64);
        ck_assert_msg(arb_contains(m, r), "ival_max is wider than arb_max (seed %lu)", seed);
        for (int u = 0; u < 9; u++) { /* ends and middles of both balls */
            arf_t p, q;
            arf_init(p);
            arf_init(q);
            if (u / 3 == 0)
                arb_get_lbound_arf(p, x, 128);
            else if (u / 3 == 1)
                arf_set(p, arb_midref(x));
            else
                arb_get_ubound_arf(p, x, 128);
            if (u % 3 == 0)
                arb_get_lbound_arf(q, y, 128);
            else if (u % 3 == 1)
                arf_set(q, arb_midref(y));
            else
                arb_get_ubound_arf(q, y, 128);
            ck_assert(arb_contains_arf(r, arf_cmp(p, q) >= 0 ? p : q));
            arb_set_arf(a, p);
            arb_abs(a, a);
            ival_abs(b, x, 64);
            ck_assert_msg(arb_contains(b, a), "|x| misses a point (seed %lu)", seed);
            arf_clear(p);
            arf_clear(q);
        }
        ival_abs(b, x, 64);
        if (arb_contains_zero(x)) {
            ck_assert(arb_is_nonnegative(b) && arb_contains_zero(b));
            arb_get_abs_ubound_arf(arb_midref(a), x, 128);
            mag_zero(arb_radref(a));
            arb_mul_2exp_si(m, a, -27); /* at most 2^-28 wider at the top */
            arb_add(a, a, m, 128);
            ck_assert(arb_le(b, a));
        }
    }
    arb_clear(x);
    arb_clear(y);
    arb_clear(r);
    arb_clear(m);
    arb_clear(a);
    arb_clear(b);
    gmp_randclear(st);
}
END_TEST

START_TEST(test_norm2_bounds)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + 100 + (unsigned long)_i);
    long n = 1 + (long)gmp_urandomm_ui(st, 8), m = 1 + (long)gmp_urandomm_ui(st, 8);
    imat_t A;
    imat_init(A, n, m);
    imat_randtest_dyadic(A, st, 5);
    mpfr_t up, lo, fro;
    mpfr_inits2(128, up, lo, fro, (mpfr_ptr)0);
    imat_norm2_upper(up, A);
    imat_norm2_lower(lo, A, 50);
    imat_norm_frobenius_upper(fro, A);
    ck_assert(mpfr_lessequal_p(lo, up));
    ck_assert(mpfr_lessequal_p(up, fro));
    /* power iteration converges: the two bounds are within a factor sqrt(min(n,m)) */
    mpfr_t r;
    mpfr_init2(r, 64);
    mpfr_div(r, up, lo, MPFR_RNDU);
    ck_assert_msg(mpfr_get_d(r, MPFR_RNDU) <= 1.0001 * (n < m ? (double)n : (double)m) + 1e-9 ||
                      mpfr_get_d(r, MPFR_RNDU) <= 3.0,
                  "norm bounds too far apart: %g", mpfr_get_d(r, MPFR_RNDU));
    mpfr_clear(r);
    mpfr_clears(up, lo, fro, (mpfr_ptr)0);
    imat_clear(A);
    gmp_randclear(st);
}
END_TEST

START_TEST(test_norm2_of_diagonal_is_exact_max)
{
    /* diag(3, -5, 2): ||A||_2 = 5; the upper bound must be >= 5 and the lower <= 5 */
    imat_t A;
    imat_init(A, 3, 3);
    arb_set_si(imat_entry(A, 0, 0), 3);
    arb_set_si(imat_entry(A, 1, 1), -5);
    arb_set_si(imat_entry(A, 2, 2), 2);
    mpfr_t up, lo;
    mpfr_inits2(64, up, lo, (mpfr_ptr)0);
    imat_norm2_upper(up, A);
    imat_norm2_lower(lo, A, 60);
    ck_assert(mpfr_cmp_ui(up, 5) >= 0 && mpfr_cmp_d(up, 5.0001) <= 0);
    ck_assert(mpfr_cmp_ui(lo, 5) <= 0 && mpfr_cmp_d(lo, 4.999) >= 0);
    mpfr_clears(up, lo, (mpfr_ptr)0);
    imat_clear(A);
}
END_TEST

START_TEST(test_exact_decimal)
{
    const char *cases[][2] = {{"0.375", "0.375"}, {"-12.5", "-12.5"}, {"1024", "1024"},
                              {"0.0009765625", "0.0009765625"}, {"-3", "-3"}, {"0", "0"}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        mpfr_t x;
        mpfr_init2(x, 64);
        mpfr_set_str(x, cases[k][0], 10, MPFR_RNDN);
        char *s = fr_exact_decimal(x);
        ck_assert_str_eq(s, cases[k][1]);
        free(s);
        mpfr_clear(x);
    }
    /* 2^-40 has 40 decimals, all exact */
    mpfr_t x;
    mpfr_init2(x, 64);
    mpfr_set_ui_2exp(x, 1, -40, MPFR_RNDN);
    char *s = fr_exact_decimal(x);
    ck_assert_str_eq(s, "0.0000000000009094947017729282379150390625");
    free(s);
    mpfr_clear(x);
}
END_TEST

/* ---- ball matrix times an exact W (the integer kernel) ---- */

/* An entry of A for the exact-right tests: 0 (one in six), else a dyadic
 * k 2^(e + shift) with |k| < 2^20 of either sign and e in [-40, 40]; then a
 * point, a ball of its own rounding at p bits (divided by 3), or a wide ball
 * (a radius 2^-12 to 2^-32 of the midpoint's scale, or up to 2^8 above it). */
static void exact_right_entry(arb_t x, gmp_randstate_t st, long shift, mpfr_prec_t p)
{
    unsigned kind = (unsigned)gmp_urandomm_ui(st, 6);
    if (kind == 0) {
        arb_zero(x);
        return;
    }
    long e = (long)gmp_urandomm_ui(st, 81) - 40 + shift;
    arb_set_si(x, (long)gmp_urandomm_ui(st, 1UL << 21) - (1L << 20));
    arb_mul_2exp_si(x, x, e - 20);
    if (kind == 1 || kind == 2)
        arb_div_ui(x, x, 3, p);
    else if (kind == 3)
        mag_set_ui_2exp_si(arb_radref(x), gmp_urandomm_ui(st, 1UL << 20) + 1,
                           e - 32 - (long)gmp_urandomm_ui(st, 20));
    else if (kind == 4)
        mag_set_ui_2exp_si(arb_radref(x), gmp_urandomm_ui(st, 1UL << 20) + 1,
                           e - 20 + (long)gmp_urandomm_ui(st, 9));
}

/* W of one kind: 0 few-bit dyadics, 1 doubles (53-bit mantissas, exponents
 * in [-8, 0]: every column fits the kernel), 2 doubles with exponents in
 * [-70, 0] (columns too wide: the general path); a third of W's entries 0. */
static void exact_right_weights(imat_t W, gmp_randstate_t st, int kind)
{
    if (kind == 0) {
        imat_randtest_dyadic(W, st, 6);
        return;
    }
    for (long q = 0; q < W->rows * W->cols; q++) {
        if (gmp_urandomm_ui(st, 3) == 0) {
            arb_zero(W->e + q);
            continue;
        }
        double m = ldexp((double)gmp_urandomm_ui(st, 1UL << 26), 27) +
                   (double)gmp_urandomm_ui(st, 1UL << 27); /* < 2^53: exact */
        arb_set_d(W->e + q, gmp_urandomm_ui(st, 2) ? m : -m);
        long e = kind == 1 ? (long)gmp_urandomm_ui(st, 9) : (long)gmp_urandomm_ui(st, 71);
        arb_mul_2exp_si(W->e + q, W->e + q, -53 - e);
    }
}

/* a = one point of each ball of A: its lower end, midpoint or upper end,
 * exactly (a's precision holds every bit). */
static void exact_right_points(fmat_t *a, const imat_t A, gmp_randstate_t st)
{
    mpfr_t r;
    arf_t t;
    mpfr_init2(r, MAG_BITS + 2);
    arf_init(t);
    for (long q = 0; q < A->rows * A->cols; q++) {
        arf_get_mpfr(a->e[q], arb_midref(A->e + q), MPFR_RNDN);
        arf_set_mag(t, arb_radref(A->e + q));
        arf_get_mpfr(r, t, MPFR_RNDN);
        unsigned u = (unsigned)gmp_urandomm_ui(st, 3);
        if (u == 0)
            mpfr_sub(a->e[q], a->e[q], r, MPFR_RNDN);
        else if (u == 1)
            mpfr_add(a->e[q], a->e[q], r, MPFR_RNDN);
    }
    arf_clear(t);
    mpfr_clear(r);
}

/* C = A W and C = C0 + A W for exact W (imat_mul_exact_right, and imat_mul
 * choosing its path): the product of a point of every ball of A and W,
 * computed exactly in MPFR (p + 512 bits hold every bit of these entries),
 * lies in C; the radius is within 2 times arb_dot's plus a few ulps; 1, 2
 * and 3 threads give the same bits; C may be A itself.  Random shapes (some
 * above the one-task size), precisions 30..700, rows of mixed exponents,
 * zeros, points, wide balls, W of few-bit dyadics or doubles. */
START_TEST(test_exact_right_contains_oracle)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    unsigned long seed = test_seed() + 700 + (unsigned long)_i;
    gmp_randseed_ui(st, seed);
    mpfr_prec_t p = test_random_prec(st, 30, 700);
    long n = 1 + (long)gmp_urandomm_ui(st, 12), k = 1 + (long)gmp_urandomm_ui(st, 40),
         m = 1 + (long)gmp_urandomm_ui(st, 40);
    if (_i % 4 == 3) { /* several panels and tasks */
        n = 17 + (long)gmp_urandomm_ui(st, 30);
        k = 60 + (long)gmp_urandomm_ui(st, 90);
        m = 65 + (long)gmp_urandomm_ui(st, 70);
    }
    int wkind = _i % 3, add = (_i / 3) % 2;
    imat_t A, W, C0, C[3], D;
    imat_init(A, n, k);
    imat_init(W, k, m);
    imat_init(C0, n, m);
    imat_init(D, n, m);
    for (long i = 0; i < n; i++) {
        long shift = (long)gmp_urandomm_ui(st, 41) - 20; /* rows of their own scale */
        int point_row = gmp_urandomm_ui(st, 4) == 0;
        for (long q = 0; q < k; q++) {
            exact_right_entry(imat_entry(A, i, q), st, shift, p);
            if (point_row)
                mag_zero(arb_radref(imat_entry(A, i, q)));
        }
    }
    exact_right_weights(W, st, wkind);
    for (long q = 0; q < n * m; q++)
        exact_right_entry(C0->e + q, st, 0, p);
    fmat_t a, w, c;
    fmat_init(&a, n, k, p + 512);
    fmat_init(&w, k, m, p + 512);
    fmat_init(&c, n, m, p + 512);
    exact_right_points(&a, A, st);
    fmat_from_imat(&w, W);
    fmat_mul(&c, &a, &w);
    if (add) {
        fmat_t c0;
        fmat_init(&c0, n, m, p + 512);
        exact_right_points(&c0, C0, st);
        for (long q = 0; q < n * m; q++)
            mpfr_add(c.e[q], c.e[q], c0.e[q], MPFR_RNDN);
        fmat_clear(&c0);
    }
    /* arb_dot, entry by entry: the radius to compare with */
    for (long i = 0; i < n; i++)
        for (long j = 0; j < m; j++)
            arb_dot(imat_entry(D, i, j), add ? imat_entry(C0, i, j) : NULL, 0,
                    imat_entry(A, i, 0), 1, imat_entry(W, 0, j), m, k, p);
    for (int t = 0; t < 3; t++) {
        par_set_threads(t + 1);
        imat_init(C[t], n, m);
        imat_set(C[t], C0);
        if (add)
            imat_addmul_exact_right(C[t], A, W, p);
        else
            imat_mul_exact_right(C[t], A, W, p);
        ck_assert_msg(fmat_inside(&c, C[t]), "exact-right product misses the oracle (seed %lu, "
                      "prec %ld, %ldx%ldx%ld, W kind %d, add %d)", seed, (long)p, n, k, m,
                      wkind, add);
        for (long q = 0; q < n * m; q++)
            ck_assert_msg(arb_equal(C[t]->e + q, C[0]->e + q),
                          "%d threads give other bits (seed %lu)", t + 1, seed);
    }
    /* no wider than arb_dot's by more than a factor 2 and 2^(3-p) |mid| */
    for (long q = 0; q < n * m; q++) {
        mag_t bound, u;
        mag_init(bound);
        mag_init(u);
        mag_mul_2exp_si(bound, arb_radref(D->e + q), 1);
        arf_get_mag(u, arb_midref(C[0]->e + q));
        mag_mul_2exp_si(u, u, 3 - p);
        mag_add(bound, bound, u);
        ck_assert_msg(mag_cmp(arb_radref(C[0]->e + q), bound) <= 0,
                      "kernel radius far above arb_dot's (seed %lu, entry %ld)", seed, q);
        mag_clear(bound);
        mag_clear(u);
    }
    /* imat_mul's own choice encloses the same points */
    imat_t E;
    imat_init(E, n, m);
    imat_set(E, C0);
    if (add)
        imat_addmul(E, A, W, p);
    else
        imat_mul(E, A, W, p);
    ck_assert_msg(fmat_inside(&c, E), "imat_mul misses the oracle (seed %lu)", seed);
    /* aliased: C = A itself (W square), C = A W or A + A W, the same bits as
     * into another matrix */
    if (k == m) {
        imat_t F, G;
        imat_init(F, n, m);
        imat_init(G, n, m);
        imat_set(F, A);
        imat_set(G, A);
        if (add) {
            imat_addmul_exact_right(F, F, W, p);
            imat_addmul_exact_right(G, A, W, p);
        } else {
            imat_mul_exact_right(F, F, W, p);
            imat_mul_exact_right(G, A, W, p);
        }
        for (long q = 0; q < n * m; q++)
            ck_assert_msg(arb_equal(F->e + q, G->e + q), "aliased product differs (seed %lu)",
                          seed);
        imat_clear(F);
        imat_clear(G);
    }
    /* a test that can fail: the oracle moved above the ball's upper end */
    ival_get_hi(c.e[0], C[0]->e);
    mpfr_abs(c.e[0], c.e[0], MPFR_RNDU);
    mpfr_mul_2ui(c.e[0], c.e[0], 1, MPFR_RNDU);
    mpfr_add_ui(c.e[0], c.e[0], 1, MPFR_RNDU);
    ck_assert(!fmat_inside(&c, C[0]));
    par_shutdown();
    par_set_threads(0);
    fmat_clear(&a);
    fmat_clear(&w);
    fmat_clear(&c);
    for (int t = 0; t < 3; t++)
        imat_clear(C[t]);
    imat_clear(A);
    imat_clear(W);
    imat_clear(C0);
    imat_clear(D);
    imat_clear(E);
    gmp_randclear(st);
}
END_TEST

/* Where only the truncation term covers the value: rows of few-bit entries
 * and entries far below them (2^-(p + 100) to 2^-(p + 300) of the row's
 * largest), times few-bit W.  The kernel's midpoint sum keeps only the
 * former, an exact number at p bits (no rounding error to hide in), so the
 * value lies in C only through the radius for the truncated entries. */
START_TEST(test_exact_right_truncation)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    unsigned long seed = test_seed() + 800 + (unsigned long)_i;
    gmp_randseed_ui(st, seed);
    mpfr_prec_t p = test_random_prec(st, 30, 400);
    long n = 1 + (long)gmp_urandomm_ui(st, 6), k = 2 + (long)gmp_urandomm_ui(st, 30),
         m = 1 + (long)gmp_urandomm_ui(st, 10);
    imat_t A, W, C;
    imat_init(A, n, k);
    imat_init(W, k, m);
    imat_init(C, n, m);
    imat_randtest_dyadic(A, st, 4);
    imat_randtest_dyadic(W, st, 4);
    for (long q = 0; q < n * k; q++)
        if (gmp_urandomm_ui(st, 2)) { /* tiny, positive (no cancellation to hide it) */
            arb_set_ui(A->e + q, 1 + gmp_urandomm_ui(st, 1000));
            arb_mul_2exp_si(A->e + q, A->e + q, -p - 100 - (long)gmp_urandomm_ui(st, 200));
        }
    fmat_t a, w, c;
    fmat_init(&a, n, k, p + 512);
    fmat_init(&w, k, m, p + 512);
    fmat_init(&c, n, m, p + 512);
    fmat_from_imat(&a, A);
    fmat_from_imat(&w, W);
    fmat_mul(&c, &a, &w);
    imat_mul_exact_right(C, A, W, p);
    ck_assert_msg(fmat_inside(&c, C), "truncated rows miss the oracle (seed %lu, prec %ld)", seed,
                  (long)p);
    fmat_clear(&a);
    fmat_clear(&w);
    fmat_clear(&c);
    imat_clear(A);
    imat_clear(W);
    imat_clear(C);
    gmp_randclear(st);
}
END_TEST

Suite *suite_imat(void)
{
    Suite *s = suite_create("imat");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_mul_contains_oracle, 0, test_quick() ? 5 : 40);
    tcase_add_test(tc, test_dyadic_same_at_every_precision);
    tcase_add_loop_test(tc, test_row_norm_contains_oracle, 0, test_quick() ? 5 : 40);
    tcase_add_loop_test(tc, test_large_mul_contains_oracle, 0, test_quick() ? 1 : 4);
    tcase_add_loop_test(tc, test_mul_paths, 0, test_quick() ? 8 : 24);
    tcase_add_loop_test(tc, test_exact_right_contains_oracle, 0, test_quick() ? 12 : 48);
    tcase_add_loop_test(tc, test_exact_right_truncation, 0, 16);
    tcase_add_loop_test(tc, test_max_abs_enclose, 0, 10);
    tcase_add_loop_test(tc, test_norm2_bounds, 0, 20);
    tcase_add_test(tc, test_norm2_of_diagonal_is_exact_max);
    tcase_add_test(tc, test_exact_decimal);
    suite_add_tcase(s, tc);
    return s;
}
