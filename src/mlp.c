/* MLPs and transformer blocks (no LayerNorm) as certified enclosures. */
#include <stdlib.h>
#include "mlp.h"
#include "xalloc.h"

void ival_sigmoid(mpfi_t y, const mpfi_t x)
{
    /* sigma is increasing; 1/(1+e^-t) evaluated in MPFI keeps that. */
    mpfi_neg(y, x);
    mpfi_exp(y, y);
    mpfi_add_ui(y, y, 1);
    mpfi_ui_div(y, 1, y);
}

void ival_silu_a(mpfi_t y, const mpfi_t x, const void *a)
{
    mpfi_t t;
    mpfi_init2(t, mpfi_get_prec(y));
    mpfi_mul(t, x, (mpfi_srcptr)a);
    ival_sigmoid(t, t);
    mpfi_mul(y, x, t);
    mpfi_clear(t);
}

void ival_relu(mpfi_t y, const mpfi_t x, const void *unused)
{
    (void)unused;
    mpfr_t lo, hi;
    mpfr_inits2(mpfi_get_prec(y), lo, hi, (mpfr_ptr)0);
    /* max(., 0) is increasing: map the ends. */
    mpfr_set(lo, &x->left, MPFR_RNDD);
    if (mpfr_sgn(lo) < 0)
        mpfr_set_ui(lo, 0, MPFR_RNDD);
    mpfr_set(hi, &x->right, MPFR_RNDU);
    if (mpfr_sgn(hi) < 0)
        mpfr_set_ui(hi, 0, MPFR_RNDU);
    mpfi_interv_fr(y, lo, hi);
    mpfr_clears(lo, hi, (mpfr_ptr)0);
}

void mlp_apply(imat_t Y, const imat_t X, const imat_t W_in, const imat_t W_out,
               ival_act_fn phi, const void *ctx, mpfr_prec_t prec)
{
    imat_t H;
    imat_init(H, X->rows, W_in->cols, prec);
    imat_mul(H, X, W_in);
    for (long k = 0; k < H->rows * H->cols; k++)
        phi(H->e + k, H->e + k, ctx);
    imat_mul(Y, H, W_out);
    imat_clear(H);
}

void block_init(block_t b, long d_model, long d_head, long n_heads, long d_mlp,
                mpfr_prec_t prec)
{
    b->n_heads = n_heads;
    b->heads = xmallocarray((size_t)(n_heads > 0 ? n_heads : 1), sizeof(attn_head_struct));
    for (long h = 0; h < n_heads; h++)
        attn_head_init(b->heads + h, d_model, d_head, prec);
    imat_init(b->W_in, d_model, d_mlp, prec);
    imat_init(b->W_out, d_mlp, d_model, prec);
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
    imat_init(sum, X->rows, X->cols, prec);
    imat_init(Y, X->rows, X->cols, prec);
    /* Every head reads the same X: sum first, then add the residual. */
    for (long h = 0; h < n_heads; h++) {
        if (attn_head_apply(Y, heads + h, X, M, prec) != 0)
            status = -1;
        imat_add(sum, sum, Y);
    }
    imat_add(X, X, sum);
    imat_clear(sum);
    imat_clear(Y);
    return status;
}

int block_apply(imat_t X, const block_t b, const mask_t *M, ival_act_fn phi,
                const void *ctx, mpfr_prec_t prec)
{
    int status = attn_layer_apply(X, b->heads, b->n_heads, M, prec);
    imat_t Y;
    imat_init(Y, X->rows, X->cols, prec);
    mlp_apply(Y, X, b->W_in, b->W_out, phi, ctx, prec);
    imat_add(X, X, Y);
    imat_clear(Y);
    return status;
}
