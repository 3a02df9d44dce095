/* Plain-MPFR baseline for make bench (plain.h). */
#include <stdlib.h>
#include "plain.h"

/* Bits that hold a weight of the instances exactly (they have a few). */
#define PLAIN_EXACT_BITS 64

void plain_mul(fmat_t *C, const fmat_t *A, const fmat_t *B, int add)
{
    long K = A->cols;
    char *keep = malloc((size_t)(K > 0 ? K : 1));
    for (long k = 0; k < K; k++) { /* B's zero rows add nothing */
        keep[k] = 0;
        for (long j = 0; j < B->cols && !keep[k]; j++)
            keep[k] = !mpfr_zero_p(fmat_entry(B, k, j));
    }
    for (long i = 0; i < A->rows; i++)
        for (long j = 0; j < B->cols; j++) {
            mpfr_ptr c = fmat_entry(C, i, j);
            if (!add)
                mpfr_set_zero(c, 1);
            for (long k = 0; k < K; k++)
                if (keep[k])
                    mpfr_fma(c, fmat_entry(A, i, k), fmat_entry(B, k, j), c, MPFR_RNDN);
        }
    free(keep);
}

/* Softmax of s[0..len) into w (shifted by the maximum). */
static void softmax(mpfr_t *w, mpfr_t *s, long len, mpfr_t m, mpfr_t z)
{
    mpfr_set(m, s[0], MPFR_RNDN);
    for (long t = 1; t < len; t++)
        mpfr_max(m, m, s[t], MPFR_RNDN);
    mpfr_set_zero(z, 1);
    for (long t = 0; t < len; t++) {
        mpfr_sub(w[t], s[t], m, MPFR_RNDN);
        mpfr_exp(w[t], w[t], MPFR_RNDN);
        mpfr_add(z, z, w[t], MPFR_RNDN);
    }
    for (long t = 0; t < len; t++)
        mpfr_div(w[t], w[t], z, MPFR_RNDN);
}

/* AV (N x R) for heads of internal dimension r stacked in Q, K, V (N x R):
 * per head and query, logits over the allowed keys, softmax, A V. */
static void heads_av(fmat_t *AV, const fmat_t *Q, const fmat_t *K, const fmat_t *V, long r,
                     const mask_t *M, mpfr_prec_t prec)
{
    long N = Q->rows, R = Q->cols;
    mpfr_t *s = malloc(sizeof(mpfr_t) * (size_t)N), *w = malloc(sizeof(mpfr_t) * (size_t)N);
    mpfr_t m, z;
    mpfr_inits2(prec, m, z, (mpfr_ptr)0);
    for (long j = 0; j < N; j++) {
        mpfr_init2(s[j], prec);
        mpfr_init2(w[j], prec);
    }
    for (long o = 0; o < R; o += r)
        for (long i = 0; i < N; i++) {
            long len = M ? mask_row_len(M, i) : N;
            const long *kj = M ? mask_row(M, i) : NULL;
            for (long t = 0; t < len; t++) {
                long j = kj ? kj[t] : t;
                mpfr_set_zero(s[t], 1);
                for (long c = 0; c < r; c++)
                    mpfr_fma(s[t], fmat_entry(Q, i, o + c), fmat_entry(K, j, o + c), s[t],
                             MPFR_RNDN);
            }
            softmax(w, s, len, m, z);
            for (long c = 0; c < r; c++) {
                mpfr_ptr y = fmat_entry(AV, i, o + c);
                mpfr_set_zero(y, 1);
                for (long t = 0; t < len; t++)
                    mpfr_fma(y, w[t], fmat_entry(V, kj ? kj[t] : t, o + c), y, MPFR_RNDN);
            }
        }
    for (long j = 0; j < N; j++) {
        mpfr_clear(s[j]);
        mpfr_clear(w[j]);
    }
    mpfr_clears(m, z, (mpfr_ptr)0);
    free(s);
    free(w);
}

void plain_head_apply(fmat_t *Y, const attn_head_t h, const fmat_t *X, const mask_t *M,
                      mpfr_prec_t prec)
{
    long N = X->rows, D = X->cols, r = h->W_Q->cols;
    fmat_t WQ, WK, WV, WO, Q, K, V, AV;
    fmat_t *w[4] = {&WQ, &WK, &WV, &WO};
    const imat_struct *hw[4] = {h->W_Q, h->W_K, h->W_V, h->W_O};
    for (int k = 0; k < 4; k++) {
        fmat_init(w[k], hw[k]->rows, hw[k]->cols, PLAIN_EXACT_BITS);
        fmat_from_imat(w[k], hw[k]);
    }
    fmat_init(&Q, N, r, prec);
    fmat_init(&K, N, r, prec);
    fmat_init(&V, N, r, prec);
    fmat_init(&AV, N, r, prec);
    plain_mul(&Q, X, &WQ, 0);
    plain_mul(&K, X, &WK, 0);
    plain_mul(&V, X, &WV, 0);
    heads_av(&AV, &Q, &K, &V, r, M, prec);
    plain_mul(Y, &AV, &WO, 0);
    (void)D;
    fmat_t *all[] = {&WQ, &WK, &WV, &WO, &Q, &K, &V, &AV};
    for (int k = 0; k < 8; k++)
        fmat_clear(all[k]);
}

void plain_mlp_layer_check(mpfr_t E, const imat_t Xi, const imat_t W_ini, const imat_t W_outi,
                           const mpfr_t a, mpfr_prec_t prec)
{
    long n = Xi->rows, d = Xi->cols, l = W_ini->cols, N = n + 1, D = d + 1;
    fmat_t X, Wi, Wo, H, Y, Xh, WQ, WK, WV, WO, Q, K, V, AV, C;
    fmat_init(&X, n, d, PLAIN_EXACT_BITS);
    fmat_init(&Wi, d, l, PLAIN_EXACT_BITS);
    fmat_init(&Wo, l, d, PLAIN_EXACT_BITS);
    fmat_from_imat(&X, Xi);
    fmat_from_imat(&Wi, W_ini);
    fmat_from_imat(&Wo, W_outi);
    /* reference: X + SiLU_a(X W_in) W_out */
    fmat_init(&H, n, l, prec);
    fmat_init(&Y, n, d, prec);
    plain_mul(&H, &X, &Wi, 0);
    mpfr_t t;
    mpfr_init2(t, prec);
    for (long k = 0; k < n * l; k++) { /* z / (1 + e^(-a z)) */
        mpfr_mul(t, H.e[k], a, MPFR_RNDN);
        mpfr_neg(t, t, MPFR_RNDN);
        mpfr_exp(t, t, MPFR_RNDN);
        mpfr_add_ui(t, t, 1, MPFR_RNDN);
        mpfr_div(H.e[k], H.e[k], t, MPFR_RNDN);
    }
    for (long k = 0; k < n * d; k++)
        mpfr_set(Y.e[k], X.e[k], MPFR_RNDN);
    plain_mul(&Y, &H, &Wo, 1);
    /* construction: the l neuron heads stacked, mask B */
    fmat_init(&Xh, N, D, PLAIN_EXACT_BITS);
    mpfr_set_ui(fmat_entry(&Xh, 0, d), 1, MPFR_RNDN);
    for (long i = 0; i < n; i++)
        for (long j = 0; j < d; j++)
            mpfr_set(fmat_entry(&Xh, i + 1, j), fmat_entry(&X, i, j), MPFR_RNDN);
    fmat_init(&WQ, D, l, prec);
    fmat_init(&WK, D, l, PLAIN_EXACT_BITS);
    fmat_init(&WV, D, l, PLAIN_EXACT_BITS);
    fmat_init(&WO, l, D, PLAIN_EXACT_BITS);
    for (long k = 0; k < l; k++) {
        for (long i = 0; i < d; i++) {
            mpfr_mul(fmat_entry(&WQ, i, k), fmat_entry(&Wi, i, k), a, MPFR_RNDN);
            mpfr_set(fmat_entry(&WV, i, k), fmat_entry(&Wi, i, k), MPFR_RNDN);
            mpfr_set(fmat_entry(&WO, k, i), fmat_entry(&Wo, k, i), MPFR_RNDN);
        }
        mpfr_set_si(fmat_entry(&WK, d, k), -1, MPFR_RNDN);
    }
    fmat_init(&Q, N, l, prec);
    fmat_init(&K, N, l, prec);
    fmat_init(&V, N, l, prec);
    fmat_init(&AV, N, l, prec);
    fmat_init(&C, N, D, prec);
    plain_mul(&Q, &Xh, &WQ, 0);
    plain_mul(&K, &Xh, &WK, 0);
    plain_mul(&V, &Xh, &WV, 0);
    mask_t B;
    mask_self_bias(&B, N);
    heads_av(&AV, &Q, &K, &V, 1, &B, prec);
    mask_clear(&B);
    for (long k = 0; k < N * D; k++)
        mpfr_set(C.e[k], Xh.e[k], MPFR_RNDN);
    plain_mul(&C, &AV, &WO, 1);
    /* E over all rows: the bias row against e_(d+1), real rows against [y, 0] */
    mpfr_t s;
    mpfr_init2(s, prec);
    mpfr_set_zero(E, 1);
    for (long i = 0; i < N; i++) {
        mpfr_set_zero(s, 1);
        for (long j = 0; j < D; j++) {
            if (i == 0)
                mpfr_sub_ui(t, fmat_entry(&C, 0, j), j == d, MPFR_RNDN);
            else if (j < d)
                mpfr_sub(t, fmat_entry(&C, i, j), fmat_entry(&Y, i - 1, j), MPFR_RNDN);
            else
                mpfr_set(t, fmat_entry(&C, i, j), MPFR_RNDN);
            mpfr_fma(s, t, t, s, MPFR_RNDN);
        }
        mpfr_sqrt(s, s, MPFR_RNDN);
        mpfr_max(E, E, s, MPFR_RNDN);
    }
    mpfr_clears(s, t, (mpfr_ptr)0);
    fmat_t *all[] = {&X, &Wi, &Wo, &H, &Y, &Xh, &WQ, &WK, &WV, &WO, &Q, &K, &V, &AV, &C};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        fmat_clear(all[k]);
}
