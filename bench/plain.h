/* The uncertified baseline of make bench: the same algorithms as the
 * certified core (heads over each query's allowed keys, a layer's heads
 * stacked into one product each for Q, K, V and the output, exactly zero
 * inner terms skipped) in plain MPFR, round to nearest, no enclosures.
 * Exact inputs keep their own few bits (as a careful MPFR program would);
 * every computed value has prec bits.  Single-threaded. */
#ifndef ATTNCHECK_BENCH_PLAIN_H
#define ATTNCHECK_BENCH_PLAIN_H

#include "attn.h"

typedef struct {
    long rows, cols;
    mpfr_t *e;
} pmat_t;

#define pmat_entry(A, i, j) ((A)->e[(long)(i) * (A)->cols + (j)])

void pmat_init(pmat_t *A, long rows, long cols, mpfr_prec_t prec);
void pmat_clear(pmat_t *A);
/* A = the midpoints of B (exact ball matrices: the values themselves), at
 * the precision A was made with. */
void pmat_set_imat(pmat_t *A, const imat_t B);
/* C = A B (or C + A B): each entry accumulated with fma, rounded each step. */
void pmat_mul(pmat_t *C, const pmat_t *A, const pmat_t *B, int add);

/* Y = h(X) for one factored head over the allowed keys of M. */
void plain_head_apply(pmat_t *Y, const attn_head_t h, const pmat_t *X, const mask_t *M,
                      mpfr_prec_t prec);

/* The mlp-layer check: E = max_i ||(X^ + sum_k h_k(X^))_i - [x_i + MLP(X)_i, 0]||
 * (all rows, bias row included), the l neuron heads stacked. */
void plain_mlp_layer_check(mpfr_t E, const imat_t X, const imat_t W_in, const imat_t W_out,
                           const mpfr_t a, mpfr_prec_t prec);

#endif
