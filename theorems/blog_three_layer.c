/* blog-three-layer (blog code: ffn_via_attention.py).  An MLP layer
 * X + SiLU(X W_in) W_out as three unmasked attention layers on the stream
 * [[X, 0_l, I_n, 0], [0, 0, 0, 1]] (width d + l + n + 1; extra token LAST,
 * positions p_i = e_(P+i), P = d + l):
 *   1. linear in: one head, W_QK = blockdiag(0, 2 Omega I_(n+1)),
 *      W_OV = [[0, W_in], [0, 0]] (hidden channels get x W_in);
 *   2. SiLU: one head per hidden channel c:
 *      W_QK = 2 Omega sum_(i<=n) p_i^T p_n + 2 Omega sum_(i<n) p_i^T p_i - sum_(i<n) e_c^T p_i,
 *      W_OV = -e_c^T e_c (logits 2 Omega extra, 2 Omega - x self, -x others);
 *   3. linear out: one head, W_OV = [[0, 0], [W_out, 0]].
 *
 * Derived bound (eps = e^(-2 Omega); Delta_t = largest feature-row error over
 * all n+1 rows after layer t, ideal extra row 0; positions stay exact since
 * every W_OV is 0 on them, and every logit depends on positions and the
 * query only):
 *   linear layer:  Delta' <= Delta (1 + ||W - I||) + 2 n eps Vmax   (self
 *                  weight >= 1 - n eps; Vmax = largest ideal value);
 *   Delta_1 <= 2 n eps R_h,  R_h = max_k ||x_k W_in||;
 *   SiLU layer:    per channel, |SiLU(y) - SiLU(x)| <= 1.1 |y - x| plus the
 *                  leak |y_extra| + (n-1) eps (|y_a| + max_k |y_k|) (real rows)
 *                  or eps e^|y_extra| sum_k |y_k| (extra row), giving
 *   Delta_2 <= 3.1 Delta_1 + n eps e^Delta_1 (R_h + Delta_1 + Y + sqrt(l) Delta_1),
 *                  Y = sqrt(sum_c max_k h_kc^2);
 *   Delta_3 <= Delta_2 (1 + ||W_out||_2) + 2 n eps V_3,  V_3 = max_k ||SiLU(h_k) W_out||;
 *   E <= Delta_3 = C e^(-2 Omega), C depending on Omega only through e^Delta_1 -> 1. */
#include <stdlib.h>
#include <string.h>
#include "omega_util.h"
#include "xalloc.h"

enum { MUT_NONE, MUT_OMEGA, MUT_NO_SELF, MUT_RATE4 };

/* The certified bound Delta_3 (eps = e^(-2 Omega), or e^(-4 Omega) when mutated). */
static void three_layer_bound(arb_t bound, const imat_t X, const imat_t Win, const imat_t Wout,
                              const arb_t omega, int mutation, mpfr_prec_t prec)
{
    long n = X->rows, l = Win->cols, d = X->cols;
    imat_t H, S, V3;
    arb_t eps, Rh, Y, v3, t, u, D1, D2, lip, cm;
    omega_ivals_init(eps, Rh, Y, v3, t, u, D1, D2, lip, cm, (arb_ptr)0);
    imat_init(H, n, l);
    imat_init(S, n, l);
    imat_init(V3, n, d);
    imat_mul(H, X, Win, prec);
    arb_set_ui(t, 1);
    for (long k = 0; k < n * l; k++)
        ival_silu_a(S->e + k, H->e + k, t, prec);
    imat_mul(V3, S, Wout, prec);
    arb_set_ui(Rh, 0);
    arb_set_ui(v3, 0);
    for (long k = 0; k < n; k++) {
        imat_row_norm2(t, H, k, prec);
        ival_max(Rh, Rh, t, prec);
        imat_row_norm2(t, V3, k, prec);
        ival_max(v3, v3, t, prec);
    }
    arb_set_ui(Y, 0);
    for (long c = 0; c < l; c++) {
        arb_set_ui(cm, 0);
        for (long k = 0; k < n; k++) {
            ival_abs(t, imat_entry(H, k, c), prec);
            ival_max(cm, cm, t, prec);
        }
        arb_sqr(cm, cm, prec);
        arb_add(Y, Y, cm, prec);
    }
    arb_sqrtpos(Y, Y, prec);
    arb_mul_2exp_si(eps, omega, mutation == MUT_RATE4 ? 2 : 1);
    arb_neg(eps, eps);
    arb_exp(eps, eps, prec);
    /* Delta_1 = 2 n eps R_h */
    arb_mul(D1, eps, Rh, prec);
    arb_mul_ui(D1, D1, (unsigned long)(2 * n), prec);
    /* Delta_2 = 3.1 D1 + n eps e^D1 (R_h + D1 + Y + sqrt(l) D1) */
    arb_set_ui(t, (unsigned long)l);
    arb_sqrtpos(t, t, prec);
    arb_mul(t, t, D1, prec);
    arb_add(t, t, Y, prec);
    arb_add(t, t, D1, prec);
    arb_add(t, t, Rh, prec);
    arb_exp(u, D1, prec);
    arb_mul(t, t, u, prec);
    arb_mul(t, t, eps, prec);
    arb_mul_ui(t, t, (unsigned long)n, prec);
    ival_set_str(lip, OMEGA_SILU_LIP, prec);
    arb_add_ui(lip, lip, 2, prec); /* 1 (input coords) + 1 (extra leak) + 1.1 */
    arb_mul(D2, D1, lip, prec);
    arb_add(D2, D2, t, prec);
    /* Delta_3 = D2 (1 + ||W_out||) + 2 n eps V_3 */
    mpfr_t nw;
    mpfr_init2(nw, prec);
    imat_norm2_upper(nw, Wout);
    ival_set_fr(t, nw);
    arb_add_ui(t, t, 1, prec);
    arb_mul(bound, D2, t, prec);
    arb_mul(t, eps, v3, prec);
    arb_mul_ui(t, t, (unsigned long)(2 * n), prec);
    arb_add(bound, bound, t, prec);
    mpfr_clear(nw);
    imat_clear(H);
    imat_clear(S);
    imat_clear(V3);
    omega_ivals_clear(eps, Rh, Y, v3, t, u, D1, D2, lip, cm, (arb_ptr)0);
}

/* A linear head on the stream: W_QK = blockdiag(0, c2 I_(n+1)), W_OV given
 * on the feature block by the caller. */
static void linear_head(attn_head_t hd, long Dw, long P, long n, const arb_t c2)
{
    attn_head_init_full(hd, Dw);
    for (long i = 0; i <= n; i++)
        arb_set(imat_entry(hd->W_Q, P + i, P + i), c2);
}

typedef struct {
    arb_srcptr c2; /* 2 Omega */
    long d, n;
    int no_self;   /* the mutation without the self term */
} silu_heads_t;

/* Heads [c0, c1): the SiLU head of hidden channel c as full-form blocks. */
static void silu_fill(attn_chunk_t *ch, long c0, long c1, const void *ctx, mpfr_prec_t prec)
{
    const silu_heads_t *p = ctx;
    long n = p->n, P = ch->D - n - 1;
    (void)prec;
    for (long c = c0; c < c1; c++) {
        long k0 = attn_chunk_col(ch, c, 0), chan = p->d + c;
        omega_blog_positions(ch->W_Q, k0, P, n, p->c2, p->no_self);
        for (long i = 0; i < n; i++)
            arb_set_si(imat_entry(ch->W_Q, chan, k0 + P + i), -1);
        arb_set_si(imat_entry(ch->W_V, chan, k0 + chan), -1);
    }
}

/* One row; with out, the three layers, the stream they start from and the
 * ideal stream they approach, [[X + MLP(X), SiLU(X W_in), I_n, 0], [0, 0, 0, 1]]. */
static int evaluate(row_t *r, instance_t *out)
{
    mpfr_prec_t prec = r->prec;
    long d, l, n;
    arb_t omega, c2, one;
    arb_init(omega);
    if (omega_blog_params(r, omega, &d, &l, &n) != 0) {
        arb_clear(omega);
        return -1;
    }
    long P = d + l, Dw = d + l + n + 1;
    gmp_randstate_t st;
    imat_t X, Win, Wout, Xb, ref;
    thm_rand_init(st, r->seed, 22);
    imat_init(X, n, d);
    imat_init(Win, d, l);
    imat_init(Wout, l, d);
    imat_randtest_dyadic(X, st, WEIGHT_BITS);
    imat_randtest_dyadic(Win, st, WEIGHT_BITS);
    imat_randtest_dyadic(Wout, st, WEIGHT_BITS);
    gmp_randclear(st);
    imat_init(Xb, 0, 0);
    omega_blog_stream(Xb, X, P);
    arb_init(c2);
    arb_init(one);
    arb_mul_2exp_si(c2, omega, r->mutation == MUT_OMEGA ? 0 : 1);
    if (out) {
        imat_t R, H;
        imat_init(R, 0, 0);
        imat_init(H, n, l);
        omega_blog_stream(R, X, P);
        imat_mul(H, X, Win, prec);
        arb_one(one);
        for (long k = 0; k < n * l; k++)
            ival_silu_a(H->e + k, H->e + k, one, prec);
        imat_set_block(R, 0, d, H);
        imat_t Y;
        imat_init(Y, n, d);
        imat_mul(Y, H, Wout, prec);
        for (long i = 0; i < n; i++)
            for (long k = 0; k < d; k++)
                arb_add(imat_entry(R, i, k), imat_entry(R, i, k), imat_entry(Y, i, k), prec);
        instance_net_io(out, Xb, R, BLOG_LAYOUT);
        instance_add(out, "X", X); /* the unconverted MLP, for float formats */
        instance_add(out, "W_in", Win);
        instance_add(out, "W_out", Wout);
        instance_orig_mlp(out, X, Win, Wout, one, 0, "X + SiLU(X W_in) W_out");
        imat_clear(R);
        imat_clear(H);
        imat_clear(Y);
    }

    /* layer 1: linear in */
    attn_head_t lin;
    linear_head(lin, Dw, P, n, c2);
    for (long k = 0; k < d; k++)
        for (long c = 0; c < l; c++)
            arb_set(imat_entry(lin->W_V, k, d + c), imat_entry(Win, k, c));
    if (out)
        instance_net_heads(out, lin, 1, NULL, prec);
    attn_layer_apply(Xb, lin, 1, NULL, prec);
    attn_head_clear(lin);

    /* layer 2: SiLU on each hidden channel, the l heads stacked and streamed */
    silu_heads_t sh = {.c2 = c2, .d = d, .n = n, .no_self = r->mutation == MUT_NO_SELF};
    attn_source_t src = {.n_heads = l, .full = 1, .fill = silu_fill, .ctx = &sh};
    if (out)
        instance_net_source(out, &src, Dw, prec);
    attn_layer_sum(Xb, Xb, &src, 1, 1, prec);

    /* layer 3: linear out */
    linear_head(lin, Dw, P, n, c2);
    for (long c = 0; c < l; c++)
        for (long k = 0; k < d; k++)
            arb_set(imat_entry(lin->W_V, d + c, k), imat_entry(Wout, c, k));
    if (out)
        instance_net_heads(out, lin, 1, NULL, prec);
    attn_layer_apply(Xb, lin, 1, NULL, prec);
    attn_head_clear(lin);

    /* reference: X + SiLU(X W_in) W_out */
    imat_init(ref, n, d);
    arb_set_ui(one, 1);
    mlp_apply(ref, X, Win, Wout, ival_silu_a, one, prec);
    imat_add(ref, ref, X, prec);
    error_metric(r->error, r->error_abs, Xb, ref, 0, n, d, prec);
    error_trivial_bound(r->trivial, Xb, ref, 0, n, d, prec);
    r->has_trivial = 1;

    three_layer_bound(r->bound, X, Win, Wout, omega, r->mutation, prec);
    r->has_bound = 1;
    arb_ptr C = row_add_ival(r, "C = bound e^(2 Omega)");
    arb_mul_2exp_si(C, omega, 1);
    arb_exp(C, C, prec);
    arb_mul(C, C, r->bound, prec);
    row_add_long(r, "heads", l + 2);
    row_add_long(r, "width", Dw);
    row_add_text(r, "E resolved", "%s", omega_resolved(r->error) ? "yes" : "NO");

    arb_clear(omega);
    arb_clear(c2);
    arb_clear(one);
    imat_clear(X);
    imat_clear(Win);
    imat_clear(Wout);
    imat_clear(Xb);
    imat_clear(ref);
    return 0;
}

#define BLOG_OMEGAS "1,2,5,10,20,50,100,1000"

static int run(row_t *r) { return evaluate(r, NULL); }

static int export_instance(instance_t *I, const params_t *p, unsigned long seed, mpfr_prec_t prec)
{
    return omega_blog_export(I, p, seed, prec, evaluate,
                             "three unmasked layers (linear in, SiLU per channel, linear out) "
                             "on the blog stream; reference: the ideal stream");
}

#define BLOG_OMEGAS "1,2,5,10,20,50,100,1000"

const claim_t claim_blog_three_layer = {
    .id = "blog-three-layer",
    .source = "blog code",
    .kind = KIND_INEQUALITY,
    .provenance = "blog code (construction); bound derived",
    .statement = "Three unmasked attention layers (linear in, SiLU per channel, linear out) give "
                 "X + SiLU(X W_in) W_out up to a derived E <= C e^(-2 Omega).",
    .formula = "Stream [[X, 0_l, I_n, 0], [0, 0, 0, 1]] (width d + l + n + 1; extra token **last**, "
               "positions p_i = e_{P+i}, P = d + l), residual X ← X + Σ heads:\n"
               "1. linear in: W_QK = blockdiag(0, 2Ω I_{n+1}), W_OV = [[0, W_in], [0, 0]];\n"
               "2. SiLU, one head per hidden channel c: W_QK = 2Ω Σ_{i≤n} p_iᵀp_n + 2Ω Σ_{i<n} p_iᵀp_i "
               "− Σ_{i<n} e_cᵀp_i, W_OV = −e_cᵀe_c (logits 2Ω extra, 2Ω − x self, −x others);\n"
               "3. linear out: W_QK as in 1, W_OV = [[0, 0], [W_out, 0]].\n"
               "Derived bound (ε = e^{−2Ω}; Δ_t = largest feature-row error after layer t): "
               "Δ₁ ≤ 2nεR_h; Δ₂ ≤ 3.1Δ₁ + nε e^{Δ₁}(R_h + Δ₁ + Y + √l Δ₁); "
               "**E ≤ Δ₃ ≤ Δ₂(1 + ‖W_out‖₂) + 2nεV₃**, R_h = max‖x_k W_in‖, Y = √(Σ_c max_k h_kc²), "
               "V₃ = max‖SiLU(h_k) W_out‖, 1.1 ≥ sup|SiLU′|. E: real rows, first d columns. "
               "Shape = d x l x n.",
    .notes = "The bound is derived here (the blog states no bound) and is loose by the "
             "propagation constants. Fits are least-squares estimates in doubles.",
    .quick = {{"blog", {{"shape", "3x12x4,2x8x6"}, {"omega", BLOG_OMEGAS}, {NULL, NULL}}},
              {NULL, {{NULL, NULL}}}},
    .full = {{"blog", {{"shape", "3x12x4,2x8x6,8x32x16"}, {"omega", BLOG_OMEGAS ",2000"},
                       {"seed", "1,2,3"}, {NULL, NULL}}},
             {NULL, {{NULL, NULL}}}},
    .mutations = {{"omega-not-2omega", "every 2 Omega replaced by Omega (error ~ e^-Omega)"},
                  {"no-self-term", "the SiLU heads lose their 2 Omega p_i^T p_i self term"},
                  {"bound-rate-4omega", "the claimed bound with e^(-4 Omega) instead of e^(-2 Omega)"},
                  {NULL, NULL}},
    .plots = {{.x = "omega", .y = "error", .series = "shape", .logy = 1, .extra_y = "bound",
               .title = "hi(E) against Omega down to 1e-869 (dashed: the derived bound)"}},
    .run = run,
    .export_instance = export_instance,
    .start_prec = omega_blog_start_prec,
    .fit = omega_blog_fit,
    .summary_md = omega_blog_summary,
    .estimate_bytes = omega_blog_three_bytes,
};
