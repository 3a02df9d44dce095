/* Ball matrices over Arb: every entry is a certified enclosure (a ball).
 * Row-major and contiguous (A->e + k is entry k); A->m is the same matrix
 * as an arb_mat_t for Arb's routines.  Entries carry no precision of their
 * own: every operation that rounds takes prec, last (FLINT style). */
#ifndef ATTNCHECK_IMAT_H
#define ATTNCHECK_IMAT_H

#include "ball.h"

typedef struct {
    long rows, cols;   /* the shape (= arb_mat_nrows/ncols of m) */
    arb_ptr e;         /* the entries, row-major (= m->entries) */
    arb_mat_t m;
} imat_struct;
typedef imat_struct imat_t[1];

#define imat_entry(A, i, j) ((A)->e + (long)(i) * (A)->cols + (j))

void imat_init(imat_t A, long rows, long cols);   /* all zero */
void imat_clear(imat_t A);
/* Re-shape to rows x cols, all entries zero. */
void imat_reinit(imat_t A, long rows, long cols);

void imat_zero(imat_t A);
void imat_swap(imat_t A, imat_t B);            /* shapes and entries, O(1) */
void imat_one(imat_t A);                       /* identity (need not be square) */
void imat_set(imat_t B, const imat_t A);       /* same shape; exact */
/* 1 when A and B have one shape and, entry by entry, the same midpoint and
 * radius (the same bits). */
int imat_equal(const imat_t A, const imat_t B);
/* B takes A's shape and entries; A is left 0 x 0 (no copy). */
void imat_swap_into(imat_t B, imat_t A);
void imat_transpose(imat_t B, const imat_t A); /* B is cols x rows; exact */
void imat_add(imat_t C, const imat_t A, const imat_t B, mpfr_prec_t prec);
void imat_scale(imat_t B, const imat_t A, const arb_t c, mpfr_prec_t prec);
/* C = A B, and C = C + A B (the sum in the same rounding): each entry one
 * dot product rounded once, or, when A and B are both exact, Arb's block
 * product (exact integer blocks, rounded once per block).  Exactly zero
 * inner terms are skipped.  Large products run on par_for's threads, with
 * the same result bits on any number of them.  C may alias A or B. */
void imat_mul(imat_t C, const imat_t A, const imat_t B, mpfr_prec_t prec);
void imat_addmul(imat_t C, const imat_t A, const imat_t B, mpfr_prec_t prec);
/* When B is exact (every entry a point: model weights, drawn instances) and
 * A is not, imat_mul and imat_addmul take an integer kernel, from an inner
 * dimension of 8: W's columns as 64-bit integers (one exponent per column),
 * each row of A in fixed point (one exponent per row, prec + 24 bits or
 * more, truncated), the multiply-adds exact in 128-bit integers, and each
 * entry's radius
 *   sum_k rad(A_ik) |W_kj| (radii rounded up to integers of 32-62 bits)
 *   + 2^(E_i - F) sum_k |W_kj| (the truncation, when any),
 * then the entry rounded once at prec.  Rows with an entry that is not
 * finite, and entries whose truncation term exceeds 2^-prec of their value
 * and radius or whose radii lost more than 2^-16 to rounding, go through
 * arb_dot; a W with a column spanning more than 62 bits goes the way above.  The _exact_right forms take the kernel even
 * for an exact A or a short inner dimension (tests); the same contract
 * (C may alias A or W; the same bits on any number of threads). */
void imat_mul_exact_right(imat_t C, const imat_t A, const imat_t W, mpfr_prec_t prec);
void imat_addmul_exact_right(imat_t C, const imat_t A, const imat_t W, mpfr_prec_t prec);
/* The kernel itself (imat_fixmul.c), for imat.c: C = A W (add = 0) or
 * C + A W (add = 1), C aliasing neither, when every entry of W meeting a
 * nonzero column of A is a finite point and each column spans at most 62
 * bits: returns 1.  Otherwise returns 0 with C untouched.  _bytes: its
 * scratch memory, an estimate. */
int imat_fixmul_into(imat_t C, const imat_t A, const imat_t W, int add, mpfr_prec_t prec);
double imat_fixmul_bytes(long M, long K, long P, mpfr_prec_t prec);
/* Scratch memory of one M x K times K x P product at prec (beyond A, B and
 * C), in bytes: an estimate for memory limits, for par_threads() threads. */
double imat_mul_bytes(long M, long K, long P, mpfr_prec_t prec);
/* W = rows [r0, r1) of A, a view (no copy; A must outlive it and keep its
 * shape); clear with imat_window_clear, never imat_clear. */
void imat_rows_window_init(imat_t W, const imat_t A, long r0, long r1);
void imat_window_clear(imat_t W);
/* Copy A into B at offset (r0, c0) of B; exact. */
void imat_set_block(imat_t B, long r0, long c0, const imat_t A);

/* Exact dyadic random entries k / 2^bits with k uniform in [-2^bits, 2^bits]
 * and k != 0: the same instance at every precision. */
void imat_randtest_dyadic(imat_t A, gmp_randstate_t state, unsigned bits);

/* Certified bounds of the spectral norm ||A||_2, as MPFR points rounded at
 * the precision of the output (correctly rounded steps, so the same bound
 * whatever the arithmetic behind the entries).
 * upper: min(Frobenius, sqrt(||A||_1 ||A||_inf), sqrt(||A^T A||_inf)), all
 * rounded up.  lower: ||A v|| / ||v|| after iters power-iteration steps,
 * rounded down (v is any nonzero vector, so this is a true lower bound).
 * An entry that is not finite makes an upper bound +inf. */
void imat_norm2_upper(mpfr_t up, const imat_t A);
void imat_norm2_lower(mpfr_t lo, const imat_t A, int iters);
/* Frobenius norm, rounded up. */
void imat_norm_frobenius_upper(mpfr_t up, const imat_t A);
/* Largest |entry|, rounded up. */
void imat_max_abs_upper(mpfr_t up, const imat_t A);
/* Euclidean norm of row i as an enclosure (sum of squares rounded once). */
void imat_row_norm2(arb_t r, const imat_t A, long i, mpfr_prec_t prec);

/* Heap bytes one ball holds beyond its struct at prec (an estimate for memory
 * limits: Arb keeps up to two limbs of the midpoint inline). */
double ball_heap_bytes(mpfr_prec_t prec);
/* Bytes of a ball at prec: its struct and its heap. */
double ball_bytes(mpfr_prec_t prec);

/* 1 when every entry of A is a single point. */
int imat_is_exact(const imat_t A);

/* ---- ball helpers ---- */
/* max of two enclosures, as an enclosure of max(x, y); a non-finite
 * operand gives a non-finite result (a NaN never vanishes from a max). */
void ival_max(arb_t r, const arb_t x, const arb_t y, mpfr_prec_t prec);
/* Comparisons of every point, decided on the ends (touching ends count as
 * <=); 0 when either ball is not finite, except that a finite x is below the
 * point +inf.  (Arb's arb_le answers 0 for balls that only touch.) */
int ival_le(const arb_t x, const arb_t y);   /* hi(x) <= lo(y) */
int ival_gt(const arb_t x, const arb_t y);   /* lo(x) > hi(y) */
/* x <- its intersection with y (both enclosures of one number), when the
 * ball holding the intersection is narrower than x; disjoint balls (which
 * cannot both hold the number) make x indeterminate. */
void ival_narrow(arb_t x, const arb_t y, mpfr_prec_t prec);
/* |x| with a lower end of 0, not below, when x straddles 0. */
void ival_abs(arb_t r, const arb_t x, mpfr_prec_t prec);
/* e^x for a claimed upper bound.  Where x is finite but its lower end is
 * above 2^32, e^x exceeds 2^(2^32) and Arb cannot hold it (arb_exp gives
 * [0 +- inf]); then y is the point +inf: above every number (MPFR's
 * overflow), so hi(E) <= y still decides for any finite E.  Elsewhere it is
 * arb_exp. */
void ival_exp_bound(arb_t y, const arb_t x, mpfr_prec_t prec);
/* x = the MPFR point v, exactly. */
void ival_set_fr(arb_t x, const mpfr_t v);
/* The ball enclosing [lo, hi] (MPFR points); hi = +inf or a NaN end gives a
 * non-finite ball. */
void ival_set_interval_fr(arb_t x, const mpfr_t lo, const mpfr_t hi, mpfr_prec_t prec);
/* Ends of x as MPFR points at their own precision: lo rounded down, hi
 * rounded up (NaN when x has a NaN midpoint, infinite when x is unbounded). */
void ival_get_lo(mpfr_t lo, const arb_t x);
void ival_get_hi(mpfr_t hi, const arb_t x);
/* The largest |t| over x, rounded up at m's precision; +inf when x is not
 * finite, so an unknown entry can only make an upper bound larger, never
 * vanish from a max. */
void ival_get_mag(mpfr_t m, const arb_t x);
/* The diameter 2 rad(x), rounded up at w's precision (MPFR's exponent
 * range: widths far below the doubles). */
void ival_get_diam(mpfr_t w, const arb_t x);
/* The ends as doubles: lo rounded down, hi rounded up (NaN for a NaN
 * midpoint, infinite for an unbounded ball). */
double ival_lo_d(const arb_t x);
double ival_hi_d(const arb_t x);
/* Parse a decimal (MPFR syntax); x encloses it, exactly when it is dyadic
 * with at most prec bits.  Returns 0, or -1 when s is not a finite number. */
int ival_set_str(arb_t x, const char *s, mpfr_prec_t prec);
/* Decimal strings of the ends, rounded outward, digits significant digits.
 * Caller frees with mpfr_free_str. */
char *ival_lo_str(const arb_t x, int digits);
char *ival_hi_str(const arb_t x, int digits);
char *fr_str(const mpfr_t x, int digits, mpfr_rnd_t rnd);
/* The exact decimal expansion of a finite MPFR number (every dyadic has
 * one).  Caller frees with free(). */
char *fr_exact_decimal(const mpfr_t x);

#endif
