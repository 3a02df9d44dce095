/* Attention heads as certified enclosures.  Softmax is shift-invariant, so
 * shifting a row by any number m (here the largest upper end of its allowed
 * logits) changes nothing mathematically; it keeps every e^(s-m) <= 1. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "attn.h"
#include "par.h"
#include "xalloc.h"

/* ------------------------------------------------------------------ masks */

void mask_init(mask_t *M, long n)
{
    M->n = n;
    M->start = xcalloc((size_t)(n > 0 ? n : 1), sizeof *M->start);
    M->len = xcalloc((size_t)(n > 0 ? n : 1), sizeof *M->len);
    M->cap = n > 0 ? n : 1;
    M->key = xmallocarray((size_t)M->cap, sizeof *M->key);
    M->nnz = 0;
}

void mask_clear(mask_t *M)
{
    free(M->start);
    free(M->len);
    free(M->key);
    M->start = M->len = M->key = NULL;
    M->n = M->nnz = M->cap = 0;
}

static void mask_reserve(mask_t *M, long extra)
{
    if (M->nnz + extra <= M->cap)
        return;
    long cap = M->cap;
    while (cap < M->nnz + extra)
        cap *= 2;
    M->key = xreallocarray(M->key, (size_t)cap, sizeof *M->key);
    M->cap = cap;
}

int mask_add(mask_t *M, long i, long j)
{
    if (i < 0 || i >= M->n || j < 0 || j >= M->n)
        return -1;
    if (M->len[i] == 0) {
        M->start[i] = M->nnz;
    } else {
        long last = M->key[M->start[i] + M->len[i] - 1];
        if (last == j)
            return 0; /* a repeat */
        if (last > j || M->start[i] + M->len[i] != M->nnz) /* unsorted, or another row since */
            return -1;
    }
    mask_reserve(M, 1);
    M->key[M->nnz++] = j;
    M->len[i]++;
    return 0;
}

void mask_set_row(mask_t *M, long i, const long *keys, long k)
{
    if (k > M->len[i]) { /* the old place is too small: move the row to the end */
        mask_reserve(M, k);
        M->start[i] = M->nnz;
        M->nnz += k;
    }
    memcpy(M->key + M->start[i], keys, sizeof *keys * (size_t)k);
    M->len[i] = k;
}

void mask_copy(mask_t *dst, const mask_t *src)
{
    mask_clear(dst);
    mask_init(dst, src->n);
    for (long i = 0; i < src->n; i++)
        for (long t = 0; t < src->len[i]; t++)
            mask_add(dst, i, mask_row(src, i)[t]);
}

int mask_allows(const mask_t *M, long i, long j)
{
    const long *k = mask_row(M, i);
    long lo = 0, hi = M->len[i];
    while (lo < hi) {
        long mid = lo + (hi - lo) / 2;
        if (k[mid] < j)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < M->len[i] && k[lo] == j;
}

void mask_causal(mask_t *M, long n)
{
    mask_init(M, n);
    mask_reserve(M, n * (n + 1) / 2);
    for (long i = 0; i < n; i++)
        for (long j = 0; j <= i; j++)
            mask_add(M, i, j);
}

void mask_self_bias(mask_t *M, long n)
{
    mask_init(M, n);
    mask_reserve(M, 2 * n);
    for (long i = 0; i < n; i++) {
        mask_add(M, i, 0);
        mask_add(M, i, i);
    }
}

void mask_self(mask_t *M, long n)
{
    mask_init(M, n);
    for (long i = 0; i < n; i++)
        mask_add(M, i, i);
}

void mask_full(mask_t *M, long n)
{
    mask_init(M, n);
    mask_reserve(M, n * n);
    for (long i = 0; i < n; i++)
        for (long j = 0; j < n; j++)
            mask_add(M, i, j);
}

/* ------------------------------------------------------------------ heads */

void attn_head_init(attn_head_t h, long D, long r)
{
    imat_init(h->W_Q, D, r);
    imat_init(h->W_K, D, r);
    imat_init(h->W_V, D, r);
    imat_init(h->W_O, r, D);
    arb_init(h->tau);
    arb_one(h->tau);
    h->qk_full = h->ov_full = 0;
}

void attn_head_init_full(attn_head_t h, long D)
{
    imat_init(h->W_Q, D, D);
    imat_init(h->W_K, 0, 0);
    imat_init(h->W_V, D, D);
    imat_init(h->W_O, 0, 0);
    arb_init(h->tau);
    arb_one(h->tau);
    h->qk_full = h->ov_full = 1;
}

void attn_head_clear(attn_head_t h)
{
    imat_clear(h->W_Q);
    imat_clear(h->W_K);
    imat_clear(h->W_V);
    imat_clear(h->W_O);
    arb_clear(h->tau);
}

/* ---------------------------------------------------------------- softmax */

/* Adaptive precision.  After the shift every term is e^x with x = s - m
 * <= ~0 and the row sum is >= ~1, so a term needs absolute accuracy
 * ~2^-prec only: e^x with hi(x) log2 e = -t is evaluated (and divided) at
 * max(ATTN_LOWPREC, prec - t + log2 t + ATTN_GUARD) bits.  Arb encloses e^x
 * and the quotient at that precision, so each entry is still a certified
 * enclosure; it is only wider, by ~2^-(prec + GUARD) in absolute terms. */
#define ATTN_LOWPREC 32
#define ATTN_GUARD 16

static mpfr_prec_t term_prec(const arb_t x, mpfr_prec_t prec)
{
    arf_t u;
    arf_init(u);
    arb_get_ubound_arf(u, x, 53);
    double t = -arf_get_d(u, ARF_RND_UP) * 1.4426950408889634; /* bits below 1 */
    arf_clear(u);
    if (!(t > ATTN_GUARD)) /* also NaN */
        return prec;
    if (isinf(t)) /* e^-inf = 0: any precision encloses it */
        return ATTN_LOWPREC;
    /* rounding x = -t ln 2 to p bits moves e^x by ~t 2^-p relatively: add log2 t */
    double p = (double)prec - t + ATTN_GUARD + log2(t);
    return p <= ATTN_LOWPREC ? ATTN_LOWPREC : (mpfr_prec_t)p;
}

/* Wide logits: a_j = e_j / (e_j + sum_(k != j) e_k) rises with e_j and falls
 * with every other e_k, so over the boxes of the e's it lies in
 *   [lo e_j / (lo e_j + sum_(k != j) hi e_k), hi e_j / (hi e_j + sum_(k != j) lo e_k)].
 * Dividing the balls e_j / sum counts e_j twice and is about twice as wide;
 * each a_j (an enclosure already) is intersected with this one. */
static void softmax_monotone(arb_ptr a, arb_srcptr e, long len, mpfr_prec_t prec)
{
    arf_t lo, hi, slo, shi, num, den, qlo, qhi;
    arf_init(lo);
    arf_init(hi);
    arf_init(slo);
    arf_init(shi);
    arf_init(num);
    arf_init(den);
    arf_init(qlo);
    arf_init(qhi);
    for (long k = 0; k < len; k++) {
        arb_get_lbound_arf(lo, e + k, prec);
        if (arf_sgn(lo) < 0)
            arf_zero(lo); /* e^x > 0 */
        arb_get_ubound_arf(hi, e + k, prec);
        arf_add(slo, slo, lo, prec, ARF_RND_FLOOR);
        arf_add(shi, shi, hi, prec, ARF_RND_CEIL);
    }
    arb_t t;
    arb_init(t);
    for (long j = 0; j < len; j++) {
        arb_get_lbound_arf(lo, e + j, prec);
        if (arf_sgn(lo) < 0)
            arf_zero(lo);
        arb_get_ubound_arf(hi, e + j, prec);
        /* lower end: lo e_j / (lo e_j + (shi - hi e_j)), the others rounded up */
        arf_sub(den, shi, hi, prec, ARF_RND_CEIL);
        if (arf_sgn(den) < 0)
            arf_zero(den);
        arf_add(den, den, lo, prec, ARF_RND_CEIL);
        if (arf_is_zero(den))
            arf_zero(qlo);
        else
            arf_div(qlo, lo, den, prec, ARF_RND_FLOOR);
        /* upper end: hi e_j / (hi e_j + (slo - lo e_j)), the others rounded down */
        arf_sub(den, slo, lo, prec, ARF_RND_FLOOR);
        if (arf_sgn(den) < 0)
            arf_zero(den);
        arf_add(den, den, hi, prec, ARF_RND_FLOOR);
        if (arf_sgn(den) <= 0 || arf_cmp(hi, den) >= 0)
            arf_one(qhi); /* a weight is at most 1 */
        else
            arf_div(qhi, hi, den, prec, ARF_RND_CEIL);
        if (arf_cmp(qlo, qhi) <= 0) {
            arb_set_interval_arf(t, qlo, qhi, prec);
            ival_narrow(a + j, t, prec);
        }
    }
    arb_clear(t);
    arf_clear(lo);
    arf_clear(hi);
    arf_clear(slo);
    arf_clear(shi);
    arf_clear(num);
    arf_clear(den);
    arf_clear(qlo);
    arf_clear(qhi);
}

/* The softmax of one row; adaptive: terms far below the row maximum at
 * fewer bits (the reference path keeps prec everywhere). */
static int softmax_row(arb_ptr a, arb_srcptr s, long len, mpfr_prec_t prec, int adaptive)
{
    if (len <= 0)
        return -1;
    arf_t m, u;
    arb_t z;
    arf_init(m);
    arf_init(u);
    arb_init(z);
    /* the shift: the largest upper end (a NaN logit keeps m NaN, and with it the row) */
    for (long j = 0; j < len; j++) {
        arb_get_ubound_arf(u, s + j, prec);
        if (j == 0 || arf_is_nan(u) || (!arf_is_nan(m) && arf_cmp(u, m) > 0))
            arf_set(m, u);
    }
    mpfr_prec_t pj_small[16];
    mpfr_prec_t *pj = len <= 16 ? pj_small : xmallocarray((size_t)len, sizeof *pj);
    int wide = 0;
    for (long j = 0; j < len; j++) {
        arb_sub_arf(a + j, s + j, m, prec);
        pj[j] = adaptive ? term_prec(a + j, prec) : prec;
        arb_exp(a + j, a + j, pj[j]);
        arb_add(z, z, a + j, prec);
        wide |= !arb_is_exact(s + j);
    }
    arb_ptr e = wide && arb_is_finite(z) ? _arb_vec_init(len) : NULL;
    if (e)
        _arb_vec_set(e, a, len);
    for (long j = 0; j < len; j++)
        arb_div(a + j, a + j, z, pj[j]);
    if (e) {
        softmax_monotone(a, e, len, prec);
        _arb_vec_clear(e, len);
    }
    if (pj != pj_small)
        free(pj);
    arf_clear(m);
    arf_clear(u);
    arb_clear(z);
    return 0;
}

int attn_softmax_row(arb_ptr a, arb_srcptr s, long len, mpfr_prec_t prec)
{
    return softmax_row(a, s, len, prec, 1);
}

int attn_softmax_row_uniform(arb_ptr a, arb_srcptr s, long len, mpfr_prec_t prec)
{
    return softmax_row(a, s, len, prec, 0);
}

static int softmax_dense(imat_t A, const imat_t S, const mask_t *M, mpfr_prec_t prec,
                         int adaptive)
{
    long N = S->rows, C = S->cols;
    int status = 0;
    arb_struct *s = xmallocarray((size_t)(C > 0 ? C : 1), sizeof *s); /* shallow copies */
    arb_ptr a = _arb_vec_init(C > 0 ? C : 1);
    imat_zero(A);
    for (long i = 0; i < N; i++) {
        long len = M ? mask_row_len(M, i) : C;
        for (long t = 0; t < len; t++)
            s[t] = *imat_entry(S, i, M ? mask_row(M, i)[t] : t);
        if (softmax_row(a, s, len, prec, adaptive) != 0) {
            status = -1;
            continue;
        }
        for (long t = 0; t < len; t++)
            arb_swap(imat_entry(A, i, M ? mask_row(M, i)[t] : t), a + t);
    }
    _arb_vec_clear(a, C > 0 ? C : 1);
    free(s);
    return status;
}

int attn_softmax(imat_t A, const imat_t S, const mask_t *M, mpfr_prec_t prec)
{
    return softmax_dense(A, S, M, prec, 1);
}

int attn_softmax_uniform(imat_t A, const imat_t S, const mask_t *M, mpfr_prec_t prec)
{
    return softmax_dense(A, S, M, prec, 0);
}

/* ------------------------------------------------------- stacked layers */

/* One chunk's weights and products stay within about this many bytes. */
#define ATTN_CHUNK_BYTES (96.0 * 1024 * 1024)
/* Work per task, in ball operations (a task is a few heads' queries, or a
 * few heads' filling). */
#define ATTN_TASK_WORK 16384.0
#define ATTN_QUERY_BLOCK 128

static double chunk_budget = ATTN_CHUNK_BYTES;

void attn_set_chunk_bytes(double bytes)
{
    chunk_budget = bytes > 0 ? bytes : ATTN_CHUNK_BYTES;
}

double attn_chunk_bytes(void) { return chunk_budget; }

/* Balls one head holds in a chunk: its weights and its share of Q, K, V, A V. */
static double head_balls(const attn_source_t *src, long D, long N)
{
    if (src->full)
        return 2.0 * (double)D * (double)D + 3.0 * (double)N * (double)D;
    return 4.0 * (double)D * (double)src->r + 4.0 * (double)N * (double)src->r;
}

long attn_chunk_heads(const attn_source_t *src, long D, long N, mpfr_prec_t prec)
{
    double k = floor(chunk_budget / (head_balls(src, D, N) * ball_bytes(prec)));
    if (k < 1)
        k = 1;
    return k > (double)src->n_heads ? (src->n_heads > 0 ? src->n_heads : 1) : (long)k;
}

static long ceil_div(long a, long b) { return (a + b - 1) / b; }

int attn_softmax_threads(long n_heads, long N)
{
    /* source_apply's heads par_for: at most a task per head and query block */
    return par_threads_for((double)n_heads * (double)ceil_div(N > 0 ? N : 1, ATTN_QUERY_BLOCK));
}

double attn_layer_bytes(const attn_source_t *src, long n_src, long D, long N, mpfr_prec_t prec)
{
    double most = 0;
    long heads = 1;
    for (long s = 0; s < n_src; s++) {
        long k = attn_chunk_heads(src + s, D, N, prec);
        heads = k > heads ? k : heads;
        long R = k * (src[s].full ? D : src[s].r);
        /* the chunk, V transposed (shallow), and the largest of its products' scratch */
        double b = (double)k * head_balls(src + s, D, N) * ball_bytes(prec) +
                   (double)N * (double)R * (double)sizeof(arb_struct);
        double m = imat_mul_bytes(N, D, R, prec), o = imat_mul_bytes(N, R, D, prec);
        b += m > o ? m : o;
        most = b > most ? b : most;
    }
    /* the output, and the softmax buffers of each thread its tasks can use */
    long len = N > 0 ? N : 1;
    return most + (double)N * (double)D * ball_bytes(prec) +
           (double)attn_softmax_threads(heads, N) * 3.0 * (double)len * ball_bytes(prec);
}

static void chunk_init(attn_chunk_t *ch, const attn_source_t *src, long h0, long nh, long D)
{
    ch->h0 = h0;
    ch->n_heads = nh;
    ch->full = src->full;
    ch->r = src->full ? D : src->r;
    ch->D = D;
    long R = nh * ch->r;
    imat_init(ch->W_Q, D, R);
    imat_init(ch->W_V, D, R);
    imat_init(ch->W_K, ch->full ? 0 : D, ch->full ? 0 : R);
    imat_init(ch->W_O, ch->full ? 0 : R, ch->full ? 0 : D);
    ch->tau = _arb_vec_init(nh);
    for (long h = 0; h < nh; h++)
        arb_one(ch->tau + h);
}

static void chunk_clear(attn_chunk_t *ch)
{
    imat_clear(ch->W_Q);
    imat_clear(ch->W_K);
    imat_clear(ch->W_V);
    imat_clear(ch->W_O);
    _arb_vec_clear(ch->tau, ch->n_heads);
}

/* The chunk holds heads from h0 on: weights back to zero, temperatures to 1. */
static void chunk_reset(attn_chunk_t *ch, long h0)
{
    ch->h0 = h0;
    imat_zero(ch->W_Q);
    imat_zero(ch->W_K);
    imat_zero(ch->W_V);
    imat_zero(ch->W_O);
    for (long h = 0; h < ch->n_heads; h++)
        arb_one(ch->tau + h);
}

/* A chunk's products: Q, K, V and A V, N x R (no K for full-form heads:
 * their keys are X itself). */
static void products_init(imat_t Q, imat_t K, imat_t V, imat_t AV, long N, long R, int full)
{
    imat_init(Q, N, R);
    imat_init(K, full ? 0 : N, full ? 0 : R);
    imat_init(V, N, R);
    imat_init(AV, N, R);
}

static void products_clear(imat_t Q, imat_t K, imat_t V, imat_t AV)
{
    imat_clear(Q);
    imat_clear(K);
    imat_clear(V);
    imat_clear(AV);
}

typedef struct {
    const attn_source_t *src;
    attn_chunk_t *ch;
    const imat_struct *X;
    imat_struct *Q, *K, *V, *AV, *Y;
    arb_struct *Vt;                  /* V transposed: shallow copies */
    mpfr_prec_t prec;
    long fill_heads;                 /* heads per fill task */
    long task_heads, query_block;    /* heads and queries per head task */
    long query_blocks, maxlen;
    char *empty;                     /* per head task: a mask row allowed no key */
    arb_srcptr ones;                 /* full form: the heads' outputs are summed */
} layer_job_t;

static void fill_task(void *arg, long t)
{
    layer_job_t *J = arg;
    long h0 = J->ch->h0 + t * J->fill_heads, h1 = h0 + J->fill_heads;
    long end = J->ch->h0 + J->ch->n_heads;
    J->src->fill(J->ch, h0, h1 < end ? h1 : end, J->src->ctx, J->prec);
}

/* Vt = V transposed (shallow), for a block of V's rows. */
static void transpose_v_task(void *arg, long t)
{
    layer_job_t *J = arg;
    long N = J->V->rows, R = J->V->cols;
    long i0 = t * J->query_block, i1 = i0 + J->query_block < N ? i0 + J->query_block : N;
    for (long i = i0; i < i1; i++)
        for (long c = 0; c < R; c++)
            J->Vt[c * N + i] = *imat_entry(J->V, i, c);
}

/* Logits, softmax and A V for a few heads and a block of queries. */
static void heads_task(void *arg, long t)
{
    layer_job_t *J = arg;
    const attn_chunk_t *ch = J->ch;
    const mask_t *M = J->src->M;
    long N = J->X->rows, r = ch->r;
    long g0 = (t / J->query_blocks) * J->task_heads, i0 = (t % J->query_blocks) * J->query_block;
    long g1 = g0 + J->task_heads < ch->n_heads ? g0 + J->task_heads : ch->n_heads;
    long i1 = i0 + J->query_block < N ? i0 + J->query_block : N;
    long cap = J->maxlen > 0 ? J->maxlen : 1;
    arb_ptr s = _arb_vec_init(cap), a = _arb_vec_init(cap);
    arb_struct *vals = xmallocarray((size_t)cap, sizeof *vals); /* shallow copies */
    for (long g = g0; g < g1; g++) {
        arb_srcptr tau = ch->tau + g;
        int unit_tau = arb_is_one(tau);
        long o = g * r;
        for (long i = i0; i < i1; i++) {
            long len = M ? mask_row_len(M, i) : N;
            const long *kj = M ? mask_row(M, i) : NULL;
            if (len == 0) { /* no key to attend to: the row adds 0 */
                for (long c = 0; c < r; c++)
                    arb_zero(imat_entry(J->AV, i, o + c));
                J->empty[t] = 1;
                continue;
            }
            /* logits of the allowed keys only, each a dot product rounded once;
             * full form: s_ij = (x_i W_QK) . x_j */
            arb_srcptr q = imat_entry(J->Q, i, o);
            for (long u = 0; u < len; u++) {
                long j = kj ? kj[u] : u;
                arb_srcptr k = ch->full ? imat_entry(J->X, j, 0) : imat_entry(J->K, j, o);
                arb_dot(s + u, NULL, 0, q, 1, k, 1, r, J->prec);
                if (!unit_tau)
                    arb_mul(s + u, s + u, tau, J->prec);
            }
            softmax_row(a, s, len, J->prec, 1);
            /* (A V)_i = sum_u a_u v_(j_u): keys in one run are read in place */
            long first = kj ? kj[0] : 0;
            int run = !kj || kj[len - 1] - kj[0] == len - 1;
            for (long c = 0; c < r; c++) {
                arb_srcptr col = J->Vt + (o + c) * N; /* value channel o + c, contiguous */
                if (run) {
                    arb_dot(imat_entry(J->AV, i, o + c), NULL, 0, a, 1, col + first, 1, len,
                            J->prec);
                } else {
                    for (long u = 0; u < len; u++)
                        vals[u] = col[kj[u]];
                    arb_dot(imat_entry(J->AV, i, o + c), NULL, 0, a, 1, vals, 1, len, J->prec);
                }
            }
        }
    }
    free(vals);
    _arb_vec_clear(s, cap);
    _arb_vec_clear(a, cap);
}

/* Full form: Y_i += sum over the chunk's heads of (A V)_i, one rounding. */
static void full_output_task(void *arg, long t)
{
    layer_job_t *J = arg;
    long N = J->Y->rows, D = J->Y->cols, nh = J->ch->n_heads;
    long i0 = t * J->query_block, i1 = i0 + J->query_block < N ? i0 + J->query_block : N;
    for (long i = i0; i < i1; i++)
        for (long j = 0; j < D; j++) {
            arb_ptr y = imat_entry(J->Y, i, j);
            arb_dot(y, y, 0, imat_entry(J->AV, i, j), D, J->ones, 1, nh, J->prec);
        }
}


static void fill_from_heads(attn_chunk_t *ch, long h0, long h1, const void *ctx,
                            mpfr_prec_t prec);

/* Y += the heads of one source, chunk by chunk.  -1 on an empty mask row. */
static int source_apply(imat_t Y, const imat_t X, const attn_source_t *src, mpfr_prec_t prec)
{
    long N = X->rows, D = X->cols;
    if (src->n_heads <= 0)
        return 0;
    if (src->M && src->M->n != N)
        return -1;
    long per_chunk = attn_chunk_heads(src, D, N, prec);
    long r = src->full ? D : src->r;
    long maxlen = N, nnz = (long)N * N;
    if (src->M) {
        maxlen = 0;
        nnz = src->M->nnz;
        for (long i = 0; i < N; i++)
            maxlen = mask_row_len(src->M, i) > maxlen ? mask_row_len(src->M, i) : maxlen;
    }
    double per_query = (double)(nnz / (N > 0 ? N : 1) + 1) * (double)(2 * r + 8);
    layer_job_t J = {.src = src, .X = X, .Y = Y, .prec = prec, .maxlen = maxlen};
    J.query_block = N < ATTN_QUERY_BLOCK ? (N > 0 ? N : 1) : ATTN_QUERY_BLOCK;
    J.query_blocks = ceil_div(N > 0 ? N : 1, J.query_block);
    double th = ATTN_TASK_WORK / (per_query * (double)J.query_block);
    J.task_heads = th < 1 ? 1 : (long)th;
    double fh = ATTN_TASK_WORK / ((double)D * (double)r);
    J.fill_heads = fh < 1 ? 1 : (long)fh;
    /* chunks of equal size (the last one may be smaller); their buffers are
     * reused from one chunk to the next */
    long chunks = ceil_div(src->n_heads, per_chunk);
    per_chunk = ceil_div(src->n_heads, chunks);
    arb_ptr ones = NULL;
    if (src->full) {
        ones = _arb_vec_init(per_chunk);
        for (long h = 0; h < per_chunk; h++)
            arb_one(ones + h);
        J.ones = ones;
    }
    int status = 0;
    attn_chunk_t ch;
    imat_t Q, K, V, AV;
    long have = 0; /* heads the buffers hold */
    /* one head of the stream's width is its own chunk: read in place */
    const attn_head_struct *own = src->fill == fill_from_heads && src->n_heads == 1 &&
                                          ((const attn_head_struct *)src->ctx)->W_Q->rows == D
                                      ? src->ctx
                                      : NULL;
    for (long h0 = 0; h0 < src->n_heads; h0 += per_chunk) {
        long nh = src->n_heads - h0 < per_chunk ? src->n_heads - h0 : per_chunk;
        long R = nh * r;
        if (own) {
            /* shallow views of the head's matrices, never cleared here */
            ch = (attn_chunk_t){.h0 = 0, .n_heads = 1, .r = r, .D = D, .full = src->full,
                                .tau = (arb_ptr)own->tau};
            *ch.W_Q = *own->W_Q;
            *ch.W_K = *own->W_K;
            *ch.W_V = *own->W_V;
            *ch.W_O = *own->W_O;
            products_init(Q, K, V, AV, N, R, src->full);
        } else if (nh != have) {
            if (have) {
                chunk_clear(&ch);
                products_clear(Q, K, V, AV);
            }
            chunk_init(&ch, src, h0, nh, D);
            products_init(Q, K, V, AV, N, R, src->full);
            have = nh;
        } else {
            chunk_reset(&ch, h0);
        }
        J.ch = &ch;
        if (!own)
            par_for(ceil_div(nh, J.fill_heads), fill_task, &J);
        /* one product each for Q, K, V over the chunk's heads */
        imat_mul(Q, X, ch.W_Q, prec);
        if (!src->full)
            imat_mul(K, X, ch.W_K, prec);
        imat_mul(V, X, ch.W_V, prec);
        J.Q = Q;
        J.K = K;
        J.V = V;
        J.AV = AV;
        J.Vt = xmallocarray((size_t)(R > 0 ? R : 1) * (size_t)(N > 0 ? N : 1), sizeof *J.Vt);
        par_for(J.query_blocks, transpose_v_task, &J);
        long tasks = ceil_div(nh, J.task_heads) * J.query_blocks;
        J.empty = xcalloc((size_t)tasks, 1);
        par_for(tasks, heads_task, &J);
        for (long t = 0; t < tasks; t++)
            status |= J.empty[t] ? -1 : 0;
        free(J.empty);
        free(J.Vt);
        /* and one for the output */
        if (src->full)
            par_for(J.query_blocks, full_output_task, &J);
        else
            imat_addmul(Y, AV, ch.W_O, prec);
    }
    if (have)
        chunk_clear(&ch);
    if (have || own)
        products_clear(Q, K, V, AV);
    if (ones)
        _arb_vec_clear(ones, per_chunk);
    return status;
}

int attn_layer_sum(imat_t Y, const imat_t X, const attn_source_t *src, long n_src,
                   int residual, mpfr_prec_t prec)
{
    imat_t out;
    imat_init(out, X->rows, X->cols);
    if (residual)
        imat_set(out, X);
    int status = 0;
    for (long s = 0; s < n_src; s++)
        if (source_apply(out, X, src + s, prec) != 0)
            status = -1;
    imat_swap(Y, out);
    imat_clear(out);
    return status;
}

void attn_source_head(attn_head_t h, const attn_source_t *src, long k, long D, mpfr_prec_t prec)
{
    attn_chunk_t ch;
    chunk_init(&ch, src, k, 1, D);
    src->fill(&ch, k, k + 1, src->ctx, prec);
    if (src->full)
        attn_head_init_full(h, D);
    else
        attn_head_init(h, D, ch.r);
    imat_swap(h->W_Q, ch.W_Q);
    imat_swap(h->W_K, ch.W_K);
    imat_swap(h->W_V, ch.W_V);
    imat_swap(h->W_O, ch.W_O);
    arb_swap(h->tau, ch.tau);
    chunk_clear(&ch);
}

/* ------------------------------------------------------- heads as sources */

/* Copy heads (an array of attn_head_struct, all of the chunk's form) into
 * the chunk's top-left corners: a head narrower than the stream is padded
 * with zeros. */
static void fill_from_heads(attn_chunk_t *ch, long h0, long h1, const void *ctx,
                            mpfr_prec_t prec)
{
    const attn_head_struct *heads = ctx;
    (void)prec;
    for (long h = h0; h < h1; h++) {
        const attn_head_struct *hd = heads + h;
        long c0 = attn_chunk_col(ch, h, 0), d = hd->W_Q->rows, r = hd->W_Q->cols;
        for (long i = 0; i < d; i++)
            for (long c = 0; c < r; c++) {
                arb_set(imat_entry(ch->W_Q, i, c0 + c), imat_entry(hd->W_Q, i, c));
                arb_set(imat_entry(ch->W_V, i, c0 + c), imat_entry(hd->W_V, i, c));
                if (!ch->full)
                    arb_set(imat_entry(ch->W_K, i, c0 + c), imat_entry(hd->W_K, i, c));
            }
        if (!ch->full)
            for (long c = 0; c < r; c++)
                for (long j = 0; j < d; j++)
                    arb_set(imat_entry(ch->W_O, c0 + c, j), imat_entry(hd->W_O, c, j));
        arb_set(ch->tau + (h - ch->h0), hd->tau);
    }
}

void attn_heads_source(attn_source_t *src, const attn_head_struct *heads, long n_heads,
                       const mask_t *M)
{
    *src = (attn_source_t){.n_heads = n_heads, .r = n_heads > 0 ? heads[0].W_Q->cols : 1,
                           .full = n_heads > 0 && heads[0].qk_full, .M = M,
                           .fill = fill_from_heads, .ctx = heads};
}

/* Sources for an array of heads: one per run of heads of the same form. */
static long heads_sources(attn_source_t *src, const attn_head_struct *heads, long n_heads,
                          const mask_t *M)
{
    long n = 0;
    for (long h = 0; h < n_heads;) {
        int full = heads[h].qk_full;
        long r = heads[h].W_Q->cols, e = h + 1;
        while (e < n_heads && heads[e].qk_full == full && heads[e].W_Q->cols == r)
            e++;
        attn_heads_source(src + n++, heads + h, e - h, M);
        h = e;
    }
    return n;
}

int attn_heads_apply(imat_t Y, const imat_t X, const attn_head_struct *heads, long n_heads,
                     const mask_t *M, int residual, mpfr_prec_t prec)
{
    attn_source_t *src = xmallocarray((size_t)(n_heads > 0 ? n_heads : 1), sizeof *src);
    long n = heads_sources(src, heads, n_heads, M);
    int status = attn_layer_sum(Y, X, src, n, residual, prec);
    free(src);
    return status;
}

int attn_head_apply(imat_t Y, const attn_head_t h, const imat_t X,
                    const mask_t *M, mpfr_prec_t prec)
{
    return attn_heads_apply(Y, X, h, 1, M, 0, prec);
}
