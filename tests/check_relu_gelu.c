/* relu-limit and gelu-approx through the runner: every row holds, the sup
 * enclosures contain W0(1/e)/a, the log-log slope is -1 within 0.05, and
 * each mutation comes out violated. */
#include <math.h>
#include <string.h>
#include "testutil.h"
#include "runner.h"

extern const claim_t claim_relu_limit, claim_gelu_approx;

static void run(claim_report_t *rep, const claim_t *c, const char *mut)
{
    run_options_t o;
    run_options_default(&o);
    o.mutation = mut ? claim_mutation_index(c, mut) : 0;
    ck_assert_msg(o.mutation >= 0, "no mutation %s", mut);
    char err[256];
    ck_assert(runner_run_claim(rep, c, &o, err, sizeof err) == 0);
}

START_TEST(test_relu_limit)
{
    claim_report_t rep;
    run(&rep, &claim_relu_limit, NULL);
    ck_assert_msg(rep.violated == 0 && rep.inconclusive == 0, "%ld violated, %ld inconclusive",
                  rep.violated, rep.inconclusive);
    int gaps = 0;
    for (long k = 0; k < rep.n_rows; k++) {
        const row_t *r = rep.rows + k;
        const column_t *s = row_find_column(r, "sup gap"), *c = row_find_column(r, "W0(1/e)/a");
        if (!s)
            continue;
        gaps++;
        /* the two enclosures meet */
        ck_assert_msg(arb_overlaps(s->iv, c->iv),
                      "a = %s: sup enclosure misses W0(1/e)/a", params_get(&r->params, "a"));
    }
    ck_assert(gaps >= 13);
    int found = 0;
    for (int f = 0; f < rep.n_fits; f++) {
        ck_assert_msg(fabs(rep.fits[f].slope + 1) < 0.05, "%s slope %g", rep.fits[f].series,
                      rep.fits[f].slope);
        found += strcmp(rep.fits[f].series, "gap") == 0;
    }
    ck_assert(found == 1);
    claim_report_clear(&rep);
    static const char *const muts[] = {"wrong-w0", "no-inv-a", "max-not-sum"};
    for (int m = 0; m < 3; m++) {
        run(&rep, &claim_relu_limit, muts[m]);
        ck_assert_msg(rep.violated > 0, "relu-limit mutation %s not detected", muts[m]);
        claim_report_clear(&rep);
    }
}
END_TEST

START_TEST(test_gelu_approx)
{
    claim_report_t rep;
    run(&rep, &claim_gelu_approx, NULL);
    ck_assert_msg(rep.violated == 0 && rep.inconclusive == 0, "%ld violated, %ld inconclusive",
                  rep.violated, rep.inconclusive);
    /* G(a*) is below G(1.702) */
    int seen = 0;
    for (long k = 0; k < rep.n_rows; k++) {
        const row_t *r = rep.rows + k;
        const char *a = params_get(&r->params, "a");
        if (!a || strcmp(a, "1.702") != 0)
            continue;
        seen++;
        ck_assert(arb_lt(row_find_column(r, "G(a*)")->iv, row_find_column(r, "G(a)")->iv));
    }
    ck_assert_int_eq(seen, 2);
    claim_report_clear(&rep);
    static const char *const muts[] = {"wrong-min", "half-gap", "max-not-sum"};
    for (int m = 0; m < (test_quick() ? 1 : 3); m++) {
        run(&rep, &claim_gelu_approx, muts[m]);
        ck_assert_msg(rep.violated > 0, "gelu-approx mutation %s not detected", muts[m]);
        claim_report_clear(&rep);
    }
}
END_TEST

Suite *suite_relu_gelu(void)
{
    Suite *s = suite_create("relu_gelu");
    TCase *tc = tcase_create("relu_gelu");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_relu_limit);
    tcase_add_test(tc, test_gelu_approx);
    suite_add_tcase(s, tc);
    return s;
}
