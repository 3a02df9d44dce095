/* Certified sup norm of f - g over an interval, by branch and bound.
 *
 * Every box B of the domain gets an upper bound of |f - g| on B: the smaller
 * of the naive one, hi|f(B) - g(B)|, the mean-value one,
 * hi|(f - g)(m) + (f' - g')(B) (B - m)|, whose overestimate shrinks like
 * width^2 instead of width, and (with taylor_order N > 0) the Taylor one,
 * sum_{k<N} |c_k(m)| r^k + |c_N(B)| r^N (c_k the Taylor coefficients of
 * f - g, c_N(B) enclosing them over B: Lagrange's remainder; r the half
 * width), which shrinks like width^(N+1) and decides an identically zero
 * difference against an absolute floor; every box midpoint m a lower bound lo|f(m) - g(m)|
 * from point evaluations (as enclosures).  The box with the largest upper
 * bound is bisected until hi - lo <= rel_tol * hi (or hi <= abs_tol, or the
 * budget is spent).  Boxes are MPFR intervals [a, b]; each is evaluated on
 * the Arb ball that encloses it.  The result [lo, hi] always encloses the sup over the
 * domain: lo is a value of |f - g| at a point, and every point lies in a box
 * whose upper bound is at most hi.  Nothing is said about the tails outside
 * the domain; callers name the domain or argue the tails separately. */
#ifndef ATTNCHECK_SUPNORM_H
#define ATTNCHECK_SUPNORM_H

#include "act.h"

typedef struct {
    double rel_tol;     /* stop when hi - lo <= rel_tol * hi (default 1e-6) */
    double abs_tol;     /* or when hi <= abs_tol, the absolute floor (default 0: off):
                           what a difference that may be identically 0 can certify */
    int taylor_order;   /* N of the Taylor bound (default 0: off) */
    long max_boxes;     /* budget of box evaluations (default 200000) */
    long initial_boxes; /* uniform split of the domain to start (default 64) */
    double deadline;    /* stop splitting at this CLOCK_MONOTONIC time in seconds
                           (default: supnorm_set_deadline's, 0 = none) */
} supnorm_opts_t;

typedef struct {
    arb_t sup;      /* encloses sup |f - g| over the domain */
    mpfr_t argmax;  /* a point where |f - g| >= lo(sup) */
    long boxes;     /* boxes evaluated */
    int converged;  /* 1 when a tolerance was met within the budget */
    int at_floor;   /* converged because hi <= abs_tol (the sup is at most the floor,
                       and nothing more is known) */
} supnorm_t;

void supnorm_opts_default(supnorm_opts_t *o);
/* The deadline supnorm_opts_default gives from now on: `seconds` from now
 * (0: none).  A search stopped by it returns 1, its enclosure still valid. */
void supnorm_set_deadline(double seconds);
/* 1 once a search has stopped at its deadline. */
int supnorm_deadline_reached(void);
void supnorm_init(supnorm_t *s, mpfr_prec_t prec);
void supnorm_clear(supnorm_t *s);

/* sup over [a, b] of |f(x) - g(x)| (g may be NULL: sup |f|), evaluations at
 * precision prec (o NULL: defaults).  Returns 0 when converged, 1 when the budget ran out or a
 * box could not be split further (the enclosure is still valid, only wider;
 * it is not finite where f or g cannot be certified), -1 when the
 * domain is not a finite interval with a <= b. */
int supnorm_diff_on(supnorm_t *s, const act_t *f, const act_t *g,
                    const mpfr_t a, const mpfr_t b, const supnorm_opts_t *o, mpfr_prec_t prec);
/* The same over [-L, L]. */
int supnorm_diff(supnorm_t *s, const act_t *f, const act_t *g, const mpfr_t L,
                 const supnorm_opts_t *o, mpfr_prec_t prec);

/* Certified sup |f - g| on [-L, L] (L rounded up to a double) with relative
 * tolerance rel_tol; argmax and boxes may be NULL.  Returns supnorm_diff's
 * status. */
int supnorm_gap(arb_t sup, mpfr_t argmax, long *boxes, const act_t *f, const act_t *g,
                double L, double rel_tol, mpfr_prec_t prec);

#endif
