/* The error metric and the verdict rules of claims.md. */
#include "claim.h"
#include "verdict.h"
#include "testutil.h"
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

Suite *suite_verdict(void)
{
    Suite *s = suite_create("verdict");
    TCase *tc = tcase_create("rules");
    tcase_add_test(tc, test_error_metric);
    tcase_add_test(tc, test_verdict_exact);
    tcase_add_test(tc, test_verdict_bound);
    tcase_add_test(tc, test_nan_and_inf_never_hold);
    suite_add_tcase(s, tc);
    return s;
}
