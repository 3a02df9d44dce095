/* mask-encoding: the derived bound holds on random instances; the wrong
 * bounds (no factor 2, B for 2B) are violated on the adversarial family;
 * the tail fit of ln E against Omega has slope -1 within 0.05.
 * Cross-tests of the one head bound (maskenc_head_leak, written once in
 * maskenc.c): against a second evaluation of the formula in MPFR with
 * directed rounding; the network bound (maskenc_bound_*) of a one-layer,
 * one-head, no-LN network against the single-head formula with the claim's
 * constants (equal on the adversarial instance, both above the measured E
 * on random ones); weakened bounds and encodings detected where tight. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "runner.h"
#include "omega_util.h"
#include "maskenc.h"

extern const claim_t claim_mask_encoding;

/* Evaluate one row with the Ziv loop; names/values are static strings. */
static void eval_row(row_t *r, const char *const *kv, unsigned long seed, int mutation)
{
    memset(r, 0, sizeof *r);
    for (int k = 0; kv[2 * k]; k++) {
        r->params.name[k] = kv[2 * k];
        r->params.value[k] = kv[2 * k + 1];
        r->params.n = k + 1;
    }
    r->sweep = "test";
    r->seed = seed;
    r->mutation = mutation;
    ck_assert_int_eq(runner_eval_row(r, &claim_mask_encoding, PREC_CAP_DEFAULT), 0);
}

static const char *masks[] = {"causal", "bias", "random", "banded", "one"};
static const char *Ns[] = {"3", "4", "9", "16"};
static const char *omegas[] = {"0", "1", "3", "12", "40", "150"};
static const char *taus[] = {"0.1", "0.5", "1", "3"};
static const char *scales[] = {"0.25", "1", "2"};

START_TEST(test_bound_holds_random)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + 31u * (unsigned long)_i);
    int reps = test_quick() ? 3 : 12;
    for (int k = 0; k < reps; k++) {
        const char *kv[] = {"family", "random",
                            "N", Ns[gmp_urandomm_ui(st, 4)],
                            "mask", masks[gmp_urandomm_ui(st, 5)],
                            "tau", taus[gmp_urandomm_ui(st, 4)],
                            "scale", scales[gmp_urandomm_ui(st, 3)],
                            "omega", omegas[gmp_urandomm_ui(st, 6)], NULL, NULL};
        unsigned long seed = test_seed() + (unsigned long)(100 * _i + k);
        row_t r;
        eval_row(&r, kv, seed, 0);
        /* holds, or holds trivially: vacuous, at or above the trivial bound */
        ck_assert_msg(r.verdict == VERDICT_HOLDS || (r.verdict == VERDICT_VACUOUS &&
                      (arf_is_pos_inf(arb_midref(r.bound)) || ival_le(r.trivial, r.bound))),
                      "bound not shown to hold: seed %lu N=%s mask=%s "
                      "tau=%s scale=%s omega=%s verdict %s", seed, kv[3], kv[5], kv[7], kv[9],
                      kv[11], verdict_name(r.verdict));
        ck_assert_msg(omega_resolved(r.error), "E not resolved: seed %lu omega=%s", seed, kv[11]);
        /* the bound is derived: E/bound must stay <= 1 (certified) */
        ck_assert(arb_le(r.error, r.bound));
        row_clear(&r);
    }
    gmp_randclear(st);
}
END_TEST

START_TEST(test_wrong_bounds_violated)
{
    static const char *om[] = {"16", "64", "200"};
    for (int k = 0; k < 3; k++) {
        const char *kv[] = {"family", "adv", "N", "16", "tau", "1", "scale", "1",
                            "omega", om[k], NULL, NULL};
        row_t r;
        eval_row(&r, kv, 1, 0);
        ck_assert_msg(r.verdict == VERDICT_HOLDS, "claimed bound, omega=%s: %s", om[k],
                      verdict_name(r.verdict));
        /* tight: E/bound = 1/(1 + 15 e^(2 - omega)) > 0.99 here */
        mpfr_t q, b;
        mpfr_inits2(64, q, b, (mpfr_ptr)0);
        ival_get_lo(q, r.error);
        ival_get_hi(b, r.bound);
        mpfr_div(q, q, b, MPFR_RNDD);
        ck_assert_msg(mpfr_cmp_d(q, 0.99) > 0, "adversarial ratio too small at omega=%s", om[k]);
        mpfr_clears(q, b, (mpfr_ptr)0);
        row_clear(&r);
        for (int m = 1; m <= 2; m++) {
            eval_row(&r, kv, 1, m);
            ck_assert_msg(r.verdict == VERDICT_VIOLATED, "mutation %s not caught at omega=%s: %s",
                          claim_mask_encoding.mutations[m - 1][0], om[k], verdict_name(r.verdict));
            row_clear(&r);
        }
    }
}
END_TEST

/* A known series e^(a - b omega): the fitter must return b. */
static double fit_known(double b)
{
    static const char *om[] = {"16", "32", "64", "128", "256"};
    row_t rows[5];
    fit_t f[4];
    memset(rows, 0, sizeof rows);
    for (int k = 0; k < 5; k++) {
        rows[k].params.n = 1;
        rows[k].params.name[0] = "omega";
        rows[k].params.value[0] = om[k];
        rows[k].sweep = "known";
        rows[k].prec = 128;
        arb_init(rows[k].error);
        arb_set_d(rows[k].error, -b * atof(om[k]) + 0.7);
        arb_exp(rows[k].error, rows[k].error, 128);
    }
    static const char *const keys[] = {NULL};
    int n = omega_fit_series(f, 4, rows, 5, keys, 16, 4, -1);
    for (int k = 0; k < 5; k++)
        arb_clear(rows[k].error);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(f[0].points, 4);
    return f[0].slope;
}

START_TEST(test_fit_slope)
{
    ck_assert(fabs(fit_known(1.0) + 1) < 1e-9);
    ck_assert(fabs(fit_known(0.8) + 1) > 0.05); /* a wrong rate is told apart */
    /* the claim's own series: random causal instance, omega 16..256 */
    static const char *om[] = {"16", "32", "64", "128", "256"};
    row_t rows[5];
    for (int k = 0; k < 5; k++) {
        const char *kv[] = {"family", "random", "N", "8", "mask", "causal", "tau", "1",
                            "scale", "1", "omega", om[k], NULL, NULL};
        eval_row(rows + k, kv, test_seed(), 0);
    }
    fit_t f[8];
    int n = claim_mask_encoding.fit(f, 8, rows, 5);
    ck_assert_int_eq(n, 1);
    ck_assert_msg(fabs(f[0].slope + 1) < 0.05, "slope %g (seed %lu)", f[0].slope, test_seed());
    for (int k = 0; k < 5; k++)
        row_clear(rows + k);
}
END_TEST

/* A derived Omega_req is shown rounded up, never below what was derived. */
START_TEST(test_omega_text_up)
{
    static const struct {
        double v;
        const char *want;
    } cases[] = {{23.4523, "23.46"}, {23.45, "23.45"} /* the double is 23.4499...: up to 23.45 */, {23.0, "23.00"}, {0.001, "0.01"},
                 {99.999, "100.00"}, {1000.390625, "1000.40"}};
    char buf[40];
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        omega_text_up(buf, sizeof buf, cases[k].v, 2);
        ck_assert_msg(strcmp(buf, cases[k].want) == 0, "%.17g: %s, want %s", cases[k].v, buf,
                      cases[k].want);
    }
}
END_TEST

START_TEST(test_cli_mutation_exit)
{
    char out[8192], dir[256], args[512];
    test_tmpdir_make(dir, sizeof dir, "attncheck-me");
    /* the adversarial instances at tau = scale = 1 detect it on every row: 1 */
    snprintf(args, sizeof args, "sweep mask-encoding --set family=adv --set N=4 --set omega=8,64 "
             "--set tau=1 --set scale=1 --mutate=b-not-2b --format md --out %s", dir);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 1);
    /* with tau = scale = 4 at omega = 8 the weakened bound still holds on two rows: 3 */
    snprintf(args, sizeof args, "sweep mask-encoding --set family=adv --set N=4 --set omega=8,64 "
             "--mutate=b-not-2b --format md --out %s", dir);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 3);
    ck_assert_ptr_nonnull(strstr(out, "2 not detected"));
    snprintf(args, sizeof args, "sweep mask-encoding --set family=adv --set N=4 --set omega=8,64 "
             "--format md --out %s", dir);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 0);
    test_tmpdir_remove(dir);
}
END_TEST

/* ------------------------------------------ the head bound, cross-tested */

#define XPREC 256

/* 2 (N-1) e^(2S - Omega) V in MPFR from points S, V, Omega, every step
 * rounded the way rnd says (RNDD: a lower end, RNDU: an upper end). */
static void leak_mpfr(mpfr_t y, const mpfr_t S, const mpfr_t V, long N, const mpfr_t om,
                      mpfr_rnd_t rnd)
{
    mpfr_mul_2ui(y, S, 1, rnd);
    mpfr_sub(y, y, om, rnd); /* om exact */
    mpfr_exp(y, y, rnd);
    mpfr_mul_ui(y, y, (unsigned long)(N - 1), rnd);
    mpfr_mul_2ui(y, y, 1, rnd);
    mpfr_mul(y, y, V, rnd);
}

START_TEST(test_head_leak_vs_mpfr)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + 7u);
    arb_t S, V, om, leak, at;
    arb_init(S);
    arb_init(V);
    arb_init(om);
    arb_init(leak);
    arb_init(at);
    mpfr_t s, v, o, lo, hi, t;
    mpfr_inits2(XPREC + 64, s, v, o, lo, hi, t, (mpfr_ptr)0);
    for (int k = 0; k < 200; k++) {
        long N = 2 + (long)gmp_urandomm_ui(st, 300);
        /* S, V: exact dyadics; Omega an integer */
        arb_set_ui(S, gmp_urandomm_ui(st, 4097));
        arb_mul_2exp_si(S, S, -8);
        arb_set_ui(V, 1 + gmp_urandomm_ui(st, 4096));
        arb_mul_2exp_si(V, V, -6);
        arb_set_ui(om, gmp_urandomm_ui(st, 400));
        maskenc_head_leak(leak, S, V, N, om, XPREC);
        arf_get_mpfr(s, arb_midref(S), MPFR_RNDN); /* exact */
        arf_get_mpfr(v, arb_midref(V), MPFR_RNDN);
        arf_get_mpfr(o, arb_midref(om), MPFR_RNDN);
        leak_mpfr(lo, s, v, N, o, MPFR_RNDD);
        leak_mpfr(hi, s, v, N, o, MPFR_RNDU);
        /* the one function's ball and the second evaluation enclose the same
         * number: they meet, and hi(leak) is at least its lower end */
        ival_get_hi(t, leak);
        ck_assert_msg(mpfr_cmp(t, lo) >= 0, "hi(leak) below the formula: N=%ld", N);
        ival_get_lo(t, leak);
        ck_assert_msg(mpfr_cmp(t, hi) <= 0, "lo(leak) above the formula: N=%ld", N);
        /* Omega_req: the bound at it is <= eps, and 0.01 before it is not */
        static const double eps[] = {1e-3, 1e-12, 1e-40};
        double e = eps[k % 3];
        double req = maskenc_head_omega_req(S, V, N, e);
        arb_t ee;
        arb_init(ee);
        arb_set_d(ee, e);
        arb_set_d(at, req);
        maskenc_head_leak(leak, S, V, N, at, XPREC);
        ck_assert_msg(ival_le(leak, ee), "bound above eps at Omega_req %.17g", req);
        arb_set_d(at, req - 0.01);
        maskenc_head_leak(leak, S, V, N, at, XPREC);
        ck_assert_msg(ival_gt(leak, ee), "Omega_req %.17g not the smallest (to 0.01)", req);
        arb_clear(ee);
    }
    mpfr_clears(s, v, o, lo, hi, t, (mpfr_ptr)0);
    arb_clear(S);
    arb_clear(V);
    arb_clear(om);
    arb_clear(leak);
    arb_clear(at);
    gmp_randclear(st);
}
END_TEST

/* One layer of one head (D x r blocks), no LN, the given mask and scale. */
static void one_head_layer(aonet_layer_t *L, const imat_t WQ, const imat_t WK, const imat_t WV,
                           const imat_t WO, aonet_mask_t mask, const arb_t scale)
{
    aonet_layer_init(L, 1);
    aonet_group_init(L->groups, "head", WQ->rows, 1, WQ->cols, WV->cols, 0, mask);
    imat_set(L->groups->W_Q, WQ);
    imat_set(L->groups->W_K, WK);
    imat_set(L->groups->W_V, WV);
    imat_set(L->groups->W_O, WO);
    arb_set(L->groups->attn_scale, scale);
}

/* E = max_i ||encoded(X)_i - masked(X)_i|| over the D feature columns,
 * the layer encoded at omega with the given mutation. */
static void measured_E(arb_t E, const aonet_layer_t *L, const imat_t X, const arb_t omega,
                       int mutation)
{
    long N = X->rows, D = X->cols;
    imat_t Y, Ye, Yf;
    imat_init(Y, N, D);
    imat_set(Y, X);
    ck_assert_int_eq(aonet_layer_apply(Y, L, XPREC), 0);
    aonet_layer_t Enc;
    maskenc_layer(&Enc, L, N, omega, mutation, XPREC);
    imat_init(Ye, 0, 0);
    maskenc_stream(Ye, X);
    ck_assert_int_eq(aonet_layer_apply(Ye, &Enc, XPREC), 0);
    imat_init(Yf, 0, 0);
    maskenc_features(Yf, Ye, D);
    arb_t m1, t;
    arb_init(m1);
    arb_init(t);
    arb_set_si(m1, -1);
    imat_scale(Y, Y, m1, XPREC);
    imat_add(Yf, Yf, Y, XPREC);
    arb_zero(E);
    for (long i = 0; i < N; i++) {
        imat_row_norm2(t, Yf, i, XPREC);
        ival_max(E, E, t, XPREC);
    }
    arb_clear(m1);
    arb_clear(t);
    aonet_layer_clear(&Enc);
    imat_clear(Y);
    imat_clear(Ye);
    imat_clear(Yf);
}

/* The network bound of maskenc on the one layer (no final LN). */
static void network_bound(arb_t b, const aonet_layer_t *L, const imat_t X, const arb_t omega)
{
    maskenc_bound_t *mb = maskenc_bound_new(X->rows);
    maskenc_bound_add_layer(mb, L, X, XPREC);
    maskenc_bound_eval(b, mb, omega, XPREC);
    maskenc_bound_free(mb);
}

/* The single-head formula with mask-encoding's constants: S = B =
 * ||W_Q W_K^T||_2 R^2 / scale, V = ||W_V W_O||_2 R, R the largest token norm. */
static void single_head_consts(arb_t S, arb_t V, const aonet_layer_t *L, const imat_t X)
{
    const aonet_group_t *g = L->groups;
    long D = X->cols;
    imat_t Kt, QK, OV;
    imat_init(Kt, g->W_K->cols, D);
    imat_init(QK, D, D);
    imat_init(OV, D, D);
    imat_transpose(Kt, g->W_K);
    imat_mul(QK, g->W_Q, Kt, XPREC);
    imat_mul(OV, g->W_V, g->W_O, XPREC);
    mpfr_t nqk, nov;
    mpfr_inits2(XPREC, nqk, nov, (mpfr_ptr)0);
    imat_norm2_upper(nqk, QK);
    imat_norm2_upper(nov, OV);
    arb_t R, t;
    arb_init(R);
    arb_init(t);
    arb_zero(R);
    for (long i = 0; i < X->rows; i++) {
        imat_row_norm2(t, X, i, XPREC);
        ival_max(R, R, t, XPREC);
    }
    ival_set_fr(t, nqk);
    arb_mul(S, t, R, XPREC);
    arb_mul(S, S, R, XPREC);
    arb_div(S, S, g->attn_scale, XPREC);
    ival_set_fr(t, nov);
    arb_mul(V, t, R, XPREC);
    arb_clear(R);
    arb_clear(t);
    mpfr_clears(nqk, nov, (mpfr_ptr)0);
    imat_clear(Kt);
    imat_clear(QK);
    imat_clear(OV);
}

/* hi(E)/lo(b), rounded up (a double). */
static double ratio_up(const arb_t E, const arb_t b)
{
    mpfr_t q, d;
    mpfr_inits2(64, q, d, (mpfr_ptr)0);
    ival_get_hi(q, E);
    ival_get_lo(d, b);
    mpfr_div(q, q, d, MPFR_RNDU);
    double r = mpfr_get_d(q, MPFR_RNDU);
    mpfr_clears(q, d, (mpfr_ptr)0);
    return r;
}

/* The adversarial instance the network can express: N = 2, tokens -R e_0
 * and +R e_0, W_Q = -scale I, W_K = W_V = W_O = I, mask self: the allowed
 * logit is -B, the masked one +B (B = scale R^2), the values 2R apart, so
 * E = 2 e^(2B - Omega) R / (1 + e^(2B - Omega)): the bound with N - 1 = 1,
 * divided by 1 + e^(2B - Omega).  Here the network's constants (largest
 * query, key and value norms) equal the claim's (||W_QK|| R^2, ||W_OV|| R). */
static void adversarial(aonet_layer_t *L, imat_t X, long D, long scale, long R)
{
    imat_t WQ, I;
    imat_init(WQ, D, D);
    imat_init(I, D, D);
    imat_one(I);
    arb_t c;
    arb_init(c);
    arb_set_si(c, -scale);
    imat_scale(WQ, I, c, XPREC);
    arb_one(c);
    one_head_layer(L, WQ, I, I, I, AONET_MASK_SELF, c);
    imat_reinit(X, 2, D);
    arb_set_si(imat_entry(X, 0, 0), -R);
    arb_set_si(imat_entry(X, 1, 0), R);
    arb_clear(c);
    imat_clear(WQ);
    imat_clear(I);
}

START_TEST(test_network_vs_single_head_adversarial)
{
    static const long head_scales[] = {1, 2}, Rs[] = {1, 2};
    static const long head_gaps[] = {4, 12, 24}; /* Omega - 2B */
    arb_t om, net, one, S, V, E, w;
    arb_init(om);
    arb_init(net);
    arb_init(one);
    arb_init(S);
    arb_init(V);
    arb_init(E);
    arb_init(w);
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 3; c++) {
                long B = head_scales[a] * Rs[b] * Rs[b];
                aonet_layer_t L;
                imat_t X;
                imat_init(X, 0, 0);
                adversarial(&L, X, 3, head_scales[a], Rs[b]);
                arb_set_si(om, head_gaps[c] + 2 * B);
                network_bound(net, &L, X, om);
                single_head_consts(S, V, &L, X);
                maskenc_head_leak(one, S, V, 2, om, XPREC);
                /* equal: the network's bound is the single head's upper end
                 * (exact constants here), rounded up to a point of XPREC bits */
                arf_t up;
                arf_init(up);
                arb_get_ubound_arf(up, one, XPREC);
                ck_assert_msg(arb_is_exact(net) && arf_equal(up, arb_midref(net)) &&
                                  arb_is_exact(S) && arb_is_exact(V),
                              "network bound not the single-head one: scale %ld R %ld Omega %ld",
                              head_scales[a], Rs[b], head_gaps[c]);
                arf_clear(up);
                measured_E(E, &L, X, om, MASKENC_MUT_NONE);
                ck_assert(ival_le(E, one));
                ck_assert(ival_le(E, net));
                /* tight: E/bound = 1/(1 + e^(2B - Omega)) >= 1/(1 + e^-4) > 0.98 */
                mpfr_t q;
                mpfr_init2(q, 64);
                ival_get_lo(q, E);
                double qlo = mpfr_get_d(q, MPFR_RNDD) / ival_hi_d(one);
                mpfr_clear(q);
                ck_assert_msg(qlo > 0.98, "not tight: %.17g", qlo);
                /* weakened bounds are below the measured E: the factor 2
                 * dropped, and B for 2B (S = B/2) */
                arb_mul_2exp_si(w, one, -1);
                ck_assert(ival_gt(E, w));
                arb_mul_2exp_si(w, S, -1);
                maskenc_head_leak(w, w, V, 2, om, XPREC);
                ck_assert(ival_gt(E, w));
                /* a weakened encoding (Omega/2 in the weights) exceeds the bound */
                measured_E(E, &L, X, om, MASKENC_MUT_HALF_OMEGA);
                ck_assert_msg(ival_gt(E, net), "half Omega not detected: ratio %g",
                              ratio_up(E, net));
                aonet_layer_clear(&L);
                imat_clear(X);
            }
    arb_clear(om);
    arb_clear(net);
    arb_clear(one);
    arb_clear(S);
    arb_clear(V);
    arb_clear(E);
    arb_clear(w);
}
END_TEST

/* Random one-head layers: the network bound and the single-head formula
 * (two computations of an upper bound of the same distance, with different
 * constants) are both at least the certified measured E. */
START_TEST(test_bounds_above_measured_random)
{
    static const aonet_mask_t layer_masks[] = {AONET_MASK_CAUSAL, AONET_MASK_SELF_BIAS,
                                         AONET_MASK_SELF, AONET_MASK_REAL_CAUSAL};
    static const long layer_Ns[] = {3, 5, 8}, layer_omegas[] = {0, 4, 16, 48};
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + 11u);
    arb_t om, net, one, S, V, E, scale;
    arb_init(om);
    arb_init(net);
    arb_init(one);
    arb_init(S);
    arb_init(V);
    arb_init(E);
    arb_init(scale);
    int reps = test_quick() ? 12 : 48;
    for (int k = 0; k < reps; k++) {
        long N = layer_Ns[gmp_urandomm_ui(st, 3)], D = 3, r = 2;
        imat_t X, WQ, WK, WV, WO;
        imat_init(X, N, D);
        imat_init(WQ, D, r);
        imat_init(WK, D, r);
        imat_init(WV, D, r);
        imat_init(WO, r, D);
        imat_randtest_dyadic(X, st, 4);
        imat_randtest_dyadic(WQ, st, 4);
        imat_randtest_dyadic(WK, st, 4);
        imat_randtest_dyadic(WV, st, 4);
        imat_randtest_dyadic(WO, st, 4);
        arb_set_ui(scale, 1 + gmp_urandomm_ui(st, 2)); /* 1 or 2, exact */
        aonet_layer_t L;
        one_head_layer(&L, WQ, WK, WV, WO, layer_masks[k % 4], scale);
        arb_set_si(om, layer_omegas[gmp_urandomm_ui(st, 4)]);
        network_bound(net, &L, X, om);
        single_head_consts(S, V, &L, X);
        maskenc_head_leak(one, S, V, N, om, XPREC);
        measured_E(E, &L, X, om, MASKENC_MUT_NONE);
        ck_assert_msg(ival_le(E, net), "network bound below E: k %d mask %s N %ld ratio %g", k,
                      aonet_mask_name(layer_masks[k % 4]), N, ratio_up(E, net));
        ck_assert_msg(ival_le(E, one), "single-head bound below E: k %d mask %s N %ld ratio %g",
                      k, aonet_mask_name(layer_masks[k % 4]), N, ratio_up(E, one));
        aonet_layer_clear(&L);
        imat_clear(X);
        imat_clear(WQ);
        imat_clear(WK);
        imat_clear(WV);
        imat_clear(WO);
    }
    arb_clear(om);
    arb_clear(net);
    arb_clear(one);
    arb_clear(S);
    arb_clear(V);
    arb_clear(E);
    arb_clear(scale);
    gmp_randclear(st);
}
END_TEST

/* The network's Omega_req (bisection on multiples of 1/64 of the network
 * bound) against the single head's closed form, on the adversarial layer
 * where the two bounds are equal: the closed form lies in the last step. */
START_TEST(test_omega_req_network_vs_head)
{
    static const double eps[] = {1e-3, 1e-12, 1e-60};
    arb_t S, V, zero;
    arb_init(S);
    arb_init(V);
    arb_init(zero);
    for (long scale = 1; scale <= 2; scale++)
        for (int e = 0; e < 3; e++) {
            aonet_layer_t L;
            imat_t X;
            imat_init(X, 0, 0);
            adversarial(&L, X, 3, scale, 1);
            maskenc_bound_t *mb = maskenc_bound_new(2);
            maskenc_bound_add_layer(mb, &L, X, XPREC);
            double net = maskenc_omega_req(mb, zero, eps[e], XPREC);
            single_head_consts(S, V, &L, X);
            double one = maskenc_head_omega_req(S, V, 2, eps[e]);
            /* one >= the true Omega_req (rounded up at 64 bits); net is the
             * first multiple of 1/64 at or above it */
            ck_assert_msg(net >= one - 1e-12 && net - 1.0 / 64 < one,
                          "network %.17g, closed form %.17g (eps %g)", net, one, eps[e]);
            maskenc_bound_free(mb);
            aonet_layer_clear(&L);
            imat_clear(X);
        }
    arb_clear(S);
    arb_clear(V);
    arb_clear(zero);
}
END_TEST

Suite *suite_mask_encoding(void)
{
    Suite *s = suite_create("mask_encoding");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_bound_holds_random, 0, 4);
    tcase_add_test(tc, test_wrong_bounds_violated);
    tcase_add_test(tc, test_fit_slope);
    tcase_add_test(tc, test_omega_text_up);
    tcase_add_test(tc, test_cli_mutation_exit);
    tcase_add_test(tc, test_head_leak_vs_mpfr);
    tcase_add_test(tc, test_network_vs_single_head_adversarial);
    tcase_add_test(tc, test_bounds_above_measured_random);
    tcase_add_test(tc, test_omega_req_network_vs_head);
    suite_add_tcase(s, tc);
    return s;
}
