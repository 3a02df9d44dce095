/* Discoverable parameters and long runs: describe (its counts against the
 * runner's grid), --dry-run, --set on sub-sweeps, unknown names, the
 * "custom" label, progress text, --quiet, and --resume: a run stopped early
 * (by --max-seconds, a cut last line, or SIGKILL) resumed into the same
 * reports, byte for byte, as an uninterrupted run; a journal of another
 * command, or a damaged one, refused with 65. */
#include <dirent.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "describe.h"
#include "journal.h"
#include "progress.h"
#include "testutil.h"

static char tmp[256];

static void setup(void) { test_tmpdir_make(tmp, sizeof tmp, "attncheck-runs"); }
static void teardown(void) { test_tmpdir_remove(tmp); }

/* Run the binary with argv (NULL-terminated, after the binary); output in
 * tmp/out.txt and tmp/err.txt. */
static int run(const char *const *argv)
{
    test_cli_t t = {.argv = argv, .dir = tmp};
    return test_cli_run(&t);
}

static char out[1 << 16], err[1 << 14];

static void read_outputs(void)
{
    test_read_file(out, sizeof out, tmp, "out.txt");
    test_read_file(err, sizeof err, tmp, "err.txt");
}

static int lines_of(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* For every claim and grid, what describe says one value of each parameter
 * gives is what the runner's grid has with that parameter set to 3 values. */
START_TEST(test_describe_counts_agree_with_runner)
{
    for (int k = 0; claim_registry[k]; k++) {
        const claim_t *c = claim_registry[k];
        char *text = describe_json(c);
        ck_assert_ptr_nonnull(text);
        json_t *doc = json_loads(text, 0, NULL);
        free(text);
        ck_assert_ptr_nonnull(doc);
        ck_assert_str_eq(json_string_value(json_object_get(doc, "id")), c->id);
        json_t *params = json_object_get(doc, "parameters");
        ck_assert(json_array_size(params) > 0);
        for (int g = 0; g < 2; g++) {
            const char *grid = g ? "full" : "quick";
            run_options_t o;
            run_options_default(&o);
            o.full = g;
            json_t *gj = json_object_get(json_object_get(doc, "grids"), grid);
            ck_assert_int_eq(json_integer_value(json_object_get(gj, "rows")),
                             runner_grid_rows(c, &o));
            /* the sub-sweeps are the claim's own */
            const sweep_t *sw = g && c->full[0].label ? c->full : c->quick;
            json_t *list = json_object_get(gj, "sweeps");
            for (size_t s = 0; s < json_array_size(list); s++)
                ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, s),
                                                                   "label")), sw[s].label);
            ck_assert_ptr_null(sw[json_array_size(list)].label);
            for (size_t p = 0; p < json_array_size(params); p++) {
                json_t *pj = json_array_get(params, p);
                const char *name = json_string_value(json_object_get(pj, "name"));
                long per = (long)json_integer_value(json_object_get(
                    json_object_get(json_object_get(pj, "grids"), grid), "rows_per_value"));
                run_options_t s = o;
                s.n_sets = 1;
                s.set_name[0] = name;
                s.set_values[0] = "7,8,9";
                ck_assert_msg(runner_grid_rows(c, &s) == 3 * per, "%s %s %s: %ld rows, "
                              "describe says %ld per value", c->id, grid, name,
                              runner_grid_rows(c, &s), per);
            }
        }
        json_decref(doc);
    }
}
END_TEST

START_TEST(test_describe_text_and_errors)
{
    const char *a[] = {"describe", "mask-encoding", NULL};
    ck_assert_int_eq(run(a), 0);
    read_outputs();
    const claim_t *c = claim_find("mask-encoding");
    for (int s = 0; c->quick[s].label; s++)
        ck_assert_msg(strstr(out, c->quick[s].label), "%s missing", c->quick[s].label);
    /* the 760-row surprise, explained: 40 rows per omega, 19 values */
    ck_assert_ptr_nonnull(strstr(out, "  omega        quick: 40 rows per value"));
    const char *b[] = {"describe", "no-such-claim", NULL};
    ck_assert_int_eq(run(b), 64);
    const char *d[] = {"describe", "mask-encoding", "--format", "yaml", NULL};
    ck_assert_int_eq(run(d), 64);
    const char *e[] = {"describe", NULL};
    ck_assert_int_eq(run(e), 64);
    /* an unknown --set name lists the valid ones, from the claim's axes */
    const char *f[] = {"sweep", "neuron-head", "--set", "zz=1", "--no-write", NULL};
    ck_assert_int_eq(run(f), 64);
    read_outputs();
    ck_assert_int_eq(lines_of(err), 1);
    ck_assert_ptr_nonnull(strstr(err, "no parameter 'zz' (its parameters: prec, a, shape, seed)"));
    /* axes of different sub-sweeps: no sub-sweep runs */
    const char *g[] = {"sweep", "gelu-approx", "--set", "delta=0.01", "--set", "a=1",
                       "--no-write", NULL};
    ck_assert_int_eq(run(g), 64);
    read_outputs();
    ck_assert_int_eq(lines_of(err), 1);
    ck_assert_ptr_nonnull(strstr(err, "bracket lacks a"));
}
END_TEST

START_TEST(test_dry_run)
{
    char dir[400];
    snprintf(dir, sizeof dir, "%s/dry", tmp);
    const char *a[] = {"sweep", "mask-encoding", "--set", "omega=1,2", "--dry-run", "--out", dir,
                       NULL};
    ck_assert_int_eq(run(a), 0);
    read_outputs();
    run_options_t o;
    run_options_default(&o);
    o.n_sets = 1;
    o.set_name[0] = "omega";
    o.set_values[0] = "1,2";
    char want[64];
    snprintf(want, sizeof want, "mask-encoding: %ld rows\n",
             runner_grid_rows(claim_find("mask-encoding"), &o));
    ck_assert_msg(strstr(out, want), "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "*omega=1,2"));
    ck_assert_ptr_nonnull(strstr(out, "estimated peak memory"));
    struct stat st;
    ck_assert_int_ne(stat(dir, &st), 0); /* nothing made */
    /* over a limit: the grid printed, then the run's own refusal */
    const char *b[] = {"verify", "mlp-layer", "--dry-run", "--max-rows", "10", "--out", dir, NULL};
    ck_assert_int_eq(run(b), 65);
    read_outputs();
    ck_assert_ptr_nonnull(strstr(out, "mlp-layer: "));
    ck_assert_ptr_nonnull(strstr(err, "over --max-rows 10"));
    const char *c[] = {"merge", dir, "--dry-run", NULL};
    ck_assert_int_eq(run(c), 64);
}
END_TEST

/* --set replaces an axis in the sub-sweeps that have it; the others do not
 * run, and the report says so; a grid's own label becomes "custom". */
START_TEST(test_set_sub_sweeps_and_label)
{
    char dir[400], csv[8192], md[1 << 16];
    snprintf(dir, sizeof dir, "%s/g", tmp);
    const char *a[] = {"sweep", "gelu-approx", "--set", "delta=0.01", "--format", "md,csv",
                       "--quiet", "--out", dir, NULL};
    ck_assert_int_eq(run(a), 0);
    read_outputs();
    ck_assert_str_eq(err, "");
    test_read_file(csv, sizeof csv, dir, "gelu-approx.csv");
    ck_assert_int_eq(lines_of(csv), 3); /* header, gelu, gelu_tanh: bracket rows only */
    ck_assert_ptr_nonnull(strstr(csv, "\nbracket,gelu,0.01,"));
    ck_assert_ptr_null(strstr(csv, "\ngap,"));
    test_read_file(md, sizeof md, dir, "gelu-approx.md");
    ck_assert_ptr_nonnull(strstr(md, "Sub-sweeps run: bracket (2 rows); not run: gap (no axis "
                                     "delta), mlp (no axis delta)"));
    snprintf(dir, sizeof dir, "%s/m", tmp);
    const char *b[] = {"sweep", "mlp-layer", "--set", "a=1", "--set", "shape=2x3x3", "--set",
                       "prec=53", "--format", "csv", "--out", dir, NULL};
    ck_assert_int_eq(run(b), 0);
    test_read_file(csv, sizeof csv, dir, "mlp-layer.csv");
    ck_assert_ptr_nonnull(strstr(csv, "\ncustom,1,2x3x3,"));
    ck_assert_ptr_null(strstr(csv, "\nquick,"));
    /* the claim's own grid keeps its name */
    snprintf(dir, sizeof dir, "%s/q", tmp);
    const char *c[] = {"verify", "neuron-head", "--prec", "53", "--format", "csv", "--out", dir,
                       NULL};
    ck_assert_int_eq(run(c), 0);
    test_read_file(csv, sizeof csv, dir, "neuron-head.csv");
    ck_assert_ptr_nonnull(strstr(csv, "\nquick,"));
}
END_TEST

START_TEST(test_progress_text)
{
    char buf[160];
    progress_format(buf, sizeof buf, 5, 10, 5, 2.0);
    ck_assert_str_eq(buf, "5/10 rows (50.0%), 2.5 rows/s, ETA 2 s");
    /* rows kept from a journal count as done, not in the rate */
    progress_format(buf, sizeof buf, 700, 760, 50, 1000.0);
    ck_assert_str_eq(buf, "700/760 rows (92.1%), 20.0 s/row, ETA 20 min 00 s");
    progress_format(buf, sizeof buf, 0, 760, 0, 0.0);
    ck_assert_str_eq(buf, "0/760 rows (0.0%), rate not known yet");
}
END_TEST

/* Every file but run.log the same bytes in both directories, and the same set. */
static void same_reports(const char *a, const char *b)
{
    DIR *d = opendir(a);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    int n = 0;
    static char x[1 << 20], y[1 << 20];
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "run.log") == 0)
            continue;
        size_t lx = test_read_file(x, sizeof x, a, e->d_name);
        size_t ly = test_read_file(y, sizeof y, b, e->d_name);
        ck_assert_msg(lx == ly && memcmp(x, y, lx) == 0, "%s differs", e->d_name);
        n++;
    }
    closedir(d);
    ck_assert_int_ge(n, 5);
    d = opendir(b);
    int m = 0;
    while ((e = readdir(d)))
        m += e->d_name[0] != '.' && strcmp(e->d_name, "run.log") != 0;
    closedir(d);
    ck_assert_int_eq(m, n); /* the journal is gone */
}

static int journal_lines(const char *dir)
{
    static char buf[1 << 20];
    test_read_file(buf, sizeof buf, dir, JOURNAL_FILE);
    return lines_of(buf);
}

/* 24 rows of about 12 ms each (0.3 s on one idle core): a 0.02 s limit
 * stops the run with most rows not begun, however fast the machine. */
#define CLAIM_ARGS "sweep", "mlp-layer", "--set", "shape=16x64x16", "--set", "a=1,8", \
                   "--set", "prec=1024", "--set", "seed=1,2,3,4,5,6,7,8,9,10,11,12"

START_TEST(test_resume_after_time_limit)
{
    char whole[400], cut[400];
    snprintf(whole, sizeof whole, "%s/whole", tmp);
    snprintf(cut, sizeof cut, "%s/cut", tmp);
    const char *a[] = {CLAIM_ARGS, "--out", whole, NULL};
    ck_assert_int_eq(run(a), 0);
    const char *b[] = {CLAIM_ARGS, "--max-seconds", "0.02", "--out", cut, NULL};
    ck_assert_int_eq(run(b), 2);
    read_outputs();
    int n = journal_lines(cut);
    ck_assert_msg(n >= 1 && n < 1 + 24, "%d journal lines", n);
    ck_assert_ptr_nonnull(strstr(err, "--resume computes only those"));
    /* a cut last line, as a kill mid-write leaves it: dropped, its row computed again */
    char path[500];
    snprintf(path, sizeof path, "%s/%s", cut, JOURNAL_FILE);
    FILE *f = fopen(path, "ab");
    fputs("{\"report\":0,\"index\":23,\"row\":{\"ind", f);
    fclose(f);
    const char *c[] = {CLAIM_ARGS, "--resume", "--out", cut, NULL};
    ck_assert_int_eq(run(c), 0);
    read_outputs();
    if (n > 1) {
        char want[64];
        snprintf(want, sizeof want, "--resume: %d rows kept", n - 1);
        ck_assert_msg(strstr(err, want), "%s", err);
    }
    same_reports(whole, cut);
}
END_TEST

START_TEST(test_resume_after_kill)
{
    char whole[400], cut[400];
    snprintf(whole, sizeof whole, "%s/whole", tmp);
    snprintf(cut, sizeof cut, "%s/cut", tmp);
    /* rows of about 0.1 s: the kill comes while most are left */
#define SLOW_ARGS "sweep", "mlp-layer", "--set", "shape=16x64x16", "--set", "a=1,8", "--set", \
                  "prec=1024", "--set", "seed=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16", \
                  "--threads", "1"
    const char *a[] = {SLOW_ARGS, "--out", cut, NULL};
    test_cli_t t = {.argv = a, .dir = tmp};
    int pid = test_cli_start(&t);
    struct timespec pause = {0, 20 * 1000 * 1000};
    for (int k = 0; k < 1500 && journal_lines(cut) < 4; k++)
        nanosleep(&pause, NULL);
    kill(pid, SIGKILL);
    ck_assert_int_eq(test_cli_wait(pid, 60, NULL), 128 + SIGKILL);
    int n = journal_lines(cut);
    ck_assert_msg(n >= 4 && n < 33, "%d journal lines at the kill", n);
    const char *b[] = {SLOW_ARGS, "--resume", "--out", cut, NULL};
    ck_assert_int_eq(run(b), 0);
    read_outputs();
    ck_assert_ptr_nonnull(strstr(err, "rows kept from"));
    const char *c[] = {SLOW_ARGS, "--out", whole, NULL};
    ck_assert_int_eq(run(c), 0);
    same_reports(whole, cut);
}
END_TEST

/* A journal of another command, or a damaged one, is refused with one line
 * (65) and left as it is; without --resume a run starts afresh. */
START_TEST(test_resume_refuses_other_journal)
{
    char dir[400], before[1 << 16], after[1 << 16];
    snprintf(dir, sizeof dir, "%s/j", tmp);
    const char *a[] = {CLAIM_ARGS, "--max-seconds", "0.02", "--out", dir, NULL};
    ck_assert_int_eq(run(a), 2);
    size_t len = test_read_file(before, sizeof before, dir, JOURNAL_FILE);
    ck_assert(len > 0);
    const char *b[] = {"sweep", "mlp-layer", "--set", "shape=4x8x5,8x16x6", "--set", "a=1,8",
                       "--set", "prec=53,1024", "--set", "seed=1,2,4", "--resume", "--out", dir,
                       NULL};
    ck_assert_int_eq(run(b), 65);
    read_outputs();
    ck_assert_int_eq(lines_of(err), 1);
    ck_assert_ptr_nonnull(strstr(err, "is the journal of another run"));
    const char *c[] = {"verify", "neuron-head", "--resume", "--out", dir, NULL};
    ck_assert_int_eq(run(c), 65);
    ck_assert_uint_eq(test_read_file(after, sizeof after, dir, JOURNAL_FILE), len);
    ck_assert(memcmp(before, after, len) == 0);
    /* one byte changed in a row: damaged */
    char path[500];
    snprintf(path, sizeof path, "%s/%s", dir, JOURNAL_FILE);
    char *row = strstr(before, "\"error\":\"");
    if (row) {
        row[9] = row[9] == '1' ? '2' : '1';
        FILE *f = fopen(path, "wb");
        fwrite(before, 1, len, f);
        fclose(f);
        const char *d[] = {CLAIM_ARGS, "--resume", "--out", dir, NULL};
        ck_assert_int_eq(run(d), 65);
        read_outputs();
        ck_assert_ptr_nonnull(strstr(err, "is damaged"));
    }
    /* the same command without --resume: a new journal, every row computed */
    const char *e[] = {CLAIM_ARGS, "--out", dir, NULL};
    ck_assert_int_eq(run(e), 0);
    ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

START_TEST(test_quiet)
{
    char dir[400];
    snprintf(dir, sizeof dir, "%s/quiet", tmp);
    const char *a[] = {"verify", "neuron-head", "--quiet", "--out", dir, NULL};
    ck_assert_int_eq(run(a), 0);
    read_outputs();
    ck_assert_str_eq(err, "");
    const char *b[] = {"verify", "neuron-head", "--out", dir, NULL};
    ck_assert_int_eq(run(b), 0);
    read_outputs();
    ck_assert_ptr_nonnull(strstr(err, "attncheck: progress: neuron-head"));
}
END_TEST

Suite *suite_runs(void)
{
    Suite *s = suite_create("runs");
    TCase *t = tcase_create("describe");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 120);
    tcase_add_test(t, test_describe_counts_agree_with_runner);
    tcase_add_test(t, test_describe_text_and_errors);
    tcase_add_test(t, test_dry_run);
    tcase_add_test(t, test_set_sub_sweeps_and_label);
    tcase_add_test(t, test_progress_text);
    tcase_add_test(t, test_quiet);
    suite_add_tcase(s, t);
    TCase *r = tcase_create("resume");
    tcase_add_checked_fixture(r, setup, teardown);
    tcase_set_timeout(r, 300);
    tcase_add_test(r, test_resume_after_time_limit);
    tcase_add_test(r, test_resume_after_kill);
    tcase_add_test(r, test_resume_refuses_other_journal);
    suite_add_tcase(s, r);
    return s;
}
