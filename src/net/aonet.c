/* The attention-only network with LayerNorm (aonet.h), as certified
 * enclosures: every step is an Arb operation on balls, so the stream after
 * any layer encloses the exact network's stream for every point of the
 * inputs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aonet.h"
#include "xalloc.h"

/* ---------------------------------------------------------------- LayerNorm */

void aonet_ln_init(aonet_ln_t *ln)
{
    ln->kind = AONET_LN_NONE;
    ln->d = 0;
    imat_init(ln->w, 0, 0);
    imat_init(ln->b, 0, 0);
    arb_init(ln->eps);
}

int aonet_ln_has_w(aonet_ln_kind_t kind)
{
    return kind == AONET_LN_LN || kind == AONET_LN_RMS;
}

int aonet_ln_has_b(aonet_ln_kind_t kind)
{
    return kind == AONET_LN_LN;
}

int aonet_ln_centres(aonet_ln_kind_t kind)
{
    return kind == AONET_LN_LN || kind == AONET_LN_PRE;
}

void aonet_ln_set_kind(aonet_ln_t *ln, aonet_ln_kind_t kind, long d)
{
    int w = aonet_ln_has_w(kind), b = aonet_ln_has_b(kind);
    ln->kind = kind;
    ln->d = d;
    imat_reinit(ln->w, w ? 1 : 0, w ? d : 0);
    imat_reinit(ln->b, b ? 1 : 0, b ? d : 0);
    arb_zero(ln->eps);
}

void aonet_ln_clear(aonet_ln_t *ln)
{
    imat_clear(ln->w);
    imat_clear(ln->b);
    arb_clear(ln->eps);
}

void aonet_ln_copy(aonet_ln_t *dst, const aonet_ln_t *src)
{
    aonet_ln_set_kind(dst, src->kind, src->d);
    if (aonet_ln_has_w(src->kind))
        imat_set(dst->w, src->w);
    if (aonet_ln_has_b(src->kind))
        imat_set(dst->b, src->b);
    arb_set(dst->eps, src->eps);
}

const char *aonet_ln_kind_name(aonet_ln_kind_t kind)
{
    return kind == AONET_LN_LN       ? "LN"
           : kind == AONET_LN_PRE    ? "LNPre"
           : kind == AONET_LN_RMS    ? "RMS"
           : kind == AONET_LN_RMSPRE ? "RMSPre"
                                     : "none";
}

/* One row: mean and variance as dot products rounded once each; the
 * centred entries are balls, so var encloses the variance of every point
 * of the row (the dependency between x_j and the mean only widens it).
 * RMS kinds: no centring (mean 0), var is mean(x^2), no b. */
static void ln_row(arb_ptr y, arb_srcptr x, const aonet_ln_t *ln, arb_ptr centred,
                   const slong *ones, mpfr_prec_t prec)
{
    long d = ln->d;
    arb_t mean, s;
    arb_init(mean);
    arb_init(s);
    if (aonet_ln_centres(ln->kind)) {
        arb_dot_si(mean, NULL, 0, x, 1, ones, 1, d, prec);
        arb_div_si(mean, mean, d, prec);
    }
    for (long j = 0; j < d; j++)
        arb_sub(centred + j, x + j, mean, prec);
    arb_dot(s, NULL, 0, centred, 1, centred, 1, d, prec);
    arb_div_si(s, s, d, prec);
    arb_nonnegative_part(s, s); /* a variance is >= 0: drop the ball's negative part */
    arb_add(s, s, ln->eps, prec);
    arb_rsqrt(s, s, prec);
    for (long j = 0; j < d; j++) {
        arb_mul(y + j, centred + j, s, prec);
        if (aonet_ln_has_w(ln->kind))
            arb_mul(y + j, y + j, imat_entry(ln->w, 0, j), prec);
        if (aonet_ln_has_b(ln->kind))
            arb_add(y + j, y + j, imat_entry(ln->b, 0, j), prec);
    }
    arb_clear(mean);
    arb_clear(s);
}

/* The same row by the mean value form: LN at the midpoints m (exact
 * points: only rounding), plus per entry a bound of |LN(x)_j - LN(m)_j| over
 * the box |x_k - m_k| <= r_k.  With s = 1/sigma and c^ = (x - mean) s, the
 * Jacobian is dLN_j/dx_k = w_j s (delta_jk - 1/d - c^_j c^_k / d), so
 *   |dLN_j| <= |w_j| s_max (r_j + mean(r) + |c^_j|_max mean_k(|c^_k|_max r_k)),
 * s_max = 1/sqrt(eps + ((||P m|| - ||r||)_+)^2 / d) over the box, |c^_k|_max =
 * (|m_k - mean(m)| + r_k + mean(r)) s_max.  RMS kinds (y_j = w_j x_j s,
 * s = 1/sqrt(mean(x^2) + eps)): dy_j/dx_k = w_j s (delta_jk - c^_j c^_k / d)
 * with c^ = x s, the same bound with P = I and without the mean(r) terms.
 * Ball arithmetic on the row itself
 * counts x_j and the mean (and the variance) as independent and widens by a
 * factor ~2 + 2|c^_j|; this form does not.  (y, m may alias.) */
static void ln_row_centred(arb_ptr y, arb_srcptr x, const aonet_ln_t *ln, arb_ptr work,
                           const slong *ones, mpfr_prec_t prec)
{
    long d = ln->d;
    arb_ptr m = work, centred = work + d;
    arb_t rbar, rnorm, pm, smax, t, u, acc;
    arb_init(rbar);
    arb_init(rnorm);
    arb_init(pm);
    arb_init(smax);
    arb_init(t);
    arb_init(u);
    arb_init(acc);
    /* radii r_k (as points), their mean and 2-norm */
    for (long k = 0; k < d; k++) {
        arf_set_mag(arb_midref(t), arb_radref(x + k));
        mag_zero(arb_radref(t));
        arb_add(rbar, rbar, t, prec);
        arb_addmul(rnorm, t, t, prec);
        arb_get_mid_arb(m + k, x + k);
    }
    arb_div_si(rbar, rbar, d, prec);
    arb_sqrt(rnorm, rnorm, prec);
    /* RMS kinds: P = I, and the Jacobian has no -1/d term, so the mean(r)
     * terms drop out (rbar = 0) and the "mean" is 0 */
    int centres = aonet_ln_centres(ln->kind);
    if (!centres)
        arb_zero(rbar);
    /* ||P m|| and s_max */
    arb_zero(t);
    if (centres) {
        arb_dot_si(t, NULL, 0, m, 1, ones, 1, d, prec);
        arb_div_si(t, t, d, prec);
    }
    for (long k = 0; k < d; k++)
        arb_sub(centred + k, m + k, t, prec);
    arb_dot(pm, NULL, 0, centred, 1, centred, 1, d, prec);
    arb_sqrt(pm, pm, prec);
    arb_sub(smax, pm, rnorm, prec);
    arb_nonnegative_part(smax, smax);
    arf_t lo;
    arf_init(lo);
    arb_get_lbound_arf(lo, smax, prec); /* a lower bound of (||P m|| - ||r||)_+ */
    if (arf_sgn(lo) < 0 || arf_is_nan(lo))
        arf_zero(lo);
    arb_set_arf(smax, lo);
    arf_clear(lo);
    arb_sqr(smax, smax, prec);
    arb_div_si(smax, smax, d, prec);
    arb_add(smax, smax, ln->eps, prec);
    arb_rsqrt(smax, smax, prec);
    /* mean_k(|c^_k|_max r_k), with |c^_k|_max = (|centred_k| + r_k + rbar) s_max */
    for (long k = 0; k < d; k++) {
        arb_abs(t, centred + k);
        arf_set_mag(arb_midref(u), arb_radref(x + k));
        mag_zero(arb_radref(u));
        arb_add(t, t, u, prec);
        arb_add(t, t, rbar, prec);
        arb_mul(t, t, smax, prec);
        arb_set(centred + k, t); /* now |c^_k|_max */
        arb_addmul(acc, t, u, prec);
    }
    arb_div_si(acc, acc, d, prec);
    /* LN at the midpoints, then each entry's bound as its radius */
    ln_row(m, m, ln, y, ones, prec); /* y is scratch here: overwritten below */
    for (long j = 0; j < d; j++) {
        arf_set_mag(arb_midref(u), arb_radref(x + j));
        mag_zero(arb_radref(u));
        arb_mul(t, centred + j, acc, prec);
        arb_add(t, t, u, prec);
        arb_add(t, t, rbar, prec);
        arb_mul(t, t, smax, prec);
        if (aonet_ln_has_w(ln->kind)) {
            arb_abs(u, imat_entry(ln->w, 0, j));
            arb_mul(t, t, u, prec);
        }
        arb_get_abs_ubound_arf(arb_midref(u), t, prec);
        mag_zero(arb_radref(u));
        arb_set(y + j, m + j);
        arb_add_error(y + j, u);
    }
    arb_clear(rbar);
    arb_clear(rnorm);
    arb_clear(pm);
    arb_clear(smax);
    arb_clear(t);
    arb_clear(u);
    arb_clear(acc);
}

void aonet_ln_apply(imat_t Y, const imat_t X, const aonet_ln_t *ln, mpfr_prec_t prec)
{
    if (Y != X)
        imat_set(Y, X);
    if (ln->kind == AONET_LN_NONE || ln->d <= 0)
        return;
    long d = ln->d;
    arb_ptr centred = _arb_vec_init(d), work = _arb_vec_init(2 * d), alt = _arb_vec_init(d);
    slong *ones = xmallocarray((size_t)d, sizeof *ones);
    for (long j = 0; j < d; j++)
        ones[j] = 1;
    for (long i = 0; i < X->rows; i++) {
        arb_ptr row = imat_entry(Y, i, 0);
        int exact = 1;
        for (long j = 0; j < d && exact; j++)
            exact = arb_is_exact(row + j);
        if (exact) {
            ln_row(row, row, ln, centred, ones, prec);
            continue;
        }
        /* both enclosures are valid: keep their intersection */
        ln_row_centred(alt, row, ln, work, ones, prec);
        ln_row(row, row, ln, centred, ones, prec);
        for (long j = 0; j < d; j++)
            ival_narrow(row + j, alt + j, prec);
    }
    free(ones);
    _arb_vec_clear(centred, d);
    _arb_vec_clear(work, 2 * d);
    _arb_vec_clear(alt, d);
}

/* -------------------------------------------------------------------- masks */

static const char *const mask_names[AONET_N_MASKS] = {
    [AONET_MASK_ALL] = "all",
    [AONET_MASK_CAUSAL] = "causal",
    [AONET_MASK_SELF_BIAS] = "self+bias",
    [AONET_MASK_SELF] = "self",
    [AONET_MASK_REAL_ALL] = "real",
    [AONET_MASK_REAL_CAUSAL] = "real-causal",
};

const char *aonet_mask_name(aonet_mask_t kind)
{
    return kind >= 0 && kind < AONET_N_MASKS ? mask_names[kind] : "?";
}

int aonet_mask_allows(aonet_mask_t kind, long i, long j)
{
    switch (kind) {
    case AONET_MASK_ALL: return 1;
    case AONET_MASK_CAUSAL: return j <= i;
    case AONET_MASK_SELF_BIAS: return j == i || j == 0;
    case AONET_MASK_SELF: return j == i;
    case AONET_MASK_REAL_ALL: return i == 0 ? j == 0 : j >= 1;
    case AONET_MASK_REAL_CAUSAL: return i == 0 ? j == 0 : j >= 1 && j <= i;
    default: return 0;
    }
}

void aonet_mask_build(mask_t *M, aonet_mask_t kind, long N)
{
    switch (kind) {
    case AONET_MASK_ALL: mask_full(M, N); return;
    case AONET_MASK_CAUSAL: mask_causal(M, N); return;
    case AONET_MASK_SELF_BIAS: mask_self_bias(M, N); return;
    case AONET_MASK_SELF: mask_self(M, N); return;
    default: break;
    }
    mask_init(M, N);
    for (long i = 0; i < N; i++)
        for (long j = 0; j < N; j++)
            if (aonet_mask_allows(kind, i, j))
                mask_add(M, i, j);
}

/* -------------------------------------------------------------- head groups */

void aonet_group_init(aonet_group_t *g, const char *name, long D, long n_heads, long r_qk,
                      long r_ov, int shared_k, aonet_mask_t mask)
{
    snprintf(g->name, sizeof g->name, "%s", name);
    g->n_heads = n_heads;
    g->r_qk = r_qk;
    g->r_ov = r_ov;
    g->shared_k = shared_k;
    imat_init(g->W_Q, D, n_heads * r_qk);
    imat_init(g->W_K, D, shared_k ? r_qk : n_heads * r_qk);
    imat_init(g->W_V, D, n_heads * r_ov);
    imat_init(g->W_O, n_heads * r_ov, D);
    arb_init(g->attn_scale);
    arb_one(g->attn_scale);
    g->mask = mask;
}

void aonet_group_clear(aonet_group_t *g)
{
    imat_clear(g->W_Q);
    imat_clear(g->W_K);
    imat_clear(g->W_V);
    imat_clear(g->W_O);
    arb_clear(g->attn_scale);
}

int aonet_attend(imat_t Z, const imat_t Q, const imat_t K, const imat_t V, long n_heads,
                 long r_qk, long r_ov, int shared_k, const arb_t scale, const mask_t *M,
                 mpfr_prec_t prec)
{
    long N = Q->rows, wide = N > 0 ? N : 1;
    int status = 0, unit = !scale || arb_is_one(scale);
    arb_ptr s = _arb_vec_init(wide), a = _arb_vec_init(wide);
    arb_struct *vals = xmallocarray((size_t)wide, sizeof *vals); /* shallow copies */
    imat_zero(Z);
    for (long h = 0; h < n_heads; h++) {
        long kq = h * r_qk, kk = shared_k ? 0 : h * r_qk, kv = h * r_ov;
        for (long i = 0; i < N; i++) {
            long len = mask_row_len(M, i);
            const long *kj = mask_row(M, i);
            if (len == 0) {
                status = -1; /* no key: the row stays 0 */
                continue;
            }
            for (long t = 0; t < len; t++) {
                arb_dot(s + t, NULL, 0, imat_entry(Q, i, kq), 1, imat_entry(K, kj[t], kk), 1,
                        r_qk, prec);
                if (!unit)
                    arb_div(s + t, s + t, scale, prec);
            }
            attn_softmax_row(a, s, len, prec);
            /* keys in one run are read in place, down a column of V */
            int run = kj[len - 1] - kj[0] == len - 1;
            for (long c = 0; c < r_ov; c++) {
                arb_srcptr col = imat_entry(V, 0, kv + c);
                if (run) {
                    arb_dot(imat_entry(Z, i, kv + c), NULL, 0, a, 1, col + kj[0] * V->cols,
                            V->cols, len, prec);
                } else {
                    for (long t = 0; t < len; t++)
                        vals[t] = col[kj[t] * V->cols];
                    arb_dot(imat_entry(Z, i, kv + c), NULL, 0, a, 1, vals, 1, len, prec);
                }
            }
        }
    }
    free(vals);
    _arb_vec_clear(s, wide);
    _arb_vec_clear(a, wide);
    return status;
}

void aonet_group_project(imat_t Q, imat_t K, imat_t V, const aonet_group_t *g, const imat_t U,
                         mpfr_prec_t prec)
{
    const imat_struct *W[3] = {g->W_Q, g->W_K, g->W_V};
    imat_struct *P[3] = {Q, K, V};
    for (int k = 0; k < 3; k++) {
        imat_init(P[k], U->rows, W[k]->cols);
        imat_mul(P[k], U, W[k], prec);
    }
}

int aonet_group_apply(imat_t Y, const aonet_group_t *g, const imat_t U, mpfr_prec_t prec)
{
    long N = U->rows;
    imat_t Q, K, V, Z;
    aonet_group_project(Q, K, V, g, U, prec);
    imat_init(Z, N, g->W_V->cols);
    mask_t M;
    aonet_mask_build(&M, g->mask, N);
    int status = aonet_attend(Z, Q, K, V, g->n_heads, g->r_qk, g->r_ov, g->shared_k,
                              g->attn_scale, &M, prec);
    imat_mul(Y, Z, g->W_O, prec);
    mask_clear(&M);
    imat_clear(Q);
    imat_clear(K);
    imat_clear(V);
    imat_clear(Z);
    return status;
}

int aonet_mask_rule_of(const mask_t *M)
{
    if (!M)
        return AONET_MASK_ALL;
    for (int k = 0; k < AONET_N_MASKS; k++) {
        int same = 1;
        for (long i = 0; i < M->n && same; i++) {
            long len = 0;
            for (long j = 0; j < M->n; j++)
                len += aonet_mask_allows((aonet_mask_t)k, i, j);
            same = len == mask_row_len(M, i);
            for (long t = 0; t < mask_row_len(M, i) && same; t++)
                same = aonet_mask_allows((aonet_mask_t)k, i, mask_row(M, i)[t]);
        }
        if (same)
            return k;
    }
    return -1;
}

void aonet_group_from_heads(aonet_group_t *g, const char *name, const attn_head_struct *heads,
                            long n, aonet_mask_t kind, mpfr_prec_t prec)
{
    const attn_head_struct *h0 = heads;
    long D = h0->W_Q->rows;
    long r = h0->qk_full ? D : h0->W_Q->cols, ro = h0->ov_full ? D : h0->W_V->cols;
    aonet_group_init(g, name, D, n, r, ro, 0, kind);
    for (long h = 0; h < n; h++) {
        const attn_head_struct *hd = heads + h;
        slong p = arb_is_exact(hd->tau) ? ARF_PREC_EXACT : prec;
        for (long i = 0; i < D; i++)
            for (long e = 0; e < r; e++) {
                arb_mul(imat_entry(g->W_Q, i, h * r + e), imat_entry(hd->W_Q, i, e), hd->tau,
                        arb_is_exact(imat_entry(hd->W_Q, i, e)) ? p : prec);
                if (hd->qk_full)
                    arb_set_ui(imat_entry(g->W_K, i, h * r + e), i == e);
                else
                    arb_set(imat_entry(g->W_K, i, h * r + e), imat_entry(hd->W_K, i, e));
            }
        for (long i = 0; i < D; i++)
            for (long e = 0; e < ro; e++) {
                arb_set(imat_entry(g->W_V, i, h * ro + e), imat_entry(hd->W_V, i, e));
                if (hd->ov_full)
                    arb_set_ui(imat_entry(g->W_O, h * ro + e, i), i == e);
                else
                    arb_set(imat_entry(g->W_O, h * ro + e, i), imat_entry(hd->W_O, e, i));
            }
    }
}

/* ------------------------------------------------------------------- layers */

void aonet_layer_init(aonet_layer_t *L, long n_groups)
{
    aonet_ln_init(&L->ln);
    L->n_groups = n_groups;
    L->groups = xcalloc((size_t)(n_groups > 0 ? n_groups : 1), sizeof *L->groups);
}

void aonet_layer_clear(aonet_layer_t *L)
{
    aonet_ln_clear(&L->ln);
    for (long g = 0; g < L->n_groups; g++)
        aonet_group_clear(L->groups + g);
    free(L->groups);
    L->groups = NULL;
    L->n_groups = 0;
}

void aonet_layer_copy(aonet_layer_t *dst, const aonet_layer_t *src)
{
    aonet_layer_init(dst, src->n_groups);
    aonet_ln_copy(&dst->ln, &src->ln);
    for (long g = 0; g < src->n_groups; g++) {
        const aonet_group_t *s = src->groups + g;
        aonet_group_t *d = dst->groups + g;
        aonet_group_init(d, s->name, s->W_Q->rows, s->n_heads, s->r_qk, s->r_ov, s->shared_k,
                         s->mask);
        imat_set(d->W_Q, s->W_Q);
        imat_set(d->W_K, s->W_K);
        imat_set(d->W_V, s->W_V);
        imat_set(d->W_O, s->W_O);
        arb_set(d->attn_scale, s->attn_scale);
    }
}

long aonet_layer_heads(const aonet_layer_t *L)
{
    long n = 0;
    for (long g = 0; g < L->n_groups; g++)
        n += L->groups[g].n_heads;
    return n;
}

int aonet_layer_apply(imat_t X, const aonet_layer_t *L, mpfr_prec_t prec)
{
    int status = 0;
    imat_t U, Y, sum;
    imat_init(U, X->rows, X->cols);
    imat_init(Y, X->rows, X->cols);
    imat_init(sum, X->rows, X->cols);
    aonet_ln_apply(U, X, &L->ln, prec);
    /* every group reads the same U: sum first, then add the residual */
    for (long g = 0; g < L->n_groups; g++) {
        if (aonet_group_apply(Y, L->groups + g, U, prec) != 0)
            status = -1;
        imat_add(sum, sum, Y, prec);
    }
    imat_add(X, X, sum, prec);
    imat_clear(U);
    imat_clear(Y);
    imat_clear(sum);
    return status;
}

static int imat_exact_or_empty(const imat_t A)
{
    return A->rows * A->cols == 0 || imat_is_exact(A);
}

int aonet_layer_is_exact(const aonet_layer_t *L)
{
    int ok = imat_exact_or_empty(L->ln.w) && imat_exact_or_empty(L->ln.b) &&
             arb_is_exact(L->ln.eps);
    for (long g = 0; g < L->n_groups && ok; g++) {
        const aonet_group_t *G = L->groups + g;
        ok = imat_exact_or_empty(G->W_Q) && imat_exact_or_empty(G->W_K) &&
             imat_exact_or_empty(G->W_V) && imat_exact_or_empty(G->W_O) &&
             arb_is_exact(G->attn_scale);
    }
    return ok;
}

/* ------------------------------------------------------------------ network */

void aonet_init(aonet_t *A, long D, long d, long n_layers)
{
    A->D = D;
    A->d = d;
    A->n_layers = n_layers;
    A->layers = xcalloc((size_t)(n_layers > 0 ? n_layers : 1), sizeof *A->layers);
    aonet_ln_init(&A->ln_final);
}

void aonet_clear(aonet_t *A)
{
    for (long k = 0; k < A->n_layers; k++)
        aonet_layer_clear(A->layers + k);
    free(A->layers);
    A->layers = NULL;
    A->n_layers = 0;
    aonet_ln_clear(&A->ln_final);
}

long aonet_heads(const aonet_t *A)
{
    long n = 0;
    for (long k = 0; k < A->n_layers; k++)
        n += aonet_layer_heads(A->layers + k);
    return n;
}

int aonet_apply(imat_t X, const aonet_t *A, mpfr_prec_t prec)
{
    int status = 0;
    for (long k = 0; k < A->n_layers; k++)
        if (aonet_layer_apply(X, A->layers + k, prec) != 0)
            status = -1;
    aonet_ln_apply(X, X, &A->ln_final, prec);
    return status;
}

int aonet_emit(const aonet_t *A, const aonet_sink_t *sink, char *err, size_t errsz)
{
    int rc = 0;
    for (long k = 0; rc == 0 && k < A->n_layers; k++)
        rc = sink->layer(sink->ctx, k, A->layers + k, err, errsz);
    if (rc == 0 && sink->final_ln)
        rc = sink->final_ln(sink->ctx, &A->ln_final, err, errsz);
    return rc;
}

int aonet_is_exact(const aonet_t *A)
{
    int ok = imat_exact_or_empty(A->ln_final.w) && imat_exact_or_empty(A->ln_final.b) &&
             arb_is_exact(A->ln_final.eps);
    for (long k = 0; k < A->n_layers && ok; k++)
        ok = aonet_layer_is_exact(A->layers + k);
    return ok;
}
