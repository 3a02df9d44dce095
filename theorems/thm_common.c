#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runner.h"
#include "thm_common.h"

/* thm_estimate_bytes's constants (see its comment) */
#define THM_EST_PAIR_COPIES 4.0
#define THM_EST_PATTERN_COPIES 4.0

/* Seeding GMP's Mersenne twister costs more than drawing a small instance
 * (hundreds of microseconds), and a sweep draws the same seed at every
 * precision and parameter: each thread keeps the states of its last few
 * seeds, freed by the thread's flint_cleanup (FLINT keeps its cleanup
 * functions per thread). */
#define THM_SEED_CACHE 16
static _Thread_local struct {
    unsigned long key[THM_SEED_CACHE];
    gmp_randstate_t state[THM_SEED_CACHE];
    int used, next, registered;
} seed_cache;

static void seed_cache_clear(void)
{
    for (int k = 0; k < seed_cache.used; k++)
        gmp_randclear(seed_cache.state[k]);
    seed_cache.used = seed_cache.next = seed_cache.registered = 0;
}

void thm_rand_init(gmp_randstate_t st, unsigned long seed, unsigned long salt)
{
    unsigned long key = seed * 1000003UL + salt;
    for (int k = 0; k < seed_cache.used; k++)
        if (seed_cache.key[k] == key) {
            gmp_randinit_set(st, seed_cache.state[k]); /* the same state: the same draws */
            return;
        }
    gmp_randinit_default(st);
    gmp_randseed_ui(st, key);
    if (!seed_cache.registered) {
        flint_register_cleanup_function(seed_cache_clear);
        seed_cache.registered = 1;
    }
    int k = seed_cache.next;
    if (k < seed_cache.used)
        gmp_randclear(seed_cache.state[k]);
    else
        seed_cache.used++;
    gmp_randinit_set(seed_cache.state[k], st);
    seed_cache.key[k] = key;
    seed_cache.next = (k + 1) % THM_SEED_CACHE;
}

double thm_estimate_bytes(const params_t *p, mpfr_prec_t prec)
{
    double dims[8];
    int nd = 0;
    long v[3], heads = 1, blocks = 1, d_head = 0;
    const char *shape = params_get(p, "shape");
    int k = shape ? thm_parse_dims(v, 3, shape) : 0;
    for (int j = 0; j < k; j++)
        dims[nd++] = (double)v[j] + 1; /* + 1: the bias token or column */
    static const char *const sizes[] = {"N", "n", "d", NULL};
    for (int j = 0; sizes[j]; j++)
        if (params_get_long(v, p, sizes[j]) == 0 && v[0] > 0)
            dims[nd++] = (double)v[0] + 1;
    if (params_get_long(v, p, "heads") == 0 && v[0] > 0)
        heads = v[0];
    if (params_get_long(v, p, "blocks") == 0 && v[0] > 0)
        blocks = v[0];
    if (params_get_long(v, p, "d_head") == 0 && v[0] > 0)
        d_head = v[0];
    /* every pair of sizes is a matrix of a block (weights, inputs, outputs,
     * temporaries); each head adds its four d_head-wide maps; the largest
     * size squared is an attention pattern (one head's at a time) */
    double pairs = 0, largest = 1;
    for (int i = 0; i < nd; i++) {
        largest = dims[i] > largest ? dims[i] : largest;
        for (int j = i + 1; j < nd; j++)
            pairs += dims[i] * dims[j];
    }
    double entries = (double)blocks * (THM_EST_PAIR_COPIES * pairs +
                                       4.0 * (double)heads * (double)(d_head + 1) * largest) +
                     THM_EST_PATTERN_COPIES * largest * largest;
    return THM_EST_BASE_BYTES + entries * ball_bytes(prec);
}

double thm_mlp_layer_bytes(const params_t *p, mpfr_prec_t prec)
{
    long v[3];
    const char *shape = params_get(p, "shape");
    if (!shape || thm_parse_dims(v, 3, shape) != 3 || v[0] > THM_SIZE_MAX ||
        v[1] > THM_SIZE_MAX || v[2] > THM_SIZE_MAX)
        return 0; /* the row refuses such a shape */
    long d = v[0], l = v[1], n = v[2];
    double B = ball_bytes(prec), S = THM_EXACT_BALL_BYTES;
    double dd = (double)d, dl = (double)l, dn = (double)n, N = dn + 1, D = dd + 1;
    double inst = (dn * dd + 2 * dd * dl) * S;
    double streams = dn * dd * B + 3 * N * D * B;
    attn_source_t src = {.n_heads = l, .r = 1};
    double mlp = mlp_apply_bytes(n, d, l, d, prec);
    double layer = attn_layer_bytes(&src, 1, d + 1, n + 1, prec);
    return THM_EST_BASE_BYTES + inst + streams + (mlp > layer ? mlp : layer);
}

void thm_rand_weights(imat_t A, gmp_randstate_t st, long fan_in)
{
    long shift = 0;
    while ((1L << (2 * shift)) < fan_in)
        shift++;
    imat_randtest_dyadic(A, st, WEIGHT_BITS);
    for (long k = 0; k < A->rows * A->cols; k++)
        arb_mul_2exp_si(A->e + k, A->e + k, -shift); /* exact: a power of two */
}

int thm_all_zero_product(const imat_t X, const imat_t B)
{
    imat_t P;
    imat_init(P, X->rows, B->cols);
    imat_mul(P, X, B, 64 + 2 * WEIGHT_BITS + 64); /* exact for these sizes */
    int zero = 1;
    for (long k = 0; k < P->rows * P->cols && zero; k++)
        zero = arb_contains_zero(P->e + k);
    imat_clear(P);
    return zero;
}

void thm_nonzero_column(imat_t W, long c, const imat_t X, gmp_randstate_t st)
{
    imat_t w;
    imat_init(w, W->rows, 1);
    for (long i = 0; i < W->rows; i++)
        arb_set(imat_entry(w, i, 0), imat_entry(W, i, c));
    while (thm_all_zero_product(X, w)) {
        imat_randtest_dyadic(w, st, WEIGHT_BITS);
        for (long i = 0; i < W->rows; i++)
            arb_set(imat_entry(W, i, c), imat_entry(w, i, 0));
    }
    imat_clear(w);
}

int thm_parse_dims(long *dims, int max, const char *s)
{
    int n = 0;
    while (*s && n < max) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v <= 0)
            return -1;
        dims[n++] = v;
        s = end;
        if (*s == 'x')
            s++;
        else if (*s)
            return -1;
    }
    return *s ? -1 : n;
}

void thm_bias_stream(imat_t Xh, const imat_t X)
{
    imat_reinit(Xh, X->rows + 1, X->cols + 1);
    arb_set_ui(imat_entry(Xh, 0, X->cols), 1);
    imat_set_block(Xh, 1, 0, X);
}

int thm_get_slope(arb_t a, row_t *r)
{
    if (!params_get(&r->params, "a")) {
        arb_set_ui(a, 1);
        return 0;
    }
    if (params_get_ival(a, &r->params, "a", r->prec) != 0 || !arb_is_positive(a)) {
        snprintf(r->note, sizeof r->note, "a='%s' must be a positive number",
                 params_get(&r->params, "a"));
        return -1;
    }
    /* the slope's scale is tracked in doubles (resolve_bits): an a past
     * their range, 1e400, would leave every row inconclusive.  A tiny a
     * (1e-2000) is fine: it raises the working precision instead. */
    arb_t dmax;
    arb_init(dmax);
    arb_set_d(dmax, DBL_MAX);
    int too_big = !arb_lt(a, dmax);
    arb_clear(dmax);
    if (too_big) {
        snprintf(r->note, sizeof r->note, "a='%s' is above the largest double (1.8e308)",
                 params_get(&r->params, "a"));
        return -1;
    }
    return 0;
}

int thm_get_shape(long *dims, int count, row_t *r)
{
    const char *s = params_get(&r->params, "shape");
    int ok = s && thm_parse_dims(dims, count, s) == count;
    for (int k = 0; ok && k < count; k++)
        ok = dims[k] <= THM_SIZE_MAX;
    if (!ok) {
        snprintf(r->note, sizeof r->note,
                 "shape='%s' must be %d integers in [1, %ld] joined by x", s ? s : "", count,
                 THM_SIZE_MAX);
        return -1;
    }
    return 0;
}

int thm_get_size(long *v, row_t *r, const char *name, long lo)
{
    if (params_get_long(v, &r->params, name) != 0 || *v < lo || *v > THM_SIZE_MAX) {
        const char *s = params_get(&r->params, name);
        snprintf(r->note, sizeof r->note, "%s='%s' must be an integer in [%ld, %ld]", name,
                 s ? s : "", lo, THM_SIZE_MAX);
        return -1;
    }
    return 0;
}

void thm_finish_exact(row_t *r, const imat_t ref, const imat_t con, long row0, long rows)
{
    error_metric(r->error, r->error_abs, ref, con, row0, rows, ref->cols, r->prec);
    scale_of(r->scale, ref, row0, rows, ref->cols);
}

void thm_silu_track_init(thm_silu_track_t *t, const arb_t a) { az_track_init(t, a); }

void thm_silu_track_clear(thm_silu_track_t *t) { az_track_clear(t); }

void thm_silu_a_tracked(arb_t y, const arb_t x, const void *track, mpfr_prec_t prec)
{
    thm_silu_track_t *t = (thm_silu_track_t *)track;
    az_track_note(t, x);
    ival_silu_a(y, x, t->a, prec);
}

void thm_silu_a_note(arb_t y, const arb_t x, const void *track, mpfr_prec_t prec)
{
    (void)y;
    (void)prec;
    az_track_note((thm_silu_track_t *)track, x);
}

void thm_silu_track_resolve(row_t *r, const thm_silu_track_t *t)
{
    az_track_resolve_bits(r, t->max_az);
}

int thm_predict(row_t *r, int (*visit)(row_t *r, thm_silu_track_t *track))
{
    arb_t a;
    arb_init(a);
    int rc = thm_get_slope(a, r);
    if (rc == 0) {
        thm_silu_track_t track;
        thm_silu_track_init(&track, a);
        rc = visit(r, &track);
        if (rc == 0)
            thm_silu_track_resolve(r, &track);
        thm_silu_track_clear(&track);
    }
    arb_clear(a);
    return rc;
}

void thm_neuron_head(attn_head_t h, const arb_t a, const imat_t W_in, const imat_t W_out,
                     long k, mpfr_prec_t prec)
{
    attn_source_t src;
    thm_neurons_t nr;
    thm_neuron_source(&src, &nr, a, W_in, W_out, NULL);
    attn_source_head(h, &src, k, W_in->rows + 1, prec);
}

int thm_exact_run(row_t *r, thm_exact_build_fn build)
{
    imat_t ref, con;
    imat_init(ref, 0, 0);
    imat_init(con, 0, 0);
    int rc = build(ref, con, NULL, r, r->prec);
    if (rc == 0)
        thm_finish_exact(r, ref, con, 0, ref->rows);
    imat_clear(ref);
    imat_clear(con);
    return rc;
}

int thm_exact_export(instance_t *I, const params_t *p, unsigned long seed, mpfr_prec_t prec,
                     thm_exact_build_fn build)
{
    row_t r;
    memset(&r, 0, sizeof r);
    r.params = *p;
    r.seed = seed;
    r.prec = prec;
    imat_t ref, con;
    imat_init(ref, 0, 0);
    imat_init(con, 0, 0);
    int rc = build(ref, con, I, &r, prec);
    if (rc == 0) {
        instance_add(I, "reference", ref);
        instance_add(I, "construction", con);
    } else {
        snprintf(I->note, sizeof I->note, "%s", r.note);
    }
    for (int k = 0; k < r.n_extra; k++)
        arb_clear(r.extra[k].iv);
    imat_clear(ref);
    imat_clear(con);
    return rc;
}

/* Heads [h0, h1) of the neuron source, written into the chunk. */
static void neuron_fill(attn_chunk_t *ch, long h0, long h1, const void *ctx, mpfr_prec_t prec)
{
    const thm_neurons_t *nr = ctx;
    long d = nr->W_in->rows;
    for (long k = h0; k < h1; k++) {
        long c = attn_chunk_col(ch, k, 0);
        for (long i = 0; i < d; i++) {
            arb_mul(imat_entry(ch->W_Q, i, c), imat_entry(nr->W_in, i, k), nr->a, prec);
            arb_set(imat_entry(ch->W_V, i, c), imat_entry(nr->W_in, i, k));
            arb_set(imat_entry(ch->W_O, c, i), imat_entry(nr->W_out, k, i));
        }
        arb_set_si(imat_entry(ch->W_K, d, c), k == nr->flip_wk ? 1 : -1);
    }
}

void thm_neuron_source(attn_source_t *src, thm_neurons_t *ctx, const arb_t a,
                       const imat_t W_in, const imat_t W_out, const mask_t *M)
{
    ctx->a = a;
    ctx->W_in = W_in;
    ctx->W_out = W_out;
    ctx->flip_wk = -1;
    *src = (attn_source_t){.n_heads = W_in->cols, .r = 1, .M = M, .fill = neuron_fill,
                           .ctx = ctx};
}

int thm_export_evaluated(instance_t *I, const params_t *p, unsigned long seed, mpfr_prec_t prec,
                         int (*evaluate)(row_t *r, instance_t *out), const char *note)
{
    row_t r;
    memset(&r, 0, sizeof r);
    r.params = *p;
    r.seed = seed;
    row_start(&r, prec);
    int rc = evaluate(&r, I);
    snprintf(I->note, sizeof I->note, "%s", rc ? r.note : note);
    row_clear(&r);
    return rc;
}
