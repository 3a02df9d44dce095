/* mask-encoding (Theorem 9; bound derived).  A masked head (W_QK, W_OV, M)
 * on X^ is replaced by an unmasked head on X' = [X^ | I_N] with
 * W'_QK = blockdiag(tau W_QK, Omega (M - J)), W'_OV = blockdiag(W_OV, 0), so
 * s'_ij = tau x_i W_QK x_j^T + Omega (M_ij - 1).  Derived bound, per row:
 * delta_i = e^-Omega D_i / (Z_i + e^-Omega D_i) <= (N-1) e^(2B - Omega), and
 * ||h'_i - h_i|| = delta_i ||m_i - h_i|| <= 2 delta_i V, hence
 *   E <= 2 (N-1) e^(2B - Omega) V,  B = tau ||W_QK||_2 R^2,  V = ||W_OV||_2 R,
 * with ||.||_2 a certified upper bound (imat_norm2_upper) and R the largest
 * token norm (rounded up).  The bound is attained in the limit by the
 * adversarial family: one allowed key with logit -B, every masked key +B,
 * values pointing apart; there E/bound = 1 / (1 + (N-1) e^(2B - Omega)) < 1.
 *
 * Families: "random" (seeded dyadic weights, tokens and masks), "adv" (the
 * adversarial family above; no bias token: token 0 = -u, the rest +u, every
 * row allows key 0 only; W_QK = scale I, W_OV = I) and "search" (a seeded
 * hill climb over random one-key instances maximising E/bound). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "attn.h"
#include "maskenc.h"
#include "omega_util.h"
#include "par.h"
#include "runner.h"
#include "xalloc.h"

enum { MUT_NONE, MUT_NO_FACTOR2, MUT_B_NOT_2B };

#define SEARCH_STEPS 160
#define PREC_SUMMARY 2048

typedef struct {
    long N, D;
    imat_t X;        /* N x D: the stream X^ (bias token at row 0 for "random") */
    imat_t WQK, WOV; /* D x D */
    mask_t M;
    arb_t tau;
} inst_t;

static void inst_init(inst_t *I, long N, long D)
{
    I->N = N;
    I->D = D;
    imat_init(I->X, N, D);
    imat_init(I->WQK, D, D);
    imat_init(I->WOV, D, D);
    mask_init(&I->M, N);
    arb_init(I->tau);
    arb_set_ui(I->tau, 1);
}

static void inst_clear(inst_t *I)
{
    imat_clear(I->X);
    imat_clear(I->WQK);
    imat_clear(I->WOV);
    mask_clear(&I->M);
    arb_clear(I->tau);
}

static void inst_copy(inst_t *dst, const inst_t *src)
{
    imat_set(dst->X, src->X);
    imat_set(dst->WQK, src->WQK);
    imat_set(dst->WOV, src->WOV);
    mask_copy(&dst->M, &src->M);
    arb_set(dst->tau, src->tau);
}

/* A random mask of the named kind; every row allows at least one key. */
static int make_mask(mask_t *M, long N, const char *kind, gmp_randstate_t st)
{
    mask_clear(M);
    mask_init(M, N);
    for (long i = 0; i < N; i++) {
        int any = 0;
        for (long j = 0; j < N; j++) {
            int on;
            if (strcmp(kind, "causal") == 0)
                on = j <= i;
            else if (strcmp(kind, "bias") == 0)
                on = j == i || j == 0;
            else if (strcmp(kind, "banded") == 0)
                on = j <= i && j + 2 >= i; /* causal band of width 3 */
            else if (strcmp(kind, "random") == 0)
                on = (int)gmp_urandomb_ui(st, 1);
            else if (strcmp(kind, "one") == 0)
                on = 0;
            else
                return -1;
            if (on)
                mask_add(M, i, j);
            any |= on;
        }
        if (!any) /* "one", or an empty random row: one random allowed key */
            mask_add(M, i, (long)gmp_urandomm_ui(st, (unsigned long)N));
    }
    return 0;
}

/* Seeded random instance: X^ = [[0, 1], [X, 0]], W_QK = scale * random. */
static int inst_random(inst_t *I, unsigned long seed, const arb_t scale, const char *mask,
                       mpfr_prec_t prec)
{
    gmp_randstate_t st;
    imat_t X;
    thm_rand_init(st, seed, 9);
    imat_init(X, I->N - 1, I->D - 1);
    imat_randtest_dyadic(X, st, WEIGHT_BITS);
    thm_bias_stream(I->X, X);
    imat_clear(X);
    imat_randtest_dyadic(I->WQK, st, WEIGHT_BITS);
    imat_scale(I->WQK, I->WQK, scale, prec);
    imat_randtest_dyadic(I->WOV, st, WEIGHT_BITS);
    int rc = make_mask(&I->M, I->N, mask, st);
    gmp_randclear(st);
    return rc;
}

/* The adversarial family: token 0 = -e_0, tokens 1.. = +e_0; every row
 * allows key 0 only; W_QK = scale I; W_OV = I.  For queries 1..N-1 the
 * allowed logit is -B and every masked one +B (B = tau scale, R = 1). */
static void inst_adversarial(inst_t *I, const arb_t scale, mpfr_prec_t prec)
{
    imat_zero(I->X);
    for (long i = 0; i < I->N; i++)
        arb_set_si(imat_entry(I->X, i, 0), i == 0 ? -1 : 1);
    imat_one(I->WQK);
    imat_scale(I->WQK, I->WQK, scale, prec);
    imat_one(I->WOV);
    mask_clear(&I->M);
    mask_init(&I->M, I->N);
    for (long i = 0; i < I->N; i++)
        mask_add(&I->M, i, 0);
}

typedef struct {
    arb_t E, Eabs, bound, boundF, B, V, R, T;
} eval_t;

static void eval_init(eval_t *e)
{
    arb_init(e->E);
    arb_init(e->Eabs);
    arb_init(e->bound);
    arb_init(e->boundF);
    arb_init(e->B);
    arb_init(e->V);
    arb_init(e->R);
    arb_init(e->T);
}

static void eval_clear(eval_t *e)
{
    arb_clear(e->E);
    arb_clear(e->Eabs);
    arb_clear(e->bound);
    arb_clear(e->boundF);
    arb_clear(e->B);
    arb_clear(e->V);
    arb_clear(e->R);
    arb_clear(e->T);
}

/* bound = 2 (N-1) exp(2B - Omega) V with B = tau nqk R^2, V = nov R: the
 * head leak of maskenc.h with S = B; the mutations drop the 2 (halve the
 * leak) or use B for 2B (S = B/2); both exact steps.  Monotone in nqk, nov,
 * R, so upper bounds of the norms give a bound at least the true one. */
static void claimed_bound(arb_t bound, arb_t B, arb_t V, const mpfr_t nqk, const mpfr_t nov,
                          const arb_t R2, const arb_t R, const arb_t tau, const arb_t omega,
                          long N, int mutation, mpfr_prec_t prec)
{
    arb_t t;
    arb_init(t);
    ival_set_fr(t, nqk); /* exact */
    arb_mul(B, R2, t, prec);
    arb_mul(B, B, tau, prec);
    ival_set_fr(t, nov);
    arb_mul(V, R, t, prec);
    arb_mul_2exp_si(t, B, mutation == MUT_B_NOT_2B ? -1 : 0);
    maskenc_head_leak(bound, t, V, N, omega, prec);
    if (mutation == MUT_NO_FACTOR2)
        arb_mul_2exp_si(bound, bound, -1);
    arb_clear(t);
}

/* E between the masked head on X^ and the encoded unmasked head on X',
 * over rows row0..N-1 and the D feature columns; the two bounds. */
static void evaluate(eval_t *ev, const inst_t *I, const arb_t omega, long row0, int mutation,
                     instance_t *out, mpfr_prec_t prec)
{
    long N = I->N, D = I->D;
    attn_head_t h, he;
    imat_t Y, Ye, Xe;
    /* the masked head */
    attn_head_init_full(h, D);
    imat_set(h->W_Q, I->WQK);
    imat_set(h->W_V, I->WOV);
    arb_set(h->tau, I->tau);
    imat_init(Y, N, D);
    attn_head_apply(Y, h, I->X, &I->M, prec);
    /* the encoded head: tau folded into the W_QK block, Omega(M - J) */
    attn_head_init_full(he, D + N);
    for (long i = 0; i < D; i++)
        for (long j = 0; j < D; j++) {
            arb_mul(imat_entry(he->W_Q, i, j), imat_entry(I->WQK, i, j), I->tau, prec);
            arb_set(imat_entry(he->W_V, i, j), imat_entry(I->WOV, i, j));
        }
    for (long i = 0; i < N; i++)
        for (long j = 0; j < N; j++)
            if (!mask_allows(&I->M, i, j))
                arb_neg(imat_entry(he->W_Q, D + i, D + j), omega);
    imat_init(Xe, N, D + N);
    imat_set_block(Xe, 0, 0, I->X);
    for (long i = 0; i < N; i++)
        arb_set_ui(imat_entry(Xe, i, D + i), 1);
    imat_init(Ye, N, D + N);
    attn_head_apply(Ye, he, Xe, NULL, prec);
    if (out) {
        /* as a layer the head adds to the stream: the reference is X' + [h(X), 0] */
        imat_t R;
        imat_init(R, N, D + N);
        imat_set_block(R, 0, 0, Y);
        imat_add(R, R, Xe, prec);
        instance_net_heads(out, he, 1, NULL, prec);
        instance_masked_heads(out, h, 1, &I->M, prec); /* none when M is no rule */
        instance_net_io(out, Xe, R, row0 ? THM_LAYOUT_BIAS "; then one-hot positions"
                                         : "each token a row [x | one-hot position]");
        imat_clear(R);
    }
    error_metric(ev->E, ev->Eabs, Ye, Y, row0, N - row0, D, prec);
    error_trivial_bound(ev->T, Ye, Y, row0, N - row0, D, prec);

    /* R^2 = max ||x_j||^2 over all tokens (exact for dyadic entries) */
    arb_t R2, s;
    arb_init(R2);
    arb_init(s);
    arb_set_ui(R2, 0);
    for (long j = 0; j < N; j++) {
        imat_row_norm2(s, I->X, j, prec);
        arb_sqr(s, s, prec);
        ival_max(R2, R2, s, prec);
    }
    arb_sqrtpos(ev->R, R2, prec);
    mpfr_t nqk, nov;
    mpfr_inits2(prec, nqk, nov, (mpfr_ptr)0);
    imat_norm2_upper(nqk, I->WQK);
    imat_norm2_upper(nov, I->WOV);
    claimed_bound(ev->bound, ev->B, ev->V, nqk, nov, R2, ev->R, I->tau, omega, N, mutation, prec);
    arb_t BF, VF;
    arb_init(BF);
    arb_init(VF);
    imat_norm_frobenius_upper(nqk, I->WQK);
    imat_norm_frobenius_upper(nov, I->WOV);
    claimed_bound(ev->boundF, BF, VF, nqk, nov, R2, ev->R, I->tau, omega, N, mutation, prec);
    arb_clear(BF);
    arb_clear(VF);
    mpfr_clears(nqk, nov, (mpfr_ptr)0);
    arb_clear(R2);
    arb_clear(s);
    attn_head_clear(h);
    attn_head_clear(he);
    imat_clear(Y);
    imat_clear(Ye);
    imat_clear(Xe);
}

/* E / bound at 53 bits, upper end: the search's objective (a heuristic;
 * the row's verdict is decided by the certified E and bound). */
static double ratio_d(const eval_t *ev)
{
    if (!arb_is_positive(ev->bound))
        return 0;
    mpfr_t q, b;
    mpfr_inits2(53, q, b, (mpfr_ptr)0);
    ival_get_hi(q, ev->E);
    ival_get_lo(b, ev->bound);
    mpfr_div(q, q, b, MPFR_RNDU);
    double v = mpfr_get_d(q, MPFR_RNDU);
    mpfr_clears(q, b, (mpfr_ptr)0);
    return v;
}

/* Redraw one random piece of the instance (a token, a weight entry, or
 * the allowed key of a row). */
static void perturb(inst_t *I, gmp_randstate_t st)
{
    imat_t one;
    imat_init(one, 1, 1);
    imat_randtest_dyadic(one, st, WEIGHT_BITS);
    unsigned long what = gmp_urandomm_ui(st, 4);
    long N = I->N, D = I->D;
    if (what == 0) {
        long i = 1 + (long)gmp_urandomm_ui(st, (unsigned long)(N - 1));
        long j = (long)gmp_urandomm_ui(st, (unsigned long)(D - 1));
        arb_set(imat_entry(I->X, i, j), one->e);
    } else if (what == 1) {
        long i = (long)gmp_urandomm_ui(st, (unsigned long)D), j = (long)gmp_urandomm_ui(st, (unsigned long)D);
        arb_set(imat_entry(I->WQK, i, j), one->e);
    } else if (what == 2) {
        long i = (long)gmp_urandomm_ui(st, (unsigned long)D), j = (long)gmp_urandomm_ui(st, (unsigned long)D);
        arb_set(imat_entry(I->WOV, i, j), one->e);
    } else {
        long i = (long)gmp_urandomm_ui(st, (unsigned long)N);
        long key = (long)gmp_urandomm_ui(st, (unsigned long)N);
        mask_set_row(&I->M, i, &key, 1);
    }
    imat_clear(one);
}

static int get_params(row_t *r, long *N, long *d, arb_t omega, arb_t tau, arb_t scale,
                      const char **family, const char **mask)
{
    if (omega_get(omega, r) != 0)
        return -1;
    if (thm_get_size(N, r, "N", 2) != 0)
        return -1;
    *d = 3;
    if (params_get(&r->params, "d") && thm_get_size(d, r, "d", 1) != 0)
        return -1;
    arb_set_ui(tau, 1);
    if (params_get(&r->params, "tau") &&
        (params_get_ival(tau, &r->params, "tau", r->prec) != 0 || !arb_is_positive(tau) ||
         !(ival_hi_d(tau) <= 1000))) {
        snprintf(r->note, sizeof r->note, "tau must be a number in (0, 1000]");
        return -1;
    }
    arb_set_ui(scale, 1);
    if (params_get(&r->params, "scale") &&
        (params_get_ival(scale, &r->params, "scale", r->prec) != 0 || !arb_is_positive(scale) ||
         !(ival_hi_d(scale) <= 1000))) {
        snprintf(r->note, sizeof r->note, "scale must be a number in (0, 1000]");
        return -1;
    }
    *family = params_get(&r->params, "family");
    if (!*family)
        *family = "random";
    *mask = params_get(&r->params, "mask");
    if (!*mask)
        *mask = "causal";
    if (strcmp(*family, "random") && strcmp(*family, "adv") && strcmp(*family, "search")) {
        snprintf(r->note, sizeof r->note, "family='%s' must be random, adv or search", *family);
        return -1;
    }
    static const char *masks[] = {"causal", "bias", "random", "banded", "one"};
    int ok = 0;
    for (int k = 0; k < 5; k++)
        ok |= strcmp(*mask, masks[k]) == 0;
    if (!ok) {
        snprintf(r->note, sizeof r->note,
                 "mask='%s' must be causal, bias, random, banded or one", *mask);
        return -1;
    }
    return 0;
}

static int evaluate_row(row_t *r, instance_t *out)
{
    mpfr_prec_t prec = r->prec;
    long N, d;
    const char *family, *mask;
    arb_t omega, tau, scale;
    arb_init(omega);
    arb_init(tau);
    arb_init(scale);
    int rc = get_params(r, &N, &d, omega, tau, scale, &family, &mask);
    if (rc != 0) {
        arb_clear(omega);
        arb_clear(tau);
        arb_clear(scale);
        return -1;
    }
    inst_t I;
    eval_t ev;
    /* E is over the real tokens: rows 1.. after the bias token, every row of
     * the adversarial family (it has no bias token) */
    long row0 = strcmp(family, "adv") == 0 ? 0 : 1;
    inst_init(&I, N, d + 1);
    arb_set(I.tau, tau);
    eval_init(&ev);
    double start_ratio = 0;
    if (strcmp(family, "adv") == 0) {
        inst_adversarial(&I, scale, prec);
    } else if (strcmp(family, "random") == 0) {
        inst_random(&I, r->seed, scale, mask, prec);
    } else {
        /* hill climb: keep a perturbation when E/bound does not decrease */
        inst_t J;
        gmp_randstate_t st;
        inst_init(&J, N, d + 1);
        inst_random(&I, r->seed, scale, "one", prec);
        thm_rand_init(st, r->seed, 10);
        evaluate(&ev, &I, omega, row0, 0, NULL, prec);
        double best = start_ratio = ratio_d(&ev);
        for (int step = 0; step < SEARCH_STEPS; step++) {
            inst_copy(&J, &I);
            perturb(&J, st);
            evaluate(&ev, &J, omega, row0, 0, NULL, prec);
            double q = ratio_d(&ev);
            if (q >= best) {
                best = q;
                inst_copy(&I, &J);
            }
        }
        gmp_randclear(st);
        inst_clear(&J);
    }
    evaluate(&ev, &I, omega, row0, r->mutation, out, prec);
    arb_set(r->error, ev.E);
    arb_set(r->error_abs, ev.Eabs);
    arb_set(r->bound, ev.bound);
    r->has_bound = 1;
    arb_set(r->trivial, ev.T);
    r->has_trivial = 1;
    arb_set(row_add_ival(r, "B"), ev.B);
    arb_set(row_add_ival(r, "V"), ev.V);
    arb_set(row_add_ival(r, "bound (Frobenius)"), ev.boundF);
    arb_ptr q = row_add_ival(r, "E/bound (Frobenius)");
    arb_div(q, ev.E, ev.boundF, prec);
    row_add_text(r, "E resolved", "%s", omega_resolved(ev.E) ? "yes" : "NO");
    if (strcmp(family, "search") == 0)
        row_add_text(r, "search", "%d steps; start ratio %.3g", SEARCH_STEPS, start_ratio);
    eval_clear(&ev);
    inst_clear(&I);
    arb_clear(omega);
    arb_clear(tau);
    arb_clear(scale);
    return 0;
}

static int run(row_t *r) { return evaluate_row(r, NULL); }

static int export_instance(instance_t *I, const params_t *p, unsigned long seed, mpfr_prec_t prec)
{
    return thm_export_evaluated(I, p, seed, prec, evaluate_row,
                                "the masked head's encoded twin, unmasked on X' = [X_hat | "
                                "I_N]: W'_QK = blockdiag(tau W_QK, Omega (M - J)), W'_OV = "
                                "blockdiag(W_OV, 0); reference X' + [h_M(X_hat), 0]");
}

/* Enough bits to resolve E ~ e^(-Omega - 2B): 64 + (Omega + 2B)/ln 2 + size
 * bits, B estimated from tau and scale; the adversarial family also needs
 * the gap 1 - E/bound ~ (N-1) e^(2B - Omega) resolved, i.e. twice that. */
static mpfr_prec_t start_prec(const params_t *p)
{
    double om = params_get_double(p, "omega", 0), tau = params_get_double(p, "tau", 1);
    double sc = params_get_double(p, "scale", 1), N = params_get_double(p, "N", 16);
    double d = params_get_double(p, "d", 3);
    const char *fam = params_get(p, "family");
    double B = tau * sc * (d + 1) * 2;
    if (!(om >= 0) || om > 1e5 || !(B >= 0) || B > 1e5)
        return 128;
    double bits = 64 + (om + 2 * B) / 0.6931471805599453 + 2 * log2(N + 1);
    if (fam && strcmp(fam, "adv") == 0)
        bits += om / 0.6931471805599453;
    return (mpfr_prec_t)(bits < 8192 ? bits : 8192);
}

/* Two instances (the search keeps its best), the masked head and its
 * encoded twin of width W = D + N (full form), the streams and products of
 * one head application on W, and the masks. */
static double estimate_bytes(const params_t *p, mpfr_prec_t prec)
{
    long N, d = 3;
    if (params_get_long(&N, p, "N") != 0 || N < 2 || N > THM_SIZE_MAX ||
        (params_get(p, "d") && (params_get_long(&d, p, "d") != 0 || d < 1 || d > THM_SIZE_MAX)))
        return 0; /* the row refuses it */
    double B = ball_bytes(prec), S = THM_EXACT_BALL_BYTES;
    double n = (double)N, D = (double)d + 1, W = D + n;
    double inst = 2 * (n * D + 2 * D * D) * B + 2 * (n * n + 2 * n) * sizeof(long);
    double heads = 2 * D * D * B + 2 * W * W * B;
    /* X', Y, Y', and in the application Q, V, A V, its output and V transposed */
    double streams = n * D * B + 2 * n * W * B + 4 * n * W * B + n * W * S;
    return THM_EST_BASE_BYTES + inst + heads + streams + imat_mul_bytes(N, d + 1 + N, d + 1 + N, prec) +
           (double)attn_softmax_threads(1, N) * 3 * n * B;
}

static int fit(fit_t *fits, int max_fits, const row_t *rows, long n_rows)
{
    /* the search rows are different instances per seed: one point each */
    static const char *const keys[] = {"family", "mask", "N", "tau", "scale", "seed", NULL};
    return omega_fit_series(fits, max_fits, rows, n_rows, keys, 16, 4, -1);
}

/* Omega_req(eps) = 2B + ln(2(N-1)V/eps), rounded up, from the row's B, V. */
static double omega_req(const row_t *r, double eps)
{
    const column_t *B = omega_extra(r, "B"), *V = omega_extra(r, "V");
    long N;
    if (!B || !V || params_get_long(&N, &r->params, "N") != 0)
        return NAN;
    return maskenc_head_omega_req(B->iv, V->iv, N, eps);
}

static int same_series(const row_t *a, const row_t *b)
{
    static const char *const keys[] = {"family", "mask", "N", "tau", "scale", "d", NULL};
    if (strcmp(a->sweep, b->sweep) != 0 || a->seed != b->seed)
        return 0;
    for (int k = 0; keys[k]; k++) {
        const char *x = params_get(&a->params, keys[k]), *y = params_get(&b->params, keys[k]);
        if ((x == NULL) != (y == NULL) || (x && strcmp(x, y) != 0))
            return 0;
    }
    return 1;
}

static char *summary_md(const row_t *rows, long n_rows)
{
    char *s = NULL;
    size_t len = 0;
    static const double eps[] = {1e-3, 1e-10, 1e-50};
    long resolved = 0;
    for (long k = 0; k < n_rows; k++)
        resolved += omega_resolved(rows[k].error);
    omega_strcat(&s, &len, "## Summary\n\nE resolved (certified enclosure excludes 0) in "
                           "%ld of %ld rows.\n\n", resolved, n_rows);

    /* worst tightness: the largest upper end of E/bound, at the row's
     * precision (the adversarial ratios differ from 1 by ~1e-110) */
    long worst = -1, worst_search = -1;
    mpfr_t q, qs, t;
    mpfr_inits2(PREC_SUMMARY, q, qs, t, (mpfr_ptr)0);
    mpfr_set_ui(q, 0, MPFR_RNDN);
    mpfr_set_ui(qs, 0, MPFR_RNDN);
    for (long k = 0; k < n_rows; k++) {
        const row_t *r = rows + k;
        if (!r->has_bound || !arb_is_positive(r->bound))
            continue;
        mpfr_t b;
        mpfr_init2(b, PREC_SUMMARY);
        ival_get_hi(t, r->error);
        ival_get_lo(b, r->bound);
        mpfr_div(t, t, b, MPFR_RNDU);
        mpfr_clear(b);
        if (mpfr_greater_p(t, q)) {
            mpfr_set(q, t, MPFR_RNDU);
            worst = k;
        }
        const char *fam = params_get(&r->params, "family");
        if (fam && strcmp(fam, "search") == 0 && mpfr_greater_p(t, qs)) {
            mpfr_set(qs, t, MPFR_RNDU);
            worst_search = k;
        }
    }
    omega_strcat(&s, &len, "### Tightness\n\n");
    for (int w = 0; w < 2; w++) {
        long k = w ? worst_search : worst;
        if (k < 0)
            continue;
        const row_t *r = rows + k;
        mpfr_ptr v = w ? qs : q;
        char buf[64];
        if (mpfr_cmp_d(v, 0.999) > 0 && mpfr_cmp_ui(v, 1) < 0) {
            mpfr_ui_sub(t, 1, v, MPFR_RNDD); /* 1 - hi(ratio), rounded down */
            mpfr_snprintf(buf, sizeof buf, "1 - %.3RDe", t);
        } else {
            mpfr_snprintf(buf, sizeof buf, "%.6RUg", v);
        }
        omega_strcat(&s, &len, "- worst E/bound %s: **%s** (hi(E)/lo(bound), rounded up) — seed %lu, "
                     "prec %ld, sweep %s,", w ? "found by the random search" : "over all rows",
                     buf, r->seed, (long)r->prec, r->sweep);
        for (int a = 0; a < r->params.n; a++)
            omega_strcat(&s, &len, " %s=%s", r->params.name[a], r->params.value[a]);
        omega_strcat(&s, &len, "; verdict %s\n", verdict_name(r->verdict));
    }
    omega_strcat(&s, &len, "\nA ratio above 1 would be a certified counterexample to the derived "
                           "bound (verdict `violated`). The adversarial family approaches 1 from "
                           "below as Omega grows: E/bound = 1/(1 + (N-1)e^(2B-Omega)) there.\n\n");
    mpfr_clears(q, qs, t, (mpfr_ptr)0);

    /* Omega_req against the smallest grid Omega reaching eps, per series */
    omega_strcat(&s, &len, "### Omega needed for E <= eps: claimed Omega_req against the grid\n\n"
                           "Omega_req(eps) = 2B + ln(2(N-1)V/eps) from the certified B, V (rounded "
                           "up); 'grid' is the smallest Omega of the series whose certified hi(E) "
                           "<= eps ('>max' when none does).\n\n"
                           "'interpolated' solves ln hi(E) = ln eps on the straight line between the "
                           "two grid points around it (an estimate).\n\n"
                           "| series | eps | Omega_req (claimed) | smallest grid Omega | "
                           "interpolated Omega (estimate) | Omega_req - interpolated |\n"
                           "|---|---|---|---|---|---|\n");
    char *seen = xcalloc((size_t)n_rows + 1, 1);
    int shown = 0;
    for (long k = 0; k < n_rows && shown < 40; k++) {
        if (seen[k] || !rows[k].has_bound)
            continue;
        const char *fam = params_get(&rows[k].params, "family");
        if (fam && strcmp(fam, "search") == 0)
            continue;
        long members = 0;
        for (long j = k; j < n_rows; j++)
            if (!seen[j] && same_series(rows + k, rows + j)) {
                seen[j] = 1;
                members++;
            }
        if (members < 4)
            continue;
        shown++;
        for (int e = 0; e < 3; e++) {
            double req = omega_req(rows + k, eps[e]), best = INFINITY, maxom = 0;
            double below = -INFINITY, lnb = NAN, lna = NAN; /* grid point before `best` */
            mpfr_t lim;
            mpfr_init2(lim, 64);
            mpfr_set_d(lim, eps[e], MPFR_RNDD);
            for (long j = k; j < n_rows; j++) {
                if (!same_series(rows + k, rows + j))
                    continue;
                double om = params_get_double(&rows[j].params, "omega", NAN);
                if (om > maxom)
                    maxom = om;
                if (ival_hi_d(rows[j].error) <= mpfr_get_d(lim, MPFR_RNDD) && om < best) {
                    best = om;
                    lna = omega_ln_hi_d(rows[j].error);
                }
            }
            for (long j = k; j < n_rows && isfinite(best); j++) {
                double om = params_get_double(&rows[j].params, "omega", NAN);
                if (same_series(rows + k, rows + j) && om < best && om > below &&
                    ival_hi_d(rows[j].error) > 0) {
                    below = om;
                    lnb = omega_ln_hi_d(rows[j].error);
                }
            }
            double interp = NAN;
            if (isfinite(best) && isfinite(below) && lnb != lna)
                interp = below + (log(eps[e]) - lnb) * (best - below) / (lna - lnb);
            mpfr_clear(lim);
            char grid[32], ip[32], gap[32], reqs[40];
            if (isfinite(req))
                omega_text_up(reqs, sizeof reqs, req, 2);
            else
                snprintf(reqs, sizeof reqs, "%.2f", req);
            snprintf(grid, sizeof grid, isfinite(best) ? "%g" : ">%g", isfinite(best) ? best : maxom);
            snprintf(ip, sizeof ip, isfinite(interp) ? "%.2f" : "-", interp);
            snprintf(gap, sizeof gap, isfinite(interp) ? "%.2f" : "-", req - interp);
            const row_t *r = rows + k;
            omega_strcat(&s, &len, "| %s", r->sweep);
            static const char *const keys[] = {"family", "mask", "N", "tau", "scale", NULL};
            for (int a = 0; keys[a]; a++)
                if (params_get(&r->params, keys[a]))
                    omega_strcat(&s, &len, " %s=%s", keys[a], params_get(&r->params, keys[a]));
            omega_strcat(&s, &len, " | %g | %s | %s | %s | %s |\n", eps[e], reqs, grid, ip, gap);
        }
    }
    free(seen);
    omega_strcat(&s, &len, "\nThe grid is coarse (Omega doubles), so 'smallest grid Omega' "
                           "over-estimates the true threshold by up to a factor 2; a positive "
                           "'Omega_req - interpolated' is the claimed bound's slack in Omega.");
    return s;
}

#define OMEGAS "0,1,2,4,8,16,32,64,128,256"

const claim_t claim_mask_encoding = {
    .id = "mask-encoding",
    .source = "Theorem 9",
    .kind = KIND_INEQUALITY,
    .provenance = "paper (construction); bound derived",
    .statement = "A masked head equals, up to E <= 2(N-1) e^(2B-Omega) V, the unmasked head on "
                 "X' = [X^ | I_N] with W'_QK = blockdiag(tau W_QK, Omega(M - J)).",
    .formula = "Encoded head: X′ = [X̂ | I_N], W′_QK = blockdiag(τ·W_QK, Ω·(M − J)), "
               "W′_OV = blockdiag(W_OV, 0), temperature 1, no mask: s′_ij = τ x_i W_QK x_jᵀ + Ω(M_ij − 1).\n"
               "Derived bound: δ_i = e^{−Ω}D_i/(Z_i + e^{−Ω}D_i) ≤ (N−1)e^{2B−Ω} and "
               "‖h′_i − h_i‖ = δ_i‖m_i − h_i‖ ≤ 2δ_i V, so **E ≤ 2(N−1)·e^{2B−Ω}·V**, "
               "B = τ‖W_QK‖₂R², V = ‖W_OV‖₂R, R = max_j ‖x̂_j‖₂.\n"
               "‖·‖₂ is the certified upper bound min(Frobenius, √(‖A‖₁‖A‖∞), √‖AᵀA‖∞) "
               "(column `bound`); the column `bound (Frobenius)` uses Frobenius norms.\n"
               "E is over real tokens (rows 1..N−1 after the bias token; all N rows in the "
               "`adv` family, which has none) and the D = d+1 feature columns. Families: `random` (seeded dyadic X, W_QK·scale, W_OV, seeded "
               "masks), `adv` (adversarial: token 0 = −e₁, others +e₁, every row allows key 0 "
               "only, W_QK = scale·I, W_OV = I; no bias token), `search` (hill climb of "
               "E/bound over random one-key instances, 160 steps from the seed's instance).\n"
               "Masks: causal, bias (self + bias token), random (each entry 1/2, seeded), "
               "banded (j in [i−2, i]), one (one seeded allowed key per row).",
    .notes = "The bound is derived here, not copied from the paper. Fits are least-squares "
             "estimates in doubles. τ = 0.1 is not dyadic: it enters as an enclosure, used "
             "identically by both heads.",
    .quick = {{"omega-mask", {{"family", "random"}, {"N", "4,16"}, {"mask", "causal,bias,random,banded,one"},
                              {"tau", "1"}, {"scale", "1"}, {"omega", OMEGAS}, {NULL, NULL}}},
              {"n64", {{"family", "random"}, {"N", "64"}, {"mask", "causal,one"}, {"tau", "1"},
                       {"scale", "1"}, {"omega", "0,16,64,256"}, {NULL, NULL}}},
              {"tau-scale", {{"family", "random"}, {"N", "16"}, {"mask", "causal,random"},
                             {"tau", "0.1,1,4"}, {"scale", "0.25,1,4"}, {"omega", "4,64"}, {NULL, NULL}}},
              {"adversarial", {{"family", "adv"}, {"N", "4,16"}, {"tau", "1"}, {"scale", "1,2"},
                               {"omega", OMEGAS}, {NULL, NULL}}},
              {"search", {{"family", "search"}, {"N", "4"}, {"tau", "1"}, {"scale", "1"},
                          {"omega", "8,32"}, {"seed", "1,2,3,4,5,6"}, {NULL, NULL}}},
              {NULL, {{NULL, NULL}}}},
    .full = {{"omega-mask", {{"family", "random"}, {"N", "4,16,64"}, {"mask", "causal,bias,random,banded,one"},
                             {"tau", "1"}, {"scale", "1"}, {"omega", OMEGAS ",512,1000"}, {NULL, NULL}}},
             {"n256", {{"family", "random"}, {"N", "256"}, {"mask", "causal,one"}, {"tau", "1"},
                       {"scale", "1"}, {"omega", "0,16,64,256,1000"}, {NULL, NULL}}},
             {"tau-scale", {{"family", "random"}, {"N", "16"}, {"mask", "causal,random,one"},
                            {"tau", "0.1,1,4"}, {"scale", "0.25,1,4"}, {"omega", "4,16,64,256"}, {NULL, NULL}}},
             {"adversarial", {{"family", "adv"}, {"N", "4,16,64"}, {"tau", "1"}, {"scale", "1,2,4"},
                              {"omega", OMEGAS ",512,1000"}, {NULL, NULL}}},
             {"search", {{"family", "search"}, {"N", "4,8"}, {"tau", "1"}, {"scale", "1"},
                         {"omega", "8,32"}, {"seed", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16"}, {NULL, NULL}}},
             {NULL, {{NULL, NULL}}}},
    .mutations = {{"no-factor-2", "the claimed bound without its factor 2: (N-1) e^(2B-Omega) V"},
                  {"b-not-2b", "the claimed bound with B instead of 2B: 2(N-1) e^(B-Omega) V"},
                  {NULL, NULL}},
    .plots = {{.x = "omega", .y = "error", .series = "mask", .logy = 1,
               .title = "hi(E) against Omega, one line per mask (max over the rest)"},
              {.x = "omega", .y = "error", .series = "N", .logy = 1,
               .title = "hi(E) against Omega, one line per N (max over the rest)"},
              {.x = "omega", .y = "ratio", .series = "family", .logy = 1, .extra_y = "1",
               .title = "tightness E/bound against Omega, each row against its own bound "
                        "(max per family)"}},
    .run = run,
    .start_prec = start_prec,
    .export_instance = export_instance,
    .fit = fit,
    .summary_md = summary_md,
    .estimate_bytes = estimate_bytes,
};
