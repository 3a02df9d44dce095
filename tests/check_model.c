/* The attention-only conversion of real-model-shaped transformers: the
 * pieces against a plain-MPFR oracle at +100 bits (LayerNorm, the pre-LN
 * block), the conversion exact for every exact activation, LN kind and
 * attention direction on random models, every mutation violated, the
 * approximated activations within their bound, SwiGLU refused, the
 * encoded masks within their derived bound, and the export read back. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>
#include "aonet_export.h"
#include "fpnet.h"
#include "exitcodes.h"
#include "maskenc.h"
#include "model_claim.h"
#include "modelcheck.h"
#include "oracle.h"
#include "runner.h"
#include "safetensors.h"
#include "shard.h"
#include "modelio_testutil.h"

static char tmpdir[256];
static void setup(void) { test_tmpdir_make(tmpdir, sizeof tmpdir, "attncheck-model"); }
static void teardown(void) { test_tmpdir_remove(tmpdir); }

/* ------------------------------------------------------------ random models */

typedef struct {
    const char *act, *norm;
    int causal, gated;
    int final_rms; /* TransformerLens's final_rms: ln_final RMS(Pre) under LN(Pre) */
    int parallel;  /* parallel_attn_mlp */
} mspec_t;

enum { MD = 6, MH = 2, ME = 3, ML = 5, MLAYERS = 2, MTOK = 4 };

/* Dyadic values k/2^6, |k| <= 64, scaled by 2^-scale: exact everywhere. */
static void fill(double *v, size_t n, gmp_randstate_t st, int scale, double shift)
{
    for (size_t i = 0; i < n; i++)
        v[i] = shift + ldexp((double)((long)gmp_urandomm_ui(st, 129) - 64), -6 - scale);
}

/* A random model in TransformerLens layout (F64) at path, with an
 * unembedding of vocab tokens (0: none). */
static void write_model_vocab(const char *path, const mspec_t *s, unsigned long seed, int vocab)
{
    static const struct {
        const char *suffix;
        int ndim, dims[3], ln, gate, scale;
        double shift;
    } lay[] = {
        {"ln1.w", 1, {MD}, 1, 0, 3, 1}, {"ln1.b", 1, {MD}, 1, 0, 2, 0},
        {"ln2.w", 1, {MD}, 1, 0, 3, 1}, {"ln2.b", 1, {MD}, 1, 0, 2, 0},
        {"attn.W_Q", 3, {MH, MD, ME}, 0, 0, 1, 0}, {"attn.W_K", 3, {MH, MD, ME}, 0, 0, 1, 0},
        {"attn.W_V", 3, {MH, MD, ME}, 0, 0, 1, 0}, {"attn.b_Q", 2, {MH, ME}, 0, 0, 2, 0},
        {"attn.b_K", 2, {MH, ME}, 0, 0, 2, 0},     {"attn.b_V", 2, {MH, ME}, 0, 0, 2, 0},
        {"attn.W_O", 3, {MH, ME, MD}, 0, 0, 1, 0}, {"attn.b_O", 1, {MD}, 0, 0, 2, 0},
        {"mlp.W_in", 2, {MD, ML}, 0, 0, 1, 0},     {"mlp.b_in", 1, {ML}, 0, 0, 2, 0},
        {"mlp.W_gate", 2, {MD, ML}, 0, 1, 1, 0},   {"mlp.W_out", 2, {ML, MD}, 0, 0, 1, 0},
        {"mlp.b_out", 1, {MD}, 0, 0, 2, 0},
    };
    enum { NL = sizeof lay / sizeof lay[0], MAXT = MLAYERS * NL + 4 };
    safetensors_entry_t t[MAXT];
    char names[MAXT][48];
    uint64_t shapes[MAXT][3];
    double *data[MAXT];
    size_t n = 0;
    /* ln.w under LN and RMS, ln.b under LN only; ln_final's kind may differ */
    int lnw = strcmp(s->norm, "LN") == 0 || strcmp(s->norm, "RMS") == 0;
    int lnb = strcmp(s->norm, "LN") == 0;
    int finalw = lnw, finalb = lnb && !s->final_rms;
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, seed);
    for (int l = 0; l < MLAYERS; l++)
        for (int k = 0; k < NL; k++) {
            if ((lay[k].ln && !(lay[k].suffix[4] == 'w' ? lnw : lnb)) ||
                (lay[k].gate && !s->gated))
                continue;
            snprintf(names[n], sizeof names[n], "blocks.%d.%s", l, lay[k].suffix);
            size_t numel = 1;
            for (int i = 0; i < lay[k].ndim; i++)
                numel *= (size_t)(shapes[n][i] = (uint64_t)lay[k].dims[i]);
            data[n] = malloc(numel * sizeof(double));
            fill(data[n], numel, st, lay[k].scale, lay[k].shift);
            t[n] = (safetensors_entry_t){names[n], (size_t)lay[k].ndim, shapes[n], data[n]};
            n++;
        }
    for (int k = 0; k < 2; k++) {
        if (!(k ? finalb : finalw))
            continue;
        snprintf(names[n], sizeof names[n], "ln_final.%s", k ? "b" : "w");
        shapes[n][0] = MD;
        data[n] = malloc(MD * sizeof(double));
        fill(data[n], MD, st, k ? 2 : 3, k ? 0 : 1);
        t[n] = (safetensors_entry_t){names[n], 1, shapes[n], data[n]};
        n++;
    }
    for (int k = 0; vocab && k < 2; k++) {
        snprintf(names[n], sizeof names[n], "unembed.%s", k ? "b_U" : "W_U");
        shapes[n][0] = k ? (uint64_t)vocab : MD;
        shapes[n][1] = (uint64_t)vocab;
        size_t numel = k ? (size_t)vocab : (size_t)(MD * vocab);
        data[n] = malloc(numel * sizeof(double));
        fill(data[n], numel, st, k ? 2 : 0, 0);
        t[n] = (safetensors_entry_t){names[n], k ? 1u : 2u, shapes[n], data[n]};
        n++;
    }
    gmp_randclear(st);
    char config[600];
    snprintf(config, sizeof config,
             "{\"d_model\": %d, \"n_layers\": %d, \"n_heads\": %d, \"d_head\": %d, \"d_mlp\": %d, "
             "\"act_fn\": \"%s\", \"normalization_type\": \"%s\", \"eps\": 0.0000076293945312, "
             "\"eps_final\": 0.00000095367431640625, \"attn_scale\": 1.5, "
             "\"attention_dir\": \"%s\", \"final_rms\": %s, \"parallel_attn_mlp\": %s}",
             MD, MLAYERS, MH, ME, ML, s->act, s->norm, s->causal ? "causal" : "bidirectional",
             s->final_rms ? "true" : "false", s->parallel ? "true" : "false");
    const char *mk[] = {"config"}, *mv[] = {config};
    char err[300];
    ck_assert_msg(safetensors_write_f64(path, t, n, mk, mv, 1, err, sizeof err) == 0, "%s", err);
    for (size_t k = 0; k < n; k++)
        free(data[k]);
}

static void write_model(const char *path, const mspec_t *s, unsigned long seed)
{
    write_model_vocab(path, s, seed, 0);
}

static void tokens(imat_t X, unsigned long seed)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, seed + 77);
    imat_init(X, MTOK, MD);
    imat_randtest_dyadic(X, st, 5);
    for (long k = 0; k < X->rows * X->cols; k++)
        arb_mul_2exp_si(X->e + k, X->e + k, 1); /* in [-2, 2], exact */
    gmp_randclear(st);
}

/* ------------------------------------------------------------ rows of a run */

typedef struct {
    row_t rows[3 * MLAYERS + 2];
    long n;
    mpfr_prec_t prec;
} rows_t;

static row_t *next_row(void *ctx, mcheck_t kind, long block)
{
    rows_t *b = ctx;
    ck_assert_int_lt(b->n, (long)(sizeof b->rows / sizeof b->rows[0]));
    row_t *r = b->rows + b->n++;
    memset(r, 0, sizeof *r);
    r->params.n = 2;
    r->params.name[0] = "check";
    r->params.value[0] = mcheck_name(kind);
    r->params.name[1] = "block";
    r->params.value[1] = block == 0 ? "0" : block == 1 ? "1" : "all";
    row_start(r, b->prec);
    return r;
}

static void rows_clear(rows_t *b)
{
    for (long k = 0; k < b->n; k++)
        row_clear(b->rows + k);
    b->n = 0;
}

/* Run every check of the model at path on random tokens; 0 or the exit code. */
static int run_model_form(rows_t *rows, const char *path, mpfr_prec_t prec, int mutation,
                          const char *act_a, unsigned long seed, const arb_struct *omega,
                          int enc_mutation, convert_form_t form)
{
    tmodel_t *m;
    char err[600];
    int rc = tmodel_open(&m, path, err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
    convert_act_t ca;
    rc = convert_act_init(&ca, tmodel_config(m), act_a, err, sizeof err, prec);
    if (rc) {
        tmodel_close(m);
        return rc;
    }
    imat_t X;
    tokens(X, seed);
    rows->n = 0;
    rows->prec = prec;
    mcheck_opts_t o = {.prec = prec, .e2e_prec = prec + 40, .mutation = mutation,
                       .form = form, .act = &ca,
                       .checks = MCHECK_BIT(MCHECK_ATTN) | MCHECK_BIT(MCHECK_MLP) |
                                 MCHECK_BIT(MCHECK_MLP_SILU) | MCHECK_BIT(MCHECK_MODEL) |
                                 MCHECK_BIT(MCHECK_BLOCK) | MCHECK_BIT(MCHECK_BLOCK_SILU) |
                                 (omega ? MCHECK_BIT(MCHECK_ENCODED) : 0),
                       .block = -1, .row = next_row, .row_ctx = rows, .omega = omega,
                       .enc_mutation = enc_mutation};
    rc = mcheck_run(m, X, &o, err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
    for (long k = 0; k < rows->n; k++)
        runner_judge_row(rows->rows + k, KIND_INEQUALITY);
    imat_clear(X);
    convert_act_clear(&ca);
    tmodel_close(m);
    return 0;
}

/* The same in the default (float-robust) form. */
static int run_model(rows_t *rows, const char *path, mpfr_prec_t prec, int mutation,
                     const char *act_a, unsigned long seed, const arb_struct *omega,
                     int enc_mutation)
{
    return run_model_form(rows, path, prec, mutation, act_a, seed, omega, enc_mutation,
                          CONVERT_FORM_DEFAULT);
}

static const row_t *find_row(const rows_t *b, const char *check, const char *block)
{
    for (long k = 0; k < b->n; k++)
        if (strcmp(b->rows[k].params.value[0], check) == 0 &&
            strcmp(b->rows[k].params.value[1], block) == 0)
            return b->rows + k;
    return NULL;
}

/* Block 0 of the model at path, read and converted (clear with converted_clear). */
typedef struct {
    tmodel_t *m;
    convert_act_t ca;
    tblock_t B;
    aonet_layer_t A, M;
} converted_t;

static void converted_open_form(converted_t *c, const char *path, convert_form_t form)
{
    char err[600];
    ck_assert_msg(tmodel_open(&c->m, path, err, sizeof err) == 0, "%s", err);
    ck_assert(convert_act_init(&c->ca, tmodel_config(c->m), NULL, err, sizeof err, 64) == 0);
    ck_assert(tblock_read(&c->B, c->m, 0, err, sizeof err) == 0);
    convert_opts_t o = {.form = form, .mutation = 0};
    convert_block_opts(&c->A, &c->M, &c->B, &c->ca, &o);
}

static void converted_open(converted_t *c, const char *path)
{
    converted_open_form(c, path, CONVERT_FORM_DEFAULT);
}

static void converted_clear(converted_t *c)
{
    aonet_layer_clear(&c->A);
    aonet_layer_clear(&c->M);
    tblock_clear(&c->B);
    convert_act_clear(&c->ca);
    tmodel_close(c->m);
}

/* ------------------------------------------------------------------ oracle */

/* LN of each row's first d columns, plain MPFR (kind as aonet_ln_t). */
static void oracle_ln(fmat_t *Y, const fmat_t *X, const aonet_ln_t *ln, mpfr_prec_t prec)
{
    mpfr_t mean, var, t;
    mpfr_inits2(prec, mean, var, t, (mpfr_ptr)0);
    for (long i = 0; i < X->rows; i++) {
        for (long j = 0; j < X->cols; j++)
            mpfr_set(fmat_entry(Y, i, j), fmat_entry(X, i, j), MPFR_RNDN);
        if (ln->kind == AONET_LN_NONE)
            continue;
        mpfr_set_ui(mean, 0, MPFR_RNDN); /* RMS kinds: not centred */
        for (long j = 0; j < ln->d && aonet_ln_centres(ln->kind); j++)
            mpfr_add(mean, mean, fmat_entry(X, i, j), MPFR_RNDN);
        mpfr_div_si(mean, mean, ln->d, MPFR_RNDN);
        mpfr_set_ui(var, 0, MPFR_RNDN);
        for (long j = 0; j < ln->d; j++) {
            mpfr_sub(t, fmat_entry(X, i, j), mean, MPFR_RNDN);
            mpfr_fma(var, t, t, var, MPFR_RNDN);
        }
        mpfr_div_si(var, var, ln->d, MPFR_RNDN);
        arf_get_mpfr(t, arb_midref(ln->eps), MPFR_RNDN);
        mpfr_add(var, var, t, MPFR_RNDN);
        mpfr_rec_sqrt(var, var, MPFR_RNDN);
        for (long j = 0; j < ln->d; j++) {
            mpfr_sub(t, fmat_entry(X, i, j), mean, MPFR_RNDN);
            mpfr_mul(t, t, var, MPFR_RNDN);
            mpfr_t w;
            mpfr_init2(w, prec);
            if (aonet_ln_has_w(ln->kind)) {
                arf_get_mpfr(w, arb_midref(imat_entry(ln->w, 0, j)), MPFR_RNDN);
                mpfr_mul(t, t, w, MPFR_RNDN);
            }
            if (aonet_ln_has_b(ln->kind)) {
                arf_get_mpfr(w, arb_midref(imat_entry(ln->b, 0, j)), MPFR_RNDN);
                mpfr_add(t, t, w, MPFR_RNDN);
            }
            mpfr_clear(w);
            mpfr_set(fmat_entry(Y, i, j), t, MPFR_RNDN);
        }
    }
    mpfr_clears(mean, var, t, (mpfr_ptr)0);
}

static void fmat_of(fmat_t *A, const imat_t B, mpfr_prec_t prec)
{
    fmat_init(A, B->rows, B->cols, prec);
    fmat_from_imat(A, B);
}

/* A + the 1 x c row b, in place. */
static void fmat_add_row(fmat_t *A, const imat_t b)
{
    mpfr_t t;
    mpfr_init2(t, mpfr_get_prec(A->e[0]));
    for (long i = 0; i < A->rows; i++)
        for (long j = 0; j < A->cols; j++) {
            arf_get_mpfr(t, arb_midref(imat_entry(b, 0, j)), MPFR_RNDN);
            mpfr_add(fmat_entry(A, i, j), fmat_entry(A, i, j), t, MPFR_RNDN);
        }
    mpfr_clear(t);
}

/* The block in plain MPFR: Y = x + attention, then + MLP (act silu). */
static void oracle_block(fmat_t *Y, const tblock_t *B, const fmat_t *X, mpfr_prec_t prec)
{
    long N = X->rows, d = B->d_model, HE = B->n_heads * B->d_head, E = B->d_head;
    fmat_t U, Q, K, V, W, Z, O, Hm, S, A;
    fmat_init(&U, N, d, prec);
    oracle_ln(&U, X, &B->ln1, prec);
    fmat_t *proj[3] = {&Q, &K, &V};
    const imat_struct *w[3] = {B->W_Q, B->W_K, B->W_V}, *bias[3] = {B->b_Q, B->b_K, B->b_V};
    for (int k = 0; k < 3; k++) {
        fmat_init(proj[k], N, HE, prec);
        fmat_of(&W, w[k], prec);
        fmat_mul(proj[k], &U, &W);
        fmat_add_row(proj[k], bias[k]);
        fmat_clear(&W);
    }
    fmat_init(&Z, N, HE, prec);
    fmat_init(&S, N, N, prec);
    fmat_init(&A, N, N, prec);
    mask_t M;
    aonet_mask_build(&M, B->causal ? AONET_MASK_CAUSAL : AONET_MASK_ALL, N);
    mpfr_t t, sc;
    mpfr_inits2(prec, t, sc, (mpfr_ptr)0);
    arf_get_mpfr(sc, arb_midref(B->attn_scale), MPFR_RNDN);
    for (long h = 0; h < B->n_heads; h++) {
        for (long i = 0; i < N; i++)
            for (long j = 0; j < N; j++) {
                mpfr_set_ui(fmat_entry(&S, i, j), 0, MPFR_RNDN);
                for (long e = 0; e < E; e++)
                    mpfr_fma(fmat_entry(&S, i, j), fmat_entry(&Q, i, h * E + e),
                             fmat_entry(&K, j, h * E + e), fmat_entry(&S, i, j), MPFR_RNDN);
                mpfr_div(fmat_entry(&S, i, j), fmat_entry(&S, i, j), sc, MPFR_RNDN);
            }
        oracle_softmax(&A, &S, &M, prec);
        for (long i = 0; i < N; i++)
            for (long e = 0; e < E; e++)
                for (long j = 0; j < N; j++)
                    mpfr_fma(fmat_entry(&Z, i, h * E + e), fmat_entry(&A, i, j),
                             fmat_entry(&V, j, h * E + e), fmat_entry(&Z, i, h * E + e),
                             MPFR_RNDN);
    }
    fmat_init(&O, N, d, prec);
    fmat_of(&W, B->W_O, prec);
    fmat_mul(&O, &Z, &W);
    fmat_clear(&W);
    fmat_add_row(&O, B->b_O);
    fmat_init(&Hm, N, d, prec);
    for (long k = 0; k < N * d; k++)
        mpfr_add(Hm.e[k], X->e[k], O.e[k], MPFR_RNDN);
    /* MLP, silu */
    fmat_t U2, P, R;
    fmat_init(&U2, N, d, prec);
    oracle_ln(&U2, B->parallel ? X : &Hm, &B->ln2, prec); /* parallel: the MLP reads x */
    fmat_init(&P, N, B->d_mlp, prec);
    fmat_of(&W, B->W_in, prec);
    fmat_mul(&P, &U2, &W);
    fmat_clear(&W);
    fmat_add_row(&P, B->b_in);
    mpfr_t one;
    mpfr_init2(one, prec);
    mpfr_set_ui(one, 1, MPFR_RNDN);
    for (long k = 0; k < N * B->d_mlp; k++)
        oracle_silu(P.e[k], P.e[k], one);
    fmat_init(&R, N, d, prec);
    fmat_of(&W, B->W_out, prec);
    fmat_mul(&R, &P, &W);
    fmat_clear(&W);
    fmat_add_row(&R, B->b_out);
    for (long k = 0; k < N * d; k++)
        mpfr_add(Y->e[k], Hm.e[k], R.e[k], MPFR_RNDN);
    mpfr_clears(t, sc, one, (mpfr_ptr)0);
    mask_clear(&M);
    fmat_t *all[] = {&U, &Q, &K, &V, &Z, &O, &Hm, &S, &A, &U2, &P, &R};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        fmat_clear(all[k]);
}

/* ------------------------------------------------------------------- tests */

/* LN of exact rows and of ball rows (mean value form) encloses the MPFR
 * oracle at +100 bits, at random precisions, for every kind. */
START_TEST(test_ln_oracle)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + 300 + (unsigned long)_i);
    mpfr_prec_t p = test_random_prec(st, 30, 400);
    aonet_ln_t ln;
    aonet_ln_init(&ln);
    aonet_ln_set_kind(&ln, (aonet_ln_kind_t)(_i % 5), 7); /* none, LN, LNPre, RMS, RMSPre */
    arb_set_d(ln.eps, ldexp(1, -17 - _i));
    if (aonet_ln_has_w(ln.kind))
        imat_randtest_dyadic(ln.w, st, 6);
    if (aonet_ln_has_b(ln.kind))
        imat_randtest_dyadic(ln.b, st, 6);
    imat_t X, Y, Xb;
    imat_init(X, 5, 9); /* 7 features, 2 more columns passed through */
    imat_init(Y, 5, 9);
    imat_init(Xb, 5, 9);
    imat_randtest_dyadic(X, st, 8);
    for (long j = 0; j < 9; j++) /* a row of zero features: the bias token's */
        arb_zero(imat_entry(X, 0, j));
    fmat_t F, G;
    fmat_of(&F, X, p + 100);
    fmat_init(&G, 5, 9, p + 100);
    oracle_ln(&G, &F, &ln, p + 100);
    aonet_ln_apply(Y, X, &ln, p);
    ck_assert_msg(fmat_inside(&G, Y), "LN (exact rows) misses the oracle at prec %ld", (long)p);
    /* ball rows: each entry widened; the oracle at the midpoints, and at a
     * point off the midpoint inside the ball, must both be enclosed */
    imat_set(Xb, X);
    for (long k = 0; k < Xb->rows * Xb->cols; k++)
        arb_add_error_2exp_si(Xb->e + k, -20);
    aonet_ln_apply(Y, Xb, &ln, p);
    ck_assert_msg(fmat_inside(&G, Y), "LN (ball rows) misses the oracle at prec %ld", (long)p);
    for (long k = 0; k < F.rows * F.cols; k++)
        mpfr_add_d(F.e[k], F.e[k], (double)(k % 3 - 1) * ldexp(1, -21), MPFR_RNDN);
    oracle_ln(&G, &F, &ln, p + 100);
    ck_assert_msg(fmat_inside(&G, Y), "LN (ball rows) misses a point of the ball at prec %ld",
                  (long)p);
    fmat_clear(&F);
    fmat_clear(&G);
    imat_clear(X);
    imat_clear(Y);
    imat_clear(Xb);
    aonet_ln_clear(&ln);
    gmp_randclear(st);
}
END_TEST

/* The pre-LN block (tblock) encloses the MPFR oracle at +100 bits. */
START_TEST(test_tblock_oracle)
{
    char path[400];
    snprintf(path, sizeof path, "%s/m.safetensors", tmpdir);
    static const char *const norms[] = {"none", "LN", "RMS"};
    mspec_t s = {"silu", norms[_i % 3], _i / 3 % 2, 0, 0, _i >= 6};
    write_model(path, &s, test_seed() + (unsigned long)_i);
    tmodel_t *m;
    char err[600];
    ck_assert_msg(tmodel_open(&m, path, err, sizeof err) == 0, "%s", err);
    tblock_t B;
    ck_assert_msg(tblock_read(&B, m, 1, err, sizeof err) == 0, "%s", err);
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + 400 + (unsigned long)_i);
    mpfr_prec_t p = test_random_prec(st, 40, 300);
    gmp_randclear(st);
    imat_t X, H, Y;
    tokens(X, test_seed() + (unsigned long)_i);
    imat_init(H, X->rows, X->cols);
    imat_init(Y, X->rows, X->cols);
    arb_t one;
    arb_init(one);
    arb_one(one);
    if (s.parallel) {
        ck_assert(B.parallel);
        tblock_apply(Y, &B, X, ival_silu_a, one, p);
    } else {
        tblock_attn(H, &B, X, p);
        tblock_mlp(Y, &B, H, ival_silu_a, one, p);
    }
    fmat_t F, G;
    fmat_of(&F, X, p + 100);
    fmat_init(&G, X->rows, X->cols, p + 100);
    oracle_block(&G, &B, &F, p + 100);
    ck_assert_msg(fmat_inside(&G, Y), "the %s block misses the oracle (%s, %s, prec %ld)",
                  s.parallel ? "parallel" : "sequential", s.norm,
                  s.causal ? "causal" : "bidirectional", (long)p);
    if (s.parallel) {
        /* a second computation: the two sublayers each on x, added:
         * Attn(x) + MLP(x) = (x + Attn) + (x + MLP) - x */
        imat_t M2, Y2;
        imat_init(M2, X->rows, X->cols);
        imat_init(Y2, X->rows, X->cols);
        tblock_attn(H, &B, X, p);
        tblock_mlp(M2, &B, X, ival_silu_a, one, p);
        imat_add(Y2, H, M2, p);
        for (long k = 0; k < Y2->rows * Y2->cols; k++)
            arb_sub(Y2->e + k, Y2->e + k, X->e + k, p);
        for (long k = 0; k < Y->rows * Y->cols; k++)
            ck_assert_msg(arb_overlaps(Y->e + k, Y2->e + k), "entry %ld: the parallel block "
                          "differs from its sublayers added", k);
        /* the broken twin: the same block run sequentially is outside the oracle */
        B.parallel = 0;
        tblock_apply(Y2, &B, X, ival_silu_a, one, p);
        ck_assert_msg(!fmat_inside(&G, Y2), "the sequential block meets the parallel oracle");
        imat_clear(M2);
        imat_clear(Y2);
    }
    fmat_clear(&F);
    fmat_clear(&G);
    arb_clear(one);
    imat_clear(X);
    imat_clear(H);
    imat_clear(Y);
    tblock_clear(&B);
    tmodel_close(m);
}
END_TEST

/* Every exact activation, LN kind and direction: every row holds, and the
 * converted network is exact (every weight a point). */
static const mspec_t exact_specs[] = {
    {"silu", "LN", 1, 0, 0, 0},   {"silu", "LN", 0, 0, 0, 0},   {"silu", "LNPre", 1, 0, 0, 0},
    {"silu", "none", 0, 0, 0, 0}, {"sigmoid", "LN", 1, 0, 0, 0}, {"sigmoid", "none", 0, 0, 0, 0},
    {"sigmoid", "LN", 0, 1, 0, 0}, {"sigmoid", "LNPre", 1, 1, 0, 0},
    /* RMSNorm: no centring, no b (the bias token's RMS(0) = 0), and final_rms */
    {"silu", "RMS", 1, 0, 0, 0}, {"silu", "RMSPre", 0, 0, 0, 0}, {"sigmoid", "RMS", 0, 1, 0, 0},
    {"silu", "LN", 1, 0, 1, 0}, {"silu", "LNPre", 0, 0, 1, 0},
};

#define N_EXACT_SPECS (int)(sizeof exact_specs / sizeof exact_specs[0])

/* Write spec s to path (weights from salt) and run every check in form at a random
 * precision in [53, pmax] (drawn from salt + 440; rows->prec); 0 or the exit code. */
static int run_spec_random_prec(rows_t *rows, const char *path, const mspec_t *s,
                                unsigned long salt, unsigned long token_seed, mpfr_prec_t pmax,
                                convert_form_t form)
{
    write_model(path, s, test_seed() + salt);
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + 440 + salt);
    mpfr_prec_t p = test_random_prec(st, 53, pmax);
    gmp_randclear(st);
    return run_model_form(rows, path, p, 0, NULL, token_seed, NULL, 0, form);
}

/* _i: the spec (_i mod N_EXACT_SPECS) in each form (_i / N_EXACT_SPECS). */
START_TEST(test_convert_exact)
{
    const mspec_t *s = exact_specs + _i % N_EXACT_SPECS;
    convert_form_t form = (convert_form_t)(_i / N_EXACT_SPECS);
    char path[400];
    snprintf(path, sizeof path, "%s/m.safetensors", tmpdir);
    rows_t rows;
    ck_assert_int_eq(run_spec_random_prec(&rows, path, s, 10 + (unsigned long)_i,
                                          test_seed() + (unsigned long)_i, 500, form), 0);
    ck_assert_int_eq(rows.n, 2 * MLAYERS + 1);
    for (long k = 0; k < rows.n; k++) {
        const row_t *r = rows.rows + k;
        ck_assert_msg(r->verdict == VERDICT_HOLDS && r->exact_identity,
                      "%s %s, %s%s, %s: %s block %s is %s (prec %ld)", s->act, s->norm,
                      s->causal ? "causal" : "bidirectional", s->gated ? ", gated" : "",
                      convert_form_name[form], r->params.value[0], r->params.value[1],
                      verdict_name(r->verdict), (long)rows.prec);
    }
    rows_clear(&rows);
    /* the network itself is exact */
    converted_t c;
    converted_open_form(&c, path, form);
    ck_assert(aonet_layer_is_exact(&c.A) && aonet_layer_is_exact(&c.M));
    ck_assert_int_eq(aonet_layer_heads(&c.A) + aonet_layer_heads(&c.M), MH + ML + 1);
    converted_clear(&c);
}
END_TEST

/* Every mutation is violated by the rows it breaks (and by the model row). */
static const struct {
    int mutation;
    const char *broken[3]; /* checks that must come out violated */
} mutants[] = {
    {CONVERT_MUT_DROP_B_IN, {"mlp", "model", NULL}},
    {CONVERT_MUT_LN_CF, {"attn", "mlp", "model"}},
    {CONVERT_MUT_BIAS_VISIBLE, {"attn", "model", NULL}},
    {CONVERT_MUT_NO_F_ROW, {"attn", "mlp", "model"}},
    {CONVERT_MUT_DROP_B_OUT, {"mlp", "model", NULL}},
};

/* _i in [0, 40): the case _i mod 20 in each form (_i / 20). */
START_TEST(test_convert_mutations)
{
    convert_form_t form = (convert_form_t)(_i / 20);
    _i %= 20;
    int m = mutants[_i % 5].mutation;
    /* 0-14: LN (silu, sigmoid, GLU); 15-19: RMS, silu */
    mspec_t s = {_i < 5 || _i >= 15 ? "silu" : "sigmoid", _i >= 15 ? "RMS" : "LN", _i % 2,
                 _i >= 10 && _i < 15, 0, 0};
    char path[400];
    snprintf(path, sizeof path, "%s/m.safetensors", tmpdir);
    write_model(path, &s, test_seed() + 20 + (unsigned long)_i);
    rows_t rows;
    ck_assert_int_eq(run_model_form(&rows, path, 128, m, NULL, test_seed(), NULL, 0, form), 0);
    for (int c = 0; c < 3 && mutants[_i % 5].broken[c]; c++) {
        const char *check = mutants[_i % 5].broken[c];
        /* a sigmoid neuron's value is c - f: its f row is not needed there */
        if (m == CONVERT_MUT_NO_F_ROW && !s.gated && !strcmp(s.act, "sigmoid") &&
            !strcmp(check, "mlp"))
            continue;
        const row_t *r = find_row(&rows, check, strcmp(check, "model") ? "1" : "all");
        ck_assert_ptr_nonnull(r);
        ck_assert_msg(r->verdict == VERDICT_VIOLATED && arb_is_positive(r->error),
                      "mutation %s (%s, %s, %s): %s is %s", convert_mutation[m][0], s.act,
                      s.gated ? "gated" : "plain", convert_form_name[form], check,
                      verdict_name(r->verdict));
    }
    rows_clear(&rows);
}
END_TEST

/* gelu, gelu_new, gelu_fast, relu: the MLP rows hold against the certified
 * bound and the error is real (lo(E) > 0); the conversion is exact for the
 * model with SiLU_a; the default a is gelu-approx's (computed). */
static const char *const approx_acts[] = {"gelu", "gelu_new", "gelu_fast", "relu"};

/* _i in [0, 8): the activation _i mod 4 in each form (_i / 4). */
START_TEST(test_convert_approx)
{
    convert_form_t form = (convert_form_t)(_i / 4);
    _i %= 4;
    mspec_t s = {approx_acts[_i], "LN", 1, 0, 0, 0};
    char path[400];
    snprintf(path, sizeof path, "%s/m.safetensors", tmpdir);
    write_model(path, &s, test_seed() + 30 + (unsigned long)_i);
    rows_t rows;
    ck_assert_int_eq(run_model_form(&rows, path, 128, 0, NULL, test_seed(), NULL, 0, form), 0);
    ck_assert_int_eq(rows.n, 3 * MLAYERS + 1);
    for (long k = 0; k < rows.n; k++) {
        const row_t *r = rows.rows + k;
        ck_assert_msg(r->verdict == VERDICT_HOLDS, "%s, %s: %s block %s is %s", s.act,
                      convert_form_name[form], r->params.value[0], r->params.value[1],
                      verdict_name(r->verdict));
        if (strcmp(r->params.value[0], "mlp") == 0) {
            ck_assert(r->has_bound && !r->exact_identity);
            ck_assert_msg(arb_is_positive(r->error), "%s: the approximation error vanished",
                          s.act);
            ck_assert(row_find_column(r, "sup gap G") && row_find_column(r, "max |z|"));
        } else {
            ck_assert(r->exact_identity);
        }
    }
    const row_t *mr = find_row(&rows, "model", "all");
    ck_assert(mr && row_find_column(mr, "E vs the model (measured)"));
    rows_clear(&rows);
    /* --act-a changes a; on an exact model it is refused */
    ck_assert_int_eq(run_model(&rows, path, 128, 0, "2", test_seed(), NULL, 0), 0);
    rows_clear(&rows);
    mspec_t e = {"silu", "LN", 1, 0, 0, 0};
    write_model(path, &e, 1);
    ck_assert_int_eq(run_model(&rows, path, 128, 0, "2", test_seed(), NULL, 0), EXIT_DATAERR);
}
END_TEST

/* tblock_apply_pair gives each stream the same bits as tblock_apply alone
 * (the model and its SiLU_a twin, different tokens), in place too, for
 * causal and not, gated, RMS and parallel blocks. */
START_TEST(test_apply_pair)
{
    static const mspec_t specs[] = {{"gelu_new", "LN", 1, 0, 0, 0}, {"gelu", "RMS", 0, 0, 0, 0},
                                    {"sigmoid", "LN", 1, 1, 0, 0},  {"relu", "LN", 1, 0, 0, 1}};
    const mspec_t *sp = specs + _i;
    char path[400], err[600];
    snprintf(path, sizeof path, "%s/m.safetensors", tmpdir);
    write_model(path, sp, test_seed() + 91 + (unsigned long)_i);
    tmodel_t *m;
    ck_assert_msg(tmodel_open(&m, path, err, sizeof err) == 0, "%s", err);
    convert_act_t ca;
    ck_assert_msg(convert_act_init(&ca, tmodel_config(m), NULL, err, sizeof err, 128) == 0, "%s",
                  err);
    mpfr_prec_t prec = 64 + (mpfr_prec_t)(test_seed() % 200);
    imat_t X1, X2, A1, A2, P1, P2;
    tokens(X1, test_seed());
    tokens(X2, test_seed() + 1);
    imat_init(A1, X1->rows, X1->cols);
    imat_init(A2, X2->rows, X2->cols);
    imat_init(P1, 0, 0);
    imat_init(P2, 0, 0);
    imat_set(A1, X1);
    imat_set(A2, X2);
    for (long b = 0; b < MLAYERS; b++) {
        tblock_t B;
        ck_assert(tblock_read(&B, m, b, err, sizeof err) == 0);
        tblock_apply_pair(P1, P2, &B, A1, A2, act_eval_ival, &ca.phi, act_eval_ival, &ca.silu,
                          prec);
        tblock_apply(A1, &B, A1, act_eval_ival, &ca.phi, prec);
        tblock_apply(A2, &B, A2, act_eval_ival, &ca.silu, prec);
        tblock_apply_pair(X1, X2, &B, X1, X2, act_eval_ival, &ca.phi, act_eval_ival, &ca.silu,
                          prec); /* in place */
        for (long k = 0; k < A1->rows * A1->cols; k++) {
            ck_assert_msg(arb_equal(P1->e + k, A1->e + k) && arb_equal(X1->e + k, A1->e + k),
                          "block %ld entry %ld of the first stream", b, k);
            ck_assert_msg(arb_equal(P2->e + k, A2->e + k) && arb_equal(X2->e + k, A2->e + k),
                          "block %ld entry %ld of the second stream", b, k);
        }
        tblock_clear(&B);
    }
    imat_clear(X1);
    imat_clear(X2);
    imat_clear(A1);
    imat_clear(A2);
    imat_clear(P1);
    imat_clear(P2);
    convert_act_clear(&ca);
    tmodel_close(m);
}
END_TEST

/* The check and its SiLU_a twin share the converted layer's output
 * (mcheck_shared_t): each row comes out with the same bits as when it makes
 * its own, the second takes it over, and a row at another precision makes
 * its own.  _i: sequential (0) or parallel (1) blocks. */
START_TEST(test_shared_converted_output)
{
    mspec_t s = {"gelu_new", "LN", 1, 0, 0, _i};
    char path[400], err[600];
    snprintf(path, sizeof path, "%s/m.safetensors", tmpdir);
    write_model(path, &s, test_seed() + 77);
    tmodel_t *m;
    ck_assert_msg(tmodel_open(&m, path, err, sizeof err) == 0, "%s", err);
    convert_act_t ca;
    ck_assert(convert_act_init(&ca, tmodel_config(m), NULL, err, sizeof err, 128) == 0);
    imat_t X;
    tokens(X, test_seed());
    mcheck_t kinds[2] = {_i ? MCHECK_BLOCK : MCHECK_MLP, _i ? MCHECK_BLOCK_SILU : MCHECK_MLP_SILU};
    convert_opts_t co = {.form = 0, .mutation = 0};
    mcheck_shared_t sh;
    mcheck_shared_init(&sh);
    static const mpfr_prec_t precs[3] = {128, 128, 192};
    for (int k = 0; k < 3; k++) {
        mcheck_t kind = kinds[k % 2];
        row_t a, b;
        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);
        row_start(&a, precs[k]);
        row_start(&b, precs[k]);
        ck_assert_msg(mcheck_sublayer_shared(&a, m, 0, kind, X, &ca, co, &sh, err, sizeof err) == 0,
                      "%s", err);
        ck_assert_msg(mcheck_sublayer(&b, m, 0, kind, X, &ca, co, err, sizeof err) == 0, "%s", err);
        ck_assert(arb_equal(a.error, b.error) && arb_equal(a.error_abs, b.error_abs));
        ck_assert(mpfr_equal_p(a.scale, b.scale));
        ck_assert_int_eq(a.resolve_bits, b.resolve_bits);
        /* the first row keeps it, the twin takes it over, another precision keeps its own */
        ck_assert_int_eq(sh.conv.ready, k != 1);
        ck_assert_int_eq(sh.pre.ready, !_i && k != 1);
        row_clear(&a);
        row_clear(&b);
    }
    mcheck_shared_clear(&sh);
    imat_clear(X);
    convert_act_clear(&ca);
    tmodel_close(m);
}
END_TEST

/* ------------------------------------------------------ parallel blocks */

/* A parallel block of the model at path, converted: its one layer. */
static long parallel_layer(aonet_layer_t L[2], tblock_t *B, tmodel_t **m, convert_act_t *ca,
                           const char *path, convert_form_t form)
{
    char err[600];
    ck_assert_msg(tmodel_open(m, path, err, sizeof err) == 0, "%s", err);
    ck_assert(convert_act_init(ca, tmodel_config(*m), NULL, err, sizeof err, 64) == 0);
    ck_assert(tblock_read(B, *m, 0, err, sizeof err) == 0);
    convert_opts_t o = {.form = form, .mutation = 0};
    return convert_block_layers(L, B, ca, &o);
}

/* Exact activations, LN (gamma, beta folded: LN1 != LN2), RMS (gamma
 * folded), LNPre (one shared LN), a GLU: every row holds exactly. */
static const mspec_t parallel_specs[] = {
    {"silu", "LN", 1, 0, 0, 1},     {"silu", "RMS", 0, 0, 0, 1}, {"silu", "LNPre", 1, 0, 0, 1},
    {"sigmoid", "LN", 0, 1, 0, 1}, {"silu", "LN", 0, 0, 1, 1},  {"silu", "RMSPre", 1, 0, 0, 1},
};
#define N_PARALLEL_SPECS (int)(sizeof parallel_specs / sizeof parallel_specs[0])

START_TEST(test_parallel_exact)
{
    const mspec_t *s = parallel_specs + _i % N_PARALLEL_SPECS;
    convert_form_t form = (convert_form_t)(_i / N_PARALLEL_SPECS);
    char path[400];
    snprintf(path, sizeof path, "%s/p.safetensors", tmpdir);
    rows_t rows;
    ck_assert_int_eq(run_spec_random_prec(&rows, path, s, 60 + (unsigned long)_i,
                                          test_seed() + (unsigned long)_i, 400, form), 0);
    /* one `block` row per block, and `model` over L layers and ln_final */
    ck_assert_int_eq(rows.n, MLAYERS + 1);
    for (long k = 0; k < rows.n; k++) {
        const row_t *r = rows.rows + k;
        int model = strcmp(r->params.value[0], "model") == 0;
        ck_assert(model || strcmp(r->params.value[0], "block") == 0);
        ck_assert_msg(r->verdict == VERDICT_HOLDS && r->exact_identity,
                      "parallel %s %s, %s: %s block %s is %s (prec %ld)", s->act, s->norm,
                      convert_form_name[form], r->params.value[0], r->params.value[1],
                      verdict_name(r->verdict), (long)rows.prec);
        ck_assert_int_eq(r->depth, model ? MLAYERS + 1 : 1);
    }
    rows_clear(&rows);
    /* one exact layer of H + d_mlp + 1 heads; LN1 != LN2 folds into n(x) */
    tmodel_t *m;
    convert_act_t ca;
    tblock_t B;
    aonet_layer_t L[2];
    ck_assert_int_eq(parallel_layer(L, &B, &m, &ca, path, form), 1);
    ck_assert(aonet_layer_is_exact(L));
    ck_assert_int_eq(aonet_layer_heads(L), MH + ML + 1);
    aonet_ln_kind_t want = !strcmp(s->norm, "LN") || !strcmp(s->norm, "LNPre") ? AONET_LN_PRE
                           : AONET_LN_RMSPRE;
    ck_assert_int_eq(L->ln.kind, want);
    aonet_layer_clear(L);
    tblock_clear(&B);
    convert_act_clear(&ca);
    tmodel_close(m);
}
END_TEST

/* gelu and relu parallel blocks: `block` holds against the MLP bound with a
 * real error, `block-silu_a` and the model's SiLU_a twin exactly. */
START_TEST(test_parallel_approx)
{
    convert_form_t form = (convert_form_t)(_i / 2);
    mspec_t s = {_i % 2 ? "relu" : "gelu", _i % 2 ? "RMS" : "LN", 1, 0, 0, 1};
    char path[400];
    snprintf(path, sizeof path, "%s/p.safetensors", tmpdir);
    write_model(path, &s, test_seed() + 70 + (unsigned long)_i);
    rows_t rows;
    ck_assert_int_eq(run_model_form(&rows, path, 128, 0, NULL, test_seed(), NULL, 0, form), 0);
    ck_assert_int_eq(rows.n, 2 * MLAYERS + 1);
    for (long k = 0; k < rows.n; k++) {
        const row_t *r = rows.rows + k;
        ck_assert_msg(r->verdict == VERDICT_HOLDS, "parallel %s, %s: %s block %s is %s", s.act,
                      convert_form_name[form], r->params.value[0], r->params.value[1],
                      verdict_name(r->verdict));
        if (strcmp(r->params.value[0], "block") == 0) {
            ck_assert(r->has_bound && !r->exact_identity && arb_is_positive(r->error));
            ck_assert(row_find_column(r, "sup gap G"));
        } else {
            ck_assert(r->exact_identity);
            ck_assert(strcmp(r->params.value[0], "block-silu_a") == 0 ||
                      strcmp(r->params.value[0], "model") == 0);
        }
    }
    rows_clear(&rows);
}
END_TEST

/* Every mutation of the conversion is violated on the parallel block's row
 * and end to end: _i mod 5 the mutation, LN or RMS (_i / 5 % 2), each form. */
START_TEST(test_parallel_mutations)
{
    convert_form_t form = (convert_form_t)(_i / 10);
    int mut = mutants[_i % 5].mutation;
    mspec_t s = {"silu", _i / 5 % 2 ? "RMS" : "LN", _i % 2, 0, 0, 1};
    char path[400];
    snprintf(path, sizeof path, "%s/p.safetensors", tmpdir);
    write_model(path, &s, test_seed() + 80 + (unsigned long)_i);
    rows_t rows;
    ck_assert_int_eq(run_model_form(&rows, path, 128, mut, NULL, test_seed(), NULL, 0, form), 0);
    const char *broken[2][2] = {{"block", "1"}, {"model", "all"}};
    for (int c = 0; c < 2; c++) {
        const row_t *r = find_row(&rows, broken[c][0], broken[c][1]);
        ck_assert_ptr_nonnull(r);
        ck_assert_msg(r->verdict == VERDICT_VIOLATED && arb_is_positive(r->error),
                      "mutation %s (%s, %s): %s is %s", convert_mutation[mut][0], s.norm,
                      convert_form_name[form], broken[c][0], verdict_name(r->verdict));
    }
    rows_clear(&rows);
    /* the parallel block converted as a sequential one (two layers in turn)
     * misses the parallel block */
    tmodel_t *m;
    convert_act_t ca;
    tblock_t B;
    aonet_layer_t L[2];
    ck_assert_int_eq(parallel_layer(L, &B, &m, &ca, path, form), 1);
    aonet_layer_clear(L);
    convert_opts_t o = {.form = form, .mutation = 0};
    convert_block_opts(L, L + 1, &B, &ca, &o);
    imat_t X, Y, S;
    tokens(X, test_seed());
    imat_init(Y, X->rows, X->cols);
    imat_init(S, 0, 0);
    tblock_apply(Y, &B, X, act_eval_ival, &ca.phi, 128);
    convert_stream(S, X);
    aonet_layer_apply(S, L, 128);
    aonet_layer_apply(S, L + 1, 128);
    int differs = 0;
    for (long i = 0; i < X->rows; i++)
        for (long j = 0; j < X->cols; j++)
            differs |= !arb_overlaps(imat_entry(Y, i, j), imat_entry(S, i + 1, j));
    ck_assert_msg(differs, "the sequential conversion meets the parallel block");
    imat_clear(X);
    imat_clear(Y);
    imat_clear(S);
    aonet_layer_clear(L);
    aonet_layer_clear(L + 1);
    tblock_clear(&B);
    convert_act_clear(&ca);
    tmodel_close(m);
}
END_TEST

/* The default a for the GELUs is gelu-approx's minimiser (about 1.77), and
 * relu's is CONVERT_RELU_A; a gated MLP outside the class is refused. */
START_TEST(test_act_defaults)
{
    tmodel_config_t c;
    memset(&c, 0, sizeof c);
    char err[400];
    convert_act_t ca;
    snprintf(c.act_fn, sizeof c.act_fn, "gelu");
    ck_assert_int_eq(convert_act_init(&ca, &c, NULL, err, sizeof err, 128), 0);
    ck_assert(arb_is_exact(ca.a));
    double a = arf_get_d(arb_midref(ca.a), ARF_RND_NEAR);
    ck_assert_msg(a > 1.76 && a < 1.79, "a* for gelu = %g", a);
    convert_act_clear(&ca);
    snprintf(c.act_fn, sizeof c.act_fn, "relu");
    ck_assert_int_eq(convert_act_init(&ca, &c, NULL, err, sizeof err, 128), 0);
    ck_assert(arf_equal_si(arb_midref(ca.a), atoi(CONVERT_RELU_A)));
    convert_act_clear(&ca);
    static const char *const outside[] = {"silu", "gelu", "gelu_new", "relu"};
    for (int k = 0; k < 4; k++) {
        c.gated_mlp = 1;
        snprintf(c.act_fn, sizeof c.act_fn, "%s", outside[k]);
        err[0] = '\0';
        ck_assert_int_eq(convert_act_init(&ca, &c, NULL, err, sizeof err, 128), EXIT_DATAERR);
        ck_assert_msg(strstr(err, "outside the class") && strstr(err, "quadratic") &&
                          !strchr(err, '\n'),
                      "%s", err);
    }
    c.gated_mlp = 1;
    snprintf(c.act_fn, sizeof c.act_fn, "sigmoid");
    ck_assert_int_eq(convert_act_init(&ca, &c, NULL, err, sizeof err, 128), 0);
    ck_assert_int_eq(ca.kind, CONVERT_ACT_GLU);
    convert_act_clear(&ca);
}
END_TEST

/* Encoded masks: E within the derived bound at every Omega; E falls as
 * Omega grows; Omega/2 in the weights breaks the bound at large Omega. */
/* _i in [0, 4): causal (_i odd) or not, in each form (_i / 2). */
START_TEST(test_encoded)
{
    convert_form_t form = (convert_form_t)(_i / 2);
    _i %= 2;
    mspec_t s = {"silu", "LN", _i, 0, 0, 0};
    char path[400];
    snprintf(path, sizeof path, "%s/m.safetensors", tmpdir);
    write_model(path, &s, test_seed() + 40 + (unsigned long)_i);
    static const double omegas[] = {0, 16, 64, 256};
    double last = INFINITY;
    for (int k = test_quick() ? 2 : 0; k < 4; k++) {
        arb_t om;
        arb_init(om);
        arb_set_d(om, omegas[k]);
        rows_t rows;
        mpfr_prec_t p = 128 + 2 * (mpfr_prec_t)omegas[k];
        ck_assert_int_eq(run_model_form(&rows, path, p, 0, NULL, test_seed(), om, 0, form), 0);
        const row_t *r = find_row(&rows, "encoded", "all");
        ck_assert_ptr_nonnull(r);
        /* a bound of +inf (small Omega) proves nothing: vacuous, never holds */
        verdict_t want = arf_is_pos_inf(arb_midref(r->bound)) ? VERDICT_VACUOUS : VERDICT_HOLDS;
        ck_assert_msg(r->verdict == want, "Omega %g: %s", omegas[k], verdict_name(r->verdict));
        ck_assert_msg(omegas[k] < 64 || want == VERDICT_HOLDS, "Omega %g: bound +inf", omegas[k]);
        double e = ival_hi_d(r->error);
        if (k > 1) /* past the smallest Omega, where the unmasked heads may happen to be close */
            ck_assert_msg(e < last || e == 0, "E does not fall: %g at Omega %g", e, omegas[k]);
        last = e;
        const column_t *req = row_find_column(r, "Omega_req(1e-12)");
        ck_assert_ptr_nonnull(req);
        rows_clear(&rows);
        if (omegas[k] == 256) {
            ck_assert_msg(e < 1e-12, "E %g at Omega 256", e);
            /* half Omega in the weights: caught where the bound is small */
            ck_assert_int_eq(run_model_form(&rows, path, p, 0, NULL, test_seed(), om,
                                            MASKENC_MUT_HALF_OMEGA, form), 0);
            r = find_row(&rows, "encoded", "all");
            ck_assert_msg(r->verdict == VERDICT_VIOLATED, "half-omega not caught at 256: %s",
                          verdict_name(r->verdict));
            rows_clear(&rows);
        }
        arb_clear(om);
    }
}
END_TEST

/* The export: every tensor read back; the F64 values with the exact
 * corrections are the converted network's weights exactly. */
START_TEST(test_export_roundtrip)
{
    mspec_t s = {"silu", "LN", 1, 0, 0, 0};
    char path[400], out[400], err[600];
    snprintf(path, sizeof path, "%s/m.safetensors", tmpdir);
    snprintf(out, sizeof out, "%s/ao.safetensors", tmpdir);
    write_model(path, &s, test_seed() + 50);
    converted_t c;
    converted_open(&c, path);
    const aonet_layer_t *A = &c.A, *M = &c.M;
    aonet_export_t *ex;
    ck_assert_msg(aonet_export_open(&ex, out, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(aonet_export_layer(ex, 0, A, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(aonet_export_layer(ex, 1, M, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(aonet_export_final_ln(ex, &c.B.ln1, err, sizeof err) == 0, "%s", err);
    aonet_export_meta(ex, "layout", CONVERT_LAYOUT_TEXT);
    ck_assert_msg(aonet_export_commit(ex, err, sizeof err) == 0, "%s", err);
    safetensors_t *st;
    ck_assert_msg(safetensors_open(&st, out, err, sizeof err) == 0, "%s", err);
    char jpath[420];
    snprintf(jpath, sizeof jpath, "%s.json", out);
    json_error_t jerr;
    json_t *doc = json_load_file(jpath, 0, &jerr);
    ck_assert_msg(doc, "%s", jerr.text);
    json_t *exact = json_object_get(doc, "exact_entries");
    /* layer 1's neuron group: W_V [l, D, 1] against the stacked D x l */
    const aonet_group_t *g = M->groups;
    const tensor_view_t *v = safetensors_find(st, "net.layers.1.neurons.W_V");
    ck_assert_ptr_nonnull(v);
    ck_assert(v->ndim == 3 && v->shape[0] == ML && v->shape[1] == MD + 2 && v->shape[2] == 1);
    double *vals = malloc(v->numel * sizeof *vals);
    ck_assert(tensor_view_read_f64(vals, v, err, sizeof err) == 0);
    json_t *corr = json_object_get(exact, "net.layers.1.neurons.W_V");
    arb_t x;
    arb_init(x);
    for (long h = 0; h < ML; h++)
        for (long i = 0; i < MD + 2; i++) {
            long k = h * (MD + 2) + i;
            char key[32];
            snprintf(key, sizeof key, "%ld", k);
            const char *dec = corr ? json_string_value(json_object_get(corr, key)) : NULL;
            if (dec)
                ck_assert(arb_set_str(x, dec, 2000) == 0 && arb_is_exact(x));
            else
                arb_set_d(x, vals[k]);
            ck_assert_msg(arb_equal(x, imat_entry(g->W_V, i, h)), "W_V[%ld, %ld] differs", h,
                          i);
        }
    /* the shared W_K is written for every head; the network is described */
    ck_assert_ptr_nonnull(safetensors_find(st, "net.layers.1.neurons.W_K"));
    ck_assert_ptr_nonnull(safetensors_find(st, "net.layers.0.attn.W_O"));
    ck_assert_ptr_nonnull(safetensors_find(st, "net.ln_final.w"));
    json_t *net = json_loads(safetensors_metadata_get(st, "attncheck_network"), 0, &jerr);
    ck_assert_ptr_nonnull(net);
    ck_assert_uint_eq(json_array_size(json_object_get(net, "layers")), 2);
    json_decref(net);
    arb_clear(x);
    free(vals);
    json_decref(doc);
    safetensors_close(st);
    converted_clear(&c);
}
END_TEST


/* ------------------------------------------------------ the bias row in float */

/* The whole converted network of the model at path in form (every block,
 * then the final LN), with every mask encoded at omega when omega is not
 * NULL; the input stream of tokens X into S. */
static void convert_network(aonet_t *A, imat_t S, const char *path, const imat_t X,
                            convert_form_t form, const arb_struct *omega)
{
    tmodel_t *m;
    char err[600];
    ck_assert_msg(tmodel_open(&m, path, err, sizeof err) == 0, "%s", err);
    convert_act_t ca;
    ck_assert(convert_act_init(&ca, tmodel_config(m), NULL, err, sizeof err, 64) == 0);
    long d = X->cols, D = d + 2, N = X->rows + 1;
    aonet_init(A, omega ? D + N : D, d, 2 * MLAYERS);
    convert_opts_t o = {.form = form, .mutation = 0};
    for (long b = 0; b < MLAYERS; b++) {
        tblock_t B;
        aonet_layer_t L[2];
        ck_assert_msg(tblock_read(&B, m, b, err, sizeof err) == 0, "%s", err);
        convert_block_opts(L, L + 1, &B, &ca, &o);
        for (int k = 0; k < 2; k++) {
            if (omega) {
                maskenc_layer(A->layers + 2 * b + k, L + k, N, omega, MASKENC_MUT_NONE, 128);
            } else {
                aonet_layer_copy(A->layers + 2 * b + k, L + k);
            }
            aonet_layer_clear(L + k);
        }
        tblock_clear(&B);
    }
    aonet_ln_t lnf;
    ck_assert_msg(tblock_read_ln_final(&lnf, m, err, sizeof err) == 0, "%s", err);
    aonet_ln_clear(&A->ln_final);
    convert_ln(&A->ln_final, &lnf, D, 0);
    aonet_ln_clear(&lnf);
    imat_init(S, 0, 0);
    convert_stream(S, X);
    if (omega) {
        imat_t T;
        imat_init(T, 0, 0);
        maskenc_stream(T, S);
        imat_swap(S, T);
        imat_clear(T);
    }
    convert_act_clear(&ca);
    tmodel_close(m);
}

/* What the hook saw: the layers after which the bias row (row 0) was not
 * [0 (+0, bitwise), 1, 1, one-hot position 0] in every column, and the
 * calls. */
typedef struct {
    long d, calls, broken;
    const aonet_ln_t *lnf;
    const fpf_format_t *fmt;
    int final_ok;
} bias_watch_t;

static int bias_entry_ok(mpfr_srcptr x, long j, long d)
{
    /* features +0, c = f = 1, the positions e_0 (when encoded) */
    if (j < d)
        return mpfr_zero_p(x) && !mpfr_signbit(x);
    if (j == d || j == d + 1 || j == d + 2)
        return mpfr_cmp_ui(x, 1) == 0;
    return mpfr_zero_p(x) && !mpfr_signbit(x);
}

static void watch_bias(void *ctx, long k, const fpf_mat_struct *Y)
{
    bias_watch_t *w = ctx;
    w->calls++;
    if (k == 2 * MLAYERS) {
        /* after the final LN: beta (rounded) on the features, the rest as before */
        w->final_ok = 1;
        for (long j = 0; j < Y->cols; j++) {
            mpfr_srcptr x = fpf_mat_entry(Y, 0, j);
            if (j < w->d) {
                mpfr_t b;
                fpf_init(b, w->fmt);
                if (aonet_ln_has_b(w->lnf->kind))
                    fpf_set_d(b, arf_get_d(arb_midref(imat_entry(w->lnf->b, 0, j)), ARF_RND_NEAR),
                              w->fmt); /* the test's weights are short dyadics: exact */
                w->final_ok &= mpfr_equal_p(x, b);
                mpfr_clear(b);
            } else {
                w->final_ok &= bias_entry_ok(x, j, w->d);
            }
        }
        return;
    }
    for (long j = 0; j < Y->cols; j++)
        if (!bias_entry_ok(fpf_mat_entry(Y, 0, j), j, w->d)) {
            w->broken++;
            return;
        }
}

/* The float-robust form keeps the bias row bitwise after every layer in
 * binary64, binary32, bfloat16 and binary16 (sums in the format or in
 * binary32, sequential, with FMA, pairwise), LN and RMS, causal and
 * bidirectional, explicit masks and masks encoded at Omega = 1024 (above
 * every format's flush gap, binary64's 745.2, and 1.5 Omega below
 * binary16's 65504); the literal form does not keep it under LN (its
 * beta W_V + b_V - (beta W_V + b_V) leaves a residue). */
START_TEST(test_bias_row_bitwise)
{
    static const char *const norms[] = {"LN", "RMS"};
    mspec_t s = {_i % 4 < 2 ? "silu" : "sigmoid", norms[_i % 2], _i / 2 % 2, _i == 7, 0, 0};
    int encoded = _i >= 4;
    char path[400];
    snprintf(path, sizeof path, "%s/m.safetensors", tmpdir);
    write_model(path, &s, test_seed() + 60 + (unsigned long)_i);
    imat_t X;
    tokens(X, test_seed() + 61 + (unsigned long)_i);
    arb_t omega;
    arb_init(omega);
    arb_set_ui(omega, 1024);
    static const struct {
        const fpf_format_t *fmt, *acc;
        fpf_order_t order;
    } ars[] = {
        {&fpf_binary64, &fpf_binary64, FPF_SUM_SEQUENTIAL},
        {&fpf_binary32, &fpf_binary32, FPF_SUM_SEQUENTIAL},
        {&fpf_binary32, &fpf_binary32, FPF_SUM_PAIRWISE},
        {&fpf_bfloat16, &fpf_bfloat16, FPF_SUM_SEQUENTIAL},
        {&fpf_bfloat16, &fpf_binary32, FPF_SUM_SEQUENTIAL_FMA},
        {&fpf_binary16, &fpf_binary16, FPF_SUM_SEQUENTIAL},
        {&fpf_binary16, &fpf_binary32, FPF_SUM_PAIRWISE},
    };
    for (int form = 0; form < CONVERT_N_FORMS; form++) {
        aonet_t A;
        imat_t S;
        convert_network(&A, S, path, X, (convert_form_t)form, encoded ? omega : NULL);
        long literal_broken = 0;
        for (size_t k = 0; k < sizeof ars / sizeof ars[0]; k++) {
            bias_watch_t w = {.d = MD, .lnf = &A.ln_final, .fmt = ars[k].fmt};
            fpnet_opts_t o = {.ar = {.fmt = ars[k].fmt, .acc = ars[k].acc,
                                     .order = ars[k].order},
                              .omega_col = -1, .after_layer = watch_bias, .after_ctx = &w};
            fpf_mat_t Y;
            fpnet_stats_t st;
            ck_assert_int_eq(fpnet_apply(Y, &A, S, &o, &st), 0);
            ck_assert_int_eq(w.calls, 2 * MLAYERS + (A.ln_final.kind != AONET_LN_NONE));
            if (form == CONVERT_FLOAT_ROBUST) {
                ck_assert_msg(w.broken == 0 && (w.final_ok || A.ln_final.kind == AONET_LN_NONE),
                              "float-robust, %s %s %s%s, %s (acc %s, %s): the bias row moved "
                              "after %ld layers%s", s.act, s.norm,
                              s.causal ? "causal" : "bidirectional", encoded ? " encoded" : "",
                              ars[k].fmt->name, ars[k].acc->name, fpf_order_name(ars[k].order),
                              w.broken, w.final_ok ? "" : " (or the final LN)");
                /* LayerNorm sees the bias row as exactly 0 every time, never flagged */
                ck_assert_int_eq(st.ln.zero, 2 * MLAYERS + (A.ln_final.kind != AONET_LN_NONE));
                ck_assert_int_eq(st.ln.flagged, 0);
            }
            literal_broken += w.broken;
            fpf_mat_clear(Y);
        }
        /* the test can fail: under LN (beta != 0) the literal form loses the row */
        if (form == CONVERT_LITERAL && !strcmp(s.norm, "LN"))
            ck_assert_msg(literal_broken > 0, "literal, %s %s: the bias row never moved",
                          s.act, s.norm);
        imat_clear(S);
        aonet_clear(&A);
    }
    arb_clear(omega);
    imat_clear(X);
}
END_TEST

/* ---------------------------------------------------------------- the CLI */

static char out[1 << 16];

#define cli(...) test_run_clif(out, sizeof out, __VA_ARGS__)

static int one_line(void)
{
    return test_count_lines(out) == 1;
}

START_TEST(test_cli_model)
{
    char path[400], bad[400], swiglu[400];
    snprintf(path, sizeof path, "%s/m.safetensors", tmpdir);
    snprintf(bad, sizeof bad, "%s/bad.safetensors", tmpdir);
    snprintf(swiglu, sizeof swiglu, "%s/swiglu.safetensors", tmpdir);
    mspec_t s = {"gelu_new", "LN", 1, 0, 0, 0}, g = {"silu", "LN", 1, 1, 0, 0};
    write_model(path, &s, 5);
    write_model(swiglu, &g, 5);
    FILE *f = fopen(bad, "wb");
    fputs("\x10\0\0\0\0\0\0\0{\"a\":1}", f);
    fclose(f);
    /* bad input: one line, the documented code, no report directory */
    ck_assert_int_eq(cli("model --help"), 0);
    ck_assert_int_eq(cli("model"), 64);
    ck_assert(one_line());
    ck_assert_int_eq(cli("model %s --bogus", path), 64);
    ck_assert_int_eq(cli("model %s --prec 7", path), 64);
    ck_assert_int_eq(cli("model %s --mutate no-such", path), 64);
    ck_assert_int_eq(cli("model %s --conversion paper", path), 64);
    ck_assert_msg(one_line() && strstr(out, "float-robust or literal"), "%s", out);
    /* both forms hold (--tol 1: this gelu_new model's `real` row asks only that the
     * SiLU_a heads stay within 1 of it, so the exit is the conversion's) */
    ck_assert_int_eq(cli("model %s --tokens 2 --tol 1 --no-write --conversion literal", path), 0);
    ck_assert_int_eq(cli("model %s --tokens 2 --tol 1 --no-write --conversion float-robust", path),
                     0);
    ck_assert_int_eq(cli("model %s --input x.npy --tokens 3", path), 64);
    ck_assert_int_eq(cli("model %s --out %s/r1", bad, tmpdir), 65);
    ck_assert_msg(one_line(), "%s", out);
    ck_assert_int_eq(cli("model %s --out %s/r1", swiglu, tmpdir), 65);
    ck_assert_msg(one_line() && strstr(out, "outside the class"), "%s", out);
    ck_assert_int_eq(cli("model %s --act-a abc --out %s/r1", path, tmpdir), 64);
    /* paths are named in the report and on stderr: no control characters */
    ck_assert_int_eq(cli("model \"$(printf '%s\\nx')\" --out %s/r1", path, tmpdir), 64);
    ck_assert_msg(one_line() && strstr(out, "control characters"), "%s", out);
    ck_assert_int_eq(cli("model %s --input \"$(printf 'x\\t.npy')\" --out %s/r1", path, tmpdir),
                     64);
    /* nor bytes that are not UTF-8 (the JSON reports and the journal record them) */
    {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "cp '%s' \"$(printf '%s/m\\377.safetensors')\"", path, tmpdir);
        ck_assert_int_eq(system(cmd), 0);
        ck_assert_int_eq(cli("model \"$(printf '%s/m\\377.safetensors')\" --tokens 2 --out %s/r1",
                             tmpdir, tmpdir), 64);
        ck_assert_msg(one_line() && strstr(out, "model path is not UTF-8"), "%s", out);
        ck_assert_int_eq(cli("model %s --input \"$(printf 'x\\300\\257.npy')\" --out %s/r1", path,
                             tmpdir), 64);
        ck_assert_msg(one_line() && strstr(out, "--input path is not UTF-8"), "%s", out);
        snprintf(cmd, sizeof cmd, "%s/r1", tmpdir);
        ck_assert_msg(access(cmd, F_OK) != 0, "a refused run left %s", cmd);
    }
    ck_assert_int_eq(cli("model %s --act-a 0 --out %s/r1", path, tmpdir), 64);
    ck_assert_int_eq(cli("model %s --act-a 1e999999999 --out %s/r1", path, tmpdir), 64);
    /* no double is nearest to these (NaN rows, or a "nearest double" of 0) */
    ck_assert_int_eq(cli("model %s --act-a 1e400 --out %s/r1", path, tmpdir), 64);
    ck_assert_msg(one_line() && strstr(out, "range of doubles"), "%s", out);
    ck_assert_int_eq(cli("model %s --act-a 1e-400 --out %s/r1", path, tmpdir), 64);
    ck_assert_msg(one_line() && strstr(out, "range of doubles"), "%s", out);
    ck_assert_int_eq(cli("model %s --input %s:blocks.0.ln1.w --out %s/r1", path, path, tmpdir),
                     65);
    ck_assert_msg(one_line() && strstr(out, "shape"), "%s", out);
    ck_assert_int_eq(cli("model %s --export-converted %s --out %s/r1", path, tmpdir, tmpdir), 73);
    /* the export never replaces what the run reads: the model file, the --input file */
    {
        static char before[1 << 16], after[1 << 16];
        size_t nb = test_read_file(before, sizeof before, tmpdir, "m.safetensors");
        ck_assert_int_eq(cli("model %s --tokens 2 --export-converted %s --out %s/r1", path, path,
                             tmpdir), 73);
        ck_assert_msg(one_line() && strstr(out, "would be replaced"), "%s", out);
        size_t na = test_read_file(after, sizeof after, tmpdir, "m.safetensors");
        ck_assert(nb == na && memcmp(before, after, nb) == 0);
        ck_assert_int_eq(cli("model %s --input %s:blocks.0.mlp.W_out --export-converted %s "
                             "--out %s/r1", path, path, path, tmpdir), 73);
    }
    ck_assert_int_eq(cli("model %s --max-memory 1K --out %s/r1", path, tmpdir), 65);
    /* a model file without the tensors its config calls for */
    char partial[400];
    snprintf(partial, sizeof partial, "%s/partial.safetensors", tmpdir);
    {
        uint64_t shape[1] = {MD};
        double v[MD] = {1, 1, 1, 1, 1, 1};
        safetensors_entry_t t[1] = {{"blocks.0.ln1.w", 1, shape, v}};
        const char *mk[] = {"config"};
        const char *mv[] = {"{\"d_model\": 6, \"n_layers\": 1, \"n_heads\": 2, \"d_head\": 3, "
                            "\"d_mlp\": 5, \"act_fn\": \"silu\"}"};
        char e2[300];
        ck_assert(safetensors_write_f64(partial, t, 1, mk, mv, 1, e2, sizeof e2) == 0);
    }
    ck_assert_int_eq(cli("model %s --out %s/r1", partial, tmpdir), 65);
    ck_assert_msg(one_line() && strstr(out, "missing tensor"), "%s", out);
    /* a NaN weight (the last 8 bytes: ln_final.w's last element) is refused
     * before any work: one line, not a progress line and then the error */
    char nanmodel[400];
    snprintf(nanmodel, sizeof nanmodel, "%s/nan.safetensors", tmpdir);
    write_model(nanmodel, &s, 5);
    f = fopen(nanmodel, "r+b");
    ck_assert_ptr_nonnull(f);
    static const unsigned char nan_bits[8] = {0, 0, 0, 0, 0, 0, 0xf8, 0x7f};
    ck_assert_int_eq(fseek(f, -8, SEEK_END), 0);
    ck_assert_uint_eq(fwrite(nan_bits, 1, 8, f), 8);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(cli("model %s --tokens 2 --out %s/r1", nanmodel, tmpdir), 65);
    ck_assert_msg(one_line() && strstr(out, "NaN"), "%s", out);
    char r1[400];
    snprintf(r1, sizeof r1, "%s/r1", tmpdir);
    ck_assert_msg(access(r1, F_OK) != 0, "a failed run left %s", r1);
    /* a run: the SiLU_a twin's rows hold, the random GELU model itself is not
     * within 1e-3 of its scale (the row `real`: violated, exit 1); the
     * report and the export are written */
    ck_assert_int_eq(cli("model %s --tokens 3 --out %s/r2 --export-converted %s/ao.safetensors",
                         path, tmpdir, tmpdir), 1);
    ck_assert_msg(strstr(out, "model-silu_a block all E <= ") &&
                      strstr(strstr(out, "model-silu_a block all E <= "), "holds\n") &&
                      strstr(out, "real         block all") &&
                      strstr(strstr(out, "real         block all"), "violated\n"),
                  "%s", out);
    ck_assert_msg(strstr(out, "heads per block: 2 original + 6 converted = 8"), "%s", out);
    char file[500];
    static const char *const files[] = {"r2/model-m.md", "r2/model-m.csv", "r2/model-m.json",
                                        "ao.safetensors", "ao.safetensors.json"};
    for (int k = 0; k < 5; k++) {
        snprintf(file, sizeof file, "%s/%s", tmpdir, files[k]);
        ck_assert_msg(access(file, R_OK) == 0, "%s missing", file);
    }
    /* its mutations are run by attncheck model, not by verify (no such claim) */
    {
        static char md[1 << 16];
        test_read_file(md, sizeof md, tmpdir, "r2/model-m.md");
        ck_assert_msg(strstr(md, "add `--mutate NAME` to the command below") &&
                          !strstr(md, "attncheck verify model-m"),
                      "%.400s", md);
    }
    /* by default the converted network goes beside the report; --no-export: nowhere */
    ck_assert_int_eq(cli("model %s --tokens 2 --out %s/r3", path, tmpdir), 1);
    snprintf(file, sizeof file, "%s/r3/model-m.converted.safetensors", tmpdir);
    ck_assert_msg(access(file, R_OK) == 0 && strstr(out, "scripts/run_export.py"), "%s", out);
    ck_assert_int_eq(cli("model %s --tokens 2 --out %s/r4 --no-export", path, tmpdir), 1);
    /* --prec 24: the exact rows still resolve 2^-16 of their scale (the resolution
     * rule's floor, p >= kappa + 16); each row records the 24 asked */
    if (mio_have_python("json", "check_model: the precision floor")) {
        ck_assert_int_eq(cli("model %s --tokens 2 --prec 24 --format json --no-export --out %s/r5",
                             path, tmpdir), 1);
        char cmd[700];
        snprintf(cmd, sizeof cmd,
                 "/usr/bin/python3 -c 'import json,sys\n"
                 "for r in json.load(open(sys.argv[1]))[\"rows\"]:\n"
                 "    if \"kappa\" in r:\n"
                 "        assert r[\"prec\"] - r[\"kappa\"] >= 16 and r[\"prec_requested\"] == 24, r\n"
                 "' %s/r5/model-m.json", tmpdir);
        ck_assert_msg(system(cmd) == 0, "a row below the precision floor, or without --prec");
    }
    /* the literature's slope 1.702 (not a dyadic): its nearest double, said so */
    ck_assert_int_eq(cli("model %s --tokens 2 --act-a 1.702 --no-write", path), 1);
    ck_assert_msg(strstr(out, "a = 1.70199999999999995737, the double nearest --act-a 1.702"),
                  "%s", out);
    /* a bound row whose finite bound is at or above the triangle inequality's
     * is vacuous, never holds: encoded rows at small Omega */
    if (mio_have_python("json", "check_model: vacuous model rows")) {
        int finite_vacuous = 0;
        static const char *const omegas[] = {"0.5", "2", "8", "24"};
        for (int k = 0; k < 4; k++) {
            ck_assert_int_eq(cli("model %s --tokens 2 --omega %s --format json --no-export --out "
                                 "%s/v%d", path, omegas[k], tmpdir, k), 1);
            char cmd[1200];
            snprintf(cmd, sizeof cmd,
                     "/usr/bin/python3 -c 'import json,sys\n"
                     "from decimal import Decimal as D\n"
                     "n = 0\n"
                     "for r in json.load(open(sys.argv[1]))[\"rows\"]:\n"
                     "    if \"trivial_bound\" in r and r[\"bound\"][\"lo\"] != \"inf\" and "
                     "D(r[\"bound\"][\"lo\"]) >= D(r[\"trivial_bound\"][\"hi\"]):\n"
                     "        assert r[\"verdict\"] == \"vacuous\", r\n"
                     "        n += 1\n"
                     "    assert \"bound\" not in r or \"trivial_bound\" in r, r\n"
                     "sys.exit(3 if n else 0)' %s/v%d/model-m.json",
                     tmpdir, k);
            int rc = system(cmd);
            ck_assert_msg(WIFEXITED(rc) && (WEXITSTATUS(rc) == 0 || WEXITSTATUS(rc) == 3),
                          "omega %s: a bound row without its trivial bound, or one above it "
                          "that is not vacuous", omegas[k]);
            finite_vacuous += WEXITSTATUS(rc) == 3;
        }
        ck_assert_msg(finite_vacuous > 0, "no Omega gave a finite bound above the trivial one");
    }
    snprintf(file, sizeof file, "%s/r4/model-m.converted.safetensors", tmpdir);
    ck_assert(access(file, F_OK) != 0);
    /* a mutated conversion is caught on every row: 1; drop-b-in leaves the
     * attention rows as they were: they do not detect it, and the run says so
     * and exits 3, as verify --mutate does */
    ck_assert_int_eq(cli("model %s --tokens 3 --no-write --mutate ln-cf", path), 1);
    ck_assert_int_eq(cli("model %s --tokens 3 --no-write --mutate drop-b-in", path), 3);
    ck_assert_msg(strstr(out, "block 0   E <= ") && strstr(out, "not detected at this resolution\n"),
                  "%s", out);
    /* the numpy reference reproduces the original from the export */
    if (mio_have_python("numpy", "check_model: run_export.py")) {
        char cmd[800];
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 scripts/run_export.py %s/ao.safetensors "
                 ">/dev/null", tmpdir);
        ck_assert_int_eq(system(cmd), 0);
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 scripts/run_export.py %s/ao.safetensors "
                 "--perturb net.layers.1.b_out.W_O >/dev/null", tmpdir);
        ck_assert_int_eq(WEXITSTATUS(system(cmd)), 1);
    }
}
END_TEST

/* A parallel model from the command line: the rows `block` and `model`
 * hold, the export is run by the numpy reference (scripts/tlmodel.py runs
 * parallel blocks), and the float twin, which runs blocks sequentially, is
 * refused with one line. */
START_TEST(test_parallel_cli)
{
    char path[400];
    snprintf(path, sizeof path, "%s/p.safetensors", tmpdir);
    mspec_t s = {"silu", "LN", 1, 0, 0, 1};
    write_model(path, &s, 9);
    ck_assert_int_eq(cli("model %s --tokens 3 --no-write", path), 0);
    ck_assert_msg(strstr(out, "block        block 1 ") && strstr(out, "model        block all"),
                  "%s", out);
    ck_assert(!strstr(out, "attn "));
    ck_assert_int_eq(cli("model %s --tokens 3 --no-write --arith binary32", path), 65);
    ck_assert_msg(one_line() && strstr(out, "parallel"), "%s", out);
    ck_assert_int_eq(cli("model %s --tokens 3 --no-write --mutate drop-b-out", path), 1);
    ck_assert_int_eq(cli("model %s --tokens 3 --out %s/rep --export-converted %s/pa.safetensors",
                         path, tmpdir, tmpdir), 0);
    if (mio_have_python("numpy", "check_model: run_export.py")) {
        char cmd[800];
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 scripts/run_export.py %s/pa.safetensors "
                 ">/dev/null", tmpdir);
        ck_assert_int_eq(system(cmd), 0);
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 scripts/run_export.py %s/pa.safetensors "
                 "--perturb net.layers.1.b_out.W_O >/dev/null", tmpdir);
        ck_assert_int_eq(WEXITSTATUS(system(cmd)), 1);
    }
}
END_TEST

/* Every claim that builds a converted network exports it; the numpy
 * reference runs it to its exported reference. */
static const char *const exporting[][2] = {
    {"neuron-head", ""}, {"mlp-layer", ""}, {"activation-head", ""}, {"linear-head", ""},
    {"attention-only", ""}, {"attention-only-encoded", "--set omega=64"},
    {"mask-encoding", "--set omega=64"}, {"blog-one-layer", "--set omega=20"},
    {"blog-three-layer", "--set omega=20"}};

START_TEST(test_claim_exports)
{
    char file[400];
    snprintf(file, sizeof file, "%s/%s.safetensors", tmpdir, exporting[_i][0]);
    ck_assert_msg(cli("export %s --seed 3 %s --format safetensors --out %s", exporting[_i][0],
                      exporting[_i][1], file) == 0,
                  "%s", out);
    char jpath[420];
    snprintf(jpath, sizeof jpath, "%s.json", file);
    ck_assert(access(file, R_OK) == 0 && access(jpath, R_OK) == 0);
    safetensors_t *st;
    char err[600];
    ck_assert_msg(safetensors_open(&st, file, err, sizeof err) == 0, "%s", err);
    ck_assert_ptr_nonnull(safetensors_find(st, "net.layers.0.heads.W_Q"));
    ck_assert_ptr_nonnull(safetensors_find(st, "stream_in"));
    ck_assert_ptr_nonnull(safetensors_find(st, "reference_out"));
    ck_assert_str_eq(safetensors_metadata_get(st, "claim"), exporting[_i][0]);
    safetensors_close(st);
    if (mio_have_python("numpy", "check_model: run_export.py")) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 scripts/run_export.py %s >/dev/null", file);
        ck_assert_msg(system(cmd) == 0, "run_export.py disagrees on %s", exporting[_i][0]);
    }
}
END_TEST

/* A claim without a converted network, or without --out: 64, one line. */
START_TEST(test_claim_export_refused)
{
    ck_assert_int_eq(cli("export relu-limit --seed 1 --format safetensors --out %s/x", tmpdir), 64);
    ck_assert(one_line());
    ck_assert_int_eq(cli("export mlp-layer --seed 1 --format safetensors"), 64);
    ck_assert(one_line());
    char path[400];
    snprintf(path, sizeof path, "%s/x", tmpdir);
    ck_assert_msg(access(path, F_OK) != 0, "a refused export left %s", path);
    /* a JSON export holds the instance's matrices: claims whose instance is
     * only a converted network refuse it rather than write "matrices": {} */
    static const char *const net_only[] = {"mask-encoding", "attention-only-encoded"};
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(cli("export %s --out %s/x", net_only[k], tmpdir), 64);
        ck_assert(one_line() && strstr(out, "--format safetensors"));
        ck_assert_msg(access(path, F_OK) != 0, "a refused export left %s", path);
    }
}
END_TEST

/* Parameters that are decimals, not dyadics (a = 1.702, 0.1): the export is
 * built with their nearest doubles, said in "params_rounded", so every
 * weight is exact; the network reruns to its reference, and a changed
 * weight does not (the twin).  Without --seed: the default seed 1. */
static const char *const decimal_exports[][3] = {
    {"mlp-layer", "a=1.702", "a = 1.702 -> 1.70199999999999995736743585"},
    {"neuron-head", "a=0.1", "a = 0.1 -> 0.10000000000000000555111"},
    {"activation-head", "a=0.1", "a = 0.1 -> 0.10000000000000000555111"}};

START_TEST(test_claim_export_decimal_params)
{
    char file[400];
    snprintf(file, sizeof file, "%s/dec%d.safetensors", tmpdir, _i);
    ck_assert_msg(cli("export %s --set %s --format safetensors --out %s", decimal_exports[_i][0],
                      decimal_exports[_i][1], file) == 0, "%s", out);
    safetensors_t *st;
    char err[600];
    ck_assert_msg(safetensors_open(&st, file, err, sizeof err) == 0, "%s", err);
    const char *said = safetensors_metadata_get(st, "params_rounded");
    ck_assert_msg(said && strncmp(said, decimal_exports[_i][2], strlen(decimal_exports[_i][2])) == 0,
                  "params_rounded: %s", said ? said : "(none)");
    ck_assert_str_eq(safetensors_metadata_get(st, "seed"), "1");
    safetensors_close(st);
    if (mio_have_python("numpy", "check_model: run_export.py")) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 scripts/run_export.py %s >/dev/null", file);
        ck_assert_msg(system(cmd) == 0, "run_export.py disagrees on %s", decimal_exports[_i][0]);
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 scripts/run_export.py %s --perturb "
                 "net.layers.0.heads.W_O >/dev/null", file);
        ck_assert_msg(system(cmd) != 0, "run_export.py misses a changed W_O on %s",
                      decimal_exports[_i][0]);
    }
}
END_TEST

/* Softmax of wide logits: the enclosure is the monotone one (a_j rises with
 * s_j, falls with the others), not twice as wide, and still holds every
 * point of the boxes. */
START_TEST(test_softmax_monotone)
{
    enum { LEN = 5 };
    arb_ptr s = _arb_vec_init(LEN), a = _arb_vec_init(LEN);
    double mid[LEN] = {0.5, -1.25, 2, 0, -3}, rad = 1e-6;
    for (int j = 0; j < LEN; j++)
        test_ball_interval_d(s + j, mid[j] - rad, mid[j] + rad);
    ck_assert_int_eq(attn_softmax_row(a, s, LEN, 128), 0);
    for (int j = 0; j < LEN; j++) {
        /* the exact range: lowest with s_j low and the others high, and back */
        double lo_num = exp(mid[j] - rad), lo_den = lo_num, hi_num = exp(mid[j] + rad),
               hi_den = hi_num;
        for (int k = 0; k < LEN; k++)
            if (k != j) {
                lo_den += exp(mid[k] + rad);
                hi_den += exp(mid[k] - rad);
            }
        double width = hi_num / hi_den - lo_num / lo_den;
        mpfr_t w;
        mpfr_init2(w, 64);
        ival_get_diam(w, a + j);
        ck_assert_msg(mpfr_get_d(w, MPFR_RNDU) <= 1.01 * width + 1e-30,
                      "a_%d: width %g, the range is %g wide", j, mpfr_get_d(w, MPFR_RNDU), width);
        mpfr_clear(w);
        /* (the range's ends in doubles: a few units of roundoff either way) */
        ck_assert(ival_lo_d(a + j) <= lo_num / lo_den * (1 + 1e-14) &&
                  hi_num / hi_den * (1 - 1e-14) <= ival_hi_d(a + j));
    }
    _arb_vec_clear(s, LEN);
    _arb_vec_clear(a, LEN);
}
END_TEST

/* model through the one runner: two shards and merge give the unsharded
 * run's reports byte for byte; the recorded replay line is shell-quoted (a
 * file name with $(...) runs nothing when the line is pasted into sh). */
/* A run whose reports cannot be written leaves no export behind: the export
 * is put in place only with the reports. */
START_TEST(test_model_export_only_with_reports)
{
    char path[400], ex[400], trap[400];
    snprintf(path, sizeof path, "%s/m.safetensors", tmpdir);
    snprintf(ex, sizeof ex, "%s/ex.safetensors", tmpdir);
    snprintf(trap, sizeof trap, "%s/ob/model-m.md", tmpdir);
    mspec_t s = {"silu", "LN", 1, 0, 0, 0};
    write_model(path, &s, 5);
    char ob[400];
    snprintf(ob, sizeof ob, "%s/ob", tmpdir);
    ck_assert_int_eq(mkdir(ob, 0755), 0);
    ck_assert_int_eq(mkdir(trap, 0755), 0); /* the report's own name is a directory */
    ck_assert_int_eq(cli("model %s --tokens 3 --out %s --export-converted %s", path, ob, ex), 73);
    ck_assert_msg(access(ex, F_OK) != 0, "the export was put in place by a failed run");
    /* the same run with somewhere to write: the export is there */
    ck_assert_int_eq(rmdir(trap), 0);
    ck_assert_int_eq(cli("model %s --tokens 3 --out %s --export-converted %s", path, ob, ex), 0);
    ck_assert_int_eq(access(ex, F_OK), 0);
}
END_TEST

/* The tokens a model run's shards read are part of what merge checks: an
 * --input file changed between the shards and merge is refused (65), whatever
 * rows --recheck draws. */
START_TEST(test_model_merge_input_changed)
{
    const char *model = "models/ppocrv4-svtr.safetensors", *fixture = "models/ppocrv4-svtr-input.npy";
    if (access(model, R_OK) != 0 || access(fixture, R_OK) != 0)
        return; /* made by make models */
    char x[400], buf[1 << 16];
    snprintf(x, sizeof x, "%s/x.npy", tmpdir);
    FILE *in = fopen(fixture, "rb"), *o = fopen(x, "wb");
    ck_assert(in && o);
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        ck_assert_uint_eq(fwrite(buf, 1, n, o), n);
    fclose(in);
    ck_assert_int_eq(fclose(o), 0);
    for (int k = 0; k < 2; k++)
        ck_assert_int_eq(cli("model %s --input %s --no-export --shard %d/2 --out %s/s%d", model, x,
                             k, tmpdir, k), 0);
    /* one byte of the last value changed: another input of the same shape */
    FILE *f = fopen(x, "r+b");
    ck_assert(f != NULL);
    ck_assert_int_eq(fseek(f, -1, SEEK_END), 0);
    int c = fgetc(f);
    ck_assert_int_eq(fseek(f, -1, SEEK_END), 0);
    fputc(c ^ 1, f);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(cli("merge %s/s0 %s/s1 --recheck 0 --out %s/m", tmpdir, tmpdir, tmpdir), 65);
    ck_assert_msg(one_line() && strstr(out, "sha256"), "%s", out);
}
END_TEST

START_TEST(test_model_shards_replay)
{
    char path[400], cmd[4000];
    snprintf(path, sizeof path, "%s/m$(touch X).safetensors", tmpdir);
    mspec_t s = {"silu", "LN", 1, 0, 0, 0};
    write_model(path, &s, 5);
    ck_assert_int_eq(cli("model '%s' --tokens 3 --no-export --out %s/u", path, tmpdir), 0);
    ck_assert_int_eq(cli("model '%s' --tokens 3 --shard 0/2 --out %s/s0", path, tmpdir), 0);
    ck_assert_int_eq(cli("model '%s' --tokens 3 --shard 1/2 --out %s/s1", path, tmpdir), 0);
    ck_assert_int_eq(cli("merge %s/s0 %s/s1 --out %s/m", tmpdir, tmpdir, tmpdir), 0);
    static const char *const files[] = {"model-m__touch_X_.md", "model-m__touch_X_.csv",
                                        "model-m__touch_X_.json", "index.md"};
    for (int k = 0; k < 4; k++) {
        snprintf(cmd, sizeof cmd, "cmp -s '%s/m/%s' '%s/u/%s'", tmpdir, files[k], tmpdir,
                 files[k]);
        ck_assert_msg(system(cmd) == 0, "%s: merged and unsharded differ", files[k]);
    }
    /* every row recomputed on the claim rebuilt from the recorded arguments:
     * the same reports; a row whose E is forged (its digest made again) is
     * refused */
    ck_assert_msg(cli("merge %s/s0 %s/s1 --recheck all --out %s/ma", tmpdir, tmpdir, tmpdir) == 0,
                  "%s", out);
    for (int k = 0; k < 4; k++) {
        snprintf(cmd, sizeof cmd, "cmp -s '%s/ma/%s' '%s/u/%s'", tmpdir, files[k], tmpdir,
                 files[k]);
        ck_assert_msg(system(cmd) == 0, "%s: merged with --recheck all and unsharded differ",
                      files[k]);
    }
    {
        char ppath[500], digest[SHARD_DIGEST_HEX + 1];
        snprintf(ppath, sizeof ppath, "%s/s1/%s", tmpdir, SHARD_FILE);
        json_error_t je;
        json_t *doc = json_load_file(ppath, 0, &je);
        ck_assert_msg(doc, "%s", je.text);
        json_t *rows = json_object_get(json_array_get(json_object_get(doc, "reports"), 0), "rows");
        ck_assert_uint_gt(json_array_size(rows), 0);
        /* the last row (an exact identity that holds) says E = 1: violated,
         * which follows from that E; without recomputation merge takes it */
        json_t *row = json_array_get(rows, json_array_size(rows) - 1);
        ck_assert_str_eq(json_string_value(json_object_get(row, "verdict")), "holds");
        json_object_set_new(row, "error", json_string("1 0 0 0"));
        json_object_set_new(row, "error_abs", json_string("1 0 0 0"));
        json_object_set_new(row, "verdict", json_string("violated"));
        ck_assert_int_eq(shard_digest(digest, doc), 0);
        json_object_set_new(doc, "digest", json_string(digest));
        ck_assert_int_eq(json_dump_file(doc, ppath, JSON_COMPACT), 0);
        json_decref(doc);
        ck_assert_msg(cli("merge %s/s0 %s/s1 --recheck 0 --out %s/m0", tmpdir, tmpdir,
                          tmpdir) == 1, "%s", out);
        ck_assert_int_eq(cli("merge %s/s0 %s/s1 --recheck all --out %s/mf", tmpdir, tmpdir,
                             tmpdir), 65);
        ck_assert_msg(one_line() && strstr(out, "of shard 1 does not recompute"), "%s", out);
    }
    /* a model file that is not the one the shards ran: 65 */
    char saved[400];
    snprintf(saved, sizeof saved, "%s/saved.safetensors", tmpdir);
    ck_assert_int_eq(rename(path, saved), 0);
    mspec_t other = {"silu", "LN", 0, 0, 0, 0};
    write_model(path, &other, 5);
    ck_assert_int_eq(cli("merge %s/s0 %s/s1 --out %s/m2", tmpdir, tmpdir, tmpdir), 65);
    ck_assert_msg(strstr(out, "sha256"), "%s", out);
    /* the replay line, pasted into sh in the directory: no file X appears */
    char jpath[500];
    snprintf(jpath, sizeof jpath, "%s/u/model-m__touch_X_.json", tmpdir);
    json_error_t jerr;
    json_t *doc = json_load_file(jpath, 0, &jerr);
    ck_assert_msg(doc, "%s", jerr.text);
    const char *line = json_string_value(json_object_get(json_object_get(doc, "run"), "command"));
    ck_assert_ptr_nonnull(line);
    ck_assert_msg(strstr(line, "attncheck model '"), "%s", line);
    char script[1200];
    snprintf(script, sizeof script, "%s/replay.sh", tmpdir);
    FILE *f = fopen(script, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "attncheck() { :; }\n%s\n", line);
    fclose(f);
    json_decref(doc);
    snprintf(cmd, sizeof cmd, "cd '%s' && sh -n replay.sh && sh replay.sh", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/X", tmpdir);
    ck_assert_msg(access(cmd, F_OK) != 0, "pasting the replay line ran a command");
}
END_TEST

/* ------------------------------------------------------------ top-1 rows */

/* A 1-block GELU model whose top-1 answer turns on GELU against SiLU_a: no
 * LN, attention that adds 0 (W_O = 0), one neuron z = x_0 + b_in with
 * W_out = [0, 1] and b_out = [0, FLIP_BETA], and two logits l_0 = theta,
 * l_1 = y_1, so l_1 - l_0 = phi(z) + FLIP_BETA - theta.  theta puts the
 * midpoint of GELU(1) and SiLU_a(1) on the tie: at z = 1 (position 1) the
 * model and the converted network pick different tokens; at z = -3 and 3
 * both pick the same token by a margin of about 1.  The tokens are the
 * tensor "tokens" of the same file. */
#define FLIP_A 1.75
#define FLIP_BETA 4.0
#define FLIP_B_IN 0.5
static const double flip_z[3] = {-3, 1, 3};

static double gelu_d(double z) { return 0.5 * z * erfc(-z / sqrt(2.0)); }
static double silu_a_d(double z) { return z / (1 + exp(-FLIP_A * z)); }

static void write_flip_model(const char *path, const char *act, double theta, const double z[3])
{
    static const uint64_t s_qkv[3] = {1, 2, 1}, s_b1[2] = {1, 1}, s_O[3] = {1, 1, 2}, s_d[1] = {2},
                          s_in[2] = {2, 1}, s_1[1] = {1}, s_out[2] = {1, 2}, s_U[2] = {2, 2},
                          s_tok[2] = {3, 2};
    static const double zero[4] = {0, 0, 0, 0}, W_in[2] = {1, 0}, b_in[1] = {FLIP_B_IN},
                        W_out[2] = {0, 1}, b_out[2] = {0, FLIP_BETA};
    /* W_U [d, V] row-major: l_0 = b_U[0], l_1 = y_1 */
    static const double W_U[4] = {0, 0, 0, 1};
    double b_U[2] = {theta, 0}, tok[6];
    for (int i = 0; i < 3; i++) {
        tok[2 * i] = z[i] - FLIP_B_IN; /* exact: small dyadics */
        tok[2 * i + 1] = 0;
    }
    safetensors_entry_t t[] = {
        {"blocks.0.attn.W_Q", 3, s_qkv, zero}, {"blocks.0.attn.W_K", 3, s_qkv, zero},
        {"blocks.0.attn.W_V", 3, s_qkv, zero}, {"blocks.0.attn.b_Q", 2, s_b1, zero},
        {"blocks.0.attn.b_K", 2, s_b1, zero},  {"blocks.0.attn.b_V", 2, s_b1, zero},
        {"blocks.0.attn.W_O", 3, s_O, zero},   {"blocks.0.attn.b_O", 1, s_d, zero},
        {"blocks.0.mlp.W_in", 2, s_in, W_in},  {"blocks.0.mlp.b_in", 1, s_1, b_in},
        {"blocks.0.mlp.W_out", 2, s_out, W_out}, {"blocks.0.mlp.b_out", 1, s_d, b_out},
        {"unembed.W_U", 2, s_U, W_U},          {"unembed.b_U", 1, s_d, b_U},
        {"tokens", 2, s_tok, tok}};
    const char *mk[] = {"config"};
    char config[300];
    snprintf(config, sizeof config, "{\"d_model\": 2, \"n_layers\": 1, \"n_heads\": 1, "
             "\"d_head\": 1, \"d_mlp\": 1, \"act_fn\": \"%s\", \"normalization_type\": "
             "\"none\", \"attention_dir\": \"causal\"}", act);
    const char *mv[] = {config};
    char err[300];
    ck_assert_msg(safetensors_write_f64(path, t, sizeof t / sizeof t[0], mk, mv, 1, err,
                                        sizeof err) == 0, "%s", err);
}

/* The console line of row `check` at position pos (NULL when absent). */
static const char *pos_line(char *buf, size_t n, const char *check, long pos)
{
    char head[64];
    snprintf(head, sizeof head, "    %-12s pos %-5ld ", check, pos);
    const char *l = strstr(out, head);
    if (!l)
        return NULL;
    const char *e = strchr(l, '\n');
    size_t len = e ? (size_t)(e - l) : strlen(l);
    snprintf(buf, n, "%.*s", (int)len, l);
    return buf;
}

/* A GELU model converted with one SiLU_a head per neuron, whose top-1
 * answer changes on position 1: the run exits 1 naming that position, the
 * other positions and the SiLU_a twin rows hold; the report's row carries
 * the position; a mutation that moves the logits is caught by top1 and
 * real. */
START_TEST(test_top1_flip)
{
    char path[400], line[300], input[500];
    snprintf(path, sizeof path, "%s/flip.safetensors", tmpdir);
    snprintf(input, sizeof input, "%s:tokens", path);
    write_flip_model(path, "gelu", FLIP_BETA + (gelu_d(1) + silu_a_d(1)) / 2, flip_z);
    /* the fixture is what it says: the tie falls between the two activations */
    double d_gelu = gelu_d(1) - silu_a_d(1);
    ck_assert(fabs(d_gelu) > 1e-3);
    long model_top = d_gelu > 0, conv_top = !model_top;
    /* --tol 1: `real` holds (|GELU - SiLU_a| < 0.02 here), so the exit is top1's */
    ck_assert_int_eq(cli("model %s --input %s --act-a %g --tol 1 --no-export --format json --out "
                         "%s/r", path, input, FLIP_A, tmpdir), 1);
    ck_assert_msg(strstr(out, "real         block all") &&
                      strstr(strstr(out, "real         block all"), "holds\n"),
                  "%s", out);
    ck_assert_msg(strstr(out, "model-silu_a block all") &&
                      strstr(strstr(out, "model-silu_a block all"), "holds\n") &&
                      strstr(out, "mlp-silu_a   block 0   E <= ") &&
                      strstr(strstr(out, "mlp-silu_a   block 0   E <= "), "holds\n"),
                  "%s", out);
    char want[200];
    ck_assert_msg(pos_line(line, sizeof line, "top1", 1), "%s", out);
    snprintf(want, sizeof want, "top-1 model %ld, converted %ld  violated", model_top, conv_top);
    ck_assert_msg(strstr(line, want), "%s", line);
    for (long p = 0; p < 3; p += 2) {
        ck_assert_msg(pos_line(line, sizeof line, "top1", p), "%s", out);
        snprintf(want, sizeof want, "top-1 model %ld, converted %ld  holds", (long)(flip_z[p] > 0),
                 (long)(flip_z[p] > 0));
        ck_assert_msg(strstr(line, want), "%s", line);
    }
    /* the report's violated row is the top1 row at pos 1 (and only that one) */
    char jpath[500];
    snprintf(jpath, sizeof jpath, "%s/r/model-flip.json", tmpdir);
    json_error_t jerr;
    json_t *doc = json_load_file(jpath, 0, &jerr);
    ck_assert_msg(doc, "%s", jerr.text);
    json_t *rows = json_object_get(doc, "rows"), *row;
    size_t k;
    int violated = 0;
    json_array_foreach(rows, k, row) {
        if (strcmp(json_string_value(json_object_get(row, "verdict")), "violated") != 0)
            continue;
        violated++;
        json_t *par = json_object_get(row, "params");
        ck_assert_str_eq(json_string_value(json_object_get(par, "check")), "top1");
        ck_assert_str_eq(json_string_value(json_object_get(par, "pos")), "1");
    }
    ck_assert_int_eq(violated, 1);
    json_decref(doc);
    /* drop-b-out moves l_1 by -FLIP_BETA: position 2's answer changes and
     * `real` is off by FLIP_BETA > --tol; the attention rows cannot see it,
     * so the mutated run exits 3 */
    ck_assert_int_eq(cli("model %s --input %s --act-a %g --tol 1 --no-write --mutate drop-b-out",
                         path, input, FLIP_A), 3);
    ck_assert_msg(pos_line(line, sizeof line, "top1", 2) && strstr(line, "violated"), "%s", out);
    ck_assert_msg(strstr(strstr(out, "real         block all"), "violated\n"), "%s", out);
    /* every mutation: caught (1) or said undetected (3), never a pass */
    for (int m = 1; m < CONVERT_N_MUT; m++) {
        int rc = cli("model %s --input %s --act-a %g --tol 1 --no-write --mutate %s", path, input,
                     FLIP_A, convert_mutation[m][0]);
        ck_assert_msg(rc == 1 || rc == 3, "%s: exit %d\n%s", convert_mutation[m][0], rc, out);
        ck_assert_msg(rc == 1 || strstr(out, "not detected"), "%s", out);
    }
}
END_TEST

/* An exact tie is no top-1: the same fixture with silu (exact) and theta =
 * FLIP_BETA, so that at z = 0 both logits are FLIP_BETA in the model and in
 * the converted network: that position is inconclusive at every precision
 * (exit 2), never holds; the others hold. */
START_TEST(test_top1_tie)
{
    static const double z[3] = {-3, 0, 3};
    char path[400], line[300], input[500];
    snprintf(path, sizeof path, "%s/tie.safetensors", tmpdir);
    snprintf(input, sizeof input, "%s:tokens", path);
    write_flip_model(path, "silu", FLIP_BETA, z);
    ck_assert_int_eq(cli("model %s --input %s --no-write", path, input), 2);
    ck_assert_msg(pos_line(line, sizeof line, "top1", 1) && strstr(line, "inconclusive"), "%s",
                  out);
    for (long p = 0; p < 3; p += 2)
        ck_assert_msg(pos_line(line, sizeof line, "top1", p) && strstr(line, "  holds"), "%s",
                      out);
}
END_TEST

/* A silu model with an unembedding: the conversion is exact, every top1 row
 * holds (the model's top-1 certified, the converted network's strictly the
 * same); a mutation that breaks the stream moves some answer. */
START_TEST(test_top1_silu)
{
    char path[400], line[300];
    snprintf(path, sizeof path, "%s/su.safetensors", tmpdir);
    mspec_t s = {"silu", "LN", 1, 0, 0, 0};
    write_model_vocab(path, &s, 9, 7);
    ck_assert_int_eq(cli("model %s --tokens 5 --no-write", path), 0);
    for (long p = 0; p < 5; p++) {
        ck_assert_msg(pos_line(line, sizeof line, "top1", p), "%s", out);
        ck_assert_msg(strstr(line, "  holds"), "%s", line);
    }
    ck_assert_msg(!pos_line(line, sizeof line, "top1", 5), "%s", out);
    ck_assert_msg(strstr(out, "0 violated"), "%s", out);
    /* mutated: the exit rule of every row, top1 rows included */
    for (int m = 1; m < CONVERT_N_MUT; m++) {
        int rc = cli("model %s --tokens 5 --no-write --mutate %s", path, convert_mutation[m][0]);
        ck_assert_msg(rc == 1 || rc == 3, "%s: exit %d\n%s", convert_mutation[m][0], rc, out);
    }
}
END_TEST

/* The CLI run with its working directory set to a fresh empty directory
 * (no models/ there: the real-model fixture is missing). */
static int cli_elsewhere(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int cli_elsewhere(const char *fmt, ...)
{
    const char *bin = getenv("ATTNCHECK_BIN");
    char abs[2048], dir[400], args[2048], cmd[5000];
    if (!bin)
        bin = "./build/attncheck";
    if (bin[0] == '/') {
        snprintf(abs, sizeof abs, "%s", bin);
    } else {
        char cwd[1024];
        ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
        snprintf(abs, sizeof abs, "%s/%s", cwd, bin);
    }
    snprintf(dir, sizeof dir, "%s/elsewhere", tmpdir);
    ck_assert(mkdir(dir, 0700) == 0 || errno == EEXIST);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    /* the paths are the test's own (no quote in them) */
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s 2>&1", dir, abs, args);
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    while (fgetc(f) != EOF) {
    }
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Without the fixture the real-model claims are skipped, and nothing fails. */
START_TEST(test_skipped)
{
    int rc = cli_elsewhere("verify model-svtr model-svtr-mlp model-svtr-encoded --out %s/s",
                           tmpdir);
    ck_assert_msg(rc == 0, "%s", out);
    ck_assert(strstr(out, "skipped") && strstr(out, "make models"));
    char path[400];
    snprintf(path, sizeof path, "%s/s/model-svtr.json", tmpdir);
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    ck_assert_msg(doc, "%s", jerr.text);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "status")), "skipped");
    json_decref(doc);
}
END_TEST

/* Skipped claims in a sharded run: every shard says so, and the merge gives
 * what an unsharded run writes. */
START_TEST(test_skipped_shards)
{
    int rc0 = cli_elsewhere("verify model-svtr neuron-head --prec 53 --shard 0/2 --out %s/s0",
                            tmpdir);
    int rc1 = cli_elsewhere("verify model-svtr neuron-head --prec 53 --shard 1/2 --out %s/s1",
                            tmpdir);
    int rcu = cli_elsewhere("verify model-svtr neuron-head --prec 53 --out %s/u", tmpdir);
    ck_assert(rc0 == 0 && rc1 == 0 && rcu == 0);
    ck_assert_int_eq(cli_elsewhere("merge %s/s0 %s/s1 --out %s/m", tmpdir, tmpdir, tmpdir), 0);
    static const char *const files[] = {"index.md", "model-svtr.md", "model-svtr.json",
                                        "model-svtr.csv", "neuron-head.json"};
    for (int k = 0; k < 5; k++) {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "cmp -s %s/m/%s %s/u/%s", tmpdir, files[k], tmpdir, files[k]);
        ck_assert_msg(system(cmd) == 0, "%s: merged and unsharded differ", files[k]);
    }
}
END_TEST

/* The real model, where `make models` made it: its report, its export, and
 * the numpy reference on the export. */
START_TEST(test_svtr)
{
    if (access("models/ppocrv4-svtr.safetensors", R_OK) != 0 ||
        access("models/ppocrv4-svtr-input.npy", R_OK) != 0) {
        fprintf(stderr, "check_model: models/ppocrv4-svtr.safetensors absent: skipped (run make "
                        "models)\n");
        return;
    }
    ck_assert_int_eq(cli("model models/ppocrv4-svtr.safetensors --input "
                         "models/ppocrv4-svtr-input.npy --out %s/r --export-converted "
                         "%s/svtr.safetensors",
                         tmpdir, tmpdir), 0);
    ck_assert_msg(strstr(out, "5 rows: 5 holds, 0 violated") &&
                      strstr(out, "8 original + 241 converted = 249"),
                  "%s", out);
    if (mio_have_python("numpy", "check_model: run_export.py")) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 scripts/run_export.py %s/svtr.safetensors "
                 ">/dev/null", tmpdir);
        ck_assert_int_eq(system(cmd), 0);
    }
}
END_TEST

/* ------------------------------------------------------------ --arith */

/* The model's float twin (arith_claim.h on the model claim): in binary64 a
 * silu model's converted network is as good as the model in binary64
 * (holds); the twin's mutations break the converted network (every row
 * violated); merged shards are the unsharded run byte for byte, the
 * recorded run naming the format; an unknown format is a usage error. */
START_TEST(test_model_arith)
{
    char path[400], cmd[1200];
    snprintf(path, sizeof path, "%s/f.safetensors", tmpdir);
    mspec_t s = {"silu", "LN", 1, 0, 0, 0};
    write_model(path, &s, 7);
    ck_assert_int_eq(cli("model %s --tokens 4 --arith binary64 --no-write", path), 0);
    ck_assert_msg(strstr(out, "model-f.binary64") && strstr(out, "1 rows: 1 holds") &&
                      strstr(out, "E_conv <= ") && strstr(out, "float computation: yes"),
                  "%s", out);
    /* a gelu model converts to its SiLU_a twin: the float row measures the
     * network's float cost against the twin, and runs the twin in F beside it
     * (not the real model, whose distance is the row `real`) */
    char gpath[400];
    snprintf(gpath, sizeof gpath, "%s/g.safetensors", tmpdir);
    mspec_t sg = {"gelu", "LN", 1, 0, 0, 0};
    write_model(gpath, &sg, 7);
    ck_assert_int_eq(cli("model %s --tokens 4 --arith binary64 --no-write", gpath), 0);
    ck_assert_msg(strstr(out, "1 rows: 1 holds"), "%s", out);
    ck_assert_int_eq(cli("model %s --tokens 4 --arith binary64 --no-export --out %s/g", gpath,
                         tmpdir), 0);
    snprintf(cmd, sizeof cmd, "grep -q \"SiLU_a twin: 2 pre-LN blocks\" '%s/g/model-g.binary64.json'",
             tmpdir);
    ck_assert_msg(system(cmd) == 0, "the float row's original is not the SiLU_a twin");
    ck_assert_int_eq(cli("model %s --tokens 4 --arith binary64 --mutate converted-weight "
                         "--no-write", gpath), 1);
    /* sums of SiLU heads have no float sequence: refused, not run as another twin */
    ck_assert_int_eq(cli("model %s --tokens 4 --arith binary64 --heads-per-neuron 2 "
                         "--no-write", gpath), 64);
    ck_assert_msg(one_line() && strstr(out, "heads-per-neuron"), "%s", out);
    ck_assert_int_eq(cli("model %s --tokens 4 --arith binary64 --mutate converted-weight "
                         "--no-write", path), 1);
    ck_assert_msg(strstr(out, "1 violated"), "%s", out);
    ck_assert_int_eq(cli("model %s --tokens 4 --arith binary64 --mutate converted-query "
                         "--no-write", path), 1);
    /* the conversion's mutations are not the twin's, nor the twin's the conversion's */
    ck_assert_int_eq(cli("model %s --arith binary64 --mutate ln-cf --no-write", path), 64);
    ck_assert_int_eq(cli("model %s --mutate converted-weight --no-write", path), 64);
    ck_assert_int_eq(cli("model %s --arith binary8 --no-write", path), 64);
    ck_assert_int_eq(cli("model %s --order pairwise --no-write", path), 64);

    /* shards and merge: byte-identical to the unsharded run */
    const char *opts = "--tokens 4 --arith bfloat16 --accumulate binary32 --order pairwise";
    int want = cli("model %s %s --no-export --out %s/u", path, opts, tmpdir);
    ck_assert_msg(want == 0 || want == 1, "%s", out);
    /* one row: shard 0 runs it, shard 1 none */
    ck_assert_int_eq(cli("model %s %s --shard 0/2 --out %s/s0", path, opts, tmpdir), want);
    ck_assert_int_eq(cli("model %s %s --shard 1/2 --out %s/s1", path, opts, tmpdir), 0);
    ck_assert_int_eq(cli("merge %s/s0 %s/s1 --out %s/m", tmpdir, tmpdir, tmpdir), want);
    static const char *const files[] = {"model-f.bfloat16.acc-binary32.pairwise.md",
                                        "model-f.bfloat16.acc-binary32.pairwise.csv",
                                        "model-f.bfloat16.acc-binary32.pairwise.json",
                                        "index.md"};
    for (int k = 0; k < 4; k++) {
        snprintf(cmd, sizeof cmd, "cmp -s '%s/m/%s' '%s/u/%s'", tmpdir, files[k], tmpdir,
                 files[k]);
        ck_assert_msg(system(cmd) == 0, "%s: merged and unsharded differ", files[k]);
    }
    char jpath[600];
    snprintf(jpath, sizeof jpath, "%s/u/%s", tmpdir, files[2]);
    json_error_t jerr;
    json_t *doc = json_load_file(jpath, 0, &jerr);
    ck_assert_msg(doc, "%s", jerr.text);
    const char *line = json_string_value(json_object_get(json_object_get(doc, "run"), "command"));
    ck_assert_msg(line && strstr(line, "--arith bfloat16 --accumulate binary32 --order pairwise"),
                  "%s", line ? line : "(none)");
    json_decref(doc);
    /* the float row states its LayerNorm conditioning (the model has LN) */
    snprintf(cmd, sizeof cmd, "grep -q 'LN conditioning' '%s'", jpath);
    ck_assert_msg(system(cmd) == 0, "no LN conditioning column in %s", jpath);
}
END_TEST

/* The converted weights of layers [l0, l1) of a network, counted. */
static double net_entries(const aonet_t *A, long l0, long l1)
{
    double entries = 0;
    for (long l = l0; l < l1; l++)
        for (long g = 0; g < A->layers[l].n_groups; g++) {
            const aonet_group_t *G = A->layers[l].groups + g;
            entries += (double)(G->W_Q->rows * G->W_Q->cols + G->W_K->rows * G->W_K->cols +
                                G->W_V->rows * G->W_V->cols + G->W_O->rows * G->W_O->cols);
        }
    return entries;
}

/* --arith runs the converted network and the model's blocks handed over one
 * block at a time (instance_t.source): the float measurements and the
 * original in the format are those of the instance held whole, ball for
 * ball, in every format; the float row's estimate is above the plain
 * end-to-end row's by at least one block's converted balls, and a
 * --max-memory under it refuses the run (65) before any row runs. */
START_TEST(test_model_arith_memory)
{
    char path[400], err[600];
    snprintf(path, sizeof path, "%s/f.safetensors", tmpdir);
    mspec_t s = {"gelu", "LN", 1, 0, 0, 0};
    write_model(path, &s, 7);
    model_spec_t spec = {.file = path, .tokens = 4, .seed = 1, .prec = MODEL_PREC_DEFAULT};
    model_claim_t *plain = NULL, *twin = NULL;
    ck_assert_int_eq(model_claim_open(&plain, &spec, 1, 1e12, err, sizeof err), 0);
    spec.arith = 1;
    ck_assert_int_eq(model_claim_open(&twin, &spec, 1, 1e12, err, sizeof err), 0);
    const claim_t *cp = model_claim(plain), *ct = model_claim(twin);
    ck_assert_str_eq(ct->quick[0].axes[0].values, "float");
    ck_assert_ptr_null(ct->quick[1].label);
    ck_assert_ptr_nonnull(ct->run_instance);
    params_t pp = {.n = 2, .name = {"check", "block"}, .value = {"model", "all"}, .ctx = plain};
    params_t pt = {.n = 2, .name = {"check", "block"}, .value = {"float", "all"}, .ctx = twin};
    instance_t H, S;
    instance_init(&H);
    instance_init(&S);
    ck_assert_int_eq(ct->export_instance(&H, &pt, 1, MODEL_PREC_DEFAULT), 0);
    ck_assert_int_eq(ct->run_instance(&S, &pt, 1, MODEL_PREC_DEFAULT), 0);
    ck_assert_int_eq(H.net.n_layers, 2 * MLAYERS);
    ck_assert_int_eq(H.orig.n_stages, MLAYERS);
    ck_assert(!H.source.net && !H.source.orig);
    ck_assert_int_eq(S.net.n_layers, 0);
    ck_assert_int_eq(S.orig.n_stages, 0);
    ck_assert(instance_has_net(&S) && instance_has_orig(&S));
    ck_assert_int_eq(H.orig_row0, 1);
    ck_assert_int_eq(H.orig_in->rows, 4);
    ck_assert(H.orig_tokens_given && S.orig_tokens_given);
    static const fpf_format_t *const fmts[] = {&fpf_binary64, &fpf_binary32, &fpf_bfloat16,
                                               &fpf_binary16};
    for (int k = 0; k < 4; k++) {
        fpnet_opts_t o = {.ar = {fmts[k], fmts[k], FPF_SUM_SEQUENTIAL}, .omega_col = -1};
        fpnet_measure_t mh, ms;
        fpnet_measure_init(&mh);
        fpnet_measure_init(&ms);
        ck_assert_int_eq(fpnet_measure(&mh, &H, &o, fmts[k], 1, 4, MD, MODEL_PREC_DEFAULT), 0);
        ck_assert_int_eq(fpnet_measure(&ms, &S, &o, fmts[k], 1, 4, MD, MODEL_PREC_DEFAULT), 0);
        ck_assert_msg(arb_equal(mh.E_ref, ms.E_ref) && arb_equal(mh.D, ms.D) &&
                          arb_equal(mh.E_exact, ms.E_exact) && mh.off_grid == ms.off_grid,
                      "%s: the streamed network measures differently", fmts[k]->name);
        ck_assert(arb_is_finite(mh.E_ref) && arb_is_positive(mh.E_ref));
        fpf_mat_t Yh, Ys;
        ck_assert_int_eq(fpnet_orig_apply(Yh, &H, &o.ar, err, sizeof err), 0);
        ck_assert_int_eq(fpnet_orig_apply(Ys, &S, &o.ar, err, sizeof err), 0);
        for (long e = 0; e < Yh->rows * Yh->cols; e++)
            ck_assert_msg(mpfr_equal_p(Yh->e + e, Ys->e + e), "%s: original differs at %ld",
                          fmts[k]->name, e);
        fpf_mat_clear(Yh);
        fpf_mat_clear(Ys);
        fpnet_measure_clear(&mh);
        fpnet_measure_clear(&ms);
    }
    double block_entries = net_entries(&H.net, 0, 2);
    instance_clear(&H);
    instance_clear(&S);
    double ep = cp->estimate_bytes(&pp, MODEL_PREC_DEFAULT);
    double et = ct->estimate_bytes(&pt, MODEL_PREC_DEFAULT);
    ck_assert_msg(et - ep >= block_entries * (double)sizeof(arb_struct), "%g %g %g", et, ep,
                  block_entries);
    model_claim_free(plain);
    model_claim_free(twin);
    /* a limit under the float row's estimate: refused before work */
    char limit[64];
    snprintf(limit, sizeof limit, "%.0f", et * 0.75);
    ck_assert_int_eq(cli("model %s --tokens 4 --arith binary32 --no-write --max-memory %s", path,
                         limit), 65);
    ck_assert_msg(one_line() && strstr(out, "memory"), "%s", out);
}
END_TEST

/* ------------------------------------------------------- heads per neuron */

/* The report dir/model-m<suffix>.json of a model run (file m.safetensors). */
static json_t *heads_report(const char *dir, const char *suffix)
{
    char jpath[600];
    json_error_t jerr;
    snprintf(jpath, sizeof jpath, "%s/model-m%s.json", dir, suffix);
    json_t *doc = json_load_file(jpath, 0, &jerr);
    ck_assert_msg(doc != NULL, "%s: %s", jpath, jerr.text);
    return doc;
}

/* The row of check with key = v (block or pos) in a report. */
static json_t *heads_row(json_t *doc, const char *check, const char *key, const char *v)
{
    size_t k;
    json_t *r;
    json_array_foreach(json_object_get(doc, "rows"), k, r) {
        json_t *p = json_object_get(r, "params");
        const char *c = json_string_value(json_object_get(p, "check"));
        const char *w = json_string_value(json_object_get(p, key));
        if (c && w && !strcmp(c, check) && !strcmp(w, v))
            return r;
    }
    return NULL;
}

static const char *heads_verdict(json_t *doc, const char *check, const char *key, const char *v)
{
    json_t *r = heads_row(doc, check, key, v);
    ck_assert_msg(r != NULL, "no row %s %s=%s", check, key, v);
    return json_string_value(json_object_get(r, "verdict"));
}

/* m heads per neuron (gelu, gelu_new, relu; m = 2, 3): the twin rows are
 * exact for sum_j c_j SiLU_{a_j} and hold, the mlp rows hold against G sum
 * ||W_out||, the network has H + m d_mlp + 1 heads per block; drop-head (the
 * last head of every neuron silenced) makes the twin rows violated. */
START_TEST(test_heads_per_neuron)
{
    static const char *const acts[] = {"gelu", "gelu_new", "relu"};
    int m = 2 + _i % 2;
    mspec_t s = {acts[_i / 2], "LN", 1, 0, 0, 0};
    char path[400], dir[500];
    snprintf(path, sizeof path, "%s/m.safetensors", tmpdir);
    write_model(path, &s, test_seed() + 300 + (unsigned long)_i);
    snprintf(dir, sizeof dir, "%s/r", tmpdir);
    ck_assert_int_eq(cli("model %s --tokens 3 --heads-per-neuron %d --tol 1 --format json "
                         "--no-export --out %s", path, m, dir), 0);
    json_t *doc = heads_report(dir, "");
    json_t *det = json_object_get(doc, "details");
    ck_assert_int_eq(json_integer_value(json_object_get(det, "heads")),
                     MLAYERS * (MH + m * ML + 1));
    json_t *hp = json_object_get(det, "heads_per_neuron");
    ck_assert_int_eq((int)json_array_size(hp), MLAYERS);
    for (int b = 0; b < MLAYERS; b++) {
        char v[16];
        snprintf(v, sizeof v, "%d", b);
        ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(hp, (size_t)b), "m")),
                         m);
        ck_assert_str_eq(heads_verdict(doc, "mlp-silu_a", "block", v), "holds");
        ck_assert_str_eq(heads_verdict(doc, "mlp", "block", v), "holds");
        json_t *r = heads_row(doc, "mlp", "block", v);
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "extra"),
                                                           "heads per neuron")), m == 2 ? "2" : "3");
    }
    ck_assert_str_eq(heads_verdict(doc, "model-silu_a", "block", "all"), "holds");
    json_decref(doc);
    /* the broken twin: the last head of every neuron outputs 0 */
    snprintf(dir, sizeof dir, "%s/mut", tmpdir);
    int rc = cli("model %s --tokens 3 --heads-per-neuron %d --tol 1 --format json --no-export "
                 "--out %s --mutate drop-head", path, m, dir);
    ck_assert_msg(rc == 1 || rc == 3, "exit %d: %s", rc, out);
    doc = heads_report(dir, ".mutated-drop-head");
    ck_assert_str_eq(heads_verdict(doc, "mlp-silu_a", "block", "0"), "violated");
    ck_assert_str_eq(heads_verdict(doc, "model-silu_a", "block", "all"), "violated");
    json_decref(doc);
}
END_TEST

/* --tol chooses the heads: loose, one per neuron; T below E(m = 1), the
 * greedy search stops at the first m whose certified E is <= T (every try
 * before it above T) and `real` holds; T unreachable, every block at 8 and
 * `real` violated.  Refusals: m outside 1..8, with --act-a, exact models. */
START_TEST(test_heads_tol)
{
    mspec_t s = {"gelu", "LN", 1, 0, 0, 0}, e = {"silu", "LN", 1, 0, 0, 0};
    char path[400], silu[400], dir[500];
    snprintf(path, sizeof path, "%s/m.safetensors", tmpdir);
    snprintf(silu, sizeof silu, "%s/s.safetensors", tmpdir);
    write_model(path, &s, test_seed() + 310);
    write_model(silu, &e, test_seed() + 311);
    snprintf(dir, sizeof dir, "%s/loose", tmpdir);
    ck_assert_int_eq(cli("model %s --tokens 3 --tol 1 --format json --no-export --out %s", path,
                         dir), 0);
    json_t *doc = heads_report(dir, "");
    json_t *det = json_object_get(doc, "details");
    ck_assert(json_is_true(json_object_get(det, "heads_chosen_by_tol")));
    for (int b = 0; b < MLAYERS; b++)
        ck_assert_int_eq(json_integer_value(json_object_get(
                             json_array_get(json_object_get(det, "heads_per_neuron"), (size_t)b),
                             "m")), 1);
    double E1 = atof(json_string_value(json_object_get(
        json_object_get(heads_row(doc, "real", "block", "all"), "error"), "hi")));
    ck_assert(E1 > 0);
    json_decref(doc);
    /* T = E(m = 1) / 4 */
    snprintf(dir, sizeof dir, "%s/tight", tmpdir);
    int rc = cli("model %s --tokens 3 --tol %.6g --format json --no-export --out %s", path,
                 E1 / 4, dir);
    doc = heads_report(dir, "");
    det = json_object_get(doc, "details");
    const char *trail = json_string_value(json_object_get(det, "heads_trail"));
    ck_assert_ptr_nonnull(trail);
    int tries = 0, total = 0;
    for (const char *p = strstr(trail, "E <= "); p; p = strstr(p + 1, "E <= "))
        total++;
    for (const char *p = strstr(trail, "E <= "); p; p = strstr(p + 1, "E <= ")) {
        double E = atof(p + 5);
        if (++tries < total)
            ck_assert_msg(E > E1 / 4, "try %d of %s: E %g <= T", tries, trail, E);
    }
    ck_assert_msg(total >= 2, "%s", trail);
    if (!strstr(trail, "not certified")) {
        ck_assert_int_eq(rc, 0);
        ck_assert_str_eq(heads_verdict(doc, "real", "block", "all"), "holds");
    }
    json_decref(doc);
    /* unreachable */
    snprintf(dir, sizeof dir, "%s/never", tmpdir);
    ck_assert_int_eq(cli("model %s --tokens 3 --tol 0 --format json --no-export --out %s",
                         path, dir), 1);
    doc = heads_report(dir, "");
    det = json_object_get(doc, "details");
    ck_assert(strstr(json_string_value(json_object_get(det, "heads_trail")), "not certified"));
    ck_assert_str_eq(heads_verdict(doc, "real", "block", "all"), "violated");
    for (int b = 0; b < MLAYERS; b++)
        ck_assert_int_eq(json_integer_value(json_object_get(
                             json_array_get(json_object_get(det, "heads_per_neuron"), (size_t)b),
                             "m")), 8);
    json_decref(doc);
    /* refusals: one line, the documented code */
    ck_assert_int_eq(cli("model %s --tokens 3 --heads-per-neuron 0 --no-write", path), 64);
    ck_assert(one_line());
    ck_assert_int_eq(cli("model %s --tokens 3 --heads-per-neuron 9 --no-write", path), 64);
    ck_assert_int_eq(cli("model %s --tokens 3 --heads-per-neuron 2 --act-a 2 --no-write", path),
                     64);
    ck_assert(one_line());
    ck_assert_int_eq(cli("model %s --tokens 3 --heads-per-neuron 2 --no-write", silu), 65);
    ck_assert_msg(one_line() && strstr(out, "exactly"), "%s", out);
}
END_TEST

Suite *suite_model(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("model");
    tcase_set_timeout(tc, 600);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_ln_oracle, 0, 10);
    tcase_add_loop_test(tc, test_tblock_oracle, 0, 12);
    tcase_add_loop_test(tc, test_parallel_exact, 0, CONVERT_N_FORMS * N_PARALLEL_SPECS);
    tcase_add_loop_test(tc, test_parallel_approx, 0, 2 * CONVERT_N_FORMS);
    tcase_add_loop_test(tc, test_parallel_mutations, 0, 10 * CONVERT_N_FORMS);
    tcase_add_test(tc, test_parallel_cli);
    tcase_add_loop_test(tc, test_convert_exact, 0, CONVERT_N_FORMS * N_EXACT_SPECS);
    tcase_add_loop_test(tc, test_convert_mutations, 0, 20 * CONVERT_N_FORMS);
    tcase_add_loop_test(tc, test_convert_approx, 0, 4 * CONVERT_N_FORMS);
    tcase_add_loop_test(tc, test_shared_converted_output, 0, 2);
    tcase_add_loop_test(tc, test_apply_pair, 0, 4);
    tcase_add_test(tc, test_act_defaults);
    tcase_add_loop_test(tc, test_encoded, 0, 2 * CONVERT_N_FORMS);
    tcase_add_loop_test(tc, test_bias_row_bitwise, 0, 8);
    tcase_add_test(tc, test_export_roundtrip);
    tcase_add_test(tc, test_cli_model);
    tcase_add_test(tc, test_model_shards_replay);
    tcase_add_test(tc, test_model_merge_input_changed);
    tcase_add_test(tc, test_model_export_only_with_reports);
    tcase_add_test(tc, test_model_arith);
    tcase_add_test(tc, test_model_arith_memory);
    tcase_add_test(tc, test_top1_flip);
    tcase_add_test(tc, test_top1_tie);
    tcase_add_test(tc, test_top1_silu);
    tcase_add_loop_test(tc, test_claim_exports, 0,
                        (int)(sizeof exporting / sizeof exporting[0]));
    tcase_add_test(tc, test_claim_export_refused);
    tcase_add_loop_test(tc, test_claim_export_decimal_params, 0,
                        (int)(sizeof decimal_exports / sizeof decimal_exports[0]));
    tcase_add_test(tc, test_softmax_monotone);
    tcase_add_test(tc, test_skipped);
    tcase_add_test(tc, test_skipped_shards);
    tcase_add_test(tc, test_svtr);
    suite_add_tcase(s, tc);
    TCase *th = tcase_create("heads");
    tcase_set_timeout(th, 600);
    tcase_add_checked_fixture(th, setup, teardown);
    tcase_add_loop_test(th, test_heads_per_neuron, 0, 6);
    tcase_add_test(th, test_heads_tol);
    suite_add_tcase(s, th);
    return s;
}
