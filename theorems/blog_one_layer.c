/* blog-one-layer (blog code: ffn_via_attention_single_layer.py).  One
 * unmasked head per hidden neuron h on the stream X- = [[X, I_n, 0], [0, 0, 1]]
 * (extra token LAST, positions p_i = e_(d+i)):
 *   W_QK = 2 Omega sum_(i<=n) p_i^T p_n + 2 Omega sum_(i<n) p_i^T p_i
 *          + sum_(i<n) [W_in[:,h]; 0] p_i,   W_OV = blockdiag(W_in[:,h] W_out[h,:], 0).
 * Logits of a real query with z = x.W_in[:,h]: 2 Omega (extra), 2 Omega + z
 * (self), z (other real tokens); the extra token's value is 0, so the head
 * gives ~ sigma(z) z W_out[h,:] and the heads sum to ~ MLP(X).
 *
 * Derived bound.  Shift the logits by 2 Omega: weights 1 (extra), e^z (self),
 * e^(z - 2 Omega) (n-1 others), T = 1 + e^z + (n-1) e^(z - 2 Omega).  The
 * output minus SiLU(z_a) u is u [e^z z_a (1/T - 1/(1+e^z)) + e^(z-2 Omega)
 * sum_(k != a) z_k / T]; both terms are at most (n-1) e^(-2 Omega) max|z_k|
 * (e^z/T <= 1, e^z/(1+e^z) <= 1).  Summing over heads:
 *   E <= 2 (n-1) e^(-2 Omega) sum_h Zmax_h ||W_out[h,:]||,  Zmax_h = max_k |x_k.W_in[:,h]|. */
#include <string.h>
#include "omega_util.h"

enum { MUT_NONE, MUT_OMEGA, MUT_NO_SELF, MUT_RATE4 };

typedef struct {
    const imat_struct *W_in, *W_out;
    arb_srcptr c2; /* 2 Omega */
    long n;
    int no_self;   /* the mutation without the self term */
} neuron_heads_t;

/* Heads [h0, h1): W_QK and W_OV of neuron h as full-form blocks of the chunk. */
static void neuron_fill(attn_chunk_t *ch, long h0, long h1, const void *ctx, mpfr_prec_t prec)
{
    const neuron_heads_t *p = ctx;
    long d = p->W_in->rows, n = p->n, P = d;
    for (long h = h0; h < h1; h++) {
        long c0 = attn_chunk_col(ch, h, 0);
        omega_blog_positions(ch->W_Q, c0, P, n, p->c2, p->no_self);
        for (long k = 0; k < d; k++)
            for (long i = 0; i < n; i++)
                arb_set(imat_entry(ch->W_Q, k, c0 + P + i), imat_entry(p->W_in, k, h));
        for (long k = 0; k < d; k++)
            for (long s = 0; s < d; s++)
                arb_mul(imat_entry(ch->W_V, k, c0 + s), imat_entry(p->W_in, k, h),
                        imat_entry(p->W_out, h, s), prec);
    }
}

/* One row; with out, the layer, the stream it starts from and the ideal
 * stream it approaches, X- + [[MLP(X), 0], [0, 0]]. */
static int evaluate(row_t *r, instance_t *out)
{
    mpfr_prec_t prec = r->prec;
    long d, l, n;
    arb_t omega, c2, t, z, zmax, acc;
    arb_init(omega);
    if (omega_blog_params(r, omega, &d, &l, &n) != 0) {
        arb_clear(omega);
        return -1;
    }
    long Dw = d + n + 1;
    gmp_randstate_t st;
    imat_t X, Win, Wout, Xb, S, ref, H;
    thm_rand_init(st, r->seed, 21);
    imat_init(X, n, d);
    imat_init(Win, d, l);
    imat_init(Wout, l, d);
    imat_randtest_dyadic(X, st, WEIGHT_BITS);
    imat_randtest_dyadic(Win, st, WEIGHT_BITS);
    imat_randtest_dyadic(Wout, st, WEIGHT_BITS);
    gmp_randclear(st);
    imat_init(Xb, 0, 0);
    omega_blog_stream(Xb, X, d);

    omega_ivals_init(c2, t, z, zmax, acc, (arb_ptr)0);
    /* 2 Omega (the mutation uses Omega) */
    arb_mul_2exp_si(c2, omega, r->mutation == MUT_OMEGA ? 0 : 1);
    /* the l heads, stacked and streamed; their sum, without the residual */
    imat_init(S, 0, 0);
    neuron_heads_t nh = {.W_in = Win, .W_out = Wout, .c2 = c2, .n = n,
                         .no_self = r->mutation == MUT_NO_SELF};
    attn_source_t src = {.n_heads = l, .full = 1, .fill = neuron_fill, .ctx = &nh};
    attn_layer_sum(S, Xb, &src, 1, 0, prec);
    /* the reference: MLP(X) = SiLU(X W_in) W_out */
    imat_init(ref, n, d);
    arb_set_ui(t, 1);
    mlp_apply(ref, X, Win, Wout, ival_silu_a, t, prec);
    error_metric(r->error, r->error_abs, S, ref, 0, n, d, prec);
    error_trivial_bound(r->trivial, S, ref, 0, n, d, prec);
    r->has_trivial = 1;
    if (out) {
        imat_t R;
        imat_init(R, 0, 0);
        omega_blog_stream(R, X, d);
        for (long i = 0; i < n; i++)
            for (long k = 0; k < d; k++)
                arb_add(imat_entry(R, i, k), imat_entry(R, i, k), imat_entry(ref, i, k), prec);
        instance_net_source(out, &src, Dw, prec);
        instance_net_io(out, Xb, R, BLOG_LAYOUT);
        instance_add(out, "X", X); /* the unconverted MLP, for float formats */
        instance_add(out, "W_in", Win);
        instance_add(out, "W_out", Wout);
        arb_one(t);
        instance_orig_mlp(out, X, Win, Wout, t, 0, "X + SiLU(X W_in) W_out");
        imat_clear(R);
    }

    /* the bound: 2(n-1) e^(-2 Omega) sum_h Zmax_h ||W_out[h,:]|| */
    imat_init(H, n, l);
    imat_mul(H, X, Win, prec);
    arb_set_ui(acc, 0);
    for (long h = 0; h < l; h++) {
        arb_set_ui(zmax, 0);
        for (long k = 0; k < n; k++) {
            ival_abs(z, imat_entry(H, k, h), prec);
            ival_max(zmax, zmax, z, prec);
        }
        imat_row_norm2(t, Wout, h, prec);
        arb_mul(t, t, zmax, prec);
        arb_add(acc, acc, t, prec);
    }
    arb_mul_2exp_si(t, omega, r->mutation == MUT_RATE4 ? 2 : 1);
    arb_neg(t, t);
    arb_exp(t, t, prec);
    arb_mul(t, t, acc, prec);
    arb_mul_ui(t, t, (unsigned long)(2 * (n - 1)), prec);
    arb_set(r->bound, t);
    r->has_bound = 1;
    arb_mul_ui(row_add_ival(r, "C = bound e^(2 Omega)"), acc, (unsigned long)(2 * (n - 1)), prec);
    row_add_long(r, "heads", l);
    row_add_long(r, "width", Dw);
    row_add_text(r, "E resolved", "%s", omega_resolved(r->error) ? "yes" : "NO");

    omega_ivals_clear(omega, c2, t, z, zmax, acc, (arb_ptr)0);
    imat_clear(X);
    imat_clear(Win);
    imat_clear(Wout);
    imat_clear(Xb);
    imat_clear(S);
    imat_clear(ref);
    imat_clear(H);
    return 0;
}

#define BLOG_OMEGAS "1,2,5,10,20,50,100,1000"

static int run(row_t *r) { return evaluate(r, NULL); }

static int export_instance(instance_t *I, const params_t *p, unsigned long seed, mpfr_prec_t prec)
{
    return omega_blog_export(I, p, seed, prec, evaluate,
                             "one unmasked head per neuron on the blog stream; reference: the "
                             "ideal stream");
}

const claim_t claim_blog_one_layer = {
    .id = "blog-one-layer",
    .source = "blog code",
    .kind = KIND_INEQUALITY,
    .provenance = "blog code (construction); bound derived",
    .statement = "l unmasked heads in one layer give MLP(X) = SiLU(X W_in) W_out up to "
                 "E <= 2(n-1) e^(-2 Omega) sum_h Zmax_h ||W_out[h,:]||.",
    .formula = "Stream X̄ = [[X, I_n, 0], [0, 0, 1]] (extra token **last**, positions p_i = e_{d+i}), "
               "unmasked heads, one per hidden neuron h:\n"
               "W_QK = 2Ω Σ_{i≤n} p_iᵀp_n + 2Ω Σ_{i<n} p_iᵀp_i + Σ_{i<n} [W_in[:,h]; 0] p_i, "
               "W_OV = blockdiag(W_in[:,h] W_out[h,:], 0).\n"
               "Logits 2Ω (extra), 2Ω + z (self), z (others), z = x·W_in[:,h]; Σ_h h_h(X̄) ≈ "
               "SiLU(X W_in) W_out on real rows (the blog's test compares the head sum, "
               "without the residual, with the FFN output).\n"
               "Derived bound: shifting by 2Ω, both error terms are at most "
               "(n−1)e^{−2Ω} max_k|z_k|·‖W_out[h,:]‖, so **E ≤ 2(n−1)e^{−2Ω} Σ_h Zmax_h ‖W_out[h,:]‖** "
               "with Zmax_h = max_k |x_k·W_in[:,h]| (certified). E: real rows, first d columns. "
               "Shape = d x l x n (l = 4d as in the blog's test).",
    .notes = "The bound is derived here (the blog states no bound). Fits are least-squares "
             "estimates in doubles.",
    .quick = {{"blog", {{"shape", "3x12x4,2x8x6"}, {"omega", BLOG_OMEGAS}, {NULL, NULL}}},
              {NULL, {{NULL, NULL}}}},
    .full = {{"blog", {{"shape", "3x12x4,2x8x6,8x32x16"}, {"omega", BLOG_OMEGAS ",2000"},
                       {"seed", "1,2,3"}, {NULL, NULL}}},
             {NULL, {{NULL, NULL}}}},
    .mutations = {{"omega-not-2omega", "every 2 Omega in W_QK replaced by Omega (error ~ e^-Omega)"},
                  {"no-self-term", "the 2 Omega sum_(i<n) p_i^T p_i term dropped (self loses to the extra token)"},
                  {"bound-rate-4omega", "the claimed bound with e^(-4 Omega) instead of e^(-2 Omega)"},
                  {NULL, NULL}},
    .plots = {{.x = "omega", .y = "error", .series = "shape", .logy = 1, .extra_y = "bound",
               .title = "hi(E) against Omega down to 1e-869 (dashed: the derived bound)"}},
    .run = run,
    .export_instance = export_instance,
    .start_prec = omega_blog_start_prec,
    .fit = omega_blog_fit,
    .summary_md = omega_blog_summary,
    .estimate_bytes = omega_blog_one_bytes,
};
