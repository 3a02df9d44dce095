/* Certified checks of a converted model (modelcheck.h). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "exitcodes.h"
#include "modelcheck.h"
#include "maskenc.h"
#include "supnorm.h"

/* The certified sup gap of an approximated activation: relative tolerance. */
#define MCHECK_GAP_REL_TOL 1e-6

const char *mcheck_name(mcheck_t kind)
{
    static const char *const names[MCHECK_N] = {"attn",    "mlp",   "mlp-silu_a",  "model",
                                                "encoded", "block", "block-silu_a"};
    return kind >= 0 && kind < MCHECK_N ? names[kind] : "?";
}

void imat_get_mid(imat_t Y, const imat_t X)
{
    imat_reinit(Y, X->rows, X->cols);
    for (long k = 0; k < X->rows * X->cols; k++)
        arb_get_mid_arb(Y->e + k, X->e + k);
}

/* The reference stream [[bias, 1, 1], [Y, 1, 0]] (bias: the bias token's
 * features, 1 x d, or NULL for 0). */
static void final_reference(imat_t R, const imat_t Y, const imat_t bias)
{
    convert_stream(R, Y);
    for (long j = 0; bias && j < Y->cols; j++)
        arb_set(imat_entry(R, 0, j), imat_entry(bias, 0, j));
}

/* The row's exact-rule epilogue: E between the streams of ref (n x d, the
 * original's tokens) laid out by final_reference and con (n+1 x d+2, the
 * converted stream). */
static void finish_stream(row_t *r, const imat_t ref, const imat_t bias, const imat_t con,
                          int depth)
{
    imat_t R;
    imat_init(R, 0, 0);
    final_reference(R, ref, bias);
    error_metric(r->error, r->error_abs, R, con, 0, R->rows, R->cols, r->prec);
    scale_of(r->scale, R, 0, R->rows, R->cols);
    r->exact_identity = 1;
    r->depth = depth;
    imat_clear(R);
}

/* Layer L on the converted stream of h (exact), into S. */
static void apply_on(imat_t S, const aonet_layer_t *L, const imat_t h, mpfr_prec_t prec)
{
    convert_stream(S, h);
    aonet_layer_apply(S, L, prec);
}

/* sum_k ||W_out[k,:]||_2 (an enclosure). */
static void row_norm_sum(arb_t s, const imat_t W, mpfr_prec_t prec)
{
    arb_t t;
    arb_init(t);
    arb_zero(s);
    for (long k = 0; k < W->rows; k++) {
        imat_row_norm2(t, W, k, prec);
        arb_add(s, s, t, prec);
    }
    arb_clear(t);
}

/* A bound row's trivial bound: the largest E the triangle inequality allows
 * between the reference stream of ref (laid out by final_reference) and
 * con, on the columns E is measured on; a bound at or above it is vacuous. */
static void set_trivial(row_t *r, const imat_t ref, const imat_t bias, const imat_t con)
{
    imat_t R;
    imat_init(R, 0, 0);
    final_reference(R, ref, bias);
    error_trivial_bound(r->trivial, R, con, 0, R->rows, R->cols, r->prec);
    r->has_trivial = 1;
    imat_clear(R);
}

/* G = the gap between phi and block B's heads over |z| <= zmax, W = sum_k
 * ||W_out[k,:]||. */
static void mlp_gap_at(arb_t G, arb_t W, const mpfr_t zmax, const tblock_t *B,
                       const convert_act_t *ca, mpfr_prec_t prec)
{
    double L = mpfr_get_d(zmax, MPFR_RNDU);
    arb_zero(G);
    if (mpfr_number_p(zmax) && L > 0)
        supnorm_gap(G, NULL, NULL, &ca->phi, convert_act_twin(ca, B->layer), L,
                    MCHECK_GAP_REL_TOL, prec);
    else if (!mpfr_number_p(zmax))
        arb_indeterminate(G);
    row_norm_sum(W, B->W_out, prec);
}

void mcheck_mlp_gap(arb_t G, arb_t W, mpfr_t zmax, const tblock_t *B, const imat_t h,
                    const convert_act_t *ca, mpfr_prec_t prec)
{
    imat_t Z;
    imat_init(Z, h->rows, B->d_mlp);
    tblock_mlp_pre(Z, NULL, B, h, prec);
    imat_max_abs_upper(zmax, Z);
    mlp_gap_at(G, W, zmax, B, ca, prec);
    imat_clear(Z);
}

/* The MLP row against the bound G sum_k ||W_out[k,:]||: zmax, the certified
 * range of the pre-activations on h (rounded up), the gap on it, the bound. */
static void mlp_bound(row_t *r, const tblock_t *B, const mpfr_t zmax, const convert_act_t *ca)
{
    mpfr_prec_t prec = r->prec;
    arb_ptr G = row_add_ival(r, "sup gap G");
    arb_ptr W = row_add_ival(r, "sum ||W_out[k]||");
    mlp_gap_at(G, W, zmax, B, ca, prec);
    arb_mul(r->bound, G, W, prec);
    r->has_bound = 1;
    r->exact_identity = 0;
    ival_set_fr(row_add_ival(r, "max |z|"), zmax);
    row_add_long(r, "heads per neuron", convert_act_m(ca, B->layer));
}

static row_t *want_row(const mcheck_opts_t *o, mcheck_t kind, long block)
{
    if (!(o->checks & MCHECK_BIT(kind)))
        return NULL;
    if (kind != MCHECK_MODEL && o->block >= 0 && o->block != block)
        return NULL;
    return o->row(o->row_ctx, kind, block);
}

const double mcheck_eps[MCHECK_N_EPS] = {1e-3, 1e-6, 1e-12};
const char *const mcheck_eps_column[MCHECK_N_EPS] = {"Omega_req(1e-3)", "Omega_req(1e-6)",
                                                      "Omega_req(1e-12)"};


/* The ENCODED row: E of the encoded output's first D columns against the
 * reference R; the bound at Omega plus hi(E of the masked network). */
static void finish_encoded(row_t *r, const imat_t R, const imat_t con, const imat_t enc,
                           const maskenc_bound_t *b, const arb_t omega, long heads)
{
    mpfr_prec_t prec = r->prec;
    imat_t F;
    imat_init(F, 0, 0);
    maskenc_features(F, enc, R->cols);
    error_metric(r->error, r->error_abs, R, F, 0, R->rows, R->cols, prec);
    error_trivial_bound(r->trivial, R, F, 0, R->rows, R->cols, prec);
    r->has_trivial = 1;
    arb_ptr Em = row_add_ival(r, "E masked vs model");
    arb_t Eabs, extra;
    arb_init(Eabs);
    arb_init(extra);
    error_metric(Em, Eabs, R, con, 0, R->rows, R->cols, prec);
    /* the masked network's distance as a point: its upper end */
    arf_t u;
    arf_init(u);
    arb_get_ubound_arf(u, Em, prec);
    arb_set_arf(extra, u);
    arf_clear(u);
    maskenc_bound_eval(r->bound, b, omega, prec);
    arb_add(r->bound, r->bound, extra, prec);
    r->has_bound = 1;
    r->exact_identity = 0;
    for (int k = 0; k < MCHECK_N_EPS; k++) {
        double om = maskenc_omega_req(b, extra, mcheck_eps[k], 64);
        if (om < 0)
            row_add_text(r, mcheck_eps_column[k], "none below 10^6");
        else { /* a multiple of 1/64: six decimals are exact (%g could round it down) */
            char t[48];
            snprintf(t, sizeof t, "%.6f", om);
            for (size_t e = strlen(t); t[e - 1] == '0' || t[e - 1] == '.'; e--) {
                int point = t[e - 1] == '.';
                t[e - 1] = '\0';
                if (point)
                    break;
            }
            row_add_text(r, mcheck_eps_column[k], "%s", t);
        }
    }
    row_add_long(r, "heads", heads);
    row_add_long(r, "width", enc->cols);
    arb_clear(Eabs);
    arb_clear(extra);
    imat_clear(F);
}

/* The ENCODED row: the converted network (o->mutation; the encoded one
 * from o->enc_convert_mutation) and its encoding by o->omega, stepped
 * together at pe so the bound can follow the masked stream layer by layer. */
static int encoded_row(row_t *re, const tmodel_t *m, const imat_t X, const mcheck_opts_t *o,
                       mpfr_prec_t pe, char *err, size_t errsz)
{
    const convert_act_t *ca = o->act;
    long L = (long)tmodel_config(m)->n_layers, n = X->rows, d = X->cols, N = n + 1;
    imat_t ref, con, enc;
    imat_init(ref, n, d);
    imat_init(con, 0, 0);
    imat_init(enc, 0, 0);
    imat_set(ref, X);
    convert_stream(con, X);
    maskenc_stream(enc, con);
    maskenc_bound_t *bound = maskenc_bound_new(N);
    long heads_per_block = 0, heads = 0;
    int rc = 0;
    for (long b = 0; b < L && rc == 0; b++) {
        tblock_t B;
        aonet_layer_t Ls[2], Lm[2], E;
        rc = tblock_read(&B, m, b, err, errsz);
        if (rc != 0) {
            tblock_clear(&B);
            break;
        }
        convert_opts_t co = {.form = o->form, .mutation = o->mutation};
        long nl = convert_block_layers(Ls, &B, ca, &co), nm = nl;
        heads_per_block = 0;
        for (long k = 0; k < nl; k++)
            heads_per_block += aonet_layer_heads(Ls + k);
        heads += heads_per_block;
        tblock_apply(ref, &B, ref, act_eval_ival, &ca->phi, pe);
        const aonet_layer_t *src = Ls;
        int other = o->enc_convert_mutation != o->mutation;
        if (other) {
            convert_opts_t ce = {.form = o->form, .mutation = o->enc_convert_mutation};
            nm = convert_block_layers(Lm, &B, ca, &ce);
            src = Lm;
        }
        for (long k = 0; k < nl; k++) {
            maskenc_bound_add_layer(bound, Ls + k, con, pe);
            maskenc_layer(&E, src + k, N, o->omega, o->enc_mutation, pe);
            aonet_layer_apply(enc, &E, pe);
            aonet_layer_clear(&E);
            aonet_layer_apply(con, Ls + k, pe);
        }
        for (long k = 0; other && k < nm; k++)
            aonet_layer_clear(Lm + k);
        for (long k = 0; k < nl; k++)
            aonet_layer_clear(Ls + k);
        tblock_clear(&B);
    }
    if (rc == 0) {
        aonet_ln_t lnf, lnc, lne;
        rc = tblock_read_ln_final(&lnf, m, err, errsz);
        if (rc == 0) {
            convert_ln(&lnc, &lnf, d + 2, o->mutation);
            convert_ln(&lne, &lnf, d + 2, o->enc_convert_mutation);
            /* the bias token's output features: the final LN of 0 */
            imat_t zero, R;
            imat_init(zero, 1, d);
            imat_init(R, 0, 0);
            aonet_ln_apply(zero, zero, &lnf, pe);
            maskenc_bound_set_final(bound, &lnc, con, pe);
            aonet_ln_apply(enc, enc, &lne, pe);
            aonet_ln_apply(con, con, &lnc, pe);
            aonet_ln_apply(ref, ref, &lnf, pe);
            final_reference(R, ref, zero);
            re->prec = pe;
            finish_encoded(re, R, con, enc, bound, o->omega, heads);
            imat_clear(zero);
            imat_clear(R);
            aonet_ln_clear(&lnc);
            aonet_ln_clear(&lne);
        }
        aonet_ln_clear(&lnf);
    }
    maskenc_bound_free(bound);
    imat_clear(ref);
    imat_clear(con);
    imat_clear(enc);
    return rc;
}

int mcheck_convert(const tmodel_t *m, const convert_act_t *ca, convert_opts_t co,
                   const aonet_sink_t *sink, char *err, size_t errsz)
{
    long L = (long)tmodel_config(m)->n_layers, d = (long)tmodel_config(m)->d_model;
    int rc = 0;
    long at = 0; /* the next layer's index */
    for (long b = 0; b < L && rc == 0; b++) {
        tblock_t B;
        aonet_layer_t Ls[2];
        rc = tblock_read(&B, m, b, err, errsz);
        if (rc == 0) {
            long nl = convert_block_layers(Ls, &B, ca, &co);
            for (long k = 0; k < nl; k++) {
                if (rc == 0)
                    rc = sink->layer(sink->ctx, at++, Ls + k, err, errsz);
                aonet_layer_clear(Ls + k);
            }
        }
        tblock_clear(&B);
    }
    if (rc == 0) {
        aonet_ln_t lnf, lnc;
        rc = tblock_read_ln_final(&lnf, m, err, errsz);
        if (rc == 0) {
            convert_ln(&lnc, &lnf, d + 2, co.mutation);
            rc = sink->final_ln(sink->ctx, &lnc, err, errsz);
            aonet_ln_clear(&lnc);
        }
        aonet_ln_clear(&lnf);
    }
    return rc;
}

/* Every check asked for, each by its one function: the sublayers on the
 * original's streams (mcheck_block_streams, mcheck_sublayer), the model end
 * to end (mcheck_e2e), the encoded network (encoded_row). */
int mcheck_run(const tmodel_t *m, const imat_t X, const mcheck_opts_t *o, char *err,
               size_t errsz)
{
    const convert_act_t *ca = o->act;
    mpfr_prec_t prec = o->prec, pe = o->e2e_prec > o->prec ? o->e2e_prec : o->prec;
    long L = (long)tmodel_config(m)->n_layers;
    int approx = !convert_act_exact(ca);
    unsigned subs = MCHECK_BIT(MCHECK_ATTN) | MCHECK_BIT(MCHECK_MLP) |
                    MCHECK_BIT(MCHECK_MLP_SILU) | MCHECK_BIT(MCHECK_BLOCK) |
                    MCHECK_BIT(MCHECK_BLOCK_SILU);
    int parallel = tmodel_config(m)->parallel_attn_mlp;
    convert_opts_t mco = {.form = o->form, .mutation = o->mutation};
    int rc = 0;
    if (o->sink)
        rc = mcheck_convert(m, ca, mco, o->sink, err, errsz);
    if (rc == 0 && (o->checks & subs)) {
        long last = o->block < 0 ? L - 1 : o->block;
        imat_t h, h_mlp, h_next;
        imat_init(h, 0, 0);
        imat_init(h_mlp, 0, 0);
        imat_init(h_next, 0, 0);
        imat_get_mid(h, X);
        for (long b = 0; b <= last && rc == 0; b++) {
            tblock_t B;
            rc = tblock_read(&B, m, b, err, errsz);
            if (rc == 0)
                mcheck_block_streams(h_mlp, h_next, &B, h, ca, prec);
            tblock_clear(&B);
            row_t *r;
            if (parallel) {
                if (rc == 0 && (r = want_row(o, MCHECK_BLOCK, b)))
                    rc = mcheck_sublayer(r, m, b, MCHECK_BLOCK, h, ca, mco, err, errsz);
                if (rc == 0 && approx && (r = want_row(o, MCHECK_BLOCK_SILU, b)))
                    rc = mcheck_sublayer(r, m, b, MCHECK_BLOCK_SILU, h, ca, mco, err, errsz);
                imat_swap_into(h, h_next);
                continue;
            }
            if (rc == 0 && (r = want_row(o, MCHECK_ATTN, b)))
                rc = mcheck_sublayer(r, m, b, MCHECK_ATTN, h, ca, mco, err, errsz);
            if (rc == 0 && (r = want_row(o, MCHECK_MLP, b)))
                rc = mcheck_sublayer(r, m, b, MCHECK_MLP, h_mlp, ca, mco, err, errsz);
            if (rc == 0 && approx && (r = want_row(o, MCHECK_MLP_SILU, b)))
                rc = mcheck_sublayer(r, m, b, MCHECK_MLP_SILU, h_mlp, ca, mco, err,
                                     errsz);
            imat_swap_into(h, h_next);
        }
        imat_clear(h);
        imat_clear(h_mlp);
        imat_clear(h_next);
    }
    row_t *r = rc == 0 ? want_row(o, MCHECK_MODEL, -1) : NULL;
    if (rc == 0 && (r || o->ref_out)) {
        mcheck_e2e_t e;
        mcheck_e2e_init(&e);
        rc = mcheck_e2e(&e, m, X, ca, mco, pe, err, errsz);
        if (rc == 0 && r) {
            r->prec = pe;
            mcheck_e2e_row(r, &e);
            if (approx) {
                /* the distance to the model itself: measured here (the claim's row `real`) */
                imat_t R;
                arb_t Eabs;
                imat_init(R, 0, 0);
                arb_init(Eabs);
                mcheck_e2e_reference(R, &e, 0);
                error_metric(row_add_ival(r, "E vs the model (measured)"), Eabs, R, e.con, 0,
                             R->rows, R->cols, pe);
                arb_clear(Eabs);
                imat_clear(R);
            }
        }
        if (rc == 0 && o->ref_out) /* what the network computes exactly */
            mcheck_e2e_reference(o->ref_out, &e, 1);
        mcheck_e2e_clear(&e);
    }
    if (rc == 0 && (o->checks & MCHECK_BIT(MCHECK_ENCODED)) && o->omega &&
        (r = want_row(o, MCHECK_ENCODED, -1)))
        rc = encoded_row(r, m, X, o, pe, err, errsz);
    return rc;
}

/* ---- one check at a time (model_claim.h): each row independent ---- */

void mcheck_track_init(mcheck_track_t *t, const act_t *act, const arb_t a)
{
    t->act = act;
    az_track_init(&t->az, a);
}

void mcheck_track_clear(mcheck_track_t *t) { az_track_clear(&t->az); }

void mcheck_act_tracked(arb_t y, const arb_t x, const void *track, mpfr_prec_t prec)
{
    mcheck_track_t *t = (mcheck_track_t *)track;
    az_track_note(&t->az, x);
    act_eval_ival(y, x, t->act, prec);
}

void mcheck_track_resolve(row_t *r, const mcheck_track_t *t)
{
    az_track_resolve_bits(r, t->az.max_az);
}

void mcheck_block_streams(imat_t h_mlp, imat_t h_next, const tblock_t *B, const imat_t h,
                          const convert_act_t *ca, mpfr_prec_t prec)
{
    imat_t Y;
    imat_init(Y, h->rows, h->cols);
    if (B->parallel) {
        imat_get_mid(h_mlp, h); /* the MLP reads the block's input */
        tblock_apply(Y, B, h, act_eval_ival, &ca->phi, prec);
    } else {
        tblock_attn(Y, B, h, prec);
        imat_get_mid(h_mlp, Y);
        tblock_mlp(Y, B, h_mlp, act_eval_ival, &ca->phi, prec);
    }
    imat_get_mid(h_next, Y);
    imat_clear(Y);
}

static void kept_init(mcheck_kept_t *k)
{
    k->ready = 0;
    imat_init(k->M, 0, 0);
    imat_init(k->M2, 0, 0);
}

static void kept_clear(mcheck_kept_t *k)
{
    imat_clear(k->M);
    imat_clear(k->M2);
}

void mcheck_shared_init(mcheck_shared_t *sh)
{
    pthread_mutex_init(&sh->lock, NULL);
    kept_init(&sh->conv);
    kept_init(&sh->pre);
}

void mcheck_shared_clear(mcheck_shared_t *sh)
{
    pthread_mutex_destroy(&sh->lock);
    kept_clear(&sh->conv);
    kept_clear(&sh->pre);
}

/* Take A (and A2) from k when it holds them at prec and mutation (their
 * second and last use: handed over, 1); else 0 (sh locked by the caller). */
static int kept_take(imat_t A, imat_t A2, mcheck_kept_t *k, mpfr_prec_t prec, int mutation)
{
    if (!k->ready || k->prec != prec || k->mutation != mutation)
        return 0;
    imat_swap(A, k->M);
    if (A2)
        imat_swap(A2, k->M2);
    imat_reinit(k->M, 0, 0);
    imat_reinit(k->M2, 0, 0);
    k->ready = 0;
    return 1;
}

/* Keep copies of A (and A2) in k for the other row. */
static void kept_put(mcheck_kept_t *k, const imat_t A, const imat_t A2, mpfr_prec_t prec,
                     int mutation)
{
    imat_reinit(k->M, A->rows, A->cols);
    imat_set(k->M, A);
    if (A2) {
        imat_reinit(k->M2, A2->rows, A2->cols);
        imat_set(k->M2, A2);
    }
    k->ready = 1;
    k->prec = prec;
    k->mutation = mutation;
}

/* S = the layer on h (apply_on), through sh (or made alone: sh NULL). */
static void apply_shared(imat_t S, const aonet_layer_t *L, const imat_t h, mpfr_prec_t prec,
                         int mutation, mcheck_shared_t *sh)
{
    if (!sh) {
        apply_on(S, L, h, prec);
        return;
    }
    pthread_mutex_lock(&sh->lock);
    if (!kept_take(S, NULL, &sh->conv, prec, mutation)) {
        apply_on(S, L, h, prec);
        kept_put(&sh->conv, S, NULL, prec, mutation);
    }
    pthread_mutex_unlock(&sh->lock);
}

/* Z, G = tblock_mlp_pre on h, through sh (or made alone: sh NULL). */
static void pre_shared(imat_t Z, imat_t G, const tblock_t *B, const imat_t h, mpfr_prec_t prec,
                       int mutation, mcheck_shared_t *sh)
{
    if (sh)
        pthread_mutex_lock(&sh->lock);
    if (!sh || !kept_take(Z, G, &sh->pre, prec, mutation)) {
        imat_reinit(Z, h->rows, B->d_mlp);
        imat_reinit(G, B->gated ? h->rows : 0, B->gated ? B->d_mlp : 0);
        tblock_mlp_pre(Z, G, B, h, prec);
        if (sh)
            kept_put(&sh->pre, Z, G, prec, mutation);
    }
    if (sh)
        pthread_mutex_unlock(&sh->lock);
}

int mcheck_sublayer(row_t *r, const tmodel_t *m, long b, mcheck_t kind, const imat_t h,
                    const convert_act_t *ca, convert_opts_t co, char *err, size_t errsz)
{
    return mcheck_sublayer_shared(r, m, b, kind, h, ca, co, NULL, err, errsz);
}

int mcheck_sublayer_shared(row_t *r, const tmodel_t *m, long b, mcheck_t kind, const imat_t h,
                           const convert_act_t *ca, convert_opts_t co, mcheck_shared_t *sh,
                           char *err, size_t errsz)
{
    mpfr_prec_t prec = r->prec;
    tblock_t B;
    int rc = tblock_read(&B, m, b, err, errsz);
    if (rc != 0) {
        tblock_clear(&B);
        return rc;
    }
    int approx = !convert_act_exact(ca);
    int block = kind == MCHECK_BLOCK || kind == MCHECK_BLOCK_SILU;
    if (block != B.parallel) {
        snprintf(err, errsz, "internal: check %s on a %s block", mcheck_name(kind),
                 B.parallel ? "parallel" : "sequential");
        tblock_clear(&B);
        return EXIT_SOFTWARE;
    }
    aonet_layer_t Ls[2];
    long nl = convert_block_layers(Ls, &B, ca, &co);
    /* the layer this check runs: A (attn), B (mlp) or the parallel one */
    const aonet_layer_t *layer = Ls + (kind == MCHECK_ATTN || block ? 0 : 1);
    imat_t Y, S;
    imat_init(Y, h->rows, h->cols);
    imat_init(S, 0, 0);
    if (kind == MCHECK_ATTN) {
        /* layer A against h + Attn(LN1(h)) + b_O; no SiLU_a on the way */
        tblock_attn(Y, &B, h, prec);
        apply_on(S, layer, h, prec);
        finish_stream(r, Y, NULL, S, 1);
        r->resolve_bits = 0;
    } else {
        /* layer B against h + MLP(h) (phi), or h + SiLU_a-MLP(h) (the twin);
         * a parallel layer against the whole block on h, likewise */
        int twin = kind == MCHECK_MLP_SILU || kind == MCHECK_BLOCK_SILU;
        mcheck_track_t t;
        arb_t a;
        arb_init(a);
        convert_act_slope_max(a, ca);
        mcheck_track_init(&t, twin ? convert_act_twin(ca, b) : &ca->phi, a); /* keeps a */
        /* the pre-activations on h: the bound's range, and the sequential MLP's input */
        imat_t Z, G;
        mpfr_t zmax;
        imat_init(Z, 0, 0);
        imat_init(G, 0, 0);
        mpfr_init2(zmax, 64);
        mpfr_set_ui(zmax, 0, MPFR_RNDU);
        if (!block || (approx && !twin)) {
            /* a parallel block's twin runs the whole block: the shared part is its layer */
            pre_shared(Z, G, &B, h, prec, co.mutation, block ? NULL : sh);
            imat_max_abs_upper(zmax, Z);
        }
        if (block)
            tblock_apply(Y, &B, h, mcheck_act_tracked, &t, prec);
        else
            tblock_mlp_given(Y, &B, h, Z, G, mcheck_act_tracked, &t, prec);
        imat_clear(Z);
        imat_clear(G);
        apply_shared(S, layer, h, prec, co.mutation, sh);
        finish_stream(r, Y, NULL, S, 1);
        mcheck_track_resolve(r, &t);
        mcheck_track_clear(&t);
        arb_clear(a);
        if (approx && !twin) {
            /* the attention part is exact in both: the MLP's bound is the block's */
            mlp_bound(r, &B, zmax, ca);
            set_trivial(r, Y, NULL, S);
            r->resolve_bits = 0;
        }
        mpfr_clear(zmax);
    }
    row_add_long(r, "heads", aonet_layer_heads(layer));
    row_add_long(r, "width", S->cols);
    imat_clear(Y);
    imat_clear(S);
    for (long k = 0; k < nl; k++)
        aonet_layer_clear(Ls + k);
    tblock_clear(&B);
    return 0;
}

void mcheck_e2e_init(mcheck_e2e_t *e)
{
    memset(e, 0, sizeof *e);
    imat_init(e->con, 0, 0);
    imat_init(e->ref, 0, 0);
    imat_init(e->refs, 0, 0);
    imat_init(e->zero, 0, 0);
}

void mcheck_e2e_clear(mcheck_e2e_t *e)
{
    imat_clear(e->con);
    imat_clear(e->ref);
    imat_clear(e->refs);
    imat_clear(e->zero);
}

int mcheck_e2e(mcheck_e2e_t *e, const tmodel_t *m, const imat_t X, const convert_act_t *ca,
               convert_opts_t co, mpfr_prec_t prec, char *err, size_t errsz)
{
    const tmodel_config_t *c = tmodel_config(m);
    long L = (long)c->n_layers, d = X->cols;
    int approx = !convert_act_exact(ca);
    e->prec = prec;
    e->mutation = co.mutation;
    e->layers = 0;
    e->heads = 0;
    imat_reinit(e->ref, X->rows, X->cols);
    imat_set(e->ref, X);
    if (approx) {
        imat_reinit(e->refs, X->rows, X->cols);
        imat_set(e->refs, X);
    }
    convert_stream(e->con, X);
    /* the exactly checked chain's activation inputs: phi's (exact kinds) or SiLU_a's */
    mcheck_track_t t;
    arb_t a;
    arb_init(a);
    convert_act_slope_max(a, ca);
    mcheck_track_init(&t, approx ? &ca->silu : &ca->phi, a); /* keeps a */
    int rc = 0;
    for (long b = 0; b < L && rc == 0; b++) {
        tblock_t B;
        aonet_layer_t Ls[2];
        rc = tblock_read(&B, m, b, err, errsz);
        if (rc != 0) {
            tblock_clear(&B);
            break;
        }
        long nl = convert_block_layers(Ls, &B, ca, &co);
        e->heads_per_block = 0;
        for (long k = 0; k < nl; k++)
            e->heads_per_block += aonet_layer_heads(Ls + k);
        e->heads += e->heads_per_block;
        if (approx) {
            /* the model and its twin (this block's heads): one product per weight
             * matrix for both */
            t.act = convert_act_twin(ca, b);
            tblock_apply_pair(e->ref, e->refs, &B, e->ref, e->refs, act_eval_ival, &ca->phi,
                              mcheck_act_tracked, &t, prec);
        } else {
            tblock_apply(e->ref, &B, e->ref, mcheck_act_tracked, &t, prec);
        }
        for (long k = 0; k < nl; k++) {
            aonet_layer_apply(e->con, Ls + k, prec);
            aonet_layer_clear(Ls + k);
        }
        e->layers += nl;
        tblock_clear(&B);
    }
    if (rc == 0) {
        aonet_ln_t lnf, lnc;
        rc = tblock_read_ln_final(&lnf, m, err, errsz);
        if (rc == 0) {
            convert_ln(&lnc, &lnf, d + 2, co.mutation);
            /* the bias token's output features: the final LN of 0 */
            imat_reinit(e->zero, 1, d);
            aonet_ln_apply(e->zero, e->zero, &lnf, prec);
            aonet_ln_apply(e->con, e->con, &lnc, prec);
            aonet_ln_apply(e->ref, e->ref, &lnf, prec);
            if (approx)
                aonet_ln_apply(e->refs, e->refs, &lnf, prec);
            /* the maps both streams pass through: the layers and ln_final */
            e->depth = (int)e->layers + (lnf.kind != AONET_LN_NONE);
            aonet_ln_clear(&lnc);
        }
        aonet_ln_clear(&lnf);
    }
    e->max_az = t.az.max_az;
    mcheck_track_clear(&t);
    arb_clear(a);
    return rc;
}

void mcheck_e2e_row(row_t *r, const mcheck_e2e_t *e)
{
    int twin = e->refs->rows > 0;
    finish_stream(r, twin ? e->refs : e->ref, e->zero, e->con, e->depth);
    az_track_resolve_bits(r, e->max_az);
    row_add_long(r, "layers", e->layers);
    row_add_long(r, "heads/block", e->heads_per_block);
    row_add_long(r, "heads", e->heads);
    row_add_long(r, "width", e->con->cols);
}

void mcheck_e2e_reference(imat_t R, const mcheck_e2e_t *e, int twin)
{
    final_reference(R, twin && e->refs->rows > 0 ? e->refs : e->ref, e->zero);
}

void mcheck_real_error(arb_t E, const mcheck_e2e_t *e, mpfr_prec_t prec)
{
    imat_t R;
    arb_t Eabs;
    imat_init(R, 0, 0);
    arb_init(Eabs);
    final_reference(R, e->ref, e->zero);
    error_metric(E, Eabs, R, e->con, 0, R->rows, R->cols, prec);
    arb_clear(Eabs);
    imat_clear(R);
}

void mcheck_real_row(row_t *r, const mcheck_e2e_t *e, const arb_t tol_abs, double tol_rel)
{
    mpfr_prec_t prec = r->prec;
    imat_t R;
    imat_init(R, 0, 0);
    final_reference(R, e->ref, e->zero);
    error_metric(r->error, r->error_abs, R, e->con, 0, R->rows, R->cols, prec);
    scale_of(r->scale, R, 0, R->rows, R->cols);
    error_trivial_bound(r->trivial, R, e->con, 0, R->rows, R->cols, prec);
    r->has_trivial = 1;
    if (tol_abs) {
        arb_set(r->bound, tol_abs);
    } else {
        /* tol_rel of the output scale S (S rounded up: a certified number) */
        arb_set_d(r->bound, tol_rel); /* the double nearest the decimal: the claimed tolerance */
        arb_t S;
        arb_init(S);
        arf_set_mpfr(arb_midref(S), r->scale);
        arb_mul(r->bound, r->bound, S, prec);
        arb_clear(S);
    }
    r->has_bound = 1;
    r->exact_identity = 0;
    row_add_long(r, "layers", e->layers);
    row_add_long(r, "width", e->con->cols);
    imat_clear(R);
}

row_t *mcheck_give_one_row(void *ctx, mcheck_t kind, long block)
{
    (void)kind;
    (void)block;
    mcheck_one_row_t *o = ctx;
    if (o->taken)
        return NULL;
    o->taken = 1;
    return o->r;
}
