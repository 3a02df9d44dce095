/* Matrices of emulated float values, and an attention head and an MLP run
 * in a float format (fpformat.h): the forward pass a GPU would compute, under
 * the stated model.  Weights enter as exact values and are rounded to the
 * format once (fpf_mat_set_d, fpf_set_fr on entries).
 *
 * Every entry of a product C = A B (+ bias) is one fpf_dot of row i of A and
 * column j of B, in ar's accumulation format and order, the bias added last,
 * rounded to ar->fmt once (fpformat.h).  Entries are independent: no blocking
 * or split-K reordering is modelled. */
#ifndef ATTNCHECK_FPMAT_H
#define ATTNCHECK_FPMAT_H

#include "fpformat.h"

typedef struct {
    long rows, cols;
    const fpf_format_t *fmt;
    __mpfr_struct *e; /* row-major, each at fmt's precision */
} fpf_mat_struct;
typedef fpf_mat_struct fpf_mat_t[1];

#define fpf_mat_entry(A, i, j) ((A)->e + (long)(i) * (A)->cols + (j))

/* All entries +0.  Returns 0, or -1 (A left empty) when out of memory or a size is negative. */
int fpf_mat_init(fpf_mat_t A, long rows, long cols, const fpf_format_t *fmt);
void fpf_mat_clear(fpf_mat_t A);
/* Entries from rows*cols doubles, row-major, each rounded to A's format. */
void fpf_mat_set_d(fpf_mat_t A, const double *v);
/* B = A rounded to B's format; same shape. */
void fpf_mat_set(fpf_mat_t B, const fpf_mat_t A);
/* C = A + B entrywise, fl in C's format; same shapes (C may alias A or B). */
void fpf_mat_add(fpf_mat_t C, const fpf_mat_t A, const fpf_mat_t B);
/* C = A B (+ bias, a 1 x C->cols row, or NULL); C must not alias A or B.
 * C is A->rows x B->cols, in ar->fmt.  Returns 0, or -1 on a shape mismatch
 * or when out of memory. */
int fpf_mat_mul(fpf_mat_t C, const fpf_mat_t A, const fpf_mat_t B, const fpf_mat_t bias,
                const fpf_arith_t *ar);

/* A mask as per-query lists of allowed keys: query i sees keys
 * key[start[i]] .. key[start[i+1]-1], in that order (the order of the sums). */
typedef struct {
    long n;      /* queries = keys = tokens */
    long *start; /* n + 1 */
    long *key;
} fpf_mask_t;

/* From a dense 0/1 matrix m (n x n, row-major): keys in ascending order.
 * Returns 0, or -1 when out of memory. */
int fpf_mask_init_dense(fpf_mask_t *M, long n, const unsigned char *m);
int fpf_mask_init_causal(fpf_mask_t *M, long n);    /* keys 0 .. i */
int fpf_mask_init_self_bias(fpf_mask_t *M, long n); /* key 0 then i (i > 0); query 0: key 0 */
int fpf_mask_init_full(fpf_mask_t *M, long n);      /* keys 0 .. n-1 */
void fpf_mask_clear(fpf_mask_t *M);

/* A head of internal dimension r on a stream of width D, all in one format:
 * W_Q, W_K, W_V are D x r, W_O is r x D, biases b_Q, b_K, b_V (1 x r) and
 * b_O (1 x D) used when has_bias, scale multiplies the logits.  A full W_QK
 * (D x D) is W_Q = W_QK, W_K = I. */
typedef struct {
    fpf_mat_t W_Q, W_K, W_V, W_O;
    fpf_mat_t b_Q, b_K, b_V, b_O;
    int has_bias;
    mpfr_t scale;
} fpf_head_struct;
typedef fpf_head_struct fpf_head_t[1];

/* Zero weights and biases, has_bias 0, scale 1.  Returns 0, or -1 out of memory. */
int fpf_head_init(fpf_head_t h, long D, long r, const fpf_format_t *fmt);
void fpf_head_clear(fpf_head_t h);

/* Y (N x D, initialised in ar->fmt) = the head on X (N x D):
 *   Q = X W_Q + b_Q, K = X W_K + b_K, V = X W_V + b_V   (fpf_mat_mul)
 *   s_ij = fl(fl(q_i . k_j) * scale)  for the keys j allowed to query i, in
 *          the mask's order;  a_i = fpf_softmax(s_i)
 *   z_i = sum_j a_ij v_j             (fpf_dot over the allowed keys, mask order)
 *   Y = Z W_O + b_O                    (fpf_mat_mul)
 * X and the weights must be in ar->fmt.  Returns 0, or -1 when a query allows
 * no key, on a shape or format mismatch, or out of memory. */
int fpf_head_apply(fpf_mat_t Y, const fpf_head_t h, const fpf_mat_t X, const fpf_mask_t *M,
                   const fpf_arith_t *ar);

/* An MLP without residual: Y = phi(X W_in + b_in) W_out + b_out, phi the
 * activation act (a: SiLU_a's slope, in fmt), entrywise in fmt. */
typedef struct {
    fpf_mat_t W_in, W_out, b_in, b_out; /* d x l, l x d, 1 x l, 1 x d */
    int has_bias;
    fpf_act_t act;
    mpfr_t a;
} fpf_mlp_struct;
typedef fpf_mlp_struct fpf_mlp_t[1];

/* Zero weights, has_bias 0, act SiLU_a with a = 1.  Returns 0, or -1 out of memory. */
int fpf_mlp_init(fpf_mlp_t m, long d, long l, const fpf_format_t *fmt);
void fpf_mlp_clear(fpf_mlp_t m);
/* Y (N x d) = the MLP on X (N x d), X and the weights in ar->fmt.  Returns 0,
 * or -1 (shape, format, memory). */
int fpf_mlp_apply(fpf_mat_t Y, const fpf_mlp_t m, const fpf_mat_t X, const fpf_arith_t *ar);

#endif
