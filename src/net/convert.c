/* The attention-only conversion (convert.h).  Every converted weight is
 * computed exactly (ARF_PREC_EXACT sums and products of the file's
 * doubles): the network is an exact object, and what is certified is that
 * object. */
#include <stdio.h>
#include <math.h>
#include <string.h>
#include "convert.h"
#include "exitcodes.h"
#include "silufit.h"
#include "xalloc.h"

const char *const convert_mutation[CONVERT_N_MUT][2] = {
    [CONVERT_MUT_DROP_B_IN] = {"drop-b-in", "the neuron heads leave out b_in (c row 0)"},
    [CONVERT_MUT_LN_CF] = {"ln-cf", "LayerNorm normalises c and f along with the features"},
    [CONVERT_MUT_BIAS_VISIBLE] = {"bias-visible",
                                  "the original heads' masks let real tokens see the bias token"},
    [CONVERT_MUT_NO_F_ROW] = {"no-f-row",
                              "the f rows of W_V are dropped: the bias token's values are not 0"},
    [CONVERT_MUT_DROP_B_OUT] = {"drop-b-out", "the head that adds b_out is left out"},
    [CONVERT_MUT_DROP_HEAD] = {"drop-head", "the last head of every neuron (of its m heads "
                               "per neuron) has output weights 0"},
};

const char *const convert_form_name[CONVERT_N_FORMS] = {
    [CONVERT_FLOAT_ROBUST] = "float-robust",
    [CONVERT_LITERAL] = "literal",
};

int convert_form_find(convert_form_t *form, const char *name)
{
    for (int k = 0; k < CONVERT_N_FORMS; k++)
        if (name && strcmp(convert_form_name[k], name) == 0) {
            *form = (convert_form_t)k;
            return 0;
        }
    return -1;
}

int convert_mutation_index(const char *name)
{
    for (int k = 1; k < CONVERT_N_MUT; k++)
        if (name && strcmp(convert_mutation[k][0], name) == 0)
            return k;
    return 0;
}

/* ------------------------------------------------------------- activation */

int convert_act_exact(const convert_act_t *ca)
{
    return ca->kind != CONVERT_ACT_APPROX;
}

int convert_act_init(convert_act_t *ca, const tmodel_config_t *c, const char *act_a, char *err,
                     size_t errsz, mpfr_prec_t prec)
{
    const char *fn = c->act_fn;
    const char *name = NULL, *fit = NULL; /* the certified function, and a* 's target */
    /* TransformerLens's gelu_fast, its own constants (not gelu_tanh's sqrt(2/pi)) */
    static const char gelu_fast[] = "0.5*x*(1+tanh(0.7978845608*x*(1+0.044715*x*x)))";
    convert_act_kind_t kind;
    if (c->gated_mlp) {
        if (strcmp(fn, "sigmoid") != 0) {
            snprintf(err, errsz,
                     "a gated MLP with act_fn %s (%s) is outside the class: a head gives "
                     "sigma(a g) times a value affine in the token, and %s(g) u needs a value "
                     "quadratic in the token; only a sigmoid gate (GLU) converts",
                     fn, strcmp(fn, "silu") == 0 ? "SwiGLU" : strncmp(fn, "gelu", 4) == 0 ? "GeGLU" : "a gated MLP",
                     fn);
            return EXIT_DATAERR;
        }
        kind = CONVERT_ACT_GLU;
        name = "sigmoid";
    } else if (strcmp(fn, "silu") == 0) {
        kind = CONVERT_ACT_SILU;
        name = "silu";
    } else if (strcmp(fn, "sigmoid") == 0) {
        kind = CONVERT_ACT_SIGMOID;
        name = "sigmoid";
    } else {
        kind = CONVERT_ACT_APPROX;
        if (strcmp(fn, "gelu") == 0)
            name = fit = "gelu";
        else if (strcmp(fn, "gelu_new") == 0 || strcmp(fn, "gelu_pytorch_tanh") == 0)
            name = fit = "gelu_tanh";
        else if (strcmp(fn, "gelu_fast") == 0)
            name = fit = gelu_fast;
        else if (strcmp(fn, "relu") == 0)
            name = "relu";
        else {
            snprintf(err, errsz, "act_fn %s has no conversion", fn);
            return EXIT_DATAERR;
        }
    }
    if (act_a && kind != CONVERT_ACT_APPROX) {
        snprintf(err, errsz, "--act-a applies to gelu, gelu_new, gelu_fast and relu models; "
                 "this model's %s converts exactly with a = 1", c->gated_mlp ? "GLU" : fn);
        return EXIT_DATAERR;
    }
    char aerr[256];
    if (act_init_spec(&ca->phi, name, aerr, sizeof aerr, prec) != 0) {
        snprintf(err, errsz, "internal: activation %s: %s", name, aerr);
        return EXIT_SOFTWARE;
    }
    ca->kind = kind;
    ca->n_blocks = 0;
    ca->heads = NULL;
    arb_init(ca->a);
    if (act_a) {
        /* the weights are exact: a decimal that is not a dyadic of at most
         * prec bits (1.702) is used as its nearest double, and said so */
        int exact = ival_set_str(ca->a, act_a, prec) == 0 && arb_is_exact(ca->a);
        mpfr_t d;
        mpfr_init2(d, 53);
        char *end;
        /* the double nearest, by strtod: 1e400 has none (it overflows) and
         * neither has 1e-400 (it underflows to 0), so both are refused, as
         * is an exact dyadic outside the doubles' range */
        double dv = strtod(act_a, &end);
        int ok = end != act_a && *end == '\0' && isfinite(dv) && dv > 0;
        mpfr_set_d(d, ok ? dv : 1, MPFR_RNDN); /* exact: 53 bits hold a double */
        if (ok && !exact) {
            arf_set_d(arb_midref(ca->a), dv); /* exact: a double */
            mag_zero(arb_radref(ca->a));
        }
        if (!ok || !arb_is_positive(ca->a)) {
            snprintf(err, errsz, "--act-a '%s' is not a positive finite number in the range "
                     "of doubles", act_a);
            mpfr_clear(d);
            arb_clear(ca->a);
            act_clear(&ca->phi);
            return EXIT_USAGE;
        }
        if (exact)
            snprintf(ca->a_text, sizeof ca->a_text, "a = %s (--act-a)", act_a);
        else
            mpfr_snprintf(ca->a_text, sizeof ca->a_text,
                          "a = %.21Rg, the double nearest --act-a %.40s (the converted "
                          "weights are exact)", d, act_a);
        mpfr_clear(d);
    } else if (fit) {
        double a = silufit_minimax_a(&ca->phi, CONVERT_FIT_L);
        arb_set_d(ca->a, a); /* exact: a multiple of 2^-30 */
        snprintf(ca->a_text, sizeof ca->a_text,
                 "a = a* = %.17g, the minimiser of sup_{|z|<=%g} |%s - SiLU_a| (gelu-approx's "
                 "search, an estimate)", a, CONVERT_FIT_L, fn);
    } else if (kind == CONVERT_ACT_APPROX) {
        arb_set_str(ca->a, CONVERT_RELU_A, prec);
        snprintf(ca->a_text, sizeof ca->a_text,
                 "a = %s (relu's default: gap W0(1/e)/a = 0.0087)", CONVERT_RELU_A);
    } else {
        arb_one(ca->a);
        snprintf(ca->a_text, sizeof ca->a_text, "a = 1 (exact for %s)",
                 c->gated_mlp ? "GLU" : fn);
    }
    act_init_silu_a(&ca->silu, ca->a, prec);
    return 0;
}

void convert_act_clear(convert_act_t *ca)
{
    act_clear(&ca->phi);
    act_clear(&ca->silu);
    arb_clear(ca->a);
    for (long b = 0; b < ca->n_blocks; b++)
        act_clear(&ca->heads[b].twin);
    free(ca->heads);
    ca->heads = NULL;
    ca->n_blocks = 0;
}

int convert_act_set_heads(convert_act_t *ca, long n_blocks, const int *m, char *err,
                          size_t errsz, mpfr_prec_t prec)
{
    if (ca->kind != CONVERT_ACT_APPROX) {
        snprintf(err, errsz, "heads per neuron apply to gelu, gelu_new, gelu_fast and relu "
                 "models; this model's activation converts exactly with one head");
        return EXIT_DATAERR;
    }
    for (long b = 0; b < n_blocks; b++)
        if (m[b] < 1 || m[b] > SILUSUM_SHIPPED_M) {
            snprintf(err, errsz, "heads per neuron %d: use 1 to %d", m[b], SILUSUM_SHIPPED_M);
            return EXIT_DATAERR;
        }
    if (ca->n_blocks != n_blocks) {
        for (long b = 0; b < ca->n_blocks; b++)
            act_clear(&ca->heads[b].twin);
        free(ca->heads);
        ca->heads = xcalloc((size_t)(n_blocks > 0 ? n_blocks : 1), sizeof *ca->heads);
        ca->n_blocks = 0;
    }
    for (long b = 0; b < n_blocks; b++) {
        convert_heads_t *h = ca->heads + b;
        if (b < ca->n_blocks && h->fit.m == m[b])
            continue;
        if (b < ca->n_blocks)
            act_clear(&h->twin);
        if (silusum_get(&h->fit, &h->shipped, &ca->phi, m[b], SILUSUM_SHIPPED_L,
                        SILUSUM_SHIPPED_A_MAX) != 0 ||
            silusum_act(&h->twin, &h->fit, prec) != 0) {
            snprintf(err, errsz, "internal: no fit of %d SiLU heads", m[b]);
            for (long k = 0; k < b; k++)
                act_clear(&ca->heads[k].twin);
            free(ca->heads);
            ca->heads = NULL;
            ca->n_blocks = 0;
            return EXIT_SOFTWARE;
        }
    }
    ca->n_blocks = n_blocks;
    /* the text: one m for all blocks, or the list */
    int same = 1;
    for (long b = 1; b < n_blocks; b++)
        same &= m[b] == m[0];
    char ms[120] = "";
    for (long b = 0; b < (same ? 1 : n_blocks) && strlen(ms) + 8 < sizeof ms; b++)
        snprintf(ms + strlen(ms), sizeof ms - strlen(ms), "%s%d", b ? "," : "", m[b]);
    snprintf(ca->a_text, sizeof ca->a_text, "m = %.60s SiLU_{a_j} heads per neuron%s: sum_j c_j "
             "SiLU_{a_j}, the %s fit (c_j, a_j exact dyadics, sum c_j = 1)", ms,
             same ? "" : " (per block)", n_blocks && ca->heads[0].shipped ? "shipped" : "computed");
    return 0;
}

int convert_act_m(const convert_act_t *ca, long b)
{
    return ca->heads && b >= 0 && b < ca->n_blocks ? ca->heads[b].fit.m : 1;
}

const act_t *convert_act_twin(const convert_act_t *ca, long b)
{
    return ca->heads && b >= 0 && b < ca->n_blocks ? &ca->heads[b].twin : &ca->silu;
}

void convert_act_slope_max(arb_t a, const convert_act_t *ca)
{
    arb_set(a, ca->a);
    if (!ca->heads)
        return;
    arb_zero(a);
    arb_t t;
    arb_init(t);
    for (long b = 0; b < ca->n_blocks; b++)
        for (int j = 0; j < ca->heads[b].fit.m; j++) {
            arb_set_d(t, ca->heads[b].fit.a[j]); /* exact: a double */
            arb_max(a, a, t, ARF_PREC_EXACT);
        }
    arb_clear(t);
}

/* ----------------------------------------------------------------- stream */

void convert_stream(imat_t Xs, const imat_t X)
{
    long n = X->rows, d = X->cols;
    imat_reinit(Xs, n + 1, d + 2);
    imat_set_block(Xs, 1, 0, X);
    for (long i = 0; i <= n; i++)
        arb_one(imat_entry(Xs, i, d));          /* c */
    arb_one(imat_entry(Xs, 0, d + 1));          /* f: the bias token */
}

void convert_ln(aonet_ln_t *dst, const aonet_ln_t *src, long D, int mutation)
{
    aonet_ln_init(dst);
    if (mutation != CONVERT_MUT_LN_CF || src->kind == AONET_LN_NONE) {
        aonet_ln_copy(dst, src);
        return;
    }
    /* the mutation: LN over all D columns, c and f with weight 1 and bias 0 */
    aonet_ln_set_kind(dst, src->kind, D);
    arb_set(dst->eps, src->eps);
    for (long j = 0; j < D; j++) {
        if (aonet_ln_has_w(src->kind)) {
            if (j < src->d)
                arb_set(imat_entry(dst->w, 0, j), imat_entry(src->w, 0, j));
            else
                arb_one(imat_entry(dst->w, 0, j));
        }
        if (aonet_ln_has_b(src->kind) && j < src->d)
            arb_set(imat_entry(dst->b, 0, j), imat_entry(src->b, 0, j));
    }
}

/* -(beta . W[:, k] + t), exactly; kinds without b (LNPre, RMS, RMSPre, none)
 * normalise the bias token's zero features to beta = 0: -t. */
static void f_row(arb_t f, const imat_t W, long k, const aonet_ln_t *ln, const arb_t t)
{
    arb_t p;
    arb_init(p);
    arb_set(f, t);
    if (aonet_ln_has_b(ln->kind))
        for (long j = 0; j < W->rows; j++) {
            arb_mul(p, imat_entry(ln->b, 0, j), imat_entry(W, j, k), ARF_PREC_EXACT);
            arb_add(f, f, p, ARF_PREC_EXACT);
        }
    arb_neg(f, f);
    arb_clear(p);
}

/* Column col of dst (D rows) = [W[:, k]; t; f], or [W[:, k]; t; 0] when f is NULL. */
static void set_column(imat_t dst, long col, const imat_t W, long k, const arb_t t,
                       const arb_t f)
{
    long d = W->rows;
    for (long j = 0; j < d; j++)
        arb_set(imat_entry(dst, j, col), imat_entry(W, j, k));
    arb_set(imat_entry(dst, d, col), t);
    if (f)
        arb_set(imat_entry(dst, d + 1, col), f);
    else
        arb_zero(imat_entry(dst, d + 1, col));
}

/* Where a column's map reads from: the original's LN (its beta, and its
 * gamma when fold), and the form.  fold: the converted layer's LN is the
 * original's without gamma and beta (LNPre for LN, RMSPre for RMS), so the
 * column carries diag(gamma) W and the c row a = beta . W + t in either
 * form (a parallel block whose LN1 and LN2 differ). */
typedef struct {
    const aonet_ln_t *ln;
    int fold;
    convert_form_t form;
} col_src_t;

/* Column col of dst for a map u W[:, k] + t of the normalised stream u =
 * LN(h) (s->ln: the original's LN, beta its b), with_f: an f row that
 * zeroes the bias token's entry (NULL-like 0 otherwise):
 *   literal:      [W[:, k]; t; -(beta . W[:, k] + t)]   (the LN keeps beta)
 *   float-robust: [W[:, k]; a; -a], a = beta . W[:, k] + t  (the LN has beta 0)
 *   folded:       [diag(gamma) W[:, k]; a; -a]  (the LN has neither)
 * The float-robust f row is the exact negation of the c row: both round to
 * one value up to sign in any format (rounding to nearest is odd). */
static void map_column(imat_t dst, long col, const imat_t W, long k, const col_src_t *s,
                       const arb_t t, int with_f)
{
    arb_t f;
    arb_init(f);
    f_row(f, W, k, s->ln, t);
    if (s->form == CONVERT_FLOAT_ROBUST || s->fold) {
        arb_t a;
        arb_init(a);
        arb_neg(a, f); /* exact */
        set_column(dst, col, W, k, a, with_f ? f : NULL);
        arb_clear(a);
    } else {
        set_column(dst, col, W, k, t, with_f ? f : NULL);
    }
    if (s->fold && aonet_ln_has_w(s->ln->kind))
        for (long j = 0; j < W->rows; j++) /* exact: a product of two doubles */
            arb_mul(imat_entry(dst, j, col), imat_entry(dst, j, col), imat_entry(s->ln->w, 0, j),
                    ARF_PREC_EXACT);
    arb_clear(f);
}

/* The LN a converted layer reads: src's on the first d of D columns; the
 * float-robust form drops its beta (folded into the c rows by map_column). */
static void layer_ln(aonet_ln_t *dst, const aonet_ln_t *src, long D, convert_form_t form,
                     int mutation)
{
    convert_ln(dst, src, D, mutation);
    if (form == CONVERT_FLOAT_ROBUST && aonet_ln_has_b(dst->kind))
        for (long j = 0; j < dst->b->cols; j++)
            arb_zero(imat_entry(dst->b, 0, j));
}

/* Block B's attention heads into g (uninitialised), reading s. */
static void group_attention(aonet_group_t *g, const tblock_t *B, const convert_opts_t *o,
                            const col_src_t *s)
{
    long d = B->d_model, D = d + 2, H = B->n_heads, E = B->d_head;
    int mutation = o->mutation;
    aonet_mask_t mask = B->causal ? AONET_MASK_REAL_CAUSAL : AONET_MASK_REAL_ALL;
    if (mutation == CONVERT_MUT_BIAS_VISIBLE)
        mask = B->causal ? AONET_MASK_CAUSAL : AONET_MASK_ALL;
    aonet_group_init(g, "attn", D, H, E, E + 1, 0, mask);
    arb_set(g->attn_scale, B->attn_scale);
    /* float-robust: the bias token's queries and keys are 0 too (f rows),
     * so its logit is exactly 0 in every format, never an overflow */
    int robust = s->form == CONVERT_FLOAT_ROBUST || s->fold;
    for (long h = 0; h < H; h++) {
        for (long e = 0; e < E; e++) {
            long k = h * E + e, v = h * (E + 1) + e;
            map_column(g->W_Q, k, B->W_Q, k, s, imat_entry(B->b_Q, 0, k), robust);
            map_column(g->W_K, k, B->W_K, k, s, imat_entry(B->b_K, 0, k), robust);
            map_column(g->W_V, v, B->W_V, k, s, imat_entry(B->b_V, 0, k),
                       mutation != CONVERT_MUT_NO_F_ROW);
            for (long j = 0; j < d; j++)
                arb_set(imat_entry(g->W_O, v, j), imat_entry(B->W_O, k, j));
        }
        if (h == 0) {
            /* the value channel c - f carries b_O */
            long v = E;
            arb_one(imat_entry(g->W_V, d, v));
            arb_set_si(imat_entry(g->W_V, d + 1, v), -1);
            for (long j = 0; j < d; j++)
                arb_set(imat_entry(g->W_O, v, j), imat_entry(B->b_O, 0, j));
        }
    }
}

/* The MLP's head groups: m groups of neurons (m heads per neuron, one per
 * slope a_j), then b_out (none under CONVERT_MUT_DROP_B_OUT). */
static long mlp_groups(const convert_act_t *ca, const tblock_t *B, int mutation)
{
    return convert_act_m(ca, B->layer) + (mutation != CONVERT_MUT_DROP_B_OUT);
}

/* The neurons' group for slope a (key -a f, shared) and output weight c
 * times W_out (c NULL: 1), into g (uninitialised), reading s. */
static void group_neurons(aonet_group_t *g, const char *name, const tblock_t *B,
                          const convert_act_t *ca, const arb_t a, const arb_t c,
                          const convert_opts_t *o, const col_src_t *s)
{
    long d = B->d_model, D = d + 2, l = B->d_mlp;
    int mutation = o->mutation;
    int with_f = mutation != CONVERT_MUT_NO_F_ROW;
    aonet_group_init(g, name, D, l, 1, 1, 1, AONET_MASK_SELF_BIAS);
    arb_neg(imat_entry(g->W_K, d + 1, 0), a); /* key -a f, shared */
    arb_t t, zero;
    arb_init(t);
    arb_init(zero);
    for (long k = 0; k < l; k++) {
        arb_set(t, imat_entry(B->b_in, 0, k));
        if (mutation == CONVERT_MUT_DROP_B_IN)
            arb_zero(t);
        /* the value: z (silu, approximations), c - f (sigmoid), or the up projection (GLU) */
        if (ca->kind == CONVERT_ACT_SIGMOID) {
            arb_one(imat_entry(g->W_V, d, k));
            arb_set_si(imat_entry(g->W_V, d + 1, k), -1);
            map_column(g->W_Q, k, B->W_in, k, s, t, with_f);
        } else if (ca->kind == CONVERT_ACT_GLU) {
            map_column(g->W_V, k, B->W_in, k, s, t, with_f);
            map_column(g->W_Q, k, B->W_gate, k, s, zero, with_f);
        } else {
            map_column(g->W_V, k, B->W_in, k, s, t, with_f);
            map_column(g->W_Q, k, B->W_in, k, s, t, with_f);
        }
        for (long j = 0; j < d; j++)
            if (c) /* exact: a product of two doubles */
                arb_mul(imat_entry(g->W_O, k, j), imat_entry(B->W_out, k, j), c, ARF_PREC_EXACT);
            else
                arb_set(imat_entry(g->W_O, k, j), imat_entry(B->W_out, k, j));
    }
    arb_clear(t);
    arb_clear(zero);
}

/* Block B's MLP as mlp_groups() head groups into g (uninitialised), reading s. */
static void group_mlp(aonet_group_t *g, const tblock_t *B, const convert_act_t *ca,
                      const convert_opts_t *o, const col_src_t *s)
{
    long d = B->d_model, D = d + 2;
    int mutation = o->mutation;
    int m = convert_act_m(ca, B->layer);
    if (ca->heads && B->layer >= 0 && B->layer < ca->n_blocks) {
        const silusum_t *fit = &ca->heads[B->layer].fit;
        arb_t a, c;
        arb_init(a);
        arb_init(c);
        for (int j = 0; j < m; j++) {
            char name[32];
            snprintf(name, sizeof name, j ? "neurons_%d" : "neurons", j);
            arb_set_d(a, fit->a[j]); /* exact: dyadics held by doubles */
            arb_set_d(c, j == m - 1 && mutation == CONVERT_MUT_DROP_HEAD ? 0 : fit->c[j]);
            group_neurons(g + j, name, B, ca, a, c, o, s);
        }
        arb_clear(a);
        arb_clear(c);
    } else if (mutation == CONVERT_MUT_DROP_HEAD) {
        arb_t zero;
        arb_init(zero);
        group_neurons(g, "neurons", B, ca, ca->a, zero, o, s);
        arb_clear(zero);
    } else {
        group_neurons(g, "neurons", B, ca, ca->a, NULL, o, s);
    }
    if (mlp_groups(ca, B, mutation) > m) {
        aonet_group_t *ob = g + m;
        aonet_group_init(ob, "b_out", D, 1, 1, 1, 0, AONET_MASK_SELF);
        arb_one(imat_entry(ob->W_V, d, 0));
        arb_set_si(imat_entry(ob->W_V, d + 1, 0), -1);
        for (long j = 0; j < d; j++)
            arb_set(imat_entry(ob->W_O, 0, j), imat_entry(B->b_out, 0, j));
    }
}

static void layer_attention(aonet_layer_t *A, const tblock_t *B, const convert_opts_t *o)
{
    col_src_t s = {&B->ln1, 0, o->form};
    aonet_layer_init(A, 1);
    aonet_ln_clear(&A->ln);
    layer_ln(&A->ln, &B->ln1, B->d_model + 2, o->form, o->mutation);
    group_attention(A->groups, B, o, &s);
}

static void layer_mlp(aonet_layer_t *L, const tblock_t *B, const convert_act_t *ca,
                      const convert_opts_t *o)
{
    col_src_t s = {&B->ln2, 0, o->form};
    aonet_layer_init(L, mlp_groups(ca, B, o->mutation));
    aonet_ln_clear(&L->ln);
    layer_ln(&L->ln, &B->ln2, B->d_model + 2, o->form, o->mutation);
    group_mlp(L->groups, B, ca, o, &s);
}

/* 1 when a and b are the same LN (kind, eps, w and b entry by entry). */
static int same_ln(const aonet_ln_t *a, const aonet_ln_t *b)
{
    if (a->kind != b->kind || a->d != b->d ||
        (a->kind != AONET_LN_NONE && !arb_equal(a->eps, b->eps)))
        return 0;
    if (aonet_ln_has_w(a->kind) && !imat_equal(a->w, b->w))
        return 0;
    return !aonet_ln_has_b(a->kind) || imat_equal(a->b, b->b);
}

/* A parallel block as one layer: the attention group and the MLP's groups
 * all read LN(x).  LN1 = LN2: that LN, as a sequential block's layers have
 * it.  Otherwise the layer's LN is theirs without gamma and beta (LNPre,
 * RMSPre: n(x)) and each group's columns fold their own gamma and beta. */
static void layer_parallel(aonet_layer_t *P, const tblock_t *B, const convert_act_t *ca,
                           const convert_opts_t *o)
{
    long D = B->d_model + 2;
    int fold = !same_ln(&B->ln1, &B->ln2);
    col_src_t s1 = {&B->ln1, fold, o->form}, s2 = {&B->ln2, fold, o->form};
    aonet_layer_init(P, 1 + mlp_groups(ca, B, o->mutation));
    aonet_ln_clear(&P->ln);
    if (!fold) {
        layer_ln(&P->ln, &B->ln1, D, o->form, o->mutation);
    } else {
        /* n(x): LN1's kind without gamma and beta (LN2's is the same kind) */
        aonet_ln_t n;
        aonet_ln_init(&n);
        aonet_ln_set_kind(&n, aonet_ln_centres(B->ln1.kind) ? AONET_LN_PRE : AONET_LN_RMSPRE,
                          B->d_model);
        arb_set(n.eps, B->ln1.eps);
        convert_ln(&P->ln, &n, D, o->mutation);
        aonet_ln_clear(&n);
    }
    group_attention(P->groups, B, o, &s1);
    group_mlp(P->groups + 1, B, ca, o, &s2);
}

long convert_block_layers(aonet_layer_t out[2], const tblock_t *B, const convert_act_t *ca,
                          const convert_opts_t *o)
{
    if (B->parallel) {
        layer_parallel(out, B, ca, o);
        return 1;
    }
    layer_attention(out, B, o);
    layer_mlp(out + 1, B, ca, o);
    return 2;
}

void convert_block_opts(aonet_layer_t *A, aonet_layer_t *L, const tblock_t *B,
                        const convert_act_t *ca, const convert_opts_t *o)
{
    layer_attention(A, B, o);
    layer_mlp(L, B, ca, o);
}

void convert_block(aonet_layer_t *A, aonet_layer_t *L, const tblock_t *B,
                   const convert_act_t *ca, int mutation)
{
    convert_opts_t o = {.form = CONVERT_FORM_DEFAULT, .mutation = mutation};
    convert_block_opts(A, L, B, ca, &o);
}
