/* Partial results of a sharded run, and their merge (shard.h).  The file is
 * JSON through jansson; everything in it is checked on the way back in,
 * since a partial file is input like any other: a field of the wrong type,
 * a row out of place, a lying row count or a ball string arb_dump_str would
 * not write is refused with one line, never trusted. */
#define _DEFAULT_SOURCE /* flock */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <nettle/sha2.h>
#include "exitcodes.h"
#include "runner.h"
#include "shard.h"
#include "version.h"
#include "xalloc.h"

/* 2: a digest of the content ("digest") */
#define SHARD_FORMAT_VERSION 2
#define DIGEST_PREFIX "sha256:"
/* A parsed partial file takes about this many times its size in memory
 * (jansson's tree: an object per row, a string per ball; 12-13x measured). */
#define SHARD_MEMORY_PER_BYTE 16.0

int shard_parse(long *index, long *count, const char *s)
{
    const char *slash = s ? strchr(s, '/') : NULL;
    if (!slash || slash == s || !slash[1] || strspn(s, "0123456789") != (size_t)(slash - s) ||
        strspn(slash + 1, "0123456789") != strlen(slash + 1) || slash - s > 9 ||
        strlen(slash + 1) > 9)
        return -1;
    long k = strtol(s, NULL, 10), n = strtol(slash + 1, NULL, 10);
    if (n < 1 || n > SHARD_COUNT_MAX || k >= n)
        return -1;
    *index = k;
    *count = n;
    return 0;
}

/* ---- a row's results, field by field.  A field row_t gains is one line
 * here: its kind and its member name, which is also its key. ---- */

typedef enum {
    FIELD_PREC, FIELD_INT, FIELD_LONG, FIELD_BALL, FIELD_MPFR, FIELD_TEXT, FIELD_VERDICT
} field_kind_t;

typedef struct {
    const char *key;
    field_kind_t kind;
    size_t offset, size;
} row_field_t;

#define ROW_FIELD(kind, member) \
    {#member, kind, offsetof(row_t, member), sizeof(((row_t *)0)->member)}

static const row_field_t row_fields[] = {
    ROW_FIELD(FIELD_PREC, prec), /* first: the others are initialised at it (row_start) */
    ROW_FIELD(FIELD_BALL, error),
    ROW_FIELD(FIELD_BALL, error_abs),
    ROW_FIELD(FIELD_BALL, bound),
    ROW_FIELD(FIELD_MPFR, scale),
    ROW_FIELD(FIELD_INT, has_bound),
    ROW_FIELD(FIELD_INT, bound_is_floor),
    ROW_FIELD(FIELD_INT, depth),
    ROW_FIELD(FIELD_INT, exact_identity),
    ROW_FIELD(FIELD_LONG, prec_requested),
    ROW_FIELD(FIELD_LONG, resolve_bits),
    ROW_FIELD(FIELD_LONG, prec_needed),
    ROW_FIELD(FIELD_INT, raised_after_prediction),
    ROW_FIELD(FIELD_BALL, trivial),
    ROW_FIELD(FIELD_INT, has_trivial),
    ROW_FIELD(FIELD_TEXT, note),
    ROW_FIELD(FIELD_VERDICT, verdict),
};
#define N_ROW_FIELDS (sizeof row_fields / sizeof row_fields[0])

/* A row's other keys: its place in the grid (checked against the grid, not
 * taken from the file) and its extra columns. */
static const char *const row_grid_keys[] = {"index", "sweep", "params", "seed", "mutation",
                                            "extra"};
#define N_ROW_GRID_KEYS (sizeof row_grid_keys / sizeof row_grid_keys[0])

/* A field whose size does not match its kind is a bug in the table above. */
static void check_field_table(void)
{
    for (size_t k = 0; k < N_ROW_FIELDS; k++) {
        const row_field_t *f = row_fields + k;
        size_t want = f->kind == FIELD_PREC ? sizeof(mpfr_prec_t)
                    : f->kind == FIELD_INT ? sizeof(int)
                    : f->kind == FIELD_LONG ? sizeof(long)
                    : f->kind == FIELD_BALL ? sizeof(arb_t)
                    : f->kind == FIELD_MPFR ? sizeof(mpfr_t)
                    : f->kind == FIELD_VERDICT ? sizeof(verdict_t) : f->size;
        if (f->size != want || (k == 0) != (f->kind == FIELD_PREC))
            outfile_die(EXIT_SOFTWARE, "internal error: the partial format's row fields do "
                        "not match row_t");
    }
}

/* ---- the digest: sha256 of the document without its "digest" member,
 * dumped by jansson with sorted keys and compact separators (a canonical
 * text: the file's own layout and key order do not enter it). ---- */

int shard_digest(char hex[SHARD_DIGEST_HEX + 1], const json_t *doc)
{
    json_t *copy = json_copy((json_t *)doc); /* shallow: the members are shared, not changed */
    if (!copy)
        return -1;
    json_object_del(copy, "digest");
    char *text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(copy);
    if (!text)
        return -1;
    struct sha256_ctx ctx;
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_init(&ctx);
    sha256_update(&ctx, strlen(text), (const uint8_t *)text);
    sha256_digest(&ctx, sizeof d, d);
    free(text);
    memcpy(hex, DIGEST_PREFIX, strlen(DIGEST_PREFIX));
    for (size_t k = 0; k < sizeof d; k++)
        snprintf(hex + strlen(DIGEST_PREFIX) + 2 * k, 3, "%02x", d[k]);
    return 0;
}

/* ---- writing ---- */

static json_t *ball_json(const arb_t x)
{
    char *s = arb_dump_str(x); /* exact: midpoint and radius as hexadecimal mantissa, exponent */
    json_t *j = json_string(s);
    flint_free(s);
    return j;
}

static json_t *point_json(mpfr_srcptr x)
{
    char *s = NULL;
    int ok = 1;
    json_t *o = json_object();
    if (mpfr_asprintf(&s, "%Ra", x) < 0) /* %Ra without a precision: exact */
        s = NULL;
    report_json_set(o, "prec", json_integer((json_int_t)mpfr_get_prec(x)), &ok);
    report_json_set(o, "hex", s ? json_string(s) : NULL, &ok);
    if (s)
        mpfr_free_str(s);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *field_json(const row_t *r, const row_field_t *f)
{
    const char *p = (const char *)r + f->offset;
    switch (f->kind) {
    case FIELD_PREC:
        return json_integer((json_int_t) * (const mpfr_prec_t *)p);
    case FIELD_INT:
        return json_integer(*(const int *)p);
    case FIELD_LONG:
        return json_integer((json_int_t) * (const long *)p);
    case FIELD_BALL:
        return ball_json((arb_srcptr)p);
    case FIELD_MPFR:
        return point_json((mpfr_srcptr)p);
    case FIELD_TEXT:
        return json_string(p);
    case FIELD_VERDICT:
        return json_string(verdict_name(*(const verdict_t *)p));
    }
    return NULL;
}

static json_t *string_pair(const char *a, const char *b)
{
    int ok = 1;
    json_t *pair = json_array();
    report_json_push(pair, json_string(a), &ok);
    report_json_push(pair, b ? json_string(b) : json_null(), &ok);
    if (!ok) {
        json_decref(pair);
        return NULL;
    }
    return pair;
}

static json_t *row_json(const row_t *r, long index)
{
    int ok = 1;
    json_t *o = json_object(), *params = json_array(), *extra = json_array();
    report_json_set(o, "index", json_integer(index), &ok);
    report_json_set(o, "sweep", json_string(r->sweep ? r->sweep : ""), &ok);
    for (int a = 0; a < r->params.n; a++)
        report_json_push(params, string_pair(r->params.name[a], r->params.value[a]), &ok);
    report_json_set(o, "params", params, &ok);
    report_json_set(o, "seed", report_json_seed(r->seed), &ok);
    report_json_set(o, "mutation", json_integer(r->mutation), &ok);
    for (size_t k = 0; k < N_ROW_FIELDS; k++)
        report_json_set(o, row_fields[k].key, field_json(r, row_fields + k), &ok);
    for (int e = 0; e < r->n_extra; e++) {
        const column_t *c = r->extra + e;
        json_t *col = json_object();
        report_json_set(col, "name", json_string(c->name), &ok);
        report_json_set(col, c->is_ival ? "ball" : "text",
                        c->is_ival ? ball_json(c->iv) : json_string(c->str), &ok);
        report_json_push(extra, col, &ok);
    }
    report_json_set(o, "extra", extra, &ok);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The options that determine the numbers, as given: merge makes its run
 * from them. */
static json_t *options_json(const report_run_t *run)
{
    const run_options_t *o = run->options;
    int ok = 1;
    json_t *j = json_object(), *ids = json_array(), *sets = json_array();
    report_json_set(j, "verb", json_string(run->verb), &ok);
    for (int k = 0; k < run->n_ids; k++)
        report_json_push(ids, json_string(run->ids[k]), &ok);
    report_json_set(j, "claims", ids, &ok);
    report_json_set(j, "full", json_boolean(o->full), &ok);
    report_json_set(j, "seed", o->seed_set ? report_json_seed(o->seed) : json_null(), &ok);
    report_json_set(j, "prec", o->prec_list ? json_string(o->prec_list) : json_null(), &ok);
    for (int k = 0; k < o->n_sets; k++)
        report_json_push(sets, string_pair(o->set_name[k], o->set_values[k]), &ok);
    report_json_set(j, "set", sets, &ok);
    report_json_set(j, "mutate", json_boolean(run->mutate), &ok);
    report_json_set(j, "mutate_name", run->mutate_name ? json_string(run->mutate_name)
                                                       : json_null(), &ok);
    const char *arith[3] = {run->arith, run->accumulate, run->order};
    json_t *ja = json_array();
    for (int k = 0; k < 3; k++)
        report_json_push(ja, arith[k] ? json_string(arith[k]) : json_null(), &ok);
    report_json_set(j, "arith", ja, &ok);
    if (run->n_model_args > 0) {
        json_t *m = json_object(), *args = json_array();
        for (int k = 0; k < run->n_model_args; k++)
            report_json_push(args, json_string(run->model_args[k]), &ok);
        report_json_set(m, "args", args, &ok);
        report_json_set(m, "sha256", json_string(run->model_sha256 ? run->model_sha256 : ""),
                        &ok);
        report_json_set(j, "model", m, &ok);
    }
    if (!ok) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static const char *mutation_name(const claim_t *c, int mutation)
{
    return mutation > 0 ? c->mutations[mutation - 1][0] : NULL;
}

int shard_write(const claim_report_t *reps, int n, const report_run_t *run, const char *outdir,
                char *err, size_t errsz)
{
    const run_options_t *o = run->options;
    char path[OUTFILE_PATH_MAX + 32];
    int ok = 1;
    check_field_table();
    snprintf(path, sizeof path, "%s/%s", outdir, SHARD_FILE);
    json_t *doc = json_object(), *shard = json_object(), *list = json_array();
    report_json_set(doc, "attncheck_partial", json_integer(SHARD_FORMAT_VERSION), &ok);
    report_json_set(doc, "run", report_json_run(run, NULL), &ok);
    report_json_set(doc, "options", options_json(run), &ok);
    report_json_set(shard, "index", json_integer(o->shard_index), &ok);
    report_json_set(shard, "count", json_integer(o->shard_count), &ok);
    report_json_set(doc, "shard", shard, &ok);
    report_json_set(doc, "jobs", json_integer(o->jobs), &ok);
    for (int k = 0; k < n && ok; k++) {
        const claim_report_t *rep = reps + k;
        if (rep->skipped) {
            /* a claim that could not run here: its reason, no rows */
            json_t *js = json_object();
            const char *m = mutation_name(rep->claim, rep->mutation);
            report_json_set(js, "claim", json_string(rep->claim->id), &ok);
            report_json_set(js, "mutation", m ? json_string(m) : json_null(), &ok);
            report_json_set(js, "skipped", report_json_text(rep->skip_reason), &ok);
            report_json_push(list, js, &ok);
            continue;
        }
        long grid = runner_grid_rows(rep->claim, o);
        if (rep->n_rows != runner_shard_rows(grid, o))
            outfile_die(EXIT_SOFTWARE, "internal error: a shard holds other rows than its part "
                        "of the grid");
        json_t *jr = json_object(), *rows = json_array();
        const char *m = mutation_name(rep->claim, rep->mutation);
        report_json_set(jr, "claim", json_string(rep->claim->id), &ok);
        report_json_set(jr, "mutation", m ? json_string(m) : json_null(), &ok);
        report_json_set(jr, "grid_rows", json_integer(grid), &ok);
        report_json_set(jr, "seconds", json_real(rep->seconds), &ok);
        for (long j = 0; j < rep->n_rows && ok; j++) {
            const row_t *r = rep->rows + j;
            if (r->prec < PREC_MIN || r->prec > PREC_MAX)
                outfile_die(EXIT_SOFTWARE, "internal error: a row's precision is outside the "
                            "partial format's range");
            report_json_push(rows, row_json(r, o->shard_index + j * o->shard_count), &ok);
        }
        report_json_set(jr, "rows", rows, &ok);
        report_json_push(list, jr, &ok);
    }
    report_json_set(doc, "reports", list, &ok);
    char digest[SHARD_DIGEST_HEX + 1];
    if (ok && shard_digest(digest, doc) == 0)
        report_json_set(doc, "digest", json_string(digest), &ok);
    else
        ok = 0;
    char *text = ok ? json_dumps(doc, JSON_COMPACT) : NULL; /* compact: half the size */
    json_decref(doc);
    if (!text) {
        snprintf(err, errsz, "cannot write '%s': out of memory, or a row's text is not UTF-8",
                 path);
        return EXIT_SOFTWARE;
    }
    int rc = report_write_file(path, text, strlen(text), err, errsz);
    free(text);
    return rc;
}

/* ---- reading: every value is checked before it is used ---- */

struct shard_set {
    long count;           /* N */
    json_t **doc;         /* doc[K]: shard K's file */
    const char **dir;     /* dir[K]: where it was read */
    char **names;         /* extra column names, one copy each */
    int n_names;
    char (*digest)[SHARD_DIGEST_HEX + 1]; /* digest[K]: shard K's */
    char **recheck;       /* recheck[K][i]: recompute shard K's i-th row (its rows counted
                             over its reports in order); NULL: none drawn */
};

/* The set's copy of a column name (a row holds it until the set is freed). */
static const char *intern(shard_set_t *set, const char *s)
{
    for (int k = 0; k < set->n_names; k++)
        if (strcmp(set->names[k], s) == 0)
            return set->names[k];
    set->names = xreallocarray(set->names, (size_t)set->n_names + 1, sizeof *set->names);
    return set->names[set->n_names++] = xstrdup(s);
}

/* obj is an object with exactly these keys. */
/* obj holds each of the n keys (and maybe others). */
static int has_keys_in(const json_t *obj, const char *const *keys, size_t n)
{
    if (!json_is_object(obj))
        return 0;
    for (size_t k = 0; k < n; k++)
        if (!json_object_get(obj, keys[k]))
            return 0;
    return 1;
}

/* obj holds exactly the n keys. */
static int has_keys(const json_t *obj, const char *const *keys, size_t n)
{
    return has_keys_in(obj, keys, n) && json_object_size(obj) == n;
}

static const char *get_string(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key)); /* NULL when absent or not a string */
}

/* An integer member in [lo, hi]; 0 on success. */
static int get_long(long *out, const json_t *obj, const char *key, long lo, long hi)
{
    const json_t *j = json_object_get(obj, key);
    if (!json_is_integer(j) || json_integer_value(j) < lo || json_integer_value(j) > hi)
        return -1;
    *out = (long)json_integer_value(j);
    return 0;
}

/* A hexadecimal integer as fmpz_get_str writes it: lower case, an optional
 * '-', no leading zero (but "0" itself). */
static int hex_integer(const char *s, size_t len)
{
    size_t neg = len > 0 && s[0] == '-', digits = len - neg;
    if (digits < 1 || (s[neg] == '0' && (digits > 1 || neg)))
        return 0;
    for (size_t k = neg; k < len; k++)
        if (!strchr("0123456789abcdef", s[k]) || !s[k])
            return 0;
    return 1;
}

static int token_is(const char *s, size_t len, const char *t)
{
    return strlen(t) == len && memcmp(s, t, len) == 0;
}

/* x from what arb_dump_str writes, "mid_mantissa mid_exponent rad_mantissa
 * rad_exponent" in hexadecimal; 0, or -1 when s is anything else.
 * arb_load_str aborts on some strings it cannot take (a zero mantissa with
 * an exponent that codes no special value, a radius of 30 bits or more), so
 * those are refused first; what loads must dump back to s. */
static int ball_load(arb_t x, const char *s)
{
    const char *tok[4];
    size_t len[4];
    const char *p = s;
    for (int k = 0; k < 4; k++) {
        tok[k] = p;
        len[k] = strcspn(p, " ");
        p += len[k];
        if (k < 3 && *p++ != ' ')
            return -1;
    }
    if (*p)
        return -1;
    /* of any length: a vacuous bound's radius has an exponent of 2^118 */
    for (int k = 0; k < 4; k++)
        if (!hex_integer(tok[k], len[k]))
            return -1;
    /* special midpoints: 0, +inf, -inf, nan are mantissa 0 with exponent 0, -1, -2, -3 */
    if (token_is(tok[0], len[0], "0") && !token_is(tok[1], len[1], "0") &&
        !token_is(tok[1], len[1], "-1") && !token_is(tok[1], len[1], "-2") &&
        !token_is(tok[1], len[1], "-3"))
        return -1;
    /* the radius: 0 or +inf, or a positive mantissa below 2^30 (MAG_BITS) */
    if (tok[2][0] == '-')
        return -1;
    if (token_is(tok[2], len[2], "0")) {
        if (!token_is(tok[3], len[3], "0") && !token_is(tok[3], len[3], "-1"))
            return -1;
    } else if (len[2] > 8 || strtoul(tok[2], NULL, 16) >= (1UL << 30)) {
        return -1;
    }
    if (arb_load_str(x, s) != 0)
        return -1;
    char *back = arb_dump_str(x);
    int same = strcmp(back, s) == 0;
    flint_free(back);
    return same ? 0 : -1;
}

/* An MPFR point from {"prec", "hex"}: exact, and written back the same. */
static int point_load(mpfr_ptr x, const json_t *j)
{
    static const char *const keys[] = {"prec", "hex"};
    long prec;
    const char *s = get_string(j, "hex");
    if (!has_keys(j, keys, 2) || !s || get_long(&prec, j, "prec", MPFR_PREC_MIN, PREC_MAX) != 0)
        return -1;
    char *end, *back = NULL;
    mpfr_set_prec(x, (mpfr_prec_t)prec);
    if (mpfr_strtofr(x, s, &end, 16, MPFR_RNDN) != 0 || *end || end == s)
        return -1;
    if (mpfr_asprintf(&back, "%Ra", x) < 0)
        return -1;
    int same = strcmp(back, s) == 0;
    mpfr_free_str(back);
    return same ? 0 : -1;
}

static int verdict_parse(verdict_t *v, const char *s)
{
    /* verdict_name names every verdict; past the last it repeats a name */
    for (int k = 0; k < 64 && s; k++)
        if (strcmp(verdict_name((verdict_t)k), s) == 0) {
            *v = (verdict_t)k;
            return 0;
        }
    return -1;
}

/* A field other than prec into r (initialised by row_start). */
static int field_load(row_t *r, const row_field_t *f, const json_t *j)
{
    char *p = (char *)r + f->offset;
    long v;
    switch (f->kind) {
    case FIELD_PREC:
        return -1; /* read first, apart */
    case FIELD_INT:
        if (!json_is_integer(j) || json_integer_value(j) < INT_MIN || json_integer_value(j) > INT_MAX)
            return -1;
        v = (long)json_integer_value(j);
        *(int *)p = (int)v;
        return 0;
    case FIELD_LONG:
        if (!json_is_integer(j) || json_integer_value(j) < LONG_MIN ||
            json_integer_value(j) > LONG_MAX)
            return -1;
        *(long *)p = (long)json_integer_value(j);
        return 0;
    case FIELD_BALL:
        return json_string_value(j) ? ball_load((arb_ptr)p, json_string_value(j)) : -1;
    case FIELD_MPFR:
        return point_load((mpfr_ptr)p, j);
    case FIELD_TEXT:
        if (!json_string_value(j) || strlen(json_string_value(j)) >= f->size)
            return -1;
        memcpy(p, json_string_value(j), strlen(json_string_value(j)) + 1);
        return 0;
    case FIELD_VERDICT:
        return verdict_parse((verdict_t *)p, json_string_value(j));
    }
    return -1;
}

/* The row's extra columns; each is counted in r->n_extra once initialised,
 * so that row_clear frees what was made when a later one is refused. */
static int extras_load(row_t *r, const json_t *list, shard_set_t *set, char *what, size_t n)
{
    static const char *const ball_keys[] = {"name", "ball"}, *const text_keys[] = {"name", "text"};
    if (!json_is_array(list) || json_array_size(list) > ROW_MAX_EXTRA) {
        snprintf(what, n, "extra: not a list of at most %d columns", ROW_MAX_EXTRA);
        return -1;
    }
    for (size_t e = 0; e < json_array_size(list); e++) {
        const json_t *c = json_array_get(list, e);
        const char *name = get_string(c, "name");
        int is_ball = has_keys(c, ball_keys, 2);
        if (!name || !*name || (!is_ball && !has_keys(c, text_keys, 2)) || row_find_column(r, name)) {
            snprintf(what, n, "extra column %zu: not {\"name\", \"ball\" or \"text\"} with a new "
                     "name", e);
            return -1;
        }
        column_t *col = r->extra + r->n_extra++;
        col->name = intern(set, name);
        col->is_ival = is_ball;
        col->str[0] = '\0';
        arb_init(col->iv);
        const char *v = get_string(c, is_ball ? "ball" : "text");
        if (!v || (is_ball ? ball_load(col->iv, v) != 0 : strlen(v) >= sizeof col->str)) {
            snprintf(what, n, "extra column '%s': %s", name,
                     is_ball ? "not a ball as arb_dump_str writes it" : "not a short text");
            return -1;
        }
        if (!is_ball)
            memcpy(col->str, v, strlen(v) + 1);
    }
    return 0;
}

/* Row r of the grid (parameters, sweep, seed, mutation set by the runner)
 * gets its results from j, which must name the same grid point. */
static int row_load(row_t *r, const json_t *j, shard_set_t *set, char *what, size_t n)
{
    const char *keys[N_ROW_FIELDS + N_ROW_GRID_KEYS];
    for (size_t k = 0; k < N_ROW_FIELDS; k++)
        keys[k] = row_fields[k].key;
    for (size_t k = 0; k < N_ROW_GRID_KEYS; k++)
        keys[N_ROW_FIELDS + k] = row_grid_keys[k];
    if (!has_keys(j, keys, N_ROW_FIELDS + N_ROW_GRID_KEYS)) {
        snprintf(what, n, "not an object with exactly a row's keys");
        return -1;
    }
    /* the grid point, as this run's grid has it */
    char seed[32];
    long mutation;
    const json_t *params = json_object_get(j, "params");
    const char *sweep = get_string(j, "sweep");
    int same = sweep && strcmp(sweep, r->sweep ? r->sweep : "") == 0 &&
               json_is_array(params) && json_array_size(params) == (size_t)r->params.n;
    for (int a = 0; same && a < r->params.n; a++) {
        const json_t *pair = json_array_get(params, (size_t)a);
        const char *name = json_string_value(json_array_get(pair, 0));
        const char *value = json_string_value(json_array_get(pair, 1));
        same = json_array_size(pair) == 2 && name && value &&
               strcmp(name, r->params.name[a]) == 0 && strcmp(value, r->params.value[a]) == 0;
    }
    snprintf(seed, sizeof seed, "%lu", r->seed);
    same = same && get_string(j, "seed") && strcmp(get_string(j, "seed"), seed) == 0 &&
           get_long(&mutation, j, "mutation", 0, CLAIM_MAX_MUTATIONS) == 0 &&
           mutation == r->mutation;
    if (!same) {
        snprintf(what, n, "its sweep, parameters, seed or mutation are not those of the grid's row");
        return -1;
    }
    long prec;
    if (get_long(&prec, j, "prec", PREC_MIN, PREC_MAX) != 0) {
        snprintf(what, n, "prec: not an integer in [%d, %d]", PREC_MIN, PREC_MAX);
        return -1;
    }
    row_start(r, (mpfr_prec_t)prec);
    for (size_t k = 1; k < N_ROW_FIELDS; k++)
        if (field_load(r, row_fields + k, json_object_get(j, row_fields[k].key)) != 0) {
            snprintf(what, n, "%s: %s", row_fields[k].key,
                     row_fields[k].kind == FIELD_BALL ? "not a ball as arb_dump_str writes it"
                     : row_fields[k].kind == FIELD_MPFR ? "not an exact {\"prec\", \"hex\"} point"
                     : row_fields[k].kind == FIELD_TEXT ? "not a short text"
                     : row_fields[k].kind == FIELD_VERDICT ? "not a verdict" : "not an int");
            return -1;
        }
    return extras_load(r, json_object_get(j, "extra"), set, what, n);
}

/* ---- the set ---- */

static int fail(char *err, size_t errsz, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errsz, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    return code;
}

/* dir/partial.json, parsed; total_bytes adds its size. */
static int read_partial(json_t **doc, const char *dir, double *total_bytes, double max_memory,
                        char *err, size_t errsz)
{
    char path[OUTFILE_PATH_MAX + 32], lock[OUTFILE_PATH_MAX + 32];
    *doc = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, SHARD_FILE);
    snprintf(lock, sizeof lock, "%s/%s", dir, OUTFILE_LOCK_NAME);
    if (strlen(dir) >= OUTFILE_PATH_MAX)
        return fail(err, errsz, EXIT_DATAERR, "'%.200s...': the path is too long", dir);
    /* a run still writing the directory holds its lock */
    int lfd = open(lock, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (lfd >= 0 && flock(lfd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
        close(lfd);
        return fail(err, errsz, EXIT_TEMPFAIL, "'%s' is in use by a run that has not ended "
                    "(merge once every shard is done)", dir);
    }
    /* O_NONBLOCK: a FIFO in its place must not hang the merge */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    int rc = 0;
    if (fd < 0)
        rc = fail(err, errsz, EXIT_DATAERR, "'%s': no partial results: %s", path, strerror(errno));
    else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        rc = fail(err, errsz, EXIT_DATAERR, "'%s': not a regular file", path);
    if (rc == 0) {
        *total_bytes += (double)st.st_size;
        if (SHARD_MEMORY_PER_BYTE * *total_bytes > max_memory) {
            char need[32], limit[32];
            runner_format_bytes(need, sizeof need, SHARD_MEMORY_PER_BYTE * *total_bytes);
            runner_format_bytes(limit, sizeof limit, max_memory);
            rc = fail(err, errsz, EXIT_DATAERR, "the partial files need about %s in memory "
                      "(up to '%s'), over --max-memory %s", need, path, limit);
        }
    }
    if (rc == 0) {
        json_error_t je;
        *doc = json_loadfd(fd, JSON_REJECT_DUPLICATES, &je);
        if (!*doc)
            rc = fail(err, errsz, EXIT_DATAERR, "'%s': line %d: %s", path, je.line, je.text);
    }
    if (fd >= 0)
        close(fd);
    if (lfd >= 0)
        close(lfd); /* the whole file is in memory: the lock may go */
    return rc;
}

/* The libraries recorded in run are the ones in use here. */
static int same_libraries(const json_t *libs)
{
    library_version_t lib[8];
    int n = attncheck_libraries(lib, 8);
    if (!json_is_object(libs) || json_object_size(libs) != (size_t)n)
        return 0;
    for (int k = 0; k < n; k++) {
        const char *v = get_string(libs, lib[k].name);
        if (!v || strcmp(v, lib[k].version) != 0)
            return 0;
    }
    return 1;
}

/* The top of one file: its format, the attncheck and libraries that made
 * it, and which shard it is. */
static int check_header(long *index, long *count, const json_t *doc, const char *dir, char *err,
                        size_t errsz)
{
    static const char *const top[] = {"attncheck_partial", "run", "options", "shard", "jobs",
                                      "reports"};
    static const char *const shard_keys[] = {"index", "count"};
    long format, jobs;
    const json_t *run = json_object_get(doc, "run"), *shard = json_object_get(doc, "shard");
    if (!has_keys(doc, top, 6) || get_long(&format, doc, "attncheck_partial", 1, LONG_MAX) != 0)
        return fail(err, errsz, EXIT_DATAERR, "'%s/%s': not attncheck's partial results",
                    dir, SHARD_FILE);
    if (format != SHARD_FORMAT_VERSION)
        return fail(err, errsz, EXIT_DATAERR, "'%s/%s': partial format %ld; this attncheck "
                    "reads format %d", dir, SHARD_FILE, format, SHARD_FORMAT_VERSION);
    const char *version = get_string(run, "attncheck");
    if (!version || !get_string(run, "command"))
        return fail(err, errsz, EXIT_DATAERR, "'%s/%s': the run is not recorded", dir,
                    SHARD_FILE);
    if (strcmp(version, attncheck_version()) != 0)
        return fail(err, errsz, EXIT_DATAERR, "'%s' was made by attncheck %s, this is %s: "
                    "merge with the attncheck that ran the shards", dir, version,
                    attncheck_version());
    if (!same_libraries(json_object_get(run, "libraries")))
        return fail(err, errsz, EXIT_DATAERR, "'%s' was made with other library versions than "
                    "this attncheck's: merge where the shards ran", dir);
    if (!has_keys(shard, shard_keys, 2) ||
        get_long(count, shard, "count", 1, SHARD_COUNT_MAX) != 0 ||
        get_long(index, shard, "index", 0, *count - 1) != 0 ||
        get_long(&jobs, doc, "jobs", 1, INT_MAX) != 0 ||
        !json_is_array(json_object_get(doc, "reports")))
        return fail(err, errsz, EXIT_DATAERR, "'%s/%s': malformed shard header", dir, SHARD_FILE);
    return 0;
}

/* The file's digest is the one of its content: a file cut, edited or
 * damaged on the way is refused (a forger who recomputes the digest is not:
 * that is --recheck's part).  The digest is then taken out of doc, into
 * digest. */
static int check_digest(char digest[SHARD_DIGEST_HEX + 1], json_t *doc, const char *dir,
                        char *err, size_t errsz)
{
    long format;
    /* another format first: its own message, not "damaged" */
    if (json_is_object(doc) && get_long(&format, doc, "attncheck_partial", 1, LONG_MAX) == 0 &&
        format != SHARD_FORMAT_VERSION)
        return fail(err, errsz, EXIT_DATAERR, "'%s/%s': partial format %ld; this attncheck "
                    "reads format %d", dir, SHARD_FILE, format, SHARD_FORMAT_VERSION);
    const char *stored = json_is_object(doc) ? get_string(doc, "digest") : NULL;
    if (!stored)
        return fail(err, errsz, EXIT_DATAERR, "'%s/%s' is damaged (no digest)", dir, SHARD_FILE);
    char mine[SHARD_DIGEST_HEX + 1];
    if (shard_digest(mine, doc) != 0)
        return fail(err, errsz, EXIT_DATAERR, "'%s/%s': its content cannot be dumped again (out "
                    "of memory?)", dir, SHARD_FILE);
    if (strcmp(mine, stored) != 0)
        return fail(err, errsz, EXIT_DATAERR, "'%s/%s' is damaged (digest mismatch)", dir,
                    SHARD_FILE);
    memcpy(digest, mine, sizeof mine);
    json_object_del(doc, "digest");
    return 0;
}

/* The recorded options as a run: types here; what they mean is checked by
 * the caller as it checks a command line. */
static int read_options(shard_run_t *run, const json_t *doc, const char *dir, char *err,
                        size_t errsz)
{
    static const char *const keys[] = {"verb", "claims", "full", "seed", "prec", "set",
                                       "mutate", "mutate_name", "arith"};
    const json_t *o = json_object_get(doc, "options");
    const json_t *ids = json_object_get(o, "claims"), *sets = json_object_get(o, "set");
    const json_t *seed = json_object_get(o, "seed"), *prec = json_object_get(o, "prec");
    const json_t *mname = json_object_get(o, "mutate_name");
    const json_t *arith = json_object_get(o, "arith");
    memset(run, 0, sizeof *run);
    run_options_default(&run->options);
    run->verb = get_string(o, "verb");
    const json_t *model = json_object_get(o, "model"), *margs = json_object_get(model, "args");
    int is_model = run->verb && strcmp(run->verb, "model") == 0;
    static const char *const model_keys[] = {"args", "sha256"};
    /* the common keys, and for a model run one more: its arguments and sha256 */
    int ok = (is_model ? json_object_size(o) == 10 && has_keys_in(o, keys, 9) &&
                             has_keys(model, model_keys, 2) && json_is_array(margs) &&
                             json_array_size(margs) <= SHARD_MAX_IDS &&
                             get_string(model, "sha256")
                       : has_keys(o, keys, 9)) &&
             run->verb && json_is_array(arith) && json_array_size(arith) == 3 &&
             (strcmp(run->verb, "verify") == 0 || strcmp(run->verb, "sweep") == 0 || is_model) &&
             json_is_array(ids) && json_array_size(ids) <= SHARD_MAX_IDS &&
             json_is_array(sets) && json_array_size(sets) <= RUN_MAX_SETS &&
             json_is_boolean(json_object_get(o, "full")) &&
             json_is_boolean(json_object_get(o, "mutate")) &&
             (json_is_null(seed) || json_is_string(seed)) &&
             (json_is_null(prec) || json_is_string(prec)) &&
             (json_is_null(mname) || json_is_string(mname));
    const char **names[3] = {&run->arith, &run->accumulate, &run->order};
    for (size_t k = 0; ok && k < 3; k++) {
        const json_t *a = json_array_get(arith, k);
        ok = json_is_null(a) || json_is_string(a);
        *names[k] = json_string_value(a);
    }
    for (size_t k = 0; ok && is_model && k < json_array_size(margs); k++)
        ok = (run->model_args[run->n_model_args++] =
                  json_string_value(json_array_get(margs, k))) != NULL;
    if (ok && is_model)
        run->model_sha256 = get_string(model, "sha256");
    for (size_t k = 0; ok && k < json_array_size(ids); k++)
        ok = (run->ids[run->n_ids++] = json_string_value(json_array_get(ids, k))) != NULL;
    for (size_t k = 0; ok && k < json_array_size(sets); k++) {
        const json_t *pair = json_array_get(sets, k);
        const char *name = json_string_value(json_array_get(pair, 0));
        const char *values = json_string_value(json_array_get(pair, 1));
        ok = json_array_size(pair) == 2 && name && *name && values;
        run->options.set_name[k] = name;
        run->options.set_values[k] = values;
        run->options.n_sets = (int)k + 1;
    }
    if (!ok)
        return fail(err, errsz, EXIT_DATAERR, "'%s/%s': malformed options", dir, SHARD_FILE);
    run->options.full = json_is_true(json_object_get(o, "full"));
    run->mutate = json_is_true(json_object_get(o, "mutate"));
    run->mutate_name = json_string_value(mname);
    run->options.prec_list = json_string_value(prec);
    if (json_is_string(seed)) {
        if (parse_seed(&run->options.seed, json_string_value(seed)) != 0)
            return fail(err, errsz, EXIT_DATAERR, "'%s/%s': the seed is not an integer in [0, %lu]",
                        dir, SHARD_FILE, ULONG_MAX);
        run->options.seed_set = 1;
    }
    return 0;
}

static void free_docs(json_t **docs, long n)
{
    for (long k = 0; docs && k < n; k++)
        json_decref(docs[k]);
    free(docs);
}

int shard_set_read(shard_set_t **out, shard_run_t *run, char *const *dirs, int n_dirs,
                   double max_memory, char *err, size_t errsz)
{
    check_field_table();
    *out = NULL;
    json_t **docs = xcalloc((size_t)n_dirs, sizeof *docs);
    long *index = xcalloc((size_t)n_dirs, sizeof *index), count = 0;
    double bytes = 0;
    int rc = 0;
    for (int k = 0; k < n_dirs && rc == 0; k++)
        rc = read_partial(docs + k, dirs[k], &bytes, max_memory, err, errsz);
    char (*digests)[SHARD_DIGEST_HEX + 1] = xcalloc((size_t)n_dirs, sizeof *digests);
    for (int k = 0; k < n_dirs && rc == 0; k++)
        rc = check_digest(digests[k], docs[k], dirs[k], err, errsz);
    for (int k = 0; k < n_dirs && rc == 0; k++) {
        long n;
        rc = check_header(index + k, &n, docs[k], dirs[k], err, errsz);
        if (rc == 0 && k == 0)
            count = n;
        /* one run: the same command, options and number of shards */
        if (rc == 0 && (n != count ||
                        !json_equal(json_object_get(docs[k], "run"), json_object_get(docs[0], "run")) ||
                        !json_equal(json_object_get(docs[k], "options"),
                                    json_object_get(docs[0], "options"))))
            rc = fail(err, errsz, EXIT_DATAERR, "'%s' and '%s' are shards of different runs "
                      "(%s, %ld shards; %s, %ld shards)", dirs[0], dirs[k],
                      get_string(json_object_get(docs[0], "run"), "command"), count,
                      get_string(json_object_get(docs[k], "run"), "command"), n);
    }
    /* every shard exactly once */
    const char **by_index = NULL;
    if (rc == 0) {
        by_index = xcalloc((size_t)count, sizeof *by_index);
        for (int k = 0; k < n_dirs && rc == 0; k++) {
            if (by_index[index[k]])
                rc = fail(err, errsz, EXIT_DATAERR, "'%s' and '%s' both hold shard %ld/%ld",
                          by_index[index[k]], dirs[k], index[k], count);
            by_index[index[k]] = dirs[k];
        }
        for (long s = 0; s < count && rc == 0; s++)
            if (!by_index[s])
                rc = fail(err, errsz, EXIT_DATAERR, "shard %ld/%ld is missing (%d of %ld "
                          "shards given)", s, count, n_dirs, count);
    }
    if (rc == 0)
        rc = read_options(run, docs[0], dirs[0], err, errsz);
    if (rc != 0) {
        free_docs(docs, n_dirs);
        free(index);
        free(by_index);
        free(digests);
        return rc;
    }
    shard_set_t *set = xcalloc(1, sizeof *set);
    set->count = count;
    set->doc = xcalloc((size_t)count, sizeof *set->doc);
    set->dir = by_index;
    set->digest = xcalloc((size_t)count, sizeof *set->digest);
    for (int k = 0; k < n_dirs; k++) {
        set->doc[index[k]] = docs[k];
        memcpy(set->digest[index[k]], digests[k], sizeof digests[k]);
    }
    free(docs);
    free(index);
    free(digests);
    run->options.shard_count = 0; /* the merge makes the whole grid */
    *out = set;
    return 0;
}

int shard_set_check(const shard_set_t *set, const report_run_t *run,
                    const claim_t *const *claims, const int *mutations, int n, char *err,
                    size_t errsz)
{
    json_t *mine = report_json_run(run, NULL);
    const json_t *theirs = json_object_get(set->doc[0], "run");
    int same = mine && json_equal(mine, theirs);
    json_decref(mine);
    if (!same)
        return fail(err, errsz, -1, "'%s': the recorded run '%s' is not the one its options "
                    "make", set->dir[0], get_string(theirs, "command"));
    for (long s = 0; s < set->count; s++) {
        const json_t *list = json_object_get(set->doc[s], "reports");
        int ok = json_array_size(list) == (size_t)n;
        for (int k = 0; ok && k < n; k++) {
            const json_t *jr = json_array_get(list, (size_t)k);
            const char *id = get_string(jr, "claim");
            const char *m = mutation_name(claims[k], mutations[k]);
            const json_t *jm = json_object_get(jr, "mutation");
            ok = id && strcmp(id, claims[k]->id) == 0 &&
                 (m ? json_string_value(jm) && strcmp(json_string_value(jm), m) == 0
                    : json_is_null(jm));
        }
        if (!ok)
            return fail(err, errsz, -1, "'%s': the reports are not the ones its run makes",
                        set->dir[s]);
    }
    return 0;
}

/* ---- recomputation (--recheck) ---- */

/* The rows shard s holds, over its reports in order. */
static size_t shard_rows_held(const shard_set_t *set, long s, size_t before_report)
{
    const json_t *list = json_object_get(set->doc[s], "reports");
    size_t n = 0;
    for (size_t k = 0; k < json_array_size(list) && k < before_report; k++)
        n += json_array_size(json_object_get(json_array_get(list, k), "rows"));
    return n;
}

/* A number in [0, bound) from the draw's stream: sha256(seed, shard, counter).
 * The modulo's bias (bound / 2^64) does not matter: the draw needs to be
 * fixed by the files, not fair to the last bit. */
static size_t draw_below(const uint8_t seed[SHA256_DIGEST_SIZE], long shard, uint64_t *counter,
                         size_t bound)
{
    struct sha256_ctx ctx;
    uint8_t in[SHA256_DIGEST_SIZE + 16], d[SHA256_DIGEST_SIZE];
    uint64_t v = 0, words[2] = {(uint64_t)shard, (*counter)++};
    memcpy(in, seed, SHA256_DIGEST_SIZE);
    for (int w = 0; w < 2; w++)
        for (int b = 0; b < 8; b++)
            in[SHA256_DIGEST_SIZE + 8 * w + b] = (uint8_t)(words[w] >> (8 * b));
    sha256_init(&ctx);
    sha256_update(&ctx, sizeof in, in);
    sha256_digest(&ctx, sizeof d, d);
    for (int b = 0; b < 8; b++)
        v = v << 8 | d[b];
    return (size_t)(v % bound);
}

void shard_set_recheck(shard_set_t *set, long per_shard)
{
    struct sha256_ctx ctx;
    uint8_t seed[SHA256_DIGEST_SIZE];
    sha256_init(&ctx);
    for (long s = 0; s < set->count; s++)
        sha256_update(&ctx, strlen(set->digest[s]), (const uint8_t *)set->digest[s]);
    sha256_digest(&ctx, sizeof seed, seed);
    if (!set->recheck)
        set->recheck = xcalloc((size_t)set->count, sizeof *set->recheck);
    for (long s = 0; s < set->count; s++) {
        size_t total = shard_rows_held(set, s, SIZE_MAX);
        free(set->recheck[s]);
        set->recheck[s] = NULL;
        if (per_shard == 0 || total == 0)
            continue;
        char *mark = set->recheck[s] = xcalloc(total, 1);
        if (per_shard < 0 || (size_t)per_shard >= total) {
            memset(mark, 1, total);
            continue;
        }
        /* Floyd's draw of per_shard distinct rows out of total */
        uint64_t counter = 0;
        for (size_t j = total - (size_t)per_shard; j < total; j++) {
            size_t t = draw_below(seed, s, &counter, j + 1);
            mark[mark[t] ? j : t] = 1;
        }
    }
}

/* The rule: the row computed again here has the stored verdict, and each
 * certified enclosure (E, E_abs, the bound, the trivial bound) overlaps the
 * stored one (both contain the true value, so a row both computed honestly
 * cannot fail it).  0, or -1 with why. */
static int row_agrees(const row_t *again, const row_t *stored, char *why, size_t n)
{
    static const struct {
        const char *name;
        size_t offset;
    } balls[] = {{"E", offsetof(row_t, error)}, {"E_abs", offsetof(row_t, error_abs)},
                 {"the bound", offsetof(row_t, bound)}, {"the trivial bound", offsetof(row_t, trivial)}};
    if (again->verdict != stored->verdict) {
        snprintf(why, n, "its verdict is '%s', recomputed '%s'", verdict_name(stored->verdict),
                 verdict_name(again->verdict));
        return -1;
    }
    if (again->has_bound != stored->has_bound || again->has_trivial != stored->has_trivial) {
        snprintf(why, n, "it has %s, recomputed %s",
                 stored->has_bound != again->has_bound ? (stored->has_bound ? "a bound" : "no bound")
                 : (stored->has_trivial ? "a trivial bound" : "no trivial bound"),
                 stored->has_bound != again->has_bound ? (again->has_bound ? "one" : "none")
                 : (again->has_trivial ? "one" : "none"));
        return -1;
    }
    for (size_t k = 0; k < sizeof balls / sizeof balls[0]; k++) {
        arb_srcptr a = (arb_srcptr)((const char *)again + balls[k].offset);
        arb_srcptr b = (arb_srcptr)((const char *)stored + balls[k].offset);
        if (!arb_overlaps(a, b)) {
            char *x = arb_get_str(b, 10, 0), *y = arb_get_str(a, 10, 0);
            snprintf(why, n, "%s %s does not meet the recomputed %s", balls[k].name, x, y);
            flint_free(x);
            flint_free(y);
            return -1;
        }
    }
    return 0;
}

/* Recompute the rows of report k drawn by shard_set_recheck and compare
 * them with the ones read (rep->rows, the whole grid).  0, or -1 with err. */
static int recheck_report(claim_report_t *rep, const shard_set_t *set, int k, const claim_t *c,
                          const run_options_t *whole, const char *stem, char *err, size_t errsz)
{
    row_t *fresh = NULL;
    long n_fresh = 0;
    int rc = 0;
    for (long s = 0; s < set->count && rc == 0 && set->recheck; s++) {
        const char *mark = set->recheck[s];
        if (!mark)
            continue;
        size_t offset = shard_rows_held(set, s, (size_t)k);
        const json_t *jr = json_array_get(json_object_get(set->doc[s], "reports"), (size_t)k);
        size_t held = json_array_size(json_object_get(jr, "rows"));
        for (size_t j = 0; j < held && rc == 0; j++) {
            if (!mark[offset + j])
                continue;
            long at = s + (long)j * set->count;
            if (!fresh && (n_fresh = runner_expand(&fresh, c, whole)) != rep->n_rows) {
                rc = fail(err, errsz, -1, "%s: the grid cannot be made again", stem);
                break;
            }
            char why[400];
            row_t *r = fresh + at;
            if (runner_eval_row(r, c, whole->prec_cap) != 0)
                snprintf(why, sizeof why, "refused: %s", r->note);
            else if (row_agrees(r, rep->rows + at, why, sizeof why) == 0)
                continue;
            rc = fail(err, errsz, -1, "row %ld of shard %ld does not recompute: %s: %s "
                      "('%s')", at, s, stem, why, set->dir[s]);
        }
    }
    if (fresh)
        runner_free_rows(fresh, n_fresh > 0 ? n_fresh : 0);
    return rc;
}

int shard_set_fill(claim_report_t *rep, shard_set_t *set, int k, const claim_t *c,
                   const run_options_t *o, char *err, size_t errsz)
{
    static const char *const keys[] = {"claim", "mutation", "grid_rows", "seconds", "rows"};
    char stem[256], what[256];
    run_options_t whole = *o;
    whole.shard_index = whole.shard_count = 0;
    memset(rep, 0, sizeof *rep);
    rep->claim = c;
    rep->mutation = o->mutation;
    report_stem(stem, sizeof stem, rep);
    rep->n_rows = runner_expand(&rep->rows, c, &whole);
    if (rep->n_rows < 0) {
        rep->n_rows = 0;
        return fail(err, errsz, -1, "%s: the grid has too many rows or an invalid seed", stem);
    }
    /* skipped where the shards ran (a missing fixture): skipped in every shard */
    static const char *const skip_keys[] = {"claim", "mutation", "skipped"};
    int skipped = 0;
    for (long s = 0; s < set->count; s++) {
        const json_t *jr = json_array_get(json_object_get(set->doc[s], "reports"), (size_t)k);
        int here = json_object_get(jr, "skipped") != NULL;
        if (here && (!has_keys(jr, skip_keys, 3) || !get_string(jr, "skipped")))
            return fail(err, errsz, -1, "'%s': %s: malformed report", set->dir[s], stem);
        if (s > 0 && here != skipped)
            return fail(err, errsz, -1, "%s was skipped in some shards and ran in others (a "
                        "fixture missing on some machines): '%s', '%s'", stem, set->dir[0],
                        set->dir[s]);
        skipped = here;
    }
    if (skipped) {
        const json_t *jr = json_array_get(json_object_get(set->doc[0], "reports"), (size_t)k);
        runner_free_rows(rep->rows, rep->n_rows);
        rep->rows = NULL;
        rep->n_rows = 0;
        rep->skipped = 1;
        snprintf(rep->skip_reason, sizeof rep->skip_reason, "%s", get_string(jr, "skipped"));
        return 0;
    }
    for (long s = 0; s < set->count; s++) {
        const json_t *jr = json_array_get(json_object_get(set->doc[s], "reports"), (size_t)k);
        const json_t *rows = json_object_get(jr, "rows"), *secs = json_object_get(jr, "seconds");
        run_options_t part = whole;
        long grid;
        part.shard_index = s;
        part.shard_count = set->count;
        long want = runner_shard_rows(rep->n_rows, &part);
        if (!has_keys(jr, keys, 5) || !json_is_array(rows) || !json_is_real(secs) ||
            !(json_real_value(secs) >= 0) || get_long(&grid, jr, "grid_rows", 0, LONG_MAX) != 0)
            return fail(err, errsz, -1, "'%s': %s: malformed report", set->dir[s], stem);
        if (grid != rep->n_rows)
            return fail(err, errsz, -1, "'%s': %s: the shard says the grid has %ld rows; it has "
                        "%ld", set->dir[s], stem, grid, rep->n_rows);
        if (json_array_size(rows) != (size_t)want)
            return fail(err, errsz, -1, "'%s': %s: holds %zu rows; shard %ld/%ld of a %ld-row "
                        "grid has %ld", set->dir[s], stem, json_array_size(rows), s, set->count,
                        rep->n_rows, want);
        rep->seconds += json_real_value(secs);
        for (long j = 0; j < want; j++) {
            const json_t *row = json_array_get(rows, (size_t)j);
            long index, at = s + j * set->count;
            if (get_long(&index, row, "index", 0, LONG_MAX) != 0 || index != at)
                return fail(err, errsz, -1, "'%s': %s: row %ld is not grid row %ld",
                            set->dir[s], stem, j, at);
            if (row_load(rep->rows + at, row, set, what, sizeof what) != 0)
                return fail(err, errsz, -1, "'%s': %s: row %ld: %s", set->dir[s], stem, at, what);
            /* the verdict is judged again from the enclosures, as the shard judged it */
            verdict_t stored = rep->rows[at].verdict;
            runner_judge_row(rep->rows + at, rep->claim->kind);
            if (rep->rows[at].verdict != stored)
                return fail(err, errsz, -1, "'%s': %s: row %ld: its verdict '%s' does not follow "
                            "from its enclosures ('%s')", set->dir[s], stem, at,
                            verdict_name(stored), verdict_name(rep->rows[at].verdict));
        }
    }
    if (recheck_report(rep, set, k, c, &whole, stem, err, errsz) != 0)
        return -1;
    runner_finish_claim(rep, 1);
    return 0;
}

long shard_set_count(const shard_set_t *set)
{
    return set->count;
}

void shard_set_free(shard_set_t *set)
{
    if (!set)
        return;
    free_docs(set->doc, set->count);
    free(set->dir);
    free(set->digest);
    for (long s = 0; set->recheck && s < set->count; s++)
        free(set->recheck[s]);
    free(set->recheck);
    for (int k = 0; k < set->n_names; k++)
        free(set->names[k]);
    free(set->names);
    free(set);
}

/* ---- a run's journal (journal.h) writes and reads rows as shards do ---- */

json_t *shard_row_json(const row_t *r, long index)
{
    check_field_table();
    return row_json(r, index);
}

json_t *shard_options_json(const report_run_t *run)
{
    return options_json(run);
}

shard_set_t *shard_names_new(void)
{
    return xcalloc(1, sizeof(shard_set_t));
}

int shard_row_load(row_t *r, const json_t *j, shard_set_t *names, claim_kind_t kind, char *what,
                   size_t n)
{
    if (row_load(r, j, names, what, n) != 0)
        return -1;
    /* the verdict is judged again from the enclosures, as the run judged it */
    verdict_t stored = r->verdict;
    runner_judge_row(r, kind);
    if (r->verdict != stored) {
        snprintf(what, n, "its verdict '%s' does not follow from its enclosures ('%s')",
                 verdict_name(stored), verdict_name(r->verdict));
        return -1;
    }
    return 0;
}
