/* Ball matrices: products, dot products and norms enclose plain-MPFR values
 * computed 100 bits higher; dyadic instances are exact points whose products
 * are the same at every precision. */
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

Suite *suite_imat(void)
{
    Suite *s = suite_create("imat");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_mul_contains_oracle, 0, test_quick() ? 5 : 40);
    tcase_add_test(tc, test_dyadic_same_at_every_precision);
    tcase_add_loop_test(tc, test_row_norm_contains_oracle, 0, test_quick() ? 5 : 40);
    tcase_add_loop_test(tc, test_large_mul_contains_oracle, 0, test_quick() ? 1 : 4);
    tcase_add_loop_test(tc, test_mul_paths, 0, test_quick() ? 8 : 24);
    tcase_add_loop_test(tc, test_max_abs_enclose, 0, 10);
    tcase_add_loop_test(tc, test_norm2_bounds, 0, 20);
    tcase_add_test(tc, test_norm2_of_diagonal_is_exact_max);
    tcase_add_test(tc, test_exact_decimal);
    suite_add_tcase(s, tc);
    return s;
}
