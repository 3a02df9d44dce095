/* The blog constructions: errors at Omega = 1000 (~1e-869) resolved, the
 * derived bounds hold, the mutations are violated, and ln E falls with
 * slope -2 in Omega (within 0.05). */
#include <math.h>
#include <string.h>
#include "testutil.h"
#include "runner.h"
#include "omega_util.h"

extern const claim_t claim_blog_one_layer, claim_blog_three_layer;
static const claim_t *const claims[] = {&claim_blog_one_layer, &claim_blog_three_layer};

static void eval_row(row_t *r, const claim_t *c, const char *shape, const char *omega,
                     unsigned long seed, int mutation)
{
    memset(r, 0, sizeof *r);
    r->params.n = 2;
    r->params.name[0] = "shape";
    r->params.value[0] = shape;
    r->params.name[1] = "omega";
    r->params.value[1] = omega;
    r->sweep = "test";
    r->seed = seed;
    r->mutation = mutation;
    ck_assert_int_eq(runner_eval_row(r, c, PREC_CAP_DEFAULT), 0);
}

START_TEST(test_omega_1000_resolved)
{
    row_t r;
    eval_row(&r, claims[_i], "3x12x4", "1000", test_seed(), 0);
    ck_assert_msg(r.verdict == VERDICT_HOLDS, "%s: %s", claims[_i]->id, verdict_name(r.verdict));
    /* both ends nonzero, and near e^-2000 ~ 1e-869 */
    ck_assert_msg(omega_resolved(r.error), "%s: E not resolved at Omega=1000", claims[_i]->id);
    double lnE = omega_ln_hi_d(r.error); /* E is below the double range: ln of its upper end */
    ck_assert_msg(lnE > -2000 - 30 && lnE < -2000 + 30, "%s: ln E = %g", claims[_i]->id, lnE);
    row_clear(&r);
}
END_TEST

START_TEST(test_bound_and_mutations)
{
    static const char *shapes[] = {"2x8x3", "3x6x5", "1x4x2"};
    static const char *om[] = {"1", "5", "20", "64"};
    int reps = test_quick() ? 1 : 3;
    for (int s = 0; s < reps; s++)
        for (int k = 0; k < 4; k++) {
            row_t r;
            eval_row(&r, claims[_i], shapes[s], om[k], test_seed() + (unsigned long)s, 0);
            /* holds, or (at small Omega) holds trivially: vacuous */
            ck_assert_msg(r.verdict == VERDICT_HOLDS || (r.verdict == VERDICT_VACUOUS &&
                          ival_le(r.trivial, r.bound)), "%s shape %s omega %s seed %lu: %s",
                          claims[_i]->id, shapes[s], om[k], r.seed, verdict_name(r.verdict));
            ck_assert(omega_resolved(r.error));
            row_clear(&r);
        }
    for (int m = 1; m <= 3; m++) {
        row_t r;
        eval_row(&r, claims[_i], "3x12x4", "20", test_seed(), m);
        ck_assert_msg(r.verdict == VERDICT_VIOLATED, "%s: mutation %s not caught: %s",
                      claims[_i]->id, claims[_i]->mutations[m - 1][0], verdict_name(r.verdict));
        row_clear(&r);
    }
}
END_TEST

START_TEST(test_rate)
{
    static const char *om[] = {"5", "10", "20", "50", "100"};
    row_t rows[5];
    for (int k = 0; k < 5; k++)
        eval_row(rows + k, claims[_i], "2x8x6", om[k], test_seed(), 0);
    fit_t f[4];
    int n = claims[_i]->fit(f, 4, rows, 5);
    ck_assert_int_eq(n, 1);
    ck_assert_msg(fabs(f[0].slope + 2) < 0.05, "%s: slope %g", claims[_i]->id, f[0].slope);
    for (int k = 0; k < 5; k++)
        row_clear(rows + k);
}
END_TEST

Suite *suite_blog(void)
{
    Suite *s = suite_create("blog");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_omega_1000_resolved, 0, 2);
    tcase_add_loop_test(tc, test_bound_and_mutations, 0, 2);
    tcase_add_loop_test(tc, test_rate, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}
