/* Attention kernels: heads and MLPs enclose the plain-MPFR oracle at 100
 * more bits, at random precisions; softmax rows enclose 1; huge logits do
 * not overflow; an empty mask row is reported. */
#include <stdlib.h>
#include "oracle.h"
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
            for (long j = 0; j < N; j++)
                mask_at(M, i, j) = gmp_urandomm_ui(st, 2) ? 1 : 0;
            mask_at(M, i, gmp_urandomm_ui(st, (unsigned long)N)) = 1;
        }
    }
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
    int full = _i % 2;
    attn_head_t h;
    if (full)
        attn_head_init_full(h, D, p);
    else
        attn_head_init(h, D, r, p);
    imat_randtest_dyadic(h->W_Q, st, 3);
    imat_randtest_dyadic(h->W_K, st, 3);
    imat_randtest_dyadic(h->W_V, st, 3);
    imat_randtest_dyadic(h->W_O, st, 3);
    mpfi_set_d(h->tau, 0.75);
    imat_t X, Y;
    imat_init(X, N, D, p);
    imat_init(Y, N, D, p);
    imat_randtest_dyadic(X, st, 3);
    mask_t M;
    random_mask(&M, N, st, (int)gmp_urandomm_ui(st, 4));
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
    imat_init(S, N, N, p);
    imat_init(A, N, N, p);
    imat_randtest_dyadic(S, st, 2);
    /* spread the logits over +-1000 so shifts and tiny terms are exercised */
    for (long k = 0; k < N * N; k++)
        mpfi_mul_ui(S->e + k, S->e + k, 1000);
    mask_t M;
    random_mask(&M, N, st, (int)gmp_urandomm_ui(st, 4));
    ck_assert_int_eq(attn_softmax(A, S, &M, p), 0);
    mpfi_t sum;
    mpfi_init2(sum, p);
    for (long i = 0; i < N; i++) {
        mpfi_set_ui(sum, 0);
        for (long j = 0; j < N; j++) {
            ck_assert(!mpfi_nan_p(imat_entry(A, i, j)));
            ck_assert(mpfr_sgn(&imat_entry(A, i, j)->left) >= 0);
            mpfi_add(sum, sum, imat_entry(A, i, j));
        }
        ck_assert_msg(mpfi_is_inside_ui(1, sum), "softmax row %ld does not enclose 1", i);
    }
    mpfi_clear(sum);
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
    imat_init(S, 1, 2, 4096);
    imat_init(A, 1, 2, 4096);
    mpfi_set_si(imat_entry(S, 0, 1), -2000);
    ck_assert_int_eq(attn_softmax(A, S, NULL, 4096), 0);
    mpfr_t w;
    mpfr_init2(w, 4196);
    mpfr_set_si(w, -2000, MPFR_RNDN);
    mpfr_exp(w, w, MPFR_RNDN);
    mpfr_t d;
    mpfr_init2(d, 4196);
    mpfr_add_ui(d, w, 1, MPFR_RNDN);
    mpfr_div(w, w, d, MPFR_RNDN);
    ck_assert(mpfi_is_inside_fr(w, imat_entry(A, 0, 1)));
    ck_assert(mpfr_sgn(&imat_entry(A, 0, 1)->left) > 0); /* resolved, not flushed to 0 */
    mpfr_clears(w, d, (mpfr_ptr)0);
    imat_clear(S);
    imat_clear(A);
}
END_TEST

START_TEST(test_empty_mask_row_reported)
{
    imat_t S, A;
    imat_init(S, 2, 2, 64);
    imat_init(A, 2, 2, 64);
    mask_t M;
    mask_init(&M, 2);
    mask_at(&M, 0, 0) = 1; /* row 1 allows nothing */
    ck_assert_int_eq(attn_softmax(A, S, &M, 64), -1);
    mask_clear(&M);
    imat_clear(S);
    imat_clear(A);
}
END_TEST

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
    imat_init(X, n, d, p);
    imat_init(Wi, d, l, p);
    imat_init(Wo, l, d, p);
    imat_init(Y, n, d, p);
    imat_randtest_dyadic(X, st, 3);
    imat_randtest_dyadic(Wi, st, 3);
    imat_randtest_dyadic(Wo, st, 3);
    mpfi_t a;
    mpfi_init2(a, p);
    mpfi_set_str(a, "1.702", 10);
    mlp_apply(Y, X, Wi, Wo, ival_silu_a, a, p);
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
    mpfi_clear(a);
    imat_clear(X);
    imat_clear(Wi);
    imat_clear(Wo);
    imat_clear(Y);
    gmp_randclear(st);
}
END_TEST

START_TEST(test_sigmoid_relu_enclosures)
{
    mpfi_t x, y;
    mpfi_init2(x, 64);
    mpfi_init2(y, 64);
    mpfi_interv_si(x, -3, 2);
    ival_sigmoid(y, x); /* increasing: [sigma(-3), sigma(2)] */
    ck_assert(mpfr_cmp_d(&y->left, 0.04742588) < 0 && mpfr_cmp_d(&y->left, 0.04742587) > 0);
    ck_assert(mpfr_cmp_d(&y->right, 0.8807971) < 0 && mpfr_cmp_d(&y->right, 0.8807970) > 0);
    ival_relu(y, x, NULL);
    ck_assert(mpfr_zero_p(&y->left) && mpfr_cmp_ui(&y->right, 2) == 0);
    mpfi_clear(x);
    mpfi_clear(y);
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
    suite_add_tcase(s, tc);
    return s;
}
