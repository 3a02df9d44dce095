/* Sweep runner.  The grid of a claim is the union of its sweeps, each the
 * Cartesian product of its axes; --set replaces (or adds) an axis in every
 * sweep.  Rows are independent and run on --jobs threads. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "runner.h"

void run_options_default(run_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->jobs = 1;
    o->prec_cap = PREC_CAP_DEFAULT;
}

int parse_prec(mpfr_prec_t *out, const char *s)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-' || *s == '+')
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

/* Values of axis `name` for this sweep after overrides (NULL: axis absent). */
static const char *axis_values(const sweep_t *s, const char *name, const run_options_t *o)
{
    for (int k = o->n_sets - 1; k >= 0; k--)
        if (strcmp(o->set_name[k], name) == 0)
            return o->set_values[k];
    if (strcmp(name, "prec") == 0 && o->prec_list)
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

static int count_values(const char *v)
{
    int n = 1;
    for (; *v; v++)
        n += *v == ',';
    return n;
}

/* Copy the k-th comma-separated value. */
static char *nth_value(const char *v, int k)
{
    while (k-- > 0)
        v = strchr(v, ',') + 1;
    const char *end = strchr(v, ',');
    size_t len = end ? (size_t)(end - v) : strlen(v);
    char *s = malloc(len + 1);
    memcpy(s, v, len);
    s[len] = '\0';
    return s;
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
            snprintf(err, errsz, "claim '%s' has no parameter '%s'", c->id, o->set_name[k]);
            return -1;
        }
        const char *v = o->set_values[k];
        if (!*v || strstr(v, ",,") || v[strlen(v) - 1] == ',' || *v == ',') {
            snprintf(err, errsz, "empty value in --set %s=%s", o->set_name[k], v);
            return -1;
        }
    }
    /* Every precision in use must parse. */
    for (int s = 0; s < CLAIM_MAX_SWEEPS && sw[s].label; s++) {
        const char *pv = axis_values(sw + s, "prec", o);
        if (!pv)
            continue;
        for (int k = 0; k < count_values(pv); k++) {
            char *v = nth_value(pv, k);
            mpfr_prec_t p;
            int bad = parse_prec(&p, v);
            if (bad)
                snprintf(err, errsz, "precision '%s' is not an integer in [%d, %d]", v,
                         PREC_MIN, PREC_MAX);
            free(v);
            if (bad)
                return -1;
        }
    }
    return 0;
}

/* Expand the grid into rows (params only). */
static long expand_grid(row_t **out, const claim_t *c, const run_options_t *o)
{
    const sweep_t *sw = claim_sweeps(c, o->full);
    long cap = 64, n = 0;
    row_t *rows = calloc((size_t)cap, sizeof *rows);
    char seedbuf[32];
    snprintf(seedbuf, sizeof seedbuf, "%lu", o->seed);
    for (int s = 0; s < CLAIM_MAX_SWEEPS && sw[s].label; s++) {
        const char *names[PARAM_MAX + RUN_MAX_SETS];
        const char *vals[PARAM_MAX + RUN_MAX_SETS];
        int counts[PARAM_MAX + RUN_MAX_SETS], idx[PARAM_MAX + RUN_MAX_SETS];
        int na = sweep_axis_names(names, sw + s, o);
        long total = 1;
        for (int a = 0; a < na; a++) {
            vals[a] = (strcmp(names[a], "seed") == 0 && o->seed_set) ? seedbuf
                                                                     : axis_values(sw + s, names[a], o);
            counts[a] = count_values(vals[a]);
            idx[a] = 0;
            total *= counts[a];
        }
        for (long t = 0; t < total; t++) {
            /* mixed-radix counter: the last axis varies fastest */
            long rem = t;
            for (int a = na - 1; a >= 0; a--) {
                idx[a] = (int)(rem % counts[a]);
                rem /= counts[a];
            }
            if (n == cap) {
                cap *= 2;
                rows = realloc(rows, sizeof *rows * (size_t)cap);
                memset(rows + n, 0, sizeof *rows * (size_t)(cap - n));
            }
            row_t *r = rows + n++;
            r->params.n = na;
            for (int a = 0; a < na; a++) {
                r->params.name[a] = names[a];
                r->params.value[a] = nth_value(vals[a], idx[a]);
            }
            r->sweep = sw[s].label;
        }
    }
    *out = rows;
    return n;
}

void row_clear(row_t *r)
{
    if (r->prec) {
        arb_clear(r->error);
        arb_clear(r->error_abs);
        arb_clear(r->bound);
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
    mpfr_init2(r->scale, 64);
    mpfr_set_ui(r->scale, 0, MPFR_RNDU);
    r->has_bound = 0;
    r->depth = 1;
    r->exact_identity = 0;
    r->n_extra = 0;
    r->note[0] = '\0';
}

int runner_eval_row(row_t *r, const claim_t *c, mpfr_prec_t cap)
{
    long p;
    mpfr_prec_t prec;
    if (params_get_long(&p, &r->params, "prec") == 0)
        prec = (mpfr_prec_t)p;
    else
        prec = c->start_prec ? c->start_prec(&r->params) : 128;
    if (prec > cap)
        cap = prec;
    for (;;) {
        row_start(r, prec);
        if (c->run(r) != 0)
            return -1;
        if (c->kind == KIND_EXACT || r->exact_identity)
            r->verdict = verdict_exact(r->error, r->scale, prec, r->depth);
        else if (r->has_bound)
            r->verdict = verdict_bound(r->error, r->bound);
        else if (c->kind == KIND_TABLE)
            r->verdict = VERDICT_HOLDS; /* a table row: computed, nothing claimed */
        else
            r->verdict = VERDICT_INCONCLUSIVE; /* an inequality row with no bound proves nothing */
        if (r->verdict != VERDICT_INCONCLUSIVE || prec * 2 > cap)
            return 0;
        row_clear(r);
        prec *= 2;
    }
}

typedef struct {
    const claim_t *claim;
    row_t *rows;
    long n_rows, next, done;
    int failed;
    mpfr_prec_t cap;
    int progress;
    time_t last_report, start;
    pthread_mutex_t lock;
} work_t;

static void *worker(void *arg)
{
    work_t *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        long k = w->failed ? w->n_rows : w->next++;
        pthread_mutex_unlock(&w->lock);
        if (k >= w->n_rows)
            break;
        int rc = runner_eval_row(w->rows + k, w->claim, w->cap);
        pthread_mutex_lock(&w->lock);
        if (rc != 0 && !w->failed)
            w->failed = (int)k + 1;
        w->done++;
        time_t now = time(NULL);
        if (w->progress && now - w->last_report >= 3) {
            fprintf(stderr, "attncheck: progress: %s: %ld/%ld rows (%lds)\n", w->claim->id, w->done,
                    w->n_rows, (long)(now - w->start));
            w->last_report = now;
        }
        pthread_mutex_unlock(&w->lock);
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
    rep->n_rows = runner_expand(&rep->rows, c, o);
    work_t w = {.claim = c, .rows = rep->rows, .n_rows = rep->n_rows, .cap = o->prec_cap,
                .progress = o->progress, .start = time(NULL), .last_report = time(NULL)};
    pthread_mutex_init(&w.lock, NULL);
    int jobs = o->jobs < 1 ? 1 : o->jobs;
    if (jobs == 1) {
        worker(&w);
    } else {
        pthread_t *th = malloc(sizeof *th * (size_t)jobs);
        for (int j = 0; j < jobs; j++)
            pthread_create(th + j, NULL, worker, &w);
        for (int j = 0; j < jobs; j++)
            pthread_join(th[j], NULL);
        free(th);
    }
    pthread_mutex_destroy(&w.lock);
    if (w.failed) {
        row_t *r = rep->rows + w.failed - 1;
        snprintf(err, errsz, "%s: %s", c->id, r->note[0] ? r->note : "invalid parameters");
        return -1;
    }
    for (long k = 0; k < rep->n_rows; k++) {
        verdict_t v = rep->rows[k].verdict;
        rep->holds += v == VERDICT_HOLDS;
        rep->violated += v == VERDICT_VIOLATED;
        rep->inconclusive += v == VERDICT_INCONCLUSIVE;
    }
    if (c->fit)
        rep->n_fits = c->fit(rep->fits, REPORT_MAX_FITS, rep->rows, rep->n_rows);
    if (c->summary_md)
        rep->summary = c->summary_md(rep->rows, rep->n_rows);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    rep->seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    return 0;
}

long runner_expand(row_t **rows, const claim_t *c, const run_options_t *o)
{
    long n = expand_grid(rows, c, o);
    for (long k = 0; k < n; k++) {
        row_t *r = *rows + k;
        long s;
        r->mutation = o->mutation;
        r->seed = params_get_long(&s, &r->params, "seed") == 0 ? (unsigned long)s
                                                               : (o->seed_set ? o->seed : 1);
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
    memset(rep, 0, sizeof *rep);
}
