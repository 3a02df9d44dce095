/* Attention heads as certified enclosures.  Softmax is shift-invariant, so
 * shifting a row by any number m (here the largest upper end of its allowed
 * logits) changes nothing mathematically; it keeps every e^(s-m) <= 1. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "attn.h"
#include "xalloc.h"

/* ------------------------------------------------------------------ masks */

void mask_init(mask_t *M, long n)
{
    M->n = n;
    M->start = xcalloc((size_t)(n > 0 ? n : 1), sizeof *M->start);
    M->len = xcalloc((size_t)(n > 0 ? n : 1), sizeof *M->len);
    M->cap = n > 0 ? n : 1;
    M->key = xmallocarray((size_t)M->cap, sizeof *M->key);
    M->nnz = 0;
}

void mask_clear(mask_t *M)
{
    free(M->start);
    free(M->len);
    free(M->key);
    M->start = M->len = M->key = NULL;
    M->n = M->nnz = M->cap = 0;
}

static void mask_reserve(mask_t *M, long extra)
{
    if (M->nnz + extra <= M->cap)
        return;
    long cap = M->cap;
    while (cap < M->nnz + extra)
        cap *= 2;
    M->key = xreallocarray(M->key, (size_t)cap, sizeof *M->key);
    M->cap = cap;
}

int mask_add(mask_t *M, long i, long j)
{
    if (i < 0 || i >= M->n || j < 0 || j >= M->n)
        return -1;
    if (M->len[i] == 0) {
        M->start[i] = M->nnz;
    } else {
        long last = M->key[M->start[i] + M->len[i] - 1];
        if (last == j)
            return 0; /* a repeat */
        if (last > j || M->start[i] + M->len[i] != M->nnz) /* unsorted, or another row since */
            return -1;
    }
    mask_reserve(M, 1);
    M->key[M->nnz++] = j;
    M->len[i]++;
    return 0;
}

void mask_set_row(mask_t *M, long i, const long *keys, long k)
{
    if (k > M->len[i]) { /* the old place is too small: move the row to the end */
        mask_reserve(M, k);
        M->start[i] = M->nnz;
        M->nnz += k;
    }
    memcpy(M->key + M->start[i], keys, sizeof *keys * (size_t)k);
    M->len[i] = k;
}

void mask_copy(mask_t *dst, const mask_t *src)
{
    mask_clear(dst);
    mask_init(dst, src->n);
    for (long i = 0; i < src->n; i++)
        for (long t = 0; t < src->len[i]; t++)
            mask_add(dst, i, mask_row(src, i)[t]);
}

int mask_allows(const mask_t *M, long i, long j)
{
    const long *k = mask_row(M, i);
    long lo = 0, hi = M->len[i];
    while (lo < hi) {
        long mid = lo + (hi - lo) / 2;
        if (k[mid] < j)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < M->len[i] && k[lo] == j;
}

void mask_causal(mask_t *M, long n)
{
    mask_init(M, n);
    mask_reserve(M, n * (n + 1) / 2);
    for (long i = 0; i < n; i++)
        for (long j = 0; j <= i; j++)
            mask_add(M, i, j);
}

void mask_self_bias(mask_t *M, long n)
{
    mask_init(M, n);
    mask_reserve(M, 2 * n);
    for (long i = 0; i < n; i++) {
        mask_add(M, i, 0);
        mask_add(M, i, i);
    }
}

void mask_self(mask_t *M, long n)
{
    mask_init(M, n);
    for (long i = 0; i < n; i++)
        mask_add(M, i, i);
}

void mask_full(mask_t *M, long n)
{
    mask_init(M, n);
    mask_reserve(M, n * n);
    for (long i = 0; i < n; i++)
        for (long j = 0; j < n; j++)
            mask_add(M, i, j);
}

/* ------------------------------------------------------------------ heads */

void attn_head_init(attn_head_t h, long D, long r)
{
    imat_init(h->W_Q, D, r);
    imat_init(h->W_K, D, r);
    imat_init(h->W_V, D, r);
    imat_init(h->W_O, r, D);
    arb_init(h->tau);
    arb_one(h->tau);
    h->qk_full = h->ov_full = 0;
}

void attn_head_init_full(attn_head_t h, long D)
{
    imat_init(h->W_Q, D, D);
    imat_init(h->W_K, 0, 0);
    imat_init(h->W_V, D, D);
    imat_init(h->W_O, 0, 0);
    arb_init(h->tau);
    arb_one(h->tau);
    h->qk_full = h->ov_full = 1;
}

void attn_head_clear(attn_head_t h)
{
    imat_clear(h->W_Q);
    imat_clear(h->W_K);
    imat_clear(h->W_V);
    imat_clear(h->W_O);
    arb_clear(h->tau);
}

/* ---------------------------------------------------------------- softmax */

/* Adaptive precision.  After the shift every term is e^x with x = s - m
 * <= ~0 and the row sum is >= ~1, so a term needs absolute accuracy
 * ~2^-prec only: e^x with hi(x) log2 e = -t is evaluated (and divided) at
 * max(ATTN_LOWPREC, prec - t + log2 t + ATTN_GUARD) bits.  Arb encloses e^x
 * and the quotient at that precision, so each entry is still a certified
 * enclosure; it is only wider, by ~2^-(prec + GUARD) in absolute terms. */
#define ATTN_LOWPREC 32
#define ATTN_GUARD 16

static mpfr_prec_t term_prec(const arb_t x, mpfr_prec_t prec)
{
    arf_t u;
    arf_init(u);
    arb_get_ubound_arf(u, x, 53);
    double t = -arf_get_d(u, ARF_RND_UP) * 1.4426950408889634; /* bits below 1 */
    arf_clear(u);
    if (!(t > ATTN_GUARD)) /* also NaN */
        return prec;
    if (isinf(t)) /* e^-inf = 0: any precision encloses it */
        return ATTN_LOWPREC;
    /* rounding x = -t ln 2 to p bits moves e^x by ~t 2^-p relatively: add log2 t */
    double p = (double)prec - t + ATTN_GUARD + log2(t);
    return p <= ATTN_LOWPREC ? ATTN_LOWPREC : (mpfr_prec_t)p;
}

/* Wide logits: a_j = e_j / (e_j + sum_(k != j) e_k) rises with e_j and falls
 * with every other e_k, so over the boxes of the e's it lies in
 *   [lo e_j / (lo e_j + sum_(k != j) hi e_k), hi e_j / (hi e_j + sum_(k != j) lo e_k)].
 * Dividing the balls e_j / sum counts e_j twice and is about twice as wide;
 * each a_j (an enclosure already) is intersected with this one. */
static void softmax_monotone(arb_ptr a, arb_srcptr e, long len, mpfr_prec_t prec)
{
    arf_t lo, hi, slo, shi, num, den, qlo, qhi;
    arf_init(lo);
    arf_init(hi);
    arf_init(slo);
    arf_init(shi);
    arf_init(num);
    arf_init(den);
    arf_init(qlo);
    arf_init(qhi);
    for (long k = 0; k < len; k++) {
        arb_get_lbound_arf(lo, e + k, prec);
        if (arf_sgn(lo) < 0)
            arf_zero(lo); /* e^x > 0 */
        arb_get_ubound_arf(hi, e + k, prec);
        arf_add(slo, slo, lo, prec, ARF_RND_FLOOR);
        arf_add(shi, shi, hi, prec, ARF_RND_CEIL);
    }
    arb_t t;
    arb_init(t);
    for (long j = 0; j < len; j++) {
        arb_get_lbound_arf(lo, e + j, prec);
        if (arf_sgn(lo) < 0)
            arf_zero(lo);
        arb_get_ubound_arf(hi, e + j, prec);
        /* lower end: lo e_j / (lo e_j + (shi - hi e_j)), the others rounded up */
        arf_sub(den, shi, hi, prec, ARF_RND_CEIL);
        if (arf_sgn(den) < 0)
            arf_zero(den);
        arf_add(den, den, lo, prec, ARF_RND_CEIL);
        if (arf_is_zero(den))
            arf_zero(qlo);
        else
            arf_div(qlo, lo, den, prec, ARF_RND_FLOOR);
        /* upper end: hi e_j / (hi e_j + (slo - lo e_j)), the others rounded down */
        arf_sub(den, slo, lo, prec, ARF_RND_FLOOR);
        if (arf_sgn(den) < 0)
            arf_zero(den);
        arf_add(den, den, hi, prec, ARF_RND_FLOOR);
        if (arf_sgn(den) <= 0 || arf_cmp(hi, den) >= 0)
            arf_one(qhi); /* a weight is at most 1 */
        else
            arf_div(qhi, hi, den, prec, ARF_RND_CEIL);
        if (arf_cmp(qlo, qhi) <= 0) {
            arb_set_interval_arf(t, qlo, qhi, prec);
            ival_narrow(a + j, t, prec);
        }
    }
    arb_clear(t);
    arf_clear(lo);
    arf_clear(hi);
    arf_clear(slo);
    arf_clear(shi);
    arf_clear(num);
    arf_clear(den);
    arf_clear(qlo);
    arf_clear(qhi);
}

/* The softmax of one row; adaptive: terms far below the row maximum at
 * fewer bits (the reference path keeps prec everywhere). */
static int softmax_row(arb_ptr a, arb_srcptr s, long len, mpfr_prec_t prec, int adaptive)
{
    if (len <= 0)
        return -1;
    arf_t m, u;
    arb_t z;
    arf_init(m);
    arf_init(u);
    arb_init(z);
    /* the shift: the largest upper end (a NaN logit keeps m NaN, and with it the row) */
    for (long j = 0; j < len; j++) {
        arb_get_ubound_arf(u, s + j, prec);
        if (j == 0 || arf_is_nan(u) || (!arf_is_nan(m) && arf_cmp(u, m) > 0))
            arf_set(m, u);
    }
    mpfr_prec_t *pj = xmallocarray((size_t)len, sizeof *pj);
    int wide = 0;
    for (long j = 0; j < len; j++) {
        arb_sub_arf(a + j, s + j, m, prec);
        pj[j] = adaptive ? term_prec(a + j, prec) : prec;
        arb_exp(a + j, a + j, pj[j]);
        arb_add(z, z, a + j, prec);
        wide |= !arb_is_exact(s + j);
    }
    arb_ptr e = wide && arb_is_finite(z) ? _arb_vec_init(len) : NULL;
    if (e)
        _arb_vec_set(e, a, len);
    for (long j = 0; j < len; j++)
        arb_div(a + j, a + j, z, pj[j]);
    if (e) {
        softmax_monotone(a, e, len, prec);
        _arb_vec_clear(e, len);
    }
    free(pj);
    arf_clear(m);
    arf_clear(u);
    arb_clear(z);
    return 0;
}

int attn_softmax_row(arb_ptr a, arb_srcptr s, long len, mpfr_prec_t prec)
{
    return softmax_row(a, s, len, prec, 1);
}

int attn_softmax_row_uniform(arb_ptr a, arb_srcptr s, long len, mpfr_prec_t prec)
{
    return softmax_row(a, s, len, prec, 0);
}

static int softmax_dense(imat_t A, const imat_t S, const mask_t *M, mpfr_prec_t prec,
                         int adaptive)
{
    long N = S->rows, C = S->cols;
    int status = 0;
    arb_struct *s = xmallocarray((size_t)(C > 0 ? C : 1), sizeof *s); /* shallow copies */
    arb_ptr a = _arb_vec_init(C > 0 ? C : 1);
    imat_zero(A);
    for (long i = 0; i < N; i++) {
        long len = M ? mask_row_len(M, i) : C;
        for (long t = 0; t < len; t++)
            s[t] = *imat_entry(S, i, M ? mask_row(M, i)[t] : t);
        if (softmax_row(a, s, len, prec, adaptive) != 0) {
            status = -1;
            continue;
        }
        for (long t = 0; t < len; t++)
            arb_swap(imat_entry(A, i, M ? mask_row(M, i)[t] : t), a + t);
    }
    _arb_vec_clear(a, C > 0 ? C : 1);
    free(s);
    return status;
}

int attn_softmax(imat_t A, const imat_t S, const mask_t *M, mpfr_prec_t prec)
{
    return softmax_dense(A, S, M, prec, 1);
}

int attn_softmax_uniform(imat_t A, const imat_t S, const mask_t *M, mpfr_prec_t prec)
{
    return softmax_dense(A, S, M, prec, 0);
}

/* ------------------------------------------------------------- head apply */

int attn_head_apply(imat_t Y, const attn_head_t h, const imat_t X,
                    const mask_t *M, mpfr_prec_t prec)
{
    long N = X->rows;
    if (M && M->n != N) {
        imat_zero(Y);
        return -1;
    }
    imat_t Q, K, Vt, AV;
    /* Q = X W_Q; keys: K = X W_K, or X itself in full form (s_ij = q_i . x_j) */
    imat_init(Q, N, h->W_Q->cols);
    imat_mul(Q, X, h->W_Q, prec);
    imat_init(K, h->qk_full ? 0 : N, h->qk_full ? 0 : h->W_K->cols);
    if (!h->qk_full)
        imat_mul(K, X, h->W_K, prec);
    const imat_struct *keys = h->qk_full ? X : K;
    long dq = Q->cols;
    /* values, transposed so that one value channel is one contiguous row */
    long dv = h->W_V->cols;
    {
        imat_t V;
        imat_init(V, N, dv);
        imat_mul(V, X, h->W_V, prec);
        imat_init(Vt, dv, N);
        imat_transpose(Vt, V);
        imat_clear(V);
    }
    imat_init(AV, N, dv);

    int status = 0;
    int unit_tau = arb_is_one(h->tau);
    arb_ptr s = _arb_vec_init(N > 0 ? N : 1), a = _arb_vec_init(N > 0 ? N : 1);
    arb_struct *vals = xmallocarray((size_t)(N > 0 ? N : 1), sizeof *vals); /* shallow copies */
    for (long i = 0; i < N; i++) {
        long len = M ? mask_row_len(M, i) : N;
        const long *kj = M ? mask_row(M, i) : NULL;
        if (len == 0) {
            status = -1; /* no key to attend to: the row stays 0 */
            continue;
        }
        /* logits of the allowed keys only, each a dot product rounded once */
        for (long t = 0; t < len; t++) {
            long j = kj ? kj[t] : t;
            arb_dot(s + t, NULL, 0, imat_entry(Q, i, 0), 1, imat_entry(keys, j, 0), 1, dq, prec);
            if (!unit_tau)
                arb_mul(s + t, s + t, h->tau, prec);
        }
        softmax_row(a, s, len, prec, 1);
        /* (A V)_i = sum_t a_t v_(j_t): keys in one run are read in place */
        long first = kj ? kj[0] : 0;
        int run = !kj || kj[len - 1] - kj[0] == len - 1;
        for (long c = 0; c < dv; c++) {
            arb_srcptr vrow = imat_entry(Vt, c, 0);
            if (run) {
                arb_dot(imat_entry(AV, i, c), NULL, 0, a, 1, vrow + first, 1, len, prec);
            } else {
                for (long t = 0; t < len; t++)
                    vals[t] = vrow[kj[t]];
                arb_dot(imat_entry(AV, i, c), NULL, 0, a, 1, vals, 1, len, prec);
            }
        }
    }
    if (h->ov_full)
        imat_set(Y, AV);
    else
        imat_mul(Y, AV, h->W_O, prec);
    free(vals);
    _arb_vec_clear(s, N > 0 ? N : 1);
    _arb_vec_clear(a, N > 0 ? N : 1);
    imat_clear(Q);
    imat_clear(K);
    imat_clear(Vt);
    imat_clear(AV);
    return status;
}
