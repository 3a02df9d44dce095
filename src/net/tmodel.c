/* A TransformerLens-layout model: its config from __metadata__ and a check
 * of every tensor it calls for. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "exitcodes.h"
#include "tmodel.h"

struct tmodel {
    safetensors_t *st;
    tmodel_config_t cfg;
    const tensor_view_t *W_U, *b_U; /* the unembedding, when the file has one */
    const tensor_view_t *W_E, *W_pos; /* the embeddings, when the file has them */
};

/* Dimension codes of a parameter's shape. */
enum { DIM_D = 1, DIM_H, DIM_E, DIM_M };

static const struct {
    const char *suffix; /* after "blocks.l." (or the full name for ln_final) */
    size_t ndim;
    int dims[3];
} params[TMODEL_N_PARAMS] = {
    [TMODEL_LN1_W] = {"ln1.w", 1, {DIM_D}},
    [TMODEL_LN1_B] = {"ln1.b", 1, {DIM_D}},
    [TMODEL_LN2_W] = {"ln2.w", 1, {DIM_D}},
    [TMODEL_LN2_B] = {"ln2.b", 1, {DIM_D}},
    [TMODEL_W_Q] = {"attn.W_Q", 3, {DIM_H, DIM_D, DIM_E}},
    [TMODEL_W_K] = {"attn.W_K", 3, {DIM_H, DIM_D, DIM_E}},
    [TMODEL_W_V] = {"attn.W_V", 3, {DIM_H, DIM_D, DIM_E}},
    [TMODEL_B_Q] = {"attn.b_Q", 2, {DIM_H, DIM_E}},
    [TMODEL_B_K] = {"attn.b_K", 2, {DIM_H, DIM_E}},
    [TMODEL_B_V] = {"attn.b_V", 2, {DIM_H, DIM_E}},
    [TMODEL_W_O] = {"attn.W_O", 3, {DIM_H, DIM_E, DIM_D}},
    [TMODEL_B_O] = {"attn.b_O", 1, {DIM_D}},
    [TMODEL_W_IN] = {"mlp.W_in", 2, {DIM_D, DIM_M}},
    [TMODEL_B_IN] = {"mlp.b_in", 1, {DIM_M}},
    [TMODEL_W_GATE] = {"mlp.W_gate", 2, {DIM_D, DIM_M}},
    [TMODEL_W_OUT] = {"mlp.W_out", 2, {DIM_M, DIM_D}},
    [TMODEL_B_OUT] = {"mlp.b_out", 1, {DIM_D}},
    [TMODEL_LN_FINAL_W] = {"ln_final.w", 1, {DIM_D}},
    [TMODEL_LN_FINAL_B] = {"ln_final.b", 1, {DIM_D}},
};

static const char *const act_fns[] = {
    "relu", "gelu", "gelu_new", "gelu_fast", "gelu_pytorch_tanh", "silu", "sigmoid"};

/* ---- config keys: every HookedTransformerConfig field, and what it does here ---- */

typedef enum {
    KIND_INT,    /* an integer >= 1 */
    KIND_REAL,   /* a finite number > 0 */
    KIND_ACT,    /* one of act_fns */
    KIND_NORM,   /* LN, LNPre, RMS, RMSPre, none */
    KIND_DIR,    /* causal, bidirectional */
    KIND_BOOL,   /* true, false */
    KIND_POS,    /* positional_embedding_type: standard */
    KIND_ANY,    /* harmless: any value, not read */
    KIND_OFF,    /* refused unless false or null */
    KIND_NULL,   /* refused unless null */
    KIND_CAP     /* refused unless null or <= 0 (TransformerLens's -1: no cap) */
} field_kind_t;
enum {
    F_D_MODEL, F_N_LAYERS, F_N_HEADS, F_D_HEAD, F_D_MLP, F_ACT_FN, F_NORM, F_EPS, F_EPS_FINAL,
    F_ATTN_SCALE, F_USE_ATTN_SCALE, F_ATTN_DIR, F_GATED, F_FINAL_RMS, F_PARALLEL, F_POS, F_KV,
    F_FIRST_OTHER /* the rest: harmless or refused unless neutral, never stored */
};
/* why: for KIND_ANY why the field cannot change the network attncheck
 * checks (the stream entering block 0 through ln_final); for the refused
 * kinds (and a read field's refused values) why another value is refused. */
static const struct {
    const char *key;
    field_kind_t kind;
    const char *why;
} fields[] = {
    [F_D_MODEL] = {"d_model", KIND_INT, NULL},
    [F_N_LAYERS] = {"n_layers", KIND_INT, NULL},
    [F_N_HEADS] = {"n_heads", KIND_INT, NULL}, /* -1 or absent: d_model / d_head */
    [F_D_HEAD] = {"d_head", KIND_INT, NULL},
    [F_D_MLP] = {"d_mlp", KIND_INT, NULL},     /* null or absent: 4 d_model */
    [F_ACT_FN] = {"act_fn", KIND_ACT, NULL},
    [F_NORM] = {"normalization_type", KIND_NORM, NULL},
    [F_EPS] = {"eps", KIND_REAL, NULL},
    [F_EPS_FINAL] = {"eps_final", KIND_REAL, NULL}, /* attncheck's own: ln_final's eps */
    [F_ATTN_SCALE] = {"attn_scale", KIND_REAL, NULL}, /* -1: sqrt(d_head) */
    [F_USE_ATTN_SCALE] = {"use_attn_scale", KIND_BOOL, NULL},
    [F_ATTN_DIR] = {"attention_dir", KIND_DIR, NULL},
    [F_GATED] = {"gated_mlp", KIND_BOOL, NULL},
    [F_FINAL_RMS] = {"final_rms", KIND_BOOL, NULL},
    [F_PARALLEL] = {"parallel_attn_mlp", KIND_BOOL, NULL},
    [F_POS] = {"positional_embedding_type", KIND_POS, NULL}, /* why: per value, pos_why() */
    [F_KV] = {"n_key_value_heads", KIND_INT,
              "grouped key/value heads (fewer K/V heads than n_heads) are not modelled; the "
              "converted heads each have their own W_K and W_V"},
    {"attn_only", KIND_OFF,
     "an attention-only model has no MLP sublayers, and the conversion and the model check are "
     "built per attention+MLP block"},
    {"use_local_attn", KIND_OFF,
     "local attention hides keys more than window_size back; the converted masks are causal or "
     "all keys"},
    {"scale_attn_by_inverse_layer_idx", KIND_OFF,
     "it divides block l's logits by l + 1 on top of attn_scale, which is not modelled"},
    {"post_embedding_ln", KIND_OFF,
     "a LayerNorm between the embedding and block 0 is not modelled"},
    {"use_normalization_before_and_after", KIND_OFF,
     "a normalisation of each sublayer's output (Gemma 2) is not modelled"},
    {"num_experts", KIND_NULL, "a mixture-of-experts MLP is not modelled"},
    {"experts_per_token", KIND_NULL, "a mixture-of-experts MLP is not modelled"},
    {"relative_attention_max_distance", KIND_NULL,
     "relative position biases in the logits (T5) are not modelled"},
    {"relative_attention_num_buckets", KIND_NULL,
     "relative position biases in the logits (T5) are not modelled"},
    {"attn_scores_soft_cap", KIND_CAP, "a soft cap c tanh(s/c) on the logits is not modelled"},
    {"output_logits_soft_cap", KIND_CAP,
     "a soft cap c tanh(l/c) on the output logits is not modelled"},
    /* harmless */
    {"n_ctx", KIND_ANY, "the longest context; the input's own length is what is checked"},
    {"d_vocab", KIND_ANY, "the embedding's size, outside the stream from block 0 to ln_final"},
    {"d_vocab_out", KIND_ANY, "the unembedding's size, after ln_final"},
    {"tie_word_embeddings", KIND_ANY, "how the unembedding is stored, after ln_final"},
    {"window_size", KIND_ANY, "read only with use_local_attn, refused when true"},
    {"attn_types", KIND_ANY, "read only with use_local_attn, refused when true"},
    {"rotary_dim", KIND_ANY, "read only by rotary embeddings, refused"},
    {"rotary_base", KIND_ANY, "read only by rotary embeddings, refused"},
    {"rotary_adjacent_pairs", KIND_ANY, "read only by rotary embeddings, refused"},
    {"use_NTK_by_parts_rope", KIND_ANY, "read only by rotary embeddings, refused"},
    {"NTK_by_parts_low_freq_factor", KIND_ANY, "read only by rotary embeddings, refused"},
    {"NTK_by_parts_high_freq_factor", KIND_ANY, "read only by rotary embeddings, refused"},
    {"NTK_by_parts_factor", KIND_ANY, "read only by rotary embeddings, refused"},
    {"ungroup_grouped_query_attention", KIND_ANY,
     "how grouped K/V weights are laid out in memory; the tensors' shapes are checked"},
    {"use_attn_result", KIND_ANY, "a hook: the same numbers, summed in another place"},
    {"use_split_qkv_input", KIND_ANY, "a hook: the same numbers"},
    {"use_hook_mlp_in", KIND_ANY, "a hook: the same numbers"},
    {"use_attn_in", KIND_ANY, "a hook: the same numbers"},
    {"use_hook_tokens", KIND_ANY, "a hook on the token ids, before the stream"},
    {"model_name", KIND_ANY, "a name"},
    {"original_architecture", KIND_ANY, "a name; the fields here say what is computed"},
    {"tokenizer_name", KIND_ANY, "the tokenizer, before the stream"},
    {"tokenizer_prepends_bos", KIND_ANY, "the tokenizer, before the stream"},
    {"default_prepend_bos", KIND_ANY, "the tokenizer, before the stream"},
    {"decoder_start_token_id", KIND_ANY, "a generation setting, outside one forward pass"},
    {"seed", KIND_ANY, "initialisation; the file's weights are what is checked"},
    {"init_mode", KIND_ANY, "initialisation; the file's weights are what is checked"},
    {"init_weights", KIND_ANY, "initialisation; the file's weights are what is checked"},
    {"initializer_range", KIND_ANY, "initialisation; the file's weights are what is checked"},
    {"dtype", KIND_ANY, "each tensor carries its own dtype, read exactly"},
    {"load_in_4bit", KIND_ANY, "a loading option; the file's tensors are what is checked"},
    {"trust_remote_code", KIND_ANY, "a loading option"},
    {"device", KIND_ANY, "where PyTorch runs"},
    {"n_devices", KIND_ANY, "where PyTorch runs"},
    {"from_checkpoint", KIND_ANY, "provenance"},
    {"checkpoint_index", KIND_ANY, "provenance"},
    {"checkpoint_label_type", KIND_ANY, "provenance"},
    {"checkpoint_value", KIND_ANY, "provenance"},
    {"n_params", KIND_ANY, "a count derived from the shapes"},
};
#define N_FIELDS ((int)(sizeof fields / sizeof fields[0]))

/* positional_embedding_type: what each value does to the blocks. */
static const char *pos_why(const char *v)
{
    if (strcmp(v, "standard") == 0)
        return NULL; /* absolute positions are added before block 0: part of the input stream */
    if (strcmp(v, "rotary") == 0)
        return "rotary embeddings rotate every layer's queries and keys by position, which the "
               "converted heads do not";
    if (strcmp(v, "shortformer") == 0)
        return "shortformer adds the positional embedding to every layer's query and key inputs "
               "only, which the converted heads do not";
    if (strcmp(v, "alibi") == 0)
        return "ALiBi adds a per-head linear position bias to every layer's logits, which the "
               "converted heads do not";
    return "only standard (absolute positions, added before block 0) is modelled";
}

typedef struct {
    int set;
    int64_t i; /* INT, NORM, DIR, BOOL, ACT (index into act_fns); -1: TransformerLens's unset */
    double r;  /* REAL */
} field_value_t;

static int is_null_text(const char *t)
{
    return strcmp(t, "none") == 0 || strcmp(t, "None") == 0 || strcmp(t, "null") == 0;
}

/* Parse one field's text; -1 with why set when it does not fit the kind,
 * -2 (why set) when it fits but is a value that is refused. */
static int parse_field(field_value_t *v, int f, const char *text, const char **why)
{
    char *end;
    field_kind_t kind = fields[f].kind;
    v->set = 1;
    switch (kind) {
    case KIND_INT: {
        *why = "is not an integer >= 1";
        /* TransformerLens's unset: n_heads -1, d_mlp / n_key_value_heads null */
        if ((f == F_N_HEADS && strcmp(text, "-1") == 0) ||
            ((f == F_D_MLP || f == F_KV) && is_null_text(text))) {
            v->i = -1;
            return 0;
        }
        if (text[0] < '0' || text[0] > '9')
            return -1;
        errno = 0;
        long long x = strtoll(text, &end, 10);
        if (errno || *end || x < 1)
            return -1;
        v->i = x;
        return 0;
    }
    case KIND_REAL:
        *why = "is not a finite number > 0";
        if (f == F_ATTN_SCALE && strcmp(text, "-1") == 0) {
            v->i = -1;
            return 0;
        }
        errno = 0;
        v->r = strtod(text, &end);
        if (end == text || *end || errno == ERANGE || !isfinite(v->r) || !(v->r > 0))
            return -1;
        return 0;
    case KIND_ACT:
        *why = "is not one of relu, gelu, gelu_new, gelu_fast, gelu_pytorch_tanh, silu, sigmoid";
        for (size_t k = 0; k < sizeof act_fns / sizeof act_fns[0]; k++)
            if (strcmp(text, act_fns[k]) == 0) {
                v->i = (int64_t)k;
                return 0;
            }
        return -1;
    case KIND_NORM:
        *why = "is not LN, LNPre, RMS, RMSPre or none";
        if (strcmp(text, "LN") == 0)
            v->i = TMODEL_NORM_LN;
        else if (strcmp(text, "LNPre") == 0)
            v->i = TMODEL_NORM_LNPRE;
        else if (strcmp(text, "RMS") == 0)
            v->i = TMODEL_NORM_RMS;
        else if (strcmp(text, "RMSPre") == 0)
            v->i = TMODEL_NORM_RMSPRE;
        else if (is_null_text(text))
            v->i = TMODEL_NORM_NONE;
        else
            return -1;
        return 0;
    case KIND_DIR:
        *why = "is not causal or bidirectional";
        if (strcmp(text, "causal") == 0)
            v->i = 1;
        else if (strcmp(text, "bidirectional") == 0)
            v->i = 0;
        else
            return -1;
        return 0;
    case KIND_BOOL:
        *why = "is not true or false";
        if (strcmp(text, "true") == 0 || strcmp(text, "True") == 0)
            v->i = 1;
        else if (strcmp(text, "false") == 0 || strcmp(text, "False") == 0 || is_null_text(text))
            v->i = 0;
        else
            return -1;
        if (v->i && fields[f].why) { /* read, but its true is refused */
            *why = fields[f].why;
            return -2;
        }
        return 0;
    case KIND_POS:
        *why = pos_why(text);
        return *why ? -2 : 0;
    case KIND_ANY:
        return 0;
    case KIND_OFF:
        *why = fields[f].why;
        return strcmp(text, "false") == 0 || strcmp(text, "False") == 0 || is_null_text(text)
                   ? 0 : -2;
    case KIND_NULL:
        *why = fields[f].why;
        return is_null_text(text) ? 0 : -2;
    case KIND_CAP: {
        *why = fields[f].why;
        if (is_null_text(text))
            return 0;
        errno = 0;
        double x = strtod(text, &end);
        return end != text && *end == '\0' && !isnan(x) && x <= 0 ? 0 : -2;
    }
    }
    return -1;
}

/* The text of a field inside the "config" object; -1 for a JSON type that
 * can never be a field's value (an array or object: "<array>"), or a text
 * too long for any. */
static int json_field_text(char *buf, size_t bufsz, const json_t *v)
{
    if (json_is_string(v) && json_string_length(v) >= bufsz)
        return -1;
    if (json_is_integer(v))
        snprintf(buf, bufsz, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, bufsz, "%.17g", json_real_value(v));
    else if (json_is_string(v))
        snprintf(buf, bufsz, "%s", json_string_value(v));
    else if (json_is_true(v))
        snprintf(buf, bufsz, "true");
    else if (json_is_false(v))
        snprintf(buf, bufsz, "false");
    else if (json_is_null(v))
        snprintf(buf, bufsz, "none");
    else {
        snprintf(buf, bufsz, "%s", json_is_array(v) ? "an array" : "an object");
        return -1;
    }
    return 0;
}

static int same_value(const field_value_t *a, const field_value_t *b, field_kind_t kind)
{
    return kind == KIND_REAL ? a->i == b->i && a->r == b->r : a->i == b->i;
}

static int field_index(const char *key)
{
    for (int f = 0; f < N_FIELDS; f++)
        if (strcmp(fields[f].key, key) == 0)
            return f;
    return -1;
}

/* One field's value v (text) from where (config's or metadata's): 0, or the
 * exit code with one line naming the key. */
static int take_field(field_value_t *val, int f, const char *text, int text_ok, const char *where,
                      const char *src, char *err, size_t errsz)
{
    const char *why = fields[f].kind >= KIND_OFF ? fields[f].why : "has the wrong JSON type";
    int r = text_ok ? parse_field(val, f, text, &why) : fields[f].kind == KIND_ANY ? 0 : -1;
    if (r == -2 || (r == -1 && !text_ok && fields[f].kind >= KIND_OFF))
        return tensor_fail(err, errsz, EXIT_DATAERR, src, "config key '%s' is %s: %s",
                           fields[f].key, text, why);
    if (r != 0)
        return tensor_fail(err, errsz, EXIT_DATAERR, src, "%s %s %s", where, fields[f].key, why);
    return 0;
}

static int read_config(tmodel_config_t *c, const safetensors_t *st, int has_gate, char *err,
                       size_t errsz)
{
    const char *src = safetensors_source(st);
    field_value_t val[F_FIRST_OTHER] = {{0}};
    json_t *obj = NULL;
    const char *text = safetensors_metadata_get(st, "config");
    if (text) {
        json_error_t jerr;
        obj = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
        if (!obj)
            return tensor_fail(err, errsz, EXIT_DATAERR, src,
                               "metadata 'config' is not valid JSON: %s", jerr.text);
        if (!json_is_object(obj)) {
            json_decref(obj);
            return tensor_fail(err, errsz, EXIT_DATAERR, src,
                               "metadata 'config' is not a JSON object");
        }
    }
    int rc = 0;
    /* every key of the config object is a known field */
    const char *key;
    json_t *jv;
    json_object_foreach(obj, key, jv) {
        if (field_index(key) < 0) {
            rc = tensor_fail(err, errsz, EXIT_DATAERR, src,
                             "config key '%.80s' is not a known TransformerLens config field "
                             "(HookedTransformerConfig; see tmodel.h)", key);
            break;
        }
    }
    /* each field from the object and from its own metadata key (other
     * metadata keys, such as "format" or "source", are not config) */
    for (int f = 0; f < N_FIELDS && rc == 0; f++) {
        field_value_t scratch = {0}, *v = f < F_FIRST_OTHER ? &val[f] : &scratch;
        char buf[256];
        jv = obj ? json_object_get(obj, fields[f].key) : NULL;
        if (jv) {
            int ok = json_field_text(buf, sizeof buf, jv) == 0;
            rc = take_field(v, f, buf, ok, "config field", src, err, errsz);
            if (rc)
                break;
        }
        const char *own = safetensors_metadata_get(st, fields[f].key);
        if (own) {
            field_value_t v2 = {0};
            rc = take_field(&v2, f, own, 1, "metadata", src, err, errsz);
            if (rc)
                break;
            if (f < F_FIRST_OTHER && v->set && !same_value(v, &v2, fields[f].kind)) {
                rc = tensor_fail(err, errsz, EXIT_DATAERR, src,
                                 "metadata %s disagrees with config's %s", fields[f].key,
                                 fields[f].key);
                break;
            }
            if (f < F_FIRST_OTHER)
                *v = v2;
        }
    }
    json_decref(obj);
    static const int required[] = {F_D_MODEL, F_N_LAYERS, F_D_HEAD, F_ACT_FN};
    for (size_t k = 0; k < sizeof required / sizeof required[0] && rc == 0; k++)
        if (!val[required[k]].set)
            rc = tensor_fail(err, errsz, EXIT_DATAERR, src,
                             "config lacks %s (metadata key \"config\" or \"%s\"; see tmodel.h)",
                             fields[required[k]].key, fields[required[k]].key);
    if (rc != 0)
        return rc;
    c->d_model = val[F_D_MODEL].i;
    c->n_layers = val[F_N_LAYERS].i;
    c->d_head = val[F_D_HEAD].i;
    /* TransformerLens's defaults: n_heads d_model // d_head, d_mlp 4 d_model */
    c->n_heads = val[F_N_HEADS].set && val[F_N_HEADS].i > 0 ? val[F_N_HEADS].i
                                                             : c->d_model / c->d_head;
    if (c->n_heads < 1)
        return tensor_fail(err, errsz, EXIT_DATAERR, src,
                           "config lacks n_heads, and d_model // d_head is 0");
    c->d_mlp = val[F_D_MLP].set && val[F_D_MLP].i > 0 ? val[F_D_MLP].i
               : c->d_model <= INT64_MAX / 4          ? 4 * c->d_model
                                                      : INT64_MAX;
    if (val[F_KV].set && val[F_KV].i > 0 && val[F_KV].i != c->n_heads)
        return tensor_fail(err, errsz, EXIT_DATAERR, src,
                           "config key 'n_key_value_heads' is %lld (n_heads %lld): %s",
                           (long long)val[F_KV].i, (long long)c->n_heads, fields[F_KV].why);
    snprintf(c->act_fn, sizeof c->act_fn, "%s", act_fns[val[F_ACT_FN].i]);
    c->normalization = val[F_NORM].set ? (tmodel_norm_t)val[F_NORM].i : TMODEL_NORM_LN;
    /* ln_final: RMS(Pre) models end in RMS(Pre); final_rms turns LN(Pre)'s into RMS(Pre) */
    c->final_norm = c->normalization;
    if (val[F_FINAL_RMS].i && c->normalization == TMODEL_NORM_LN)
        c->final_norm = TMODEL_NORM_RMS;
    else if (val[F_FINAL_RMS].i && c->normalization == TMODEL_NORM_LNPRE)
        c->final_norm = TMODEL_NORM_RMSPRE;
    c->eps = val[F_EPS].set ? val[F_EPS].r : 1e-5;
    c->eps_final = val[F_EPS_FINAL].set ? val[F_EPS_FINAL].r : c->eps;
    if (val[F_USE_ATTN_SCALE].set && !val[F_USE_ATTN_SCALE].i)
        c->attn_scale = 1; /* TransformerLens ignores attn_scale then */
    else
        c->attn_scale = val[F_ATTN_SCALE].set && val[F_ATTN_SCALE].i != -1
                            ? val[F_ATTN_SCALE].r : sqrt((double)c->d_head);
    c->causal = val[F_ATTN_DIR].set ? (int)val[F_ATTN_DIR].i : 1;
    c->gated_mlp = val[F_GATED].set ? (int)val[F_GATED].i : has_gate;
    c->parallel_attn_mlp = (int)val[F_PARALLEL].i;
    if (val[F_GATED].set && !c->gated_mlp && has_gate)
        return tensor_fail(err, errsz, EXIT_DATAERR, src,
                           "config says gated_mlp false but blocks.0.mlp.W_gate exists");
    return 0;
}

/* ---- tensors ---- */

void tmodel_param_name(char *buf, size_t bufsz, int64_t layer, tmodel_param_t p)
{
    if (p == TMODEL_LN_FINAL_W || p == TMODEL_LN_FINAL_B)
        snprintf(buf, bufsz, "%s", params[p].suffix);
    else
        snprintf(buf, bufsz, "blocks.%lld.%s", (long long)layer, params[p].suffix);
}

int tmodel_has(const tmodel_t *m, tmodel_param_t p)
{
    tmodel_norm_t n = m->cfg.normalization, nf = m->cfg.final_norm;
    switch (p) {
    case TMODEL_LN1_W:
    case TMODEL_LN2_W:
        return n == TMODEL_NORM_LN || n == TMODEL_NORM_RMS;
    case TMODEL_LN1_B:
    case TMODEL_LN2_B:
        return n == TMODEL_NORM_LN;
    case TMODEL_LN_FINAL_W:
        return nf == TMODEL_NORM_LN || nf == TMODEL_NORM_RMS;
    case TMODEL_LN_FINAL_B:
        return nf == TMODEL_NORM_LN;
    case TMODEL_W_GATE:
        return m->cfg.gated_mlp;
    default:
        return p >= 0 && p < TMODEL_N_PARAMS;
    }
}

const char *tmodel_norm_name(tmodel_norm_t n)
{
    static const char *const names[] = {[TMODEL_NORM_NONE] = "none", [TMODEL_NORM_LN] = "LN",
                                        [TMODEL_NORM_LNPRE] = "LNPre", [TMODEL_NORM_RMS] = "RMS",
                                        [TMODEL_NORM_RMSPRE] = "RMSPre"};
    return n >= 0 && n <= TMODEL_NORM_RMSPRE ? names[n] : "?";
}

size_t tmodel_param_shape(uint64_t shape[3], const tmodel_t *m, tmodel_param_t p)
{
    for (size_t i = 0; i < params[p].ndim; i++) {
        int d = params[p].dims[i];
        shape[i] = (uint64_t)(d == DIM_D   ? m->cfg.d_model
                              : d == DIM_H ? m->cfg.n_heads
                              : d == DIM_E ? m->cfg.d_head
                                           : m->cfg.d_mlp);
    }
    return params[p].ndim;
}

uint64_t tmodel_param_numel(const tmodel_t *m, tmodel_param_t p)
{
    uint64_t shape[3], numel, nbytes;
    size_t nd = tmodel_param_shape(shape, m, p);
    /* every present parameter matched a tensor in the file, so no overflow */
    return tensor_shape_numel(&numel, &nbytes, shape, nd, 1) == 0 ? numel : 0;
}

static void format_shape(char *buf, size_t bufsz, const uint64_t *shape, size_t ndim)
{
    size_t k = (size_t)snprintf(buf, bufsz, "[");
    for (size_t i = 0; i < ndim && k < bufsz; i++)
        k += (size_t)snprintf(buf + k, bufsz - k, "%s%llu", i ? ", " : "",
                              (unsigned long long)shape[i]);
    if (k < bufsz)
        snprintf(buf + k, bufsz - k, "]");
}

/* The attention and MLP biases may be absent (GPT-NeoX-style or bias-free
 * models): each missing one reads as zeros.  A present one is checked. */
static int is_bias(tmodel_param_t p)
{
    return p == TMODEL_B_Q || p == TMODEL_B_K || p == TMODEL_B_V || p == TMODEL_B_O ||
           p == TMODEL_B_IN || p == TMODEL_B_OUT;
}

static int check_param(const tmodel_t *m, int64_t layer, tmodel_param_t p, char *err, size_t errsz)
{
    char name[96], want[96], got[96];
    const char *src = safetensors_source(m->st);
    tmodel_param_name(name, sizeof name, layer, p);
    const tensor_view_t *v = safetensors_find(m->st, name);
    if (!v && is_bias(p))
        return 0;
    if (!v)
        return tensor_fail(err, errsz, EXIT_DATAERR, src, "missing tensor '%s'", name);
    if (v->dtype == TENSOR_OTHER)
        return tensor_fail(err, errsz, EXIT_DATAERR, src,
                           "tensor '%s' has dtype %s (want F64, F32, F16 or BF16)", name,
                           v->dtype_name);
    uint64_t shape[3];
    size_t nd = tmodel_param_shape(shape, m, p);
    int same = v->ndim == nd;
    for (size_t i = 0; same && i < nd; i++)
        same = v->shape[i] == shape[i];
    if (!same) {
        format_shape(want, sizeof want, shape, nd);
        format_shape(got, sizeof got, v->shape, v->ndim < 8 ? v->ndim : 8);
        return tensor_fail(err, errsz, EXIT_DATAERR, src,
                           "tensor '%s' has shape %s%s, the config says %s", name, got,
                           v->ndim < 8 ? "" : "...", want);
    }
    /* checked here, before any work, not block by block when it is read */
    return tensor_view_check_finite(v, err, errsz);
}

static int check_tensors(const tmodel_t *m, char *err, size_t errsz)
{
    for (int64_t l = 0; l < m->cfg.n_layers; l++)
        for (int p = 0; p < TMODEL_LN_FINAL_W; p++) {
            if (!tmodel_has(m, (tmodel_param_t)p))
                continue;
            int rc = check_param(m, l, (tmodel_param_t)p, err, errsz);
            if (rc != 0)
                return rc;
        }
    for (int p = TMODEL_LN_FINAL_W; p < TMODEL_N_PARAMS; p++)
        if (tmodel_has(m, (tmodel_param_t)p)) {
            int rc = check_param(m, 0, (tmodel_param_t)p, err, errsz);
            if (rc != 0)
                return rc;
        }
    char name[96];
    tmodel_param_name(name, sizeof name, m->cfg.n_layers, TMODEL_W_Q);
    if (safetensors_find(m->st, name))
        return tensor_fail(err, errsz, EXIT_DATAERR, safetensors_source(m->st),
                           "tensor '%s' exists but the config says n_layers %lld", name,
                           (long long)m->cfg.n_layers);
    return 0;
}

/* unembed.W_U [d_model, d_vocab] and unembed.b_U [d_vocab], both optional
 * (b_U only with W_U): a float dtype, that shape, finite. */
static int check_unembed(tmodel_t *m, char *err, size_t errsz)
{
    const char *src = safetensors_source(m->st);
    const tensor_view_t *W = safetensors_find(m->st, "unembed.W_U");
    const tensor_view_t *b = safetensors_find(m->st, "unembed.b_U");
    if (!W && b)
        return tensor_fail(err, errsz, EXIT_DATAERR, src, "tensor 'unembed.b_U' without "
                           "'unembed.W_U'");
    if (!W)
        return 0;
    if (W->dtype == TENSOR_OTHER || (b && b->dtype == TENSOR_OTHER))
        return tensor_fail(err, errsz, EXIT_DATAERR, src, "the unembedding has dtype %s (want "
                           "F64, F32, F16 or BF16)", W->dtype == TENSOR_OTHER ? W->dtype_name
                           : b->dtype_name);
    if (W->ndim != 2 || W->shape[0] != (uint64_t)m->cfg.d_model || W->shape[1] < 1 ||
        W->shape[1] > (uint64_t)INT32_MAX)
        return tensor_fail(err, errsz, EXIT_DATAERR, src, "tensor 'unembed.W_U' is not "
                           "[d_model = %lld, d_vocab]", (long long)m->cfg.d_model);
    if (b && (b->ndim != 1 || b->shape[0] != W->shape[1]))
        return tensor_fail(err, errsz, EXIT_DATAERR, src, "tensor 'unembed.b_U' is not "
                           "[d_vocab = %llu]", (unsigned long long)W->shape[1]);
    int rc = tensor_view_check_finite(W, err, errsz);
    if (rc == 0 && b)
        rc = tensor_view_check_finite(b, err, errsz);
    m->W_U = W;
    m->b_U = b;
    return rc;
}

int64_t tmodel_d_vocab(const tmodel_t *m)
{
    return m->W_U ? (int64_t)m->W_U->shape[1] : 0;
}

int tmodel_read_unembed(double *W_U, double *b_U, const tmodel_t *m, char *err, size_t errsz)
{
    if (!m->W_U)
        return tensor_fail(err, errsz, EXIT_DATAERR, safetensors_source(m->st),
                           "model has no tensor 'unembed.W_U'");
    int rc = tensor_view_read_f64(W_U, m->W_U, err, errsz);
    for (int64_t j = 0; rc == 0 && b_U && j < tmodel_d_vocab(m); j++)
        b_U[j] = 0;
    if (rc == 0 && b_U && m->b_U)
        rc = tensor_view_read_f64(b_U, m->b_U, err, errsz);
    return rc;
}

/* embed.W_E and pos_embed.W_pos, both optional: a float dtype, [*, d_model],
 * finite. */
static int check_embed(tmodel_t *m, char *err, size_t errsz)
{
    const tensor_view_t **slot[2] = {&m->W_E, &m->W_pos};
    for (int k = 0; k < 2; k++) {
        const char *name = tmodel_embed_name[k];
        const tensor_view_t *t = safetensors_find(m->st, name);
        if (!t)
            continue;
        if (t->dtype == TENSOR_OTHER)
            return tensor_fail(err, errsz, EXIT_DATAERR, safetensors_source(m->st), "tensor "
                               "'%s' has dtype %s (want F64, F32, F16 or BF16)", name,
                               t->dtype_name);
        if (t->ndim != 2 || t->shape[0] < 1 || t->shape[1] != (uint64_t)m->cfg.d_model)
            return tensor_fail(err, errsz, EXIT_DATAERR, safetensors_source(m->st), "tensor "
                               "'%s' is not [*, d_model = %lld]", name,
                               (long long)m->cfg.d_model);
        int rc = tensor_view_check_finite(t, err, errsz);
        if (rc != 0)
            return rc;
        *slot[k] = t;
    }
    return 0;
}

const char *const tmodel_embed_name[TMODEL_N_EMBED] = {"embed.W_E", "pos_embed.W_pos",
                                                       "unembed.W_U", "unembed.b_U"};

static const tensor_view_t *embed_view(const tmodel_t *m, tmodel_embed_t e)
{
    const tensor_view_t *v[TMODEL_N_EMBED] = {m->W_E, m->W_pos, m->W_U, m->b_U};
    return v[e];
}

size_t tmodel_embed_shape(uint64_t shape[2], const tmodel_t *m, tmodel_embed_t e)
{
    const tensor_view_t *t = embed_view(m, e);
    for (size_t k = 0; t && k < t->ndim; k++)
        shape[k] = t->shape[k];
    return t ? t->ndim : 0;
}

int tmodel_read_embed(double *out, const tmodel_t *m, tmodel_embed_t e, char *err, size_t errsz)
{
    const tensor_view_t *t = embed_view(m, e);
    if (!t)
        return tensor_fail(err, errsz, EXIT_DATAERR, safetensors_source(m->st), "model has no "
                           "tensor '%s'", tmodel_embed_name[e]);
    return tensor_view_read_f64(out, t, err, errsz);
}

/* An embedding checked at open (check_embed), or one line saying it is missing. */
static const tensor_view_t *embedding_view(const tmodel_t *m, tmodel_embed_t e, const char *dims,
                                           char *err, size_t errsz)
{
    const tensor_view_t *v = embed_view(m, e);
    if (!v)
        tensor_fail(err, errsz, EXIT_DATAERR, safetensors_source(m->st),
                    "model has no tensor '%s' [%s, d_model]: token ids need it",
                    tmodel_embed_name[e], dims);
    return v;
}

/* Row r of a C-order [rows, d] view, read exactly. */
static int read_row(double *out, const tensor_view_t *v, uint64_t r, char *err, size_t errsz)
{
    tensor_view_t row = *v;
    row.ndim = 1;
    row.shape = v->shape + 1;
    row.numel = v->shape[1];
    row.data = v->data + r * v->shape[1] * tensor_dtype_size(v->dtype);
    return tensor_view_read_f64(out, &row, err, errsz);
}

int tmodel_read_embedding(double *we, double *wp, const tmodel_t *m, const int64_t *ids, long n,
                          const char *what, char *err, size_t errsz)
{
    const tensor_view_t *E = embedding_view(m, TMODEL_W_E, "d_vocab", err, errsz);
    const tensor_view_t *P = E ? embedding_view(m, TMODEL_W_POS, "n_ctx", err, errsz)
                               : NULL;
    if (!P)
        return EXIT_DATAERR;
    if ((uint64_t)n > P->shape[0])
        return tensor_fail(err, errsz, EXIT_DATAERR, what,
                           "%ld token ids, but pos_embed.W_pos of %s has %llu positions", n,
                           safetensors_source(m->st), (unsigned long long)P->shape[0]);
    size_t d = (size_t)m->cfg.d_model;
    for (long i = 0; i < n; i++) {
        if (ids[i] < 0 || (uint64_t)ids[i] >= E->shape[0])
            return tensor_fail(err, errsz, EXIT_DATAERR, what,
                               "token id %lld at position %ld is outside embed.W_E's "
                               "vocabulary [0, %llu)", (long long)ids[i], i,
                               (unsigned long long)E->shape[0]);
        int rc = read_row(we + (size_t)i * d, E, (uint64_t)ids[i], err, errsz);
        if (rc == 0)
            rc = read_row(wp + (size_t)i * d, P, (uint64_t)i, err, errsz);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int tmodel_init(tmodel_t **out, safetensors_t *st, char *err, size_t errsz)
{
    tmodel_t *m = calloc(1, sizeof *m);
    if (!m) {
        int rc = tensor_fail(err, errsz, EXIT_SOFTWARE, safetensors_source(st), "out of memory");
        safetensors_close(st);
        return rc;
    }
    m->st = st;
    int rc =
        read_config(&m->cfg, st, safetensors_find(st, "blocks.0.mlp.W_gate") != NULL, err, errsz);
    if (rc == 0)
        rc = check_tensors(m, err, errsz);
    if (rc == 0)
        rc = check_unembed(m, err, errsz);
    if (rc == 0)
        rc = check_embed(m, err, errsz);
    if (rc != 0) {
        tmodel_close(m);
        return rc;
    }
    *out = m;
    return 0;
}

int tmodel_open(tmodel_t **out, const char *path, char *err, size_t errsz)
{
    safetensors_t *st;
    *out = NULL;
    int rc = safetensors_open(&st, path, err, errsz);
    return rc != 0 ? rc : tmodel_init(out, st, err, errsz);
}

int tmodel_open_buffer(tmodel_t **out, const void *data, size_t size, const char *label, char *err,
                       size_t errsz)
{
    safetensors_t *st;
    *out = NULL;
    int rc = safetensors_open_buffer(&st, data, size, label, err, errsz);
    return rc != 0 ? rc : tmodel_init(out, st, err, errsz);
}

void tmodel_close(tmodel_t *m)
{
    if (!m)
        return;
    safetensors_close(m->st);
    free(m);
}

const tmodel_config_t *tmodel_config(const tmodel_t *m)
{
    return &m->cfg;
}
const safetensors_t *tmodel_file(const tmodel_t *m)
{
    return m->st;
}

int tmodel_read(double *out, const tmodel_t *m, int64_t layer, tmodel_param_t p, char *err,
                size_t errsz)
{
    char name[96];
    tmodel_param_name(name, sizeof name, layer, p);
    int ok = tmodel_has(m, p) && layer >= 0 && layer < m->cfg.n_layers;
    const tensor_view_t *v = ok ? safetensors_find(m->st, name) : NULL;
    if (!v && ok && is_bias(p)) {
        for (uint64_t k = 0; k < tmodel_param_numel(m, p); k++)
            out[k] = 0; /* an absent bias is zero, exactly */
        return 0;
    }
    if (!v)
        return tensor_fail(err, errsz, EXIT_DATAERR, safetensors_source(m->st),
                           "model has no tensor '%s'", name);
    return tensor_view_read_f64(out, v, err, errsz);
}

char *tmodel_config_json(const tmodel_config_t *c)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = json_object_set_new(o, "d_model", json_integer(c->d_model)) ||
              json_object_set_new(o, "n_layers", json_integer(c->n_layers)) ||
              json_object_set_new(o, "n_heads", json_integer(c->n_heads)) ||
              json_object_set_new(o, "d_head", json_integer(c->d_head)) ||
              json_object_set_new(o, "d_mlp", json_integer(c->d_mlp)) ||
              json_object_set_new(o, "act_fn", json_string(c->act_fn)) ||
              json_object_set_new(o, "normalization_type",
                                  c->normalization == TMODEL_NORM_NONE
                                      ? json_null()
                                      : json_string(tmodel_norm_name(c->normalization))) ||
              json_object_set_new(o, "final_rms",
                                  json_boolean(c->final_norm != c->normalization)) ||
              json_object_set_new(o, "eps", json_real(c->eps)) ||
              json_object_set_new(o, "eps_final", json_real(c->eps_final)) ||
              json_object_set_new(o, "attn_scale", json_real(c->attn_scale)) ||
              json_object_set_new(o, "attention_dir",
                                  json_string(c->causal ? "causal" : "bidirectional")) ||
              json_object_set_new(o, "gated_mlp", json_boolean(c->gated_mlp)) ||
              json_object_set_new(o, "parallel_attn_mlp", json_boolean(c->parallel_attn_mlp));
    char *s = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    json_decref(o);
    return s;
}
