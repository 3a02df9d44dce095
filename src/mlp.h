/* Activations as interval functions, MLPs and transformer blocks (no
 * LayerNorm), all as certified enclosures. */
#ifndef ATTNCHECK_MLP_H
#define ATTNCHECK_MLP_H

#include "attn.h"

/* An entrywise activation on enclosures: y must enclose phi(x) for every
 * point of x.  ctx carries parameters (for SiLU_a, a pointer to mpfi_t a). */
typedef void (*ival_act_fn)(mpfi_t y, const mpfi_t x, const void *ctx);

/* sigma(t) = 1/(1+e^-t): monotone, so the ends map to the ends. */
void ival_sigmoid(mpfi_t y, const mpfi_t x);
/* SiLU_a(z) = z sigma(a z); ctx is const mpfi_t a (pointer to __mpfi_struct). */
void ival_silu_a(mpfi_t y, const mpfi_t x, const void *a);
/* ReLU(z) = max(z, 0). */
void ival_relu(mpfi_t y, const mpfi_t x, const void *unused);

/* Y = phi(X W_in) W_out. */
void mlp_apply(imat_t Y, const imat_t X, const imat_t W_in, const imat_t W_out,
               ival_act_fn phi, const void *ctx, mpfr_prec_t prec);

/* One block of a decoder-only transformer without LayerNorm:
 * X <- X + sum_h h(X) with mask M, then X <- X + phi(X W_in) W_out. */
typedef struct {
    long n_heads;
    attn_head_struct *heads;
    imat_t W_in, W_out;
} block_struct;
typedef block_struct block_t[1];

void block_init(block_t b, long d_model, long d_head, long n_heads, long d_mlp,
                mpfr_prec_t prec);
void block_clear(block_t b);
/* Attention layer only: X <- X + sum_h h(X). Returns 0, or -1 on an empty mask row. */
int attn_layer_apply(imat_t X, const attn_head_struct *heads, long n_heads,
                     const mask_t *M, mpfr_prec_t prec);
int block_apply(imat_t X, const block_t b, const mask_t *M, ival_act_fn phi,
                const void *ctx, mpfr_prec_t prec);

#endif
