/* The adaptive-precision softmax (attn_softmax) against the uniform one and
 * against a much more precise evaluation: it must enclose the exact
 * softmax, and be at most a little wider than the uniform enclosure. */
#include <string.h>
#include "testutil.h"
#include "attn.h"

START_TEST(test_softmax_adaptive)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + 5u * (unsigned long)_i);
    int reps = test_quick() ? 3 : 15;
    for (int rep = 0; rep < reps; rep++) {
        mpfr_prec_t prec = test_random_prec(st, 40, 1200);
        long N = 2 + (long)gmp_urandomm_ui(st, 12);
        double omega = (double)gmp_urandomm_ui(st, 4) * 150.0; /* 0, 150, 300, 450 */
        imat_t S, Shi, A, U, R;
        imat_init(S, N, N);
        imat_init(Shi, N, N);
        imat_init(A, N, N);
        imat_init(U, N, N);
        imat_init(R, N, N);
        imat_randtest_dyadic(S, st, 6);
        arb_t tau;
        arb_init(tau);
        ival_set_str(tau, "0.3", prec); /* a non-dyadic factor: inputs of nonzero width */
        imat_scale(S, S, tau, prec);
        mask_t M;
        mask_causal(&M, N);
        for (long i = 0; i < N; i++)
            for (long j = 0; j < N; j++) {
                if (!mask_allows(&M, i, j))
                    arb_sub_si(imat_entry(S, i, j), imat_entry(S, i, j), (slong)omega, prec);
                /* a point inside each input enclosure: its midpoint */
                arb_set_arf(imat_entry(Shi, i, j), arb_midref(imat_entry(S, i, j)));
            }
        const mask_t *use = (rep & 1) ? &M : NULL;
        ck_assert_int_eq(attn_softmax(A, S, use, prec), 0);
        ck_assert_int_eq(attn_softmax_uniform(U, S, use, prec), 0);
        ck_assert_int_eq(attn_softmax_uniform(R, Shi, use, 4 * prec), 0);
        mpfr_t wa, wu, lim;
        mpfr_inits2(64, wa, wu, lim, (mpfr_ptr)0);
        for (long e = 0; e < N * N; e++) {
            /* the exact softmax at the midpoints lies in both enclosures */
            ck_assert_msg(arb_contains(A->e + e, R->e + e),
                          "adaptive enclosure misses the value: prec %ld N %ld omega %g seed %lu",
                          (long)prec, N, omega, test_seed());
            ck_assert(arb_contains(U->e + e, R->e + e));
            /* width: at most 4 x the uniform width + 2^-(prec+8) */
            ival_get_diam(wa, A->e + e);
            ival_get_diam(wu, U->e + e);
            mpfr_mul_ui(lim, wu, 4, MPFR_RNDU);
            mpfr_set_ui_2exp(wu, 1, -(long)prec - 8, MPFR_RNDU);
            mpfr_add(lim, lim, wu, MPFR_RNDU);
            ck_assert_msg(mpfr_lessequal_p(wa, lim), "adaptive enclosure too wide: prec %ld N %ld "
                          "omega %g seed %lu", (long)prec, N, omega, test_seed());
        }
        mpfr_clears(wa, wu, lim, (mpfr_ptr)0);
        mask_clear(&M);
        arb_clear(tau);
        imat_clear(S);
        imat_clear(Shi);
        imat_clear(A);
        imat_clear(U);
        imat_clear(R);
    }
    gmp_randclear(st);
}
END_TEST

Suite *suite_softmax(void)
{
    Suite *s = suite_create("softmax");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_softmax_adaptive, 0, 4);
    suite_add_tcase(s, tc);
    return s;
}
