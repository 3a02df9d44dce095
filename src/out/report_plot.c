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
 * -1 when the row does not have it.  A number stands for itself (a
 * reference line at that value). */
static int row_y(double *out, const claim_report_t *rep, const row_t *r, const char *y, int logy)
{
    mpfr_t v;
    mpfr_init2(v, 64);
    int ok = 0;
    long tenths;
    double constant;
    if (parse_double(&constant, y)) {
        ok = 1;
        mpfr_set_d(v, constant, MPFR_RNDN);
    } else if (strcmp(y, "kappa") == 0) {
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

#define PLOT_MAX_SERIES 64
#define PLOT_MAX_CATS 64

/* How the rows map to the plot: the x axis (numeric, or categories in
 * first-seen order when some row's x is not a number) and, when the rows
 * at one point have different references, each row's y relative to its
 * own reference. */
typedef struct {
    int categorical, ncat;
    const char *cat[PLOT_MAX_CATS];
    const char *per_row_ref; /* draw y relative to this quantity, row by row (or NULL) */
} xaxis_t;

static int row_x(double *x, const xaxis_t *ax, const plot_t *pl, const row_t *r)
{
    const char *v = row_param(r, pl->x);
    if (!ax->categorical)
        return parse_double(x, v);
    for (int k = 0; v && k < ax->ncat; k++)
        if (strcmp(ax->cat[k], v) == 0) {
            *x = k;
            return 1;
        }
    return 0;
}

/* y of a row as drawn: itself, or relative to the row's own reference
 * (log10 y - log10 ref on a log scale; y - ref for kappa, in bits; else
 * y / ref).  Returns as row_y. */
static int row_drawn(double *out, const claim_report_t *rep, const row_t *r, const plot_t *pl,
                     const xaxis_t *ax, const char *y)
{
    int have = row_y(out, rep, r, y, pl->logy);
    if (have <= 0 || !ax->per_row_ref || strcmp(y, pl->y) != 0)
        return have;
    double ref;
    int got = row_y(&ref, rep, r, ax->per_row_ref, pl->logy);
    if (got < 0)
        return -1;
    if (!got || (!pl->logy && strcmp(ax->per_row_ref, "kappa") != 0 && ref == 0))
        return 0;
    *out = pl->logy || strcmp(ax->per_row_ref, "kappa") == 0 ? *out - ref : *out / ref;
    return isfinite(*out);
}

typedef struct {
    double *x, *y;
    int n;
    long rows, undrawn, zero_error; /* rows with an x; of them, without a y; with hi(E) = 0 */
} points_t;

/* The points of one series (every row when series_value is NULL): for each
 * x, the largest y, sorted by x. */
static void collect_points(points_t *p, const claim_report_t *rep, const plot_t *pl,
                           const xaxis_t *ax, const char *y, const char *series_value)
{
    p->n = 0;
    p->rows = p->undrawn = p->zero_error = 0;
    for (long k = 0; k < rep->n_rows; k++) {
        const row_t *r = rep->rows + k;
        const char *sv = series_value ? row_param(r, pl->series) : NULL;
        double x, v;
        if ((series_value && (!sv || strcmp(sv, series_value) != 0)) || !row_x(&x, ax, pl, r))
            continue;
        int have = row_drawn(&v, rep, r, pl, ax, y);
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

typedef struct {
    int series;
    double x, ref;
    int has_ref;
} cell_t;

static int cell_cmp(const void *pa, const void *pb)
{
    const cell_t *a = pa, *b = pb;
    if (a->series != b->series)
        return a->series < b->series ? -1 : 1;
    if (a->x != b->x)
        return a->x < b->x ? -1 : 1;
    if (a->has_ref != b->has_ref)
        return a->has_ref < b->has_ref ? -1 : 1;
    return a->ref < b->ref ? -1 : a->ref > b->ref;
}

/* 1 when two rows drawn at one point (series and x) have different
 * references (one of them none): a reference line through that point
 * would compare the largest y with another row's reference.  -1 when out
 * of memory. */
static int refs_mixed(const claim_report_t *rep, const plot_t *pl, const xaxis_t *ax,
                      const char *const *sv, int ns)
{
    if (!pl->extra_y || parse_double(&(double){0}, pl->extra_y))
        return 0;
    cell_t *c = malloc(sizeof *c * (size_t)(rep->n_rows + 1));
    if (!c)
        return -1;
    long n = 0;
    for (long k = 0; k < rep->n_rows; k++) {
        const row_t *r = rep->rows + k;
        double x, v;
        if (!row_x(&x, ax, pl, r) || row_y(&v, rep, r, pl->y, pl->logy) <= 0)
            continue;
        int s = 0;
        const char *v_s = pl->series ? row_param(r, pl->series) : NULL;
        for (int j = 0; v_s && j < ns; j++)
            if (strcmp(sv[j], v_s) == 0)
                s = j;
        c[n] = (cell_t){.series = s, .x = x};
        c[n].has_ref = row_y(&c[n].ref, rep, r, pl->extra_y, pl->logy) > 0;
        if (!c[n].has_ref)
            c[n].ref = 0;
        n++;
    }
    qsort(c, (size_t)n, sizeof *c, cell_cmp);
    int mixed = 0;
    for (long k = 1; k < n && !mixed; k++)
        mixed = c[k].series == c[k - 1].series && c[k].x == c[k - 1].x &&
                (c[k].has_ref != c[k - 1].has_ref || c[k].ref != c[k - 1].ref);
    free(c);
    return mixed;
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
static int plot_marks(mark_t *m, const claim_report_t *rep, const plot_t *pl, const xaxis_t *ax,
                      const char *const *sv, int ns)
{
    int n = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", pl->mark_x ? pl->mark_x : "");
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t && n < PLOT_MAX_MARKS;
         t = strtok_r(NULL, ",", &save)) {
        double x;
        if (ax->categorical) /* marks are positions on a numeric axis */
            break;
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
                collect_points(&p, rep, pl, ax, pl->y, ns ? sv[s] : NULL);
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
            if (pl->extra_y && !ax->per_row_ref && n < PLOT_MAX_MARKS) {
                /* and where the reference line is smallest */
                collect_points(&p, rep, pl, ax, pl->extra_y, NULL);
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

/* What one panel draws. */
typedef struct {
    int blocks;   /* data blocks with points */
    int xs;       /* distinct x among the points of the quantity */
    long rows, zero_error; /* rows with an x and the quantity; of them, hi(E) = 0 */
} panel_t;

/* One panel of a plot: its title, labels, data blocks (named with prefix)
 * and plot command.  -1 when out of memory. */
static int plot_panel(FILE *f, const claim_report_t *rep, const plot_t *pl, char prefix,
                      const char *title, panel_t *out)
{
    long n = rep->n_rows;
    points_t p = {0}, q = {0};
    p.x = malloc(sizeof(double) * (size_t)(n + 1));
    p.y = malloc(sizeof(double) * (size_t)(n + 1));
    q.x = malloc(sizeof(double) * (size_t)(n + 1));
    q.y = malloc(sizeof(double) * (size_t)(n + 1));
    double *xs = malloc(sizeof(double) * (size_t)(n + 1));
    if (!p.x || !p.y || !q.x || !q.y || !xs) {
        free(p.x); free(p.y); free(q.x); free(q.y); free(xs);
        return -1;
    }
    /* the x axis: categories when some row's x is not a number */
    xaxis_t ax = {0};
    for (long k = 0; k < n; k++) {
        double x;
        const char *v = row_param(rep->rows + k, pl->x);
        if (v && !parse_double(&x, v))
            ax.categorical = 1;
    }
    for (long k = 0; ax.categorical && k < n && ax.ncat < PLOT_MAX_CATS; k++) {
        const char *v = row_param(rep->rows + k, pl->x);
        int seen = 0;
        for (int j = 0; v && j < ax.ncat; j++)
            seen |= strcmp(ax.cat[j], v) == 0;
        if (v && !seen)
            ax.cat[ax.ncat++] = v;
    }
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
    /* rows at one point with different references: each row against its own */
    int mixed = refs_mixed(rep, pl, &ax, sv, ns);
    if (mixed < 0) {
        free(p.x); free(p.y); free(q.x); free(q.y); free(xs);
        return -1;
    }
    if (mixed)
        ax.per_row_ref = pl->extra_y;
    double level;
    char ref_buf[160];
    const char *ref_name = !pl->extra_y ? NULL
                         : strcmp(pl->extra_y, "kappa") == 0 ? "κ (the verdict's limit)"
                                                             : pl->extra_y;
    if (pl->extra_y && parse_double(&level, pl->extra_y)) {
        snprintf(ref_buf, sizeof ref_buf, "%s = %s", axis_words(pl->y), pl->extra_y);
        ref_name = ref_buf;
    }

    fputs("set title ", f);
    char *t = mixed ? text_printf("%s, as each row against its own %s", title, pl->extra_y)
                    : strdup(title);
    gp_string(f, t ? t : rep->claim->id);
    free(t);
    fputs(" noenhanced\nset xlabel ", f);
    gp_string(f, strcmp(pl->x, "prec") == 0 ? "working precision p (bits; a row raised above the "
                                               "p it asked for is drawn at the p that decided it)"
                                             : pl->x);
    fputs(" noenhanced\nset ylabel ", f);
    char *ylabel = !mixed ? text_printf("%s%s", pl->logy ? "log10 " : "", axis_words(pl->y))
                 : pl->logy ? text_printf("log10 (%s / %s), per row", axis_words(pl->y), pl->extra_y)
                 : strcmp(pl->extra_y, "kappa") == 0
                     ? text_printf("%s - κ, per row", axis_words(pl->y))
                     : text_printf("%s / %s, per row", axis_words(pl->y), pl->extra_y);
    gp_string(f, ylabel ? ylabel : pl->y);
    free(ylabel);
    fputs(" noenhanced\n", f);
    if (ax.categorical) {
        fputs("set xtics (", f);
        for (int k = 0; k < ax.ncat; k++) {
            fputs(k ? ", " : "", f);
            gp_string(f, ax.cat[k]);
            fprintf(f, " %d", k);
        }
        fprintf(f, ") noenhanced\nset xrange [-0.5:%g]\n", ax.ncat - 0.5);
    } else {
        fputs("set xtics autofreq\nset xrange [*:*]\n", f);
    }
    fprintf(f, "%sset grid\nset key below\n", pl->logx && !ax.categorical ? "set logscale x 2\n"
                                                                          : "unset logscale x\n");

    /* the quantity, one block per series */
    struct {
        char spec[128], title[200];
    } plot[PLOT_MAX_SERIES * 2 + PLOT_MAX_MARKS + 2];
    int np = 0, blocks = 0, nxs = 0;
    long rows = 0, undrawn = 0, zero_error = 0;
    double ylo = INFINITY, yhi = -INFINITY, xlo = INFINITY, xhi = -INFINITY;
    for (int s = 0; s < ns; s++) {
        char name[16];
        collect_points(&p, rep, pl, &ax, pl->y, pl->series ? sv[s] : NULL);
        rows += p.rows;
        undrawn += p.undrawn;
        zero_error += p.zero_error;
        if (!p.n)
            continue;
        snprintf(name, sizeof name, "%cy%d", prefix, s);
        gp_block(f, name, &p);
        for (int k = 0; k < p.n; k++) {
            ylo = fmin(ylo, p.y[k]);
            yhi = fmax(yhi, p.y[k]);
            xlo = fmin(xlo, p.x[k]);
            xhi = fmax(xhi, p.x[k]);
            int seen = 0;
            for (int j = 0; j < nxs && !seen; j++)
                seen = xs[j] == p.x[k];
            if (!seen)
                xs[nxs++] = p.x[k];
        }
        /* categories are not a continuum: points only */
        snprintf(plot[np].spec, sizeof plot[0].spec, ax.categorical
                 ? "$%s using 1:2 with points pt 7 ps 1.2 lc %d"
                 : "$%s using 1:2 with linespoints lw 2 pt 7 ps 0.6 lc %d", name, s + 1);
        if (pl->series)
            snprintf(plot[np++].title, sizeof plot[0].title, "%s=%s", pl->series, sv[s]);
        else
            snprintf(plot[np++].title, sizeof plot[0].title, "%s", axis_words(pl->y));
        blocks++;
    }
    /* the reference: one line, or one per series where some series' differs
     * (not merely where a series has fewer x, as rows raised to other p do);
     * rows drawn relative to their own: one line where they equal it */
    int per_series = 0;
    if (pl->extra_y && pl->series && !mixed) {
        collect_points(&q, rep, pl, &ax, pl->extra_y, NULL);
        for (int s = 0; s < ns && !per_series; s++) {
            collect_points(&p, rep, pl, &ax, pl->extra_y, sv[s]);
            per_series = p.n && !points_within(&p, &q);
        }
    }
    if (mixed && blocks) {
        double one = pl->logy || strcmp(pl->extra_y, "kappa") == 0 ? 0 : 1;
        double lo = ax.categorical ? -0.5 : xlo, hi = ax.categorical ? ax.ncat - 0.5 : xhi;
        fprintf(f, "$%cr0 << EOD\n%.17g %.17g\n%.17g %.17g\nEOD\n", prefix, lo, one, hi, one);
        ylo = fmin(ylo, one);
        yhi = fmax(yhi, one);
        snprintf(plot[np].spec, sizeof plot[0].spec, "$%cr0 using 1:2 with lines lw 2 "
                 "lc rgb 'black' dt 2", prefix);
        snprintf(plot[np++].title, sizeof plot[0].title, "each row's own %.80s (rows at one %.40s "
                 "have different ones)", ref_name, pl->x);
        blocks++;
    }
    for (int s = 0; pl->extra_y && !mixed && s < (per_series ? ns : 1); s++) {
        char name[16];
        collect_points(&p, rep, pl, &ax, pl->extra_y, per_series ? sv[s] : NULL);
        if (!p.n)
            continue;
        snprintf(name, sizeof name, "%cr%d", prefix, s);
        gp_block(f, name, &p);
        for (int k = 0; k < p.n; k++) {
            ylo = fmin(ylo, p.y[k]);
            yhi = fmax(yhi, p.y[k]);
        }
        /* a line through one point draws nothing: mark it */
        const char *style = p.n > 1 ? "lines lw 2" : "points pt 3 ps 1.5";
        if (per_series) {
            snprintf(plot[np].spec, sizeof plot[0].spec, "$%s using 1:2 with %s lc %d dt 2",
                     name, style, s + 1);
            snprintf(plot[np++].title, sizeof plot[0].title, "%s (%s=%s)", ref_name, pl->series,
                     sv[s]);
        } else {
            snprintf(plot[np].spec, sizeof plot[0].spec, "$%s using 1:2 with %s "
                     "lc rgb 'black' dt 2", name, style);
            snprintf(plot[np++].title, sizeof plot[0].title, "%s", ref_name);
        }
        blocks++;
    }
    /* vertical marks across the drawn range */
    mark_t marks[PLOT_MAX_MARKS];
    int nm = blocks ? plot_marks(marks, rep, pl, &ax, sv, pl->series ? ns : 0) : 0;
    if (strcmp(pl->y, "slack used") == 0 && blocks && !mixed) {
        /* from 0, so the plot shows how much of kappa is used */
        ylo = fmin(ylo, 0);
        yhi += 0.08 * (yhi - ylo) + 0.5;
        fprintf(f, "set yrange [%.17g:%.17g]\n", ylo, yhi);
    } else {
        fputs("set yrange [*:*]\n", f);
    }
    long off_scale = 0;
    if (strcmp(pl->y, "ratio") == 0 && pl->logy && yhi - ylo > RATIO_DECADES) {
        /* a near-vacuous bound makes E/bound astronomically small */
        for (int k = 0; k < ns; k++) {
            collect_points(&p, rep, pl, &ax, pl->y, pl->series ? sv[k] : NULL);
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
        fprintf(f, "$%cm%d << EOD\n%.17g %.17g\n%.17g %.17g\nEOD\n", prefix, k, marks[k].x, ylo,
                marks[k].x, yhi);
        if (marks[k].color)
            snprintf(plot[np].spec, sizeof plot[0].spec, "$%cm%d using 1:2 with lines lw 1.5 "
                     "lc %d dt 4", prefix, k, marks[k].color);
        else
            snprintf(plot[np].spec, sizeof plot[0].spec, "$%cm%d using 1:2 with lines lw 1.5 "
                     "lc rgb 'black' dt 4", prefix, k);
        snprintf(plot[np++].title, sizeof plot[0].title, "%s", marks[k].title);
    }
    /* rows that have no point say so on the plot */
    fputs("unset label\n", f);
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
    free(p.x); free(p.y); free(q.x); free(q.y); free(xs);
    out->blocks = blocks;
    out->xs = nxs;
    out->rows = rows;
    out->zero_error = zero_error;
    return 0;
}

/* The gnuplot script of one plot; *drawable is the number of data blocks
 * with points; 0 when the quantity has no point, -2 when that is because
 * hi(E) = 0 on every row, -1 when every point has one x (a plot of one
 * abscissa shows nothing the table does not).  An exact claim's slack plot gets a
 * panel above it with hi(E) itself (log scale) against the same x.  -1
 * when out of memory. */
static int plot_script(FILE *f, const claim_report_t *rep, const plot_t *pl, const char *svgname,
                       int *drawable)
{
    int two = strcmp(pl->y, "slack used") == 0;
    fprintf(f, "set terminal svg size 860,%d dynamic enhanced font 'Helvetica,13' background "
            "'#ffffff'\n# regenerate in this directory with: gnuplot ", two ? 1000 : 540);
    fprintf(f, "%s.gp\nif (!exists(\"outfile\")) outfile = ", svgname);
    gp_string(f, svgname);
    fputs("\nset output outfile\n", f);
    char stem[256];
    report_stem(stem, sizeof stem, rep); /* a mutated run says so */
    panel_t top = {0}, bottom = {0};
    int rc = 0;
    if (two) {
        fputs("set multiplot layout 2,1\n", f);
        plot_t e = *pl;
        e.y = "error";
        e.logy = 1;
        e.extra_y = NULL;
        e.mark_x = NULL;
        char *t = text_printf("%s: hi(E) itself against %s (largest over each series' rows; "
                              "below: each row against its tolerance)", stem,
                              strcmp(pl->x, "prec") == 0 ? "p" : pl->x);
        rc = t ? plot_panel(f, rep, &e, 'e', t, &top) : -1;
        free(t);
    }
    if (rc == 0) {
        char *t = text_printf("%s: %s%s", stem, pl->title ? pl->title : "",
                              two ? " (a row holds while at most κ: hi(E) <= S·2^(κ-p))" : "");
        rc = t ? plot_panel(f, rep, pl, 's', t, &bottom) : -1;
        free(t);
    }
    if (two)
        fputs("unset multiplot\n", f);
    if (bottom.xs > 1 || top.xs > 1)
        *drawable = bottom.blocks + top.blocks;
    else if (bottom.xs + top.xs == 0) /* a reference line alone says nothing */
        *drawable = bottom.rows && bottom.zero_error == bottom.rows ? -2 : 0;
    else
        *drawable = -1;
    return rc;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Write <svg>.gp and draw it: *drawn is 1 when the SVG was made, 0 when
 * there was nothing to draw, -2 when every point has one x, -3 when hi(E) =
 * 0 on every row (in these three both files removed), -1 when gnuplot
 * failed.
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
    if (blocks <= 0) {
        free(text);
        outfile_remove(gp);
        outfile_remove(svgpath); /* no stale plot from an earlier run */
        *drawn = blocks == -1 ? -2 : blocks == -2 ? -3 : 0;
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
