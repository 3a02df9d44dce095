/* Command-line helpers (cli.h). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "exitcodes.h"
#include "outfile.h"
#include "par.h"
#include "shard.h"

int cli_fail(int code, const char *fmt, ...)
{
    char msg[1024], full[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(full, sizeof full, fmt, ap);
    va_end(ap);
    /* too long: the middle goes (an echoed path or value), never the start
     * (what failed) or the end (why) */
    size_t len = n < 0 ? 0 : (size_t)n < sizeof full ? (size_t)n : sizeof full - 1;
    if (len < sizeof msg)
        memcpy(msg, full, len + 1);
    else
        snprintf(msg, sizeof msg, "%.500s...%s", full, full + len - 480);
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?'; /* a newline in user text must not make a second line */
    fprintf(stderr, "attncheck: %s\n", msg);
    return code;
}

int cli_has_control_char(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

int cli_is_utf8(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        int n = *u < 0x80 ? 0 : (*u & 0xe0) == 0xc0 ? 1 : (*u & 0xf0) == 0xe0 ? 2
              : (*u & 0xf8) == 0xf0 ? 3 : -1;
        if (n < 0 || (n == 1 && *u < 0xc2) || (n == 3 && *u > 0xf4))
            return 0;
        unsigned long cp = n ? *u & (0x3fu >> n) : *u;
        for (int k = 1; k <= n; k++) {
            if ((u[k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (u[k] & 0x3fu);
        }
        /* overlong forms, UTF-16 surrogates and past U+10FFFF are not UTF-8 */
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        u += n + 1;
    }
    return 1;
}

int cli_split_flag(char *buf, size_t bufsz, const char **value, const char *arg)
{
    const char *eq = strchr(arg, '=');
    *value = NULL;
    if (arg[0] == '-' && arg[1] == '-' && eq) {
        if ((size_t)(eq - arg) >= bufsz)
            return -1;
        memcpy(buf, arg, (size_t)(eq - arg));
        buf[eq - arg] = '\0';
        *value = eq + 1;
        return 0;
    }
    if (arg[0] != '-') { /* an operand (a path, a claim) of any length: no flag */
        if (bufsz)
            buf[0] = '\0';
        return 0;
    }
    if (strlen(arg) >= bufsz)
        return -1;
    strcpy(buf, arg);
    return 0;
}

int cli_parse_count(long *out, const char *s, long max)
{
    char *end;
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < 1 || v > max)
        return -1;
    *out = v;
    return 0;
}

/* A plain decimal number (digits, one optional point): no sign, exponent,
 * hex, inf or nan. */
static int parse_plain_number(double *out, const char *s, const char **rest)
{
    const char *p = s;
    int digits = 0, points = 0;
    for (; (*p >= '0' && *p <= '9') || *p == '.'; p++) {
        digits += *p != '.';
        points += *p == '.';
    }
    if (!digits || points > 1)
        return -1;
    char buf[64];
    if ((size_t)(p - s) >= sizeof buf)
        return -1;
    memcpy(buf, s, (size_t)(p - s));
    buf[p - s] = '\0';
    *out = strtod(buf, NULL);
    *rest = p;
    return isfinite(*out) ? 0 : -1;
}

int cli_parse_seconds(double *out, const char *s)
{
    const char *rest;
    double v;
    if (!s || parse_plain_number(&v, s, &rest) != 0 || *rest || !(v > 0) || v > 1e6)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_bytes(double *out, const char *s)
{
    const char *rest;
    double v;
    if (!s || parse_plain_number(&v, s, &rest) != 0)
        return -1;
    const char *units = "KMGT";
    const char *u = *rest ? strchr(units, *rest) : NULL;
    if (u) {
        v = ldexp(v, 10 * (int)(u - units + 1));
        rest++;
        if (strcmp(rest, "iB") == 0 || strcmp(rest, "B") == 0)
            rest += strlen(rest);
    } else if (strcmp(rest, "B") == 0) {
        rest++;
    }
    if (*rest || !(v >= 1))
        return -1;
    *out = v;
    return 0;
}

static int stdout_errno; /* the first failed flush's reason */

int cli_stdout_reader_gone(int e)
{
    if (e == EPIPE)
        return 1;
    /* a write inside printf may have failed before: its errno is gone, but
     * a pipe with no reader says so (POLLERR on its write end) */
    struct stat st;
    struct pollfd p = {.fd = STDOUT_FILENO, .events = POLLOUT};
    return fstat(STDOUT_FILENO, &st) == 0 && S_ISFIFO(st.st_mode) && poll(&p, 1, 0) == 1 &&
           (p.revents & POLLERR);
}

void cli_flush_stdout(void)
{
    errno = 0;
    if (fflush(stdout) != 0 && !stdout_errno)
        stdout_errno = errno;
}

/* An errno a failed write of standard output leaves (stdio keeps only the
 * error flag; errno still holds the reason unless a later call changed it). */
static int write_errno(int e)
{
    return e == ENOSPC || e == EFBIG || e == EIO || e == EPIPE || e == EDQUOT ? e : 0;
}

int cli_finish_stdout(int rc)
{
    int earlier = write_errno(errno);
    errno = 0;
    int bad = fflush(stdout) != 0 || ferror(stdout);
    int e = stdout_errno ? stdout_errno : errno ? errno : earlier;
    if (fclose(stdout) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (!bad || rc >= EXIT_USAGE)
        return rc;
    if (cli_stdout_reader_gone(e))
        return EXIT_IOERR; /* its reader left: quietly (cli.h) */
    return cli_fail(EXIT_IOERR, "cannot write standard output: %s",
                    e ? strerror(e) : "write error");
}

/* ---------------------------------------------------------- option parser */

static int common_fail(const cli_common_t *c, const char *fmt, const char *a, const char *b)
{
    char msg[1200];
    snprintf(msg, sizeof msg, fmt, a, b ? b : "");
    return c->prefix ? cli_fail(EXIT_USAGE, "%s: %s", c->prefix, msg)
                     : cli_fail(EXIT_USAGE, "%s", msg);
}

/* One common option; 1 when flag is none of them (or the verb lacks it). */
static int common_apply(cli_common_t *c, const char *flag, const char *val, int *rc)
{
    run_options_t *ro = c->run;
    long n;
    *rc = 0;
    if (ro && strcmp(flag, "--jobs") == 0) {
        if (cli_parse_count(&n, val, 256) != 0)
            *rc = common_fail(c, "--jobs '%s' is not an integer in [1, 256]%s", val, NULL);
        else
            ro->jobs = (int)n;
    } else if (c->threads && strcmp(flag, "--threads") == 0) {
        if (cli_parse_count(&n, val, 1024) != 0)
            *rc = common_fail(c, "--threads '%s' is not an integer in [1, 1024]%s", val, NULL);
        else
            par_set_threads((int)n);
    } else if (ro && strcmp(flag, "--max-rows") == 0) {
        if (cli_parse_count(&ro->max_rows, val, 1000000000000L) != 0)
            *rc = common_fail(c, "--max-rows '%s' is not an integer in [1, 10^12]%s", val, NULL);
    } else if (ro && strcmp(flag, "--max-memory") == 0) {
        if (cli_parse_bytes(&ro->max_memory, val) != 0)
            *rc = common_fail(c, "--max-memory '%s' is not a size such as 512M or 8G%s", val,
                              NULL);
    } else if (ro && strcmp(flag, "--max-seconds") == 0) {
        if (cli_parse_seconds(&ro->max_seconds, val) != 0)
            *rc = common_fail(c, "--max-seconds '%s' is not a number of seconds in (0, 10^6]%s",
                              val, NULL);
    } else if (ro && strcmp(flag, "--shard") == 0) {
        char max[32];
        snprintf(max, sizeof max, "%ld", SHARD_COUNT_MAX);
        if (shard_parse(&ro->shard_index, &ro->shard_count, val) != 0)
            *rc = common_fail(c, "--shard '%s' is not K/N with 0 <= K < N <= %s", val, max);
    } else if (c->plot_timeout && strcmp(flag, "--plot-timeout") == 0) {
        double sec;
        if (cli_parse_seconds(&sec, val) != 0)
            *rc = common_fail(c, "--plot-timeout '%s' is not a number of seconds in (0, 10^6]%s",
                              val, NULL);
        else
            plot_set_time_limit(sec);
    } else if (c->out && strcmp(flag, "--out") == 0) {
        if (!*val)
            *rc = common_fail(c, "--out needs a non-empty path%s%s", "", NULL);
        else if (c->out_is_dir && strcmp(val, "-") == 0) /* not a directory named "-" */
            *rc = common_fail(c, "--out - is standard output; reports need a directory%s%s", "",
                              NULL);
        else if (cli_has_control_char(val))
            *rc = common_fail(c, "--out '%s': the path holds a control character%s", val, NULL);
        else
            *c->out = val;
    } else if (c->format && strcmp(flag, "--format") == 0) {
        *c->format = val;
    } else if (c->arith && strcmp(flag, "--arith") == 0) {
        *c->arith = val;
    } else if (c->accumulate && strcmp(flag, "--accumulate") == 0) {
        *c->accumulate = val;
    } else if (c->order && strcmp(flag, "--order") == 0) {
        *c->order = val;
    } else {
        return 1;
    }
    return 0;
}

static int common_is_flag(const cli_common_t *c, const char *flag)
{
    return c && ((c->no_write && strcmp(flag, "--no-write") == 0) ||
                 (c->run && (strcmp(flag, "--quiet") == 0 || strcmp(flag, "--dry-run") == 0 ||
                             strcmp(flag, "--resume") == 0)));
}

static void common_set_flag(cli_common_t *c, const char *flag)
{
    if (strcmp(flag, "--no-write") == 0)
        *c->no_write = 1;
    else if (strcmp(flag, "--quiet") == 0)
        c->run->progress = 0;
    else if (strcmp(flag, "--dry-run") == 0)
        c->run->dry_run = 1;
    else
        c->run->resume = 1;
}

/* Whether the verb has this common option taking a value. */
static int common_has(const cli_common_t *c, const char *flag)
{
    if (!c)
        return 0;
    const struct { const char *name; int has; } t[] = {
        {"--jobs", c->run != NULL}, {"--max-rows", c->run != NULL},
        {"--max-memory", c->run != NULL}, {"--max-seconds", c->run != NULL},
        {"--shard", c->run != NULL}, {"--threads", c->threads},
        {"--plot-timeout", c->plot_timeout},
        {"--out", c->out != NULL}, {"--format", c->format != NULL},
        {"--arith", c->arith != NULL}, {"--accumulate", c->accumulate != NULL},
        {"--order", c->order != NULL}};
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++)
        if (strcmp(t[k].name, flag) == 0)
            return t[k].has;
    return 0;
}

int cli_parse(int argc, char **argv, const char *usage, const cli_opt_t *opts, void *ctx,
              int (*operand)(void *ctx, const char *word), cli_common_t *common)
{
    const char *prefix = common && common->prefix ? common->prefix : NULL;
    char pre[64] = "";
    if (prefix)
        snprintf(pre, sizeof pre, "%s: ", prefix);
    int operands_only = 0;
    /* the options given so far: each at most once (--set adds an axis each time) */
    char seen[64][64];
    int n_seen = 0;
    for (int k = 1; k < argc; k++) {
        const char *a = argv[k], *val;
        char flag[64];
        if (operands_only || a[0] != '-' || strcmp(a, "-") == 0) {
            int rc = operand ? operand(ctx, a)
                             : cli_fail(EXIT_USAGE, "%sunexpected argument '%s'", pre, a);
            if (rc)
                return rc;
            continue;
        }
        if (strcmp(a, "--") == 0) { /* the rest are operands, even if they start with '-' */
            operands_only = 1;
            continue;
        }
        if (cli_split_flag(flag, sizeof flag, &val, a) != 0)
            return cli_fail(EXIT_USAGE, "%sunknown option '%.60s...' (see --help)", pre, a);
        if ((strcmp(flag, "--help") == 0 || strcmp(flag, "-h") == 0) && !val) {
            fputs(usage, stdout);
            return -1;
        }
        const cli_opt_t *o = NULL;
        for (int j = 0; opts && opts[j].name && !o; j++)
            if (strcmp(opts[j].name, flag) == 0)
                o = opts + j;
        if (!o && !common_is_flag(common, flag) && !common_has(common, flag))
            return cli_fail(EXIT_USAGE, "%sunknown option '%s' (see --help)", pre, a);
        if (strcmp(flag, "--set") != 0 && !(o && o->arity == CLI_VALUES)) {
            for (int j = 0; j < n_seen; j++)
                if (strcmp(seen[j], flag) == 0)
                    return cli_fail(EXIT_USAGE, "%soption %s is given twice", pre, flag);
            if (n_seen < 64)
                snprintf(seen[n_seen++], sizeof seen[0], "%s", flag); /* flag fits: < 64 */
        }
        cli_arity_t arity = o ? o->arity : common_is_flag(common, flag) ? CLI_FLAG : CLI_VALUE;
        if (arity == CLI_FLAG && val)
            return cli_fail(EXIT_USAGE, "%soption %s takes no value", pre, flag);
        if ((arity == CLI_VALUE || arity == CLI_VALUES) && !val) {
            /* "--out --no-write" is a forgotten value, not a directory named --no-write */
            if (k + 1 >= argc || (argv[k + 1][0] == '-' && argv[k + 1][1] == '-'))
                return cli_fail(EXIT_USAGE, "%soption %s needs a value (%s=V for a value "
                                "starting with --)", pre, flag, flag);
            val = argv[++k];
        }
        int rc;
        if (o && !o->apply) {
            *(const char **)(void *)((char *)ctx + o->slot) = val;
            rc = 0;
        } else if (o) {
            rc = o->apply(ctx, val);
        } else if (common_is_flag(common, flag)) {
            common_set_flag(common, flag);
            rc = 0;
        } else if (common_apply(common, flag, val, &rc)) {
            return cli_fail(EXIT_SOFTWARE, "%soption %s has no handler", pre, flag);
        }
        if (rc)
            return rc;
    }
    return 0;
}
