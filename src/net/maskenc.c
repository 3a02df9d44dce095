/* Masks encoded in weights, and the derived bound (maskenc.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "maskenc.h"
#include "xalloc.h"

/* ------------------------------------------------------------ the network */

void maskenc_stream(imat_t Xe, const imat_t X)
{
    long N = X->rows, D = X->cols;
    imat_reinit(Xe, N, D + N);
    imat_set_block(Xe, 0, 0, X);
    for (long i = 0; i < N; i++)
        arb_one(imat_entry(Xe, i, D + i));
}

void maskenc_features(imat_t X, const imat_t Xe, long D)
{
    imat_reinit(X, Xe->rows, D);
    for (long i = 0; i < Xe->rows; i++)
        for (long j = 0; j < D; j++)
            arb_set(imat_entry(X, i, j), imat_entry(Xe, i, j));
}

/* Head h's block of a stacked W (rows [0, D)), into rows [0, D) and columns
 * [c0, c0 + r) of dst. */
static void copy_head(imat_t dst, long c0, const imat_t W, long h, long r)
{
    for (long i = 0; i < W->rows; i++)
        for (long e = 0; e < r; e++)
            arb_set(imat_entry(dst, i, c0 + e), imat_entry(W, i, h * r + e));
}

static void encode_group(aonet_group_t *E, const aonet_group_t *g, long D, long N,
                         const arb_t omega, int mutation, mpfr_prec_t prec)
{
    long r = g->r_qk, re = r + N, n = g->n_heads;
    aonet_group_init(E, g->name, D + N, n, re, g->r_ov, g->shared_k, AONET_MASK_ALL);
    arb_set(E->attn_scale, g->attn_scale);
    /* the masked keys' logit: -s Omega before the division by s */
    arb_t low;
    arb_init(low);
    arb_set(low, omega);
    if (mutation == MASKENC_MUT_HALF_OMEGA)
        arb_mul_2exp_si(low, low, -1);
    if (mutation != MASKENC_MUT_UNSCALED)
        arb_mul(low, low, g->attn_scale,
                arb_is_exact(g->attn_scale) && arb_is_exact(low) ? ARF_PREC_EXACT : prec);
    arb_neg(low, low);
    for (long h = 0; h < n; h++) {
        copy_head(E->W_Q, h * re, g->W_Q, h, r);
        for (long i = 0; i < N; i++)
            for (long j = 0; j < N; j++)
                if (!aonet_mask_allows(g->mask, i, j))
                    arb_set(imat_entry(E->W_Q, D + i, h * re + r + j), low);
        if (!g->shared_k || h == 0) {
            copy_head(E->W_K, g->shared_k ? 0 : h * re, g->W_K, g->shared_k ? 0 : h, r);
            for (long i = 0; i < N; i++)
                arb_one(imat_entry(E->W_K, D + i, (g->shared_k ? 0 : h * re) + r + i));
        }
    }
    for (long i = 0; i < D; i++)
        for (long c = 0; c < g->W_V->cols; c++)
            arb_set(imat_entry(E->W_V, i, c), imat_entry(g->W_V, i, c));
    for (long c = 0; c < g->W_O->rows; c++)
        for (long j = 0; j < D; j++)
            arb_set(imat_entry(E->W_O, c, j), imat_entry(g->W_O, c, j));
    arb_clear(low);
}

void maskenc_layer(aonet_layer_t *E, const aonet_layer_t *L, long N, const arb_t omega,
                   int mutation, mpfr_prec_t prec)
{
    aonet_layer_init(E, L->n_groups);
    aonet_ln_copy(&E->ln, &L->ln);
    for (long g = 0; g < L->n_groups; g++)
        encode_group(E->groups + g, L->groups + g, L->groups[g].W_Q->rows, N, omega, mutation,
                     prec);
}

/* -------------------------------------------------------------- the bound */

void maskenc_head_leak(arb_t leak, const arb_t S, const arb_t V, long N, const arb_t omega,
                       mpfr_prec_t prec)
{
    arb_mul_2exp_si(leak, S, 1); /* exact */
    arb_sub(leak, leak, omega, prec);
    ival_exp_bound(leak, leak, prec);
    arb_mul_si(leak, leak, 2 * (N - 1), prec);
    arb_mul(leak, leak, V, prec);
}

double maskenc_head_omega_req(const arb_t S, const arb_t V, long N, double eps)
{
    mpfr_t t, u;
    mpfr_inits2(64, t, u, (mpfr_ptr)0);
    ival_get_hi(t, V);
    mpfr_mul_ui(t, t, (unsigned long)(2 * (N - 1)), MPFR_RNDU);
    mpfr_set_d(u, eps, MPFR_RNDD);
    mpfr_div(t, t, u, MPFR_RNDU);
    mpfr_log(t, t, MPFR_RNDU);
    ival_get_hi(u, S);
    mpfr_mul_2ui(u, u, 1, MPFR_RNDU);
    mpfr_add(t, t, u, MPFR_RNDU);
    double v = mpfr_get_d(t, MPFR_RNDU);
    mpfr_clears(t, u, (mpfr_ptr)0);
    return v;
}

/* Per head: Q, K, O, a_Q, a_K, a_OV, s (upper bounds; s exact). */
enum { HC_Q, HC_K, HC_O, HC_AQ, HC_AK, HC_AOV, HC_S, HC_N };

typedef struct {
    int ln;          /* 0: no LN (lambda = 1) */
    arb_t gmax, pmin, eps; /* max |w| (upper), min ||P x|| (a point, lower), eps */
    long d, h0, nh;  /* features; heads [h0, h0 + nh) */
} layer_c;

struct maskenc_bound {
    long N;
    layer_c *layers;
    long nl, capl;
    arb_ptr heads;   /* HC_N per head */
    long nh, caph;
    layer_c final;
    int has_final;
};

static void layer_c_init(layer_c *c)
{
    memset(c, 0, sizeof *c);
    arb_init(c->gmax);
    arb_init(c->pmin);
    arb_init(c->eps);
}

static void layer_c_clear(layer_c *c)
{
    arb_clear(c->gmax);
    arb_clear(c->pmin);
    arb_clear(c->eps);
}

maskenc_bound_t *maskenc_bound_new(long N)
{
    maskenc_bound_t *b = xcalloc(1, sizeof *b);
    b->N = N;
    layer_c_init(&b->final);
    return b;
}

void maskenc_bound_free(maskenc_bound_t *b)
{
    if (!b)
        return;
    for (long k = 0; k < b->nl; k++)
        layer_c_clear(b->layers + k);
    free(b->layers);
    if (b->heads)
        _arb_vec_clear(b->heads, b->caph * HC_N);
    layer_c_clear(&b->final);
    free(b);
}

/* x <- the point hi(x) (an upper bound as a number; +inf stays). */
static void to_upper(arb_t x, mpfr_prec_t prec)
{
    arf_t u;
    arf_init(u);
    arb_get_ubound_arf(u, x, prec);
    arb_set_arf(x, u);
    arf_clear(u);
}

static void norm2_upper(arb_t x, const imat_t A)
{
    if (A->rows == 1 || A->cols == 1) {
        /* a vector: its Euclidean norm, a ball at 64 bits, by its upper end */
        arb_dot(x, NULL, 0, A->e, 1, A->e, 1, A->rows * A->cols, 64);
        arb_nonnegative_part(x, x);
        arb_sqrt(x, x, 64);
        to_upper(x, 64);
        return;
    }
    mpfr_t u;
    mpfr_init2(u, 64);
    imat_norm2_upper(u, A);
    ival_set_fr(x, u);
    mpfr_clear(u);
}

/* The LN constants on the masked stream X. */
static void ln_consts(layer_c *c, const aonet_ln_t *ln, const imat_t X, mpfr_prec_t prec)
{
    c->ln = ln->kind != AONET_LN_NONE;
    c->d = ln->d;
    if (!c->ln)
        return;
    arb_set(c->eps, ln->eps);
    arb_one(c->gmax);
    if (aonet_ln_has_w(ln->kind)) {
        arb_zero(c->gmax);
        for (long j = 0; j < ln->d; j++) {
            arb_t t;
            arb_init(t);
            arb_abs(t, imat_entry(ln->w, 0, j));
            arb_max(c->gmax, c->gmax, t, prec);
            arb_clear(t);
        }
        to_upper(c->gmax, prec);
    }
    /* the smallest centred feature norm (RMS kinds: not centred), rounded down */
    int centres = aonet_ln_centres(ln->kind);
    arf_t lo, best;
    arf_init(lo);
    arf_init(best);
    arb_t mean, s, t;
    arb_init(mean);
    arb_init(s);
    arb_init(t);
    for (long i = 0; i < X->rows; i++) {
        arb_zero(mean);
        for (long j = 0; j < ln->d && centres; j++)
            arb_add(mean, mean, imat_entry(X, i, j), prec);
        arb_div_si(mean, mean, ln->d, prec);
        arb_zero(s);
        for (long j = 0; j < ln->d; j++) {
            arb_sub(t, imat_entry(X, i, j), mean, prec);
            arb_addmul(s, t, t, prec);
        }
        arb_nonnegative_part(s, s);
        arb_sqrt(s, s, prec);
        arb_get_lbound_arf(lo, s, prec);
        if (arf_sgn(lo) < 0 || arf_is_nan(lo))
            arf_zero(lo);
        if (i == 0 || arf_cmp(lo, best) < 0)
            arf_set(best, lo);
    }
    arb_set_arf(c->pmin, best);
    arb_clear(mean);
    arb_clear(s);
    arb_clear(t);
    arf_clear(lo);
    arf_clear(best);
}

static arb_ptr head_slot(maskenc_bound_t *b)
{
    if (b->nh == b->caph) {
        long cap = b->caph ? 2 * b->caph : 256;
        arb_ptr v = _arb_vec_init(cap * HC_N);
        for (long k = 0; k < b->nh * HC_N; k++)
            arb_swap(v + k, b->heads + k);
        if (b->heads)
            _arb_vec_clear(b->heads, b->caph * HC_N);
        b->heads = v;
        b->caph = cap;
    }
    return b->heads + HC_N * b->nh++;
}

/* max_i ||A[i, c0 .. c0 + r)||_2, an upper bound. */
static void max_row_norm(arb_t m, const imat_t A, long c0, long r, mpfr_prec_t prec)
{
    arb_t t;
    arb_init(t);
    arb_zero(m);
    for (long i = 0; i < A->rows; i++) {
        arb_dot(t, NULL, 0, imat_entry(A, i, c0), 1, imat_entry(A, i, c0), 1, r, prec);
        arb_nonnegative_part(t, t);
        arb_sqrt(t, t, prec);
        arb_max(m, m, t, prec);
    }
    to_upper(m, prec);
    arb_clear(t);
}

void maskenc_bound_add_layer(maskenc_bound_t *b, const aonet_layer_t *L, const imat_t X,
                             mpfr_prec_t prec)
{
    if (b->nl == b->capl) {
        b->capl = b->capl ? 2 * b->capl : 8;
        b->layers = xreallocarray(b->layers, (size_t)b->capl, sizeof *b->layers);
    }
    layer_c *c = b->layers + b->nl++;
    layer_c_init(c);
    ln_consts(c, &L->ln, X, prec);
    c->h0 = b->nh;
    long N = X->rows, D = X->cols;
    imat_t U, Q, K, V, blk;
    imat_init(U, N, D);
    aonet_ln_apply(U, X, &L->ln, prec);
    for (long g = 0; g < L->n_groups; g++) {
        const aonet_group_t *G = L->groups + g;
        long r = G->r_qk, ro = G->r_ov;
        aonet_group_project(Q, K, V, G, U, prec);
        arb_t aV, aO, Vm;
        arb_init(aV);
        arb_init(aO);
        arb_init(Vm);
        for (long h = 0; h < G->n_heads; h++) {
            arb_ptr hc = head_slot(b);
            long kh = G->shared_k ? 0 : h;
            max_row_norm(hc + HC_Q, Q, h * r, r, prec);
            max_row_norm(hc + HC_K, K, kh * r, r, prec);
            max_row_norm(Vm, V, h * ro, ro, prec);
            imat_init(blk, D, r);
            copy_head(blk, 0, G->W_Q, h, r);
            norm2_upper(hc + HC_AQ, blk);
            copy_head(blk, 0, G->W_K, kh, r);
            norm2_upper(hc + HC_AK, blk);
            imat_reinit(blk, D, ro);
            copy_head(blk, 0, G->W_V, h, ro);
            norm2_upper(aV, blk);
            imat_reinit(blk, ro, D);
            for (long e = 0; e < ro; e++)
                for (long j = 0; j < D; j++)
                    arb_set(imat_entry(blk, e, j), imat_entry(G->W_O, h * ro + e, j));
            norm2_upper(aO, blk);
            imat_clear(blk);
            arb_mul(hc + HC_O, Vm, aO, prec);
            to_upper(hc + HC_O, prec);
            arb_mul(hc + HC_AOV, aV, aO, prec);
            to_upper(hc + HC_AOV, prec);
            arb_set(hc + HC_S, G->attn_scale);
        }
        arb_clear(aV);
        arb_clear(aO);
        arb_clear(Vm);
        imat_clear(Q);
        imat_clear(K);
        imat_clear(V);
    }
    c->nh = b->nh - c->h0;
    imat_clear(U);
}

void maskenc_bound_set_final(maskenc_bound_t *b, const aonet_ln_t *ln, const imat_t X,
                             mpfr_prec_t prec)
{
    ln_consts(&b->final, ln, X, prec);
    b->has_final = 1;
}

/* lambda(Delta) = gmax / sqrt(eps + ((pmin - Delta)_+)^2 / d), an upper bound. */
static void lambda_of(arb_t lam, const layer_c *c, const arb_t delta, mpfr_prec_t prec)
{
    if (!c->ln) {
        arb_one(lam);
        return;
    }
    arf_t t;
    arf_init(t);
    arb_get_ubound_arf(t, delta, prec);
    arf_sub(t, arb_midref(c->pmin), t, prec, ARF_RND_DOWN);
    if (arf_sgn(t) < 0 || arf_is_nan(t))
        arf_zero(t);
    arb_set_arf(lam, t);
    arf_clear(t);
    arb_sqr(lam, lam, prec);
    arb_div_si(lam, lam, c->d, prec);
    arb_add(lam, lam, c->eps, prec);
    arb_rsqrt(lam, lam, prec);
    arb_mul(lam, lam, c->gmax, prec);
    to_upper(lam, prec);
}

void maskenc_bound_eval(arb_t bound, const maskenc_bound_t *b, const arb_t omega,
                        mpfr_prec_t prec)
{
    arb_t delta, du, lam, acc, smax, t, u, w;
    arb_init(delta);
    arb_init(du);
    arb_init(lam);
    arb_init(acc);
    arb_init(smax);
    arb_init(t);
    arb_init(u);
    arb_init(w);
    long N = b->N;
    for (long k = 0; k < b->nl; k++) {
        const layer_c *c = b->layers + k;
        lambda_of(lam, c, delta, prec);
        arb_mul(du, lam, delta, prec);
        arb_zero(acc);
        for (long h = c->h0; h < c->h0 + c->nh; h++) {
            arb_srcptr hc = b->heads + HC_N * h;
            /* Smax = (Q + aQ du)(K + aK du) / s */
            arb_mul(t, hc + HC_AQ, du, prec);
            arb_add(t, t, hc + HC_Q, prec);
            arb_mul(u, hc + HC_AK, du, prec);
            arb_add(u, u, hc + HC_K, prec);
            arb_mul(smax, t, u, prec);
            arb_div(smax, smax, hc + HC_S, prec);
            /* enc = 2 (N - 1) e^(2 Smax - Omega) (O + aOV du): the head's leak */
            arb_mul(t, hc + HC_AOV, du, prec);
            arb_add(t, t, hc + HC_O, prec);
            maskenc_head_leak(w, smax, t, N, omega, prec);
            arb_add(acc, acc, w, prec);
            /* lip = aOV du + 2 O (Q aK du + aQ du (K + aK du)) / s */
            arb_mul(t, hc + HC_AK, du, prec);
            arb_add(t, t, hc + HC_K, prec);
            arb_mul(t, t, hc + HC_AQ, prec);
            arb_mul(u, hc + HC_Q, hc + HC_AK, prec);
            arb_add(t, t, u, prec);
            arb_mul(t, t, du, prec);
            arb_mul(t, t, hc + HC_O, prec);
            arb_mul_2exp_si(t, t, 1);
            arb_div(t, t, hc + HC_S, prec);
            arb_addmul(t, hc + HC_AOV, du, prec);
            arb_add(acc, acc, t, prec);
        }
        arb_add(delta, delta, acc, prec);
        to_upper(delta, prec);
    }
    if (b->has_final) {
        lambda_of(lam, &b->final, delta, prec);
        arb_mul(delta, delta, lam, prec);
    }
    to_upper(delta, prec);
    if (!arb_is_finite(delta))
        arb_pos_inf(delta);
    arb_set(bound, delta);
    arb_clear(delta);
    arb_clear(du);
    arb_clear(lam);
    arb_clear(acc);
    arb_clear(smax);
    arb_clear(t);
    arb_clear(u);
    arb_clear(w);
}

/* hi(bound(Omega) + extra) <= eps */
static int meets(const maskenc_bound_t *b, const arb_t extra, double omega, double eps,
                 mpfr_prec_t prec)
{
    arb_t om, v, e;
    arb_init(om);
    arb_init(v);
    arb_init(e);
    arb_set_d(om, omega);
    maskenc_bound_eval(v, b, om, prec);
    arb_add(v, v, extra, prec);
    arb_set_d(e, eps);
    int ok = arb_is_finite(v) && ival_le(v, e);
    arb_clear(om);
    arb_clear(v);
    arb_clear(e);
    return ok;
}

double maskenc_omega_req(const maskenc_bound_t *b, const arb_t extra, double eps,
                         mpfr_prec_t prec)
{
    double lo = 0, hi = 1e6;
    if (meets(b, extra, lo, eps, prec))
        return 0;
    if (!meets(b, extra, hi, eps, prec))
        return -1;
    /* bisection on multiples of 1/64 (exact doubles): the bound falls with Omega */
    while (hi - lo > 1.0 / 64) {
        double mid = floor((lo + hi) / 2 * 64) / 64;
        if (mid <= lo)
            mid = lo + 1.0 / 64;
        if (meets(b, extra, mid, eps, prec))
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}
