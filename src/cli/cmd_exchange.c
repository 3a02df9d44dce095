/* `attncheck exchange FILE`: the exchange rate of a model's MLPs in heads
 * (exchange.h): exact reductions, the merged curve E(k) per block, and the
 * smallest k with E <= 1e-3 S, run by the one runner and written like a
 * claim's report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "exchange.h"
#include "exitcodes.h"
#include "report.h"
#include "runset.h"

static const char *usage_exchange =
    "usage: attncheck exchange FILE.safetensors [--input X] [--tokens N] [--seed N]\n"
    "                          [--blocks LIST] [--margin M] [--prec P] [--out DIR]\n"
    "                          [--format md,csv,json,svg]\n"
    "                          [--mutate merges-claimed-exact] [--no-write] [--jobs N]\n"
    "                          [--threads N]\n"
    "  How many heads each block's MLP needs: the exact floor after reductions (duplicate,\n"
    "  opposite, dead and silent neurons), the error E(k) of k merged heads on the tokens\n"
    "  (certified) against its bound over every LayerNorm output (--margin M: over the box\n"
    "  around the tokens' LayerNorm outputs widened by M), and the smallest k with\n"
    "  E <= 1e-3 S (doc/exchange.md).\n";

typedef struct {
    const char *file, *input, *blocks, *margin, *out, *format_text, *mutate_name;
    long tokens;
    int tokens_set, seed_set, no_write;
    unsigned long seed;
    mpfr_prec_t prec;
} exchange_cli_t;

static int opt_input(void *ctx, const char *v)
{
    if (cli_has_control_char(v))
        return cli_fail(EXIT_USAGE, "exchange: the --input path may not hold control characters");
    ((exchange_cli_t *)ctx)->input = v;
    return 0;
}

static int opt_tokens(void *ctx, const char *v)
{
    exchange_cli_t *c = ctx;
    if (cli_parse_count(&c->tokens, v, 1000000) != 0)
        return cli_fail(EXIT_USAGE, "exchange: --tokens '%s' is not an integer in [1, 10^6]", v);
    c->tokens_set = 1;
    return 0;
}

static int opt_seed(void *ctx, const char *v)
{
    exchange_cli_t *c = ctx;
    if (parse_seed(&c->seed, v) != 0)
        return cli_fail(EXIT_USAGE, "exchange: --seed '%s' is not an integer in [0, %lu]", v,
                        (unsigned long)-1);
    c->seed_set = 1;
    return 0;
}

static int opt_prec(void *ctx, const char *v)
{
    if (parse_prec(&((exchange_cli_t *)ctx)->prec, v) != 0)
        return cli_fail(EXIT_USAGE, "exchange: --prec '%s' is not an integer in [%d, %d]", v,
                        PREC_MIN, PREC_MAX);
    return 0;
}

static int opt_blocks(void *ctx, const char *v)
{
    ((exchange_cli_t *)ctx)->blocks = v;
    return 0;
}

static int opt_margin(void *ctx, const char *v)
{
    char *end;
    double m = strtod(v, &end);
    if (end == v || *end || !(m >= 0) || m > 1e6)
        return cli_fail(EXIT_USAGE, "exchange: --margin '%s' is not a number in [0, 1e6]", v);
    ((exchange_cli_t *)ctx)->margin = v;
    return 0;
}

static int opt_mutate(void *ctx, const char *v)
{
    if (strcmp(v, "merges-claimed-exact") != 0)
        return cli_fail(EXIT_USAGE, "exchange: no mutation '%s' (merges-claimed-exact)", v);
    ((exchange_cli_t *)ctx)->mutate_name = v;
    return 0;
}

static int operand_file(void *ctx, const char *a)
{
    exchange_cli_t *c = ctx;
    if (c->file)
        return cli_fail(EXIT_USAGE, "exchange: unexpected argument '%s' (one model file)", a);
    if (cli_has_control_char(a))
        return cli_fail(EXIT_USAGE, "exchange: the model path may not hold control characters");
    c->file = a;
    return 0;
}

static void on_printed(const claim_report_t *rep, void *arg)
{
    (void)arg;
    for (long k = 0; k < rep->n_rows; k++) {
        const row_t *r = rep->rows + k;
        const char *check = params_get(&r->params, "check");
        if (!check || strcmp(check, "merge") == 0)
            continue;
        const column_t *fl = row_find_column(r, "floor heads");
        const column_t *hk = row_find_column(r, "heads found");
        printf("    block %s %s: %s%s%s%s  E in [%.3g, %.3g]  %s\n",
               params_get(&r->params, "block"), check, fl ? "floor " : "", fl ? fl->str : "",
               hk ? "  k(E <= 1e-3 S) " : "", hk ? hk->str : "", ival_lo_d(r->error),
               ival_hi_d(r->error), verdict_name(r->verdict));
    }
}

/* The canonical command: every option that changes a number, quoted for the shell. */
static char *replay_line(const exchange_cli_t *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    fputs("attncheck exchange ", f);
    report_shell_quote(f, c->file);
    if (c->input) {
        fputs(" --input ", f);
        report_shell_quote(f, c->input);
    } else {
        fprintf(f, " --tokens %ld --seed %lu", c->tokens, c->seed);
    }
    if (c->blocks) {
        fputs(" --blocks ", f);
        report_shell_quote(f, c->blocks);
    }
    if (c->margin) {
        fputs(" --margin ", f);
        report_shell_quote(f, c->margin);
    }
    fprintf(f, " --prec %ld", (long)c->prec);
    if (c->mutate_name)
        fprintf(f, " --mutate %s", c->mutate_name);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

int cmd_exchange(int argc, char **argv)
{
    exchange_cli_t c;
    memset(&c, 0, sizeof c);
    c.prec = 128;
    c.tokens = 32;
    c.seed = 1;
    run_options_t ro;
    run_options_default(&ro);
    ro.progress = 1;
    static const cli_opt_t opts[] = {
        {"--input", CLI_VALUE, opt_input, 0},   {"--tokens", CLI_VALUE, opt_tokens, 0},
        {"--seed", CLI_VALUE, opt_seed, 0},     {"--prec", CLI_VALUE, opt_prec, 0},
        {"--blocks", CLI_VALUE, opt_blocks, 0}, {"--mutate", CLI_VALUE, opt_mutate, 0},
        {"--margin", CLI_VALUE, opt_margin, 0},
        {NULL, CLI_FLAG, NULL, 0}};
    cli_common_t common = {.prefix = "exchange", .run = &ro, .threads = 1, .plot_timeout = 1,
                           .out = &c.out, .out_is_dir = 1, .format = &c.format_text,
                           .no_write = &c.no_write};
    int rc = cli_parse(argc, argv, usage_exchange, opts, &c, operand_file, &common);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!c.file)
        return cli_fail(EXIT_USAGE, "exchange: which model? (attncheck exchange FILE.safetensors)");
    if (c.input && (c.tokens_set || c.seed_set))
        return cli_fail(EXIT_USAGE, "exchange: --tokens and --seed draw tokens; --input gives them");
    int formats = FORMAT_ALL;
    if (c.format_text && report_parse_formats(&formats, c.format_text) != 0)
        return cli_fail(EXIT_USAGE, "exchange: --format '%s': use md,csv,json,svg",
                        c.format_text);
    if (ro.shard_count > 0)
        return cli_fail(EXIT_USAGE, "exchange: --shard is not supported (one run)");
    exchange_spec_t spec = {.file = c.file, .input = c.input, .tokens = c.tokens,
                            .seed = c.seed, .blocks = c.blocks, .margin = c.margin,
                            .prec = c.prec};
    char err[700];
    exchange_t *x = NULL;
    rc = exchange_open(&x, &spec, err, sizeof err);
    if (rc)
        return cli_fail(rc, "exchange: %s", err);
    char *cmd = replay_line(&c);
    if (!cmd) {
        exchange_free(x);
        return cli_fail(EXIT_SOFTWARE, "exchange: out of memory");
    }
    const claim_t *claims[1] = {exchange_claim(x)};
    int mutations[1] = {c.mutate_name ? 1 : 0};
    report_run_t how = {.verb = "exchange", .options = &ro, .argc = argc, .argv = argv,
                        .command = cmd};
    runset_t rs = {.claims = claims, .mutations = mutations, .n = 1, .run = &ro, .how = &how,
                   .out = c.out, .formats = formats, .no_write = c.no_write,
                   .mutate = c.mutate_name != NULL, .on_printed = on_printed};
    rc = runset_run(&rs);
    free(cmd);
    exchange_free(x);
    return rc;
}
