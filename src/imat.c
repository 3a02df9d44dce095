/* Interval matrices over MPFI.  Every operation is MPFI's, so every entry
 * of a result encloses the exact result for all points of the inputs. */
#include <stdlib.h>
#include <string.h>
#include "imat.h"
#include "xalloc.h"

void imat_init(imat_t A, long rows, long cols, mpfr_prec_t prec)
{
    A->rows = rows;
    A->cols = cols;
    A->e = rows * cols > 0 ? xmallocarray((size_t)(rows * cols), sizeof(__mpfi_struct)) : NULL;
    for (long k = 0; k < rows * cols; k++) {
        mpfi_init2((A->e + k), prec);
        mpfi_set_ui((A->e + k), 0);
    }
}

void imat_clear(imat_t A)
{
    for (long k = 0; k < A->rows * A->cols; k++)
        mpfi_clear((A->e + k));
    free(A->e);
    A->e = NULL;
    A->rows = A->cols = 0;
}

void imat_reinit(imat_t A, long rows, long cols, mpfr_prec_t prec)
{
    imat_clear(A);
    imat_init(A, rows, cols, prec);
}

void imat_zero(imat_t A)
{
    for (long k = 0; k < A->rows * A->cols; k++)
        mpfi_set_ui((A->e + k), 0);
}

void imat_one(imat_t A)
{
    imat_zero(A);
    for (long i = 0; i < A->rows && i < A->cols; i++)
        mpfi_set_ui(imat_entry(A, i, i), 1);
}

void imat_set(imat_t B, const imat_t A)
{
    for (long k = 0; k < A->rows * A->cols; k++)
        mpfi_set((B->e + k), (A->e + k));
}


void imat_transpose(imat_t B, const imat_t A)
{
    for (long i = 0; i < A->rows; i++)
        for (long j = 0; j < A->cols; j++)
            mpfi_set(imat_entry(B, j, i), imat_entry(A, i, j));
}

void imat_add(imat_t C, const imat_t A, const imat_t B)
{
    for (long k = 0; k < A->rows * A->cols; k++)
        mpfi_add((C->e + k), (A->e + k), (B->e + k));
}


void imat_scale(imat_t B, const imat_t A, const mpfi_t c)
{
    for (long k = 0; k < A->rows * A->cols; k++)
        mpfi_mul((B->e + k), (A->e + k), c);
}

void imat_mul(imat_t C, const imat_t A, const imat_t B)
{
    mpfi_t t;
    mpfi_init2(t, mpfi_get_prec((C->e + 0)));
    for (long i = 0; i < A->rows; i++)
        for (long j = 0; j < B->cols; j++) {
            mpfi_ptr c = imat_entry(C, i, j);
            mpfi_set_ui(c, 0);
            for (long k = 0; k < A->cols; k++) {
                mpfi_srcptr a = imat_entry(A, i, k);
                /* Exact zeros are common in the constructions: skip them. */
                if (mpfr_zero_p(&a->left) && mpfr_zero_p(&a->right))
                    continue;
                mpfi_mul(t, a, imat_entry(B, k, j));
                mpfi_add(c, c, t);
            }
        }
    mpfi_clear(t);
}

void imat_set_block(imat_t B, long r0, long c0, const imat_t A)
{
    for (long i = 0; i < A->rows; i++)
        for (long j = 0; j < A->cols; j++)
            mpfi_set(imat_entry(B, r0 + i, c0 + j), imat_entry(A, i, j));
}


void imat_randtest_dyadic(imat_t A, gmp_randstate_t state, unsigned bits)
{
    unsigned long span = 2UL << bits; /* k + 2^bits uniform in [0, 2^(bits+1)] minus 0 */
    for (long k = 0; k < A->rows * A->cols; k++) {
        long v;
        do
            v = (long)gmp_urandomm_ui(state, span + 1) - (long)(span / 2);
        while (v == 0);
        mpfi_set_si((A->e + k), v);
        mpfi_div_2ui((A->e + k), (A->e + k), bits); /* exact: a power-of-two scaling */
    }
}

/* |x| rounded up, for an enclosure x; +inf when x is NaN, so an unknown
 * entry can only make an upper bound larger, never vanish from a max. */
static void mag_up(mpfr_t m, mpfi_srcptr x)
{
    if (mpfi_nan_p(x))
        mpfr_set_inf(m, 1);
    else
        mpfi_mag(m, x); /* MPFI rounds the magnitude up */
}

void imat_max_abs_upper(mpfr_t up, const imat_t A)
{
    mpfr_t m;
    mpfr_init2(m, mpfr_get_prec(up));
    mpfr_set_ui(up, 0, MPFR_RNDU);
    for (long k = 0; k < A->rows * A->cols; k++) {
        mag_up(m, (A->e + k));
        mpfr_max(up, up, m, MPFR_RNDU);
    }
    mpfr_clear(m);
}

void imat_norm_frobenius_upper(mpfr_t up, const imat_t A)
{
    mpfr_t m;
    mpfr_init2(m, mpfr_get_prec(up));
    mpfr_set_ui(up, 0, MPFR_RNDU);
    for (long k = 0; k < A->rows * A->cols; k++) {
        mag_up(m, (A->e + k));
        mpfr_sqr(m, m, MPFR_RNDU);
        mpfr_add(up, up, m, MPFR_RNDU);
    }
    mpfr_sqrt(up, up, MPFR_RNDU);
    mpfr_clear(m);
}

/* max over rows (by_rows) or columns of the sum of |entries|, rounded up. */
static void abs_sum_max_upper(mpfr_t up, const imat_t A, int by_rows)
{
    long outer = by_rows ? A->rows : A->cols, inner = by_rows ? A->cols : A->rows;
    mpfr_t m, s;
    mpfr_inits2(mpfr_get_prec(up), m, s, (mpfr_ptr)0);
    mpfr_set_ui(up, 0, MPFR_RNDU);
    for (long a = 0; a < outer; a++) {
        mpfr_set_ui(s, 0, MPFR_RNDU);
        for (long b = 0; b < inner; b++) {
            mag_up(m, by_rows ? imat_entry(A, a, b) : imat_entry(A, b, a));
            mpfr_add(s, s, m, MPFR_RNDU);
        }
        mpfr_max(up, up, s, MPFR_RNDU);
    }
    mpfr_clears(m, s, (mpfr_ptr)0);
}

void imat_norm2_upper(mpfr_t up, const imat_t A)
{
    mpfr_prec_t p = mpfr_get_prec(up);
    mpfr_t t, u;
    mpfr_inits2(p, t, u, (mpfr_ptr)0);
    imat_norm_frobenius_upper(up, A);
    /* ||A||_2^2 <= ||A||_1 ||A||_inf */
    abs_sum_max_upper(t, A, 1);
    abs_sum_max_upper(u, A, 0);
    mpfr_mul(t, t, u, MPFR_RNDU);
    mpfr_sqrt(t, t, MPFR_RNDU);
    mpfr_min(up, up, t, MPFR_RNDU);
    /* ||A||_2^2 = rho(A^T A) <= ||A^T A||_inf, with A^T A enclosed. */
    if (A->rows > 0 && A->cols > 0) {
        imat_t At, G;
        imat_init(At, A->cols, A->rows, p);
        imat_init(G, A->cols, A->cols, p);
        imat_transpose(At, A);
        imat_mul(G, At, A);
        abs_sum_max_upper(t, G, 1);
        mpfr_sqrt(t, t, MPFR_RNDU);
        mpfr_min(up, up, t, MPFR_RNDU);
        imat_clear(At);
        imat_clear(G);
    }
    mpfr_clears(t, u, (mpfr_ptr)0);
}

void imat_norm2_lower(mpfr_t lo, const imat_t A, int iters)
{
    mpfr_prec_t p = mpfr_get_prec(lo);
    long n = A->cols;
    imat_t v, w, At;
    mpfi_t nv, nw;
    imat_init(v, n, 1, p);
    imat_init(w, A->rows, 1, p);
    imat_init(At, n, A->rows, p);
    mpfi_init2(nv, p);
    mpfi_init2(nw, p);
    imat_transpose(At, A);
    for (long k = 0; k < n; k++)
        mpfi_set_ui(imat_entry(v, k, 0), 1 + (unsigned long)(k % 3));
    /* Power iteration on A^T A; the ratio at the end is a lower bound for any v. */
    for (int it = 0; it < iters; it++) {
        imat_mul(w, A, v);
        imat_mul(v, At, w);
        /* re-centre on midpoints and normalise roughly so widths do not grow */
        mpfr_t mx, m;
        mpfr_inits2(p, mx, m, (mpfr_ptr)0);
        mpfr_set_ui(mx, 0, MPFR_RNDN);
        for (long k = 0; k < n; k++) {
            mpfi_mid(m, imat_entry(v, k, 0));
            mpfr_abs(m, m, MPFR_RNDN);
            mpfr_max(mx, mx, m, MPFR_RNDN);
        }
        for (long k = 0; k < n; k++) {
            mpfi_mid(m, imat_entry(v, k, 0));
            if (!mpfr_zero_p(mx))
                mpfr_div(m, m, mx, MPFR_RNDN);
            mpfi_set_fr(imat_entry(v, k, 0), m);
        }
        mpfr_clears(mx, m, (mpfr_ptr)0);
    }
    imat_mul(w, A, v);
    mpfi_set_ui(nv, 0);
    mpfi_set_ui(nw, 0);
    for (long k = 0; k < n; k++) {
        mpfi_t s;
        mpfi_init2(s, p);
        mpfi_sqr(s, imat_entry(v, k, 0));
        mpfi_add(nv, nv, s);
        mpfi_clear(s);
    }
    for (long k = 0; k < A->rows; k++) {
        mpfi_t s;
        mpfi_init2(s, p);
        mpfi_sqr(s, imat_entry(w, k, 0));
        mpfi_add(nw, nw, s);
        mpfi_clear(s);
    }
    if (mpfi_has_zero(nv)) {
        mpfr_set_ui(lo, 0, MPFR_RNDD);
    } else {
        mpfi_div(nw, nw, nv);
        mpfi_sqrt(nw, nw);
        mpfi_get_left(lo, nw);
    }
    imat_clear(v);
    imat_clear(w);
    imat_clear(At);
    mpfi_clear(nv);
    mpfi_clear(nw);
}

void imat_row_norm2(mpfi_t r, const imat_t A, long i)
{
    mpfi_t s;
    mpfi_init2(s, mpfi_get_prec(r));
    mpfi_set_ui(r, 0);
    for (long j = 0; j < A->cols; j++) {
        mpfi_sqr(s, imat_entry(A, i, j));
        mpfi_add(r, r, s);
    }
    mpfi_sqrt(r, r);
    mpfi_clear(s);
}

int imat_is_exact(const imat_t A)
{
    for (long k = 0; k < A->rows * A->cols; k++)
        if (!mpfr_equal_p(&(A->e + k)->left, &(A->e + k)->right))
            return 0;
    return 1;
}

void ival_max(mpfi_t r, const mpfi_t x, const mpfi_t y)
{
    /* mpfr_max would return the other operand: a NaN must not vanish */
    if (mpfi_nan_p(x) || mpfi_nan_p(y)) {
        mpfr_set_nan(&r->left);
        mpfr_set_nan(&r->right);
        return;
    }
    mpfr_t lo, hi;
    mpfr_inits2(mpfi_get_prec(r), lo, hi, (mpfr_ptr)0);
    mpfr_max(lo, &x->left, &y->left, MPFR_RNDD);
    mpfr_max(hi, &x->right, &y->right, MPFR_RNDU);
    mpfi_interv_fr(r, lo, hi);
    mpfr_clears(lo, hi, (mpfr_ptr)0);
}

char *fr_str(const mpfr_t x, int digits, mpfr_rnd_t rnd)
{
    char *s = NULL;
    if (mpfr_zero_p(x))
        mpfr_asprintf(&s, "0");
    else if (rnd == MPFR_RNDD)
        mpfr_asprintf(&s, "%.*RDe", digits - 1, x);
    else if (rnd == MPFR_RNDU)
        mpfr_asprintf(&s, "%.*RUe", digits - 1, x);
    else
        mpfr_asprintf(&s, "%.*RNe", digits - 1, x);
    return s;
}

char *ival_lo_str(const mpfi_t x, int digits)
{
    return fr_str(&x->left, digits, MPFR_RNDD);
}

char *ival_hi_str(const mpfi_t x, int digits)
{
    return fr_str(&x->right, digits, MPFR_RNDU);
}
