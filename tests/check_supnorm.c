/* Tests of the certified sup norm and of W0(1/e). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "testutil.h"
#include "supnorm.h"
#include "special.h"

/* W0(1/e) by plain Newton in MPFR at prec bits (the oracle). */
static void w0_reference(mpfr_t w, mpfr_prec_t prec)
{
    mpfr_t e1, f, df;
    mpfr_inits2(prec, e1, f, df, (mpfr_ptr)0);
    mpfr_set_si(e1, -1, MPFR_RNDN);
    mpfr_exp(e1, e1, MPFR_RNDN);
    mpfr_set_d(w, 0.28, MPFR_RNDN);
    for (int it = 0; it < 40; it++) {
        mpfr_exp(df, w, MPFR_RNDN);
        mpfr_mul(f, w, df, MPFR_RNDN);
        mpfr_sub(f, f, e1, MPFR_RNDN);
        mpfr_add_ui(e1, w, 1, MPFR_RNDN); /* reuse: (1 + w) e^w */
        mpfr_mul(df, df, e1, MPFR_RNDN);
        mpfr_div(f, f, df, MPFR_RNDN);
        mpfr_sub(w, w, f, MPFR_RNDN);
        mpfr_set_si(e1, -1, MPFR_RNDN);
        mpfr_exp(e1, e1, MPFR_RNDN);
    }
    mpfr_clears(e1, f, df, (mpfr_ptr)0);
}

START_TEST(test_w0)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed());
    for (int r = 0; r < (test_quick() ? 3 : 12); r++) {
        mpfr_prec_t prec = test_random_prec(st, 24, 2000);
        mpfi_t w;
        mpfr_t ref, width;
        mpfi_init2(w, prec);
        mpfr_init2(ref, prec + 100);
        mpfr_init2(width, 32);
        ck_assert(special_w0_inv_e(w, prec) == 0);
        w0_reference(ref, prec + 100);
        ck_assert_msg(mpfi_is_inside_fr(ref, w) > 0, "W0 not enclosed at %ld bits", (long)prec);
        mpfi_diam_abs(width, w);
        ck_assert_msg(mpfr_cmp_ui_2exp(width, 1, -(long)prec + 4) <= 0, "W0 too wide at %ld bits",
                      (long)prec);
        /* a value off by 2^-(prec-8) relative is outside */
        mpfr_mul_d(ref, ref, 1 + ldexp(1.0, -(int)(prec > 60 ? 52 : prec - 8)), MPFR_RNDN);
        ck_assert(mpfi_is_inside_fr(ref, w) <= 0);
        mpfi_clear(w);
        mpfr_clear(ref);
        mpfr_clear(width);
    }
    gmp_randclear(st);
}
END_TEST

static const char *const a_values[] = {"0.25", "0.5", "1", "2", "16", "1024"};

/* relu-limit: sup |SiLU_a - ReLU| on [-10, 10] encloses W0(1/e)/a, and the
 * argmax is near +-(1 + W0(1/e))/a; a value 1e-4 off is excluded. */
START_TEST(test_silu_relu_gap)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + (unsigned long)_i);
    mpfr_prec_t prec = test_random_prec(st, 64, 256);
    char spec[32], err[256];
    act_t f, g;
    snprintf(spec, sizeof spec, "silu_a:%s", a_values[_i]);
    ck_assert(act_init_name(&f, spec, err, sizeof err, prec) == 0);
    ck_assert(act_init_name(&g, "relu", err, sizeof err, prec) == 0);
    supnorm_t s;
    supnorm_opts_t o;
    supnorm_opts_default(&o);
    supnorm_init(&s, prec);
    mpfr_t L;
    mpfr_init2(L, 16);
    mpfr_set_ui(L, 10, MPFR_RNDN);
    ck_assert_int_eq(supnorm_diff(&s, &f, &g, L, &o, prec), 0);
    ck_assert(s.converged);

    mpfi_t w, arg;
    mpfi_init2(w, prec);
    mpfi_init2(arg, prec);
    ck_assert(special_w0_inv_e(w, prec) == 0);
    mpfi_add_ui(arg, w, 1);
    mpfi_div(w, w, f.param);       /* W0(1/e)/a */
    mpfi_div(arg, arg, f.param);   /* (1 + W0(1/e))/a */
    /* both are enclosures of the same number: they must meet */
    ck_assert_msg(mpfr_lessequal_p(&w->left, &s.sup->right) && mpfr_lessequal_p(&s.sup->left, &w->right),
                  "a = %s: sup enclosure misses W0(1/e)/a (prec %ld, seed %lu)", a_values[_i],
                  (long)prec, test_seed());
    /* relative width within the target */
    mpfr_t d;
    mpfr_init2(d, 64);
    mpfi_diam_rel(d, s.sup);
    ck_assert(mpfr_cmp_d(d, 2e-6) <= 0);
    /* the argmax is near +-(1 + W0)/a: within 1e-2/a */
    mpfr_abs(d, s.argmax, MPFR_RNDN);
    mpfr_sub(d, d, &arg->left, MPFR_RNDN);
    mpfr_mul(d, d, &f.param->left, MPFR_RNDN);
    ck_assert_msg(fabs(mpfr_get_d(d, MPFR_RNDN)) < 1e-2, "argmax off for a = %s", a_values[_i]);
    /* a wrong constant (1e-4 too large) is excluded: the check can fail */
    mpfi_mul_d(w, w, 1 + 1e-4);
    ck_assert(mpfr_greater_p(&w->left, &s.sup->right));
    mpfr_clear(d);
    mpfr_clear(L);
    mpfi_clear(w);
    mpfi_clear(arg);
    supnorm_clear(&s);
    act_clear(&f);
    act_clear(&g);
    gmp_randclear(st);
}
END_TEST

/* GELU against SiLU_1.702 (a built-in and an expression, two ways): the
 * enclosure holds the maximum over a fine grid in doubles. */
START_TEST(test_gelu_silu_gap)
{
    char err[256];
    act_t f, g, h;
    ck_assert(act_init_name(&f, "gelu", err, sizeof err, 128) == 0);
    ck_assert(act_init_name(&g, "silu_a:1.702", err, sizeof err, 128) == 0);
    ck_assert(act_init_expr(&h, "x*sigmoid(1.702*x)", err, sizeof err, 128) == 0);
    supnorm_t s1, s2;
    supnorm_init(&s1, 128);
    supnorm_init(&s2, 128);
    mpfr_t L;
    mpfr_init2(L, 16);
    mpfr_set_ui(L, 10, MPFR_RNDN);
    ck_assert_int_eq(supnorm_diff(&s1, &f, &g, L, NULL, 128), 0);
    ck_assert_int_eq(supnorm_diff(&s2, &h, &f, L, NULL, 128), 0);
    /* the two enclosures overlap */
    ck_assert(mpfr_lessequal_p(&s1.sup->left, &s2.sup->right) &&
              mpfr_lessequal_p(&s2.sup->left, &s1.sup->right));
    double best = 0;
    for (int k = -200000; k <= 200000; k++) {
        double x = k * 5e-5;
        double v = fabs(act_eval_d(&f, x) - act_eval_d(&g, x));
        if (v > best) best = v;
    }
    ck_assert(mpfr_cmp_d(&s1.sup->right, best) >= 0);
    ck_assert(mpfr_cmp_d(&s1.sup->left, best * (1 + 1e-9)) <= 0);
    ck_assert(fabs(best - 0.0203348) < 1e-6);
    mpfr_clear(L);
    supnorm_clear(&s1);
    supnorm_clear(&s2);
    act_clear(&f);
    act_clear(&g);
    act_clear(&h);
}
END_TEST

/* Identical functions: lower end 0; functions not certifiable on part of the
 * domain: an infinite upper end, no crash; a bad domain: -1. */
START_TEST(test_edge_cases)
{
    char err[256];
    act_t f, g, l;
    ck_assert(act_init_name(&f, "tanh", err, sizeof err, 96) == 0);
    ck_assert(act_init_expr(&g, "2*sigmoid(2*z) - 1", err, sizeof err, 96) == 0);
    ck_assert(act_init_expr(&l, "log(x)", err, sizeof err, 96) == 0);
    supnorm_t s;
    supnorm_opts_t o;
    supnorm_opts_default(&o);
    o.max_boxes = 50000;
    o.abs_tol = 1e-6;
    supnorm_init(&s, 96);
    mpfr_t L;
    mpfr_init2(L, 16);
    mpfr_set_ui(L, 4, MPFR_RNDN);
    ck_assert_int_eq(supnorm_diff(&s, &f, &g, L, &o, 96), 0);
    ck_assert(mpfr_zero_p(&s.sup->left) && mpfr_cmp_d(&s.sup->right, 1e-6) <= 0);
    ck_assert_int_eq(supnorm_diff(&s, &l, NULL, L, &o, 96), 1);
    ck_assert(mpfr_inf_p(&s.sup->right) && !s.converged);
    mpfr_set_si(L, -1, MPFR_RNDN);
    ck_assert_int_eq(supnorm_diff(&s, &f, &g, L, &o, 96), -1);
    mpfr_set_nan(L);
    ck_assert_int_eq(supnorm_diff(&s, &f, &g, L, &o, 96), -1);
    /* sup |relu| on [-4, 4] is exactly 4, reached at 4 */
    act_t r;
    ck_assert(act_init_name(&r, "relu", err, sizeof err, 96) == 0);
    mpfr_set_ui(L, 4, MPFR_RNDN);
    ck_assert_int_eq(supnorm_diff(&s, &r, NULL, L, &o, 96), 0);
    ck_assert(mpfr_cmp_ui(&s.sup->left, 4) == 0 && mpfr_cmp_ui(&s.sup->right, 4) == 0);
    ck_assert(mpfr_cmp_ui(s.argmax, 4) == 0);
    act_clear(&r);
    mpfr_clear(L);
    supnorm_clear(&s);
    act_clear(&f);
    act_clear(&g);
    act_clear(&l);
}
END_TEST

Suite *suite_supnorm(void)
{
    Suite *s = suite_create("supnorm");
    TCase *tc = tcase_create("supnorm");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_w0);
    tcase_add_loop_test(tc, test_silu_relu_gap, 0, (int)(sizeof a_values / sizeof a_values[0]));
    tcase_add_test(tc, test_gelu_silu_gap);
    tcase_add_test(tc, test_edge_cases);
    suite_add_tcase(s, tc);
    return s;
}
