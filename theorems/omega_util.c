#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "omega_util.h"
#include "runner.h"
#include "xalloc.h"

double omega_ln_d(const mpfr_t x)
{
    if (mpfr_sgn(x) <= 0)
        return NAN;
    mpfr_t t;
    mpfr_init2(t, 64);
    mpfr_log(t, x, MPFR_RNDN);
    double v = mpfr_get_d(t, MPFR_RNDN);
    mpfr_clear(t);
    return v;
}

int omega_resolved(const arb_t E) { return arb_is_positive(E); }

double omega_ln_hi_d(const arb_t x)
{
    mpfr_t t;
    mpfr_init2(t, 64);
    ival_get_hi(t, x);
    double v = omega_ln_d(t);
    mpfr_clear(t);
    return v;
}

const column_t *omega_extra(const row_t *r, const char *name)
{
    for (int k = 0; k < r->n_extra; k++)
        if (strcmp(r->extra[k].name, name) == 0)
            return r->extra + k;
    return NULL;
}

void omega_lsq(double *slope, double *intercept, const double *x, const double *y, int n)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (int k = 0; k < n; k++) {
        sx += x[k];
        sy += y[k];
    }
    double mx = sx / n, my = sy / n;
    for (int k = 0; k < n; k++) {
        sxx += (x[k] - mx) * (x[k] - mx);
        sxy += (x[k] - mx) * (y[k] - my);
    }
    *slope = sxx > 0 ? sxy / sxx : NAN;
    *intercept = my - *slope * mx;
}

static void series_key(char *buf, size_t n, const row_t *r, const char *const *keys)
{
    size_t len = (size_t)snprintf(buf, n, "%s", r->sweep ? r->sweep : "");
    for (int k = 0; keys[k] && len < n; k++) {
        const char *v = params_get(&r->params, keys[k]);
        if (v)
            len += (size_t)snprintf(buf + len, n - len, " %s=%s", keys[k], v);
    }
}

int omega_fit_series(fit_t *fits, int max_fits, const row_t *rows, long n_rows,
                     const char *const *keys, double omega_min, int tail, double expect)
{
    int nf = 0;
    char *done = xcalloc((size_t)n_rows + 1, 1);
    double *xs = xmallocarray((size_t)n_rows + 1, sizeof(double));
    double *ys = xmallocarray((size_t)n_rows + 1, sizeof(double));
    char key[256], other[256];
    for (long k = 0; k < n_rows && nf < max_fits; k++) {
        if (done[k] || !params_get(&rows[k].params, "omega"))
            continue;
        series_key(key, sizeof key, rows + k, keys);
        int n = 0;
        for (long j = k; j < n_rows; j++) {
            if (done[j] || !params_get(&rows[j].params, "omega"))
                continue;
            series_key(other, sizeof other, rows + j, keys);
            if (strcmp(key, other) != 0)
                continue;
            done[j] = 1;
            double om = params_get_double(&rows[j].params, "omega", NAN);
            if (!(om >= omega_min) || !omega_resolved(rows[j].error))
                continue;
            xs[n] = om;
            ys[n++] = omega_ln_hi_d(rows[j].error);
        }
        /* sort by omega, keep the last `tail` points */
        for (int a = 1; a < n; a++)
            for (int b = a; b > 0 && xs[b - 1] > xs[b]; b--) {
                double t = xs[b]; xs[b] = xs[b - 1]; xs[b - 1] = t;
                t = ys[b]; ys[b] = ys[b - 1]; ys[b - 1] = t;
            }
        int first = n > tail ? n - tail : 0;
        if (n - first < 2)
            continue;
        fit_t *f = fits + nf++;
        memset(f, 0, sizeof *f);
        /* series names longer than the field are cut (the table stays readable) */
        size_t kl = strlen(key) < sizeof f->series - 1 ? strlen(key) : sizeof f->series - 1;
        memcpy(f->series, key, kl);
        f->series[kl] = '\0';
        snprintf(f->x, sizeof f->x, "omega");
        snprintf(f->y, sizeof f->y, "ln hi(E)");
        snprintf(f->model, sizeof f->model, "ln E = a + b*omega");
        omega_lsq(&f->slope, &f->intercept, xs + first, ys + first, n - first);
        f->points = n - first;
        snprintf(f->comment, sizeof f->comment,
                 "estimate; omega in [%g, %g]; expected slope %g", xs[first], xs[n - 1], expect);
    }
    free(done);
    free(xs);
    free(ys);
    return nf;
}

void omega_strcat(char **s, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int add = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (add < 0)
        return;
    *s = xrealloc(*s, *len + (size_t)add + 1);
    va_start(ap, fmt);
    vsnprintf(*s + *len, (size_t)add + 1, fmt, ap);
    va_end(ap);
    *len += (size_t)add;
}

int omega_get(arb_t omega, row_t *r)
{
    if (params_get_ival(omega, &r->params, "omega", r->prec) != 0 || !arb_is_nonnegative(omega) ||
        !(ival_hi_d(omega) <= 100000)) {
        snprintf(r->note, sizeof r->note, "omega='%s' must be a number in [0, 100000]",
                 params_get(&r->params, "omega") ? params_get(&r->params, "omega") : "");
        return -1;
    }
    return 0;
}

void omega_blog_stream(imat_t Xb, const imat_t X, long w)
{
    long n = X->rows;
    imat_reinit(Xb, n + 1, w + n + 1);
    imat_set_block(Xb, 0, 0, X);
    for (long i = 0; i <= n; i++)
        arb_set_ui(imat_entry(Xb, i, w + i), 1);
}

mpfr_prec_t omega_blog_start_prec(const params_t *p)
{
    double om = params_get_double(p, "omega", 0);
    if (!(om >= 0) || om > 1e5)
        return 128;
    double bits = 64 + 2 * om / 0.6931471805599453 + 96;
    return (mpfr_prec_t)(bits < 65536 ? bits : 65536);
}

int omega_blog_params(row_t *r, arb_t omega, long *d, long *l, long *n)
{
    long dims[3];
    if (omega_get(omega, r) != 0 || thm_get_shape(dims, 3, r) != 0)
        return -1;
    *d = dims[0];
    *l = dims[1];
    *n = dims[2];
    if (*n < 2) {
        snprintf(r->note, sizeof r->note, "shape: n (the third size) must be at least 2");
        return -1;
    }
    return 0;
}

void omega_blog_positions(imat_t W, long c0, long P, long n, const arb_t c2, int no_self)
{
    for (long i = 0; i <= n; i++)
        arb_set(imat_entry(W, P + i, c0 + P + n), c2);
    if (!no_self)
        for (long i = 0; i < n; i++)
            arb_set(imat_entry(W, P + i, c0 + P + i), c2);
}

static double blog_bytes(const params_t *p, mpfr_prec_t prec, int three)
{
    long v[3];
    const char *shape = params_get(p, "shape");
    if (!shape || thm_parse_dims(v, 3, shape) != 3 || v[0] > THM_SIZE_MAX ||
        v[1] > THM_SIZE_MAX || v[2] > THM_SIZE_MAX)
        return 0; /* the row refuses it */
    long d = v[0], l = v[1], n = v[2], w = d + (three ? l : 0) + n + 1;
    double B = ball_bytes(prec), S = THM_EXACT_BALL_BYTES;
    double dd = (double)d, dl = (double)l, dn = (double)n, dw = (double)w, N = dn + 1;
    double inst = (dn * dd + 2 * dd * dl) * S;
    /* the stream (and its sum), the reference, the bound's n x l and n x d matrices */
    double streams = 2 * N * dw * B + 2 * dn * dd * B + 2 * dn * dl * B;
    attn_source_t heads = {.n_heads = l, .full = 1}, one = {.n_heads = 1, .full = 1};
    double work = mlp_apply_bytes(n, d, l, d, prec), t;
    if ((t = attn_layer_bytes(&heads, 1, w, n + 1, prec)) > work)
        work = t;
    if (three && (t = 2 * dw * dw * B + attn_layer_bytes(&one, 1, w, n + 1, prec)) > work)
        work = t;
    return THM_EST_BASE_BYTES + inst + streams + work;
}

double omega_blog_one_bytes(const params_t *p, mpfr_prec_t prec) { return blog_bytes(p, prec, 0); }
double omega_blog_three_bytes(const params_t *p, mpfr_prec_t prec) { return blog_bytes(p, prec, 1); }

int omega_blog_fit(fit_t *fits, int max_fits, const row_t *rows, long n_rows)
{
    static const char *const keys[] = {"shape", "seed", NULL};
    int nf = omega_fit_series(fits, max_fits, rows, n_rows, keys, 5, 100, -2);
    for (int k = 0; k < nf; k++)
        snprintf(fits[k].comment, sizeof fits[k].comment,
                 "estimate; all resolved omega >= 5; e^(-2 omega) is slope -2 (rate %.4f)",
                 fits[k].slope / -2);
    return nf;
}

char *omega_blog_summary(const row_t *rows, long n_rows)
{
    char *s = NULL;
    size_t len = 0;
    omega_strcat(&s, &len, "## Summary\n\nCertified E at the largest Omega of each series "
                           "(both ends shown; 'resolved' means lo(E) > 0):\n\n"
                           "| shape | seed | omega | prec | E lo | E hi | bound hi | "
                           "ln hi(E) + 2 omega (estimate) | resolved |\n|---|---|---|---|---|---|---|---|---|\n");
    for (long k = 0; k < n_rows; k++) {
        const row_t *r = rows + k;
        double om = params_get_double(&r->params, "omega", NAN);
        int largest = 1;
        for (long j = 0; j < n_rows; j++)
            if (strcmp(params_get(&rows[j].params, "shape"), params_get(&r->params, "shape")) == 0 &&
                rows[j].seed == r->seed && params_get_double(&rows[j].params, "omega", NAN) > om)
                largest = 0;
        if (!largest)
            continue;
        char *lo = ival_lo_str(r->error, 6), *hi = ival_hi_str(r->error, 6);
        char *bh = ival_hi_str(r->bound, 4);
        omega_strcat(&s, &len, "| %s | %lu | %g | %ld | %s | %s | %s | %.4f | %s |\n",
                     params_get(&r->params, "shape"), r->seed, om, (long)r->prec, lo, hi, bh,
                     omega_ln_hi_d(r->error) + 2 * om, omega_resolved(r->error) ? "yes" : "NO");
        mpfr_free_str(lo);
        mpfr_free_str(hi);
        mpfr_free_str(bh);
    }
    long resolved = 0;
    for (long k = 0; k < n_rows; k++)
        resolved += omega_resolved(rows[k].error);
    omega_strcat(&s, &len, "\nE resolved in %ld of %ld rows. A constant ln hi(E) + 2 Omega "
                           "means E = C e^(-2 Omega) exactly in the tail.", resolved, n_rows);
    return s;
}

void omega_ivals_init(arb_ptr x, ...)
{
    va_list ap;
    va_start(ap, x);
    for (; x; x = va_arg(ap, arb_ptr))
        arb_init(x);
    va_end(ap);
}

void omega_ivals_clear(arb_ptr x, ...)
{
    va_list ap;
    va_start(ap, x);
    for (; x; x = va_arg(ap, arb_ptr))
        arb_clear(x);
    va_end(ap);
}

int omega_blog_export(instance_t *I, const params_t *p, unsigned long seed, mpfr_prec_t prec,
                      int (*evaluate)(row_t *r, instance_t *out), const char *note)
{
    int rc = thm_export_evaluated(I, p, seed, prec, evaluate, note);
    I->net_bias_row = I->net_in->rows - 1; /* the extra token is last */
    return rc;
}

void omega_text_up(char *buf, size_t n, double v, int decimals)
{
    /* the decimal digits in mpfr, rounded up once: no double rounding */
    mpfr_t t;
    mpfr_init2(t, 64);
    mpfr_set_d(t, v, MPFR_RNDU); /* exact: a double */
    mpfr_snprintf(buf, n, "%.*RUf", decimals, t);
    mpfr_clear(t);
}
