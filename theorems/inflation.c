/* inflation (discussion of the blog posts; abstract: "greatly increasing the
 * number of heads").  From a model shape (d, l, H, L, n) compute the cost of
 * the attention-only conversion: heads per block H + l (l neuron heads of
 * internal dimension 1), L(H + l) in all, inflation (H + l)/H, and residual
 * widths of each construction, counted from the constructions as built in
 * this harness: explicit masks d + 1 (bias coordinate), encoded masks
 * (d + 1) + N (X' = [X^ | I_N], N = n + 1), the three-layer blog stream
 * d + l + (n + 1) (= 5d + N when l = 4d), the one-layer blog stream
 * d + (n + 1) = d + N.
 *
 * Quoted numbers (claims.md and the blog discussion it quotes) are
 * quotations, typed in as such; the computed numbers are computed.  A row
 * with quotations holds when every approximate quote ("~", "about") is within
 * 5% of the computed value and every exact quote equals it:
 * E = max over the row's quotes of |computed - quoted| / (0.05 quoted)
 * (an exact quote: 0 when equal, 1e9 otherwise), bound 1. */
#include <stdlib.h>
#include <string.h>
#include <glob.h>
#include <unistd.h>
#include "exchange.h"
#include "omega_util.h"
#include "tmodel.h"

typedef struct {
    const char *name;
    long d, l, H, L, n;
} shape_t;

/* Published hyperparameters (GPT-2 paper Table 2, n_ctx 1024; GPT-3 paper
 * Table 2.1, n_ctx 2048); d_mlp = 4 d_model in both. */
static const shape_t shapes[] = {
    {"gpt2-small", 768, 3072, 12, 12, 1024},
    {"gpt2-medium", 1024, 4096, 16, 24, 1024},
    {"gpt2-large", 1280, 5120, 20, 36, 1024},
    {"gpt2-xl", 1600, 6400, 25, 48, 1024},
    {"gpt3-175b", 12288, 49152, 96, 96, 2048},
};

enum { Q_HEADS, Q_INFL, Q_L_OVER_H };
typedef struct {
    const char *model;
    int quantity;
    long num, den;        /* the quoted value num/den */
    int approx;           /* "~" or "about": within 5% */
    const char *text;     /* the quotation */
} quote_t;

/* Quotations: the blog discussion's figures, and the reference figures
 * worked out from the shapes (3084, 257x, 512x), each compared with the
 * value computed here. */
static const quote_t quotes[] = {
    {"gpt2-small", Q_HEADS, 3084, 1, 0, "reference: \"3084 heads per block\""},
    {"gpt2-small", Q_INFL, 257, 1, 1, "reference: \"about 257x\""},
    {"gpt2-small", Q_HEADS, 3000, 1, 1, "blog discussion: \"12 heads -> ~3,000\""},
    {"gpt2-small", Q_INFL, 250, 1, 1, "blog discussion: \"~250x\""},
    {"gpt3-175b", Q_L_OVER_H, 512, 1, 0, "reference: \"49152/96 = 512x\" (that is l/H)"},
    {"gpt3-175b", Q_INFL, 500, 1, 1, "blog discussion: \"~500x\""},
};

static const char *qname[] = {"heads/block", "inflation (H+l)/H", "l/H"};
static const char *qshort[] = {"", "x", "x(l/H)"};

/* Real model files (`make models`): the exact floor after reductions and
 * the smallest certified k per block (exchange.h).  blocks: the blocks
 * run (NULL: all), a cap the row states. */
typedef struct {
    const char *name, *file, *input, *blocks;
} real_t;
static const real_t reals[] = {
    {"ppocrv4-svtr", "models/ppocrv4-svtr.safetensors", "models/ppocrv4-svtr-input.npy", NULL},
    {"gpt2-shaped", "models/gpt2-shaped.safetensors", "models/gpt2-shaped-input.npy", "0"},
    {"gelu-fixture", "models/gelu-modadd.safetensors", "models/gelu-modadd-input.npy", NULL},
};

/* The first file matching pattern (a fixed name matches itself when
 * readable) into buf; 0, or -1 when there is none. */
static int first_match(char *buf, size_t n, const char *pattern)
{
    glob_t g;
    int rc = glob(pattern, 0, NULL, &g);
    if (rc == 0 && g.gl_pathc > 0 && access(g.gl_pathv[0], R_OK) == 0 &&
        strlen(g.gl_pathv[0]) < n) {
        snprintf(buf, n, "%s", g.gl_pathv[0]);
        globfree(&g);
        return 0;
    }
    if (rc == 0)
        globfree(&g);
    return -1;
}

static const char *const col_floor = "exact floor/block (reduced)";
static const char *const col_k =
    "k for E <= 1e-3 S/block (MLP on tokens / MLP over every LN output / model on tokens)";

/* One real model's row: computed only (no quotation); "needs make models"
 * when its file is not there. */
static int run_real(row_t *r, const real_t *rm)
{
    char file[4096], input[4096];
    if (first_match(file, sizeof file, rm->file) != 0) {
        row_add_text(r, "shape d/l/H/L/n", "needs make models");
        row_add_text(r, col_floor, "needs make models");
        row_add_text(r, col_k, "needs make models");
        return 0;
    }
    exchange_spec_t spec = {.file = file,
                            .input = first_match(input, sizeof input, rm->input) == 0 ? input
                                                                                      : NULL,
                            .tokens = 32, .seed = 1, .blocks = rm->blocks, .prec = r->prec};
    exchange_t *x = NULL;
    char err[700];
    if (exchange_open(&x, &spec, err, sizeof err) != 0) {
        snprintf(r->note, sizeof r->note, "%.150s", err);
        return -1;
    }
    tmodel_t *m = NULL;
    if (tmodel_open(&m, file, err, sizeof err) != 0) {
        exchange_free(x);
        snprintf(r->note, sizeof r->note, "%.150s", err);
        return -1;
    }
    const tmodel_config_t *c = tmodel_config(m);
    long H = (long)c->n_heads, l = (long)c->d_mlp, L = (long)c->n_layers;
    row_add_text(r, "shape d/l/H/L/n", "%lld/%ld/%ld/%ld/-", (long long)c->d_model, l, H, L);
    row_add_long(r, "heads/block H+l", H + l);
    row_add_long(r, "total heads L(H+l)", L * (H + l));
    arb_ptr infl = row_add_ival(r, "inflation (H+l)/H");
    arb_set_si(infl, H + l);
    arb_div_si(infl, infl, H, r->prec);
    tmodel_close(m);
    char fl[128] = "", ks[160] = "", rt[160] = "";
    size_t fn = 0, kn = 0, rn = 0;
    for (long i = 0; i < exchange_n_blocks(x); i++) {
        long kd = 0, F = exchange_floor(x, i);
        long ke = -1;
        long k = exchange_threshold(x, i, r->prec, &kd, &ke);
        long lin = F - exchange_groups(x, i); /* the linear head: 0 or 1 */
        if (fn < sizeof fl)
            fn += (size_t)snprintf(fl + fn, sizeof fl - fn, "%s%ld", i ? ", " : "", F);
        char e2e[32] = "-";
        if (ke >= 0)
            snprintf(e2e, sizeof e2e, "%ld", ke + lin);
        if (kn < sizeof ks)
            kn += (size_t)snprintf(ks + kn, sizeof ks - kn, "%s%ld / %ld / %s", i ? ", " : "",
                                   k ? k + lin : 0, kd + lin, e2e);
        /* head counts are far below 2^53: exact as doubles */
        if (rn < sizeof rt)
            rn += (size_t)snprintf(rt + rn, sizeof rt - rn, "%s%.1fx", i ? ", " : "",
                                   (double)(H + (k ? k + lin : F)) / (double)H);
    }
    row_add_text(r, col_floor, "%s", fl);
    row_add_text(r, "blocks / tokens", "%s / %s", rm->blocks ? rm->blocks : "all",
                 spec.input ? spec.input : "32 drawn");
    row_add_text(r, col_k, "%s", ks);
    row_add_text(r, "measured rate (H+k)/H/block (tokens)", "%s", rt);
    exchange_free(x);
    return 0;
}

/* value rounded to k significant figures (for showing how a quote rounds) */
static double round_sig(double v, int k)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.*e", k - 1, v);
    return strtod(buf, NULL);
}

static int run(row_t *r)
{
    mpfr_prec_t prec = r->prec;
    const char *m = params_get(&r->params, "model");
    for (size_t k = 0; m && k < sizeof reals / sizeof reals[0]; k++)
        if (strcmp(m, reals[k].name) == 0)
            return run_real(r, reals + k);
    shape_t s = {m ? m : "", 0, 0, 0, 0, 0};
    int found = 0;
    for (size_t k = 0; m && k < sizeof shapes / sizeof shapes[0]; k++)
        if (strcmp(m, shapes[k].name) == 0) {
            s = shapes[k];
            found = 1;
        }
    if (!found) {
        long dims[5];
        if (!m || thm_parse_dims(dims, 5, m) != 5 || dims[0] > 1000000 || dims[1] > 1000000 ||
            dims[2] > 1000000 || dims[3] > 1000000 || dims[4] > 1000000) {
            snprintf(r->note, sizeof r->note,
                     "model='%s' must be a known name or d x l x H x L x n (each in [1, 1e6])",
                     m ? m : "");
            return -1;
        }
        s.d = dims[0], s.l = dims[1], s.H = dims[2], s.L = dims[3], s.n = dims[4];
    }
    long N = s.n + 1, per = s.H + s.l, total = s.L * per;
    row_add_text(r, "shape d/l/H/L/n", "%ld/%ld/%ld/%ld/%ld", s.d, s.l, s.H, s.L, s.n);
    row_add_long(r, "heads/block H+l", per);
    row_add_long(r, "total heads L(H+l)", total);
    arb_ptr infl = row_add_ival(r, "inflation (H+l)/H");
    arb_set_si(infl, per);
    arb_div_si(infl, infl, s.H, prec);
    arb_ptr lh = row_add_ival(r, "l/H");
    arb_set_si(lh, s.l);
    arb_div_si(lh, lh, s.H, prec);
    row_add_text(r, "widths masks/encoded/3-layer/1-layer", "%ld / %ld / %ld / %ld", s.d + 1,
                 s.d + 1 + N, s.d + s.l + N, s.d + N);
    row_add_text(r, "blog 5d+N+1 / d+N+1", "%ld / %ld", 5 * s.d + N + 1, s.d + N + 1);

    /* compare with the quotations for this model */
    char txt[64] = "";
    size_t tl = 0;
    arb_t dev, c;
    arb_init(dev);
    arb_init(c);
    arb_set_ui(r->error, 0);
    int nq = 0;
    for (size_t k = 0; k < sizeof quotes / sizeof quotes[0]; k++) {
        const quote_t *q = quotes + k;
        if (strcmp(q->model, s.name) != 0)
            continue;
        long cn = q->quantity == Q_HEADS ? per : q->quantity == Q_INFL ? per : s.l;
        long cd = q->quantity == Q_HEADS ? 1 : s.H;
        /* |c - q| / (0.05 q), exact rationals enclosed */
        arb_set_si(c, cn);
        arb_div_si(c, c, cd, prec);
        arb_set_si(dev, q->num);
        arb_div_si(dev, dev, q->den, prec);
        arb_sub(c, c, dev, prec);
        arb_div(c, c, dev, prec);
        double rel = arf_get_d(arb_midref(c), ARF_RND_NEAR);
        if (q->approx) {
            ival_abs(c, c, prec);
            arb_mul_ui(c, c, 20, prec); /* / 0.05 */
        } else {
            /* exact: cn/cd == num/den, compared in integers */
            arb_set_ui(c, cn * q->den == q->num * cd ? 0 : 1000000000UL);
        }
        ival_max(r->error, r->error, c, prec);
        if (tl < sizeof txt - 1)
            tl += (size_t)snprintf(txt + tl, sizeof txt - tl, "%s%s%ld%s %+.1f%%", nq ? "; " : "",
                                   q->approx ? "~" : "=", q->num, qshort[q->quantity], 100 * rel);
        nq++;
    }
    if (nq) {
        r->has_bound = 1;
        arb_set_ui(r->bound, 1);
        row_add_text(r, "quoted vs computed", "%s", txt);
        /* head counts are far below 2^53: exact as doubles */
        row_add_text(r, "inflation to 1/2 s.f.", "%g / %g", round_sig((double)per / (double)s.H, 1),
                     round_sig((double)per / (double)s.H, 2));
    }
    arb_clear(dev);
    arb_clear(c);
    return 0;
}

static char *summary_md(const row_t *rows, long n_rows)
{
    char *s = NULL;
    size_t len = 0;
    omega_strcat(&s, &len, "## Quotations and what was computed\n\n"
                           "| model | quotation | quantity | quoted | computed | deviation |\n"
                           "|---|---|---|---|---|---|\n");
    for (long k = 0; k < n_rows; k++) {
        const char *m = params_get(&rows[k].params, "model");
        for (size_t j = 0; j < sizeof quotes / sizeof quotes[0]; j++) {
            const quote_t *q = quotes + j;
            if (!m || strcmp(q->model, m) != 0)
                continue;
            const shape_t *sh = NULL;
            for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
                if (strcmp(shapes[i].name, m) == 0)
                    sh = shapes + i;
            if (!sh)
                continue;
            long per = sh->H + sh->l;
            /* head counts are far below 2^53: exact as doubles */
            double cv = q->quantity == Q_HEADS  ? (double)per
                        : q->quantity == Q_INFL ? (double)per / (double)sh->H
                                                : (double)sh->l / (double)sh->H;
            omega_strcat(&s, &len, "| %s | %s | %s | %s%ld | %.2f | %+.2f%% |\n", m, q->text,
                         qname[q->quantity], q->approx ? "~" : "", q->num, cv,
                         100 * (cv - (double)q->num) / (double)q->num);
        }
    }
    omega_strcat(&s, &len,
                 "\nRule: an approximate quotation (\"~\", \"about\") matches when it is within "
                 "5%% of the computed value; an exact one must be equal. At two significant "
                 "figures 257 rounds to 260, not 250: \"~250x\" is a loose rounding (down by "
                 "2.7%%), accepted by the 5%% rule and flagged here.\n\n"
                 "Findings against the reference figures (computed, see the columns): (1) for "
                 "GPT-3 the stated definition (H + l)/H gives 49248/96 = **513x**; the reference "
                 "\"512x\" "
                 "is l/H = 49152/96 (MLP heads per original head), so it is compared with l/H. "
                 "(2) The blog streams as built have width d + l + (n + 1) (three-layer; = 5d + N "
                 "for l = 4d) and d + (n + 1) = d + N (one-layer), one less than the blog posts' "
                 "5d + N + 1 and d + N + 1 (the blog code's stream is (n+1) x (d + n + 1)); both "
                 "are shown in the table. Costs assume one neuron head per hidden unit "
                 "(internal dimension 1) and no LayerNorm.");
    /* the model files' rows: the measured exchange rate, as computed */
    int any = 0;
    for (long k = 0; k < n_rows; k++) {
        const char *m = params_get(&rows[k].params, "model");
        const column_t *fl = row_find_column(rows + k, col_floor);
        const column_t *kk = row_find_column(rows + k, col_k);
        const column_t *rt = row_find_column(rows + k, "measured rate (H+k)/H/block (tokens)");
        const column_t *bt = row_find_column(rows + k, "blocks / tokens");
        if (!m || !fl || !kk || strcmp(rows[k].sweep ? rows[k].sweep : "", "model files") != 0)
            continue;
        if (!any)
            omega_strcat(&s, &len,
                         "\n\n## Model files: the exchange rate measured\n\n"
                         "Per block (`attncheck exchange`, doc/exchange.md): the exact floor after "
                         "reductions (duplicate, opposite, dead and silent neurons; neuron heads "
                         "+ a linear head when there is one) and the smallest k on the merge "
                         "order with the MLP sublayer's certified E <= 1e-3 S, on the model's "
                         "tokens and over every LayerNorm output.\n\n"
                         "| model | blocks / tokens | exact floor | k for E <= 1e-3 S (MLP on "
                         "tokens / MLP over every LN output / model on tokens; - where more "
                         "than two blocks follow) | (H + k)/H (MLP on tokens) |\n"
                         "|---|---|---|---|---|\n");
        any = 1;
        omega_strcat(&s, &len, "| %s | %s | %s | %s | %s |\n", m, bt ? bt->str : "", fl->str,
                     kk->str, rt ? rt->str : "");
    }
    return s;
}

const claim_t claim_inflation = {
    .id = "inflation",
    .source = "blog discussion",
    .kind = KIND_TABLE,
    .provenance = "computed from shapes; quotations from the blog discussion and reference figures",
    .statement = "Converting MLPs to heads costs H + l heads per block, L(H + l) in all, an "
                 "inflation (H + l)/H, and wider residual streams.",
    .formula = "For a shape (d, l, H, L, n) with N = n + 1: heads per block H + l; total L(H + l); "
               "inflation (H + l)/H; widths: explicit masks d + 1, encoded masks d + 1 + N, "
               "three-layer blog d + l + N, one-layer blog d + N (counted from the constructions "
               "in this harness). Quoted numbers are quotations; E is the largest deviation "
               "|computed − quoted|/(0.05·quoted) over a row's approximate quotations (exact "
               "quotations: 0 when equal, 1e9 otherwise), bound 1. Rows without quotations are "
               "computed only. Any shape: `attncheck sweep inflation --set model=DxLxHxLxN`. "
               "Model files (sweep `model files`, from `make models`; \"needs make models\" "
               "when absent): per block the exact floor after reductions and the smallest k "
               "on the merge order with the MLP's certified E <= 1e-3 S on the file's tokens "
               "and over every LayerNorm output (`attncheck exchange`, doc/exchange.md); the "
               "GPT-2-shaped model on block 0 only, in --full (its 12 blocks of 3072 neurons "
               "take minutes each); the trained GELU fixture (models/gelu-modadd.safetensors) "
               "when present.",
    .notes = "Counts only; no numerics. Shapes are the published hyperparameters.",
    /* the GPT-2-shaped model's block takes minutes: --full only */
    .quick = {{"models", {{"model", "gpt2-small,gpt2-medium,gpt2-large,gpt2-xl,gpt3-175b"}, {NULL, NULL}}},
              {"model files", {{"model", "ppocrv4-svtr,gelu-fixture"}, {NULL, NULL}}},
              {NULL, {{NULL, NULL}}}},
    .full = {{"models", {{"model", "gpt2-small,gpt2-medium,gpt2-large,gpt2-xl,gpt3-175b"}, {NULL, NULL}}},
             {"model files", {{"model", "ppocrv4-svtr,gpt2-shaped,gelu-fixture"}, {NULL, NULL}}},
             {NULL, {{NULL, NULL}}}},
    .run = run,
    .summary_md = summary_md,
};
