/* The exchange-rate claim (exchange.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "exchange.h"
#include "exitcodes.h"
#include "modelcheck.h"
#include "reduce.h"
#include "tensorload.h"
#include "xalloc.h"

typedef struct {
    long b;
    tblock_t B;
    imat_t h;             /* the original's stream entering the MLP (exact) */
    imat_t box;           /* 1 x d: the box around the tokens' LN2 outputs (0 x 0: none) */
    reduce_info_t I;
    reduce_plan_t exact;
    reduce_merges_t mo;
    char label[32];
    char blockname[24];
    char *heads;          /* the merge rows' head counts */
    int ready;
} xblock_t;

struct exchange {
    claim_t claim;
    char id[200], statement[1100];
    tmodel_t *m;
    const tmodel_config_t *cfg;
    convert_act_t ca;
    int act_ready;
    imat_t X;
    long n, d, nb;
    mpfr_prec_t prec;
    int has_box;
    double margin; /* the box's margin (the nearest double to --margin) */
    char margin_text[64];
    xblock_t *blk;
    char *blocks; /* the chosen blocks as a list */
    char tokens_text[300];
};

static const char formula[] =
    "Per block, over every LayerNorm output u = LN2(h) = n(h) diag(γ) + β: neuron k's "
    "pre-activation is z_k = n(h)·w'_k + b'_k (w'_k = γ∘w_k, b'_k = β·w_k + b_k, exact), "
    "|z_k − b'_k| ≤ R_k = √d‖P w'_k‖₂ (P removes the mean for LN; ‖n(h)‖₂² = d·var/(var + eps) "
    "< d). Exact reductions: duplicates (w', b') equal, merged (output rows added); opposites "
    "(w', b') = −(w', b') with φ(z) − φ(−z) = z (SiLU_a, GELU, ReLU): one neuron and a linear "
    "term, all of a block's linear terms one linear head; dead ReLU neurons (b' + R ≤ 0); "
    "silent neurons (W_out row 0). The floor: neuron heads left + 1 linear head when there is a "
    "linear term. Merging: greedy agglomerative on (P w', b') with cost s_A s_B/(s_A + s_B)·"
    "(|b'_A − b'_B| + √d‖P(w'_A − w'_B)‖₂), s the sum of ‖O_c‖₂ (a class's output rows summed); "
    "a merged group's neuron is the s-weighted mean (w, b), its output the sum of its rows. "
    "Certified: E(k) = max_i ‖y_i − y^k_i‖₂ on the original's stream entering the block's MLP, "
    "and over every LN output E ≤ Σ_c ‖O_c‖₂ (1 + 1/e)(|b'_c − b'_g| + √d‖P γ∘(w_c − w_g)‖₂) "
    "(1 + 1/e bounds |φ'| for SiLU_a, GELU and ReLU).";

static const char notes[] =
    "E(k) is on these tokens, of one block's MLP, not the whole model's. For silu and sigmoid "
    "without a linear head it is the converted layer (k neuron heads and the b_out head) against "
    "the original MLP sublayer; otherwise (GELU, ReLU: SiLU_a heads are not exact; a linear "
    "head: not built as heads here) the reduced MLP sublayer against the original's. Merging is a heuristic: the smallest k is "
    "the smallest on its merge order (bisection), not over every merge; merged output rows "
    "are summed, not refitted. With --margin the merge rows are judged over the box around "
    "the tokens' LN outputs; dead neurons are found over every LN output only. The floor as a lower bound "
    "for any exact conversion rests on the uniqueness of minimal one-hidden-layer networks "
    "(Sussmann 1992 for tanh; Albertini, Sontag and Maillot 1993 for activations with an "
    "independence property); for SiLU that property (with the linear term) is assumed, not "
    "proved here (doc/exchange.md).";

static int fail_row(row_t *r, const char *what)
{
    snprintf(r->note, sizeof r->note, "%.150s", what);
    return -1;
}

/* E and S of the reduced MLP R against the original on block xb's stream.
 * Where the conversion is exact (silu, sigmoid) and R has no linear head,
 * E is the converted layer of R's k neurons (convert.h: k + 1 heads) on the
 * stream [[0, 1, 1], [h, 1, 0]] against [[0, 1, 1], [h + MLP(h), 1, 0]]
 * (*heads its heads); otherwise the reduced MLP's output against the
 * original's (*heads -1). */
static void eval_mlp(arb_t E, arb_t Eabs, mpfr_t S, long *heads, mcheck_track_t *t,
                     const exchange_t *x, const xblock_t *xb, const reduce_mlp_t *R,
                     mpfr_prec_t prec)
{
    imat_t Y, Yr;
    long N = xb->h->rows;
    imat_init(Y, N, x->d);
    imat_init(Yr, 0, 0);
    tblock_mlp(Y, &xb->B, xb->h, mcheck_act_tracked, t, prec);
    scale_of(S, Y, 0, N, x->d);
    *heads = -1;
    if (convert_act_exact(&x->ca) && R->Lin->rows == 0 && R->k > 0) {
        /* block B with R's neurons (shallow: R's matrices, never cleared here) */
        tblock_t Bk = xb->B;
        Bk.W_in[0] = R->W_in[0];
        Bk.b_in[0] = R->b_in[0];
        Bk.W_out[0] = R->W_out[0];
        Bk.d_mlp = R->k;
        aonet_layer_t Ls[2];
        convert_opts_t co = {.form = CONVERT_FORM_DEFAULT, .mutation = CONVERT_MUT_NONE};
        long nl = convert_block_layers(Ls, &Bk, &x->ca, &co);
        imat_t Ref, Con;
        imat_init(Ref, 0, 0);
        imat_init(Con, 0, 0);
        convert_stream(Ref, Y);
        convert_stream(Con, xb->h);
        aonet_layer_apply(Con, Ls + 1, prec);
        error_metric(E, Eabs, Ref, Con, 0, N + 1, x->d + 2, prec);
        *heads = aonet_layer_heads(Ls + 1);
        imat_clear(Ref);
        imat_clear(Con);
        for (long k = 0; k < nl; k++)
            aonet_layer_clear(Ls + k);
    } else {
        imat_reinit(Yr, N, x->d);
        reduce_mlp_apply(Yr, R, &xb->B, xb->h, mcheck_act_tracked, t, prec);
        error_metric(E, Eabs, Y, Yr, 0, N, x->d, prec);
    }
    imat_clear(Y);
    imat_clear(Yr);
}

/* E(k) for k neuron groups on the merge order (mutated: claimed exact) */
static void eval_k(arb_t E, arb_t Eabs, mpfr_t S, arb_t bound, mcheck_track_t *t,
                   const exchange_t *x, const xblock_t *xb, long k, int exact_claim,
                   mpfr_prec_t prec, long *conv_heads, arb_t box_bound)
{
    long heads;
    reduce_plan_t p;
    reduce_plan_budget(&p, &xb->exact, &xb->mo, k);
    reduce_mlp_t R;
    reduce_build(&R, &xb->B, &xb->I, &p, exact_claim, x->has_box ? xb->box : NULL, prec);
    eval_mlp(E, Eabs, S, &heads, t, x, xb, &R, prec);
    if (conv_heads)
        *conv_heads = heads;
    if (bound)
        arb_set(bound, R.domain_bound);
    if (box_bound)
        arb_set(box_bound, R.box_bound);
    reduce_mlp_clear(&R);
    reduce_plan_clear(&p);
}

/* The model's output (after ln_final) from block xb's MLP on, with that
 * MLP replaced by k merged groups (k < 0: the original's), from the exact
 * stream entering it, at prec.  0, or an exit code with err. */
static int e2e_from(imat_t Y, const exchange_t *x, const xblock_t *xb, long k, mpfr_prec_t prec,
                    char *err, size_t errsz)
{
    imat_reinit(Y, xb->h->rows, x->d);
    if (k >= 0) {
        reduce_plan_t p;
        reduce_plan_budget(&p, &xb->exact, &xb->mo, k);
        reduce_mlp_t R;
        reduce_build(&R, &xb->B, &xb->I, &p, 0, NULL, prec);
        reduce_mlp_apply(Y, &R, &xb->B, xb->h, act_eval_ival, &x->ca.phi, prec);
        reduce_mlp_clear(&R);
        reduce_plan_clear(&p);
    } else {
        tblock_mlp(Y, &xb->B, xb->h, act_eval_ival, &x->ca.phi, prec);
    }
    int rc = 0;
    for (long b = xb->b + 1; b < (long)x->cfg->n_layers && rc == 0; b++) {
        tblock_t B;
        rc = tblock_read(&B, x->m, b, err, errsz);
        if (rc == 0)
            tblock_apply(Y, &B, Y, act_eval_ival, &x->ca.phi, prec);
        tblock_clear(&B);
    }
    if (rc == 0) {
        aonet_ln_t lnf;
        rc = tblock_read_ln_final(&lnf, x->m, err, errsz);
        if (rc == 0)
            aonet_ln_apply(Y, Y, &lnf, prec);
        aonet_ln_clear(&lnf);
    }
    return rc;
}

/* The end-to-end search (each step runs every block after this one). */
#define E2E_SEARCH_BLOCKS 2

/* The smallest k on the merge order whose whole-model output from this
 * MLP on is within 1e-3 of the model's output scale of the model's (Y0),
 * by bisection (the exact plan, an identity, is the upper end).  0 or an
 * exit code. */
static int search_e2e(long *kout, const exchange_t *x, const xblock_t *xb, const imat_t Y0,
                      mpfr_prec_t prec, char *err, size_t errsz)
{
    long lo = 0, hi = xb->exact.k, n = Y0->rows;
    mpfr_t S;
    mpfr_init2(S, 64);
    scale_of(S, Y0, 0, n, x->d);
    arb_t tol, E, Ea;
    arb_init(tol);
    arb_init(E);
    arb_init(Ea);
    arf_set_mpfr(arb_midref(tol), S);
    arb_div_ui(tol, tol, 1000, prec); /* EXCHANGE_TOL_REL */
    imat_t Y;
    imat_init(Y, 0, 0);
    int rc = 0;
    while (hi > lo + 1 && rc == 0) {
        long mid = lo + (hi - lo) / 2;
        rc = e2e_from(Y, x, xb, mid, prec, err, errsz);
        if (rc)
            break;
        error_metric(E, Ea, Y0, Y, 0, n, x->d, prec);
        if (ival_le(E, tol))
            hi = mid;
        else
            lo = mid;
    }
    *kout = hi;
    imat_clear(Y);
    arb_clear(tol);
    arb_clear(E);
    arb_clear(Ea);
    mpfr_clear(S);
    return rc;
}

/* 1e-3 S, an enclosure */
static void tol_of(arb_t tol, const mpfr_t S, mpfr_prec_t prec)
{
    arf_set_mpfr(arb_midref(tol), S);
    mag_zero(arb_radref(tol));
    arb_div_ui(tol, tol, 1000, prec); /* EXCHANGE_TOL_REL */
}

/* the smallest k on the merge order whose bound over every LN output is
 * certified <= tol, by bisection (the exact plan's bound is 0) */
static long search_domain(const xblock_t *xb, const arb_t tol, int on_box, mpfr_prec_t prec)
{
    long lo = 0, hi = xb->exact.k;
    while (hi > lo + 1) {
        long mid = lo + (hi - lo) / 2;
        reduce_plan_t p;
        reduce_plan_budget(&p, &xb->exact, &xb->mo, mid);
        reduce_mlp_t R;
        reduce_build(&R, &xb->B, &xb->I, &p, 0, on_box ? xb->box : NULL, prec);
        if (ival_le(on_box ? R.box_bound : R.domain_bound, tol))
            hi = mid;
        else
            lo = mid;
        reduce_mlp_clear(&R);
        reduce_plan_clear(&p);
    }
    return hi;
}

/* the smallest k on the merge order with E(k) certified <= 1e-3 S, by
 * bisection (0 when even the exact plan's is not); and the same for the
 * bound over every LN output (k_domain, or NULL) */
static long search(exchange_t *x, const xblock_t *xb, mpfr_prec_t prec, long *k_domain)
{
    long G = xb->exact.k;
    arb_t E, Ea, tol;
    mpfr_t S;
    arb_init(E);
    arb_init(Ea);
    arb_init(tol);
    mpfr_init2(S, 64);
    mcheck_track_t t;
    mcheck_track_init(&t, &x->ca.phi, x->ca.a);
    long lo = 0, hi = G;
    eval_k(E, Ea, S, NULL, &t, x, xb, G, 0, prec, NULL, NULL);
    tol_of(tol, S, prec);
    if (G < 1 || !ival_le(E, tol))
        hi = 0;
    while (hi > lo + 1) {
        long mid = lo + (hi - lo) / 2;
        eval_k(E, Ea, S, NULL, &t, x, xb, mid, 0, prec, NULL, NULL);
        if (ival_le(E, tol))
            hi = mid;
        else
            lo = mid;
    }
    if (k_domain)
        *k_domain = search_domain(xb, tol, 0, prec);
    mcheck_track_clear(&t);
    arb_clear(E);
    arb_clear(Ea);
    arb_clear(tol);
    mpfr_clear(S);
    return hi;
}

long exchange_threshold(exchange_t *x, long i, mpfr_prec_t prec, long *k_domain, long *k_e2e)
{
    const xblock_t *xb = x->blk + i;
    if (k_e2e) {
        *k_e2e = -1;
        if ((long)x->cfg->n_layers - 1 - xb->b <= E2E_SEARCH_BLOCKS) {
            mpfr_prec_t pe = prec + 20 * ((long)x->cfg->n_layers - xb->b);
            imat_t Y0;
            imat_init(Y0, 0, 0);
            char err[400];
            if (e2e_from(Y0, x, xb, -1, pe, err, sizeof err) != 0 ||
                search_e2e(k_e2e, x, xb, Y0, pe, err, sizeof err) != 0)
                *k_e2e = -2;
            imat_clear(Y0);
        }
    }
    return search(x, x->blk + i, prec, k_domain);
}

static void set_exact_rule(row_t *r, const mpfr_t S)
{
    r->exact_identity = 1;
    r->has_bound = 0;
    r->depth = 1;
    mpfr_set_prec(r->scale, mpfr_get_prec(S));
    mpfr_set(r->scale, S, MPFR_RNDU);
}

static int run_row(row_t *r)
{
    exchange_t *x = (exchange_t *)r->ctx;
    const char *check = params_get(&r->params, "check");
    long b, i;
    mpfr_prec_t prec = r->prec;
    if (!check)
        return fail_row(r, "a row without a check");
    if (params_get_long(&b, &r->params, "block") != 0)
        return fail_row(r, "block is not a number");
    for (i = 0; i < x->nb && x->blk[i].b != b; i++) {}
    if (i == x->nb)
        return fail_row(r, "block is not one of the chosen blocks");
    const xblock_t *xb = x->blk + i;
    const reduce_info_t *I = &xb->I;
    int mutated = r->mutation != 0;
    mpfr_t S;
    mpfr_init2(S, 64);
    mcheck_track_t t;
    mcheck_track_init(&t, &x->ca.phi, x->ca.a);
    long G = xb->exact.k, conv = -1;
    if (strcmp(check, "reduce") == 0) {
        /* the exact plan; mutated: the nearest two classes merged as if exact */
        long k = mutated && G > 1 ? G - 1 : G;
        eval_k(r->error, r->error_abs, S, NULL, &t, x, xb, k, 1, prec, &conv, NULL);
        set_exact_rule(r, S);
        mcheck_track_resolve(r, &t);
        row_add_long(r, "neurons", I->M);
        row_add_long(r, "floor heads", I->floor);
        row_add_long(r, "duplicates", I->n_dup);
        row_add_long(r, "opposites", I->n_opp);
        row_add_long(r, "dead", I->n_dead);
        row_add_long(r, "silent", I->n_silent);
        row_add_text(r, "linear head", "%s", I->has_linear ? "yes" : "no");
        row_add_long(r, "dead with tail", I->n_tail);
        arb_set(row_add_ival(r, "tail bound"), I->tail_bound);
    } else if (strcmp(check, "merge") == 0) {
        long heads;
        if (params_get_long(&heads, &r->params, "heads") != 0 || heads < 1 + I->has_linear ||
            heads > I->floor) {
            mcheck_track_clear(&t);
            mpfr_clear(S);
            return fail_row(r, "heads must be in [1 + linear head, the floor]");
        }
        arb_t dom, boxb;
        arb_init(dom);
        arb_init(boxb);
        eval_k(r->error, r->error_abs, S, dom, &t, x, xb, heads - I->has_linear, mutated,
               prec, &conv, boxb);
        /* the claimed bound: over the box when there is one (it holds the tokens) */
        arb_set(r->bound, x->has_box ? boxb : dom);
        if (mutated) {
            set_exact_rule(r, S);
            mcheck_track_resolve(r, &t);
        } else {
            r->has_bound = 1;
            r->exact_identity = 0;
        }
        arb_ptr rel = row_add_ival(r, "E/S");
        arf_set_mpfr(arb_midref(rel), S);
        mag_zero(arb_radref(rel));
        arb_div(rel, r->error, rel, prec);
        arb_set(row_add_ival(r, "domain bound"), dom);
        if (x->has_box)
            arb_set(row_add_ival(r, "box bound"), boxb);
        row_add_long(r, "floor heads", I->floor);
        arb_clear(dom);
        arb_clear(boxb);
    } else if (strcmp(check, "threshold") == 0) {
        long k = search(x, xb, prec, NULL);
        arb_t tol, E1, Ea;
        arb_init(tol);
        arb_init(E1);
        arb_init(Ea);
        /* mutated: the found merge, or the nearest two classes, claimed exact */
        long ke = k > 0 ? k : G;
        if (mutated && ke == G && G > 1)
            ke = G - 1;
        eval_k(r->error, r->error_abs, S, NULL, &t, x, xb, ke, mutated, prec, &conv, NULL);
        tol_of(tol, S, prec);
        if (mutated && G > 1) {
            /* claimed exact: the found merge judged by the exact rule */
            set_exact_rule(r, S);
            mcheck_track_resolve(r, &t);
        } else {
            arb_set(r->bound, tol);
            r->has_bound = 1;
        }
        row_add_long(r, "heads found", k > 0 ? k + I->has_linear : 0);
        row_add_long(r, "floor heads", I->floor);
        row_add_long(r, "heads (every LN output)", search_domain(xb, tol, 0, prec) + I->has_linear);
        if (x->has_box)
            row_add_long(r, "heads (box)", search_domain(xb, tol, 1, prec) + I->has_linear);
        if (k > 1) {
            mpfr_t S1;
            mpfr_init2(S1, 64);
            eval_k(E1, Ea, S1, NULL, &t, x, xb, k - 1, 0, prec, NULL, NULL);
            arb_set(row_add_ival(r, "E at heads - 1"), E1);
            mpfr_clear(S1);
        }
        arb_set(row_add_ival(r, "1e-3 S"), tol);
        if (k > 0 && !mutated) {
            /* the whole model from this MLP on, at the end-to-end precision
             * (20 bits per block, as model's), against the model; and, when
             * at most E2E_SEARCH_BLOCKS blocks follow, the smallest k whose
             * end-to-end E is <= 1e-3 of the model's output scale */
            mpfr_prec_t pe = prec + 20 * ((long)x->cfg->n_layers - b);
            imat_t Y0, Yk;
            imat_init(Y0, 0, 0);
            imat_init(Yk, 0, 0);
            char err[400];
            long k_e2e = -1;
            if (e2e_from(Y0, x, xb, -1, pe, err, sizeof err) != 0 ||
                e2e_from(Yk, x, xb, k, pe, err, sizeof err) != 0 ||
                ((long)x->cfg->n_layers - 1 - b <= E2E_SEARCH_BLOCKS &&
                 search_e2e(&k_e2e, x, xb, Y0, pe, err, sizeof err) != 0)) {
                imat_clear(Y0);
                imat_clear(Yk);
                arb_clear(tol);
                arb_clear(E1);
                arb_clear(Ea);
                mcheck_track_clear(&t);
                mpfr_clear(S);
                return fail_row(r, err);
            }
            mpfr_t Se;
            mpfr_init2(Se, 64);
            error_metric(E1, Ea, Y0, Yk, 0, Y0->rows, x->d, pe);
            scale_of(Se, Y0, 0, Y0->rows, x->d);
            arb_set(row_add_ival(r, "E model end to end"), E1);
            if (k_e2e >= 0)
                row_add_long(r, "heads found (model end to end)", k_e2e + I->has_linear);
            else
                row_add_text(r, "heads found (model end to end)", "not searched: %ld blocks "
                             "follow", (long)x->cfg->n_layers - 1 - b);
            arb_ptr se = row_add_ival(r, "S model end to end");
            arf_set_mpfr(arb_midref(se), Se);
            mag_zero(arb_radref(se));
            mpfr_clear(Se);
            imat_clear(Y0);
            imat_clear(Yk);
        }
        arb_clear(tol);
        arb_clear(E1);
        arb_clear(Ea);
    } else {
        mcheck_track_clear(&t);
        mpfr_clear(S);
        return fail_row(r, "unknown check");
    }
    if (conv >= 0)
        row_add_long(r, "converted layer heads", conv);
    else
        row_add_text(r, "converted layer heads", "- (E of the MLP sublayer)");
    mcheck_track_clear(&t);
    mpfr_clear(S);
    return 0;
}

static mpfr_prec_t start_prec(const params_t *p)
{
    const exchange_t *x = p->ctx;
    return x->prec;
}

static char *count_list(long n, const long *v)
{
    size_t cap = (size_t)n * 24 + 2, len = 0;
    char *s = xmalloc(cap);
    s[0] = '\0';
    for (long k = 0; k < n; k++)
        len += (size_t)snprintf(s + len, cap - len, "%s%ld", k ? "," : "", v[k]);
    return s;
}

static int load_tokens(exchange_t *x, const exchange_spec_t *s, char *err, size_t errsz)
{
    if (!s->input) {
        x->n = s->tokens;
        gmp_randstate_t st;
        gmp_randinit_default(st);
        gmp_randseed_ui(st, s->seed);
        imat_reinit(x->X, x->n, x->d);
        imat_randtest_dyadic(x->X, st, 12); /* as `model` draws them */
        for (long k = 0; k < x->X->rows * x->X->cols; k++)
            arb_mul_2exp_si(x->X->e + k, x->X->e + k, 2);
        gmp_randclear(st);
        snprintf(x->tokens_text, sizeof x->tokens_text, "%ld tokens drawn with seed %lu", x->n,
                 s->seed);
        return 0;
    }
    tensor_f64_t t = {0};
    int rc = tensor_load(&t, s->input, err, errsz);
    if (rc != 0) {
        tensor_f64_clear(&t);
        return rc;
    }
    if (t.ndim != 2 || t.shape[1] != (uint64_t)x->d || t.shape[0] < 1) {
        tensor_f64_clear(&t);
        snprintf(err, errsz, "--input %s: the model needs [n_ctx, %ld]", s->input, x->d);
        return EXIT_DATAERR;
    }
    x->n = (long)t.shape[0];
    imat_reinit(x->X, x->n, x->d);
    for (uint64_t k = 0; k < t.numel; k++)
        arb_set_d(x->X->e + k, t.data[k]); /* exact: a double */
    snprintf(x->tokens_text, sizeof x->tokens_text, "%ld tokens from %s", x->n, s->input);
    tensor_f64_clear(&t);
    return 0;
}

int exchange_open(exchange_t **out, const exchange_spec_t *s, char *err, size_t errsz)
{
    *out = NULL;
    exchange_t *x = xcalloc(1, sizeof *x);
    char e[600];
    imat_init(x->X, 0, 0);
    x->prec = s->prec;
    int rc;
    if (s->margin) {
        char *end;
        x->margin = strtod(s->margin, &end);
        if (end == s->margin || *end || !(x->margin >= 0) || x->margin > 1e6) {
            snprintf(err, errsz, "--margin '%s' is not a number in [0, 1e6]", s->margin);
            rc = EXIT_USAGE;
            goto fail;
        }
        x->has_box = 1;
        snprintf(x->margin_text, sizeof x->margin_text, "%.40s", s->margin);
    }
    rc = tmodel_open(&x->m, s->file, e, sizeof e);
    if (rc) {
        snprintf(err, errsz, "%s", e);
        goto fail;
    }
    x->cfg = tmodel_config(x->m);
    x->d = (long)x->cfg->d_model;
    long L = (long)x->cfg->n_layers;
    if (x->cfg->gated_mlp) {
        snprintf(err, errsz, "%s: a gated MLP: the reductions are for plain MLPs", s->file);
        rc = EXIT_DATAERR;
        goto fail;
    }
    rc = convert_act_init(&x->ca, x->cfg, NULL, e, sizeof e, s->prec);
    if (rc) {
        snprintf(err, errsz, "%s: %s", s->file, e);
        goto fail;
    }
    x->act_ready = 1;
    /* the chosen blocks */
    long chosen[EXCHANGE_MAX_BLOCKS];
    long nb = 0;
    if (s->blocks) {
        const char *p = s->blocks;
        while (*p) {
            char *end;
            long v = strtol(p, &end, 10);
            if (end == p || v < 0 || v >= L || (*end && *end != ',')) {
                snprintf(err, errsz, "--blocks '%s': a comma-separated list of blocks in "
                         "[0, %ld]", s->blocks, L - 1);
                rc = EXIT_USAGE;
                goto fail;
            }
            for (long k = 0; k < nb; k++)
                if (chosen[k] == v) {
                    snprintf(err, errsz, "--blocks '%s': block %ld given twice", s->blocks, v);
                    rc = EXIT_USAGE;
                    goto fail;
                }
            if (nb == EXCHANGE_MAX_BLOCKS) {
                snprintf(err, errsz, "--blocks '%s': at most %d blocks in one run", s->blocks,
                         EXCHANGE_MAX_BLOCKS);
                rc = EXIT_USAGE;
                goto fail;
            }
            chosen[nb++] = v;
            p = *end ? end + 1 : end;
        }
    } else {
        if (L > EXCHANGE_MAX_BLOCKS) {
            snprintf(err, errsz, "%s has %ld blocks: choose at most %d with --blocks", s->file,
                     L, EXCHANGE_MAX_BLOCKS);
            rc = EXIT_USAGE;
            goto fail;
        }
        for (long k = 0; k < L; k++)
            chosen[nb++] = k;
    }
    rc = load_tokens(x, s, e, sizeof e);
    if (rc) {
        snprintf(err, errsz, "%s", e);
        goto fail;
    }
    /* the streams, block by block up to the last chosen one */
    long last = 0;
    for (long k = 0; k < nb; k++)
        last = chosen[k] > last ? chosen[k] : last;
    x->blk = xcalloc((size_t)nb, sizeof *x->blk);
    x->nb = nb;
    imat_t h, next;
    imat_init(h, 0, 0);
    imat_init(next, 0, 0);
    imat_get_mid(h, x->X);
    mpfr_prec_t sp = s->prec > 128 ? s->prec : 128;
    for (long b = 0; b <= last && rc == 0; b++) {
        long slot = -1;
        for (long k = 0; k < nb; k++)
            if (chosen[k] == b)
                slot = k;
        tblock_t B;
        rc = tblock_read(&B, x->m, b, e, sizeof e);
        if (rc) {
            tblock_clear(&B);
            snprintf(err, errsz, "%s", e);
            break;
        }
        if (B.parallel) {
            tblock_clear(&B);
            snprintf(err, errsz, "%s: block %ld is parallel: the reductions read the "
                     "sequential MLP's stream", s->file, b);
            rc = EXIT_DATAERR;
            break;
        }
        imat_t hm;
        imat_init(hm, 0, 0);
        mcheck_block_streams(hm, next, &B, h, &x->ca, sp);
        imat_swap(h, next);
        if (slot < 0) {
            imat_clear(hm);
            tblock_clear(&B);
            continue;
        }
        xblock_t *xb = x->blk + slot;
        xb->b = b;
        xb->B = B;
        imat_init(xb->h, 0, 0);
        imat_swap(xb->h, hm);
        imat_clear(hm);
        imat_init(xb->box, 0, 0);
        if (x->has_box) {
            /* each coordinate of LN2(h) over the tokens, its enclosures' hull,
             * widened by the margin on both sides */
            imat_t U;
            imat_init(U, xb->h->rows, xb->h->cols);
            aonet_ln_apply(U, xb->h, &xb->B.ln2, sp);
            imat_reinit(xb->box, 1, x->d);
            arf_t mg;
            arf_init(mg);
            arf_set_d(mg, x->margin); /* exact: a double */
            for (long i = 0; i < x->d; i++) {
                arb_ptr bx = imat_entry(xb->box, 0, i);
                arb_set(bx, imat_entry(U, 0, i));
                for (long tkn = 1; tkn < U->rows; tkn++)
                    arb_union(bx, bx, imat_entry(U, tkn, i), sp);
                arb_add_error_arf(bx, mg); /* the radius grows by the margin (rounded up) */
            }
            arf_clear(mg);
            imat_clear(U);
        }
        reduce_analyse(&xb->I, &xb->B, &x->ca, sp);
        reduce_plan_exact(&xb->exact, &xb->I);
        reduce_merge_order(&xb->mo, &xb->I, &xb->exact);
        xb->ready = 1;
        /* merge rows: head counts from the floor down to 1 + linear head,
         * denser near the floor */
        static const long below[] = {1, 2, 5, 10, 20, 35, 50, 75, 100, 150, 200, 300, 500,
                                     1000, 2000};
        long F = xb->I.floor, lin = xb->I.has_linear, v[20], nv = 0;
        for (size_t j = 0; j < sizeof below / sizeof below[0]; j++)
            if (F - below[j] > lin + 1)
                v[nv++] = F - below[j];
        if (F > lin + 1)
            v[nv++] = lin + 1;
        xb->heads = nv ? count_list(nv, v) : xstrdup("");
        snprintf(xb->label, sizeof xb->label, "merge block %ld", b);
        snprintf(xb->blockname, sizeof xb->blockname, "%ld", b);
    }
    imat_clear(h);
    imat_clear(next);
    if (rc)
        goto fail;
    x->nb = nb;
    long bl[EXCHANGE_MAX_BLOCKS];
    for (long k = 0; k < nb; k++)
        bl[k] = x->blk[k].b;
    x->blocks = count_list(nb, bl);

    claim_t *c = &x->claim;
    const char *base = strrchr(s->file, '/');
    base = base ? base + 1 : s->file;
    size_t bn = strlen(base);
    if (bn > 12 && strcmp(base + bn - 12, ".safetensors") == 0)
        bn -= 12;
    snprintf(x->id, sizeof x->id, "exchange-%.*s", (int)(bn < 150 ? bn : 150), base);
    for (char *q = x->id; *q; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
              *q == '-' || *q == '_' || *q == '.'))
            *q = '_';
    c->id = x->id;
    c->source = "derived (the exchange rate of heads per neuron)";
    c->kind = KIND_INEQUALITY;
    c->provenance = "derived";
    snprintf(x->statement, sizeof x->statement,
             "The MLPs of %.200s (%s, %s) reduce exactly to the floor of heads per block, and "
             "with k merged heads their error E(k) on the tokens is within its certified bound "
             "over %s.", s->file, x->cfg->act_fn, x->tokens_text,
             x->has_box ? "the box around the tokens' LayerNorm outputs (each coordinate's "
                          "range widened by --margin)" : "every LayerNorm output");
    c->statement = x->statement;
    c->formula = formula;
    c->notes = notes;
    int k = 0;
    c->quick[k++] = (sweep_t){"reduce", {{"check", "reduce"}, {"block", x->blocks}, {NULL, NULL}}};
    c->quick[k++] = (sweep_t){"threshold",
                              {{"check", "threshold"}, {"block", x->blocks}, {NULL, NULL}}};
    for (long j = 0; j < nb; j++)
        if (x->blk[j].heads[0])
            c->quick[k++] = (sweep_t){x->blk[j].label, {{"check", "merge"},
                                                        {"block", x->blk[j].blockname},
                                                        {"heads", x->blk[j].heads},
                                                        {NULL, NULL}}};
    c->quick[k].label = NULL;
    c->mutations[0][0] = "merges-claimed-exact";
    c->mutations[0][1] = "every merge, of duplicates or not, is claimed exact (the reduce rows "
                         "merge the nearest two classes)";
    c->plots[0] = (plot_t){.x = "heads", .y = "error", .series = "block", .logy = 1,
                           .extra_y = "bound",
                           .title = "E(k) on the tokens (solid) and over every LN output "
                                    "(dashed), per block"};
    c->run = run_row;
    c->start_prec = start_prec;
    c->ctx = x;
    *out = x;
    return 0;
fail:
    exchange_free(x);
    return rc;
}

void exchange_free(exchange_t *x)
{
    if (!x)
        return;
    for (long k = 0; x->blk && k < x->nb; k++) {
        xblock_t *xb = x->blk + k;
        if (!xb->ready)
            continue;
        tblock_clear(&xb->B);
        imat_clear(xb->h);
        imat_clear(xb->box);
        reduce_info_clear(&xb->I);
        reduce_plan_clear(&xb->exact);
        reduce_merges_clear(&xb->mo);
        free(xb->heads);
    }
    free(x->blk);
    free(x->blocks);
    if (x->act_ready)
        convert_act_clear(&x->ca);
    tmodel_close(x->m);
    imat_clear(x->X);
    free(x);
}

const claim_t *exchange_claim(const exchange_t *x) { return &x->claim; }
long exchange_n_blocks(const exchange_t *x) { return x->nb; }
long exchange_block(const exchange_t *x, long i) { return x->blk[i].b; }
long exchange_floor(const exchange_t *x, long i) { return x->blk[i].I.floor; }
long exchange_groups(const exchange_t *x, long i) { return x->blk[i].exact.k; }
long exchange_neurons(const exchange_t *x) { return (long)x->cfg->d_mlp; }
