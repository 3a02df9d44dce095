/* The transformer of the attention-only claim and its conversion, shared
 * with the encoded-mask variant. */
#ifndef ATTNCHECK_ATTENTION_ONLY_H
#define ATTNCHECK_ATTENTION_ONLY_H

#include "thm_common.h"

/* L blocks of H causal heads (internal dimension r) then an MLP
 * (d -> l -> d, SiLU_a), no LayerNorm. */
typedef struct {
    long d, l, H, r, L;
    block_struct *blocks;
} tf_model_t;

void tf_model_random(tf_model_t *m, long d, long l, long H, long r, long L,
                     gmp_randstate_t st);
void tf_model_clear(tf_model_t *m);
/* The row's shape (d x l x n), heads, d_head and blocks; -1 with a note when
 * absent or malformed. */
int tf_get_shape(long *dims, long *H, long *r, long *L, row_t *rw);
/* The row's sizes as read by tf_get_shape, without a row; -1 when absent
 * or malformed. */
int tf_params_sizes(long *dims, long *H, long *r, long *L, const params_t *p);
/* attention-only's estimate_bytes: the model's weights, the masks, the
 * streams, and the largest working set of its layers (the original blocks,
 * and the converted stack's stacked layers). */
double tf_estimate_bytes(const params_t *p, mpfr_prec_t prec);
/* The claim's instance for a seed: tokens X (n x d, initialised here) and a
 * random model; the same for attention-only and its encoded variant. */
void tf_instance(imat_t X, tf_model_t *m, long d, long l, long n, long H, long r, long L,
                 unsigned long seed);
/* ref = [[0, 1], [model(X), 0]]: the original transformer's last stream on
 * the bias-token layout. */
void tf_reference(imat_t ref, const imat_t X, const tf_model_t *m, ival_act_fn phi,
                  const void *ctx, mpfr_prec_t prec);
/* X (n x d) <- the model applied to X, causal mask, activation phi (ctx):
 * SiLU_a, or thm_silu_a_tracked. */
void tf_model_apply(imat_t X, const tf_model_t *m, ival_act_fn phi, const void *ctx,
                    mpfr_prec_t prec);

/* I's original computation (instance_t.orig): the transformer m itself,
 * each block its causal heads (one group) then its SiLU_a MLP with the
 * residual, on the tokens X, whose outputs are rows 1.. of the reference. */
void tf_instance_orig(instance_t *I, const imat_t X, const tf_model_t *m, const arb_t a,
                      mpfr_prec_t prec);

/* An attention-only stack: each layer adds the sum of its heads, a stacked
 * source (odd layers: the block's heads, padded; even layers: the neuron
 * heads, read from the block's W_in and W_out). */
typedef struct {
    attn_source_t src;
    thm_neurons_t neurons;  /* even layers: src's ctx */
    const mask_t *mask;     /* one of the stack's two masks */
} attn_only_layer_t;
typedef struct {
    long n_layers;
    attn_only_layer_t *layers;
    mask_t odd_mask, even_mask; /* every odd (even) layer has the same mask */
} attn_only_t;

enum { TF_MUT_NONE = 0, TF_MUT_BIAS_VISIBLE = 1, TF_MUT_MLP_CAUSAL = 2 };
/* The 2L-layer conversion on the bias-token stream of n real tokens; it
 * reads m and a, which must outlive it. */
void attn_only_from_model(attn_only_t *A, const tf_model_t *m, const arb_t a, long n,
                          int mutation, mpfr_prec_t prec);
void attn_only_apply(imat_t Xh, const attn_only_t *A, mpfr_prec_t prec);
void attn_only_clear(attn_only_t *A);

#endif
