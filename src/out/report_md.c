/* The markdown reports: a claim's .md (verdict rules, legend, rows),
 * index.md, and run.log; report_write_claim writes all of a claim's files. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "exitcodes.h"
#include "report_internal.h"
#include "version.h"
#include "xalloc.h"

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
          "Timings are on stderr and in run.log beside this file.", f);
    if (rep && run->options && run->options->n_sets > 0 && !rep->skipped) {
        /* --set replaced axes: which of the claim's sub-sweeps ran (describe.h) */
        runner_sweep_t sw[CLAIM_MAX_SWEEPS];
        int ns = runner_sweeps(sw, rep->claim, run->options), skipped = 0;
        fputs(" Sub-sweeps run:", f);
        for (int s = 0, first = 1; s < ns; s++)
            if (!sw[s].lacks) {
                fprintf(f, "%s %s (%ld rows)", first ? "" : ",", sw[s].row_label, sw[s].rows);
                first = 0;
            }
        for (int s = 0; s < ns; s++)
            if (sw[s].lacks)
                fprintf(f, "%s %s (no axis %s)", skipped++ ? "," : "; not run:", sw[s].label,
                        sw[s].lacks);
        fputs(" (`attncheck describe ", f);
        fputs(rep->claim->base ? rep->claim->base->id : rep->claim->id, f);
        fputs("` lists them).", f);
    }
    fputs("\n\n", f);
    free(cmd);
    return 0;
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
        int exact, bound;
        rules_in_use(&exact, &bound, rep);
        if (exact)
            fprintf(f, "Rows raised after prediction: %ld (the resolution rule's precision, "
                       "predicted before a row's first evaluation, was short of what the "
                       "evaluation met: the row ran again).\n\n", rep->raised);
    }
    if (c->mutations[0][0]) {
        /* a model's report is no claim of the catalogue: its run is attncheck model
         * (or exchange) */
        if (run && (strcmp(run->verb, "model") == 0 || strcmp(run->verb, "exchange") == 0))
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
            fprintf(f, "(No plot %s: %s%s.)\n\n", svg,
                    drawn[k] == -2   ? "every row drawn has one value of "
                    : drawn[k] == -3 ? "hi(E) = 0 exactly on every row, E = 0 certified"
                    : drawn[k] < 0   ? "gnuplot could not draw it"
                                     : "no row has a value to draw",
                    drawn[k] == -2 ? c->plots[k].x : "");
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
    if (formats & FORMAT_JUNIT) {
        snprintf(path, sizeof path, "%s/%s.junit.xml", outdir, stem);
        return report_write_junit(rep, run, path, err, errsz);
    }
    return 0;
}

/* ---- the index of a report directory: index.json lists every report in
 * it with the command and attncheck that made it; a run merges its reports
 * into that list (a report rerun replaces its entry, the others are kept),
 * and index.md is written from the merged list. ---- */

#define INDEX_FORMAT "attncheck report index"
static const char *const index_counts[] = {"rows", "holds", "vacuous", "violated",
                                           "inconclusive", "not_detected"};

/* One entry of this run: its report, counts, command and version. */
static json_t *index_entry(const claim_report_t *r, const report_run_t *run)
{
    char stem[256];
    report_stem(stem, sizeof stem, r);
    json_t *o = json_object();
    int ok = 1;
    char *file = text_printf("%s.md", stem), *cmd = run_command(run, r);
    report_json_set(o, "report", report_json_text(stem), &ok);
    report_json_set(o, "claim", report_json_text(r->claim->id), &ok);
    report_json_set(o, "mutation", r->mutation > 0
                    ? report_json_text(r->claim->mutations[r->mutation - 1][0]) : json_null(), &ok);
    report_json_set(o, "file", file ? report_json_text(file) : NULL, &ok);
    report_json_set(o, "source", report_json_text(r->claim->source), &ok);
    report_json_set(o, "kind", report_json_text(claim_kind_name(r->claim->kind)), &ok);
    report_json_set(o, "provenance", report_json_text(r->claim->provenance), &ok);
    if (r->skipped) {
        report_json_set(o, "skipped", report_json_text(r->skip_reason), &ok);
    } else {
        const long v[] = {r->n_rows, r->holds, r->vacuous, r->violated, r->inconclusive,
                          r->mutation > 0 ? r->n_rows - r->violated : 0};
        for (int k = 0; k < 5 + (r->mutation > 0); k++)
            report_json_set(o, index_counts[k], json_integer((json_int_t)v[k]), &ok);
    }
    report_json_set(o, "command", cmd ? report_json_text(cmd) : NULL, &ok);
    report_json_set(o, "attncheck", report_json_text(attncheck_version()), &ok);
    free(file);
    free(cmd);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* A kept entry has what index.md shows: a plain report name (no '/', not
 * hidden), its words, and counts >= 0 or the reason it was skipped. */
static int index_entry_valid(const json_t *e)
{
    static const char *const words[] = {"report", "source", "kind", "provenance", "command",
                                        "attncheck"};
    if (!json_is_object(e))
        return 0;
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
        if (!json_is_string(json_object_get(e, words[k])))
            return 0;
    const char *stem = json_string_value(json_object_get(e, "report"));
    if (!*stem || stem[0] == '.' || strchr(stem, '/') || strlen(stem) > 200)
        return 0;
    for (const char *p = stem; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return 0;
    if (json_object_get(e, "skipped"))
        return json_is_string(json_object_get(e, "skipped"));
    for (int k = 0; k < 6; k++) {
        json_t *v = json_object_get(e, index_counts[k]);
        if (k < 5 ? !json_is_integer(v) || json_integer_value(v) < 0
                  : v && (!json_is_integer(v) || json_integer_value(v) < 0))
            return 0;
    }
    return 1;
}

int report_index_read(json_t **entries, const char *outdir, char *err, size_t errsz)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/index.json", outdir);
    *entries = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) { /* a new directory, or one an older attncheck wrote */
            *entries = json_array();
            return *entries ? 0 : out_of_memory(path, err, errsz);
        }
        snprintf(err, errsz, "cannot read '%s': %s", path, strerror(errno));
        return EXIT_DATAERR;
    }
    json_error_t je;
    json_t *doc = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
    fclose(f);
    json_t *list = doc ? json_object_get(doc, "reports") : NULL;
    const char *format = doc ? json_string_value(json_object_get(doc, "format")) : NULL;
    int ok = format && strcmp(format, INDEX_FORMAT) == 0 && json_is_array(list);
    size_t i;
    json_t *e;
    json_array_foreach(ok ? list : NULL, i, e) if (!index_entry_valid(e)) ok = 0;
    if (!ok) {
        snprintf(err, errsz, "'%s' is not an attncheck report index (%s); move it away to "
                 "start a new one", path, doc ? "an entry or field is missing" : je.text);
        json_decref(doc);
        return EXIT_DATAERR;
    }
    *entries = json_incref(list);
    json_decref(doc);
    return 0;
}

/* The kept entries with this run's merged in: a report rerun replaces its
 * entry where it stood, a new one goes at the end (in this run's order). */
static int index_merge(json_t *list, const claim_report_t *reps, int n, const report_run_t *run)
{
    for (int k = 0; k < n; k++) {
        json_t *e = index_entry(reps + k, run);
        if (!e)
            return -1;
        const char *stem = json_string_value(json_object_get(e, "report"));
        size_t i, at = (size_t)-1;
        json_t *old;
        json_array_foreach(list, i, old)
            if (strcmp(json_string_value(json_object_get(old, "report")), stem) == 0)
                at = i;
        if (at != (size_t)-1 ? json_array_set_new(list, at, e) != 0
                             : json_array_append_new(list, e) != 0)
            return -1;
    }
    return 0;
}

static long entry_count(const json_t *e, int k)
{
    return (long)json_integer_value(json_object_get(e, index_counts[k]));
}

static int write_index(FILE *f, const json_t *list, const report_run_t *run)
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
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        const char *stem = json_string_value(json_object_get(e, "report"));
        char *link = text_printf("[%s](%s.md)", stem, stem);
        int bad = !link || put_cell(f, link, 0, 1) != 0 ||
                  put_cell(f, json_string_value(json_object_get(e, "source")), 0, 0) ||
                  put_cell(f, json_string_value(json_object_get(e, "kind")), 0, 0) ||
                  put_cell(f, json_string_value(json_object_get(e, "provenance")), 0, 0);
        free(link);
        if (bad)
            return -1;
        if (json_object_get(e, "skipped")) {
            fputs(" | skipped | | | | | ", f);
        } else {
            fprintf(f, " | %ld | %ld | %ld | %ld | %ld | ", entry_count(e, 0), entry_count(e, 1),
                    entry_count(e, 2), entry_count(e, 3), entry_count(e, 4));
            if (json_object_get(e, "mutation") && !json_is_null(json_object_get(e, "mutation")))
                fprintf(f, "%ld", entry_count(e, 5));
            for (int k = 0; k < 6; k++)
                tot[k] += entry_count(e, k);
        }
        end_line(f, 0);
    }
    fprintf(f, "| **all** | | | | %ld | %ld | %ld | %ld | %ld | %ld |\n\n", tot[0], tot[1], tot[2],
            tot[3], tot[4], tot[5]);
    fputs("*vacuous*: E ≤ bound holds, but the bound is +inf or no smaller than the trivial one "
          "(the triangle inequality): counted apart from holds, it changes no exit code. *not "
          "detected*: rows of a mutated run that are not violated (the run exits 3).\n\n", f);
    int skipped = 0;
    json_array_foreach(list, i, e)
        if (json_object_get(e, "skipped")) {
            fprintf(f, "- **%s skipped**: ", json_string_value(json_object_get(e, "report")));
            if (md_text(f, json_string_value(json_object_get(e, "skipped"))) != 0)
                return -1;
            fputs("\n", f);
            skipped = 1;
        }
    if (skipped)
        fputs("\n", f);
    return write_md_run(f, run, NULL);
}

/* The reports kept from earlier runs (the entries this run did not write):
 * each with the command and attncheck that made it; nothing when none. */
static int write_index_earlier(FILE *f, const json_t *list, const char *const *rerun, int n)
{
    int heading = 0;
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        const char *stem = json_string_value(json_object_get(e, "report"));
        int mine = 0;
        for (int k = 0; k < n && !mine; k++)
            mine = strcmp(rerun[k], stem) == 0;
        if (mine)
            continue;
        if (!heading)
            fputs("## Earlier runs\n\nReports in this directory from earlier runs, kept "
                  "(a rerun of a report replaces it):\n\n", f);
        heading = 1;
        fputs("- ", f);
        if (md_text(f, stem) != 0)
            return -1;
        fputs(": made by ", f);
        md_code(f, json_string_value(json_object_get(e, "command")));
        fputs(" with attncheck ", f);
        if (md_text(f, json_string_value(json_object_get(e, "attncheck"))) != 0)
            return -1;
        fputs("\n", f);
    }
    if (heading)
        fputs("\n", f);
    return 0;
}

int report_write_index(const claim_report_t *reps, int n, const report_run_t *run,
                       const char *outdir, char *err, size_t errsz)
{
    char path[4096], *text = NULL, **stems = NULL;
    size_t len;
    json_t *list = NULL;
    int rc = report_index_read(&list, outdir, err, errsz);
    if (rc)
        return rc;
    snprintf(path, sizeof path, "%s/index.json", outdir);
    json_t *doc = json_object();
    int ok = doc != NULL && index_merge(list, reps, n, run) == 0;
    report_json_set(doc, "format", json_string(INDEX_FORMAT), &ok);
    report_json_set(doc, "reports", json_incref(list), &ok);
    text = ok ? report_json_dumps(doc) : (json_decref(doc), NULL);
    if (!text)
        rc = out_of_memory(path, err, errsz);
    else
        rc = report_write_file(path, text, strlen(text), err, errsz);
    free(text);
    text = NULL;
    if (rc)
        goto done;

    snprintf(path, sizeof path, "%s/index.md", outdir);
    stems = xcalloc((size_t)(n ? n : 1), sizeof *stems);
    for (int k = 0; k < n; k++) {
        stems[k] = xmalloc(256);
        report_stem(stems[k], 256, reps + k);
    }
    FILE *f = membuf_open(&text, &len);
    if (!f) {
        rc = out_of_memory(path, err, errsz);
        goto done;
    }
    int bad = write_index(f, list, run) != 0 ||
              write_index_earlier(f, list, (const char *const *)stems, n) != 0;
    if (membuf_close(f, &text) != 0 || bad)
        rc = out_of_memory(path, err, errsz);
    else
        rc = report_write_file(path, text, len, err, errsz);
done:
    for (int k = 0; stems && k < n; k++)
        free(stems[k]);
    free(stems);
    free(text);
    json_decref(list);
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
        report_shell_quote(f, run->argv[k]);
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
