/* Float-format matrices, heads and MLPs: see fpmat.h for the model. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include "fpmat.h"

int fpf_mat_init(fpf_mat_t A, long rows, long cols, const fpf_format_t *fmt)
{
    A->rows = A->cols = 0;
    A->fmt = fmt;
    A->e = NULL;
    if (rows < 0 || cols < 0 || (cols > 0 && rows > (long)(SIZE_MAX / sizeof *A->e) / cols))
        return -1;
    long n = rows * cols;
    A->e = malloc(sizeof *A->e * (size_t)(n > 0 ? n : 1));
    if (!A->e)
        return -1;
    A->rows = rows;
    A->cols = cols;
    for (long k = 0; k < n; k++)
        fpf_init(A->e + k, fmt);
    return 0;
}

void fpf_mat_clear(fpf_mat_t A)
{
    for (long k = 0; k < A->rows * A->cols; k++)
        mpfr_clear(A->e + k);
    free(A->e);
    A->e = NULL;
    A->rows = A->cols = 0;
}

void fpf_mat_set_d(fpf_mat_t A, const double *v)
{
    for (long k = 0; k < A->rows * A->cols; k++)
        fpf_set_d(A->e + k, v[k], A->fmt);
}

void fpf_mat_set(fpf_mat_t B, const fpf_mat_t A)
{
    for (long k = 0; k < A->rows * A->cols; k++)
        fpf_set_fr(B->e + k, A->e + k, B->fmt);
}

void fpf_mat_add(fpf_mat_t C, const fpf_mat_t A, const fpf_mat_t B)
{
    for (long k = 0; k < C->rows * C->cols; k++)
        fpf_add(C->e + k, A->e + k, B->e + k, C->fmt);
}

int fpf_mat_mul(fpf_mat_t C, const fpf_mat_t A, const fpf_mat_t B, const fpf_mat_t bias,
                const fpf_arith_t *ar)
{
    long n = A->cols;
    if (B->rows != n || C->rows != A->rows || C->cols != B->cols || C->fmt != ar->fmt ||
        (bias && (bias->rows != 1 || bias->cols != C->cols)))
        return -1;
    mpfr_srcptr *x = malloc(sizeof *x * (size_t)(n > 0 ? n : 1));
    mpfr_srcptr *y = malloc(sizeof *y * (size_t)(n > 0 ? n : 1));
    int rc = x && y ? 0 : -1;
    for (long i = 0; rc == 0 && i < C->rows; i++)
        for (long j = 0; rc == 0 && j < C->cols; j++) {
            for (long k = 0; k < n; k++) {
                x[k] = fpf_mat_entry(A, i, k);
                y[k] = fpf_mat_entry(B, k, j);
            }
            rc = fpf_dot_ptr(fpf_mat_entry(C, i, j), x, y, n,
                             bias ? fpf_mat_entry(bias, 0, j) : NULL, ar);
        }
    free(x);
    free(y);
    return rc;
}

/* ---- masks ---- */

/* M empty; returns -1. */
static int mask_refuse(fpf_mask_t *M)
{
    M->n = 0;
    M->start = NULL;
    M->key = NULL;
    return -1;
}

/* Room for n queries and nnz keys; start[] all 0.  0, or -1 (M empty) when
 * out of memory or a size is out of range. */
static int mask_alloc(fpf_mask_t *M, long n, long nnz)
{
    mask_refuse(M);
    if (n < 0 || nnz < 0 || (size_t)n >= SIZE_MAX / sizeof(long) ||
        (size_t)nnz >= SIZE_MAX / sizeof(long))
        return -1;
    M->start = calloc((size_t)n + 1, sizeof(long));
    M->key = malloc(sizeof(long) * (size_t)(nnz > 0 ? nnz : 1));
    if (!M->start || !M->key) {
        fpf_mask_clear(M);
        return -1;
    }
    M->n = n;
    return 0;
}

void fpf_mask_clear(fpf_mask_t *M)
{
    free(M->start);
    free(M->key);
    M->start = NULL;
    M->key = NULL;
    M->n = 0;
}

int fpf_mask_init_dense(fpf_mask_t *M, long n, const unsigned char *m)
{
    if (n < 0 || (n > 0 && n > LONG_MAX / n))
        return mask_refuse(M);
    long nnz = 0;
    for (long k = 0; k < n * n; k++)
        nnz += m[k] != 0;
    if (mask_alloc(M, n, nnz) != 0)
        return -1;
    long c = 0;
    for (long i = 0; i < n; i++) {
        M->start[i] = c;
        for (long j = 0; j < n; j++)
            if (m[i * n + j])
                M->key[c++] = j;
    }
    M->start[n] = c;
    return 0;
}

int fpf_mask_init_causal(fpf_mask_t *M, long n)
{
    if (n < 0 || n > LONG_MAX / (n + 1) || mask_alloc(M, n, n * (n + 1) / 2) != 0)
        return mask_refuse(M);
    long c = 0;
    for (long i = 0; i < n; i++) {
        M->start[i] = c;
        for (long j = 0; j <= i; j++)
            M->key[c++] = j;
    }
    M->start[n] = c;
    return 0;
}

int fpf_mask_init_self_bias(fpf_mask_t *M, long n)
{
    if (n < 1 || n > LONG_MAX / 2 || mask_alloc(M, n, 2 * n - 1) != 0)
        return mask_refuse(M);
    long c = 0;
    for (long i = 0; i < n; i++) {
        M->start[i] = c;
        M->key[c++] = 0;
        if (i > 0)
            M->key[c++] = i;
    }
    M->start[n] = c;
    return 0;
}

int fpf_mask_init_full(fpf_mask_t *M, long n)
{
    if (n < 0 || (n > 0 && n > LONG_MAX / n) || mask_alloc(M, n, n * n) != 0)
        return mask_refuse(M);
    long c = 0;
    for (long i = 0; i < n; i++) {
        M->start[i] = c;
        for (long j = 0; j < n; j++)
            M->key[c++] = j;
    }
    M->start[n] = c;
    return 0;
}

/* ---- heads ---- */

int fpf_head_init(fpf_head_t h, long D, long r, const fpf_format_t *fmt)
{
    int rc = 0;
    rc |= fpf_mat_init(h->W_Q, D, r, fmt);
    rc |= fpf_mat_init(h->W_K, D, r, fmt);
    rc |= fpf_mat_init(h->W_V, D, r, fmt);
    rc |= fpf_mat_init(h->W_O, r, D, fmt);
    rc |= fpf_mat_init(h->b_Q, 1, r, fmt);
    rc |= fpf_mat_init(h->b_K, 1, r, fmt);
    rc |= fpf_mat_init(h->b_V, 1, r, fmt);
    rc |= fpf_mat_init(h->b_O, 1, D, fmt);
    h->has_bias = 0;
    fpf_init(h->scale, fmt);
    fpf_set_si(h->scale, 1, fmt);
    if (rc != 0) {
        fpf_head_clear(h);
        return -1;
    }
    return 0;
}

void fpf_head_clear(fpf_head_t h)
{
    fpf_mat_clear(h->W_Q);
    fpf_mat_clear(h->W_K);
    fpf_mat_clear(h->W_V);
    fpf_mat_clear(h->W_O);
    fpf_mat_clear(h->b_Q);
    fpf_mat_clear(h->b_K);
    fpf_mat_clear(h->b_V);
    fpf_mat_clear(h->b_O);
    mpfr_clear(h->scale);
}

int fpf_head_apply(fpf_mat_t Y, const fpf_head_t h, const fpf_mat_t X, const fpf_mask_t *M,
                   const fpf_arith_t *ar)
{
    const fpf_format_t *F = ar->fmt;
    long N = X->rows, D = X->cols, r = h->W_Q->cols;
    if (M->n != N || Y->rows != N || Y->cols != D || h->W_Q->rows != D || h->W_O->cols != D ||
        X->fmt != F || h->W_Q->fmt != F || h->W_K->fmt != F || h->W_V->fmt != F ||
        h->W_O->fmt != F)
        return -1;
    for (long i = 0; i < N; i++)
        if (M->start[i + 1] <= M->start[i])
            return -1;
    fpf_mat_t Q, K, V, Z;
    int rc = 0;
    rc |= fpf_mat_init(Q, N, r, F);
    rc |= fpf_mat_init(K, N, r, F);
    rc |= fpf_mat_init(V, N, r, F);
    rc |= fpf_mat_init(Z, N, r, F);
    size_t room = (size_t)(N > 0 ? N : 1);
    __mpfr_struct *s = malloc(sizeof *s * room); /* one query's logits, then weights */
    mpfr_srcptr *pa = malloc(sizeof *pa * room);
    mpfr_srcptr *pv = malloc(sizeof *pv * room);
    if (s)
        for (long j = 0; j < N; j++)
            fpf_init(s + j, F);
    if (rc != 0 || !s || !pa || !pv)
        rc = -1;
    if (rc == 0) {
        rc |= fpf_mat_mul(Q, X, h->W_Q, h->has_bias ? h->b_Q : NULL, ar);
        rc |= fpf_mat_mul(K, X, h->W_K, h->has_bias ? h->b_K : NULL, ar);
        rc |= fpf_mat_mul(V, X, h->W_V, h->has_bias ? h->b_V : NULL, ar);
    }
    for (long i = 0; rc == 0 && i < N; i++) {
        const long *keys = M->key + M->start[i];
        long nk = M->start[i + 1] - M->start[i];
        /* logits of the allowed keys, in mask order */
        for (long t = 0; rc == 0 && t < nk; t++) {
            rc = fpf_dot(s + t, fpf_mat_entry(Q, i, 0), 1, fpf_mat_entry(K, keys[t], 0), 1, r,
                         NULL, ar);
            fpf_mul(s + t, s + t, h->scale, F);
        }
        if (rc == 0)
            rc = fpf_softmax(s, s, nk, ar);
        for (long c = 0; rc == 0 && c < r; c++) {
            for (long t = 0; t < nk; t++) {
                pa[t] = s + t;
                pv[t] = fpf_mat_entry(V, keys[t], c);
            }
            rc = fpf_dot_ptr(fpf_mat_entry(Z, i, c), pa, pv, nk, NULL, ar);
        }
    }
    if (rc == 0)
        rc = fpf_mat_mul(Y, Z, h->W_O, h->has_bias ? h->b_O : NULL, ar);
    if (s) {
        for (long j = 0; j < N; j++)
            mpfr_clear(s + j);
    }
    free(s);
    free(pa);
    free(pv);
    fpf_mat_clear(Q);
    fpf_mat_clear(K);
    fpf_mat_clear(V);
    fpf_mat_clear(Z);
    return rc;
}

/* ---- MLP ---- */

int fpf_mlp_init(fpf_mlp_t m, long d, long l, const fpf_format_t *fmt)
{
    int rc = 0;
    rc |= fpf_mat_init(m->W_in, d, l, fmt);
    rc |= fpf_mat_init(m->W_out, l, d, fmt);
    rc |= fpf_mat_init(m->b_in, 1, l, fmt);
    rc |= fpf_mat_init(m->b_out, 1, d, fmt);
    m->has_bias = 0;
    m->act = FPF_ACT_SILU_A;
    fpf_init(m->a, fmt);
    fpf_set_si(m->a, 1, fmt);
    if (rc != 0) {
        fpf_mlp_clear(m);
        return -1;
    }
    return 0;
}

void fpf_mlp_clear(fpf_mlp_t m)
{
    fpf_mat_clear(m->W_in);
    fpf_mat_clear(m->W_out);
    fpf_mat_clear(m->b_in);
    fpf_mat_clear(m->b_out);
    mpfr_clear(m->a);
}

int fpf_mlp_apply(fpf_mat_t Y, const fpf_mlp_t m, const fpf_mat_t X, const fpf_arith_t *ar)
{
    const fpf_format_t *F = ar->fmt;
    if (X->fmt != F || m->W_in->fmt != F || m->W_out->fmt != F)
        return -1;
    fpf_mat_t H;
    if (fpf_mat_init(H, X->rows, m->W_in->cols, F) != 0)
        return -1;
    int rc = fpf_mat_mul(H, X, m->W_in, m->has_bias ? m->b_in : NULL, ar);
    for (long k = 0; rc == 0 && k < H->rows * H->cols; k++)
        fpf_act_apply(H->e + k, H->e + k, m->act, m->a, F);
    if (rc == 0)
        rc = fpf_mat_mul(Y, H, m->W_out, m->has_bias ? m->b_out : NULL, ar);
    fpf_mat_clear(H);
    return rc;
}
