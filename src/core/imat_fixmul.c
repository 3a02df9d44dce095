/* C = A W or C + A W for an exact right operand W, in integers (imat.h).
 *
 * W's columns become 64-bit integers with one exponent per column (exact:
 * the kernel refuses a W whose column needs more bits).  A row of A becomes
 * fixed point with one exponent per row: its midpoints truncated to F
 * fraction bits below the row's largest (F = a whole number of digits,
 * at least prec + FIX_GUARD), split into signed digits of b bits, and its
 * radii rounded up to integers of b bits in the row's radius scale.
 * Every multiply-add is then exact in 128-bit integers (the digit and weight
 * sizes are chosen so that no sum of nk terms can overflow), so rounding
 * happens only where A is converted and where C is rounded:
 *
 *   |C_ij - sum_k mid(A_ik) W_kj| is at most
 *       sum_k rad(A_ik) |W_kj|                the radii, rounded up to integers
 *     + 2^(E_i - F) sum_k |W_kj|              the truncated midpoints (when any was)
 *   and the midpoint sum itself is exact before the final rounding
 *   (arb_set_round / arb_add add their own rounding error).
 *
 * A row with an entry that is not finite, or exponents too large for a
 * word, goes through arb_dot, as does an entry whose truncation term
 * exceeds 2^-prec of its value and of its radius (its fixed point lost too
 * much to cancellation: arb_dot's error is relative to the largest term of
 * the entry, not of the row).  Integer sums do not depend on their order,
 * and which path an entry takes depends on the data alone, so the result is
 * the same bits whatever the panels and the threads. */
#include <stdint.h>
#include <stdlib.h>
#include "imat.h"
#include "par.h"
#include "xalloc.h"

__extension__ typedef __int128 fix_i128;

/* Fraction bits of A's fixed point beyond prec (at least). */
#define FIX_GUARD 24
/* Largest digit size (a radius too is an integer of at most 2^b), and the
 * smallest the kernel accepts. */
#define FIX_DIGIT_MAX 62
#define FIX_DIGIT_MIN 32
/* Exponents the kernel handles as words (beyond: arb_dot). */
#define FIX_EXP_MAX (WORD(1) << 40)
/* Panels of the output (rows x columns), and of the conversions. */
#define FIX_PANEL_ROWS 16
#define FIX_PANEL_COLS 64
/* Below this many terms the work runs as one task. */
#define FIX_SERIAL_TERMS 65536.0

typedef struct {
    imat_struct *C;
    const imat_struct *A, *W;
    int add;
    mpfr_prec_t prec;
    long M, P, nk;
    const long *kk;       /* kept inner indices */
    /* W: column j as integers Wt[j nk + q] times 2^wlo[j]; wabs[j] >= sum |W_kj| */
    int64_t *Wt;
    slong *wlo;
    mag_struct *wabs;
    int *wbits;           /* bits of column j's largest |integer|; -1: not convertible */
    /* A: per row, nk groups of nd digits and one radius integer */
    long nd, b;           /* digits per entry, bits per digit */
    slong F;              /* fraction bits: nd b */
    int64_t *Ad;          /* M x nk x (nd + 1) */
    slong *Ae;            /* E_i: |mid A_ik| < 2^E_i */
    slong *Ar;            /* R_i: rad A_ik < 2^R_i */
    char *Astate;         /* FIX_ROW_* */
    long row_panels, col_panels;
} fix_job_t;

enum { FIX_ROW_ZERO, FIX_ROW_POINT, FIX_ROW_BALL, FIX_ROW_TRUNC = 4, FIX_ROW_DOT = 8 };

static int small_exp(const fmpz_t e, slong *out)
{
    if (COEFF_IS_MPZ(*e) || *e >= FIX_EXP_MAX || *e <= -FIX_EXP_MAX)
        return 0;
    *out = *e;
    return 1;
}

/* ceil(log2 n) for n >= 1. */
static long clog2(long n)
{
    long c = 0;
    while ((1L << c) < n && c < 62)
        c++;
    return c;
}

/* m >= v 2^e for an integer v >= 0 (mag_set_ui_2exp_si rounds up). */
static void mag_set_u128_2exp(mag_t m, unsigned __int128 v, slong e)
{
    uint64_t hi = (uint64_t)(v >> 64), lo = (uint64_t)v;
    if (hi == 0)
        mag_set_ui_2exp_si(m, lo, e);
    else /* v < (hi + 1) 2^64 */
        mag_set_ui_2exp_si(m, hi + 1, e + 64);
}

/* Column panel t of W: exponents, integers, |.| sums, in one pass over W's
 * rows (W is row-major): each mantissa is kept as an odd-or-not integer of
 * at most 62 bits with its lowest bit's exponent, then shifted to the
 * column's lowest bit. */
static void fix_w_task(void *arg, long t)
{
    fix_job_t *J = arg;
    long j0 = t * FIX_PANEL_COLS, j1 = j0 + FIX_PANEL_COLS < J->P ? j0 + FIX_PANEL_COLS : J->P;
    long nk = J->nk, w = j1 - j0;
    slong lo[FIX_PANEL_COLS], hi[FIX_PANEL_COLS];
    int ok[FIX_PANEL_COLS];
    slong *low = xmallocarray((size_t)nk * (size_t)w, sizeof *low);
    for (long c = 0; c < w; c++) {
        lo[c] = WORD_MAX;
        hi[c] = WORD_MIN;
        ok[c] = 1;
    }
    for (long q = 0; q < nk; q++) {
        arb_srcptr row = imat_entry(J->W, J->kk[q], j0);
        for (long c = 0; c < w; c++) {
            const arf_struct *m = arb_midref(row + c);
            int64_t *v = J->Wt + (j0 + c) * nk + q;
            slong top, bits;
            *v = 0;
            if (!ok[c])
                continue;
            if (!mag_is_zero(arb_radref(row + c)) || !arf_is_finite(m)) {
                ok[c] = 0;
            } else if (!arf_is_zero(m)) {
                bits = arf_bits(m);
                if (!small_exp(ARF_EXPREF(m), &top) || bits > FIX_DIGIT_MAX) {
                    ok[c] = 0;
                    continue;
                }
                /* one limb with its top bit set: the value is m_0 2^(top - 64),
                 * and m_0 >> (64 - bits) drops only zero bits */
                mp_srcptr mp;
                mp_size_t mn;
                ARF_GET_MPN_READONLY(mp, mn, m);
                int64_t u = (int64_t)(mp[mn - 1] >> (FLINT_BITS - bits));
                *v = ARF_SGNBIT(m) ? -u : u;
                low[q * w + c] = top - bits;
                lo[c] = top - bits < lo[c] ? top - bits : lo[c];
                hi[c] = top > hi[c] ? top : hi[c];
            }
        }
    }
    for (long c = 0; c < w; c++) {
        long j = j0 + c;
        if (ok[c] && hi[c] != WORD_MIN && hi[c] - lo[c] > FIX_DIGIT_MAX)
            ok[c] = 0;
        J->wbits[j] = !ok[c] ? -1 : hi[c] == WORD_MIN ? 0 : (int)(hi[c] - lo[c]);
        J->wlo[j] = hi[c] == WORD_MIN ? 0 : lo[c];
        if (!ok[c])
            continue;
        /* to the column's lowest bit: |v| 2^(low - lo) < 2^(hi - lo) <= 2^62, exact */
        unsigned __int128 sum = 0;
        int64_t *v = J->Wt + j * nk;
        for (long q = 0; q < nk; q++) {
            if (v[q] != 0)
                v[q] *= (int64_t)1 << (low[q * w + c] - lo[c]);
            sum += (uint64_t)(v[q] < 0 ? -(uint64_t)v[q] : (uint64_t)v[q]);
        }
        mag_set_u128_2exp(J->wabs + j, sum, J->wlo[j]); /* rounded up */
    }
    free(low);
}

/* Row panel t of A: fixed-point digits and radius integers. */
static void fix_a_task(void *arg, long t)
{
    fix_job_t *J = arg;
    long i0 = t * FIX_PANEL_ROWS, i1 = i0 + FIX_PANEL_ROWS < J->M ? i0 + FIX_PANEL_ROWS : J->M;
    long nd = J->nd, b = J->b, stride = nd + 1;
    uint64_t dmask = (UWORD(1) << b) - 1;
    fmpz_t z, r;
    fmpz_init(z);
    fmpz_init(r);
    for (long i = i0; i < i1; i++) {
        slong E = WORD_MIN, R = WORD_MIN, e;
        int ok = 1;
        for (long q = 0; q < J->nk && ok; q++) {
            arb_srcptr a = imat_entry(J->A, i, J->kk[q]);
            if (!arb_is_finite(a))
                ok = 0;
            if (ok && !arf_is_zero(arb_midref(a))) {
                if (!small_exp(ARF_EXPREF(arb_midref(a)), &e))
                    ok = 0;
                else if (e > E)
                    E = e;
            }
            if (ok && !mag_is_zero(arb_radref(a))) {
                if (!small_exp(MAG_EXPREF(arb_radref(a)), &e))
                    ok = 0;
                else if (e > R)
                    R = e;
            }
        }
        if (!ok) {
            J->Astate[i] = FIX_ROW_DOT;
            continue;
        }
        int state = E == WORD_MIN && R == WORD_MIN ? FIX_ROW_ZERO
                  : R == WORD_MIN ? FIX_ROW_POINT : FIX_ROW_BALL;
        J->Ae[i] = E == WORD_MIN ? 0 : E; /* all midpoints 0: no digits, no truncation */
        J->Ar[i] = R == WORD_MIN ? 0 : R;
        int64_t *d = J->Ad + (size_t)i * (size_t)J->nk * (size_t)stride;
        for (long q = 0; q < J->nk; q++, d += stride) {
            arb_srcptr a = imat_entry(J->A, i, J->kk[q]);
            if (!arf_is_zero(arb_midref(a))) {
                /* truncated toward 0: |mid - z 2^(E - F)| < 2^(E - F) */
                if (arf_get_fmpz_fixed_si(z, arb_midref(a), E - J->F))
                    state |= FIX_ROW_TRUNC;
                int neg = fmpz_sgn(z) < 0;
                fmpz_abs(z, z);
                for (long l = 0; l < nd; l++) { /* |z| < 2^F = 2^(nd b) */
                    fmpz_fdiv_r_2exp(r, z, (ulong)b);
                    int64_t v = (int64_t)(fmpz_get_ui(r) & dmask);
                    d[l] = neg ? -v : v;
                    fmpz_fdiv_q_2exp(z, z, (ulong)b);
                }
            } else {
                for (long l = 0; l < nd; l++)
                    d[l] = 0;
            }
            /* radius rounded up to the row's scale 2^(R - b):
             * rad = man 2^(e - MAG_BITS) <= d[nd] 2^(R - b), with d[nd] <= 2^b
             * (man < 2^MAG_BITS, e <= R) */
            const mag_struct *m = arb_radref(a);
            if (mag_is_zero(m)) {
                d[nd] = 0;
            } else {
                slong sh = MAG_EXP(m) - MAG_BITS - R + b;
                uint64_t man = MAG_MAN(m);
                if (sh >= 0)
                    d[nd] = (int64_t)(man << sh); /* exact */
                else if (sh <= -FLINT_BITS + 1)
                    d[nd] = 1; /* 0 < man 2^sh < 1 */
                else
                    d[nd] = (int64_t)((man + (UWORD(1) << -sh) - 1) >> -sh); /* ceil */
            }
        }
        J->Astate[i] = (char)state;
    }
    fmpz_clear(z);
    fmpz_clear(r);
}

/* s[l] = sum_q a[q (nd + 1) + l] w[q] for the digits l < nd, and (with rad)
 * s[nd] = sum_q a[q (nd + 1) + nd] |w[q]|: exact, |each sum| < 2^126.  One
 * body per digit count, its sums in registers. */
static inline __attribute__((always_inline)) void
fix_dot_n(fix_i128 *s, const int64_t *a, const int64_t *w, long nk, int rad, const int nd)
{
    fix_i128 s0 = 0, s1 = 0, s2 = 0, s3 = 0, r = 0;
    if (rad)
        for (long q = 0; q < nk; q++, a += nd + 1) {
            int64_t v = w[q];
            s0 += (fix_i128)a[0] * v;
            if (nd > 1)
                s1 += (fix_i128)a[1] * v;
            if (nd > 2)
                s2 += (fix_i128)a[2] * v;
            if (nd > 3)
                s3 += (fix_i128)a[3] * v;
            r += (fix_i128)a[nd] * (v < 0 ? -v : v);
        }
    else
        for (long q = 0; q < nk; q++, a += nd + 1) {
            int64_t v = w[q];
            s0 += (fix_i128)a[0] * v;
            if (nd > 1)
                s1 += (fix_i128)a[1] * v;
            if (nd > 2)
                s2 += (fix_i128)a[2] * v;
            if (nd > 3)
                s3 += (fix_i128)a[3] * v;
        }
    s[0] = s0;
    if (nd > 1)
        s[1] = s1;
    if (nd > 2)
        s[2] = s2;
    if (nd > 3)
        s[3] = s3;
    s[nd] = r;
}

static void fix_dot_any(fix_i128 *s, const int64_t *a, const int64_t *w, long nk, long nd,
                        int rad)
{
    switch (nd) {
    case 1: fix_dot_n(s, a, w, nk, rad, 1); return;
    case 2: fix_dot_n(s, a, w, nk, rad, 2); return;
    case 3: fix_dot_n(s, a, w, nk, rad, 3); return;
    case 4: fix_dot_n(s, a, w, nk, rad, 4); return;
    }
    for (long l = 0; l <= nd; l++)
        s[l] = 0;
    for (long q = 0; q < nk; q++, a += nd + 1) {
        int64_t v = w[q];
        for (long l = 0; l < nd; l++)
            s[l] += (fix_i128)a[l] * v;
        if (rad)
            s[nd] += (fix_i128)a[nd] * (v < 0 ? -v : v);
    }
}

static void fmpz_set_i128(fmpz_t z, fix_i128 v)
{
    unsigned __int128 u = (unsigned __int128)v;
    fmpz_set_signed_uiui(z, (ulong)(u >> 64), (ulong)u);
}

/* Entry (i, j) by Arb's dot product (rows and entries the kernel leaves). */
static void fix_entry_dot(fix_job_t *J, long i, long j)
{
    arb_ptr c = imat_entry(J->C, i, j);
    arb_dot(c, J->add ? c : NULL, 0, imat_entry(J->A, i, 0), 1, imat_entry(J->W, 0, j),
            J->W->cols, J->A->cols, J->prec);
}

static void fix_mul_task(void *arg, long t)
{
    fix_job_t *J = arg;
    long i0 = (t / J->col_panels) * FIX_PANEL_ROWS, j0 = (t % J->col_panels) * FIX_PANEL_COLS;
    long i1 = i0 + FIX_PANEL_ROWS < J->M ? i0 + FIX_PANEL_ROWS : J->M;
    long j1 = j0 + FIX_PANEL_COLS < J->P ? j0 + FIX_PANEL_COLS : J->P;
    long nd = J->nd, stride = nd + 1;
    fix_i128 *s = xmallocarray((size_t)stride, sizeof *s);
    fmpz_t S, T;
    arb_t x;
    mag_t conv, lim;
    fmpz_init(S);
    fmpz_init(T);
    arb_init(x);
    mag_init(conv);
    mag_init(lim);
    for (long i = i0; i < i1; i++) {
        int state = J->Astate[i];
        const int64_t *a = J->Ad + (size_t)i * (size_t)J->nk * (size_t)stride;
        for (long j = j0; j < j1; j++) {
            arb_ptr c = imat_entry(J->C, i, j);
            if (state == FIX_ROW_DOT) {
                fix_entry_dot(J, i, j);
                continue;
            }
            if (state == FIX_ROW_ZERO) { /* every term is exactly 0 */
                if (!J->add)
                    arb_zero(c);
                continue;
            }
            int rad = (state & 3) == FIX_ROW_BALL;
            fix_dot_any(s, a, J->Wt + (size_t)j * (size_t)J->nk, J->nk, nd, rad);
            /* the exact midpoint sum: S 2^(E - F + wlo) */
            fmpz_zero(S);
            for (long l = nd - 1; l >= 0; l--) {
                fmpz_mul_2exp(S, S, (ulong)J->b);
                fmpz_set_i128(T, s[l]);
                fmpz_add(S, S, T);
            }
            arf_set_fmpz(arb_midref(x), S);
            arf_mul_2exp_si(arb_midref(x), arb_midref(x), J->Ae[i] - J->F + J->wlo[j]); /* exact */
            /* the radii: sum rad(A_ik) |W_kj| <= s[nd] 2^(R - b + wlo), rounded up */
            if (rad) {
                mag_set_u128_2exp(arb_radref(x), (unsigned __int128)s[nd],
                                  J->Ar[i] - J->b + J->wlo[j]);
                /* rounding each radius up added < 2^(R - b) sum |W_kj|: when that is
                 * more than 2^-16 of the sum (radii spanning b - 16 bits or more),
                 * Arb's dot product instead */
                mag_mul_2exp_si(conv, J->wabs + j, J->Ar[i] - J->b + 16);
                if (mag_cmp(conv, arb_radref(x)) > 0) {
                    fix_entry_dot(J, i, j);
                    continue;
                }
            } else {
                mag_zero(arb_radref(x));
            }
            if (state & FIX_ROW_TRUNC) {
                /* truncated midpoints: each off by < 2^(E - F), times sum |W_kj| (up) */
                mag_mul_2exp_si(conv, J->wabs + j, J->Ae[i] - J->F);
                /* more than 2^-prec of both the value and the radius: cancellation
                 * ate the fixed point's guard bits, so Arb's dot product instead */
                arf_get_mag(lim, arb_midref(x));
                mag_max(lim, lim, arb_radref(x));
                mag_mul_2exp_si(lim, lim, -J->prec);
                if (mag_cmp(conv, lim) > 0) {
                    fix_entry_dot(J, i, j);
                    continue;
                }
                mag_add(arb_radref(x), arb_radref(x), conv); /* rounded up */
            }
            if (J->add)
                arb_add(c, c, x, J->prec); /* the sum rounded once, its error added */
            else
                arb_set_round(c, x, J->prec); /* rounding error added to the radius */
        }
    }
    mag_clear(conv);
    mag_clear(lim);
    arb_clear(x);
    fmpz_clear(S);
    fmpz_clear(T);
    free(s);
}

static void fix_run(long n_tasks, void (*fn)(void *, long), fix_job_t *J, double terms)
{
    if (terms < FIX_SERIAL_TERMS)
        for (long t = 0; t < n_tasks; t++)
            fn(J, t);
    else
        par_for(n_tasks, fn, J);
}

int imat_fixmul_into(imat_t C, const imat_t A, const imat_t W, int add, mpfr_prec_t prec)
{
    long M = A->rows, K = A->cols, P = W->cols;
    if (M == 0 || P == 0)
        return 1;
    /* the inner indices that can contribute: A's column and W's row nonzero */
    long *kk = xmallocarray((size_t)(K > 0 ? K : 1), sizeof *kk), nk = 0;
    for (long k = 0; k < K; k++) {
        int a_nonzero = 0, w_nonzero = 0;
        for (long i = 0; i < M && !a_nonzero; i++)
            a_nonzero = !arb_is_zero(imat_entry(A, i, k));
        for (long j = 0; j < P && a_nonzero && !w_nonzero; j++)
            w_nonzero = !arb_is_zero(imat_entry(W, k, j));
        if (a_nonzero && w_nonzero)
            kk[nk++] = k;
    }
    if (nk == 0) {
        if (!add)
            imat_zero(C);
        free(kk);
        return 1;
    }
    fix_job_t J = {.C = C, .A = A, .W = W, .add = add, .prec = prec, .M = M, .P = P,
                   .nk = nk, .kk = kk};
    J.row_panels = (M + FIX_PANEL_ROWS - 1) / FIX_PANEL_ROWS;
    J.col_panels = (P + FIX_PANEL_COLS - 1) / FIX_PANEL_COLS;
    J.Wt = xmallocarray((size_t)P * (size_t)nk, sizeof *J.Wt);
    J.wlo = xmallocarray((size_t)P, sizeof *J.wlo);
    J.wbits = xmallocarray((size_t)P, sizeof *J.wbits);
    J.wabs = _mag_vec_init(P);
    fix_run(J.col_panels, fix_w_task, &J, (double)nk * (double)P);
    long bw = 0;
    int ok = 1;
    for (long j = 0; j < P; j++) {
        if (J.wbits[j] < 0)
            ok = 0;
        else if (J.wbits[j] > bw)
            bw = J.wbits[j];
    }
    /* digits of b bits: nk |digit| |w| < 2^(clog2(nk) + b + bw) <= 2^126 */
    J.b = 126 - bw - clog2(nk);
    J.b = J.b > FIX_DIGIT_MAX ? FIX_DIGIT_MAX : J.b;
    if (ok && J.b >= FIX_DIGIT_MIN) {
        J.nd = (prec + FIX_GUARD + J.b - 1) / J.b;
        J.F = J.nd * J.b;
        J.Ad = xmallocarray((size_t)M * (size_t)nk, (size_t)(J.nd + 1) * sizeof *J.Ad);
        J.Ae = xmallocarray((size_t)M, sizeof *J.Ae);
        J.Ar = xmallocarray((size_t)M, sizeof *J.Ar);
        J.Astate = xmallocarray((size_t)M, 1);
        fix_run(J.row_panels, fix_a_task, &J, (double)M * (double)nk);
        fix_run(J.row_panels * J.col_panels, fix_mul_task, &J,
                (double)M * (double)nk * (double)P);
        free(J.Ad);
        free(J.Ae);
        free(J.Ar);
        free(J.Astate);
    } else {
        ok = 0;
    }
    free(J.Wt);
    free(J.wlo);
    free(J.wbits);
    _mag_vec_clear(J.wabs, P);
    free(kk);
    return ok;
}

double imat_fixmul_bytes(long M, long K, long P, mpfr_prec_t prec)
{
    /* W as words; A as digits of >= FIX_DIGIT_MIN bits and a radius word */
    double digits = (double)((prec + FIX_GUARD + FIX_DIGIT_MIN - 1) / FIX_DIGIT_MIN) + 1;
    return 8.0 * (double)K * (double)P + 8.0 * digits * (double)M * (double)K +
           (8.0 + 8.0 + sizeof(mag_struct)) * (double)P + 17.0 * (double)M + 8.0 * (double)K;
}
