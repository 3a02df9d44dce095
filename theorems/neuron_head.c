/* neuron-head (abstract; Theorems 3/4).  One head of internal dimension 1
 * with mask B on the bias-token stream computes one SiLU_a neuron:
 * logit(i->i) = 0 and logit(i->0) = -a z with z = x_i.w, so the weight on
 * self is sigma(a z), the values are z[u, 0] (self) and 0 (bias token), and
 * h(X^)_i = SiLU_a(z) [u, 0]; the bias row of h is 0.  Checked exactly: the
 * head's output against z sigma(a z) u computed directly. */
#include <string.h>
#include "thm_common.h"

enum { MUT_NONE, MUT_FLIP_WK, MUT_CAUSAL, MUT_DROP_BIAS, MUT_WRONG_SLOPE };

/* The instance of seed: tokens X (n x d), w (d x 1), u (1 x d). */
static void draw(imat_t X, imat_t w, imat_t u, const long *dims, unsigned long seed)
{
    long d = dims[0], n = dims[1];
    gmp_randstate_t st;
    thm_rand_init(st, seed, 1);
    imat_init(X, n, d);
    imat_init(w, d, 1);
    imat_init(u, 1, d);
    imat_randtest_dyadic(X, st, WEIGHT_BITS);
    imat_randtest_dyadic(w, st, WEIGHT_BITS);
    imat_randtest_dyadic(u, st, WEIGHT_BITS);
    /* a w with x_i.w = 0 on every token makes every output 0, whatever the
     * head: no break could show; draw it again (exact: few-bit dyadics) */
    thm_nonzero_column(w, 0, X, st);
    gmp_randclear(st);
}

/* ref and con are (n+1) x (d+1): the bias row 0 and d+1 columns included. */
static int build(imat_t ref, imat_t con, instance_t *I, row_t *r, mpfr_prec_t prec)
{
    long dims[2];
    arb_t a, z, t;
    if (thm_get_shape(dims, 2, r) != 0)
        return -1;
    arb_init(a);
    if (thm_get_slope(a, r) != 0) {
        arb_clear(a);
        return -1;
    }
    long d = dims[0], n = dims[1];
    if (r->mutation == MUT_CAUSAL && n < 2) {
        snprintf(r->note, sizeof r->note, "the causal-mask mutation needs n >= 2 tokens (with "
                 "one, the causal mask is mask B)");
        arb_clear(a);
        return -1;
    }
    imat_t X, w, u, Xh;
    draw(X, w, u, dims, r->seed);
    imat_init(Xh, 0, 0);
    thm_bias_stream(Xh, X);

    /* the construction */
    attn_head_t h;
    mask_t M;
    if (r->mutation == MUT_WRONG_SLOPE)
        arb_mul_2exp_si(a, a, -1);
    thm_neuron_head(h, a, w, u, 0, prec);
    if (r->mutation == MUT_WRONG_SLOPE)
        arb_mul_2exp_si(a, a, 1);
    if (r->mutation == MUT_FLIP_WK)
        arb_neg(imat_entry(h->W_K, d, 0), imat_entry(h->W_K, d, 0));
    if (r->mutation == MUT_DROP_BIAS)
        arb_set_ui(imat_entry(Xh, 0, d), 0);
    if (r->mutation == MUT_CAUSAL)
        mask_causal(&M, n + 1);
    else
        mask_self_bias(&M, n + 1);
    imat_reinit(con, n + 1, d + 1);
    attn_head_apply(con, h, Xh, &M, prec);

    /* the reference: SiLU_a(x_i.w) [u, 0] on real rows, 0 on the bias row */
    imat_reinit(ref, n + 1, d + 1);
    arb_init(z);
    arb_init(t);
    thm_silu_track_t track;
    thm_silu_track_init(&track, a);
    for (long i = 0; i < n; i++) {
        arb_set_ui(z, 0);
        for (long k = 0; k < d; k++) {
            arb_mul(t, imat_entry(X, i, k), imat_entry(w, k, 0), prec);
            arb_add(z, z, t, prec);
        }
        thm_silu_a_tracked(z, z, &track, prec);
        for (long k = 0; k < d; k++)
            arb_mul(imat_entry(ref, i + 1, k), z, imat_entry(u, 0, k), prec);
    }
    if (I) {
        snprintf(I->note, sizeof I->note,
                 "stream X_hat = [[0,1],[X,0]]; mask B (self + bias token); "
                 "h_out = softmax(mask(X_hat W_Q W_K^T X_hat^T)) X_hat W_V W_O; "
                 "reference = SiLU_a(X w) u on real rows, 0 on row 0");
        instance_add(I, "X", X);
        instance_add(I, "w", w);
        instance_add(I, "u", u);
        instance_add(I, "X_hat", Xh);
        instance_add(I, "W_Q", h->W_Q);
        instance_add(I, "W_K", h->W_K);
        instance_add(I, "W_V", h->W_V);
        instance_add(I, "W_O", h->W_O);
        /* as a layer, the head adds to the stream: its reference is X_hat + h */
        imat_t R;
        imat_init(R, n + 1, d + 1);
        imat_add(R, ref, Xh, prec);
        instance_net_heads(I, h, 1, &M, prec);
        instance_net_io(I, Xh, R, THM_LAYOUT_BIAS);
        instance_orig_mlp(I, X, w, u, a, 1, "X + SiLU_a(X w) u");
        imat_clear(R);
    }
    thm_silu_track_resolve(r, &track);
    thm_silu_track_clear(&track);
    row_add_long(r, "heads", 1);
    row_add_long(r, "width", d + 1);
    mask_clear(&M);
    attn_head_clear(h);
    imat_clear(X);
    imat_clear(w);
    imat_clear(u);
    imat_clear(Xh);
    arb_clear(a);
    arb_clear(z);
    arb_clear(t);
    return 0;
}

static int run(row_t *r) { return thm_exact_run(r, build); }

/* The rule's instance part: z = x_i.w, summed as build sums it. */
static int predict_visit(row_t *r, thm_silu_track_t *track)
{
    long dims[2];
    if (thm_get_shape(dims, 2, r) != 0)
        return -1;
    imat_t X, w, u;
    draw(X, w, u, dims, r->seed);
    arb_t z, t;
    arb_init(z);
    arb_init(t);
    for (long i = 0; i < X->rows; i++) {
        arb_set_ui(z, 0);
        for (long k = 0; k < X->cols; k++) {
            arb_mul(t, imat_entry(X, i, k), imat_entry(w, k, 0), r->prec);
            arb_add(z, z, t, r->prec);
        }
        thm_silu_a_note(NULL, z, track, r->prec);
    }
    arb_clear(z);
    arb_clear(t);
    imat_clear(X);
    imat_clear(w);
    imat_clear(u);
    return 0;
}

static int predict(row_t *r) { return thm_predict(r, predict_visit); }

static int export_instance(instance_t *I, const params_t *p, unsigned long seed, mpfr_prec_t prec)
{
    return thm_exact_export(I, p, seed, prec, build);
}

const claim_t claim_neuron_head = {
    .id = "neuron-head",
    .source = "Theorem 3/4",
    .kind = KIND_EXACT,
    .provenance = "paper (abstract; construction derived)",
    .statement = "One masked head of internal dimension 1 with a bias token computes one SiLU_a neuron: "
                 "h(X^)_i = SiLU_a(x_i.w)[u, 0], h(X^)_0 = 0.",
    .formula = "Stream X̂ = [[0, 1], [X, 0]] (bias token first), mask B (self + bias).\n"
               "W_Q = a·[w; 0], W_K = [0_d; −1], W_V = [w; 0], W_O = [uᵀ, 0].\n"
               "logit(i→i) = 0, logit(i→0) = −a z (z = x_i·w), so the weight on self is σ(a z) "
               "and h(X̂)_i = z σ(a z)·[u, 0] = SiLU_a(z)·[u, 0].\n"
               "E = max over all n + 1 rows of ‖Y_i − Y′_i‖₂, the bias row included (it must "
               "be 0). Shape = d x n.",
    .notes = "No LayerNorm. τ = 1 (a temperature τ is absorbed into a).",
    .quick = {{"quick", {{"prec", "53,113,256,1024,4096"}, {"a", "0.5,1,1.702,8,64"},
                         {"shape", "2x3,4x6,8x12"}, {"seed", "1,2,3"}, {NULL, NULL}}}},
    .full = {{"full", {{"prec", "53,256,1024,4096"}, {"a", "0.5,1,1.702,8,64"},
                       {"shape", "4x6,16x16,64x64"}, {"seed", "1,2,3"}, {NULL, NULL}}}},
    .mutations = {{"flip-wk", "W_K = [0; +1]: the bias logit becomes +a z"},
                  {"causal-mask", "mask B replaced by the causal mask"},
                  {"drop-bias", "the bias token's 1 is dropped (row 0 all zero)"},
                  {"wrong-slope", "W_Q built with a/2 instead of a"},
                  {NULL, NULL}},
    .plots = {{.x = "prec", .y = "slack used", .series = "a", .logx = 1, .extra_y = "kappa",
               .title = "bits of slack used against p (max over shapes and seeds)"}},
    .run = run,
    .predict = predict,
    .export_instance = export_instance,
    .estimate_bytes = thm_estimate_bytes,
};
