/* Report writers.  Certified numbers are printed with their ends rounded
 * outward (lo down, hi up), so a printed enclosure still encloses. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "exitcodes.h"
#include "report.h"
#include "version.h"
#include "xalloc.h"

#define DIGITS_FILE 20  /* csv/json: 20 significant digits, outward */
#define DIGITS_MD 4     /* markdown tables */

int report_parse_formats(int *out, const char *s)
{
    int f = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (strcmp(t, "md") == 0) f |= FORMAT_MD;
        else if (strcmp(t, "csv") == 0) f |= FORMAT_CSV;
        else if (strcmp(t, "json") == 0) f |= FORMAT_JSON;
        else if (strcmp(t, "svg") == 0) f |= FORMAT_SVG;
        else return -1;
    }
    if (!f)
        return -1;
    *out = f;
    return 0;
}

void report_stem(char *buf, size_t n, const claim_report_t *rep)
{
    if (rep->mutation > 0)
        snprintf(buf, n, "%s.mutated-%s", rep->claim->id,
                 rep->claim->mutations[rep->mutation - 1][0]);
    else
        snprintf(buf, n, "%s", rep->claim->id);
}

/* ---- text made in memory (open_memstream), so that nothing reaches a
 * file before it is complete ---- */

static FILE *membuf_open(char **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    return open_memstream(buf, len);
}

/* Close the stream; 0, or -1 (the buffer is freed) when any write failed. */
static int membuf_close(FILE *f, char **buf)
{
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad) {
        free(*buf);
        *buf = NULL;
        return -1;
    }
    return 0;
}

int report_write_file(const char *path, const char *text, size_t len, char *err,
                      size_t errsz)
{
    atomic_file_t a;
    if (atomic_open(&a, path) != 0) {
        snprintf(err, errsz, "cannot create '%s': %s", path, strerror(errno));
        return EXIT_CANTCREAT;
    }
    fwrite(text, 1, len, a.f);
    if (atomic_commit(&a) != 0) {
        snprintf(err, errsz, "cannot write '%s'", path);
        return EXIT_IOERR;
    }
    return 0;
}

static int out_of_memory(const char *path, char *err, size_t errsz)
{
    snprintf(err, errsz, "out of memory while writing '%s'", path);
    return EXIT_SOFTWARE;
}

/* ---- numbers as text: the one place the writers turn an enclosure into
 * digits.  Ends are rounded outward (lo down, hi up), so a printed
 * enclosure still encloses.  Each returns a malloc'd string, or NULL when
 * out of memory. ---- */

static char *own_mpfr_str(char *s)
{
    if (!s)
        return NULL;
    char *t = strdup(s);
    mpfr_free_str(s);
    return t;
}

static char *text_lo(arb_srcptr x, int digits) { return own_mpfr_str(ival_lo_str(x, digits)); }
static char *text_hi(arb_srcptr x, int digits) { return own_mpfr_str(ival_hi_str(x, digits)); }

static char *text_up(mpfr_srcptr x, int digits)
{
    return own_mpfr_str(fr_str(x, digits, MPFR_RNDU));
}

static char *text_down(mpfr_srcptr x, int digits)
{
    return own_mpfr_str(fr_str(x, digits, MPFR_RNDD));
}

static char *text_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n < 0 ? NULL : malloc((size_t)n + 1);
    if (s) {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return s;
}

/* "[lo, hi]", or one number when both ends print alike (a point). */
static char *text_ends(arb_srcptr x, int digits)
{
    char *lo = text_lo(x, digits), *hi = text_hi(x, digits), *s = NULL;
    if (lo && hi)
        s = strcmp(lo, hi) == 0 ? strdup(lo) : text_printf("[%s, %s]", lo, hi);
    free(lo);
    free(hi);
    return s;
}

/* ratio E/bound as an enclosure (NaN when the bound may be 0 or less). */
static void row_ratio(arb_t q, const row_t *r)
{
    arb_init(q);
    if (arb_is_positive(r->bound))
        arb_div(q, r->error, r->bound, r->prec);
    else
        arb_indeterminate(q);
}

static char *text_ratio_hi(const row_t *r, int digits)
{
    arb_t q;
    row_ratio(q, r);
    char *s = !arb_is_finite(q) ? strdup("") : text_hi(q, digits);
    arb_clear(q);
    return s;
}

/* ---- the exact rule, as the verdict applies it (verdict_exact_unit) ---- */

static int row_exact_rule(const claim_report_t *rep, const row_t *r)
{
    return (rep->claim->kind == KIND_EXACT || r->exact_identity) && !r->has_arith;
}

/* The tolerance 2^kappa S 2^-p of the exact test, rounded down. */
static char *text_tolerance(const row_t *r, int digits)
{
    mpfr_t u;
    mpfr_init2(u, 64);
    verdict_exact_unit(u, r->scale, r->prec);
    mpfr_mul_2si(u, u, verdict_kappa(r->depth), MPFR_RNDD); /* exact */
    char *s = text_down(u, digits);
    mpfr_clear(u);
    return s;
}

/* The relative resolution of the exact rule, 2^(kappa - p), as text. */
static char *text_resolution(const row_t *r)
{
    return text_printf("2^%ld", (long)verdict_kappa(r->depth) - (long)r->prec);
}

/* The word a row's verdict is written as (a mutated run's rows that hold
 * did not detect the break). */
static const char *row_verdict_word(const claim_report_t *rep, const row_t *r)
{
    return verdict_word(r->verdict, rep->mutation > 0, row_exact_rule(rep, r));
}

/* Bits of slack used, log2(hi(E) / (S 2^-p)), in tenths rounded up; the
 * row holds (0 in E) while it is at most kappa.  Returns 0, or -1 when
 * hi(E) = 0 (-inf bits) or nothing is known (NaN, an infinite S). */
static int row_slack_tenths(long *tenths, const row_t *r)
{
    mpfr_t u, t;
    mpfr_inits2(64, u, t, (mpfr_ptr)0);
    verdict_exact_unit(u, r->scale, r->prec);
    ival_get_hi(t, r->error);
    int ok = mpfr_number_p(u) && mpfr_number_p(t) && mpfr_sgn(t) > 0;
    if (ok) {
        mpfr_div(t, t, u, MPFR_RNDU);
        mpfr_log2(t, t, MPFR_RNDU);
        mpfr_mul_ui(t, t, 10, MPFR_RNDU);
        *tenths = mpfr_get_si(t, MPFR_RNDU);
    }
    mpfr_clears(u, t, (mpfr_ptr)0);
    return ok ? 0 : -1;
}

static char *text_slack(const row_t *r)
{
    long t;
    if (row_slack_tenths(&t, r) == 0)
        return text_printf("%s%ld.%ld", t < 0 ? "-" : "", labs(t) / 10, labs(t) % 10);
    return strdup(arb_is_zero(r->error) ? "-inf" : "");
}

/* "H holds, V violated, I inconclusive" (and vacuous when any); a mutated
 * run: "V violated (detected), N not detected at this resolution, ...". */
static void report_counts_text(char *buf, size_t n, const claim_report_t *rep)
{
    if (rep->mutation > 0) {
        long exact_holds = 0, bound_holds = 0;
        for (long k = 0; k < rep->n_rows; k++)
            if (rep->rows[k].verdict == VERDICT_HOLDS) {
                if (row_exact_rule(rep, rep->rows + k))
                    exact_holds++;
                else
                    bound_holds++;
            }
        size_t len = (size_t)snprintf(buf, n, "%ld violated (detected)", rep->violated);
        if (exact_holds && len < n)
            len += (size_t)snprintf(buf + len, n - len, ", %ld not detected at this resolution",
                                    exact_holds);
        if (bound_holds && len < n)
            len += (size_t)snprintf(buf + len, n - len, ", %ld not detected", bound_holds);
        if (rep->vacuous && len < n)
            len += (size_t)snprintf(buf + len, n - len, ", %ld not detected (vacuous bound)",
                                    rep->vacuous);
        if (len < n)
            snprintf(buf + len, n - len, ", %ld inconclusive", rep->inconclusive);
        return;
    }
    if (rep->vacuous)
        snprintf(buf, n, "%ld holds, %ld vacuous, %ld violated, %ld inconclusive", rep->holds,
                 rep->vacuous, rep->violated, rep->inconclusive);
    else
        snprintf(buf, n, "%ld holds, %ld violated, %ld inconclusive", rep->holds, rep->violated,
                 rep->inconclusive);
}

/* ---- tables: md and CSV have the same columns, the union over all rows
 * of their parameters and extra columns; a row lacking one has an empty
 * cell.  CSV is RFC 4180 with CRLF line ends; md cells are escaped. ---- */

typedef enum {
    COL_SWEEP, COL_PARAM, COL_SEED, COL_PREC, COL_PREC_REQ, COL_E_LO, COL_E_HI, COL_E_ABS_HI,
    COL_SCALE, COL_KAPPA, COL_TOLERANCE, COL_RESOLUTION, COL_SLACK, /* the exact rule */
    COL_BOUND_LO, COL_BOUND_HI, COL_RATIO_HI, COL_TRIVIAL_HI,       /* the bound rule */
    COL_EXTRA, COL_EXTRA_LO, COL_EXTRA_HI, COL_VERDICT
} col_kind_t;

typedef struct {
    col_kind_t kind;
    const char *name; /* parameter or extra column name */
    int clash;        /* an extra column named like a parameter */
} col_t;

typedef struct {
    col_t *col;
    int n, cap;
} cols_t;

static int param_is_column(const char *name)
{
    return strcmp(name, "seed") != 0 && strcmp(name, "prec") != 0;
}

static int cols_add(cols_t *t, col_kind_t kind, const char *name)
{
    for (int k = 0; name && k < t->n; k++)
        if (t->col[k].kind == kind && strcmp(t->col[k].name, name) == 0)
            return 0;
    if (t->n == t->cap) {
        int cap = t->cap ? 2 * t->cap : 32;
        col_t *c = realloc(t->col, sizeof *c * (size_t)cap);
        if (!c)
            return -1;
        t->col = c;
        t->cap = cap;
    }
    int clash = 0;
    for (int k = 0; kind >= COL_EXTRA && kind <= COL_EXTRA_HI && k < t->n; k++)
        clash |= t->col[k].kind == COL_PARAM && strcmp(t->col[k].name, name) == 0;
    t->col[t->n++] = (col_t){kind, name, clash};
    return 0;
}

/* An extra column holds an enclosure in some row: CSV gives it two cells. */
static int extra_is_ival(const claim_report_t *rep, const char *name)
{
    for (long k = 0; k < rep->n_rows; k++) {
        const column_t *c = row_find_column(rep->rows + k, name);
        if (c && c->is_ival)
            return 1;
    }
    return 0;
}

static int table_columns(cols_t *t, const claim_report_t *rep, int csv)
{
    int bad = 0, bound = 0, exact = 0, trivial = 0;
    memset(t, 0, sizeof *t);
    bad |= cols_add(t, COL_SWEEP, NULL);
    for (long k = 0; k < rep->n_rows; k++)
        for (int a = 0; a < rep->rows[k].params.n; a++)
            if (param_is_column(rep->rows[k].params.name[a]))
                bad |= cols_add(t, COL_PARAM, rep->rows[k].params.name[a]);
    bad |= cols_add(t, COL_SEED, NULL);
    bad |= cols_add(t, COL_PREC, NULL);
    bad |= cols_add(t, COL_PREC_REQ, NULL);
    bad |= cols_add(t, COL_E_LO, NULL);
    bad |= cols_add(t, COL_E_HI, NULL);
    bad |= cols_add(t, COL_E_ABS_HI, NULL);
    for (long k = 0; k < rep->n_rows; k++) {
        exact |= row_exact_rule(rep, rep->rows + k);
        bound |= rep->rows[k].has_bound;
        trivial |= rep->rows[k].has_bound && rep->rows[k].has_trivial;
    }
    if (exact) {
        bad |= cols_add(t, COL_SCALE, NULL);
        bad |= cols_add(t, COL_KAPPA, NULL);
        bad |= cols_add(t, COL_TOLERANCE, NULL);
        bad |= cols_add(t, COL_RESOLUTION, NULL);
        bad |= cols_add(t, COL_SLACK, NULL);
    }
    if (bound) {
        bad |= cols_add(t, COL_BOUND_LO, NULL);
        bad |= cols_add(t, COL_BOUND_HI, NULL);
        bad |= cols_add(t, COL_RATIO_HI, NULL);
    }
    if (trivial)
        bad |= cols_add(t, COL_TRIVIAL_HI, NULL);
    for (long k = 0; k < rep->n_rows; k++)
        for (int e = 0; e < rep->rows[k].n_extra; e++) {
            const char *name = rep->rows[k].extra[e].name;
            if (csv && extra_is_ival(rep, name)) {
                bad |= cols_add(t, COL_EXTRA_LO, name);
                bad |= cols_add(t, COL_EXTRA_HI, name);
            } else {
                bad |= cols_add(t, COL_EXTRA, name);
            }
        }
    bad |= cols_add(t, COL_VERDICT, NULL);
    if (bad)
        free(t->col);
    return bad ? -1 : 0;
}

static char *col_title(const col_t *c, int csv)
{
    static const char *const titles[][2] = {
        [COL_SWEEP] = {"sweep", "sweep"},
        [COL_SEED] = {"seed", "seed"},
        [COL_PREC] = {"prec", "prec"},
        [COL_PREC_REQ] = {"p asked", "prec_requested"},
        [COL_E_LO] = {"E lo", "error_lo"},
        [COL_E_HI] = {"E hi", "error_hi"},
        [COL_E_ABS_HI] = {"max abs hi", "error_abs_hi"},
        [COL_SCALE] = {"S", "scale_S"},
        [COL_KAPPA] = {"κ", "kappa"},
        [COL_TOLERANCE] = {"S·2^(κ−p)", "tolerance"},
        [COL_RESOLUTION] = {"resolution", "resolution"},
        [COL_SLACK] = {"slack used (bits)", "slack_used_bits"},
        [COL_BOUND_LO] = {"bound lo", "bound_lo"},
        [COL_BOUND_HI] = {"bound hi", "bound_hi"},
        [COL_RATIO_HI] = {"E/bound hi", "ratio_hi"},
        [COL_TRIVIAL_HI] = {"trivial bound hi", "trivial_bound_hi"},
        [COL_VERDICT] = {"verdict", "verdict"},
    };
    /* column names stay unique: an extra named like a parameter says so */
    const char *clash = c->clash ? " (computed)" : "";
    switch (c->kind) {
    case COL_PARAM:
        return strdup(c->name);
    case COL_EXTRA:
        return text_printf("%s%s", c->name, clash);
    case COL_EXTRA_LO:
        return text_printf("%s%s lo", c->name, clash);
    case COL_EXTRA_HI:
        return text_printf("%s%s hi", c->name, clash);
    default:
        return strdup(titles[c->kind][csv]);
    }
}

static char *cell_text(const claim_report_t *rep, const row_t *r, const col_t *c, int digits)
{
    int exact = row_exact_rule(rep, r);
    const column_t *x = (c->kind == COL_EXTRA || c->kind == COL_EXTRA_LO ||
                         c->kind == COL_EXTRA_HI) ? row_find_column(r, c->name) : NULL;
    const char *v;
    switch (c->kind) {
    case COL_SWEEP:
        return strdup(r->sweep ? r->sweep : "");
    case COL_PARAM:
        v = params_get(&r->params, c->name);
        return strdup(v ? v : "");
    case COL_SEED:
        return text_printf("%lu", r->seed);
    case COL_PREC:
        return text_printf("%ld", (long)r->prec);
    case COL_PREC_REQ:
        return text_printf("%ld", (long)r->prec_requested);
    case COL_E_LO:
        return text_lo(r->error, digits);
    case COL_E_HI:
        return text_hi(r->error, digits);
    case COL_E_ABS_HI:
        return text_hi(r->error_abs, digits);
    case COL_SCALE:
        return exact ? text_up(r->scale, digits) : strdup("");
    case COL_KAPPA:
        return exact ? text_printf("%d", verdict_kappa(r->depth)) : strdup("");
    case COL_TOLERANCE:
        return exact ? text_tolerance(r, digits) : strdup("");
    case COL_RESOLUTION:
        return exact ? text_resolution(r) : strdup("");
    case COL_SLACK:
        return exact ? text_slack(r) : strdup("");
    case COL_BOUND_LO:
        return r->has_bound ? text_lo(r->bound, digits) : strdup("");
    case COL_BOUND_HI:
        return r->has_bound ? text_hi(r->bound, digits) : strdup("");
    case COL_RATIO_HI:
        return r->has_bound ? text_ratio_hi(r, digits) : strdup("");
    case COL_TRIVIAL_HI:
        return r->has_bound && r->has_trivial ? text_hi(r->trivial, digits) : strdup("");
    case COL_EXTRA:
        return !x ? strdup("") : x->is_ival ? text_ends(x->iv, digits) : strdup(x->str);
    case COL_EXTRA_LO:
        return !x ? strdup("") : x->is_ival ? text_lo(x->iv, digits) : strdup(x->str);
    case COL_EXTRA_HI:
        return !x || !x->is_ival ? strdup("") : text_hi(x->iv, digits);
    case COL_VERDICT:
        return strdup(row_verdict_word(rep, r));
    }
    return NULL;
}

/* Invalid UTF-8 bytes become U+FFFD: every text file is valid UTF-8 (a
 * JSON string must be), and all formats carry the same text. */
static char *utf8_clean(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(3 * n + 1), *o = out;
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        /* the sequence length its lead byte announces (0: not a lead byte) */
        int len = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3
                : (*p >> 3) == 30 ? 4 : 0;
        int ok = len > 0;
        for (int k = 1; ok && k < len; k++)
            ok = (p[k] & 0xC0) == 0x80;
        if (ok && len > 1) {
            /* no overlong forms, surrogates or code points past U+10FFFF */
            unsigned long cp = *p & (0x7F >> len);
            for (int k = 1; k < len; k++)
                cp = (cp << 6) | (p[k] & 0x3F);
            static const unsigned long min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
            ok = cp >= min_cp[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
        }
        if (ok) {
            memcpy(o, p, (size_t)len);
            o += len;
            p += len;
        } else {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            p++;
        }
    }
    *o = '\0';
    return out;
}

/* RFC 4180: a field holding , " CR or LF is quoted, its quotes doubled. */
void report_csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* A GitHub-flavoured markdown table cell: | and \ escaped, a line break as
 * <br>, < as &lt; (no raw HTML), other control characters as U+FFFD. */
void report_md_cell(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '|' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '<')
            fputs("&lt;", f);
        else if (c == '\r' || c == '\n') {
            fputs("<br>", f);
            s += c == '\r' && s[1] == '\n';
        } else if (c == '\t')
            fputc(' ', f);
        else if (c < 0x20 || c == 0x7F)
            fputs("\xEF\xBF\xBD", f);
        else
            fputc(c, f);
    }
}

/* One cell of a table line; -1 when out of memory. */
static int put_cell(FILE *f, const char *s, int csv, int first)
{
    char *clean = utf8_clean(s);
    if (!clean)
        return -1;
    if (csv) {
        if (!first)
            fputc(',', f);
        report_csv_field(f, clean);
    } else {
        fputs(first ? "| " : " | ", f);
        report_md_cell(f, clean);
    }
    free(clean);
    return 0;
}

/* Text in a markdown paragraph, escaped as a table cell is. */
static int md_text(FILE *f, const char *s)
{
    char *clean = utf8_clean(s);
    if (!clean)
        return -1;
    report_md_cell(f, clean);
    free(clean);
    return 0;
}

static void end_line(FILE *f, int csv)
{
    fputs(csv ? "\r\n" : " |\n", f);
}

/* The rows table; -1 when out of memory. */
static int write_table(FILE *f, const claim_report_t *rep, int csv)
{
    cols_t t;
    if (table_columns(&t, rep, csv) != 0)
        return -1;
    int digits = csv ? DIGITS_FILE : DIGITS_MD, ok = 1;
    for (int c = 0; c < t.n && ok; c++) {
        char *title = col_title(t.col + c, csv);
        ok = title && put_cell(f, title, csv, c == 0) == 0;
        free(title);
    }
    end_line(f, csv);
    if (!csv) {
        for (int c = 0; c < t.n; c++)
            fputs(c ? "---|" : "|---|", f);
        fputc('\n', f);
    }
    for (long k = 0; k < rep->n_rows && ok; k++) {
        for (int c = 0; c < t.n && ok; c++) {
            char *cell = cell_text(rep, rep->rows + k, t.col + c, digits);
            ok = cell && put_cell(f, cell, csv, c == 0) == 0;
            free(cell);
        }
        end_line(f, csv);
    }
    free(t.col);
    return ok ? 0 : -1;
}

/* ---- the run: the command that determines the numbers, and versions ---- */

/* A word as a POSIX shell reads it back: bare when it is plain, otherwise
 * single-quoted with each ' written '\''. */
static void shell_word(FILE *f, const char *s)
{
    if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                        "_-+=.,:/@%") == strlen(s)) {
        fputs(s, f);
        return;
    }
    fputc('\'', f);
    for (; *s; s++)
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    fputc('\'', f);
}

static void shell_option(FILE *f, const char *flag, const char *value)
{
    fprintf(f, " %s", flag);
    if (value) {
        fputc(' ', f);
        shell_word(f, value);
    }
}

/* The canonical command: for one claim's report when rep is given,
 * otherwise for the whole run (index.md).  malloc'd, or NULL. */
static char *run_command(const report_run_t *run, const claim_report_t *rep)
{
    char *buf;
    size_t len;
    if (run->command)
        return strdup(run->command);
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    const run_options_t *o = run->options;
    fprintf(f, "attncheck %s", run->verb);
    if (rep) {
        fputc(' ', f);
        shell_word(f, rep->claim->id);
    } else {
        for (int k = 0; k < run->n_ids; k++) {
            fputc(' ', f);
            shell_word(f, run->ids[k]);
        }
    }
    if (o->full)
        fputs(" --full", f);
    if (o->seed_set) {
        char seed[32];
        snprintf(seed, sizeof seed, "%lu", o->seed);
        shell_option(f, "--seed", seed);
    }
    if (o->prec_list)
        shell_option(f, "--prec", o->prec_list);
    for (int k = 0; k < o->n_sets; k++) {
        char *set = text_printf("%s=%s", o->set_name[k], o->set_values[k]);
        if (!set) {
            fclose(f);
            free(buf);
            return NULL;
        }
        shell_option(f, "--set", set);
        free(set);
    }
    if (rep && rep->mutation > 0) {
        fputs(" --mutate=", f);
        shell_word(f, rep->claim->mutations[rep->mutation - 1][0]);
    } else if (!rep && run->mutate) {
        fputs(" --mutate", f);
        if (run->mutate_name) {
            fputc('=', f);
            shell_word(f, run->mutate_name);
        }
    }
    return membuf_close(f, &buf) == 0 ? buf : NULL;
}

/* "GMP 6.2.1, MPFR 4.2.0, ..." */
static void print_libraries(FILE *f)
{
    library_version_t lib[8];
    int n = attncheck_libraries(lib, 8);
    for (int k = 0; k < n; k++)
        fprintf(f, "%s%s %s", k ? ", " : "", lib[k].name, lib[k].version);
}

/* s as a markdown code span: a fence longer than any run of backticks in
 * s, and no control characters. */
static void md_code(FILE *f, const char *s)
{
    int longest = 0;
    for (const char *p = s; *p; p++) {
        int run = 0;
        while (p[run] == '`')
            run++;
        if (run > longest)
            longest = run;
        p += run ? run - 1 : 0;
    }
    for (int k = 0; k <= longest; k++)
        fputc('`', f);
    fputs(longest ? " " : "", f);
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7F)
            fputs("\xEF\xBF\xBD", f);
        else
            fputc(*s, f);
    fputs(longest ? " " : "", f);
    for (int k = 0; k <= longest; k++)
        fputc('`', f);
}

/* The "Run" paragraph of md reports; -1 when out of memory. */
static int write_md_run(FILE *f, const report_run_t *run, const claim_report_t *rep)
{
    char *raw = run_command(run, rep), *cmd = raw ? utf8_clean(raw) : NULL;
    free(raw);
    if (!cmd)
        return -1;
    fputs("## Run\n\nMade by ", f);
    md_code(f, cmd);
    fprintf(f, " with attncheck %s (", attncheck_version());
    print_libraries(f);
    fputs("). Options that change no number (--jobs, --threads, --out, --format) are not "
          "recorded: the "
          "same command gives byte-identical md, csv, json and svg files whatever they were. "
          "Timings are on stderr and in run.log beside this file.\n\n", f);
    free(cmd);
    return 0;
}

json_t *report_json_run(const report_run_t *run, const claim_report_t *rep)
{
    int ok = 1;
    json_t *o = json_object(), *libs = json_object(), *nr = json_array();
    char *cmd = run_command(run, rep);
    report_json_set(o, "command", cmd ? report_json_text(cmd) : NULL, &ok);
    free(cmd);
    static const char *const not_recorded[] = {"--jobs", "--threads", "--out", "--format"};
    for (int k = 0; k < 4; k++)
        report_json_push(nr, json_string(not_recorded[k]), &ok);
    report_json_set(o, "not_recorded", nr, &ok);
    report_json_set(o, "attncheck", report_json_text(attncheck_version()), &ok);
    library_version_t lib[8];
    int n = attncheck_libraries(lib, 8);
    for (int k = 0; k < n; k++)
        report_json_set(libs, lib[k].name, report_json_text(lib[k].version), &ok);
    report_json_set(o, "libraries", libs, &ok);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- JSON, through jansson.  A document is built as a tree and dumped;
 * any NULL on the way (out of memory) makes the whole document NULL. ---- */

json_t *report_json_text(const char *s)
{
    char *t = utf8_clean(s);
    json_t *j = t ? json_string(t) : NULL;
    free(t);
    return j;
}

json_t *report_json_seed(unsigned long seed)
{
    char text[32];
    snprintf(text, sizeof text, "%lu", seed);
    return json_string(text);
}

/* jansson frees value when obj is NULL or the call fails. */
void report_json_set(json_t *obj, const char *key, json_t *value, int *ok)
{
    if (json_object_set_new(obj, key, value) != 0)
        *ok = 0;
}

void report_json_push(json_t *arr, json_t *value, int *ok)
{
    if (json_array_append_new(arr, value) != 0)
        *ok = 0;
}

json_t *report_json_mpfr_str(char *s)
{
    json_t *j = s ? json_string(s) : NULL;
    if (s)
        mpfr_free_str(s);
    return j;
}

json_t *report_json_ends(arb_srcptr x, int digits)
{
    int ok = 1;
    json_t *o = json_object();
    report_json_set(o, "lo", report_json_mpfr_str(ival_lo_str(x, digits)), &ok);
    report_json_set(o, "hi", report_json_mpfr_str(ival_hi_str(x, digits)), &ok);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

char *report_json_dumps(json_t *doc)
{
    if (!doc)
        return NULL;
    char *s = json_dumps(doc, JSON_INDENT(1));
    json_decref(doc);
    if (!s)
        return NULL;
    /* a final newline, as every text file has */
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);
    if (!t) {
        free(s);
        return NULL;
    }
    memcpy(t + n, "\n", 2);
    return t;
}

/* One row; children are filled before they are attached (an attach that
 * fails frees the child). */
static json_t *json_row(const claim_report_t *rep, const row_t *r)
{
    int ok = 1;
    json_t *row = json_object(), *params = json_object();
    report_json_set(row, "sweep", report_json_text(r->sweep ? r->sweep : ""), &ok);
    for (int a = 0; a < r->params.n; a++)
        if (param_is_column(r->params.name[a]))
            report_json_set(params, r->params.name[a], report_json_text(r->params.value[a]), &ok);
    report_json_set(row, "params", params, &ok);
    report_json_set(row, "seed", report_json_seed(r->seed), &ok);
    report_json_set(row, "prec", json_integer((json_int_t)r->prec), &ok);
    report_json_set(row, "prec_requested", json_integer((json_int_t)r->prec_requested), &ok);
    report_json_set(row, "error", report_json_ends(r->error, DIGITS_FILE), &ok);
    report_json_set(row, "error_abs", report_json_ends(r->error_abs, DIGITS_FILE), &ok);
    if (row_exact_rule(rep, r)) {
        char *scale = text_up(r->scale, DIGITS_FILE);
        report_json_set(row, "scale", scale ? json_string(scale) : NULL, &ok);
        free(scale);
        report_json_set(row, "kappa", json_integer(verdict_kappa(r->depth)), &ok);
        char *tol = text_tolerance(r, DIGITS_FILE), *slack = text_slack(r);
        report_json_set(row, "tolerance", tol ? json_string(tol) : NULL, &ok);
        report_json_set(row, "slack_used_bits", slack ? json_string(slack) : NULL, &ok);
        free(tol);
        free(slack);
        report_json_set(row, "resolution_log2",
                        json_integer((json_int_t)verdict_kappa(r->depth) - (json_int_t)r->prec), &ok);
        if (r->prec_needed)
            report_json_set(row, "prec_needed", json_integer((json_int_t)r->prec_needed), &ok);
    }
    if (r->has_bound) {
        arb_t q;
        report_json_set(row, "bound", report_json_ends(r->bound, DIGITS_FILE), &ok);
        row_ratio(q, r);
        if (arb_is_finite(q))
            report_json_set(row, "ratio", report_json_ends(q, DIGITS_FILE), &ok);
        arb_clear(q);
        if (r->has_trivial)
            report_json_set(row, "trivial_bound", report_json_ends(r->trivial, DIGITS_FILE), &ok);
    }
    if (r->n_extra) {
        json_t *extra = json_object();
        for (int e = 0; e < r->n_extra; e++) {
            const column_t *c = r->extra + e;
            report_json_set(extra, c->name, c->is_ival ? report_json_ends(c->iv, DIGITS_FILE)
                                                       : report_json_text(c->str), &ok);
        }
        report_json_set(row, "extra", extra, &ok);
    }
    report_json_set(row, "verdict", json_string(row_verdict_word(rep, r)), &ok);
    if (!ok) {
        json_decref(row);
        return NULL;
    }
    return row;
}

static json_t *json_fit(const fit_t *t)
{
    int ok = 1;
    char num[40];
    json_t *fit = json_object();
    report_json_set(fit, "series", report_json_text(t->series), &ok);
    report_json_set(fit, "x", report_json_text(t->x), &ok);
    report_json_set(fit, "y", report_json_text(t->y), &ok);
    report_json_set(fit, "model", report_json_text(t->model), &ok);
    snprintf(num, sizeof num, "%.6g", t->slope);
    report_json_set(fit, "slope", json_string(num), &ok);
    snprintf(num, sizeof num, "%.6g", t->intercept);
    report_json_set(fit, "intercept", json_string(num), &ok);
    report_json_set(fit, "points", json_integer(t->points), &ok);
    report_json_set(fit, "comment", report_json_text(t->comment), &ok);
    report_json_set(fit, "certified", json_false(), &ok);
    if (!ok) {
        json_decref(fit);
        return NULL;
    }
    return fit;
}

static json_t *json_claim(const claim_report_t *rep, const report_run_t *run)
{
    const claim_t *c = rep->claim;
    int ok = 1;
    json_t *doc = json_object();
    report_json_set(doc, "claim", report_json_text(c->id), &ok);
    report_json_set(doc, "source", report_json_text(c->source), &ok);
    report_json_set(doc, "kind", json_string(claim_kind_name(c->kind)), &ok);
    report_json_set(doc, "provenance", report_json_text(c->provenance), &ok);
    report_json_set(doc, "statement", report_json_text(c->statement), &ok);
    report_json_set(doc, "mutation", rep->mutation > 0
                                         ? report_json_text(c->mutations[rep->mutation - 1][0])
                                         : json_null(), &ok);
    char rule[160];
    snprintf(rule, sizeof rule, "%d + %d (depth - 1)", VERDICT_EXACT_KAPPA,
             VERDICT_KAPPA_PER_LAYER);
    report_json_set(doc, "kappa_rule", json_string(rule), &ok);
    snprintf(rule, sizeof rule, "prec >= kappa + %d + max(0, -log2 theta) + resolve_bits "
             "(2 log2(e) max |a z| of the instance)", VERDICT_RESOLVE_MARGIN);
    report_json_set(doc, "resolution_rule", json_string(rule), &ok);
    report_json_set(doc, "run", report_json_run(run, rep), &ok);
    if (rep->details_json) {
        json_t *details = json_loads(rep->details_json, 0, NULL);
        report_json_set(doc, "details", details && json_is_object(details) ? details : NULL, &ok);
        if (details && !json_is_object(details))
            json_decref(details);
    }
    json_t *rows = json_array(), *fits = json_array(), *sum = json_object();
    for (long k = 0; k < rep->n_rows && ok; k++)
        report_json_push(rows, json_row(rep, rep->rows + k), &ok);
    report_json_set(doc, "rows", rows, &ok);
    for (int k = 0; k < rep->n_fits && ok; k++)
        report_json_push(fits, json_fit(rep->fits + k), &ok);
    report_json_set(doc, "fits", fits, &ok);
    report_json_set(sum, "rows", json_integer(rep->n_rows), &ok);
    report_json_set(sum, "holds", json_integer(rep->holds), &ok);
    report_json_set(sum, "violated", json_integer(rep->violated), &ok);
    report_json_set(sum, "inconclusive", json_integer(rep->inconclusive), &ok);
    report_json_set(sum, "vacuous", json_integer(rep->vacuous), &ok);
    if (rep->mutation > 0) {
        /* a mutated run detects its break on the rows it violates */
        report_json_set(sum, "detected", json_integer(rep->violated), &ok);
        report_json_set(sum, "not_detected", json_integer(rep->n_rows - rep->violated), &ok);
    }
    report_json_set(doc, "summary", sum, &ok);
    report_json_set(doc, "status", json_string(rep->skipped ? "skipped" : "ran"), &ok);
    if (rep->skipped)
        report_json_set(doc, "skip_reason", report_json_text(rep->skip_reason), &ok);
    if (!ok) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* ---- plots (gnuplot, SVG).  Values come from MPFR and are drawn as log10
 * on log scales, so errors far below the double range (1e-1200) still
 * plot.  Every string in a script is single-quoted, where gnuplot reads
 * nothing but '' (no escapes, no substitution): no parameter value can
 * reach a command. ---- */

static void gp_string(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\'')
            fputs("''", f);
        else if (c < 0x20 || c == 0x7F)
            fputc('?', f);
        else
            fputc(c, f);
    }
    fputc('\'', f);
}

/* A row's value of a plot axis; "prec" is the working precision, the p of
 * the slack and the tolerance (a row raised above its prec axis is drawn
 * where it was decided). */
static const char *row_param(const row_t *r, const char *name)
{
    if (strcmp(name, "prec") == 0) {
        static _Thread_local char buf[32];
        snprintf(buf, sizeof buf, "%ld", (long)r->prec);
        return buf;
    }
    return params_get(&r->params, name);
}

static int parse_double(double *out, const char *s)
{
    char *end;
    if (!s || !*s)
        return 0;
    *out = strtod(s, &end);
    return *end == '\0' && isfinite(*out);
}

/* Quantity y of row r on the plot's scale (log10 when logy): 1 when it can
 * be drawn, 0 when it is NaN, infinite or (on a log scale) not positive,
 * -1 when the row does not have it. */
static int row_y(double *out, const claim_report_t *rep, const row_t *r, const char *y, int logy)
{
    mpfr_t v;
    mpfr_init2(v, 64);
    int ok = 0;
    long tenths;
    if (strcmp(y, "kappa") == 0) {
        ok = row_exact_rule(rep, r);
        mpfr_set_si(v, verdict_kappa(r->depth), MPFR_RNDN);
    } else if (strcmp(y, "slack used") == 0) {
        if (!row_exact_rule(rep, r)) {
            mpfr_clear(v);
            return -1;
        }
        ok = row_slack_tenths(&tenths, r) == 0;
        mpfr_set_si(v, ok ? tenths : 0, MPFR_RNDU);
        mpfr_div_ui(v, v, 10, MPFR_RNDU);
    } else if (strcmp(y, "error") == 0) {
        ok = 1;
        ival_get_hi(v, r->error);
    } else if (strcmp(y, "bound") == 0 && r->has_bound) {
        ok = 1;
        ival_get_hi(v, r->bound);
    } else if (strcmp(y, "ratio") == 0 && r->has_bound) {
        arb_t q;
        row_ratio(q, r);
        ok = arb_is_finite(q);
        ival_get_hi(v, q);
        arb_clear(q);
    } else {
        const column_t *c = row_find_column(r, y);
        if (c && c->is_ival) {
            ok = 1;
            ival_get_hi(v, c->iv);
        }
    }
    if (!ok && strcmp(y, "slack used") != 0) {
        mpfr_clear(v);
        return -1;
    }
    ok = ok && mpfr_number_p(v) && (!logy || mpfr_sgn(v) > 0);
    if (ok && logy)
        mpfr_log10(v, v, MPFR_RNDN);
    if (ok)
        *out = mpfr_get_d(v, MPFR_RNDN);
    mpfr_clear(v);
    return ok && isfinite(*out);
}

typedef struct {
    double *x, *y;
    int n;
    long rows, undrawn, zero_error; /* rows with an x; of them, without a y; with hi(E) = 0 */
} points_t;

/* The points of one series (every row when series_value is NULL): for each
 * x, the largest y, sorted by x. */
static void collect_points(points_t *p, const claim_report_t *rep, const plot_t *pl,
                           const char *y, const char *series_value)
{
    p->n = 0;
    p->rows = p->undrawn = p->zero_error = 0;
    for (long k = 0; k < rep->n_rows; k++) {
        const row_t *r = rep->rows + k;
        const char *sv = series_value ? row_param(r, pl->series) : NULL;
        double x, v;
        if ((series_value && (!sv || strcmp(sv, series_value) != 0)) ||
            !parse_double(&x, row_param(r, pl->x)))
            continue;
        int have = row_y(&v, rep, r, y, pl->logy);
        if (have < 0)
            continue;
        p->rows++;
        if (!have) {
            p->undrawn++;
            p->zero_error += arb_is_zero(r->error) != 0;
            continue;
        }
        int j;
        for (j = 0; j < p->n && p->x[j] != x; j++) {}
        if (j < p->n) {
            if (v > p->y[j])
                p->y[j] = v;
        } else {
            p->x[p->n] = x;
            p->y[p->n++] = v;
        }
    }
    for (int a = 1; a < p->n; a++)
        for (int b = a; b > 0 && p->x[b - 1] > p->x[b]; b--) {
            double t = p->x[b]; p->x[b] = p->x[b - 1]; p->x[b - 1] = t;
            t = p->y[b]; p->y[b] = p->y[b - 1]; p->y[b - 1] = t;
        }
}

static int same_points(const points_t *a, const points_t *b)
{
    if (a->n != b->n)
        return 0;
    for (int k = 0; k < a->n; k++)
        if (a->x[k] != b->x[k] || a->y[k] != b->y[k])
            return 0;
    return 1;
}

static void gp_block(FILE *f, const char *name, const points_t *p)
{
    fprintf(f, "$%s << EOD\n", name);
    for (int k = 0; k < p->n; k++)
        fprintf(f, "%.17g %.17g\n", p->x[k], p->y[k]);
    fputs("EOD\n", f);
}

static const char *axis_words(const char *y)
{
    return strcmp(y, "error") == 0 ? "hi(E), certified"
         : strcmp(y, "slack used") == 0 ? "bits of slack used, log2(hi(E) / (S·2^-p))"
         : strcmp(y, "kappa") == 0 ? "κ, the exact rule's limit on the slack used"
         : strcmp(y, "ratio") == 0 ? "hi(E / bound)"
         : strcmp(y, "bound") == 0 ? "hi(bound)" : y;
}

#define PLOT_MAX_SERIES 64
#define RATIO_DECADES 30 /* an E/bound plot shows this many decades below its top */
#define PLOT_MAX_MARKS 16

typedef struct {
    double x;
    char title[160];
    int color; /* 0: black; k: series k's */
} mark_t;

/* An extra column as one number (an enclosure by its lower end). */
static int column_value(double *x, const column_t *c)
{
    if (!c)
        return 0;
    if (!c->is_ival)
        return parse_double(x, c->str);
    *x = ival_lo_d(c->iv);
    return isfinite(*x);
}

/* Vertical marks: each token of pl->mark_x is a number or the name of an
 * extra column (one mark per distinct value, per series). */
static int plot_marks(mark_t *m, const claim_report_t *rep, const plot_t *pl,
                      const char *const *sv, int ns)
{
    int n = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", pl->mark_x ? pl->mark_x : "");
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t && n < PLOT_MAX_MARKS;
         t = strtok_r(NULL, ",", &save)) {
        double x;
        if (parse_double(&x, t)) {
            m[n].x = x;
            m[n].color = 0;
            snprintf(m[n++].title, sizeof m->title, "%s = %s", pl->x, t);
            continue;
        }
        if (strcmp(t, "min") == 0) {
            /* where the quantity drawn is smallest, per series, and the
             * reference line (extra_y) */
            points_t p = {0};
            p.x = xmallocarray((size_t)rep->n_rows + 1, sizeof *p.x);
            p.y = xmallocarray((size_t)rep->n_rows + 1, sizeof *p.y);
            for (int s = 0; s < (ns ? ns : 1) && n < PLOT_MAX_MARKS; s++) {
                collect_points(&p, rep, pl, pl->y, ns ? sv[s] : NULL);
                int best = -1;
                for (int j = 0; j < p.n; j++)
                    if (best < 0 || p.y[j] < p.y[best])
                        best = j;
                if (best < 0)
                    continue;
                m[n].x = p.x[best];
                m[n].color = ns ? s + 1 : 0;
                if (ns)
                    snprintf(m[n++].title, sizeof m->title, "smallest (%s=%s): %s = %.6g",
                             pl->series, sv[s], pl->x, p.x[best]);
                else
                    snprintf(m[n++].title, sizeof m->title, "smallest: %s = %.6g", pl->x,
                             p.x[best]);
            }
            if (pl->extra_y && n < PLOT_MAX_MARKS) {
                /* and where the reference line is smallest */
                collect_points(&p, rep, pl, pl->extra_y, NULL);
                int best = -1;
                for (int j = 0; j < p.n; j++)
                    if (best < 0 || p.y[j] < p.y[best])
                        best = j;
                if (best >= 0) {
                    m[n].x = p.x[best];
                    m[n].color = 0;
                    snprintf(m[n++].title, sizeof m->title, "smallest (%s): %s = %.6g",
                             pl->extra_y, pl->x, p.x[best]);
                }
            }
            free(p.x);
            free(p.y);
            continue;
        }
        for (long k = 0; k < rep->n_rows && n < PLOT_MAX_MARKS; k++) {
            const row_t *r = rep->rows + k;
            if (!column_value(&x, row_find_column(r, t)))
                continue;
            const char *s = pl->series ? row_param(r, pl->series) : NULL;
            int color = 0, seen = 0;
            for (int j = 0; j < ns && s; j++)
                if (strcmp(sv[j], s) == 0)
                    color = j + 1;
            for (int j = 0; j < n; j++)
                seen |= m[j].x == x && m[j].color == color;
            if (seen)
                continue;
            m[n].x = x;
            m[n].color = color;
            if (s)
                snprintf(m[n++].title, sizeof m->title, "%s = %.6g (%s)", t, x, s);
            else
                snprintf(m[n++].title, sizeof m->title, "%s = %.6g", t, x);
        }
    }
    return n;
}

/* The gnuplot script of one plot; *drawable is the number of data blocks
 * with points.  -1 when out of memory. */
static int plot_script(FILE *f, const claim_report_t *rep, const plot_t *pl, const char *svgname,
                       int *drawable)
{
    long n = rep->n_rows;
    points_t p = {0}, q = {0};
    p.x = malloc(sizeof(double) * (size_t)(n + 1));
    p.y = malloc(sizeof(double) * (size_t)(n + 1));
    q.x = malloc(sizeof(double) * (size_t)(n + 1));
    q.y = malloc(sizeof(double) * (size_t)(n + 1));
    if (!p.x || !p.y || !q.x || !q.y) {
        free(p.x); free(p.y); free(q.x); free(q.y);
        return -1;
    }
    fputs("set terminal svg size 860,540 dynamic enhanced font 'Helvetica,13' background "
          "'#ffffff'\n# regenerate in this directory with: gnuplot ", f);
    fprintf(f, "%s.gp\nif (!exists(\"outfile\")) outfile = ", svgname);
    gp_string(f, svgname);
    fputs("\nset output outfile\nset title ", f);
    char stem[256];
    report_stem(stem, sizeof stem, rep); /* a mutated run says so */
    char *title = text_printf("%s: %s", stem, pl->title ? pl->title : "");
    gp_string(f, title ? title : rep->claim->id);
    free(title);
    fputs(" noenhanced\nset xlabel ", f);
    gp_string(f, strcmp(pl->x, "prec") == 0 ? "working precision p (bits; a row raised above the "
                                               "p it asked for is drawn at the p that decided it)"
                                             : pl->x);
    fputs(" noenhanced\nset ylabel ", f);
    char *ylabel = text_printf("%s%s", pl->logy ? "log10 " : "", axis_words(pl->y));
    gp_string(f, ylabel ? ylabel : pl->y);
    free(ylabel);
    fprintf(f, " noenhanced\n%sset grid\nset key below\n",
            pl->logx ? "set logscale x 2\n" : "");

    /* series values in first-seen order */
    const char *sv[PLOT_MAX_SERIES];
    int ns = 0;
    for (long k = 0; k < n && ns < PLOT_MAX_SERIES; k++) {
        const char *v = pl->series ? row_param(rep->rows + k, pl->series) : "";
        int seen = 0;
        for (int j = 0; v && j < ns; j++)
            seen |= strcmp(sv[j], v) == 0;
        if (v && !seen)
            sv[ns++] = v;
    }
    /* the quantity, one block per series */
    struct {
        char spec[128], title[200];
    } plot[PLOT_MAX_SERIES * 2 + PLOT_MAX_MARKS];
    int np = 0, blocks = 0;
    long rows = 0, undrawn = 0, zero_error = 0;
    double ylo = INFINITY, yhi = -INFINITY;
    for (int s = 0; s < ns; s++) {
        char name[16];
        collect_points(&p, rep, pl, pl->y, pl->series ? sv[s] : NULL);
        rows += p.rows;
        undrawn += p.undrawn;
        zero_error += p.zero_error;
        if (!p.n)
            continue;
        snprintf(name, sizeof name, "y%d", s);
        gp_block(f, name, &p);
        for (int k = 0; k < p.n; k++) {
            ylo = fmin(ylo, p.y[k]);
            yhi = fmax(yhi, p.y[k]);
        }
        snprintf(plot[np].spec, sizeof plot[0].spec, "$%s using 1:2 with linespoints lw 2 pt 7 "
                 "ps 0.6 lc %d", name, s + 1);
        if (pl->series)
            snprintf(plot[np++].title, sizeof plot[0].title, "%s=%s", pl->series, sv[s]);
        else
            snprintf(plot[np++].title, sizeof plot[0].title, "%s", axis_words(pl->y));
        blocks++;
    }
    /* the reference: one line, or one per series where they differ */
    int per_series = 0;
    if (pl->extra_y && pl->series) {
        collect_points(&q, rep, pl, pl->extra_y, NULL);
        for (int s = 0; s < ns && !per_series; s++) {
            collect_points(&p, rep, pl, pl->extra_y, sv[s]);
            per_series = p.n && !same_points(&p, &q);
        }
    }
    for (int s = 0; pl->extra_y && s < (per_series ? ns : 1); s++) {
        char name[16];
        collect_points(&p, rep, pl, pl->extra_y, per_series ? sv[s] : NULL);
        if (!p.n)
            continue;
        snprintf(name, sizeof name, "r%d", s);
        gp_block(f, name, &p);
        for (int k = 0; k < p.n; k++) {
            ylo = fmin(ylo, p.y[k]);
            yhi = fmax(yhi, p.y[k]);
        }
        const char *what = strcmp(pl->extra_y, "kappa") == 0 ? "κ (the verdict's limit)"
                                                            : pl->extra_y;
        /* a line through one point draws nothing: mark it */
        const char *style = p.n > 1 ? "lines lw 2" : "points pt 3 ps 1.5";
        if (per_series) {
            snprintf(plot[np].spec, sizeof plot[0].spec, "$%s using 1:2 with %s lc %d dt 2",
                     name, style, s + 1);
            snprintf(plot[np++].title, sizeof plot[0].title, "%s (%s=%s)", what, pl->series, sv[s]);
        } else {
            snprintf(plot[np].spec, sizeof plot[0].spec, "$%s using 1:2 with %s "
                     "lc rgb 'black' dt 2", name, style);
            snprintf(plot[np++].title, sizeof plot[0].title, "%s", what);
        }
        blocks++;
    }
    /* vertical marks across the drawn range */
    mark_t marks[PLOT_MAX_MARKS];
    int nm = blocks ? plot_marks(marks, rep, pl, sv, pl->series ? ns : 0) : 0;
    if (strcmp(pl->y, "slack used") == 0 && blocks) {
        /* from 0, so the plot shows how much of kappa is used */
        ylo = fmin(ylo, 0);
        yhi += 0.08 * (yhi - ylo) + 0.5;
        fprintf(f, "set yrange [%.17g:%.17g]\n", ylo, yhi);
    }
    long off_scale = 0;
    if (strcmp(pl->y, "ratio") == 0 && pl->logy && yhi - ylo > RATIO_DECADES) {
        /* a near-vacuous bound makes E/bound astronomically small */
        for (int k = 0; k < ns; k++) {
            collect_points(&p, rep, pl, pl->y, pl->series ? sv[k] : NULL);
            for (int j = 0; j < p.n; j++)
                off_scale += p.y[j] < yhi - RATIO_DECADES;
        }
        ylo = yhi - RATIO_DECADES;
        fprintf(f, "set yrange [%.17g:*]\n", ylo);
    }
    if (ylo == yhi) {
        ylo -= 1;
        yhi += 1;
    }
    for (int k = 0; k < nm; k++) {
        fprintf(f, "$m%d << EOD\n%.17g %.17g\n%.17g %.17g\nEOD\n", k, marks[k].x, ylo, marks[k].x,
                yhi);
        if (marks[k].color)
            snprintf(plot[np].spec, sizeof plot[0].spec, "$m%d using 1:2 with lines lw 1.5 lc %d "
                     "dt 4", k, marks[k].color);
        else
            snprintf(plot[np].spec, sizeof plot[0].spec, "$m%d using 1:2 with lines lw 1.5 "
                     "lc rgb 'black' dt 4", k);
        snprintf(plot[np++].title, sizeof plot[0].title, "%s", marks[k].title);
    }
    /* rows that have no point say so on the plot */
    if (undrawn) {
        char *msg;
        if (zero_error == undrawn && strcmp(pl->y, "slack used") == 0)
            msg = text_printf("hi(E) = 0 exactly on %ld of %ld rows: E = 0 certified "
                              "(-inf bits, not drawn)", undrawn, rows);
        else if (zero_error == undrawn && strcmp(pl->y, "error") == 0 && pl->logy)
            msg = text_printf("hi(E) = 0 exactly on %ld of %ld rows (not drawn on a log scale)",
                              undrawn, rows);
        else
            msg = text_printf("%ld of %ld rows have no finite %s%s to draw", undrawn, rows,
                              pl->logy ? "positive " : "", axis_words(pl->y));
        if (msg) {
            fputs("set label 1 ", f);
            gp_string(f, msg);
            fputs(" at graph 0.5, graph 0.5 center front noenhanced\n", f);
        }
        free(msg);
    }
    if (off_scale) {
        fprintf(f, "set label 2 ");
        char *msg = text_printf("%ld points with E/bound below 1e-%d of the largest are off the "
                                "scale", off_scale, RATIO_DECADES);
        gp_string(f, msg ? msg : "");
        free(msg);
        fputs(" at graph 0.5, graph 0.1 center front noenhanced\n", f);
    }
    /* the plot command */
    for (int k = 0; k < np; k++) {
        fputs(k ? ", \\\n     " : "plot ", f);
        fprintf(f, "%s title ", plot[k].spec);
        gp_string(f, plot[k].title);
        fputs(" noenhanced", f);
    }
    if (np)
        fputc('\n', f);
    free(p.x); free(p.y); free(q.x); free(q.y);
    *drawable = blocks;
    return 0;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Write <svg>.gp and draw it: *drawn is 1 when the SVG was made, 0 when
 * there was nothing to draw (both files removed), -1 when gnuplot failed.
 * Returns 0 or an exit code with err. */
static int write_plot(const claim_report_t *rep, const plot_t *pl, const char *svgpath, int *drawn,
                      char *err, size_t errsz)
{
    char gp[4200], *text;
    size_t len;
    int blocks = 0;
    snprintf(gp, sizeof gp, "%s.gp", svgpath);
    *drawn = 0;
    FILE *f = membuf_open(&text, &len);
    if (!f)
        return out_of_memory(gp, err, errsz);
    int rc = plot_script(f, rep, pl, base_name(svgpath), &blocks);
    if (membuf_close(f, &text) != 0 || rc != 0) {
        free(text);
        return out_of_memory(gp, err, errsz);
    }
    if (!blocks) {
        free(text);
        outfile_remove(gp);
        outfile_remove(svgpath); /* no stale plot from an earlier run */
        return 0;
    }
    rc = report_write_file(gp, text, len, err, errsz);
    free(text);
    if (rc)
        return rc;
    /* on failure: a warning, and no plot of that name */
    *drawn = plot_render(gp, svgpath) == 0 ? 1 : -1;
    return 0;
}

static void plot_file_name(char *buf, size_t n, const char *stem, int k)
{
    if (k)
        snprintf(buf, n, "%s-%d.svg", stem, k);
    else
        snprintf(buf, n, "%s.svg", stem);
}

/* Which rules decide this report's rows: the exact rule, the bound rule. */
static void rules_in_use(int *exact, int *bound, const claim_report_t *rep)
{
    *exact = *bound = 0;
    for (long k = 0; k < rep->n_rows; k++) {
        const row_t *r = rep->rows + k;
        if (row_exact_rule(rep, r))
            *exact = 1;
        else if ((r->has_bound && !r->bound_is_floor) ||
                 (!r->has_bound && rep->claim->kind == KIND_INEQUALITY))
            *bound = 1;
    }
}

/* 1 when some row claims a floor, E >= bound. */
static int floor_in_use(const claim_report_t *rep)
{
    for (long k = 0; k < rep->n_rows; k++)
        if (rep->rows[k].has_bound && rep->rows[k].bound_is_floor)
            return 1;
    return 0;
}

static void write_md_rules(FILE *f, const claim_report_t *rep)
{
    int exact, bound;
    rules_in_use(&exact, &bound, rep);
    if (exact)
        fprintf(f, "%s **holds** when the certified enclosure of E contains 0 and hi(E) ≤ "
                   "S·2^(κ−p), S the largest output magnitude and p the working precision; "
                   "κ = %d + %d·(depth − 1) bits of slack for a construction of `depth` composed "
                   "attention layers (interval wrapping compounds per layer). It is **violated** "
                   "when the enclosure excludes 0: a certified counterexample (replay it with its "
                   "seed). Otherwise it is retried at doubled precision (cap %d bits) before it "
                   "is reported **inconclusive**.\n\n",
                bound ? "A row checked as an exact identity" : "A row",
                VERDICT_EXACT_KAPPA, VERDICT_KAPPA_PER_LAYER, PREC_CAP_DEFAULT);
    if (exact)
        fprintf(f, "A row that holds certifies E to the relative **resolution** 2^(κ−p) (relative "
                   "to S), and no finer: a break smaller than that is not seen. So the working "
                   "precision resolves the row's parameters: it is raised from the one asked (`p "
                   "asked`) to at least κ + %d + max(0, −log2 θ) over the numeric parameters θ + "
                   "⌈2·log2(e)·max |a z|⌉ over the instance's SiLU_a pre-activations z, so that "
                   "the resolution lies 2^%d below the smallest parameter-dependent term: a for "
                   "a small slope; for a large one e^(−2|a z|) (a token's output can be "
                   "e^(−|a z|) below S, its bias weight, and a break may move it by a relative "
                   "e^(−|a z|)). Parameters that need more than %d bits are refused.\n\n", VERDICT_RESOLVE_MARGIN, VERDICT_RESOLVE_MARGIN, PREC_MAX);
    if (bound)
        fprintf(f, "%s **holds** when hi(E) ≤ lo(bound), is **violated** when "
                   "lo(E) > hi(bound), and is otherwise retried at doubled precision "
                   "(cap %d bits) before it is reported **inconclusive**.\n\n",
                exact ? "A row checked against a bound" : "A row", PREC_CAP_DEFAULT);
    if (floor_in_use(rep))
        fputs("A row whose bound is a **floor** (E ≥ bound: a float run against the nearest "
              "values of its format) **holds** when lo(E) ≥ hi(bound), is **violated** when "
              "hi(E) < lo(bound) or the bound is +inf (the run produced values off the "
              "format's grid: no floor of the format holds for it), and is otherwise "
              "inconclusive.\n\n", f);
    if (bound)
        fputs("A row is **vacuous** when E ≤ bound holds but the bound is +inf or at least the "
              "trivial bound, the largest E the triangle inequality allows for that row (`trivial "
              "bound hi`, certified; lo(bound) ≥ hi(trivial)): it says nothing beyond the two "
              "outputs themselves. Vacuous rows are counted apart from holds and change no exit "
              "code.\n\n", f);
}

/* What each standard column of the rows table means, for those present. */
static void write_md_legend(FILE *f, const claim_report_t *rep)
{
    int exact, bound;
    rules_in_use(&exact, &bound, rep);
    for (long k = 0; k < rep->n_rows; k++)
        bound |= rep->rows[k].has_bound;
    fprintf(f, "- **prec**: the working precision in bits that decided the row; **p asked**: the "
               "precision the grid asked for (the `prec` axis, or the claim's start). They differ "
               "where the resolution rule or the doubling on inconclusive raised it.\n"
               "- **E lo, E hi**: the certified enclosure of E, ends rounded outward (%d "
               "significant digits here, %d in the .csv and .json).\n"
               "- **max abs hi**: a certified upper bound of the largest absolute entry of the "
               "difference whose norm is E (E itself when E is a scalar gap).\n",
            DIGITS_MD, DIGITS_FILE);
    if (exact)
        fputs("- **S**: the largest magnitude of an output entry, rounded up.\n"
              "- **κ**: the slack of the exact rule in bits (above).\n"
              "- **S·2^(κ−p)**: the tolerance of the exact rule, rounded down: the row holds "
              "when 0 is in E and hi(E) is at most this.\n"
              "- **resolution**: 2^(κ−p), the tolerance relative to S: what a row that holds "
              "certifies, and the smallest relative break it can see.\n"
              "- **slack used (bits)**: log2(hi(E) / (S·2^−p)), rounded up to 0.1: how many of "
              "the κ bits the row used; `-inf` when hi(E) = 0 exactly.\n", f);
    if (bound || floor_in_use(rep))
        fputs("- **bound lo, bound hi**: the certified enclosure of the claimed bound (or floor); "
              "**E/bound hi**: the upper end of E/bound (empty when the bound may be 0); "
              "**trivial bound hi**: the largest E the triangle inequality allows for the row "
              "(a bound at or above it is vacuous; empty where the claim has none).\n", f);
    fputs("- Other columns are the claim's own; a cell is empty where a row does not have "
          "that quantity.\n\n", f);
}

static int write_md(FILE *f, const claim_report_t *rep, const report_run_t *run,
                    const char *stem, int formats, const int *drawn)
{
    const claim_t *c = rep->claim;
    fprintf(f, "# %s — %s (%s)\n\n", c->id, c->source, claim_kind_name(c->kind));
    if (rep->mutation > 0)
        fprintf(f, "**Mutated run: `%s`** — %s. This construction is deliberately broken; "
                   "every row should be `violated`. A row that holds did not detect the break: "
                   "it is written `not detected at this resolution` (an exact row) or `not "
                   "detected` (a bound), and the run exits 3.\n\n",
                c->mutations[rep->mutation - 1][0], c->mutations[rep->mutation - 1][1]);
    fprintf(f, "**Statement.** %s\n\n**Provenance:** %s.\n\n", c->statement, c->provenance);
    fprintf(f, "## Construction and what is checked\n\n%s\n\n", c->formula);
    write_md_rules(f, rep);
    if (c->notes)
        fprintf(f, "## Not covered\n\n%s\n\n", c->notes);
    if (rep->skipped) {
        fputs("## Result\n\n**Skipped**: ", f);
        if (md_text(f, rep->skip_reason) != 0)
            return -1;
        fputs(". No row ran; nothing was checked.\n\n", f);
    } else {
        char counts[256];
        report_counts_text(counts, sizeof counts, rep);
        fprintf(f, "## Result\n\n%ld rows: **%s**.\n\n", rep->n_rows, counts);
    }
    if (c->mutations[0][0]) {
        /* a model's report is no claim of the catalogue: its run is attncheck model */
        if (run && strcmp(run->verb, "model") == 0)
            fprintf(f, "Mutations (each must come out `violated`; add `--mutate NAME` to the "
                       "command below):\n\n");
        else
            fprintf(f, "Mutations (each must come out `violated`; run `attncheck verify %s "
                       "--mutate=NAME`):\n\n", c->id);
        for (int k = 0; k < CLAIM_MAX_MUTATIONS && c->mutations[k][0]; k++)
            fprintf(f, "- `%s` — %s\n", c->mutations[k][0], c->mutations[k][1]);
        fputs("\n", f);
    }
    if (rep->summary)
        fprintf(f, "%s\n\n", rep->summary);
    if (rep->n_fits) {
        fputs("## Fits (least squares in doubles: estimates, not certified)\n\n"
              "| series | x | y | model | slope | points | comment |\n|---|---|---|---|---|---|---|\n", f);
        for (int k = 0; k < rep->n_fits; k++) {
            const fit_t *t = rep->fits + k;
            char slope[32], points[16];
            snprintf(slope, sizeof slope, "%.4f", t->slope);
            snprintf(points, sizeof points, "%d", t->points);
            const char *cells[] = {t->series, t->x, t->y, t->model, slope, points, t->comment};
            for (int col = 0; col < 7; col++)
                if (put_cell(f, cells[col], 0, col == 0) != 0)
                    return -1;
            end_line(f, 0);
        }
        fputs("\n", f);
    }
    for (int k = 0; (formats & FORMAT_SVG) && k < CLAIM_MAX_PLOTS && c->plots[k].x; k++) {
        char svg[300];
        plot_file_name(svg, sizeof svg, stem, k);
        if (drawn[k] > 0)
            fprintf(f, "![%s](%s)\n\n", c->plots[k].title ? c->plots[k].title : "plot", svg);
        else
            fprintf(f, "(No plot %s: %s.)\n\n", svg, drawn[k] < 0 ? "gnuplot could not draw it"
                                                           : "no row has a value to draw");
    }
    if (write_md_run(f, run, rep) != 0)
        return -1;
    fputs("## Rows\n\nOne row per grid point; E is the error defined under \"Construction "
          "and what is checked\".\n\n", f);
    write_md_legend(f, rep);
    return write_table(f, rep, 0);
}

int report_write_claim(const claim_report_t *rep, const report_run_t *run, const char *outdir,
                       int formats, char *err, size_t errsz)
{
    char stem[256], path[4096];
    report_stem(stem, sizeof stem, rep);
    /* plots first: the markdown links only the ones that were drawn */
    int drawn[CLAIM_MAX_PLOTS] = {0};
    for (int k = 0; (formats & FORMAT_SVG) && k < CLAIM_MAX_PLOTS && rep->claim->plots[k].x; k++) {
        char svg[300];
        plot_file_name(svg, sizeof svg, stem, k);
        snprintf(path, sizeof path, "%s/%s", outdir, svg);
        int rc = write_plot(rep, rep->claim->plots + k, path, drawn + k, err, errsz);
        if (rc)
            return rc;
    }
    struct { int flag; const char *ext; } files[] = {
        {FORMAT_MD, "md"}, {FORMAT_CSV, "csv"}, {FORMAT_JSON, "json"}};
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        if (!(formats & files[k].flag))
            continue;
        snprintf(path, sizeof path, "%s/%s.%s", outdir, stem, files[k].ext);
        char *text = NULL;
        size_t len = 0;
        if (files[k].flag == FORMAT_JSON) {
            text = report_json_dumps(json_claim(rep, run));
            len = text ? strlen(text) : 0;
        } else {
            FILE *f = membuf_open(&text, &len);
            if (f) {
                int rc = files[k].flag == FORMAT_MD ? write_md(f, rep, run, stem, formats, drawn)
                                                    : write_table(f, rep, 1);
                if (membuf_close(f, &text) != 0 || rc != 0) {
                    free(text);
                    text = NULL;
                }
            }
        }
        if (!text)
            return out_of_memory(path, err, errsz);
        int rc = report_write_file(path, text, len, err, errsz);
        free(text);
        if (rc)
            return rc;
    }
    return 0;
}

static int write_index(FILE *f, const claim_report_t *reps, int n, const report_run_t *run)
{
    fputs("# attncheck reports\n\nClaims of Huben & Morris, *Attention-Only Transformers and "
          "Implementing MLPs with Attention Heads* (arXiv:2309.08593), and the author's blog "
          "constructions, checked with certified ball arithmetic (Arb, FLINT). "
          "The paper's constructions have no LayerNorm; the model-* claims extend them to "
          "LayerNorm and biases (derived) and check them on a real trained model.\n\n"
          "| claim | source | kind | provenance | rows | holds | vacuous | violated | inconclusive "
          "| not detected (mutated) |\n"
          "|---|---|---|---|---|---|---|---|---|---|\n", f);
    long tot[6] = {0, 0, 0, 0, 0, 0};
    for (int k = 0; k < n; k++) {
        const claim_report_t *r = reps + k;
        char stem[256], *link = NULL;
        report_stem(stem, sizeof stem, r);
        link = text_printf("[%s](%s.md)", stem, stem);
        int bad = !link || put_cell(f, link, 0, 1) != 0 || put_cell(f, r->claim->source, 0, 0) ||
                  put_cell(f, claim_kind_name(r->claim->kind), 0, 0) ||
                  put_cell(f, r->claim->provenance, 0, 0);
        free(link);
        if (bad)
            return -1;
        long undetected = r->mutation > 0 ? r->n_rows - r->violated : 0;
        if (r->skipped) {
            fputs(" | skipped | | | | | ", f);
        } else {
            fprintf(f, " | %ld | %ld | %ld | %ld | %ld | ", r->n_rows, r->holds, r->vacuous,
                    r->violated, r->inconclusive);
            if (r->mutation > 0)
                fprintf(f, "%ld", undetected);
        }
        end_line(f, 0);
        tot[0] += r->n_rows;
        tot[1] += r->holds;
        tot[2] += r->vacuous;
        tot[3] += r->violated;
        tot[4] += r->inconclusive;
        tot[5] += undetected;
    }
    fprintf(f, "| **all** | | | | %ld | %ld | %ld | %ld | %ld | %ld |\n\n", tot[0], tot[1], tot[2],
            tot[3], tot[4], tot[5]);
    fputs("*vacuous*: E ≤ bound holds, but the bound is +inf or no smaller than the trivial one "
          "(the triangle inequality): counted apart from holds, it changes no exit code. *not "
          "detected*: rows of a mutated run that are not violated (the run exits 3).\n\n", f);
    int skipped = 0;
    for (int k = 0; k < n; k++)
        if (reps[k].skipped) {
            char stem[256];
            report_stem(stem, sizeof stem, reps + k);
            fprintf(f, "- **%s skipped**: ", stem);
            if (md_text(f, reps[k].skip_reason) != 0)
                return -1;
            fputs("\n", f);
            skipped = 1;
        }
    if (skipped)
        fputs("\n", f);
    return write_md_run(f, run, NULL);
}

int report_write_index(const claim_report_t *reps, int n, const report_run_t *run,
                       const char *outdir, char *err, size_t errsz)
{
    char path[4096], *text;
    size_t len;
    snprintf(path, sizeof path, "%s/index.md", outdir);
    FILE *f = membuf_open(&text, &len);
    if (!f)
        return out_of_memory(path, err, errsz);
    int rc = write_index(f, reps, n, run);
    if (membuf_close(f, &text) != 0 || rc != 0) {
        free(text);
        return out_of_memory(path, err, errsz);
    }
    rc = report_write_file(path, text, len, err, errsz);
    free(text);
    return rc;
}

int report_write_run_log(const claim_report_t *reps, int n, const report_run_t *run,
                         const char *outdir, char *err, size_t errsz)
{
    char path[4096], *text, when[64] = "";
    size_t len;
    snprintf(path, sizeof path, "%s/run.log", outdir);
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm))
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    FILE *f = membuf_open(&text, &len);
    if (!f)
        return out_of_memory(path, err, errsz);
    fprintf(f, "# attncheck run log: timings, which the reports leave out so that they are "
               "byte-identical run after run\nwritten\t%s\ncommand\tattncheck", when);
    for (int k = 0; k < run->argc; k++) {
        fputc(' ', f);
        shell_word(f, run->argv[k]);
    }
    fprintf(f, "\nattncheck\t%s\nlibraries\t", attncheck_version());
    print_libraries(f);
    if (run->shards)
        fprintf(f, "\nshards\t%ld (seconds summed over them)", run->shards);
    else
        fprintf(f, "\njobs\t%d", run->options->jobs);
    fputs("\n\nreport\trows\tholds\tvacuous\tviolated\tinconclusive\tseconds\n", f);
    double total = 0;
    for (int k = 0; k < n; k++) {
        char stem[256];
        report_stem(stem, sizeof stem, reps + k);
        if (reps[k].skipped)
            fprintf(f, "%s\tskipped\t\t\t\t\t%.3f\n", stem, reps[k].seconds);
        else
            fprintf(f, "%s\t%ld\t%ld\t%ld\t%ld\t%ld\t%.3f\n", stem, reps[k].n_rows,
                    reps[k].holds, reps[k].vacuous, reps[k].violated, reps[k].inconclusive,
                    reps[k].seconds);
        total += reps[k].seconds;
    }
    fprintf(f, "all\t\t\t\t\t\t%.3f\n", total);
    if (membuf_close(f, &text) != 0)
        return out_of_memory(path, err, errsz);
    int rc = report_write_file(path, text, len, err, errsz);
    free(text);
    return rc;
}

void report_print_summary(FILE *f, const claim_report_t *rep)
{
    char stem[256];
    report_stem(stem, sizeof stem, rep);
    if (rep->skipped) {
        fprintf(f, "%-24s %-10s skipped: %s\n", stem, claim_kind_name(rep->claim->kind),
                rep->skip_reason);
        return;
    }
    char counts[256];
    report_counts_text(counts, sizeof counts, rep);
    fprintf(f, "%-24s %-10s %5ld rows: %s  %s\n", stem, claim_kind_name(rep->claim->kind),
            rep->n_rows, counts, rep->claim->source);
    /* Per precision requested: the largest hi(E), and the row closest to
     * what its verdict compares it with, S 2^(kappa - p). */
    if (rep->n_rows && params_get(&rep->rows[0].params, "prec") && rep->claim->kind == KIND_EXACT) {
        long seen[64];
        int ns = 0;
        for (long k = 0; k < rep->n_rows; k++) {
            long p;
            if (params_get_long(&p, &rep->rows[k].params, "prec") != 0)
                continue;
            int j;
            for (j = 0; j < ns && seen[j] != p; j++) {}
            if (j == ns && ns < 64)
                seen[ns++] = p;
        }
        for (int j = 0; j < ns; j++) {
            const row_t *tight = NULL;
            long tight_margin = 0;
            mpfr_t worst;
            mpfr_init2(worst, 64);
            mpfr_set_ui(worst, 0, MPFR_RNDU);
            for (long k = 0; k < rep->n_rows; k++) {
                const row_t *r = rep->rows + k;
                long p, tenths;
                if (params_get_long(&p, &r->params, "prec") != 0 || p != seen[j])
                    continue;
                mpfr_t e;
                mpfr_init2(e, 64);
                ival_get_hi(e, r->error);
                mpfr_max(worst, worst, e, MPFR_RNDU);
                mpfr_clear(e);
                if (row_slack_tenths(&tenths, r) == 0 &&
                    (!tight || tenths - 10L * verdict_kappa(r->depth) > tight_margin)) {
                    tight = r;
                    tight_margin = tenths - 10L * verdict_kappa(r->depth);
                }
            }
            long raised = 0, top = 0;
            for (long k = 0; k < rep->n_rows; k++) {
                const row_t *r = rep->rows + k;
                if (r->prec_requested == seen[j] && r->prec > r->prec_requested) {
                    raised++;
                    top = r->prec > top ? (long)r->prec : top;
                }
            }
            char *w = text_up(worst, 3);
            fprintf(f, "    prec %5ld: max hi(E) = %s", seen[j], w ? w : "?");
            if (raised)
                fprintf(f, " (%ld rows at a raised working precision, up to %ld bits)", raised, top);
            if (tight) {
                char *e = text_hi(tight->error, 3), *t = text_tolerance(tight, 3);
                char *sl = text_slack(tight);
                fprintf(f, "; closest to its tolerance: hi(E) = %s vs S·2^(κ−p) = %s (slack used "
                           "%s of κ = %d bits)\n", e ? e : "?", t ? t : "?", sl ? sl : "?",
                        verdict_kappa(tight->depth));
                free(e);
                free(t);
                free(sl);
            } else {
                fputs(" (hi(E) = 0 exactly on every row)\n", f);
            }
            free(w);
            mpfr_clear(worst);
        }
    }
    for (long k = 0, shown = 0; rep->mutation > 0 && k < rep->n_rows && shown < 3; k++) {
        const row_t *r = rep->rows + k;
        if (r->verdict == VERDICT_VIOLATED)
            continue;
        shown++;
        fprintf(f, "    %s: seed %lu prec %ld", row_verdict_word(rep, r), r->seed, (long)r->prec);
        if (row_exact_rule(rep, r))
            fprintf(f, " (resolution 2^%ld)", (long)verdict_kappa(r->depth) - (long)r->prec);
        for (int a = 0; a < r->params.n; a++)
            if (param_is_column(r->params.name[a]))
                fprintf(f, " %s=%s", r->params.name[a], r->params.value[a]);
        fputc('\n', f);
    }
    for (long k = 0, shown = 0; k < rep->n_rows && shown < 3; k++) {
        const row_t *r = rep->rows + k;
        if (r->verdict != VERDICT_VIOLATED)
            continue;
        shown++;
        fprintf(f, "    violated: seed %lu prec %ld", r->seed, (long)r->prec);
        for (int a = 0; a < r->params.n; a++)
            if (param_is_column(r->params.name[a]))
                fprintf(f, " %s=%s", r->params.name[a], r->params.value[a]);
        char *lo = ival_lo_str(r->error, 6), *hi = ival_hi_str(r->error, 6);
        fprintf(f, "  E in [%s, %s]\n", lo, hi);
        mpfr_free_str(lo);
        mpfr_free_str(hi);
    }
}

void report_print_timing(FILE *f, const claim_report_t *rep)
{
    char stem[256];
    report_stem(stem, sizeof stem, rep);
    fprintf(f, "attncheck: progress: %s: %ld rows in %.1f s\n", stem, rep->n_rows, rep->seconds);
}

void report_print_catalogue_md(FILE *f)
{
    fputs("# Claims checked by attncheck\n\n"
          "Generated by `attncheck list --format md`; `make check` fails when this file is "
          "stale. Source: R. Huben and V. Morris, *Attention-Only Transformers and "
          "Implementing MLPs with Attention Heads*, arXiv:2309.08593 (2023), and the first "
          "author's blog code (RobertHuben/ffn_via_attention). Provenance *derived* means "
          "worked out from the abstract, theorem numbering and code, not copied from the "
          "paper: a reader holding the paper can compare the formula below with it.\n\n"
          "Conventions: row vectors; bias token at position 0 (X̂ = [[0, 1], [X, 0]]); "
          "σ(t) = 1/(1+e^−t); SiLU_a(z) = z·σ(az); logits s_ij = τ·x_i W_QK x_jᵀ (no 1/√r); "
          "masks C (causal), B (self + bias), I (self); no LayerNorm except in the model-* claims "
          "(stream [features | c | f], bias token [0, 1, 1]; see model-svtr).\n\n", f);
    for (int k = 0; claim_registry[k]; k++) {
        const claim_t *c = claim_registry[k];
        fprintf(f, "## %s — %s (%s; provenance: %s)\n\n%s\n\n%s\n\n", c->id, c->source,
                claim_kind_name(c->kind), c->provenance, c->statement, c->formula);
        if (c->mutations[0][0]) {
            fputs("Mutations:", f);
            for (int m = 0; m < CLAIM_MAX_MUTATIONS && c->mutations[m][0]; m++)
                fprintf(f, "%s `%s` (%s)", m ? ";" : "", c->mutations[m][0], c->mutations[m][1]);
            fputs(".\n\n", f);
        }
    }
}
