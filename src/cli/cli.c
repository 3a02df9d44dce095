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

int cli_finish_stdout(int rc)
{
    errno = 0;
    int bad = fflush(stdout) != 0 || ferror(stdout);
    int e = stdout_errno ? stdout_errno : errno;
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
