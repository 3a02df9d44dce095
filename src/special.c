/* Special functions as certified enclosures (see special.h). */
#include "special.h"

void special_ival_set_nan(mpfi_t y)
{
    mpfr_set_nan(&y->left);
    mpfr_set_nan(&y->right);
}

int special_ival_is_finite(const mpfi_t y)
{
    return !mpfi_nan_p(y) && mpfr_number_p(&y->left) && mpfr_number_p(&y->right);
}

/* y = [fn(lo x) rounded down, fn(hi x) rounded up] for increasing fn, or the
 * ends swapped for decreasing fn.  Ends are copied first so y may alias x. */
static void ival_monotone(mpfi_t y, const mpfi_t x,
                          int (*fn)(mpfr_ptr, mpfr_srcptr, mpfr_rnd_t), int increasing)
{
    if (mpfi_nan_p(x)) {
        special_ival_set_nan(y);
        return;
    }
    mpfr_t lo, hi, a, b;
    mpfr_init2(lo, mpfi_get_prec(x));
    mpfr_init2(hi, mpfi_get_prec(x));
    mpfr_init2(a, mpfi_get_prec(y));
    mpfr_init2(b, mpfi_get_prec(y));
    mpfi_get_left(lo, x);
    mpfi_get_right(hi, x);
    if (increasing) {
        fn(a, lo, MPFR_RNDD);
        fn(b, hi, MPFR_RNDU);
    } else {
        fn(a, hi, MPFR_RNDD);
        fn(b, lo, MPFR_RNDU);
    }
    /* a and b are at y's precision already, so this is exact. */
    mpfi_interv_fr(y, a, b);
    mpfr_clear(lo);
    mpfr_clear(hi);
    mpfr_clear(a);
    mpfr_clear(b);
}

void special_ival_erf(mpfi_t y, const mpfi_t x)
{
    ival_monotone(y, x, mpfr_erf, 1);
}

void special_ival_erfc(mpfi_t y, const mpfi_t x)
{
    ival_monotone(y, x, mpfr_erfc, 0);
}

void special_ival_normal_cdf(mpfi_t y, const mpfi_t x)
{
    mpfi_t t, s;
    mpfr_prec_t wp = mpfi_get_prec(y) + 8;
    mpfi_init2(t, wp);
    mpfi_init2(s, wp);
    mpfi_set_ui(s, 2);
    mpfi_sqrt(s, s);
    mpfi_div(t, x, s);
    mpfi_neg(t, t);
    special_ival_erfc(t, t);
    mpfi_div_2ui(y, t, 1);
    mpfi_clear(t);
    mpfi_clear(s);
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

void special_ival_softplus(mpfi_t y, const mpfi_t x)
{
    if (mpfi_nan_p(x)) {
        special_ival_set_nan(y);
        return;
    }
    mpfr_t lo, hi;
    mpfr_init2(lo, mpfi_get_prec(y));
    mpfr_init2(hi, mpfi_get_prec(y));
    special_fr_softplus(lo, &x->left, MPFR_RNDD);
    special_fr_softplus(hi, &x->right, MPFR_RNDU);
    mpfi_interv_fr(y, lo, hi);
    mpfr_clear(lo);
    mpfr_clear(hi);
}

/* g(w) = w e^w - 1/e over the enclosure w. */
static void w0_residual(mpfi_t g, const mpfi_t w, const mpfi_t inv_e)
{
    mpfi_t t;
    mpfi_init2(t, mpfi_get_prec(g));
    mpfi_exp(t, w);
    mpfi_mul(g, w, t);
    mpfi_sub(g, g, inv_e);
    mpfi_clear(t);
}

int special_w0_inv_e(mpfi_t w, mpfr_prec_t prec)
{
    mpfr_prec_t wp = prec + 32;
    mpfi_t W, N, m, g, dg, inv_e;
    mpfr_t mid;
    int certified = 0;
    mpfi_init2(W, wp);
    mpfi_init2(N, wp);
    mpfi_init2(m, wp);
    mpfi_init2(g, wp);
    mpfi_init2(dg, wp);
    mpfi_init2(inv_e, wp);
    mpfr_init2(mid, wp);

    mpfi_set_si(inv_e, -1);
    mpfi_exp(inv_e, inv_e);
    /* 0.27 and 0.29 as enclosures; the hull is a box that contains both. */
    mpfi_set_str(W, "0.27", 10);
    mpfi_set_str(N, "0.29", 10);
    mpfi_put(W, N);

    for (int it = 0; it < 200; it++) {
        mpfi_mid(mid, W);
        mpfi_set_fr(m, mid);
        w0_residual(g, m, inv_e);
        /* g'(W) = (1 + W) e^W > 0 on W, so the division is defined. */
        mpfi_exp(dg, W);
        mpfi_add_ui(N, W, 1);
        mpfi_mul(dg, dg, N);
        mpfi_div(N, g, dg);
        mpfi_sub(N, m, N);
        if (mpfi_nan_p(N))
            break;
        if (mpfr_greater_p(&N->left, &W->left) && mpfr_less_p(&N->right, &W->right))
            certified = 1; /* N(W) inside W: a unique root lies in W */
        mpfi_intersect(N, N, W);
        if (mpfi_is_empty(N)) {
            certified = 0; /* no root in W: cannot happen for a true enclosure */
            break;
        }
        /* Stop once the width stops shrinking. */
        mpfr_t dw, dn;
        mpfr_init2(dw, 32);
        mpfr_init2(dn, 32);
        mpfi_diam_abs(dw, W);
        mpfi_diam_abs(dn, N);
        int stalled = mpfr_cmp(dn, dw) >= 0;
        mpfr_clear(dw);
        mpfr_clear(dn);
        mpfi_set(W, N);
        if (stalled && certified)
            break;
    }
    if (certified)
        mpfi_set(w, W); /* rounds outward to w's precision */
    else
        special_ival_set_nan(w);

    mpfi_clear(W);
    mpfi_clear(N);
    mpfi_clear(m);
    mpfi_clear(g);
    mpfi_clear(dg);
    mpfi_clear(inv_e);
    mpfr_clear(mid);
    return certified ? 0 : -1;
}
