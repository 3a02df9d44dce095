/* Attention heads as certified enclosures.  Softmax is shift-invariant, so
 * shifting a row by any number m (here the largest upper end of its allowed
 * logits) changes nothing mathematically; it keeps every e^(s-m) <= 1. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "attn.h"
#include "xalloc.h"

void mask_init(mask_t *M, long n)
{
    M->n = n;
    M->m = xcalloc((size_t)n, (size_t)n);
}

void mask_clear(mask_t *M)
{
    free(M->m);
    M->m = NULL;
    M->n = 0;
}

void mask_causal(mask_t *M, long n)
{
    mask_init(M, n);
    for (long i = 0; i < n; i++)
        for (long j = 0; j <= i; j++)
            mask_at(M, i, j) = 1;
}

void mask_self_bias(mask_t *M, long n)
{
    mask_init(M, n);
    for (long i = 0; i < n; i++)
        mask_at(M, i, i) = mask_at(M, i, 0) = 1;
}

void mask_self(mask_t *M, long n)
{
    mask_init(M, n);
    for (long i = 0; i < n; i++)
        mask_at(M, i, i) = 1;
}

void mask_full(mask_t *M, long n)
{
    mask_init(M, n);
    memset(M->m, 1, (size_t)(n * n));
}


void attn_head_init(attn_head_t h, long D, long r, mpfr_prec_t prec)
{
    imat_init(h->W_Q, D, r, prec);
    imat_init(h->W_K, D, r, prec);
    imat_init(h->W_V, D, r, prec);
    imat_init(h->W_O, r, D, prec);
    mpfi_init2(h->tau, prec);
    mpfi_set_ui(h->tau, 1);
    h->qk_full = h->ov_full = 0;
}

void attn_head_init_full(attn_head_t h, long D, mpfr_prec_t prec)
{
    imat_init(h->W_Q, D, D, prec);
    imat_init(h->W_K, 0, 0, prec);
    imat_init(h->W_V, D, D, prec);
    imat_init(h->W_O, 0, 0, prec);
    mpfi_init2(h->tau, prec);
    mpfi_set_ui(h->tau, 1);
    h->qk_full = h->ov_full = 1;
}

void attn_head_clear(attn_head_t h)
{
    imat_clear(h->W_Q);
    imat_clear(h->W_K);
    imat_clear(h->W_V);
    imat_clear(h->W_O);
    mpfi_clear(h->tau);
}

void attn_head_logits(imat_t S, const attn_head_t h, const imat_t X,
                      const mask_t *M, mpfr_prec_t prec)
{
    long N = X->rows;
    imat_t Q, K;
    imat_init(Q, N, h->W_Q->cols, prec);
    imat_mul(Q, X, h->W_Q);
    /* Full form: s_ij = q_i . x_j with q = X W_QK; factored: q_i . k_j. */
    if (h->qk_full) {
        imat_init(K, 0, 0, prec);
    } else {
        imat_init(K, N, h->W_K->cols, prec);
        imat_mul(K, X, h->W_K);
    }
    const imat_struct *keys = h->qk_full ? X : K;
    mpfi_t t;
    mpfi_init2(t, prec);
    for (long i = 0; i < N; i++)
        for (long j = 0; j < N; j++) {
            if (M && !mask_at(M, i, j))
                continue;
            mpfi_ptr s = imat_entry(S, i, j);
            mpfi_set_ui(s, 0);
            for (long k = 0; k < Q->cols; k++) {
                mpfi_srcptr q = imat_entry(Q, i, k), x = imat_entry(keys, j, k);
                /* exact zeros (one-hot positions, block weights) add nothing */
                if ((mpfr_zero_p(&q->left) && mpfr_zero_p(&q->right)) ||
                    (mpfr_zero_p(&x->left) && mpfr_zero_p(&x->right)))
                    continue;
                mpfi_mul(t, q, x);
                mpfi_add(s, s, t);
            }
            mpfi_mul(s, s, h->tau);
        }
    mpfi_clear(t);
    imat_clear(Q);
    imat_clear(K);
}

/* Adaptive precision.  After the shift every term is e^x with x = s - m
 * <= ~0 and the row sum is >= ~1, so a term needs absolute accuracy
 * ~2^-prec only: e^x with hi(x) log2 e = -t is evaluated (and divided) at
 * max(ATTN_LOWPREC, prec - t + log2 t + ATTN_GUARD) bits.  MPFI rounds x outward to
 * that precision and encloses e^x and the quotient there, so each entry is
 * still a certified enclosure; it is only wider, by ~2^-(prec + GUARD) in
 * absolute terms (the widening back to prec bits is exact). */
#define ATTN_LOWPREC 32
#define ATTN_GUARD 16

/* e^x with one exponential instead of MPFI's two: lo = e^lo(x) rounded
 * down; e^hi(x) = e^lo(x) e^w <= u + u (w + w^2), u = up(e^lo(x)), for
 * 0 <= w = hi - lo <= 1 (there e^w <= 1 + w + (e - 2) w^2); the small term
 * u (w + w^2) is formed at w's precision, the sum at y's, all rounded up.
 * y may alias x (w is taken first).  w, f: scratch of any precision. */
static void exp_enclose(mpfi_ptr y, mpfi_srcptr x, mpfr_ptr w, mpfr_ptr f)
{
    mpfr_sub(w, &x->right, &x->left, MPFR_RNDU);
    if (mpfr_cmp_ui(w, 1) > 0 || mpfr_nan_p(w)) {
        mpfi_exp(y, x);
        return;
    }
    int inex = mpfr_exp(&y->left, &x->left, MPFR_RNDD);
    mpfr_set(&y->right, &y->left, MPFR_RNDU); /* exact: same precision */
    if (inex)
        mpfr_nextabove(&y->right);
    if (!mpfr_zero_p(w)) {
        mpfr_sqr(f, w, MPFR_RNDU);
        mpfr_add(f, f, w, MPFR_RNDU);
        mpfr_mul(f, f, &y->right, MPFR_RNDU);
        mpfr_add(&y->right, &y->right, f, MPFR_RNDU);
    }
}

static mpfr_prec_t term_prec(mpfi_srcptr x, mpfr_prec_t prec)
{
    double t = -mpfr_get_d(&x->right, MPFR_RNDU) * 1.4426950408889634; /* bits below 1 */
    if (!(t > ATTN_GUARD)) /* also NaN */
        return prec;
    if (isinf(t)) /* e^-inf = 0: any precision encloses it */
        return ATTN_LOWPREC;
    /* rounding x = -t ln 2 to p bits moves e^x by ~t 2^-p relatively: add log2 t */
    double p = (double)prec - t + ATTN_GUARD + log2(t);
    return p <= ATTN_LOWPREC ? ATTN_LOWPREC : (mpfr_prec_t)p;
}

/* m = the largest upper end of row i's allowed logits (the softmax shift);
 * returns 0 when the row allows no key. */
static int row_shift(mpfr_t m, const imat_t S, const mask_t *M, long i)
{
    int any = 0;
    for (long j = 0; j < S->cols; j++) {
        if (M && !mask_at(M, i, j))
            continue;
        if (!any || mpfr_greater_p(&imat_entry(S, i, j)->right, m))
            mpfr_set(m, &imat_entry(S, i, j)->right, MPFR_RNDU);
        any = 1;
    }
    return any;
}

/* The softmax rows.  adaptive: terms far below the row maximum at fewer
 * bits and exp_enclose; otherwise every term at prec bits with MPFI's exp
 * (the reference the adaptive path is tested and benchmarked against). */
static int softmax_rows(imat_t A, const imat_t S, const mask_t *M, mpfr_prec_t prec,
                        int adaptive)
{
    long N = S->rows;
    int status = 0;
    mpfr_t m, w, f;
    mpfi_t z, lo;
    mpfr_prec_t *pj = xmallocarray((size_t)(S->cols > 0 ? S->cols : 1), sizeof *pj);
    mpfr_init2(m, prec);
    mpfr_init2(w, 64);
    mpfr_init2(f, 64);
    mpfi_init2(z, prec);
    mpfi_init2(lo, prec);
    for (long i = 0; i < N; i++) {
        if (!row_shift(m, S, M, i)) {
            status = -1;
            for (long j = 0; j < S->cols; j++)
                mpfi_set_ui(imat_entry(A, i, j), 0);
            continue;
        }
        mpfi_set_ui(z, 0);
        for (long j = 0; j < S->cols; j++) {
            mpfi_ptr a = imat_entry(A, i, j);
            if (M && !mask_at(M, i, j)) {
                mpfi_set_ui(a, 0);
                pj[j] = 0;
                continue;
            }
            mpfi_sub_fr(a, imat_entry(S, i, j), m);
            pj[j] = adaptive ? term_prec(a, prec) : prec;
            if (!adaptive) {
                mpfi_exp(a, a);
            } else if (pj[j] < prec) {
                mpfi_set_prec(lo, pj[j]);
                mpfi_set(lo, a); /* outward */
                exp_enclose(lo, lo, w, f);
                mpfi_set(a, lo); /* exact: prec >= pj */
            } else {
                exp_enclose(a, a, w, f);
            }
            mpfi_add(z, z, a);
        }
        for (long j = 0; j < S->cols; j++) {
            if (M && !mask_at(M, i, j))
                continue;
            mpfi_ptr a = imat_entry(A, i, j);
            if (pj[j] < prec) {
                mpfi_set_prec(lo, pj[j]);
                mpfi_div(lo, a, z); /* rounded outward to pj bits */
                mpfi_set(a, lo);
            } else {
                mpfi_div(a, a, z);
            }
        }
    }
    mpfr_clear(m);
    mpfr_clear(w);
    mpfr_clear(f);
    mpfi_clear(z);
    mpfi_clear(lo);
    free(pj);
    return status;
}

int attn_softmax(imat_t A, const imat_t S, const mask_t *M, mpfr_prec_t prec)
{
    return softmax_rows(A, S, M, prec, 1);
}

int attn_softmax_uniform(imat_t A, const imat_t S, const mask_t *M, mpfr_prec_t prec)
{
    return softmax_rows(A, S, M, prec, 0);
}


int attn_head_apply(imat_t Y, const attn_head_t h, const imat_t X,
                    const mask_t *M, mpfr_prec_t prec)
{
    long N = X->rows;
    imat_t S, A, V, AV;
    imat_init(S, N, N, prec);
    imat_init(A, N, N, prec);
    attn_head_logits(S, h, X, M, prec);
    int status = attn_softmax(A, S, M, prec);
    imat_clear(S);

    imat_init(V, N, h->W_V->cols, prec);
    imat_mul(V, X, h->W_V);
    if (h->ov_full) {
        imat_mul(Y, A, V);
    } else {
        imat_init(AV, N, h->W_V->cols, prec);
        imat_mul(AV, A, V);
        imat_mul(Y, AV, h->W_O);
        imat_clear(AV);
    }
    imat_clear(A);
    imat_clear(V);
    return status;
}
