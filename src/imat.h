/* Interval matrices over MPFI: every entry is a certified enclosure.
 * Row-major; an entry's precision is fixed at init.  Outputs first, inputs
 * const, precision last (FLINT style). */
#ifndef ATTNCHECK_IMAT_H
#define ATTNCHECK_IMAT_H

#include <gmp.h>
#include <mpfr.h>
#include <mpfi.h>

typedef struct {
    long rows, cols;
    __mpfi_struct *e;
} imat_struct;
typedef imat_struct imat_t[1];

#define imat_entry(A, i, j) ((A)->e + (long)(i) * (A)->cols + (j))

void imat_init(imat_t A, long rows, long cols, mpfr_prec_t prec);
void imat_clear(imat_t A);
/* Re-shape to rows x cols, all entries zero, at prec. */
void imat_reinit(imat_t A, long rows, long cols, mpfr_prec_t prec);

void imat_zero(imat_t A);
void imat_one(imat_t A);                      /* identity (need not be square) */
void imat_set(imat_t B, const imat_t A);      /* same shape */
void imat_transpose(imat_t B, const imat_t A); /* B is cols x rows, no aliasing */
void imat_add(imat_t C, const imat_t A, const imat_t B);
void imat_scale(imat_t B, const imat_t A, const mpfi_t c);
/* C = A B; C must not alias A or B. Entries of C keep their own precision. */
void imat_mul(imat_t C, const imat_t A, const imat_t B);
/* Copy A into B at offset (r0, c0) of B. */
void imat_set_block(imat_t B, long r0, long c0, const imat_t A);

/* Exact dyadic random entries k / 2^bits with k uniform in [-2^bits, 2^bits]
 * and k != 0.  Exact whenever prec >= bits + 2, so one seed gives the same
 * instance at every precision. */
void imat_randtest_dyadic(imat_t A, gmp_randstate_t state, unsigned bits);

/* Certified bounds of the spectral norm ||A||_2.
 * upper: min(Frobenius, sqrt(||A||_1 ||A||_inf), sqrt(||A^T A||_inf)), all
 * rounded up.  lower: ||A v|| / ||v|| after iters power-iteration steps,
 * rounded down (v is any nonzero vector, so this is a true lower bound). */
void imat_norm2_upper(mpfr_t up, const imat_t A);
void imat_norm2_lower(mpfr_t lo, const imat_t A, int iters);
/* Frobenius norm, rounded up. */
void imat_norm_frobenius_upper(mpfr_t up, const imat_t A);
/* Largest |entry|, rounded up. */
void imat_max_abs_upper(mpfr_t up, const imat_t A);
/* Euclidean norm of row i as an enclosure. */
void imat_row_norm2(mpfi_t r, const imat_t A, long i);

/* 1 when every entry of A is a single point. */
int imat_is_exact(const imat_t A);

/* Interval helpers. */
/* max of two enclosures, as an enclosure of max(x, y); NaN if either is NaN. */
void ival_max(mpfi_t r, const mpfi_t x, const mpfi_t y);
/* Decimal strings of the ends, rounded outward, digits significant digits.
 * Caller frees with mpfr_free_str. */
char *ival_lo_str(const mpfi_t x, int digits);
char *ival_hi_str(const mpfi_t x, int digits);
char *fr_str(const mpfr_t x, int digits, mpfr_rnd_t rnd);

#endif
