/* Tests of the certified sup norm and of W0(1/e). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "testutil.h"
#include "supnorm.h"
#include "special.h"
#include "imat.h"

/* Width of a ball relative to its midpoint, as a double (rounded up). */
static double rel_width(const arb_t x)
{
    return 2 * mag_get_d(arb_radref(x)) / fabs(arf_get_d(arb_midref(x), ARF_RND_DOWN));
}

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
        arb_t w;
        mpfr_t ref, width;
        arb_init(w);
        mpfr_init2(ref, prec + 100);
        mpfr_init2(width, 32);
        ck_assert(special_w0_inv_e(w, prec) == 0);
        w0_reference(ref, prec + 100);
        ck_assert_msg(arb_contains_mpfr(w, ref), "W0 not enclosed at %ld bits", (long)prec);
        ck_assert_msg(mag_cmp_2exp_si(arb_radref(w), -(long)prec + 3) <= 0, "W0 too wide at %ld bits",
                      (long)prec);
        /* a value off by 2^-(prec-8) relative is outside */
        mpfr_mul_d(ref, ref, 1 + ldexp(1.0, -(int)(prec > 60 ? 52 : prec - 8)), MPFR_RNDN);
        ck_assert(!arb_contains_mpfr(w, ref));
        arb_clear(w);
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

    arb_t w, arg;
    arb_init(w);
    arb_init(arg);
    ck_assert(special_w0_inv_e(w, prec) == 0);
    arb_add_ui(arg, w, 1, prec);
    arb_div(w, w, f.param, prec);       /* W0(1/e)/a */
    arb_div(arg, arg, f.param, prec);   /* (1 + W0(1/e))/a */
    /* both are enclosures of the same number: they must meet */
    ck_assert_msg(arb_overlaps(w, s.sup),
                  "a = %s: sup enclosure misses W0(1/e)/a (prec %ld, seed %lu)", a_values[_i],
                  (long)prec, test_seed());
    /* relative width within the target */
    ck_assert(rel_width(s.sup) <= 2e-6);
    /* the argmax is near +-(1 + W0)/a: within 1e-2/a */
    double am = fabs(mpfr_get_d(s.argmax, MPFR_RNDN));
    double dev = (am - arf_get_d(arb_midref(arg), ARF_RND_NEAR)) *
                 arf_get_d(arb_midref(f.param), ARF_RND_NEAR);
    ck_assert_msg(fabs(dev) < 1e-2, "argmax off for a = %s", a_values[_i]);
    /* a wrong constant (1e-4 too large) is excluded: the check can fail */
    arb_t k;
    arb_init(k);
    arb_set_d(k, 1 + 1e-4);
    arb_mul(w, w, k, prec);
    arb_clear(k);
    ck_assert(arb_gt(w, s.sup));
    mpfr_clear(L);
    arb_clear(w);
    arb_clear(arg);
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
    ck_assert(arb_overlaps(s1.sup, s2.sup));
    double best = 0;
    for (int k = -200000; k <= 200000; k++) {
        double x = k * 5e-5;
        double v = fabs(act_eval_d(&f, x) - act_eval_d(&g, x));
        if (v > best) best = v;
    }
    ck_assert(ival_hi_d(s1.sup) >= best);
    ck_assert(ival_lo_d(s1.sup) <= best * (1 + 1e-9));
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
    /* [0, hi] as a ball: lower end at or just below 0, hi within its 30-bit radius */
    ck_assert(ival_lo_d(s.sup) <= 0 && ival_hi_d(s.sup) <= 1.0001e-6);
    ck_assert_int_eq(supnorm_diff(&s, &l, NULL, L, &o, 96), 1);
    ck_assert(!arb_is_finite(s.sup) && !s.converged);
    mpfr_set_si(L, -1, MPFR_RNDN);
    ck_assert_int_eq(supnorm_diff(&s, &f, &g, L, &o, 96), -1);
    mpfr_set_nan(L);
    ck_assert_int_eq(supnorm_diff(&s, &f, &g, L, &o, 96), -1);
    /* sup |relu| on [-4, 4] is exactly 4, reached at 4 */
    act_t r;
    ck_assert(act_init_name(&r, "relu", err, sizeof err, 96) == 0);
    mpfr_set_ui(L, 4, MPFR_RNDN);
    ck_assert_int_eq(supnorm_diff(&s, &r, NULL, L, &o, 96), 0);
    ck_assert(arb_contains_si(s.sup, 4) && ival_hi_d(s.sup) <= 4 * (1 + 1e-6) &&
              ival_lo_d(s.sup) >= 4 * (1 - 1e-6));
    ck_assert(mpfr_cmp_ui(s.argmax, 4) == 0);
    act_clear(&r);
    mpfr_clear(L);
    supnorm_clear(&s);
    act_clear(&f);
    act_clear(&g);
    act_clear(&l);
}
END_TEST

/* Identities against the absolute floor: with Taylor bounds the search
 * reaches 1e-30 in a bounded number of boxes (counted, not timed; without
 * them 50000 boxes reach about 1e-8), and says it stopped at the floor; a
 * difference that is not 0 is never hidden by the floor. */
START_TEST(test_floor_identities)
{
    static const char *const same[][2] = {
        {"tanh(x)", "2*sigmoid(2*x) - 1"},
        {"erfc(x) - 1 + erf(x)", "0"},
        {"sin(x)^2 + cos(x)^2", "1"},
        {"gelu(x)", "x*(1 + erf(x/sqrt(2)))/2"},
        {"softplus(x) - softplus(-x)", "x"},
    };
    char err[256];
    mpfr_t L;
    mpfr_init2(L, 16);
    mpfr_set_ui(L, 10, MPFR_RNDN);
    supnorm_opts_t o;
    supnorm_opts_default(&o);
    o.abs_tol = 1e-30;
    o.taylor_order = 12;
    o.max_boxes = 20000;
    supnorm_t s;
    supnorm_init(&s, 128);
    for (size_t k = 0; k < sizeof same / sizeof same[0]; k++) {
        act_t f, g;
        ck_assert(act_init_expr(&f, same[k][0], err, sizeof err, 128) == 0);
        ck_assert(act_init_expr(&g, same[k][1], err, sizeof err, 128) == 0);
        ck_assert_msg(supnorm_diff(&s, &f, &g, L, &o, 128) == 0 && s.at_floor,
                      "%s = %s: not decided at the floor in %ld boxes", same[k][0], same[k][1],
                      s.boxes);
        ck_assert(arb_contains_zero(s.sup) && ival_hi_d(s.sup) <= 1e-30 * (1 + 1e-9));
        act_clear(&f);
        act_clear(&g);
    }
    /* 1e-25 x is not 0: the floor cannot hide it (its sup on [-10, 10] is
     * 1e-24, far above the floor) */
    act_t f, g;
    ck_assert(act_init_expr(&f, "tanh(x) + 1e-25*x", err, sizeof err, 128) == 0);
    ck_assert(act_init_expr(&g, "2*sigmoid(2*x) - 1", err, sizeof err, 128) == 0);
    ck_assert_int_eq(supnorm_diff(&s, &f, &g, L, &o, 128), 0);
    ck_assert(!s.at_floor && ival_lo_d(s.sup) > 0.99e-24 && ival_hi_d(s.sup) < 1.01e-24);
    act_clear(&f);
    act_clear(&g);
    /* a pole inside the domain: no finite sup, and the search stops */
    ck_assert(act_init_expr(&f, "1/(x - 0.3)", err, sizeof err, 128) == 0);
    ck_assert_int_eq(supnorm_diff(&s, &f, NULL, L, &o, 128), 1);
    ck_assert(!arb_is_finite(s.sup) && s.boxes < 20000);
    act_clear(&f);
    supnorm_clear(&s);
    mpfr_clear(L);
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
    tcase_add_test(tc, test_floor_identities);
    suite_add_tcase(s, tc);
    return s;
}
