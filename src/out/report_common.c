/* Shared by the report writers: the formats, stems, text made in memory,
 * numbers as text (the one place an enclosure becomes digits: ends rounded
 * outward, lo down and hi up, so a printed enclosure still encloses), the
 * row and verdict words, text escaping, and the canonical command. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "exitcodes.h"
#include "report_internal.h"
#include "version.h"

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
        else if (strcmp(t, "junit") == 0) f |= FORMAT_JUNIT;
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

FILE *membuf_open(char **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    return open_memstream(buf, len);
}

/* Close the stream; 0, or -1 (the buffer is freed) when any write failed. */
int membuf_close(FILE *f, char **buf)
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
        snprintf(err, errsz, "cannot create '%s': %s", path, a.why);
        return EXIT_CANTCREAT;
    }
    fwrite(text, 1, len, a.f);
    if (atomic_commit(&a) != 0) {
        snprintf(err, errsz, "cannot write '%s': %s", path, a.why);
        return EXIT_IOERR;
    }
    return 0;
}

int out_of_memory(const char *path, char *err, size_t errsz)
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

char *text_lo(arb_srcptr x, int digits) { return own_mpfr_str(ival_lo_str(x, digits)); }
char *text_hi(arb_srcptr x, int digits) { return own_mpfr_str(ival_hi_str(x, digits)); }

char *text_up(mpfr_srcptr x, int digits)
{
    return own_mpfr_str(fr_str(x, digits, MPFR_RNDU));
}

static char *text_down(mpfr_srcptr x, int digits)
{
    return own_mpfr_str(fr_str(x, digits, MPFR_RNDD));
}

char *text_printf(const char *fmt, ...)
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
char *text_ends(arb_srcptr x, int digits)
{
    char *lo = text_lo(x, digits), *hi = text_hi(x, digits), *s = NULL;
    if (lo && hi)
        s = strcmp(lo, hi) == 0 ? strdup(lo) : text_printf("[%s, %s]", lo, hi);
    free(lo);
    free(hi);
    return s;
}

/* ratio E/bound as an enclosure (NaN when the bound may be 0 or less). */
void row_ratio(arb_t q, const row_t *r)
{
    arb_init(q);
    if (arb_is_positive(r->bound))
        arb_div(q, r->error, r->bound, r->prec);
    else
        arb_indeterminate(q);
}

/* ---- the exact rule, as the verdict applies it (verdict_exact_unit) ---- */

int row_exact_rule(const claim_report_t *rep, const row_t *r)
{
    return rep->claim->kind == KIND_EXACT || r->exact_identity;
}

/* The tolerance 2^kappa S 2^-p of the exact test, rounded down. */
char *text_tolerance(const row_t *r, int digits)
{
    mpfr_t u;
    mpfr_init2(u, 64);
    verdict_exact_unit(u, r->scale, r->prec);
    mpfr_mul_2si(u, u, verdict_kappa(r->depth), MPFR_RNDD); /* exact */
    char *s = text_down(u, digits);
    mpfr_clear(u);
    return s;
}


/* The word a row's verdict is written as (a mutated run's rows that hold
 * did not detect the break). */
const char *row_verdict_word(const claim_report_t *rep, const row_t *r)
{
    return verdict_word(r->verdict, rep->mutation > 0, row_exact_rule(rep, r));
}

/* Bits of slack used, log2(hi(E) / (S 2^-p)), in tenths rounded up; the
 * row holds (0 in E) while it is at most kappa.  Returns 0, or -1 when
 * hi(E) = 0 (-inf bits) or nothing is known (NaN, an infinite S). */
int row_slack_tenths(long *tenths, const row_t *r)
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

char *text_slack(const row_t *r)
{
    long t;
    if (row_slack_tenths(&t, r) == 0)
        return text_printf("%s%ld.%ld", t < 0 ? "-" : "", labs(t) / 10, labs(t) % 10);
    return strdup(arb_is_zero(r->error) ? "-inf" : "");
}

/* "H holds, V violated, I inconclusive" (and vacuous when any); a mutated
 * run: "V violated (detected), N not detected at this resolution, ...". */
void report_counts_text(char *buf, size_t n, const claim_report_t *rep)
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

int param_is_column(const char *name)
{
    return strcmp(name, "seed") != 0 && strcmp(name, "prec") != 0;
}

/* Invalid UTF-8 bytes become U+FFFD: every text file is valid UTF-8 (a
 * JSON string must be), and all formats carry the same text. */
char *utf8_clean(const char *s)
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

/* ---- the run: the command that determines the numbers, and versions ---- */

/* A word as a POSIX shell reads it back: bare when it is plain, otherwise
 * single-quoted with each ' written '\''. */
void report_shell_quote(FILE *f, const char *s)
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
        report_shell_quote(f, value);
    }
}

/* The canonical command: for one claim's report when rep is given,
 * otherwise for the whole run (index.md).  malloc'd, or NULL. */
char *run_command(const report_run_t *run, const claim_report_t *rep)
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
        report_shell_quote(f, rep->claim->base ? rep->claim->base->id : rep->claim->id);
    } else {
        for (int k = 0; k < run->n_ids; k++) {
            fputc(' ', f);
            report_shell_quote(f, run->ids[k]);
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
        report_shell_quote(f, rep->claim->mutations[rep->mutation - 1][0]);
    } else if (!rep && run->mutate) {
        fputs(" --mutate", f);
        if (run->mutate_name) {
            fputc('=', f);
            report_shell_quote(f, run->mutate_name);
        }
    }
    if (run->arith)
        shell_option(f, "--arith", run->arith);
    if (run->accumulate)
        shell_option(f, "--accumulate", run->accumulate);
    if (run->order)
        shell_option(f, "--order", run->order);
    return membuf_close(f, &buf) == 0 ? buf : NULL;
}

/* "GMP 6.2.1, MPFR 4.2.0, ..." */
void print_libraries(FILE *f)
{
    library_version_t lib[8];
    int n = attncheck_libraries(lib, 8);
    for (int k = 0; k < n; k++)
        fprintf(f, "%s%s %s", k ? ", " : "", lib[k].name, lib[k].version);
}

void report_print_libraries(FILE *f) { print_libraries(f); }
