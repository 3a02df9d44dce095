/* float-formats (issue 10): what the constructions cost in the number
 * formats models run in.  Each row takes a construction's network as data
 * (the claim's export_instance), runs it in an emulated format (fpnet.h:
 * binary32, bfloat16 or binary16, and binary64 alongside) and measures, as
 * certified enclosures:
 *   E          the float output's distance to the exact reference (the
 *              unconverted model computed exactly), on the model's output
 *              block (real tokens, the model's own columns);
 *   E unconv.  the same for the unconverted model run in the same format:
 *              the MLP (blog constructions, neuron-head, mlp-layer:
 *              fl(X + SiLU_a(X W_in) W_out), fpmat.h) or the network with
 *              explicit masks (mask-encoding: the masked head;
 *              attention-only-encoded: the masked attention-only stack of
 *              Theorem 6, equal to the original transformer in exact
 *              arithmetic);
 *   D          the float output's distance to the same network run exactly.
 * The claim checked per row: the run is a computation in its format.  Its
 * output is a matrix of format values, so D is at least the distance from
 * the exact output to the format's grid (the floor, fpnet_grid_floor), and
 * every logit and output it produced is a format value (counted exactly).
 * A run that silently computes in binary64, or adds the Omega terms of the
 * logits after rounding, breaks one or the other.  The table and the plots
 * (E against Omega, the best Omega per format marked) are measurements. */
#include <math.h>
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

static int run(row_t *r)
{
    const construction_t *k = construction_find(params_get(&r->params, "construction"));
    const fpf_format_t *f = fpf_format_find(params_get(&r->params, "format"));
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
    const claim_t *c = claim_find(k->id);
    params_t tp;
    target_params(&tp, k, r);
    arb_t a, omega;
    arb_init(a);
    arb_init(omega);
    arb_one(a);
    int explicit = k->swept && k->swept[0] == 'a';
    if ((explicit && thm_get_slope(a, r) != 0) ||
        (params_get(&r->params, "omega") && omega_get(omega, r) != 0)) {
        arb_clear(a);
        arb_clear(omega);
        return -1;
    }
    instance_t I, T;
    instance_init(&I);
    instance_init(&T);
    if ((k->build ? k->build(&I, &tp, r->seed, r->prec)
                  : c->export_instance(&I, &tp, r->seed, r->prec)) != 0) {
        snprintf(r->note, sizeof r->note, "%s: %.120s", k->id, I.note);
        instance_clear(&I);
        instance_clear(&T);
        arb_clear(a);
        arb_clear(omega);
        return -1;
    }
    long N = I.net_in->rows, dfeat;
    out_block_t b;
    if (k->real_model) {
        b.row0 = 1; /* the bias token first */
        b.rows = N - 1;
        b.cols = dfeat = I.net.d;
    } else if (k->base == BASE_MLP) {
        const imat_struct *X = instance_mat(&I, "X");
        b.row0 = k->extra_last ? 0 : 1;
        b.rows = X->rows;
        b.cols = dfeat = X->cols;
    } else {
        b.row0 = 1; /* the bias token first */
        b.rows = N - 1;
        b.cols = I.net_masked.D;
        dfeat = b.cols - 1;
    }
    if (!k->real_model)
        fresh_tokens(&I, k, &b, dfeat, a, r->seed, r->prec);
    /* the Omega terms live in the position columns, after the model's own */
    long pos0 = explicit || k->base == BASE_NONE ? I.net_in->cols
              : k->extra_last ? b.cols : I.net_masked.D;
    if (explicit)
        encoded_twin(&T, &I, omega, r->prec);

    fpnet_opts_t o = {.ar = {.fmt = f, .acc = f, .order = FPF_SUM_SEQUENTIAL}, .omega_col = -1};
    (void)pos0;
    if (r->mutation != MUT_NONE) {
        arith_break_network(&I.net, r->mutation == MUT_CONVERTED_QUERY, r->prec);
        if (explicit)
            arith_break_network(&T.net, r->mutation == MUT_CONVERTED_QUERY, r->prec);
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
    int rc = fpnet_measure(&m, &I, &o, f, b.row0, b.rows, b.cols, r->prec);
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
        arb_t fl;
        arb_init(fl);
        fpnet_grid_floor(fl, I.net_ref, b.row0, b.rows, b.cols, f, r->prec);
        arb_set(r->error, m.E_ref);
        arb_set(r->error_abs, m.E_ref_abs);
        arb_mul_2exp_si(r->bound, k->base != BASE_NONE ? Eb : fl, 1);
        arb_add(r->bound, r->bound, fl, r->prec);
        r->has_bound = 1;
        arb_set(row_add_ival(r, "grid floor"), fl);
        arb_clear(fl);
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
        arb_ptr q = row_add_ival(r, "E / (u S)");
        arf_set_mpfr(arb_midref(q), S);
        mag_zero(arb_radref(q));
        arb_div(q, m.E_ref, q, r->prec);
        arb_mul_2exp_si(q, q, (slong)f->prec);
        mpfr_clear(S);
        if (params_get(&r->params, "omega"))
            fpnet_omega_columns(r, f); /* next to the Omega used */
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
        for (long b = a; b > 0 && params_get_double(&out[b - 1]->params, k->swept, 0) >
                                  params_get_double(&out[b]->params, k->swept, 0); b--) {
            const row_t *t = out[b];
            out[b] = out[b - 1];
            out[b - 1] = t;
        }
    return m;
}

static char *summary_md(const row_t *rows, long n_rows)
{
    char *s = NULL;
    size_t len = 0;
    const row_t **sel = xmallocarray((size_t)n_rows + 1, sizeof *sel);
    char b1[48], b2[48], b3[48], b4[48];
    /* one instance per construction: the smallest seed of the grid */
    unsigned long seed = n_rows > 0 ? rows[0].seed : 1;
    for (long i = 1; i < n_rows; i++)
        if (rows[i].seed < seed)
            seed = rows[i].seed;
    omega_strcat(&s, &len, "\n## The table: what each construction costs in each format\n\n"
                 "Seed %lu (the grid's smallest; the rows table has every seed).  "
                 "Certified upper ends hi(E), on the model's output block, against the exact "
                 "unconverted model; binary64 ran alongside each binary32 row.  **Breaks "
                 "beyond**: the smallest Omega from the best one on at which, and at every "
                 "larger Omega of the grid, the construction's error is certainly larger than "
                 "the unconverted model's in the same format (lo(E) > hi(E unconverted)).\n\n"
                 "| construction | format | smallest E | at Omega | E unconverted | breaks "
                 "beyond Omega | E at Omega = 1000 |\n|---|---|---|---|---|---|---|\n",
                 seed);
    for (long c = 0; c < N_CONSTRUCTIONS; c++) {
        const construction_t *k = constructions + c;
        if (k->swept[0] != 'o')
            continue;
        for (int fi = 0; fi < 4; fi++) {
            int b64 = fi == 0;
            const char *Ecol = b64 ? k->column64 : k->column;
            const char *Ucol = b64 ? "E unconverted binary64" : "E unconverted";
            long m = select_rows(sel, rows, n_rows, k, table_formats[fi], seed);
            if (m == 0)
                continue;
            long best = -1;
            for (long i = 0; i < m; i++)
                if (row_find_column(sel[i], Ecol) &&
                    1) {
                    const column_t *x = row_find_column(sel[i], Ecol);
                    const column_t *y = best >= 0 ? row_find_column(sel[best], Ecol) : NULL;
                    mpfr_t hx, hy;
                    mpfr_init2(hx, 64);
                    mpfr_init2(hy, 64);
                    ival_get_hi(hx, x->iv);
                    if (y)
                        ival_get_hi(hy, y->iv);
                    if (!y || mpfr_less_p(hx, hy))
                        best = i;
                    mpfr_clear(hx);
                    mpfr_clear(hy);
                }
            if (best < 0)
                continue;
            /* the trailing run of certainly broken Omegas, from the best one on */
            long brk = m;
            while (brk > best && col_gt(sel[brk - 1], Ecol, Ucol))
                brk--;
            col_text(b1, sizeof b1, sel[best], Ecol, 1);
            col_text(b2, sizeof b2, sel[best], Ucol, 1);
            const char *at1000 = "-";
            for (long i = 0; i < m; i++)
                if (strcmp(params_get(&sel[i]->params, "omega"), "1000") == 0) {
                    col_text(b3, sizeof b3, sel[i], Ecol, 1);
                    at1000 = b3;
                }
            if (brk == m)
                snprintf(b4, sizeof b4, "none up to %s", params_get(&sel[m - 1]->params, "omega"));
            else if (brk == best)
                snprintf(b4, sizeof b4, "%s (already at the best)",
                         params_get(&sel[brk]->params, "omega"));
            else
                snprintf(b4, sizeof b4, "%s", params_get(&sel[brk]->params, "omega"));
            omega_strcat(&s, &len, "| %s | %s | %s | %s | %s | %s | %s |\n", k->id,
                         table_formats[fi], b1, params_get(&sel[best]->params, "omega"), b2, b4,
                         at1000);
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
    .statement = "Each construction run in binary32, bfloat16 and binary16 (and binary64): "
                 "the converted network is as good as the unconverted model run in the same "
                 "format: E <= 2 E unconverted + the grid floor.",
    .formula = "Network as data (each claim's export), run in the emulated format (fpnet.h: "
               "inputs and weights rounded once, every operation rounded to nearest, sums "
               "sequential in the same format, softmax shifted by the row maximum, correctly "
               "rounded exp).\n"
               "Column `E <construction>` (the table's and the plots' E) = max over the "
               "model's output rows of ‖Y_float,i − Y_ref,i‖₂ (certified; Y_ref the "
               "unconverted model computed exactly on the row's tokens), E unconverted "
               "the same for the unconverted model run in the format: the MLP "
               "fl(X + SiLU_a(X W_in) W_out) for the blog constructions, neuron-head and "
               "mlp-layer, the network with explicit masks for mask-encoding and "
               "attention-only-encoded.  neuron-head and mlp-layer rows also run their "
               "Theorem-9 encoded twin at the row's Omega (E encoded twin).\n"
               "The float rule, per row: E (the row's E, = column `E <construction>`) **holds** "
               "when E ≤ 2·E unconverted + floor (the bound), floor (column `grid floor`) the "
               "distance from the exact output to the format's grid (no format-valued output "
               "is closer), and is **violated** when lo(E) > hi(2·E unconverted + floor): is "
               "the converted network in the format as good as the unconverted model in the "
               "same format?  The real model rows (no unconverted run here) take E "
               "unconverted = floor.\n"
               "Kept as columns, not judged: `float computation`, D (the float output against "
               "the same network run exactly) at least that network's grid floor and every "
               "logit and output a format value (off-grid values).",
    .notes = "Certified for the sequential order and this model of the hardware (fpformat.h): "
             "real kernels (vectorised exp, blocked or split-K sums) differ (the torch "
             "cross-check in tests/check_fpnet.c compares, as an estimate).  The tokens are "
             "drawn afresh per row as 53-bit numbers in [-1, 1) (the claims' own are 4-bit "
             "dyadics, on which short sums are exact in binary32); the weights are the "
             "claims' 4-bit dyadics.  A run that silently computes in binary64, or adds the "
             "Omega terms after rounding, breaks the `float computation` column (tested in "
             "tests/check_fpnet.c), not the float rule: such a run is better, not worse.",
    .quick = {{"omega", {{"construction", "mask-encoding,attention-only-encoded,blog-one-layer,"
                                          "blog-three-layer"},
                         {"format", FF_FORMATS}, {"omega", FF_OMEGAS}, {NULL, NULL}}},
              {"slope", {{"construction", "neuron-head,mlp-layer"}, {"format", FF_FORMATS},
                         {"a", FF_SLOPES}, {"omega", "64"}, {NULL, NULL}}},
              {NULL, {{NULL, NULL}}}},
    .full = {{"omega", {{"construction", "mask-encoding,attention-only-encoded,blog-one-layer,"
                                         "blog-three-layer"},
                        {"format", FF_FORMATS}, {"omega", "0.5," FF_OMEGAS ",4000"},
                        {"seed", "1,2,3"}, {NULL, NULL}}},
             {"slope", {{"construction", "neuron-head,mlp-layer"}, {"format", FF_FORMATS},
                        {"a", FF_SLOPES}, {"omega", "64,1000"}, {"seed", "1,2,3"},
                        {NULL, NULL}}},
             {NULL, {{NULL, NULL}}}},
    .mutations = {{"converted-weight", "the converted network's first head group's W_O scaled "
                                       "by 5/4"},
                  {"converted-query", "the converted network's first head group's W_Q halved"},
                  {NULL, NULL}},
    .plots = {{.x = "omega", .y = "E mask-encoding", .series = "format", .logx = 1, .logy = 1,
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
    .statement = "PP-OCRv4's SVTR encoder converted with explicit and with encoded masks, run "
                 "in binary32, bfloat16 and binary16 (and binary64): its certified error, and "
                 "the run certified to be a computation in its format.",
    .formula = "As float-formats, on the converted encoder of model-svtr (explicit masks) and "
               "model-svtr-encoded (one-hot positions and Omega) on the first 4 real tokens. "
               "Column `E <construction>` = max over the real tokens of ‖Y_float,i − "
               "encoder(X)_i‖₂ on the 120 features; the encoded network is compared with the "
               "explicit one run in the same format (column E unconverted).  Judged per row by "
               "the float rule of float-formats.",
    .notes = "Certified on this input and for the sequential order and this model of the "
             "hardware (fpformat.h).  The original model (LN, GELU MLPs, biases) is not run "
             "in the formats here: E unconverted is the grid floor (the float rule's "
             "value for a computation with no original run).",
    .quick = {{"svtr", {{"construction", "model-svtr"}, {"format", FF_FORMATS}, {NULL, NULL}}},
              {"svtr-omega", {{"construction", "model-svtr-encoded"}, {"format", FF_FORMATS},
                              {"omega", "1000"}, {NULL, NULL}}},
              {NULL, {{NULL, NULL}}}},
    .full = {{"svtr", {{"construction", "model-svtr"}, {"format", FF_FORMATS}, {NULL, NULL}}},
             {"svtr-omega", {{"construction", "model-svtr-encoded"}, {"format", FF_FORMATS},
                             {"omega", "16,64,256,1000"}, {NULL, NULL}}},
             {NULL, {{NULL, NULL}}}},
    .mutations = {{"converted-weight", "the converted network's first head group's W_O scaled "
                                       "by 5/4"},
                  {"converted-query", "the converted network's first head group's W_Q halved"},
                  {NULL, NULL}},
    .run = run,
    .start_prec = start_prec,
    .summary_md = summary_svtr,
    .available = svtr_available,
};
