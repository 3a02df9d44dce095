/* An attention-only network with LayerNorm, as plain data: what a
 * conversion produces, what is certified, what is exported, and what a
 * float-format evaluator runs.
 *
 * Layout.  N tokens, each a row of width D (the stream).  Layer k maps the
 * stream X (N x D) to
 *     X + sum over its head groups g, over the heads h of g, of head_h(LN_k(X)),
 * every head reading the same LN_k(X).  LN_k normalises the first d columns
 * (the features) of each row and passes the other D - d columns through;
 * kind NONE is the identity, LN is (v - mean v)/sqrt(var v + eps) w + b
 * (biased variance, as PyTorch), LNPRE the same without w and b, RMS is
 * v/sqrt(mean(v^2) + eps) w (RMSNorm: no centring, no b), RMSPRE the same
 * without w.  After the
 * last layer an optional final LN (ln_final) maps the stream to the output.
 *
 * A head group holds n_heads heads of the same shape and mask, stacked:
 *   W_Q, W_K   D x (n_heads r_qk)  head h in columns [h r_qk, (h+1) r_qk)
 *              (shared_k: W_K is D x r_qk, one W_K for every head);
 *   W_V        D x (n_heads r_ov);
 *   W_O        (n_heads r_ov) x D  head h in rows [h r_ov, (h+1) r_ov);
 * that is TransformerLens's [n_heads, D, d_head] and [n_heads, d_head, D]
 * with the head index moved next to d_head.  Head h on U (N x D):
 *   q_i = U_i W_Q^h, k_j = U_j W_K^h, v_j = U_j W_V^h,
 *   s_ij = q_i . k_j / attn_scale over the keys j the mask allows to query i,
 *   head_h(U)_i = (sum_j softmax_j(s_ij) v_j) W_O^h.
 * There are no bias vectors: a conversion folds biases into rows of the
 * weights (see convert.h).  Masks are rules on token positions (the bias
 * token, where a network has one, is token 0).
 *
 * Every weight is an exact number (a ball of radius 0); aonet_is_exact
 * checks it.  Balls are Arb's, so a forward pass is a certified enclosure. */
#ifndef ATTNCHECK_AONET_H
#define ATTNCHECK_AONET_H

#include "attn.h"

/* ---- LayerNorm on the first d columns ---- */
typedef enum {
    AONET_LN_NONE, AONET_LN_LN, AONET_LN_PRE, AONET_LN_RMS, AONET_LN_RMSPRE
} aonet_ln_kind_t;

typedef struct {
    aonet_ln_kind_t kind;
    long d;          /* columns [0, d) are normalised */
    imat_t w, b;     /* w 1 x d (kinds LN, RMS), b 1 x d (kind LN); 0 x 0 otherwise */
    arb_t eps;       /* > 0 (every kind but NONE) */
} aonet_ln_t;

/* Whether kind has the weight w (LN, RMS), the bias b (LN), centres (LN, LNPRE). */
int aonet_ln_has_w(aonet_ln_kind_t kind);
int aonet_ln_has_b(aonet_ln_kind_t kind);
int aonet_ln_centres(aonet_ln_kind_t kind);

/* kind NONE; aonet_ln_set_kind gives it a kind, zero w and b, eps 0. */
void aonet_ln_init(aonet_ln_t *ln);
void aonet_ln_set_kind(aonet_ln_t *ln, aonet_ln_kind_t kind, long d);
void aonet_ln_clear(aonet_ln_t *ln);
void aonet_ln_copy(aonet_ln_t *dst, const aonet_ln_t *src); /* dst initialised */
/* Y = LN(X), row by row (Y may be X; same shape, at least d columns). */
void aonet_ln_apply(imat_t Y, const imat_t X, const aonet_ln_t *ln, mpfr_prec_t prec);
/* "none", "LN", "LNPre", "RMS", "RMSPre" */
const char *aonet_ln_kind_name(aonet_ln_kind_t kind);

/* ---- masks: rules on positions 0 .. N-1 ---- */
typedef enum {
    AONET_MASK_ALL,         /* every key */
    AONET_MASK_CAUSAL,      /* j <= i */
    AONET_MASK_SELF_BIAS,   /* j = i or j = 0 (mask B) */
    AONET_MASK_SELF,        /* j = i (mask I) */
    AONET_MASK_REAL_ALL,    /* token 0 sees only itself; i >= 1 sees every j >= 1 */
    AONET_MASK_REAL_CAUSAL, /* token 0 sees only itself; i >= 1 sees 1 <= j <= i */
    AONET_N_MASKS
} aonet_mask_t;

/* The mask of rule kind for N tokens (M uninitialised on entry). */
void aonet_mask_build(mask_t *M, aonet_mask_t kind, long N);
const char *aonet_mask_name(aonet_mask_t kind);          /* "all", "causal", ... */
/* Whether rule kind allows key j to query i. */
int aonet_mask_allows(aonet_mask_t kind, long i, long j);

/* ---- head groups and layers ---- */
typedef struct {
    char name[32];             /* what the group is ("attn", "neurons", ...) */
    long n_heads, r_qk, r_ov;
    int shared_k;
    imat_t W_Q, W_K, W_V, W_O;
    arb_t attn_scale;          /* exact, > 0; 1 for no scaling */
    aonet_mask_t mask;
} aonet_group_t;

/* All weights zero, attn_scale 1. */
void aonet_group_init(aonet_group_t *g, const char *name, long D, long n_heads, long r_qk,
                      long r_ov, int shared_k, aonet_mask_t mask);
void aonet_group_clear(aonet_group_t *g);

typedef struct {
    aonet_ln_t ln;
    long n_groups;
    aonet_group_t *groups;     /* room for n_groups, each initialised by the builder */
} aonet_layer_t;

/* dst (uninitialised) = a copy of src. */
void aonet_layer_copy(aonet_layer_t *dst, const aonet_layer_t *src);
/* LN none, n_groups groups to be initialised with aonet_group_init. */
void aonet_layer_init(aonet_layer_t *L, long n_groups);
void aonet_layer_clear(aonet_layer_t *L);
long aonet_layer_heads(const aonet_layer_t *L);

/* X <- X + sum of the layer's heads on LN(X).  0, or -1 when a mask row of
 * some query is empty (that head's row is 0). */
int aonet_layer_apply(imat_t X, const aonet_layer_t *L, mpfr_prec_t prec);
/* Q, K, V (initialised here) = U W_Q, U W_K, U W_V: the group's projections. */
void aonet_group_project(imat_t Q, imat_t K, imat_t V, const aonet_group_t *g, const imat_t U,
                         mpfr_prec_t prec);
/* Y (N x D) = the sum of one group's heads on U (no residual). */
int aonet_group_apply(imat_t Y, const aonet_group_t *g, const imat_t U, mpfr_prec_t prec);

/* The attention of n_heads stacked heads on already projected Q (N x
 * n_heads r_qk), K (N x n_heads r_qk, or N x r_qk when shared_k) and V
 * (N x n_heads r_ov): Z (N x n_heads r_ov), head h in columns
 * [h r_ov, (h+1) r_ov), Z_i^h = sum_j softmax_j(Q_i^h . K_j^h / scale) V_j^h
 * over the keys M allows.  scale NULL: 1.  0, or -1 on an empty mask row
 * (that row of Z is 0). */
int aonet_attend(imat_t Z, const imat_t Q, const imat_t K, const imat_t V, long n_heads,
                 long r_qk, long r_ov, int shared_k, const arb_t scale, const mask_t *M,
                 mpfr_prec_t prec);

/* A group of n heads of attn.h (all factored with one shape, or all in full
 * form: W_QK D x D in W_Q with W_K = I, W_OV in W_V with W_O = I), mask
 * kind, attn_scale 1: each head's tau multiplies W_Q (exactly when both are
 * exact).  g uninitialised. */
void aonet_group_from_heads(aonet_group_t *g, const char *name, const attn_head_struct *heads,
                            long n, aonet_mask_t kind, mpfr_prec_t prec);
/* The rule mask M is for its N tokens (NULL: every key), or -1 when it is
 * none of them. */
int aonet_mask_rule_of(const mask_t *M);

/* ---- a whole network ---- */
typedef struct {
    long D, d;                 /* stream width, normalised features */
    long n_layers;
    aonet_layer_t *layers;
    aonet_ln_t ln_final;
} aonet_t;

void aonet_init(aonet_t *A, long D, long d, long n_layers);
void aonet_clear(aonet_t *A);
long aonet_heads(const aonet_t *A);
/* X <- the network on X (every layer, then ln_final). */
int aonet_apply(imat_t X, const aonet_t *A, mpfr_prec_t prec);
/* Where a network's layers go as they are built or read, one at a time and
 * in order (a network too large to hold at once is handed over this way);
 * each returns 0 or an exit code with one line in err. */
typedef struct {
    void *ctx;
    int (*layer)(void *ctx, long k, const aonet_layer_t *L, char *err, size_t errsz);
    int (*final_ln)(void *ctx, const aonet_ln_t *ln, char *err, size_t errsz);
} aonet_sink_t;
/* A's layers, then its final LN (when it has one), to sink; the first
 * nonzero return. */
int aonet_emit(const aonet_t *A, const aonet_sink_t *sink, char *err, size_t errsz);
/* 1 when every weight, LN parameter and eps is exact. */
int aonet_layer_is_exact(const aonet_layer_t *L);
int aonet_is_exact(const aonet_t *A);

#endif
