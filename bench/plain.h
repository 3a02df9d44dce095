/* The uncertified baseline of make bench: the same algorithms as the
 * certified core (heads over each query's allowed keys, a layer's heads
 * stacked into one product each for Q, K, V and the output, exactly zero
 * inner terms skipped) in plain MPFR, round to nearest, no enclosures.
 * Exact inputs keep their own few bits (as a careful MPFR program would);
 * every computed value has prec bits.  Single-threaded.  Matrices are the
 * oracle's (tests/oracle.h). */
#ifndef ATTNCHECK_BENCH_PLAIN_H
#define ATTNCHECK_BENCH_PLAIN_H

#include "oracle.h"

/* C = A B (or C + A B): each entry accumulated with fma, rounded each
 * step; B's rows that are exactly zero are skipped. */
void plain_mul(fmat_t *C, const fmat_t *A, const fmat_t *B, int add);

/* Y = h(X) for one factored head over the allowed keys of M. */
void plain_head_apply(fmat_t *Y, const attn_head_t h, const fmat_t *X, const mask_t *M,
                      mpfr_prec_t prec);

/* The mlp-layer check: E = max_i ||(X^ + sum_k h_k(X^))_i - [x_i + MLP(X)_i, 0]||
 * (all rows, bias row included), the l neuron heads stacked. */
void plain_mlp_layer_check(mpfr_t E, const imat_t X, const imat_t W_in, const imat_t W_out,
                           const mpfr_t a, mpfr_prec_t prec);

#endif
