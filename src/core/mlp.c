/* MLPs and transformer blocks (no LayerNorm) as certified enclosures. */
#include <math.h>
#include <stdlib.h>
#include "mlp.h"
#include "par.h"
#include "special.h"
#include "xalloc.h"

/* sigma on a ball: one exponential; x occurs once, so it encloses sigma
 * over all of x. */
static void sigmoid_ball(arb_t y, const arb_t x, slong prec)
{
    arb_neg(y, x);
    arb_exp(y, y, prec + 4);
    arb_add_ui(y, y, 1, prec + 4);
    arb_ui_div(y, 1, y, prec);
}

void ival_sigmoid(arb_t y, const arb_t x, mpfr_prec_t prec)
{
    special_ival_monotone(y, x, sigmoid_ball, prec); /* increasing: wide balls by their ends */
}

void ival_silu_a(arb_t y, const arb_t x, const void *a, mpfr_prec_t prec)
{
    arb_t t;
    arb_init(t);
    arb_mul(t, x, (arb_srcptr)a, prec);
    ival_sigmoid(t, t, prec);
    arb_mul(y, x, t, prec);
    arb_clear(t);
}

void ival_relu(arb_t y, const arb_t x, const void *unused, mpfr_prec_t prec)
{
    (void)unused;
    /* max(., 0) is increasing: the ends map to the ends */
    if (!arb_is_finite(x)) {
        arb_indeterminate(y);
    } else if (arb_is_nonnegative(x)) {
        arb_set_round(y, x, prec);
    } else if (arb_is_nonpositive(x)) {
        arb_zero(y);
    } else {
        arf_t lo, hi;
        arf_init(lo);
        arf_init(hi);
        arb_get_ubound_arf(hi, x, prec);
        arb_set_interval_arf(y, lo, hi, prec); /* [0, hi x] */
        arb_nonnegative_part(y, y);
        arf_clear(lo);
        arf_clear(hi);
    }
}

/* Activations per task. */
#define MLP_ACT_TASK 256

long mlp_chunk_units(long n, long d, long l, mpfr_prec_t prec)
{
    double per = ((double)d + 2.0 * (double)n) * ball_bytes(prec);
    double k = floor(attn_chunk_bytes() / per);
    return k < 1 ? 1 : k > (double)l ? (l > 0 ? l : 1) : (long)k;
}

double mlp_apply_bytes(long n, long d, long l, long d_out, mpfr_prec_t prec)
{
    double B = ball_bytes(prec);
    long c = mlp_chunk_units(n, d, l, prec);
    double m = imat_mul_bytes(n, d, c, prec), o = imat_mul_bytes(n, c, d_out, prec);
    /* a chunk of W_in's columns, its hidden units, the output, a product's scratch */
    return (c < l ? (double)d * (double)c * B : 0) + (double)n * (double)c * B +
           (double)n * (double)d_out * B + (m > o ? m : o);
}

typedef struct {
    imat_struct *H, *Wc;
    const imat_struct *W_in;
    long c0;
    ival_act_fn phi;
    const void *ctx;
    mpfr_prec_t prec;
} mlp_job_t;

static void act_task(void *arg, long t)
{
    mlp_job_t *J = arg;
    long n = J->H->rows * J->H->cols, k0 = t * MLP_ACT_TASK;
    long k1 = k0 + MLP_ACT_TASK < n ? k0 + MLP_ACT_TASK : n;
    for (long k = k0; k < k1; k++)
        J->phi(J->H->e + k, J->H->e + k, J->ctx, J->prec);
}

/* Wc = the chunk's columns of W_in, one row of W_in per task. */
static void copy_task(void *arg, long i)
{
    mlp_job_t *J = arg;
    for (long c = 0; c < J->Wc->cols; c++)
        arb_set(imat_entry(J->Wc, i, c), imat_entry(J->W_in, i, J->c0 + c));
}

void mlp_apply(imat_t Y, const imat_t X, const imat_t W_in, const imat_t W_out,
               ival_act_fn phi, const void *ctx, mpfr_prec_t prec)
{
    long n = X->rows, d = X->cols, l = W_in->cols;
    long chunk = mlp_chunk_units(n, d, l, prec);
    imat_t out;
    imat_init(out, n, W_out->cols);
    mlp_job_t J = {.W_in = W_in, .phi = phi, .ctx = ctx, .prec = prec};
    /* hidden units in chunks: out += phi(X W_in[:, c]) W_out[c, :] */
    for (long c0 = 0; c0 < l; c0 += chunk) {
        long c1 = c0 + chunk < l ? c0 + chunk : l;
        imat_t H, Wc, Wo;
        imat_init(H, n, c1 - c0);
        if (c1 - c0 == l) {
            imat_mul(H, X, W_in, prec);
        } else {
            imat_init(Wc, d, c1 - c0);
            J.Wc = Wc;
            J.c0 = c0;
            par_for(d, copy_task, &J);
            imat_mul(H, X, Wc, prec);
            imat_clear(Wc);
        }
        J.H = H;
        par_for((n * (c1 - c0) + MLP_ACT_TASK - 1) / MLP_ACT_TASK, act_task, &J);
        if (W_out->cols > 0) { /* none: mlp_preact_visit */
            imat_rows_window_init(Wo, W_out, c0, c1);
            imat_addmul(out, H, Wo, prec);
            imat_window_clear(Wo);
        }
        imat_clear(H);
    }
    imat_swap(Y, out);
    imat_clear(out);
}

void mlp_preact_visit(const imat_t X, const imat_t W_in, ival_act_fn visit, const void *ctx,
                      mpfr_prec_t prec)
{
    imat_t none, Y;
    imat_init(none, W_in->cols, 0); /* no output columns: the second product is empty */
    imat_init(Y, 0, 0);
    mlp_apply(Y, X, W_in, none, visit, ctx, prec);
    imat_clear(Y);
    imat_clear(none);
}

void block_init(block_t b, long d_model, long d_head, long n_heads, long d_mlp)
{
    b->n_heads = n_heads;
    b->heads = xmallocarray((size_t)(n_heads > 0 ? n_heads : 1), sizeof(attn_head_struct));
    for (long h = 0; h < n_heads; h++)
        attn_head_init(b->heads + h, d_model, d_head);
    imat_init(b->W_in, d_model, d_mlp);
    imat_init(b->W_out, d_mlp, d_model);
}

void block_clear(block_t b)
{
    for (long h = 0; h < b->n_heads; h++)
        attn_head_clear(b->heads + h);
    free(b->heads);
    imat_clear(b->W_in);
    imat_clear(b->W_out);
}

int attn_layer_apply(imat_t X, const attn_head_struct *heads, long n_heads,
                     const mask_t *M, mpfr_prec_t prec)
{
    return attn_heads_apply(X, X, heads, n_heads, M, 1, prec);
}

int block_apply(imat_t X, const block_t b, const mask_t *M, ival_act_fn phi,
                const void *ctx, mpfr_prec_t prec)
{
    int status = attn_layer_apply(X, b->heads, b->n_heads, M, prec);
    imat_t Y;
    imat_init(Y, X->rows, X->cols);
    mlp_apply(Y, X, b->W_in, b->W_out, phi, ctx, prec);
    imat_add(X, X, Y, prec);
    imat_clear(Y);
    return status;
}
