/* The report writers: CSV fields and markdown cells, tables with the union
 * of their rows' columns, JSON read back through jansson, enclosure ends
 * rounded outward, the exact rule's columns against an oracle, plot
 * scripts that no parameter value can break out of, and, through the CLI,
 * every file of a verify run parsed by an independent program and (over
 * the whole registry, make check-slow) written byte for byte the same
 * whatever --jobs. */
#include <dirent.h>
#include <jansson.h>
#include <math.h>
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

static void setup(void) { test_tmpdir_make(tmpdir, sizeof tmpdir, "attncheck-report"); }
static void teardown(void) { test_tmpdir_remove(tmpdir); }


static int have_python(void)
{
    if (access(PYTHON, X_OK) == 0)
        return 1;
    fprintf(stderr, "check_report: skipped the Python parse: %s not found\n", PYTHON);
    return 0;
}

/* What a writer function prints for s. */
static char *print_with(void (*fn)(FILE *, const char *), const char *s)
{
    char *buf;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    fn(f, s);
    fclose(f);
    return buf;
}

/* ------------------------------------------------------------ cells */

static const struct {
    const char *in, *csv, *md;
} cells[] = {
    {"plain", "plain", "plain"},
    {"", "", ""},
    {"γ=-2.625, p=-1.469", "\"γ=-2.625, p=-1.469\"", "γ=-2.625, p=-1.469"},
    {"say \"hi\"", "\"say \"\"hi\"\"\"", "say \"hi\""},
    {"two\nlines", "\"two\nlines\"", "two<br>lines"},
    {"crlf\r\nend", "\"crlf\r\nend\"", "crlf<br>end"},
    {"|argmax|", "|argmax|", "\\|argmax\\|"},
    {"sum ||W_out[k]||", "sum ||W_out[k]||", "sum \\|\\|W_out[k]\\|\\|"},
    {"back\\slash", "back\\slash", "back\\\\slash"},
    {"<b>x</b>", "<b>x</b>", "&lt;b>x&lt;/b>"},
    {"tab\there", "tab\there", "tab here"},
    {"bell\a", "bell\a", "bell\xEF\xBF\xBD"},
};

START_TEST(test_csv_field)
{
    char *s = print_with(report_csv_field, cells[_i].in);
    ck_assert_msg(strcmp(s, cells[_i].csv) == 0, "csv of '%s' is '%s'", cells[_i].in, s);
    free(s);
}
END_TEST

START_TEST(test_md_cell)
{
    char *s = print_with(report_md_cell, cells[_i].in);
    ck_assert_msg(strcmp(s, cells[_i].md) == 0, "md of '%s' is '%s'", cells[_i].in, s);
    free(s);
}
END_TEST

/* ------------------------------------------------------ a synthetic claim */

static void row_begin(row_t *r, const char *sweep, mpfr_prec_t prec)
{
    memset(r, 0, sizeof *r);
    r->sweep = sweep;
    r->seed = 7;
    row_start(r, prec);
}

static void row_param(row_t *r, const char *name, const char *value)
{
    r->params.name[r->params.n] = name;
    r->params.value[r->params.n++] = value;
}

static void report_begin(claim_report_t *rep, const claim_t *c, row_t *rows, long n)
{
    memset(rep, 0, sizeof *rep);
    rep->claim = c;
    rep->rows = rows;
    rep->n_rows = n;
    for (long k = 0; k < n; k++) {
        rep->holds += rows[k].verdict == VERDICT_HOLDS;
        rep->violated += rows[k].verdict == VERDICT_VIOLATED;
        rep->inconclusive += rows[k].verdict == VERDICT_INCONCLUSIVE;
    }
}

static void write_report(const claim_report_t *rep, int formats)
{
    run_options_t o;
    run_options_default(&o);
    report_run_t run = {.verb = "verify", .options = &o};
    char err[512];
    int rc = report_write_claim(rep, &run, tmpdir, formats, err, sizeof err);
    ck_assert_msg(rc == 0, "report_write_claim: %d %s", rc, err);
}

static const claim_t claim_hostile = {
    .id = "hostile",
    .source = "test",
    .kind = KIND_INEQUALITY,
    .provenance = "test",
    .statement = "rows with different parameters and awkward text",
    .formula = "none",
};

/* Values a user can type into --set, each awkward for some format. */
static const char *const hostile[] = {
    "a,b", "say \"x\"", "two\nlines", "pipe|pipe", "back\\slash", "<i>", "γ≈1.7",
    "bad\xff" "utf8", "x'; system('touch PWNED'); '",
};
#define N_HOSTILE ((int)(sizeof hostile / sizeof hostile[0]))

/* Row k of the hostile report: even rows from sweep "one" (params mask,
 * tau), odd rows from "two" (params n, label), extras that differ too. */
static void hostile_rows(row_t *rows)
{
    for (int k = 0; k < N_HOSTILE; k++) {
        row_t *r = rows + k;
        row_begin(r, k % 2 ? "two" : "one", 200);
        if (k % 2) {
            row_param(r, "n", "4");
            row_param(r, "label", hostile[k]);
            row_add_text(r, "note, with comma", "%s", hostile[k]);
        } else {
            row_param(r, "mask", hostile[k]);
            row_param(r, "tau", "1");
            arb_ptr g = row_add_ival(r, "gap |G|");
            arb_set_ui(g, 1);
            arb_div_ui(g, g, 7, r->prec); /* not dyadic: the printed ends differ */
        }
        /* E = [k/3, (k+1)/3]: printed ends must round outward */
        mpfr_t lo, hi;
        mpfr_inits2(r->prec, lo, hi, (mpfr_ptr)0);
        mpfr_set_ui(lo, (unsigned long)k, MPFR_RNDD);
        mpfr_div_ui(lo, lo, 3, MPFR_RNDD);
        mpfr_set_ui(hi, (unsigned long)k + 1, MPFR_RNDU);
        mpfr_div_ui(hi, hi, 3, MPFR_RNDU);
        ival_set_interval_fr(r->error, lo, hi, r->prec);
        mpfr_clears(lo, hi, (mpfr_ptr)0);
        arb_set(r->error_abs, r->error);
        if (k % 3 == 0) {
            arb_set_ui(r->bound, 100);
            r->has_bound = 1;
        }
        r->verdict = k % 3 == 0 ? VERDICT_HOLDS : VERDICT_INCONCLUSIVE;
    }
}

/* A small RFC 4180 reader: the fields of every record. */
typedef struct {
    int n_rec;
    int n_field[64];
    char field[64][40][160];
} csv_t;

static void csv_read(csv_t *t, const char *s)
{
    memset(t, 0, sizeof *t);
    int r = 0, f = 0;
    size_t len = 0;
    while (*s) {
        char *dst = t->field[r][f];
        len = 0;
        if (*s == '"') {
            for (s++; *s && !(s[0] == '"' && s[1] != '"'); s++) {
                if (s[0] == '"')
                    s++; /* "" is one quote */
                if (len + 1 < sizeof t->field[0][0])
                    dst[len++] = *s;
            }
            ck_assert_msg(*s == '"', "unterminated quoted field");
            s++;
        } else {
            for (; *s && *s != ',' && *s != '\r' && *s != '\n'; s++)
                if (len + 1 < sizeof t->field[0][0])
                    dst[len++] = *s;
        }
        dst[len] = '\0';
        f++;
        if (*s == ',') {
            s++;
            continue;
        }
        ck_assert_msg(s[0] == '\r' && s[1] == '\n', "a record does not end in CRLF");
        s += 2;
        t->n_field[r++] = f;
        f = 0;
    }
    t->n_rec = r;
}

static int csv_col(const csv_t *t, const char *name)
{
    for (int k = 0; k < t->n_field[0]; k++)
        if (strcmp(t->field[0][k], name) == 0)
            return k;
    return -1;
}

/* Cells per line of each markdown table (| not escaped by \). */
static void md_tables_even(const char *text)
{
    int want = -1;
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        if (*line == '|') {
            int bars = 0;
            for (size_t k = 0; k < n; k++) {
                if (line[k] == '\\')
                    k++;
                else if (line[k] == '|')
                    bars++;
            }
            if (want < 0)
                want = bars;
            ck_assert_msg(bars == want, "a table line has %d bars, its header %d: %.*s", bars,
                          want, (int)n, line);
        } else {
            want = -1;
        }
        line += n + (end != NULL);
    }
}

/* The decimal string s is <= x (hi = 0) or >= x (hi = 1), exactly. */
static int decimal_outward(const char *s, mpfr_srcptr x, int hi)
{
    mpfr_t d;
    mpfr_init2(d, 2000);
    /* converted with the rounding that can only hurt the claim */
    ck_assert_int_eq(mpfr_set_str(d, s, 10, hi ? MPFR_RNDD : MPFR_RNDU), 0);
    int ok = hi ? mpfr_greaterequal_p(d, x) : mpfr_lessequal_p(d, x);
    mpfr_clear(d);
    return ok;
}

START_TEST(test_hostile_report_reads_back)
{
    row_t rows[N_HOSTILE];
    claim_report_t rep;
    hostile_rows(rows);
    report_begin(&rep, &claim_hostile, rows, N_HOSTILE);
    write_report(&rep, FORMAT_MD | FORMAT_CSV | FORMAT_JSON);
    char path[512];

    /* JSON, through jansson: every value back, ends rounded outward */
    snprintf(path, sizeof path, "%s/hostile.json", tmpdir);
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    ck_assert_msg(doc != NULL, "hostile.json: %s (line %d)", jerr.text, jerr.line);
    json_t *jrows = json_object_get(doc, "rows");
    ck_assert_uint_eq(json_array_size(jrows), N_HOSTILE);
    for (int k = 0; k < N_HOSTILE; k++) {
        json_t *r = json_array_get(jrows, (size_t)k), *p = json_object_get(r, "params");
        const char *v = json_string_value(json_object_get(p, k % 2 ? "label" : "mask"));
        ck_assert_ptr_nonnull(v);
        if (strstr(hostile[k], "\xff"))
            ck_assert_str_eq(v, "bad\xEF\xBF\xBDutf8"); /* invalid UTF-8 became U+FFFD */
        else
            ck_assert_str_eq(v, hostile[k]);
        json_t *e = json_object_get(r, "error");
        mpfr_t lo, hi; /* the ball's ends, as good as exact */
        mpfr_inits2(1024, lo, hi, (mpfr_ptr)0);
        ival_get_lo(lo, rows[k].error);
        ival_get_hi(hi, rows[k].error);
        ck_assert(decimal_outward(json_string_value(json_object_get(e, "lo")), lo, 0));
        ck_assert(decimal_outward(json_string_value(json_object_get(e, "hi")), hi, 1));
        mpfr_clears(lo, hi, (mpfr_ptr)0);
        ck_assert_str_eq(json_string_value(json_object_get(r, "verdict")),
                         verdict_name(rows[k].verdict));
    }
    json_decref(doc);

    /* CSV: one header, every record as long, cells under the right names */
    snprintf(path, sizeof path, "%s/hostile.csv", tmpdir);
    char *text = test_read_whole(path);
    static csv_t t;
    csv_read(&t, text);
    free(text);
    ck_assert_int_eq(t.n_rec, N_HOSTILE + 1);
    for (int r = 1; r < t.n_rec; r++)
        ck_assert_int_eq(t.n_field[r], t.n_field[0]);
    int mask = csv_col(&t, "mask"), label = csv_col(&t, "label"), n = csv_col(&t, "n");
    int verdict = csv_col(&t, "verdict"), gap_lo = csv_col(&t, "gap |G| lo");
    ck_assert(mask > 0 && label > 0 && n > 0 && verdict > 0 && gap_lo > 0);
    ck_assert_int_ge(csv_col(&t, "note, with comma"), 0);
    for (int k = 0; k < N_HOSTILE; k++) {
        const char *want = strstr(hostile[k], "\xff") ? NULL : hostile[k];
        if (want)
            ck_assert_str_eq(t.field[k + 1][k % 2 ? label : mask], want);
        ck_assert_str_eq(t.field[k + 1][k % 2 ? mask : label], "");
        ck_assert_str_eq(t.field[k + 1][n], k % 2 ? "4" : "");
        ck_assert_str_eq(t.field[k + 1][gap_lo], k % 2 ? "" : "1.4285714285714285714e-01");
        ck_assert_str_eq(t.field[k + 1][verdict], verdict_name(rows[k].verdict));
    }

    /* markdown: every table has one cell count */
    snprintf(path, sizeof path, "%s/hostile.md", tmpdir);
    text = test_read_whole(path);
    md_tables_even(text);
    ck_assert_ptr_nonnull(strstr(text, "pipe\\|pipe"));
    free(text);

    /* and an independent reader agrees */
    if (have_python()) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, PYTHON " tests/parse_reports.py '%s' > '%s/parse.txt' 2>&1",
                 tmpdir, tmpdir);
        int rc = system(cmd);
        snprintf(path, sizeof path, "%s/parse.txt", tmpdir);
        text = test_read_whole(path);
        ck_assert_msg(rc == 0, "parse_reports: %s", text);
        free(text);
    }
    for (int k = 0; k < N_HOSTILE; k++)
        row_clear(rows + k);
}
END_TEST

/* ---------------------------------------------------- the exact rule */

static const claim_t claim_exactish = {
    .id = "exactish",
    .source = "test",
    .kind = KIND_EXACT,
    .provenance = "test",
    .statement = "rows near the exact rule's tolerance",
    .formula = "none",
};

/* Each row's slack used and tolerance, as written, against an oracle at
 * 2000 bits; the verdict holds exactly when the slack is at most kappa. */
START_TEST(test_exact_columns_match_verdict)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed());
    enum { N = 60 };
    row_t rows[N];
    for (int k = 0; k < N; k++) {
        row_t *r = rows + k;
        row_begin(r, "near", test_random_prec(st, 24, 400));
        r->depth = 1 + (int)gmp_urandomm_ui(st, 4);
        mpfr_urandomb(r->scale, st);
        mpfr_mul_2si(r->scale, r->scale, (long)gmp_urandomm_ui(st, 40) - 20, MPFR_RNDU);
        /* hi(E) = tolerance 2^t with t near 0, or 0 */
        mpfr_t tol;
        mpfr_init2(tol, 64);
        verdict_exact_unit(tol, r->scale, r->prec);
        mpfr_mul_2si(tol, tol, verdict_kappa(r->depth), MPFR_RNDD);
        double t = ((double)gmp_urandomm_ui(st, 2001) - 1000) / 4000;
        if (k % 10 == 0) {
            arb_zero(r->error);
        } else {
            mpfr_t zero, hi;
            mpfr_inits2(64, zero, hi, (mpfr_ptr)0);
            mpfr_set_ui(zero, 0, MPFR_RNDN);
            mpfr_set_d(hi, exp2(t), MPFR_RNDU);
            mpfr_mul(hi, hi, tol, MPFR_RNDU);
            ival_set_interval_fr(r->error, zero, hi, r->prec); /* [0, hi] */
            mpfr_clears(zero, hi, (mpfr_ptr)0);
        }
        r->verdict = verdict_exact(r->error, r->scale, r->prec, r->depth);
        mpfr_clear(tol);
    }
    gmp_randclear(st);
    claim_report_t rep;
    report_begin(&rep, &claim_exactish, rows, N);
    write_report(&rep, FORMAT_JSON);
    char path[512];
    snprintf(path, sizeof path, "%s/exactish.json", tmpdir);
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    ck_assert_msg(doc != NULL, "%s", jerr.text);
    json_t *jrows = json_object_get(doc, "rows");
    mpfr_t v, lim;
    mpfr_inits2(2000, v, lim, (mpfr_ptr)0);
    for (int k = 0; k < N; k++) {
        const row_t *r = rows + k;
        json_t *j = json_array_get(jrows, (size_t)k);
        long kappa = (long)json_integer_value(json_object_get(j, "kappa"));
        const char *slack = json_string_value(json_object_get(j, "slack_used_bits"));
        const char *tol = json_string_value(json_object_get(j, "tolerance"));
        ck_assert_int_eq(kappa, verdict_kappa(r->depth));
        ck_assert(slack && tol);
        /* the tolerance: S rounded down times 2^(kappa - p), printed rounded down */
        mpfr_set(lim, r->scale, MPFR_RNDD);
        mpfr_mul_2si(lim, lim, kappa - (long)r->prec, MPFR_RNDD);
        ck_assert_msg(decimal_outward(tol, lim, 0), "tolerance %s above the limit", tol);
        if (arb_is_zero(r->error)) {
            ck_assert_str_eq(slack, "-inf");
            ck_assert_int_eq(r->verdict, VERDICT_HOLDS);
            continue;
        }
        /* oracle: 10 log2(hi(E) / (S 2^-p)); the text is its ceiling in tenths */
        mpfr_set(v, r->scale, MPFR_RNDD);
        mpfr_mul_2si(v, v, -(long)r->prec, MPFR_RNDD);
        mpfr_t e;
        mpfr_init2(e, 2000);
        ival_get_hi(e, r->error); /* the upper end the verdict sees */
        mpfr_div(v, e, v, MPFR_RNDU);
        mpfr_clear(e);
        mpfr_log2(v, v, MPFR_RNDU);
        mpfr_mul_ui(v, v, 10, MPFR_RNDU);
        double written = strtod(slack, NULL) * 10;
        ck_assert_msg(written >= mpfr_get_d(v, MPFR_RNDD) - 1e-9 &&
                      written <= mpfr_get_d(v, MPFR_RNDU) + 1 + 1e-9,
                      "slack %s against 10 log2 = %g", slack, mpfr_get_d(v, MPFR_RNDN));
        int within = written <= 10.0 * (double)kappa + 1e-9;
        ck_assert_msg(within == (r->verdict == VERDICT_HOLDS),
                      "row %d: slack %s of kappa %ld but %s", k, slack, kappa,
                      verdict_name(r->verdict));
    }
    mpfr_clears(v, lim, (mpfr_ptr)0);
    json_decref(doc);
    for (int k = 0; k < N; k++)
        row_clear(rows + k);
}
END_TEST

/* ------------------------------------------------------------- plots */

static const claim_t claim_plotted = {
    .id = "plotted",
    .source = "test",
    .kind = KIND_INEQUALITY,
    .provenance = "test",
    .statement = "a plot whose series values are hostile",
    .formula = "none",
    .plots = {{.x = "n", .y = "error", .series = "mask", .logy = 1, .mark_x = "2.5",
               .title = "hi(E) against n"}},
};

/* Series titles, labels and marks reach the script single-quoted: gnuplot
 * draws the plot and runs nothing of them. */
START_TEST(test_plot_script_is_inert)
{
    static const char *const masks[] = {"x'; system('touch PWNED'); '", "line\nbreak",
                                        "\"; system(\"touch PWNED\"); \""};
    static const char *const ns[] = {"1", "2", "4"};
    row_t rows[9];
    for (int k = 0; k < 9; k++) {
        row_begin(rows + k, "s", 64);
        row_param(rows + k, "mask", masks[k / 3]);
        row_param(rows + k, "n", ns[k % 3]);
        arb_set_ui(rows[k].error, (unsigned long)(k + 1));
        rows[k].verdict = VERDICT_HOLDS;
    }
    claim_report_t rep;
    report_begin(&rep, &claim_plotted, rows, 9);
    char cwd[4096], path[512];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir(tmpdir), 0); /* where a relative 'touch PWNED' would land */
    write_report(&rep, FORMAT_MD | FORMAT_SVG);
    ck_assert_int_eq(chdir(cwd), 0);
    snprintf(path, sizeof path, "%s/PWNED", tmpdir);
    ck_assert_msg(access(path, F_OK) != 0, "a parameter value ran a command through gnuplot");
    snprintf(path, sizeof path, "%s/plotted.svg.gp", tmpdir);
    char *gp = test_read_whole(path);
    ck_assert_ptr_nonnull(gp);
    ck_assert_ptr_nonnull(strstr(gp, "title 'mask=x''; system(''touch PWNED''); '''"));
    ck_assert_ptr_null(strstr(gp, "line\nbreak"));
    ck_assert_ptr_nonnull(strstr(gp, "outfile = 'plotted.svg'"));
    free(gp);
    snprintf(path, sizeof path, "%s/plotted.svg", tmpdir);
    if (access(path, F_OK) != 0)
        fprintf(stderr, "check_report: gnuplot drew nothing (is it installed?)\n");
    for (int k = 0; k < 9; k++)
        row_clear(rows + k);
}
END_TEST

/* A text cell too long for its column ends in an ellipsis, still UTF-8. */
START_TEST(test_cut_text_says_so)
{
    row_t r;
    row_begin(&r, "s", 64);
    char longtext[400] = "";
    for (int k = 0; k < 60; k++)
        strcat(longtext, "γ=1 "); /* 5 bytes each, 2-byte letters across the cut */
    row_add_text(&r, "member", "%s", longtext);
    const column_t *c = row_find_column(&r, "member");
    size_t n = strlen(c->str);
    ck_assert_uint_lt(n, sizeof c->str);
    ck_assert_str_eq(c->str + n - 3, "\xE2\x80\xA6");
    json_t *j = json_string(c->str); /* NULL when not valid UTF-8 */
    ck_assert_ptr_nonnull(j);
    json_decref(j);
    row_add_text(&r, "short", "%s", "whole");
    ck_assert_str_eq(row_find_column(&r, "short")->str, "whole");
    row_clear(&r);
}
END_TEST

/* gelu-approx's statement names the minimiser its own rows compute. */
START_TEST(test_gelu_statement_names_the_minimiser)
{
    const claim_t *c = claim_find("gelu-approx");
    ck_assert_ptr_nonnull(c);
    const char *at = strstr(c->statement, "a* = ");
    ck_assert_ptr_nonnull(at);
    double stated = strtod(at + 5, NULL);
    row_t r;
    memset(&r, 0, sizeof r);
    row_param(&r, "target", "gelu");
    row_param(&r, "a", "1.702");
    row_param(&r, "prec", "64");
    r.sweep = "gap";
    ck_assert_int_eq(runner_eval_row(&r, c, 64), 0);
    const column_t *as = row_find_column(&r, "a* (estimate)");
    ck_assert_ptr_nonnull(as);
    double computed = strtod(as->str, NULL);
    ck_assert_msg(fabs(computed - stated) <= 0.0005, "statement a* = %g, computed %g", stated,
                  computed);
    ck_assert_msg(fabs(computed - 1.702) > 0.05, "a* %g is not apart from 1.702", computed);
    row_clear(&r);
}
END_TEST

/* ------------------------------------------------------ through the CLI */

/* Every file of a verify run parses, and holds no timing (run.log holds
 * them).  _i = 0: four claims; 1 (slow): every claim, and a second run with
 * other --jobs and --out writes the same bytes (run.log apart; in process on
 * three claims: check_identity.c). */
START_TEST(test_verify_parses_and_repeats)
{
    const int whole = _i;
    const char *claims = whole ? "" : "neuron-head mask-encoding relu-limit activation-class";
    char args[1024], a[300], b[300];
    snprintf(a, sizeof a, "%s/a", tmpdir);
    snprintf(b, sizeof b, "%s/b", tmpdir);
    snprintf(args, sizeof args, "verify %s --jobs 2 --out %s", claims, a);
    /* every claim's default grid states what holds, the whole registry too */
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 0);
    if (have_python()) {
        char cmd[1200], path[400], expect[64] = "";
        int n_claims = 0;
        while (claim_registry[n_claims])
            n_claims++;
        if (whole)
            snprintf(expect, sizeof expect, "--expect-claims %d", n_claims);
        snprintf(cmd, sizeof cmd, PYTHON " tests/parse_reports.py '%s' %s > '%s/parse.txt' 2>&1", a,
                 expect, tmpdir);
        int rc = system(cmd);
        snprintf(path, sizeof path, "%s/parse.txt", tmpdir);
        char *text = test_read_whole(path);
        fprintf(stderr, "%s", text);
        ck_assert_msg(rc == 0, "%s", text);
        free(text);
    }
    if (whole) {
        snprintf(args, sizeof args, "verify %s --jobs 1 --out %s", claims, b);
        ck_assert_int_eq(test_run_cli(args, out, sizeof out), 0);
    }
    DIR *d = opendir(a);
    ck_assert_ptr_nonnull(d);
    int files = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "run.log") == 0)
            continue;
        char pa[600], pb[600];
        snprintf(pa, sizeof pa, "%s/%s", a, e->d_name);
        snprintf(pb, sizeof pb, "%s/%s", b, e->d_name);
        char *x = test_read_whole(pa);
        ck_assert_ptr_nonnull(x);
        if (whole) {
            char *y = test_read_whole(pb);
            ck_assert_msg(y != NULL, "%s is missing from the --jobs 1 run", e->d_name);
            ck_assert_msg(strcmp(x, y) == 0, "%s differs between --jobs 2 and --jobs 1", e->d_name);
            free(y);
        }
        ck_assert_msg(!strstr(x, "seconds") || strstr(e->d_name, ".gp"), "%s holds a timing",
                      e->d_name);
        free(x);
        files++;
    }
    closedir(d);
    ck_assert_int_ge(files, whole ? 50 : 12);
    /* the timings are in the run log */
    char path[400];
    snprintf(path, sizeof path, "%s/run.log", a);
    char *log = test_read_whole(path);
    ck_assert_ptr_nonnull(log);
    ck_assert_ptr_nonnull(strstr(log, "seconds"));
    ck_assert_ptr_nonnull(strstr(log, "--jobs 2"));
    free(log);
}
END_TEST

/* The options that determine the numbers are recorded, canonically. */
START_TEST(test_command_recorded)
{
    char args[1024], path[400];
    snprintf(args, sizeof args, "sweep neuron-head --jobs 2 --set 'shape=2x3' --prec 53,113 "
             "--out %s/c --seed 3 --format json,md --set a=1,8", tmpdir);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 0);
    snprintf(path, sizeof path, "%s/c/neuron-head.json", tmpdir);
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    ck_assert_msg(doc != NULL, "%s", jerr.text);
    json_t *run = json_object_get(doc, "run");
    ck_assert_str_eq(json_string_value(json_object_get(run, "command")),
                     "attncheck sweep neuron-head --seed 3 --prec 53,113 --set shape=2x3 "
                     "--set a=1,8");
    ck_assert_ptr_nonnull(json_string_value(json_object_get(run, "attncheck")));
    ck_assert_ptr_nonnull(json_string_value(json_object_get(json_object_get(run, "libraries"),
                                                            "MPFR")));
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "rows")), 4);
    json_decref(doc);
    snprintf(path, sizeof path, "%s/c/neuron-head.md", tmpdir);
    char *md = test_read_whole(path);
    ck_assert_ptr_nonnull(strstr(md, "`attncheck sweep neuron-head --seed 3 --prec 53,113 "
                                     "--set shape=2x3 --set a=1,8`"));
    free(md);
    snprintf(path, sizeof path, "%s/c/index.md", tmpdir);
    md = test_read_whole(path);
    ck_assert_ptr_nonnull(strstr(md, "`attncheck sweep neuron-head --seed 3"));
    free(md);
}
END_TEST

Suite *suite_report(void)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("report");
    tcase_set_timeout(tc, 300);
    tcase_add_checked_fixture(tc, setup, teardown);
    int n_cells = (int)(sizeof cells / sizeof cells[0]);
    tcase_add_loop_test(tc, test_csv_field, 0, n_cells);
    tcase_add_loop_test(tc, test_md_cell, 0, n_cells);
    tcase_add_test(tc, test_hostile_report_reads_back);
    tcase_add_test(tc, test_exact_columns_match_verdict);
    tcase_add_test(tc, test_plot_script_is_inert);
    tcase_add_test(tc, test_cut_text_says_so);
    tcase_add_test(tc, test_gelu_statement_names_the_minimiser);
    tcase_add_loop_test(tc, test_verify_parses_and_repeats, 0, 1);
    tcase_add_test(tc, test_command_recorded);
    suite_add_tcase(s, tc);
    TCase *slow = tcase_create("report-slow");
    tcase_set_tags(slow, TEST_SLOW_TAG);
    tcase_set_timeout(slow, 600);
    tcase_add_checked_fixture(slow, setup, teardown);
    tcase_add_loop_test(slow, test_verify_parses_and_repeats, 1, 2);
    suite_add_tcase(s, slow);
    return s;
}
