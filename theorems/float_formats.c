/* float-formats: what the constructions cost in the number formats models
 * run in.  Each row takes a construction's network as data (the claim's
 * export_instance), runs it in an emulated format (fpnet.h: binary32,
 * bfloat16 or binary16, and binary64 alongside) and measures, as certified
 * enclosures:
 *   E          the float output's distance to the exact reference (the
 *              original computed exactly), on the model's output block;
 *   E unconv.  the same for the original run in the same format: the MLP
 *              (blog constructions, neuron-head, mlp-layer) or the network
 *              with explicit masks (mask-encoding, attention-only-encoded);
 *   D          the float output's distance to the same network run exactly.
 * Each row asserts (parameter asserts) either the float rule, E <= 2 E
 * unconv. + grid floor (within: the encoded constructions at Omega_req, the
 * Omega at which Theorem 9's certified bound falls below the format's
 * rounding level u S, and the explicit-mask ones), or its certified
 * negation (beyond: the blog constructions where the rounding of 2 Omega +
 * z loses z).  The old grid check (the run is a computation in its format)
 * is a column.  The tables are measurements over whatever rows ran. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "arith_claim.h"
#include "fpnet.h"
#include "maskenc.h"
#include "model_svtr.h"
#include "omega_util.h"
#include "xalloc.h"

enum { MUT_NONE, MUT_CONVERTED_WEIGHT, MUT_CONVERTED_QUERY };

/* The constructions: the claim that builds each, its fixed parameters, and
 * how its unconverted model and output block are found. */
typedef enum { BASE_MLP, BASE_MASKED, BASE_NONE } base_kind_t;
typedef struct {
    const char *id;
    const char *fixed[6][2];   /* name, value; the swept one (omega or a) is added */
    const char *swept;         /* "omega", "a", or NULL */
    base_kind_t base;
    int extra_last;            /* the blog stream: the extra token is the last row */
    const char *column;        /* the E column plots draw */
    const char *column64;      /* the same in binary64 */
    /* a real model: its own tokens (no fresh ones), E on the real rows'
     * first net.d columns, built by build (NULL: the claim's export) */
    int real_model;
    int (*build)(instance_t *I, const params_t *p, unsigned long seed, mpfr_prec_t prec);
} construction_t;

static const construction_t constructions[] = {
    {"mask-encoding", {{"family", "random"}, {"N", "8"}, {"mask", "causal"}, {"tau", "1"},
                       {"scale", "1"}, {NULL, NULL}}, "omega", BASE_MASKED, 0,
     "E mask-encoding", "E binary64 mask-encoding", 0, NULL},
    {"attention-only-encoded", {{"shape", "2x3x3"}, {"heads", "2"}, {"d_head", "2"},
                                {"blocks", "2"}, {"a", "1"}, {NULL, NULL}}, "omega",
     BASE_MASKED, 0, "E attention-only-encoded", "E binary64 attention-only-encoded", 0, NULL},
    {"blog-one-layer", {{"shape", "3x12x4"}, {NULL, NULL}}, "omega", BASE_MLP, 1,
     "E blog-one-layer", "E binary64 blog-one-layer", 0, NULL},
    {"blog-three-layer", {{"shape", "3x12x4"}, {NULL, NULL}}, "omega", BASE_MLP, 1,
     "E blog-three-layer", "E binary64 blog-three-layer", 0, NULL},
    {"neuron-head", {{"shape", "4x6"}, {NULL, NULL}}, "a", BASE_MLP, 0, "E neuron-head",
     "E binary64 neuron-head", 0, NULL},
    {"mlp-layer", {{"shape", "4x8x5"}, {NULL, NULL}}, "a", BASE_MLP, 0, "E mlp-layer",
     "E binary64 mlp-layer", 0, NULL},
};
#define N_CONSTRUCTIONS (long)(sizeof constructions / sizeof constructions[0])

/* The SVTR encoder converted with explicit masks, on its first 4 real tokens
 * (the encoded one is model-svtr-encoded's export on as many): every format
 * costs a run of 249 heads per block, emulated operation by operation. */
#define SVTR_TOKENS 4
static int svtr_explicit(instance_t *I, const params_t *p, unsigned long seed, mpfr_prec_t prec)
{
    return svtr_export(I, p, seed, prec, SVTR_TOKENS, NULL);
}

static const construction_t svtr_constructions[] = {
    {"model-svtr", {{NULL, NULL}}, NULL, BASE_NONE, 0, "E model-svtr",
     "E binary64 model-svtr", 1, svtr_explicit},
    {"model-svtr-encoded", {{"tokens", "4"}, {NULL, NULL}}, "omega", BASE_MASKED, 0,
     "E model-svtr-encoded", "E binary64 model-svtr-encoded", 1, NULL},
};
#define N_SVTR (long)(sizeof svtr_constructions / sizeof svtr_constructions[0])

#define FF_OMEGAS "1,2,4,8,16,32,64,128,256,512,1000,2000"
#define FF_SLOPES "0.5,1,1.702,8,64"
#define FF_FORMATS "binary32,bfloat16,binary16"
#define FF_FORMATS_16 "bfloat16,binary16"

static const construction_t *construction_find(const char *id)
{
    for (long k = 0; id && k < N_CONSTRUCTIONS; k++)
        if (strcmp(constructions[k].id, id) == 0)
            return constructions + k;
    for (long k = 0; id && k < N_SVTR; k++)
        if (strcmp(svtr_constructions[k].id, id) == 0)
            return svtr_constructions + k;
    return NULL;
}

static const imat_struct *instance_mat(const instance_t *I, const char *name)
{
    for (int k = 0; k < I->n; k++)
        if (strcmp(I->name[k], name) == 0)
            return I->mat[k];
    return NULL;
}

/* The output block: real tokens, the model's own columns. */
typedef struct {
    long row0, rows, cols;
} out_block_t;

/* E of the unconverted model in o's format against I's reference, on b. */
static int base_error(arb_t E, const instance_t *I, const construction_t *k, const arb_t a,
                      const fpnet_opts_t *o, const out_block_t *b, mpfr_prec_t prec)
{
    const fpf_format_t *f = o->ar.fmt;
    fpf_mat_t Y;
    imat_t Yx, R;
    arb_t Eabs;
    int rc;
    imat_init(Yx, 0, 0);
    if (k->base == BASE_MASKED) {
        long Dm = I->net_masked.D;
        if (I->net_masked.n_layers == 0 || Dm <= 0)
            return -1;
        imat_t in;
        imat_init(in, I->net_in->rows, Dm);
        for (long i = 0; i < in->rows; i++)
            for (long j = 0; j < Dm; j++)
                arb_set(imat_entry(in, i, j), imat_entry(I->net_in, i, j));
        fpnet_opts_t ob = *o;
        ob.omega_col = -1; /* explicit masks: no Omega terms */
        rc = fpnet_apply(Y, &I->net_masked, in, &ob, NULL);
        imat_clear(in);
        if (rc != 0)
            return rc;
        fpnet_mat_exact(Yx, Y);
        fpf_mat_clear(Y);
    } else {
        const imat_struct *X = instance_mat(I, "X");
        const imat_struct *Win = instance_mat(I, "W_in"), *Wout = instance_mat(I, "W_out");
        if (!Win) { /* neuron-head: one neuron, w and u */
            Win = instance_mat(I, "w");
            Wout = instance_mat(I, "u");
        }
        if (!X || !Win || !Wout)
            return -1;
        fpf_mat_t Xf, Z;
        fpf_mlp_t m;
        if (fpf_mlp_init(m, Win->rows, Win->cols, f) != 0)
            return -1;
        fpf_mat_clear(m->W_in);
        fpf_mat_clear(m->W_out);
        rc = fpnet_mat_round(m->W_in, Win, f) | fpnet_mat_round(m->W_out, Wout, f) |
             fpnet_mat_round(Xf, X, f);
        m->act = FPF_ACT_SILU_A;
        mpfr_t am;
        mpfr_init2(am, prec);
        arf_get_mpfr(am, arb_midref(a), MPFR_RNDN);
        if (!arb_is_exact(a)) {
            /* a must round to one f value: both ends of its ball */
            mpfr_t lo, hi, t;
            mpfr_init2(lo, prec);
            mpfr_init2(hi, prec);
            fpf_init(t, f);
            arb_get_interval_mpfr(lo, hi, a);
            fpf_set_fr(m->a, lo, f);
            fpf_set_fr(t, hi, f);
            rc |= !mpfr_equal_p(m->a, t);
            mpfr_clear(lo);
            mpfr_clear(hi);
            mpfr_clear(t);
        } else {
            fpf_set_fr(m->a, am, f);
        }
        mpfr_clear(am);
        if (fpf_mat_init(Z, X->rows, X->cols, f) != 0)
            rc = -1;
        if (rc == 0)
            rc = fpf_mlp_apply(Z, m, Xf, &o->ar);
        if (rc == 0)
            fpf_mat_add(Z, Z, Xf); /* the residual */
        /* the real rows sit in the stream at b->row0 */
        imat_t Zx;
        imat_init(Zx, 0, 0);
        if (rc == 0) {
            fpnet_mat_exact(Zx, Z);
            imat_reinit(Yx, I->net_ref->rows, X->cols);
            for (long i = 0; i < X->rows; i++)
                for (long j = 0; j < X->cols; j++)
                    arb_set(imat_entry(Yx, b->row0 + i, j), imat_entry(Zx, i, j));
        }
        imat_clear(Zx);
        fpf_mat_clear(Z);
        fpf_mat_clear(Xf);
        fpf_mlp_clear(m);
        if (rc != 0) {
            imat_clear(Yx);
            return rc;
        }
    }
    imat_init(R, 0, 0);
    imat_reinit(R, I->net_ref->rows, b->cols);
    for (long i = 0; i < R->rows; i++)
        for (long j = 0; j < b->cols; j++)
            arb_set(imat_entry(R, i, j), imat_entry(I->net_ref, i, j));
    arb_init(Eabs);
    error_metric(E, Eabs, Yx, R, b->row0, b->rows, b->cols, prec);
    arb_clear(Eabs);
    imat_clear(R);
    imat_clear(Yx);
    return 0;
}

/* The construction's params for its own claim: the fixed ones and the row's
 * swept value; strings point into static data and the row's params. */
static void target_params(params_t *p, const construction_t *k, const row_t *r)
{
    p->n = 0;
    for (int j = 0; j < 6 && k->fixed[j][0]; j++) {
        p->name[p->n] = k->fixed[j][0];
        p->value[p->n++] = k->fixed[j][1];
    }
    if (k->swept) {
        p->name[p->n] = k->swept;
        p->value[p->n++] = params_get(&r->params, k->swept);
    }
}

/* Realistic activations: the real tokens' features drawn afresh as 53-bit
 * numbers in [-1, 1) (the claims' instances are 4-bit dyadics, on which
 * short sums are exact in binary32), written into the network's input (and
 * the MLP's X); the reference is then the unconverted model computed
 * exactly on them: X + SiLU_a(X W_in) W_out, or the network with explicit
 * masks (the original model in exact arithmetic). */
static void fresh_tokens(instance_t *I, const construction_t *k, const out_block_t *b,
                         long dfeat, const arb_t a, unsigned long seed, mpfr_prec_t prec)
{
    gmp_randstate_t st;
    thm_rand_init(st, seed, 100);
    mpfr_t u;
    mpfr_init2(u, 53);
    imat_t X;
    imat_init(X, b->rows, dfeat);
    for (long i = 0; i < b->rows; i++)
        for (long j = 0; j < dfeat; j++) {
            mpfr_urandomb(u, st);
            mpfr_mul_2ui(u, u, 1, MPFR_RNDN);
            mpfr_sub_ui(u, u, 1, MPFR_RNDN); /* exact: 53 bits */
            arf_set_mpfr(arb_midref(imat_entry(X, i, j)), u);
            arb_set(imat_entry(I->net_in, b->row0 + i, j), imat_entry(X, i, j));
        }
    mpfr_clear(u);
    gmp_randclear(st);
    if (k->base == BASE_MLP) {
        imat_struct *Xi = (imat_struct *)instance_mat(I, "X");
        const imat_struct *Win = instance_mat(I, "W_in"), *Wout = instance_mat(I, "W_out");
        if (!Win) {
            Win = instance_mat(I, "w");
            Wout = instance_mat(I, "u");
        }
        imat_set(Xi, X);
        imat_t Y;
        imat_init(Y, b->rows, dfeat);
        mlp_apply(Y, X, Win, Wout, ival_silu_a, a, prec);
        imat_add(Y, Y, X, prec);
        for (long i = 0; i < b->rows; i++)
            for (long j = 0; j < dfeat; j++)
                arb_set(imat_entry(I->net_ref, b->row0 + i, j), imat_entry(Y, i, j));
        imat_clear(Y);
    } else {
        long Dm = I->net_masked.D;
        imat_t Y;
        imat_init(Y, I->net_in->rows, Dm);
        for (long i = 0; i < Y->rows; i++)
            for (long j = 0; j < Dm; j++)
                arb_set(imat_entry(Y, i, j), imat_entry(I->net_in, i, j));
        aonet_apply(Y, &I->net_masked, prec);
        for (long i = 0; i < Y->rows; i++)
            for (long j = 0; j < Dm; j++)
                arb_set(imat_entry(I->net_ref, i, j), imat_entry(Y, i, j));
        imat_clear(Y);
    }
    imat_clear(X);
}

/* T (initialised, empty) = I's network with every mask encoded at omega
 * (maskenc.h), on [X | I_N], the reference likewise extended. */
static void encoded_twin(instance_t *T, const instance_t *I, const arb_t omega, mpfr_prec_t prec)
{
    long N = I->net_in->rows;
    aonet_clear(&T->net);
    aonet_init(&T->net, I->net.D + N, I->net.d, I->net.n_layers);
    for (long l = 0; l < I->net.n_layers; l++)
        maskenc_layer(T->net.layers + l, I->net.layers + l, N, omega, MASKENC_MUT_NONE, prec);
    maskenc_stream(T->net_in, I->net_in);
    maskenc_stream(T->net_ref, I->net_ref);
}

/* The row's question (parameter asserts): within, the float rule (the
 * converted network in F is as good as the original in F); beyond, its
 * certified negation (it is not).  NULL: an unknown value. */
typedef enum { ASSERT_WITHIN, ASSERT_BEYOND } asserts_t;
static int asserts_of(asserts_t *q, const row_t *r)
{
    const char *v = params_get(&r->params, "asserts");
    if (!v || strcmp(v, "within") == 0)
        *q = ASSERT_WITHIN;
    else if (strcmp(v, "beyond") == 0)
        *q = ASSERT_BEYOND;
    else
        return -1;
    return 0;
}

/* omega = "req" or "<m>req" (m > 0): m times the encoding's computed
 * threshold; *mult = m.  0 for a plain value. */
static int omega_is_req(const char *v, double *mult)
{
    size_t n = v ? strlen(v) : 0;
    if (n < 3 || strcmp(v + n - 3, "req") != 0)
        return 0;
    *mult = 1;
    if (n > 3) {
        char buf[32], *end;
        if (n - 3 >= sizeof buf)
            return -1;
        memcpy(buf, v, n - 3);
        buf[n - 3] = '\0';
        *mult = strtod(buf, &end);
        if (*end != '\0' || !(*mult > 0) || *mult > 1e6)
            return -1;
    }
    return 1;
}

/* I (initialised, empty) = the construction's instance for the row, the
 * swept Omega given as text om (NULL: the row's own value), with the real
 * tokens drawn afresh (not for a real model); b, dfeat its output block. */
static int build_instance(instance_t *I, const construction_t *k, const row_t *r,
                          const char *om, const arb_t a, out_block_t *b, long *dfeat)
{
    params_t tp;
    target_params(&tp, k, r);
    if (om)
        tp.value[tp.n - 1] = om; /* the swept value comes last */
    const claim_t *c = claim_find(k->id);
    if ((k->build ? k->build(I, &tp, r->seed, r->prec)
                  : c->export_instance(I, &tp, r->seed, r->prec)) != 0)
        return -1;
    long N = I->net_in->rows;
    if (k->real_model) {
        b->row0 = 1; /* the bias token first */
        b->rows = N - 1;
        b->cols = *dfeat = I->net.d;
    } else if (k->base == BASE_MLP) {
        const imat_struct *X = instance_mat(I, "X");
        b->row0 = k->extra_last ? 0 : 1;
        b->rows = X->rows;
        b->cols = *dfeat = X->cols;
    } else {
        b->row0 = 1; /* the bias token first */
        b->rows = N - 1;
        b->cols = I->net_masked.D;
        *dfeat = b->cols - 1;
    }
    if (!k->real_model)
        fresh_tokens(I, k, b, *dfeat, a, r->seed, r->prec);
    return 0;
}

/* The format's rounding level of the output: eps = u S, u = 2^-p the unit
 * roundoff of f, S the largest |entry| of the exact output block (rounded
 * down: a smaller eps only raises the Omega asked for). */
static double rounding_level(const instance_t *I, const out_block_t *b, const fpf_format_t *f)
{
    mpfr_t S;
    mpfr_init2(S, 64);
    scale_of(S, I->net_ref, b->row0, b->rows, b->cols);
    double eps = ldexp(mpfr_get_d(S, MPFR_RNDD), -(int)f->prec);
    mpfr_clear(S);
    return eps;
}

/* Omega_req: the smallest Omega (a multiple of 1/64) at which Theorem 9's
 * certified bound on the distance between the encoded network and I's
 * explicit-mask network on I's input (maskenc.h, the network bound, layer
 * by layer along the explicit-mask run) is <= eps; -1 when none below
 * 10^6.  The reference is that explicit-mask network computed exactly (or,
 * for the real model, the encoder it equals), so nothing is added. */
static double encoded_omega_req(const instance_t *I, double eps, mpfr_prec_t prec)
{
    const aonet_t *A = &I->net_masked;
    long N = I->net_in->rows, Dm = A->D;
    imat_t X;
    imat_init(X, N, Dm);
    for (long i = 0; i < N; i++)
        for (long j = 0; j < Dm; j++)
            arb_set(imat_entry(X, i, j), imat_entry(I->net_in, i, j));
    maskenc_bound_t *mb = maskenc_bound_new(N);
    for (long l = 0; l < A->n_layers; l++) {
        maskenc_bound_add_layer(mb, A->layers + l, X, prec);
        aonet_layer_apply(X, A->layers + l, prec);
    }
    if (A->ln_final.kind != AONET_LN_NONE)
        maskenc_bound_set_final(mb, &A->ln_final, X, prec);
    arb_t zero;
    arb_init(zero);
    double om = maskenc_omega_req(mb, zero, eps, prec);
    arb_clear(zero);
    maskenc_bound_free(mb);
    imat_clear(X);
    return om;
}

/* The rounding argument for the blog constructions (an estimate, used to
 * choose the rows asserted beyond): the self logit 2 Omega + z is rounded
 * to F's grid near 2 Omega, of spacing h = 2^(floor(log2 2 Omega) - p + 1),
 * so the pre-activation z survives only as a multiple of h; when h is at
 * least z's scale Z (the root mean square of x . W_in[:, h] over the real
 * tokens and neurons) it is lost.  Text "yes: h >= Z" / "no: h < Z". */
static void blog_rounding(char *buf, size_t n, const instance_t *I, double omega,
                          const fpf_format_t *f, mpfr_prec_t prec)
{
    const imat_struct *X = instance_mat(I, "X"), *Win = instance_mat(I, "W_in");
    double h = ldexp(1.0, ilogb(2 * omega) - (int)f->prec + 1), Z = 0;
    long cnt = 0;
    arb_t z, t;
    arb_init(z);
    arb_init(t);
    for (long i = 0; X && Win && i < X->rows; i++)
        for (long j = 0; j < Win->cols; j++) {
            arb_zero(z);
            for (long m = 0; m < X->cols; m++)
                arb_addmul(z, imat_entry(X, i, m), imat_entry(Win, m, j), prec);
            double zd = arf_get_d(arb_midref(z), ARF_RND_NEAR);
            Z += zd * zd;
            cnt++;
        }
    arb_clear(z);
    arb_clear(t);
    Z = cnt > 0 ? sqrt(Z / (double)cnt) : 0;
    snprintf(buf, n, "%s: spacing %.3g %s z scale %.3g", h >= Z ? "yes" : "no", h,
             h >= Z ? ">=" : "<", Z);
}

/* The within rows' broken twins: the converted network's first head
 * group's W_O (query: W_Q) negated, so the group writes minus its output
 * (every logit flips sign).  Exact.  The float twins' milder breaks (W_O
 * scaled by 5/4, W_Q halved) can sit below a 16-bit format's own error:
 * a quarter of one group's output in bfloat16, or a SiLU_a head's slope
 * moved from 64 to 32. */
static void break_converted(aonet_t *A, int query)
{
    for (long l = 0; l < A->n_layers; l++)
        if (A->layers[l].n_groups > 0) {
            imat_struct *W = query ? A->layers[l].groups[0].W_Q : A->layers[l].groups[0].W_O;
            for (long k = 0; k < W->rows * W->cols; k++)
                arb_neg(W->e + k, W->e + k);
            return;
        }
}

static int run(row_t *r)
{
    const construction_t *k = construction_find(params_get(&r->params, "construction"));
    const fpf_format_t *f = fpf_format_find(params_get(&r->params, "format"));
    asserts_t q;
    if (!k || (k->swept && !params_get(&r->params, k->swept))) {
        snprintf(r->note, sizeof r->note, "construction: mask-encoding, attention-only-encoded, "
                 "blog-one-layer, blog-three-layer, neuron-head or mlp-layer (with a)");
        return -1;
    }
    if (!f || f == &fpf_binary64) {
        snprintf(r->note, sizeof r->note, "format must be binary32, bfloat16 or binary16 "
                 "(binary64 runs alongside in every row)");
        return -1;
    }
    if (asserts_of(&q, r) != 0) {
        snprintf(r->note, sizeof r->note, "asserts must be within (the float rule) or beyond "
                 "(its certified negation)");
        return -1;
    }
    int swept_omega = k->swept && k->swept[0] == 'o', encoded = swept_omega && k->base == BASE_MASKED;
    double mult = 1;
    int req = swept_omega ? omega_is_req(params_get(&r->params, "omega"), &mult) : 0;
    if (req < 0 || (req && !encoded)) {
        snprintf(r->note, sizeof r->note, "omega=<m>req (m > 0: m times the computed threshold) "
                 "is for the encoded constructions (mask-encoding, attention-only-encoded, "
                 "model-svtr-encoded)");
        return -1;
    }
    arb_t a, omega;
    arb_init(a);
    arb_init(omega);
    arb_one(a);
    int explicit = k->swept && k->swept[0] == 'a';
    if ((explicit && thm_get_slope(a, r) != 0) ||
        (!req && params_get(&r->params, "omega") && omega_get(omega, r) != 0)) {
        arb_clear(a);
        arb_clear(omega);
        return -1;
    }
    instance_t I, T;
    instance_init(&I);
    instance_init(&T);
    out_block_t b;
    long dfeat;
    char omtext[48];
    double om_req = -1;
    int rc = build_instance(&I, k, r, req ? "1" : NULL, a, &b, &dfeat);
    if (rc == 0 && encoded) {
        /* the threshold: the encoding's certified bound below F's rounding level */
        om_req = encoded_omega_req(&I, rounding_level(&I, &b, f), r->prec);
        if (req) {
            double om = mult * om_req;
            if (om_req < 0 || om > 100000) {
                snprintf(r->note, sizeof r->note, "%s in %s: the computed Omega (%g times "
                         "Omega_req = %g) is not in [0, 100000]", k->id, f->name, mult, om_req);
                rc = -2;
            } else {
                snprintf(omtext, sizeof omtext, "%.17g", om);
                arb_set_str(omega, omtext, r->prec);
                instance_clear(&I);
                instance_init(&I);
                rc = build_instance(&I, k, r, omtext, a, &b, &dfeat);
            }
        }
    }
    if (rc != 0) {
        if (rc == -1)
            snprintf(r->note, sizeof r->note, "%s: %.120s", k->id, I.note);
        instance_clear(&I);
        instance_clear(&T);
        arb_clear(a);
        arb_clear(omega);
        return -1;
    }
    /* the Omega terms live in the position columns, after the model's own */
    long pos0 = explicit || k->base == BASE_NONE ? I.net_in->cols
              : k->extra_last ? b.cols : I.net_masked.D;
    if (explicit)
        encoded_twin(&T, &I, omega, r->prec);

    fpnet_opts_t o = {.ar = {.fmt = f, .acc = f, .order = FPF_SUM_SEQUENTIAL}, .omega_col = -1};
    /* The broken twins.  Asserted within: the converted network broken
     * (W_O scaled by 5/4, or W_Q halved).  Asserted beyond: the converted
     * network's rounding defect removed (its Omega terms added exactly after
     * the rest of each logit is rounded: the pre-activation kept), or the
     * comparison inverted (the original against 2 E_conv + floor). */
    int invert = q == ASSERT_BEYOND && r->mutation == MUT_CONVERTED_QUERY;
    fpnet_opts_t oc = o;
    if (q == ASSERT_BEYOND && r->mutation == MUT_CONVERTED_WEIGHT)
        oc.omega_col = pos0;
    if (q == ASSERT_WITHIN && r->mutation != MUT_NONE) {
        break_converted(&I.net, r->mutation == MUT_CONVERTED_QUERY);
        if (explicit)
            break_converted(&T.net, r->mutation == MUT_CONVERTED_QUERY);
    }
    fpnet_opts_t o64 = {.ar = {.fmt = &fpf_binary64, .acc = &fpf_binary64,
                               .order = FPF_SUM_SEQUENTIAL}, .omega_col = -1};
    fpnet_measure_t m, m64, mt;
    fpnet_measure_init(&m);
    fpnet_measure_init(&m64);
    fpnet_measure_init(&mt);
    arb_t Eb, Eb64;
    arb_init(Eb);
    arb_init(Eb64);
    /* binary64 alongside, once per construction and parameter: in the binary32 row */
    int with64 = f == &fpf_binary32;
    rc = fpnet_measure(&m, &I, &oc, f, b.row0, b.rows, b.cols, r->prec);
    if (rc == 0 && with64)
        rc = fpnet_measure(&m64, &I, &o64, &fpf_binary64, b.row0, b.rows, b.cols, r->prec);
    if (rc == 0 && k->base != BASE_NONE)
        rc = base_error(Eb, &I, k, a, &o, &b, r->prec);
    if (rc == 0 && k->base != BASE_NONE && with64)
        rc = base_error(Eb64, &I, k, a, &o64, &b, r->prec);
    if (rc == 0 && explicit)
        rc = fpnet_measure(&mt, &T, &o, f, b.row0, b.rows, b.cols, r->prec);
    if (rc < 0) {
        snprintf(r->note, sizeof r->note, "%s: the network could not be run in %s", k->id,
                 f->name);
    } else if (rc > 0) {
        /* a weight that does not round to one format value at this precision */
        arb_indeterminate(r->error);
        arb_indeterminate(r->bound);
        r->has_bound = 1;
        rc = 0;
    } else {
        m.off_grid += mt.off_grid; /* the encoded twin's run is held to the grid too */
        /* the float rule: E <= 2 E_orig + the grid floor of the exact output */
        arb_t fl, Eo;
        arb_init(fl);
        arb_init(Eo);
        fpnet_grid_floor(fl, I.net_ref, b.row0, b.rows, b.cols, f, r->prec);
        arb_set(Eo, k->base != BASE_NONE ? Eb : fl);
        arb_set(r->error, invert ? Eo : m.E_ref);
        arb_set(r->error_abs, m.E_ref_abs);
        arb_mul_2exp_si(r->bound, invert ? m.E_ref : Eo, 1);
        arb_add(r->bound, r->bound, fl, r->prec);
        r->has_bound = 1;
        /* beyond: the negation, E > 2 E_orig + floor, judged as a floor */
        r->bound_is_floor = q == ASSERT_BEYOND;
        arb_set(row_add_ival(r, "grid floor"), fl);
        arb_clear(fl);
        arb_clear(Eo);
        /* the old check, a column: the run is a computation in its format */
        verdict_t fc = m.off_grid > 0 ? VERDICT_VIOLATED : verdict_floor(m.D, m.floor);
        row_add_text(r, "float computation", "%s",
                     fc == VERDICT_HOLDS ? "yes" : fc == VERDICT_VIOLATED ? "NO" : "unresolved");
        row_add_long(r, "off-grid values", m.off_grid);
        arb_set(row_add_ival(r, k->column), m.E_ref);
        if (k->base != BASE_NONE)
            arb_set(row_add_ival(r, "E unconverted"), Eb);
        if (with64)
            arb_set(row_add_ival(r, k->column64), m64.E_ref);
        if (k->base != BASE_NONE && with64)
            arb_set(row_add_ival(r, "E unconverted binary64"), Eb64);
        arb_set(row_add_ival(r, "E exact construction"), m.E_exact);
        if (explicit)
            arb_set(row_add_ival(r, "E encoded twin"), mt.E_ref);
        /* E / (u S): u = 2^-p the unit roundoff, S the largest reference entry */
        mpfr_t S;
        mpfr_init2(S, 64);
        scale_of(S, I.net_ref, b.row0, b.rows, b.cols);
        arb_ptr qs = row_add_ival(r, "E / (u S)");
        arf_set_mpfr(arb_midref(qs), S);
        mag_zero(arb_radref(qs));
        arb_div(qs, m.E_ref, qs, r->prec);
        arb_mul_2exp_si(qs, qs, (slong)f->prec);
        mpfr_clear(S);
        if (swept_omega) {
            arb_set(row_add_ival(r, "Omega"), omega);
            fpnet_omega_columns(r, f); /* the format's Omega range, next to the Omega used */
        }
        if (encoded) {
            if (om_req < 0)
                row_add_text(r, "Omega_req(u S)", "none below 10^6");
            else
                row_add_text(r, "Omega_req(u S)", "%.6f", om_req); /* a multiple of 1/64 */
        }
        if (swept_omega && k->base == BASE_MLP) {
            char t[96];
            blog_rounding(t, sizeof t, &I, arf_get_d(arb_midref(omega), ARF_RND_NEAR), f,
                          r->prec);
            row_add_text(r, "rounding loses z", "%s", t);
        }
    }
    arb_clear(Eb);
    arb_clear(Eb64);
    fpnet_measure_clear(&m);
    fpnet_measure_clear(&m64);
    fpnet_measure_clear(&mt);
    instance_clear(&I);
    instance_clear(&T);
    arb_clear(a);
    arb_clear(omega);
    return rc;
}

/* ---- the table ---- */

static const char *const table_formats[] = {"binary64", "binary32", "bfloat16", "binary16"};

/* hi (or lo) of a row's column as text, 3 digits ("-" when absent). */
static void col_text(char *buf, size_t n, const row_t *r, const char *name, int hi)
{
    const column_t *c = row_find_column(r, name);
    if (!c || !c->is_ival || !arb_is_finite(c->iv)) {
        snprintf(buf, n, "-");
        return;
    }
    mpfr_t v;
    mpfr_init2(v, 64);
    if (hi)
        ival_get_hi(v, c->iv);
    else
        ival_get_lo(v, c->iv);
    mpfr_snprintf(buf, n, "%.3Rg", v);
    mpfr_clear(v);
}

/* lo(x) > hi(y) for two columns of a row: certainly larger. */
static int col_gt(const row_t *r, const char *x, const char *y)
{
    const column_t *a = row_find_column(r, x), *b = row_find_column(r, y);
    return a && b && a->is_ival && b->is_ival && ival_gt(a->iv, b->iv);
}

/* The row's swept value: the Omega it ran at (column Omega: a computed
 * Omega has no number in its parameters), or its slope a. */
static double swept_value(const row_t *r, const construction_t *k)
{
    const column_t *c = row_find_column(r, "Omega");
    if (k->swept && k->swept[0] == 'o' && c && c->is_ival)
        return arf_get_d(arb_midref(c->iv), ARF_RND_NEAR);
    return params_get_double(&r->params, k->swept, 0);
}

/* The rows of one construction in one format, sorted by the swept value
 * (binary64: the binary32 rows, whose binary64 columns are read). */
static long select_rows(const row_t **out, const row_t *rows, long n_rows,
                        const construction_t *k, const char *fmt, unsigned long seed)
{
    const char *want = strcmp(fmt, "binary64") == 0 ? "binary32" : fmt;
    long m = 0;
    for (long i = 0; i < n_rows; i++) {
        const char *c = params_get(&rows[i].params, "construction");
        const char *f = params_get(&rows[i].params, "format");
        if (c && f && strcmp(c, k->id) == 0 && strcmp(f, want) == 0 &&
            rows[i].seed == seed && row_find_column(rows + i, k->column))
            out[m++] = rows + i;
    }
    for (long a = 1; a < m; a++)
        for (long b = a; b > 0 && swept_value(out[b - 1], k) > swept_value(out[b], k); b--) {
            const row_t *t = out[b];
            out[b] = out[b - 1];
            out[b - 1] = t;
        }
    return m;
}

/* A row's answer to the float rule, whatever it asserts: 1 certainly
 * within 2x (hi(E) <= lo(2 E_orig + floor)), -1 certainly not, 0 unresolved. */
static int within_2x(const row_t *r)
{
    if (!r->has_bound)
        return 0;
    verdict_t v = verdict_bound(r->error, r->bound);
    return v == VERDICT_HOLDS ? 1 : v == VERDICT_VIOLATED ? -1 : 0;
}

/* Append "w1, w2, ..." (the Omegas of sel whose answer is want) or "-". */
static void omega_list(char *buf, size_t n, const row_t **sel, long m, const construction_t *k,
                       int want)
{
    size_t len = 0;
    buf[0] = '\0';
    for (long i = 0; i < m && len + 24 < n; i++)
        if (within_2x(sel[i]) == want)
            len += (size_t)snprintf(buf + len, n - len, "%s%g", len ? ", " : "",
                                    swept_value(sel[i], k));
    if (len == 0)
        snprintf(buf, n, "-");
}

static char *summary_md(const row_t *rows, long n_rows)
{
    char *s = NULL;
    size_t len = 0;
    const row_t **sel = xmallocarray((size_t)n_rows + 1, sizeof *sel);
    char b1[48], b2[48], b3[48], b4[48], l1[512], l2[512], l3[512];
    /* one instance per construction: the smallest seed of the grid */
    unsigned long seed = n_rows > 0 ? rows[0].seed : 1;
    for (long i = 1; i < n_rows; i++)
        if (rows[i].seed < seed)
            seed = rows[i].seed;
    omega_strcat(&s, &len, "\n## Which Omega keeps each construction within 2x of the "
                 "original, per format\n\n"
                 "Seed %lu (the grid's smallest; the rows table has every seed), from the rows "
                 "that ran, whatever each asserts: **within** where certified hi(E) <= lo(2 "
                 "E_orig + floor), **not within** where certified lo(E) > hi(2 E_orig + floor). "
                 "Omega_req(u S) is the computed threshold of the encoded constructions (the "
                 "Omega at which Theorem 9's certified bound falls below u S).  A survey over "
                 "Omega: `sweep float-formats --set asserts=within --set omega=1,2,4,...`.\n\n"
                 "| construction | format | within 2x at Omega | not within at Omega | "
                 "unresolved at Omega | Omega_req(u S) |\n|---|---|---|---|---|---|\n",
                 seed);
    for (long c = 0; c < N_CONSTRUCTIONS; c++) {
        const construction_t *k = constructions + c;
        if (k->swept[0] != 'o')
            continue;
        for (int fi = 1; fi < 4; fi++) {
            long m = select_rows(sel, rows, n_rows, k, table_formats[fi], seed);
            if (m == 0)
                continue;
            omega_list(l1, sizeof l1, sel, m, k, 1);
            omega_list(l2, sizeof l2, sel, m, k, -1);
            omega_list(l3, sizeof l3, sel, m, k, 0);
            const column_t *rq = row_find_column(sel[0], "Omega_req(u S)");
            omega_strcat(&s, &len, "| %s | %s | %s | %s | %s | %s |\n", k->id,
                         table_formats[fi], l1, l2, l3, rq ? rq->str : "-");
        }
    }
    omega_strcat(&s, &len, "\nExplicit masks (no Omega), over the slopes a of the grid: the "
                 "largest hi(E), the unconverted SiLU_a MLP's, and hi(E / (u S)) with u = 2^-p "
                 "the format's unit roundoff and S the largest reference entry.\n\n"
                 "| construction | format | largest E | largest E unconverted | largest E / (u S) "
                 "| largest E encoded twin |\n|---|---|---|---|---|---|\n");
    for (long c = 0; c < N_CONSTRUCTIONS; c++) {
        const construction_t *k = constructions + c;
        if (k->swept[0] != 'a')
            continue;
        for (int fi = 1; fi < 4; fi++) {
            long m = select_rows(sel, rows, n_rows, k, table_formats[fi], seed);
            if (m == 0)
                continue;
            const char *cols[4] = {k->column, "E unconverted", "E / (u S)", "E encoded twin"};
            char *out[4] = {b1, b2, b3, b4};
            for (int j = 0; j < 4; j++) {
                mpfr_t v, w;
                mpfr_init2(v, 64);
                mpfr_init2(w, 64);
                mpfr_set_zero(v, 1);
                for (long i = 0; i < m; i++) {
                    const column_t *x = row_find_column(sel[i], cols[j]);
                    if (x && x->is_ival) {
                        ival_get_hi(w, x->iv);
                        mpfr_max(v, v, w, MPFR_RNDU);
                    }
                }
                mpfr_snprintf(out[j], sizeof b1, "%.3Rg", v);
                mpfr_clear(v);
                mpfr_clear(w);
            }
            omega_strcat(&s, &len, "| %s | %s | %s | %s | %s | %s |\n", k->id,
                         table_formats[fi], b1, b2, b3, b4);
        }
    }
    /* the explicit-mask MLP layer against the format's unit roundoff */
    {
        const construction_t *ml = construction_find("mlp-layer");
        for (int fi = 1; fi < 4; fi++) {
            long m = select_rows(sel, rows, n_rows, ml, table_formats[fi], seed), within = 0;
            arb_t four;
            arb_init(four);
            arb_set_ui(four, 4);
            for (long i = 0; i < m; i++) {
                const column_t *q = row_find_column(sel[i], "E / (u S)");
                within += q && q->is_ival && ival_le(q->iv, four);
            }
            arb_clear(four);
            if (m > 0)
                omega_strcat(&s, &len, "%smlp-layer (explicit masks) in %s: E <= 4 u S on %ld "
                             "of %ld rows (certified upper ends; u = 2^-%ld).\n",
                             fi == 1 ? "\n" : "", table_formats[fi], within, m,
                             (long)fpf_format_find(table_formats[fi])->prec);
        }
    }
    /* the author's Omega in the 16-bit formats */
    const construction_t *one = construction_find("blog-one-layer");
    for (int fi = 2; fi < 4; fi++) {
        long m = select_rows(sel, rows, n_rows, one, table_formats[fi], seed);
        for (long i = 0; i < m; i++)
            if (strcmp(params_get(&sel[i]->params, "omega"), "1000") == 0) {
                col_text(b1, sizeof b1, sel[i], one->column, 0);
                col_text(b2, sizeof b2, sel[i], one->column, 1);
                col_text(b3, sizeof b3, sel[i], "E unconverted", 1);
                omega_strcat(&s, &len, "%sblog-one-layer at the author's Omega = 1000 in %s: E "
                             "in [%s, %s] against %s for the unconverted MLP: %s.\n",
                             fi == 2 ? "\n" : "\n", table_formats[fi], b1, b2, b3,
                             col_gt(sel[i], one->column, "E unconverted")
                                 ? "**broken** (certified: lo(E) > hi(E unconverted))"
                                 : "not certainly worse than the unconverted MLP");
            }
    }
    free(sel);
    return s;
}

static mpfr_prec_t start_prec(const params_t *p)
{
    (void)p;
    return 128; /* floats need few bits; Omega = 2000 sits in Arb's exponents */
}

const claim_t claim_float_formats = {
    .id = "float-formats",
    .source = "float formats (measured)",
    .kind = KIND_INEQUALITY,
    .provenance = "measured here",
    .statement = "Run in binary32, bfloat16 and binary16: the Theorem-9 encoded constructions "
                 "at Omega at or above a computed threshold, and the explicit-mask ones, are as "
                 "good as the original in the same format (E <= 2 E_orig + grid floor); the "
                 "blog constructions at the author's Omega = 1000 in bfloat16 and binary16 are "
                 "not (E > 2 E_orig + grid floor).",
    .formula = "Network as data (each claim's export), run in the emulated format (fpnet.h: "
               "inputs and weights rounded once, every operation rounded to nearest, sums "
               "sequential in the same format, softmax shifted by the row maximum, correctly "
               "rounded exp).\n"
               "Column `E <construction>` (the row's E, E_conv) = max over the model's output "
               "rows of ‖Y_float,i − Y_ref,i‖₂ (certified; Y_ref the original computed exactly "
               "on the row's tokens); E unconverted (E_orig) the same for the original run in "
               "the format: the MLP fl(X + SiLU_a(X W_in) W_out) for the blog constructions, "
               "neuron-head and mlp-layer, the network with explicit masks for mask-encoding "
               "and attention-only-encoded; floor (column `grid floor`) the distance from the "
               "exact output to the format's grid (no format-valued output is closer).\n"
               "Each row asserts one of two things (parameter `asserts`):\n"
               "- `within` (the float rule): is the converted network in the format as good as "
               "the original in the same format?  **Holds** when E ≤ 2·E_orig + floor, "
               "**violated** when lo(E) > hi(2·E_orig + floor).  Asserted for the encoded "
               "constructions at `omega=req` (or `<m>req`, m times it): Omega_req(u S), the "
               "smallest Omega (a multiple of 1/64) at which Theorem 9's certified bound on "
               "the encoded network's distance to the explicit-mask network (maskenc.h, the "
               "network bound, layer by layer on the row's tokens) is at most ε = u·S, u = "
               "2^-p the format's unit roundoff and S the largest |entry| of the exact output "
               "(column `Omega_req(u S)`): the encoding's error below the format's rounding "
               "level of the output.  And for neuron-head and mlp-layer (explicit masks, over "
               "the slopes a; they also run their Theorem-9 encoded twin at the row's Omega, "
               "column E encoded twin, not judged).\n"
               "- `beyond` (its certified negation): is the converted network certainly worse "
               "than twice the original in the format?  **Holds** when lo(E) ≥ hi(2·E_orig + "
               "floor), **violated** when hi(E) < lo(2·E_orig + floor).  Asserted for the "
               "blog constructions where the rounding argument predicts it (column `rounding "
               "loses z`, an estimate that only chooses the rows): their self logit 2Ω + z is "
               "rounded to the format's grid near 2Ω, of spacing h = 2^(⌊log₂ 2Ω⌋ − p + 1), so "
               "the pre-activation z survives only as a multiple of h; predicted when h ≥ Z, "
               "the root mean square of z over the real tokens and neurons.  In bfloat16 (p = "
               "8) that is Omega ≥ 64, in binary16 (p = 11) Omega ≥ 512 for Z < 1, in "
               "binary32 Omega ≥ 2^22 (beyond the Omega this claim takes).\n"
               "Kept as columns, not judged: `float computation`, D (the float output against "
               "the same network run exactly) at least that network's grid floor and every "
               "logit and output a format value (off-grid values).",
    .notes = "Certified for the sequential order and this model of the hardware (fpformat.h): "
             "real kernels (vectorised exp, blocked or split-K sums) differ (the torch "
             "cross-check in tests/check_fpnet.c compares, as an estimate).  The tokens are "
             "drawn afresh per row as 53-bit numbers in [-1, 1) (the claims' own are 4-bit "
             "dyadics, on which short sums are exact in binary32); the weights are the "
             "claims' 4-bit dyadics.  Not asserted, so not in the grids: the encoded "
             "constructions below Omega_req (the mask not encoded yet) and the blog "
             "constructions where the rounding argument does not decide (small Omega, and "
             "binary32 at every Omega this claim takes); `sweep float-formats --set "
             "asserts=within --set omega=...` asks the float rule anywhere, and its violated "
             "rows are that answer.  A run that silently computes in binary64, or adds the "
             "Omega terms after rounding, breaks the `float computation` column (tested in "
             "tests/check_fpnet.c), not the float rule: such a run is better, not worse.",
    .quick = {{"within", {{"construction", "mask-encoding,attention-only-encoded"},
                          {"format", FF_FORMATS}, {"omega", "req"}, {"asserts", "within"},
                          {NULL, NULL}}},
              {"beyond", {{"construction", "blog-one-layer,blog-three-layer"},
                          {"format", FF_FORMATS_16}, {"omega", "1000"}, {"asserts", "beyond"},
                          {NULL, NULL}}},
              {"slope", {{"construction", "neuron-head,mlp-layer"}, {"format", FF_FORMATS},
                         {"a", FF_SLOPES}, {"omega", "64"}, {"asserts", "within"},
                         {NULL, NULL}}},
              {NULL, {{NULL, NULL}}}},
    .full = {{"within", {{"construction", "mask-encoding,attention-only-encoded"},
                         {"format", FF_FORMATS}, {"omega", "req,2req,8req,64req"},
                         {"asserts", "within"}, {"seed", "1,2,3"}, {NULL, NULL}}},
             {"beyond", {{"construction", "blog-one-layer,blog-three-layer"},
                         {"format", FF_FORMATS_16}, {"omega", "1000,2000,4000"},
                         {"asserts", "beyond"}, {"seed", "1,2,3"}, {NULL, NULL}}},
             {"slope", {{"construction", "neuron-head,mlp-layer"}, {"format", FF_FORMATS},
                        {"a", FF_SLOPES}, {"omega", "64,1000"}, {"asserts", "within"},
                        {"seed", "1,2,3"}, {NULL, NULL}}},
             {NULL, {{NULL, NULL}}}},
    .mutations = {{"converted-weight", "rows asserting within: the converted network's first "
                                       "head group's W_O negated; rows asserting beyond: the "
                                       "converted network's Omega terms added exactly after "
                                       "the rest of each logit is rounded (z kept)"},
                  {"converted-query", "rows asserting within: the converted network's first "
                                      "head group's W_Q negated; rows asserting beyond: the "
                                      "comparison inverted (E_orig against 2 E + floor)"},
                  {NULL, NULL}},
    .plots = {{.x = "construction", .y = "ratio", .series = "format", .logy = 1, .extra_y = "1",
               .title = "E / (2 E_orig + grid floor), max per construction and format "
                        "(within: below 1; beyond: above)"},
              {.x = "omega", .y = "E mask-encoding", .series = "format", .logx = 1, .logy = 1,
               .extra_y = "E binary64 mask-encoding", .mark_x = "min",
               .title = "mask-encoding: E against Omega per format (dashed: binary64)"},
              {.x = "omega", .y = "E attention-only-encoded", .series = "format", .logx = 1,
               .logy = 1, .extra_y = "E binary64 attention-only-encoded", .mark_x = "min",
               .title = "attention-only-encoded: E against Omega (dashed: binary64)"},
              {.x = "omega", .y = "E blog-one-layer", .series = "format", .logx = 1, .logy = 1,
               .extra_y = "E binary64 blog-one-layer", .mark_x = "min",
               .title = "blog-one-layer: E against Omega (dashed: binary64)"},
              {.x = "omega", .y = "E blog-three-layer", .series = "format", .logx = 1,
               .logy = 1, .extra_y = "E binary64 blog-three-layer", .mark_x = "min",
               .title = "blog-three-layer: E against Omega (dashed: binary64)"}},
    .run = run,
    .start_prec = start_prec,
    .summary_md = summary_md,
};

/* The real model: every row, and its binary64 twin once per construction and Omega. */
static char *summary_svtr(const row_t *rows, long n_rows)
{
    char *s = NULL;
    size_t len = 0;
    char e[48], u[48], q[48], e64[48];
    omega_strcat(&s, &len, "\n## The real model in float formats\n\n"
                 "PP-OCRv4's SVTR encoder converted (src/convert.h) on its first 4 real "
                 "tokens: hi(E) against the exact encoder output on the real tokens' 120 "
                 "features (after ln_final), and for the encoded network the same network "
                 "with explicit masks run in the same format.\n\n"
                 "| construction | format | Omega | E | E binary64 | E explicit masks | "
                 "E / (u S) |\n|---|---|---|---|---|---|---|\n");
    for (long i = 0; i < n_rows; i++) {
        const row_t *r = rows + i;
        const construction_t *k = construction_find(params_get(&r->params, "construction"));
        if (!k || !row_find_column(r, k->column))
            continue;
        col_text(e, sizeof e, r, k->column, 1);
        col_text(e64, sizeof e64, r, k->column64, 1);
        col_text(u, sizeof u, r, "E unconverted", 1);
        col_text(q, sizeof q, r, "E / (u S)", 1);
        const char *om = params_get(&r->params, "omega");
        omega_strcat(&s, &len, "| %s | %s | %s | %s | %s | %s | %s |\n", k->id,
                     params_get(&r->params, "format"), om ? om : "-", e, e64, u, q);
    }
    return s;
}

const claim_t claim_float_formats_svtr = {
    .id = "float-formats-svtr",
    .source = "float formats (measured)",
    .kind = KIND_INEQUALITY,
    .provenance = "measured here; real model",
    .statement = "PP-OCRv4's SVTR encoder with its masks encoded at Omega at or above the "
                 "computed threshold, run in binary32, bfloat16 and binary16: as good as the "
                 "same converted encoder with explicit masks in the same format.",
    .formula = "As float-formats, on the converted encoder of model-svtr-encoded (one-hot "
               "positions and Omega) on the first 4 real tokens, asserting `within` at "
               "`omega=req`: Omega_req(u S), the smallest Omega at which Theorem 9's network "
               "bound (maskenc.h) on the encoded network's distance to the explicit-mask one "
               "is at most u S (u = 2^-p, S the largest |output entry|).  Column `E "
               "<construction>` = max over the real tokens of ‖Y_float,i − encoder(X)_i‖₂ on "
               "the 120 features; E_orig (column E unconverted) is the explicit-mask network "
               "run in the same format.  Judged per row by the float rule of float-formats.",
    .notes = "Certified on this input and for the sequential order and this model of the "
             "hardware (fpformat.h).  The explicit-mask encoder (construction model-svtr) "
             "is not in the grid: the original model (LN, GELU MLPs, biases) is not run in "
             "the formats here, so its rows would compare with the grid floor alone; the "
             "converted model against the original in the same format is `attncheck model "
             "FILE --arith FORMAT`.  `sweep float-formats-svtr --set "
             "construction=model-svtr` still runs it (E_orig = the grid floor).",
    .quick = {{"svtr-omega", {{"construction", "model-svtr-encoded"}, {"format", FF_FORMATS},
                              {"omega", "req"}, {"asserts", "within"}, {NULL, NULL}}},
              {NULL, {{NULL, NULL}}}},
    .full = {{"svtr-omega", {{"construction", "model-svtr-encoded"}, {"format", FF_FORMATS},
                             {"omega", "req,4req"}, {"asserts", "within"}, {NULL, NULL}}},
             {NULL, {{NULL, NULL}}}},
    .mutations = {{"converted-weight", "the converted network's first head group's W_O "
                                       "negated"},
                  {"converted-query", "the converted network's first head group's W_Q negated"},
                  {NULL, NULL}},
    .run = run,
    .start_prec = start_prec,
    .summary_md = summary_svtr,
    .available = svtr_available,
};
