/* The SiLU_a that best fits an activation: a* = argmin_a G(a), G(a) =
 * sup_{|z| <= L} |T(z) - SiLU_a(z)|.  The search runs in doubles (a grid of
 * 2001 points, local maxima refined, then golden-section search over a in
 * [1, 3]): a* is an estimate, never a verdict; callers certify G at it. */
#ifndef ATTNCHECK_SILUFIT_H
#define ATTNCHECK_SILUFIT_H

#include "act.h"

/* a* for target t on [-L, L], rounded to a multiple of 2^-30 (a short exact
 * dyadic, the same every run). */
double silufit_minimax_a(const act_t *t, double L);

/* Double estimate of sup |h| on [-L, L]: a grid of `grid` points, every
 * local maximum refined by golden-section search. */
double silufit_sup_d(double (*h)(double x, const void *ctx), const void *ctx, double L, int grid);
/* Golden-section minimum of F on [lo, hi] to tolerance tol (doubles). */
double silufit_golden_min(double (*F)(double a, const void *ctx), const void *ctx, double lo,
                          double hi, double tol);

#endif
