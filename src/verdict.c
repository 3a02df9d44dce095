/* The error metric and the verdicts of claims.md. */
#include "verdict.h"

const char *verdict_name(verdict_t v)
{
    switch (v) {
    case VERDICT_HOLDS: return "holds";
    case VERDICT_VIOLATED: return "violated";
    default: return "inconclusive";
    }
}

void error_metric(mpfi_t E, mpfi_t E_abs, const imat_t Y, const imat_t Z,
                  long row0, long rows, long cols)
{
    mpfr_prec_t p = mpfi_get_prec(E);
    mpfi_t d, s, r;
    mpfi_init2(d, p);
    mpfi_init2(s, p);
    mpfi_init2(r, p);
    mpfi_set_ui(E, 0);
    mpfi_set_ui(E_abs, 0);
    for (long i = row0; i < row0 + rows; i++) {
        mpfi_set_ui(r, 0);
        for (long j = 0; j < cols; j++) {
            mpfi_sub(d, imat_entry(Y, i, j), imat_entry(Z, i, j));
            mpfi_abs(d, d);
            ival_max(E_abs, E_abs, d);
            mpfi_sqr(s, d);
            mpfi_add(r, r, s);
        }
        mpfi_sqrt(r, r);
        ival_max(E, E, r);
    }
    mpfi_clear(d);
    mpfi_clear(s);
    mpfi_clear(r);
}

int verdict_kappa(int depth)
{
    return VERDICT_EXACT_KAPPA + VERDICT_KAPPA_PER_LAYER * (depth > 1 ? depth - 1 : 0);
}

void verdict_exact_unit(mpfr_t u, const mpfr_t S, mpfr_prec_t prec)
{
    mpfr_set(u, S, MPFR_RNDD); /* rounded down so the test never passes too easily */
    if (mpfr_zero_p(u))
        mpfr_set_ui(u, 1, MPFR_RNDD);
    mpfr_mul_2si(u, u, -(long)prec, MPFR_RNDD);
}

verdict_t verdict_exact(const mpfi_t E, const mpfr_t S, mpfr_prec_t prec, int depth)
{
    if (mpfi_nan_p(E))
        return VERDICT_INCONCLUSIVE; /* nothing is known */
    if (mpfr_sgn(&E->left) > 0)
        return VERDICT_VIOLATED; /* 0 excluded: a certified counterexample */
    if (!mpfr_number_p(S) || !mpfr_number_p(&E->right))
        return VERDICT_INCONCLUSIVE; /* an infinite scale would certify anything */
    mpfr_t lim;
    mpfr_init2(lim, 64);
    verdict_exact_unit(lim, S, prec);
    mpfr_mul_2si(lim, lim, verdict_kappa(depth), MPFR_RNDD); /* exact: a power of two */
    verdict_t v = mpfr_lessequal_p(&E->right, lim) ? VERDICT_HOLDS : VERDICT_INCONCLUSIVE;
    mpfr_clear(lim);
    return v;
}

verdict_t verdict_bound(const mpfi_t E, const mpfi_t bound)
{
    if (mpfi_nan_p(E) || mpfi_nan_p(bound))
        return VERDICT_INCONCLUSIVE;
    if (mpfr_lessequal_p(&E->right, &bound->left))
        return VERDICT_HOLDS;
    if (mpfr_greater_p(&E->left, &bound->right))
        return VERDICT_VIOLATED;
    return VERDICT_INCONCLUSIVE;
}
