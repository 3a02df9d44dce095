/* m SiLU heads per neuron (silusum.h, the heads-per-neuron claim): eps_1 of
 * GELU is the known 0.01392; the shipped eps_m decrease in m (certified);
 * every certified gap contains the gap at its argmax computed by the MPFR
 * oracle at +100 bits; the claim's mutations come out violated; the fitter
 * reproduces the shipped m = 1 and is never worse than m - 1 heads. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "runner.h"
#include "silusum.h"

extern const claim_t claim_heads_per_neuron;

static const char *const acts[] = {"gelu", "gelu_tanh", "relu"};

static void certify(silusum_cert_t *c, const act_t *phi, const silusum_t *fit, mpfr_prec_t prec)
{
    supnorm_opts_t o;
    supnorm_opts_default(&o);
    o.rel_tol = 1e-9;
    o.taylor_order = 12;
    silusum_cert_init(c, prec);
    ck_assert_int_eq(silusum_certify(c, phi, fit, &o, prec), 0);
    ck_assert(c->whole_line);
    ck_assert(arb_is_finite(c->gap));
}

/* |phi(x) - S(x)| in MPFR at prec (round to nearest: an estimate far below
 * the enclosures' widths), from the functions' definitions. */
static void oracle_gap(mpfr_t y, const char *act, const silusum_t *fit, const mpfr_t x,
                       mpfr_prec_t prec)
{
    mpfr_t t, u, S;
    mpfr_inits2(prec, t, u, S, (mpfr_ptr)0);
    if (strcmp(act, "gelu") == 0) {
        /* x erfc(-x / sqrt 2) / 2 */
        mpfr_sqrt_ui(t, 2, MPFR_RNDN);
        mpfr_div(t, x, t, MPFR_RNDN);
        mpfr_neg(t, t, MPFR_RNDN);
        mpfr_erfc(t, t, MPFR_RNDN);
        mpfr_mul(y, t, x, MPFR_RNDN);
        mpfr_div_2ui(y, y, 1, MPFR_RNDN);
    } else if (strcmp(act, "gelu_tanh") == 0) {
        /* x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
        mpfr_const_pi(t, MPFR_RNDN);
        mpfr_ui_div(t, 2, t, MPFR_RNDN);
        mpfr_sqrt(t, t, MPFR_RNDN);
        mpfr_set_str(u, "0.044715", 10, MPFR_RNDN);
        mpfr_mul(u, u, x, MPFR_RNDN);
        mpfr_mul(u, u, x, MPFR_RNDN);
        mpfr_mul(u, u, x, MPFR_RNDN);
        mpfr_add(u, u, x, MPFR_RNDN);
        mpfr_mul(t, t, u, MPFR_RNDN);
        mpfr_tanh(t, t, MPFR_RNDN);
        mpfr_add_ui(t, t, 1, MPFR_RNDN);
        mpfr_mul(y, t, x, MPFR_RNDN);
        mpfr_div_2ui(y, y, 1, MPFR_RNDN);
    } else {
        mpfr_set_zero(S, 1); /* relu: max(x, 0) */
        mpfr_max(y, x, S, MPFR_RNDN);
    }
    mpfr_set_zero(S, 1);
    for (int j = 0; j < fit->m; j++) {
        /* c x / (1 + e^{-a x}) */
        mpfr_set_d(t, -fit->a[j], MPFR_RNDN); /* exact: dyadic */
        mpfr_mul(t, t, x, MPFR_RNDN);
        mpfr_exp(t, t, MPFR_RNDN);
        mpfr_add_ui(t, t, 1, MPFR_RNDN);
        mpfr_div(t, x, t, MPFR_RNDN);
        mpfr_mul_d(t, t, fit->c[j], MPFR_RNDN);
        mpfr_add(S, S, t, MPFR_RNDN);
    }
    mpfr_sub(y, y, S, MPFR_RNDN);
    mpfr_abs(y, y, MPFR_RNDN);
    mpfr_clears(t, u, S, (mpfr_ptr)0);
}

/* eps_1 of GELU rounds to the known 0.01392 (four digits: [0.013915, 0.013925)). */
START_TEST(test_gelu_eps1)
{
    silusum_t fit;
    ck_assert_int_eq(silusum_shipped(&fit, "gelu", 1), 0);
    act_t phi;
    char err[160];
    ck_assert_int_eq(act_init_name(&phi, "gelu", err, sizeof err, 128), 0);
    silusum_cert_t c;
    certify(&c, &phi, &fit, 128);
    arb_t known;
    arb_init(known);
    ival_set_str(known, "0.013915", 128);
    ck_assert(arb_gt(c.gap, known));
    ival_set_str(known, "0.013925", 128);
    ck_assert(arb_lt(c.gap, known));
    ck_assert(fabs(fit.a[0] - 1.7729) < 1e-3);
    arb_clear(known);
    silusum_cert_clear(&c);
    act_clear(&phi);
}
END_TEST

/* Every shipped eps_m: certified below eps_{m-1} (or said where not), and
 * containing the oracle's gap at its argmax. */
START_TEST(test_shipped_table)
{
    const char *act = acts[_i];
    act_t phi;
    char err[160];
    ck_assert_int_eq(act_init_name(&phi, act, err, sizeof err, 128), 0);
    arb_t prev;
    arb_init(prev);
    mpfr_t v, lo, hi;
    mpfr_inits2(228, v, lo, hi, (mpfr_ptr)0);
    for (int m = 1; m <= SILUSUM_SHIPPED_M; m++) {
        silusum_t fit;
        ck_assert_msg(silusum_shipped(&fit, act, m) == 0, "%s m = %d not shipped", act, m);
        silusum_cert_t c;
        certify(&c, &phi, &fit, 128);
        if (m > 1)
            ck_assert_msg(arb_lt(c.gap, prev), "%s: eps_%d not certified below eps_%d", act,
                          m, m - 1);
        arb_set(prev, c.gap);
        /* the oracle at the argmax: a value of the gap, so at most hi; lo was
         * found there, so it is at least lo (up to the oracle's rounding) */
        oracle_gap(v, act, &fit, c.argmax, 228);
        ival_get_lo(lo, c.gap);
        ival_get_hi(hi, c.gap);
        mpfr_mul_d(lo, lo, 1 - 1e-30, MPFR_RNDD);
        ck_assert_msg(mpfr_lessequal_p(v, hi) && mpfr_lessequal_p(lo, v),
                      "%s m = %d: the oracle's gap at the argmax is outside the enclosure", act,
                      m);
        silusum_cert_clear(&c);
    }
    mpfr_clears(v, lo, hi, (mpfr_ptr)0);
    arb_clear(prev);
    act_clear(&phi);
}
END_TEST

/* The fitter: m = 1 is the shipped one, and m = 2 started from it is no
 * worse (estimates). */
START_TEST(test_fitter)
{
    act_t phi;
    char err[160];
    ck_assert_int_eq(act_init_name(&phi, "gelu", err, sizeof err, 128), 0);
    silusum_t f[2], s;
    ck_assert_int_eq(silusum_fit(f, &phi, 1, SILUSUM_SHIPPED_L, SILUSUM_SHIPPED_A_MAX, NULL), 0);
    ck_assert_int_eq(silusum_shipped(&s, "gelu", 1), 0);
    ck_assert(f[0].a[0] == s.a[0] && f[0].c[0] == 1);
    ck_assert_int_eq(silusum_fit(f + 1, &phi, 2, SILUSUM_SHIPPED_L, SILUSUM_SHIPPED_A_MAX, f), 0);
    ck_assert(f[1].gap_d < f[0].gap_d);
    double sum = 0;
    for (int j = 0; j < 2; j++)
        sum += f[1].c[j];
    ck_assert(sum == 1);
    /* sum c_j != 1 by 2^-30: no tail argument, the gap is on [-L, L] only */
    silusum_t off = f[1];
    off.c[0] += ldexp(1, -30);
    silusum_cert_t c;
    silusum_cert_init(&c, 128);
    ck_assert_int_eq(silusum_certify(&c, &phi, &off, NULL, 128), 0);
    ck_assert(!c.whole_line && !arb_is_finite(c.tail) && arb_equal(c.gap, c.gap_in));
    silusum_cert_clear(&c);
    /* bad arguments */
    ck_assert_int_eq(silusum_fit(f, &phi, 0, 10, 8, NULL), -1);
    ck_assert_int_eq(silusum_fit(f, &phi, 1, 0.5, 8, NULL), -1);
    act_clear(&phi);
}
END_TEST

static void run_claim(claim_report_t *rep, const char *mut)
{
    run_options_t o;
    run_options_default(&o);
    o.mutation = mut ? claim_mutation_index(&claim_heads_per_neuron, mut) : 0;
    ck_assert_msg(o.mutation >= 0, "no mutation %s", mut);
    char err[256];
    ck_assert(runner_run_claim(rep, &claim_heads_per_neuron, &o, err, sizeof err) == 0);
}

/* The claim holds on every row, and each mutation is violated on every row. */
START_TEST(test_claim)
{
    claim_report_t rep;
    run_claim(&rep, NULL);
    ck_assert_int_eq(rep.n_rows, 3 * SILUSUM_SHIPPED_M);
    ck_assert_msg(rep.violated == 0 && rep.inconclusive == 0, "%ld violated, %ld inconclusive",
                  rep.violated, rep.inconclusive);
    claim_report_clear(&rep);
    static const char *const muts[] = {"slope", "wrong-sign"};
    for (int k = 0; k < 2; k++) {
        run_claim(&rep, muts[k]);
        ck_assert_msg(rep.violated == rep.n_rows, "mutation %s: %ld of %ld rows violated",
                      muts[k], rep.violated, rep.n_rows);
        claim_report_clear(&rep);
    }
}
END_TEST

/* `activation --heads`: eps_1 and eps_2 of GELU as JSON (eps_1 rounds to
 * 0.01392, eps_2 below it), text, and refused options. */
START_TEST(test_cli)
{
    static char out[1 << 16];
    ck_assert_int_eq(test_run_cli("activation --name gelu --heads 2 --format json", out,
                                  sizeof out), 0);
    json_error_t je;
    json_t *doc = json_loads(out, 0, &je);
    ck_assert_msg(doc != NULL, "not JSON: %s", out);
    json_t *heads = json_object_get(doc, "heads");
    ck_assert_uint_eq(json_array_size(heads), 2);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "fit")), "shipped");
    double lo[2], hi[2];
    for (size_t k = 0; k < 2; k++) {
        json_t *h = json_array_get(heads, k), *e = json_object_get(h, "eps");
        ck_assert(json_is_true(json_object_get(h, "whole_line")));
        lo[k] = strtod(json_string_value(json_object_get(e, "lo")), NULL);
        hi[k] = strtod(json_string_value(json_object_get(e, "hi")), NULL);
        ck_assert(lo[k] <= hi[k]);
    }
    ck_assert(lo[0] >= 0.013915 && hi[0] < 0.013925);
    ck_assert(hi[1] < lo[0]);
    json_decref(doc);
    ck_assert_int_eq(test_run_cli("activation --expr 'gelu(x)' --heads 1", out, sizeof out), 0);
    ck_assert_msg(strstr(out, "fitted now") && strstr(out, "on [-L, L] only") &&
                  strstr(out, "1.3923969"), "%s", out);
    static const char *const bad[] = {"activation --name gelu --heads 0",
                                      "activation --name gelu --heads 13",
                                      "activation --name gelu --heads 2 --target relu",
                                      "activation --name relu --heads 2 --a-max 0.1",
                                      "activation --name gelu --a-max 4"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++)
        ck_assert_msg(test_run_cli(bad[k], out, sizeof out) == 64, "%s: %s", bad[k], out);
}
END_TEST

Suite *suite_heads_per_neuron(void)
{
    Suite *s = suite_create("heads_per_neuron");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_gelu_eps1);
    tcase_add_loop_test(tc, test_shipped_table, 0, 3);
    tcase_add_test(tc, test_fitter);
    tcase_add_test(tc, test_claim);
    tcase_add_test(tc, test_cli);
    suite_add_tcase(s, tc);
    return s;
}
