/* Attention kernels: heads, softmax, sigma, SiLU_a and MLPs enclose the
 * plain-MPFR oracle at 100 more bits, at random precisions; softmax rows
 * enclose 1; huge logits do not overflow; an empty mask row is reported;
 * masks are sparse and a head touches only the keys they allow. */
#include <stdlib.h>
#include <string.h>
#include "oracle.h"
#include "par.h"
#include "testutil.h"

/* A random mask with at least one allowed key per row (kind 0..3). */
static void random_mask(mask_t *M, long N, gmp_randstate_t st, int kind)
{
    switch (kind) {
    case 0: mask_causal(M, N); break;
    case 1: mask_self_bias(M, N); break;
    case 2: mask_full(M, N); break;
    default:
        mask_init(M, N);
        for (long i = 0; i < N; i++) {
            long must = (long)gmp_urandomm_ui(st, (unsigned long)N);
            for (long j = 0; j < N; j++)
                if (gmp_urandomm_ui(st, 2) || j == must)
                    mask_add(M, i, j);
        }
    }
}

/* One head (factored or full form) on random dyadic weights and tokens,
 * applied with mask kind mask_kind at p bits, encloses the oracle at p + 100. */
static void check_head(unsigned long seed, gmp_randstate_t st, long N, long D, long r, int full,
                       int mask_kind, mpfr_prec_t p)
{
    attn_head_t h;
    if (full)
        attn_head_init_full(h, D);
    else
        attn_head_init(h, D, r);
    imat_randtest_dyadic(h->W_Q, st, 3);
    imat_randtest_dyadic(h->W_K, st, 3);
    imat_randtest_dyadic(h->W_V, st, 3);
    imat_randtest_dyadic(h->W_O, st, 3);
    arb_set_d(h->tau, 0.75);
    imat_t X, Y;
    imat_init(X, N, D);
    imat_init(Y, N, D);
    imat_randtest_dyadic(X, st, 3);
    mask_t M;
    random_mask(&M, N, st, mask_kind);
    ck_assert_int_eq(attn_head_apply(Y, h, X, &M, p), 0);
    fmat_t x, y;
    fmat_init(&x, N, D, p + 100);
    fmat_init(&y, N, D, p + 100);
    fmat_from_imat(&x, X);
    oracle_head_apply(&y, h, &x, &M, p + 100);
    ck_assert_msg(fmat_inside(&y, Y), "head output does not enclose the oracle (seed %lu, prec %ld)",
                  seed, (long)p);
    fmat_clear(&x);
    fmat_clear(&y);
    mask_clear(&M);
    imat_clear(X);
    imat_clear(Y);
    attn_head_clear(h);
}

START_TEST(test_head_contains_oracle)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    unsigned long seed = test_seed() + 1000 + (unsigned long)_i;
    gmp_randseed_ui(st, seed);
    mpfr_prec_t p = test_random_prec(st, 24, 1200);
    long N = 1 + (long)gmp_urandomm_ui(st, 7), D = 1 + (long)gmp_urandomm_ui(st, 5),
         r = 1 + (long)gmp_urandomm_ui(st, 3);
    int kind = (int)gmp_urandomm_ui(st, 4);
    check_head(seed, st, N, D, r, _i % 2, kind, p);
    gmp_randclear(st);
}
END_TEST

START_TEST(test_softmax_rows_enclose_one)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + 2000 + (unsigned long)_i);
    mpfr_prec_t p = test_random_prec(st, 24, 2000);
    long N = 1 + (long)gmp_urandomm_ui(st, 12);
    imat_t S, A;
    imat_init(S, N, N);
    imat_init(A, N, N);
    imat_randtest_dyadic(S, st, 2);
    /* spread the logits over +-1000 so shifts and tiny terms are exercised */
    for (long k = 0; k < N * N; k++)
        arb_mul_ui(S->e + k, S->e + k, 1000, p);
    mask_t M;
    random_mask(&M, N, st, (int)gmp_urandomm_ui(st, 4));
    ck_assert_int_eq(attn_softmax(A, S, &M, p), 0);
    /* the plain-MPFR softmax at p + 100 lies in every entry (logits are exact) */
    fmat_t s, a;
    fmat_init(&s, N, N, p + 100);
    fmat_init(&a, N, N, p + 100);
    fmat_from_imat(&s, S);
    oracle_softmax(&a, &s, &M, p + 100);
    ck_assert_msg(fmat_inside(&a, A), "softmax misses the oracle (seed %lu, prec %ld)",
                  test_seed() + 2000 + (unsigned long)_i, (long)p);
    fmat_clear(&s);
    fmat_clear(&a);
    arb_t sum;
    arb_init(sum);
    for (long i = 0; i < N; i++) {
        arb_set_ui(sum, 0);
        for (long j = 0; j < N; j++) {
            ck_assert(arb_is_finite(imat_entry(A, i, j)));
            /* a weight is >= 0: its ball reaches below 0 by at most its width */
            ck_assert(arb_is_nonnegative(imat_entry(A, i, j)) ||
                      arf_cmpabs_2exp_si(arb_midref(imat_entry(A, i, j)), -p + 8) < 0);
            arb_add(sum, sum, imat_entry(A, i, j), p);
        }
        ck_assert_msg(arb_contains_si(sum, 1), "softmax row %ld does not enclose 1", i);
    }
    arb_clear(sum);
    mask_clear(&M);
    imat_clear(S);
    imat_clear(A);
    gmp_randclear(st);
}
END_TEST

START_TEST(test_softmax_huge_logits)
{
    /* logits 0 and -2000 (Omega = 1000 scale): weights 1/(1+e^-2000) and e^-2000/(1+e^-2000) */
    imat_t S, A;
    imat_init(S, 1, 2);
    imat_init(A, 1, 2);
    arb_set_si(imat_entry(S, 0, 1), -2000);
    ck_assert_int_eq(attn_softmax(A, S, NULL, 4096), 0);
    mpfr_t w;
    mpfr_init2(w, 4196);
    mpfr_set_si(w, -2000, MPFR_RNDN);
    mpfr_exp(w, w, MPFR_RNDN);
    mpfr_t d;
    mpfr_init2(d, 4196);
    mpfr_add_ui(d, w, 1, MPFR_RNDN);
    mpfr_div(w, w, d, MPFR_RNDN);
    ck_assert(arb_contains_mpfr(imat_entry(A, 0, 1), w));
    ck_assert(arb_is_positive(imat_entry(A, 0, 1))); /* resolved, not flushed to 0 */
    mpfr_clears(w, d, (mpfr_ptr)0);
    imat_clear(S);
    imat_clear(A);
}
END_TEST

START_TEST(test_empty_mask_row_reported)
{
    imat_t S, A;
    imat_init(S, 2, 2);
    imat_init(A, 2, 2);
    mask_t M;
    mask_init(&M, 2);
    mask_add(&M, 0, 0); /* row 1 allows nothing */
    ck_assert_int_eq(attn_softmax(A, S, &M, 64), -1);
    mask_clear(&M);
    imat_clear(S);
    imat_clear(A);
}
END_TEST

/* Tokens X (n x d) and an MLP's W_in (d x l), W_out (l x d), dyadic. */
static void random_mlp(imat_t X, imat_t W_in, imat_t W_out, long n, long d, long l,
                       gmp_randstate_t st)
{
    imat_init(X, n, d);
    imat_init(W_in, d, l);
    imat_init(W_out, l, d);
    imat_randtest_dyadic(X, st, 3);
    imat_randtest_dyadic(W_in, st, 3);
    imat_randtest_dyadic(W_out, st, 3);
}

START_TEST(test_silu_mlp_contains_oracle)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    unsigned long seed = test_seed() + 3000 + (unsigned long)_i;
    gmp_randseed_ui(st, seed);
    mpfr_prec_t p = test_random_prec(st, 24, 1000);
    long n = 1 + (long)gmp_urandomm_ui(st, 4), d = 1 + (long)gmp_urandomm_ui(st, 4),
         l = 1 + (long)gmp_urandomm_ui(st, 6);
    imat_t X, Wi, Wo, Y;
    imat_init(Y, n, d);
    random_mlp(X, Wi, Wo, n, d, l, st);
    arb_t a;
    arb_init(a);
    ival_set_str(a, "1.702", p);
    attn_set_chunk_bytes(_i % 2 ? 1 : 0); /* odd loops: one hidden unit per chunk */
    mlp_apply(Y, X, Wi, Wo, ival_silu_a, a, p);
    attn_set_chunk_bytes(0);
    fmat_t x, wi, wo, h, y;
    mpfr_prec_t q = p + 100;
    fmat_init(&x, n, d, q);
    fmat_init(&wi, d, l, q);
    fmat_init(&wo, l, d, q);
    fmat_init(&h, n, l, q);
    fmat_init(&y, n, d, q);
    fmat_from_imat(&x, X);
    fmat_from_imat(&wi, Wi);
    fmat_from_imat(&wo, Wo);
    fmat_mul(&h, &x, &wi);
    mpfr_t af;
    mpfr_init2(af, q);
    mpfr_set_str(af, "1.702", 10, MPFR_RNDN);
    for (long k = 0; k < n * l; k++)
        oracle_silu(h.e[k], h.e[k], af);
    fmat_mul(&y, &h, &wo);
    ck_assert_msg(fmat_inside(&y, Y), "MLP does not enclose the oracle (seed %lu, prec %ld)", seed,
                  (long)p);
    mpfr_clear(af);
    fmat_t *all[] = {&x, &wi, &wo, &h, &y};
    for (int k = 0; k < 5; k++)
        fmat_clear(all[k]);
    arb_clear(a);
    imat_clear(X);
    imat_clear(Wi);
    imat_clear(Wo);
    imat_clear(Y);
    gmp_randclear(st);
}
END_TEST

START_TEST(test_sigmoid_relu_enclosures)
{
    arb_t x, y;
    arb_init(x);
    arb_init(y);
    arf_t lo, hi;
    arf_init(lo);
    arf_init(hi);
    arf_set_si(lo, -3);
    arf_set_si(hi, 2);
    arb_set_interval_arf(x, lo, hi, 64); /* [-3, 2] exactly: mid -1/2, radius 5/2 */
    ival_sigmoid(y, x, 64); /* increasing: encloses [sigma(-3), sigma(2)] */
    ck_assert(ival_lo_d(y) < 0.04742588 && ival_hi_d(y) > 0.8807970);
    ival_relu(y, x, NULL, 64);
    ck_assert(arb_is_nonnegative(y) && ival_lo_d(y) == 0 && ival_hi_d(y) >= 2 &&
              ival_hi_d(y) < 2.000001);
    arf_clear(lo);
    arf_clear(hi);
    arb_clear(x);
    arb_clear(y);
}
END_TEST

/* sigma and SiLU_a on inexact balls enclose the plain-MPFR values at +100
 * bits, at random precisions; a shifted oracle is caught. */
START_TEST(test_sigmoid_silu_contain_oracle)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    unsigned long seed = test_seed() + 4000 + (unsigned long)_i;
    gmp_randseed_ui(st, seed);
    mpfr_prec_t p = test_random_prec(st, 24, 3000);
    long num = (long)gmp_urandomm_ui(st, 200001) - 100000; /* z = num / (7 * 2^10) */
    arb_t x, a, y;
    arb_init(x);
    arb_init(a);
    arb_init(y);
    arb_set_si(x, num);
    arb_div_ui(x, x, 7 << 10, p);
    ival_set_str(a, "1.702", p);
    mpfr_t xf, af, yf;
    mpfr_inits2(p + 100, xf, af, yf, (mpfr_ptr)0);
    mpfr_set_si(xf, num, MPFR_RNDN);
    mpfr_div_ui(xf, xf, 7 << 10, MPFR_RNDN);
    mpfr_set_str(af, "1.702", 10, MPFR_RNDN);
    /* sigma(x) = 1/(1 + e^-x) */
    ival_sigmoid(y, x, p);
    mpfr_neg(yf, xf, MPFR_RNDN);
    mpfr_exp(yf, yf, MPFR_RNDN);
    mpfr_add_ui(yf, yf, 1, MPFR_RNDN);
    mpfr_ui_div(yf, 1, yf, MPFR_RNDN);
    ck_assert_msg(arb_contains_mpfr(y, yf), "sigmoid misses the oracle (seed %lu, prec %ld)", seed,
                  (long)p);
    ival_silu_a(y, x, a, p);
    oracle_silu(yf, xf, af);
    ck_assert_msg(arb_contains_mpfr(y, yf), "SiLU_a misses the oracle (seed %lu, prec %ld)", seed,
                  (long)p);
    mpfr_mul_2si(af, yf, -p + 16, MPFR_RNDN); /* far beyond the width */
    mpfr_add(yf, yf, af, MPFR_RNDN);
    ck_assert(mpfr_zero_p(af) || !arb_contains_mpfr(y, yf));
    mpfr_clears(xf, af, yf, (mpfr_ptr)0);
    arb_clear(x);
    arb_clear(a);
    arb_clear(y);
    gmp_randclear(st);
}
END_TEST

/* Masks are sorted key lists: building, lookup, replacing a row. */
START_TEST(test_sparse_masks)
{
    mask_t M;
    mask_causal(&M, 5);
    ck_assert_int_eq(M.nnz, 15);
    for (long i = 0; i < 5; i++)
        for (long j = 0; j < 5; j++)
            ck_assert_int_eq(mask_allows(&M, i, j), j <= i);
    mask_clear(&M);
    mask_self_bias(&M, 4);
    ck_assert_int_eq(mask_row_len(&M, 0), 1); /* key 0 once */
    ck_assert_int_eq(mask_row_len(&M, 3), 2);
    ck_assert(mask_allows(&M, 3, 0) && mask_allows(&M, 3, 3) && !mask_allows(&M, 3, 2));
    long keys[3] = {0, 1, 2};
    mask_set_row(&M, 1, keys, 3);
    ck_assert(mask_allows(&M, 1, 2) && mask_row_len(&M, 1) == 3);
    ck_assert(mask_allows(&M, 2, 2) && !mask_allows(&M, 2, 1)); /* other rows untouched */
    mask_t C;
    mask_init(&C, 1);
    mask_copy(&C, &M);
    ck_assert(C.n == 4 && mask_allows(&C, 1, 1) && !mask_allows(&C, 0, 1));
    mask_clear(&C);
    mask_clear(&M);
    /* order is enforced: keys ascending, rows one at a time */
    mask_init(&M, 3);
    ck_assert_int_eq(mask_add(&M, 0, 2), 0);
    ck_assert_int_eq(mask_add(&M, 0, 1), -1);
    ck_assert_int_eq(mask_add(&M, 1, 0), 0);
    ck_assert_int_eq(mask_add(&M, 0, 2), 0); /* a repeat is ignored */
    ck_assert_int_eq(mask_add(&M, 0, 3), -1);
    mask_clear(&M);
}
END_TEST

/* A head on a long stream with mask B touches 2 keys per query: its output
 * encloses the oracle's dense masked computation. */
START_TEST(test_sparse_head_long_stream)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    unsigned long seed = test_seed() + 5000;
    gmp_randseed_ui(st, seed);
    check_head(seed, st, 300, 4, 1, 0, 1, 80); /* mask kind 1: B */
    gmp_randclear(st);
}
END_TEST

/* Random heads (factored of internal dimension r, or full form) on width D. */
static attn_head_struct *random_heads(long n, long D, long r, int full, gmp_randstate_t st)
{
    attn_head_struct *h = malloc(sizeof *h * (size_t)(n > 0 ? n : 1));
    for (long k = 0; k < n; k++) {
        if (full)
            attn_head_init_full(h + k, D);
        else
            attn_head_init(h + k, D, r);
        imat_randtest_dyadic(h[k].W_Q, st, 3);
        imat_randtest_dyadic(h[k].W_K, st, 3);
        imat_randtest_dyadic(h[k].W_V, st, 3);
        imat_randtest_dyadic(h[k].W_O, st, 3);
        if (gmp_urandomm_ui(st, 2))
            arb_set_d(h[k].tau, 0.75);
    }
    return h;
}

static void free_heads(attn_head_struct *h, long n)
{
    for (long k = 0; k < n; k++)
        attn_head_clear(h + k);
    free(h);
}

/* A layer of two sources (factored heads with one mask, full-form heads
 * with another), in one chunk or one head per chunk, with or without the
 * residual: it encloses the oracle's per-head sum at p + 100 bits. */
START_TEST(test_layer_contains_oracle)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    unsigned long seed = test_seed() + 6000 + (unsigned long)_i;
    gmp_randseed_ui(st, seed);
    mpfr_prec_t p = test_random_prec(st, 24, 800);
    long N = 1 + (long)gmp_urandomm_ui(st, 9), D = 1 + (long)gmp_urandomm_ui(st, 5);
    long r = 1 + (long)gmp_urandomm_ui(st, 3), n1 = 1 + (long)gmp_urandomm_ui(st, 5),
         n2 = (long)gmp_urandomm_ui(st, 3);
    int residual = (int)gmp_urandomm_ui(st, 2);
    attn_set_chunk_bytes(_i % 2 ? 1 : 0); /* odd loops: one head per chunk */
    attn_head_struct *h1 = random_heads(n1, D, r, 0, st), *h2 = random_heads(n2, D, r, 1, st);
    mask_t M1, M2;
    random_mask(&M1, N, st, (int)gmp_urandomm_ui(st, 4));
    random_mask(&M2, N, st, (int)gmp_urandomm_ui(st, 4));
    imat_t X, Y;
    imat_init(X, N, D);
    imat_init(Y, 0, 0);
    imat_randtest_dyadic(X, st, 3);
    attn_source_t src[2];
    attn_heads_source(src, h1, n1, &M1);
    attn_heads_source(src + 1, h2, n2, &M2);
    ck_assert_int_eq(attn_layer_sum(Y, X, src, 2, residual, p), 0);
    ck_assert(Y->rows == N && Y->cols == D);
    fmat_t x, y, sum;
    fmat_init(&x, N, D, p + 100);
    fmat_init(&y, N, D, p + 100);
    fmat_init(&sum, N, D, p + 100);
    fmat_from_imat(&x, X);
    if (residual)
        fmat_from_imat(&sum, X);
    for (long k = 0; k < n1 + n2; k++) {
        oracle_head_apply(&y, k < n1 ? h1 + k : h2 + k - n1, &x, k < n1 ? &M1 : &M2, p + 100);
        for (long q = 0; q < N * D; q++)
            mpfr_add(sum.e[q], sum.e[q], y.e[q], MPFR_RNDN);
    }
    ck_assert_msg(fmat_inside(&sum, Y), "layer does not enclose the oracle (seed %lu, prec %ld)",
                  seed, (long)p);
    mpfr_add_ui(sum.e[0], sum.e[0], 1, MPFR_RNDN); /* a check that can fail */
    ck_assert(!fmat_inside(&sum, Y));
    attn_set_chunk_bytes(0);
    fmat_clear(&x);
    fmat_clear(&y);
    fmat_clear(&sum);
    mask_clear(&M1);
    mask_clear(&M2);
    imat_clear(X);
    imat_clear(Y);
    free_heads(h1, n1);
    free_heads(h2, n2);
    gmp_randclear(st);
}
END_TEST

/* A layer large enough to be split into many tasks (several chunks, causal
 * and B masks, factored and full-form heads, inexact weights) and an MLP
 * give the same bits on 1, 2 and 3 threads. */
START_TEST(test_layer_threads_same_bits)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    unsigned long seed = test_seed() + 7000 + (unsigned long)_i;
    gmp_randseed_ui(st, seed);
    static const mpfr_prec_t precs[] = {53, 200, 1100};
    mpfr_prec_t p = precs[_i % 3];
    long N = 33, D = 20, n1 = 48, n2 = 6, l = 200;
    attn_head_struct *h1 = random_heads(n1, D, 2, 0, st), *h2 = random_heads(n2, D, D, 1, st);
    for (long k = 0; k < n1; k++) /* inexact weights: the dot-product path */
        for (long q = 0; q < D * 2; q++)
            arb_div_ui(h1[k].W_Q->e + q, h1[k].W_Q->e + q, 3, p);
    mask_t C, B;
    mask_causal(&C, N);
    mask_self_bias(&B, N);
    imat_t X, Wi, Wo, Y[3], Z[3];
    random_mlp(X, Wi, Wo, N, D, l, st);
    arb_t a;
    arb_init(a);
    ival_set_str(a, "1.702", p);
    attn_source_t src[2];
    attn_heads_source(src, h1, n1, &C);
    attn_heads_source(src + 1, h2, n2, &B);
    attn_set_chunk_bytes(200000); /* several chunks of each source */
    for (int t = 0; t < 3; t++) {
        par_set_threads(t + 1);
        imat_init(Y[t], 0, 0);
        imat_init(Z[t], N, D);
        ck_assert_int_eq(attn_layer_sum(Y[t], X, src, 2, 1, p), 0);
        mlp_apply(Z[t], Y[t], Wi, Wo, ival_silu_a, a, p);
    }
    for (int t = 1; t < 3; t++)
        ck_assert_msg(imat_equal(Y[0], Y[t]) && imat_equal(Z[0], Z[t]),
                      "%d threads give other bits than 1 (seed %lu, prec %ld)", t + 1, seed,
                      (long)p);
    ck_assert(!imat_is_exact(Y[0]) && !imat_is_exact(Z[0]));
    par_shutdown();
    par_set_threads(0);
    attn_set_chunk_bytes(0);
    for (int t = 0; t < 3; t++) {
        imat_clear(Y[t]);
        imat_clear(Z[t]);
    }
    arb_clear(a);
    mask_clear(&C);
    mask_clear(&B);
    imat_clear(X);
    imat_clear(Wi);
    imat_clear(Wo);
    free_heads(h1, n1);
    free_heads(h2, n2);
    gmp_randclear(st);
}
END_TEST

/* Through the command line: a row large enough to be split into many tasks
 * writes the same report bytes on 1 and 3 threads. */
START_TEST(test_threads_same_reports)
{
    char dir[256], sub[2][300];
    static char a[1 << 16], b[1 << 16];
    test_tmpdir_make(dir, sizeof dir, "attncheck-threads");
    for (int t = 0; t < 2; t++) {
        snprintf(sub[t], sizeof sub[t], "%s/t%d", dir, t);
        const char *argv[] = {"sweep", "mlp-layer", "--set", "shape=32x300x24", "--set",
                              "prec=200", "--set", "a=1.702", "--set", "seed=1", "--threads",
                              t ? "3" : "1", "--format", "json,csv,md", "--out", sub[t], NULL};
        test_cli_t c = {.argv = argv, .dir = dir};
        ck_assert_int_eq(test_cli_run(&c), 0);
    }
    static const char *const files[] = {"mlp-layer.json", "mlp-layer.csv", "mlp-layer.md"};
    for (int k = 0; k < 3; k++) {
        size_t la = test_read_file(a, sizeof a, sub[0], files[k]);
        size_t lb = test_read_file(b, sizeof b, sub[1], files[k]);
        ck_assert_msg(la > 0 && la < sizeof a - 1 && la == lb && memcmp(a, b, la) == 0,
                      "%s differs between 1 and 3 threads", files[k]);
    }
    test_tmpdir_remove(dir);
}
END_TEST

/* A head of a source, made a head of its own, is the head that was put in. */
START_TEST(test_source_head)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + 8000);
    attn_head_struct *h = random_heads(3, 5, 2, 0, st);
    attn_source_t src;
    attn_heads_source(&src, h, 3, NULL);
    attn_head_t g;
    attn_source_head(g, &src, 2, 6, 64); /* one wider: padded with zeros */
    for (long i = 0; i < 6; i++)
        for (long c = 0; c < 2; c++) {
            ck_assert(i == 5 ? arb_is_zero(imat_entry(g->W_Q, i, c))
                             : arb_equal(imat_entry(g->W_Q, i, c), imat_entry(h[2].W_Q, i, c)));
            ck_assert(i == 5 ? arb_is_zero(imat_entry(g->W_O, c, i))
                             : arb_equal(imat_entry(g->W_O, c, i), imat_entry(h[2].W_O, c, i)));
        }
    ck_assert(arb_equal(g->tau, h[2].tau));
    attn_head_clear(g);
    free_heads(h, 3);
    gmp_randclear(st);
}
END_TEST

Suite *suite_attn(void)
{
    Suite *s = suite_create("attn");
    TCase *tc = tcase_create("kernels");
    tcase_add_loop_test(tc, test_head_contains_oracle, 0, test_quick() ? 6 : 60);
    tcase_add_loop_test(tc, test_softmax_rows_enclose_one, 0, test_quick() ? 6 : 60);
    tcase_add_test(tc, test_softmax_huge_logits);
    tcase_add_test(tc, test_empty_mask_row_reported);
    tcase_add_loop_test(tc, test_silu_mlp_contains_oracle, 0, test_quick() ? 4 : 30);
    tcase_add_test(tc, test_sigmoid_relu_enclosures);
    tcase_add_loop_test(tc, test_sigmoid_silu_contain_oracle, 0, test_quick() ? 6 : 60);
    tcase_add_test(tc, test_sparse_masks);
    tcase_add_test(tc, test_sparse_head_long_stream);
    tcase_add_loop_test(tc, test_layer_contains_oracle, 0, test_quick() ? 6 : 60);
    tcase_add_loop_test(tc, test_layer_threads_same_bits, 0, test_quick() ? 1 : 3);
    tcase_add_test(tc, test_source_head);
    tcase_add_test(tc, test_threads_same_reports);
    suite_add_tcase(s, tc);
    return s;
}
