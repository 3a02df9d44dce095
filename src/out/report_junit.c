/* A claim's JUnit XML (<stem>.junit.xml) for CI: one testsuite per claim,
 * one testcase per row.  No timestamp, host or time attribute, so the file
 * is the same bytes whatever run made it (like every other report). */
#include <stdlib.h>
#include <string.h>
#include "report_internal.h"
#include "version.h"

/* Text (attr 0) or an attribute value (attr 1) as XML 1.0 reads it back:
 * & < > " ' as entities; CR, and in an attribute tab and LF, as character
 * references (an attribute value would otherwise be normalised to spaces,
 * a CR to LF); every other
 * character XML 1.0 cannot carry (C0 controls, DEL, C1 controls, U+FFFE,
 * U+FFFF, invalid UTF-8) as U+FFFD. */
static int xml_text(FILE *f, const char *s, int attr)
{
    char *t = utf8_clean(s ? s : "");
    if (!t)
        return -1;
    for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
        unsigned c = *p;
        switch (c) {
        case '&': fputs("&amp;", f); continue;
        case '<': fputs("&lt;", f); continue;
        case '>': fputs("&gt;", f); continue;
        case '"': fputs("&quot;", f); continue;
        case '\'': fputs("&apos;", f); continue;
        case '\t': fputs(attr ? "&#9;" : "\t", f); continue;
        case '\n': fputs(attr ? "&#10;" : "\n", f); continue;
        case '\r': fputs("&#13;", f); continue;
        default: break;
        }
        if (c < 0x20 || c == 0x7F || (c == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) ||
            (c == 0xEF && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF))) {
            fputs("\xEF\xBF\xBD", f);
            p += c == 0xC2 ? 1 : c == 0xEF ? 2 : 0;
            continue;
        }
        fputc((int)c, f);
    }
    free(t);
    return 0;
}

/* The testcase's name: the claim and the row's parameters, seed and the
 * precision it asked for (what identifies the row from run to run). */
static char *case_name(const claim_report_t *rep, const row_t *r)
{
    char *buf;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    fprintf(f, "%s [%s", rep->claim->id, r->sweep ? r->sweep : "");
    for (int a = 0; a < r->params.n; a++)
        if (param_is_column(r->params.name[a]))
            fprintf(f, " %s=%s", r->params.name[a], r->params.value[a]);
    fprintf(f, " seed=%lu p=%ld]", r->seed, (long)r->prec_requested);
    return membuf_close(f, &buf) == 0 ? buf : NULL;
}

/* "[lo, hi]", both ends always (rounded outward). */
static char *ends(arb_srcptr x)
{
    char *lo = text_lo(x, DIGITS_FILE), *hi = text_hi(x, DIGITS_FILE);
    char *s = lo && hi ? text_printf("[%s, %s]", lo, hi) : NULL;
    free(lo);
    free(hi);
    return s;
}

/* The certified figures of a row, one per line. */
static char *row_figures(const claim_report_t *rep, const row_t *r, const char *word)
{
    char *buf;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    char *e = ends(r->error);
    int ok = e != NULL;
    fprintf(f, "verdict: %s\nE in %s (certified enclosure, ends rounded outward)\n", word,
            e ? e : "");
    free(e);
    if (row_exact_rule(rep, r)) {
        char *tol = text_tolerance(r, DIGITS_FILE), *slack = text_slack(r);
        ok = ok && tol && slack;
        fprintf(f, "exact rule: holds when 0 is in E and hi(E) <= S 2^(kappa - p) = %s "
                "(kappa = %d); bits of slack used %s\n", tol ? tol : "",
                verdict_kappa(r->depth), slack && *slack ? slack : "unknown");
        free(tol);
        free(slack);
    }
    if (r->has_bound) {
        char *b = ends(r->bound);
        ok = ok && b;
        fprintf(f, "bound in %s (the claim: E %s bound)\n", b ? b : "",
                r->bound_is_floor ? ">=" : "<=");
        free(b);
        if (r->has_trivial) {
            char *t = ends(r->trivial);
            ok = ok && t;
            fprintf(f, "trivial bound in %s (the largest E the two outputs allow)\n", t ? t : "");
            free(t);
        }
    }
    fprintf(f, "working precision %ld bits (asked %ld), seed %lu\n", (long)r->prec,
            (long)r->prec_requested, r->seed);
    if (r->note[0])
        fprintf(f, "note: %s\n", r->note);
    if (membuf_close(f, &buf) != 0)
        return NULL;
    if (!ok) {
        free(buf);
        return NULL;
    }
    return buf;
}

typedef enum { CASE_PASS, CASE_FAILURE, CASE_ERROR, CASE_SKIPPED } case_t;

/* How CI sees a row.  A row that holds passes.  violated is a failure (a
 * certified counterexample); inconclusive an error (nothing was certified
 * either way: CI must not count it as a pass, as <skipped> would let it, nor
 * as a counterexample); vacuous is skipped (it holds but says nothing).  In
 * a mutated run the break must be detected: a violated row passes, any
 * other row that is not inconclusive is a failure ("not detected"). */
static case_t row_case(const claim_report_t *rep, const row_t *r)
{
    if (r->verdict == VERDICT_INCONCLUSIVE)
        return CASE_ERROR;
    if (rep->mutation > 0)
        return r->verdict == VERDICT_VIOLATED ? CASE_PASS : CASE_FAILURE;
    return r->verdict == VERDICT_VIOLATED ? CASE_FAILURE
         : r->verdict == VERDICT_VACUOUS  ? CASE_SKIPPED
                                          : CASE_PASS;
}

static const char *case_reason(const claim_report_t *rep, case_t k)
{
    if (k == CASE_ERROR)
        return "inconclusive: the enclosures decide neither way at the largest precision tried";
    if (k == CASE_SKIPPED)
        return "vacuous: the bound is at or above the trivial bound (or +inf), so the row "
               "holds but says nothing the two outputs did not";
    if (rep->mutation > 0)
        return "not detected: the mutated construction still holds on this row";
    return "violated: certified counterexample";
}

static void xml_attr(FILE *f, const char *name, const char *value, int *ok)
{
    fprintf(f, " %s=\"", name);
    *ok &= xml_text(f, value, 1) == 0;
    fputc('"', f);
}

static void xml_count(FILE *f, const char *name, long n) { fprintf(f, " %s=\"%ld\"", name, n); }

static int write_junit(FILE *f, const claim_report_t *rep, const report_run_t *run)
{
    const claim_t *c = rep->claim;
    long n[4] = {0};
    for (long k = 0; k < rep->n_rows; k++)
        n[row_case(rep, rep->rows + k)]++;
    long tests = rep->skipped ? 1 : rep->n_rows, skipped = rep->skipped ? 1 : n[CASE_SKIPPED];
    char stem[256];
    report_stem(stem, sizeof stem, rep);
    int ok = 1;
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites", f);
    xml_attr(f, "name", "attncheck", &ok);
    xml_count(f, "tests", tests);
    xml_count(f, "failures", n[CASE_FAILURE]);
    xml_count(f, "errors", n[CASE_ERROR]);
    xml_count(f, "skipped", skipped);
    fputs(">\n <testsuite", f);
    xml_attr(f, "name", stem, &ok);
    xml_count(f, "tests", tests);
    xml_count(f, "failures", n[CASE_FAILURE]);
    xml_count(f, "errors", n[CASE_ERROR]);
    xml_count(f, "skipped", skipped);
    fputs(">\n  <properties>\n", f);
    char *cmd = run_command(run, rep);
    ok &= cmd != NULL;
    const char *props[][2] = {{"statement", c->statement}, {"source", c->source},
                              {"kind", claim_kind_name(c->kind)},
                              {"command", cmd ? cmd : ""},
                              {"attncheck", attncheck_version()}};
    for (size_t k = 0; k < sizeof props / sizeof props[0]; k++) {
        fputs("   <property", f);
        xml_attr(f, "name", props[k][0], &ok);
        xml_attr(f, "value", props[k][1], &ok);
        fputs("/>\n", f);
    }
    free(cmd);
    fputs("  </properties>\n", f);
    char classname[300];
    snprintf(classname, sizeof classname, "attncheck.%s", stem);
    if (rep->skipped) {
        fputs("  <testcase", f);
        xml_attr(f, "classname", classname, &ok);
        xml_attr(f, "name", c->id, &ok);
        fputs(">\n   <skipped", f);
        xml_attr(f, "message", rep->skip_reason, &ok);
        fputs("/>\n  </testcase>\n", f);
    }
    for (long k = 0; k < rep->n_rows && ok; k++) {
        const row_t *r = rep->rows + k;
        case_t kind = row_case(rep, r);
        char *name = case_name(rep, r);
        const char *word = row_verdict_word(rep, r);
        char *figures = row_figures(rep, r, word);
        ok &= name && figures;
        fputs("  <testcase", f);
        xml_attr(f, "classname", classname, &ok);
        xml_attr(f, "name", name, &ok);
        if (kind == CASE_PASS) {
            /* the figures of a pass too: CI shows what was certified */
            fputs(">\n   <system-out>", f);
            ok &= xml_text(f, figures, 0) == 0;
            fputs("</system-out>\n  </testcase>\n", f);
        } else {
            static const char *const tag[] = {"", "failure", "error", "skipped"};
            fprintf(f, ">\n   <%s", tag[kind]);
            xml_attr(f, "message", case_reason(rep, kind), &ok);
            if (kind != CASE_SKIPPED)
                xml_attr(f, "type", word, &ok);
            fputs(">", f);
            ok &= xml_text(f, figures, 0) == 0;
            fprintf(f, "</%s>\n  </testcase>\n", tag[kind]);
        }
        free(name);
        free(figures);
    }
    fputs(" </testsuite>\n</testsuites>\n", f);
    return ok ? 0 : -1;
}

int report_write_junit(const claim_report_t *rep, const report_run_t *run, const char *path,
                       char *err, size_t errsz)
{
    char *text;
    size_t len;
    FILE *f = membuf_open(&text, &len);
    if (!f)
        return out_of_memory(path, err, errsz);
    int rc = write_junit(f, rep, run);
    if (membuf_close(f, &text) != 0 || rc != 0) {
        free(text);
        return out_of_memory(path, err, errsz);
    }
    rc = report_write_file(path, text, len, err, errsz);
    free(text);
    return rc;
}
