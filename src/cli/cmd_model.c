/* `attncheck model FILE`: convert a transformer (safetensors, TransformerLens
 * names) to attention-only form (convert.h), certify the conversion block by
 * block and end to end (modelcheck.h), write a report like the claims', and
 * optionally export the converted network (aonet_export.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "aonet_export.h"
#include "arith_claim.h"
#include "cli.h"
#include "exitcodes.h"
#include "export.h"
#include "fpnet.h"
#include "model_claim.h"
#include "par.h"
#include "report.h"
#include "runset.h"
#include "shard.h"
#include "tensorload.h"
#include "xalloc.h"

/* The converted network is exported by default up to this many bytes (SVTR:
 * 5 MB); a larger one only when asked (GPT-2 small: about 1.8 GB). */
#define MODEL_EXPORT_DEFAULT_MAX (256.0 * 1024 * 1024)


static const char *usage_model =
    "usage: attncheck model FILE.safetensors [--input X] [--tokens N] [--seed N] [--prec P]\n"
    "                       [--act-a A] [--omega W] [--export-converted OUT] [--out DIR]\n"
    "                       [--format md,csv,json,svg,junit] [--mutate NAME] [--no-write]\n"
    "                       [--no-export] [--tol T] [--jobs N] [--threads N] [--shard K/N]\n"
    "                       [--max-seconds S] [--max-rows N] [--max-memory SIZE]\n"
    "                       [--conversion float-robust|literal] [--heads-per-neuron M]\n"
    "                       [--arith FORMAT [--accumulate same|binary32] [--order ORDER]]\n"
    "  Converts the model (TransformerLens names, config in __metadata__; see doc/models.md) to an\n"
    "  attention-only network with LayerNorm and certifies, with ball arithmetic, each\n"
    "  block's attention and MLP sublayer alone and the whole model end to end.\n"
    "  --input X      the stream entering block 0: X.npy or FILE.safetensors:TENSOR, shape\n"
    "                 [n_ctx, d_model]; or token ids (int32/int64, shape [n_ctx]), embedded\n"
    "                 as embed.W_E[id] + pos_embed.W_pos[position] from the model file\n"
    "  --tokens N     without --input: N tokens drawn with --seed (default 32, seed 1),\n"
    "                 entries k/1024 with 0 < |k| <= 4096 uniform (values in [-4, 4])\n"
    "  --prec P       working precision in bits (default 128); end-to-end rows run at\n"
    "                 P + 20 bits per block (enclosures widen that much through a block);\n"
    "                 never below kappa + 16 (the resolution rule: an exact row that holds\n"
    "                 resolves at least 2^-16 of its scale)\n"
    "  --act-a A      the SiLU_a slope of the neuron heads for gelu, gelu_new, gelu_fast\n"
    "                 and relu models (default: gelu-approx's a* for the GELUs, 32 for relu;\n"
    "                 silu, sigmoid and GLU models convert exactly with a = 1); a decimal\n"
    "                 that is not a short binary fraction (1.702) is used as its nearest\n"
    "                 double, and the report says so\n"
    "  --omega W      also certify the network with every mask encoded by one-hot positions\n"
    "                 and W (Theorem 9) against the derived bound, with the Omega each eps\n"
    "                 in 1e-3, 1e-6, 1e-12 needs\n"
    "  --export-converted OUT  write the converted network to OUT (F64 safetensors) and\n"
    "                 OUT.json (its exact entries), with the original model and the tokens;\n"
    "                 by default DIR/model-NAME.converted.safetensors when it is below\n"
    "                 256 MB (--no-export: none; --no-write: no report and no export);\n"
    "                 OUT is a regular file or a new name, never the model or --input file\n"
    "  --out DIR      report directory (default reports): model-NAME.md/.csv/.json/.svg\n"
    "  --mutate NAME  a deliberately broken conversion (drop-b-in, ln-cf, bias-visible,\n"
    "                 no-f-row, drop-b-out, drop-head): its rows must come out violated\n"
    "  --tol T        the row 'real' (activations approximated by SiLU_a): the converted\n"
    "                 network within T of the real model end to end (default 1e-3 of the\n"
    "                 output scale S); for gelu, gelu_new and relu models without --act-a or\n"
    "                 --heads-per-neuron it also chooses the heads per neuron of each block:\n"
    "                 the fewest (1 to 8, greedily) whose certified end-to-end E is <= T\n"
    "  --heads-per-neuron M  each neuron of a gelu, gelu_new or relu model becomes M heads\n"
    "                 (1 to 8), sum_j c_j SiLU_{a_j} (the certified fits of activation\n"
    "                 --heads); the SiLU_a twin rows are then exact for that sum\n"
    "  --jobs N, --threads N, --shard K/N  as for verify (merge DIR... makes the reports;\n"
    "                 it refuses a model file whose sha256 is not the recorded one)\n"
    "  --max-seconds S  rows not begun after S seconds are answered inconclusive (exit 2)\n"
    "  --max-rows N, --max-memory S  refuse a run over N rows or an estimated peak memory\n"
    "                 over S (default 4G), before any work\n"
    "  --arith FORMAT the model's float twin instead (report model-NAME.FORMAT): the\n"
    "                 converted network and the original model, both run in an emulated\n"
    "                 format (binary64, binary32, bfloat16, binary16; sums in the format or\n"
    "                 --accumulate binary32; --order sequential|sequential-fma|pairwise),\n"
    "                 against the exact model on the tokens' features: holds when E_conv\n"
    "                 <= 2 E_orig + the format's grid floor (doc/model-verdicts.md); its\n"
    "                 mutations (--mutate converted-weight|converted-query) break the\n"
    "                 converted network.  The converted network and the model's blocks\n"
    "                 are built and run one block at a time (a block counted against\n"
    "                 --max-memory)\n"
    "  --conversion FORM  float-robust (default: each layer's LayerNorm beta folded into\n"
    "                 the c rows, so the bias token's row stays exact in every float\n"
    "                 format) or literal (the paper's form: LayerNorm keeps beta)\n"
    "Exit: 0 all hold, 1 violated (with --mutate: every row violated), 2 inconclusive,\n"
    "      3 a --mutate run in which some row is not violated, 64 usage, 65 bad data (a\n"
    "      malformed or inconsistent model file or input, a model outside the class such\n"
    "      as SwiGLU, a run over --max-memory), 70 internal error or out of memory, 73/74\n"
    "      cannot create/write output, 75 output directory in use by another run.\n";

typedef struct {
    const char *file, *input, *act_a, *export_path, *out, *format_text, *mutate_name, *omega;
    const char *arith, *acc, *order, *tol, *conversion, *heads_text;
    int heads;                 /* --heads-per-neuron (0: one SiLU_a head) */
    char heads_buf[8];
    convert_form_t form;
    fpf_arith_t ar;            /* --arith: the format, accumulation and order */
    long tokens;
    int tokens_set, seed_set, no_write, no_export, mutation;
    unsigned long seed;
    mpfr_prec_t prec;
    int argc;
    char **argv;
} model_cli_t;

/* The float twin's mutations (arith_claim.h), in its order. */
static const char *const arith_mutations[] = {"converted-weight", "converted-query"};

/* --arith, --accumulate, --order: checked, and canonical as recorded (the
 * format's name; the accumulation only when not the format; the order only
 * when not sequential), as sweep records them. */
static int parse_arith(model_cli_t *c)
{
    if (!fpf_format_find(c->arith))
        return cli_fail(EXIT_USAGE, "model: --arith '%s': use binary64, binary32, bfloat16 or "
                        "binary16", c->arith);
    if (c->acc && strcmp(c->acc, "same") != 0 && strcmp(c->acc, "binary32") != 0)
        return cli_fail(EXIT_USAGE, "model: --accumulate '%s': use same or binary32", c->acc);
    if (fpnet_arith_parse(&c->ar, c->arith, c->acc, c->order) != 0)
        return cli_fail(EXIT_USAGE, "model: --order '%s': use sequential, sequential-fma or "
                        "pairwise", c->order);
    if (c->ar.acc->prec < c->ar.fmt->prec)
        return cli_fail(EXIT_USAGE, "model: --accumulate binary32 with --arith %s: the "
                        "accumulation format must hold the format", c->ar.fmt->name);
    c->arith = c->ar.fmt->name;
    c->acc = c->ar.acc != c->ar.fmt ? c->ar.acc->name : NULL;
    c->order = c->ar.order != FPF_SUM_SEQUENTIAL ? fpf_order_name(c->ar.order) : NULL;
    return 0;
}

static int opt_no_export(void *ctx, const char *v)
{
    (void)v;
    ((model_cli_t *)ctx)->no_export = 1;
    return 0;
}

static int opt_input(void *ctx, const char *v)
{
    if (cli_has_control_char(v))
        return cli_fail(EXIT_USAGE, "model: the --input path may not hold control characters");
    if (!cli_is_utf8(v))
        return cli_fail(EXIT_USAGE, "model: the --input path is not UTF-8 text (the reports "
                        "record it)");
    ((model_cli_t *)ctx)->input = v;
    return 0;
}

static int opt_tokens(void *ctx, const char *v)
{
    model_cli_t *c = ctx;
    if (cli_parse_count(&c->tokens, v, 1000000) != 0)
        return cli_fail(EXIT_USAGE, "model: --tokens '%s' is not an integer in [1, 10^6]", v);
    c->tokens_set = 1;
    return 0;
}

static int opt_seed(void *ctx, const char *v)
{
    model_cli_t *c = ctx;
    if (parse_seed(&c->seed, v) != 0)
        return cli_fail(EXIT_USAGE, "model: --seed '%s' is not an integer in [0, %lu]", v,
                        (unsigned long)-1);
    c->seed_set = 1;
    return 0;
}

static int opt_prec(void *ctx, const char *v)
{
    if (parse_prec(&((model_cli_t *)ctx)->prec, v) != 0)
        return cli_fail(EXIT_USAGE, "model: --prec '%s' is not an integer in [%d, %d]", v,
                        PREC_MIN, PREC_MAX);
    return 0;
}

static int opt_act_a(void *ctx, const char *v)
{
    ((model_cli_t *)ctx)->act_a = v;
    return 0;
}

/* A number in [0, 10^6] for --omega and --tol. */
static int parse_nonneg(const char *flag, const char *v)
{
    double w;
    if (cli_parse_seconds(&w, v) != 0 && strcmp(v, "0") != 0)
        return cli_fail(EXIT_USAGE, "model: %s '%s' is not a number in [0, 10^6]", flag, v);
    return 0;
}

static int opt_omega(void *ctx, const char *v)
{
    int rc = parse_nonneg("--omega", v);
    if (rc == 0)
        ((model_cli_t *)ctx)->omega = v;
    return rc;
}

static int opt_tol(void *ctx, const char *v)
{
    int rc = parse_nonneg("--tol", v);
    if (rc == 0)
        ((model_cli_t *)ctx)->tol = v;
    return rc;
}

static int opt_heads(void *ctx, const char *v)
{
    model_cli_t *c = ctx;
    long m;
    if (cli_parse_count(&m, v, MODEL_HEADS_MAX) != 0)
        return cli_fail(EXIT_USAGE, "model: --heads-per-neuron '%s' is not an integer in [1, %d]",
                        v, MODEL_HEADS_MAX);
    c->heads = (int)m;
    snprintf(c->heads_buf, sizeof c->heads_buf, "%ld", m); /* canonical, as recorded */
    c->heads_text = c->heads_buf;
    return 0;
}

static int opt_export(void *ctx, const char *v)
{
    if (!*v || cli_has_control_char(v))
        return cli_fail(EXIT_USAGE, "model: --export-converted needs a path without control "
                        "characters");
    ((model_cli_t *)ctx)->export_path = v;
    return 0;
}

static int opt_mutate(void *ctx, const char *v)
{
    ((model_cli_t *)ctx)->mutate_name = v; /* the conversion's, or with --arith the twin's */
    return 0;
}

static int opt_conversion(void *ctx, const char *v)
{
    model_cli_t *c = ctx;
    if (convert_form_find(&c->form, v) != 0)
        return cli_fail(EXIT_USAGE, "model: --conversion '%s': float-robust or literal", v);
    c->conversion = convert_form_name[c->form]; /* the canonical name, as recorded */
    return 0;
}

static int operand_file(void *ctx, const char *a)
{
    model_cli_t *c = ctx;
    if (c->file)
        return cli_fail(EXIT_USAGE, "model: unexpected argument '%s' (one model file)", a);
    if (cli_has_control_char(a)) /* it is named in the report and on stderr */
        return cli_fail(EXIT_USAGE, "model: the model path may not hold control characters");
    if (!cli_is_utf8(a))
        return cli_fail(EXIT_USAGE, "model: the model path is not UTF-8 text (the reports "
                        "record it)");
    c->file = a;
    return 0;
}

static int parse_args(model_cli_t *c, int argc, char **argv, run_options_t *ro)
{
    static const cli_opt_t opts[] = {
        {"--no-export", CLI_FLAG, opt_no_export, 0}, {"--input", CLI_VALUE, opt_input, 0},
        {"--tokens", CLI_VALUE, opt_tokens, 0},      {"--seed", CLI_VALUE, opt_seed, 0},
        {"--prec", CLI_VALUE, opt_prec, 0},          {"--act-a", CLI_VALUE, opt_act_a, 0},
        {"--omega", CLI_VALUE, opt_omega, 0},        {"--tol", CLI_VALUE, opt_tol, 0},
        {"--export-converted", CLI_VALUE, opt_export, 0},
        {"--mutate", CLI_VALUE, opt_mutate, 0},      {"--conversion", CLI_VALUE, opt_conversion, 0},
        {"--heads-per-neuron", CLI_VALUE, opt_heads, 0},
        {NULL, CLI_FLAG, NULL, 0}};
    c->prec = MODEL_PREC_DEFAULT;
    c->tokens = MODEL_TOKENS_DEFAULT;
    c->seed = 1;
    cli_common_t common = {.prefix = "model", .run = ro, .threads = 1, .plot_timeout = 1,
                           .out = &c->out, .out_is_dir = 1, .format = &c->format_text,
                           .no_write = &c->no_write,
                           .arith = &c->arith, .accumulate = &c->acc, .order = &c->order};
    int rc = cli_parse(argc, argv, usage_model, opts, c, operand_file, &common);
    if (rc)
        return rc;
    if (!c->file)
        return cli_fail(EXIT_USAGE, "model: which model? (attncheck model FILE.safetensors)");
    if (c->input && (c->tokens_set || c->seed_set))
        return cli_fail(EXIT_USAGE, "model: --tokens and --seed draw tokens; --input gives them");
    if (c->heads && c->act_a)
        return cli_fail(EXIT_USAGE, "model: --act-a sets the one SiLU_a head per neuron; "
                        "--heads-per-neuron uses the fitted slopes");
    if ((c->acc || c->order) && !c->arith)
        return cli_fail(EXIT_USAGE, "model: --accumulate and --order need --arith FORMAT");
    if (c->arith && parse_arith(c) != 0)
        return EXIT_USAGE;
    if (c->mutate_name && c->arith) {
        for (int k = 0; k < (int)(sizeof arith_mutations / sizeof *arith_mutations); k++)
            if (strcmp(c->mutate_name, arith_mutations[k]) == 0)
                c->mutation = k + 1;
        if (!c->mutation)
            return cli_fail(EXIT_USAGE, "model: no mutation '%s' of the float twin "
                            "(converted-weight, converted-query)", c->mutate_name);
    } else if (c->mutate_name) {
        c->mutation = convert_mutation_index(c->mutate_name);
        if (c->mutation == 0)
            return cli_fail(EXIT_USAGE, "model: no mutation '%s' (drop-b-in, ln-cf, "
                            "bias-visible, no-f-row, drop-b-out, drop-head)", c->mutate_name);
    }
    return 0;
}

/* 1 when a and b name one existing file (a link followed). */
static int same_file(const char *a, const char *b)
{
    struct stat x, y;
    return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

/* 1 when the export (OUT or OUT.json) would replace the model file or the
 * file --input reads (X.npy, or FILE.safetensors of FILE.safetensors:TENSOR). */
static int export_overwrites_input(const model_cli_t *c)
{
    char json[OUTFILE_PATH_MAX + 200], input[OUTFILE_PATH_MAX];
    snprintf(json, sizeof json, "%s.json", c->export_path);
    input[0] = '\0';
    if (c->input) {
        const char *cut = strstr(c->input, ".safetensors:");
        size_t n = cut ? (size_t)(cut - c->input) + strlen(".safetensors") : strlen(c->input);
        snprintf(input, sizeof input, "%.*s", (int)(n < sizeof input ? n : sizeof input - 1),
                 c->input);
    }
    const char *outs[2] = {c->export_path, json};
    for (int k = 0; k < 2; k++)
        if (same_file(outs[k], c->file) || (input[0] && same_file(outs[k], input)))
            return 1;
    return 0;
}


/* ----------------------------------------------------------------- export */
/* ----------------------------------------------------------------- export */

static int sink_layer(void *ctx, long k, const aonet_layer_t *L, char *err, size_t errsz)
{
    return aonet_export_layer(ctx, k, L, err, errsz);
}

static int sink_final(void *ctx, const aonet_ln_t *ln, char *err, size_t errsz)
{
    return aonet_export_final_ln(ctx, ln, err, errsz);
}

/* The original model's tensors under "original.", its embeddings under their
 * own names, and the tokens as "input". */
static int export_original(aonet_export_t *ex, const tmodel_t *m, const imat_t X, char *err,
                           size_t errsz)
{
    const tmodel_config_t *c = tmodel_config(m);
    int rc = 0;
    for (int64_t l = 0; l < c->n_layers + 1 && rc == 0; l++)
        for (int p = 0; p < TMODEL_N_PARAMS && rc == 0; p++) {
            int final = p == TMODEL_LN_FINAL_W || p == TMODEL_LN_FINAL_B;
            if (!tmodel_has(m, (tmodel_param_t)p) || final != (l == c->n_layers))
                continue;
            uint64_t shape[3];
            size_t nd = tmodel_param_shape(shape, m, (tmodel_param_t)p);
            uint64_t numel = tmodel_param_numel(m, (tmodel_param_t)p);
            double *v = xmallocarray((size_t)(numel ? numel : 1), sizeof *v);
            char name[128], full[160];
            tmodel_param_name(name, sizeof name, final ? 0 : l, (tmodel_param_t)p);
            snprintf(full, sizeof full, "original.%s", name);
            rc = tmodel_read(v, m, final ? 0 : l, (tmodel_param_t)p, err, errsz);
            if (rc == 0)
                rc = aonet_export_f64(ex, full, nd, shape, v, err, errsz);
            free(v);
        }
    /* the embeddings under their own names: the export alone decodes tokens */
    for (int e = 0; e < TMODEL_N_EMBED && rc == 0; e++) {
        uint64_t shape[2];
        size_t nd = tmodel_embed_shape(shape, m, (tmodel_embed_t)e);
        if (nd == 0)
            continue;
        double *v = xmallocarray((size_t)(shape[0] * (nd == 2 ? shape[1] : 1)), sizeof *v);
        rc = tmodel_read_embed(v, m, (tmodel_embed_t)e, err, errsz);
        if (rc == 0)
            rc = aonet_export_f64(ex, tmodel_embed_name[e], nd, shape, v, err, errsz);
        free(v);
    }
    if (rc == 0)
        rc = aonet_export_matrix(ex, "input", X, err, errsz);
    if (rc == 0) {
        imat_t S;
        imat_init(S, 0, 0);
        convert_stream(S, X);
        rc = aonet_export_matrix(ex, "stream_in", S, err, errsz);
        imat_clear(S);
    }
    return rc;
}


/* ---------------------------------------------------------------- the run */

/* The recorded arguments: the canonical words after "model" that make the
 * numbers (merge rebuilds the claim from them), each shell-quoted in the
 * replay line. */
typedef struct {
    const char *w[32];
    int n;
    char prec[24], tokens[24], seed[32];
} model_args_t;

static void model_args(model_args_t *a, const model_cli_t *c)
{
    a->n = 0;
    a->w[a->n++] = c->file;
    if (c->input) {
        a->w[a->n++] = "--input";
        a->w[a->n++] = c->input;
    } else {
        snprintf(a->tokens, sizeof a->tokens, "%ld", c->tokens);
        snprintf(a->seed, sizeof a->seed, "%lu", c->seed);
        a->w[a->n++] = "--tokens";
        a->w[a->n++] = a->tokens;
        a->w[a->n++] = "--seed";
        a->w[a->n++] = a->seed;
    }
    snprintf(a->prec, sizeof a->prec, "%ld", (long)c->prec);
    a->w[a->n++] = "--prec";
    a->w[a->n++] = a->prec;
    const char *opt[][2] = {{"--act-a", c->act_a}, {"--omega", c->omega}, {"--tol", c->tol},
                            {"--mutate", c->mutate_name}, {"--conversion", c->conversion},
                            {"--arith", c->arith}, {"--accumulate", c->acc}, {"--order", c->order},
                            {"--heads-per-neuron", c->heads_text}};
    for (int k = 0; k < 9; k++)
        if (opt[k][1]) {
            a->w[a->n++] = opt[k][0];
            a->w[a->n++] = opt[k][1];
        }
}

/* "attncheck model WORD..." with every word shell-quoted; malloc'd or NULL. */
static char *replay_line(const model_args_t *a)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    fputs("attncheck model", f);
    for (int k = 0; k < a->n; k++) {
        fputc(' ', f);
        report_shell_quote(f, a->w[k]);
    }
    return fclose(f) == 0 ? buf : (free(buf), NULL);
}

typedef struct {
    model_cli_t *c;
    model_claim_t *mc;
    int export_big, from;
    char export_path[OUTFILE_PATH_MAX + 160];
    aonet_export_t *ex;   /* the export, written but put in place only when the reports are */
} model_run_t;

/* The run's first line on stderr (once its outputs are known to be possible). */
static void print_start(const model_run_t *mr)
{
    const tmodel_config_t *cfg = tmodel_config(model_claim_model(mr->mc));
    if (!mr->from)
        fprintf(stderr, "attncheck: model %s: %lld blocks, %ld tokens, %s\n", mr->c->file,
                (long long)cfg->n_layers, (long)model_claim_tokens(mr->mc)->rows,
                model_claim_act(mr->mc)->a_text);
}

/* Once the output directory is open: the export (the converted network,
 * the original model and the tokens), before any row runs. */
static int on_dir(const char *dir, void *arg)
{
    model_run_t *mr = arg;
    model_cli_t *c = mr->c;
    char err[600];
    if ((c->no_export && !c->export_path) || (!c->export_path && mr->export_big)) {
        print_start(mr);
        return 0;
    }
    if (!c->export_path) {
        snprintf(mr->export_path, sizeof mr->export_path, "%s/%s.converted.safetensors", dir,
                 model_claim(mr->mc)->id);
        c->export_path = mr->export_path;
    }
    if (export_overwrites_input(c))
        return cli_fail(EXIT_CANTCREAT, "model: --export-converted '%s' (or its .json) is the "
                        "model file or the --input file: it would be replaced", c->export_path);
    aonet_export_t *ex = NULL;
    int rc = aonet_export_open(&ex, c->export_path, err, sizeof err);
    if (rc)
        return cli_fail(rc, "model: %s", err);
    aonet_sink_t sink = {ex, sink_layer, sink_final};
    rc = model_claim_convert(mr->mc, &sink, err, sizeof err);
    const tmodel_t *m = model_claim_model(mr->mc);
    const convert_act_t *ca = model_claim_act(mr->mc);
    if (rc == 0) {
        char *config = tmodel_config_json(tmodel_config(m));
        aonet_export_meta(ex, "original_config", config ? config : "");
        free(config);
        aonet_export_meta(ex, "source", model_claim_sha256(mr->mc));
        aonet_export_meta(ex, "layout", CONVERT_LAYOUT_TEXT);
        aonet_export_meta(ex, "conversion", convert_form_name[c->form]);
        aonet_export_meta(ex, "neuron_heads", ca->a_text);
        /* what the network computes exactly: the model, the model with SiLU_a,
         * or with sum_j c_j SiLU_{a_j} ("silusum:c:a,c:a,...", blocks split by '|') */
        char *a = NULL, ref_act[SILUSUM_MAX_HEADS * 64 * 8 + 16];
        if (ca->heads) {
            size_t len = (size_t)snprintf(ref_act, sizeof ref_act, "silusum:");
            for (long b = 0; b < ca->n_blocks && len < sizeof ref_act; b++)
                for (int j = 0; j < ca->heads[b].fit.m && len < sizeof ref_act; j++) {
                    char cj[64], aj[64];
                    silusum_decimal(cj, sizeof cj, ca->heads[b].fit.c[j]);
                    silusum_decimal(aj, sizeof aj, ca->heads[b].fit.a[j]);
                    len += (size_t)snprintf(ref_act + len, sizeof ref_act - len, "%s%s:%s",
                                            j ? "," : b ? "|" : "", cj, aj);
                }
        } else {
            if (!convert_act_exact(ca)) {
                mpfr_t am;
                mpfr_init2(am, arf_bits(arb_midref(ca->a)) > 2 ? arf_bits(arb_midref(ca->a)) : 2);
                arf_get_mpfr(am, arb_midref(ca->a), MPFR_RNDN); /* exact */
                a = fr_exact_decimal(am);
                mpfr_clear(am);
            }
            snprintf(ref_act, sizeof ref_act, "%s%s", a ? "silu_a:" : "model", a ? a : "");
            free(a);
        }
        aonet_export_meta(ex, "reference_act", ref_act);
        rc = export_original(ex, m, model_claim_tokens(mr->mc), err, sizeof err);
    }
    if (rc) {
        aonet_export_abort(ex);
        return cli_fail(rc, "model: %s", err);
    }
    mr->ex = ex; /* committed once the rows have run: a failed run leaves no export */
    print_start(mr);
    return 0;
}

/* The export is put in place only when the run wrote its reports (a verdict
 * exit code); a run that failed leaves none. */
static int on_close(int status, void *arg)
{
    model_run_t *mr = arg;
    if (!mr->ex)
        return status;
    if (status >= EXIT_USAGE) {
        aonet_export_abort(mr->ex);
        mr->ex = NULL;
        return status;
    }
    char err[600];
    int rc = aonet_export_commit(mr->ex, err, sizeof err);
    mr->ex = NULL;
    if (rc)
        return cli_fail(rc, "model: %s", err);
    printf("converted network written to %s (and .json); the numpy reference: "
           "/usr/bin/python3 scripts/run_export.py %s\n", mr->c->export_path,
           mr->c->export_path);
    return status;
}

static int on_report(claim_report_t *rep, void *arg)
{
    model_run_t *mr = arg;
    rep->details_json = model_claim_details(mr->mc);
    return 0;
}

static void on_printed(const claim_report_t *rep, void *arg)
{
    model_run_t *mr = arg;
    const tmodel_config_t *cfg = tmodel_config(model_claim_model(mr->mc));
    model_claim_print_rows(stdout, rep);
    /* m heads per neuron: H + m d_mlp + 1 (m per block; the first line says which) */
    long long m = model_claim_heads_m(mr->mc, 0);
    printf("    heads per block: %lld original + %lld converted = %lld; %s\n",
           (long long)cfg->n_heads, m * (long long)cfg->d_mlp + 1,
           (long long)(cfg->n_heads + m * cfg->d_mlp + 1), model_claim_act(mr->mc)->a_text);
    for (long b = 1; b < (long)cfg->n_layers; b++)
        if (model_claim_heads_m(mr->mc, b) != m)
            printf("    block %ld: %d heads per neuron\n", b, model_claim_heads_m(mr->mc, b));
}

/* The model claim of c, run (or, from != NULL, merged from shards whose
 * recorded model sha256 is want_sha). */
static int run_model(model_cli_t *c, int formats, shard_set_t *from, const char *want_sha,
                     run_options_t *ro)
{
    char err[600];
    model_spec_t spec = {.file = c->file, .input = c->input, .tokens = c->tokens,
                         .seed = c->seed, .act_a = c->act_a, .omega = c->omega, .tol = c->tol,
                         .prec = c->prec, .form = c->form, .arith = c->arith != NULL,
                         .heads_per_neuron = c->heads};
    model_claim_t *mc = NULL;
    int rc = model_claim_open(&mc, &spec, ro->jobs, ro->max_memory, err, sizeof err);
    if (rc)
        return cli_fail(rc == EXIT_USAGE && from ? EXIT_DATAERR : rc, "%smodel: %s",
                        from ? "merge: " : "", err);
    if (want_sha && strcmp(want_sha, model_claim_identity(mc)) != 0) {
        model_claim_free(mc);
        return cli_fail(EXIT_DATAERR, "merge: %s%s%s is not what the shards ran (its sha256 "
                        "differs from the recorded one)", c->file, c->input ? " or " : "",
                        c->input ? c->input : "");
    }
    const claim_t *cl = model_claim(mc);
    /* --arith: the model's float twin is the claim run (one claim, one road) */
    arith_claim_t twin;
    if (c->arith) {
        if (arith_claim_make(&twin, cl, &c->ar, err, sizeof err) != 0) {
            model_claim_free(mc);
            return cli_fail(EXIT_SOFTWARE, "model: %s", err);
        }
        cl = &twin.claim;
    }
    model_args_t args;
    model_args(&args, c);
    char *cmd = replay_line(&args);
    if (!cmd) {
        model_claim_free(mc);
        return cli_fail(EXIT_SOFTWARE, "model: out of memory");
    }
    report_run_t how = {.verb = "model", .options = ro, .argc = c->argc, .argv = c->argv,
                        .command = cmd, .model_args = args.w, .n_model_args = args.n,
                        .model_sha256 = model_claim_identity(mc),
                        .shards = from ? shard_set_count(from) : 0, .arith = c->arith,
                        .accumulate = c->acc, .order = c->order};
    model_run_t mr = {.c = c, .mc = mc};
    const tmodel_config_t *cfg = tmodel_config(model_claim_model(mc));
    /* F64 bytes of an export: per block the heads' four matrices (W_K written
     * out for every neuron), then the original model and the tokens */
    double D = (double)cfg->d_model + 2, H = (double)cfg->n_heads, E = (double)cfg->d_head;
    double L = (double)cfg->n_layers, n = (double)model_claim_tokens(mc)->rows;
    double mh = 1; /* the most heads per neuron of any block */
    for (long b = 0; b < (long)cfg->n_layers; b++)
        if (model_claim_heads_m(mc, b) > mh)
            mh = model_claim_heads_m(mc, b);
    double export_bytes = 8 * (L * (4 * D * H * (E + 1) + 4 * D * (mh * (double)cfg->d_mlp + 1)) +
                               L * (4 * D * H * E + (cfg->gated_mlp ? 3 : 2) * D *
                                    (double)cfg->d_mlp) + 2 * n * D);
    for (int e = 0; e < TMODEL_N_EMBED; e++) {
        uint64_t shape[2] = {0, 1};
        if (tmodel_embed_shape(shape, model_claim_model(mc), (tmodel_embed_t)e) > 0)
            export_bytes += 8 * (double)shape[0] * (double)shape[1];
    }
    mr.export_big = export_bytes > MODEL_EXPORT_DEFAULT_MAX;
    int sharded = ro->shard_count > 0;
    if (sharded || from)
        c->no_export = 1; /* the export is the unsharded run's */
    if (!c->export_path && !c->no_write && !c->no_export && mr.export_big)
        fprintf(stderr, "attncheck: model: the converted network (about %.1f GB) is not exported "
                "by default; --export-converted OUT writes it\n", export_bytes / 1e9);
    mr.from = from != NULL;
    if (c->no_write)
        print_start(&mr);
    int mutations[1] = {c->mutation};
    const claim_t *claims[1] = {cl};
    runset_t rs = {.claims = claims, .mutations = mutations, .n = 1, .run = ro, .how = &how,
                   .out = c->out, .formats = formats, .no_write = c->no_write,
                   .mutate = c->mutation > 0, .from = from, .on_dir = on_dir,
                   .on_report = on_report, .on_printed = on_printed, .on_close = on_close,
                   .arg = &mr};
    rc = runset_run(&rs);
    free(cmd);
    model_claim_free(mc);
    return rc;
}

int cmd_model(int argc, char **argv)
{
    model_cli_t c;
    memset(&c, 0, sizeof c);
    c.argc = argc;
    c.argv = argv;
    run_options_t ro;
    run_options_default(&ro);
    ro.progress = 1;
    int rc = parse_args(&c, argc, argv, &ro);
    if (rc)
        return rc < 0 ? 0 : rc;
    int formats = FORMAT_ALL;
    if (c.format_text && report_parse_formats(&formats, c.format_text) != 0)
        return cli_fail(EXIT_USAGE, "model: --format '%s': use md,csv,json,svg,junit",
                        c.format_text);
    if (ro.shard_count > 0 && (c.no_write || c.format_text || !c.out))
        return cli_fail(EXIT_USAGE, "model: --shard writes partial results to its own --out DIR "
                        "(no --no-write; --format is merge's)");
    return run_model(&c, formats, NULL, NULL, &ro);
}

int cmd_model_merge(const shard_run_t *run, shard_set_t *set, const char *out, int formats,
                    const run_options_t *limits)
{
    if (run->n_model_args < 1 || run->n_model_args > 30)
        return cli_fail(EXIT_DATAERR, "merge: the shards' model run records no model file");
    char *argv[32];
    argv[0] = (char *)"model";
    for (int k = 0; k < run->n_model_args; k++)
        argv[k + 1] = (char *)run->model_args[k];
    model_cli_t c;
    memset(&c, 0, sizeof c);
    run_options_t ro = run->options;
    ro.max_rows = limits->max_rows;
    ro.max_memory = limits->max_memory;
    ro.jobs = 0;
    ro.shard_count = ro.shard_index = 0;
    run_options_t parsed;
    run_options_default(&parsed);
    int rc = parse_args(&c, run->n_model_args + 1, argv, &parsed);
    if (rc)
        return cli_fail(EXIT_DATAERR, "merge: the shards' model run is not a valid model command");
    c.argc = 1;
    c.argv = argv;
    c.out = out;
    c.no_export = 1;
    return run_model(&c, formats, set, run->model_sha256, &ro);
}
