/* The model loader: configs in either metadata form, every tensor read back
 * exactly, and one line naming the problem for each broken model. */
#include <math.h>
#include <unistd.h>
#include "exitcodes.h"
#include "modelio_testutil.h"
#include "tensorload.h"
#include "tmodel.h"

/* A small model: d_model 4, 2 layers, 2 heads of 3, d_mlp 5. */
enum { D = 4, L = 2, H = 2, E = 3, M = 5 };
#define SENTINEL 12345.6875 /* a value written once, to be damaged in place */

typedef struct {
    const char *omit;      /* a tensor left out */
    const char *reshape;   /* a tensor given one extra row */
    int ln;                /* write LN tensors (2: the weights .w only, as RMSNorm) */
    int gate;              /* write W_gate */
    int layers;            /* blocks written */
    const char *const *mk; /* metadata */
    const char *const *mv;
    size_t n_meta;
} model_spec_t;

/* The value of element i of tensor number k (dyadic, so exact everywhere). */
static double param_value(size_t k, size_t i)
{
    return ldexp((double)((k * 131 + i * 17) % 1009) - 500.0, -7);
}

static const struct {
    const char *suffix;
    size_t ndim;
    uint64_t shape[3];
    int per_layer, is_ln, is_gate;
} layout[] = {
    {"ln1.w", 1, {D}, 1, 1, 0},         {"ln1.b", 1, {D}, 1, 1, 0},
    {"ln2.w", 1, {D}, 1, 1, 0},         {"ln2.b", 1, {D}, 1, 1, 0},
    {"attn.W_Q", 3, {H, D, E}, 1, 0, 0}, {"attn.W_K", 3, {H, D, E}, 1, 0, 0},
    {"attn.W_V", 3, {H, D, E}, 1, 0, 0}, {"attn.b_Q", 2, {H, E}, 1, 0, 0},
    {"attn.b_K", 2, {H, E}, 1, 0, 0},    {"attn.b_V", 2, {H, E}, 1, 0, 0},
    {"attn.W_O", 3, {H, E, D}, 1, 0, 0}, {"attn.b_O", 1, {D}, 1, 0, 0},
    {"mlp.W_in", 2, {D, M}, 1, 0, 0},    {"mlp.b_in", 1, {M}, 1, 0, 0},
    {"mlp.W_gate", 2, {D, M}, 1, 0, 1},  {"mlp.W_out", 2, {M, D}, 1, 0, 0},
    {"mlp.b_out", 1, {D}, 1, 0, 0},      {"ln_final.w", 1, {D}, 0, 1, 0},
    {"ln_final.b", 1, {D}, 0, 1, 0},
};
#define N_LAYOUT (sizeof layout / sizeof layout[0])

/* Tensor number k of the layout, for layer l, has global index l*N_LAYOUT+k. */
static void write_model(const char *path, const model_spec_t *s)
{
    enum { MAXT = 4 * N_LAYOUT + 2 };
    safetensors_entry_t t[MAXT] = {{0}};
    char names[MAXT][48];
    uint64_t shapes[MAXT][3];
    double *data[MAXT];
    size_t n = 0;
    for (int l = 0; l < s->layers; l++)
        for (size_t k = 0; k < N_LAYOUT; k++) {
            if ((layout[k].is_ln && (!s->ln || (s->ln == 2 && layout[k].suffix[strlen(
                                              layout[k].suffix) - 1] == 'b'))) ||
                (layout[k].is_gate && !s->gate) ||
                (!layout[k].per_layer && l > 0))
                continue;
            if (layout[k].per_layer)
                snprintf(names[n], sizeof names[n], "blocks.%d.%s", l, layout[k].suffix);
            else
                snprintf(names[n], sizeof names[n], "%s", layout[k].suffix);
            if (s->omit && strcmp(s->omit, names[n]) == 0)
                continue;
            memcpy(shapes[n], layout[k].shape, sizeof shapes[n]);
            if (s->reshape && strcmp(s->reshape, names[n]) == 0)
                shapes[n][0]++;
            size_t numel = 1;
            for (size_t d = 0; d < layout[k].ndim; d++)
                numel *= shapes[n][d];
            data[n] = malloc(numel * sizeof(double));
            ck_assert_ptr_nonnull(data[n]);
            for (size_t i = 0; i < numel; i++)
                data[n][i] = param_value((size_t)l * N_LAYOUT + k, i);
            if (l == 0 && k == 11)
                data[n][1] = SENTINEL; /* blocks.0.attn.b_O[1] */
            t[n] = (safetensors_entry_t){names[n], layout[k].ndim, shapes[n], data[n]};
            n++;
        }
    char err[512];
    ck_assert_msg(safetensors_write_f64(path, t, n, s->mk, s->mv, s->n_meta, err, sizeof err) == 0,
                  "%s", err);
    for (size_t i = 0; i < n; i++)
        free(data[i]);
}

static const char *const cfg_full[] = {
    "config",
    "{\"d_model\":4,\"n_layers\":2,\"n_heads\":2,\"d_head\":3,\"d_mlp\":5,\"act_fn\":\"silu\","
    "\"normalization_type\":\"LN\",\"eps\":1e-5,\"eps_final\":1e-6,\"attn_scale\":3.872983346207417,"
    "\"attention_dir\":\"bidirectional\",\"original_architecture\":\"SVTR\",\"d_vocab\":6625}"};

/* Every tensor of a full config reads back exactly; the config as given. */
START_TEST(test_load_full)
{
    char path[300], err[512];
    static const char *mk[] = {"config"}, *mv[] = {NULL};
    mv[0] = cfg_full[1];
    model_spec_t s = {NULL, NULL, 1, 0, L, mk, mv, 1};
    write_model(mio_path(path, sizeof path, "m.safetensors"), &s);
    tmodel_t *m;
    ck_assert_msg(tmodel_open(&m, path, err, sizeof err) == 0, "%s", err);
    const tmodel_config_t *c = tmodel_config(m);
    ck_assert_int_eq(c->d_model, D);
    ck_assert_int_eq(c->n_layers, L);
    ck_assert_int_eq(c->n_heads, H);
    ck_assert_int_eq(c->d_head, E);
    ck_assert_int_eq(c->d_mlp, M);
    ck_assert_str_eq(c->act_fn, "silu");
    ck_assert_int_eq(c->normalization, TMODEL_NORM_LN);
    ck_assert(c->eps == 1e-5 && c->eps_final == 1e-6 && c->attn_scale == 3.872983346207417);
    ck_assert_int_eq(c->causal, 0);
    ck_assert_int_eq(c->gated_mlp, 0);
    ck_assert_int_eq(tmodel_has(m, TMODEL_W_GATE), 0);
    double buf[64];
    for (int l = 0; l < L; l++)
        for (size_t k = 0; k < N_LAYOUT; k++) {
            tmodel_param_t p = (tmodel_param_t)k;
            if (!tmodel_has(m, p) || (!layout[k].per_layer && l > 0))
                continue;
            uint64_t shape[3];
            size_t nd = tmodel_param_shape(shape, m, p);
            ck_assert_uint_eq(nd, layout[k].ndim);
            uint64_t numel = tmodel_param_numel(m, p);
            ck_assert_int_eq(tmodel_read(buf, m, l, p, err, sizeof err), 0);
            for (uint64_t i = 0; i < numel; i++) {
                double want = (l == 0 && k == 11 && i == 1)
                                  ? SENTINEL : param_value((size_t)l * N_LAYOUT + k, i);
                ck_assert_msg(buf[i] == want, "layer %d %s[%llu]", l, layout[k].suffix,
                              (unsigned long long)i);
            }
        }
    ck_assert_int_eq(tmodel_read(buf, m, 2, TMODEL_W_Q, err, sizeof err), EXIT_DATAERR);
    ck_assert_int_eq(tmodel_read(buf, m, 0, TMODEL_W_GATE, err, sizeof err), EXIT_DATAERR);
    /* the config's own JSON reads back to the same config */
    char *json = tmodel_config_json(c);
    ck_assert_ptr_nonnull(json);
    mv[0] = json;
    write_model(mio_path(path, sizeof path, "m2.safetensors"), &s);
    tmodel_t *m2;
    ck_assert_msg(tmodel_open(&m2, path, err, sizeof err) == 0, "%s", err);
    ck_assert(memcmp(tmodel_config(m2), c, sizeof *c) == 0);
    free(json);
    tmodel_close(m2);
    tmodel_close(m);
}
END_TEST

/* One key per field, only the required ones: TransformerLens defaults. */
START_TEST(test_per_key_defaults)
{
    char path[300], err[512];
    static const char *mk[] = {"d_model", "n_layers", "n_heads", "d_head", "d_mlp", "act_fn",
                               "format"},
                      *mv[] = {"4", "2", "2", "3", "5", "gelu_new", "pt"};
    model_spec_t s = {NULL, NULL, 1, 1, L, mk, mv, 7};
    write_model(mio_path(path, sizeof path, "k.safetensors"), &s);
    tmodel_t *m;
    ck_assert_msg(tmodel_open(&m, path, err, sizeof err) == 0, "%s", err);
    const tmodel_config_t *c = tmodel_config(m);
    ck_assert_str_eq(c->act_fn, "gelu_new");
    ck_assert_int_eq(c->normalization, TMODEL_NORM_LN);
    ck_assert(c->eps == 1e-5 && c->eps_final == 1e-5 && c->attn_scale == sqrt(3.0));
    ck_assert_int_eq(c->causal, 1);
    ck_assert_int_eq(c->gated_mlp, 1); /* W_gate is there */
    double buf[64];
    ck_assert_int_eq(tmodel_read(buf, m, 1, TMODEL_W_GATE, err, sizeof err), 0);
    tmodel_close(m);
}
END_TEST

/* LNPre and none: no LN tensors needed; both forms at once, agreeing. */
START_TEST(test_no_ln_and_both_forms)
{
    char path[300], err[512];
    static const char *mk[] = {"config", "normalization_type", "d_model"},
                      *mv[] = {"{\"d_model\":4,\"n_layers\":2,\"n_heads\":2,\"d_head\":3,"
                               "\"d_mlp\":5,\"act_fn\":\"relu\",\"normalization_type\":null,"
                               "\"eps\":\"1e-5\"}",
                               "None", "4"};
    model_spec_t s = {NULL, NULL, 0, 0, L, mk, mv, 3};
    write_model(mio_path(path, sizeof path, "n.safetensors"), &s);
    tmodel_t *m;
    ck_assert_msg(tmodel_open(&m, path, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(tmodel_config(m)->normalization, TMODEL_NORM_NONE);
    ck_assert_int_eq(tmodel_has(m, TMODEL_LN1_W), 0);
    ck_assert_int_eq(tmodel_has(m, TMODEL_LN_FINAL_B), 0);
    tmodel_close(m);
}
END_TEST

#define CFG(extra) \
    "{\"d_model\":4,\"n_layers\":2,\"n_heads\":2,\"d_head\":3,\"d_mlp\":5,\"act_fn\":\"silu\"" \
    extra "}"

static const struct {
    const char *what;
    const char *config;   /* "config" metadata, or NULL */
    const char *key, *value; /* one more metadata key, or NULL */
    const char *omit, *reshape;
    int gate, layers;
    const char *expect;
} broken[] = {
    {"no config", NULL, NULL, NULL, NULL, NULL, 0, L, "config lacks d_model"},
    {"config not JSON", "{d_model:4}", NULL, NULL, NULL, NULL, 0, L, "not valid JSON"},
    {"config a list", "[4]", NULL, NULL, NULL, NULL, 0, L, "not a JSON object"},
    /* TransformerLens's default d_mlp is 4 d_model = 16 */
    {"missing d_mlp", "{\"d_model\":4,\"n_layers\":2,\"n_heads\":2,\"d_head\":3,\"act_fn\":\"silu\"}",
     NULL, NULL, NULL, NULL, 0, L, "has shape [4, 5], the config says [4, 16]"},
    {"d_model 0", NULL, "d_model", "0", NULL, NULL, 0, L, "d_model is not an integer"},
    {"d_model -4", NULL, "d_model", "-4", NULL, NULL, 0, L, "d_model is not an integer"},
    {"d_model twice", CFG(",\"d_model\":4.0"), NULL, NULL, NULL, NULL, 0, L,
     "duplicate object key"},
    {"d_model real", "{\"d_model\":4.5,\"n_layers\":2,\"n_heads\":2,\"d_head\":3,\"d_mlp\":5,"
     "\"act_fn\":\"silu\"}", NULL, NULL, NULL, NULL, 0, L, "d_model is not an integer"},
    {"d_model list", "{\"d_model\":[4],\"n_layers\":2,\"n_heads\":2,\"d_head\":3,\"d_mlp\":5,"
     "\"act_fn\":\"silu\"}", NULL, NULL, NULL, NULL, 0, L, "wrong JSON type"},
    {"d_model 2^63", NULL, "d_model", "9223372036854775808", NULL, NULL, 0, L, "not an integer"},
    {"act_fn swiglu", CFG(""), "act_fn", "swiglu", NULL, NULL, 0, L, "act_fn is not one of"},
    {"eps nan", CFG(""), "eps", "nan", NULL, NULL, 0, L, "eps is not a finite number"},
    {"eps 0", CFG(""), "eps", "0", NULL, NULL, 0, L, "eps is not a finite number"},
    {"eps 1e999", CFG(""), "eps", "1e999", NULL, NULL, 0, L, "eps is not a finite number"},
    {"attn_scale -2", CFG(",\"attn_scale\":-2"), NULL, NULL, NULL, NULL, 0, L, "attn_scale"},
    {"norm BN", CFG(",\"normalization_type\":\"BN\""), NULL, NULL, NULL, NULL, 0, L,
     "normalization_type is not"},
    {"direction", CFG(""), "attention_dir", "left", NULL, NULL, 0, L, "attention_dir is not"},
    {"gated maybe", CFG(""), "gated_mlp", "maybe", NULL, NULL, 0, L, "gated_mlp is not"},
    {"disagree", CFG(""), "d_model", "5", NULL, NULL, 0, L, "d_model disagrees"},
    {"missing W_out", CFG(""), NULL, NULL, "blocks.1.mlp.W_out", NULL, 0, L,
     "missing tensor 'blocks.1.mlp.W_out'"},
    {"b_O shape", CFG(""), NULL, NULL, NULL, "blocks.0.attn.b_O", 0, L,
     "'blocks.0.attn.b_O' has shape [5], the config says [4]"},
    {"missing ln_final", CFG(""), NULL, NULL, "ln_final.w", NULL, 0, L,
     "missing tensor 'ln_final.w'"},
    {"W_O shape", CFG(""), NULL, NULL, NULL, "blocks.0.attn.W_O", 0, L,
     "'blocks.0.attn.W_O' has shape [3, 3, 4], the config says [2, 3, 4]"},
    {"b_in shape", CFG(""), NULL, NULL, NULL, "blocks.1.mlp.b_in", 0, L,
     "'blocks.1.mlp.b_in' has shape [6]"},
    {"n_layers 1 of 2", NULL, "config",
     "{\"d_model\":4,\"n_layers\":1,\"n_heads\":2,\"d_head\":3,\"d_mlp\":5,\"act_fn\":\"silu\"}",
     NULL, NULL, 0, L, "'blocks.1.attn.W_Q' exists but the config says n_layers 1"},
    {"n_layers 10^18", NULL, "config",
     "{\"d_model\":4,\"n_layers\":1000000000000000000,\"n_heads\":2,\"d_head\":3,\"d_mlp\":5,"
     "\"act_fn\":\"silu\"}", NULL, NULL, 0, L, "missing tensor 'blocks.2.ln1.w'"},
    {"d_mlp 2^62", NULL, "config",
     "{\"d_model\":4,\"n_layers\":2,\"n_heads\":2,\"d_head\":3,\"d_mlp\":4611686018427387904,"
     "\"act_fn\":\"silu\"}", NULL, NULL, 0, L, "the config says [4, 4611686018427387904]"},
    {"gate denied", CFG(",\"gated_mlp\":false"), NULL, NULL, NULL, NULL, 1, L,
     "gated_mlp false but"},
    {"gate missing", CFG(",\"gated_mlp\":true"), NULL, NULL, NULL, NULL, 0, L,
     "missing tensor 'blocks.0.mlp.W_gate'"},
};

/* An absent attention or MLP bias (GPT-NeoX-style or bias-free models) reads
 * as zeros; the other tensors as written. */
START_TEST(test_optional_bias)
{
    static const char *const biases[] = {"blocks.1.mlp.b_out", "blocks.0.attn.b_Q",
                                         "blocks.1.attn.b_O", "blocks.0.mlp.b_in"};
    static const tmodel_param_t ps[] = {TMODEL_B_OUT, TMODEL_B_Q, TMODEL_B_O, TMODEL_B_IN};
    static const int layers[] = {1, 0, 1, 0};
    for (int b = 0; b < 4; b++) {
        char path[300], err[512];
        static const char *mk[] = {"config"}, *mv[] = {CFG("")};
        model_spec_t s = {biases[b], NULL, 1, 0, L, mk, mv, 1};
        write_model(mio_path(path, sizeof path, "o.safetensors"), &s);
        tmodel_t *m;
        ck_assert_msg(tmodel_open(&m, path, err, sizeof err) == 0, "%s: %s", biases[b], err);
        ck_assert(tmodel_has(m, ps[b]));
        double buf[64];
        for (int k = 0; k < 64; k++)
            buf[k] = 1;
        ck_assert_int_eq(tmodel_read(buf, m, layers[b], ps[b], err, sizeof err), 0);
        for (uint64_t i = 0; i < tmodel_param_numel(m, ps[b]); i++)
            ck_assert_msg(buf[i] == 0 && !signbit(buf[i]), "%s[%llu]", biases[b],
                          (unsigned long long)i);
        /* the same bias of the other layer is the file's */
        ck_assert_int_eq(tmodel_read(buf, m, 1 - layers[b], ps[b], err, sizeof err), 0);
        ck_assert(buf[0] == param_value((size_t)(1 - layers[b]) * N_LAYOUT + (size_t)ps[b], 0));
        tmodel_close(m);
    }
}
END_TEST

START_TEST(test_broken)
{
    char path[300], err[512];
    const char *mk[2], *mv[2];
    size_t nm = 0;
    if (broken[_i].config) {
        mk[nm] = "config";
        mv[nm++] = broken[_i].config;
    }
    if (broken[_i].key) {
        mk[nm] = broken[_i].key;
        mv[nm++] = broken[_i].value;
    }
    model_spec_t s = {broken[_i].omit, broken[_i].reshape, 1, broken[_i].gate, broken[_i].layers,
                      mk, mv, nm};
    write_model(mio_path(path, sizeof path, "b.safetensors"), &s);
    tmodel_t *m = (tmodel_t *)1;
    int rc = tmodel_open(&m, path, err, sizeof err);
    ck_assert_msg(rc == EXIT_DATAERR, "%s: rc %d", broken[_i].what, rc);
    ck_assert_ptr_null(m);
    mio_assert_one_line(err);
    ck_assert_msg(strstr(err, broken[_i].expect) != NULL, "%s: '%s' lacks '%s'", broken[_i].what,
                  err, broken[_i].expect);
}
END_TEST

/* Every config key is known: a key outside TransformerLens's
 * HookedTransformerConfig, or a value the conversion does not model, is
 * refused (65) with one line naming the key (and the value). */
static const struct {
    const char *what;
    const char *extra;     /* appended to the config object */
    const char *key, *value; /* or one metadata key, or NULL */
    const char *expect[2];
} refused[] = {
    {"unknown key", ",\"foo\":1", NULL, NULL,
     {"config key 'foo' is not a known TransformerLens config field", NULL}},
    {"unknown key null", ",\"rope_theta\":null", NULL, NULL, {"config key 'rope_theta'", NULL}},
    {"rotary", ",\"positional_embedding_type\":\"rotary\"", NULL, NULL,
     {"config key 'positional_embedding_type' is rotary", "rotate"}},
    {"rotary per key", "", "positional_embedding_type", "rotary",
     {"config key 'positional_embedding_type' is rotary", NULL}},
    {"alibi", ",\"positional_embedding_type\":\"alibi\"", NULL, NULL,
     {"'positional_embedding_type' is alibi", "ALiBi"}},
    {"shortformer", ",\"positional_embedding_type\":\"shortformer\"", NULL, NULL,
     {"'positional_embedding_type' is shortformer", NULL}},
    {"parallel not a bool", "", "parallel_attn_mlp", "maybe",
     {"parallel_attn_mlp is not true or false", NULL}},
    {"grouped K/V", ",\"n_key_value_heads\":1", NULL, NULL,
     {"config key 'n_key_value_heads' is 1 (n_heads 2)", "grouped"}},
    {"local attention", ",\"use_local_attn\":true,\"window_size\":2,"
     "\"attn_types\":[\"global\",\"local\"]", NULL, NULL,
     {"config key 'use_local_attn' is true", "window_size"}},
    {"attn only", ",\"attn_only\":true", NULL, NULL, {"config key 'attn_only' is true", NULL}},
    {"inverse layer idx", ",\"scale_attn_by_inverse_layer_idx\":true", NULL, NULL,
     {"'scale_attn_by_inverse_layer_idx' is true", NULL}},
    {"post embedding LN", ",\"post_embedding_ln\":true", NULL, NULL,
     {"'post_embedding_ln' is true", NULL}},
    {"Gemma 2 norms", ",\"use_normalization_before_and_after\":true", NULL, NULL,
     {"'use_normalization_before_and_after' is true", NULL}},
    {"experts", ",\"num_experts\":8,\"experts_per_token\":2", NULL, NULL,
     {"config key 'num_experts' is 8", "mixture-of-experts"}},
    {"T5 buckets", ",\"relative_attention_num_buckets\":32", NULL, NULL,
     {"'relative_attention_num_buckets' is 32", NULL}},
    {"soft cap", ",\"attn_scores_soft_cap\":50.0", NULL, NULL,
     {"'attn_scores_soft_cap' is 50", "tanh"}},
    {"output soft cap", ",\"output_logits_soft_cap\":30", NULL, NULL,
     {"'output_logits_soft_cap' is 30", NULL}},
    {"local as a list", ",\"use_local_attn\":[true]", NULL, NULL,
     {"config key 'use_local_attn' is an array", NULL}},
    {"near-name", ",\"act_fn_x\":1", NULL, NULL, {"'act_fn_x' is not a known", NULL}},
};

#define CFG_BASE \
    "{\"d_model\":4,\"n_layers\":2,\"n_heads\":2,\"d_head\":3,\"d_mlp\":5,\"act_fn\":\"silu\""

START_TEST(test_refused_keys)
{
    char path[300], err[512], config[600];
    snprintf(config, sizeof config, CFG_BASE "%s}", refused[_i].extra);
    const char *mk[2] = {"config", refused[_i].key}, *mv[2] = {config, refused[_i].value};
    model_spec_t s = {NULL, NULL, 1, 0, L, mk, mv, refused[_i].key ? 2 : 1};
    write_model(mio_path(path, sizeof path, "r.safetensors"), &s);
    tmodel_t *m = (tmodel_t *)1;
    int rc = tmodel_open(&m, path, err, sizeof err);
    ck_assert_msg(rc == EXIT_DATAERR, "%s: rc %d", refused[_i].what, rc);
    ck_assert_ptr_null(m);
    mio_assert_one_line(err);
    for (int k = 0; k < 2 && refused[_i].expect[k]; k++)
        ck_assert_msg(strstr(err, refused[_i].expect[k]) != NULL, "%s: '%s' lacks '%s'",
                      refused[_i].what, err, refused[_i].expect[k]);
}
END_TEST

/* Supported and harmless keys read, with what they mean. */
static const struct {
    const char *what;
    const char *extra;
    int ln;                  /* write ln*.w and ln*.b (2: ln*.w only) */
    tmodel_norm_t norm, final_norm;
    double attn_scale;       /* 0: sqrt(d_head) */
    int64_t n_heads, d_mlp;
    int parallel;            /* parallel_attn_mlp */
} supported[] = {
    {"RMS", ",\"normalization_type\":\"RMS\"", 2, TMODEL_NORM_RMS, TMODEL_NORM_RMS, 0, 2, 5, 0},
    {"RMSPre", ",\"normalization_type\":\"RMSPre\"", 0, TMODEL_NORM_RMSPRE, TMODEL_NORM_RMSPRE,
     0, 2, 5, 0},
    {"LN + final_rms", ",\"normalization_type\":\"LN\",\"final_rms\":true", 1, TMODEL_NORM_LN,
     TMODEL_NORM_RMS, 0, 2, 5, 0},
    {"LNPre + final_rms", ",\"normalization_type\":\"LNPre\",\"final_rms\":true", 0,
     TMODEL_NORM_LNPRE, TMODEL_NORM_RMSPRE, 0, 2, 5, 0},
    {"no attn scale", ",\"use_attn_scale\":false,\"attn_scale\":7", 1, TMODEL_NORM_LN,
     TMODEL_NORM_LN, 1, 2, 5, 0},
    {"attn_scale -1", ",\"attn_scale\":-1.0", 1, TMODEL_NORM_LN, TMODEL_NORM_LN, 0, 2, 5, 0},
    /* parallel attention+MLP: read, and converted as one layer per block */
    {"parallel", ",\"parallel_attn_mlp\":true", 1, TMODEL_NORM_LN, TMODEL_NORM_LN, 0, 2, 5, 1},
    {"parallel RMS", ",\"parallel_attn_mlp\":true,\"normalization_type\":\"RMS\"", 2,
     TMODEL_NORM_RMS, TMODEL_NORM_RMS, 0, 2, 5, 1},
    {"neutral values", ",\"positional_embedding_type\":\"standard\",\"parallel_attn_mlp\":false,"
     "\"n_key_value_heads\":2,\"use_local_attn\":false,\"attn_only\":false,\"num_experts\":null,"
     "\"attn_scores_soft_cap\":-1.0,\"output_logits_soft_cap\":0,\"rotary_dim\":null,"
     "\"final_rms\":null,\"scale_attn_by_inverse_layer_idx\":false,\"post_embedding_ln\":false",
     1, TMODEL_NORM_LN, TMODEL_NORM_LN, 0, 2, 5, 0},
    {"harmless metadata", ",\"model_name\":\"toy\",\"tokenizer_name\":null,\"seed\":42,"
     "\"dtype\":\"torch.float32\",\"device\":\"cpu\",\"n_devices\":1,\"init_mode\":\"gpt2\","
     "\"init_weights\":true,\"initializer_range\":0.02,\"n_ctx\":1024,\"d_vocab\":50257,"
     "\"d_vocab_out\":-1,\"original_architecture\":\"GPT2LMHeadModel\",\"n_params\":1,"
     "\"attn_types\":[\"global\",\"global\"],\"window_size\":null,\"use_attn_result\":false,"
     "\"use_split_qkv_input\":false,\"use_hook_mlp_in\":false,\"default_prepend_bos\":true,"
     "\"rotary_base\":10000,\"use_NTK_by_parts_rope\":false,\"tie_word_embeddings\":false,"
     "\"ungroup_grouped_query_attention\":false,\"checkpoint_index\":null",
     1, TMODEL_NORM_LN, TMODEL_NORM_LN, 0, 2, 5, 0},
};

START_TEST(test_supported_keys)
{
    char path[300], err[512], config[1600];
    snprintf(config, sizeof config, CFG_BASE "%s}", supported[_i].extra);
    const char *mk[1] = {"config"}, *mv[1] = {config};
    model_spec_t s = {NULL, NULL, supported[_i].ln, 0, L, mk, mv, 1};
    write_model(mio_path(path, sizeof path, "s.safetensors"), &s);
    tmodel_t *m = NULL;
    ck_assert_msg(tmodel_open(&m, path, err, sizeof err) == 0, "%s: %s", supported[_i].what, err);
    const tmodel_config_t *c = tmodel_config(m);
    ck_assert_int_eq(c->normalization, supported[_i].norm);
    ck_assert_int_eq(c->final_norm, supported[_i].final_norm);
    ck_assert(c->attn_scale == (supported[_i].attn_scale ? supported[_i].attn_scale : sqrt(3.0)));
    ck_assert_int_eq(c->n_heads, supported[_i].n_heads);
    ck_assert_int_eq(c->d_mlp, supported[_i].d_mlp);
    ck_assert_int_eq(c->parallel_attn_mlp, supported[_i].parallel);
    /* RMS kinds have a w (RMS) and never a b */
    int rms = c->normalization == TMODEL_NORM_RMS || c->normalization == TMODEL_NORM_RMSPRE;
    if (rms)
        ck_assert_int_eq(tmodel_has(m, TMODEL_LN1_B), 0);
    ck_assert_int_eq(tmodel_has(m, TMODEL_LN_FINAL_B), c->final_norm == TMODEL_NORM_LN);
    /* the config's own JSON reads back to the same config */
    char *json = tmodel_config_json(c);
    ck_assert_ptr_nonnull(json);
    mv[0] = json;
    write_model(mio_path(path, sizeof path, "s2.safetensors"), &s);
    tmodel_t *m2;
    ck_assert_msg(tmodel_open(&m2, path, err, sizeof err) == 0, "%s", err);
    ck_assert(memcmp(tmodel_config(m2), c, sizeof *c) == 0);
    free(json);
    tmodel_close(m2);
    tmodel_close(m);
}
END_TEST

/* parallel_attn_mlp as its own metadata key ("True", Python's spelling)
 * is read, and its JSON carries it. */
START_TEST(test_parallel_per_key)
{
    char path[300], err[512];
    const char *mk[2] = {"config", "parallel_attn_mlp"}, *mv[2] = {CFG(""), "True"};
    model_spec_t s = {NULL, NULL, 1, 0, L, mk, mv, 2};
    write_model(mio_path(path, sizeof path, "p.safetensors"), &s);
    tmodel_t *m = NULL;
    ck_assert_msg(tmodel_open(&m, path, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(tmodel_config(m)->parallel_attn_mlp, 1);
    char *json = tmodel_config_json(tmodel_config(m));
    ck_assert_ptr_nonnull(json);
    ck_assert_msg(strstr(json, "\"parallel_attn_mlp\":true") != NULL, "%s", json);
    free(json);
    tmodel_close(m);
    mv[1] = "False";
    write_model(mio_path(path, sizeof path, "p.safetensors"), &s);
    ck_assert_msg(tmodel_open(&m, path, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(tmodel_config(m)->parallel_attn_mlp, 0);
    tmodel_close(m);
}
END_TEST

/* Damage in place: a tensor's dtype changed to I64, or a NaN in a tensor,
 * is refused at open (before any work), naming the tensor. */
START_TEST(test_damaged_in_place)
{
    char path[300], err[512];
    static const char *mk[] = {"config"}, *mv[] = {CFG("")};
    model_spec_t s = {NULL, NULL, 1, 0, L, mk, mv, 1};
    write_model(mio_path(path, sizeof path, "d.safetensors"), &s);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    static unsigned char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    ck_assert_uint_lt(n, sizeof buf);
    /* the NaN first */
    double sentinel = SENTINEL, nan = NAN;
    unsigned char *p = NULL;
    for (size_t i = 0; i + 8 <= n && !p; i++)
        if (memcmp(buf + i, &sentinel, 8) == 0)
            p = buf + i;
    ck_assert_ptr_nonnull(p);
    memcpy(p, &nan, 8);
    mio_write_bytes(path, buf, n);
    tmodel_t *m;
    ck_assert_int_eq(tmodel_open(&m, path, err, sizeof err), EXIT_DATAERR);
    ck_assert_msg(strstr(err, "'blocks.0.attn.b_O': element 1 is NaN") != NULL, "%s", err);
    /* then the dtype */
    char *q = strstr((char *)buf + 8, "\"blocks.0.attn.b_Q\":{");
    ck_assert_ptr_nonnull(q);
    q = strstr(q, "\"F64\"");
    ck_assert_ptr_nonnull(q);
    q[1] = 'I';
    mio_write_bytes(path, buf, n);
    ck_assert_int_eq(tmodel_open(&m, path, err, sizeof err), EXIT_DATAERR);
    ck_assert_msg(strstr(err, "'blocks.0.attn.b_Q' has dtype I64") != NULL, "%s", err);
}
END_TEST

/* Models written by scripts/tlmodel.py (numpy) in each dtype, read by the
 * loader: every value equal to the one NumPy decodes, printed in hex.
 * Skipped, saying so, without Debian's numpy. */
START_TEST(test_python_written)
{
    if (!mio_have_python("numpy", "check_tmodel: models scripts/tlmodel.py wrote"))
        return;
    static const char *dtypes[] = {"F64", "F32", "F16", "BF16"};
    char script[300], cmd[1200], err[512], path[300], vals[300];
    mio_path(script, sizeof script, "w.py");
    FILE *f = fopen(script, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "import sys, numpy as np\n"
            "sys.path.insert(0, 'scripts')\n"
            "import tlmodel\n"
            "d, dt = sys.argv[1], sys.argv[2]\n"
            "r = np.random.default_rng(%lu)\n"
            "shapes = {'ln1.w': (4,), 'ln1.b': (4,), 'ln2.w': (4,), 'ln2.b': (4,),\n"
            "  'attn.W_Q': (2, 4, 3), 'attn.W_K': (2, 4, 3), 'attn.W_V': (2, 4, 3),\n"
            "  'attn.b_Q': (2, 3), 'attn.b_K': (2, 3), 'attn.b_V': (2, 3),\n"
            "  'attn.W_O': (2, 3, 4), 'attn.b_O': (4,), 'mlp.W_in': (4, 5), 'mlp.b_in': (5,),\n"
            "  'mlp.W_out': (5, 4), 'mlp.b_out': (4,)}\n"
            "t = {f'blocks.{l}.{k}': r.standard_normal(s) * 2.0 ** r.integers(-20, 8, s)\n"
            "     for l in range(2) for k, s in shapes.items()}\n"
            "t['ln_final.w'] = r.standard_normal(4); t['ln_final.b'] = np.array([0.0, -0.0, 1e-40, 3.0])\n"
            "t['embed.W_E'] = r.standard_normal((7, 4))\n"
            "meta = {'d_model': 4, 'n_layers': 2, 'n_heads': 2, 'd_head': 3, 'd_mlp': 5,\n"
            "        'act_fn': 'gelu', 'attention_dir': 'causal'}\n"
            "tlmodel.save_file(t, d + '/py.safetensors', meta, dtype=dt)\n"
            "back, _ = tlmodel.load_file(d + '/py.safetensors')\n"
            "with open(d + '/vals.txt', 'w') as out:\n"
            "    for name in sorted(t):\n"
            "        if not name.startswith('embed'):\n"
            "            out.write(name + ' ' + ' '.join(float(v).hex() for v in back[name].ravel()) + '\\n')\n",
            test_seed());
    fclose(f);
    for (int d = 0; d < 4; d++) {
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s' %s", script, mio_dir, dtypes[d]);
        ck_assert_int_eq(system(cmd), 0);
        tmodel_t *m;
        ck_assert_msg(tmodel_open(&m, mio_path(path, sizeof path, "py.safetensors"), err,
                                  sizeof err) == 0, "%s", err);
        ck_assert_str_eq(tmodel_config(m)->act_fn, "gelu");
        ck_assert_str_eq(safetensors_find(tmodel_file(m), "blocks.0.attn.W_Q")->dtype_name,
                         dtypes[d]);
        FILE *v = fopen(mio_path(vals, sizeof vals, "vals.txt"), "r");
        ck_assert_ptr_nonnull(v);
        char name[64], hex[64];
        int checked = 0;
        while (fscanf(v, "%63s", name) == 1) {
            tmodel_param_t p = TMODEL_N_PARAMS;
            long layer = 0;
            for (int k = 0; k < TMODEL_N_PARAMS; k++)
                for (long l = 0; l < L; l++) {
                    char want[64];
                    tmodel_param_name(want, sizeof want, l, (tmodel_param_t)k);
                    if (strcmp(want, name) == 0)
                        p = (tmodel_param_t)k, layer = l;
                }
            ck_assert_msg(p != TMODEL_N_PARAMS, "unknown %s", name);
            double x[64];
            ck_assert_int_eq(tmodel_read(x, m, layer, p, err, sizeof err), 0);
            for (uint64_t i = 0; i < tmodel_param_numel(m, p); i++) {
                ck_assert_int_eq(fscanf(v, "%63s", hex), 1);
                double want = strtod(hex, NULL);
                ck_assert_msg(memcmp(&x[i], &want, 8) == 0, "%s %s[%llu]: %a != %a", dtypes[d],
                              name, (unsigned long long)i, x[i], want);
                checked++;
            }
        }
        fclose(v);
        ck_assert_int_eq(checked, 2 * 183 + 8); /* every parameter value */
        tmodel_close(m);
    }
}
END_TEST

/* The fixtures of `make models`, when they are there. */
START_TEST(test_real_models)
{
    char err[512];
    tmodel_t *m;
    if (access("models/ppocrv4-svtr.safetensors", R_OK) != 0) {
        fprintf(stderr, "check_tmodel: models/ppocrv4-svtr.safetensors absent: skipped (run make models)\n");
    } else {
        ck_assert_msg(tmodel_open(&m, "models/ppocrv4-svtr.safetensors", err, sizeof err) == 0,
                      "%s", err);
        const tmodel_config_t *c = tmodel_config(m);
        ck_assert(c->d_model == 120 && c->n_layers == 2 && c->n_heads == 8 && c->d_head == 15 &&
                  c->d_mlp == 240 && !c->causal && !c->gated_mlp);
        ck_assert_str_eq(c->act_fn, "silu");
        /* the graph's float32 constants, as doubles */
        ck_assert(c->eps == (double)1e-5f && c->eps_final == (double)1e-6f);
        ck_assert(c->attn_scale == 1.0 / (double)0.2581989f);
        double *x = malloc(120 * 360 * sizeof *x);
        ck_assert_ptr_nonnull(x);
        for (int l = 0; l < 2; l++)
            for (int p = 0; p < TMODEL_N_PARAMS; p++)
                if (tmodel_has(m, (tmodel_param_t)p))
                    ck_assert_msg(tmodel_read(x, m, l, (tmodel_param_t)p, err, sizeof err) == 0,
                                  "%s", err);
        free(x);
        tmodel_close(m);
        tensor_f64_t in;
        ck_assert_msg(tensor_load(&in, "models/ppocrv4-svtr-input.npy", err, sizeof err) == 0,
                      "%s", err);
        ck_assert(in.ndim == 2 && in.shape[0] == 40 && in.shape[1] == 120);
        tensor_f64_clear(&in);
    }
    if (access("models/gpt2-shaped.safetensors", R_OK) != 0) {
        fprintf(stderr, "check_tmodel: models/gpt2-shaped.safetensors absent: skipped (run make models)\n");
        return;
    }
    ck_assert_msg(tmodel_open(&m, "models/gpt2-shaped.safetensors", err, sizeof err) == 0, "%s",
                  err);
    const tmodel_config_t *c = tmodel_config(m);
    ck_assert(c->d_model == 768 && c->n_layers == 12 && c->n_heads == 12 && c->d_head == 64 &&
              c->d_mlp == 3072 && c->causal && c->attn_scale == 8.0);
    ck_assert_str_eq(c->act_fn, "gelu_new");
    /* one layer's largest tensor, converted on demand */
    double *w = malloc(768 * 3072 * sizeof *w);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(tmodel_read(w, m, 11, TMODEL_W_OUT, err, sizeof err), 0);
    double ss = 0;
    for (size_t i = 0; i < 768 * 3072; i++)
        ss += w[i] * w[i];
    double std = sqrt(ss / (768 * 3072)), want = 0.02 / sqrt(24.0);
    ck_assert_msg(fabs(std / want - 1) < 0.01, "W_out std %g, stated %g", std, want);
    free(w);
    tmodel_close(m);
}
END_TEST

/* The extraction script on the cached ONNX model: it checks itself against
 * its interpreter of the graph (exit 0 only when the extracted model
 * reproduces it) and gives the same bytes every time. */
START_TEST(test_onnx_extraction)
{
    static const char onnx[] = "models/cache/ch_PP-OCRv4_rec_infer.onnx";
    if (access(onnx, R_OK) != 0 || access("models/ppocrv4-svtr.safetensors", R_OK) != 0) {
        fprintf(stderr, "check_tmodel: no cached ONNX model: extraction check skipped (run make models)\n");
        return;
    }
    if (!mio_have_python("onnx, numpy", "check_tmodel: the extraction check"))
        return;
    char out[300], cmd[1000];
    mio_path(out, sizeof out, "svtr.safetensors");
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 scripts/onnx_to_safetensors.py %s '%s' >/dev/null && "
             "cmp -s '%s' models/ppocrv4-svtr.safetensors", onnx, out, out);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

Suite *suite_tmodel(void)
{
    Suite *s = suite_create("tmodel");
    TCase *tc = tcase_create("loader");
    tcase_add_checked_fixture(tc, mio_tmp_setup, mio_tmp_teardown);
    tcase_add_test(tc, test_load_full);
    tcase_add_test(tc, test_per_key_defaults);
    tcase_add_test(tc, test_no_ln_and_both_forms);
    tcase_add_test(tc, test_optional_bias);
    tcase_add_loop_test(tc, test_broken, 0, (int)(sizeof broken / sizeof broken[0]));
    tcase_add_loop_test(tc, test_refused_keys, 0, (int)(sizeof refused / sizeof refused[0]));
    tcase_add_loop_test(tc, test_supported_keys, 0,
                        (int)(sizeof supported / sizeof supported[0]));
    tcase_add_test(tc, test_parallel_per_key);
    tcase_add_test(tc, test_damaged_in_place);
    tcase_add_test(tc, test_python_written);
    tcase_add_test(tc, test_real_models);
    tcase_add_test(tc, test_onnx_extraction);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
