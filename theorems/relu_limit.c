/* relu-limit (abstract; constant derived).  sup_z |SiLU_a(z) - ReLU(z)| =
 * W0(1/e)/a: with t = a|z| the gap is t/(1+e^t)/a, maximal where
 * 1 + e^t = t e^t, i.e. t = 1 + W0(1/e), value e^-t = W0(1/e).
 * Rows "gap": certified B&B sup on [-L, L] (L = max(10, 2(1+W0)/a) holds the
 * argmax; beyond it the gap decreases: t/(1+e^t) falls for t > 1.28) against
 * the certified W0(1/e)/a.  Rows "mlp": E between X + ReLU-MLP(X) and the
 * SiLU_a neuron heads against (W0(1/e)/a) sum_k ||W_out[k,:]||_2. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "act_util.h"
#include "omega_util.h"
#include "special.h"

enum { MUT_NONE, MUT_WRONG_W0, MUT_NO_INV_A, MUT_MAX_NOT_SUM };

/* Relative tolerance of the B&B sup; the gap row allows 4x it. */
#define RL_REL_TOL 1e-9

/* c = W0(1/e)/a, or the mutated constant. */
static void closed_form(arb_t c, const arb_t a, int mutation, mpfr_prec_t prec)
{
    if (mutation == MUT_WRONG_W0) {
        /* 1/(1+e): the gap at t = 1, a plausible wrong derivation */
        arb_set_ui(c, 1);
        arb_exp(c, c, prec);
        arb_add_ui(c, c, 1, prec);
        arb_ui_div(c, 1, c, prec);
    } else {
        special_w0_inv_e(c, prec);
    }
    if (mutation != MUT_NO_INV_A)
        arb_div(c, c, a, prec);
}

static int run_gap(row_t *r, const arb_t a, mpfr_prec_t prec)
{
    act_t f, g;
    char err[128];
    act_init_silu_a(&f, a, prec);
    act_init_name(&g, "relu", err, sizeof err, prec);
    double ad = ival_lo_d(a);
    double L = fmax(10.0, 2 * 1.3 / ad);
    if (!isfinite(L) || L > 1e12) { /* the argmax (1 + W0)/a must lie in a usable domain */
        snprintf(r->note, sizeof r->note, "a='%s' is too small (domain [-L, L] with L = 2.6/a)",
                 params_get(&r->params, "a"));
        act_clear(&f);
        act_clear(&g);
        return -1;
    }
    arb_ptr sup = row_add_ival(r, "sup gap");
    arb_ptr c = row_add_ival(r, "W0(1/e)/a");
    arb_ptr am = row_add_ival(r, "(1+W0)/a");
    mpfr_t arg;
    mpfr_init2(arg, prec);
    long boxes;
    int st = supnorm_gap(sup, arg, &boxes, &f, &g, L, RL_REL_TOL, prec);
    closed_form(c, a, r->mutation, prec);
    special_w0_inv_e(am, prec);
    arb_add_ui(am, am, 1, prec);
    arb_div(am, am, a, prec);
    /* E = |sup - c|: contains 0 iff the two enclosures meet; the triangle
     * inequality allows E <= |sup| + |c| */
    arb_sub(r->error, sup, c, prec);
    ival_abs(r->error, r->error, prec);
    arb_t cabs;
    arb_init(cabs);
    ival_abs(r->trivial, sup, prec);
    ival_abs(cabs, c, prec);
    arb_add(r->trivial, r->trivial, cabs, prec);
    arb_clear(cabs);
    r->has_trivial = 1;
    arb_set(r->error_abs, r->error);
    /* the enclosures meet (false when either is not finite) */
    int meet = arb_is_finite(sup) && arb_is_finite(c) && arb_overlaps(sup, c);
    if (meet) {
        arb_set_d(r->bound, 4 * RL_REL_TOL); /* exact: a double */
        arb_mul(r->bound, r->bound, c, prec);
    } else {
        arb_set_ui(r->bound, 0); /* disjoint: certified sup != c */
    }
    r->has_bound = 1;
    row_add_text(r, "contains", "%s", meet ? "yes" : "NO");
    mpfr_abs(arg, arg, MPFR_RNDN);
    ival_set_fr(row_add_ival(r, "|argmax|"), arg);
    row_add_text(r, "domain L", "%g", L);
    row_add_long(r, "boxes", boxes);
    if (st != 0)
        row_add_text(r, "B&B", "budget spent");
    mpfr_clear(arg);
    act_clear(&f);
    act_clear(&g);
    return 0;
}

static int run_mlp(row_t *r, const arb_t a, mpfr_prec_t prec)
{
    long dims[3];
    if (thm_get_shape(dims, 3, r) != 0)
        return -1;
    const char *fam = params_get(&r->params, "family");
    arb_t c, s, mx;
    mpfr_t t, zmax;
    arb_init(c);
    arb_init(s);
    arb_init(mx);
    mpfr_init2(t, 64);
    mpfr_init2(zmax, 64);
    /* adversarial token: z = (1 + W0)/a rounded to 24 bits (exact) */
    special_w0_inv_e(c, prec);
    arf_get_mpfr(t, arb_midref(c), MPFR_RNDN);
    mpfr_add_ui(t, t, 1, MPFR_RNDN);
    mpfr_div_d(t, t, ival_lo_d(a), MPFR_RNDN);
    mpfr_set_d(t, act_snap_dyadic(mpfr_get_d(t, MPFR_RNDN), 24 - (int)ceil(log2(mpfr_get_d(t, MPFR_RNDN)))),
               MPFR_RNDN);
    au_mlp_t m;
    if (!fam || au_mlp_init(&m, fam, dims[0], dims[1], dims[2], t, r->seed, prec) != 0) {
        snprintf(r->note, sizeof r->note, "family='%s' must be random or adv", fam ? fam : "");
        arb_clear(c); arb_clear(s); arb_clear(mx);
        mpfr_clear(t); mpfr_clear(zmax);
        return -1;
    }
    au_mlp_vs_heads(r->error, r->error_abs, r->trivial, zmax, &m, ival_relu, NULL, a, prec);
    r->has_trivial = 1;
    au_row_norms(s, mx, m.W_out, prec);
    closed_form(c, a, r->mutation == MUT_MAX_NOT_SUM ? 0 : r->mutation, prec);
    arb_mul(r->bound, c, r->mutation == MUT_MAX_NOT_SUM ? mx : s, prec);
    r->has_bound = 1;
    arb_set(row_add_ival(r, "sum ||W_out[k]||"), s);
    if (strcmp(fam, "adv") == 0)
        ival_set_fr(row_add_ival(r, "adv z"), t);
    row_add_long(r, "heads", dims[1]);
    au_mlp_clear(&m);
    arb_clear(c); arb_clear(s); arb_clear(mx);
    mpfr_clear(t); mpfr_clear(zmax);
    return 0;
}

static int run(row_t *r)
{
    arb_t a;
    arb_init(a);
    int rc = thm_get_slope(a, r);
    if (rc == 0)
        rc = strcmp(r->sweep, "gap") == 0 ? run_gap(r, a, r->prec) : run_mlp(r, a, r->prec);
    arb_clear(a);
    return rc;
}

/* log-log slopes (least squares in doubles: estimates) of the sup gap and of
 * the adversarial E against a. */
static int fit(fit_t *fits, int max_fits, const row_t *rows, long n_rows)
{
    int nf = 0;
    for (int which = 0; which < 2 && nf < max_fits; which++) {
        double xs[64], ys[64];
        int n = 0;
        for (long k = 0; k < n_rows && n < 64; k++) {
            const row_t *r = rows + k;
            const column_t *c = omega_extra(r, "sup gap");
            const char *fam = params_get(&r->params, "family");
            double a = params_get_double(&r->params, "a", NAN);
            if (which == 0 && c && strcmp(r->sweep, "gap") == 0) {
                xs[n] = log(a);
                ys[n++] = omega_ln_hi_d(c->iv);
            } else if (which == 1 && fam && strcmp(fam, "adv") == 0 &&
                       ival_hi_d(r->error) > 0) {
                double y = omega_ln_hi_d(r->error);
                int j;
                for (j = 0; j < n && xs[j] != log(a); j++) {}
                if (j < n)
                    ys[j] = fmax(ys[j], y); /* max over seeds and shapes */
                else {
                    xs[n] = log(a);
                    ys[n++] = y;
                }
            }
        }
        if (n < 2)
            continue;
        fit_t *f = fits + nf++;
        memset(f, 0, sizeof *f);
        snprintf(f->series, sizeof f->series, which ? "mlp adv" : "gap");
        snprintf(f->x, sizeof f->x, "a");
        snprintf(f->y, sizeof f->y, which ? "error" : "sup gap");
        snprintf(f->model, sizeof f->model, "log-log");
        omega_lsq(&f->slope, &f->intercept, xs, ys, n);
        f->points = n;
        if (which == 0)
            snprintf(f->comment, sizeof f->comment, "expected -1; exp(intercept) = %.10f, "
                     "compare W0(1/e) (estimate)", exp(f->intercept));
        else
            snprintf(f->comment, sizeof f->comment, "expected -1 (E/bound ~ 1 on adv rows; "
                     "estimate)");
    }
    return nf;
}

const claim_t claim_relu_limit = {
    .id = "relu-limit",
    .source = "abstract (\"close approximations of ReLU\")",
    .kind = KIND_INEQUALITY,
    .provenance = "derived",
    .statement = "sup_z |SiLU_a(z) - ReLU(z)| = W0(1/e)/a; the SiLU_a heads of a ReLU MLP are "
                 "within (W0(1/e)/a) sum_k ||W_out[k,:]||_2 of it.",
    .formula = "With t = a|z|: |SiLU_a(z) − ReLU(z)| = (1/a)·t/(1+eᵗ), maximal where "
               "1 + eᵗ = t eᵗ, at t = 1 + W₀(1/e), value e^{−t} = W₀(1/e): **sup = W₀(1/e)/a**.\n"
               "Rows `gap`: E = |S − C| with S the certified B&B enclosure of the sup on [−L, L] "
               "(L = max(10, 2.6/a) holds the argmax; outside it t/(1+eᵗ) decreases) and C the "
               "certified W₀(1/e)/a (interval Newton). E contains 0 iff the enclosures meet; "
               "the bound is 4·10⁻⁹·C (the B&B tolerance) when they meet and 0 when they are "
               "disjoint, so disjoint enclosures are `violated`.\n"
               "Rows `mlp`: E between X + ReLU(X W_in) W_out and X̂ + Σ_k h_k(X̂) (mlp-layer's "
               "neuron heads with SiLU_a, mask B, real rows) against "
               "**(W₀(1/e)/a)·Σ_k ‖W_out[k,:]‖₂**. Family `adv`: W_in columns e₁, W_out rows "
               "positive multiples of one row, tokens ±z*, z* = (1+W₀)/a to 24 bits: "
               "E/bound ≈ 1.",
    .notes = "The MLP rows measure E on a few tokens: a lower check of the bound, not a proof "
             "for all inputs (the sup gap rows give that). Fits are least squares in doubles "
             "(estimates). No LayerNorm, no MLP biases.",
    .quick = {{"gap", {{"a", "0.25,0.5,1,2,4,8,16,32,64,128,256,512,1024"}, {NULL, NULL}}},
              {"mlp", {{"family", "random,adv"}, {"a", "0.25,1,4,16,64"}, {"shape", "4x8x6"},
                       {"seed", "1,2"}, {NULL, NULL}}},
              {NULL, {{NULL, NULL}}}},
    .full = {{"gap", {{"a", "0.125,0.25,0.5,1,2,4,8,16,32,64,128,256,512,1024"}, {NULL, NULL}}},
             {"mlp", {{"family", "random,adv"}, {"a", "0.25,0.5,1,2,4,16,64,256,1024"},
                      {"shape", "4x8x6,8x32x16"}, {"seed", "1,2,3,4"}, {NULL, NULL}}},
             {NULL, {{NULL, NULL}}}},
    .mutations = {{"wrong-w0", "W0(1/e) replaced by 1/(1+e) (the gap at t = 1)"},
                  {"no-inv-a", "the constant without its 1/a factor"},
                  {"max-not-sum", "the MLP bound with max_k ||W_out[k,:]|| instead of the sum"},
                  {NULL, NULL}},
    .plots = {{.x = "a", .y = "sup gap", .logx = 1, .logy = 1, .extra_y = "W0(1/e)/a",
               .title = "certified sup |SiLU_a - ReLU| against a (dashed: W0(1/e)/a)"},
              {.x = "a", .y = "error", .series = "family", .logx = 1, .logy = 1,
               .title = "MLP rows: hi(E) against a, per family (max over seeds)"}},
    .run = run,
    .fit = fit,
    .estimate_bytes = au_estimate_bytes,
};
