/* mlp-layer (Theorem 3).  With phi = SiLU_a, one neuron head per hidden
 * unit k (w = W_in[:,k], u = W_out[k,:]) on the bias-token stream with
 * mask B: X^ + sum_k h_k(X^) = [[0, 1], [X + MLP(X), 0]].  Checked exactly
 * against the MLP computed directly. */
#include "thm_common.h"

enum { MUT_NONE, MUT_FLIP_WK, MUT_CAUSAL, MUT_DROP_HEAD };

/* The instance of seed: tokens X (n x d), W_in (d x l), W_out (l x d). */
static void draw(imat_t X, imat_t W_in, imat_t W_out, const long *dims, unsigned long seed)
{
    long d = dims[0], l = dims[1], n = dims[2];
    gmp_randstate_t st;
    thm_rand_init(st, seed, 2);
    imat_init(X, n, d);
    imat_init(W_in, d, l);
    imat_init(W_out, l, d);
    imat_randtest_dyadic(X, st, WEIGHT_BITS);
    imat_randtest_dyadic(W_in, st, WEIGHT_BITS);
    imat_randtest_dyadic(W_out, st, WEIGHT_BITS);
    /* the neurons the mutations touch (the first, the last) must be active on
     * some token, else no break of theirs could show: draw again if not */
    thm_nonzero_column(W_in, 0, X, st);
    thm_nonzero_column(W_in, l - 1, X, st);
    gmp_randclear(st);
}

static int build(imat_t ref, imat_t con, instance_t *I, row_t *r, mpfr_prec_t prec)
{
    long dims[3];
    arb_t a;
    if (thm_get_shape(dims, 3, r) != 0)
        return -1;
    arb_init(a);
    if (thm_get_slope(a, r) != 0) {
        arb_clear(a);
        return -1;
    }
    long d = dims[0], l = dims[1], n = dims[2];
    if (r->mutation == MUT_CAUSAL && n < 2) {
        snprintf(r->note, sizeof r->note, "the causal-mask mutation needs n >= 2 tokens (with "
                 "one, the causal mask is mask B)");
        arb_clear(a);
        return -1;
    }
    imat_t X, W_in, W_out, Y, Xh;
    draw(X, W_in, W_out, dims, r->seed);
    imat_init(Y, n, d);
    imat_init(Xh, 0, 0);

    /* reference: X + SiLU_a(X W_in) W_out, on the bias-token stream */
    thm_silu_track_t track;
    thm_silu_track_init(&track, a);
    mlp_apply(Y, X, W_in, W_out, thm_silu_a_tracked, &track, prec);
    thm_silu_track_resolve(r, &track);
    thm_silu_track_clear(&track);
    imat_add(Y, Y, X, prec);
    thm_bias_stream(ref, Y);

    /* construction: l heads of internal dimension 1, mask B, stacked and
     * streamed from W_in and W_out */
    thm_bias_stream(Xh, X);
    mask_t M;
    if (r->mutation == MUT_CAUSAL)
        mask_causal(&M, n + 1);
    else
        mask_self_bias(&M, n + 1);
    attn_source_t src;
    thm_neurons_t neurons;
    thm_neuron_source(&src, &neurons, a, W_in, W_out, &M);
    if (r->mutation == MUT_FLIP_WK)
        neurons.flip_wk = 0;
    if (r->mutation == MUT_DROP_HEAD)
        src.n_heads = l - 1;
    attn_layer_sum(con, Xh, &src, 1, 1, prec);

    if (I) {
        snprintf(I->note, sizeof I->note,
                 "reference = [[0,1],[X + SiLU_a(X W_in) W_out, 0]]; construction = X_hat + "
                 "sum_k h_k(X_hat), head k: W_Q = a[W_in[:,k];0], W_K = [0;-1], "
                 "W_V = [W_in[:,k];0], W_O = [W_out[k,:],0], mask B");
        instance_add(I, "X", X);
        instance_add(I, "W_in", W_in);
        instance_add(I, "W_out", W_out);
        instance_add(I, "X_hat", Xh);
        instance_orig_mlp(I, X, W_in, W_out, a, 1, "X + SiLU_a(X W_in) W_out");
        instance_net_source(I, &src, d + 1, prec);
        instance_net_io(I, Xh, ref, THM_LAYOUT_BIAS);
    }
    row_add_long(r, "heads", l);
    row_add_long(r, "width", d + 1);
    mask_clear(&M);
    imat_clear(X);
    imat_clear(W_in);
    imat_clear(W_out);
    imat_clear(Y);
    imat_clear(Xh);
    arb_clear(a);
    return 0;
}

static int run(row_t *r) { return thm_exact_run(r, build); }

/* max |a z| over z = X W_in, the reference's pre-activations, as build
 * meets them at r->prec (the same product): the rule's instance part. */
static int predict_visit(row_t *r, thm_silu_track_t *track)
{
    long dims[3];
    if (thm_get_shape(dims, 3, r) != 0)
        return -1;
    imat_t X, W_in, W_out;
    draw(X, W_in, W_out, dims, r->seed);
    mlp_preact_visit(X, W_in, thm_silu_a_note, track, r->prec);
    imat_clear(X);
    imat_clear(W_in);
    imat_clear(W_out);
    return 0;
}

static int predict(row_t *r) { return thm_predict(r, predict_visit); }

static int export_instance(instance_t *I, const params_t *p, unsigned long seed, mpfr_prec_t prec)
{
    return thm_exact_export(I, p, seed, prec, build);
}

const claim_t claim_mlp_layer = {
    .id = "mlp-layer",
    .source = "Theorem 3",
    .kind = KIND_EXACT,
    .provenance = "paper (construction derived)",
    .statement = "An MLP layer with SiLU_a and l hidden units equals one attention layer of l "
                 "masked heads of internal dimension 1 on the bias-token stream.",
    .formula = "MLP(X) = SiLU_a(X W_in) W_out (no biases). Head k is the neuron head of "
               "neuron-head with w = W_in[:,k], u = W_out[k,:]; mask B.\n"
               "Claim: X̂ + Σ_k h_k(X̂) = [[0, 1], [X + MLP(X), 0]] — real rows "
               "[x_i + MLP(X)_i, 0], bias row e_{d+1}. Cost: l heads, width d + 1.\n"
               "E = max over all n + 1 rows of ‖Y_i − Y′_i‖₂, the bias row included (it must "
               "stay e_{d+1}). Shape = d x l x n.",
    .notes = "No LayerNorm; no MLP biases (the restricted class G1 covers them, see "
             "activation-class).",
    .quick = {{"quick", {{"prec", "53,113,256,1024,4096"}, {"a", "0.5,1,1.702,8,64"},
                         {"shape", "2x3x3,4x8x5,8x16x6"}, {"seed", "1,2,3"}, {NULL, NULL}}}},
    .full = {{"full", {{"prec", "53,256,1024"}, {"a", "0.5,1,1.702,8,64"},
                       {"shape", "8x32x8,16x64x16,64x256x64"}, {"seed", "1,2,3"}, {NULL, NULL}}}},
    .mutations = {{"flip-wk", "W_K = [0; +1] in the first head"},
                  {"causal-mask", "mask B replaced by the causal mask"},
                  {"drop-head", "the last neuron's head left out"},
                  {NULL, NULL}},
    .plots = {{.x = "prec", .y = "slack used", .series = "a", .logx = 1, .extra_y = "kappa",
               .title = "bits of slack used against p (max over shapes and seeds)"}},
    .run = run,
    .predict = predict,
    .export_instance = export_instance,
    .estimate_bytes = thm_mlp_layer_bytes,
};
