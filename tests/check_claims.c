/* Every exact claim holds on a small instance at a random precision, and
 * every one of its mutations comes out violated with an enclosure of E that
 * excludes 0, also on grids of extreme parameters (tiny and huge slopes,
 * shapes at their limits, one token, many seeds): the resolution rule
 * raises the working precision until each break shows.  Registry sanity:
 * ids unique, two or more mutations each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runner.h"
#include "testutil.h"

/* The k-th (claim, mutation) pair over exact claims, mutation 0 = none. */
static int nth_pair(const claim_t **c, int *mutation, int k)
{
    for (int i = 0; claim_registry[i]; i++) {
        if (claim_registry[i]->kind != KIND_EXACT)
            continue;
        for (int m = 0; m <= CLAIM_MAX_MUTATIONS; m++) {
            if (m > 0 && (m > CLAIM_MAX_MUTATIONS || !claim_registry[i]->mutations[m - 1][0]))
                break;
            if (k-- == 0) {
                *c = claim_registry[i];
                *mutation = m;
                return 1;
            }
        }
    }
    return 0;
}

static int count_pairs(void)
{
    const claim_t *c;
    int m, n = 0;
    while (nth_pair(&c, &m, n))
        n++;
    return n;
}

START_TEST(test_claim_and_mutations)
{
    const claim_t *c;
    int mutation;
    ck_assert(nth_pair(&c, &mutation, _i));
    char why[256];
    if (c->available && !c->available(why, sizeof why)) {
        fprintf(stderr, "check_claims: %s skipped: %s\n", c->id, why);
        return;
    }
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + 5000 + (unsigned long)_i);
    mpfr_prec_t p = test_random_prec(st, 53, 700);
    unsigned long seed = 1 + gmp_urandomm_ui(st, 1000);
    gmp_randclear(st);

    /* the first value of every axis of the first quick sweep, at precision p */
    char precbuf[32];
    snprintf(precbuf, sizeof precbuf, "%ld", (long)p);
    run_options_t o;
    run_options_default(&o);
    o.mutation = mutation;
    o.seed_set = 1;
    o.seed = seed;
    o.set_name[0] = "prec";
    o.set_values[0] = precbuf;
    o.n_sets = 1;
    row_t *rows;
    long n = runner_expand(&rows, c, &o);
    ck_assert(n > 0);
    row_t *r = rows;
    ck_assert_int_eq(runner_eval_row(r, c, 4096), 0);
    if (mutation == 0)
        ck_assert_msg(r->verdict == VERDICT_HOLDS, "%s does not hold (seed %lu, prec %ld)", c->id,
                      seed, (long)p);
    else
        ck_assert_msg(r->verdict == VERDICT_VIOLATED && arb_is_positive(r->error),
                      "%s mutation %s not caught (seed %lu, prec %ld)", c->id,
                      c->mutations[mutation - 1][0], seed, (long)p);
    runner_free_rows(rows, n);
}
END_TEST

/* Grids a user can type within the documented ranges: each row of every
 * mutation of the claim must come out violated, and the claim itself must
 * not be violated on the same grid.  Seeds come from the test seed. */
static const struct {
    const char *claim;
    const char *sets[8]; /* NAME=VALUES, NULL-terminated; seeds added */
    int seeds;           /* how many seeds (fewer in quick runs) */
} extremes[] = {
    {"neuron-head", {"a=1e-2000,1e-20,1,1000", "shape=1x2,2x2,3x5", "prec=53", NULL}, 12},
    {"neuron-head", {"a=1e-300,4", "shape=2048x2", "prec=24", NULL}, 2},
    {"neuron-head", {"a=5000", "shape=1x2,2x3", "prec=53", NULL}, 4},
    {"mlp-layer", {"a=1e-2000,1e-20,1,1000", "shape=1x1x2,2x2x2,3x4x3", "prec=53", NULL}, 8},
    {"mlp-layer", {"a=1,64", "shape=1024x1x2,1x1024x2", "prec=53", NULL}, 2},
    {"activation-head", {"a=1e-2000,1e-20,1,1000", "shape=1x1,1x2,3x2", "prec=53", NULL}, 12},
    {"activation-head", {"a=1e-40,64", "shape=512x1", "prec=53", NULL}, 2},
    {"linear-head", {"target=square,fresh", "shape=1x2,2x2,3x4", "rank=1", "d_head=1",
                     "prec=24", NULL}, 12},
    {"linear-head", {"target=square", "shape=512x2", "rank=1,3", "d_head=2", "prec=53", NULL}, 2},
    {"attention-only", {"a=1e-2000,1,1000", "shape=1x1x2,2x2x3", "heads=1", "d_head=1",
                        "blocks=1,3", "prec=53", NULL}, 6},
    {"attention-only", {"a=64", "shape=2x2x2", "heads=1", "d_head=1", "blocks=64", "prec=53",
                        NULL}, 1},
};

/* Run the claim (mutation m) on extremes[k]'s grid; the report in rep. */
static void run_extreme(claim_report_t *rep, const claim_t *c, int k, int m)
{
    static char seeds[256];
    int ns = test_quick() ? (extremes[k].seeds + 3) / 4 : extremes[k].seeds;
    int len = 0;
    seeds[0] = '\0';
    for (int s = 0; s < ns; s++)
        len += snprintf(seeds + len, sizeof seeds - (size_t)len, "%s%lu", s ? "," : "",
                        (test_seed() + 7919UL * (unsigned long)s) % 100000UL);
    run_options_t o;
    run_options_default(&o);
    o.mutation = m;
    for (int a = 0; a < 8 && extremes[k].sets[a]; a++) {
        const char *v = extremes[k].sets[a], *eq = strchr(v, '=');
        o.set_name[o.n_sets] = strndup(v, (size_t)(eq - v));
        o.set_values[o.n_sets++] = eq + 1;
    }
    o.set_name[o.n_sets] = strdup("seed");
    o.set_values[o.n_sets++] = seeds;
    char err[512];
    ck_assert_msg(runner_validate(c, &o, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(runner_run_claim(rep, c, &o, err, sizeof err) == 0, "%s: %s", c->id, err);
    for (int a = 0; a < o.n_sets; a++)
        free((char *)o.set_name[a]);
}

START_TEST(test_mutations_on_extremes)
{
    const claim_t *c = claim_find(extremes[_i].claim);
    ck_assert_ptr_nonnull(c);
    for (int m = 0; m <= CLAIM_MAX_MUTATIONS && (m == 0 || c->mutations[m - 1][0]); m++) {
        claim_report_t rep;
        run_extreme(&rep, c, _i, m);
        /* the prediction is what the evaluation met: no row runs twice */
        if (c->predict)
            ck_assert_msg(rep.raised == 0, "%s: %ld rows raised after prediction on "
                          "extremes[%d] (mutation %d)", c->id, rep.raised, _i, m);
        if (m == 0) {
            ck_assert_msg(rep.violated == 0, "%s violated on extremes[%d]", c->id, _i);
        } else {
            for (long r = 0; r < rep.n_rows; r++) {
                const row_t *row = rep.rows + r;
                char where[256];
                int n = snprintf(where, sizeof where, "seed %lu prec %ld", row->seed,
                                 (long)row->prec);
                for (int a = 0; a < row->params.n && n < (int)sizeof where; a++)
                    n += snprintf(where + n, sizeof where - (size_t)n, " %s=%s",
                                  row->params.name[a], row->params.value[a]);
                ck_assert_msg(row->verdict == VERDICT_VIOLATED && arb_is_positive(row->error),
                              "%s mutation %s not detected: %s (%s)", c->id,
                              c->mutations[m - 1][0], where, verdict_name(row->verdict));
            }
        }
        claim_report_clear(&rep);
    }
}
END_TEST

/* A prediction that falls short (here: none of the instance part) leaves
 * the rule to the fallback: the same precisions and verdicts as the
 * claim's own prediction, the rows raised counted. */
static int predict_short(row_t *r)
{
    r->resolve_bits = 0;
    return 0;
}

START_TEST(test_short_prediction_falls_back)
{
    const claim_t *c = claim_find("mlp-layer");
    claim_t short_c = *c;
    short_c.predict = predict_short;
    run_options_t o;
    run_options_default(&o);
    const char *sets[][2] = {{"a", "1,64"}, {"shape", "2x3x3"}, {"prec", "53"}, {"seed", "1,2"}};
    for (int k = 0; k < 4; k++) {
        o.set_name[k] = sets[k][0];
        o.set_values[k] = sets[k][1];
    }
    o.n_sets = 4;
    claim_report_t good, fell;
    char err[512];
    ck_assert_msg(runner_run_claim(&good, c, &o, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(runner_run_claim(&fell, &short_c, &o, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(good.raised, 0);
    ck_assert_int_eq(fell.raised, 2); /* a = 64 on both seeds needs more than 53 + kappa */
    ck_assert_int_eq(fell.n_rows, good.n_rows);
    for (long k = 0; k < good.n_rows; k++) {
        ck_assert_int_eq(fell.rows[k].prec, good.rows[k].prec);
        ck_assert_int_eq(fell.rows[k].verdict, good.rows[k].verdict);
        ck_assert(arb_equal(fell.rows[k].error, good.rows[k].error));
    }
    claim_report_clear(&good);
    claim_report_clear(&fell);
}
END_TEST

/* Parameters beyond the resolution rule's reach are refused, not judged. */
START_TEST(test_unresolvable_refused)
{
    static const char *const sets[][2] = {{"a", "1e-30000"}, {"a", "1e6"}};
    const claim_t *c = claim_find("neuron-head");
    for (int k = 0; k < 2; k++) {
        run_options_t o;
        run_options_default(&o);
        o.set_name[0] = sets[k][0];
        o.set_values[0] = sets[k][1];
        o.set_name[1] = "shape";
        o.set_values[1] = "2x3";
        o.set_name[2] = "prec";
        o.set_values[2] = "53";
        o.n_sets = 3;
        claim_report_t rep;
        char err[512];
        ck_assert_int_eq(runner_run_claim(&rep, c, &o, err, sizeof err), -1);
        ck_assert_msg(strstr(err, "65536-bit limit") || strstr(err, "over 65536 bits"), "%s", err);
        claim_report_clear(&rep);
    }
}
END_TEST

START_TEST(test_registry_sane)
{
    for (int i = 0; claim_registry[i]; i++) {
        const claim_t *c = claim_registry[i];
        ck_assert(c->id && c->source && c->statement && c->formula && c->provenance);
        ck_assert_ptr_eq(claim_find(c->id), c);
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(claim_registry[j]->id, c->id);
        if (c->kind != KIND_TABLE)
            ck_assert_msg(c->mutations[0][0] && c->mutations[1][0],
                          "%s needs at least two mutations", c->id);
        ck_assert_int_eq(claim_mutation_index(c, "no-such-mutation"), -1);
    }
    ck_assert_ptr_null(claim_find("no-such-claim"));
}
END_TEST

Suite *suite_claims(void)
{
    Suite *s = suite_create("claims");
    TCase *tc = tcase_create("exact");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_claim_and_mutations, 0, count_pairs());
    tcase_add_test(tc, test_registry_sane);
    suite_add_tcase(s, tc);
    TCase *tx = tcase_create("extremes");
    tcase_set_timeout(tx, 300);
    tcase_add_loop_test(tx, test_mutations_on_extremes, 0,
                        (int)(sizeof extremes / sizeof extremes[0]));
    tcase_add_test(tx, test_unresolvable_refused);
    tcase_add_test(tx, test_short_prediction_falls_back);
    suite_add_tcase(s, tx);
    return s;
}
