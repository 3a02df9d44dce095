/* Plain-MPFR oracle (round-to-nearest, no intervals), kept apart from the
 * code under test.  Inputs are exact point matrices; results are
 * approximations at prec bits, used at prec + 100 to test containment and in
 * make bench as the uncertified baseline. */
#ifndef ATTNCHECK_ORACLE_H
#define ATTNCHECK_ORACLE_H

#include "attn.h"
#include "mlp.h"

typedef struct {
    long rows, cols;
    mpfr_t *e;
} fmat_t;

#define fmat_entry(A, i, j) ((A)->e[(long)(i) * (A)->cols + (j)])

void fmat_init(fmat_t *A, long rows, long cols, mpfr_prec_t prec);
void fmat_clear(fmat_t *A);
/* Midpoints of a ball matrix (the inputs are exact points). */
void fmat_from_imat(fmat_t *A, const imat_t B);
void fmat_mul(fmat_t *C, const fmat_t *A, const fmat_t *B);

/* h(X) of a factored or full head, plain MPFR. */
void oracle_head_apply(fmat_t *Y, const attn_head_t h, const fmat_t *X, const mask_t *M,
                       mpfr_prec_t prec);
/* Masked softmax of S, plain MPFR. */
void oracle_softmax(fmat_t *A, const fmat_t *S, const mask_t *M, mpfr_prec_t prec);
/* SiLU_a(x) = x / (1 + e^(-a x)). */
void oracle_silu(mpfr_t y, const mpfr_t x, const mpfr_t a);
/* X + sum_h h(X) for the heads (the mlp-layer construction), plain MPFR. */
void oracle_attn_layer(fmat_t *X, const attn_head_struct *heads, long n_heads, const mask_t *M,
                       mpfr_prec_t prec);

/* 1 when every entry of the enclosure B contains the oracle's value. */
int fmat_inside(const fmat_t *A, const imat_t B);

#endif
