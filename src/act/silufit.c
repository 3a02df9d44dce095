/* The SiLU_a fit of an activation (silufit.h): estimates in doubles. */
#include <math.h>
#include <stdlib.h>
#include "silufit.h"
#include "xalloc.h"

static double golden_max(double (*h)(double, const void *), const void *ctx, double lo,
                         double hi)
{
    const double r = 0.6180339887498949;
    double a = lo, b = hi, c = b - r * (b - a), e = a + r * (b - a);
    double fc = fabs(h(c, ctx)), fe = fabs(h(e, ctx));
    for (int it = 0; it < 60 && b - a > 1e-14 * (1 + fabs(a)); it++) {
        if (fc > fe) {
            b = e; e = c; fe = fc;
            c = b - r * (b - a); fc = fabs(h(c, ctx));
        } else {
            a = c; c = e; fc = fe;
            e = a + r * (b - a); fe = fabs(h(e, ctx));
        }
    }
    return fc > fe ? fc : fe;
}

double silufit_sup_d(double (*h)(double x, const void *ctx), const void *ctx, double L, int grid)
{
    double step = 2 * L / (grid - 1), best = 0;
    double *v = xmallocarray((size_t)grid, sizeof *v);
    for (int k = 0; k < grid; k++)
        v[k] = fabs(h(-L + k * step, ctx));
    for (int k = 0; k < grid; k++) {
        if (v[k] > best)
            best = v[k];
        int left = k == 0 || v[k - 1] <= v[k], right = k == grid - 1 || v[k + 1] <= v[k];
        if (left && right && k > 0 && k < grid - 1) {
            double m = golden_max(h, ctx, -L + (k - 1) * step, -L + (k + 1) * step);
            if (m > best)
                best = m;
        }
    }
    free(v);
    return best;
}

double silufit_golden_min(double (*F)(double a, const void *ctx), const void *ctx, double lo,
                     double hi, double tol)
{
    const double r = 0.6180339887498949;
    double a = lo, b = hi, c = b - r * (b - a), e = a + r * (b - a);
    double fc = F(c, ctx), fe = F(e, ctx);
    while (b - a > tol) {
        if (fc < fe) {
            b = e; e = c; fe = fc;
            c = b - r * (b - a); fc = F(c, ctx);
        } else {
            a = c; c = e; fc = fe;
            e = a + r * (b - a); fe = F(e, ctx);
        }
    }
    return fc < fe ? c : e;
}

typedef struct {
    const act_t *t;
    double a, L;
} fit_ctx_t;

static double diff_d(double x, const void *ctx)
{
    const fit_ctx_t *c = ctx;
    return act_eval_d(c->t, x) - x / (1 + exp(-c->a * x));
}

static double gap_of_a(double a, const void *ctx)
{
    fit_ctx_t c = *(const fit_ctx_t *)ctx;
    c.a = a;
    return silufit_sup_d(diff_d, &c, c.L, 2001);
}

double silufit_minimax_a(const act_t *t, double L)
{
    fit_ctx_t c = {t, 1, L};
    return act_snap_dyadic(silufit_golden_min(gap_of_a, &c, 1.0, 3.0, 1e-8), 30);
}
