/* Plain-MPFR oracle for the attention kernels (see oracle.h). */
#include <stdlib.h>
#include "oracle.h"

void fmat_init(fmat_t *A, long rows, long cols, mpfr_prec_t prec)
{
    A->rows = rows;
    A->cols = cols;
    A->e = malloc(sizeof(mpfr_t) * (size_t)(rows * cols > 0 ? rows * cols : 1));
    for (long k = 0; k < rows * cols; k++) {
        mpfr_init2(A->e[k], prec);
        mpfr_set_ui(A->e[k], 0, MPFR_RNDN);
    }
}

void fmat_clear(fmat_t *A)
{
    for (long k = 0; k < A->rows * A->cols; k++)
        mpfr_clear(A->e[k]);
    free(A->e);
}

void fmat_from_imat(fmat_t *A, const imat_t B)
{
    for (long k = 0; k < B->rows * B->cols; k++)
        arf_get_mpfr(A->e[k], arb_midref(B->e + k), MPFR_RNDN);
}

void fmat_mul(fmat_t *C, const fmat_t *A, const fmat_t *B)
{
    mpfr_t t;
    mpfr_init2(t, mpfr_get_prec(C->e[0]));
    for (long i = 0; i < A->rows; i++)
        for (long j = 0; j < B->cols; j++) {
            mpfr_set_ui(fmat_entry(C, i, j), 0, MPFR_RNDN);
            for (long k = 0; k < A->cols; k++) {
                mpfr_mul(t, fmat_entry(A, i, k), fmat_entry(B, k, j), MPFR_RNDN);
                mpfr_add(fmat_entry(C, i, j), fmat_entry(C, i, j), t, MPFR_RNDN);
            }
        }
    mpfr_clear(t);
}

void oracle_softmax(fmat_t *A, const fmat_t *S, const mask_t *M, mpfr_prec_t prec)
{
    mpfr_t m, z;
    mpfr_inits2(prec, m, z, (mpfr_ptr)0);
    for (long i = 0; i < S->rows; i++) {
        int any = 0;
        for (long j = 0; j < S->cols; j++)
            if (!M || mask_allows(M, i, j)) {
                if (!any || mpfr_greater_p(fmat_entry(S, i, j), m))
                    mpfr_set(m, fmat_entry(S, i, j), MPFR_RNDN);
                any = 1;
            }
        mpfr_set_ui(z, 0, MPFR_RNDN);
        for (long j = 0; j < S->cols; j++) {
            if (M && !mask_allows(M, i, j)) {
                mpfr_set_ui(fmat_entry(A, i, j), 0, MPFR_RNDN);
                continue;
            }
            mpfr_sub(fmat_entry(A, i, j), fmat_entry(S, i, j), m, MPFR_RNDN);
            mpfr_exp(fmat_entry(A, i, j), fmat_entry(A, i, j), MPFR_RNDN);
            mpfr_add(z, z, fmat_entry(A, i, j), MPFR_RNDN);
        }
        for (long j = 0; j < S->cols; j++)
            mpfr_div(fmat_entry(A, i, j), fmat_entry(A, i, j), z, MPFR_RNDN);
    }
    mpfr_clears(m, z, (mpfr_ptr)0);
}

void oracle_head_apply(fmat_t *Y, const attn_head_t h, const fmat_t *X, const mask_t *M,
                       mpfr_prec_t prec)
{
    long N = X->rows;
    fmat_t WQ, WK, WV, WO, Q, K, Kt, S, A, V, AV;
    fmat_init(&WQ, h->W_Q->rows, h->W_Q->cols, prec);
    fmat_from_imat(&WQ, h->W_Q);
    fmat_init(&Q, N, WQ.cols, prec);
    fmat_mul(&Q, X, &WQ);
    if (h->qk_full) {
        fmat_init(&WK, 0, 0, prec);
        fmat_init(&K, N, X->cols, prec);
        for (long k = 0; k < N * X->cols; k++)
            mpfr_set(K.e[k], X->e[k], MPFR_RNDN);
    } else {
        fmat_init(&WK, h->W_K->rows, h->W_K->cols, prec);
        fmat_from_imat(&WK, h->W_K);
        fmat_init(&K, N, WK.cols, prec);
        fmat_mul(&K, X, &WK);
    }
    fmat_init(&Kt, K.cols, N, prec);
    for (long i = 0; i < N; i++)
        for (long j = 0; j < K.cols; j++)
            mpfr_set(fmat_entry(&Kt, j, i), fmat_entry(&K, i, j), MPFR_RNDN);
    fmat_init(&S, N, N, prec);
    fmat_mul(&S, &Q, &Kt);
    mpfr_t tau;
    mpfr_init2(tau, prec);
    arf_get_mpfr(tau, arb_midref(h->tau), MPFR_RNDN);
    for (long k = 0; k < N * N; k++)
        mpfr_mul(S.e[k], S.e[k], tau, MPFR_RNDN);
    fmat_init(&A, N, N, prec);
    oracle_softmax(&A, &S, M, prec);
    fmat_init(&WV, h->W_V->rows, h->W_V->cols, prec);
    fmat_from_imat(&WV, h->W_V);
    fmat_init(&V, N, WV.cols, prec);
    fmat_mul(&V, X, &WV);
    if (h->ov_full) {
        fmat_init(&WO, 0, 0, prec);
        fmat_init(&AV, 0, 0, prec);
        fmat_mul(Y, &A, &V);
    } else {
        fmat_init(&WO, h->W_O->rows, h->W_O->cols, prec);
        fmat_from_imat(&WO, h->W_O);
        fmat_init(&AV, N, WV.cols, prec);
        fmat_mul(&AV, &A, &V);
        fmat_mul(Y, &AV, &WO);
    }
    mpfr_clear(tau);
    fmat_t *all[] = {&WQ, &WK, &WV, &WO, &Q, &K, &Kt, &S, &A, &V, &AV};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        fmat_clear(all[k]);
}

void oracle_silu(mpfr_t y, const mpfr_t x, const mpfr_t a)
{
    mpfr_t t;
    mpfr_init2(t, mpfr_get_prec(y));
    mpfr_mul(t, x, a, MPFR_RNDN);
    mpfr_neg(t, t, MPFR_RNDN);
    mpfr_exp(t, t, MPFR_RNDN);
    mpfr_add_ui(t, t, 1, MPFR_RNDN);
    mpfr_div(y, x, t, MPFR_RNDN);
    mpfr_clear(t);
}

void oracle_attn_layer(fmat_t *X, const attn_head_struct *heads, long n_heads, const mask_t *M,
                       mpfr_prec_t prec)
{
    fmat_t Y, sum;
    fmat_init(&Y, X->rows, X->cols, prec);
    fmat_init(&sum, X->rows, X->cols, prec);
    for (long h = 0; h < n_heads; h++) {
        oracle_head_apply(&Y, heads + h, X, M, prec);
        for (long k = 0; k < X->rows * X->cols; k++)
            mpfr_add(sum.e[k], sum.e[k], Y.e[k], MPFR_RNDN);
    }
    for (long k = 0; k < X->rows * X->cols; k++)
        mpfr_add(X->e[k], X->e[k], sum.e[k], MPFR_RNDN);
    fmat_clear(&Y);
    fmat_clear(&sum);
}

int fmat_inside(const fmat_t *A, const imat_t B)
{
    for (long k = 0; k < B->rows * B->cols; k++)
        if (!arb_contains_mpfr(B->e + k, A->e[k]))
            return 0;
    return 1;
}
