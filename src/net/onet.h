/* The original (unconverted) computation a converted network stands for,
 * as data: what the float rule runs in a format beside the conversion
 * (fpnet.h), and what a certified forward pass checks against the exact
 * reference.  One type for every construction's original:
 *   a stage ONET_LAYER is an attention-only layer of aonet.h (LN, then head
 *     groups without biases, masks by rule): the explicit-mask networks,
 *     the original heads of Theorem 6;
 *   a stage ONET_BLOCK is a pre-LN transformer block of tblock.h, its
 *     attention sublayer when n_heads > 0 and its MLP sublayer when
 *     d_mlp > 0 (an MLP with its residual, X + phi(LN2(X) W_in + b_in) W_out
 *     + b_out, is a block with n_heads 0);
 * then an optional final LN.  Every MLP has the activation act (the
 * activation registry's name: silu_a with slope a, silu, gelu, gelu_tanh,
 * relu, sigmoid).  The stream is N x D, as the stages' weights say. */
#ifndef ATTNCHECK_ONET_H
#define ATTNCHECK_ONET_H

#include "aonet.h"
#include "tblock.h"

typedef enum { ONET_LAYER, ONET_BLOCK } onet_kind_t;

typedef struct {
    onet_kind_t kind;
    aonet_layer_t layer;   /* ONET_LAYER */
    tblock_t block;        /* ONET_BLOCK */
} onet_stage_t;

typedef struct {
    long D;                /* stream width */
    long n_stages;
    onet_stage_t *stages;
    aonet_ln_t ln_final;
    char act[24];          /* the MLPs' activation */
    arb_t a;               /* silu_a's slope */
    char what[200];        /* in words, for reports ("" when none) */
} onet_t;

/* No stages, no final LN, act silu_a with a = 1. */
void onet_init(onet_t *O, long D);
void onet_clear(onet_t *O);
/* Append a layer, taking L over (L is left empty). */
void onet_add_layer(onet_t *O, aonet_layer_t *L);
/* Append a block, taking B over (B is left as tblock_clear leaves it:
 * clear it or not, either is safe). */
void onet_add_block(onet_t *O, tblock_t *B);
/* Append an MLP with its residual: X + phi(X W_in) W_out, no LN, no biases
 * (W_in D x l, W_out l x D, copied). */
void onet_add_mlp(onet_t *O, const imat_t W_in, const imat_t W_out);
/* A tblock with every part initialised and zero: d_model D, n_heads heads of
 * d_head, d_mlp units, LN none, attn_scale 1, bidirectional. */
void onet_block_zero(tblock_t *B, long D, long n_heads, long d_head, long d_mlp);

/* Where an original's stages go one at a time, in order (an original too
 * large to hold at once is handed over this way); each returns 0 or an
 * exit code with one line in err. */
typedef struct {
    void *ctx;
    int (*stage)(void *ctx, const onet_stage_t *s, char *err, size_t errsz);
    int (*final_ln)(void *ctx, const aonet_ln_t *ln, char *err, size_t errsz);
} onet_sink_t;
/* O's stages, then its final LN, to sink; the first nonzero return. */
int onet_emit(const onet_t *O, const onet_sink_t *sink, char *err, size_t errsz);

/* X <- the original on X (N x D), as certified enclosures.  0, or -1 when
 * the activation is unknown or a mask row is empty. */
int onet_apply(imat_t X, const onet_t *O, mpfr_prec_t prec);

#endif
