/* A row's parameters and extra columns. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "exitcodes.h"
#include "outfile.h"
#include "row.h"

const char *params_get(const params_t *p, const char *name)
{
    for (int k = 0; k < p->n; k++)
        if (strcmp(p->name[k], name) == 0)
            return p->value[k];
    return NULL;
}

int params_get_long(long *out, const params_t *p, const char *name)
{
    const char *s = params_get(p, name);
    /* digits with an optional '-': strtol alone would take " 5" and "+5" */
    if (!s || !((*s >= '0' && *s <= '9') || (*s == '-' && s[1] >= '0' && s[1] <= '9')))
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

int params_get_ival(arb_t out, const params_t *p, const char *name, mpfr_prec_t prec)
{
    const char *s = params_get(p, name);
    if (!s || !*s)
        return -1;
    /* ival_set_str encloses the decimal value: both ends rounded outward. */
    return ival_set_str(out, s, prec);
}

double params_get_double(const params_t *p, const char *name, double dflt)
{
    const char *s = params_get(p, name);
    if (!s)
        return dflt;
    char *end;
    double v = strtod(s, &end);
    return *end ? dflt : v;
}

const column_t *row_find_column(const row_t *r, const char *name)
{
    for (int k = 0; k < r->n_extra; k++)
        if (strcmp(r->extra[k].name, name) == 0)
            return r->extra + k;
    return NULL;
}

static column_t *row_new_column(row_t *r, const char *name)
{
    const column_t *old = row_find_column(r, name);
    if (old)
        return r->extra + (old - r->extra);
    if (r->n_extra >= ROW_MAX_EXTRA)
        outfile_die(EXIT_SOFTWARE, "internal error: a claim adds more columns than a row "
                    "holds"); /* a module bug */
    column_t *c = r->extra + r->n_extra++;
    c->name = name;
    c->is_ival = 0;
    arb_init(c->iv);
    c->str[0] = '\0';
    return c;
}

arb_ptr row_add_ival(row_t *r, const char *name)
{
    column_t *c = row_new_column(r, name);
    c->is_ival = 1;
    return c->iv;
}

void row_add_text(row_t *r, const char *name, const char *fmt, ...)
{
    column_t *c = row_new_column(r, name);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->str, sizeof c->str, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof c->str) {
        /* cut: end on a UTF-8 character boundary with an ellipsis, so a cut
         * value never reads as a whole one */
        size_t k = sizeof c->str - 4;
        while (k > 0 && ((unsigned char)c->str[k] & 0xC0) == 0x80)
            k--;
        memcpy(c->str + k, "\xE2\x80\xA6", 4);
    }
}

void row_add_long(row_t *r, const char *name, long v)
{
    row_add_text(r, name, "%ld", v);
}
