/* MLPs and transformer blocks (no LayerNorm) as certified enclosures. */
#include <stdlib.h>
#include "mlp.h"
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

void mlp_apply(imat_t Y, const imat_t X, const imat_t W_in, const imat_t W_out,
               ival_act_fn phi, const void *ctx, mpfr_prec_t prec)
{
    imat_t H;
    imat_init(H, X->rows, W_in->cols);
    imat_mul(H, X, W_in, prec);
    for (long k = 0; k < H->rows * H->cols; k++)
        phi(H->e + k, H->e + k, ctx, prec);
    imat_mul(Y, H, W_out, prec);
    imat_clear(H);
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
    int status = 0;
    imat_t sum, Y;
    imat_init(sum, X->rows, X->cols);
    imat_init(Y, X->rows, X->cols);
    /* Every head reads the same X: sum first, then add the residual. */
    for (long h = 0; h < n_heads; h++) {
        if (attn_head_apply(Y, heads + h, X, M, prec) != 0)
            status = -1;
        imat_add(sum, sum, Y, prec);
    }
    imat_add(X, X, sum, prec);
    imat_clear(sum);
    imat_clear(Y);
    return status;
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
