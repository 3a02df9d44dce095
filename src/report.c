/* Report writers.  Certified numbers are printed with their ends rounded
 * outward (lo down, hi up), so a printed enclosure still encloses. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "report.h"
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

/* ---- cells ---- */

static int param_is_column(const char *name)
{
    return strcmp(name, "seed") != 0 && strcmp(name, "prec") != 0;
}

/* Column names shared by md, csv: params, seed, prec, E, |dY|, [S], [bound, ratio], extras. */
static void print_ends(FILE *f, mpfi_srcptr x, int digits, const char *sep)
{
    char *lo = ival_lo_str(x, digits), *hi = ival_hi_str(x, digits);
    fprintf(f, "%s%s%s", lo, sep, hi);
    mpfr_free_str(lo);
    mpfr_free_str(hi);
}

static void print_hi(FILE *f, mpfi_srcptr x, int digits)
{
    char *hi = ival_hi_str(x, digits);
    fputs(hi, f);
    mpfr_free_str(hi);
}

/* ratio E/bound as an enclosure (upper end printed: the conservative side). */
static void row_ratio(mpfi_t q, const row_t *r)
{
    mpfi_init2(q, r->prec);
    if (mpfr_sgn(&r->bound->left) > 0)
        mpfi_div(q, r->error, r->bound);
    else
        mpfi_set_d(q, NAN);
}

/* The union of extra column names over rows, in first-seen order. */
static int extra_names(const char **names, int max, const claim_report_t *rep)
{
    int n = 0;
    for (long k = 0; k < rep->n_rows; k++)
        for (int e = 0; e < rep->rows[k].n_extra; e++) {
            int seen = 0;
            for (int j = 0; j < n; j++)
                seen |= strcmp(names[j], rep->rows[k].extra[e].name) == 0;
            if (!seen && n < max)
                names[n++] = rep->rows[k].extra[e].name;
        }
    return n;
}

static int any_bound(const claim_report_t *rep)
{
    for (long k = 0; k < rep->n_rows; k++)
        if (rep->rows[k].has_bound)
            return 1;
    return 0;
}

static void write_table(FILE *f, const claim_report_t *rep, int csv)
{
    const char *sep = csv ? "," : " | ";
    const char *xn[ROW_MAX_EXTRA * 4];
    int nx = extra_names(xn, ROW_MAX_EXTRA * 4, rep);
    int exact = rep->claim->kind == KIND_EXACT, bound = any_bound(rep);
    const row_t *r0 = rep->rows;
    int digits = csv ? DIGITS_FILE : DIGITS_MD;
    if (rep->n_rows == 0)
        return;
    if (!csv)
        fputs("| ", f);
    if (!csv)
        fputs("sweep | ", f);
    else
        fputs("sweep,", f);
    for (int a = 0; a < r0->params.n; a++)
        if (param_is_column(r0->params.name[a]))
            fprintf(f, "%s%s", r0->params.name[a], sep);
    fprintf(f, "seed%sprec%s", sep, sep);
    if (csv)
        fprintf(f, "error_lo,error_hi,error_abs_hi%s", exact ? ",scale_S" : "");
    else
        fprintf(f, "E lo (certified) | E hi (certified) | max abs hi%s", exact ? " | S" : "");
    if (bound)
        fprintf(f, csv ? ",bound_lo,bound_hi,ratio_hi" : " | bound lo | bound hi | E/bound hi");
    for (int e = 0; e < nx; e++)
        fprintf(f, "%s%s", sep, xn[e]);
    fprintf(f, "%sverdict%s\n", sep, csv ? "" : " |");
    if (!csv) {
        int cols = 1 + 2 + 3 + exact + (bound ? 3 : 0) + nx + 1;
        for (int a = 0; a < r0->params.n; a++)
            cols += param_is_column(r0->params.name[a]);
        fputs("|", f);
        for (int c = 0; c < cols; c++)
            fputs("---|", f);
        fputs("\n", f);
    }
    for (long k = 0; k < rep->n_rows; k++) {
        const row_t *r = rep->rows + k;
        if (!csv)
            fputs("| ", f);
        fprintf(f, "%s%s", r->sweep ? r->sweep : "", sep);
        for (int a = 0; a < r->params.n; a++)
            if (param_is_column(r->params.name[a]))
                fprintf(f, "%s%s", r->params.value[a], sep);
        fprintf(f, "%lu%s%ld%s", r->seed, sep, (long)r->prec, sep);
        print_ends(f, r->error, digits, sep);
        fputs(sep, f);
        print_hi(f, r->error_abs, digits);
        if (exact) {
            char *s = fr_str(r->scale, digits, MPFR_RNDU);
            fprintf(f, "%s%s", sep, s);
            mpfr_free_str(s);
        }
        if (bound) {
            fputs(sep, f);
            if (r->has_bound) {
                mpfi_t q;
                print_ends(f, r->bound, digits, sep);
                fputs(sep, f);
                row_ratio(q, r);
                print_hi(f, q, digits);
                mpfi_clear(q);
            } else {
                fprintf(f, "%s%s", sep, sep);
            }
        }
        for (int e = 0; e < nx; e++) {
            const column_t *c = row_find_column(r, xn[e]);
            fputs(sep, f);
            if (!c)
                continue;
            if (c->is_ival) {
                if (!csv && mpfr_equal_p(&c->iv->left, &c->iv->right))
                    mpfr_fprintf(f, "%.4Rg", &c->iv->left);
                else if (csv)
                    print_ends(f, c->iv, digits, ";");
                else {
                    fputs("[", f);
                    print_ends(f, c->iv, digits, ", ");
                    fputs("]", f);
                }
            } else {
                fputs(c->str, f);
            }
        }
        fprintf(f, "%s%s%s\n", sep, verdict_name(r->verdict), csv ? "" : " |");
    }
}

/* ---- JSON ---- */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void json_ival(FILE *f, mpfi_srcptr x)
{
    char *lo = ival_lo_str(x, DIGITS_FILE), *hi = ival_hi_str(x, DIGITS_FILE);
    fprintf(f, "{\"lo\":\"%s\",\"hi\":\"%s\"}", lo, hi);
    mpfr_free_str(lo);
    mpfr_free_str(hi);
}

static int is_integer_text(const char *s)
{
    if (*s == '-')
        s++;
    if (!*s || (*s == '0' && s[1]))
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

static void write_json(FILE *f, const claim_report_t *rep)
{
    const claim_t *c = rep->claim;
    fputs("{\"claim\":", f);
    json_str(f, c->id);
    fputs(",\"source\":", f);
    json_str(f, c->source);
    fprintf(f, ",\"kind\":\"%s\",\"provenance\":", claim_kind_name(c->kind));
    json_str(f, c->provenance);
    fputs(",\"statement\":", f);
    json_str(f, c->statement);
    fputs(",\"mutation\":", f);
    if (rep->mutation > 0)
        json_str(f, c->mutations[rep->mutation - 1][0]);
    else
        fputs("null", f);
    if (c->kind == KIND_EXACT)
        fprintf(f, ",\"kappa\":\"%d + %d (depth - 1)\"", VERDICT_EXACT_KAPPA,
                VERDICT_KAPPA_PER_LAYER);
    fputs(",\"rows\":[", f);
    for (long k = 0; k < rep->n_rows; k++) {
        const row_t *r = rep->rows + k;
        fputs(k ? ",\n{" : "\n{", f);
        fputs("\"sweep\":", f);
        json_str(f, r->sweep ? r->sweep : "");
        fputs(",\"params\":{", f);
        int first = 1;
        for (int a = 0; a < r->params.n; a++) {
            if (!param_is_column(r->params.name[a]))
                continue;
            fputs(first ? "" : ",", f);
            first = 0;
            json_str(f, r->params.name[a]);
            fputc(':', f);
            if (is_integer_text(r->params.value[a]))
                fputs(r->params.value[a], f);
            else
                json_str(f, r->params.value[a]);
        }
        fprintf(f, "},\"seed\":%lu,\"prec\":%ld,\"error\":", r->seed, (long)r->prec);
        json_ival(f, r->error);
        fputs(",\"error_abs\":", f);
        json_ival(f, r->error_abs);
        if (c->kind == KIND_EXACT) {
            char *s = fr_str(r->scale, DIGITS_FILE, MPFR_RNDU);
            fprintf(f, ",\"scale\":\"%s\"", s);
            mpfr_free_str(s);
        }
        if (r->has_bound) {
            mpfi_t q;
            fputs(",\"bound\":", f);
            json_ival(f, r->bound);
            row_ratio(q, r);
            if (!mpfi_nan_p(q)) {
                fputs(",\"ratio\":", f);
                json_ival(f, q);
            }
            mpfi_clear(q);
        }
        if (r->n_extra) {
            fputs(",\"extra\":{", f);
            for (int e = 0; e < r->n_extra; e++) {
                fputs(e ? "," : "", f);
                json_str(f, r->extra[e].name);
                fputc(':', f);
                if (r->extra[e].is_ival)
                    json_ival(f, r->extra[e].iv);
                else
                    json_str(f, r->extra[e].str);
            }
            fputs("}", f);
        }
        fprintf(f, ",\"verdict\":\"%s\"}", verdict_name(r->verdict));
    }
    fputs("],\n\"fits\":[", f);
    for (int k = 0; k < rep->n_fits; k++) {
        const fit_t *t = rep->fits + k;
        fputs(k ? "," : "", f);
        fputs("{\"series\":", f);
        json_str(f, t->series);
        fprintf(f, ",\"x\":\"%s\",\"y\":\"%s\",\"model\":\"%s\",\"slope\":\"%.6g\","
                   "\"intercept\":\"%.6g\",\"points\":%d,\"comment\":",
                t->x, t->y, t->model, t->slope, t->intercept, t->points);
        json_str(f, t->comment);
        fputs(",\"certified\":false}", f);
    }
    fprintf(f, "],\n\"summary\":{\"rows\":%ld,\"holds\":%ld,\"violated\":%ld,\"inconclusive\":%ld,"
               "\"seconds\":%.3f}}\n",
            rep->n_rows, rep->holds, rep->violated, rep->inconclusive, rep->seconds);
}

/* ---- plots (gnuplot, SVG).  Values are log10 of hi ends computed in MPFR,
 * so errors far below the double range (1e-1200) still plot. ---- */

static int row_y(double *out, const row_t *r, const char *y)
{
    mpfr_t v;
    mpfr_init2(v, 64);
    int ok = 0;
    if (strcmp(y, "error") == 0) {
        mpfr_set(v, &r->error->right, MPFR_RNDU);
        ok = 1;
    } else if (strcmp(y, "bound") == 0 && r->has_bound) {
        mpfr_set(v, &r->bound->right, MPFR_RNDU);
        ok = 1;
    } else if (strcmp(y, "ratio") == 0 && r->has_bound) {
        mpfi_t q;
        row_ratio(q, r);
        mpfr_set(v, &q->right, MPFR_RNDU);
        ok = !mpfi_nan_p(q);
        mpfi_clear(q);
    } else {
        const column_t *c = row_find_column(r, y);
        if (c && c->is_ival) {
            mpfr_set(v, &c->iv->right, MPFR_RNDU);
            ok = 1;
        }
    }
    if (ok && mpfr_sgn(v) > 0) {
        mpfr_log10(v, v, MPFR_RNDN);
        *out = mpfr_get_d(v, MPFR_RNDN);
    } else {
        ok = 0;
    }
    mpfr_clear(v);
    return ok;
}

static const char *row_param(const row_t *r, const char *name)
{
    if (strcmp(name, "prec") == 0) {
        static _Thread_local char buf[32];
        snprintf(buf, sizeof buf, "%ld", (long)r->prec);
        return params_get(&r->params, "prec") ? params_get(&r->params, "prec") : buf;
    }
    return params_get(&r->params, name);
}

/* Points of one series: for each x, the largest y over the other parameters. */
static int collect_series(double *xs, double *ys, int max, const claim_report_t *rep,
                          const plot_t *pl, const char *yname, const char *series_value)
{
    int n = 0;
    for (long k = 0; k < rep->n_rows; k++) {
        const row_t *r = rep->rows + k;
        const char *sv = pl->series ? row_param(r, pl->series) : NULL;
        if (pl->series && (!sv || strcmp(sv, series_value) != 0))
            continue;
        const char *xv = row_param(r, pl->x);
        double x, y;
        if (!xv || !row_y(&y, r, yname))
            continue;
        x = strtod(xv, NULL);
        int j;
        for (j = 0; j < n && xs[j] != x; j++) {}
        if (j < n) {
            if (y > ys[j])
                ys[j] = y;
        } else if (n < max) {
            xs[n] = x;
            ys[n++] = y;
        }
    }
    /* sort by x */
    for (int a = 1; a < n; a++)
        for (int b = a; b > 0 && xs[b - 1] > xs[b]; b--) {
            double t = xs[b]; xs[b] = xs[b - 1]; xs[b - 1] = t;
            t = ys[b]; ys[b] = ys[b - 1]; ys[b - 1] = t;
        }
    return n;
}

static int write_plot(const claim_report_t *rep, const plot_t *pl, const char *svgpath,
                      char *err, size_t errsz)
{
    char gp[4200];
    snprintf(gp, sizeof gp, "%s.gp", svgpath);
    atomic_file_t a;
    if (atomic_open(&a, gp) != 0) {
        snprintf(err, errsz, "cannot create '%s': %s", gp, strerror(errno));
        return 73;
    }
    FILE *f = a.f;
    fprintf(f, "set terminal svg size 860,540 dynamic enhanced font 'Helvetica,13' background '#ffffff'\n");
    /* regenerate in the report directory with: gnuplot <claim>.svg.gp (the
     * name is ours, never the user's directory: the script is gnuplot code) */
    fprintf(f, "if (!exists(\"outfile\")) outfile = '%s'\nset output outfile\n",
            strrchr(svgpath, '/') ? strrchr(svgpath, '/') + 1 : svgpath);
    fprintf(f, "set title \"%s: %s\" noenhanced\n", rep->claim->id, pl->title ? pl->title : "");
    fprintf(f, "set xlabel '%s' noenhanced\n", pl->x);
    fprintf(f, "set ylabel '%s%s' noenhanced\n", pl->logy ? "log10 " : "",
            strcmp(pl->y, "error") == 0 ? "hi(E), certified" : pl->y);
    if (pl->logx)
        fprintf(f, "set logscale x 2\n");
    fprintf(f, "set grid\nset key outside right top\n");
    /* series values in first-seen order */
    const char *sv[64];
    int ns = 0;
    for (long k = 0; k < rep->n_rows && ns < 64; k++) {
        const char *v = pl->series ? row_param(rep->rows + k, pl->series) : "";
        if (!v)
            continue;
        int seen = 0;
        for (int j = 0; j < ns; j++)
            seen |= strcmp(sv[j], v) == 0;
        if (!seen)
            sv[ns++] = v;
    }
    double *xs = xmallocarray((size_t)rep->n_rows + 1, sizeof(double));
    double *ys = xmallocarray((size_t)rep->n_rows + 1, sizeof(double));
    int blocks = 0;
    const char *qty[2] = {pl->y, pl->extra_y};
    for (int q = 0; q < 2; q++) {
        if (!qty[q])
            continue;
        for (int s = 0; s < (q ? 1 : ns); s++) {
            plot_t one = *pl;
            if (q)
                one.series = NULL; /* the second quantity: one line over all rows */
            int n = collect_series(xs, ys, (int)rep->n_rows, rep, &one, qty[q], sv[s]);
            fprintf(f, "$d%d << EOD\n", q * 64 + s);
            for (int j = 0; j < n; j++)
                fprintf(f, "%.17g %.17g\n", xs[j], pl->logy ? ys[j] : pow(10.0, ys[j]));
            fprintf(f, "EOD\n");
            blocks += n > 0;
        }
    }
    fprintf(f, "plot ");
    int first = 1;
    for (int q = 0; q < 2; q++) {
        if (!qty[q])
            continue;
        for (int s = 0; s < (q ? 1 : ns); s++) {
            if (q)
                fprintf(f, "%s$d%d using 1:2 with lines lw 2 lc rgb 'black' dt 2 title \"%s\" noenhanced",
                        first ? "" : ", \\\n     ", 64, qty[1]);
            else
                fprintf(f, "%s$d%d using 1:2 with linespoints lw 2 pt 7 ps 0.6 lc %d title \"%s%s%s\" noenhanced",
                        first ? "" : ", \\\n     ", s, s + 1, pl->series ? pl->series : "",
                        pl->series ? "=" : "", sv[s]);
            first = 0;
        }
    }
    fprintf(f, "\n");
    free(xs);
    free(ys);
    if (atomic_commit(&a) != 0) {
        snprintf(err, errsz, "cannot write '%s'", gp);
        return 74;
    }
    if (!blocks) {
        outfile_remove(gp);
        outfile_remove(svgpath); /* no stale plot from an earlier run */
        return 0;
    }
    plot_render(gp, svgpath); /* on failure: a warning, and no plot of that name */
    return 0;
}

static void plot_file_name(char *buf, size_t n, const char *stem, int k)
{
    if (k)
        snprintf(buf, n, "%s-%d.svg", stem, k);
    else
        snprintf(buf, n, "%s.svg", stem);
}

static void write_md(FILE *f, const claim_report_t *rep, const char *stem, int formats,
                     const char *outdir)
{
    const claim_t *c = rep->claim;
    fprintf(f, "# %s — %s (%s)\n\n", c->id, c->source, claim_kind_name(c->kind));
    if (rep->mutation > 0)
        fprintf(f, "**Mutated run: `%s`** — %s. This construction is deliberately broken; "
                   "every row should be `violated`.\n\n",
                c->mutations[rep->mutation - 1][0], c->mutations[rep->mutation - 1][1]);
    fprintf(f, "**Statement.** %s\n\n**Provenance:** %s.\n\n", c->statement, c->provenance);
    fprintf(f, "## Construction and what is checked\n\n%s\n\n", c->formula);
    if (c->kind == KIND_EXACT)
        fprintf(f, "A row **holds** when the certified enclosure of E contains 0 and "
                   "hi(E) <= S·2^(κ−p), with the slack κ = %d + %d·(depth − 1) for a construction "
                   "of `depth` composed attention layers (interval wrapping compounds per layer; "
                   "the column `kappa` shows it); it is **violated** when the enclosure "
                   "excludes 0 (a certified counterexample; replay it with its seed). "
                   "Inconclusive rows are retried at doubled precision (cap %d bits).\n\n",
                VERDICT_EXACT_KAPPA, VERDICT_KAPPA_PER_LAYER, PREC_CAP_DEFAULT);
    else if (c->kind == KIND_INEQUALITY)
        fprintf(f, "A row **holds** when hi(E) <= lo(bound), is **violated** when "
                   "lo(E) > hi(bound), and is otherwise retried at doubled precision "
                   "(cap %d bits) before it is reported **inconclusive**.\n\n",
                PREC_CAP_DEFAULT);
    if (c->notes)
        fprintf(f, "## Not covered\n\n%s\n\n", c->notes);
    fprintf(f, "## Result\n\n%ld rows: **%ld holds, %ld violated, %ld inconclusive** "
               "(%.1f s).\n\n",
            rep->n_rows, rep->holds, rep->violated, rep->inconclusive, rep->seconds);
    if (c->mutations[0][0]) {
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
            fprintf(f, "| %s | %s | %s | %s | %.4f | %d | %s |\n", t->series, t->x, t->y,
                    t->model, t->slope, t->points, t->comment);
        }
        fputs("\n", f);
    }
    for (int k = 0; (formats & FORMAT_SVG) && k < CLAIM_MAX_PLOTS && c->plots[k].x; k++) {
        char svg[300], path[4400];
        plot_file_name(svg, sizeof svg, stem, k);
        snprintf(path, sizeof path, "%s/%s", outdir, svg);
        if (access(path, R_OK) == 0)
            fprintf(f, "![%s](%s)\n\n", c->plots[k].title ? c->plots[k].title : "plot", svg);
        else
            fprintf(f, "(No plot %s: no row has a positive value to draw — e.g. every hi(E) is "
                       "exactly 0.)\n\n", svg);
    }
    fputs("## Rows\n\nE = max over real tokens of the 2-norm of the output difference; "
          "\"certified\" columns are enclosure ends rounded outward. `prec` is the working "
          "precision in bits that decided the row.\n\n", f);
    write_table(f, rep, 0);
}

int report_write_claim(const claim_report_t *rep, const char *outdir, int formats,
                       char *err, size_t errsz)
{
    char stem[256], path[4096];
    report_stem(stem, sizeof stem, rep);
    /* plots first: the markdown links only the ones that were drawn */
    for (int k = 0; (formats & FORMAT_SVG) && k < CLAIM_MAX_PLOTS && rep->claim->plots[k].x; k++) {
        char svg[300];
        plot_file_name(svg, sizeof svg, stem, k);
        snprintf(path, sizeof path, "%s/%s", outdir, svg);
        int rc = write_plot(rep, rep->claim->plots + k, path, err, errsz);
        if (rc)
            return rc;
    }
    struct { int flag; const char *ext; } files[] = {
        {FORMAT_MD, "md"}, {FORMAT_CSV, "csv"}, {FORMAT_JSON, "json"}};
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        if (!(formats & files[k].flag))
            continue;
        snprintf(path, sizeof path, "%s/%s.%s", outdir, stem, files[k].ext);
        atomic_file_t a;
        if (atomic_open(&a, path) != 0) {
            snprintf(err, errsz, "cannot create '%s': %s", path, strerror(errno));
            return 73;
        }
        if (files[k].flag == FORMAT_MD)
            write_md(a.f, rep, stem, formats, outdir);
        else if (files[k].flag == FORMAT_CSV)
            write_table(a.f, rep, 1);
        else
            write_json(a.f, rep);
        if (atomic_commit(&a) != 0) {
            snprintf(err, errsz, "cannot write '%s'", path);
            return 74;
        }
    }
    return 0;
}

int report_write_index(const claim_report_t *reps, int n, const char *outdir,
                       char *err, size_t errsz)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/index.md", outdir);
    atomic_file_t a;
    if (atomic_open(&a, path) != 0) {
        snprintf(err, errsz, "cannot create '%s': %s", path, strerror(errno));
        return 73;
    }
    FILE *f = a.f;
    fputs("# attncheck reports\n\nClaims of Huben & Morris, *Attention-Only Transformers and "
          "Implementing MLPs with Attention Heads* (arXiv:2309.08593), and the author's blog "
          "constructions, checked with certified interval arithmetic (MPFI over MPFR). "
          "No LayerNorm anywhere: none of the constructions covers it.\n\n"
          "| claim | source | kind | provenance | rows | holds | violated | inconclusive | seconds |\n"
          "|---|---|---|---|---|---|---|---|---|\n", f);
    long tot[4] = {0, 0, 0, 0};
    for (int k = 0; k < n; k++) {
        const claim_report_t *r = reps + k;
        char stem[256];
        report_stem(stem, sizeof stem, r);
        fprintf(f, "| [%s](%s.md) | %s | %s | %s | %ld | %ld | %ld | %ld | %.1f |\n", stem, stem,
                r->claim->source, claim_kind_name(r->claim->kind), r->claim->provenance,
                r->n_rows, r->holds, r->violated, r->inconclusive, r->seconds);
        tot[0] += r->n_rows;
        tot[1] += r->holds;
        tot[2] += r->violated;
        tot[3] += r->inconclusive;
    }
    fprintf(f, "| **all** | | | | %ld | %ld | %ld | %ld | |\n", tot[0], tot[1], tot[2], tot[3]);
    if (atomic_commit(&a) != 0) {
        snprintf(err, errsz, "cannot write '%s'", path);
        return 74;
    }
    return 0;
}

void report_print_summary(FILE *f, const claim_report_t *rep)
{
    char stem[256];
    report_stem(stem, sizeof stem, rep);
    fprintf(f, "%-24s %-10s %5ld rows: %4ld holds, %ld violated, %ld inconclusive (%5.1f s)  %s\n",
            stem, claim_kind_name(rep->claim->kind), rep->n_rows, rep->holds, rep->violated,
            rep->inconclusive, rep->seconds, rep->claim->source);
    /* The largest hi(E) per precision requested, when the grid has a prec axis. */
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
            mpfr_t worst, lim;
            mpfr_inits2(64, worst, lim, (mpfr_ptr)0);
            mpfr_set_ui(worst, 0, MPFR_RNDU);
            mpfr_set_ui(lim, 0, MPFR_RNDU);
            for (long k = 0; k < rep->n_rows; k++) {
                long p;
                if (params_get_long(&p, &rep->rows[k].params, "prec") != 0 || p != seen[j])
                    continue;
                mpfr_max(worst, worst, &rep->rows[k].error->right, MPFR_RNDU);
                mpfr_mul_2si(lim, rep->rows[k].scale, -(long)p, MPFR_RNDU);
            }
            char *w = fr_str(worst, 3, MPFR_RNDU), *l = fr_str(lim, 3, MPFR_RNDU);
            fprintf(f, "    prec %5ld: max hi(E) = %-12s (S·2^-p of the last row = %s)\n",
                    seen[j], w, l);
            mpfr_free_str(w);
            mpfr_free_str(l);
            mpfr_clears(worst, lim, (mpfr_ptr)0);
        }
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
          "masks C (causal), B (self + bias), I (self); no LayerNorm.\n\n", f);
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
