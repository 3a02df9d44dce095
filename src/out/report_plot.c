/* Plots: a gnuplot script per plot of a claim, drawn to SVG. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "report_internal.h"
#include "xalloc.h"

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

/* Every point of a is a point of b (same x, same y): a series whose reference
 * agrees with the reference over all rows wherever it has one. */
static int points_within(const points_t *a, const points_t *b)
{
    for (int k = 0, j = 0; k < a->n; k++) {
        while (j < b->n && b->x[j] < a->x[k])
            j++;
        if (j == b->n || b->x[j] != a->x[k] || b->y[j] != a->y[k])
            return 0;
    }
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
    /* the reference: one line, or one per series where some series' differs
     * (not merely where a series has fewer x, as rows raised to other p do) */
    int per_series = 0;
    if (pl->extra_y && pl->series) {
        collect_points(&q, rep, pl, pl->extra_y, NULL);
        for (int s = 0; s < ns && !per_series; s++) {
            collect_points(&p, rep, pl, pl->extra_y, sv[s]);
            per_series = p.n && !points_within(&p, &q);
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
int write_plot(const claim_report_t *rep, const plot_t *pl, const char *svgpath, int *drawn,
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

void plot_file_name(char *buf, size_t n, const char *stem, int k)
{
    if (k)
        snprintf(buf, n, "%s-%d.svg", stem, k);
    else
        snprintf(buf, n, "%s.svg", stem);
}
