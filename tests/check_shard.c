/* Sharded runs and merge.  --shard K/N is parsed strictly; the shards of a
 * grid partition it, row for row; a partial file carries every row exactly
 * (random balls, special values and huge exponents come back equal); merge
 * refuses every malformed, lying or mismatched shard with 65 and one line
 * (75 while a shard's run still holds its directory), and random damage to
 * a partial file never crashes it; a sharded run merges byte-identical to
 * the unsharded one (tests/shard_identity.sh, through xargs -P; over the
 * whole registry in make check-slow; in process: check_identity.c). */
#define _DEFAULT_SOURCE /* flock, mkfifo */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "testutil.h"
#include "shard.h"

static char tmp[256];
static char err_text[1 << 16];

static void setup(void) { test_tmpdir_make(tmp, sizeof tmp, "attncheck-shard"); }
static void teardown(void) { test_tmpdir_remove(tmp); }

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Run the CLI from an argument vector; stderr into err_text. */
static int run(const char *const *argv)
{
    test_cli_t t = {.argv = argv, .dir = tmp};
    int rc = test_cli_run(&t);
    test_read_file(err_text, sizeof err_text, tmp, "err.txt");
    return rc;
}

/* ---- --shard K/N ---- */

static const struct {
    const char *s;
    long k, n; /* n = 0: refused */
} parse_cases[] = {
    {"0/1", 0, 1}, {"0/4", 0, 4}, {"3/4", 3, 4}, {"07/8", 7, 8}, {"999999/1000000", 999999, 1000000},
    {"0/0", 0, 0}, {"3/2", 0, 0}, {"2/2", 0, 0}, {"-1/4", 0, 0}, {"1/0", 0, 0},
    {"garbage", 0, 0}, {"", 0, 0}, {"/", 0, 0}, {"/3", 0, 0}, {"1/", 0, 0}, {"1/2/3", 0, 0},
    {" 1/2", 0, 0}, {"1/2 ", 0, 0}, {"+1/2", 0, 0}, {"1/+2", 0, 0}, {"0x1/2", 0, 0},
    {"1.0/2", 0, 0}, {"0/1000001", 0, 0}, {"99999999999999999999/3", 0, 0}, {"1\n/2", 0, 0},
};

START_TEST(test_shard_parse)
{
    long k = -7, n = -7;
    int rc = shard_parse(&k, &n, parse_cases[_i].s);
    if (parse_cases[_i].n) {
        ck_assert_msg(rc == 0, "'%s' refused", parse_cases[_i].s);
        ck_assert_int_eq(k, parse_cases[_i].k);
        ck_assert_int_eq(n, parse_cases[_i].n);
    } else {
        ck_assert_msg(rc != 0 && k == -7 && n == -7, "'%s' accepted", parse_cases[_i].s);
    }
}
END_TEST

/* ---- the shards of a grid are a partition of it, in grid order ---- */

static void assert_same_point(const row_t *a, const row_t *b, const char *id, long i)
{
    ck_assert_msg(a->sweep == b->sweep && a->seed == b->seed && a->mutation == b->mutation &&
                  a->params.n == b->params.n, "%s row %ld: another grid point", id, i);
    for (int p = 0; p < a->params.n; p++)
        ck_assert_msg(strcmp(a->params.name[p], b->params.name[p]) == 0 &&
                      strcmp(a->params.value[p], b->params.value[p]) == 0,
                      "%s row %ld: parameter %d differs", id, i, p);
}

START_TEST(test_shards_partition_grid)
{
    for (int k = 0; claim_registry[k]; k++) {
        const claim_t *c = claim_registry[k];
        run_options_t o;
        run_options_default(&o);
        o.full = _i;
        row_t *all;
        long total = runner_expand(&all, c, &o);
        ck_assert_int_eq(total, runner_grid_rows(c, &o));
        long counts[] = {1, 2, 3, 7, total + 5};
        for (int t = 0; t < 5; t++) {
            long n = counts[t], seen = 0;
            for (long s = 0; s < n; s++) {
                run_options_t part = o;
                part.shard_index = s;
                part.shard_count = n;
                row_t *rows;
                long m = runner_expand(&rows, c, &part);
                ck_assert_int_eq(m, runner_shard_rows(total, &part));
                ck_assert_int_eq(runner_grid_rows(c, &part), total);
                for (long j = 0; j < m; j++)
                    assert_same_point(rows + j, all + s + j * n, c->id, s + j * n);
                seen += m;
                runner_free_rows(rows, m);
            }
            ck_assert_msg(seen == total, "%s: %ld shards hold %ld of %ld rows", c->id, n, seen,
                          total);
        }
        runner_free_rows(all, total);
    }
}
END_TEST

START_TEST(test_shard_limits)
{
    /* the limits hold a shard to its own rows: neuron-head's 225 rows in 3 shards of 75 */
    const claim_t *c = claim_find("neuron-head");
    char err[512];
    run_options_t o;
    run_options_default(&o);
    o.max_rows = 100;
    ck_assert_int_ne(runner_check_limits(&c, 1, &o, err, sizeof err), 0);
    o.shard_count = 3;
    ck_assert_int_eq(runner_check_limits(&c, 1, &o, err, sizeof err), 0);
    o.shard_count = 2; /* 113 rows */
    ck_assert_int_ne(runner_check_limits(&c, 1, &o, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "113 rows"));
}
END_TEST

/* ---- every row comes back exactly: random results, special values ---- */

static const char *const extra_names[] = {"x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7",
                                          "x8", "x9", "x10", "x11", "x12", "x13"};

static void random_text(char *buf, size_t size, flint_rand_t st)
{
    static const char *const pieces[] = {"a", "Z", "7", " ", "|", ",", "\"", "\\", "é", "κ", "€",
                                         "'", "<", "{"};
    size_t len = 0, want = n_randint(st, size);
    buf[0] = '\0';
    while (len < want) {
        const char *p = pieces[n_randint(st, sizeof pieces / sizeof pieces[0])];
        if (len + strlen(p) >= size)
            break;
        strcat(buf, p);
        len += strlen(p);
    }
}

static void random_point(mpfr_t x, flint_rand_t st, gmp_randstate_t gst)
{
    mpfr_set_prec(x, 2 + (mpfr_prec_t)n_randint(st, 300));
    switch (n_randint(st, 6)) {
    case 0: mpfr_set_nan(x); break;
    case 1: mpfr_set_inf(x, n_randint(st, 2) ? 1 : -1); break;
    case 2: mpfr_set_zero(x, n_randint(st, 2) ? 1 : -1); break;
    default:
        mpfr_urandomb(x, gst);
        mpfr_mul_2si(x, x, (long)n_randint(st, 20000) - 10000, MPFR_RNDN);
        if (n_randint(st, 2))
            mpfr_neg(x, x, MPFR_RNDN);
    }
}

/* A ball with special values now and then, and exponents up to 2^200. */
static void random_ball(arb_t x, flint_rand_t st, mpfr_prec_t prec)
{
    arb_randtest_special(x, st, prec, n_randint(st, 4) ? 40 : 200);
}

static void random_results(row_t *r, claim_kind_t kind, flint_rand_t st, gmp_randstate_t gst)
{
    mpfr_prec_t prec = n_randint(st, 8) ? PREC_MIN + (mpfr_prec_t)n_randint(st, 2000) : PREC_MAX;
    row_start(r, prec);
    random_ball(r->error, st, prec);
    random_ball(r->error_abs, st, prec);
    random_ball(r->bound, st, prec);
    random_point(r->scale, st, gst);
    r->has_bound = (int)n_randint(st, 2);
    r->depth = (int)n_randint(st, 20) - 5;
    r->exact_identity = (int)n_randint(st, 2);
    random_text(r->note, sizeof r->note, st);
    runner_judge_row(r, kind); /* merge judges it again, and must agree */
    int extras = (int)n_randint(st, ROW_MAX_EXTRA + 1);
    for (int e = 0; e < extras; e++) {
        if (n_randint(st, 2)) {
            random_ball(row_add_ival(r, extra_names[e]), st, prec);
        } else {
            char text[128];
            random_text(text, sizeof text, st);
            row_add_text(r, extra_names[e], "%s", text);
        }
    }
}

static int same_point(mpfr_srcptr a, mpfr_srcptr b)
{
    if (mpfr_get_prec(a) != mpfr_get_prec(b))
        return 0;
    if (mpfr_nan_p(a) || mpfr_nan_p(b))
        return mpfr_nan_p(a) && mpfr_nan_p(b);
    return mpfr_equal_p(a, b) && mpfr_signbit(a) == mpfr_signbit(b);
}

/* balls compared as balls: midpoint and radius each equal */
static int same_ball(const arb_t a, const arb_t b)
{
    return arf_equal(arb_midref(a), arb_midref(b)) && mag_equal(arb_radref(a), arb_radref(b));
}

static void assert_same_results(const row_t *a, const row_t *b, long i)
{
    ck_assert_msg(a->prec == b->prec && same_ball(a->error, b->error) &&
                  same_ball(a->error_abs, b->error_abs) && same_ball(a->bound, b->bound) &&
                  same_point(a->scale, b->scale), "row %ld: a number differs", i);
    ck_assert_msg(a->has_bound == b->has_bound && a->depth == b->depth &&
                  a->exact_identity == b->exact_identity && a->verdict == b->verdict &&
                  strcmp(a->note, b->note) == 0 && a->n_extra == b->n_extra,
                  "row %ld: a field differs", i);
    for (int e = 0; e < a->n_extra; e++) {
        const column_t *x = a->extra + e, *y = b->extra + e;
        ck_assert_msg(strcmp(x->name, y->name) == 0 && x->is_ival == y->is_ival &&
                      (x->is_ival ? same_ball(x->iv, y->iv) : strcmp(x->str, y->str) == 0),
                      "row %ld: extra column %d differs", i, e);
    }
}

START_TEST(test_partial_round_trip)
{
    const claim_t *c = claim_find("neuron-head"); /* no fits or summary to read the rows */
    const long n = 3;
    const char *ids[] = {"neuron-head"};
    char dirs[3][300], *dirp[3], err[512];
    flint_rand_t st;
    gmp_randstate_t gst;
    flint_randinit(st);
    flint_randseed(st, test_seed() + 1, test_seed() + 2);
    gmp_randinit_default(gst);
    gmp_randseed_ui(gst, test_seed() + 3);
    claim_report_t part[3];
    for (long s = 0; s < n; s++) {
        run_options_t o;
        run_options_default(&o);
        o.shard_index = s;
        o.shard_count = n;
        memset(part + s, 0, sizeof part[s]);
        part[s].claim = c;
        part[s].n_rows = runner_expand(&part[s].rows, c, &o);
        for (long j = 0; j < part[s].n_rows; j++)
            random_results(part[s].rows + j, c->kind, st, gst);
        part[s].seconds = 0.25 * (double)(s + 1);
        report_run_t how = {.verb = "verify", .ids = ids, .n_ids = 1, .options = &o};
        snprintf(dirs[s], sizeof dirs[s], "%s/s%ld", tmp, s);
        ck_assert_int_eq(mkdir(dirs[s], 0700), 0);
        dirp[s] = dirs[s];
        ck_assert_msg(shard_write(part + s, 1, &how, dirs[s], err, sizeof err) == 0, "%s", err);
    }
    shard_set_t *set;
    shard_run_t back;
    ck_assert_msg(shard_set_read(&set, &back, dirp, 3, 1e12, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(back.verb, "verify");
    ck_assert_int_eq(back.n_ids, 1);
    ck_assert_int_eq(back.options.seed_set, 0);
    ck_assert_int_eq(shard_set_count(set), 3);
    report_run_t how = {.verb = back.verb, .ids = back.ids, .n_ids = back.n_ids,
                        .options = &back.options};
    int mutation = 0;
    ck_assert_msg(shard_set_check(set, &how, &c, &mutation, 1, err, sizeof err) == 0, "%s", err);
    claim_report_t merged;
    ck_assert_msg(shard_set_fill(&merged, set, 0, c, &back.options, err, sizeof err) == 0, "%s",
                  err);
    ck_assert_int_eq(merged.n_rows, runner_grid_rows(c, &back.options));
    long counts[4] = {0, 0, 0, 0};
    for (long i = 0; i < merged.n_rows; i++) {
        assert_same_results(merged.rows + i, part[i % n].rows + i / n, i);
        counts[merged.rows[i].verdict]++;
    }
    ck_assert(merged.holds == counts[0] && merged.violated == counts[1] &&
              merged.inconclusive == counts[2] && merged.vacuous == counts[3]);
    ck_assert(merged.seconds == 1.5);
    claim_report_clear(&merged);
    for (long s = 0; s < n; s++)
        claim_report_clear(part + s);
    shard_set_free(set);
    flint_randclear(st);
    gmp_randclear(gst);
}
END_TEST

/* ---- merge refuses what it cannot trust ---- */

/* Two shards of a small sweep (8 rows) in tmp/s0, tmp/s1. */
static void make_shards(void)
{
    for (int s = 0; s < 2; s++) {
        char shard[16], out[300];
        snprintf(shard, sizeof shard, "%d/2", s);
        snprintf(out, sizeof out, "%s/s%d", tmp, s);
        const char *argv[] = {"sweep", "neuron-head", "--set", "shape=2x3,4x6", "--set",
                              "seed=1,2", "--prec", "53,113", "--shard", shard, "--out", out, NULL};
        ck_assert_msg(run(argv) == 0, "shard %d: %s", s, err_text);
    }
}

/* merge tmp/s0 tmp/s1 (and more) into tmp/m: the exit code. */
static int merge(const char *extra_dir)
{
    char s0[300], s1[300], m[300];
    snprintf(s0, sizeof s0, "%s/s0", tmp);
    snprintf(s1, sizeof s1, "%s/s1", tmp);
    snprintf(m, sizeof m, "%s/m", tmp);
    const char *argv[] = {"merge", s0, s1, "--out", m, extra_dir, NULL};
    return run(argv);
}

/* The refusal: the code, one line, and no report directory. */
static void assert_refused(int rc, int code, const char *what)
{
    char m[300];
    snprintf(m, sizeof m, "%s/m", tmp);
    ck_assert_msg(rc == code, "%s: merge exited %d, not %d: %s", what, rc, code, err_text);
    ck_assert_msg(test_count_lines(err_text) == 1, "%s: %d lines: %s", what,
                  test_count_lines(err_text), err_text);
    ck_assert_msg(strncmp(err_text, "attncheck: ", 11) == 0, "%s: %s", what, err_text);
    ck_assert_msg(!exists(m), "%s: a report directory was left", what);
}

static json_t *load_partial(int s)
{
    char path[300];
    json_error_t je;
    snprintf(path, sizeof path, "%s/s%d/%s", tmp, s, SHARD_FILE);
    json_t *doc = json_load_file(path, 0, &je);
    ck_assert_msg(doc != NULL, "%s: %s", path, je.text);
    return doc;
}

/* Write doc as shard s's file as it is (an edit that leaves the digest). */
static void save_partial_unsigned(int s, json_t *doc)
{
    char path[300];
    snprintf(path, sizeof path, "%s/s%d/%s", tmp, s, SHARD_FILE);
    ck_assert_int_eq(json_dump_file(doc, path, JSON_COMPACT | JSON_ENCODE_ANY), 0);
    json_decref(doc);
}

/* Write doc with its digest made again, as a forger would: what merge's
 * other checks must refuse without the digest's help. */
static void save_partial(int s, json_t *doc)
{
    char digest[SHARD_DIGEST_HEX + 1];
    if (json_is_object(doc)) {
        ck_assert_int_eq(shard_digest(digest, doc), 0);
        json_object_set_new(doc, "digest", json_string(digest));
    }
    save_partial_unsigned(s, doc);
}

/* Set (value: JSON text) or delete (value NULL) the member at path, keys
 * and array indices separated by '/'. */
static void json_edit(json_t *doc, const char *path, const char *value)
{
    char buf[256], *save = NULL;
    snprintf(buf, sizeof buf, "%s", path);
    json_t *parent = NULL, *at = doc;
    char *key = NULL;
    for (char *t = strtok_r(buf, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        parent = at;
        key = t;
        at = json_is_array(parent) ? json_array_get(parent, strtoul(t, NULL, 10))
                                   : json_object_get(parent, t);
        if (!at)
            break; /* a new key: only as the last step */
    }
    ck_assert_ptr_nonnull(parent);
    json_t *v = NULL;
    if (value) {
        json_error_t je;
        v = json_loads(value, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
        ck_assert_msg(v != NULL, "bad test value %s", value);
    }
    int rc;
    size_t index = strtoul(key, NULL, 10);
    if (json_is_array(parent) && v && index == json_array_size(parent))
        rc = json_array_append_new(parent, v);
    else if (json_is_array(parent))
        rc = v ? json_array_set_new(parent, index, v) : json_array_remove(parent, index);
    else
        rc = v ? json_object_set_new(parent, key, v) : json_object_del(parent, key);
    ck_assert_msg(rc == 0, "cannot edit %s", path);
}

static const struct {
    const char *what;
    int shard;          /* the file edited: 0, 1, or -1 for both */
    const char *path;
    const char *value;  /* JSON text; NULL deletes */
    int code;
} damage[] = {
    /* balls arb_dump_str would not write (some would abort arb_load_str) */
    {"ball: empty", 0, "reports/0/rows/0/error", "\"\"", 65},
    {"ball: three numbers", 0, "reports/0/rows/0/error", "\"1 0 0\"", 65},
    {"ball: five numbers", 0, "reports/0/rows/0/error", "\"1 0 0 0 0\"", 65},
    {"ball: two spaces", 0, "reports/0/rows/0/error", "\"1  0 0 0\"", 65},
    {"ball: trailing space", 0, "reports/0/rows/0/error", "\"1 0 0 0 \"", 65},
    {"ball: leading zero", 0, "reports/0/rows/0/error", "\"01 0 0 0\"", 65},
    {"ball: minus zero", 0, "reports/0/rows/0/error", "\"-0 0 0 0\"", 65},
    {"ball: upper case", 0, "reports/0/rows/0/error", "\"A 0 0 0\"", 65},
    {"ball: 0x", 0, "reports/0/rows/0/error", "\"0x1 0 0 0\"", 65},
    {"ball: even mantissa", 0, "reports/0/rows/0/error", "\"2 0 0 0\"", 65},
    {"ball: zero with no special code", 0, "reports/0/rows/0/error", "\"0 5 0 0\"", 65},
    {"ball: radius of 30 bits", 0, "reports/0/rows/0/error", "\"1 0 40000000 0\"", 65},
    {"ball: negative radius", 0, "reports/0/rows/0/error", "\"1 0 -1 0\"", 65},
    {"ball: radius -inf", 0, "reports/0/rows/0/error", "\"1 0 0 -2\"", 65},
    {"ball: radius nan", 0, "reports/0/rows/0/error", "\"1 0 0 -3\"", 65},
    {"ball: a number", 0, "reports/0/rows/0/bound", "5", 65},
    {"ball: NUL inside", 0, "reports/0/rows/0/error", "\"1 0\\u0000 0 0\"", 65},
    {"extra ball", 1, "reports/0/rows/0/extra/0", "{\"name\": \"heads\", \"ball\": \"3 0 0 7\"}", 65},
    /* MPFR points */
    {"scale: precision 0", 0, "reports/0/rows/0/scale", "{\"prec\": 0, \"hex\": \"0x1p+0\"}", 65},
    {"scale: inexact", 0, "reports/0/rows/0/scale", "{\"prec\": 2, \"hex\": \"0x1.01p+0\"}", 65},
    {"scale: not as written", 0, "reports/0/rows/0/scale", "{\"prec\": 64, \"hex\": \"0x2p-1\"}", 65},
    {"scale: overflow", 0, "reports/0/rows/0/scale",
     "{\"prec\": 64, \"hex\": \"0x1p+99999999999999999999\"}", 65},
    {"scale: another key", 0, "reports/0/rows/0/scale/x", "1", 65},
    {"scale: a string", 0, "reports/0/rows/0/scale", "\"0x1p+0\"", 65},
    /* other fields */
    {"prec 0", 0, "reports/0/rows/0/prec", "0", 65},
    {"prec 65537", 0, "reports/0/rows/0/prec", "65537", 65},
    {"prec a string", 0, "reports/0/rows/0/prec", "\"53\"", 65},
    {"prec a real", 0, "reports/0/rows/0/prec", "53.0", 65},
    {"verdict unknown", 0, "reports/0/rows/0/verdict", "\"maybe\"", 65},
    {"verdict a number", 0, "reports/0/rows/0/verdict", "0", 65},
    {"verdict not its enclosures'", 1, "reports/0/rows/0/verdict", "\"violated\"", 65},
    {"verdict vacuous", 0, "reports/0/rows/1/verdict", "\"vacuous\"", 65},
    {"note too long", 0, "reports/0/rows/0/note",
     "\"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567"
     "890123456789012345678901234567890123456789012345678901234567890123456789\"", 65},
    {"depth past int", 0, "reports/0/rows/0/depth", "2147483648", 65},
    {"has_bound a string", 0, "reports/0/rows/0/has_bound", "\"1\"", 65},
    {"an unknown key", 0, "reports/0/rows/0/zzz", "1", 65},
    {"a key missing", 1, "reports/0/rows/2/note", NULL, 65},
    {"extra: thirteen columns", 0, "reports/0/rows/0/extra",
     "[{\"name\":\"a\",\"text\":\"\"},{\"name\":\"b\",\"text\":\"\"},{\"name\":\"c\",\"text\":\"\"},"
     "{\"name\":\"d\",\"text\":\"\"},{\"name\":\"e\",\"text\":\"\"},{\"name\":\"f\",\"text\":\"\"},"
     "{\"name\":\"g\",\"text\":\"\"},{\"name\":\"h\",\"text\":\"\"},{\"name\":\"i\",\"text\":\"\"},"
     "{\"name\":\"j\",\"text\":\"\"},{\"name\":\"k\",\"text\":\"\"},{\"name\":\"l\",\"text\":\"\"},"
     "{\"name\":\"m\",\"text\":\"\"}]", 65},
    {"extra: one name twice", 0, "reports/0/rows/0/extra/1/name", "\"heads\"", 65},
    {"extra: no name", 0, "reports/0/rows/0/extra/1/name", "\"\"", 65},
    {"extra: ball and text", 0, "reports/0/rows/0/extra/0/ball", "\"1 0 0 0\"", 65},
    {"extra: text too long", 0, "reports/0/rows/0/extra/0/text",
     "\"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567"
     "8901234567890123456789012345678901234567\"", 65},
    /* rows out of place or of another grid */
    {"index", 0, "reports/0/rows/1/index", "4", 65},
    {"parameter", 0, "reports/0/rows/0/params/0/1", "\"54\"", 65},
    {"parameter name", 0, "reports/0/rows/0/params/0/0", "\"prek\"", 65},
    {"seed", 1, "reports/0/rows/0/seed", "\"9\"", 65},
    {"sweep", 0, "reports/0/rows/0/sweep", "\"full\"", 65},
    {"mutation", 0, "reports/0/rows/0/mutation", "1", 65},
    {"grid_rows says 9", 0, "reports/0/grid_rows", "9", 65},
    {"grid_rows says 7", 1, "reports/0/grid_rows", "7", 65},
    {"a row missing", 0, "reports/0/rows/3", NULL, 65},
    {"a row too many", 0, "reports/0/rows/4", "{}", 65},
    {"seconds negative", 0, "reports/0/seconds", "-1.0", 65},
    {"seconds a string", 0, "reports/0/seconds", "\"1\"", 65},
    /* shards and runs */
    {"shard count", 1, "shard/count", "3", 65},
    {"shard index past count", 1, "shard/index", "2", 65},
    {"shard index twice", 1, "shard/index", "0", 65},
    {"jobs 0", 0, "jobs", "0", 65},
    {"another attncheck", -1, "run/attncheck", "\"v0.1\"", 65},
    {"other libraries", -1, "run/libraries/GMP", "\"1.0\"", 65},
    {"partial format 1", -1, "attncheck_partial", "1", 65},
    {"partial format 3", -1, "attncheck_partial", "3", 65},
    {"a key too many", -1, "zz", "1", 65},
    {"a top key missing", -1, "jobs", NULL, 65},
    {"another command", 0, "run/command", "\"attncheck verify neuron-head\"", 65},
    {"other options", 1, "options/seed", "\"3\"", 65},
    {"command not its options", -1, "run/command", "\"attncheck verify neuron-head\"", 65},
    {"seed not a number", -1, "options/seed", "\"abc\"", 65},
    {"unknown claim", -1, "options/claims/0", "\"no-such\"", 65},
    {"verb", -1, "options/verb", "\"export\"", 65},
    {"unknown parameter", -1, "options/set", "[[\"zz\", \"1\"]]", 65},
    {"unknown mutation", -1, "options/mutate_name", "\"nope\"", 65},
    {"report of another claim", -1, "reports/0/claim", "\"mlp-layer\"", 65},
    {"no reports", -1, "reports", "[]", 65},
};

START_TEST(test_merge_refuses_damage)
{
    make_shards();
    for (int s = 0; s < 2; s++) {
        if (damage[_i].shard >= 0 && damage[_i].shard != s)
            continue;
        json_t *doc = load_partial(s);
        json_edit(doc, damage[_i].path, damage[_i].value);
        if (strcmp(damage[_i].what, "unknown mutation") == 0)
            json_edit(doc, "options/mutate", "true");
        save_partial(s, doc);
    }
    assert_refused(merge(NULL), damage[_i].code, damage[_i].what);
}
END_TEST

/* ---- the digest, and recomputation ---- */

/* One hexadecimal digit of one row's E changed, the digest left: damaged. */
START_TEST(test_merge_refuses_a_changed_digit)
{
    make_shards();
    json_t *doc = load_partial(1);
    json_t *e = json_object_get(json_array_get(json_object_get(json_array_get(
                                    json_object_get(doc, "reports"), 0), "rows"), 0), "error");
    char ball[256];
    snprintf(ball, sizeof ball, "%s", json_string_value(e));
    char *last = strchr(ball, ' ') - 1; /* the midpoint mantissa's last digit */
    *last = *last == '1' ? '3' : '1';
    json_string_set(e, ball);
    save_partial_unsigned(1, doc);
    assert_refused(merge(NULL), 65, "one digit");
    ck_assert_msg(strstr(err_text, "s1/partial.json' is damaged (digest mismatch)"), "%s",
                  err_text);
    /* with the digest made again the row is read, and the default recheck
     * may or may not draw it: --recheck all does */
    doc = load_partial(1);
    save_partial(1, doc);
    char s0[300], s1[300], m[300];
    snprintf(s0, sizeof s0, "%s/s0", tmp);
    snprintf(s1, sizeof s1, "%s/s1", tmp);
    snprintf(m, sizeof m, "%s/m", tmp);
    const char *all[] = {"merge", s0, s1, "--out", m, "--recheck", "all", NULL};
    ck_assert_msg(run(all) == 0, "re-signed unchanged: %s", err_text);
}
END_TEST

START_TEST(test_merge_refuses_no_digest)
{
    make_shards();
    json_t *doc = load_partial(0);
    json_edit(doc, "digest", NULL);
    save_partial_unsigned(0, doc);
    assert_refused(merge(NULL), 65, "no digest");
    ck_assert_msg(strstr(err_text, "s0/partial.json' is damaged (no digest)"), "%s", err_text);
    doc = load_partial(0);
    json_edit(doc, "digest", "\"sha256:\"");
    save_partial_unsigned(0, doc);
    assert_refused(merge(NULL), 65, "an empty digest");
}
END_TEST

/* A mutated run (every row violated, unsharded exit 1) whose shard 0 says
 * its grid row 0 holds, with E = 0 and the digest made again: the verdict
 * follows from the forged enclosure, so only recomputation sees it. */
START_TEST(test_merge_recheck_catches_forgery)
{
    char s0[300], s1[300], m[300], whole[300];
    snprintf(s0, sizeof s0, "%s/s0", tmp);
    snprintf(s1, sizeof s1, "%s/s1", tmp);
    snprintf(m, sizeof m, "%s/m", tmp);
    snprintf(whole, sizeof whole, "%s/whole", tmp);
    const char *unsharded[] = {"verify", "neuron-head", "--mutate", "--out", whole, NULL};
    ck_assert_int_eq(run(unsharded), 1);
    for (int s = 0; s < 2; s++) {
        char shard[16];
        const char *dir = s ? s1 : s0;
        snprintf(shard, sizeof shard, "%d/2", s);
        const char *argv[] = {"verify", "neuron-head", "--mutate", "--shard", shard, "--out",
                              dir, NULL};
        ck_assert_int_eq(run(argv), 1);
    }
    json_t *doc = load_partial(0);
    json_edit(doc, "reports/0/rows/0/error", "\"0 0 0 0\"");
    json_edit(doc, "reports/0/rows/0/error_abs", "\"0 0 0 0\"");
    json_edit(doc, "reports/0/rows/0/verdict", "\"holds\"");
    save_partial(0, doc);
    /* without recomputation the forgery passes: what a digest cannot do */
    const char *none[] = {"merge", s0, s1, "--out", m, "--recheck", "0", NULL};
    ck_assert_msg(run(none) == 3, "--recheck 0: %s", err_text);
    char rm[400];
    snprintf(rm, sizeof rm, "rm -rf '%s'", m);
    ck_assert_int_eq(system(rm), 0);
    const char *all[] = {"merge", s0, s1, "--out", m, "--recheck", "all", NULL};
    assert_refused(run(all), 65, "--recheck all");
    ck_assert_msg(strstr(err_text, "row 0 of shard 0 does not recompute: "), "%s", err_text);
}
END_TEST

/* Honest shards: every --recheck gives the same reports, byte for byte
 * (the default, 2 rows a shard, is tests/shard_identity.sh's). */
START_TEST(test_merge_recheck_honest)
{
    char s0[300], s1[300], m[3][300];
    const char *how[3] = {"0", "1", "all"};
    make_shards();
    snprintf(s0, sizeof s0, "%s/s0", tmp);
    snprintf(s1, sizeof s1, "%s/s1", tmp);
    for (int k = 0; k < 3; k++) {
        snprintf(m[k], sizeof m[k], "%s/m%d", tmp, k);
        const char *argv[] = {"merge", s1, s0, "--out", m[k], "--recheck", how[k], NULL};
        ck_assert_msg(run(argv) == 0, "--recheck %s: %s", how[k], err_text);
    }
    char cmd[1200];
    for (int k = 1; k < 3; k++) {
        snprintf(cmd, sizeof cmd, "diff -r -x run.log '%s' '%s' >/dev/null", m[0], m[k]);
        ck_assert_msg(system(cmd) == 0, "--recheck %s wrote other reports", how[k]);
    }
}
END_TEST

/* A float twin (--arith): its rows recompute on the twin merge rebuilds
 * from the recorded options; a row that says E = 0 (still holding) does not. */
START_TEST(test_merge_recheck_arith_twin)
{
    char s0[300], s1[300], m[300], whole[300], cmd[1000];
    snprintf(s0, sizeof s0, "%s/s0", tmp);
    snprintf(s1, sizeof s1, "%s/s1", tmp);
    snprintf(m, sizeof m, "%s/m", tmp);
    snprintf(whole, sizeof whole, "%s/whole", tmp);
    const char *sweep[] = {"sweep", "mlp-layer", "--set", "a=1", "--set", "shape=2x3x3,4x6x6",
                           "--set", "prec=128", "--arith", "bfloat16", "--out", whole, NULL,
                           NULL, NULL};
    ck_assert_msg(run(sweep) == 0, "%s", err_text);
    for (int s = 0; s < 2; s++) {
        char shard[16];
        snprintf(shard, sizeof shard, "%d/2", s);
        sweep[11] = s ? s1 : s0;
        sweep[12] = "--shard";
        sweep[13] = shard;
        ck_assert_msg(run(sweep) == 0, "shard %d: %s", s, err_text);
    }
    const char *all[] = {"merge", s0, s1, "--out", m, "--recheck", "all", NULL};
    ck_assert_msg(run(all) == 0, "%s", err_text);
    snprintf(cmd, sizeof cmd, "diff -r -x run.log '%s' '%s' >/dev/null", whole, m);
    ck_assert_msg(system(cmd) == 0, "the merged twin's reports differ from the unsharded run's");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", m);
    ck_assert_int_eq(system(cmd), 0);
    json_t *doc = load_partial(0);
    json_edit(doc, "reports/0/rows/0/error", "\"0 0 0 0\"");
    save_partial(0, doc);
    assert_refused(run(all), 65, "a forged twin row");
    ck_assert_msg(strstr(err_text, "row 0 of shard 0 does not recompute: "), "%s", err_text);
}
END_TEST

/* Damage to the text itself. */
static const struct {
    const char *what;
    const char *text; /* the new file (NULL: the first half of the old) */
} bad_text[] = {
    {"empty", ""},
    {"not JSON", "attncheck"},
    {"cut in half", NULL},
    {"a key twice", "{\"jobs\": 1, \"jobs\": 1}"},
    {"trailing text", "{} {}"},
    {"invalid UTF-8", "{\"a\": \"\xff\"}"},
    {"an array", "[]"},
};

START_TEST(test_merge_refuses_bad_text)
{
    char path[300], buf[1 << 16];
    make_shards();
    snprintf(path, sizeof path, "%s/s1/%s", tmp, SHARD_FILE);
    size_t n = test_read_file(buf, sizeof buf, tmp, "s1/" SHARD_FILE);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    if (bad_text[_i].text)
        fputs(bad_text[_i].text, f);
    else
        fwrite(buf, 1, n / 2, f);
    ck_assert_int_eq(fclose(f), 0);
    assert_refused(merge(NULL), 65, bad_text[_i].what);
}
END_TEST

START_TEST(test_merge_refuses_sets)
{
    char path[700], other[300];
    make_shards();
    /* a third directory holding shard 1 again */
    snprintf(other, sizeof other, "%s/s2", tmp);
    snprintf(path, sizeof path, "cp -r %s/s1 %s", tmp, other);
    ck_assert_int_eq(system(path), 0);
    assert_refused(merge(other), 65, "shard twice");
    ck_assert_ptr_nonnull(strstr(err_text, "both hold shard 1/2"));
    /* a shard of another run in its place */
    const char *argv[] = {"sweep", "neuron-head", "--set", "shape=2x3", "--shard", "1/2", "--out",
                          other, NULL};
    ck_assert_int_eq(run(argv), 0);
    snprintf(path, sizeof path, "%s/s0", tmp);
    const char *two[] = {"merge", path, other, "--out", NULL, NULL};
    char m[300];
    snprintf(m, sizeof m, "%s/m", tmp);
    two[4] = m;
    assert_refused(run(two), 65, "another run");
    ck_assert_ptr_nonnull(strstr(err_text, "different runs"));
    /* a shard missing */
    const char *one[] = {"merge", path, "--out", m, NULL};
    assert_refused(run(one), 65, "shard missing");
    ck_assert_ptr_nonnull(strstr(err_text, "shard 1/2 is missing"));
    /* no partial results, a directory or a FIFO in their place: no hang */
    snprintf(path, sizeof path, "%s/s1/%s", tmp, SHARD_FILE);
    ck_assert_int_eq(unlink(path), 0);
    assert_refused(merge(NULL), 65, "no partial.json");
    ck_assert_int_eq(mkdir(path, 0700), 0);
    assert_refused(merge(NULL), 65, "a directory");
    ck_assert_int_eq(rmdir(path), 0);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    assert_refused(merge(NULL), 65, "a FIFO");
}
END_TEST

START_TEST(test_merge_memory_limit)
{
    /* the parsed files count against --max-memory before anything is made */
    char s0[300], s1[300], m[300];
    make_shards();
    snprintf(s0, sizeof s0, "%s/s0", tmp);
    snprintf(s1, sizeof s1, "%s/s1", tmp);
    snprintf(m, sizeof m, "%s/m", tmp);
    const char *argv[] = {"merge", s0, s1, "--out", m, "--max-memory", "4K", NULL};
    assert_refused(run(argv), 65, "--max-memory 4K");
    ck_assert_ptr_nonnull(strstr(err_text, "over --max-memory 4.0 KiB"));
}
END_TEST

START_TEST(test_merge_waits_for_running_shard)
{
    char lock[300];
    make_shards();
    /* a shard's run holds the lock of its directory until it ends */
    snprintf(lock, sizeof lock, "%s/s1/.attncheck.lock", tmp);
    int fd = open(lock, O_RDWR | O_CREAT, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(flock(fd, LOCK_EX), 0);
    assert_refused(merge(NULL), 75, "a shard still running");
    close(fd);
    /* a lock file left by a killed run is no lock */
    ck_assert_int_eq(merge(NULL), 0);
}
END_TEST

START_TEST(test_merge_into_a_shard_directory)
{
    char s0[300], s1[300], idx[320];
    make_shards();
    snprintf(s0, sizeof s0, "%s/s0", tmp);
    snprintf(s1, sizeof s1, "%s/s1", tmp);
    const char *argv[] = {"merge", s1, s0, "--out", s0, NULL};
    ck_assert_msg(run(argv) == 0, "%s", err_text);
    snprintf(idx, sizeof idx, "%s/index.md", s0);
    ck_assert(exists(idx));
}
END_TEST

/* Random damage: never a crash, an internal error or a hang; a refusal is
 * one line. */
START_TEST(test_merge_survives_random_damage)
{
    static char orig[2][1 << 16];
    size_t len[2];
    char path[2][300];
    make_shards();
    for (int s = 0; s < 2; s++) {
        snprintf(path[s], sizeof path[s], "%s/s%d/%s", tmp, s, SHARD_FILE);
        char name[32];
        snprintf(name, sizeof name, "s%d/%s", s, SHARD_FILE);
        len[s] = test_read_file(orig[s], sizeof orig[s], tmp, name);
        ck_assert(len[s] > 0 && len[s] < sizeof orig[s] - 1);
    }
    static const char bytes[] = "0123456789abcdef -.\"{}[],:eEx\\";
    gmp_randstate_t st;
    gmp_randinit_default(st);
    unsigned long seed = test_seed() + 77;
    gmp_randseed_ui(st, seed);
    int trials = test_quick() ? 10 : 60;
    for (int t = 0; t < trials; t++) {
        int s = (int)gmp_urandomm_ui(st, 2);
        char buf[1 << 16];
        memcpy(buf, orig[s], len[s]);
        int edits = 1 + (int)gmp_urandomm_ui(st, 3);
        for (int e = 0; e < edits; e++) {
            size_t at = gmp_urandomm_ui(st, len[s]);
            int kind = (int)gmp_urandomm_ui(st, 8);
            buf[at] = kind == 0 ? '\0' : kind == 1 ? (char)0xff
                    : bytes[gmp_urandomm_ui(st, sizeof bytes - 1)];
        }
        FILE *f = fopen(path[s], "wb");
        ck_assert_ptr_nonnull(f);
        fwrite(buf, 1, len[s], f);
        ck_assert_int_eq(fclose(f), 0);
        int rc = merge(NULL);
        ck_assert_msg(rc == 0 || rc == 1 || rc == 2 || rc == 65,
                      "seed %lu, trial %d: merge exited %d: %s", seed, t, rc, err_text);
        ck_assert_msg(rc != 65 || test_count_lines(err_text) == 1,
                      "seed %lu, trial %d: %s", seed, t, err_text);
        char m[300];
        snprintf(m, sizeof m, "rm -rf %s/m", tmp);
        ck_assert_int_eq(system(m), 0);
        f = fopen(path[s], "wb");
        fwrite(orig[s], 1, len[s], f);
        ck_assert_int_eq(fclose(f), 0);
    }
    gmp_randclear(st);
}
END_TEST

/* ---- the command line ---- */

static const char *const usage_cases[][12] = {
    {"verify", "neuron-head", "--shard", "1/2", NULL},                            /* no --out */
    {"verify", "neuron-head", "--shard", "0/2", "--out", "@", "--no-write", NULL},
    {"verify", "neuron-head", "--shard", "0/2", "--out", "@", "--format", "md", NULL},
    {"verify", "neuron-head", "--shard", "2/2", "--out", "@", NULL},
    {"sweep", "neuron-head", "--set", "a=1", "--shard", "x", "--out", "@", NULL},
    {"export", "neuron-head", "--seed", "1", "--shard", "0/2", NULL},
    {"merge", NULL},
    {"merge", "@", "--seed", "1", NULL},
    {"merge", "@", "--jobs", "2", NULL},
    {"merge", "@", "--mutate", NULL},
    {"merge", "@", "--shard", "0/2", NULL},
    {"merge", "@", "--bogus", NULL},
    {"merge", "@", "--format", "pdf", NULL},
    {"merge", "@", "--full", NULL},
    {"merge", "@", "--recheck", "-1", NULL},
    {"merge", "@", "--recheck", "some", NULL},
    {"merge", "@", "--recheck", "", NULL},
    {"merge", "@", "--recheck", NULL},
    {"verify", "neuron-head", "--recheck", "2", NULL},
};

START_TEST(test_usage_errors)
{
    char out[300];
    const char *argv[12];
    snprintf(out, sizeof out, "%s/r", tmp);
    for (int k = 0; k < 12; k++)
        argv[k] = usage_cases[_i][k] && strcmp(usage_cases[_i][k], "@") == 0 ? out
                                                                          : usage_cases[_i][k];
    int rc = run(argv);
    ck_assert_msg(rc == 64, "case %d exited %d: %s", _i, rc, err_text);
    ck_assert_msg(test_count_lines(err_text) == 1, "case %d: %s", _i, err_text);
    ck_assert_msg(!exists(out), "case %d left %s", _i, out);
}
END_TEST

START_TEST(test_shard_limit_is_its_own)
{
    char out[300];
    snprintf(out, sizeof out, "%s/r", tmp);
    const char *whole[] = {"verify", "neuron-head", "--max-rows", "100", "--out", out, NULL};
    ck_assert_int_eq(run(whole), 65);
    const char *shard[] = {"verify", "neuron-head", "--max-rows", "100", "--shard", "2/3",
                           "--out", out, NULL};
    ck_assert_msg(run(shard) == 0, "%s", err_text);
}
END_TEST

/* ---- byte-identical reports: N shards through xargs -P, merged ---- */

/* _i = 0: the cases of a few claims; 1 (slow): every claim's default grid */
START_TEST(test_sharded_runs_merge_byte_identical)
{
    const char *bin = getenv("ATTNCHECK_BIN");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "bash tests/shard_identity.sh '%s' '%s' %s",
             bin ? bin : "./build/attncheck", tmp, _i ? "all" : "small");
    ck_assert_msg(system(cmd) == 0, "a sharded run did not merge byte-identical (lines above)");
}
END_TEST

Suite *suite_shard(void)
{
    Suite *s = suite_create("shard");
    TCase *tc = tcase_create("shard");
    tcase_set_timeout(tc, 600);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_shard_parse, 0, (int)(sizeof parse_cases / sizeof parse_cases[0]));
    tcase_add_loop_test(tc, test_shards_partition_grid, 0, 2);
    tcase_add_test(tc, test_shard_limits);
    tcase_add_test(tc, test_partial_round_trip);
    tcase_add_loop_test(tc, test_merge_refuses_damage, 0, (int)(sizeof damage / sizeof damage[0]));
    tcase_add_test(tc, test_merge_refuses_a_changed_digit);
    tcase_add_test(tc, test_merge_refuses_no_digest);
    tcase_add_test(tc, test_merge_recheck_catches_forgery);
    tcase_add_test(tc, test_merge_recheck_honest);
    tcase_add_test(tc, test_merge_recheck_arith_twin);
    tcase_add_loop_test(tc, test_merge_refuses_bad_text, 0,
                        (int)(sizeof bad_text / sizeof bad_text[0]));
    tcase_add_test(tc, test_merge_refuses_sets);
    tcase_add_test(tc, test_merge_memory_limit);
    tcase_add_test(tc, test_merge_waits_for_running_shard);
    tcase_add_test(tc, test_merge_into_a_shard_directory);
    tcase_add_test(tc, test_merge_survives_random_damage);
    tcase_add_loop_test(tc, test_usage_errors, 0,
                        (int)(sizeof usage_cases / sizeof usage_cases[0]));
    tcase_add_test(tc, test_shard_limit_is_its_own);
    tcase_add_loop_test(tc, test_sharded_runs_merge_byte_identical, 0, 1);
    suite_add_tcase(s, tc);
    TCase *slow = tcase_create("shard-slow");
    tcase_set_tags(slow, TEST_SLOW_TAG);
    tcase_set_timeout(slow, 600);
    tcase_add_checked_fixture(slow, setup, teardown);
    tcase_add_loop_test(slow, test_sharded_runs_merge_byte_identical, 1, 2);
    suite_add_tcase(s, slow);
    return s;
}
