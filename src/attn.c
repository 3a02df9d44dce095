/* Attention heads as certified enclosures.  Softmax is shift-invariant, so
 * shifting a row by any number m (here the largest upper end of its allowed
 * logits) changes nothing mathematically; it keeps every e^(s-m) <= 1. */
#include <stdlib.h>
#include <string.h>
#include "attn.h"

void mask_init(mask_t *M, long n)
{
    M->n = n;
    M->m = calloc((size_t)(n * n), 1);
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

void mask_copy(mask_t *dst, const mask_t *src)
{
    mask_init(dst, src->n);
    memcpy(dst->m, src->m, (size_t)(src->n * src->n));
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
                mpfi_mul(t, imat_entry(Q, i, k), imat_entry(keys, j, k));
                mpfi_add(s, s, t);
            }
            mpfi_mul(s, s, h->tau);
        }
    mpfi_clear(t);
    imat_clear(Q);
    imat_clear(K);
}

int attn_softmax(imat_t A, const imat_t S, const mask_t *M, mpfr_prec_t prec)
{
    long N = S->rows;
    int status = 0;
    mpfr_t m;
    mpfi_t z;
    mpfr_init2(m, prec);
    mpfi_init2(z, prec);
    for (long i = 0; i < N; i++) {
        int any = 0;
        for (long j = 0; j < S->cols; j++) {
            if (M && !mask_at(M, i, j))
                continue;
            if (!any || mpfr_greater_p(&imat_entry(S, i, j)->right, m))
                mpfr_set(m, &imat_entry(S, i, j)->right, MPFR_RNDU);
            any = 1;
        }
        if (!any) {
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
                continue;
            }
            mpfi_sub_fr(a, imat_entry(S, i, j), m);
            mpfi_exp(a, a);
            mpfi_add(z, z, a);
        }
        for (long j = 0; j < S->cols; j++)
            if (!M || mask_at(M, i, j))
                mpfi_div(imat_entry(A, i, j), imat_entry(A, i, j), z);
    }
    mpfr_clear(m);
    mpfi_clear(z);
    return status;
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
