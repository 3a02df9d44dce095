/* One block of a pre-LN transformer with biases (TransformerLens layout),
 * read from a model file into exact ball matrices, and its certified
 * forward pass (every step an Arb operation; LN's mean, variance, eps and
 * square root as balls):
 *   h = x + sum_heads softmax(q.k / attn_scale) v W_O + b_O,
 *       q = LN1(x) W_Q + b_Q, k = LN1(x) W_K + b_K, v = LN1(x) W_V + b_V,
 *       softmax over the keys j <= i (causal) or all keys (bidirectional);
 *   y = h + phi(z) W_out + b_out,  z = LN2(h) W_in + b_in,
 *   or, with a gate, y = h + (phi(g) * z) W_out + b_out, g = LN2(h) W_gate.
 * A parallel block (parallel_attn_mlp) feeds both sublayers the block's
 * input: y = x + Attn(LN1(x)) + b_O + MLP(LN2(x)) + b_out.
 * Weights are the file's numbers exactly (F64/F32/F16/BF16 values are
 * doubles).  One block at a time: a model is streamed block by block. */
#ifndef ATTNCHECK_TBLOCK_H
#define ATTNCHECK_TBLOCK_H

#include <stddef.h>
#include "aonet.h"
#include "mlp.h"
#include "tmodel.h"

typedef struct {
    long layer;                /* its index in the model */
    long d_model, n_heads, d_head, d_mlp;
    int causal, gated;
    int parallel;              /* 1: both sublayers read the block's input */
    aonet_ln_t ln1, ln2;       /* on all d_model columns */
    imat_t W_Q, W_K, W_V;      /* d_model x (n_heads d_head), head h in columns [h d_head, ..) */
    imat_t b_Q, b_K, b_V;      /* 1 x (n_heads d_head) */
    imat_t W_O;                /* (n_heads d_head) x d_model */
    imat_t b_O;                /* 1 x d_model */
    imat_t W_in, b_in;         /* d_model x d_mlp, 1 x d_mlp */
    imat_t W_gate;             /* d_model x d_mlp when gated, else 0 x 0 */
    imat_t W_out, b_out;       /* d_mlp x d_model, 1 x d_model */
    arb_t attn_scale;
} tblock_t;

/* Block `layer` of m.  0, or an exit code with one line in err. */
int tblock_read(tblock_t *B, const tmodel_t *m, long layer, char *err, size_t errsz);
void tblock_clear(tblock_t *B);
/* The model's final LayerNorm (kind final_norm, eps_final; w and b as the kind has them). */
int tblock_read_ln_final(aonet_ln_t *ln, const tmodel_t *m, char *err, size_t errsz);

/* H = X + the attention sublayer on X (N x d_model). */
void tblock_attn(imat_t H, const tblock_t *B, const imat_t X, mpfr_prec_t prec);
/* Z = LN2(H) W_in + b_in and, when gated and G != NULL, G = LN2(H) W_gate
 * (N x d_mlp each): the MLP's pre-activations. */
void tblock_mlp_pre(imat_t Z, imat_t G, const tblock_t *B, const imat_t H, mpfr_prec_t prec);
/* Y = H + the MLP sublayer on H, activation phi (ctx) entrywise. */
void tblock_mlp(imat_t Y, const tblock_t *B, const imat_t H, ival_act_fn phi, const void *ctx,
                mpfr_prec_t prec);
/* The same from Z and G as tblock_mlp_pre made them on H at prec (the same
 * bits as tblock_mlp); Z and G are used up (overwritten). */
void tblock_mlp_given(imat_t Y, const tblock_t *B, const imat_t H, imat_t Z, imat_t G,
                      ival_act_fn phi, const void *ctx, mpfr_prec_t prec);

/* Y = the whole block on X (Y may be X): sequential, tblock_mlp after
 * tblock_attn, or parallel, x + Attn(LN1(x)) + b_O + MLP(LN2(x)) + b_out. */
void tblock_apply(imat_t Y, const tblock_t *B, const imat_t X, ival_act_fn phi, const void *ctx,
                  mpfr_prec_t prec);
/* tblock_apply on two streams at once, X1 with phi1 into Y1 and X2 with
 * phi2 into Y2 (each Y may be its X): the rows of both are stacked into
 * each product by the block's weights (the weights prepared once; every
 * entry the same bits as two tblock_apply calls: a product's rows are
 * independent), attention and activations per stream. */
void tblock_apply_pair(imat_t Y1, imat_t Y2, const tblock_t *B, const imat_t X1, const imat_t X2,
                       ival_act_fn phi1, const void *ctx1, ival_act_fn phi2, const void *ctx2,
                       mpfr_prec_t prec);

/* An N x c matrix's rows plus the 1 x c row b, in place. */
void imat_add_row_vector(imat_t A, const imat_t b, mpfr_prec_t prec);

#endif
