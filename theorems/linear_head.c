/* linear-head (Theorem 7).  With mask I a head returns h(X)_i = x_i W_OV
 * exactly, so heads whose W_OV sum to W - I give X + sum h(X) = X W.
 * W = I + U V^T has rank(W - I) = k; head h takes the columns B_h of U and
 * the rows B_h of V^T (|B_h| <= r), so ceil(k / r) heads suffice.  Target
 * "fresh": W (d -> l, l = d + 1) written into l fresh coordinates of the
 * stream [X, 0], heads summing to [[0, W], [0, 0]]. */
#include <stdlib.h>
#include <string.h>
#include "thm_common.h"
#include "xalloc.h"

enum { MUT_NONE, MUT_CAUSAL, MUT_DROP_HEAD };

/* Head h takes the columns [h r, (h + 1) r) of U (as W_V) and those rows of
 * V^T (as W_O, written from column out0 on); the last head may have fewer. */
typedef struct {
    const imat_struct *U, *Vt;
    long out0;
} factor_heads_t;

static void factor_fill(attn_chunk_t *ch, long h0, long h1, const void *ctx, mpfr_prec_t prec)
{
    const factor_heads_t *f = ctx;
    long k = f->U->cols;
    (void)prec;
    for (long h = h0; h < h1; h++)
        for (long c = 0; c < ch->r && h * ch->r + c < k; c++) {
            long col = h * ch->r + c, q = attn_chunk_col(ch, h, c);
            for (long i = 0; i < f->U->rows; i++)
                arb_set(imat_entry(ch->W_V, i, q), imat_entry(f->U, i, col));
            for (long j = 0; j < f->Vt->cols; j++)
                arb_set(imat_entry(ch->W_O, q, f->out0 + j), imat_entry(f->Vt, col, j));
        }
}

/* 1 when a break could not show on this draw: the last head's part
 * X U_B V_B^T (B its columns, from `first` on) is zero, or, with two tokens
 * or more, every token has the same image x_i U V^T (mixing tokens would
 * change nothing).  Products of few-bit dyadics: exact. */
static int degenerate(const imat_t X, const imat_t U, const imat_t V, long first)
{
    long n = X->rows, k = U->cols;
    imat_t UB, VBt, P;
    imat_init(UB, U->rows, k - first);
    imat_init(VBt, k - first, V->rows);
    for (long c = first; c < k; c++) {
        for (long i = 0; i < U->rows; i++)
            arb_set(imat_entry(UB, i, c - first), imat_entry(U, i, c));
        for (long j = 0; j < V->rows; j++)
            arb_set(imat_entry(VBt, c - first, j), imat_entry(V, j, c));
    }
    imat_init(P, U->rows, V->rows);
    imat_mul(P, UB, VBt, 128);
    int bad = thm_all_zero_product(X, P);
    imat_clear(UB);
    imat_clear(VBt);
    if (!bad && n >= 2) {
        imat_t Vt, XW;
        imat_init(Vt, k, V->rows);
        imat_transpose(Vt, V);
        imat_reinit(P, U->rows, V->rows);
        imat_mul(P, U, Vt, 128);
        imat_init(XW, n, V->rows);
        imat_mul(XW, X, P, 192);
        bad = 1;
        for (long i = 1; i < n && bad; i++)
            for (long j = 0; j < XW->cols && bad; j++)
                bad = arb_equal(imat_entry(XW, i, j), imat_entry(XW, 0, j));
        imat_clear(Vt);
        imat_clear(XW);
    }
    imat_clear(P);
    return bad;
}

static int build(imat_t ref, imat_t con, instance_t *I, row_t *r, mpfr_prec_t prec)
{
    long dims[2], k, rh;
    if (thm_get_shape(dims, 2, r) != 0)
        return -1;
    long d = dims[0], n = dims[1];
    const char *target = params_get(&r->params, "target");
    int fresh = target && strcmp(target, "fresh") == 0;
    if (target && !fresh && strcmp(target, "square") != 0) {
        snprintf(r->note, sizeof r->note, "target='%s' must be square or fresh", target);
        return -1;
    }
    long l = fresh ? d + 1 : d, D = fresh ? d + l : d;
    if (r->mutation == MUT_CAUSAL && n < 2) {
        snprintf(r->note, sizeof r->note, "the causal-mask mutation needs n >= 2 tokens (with "
                 "one, the causal mask is mask I)");
        return -1;
    }
    if (params_get_long(&k, &r->params, "rank") != 0 || k < 1 || k > (d < l ? d : l)) {
        snprintf(r->note, sizeof r->note, "rank must be in [1, min(d, l)]");
        return -1;
    }
    if (thm_get_size(&rh, r, "d_head", 1) != 0)
        return -1;
    gmp_randstate_t st;
    imat_t X, U, V, Vt, UVt, W, S, Y;
    thm_rand_init(st, r->seed, 4);
    imat_init(X, n, d);
    imat_init(U, d, k);
    imat_init(V, l, k);
    imat_randtest_dyadic(X, st, WEIGHT_BITS);
    imat_randtest_dyadic(U, st, WEIGHT_BITS);
    imat_randtest_dyadic(V, st, WEIGHT_BITS);
    /* a draw no break could show on is drawn again (the next from st) */
    while (degenerate(X, U, V, (k - 1) / rh * rh)) {
        imat_randtest_dyadic(X, st, WEIGHT_BITS);
        imat_randtest_dyadic(U, st, WEIGHT_BITS);
        imat_randtest_dyadic(V, st, WEIGHT_BITS);
    }
    gmp_randclear(st);
    imat_init(Vt, k, l);
    imat_transpose(Vt, V);
    imat_init(UVt, d, l);
    imat_mul(UVt, U, Vt, prec);
    /* the map: W = I + U V^T (square) or W = U V^T (fresh) */
    imat_init(W, d, l);
    if (!fresh)
        imat_one(W);
    imat_add(W, W, UVt, prec);

    /* reference: X W (square) or [X, X W] (fresh) */
    imat_init(Y, n, l);
    imat_mul(Y, X, W, prec);
    imat_reinit(ref, n, D);
    if (fresh) {
        imat_set_block(ref, 0, 0, X);
        imat_set_block(ref, 0, d, Y);
    } else {
        imat_set(ref, Y);
    }

    /* construction: ceil(k / r) heads of internal dimension r, mask I */
    long n_heads = (k + rh - 1) / rh;
    factor_heads_t heads = {.U = U, .Vt = Vt, .out0 = fresh ? d : 0};
    attn_source_t src = {.n_heads = r->mutation == MUT_DROP_HEAD ? n_heads - 1 : n_heads,
                         .r = rh, .fill = factor_fill, .ctx = &heads};
    imat_init(S, n, D);
    imat_set_block(S, 0, 0, X);
    mask_t M;
    if (r->mutation == MUT_CAUSAL)
        mask_causal(&M, n);
    else
        mask_self(&M, n);
    src.M = &M;
    attn_layer_sum(con, S, &src, 1, 1, prec);

    if (I) {
        snprintf(I->note, sizeof I->note,
                 "W = %s; head h: W_V = U[:, h r:(h+1) r], W_O = V^T[h r:(h+1) r, :]%s; mask I; "
                 "construction = stream + sum_h h(stream)",
                 fresh ? "U V^T (d -> l fresh coordinates)" : "I + U V^T",
                 fresh ? " placed in the fresh columns" : "");
        instance_add(I, "X", X);
        instance_add(I, "U", U);
        instance_add(I, "V", V);
        instance_add(I, "W", W);
        instance_net_source(I, &src, D, prec);
        instance_net_io(I, S, ref, fresh ? "each token a row [x | fresh columns]: no bias token"
                                         : "each token a row x: no bias token");
    }
    row_add_long(r, "heads", n_heads);
    row_add_long(r, "width", D);
    mask_clear(&M);
    imat_clear(X);
    imat_clear(U);
    imat_clear(V);
    imat_clear(Vt);
    imat_clear(UVt);
    imat_clear(W);
    imat_clear(S);
    imat_clear(Y);
    return 0;
}

/* X, U, V, V^T, U V^T, W, the outputs and the stream, and the layer of
 * ceil(k / r) heads of width D (all balls counted at prec). */
static double estimate_bytes(const params_t *p, mpfr_prec_t prec)
{
    long v[2], k, rh;
    const char *shape = params_get(p, "shape"), *target = params_get(p, "target");
    if (!shape || thm_parse_dims(v, 2, shape) != 2 || params_get_long(&k, p, "rank") != 0 ||
        params_get_long(&rh, p, "d_head") != 0 || v[0] > THM_SIZE_MAX || v[1] > THM_SIZE_MAX ||
        k < 1 || k > v[0] || rh < 1 || rh > THM_SIZE_MAX)
        return 0; /* the row refuses it */
    int fresh = target && strcmp(target, "fresh") == 0;
    long d = v[0], n = v[1], l = fresh ? d + 1 : d, D = fresh ? d + l : d;
    double B = ball_bytes(prec), dd = (double)d, dl = (double)l, dk = (double)k;
    double mats = (double)n * dd + dd * dk + 2 * dl * dk + 2 * dd * dl;
    double streams = (double)n * dl + 4 * (double)n * (double)D;
    attn_source_t src = {.n_heads = (k + rh - 1) / rh, .r = rh};
    return THM_EST_BASE_BYTES + (mats + streams) * B + attn_layer_bytes(&src, 1, D, n, prec);
}

static int run(row_t *r) { return thm_exact_run(r, build); }

static int export_instance(instance_t *I, const params_t *p, unsigned long seed, mpfr_prec_t prec)
{
    return thm_exact_export(I, p, seed, prec, build);
}

const claim_t claim_linear_head = {
    .id = "linear-head",
    .source = "Theorem 7",
    .kind = KIND_EXACT,
    .provenance = "paper (construction derived)",
    .statement = "A linear map W is ceil(rank(W - I)/r) heads with mask I and internal dimension r "
                 "(plus the residual); maps into fresh coordinates work the same way.",
    .formula = "With mask I, h(X)_i = x_i W_OV exactly (softmax of one allowed key is 1).\n"
               "square: W = I + U Vᵀ (U, V ∈ ℝ^{d×k}); head h: W_V = U[:, B_h], W_O = Vᵀ[B_h, :], "
               "|B_h| ≤ r, so Σ_h W_OV = W − I and X + Σ_h h(X) = X W with ⌈k/r⌉ heads.\n"
               "fresh: W = U Vᵀ maps d → l = d + 1 coordinates; stream [X, 0], heads write "
               "into the fresh block: result [X, X W].\n"
               "No bias token; E = max over all n rows of ‖Y_i − Y′_i‖₂. Shape = d x n.",
    .notes = "No LayerNorm. E is exactly 0 at every precision: with mask I each softmax row is "
             "e^0/e^0 = 1 exactly and the dyadic products are exact, so no row has a slack to "
             "plot (log2 0 = −∞): the plot draws κ and says so.",
    .quick = {{"quick", {{"prec", "53,113,256,1024,4096"}, {"target", "square,fresh"},
                         {"shape", "3x4,6x5"}, {"rank", "1,3"}, {"d_head", "1,2"},
                         {"seed", "1,2,3"}, {NULL, NULL}}}},
    .full = {{"full", {{"prec", "53,256,1024"}, {"target", "square,fresh"},
                       {"shape", "16x16,64x32"}, {"rank", "1,8,16"}, {"d_head", "1,4,16"},
                       {"seed", "1,2,3"}, {NULL, NULL}}}},
    .mutations = {{"causal-mask", "mask I replaced by the causal mask (tokens mix)"},
                  {"drop-head", "the last head left out"},
                  {NULL, NULL}},
    .plots = {{.x = "prec", .y = "slack used", .series = "target", .logx = 1, .extra_y = "kappa",
               .title = "bits of slack used against p (max over the rest)"}},
    .run = run,
    .export_instance = export_instance,
    .estimate_bytes = estimate_bytes,
};
