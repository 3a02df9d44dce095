/* A pre-LN transformer block as certified enclosures (tblock.h). */
#include <stdlib.h>
#include "exitcodes.h"
#include "tblock.h"
#include "xalloc.h"

/* Parameter p of the layer into A (rows x cols, row-major as the file's
 * tensor with its leading axes merged), exactly.  A is initialised in any
 * case; after an earlier failure (*rc != 0) nothing is read. */
static void read_param(imat_t A, long rows, long cols, const tmodel_t *m, long layer,
                       tmodel_param_t p, int *rc, char *err, size_t errsz)
{
    imat_init(A, rows, cols);
    if (*rc)
        return;
    uint64_t numel = tmodel_param_numel(m, p);
    if (numel != (uint64_t)rows * (uint64_t)cols) {
        *rc = tensor_fail(err, errsz, EXIT_SOFTWARE, safetensors_source(tmodel_file(m)),
                          "internal: parameter of %llu values read as %ld x %ld",
                          (unsigned long long)numel, rows, cols);
        return;
    }
    double *v = xmallocarray((size_t)(numel ? numel : 1), sizeof *v);
    *rc = tmodel_read(v, m, layer, p, err, errsz);
    for (uint64_t k = 0; *rc == 0 && k < numel; k++)
        arb_set_d(A->e + k, v[k]); /* exact: a double */
    free(v);
}

/* W [H, D, E] (heads first) as D x (H E): column h E + e is W[h, :, e]. */
static void read_heads_in(imat_t A, const tblock_t *B, const tmodel_t *m, long layer,
                          tmodel_param_t p, int *rc, char *err, size_t errsz)
{
    long H = B->n_heads, D = B->d_model, E = B->d_head;
    imat_t raw; /* (H D) x E, the file's order */
    read_param(raw, H * D, E, m, layer, p, rc, err, errsz);
    imat_init(A, D, H * E);
    for (long h = 0; *rc == 0 && h < H; h++)
        for (long d = 0; d < D; d++)
            for (long e = 0; e < E; e++)
                arb_swap(imat_entry(A, d, h * E + e), imat_entry(raw, h * D + d, e));
    imat_clear(raw);
}

static void read_ln(aonet_ln_t *ln, const tmodel_t *m, tmodel_norm_t norm, long layer,
                    tmodel_param_t pw, tmodel_param_t pb, double eps, int *rc, char *err,
                    size_t errsz)
{
    long D = (long)tmodel_config(m)->d_model;
    aonet_ln_init(ln);
    aonet_ln_kind_t kind = norm == TMODEL_NORM_LN       ? AONET_LN_LN
                           : norm == TMODEL_NORM_LNPRE  ? AONET_LN_PRE
                           : norm == TMODEL_NORM_RMS    ? AONET_LN_RMS
                           : norm == TMODEL_NORM_RMSPRE ? AONET_LN_RMSPRE
                                                        : AONET_LN_NONE;
    aonet_ln_set_kind(ln, kind, D);
    arb_set_d(ln->eps, eps);
    if (aonet_ln_has_w(kind)) {
        imat_clear(ln->w);
        read_param(ln->w, 1, D, m, layer, pw, rc, err, errsz);
    }
    if (aonet_ln_has_b(kind)) {
        imat_clear(ln->b);
        read_param(ln->b, 1, D, m, layer, pb, rc, err, errsz);
    }
}

int tblock_read(tblock_t *B, const tmodel_t *m, long layer, char *err, size_t errsz)
{
    const tmodel_config_t *c = tmodel_config(m);
    long D = (long)c->d_model, H = (long)c->n_heads, E = (long)c->d_head, M = (long)c->d_mlp;
    B->layer = layer;
    B->d_model = D;
    B->n_heads = H;
    B->d_head = E;
    B->d_mlp = M;
    B->causal = c->causal;
    B->gated = c->gated_mlp;
    B->parallel = c->parallel_attn_mlp;
    arb_init(B->attn_scale);
    arb_set_d(B->attn_scale, c->attn_scale);
    int rc = 0;
    read_ln(&B->ln1, m, c->normalization, layer, TMODEL_LN1_W, TMODEL_LN1_B, c->eps, &rc, err,
            errsz);
    read_ln(&B->ln2, m, c->normalization, layer, TMODEL_LN2_W, TMODEL_LN2_B, c->eps, &rc, err,
            errsz);
    read_heads_in(B->W_Q, B, m, layer, TMODEL_W_Q, &rc, err, errsz);
    read_heads_in(B->W_K, B, m, layer, TMODEL_W_K, &rc, err, errsz);
    read_heads_in(B->W_V, B, m, layer, TMODEL_W_V, &rc, err, errsz);
    read_param(B->b_Q, 1, H * E, m, layer, TMODEL_B_Q, &rc, err, errsz);
    read_param(B->b_K, 1, H * E, m, layer, TMODEL_B_K, &rc, err, errsz);
    read_param(B->b_V, 1, H * E, m, layer, TMODEL_B_V, &rc, err, errsz);
    read_param(B->W_O, H * E, D, m, layer, TMODEL_W_O, &rc, err, errsz);
    read_param(B->b_O, 1, D, m, layer, TMODEL_B_O, &rc, err, errsz);
    read_param(B->W_in, D, M, m, layer, TMODEL_W_IN, &rc, err, errsz);
    read_param(B->b_in, 1, M, m, layer, TMODEL_B_IN, &rc, err, errsz);
    if (B->gated)
        read_param(B->W_gate, D, M, m, layer, TMODEL_W_GATE, &rc, err, errsz);
    else
        imat_init(B->W_gate, 0, 0);
    read_param(B->W_out, M, D, m, layer, TMODEL_W_OUT, &rc, err, errsz);
    read_param(B->b_out, 1, D, m, layer, TMODEL_B_OUT, &rc, err, errsz);
    return rc; /* every part is initialised: the caller clears the block in any case */
}

void tblock_clear(tblock_t *B)
{
    aonet_ln_clear(&B->ln1);
    aonet_ln_clear(&B->ln2);
    imat_t *mats[] = {&B->W_Q, &B->W_K, &B->W_V, &B->b_Q, &B->b_K, &B->b_V, &B->W_O, &B->b_O,
                      &B->W_in, &B->b_in, &B->W_gate, &B->W_out, &B->b_out};
    for (size_t k = 0; k < sizeof mats / sizeof mats[0]; k++)
        imat_clear(*mats[k]);
    arb_clear(B->attn_scale);
}

int tblock_read_ln_final(aonet_ln_t *ln, const tmodel_t *m, char *err, size_t errsz)
{
    int rc = 0;
    const tmodel_config_t *c = tmodel_config(m);
    read_ln(ln, m, c->final_norm, 0, TMODEL_LN_FINAL_W, TMODEL_LN_FINAL_B, c->eps_final, &rc,
            err, errsz);
    return rc;
}

void imat_add_row_vector(imat_t A, const imat_t b, mpfr_prec_t prec)
{
    for (long i = 0; i < A->rows; i++)
        for (long j = 0; j < A->cols; j++)
            arb_add(imat_entry(A, i, j), imat_entry(A, i, j), imat_entry(b, 0, j), prec);
}

/* H = X + the attention sublayer on X, whose rows are n_seq sequences
 * stacked (rows [seq[s], seq[s + 1]) attend among themselves): one product
 * per weight matrix for all of them.  H may be X. */
static void attn_stacked(imat_t H, const tblock_t *B, const imat_t X, const long *seq, int n_seq,
                         mpfr_prec_t prec)
{
    long N = X->rows, HE = B->n_heads * B->d_head;
    imat_t U, Q, K, V, Z, Y;
    imat_init(U, N, B->d_model);
    imat_init(Q, N, HE);
    imat_init(K, N, HE);
    imat_init(V, N, HE);
    imat_init(Z, N, HE);
    imat_init(Y, N, B->d_model);
    aonet_ln_apply(U, X, &B->ln1, prec);
    imat_mul(Q, U, B->W_Q, prec);
    imat_mul(K, U, B->W_K, prec);
    imat_mul(V, U, B->W_V, prec);
    imat_add_row_vector(Q, B->b_Q, prec);
    imat_add_row_vector(K, B->b_K, prec);
    imat_add_row_vector(V, B->b_V, prec);
    for (int s = 0; s < n_seq; s++) {
        mask_t M;
        aonet_mask_build(&M, B->causal ? AONET_MASK_CAUSAL : AONET_MASK_ALL,
                         seq[s + 1] - seq[s]);
        if (n_seq == 1) {
            aonet_attend(Z, Q, K, V, B->n_heads, B->d_head, B->d_head, 0, B->attn_scale, &M,
                         prec);
        } else {
            imat_t q, k, v, z;
            imat_rows_window_init(q, Q, seq[s], seq[s + 1]);
            imat_rows_window_init(k, K, seq[s], seq[s + 1]);
            imat_rows_window_init(v, V, seq[s], seq[s + 1]);
            imat_rows_window_init(z, Z, seq[s], seq[s + 1]);
            aonet_attend(z, q, k, v, B->n_heads, B->d_head, B->d_head, 0, B->attn_scale, &M,
                         prec);
            imat_window_clear(q);
            imat_window_clear(k);
            imat_window_clear(v);
            imat_window_clear(z);
        }
        mask_clear(&M);
    }
    imat_mul(Y, Z, B->W_O, prec);
    imat_add_row_vector(Y, B->b_O, prec);
    imat_add(H, X, Y, prec);
    imat_clear(U);
    imat_clear(Q);
    imat_clear(K);
    imat_clear(V);
    imat_clear(Z);
    imat_clear(Y);
}

void tblock_attn(imat_t H, const tblock_t *B, const imat_t X, mpfr_prec_t prec)
{
    long seq[2] = {0, X->rows};
    attn_stacked(H, B, X, seq, 1, prec);
}

void tblock_mlp_pre(imat_t Z, imat_t G, const tblock_t *B, const imat_t H, mpfr_prec_t prec)
{
    imat_t U;
    imat_init(U, H->rows, H->cols);
    aonet_ln_apply(U, H, &B->ln2, prec);
    imat_mul(Z, U, B->W_in, prec);
    imat_add_row_vector(Z, B->b_in, prec);
    if (B->gated && G)
        imat_mul(G, U, B->W_gate, prec);
    imat_clear(U);
}

/* O = phi(LN2(H) W_in + b_in) W_out + b_out (or the gated form): the MLP
 * sublayer's output without the residual. */
/* Z = phi(Z), or phi(G) Z when gated (G rows > 0), entrywise. */
static void mlp_act_given(imat_t Z, imat_t G, ival_act_fn phi, const void *ctx, mpfr_prec_t prec)
{
    int gated = G && G->rows > 0;
    for (long k = 0; k < Z->rows * Z->cols; k++) {
        if (gated) {
            phi(G->e + k, G->e + k, ctx, prec);
            arb_mul(Z->e + k, Z->e + k, G->e + k, prec);
        } else {
            phi(Z->e + k, Z->e + k, ctx, prec);
        }
    }
}

static void mlp_delta_given(imat_t O, const tblock_t *B, imat_t Z, imat_t G, ival_act_fn phi,
                            const void *ctx, mpfr_prec_t prec)
{
    mlp_act_given(Z, B->gated ? G : NULL, phi, ctx, prec);
    imat_mul(O, Z, B->W_out, prec);
    imat_add_row_vector(O, B->b_out, prec);
}

static void mlp_delta(imat_t O, const tblock_t *B, const imat_t H, ival_act_fn phi,
                      const void *ctx, mpfr_prec_t prec)
{
    long N = H->rows;
    imat_t Z, G;
    imat_init(Z, N, B->d_mlp);
    imat_init(G, B->gated ? N : 0, B->gated ? B->d_mlp : 0);
    tblock_mlp_pre(Z, G, B, H, prec);
    mlp_delta_given(O, B, Z, G, phi, ctx, prec);
    imat_clear(Z);
    imat_clear(G);
}

void tblock_mlp(imat_t Y, const tblock_t *B, const imat_t H, ival_act_fn phi, const void *ctx,
                mpfr_prec_t prec)
{
    imat_t O;
    imat_init(O, H->rows, B->d_model);
    mlp_delta(O, B, H, phi, ctx, prec);
    imat_add(Y, H, O, prec);
    imat_clear(O);
}

void tblock_mlp_given(imat_t Y, const tblock_t *B, const imat_t H, imat_t Z, imat_t G,
                      ival_act_fn phi, const void *ctx, mpfr_prec_t prec)
{
    imat_t O;
    imat_init(O, H->rows, B->d_model);
    mlp_delta_given(O, B, Z, G, phi, ctx, prec);
    imat_add(Y, H, O, prec);
    imat_clear(O);
}

void tblock_apply(imat_t Y, const tblock_t *B, const imat_t X, ival_act_fn phi, const void *ctx,
                  mpfr_prec_t prec)
{
    if (!B->parallel) {
        tblock_attn(Y, B, X, prec);
        tblock_mlp(Y, B, Y, phi, ctx, prec);
        return;
    }
    /* the MLP reads X before Y (which may be X) is overwritten */
    imat_t O;
    imat_init(O, X->rows, B->d_model);
    mlp_delta(O, B, X, phi, ctx, prec);
    tblock_attn(Y, B, X, prec);
    imat_add(Y, Y, O, prec);
    imat_clear(O);
}

/* A1 = rows [0, n1) of A, A2 the others (views). */
static void halves(imat_t A1, imat_t A2, const imat_t A, long n1)
{
    imat_rows_window_init(A1, A, 0, n1);
    imat_rows_window_init(A2, A, n1, A->rows);
}

static void halves_clear(imat_t A1, imat_t A2)
{
    imat_window_clear(A1);
    imat_window_clear(A2);
}

void tblock_apply_pair(imat_t Y1, imat_t Y2, const tblock_t *B, const imat_t X1, const imat_t X2,
                       ival_act_fn phi1, const void *ctx1, ival_act_fn phi2, const void *ctx2,
                       mpfr_prec_t prec)
{
    if (B->parallel) { /* the pair is for sequential blocks */
        if (Y1 != X1)
            imat_reinit(Y1, X1->rows, X1->cols);
        if (Y2 != X2)
            imat_reinit(Y2, X2->rows, X2->cols);
        tblock_apply(Y1, B, X1, phi1, ctx1, prec);
        tblock_apply(Y2, B, X2, phi2, ctx2, prec);
        return;
    }
    long n1 = X1->rows, N = n1 + X2->rows;
    imat_t X, Y, a, b, c, d, e, f;
    imat_init(X, N, B->d_model);
    imat_set_block(X, 0, 0, X1);
    imat_set_block(X, n1, 0, X2);
    long seq[3] = {0, n1, N};
    attn_stacked(X, B, X, seq, 2, prec); /* H = X + Attn, each half its own sequence */
    imat_init(Y, N, B->d_model);
    /* the MLP sublayer, as tblock_mlp */
    imat_t P, G;
    imat_init(P, N, B->d_mlp);
    imat_init(G, B->gated ? N : 0, B->gated ? B->d_mlp : 0);
    tblock_mlp_pre(P, G, B, X, prec);
    halves(a, b, P, n1);
    if (B->gated) {
        halves(c, d, G, n1);
        mlp_act_given(a, c, phi1, ctx1, prec);
        mlp_act_given(b, d, phi2, ctx2, prec);
        halves_clear(c, d);
    } else {
        imat_init(c, 0, 0);
        mlp_act_given(a, c, phi1, ctx1, prec);
        mlp_act_given(b, c, phi2, ctx2, prec);
        imat_clear(c);
    }
    halves_clear(a, b);
    imat_mul(Y, P, B->W_out, prec);
    imat_add_row_vector(Y, B->b_out, prec);
    imat_add(X, X, Y, prec);
    halves(e, f, X, n1);
    imat_reinit(Y1, n1, B->d_model);
    imat_set(Y1, e);
    imat_reinit(Y2, N - n1, B->d_model);
    imat_set(Y2, f);
    halves_clear(e, f);
    imat_clear(P);
    imat_clear(G);
    imat_clear(Y);
    imat_clear(X);
}
