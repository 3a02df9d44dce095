/* Byte-identical reports, in process: a run's .md, .csv and .json (and
 * index.md) are the same bytes whatever --jobs, whatever --threads, and
 * when its grid runs as shards that are written, read back and merged.  The
 * runner and the writers are called as the command line calls them, on
 * three claims with small grids (an exact claim, an inequality with fits
 * and a summary, and a sweep of one's own with --set).  Through the binary,
 * with plots, xargs and SLURM: check_shard.c (tests/shard_identity.sh); over
 * the whole registry: make check-slow. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "par.h"
#include "shard.h"
#include "testutil.h"

#define FORMATS (FORMAT_MD | FORMAT_CSV | FORMAT_JSON)
#define N_SHARDS 3

static char tmp[256];

static void setup(void) { test_tmpdir_make(tmp, sizeof tmp, "attncheck-identity"); }
static void teardown(void) { test_tmpdir_remove(tmp); }

static const struct {
    const char *verb, *id;
    int n_sets;
    const char *set_name[4], *set_values[4];
} runs[] = {
    {"verify", "neuron-head", 0, {NULL}, {NULL}},
    {"verify", "mask-encoding", 0, {NULL}, {NULL}},
    /* 16 rows; the shape 16x64x16 is large enough that its products and
     * heads are cut into several tasks for the helper threads */
    {"sweep", "mlp-layer", 4, {"shape", "a", "prec", "seed"},
     {"4x8x5,16x64x16", "1,8", "53,256", "1,2"}},
};

static void options_for(run_options_t *o, int k, int jobs)
{
    run_options_default(o);
    o->jobs = jobs;
    o->n_sets = runs[k].n_sets;
    for (int s = 0; s < runs[k].n_sets; s++) {
        o->set_name[s] = runs[k].set_name[s];
        o->set_values[s] = runs[k].set_values[s];
    }
}

static void write_reports(const claim_report_t *rep, const report_run_t *how, const char *dir)
{
    char err[512];
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    ck_assert_msg(report_write_claim(rep, how, dir, FORMATS, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(report_write_index(rep, 1, how, dir, err, sizeof err) == 0, "%s", err);
}

/* Run k unsharded on `jobs` rows at once and `threads` cores in all, and
 * write its reports to dir. */
static void run_whole(int k, int jobs, int threads, const char *dir)
{
    const claim_t *c = claim_find(runs[k].id);
    ck_assert_ptr_nonnull(c);
    char err[512];
    run_options_t o;
    options_for(&o, k, jobs);
    ck_assert_msg(runner_validate(c, &o, err, sizeof err) == 0, "%s", err);
    par_set_threads(threads);
    claim_report_t rep;
    ck_assert_msg(runner_run_claim(&rep, c, &o, err, sizeof err) == 0, "%s", err);
    report_run_t how = {.verb = runs[k].verb, .ids = &runs[k].id, .n_ids = 1, .options = &o};
    write_reports(&rep, &how, dir);
    claim_report_clear(&rep);
}

/* Run k as N_SHARDS shards, each to its own partial.json, then read them
 * back (listed in reverse order) and write the reports as merge does: the
 * run the shards record, no rows at work. */
static void run_sharded(int k, int jobs, const char *dir)
{
    const claim_t *c = claim_find(runs[k].id);
    char err[512], dirs[N_SHARDS][400], *dirp[N_SHARDS];
    for (int s = 0; s < N_SHARDS; s++) {
        run_options_t o;
        options_for(&o, k, jobs);
        o.shard_index = s;
        o.shard_count = N_SHARDS;
        claim_report_t rep;
        ck_assert_msg(runner_run_claim(&rep, c, &o, err, sizeof err) == 0, "%s", err);
        report_run_t how = {.verb = runs[k].verb, .ids = &runs[k].id, .n_ids = 1, .options = &o};
        snprintf(dirs[s], sizeof dirs[s], "%s-shard%d", dir, s);
        ck_assert_int_eq(mkdir(dirs[s], 0700), 0);
        ck_assert_msg(shard_write(&rep, 1, &how, dirs[s], err, sizeof err) == 0, "%s", err);
        claim_report_clear(&rep);
        dirp[N_SHARDS - 1 - s] = dirs[s];
    }
    shard_set_t *set;
    shard_run_t back;
    ck_assert_msg(shard_set_read(&set, &back, dirp, N_SHARDS, RUN_MAX_MEMORY_DEFAULT, err,
                                 sizeof err) == 0, "%s", err);
    run_options_t o = back.options;
    o.jobs = 0;
    report_run_t how = {.verb = back.verb, .ids = back.ids, .n_ids = back.n_ids,
                        .options = &o, .shards = N_SHARDS};
    int mutation = 0;
    ck_assert_msg(shard_set_check(set, &how, &c, &mutation, 1, err, sizeof err) == 0, "%s", err);
    claim_report_t rep;
    ck_assert_msg(shard_set_fill(&rep, set, 0, c, &o, err, sizeof err) == 0, "%s", err);
    write_reports(&rep, &how, dir);
    claim_report_clear(&rep);
    shard_set_free(set);
}

static char *slurp(const char *dir, const char *name)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *s = malloc(cap);
    ck_assert_ptr_nonnull(s);
    for (size_t got; (got = fread(s + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            s = realloc(s, cap *= 2);
            ck_assert_ptr_nonnull(s);
        }
    }
    fclose(f);
    s[n] = '\0';
    return s;
}

/* Every file of dir `want` is in `got` with the same bytes, and no other;
 * an .md, a .csv and a .json among them. */
static void assert_same_files(const char *want, const char *got, const char *what)
{
    int files = 0, kinds = 0;
    DIR *d = opendir(want);
    ck_assert_ptr_nonnull(d);
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char *x = slurp(want, e->d_name), *y = slurp(got, e->d_name);
        ck_assert_ptr_nonnull(x);
        ck_assert_msg(y != NULL, "%s: %s is missing", what, e->d_name);
        ck_assert_msg(strcmp(x, y) == 0, "%s: %s differs", what, e->d_name);
        free(x);
        free(y);
        const char *dot = strrchr(e->d_name, '.');
        kinds |= !dot                     ? 0
                 : !strcmp(dot, ".md")    ? 1
                 : !strcmp(dot, ".csv")   ? 2
                 : !strcmp(dot, ".json")  ? 4
                                          : 0;
        files++;
    }
    closedir(d);
    ck_assert_msg(kinds == 7, "%s: not every format was compared", what);
    d = opendir(got);
    ck_assert_ptr_nonnull(d);
    for (struct dirent *e; (e = readdir(d));)
        files -= e->d_name[0] != '.';
    closedir(d);
    ck_assert_msg(files == 0, "%s wrote another set of files", what);
}

START_TEST(test_reports_identical)
{
    char ref[400], dir[400];
    snprintf(ref, sizeof ref, "%s/jobs1-threads1", tmp);
    run_whole(_i, 1, 1, ref);
    static const struct {
        int jobs, threads;
    } other[] = {{2, 1}, {1, 2}, {2, 2}};
    for (size_t v = 0; v < sizeof other / sizeof other[0]; v++) {
        snprintf(dir, sizeof dir, "%s/jobs%d-threads%d", tmp, other[v].jobs, other[v].threads);
        run_whole(_i, other[v].jobs, other[v].threads, dir);
        assert_same_files(ref, dir, dir + strlen(tmp) + 1);
    }
    /* shards on one core, and on two with two rows at once */
    for (int t = 1; t <= 2; t++) {
        par_set_threads(t);
        snprintf(dir, sizeof dir, "%s/merged-%d", tmp, t);
        run_sharded(_i, t, dir);
        assert_same_files(ref, dir, dir + strlen(tmp) + 1);
    }
    par_shutdown();
    par_set_threads(0);
}
END_TEST

Suite *suite_identity(void)
{
    Suite *s = suite_create("identity");
    TCase *tc = tcase_create("identity");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_reports_identical, 0, (int)(sizeof runs / sizeof runs[0]));
    suite_add_tcase(s, tc);
    return s;
}
