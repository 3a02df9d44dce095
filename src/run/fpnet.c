/* A converted network run in an emulated float format: see fpnet.h. */
#include <stdlib.h>
#include <string.h>
#include "fpnet.h"
#include "verdict.h"
#include "xalloc.h"

int fpnet_arith_parse(fpf_arith_t *ar, const char *fmt, const char *acc, const char *order)
{
    ar->fmt = fpf_format_find(fmt);
    ar->acc = !acc || strcmp(acc, "same") == 0 ? ar->fmt : fpf_format_find(acc);
    ar->order = FPF_SUM_SEQUENTIAL;
    if (!ar->fmt || !ar->acc || (order && fpf_order_find(&ar->order, order) != 0))
        return -1;
    return 0;
}

/* The ends of the ball x (lo, hi, outward, at enough bits to be exact for
 * an exact x) and their roundings to f (a, b); all four initialised here. */
static void round_ends(mpfr_t lo, mpfr_t hi, mpfr_t a, mpfr_t b, const arb_t x,
                       const fpf_format_t *f)
{
    mpfr_prec_t p = arb_bits(x) + 16 > 64 ? arb_bits(x) + 16 : 64;
    mpfr_init2(lo, p);
    mpfr_init2(hi, p);
    fpf_init(a, f);
    fpf_init(b, f);
    arb_get_interval_mpfr(lo, hi, x);
    fpf_set_fr(a, lo, f);
    fpf_set_fr(b, hi, f);
}

/* r = x rounded to f: 0, or 1 when the ball's ends round to different values. */
static int round_ball(mpfr_ptr r, const arb_t x, const fpf_format_t *f)
{
    if (arb_is_zero(x)) {
        mpfr_set_zero(r, 1);
        return 0;
    }
    if (arb_is_exact(x) && arf_bits(arb_midref(x)) <= 128) {
        /* a short dyadic: one conversion, exact, then one rounding */
        mpfr_t t;
        mpfr_init2(t, 128);
        arf_get_mpfr(t, arb_midref(x), MPFR_RNDN);
        fpf_set_fr(r, t, f);
        mpfr_clear(t);
        return 0;
    }
    mpfr_t lo, hi, a, b;
    round_ends(lo, hi, a, b, x, f);
    int rc = mpfr_equal_p(a, b) ? 0 : 1;
    fpf_set_fr(r, a, f);
    mpfr_clears(lo, hi, a, b, (mpfr_ptr)0);
    return rc;
}

/* fpf_mat_init, or exit 70 (the sizes come from matrices that exist). */
static void mat_init(fpf_mat_t A, long rows, long cols, const fpf_format_t *f)
{
    if (fpf_mat_init(A, rows, cols, f) != 0)
        xalloc_die((size_t)rows * (size_t)cols * sizeof(__mpfr_struct));
}

int fpnet_mat_round(fpf_mat_t B, const imat_t A, const fpf_format_t *f)
{
    mat_init(B, A->rows, A->cols, f);
    int rc = 0;
    for (long k = 0; k < A->rows * A->cols; k++)
        rc |= round_ball(B->e + k, A->e + k, f);
    return rc;
}

void fpnet_mat_exact(imat_t B, const fpf_mat_t A)
{
    imat_reinit(B, A->rows, A->cols);
    for (long k = 0; k < A->rows * A->cols; k++) {
        mpfr_srcptr x = A->e + k;
        if (mpfr_nan_p(x))
            arb_indeterminate(B->e + k);
        else if (mpfr_inf_p(x))
            mpfr_sgn(x) > 0 ? arb_pos_inf(B->e + k) : arb_neg_inf(B->e + k);
        else
            arf_set_mpfr(arb_midref(B->e + k), x); /* exact: radius 0 */
    }
}

/* A lower bound of the distance from the ball x to the f values, rounded
 * down into d: 0 when the ball straddles a rounding boundary (or reaches
 * beyond f's range), else the distance from the ball to the f value
 * nearest to all of it. */
static void grid_gap(mpfr_t d, const arb_t x, const fpf_format_t *f)
{
    mpfr_set_zero(d, 1);
    if (!arb_is_finite(x))
        return;
    mpfr_t lo, hi, a, b;
    round_ends(lo, hi, a, b, x, f);
    if (mpfr_number_p(a) && mpfr_equal_p(a, b)) {
        if (mpfr_less_p(a, lo))
            mpfr_sub(d, lo, a, MPFR_RNDD);
        else if (mpfr_greater_p(a, hi))
            mpfr_sub(d, a, hi, MPFR_RNDD);
    }
    mpfr_clear(lo);
    mpfr_clear(hi);
    mpfr_clear(a);
    mpfr_clear(b);
}

void fpnet_grid_floor(arb_t floor, const imat_t C, long row0, long rows, long cols,
                      const fpf_format_t *f, mpfr_prec_t prec)
{
    mpfr_t g, s, best;
    mpfr_init2(g, prec);
    mpfr_init2(s, prec);
    mpfr_init2(best, prec);
    mpfr_set_zero(best, 1);
    for (long i = row0; i < row0 + rows; i++) {
        mpfr_set_zero(s, 1);
        for (long j = 0; j < cols; j++) {
            grid_gap(g, imat_entry(C, i, j), f);
            mpfr_sqr(g, g, MPFR_RNDD);
            mpfr_add(s, s, g, MPFR_RNDD);
        }
        mpfr_sqrt(s, s, MPFR_RNDD);
        mpfr_max(best, best, s, MPFR_RNDD);
    }
    /* 2^-20 below, still a lower bound: a run that sits on the grid point
     * nearest to the exact output (D = floor) is then certified above it */
    mpfr_mul_d(best, best, 1.0 - 0x1p-20, MPFR_RNDD);
    arf_set_mpfr(arb_midref(floor), best);
    mag_zero(arb_radref(floor));
    mpfr_clear(g);
    mpfr_clear(s);
    mpfr_clear(best);
}

/* ---- the forward pass ---- */

typedef struct {
    const fpnet_opts_t *o;
    fpnet_stats_t *st;
} run_t;

static void count_off_grid(run_t *run, mpfr_srcptr x)
{
    if (run->st && !fpf_is_member(x, run->o->ar.fmt))
        run->st->off_grid++;
}

/* The conditioning of LN on the d features x (fmt values) into run->st->ln:
 * gmax = max |gamma| (1 without gamma) and eps, both as rounded to fmt.
 * Certified: the values are exact, the enclosures Arb's, the gain's upper
 * end rounded up to a double, and a row is flagged unless sigma^2 >=
 * 100 eps is certain. */
static void ln_condition(run_t *run, mpfr_srcptr x, long d, const arb_t gmax, mpfr_srcptr eps,
                         int centres)
{
    const mpfr_prec_t prec = 128;
    fpnet_ln_cond_t *c = &run->st->ln;
    c->rows++;
    long nz = 0;
    for (long j = 0; j < d; j++)
        nz += !mpfr_zero_p(x + j);
    if (nz == 0) {
        c->zero++;
        return;
    }
    arb_t mean, var, t, e;
    arb_init(mean);
    arb_init(var);
    arb_init(t);
    arb_init(e);
    for (long j = 0; centres && j < d; j++) {
        arf_set_mpfr(arb_midref(t), x + j); /* exact */
        arb_add(mean, mean, t, prec);
    }
    arb_div_si(mean, mean, d, prec);
    for (long j = 0; j < d; j++) {
        arf_set_mpfr(arb_midref(t), x + j);
        mag_zero(arb_radref(t));
        arb_sub(t, t, mean, prec);
        arb_addmul(var, t, t, prec);
    }
    arb_div_si(var, var, d, prec);
    arf_set_mpfr(arb_midref(e), eps);
    arb_mul_si(t, e, 100, prec);
    if (!arb_ge(var, t))
        c->flagged++;
    arb_add(var, var, e, prec);
    arb_rsqrt(var, var, prec);
    arb_sqrt_ui(t, (ulong)d, prec);
    arb_mul(var, var, t, prec);
    arb_mul(var, var, gmax, prec);
    arf_t u;
    arf_init(u);
    arb_get_ubound_arf(u, var, prec);
    double g = arf_get_d(u, ARF_RND_UP);
    if (!(g <= c->gain)) /* a NaN bound (cannot happen for eps > 0) stays visible */
        c->gain = g;
    arf_clear(u);
    arb_clear(mean);
    arb_clear(var);
    arb_clear(t);
    arb_clear(e);
}

/* Y = LN(X) on the first ln->d columns of each row (Y initialised, X's shape). */
static int ln_apply(fpf_mat_t Y, const fpf_mat_t X, const aonet_ln_t *ln, run_t *run)
{
    const fpf_format_t *f = run->o->ar.fmt;
    fpf_mat_set(Y, X);
    if (ln->kind == AONET_LN_NONE || ln->d <= 0)
        return 0;
    long d = ln->d;
    fpf_mat_t w, b;
    int rc = 0;
    w->e = b->e = NULL;
    w->rows = w->cols = b->rows = b->cols = 0;
    int has_w = aonet_ln_has_w(ln->kind), has_b = aonet_ln_has_b(ln->kind);
    if (has_w)
        rc |= fpnet_mat_round(w, ln->w, f);
    if (has_b)
        rc |= fpnet_mat_round(b, ln->b, f);
    mpfr_t eps;
    fpf_init(eps, f);
    rc |= round_ball(eps, ln->eps, f);
    arb_t gmax;
    arb_init(gmax);
    arb_one(gmax);
    if (rc == 0 && run->st && has_w) {
        mpfr_t a, m;
        mpfr_init2(a, f->prec);
        mpfr_init2(m, f->prec);
        mpfr_set_zero(m, 1);
        for (long j = 0; j < d; j++) {
            mpfr_abs(a, w->e + j, MPFR_RNDN); /* exact */
            mpfr_max(m, m, a, MPFR_RNDN);     /* exact */
        }
        arf_set_mpfr(arb_midref(gmax), m);
        mpfr_clears(a, m, (mpfr_ptr)0);
    }
    for (long i = 0; rc == 0 && run->st && i < X->rows; i++)
        ln_condition(run, fpf_mat_entry(X, i, 0), d, gmax, eps, aonet_ln_centres(ln->kind));
    arb_clear(gmax);
    for (long i = 0; rc == 0 && i < X->rows; i++)
        if ((aonet_ln_centres(ln->kind)
                 ? fpf_layernorm(fpf_mat_entry(Y, i, 0), fpf_mat_entry(X, i, 0), d,
                                 has_w ? w->e : NULL, has_b ? b->e : NULL, eps, &run->o->ar)
                 : fpf_rmsnorm(fpf_mat_entry(Y, i, 0), fpf_mat_entry(X, i, 0), d,
                               has_w ? w->e : NULL, eps, &run->o->ar)) != 0)
            rc = -1;
    mpfr_clear(eps);
    fpf_mat_clear(w);
    fpf_mat_clear(b);
    return rc;
}

/* Qpos (N x cols of W_Q, initialised here at 512 bits) = the query-side
 * position part U[:, c0:] W_Q[c0:, :] (the mutation's Omega terms), exact
 * for these sizes: fmt values times short dyadic weights. */
static __mpfr_struct *position_part(const fpf_mat_t U, const imat_struct *WQ, long c0)
{
    long N = U->rows, n = WQ->cols;
    __mpfr_struct *P = xmallocarray((size_t)(N * n), sizeof *P);
    mpfr_t t, w;
    mpfr_init2(t, 512);
    mpfr_init2(w, 512);
    for (long i = 0; i < N; i++)
        for (long col = 0; col < n; col++) {
            mpfr_ptr r = P + i * n + col;
            mpfr_init2(r, 512);
            mpfr_set_zero(r, 1);
            for (long c = c0; c < U->cols; c++) {
                arf_get_mpfr(w, arb_midref(imat_entry(WQ, c, col)), MPFR_RNDN);
                mpfr_mul(t, fpf_mat_entry(U, i, c), w, MPFR_RNDN);
                mpfr_add(r, r, t, MPFR_RNDN);
            }
        }
    mpfr_clear(t);
    mpfr_clear(w);
    return P;
}

/* The heads of an attention sublayer as the float pass reads them: an
 * aonet group (no biases) or a tblock's attention (biases). */
typedef struct {
    const imat_struct *W_Q, *W_K, *W_V, *W_O;
    const imat_struct *b_Q, *b_K, *b_V, *b_O; /* NULL: none */
    long n_heads, r_qk, r_ov;
    int shared_k;
    arb_srcptr attn_scale;
    aonet_mask_t mask;
} heads_t;

/* B = the 1 x n bias row b rounded to f, or an empty matrix when b is NULL:
 * 0, or 1 when an entry does not round to one f value. */
static int bias_round(fpf_mat_t B, const imat_struct *b, const fpf_format_t *f)
{
    if (b)
        return fpnet_mat_round(B, b, f);
    B->e = NULL;
    B->rows = B->cols = 0;
    B->fmt = f;
    return 0;
}

/* X = X + the heads on U (all fmt matrices): Q = U W_Q + b_Q, ..., the
 * heads' z side by side times the stacked W_O, + b_O, then the residual. */
static int heads_apply(fpf_mat_t X, const fpf_mat_t U, const heads_t *g, run_t *run)
{
    const fpnet_opts_t *o = run->o;
    const fpf_arith_t *ar = &o->ar;
    const fpf_format_t *f = ar->fmt;
    long N = U->rows, H = g->n_heads, rq = g->r_qk, rv = g->r_ov;
    fpf_mat_t WQ, WK, WV, WO, Q, K, V, Z, Y, Uf, bQ, bK, bV, bO;
    int rc = fpnet_mat_round(WQ, g->W_Q, f) | fpnet_mat_round(WK, g->W_K, f) |
             fpnet_mat_round(WV, g->W_V, f) | fpnet_mat_round(WO, g->W_O, f);
    rc |= bias_round(bQ, g->b_Q, f) | bias_round(bK, g->b_K, f) | bias_round(bV, g->b_V, f) |
          bias_round(bO, g->b_O, f);
    mat_init(Q, N, WQ->cols, f);
    mat_init(K, N, WK->cols, f);
    mat_init(V, N, WV->cols, f);
    mat_init(Z, N, H * rv, f);
    mat_init(Y, N, X->cols, f);
    int mutate = o->omega_col >= 0 && o->omega_col < U->cols;
    if (rc == 0 && mutate) {
        /* the mutation: Q from the feature columns alone; positions added later */
        mat_init(Uf, N, U->cols, f);
        fpf_mat_set(Uf, U);
        for (long i = 0; i < N; i++)
            for (long c = o->omega_col; c < U->cols; c++)
                mpfr_set_zero(fpf_mat_entry(Uf, i, c), 1);
        rc = fpf_mat_mul(Q, Uf, WQ, g->b_Q ? bQ : NULL, ar);
        fpf_mat_clear(Uf);
    } else if (rc == 0) {
        rc = fpf_mat_mul(Q, U, WQ, g->b_Q ? bQ : NULL, ar);
    }
    if (rc == 0)
        rc = fpf_mat_mul(K, U, WK, g->b_K ? bK : NULL, ar) |
             fpf_mat_mul(V, U, WV, g->b_V ? bV : NULL, ar);
    mpfr_t scale, pos, exact;
    fpf_init(scale, f);
    mpfr_init2(pos, 1024);
    mpfr_init2(exact, 1024);
    __mpfr_struct *Qpos = mutate ? position_part(U, g->W_Q, o->omega_col) : NULL;
    int scaled = !arb_is_one(g->attn_scale);
    if (scaled)
        rc |= round_ball(scale, g->attn_scale, f);
    __mpfr_struct *s = xmallocarray((size_t)N, sizeof *s);
    mpfr_srcptr *wp = xmallocarray((size_t)N, sizeof *wp), *vp = xmallocarray((size_t)N, sizeof *vp);
    long *key = xmallocarray((size_t)N, sizeof *key);
    for (long j = 0; j < N; j++)
        fpf_init(s + j, f);
    for (long h = 0; rc == 0 && h < H; h++) {
        long kq = g->shared_k ? 0 : h * rq;
        for (long i = 0; rc == 0 && i < N; i++) {
            long n = 0;
            for (long j = 0; j < N; j++)
                if (aonet_mask_allows(g->mask, i, j))
                    key[n++] = j;
            if (n == 0) {
                rc = -1;
                break;
            }
            for (long t = 0; t < n; t++) {
                long j = key[t];
                rc |= fpf_dot(s + t, fpf_mat_entry(Q, i, h * rq), 1, fpf_mat_entry(K, j, kq), 1,
                              rq, NULL, ar);
                if (scaled)
                    fpf_div(s + t, s + t, scale, f);
                if (mutate) {
                    /* the position part of the logit, exact, added after rounding */
                    mpfr_set_zero(exact, 1);
                    for (long c = 0; c < rq; c++) {
                        mpfr_mul(pos, Qpos + i * WQ->cols + h * rq + c,
                                 fpf_mat_entry(K, j, kq + c), MPFR_RNDN);
                        mpfr_add(exact, exact, pos, MPFR_RNDN);
                    }
                    if (scaled)
                        mpfr_div(exact, exact, scale, MPFR_RNDN);
                    mpfr_add(exact, exact, s + t, MPFR_RNDN);
                    mpfr_set_prec(s + t, mpfr_get_prec(exact));
                    mpfr_set(s + t, exact, MPFR_RNDN);
                }
                count_off_grid(run, s + t);
            }
            rc |= fpf_softmax(s, s, n, ar);
            for (long t = 0; t < n; t++)
                wp[t] = s + t;
            for (long c = 0; rc == 0 && c < rv; c++) {
                for (long t = 0; t < n; t++)
                    vp[t] = fpf_mat_entry(V, key[t], h * rv + c);
                rc |= fpf_dot_ptr(fpf_mat_entry(Z, i, h * rv + c), wp, vp, n, NULL, ar);
            }
            for (long t = 0; t < n; t++)
                mpfr_set_prec(s + t, f->prec); /* back to fmt for the next row */
        }
    }
    if (rc == 0)
        rc = fpf_mat_mul(Y, Z, WO, g->b_O ? bO : NULL, ar);
    if (rc == 0)
        fpf_mat_add(X, X, Y);
    for (long j = 0; j < N; j++)
        mpfr_clear(s + j);
    free(s);
    for (long k = 0; Qpos && k < N * WQ->cols; k++)
        mpfr_clear(Qpos + k);
    free(Qpos);
    free(wp);
    free(vp);
    free(key);
    mpfr_clear(scale);
    mpfr_clear(pos);
    mpfr_clear(exact);
    fpf_mat_clear(WQ);
    fpf_mat_clear(WK);
    fpf_mat_clear(WV);
    fpf_mat_clear(WO);
    fpf_mat_clear(bQ);
    fpf_mat_clear(bK);
    fpf_mat_clear(bV);
    fpf_mat_clear(bO);
    fpf_mat_clear(Q);
    fpf_mat_clear(K);
    fpf_mat_clear(V);
    fpf_mat_clear(Z);
    fpf_mat_clear(Y);
    return rc;
}

/* X = X + the group's heads on U. */
static int group_apply(fpf_mat_t X, const fpf_mat_t U, const aonet_group_t *g, run_t *run)
{
    heads_t h = {.W_Q = g->W_Q, .W_K = g->W_K, .W_V = g->W_V, .W_O = g->W_O,
                 .n_heads = g->n_heads, .r_qk = g->r_qk, .r_ov = g->r_ov,
                 .shared_k = g->shared_k, .attn_scale = g->attn_scale, .mask = g->mask};
    return heads_apply(X, U, &h, run);
}

/* A forward pass in the format, fed layer by layer by a sink (the network
 * held, or handed over by a source one layer at a time), with the same
 * network run exactly beside it when C is set. */
typedef struct {
    run_t run;
    fpf_mat_struct *Y;        /* the stream, fmt values */
    fpf_mat_t U;
    long layers;              /* layers applied so far */
    int rc;                   /* 0, 1 (more bits), -1 (an empty mask row) */
    imat_struct *C;           /* or NULL: the stream run exactly at prec */
    mpfr_prec_t prec;
} pass_t;

static int pass_layer(void *ctx, long k, const aonet_layer_t *L, char *err, size_t errsz)
{
    (void)k;
    (void)err;
    (void)errsz;
    pass_t *P = ctx;
    P->rc = ln_apply(P->U, P->Y, &L->ln, &P->run);
    for (long gi = 0; P->rc == 0 && gi < L->n_groups; gi++)
        P->rc = group_apply(P->Y, P->U, L->groups + gi, &P->run);
    if (P->rc == 0 && P->run.o->after_layer)
        P->run.o->after_layer(P->run.o->after_ctx, P->layers, P->Y);
    if (P->rc == 0 && P->C)
        aonet_layer_apply(P->C, L, P->prec); /* an empty mask row stopped the float run first */
    P->layers++;
    return P->rc != 0;
}

static int pass_final(void *ctx, const aonet_ln_t *ln, char *err, size_t errsz)
{
    (void)err;
    (void)errsz;
    pass_t *P = ctx;
    if (ln->kind == AONET_LN_NONE)
        return 0;
    P->rc = ln_apply(P->U, P->Y, ln, &P->run);
    if (P->rc == 0)
        fpf_mat_set(P->Y, P->U);
    if (P->rc == 0 && P->run.o->after_layer)
        P->run.o->after_layer(P->run.o->after_ctx, P->layers, P->Y);
    if (P->rc == 0 && P->C)
        aonet_ln_apply(P->C, P->C, ln, P->prec);
    return P->rc != 0;
}

/* Y (initialised here) = the network emit hands over (from ctx) on X, and
 * C (when not NULL, initialised) = the same run exactly.  0, 1, -1 as
 * fpnet_apply; -2 when the source failed (err says why). */
static int pass_run(fpf_mat_t Y, imat_struct *C, const imat_t X, const fpnet_opts_t *o,
                    fpnet_stats_t *st, int (*emit)(const void *src, const aonet_sink_t *sink,
                                                   char *err, size_t errsz),
                    const void *src, mpfr_prec_t prec, char *err, size_t errsz)
{
    const fpf_format_t *f = o->ar.fmt;
    pass_t P = {.run = {.o = o, .st = st}, .Y = Y, .C = C, .prec = prec};
    if (st)
        memset(st, 0, sizeof *st);
    P.rc = fpnet_mat_round(Y, X, f);
    if (P.rc != 0) {
        fpf_mat_clear(Y); /* Y is not the caller's on failure */
        return P.rc;
    }
    if (C) {
        imat_reinit(C, X->rows, X->cols);
        imat_set(C, X);
    }
    mat_init(P.U, X->rows, X->cols, f);
    aonet_sink_t sink = {&P, pass_layer, pass_final};
    int src_rc = emit(src, &sink, err, errsz);
    int rc = P.rc != 0 ? P.rc : src_rc != 0 ? -2 : 0;
    for (long k = 0; st && rc == 0 && k < Y->rows * Y->cols; k++)
        count_off_grid(&P.run, Y->e + k);
    fpf_mat_clear(P.U);
    if (rc != 0)
        fpf_mat_clear(Y);
    return rc;
}

static int emit_held(const void *src, const aonet_sink_t *sink, char *err, size_t errsz)
{
    return aonet_emit(src, sink, err, errsz);
}

static int emit_instance(const void *src, const aonet_sink_t *sink, char *err, size_t errsz)
{
    return instance_emit_net(src, sink, err, errsz);
}

int fpnet_apply(fpf_mat_t Y, const aonet_t *A, const imat_t X, const fpnet_opts_t *o,
                fpnet_stats_t *st)
{
    char err[8];
    return pass_run(Y, NULL, X, o, st, emit_held, A, 0, err, sizeof err);
}

/* ---- the original computation: transformer blocks and onet ---- */

/* The float activation for a registry or TransformerLens name, and SiLU_a's
 * slope rounded to f (a NULL: 1): 0; 1 when a does not round to one f
 * value; -1 for a name the emulation has no sequence for. */
static int act_of(fpf_act_t *act, mpfr_t am, const char *name, const arb_t a,
                  const fpf_format_t *f)
{
    mpfr_set_ui(am, 1, MPFR_RNDN);
    if (strcmp(name, "silu_a") == 0) {
        *act = FPF_ACT_SILU_A;
        return a ? round_ball(am, a, f) : 0;
    }
    if (strcmp(name, "silu") == 0)
        *act = FPF_ACT_SILU_A; /* a = 1: fl(x * sigmoid(x)) */
    else if (strcmp(name, "gelu") == 0)
        *act = FPF_ACT_GELU;
    else if (strcmp(name, "gelu_tanh") == 0 || strcmp(name, "gelu_new") == 0 ||
             strcmp(name, "gelu_pytorch_tanh") == 0 || strcmp(name, "gelu_fast") == 0)
        *act = FPF_ACT_GELU_TANH; /* gelu_fast: the same function, fpformat.h's sequence */
    else if (strcmp(name, "relu") == 0)
        *act = FPF_ACT_RELU;
    else if (strcmp(name, "sigmoid") == 0)
        *act = FPF_ACT_SIGMOID;
    else
        return -1;
    return 0;
}

/* X = X + the attention sublayer of B on LN1(X). */
static int fblock_attn(fpf_mat_t X, const tblock_t *B, run_t *run)
{
    fpf_mat_t U;
    mat_init(U, X->rows, X->cols, run->o->ar.fmt);
    int rc = ln_apply(U, X, &B->ln1, run);
    heads_t h = {.W_Q = B->W_Q, .W_K = B->W_K, .W_V = B->W_V, .W_O = B->W_O, .b_Q = B->b_Q,
                 .b_K = B->b_K, .b_V = B->b_V, .b_O = B->b_O, .n_heads = B->n_heads,
                 .r_qk = B->d_head, .r_ov = B->d_head, .attn_scale = B->attn_scale,
                 .mask = B->causal ? AONET_MASK_CAUSAL : AONET_MASK_ALL};
    if (rc == 0)
        rc = heads_apply(X, U, &h, run);
    fpf_mat_clear(U);
    return rc;
}

/* X = X + the MLP sublayer of B on LN2(X): Z = U W_in + b_in, A = phi(Z)
 * (gated: fl(phi(U W_gate) * Z)), X + (A W_out + b_out), each step rounded. */
static int fblock_mlp(fpf_mat_t X, const tblock_t *B, const char *act_name, const arb_t a,
                     run_t *run)
{
    const fpf_arith_t *ar = &run->o->ar;
    const fpf_format_t *f = ar->fmt;
    long N = X->rows, M = B->d_mlp;
    fpf_act_t act = FPF_ACT_RELU;
    mpfr_t am, t;
    fpf_init(am, f);
    fpf_init(t, f);
    int rc = act_of(&act, am, act_name, a, f);
    fpf_mat_t U, Win, bin, Wg, Wout, bout, Z, G, O;
    mat_init(U, N, X->cols, f);
    mat_init(Z, N, M, f);
    mat_init(G, B->gated ? N : 0, B->gated ? M : 0, f);
    mat_init(O, N, X->cols, f);
    rc |= fpnet_mat_round(Win, B->W_in, f) | fpnet_mat_round(bin, B->b_in, f) |
          fpnet_mat_round(Wout, B->W_out, f) | fpnet_mat_round(bout, B->b_out, f) |
          bias_round(Wg, B->gated ? B->W_gate : NULL, f);
    if (rc == 0)
        rc = ln_apply(U, X, &B->ln2, run);
    if (rc == 0)
        rc = fpf_mat_mul(Z, U, Win, bin, ar);
    if (rc == 0 && B->gated)
        rc = fpf_mat_mul(G, U, Wg, NULL, ar);
    for (long k = 0; rc == 0 && k < N * M; k++) {
        if (B->gated) {
            fpf_act_apply(t, G->e + k, act, am, f);
            fpf_mul(Z->e + k, t, Z->e + k, f);
        } else {
            fpf_act_apply(Z->e + k, Z->e + k, act, am, f);
        }
    }
    if (rc == 0)
        rc = fpf_mat_mul(O, Z, Wout, bout, ar);
    if (rc == 0)
        fpf_mat_add(X, X, O);
    mpfr_clear(am);
    mpfr_clear(t);
    fpf_mat_clear(U);
    fpf_mat_clear(Win);
    fpf_mat_clear(bin);
    fpf_mat_clear(Wg);
    fpf_mat_clear(Wout);
    fpf_mat_clear(bout);
    fpf_mat_clear(Z);
    fpf_mat_clear(G);
    fpf_mat_clear(O);
    return rc;
}

static int fblock_apply(fpf_mat_t X, const tblock_t *B, const char *act, const arb_t a,
                       run_t *run)
{
    int rc = 0;
    if (B->parallel)
        return -1; /* not emulated: model --arith refuses parallel blocks first */
    if (B->n_heads > 0)
        rc = fblock_attn(X, B, run);
    if (rc == 0 && B->d_mlp > 0)
        rc = fblock_mlp(X, B, act, a, run);
    return rc;
}

/* X = the final LN of X, when ln is not none. */
static int final_ln(fpf_mat_t X, const aonet_ln_t *ln, run_t *run)
{
    if (ln->kind == AONET_LN_NONE)
        return 0;
    fpf_mat_t U;
    mat_init(U, X->rows, X->cols, run->o->ar.fmt);
    int rc = ln_apply(U, X, ln, run);
    if (rc == 0)
        fpf_mat_set(X, U);
    fpf_mat_clear(U);
    return rc;
}

int fpnet_model_apply(fpf_mat_t Y, const tblock_t *blocks, long n_blocks,
                      const aonet_ln_t *ln_final, const char *act, const imat_t X,
                      const fpf_arith_t *ar)
{
    fpnet_opts_t o = {.ar = *ar, .omega_col = -1};
    run_t run = {.o = &o, .st = NULL};
    int rc = fpnet_mat_round(Y, X, ar->fmt);
    for (long k = 0; rc == 0 && k < n_blocks; k++)
        rc = fblock_apply(Y, blocks + k, act, NULL, &run);
    if (rc == 0 && ln_final)
        rc = final_ln(Y, ln_final, &run);
    if (rc != 0)
        fpf_mat_clear(Y);
    return rc;
}

/* The original in the format, stage by stage as a sink hands them over. */
typedef struct {
    run_t run;
    fpf_mat_struct *Y;
    const onet_t *O;          /* its act and slope */
    int rc;
} orig_pass_t;

static int orig_stage(void *ctx, const onet_stage_t *s, char *err, size_t errsz)
{
    (void)err;
    (void)errsz;
    orig_pass_t *P = ctx;
    if (s->kind == ONET_BLOCK) {
        P->rc = fblock_apply(P->Y, &s->block, P->O->act, P->O->a, &P->run);
        return P->rc != 0;
    }
    fpf_mat_t U;
    mat_init(U, P->Y->rows, P->Y->cols, P->run.o->ar.fmt);
    P->rc = ln_apply(U, P->Y, &s->layer.ln, &P->run);
    for (long gi = 0; P->rc == 0 && gi < s->layer.n_groups; gi++)
        P->rc = group_apply(P->Y, U, s->layer.groups + gi, &P->run);
    fpf_mat_clear(U);
    return P->rc != 0;
}

static int orig_final(void *ctx, const aonet_ln_t *ln, char *err, size_t errsz)
{
    (void)err;
    (void)errsz;
    orig_pass_t *P = ctx;
    P->rc = final_ln(P->Y, ln, &P->run);
    return P->rc != 0;
}

int fpnet_orig_apply(fpf_mat_t Y, const instance_t *I, const fpf_arith_t *ar, char *err,
                     size_t errsz)
{
    fpnet_opts_t o = {.ar = *ar, .omega_col = -1};
    orig_pass_t P = {.run = {.o = &o, .st = NULL}, .Y = Y, .O = &I->orig};
    P.rc = fpnet_mat_round(Y, I->orig_in, ar->fmt);
    if (P.rc != 0) {
        fpf_mat_clear(Y); /* Y is not the caller's on failure */
        return P.rc;
    }
    onet_sink_t sink = {&P, orig_stage, orig_final};
    int src_rc = instance_emit_orig(I, &sink, err, errsz);
    int rc = P.rc != 0 ? P.rc : src_rc != 0 ? -2 : 0;
    if (rc != 0)
        fpf_mat_clear(Y);
    return rc;
}

/* ---- measurements ---- */

void fpnet_measure_init(fpnet_measure_t *m)
{
    arb_init(m->E_ref);
    arb_init(m->E_ref_abs);
    arb_init(m->D);
    arb_init(m->D_abs);
    arb_init(m->floor);
    arb_init(m->E_exact);
    m->off_grid = 0;
    memset(&m->ln, 0, sizeof m->ln);
    m->note[0] = '\0';
}

void fpnet_measure_clear(fpnet_measure_t *m)
{
    arb_clear(m->E_ref);
    arb_clear(m->E_ref_abs);
    arb_clear(m->D);
    arb_clear(m->D_abs);
    arb_clear(m->floor);
    arb_clear(m->E_exact);
}

int fpnet_measure(fpnet_measure_t *m, const instance_t *I, const fpnet_opts_t *o,
                  const fpf_format_t *floor_fmt, long row0, long rows, long cols,
                  mpfr_prec_t prec)
{
    const imat_struct *in = I->net_in, *ref = I->net_ref;
    long N = in->rows, D = in->cols;
    if (rows <= 0) {
        row0 = 0;
        rows = N;
        cols = D;
    }
    fpf_mat_t Y;
    fpnet_stats_t st;
    imat_t Yx, C;
    imat_init(C, 0, 0);
    int rc = pass_run(Y, C, in, o, &st, emit_instance, I, prec, m->note, sizeof m->note);
    if (rc != 0) {
        imat_clear(C);
        return rc;
    }
    imat_init(Yx, 0, 0);
    fpnet_mat_exact(Yx, Y);
    fpf_mat_clear(Y);
    arb_t t;
    arb_init(t);
    error_metric(m->E_ref, m->E_ref_abs, Yx, ref, row0, rows, cols, prec);
    error_metric(m->D, m->D_abs, Yx, C, row0, rows, cols, prec);
    error_metric(m->E_exact, t, C, ref, row0, rows, cols, prec);
    fpnet_grid_floor(m->floor, C, row0, rows, cols, floor_fmt, prec);
    m->off_grid = st.off_grid;
    m->ln = st.ln;
    arb_clear(t);
    imat_clear(Yx);
    imat_clear(C);
    return 0;
}

const char *fpnet_certifies(void)
{
    return "certified for the stated summation order and this model of the hardware: inputs and "
           "weights rounded once to the format, every operation rounded to nearest (ties to "
           "even) with subnormals, exp correctly rounded, softmax shifted by the row maximum, "
           "sums in the stated accumulation format (binary32 accumulation: an idealised "
           "tensor core); real kernels (vectorised exp, blocked sums) differ";
}

void fpnet_ln_column(row_t *r, const fpnet_measure_t *m)
{
    if (m->ln.rows == 0)
        return;
    /* the gain is an upper bound: printed rounded up */
    mpfr_t v;
    mpfr_init2(v, 53);
    mpfr_set_d(v, m->ln.gain, MPFR_RNDU); /* exact: a double */
    char g[48];
    mpfr_snprintf(g, sizeof g, "%.3RUe", v);
    mpfr_clear(v);
    row_add_text(r, "LN conditioning", "gain |gamma| sqrt(d)/sqrt(sigma^2+eps) <= %s; %ld of "
                 "%ld rows with sigma < 10 sqrt(eps); rows exactly 0: %ld", g, m->ln.flagged,
                 m->ln.rows, m->ln.zero);
}

void fpnet_logit_range(arb_t max_logit, arb_t flush, const fpf_format_t *f, mpfr_prec_t prec)
{
    /* (2 - 2^(1-p)) 2^emax, exact */
    arb_one(max_logit);
    arb_mul_2exp_si(max_logit, max_logit, 1 - (slong)f->prec);
    arb_sub_ui(max_logit, max_logit, 2, prec);
    arb_neg(max_logit, max_logit);
    arb_mul_2exp_si(max_logit, max_logit, (slong)f->emax);
    arb_const_log2(flush, prec);
    arb_mul_si(flush, flush, (slong)f->prec - f->emin, prec);
}

void fpnet_omega_columns(row_t *r, const fpf_format_t *f)
{
    arb_t m, fl;
    arb_init(m);
    arb_init(fl);
    fpnet_logit_range(m, fl, f, 64);
    mpfr_t a, b;
    mpfr_init2(a, 64);
    mpfr_init2(b, 64);
    arf_get_mpfr(a, arb_midref(m), MPFR_RNDN); /* exact: p <= 53 bits */
    arb_get_ubound_arf(arb_midref(fl), fl, 64);
    arf_get_mpfr(b, arb_midref(fl), MPFR_RNDU); /* the threshold, rounded up */
    char t[160];
    mpfr_snprintf(t, sizeof t, "%s: largest finite value %.6RDg (logits, so Omega, below it); "
                  "masked weights exactly 0 from Omega >= %.4RUf", f->name, a, b);
    row_add_text(r, "Omega range of the format", "%s", t);
    mpfr_clears(a, b, (mpfr_ptr)0);
    arb_clear(m);
    arb_clear(fl);
}
