/* `attncheck model FILE` as a claim (model_claim.h). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include <nettle/sha2.h>
#include "exitcodes.h"
#include "maskenc.h"
#include "model_claim.h"
#include "runner.h"
#include "tensorload.h"
#include "xalloc.h"

/* Drawn tokens: entries k/2^10, 0 < |k| <= 2^12, uniform (values in [-4, 4]). */
#define MODEL_TOKEN_BITS 12
#define MODEL_TOKEN_SCALE_LOG2 2

struct model_claim {
    claim_t claim;
    char id[128], statement[600], sha[65], tokens_text[300];
    char input_sha[65];       /* sha256 of the --input file ("" for drawn tokens) */
    char identity[140];       /* what a shard records: the model's sha256, "+" the input's */
    char *blocks, *positions;        /* the block and pos axes' values */
    char *file, *input;
    tmodel_t *m;
    const tmodel_config_t *cfg;
    convert_act_t ca;
    int approx, act_ready;
    imat_t X;                         /* the tokens, exact */
    long n, d, L;
    mpfr_prec_t prec, stream_prec, e2e_prec;
    int has_omega, arith;
    arb_t omega;
    int has_tol;
    arb_t tol;                        /* absolute tolerance of `real` */
    long V;                           /* d_vocab (0: no top-1 rows) */
    double *W_U, *b_U;                /* the unembedding, exact doubles */
    /* the original's streams entering block b's attention (h_attn[b]) and
     * MLP (h_mlp[b]), exact midpoints at stream_prec, made on first use */
    pthread_mutex_t stream_lock;
    long streams_done;
    imat_struct *h_attn, *h_mlp;
    /* per block, the converted layer's output the check and its SiLU_a twin share */
    mcheck_shared_t *shared;
    int stream_rc;
    char stream_err[300];
    /* end-to-end outputs per (precision, mutation), made on first use */
    pthread_mutex_t e2e_lock;
    mcheck_e2e_t **e2e;
    long n_e2e;
    convert_form_t form;              /* the conversion's form */
    /* m heads per neuron (--heads-per-neuron, or chosen by --tol): per
     * block m, the certified sup gap over the line and over the certified
     * range of the pre-activations, sum_k ||W_out[k,:]||, the bound */
    int *heads_m;                     /* NULL: one SiLU_a head per neuron */
    int heads_chosen;                 /* 1: by --tol */
    arb_ptr eps_line, eps_range, w_sum, bound;
    double *zmax;
    char *trail;                      /* --tol: the end-to-end E of each m tried */
    char tol_text[64];                /* --tol as given */
};

/* ------------------------------------------------------------- the facts */

int model_file_sha256(char hex[65], const char *path)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0)
        return -1;
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    unsigned char buf[1 << 16];
    ssize_t got;
    while ((got = read(fd, buf, sizeof buf)) > 0)
        sha256_update(&ctx, (size_t)got, buf);
    close(fd);
    if (got < 0)
        return -1;
    unsigned char dig[SHA256_DIGEST_SIZE];
    sha256_digest(&ctx, sizeof dig, dig);
    for (int k = 0; k < SHA256_DIGEST_SIZE; k++)
        snprintf(hex + 2 * k, 3, "%02x", dig[k]);
    return 0;
}

/* "model-NAME": the file's base name without .safetensors, characters
 * other than letters, digits, '.', '_' and '-' as '_'. */
static void claim_name(char *buf, size_t n, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t len = strlen(base);
    if (len > 12 && strcmp(base + len - 12, ".safetensors") == 0)
        len -= 12;
    if (len > 80)
        len = 80;
    size_t k = (size_t)snprintf(buf, n, "model-");
    for (size_t i = 0; i < len && k + 1 < n; i++) {
        char ch = base[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '.' || ch == '_' || ch == '-';
        buf[k++] = ok ? ch : '_';
    }
    buf[k] = '\0';
}

/* "0,1,...,n-1" */
static char *count_list(long n)
{
    size_t cap = (size_t)n * 12 + 2, len = 0;
    char *s = xmalloc(cap);
    s[0] = '\0';
    for (long k = 0; k < n; k++)
        len += (size_t)snprintf(s + len, cap - len, "%s%ld", k ? "," : "", k);
    return s;
}

/* ------------------------------------------------------------- estimates */

/* One row's working memory (an estimate made before any work): one block's
 * weights read as balls, its two converted layers (about as large again,
 * plus a D x d_mlp query matrix), the streams and a layer's projections,
 * at prec; a top-1 row adds two logit vectors. */
static double row_bytes(const tmodel_config_t *c, long n, long V, mpfr_prec_t prec)
{
    double d = (double)c->d_model, D = d + 2, l = (double)c->d_mlp, N = (double)n + 1;
    double he = (double)(c->n_heads * c->d_head);
    double block = 4 * d * he + (c->gated_mlp ? 3 : 2) * d * l + 8 * d + 3 * he + l;
    double converted = 4 * D * (he + (double)c->n_heads) + 3 * D * l;
    double work = 12 * N * (D + l + he) + 2 * (double)V;
    return 16.0 * 1024 * 1024 +
           (block + converted + work) * ((double)sizeof(arb_struct) + ball_heap_bytes(prec)) +
           8 * d * l; /* one tensor as doubles while read */
}

/* The float twin's row (--arith): the network and the model's blocks are
 * handed over one block at a time (instance_t.source), so one row's work
 * (row_bytes: one block's weights and its two converted layers as balls),
 * the block and layers again as format values when they run (an mpfr
 * each), and the streams it runs on exactly and in the format. */
static double arith_row_bytes(const tmodel_config_t *c, long n, mpfr_prec_t prec)
{
    double d = (double)c->d_model, D = d + 2, l = (double)c->d_mlp, N = (double)n + 1;
    double he = (double)(c->n_heads * c->d_head);
    double block = 4 * d * he + (c->gated_mlp ? 3 : 2) * d * l + 8 * d + 3 * he + l;
    double converted = 4 * D * (he + (double)c->n_heads) + 3 * D * l;
    double ball = (double)sizeof(arb_struct) + ball_heap_bytes(prec);
    double fpval = (double)sizeof(__mpfr_struct) + 16;
    double streams = 8 * N * (D + l + he);
    return row_bytes(c, n, 0, prec) + (block + converted) * fpval + streams * (ball + fpval);
}

/* What the claim keeps while it runs: the tokens, the cached streams (2L
 * stream matrices at stream_prec, and L converted outputs), the end-to-end outputs (a few
 * precisions), the unembedding as doubles. */
static double ctx_bytes(const tmodel_config_t *c, long n, long V, mpfr_prec_t sp, mpfr_prec_t ep)
{
    double d = (double)c->d_model, N = (double)n + 1, L = (double)c->n_layers;
    double ball = (double)sizeof(arb_struct);
    /* the streams, and per block a converted layer's output and the MLP's
     * pre-activations (each shared by two rows) */
    return N * d * (ball + 16) + 2 * L * N * d * (ball + ball_heap_bytes(sp)) +
           L * N * (d + 2 + 2 * (double)c->d_mlp) * (ball + ball_heap_bytes(sp)) +
           3 * 4 * N * (d + 2) * (ball + ball_heap_bytes(4 * ep)) + 8 * (d + 1) * (double)V;
}

static mpfr_prec_t cap_prec(long p)
{
    return (mpfr_prec_t)(p < PREC_MAX ? p : PREC_MAX);
}

/* ------------------------------------------------------------- the caches */

/* The original's stream entering block b's attention (mlp 0) or MLP (1). */
static const imat_struct *stream_at(model_claim_t *mc, long b, int mlp, char *err, size_t errsz)
{
    pthread_mutex_lock(&mc->stream_lock);
    while (mc->stream_rc == 0 && mc->streams_done <= b) {
        long k = mc->streams_done;
        tblock_t B;
        int rc = tblock_read(&B, mc->m, k, mc->stream_err, sizeof mc->stream_err);
        if (rc == 0) {
            imat_t next;
            imat_init(next, 0, 0);
            mcheck_block_streams(mc->h_mlp + k, next, &B, mc->h_attn + k, &mc->ca,
                                 mc->stream_prec);
            if (k + 1 < mc->L)
                imat_swap_into(mc->h_attn + k + 1, next);
            imat_clear(next);
            mc->streams_done++;
        }
        tblock_clear(&B);
        mc->stream_rc = rc;
    }
    const imat_struct *h = mc->stream_rc == 0 ? (mlp ? mc->h_mlp + b : mc->h_attn + b) : NULL;
    if (!h)
        snprintf(err, errsz, "%s", mc->stream_err);
    pthread_mutex_unlock(&mc->stream_lock);
    return h;
}

/* The end-to-end outputs at prec (made once per precision and mutation). */
static const mcheck_e2e_t *e2e_at(model_claim_t *mc, mpfr_prec_t prec, int mutation, char *err,
                                  size_t errsz)
{
    const mcheck_e2e_t *found = NULL;
    pthread_mutex_lock(&mc->e2e_lock);
    for (long k = 0; k < mc->n_e2e && !found; k++)
        if (mc->e2e[k]->prec == prec && mc->e2e[k]->mutation == mutation)
            found = mc->e2e[k];
    if (!found) {
        mcheck_e2e_t *e = xmalloc(sizeof *e);
        mcheck_e2e_init(e);
        convert_opts_t co = {.form = mc->form, .mutation = mutation};
        if (mcheck_e2e(e, mc->m, mc->X, &mc->ca, co, prec, err, errsz) == 0) {
            mc->e2e = xreallocarray(mc->e2e, (size_t)mc->n_e2e + 1, sizeof *mc->e2e);
            mc->e2e[mc->n_e2e++] = e;
            found = e;
        } else {
            mcheck_e2e_clear(e);
            free(e);
        }
    }
    pthread_mutex_unlock(&mc->e2e_lock);
    return found;
}

/* ------------------------------------------------------------------- rows */

/* logits = y W_U + b_U for the first d entries of row i of Y. */
static void logits_of(arb_ptr z, const model_claim_t *mc, const imat_t Y, long i,
                      mpfr_prec_t prec)
{
    arb_t w;
    arb_init(w);
    for (long j = 0; j < mc->V; j++)
        arb_set_d(z + j, mc->b_U[j]); /* exact: a double */
    for (long k = 0; k < mc->d; k++) {
        arb_srcptr y = imat_entry(Y, i, k);
        for (long j = 0; j < mc->V; j++) {
            arb_set_d(w, mc->W_U[k * mc->V + j]);
            arb_addmul(z + j, y, w, prec);
        }
    }
    arb_clear(w);
}

/* Row top1 at position pos: the model's certified top-1 token t (lo(z[t] -
 * z[j]) > 0 for every j != t, strictly) and E = max_{j != t} (c[j] - c[t])
 * over the converted network's logits c, against the bound 0: holds only
 * when hi(E) < 0 (t certainly stays strictly on top), violated when lo(E) >
 * 0 (a j certainly beats it), else inconclusive: a tie, an E that touches
 * 0, and E = [-1, 1] when the model's top-1 is not certified at this
 * precision (an exact tie there stays inconclusive at every precision). */
static void top1_row(row_t *r, model_claim_t *mc, const mcheck_e2e_t *e, long pos)
{
    mpfr_prec_t prec = r->prec;
    arb_ptr z = _arb_vec_init(mc->V), c = _arb_vec_init(mc->V);
    logits_of(z, mc, e->ref, pos, prec);
    logits_of(c, mc, e->con, pos + 1, prec); /* the bias token is row 0 */
    long t = 0, tc = 0;
    for (long j = 1; j < mc->V; j++) {
        if (arf_cmp(arb_midref(z + j), arb_midref(z + t)) > 0)
            t = j;
        if (arf_cmp(arb_midref(c + j), arb_midref(c + tc)) > 0)
            tc = j;
    }
    arb_t g, gap;
    arb_init(g);
    arb_init(gap);
    int certified = 1;
    arb_pos_inf(gap); /* the model's margin: min_{j != t} (z[t] - z[j]) */
    for (long j = 0; j < mc->V; j++) {
        if (j == t)
            continue;
        arb_sub(g, z + t, z + j, prec);
        if (!arb_is_positive(g))
            certified = 0;
        arb_min(gap, gap, g, prec);
    }
    if (certified) {
        arb_neg_inf(r->error);
        for (long j = 0; j < mc->V; j++) {
            if (j == t)
                continue;
            arb_sub(g, c + j, c + t, prec);
            arb_max(r->error, r->error, g, prec);
        }
        /* the bound test is hi(E) <= 0; a tie is no top-1, so an E that does
         * not exclude 0 is widened (still an enclosure) until it straddles 0 */
        if (!arb_is_negative(r->error) && !arb_is_positive(r->error))
            arb_add_error_2exp_si(r->error, -(slong)prec);
        row_add_long(r, "top-1 model", t);
        arb_set(row_add_ival(r, "margin model"), gap);
    } else {
        arb_zero(r->error);
        mag_one(arb_radref(r->error));
        row_add_text(r, "top-1 model", "not certified at %ld bits", (long)prec);
    }
    arb_abs(r->error_abs, r->error);
    row_add_long(r, "top-1 converted", tc);
    arb_zero(r->bound);
    r->has_bound = 1;
    r->exact_identity = 0;
    arb_clear(g);
    arb_clear(gap);
    _arb_vec_clear(z, mc->V);
    _arb_vec_clear(c, mc->V);
}

static int fail_row(row_t *r, const char *what)
{
    snprintf(r->note, sizeof r->note, "%.150s", what);
    return -1;
}

static int run_row(row_t *r)
{
    model_claim_t *mc = (model_claim_t *)r->ctx;
    const char *check = params_get(&r->params, "check");
    char err[400] = "";
    int mutation = r->mutation; /* the claim's mutations are convert's, in order */
    long b = -1;
    if (!check)
        return fail_row(r, "a row without a check");
    if (strcmp(check, "float") == 0)
        return fail_row(r, "the float row is run by the model's float twin (--arith)");
    /* the per-block checks: attn, mlp, mlp-silu_a (sequential blocks),
     * block, block-silu_a (parallel blocks) */
    static const struct {
        const char *name;
        mcheck_t kind;
        int mlp_stream;
    } per_block[] = {{"attn", MCHECK_ATTN, 0},          {"mlp", MCHECK_MLP, 1},
                     {"mlp-silu_a", MCHECK_MLP_SILU, 1}, {"block", MCHECK_BLOCK, 0},
                     {"block-silu_a", MCHECK_BLOCK_SILU, 0}};
    for (size_t k = 0; k < sizeof per_block / sizeof per_block[0]; k++) {
        if (strcmp(check, per_block[k].name) != 0)
            continue;
        if (params_get_long(&b, &r->params, "block") != 0 || b < 0 || b >= mc->L)
            return fail_row(r, "block is not a block of the model");
        const imat_struct *h = stream_at(mc, b, per_block[k].mlp_stream, err, sizeof err);
        /* with a SiLU_a twin, its row and the check's share the converted layer */
        mcheck_shared_t *sh = mc->approx && per_block[k].kind != MCHECK_ATTN ? mc->shared + b : NULL;
        if (!h || mcheck_sublayer_shared(r, mc->m, b, per_block[k].kind, h, &mc->ca,
                                         (convert_opts_t){.form = mc->form, .mutation = mutation},
                                         sh, err, sizeof err) != 0)
            return fail_row(r, err);
        return 0;
    }
    if (strcmp(check, "encoded") == 0) {
        mcheck_one_row_t one = {r, 0};
        mcheck_opts_t o = {.prec = r->prec, .act = &mc->ca, .mutation = mutation, .form = mc->form,
                           .enc_convert_mutation = mutation,
                           .checks = MCHECK_BIT(MCHECK_ENCODED), .block = -1, .omega = mc->omega,
                           .row = mcheck_give_one_row, .row_ctx = &one};
        if (mcheck_run(mc->m, mc->X, &o, err, sizeof err) != 0)
            return fail_row(r, err);
        return 0;
    }
    const mcheck_e2e_t *e = e2e_at(mc, r->prec, mutation, err, sizeof err);
    if (!e)
        return fail_row(r, err);
    if (strcmp(check, "model") == 0 || strcmp(check, "model-silu_a") == 0) {
        mcheck_e2e_row(r, e);
    } else if (strcmp(check, "real") == 0) {
        mcheck_real_row(r, e, mc->has_tol ? mc->tol : NULL, MODEL_TOL_REL);
        if (mc->heads_m) {
            char ms[200] = "";
            for (long k = 0; k < mc->L && strlen(ms) + 8 < sizeof ms; k++)
                snprintf(ms + strlen(ms), sizeof ms - strlen(ms), "%s%d", k ? "," : "",
                         mc->heads_m[k]);
            row_add_text(r, "heads per neuron", "%s", ms);
        }
    } else if (strcmp(check, "top1") == 0) {
        long pos;
        if (params_get_long(&pos, &r->params, "pos") != 0 || pos < 0 || pos >= mc->n)
            return fail_row(r, "pos is not a position of the tokens");
        top1_row(r, mc, e, pos);
    } else {
        return fail_row(r, "unknown check");
    }
    return 0;
}

/* --prec, as asked (reports record it); the runner raises each row to the
 * resolution rule's precision and doubles it while a row is inconclusive. */
/* A float row runs the whole network exactly beside the format: at the
 * end-to-end precision (2L layers widen the enclosures as the model row's). */
static mpfr_prec_t start_prec(const params_t *p)
{
    const model_claim_t *mc = p->ctx;
    const char *check = params_get(p, "check");
    return check && strcmp(check, "float") == 0 ? mc->e2e_prec : mc->prec;
}

static double estimate_bytes(const params_t *p, mpfr_prec_t prec)
{
    const model_claim_t *mc = p->ctx;
    const char *check = params_get(p, "check");
    if (check && strcmp(check, "float") == 0)
        return arith_row_bytes(mc->cfg, mc->n, prec);
    return row_bytes(mc->cfg, mc->n, check && strcmp(check, "top1") == 0 ? mc->V : 0, prec);
}

/* ------------------------------------------------------------ the export */

int model_claim_convert(const model_claim_t *mc, const aonet_sink_t *sink, char *err,
                        size_t errsz)
{
    return mcheck_convert(mc->m, &mc->ca, (convert_opts_t){.form = mc->form}, sink, err, errsz);
}

/* The layers into an instance. */
static int collect_layer(void *ctx, long k, const aonet_layer_t *L, char *err, size_t errsz)
{
    (void)k;
    (void)err;
    (void)errsz;
    aonet_layer_t C;
    aonet_layer_copy(&C, L);
    instance_net_layer(ctx, &C);
    aonet_layer_clear(&C);
    return 0;
}

static int collect_final(void *ctx, const aonet_ln_t *ln, char *err, size_t errsz)
{
    (void)err;
    (void)errsz;
    instance_t *I = ctx;
    aonet_ln_clear(&I->net.ln_final);
    aonet_ln_init(&I->net.ln_final);
    aonet_ln_copy(&I->net.ln_final, ln);
    return 0;
}

/* The original for the float rule: the model's blocks and final LN, its
 * activation the file's (the real model, not the SiLU_a twin), on the
 * tokens as given.  held: read into O; else O says what it is and
 * original_source hands the blocks over one at a time. */
static int original_model(onet_t *O, const model_claim_t *mc, int held, char *err, size_t errsz)
{
    onet_clear(O);
    O->D = mc->d;
    if (mc->approx) {
        /* the network computes the SiLU_a twin exactly: its float cost is
         * measured against the twin, the twin's in F beside it (the real
         * model's distance is the rows `real` and `top1`) */
        snprintf(O->act, sizeof O->act, "silu_a");
        arb_set(O->a, mc->ca.a);
        snprintf(O->what, sizeof O->what, "the model's SiLU_a twin: %ld pre-LN blocks (%s "
                 "replaced by SiLU_a) and ln_final", mc->L, mc->cfg->act_fn);
    } else {
        snprintf(O->act, sizeof O->act, "%s", mc->cfg->act_fn);
        snprintf(O->what, sizeof O->what, "the model: %ld pre-LN blocks (%s) and ln_final",
                 mc->L, mc->cfg->act_fn);
    }
    if (mc->cfg->parallel_attn_mlp) {
        /* the float emulation (fpnet.h) runs blocks sequentially */
        snprintf(err, errsz, "%s: parallel attention+MLP blocks have no float original", mc->file);
        return EXIT_DATAERR;
    }
    int rc = 0;
    for (long b = 0; held && b < mc->L && rc == 0; b++) {
        tblock_t B;
        rc = tblock_read(&B, mc->m, b, err, errsz);
        if (rc == 0)
            onet_add_block(O, &B);
        tblock_clear(&B);
    }
    if (held && rc == 0) {
        aonet_ln_t lnf;
        rc = tblock_read_ln_final(&lnf, mc->m, err, errsz);
        if (rc == 0) {
            aonet_ln_clear(&O->ln_final);
            aonet_ln_copy(&O->ln_final, &lnf);
        }
        aonet_ln_clear(&lnf);
    }
    return rc;
}

/* instance_t.source of a model: the converted network and the model's
 * blocks, read and built one at a time (a GPT-2-sized network and its
 * original are tens of GiB held whole). */
static int original_source(void *ctx, const onet_sink_t *sink, char *err, size_t errsz)
{
    const model_claim_t *mc = ctx;
    int rc = 0;
    for (long b = 0; b < mc->L && rc == 0; b++) {
        onet_stage_t s;
        memset(&s, 0, sizeof s);
        s.kind = ONET_BLOCK;
        rc = tblock_read(&s.block, mc->m, b, err, errsz);
        if (rc == 0)
            rc = sink->stage(sink->ctx, &s, err, errsz);
        tblock_clear(&s.block);
    }
    if (rc == 0) {
        aonet_ln_t lnf;
        rc = tblock_read_ln_final(&lnf, mc->m, err, errsz);
        if (rc == 0)
            rc = sink->final_ln(sink->ctx, &lnf, err, errsz);
        aonet_ln_clear(&lnf);
    }
    return rc;
}

static int network_source(void *ctx, const aonet_sink_t *sink, char *err, size_t errsz)
{
    return model_claim_convert(ctx, sink, err, errsz);
}

/* The converted network, its input stream, the exact reference (the real
 * model end to end, after ln_final: [[ln_final(0), 1, 1], [model(X), 1,
 * 0]]) at prec or the end-to-end precision if higher, and the original
 * (the model's blocks) on the real tokens, rows 1 .. n of the streams;
 * held, or (held 0) handed over by I->source. */
static int build_instance(instance_t *I, const params_t *p, mpfr_prec_t prec, int held)
{
    model_claim_t *mc = (model_claim_t *)p->ctx;
    char err[400];
    aonet_sink_t sink = {I, collect_layer, collect_final};
    I->net.D = mc->d + 2;
    I->net.d = mc->d;
    int rc = held ? model_claim_convert(mc, &sink, err, sizeof err) : 0;
    mpfr_prec_t ep = prec > mc->e2e_prec ? prec : mc->e2e_prec;
    const mcheck_e2e_t *e = rc == 0 ? e2e_at(mc, ep, 0, err, sizeof err) : NULL;
    if (e && original_model(&I->orig, mc, held, err, sizeof err) != 0)
        e = NULL;
    if (!e) {
        snprintf(I->note, sizeof I->note, "%.250s", err);
        return -1;
    }
    if (!held) {
        I->source.ctx = mc;
        I->source.net = network_source;
        I->source.orig = original_source;
    }
    imat_t in, ref;
    imat_init(in, 0, 0);
    imat_init(ref, 0, 0);
    convert_stream(in, mc->X);
    mcheck_e2e_reference(ref, e, mc->approx);
    instance_net_io(I, in, ref, CONVERT_LAYOUT_TEXT);
    instance_orig_in(I, mc->X, 1); /* the bias token is row 0 */
    I->orig_tokens_given = 1;
    snprintf(I->note, sizeof I->note, "%s converted (attention-only, LayerNorm); reference = "
             "[[ln_final(0), 1, 1], [model(X), 1, 0]]%s", mc->file,
             mc->approx ? " of the model's SiLU_a twin (what the network computes exactly)" : "");
    imat_clear(in);
    imat_clear(ref);
    return 0;
}

static int export_instance(instance_t *I, const params_t *p, unsigned long seed,
                           mpfr_prec_t prec)
{
    (void)seed;
    return build_instance(I, p, prec, 1);
}

static int run_instance(instance_t *I, const params_t *p, unsigned long seed, mpfr_prec_t prec)
{
    (void)seed;
    return build_instance(I, p, prec, 0);
}

/* ---------------------------------------------------------------- report */

static void md_cell(FILE *f, const char *s)
{
    for (; *s; s++)
        if (*s == '|' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fputc(' ', f);
        else
            fputc(*s, f);
}

/* Heads of the whole converted network: per block H + m d_mlp + 1. */
static long model_heads(const model_claim_t *mc)
{
    long H = (long)mc->cfg->n_heads, l = (long)mc->cfg->d_mlp, n = 0;
    for (long b = 0; b < mc->L; b++)
        n += H + (mc->heads_m ? mc->heads_m[b] : 1) * l + 1;
    return n;
}

/* The heads-per-neuron table: per block m, the certified gaps, the bound. */
static void heads_md(FILE *f, const model_claim_t *mc)
{
    fprintf(f, "## Heads per neuron\n\n");
    if (mc->heads_chosen) {
        fprintf(f, "Chosen by `--tol %s`: every block at m = 1, then while the certified "
                "end-to-end E (the row `real`) is not <= T, one more head in the block whose "
                "bound is largest. Tried: ", mc->tol_text);
        md_cell(f, mc->trail ? mc->trail : "");
        fputs(".\n\n", f);
    }
    fprintf(f, "| block | m | heads | eps_m over the line | max \\|z\\| | eps_m on [-max \\|z\\|, "
               "max \\|z\\|] (G) | sum_k \\|\\|W_out[k,:]\\|\\| | bound G sum |\n"
               "|---|---|---|---|---|---|---|---|\n");
    for (long b = 0; b < mc->L; b++) {
        char *el = ival_hi_str(mc->eps_line + b, 4), *er = ival_hi_str(mc->eps_range + b, 4);
        char *w = ival_hi_str(mc->w_sum + b, 4), *bd = ival_hi_str(mc->bound + b, 4);
        fprintf(f, "| %ld | %d | %ld | <= %s | %.6g | <= %s | <= %s | <= %s |\n", b,
                mc->heads_m[b], (long)mc->cfg->n_heads + mc->heads_m[b] * (long)mc->cfg->d_mlp + 1,
                el ? el : "?", mc->zmax[b], er ? er : "?", w ? w : "?", bd ? bd : "?");
        free(el);
        free(er);
        free(w);
        free(bd);
    }
    fputs("\nThe certified gaps are upper ends of enclosures (`activation --heads` prints the "
          "fits); the measured E of each MLP is its row `mlp`, end to end the row `real`.\n\n",
          f);
}

static char *summary_md(const row_t *rows, long n_rows)
{
    if (n_rows < 1 || !rows[0].ctx)
        return NULL;
    const model_claim_t *mc = rows[0].ctx;
    const tmodel_config_t *cfg = mc->cfg;
    long H = (long)cfg->n_heads, l = (long)cfg->d_mlp;
    char *s = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&s, &len);
    if (!f)
        return NULL;
    fprintf(f, "## Model\n\n| | |\n|---|---|\n| file | ");
    md_cell(f, mc->file);
    fprintf(f, " |\n| sha256 | `%s` |\n", mc->sha);
    fprintf(f, "| shape | d_model %lld, %lld layers, %lld heads of %lld, d_mlp %lld |\n",
            (long long)cfg->d_model, (long long)cfg->n_layers, (long long)cfg->n_heads,
            (long long)cfg->d_head, (long long)cfg->d_mlp);
    fprintf(f, "| act_fn, LN, attention | %s, %s (eps %.17g, final %.17g), %s, attn_scale "
               "%.17g |\n", cfg->act_fn,
            tmodel_norm_name(cfg->normalization),
            cfg->eps, cfg->eps_final, cfg->causal ? "causal" : "bidirectional", cfg->attn_scale);
    fputs("| tokens | ", f);
    md_cell(f, mc->tokens_text);
    if (mc->input_sha[0])
        fprintf(f, " (sha256 `%s`)", mc->input_sha);
    fprintf(f, " (n = %ld, plus the bias token) |\n| neuron heads | ", mc->n);
    md_cell(f, mc->ca.a_text);
    fputs(" |\n", f);
    if (!mc->heads_m)
        fprintf(f, "| heads per block | %ld original + %ld converted = %ld (H + d_mlp + 1) |\n",
                H, l + 1, H + l + 1);
    else
        fprintf(f, "| heads per block | %ld original + m d_mlp + 1 converted (m heads per "
                "neuron, below) |\n", H);
    fprintf(f, "| attention-only network | %lld layers%s, %ld heads, stream width %lld |\n",
            (cfg->parallel_attn_mlp ? 1 : 2) * (long long)cfg->n_layers,
            cfg->parallel_attn_mlp ? " (parallel blocks: one each)" : "", model_heads(mc),
            (long long)cfg->d_model + 2);
    if (mc->V)
        fprintf(f, "| unembedding | d_vocab %ld%s |\n", mc->V,
                mc->b_U ? "" : "");
    fputs("\n", f);
    if (mc->heads_m)
        heads_md(f, mc);
    return fclose(f) == 0 ? s : (free(s), NULL);
}

char *model_claim_details(const model_claim_t *mc)
{
    const tmodel_config_t *cfg = mc->cfg;
    char *config = tmodel_config_json(cfg);
    json_t *cj = config ? json_loads(config, 0, NULL) : NULL;
    free(config);
    long H = (long)cfg->n_heads, l = (long)cfg->d_mlp;
    long m0 = mc->heads_m ? mc->heads_m[0] : 1; /* block 0's (heads_per_neuron: each block's) */
    json_t *d = json_pack("{s:s, s:s, s:o?, s:s, s:I, s:s, s:{s:I, s:I, s:I}, s:I, s:I, s:I, "
                          "s:I}",
                          "file", mc->file, "sha256", mc->sha, "config", cj, "tokens",
                          mc->tokens_text, "n_tokens", (json_int_t)mc->n, "neuron_heads",
                          mc->ca.a_text, "heads_per_block", "original", (json_int_t)H,
                          "converted", (json_int_t)(m0 * l + 1), "total",
                          (json_int_t)(H + m0 * l + 1),
                          "layers", (json_int_t)((cfg->parallel_attn_mlp ? 1 : 2) * cfg->n_layers), "heads",
                          (json_int_t)model_heads(mc), "width",
                          (json_int_t)(cfg->d_model + 2), "d_vocab", (json_int_t)mc->V);
    if (d && mc->input_sha[0])
        json_object_set_new(d, "input_sha256", json_string(mc->input_sha));
    if (d && mc->heads_m) {
        /* per block: m and the certified upper ends (decimal text, rounded up) */
        json_t *a = json_array();
        for (long b = 0; a && b < mc->L; b++) {
            char *el = ival_hi_str(mc->eps_line + b, 6), *er = ival_hi_str(mc->eps_range + b, 6);
            char *bd = ival_hi_str(mc->bound + b, 6);
            json_array_append_new(a, json_pack("{s:I, s:I, s:s?, s:s?, s:s?, s:f}", "block",
                                               (json_int_t)b, "m", (json_int_t)mc->heads_m[b],
                                               "eps_line_hi", el, "eps_range_hi", er, "bound_hi",
                                               bd, "max_abs_z", mc->zmax[b]));
            free(el);
            free(er);
            free(bd);
        }
        json_object_set_new(d, "heads_per_neuron", a);
        json_object_set_new(d, "heads_chosen_by_tol", json_boolean(mc->heads_chosen));
        if (mc->trail)
            json_object_set_new(d, "heads_trail", json_string(mc->trail));
    }
    char *s = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(d);
    return s;
}

void model_claim_print_rows(FILE *f, const claim_report_t *rep)
{
    for (long k = 0; k < rep->n_rows; k++) {
        const row_t *r = rep->rows + k;
        const char *check = params_get(&r->params, "check");
        const char *pos = params_get(&r->params, "pos");
        const char *block = params_get(&r->params, "block");
        char *hi = ival_hi_str(r->error, 4);
        const char *word = verdict_word(r->verdict, rep->mutation > 0, r->exact_identity);
        if (pos) {
            const column_t *tm = row_find_column(r, "top-1 model");
            const column_t *tc = row_find_column(r, "top-1 converted");
            char a[64] = "?", b[64] = "?";
            if (tm && !tm->is_ival)
                snprintf(a, sizeof a, "%.60s", tm->str);
            if (tc && !tc->is_ival)
                snprintf(b, sizeof b, "%.60s", tc->str);
            fprintf(f, "    %-12s pos %-5s top-1 model %s, converted %s  %s%s\n", check, pos, a,
                    b, word, r->verdict == VERDICT_VIOLATED && !rep->mutation
                             ? " (the converted network's answer differs here)" : "");
        } else if (row_find_column(r, "E original in F")) {
            /* the float twin's row: E_conv against 2 E_orig + the grid floor */
            const column_t *eo = row_find_column(r, "E original in F");
            const column_t *gf = row_find_column(r, "grid floor");
            const column_t *fc = row_find_column(r, "float computation");
            char *o = ival_hi_str(eo->iv, 4), *g = gf ? ival_hi_str(gf->iv, 4) : NULL;
            fprintf(f, "    %-12s E_conv <= %s, E_orig <= %s, grid floor %s: E_conv <= 2 E_orig "
                    "+ floor? %s (float computation: %s)\n", check, hi ? hi : "?", o ? o : "?",
                    g ? g : "?", word, fc && !fc->is_ival ? fc->str : "?");
            if (o)
                mpfr_free_str(o);
            if (g)
                mpfr_free_str(g);
        } else {
            fprintf(f, "    %-12s block %-3s E <= %s  %s\n", check, block ? block : "all",
                    hi ? hi : "?", word);
        }
        if (hi)
            mpfr_free_str(hi);
    }
}

/* ------------------------------------------------------------- the claim */

static const char model_formula[] =
    "Stream [features (d) | c | f]: real tokens [x, 1, 0], a bias token at position 0, "
    "[0, 1, 1]; LN acts on the d features only, keeping γ with β = 0 (the float-robust form, "
    "the default; the final LN keeps β), and passes c, f through. Every map u·W + t of the "
    "original's normalised stream u = LN(x) becomes the column [W; a; −a] with a = β·W + t "
    "(−a its exact negation): real tokens get u·W + t exactly, the bias token 0·W + a − a = 0 "
    "in every float format (doc/float-robust.md).\n"
    "Layer A of block b (LN1): the H original heads with W̃_Q, W̃_K, W̃_V of that form "
    "(t = b_Q, b_K, b_V), W̃_O = [W_O, 0, 0], logits q·k/attn_scale; head 0 has one more "
    "value channel c − f with output b_O; mask: real tokens see real tokens as the original "
    "(causal or all), never the bias token; the bias token sees only itself.\n"
    "Layer B of block b (LN2): neuron k is one head of internal dimension 1, mask B: value "
    "and query [w_k; a_k; −a_k] (a_k = β₂·w_k + b_k), key −a·f, output W_out[k,:] (a real "
    "token gets SiLU_a(z_k)·W_out[k,:], the bias token 0); one self-only head with value "
    "c − f and output b_out. Heads per block: H + d_mlp + 1; with m heads per neuron "
    "(--heads-per-neuron, or chosen by --tol) neuron k is m such heads, head j with key "
    "−a_j·f and output c_j·W_out[k,:] (S = Σ_j c_j SiLU_{a_j}), H + m·d_mlp + 1. "
    "`--conversion literal`: the "
    "paper's form, LN keeping β and the f rows −(β·W + t) (exact in real arithmetic, not in "
    "float).\n"
    "Parallel blocks (parallel_attn_mlp: y = x + Attn(LN1(x)) + b_O + MLP(LN2(x)) + b_out): "
    "layer A's and layer B's head groups in one layer, all reading the same LN of x; when "
    "LN1 ≠ LN2 that LN is n(x) without γ and β (LNPre, RMSPre) and each column is "
    "[diag(γᵢ)·W; a; −a], a = βᵢ·W + t, since LNᵢ(x)·W + t = n(x)·diag(γᵢ)W + βᵢ·W + t. "
    "L layers for L blocks; the rows `block` (the layer against the whole block, the rules of "
    "`mlp`) and `block-silu_a` (its SiLU_a twin) replace `attn`, `mlp` and `mlp-silu_a`, and "
    "`model` has depth L + 1.\n"
    "The question each row answers (E = max over all n + 1 rows of ‖Y_i − Y′_i‖₂, all d + 2 "
    "columns):\n"
    "- `attn`, block b: does layer A compute block b's attention sublayer exactly, on the "
    "original's stream entering it (its enclosure's midpoints, an exact input)? Exact rule, "
    "depth 1.\n"
    "- `mlp`, block b: does layer B compute block b's MLP? Exact rule for silu, sigmoid and "
    "GLU; for other activations E ≤ G·Σ_k‖W_out[k,:]‖₂ (G the certified sup |φ − SiLU_a| on "
    "the certified range of the pre-activations).\n"
    "- `mlp-silu_a`, block b (the SiLU_a twin): does layer B compute the MLP with φ replaced "
    "by SiLU_a exactly? Exact rule.\n"
    "- `model`: does the whole network compute the model end to end from the tokens, after "
    "ln_final, i.e. [[ln_final(0), 1, 1], [model(X), 1, 0]]? Exact rule, depth 2L + 1 (the "
    "2L layers and ln_final); for activations other than silu, sigmoid and GLU this row is "
    "`model-silu_a`, the SiLU_a twin: the model with φ replaced by SiLU_a.\n"
    "- `real` (activations approximated by SiLU_a): is the converted network within --tol of "
    "the real model (φ itself) end to end? E ≤ tol, by default 10⁻³·S (S the largest output "
    "magnitude, rounded up).\n"
    "- `top1`, position i (a file with unembed.W_U): is the converted network's top-1 token "
    "the real model's? With logits z = ln_final(y)·W_U + b_U of the model and c of the "
    "network, t the model's certified top-1 (lo(z_t − z_j) > 0 for all j ≠ t) and E = "
    "max_{j≠t} (c_j − c_t): holds only when hi(E) < 0 (t certainly strictly on top of c), "
    "violated when lo(E) > 0 (some j certainly beats t); a tie in either network, or a "
    "model top-1 not certified at the working precision, is inconclusive.\n"
    "- `encoded` (--omega W): the network with every mask encoded by one-hot positions and "
    "W, end to end, against the derived bound at W plus the masked network's distance.";

static const char model_notes[] =
    "The conversion is certified for these tokens (the checks are certified enclosures on "
    "them, not over all inputs). Activations other than silu, sigmoid and GLU are "
    "approximated by SiLU_a: the `mlp` bound holds on the certified range of the "
    "pre-activations seen here; the SiLU_a twin rows are exact statements about a different "
    "network (the model with SiLU_a), and `real` and `top1` answer for the model itself.";

/* One row at work with n tokens, at the end-to-end precision: the float
 * twin's row (--arith) or the largest of the claim's own. */
static double work_row_bytes(const model_claim_t *mc, long n)
{
    return mc->arith ? arith_row_bytes(mc->cfg, n, mc->e2e_prec)
                     : row_bytes(mc->cfg, n, mc->V, mc->e2e_prec);
}

/* Over --max-memory with n tokens: one line, 65. */
static int tokens_over_limit(const model_claim_t *mc, const model_spec_t *s, long n, double work,
                             double limit, char *err, size_t errsz)
{
    double need = ctx_bytes(mc->cfg, n, mc->V, mc->stream_prec, mc->e2e_prec) + work;
    need += work_row_bytes(mc, n) - work_row_bytes(mc, 1);
    if (need <= limit)
        return 0;
    snprintf(err, errsz, "--input %s: %ld tokens: the run's estimated peak memory (%.1f GiB) "
             "is over --max-memory (%.1f GiB)", s->input, n, need / (1 << 30),
             limit / (1 << 30));
    return EXIT_DATAERR;
}

/* Token ids as the stream entering block 0: W_E[id_i] + W_pos[i], the sum
 * of two doubles held exactly (ARF_PREC_EXACT). */
static int embed_ids(model_claim_t *mc, const model_spec_t *s, const int64_t *ids, long n,
                     double work, double limit, char *err, size_t errsz)
{
    long d = mc->d;
    char e[600];
    if (n > 0 && (size_t)n > SIZE_MAX / sizeof(double) / (size_t)d) {
        snprintf(err, errsz, "--input %s: %ld token ids: too many to hold", s->input, n);
        return EXIT_DATAERR;
    }
    int rc = tokens_over_limit(mc, s, n, work, limit, err, errsz);
    if (rc)
        return rc;
    double *we = xmallocarray((size_t)n * (size_t)d, sizeof *we);
    double *wp = xmallocarray((size_t)n * (size_t)d, sizeof *wp);
    rc = tmodel_read_embedding(we, wp, mc->m, ids, n, s->input, e, sizeof e);
    if (rc == 0) {
        mc->n = n;
        imat_reinit(mc->X, n, d);
        arb_t p;
        arb_init(p);
        for (long k = 0; k < n * d; k++) {
            arb_set_d(mc->X->e + k, we[k]);
            arb_set_d(p, wp[k]);
            arb_add(mc->X->e + k, mc->X->e + k, p, ARF_PREC_EXACT); /* exact */
        }
        arb_clear(p);
        snprintf(mc->tokens_text, sizeof mc->tokens_text, "%ld token ids from %s, embedded as "
                 "embed.W_E[id] + pos_embed.W_pos[position]", n, s->input);
    } else {
        snprintf(err, errsz, "%s", e);
    }
    free(we);
    free(wp);
    return rc;
}

static int load_tokens(model_claim_t *mc, const model_spec_t *s, double work, double limit,
                       char *err, size_t errsz)
{
    long d = mc->d;
    if (!s->input) {
        mc->n = s->tokens;
        double need = work + ctx_bytes(mc->cfg, mc->n, mc->V, mc->stream_prec, mc->e2e_prec);
        if (need > limit) {
            snprintf(err, errsz, "%ld tokens: the run's estimated peak memory (%.1f GiB) is over "
                     "--max-memory (%.1f GiB)", mc->n, need / (1 << 30), limit / (1 << 30));
            return EXIT_DATAERR;
        }
        gmp_randstate_t st;
        gmp_randinit_default(st);
        gmp_randseed_ui(st, s->seed);
        imat_reinit(mc->X, mc->n, d);
        imat_randtest_dyadic(mc->X, st, MODEL_TOKEN_BITS);
        for (long k = 0; k < mc->X->rows * mc->X->cols; k++)
            arb_mul_2exp_si(mc->X->e + k, mc->X->e + k, MODEL_TOKEN_SCALE_LOG2); /* exact */
        gmp_randclear(st);
        snprintf(mc->tokens_text, sizeof mc->tokens_text, "%ld tokens drawn with seed %lu: "
                 "entries k/1024, 0 < |k| <= 4096 uniform", mc->n, s->seed);
        return 0;
    }
    tensor_f64_t t = {0};
    int64_t *ids;
    uint64_t n_ids;
    int rc = tensor_load_input(&t, &ids, &n_ids, s->input, err, errsz);
    if (rc != 0) {
        tensor_f64_clear(&t);
        return rc;
    }
    if (ids) {
        rc = embed_ids(mc, s, ids, (long)n_ids, work, limit, err, errsz);
        free(ids);
        return rc;
    }
    if (t.ndim != 2 || t.shape[1] != (uint64_t)d || t.shape[0] < 1) {
        char shape[96] = "[";
        for (size_t i = 0; i < t.ndim && i < 6; i++)
            snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%llu", i ? ", " : "",
                     (unsigned long long)t.shape[i]);
        snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s]",
                 t.ndim > 6 ? ", ..." : "");
        tensor_f64_clear(&t);
        snprintf(err, errsz, "--input %s has shape %s; the model needs [n_ctx, %ld]", s->input,
                 shape, d);
        return EXIT_DATAERR;
    }
    mc->n = (long)t.shape[0];
    rc = tokens_over_limit(mc, s, mc->n, work, limit, err, errsz);
    if (rc) {
        tensor_f64_clear(&t);
        return rc;
    }
    imat_reinit(mc->X, mc->n, d);
    for (uint64_t k = 0; k < t.numel; k++)
        arb_set_d(mc->X->e + k, t.data[k]); /* exact: a double */
    snprintf(mc->tokens_text, sizeof mc->tokens_text, "%ld tokens from %s", mc->n, s->input);
    tensor_f64_clear(&t);
    return 0;
}

/* ------------------------------------------------------ heads per neuron */

/* Block b's MLP bound with its current heads (the streams are the
 * original's: they do not depend on the heads). */
static int heads_bound(model_claim_t *mc, long b, char *err, size_t errsz)
{
    const imat_struct *h = stream_at(mc, b, !mc->cfg->parallel_attn_mlp, err, errsz);
    if (!h)
        return EXIT_DATAERR;
    tblock_t B;
    int rc = tblock_read(&B, mc->m, b, err, errsz);
    if (rc == 0) {
        mpfr_t z;
        mpfr_init2(z, 64);
        mcheck_mlp_gap(mc->eps_range + b, mc->w_sum + b, z, &B, h, &mc->ca, mc->stream_prec);
        arb_mul(mc->bound + b, mc->eps_range + b, mc->w_sum + b, mc->stream_prec);
        mc->zmax[b] = mpfr_get_d(z, MPFR_RNDU);
        mpfr_clear(z);
        /* the gap over the whole line (tails), certified */
        silusum_cert_t cert;
        silusum_cert_init(&cert, mc->stream_prec);
        if (silusum_certify(&cert, &mc->ca.phi, &mc->ca.heads[b].fit, NULL, mc->stream_prec) >= 0 &&
            cert.whole_line)
            arb_set(mc->eps_line + b, cert.gap);
        else
            arb_indeterminate(mc->eps_line + b);
        silusum_cert_clear(&cert);
    }
    tblock_clear(&B);
    return rc;
}

/* The heads per neuron: m in every block (--heads-per-neuron), or (--tol T)
 * the smallest found greedily: every block at 1, then while the certified
 * end-to-end E (the row `real`, at the end-to-end precision) is not <= T,
 * one more head in the block whose bound G sum ||W_out|| is largest (up to
 * MODEL_HEADS_MAX).  For one block this is the smallest m that certifies T. */
static int choose_heads(model_claim_t *mc, int m_all, char *err, size_t errsz)
{
    long L = mc->L;
    mc->heads_m = xmallocarray((size_t)L, sizeof *mc->heads_m);
    mc->zmax = xmallocarray((size_t)L, sizeof *mc->zmax);
    mc->eps_line = _arb_vec_init(L);
    mc->eps_range = _arb_vec_init(L);
    mc->w_sum = _arb_vec_init(L);
    mc->bound = _arb_vec_init(L);
    for (long b = 0; b < L; b++)
        mc->heads_m[b] = m_all ? m_all : 1;
    mc->heads_chosen = !m_all;
    char *trail = NULL;
    size_t trail_len = 0;
    FILE *tf = m_all ? NULL : open_memstream(&trail, &trail_len);
    if (!m_all && !tf) {
        snprintf(err, errsz, "out of memory");
        return EXIT_SOFTWARE;
    }
    int rc = 0;
    long changed = -1; /* the block whose bound is out of date (-1: all) */
    int tries = 0;
    for (;;) {
        rc = convert_act_set_heads(&mc->ca, L, mc->heads_m, err, errsz, mc->prec);
        for (long b = 0; b < L && rc == 0; b++)
            if (changed < 0 || changed == b)
                rc = heads_bound(mc, b, err, errsz);
        if (rc || m_all)
            break;
        mcheck_e2e_t e;
        mcheck_e2e_init(&e);
        convert_opts_t co = {.form = mc->form};
        rc = mcheck_e2e(&e, mc->m, mc->X, &mc->ca, co, mc->e2e_prec, err, errsz);
        arb_t E;
        arb_init(E);
        if (rc == 0)
            mcheck_real_error(E, &e, mc->e2e_prec);
        mcheck_e2e_clear(&e);
        if (rc) {
            arb_clear(E);
            break;
        }
        char *hi = ival_hi_str(E, 4);
        fprintf(tf, "%sm = ", tries++ ? "; " : "");
        for (long b = 0; b < L; b++)
            fprintf(tf, "%s%d", b ? "," : "", mc->heads_m[b]);
        fprintf(tf, ": E <= %s", hi ? hi : "?");
        free(hi);
        int ok = arb_le(E, mc->tol);
        arb_clear(E);
        if (ok)
            break;
        /* one more head where the bound is largest */
        long best = -1;
        for (long b = 0; b < L; b++)
            if (mc->heads_m[b] < MODEL_HEADS_MAX &&
                (best < 0 || arf_cmp(arb_midref(mc->bound + b), arb_midref(mc->bound + best)) > 0))
                best = b;
        if (best < 0) {
            fprintf(tf, " (every block at %d heads: T is not certified)", MODEL_HEADS_MAX);
            break;
        }
        mc->heads_m[best]++;
        changed = best;
    }
    if (tf && fclose(tf) == 0)
        mc->trail = trail;
    else
        free(trail);
    return rc;
}

int model_claim_open(model_claim_t **out, const model_spec_t *s, int jobs, double max_memory,
                     char *err, size_t errsz)
{
    *out = NULL;
    model_claim_t *mc = xcalloc(1, sizeof *mc);
    char e[600];
    imat_init(mc->X, 0, 0);
    arb_init(mc->omega);
    arb_init(mc->tol);
    pthread_mutex_init(&mc->stream_lock, NULL);
    pthread_mutex_init(&mc->e2e_lock, NULL);
    mc->file = xstrdup(s->file);
    mc->input = s->input ? xstrdup(s->input) : NULL;
    mc->prec = s->prec;
    mc->form = s->form;
    mc->arith = s->arith;
    int rc = tmodel_open(&mc->m, s->file, e, sizeof e);
    if (rc) {
        snprintf(err, errsz, "%s", e);
        goto fail;
    }
    mc->cfg = tmodel_config(mc->m);
    if (mc->arith && mc->cfg->parallel_attn_mlp) {
        snprintf(err, errsz, "%s: --arith: the float twin runs the original's blocks "
                 "sequentially; parallel attention+MLP blocks are not emulated", s->file);
        rc = EXIT_DATAERR;
        goto fail;
    }
    if (model_file_sha256(mc->sha, s->file) != 0) {
        snprintf(err, errsz, "%s: cannot read: %s", s->file, strerror(errno));
        rc = EXIT_DATAERR;
        goto fail;
    }
    if (s->input) {
        /* the file of X.npy or FILE.safetensors:TENSOR: merge refuses other tokens */
        char path[4096];
        const char *cut = strstr(s->input, ".safetensors:");
        size_t n = cut ? (size_t)(cut - s->input) + strlen(".safetensors") : strlen(s->input);
        snprintf(path, sizeof path, "%.*s", (int)(n < sizeof path ? n : sizeof path - 1),
                 s->input);
        if (model_file_sha256(mc->input_sha, path) != 0) {
            snprintf(err, errsz, "%s: cannot read: %s", path, strerror(errno));
            rc = EXIT_DATAERR;
            goto fail;
        }
    }
    snprintf(mc->identity, sizeof mc->identity, "%s%s%s", mc->sha, mc->input_sha[0] ? "+" : "",
             mc->input_sha);
    rc = convert_act_init(&mc->ca, mc->cfg, s->act_a, e, sizeof e, s->prec);
    if (rc) {
        snprintf(err, errsz, "%s: %s", s->file, e);
        goto fail;
    }
    mc->act_ready = 1;
    mc->approx = !convert_act_exact(&mc->ca);
    mc->d = (long)mc->cfg->d_model;
    mc->L = (long)mc->cfg->n_layers;
    mc->V = (long)tmodel_d_vocab(mc->m);
    /* the working precisions: --prec for the sublayers, 20 bits more per
     * block end to end, and never below the resolution rule's floor
     * kappa + margin (verdict.h) at the row's depth */
    long layers = mc->cfg->parallel_attn_mlp ? mc->L : 2 * mc->L;
    long sp = verdict_resolve_prec(1, 0, 0), ep = verdict_resolve_prec((int)(layers + 1), 0, 0);
    if (s->prec > sp)
        sp = s->prec;
    if (s->prec + MCHECK_E2E_BITS_PER_BLOCK * mc->L > ep)
        ep = s->prec + MCHECK_E2E_BITS_PER_BLOCK * mc->L;
    mc->stream_prec = cap_prec(sp);
    mc->e2e_prec = cap_prec(ep);
    if (s->omega) {
        mc->has_omega = 1;
        arb_set_str(mc->omega, s->omega, s->prec); /* exact when the decimal is dyadic */
    }
    if (s->tol) {
        mc->has_tol = 1;
        snprintf(mc->tol_text, sizeof mc->tol_text, "%.60s", s->tol);
        if (arb_set_str(mc->tol, s->tol, 128) != 0 || !arb_is_nonnegative(mc->tol)) {
            snprintf(err, errsz, "--tol '%s' is not a non-negative number", s->tol);
            rc = EXIT_USAGE;
            goto fail;
        }
    }
    /* before any allocation that grows with the tokens: their estimate */
    double work = (double)(jobs < 1 ? 1 : jobs) * work_row_bytes(mc, s->input ? 1 : s->tokens);
    rc = load_tokens(mc, s, work, max_memory, err, errsz);
    if (rc)
        goto fail;
    if (mc->V) {
        mc->W_U = xmallocarray((size_t)mc->V * (size_t)mc->d, sizeof *mc->W_U);
        mc->b_U = xmallocarray((size_t)mc->V, sizeof *mc->b_U);
        rc = tmodel_read_unembed(mc->W_U, mc->b_U, mc->m, e, sizeof e);
        if (rc) {
            snprintf(err, errsz, "%s", e);
            goto fail;
        }
    }
    mc->h_attn = xmallocarray((size_t)mc->L, sizeof *mc->h_attn);
    mc->h_mlp = xmallocarray((size_t)mc->L, sizeof *mc->h_mlp);
    mc->shared = xmallocarray((size_t)mc->L, sizeof *mc->shared);
    for (long b = 0; b < mc->L; b++) {
        imat_init(mc->h_attn + b, 0, 0);
        imat_init(mc->h_mlp + b, 0, 0);
        mcheck_shared_init(mc->shared + b);
    }
    imat_get_mid(mc->h_attn, mc->X);
    if (s->heads_per_neuron && !mc->approx) {
        snprintf(err, errsz, "%s: --heads-per-neuron applies to gelu, gelu_new, gelu_fast and "
                 "relu models; this model's %s converts exactly with one head", s->file,
                 mc->cfg->act_fn);
        rc = EXIT_DATAERR;
        goto fail;
    }
    if (s->heads_per_neuron && s->arith) {
        /* the float rule runs the twin the network computes, in the format:
         * fpnet has sequences for one SiLU_a, not for sums of them */
        snprintf(err, errsz, "%s: --arith runs the model's one-head SiLU_a twin in the format; "
                 "--heads-per-neuron's sums of SiLU heads have no float sequence", s->file);
        rc = EXIT_USAGE;
        goto fail;
    }
    if (mc->approx && (s->heads_per_neuron || (s->tol && !s->act_a && !s->arith))) {
        rc = choose_heads(mc, s->heads_per_neuron, e, sizeof e);
        if (rc) {
            snprintf(err, errsz, "%s: %s", s->file, e);
            goto fail;
        }
    }

    /* the claim */
    claim_t *c = &mc->claim;
    claim_name(mc->id, sizeof mc->id, s->file);
    c->id = mc->id;
    c->source = "derived (extends Theorem 6)";
    c->kind = KIND_INEQUALITY;
    c->provenance = "derived";
    snprintf(mc->statement, sizeof mc->statement,
             "The attention-only network converted from %.200s (%ld %spre-LN blocks, %s) computes "
             "the model: each %s alone and the whole model end to end%s.", s->file, mc->L,
             mc->cfg->parallel_attn_mlp ? "parallel " : "", mc->cfg->act_fn,
             mc->cfg->parallel_attn_mlp ? "block" : "sublayer",
             mc->approx ? " (exactly the SiLU_a twin; the real model within --tol, and its "
                          "top-1 token where the file has an unembedding)"
                        : ", exactly");
    c->statement = mc->statement;
    c->formula = model_formula;
    c->notes = model_notes;
    mc->blocks = count_list(mc->L);
    mc->positions = mc->V >= 2 ? count_list(mc->n) : NULL;
    int k = 0;
    if (mc->arith) {
        /* the float twin's grid (arith_claim.h): one row, the whole network */
        c->quick[k++] = (sweep_t){"float", {{"check", "float"}, {"block", "all"}, {NULL, NULL}}};
    } else {
        const char *per_block = mc->cfg->parallel_attn_mlp
                                    ? (mc->approx ? "block,block-silu_a" : "block")
                                    : (mc->approx ? "attn,mlp,mlp-silu_a" : "attn,mlp");
        c->quick[k++] = (sweep_t){"sublayer", {{"check", per_block}, {"block", mc->blocks},
                                               {NULL, NULL}}};
        c->quick[k++] = (sweep_t){"model", {{"check", mc->approx ? "model-silu_a,real" : "model"},
                                            {"block", "all"}, {NULL, NULL}}};
        if (mc->has_omega)
            c->quick[k++] = (sweep_t){"encoded", {{"check", "encoded"}, {"block", "all"},
                                                  {NULL, NULL}}};
        if (mc->positions)
            c->quick[k++] = (sweep_t){"top1", {{"check", "top1"}, {"pos", mc->positions},
                                               {NULL, NULL}}};
    }
    c->quick[k].label = NULL;
    for (int j = 1; j < CONVERT_N_MUT; j++) {
        c->mutations[j - 1][0] = convert_mutation[j][0];
        c->mutations[j - 1][1] = convert_mutation[j][1];
    }
    if (!mc->arith)
        c->plots[0] = (plot_t){.x = "block", .y = "slack used", .series = "check",
                               .extra_y = "kappa",
                               .title = "bits of slack used per block (attn, mlp)"};
    c->run = run_row;
    c->start_prec = start_prec;
    c->export_instance = export_instance;
    c->run_instance = run_instance;
    c->summary_md = summary_md;
    c->estimate_bytes = estimate_bytes;
    c->ctx = mc;
    *out = mc;
    return 0;
fail:
    model_claim_free(mc);
    return rc;
}

void model_claim_free(model_claim_t *mc)
{
    if (!mc)
        return;
    for (long b = 0; mc->h_attn && b < mc->L; b++) {
        imat_clear(mc->h_attn + b);
        imat_clear(mc->h_mlp + b);
        mcheck_shared_clear(mc->shared + b);
    }
    free(mc->shared);
    free(mc->h_attn);
    free(mc->h_mlp);
    for (long k = 0; k < mc->n_e2e; k++) {
        mcheck_e2e_clear(mc->e2e[k]);
        free(mc->e2e[k]);
    }
    free(mc->e2e);
    if (mc->heads_m) {
        _arb_vec_clear(mc->eps_line, mc->L);
        _arb_vec_clear(mc->eps_range, mc->L);
        _arb_vec_clear(mc->w_sum, mc->L);
        _arb_vec_clear(mc->bound, mc->L);
    }
    free(mc->heads_m);
    free(mc->zmax);
    free(mc->trail);
    if (mc->act_ready)
        convert_act_clear(&mc->ca);
    tmodel_close(mc->m);
    imat_clear(mc->X);
    arb_clear(mc->omega);
    arb_clear(mc->tol);
    pthread_mutex_destroy(&mc->stream_lock);
    pthread_mutex_destroy(&mc->e2e_lock);
    free(mc->W_U);
    free(mc->b_U);
    free(mc->blocks);
    free(mc->positions);
    free(mc->file);
    free(mc->input);
    free(mc);
}

const claim_t *model_claim(const model_claim_t *mc) { return &mc->claim; }
const char *model_claim_sha256(const model_claim_t *mc) { return mc->sha; }
const char *model_claim_identity(const model_claim_t *mc) { return mc->identity; }
const tmodel_t *model_claim_model(const model_claim_t *mc) { return mc->m; }
const convert_act_t *model_claim_act(const model_claim_t *mc) { return &mc->ca; }
const imat_struct *model_claim_tokens(const model_claim_t *mc) { return mc->X; }
const char *model_claim_tokens_text(const model_claim_t *mc) { return mc->tokens_text; }
int model_claim_heads_m(const model_claim_t *mc, long b)
{
    return mc->heads_m && b >= 0 && b < mc->L ? mc->heads_m[b] : 1;
}
