/* The exchange rate (reduce.h, exchange.h): a model with planted duplicate,
 * opposite, dead and silent neurons is reduced to the floor its plant
 * gives, exactly (the reduce rows hold by the exact rule); merged heads
 * stay within their certified bound over every LN output; the broken twin
 * (merges of non-duplicates claimed exact) comes out violated; bad input
 * is one line and its exit code. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "exchange.h"
#include "exitcodes.h"
#include "modelio_testutil.h"
#include "runner.h"
#include "safetensors.h"

enum { XD = 6, XH = 2, XE = 3, XM = 9 };

/* Dyadic values k/2^6, |k| <= 64, scaled by 2^-scale (exact everywhere). */
static void fill(double *v, size_t n, gmp_randstate_t st, int scale, double shift)
{
    for (size_t i = 0; i < n; i++)
        v[i] = shift + ldexp((double)((long)gmp_urandomm_ui(st, 129) - 64), -6 - scale);
}

/* One LN block, act_fn act.  Planted: neuron 1 = neuron 0 (a duplicate),
 * neuron 3 = -neuron 2 (an opposite), neuron 4 far below 0 on every LN
 * output (dead), neuron 5's W_out row 0 (silent); 6, 7, 8 random.  So
 * the classes with a head are 0, 2, 4 (unless dead, relu), 6, 7, 8 and
 * one linear head; without the opposite (opposite 0), 0, 2, 3, 4, 6, 7, 8
 * and no linear head. */
static void write_planted(const char *path, const char *act, unsigned long seed, int opposite)
{
    static const struct {
        const char *name;
        int ndim, dims[3], scale;
        double shift;
    } lay[] = {
        {"blocks.0.ln1.w", 1, {XD}, 3, 1}, {"blocks.0.ln1.b", 1, {XD}, 2, 0},
        {"blocks.0.ln2.w", 1, {XD}, 3, 1}, {"blocks.0.ln2.b", 1, {XD}, 2, 0},
        {"blocks.0.attn.W_Q", 3, {XH, XD, XE}, 1, 0}, {"blocks.0.attn.W_K", 3, {XH, XD, XE}, 1, 0},
        {"blocks.0.attn.W_V", 3, {XH, XD, XE}, 1, 0}, {"blocks.0.attn.b_Q", 2, {XH, XE}, 2, 0},
        {"blocks.0.attn.b_K", 2, {XH, XE}, 2, 0},     {"blocks.0.attn.b_V", 2, {XH, XE}, 2, 0},
        {"blocks.0.attn.W_O", 3, {XH, XE, XD}, 1, 0}, {"blocks.0.attn.b_O", 1, {XD}, 2, 0},
        {"blocks.0.mlp.W_in", 2, {XD, XM}, 0, 0},     {"blocks.0.mlp.b_in", 1, {XM}, 1, 0},
        {"blocks.0.mlp.W_out", 2, {XM, XD}, 1, 0},    {"blocks.0.mlp.b_out", 1, {XD}, 2, 0},
        {"ln_final.w", 1, {XD}, 3, 1},                {"ln_final.b", 1, {XD}, 2, 0},
    };
    enum { N = sizeof lay / sizeof lay[0] };
    safetensors_entry_t t[N];
    uint64_t shapes[N][3];
    double *data[N];
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, seed);
    for (int k = 0; k < N; k++) {
        size_t numel = 1;
        for (int i = 0; i < lay[k].ndim; i++)
            numel *= (size_t)(shapes[k][i] = (uint64_t)lay[k].dims[i]);
        data[k] = malloc(numel * sizeof(double));
        ck_assert_ptr_nonnull(data[k]);
        fill(data[k], numel, st, lay[k].scale, lay[k].shift);
        t[k] = (safetensors_entry_t){lay[k].name, (size_t)lay[k].ndim, shapes[k], data[k]};
    }
    gmp_randclear(st);
    double *W_in = data[12], *b_in = data[13], *W_out = data[14];
    for (int i = 0; i < XD; i++) {
        W_in[i * XM + 1] = W_in[i * XM + 0];
        if (opposite)
            W_in[i * XM + 3] = -W_in[i * XM + 2];
        W_in[i * XM + 4] = ldexp(W_in[i * XM + 4], -3); /* |z - b| <= sqrt(6) 1.2 / 8 */
        W_out[5 * XD + i] = 0;
    }
    b_in[1] = b_in[0];
    if (opposite)
        b_in[3] = -b_in[2];
    W_in[5] = -1; /* the silent neuron's key has sign -1: still no linear term */
    b_in[4] = -8;
    char config[400];
    snprintf(config, sizeof config,
             "{\"d_model\": %d, \"n_layers\": 1, \"n_heads\": %d, \"d_head\": %d, \"d_mlp\": %d, "
             "\"act_fn\": \"%s\", \"normalization_type\": \"LN\", \"eps\": 0.0000076293945312}",
             XD, XH, XE, XM, act);
    const char *mk[] = {"config"}, *mv[] = {config};
    char err[300];
    ck_assert_msg(safetensors_write_f64(path, t, N, mk, mv, 1, err, sizeof err) == 0, "%s", err);
    for (int k = 0; k < N; k++)
        free(data[k]);
}

static const char *col_text(const row_t *r, const char *name)
{
    const column_t *c = row_find_column(r, name);
    ck_assert_msg(c != NULL, "no column %s", name);
    return c->str;
}

static void run(claim_report_t *rep, const exchange_t *x, int mutation)
{
    run_options_t o;
    run_options_default(&o);
    o.mutation = mutation;
    char err[512];
    const claim_t *c = exchange_claim(x);
    ck_assert_msg(runner_run_claim(rep, c, &o, err, sizeof err) == 0, "%s", err);
    ck_assert_int_gt(rep->n_rows, 2);
}

static const char *const acts[] = {"silu", "relu", "gelu", "silu"};

/* The plant is found and reduced exactly; every merge is within its bound;
 * the broken twin is violated in every row. */
START_TEST(test_planted)
{
    char path[300];
    mio_tmp_setup();
    mio_path(path, sizeof path, "planted.safetensors");
    int opposite = _i < 3; /* the last: no opposite pair planted, so no linear head */
    write_planted(path, acts[_i], test_seed() + (unsigned long)_i, opposite);
    exchange_spec_t s = {.file = path, .tokens = 5, .seed = test_seed(), .prec = 128};
    exchange_t *x = NULL;
    char err[700];
    ck_assert_msg(exchange_open(&x, &s, err, sizeof err) == 0, "%s", err);
    int relu = strcmp(acts[_i], "relu") == 0;
    /* classes with a head: 0, 2, 4 (not when dead under relu), 6, 7, 8; and the linear head */
    long floor = opposite ? (relu ? 5 : 6) + 1 : 7;
    ck_assert_int_eq(exchange_floor(x, 0), floor);
    claim_report_t rep;
    run(&rep, x, 0);
    long reduce_rows = 0, merge_rows = 0;
    for (long k = 0; k < rep.n_rows; k++) {
        const row_t *r = rep.rows + k;
        const char *check = params_get(&r->params, "check");
        ck_assert_msg(r->verdict == VERDICT_HOLDS, "row %ld (%s) is %s: %s", k, check,
                      verdict_name(r->verdict), r->note);
        if (strcmp(check, "reduce") == 0) {
            reduce_rows++;
            ck_assert(arb_contains_zero(r->error));
            ck_assert_str_eq(col_text(r, "duplicates"), "1");
            ck_assert_str_eq(col_text(r, "opposites"), opposite ? "1" : "0");
            ck_assert_str_eq(col_text(r, "silent"), "1");
            ck_assert_str_eq(col_text(r, "dead"), relu ? "1" : "0");
            ck_assert_str_eq(col_text(r, "dead with tail"), relu ? "0" : "1");
            ck_assert_str_eq(col_text(r, "linear head"), opposite ? "yes" : "no");
        } else if (strcmp(check, "merge") == 0) {
            merge_rows++;
            ck_assert(r->has_bound);
            ck_assert(arb_is_finite(r->bound));
        }
    }
    ck_assert_int_eq(reduce_rows, 1);
    ck_assert_int_gt(merge_rows, 0);
    claim_report_clear(&rep);
    /* the broken twin: merges of non-duplicates claimed exact */
    run(&rep, x, 1);
    for (long k = 0; k < rep.n_rows; k++)
        ck_assert_msg(rep.rows[k].verdict == VERDICT_VIOLATED, "mutated row %ld (%s) is %s", k,
                      params_get(&rep.rows[k].params, "check"),
                      verdict_name(rep.rows[k].verdict));
    claim_report_clear(&rep);
    exchange_free(x);
    /* the box around the tokens' LN outputs: the merge rows' bound is the box's, and holds */
    s.margin = "0.25";
    ck_assert_msg(exchange_open(&x, &s, err, sizeof err) == 0, "%s", err);
    run(&rep, x, 0);
    for (long k = 0; k < rep.n_rows; k++) {
        const row_t *r = rep.rows + k;
        ck_assert_msg(r->verdict == VERDICT_HOLDS, "box row %ld is %s", k,
                      verdict_name(r->verdict));
        if (strcmp(params_get(&r->params, "check"), "merge") == 0) {
            const column_t *b = row_find_column(r, "box bound");
            ck_assert_ptr_nonnull(b);
            ck_assert(arb_equal(b->iv, r->bound));
        }
    }
    claim_report_clear(&rep);
    exchange_free(x);
    mio_tmp_teardown();
}
END_TEST

/* Bad input: a block the model does not have, a block given twice, a
 * missing file: one line and the documented code. */
START_TEST(test_bad_input)
{
    char path[300];
    mio_tmp_setup();
    mio_path(path, sizeof path, "plain.safetensors");
    write_planted(path, "silu", test_seed(), 1);
    exchange_spec_t s = {.file = path, .tokens = 3, .seed = 1, .prec = 128, .blocks = "1"};
    exchange_t *x = NULL;
    char err[700] = "";
    ck_assert_int_eq(exchange_open(&x, &s, err, sizeof err), EXIT_USAGE);
    mio_assert_one_line(err);
    ck_assert_ptr_null(x);
    s.blocks = "0,0";
    ck_assert_int_eq(exchange_open(&x, &s, err, sizeof err), EXIT_USAGE);
    mio_assert_one_line(err);
    s.blocks = NULL;
    s.margin = "-1";
    ck_assert_int_eq(exchange_open(&x, &s, err, sizeof err), EXIT_USAGE);
    mio_assert_one_line(err);
    s.margin = NULL;
    mio_path(path, sizeof path, "missing.safetensors");
    s.file = path;
    ck_assert_int_eq(exchange_open(&x, &s, err, sizeof err), EXIT_DATAERR);
    mio_assert_one_line(err);
    ck_assert_ptr_null(x);
    mio_tmp_teardown();
}
END_TEST

/* The inflation table's model-file rows where there is no models/: the
 * columns say what to run, not a number. */
START_TEST(test_inflation_without_models)
{
    const claim_t *c = claim_find("inflation");
    ck_assert_ptr_nonnull(c);
    char cwd[4096];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    mio_tmp_setup();
    ck_assert_int_eq(chdir(mio_dir), 0);
    run_options_t o;
    run_options_default(&o);
    o.set_name[0] = "model";
    o.set_values[0] = "ppocrv4-svtr";
    o.n_sets = 1;
    row_t *rows;
    long n = runner_expand(&rows, c, &o);
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(runner_eval_row(rows, c, 4096), 0);
    ck_assert_str_eq(col_text(rows, "exact floor/block (reduced)"), "needs make models");
    ck_assert_str_eq(col_text(rows, "k for E <= 1e-3 S/block (MLP on tokens / MLP over every "
                                    "LN output / model on tokens)"),
                     "needs make models");
    runner_free_rows(rows, n);
    ck_assert_int_eq(chdir(cwd), 0);
    mio_tmp_teardown();
}
END_TEST

Suite *suite_exchange(void)
{
    Suite *s = suite_create("exchange");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_planted, 0, 4);
    tcase_add_test(tc, test_bad_input);
    tcase_add_test(tc, test_inflation_without_models);
    suite_add_tcase(s, tc);
    return s;
}
