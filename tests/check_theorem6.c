/* Theorem 6 cross-tested: the attention-only claim's 2L-layer stack (the
 * paper's layout [x | bias coordinate], theorems/attention_only.c) against
 * the model conversion (src/net/convert.c, layout [x | c | f]) of the same
 * weights, written to a model file with normalization none, zero biases,
 * attn_scale 1 and act_fn silu (a = 1).  Both are exact constructions of
 * the same transformer: on the same tokens every real row's features must
 * agree within the certified enclosures (the balls meet), and both must
 * meet the original transformer's output; a mutated conversion on either
 * side must come out apart somewhere (the comparison can fail). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "attention_only.h"
#include "convert.h"
#include "safetensors.h"
#include "tblock.h"
#include "tmodel.h"

#define T6PREC 256

static char t6dir[256];
static void t6_setup(void) { test_tmpdir_make(t6dir, sizeof t6dir, "attncheck-theorem6"); }
static void t6_teardown(void) { test_tmpdir_remove(t6dir); }

/* A ball's midpoint as a double; the weights are dyadic, so exact (checked). */
static double exact_d(const arb_t x)
{
    ck_assert(arb_is_exact(x));
    double v = arf_get_d(arb_midref(x), ARF_RND_NEAR);
    arf_t back;
    arf_init(back);
    arf_set_d(back, v);
    ck_assert(arf_equal(back, arb_midref(x)));
    arf_clear(back);
    return v;
}

/* m in TransformerLens layout (F64) at path: no LN, zero biases, attn_scale 1. */
static void write_tf_model(const char *path, const tf_model_t *m)
{
    enum { PER = 12 };
    long n = m->L * PER;
    safetensors_entry_t *t = calloc((size_t)n, sizeof *t);
    char (*names)[48] = calloc((size_t)n, sizeof *names);
    uint64_t (*shapes)[3] = calloc((size_t)n, sizeof *shapes);
    double **data = calloc((size_t)n, sizeof *data);
    ck_assert(t && names && shapes && data);
    long d = m->d, l = m->l, H = m->H, r = m->r, k = 0;
    for (long b = 0; b < m->L; b++) {
        const block_struct *B = m->blocks + b;
        static const char *const sfx[PER] = {"attn.W_Q", "attn.W_K", "attn.W_V", "attn.W_O",
                                             "attn.b_Q", "attn.b_K", "attn.b_V", "attn.b_O",
                                             "mlp.W_in", "mlp.b_in", "mlp.W_out", "mlp.b_out"};
        for (int s = 0; s < PER; s++, k++) {
            snprintf(names[k], sizeof names[k], "blocks.%ld.%s", b, sfx[s]);
            size_t ndim, numel;
            uint64_t *sh = shapes[k];
            if (s < 3) { /* [H, d, r] */
                ndim = 3, sh[0] = (uint64_t)H, sh[1] = (uint64_t)d, sh[2] = (uint64_t)r;
            } else if (s == 3) { /* [H, r, d] */
                ndim = 3, sh[0] = (uint64_t)H, sh[1] = (uint64_t)r, sh[2] = (uint64_t)d;
            } else if (s < 7) { /* [H, r] */
                ndim = 2, sh[0] = (uint64_t)H, sh[1] = (uint64_t)r;
            } else if (s == 7) {
                ndim = 1, sh[0] = (uint64_t)d;
            } else if (s == 8) {
                ndim = 2, sh[0] = (uint64_t)d, sh[1] = (uint64_t)l;
            } else if (s == 9) {
                ndim = 1, sh[0] = (uint64_t)l;
            } else if (s == 10) {
                ndim = 2, sh[0] = (uint64_t)l, sh[1] = (uint64_t)d;
            } else {
                ndim = 1, sh[0] = (uint64_t)d;
            }
            numel = 1;
            for (size_t i = 0; i < ndim; i++)
                numel *= (size_t)sh[i];
            double *v = data[k] = calloc(numel, sizeof *v); /* biases stay 0 */
            ck_assert_ptr_nonnull(v);
            if (s < 4)
                for (long h = 0; h < H; h++) {
                    const attn_head_struct *hd = B->heads + h;
                    const imat_struct *W = s == 0 ? hd->W_Q : s == 1 ? hd->W_K : s == 2 ? hd->W_V : hd->W_O;
                    for (long i = 0; i < W->rows; i++)
                        for (long j = 0; j < W->cols; j++)
                            v[(h * W->rows + i) * W->cols + j] = exact_d(imat_entry(W, i, j));
                }
            else if (s == 8 || s == 10)
                for (long i = 0; i < (s == 8 ? d : l); i++)
                    for (long j = 0; j < (s == 8 ? l : d); j++)
                        v[i * (s == 8 ? l : d) + j] =
                            exact_d(imat_entry(s == 8 ? B->W_in : B->W_out, i, j));
            t[k] = (safetensors_entry_t){names[k], ndim, shapes[k], v};
        }
    }
    char config[400];
    snprintf(config, sizeof config,
             "{\"d_model\": %ld, \"n_layers\": %ld, \"n_heads\": %ld, \"d_head\": %ld, "
             "\"d_mlp\": %ld, \"act_fn\": \"silu\", \"normalization_type\": \"none\", "
             "\"attn_scale\": 1, \"attention_dir\": \"causal\"}",
             d, m->L, H, r, l);
    const char *mk[] = {"config"}, *mv[] = {config};
    char err[300];
    ck_assert_msg(safetensors_write_f64(path, t, (size_t)n, mk, mv, 1, err, sizeof err) == 0,
                  "%s", err);
    for (long j = 0; j < n; j++)
        free(data[j]);
    free(data);
    free(shapes);
    free(names);
    free(t);
}

/* Xs <- the model file's conversion (convert.c, every block) on X. */
static void converted_run(imat_t Xs, const char *path, const imat_t X, int mutation)
{
    char err[600];
    tmodel_t *m;
    convert_act_t ca;
    ck_assert_msg(tmodel_open(&m, path, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(convert_act_init(&ca, tmodel_config(m), NULL, err, sizeof err, 64) == 0, "%s",
                  err);
    ck_assert(arb_is_one(ca.a));
    convert_stream(Xs, X);
    for (long b = 0; b < tmodel_config(m)->n_layers; b++) {
        tblock_t B;
        aonet_layer_t A, M;
        ck_assert_msg(tblock_read(&B, m, b, err, sizeof err) == 0, "%s", err);
        ck_assert(B.causal);
        convert_block(&A, &M, &B, &ca, mutation);
        ck_assert_int_eq(aonet_layer_apply(Xs, &A, T6PREC), 0);
        ck_assert_int_eq(aonet_layer_apply(Xs, &M, T6PREC), 0);
        aonet_layer_clear(&A);
        aonet_layer_clear(&M);
        tblock_clear(&B);
    }
    convert_act_clear(&ca);
    tmodel_close(m);
}

/* Whether rows 1..n, columns 0..d-1 of P and Q meet entry by entry; the
 * balls are tight (radius < 2^-128 at T6PREC), so meeting is agreement. */
static int real_rows_meet(const imat_t P, const imat_t Q, long n, long d)
{
    for (long i = 1; i <= n; i++)
        for (long j = 0; j < d; j++) {
            ck_assert(mag_cmp_2exp_si(arb_radref(imat_entry(P, i, j)), -128) < 0 &&
                      mag_cmp_2exp_si(arb_radref(imat_entry(Q, i, j)), -128) < 0);
            if (!arb_overlaps(imat_entry(P, i, j), imat_entry(Q, i, j)))
                return 0;
        }
    return 1;
}

static const long shapes6[][6] = { /* d, l, n, H, d_head, blocks */
    {2, 3, 3, 2, 2, 2}, {4, 6, 4, 2, 2, 2}, {3, 5, 5, 1, 3, 1}, {6, 8, 5, 3, 2, 3},
};

START_TEST(test_paper_stack_vs_model_conversion)
{
    const long *s = shapes6[_i];
    long d = s[0], l = s[1], n = s[2], H = s[3], rh = s[4], L = s[5];
    for (unsigned long seed = 1; seed <= 3; seed++) {
        imat_t X, ref, con, Xs, bad;
        tf_model_t m;
        tf_instance(X, &m, d, l, n, H, rh, L, test_seed() + seed);
        arb_t a;
        arb_init(a);
        arb_one(a);
        char path[320];
        snprintf(path, sizeof path, "%s/m.safetensors", t6dir);
        write_tf_model(path, &m);

        /* the paper's stack (attention-only) on [[0, 1], [X, 0]] */
        attn_only_t A;
        attn_only_from_model(&A, &m, a, n, TF_MUT_NONE, T6PREC);
        imat_init(con, 0, 0);
        thm_bias_stream(con, X);
        attn_only_apply(con, &A, T6PREC);
        attn_only_clear(&A);
        /* the model conversion on [[0, 1, 1], [X, 1, 0]] */
        imat_init(Xs, 0, 0);
        converted_run(Xs, path, X, CONVERT_MUT_NONE);
        ck_assert_msg(real_rows_meet(con, Xs, n, d),
                      "the two conversions disagree: shape %ld %ld %ld %ld %ld %ld seed %lu", d,
                      l, n, H, rh, L, test_seed() + seed);
        /* both meet the original transformer */
        imat_init(ref, 0, 0);
        tf_reference(ref, X, &m, ival_silu_a, a, T6PREC);
        ck_assert(real_rows_meet(con, ref, n, d));
        ck_assert(real_rows_meet(Xs, ref, n, d));
        /* and the comparison can fail: either side with real tokens seeing
         * the bias token comes out apart from the other */
        attn_only_from_model(&A, &m, a, n, TF_MUT_BIAS_VISIBLE, T6PREC);
        imat_init(bad, 0, 0);
        thm_bias_stream(bad, X);
        attn_only_apply(bad, &A, T6PREC);
        attn_only_clear(&A);
        ck_assert(!real_rows_meet(bad, Xs, n, d));
        converted_run(bad, path, X, CONVERT_MUT_BIAS_VISIBLE);
        ck_assert(!real_rows_meet(con, bad, n, d));
        imat_clear(bad);
        imat_clear(X);
        imat_clear(ref);
        imat_clear(con);
        imat_clear(Xs);
        tf_model_clear(&m);
        arb_clear(a);
    }
}
END_TEST

Suite *suite_theorem6(void)
{
    Suite *s = suite_create("theorem6");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, t6_setup, t6_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_paper_stack_vs_model_conversion, 0,
                        (int)(sizeof shapes6 / sizeof shapes6[0]));
    suite_add_tcase(s, tc);
    return s;
}
