/* Tests of the --expr language: values enclosed, errors with positions, limits. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "expr.h"
#include "special.h"
#include "imat.h"

/* Oracles in plain MPFR (round to nearest at a much higher precision). */
static void ref_silu1702(mpfr_t y, const mpfr_t x)
{
    mpfr_t t;
    mpfr_init2(t, mpfr_get_prec(y));
    mpfr_set_str(t, "1.702", 10, MPFR_RNDN);
    mpfr_mul(t, t, x, MPFR_RNDN);
    mpfr_neg(t, t, MPFR_RNDN);
    mpfr_exp(t, t, MPFR_RNDN);
    mpfr_add_ui(t, t, 1, MPFR_RNDN);
    mpfr_div(y, x, t, MPFR_RNDN);
    mpfr_clear(t);
}
static void ref_gelu(mpfr_t y, const mpfr_t x)
{
    mpfr_t t;
    mpfr_init2(t, mpfr_get_prec(y));
    mpfr_sqrt_ui(t, 2, MPFR_RNDN);
    mpfr_div(t, x, t, MPFR_RNDN);
    mpfr_erf(t, t, MPFR_RNDN);
    mpfr_add_ui(t, t, 1, MPFR_RNDN);
    mpfr_mul(t, t, x, MPFR_RNDN);
    mpfr_div_2ui(y, t, 1, MPFR_RNDN);
    mpfr_clear(t);
}
static void ref_poly(mpfr_t y, const mpfr_t x) /* -x^2 + 2^-x */
{
    mpfr_t t;
    mpfr_init2(t, mpfr_get_prec(y));
    mpfr_ui_pow(t, 2, x, MPFR_RNDN);
    mpfr_ui_div(t, 1, t, MPFR_RNDN);
    mpfr_sqr(y, x, MPFR_RNDN);
    mpfr_sub(y, t, y, MPFR_RNDN);
    mpfr_clear(t);
}
static void ref_mix(mpfr_t y, const mpfr_t x) /* log1p(x^2) + expm1(x)/e - max(x, pi/4) */
{
    mpfr_t t, u;
    mpfr_init2(t, mpfr_get_prec(y));
    mpfr_init2(u, mpfr_get_prec(y));
    mpfr_sqr(t, x, MPFR_RNDN);
    mpfr_log1p(t, t, MPFR_RNDN);
    mpfr_expm1(u, x, MPFR_RNDN);
    mpfr_set_ui(y, 1, MPFR_RNDN);
    mpfr_exp(y, y, MPFR_RNDN);
    mpfr_div(u, u, y, MPFR_RNDN);
    mpfr_add(t, t, u, MPFR_RNDN);
    mpfr_const_pi(u, MPFR_RNDN);
    mpfr_div_2ui(u, u, 2, MPFR_RNDN);
    mpfr_max(u, u, x, MPFR_RNDN);
    mpfr_sub(y, t, u, MPFR_RNDN);
    mpfr_clear(t);
    mpfr_clear(u);
}
static void ref_misc(mpfr_t y, const mpfr_t x) /* tanh(x)*erfc(x) + softplus(x) + abs(x)^1.5 + sqrt(x^2+1) */
{
    mpfr_t t, u;
    mpfr_init2(t, mpfr_get_prec(y));
    mpfr_init2(u, mpfr_get_prec(y));
    mpfr_tanh(t, x, MPFR_RNDN);
    mpfr_erfc(u, x, MPFR_RNDN);
    mpfr_mul(t, t, u, MPFR_RNDN);
    mpfr_exp(u, x, MPFR_RNDN);
    mpfr_log1p(u, u, MPFR_RNDN);
    mpfr_add(t, t, u, MPFR_RNDN);
    mpfr_abs(u, x, MPFR_RNDN);
    mpfr_set_d(y, 1.5, MPFR_RNDN);
    mpfr_pow(u, u, y, MPFR_RNDN);
    mpfr_add(t, t, u, MPFR_RNDN);
    mpfr_sqr(u, x, MPFR_RNDN);
    mpfr_add_ui(u, u, 1, MPFR_RNDN);
    mpfr_sqrt(u, u, MPFR_RNDN);
    mpfr_add(y, t, u, MPFR_RNDN);
    mpfr_clear(t);
    mpfr_clear(u);
}

/* relu(x) + gelu(x) - silu_a(x, 1.702) + 2**x*sin(x) + cos(x)^2, the
 * built-ins written out */
static void ref_builtins(mpfr_t y, const mpfr_t x)
{
    mpfr_t t, u;
    mpfr_init2(t, mpfr_get_prec(y));
    mpfr_init2(u, mpfr_get_prec(y));
    mpfr_set_zero(t, 1);
    mpfr_max(y, x, t, MPFR_RNDN);
    ref_gelu(t, x);
    mpfr_add(y, y, t, MPFR_RNDN);
    ref_silu1702(t, x);
    mpfr_sub(y, y, t, MPFR_RNDN);
    mpfr_ui_pow(t, 2, x, MPFR_RNDN);
    mpfr_sin(u, x, MPFR_RNDN);
    mpfr_mul(t, t, u, MPFR_RNDN);
    mpfr_add(y, y, t, MPFR_RNDN);
    mpfr_cos(t, x, MPFR_RNDN);
    mpfr_sqr(t, t, MPFR_RNDN);
    mpfr_add(y, y, t, MPFR_RNDN);
    mpfr_clear(t);
    mpfr_clear(u);
}

static const struct {
    const char *text;
    void (*ref)(mpfr_t, const mpfr_t);
} cases[] = {
    {"relu(x) + gelu(x) - silu_a(x, 1.702) + 2**x*sin(x) + cos(x)^2", ref_builtins},
    {"x*sigmoid(1.702*x)", ref_silu1702},
    {"0.5 * z * (1 + erf(z / sqrt(2)))", ref_gelu},
    {"-x^2 + 2^-x", ref_poly},
    {"log1p(x^2) + expm1(x)/e - max(x, pi/4)", ref_mix},
    {"tanh(x)*erfc(x) + softplus(x) + abs(x)^1.5 + sqrt(x^2+1)", ref_misc},
};

/* 1 when the enclosure y contains v. */
static int contains(const arb_t y, const mpfr_t v)
{
    return arb_contains_mpfr(y, v);
}

/* A random box [lo, hi] with lo in [-span/2, span/2] and a width below
 * 1/div, and a random point t of it (all at their own precision). */
static void random_box_point(mpfr_t lo, mpfr_t hi, mpfr_t t, gmp_randstate_t st, unsigned span,
                             unsigned div)
{
    mpfr_t w;
    mpfr_init2(w, mpfr_get_prec(hi));
    mpfr_urandomb(lo, st);
    mpfr_mul_ui(lo, lo, span, MPFR_RNDN);
    mpfr_sub_ui(lo, lo, span / 2, MPFR_RNDN);
    mpfr_urandomb(hi, st);
    mpfr_div_ui(hi, hi, div, MPFR_RNDN);
    mpfr_add(hi, lo, hi, MPFR_RNDU);
    mpfr_urandomb(t, st);
    mpfr_sub(w, hi, lo, MPFR_RNDN);
    mpfr_mul(t, t, w, MPFR_RNDN);
    mpfr_add(t, t, lo, MPFR_RNDD);
    if (mpfr_less_p(t, lo))
        mpfr_set(t, lo, MPFR_RNDN);
    if (mpfr_greater_p(t, hi))
        mpfr_set(t, hi, MPFR_RNDN);
    mpfr_clear(w);
}

START_TEST(test_values_enclosed)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + (unsigned long)_i);
    char err[256];
    expr_t *e = expr_parse(cases[_i].text, err, sizeof err);
    ck_assert_msg(e != NULL, "%s: %s", cases[_i].text, err);
    int reps = test_quick() ? 10 : 60;
    for (int r = 0; r < reps; r++) {
        mpfr_prec_t prec = test_random_prec(st, 20, 600);
        mpfr_t t, lo, hi, ref;
        arb_t x, y;
        mpfr_inits2(prec, t, lo, hi, (mpfr_ptr)0);
        mpfr_init2(ref, prec + 100);
        arb_init(x);
        arb_init(y);
        /* a random box inside [-6, 6] and a random point of it */
        random_box_point(lo, hi, t, st, 12, 1u + (unsigned)(r % 7) * 100u);
        cases[_i].ref(ref, t);
        /* the point */
        ival_set_fr(x, t);
        expr_eval_ival(y, e, x, prec);
        ck_assert_msg(contains(y, ref), "%s at a point, prec %ld, seed %lu",
                      cases[_i].text, (long)prec, test_seed());
        /* the box */
        ival_set_interval_fr(x, lo, hi, prec);
        expr_eval_ival(y, e, x, prec);
        ck_assert_msg(contains(y, ref), "%s over a box, prec %ld, seed %lu",
                      cases[_i].text, (long)prec, test_seed());
        /* the point value in doubles is close */
        double d = expr_eval_d(e, mpfr_get_d(t, MPFR_RNDN));
        double rd = mpfr_get_d(ref, MPFR_RNDN);
        ck_assert_msg(fabsl((long double)d - rd) <= 1e-6 * (1 + fabsl((long double)rd)) || prec < 40,
                      "%s: double value %g vs %g", cases[_i].text, d, rd);
        mpfr_clears(t, lo, hi, ref, (mpfr_ptr)0);
        arb_clear(x);
        arb_clear(y);
    }
    expr_free(e);
    gmp_randclear(st);
}
END_TEST

/* A value off by a relative 1e-12 must fall outside a 200-bit enclosure. */
START_TEST(test_wrong_value_rejected)
{
    char err[256];
    expr_t *e = expr_parse(cases[0].text, err, sizeof err);
    ck_assert_ptr_nonnull(e);
    mpfr_t t, ref;
    arb_t x, y;
    mpfr_init2(t, 200);
    mpfr_init2(ref, 300);
    arb_init(x);
    arb_init(y);
    mpfr_set_d(t, 0.625, MPFR_RNDN);
    ref_silu1702(ref, t);
    mpfr_mul_d(ref, ref, 1 + 1e-12, MPFR_RNDN);
    ival_set_fr(x, t);
    expr_eval_ival(y, e, x, 200);
    ck_assert(!contains(y, ref));
    mpfr_clear(t);
    mpfr_clear(ref);
    arb_clear(x);
    arb_clear(y);
    expr_free(e);
}
END_TEST

static const struct {
    const char *text;
    long pos;
    const char *words;
} bad[] = {
    {"x*(sigmoid(", 12, "end of input"},
    {"", 1, "expected an operand"},
    {"(x", 3, "expected ')'"},
    {"x)", 2, "unbalanced"},
    {"foo(x)", 1, "unknown name 'foo'"},
    {"exp x", 5, "expected '(' after 'exp'"},
    {"min(x)", 6, "expected ','"},
    {"max(x, 1, 2)", 9, "expected ')'"},
    {"2 x", 3, "expected an operator"},
    {"x $ 1", 3, "'$'"},
    {"1..2", 3, "expected an operator"},
    {"x^", 3, "expected an operand"},
    {"1e99999999", 2, "exponent"},
    {"sigmoid(x,)", 10, "expected ')'"},
    {"\x80x", 1, "byte 0x80"},
    {"e(x)", 2, "expected an operator"},
    {"x * * x", 5, "expected an operand"},
    {"x ** ", 6, "expected an operand"},
    {"relu(x, 2)", 7, "expected ')'"},
    {"silu_a(x, )", 11, "expected an operand"},
    {"gelu", 5, "expected '(' after 'gelu'"},
    {"_a*x", 1, "unknown name '_a'"},
    {"sin()", 5, "expected an operand"},
};

START_TEST(test_malformed_positions)
{
    char err[256], want[64];
    expr_t *e = expr_parse(bad[_i].text, err, sizeof err);
    ck_assert_msg(e == NULL, "'%s' was accepted", bad[_i].text);
    snprintf(want, sizeof want, "at position %ld", bad[_i].pos);
    ck_assert_msg(strstr(err, want) != NULL, "'%s': %s (wanted %s)", bad[_i].text, err, want);
    ck_assert_msg(strstr(err, bad[_i].words) != NULL, "'%s': %s (wanted '%s')", bad[_i].text, err,
                  bad[_i].words);
    ck_assert(strncmp(err, "expression: ", 12) == 0 && strchr(err, '\n') == NULL);
}
END_TEST

START_TEST(test_limits)
{
    char err[256];
    char *s = malloc(EXPR_MAX_LEN + 64);
    ck_assert_ptr_nonnull(s);
    /* nesting: 60 levels parse, 70 do not */
    for (int depth = 60; depth <= 70; depth += 10) {
        int k = 0;
        for (int i = 0; i < depth; i++) s[k++] = '(';
        s[k++] = 'x';
        for (int i = 0; i < depth; i++) s[k++] = ')';
        s[k] = '\0';
        expr_t *e = expr_parse(s, err, sizeof err);
        if (depth == 60) {
            ck_assert_msg(e != NULL, "%s", err);
            expr_free(e);
        } else {
            ck_assert(e == NULL && strstr(err, "nested deeper") != NULL);
        }
    }
    /* unary minus and powers nest too */
    memset(s, '-', 200);
    strcpy(s + 200, "x");
    ck_assert(expr_parse(s, err, sizeof err) == NULL && strstr(err, "nested") != NULL);
    /* too long */
    memset(s, ' ', EXPR_MAX_LEN + 10);
    s[0] = 'x';
    s[EXPR_MAX_LEN + 10] = '\0';
    ck_assert(expr_parse(s, err, sizeof err) == NULL && strstr(err, "longer than") != NULL);
    /* a long flat sum at the limit is fine */
    int k = 0;
    while (k + 2 < EXPR_MAX_LEN) { s[k++] = 'x'; s[k++] = '+'; }
    s[k++] = 'x';
    s[k] = '\0';
    expr_t *e = expr_parse(s, err, sizeof err);
    ck_assert_msg(e != NULL, "%s", err);
    arb_t x, y;
    arb_init(x);
    arb_init(y);
    arb_set_ui(x, 1);
    expr_eval_ival(y, e, x, 64);
    ck_assert(arb_contains_si(y, (k + 1) / 2));
    arb_clear(x);
    arb_clear(y);
    expr_free(e);
    ck_assert(expr_parse(NULL, err, sizeof err) == NULL);
    free(s);
}
END_TEST

/* Outside the domain the result is NaN or unbounded, never a false bound. */
START_TEST(test_domain)
{
    static const char *texts[] = {"log(x)", "sqrt(x)", "1/x", "x^0.5", "x^-1", "x^-2",
                                  "log1p(x - 1)", "x^x", "0/0*x"};
    char err[256];
    arb_t x, y;
    const mpfr_prec_t prec = 64;
    arb_init(x);
    arb_init(y);
    for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
        expr_t *e = expr_parse(texts[k], err, sizeof err);
        ck_assert_msg(e != NULL, "%s", err);
        test_ball_interval_d(x, -1, 1);
        expr_eval_ival(y, e, x, prec);
        ck_assert_msg(!arb_is_finite(y), "%s on [-1, 1] was bounded", texts[k]);
        arb_set_si(x, 0);
        expr_eval_ival(y, e, x, prec); /* must not crash */
        expr_eval_dival(y, e, x, prec);
        expr_free(e);
    }
    /* integer powers of negatives are fine: x^3 on [-2, 1] is [-8, 1] (the
     * ends up to the ball's 30-bit radius) */
    expr_t *e = expr_parse("x^3", err, sizeof err);
    test_ball_interval_d(x, -2, 1);
    expr_eval_ival(y, e, x, prec);
    ck_assert(arb_contains_si(y, -8) && arb_contains_si(y, 1));
    ck_assert(ival_lo_d(y) > -8 - 1e-7 && ival_hi_d(y) < 1 + 1e-7);
    expr_free(e);
    e = expr_parse("(-x)^2", err, sizeof err);
    expr_eval_ival(y, e, x, prec);
    ck_assert(arb_contains_si(y, 0) && arb_contains_si(y, 4));
    ck_assert(ival_lo_d(y) > -1e-7 && ival_hi_d(y) < 4 + 1e-7);
    expr_free(e);
    arb_clear(x);
    arb_clear(y);
}
END_TEST

/* Values far beyond any double (a found by the fuzzer): evaluation stays
 * defined behaviour and encloses or gives up, never a false bound. */
START_TEST(test_huge_values)
{
    char err[256];
    expr_t *e = expr_parse("min(x, 2+e)-tanh(softplus(z^99999900003))", err, sizeof err);
    ck_assert_ptr_nonnull(e);
    arb_t x, y;
    arb_init(x);
    arb_init(y);
    test_ball_interval_d(x, -2, 3);
    expr_eval_ival(y, e, x, 64);
    /* min(x, 2+e) is in [-2, 3] and tanh in [-1, 1]: a finite result lies in
     * [-3, 4] up to the ball's 30-bit radius */
    ck_assert(!arb_is_finite(y) || (ival_lo_d(y) >= -3.001 && ival_hi_d(y) <= 4.001));
    expr_eval_dival(y, e, x, 64);
    arb_clear(x);
    arb_clear(y);
    expr_free(e);
}
END_TEST

/* Even powers and real powers of a non-negative base are >= 0 on balls that
 * straddle 0 (the hull of the ends used to reach below 0, and sqrt then
 * refused it); odd powers of negatives stay outside sqrt's domain. */
START_TEST(test_even_powers)
{
    static const char *const nonneg[] = {"sqrt(x^2)", "(x^2)^0.5", "(x^4)^0.25", "x^-2 + 1",
                                         "sqrt(abs(x)^3)"};
    char err[256];
    arb_t x, y;
    arb_init(x);
    arb_init(y);
    for (size_t k = 0; k < sizeof nonneg / sizeof nonneg[0]; k++) {
        expr_t *e = expr_parse(nonneg[k], err, sizeof err);
        ck_assert_msg(e != NULL, "%s", err);
        test_ball_interval_d(x, -1, 0.5);
        expr_eval_ival(y, e, x, 64);
        if (k == 3) { /* a pole at 0: unbounded, never a false bound */
            ck_assert(!arb_is_finite(y));
        } else {
            ck_assert_msg(arb_is_finite(y) && ival_lo_d(y) > -1e-6 && arb_contains_si(y, 0) &&
                          arb_contains_si(y, 1) && ival_hi_d(y) < 1 + 1e-6,
                          "%s on [-1, 0.5]", nonneg[k]);
        }
        expr_free(e);
    }
    static const char *const undefined[] = {"sqrt(x^3)", "(x^3)^0.5", "sqrt(x*x - 1e-30)"};
    for (size_t k = 0; k < sizeof undefined / sizeof undefined[0]; k++) {
        expr_t *e = expr_parse(undefined[k], err, sizeof err);
        ck_assert_msg(e != NULL, "%s", err);
        test_ball_interval_d(x, -1, 0.5);
        expr_eval_ival(y, e, x, 64);
        ck_assert_msg(!arb_is_finite(y), "%s on [-1, 0.5] was bounded", undefined[k]);
        expr_free(e);
    }
    arb_clear(x);
    arb_clear(y);
}
END_TEST

/* exp, expm1 and sigmoid of arguments past Arb's overflow (|x| ~ 1e300):
 * finite, certified enclosures, saturating where the function does. */
START_TEST(test_saturation)
{
    static const struct {
        const char *text;
        double x, lo, hi; /* the enclosure at x lies in [lo, hi] */
    } sat[] = {
        {"sigmoid(x)", -1e300, -1e-300, 1e-300},
        {"sigmoid(1.702*x)", -1e100, -1e-100, 1e-100},
        {"x*sigmoid(1.702*x)", -1e300, -1e-300, 1e-300},
        {"x*sigmoid(1.702*x)", -1e100, -1e-100, 1e-100},
        {"x*sigmoid(1.702*x) - x", 1e300, -1e-300, 1e-300},
        {"min(expm1(x), 0)", 1e300, 0, 0},
        {"elu(x) - x", 1e300, 0, 0},
        {"exp(-x)", 1e300, -1e-300, 1e-300},
    };
    char err[256];
    arb_t x, y;
    arb_init(x);
    arb_init(y);
    for (size_t k = 0; k < sizeof sat / sizeof sat[0]; k++) {
        expr_t *e = expr_parse(sat[k].text, err, sizeof err);
        ck_assert_msg(e != NULL, "%s", err);
        arb_set_d(x, sat[k].x);
        expr_eval_ival(y, e, x, 64);
        ck_assert_msg(arb_is_finite(y) && ival_lo_d(y) >= sat[k].lo && ival_hi_d(y) <= sat[k].hi,
                      "%s at %g: %s", sat[k].text, sat[k].x, arb_get_str(y, 10, 0));
        expr_free(e);
    }
    /* exp past the overflow: [0, 2^k] with 2^k >= e^x, so k >= x/log 2 > 1.4426e300 */
    expr_t *e = expr_parse("exp(x)", err, sizeof err);
    arb_set_d(x, 1e300);
    expr_eval_ival(y, e, x, 64);
    ck_assert(arb_is_finite(y) && arb_is_nonnegative(y));
    arf_t hi;
    fmpz_t k, bound;
    arf_init(hi);
    fmpz_init(k);
    fmpz_init(bound);
    arb_get_ubound_arf(hi, y, 64);
    arf_abs_bound_lt_2exp_fmpz(k, hi); /* hi < 2^k */
    fmpz_set_d(bound, 1.4426e300);
    ck_assert(fmpz_cmp(k, bound) > 0);
    arf_clear(hi);
    fmpz_clear(k);
    fmpz_clear(bound);
    expr_free(e);
    arb_clear(x);
    arb_clear(y);
}
END_TEST

/* The commands that refused valid functions (exit 65 "unbounded or undefined"):
 * even powers of negatives and huge finite arguments are defined. */
static const struct {
    const char *args;
    int code;
    const char *says;
} valid_cli[] = {
    /* before: 65, "unbounded or undefined near x = -10" */
    {"activation --expr 'sqrt(x^2)' --target relu --claim 10.5", 0,
     "claim: sup |f - g| <= 10.5 on [-L, L]: holds"},
    /* before: 65, "unbounded or undefined near x = 10" */
    {"activation --expr '(x^2)^0.5-abs(x)' --target relu --claim 10.5", 0,
     "claim: sup |f - g| <= 10.5 on [-L, L]: holds"},
    /* before: 65, "undefined at x = -1e+300" (and -1e+100) */
    {"activation --expr 'x*sigmoid(1.702*x)' --target gelu --domain 1e300 --claim 0.0204", 0,
     "claim: sup |f - g| <= 0.0204 on [-L, L]: holds"},
    {"activation --expr 'x*sigmoid(1.702*x)' --target gelu --domain 1e100 --claim 0.0203", 1,
     "claim: sup |f - g| <= 0.0203 on [-L, L]: violated"},
    /* still refused: an odd power of a negative under sqrt */
    {"activation --expr 'sqrt(x^3)' --target relu", 65, "undefined or not finite at x = -10"},
};

START_TEST(test_valid_functions_cli)
{
    char out[8192];
    int rc = test_run_cli(valid_cli[_i].args, out, sizeof out);
    ck_assert_msg(rc == valid_cli[_i].code, "'%s' exited %d, expected %d: %s", valid_cli[_i].args,
                  rc, valid_cli[_i].code, out);
    ck_assert_msg(strstr(out, valid_cli[_i].says), "'%s' does not say '%s': %s",
                  valid_cli[_i].args, valid_cli[_i].says, out);
}
END_TEST

/* The mean-value property the sup norm relies on: f(t) - f(m) lies in
 * f'(B) (t - m) for points t, m of the box B. */
/* The built-ins as functions are their formulas: relu(u) is max(u, 0) for
 * any argument u, silu_a's slope defaults to 1, elu's alpha is its second
 * argument; a tree of nested built-ins is limited. */
START_TEST(test_builtin_functions)
{
    static const char *const same[][2] = {
        {"relu(x^3 - 1)", "max(x^3 - 1, 0)"},
        {"silu(2*x)", "2*x*sigmoid(2*x)"},
        {"silu_a(x)", "x*sigmoid(x)"},
        {"silu_a(x, 0.5)", "x*sigmoid(0.5*x)"},
        {"elu(x, 0.5)", "max(x, 0) + 0.5*min(expm1(x), 0)"},
        {"hardswish(x)", "x*min(max(x + 3, 0), 6)/6"},
        {"identity(x) + mish(x)", "x + x*tanh(softplus(x))"},
        {"(x + 2)**2**-1", "(x + 2)^(2^(-1))"},
        {"-x**2", "-(x^2)"},
    };
    char err[256];
    arb_t x, y1, y2;
    arb_init(x);
    arb_init(y1);
    arb_init(y2);
    for (size_t k = 0; k < sizeof same / sizeof same[0]; k++) {
        expr_t *a = expr_parse(same[k][0], err, sizeof err), *b = expr_parse(same[k][1], err, sizeof err);
        ck_assert_msg(a && b, "%s: %s", same[k][0], err);
        for (int t = 0; t < 9; t++) {
            arb_set_d(x, 0.375 * t + (t % 2 ? 0.0625 : -0.125)); /* exact: dyadic */
            expr_eval_ival(y1, a, x, 200);
            expr_eval_ival(y2, b, x, 200);
            ck_assert_msg(arb_is_finite(y1) && arb_overlaps(y1, y2), "%s against %s at %g",
                          same[k][0], same[k][1], 0.375 * t);
        }
        expr_free(a);
        expr_free(b);
    }
    /* gelu nested 16 deep doubles its tree each time: over EXPR_MAX_NODES */
    char deep[256] = "";
    for (int k = 0; k < 16; k++)
        strcat(deep, "gelu(");
    strcat(deep, "x");
    for (int k = 0; k < 16; k++)
        strcat(deep, ")");
    ck_assert(expr_parse(deep, err, sizeof err) == NULL && strstr(err, "operations"));
    /* the typed constants, not a built-in's own (erfc(-x/sqrt(2)) inside gelu) */
    expr_t *e = expr_parse("gelu(1.5*x) + 0.25*x**3", err, sizeof err);
    const char *c[4];
    ck_assert_int_eq(expr_constants(c, 4, e), 3);
    ck_assert_str_eq(c[0], "1.5");
    ck_assert_str_eq(c[1], "0.25");
    ck_assert_str_eq(c[2], "3");
    expr_free(e);
    arb_clear(x);
    arb_clear(y1);
    arb_clear(y2);
}
END_TEST

/* Taylor with Lagrange's remainder, as the sup norm uses it: for a box B,
 * its midpoint m and a point t of B, f(t) (MPFR at 100 more bits) lies in
 * sum_{k<N} c_k(m) (t-m)^k + c_N(B) [t-m]^N. */
START_TEST(test_series_remainder)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + 200 + (unsigned long)_i);
    char err[256];
    expr_t *e = expr_parse(cases[_i].text, err, sizeof err);
    ck_assert_ptr_nonnull(e);
    const slong N = 1 + (slong)gmp_urandomm_ui(st, 12);
    for (int r = 0; r < (test_quick() ? 4 : 25); r++) {
        mpfr_prec_t prec = test_random_prec(st, 40, 400);
        mpfr_t lo, hi, m, t, ref;
        mpfr_inits2(prec, lo, hi, m, t, (mpfr_ptr)0);
        mpfr_init2(ref, prec + 100);
        arb_ptr cm = _arb_vec_init(N + 1), cb = _arb_vec_init(N + 1);
        arb_t B, acc, term, dt, pw;
        arb_init(B);
        arb_init(acc);
        arb_init(term);
        arb_init(dt);
        arb_init(pw);
        random_box_point(lo, hi, t, st, 10, 1u + (unsigned)(r % 5) * 10u);
        mpfr_add(m, lo, hi, MPFR_RNDN);
        mpfr_div_2ui(m, m, 1, MPFR_RNDN);
        ival_set_fr(B, m);
        expr_eval_series(cm, e, B, N, prec);
        ival_set_interval_fr(B, lo, hi, prec);
        expr_eval_series(cb, e, B, N + 1, prec);
        if (arb_is_finite(cm) && arb_is_finite(cb)) {
            ival_set_fr(dt, t);
            ival_set_fr(pw, m);
            arb_sub(dt, dt, pw, prec); /* t - m */
            arb_one(pw);
            arb_zero(acc);
            for (slong k = 0; k <= N; k++) {
                arb_mul(term, k < N ? cm + k : cb + N, pw, prec);
                arb_add(acc, acc, term, prec);
                arb_mul(pw, pw, dt, prec);
            }
            cases[_i].ref(ref, t);
            ck_assert_msg(arb_contains_mpfr(acc, ref), "%s: Taylor form at order %ld misses f(t) "
                          "(prec %ld, seed %lu)", cases[_i].text, (long)N, (long)prec,
                          test_seed());
        }
        mpfr_clears(lo, hi, m, t, ref, (mpfr_ptr)0);
        _arb_vec_clear(cm, N + 1);
        _arb_vec_clear(cb, N + 1);
        arb_clear(B);
        arb_clear(acc);
        arb_clear(term);
        arb_clear(dt);
        arb_clear(pw);
    }
    expr_free(e);
    gmp_randclear(st);
}
END_TEST

START_TEST(test_derivative_mean_value)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + 100 + (unsigned long)_i);
    char err[256];
    expr_t *e = expr_parse(cases[_i].text, err, sizeof err);
    ck_assert_ptr_nonnull(e);
    for (int r = 0; r < (test_quick() ? 5 : 30); r++) {
        mpfr_prec_t prec = test_random_prec(st, 30, 300);
        mpfr_t lo, w, t, m;
        arb_t B, d, ft, fm;
        mpfr_inits2(prec, lo, w, t, m, (mpfr_ptr)0);
        arb_init(B);
        arb_init(d);
        arb_init(ft);
        arb_init(fm);
        mpfr_urandomb(lo, st);
        mpfr_mul_ui(lo, lo, 10, MPFR_RNDN);
        mpfr_sub_ui(lo, lo, 5, MPFR_RNDN);
        mpfr_urandomb(w, st);
        mpfr_add(w, lo, w, MPFR_RNDU);
        ival_set_interval_fr(B, lo, w, prec);
        mpfr_set(t, lo, MPFR_RNDN);
        mpfr_set(m, w, MPFR_RNDN);
        expr_eval_dival(d, e, B, prec);
        if (arb_is_finite(d)) {
            ival_set_fr(ft, t);
            expr_eval_ival(ft, e, ft, prec);
            ival_set_fr(fm, m);
            expr_eval_ival(fm, e, fm, prec);
            arb_sub(ft, ft, fm, prec);       /* f(t) - f(m) */
            arb_t mm;
            arb_init(mm);
            ival_set_fr(fm, t);
            ival_set_fr(mm, m);
            arb_sub(fm, fm, mm, prec);
            arb_clear(mm);
            arb_mul(d, d, fm, prec);         /* f'(B) (t - m) */
            /* the two enclosures must meet */
            ck_assert_msg(arb_overlaps(ft, d), "%s: mean-value form fails, seed %lu",
                          cases[_i].text, test_seed());
        }
        mpfr_clears(lo, w, t, m, (mpfr_ptr)0);
        arb_clear(B);
        arb_clear(d);
        arb_clear(ft);
        arb_clear(fm);
    }
    expr_free(e);
    gmp_randclear(st);
}
END_TEST

Suite *suite_expr(void)
{
    Suite *s = suite_create("expr");
    TCase *tc = tcase_create("expr");
    tcase_set_timeout(tc, 60);
    int n_cases = (int)(sizeof cases / sizeof cases[0]);
    tcase_add_loop_test(tc, test_values_enclosed, 0, n_cases);
    tcase_add_test(tc, test_wrong_value_rejected);
    tcase_add_loop_test(tc, test_malformed_positions, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_domain);
    tcase_add_test(tc, test_huge_values);
    tcase_add_test(tc, test_even_powers);
    tcase_add_test(tc, test_saturation);
    tcase_add_loop_test(tc, test_valid_functions_cli, 0,
                        (int)(sizeof valid_cli / sizeof valid_cli[0]));
    tcase_add_loop_test(tc, test_derivative_mean_value, 0, n_cases);
    tcase_add_test(tc, test_builtin_functions);
    tcase_add_loop_test(tc, test_series_remainder, 0, n_cases);
    suite_add_tcase(s, tc);
    return s;
}
