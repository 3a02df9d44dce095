/* attention-only (Theorem 6).  A decoder-only transformer of L blocks (H
 * causal heads, then a SiLU_a MLP; no LayerNorm) equals an attention-only
 * transformer of 2L layers on the bias-token stream: odd layers are the
 * original heads padded with a zero row/column for the bias coordinate,
 * with the causal mask on real tokens, real tokens never attending to the
 * bias token and the bias token attending only to itself (its value is 0,
 * so its row stays e_{d+1}); even layers are the l neuron heads of
 * mlp-layer with mask B. */
#include <stdlib.h>
#include "aonet.h"
#include "attention_only.h"
#include "xalloc.h"

void tf_model_random(tf_model_t *m, long d, long l, long H, long r, long L,
                     gmp_randstate_t st)
{
    m->d = d;
    m->l = l;
    m->H = H;
    m->r = r;
    m->L = L;
    m->blocks = xmallocarray((size_t)L, sizeof *m->blocks);
    for (long b = 0; b < L; b++) {
        block_struct *B = m->blocks + b;
        block_init(B, d, r, H, l);
        for (long h = 0; h < H; h++) {
            thm_rand_weights(B->heads[h].W_Q, st, d);
            thm_rand_weights(B->heads[h].W_K, st, d);
            thm_rand_weights(B->heads[h].W_V, st, d);
            thm_rand_weights(B->heads[h].W_O, st, r * H);
        }
        thm_rand_weights(B->W_in, st, d);
        thm_rand_weights(B->W_out, st, l);
    }
}

void tf_model_clear(tf_model_t *m)
{
    for (long b = 0; b < m->L; b++)
        block_clear(m->blocks + b);
    free(m->blocks);
}

void tf_model_apply(imat_t X, const tf_model_t *m, ival_act_fn phi, const void *ctx,
                    mpfr_prec_t prec)
{
    mask_t C;
    mask_causal(&C, X->rows);
    for (long b = 0; b < m->L; b++)
        block_apply(X, m->blocks + b, &C, phi, ctx, prec);
    mask_clear(&C);
}

void tf_instance(imat_t X, tf_model_t *m, long d, long l, long n, long H, long r, long L,
                 unsigned long seed)
{
    gmp_randstate_t st;
    thm_rand_init(st, seed, 5);
    imat_init(X, n, d);
    imat_randtest_dyadic(X, st, WEIGHT_BITS);
    tf_model_random(m, d, l, H, r, L, st);
    /* first-block heads whose values x W_V are all 0 leave every output of
     * that layer 0, whatever they attend to: no mask break could show;
     * their W_V is drawn again (the next from st) */
    for (long h = 0; h < H; h++)
        while (thm_all_zero_product(X, m->blocks[0].heads[h].W_V))
            thm_rand_weights(m->blocks[0].heads[h].W_V, st, d);
    gmp_randclear(st);
}

void tf_reference(imat_t ref, const imat_t X, const tf_model_t *m, ival_act_fn phi,
                  const void *ctx, mpfr_prec_t prec)
{
    imat_t Y;
    imat_init(Y, X->rows, X->cols);
    imat_set(Y, X);
    tf_model_apply(Y, m, phi, ctx, prec);
    thm_bias_stream(ref, Y);
    imat_clear(Y);
}

void attn_only_from_model(attn_only_t *A, const tf_model_t *m, const arb_t a, long n,
                          int mutation, mpfr_prec_t prec)
{
    long N = n + 1;
    (void)prec;
    /* the masks are the rules the model conversion uses (aonet.h): causal on
     * real tokens, never the bias token, the bias token sees itself (odd
     * layers); self and bias token, mask B (even layers) */
    aonet_mask_build(&A->odd_mask,
                     mutation == TF_MUT_BIAS_VISIBLE ? AONET_MASK_CAUSAL : AONET_MASK_REAL_CAUSAL, N);
    aonet_mask_build(&A->even_mask,
                     mutation == TF_MUT_MLP_CAUSAL ? AONET_MASK_CAUSAL : AONET_MASK_SELF_BIAS, N);
    A->n_layers = 2 * m->L;
    A->layers = xmallocarray((size_t)A->n_layers, sizeof *A->layers);
    for (long b = 0; b < m->L; b++) {
        attn_only_layer_t *odd = A->layers + 2 * b, *even = A->layers + 2 * b + 1;
        /* the original heads, padded with a zero row/column for the bias coordinate */
        odd->mask = &A->odd_mask;
        attn_heads_source(&odd->src, m->blocks[b].heads, m->H, odd->mask);
        even->mask = &A->even_mask;
        thm_neuron_source(&even->src, &even->neurons, a, m->blocks[b].W_in, m->blocks[b].W_out,
                          even->mask);
    }
}

void attn_only_apply(imat_t Xh, const attn_only_t *A, mpfr_prec_t prec)
{
    for (long k = 0; k < A->n_layers; k++)
        attn_layer_sum(Xh, Xh, &A->layers[k].src, 1, 1, prec);
}

void attn_only_clear(attn_only_t *A)
{
    mask_clear(&A->odd_mask);
    mask_clear(&A->even_mask);
    free(A->layers);
}

int tf_get_shape(long *dims, long *H, long *r, long *L, row_t *rw)
{
    if (thm_get_shape(dims, 3, rw) != 0 || thm_get_size(H, rw, "heads", 1) != 0 ||
        thm_get_size(r, rw, "d_head", 1) != 0 || thm_get_size(L, rw, "blocks", 1) != 0)
        return -1;
    return 0;
}

int tf_params_sizes(long *dims, long *H, long *r, long *L, const params_t *p)
{
    const char *shape = params_get(p, "shape");
    if (!shape || thm_parse_dims(dims, 3, shape) != 3 || params_get_long(H, p, "heads") != 0 ||
        params_get_long(r, p, "d_head") != 0 || params_get_long(L, p, "blocks") != 0)
        return -1;
    long v[6] = {dims[0], dims[1], dims[2], *H, *r, *L};
    for (int k = 0; k < 6; k++)
        if (v[k] < 1 || v[k] > THM_SIZE_MAX)
            return -1;
    return 0;
}

double tf_estimate_bytes(const params_t *p, mpfr_prec_t prec)
{
    long dims[3], H, r, L;
    if (tf_params_sizes(dims, &H, &r, &L, p) != 0)
        return 0; /* the row refuses it */
    long d = dims[0], l = dims[1], n = dims[2];
    double B = ball_bytes(prec), S = THM_EXACT_BALL_BYTES;
    double dd = (double)d, dl = (double)l, dn = (double)n, N = dn + 1, D = dd + 1;
    /* weights: per block H heads (W_Q, W_K, W_V, W_O) and the MLP */
    double weights = (double)L * (4 * (double)H * dd * (double)r + 2 * dd * dl) * S + dn * dd * S;
    /* the model's causal mask and the stack's two masks (keys and row tables) */
    double masks = (dn * (dn + 1) / 2 + N * (N + 1) / 2 + 2 * N + 6 * N) * sizeof(long);
    /* the model's stream and its copy, X^, the reference and the construction */
    double streams = 2 * dn * dd * B + 3 * N * D * B;
    attn_source_t orig = {.n_heads = H, .r = r}, neurons = {.n_heads = l, .r = 1};
    double work = mlp_apply_bytes(n, d, l, d, prec), w;
    if ((w = attn_layer_bytes(&orig, 1, d, n, prec)) > work)
        work = w;
    if ((w = attn_layer_bytes(&orig, 1, d + 1, n + 1, prec)) > work)
        work = w;
    if ((w = attn_layer_bytes(&neurons, 1, d + 1, n + 1, prec)) > work)
        work = w;
    return THM_EST_BASE_BYTES + weights + masks + streams + work;
}

void tf_instance_orig(instance_t *I, const imat_t X, const tf_model_t *m, const arb_t a,
                      mpfr_prec_t prec)
{
    onet_clear(&I->orig);
    I->orig.D = m->d;
    for (long b = 0; b < m->L; b++) {
        aonet_layer_t Lh;
        aonet_layer_init(&Lh, 1);
        aonet_group_from_heads(Lh.groups, "heads", m->blocks[b].heads, m->H, AONET_MASK_CAUSAL,
                               prec);
        onet_add_layer(&I->orig, &Lh);
        aonet_layer_clear(&Lh);
        onet_add_mlp(&I->orig, m->blocks[b].W_in, m->blocks[b].W_out);
    }
    arb_set(I->orig.a, a);
    snprintf(I->orig.what, sizeof I->orig.what, "the transformer: causal heads, then "
             "X + SiLU_a(X W_in) W_out, per block");
    instance_orig_in(I, X, 1);
}

static int build(imat_t ref, imat_t con, instance_t *I, row_t *r, mpfr_prec_t prec)
{
    long dims[3], H, rh, L;
    arb_t a;
    if (tf_get_shape(dims, &H, &rh, &L, r) != 0)
        return -1;
    arb_init(a);
    if (thm_get_slope(a, r) != 0) {
        arb_clear(a);
        return -1;
    }
    long d = dims[0], l = dims[1], n = dims[2];
    if (r->mutation == TF_MUT_MLP_CAUSAL && n < 2) {
        snprintf(r->note, sizeof r->note, "the mlp-causal mutation needs n >= 2 tokens (with "
                 "one, the causal mask is mask B)");
        arb_clear(a);
        return -1;
    }
    imat_t X;
    tf_model_t m;
    tf_instance(X, &m, d, l, n, H, rh, L, r->seed);
    thm_silu_track_t track;
    thm_silu_track_init(&track, a);
    tf_reference(ref, X, &m, thm_silu_a_tracked, &track, prec);
    thm_silu_track_resolve(r, &track);
    thm_silu_track_clear(&track);

    attn_only_t A;
    attn_only_from_model(&A, &m, a, n, r->mutation, prec);
    thm_bias_stream(con, X);
    if (I) {
        snprintf(I->note, sizeof I->note,
                 "blocks b: X <- X + sum_h head_bh(X) (causal), X <- X + SiLU_a(X W_in_b) W_out_b; "
                 "reference = [[0,1],[model(X),0]]; construction = 2L attention-only layers on X_hat");
        instance_add(I, "X", X);
        instance_add(I, "X_hat", con);
        for (long b = 0; b < L && I->n + 4 * H + 2 < INSTANCE_MAX_MATS - 2; b++) {
            char name[48];
            for (long h = 0; h < H; h++) {
                const attn_head_struct *hd = m.blocks[b].heads + h;
                const imat_struct *w[4] = {hd->W_Q, hd->W_K, hd->W_V, hd->W_O};
                const char *wn[4] = {"W_Q", "W_K", "W_V", "W_O"};
                for (int k = 0; k < 4; k++) {
                    snprintf(name, sizeof name, "block%d.head%d.%s", (int)b, (int)h, wn[k]);
                    instance_add(I, name, w[k]);
                }
            }
            snprintf(name, sizeof name, "block%d.W_in", (int)b);
            instance_add(I, name, m.blocks[b].W_in);
            snprintf(name, sizeof name, "block%d.W_out", (int)b);
            instance_add(I, name, m.blocks[b].W_out);
        }
    }
    if (I) {
        for (long k = 0; k < A.n_layers; k++)
            instance_net_source(I, &A.layers[k].src, d + 1, prec);
        instance_net_io(I, con, ref, THM_LAYOUT_BIAS);
        tf_instance_orig(I, X, &m, a, prec);
    }
    attn_only_apply(con, &A, prec);
    row_add_long(r, "heads/block", H + l);
    row_add_long(r, "layers", 2 * L);
    r->depth = (int)(2 * L);
    row_add_long(r, "width", d + 1);
    attn_only_clear(&A);
    tf_model_clear(&m);
    imat_clear(X);
    arb_clear(a);
    return 0;
}

static int run(row_t *r) { return thm_exact_run(r, build); }

/* The rule's instance part from the reference alone (the original
 * transformer at width d, where build meets every SiLU_a input), and the
 * depth build sets. */
static int predict_visit(row_t *r, thm_silu_track_t *track)
{
    long dims[3], H, rh, L;
    if (tf_get_shape(dims, &H, &rh, &L, r) != 0)
        return -1;
    imat_t X, ref;
    tf_model_t m;
    tf_instance(X, &m, dims[0], dims[1], dims[2], H, rh, L, r->seed);
    imat_init(ref, 0, 0);
    tf_reference(ref, X, &m, thm_silu_a_tracked, track, r->prec);
    r->depth = (int)(2 * L);
    tf_model_clear(&m);
    imat_clear(ref);
    imat_clear(X);
    return 0;
}

static int predict(row_t *r) { return thm_predict(r, predict_visit); }

static int export_instance(instance_t *I, const params_t *p, unsigned long seed, mpfr_prec_t prec)
{
    return thm_exact_export(I, p, seed, prec, build);
}

const claim_t claim_attention_only = {
    .id = "attention-only",
    .source = "Theorem 6",
    .kind = KIND_EXACT,
    .provenance = "paper (construction derived)",
    .statement = "A decoder-only transformer of L blocks (H causal heads + SiLU_a MLP, no "
                 "LayerNorm) equals an attention-only transformer of 2L layers on the "
                 "bias-token stream, with H + l heads per block.",
    .formula = "Original block: X ← X + Σ_h h(X) (mask C), X ← X + SiLU_a(X W_in) W_out.\n"
               "Odd layers: the original heads, weights padded with a zero row/column for the "
               "bias coordinate; mask C on real tokens, real tokens never attend to the bias "
               "token, the bias token attends only to itself.\n"
               "Even layers: the l neuron heads of mlp-layer, mask B.\n"
               "Claim: the last stream is [[0, 1], [original output, 0]]. E = max over all n + 1 "
               "rows of ‖Y_i − Y′_i‖₂, the bias row included (it must stay e_{d+1}). "
               "Shape = d x l x n; heads = H, d_head = r, blocks = L. Weights are dyadic, "
               "scaled by ~1/√fan-in as in trained models (unit-scale weights make deep stacks "
               "amplify rounding beyond any fixed slack).",
    .notes = "No LayerNorm: none of the constructions covers it. Causal heads use τ = 1.",
    .quick = {{"quick", {{"prec", "53,113,256,1024,4096"}, {"a", "0.5,1,1.702,8,64"},
                         {"shape", "2x3x3,4x6x4,6x8x5"}, {"heads", "2"}, {"d_head", "2"},
                         {"blocks", "2"}, {"seed", "1,2,3"}, {NULL, NULL}}}},
    .full = {{"full", {{"prec", "53,256,1024"}, {"a", "1,1.702,8"},
                       {"shape", "8x16x8,32x64x16,64x256x64"}, {"heads", "1,4"},
                       {"d_head", "4"}, {"blocks", "1,4"}, {"seed", "1,2"}, {NULL, NULL}}}},
    .mutations = {{"bias-visible", "odd layers use the plain causal mask: real tokens attend to the bias token"},
                  {"mlp-causal", "even layers use the causal mask instead of B"},
                  {NULL, NULL}},
    .plots = {{.x = "prec", .y = "slack used", .series = "blocks", .logx = 1, .extra_y = "kappa",
               .title = "bits of slack used against p (max over a, shapes and seeds)"}},
    .run = run,
    .predict = predict,
    .export_instance = export_instance,
    .estimate_bytes = tf_estimate_bytes,
};
