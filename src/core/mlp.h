/* Activations as ball functions, MLPs and transformer blocks (no
 * LayerNorm), all as certified enclosures. */
#ifndef ATTNCHECK_MLP_H
#define ATTNCHECK_MLP_H

#include "attn.h"

/* An entrywise activation on enclosures: y must enclose phi(t) for every
 * point t of x, computed at prec.  ctx carries parameters (for SiLU_a, a
 * pointer to the arb_struct a).  y may alias x. */
typedef void (*ival_act_fn)(arb_t y, const arb_t x, const void *ctx, mpfr_prec_t prec);

/* sigma(t) = 1/(1+e^-t), with one exponential (two for a wide ball: its ends). */
void ival_sigmoid(arb_t y, const arb_t x, mpfr_prec_t prec);
/* SiLU_a(z) = z sigma(a z); ctx is const arb_t a (pointer to arb_struct). */
void ival_silu_a(arb_t y, const arb_t x, const void *a, mpfr_prec_t prec);
/* ReLU(z) = max(z, 0). */
void ival_relu(arb_t y, const arb_t x, const void *unused, mpfr_prec_t prec);

/* Y = phi(X W_in) W_out, the hidden units in chunks (mlp_chunk_units at a
 * time; each chunk's share of the output is added in the rounding of its
 * product).  phi is called from several threads at once, ctx read-only.
 * Y may alias X. */
void mlp_apply(imat_t Y, const imat_t X, const imat_t W_in, const imat_t W_out,
               ival_act_fn phi, const void *ctx, mpfr_prec_t prec);
/* The pre-activations X W_in alone, in mlp_apply's chunks, each handed to
 * visit (as phi: what it writes is dropped): what an activation of
 * mlp_apply at prec would be given, at the cost of the first product. */
void mlp_preact_visit(const imat_t X, const imat_t W_in, ival_act_fn visit, const void *ctx,
                      mpfr_prec_t prec);
/* Hidden units per chunk of mlp_apply for n tokens of width d, l units. */
long mlp_chunk_units(long n, long d, long l, mpfr_prec_t prec);
/* Working memory of mlp_apply (n tokens, d -> l -> d_out), an estimate in
 * bytes beyond X, W_in and W_out. */
double mlp_apply_bytes(long n, long d, long l, long d_out, mpfr_prec_t prec);

/* One block of a decoder-only transformer without LayerNorm:
 * X <- X + sum_h h(X) with mask M, then X <- X + phi(X W_in) W_out. */
typedef struct {
    long n_heads;
    attn_head_struct *heads;
    imat_t W_in, W_out;
} block_struct;
typedef block_struct block_t[1];

void block_init(block_t b, long d_model, long d_head, long n_heads, long d_mlp);
void block_clear(block_t b);
/* Attention layer only: X <- X + sum_h h(X), every head reading the same X,
 * through the stacked path (attn_heads_apply).  Returns 0, or -1 on an
 * empty mask row. */
int attn_layer_apply(imat_t X, const attn_head_struct *heads, long n_heads,
                     const mask_t *M, mpfr_prec_t prec);
int block_apply(imat_t X, const block_t b, const mask_t *M, ival_act_fn phi,
                const void *ctx, mpfr_prec_t prec);

#endif
