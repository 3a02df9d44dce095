/* attncheck: the command line.  Parses and validates everything before any
 * computation or output, so bad input gets one line and an exit code and
 * leaves no file behind. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "exitcodes.h"
#include "export.h"
#include "report.h"

int cmd_activation(int argc, char **argv);

static const char *usage_main =
    "usage: attncheck COMMAND [options]\n"
    "  list [--format text|md]            claims: id, theorem, kind, statement\n"
    "  verify [ID...] [options]           check claims, write reports (all claims if no ID)\n"
    "  sweep ID --set NAME=V1,V2,... [options]   one claim over a grid you choose\n"
    "  activation (--name NAME | --expr EXPR) [--target NAME|EXPR] [--domain L] [--claim GAP]\n"
    "  export ID --seed N [--format json] [--out FILE]   one instance, exact decimals\n"
    "Run 'attncheck COMMAND --help' for a command's options.\n"
    "Exit: 0 all hold, 1 violated, 2 inconclusive, 64 usage, 65 bad data, 70 internal,\n"
    "      73 cannot create output, 74 cannot write output.\n";

static const char *usage_verify =
    "usage: attncheck verify [ID...] [--quick|--full] [--seed N] [--prec P[,P...]] [--jobs N]\n"
    "                        [--out DIR] [--format md,csv,json,svg] [--mutate[=NAME]]\n"
    "                        [--set NAME=V1,V2,...] [--no-write]\n"
    "  --quick        the default grid (fast); --full: the large grid\n"
    "  --seed N       replace every row's seed by N (a non-negative integer)\n"
    "  --prec LIST    working precisions in bits, each in [24, 65536]\n"
    "  --jobs N       rows run on N threads (default 1)\n"
    "  --out DIR      report directory (default reports)\n"
    "  --mutate[=NAME] run a deliberately broken construction; it must come out violated\n"
    "  --set N=V,...  replace (or add) the sweep axis N\n"
    "  --no-write     print the summary only\n";

static const char *usage_export =
    "usage: attncheck export ID --seed N [--format json] [--out FILE] [--prec P] [--set N=V]\n"
    "  Writes one instance of the claim (its first grid point, with seed N): shapes, every\n"
    "  weight matrix, the tokens, and both outputs, as exact decimal strings (point values)\n"
    "  or midpoint + radius (enclosures).  Without --out, to stdout.\n";

static int fail(int code, const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "attncheck: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return code;
}

static int parse_ulong(unsigned long *out, const char *s)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

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
    mpfr_prec_t export_prec;
    const char *verb;      /* the command line as typed, from the verb on */
    int argc;
    char **argv;
} cli_t;

/* Parse argv; returns 0, or an exit code after printing one line. */
static int parse_common(cli_t *c, int argc, char **argv, const char *usage, int allow_ids)
{
    run_options_default(&c->run);
    c->run.progress = 1;
    c->out = NULL;
    c->formats = FORMAT_ALL;
    c->format_text = NULL;
    for (int k = 1; k < argc; k++) {
        const char *a = argv[k];
        const char *val = NULL;
        const char *eq = strchr(a, '=');
        char flag[64];
        if (a[0] == '-' && a[1] == '-' && eq && (size_t)(eq - a) < sizeof flag) {
            memcpy(flag, a, (size_t)(eq - a));
            flag[eq - a] = '\0';
            val = eq + 1;
        } else {
            snprintf(flag, sizeof flag, "%s", a);
        }
#define NEEDS_VALUE()                                                                    \
    do {                                                                                 \
        if (!val) {                                                                      \
            if (k + 1 >= argc)                                                           \
                return fail(EXIT_USAGE, "option %s needs a value%s", flag, "");          \
            val = argv[++k];                                                             \
        }                                                                                \
    } while (0)
        if (strcmp(flag, "--help") == 0 || strcmp(flag, "-h") == 0) {
            fputs(usage, stdout);
            return -1;
        } else if (strcmp(flag, "--quick") == 0 && !val) {
            c->run.full = 0;
        } else if (strcmp(flag, "--full") == 0 && !val) {
            c->run.full = 1;
        } else if (strcmp(flag, "--seed") == 0) {
            NEEDS_VALUE();
            if (parse_ulong(&c->run.seed, val) != 0)
                return fail(EXIT_USAGE, "--seed '%s' is not a non-negative integer%s", val, "");
            c->run.seed_set = 1;
        } else if (strcmp(flag, "--prec") == 0) {
            NEEDS_VALUE();
            char buf[1024];
            snprintf(buf, sizeof buf, "%s", val);
            if (!*buf)
                return fail(EXIT_USAGE, "--prec needs a value%s%s", "", "");
            for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                mpfr_prec_t p;
                if (parse_prec(&p, t) != 0) {
                    char lim[64];
                    snprintf(lim, sizeof lim, "[%d, %d]", PREC_MIN, PREC_MAX);
                    return fail(EXIT_USAGE, "--prec '%s' is not an integer in %s", t, lim);
                }
                c->export_prec = p;
            }
            if (strstr(val, ",,") || val[0] == ',' || val[strlen(val) - 1] == ',')
                return fail(EXIT_USAGE, "--prec '%s' has an empty entry%s", val, "");
            c->run.prec_list = val;
        } else if (strcmp(flag, "--jobs") == 0) {
            NEEDS_VALUE();
            unsigned long j;
            if (parse_ulong(&j, val) != 0 || j < 1 || j > 256)
                return fail(EXIT_USAGE, "--jobs '%s' is not an integer in [1, 256]%s", val, "");
            c->run.jobs = (int)j;
        } else if (strcmp(flag, "--out") == 0) {
            NEEDS_VALUE();
            if (!*val)
                return fail(EXIT_USAGE, "--out needs a non-empty path%s%s", "", "");
            c->out = val;
        } else if (strcmp(flag, "--format") == 0) {
            NEEDS_VALUE();
            c->format_text = val;
        } else if (strcmp(flag, "--mutate") == 0) {
            c->mutate = 1;
            c->mutate_name = val;
        } else if (strcmp(flag, "--no-write") == 0 && !val) {
            c->no_write = 1;
        } else if (strcmp(flag, "--set") == 0) {
            NEEDS_VALUE();
            const char *e = strchr(val, '=');
            if (!e || e == val || !e[1])
                return fail(EXIT_USAGE, "--set '%s' is not NAME=V1,V2,...%s", val, "");
            if (c->run.n_sets >= RUN_MAX_SETS)
                return fail(EXIT_USAGE, "too many --set options%s%s", "", "");
            char *name = strndup(val, (size_t)(e - val));
            c->run.set_name[c->run.n_sets] = name;
            c->run.set_values[c->run.n_sets++] = e + 1;
        } else if (a[0] == '-') {
            return fail(EXIT_USAGE, "unknown option '%s' (see --help)%s", a, "");
        } else if (allow_ids) {
            if (c->n_ids >= 64)
                return fail(EXIT_USAGE, "too many claims%s%s", "", "");
            if (!claim_find(a))
                return fail(EXIT_USAGE, "unknown claim '%s' (see 'attncheck list')%s", a, "");
            c->ids[c->n_ids++] = a;
        } else {
            return fail(EXIT_USAGE, "unexpected argument '%s'%s", a, "");
        }
#undef NEEDS_VALUE
    }
    return 0;
}

static void cli_free(cli_t *c)
{
    for (int k = 0; k < c->run.n_sets; k++)
        free((char *)c->run.set_name[k]);
}

static int run_claims(cli_t *c)
{
    char err[512];
    const claim_t *claims[64];
    int n = 0;
    if (c->n_ids == 0)
        for (int k = 0; claim_registry[k] && n < 64; k++)
            claims[n++] = claim_registry[k];
    else
        for (int k = 0; k < c->n_ids; k++)
            claims[n++] = claim_find(c->ids[k]);
    if (c->format_text && report_parse_formats(&c->formats, c->format_text) != 0)
        return fail(EXIT_USAGE, "--format '%s': use md,csv,json,svg%s", c->format_text, "");
    /* Validate everything before running or writing. */
    int mutations[64];
    for (int k = 0; k < n; k++) {
        mutations[k] = 0;
        if (c->mutate) {
            mutations[k] = claim_mutation_index(claims[k], c->mutate_name);
            if (mutations[k] < 0)
                return fail(EXIT_USAGE, "claim '%s' has no mutation '%s'", claims[k]->id,
                            c->mutate_name ? c->mutate_name : "");
        }
        if (runner_validate(claims[k], &c->run, err, sizeof err) != 0)
            return fail(EXIT_USAGE, "%s%s", err, "");
    }
    const char *out = c->out ? c->out : "reports";
    int created = 0;
    if (!c->no_write && report_prepare_dir(out, &created, err, sizeof err) != 0)
        return fail(EXIT_CANTCREAT, "%s%s", err, "");

    report_run_t how = {.verb = c->verb, .ids = c->ids, .n_ids = c->n_ids, .mutate = c->mutate,
                        .mutate_name = c->mutate_name, .options = &c->run, .argc = c->argc,
                        .argv = c->argv};
    claim_report_t *reps = calloc((size_t)n, sizeof *reps);
    int status = EXIT_HOLDS, done = 0;
    for (int k = 0; k < n; k++) {
        run_options_t o = c->run;
        o.mutation = mutations[k];
        if (runner_run_claim(reps + k, claims[k], &o, err, sizeof err) != 0) {
            fprintf(stderr, "attncheck: %s\n", err);
            claim_report_clear(reps + k);
            status = EXIT_DATAERR;
            break;
        }
        done++;
        report_print_summary(stdout, reps + k);
        fflush(stdout);
        report_print_timing(stderr, reps + k);
        if (reps[k].violated)
            status = EXIT_VIOLATED;
        else if (reps[k].inconclusive && status == EXIT_HOLDS)
            status = EXIT_INCONCLUSIVE;
    }
    if (status != EXIT_DATAERR && !c->no_write) {
        for (int k = 0; k < done && status != EXIT_CANTCREAT && status != EXIT_IOERR; k++) {
            int rc = report_write_claim(reps + k, &how, out, c->formats, err, sizeof err);
            if (rc) {
                fprintf(stderr, "attncheck: %s\n", err);
                status = rc;
            }
        }
        if (status != EXIT_CANTCREAT && status != EXIT_IOERR && (c->formats & FORMAT_MD)) {
            int rc = report_write_index(reps, done, &how, out, err, sizeof err);
            if (rc) {
                fprintf(stderr, "attncheck: %s\n", err);
                status = rc;
            } else {
                printf("reports written to %s/ (index.md)\n", out);
            }
        }
        if (status != EXIT_CANTCREAT && status != EXIT_IOERR) {
            int rc = report_write_run_log(reps, done, &how, out, err, sizeof err);
            if (rc) {
                fprintf(stderr, "attncheck: %s\n", err);
                status = rc;
            }
        }
    }
    if (status == EXIT_DATAERR && !c->no_write)
        report_discard_dir(out, created);
    for (int k = 0; k < done; k++)
        claim_report_clear(reps + k);
    free(reps);
    return status;
}

static int cmd_list(int argc, char **argv)
{
    int md = 0;
    for (int k = 1; k < argc; k++) {
        if (strcmp(argv[k], "--help") == 0) {
            puts("usage: attncheck list [--format text|md]");
            return 0;
        } else if (strcmp(argv[k], "--format=md") == 0 ||
                   (strcmp(argv[k], "--format") == 0 && k + 1 < argc && strcmp(argv[k + 1], "md") == 0)) {
            md = 1;
            k += argv[k][8] == '\0';
        } else if (strcmp(argv[k], "--format=text") == 0 ||
                   (strcmp(argv[k], "--format") == 0 && k + 1 < argc && strcmp(argv[k + 1], "text") == 0)) {
            k += argv[k][8] == '\0';
        } else {
            return fail(EXIT_USAGE, "list: unexpected argument '%s'%s", argv[k], "");
        }
    }
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

static int cmd_verify(int argc, char **argv, int sweep)
{
    cli_t c;
    memset(&c, 0, sizeof c);
    c.verb = sweep ? "sweep" : "verify";
    c.argc = argc;
    c.argv = argv;
    int rc = parse_common(&c, argc, argv, sweep ? "usage: attncheck sweep ID --set NAME=V1,V2,... "
                                                  "[verify options]\n" : usage_verify, 1);
    if (rc == 0 && sweep && c.n_ids != 1)
        rc = fail(EXIT_USAGE, "sweep takes exactly one claim id%s%s", "", "");
    if (rc == 0 && sweep && c.run.n_sets == 0)
        rc = fail(EXIT_USAGE, "sweep needs at least one --set NAME=V1,V2,...%s%s", "", "");
    if (rc == 0)
        rc = run_claims(&c);
    cli_free(&c);
    return rc < 0 ? 0 : rc;
}

static int cmd_export(int argc, char **argv)
{
    cli_t c;
    memset(&c, 0, sizeof c);
    int rc = parse_common(&c, argc, argv, usage_export, 1);
    if (rc == 0 && c.n_ids != 1)
        rc = fail(EXIT_USAGE, "export takes exactly one claim id%s%s", "", "");
    if (rc == 0 && !c.run.seed_set)
        rc = fail(EXIT_USAGE, "export needs --seed N%s%s", "", "");
    if (rc == 0 && c.format_text && strcmp(c.format_text, "json") != 0)
        rc = fail(EXIT_USAGE, "export: format '%s' is not supported (only json)%s", c.format_text, "");
    if (rc == 0) {
        char err[512];
        const claim_t *cl = claim_find(c.ids[0]);
        if (!cl->export_instance)
            rc = fail(EXIT_USAGE, "claim '%s' has no instance to export%s", cl->id, "");
        else if (runner_validate(cl, &c.run, err, sizeof err) != 0)
            rc = fail(EXIT_USAGE, "%s%s", err, "");
        else
            rc = export_claim_instance(cl, &c.run, c.export_prec ? c.export_prec : 256, c.out);
    }
    cli_free(&c);
    return rc < 0 ? 0 : rc;
}

int main(int argc, char **argv)
{
    int rc;
    ball_install_memory_handlers(); /* out of memory in Arb: one line, exit 70 */
    if (argc < 2) {
        fputs(usage_main, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_main, stdout);
        rc = 0;
    } else if (strcmp(cmd, "list") == 0) {
        rc = cmd_list(argc - 1, argv + 1);
    } else if (strcmp(cmd, "verify") == 0) {
        rc = cmd_verify(argc - 1, argv + 1, 0);
    } else if (strcmp(cmd, "sweep") == 0) {
        rc = cmd_verify(argc - 1, argv + 1, 1);
    } else if (strcmp(cmd, "export") == 0) {
        rc = cmd_export(argc - 1, argv + 1);
    } else if (strcmp(cmd, "activation") == 0) {
        rc = cmd_activation(argc - 1, argv + 1);
    } else {
        rc = fail(EXIT_USAGE, "unknown command '%s' (see attncheck --help)%s", cmd, "");
    }
    mpfr_free_cache();
    flint_cleanup();
    return rc;
}
