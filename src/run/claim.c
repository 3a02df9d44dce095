/* Row parameters, extra columns and exported instances. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "claim.h"
#include "exitcodes.h"
#include "outfile.h"
#include "xalloc.h"

void instance_init(instance_t *I)
{
    I->n = 0;
    I->note[0] = '\0';
    aonet_init(&I->net, 0, 0, 0);
    aonet_init(&I->net_masked, 0, 0, 0);
    imat_init(I->net_in, 0, 0);
    imat_init(I->net_ref, 0, 0);
    I->net_bias_row = 0;
    I->layout[0] = '\0';
    onet_init(&I->orig, 0);
    imat_init(I->orig_in, 0, 0);
    I->orig_row0 = 0;
    I->orig_tokens_given = 0;
    I->source.ctx = NULL;
    I->source.net = NULL;
    I->source.orig = NULL;
}

int instance_emit_net(const instance_t *I, const aonet_sink_t *sink, char *err, size_t errsz)
{
    return I->source.net ? I->source.net(I->source.ctx, sink, err, errsz)
                         : aonet_emit(&I->net, sink, err, errsz);
}

int instance_emit_orig(const instance_t *I, const onet_sink_t *sink, char *err, size_t errsz)
{
    return I->source.orig ? I->source.orig(I->source.ctx, sink, err, errsz)
                          : onet_emit(&I->orig, sink, err, errsz);
}

int instance_has_net(const instance_t *I)
{
    return I->net.n_layers > 0 || I->source.net;
}

int instance_has_orig(const instance_t *I)
{
    return I->orig.n_stages > 0 || I->source.orig;
}

void instance_clear(instance_t *I)
{
    for (int k = 0; k < I->n; k++) {
        imat_clear(I->mat[k]);
        free(I->mat[k]);
    }
    I->n = 0;
    aonet_clear(&I->net);
    aonet_clear(&I->net_masked);
    imat_clear(I->net_in);
    imat_clear(I->net_ref);
    onet_clear(&I->orig);
    imat_clear(I->orig_in);
}

void instance_orig_in(instance_t *I, const imat_t X, long row0)
{
    imat_reinit(I->orig_in, X->rows, X->cols);
    imat_set(I->orig_in, X);
    I->orig_row0 = row0;
}

void instance_orig_mlp(instance_t *I, const imat_t X, const imat_t W_in, const imat_t W_out,
                       const arb_t a, long row0, const char *what)
{
    onet_clear(&I->orig);
    I->orig.D = X->cols;
    onet_add_mlp(&I->orig, W_in, W_out);
    arb_set(I->orig.a, a);
    snprintf(I->orig.what, sizeof I->orig.what, "%s", what);
    instance_orig_in(I, X, row0);
}

static void net_layer(aonet_t *A, aonet_layer_t *L)
{
    A->layers = xreallocarray(A->layers, (size_t)A->n_layers + 1, sizeof *A->layers);
    A->layers[A->n_layers++] = *L;
    if (L->n_groups > 0 && A->D == 0)
        A->D = L->groups[0].W_Q->rows;
    aonet_layer_init(L, 0); /* L's parts now belong to the network */
}

void instance_net_layer(instance_t *I, aonet_layer_t *L)
{
    net_layer(&I->net, L);
}

void instance_masked_layer(instance_t *I, aonet_layer_t *L)
{
    net_layer(&I->net_masked, L);
}

static int net_heads(aonet_t *A, const attn_head_struct *heads, long n, const mask_t *M,
                     mpfr_prec_t prec)
{
    int rule = aonet_mask_rule_of(M);
    if (rule < 0)
        return -1;
    aonet_layer_t L;
    aonet_layer_init(&L, 1);
    aonet_group_from_heads(L.groups, "heads", heads, n, (aonet_mask_t)rule, prec);
    net_layer(A, &L);
    aonet_layer_clear(&L);
    return 0;
}

static int net_source(aonet_t *A, const attn_source_t *src, long D, mpfr_prec_t prec)
{
    attn_head_struct *heads = xmallocarray((size_t)src->n_heads, sizeof *heads);
    for (long h = 0; h < src->n_heads; h++)
        attn_source_head(heads + h, src, h, D, prec);
    int rc = net_heads(A, heads, src->n_heads, src->M, prec);
    for (long h = 0; h < src->n_heads; h++)
        attn_head_clear(heads + h);
    free(heads);
    return rc;
}

int instance_net_heads(instance_t *I, const attn_head_struct *heads, long n, const mask_t *M,
                       mpfr_prec_t prec)
{
    return net_heads(&I->net, heads, n, M, prec);
}

int instance_net_source(instance_t *I, const attn_source_t *src, long D, mpfr_prec_t prec)
{
    return net_source(&I->net, src, D, prec);
}

int instance_masked_heads(instance_t *I, const attn_head_struct *heads, long n, const mask_t *M,
                          mpfr_prec_t prec)
{
    return net_heads(&I->net_masked, heads, n, M, prec);
}

int instance_masked_source(instance_t *I, const attn_source_t *src, long D, mpfr_prec_t prec)
{
    return net_source(&I->net_masked, src, D, prec);
}

void instance_net_io(instance_t *I, const imat_t in, const imat_t ref, const char *layout)
{
    imat_reinit(I->net_in, in->rows, in->cols);
    imat_set(I->net_in, in);
    imat_reinit(I->net_ref, ref->rows, ref->cols);
    imat_set(I->net_ref, ref);
    snprintf(I->layout, sizeof I->layout, "%s", layout);
}

void instance_add(instance_t *I, const char *name, const imat_t A)
{
    if (I->n >= INSTANCE_MAX_MATS)
        outfile_die(EXIT_SOFTWARE, "internal error: an instance has too many matrices");
    imat_struct *B = xmalloc(sizeof *B);
    imat_init(B, A->rows, A->cols);
    imat_set(B, A);
    snprintf(I->name[I->n], sizeof I->name[I->n], "%s", name);
    I->mat[I->n++] = B;
}

const char *claim_kind_name(claim_kind_t k)
{
    switch (k) {
    case KIND_EXACT: return "exact";
    case KIND_INEQUALITY: return "inequality";
    default: return "table";
    }
}

const claim_t *claim_find(const char *id)
{
    for (int k = 0; claim_registry[k]; k++)
        if (strcmp(claim_registry[k]->id, id) == 0)
            return claim_registry[k];
    return NULL;
}
