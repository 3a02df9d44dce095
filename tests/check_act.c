/* Tests of the activation registry: each built-in's enclosure is computed
 * two ways (its own routine, and its formula in the expression language
 * evaluated in plain MPFR at 100 more bits) and must contain the latter. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "testutil.h"
#include "act.h"
#include "special.h"

/* Reference value at t, plain MPFR at ref's precision: the built-in's
 * formula in the expression language (expr.c's own expansion of its name). */
static void act_reference(mpfr_t ref, const act_t *f, const mpfr_t t)
{
    ck_assert_ptr_nonnull(f->dexpr);
    expr_eval_fr(ref, f->dexpr, t, MPFR_RNDN);
}

static void init_builtin(act_t *f, int k, mpfr_prec_t prec)
{
    char spec[64], err[256];
    const act_info_t *info = &act_builtins[k];
    snprintf(spec, sizeof spec, "%s%s", info->name,
             strcmp(info->name, "silu_a") == 0 ? ":1.702" : "");
    ck_assert_msg(act_init_name(f, spec, err, sizeof err, prec) == 0, "%s", err);
}

static int contains(const arb_t y, const mpfr_t v)
{
    return arb_contains_mpfr(y, v);
}

/* The ends of y as MPFR points at 128 bits (lo down, hi up). */
static void ends128(mpfr_t lo, mpfr_t hi, const arb_t y)
{
    mpfr_set_prec(lo, 128);
    mpfr_set_prec(hi, 128);
    ival_get_lo(lo, y);
    ival_get_hi(hi, y);
}

START_TEST(test_builtin_enclosures)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + 7u * (unsigned long)_i);
    int reps = test_quick() ? 10 : 80;
    for (int r = 0; r < reps; r++) {
        mpfr_prec_t prec = test_random_prec(st, 20, 500);
        act_t f;
        init_builtin(&f, _i, prec);
        mpfr_t lo, hi, t, ref;
        arb_t x, y, dy;
        mpfr_inits2(prec, lo, hi, t, (mpfr_ptr)0);
        mpfr_init2(ref, prec + 100);
        arb_init(x);
        arb_init(y);
        arb_init(dy);
        /* box in [-8, 8], some of them straddling 0, -3, 3 */
        mpfr_urandomb(lo, st);
        mpfr_mul_ui(lo, lo, 16, MPFR_RNDN);
        mpfr_sub_ui(lo, lo, 8, MPFR_RNDN);
        mpfr_urandomb(hi, st);
        mpfr_mul_ui(hi, hi, 1u + (unsigned)(r % 3) * 3u, MPFR_RNDN);
        mpfr_add(hi, lo, hi, MPFR_RNDU);
        for (int j = 0; j < 4; j++) {
            mpfr_urandomb(t, st);
            mpfr_sub(ref, hi, lo, MPFR_RNDN);
            mpfr_mul(t, t, ref, MPFR_RNDN);
            mpfr_add(t, t, lo, MPFR_RNDN);
            if (j == 0) mpfr_set(t, lo, MPFR_RNDN);
            if (j == 1) mpfr_set(t, hi, MPFR_RNDN);
            if (mpfr_less_p(t, lo)) mpfr_set(t, lo, MPFR_RNDN);
            if (mpfr_greater_p(t, hi)) mpfr_set(t, hi, MPFR_RNDN);
            act_reference(ref, &f, t);
            act_eval_point(y, &f, t, prec);
            ck_assert_msg(contains(y, ref), "%s at a point, prec %ld, seed %lu", f.name,
                          (long)prec, test_seed());
            ival_set_interval_fr(x, lo, hi, prec);
            act_eval_ival(y, x, &f, prec);
            ck_assert_msg(contains(y, ref), "%s over a box, prec %ld, seed %lu", f.name,
                          (long)prec, test_seed());
            double d = act_eval_d(&f, mpfr_get_d(t, MPFR_RNDN));
            ck_assert_msg(fabs(d - mpfr_get_d(ref, MPFR_RNDN)) <= 1e-9 * (1 + fabs(d)),
                          "%s in doubles", f.name);
        }
        /* mean value: f(hi) - f(lo) in f'(B) (hi - lo) */
        ival_set_interval_fr(x, lo, hi, prec);
        act_eval_dival(dy, x, &f, prec);
        ck_assert_msg(arb_is_finite(dy), "%s: no derivative bound", f.name);
        arb_t a, b;
        arb_init(a);
        arb_init(b);
        act_eval_point(a, &f, hi, prec);
        act_eval_point(b, &f, lo, prec);
        arb_sub(a, a, b, prec);
        arb_t c;
        arb_init(c);
        ival_set_fr(b, hi);
        ival_set_fr(c, lo);
        arb_sub(b, b, c, prec); /* hi - lo */
        arb_clear(c);
        arb_mul(dy, dy, b, prec);
        ck_assert_msg(arb_overlaps(a, dy), "%s: mean-value form fails, seed %lu", f.name,
                      test_seed());
        arb_clear(a);
        arb_clear(b);
        mpfr_clears(lo, hi, t, ref, (mpfr_ptr)0);
        arb_clear(x);
        arb_clear(y);
        arb_clear(dy);
        act_clear(&f);
    }
    gmp_randclear(st);
}
END_TEST

/* Monotone built-ins map ends to ends: the enclosure of a box is as narrow
 * as the range itself, up to the ball's radius, which Arb keeps to 30 bits
 * (so the ends are within 2^-26 of the width of the exact range). */
START_TEST(test_monotone_tight)
{
    static const char *names[] = {"sigmoid", "tanh", "softplus", "elu", "relu", "identity"};
    char err[256];
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        act_t f;
        ck_assert(act_init_name(&f, names[k], err, sizeof err, 128) == 0);
        arb_t x, y, ylo, yhi;
        arb_init(x);
        arb_init(y);
        arb_init(ylo);
        arb_init(yhi);
        test_ball_interval_d(x, -1.25, 0.75);
        act_eval_ival(y, x, &f, 128);
        mpfr_t d, a, b, w;
        mpfr_inits2(128, d, a, b, w, (mpfr_ptr)0);
        mpfr_set_d(a, -1.25, MPFR_RNDN);
        act_eval_point(ylo, &f, a, 128);
        mpfr_set_d(a, 0.75, MPFR_RNDN);
        act_eval_point(yhi, &f, a, 128);
        /* the box enclosure contains the ends' enclosures and exceeds them
         * by no more than 2^-26 of the range */
        ends128(a, b, y);
        mpfr_sub(w, b, a, MPFR_RNDU);
        mpfr_mul_2si(w, w, -26, MPFR_RNDU);
        ends128(d, b, ylo);
        mpfr_sub(d, d, a, MPFR_RNDN);
        ck_assert_msg(mpfr_sgn(d) >= 0 && mpfr_lessequal_p(d, w), "%s lower end", names[k]);
        ends128(a, b, y);
        ends128(a, d, yhi);
        mpfr_sub(d, b, d, MPFR_RNDN);
        ck_assert_msg(mpfr_sgn(d) >= 0 && mpfr_lessequal_p(d, w), "%s upper end", names[k]);
        mpfr_clears(d, a, b, w, (mpfr_ptr)0);
        arb_clear(x);
        arb_clear(y);
        arb_clear(ylo);
        arb_clear(yhi);
        act_clear(&f);
    }
}
END_TEST

/* hardswish's parabola piece: the vertex -3/8 is exactly the lower end. */
START_TEST(test_hardswish_vertex)
{
    char err[256];
    act_t f;
    ck_assert(act_init_name(&f, "hardswish", err, sizeof err, 64) == 0);
    arb_t x, y;
    arb_init(x);
    arb_init(y);
    /* the ball's ends are the exact ones within its 30-bit radius */
    test_ball_interval_d(x, -2, -1);
    act_eval_ival(y, x, &f, 64);
    ck_assert(ival_lo_d(y) <= -0.375 && ival_lo_d(y) > -0.375 - 1e-8);
    test_ball_interval_d(x, -5, 4);
    act_eval_ival(y, x, &f, 64);
    ck_assert(ival_lo_d(y) <= -0.375 && ival_lo_d(y) > -0.375 - 1e-7);
    ck_assert(ival_hi_d(y) >= 4 && ival_hi_d(y) < 4 + 1e-7);
    arb_clear(x);
    arb_clear(y);
    act_clear(&f);
}
END_TEST

START_TEST(test_registry_and_errors)
{
    char err[256];
    act_t f;
    static const char *names[] = {"identity", "relu", "silu", "silu_a", "gelu", "gelu_tanh",
                                  "sigmoid", "tanh", "softplus", "elu", "mish", "hardswish"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        ck_assert_msg(act_find(names[k]) != NULL, "%s missing", names[k]);
    ck_assert(act_find("swish") == NULL);
    ck_assert(act_init_name(&f, "swish", err, sizeof err, 64) == -1 && strstr(err, "unknown"));
    ck_assert(act_init_name(&f, "relu:2", err, sizeof err, 64) == -1 && strstr(err, "no parameter"));
    ck_assert(act_init_name(&f, "silu_a:abc", err, sizeof err, 64) == -1 && strstr(err, "finite"));
    ck_assert(act_init_name(&f, "silu_a:nan", err, sizeof err, 64) == -1);
    ck_assert(act_init_name(&f, "silu_a:", err, sizeof err, 64) == -1);
    ck_assert(act_init_spec(&f, "x*(sigmoid(", err, sizeof err, 64) == -1 &&
              strstr(err, "position 12"));
    ck_assert(act_init_spec(&f, "gelu", err, sizeof err, 64) == 0 && f.expr == NULL);
    act_clear(&f);
    ck_assert(act_init_spec(&f, "x*sigmoid(x)", err, sizeof err, 64) == 0 && f.expr != NULL);
    ck_assert_str_eq(act_formula(&f), "x*sigmoid(x)");
    act_clear(&f);
    ck_assert(act_init_name(&f, "silu_a", err, sizeof err, 64) == 0);
    ck_assert_str_eq(f.name, "silu_a:1");
    act_clear(&f);
    /* act_init_silu_a agrees with silu_a:0.25 */
    arb_t a, x, y1, y2;
    arb_init(a);
    arb_init(x);
    arb_init(y1);
    arb_init(y2);
    arb_set_d(a, 0.25);
    act_init_silu_a(&f, a, 64);
    act_t g;
    ck_assert(act_init_name(&g, "silu_a:0.25", err, sizeof err, 64) == 0);
    test_ball_interval_d(x, -3, 2);
    act_eval_ival(y1, x, &f, 64);
    act_eval_ival(y2, x, &g, 64);
    ck_assert(arb_equal(y1, y2));
    arb_clear(a);
    arb_clear(x);
    arb_clear(y1);
    arb_clear(y2);
    act_clear(&f);
    act_clear(&g);
}
END_TEST

/* One row per built-in holds all that is known of it: unique names, each
 * found by act_find and named in the unknown-name message; its form in the
 * expression language (the row's formula, or the language's own function)
 * meets its ball evaluation; class facts complete where given. */
START_TEST(test_registry_rows)
{
    char err[512], src[64];
    act_t bad;
    ck_assert(act_init_name(&bad, "no-such", err, sizeof err, 64) == -1);
    arb_t x, y1, y2, one;
    arb_init(x);
    arb_init(y1);
    arb_init(y2);
    arb_init(one);
    arb_one(one); /* the parameter's default */
    for (int k = 0; k < act_n_builtins; k++) {
        const act_info_t *info = &act_builtins[k];
        ck_assert_str_eq(info->param_default ? info->param_default : "1", "1");
        ck_assert_ptr_eq(act_find(info->name), info);
        for (int j = 0; j < k; j++)
            ck_assert_str_ne(act_builtins[j].name, info->name);
        ck_assert_msg(strstr(err, info->name) != NULL, "'%s' not in '%s'", info->name, err);
        ck_assert(info->ival && info->eval_d && info->formula);
        ck_assert((info->param_name == NULL) == (info->param_default == NULL));
        ck_assert(info->baseline_param == NULL || info->param_name != NULL);
        ck_assert(info->expr == NULL || info->param_name || !strstr(info->expr, "_a"));
        ck_assert((info->witness_cls >= 0) == (info->witness_show != NULL));
        for (int p = 0; info->witness_cls >= 0 && p < ACT_MEMBER_NPAR; p++)
            ck_assert(info->witness_par[p] != NULL);
        ck_assert((info->nonmember_cls >= 0) == (info->nonmember_why != NULL));
        snprintf(src, sizeof src, "%s(x)", info->name);
        expr_t *e = expr_parse(src, err, sizeof err);
        ck_assert_msg(e != NULL, "%s: %s", src, err);
        for (int t = -6; t <= 6; t++) {
            arb_set_d(x, t * 0.75);
            expr_eval_ival(y1, e, x, 64);
            info->ival(y2, x, info->param_name ? (const void *)one : NULL, 64);
            ck_assert_msg(arb_is_finite(y1) && arb_overlaps(y1, y2), "%s at %g", src, t * 0.75);
        }
        expr_free(e);
        ck_assert(act_init_name(&bad, "no-such", err, sizeof err, 64) == -1);
    }
    arb_clear(x);
    arb_clear(y1);
    arb_clear(y2);
    arb_clear(one);
}
END_TEST

Suite *suite_act(void)
{
    Suite *s = suite_create("act");
    TCase *tc = tcase_create("act");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_builtin_enclosures, 0, act_n_builtins);
    tcase_add_test(tc, test_monotone_tight);
    tcase_add_test(tc, test_hardswish_vertex);
    tcase_add_test(tc, test_registry_and_errors);
    tcase_add_test(tc, test_registry_rows);
    suite_add_tcase(s, tc);
    return s;
}
