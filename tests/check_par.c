/* The thread pool: every task runs exactly once, nested calls finish, the
 * pool stops and starts again, and busy rows keep helpers off. */
#include <stdlib.h>
#include "par.h"
#include "testutil.h"

typedef struct {
    long n, inner;
    int *hits;   /* one counter per (task, inner task) */
} nest_t;

static void inner_task(void *arg, long k)
{
    int *hit = arg;
    __atomic_add_fetch(hit + k, 1, __ATOMIC_RELAXED);
}

static void outer_task(void *arg, long k)
{
    nest_t *J = arg;
    par_for(J->inner, inner_task, J->hits + k * J->inner);
}

START_TEST(test_every_task_once)
{
    int threads = 1 + _i % 4;
    par_set_threads(threads);
    nest_t J = {.n = 1 + 37 * _i, .inner = 1 + _i % 5};
    J.hits = calloc((size_t)(J.n * J.inner), sizeof *J.hits);
    if (_i % 3 == 2)
        par_enter(); /* as a row of a sweep: helpers take only the other cores */
    par_for(J.n, outer_task, &J);
    if (_i % 3 == 2)
        par_leave();
    for (long k = 0; k < J.n * J.inner; k++)
        ck_assert_msg(J.hits[k] == 1, "task %ld ran %d times on %d threads", k, J.hits[k],
                      threads);
    free(J.hits);
    if (_i % 2)
        par_shutdown(); /* and the next call starts the helpers again */
    par_set_threads(0);
}
END_TEST

START_TEST(test_threads_setting)
{
    par_set_threads(3);
    ck_assert_int_eq(par_threads(), 3);
    par_set_threads(0);
    ck_assert_int_eq(par_threads(), par_online_cpus());
    ck_assert_int_ge(par_online_cpus(), 1);
    par_for(0, inner_task, NULL); /* nothing to do */
    par_shutdown();
}
END_TEST

Suite *suite_par(void)
{
    Suite *s = suite_create("par");
    TCase *tc = tcase_create("pool");
    tcase_add_loop_test(tc, test_every_task_once, 0, 24);
    tcase_add_test(tc, test_threads_setting);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
