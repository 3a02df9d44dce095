/* Attention heads on a stream X (N x D): masks, masked softmax with a
 * row-max shift, and one head's output h(X), all as certified enclosures. */
#ifndef ATTNCHECK_ATTN_H
#define ATTNCHECK_ATTN_H

#include "imat.h"

/* A mask M in {0,1}^{N x N}; M[i*N+j] = 1 when query i may attend to key j. */
typedef struct {
    long n;
    unsigned char *m;
} mask_t;

void mask_init(mask_t *M, long n);             /* all zero */
void mask_clear(mask_t *M);
void mask_causal(mask_t *M, long n);           /* C_ij = [j <= i] */
void mask_self_bias(mask_t *M, long n);        /* B_ij = [j == i or j == 0] */
void mask_self(mask_t *M, long n);             /* I */
void mask_full(mask_t *M, long n);             /* J */
#define mask_at(M, i, j) ((M)->m[(long)(i) * (M)->n + (j)])

/* A head of internal dimension r on a stream of width D.
 * Factored form: W_Q, W_K, W_V are D x r, W_O is r x D.
 * Full forms: when qk_full, W_Q holds W_QK (D x D) and W_K is unused;
 * when ov_full, W_V holds W_OV (D x D) and W_O is unused. */
typedef struct {
    imat_t W_Q, W_K, W_V, W_O;
    mpfi_t tau;
    int qk_full, ov_full;
} attn_head_struct;
typedef attn_head_struct attn_head_t[1];

/* Factored head, all weights zero, tau = 1. */
void attn_head_init(attn_head_t h, long D, long r, mpfr_prec_t prec);
/* Full-form head (W_QK, W_OV both D x D), zero, tau = 1. */
void attn_head_init_full(attn_head_t h, long D, mpfr_prec_t prec);
void attn_head_clear(attn_head_t h);

/* Logits S (N x N): S_ij = tau * x_i W_QK x_j^T. Entries where the mask is 0
 * are left untouched (not computed) when M != NULL. */
void attn_head_logits(imat_t S, const attn_head_t h, const imat_t X,
                      const mask_t *M, mpfr_prec_t prec);
/* Row-wise masked softmax of S into A; M == NULL means every key allowed.
 * Each row is shifted by the largest upper end of its allowed logits, so
 * every exponential is at most 1 and huge logits never overflow.  Every row
 * must allow at least one key (returns -1 otherwise, 0 on success). */
int attn_softmax(imat_t A, const imat_t S, const mask_t *M, mpfr_prec_t prec);
/* attn_softmax evaluates terms far below the row maximum (e^(s-m) < 2^-16)
 * at fewer bits, enough for absolute accuracy ~2^-(prec+16): still a
 * certified enclosure.  attn_softmax_uniform is the same with every term at
 * prec bits (reference for tests and benchmarks). */
int attn_softmax_uniform(imat_t A, const imat_t S, const mask_t *M, mpfr_prec_t prec);
/* Y (N x D) = h(X): Y_i = sum_j A_ij x_j W_OV.  Returns 0, or -1 when a row
 * of the mask allows no key. */
int attn_head_apply(imat_t Y, const attn_head_t h, const imat_t X,
                    const mask_t *M, mpfr_prec_t prec);

#endif
