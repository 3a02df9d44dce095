/* gelu-approx (abstract: "close approximations of GeLU").  For a target T
 * (gelu or gelu_tanh): the certified gap G(a) = sup_{|z|<=L} |T(z) - SiLU_a(z)|,
 * a* = argmin_a G(a) located by golden-section search on a double estimate of
 * G (an estimate), then certified comparisons at a*:
 *   rows "gap":     G(a*) <= G(a) for every sweep a (E = G(a*), bound = G(a));
 *   rows "bracket": the same at a = a* +- delta: the minimiser to |delta|
 *                   (if a -> G(a) is unimodal, observed not proved);
 *   rows "mlp":     E between X + T(X W_in) W_out (T certified) and the SiLU_a
 *                   heads against G(a) sum_k ||W_out[k,:]||_2 (|z| <= L checked). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "act_util.h"
#include "silufit.h"
#include "xalloc.h"

enum { MUT_NONE, MUT_WRONG_MIN, MUT_HALF_GAP, MUT_MAX_NOT_SUM };

#define GA_L 10.0
#define GA_REL_TOL 1e-11

/* a* in doubles (estimate), rounded to 2^-30 so it is a short exact dyadic;
 * deterministic, so cached per target (rows run on several threads). */
static double locate_min(const act_t *t)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static double cache[2];
    int k = strcmp(t->name, "gelu") == 0 ? 0 : 1;
    pthread_mutex_lock(&lock);
    if (cache[k] == 0)
        cache[k] = silufit_minimax_a(t, GA_L);
    double a = cache[k];
    pthread_mutex_unlock(&lock);
    return a;
}

/* Certified G(a) with a given as an enclosure. */
static void cert_gap(arb_t G, mpfr_t arg, const act_t *t, const arb_t a, mpfr_prec_t prec)
{
    act_t s;
    act_init_silu_a(&s, a, prec);
    supnorm_gap(G, arg, NULL, t, &s, GA_L, GA_REL_TOL, prec);
    act_clear(&s);
}

static int get_target(act_t *t, row_t *r, mpfr_prec_t prec)
{
    const char *name = params_get(&r->params, "target");
    char err[200];
    if (!name || (strcmp(name, "gelu") && strcmp(name, "gelu_tanh")) ||
        act_init_name(t, name, err, sizeof err, prec) != 0) {
        snprintf(r->note, sizeof r->note, "target='%s' must be gelu or gelu_tanh",
                 name ? name : "");
        return -1;
    }
    return 0;
}

static int run(row_t *r)
{
    mpfr_prec_t prec = r->prec;
    act_t t;
    if (get_target(&t, r, prec) != 0)
        return -1;
    double astar = locate_min(&t);
    if (r->mutation == MUT_WRONG_MIN)
        astar = act_snap_dyadic(astar * 1.01, 30);
    arb_t as, a, Gs, G, s, mx;
    mpfr_t arg;
    arb_init(as);
    arb_init(a);
    arb_init(Gs);
    arb_init(G);
    arb_init(s);
    arb_init(mx);
    mpfr_init2(arg, prec);
    arb_set_d(as, astar); /* exact: a double */
    int rc = 0;
    if (strcmp(r->sweep, "mlp") == 0) {
        const char *at = params_get(&r->params, "at");
        if (at && strcmp(at, "opt") == 0) {
            arb_set(a, as);
        } else if (params_get_ival(a, &r->params, "at", prec) != 0 || !arb_is_positive(a)) {
            snprintf(r->note, sizeof r->note, "at='%s' must be opt or a positive number",
                     at ? at : "");
            rc = -1;
        }
    } else if (strcmp(r->sweep, "bracket") == 0) {
        double delta = params_get_double(&r->params, "delta", NAN);
        if (!isfinite(delta) || astar + delta <= 0) {
            snprintf(r->note, sizeof r->note, "delta must be a number with a* + delta > 0");
            rc = -1;
        } else {
            arb_set_d(a, delta);
            arb_add(a, a, as, prec);
        }
    } else if (thm_get_slope(a, r) != 0) {
        rc = -1;
    }
    if (rc == 0)
        cert_gap(G, arg, &t, a, prec);
    if (rc == 0 && strcmp(r->sweep, "mlp") == 0) {
        long dims[3];
        const char *fam = params_get(&r->params, "family");
        mpfr_t tz, zmax;
        mpfr_init2(tz, 64);
        mpfr_init2(zmax, 64);
        /* adversarial token: just inside the certified argmax (the gap there
         * is below lo(G) by a margin far above the B&B tolerance) */
        mpfr_set_d(tz, act_snap_dyadic(fabs(mpfr_get_d(arg, MPFR_RNDN)) * (1 - 1.0 / 4096), 24),
                   MPFR_RNDN);
        if (mpfr_sgn(arg) < 0)
            mpfr_neg(tz, tz, MPFR_RNDN);
        au_mlp_t m;
        if (thm_get_shape(dims, 3, r) != 0) {
            rc = -1;
        } else if (!fam || au_mlp_init(&m, fam, dims[0], dims[1], dims[2], tz, r->seed, prec)) {
            snprintf(r->note, sizeof r->note, "family='%s' must be random or adv", fam ? fam : "");
            rc = -1;
        } else {
            au_mlp_vs_heads(r->error, r->error_abs, r->trivial, zmax, &m, act_eval_ival, &t, a,
                            prec);
            r->has_trivial = 1;
            au_row_norms(s, mx, m.W_out, prec);
            arb_mul(r->bound, G, r->mutation == MUT_MAX_NOT_SUM ? mx : s, prec);
            if (r->mutation == MUT_HALF_GAP)
                arb_mul_2exp_si(r->bound, r->bound, -1);
            r->has_bound = 1;
            if (!mpfr_number_p(zmax) || mpfr_cmp_d(zmax, GA_L) > 0) {
                snprintf(r->note, sizeof r->note, "a pre-activation exceeds L = %g", GA_L);
                rc = -1;
            }
            arb_set(row_add_ival(r, "sup gap G(a)"), G);
            arb_set(row_add_ival(r, "sum ||W_out[k]||"), s);
            ival_set_fr(row_add_ival(r, "max |z|"), zmax);
            au_mlp_clear(&m);
        }
        mpfr_clear(tz);
        mpfr_clear(zmax);
    } else if (rc == 0) {
        mpfr_t arg2;
        mpfr_init2(arg2, prec);
        cert_gap(Gs, arg2, &t, as, prec);
        arb_set(r->error, Gs);
        arb_set(r->error_abs, Gs);
        arb_set(r->bound, G);
        r->has_bound = 1;
        /* E = sup |T - SiLU_a*| on [-L, L], and |T(z)|, |SiLU_a(z)| <= |z|: the
         * triangle inequality allows E <= 2L */
        arb_set_d(r->trivial, 2 * GA_L);
        r->has_trivial = 1;
        arb_set(row_add_ival(r, "G(a)"), G);
        arb_set(row_add_ival(r, "G(a*)"), Gs);
        mpfr_abs(arg2, arg2, MPFR_RNDN);
        ival_set_fr(row_add_ival(r, "|argmax| at a*"), arg2);
        mpfr_clear(arg2);
    }
    if (rc == 0) {
        row_add_text(r, "a* (estimate)", "%.9f", astar);
        arb_set(row_add_ival(r, "a used"), a);
    }
    arb_clear(as);
    arb_clear(a);
    arb_clear(Gs);
    arb_clear(G);
    arb_clear(s);
    arb_clear(mx);
    mpfr_clear(arg);
    act_clear(&t);
    return rc;
}

static char *summary_md(const row_t *rows, long n_rows)
{
    char *s = xmalloc(8192);
    size_t len = 0;
    len += (size_t)snprintf(s + len, 8192 - len,
                            "## Minimiser of the gap\n\n| target | a* (estimate) | certified "
                            "G(a*) | certified G(1.702) | a* bracket (certified G(a*±δ) > G(a*)) |\n"
                            "|---|---|---|---|---|\n");
    static const char *const targets[] = {"gelu", "gelu_tanh"};
    for (int t = 0; t < 2; t++) {
        const row_t *opt = NULL, *r1702 = NULL;
        double dmin = INFINITY;
        int bracket_ok = 1, brackets = 0;
        for (long k = 0; k < n_rows; k++) {
            const row_t *r = rows + k;
            const char *tg = params_get(&r->params, "target");
            if (!tg || strcmp(tg, targets[t]) != 0 || strcmp(r->sweep, "mlp") == 0)
                continue;
            if (!opt)
                opt = r;
            const char *a = params_get(&r->params, "a");
            if (a && strcmp(a, "1.702") == 0)
                r1702 = r;
            if (strcmp(r->sweep, "bracket") == 0) {
                brackets++;
                bracket_ok &= r->verdict == VERDICT_HOLDS;
                dmin = fmin(dmin, fabs(params_get_double(&r->params, "delta", NAN)));
            }
        }
        if (!opt)
            continue;
        const column_t *gs = row_find_column(opt, "G(a*)"), *as = row_find_column(opt, "a* (estimate)");
        const column_t *g17 = r1702 ? row_find_column(r1702, "G(a)") : NULL;
        char *lo = gs ? ival_lo_str(gs->iv, 12) : NULL, *hi = gs ? ival_hi_str(gs->iv, 12) : NULL;
        char *lo2 = g17 ? ival_lo_str(g17->iv, 12) : NULL, *hi2 = g17 ? ival_hi_str(g17->iv, 12) : NULL;
        len += (size_t)snprintf(s + len, 8192 - len, "| %s | %s | [%s, %s] | [%s, %s] | ",
                                targets[t], as ? as->str : "-", lo ? lo : "-", hi ? hi : "-",
                                lo2 ? lo2 : "-", hi2 ? hi2 : "-");
        if (brackets)
            len += (size_t)snprintf(s + len, 8192 - len, "%s, δ = %g |\n",
                                    bracket_ok ? "yes" : "NO", dmin);
        else
            len += (size_t)snprintf(s + len, 8192 - len, "- |\n");
        if (lo) { mpfr_free_str(lo); mpfr_free_str(hi); }
        if (lo2) { mpfr_free_str(lo2); mpfr_free_str(hi2); }
    }
    snprintf(s + len, 8192 - len,
             "\na* comes from golden-section search on a double estimate of G (grid of 2001 "
             "points on [-10, 10], local maxima refined): an estimate. Every G in the table is "
             "a certified B&B enclosure on [-10, 10] (relative tolerance %g). The bracket rows "
             "certify G(a*) < G(a* ± δ); that a* is within δ of the minimiser assumes a ↦ G(a) "
             "is unimodal (observed on the sweep, not proved).\n", GA_REL_TOL);
    return s;
}

#define GA_AS "1,1.25,1.5,1.6,1.65,1.702,1.75,1.8,2,2.5,3"

const claim_t claim_gelu_approx = {
    .id = "gelu-approx",
    .source = "abstract (\"close approximations of GeLU\")",
    .kind = KIND_INEQUALITY,
    .provenance = "derived",
    .statement = "GELU (and GELU_tanh) is within G(a) = sup |GELU - SiLU_a| of SiLU_a; G is "
                 "smallest at a* = 1.773 (1.774 for GELU_tanh), not at the customary 1.702; the "
                 "SiLU_a heads of a GELU MLP are within G(a) sum_k ||W_out[k,:]||_2 of it.",
    .formula = "G(a) = sup_{|z|≤10} |T(z) − SiLU_a(z)|, T ∈ {GELU, GELU_tanh}, certified B&B.\n"
               "a* = argmin G located by golden-section search on a double estimate (an "
               "estimate); then certified: rows `gap` **G(a*) ≤ G(a)** (E = G(a*), bound = G(a)); "
               "rows `bracket` the same at a = a* ± δ.\n"
               "Rows `mlp`: E between X + T(X W_in) W_out (T as a certified enclosure) and "
               "X̂ + Σ_k h_k(X̂) (SiLU_a neuron heads, mask B) against **G(a)·Σ_k ‖W_out[k,:]‖₂**, "
               "a = 1.702 or a*; every pre-activation is certified to lie in [−10, 10]. Family "
               "`adv`: tokens ±z just inside the argmax of the gap, W_in columns e₁, W_out rows "
               "positive multiples of one row: E/bound ≈ 1.",
    .notes = "The domain [−10, 10] is part of the statement (beyond it both functions approach "
             "ReLU and the gap falls below 10·e^{−17}; not certified here). a* is an estimate "
             "located to 1e-8 in doubles; its certified property is G(a*) ≤ G(a) on the sweep "
             "and G(a*) < G(a*±δ).",
    .quick = {{"gap", {{"target", "gelu,gelu_tanh"}, {"a", GA_AS}, {NULL, NULL}}},
              {"bracket", {{"target", "gelu,gelu_tanh"}, {"delta", "-0.001,0.001"}, {NULL, NULL}}},
              {"mlp", {{"target", "gelu,gelu_tanh"}, {"at", "1.702,opt"}, {"family", "random,adv"},
                       {"shape", "4x8x6"}, {"seed", "1,2"}, {NULL, NULL}}},
              {NULL, {{NULL, NULL}}}},
    .full = {{"gap", {{"target", "gelu,gelu_tanh"}, {"a", GA_AS ",4,8"}, {NULL, NULL}}},
             {"bracket", {{"target", "gelu,gelu_tanh"},
                          {"delta", "-0.001,-0.0001,0.0001,0.001"}, {NULL, NULL}}},
             {"mlp", {{"target", "gelu,gelu_tanh"}, {"at", "1,1.702,opt"}, {"family", "random,adv"},
                      {"shape", "4x8x6,8x32x16"}, {"seed", "1,2,3,4"}, {NULL, NULL}}},
             {NULL, {{NULL, NULL}}}},
    .mutations = {{"wrong-min", "a* replaced by 1.01 a*"},
                  {"half-gap", "the MLP bound with G(a)/2"},
                  {"max-not-sum", "the MLP bound with max_k ||W_out[k,:]|| instead of the sum"},
                  {NULL, NULL}},
    .plots = {{.x = "a", .y = "G(a)", .series = "target", .logy = 1,
               .mark_x = "a* (estimate),1.702",
               .title = "certified sup |T - SiLU_a| against a; marked: a* and 1.702"}},
    .run = run,
    .summary_md = summary_md,
    .estimate_bytes = au_estimate_bytes,
};
