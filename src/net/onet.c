/* The original computation as data, and its certified forward pass (onet.h). */
#include <stdlib.h>
#include <string.h>
#include "act.h"
#include "onet.h"
#include "xalloc.h"

void onet_init(onet_t *O, long D)
{
    O->D = D;
    O->n_stages = 0;
    O->stages = NULL;
    aonet_ln_init(&O->ln_final);
    snprintf(O->act, sizeof O->act, "silu_a");
    arb_init(O->a);
    arb_one(O->a);
    O->what[0] = '\0';
}

void onet_clear(onet_t *O)
{
    for (long k = 0; k < O->n_stages; k++) {
        onet_stage_t *s = O->stages + k;
        if (s->kind == ONET_LAYER)
            aonet_layer_clear(&s->layer);
        else
            tblock_clear(&s->block);
    }
    free(O->stages);
    O->stages = NULL;
    O->n_stages = 0;
    aonet_ln_clear(&O->ln_final);
    aonet_ln_init(&O->ln_final);
    arb_clear(O->a);
    arb_init(O->a);
    arb_one(O->a);
}

static onet_stage_t *add_stage(onet_t *O, onet_kind_t kind)
{
    O->stages = xreallocarray(O->stages, (size_t)O->n_stages + 1, sizeof *O->stages);
    onet_stage_t *s = O->stages + O->n_stages++;
    memset(s, 0, sizeof *s);
    s->kind = kind;
    return s;
}

void onet_add_layer(onet_t *O, aonet_layer_t *L)
{
    onet_stage_t *s = add_stage(O, ONET_LAYER);
    s->layer = *L;
    aonet_layer_init(L, 0); /* L's parts now belong to O */
}

void onet_add_block(onet_t *O, tblock_t *B)
{
    onet_stage_t *s = add_stage(O, ONET_BLOCK);
    s->block = *B;
    /* B's parts now belong to O: B left as a zero block of its own */
    onet_block_zero(B, 0, 0, 0, 0);
}

void onet_block_zero(tblock_t *B, long D, long n_heads, long d_head, long d_mlp)
{
    long HE = n_heads * d_head;
    B->d_model = D;
    B->n_heads = n_heads;
    B->d_head = d_head;
    B->d_mlp = d_mlp;
    B->causal = 0;
    B->gated = 0;
    B->parallel = 0;
    aonet_ln_init(&B->ln1);
    aonet_ln_init(&B->ln2);
    imat_init(B->W_Q, D, HE);
    imat_init(B->W_K, D, HE);
    imat_init(B->W_V, D, HE);
    imat_init(B->b_Q, 1, HE);
    imat_init(B->b_K, 1, HE);
    imat_init(B->b_V, 1, HE);
    imat_init(B->W_O, HE, D);
    imat_init(B->b_O, 1, D);
    imat_init(B->W_in, D, d_mlp);
    imat_init(B->b_in, 1, d_mlp);
    imat_init(B->W_gate, 0, 0);
    imat_init(B->W_out, d_mlp, D);
    imat_init(B->b_out, 1, D);
    arb_init(B->attn_scale);
    arb_one(B->attn_scale);
}

void onet_add_mlp(onet_t *O, const imat_t W_in, const imat_t W_out)
{
    tblock_t B;
    onet_block_zero(&B, W_in->rows, 0, 0, W_in->cols);
    imat_set(B.W_in, W_in);
    imat_set(B.W_out, W_out);
    onet_add_block(O, &B);
    tblock_clear(&B);
}

int onet_emit(const onet_t *O, const onet_sink_t *sink, char *err, size_t errsz)
{
    int rc = 0;
    for (long k = 0; rc == 0 && k < O->n_stages; k++)
        rc = sink->stage(sink->ctx, O->stages + k, err, errsz);
    if (rc == 0)
        rc = sink->final_ln(sink->ctx, &O->ln_final, err, errsz);
    return rc;
}

int onet_apply(imat_t X, const onet_t *O, mpfr_prec_t prec)
{
    const act_info_t *info = act_find(O->act);
    if (!info)
        return -1;
    const void *ctx = info->param_name ? (const void *)O->a : NULL;
    int rc = 0;
    for (long k = 0; rc == 0 && k < O->n_stages; k++) {
        const onet_stage_t *s = O->stages + k;
        if (s->kind == ONET_LAYER) {
            rc = aonet_layer_apply(X, &s->layer, prec);
            continue;
        }
        if (s->block.parallel) {
            tblock_apply(X, &s->block, X, info->ival, ctx, prec);
            continue;
        }
        if (s->block.n_heads > 0)
            tblock_attn(X, &s->block, X, prec);
        if (s->block.d_mlp > 0)
            tblock_mlp(X, &s->block, X, info->ival, ctx, prec);
    }
    if (rc == 0 && O->ln_final.kind != AONET_LN_NONE)
        aonet_ln_apply(X, X, &O->ln_final, prec);
    return rc;
}
