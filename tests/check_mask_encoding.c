/* mask-encoding: the derived bound holds on random instances; the wrong
 * bounds (no factor 2, B for 2B) are violated on the adversarial family;
 * the tail fit of ln E against Omega has slope -1 within 0.05. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "runner.h"
#include "omega_util.h"

extern const claim_t claim_mask_encoding;

/* Evaluate one row with the Ziv loop; names/values are static strings. */
static void eval_row(row_t *r, const char *const *kv, unsigned long seed, int mutation)
{
    memset(r, 0, sizeof *r);
    for (int k = 0; kv[2 * k]; k++) {
        r->params.name[k] = kv[2 * k];
        r->params.value[k] = kv[2 * k + 1];
        r->params.n = k + 1;
    }
    r->sweep = "test";
    r->seed = seed;
    r->mutation = mutation;
    ck_assert_int_eq(runner_eval_row(r, &claim_mask_encoding, PREC_CAP_DEFAULT), 0);
}

static const char *masks[] = {"causal", "bias", "random", "banded", "one"};
static const char *Ns[] = {"3", "4", "9", "16"};
static const char *omegas[] = {"0", "1", "3", "12", "40", "150"};
static const char *taus[] = {"0.1", "0.5", "1", "3"};
static const char *scales[] = {"0.25", "1", "2"};

START_TEST(test_bound_holds_random)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + 31u * (unsigned long)_i);
    int reps = test_quick() ? 3 : 12;
    for (int k = 0; k < reps; k++) {
        const char *kv[] = {"family", "random",
                            "N", Ns[gmp_urandomm_ui(st, 4)],
                            "mask", masks[gmp_urandomm_ui(st, 5)],
                            "tau", taus[gmp_urandomm_ui(st, 4)],
                            "scale", scales[gmp_urandomm_ui(st, 3)],
                            "omega", omegas[gmp_urandomm_ui(st, 6)], NULL, NULL};
        unsigned long seed = test_seed() + (unsigned long)(100 * _i + k);
        row_t r;
        eval_row(&r, kv, seed, 0);
        /* holds, or holds trivially: vacuous, at or above the trivial bound */
        ck_assert_msg(r.verdict == VERDICT_HOLDS || (r.verdict == VERDICT_VACUOUS &&
                      (arf_is_pos_inf(arb_midref(r.bound)) || ival_le(r.trivial, r.bound))),
                      "bound not shown to hold: seed %lu N=%s mask=%s "
                      "tau=%s scale=%s omega=%s verdict %s", seed, kv[3], kv[5], kv[7], kv[9],
                      kv[11], verdict_name(r.verdict));
        ck_assert_msg(omega_resolved(r.error), "E not resolved: seed %lu omega=%s", seed, kv[11]);
        /* the bound is derived: E/bound must stay <= 1 (certified) */
        ck_assert(arb_le(r.error, r.bound));
        row_clear(&r);
    }
    gmp_randclear(st);
}
END_TEST

START_TEST(test_wrong_bounds_violated)
{
    static const char *om[] = {"16", "64", "200"};
    for (int k = 0; k < 3; k++) {
        const char *kv[] = {"family", "adv", "N", "16", "tau", "1", "scale", "1",
                            "omega", om[k], NULL, NULL};
        row_t r;
        eval_row(&r, kv, 1, 0);
        ck_assert_msg(r.verdict == VERDICT_HOLDS, "claimed bound, omega=%s: %s", om[k],
                      verdict_name(r.verdict));
        /* tight: E/bound = 1/(1 + 15 e^(2 - omega)) > 0.99 here */
        mpfr_t q, b;
        mpfr_inits2(64, q, b, (mpfr_ptr)0);
        ival_get_lo(q, r.error);
        ival_get_hi(b, r.bound);
        mpfr_div(q, q, b, MPFR_RNDD);
        ck_assert_msg(mpfr_cmp_d(q, 0.99) > 0, "adversarial ratio too small at omega=%s", om[k]);
        mpfr_clears(q, b, (mpfr_ptr)0);
        row_clear(&r);
        for (int m = 1; m <= 2; m++) {
            eval_row(&r, kv, 1, m);
            ck_assert_msg(r.verdict == VERDICT_VIOLATED, "mutation %s not caught at omega=%s: %s",
                          claim_mask_encoding.mutations[m - 1][0], om[k], verdict_name(r.verdict));
            row_clear(&r);
        }
    }
}
END_TEST

/* A known series e^(a - b omega): the fitter must return b. */
static double fit_known(double b)
{
    static const char *om[] = {"16", "32", "64", "128", "256"};
    row_t rows[5];
    fit_t f[4];
    memset(rows, 0, sizeof rows);
    for (int k = 0; k < 5; k++) {
        rows[k].params.n = 1;
        rows[k].params.name[0] = "omega";
        rows[k].params.value[0] = om[k];
        rows[k].sweep = "known";
        rows[k].prec = 128;
        arb_init(rows[k].error);
        arb_set_d(rows[k].error, -b * atof(om[k]) + 0.7);
        arb_exp(rows[k].error, rows[k].error, 128);
    }
    static const char *const keys[] = {NULL};
    int n = omega_fit_series(f, 4, rows, 5, keys, 16, 4, -1);
    for (int k = 0; k < 5; k++)
        arb_clear(rows[k].error);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(f[0].points, 4);
    return f[0].slope;
}

START_TEST(test_fit_slope)
{
    ck_assert(fabs(fit_known(1.0) + 1) < 1e-9);
    ck_assert(fabs(fit_known(0.8) + 1) > 0.05); /* a wrong rate is told apart */
    /* the claim's own series: random causal instance, omega 16..256 */
    static const char *om[] = {"16", "32", "64", "128", "256"};
    row_t rows[5];
    for (int k = 0; k < 5; k++) {
        const char *kv[] = {"family", "random", "N", "8", "mask", "causal", "tau", "1",
                            "scale", "1", "omega", om[k], NULL, NULL};
        eval_row(rows + k, kv, test_seed(), 0);
    }
    fit_t f[8];
    int n = claim_mask_encoding.fit(f, 8, rows, 5);
    ck_assert_int_eq(n, 1);
    ck_assert_msg(fabs(f[0].slope + 1) < 0.05, "slope %g (seed %lu)", f[0].slope, test_seed());
    for (int k = 0; k < 5; k++)
        row_clear(rows + k);
}
END_TEST

/* A derived Omega_req is shown rounded up, never below what was derived. */
START_TEST(test_omega_text_up)
{
    static const struct {
        double v;
        const char *want;
    } cases[] = {{23.4523, "23.46"}, {23.45, "23.45"} /* the double is 23.4499...: up to 23.45 */, {23.0, "23.00"}, {0.001, "0.01"},
                 {99.999, "100.00"}, {1000.390625, "1000.40"}};
    char buf[40];
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        omega_text_up(buf, sizeof buf, cases[k].v, 2);
        ck_assert_msg(strcmp(buf, cases[k].want) == 0, "%.17g: %s, want %s", cases[k].v, buf,
                      cases[k].want);
    }
}
END_TEST

START_TEST(test_cli_mutation_exit)
{
    char out[8192], dir[256], args[512];
    test_tmpdir_make(dir, sizeof dir, "attncheck-me");
    /* the adversarial instances at tau = scale = 1 detect it on every row: 1 */
    snprintf(args, sizeof args, "sweep mask-encoding --set family=adv --set N=4 --set omega=8,64 "
             "--set tau=1 --set scale=1 --mutate=b-not-2b --format md --out %s", dir);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 1);
    /* with tau = scale = 4 at omega = 8 the weakened bound still holds on two rows: 3 */
    snprintf(args, sizeof args, "sweep mask-encoding --set family=adv --set N=4 --set omega=8,64 "
             "--mutate=b-not-2b --format md --out %s", dir);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 3);
    ck_assert_ptr_nonnull(strstr(out, "2 not detected"));
    snprintf(args, sizeof args, "sweep mask-encoding --set family=adv --set N=4 --set omega=8,64 "
             "--format md --out %s", dir);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 0);
    test_tmpdir_remove(dir);
}
END_TEST

Suite *suite_mask_encoding(void)
{
    Suite *s = suite_create("mask_encoding");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_bound_holds_random, 0, 4);
    tcase_add_test(tc, test_wrong_bounds_violated);
    tcase_add_test(tc, test_fit_slope);
    tcase_add_test(tc, test_omega_text_up);
    tcase_add_test(tc, test_cli_mutation_exit);
    suite_add_tcase(s, tc);
    return s;
}
