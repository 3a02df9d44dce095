/* Every exact claim holds on a small instance at a random precision, and
 * every one of its mutations comes out violated with an enclosure of E that
 * excludes 0.  Registry sanity: ids unique, two or more mutations each. */
#include <stdio.h>
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
    return s;
}
