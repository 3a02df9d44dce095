/* A claim's .json, and the JSON helpers shared with export. */
#include <stdlib.h>
#include <string.h>
#include "report_internal.h"
#include "version.h"

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

json_t *json_claim(const claim_report_t *rep, const report_run_t *run)
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
    report_json_set(sum, "raised_after_prediction", json_integer(rep->raised), &ok);
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
