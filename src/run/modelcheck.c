/* Certified checks of a converted model (modelcheck.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "modelcheck.h"
#include "maskenc.h"
#include "supnorm.h"

/* The certified sup gap of an approximated activation: relative tolerance. */
#define MCHECK_GAP_REL_TOL 1e-6

const char *mcheck_name(mcheck_t kind)
{
    static const char *const names[MCHECK_N] = {"attn", "mlp", "mlp-silu_a", "model", "encoded"};
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

/* The MLP row against the bound G sum_k ||W_out[k,:]||: the certified range
 * of the pre-activations on h, the gap on it, the bound. */
static void mlp_bound(row_t *r, const tblock_t *B, const imat_t h, const convert_act_t *ca)
{
    mpfr_prec_t prec = r->prec;
    imat_t Z;
    mpfr_t zmax;
    imat_init(Z, h->rows, B->d_mlp);
    mpfr_init2(zmax, 64);
    tblock_mlp_pre(Z, NULL, B, h, prec);
    imat_max_abs_upper(zmax, Z);
    arb_ptr G = row_add_ival(r, "sup gap G");
    arb_ptr W = row_add_ival(r, "sum ||W_out[k]||");
    double L = mpfr_get_d(zmax, MPFR_RNDU);
    if (mpfr_number_p(zmax) && L > 0)
        supnorm_gap(G, NULL, NULL, &ca->phi, &ca->silu, L, MCHECK_GAP_REL_TOL, prec);
    else if (!mpfr_number_p(zmax))
        arb_indeterminate(G);
    row_norm_sum(W, B->W_out, prec);
    arb_mul(r->bound, G, W, prec);
    r->has_bound = 1;
    r->exact_identity = 0;
    ival_set_fr(row_add_ival(r, "max |z|"), zmax);
    mpfr_clear(zmax);
    imat_clear(Z);
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

int mcheck_run(const tmodel_t *m, const imat_t X, const mcheck_opts_t *o, char *err,
               size_t errsz)
{
    const tmodel_config_t *c = tmodel_config(m);
    const convert_act_t *ca = o->act;
    mpfr_prec_t prec = o->prec, pe = o->e2e_prec > o->prec ? o->e2e_prec : o->prec;
    long L = (long)c->n_layers, n = X->rows, d = X->cols, N = n + 1;
    int approx = !convert_act_exact(ca);
    int encoded = (o->checks & MCHECK_BIT(MCHECK_ENCODED)) && o->omega;
    int model = (o->checks & MCHECK_BIT(MCHECK_MODEL)) || encoded;
    unsigned subs = MCHECK_BIT(MCHECK_ATTN) | MCHECK_BIT(MCHECK_MLP) | MCHECK_BIT(MCHECK_MLP_SILU);
    int sub = (o->checks & subs) != 0;
    long last = model || o->sink || o->block < 0 ? L - 1 : o->block;
    int rc = 0;
    /* The sublayer checks' inputs: the original's stream at prec, restarted
     * from the exact midpoints after every sublayer (enclosures are not
     * carried from block to block, so they never widen past use). */
    imat_t h, Y, Ys, S;
    imat_init(h, n, d);
    imat_init(Y, n, d);
    imat_init(Ys, n, d);
    imat_init(S, 0, 0);
    imat_get_mid(h, X);
    /* The end-to-end chains at pe: the original (ref), the original with
     * SiLU_a (refs, approximations), the converted stream (con) and the
     * encoded one (enc, width d + 2 + N). */
    imat_t ref, refs, con, enc;
    imat_init(ref, model ? n : 0, model ? d : 0);
    imat_init(refs, approx && model ? n : 0, approx && model ? d : 0);
    imat_init(con, 0, 0);
    imat_init(enc, 0, 0);
    if (model) {
        imat_set(ref, X);
        if (approx)
            imat_set(refs, X);
        convert_stream(con, X);
    }
    maskenc_bound_t *bound = encoded ? maskenc_bound_new(N) : NULL;
    if (encoded)
        maskenc_stream(enc, con);
    long heads_per_block = 0;
    time_t t0 = time(NULL);
    for (long b = 0; b <= last && rc == 0; b++) {
        tblock_t B;
        aonet_layer_t A, M;
        rc = tblock_read(&B, m, b, err, errsz);
        if (rc != 0) {
            tblock_clear(&B);
            break;
        }
        convert_opts_t co = {.form = o->form, .mutation = o->mutation};
        convert_block_opts(&A, &M, &B, ca, &co);
        heads_per_block = aonet_layer_heads(&A) + aonet_layer_heads(&M);
        if (o->sink) {
            rc = o->sink->layer(o->sink->ctx, 2 * b, &A, err, errsz);
            if (rc == 0)
                rc = o->sink->layer(o->sink->ctx, 2 * b + 1, &M, err, errsz);
        }
        row_t *r;
        if (rc == 0 && sub && (o->block < 0 || b <= o->block)) {
            /* attention sublayer: layer A against h + Attn(LN1(h)) + b_O */
            tblock_attn(Y, &B, h, prec);
            if ((r = want_row(o, MCHECK_ATTN, b))) {
                apply_on(S, &A, h, prec);
                finish_stream(r, Y, NULL, S, 1);
                row_add_long(r, "heads", aonet_layer_heads(&A));
                row_add_long(r, "width", S->cols);
            }
            imat_get_mid(h, Y);
            /* MLP sublayer: layer B against h + MLP(h), and h + SiLU_a-MLP(h) */
            tblock_mlp(Y, &B, h, act_eval_ival, &ca->phi, prec);
            row_t *rm = want_row(o, MCHECK_MLP, b);
            row_t *rs = approx ? want_row(o, MCHECK_MLP_SILU, b) : NULL;
            if (rm || rs)
                apply_on(S, &M, h, prec);
            if (rm) {
                finish_stream(rm, Y, NULL, S, 1);
                if (approx) {
                    mlp_bound(rm, &B, h, ca);
                    set_trivial(rm, Y, NULL, S);
                }
            }
            if (rs) {
                tblock_mlp(Ys, &B, h, act_eval_ival, &ca->silu, prec);
                finish_stream(rs, Ys, NULL, S, 1);
            }
            for (int k = 0; k < 2; k++)
                if ((r = k ? rs : rm)) {
                    row_add_long(r, "heads", aonet_layer_heads(&M));
                    row_add_long(r, "width", S->cols);
                }
            imat_get_mid(h, Y);
        }
        if (model) {
            tblock_attn(ref, &B, ref, pe);
            tblock_mlp(ref, &B, ref, act_eval_ival, &ca->phi, pe);
            if (approx) {
                tblock_attn(refs, &B, refs, pe);
                tblock_mlp(refs, &B, refs, act_eval_ival, &ca->silu, pe);
            }
        }
        if (encoded) {
            /* the encoded network: from the (possibly mutated) conversion */
            aonet_layer_t Am, Mm, E;
            const aonet_layer_t *src[2] = {&A, &M};
            int other = o->enc_convert_mutation != o->mutation;
            if (other) {
                convert_opts_t ce = {.form = o->form, .mutation = o->enc_convert_mutation};
                convert_block_opts(&Am, &Mm, &B, ca, &ce);
                src[0] = &Am;
                src[1] = &Mm;
            }
            for (int k = 0; k < 2; k++) {
                maskenc_bound_add_layer(bound, k ? &M : &A, con, pe);
                maskenc_layer(&E, src[k], N, o->omega, o->enc_mutation, pe);
                aonet_layer_apply(enc, &E, pe);
                aonet_layer_clear(&E);
                aonet_layer_apply(con, k ? &M : &A, pe);
            }
            if (other) {
                aonet_layer_clear(&Am);
                aonet_layer_clear(&Mm);
            }
        } else if (model) {
            aonet_layer_apply(con, &A, pe);
            aonet_layer_apply(con, &M, pe);
        }
        aonet_layer_clear(&A);
        aonet_layer_clear(&M);
        tblock_clear(&B);
        if (o->progress)
            fprintf(stderr, "attncheck: progress: block %ld/%ld (%.0f s)\n", b + 1, last + 1,
                    difftime(time(NULL), t0));
    }
    if (rc == 0 && last == L - 1) {
        aonet_ln_t lnf, lnc;
        rc = tblock_read_ln_final(&lnf, m, err, errsz);
        convert_ln(&lnc, &lnf, d + 2, o->mutation);
        if (rc == 0 && o->sink)
            rc = o->sink->final_ln(o->sink->ctx, &lnc, err, errsz);
        row_t *r = rc == 0 ? want_row(o, MCHECK_MODEL, -1) : NULL;
        row_t *re = rc == 0 && encoded ? want_row(o, MCHECK_ENCODED, -1) : NULL;
        if (r || re || (rc == 0 && model && o->ref_out)) {
            /* the bias token's output features: the final LN of 0 */
            imat_t zero, R;
            imat_init(zero, 1, d);
            imat_init(R, 0, 0);
            aonet_ln_apply(zero, zero, &lnf, pe);
            if (encoded) {
                maskenc_bound_set_final(bound, &lnc, con, pe);
                aonet_ln_t lne;
                convert_ln(&lne, &lnf, d + 2, o->enc_convert_mutation);
                aonet_ln_apply(enc, enc, &lne, pe);
                aonet_ln_clear(&lne);
            }
            aonet_ln_apply(con, con, &lnc, pe);
            aonet_ln_apply(ref, ref, &lnf, pe);
            final_reference(R, ref, zero);
            if (approx)
                aonet_ln_apply(refs, refs, &lnf, pe);
            if (o->ref_out) /* what the network computes exactly: the model, or with SiLU_a */
                final_reference(o->ref_out, approx ? refs : ref, zero);
            /* depth: the maps both streams pass through, the 2L layers and ln_final */
            int depth = (int)(2 * L) + (lnf.kind != AONET_LN_NONE);
            if (r) {
                r->prec = pe;
                if (approx) {
                    finish_stream(r, refs, zero, con, depth);
                    /* the distance to the model itself: measured, no claim */
                    arb_t Eabs;
                    arb_init(Eabs);
                    error_metric(row_add_ival(r, "E vs the model (measured)"), Eabs, R, con, 0,
                                 R->rows, R->cols, pe);
                    arb_clear(Eabs);
                } else {
                    finish_stream(r, ref, zero, con, depth);
                }
                row_add_long(r, "layers", 2 * L);
                row_add_long(r, "heads/block", heads_per_block);
                row_add_long(r, "heads", heads_per_block * L);
                row_add_long(r, "width", con->cols);
            }
            if (re) {
                re->prec = pe;
                finish_encoded(re, R, con, enc, bound, o->omega, heads_per_block * L);
            }
            imat_clear(zero);
            imat_clear(R);
        }
        aonet_ln_clear(&lnf);
        aonet_ln_clear(&lnc);
    }
    maskenc_bound_free(bound);
    imat_clear(h);
    imat_clear(Y);
    imat_clear(Ys);
    imat_clear(S);
    imat_clear(ref);
    imat_clear(refs);
    imat_clear(con);
    imat_clear(enc);
    return rc;
}
