/* Attention heads on a stream X (N x D): sparse masks, masked softmax with a
 * row-max shift, and one head's output h(X), all as certified enclosures.
 * A head costs what its mask allows: logits, softmax and A V run over each
 * query's allowed keys only, and no N x N matrix is formed. */
#ifndef ATTNCHECK_ATTN_H
#define ATTNCHECK_ATTN_H

#include "imat.h"

/* A mask M in {0,1}^{N x N}, stored by rows (CSR-like): query i may attend
 * to the len[i] keys key[start[i]], ..., in ascending order. */
typedef struct {
    long n;             /* tokens: n queries and n keys */
    long *start, *len;  /* row i: key[start[i] .. start[i] + len[i]) */
    long *key;
    long nnz, cap;      /* keys stored, room for keys */
} mask_t;

void mask_init(mask_t *M, long n);             /* every row empty */
void mask_clear(mask_t *M);
/* Allow key j to query i.  Rows are filled one at a time (all keys of a row
 * before the next row's), keys ascending; a repeated key is ignored.
 * Returns 0, or -1 (nothing changed) when that order is broken. */
int mask_add(mask_t *M, long i, long j);
/* Replace row i's keys by keys[0..k) (ascending). */
void mask_set_row(mask_t *M, long i, const long *keys, long k);
void mask_copy(mask_t *dst, const mask_t *src); /* dst initialised, any n */
/* 1 when query i may attend to key j (binary search). */
int mask_allows(const mask_t *M, long i, long j);
#define mask_row(M, i) ((M)->key + (M)->start[i])
#define mask_row_len(M, i) ((M)->len[i])

void mask_causal(mask_t *M, long n);           /* C_ij = [j <= i] */
void mask_self_bias(mask_t *M, long n);        /* B_ij = [j == i or j == 0] */
void mask_self(mask_t *M, long n);             /* I */
void mask_full(mask_t *M, long n);             /* J */

/* A head of internal dimension r on a stream of width D.
 * Factored form: W_Q, W_K, W_V are D x r, W_O is r x D.
 * Full forms: when qk_full, W_Q holds W_QK (D x D) and W_K is unused;
 * when ov_full, W_V holds W_OV (D x D) and W_O is unused. */
typedef struct {
    imat_t W_Q, W_K, W_V, W_O;
    arb_t tau;
    int qk_full, ov_full;
} attn_head_struct;
typedef attn_head_struct attn_head_t[1];

/* Factored head, all weights zero, tau = 1. */
void attn_head_init(attn_head_t h, long D, long r);
/* Full-form head (W_QK, W_OV both D x D), zero, tau = 1. */
void attn_head_init_full(attn_head_t h, long D);
void attn_head_clear(attn_head_t h);

/* Softmax of one row s[0..len) into a[0..len) (a must not alias s).  The
 * row is shifted by the largest upper end of its logits, so every
 * exponential is at most 1 and huge logits never overflow.  Returns -1 when
 * len is 0, else 0.  attn_softmax_row evaluates terms far below the row
 * maximum (e^(s-m) < 2^-16) at fewer bits, enough for absolute accuracy
 * ~2^-(prec+16): still a certified enclosure, only wider by about that
 * much.  attn_softmax_row_uniform keeps every term at prec bits (the
 * reference for tests and benchmarks). */
int attn_softmax_row(arb_ptr a, arb_srcptr s, long len, mpfr_prec_t prec);
int attn_softmax_row_uniform(arb_ptr a, arb_srcptr s, long len, mpfr_prec_t prec);
/* The same over the rows of a dense N x N logit matrix S (tests and
 * benchmarks; heads never form S): A_ij = softmax over row i's allowed
 * keys, 0 elsewhere; M == NULL allows every key.  -1 when a row allows no
 * key (that row of A is 0), else 0. */
int attn_softmax(imat_t A, const imat_t S, const mask_t *M, mpfr_prec_t prec);
int attn_softmax_uniform(imat_t A, const imat_t S, const mask_t *M, mpfr_prec_t prec);

/* Y (N x D) = h(X): Y_i = sum_j A_ij x_j W_OV, j over query i's allowed
 * keys (every key when M == NULL).  Returns 0, or -1 when a row of the mask
 * allows no key or the mask is not N x N (the row is 0).  One head through
 * the stacked path below. */
int attn_head_apply(imat_t Y, const attn_head_t h, const imat_t X,
                    const mask_t *M, mpfr_prec_t prec);

/* ---- a layer's heads, stacked and streamed ----
 *
 * The heads of a layer are applied in chunks: a chunk's heads are stacked
 * side by side, so that Q, K and V are one product each (X times every
 * head's W_Q, W_K, W_V at once) and the output one more (the heads' A V
 * side by side times their stacked W_O), with each head's softmax over each
 * query's allowed keys in between.  A chunk is filled from a source when it
 * is needed, so peak memory is the source's own data plus one chunk, never
 * every head at once.  Chunks are sized from the shapes and the precision
 * alone, and the work inside them is split the same way on any number of
 * threads: the result is the same bits on one thread or many. */

/* A chunk: heads [h0, h0 + n_heads) of a source, all of one form.
 * Factored heads of internal dimension r: W_Q, W_K, W_V are D x (r n_heads)
 * and W_O is (r n_heads) x D, head h owning columns (rows of W_O)
 * [(h - h0) r, (h - h0 + 1) r).  Full-form heads (r = D): head h's W_QK is
 * the D x D block of W_Q at those columns and its W_OV that block of W_V;
 * W_K and W_O are empty.  tau[h - h0] is head h's temperature. */
typedef struct {
    long h0, n_heads, r, D;
    int full;
    imat_t W_Q, W_K, W_V, W_O;
    arb_ptr tau;
} attn_chunk_t;

/* Column of head h's internal coordinate c in a chunk. */
#define attn_chunk_col(ch, h, c) (((h) - (ch)->h0) * (ch)->r + (c))

/* Write heads [h0, h1) (within the chunk) into the chunk, whose weights
 * start at zero and temperatures at 1.  Called from several threads at once
 * for disjoint ranges of heads: it must write only those heads' columns
 * (rows of W_O) and temperatures, and only read ctx. */
typedef void (*attn_fill_fn)(attn_chunk_t *ch, long h0, long h1, const void *ctx,
                             mpfr_prec_t prec);

/* A source of heads sharing one form and one mask. */
typedef struct {
    long n_heads;
    long r;              /* internal dimension (factored), ignored for full form */
    int full;
    const mask_t *M;     /* NULL: every key */
    attn_fill_fn fill;
    const void *ctx;
} attn_source_t;

/* Y = X + (the sum of every head of the sources) when residual, else the
 * sum alone.  Every head reads the same X; Y may be X itself.  Returns 0,
 * or -1 when a mask row allows no key (that head's row adds 0) or a mask
 * is not N x N (that source adds 0). */
int attn_layer_sum(imat_t Y, const imat_t X, const attn_source_t *src, long n_src,
                   int residual, mpfr_prec_t prec);
/* The source of n_heads heads of one form and internal dimension (copied
 * chunk by chunk; a head narrower than the stream is padded with zero rows
 * of W_Q, W_K, W_V and columns of W_O).  heads must outlive src. */
void attn_heads_source(attn_source_t *src, const attn_head_struct *heads, long n_heads,
                       const mask_t *M);
/* Y = X + sum of the heads (residual) or the sum alone, every head reading
 * X with mask M; the heads go through attn_layer_sum (runs of one form are
 * one source each, copied chunk by chunk).  Y may be X. */
int attn_heads_apply(imat_t Y, const imat_t X, const attn_head_struct *heads, long n_heads,
                     const mask_t *M, int residual, mpfr_prec_t prec);
/* Head k of a source as a head of its own (initialised here; D the stream
 * width): for tests, norms and exports of single heads. */
void attn_source_head(attn_head_t h, const attn_source_t *src, long k, long D, mpfr_prec_t prec);
/* The working set one chunk of heads (or of mlp_apply's hidden units) is
 * sized to, in bytes (default 96 MiB; 0 restores it).  Tests set it small
 * to exercise many chunks: results differ only in rounding.  Set it before
 * a run, never during one. */
void attn_set_chunk_bytes(double bytes);
double attn_chunk_bytes(void);
/* The heads a chunk holds for this source, stream width, token count and
 * precision (the same rule attn_layer_sum uses). */
long attn_chunk_heads(const attn_source_t *src, long D, long N, mpfr_prec_t prec);
/* The threads that can hold softmax buffers at once while a chunk of n_heads
 * heads is applied to N tokens (par_threads(), capped at its tasks). */
int attn_softmax_threads(long n_heads, long N);
/* Working memory of attn_layer_sum for these sizes, an estimate in bytes
 * (one chunk of weights and products, the output and the shallow copies of
 * the products). */
double attn_layer_bytes(const attn_source_t *src, long n_src, long D, long N, mpfr_prec_t prec);

#endif
