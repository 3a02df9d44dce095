/* activation-head (Theorem 8).  Entrywise SiLU_a with d heads, mask B:
 * head c has W_Q = -a e_c, W_K = -e_{d+1}, W_V = -e_c, W_O = e_c^T, so
 * logit(self) = 0, logit(bias) = a x_c, the weight on self is sigma(-a x_c)
 * and the head adds -x_c sigma(-a x_c) e_c; with the residual,
 * x_c - x_c sigma(-a x_c) = x_c sigma(a x_c) = SiLU_a(x_c). */
#include "thm_common.h"

enum { MUT_NONE, MUT_FLIP_WV, MUT_SELF_MASK, MUT_FLIP_WQ };

typedef struct {
    arb_srcptr a;
    int mutation;
} channel_heads_t;

/* Heads [c0, c1), one per channel c, stacked into the chunk. */
static void channel_fill(attn_chunk_t *ch, long c0, long c1, const void *ctx, mpfr_prec_t prec)
{
    const channel_heads_t *p = ctx;
    long d = ch->D - 1;
    (void)prec;
    for (long c = c0; c < c1; c++) {
        long k = attn_chunk_col(ch, c, 0);
        arb_neg(imat_entry(ch->W_Q, c, k), p->a); /* exact */
        if (p->mutation == MUT_FLIP_WQ)
            arb_neg(imat_entry(ch->W_Q, c, k), imat_entry(ch->W_Q, c, k));
        arb_set_si(imat_entry(ch->W_K, d, k), -1);
        arb_set_si(imat_entry(ch->W_V, c, k), p->mutation == MUT_FLIP_WV ? 1 : -1);
        arb_set_si(imat_entry(ch->W_O, k, c), 1);
    }
}

/* The tokens of seed (n x d). */
static void draw(imat_t X, const long *dims, unsigned long seed)
{
    gmp_randstate_t st;
    thm_rand_init(st, seed, 3);
    imat_init(X, dims[1], dims[0]);
    imat_randtest_dyadic(X, st, WEIGHT_BITS);
    gmp_randclear(st);
}

static int build(imat_t ref, imat_t con, instance_t *I, row_t *r, mpfr_prec_t prec)
{
    long dims[2];
    arb_t a;
    if (thm_get_shape(dims, 2, r) != 0)
        return -1;
    arb_init(a);
    if (thm_get_slope(a, r) != 0) {
        arb_clear(a);
        return -1;
    }
    long d = dims[0], n = dims[1];
    imat_t X, Y, Xh;
    draw(X, dims, r->seed);
    imat_init(Y, n, d);
    imat_init(Xh, 0, 0);

    thm_silu_track_t track;
    thm_silu_track_init(&track, a);
    for (long k = 0; k < n * d; k++)
        thm_silu_a_tracked(Y->e + k, X->e + k, &track, prec);
    thm_silu_track_resolve(r, &track);
    thm_silu_track_clear(&track);
    thm_bias_stream(ref, Y);

    thm_bias_stream(Xh, X);
    mask_t M;
    if (r->mutation == MUT_SELF_MASK)
        mask_self(&M, n + 1);
    else
        mask_self_bias(&M, n + 1);
    channel_heads_t ctx = {.a = a, .mutation = r->mutation};
    attn_source_t src = {.n_heads = d, .r = 1, .M = &M, .fill = channel_fill, .ctx = &ctx};
    attn_layer_sum(con, Xh, &src, 1, 1, prec);

    if (I) {
        snprintf(I->note, sizeof I->note,
                 "reference = [[0,1],[SiLU_a(X), 0]]; construction = X_hat + sum_c h_c(X_hat), "
                 "head c: W_Q = -a e_c, W_K = -e_{d+1}, W_V = -e_c, W_O = e_c^T, mask B");
        instance_add(I, "X", X);
        instance_add(I, "X_hat", Xh);
        instance_net_source(I, &src, d + 1, prec);
        instance_net_io(I, Xh, ref, THM_LAYOUT_BIAS);
    }
    row_add_long(r, "heads", d);
    row_add_long(r, "width", d + 1);
    mask_clear(&M);
    imat_clear(X);
    imat_clear(Y);
    imat_clear(Xh);
    arb_clear(a);
    return 0;
}

static int run(row_t *r) { return thm_exact_run(r, build); }

/* The rule's instance part: the SiLU_a inputs are the tokens themselves. */
static int predict_visit(row_t *r, thm_silu_track_t *track)
{
    long dims[2];
    if (thm_get_shape(dims, 2, r) != 0)
        return -1;
    imat_t X;
    draw(X, dims, r->seed);
    for (long k = 0; k < X->rows * X->cols; k++)
        thm_silu_a_note(NULL, X->e + k, track, r->prec);
    imat_clear(X);
    return 0;
}

static int predict(row_t *r) { return thm_predict(r, predict_visit); }

static int export_instance(instance_t *I, const params_t *p, unsigned long seed, mpfr_prec_t prec)
{
    return thm_exact_export(I, p, seed, prec, build);
}

const claim_t claim_activation_head = {
    .id = "activation-head",
    .source = "Theorem 8",
    .kind = KIND_EXACT,
    .provenance = "paper (construction derived)",
    .statement = "Entrywise SiLU_a on d coordinates is one attention layer of d masked heads "
                 "(internal dimension 1) plus the residual.",
    .formula = "Head c (mask B): W_Q = −a·e_c, W_K = −e_{d+1}, W_V = −e_c, W_O = e_cᵀ.\n"
               "logit(self) = 0, logit(bias) = a x_c, weight on self σ(−a x_c); the head adds "
               "−x_c σ(−a x_c) e_c and with the residual x_c σ(a x_c) = SiLU_a(x_c).\n"
               "Claim: X̂ + Σ_c h_c(X̂) = [[0, 1], [SiLU_a(X), 0]]. E = max over all n + 1 rows "
               "of ‖Y_i − Y′_i‖₂, the bias row included (it must stay e_{d+1}). Shape = d x n.",
    .notes = "No LayerNorm. The linear maps around the activation are linear-head.",
    .quick = {{"quick", {{"prec", "53,113,256,1024,4096"}, {"a", "0.5,1,1.702,8,64"},
                         {"shape", "2x3,4x6,8x8"}, {"seed", "1,2,3"}, {NULL, NULL}}}},
    .full = {{"full", {{"prec", "53,256,1024"}, {"a", "0.5,1,1.702,8,64"},
                       {"shape", "16x16,32x32,64x64"}, {"seed", "1,2,3"}, {NULL, NULL}}}},
    .mutations = {{"flip-wv", "W_V = +e_c: the head adds +x_c σ(−a x_c)"},
                  {"self-mask", "mask B replaced by I (no bias token to attend to)"},
                  {"flip-wq", "W_Q = +a·e_c: the bias logit becomes −a x_c"},
                  {NULL, NULL}},
    .plots = {{.x = "prec", .y = "slack used", .series = "a", .logx = 1, .extra_y = "kappa",
               .title = "bits of slack used against p (max over shapes and seeds)"}},
    .run = run,
    .predict = predict,
    .export_instance = export_instance,
    .estimate_bytes = thm_estimate_bytes,
};
