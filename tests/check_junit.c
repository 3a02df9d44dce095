/* JUnit XML (--format junit): read back by an independent parser
 * (/usr/bin/python3 xml.etree, tests/parse_junit.py), with parameter values
 * that need escaping; each verdict's outcome (violated a failure,
 * inconclusive an error, vacuous skipped; in a mutated run a row that holds
 * a failure), the certified figures of a failure rounded outward, the same
 * bytes on a second write, and through the CLI one testcase per row. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "report.h"
#include "testutil.h"

#define PYTHON "/usr/bin/python3"

static char tmpdir[256];
static char out[1 << 16];

static void setup(void) { test_tmpdir_make(tmpdir, sizeof tmpdir, "attncheck-junit"); }
static void teardown(void) { test_tmpdir_remove(tmpdir); }


/* Values typed into --set, as the XML must give them back: markup
 * characters as they were, characters XML 1.0 cannot carry as U+FFFD. */
#define FFFD "\xEF\xBF\xBD"
static const struct {
    const char *in, *back;
} hostile[] = {
    {"a&b<c>d\"e'f", "a&b<c>d\"e'f"},
    {"]]>&amp;", "]]>&amp;"},
    {"tab\there\nline\rcr", "tab\there\nline\rcr"},
    {"ctl\x01\x1f\x7f", "ctl" FFFD FFFD FFFD},
    {"c1\xC2\x85", "c1" FFFD},
    {"bad\xFF" "utf8", "bad" FFFD "utf8"},
    {"nonchar\xEF\xBF\xBF", "nonchar" FFFD},
    {"γ≈1.7", "γ≈1.7"},
};
#define N_HOSTILE ((int)(sizeof hostile / sizeof hostile[0]))
/* rows: one per hostile value (holds), then violated, inconclusive, vacuous,
 * and an exact-identity row violated */
#define N_ROWS (N_HOSTILE + 4)

static const claim_t claim_ci = {
    .id = "ci<&>",
    .source = "test",
    .kind = KIND_INEQUALITY,
    .provenance = "test",
    .statement = "rows of every verdict, \"quoted\" & <marked>",
    .formula = "none",
    .mutations = {{"broken", "a test mutation"}, {NULL, NULL}},
};

static void set_error(row_t *r, unsigned long lo3, unsigned long hi3)
{
    /* E = [lo3/3, hi3/3]: not dyadic, so the printed ends must round outward */
    mpfr_t lo, hi;
    mpfr_inits2(r->prec, lo, hi, (mpfr_ptr)0);
    mpfr_set_ui(lo, lo3, MPFR_RNDD);
    mpfr_div_ui(lo, lo, 3, MPFR_RNDD);
    mpfr_set_ui(hi, hi3, MPFR_RNDU);
    mpfr_div_ui(hi, hi, 3, MPFR_RNDU);
    ival_set_interval_fr(r->error, lo, hi, r->prec);
    mpfr_clears(lo, hi, (mpfr_ptr)0);
    arb_set(r->error_abs, r->error);
}

static void make_rows(row_t *rows)
{
    for (int k = 0; k < N_ROWS; k++) {
        row_t *r = rows + k;
        memset(r, 0, sizeof *r);
        r->sweep = "s";
        r->seed = (unsigned long)k;
        row_start(r, 200);
        r->params.name[0] = "mask";
        r->params.value[0] = k < N_HOSTILE ? hostile[k].in : "plain";
        r->params.n = 1;
        set_error(r, (unsigned long)k + 1, (unsigned long)k + 2);
        arb_set_ui(r->bound, 100);
        r->has_bound = 1;
        r->verdict = VERDICT_HOLDS;
    }
    row_t *v = rows + N_HOSTILE, *inc = v + 1, *vac = v + 2, *ex = v + 3;
    arb_set_ui(v->bound, 1); /* E > 1: violated */
    v->verdict = verdict_bound(v->error, v->bound);
    arb_set_ui(inc->bound, 1);
    set_error(inc, 2, 4); /* [0.67, 1.33] against 1: undecided */
    inc->verdict = verdict_bound(inc->error, inc->bound);
    arb_set_ui(vac->trivial, 10);
    vac->has_trivial = 1; /* bound 100 >= trivial 10 */
    vac->verdict = VERDICT_VACUOUS;
    ex->has_bound = 0;
    ex->exact_identity = 1;
    mpfr_set_ui(ex->scale, 1, MPFR_RNDN);
    ex->verdict = verdict_exact(ex->error, ex->scale, ex->prec, 1);
    ck_assert_int_eq(v->verdict, VERDICT_VIOLATED);
    ck_assert_int_eq(inc->verdict, VERDICT_INCONCLUSIVE);
    ck_assert_int_eq(ex->verdict, VERDICT_VIOLATED);
}

static void report_begin(claim_report_t *rep, row_t *rows, long n, int mutation)
{
    memset(rep, 0, sizeof *rep);
    rep->claim = &claim_ci;
    rep->rows = rows;
    rep->n_rows = n;
    rep->mutation = mutation;
}

static void write_junit(const claim_report_t *rep, const char *dir)
{
    run_options_t o;
    run_options_default(&o);
    report_run_t run = {.verb = "verify", .options = &o};
    char err[512];
    int rc = report_write_claim(rep, &run, dir, FORMAT_JUNIT, err, sizeof err);
    ck_assert_msg(rc == 0, "report_write_claim: %d %s", rc, err);
}

/* tests/parse_junit.py's lines, one JSON value each (NULL-terminated);
 * NULL when python3 is missing.  The parse must succeed. */
static json_t **parse_junit(const char *xml)
{
    if (access(PYTHON, X_OK) != 0) {
        fprintf(stderr, "check_junit: skipped the Python parse: %s not found\n", PYTHON);
        return NULL;
    }
    char cmd[1200], path[600];
    snprintf(path, sizeof path, "%s/parse.jsonl", tmpdir);
    snprintf(cmd, sizeof cmd, PYTHON " tests/parse_junit.py '%s' > '%s' 2>&1", xml, path);
    int rc = system(cmd);
    char *text = test_read_whole(path);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(rc == 0, "parse_junit: %s", text);
    size_t n = 0, cap = 16;
    json_t **lines = malloc(cap * sizeof *lines);
    ck_assert_ptr_nonnull(lines);
    for (char *save = NULL, *t = strtok_r(text, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
        json_error_t e;
        json_t *j = json_loads(t, 0, &e);
        ck_assert_msg(j != NULL, "parse_junit printed '%s'", t);
        if (n + 2 > cap) {
            lines = realloc(lines, (cap *= 2) * sizeof *lines);
            ck_assert_ptr_nonnull(lines);
        }
        lines[n++] = j;
    }
    lines[n] = NULL;
    free(text);
    return lines;
}

static void free_lines(json_t **lines)
{
    for (size_t k = 0; lines && lines[k]; k++)
        json_decref(lines[k]);
    free(lines);
}

/* The testcase named name (NULL when there is none). */
static json_t *find_case(json_t **lines, const char *name)
{
    for (size_t k = 0; lines[k]; k++) {
        const char *s = json_string_value(json_object_get(lines[k], "testcase"));
        if (s && strcmp(s, name) == 0)
            return lines[k];
    }
    return NULL;
}

static long count_of(json_t **lines, const char *what)
{
    json_t *c = json_object_get(lines[0], "testsuites");
    ck_assert_ptr_nonnull(c);
    return (long)json_integer_value(json_object_get(c, what));
}

/* The decimal string s is <= x (hi = 0) or >= x (hi = 1), exactly. */
static int decimal_outward(const char *s, size_t len, mpfr_srcptr x, int hi)
{
    char buf[128];
    ck_assert_uint_lt(len, sizeof buf);
    memcpy(buf, s, len);
    buf[len] = '\0';
    mpfr_t d;
    mpfr_init2(d, 2000);
    ck_assert_int_eq(mpfr_set_str(d, buf, 10, hi ? MPFR_RNDD : MPFR_RNDU), 0);
    int ok = hi ? mpfr_greaterequal_p(d, x) : mpfr_lessequal_p(d, x);
    mpfr_clear(d);
    return ok;
}

/* text holds "E in [lo, hi]" with lo <= lo(E) and hi >= hi(E). */
static void assert_figures(const char *text, const row_t *r)
{
    ck_assert_ptr_nonnull(text);
    const char *at = strstr(text, "E in [");
    ck_assert_msg(at != NULL, "no enclosure of E in '%s'", text);
    at += strlen("E in [");
    const char *comma = strchr(at, ','), *end = comma ? strchr(comma, ']') : NULL;
    ck_assert(comma && end);
    mpfr_t lo, hi;
    mpfr_inits2(1024, lo, hi, (mpfr_ptr)0);
    ival_get_lo(lo, r->error);
    ival_get_hi(hi, r->error);
    ck_assert(decimal_outward(at, (size_t)(comma - at), lo, 0));
    ck_assert(decimal_outward(comma + 2, (size_t)(end - comma - 2), hi, 1));
    mpfr_clears(lo, hi, (mpfr_ptr)0);
}

static void expect_name(char *buf, size_t n, const row_t *r, const char *value)
{
    snprintf(buf, n, "%s [s mask=%s seed=%lu p=%ld]", claim_ci.id, value, r->seed,
             (long)r->prec_requested);
}

START_TEST(test_outcomes_and_escaping)
{
    row_t rows[N_ROWS];
    make_rows(rows);
    claim_report_t rep;
    report_begin(&rep, rows, N_ROWS, 0);
    write_junit(&rep, tmpdir);
    char xml[600];
    snprintf(xml, sizeof xml, "%s/ci<&>.junit.xml", tmpdir);
    ck_assert_msg(access(xml, F_OK) == 0, "no %s", xml);
    json_t **lines = parse_junit(xml);
    if (lines) {
        ck_assert_int_eq(count_of(lines, "tests"), N_ROWS);
        ck_assert_int_eq(count_of(lines, "failures"), 2);
        ck_assert_int_eq(count_of(lines, "errors"), 1);
        ck_assert_int_eq(count_of(lines, "skipped"), 1);
        static const char *const want[] = {"failure", "error", "skipped", "failure"};
        for (int k = 0; k < N_ROWS; k++) {
            char name[400];
            expect_name(name, sizeof name, rows + k, k < N_HOSTILE ? hostile[k].back : "plain");
            json_t *c = find_case(lines, name);
            ck_assert_msg(c != NULL, "no testcase named '%s'", name);
            const char *outcome = json_string_value(json_object_get(c, "outcome"));
            ck_assert_str_eq(outcome, k < N_HOSTILE ? "pass" : want[k - N_HOSTILE]);
            const char *text = json_string_value(json_object_get(c, "text"));
            assert_figures(text, rows + k);
            if (rows[k].verdict == VERDICT_VIOLATED && !rows[k].exact_identity)
                ck_assert_ptr_nonnull(strstr(text, "bound in ["));
            if (rows[k].exact_identity)
                ck_assert_ptr_nonnull(strstr(text, "S 2^(kappa - p) = "));
            if (rows[k].verdict == VERDICT_VACUOUS)
                ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(c, "message")),
                                             "trivial bound"));
        }
        /* the suite's properties are not parsed here; its name is */
        ck_assert_str_eq(json_string_value(json_object_get(lines[1], "testsuite")), "ci<&>");
    }
    free_lines(lines);

    /* a second write: the same bytes, and no time in them */
    char again[400], xml2[700];
    snprintf(again, sizeof again, "%s/again", tmpdir);
    ck_assert_int_eq(mkdir(again, 0700), 0);
    write_junit(&rep, again);
    snprintf(xml2, sizeof xml2, "%s/ci<&>.junit.xml", again);
    char *a = test_read_whole(xml), *b = test_read_whole(xml2);
    ck_assert(a && b);
    ck_assert_msg(strcmp(a, b) == 0, "two writes of one report differ");
    ck_assert_ptr_null(strstr(a, "timestamp="));
    ck_assert_ptr_null(strstr(a, " time="));
    free(a);
    free(b);
    for (int k = 0; k < N_ROWS; k++)
        row_clear(rows + k);
}
END_TEST

/* A mutated run must detect its break: violated rows pass, the others fail
 * (inconclusive stays an error). */
START_TEST(test_mutated_outcomes)
{
    row_t rows[N_ROWS];
    make_rows(rows);
    claim_report_t rep;
    report_begin(&rep, rows, N_ROWS, 1);
    write_junit(&rep, tmpdir);
    char xml[600];
    snprintf(xml, sizeof xml, "%s/ci<&>.mutated-broken.junit.xml", tmpdir);
    json_t **lines = parse_junit(xml);
    if (lines) {
        ck_assert_int_eq(count_of(lines, "tests"), N_ROWS);
        ck_assert_int_eq(count_of(lines, "failures"), N_HOSTILE + 1); /* holds and vacuous */
        ck_assert_int_eq(count_of(lines, "errors"), 1);
        ck_assert_int_eq(count_of(lines, "skipped"), 0);
        char name[400];
        expect_name(name, sizeof name, rows + N_HOSTILE, "plain");
        json_t *c = find_case(lines, name);
        ck_assert_ptr_nonnull(c);
        ck_assert_str_eq(json_string_value(json_object_get(c, "outcome")), "pass");
    }
    free_lines(lines);
    for (int k = 0; k < N_ROWS; k++)
        row_clear(rows + k);
}
END_TEST

/* Through the CLI: one testcase per row of the .json, every one passing;
 * the same claim mutated: every row detected (exit 1), no failure. */
START_TEST(test_cli_junit)
{
    char args[1024], path[600];
    snprintf(args, sizeof args, "sweep neuron-head --set shape=2x3 --set a=1,8 --prec 53,113 "
             "--format junit,json --out %s/c", tmpdir);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 0);
    snprintf(path, sizeof path, "%s/c/neuron-head.json", tmpdir);
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    ck_assert_msg(doc != NULL, "%s", jerr.text);
    long n_rows = (long)json_array_size(json_object_get(doc, "rows"));
    json_decref(doc);
    ck_assert_int_gt(n_rows, 1);
    snprintf(path, sizeof path, "%s/c/neuron-head.junit.xml", tmpdir);
    json_t **lines = parse_junit(path);
    if (lines) {
        ck_assert_int_eq(count_of(lines, "tests"), n_rows);
        ck_assert_int_eq(count_of(lines, "failures"), 0);
        ck_assert_int_eq(count_of(lines, "errors"), 0);
    }
    free_lines(lines);
    snprintf(args, sizeof args, "sweep neuron-head --set shape=2x3 --set a=1,8 --prec 53,113 "
             "--mutate --format junit --out %s/m", tmpdir);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 1);
    snprintf(path, sizeof path, "%s/m/neuron-head.mutated-%s.junit.xml", tmpdir,
             claim_find("neuron-head")->mutations[0][0]);
    lines = parse_junit(path);
    if (lines) {
        ck_assert_int_eq(count_of(lines, "tests"), n_rows);
        ck_assert_int_eq(count_of(lines, "failures"), 0);
    }
    free_lines(lines);
    /* a float twin's command keeps its --arith */
    snprintf(args, sizeof args, "sweep mlp-layer --set a=1 --arith binary32 --format junit "
             "--out %s/a", tmpdir);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 0);
    snprintf(path, sizeof path, "%s/a/mlp-layer.binary32.junit.xml", tmpdir);
    char *xml = NULL;
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "no %s", path);
    size_t cap = 0;
    ck_assert(getdelim(&xml, &cap, '\0', f) > 0);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(xml, "<property name=\"command\" value=\"attncheck sweep "
                                      "mlp-layer --set a=1 --arith binary32\"/>"));
    free(xml);
    snprintf(args, sizeof args, "verify neuron-head --format junit,pdf --out %s/x", tmpdir);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 64);
    ck_assert_ptr_nonnull(strstr(out, "md,csv,json,svg,junit"));
}
END_TEST

Suite *suite_junit(void)
{
    Suite *s = suite_create("junit");
    TCase *tc = tcase_create("junit");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_outcomes_and_escaping);
    tcase_add_test(tc, test_mutated_outcomes);
    tcase_add_test(tc, test_cli_junit);
    suite_add_tcase(s, tc);
    return s;
}
