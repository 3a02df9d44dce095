#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runner.h"
#include "thm_common.h"

/* thm_estimate_bytes's constants (see its comment) */
#define THM_EST_PAIR_COPIES 4.0
#define THM_EST_PATTERN_COPIES 4.0
#define THM_EST_BASE_BYTES (1024.0 * 1024.0)

void thm_rand_init(gmp_randstate_t st, unsigned long seed, unsigned long salt)
{
    gmp_randinit_default(st);
    gmp_randseed_ui(st, seed * 1000003UL + salt);
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
    return THM_EST_BASE_BYTES + entries * ((double)sizeof(arb_struct) + ball_heap_bytes(prec));
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
    return 0;
}

int thm_get_shape(long *dims, int count, row_t *r, long max)
{
    const char *s = params_get(&r->params, "shape");
    if (!s || thm_parse_dims(dims, count, s) != count) {
        snprintf(r->note, sizeof r->note, "shape='%s' must be %d positive integers joined by x",
                 s ? s : "", count);
        return -1;
    }
    for (int k = 0; k < count; k++)
        if (dims[k] > max) {
            snprintf(r->note, sizeof r->note, "shape='%s': each size must be at most %ld", s, max);
            return -1;
        }
    return 0;
}

void thm_finish_exact(row_t *r, const imat_t ref, const imat_t con, long row0, long rows)
{
    error_metric(r->error, r->error_abs, ref, con, row0, rows, ref->cols, r->prec);
    scale_of(r->scale, ref, row0, rows, ref->cols);
}

void thm_neuron_head(attn_head_t h, const arb_t a, const imat_t W_in, const imat_t W_out,
                     long k, mpfr_prec_t prec)
{
    long d = W_in->rows;
    attn_head_init(h, d + 1, 1);
    for (long i = 0; i < d; i++) {
        arb_mul(imat_entry(h->W_Q, i, 0), imat_entry(W_in, i, k), a, prec);
        arb_set(imat_entry(h->W_V, i, 0), imat_entry(W_in, i, k));
        arb_set(imat_entry(h->W_O, 0, i), imat_entry(W_out, k, i));
    }
    arb_set_si(imat_entry(h->W_K, d, 0), -1);
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

void thm_mlp_heads(attn_head_struct *heads, const arb_t a, const imat_t W_in,
                   const imat_t W_out, mpfr_prec_t prec)
{
    for (long k = 0; k < W_in->cols; k++)
        thm_neuron_head(heads + k, a, W_in, W_out, k, prec);
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
