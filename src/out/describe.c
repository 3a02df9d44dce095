/* attncheck describe and --dry-run (describe.h). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "describe.h"
#include "report.h"

const char describe_set_rule[] =
    "A claim's grid is the union of its sub-sweeps, each the product of its axes. "
    "--set NAME=V1,V2,... replaces axis NAME in every sub-sweep that has it, and a sub-sweep "
    "without NAME does not run; seed and prec (also --seed, --prec) apply to every sub-sweep "
    "(a sub-sweep without them runs seed 1 and starts at the claim's precision). "
    "Several --set multiply within each sub-sweep. Rows whose grid is the claim's own "
    "(\"quick\", \"full\") are labelled \"custom\" once --set changed it; a report's \"Run\" "
    "section names the sub-sweeps that ran.";

static long count_values(const char *v)
{
    long n = 1;
    for (; *v; v++)
        n += *v == ',';
    return n;
}

static long add_saturating(long a, long b)
{
    return b > LONG_MAX - a ? LONG_MAX : a + b;
}

static int axis_index(const runner_sweep_t *s, const char *name)
{
    for (int a = 0; a < s->n_axes; a++)
        if (strcmp(s->name[a], name) == 0)
            return a;
    return -1;
}

static int is_universal(const char *name)
{
    return strcmp(name, "seed") == 0 || strcmp(name, "prec") == 0;
}

/* Rows one value of `name` gives when --set alone (its sub-sweeps'
 * other axes at their defaults), and the sub-sweeps it runs in. */
static long rows_per_value(char *where, size_t n, const runner_sweep_t *sw, int ns,
                           const char *name)
{
    long rows = 0;
    size_t len = 0;
    where[0] = '\0';
    for (int s = 0; s < ns; s++) {
        int a = axis_index(sw + s, name);
        if (a < 0 && !is_universal(name))
            continue;
        long per = sw[s].rows;
        if (a >= 0 && per != LONG_MAX)
            per /= count_values(sw[s].values[a]);
        rows = add_saturating(rows, per);
        if (len < n)
            len += (size_t)snprintf(where + len, n - len, "%s%s", len ? ", " : "", sw[s].label);
    }
    return rows;
}

static long grid_total(const runner_sweep_t *sw, int ns)
{
    long t = 0;
    for (int s = 0; s < ns; s++)
        t = add_saturating(t, sw[s].rows);
    return t;
}

/* One sub-sweep: label, rows, axes (those the run set marked with '*'). */
static void print_sweep(FILE *f, const runner_sweep_t *s)
{
    if (s->lacks) {
        fprintf(f, "  %-14s not run (no axis %s)\n", s->label, s->lacks);
        return;
    }
    fprintf(f, "  %-14s %6ld rows ", s->label, s->rows);
    if (strcmp(s->row_label, s->label) != 0)
        fprintf(f, "(labelled %s) ", s->row_label);
    for (int a = 0; a < s->n_axes; a++)
        fprintf(f, " %s%s=%s", s->changed[a] ? "*" : "", s->name[a], s->values[a]);
    fputc('\n', f);
}

static void grid_options(run_options_t *o, int full)
{
    run_options_default(o);
    o->full = full;
}

void describe_print(FILE *f, const claim_t *c)
{
    runner_sweep_t sw[2][CLAIM_MAX_SWEEPS];
    int ns[2];
    for (int g = 0; g < 2; g++) {
        run_options_t o;
        grid_options(&o, g);
        ns[g] = runner_sweeps(sw[g], c, &o);
    }
    char names[400];
    runner_param_names(names, sizeof names, c, 1);
    fprintf(f, "%s: %s (%s, %s)\n  %s\n\n", c->id, c->source, claim_kind_name(c->kind),
            c->provenance, c->statement);
    fprintf(f, "Parameters (--set NAME=V1,V2,...; --set NAME alone with k values runs k times "
               "the rows per value):\n");
    for (const char *p = names; *p;) {
        size_t len = strcspn(p, ",");
        char name[64], where[2][300];
        snprintf(name, sizeof name, "%.*s", (int)len, p);
        p += len + (p[len] == ',');
        p += *p == ' ';
        long per[2];
        for (int g = 0; g < 2; g++)
            per[g] = rows_per_value(where[g], sizeof where[g], sw[g], ns[g], name);
        fprintf(f, "  %-12s quick: %ld rows per value (%s)", name, per[0],
                per[0] ? where[0] : "in no sub-sweep of this grid");
        if (c->full[0].label)
            fprintf(f, "; full: %ld (%s)", per[1], per[1] ? where[1] : "in no sub-sweep");
        fputc('\n', f);
    }
    for (int g = 0; g < 2; g++) {
        if (g == 1 && !c->full[0].label) {
            fputs("\nfull grid (--full): the quick grid\n", f);
            break;
        }
        fprintf(f, "\n%s grid (%s): %ld rows in %d sub-sweep%s\n", g ? "full" : "quick",
                g ? "--full" : "the default", grid_total(sw[g], ns[g]), ns[g],
                ns[g] == 1 ? "" : "s");
        for (int s = 0; s < ns[g]; s++)
            print_sweep(f, sw[g] + s);
    }
    fprintf(f, "\n%s\n", describe_set_rule);
    if (c->mutations[0][0]) {
        fputs("\nMutations (--mutate=NAME; each must come out violated):\n", f);
        for (int m = 0; m < CLAIM_MAX_MUTATIONS && c->mutations[m][0]; m++)
            fprintf(f, "  %-18s %s\n", c->mutations[m][0], c->mutations[m][1]);
    }
}

static json_t *values_json(const char *v, int *ok)
{
    json_t *vals = json_array();
    for (; *ok && *v;) {
        size_t len = strcspn(v, ",");
        report_json_push(vals, json_stringn(v, len), ok);
        v += len + (v[len] == ',');
    }
    return vals;
}

static json_t *grid_json(const runner_sweep_t *sw, int ns, int *ok)
{
    json_t *g = json_object(), *list = json_array();
    report_json_set(g, "rows", json_integer(grid_total(sw, ns)), ok);
    for (int s = 0; *ok && s < ns; s++) {
        json_t *o = json_object(), *axes = json_array();
        report_json_set(o, "label", report_json_text(sw[s].label), ok);
        report_json_set(o, "rows", json_integer(sw[s].rows), ok);
        for (int a = 0; *ok && a < sw[s].n_axes; a++) {
            json_t *ax = json_object();
            report_json_set(ax, "name", report_json_text(sw[s].name[a]), ok);
            report_json_set(ax, "values", values_json(sw[s].values[a], ok), ok);
            report_json_push(axes, ax, ok);
        }
        report_json_set(o, "axes", axes, ok);
        report_json_push(list, o, ok);
    }
    report_json_set(g, "sweeps", list, ok);
    return g;
}

char *describe_json(const claim_t *c)
{
    runner_sweep_t sw[2][CLAIM_MAX_SWEEPS];
    int ns[2], ok = 1;
    for (int g = 0; g < 2; g++) {
        run_options_t o;
        grid_options(&o, g);
        ns[g] = runner_sweeps(sw[g], c, &o);
    }
    json_t *doc = json_object(), *params = json_array(), *grids = json_object(),
           *muts = json_array();
    report_json_set(doc, "id", report_json_text(c->id), &ok);
    report_json_set(doc, "source", report_json_text(c->source), &ok);
    report_json_set(doc, "kind", report_json_text(claim_kind_name(c->kind)), &ok);
    report_json_set(doc, "provenance", report_json_text(c->provenance), &ok);
    report_json_set(doc, "statement", report_json_text(c->statement), &ok);
    char names[400];
    runner_param_names(names, sizeof names, c, 1);
    for (const char *p = names; ok && *p;) {
        size_t len = strcspn(p, ",");
        char name[64], where[300];
        snprintf(name, sizeof name, "%.*s", (int)len, p);
        p += len + (p[len] == ',');
        p += *p == ' ';
        json_t *o = json_object(), *per = json_object();
        report_json_set(o, "name", report_json_text(name), &ok);
        for (int g = 0; g < 2; g++) {
            json_t *one = json_object(), *in = json_array();
            long rows = rows_per_value(where, sizeof where, sw[g], ns[g], name);
            report_json_set(one, "rows_per_value", json_integer(rows), &ok);
            for (int s = 0; s < ns[g]; s++)
                if (axis_index(sw[g] + s, name) >= 0 || is_universal(name))
                    report_json_push(in, report_json_text(sw[g][s].label), &ok);
            report_json_set(one, "sweeps", in, &ok);
            report_json_set(per, g ? "full" : "quick", one, &ok);
        }
        report_json_set(o, "grids", per, &ok);
        report_json_push(params, o, &ok);
    }
    report_json_set(doc, "parameters", params, &ok);
    report_json_set(grids, "quick", grid_json(sw[0], ns[0], &ok), &ok);
    report_json_set(grids, "full", grid_json(sw[1], ns[1], &ok), &ok);
    report_json_set(doc, "grids", grids, &ok);
    report_json_set(doc, "set_rule", report_json_text(describe_set_rule), &ok);
    for (int m = 0; ok && m < CLAIM_MAX_MUTATIONS && c->mutations[m][0]; m++) {
        json_t *mu = json_object();
        report_json_set(mu, "name", report_json_text(c->mutations[m][0]), &ok);
        report_json_set(mu, "breaks", report_json_text(c->mutations[m][1]), &ok);
        report_json_push(muts, mu, &ok);
    }
    report_json_set(doc, "mutations", muts, &ok);
    if (!ok) {
        json_decref(doc);
        return NULL;
    }
    return report_json_dumps(doc);
}

void describe_dry_run(FILE *f, const claim_t *const *claims, const int *mutations, int n,
                      const run_options_t *o)
{
    for (int k = 0; k < n; k++) {
        const claim_t *c = claims[k];
        runner_sweep_t sw[CLAIM_MAX_SWEEPS];
        int ns = runner_sweeps(sw, c, o);
        long total = grid_total(sw, ns);
        fprintf(f, "%s%s%s: %ld rows", c->id, mutations[k] ? " --mutate=" : "",
                mutations[k] ? c->mutations[mutations[k] - 1][0] : "", total);
        if (o->shard_count > 0)
            fprintf(f, " (shard %ld/%ld runs %ld)", o->shard_index, o->shard_count,
                    runner_shard_rows(total, o));
        fputc('\n', f);
        for (int s = 0; s < ns; s++)
            print_sweep(f, sw + s);
    }
    long rows;
    double peak;
    runner_estimate(&rows, &peak, claims, n, o);
    char mem[32], lim[32];
    runner_format_bytes(lim, sizeof lim, o->max_memory);
    if (peak < 0) {
        fprintf(f, "dry run: %ld rows in all; peak memory not estimated (over ten million rows)"
                "\n", rows);
        return;
    }
    runner_format_bytes(mem, sizeof mem, peak);
    fprintf(f, "dry run: %ld rows in all (--max-rows %ld), estimated peak memory %s (--max-memory "
               "%s, --jobs %d); no time estimate: a row's cost is known only once it runs. "
               "Nothing computed.\n",
            rows, o->max_rows, mem, lim, o->jobs);
}
