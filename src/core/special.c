/* Special functions as certified enclosures (see special.h). */
#include "special.h"

/* 1 when x is a point or its radius is below 2^-32 of its midpoint. */
static int ball_is_narrow(const arb_t x)
{
    if (mag_is_zero(arb_radref(x)))
        return 1;
    if (arf_is_zero(arb_midref(x)))
        return 0;
    mag_t m; /* |mid| 2^-32, rounded down: mags hold any exponent */
    mag_init(m);
    arf_get_mag_lower(m, arb_midref(x));
    mag_mul_2exp_si(m, m, -32);
    int narrow = mag_cmp(arb_radref(x), m) < 0;
    mag_clear(m);
    return narrow;
}

/* y = hull(fn(lo x), fn(hi x)) for a monotone fn: fn over x lies between
 * its values at the ends.  The ends are rounded outward first, which only
 * widens. */
void special_ival_monotone(arb_t y, const arb_t x, special_ball_fn fn, mpfr_prec_t prec)
{
    if (!arb_is_finite(x)) {
        arb_indeterminate(y);
        return;
    }
    if (ball_is_narrow(x)) {
        fn(y, x, prec); /* a point, or narrow: Arb's propagation is as tight */
        return;
    }
    arb_t a, b;
    arb_init(a);
    arb_init(b);
    arb_get_lbound_arf(arb_midref(a), x, prec + 32);
    arb_get_ubound_arf(arb_midref(b), x, prec + 32);
    fn(a, a, prec);
    fn(b, b, prec);
    arb_union(y, a, b, prec);
    arb_clear(a);
    arb_clear(b);
}

void special_ival_erf(arb_t y, const arb_t x, mpfr_prec_t prec)
{
    special_ival_monotone(y, x, arb_hypgeom_erf, prec);
}

void special_ival_erfc(arb_t y, const arb_t x, mpfr_prec_t prec)
{
    special_ival_monotone(y, x, arb_hypgeom_erfc, prec);
}

void special_ival_normal_cdf(arb_t y, const arb_t x, mpfr_prec_t prec)
{
    mpfr_prec_t wp = prec + 8;
    arb_t t, s;
    arb_init(t);
    arb_init(s);
    arb_sqrt_ui(s, 2, wp);
    arb_div(t, x, s, wp);
    arb_neg(t, t);
    special_ival_erfc(t, t, wp);
    arb_mul_2exp_si(t, t, -1);
    arb_set_round(y, t, prec);
    arb_clear(t);
    arb_clear(s);
}

/* softplus(x) = max(x, 0) + log1p(e^-|x|) on a ball (x occurs twice, so
 * this is for points; ball_monotone calls it at the ends). */
static void softplus_ball(arb_t y, const arb_t x, slong prec)
{
    arb_t t;
    arb_init(t);
    arb_abs(t, x);
    arb_neg(t, t);
    arb_exp(t, t, prec + 8);
    arb_log1p(t, t, prec + 8);
    if (arb_is_positive(x))
        arb_add(y, t, x, prec);
    else
        arb_set_round(y, t, prec);
    arb_clear(t);
}

void special_ival_softplus(arb_t y, const arb_t x, mpfr_prec_t prec)
{
    special_ival_monotone(y, x, softplus_ball, prec);
}

/* softplus(x) = log1p(exp(x)), increasing; evaluated as
 * max(x, 0) + log1p(exp(-|x|)) so that large x never overflows. */
void special_fr_softplus(mpfr_t y, const mpfr_t x, mpfr_rnd_t rnd)
{
    mpfr_t t, ax;
    mpfr_init2(t, mpfr_get_prec(y) + 8);
    mpfr_init2(ax, mpfr_get_prec(x));
    mpfr_abs(ax, x, MPFR_RNDN); /* exact */
    mpfr_neg(ax, ax, MPFR_RNDN);
    mpfr_exp(t, ax, rnd);        /* log1p and exp are increasing: round both the same way */
    mpfr_log1p(t, t, rnd);
    if (mpfr_sgn(x) > 0)
        mpfr_add(y, t, x, rnd);
    else
        mpfr_set(y, t, rnd);
    mpfr_clear(t);
    mpfr_clear(ax);
}

int special_w0_inv_e(arb_t w, mpfr_prec_t prec)
{
    arb_t t;
    arb_init(t);
    arb_set_si(t, -1);
    arb_exp(t, t, prec + 16);
    arb_lambertw(w, t, 0, prec); /* principal branch */
    arb_clear(t);
    if (!arb_is_finite(w)) {
        arb_indeterminate(w);
        return -1;
    }
    return 0;
}
