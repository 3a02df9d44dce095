/* The float-format twin of a claim (arith_claim.h). */
#include <stdlib.h>
#include <string.h>
#include "arith_claim.h"
#include "fpnet.h"
#include "xalloc.h"

enum { MUT_NONE, MUT_CONVERTED_WEIGHT, MUT_CONVERTED_QUERY };

/* The first head group's W_O times 5/4 (or W_Q halved). */
static void break_layer(aonet_layer_t *L, int query, mpfr_prec_t prec)
{
    imat_struct *W = query ? L->groups[0].W_Q : L->groups[0].W_O;
    for (long k = 0; k < W->rows * W->cols; k++) {
        if (!query)
            arb_mul_ui(W->e + k, W->e + k, 5, prec);
        arb_mul_2exp_si(W->e + k, W->e + k, query ? -1 : -2);
    }
}

/* The float rule's broken twins: the first layer's first head group's W_O
 * scaled by 5/4 (converted-weight), or its W_Q halved (query: the
 * converted-query mutation; exact on dyadic weights): the network no
 * longer computes the original. */
static void arith_break_network(aonet_t *A, int query, mpfr_prec_t prec)
{
    for (long l = 0; l < A->n_layers; l++)
        if (A->layers[l].n_groups > 0) {
            break_layer(A->layers + l, query, prec);
            return;
        }
}

/* A network handed over by a source, broken as arith_break_network breaks
 * a held one: the first layer with a head group is copied and broken on
 * its way to the sink. */
typedef struct {
    void *ctx;                 /* the source it replaces */
    int (*net)(void *ctx, const aonet_sink_t *sink, char *err, size_t errsz);
    int (*orig)(void *ctx, const onet_sink_t *sink, char *err, size_t errsz);
    int query, broken;
    mpfr_prec_t prec;
    const aonet_sink_t *to;
} broken_source_t;

static int broken_layer(void *ctx, long k, const aonet_layer_t *L, char *err, size_t errsz)
{
    broken_source_t *b = ctx;
    if (b->broken || L->n_groups == 0)
        return b->to->layer(b->to->ctx, k, L, err, errsz);
    aonet_layer_t C;
    aonet_layer_copy(&C, L);
    break_layer(&C, b->query, b->prec);
    b->broken = 1;
    int rc = b->to->layer(b->to->ctx, k, &C, err, errsz);
    aonet_layer_clear(&C);
    return rc;
}

static int broken_final(void *ctx, const aonet_ln_t *ln, char *err, size_t errsz)
{
    broken_source_t *b = ctx;
    return b->to->final_ln(b->to->ctx, ln, err, errsz);
}

static int broken_net(void *ctx, const aonet_sink_t *sink, char *err, size_t errsz)
{
    broken_source_t *b = ctx;
    b->to = sink;
    b->broken = 0;
    aonet_sink_t via = {b, broken_layer, broken_final};
    return b->net(b->ctx, &via, err, errsz);
}

static int broken_orig(void *ctx, const onet_sink_t *sink, char *err, size_t errsz)
{
    broken_source_t *b = ctx;
    return b->orig(b->ctx, sink, err, errsz);
}

/* I's network broken (arith_break_network), held or handed over by its
 * source (then through b, which must outlive I's use). */
static void break_instance(instance_t *I, broken_source_t *b, int query, mpfr_prec_t prec)
{
    if (!I->source.net) {
        arith_break_network(&I->net, query, prec);
        return;
    }
    *b = (broken_source_t){.ctx = I->source.ctx, .net = I->source.net,
                           .orig = I->source.orig, .query = query, .prec = prec};
    I->source.ctx = b;
    I->source.net = broken_net;
    I->source.orig = b->orig ? broken_orig : NULL;
}

/* Realistic tokens: the original's input drawn afresh from the row's seed
 * as 53-bit numbers in [-1, 1) (the claims' own tokens are few-bit
 * dyadics, on which short sums are exact in binary32 and the original's
 * float error is artificially small), written where the original's input
 * sits in the network's input (rows from orig_row0, columns [0, orig.D));
 * the reference's block is then the original computed exactly on them.
 * 1 when done; 0 when the network's input does not hold the original's
 * input there (left as it is); -1 when the original cannot be computed. */
static int fresh_tokens(instance_t *I, unsigned long seed, mpfr_prec_t prec)
{
    imat_struct *X = I->orig_in;
    long n = X->rows, d = X->cols, r0 = I->orig_row0;
    if (d != I->orig.D || r0 < 0 || r0 + n > I->net_in->rows || d > I->net_in->cols ||
        r0 + n > I->net_ref->rows || d > I->net_ref->cols)
        return 0;
    for (long i = 0; i < n; i++)
        for (long j = 0; j < d; j++)
            if (!arb_equal(imat_entry(X, i, j), imat_entry(I->net_in, r0 + i, j)))
                return 0;
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, seed * 1000003UL + 101);
    mpfr_t u;
    mpfr_init2(u, 53);
    for (long i = 0; i < n; i++)
        for (long j = 0; j < d; j++) {
            mpfr_urandomb(u, st);
            mpfr_mul_2ui(u, u, 1, MPFR_RNDN);
            mpfr_sub_ui(u, u, 1, MPFR_RNDN); /* exact: 53 bits */
            arf_set_mpfr(arb_midref(imat_entry(X, i, j)), u);
            mag_zero(arb_radref(imat_entry(X, i, j)));
            arb_set(imat_entry(I->net_in, r0 + i, j), imat_entry(X, i, j));
        }
    mpfr_clear(u);
    gmp_randclear(st);
    imat_t Y;
    imat_init(Y, n, d);
    imat_set(Y, X);
    int rc = onet_apply(Y, &I->orig, prec);
    for (long i = 0; rc == 0 && i < n; i++)
        for (long j = 0; j < d; j++)
            arb_set(imat_entry(I->net_ref, r0 + i, j), imat_entry(Y, i, j));
    imat_clear(Y);
    return rc == 0 ? 1 : -1;
}

/* Y (initialised) = the exact values of the original run in o's format:
 * I's original (onet) on its input, or the explicit-mask network on the
 * first net_masked.D columns of the input.  0, 1 (more bits), -1. */
static int original_in_format(imat_t Yx, const instance_t *I, const fpnet_opts_t *o,
                              char *err, size_t errsz)
{
    fpf_mat_t Y;
    int rc;
    if (instance_has_orig(I)) {
        rc = fpnet_orig_apply(Y, I, &o->ar, err, errsz);
    } else {
        long Dm = I->net_masked.D;
        imat_t in;
        imat_init(in, I->net_in->rows, Dm);
        for (long i = 0; i < in->rows; i++)
            for (long j = 0; j < Dm; j++)
                arb_set(imat_entry(in, i, j), imat_entry(I->net_in, i, j));
        rc = fpnet_apply(Y, &I->net_masked, in, o, NULL);
        imat_clear(in);
    }
    if (rc != 0)
        return rc;
    fpnet_mat_exact(Yx, Y);
    fpf_mat_clear(Y);
    return 0;
}

/* R (initialised) = rows [row0, row0 + rows), columns [0, cols) of A. */
static void block_of(imat_t R, const imat_t A, long row0, long rows, long cols)
{
    imat_reinit(R, rows, cols);
    for (long i = 0; i < rows; i++)
        for (long j = 0; j < cols; j++)
            arb_set(imat_entry(R, i, j), imat_entry(A, row0 + i, j));
}

/* A row left for more bits: nothing certified (the runner raises the precision). */
static void row_unresolved(row_t *r)
{
    arb_indeterminate(r->error);
    arb_indeterminate(r->bound);
    r->has_bound = 1;
}

/* p with the base claim's run-time data: the base's callbacks read their
 * own ctx (a model claim's file), not the twin's. */
static params_t base_params(const params_t *p)
{
    const arith_claim_t *w = p->ctx;
    params_t q = *p;
    q.ctx = w->base->ctx;
    return q;
}

static mpfr_prec_t arith_start_prec(const params_t *p)
{
    params_t q = base_params(p);
    return ((const arith_claim_t *)p->ctx)->base->start_prec(&q);
}

static double arith_estimate_bytes(const params_t *p, mpfr_prec_t prec)
{
    params_t q = base_params(p);
    return ((const arith_claim_t *)p->ctx)->base->estimate_bytes(&q, prec);
}

/* The instance a float row runs: the base claim's, with fresh tokens where
 * it has an original whose tokens are not given as they are (a model's
 * are).  *fresh: 1 when the tokens were drawn afresh.  0, or -1 with
 * I->note. */
static int twin_instance(instance_t *I, int *fresh, const params_t *p, unsigned long seed,
                         mpfr_prec_t prec, int for_export)
{
    const claim_t *base = ((const arith_claim_t *)p->ctx)->base;
    params_t bp = base_params(p);
    *fresh = 0;
    int (*build)(instance_t *, const params_t *, unsigned long, mpfr_prec_t) =
        base->run_instance && !for_export ? base->run_instance : base->export_instance;
    if (build(I, &bp, seed, prec) != 0 || !instance_has_net(I)) {
        char why[sizeof I->note];
        memcpy(why, I->note, sizeof why);
        snprintf(I->note, sizeof I->note, "%s builds no network for these parameters%s%.100s",
                 base->id, why[0] ? ": " : "", why);
        return -1;
    }
    *fresh = I->orig.n_stages > 0 && !I->orig_tokens_given ? fresh_tokens(I, seed, prec) : 0;
    if (*fresh < 0) {
        snprintf(I->note, sizeof I->note, "%s: the original computation could not be run "
                 "(activation '%s')", base->id, I->orig.act);
        return -1;
    }
    return 0;
}

static int twin_export_instance(instance_t *I, const params_t *p, unsigned long seed,
                                mpfr_prec_t prec)
{
    int fresh;
    return twin_instance(I, &fresh, p, seed, prec, 1);
}

static int arith_run(row_t *r)
{
    const arith_claim_t *w = r->ctx;
    const claim_t *base = w->base;
    mpfr_prec_t prec = r->prec;
    instance_t I;
    instance_init(&I);
    int fresh;
    if (twin_instance(&I, &fresh, &r->params, r->seed, prec, 0) != 0) {
        snprintf(r->note, sizeof r->note, "%.150s", I.note);
        instance_clear(&I);
        return -1;
    }
    broken_source_t broken;
    if (r->mutation != MUT_NONE)
        break_instance(&I, &broken, r->mutation == MUT_CONVERTED_QUERY, prec);
    long N = I.net_in->rows, row0 = 0, rows = N, cols = I.net_in->cols;
    int has_orig = instance_has_orig(&I), masked = !has_orig && I.net_masked.n_layers > 0;
    if (has_orig) {
        row0 = I.orig_row0;
        rows = I.orig_in->rows;
        cols = I.orig.D;
    } else if (masked) {
        cols = I.net_masked.D;
    }
    fpnet_opts_t o = {.ar = w->ar, .omega_col = -1};
    const fpf_format_t *f = w->ar.fmt;
    fpnet_measure_t m;
    fpnet_measure_init(&m);
    arb_t floor_ref, E_orig, E_abs;
    arb_init(floor_ref);
    arb_init(E_orig);
    arb_init(E_abs);
    imat_t Yo, R;
    imat_init(Yo, 0, 0);
    imat_init(R, 0, 0);
    int rc = fpnet_measure(&m, &I, &o, f, row0, rows, cols, prec);
    fpnet_grid_floor(floor_ref, I.net_ref, row0, rows, cols, f, prec);
    if (rc == 0 && (has_orig || masked))
        rc = original_in_format(Yo, &I, &o, m.note, sizeof m.note);
    if (rc == -2) {
        snprintf(r->note, sizeof r->note, "%.40s: %.110s", base->id, m.note);
        rc = -1;
    } else if (rc < 0) {
        snprintf(r->note, sizeof r->note, "%s: the network or its original could not be run in "
                 "%s (an unknown activation, or a mask row that allows no key)", base->id,
                 f->name);
    } else if (rc > 0) {
        row_unresolved(r); /* a weight that does not round to one value at this precision */
        rc = 0;
    } else {
        if (has_orig) {
            block_of(R, I.net_ref, row0, rows, cols);
            error_metric(E_orig, E_abs, Yo, R, 0, rows, cols, prec);
        } else if (masked) {
            error_metric(E_orig, E_abs, Yo, I.net_ref, row0, rows, cols, prec);
        } else {
            arb_set(E_orig, floor_ref); /* no original: the best an F-valued output does */
        }
        arb_set(r->error, m.E_ref);
        arb_set(r->error_abs, m.E_ref_abs);
        arb_mul_2exp_si(r->bound, E_orig, 1);
        arb_add(r->bound, r->bound, floor_ref, prec);
        r->has_bound = 1;
        arb_set(row_add_ival(r, "E original in F"), E_orig);
        arb_set(row_add_ival(r, "grid floor"), floor_ref);
        row_add_text(r, "tokens", "%s", fresh ? "fresh, 53 bits"
                                        : I.orig_tokens_given ? "given" : "the claim's");
        row_add_text(r, "original", "%s",
                     has_orig ? (I.orig.what[0] ? I.orig.what : "given")
                     : masked ? "the network with explicit masks"
                              : "none: E_orig = grid floor");
        /* the old check, as columns: the run is a computation in the format */
        arb_set(row_add_ival(r, "D vs exact network"), m.D);
        verdict_t fc = m.off_grid > 0 ? VERDICT_VIOLATED : verdict_floor(m.D, m.floor);
        row_add_text(r, "float computation", "%s",
                     fc == VERDICT_HOLDS ? "yes" : fc == VERDICT_VIOLATED ? "NO" : "unresolved");
        row_add_long(r, "off-grid values", m.off_grid);
        arb_set(row_add_ival(r, "E exact network vs reference"), m.E_exact);
        fpnet_ln_column(r, &m);
    }
    row_add_text(r, "arith", "%s, accumulate %s, %s", f->name, w->ar.acc->name,
                 fpf_order_name(w->ar.order));
    arb_clear(floor_ref);
    arb_clear(E_orig);
    arb_clear(E_abs);
    imat_clear(Yo);
    imat_clear(R);
    fpnet_measure_clear(&m);
    instance_clear(&I);
    return rc;
}

static const char *const rule_text =
    "Each row builds the network of `%s` for the row's parameters (its export) and runs it in "
    "%s, sums accumulated in %s, %s order (fpnet.h), beside the original computation it stands "
    "for, run in the same format with the same rounding model and order (column `original`: "
    "the unconverted MLP or transformer blocks; for a claim with explicit-mask and encoded "
    "networks, the network with explicit masks; for a claim with neither, E_orig is the grid "
    "floor, the best any %s-valued output does).\n"
    "The question a row answers: **is the converted network in %s as good as the original "
    "computation in %s?**  E = E_conv, the converted network's float output against the exact "
    "reference (the exact original output), max over the original's output rows of the "
    "Euclidean distance on its columns; E_orig (column `E original in F`) the same for the "
    "original in %s; floor (column `grid floor`) the distance from the exact output to the "
    "%s grid (fpnet_grid_floor).  **Holds** when E_conv ≤ 2·E_orig + floor (the bound), "
    "**violated** when lo(E_conv) > hi(2·E_orig + floor), else inconclusive.\n"
    "Kept as columns, not judged: D, the float output against the same network run exactly, "
    "and `float computation` (D at least the grid floor of the exact network's output and no "
    "off-grid value: the run is a computation in the format).";

const char *arith_claim_catalogue_md(void)
{
    return "## --arith FORMAT — the float twin of any claim that builds a network (inequality; "
           "provenance: float rule, measured here)\n\n"
           "`sweep CLAIM --arith FORMAT [--accumulate same|binary32] [--order ...]` runs the "
           "claim `CLAIM.FORMAT` (reports `CLAIM.FORMAT.md`, ...): the same grid, each row the "
           "claim's network (its export) run in the emulated format beside the **original "
           "computation** it stands for, run in the same format with the same rounding model "
           "and summation order (fpnet.h): the unconverted MLP X + SiLU_a(X W_in) W_out "
           "(mlp-layer, neuron-head, blog-one-layer, blog-three-layer), the transformer's "
           "causal heads and SiLU_a MLPs (attention-only, attention-only-encoded), the network "
           "with explicit masks (mask-encoding, model-svtr-encoded); a claim with neither "
           "(linear-head, activation-head, model-svtr) takes E_orig = the grid floor, the best "
           "any format-valued output does.  `model FILE --arith FORMAT` is the same twin of "
           "the model claim: one row, the converted network against the model's own blocks "
           "and final LN on the tokens as given (doc/model-verdicts.md).  Where the claim has an original, its tokens are "
           "drawn afresh from the row's seed as 53-bit numbers in [-1, 1) and the reference "
           "is the original computed exactly on them (the claims' own few-bit tokens make "
           "short sums exact in binary32).\n\n"
           "The question a row answers: **is the converted network in format F as good as "
           "the original computation in F?**  E_conv = the converted network's float output "
           "against the exact original output (max over the original's output rows of the "
           "Euclidean distance), E_orig the same for the original in F, floor = the distance "
           "from the exact output to F's grid (fpnet_grid_floor).  **Holds** iff E_conv ≤ "
           "2·E_orig + floor; **violated** iff lo(E_conv) > hi(2·E_orig + floor); else "
           "inconclusive.  Kept as columns, not judged: D (the float output against the same "
           "network run exactly) and `float computation` (D at least that output's grid "
           "floor, no off-grid value: the run is a computation in F).\n\n"
           "Mutations: `converted-weight` (the converted network's first head group's W_O "
           "scaled by 5/4); `converted-query` (its W_Q halved).\n\n";
}

static char *arith_summary(const row_t *rows, long n_rows)
{
    const arith_claim_t *w = n_rows > 0 ? rows[0].ctx : NULL;
    if (!w)
        return NULL;
    size_t n = 1024;
    char *s = xmalloc(n);
    snprintf(s, n, "\n## Float run (--arith)\n\nEvery row ran the network of %s and its "
             "original in %s, sums accumulated in %s, %s order: %s.  A row holds when the "
             "converted network's error is at most twice the original's plus the grid floor.\n",
             w->base->id, w->ar.fmt->name, w->ar.acc->name, fpf_order_name(w->ar.order),
             fpnet_certifies());
    return s;
}

int arith_claim_make(arith_claim_t *w, const claim_t *base, const fpf_arith_t *ar, char *err,
                     size_t errsz)
{
    if (!base->export_instance) {
        snprintf(err, errsz, "--arith: claim '%s' builds no network to run", base->id);
        return -1;
    }
    memset(w, 0, sizeof *w);
    w->base = base;
    w->ar = *ar;
    const char *fmt = ar->fmt->name, *acc = ar->acc->name, *order = fpf_order_name(ar->order);
    snprintf(w->id, sizeof w->id, "%s.%s%s%s%s%s", base->id, fmt, ar->acc != ar->fmt ? ".acc-" : "",
             ar->acc != ar->fmt ? acc : "", ar->order != FPF_SUM_SEQUENTIAL ? "." : "",
             ar->order != FPF_SUM_SEQUENTIAL ? order : "");
    snprintf(w->source, sizeof w->source, "%s in %s", base->source, fmt);
    snprintf(w->statement, sizeof w->statement, "The network of %s run in %s is as good as the "
             "original computation run in %s: E_conv <= 2 E_orig + the grid floor.", base->id,
             fmt, fmt);
    snprintf(w->formula, sizeof w->formula, rule_text, base->id, fmt, acc, order, fmt, fmt, fmt,
             fmt, fmt);
    snprintf(w->notes, sizeof w->notes, "%s.  The base claim's own check (%s) is not run: its "
             "rows are in its own report.", fpnet_certifies(), base->id);
    claim_t *c = &w->claim;
    c->id = w->id;
    c->source = w->source;
    c->kind = KIND_INEQUALITY;
    c->provenance = "float rule (measured here)";
    c->statement = w->statement;
    c->formula = w->formula;
    c->notes = w->notes;
    memcpy(c->quick, base->quick, sizeof c->quick);
    memcpy(c->full, base->full, sizeof c->full);
    c->mutations[0][0] = "converted-weight";
    c->mutations[0][1] = "the converted network's first head group's W_O scaled by 5/4";
    c->mutations[1][0] = "converted-query";
    c->mutations[1][1] = "the converted network's first head group's W_Q halved";
    if (base->plots[0].x) {
        snprintf(w->plot_title, sizeof w->plot_title, "E of the network in %s against %s "
                 "(dashed: 2 E_orig + grid floor)", fmt, base->plots[0].x);
        c->plots[0] = (plot_t){.x = base->plots[0].x, .y = "error",
                               .series = base->plots[0].series, .logx = base->plots[0].logx,
                               .logy = 1, .extra_y = "bound", .title = w->plot_title};
    }
    c->run = arith_run;
    c->start_prec = base->start_prec ? arith_start_prec : NULL;
    c->export_instance = twin_export_instance; /* what a float row runs: fresh tokens */
    c->summary_md = arith_summary;
    c->estimate_bytes = base->estimate_bytes ? arith_estimate_bytes : NULL;
    c->available = base->available;
    c->ctx = w;
    c->base = base;
    return 0;
}
