/* The error metric and the verdict rules of claims.md. */
#include "claim.h"
#include "verdict.h"
#include "testutil.h"
#include <limits.h>
#include <math.h>

START_TEST(test_error_metric)
{
    /* rows differ by (3, 4) and (1, 0): E = 5, largest |entry| = 4 */
    imat_t Y, Z;
    imat_init(Y, 2, 2);
    imat_init(Z, 2, 2);
    arb_set_si(imat_entry(Y, 0, 0), 3);
    arb_set_si(imat_entry(Y, 0, 1), -4);
    arb_set_si(imat_entry(Z, 1, 0), 1);
    arb_t E, Ea;
    arb_init(E);
    arb_init(Ea);
    error_metric(E, Ea, Y, Z, 0, 2, 2, 64);
    ck_assert(arb_contains_si(E, 5) && ival_hi_d(E) == 5); /* sqrt(25) is exact */
    ck_assert(arb_contains_si(Ea, 4));
    /* only row 1 */
    error_metric(E, Ea, Y, Z, 1, 1, 2, 64);
    ck_assert(arb_is_one(E));
    arb_clear(E);
    arb_clear(Ea);
    imat_clear(Y);
    imat_clear(Z);
}
END_TEST

START_TEST(test_verdict_exact)
{
    arb_t E;
    mpfr_t S;
    arb_init(E);
    mpfr_init2(S, 64);
    mpfr_set_ui(S, 1, MPFR_RNDN);
    /* [0, 2^-100] at p = 113 with kappa 24: 2^-100 <= 2^-89: holds */
    test_ball_interval_d(E, 0, ldexp(1, -100));
    ck_assert_int_eq(verdict_exact(E, S, 113, 1), VERDICT_HOLDS);
    /* the same enclosure at p = 200: too wide for the slack: inconclusive */
    ck_assert_int_eq(verdict_exact(E, S, 200, 1), VERDICT_INCONCLUSIVE);
    /* ... but a depth-12 construction has 88 more bits of slack */
    ck_assert_int_eq(verdict_exact(E, S, 200, 12), VERDICT_HOLDS);
    /* 0 excluded: violated, however small */
    test_ball_interval_d(E, ldexp(1, -110), ldexp(1, -100));
    ck_assert_int_eq(verdict_exact(E, S, 113, 1), VERDICT_VIOLATED);
    arb_clear(E);
    mpfr_clear(S);
}
END_TEST

START_TEST(test_verdict_bound)
{
    arb_t E, B;
    arb_init(E);
    arb_init(B);
    test_ball_interval_d(E, 1.0, 2.0);
    test_ball_interval_d(B, 2.0, 3.0);
    ck_assert_int_eq(verdict_bound(E, B), VERDICT_HOLDS);      /* hi(E) <= lo(B) */
    test_ball_interval_d(B, 1.5, 3.0);
    ck_assert_int_eq(verdict_bound(E, B), VERDICT_INCONCLUSIVE);
    test_ball_interval_d(B, 0.5, 0.9);
    ck_assert_int_eq(verdict_bound(E, B), VERDICT_VIOLATED);   /* lo(E) > hi(B) */
    arb_clear(E);
    arb_clear(B);
}
END_TEST

START_TEST(test_nan_and_inf_never_hold)
{
    /* a NaN entry must not vanish from E (mpfr_max would drop it) */
    imat_t Y, Z;
    imat_init(Y, 2, 1);
    imat_init(Z, 2, 1);
    arb_indeterminate(imat_entry(Y, 1, 0));
    arb_t E, Ea, B;
    mpfr_t S;
    arb_init(E);
    arb_init(Ea);
    arb_init(B);
    mpfr_init2(S, 64);
    error_metric(E, Ea, Y, Z, 0, 2, 1, 64);
    ck_assert(!arb_is_finite(E) && !arb_is_finite(Ea));
    mpfr_set_ui(S, 1, MPFR_RNDN);
    ck_assert_int_eq(verdict_exact(E, S, 53, 1), VERDICT_INCONCLUSIVE);
    arb_set_ui(B, 1);
    ck_assert_int_eq(verdict_bound(E, B), VERDICT_INCONCLUSIVE);
    /* an infinite scale or an unbounded E certifies nothing */
    test_ball_interval_d(E, 0.0, 1e-30);
    mpfr_set_inf(S, 1);
    ck_assert_int_eq(verdict_exact(E, S, 53, 1), VERDICT_INCONCLUSIVE);
    mpfr_set_ui(S, 1, MPFR_RNDN);
    test_ball_interval_d(E, 0.0, INFINITY);
    ck_assert_int_eq(verdict_exact(E, S, 53, 1), VERDICT_INCONCLUSIVE);
    /* an unbounded bound decides nothing either */
    test_ball_interval_d(E, 0.0, 1e-30);
    arb_zero_pm_inf(B);
    ck_assert_int_eq(verdict_bound(E, B), VERDICT_INCONCLUSIVE);
    /* ... while a bound above every number (ival_exp_bound's +inf) is above any finite E */
    arb_one(B);
    arb_mul_2exp_si(B, B, WORD(1) << 40); /* e^(2^(2^40)): beyond what Arb holds */
    ival_exp_bound(B, B, 64);
    ck_assert(arf_is_pos_inf(arb_midref(B)));
    ck_assert_int_eq(verdict_bound(E, B), VERDICT_HOLDS);
    arb_set_si(B, 3);
    ival_exp_bound(B, B, 64); /* small arguments: plain e^x */
    ck_assert(arb_is_finite(B) && ival_lo_d(B) > 20.08 && ival_hi_d(B) < 20.09);
    /* scale_of and the norm bounds treat NaN as unbounded */
    scale_of(S, Y, 0, 2, 1);
    ck_assert(mpfr_inf_p(S));
    imat_norm2_upper(S, Y);
    ck_assert(mpfr_inf_p(S));
    arb_clear(E);
    arb_clear(Ea);
    arb_clear(B);
    mpfr_clear(S);
    imat_clear(Y);
    imat_clear(Z);
}
END_TEST

/* Vacuous: E <= bound holds, but the bound is +inf or certainly at or above
 * the trivial bound; a violation stays a violation. */
START_TEST(test_verdict_vacuous)
{
    arb_t E, B, T;
    arb_init(E);
    arb_init(B);
    arb_init(T);
    test_ball_interval_d(E, 0.5, 1.0);
    test_ball_interval_d(T, 2.0, 2.5);
    test_ball_interval_d(B, 3.0, 4.0);
    ck_assert_int_eq(verdict_bound_trivial(E, B, T), VERDICT_VACUOUS);  /* 3 >= 2.5 */
    ck_assert_int_eq(verdict_bound_trivial(E, B, NULL), VERDICT_HOLDS); /* no trivial bound */
    test_ball_interval_d(B, 2.4, 4.0);
    ck_assert_int_eq(verdict_bound_trivial(E, B, T), VERDICT_HOLDS);    /* may be below T */
    test_ball_interval_d(B, 2.5, 4.0);
    ck_assert_int_eq(verdict_bound_trivial(E, B, T), VERDICT_VACUOUS);  /* touching counts */
    test_ball_interval_d(B, 0.1, 0.2);
    ck_assert_int_eq(verdict_bound_trivial(E, B, T), VERDICT_VIOLATED);
    test_ball_interval_d(B, 0.7, 0.8);
    ck_assert_int_eq(verdict_bound_trivial(E, B, T), VERDICT_INCONCLUSIVE);
    /* a bound above every number (ival_exp_bound's +inf) */
    arb_one(B);
    arb_mul_2exp_si(B, B, WORD(1) << 40);
    ival_exp_bound(B, B, 64);
    ck_assert_int_eq(verdict_bound_trivial(E, B, NULL), VERDICT_VACUOUS);
    /* a trivial bound that is not finite decides nothing */
    arb_set_ui(B, 3);
    arb_indeterminate(T);
    ck_assert_int_eq(verdict_bound_trivial(E, B, T), VERDICT_HOLDS);
    ck_assert_str_eq(verdict_name(VERDICT_VACUOUS), "vacuous");
    arb_clear(E);
    arb_clear(B);
    arb_clear(T);
}
END_TEST

/* The trivial bound, against max_i ||y_i|| + ||z_i|| in MPFR at +100 bits. */
START_TEST(test_trivial_bound_oracle)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + 77);
    mpfr_prec_t p = test_random_prec(st, 24, 400);
    imat_t Y, Z;
    imat_init(Y, 5, 4);
    imat_init(Z, 5, 4);
    imat_randtest_dyadic(Y, st, 6);
    imat_randtest_dyadic(Z, st, 6);
    arb_t T;
    arb_init(T);
    error_trivial_bound(T, Y, Z, 1, 3, 3, p); /* rows 1..3, columns 0..2 */
    mpfr_t best, s, t, u;
    mpfr_inits2(p + 100, best, s, t, u, (mpfr_ptr)0);
    mpfr_set_zero(best, 1);
    for (long i = 1; i < 4; i++) {
        mpfr_set_zero(s, 1);
        mpfr_set_zero(t, 1);
        for (long j = 0; j < 3; j++) {
            arf_get_mpfr(u, arb_midref(imat_entry(Y, i, j)), MPFR_RNDN); /* exact */
            mpfr_fma(s, u, u, s, MPFR_RNDN);
            arf_get_mpfr(u, arb_midref(imat_entry(Z, i, j)), MPFR_RNDN);
            mpfr_fma(t, u, u, t, MPFR_RNDN);
        }
        mpfr_sqrt(s, s, MPFR_RNDN);
        mpfr_sqrt(t, t, MPFR_RNDN);
        mpfr_add(s, s, t, MPFR_RNDN);
        mpfr_max(best, best, s, MPFR_RNDN);
    }
    arb_t o;
    arb_init(o);
    arf_set_mpfr(arb_midref(o), best);
    ck_assert_msg(arb_contains(T, o), "trivial bound does not enclose the oracle (seed %lu, prec %ld)",
                  test_seed(), (long)p);
    arb_clear(o);
    arb_clear(T);
    mpfr_clears(best, s, t, u, (mpfr_ptr)0);
    imat_clear(Y);
    imat_clear(Z);
    gmp_randclear(st);
}
END_TEST

/* The resolution rule's parts and the words a mutated run writes. */
START_TEST(test_resolution_rule)
{
    static const struct {
        const char *names[4], *values[4];
        int n;
        long bits;
    } cases[] = {
        {{"a"}, {"1"}, 1, 0},
        {{"a"}, {"64"}, 1, 0},             /* large slopes enter through the instance */
        {{"a"}, {"0.5"}, 1, 1},
        {{"a"}, {"0.3"}, 1, 2},            /* -log2 0.3 = 1.74 */
        {{"a"}, {"1e-20"}, 1, 67},         /* 66.4 */
        {{"a"}, {"1e-2000"}, 1, 6644},     /* 6643.9 */
        {{"seed", "prec", "shape"}, {"0.001", "0.001", "4x8"}, 3, 0}, /* not parameters */
        {{"a", "tau"}, {"2", "0.125"}, 2, 3},
        {{"a"}, {"1e-400000000"}, 1, LONG_MAX}, /* below MPFR's range */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        long b = verdict_param_bits(cases[k].n, cases[k].names, cases[k].values);
        /* the bound -log2 theta <= 1 - e is at most one bit over */
        ck_assert_msg(b == cases[k].bits || b == cases[k].bits + 1, "case %zu: %ld bits", k, b);
    }
    ck_assert_int_eq(verdict_resolve_prec(1, 0, 0), VERDICT_EXACT_KAPPA + VERDICT_RESOLVE_MARGIN);
    ck_assert_int_eq(verdict_resolve_prec(3, 10, 5),
                     verdict_kappa(3) + VERDICT_RESOLVE_MARGIN + 15);
    ck_assert_int_eq(verdict_resolve_prec(1, LONG_MAX, 0), LONG_MAX);
    ck_assert_int_eq(verdict_resolve_prec(1, 5, LONG_MAX - 3), LONG_MAX);
    ck_assert_str_eq(verdict_word(VERDICT_HOLDS, 0, 1), "holds");
    ck_assert_str_eq(verdict_word(VERDICT_HOLDS, 1, 1), "not detected at this resolution");
    ck_assert_str_eq(verdict_word(VERDICT_HOLDS, 1, 0), "not detected");
    ck_assert_str_eq(verdict_word(VERDICT_VACUOUS, 1, 0), "not detected (vacuous bound)");
    ck_assert_str_eq(verdict_word(VERDICT_VIOLATED, 1, 1), "violated");
    ck_assert_str_eq(verdict_word(VERDICT_INCONCLUSIVE, 1, 1), "inconclusive");
}
END_TEST

Suite *suite_verdict(void)
{
    Suite *s = suite_create("verdict");
    TCase *tc = tcase_create("rules");
    tcase_add_test(tc, test_error_metric);
    tcase_add_test(tc, test_verdict_exact);
    tcase_add_test(tc, test_verdict_bound);
    tcase_add_test(tc, test_nan_and_inf_never_hold);
    tcase_add_test(tc, test_verdict_vacuous);
    tcase_add_test(tc, test_trivial_bound_oracle);
    tcase_add_test(tc, test_resolution_rule);
    suite_add_tcase(s, tc);
    return s;
}
