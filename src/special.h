/* Special functions MPFI lacks, as certified enclosures, and the constant
 * W0(1/e) of the relu-limit claim.  Monotone functions take MPFR's correctly
 * rounded values at the ends, rounded outward. */
#ifndef ATTNCHECK_SPECIAL_H
#define ATTNCHECK_SPECIAL_H

#include <gmp.h>
#include <mpfr.h>
#include <mpfi.h>

/* y encloses erf(x) for every point of x (erf is increasing). */
void special_ival_erf(mpfi_t y, const mpfi_t x);
/* y encloses erfc(x) for every point of x (erfc is decreasing). */
void special_ival_erfc(mpfi_t y, const mpfi_t x);
/* Standard normal CDF Phi(x) = erfc(-x/sqrt 2)/2 (increasing). */
void special_ival_normal_cdf(mpfi_t y, const mpfi_t x);
/* softplus(x) = log(1 + e^x) (increasing), computed as
 * max(x, 0) + log1p(e^-|x|) so that large x never overflows. */
void special_ival_softplus(mpfi_t y, const mpfi_t x);
/* Point value rounded in the direction rnd (every step rounds that way). */
void special_fr_softplus(mpfr_t y, const mpfr_t x, mpfr_rnd_t rnd);
/* Set y to the NaN interval: "cannot certify". */
void special_ival_set_nan(mpfi_t y);
/* 1 when y is a usable bounded enclosure (no NaN, no infinite end). */
int special_ival_is_finite(const mpfi_t y);

/* w encloses W0(1/e), the root of w e^w = 1/e, by interval Newton started
 * on [0.27, 0.29]; the root is certified by N(W) lying inside W.  Returns 0,
 * or -1 (w set to NaN) if the certification failed. */
int special_w0_inv_e(mpfi_t w, mpfr_prec_t prec);

#endif
