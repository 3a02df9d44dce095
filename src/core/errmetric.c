/* Distances between two outputs, as enclosures: the error metric E, the
 * trivial bound the triangle inequality gives, and the scale S. */
#include "errmetric.h"

void error_metric(arb_t E, arb_t E_abs, const imat_t Y, const imat_t Z,
                  long row0, long rows, long cols, mpfr_prec_t prec)
{
    arb_ptr d = _arb_vec_init(cols > 0 ? cols : 1);
    arb_t r;
    arb_init(r);
    arb_zero(E);
    arb_zero(E_abs);
    for (long i = row0; i < row0 + rows; i++) {
        for (long j = 0; j < cols; j++) {
            arb_sub(d + j, imat_entry(Y, i, j), imat_entry(Z, i, j), prec);
            ival_abs(d + j, d + j, prec);
            ival_max(E_abs, E_abs, d + j, prec);
        }
        /* ||Y_i - Z_i||_2: the sum of squares rounded once */
        arb_dot(r, NULL, 0, d, 1, d, 1, cols, prec);
        arb_sqrtpos(r, r, prec);
        ival_max(E, E, r, prec);
    }
    /* norms: drop the part of the ball below 0 */
    if (arb_is_finite(E))
        arb_nonnegative_part(E, E);
    if (arb_is_finite(E_abs))
        arb_nonnegative_part(E_abs, E_abs);
    arb_clear(r);
    _arb_vec_clear(d, cols > 0 ? cols : 1);
}

void error_trivial_bound(arb_t T, const imat_t Y, const imat_t Z, long row0, long rows, long cols,
                         mpfr_prec_t prec)
{
    arb_t y, z;
    arb_init(y);
    arb_init(z);
    arb_zero(T);
    for (long i = row0; i < row0 + rows; i++) {
        arb_srcptr a = imat_entry(Y, i, 0), b = imat_entry(Z, i, 0);
        arb_dot(y, NULL, 0, a, 1, a, 1, cols, prec);
        arb_sqrtpos(y, y, prec);
        arb_dot(z, NULL, 0, b, 1, b, 1, cols, prec);
        arb_sqrtpos(z, z, prec);
        arb_add(y, y, z, prec);
        ival_max(T, T, y, prec);
    }
    arb_clear(y);
    arb_clear(z);
}

void scale_of(mpfr_t S, const imat_t Y, long row0, long rows, long cols)
{
    mpfr_t m;
    mpfr_init2(m, mpfr_get_prec(S));
    mpfr_set_ui(S, 0, MPFR_RNDU);
    for (long i = row0; i < row0 + rows; i++)
        for (long j = 0; j < cols; j++) {
            ival_get_mag(m, imat_entry(Y, i, j)); /* +inf when unknown: S is no longer finite */
            mpfr_max(S, S, m, MPFR_RNDU);
        }
    mpfr_clear(m);
}
