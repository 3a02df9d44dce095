/* The error metric and the verdict rules of claims.md. */
#include "claim.h"
#include "verdict.h"
#include "testutil.h"

START_TEST(test_error_metric)
{
    /* rows differ by (3, 4) and (1, 0): E = 5, largest |entry| = 4 */
    imat_t Y, Z;
    imat_init(Y, 2, 2, 64);
    imat_init(Z, 2, 2, 64);
    mpfi_set_si(imat_entry(Y, 0, 0), 3);
    mpfi_set_si(imat_entry(Y, 0, 1), -4);
    mpfi_set_si(imat_entry(Z, 1, 0), 1);
    mpfi_t E, Ea;
    mpfi_init2(E, 64);
    mpfi_init2(Ea, 64);
    error_metric(E, Ea, Y, Z, 0, 2, 2);
    ck_assert(mpfi_is_inside_ui(5, E) && mpfr_cmp_ui(&E->right, 5) == 0);
    ck_assert(mpfi_is_inside_ui(4, Ea));
    /* only row 1 */
    error_metric(E, Ea, Y, Z, 1, 1, 2);
    ck_assert(mpfr_cmp_ui(&E->left, 1) == 0 && mpfr_cmp_ui(&E->right, 1) == 0);
    mpfi_clear(E);
    mpfi_clear(Ea);
    imat_clear(Y);
    imat_clear(Z);
}
END_TEST

START_TEST(test_verdict_exact)
{
    mpfi_t E;
    mpfr_t S;
    mpfi_init2(E, 128);
    mpfr_init2(S, 64);
    mpfr_set_ui(S, 1, MPFR_RNDN);
    /* [0, 2^-100] at p = 113 with kappa 24: 2^-100 <= 2^-89: holds */
    mpfr_set_ui(&E->left, 0, MPFR_RNDD);
    mpfr_set_ui_2exp(&E->right, 1, -100, MPFR_RNDU);
    ck_assert_int_eq(verdict_exact(E, S, 113, 1), VERDICT_HOLDS);
    /* the same enclosure at p = 200: too wide for the slack: inconclusive */
    ck_assert_int_eq(verdict_exact(E, S, 200, 1), VERDICT_INCONCLUSIVE);
    /* ... but a depth-12 construction has 88 more bits of slack */
    ck_assert_int_eq(verdict_exact(E, S, 200, 12), VERDICT_HOLDS);
    /* 0 excluded: violated, however small */
    mpfr_set_ui_2exp(&E->left, 1, -300, MPFR_RNDD);
    ck_assert_int_eq(verdict_exact(E, S, 113, 1), VERDICT_VIOLATED);
    mpfi_clear(E);
    mpfr_clear(S);
}
END_TEST

START_TEST(test_verdict_bound)
{
    mpfi_t E, B;
    mpfi_init2(E, 64);
    mpfi_init2(B, 64);
    mpfi_interv_d(E, 1.0, 2.0);
    mpfi_interv_d(B, 2.0, 3.0);
    ck_assert_int_eq(verdict_bound(E, B), VERDICT_HOLDS);      /* hi(E) <= lo(B) */
    mpfi_interv_d(B, 1.5, 3.0);
    ck_assert_int_eq(verdict_bound(E, B), VERDICT_INCONCLUSIVE);
    mpfi_interv_d(B, 0.5, 0.9);
    ck_assert_int_eq(verdict_bound(E, B), VERDICT_VIOLATED);   /* lo(E) > hi(B) */
    mpfi_clear(E);
    mpfi_clear(B);
}
END_TEST

START_TEST(test_nan_and_inf_never_hold)
{
    /* a NaN entry must not vanish from E (mpfr_max would drop it) */
    imat_t Y, Z;
    imat_init(Y, 2, 1, 64);
    imat_init(Z, 2, 1, 64);
    mpfr_set_nan(&imat_entry(Y, 1, 0)->left);
    mpfr_set_nan(&imat_entry(Y, 1, 0)->right);
    mpfi_t E, Ea, B;
    mpfr_t S;
    mpfi_init2(E, 64);
    mpfi_init2(Ea, 64);
    mpfi_init2(B, 64);
    mpfr_init2(S, 64);
    error_metric(E, Ea, Y, Z, 0, 2, 1);
    ck_assert(mpfi_nan_p(E) && mpfi_nan_p(Ea));
    mpfr_set_ui(S, 1, MPFR_RNDN);
    ck_assert_int_eq(verdict_exact(E, S, 53, 1), VERDICT_INCONCLUSIVE);
    mpfi_set_ui(B, 1);
    ck_assert_int_eq(verdict_bound(E, B), VERDICT_INCONCLUSIVE);
    /* an infinite scale or an unbounded E certifies nothing */
    mpfi_interv_d(E, 0.0, 1e-30);
    mpfr_set_inf(S, 1);
    ck_assert_int_eq(verdict_exact(E, S, 53, 1), VERDICT_INCONCLUSIVE);
    mpfr_set_ui(S, 1, MPFR_RNDN);
    mpfr_set_inf(&E->right, 1);
    ck_assert_int_eq(verdict_exact(E, S, 53, 1), VERDICT_INCONCLUSIVE);
    /* ... but a certified nonzero lower end is still a counterexample */
    mpfr_set_d(&E->left, 0.5, MPFR_RNDD);
    ck_assert_int_eq(verdict_exact(E, S, 53, 1), VERDICT_VIOLATED);
    /* scale_of and the norm bounds treat NaN as unbounded */
    scale_of(S, Y, 0, 2, 1);
    ck_assert(mpfr_inf_p(S));
    imat_norm2_upper(S, Y);
    ck_assert(mpfr_inf_p(S));
    mpfi_clear(E);
    mpfi_clear(Ea);
    mpfi_clear(B);
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
