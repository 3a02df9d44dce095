/* Sweep runner.  The grid of a claim is the union of its sweeps, each the
 * Cartesian product of its axes; --set replaces (or adds) an axis in every
 * sweep.  Rows are independent and run on --jobs threads. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "par.h"
#include "progress.h"
#include "runner.h"
#include "xalloc.h"

void run_options_default(run_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->jobs = 1;
    o->prec_cap = PREC_CAP_DEFAULT;
    o->max_rows = RUN_MAX_ROWS_DEFAULT;
    o->max_memory = RUN_MAX_MEMORY_DEFAULT;
}

int parse_prec(mpfr_prec_t *out, const char *s)
{
    char *end;
    errno = 0;
    if (!s || *s < '0' || *s > '9')
        return -1;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < PREC_MIN || v > PREC_MAX)
        return -1;
    *out = (mpfr_prec_t)v;
    return 0;
}

int claim_mutation_index(const claim_t *c, const char *name)
{
    for (int k = 0; k < CLAIM_MAX_MUTATIONS && c->mutations[k][0]; k++)
        if (!name || strcmp(c->mutations[k][0], name) == 0)
            return k + 1;
    return -1;
}

static const sweep_t *claim_sweeps(const claim_t *c, int full)
{
    return (full && c->full[0].label) ? c->full : c->quick;
}

/* Every row has a seed and a precision: --set seed and --set prec apply to
 * every sub-sweep, as --seed and --prec do. */
static int axis_is_universal(const char *name)
{
    return strcmp(name, "seed") == 0 || strcmp(name, "prec") == 0;
}

static int sweep_has_axis(const sweep_t *s, const char *name)
{
    for (int a = 0; a < SWEEP_MAX_AXES && s->axes[a].name; a++)
        if (strcmp(s->axes[a].name, name) == 0)
            return 1;
    return 0;
}

/* --set replaces an axis in the sub-sweeps that have it; a sub-sweep
 * without one of the --set axes does not run.  NULL when s runs, else the
 * first --set axis it lacks. */
static const char *sweep_lacks(const sweep_t *s, const run_options_t *o)
{
    for (int k = 0; k < o->n_sets; k++)
        if (!axis_is_universal(o->set_name[k]) && !sweep_has_axis(s, o->set_name[k]))
            return o->set_name[k];
    return NULL;
}

/* A row's sweep label: a grid's own name ("quick", "full") is "custom" once
 * --set changed it. */
static const char *sweep_label(const sweep_t *s, const run_options_t *o)
{
    if (o->n_sets > 0 && (strcmp(s->label, "quick") == 0 || strcmp(s->label, "full") == 0))
        return "custom";
    return s->label;
}

/* Values of axis `name` for this sweep after overrides (o NULL: none; NULL:
 * axis absent). */
static const char *axis_values(const sweep_t *s, const char *name, const run_options_t *o)
{
    for (int k = o ? o->n_sets - 1 : -1; k >= 0; k--)
        if (strcmp(o->set_name[k], name) == 0)
            return o->set_values[k];
    if (o && strcmp(name, "prec") == 0 && o->prec_list)
        return o->prec_list;
    for (int a = 0; a < SWEEP_MAX_AXES && s->axes[a].name; a++)
        if (strcmp(s->axes[a].name, name) == 0)
            return s->axes[a].values;
    return NULL;
}

/* The axis names of a sweep, with overrides added at the end. */
static int sweep_axis_names(const char **names, const sweep_t *s, const run_options_t *o)
{
    int n = 0;
    for (int a = 0; a < SWEEP_MAX_AXES && s->axes[a].name; a++)
        names[n++] = s->axes[a].name;
    const char *extra[RUN_MAX_SETS + 2];
    int ne = 0;
    for (int k = 0; k < o->n_sets; k++)
        extra[ne++] = o->set_name[k];
    if (o->prec_list)
        extra[ne++] = "prec";
    if (o->seed_set)
        extra[ne++] = "seed";
    for (int k = 0; k < ne; k++) {
        int seen = 0;
        for (int j = 0; j < n; j++)
            seen |= strcmp(names[j], extra[k]) == 0;
        if (!seen && n < PARAM_MAX)
            names[n++] = extra[k];
    }
    return n;
}

/* The values of each axis of one sweep, split once. */
typedef struct {
    int n;                                   /* axes */
    const char *names[PARAM_MAX];
    char **values[PARAM_MAX];                /* values[a][0 .. counts[a]) */
    long counts[PARAM_MAX];
    long rows;                               /* product of counts, saturating at LONG_MAX */
} axes_t;

static long count_values(const char *v)
{
    long n = 1;
    for (; *v; v++)
        n += *v == ',';
    return n;
}

static char **split_values(const char *v, long n)
{
    char **out = xmallocarray((size_t)n, sizeof *out);
    for (long k = 0; k < n; k++) {
        size_t len = strcspn(v, ",");
        out[k] = xstrndup(v, len);
        v += len + (v[len] == ',');
    }
    return out;
}

static long mul_saturating(long a, long b)
{
    return (a > 0 && b > LONG_MAX / a) ? LONG_MAX : a * b;
}

/* The axes of sweep s after overrides; with split = 0 only names and counts. */
static void axes_init(axes_t *ax, const sweep_t *s, const run_options_t *o, const char *seedbuf,
                      int split)
{
    ax->n = sweep_axis_names(ax->names, s, o);
    ax->rows = 1;
    for (int a = 0; a < ax->n; a++) {
        const char *v = (strcmp(ax->names[a], "seed") == 0 && o->seed_set)
                            ? seedbuf : axis_values(s, ax->names[a], o);
        ax->counts[a] = count_values(v);
        ax->values[a] = split ? split_values(v, ax->counts[a]) : NULL;
        ax->rows = mul_saturating(ax->rows, ax->counts[a]);
    }
}

static void axes_clear(axes_t *ax)
{
    for (int a = 0; a < ax->n; a++) {
        for (long k = 0; ax->values[a] && k < ax->counts[a]; k++)
            free(ax->values[a][k]);
        free(ax->values[a]);
    }
}

/* The parameters of grid point t (the last axis varies fastest); the
 * values point into ax. */
static void axes_params(params_t *p, const axes_t *ax, long t)
{
    p->n = ax->n;
    for (int a = ax->n - 1; a >= 0; a--) {
        p->name[a] = ax->names[a];
        p->value[a] = ax->values[a][t % ax->counts[a]];
        t /= ax->counts[a];
    }
}

/* A --set value reaches md, csv, json, gnuplot and export: letters, digits
 * and . _ : + - only (numbers, shapes like 4x8, names like silu_a:1.702). */
static int value_is_plain(const char *v)
{
    for (; *v; v++)
        if (*v != ',' && !isalnum((unsigned char)*v) && !strchr("._:+-", *v))
            return 0;
    return 1;
}

int parse_seed(unsigned long *out, const char *s)
{
    char *end;
    errno = 0;
    if (!s || *s < '0' || *s > '9')
        return -1; /* no sign, no space: strtoul would take "-1" as 2^64 - 1 */
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

int runner_validate(const claim_t *c, const run_options_t *o, char *err, size_t errsz)
{
    const sweep_t *sw = claim_sweeps(c, o->full);
    for (int k = 0; k < o->n_sets; k++) {
        int known = strcmp(o->set_name[k], "seed") == 0 || strcmp(o->set_name[k], "prec") == 0;
        for (int s = 0; s < CLAIM_MAX_SWEEPS && sw[s].label && !known; s++)
            for (int a = 0; a < SWEEP_MAX_AXES && sw[s].axes[a].name; a++)
                known |= strcmp(sw[s].axes[a].name, o->set_name[k]) == 0;
        if (!known) {
            char names[400];
            runner_param_names(names, sizeof names, c, o->full);
            snprintf(err, errsz, "claim '%s' has no parameter '%s' (its parameters: %s)", c->id,
                     o->set_name[k], names);
            return -1;
        }
        const char *v = o->set_values[k];
        if (!*v || strstr(v, ",,") || v[strlen(v) - 1] == ',' || *v == ',') {
            snprintf(err, errsz, "empty value in --set %s=%s", o->set_name[k], v);
            return -1;
        }
        if (!value_is_plain(v)) {
            snprintf(err, errsz, "--set %s: a value may hold only letters, digits and . _ : + -",
                     o->set_name[k]);
            return -1;
        }
    }
    /* Some sub-sweep has every --set axis. */
    int runs = 0;
    for (int s = 0; s < CLAIM_MAX_SWEEPS && sw[s].label; s++)
        runs |= sweep_lacks(sw + s, o) == NULL;
    if (!runs) {
        size_t len = (size_t)snprintf(err, errsz, "no sub-sweep of claim '%s' has every --set "
                                      "axis:", c->id);
        for (int s = 0; s < CLAIM_MAX_SWEEPS && sw[s].label && len < errsz; s++)
            len += (size_t)snprintf(err + len, errsz - len, "%s %s lacks %s", s ? ";" : "",
                                    sw[s].label, sweep_lacks(sw + s, o));
        if (len < errsz)
            snprintf(err + len, errsz - len, " (see attncheck describe %s)", c->id);
        return -1;
    }
    /* Every precision and seed in use must parse. */
    char seedbuf[32];
    snprintf(seedbuf, sizeof seedbuf, "%lu", o->seed);
    for (int s = 0; s < CLAIM_MAX_SWEEPS && sw[s].label; s++) {
        if (sweep_lacks(sw + s, o))
            continue;
        axes_t ax;
        axes_init(&ax, sw + s, o, seedbuf, 1);
        int bad = 0;
        for (int a = 0; a < ax.n && !bad; a++)
            for (long k = 0; k < ax.counts[a] && !bad; k++) {
                const char *v = ax.values[a][k];
                mpfr_prec_t p;
                unsigned long seed;
                if (strcmp(ax.names[a], "prec") == 0 && parse_prec(&p, v) != 0) {
                    snprintf(err, errsz, "precision '%s' is not an integer in [%d, %d]", v,
                             PREC_MIN, PREC_MAX);
                    bad = 1;
                } else if (strcmp(ax.names[a], "seed") == 0 && parse_seed(&seed, v) != 0) {
                    snprintf(err, errsz, "seed '%s' is not an integer in [0, %lu]", v, ULONG_MAX);
                    bad = 1;
                }
            }
        axes_clear(&ax);
        if (bad)
            return -1;
    }
    return 0;
}

long runner_grid_rows(const claim_t *c, const run_options_t *o)
{
    const sweep_t *sw = claim_sweeps(c, o->full);
    long total = 0;
    for (int s = 0; s < CLAIM_MAX_SWEEPS && sw[s].label; s++) {
        if (sweep_lacks(sw + s, o))
            continue;
        axes_t ax;
        axes_init(&ax, sw + s, o, "0", 0); /* counts only: any seed will do */
        total = ax.rows > LONG_MAX - total ? LONG_MAX : total + ax.rows;
    }
    return total;
}

long runner_shard_rows(long total, const run_options_t *o)
{
    if (o->shard_count <= 0)
        return total;
    return total > o->shard_index ? (total - o->shard_index - 1) / o->shard_count + 1 : 0;
}

/* A shard runs grid rows K, K + N, ...: round-robin, because a grid's first
 * axes change slowest, so contiguous blocks would give one shard every row
 * of the first axis's costliest value (often the highest precision), while
 * round-robin deals N neighbouring rows, which mostly share it, one to each
 * shard.  Of a sweep whose first row is grid row g0: its first row in the
 * shard, and the step to the next. */
static long shard_first(long g0, const run_options_t *o)
{
    if (o->shard_count <= 0)
        return 0;
    return (o->shard_index - g0 % o->shard_count + o->shard_count) % o->shard_count;
}

static long shard_step(const run_options_t *o)
{
    return o->shard_count > 0 ? o->shard_count : 1;
}

/* Expand the grid (the shard's rows of it) into rows (params only); -1
 * when it has more than LONG_MAX rows. */
static long expand_grid(row_t **out, const claim_t *c, const run_options_t *o)
{
    const sweep_t *sw = claim_sweeps(c, o->full);
    char seedbuf[32];
    snprintf(seedbuf, sizeof seedbuf, "%lu", o->seed);
    long total = runner_grid_rows(c, o), mine = runner_shard_rows(total, o);
    if (total == LONG_MAX || (size_t)mine > SIZE_MAX / sizeof(row_t)) {
        *out = NULL;
        return -1;
    }
    row_t *rows = xcalloc((size_t)mine, sizeof *rows);
    long n = 0, g0 = 0;
    for (int s = 0; s < CLAIM_MAX_SWEEPS && sw[s].label; s++) {
        if (sweep_lacks(sw + s, o))
            continue;
        axes_t ax;
        axes_init(&ax, sw + s, o, seedbuf, 1);
        for (long t = shard_first(g0, o); t < ax.rows; t += shard_step(o)) {
            row_t *r = rows + n++;
            axes_params(&r->params, &ax, t);
            r->params.ctx = r->ctx = c->ctx;
            for (int a = 0; a < ax.n; a++)
                r->params.value[a] = xstrdup(r->params.value[a]);
            r->sweep = sweep_label(sw + s, o);
        }
        g0 += ax.rows;
        axes_clear(&ax);
    }
    *out = rows;
    return n;
}

/* The precision a row asks for: its prec axis, else the claim's start. */
static mpfr_prec_t row_requested_prec(const claim_t *c, const params_t *p)
{
    long v;
    if (params_get_long(&v, p, "prec") == 0)
        return (mpfr_prec_t)v;
    return c->start_prec ? c->start_prec(p) : 128;
}

/* An exact claim's rows start at the resolution rule's precision from the
 * parameters alone (verdict.h); the instance may raise it further. */
static long row_param_bits(const params_t *p)
{
    return verdict_param_bits(p->n, p->name, p->value);
}

/* Precision a row starts at (runner_eval_row's rule); LONG_MAX when the
 * parameters cannot be resolved at any precision. */
static long row_start_prec(const claim_t *c, const params_t *p)
{
    long req = row_requested_prec(c, p);
    if (c->kind != KIND_EXACT)
        return req;
    long need = verdict_resolve_prec(1, row_param_bits(p), 0);
    return need > req ? need : req;
}

/* The process before any row: code, libraries, stacks, caches. */
#define RUN_PROCESS_BYTES (16.0 * 1024 * 1024)

/* A row kept until the reports are written: the struct, its parameter
 * strings, and its results (E, |dY|, bound and up to ROW_MAX_EXTRA columns). */
static double row_kept_bytes(const params_t *p, mpfr_prec_t prec)
{
    double b = (double)sizeof(row_t) + (3 + ROW_MAX_EXTRA) * ball_heap_bytes(prec);
    for (int a = 0; a < p->n; a++)
        b += (double)strlen(p->value[a]) + 1 + 16;
    return b;
}

void runner_format_bytes(char *buf, size_t n, double b)
{
    const char *unit[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int u = 0;
    while (b >= 1024 && u < 6) {
        b /= 1024;
        u++;
    }
    snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
}

/* runner_check_limits, with the row count and peak estimate out (peak -1
 * when the rows alone are over the limit: not estimated further). */
static int check_limits(const claim_t *const *claims, int n, const run_options_t *o, char *err,
                        size_t errsz, long *rows_out, double *peak_out)
{
    long total_rows = 0;
    for (int k = 0; k < n; k++) {
        long grid = runner_grid_rows(claims[k], o);
        long rows = grid == LONG_MAX ? LONG_MAX : runner_shard_rows(grid, o);
        total_rows = rows > LONG_MAX - total_rows ? LONG_MAX : total_rows + rows;
    }
    *rows_out = total_rows;
    *peak_out = -1;
    if (total_rows > o->max_rows) {
        snprintf(err, errsz, "the grid has %s%ld rows, over --max-rows %ld (raise it to run "
                 "this grid)", total_rows == LONG_MAX ? "more than " : "", total_rows,
                 o->max_rows);
        return -1;
    }
    /* Peak memory: every row is kept until the reports are written; at most
     * `jobs` rows are at work at once.  The row structs alone first, so a
     * huge grid is refused without visiting its rows. */
    double kept = RUN_PROCESS_BYTES, work = 0;
    if (kept + (double)total_rows * (double)sizeof(row_t) > o->max_memory) {
        char total[32], limit[32];
        runner_format_bytes(total, sizeof total, kept + (double)total_rows * (double)sizeof(row_t));
        runner_format_bytes(limit, sizeof limit, o->max_memory);
        snprintf(err, errsz, "estimated peak memory: the rows alone need %s, over --max-memory "
                 "%s (%ld rows of %zu bytes)", total, limit, total_rows, sizeof(row_t));
        return -1;
    }
    const claim_t *worst = NULL;
    mpfr_prec_t worst_prec = 0;
    long worst_jobs = 1;
    double worst_row = 0;
    for (int k = 0; k < n; k++) {
        const claim_t *c = claims[k];
        const sweep_t *sw = claim_sweeps(c, o->full);
        double row_max = 0;
        mpfr_prec_t row_prec = 0;
        long rows = 0, g0 = 0;
        for (int s = 0; s < CLAIM_MAX_SWEEPS && sw[s].label; s++) {
            if (sweep_lacks(sw + s, o))
                continue;
            axes_t ax;
            axes_init(&ax, sw + s, o, "0", 1);
            for (long t = shard_first(g0, o); t < ax.rows; t += shard_step(o)) {
                params_t p;
                axes_params(&p, &ax, t);
                p.ctx = c->ctx;
                long start = row_start_prec(c, &p);
                mpfr_prec_t prec = start < PREC_MAX ? start : PREC_MAX;
                double w = c->estimate_bytes ? c->estimate_bytes(&p, prec) : 0;
                kept += row_kept_bytes(&p, prec);
                if (w > row_max) {
                    row_max = w;
                    row_prec = prec;
                }
                rows++;
            }
            g0 += ax.rows;
            axes_clear(&ax);
        }
        long jobs = o->jobs < 0 ? 0 : o->jobs < rows ? o->jobs : rows;
        if ((double)jobs * row_max > work) {
            work = (double)jobs * row_max;
            worst = c;
            worst_prec = row_prec;
            worst_jobs = jobs;
            worst_row = row_max;
        }
    }
    double peak = kept + work;
    *peak_out = peak;
    if (peak > o->max_memory) {
        char total[32], limit[32], row[32];
        runner_format_bytes(total, sizeof total, peak);
        runner_format_bytes(limit, sizeof limit, o->max_memory);
        runner_format_bytes(row, sizeof row, worst_row);
        if (worst)
            snprintf(err, errsz, "estimated peak memory %s is over --max-memory %s (%s: up to "
                     "%s per row at %ld bits, %ld at once; %ld rows in all)", total, limit,
                     worst->id, row, (long)worst_prec, worst_jobs, total_rows);
        else
            snprintf(err, errsz, "estimated peak memory %s is over --max-memory %s (%ld rows)",
                     total, limit, total_rows);
        return -1;
    }
    return 0;
}

int runner_check_limits(const claim_t *const *claims, int n, const run_options_t *o,
                        char *err, size_t errsz)
{
    long rows;
    double peak;
    return check_limits(claims, n, o, err, errsz, &rows, &peak);
}

/* A dry run visits every row for its estimate: past this many, only the
 * count is given. */
#define ESTIMATE_MAX_ROWS 10000000L

void runner_estimate(long *rows, double *peak, const claim_t *const *claims, int n,
                     const run_options_t *o)
{
    run_options_t big = *o;
    char err[512];
    big.max_rows = ESTIMATE_MAX_ROWS;
    big.max_memory = HUGE_VAL;
    check_limits(claims, n, &big, err, sizeof err, rows, peak);
}

void runner_param_names(char *buf, size_t n, const claim_t *c, int full)
{
    const sweep_t *sw = claim_sweeps(c, full);
    const char *names[CLAIM_MAX_SWEEPS * SWEEP_MAX_AXES + 2];
    int m = 0;
    for (int s = 0; s < CLAIM_MAX_SWEEPS && sw[s].label; s++)
        for (int a = 0; a < SWEEP_MAX_AXES && sw[s].axes[a].name; a++)
            names[m++] = sw[s].axes[a].name;
    names[m++] = "seed";
    names[m++] = "prec";
    size_t len = 0;
    buf[0] = '\0';
    for (int k = 0; k < m && len < n; k++) {
        int seen = 0;
        for (int j = 0; j < k; j++)
            seen |= strcmp(names[j], names[k]) == 0;
        if (!seen)
            len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? ", " : "", names[k]);
    }
}

int runner_sweeps(runner_sweep_t *out, const claim_t *c, const run_options_t *o)
{
    const sweep_t *sw = claim_sweeps(c, o->full);
    int n = 0;
    for (int s = 0; s < CLAIM_MAX_SWEEPS && sw[s].label; s++, n++) {
        runner_sweep_t *r = out + n;
        memset(r, 0, sizeof *r);
        r->label = sw[s].label;
        r->row_label = sweep_label(sw + s, o);
        r->lacks = sweep_lacks(sw + s, o);
        snprintf(r->seed, sizeof r->seed, "%lu", o->seed);
        const char *names[PARAM_MAX];
        r->n_axes = sweep_axis_names(names, sw + s, o);
        r->rows = 1;
        for (int a = 0; a < r->n_axes; a++) {
            r->name[a] = names[a];
            r->values[a] = (strcmp(names[a], "seed") == 0 && o->seed_set)
                               ? r->seed : axis_values(sw + s, names[a], o);
            r->changed[a] = !sweep_has_axis(sw + s, names[a]) ||
                            r->values[a] != axis_values(sw + s, names[a], NULL);
            r->rows = mul_saturating(r->rows, count_values(r->values[a]));
        }
        if (r->lacks)
            r->rows = 0;
    }
    return n;
}

void row_clear(row_t *r)
{
    if (r->prec) {
        arb_clear(r->error);
        arb_clear(r->error_abs);
        arb_clear(r->bound);
        arb_clear(r->trivial);
        mpfr_clear(r->scale);
        for (int k = 0; k < r->n_extra; k++)
            arb_clear(r->extra[k].iv);
        r->n_extra = 0;
    }
}

void row_start(row_t *r, mpfr_prec_t prec)
{
    r->prec = prec;
    arb_init(r->error);
    arb_init(r->error_abs);
    arb_init(r->bound);
    arb_init(r->trivial);
    mpfr_init2(r->scale, 64);
    mpfr_set_ui(r->scale, 0, MPFR_RNDU);
    r->has_bound = 0;
    r->bound_is_floor = 0;
    r->has_trivial = 0;
    r->depth = 1;
    r->exact_identity = 0;
    r->resolve_bits = 0;
    r->prec_needed = 0;
    r->raised_after_prediction = 0;
    r->n_extra = 0;
    r->note[0] = '\0';
}

void runner_judge_row(row_t *r, claim_kind_t kind)
{
    if (r->has_bound && r->bound_is_floor)
        r->verdict = verdict_floor(r->error, r->bound);
    else if (kind == KIND_EXACT || r->exact_identity)
        /* a resolution that could not be measured certifies nothing */
        r->verdict = r->resolve_bits < 0 ? VERDICT_INCONCLUSIVE
                                         : verdict_exact(r->error, r->scale, r->prec, r->depth);
    else if (r->has_bound)
        r->verdict = verdict_bound_trivial(r->error, r->bound, r->has_trivial ? r->trivial : NULL);
    else if (kind == KIND_TABLE)
        r->verdict = VERDICT_HOLDS; /* a table row: computed, nothing claimed */
    else
        r->verdict = VERDICT_INCONCLUSIVE; /* an inequality row with no bound proves nothing */
}

void claim_report_count(claim_report_t *rep)
{
    rep->holds = rep->violated = rep->inconclusive = rep->vacuous = rep->raised = 0;
    for (long k = 0; k < rep->n_rows; k++) {
        verdict_t v = rep->rows[k].verdict;
        rep->raised += rep->rows[k].raised_after_prediction;
        rep->holds += v == VERDICT_HOLDS;
        rep->violated += v == VERDICT_VIOLATED;
        rep->inconclusive += v == VERDICT_INCONCLUSIVE;
        rep->vacuous += v == VERDICT_VACUOUS;
    }
}

/* The working precision's estimated memory is within max_memory (0: no
 * limit); else a note, and -1. */
static int raised_row_fits(row_t *r, const claim_t *c, long prec, double max_memory)
{
    if (max_memory <= 0 || !c->estimate_bytes)
        return 0;
    if (c->estimate_bytes(&r->params, (mpfr_prec_t)prec) + RUN_PROCESS_BYTES <= max_memory)
        return 0;
    snprintf(r->note, sizeof r->note, "resolving this row's parameters needs %ld bits, and its "
             "estimated memory at that precision is over --max-memory", prec);
    return -1;
}

static int eval_row(row_t *r, const claim_t *c, mpfr_prec_t cap, double max_memory)
{
    mpfr_prec_t req = row_requested_prec(c, &r->params);
    long param_bits = row_param_bits(&r->params);
    long start = row_start_prec(c, &r->params);
    int raised = 0;
    if (start > PREC_MAX) {
        snprintf(r->note, sizeof r->note, "resolving its parameters needs over %d bits, the "
                 "largest precision: a slope outside the documented range", PREC_MAX);
        return -1;
    }
    if (start > req && raised_row_fits(r, c, start, max_memory) != 0)
        return -1;
    mpfr_prec_t prec = (mpfr_prec_t)start;
    if (c->predict) {
        /* the instance part of the rule before the first evaluation (the
         * claim's own cheap pass at the start precision), so that a row
         * runs once; the rule is applied again to what the evaluation met */
        row_start(r, prec);
        r->prec_requested = req;
        int ok = c->predict(r) == 0 && (c->kind == KIND_EXACT || r->exact_identity) &&
                 r->resolve_bits >= 0;
        long need = ok ? verdict_resolve_prec(r->depth, param_bits, r->resolve_bits) : 0;
        row_clear(r);
        r->note[0] = '\0';
        if (need > prec && need <= PREC_MAX && raised_row_fits(r, c, need, max_memory) == 0)
            prec = (mpfr_prec_t)need;
        r->note[0] = '\0';
    }
    if (prec > cap)
        cap = prec;
    int raised_after = 0;
    for (;;) {
        row_start(r, prec);
        r->prec_requested = req;
        r->raised_after_prediction = raised_after;
        if (c->run(r) != 0)
            return -1;
        int exact = c->kind == KIND_EXACT || r->exact_identity;
        if (exact && r->resolve_bits < 0 && prec * 2 <= cap) {
            /* the instance part was too wide to measure: more bits first */
            row_clear(r);
            prec *= 2;
            continue;
        }
        if (exact) {
            /* the resolution rule, now that the instance is known */
            long need = verdict_resolve_prec(r->depth, param_bits,
                                             r->resolve_bits > 0 ? r->resolve_bits : 0);
            r->prec_needed = need;
            if (need > PREC_MAX) {
                snprintf(r->note, sizeof r->note, "resolving its parameters needs %s%ld bits, "
                         "over the %d-bit limit: a slope or sizes outside the documented range",
                         need == LONG_MAX ? "over " : "", need == LONG_MAX ? (long)PREC_MAX : need,
                         PREC_MAX);
                return -1;
            }
            if (prec < need && !raised) {
                if (raised_row_fits(r, c, need, max_memory) != 0)
                    return -1;
                raised = 1;
                raised_after = 1;
                prec = (mpfr_prec_t)need;
                if (prec > cap)
                    cap = prec;
                row_clear(r);
                continue;
            }
        }
        runner_judge_row(r, c->kind);
        if (r->verdict != VERDICT_INCONCLUSIVE || prec * 2 > cap)
            return 0;
        row_clear(r);
        prec *= 2;
    }
}

int runner_eval_row(row_t *r, const claim_t *c, mpfr_prec_t cap)
{
    return eval_row(r, c, cap, 0);
}

typedef struct {
    const claim_t *claim;
    row_t *rows;
    long n_rows, next, done;
    int failed;
    mpfr_prec_t cap;
    double max_memory;
    double max_seconds;
    struct timespec t0;
    pthread_mutex_t lock;
    const unsigned char *kept;  /* rows a journal gave: not run again */
    long not_run;
    const run_options_t *o;     /* its journal */
} work_t;

/* A row the time limit left: inconclusive, said in its note. */
static void row_not_run(row_t *r, const claim_t *c, double limit)
{
    mpfr_prec_t req = row_requested_prec(c, &r->params);
    row_start(r, req);
    r->prec_requested = req;
    snprintf(r->note, sizeof r->note, "not run: the time limit of %g s (--max-seconds) was "
             "reached first", limit);
    r->verdict = VERDICT_INCONCLUSIVE;
}

static void *worker(void *arg)
{
    work_t *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        long k = w->failed ? w->n_rows : w->next++;
        pthread_mutex_unlock(&w->lock);
        if (k >= w->n_rows)
            break;
        if (w->kept && w->kept[k])
            continue;
        if (w->max_seconds > 0) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if ((double)(now.tv_sec - w->t0.tv_sec) + 1e-9 * (double)(now.tv_nsec - w->t0.tv_nsec) >
                w->max_seconds) {
                row_not_run(w->rows + k, w->claim, w->max_seconds);
                pthread_mutex_lock(&w->lock);
                w->done++;
                w->not_run++;
                pthread_mutex_unlock(&w->lock);
                progress_kept(1);
                continue;
            }
        }
        par_enter(); /* a core busy with this row: helpers take only the others */
        int rc = eval_row(w->rows + k, w->claim, w->cap, w->max_memory);
        par_leave();
        if (rc == 0 && w->o->journal_add) /* finished: a resumed run keeps it */
            w->o->journal_add(w->o->journal, w->o->journal_report, w->rows + k, k);
        pthread_mutex_lock(&w->lock);
        if (rc != 0 && !w->failed)
            w->failed = (int)k + 1;
        w->done++;
        pthread_mutex_unlock(&w->lock);
        progress_row_done(w->claim->id);
    }
    mpfr_free_cache(); /* per-thread constant caches */
    flint_cleanup();
    return NULL;
}

int runner_run_claim(claim_report_t *rep, const claim_t *c, const run_options_t *o,
                     char *err, size_t errsz)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(rep, 0, sizeof *rep);
    rep->claim = c;
    rep->mutation = o->mutation;
    if (c->available && !c->available(rep->skip_reason, sizeof rep->skip_reason)) {
        rep->skipped = 1; /* reported as such; no row runs */
        return 0;
    }
    rep->n_rows = runner_expand(&rep->rows, c, o);
    if (rep->n_rows < 0) {
        rep->n_rows = 0;
        snprintf(err, errsz, "%s: the grid has too many rows or an invalid seed", c->id);
        return -1;
    }
    unsigned char *kept = NULL;
    if (o->journal_fill) {
        kept = xcalloc((size_t)(rep->n_rows ? rep->n_rows : 1), 1);
        long got = o->journal_fill(o->journal, o->journal_report, rep->rows, rep->n_rows, kept,
                                   err, errsz);
        if (got < 0) {
            free(kept);
            return -1;
        }
        progress_kept(got);
    }
    work_t w = {.claim = c, .rows = rep->rows, .n_rows = rep->n_rows, .cap = o->prec_cap,
                .max_memory = o->max_memory, .max_seconds = o->max_seconds, .t0 = t0,
                .kept = kept, .o = o};
    pthread_mutex_init(&w.lock, NULL);
    int jobs = o->jobs < 1 ? 1 : o->jobs;
    if (jobs == 1) {
        worker(&w);
    } else {
        pthread_t *th = xmallocarray((size_t)jobs, sizeof *th);
        int started = 0;
        while (started < jobs && pthread_create(th + started, NULL, worker, &w) == 0)
            started++;
        if (started == 0)
            worker(&w); /* no thread to be had: the rows run here */
        for (int j = 0; j < started; j++)
            pthread_join(th[j], NULL);
        free(th);
    }
    pthread_mutex_destroy(&w.lock);
    free(kept);
    rep->not_run = w.not_run;
    if (w.failed) {
        row_t *r = rep->rows + w.failed - 1;
        snprintf(err, errsz, "%s: %s", c->id, r->note[0] ? r->note : "invalid parameters");
        return -1;
    }
    runner_finish_claim(rep, o->shard_count <= 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    rep->seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    return 0;
}

void runner_finish_claim(claim_report_t *rep, int whole_grid)
{
    const claim_t *c = rep->claim;
    claim_report_count(rep);
    /* fits and summaries are over the whole grid: a shard's are made at merge */
    if (c->fit && whole_grid)
        rep->n_fits = c->fit(rep->fits, REPORT_MAX_FITS, rep->rows, rep->n_rows);
    if (c->summary_md && whole_grid)
        rep->summary = c->summary_md(rep->rows, rep->n_rows);
}

long runner_expand(row_t **rows, const claim_t *c, const run_options_t *o)
{
    long n = expand_grid(rows, c, o);
    for (long k = 0; k < n; k++) {
        row_t *r = *rows + k;
        const char *s = params_get(&r->params, "seed");
        r->mutation = o->mutation;
        r->ctx = c->ctx;
        r->seed = o->seed_set ? o->seed : 1;
        if (s && parse_seed(&r->seed, s) != 0) {
            runner_free_rows(*rows, n); /* runner_validate refuses such a seed first */
            *rows = NULL;
            return -1;
        }
    }
    return n;
}

void runner_free_rows(row_t *rows, long n)
{
    for (long k = 0; k < n; k++) {
        row_clear(rows + k);
        for (int a = 0; a < rows[k].params.n; a++)
            free((char *)rows[k].params.value[a]);
    }
    free(rows);
}

void claim_report_clear(claim_report_t *rep)
{
    runner_free_rows(rep->rows, rep->n_rows);
    free(rep->summary);
    free(rep->details_json);
    memset(rep, 0, sizeof *rep);
}
