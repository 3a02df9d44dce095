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

static int build(imat_t ref, imat_t con, instance_t *I, row_t *r, mpfr_prec_t prec)
{
    long dims[2], k, rh;
    if (thm_get_shape(dims, 2, r, 1024) != 0)
        return -1;
    long d = dims[0], n = dims[1];
    const char *target = params_get(&r->params, "target");
    int fresh = target && strcmp(target, "fresh") == 0;
    if (target && !fresh && strcmp(target, "square") != 0) {
        snprintf(r->note, sizeof r->note, "target='%s' must be square or fresh", target);
        return -1;
    }
    long l = fresh ? d + 1 : d, D = fresh ? d + l : d;
    if (params_get_long(&k, &r->params, "rank") != 0 || k < 1 || k > (d < l ? d : l) ||
        params_get_long(&rh, &r->params, "d_head") != 0 || rh < 1 || rh > 1024) {
        snprintf(r->note, sizeof r->note,
                 "rank must be in [1, min(d, l)] and d_head in [1, 1024]");
        return -1;
    }
    gmp_randstate_t st;
    imat_t X, U, V, Vt, UVt, W, S, Y;
    thm_rand_init(st, r->seed, 4);
    imat_init(X, n, d);
    imat_init(U, d, k);
    imat_init(V, l, k);
    imat_randtest_dyadic(X, st, WEIGHT_BITS);
    imat_randtest_dyadic(U, st, WEIGHT_BITS);
    imat_randtest_dyadic(V, st, WEIGHT_BITS);
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
    attn_head_struct *heads = xmallocarray((size_t)n_heads, sizeof *heads);
    for (long h = 0; h < n_heads; h++) {
        attn_head_init(heads + h, D, rh);
        for (long c = 0; c < rh && h * rh + c < k; c++) {
            long col = h * rh + c;
            for (long i = 0; i < d; i++)
                arb_set(imat_entry(heads[h].W_V, i, c), imat_entry(U, i, col));
            for (long j = 0; j < l; j++)
                arb_set(imat_entry(heads[h].W_O, c, (fresh ? d : 0) + j), imat_entry(Vt, col, j));
        }
    }
    imat_init(S, n, D);
    imat_set_block(S, 0, 0, X);
    mask_t M;
    if (r->mutation == MUT_CAUSAL)
        mask_causal(&M, n);
    else
        mask_self(&M, n);
    imat_reinit(con, n, D);
    imat_set(con, S);
    attn_layer_apply(con, heads, r->mutation == MUT_DROP_HEAD ? n_heads - 1 : n_heads, &M, prec);

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
        instance_net_heads(I, heads, n_heads, &M, prec);
        instance_net_io(I, S, ref, fresh ? "each token a row [x | fresh columns]: no bias token"
                                         : "each token a row x: no bias token");
    }
    row_add_long(r, "heads", n_heads);
    row_add_long(r, "width", D);
    mask_clear(&M);
    for (long h = 0; h < n_heads; h++)
        attn_head_clear(heads + h);
    free(heads);
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
    .estimate_bytes = thm_estimate_bytes,
};
