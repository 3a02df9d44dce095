/* Ball matrices over Arb (imat.h).  Every operation is Arb's, so every entry
 * of a result encloses the exact result for all points of the inputs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "imat.h"
#include "par.h"
#include "xalloc.h"

void imat_init(imat_t A, long rows, long cols)
{
    arb_mat_init(A->m, rows, cols);
    A->rows = rows;
    A->cols = cols;
    A->e = A->m->entries;
}

void imat_clear(imat_t A)
{
    arb_mat_clear(A->m);
    A->e = NULL;
    A->rows = A->cols = 0;
}

void imat_reinit(imat_t A, long rows, long cols)
{
    imat_clear(A);
    imat_init(A, rows, cols);
}

void imat_rows_window_init(imat_t W, const imat_t A, long r0, long r1)
{
    arb_mat_window_init(W->m, A->m, r0, 0, r1, A->cols);
    W->rows = r1 - r0;
    W->cols = A->cols;
    W->e = A->e + r0 * A->cols; /* rows of a row-major matrix are contiguous */
}

void imat_window_clear(imat_t W)
{
    arb_mat_window_clear(W->m);
    W->e = NULL;
    W->rows = W->cols = 0;
}

void imat_zero(imat_t A)
{
    arb_mat_zero(A->m);
}

void imat_swap(imat_t A, imat_t B)
{
    arb_mat_swap(A->m, B->m);
    A->rows = arb_mat_nrows(A->m);
    A->cols = arb_mat_ncols(A->m);
    A->e = A->m->entries;
    B->rows = arb_mat_nrows(B->m);
    B->cols = arb_mat_ncols(B->m);
    B->e = B->m->entries;
}

void imat_one(imat_t A)
{
    arb_mat_one(A->m);
}

int imat_equal(const imat_t A, const imat_t B)
{
    if (A->rows != B->rows || A->cols != B->cols)
        return 0;
    for (long k = 0; k < A->rows * A->cols; k++)
        if (!arb_equal(A->e + k, B->e + k))
            return 0;
    return 1;
}

void imat_set(imat_t B, const imat_t A)
{
    arb_mat_set(B->m, A->m);
}

void imat_swap_into(imat_t B, imat_t A)
{
    imat_clear(B);
    *B = *A; /* the matrix's storage moves with its pointers */
    imat_init(A, 0, 0);
}

void imat_transpose(imat_t B, const imat_t A)
{
    arb_mat_transpose(B->m, A->m);
}

void imat_add(imat_t C, const imat_t A, const imat_t B, mpfr_prec_t prec)
{
    arb_mat_add(C->m, A->m, B->m, prec);
}

void imat_scale(imat_t B, const imat_t A, const arb_t c, mpfr_prec_t prec)
{
    arb_mat_scalar_mul_arb(B->m, A->m, c, prec);
}

/* ---------------------------------------------------------------- products
 *
 * C = A B, or C + A B, entry by entry as one dot product rounded once
 * (arb_dot; the sum C + A B in the same rounding).  Inner indices where A's
 * column or B's row is exactly zero are left out: a zero term adds nothing,
 * and a layer's stacked weights are mostly such rows.  When A and B are both
 * exact, Arb's block product (exact integer blocks, rounded once per block)
 * is much faster and is used instead, as it is for large inexact operands
 * (Arb's rule).  The output is cut into panels fixed by the shapes alone;
 * the panels run on par_for's threads, so the result is the same bits on
 * any number of threads. */

/* Panel sizes of the dot-product path (rows x columns of C), and the side
 * of a block-product panel (its integer blocks, with one residue matrix per
 * prime of a multimodular product, stay a few tens of megabytes). */
#define MUL_PANEL_ROWS 32
#define MUL_PANEL_COLS 64
#define MUL_BLOCK_SIDE 256
/* Below this many terms a product runs as one task. */
#define MUL_SERIAL_TERMS 65536.0
/* Inner dimension from which an exact right operand goes to the integer
 * kernel (below, converting W costs more than the dot products). */
#define MUL_FIX_MIN_INNER 8

typedef struct {
    imat_struct *C;
    const imat_struct *A, *B;
    int add;
    mpfr_prec_t prec;
    long nk;              /* inner indices kept */
    const long *kk;       /* their positions (NULL: all, in order) */
    arb_struct *At;       /* M x nk shallow copies of A's kept columns (NULL: A itself) */
    long row_panels, col_panels, panel_rows, panel_cols;
} mul_job_t;

/* One panel of C: B's kept rows for the panel's columns are copied
 * (shallow, never cleared) into a transposed buffer, so that every entry is
 * a dot product of two contiguous vectors. */
static void mul_dot_task(void *arg, long t)
{
    mul_job_t *J = arg;
    long M = J->A->rows, P = J->B->cols, nk = J->nk;
    long i0 = (t / J->col_panels) * MUL_PANEL_ROWS, j0 = (t % J->col_panels) * MUL_PANEL_COLS;
    long i1 = i0 + MUL_PANEL_ROWS < M ? i0 + MUL_PANEL_ROWS : M;
    long j1 = j0 + MUL_PANEL_COLS < P ? j0 + MUL_PANEL_COLS : P;
    arb_struct *Bt = xmallocarray((size_t)(j1 - j0) * (size_t)nk, sizeof *Bt);
    for (long q = 0; q < nk; q++) {
        arb_srcptr b = imat_entry(J->B, J->kk ? J->kk[q] : q, 0);
        for (long j = j0; j < j1; j++)
            Bt[(j - j0) * nk + q] = b[j];
    }
    for (long i = i0; i < i1; i++) {
        arb_srcptr a = J->At ? J->At + i * nk : imat_entry(J->A, i, 0);
        for (long j = j0; j < j1; j++) {
            arb_ptr c = imat_entry(J->C, i, j);
            arb_dot(c, J->add ? c : NULL, 0, a, 1, Bt + (j - j0) * nk, 1, nk, J->prec);
        }
    }
    free(Bt);
}

static void mul_block_task(void *arg, long t)
{
    mul_job_t *J = arg;
    long M = J->A->rows, K = J->A->cols, P = J->B->cols;
    long i0 = (t / J->col_panels) * J->panel_rows, j0 = (t % J->col_panels) * J->panel_cols;
    long i1 = i0 + J->panel_rows < M ? i0 + J->panel_rows : M;
    long j1 = j0 + J->panel_cols < P ? j0 + J->panel_cols : P;
    arb_mat_t Aw, Bw, Cw, T;
    arb_mat_window_init(Aw, J->A->m, i0, 0, i1, K);
    arb_mat_window_init(Bw, J->B->m, 0, j0, K, j1);
    arb_mat_window_init(Cw, J->C->m, i0, j0, i1, j1);
    if (J->add) {
        arb_mat_init(T, i1 - i0, j1 - j0);
        arb_mat_mul_block(T, Aw, Bw, J->prec);
        arb_mat_add(Cw, Cw, T, J->prec);
        arb_mat_clear(T);
    } else {
        arb_mat_mul_block(Cw, Aw, Bw, J->prec);
    }
    arb_mat_window_clear(Aw);
    arb_mat_window_clear(Bw);
    arb_mat_window_clear(Cw);
}

/* Above this size in every dimension the block product wins for inexact
 * operands too (Arb's own rule in arb_mat_mul). */
static long mul_block_cutoff(mpfr_prec_t prec)
{
    return prec <= 2 * FLINT_BITS ? 60 : prec <= 8 * FLINT_BITS ? 50 : 40;
}

static int mat_is_exact(const imat_t A)
{
    for (long k = 0; k < A->rows * A->cols; k++)
        if (!mag_is_zero(arb_radref(A->e + k)))
            return 0;
    return 1;
}

/* Kernels of mul_into: the rule by shapes and exactness, or the integer
 * kernel whenever B allows it. */
enum { MUL_AUTO, MUL_EXACT_RIGHT };

static void mul_into(imat_t C, const imat_t A, const imat_t B, int add, int kernel,
                     mpfr_prec_t prec)
{
    long M = A->rows, K = A->cols, P = B->cols;
    if (C == A || C == B) { /* aliased: through a temporary */
        imat_t T;
        imat_init(T, M, P);
        if (add)
            imat_set(T, C);
        mul_into(T, A, B, add, kernel, prec);
        imat_swap(T, C);
        imat_clear(T);
        return;
    }
    if (M == 0 || P == 0)
        return;
    mul_job_t J = {.C = C, .A = A, .B = B, .add = add, .prec = prec};
    int b_exact = K > 0 && mat_is_exact(B);
    int both_exact = b_exact && M >= 2 && P >= 2 && mat_is_exact(A);
    /* B exact, A not: the integer kernel (exact sums, one radius term per
     * entry); it declines a B it cannot hold in words */
    if (b_exact && (kernel == MUL_EXACT_RIGHT || (!both_exact && K >= MUL_FIX_MIN_INNER)) &&
        imat_fixmul_into(C, A, B, add, prec))
        return;
    if (K > 0 && (both_exact || (M > mul_block_cutoff(prec) && K > mul_block_cutoff(prec) &&
                                 P > mul_block_cutoff(prec)))) {
        J.panel_rows = MUL_BLOCK_SIDE;
        J.panel_cols = MUL_BLOCK_SIDE;
        if ((double)M * (double)K * (double)P < MUL_SERIAL_TERMS) {
            J.panel_rows = M;
            J.panel_cols = P;
        }
        J.row_panels = (M + J.panel_rows - 1) / J.panel_rows;
        J.col_panels = (P + J.panel_cols - 1) / J.panel_cols;
        par_for(J.row_panels * J.col_panels, mul_block_task, &J);
        return;
    }
    /* the inner indices that can contribute */
    long *kk = xmallocarray((size_t)(K > 0 ? K : 1), sizeof *kk), nk = 0;
    for (long k = 0; k < K; k++) {
        int a_nonzero = 0, b_nonzero = 0;
        for (long i = 0; i < M && !a_nonzero; i++)
            a_nonzero = !arb_is_zero(imat_entry(A, i, k));
        for (long j = 0; j < P && a_nonzero && !b_nonzero; j++)
            b_nonzero = !arb_is_zero(imat_entry(B, k, j));
        if (a_nonzero && b_nonzero)
            kk[nk++] = k;
    }
    if (nk == 0) {
        if (!add)
            imat_zero(C);
        free(kk);
        return;
    }
    J.nk = nk;
    J.kk = nk < K ? kk : NULL;
    J.col_panels = (P + MUL_PANEL_COLS - 1) / MUL_PANEL_COLS;
    J.row_panels = (M + MUL_PANEL_ROWS - 1) / MUL_PANEL_ROWS;
    if (J.kk) { /* A's kept columns, shallow */
        J.At = xmallocarray((size_t)M * (size_t)nk, sizeof *J.At);
        for (long i = 0; i < M; i++)
            for (long q = 0; q < nk; q++)
                J.At[i * nk + q] = *imat_entry(A, i, kk[q]);
    }
    long tasks = J.row_panels * J.col_panels;
    if ((double)M * (double)nk * (double)P < MUL_SERIAL_TERMS)
        for (long t = 0; t < tasks; t++)
            mul_dot_task(&J, t);
    else
        par_for(tasks, mul_dot_task, &J);
    free(J.At);
    free(kk);
}

double imat_mul_bytes(long M, long K, long P, mpfr_prec_t prec)
{
    double S = (double)sizeof(arb_struct);
    /* the threads each path's par_for can use: one per panel at most */
    double m_, p_;
    m_ = ceil((double)M / MUL_PANEL_ROWS);
    p_ = ceil((double)P / MUL_PANEL_COLS);
    double T = (double)par_threads_for(m_ * p_);
    /* dot products: A's kept columns, and a transposed panel of B per thread */
    double dot = (double)M * (double)K * S + T * MUL_PANEL_COLS * (double)K * S;
    m_ = ceil((double)M / MUL_BLOCK_SIDE);
    p_ = ceil((double)P / MUL_BLOCK_SIDE);
    T = (double)par_threads_for(m_ * p_);
    /* block product, per thread: integer blocks of A, B and C for a panel
     * (entries of up to 1.25 prec + 192 bits, and 2 + log2 K more in C), and
     * the multimodular product's residues (a word per entry and prime) */
    double m = M < MUL_BLOCK_SIDE ? (double)M : MUL_BLOCK_SIDE;
    double p = P < MUL_BLOCK_SIDE ? (double)P : MUL_BLOCK_SIDE, k = (double)K;
    double bits = 1.25 * (double)prec + 192, words = bits / 64 + 3;
    double primes = (2 * bits + log2(k + 1) + 2) / 59 + 1;
    double ints = m * k + k * p + m * p;
    double block = T * (ints * (8 * words + 16) + ints * 8 * primes +
                        (double)M * (double)K * (2.0 * sizeof(long) + sizeof(short)));
    double fix = imat_fixmul_bytes(M, K, P, prec); /* shared by the threads */
    double most = dot > block ? dot : block;
    return most > fix ? most : fix;
}

void imat_mul(imat_t C, const imat_t A, const imat_t B, mpfr_prec_t prec)
{
    if (A->cols == 0) { /* the sum is empty */
        imat_zero(C);
        return;
    }
    mul_into(C, A, B, 0, MUL_AUTO, prec);
}

void imat_addmul(imat_t C, const imat_t A, const imat_t B, mpfr_prec_t prec)
{
    mul_into(C, A, B, 1, MUL_AUTO, prec);
}

void imat_mul_exact_right(imat_t C, const imat_t A, const imat_t W, mpfr_prec_t prec)
{
    if (A->cols == 0) {
        imat_zero(C);
        return;
    }
    mul_into(C, A, W, 0, MUL_EXACT_RIGHT, prec);
}

void imat_addmul_exact_right(imat_t C, const imat_t A, const imat_t W, mpfr_prec_t prec)
{
    mul_into(C, A, W, 1, MUL_EXACT_RIGHT, prec);
}

void imat_set_block(imat_t B, long r0, long c0, const imat_t A)
{
    for (long i = 0; i < A->rows; i++)
        for (long j = 0; j < A->cols; j++)
            arb_set(imat_entry(B, r0 + i, c0 + j), imat_entry(A, i, j));
}

void imat_randtest_dyadic(imat_t A, gmp_randstate_t state, unsigned bits)
{
    unsigned long span = 2UL << bits; /* k + 2^bits uniform in [0, 2^(bits+1)] minus 0 */
    for (long k = 0; k < A->rows * A->cols; k++) {
        long v;
        do
            v = (long)gmp_urandomm_ui(state, span + 1) - (long)(span / 2);
        while (v == 0);
        arb_set_si(A->e + k, v);
        arb_mul_2exp_si(A->e + k, A->e + k, -(slong)bits); /* exact: a power of two */
    }
}

void ival_narrow(arb_t x, const arb_t y, mpfr_prec_t prec)
{
    arb_t t;
    arb_init(t);
    if (!arb_intersection(t, x, y, prec))
        arb_indeterminate(x);
    else if (mag_cmp(arb_radref(t), arb_radref(x)) < 0)
        arb_swap(x, t);
    arb_clear(t);
}

void ival_get_mag(mpfr_t m, const arb_t x)
{
    if (!arb_is_finite(x)) {
        mpfr_set_inf(m, 1);
        return;
    }
    arf_t t;
    arf_init(t);
    arb_get_abs_ubound_arf(t, x, mpfr_get_prec(m));
    arf_get_mpfr(m, t, MPFR_RNDU);
    arf_clear(t);
}

void imat_max_abs_upper(mpfr_t up, const imat_t A)
{
    mpfr_t m;
    mpfr_init2(m, mpfr_get_prec(up));
    mpfr_set_ui(up, 0, MPFR_RNDU);
    for (long k = 0; k < A->rows * A->cols; k++) {
        ival_get_mag(m, A->e + k);
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
        ival_get_mag(m, A->e + k);
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
            ival_get_mag(m, by_rows ? imat_entry(A, a, b) : imat_entry(A, b, a));
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
        imat_init(At, A->cols, A->rows);
        imat_init(G, A->cols, A->cols);
        imat_transpose(At, A);
        imat_mul(G, At, A, p);
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
    arb_t nv, nw;
    imat_init(v, n, 1);
    imat_init(w, A->rows, 1);
    imat_init(At, n, A->rows);
    arb_init(nv);
    arb_init(nw);
    imat_transpose(At, A);
    for (long k = 0; k < n; k++)
        arb_set_ui(imat_entry(v, k, 0), 1 + (unsigned long)(k % 3));
    /* Power iteration on A^T A; the ratio at the end is a lower bound for any v. */
    for (int it = 0; it < iters; it++) {
        imat_mul(w, A, v, p);
        imat_mul(v, At, w, p);
        /* re-centre on midpoints and normalise roughly so widths do not grow */
        arf_t mx, m;
        arf_init(mx);
        arf_init(m);
        for (long k = 0; k < n; k++) {
            arf_abs(m, arb_midref(imat_entry(v, k, 0)));
            if (arf_cmp(m, mx) > 0)
                arf_set(mx, m);
        }
        for (long k = 0; k < n; k++) {
            arf_set(m, arb_midref(imat_entry(v, k, 0)));
            if (!arf_is_zero(mx) && arf_is_finite(mx))
                arf_div(m, m, mx, p, ARF_RND_NEAR);
            arb_set_arf(imat_entry(v, k, 0), m); /* a point: any v will do */
        }
        arf_clear(mx);
        arf_clear(m);
    }
    imat_mul(w, A, v, p);
    arb_dot(nv, NULL, 0, v->e, 1, v->e, 1, n, p);
    arb_dot(nw, NULL, 0, w->e, 1, w->e, 1, A->rows, p);
    if (!arb_is_positive(nv)) {
        mpfr_set_ui(lo, 0, MPFR_RNDD);
    } else {
        arb_div(nw, nw, nv, p);
        arb_sqrtpos(nw, nw, p);
        ival_get_lo(lo, nw);
        if (!(mpfr_sgn(lo) > 0)) /* also NaN */
            mpfr_set_ui(lo, 0, MPFR_RNDD);
    }
    imat_clear(v);
    imat_clear(w);
    imat_clear(At);
    arb_clear(nv);
    arb_clear(nw);
}

void imat_row_norm2(arb_t r, const imat_t A, long i, mpfr_prec_t prec)
{
    arb_srcptr row = imat_entry(A, i, 0);
    arb_dot(r, NULL, 0, row, 1, row, 1, A->cols, prec);
    arb_sqrtpos(r, r, prec);
    if (arb_is_finite(r))
        arb_nonnegative_part(r, r);
}

int imat_is_exact(const imat_t A)
{
    for (long k = 0; k < A->rows * A->cols; k++)
        if (!arb_is_exact(A->e + k))
            return 0;
    return 1;
}

static void mag_set_arf_up(mag_t rad, const arf_t r);

/* 1 when the lower end of x is exactly 0 (midpoint = radius, as ival_abs
 * makes them). */
static int lower_end_zero(const arb_t x)
{
    arf_t r;
    arf_init_set_mag_shallow(r, arb_radref(x));
    return arf_equal(arb_midref(x), r);
}

/* 1 when both ends of y are certainly at or above those of x: then y itself
 * is the max of x and y.  The ends are rounded the safe way to 64 bits: a
 * tie too close to call says 0, and the caller takes Arb's max. */
static int ball_dominates(const arb_t y, const arb_t x)
{
    slong p = 64;
    arf_t a, b, rx, ry;
    arf_init(a);
    arf_init(b);
    arf_init_set_mag_shallow(rx, arb_radref(x));
    arf_init_set_mag_shallow(ry, arb_radref(y));
    arf_add(a, arb_midref(x), rx, p, ARF_RND_CEIL);
    arf_add(b, arb_midref(y), ry, p, ARF_RND_FLOOR);
    int up = arf_cmp(a, b) <= 0, low = 0;
    if (up) {
        arf_sub(a, arb_midref(x), rx, p, ARF_RND_CEIL);
        arf_sub(b, arb_midref(y), ry, p, ARF_RND_FLOOR);
        low = arf_cmp(a, b) <= 0;
    }
    arf_clear(a);
    arf_clear(b);
    return up && low;
}

void ival_max(arb_t r, const arb_t x, const arb_t y, mpfr_prec_t prec)
{
    if (!arb_is_finite(x) || !arb_is_finite(y)) {
        arb_indeterminate(r); /* a NaN or an unbounded operand must not vanish */
        return;
    }
    /* most maxima of a sweep keep one operand as it is: no rounding then */
    if (lower_end_zero(x) && lower_end_zero(y)) /* [0, 2m]: the larger m */
        arb_set(r, arf_cmp(arb_midref(x), arb_midref(y)) >= 0 ? x : y);
    else if (ball_dominates(y, x))
        arb_set(r, y);
    else if (ball_dominates(x, y))
        arb_set(r, x);
    else
        arb_max(r, x, y, prec);
}

/* Bits that hold a ball's ends exactly in all but extreme cases (the ends
 * are rounded outward beyond that, which only makes a comparison fail). */
static slong ends_prec(const arb_t x, const arb_t y)
{
    slong bx = arf_bits(arb_midref(x)), by = arf_bits(arb_midref(y));
    return (bx > by ? bx : by) + 2 * MAG_BITS + 64;
}

int ival_le(const arb_t x, const arb_t y)
{
    if (!arb_is_finite(x) || arf_is_nan(arb_midref(y)))
        return 0;
    if (arf_is_pos_inf(arb_midref(y)) && mag_is_finite(arb_radref(y)))
        return 1; /* below a bound above every number */
    if (!arb_is_finite(y))
        return 0;
    arf_t a, b;
    arf_init(a);
    arf_init(b);
    slong p = ends_prec(x, y);
    arb_get_ubound_arf(a, x, p);
    arb_get_lbound_arf(b, y, p);
    int le = arf_cmp(a, b) <= 0;
    arf_clear(a);
    arf_clear(b);
    return le;
}

int ival_gt(const arb_t x, const arb_t y)
{
    if (!arb_is_finite(x) || !arb_is_finite(y))
        return 0;
    arf_t a, b;
    arf_init(a);
    arf_init(b);
    slong p = ends_prec(x, y);
    arb_get_lbound_arf(a, x, p);
    arb_get_ubound_arf(b, y, p);
    int gt = arf_cmp(a, b) > 0;
    arf_clear(a);
    arf_clear(b);
    return gt;
}

void ival_abs(arb_t r, const arb_t x, mpfr_prec_t prec)
{
    (void)prec;
    if (arb_is_finite(x) && arb_contains_zero(x) && !arb_is_zero(x)) {
        /* [0, h] with h >= max |x| rounded up to a radius's bits: midpoint h/2
         * and radius h/2 are then both exact, and the lower end is exactly 0 */
        arf_t h;
        arf_init(h);
        arb_get_abs_ubound_arf(h, x, MAG_BITS);
        arf_mul_2exp_si(h, h, -1);
        mag_set_arf_up(arb_radref(r), h);
        arf_swap(arb_midref(r), h);
        arf_clear(h);
    } else {
        arb_abs(r, x); /* exact */
    }
}

void ival_exp_bound(arb_t y, const arb_t x, mpfr_prec_t prec)
{
    int huge = arb_is_finite(x) && arf_cmp_2exp_si(arb_midref(x), 33) > 0 &&
               ival_lo_d(x) > 4294967296.0;
    arb_exp(y, x, prec);
    if (!arb_is_finite(y) && huge)
        arb_pos_inf(y);
}

/* rad = r (>= 0) exactly when r fits in a mag's 30 bits, else rounded up
 * (arf_get_mag always adds an ulp). */
static void mag_set_arf_up(mag_t rad, const arf_t r)
{
    fmpz_t man, e;
    fmpz_init(man);
    fmpz_init(e);
    if (arf_is_zero(r)) {
        mag_zero(rad);
    } else {
        arf_get_fmpz_2exp(man, e, r);
        if (fmpz_bits(man) <= MAG_BITS && fmpz_fits_si(e))
            mag_set_ui_2exp_si(rad, fmpz_get_ui(man), fmpz_get_si(e));
        else
            arf_get_mag(rad, r);
    }
    fmpz_clear(man);
    fmpz_clear(e);
}

void ival_set_fr(arb_t x, const mpfr_t v)
{
    arf_set_mpfr(arb_midref(x), v);
    mag_zero(arb_radref(x));
}

void ival_set_interval_fr(arb_t x, const mpfr_t lo, const mpfr_t hi, mpfr_prec_t prec)
{
    if (mpfr_nan_p(lo) || mpfr_nan_p(hi)) {
        arb_indeterminate(x);
        return;
    }
    if (!mpfr_number_p(lo) || !mpfr_number_p(hi)) {
        arb_zero_pm_inf(x); /* a ball cannot hold a half line */
        return;
    }
    if (mpfr_equal_p(lo, hi)) {
        ival_set_fr(x, lo);
        arb_set_round(x, x, prec); /* exact when lo fits in prec bits */
        return;
    }
    /* midpoint and radius computed exactly (Arb's arb_set_interval_* adds
     * 2^-30 of slack to the radius even when it is representable), then the
     * midpoint rounded to prec; ends far apart in scale: Arb's way */
    arf_t a, b, m, r;
    arf_init(a);
    arf_init(b);
    arf_init(m);
    arf_init(r);
    arf_set_mpfr(a, lo);
    arf_set_mpfr(b, hi);
    if (mpfr_zero_p(lo) || mpfr_zero_p(hi) ||
        labs((long)mpfr_get_exp(lo) - (long)mpfr_get_exp(hi)) < 4 * (long)prec + 1024) {
        arf_add(m, a, b, ARF_PREC_EXACT, ARF_RND_DOWN);
        arf_mul_2exp_si(m, m, -1);
        arf_sub(r, b, m, MAG_BITS, ARF_RND_UP);
        arf_set(arb_midref(x), m);
        mag_set_arf_up(arb_radref(x), r);
        arb_set_round(x, x, prec);
    } else {
        arb_set_interval_arf(x, a, b, prec);
    }
    arf_clear(a);
    arf_clear(b);
    arf_clear(m);
    arf_clear(r);
    if (mpfr_zero_p(lo))
        arb_nonnegative_part(x, x); /* [0, hi]: a lower end of exactly 0 */
}

/* An end of x at the precision of v, rounded outward. */
static void get_end(mpfr_t v, const arb_t x, int upper)
{
    if (arf_is_nan(arb_midref(x))) {
        mpfr_set_nan(v);
        return;
    }
    arf_t t;
    arf_init(t);
    if (upper)
        arb_get_ubound_arf(t, x, mpfr_get_prec(v));
    else
        arb_get_lbound_arf(t, x, mpfr_get_prec(v));
    arf_get_mpfr(v, t, upper ? MPFR_RNDU : MPFR_RNDD);
    arf_clear(t);
}

void ival_get_lo(mpfr_t lo, const arb_t x) { get_end(lo, x, 0); }
void ival_get_hi(mpfr_t hi, const arb_t x) { get_end(hi, x, 1); }

void ival_get_diam(mpfr_t w, const arb_t x)
{
    arf_t r;
    arf_init(r);
    arf_set_mag(r, arb_radref(x));
    arf_mul_2exp_si(r, r, 1);
    arf_get_mpfr(w, r, MPFR_RNDU);
    arf_clear(r);
}

static double end_d(const arb_t x, int upper)
{
    mpfr_t t;
    mpfr_init2(t, 53);
    get_end(t, x, upper);
    double v = mpfr_get_d(t, upper ? MPFR_RNDU : MPFR_RNDD);
    mpfr_clear(t);
    return v;
}

double ival_lo_d(const arb_t x) { return end_d(x, 0); }
double ival_hi_d(const arb_t x) { return end_d(x, 1); }

int ival_set_str(arb_t x, const char *s, mpfr_prec_t prec)
{
    mpfr_t lo, hi;
    char *end;
    int rc = -1;
    mpfr_inits2(prec, lo, hi, (mpfr_ptr)0);
    /* both ends rounded outward, as the decimal is in general not dyadic */
    mpfr_strtofr(lo, s, &end, 10, MPFR_RNDD);
    if (end != s && *end == '\0') {
        mpfr_strtofr(hi, s, &end, 10, MPFR_RNDU);
        if (mpfr_number_p(lo) && mpfr_number_p(hi)) {
            ival_set_interval_fr(x, lo, hi, prec);
            rc = 0;
        }
    }
    mpfr_clears(lo, hi, (mpfr_ptr)0);
    return rc;
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

/* Enough bits that the decimal rounding, not the binary one, decides. */
static mpfr_prec_t str_prec(int digits) { return 4 * (mpfr_prec_t)digits + 64; }

static char *end_str(const arb_t x, int digits, int upper)
{
    mpfr_t t;
    mpfr_init2(t, str_prec(digits));
    get_end(t, x, upper);
    char *s = fr_str(t, digits, upper ? MPFR_RNDU : MPFR_RNDD);
    mpfr_clear(t);
    return s;
}

char *ival_lo_str(const arb_t x, int digits) { return end_str(x, digits, 0); }
char *ival_hi_str(const arb_t x, int digits) { return end_str(x, digits, 1); }

double ball_heap_bytes(mpfr_prec_t prec)
{
    double limbs = (double)((prec + FLINT_BITS - 1) / FLINT_BITS);
    return limbs > 2 ? 8.0 * limbs + 16.0 : 0.0; /* + 16: allocator slack */
}

double ball_bytes(mpfr_prec_t prec) { return (double)sizeof(arb_struct) + ball_heap_bytes(prec); }

char *fr_exact_decimal(const mpfr_t x)
{
    if (mpfr_zero_p(x))
        return xstrdup("0");
    mpz_t m;
    mpz_init(m);
    mpfr_exp_t e = mpfr_get_z_2exp(m, x); /* x = m 2^e exactly */
    unsigned long k = e < 0 ? (unsigned long)(-e) : 0;
    if (e >= 0) {
        mpz_mul_2exp(m, m, (mp_bitcnt_t)e);
    } else {
        /* m 2^e = m 5^k / 10^k: an integer with k decimals */
        mpz_t f;
        mpz_init(f);
        mpz_ui_pow_ui(f, 5, k);
        mpz_mul(m, m, f);
        mpz_clear(f);
    }
    int neg = mpz_sgn(m) < 0;
    mpz_abs(m, m);
    char *digits = xmalloc(mpz_sizeinbase(m, 10) + 2);
    mpz_get_str(digits, 10, m);
    mpz_clear(m);
    size_t nd = strlen(digits), intlen = nd > k ? nd - k : 0;
    char *s = xmalloc(nd + k + 4), *p = s;
    if (neg)
        *p++ = '-';
    if (intlen == 0)
        *p++ = '0';
    memcpy(p, digits, intlen);
    p += intlen;
    if (k > 0) {
        *p++ = '.';
        for (size_t z = nd; z < k; z++)
            *p++ = '0';
        strcpy(p, digits + intlen);
        /* trim trailing zeros of the fraction; m is not a multiple of 10 at the end anyway */
        size_t L = strlen(s);
        while (s[L - 1] == '0')
            s[--L] = '\0';
        if (s[L - 1] == '.')
            s[L - 1] = '\0';
    } else {
        *p = '\0';
    }
    free(digits);
    return s;
}
