/* Special functions as certified enclosures on Arb balls, and the constant
 * W0(1/e) of the relu-limit claim.  Monotone functions are evaluated at the
 * ends of the argument only, so a wide ball gets a tight result. */
#ifndef ATTNCHECK_SPECIAL_H
#define ATTNCHECK_SPECIAL_H

#include "ball.h"

/* A monotone fn over the ball x: on a narrow ball (radius below 2^-32 of
 * the midpoint) Arb's own propagation, fn(x); otherwise the hull of fn at
 * the two ends, as tight as the range itself.  y may alias x. */
typedef void (*special_ball_fn)(arb_t y, const arb_t x, slong prec);
void special_ival_monotone(arb_t y, const arb_t x, special_ball_fn fn, mpfr_prec_t prec);

/* y encloses erf(t) for every point t of x (erf is increasing). */
void special_ival_erf(arb_t y, const arb_t x, mpfr_prec_t prec);
/* y encloses erfc(t) for every point t of x (erfc is decreasing). */
void special_ival_erfc(arb_t y, const arb_t x, mpfr_prec_t prec);
/* Standard normal CDF Phi(x) = erfc(-x/sqrt 2)/2 (increasing). */
void special_ival_normal_cdf(arb_t y, const arb_t x, mpfr_prec_t prec);
/* softplus(x) = log(1 + e^x) (increasing), computed as
 * max(x, 0) + log1p(e^-|x|) so that large x never overflows. */
void special_ival_softplus(arb_t y, const arb_t x, mpfr_prec_t prec);
/* Point value rounded in the direction rnd (every step rounds that way). */
void special_fr_softplus(mpfr_t y, const mpfr_t x, mpfr_rnd_t rnd);

/* w encloses W0(1/e), the root of w e^w = 1/e (arb_lambertw, principal
 * branch).  Returns 0, or -1 (w not finite) if it could not be certified. */
int special_w0_inv_e(arb_t w, mpfr_prec_t prec);

#endif
