/* A transformer in a safetensors file, with TransformerLens state-dict names.
 *
 * Tensors (per layer l; D = d_model, H = n_heads, E = d_head, M = d_mlp):
 *   blocks.l.ln1.w, .ln1.b, .ln2.w, .ln2.b       [D]     (.w: LN, RMS; .b: LN)
 *   blocks.l.attn.W_Q, .W_K, .W_V                [H, D, E]
 *   blocks.l.attn.b_Q, .b_K, .b_V                [H, E]  (each optional: zeros)
 *   blocks.l.attn.W_O [H, E, D], .b_O [D]                (b_O optional)
 *   blocks.l.mlp.W_in [D, M], .b_in [M], .W_out [M, D], .b_out [D]  (biases optional)
 *   blocks.l.mlp.W_gate [D, M]                            (gated MLPs)
 *   ln_final.w, ln_final.b                       [D]     (as final_norm has them)
 *   unembed.W_U [D, d_vocab], unembed.b_U [d_vocab]      (optional: top-1 rows)
 *   embed.W_E [d_vocab, D], pos_embed.W_pos [n_ctx, D]   (optional: token ids, exported)
 * in F64, F32, F16 or BF16.  Other tensors (masks, ...) are ignored.  An
 * absent attention or MLP bias reads as zeros (tmodel_read), exactly.  A
 * missing tensor, a tensor of another dtype, a shape that
 * disagrees with the config, or a block beyond n_layers is one line naming it.
 *
 * The config is in the header's __metadata__ (safetensors metadata values
 * are strings), in either or both of two forms:
 *   - key "config": a JSON object, e.g. {"d_model": 120, "act_fn": "silu", ...};
 *   - one key per field, the value's text, e.g. "d_model": "120" (other
 *     metadata keys, such as "format" or "source", are not config).
 * A field given both ways must agree.  Every key of the "config" object is a
 * field of TransformerLens's HookedTransformerConfig (or eps_final); any other
 * key, or a value that changes the network in a way not modelled, is refused
 * (65, one line naming the key, its value and why).  JSON null is a field's
 * unset value.  The table is `fields` in tmodel.c.
 * Read:
 *   d_model, n_layers, d_head   integers >= 1                      (required)
 *   n_heads       integer >= 1; -1 or absent: d_model // d_head
 *   d_mlp         integer >= 1; null or absent: 4 d_model
 *   act_fn        relu, gelu, gelu_new, gelu_fast, gelu_pytorch_tanh, silu,
 *                 sigmoid                                         (required)
 *   normalization_type  LN, LNPre, RMS, RMSPre or none (null)      default LN
 *                 (RMS: x / sqrt(mean(x^2) + eps) w, no centring and no b)
 *   final_rms     ln_final is RMS (under LN) or RMSPre (under LNPre)
 *   eps           the norms' epsilon > 0                           default 1e-5
 *   eps_final     ln_final's epsilon, when it differs (not a
 *                 TransformerLens field)                           default eps
 *   attn_scale    logits are q.k / attn_scale, > 0; -1 or absent: sqrt(d_head)
 *   use_attn_scale  false: attn_scale 1                            default true
 *   attention_dir causal or bidirectional                      default causal
 *   gated_mlp     true or false                default: whether W_gate exists
 *   positional_embedding_type  standard only (absolute positions are added
 *                 before block 0, so they are in the input stream); rotary,
 *                 shortformer, alibi act inside every layer: refused
 *   n_key_value_heads  null or n_heads; fewer (grouped K/V): refused
 *   parallel_attn_mlp  true: y = x + Attn(LN1(x)) + MLP(LN2(x)), both
 *                 sublayers reading x (GPT-J, Pythia)             default false
 * Refused unless false or null: attn_only, use_local_attn,
 *   scale_attn_by_inverse_layer_idx, post_embedding_ln,
 *   use_normalization_before_and_after, num_experts, experts_per_token,
 *   relative_attention_max_distance, relative_attention_num_buckets;
 *   unless null or <= 0: attn_scores_soft_cap, output_logits_soft_cap.
 * Harmless, not read (outside the stream from block 0 to ln_final, or no
 *   effect on the numbers): n_ctx, d_vocab, d_vocab_out, tie_word_embeddings,
 *   window_size and attn_types (used only with use_local_attn), rotary_dim,
 *   rotary_base, rotary_adjacent_pairs, use_NTK_by_parts_rope and NTK_by_parts_*
 *   (used only by rotary embeddings), ungroup_grouped_query_attention, hooks
 *   (use_attn_result, use_split_qkv_input, use_hook_mlp_in, use_attn_in,
 *   use_hook_tokens), names and tokenizer (model_name, original_architecture,
 *   tokenizer_name, tokenizer_prepends_bos, default_prepend_bos,
 *   decoder_start_token_id), initialisation (seed, init_mode, init_weights,
 *   initializer_range), loading and devices (dtype, load_in_4bit,
 *   trust_remote_code, device, n_devices), provenance (from_checkpoint,
 *   checkpoint_*), n_params.
 * Real numbers are the doubles nearest to the decimals written. */
#ifndef ATTNCHECK_TMODEL_H
#define ATTNCHECK_TMODEL_H

#include <stddef.h>
#include <stdint.h>
#include "safetensors.h"

typedef enum {
    TMODEL_NORM_NONE,
    TMODEL_NORM_LN,     /* (x - mean x)/sqrt(var x + eps) w + b */
    TMODEL_NORM_LNPRE,  /* the same without w and b */
    TMODEL_NORM_RMS,    /* x/sqrt(mean(x^2) + eps) w: no centring, no b */
    TMODEL_NORM_RMSPRE  /* the same without w */
} tmodel_norm_t;

typedef struct {
    int64_t d_model, n_layers, n_heads, d_head, d_mlp;
    char act_fn[24];
    tmodel_norm_t normalization; /* ln1, ln2 */
    tmodel_norm_t final_norm;    /* ln_final: normalization, or RMS(Pre) for LN(Pre) + final_rms */
    double eps, eps_final, attn_scale;
    int causal;    /* 0: bidirectional */
    int gated_mlp;
    int parallel_attn_mlp; /* 1: y = x + Attn(LN1(x)) + MLP(LN2(x)) */
} tmodel_config_t;

typedef enum {
    TMODEL_LN1_W, TMODEL_LN1_B, TMODEL_LN2_W, TMODEL_LN2_B,
    TMODEL_W_Q, TMODEL_W_K, TMODEL_W_V, TMODEL_B_Q, TMODEL_B_K, TMODEL_B_V,
    TMODEL_W_O, TMODEL_B_O,
    TMODEL_W_IN, TMODEL_B_IN, TMODEL_W_GATE, TMODEL_W_OUT, TMODEL_B_OUT,
    TMODEL_LN_FINAL_W, TMODEL_LN_FINAL_B, /* not per layer: pass layer 0 */
    TMODEL_N_PARAMS
} tmodel_param_t;

typedef struct tmodel tmodel_t;

/* Open path and check its config and every tensor the config calls for
 * (present, of a float dtype and the shape the config gives, no NaN or Inf). */
int tmodel_open(tmodel_t **m, const char *path, char *err, size_t errsz);
int tmodel_open_buffer(tmodel_t **m, const void *data, size_t size, const char *label, char *err,
                       size_t errsz);
void tmodel_close(tmodel_t *m);

const tmodel_config_t *tmodel_config(const tmodel_t *m);
/* "none", "LN", "LNPre", "RMS", "RMSPre" (TransformerLens's names). */
const char *tmodel_norm_name(tmodel_norm_t n);
const safetensors_t *tmodel_file(const tmodel_t *m);
/* Whether this model has parameter p (LN weights, W_gate are optional). */
int tmodel_has(const tmodel_t *m, tmodel_param_t p);
/* Shape of p into shape[0..2]; returns its number of dimensions. */
size_t tmodel_param_shape(uint64_t shape[3], const tmodel_t *m, tmodel_param_t p);
uint64_t tmodel_param_numel(const tmodel_t *m, tmodel_param_t p);
/* "blocks.3.attn.W_Q" into buf (truncated to bufsz). */
void tmodel_param_name(char *buf, size_t bufsz, int64_t layer, tmodel_param_t p);
/* Parameter p of a layer as tmodel_param_numel exact doubles, row-major.
 * Returns 0, EXIT_DATAERR (NaN/Inf, or p absent) or EXIT_SOFTWARE. */
int tmodel_read(double *out, const tmodel_t *m, int64_t layer, tmodel_param_t p, char *err,
                size_t errsz);

/* The unembedding (unembed.W_U [d_model, d_vocab], optional unembed.b_U
 * [d_vocab], TransformerLens names), checked at open when present: d_vocab,
 * 0 when the file has none; and its entries as exact doubles (W_U row-major,
 * b_U zeros when absent; b_U may be NULL). */
int64_t tmodel_d_vocab(const tmodel_t *m);
int tmodel_read_unembed(double *W_U, double *b_U, const tmodel_t *m, char *err, size_t errsz);

/* The embedding and unembedding tensors a file may carry, by their
 * TransformerLens names (embed.W_E, pos_embed.W_pos, unembed.W_U,
 * unembed.b_U), checked at open when present (2-D [*, d_model] for the
 * embeddings): the number of dimensions and shape (0 when absent), and the
 * entries as exact doubles, row-major. */
typedef enum { TMODEL_W_E, TMODEL_W_POS, TMODEL_W_U, TMODEL_B_U, TMODEL_N_EMBED } tmodel_embed_t;
extern const char *const tmodel_embed_name[TMODEL_N_EMBED];
size_t tmodel_embed_shape(uint64_t shape[2], const tmodel_t *m, tmodel_embed_t e);
int tmodel_read_embed(double *out, const tmodel_t *m, tmodel_embed_t e, char *err, size_t errsz);
/* Token ids embedded (TransformerLens's embed + pos_embed): row ids[i] of
 * embed.W_E [d_vocab, d_model] into we and row i of pos_embed.W_pos
 * [n_ctx, d_model] into wp (each n x d_model, exact doubles; the stream is
 * their sum).  EXIT_DATAERR with one line (what names the ids' file) for a
 * missing or misshapen tensor, an id outside [0, d_vocab), n > n_ctx. */
int tmodel_read_embedding(double *we, double *wp, const tmodel_t *m, const int64_t *ids, long n,
                          const char *what, char *err, size_t errsz);

/* The config as the JSON text of a "config" metadata value (sorted keys,
 * reals with 17 digits, so it reads back to the same doubles); malloc'd,
 * NULL when out of memory. */
char *tmodel_config_json(const tmodel_config_t *c);

#endif
