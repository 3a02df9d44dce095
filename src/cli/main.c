/* attncheck: the command line.  Parses and validates everything before any
 * computation or output, so bad input gets one line and an exit code and
 * leaves no file behind. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "describe.h"
#include "exitcodes.h"
#include "export.h"
#include "arith_claim.h"
#include "fpnet.h"
#include "par.h"
#include "report.h"
#include "runset.h"
#include "shard.h"
#include "version.h"
#include "xalloc.h"

#define EXIT_RULE                                                                            \
    "Exit: 0 all hold (vacuous rows, whose bound is no better than the triangle inequality,\n" \
    "      are counted apart and change nothing), 1 violated (with --mutate: every mutated\n"   \
    "      row violated), 2 inconclusive, 3 a --mutate run in which some row is not violated\n" \
    "      (the break went undetected there),\n"                                               \
    "      64 usage (an unknown command, claim or option, a missing value, or a malformed or\n" \
    "      out-of-range value of attncheck's own: --prec abc, --seed -1, --set seed=abc),\n"   \
    "      65 bad data (a well-formed value the claim or the data rejects: --set a=-1,\n"      \
    "      --expr 'x+'; a grid over --max-rows or --max-memory; a row whose parameters need\n" \
    "      more than 65536 bits to resolve), 70 internal error or out of memory,\n"            \
    "      73 cannot create output, 74 cannot write output,\n"                                 \
    "      75 output directory in use by another run, 130/143 stopped by SIGINT/SIGTERM.\n"

static const char *usage_main =
    "usage: attncheck COMMAND [options]\n"
    "  --version, version                 attncheck's version and its libraries'\n"
    "  list [--format text|md|json]       claims: id, theorem, kind, statement\n"
    "  describe ID [--format text|json]   a claim's parameters, sub-sweeps and grids\n"
    "  verify [ID...] [options]           check claims, write reports (all claims if no ID)\n"
    "  sweep ID --set NAME=V1,V2,... [options]   one claim over a grid you choose\n"
    "  activation (--name NAME | --expr EXPR | --file FILE) [--target NAME|EXPR] [--claim GAP]\n"
    "             [--expect member|nonmember] [--format text|json]   an activation's class, or\n"
    "                                     its certified sup gap to a target\n"
    "  export ID [--seed N] [--format json|safetensors] [--out FILE]   one instance, or its\n"
    "                                     converted network\n"
    "  model FILE.safetensors [--input X] [--prec P] [--export-converted OUT]\n"
    "                                     convert a transformer to attention-only form and\n"
    "                                     certify it\n"
    "  exchange FILE.safetensors [--input X] [--blocks LIST]   heads per block after exact\n"
    "                                     reductions and merging, certified\n"
    "  merge DIR... [--out DIR]           combine the shards of a --shard K/N run into reports\n"
    "Run 'attncheck COMMAND --help' for a command's options.\n" EXIT_RULE;

#define RUN_OPTIONS                                                                          \
    "  --dry-run      print each claim's sub-sweeps, rows and the memory estimate; compute\n"  \
    "                 nothing (65 when over the limits, as the run would be)\n"               \
    "  --quiet        no progress on stderr (otherwise: rows done/total, rate and ETA)\n"     \
    "  --resume       keep the rows a stopped run of the same command left in --out DIR\n"    \
    "                 (its journal); 65 when the journal is another command's\n"              \
    "  --max-rows N   refuse a grid of more than N rows (default 100000)\n"                  \
    "  --max-memory S refuse a run whose estimated peak memory is over S bytes (K, M, G, T\n" \
    "                 suffixes; default 4G)\n"

static const char *usage_verify =
    "usage: attncheck verify [ID...] [--quick|--full] [--seed N] [--prec P[,P...]] [--jobs N]\n"
    "                        [--threads N] [--out DIR] [--format md,csv,json,svg,junit]\n"
    "                        [--mutate[=NAME|all]] [--set NAME=V1,V2,...] [--no-write]\n"
    "                        [--max-rows N] [--max-memory SIZE] [--plot-timeout SECONDS]\n"
    "                        [--shard K/N]\n"
    "  --quick        the default grid (fast); --full: the large grid\n"
    "  --seed N       replace every row's seed by N (an integer in [0, 2^64 - 1])\n"
    "  --prec LIST    working precisions in bits, each in [24, 65536]\n"
    "  --jobs N       rows run on N threads (default 1)\n"
    "  --threads N    cores to use in all (default: every online processor); a large row\n"
    "                 splits its products and heads over the cores other rows leave idle,\n"
    "                 with the same result bits on any number of threads\n"
    "  --out DIR      report directory (default reports), locked while the run writes it\n"
    "  --mutate[=NAME] run a deliberately broken construction; it must come out violated\n"
    "                 on every row (exit 1); a row that still holds is reported \"not\n"
    "                 detected at this resolution\" and the run exits 3 (no NAME: each\n"
    "                 claim's first mutation; all: every mutation; no ID: every claim\n"
    "                 that has mutations)\n"
    "  --set N=V,...  replace axis N in the claim's sub-sweeps that have it (the others do\n"
    "                 not run; seed and prec apply to all): 'attncheck describe ID' lists\n"
    "                 them; values hold only letters, digits and . _ : + -\n"
    "  --no-write     print the summary only\n"
    "  --shard K/N    run rows K, K+N, K+2N, ... of each claim's grid (0 <= K < N) and write\n"
    "                 their partial results to --out DIR (required, one per shard) instead of\n"
    "                 reports; 'attncheck merge' makes the reports of the whole run from them\n"
    RUN_OPTIONS
    "  --plot-timeout S  stop a gnuplot that runs longer than S seconds (default 60)\n"
    EXIT_RULE;

static const char *usage_merge =
    "usage: attncheck merge DIR... [--out DIR] [--format md,csv,json,svg,junit] [--max-rows N]\n"
    "                       [--max-memory SIZE] [--plot-timeout SECONDS] [--recheck K|all]\n"
    "  Combines the partial results of a run's shards (verify or sweep ... --shard K/N\n"
    "  --out DIR, K = 0 .. N-1) into the reports the unsharded run writes, byte for byte\n"
    "  (--out default reports; run.log lists the shards' time summed).  Refused with 65:\n"
    "  shards of different runs, of another attncheck build or other library versions, a\n"
    "  missing or duplicated shard, a malformed partial file, one whose digest is not that\n"
    "  of its content (damaged), a row that does not recompute; 75 while a shard's run\n"
    "  still holds its directory.  Exit: the verdict code of the unsharded run.\n"
    "  --recheck K    recompute K rows of each shard (default 2; all: every row; 0: none),\n"
    "                 drawn from the shards' digests, and refuse the merge when one's\n"
    "                 verdict differs or an enclosure does not overlap the stored one\n"
    RUN_OPTIONS EXIT_RULE;

static const char *usage_sweep =
    "usage: attncheck sweep ID --set NAME=V1,V2,... [verify options: see verify --help]\n"
    "                       [--arith FORMAT [--accumulate same|binary32]\n"
    "                       [--order sequential|sequential-fma|pairwise]]\n"
    "  --arith FORMAT the network the claim builds, run in an emulated float format\n"
    "                 (binary64, binary32, bfloat16, binary16): inputs and weights rounded\n"
    "                 to it, every operation rounded to nearest in it.  E is the certified\n"
    "                 distance of the float result to the same network run exactly (for this\n"
    "                 summation order and model of the hardware: src/fpformat.h), claimed\n"
    "                 to be at least the format's grid floor; the distance to the claim's\n"
    "                 reference is a column.  Not with --mutate or --shard.\n"
    "  --accumulate   sums in the same format (default) or in binary32 (tensor cores)\n"
    "  --order        the order of every sum (default sequential)\n";

static const char *usage_export =
    "usage: attncheck export ID [--seed N] [--format json|safetensors] [--out FILE] [--prec P]\n"
    "                        [--set N=V]\n"
    "  Writes one instance of the claim (its first grid point, with seed N, default 1):\n"
    "  shapes, every weight matrix, the tokens, and both outputs, as exact decimal strings\n"
    "  (point values) or midpoint + radius (enclosures).  Without --out, or with --out -\n"
    "  or /dev/stdout, to standard output.  --format safetensors --out FILE: the converted\n"
    "  network the claim builds, every layer's heads (W_Q, W_K, W_V, W_O, masks) as F64\n"
    "  safetensors in FILE and its exact entries in FILE.json, with the stream it starts\n"
    "  from and the reference it must reach (doc/models.md: Converted models out;\n"
    "  scripts/run_export.py runs it).  A regular file is replaced atomically; a symbolic link to one\n"
    "  keeps the link and replaces the file it points to; a character device or FIFO is\n"
    "  written straight through (JSON only: the safetensors export is two files, so its\n"
    "  FILE is a regular file or a new name, else 73); a directory is refused (73).\n"
    RUN_OPTIONS EXIT_RULE;

/* Options shared by verify, sweep and export. */
typedef struct {
    run_options_t run;
    const char *ids[64];
    int n_ids;
    const char *out;
    int formats;
    const char *format_text;
    int no_write, mutate;
    const char *mutate_name;
    const char *arith_name, *acc_name, *order_name; /* sweep --arith */
    int has_arith;         /* --arith: each claim replaced by its float twin in ar */
    fpf_arith_t ar;
    mpfr_prec_t export_prec;
    const char *verb;      /* the command line as typed, from the verb on */
    int argc;
    char **argv;
    char **dirs;           /* merge: the shards' directories */
    int n_dirs;
    long recheck;          /* merge --recheck: rows per shard (-1: all) */
    int recheck_set;
} cli_t;

/* What parse_common takes as bare arguments. */
enum { ARGS_CLAIMS = 1, ARGS_DIRS };

/* Check a --prec list; the last entry is export's precision. */
static int parse_prec_list(cli_t *c, const char *val)
{
    if (!*val || val[0] == ',' || val[strlen(val) - 1] == ',' || strstr(val, ",,"))
        return cli_fail(EXIT_USAGE, "--prec '%s' has an empty entry", val);
    for (const char *t = val; *t;) {
        size_t len = strcspn(t, ",");
        char one[32];
        mpfr_prec_t p;
        snprintf(one, sizeof one, "%.*s", (int)(len < 31 ? len : 31), t);
        if (len >= sizeof one || parse_prec(&p, one) != 0)
            return cli_fail(EXIT_USAGE, "--prec '%.*s' is not an integer in [%d, %d]", (int)len, t,
                            PREC_MIN, PREC_MAX);
        c->export_prec = p;
        t += len + (t[len] == ',');
    }
    c->run.prec_list = val;
    return 0;
}

static int opt_quick(void *ctx, const char *v)
{
    (void)v;
    ((cli_t *)ctx)->run.full = 0;
    return 0;
}

static int opt_full(void *ctx, const char *v)
{
    (void)v;
    ((cli_t *)ctx)->run.full = 1;
    return 0;
}

static int opt_seed(void *ctx, const char *v)
{
    cli_t *c = ctx;
    if (parse_seed(&c->run.seed, v) != 0)
        return cli_fail(EXIT_USAGE, "--seed '%s' is not an integer in [0, %lu]", v,
                        (unsigned long)-1);
    c->run.seed_set = 1;
    return 0;
}

static int opt_prec(void *ctx, const char *v) { return parse_prec_list(ctx, v); }

static int opt_mutate(void *ctx, const char *v)
{
    cli_t *c = ctx;
    c->mutate = 1;
    c->mutate_name = v;
    return 0;
}

static int opt_set(void *ctx, const char *v)
{
    cli_t *c = ctx;
    const char *e = strchr(v, '=');
    if (!e || e == v || !e[1])
        return cli_fail(EXIT_USAGE, "--set '%s' is not NAME=V1,V2,...", v);
    if (c->run.n_sets >= RUN_MAX_SETS)
        return cli_fail(EXIT_USAGE, "too many --set options (at most %d)", RUN_MAX_SETS);
    c->run.set_name[c->run.n_sets] = xstrndup(v, (size_t)(e - v));
    c->run.set_values[c->run.n_sets++] = e + 1;
    return 0;
}

static int opt_recheck(void *ctx, const char *v)
{
    cli_t *c = ctx;
    c->recheck_set = 1;
    if (strcmp(v, "all") == 0)
        c->recheck = -1;
    else if (strcmp(v, "0") == 0)
        c->recheck = 0;
    else if (cli_parse_count(&c->recheck, v, 1000000000L) != 0)
        return cli_fail(EXIT_USAGE, "--recheck '%s' is not all or an integer in [0, 10^9]", v);
    return 0;
}

static int operand_claim(void *ctx, const char *a)
{
    cli_t *c = ctx;
    if (c->n_ids >= 64)
        return cli_fail(EXIT_USAGE, "too many claims");
    if (!claim_find(a))
        return cli_fail(EXIT_USAGE, "unknown claim '%s' (see 'attncheck list')", a);
    c->ids[c->n_ids++] = a;
    return 0;
}

static int operand_dir(void *ctx, const char *a)
{
    cli_t *c = ctx;
    if (!c->dirs)
        c->dirs = xmallocarray((size_t)c->argc, sizeof *c->dirs);
    c->dirs[c->n_dirs++] = (char *)a;
    return 0;
}

/* Parse argv with the one option parser; returns 0, -1 after --help, or an
 * exit code after one line. */
static int parse_common(cli_t *c, int argc, char **argv, const char *usage, int args)
{
    static const cli_opt_t opts[] = {
        {"--quick", CLI_FLAG, opt_quick, 0}, {"--full", CLI_FLAG, opt_full, 0},
        {"--seed", CLI_VALUE, opt_seed, 0},  {"--prec", CLI_VALUE, opt_prec, 0},
        {"--mutate", CLI_MAYBE_VALUE, opt_mutate, 0}, {"--set", CLI_VALUE, opt_set, 0},
        {NULL, CLI_FLAG, NULL, 0}};
    /* merge's: the same (it refuses the run's own options after parsing), and --recheck */
    static const cli_opt_t merge_opts[] = {
        {"--quick", CLI_FLAG, opt_quick, 0}, {"--full", CLI_FLAG, opt_full, 0},
        {"--seed", CLI_VALUE, opt_seed, 0},  {"--prec", CLI_VALUE, opt_prec, 0},
        {"--mutate", CLI_MAYBE_VALUE, opt_mutate, 0}, {"--set", CLI_VALUE, opt_set, 0},
        {"--recheck", CLI_VALUE, opt_recheck, 0}, {NULL, CLI_FLAG, NULL, 0}};
    run_options_default(&c->run);
    c->run.progress = 1;
    c->out = NULL;
    c->formats = FORMAT_ALL;
    c->format_text = NULL;
    c->argc = c->argc ? c->argc : argc;
    /* export's --out is a file ("-": standard output); the others' a report directory */
    int out_is_dir = args == ARGS_DIRS || c->verb != NULL;
    cli_common_t common = {.run = &c->run, .threads = 1, .plot_timeout = 1, .out = &c->out,
                           .out_is_dir = out_is_dir, .format = &c->format_text, .no_write = &c->no_write,
                           .arith = &c->arith_name, .accumulate = &c->acc_name,
                           .order = &c->order_name};
    return cli_parse(argc, argv, usage, args == ARGS_DIRS ? merge_opts : opts, c,
                     args == ARGS_DIRS ? operand_dir : args == ARGS_CLAIMS ? operand_claim : NULL,
                     &common);
}

static void cli_free(cli_t *c)
{
    for (int k = 0; k < c->run.n_sets; k++)
        free((char *)c->run.set_name[k]);
    free(c->dirs);
}

static int mutation_count(const claim_t *c)
{
    int n = 0;
    while (n < CLAIM_MAX_MUTATIONS && c->mutations[n][0])
        n++;
    return n;
}

/* The (claim, mutation) pairs to run; 0, or -1 with err. */
static int select_runs(const claim_t **claims, int *mutations, int *n_runs, const cli_t *c,
                       char *err, size_t errsz)
{
    const claim_t *chosen[64];
    int n = 0, n_all = 0;
    if (c->n_ids == 0)
        for (int k = 0; claim_registry[k] && n < 64; k++)
            chosen[n++] = claim_registry[k];
    else
        for (int k = 0; k < c->n_ids; k++)
            if (!(chosen[n++] = claim_find(c->ids[k]))) { /* a merge's recorded run */
                snprintf(err, errsz, "unknown claim '%s'", c->ids[k]);
                return -1;
            }
    /* --arith: every claim's float twin instead (one command, one process) */
    static arith_claim_t twins[64];
    for (int k = 0; c->has_arith && k < n; k++) {
        if (arith_claim_make(twins + k, chosen[k], &c->ar, err, errsz) != 0)
            return -1;
        chosen[k] = &twins[k].claim;
    }
    const char *name = c->mutate_name;
    int every = name && strcmp(name, "all") == 0;
    for (int k = 0; k < n; k++) {
        if (!c->mutate) {
            claims[n_all] = chosen[k];
            mutations[n_all++] = 0;
        } else if (every) {
            for (int m = 1; m <= mutation_count(chosen[k]); m++) {
                claims[n_all] = chosen[k];
                mutations[n_all++] = m;
            }
        } else {
            int m = claim_mutation_index(chosen[k], name);
            if (m > 0) {
                claims[n_all] = chosen[k];
                mutations[n_all++] = m;
            } else if (c->n_ids > 0) {
                /* a claim the user named must have it */
                if (!name || !*name)
                    snprintf(err, errsz, "claim '%s' has no mutations", chosen[k]->id);
                else
                    snprintf(err, errsz, "claim '%s' has no mutation '%s'", chosen[k]->id, name);
                return -1;
            }
        }
    }
    if (n_all == 0) {
        snprintf(err, errsz, "no claim has a mutation '%s' (see 'attncheck list --format md')",
                 name ? name : "");
        return -1;
    }
    *n_runs = n_all;
    return 0;
}

/* Run the selected claims and write their reports.  With --shard, write
 * the shard's partial results instead; with from (merge), take the rows
 * from the shards instead of running them, checking the run they record
 * as a command line is checked (but it is data: 65, not 64). */
static int run_claims(cli_t *c, shard_set_t *from)
{
    char err[512];
    int cap = CLAIM_MAX_MUTATIONS * 64;
    const claim_t **claims = xmallocarray((size_t)cap, sizeof *claims);
    int *mutations = xmallocarray((size_t)cap, sizeof *mutations);
    int n = 0, status = EXIT_HOLDS;
    const char *out = c->out ? c->out : "reports";
    const int bad = from ? EXIT_DATAERR : EXIT_USAGE, sharded = c->run.shard_count > 0;
    const char *whose = from ? "the shards' run: " : "";

    report_run_t how = {.verb = c->verb, .ids = c->ids, .n_ids = c->n_ids, .mutate = c->mutate,
                        .mutate_name = c->mutate_name, .options = &c->run, .argc = c->argc,
                        .argv = c->argv, .shards = from ? shard_set_count(from) : 0,
                        .arith = c->arith_name, .accumulate = c->acc_name,
                        .order = c->order_name};
    if (c->format_text && report_parse_formats(&c->formats, c->format_text) != 0) {
        status = cli_fail(EXIT_USAGE, "--format '%s': use md,csv,json,svg,junit", c->format_text);
        goto done;
    }
    if (sharded && (c->no_write || c->format_text || !c->out)) {
        status = cli_fail(EXIT_USAGE, "--shard writes partial results to its own --out DIR (no "
                          "--no-write; --format is merge's)");
        goto done;
    }
    if (select_runs(claims, mutations, &n, c, err, sizeof err) != 0) {
        status = cli_fail(bad, "%s%s", whose, err);
        goto done;
    }
    /* Validate everything, and bound the work, before running or writing. */
    for (int k = 0; k < n; k++)
        if (runner_validate(claims[k], &c->run, err, sizeof err) != 0) {
            status = cli_fail(bad, "%s%s", whose, err);
            goto done;
        }
    {
        runset_t rs = {.claims = claims, .mutations = mutations, .n = n, .run = &c->run,
                       .how = &how, .out = out, .formats = c->formats, .no_write = c->no_write,
                       .mutate = c->mutate, .from = from};
        status = runset_run(&rs);
    }
done:
    free(claims);
    free(mutations);
    return status;
}

typedef struct {
    const char *format;
} list_opts_t;

static int cmd_list(int argc, char **argv)
{
    static const cli_opt_t opts[] = {
        {"--format", CLI_VALUE, NULL, offsetof(list_opts_t, format)}, {NULL, CLI_FLAG, NULL, 0}};
    list_opts_t o = {NULL};
    cli_common_t common = {.prefix = "list"};
    int rc = cli_parse(argc, argv, "usage: attncheck list [--format text|md|json]\n", opts, &o,
                       NULL, &common);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (o.format && strcmp(o.format, "md") != 0 && strcmp(o.format, "text") != 0 &&
        strcmp(o.format, "json") != 0)
        return cli_fail(EXIT_USAGE, "list: --format '%s': use text, md or json", o.format);
    if (o.format && strcmp(o.format, "json") == 0) {
        char *doc = report_catalogue_json();
        if (!doc)
            return cli_fail(EXIT_SOFTWARE, "list: out of memory");
        fputs(doc, stdout);
        free(doc);
        return 0;
    }
    int md = o.format && strcmp(o.format, "md") == 0;
    if (md) {
        report_print_catalogue_md(stdout);
        return 0;
    }
    for (int k = 0; claim_registry[k]; k++) {
        const claim_t *c = claim_registry[k];
        printf("%-18s %-12s %-10s %s\n", c->id, c->source, claim_kind_name(c->kind), c->statement);
    }
    return 0;
}

typedef struct {
    const char *format;
    const char *id;
} describe_opts_t;

static int operand_describe(void *ctx, const char *a)
{
    describe_opts_t *o = ctx;
    if (o->id)
        return cli_fail(EXIT_USAGE, "describe takes one claim id");
    if (!claim_find(a))
        return cli_fail(EXIT_USAGE, "unknown claim '%s' (see 'attncheck list')", a);
    o->id = a;
    return 0;
}

static int cmd_describe(int argc, char **argv)
{
    static const cli_opt_t opts[] = {
        {"--format", CLI_VALUE, NULL, offsetof(describe_opts_t, format)},
        {NULL, CLI_FLAG, NULL, 0}};
    describe_opts_t o = {NULL, NULL};
    cli_common_t common = {.prefix = "describe"};
    int rc = cli_parse(argc, argv,
                       "usage: attncheck describe ID [--format text|json]\n"
                       "  The claim's parameters (the names --set takes), for each the rows one\n"
                       "  value gives in the quick and the full grid, the sub-sweeps of each grid\n"
                       "  with their axes' default values, how --set combines with them, and the\n"
                       "  mutations.  All of it is read from the claim's own grid.\n",
                       opts, &o, operand_describe, &common);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!o.id)
        return cli_fail(EXIT_USAGE, "describe needs a claim id (see 'attncheck list')");
    if (o.format && strcmp(o.format, "text") != 0 && strcmp(o.format, "json") != 0)
        return cli_fail(EXIT_USAGE, "describe: --format '%s': use text or json", o.format);
    const claim_t *c = claim_find(o.id);
    if (o.format && strcmp(o.format, "json") == 0) {
        char *doc = describe_json(c);
        if (!doc)
            return cli_fail(EXIT_SOFTWARE, "describe: out of memory");
        fputs(doc, stdout);
        free(doc);
        return 0;
    }
    describe_print(stdout, c);
    return 0;
}

/* --arith, --accumulate, --order: sweep, export (the instance a float row runs) and model. */
static int parse_arith(cli_t *c, int allowed)
{
    if (!c->arith_name && !c->acc_name && !c->order_name)
        return 0;
    if (!allowed)
        return cli_fail(EXIT_USAGE, "--arith, --accumulate and --order are options of sweep, "
                        "export and model");
    if (!c->arith_name)
        return cli_fail(EXIT_USAGE, "--accumulate and --order need --arith FORMAT");
    fpf_arith_t ar;
    if (!fpf_format_find(c->arith_name))
        return cli_fail(EXIT_USAGE, "--arith '%s': use binary64, binary32, bfloat16 or binary16",
                        c->arith_name);
    if (c->acc_name && strcmp(c->acc_name, "same") != 0 && strcmp(c->acc_name, "binary32") != 0)
        return cli_fail(EXIT_USAGE, "--accumulate '%s': use same or binary32", c->acc_name);
    if (fpnet_arith_parse(&ar, c->arith_name, c->acc_name, c->order_name) != 0)
        return cli_fail(EXIT_USAGE, "--order '%s': use sequential, sequential-fma or pairwise",
                        c->order_name);
    if (ar.acc->prec < ar.fmt->prec)
        return cli_fail(EXIT_USAGE, "--accumulate binary32 with --arith %s: the accumulation "
                        "format must hold the format", ar.fmt->name);
    c->has_arith = 1;
    c->ar = ar;
    /* the canonical names, as reports and shards record them */
    c->arith_name = ar.fmt->name;
    c->acc_name = ar.acc != ar.fmt ? ar.acc->name : NULL;
    c->order_name = ar.order != FPF_SUM_SEQUENTIAL ? fpf_order_name(ar.order) : NULL;
    return 0;
}

static int cmd_verify(int argc, char **argv, int sweep)
{
    cli_t c;
    memset(&c, 0, sizeof c);
    c.verb = sweep ? "sweep" : "verify";
    c.argc = argc;
    c.argv = argv;
    int rc = parse_common(&c, argc, argv, sweep ? usage_sweep : usage_verify, ARGS_CLAIMS);
    if (rc == 0 && sweep && c.n_ids != 1)
        rc = cli_fail(EXIT_USAGE, "sweep takes exactly one claim id");
    if (rc == 0 && sweep && c.run.n_sets == 0)
        rc = cli_fail(EXIT_USAGE, "sweep needs at least one --set NAME=V1,V2,...");
    if (rc == 0)
        rc = parse_arith(&c, sweep);
    if (rc == 0)
        rc = run_claims(&c, NULL);
    cli_free(&c);
    return rc < 0 ? 0 : rc;
}

#define EXPORT_DEFAULT_SEED 1UL

static int cmd_export(int argc, char **argv)
{
    cli_t c;
    memset(&c, 0, sizeof c);
    int rc = parse_common(&c, argc, argv, usage_export, ARGS_CLAIMS);
    if (rc == 0)
        rc = parse_arith(&c, 1);
    if (rc == 0 && c.n_ids != 1)
        rc = cli_fail(EXIT_USAGE, "export takes exactly one claim id");
    if (rc == 0 && !c.run.seed_set) { /* the documented default, as model's --tokens */
        c.run.seed = EXPORT_DEFAULT_SEED;
        c.run.seed_set = 1;
    }
    int st = c.format_text && strcmp(c.format_text, "safetensors") == 0;
    if (rc == 0 && c.format_text && strcmp(c.format_text, "json") != 0 && !st)
        rc = cli_fail(EXIT_USAGE, "export: format '%s' is not supported (json or safetensors)",
                      c.format_text);
    if (rc == 0 && st && !c.out)
        rc = cli_fail(EXIT_USAGE, "export: --format safetensors needs --out FILE");
    if (rc == 0 && c.mutate)
        rc = cli_fail(EXIT_USAGE, "export: --mutate is not supported");
    if (rc == 0 && c.run.shard_count)
        rc = cli_fail(EXIT_USAGE, "export: --shard is not supported");
    if (rc == 0) {
        char err[512];
        const claim_t *cl = claim_find(c.ids[0]);
        arith_claim_t twin; /* --arith: the instance a float row runs (fresh tokens) */
        if (c.has_arith && cl->export_instance &&
            arith_claim_make(&twin, cl, &c.ar, err, sizeof err) == 0)
            cl = &twin.claim;
        if (!cl->export_instance)
            rc = cli_fail(EXIT_USAGE, "claim '%s' has no instance to export", cl->id);
        else if (runner_validate(cl, &c.run, err, sizeof err) != 0)
            rc = cli_fail(EXIT_USAGE, "%s", err);
        else if (runner_check_limits(&cl, 1, &c.run, err, sizeof err) != 0)
            rc = cli_fail(EXIT_DATAERR, "%s", err);
        else if (st)
            rc = export_claim_network(cl, &c.run, c.export_prec ? c.export_prec : 256, c.out);
        else
            rc = export_claim_instance(cl, &c.run, c.export_prec ? c.export_prec : 256, c.out);
    }
    cli_free(&c);
    return rc < 0 ? 0 : rc;
}

/* merge DIR...: the run's options come from the shards; merge's own are
 * where the reports go and the limits. */
static int cmd_merge(int argc, char **argv)
{
    cli_t c;
    memset(&c, 0, sizeof c);
    c.argc = argc;
    c.argv = argv;
    int rc = parse_common(&c, argc, argv, usage_merge, ARGS_DIRS);
    if (rc == 0)
        rc = parse_arith(&c, 0);
    if (rc == 0 && (c.run.full || c.run.seed_set || c.run.prec_list || c.run.n_sets ||
                    c.run.jobs != 1 || c.run.shard_count || c.mutate || c.no_write ||
                    c.run.dry_run || c.run.resume))
        rc = cli_fail(EXIT_USAGE, "merge takes only --out, --format, --max-rows, --max-memory, "
                      "--plot-timeout and --recheck (the run's options are in the shards)");
    if (rc == 0 && c.n_dirs == 0)
        rc = cli_fail(EXIT_USAGE, "merge needs the shards' directories (see merge --help)");
    if (rc == 0 && c.format_text && report_parse_formats(&c.formats, c.format_text) != 0)
        rc = cli_fail(EXIT_USAGE, "--format '%s': use md,csv,json,svg,junit", c.format_text);
    shard_set_t *set = NULL;
    shard_run_t shards;
    if (rc == 0) {
        char err[512];
        rc = shard_set_read(&set, &shards, c.dirs, c.n_dirs, c.run.max_memory, err, sizeof err);
        if (rc)
            cli_fail(rc, "merge: %s", err);
    }
    if (rc == 0)
        shard_set_recheck(set, c.recheck_set ? c.recheck : SHARD_RECHECK_DEFAULT);
    if (rc == 0 && strcmp(shards.verb, "model") == 0) {
        rc = cmd_model_merge(&shards, set, c.out, c.formats, &c.run);
    } else if (rc == 0) {
        /* the shards' run, merge's output and limits; no rows at work */
        cli_t m = c;
        m.verb = shards.verb;
        m.n_ids = shards.n_ids;
        memcpy(m.ids, shards.ids, sizeof m.ids);
        m.mutate = shards.mutate;
        m.mutate_name = shards.mutate_name;
        m.run = shards.options;
        m.arith_name = shards.arith;
        m.acc_name = shards.accumulate;
        m.order_name = shards.order;
        m.run.max_rows = c.run.max_rows;
        m.run.max_memory = c.run.max_memory;
        m.run.jobs = 0;
        rc = parse_arith(&m, 1);
        if (rc == 0)
            rc = run_claims(&m, set);
    }
    shard_set_free(set);
    cli_free(&c);
    return rc < 0 ? 0 : rc;
}

/* attncheck's version, then its libraries' as the reports record them. */
static int print_version(void)
{
    printf("attncheck %s\n", attncheck_version());
    report_print_libraries(stdout);
    putchar('\n');
    return 0;
}

int main(int argc, char **argv)
{
    int rc;
    xalloc_install_library_hooks(); /* before any GMP/MPFR allocation */
    outfile_init();
    xalloc_on_fatal(outfile_die); /* out of memory: the same cleanup as a signal */
    if (argc < 2) {
        fputs(usage_main, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_main, stdout);
        rc = 0;
    } else if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        rc = argc > 2 ? cli_fail(EXIT_USAGE, "%s takes no arguments", cmd) : print_version();
    } else if (strcmp(cmd, "list") == 0) {
        rc = cmd_list(argc - 1, argv + 1);
    } else if (strcmp(cmd, "describe") == 0) {
        rc = cmd_describe(argc - 1, argv + 1);
    } else if (strcmp(cmd, "verify") == 0) {
        rc = cmd_verify(argc - 1, argv + 1, 0);
    } else if (strcmp(cmd, "sweep") == 0) {
        rc = cmd_verify(argc - 1, argv + 1, 1);
    } else if (strcmp(cmd, "export") == 0) {
        rc = cmd_export(argc - 1, argv + 1);
    } else if (strcmp(cmd, "merge") == 0) {
        rc = cmd_merge(argc - 1, argv + 1);
    } else if (strcmp(cmd, "activation") == 0) {
        rc = cmd_activation(argc - 1, argv + 1);
    } else if (strcmp(cmd, "model") == 0) {
        rc = cmd_model(argc - 1, argv + 1);
    } else if (strcmp(cmd, "exchange") == 0) {
        rc = cmd_exchange(argc - 1, argv + 1);
    } else {
        rc = cli_fail(EXIT_USAGE, "unknown command '%s' (see attncheck --help)", cmd);
    }
    par_shutdown(); /* helper threads free their caches */
    mpfr_free_cache();
    flint_cleanup();
    return cli_finish_stdout(rc);
}
