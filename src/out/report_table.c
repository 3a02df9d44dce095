/* The rows table of a claim, as markdown (in the .md) and as CSV. */
#include <stdlib.h>
#include <string.h>
#include "report_internal.h"

/* ---- tables: md and CSV have the same columns, the union over all rows
 * of their parameters and extra columns; a row lacking one has an empty
 * cell.  CSV is RFC 4180 with CRLF line ends; md cells are escaped. ---- */

typedef enum {
    COL_SWEEP, COL_PARAM, COL_SEED, COL_PREC, COL_PREC_REQ, COL_E_LO, COL_E_HI, COL_E_ABS_HI,
    COL_SCALE, COL_KAPPA, COL_TOLERANCE, COL_RESOLUTION, COL_SLACK, /* the exact rule */
    COL_BOUND_LO, COL_BOUND_HI, COL_RATIO_HI, COL_TRIVIAL_HI,       /* the bound rule */
    COL_EXTRA, COL_EXTRA_LO, COL_EXTRA_HI, COL_VERDICT
} col_kind_t;

typedef struct {
    col_kind_t kind;
    const char *name; /* parameter or extra column name */
    int clash;        /* an extra column named like a parameter */
} col_t;

typedef struct {
    col_t *col;
    int n, cap;
} cols_t;

static char *text_ratio_hi(const row_t *r, int digits)
{
    arb_t q;
    row_ratio(q, r);
    char *s = !arb_is_finite(q) ? strdup("") : text_hi(q, digits);
    arb_clear(q);
    return s;
}

/* The relative resolution of the exact rule, 2^(kappa - p), as text. */
static char *text_resolution(const row_t *r)
{
    return text_printf("2^%ld", (long)verdict_kappa(r->depth) - (long)r->prec);
}
static int cols_add(cols_t *t, col_kind_t kind, const char *name)
{
    for (int k = 0; name && k < t->n; k++)
        if (t->col[k].kind == kind && strcmp(t->col[k].name, name) == 0)
            return 0;
    if (t->n == t->cap) {
        int cap = t->cap ? 2 * t->cap : 32;
        col_t *c = realloc(t->col, sizeof *c * (size_t)cap);
        if (!c)
            return -1;
        t->col = c;
        t->cap = cap;
    }
    int clash = 0;
    for (int k = 0; kind >= COL_EXTRA && kind <= COL_EXTRA_HI && k < t->n; k++)
        clash |= t->col[k].kind == COL_PARAM && strcmp(t->col[k].name, name) == 0;
    t->col[t->n++] = (col_t){kind, name, clash};
    return 0;
}

/* An extra column holds an enclosure in some row: CSV gives it two cells. */
static int extra_is_ival(const claim_report_t *rep, const char *name)
{
    for (long k = 0; k < rep->n_rows; k++) {
        const column_t *c = row_find_column(rep->rows + k, name);
        if (c && c->is_ival)
            return 1;
    }
    return 0;
}

static int table_columns(cols_t *t, const claim_report_t *rep, int csv)
{
    int bad = 0, bound = 0, exact = 0, trivial = 0;
    memset(t, 0, sizeof *t);
    bad |= cols_add(t, COL_SWEEP, NULL);
    for (long k = 0; k < rep->n_rows; k++)
        for (int a = 0; a < rep->rows[k].params.n; a++)
            if (param_is_column(rep->rows[k].params.name[a]))
                bad |= cols_add(t, COL_PARAM, rep->rows[k].params.name[a]);
    bad |= cols_add(t, COL_SEED, NULL);
    bad |= cols_add(t, COL_PREC, NULL);
    bad |= cols_add(t, COL_PREC_REQ, NULL);
    bad |= cols_add(t, COL_E_LO, NULL);
    bad |= cols_add(t, COL_E_HI, NULL);
    bad |= cols_add(t, COL_E_ABS_HI, NULL);
    for (long k = 0; k < rep->n_rows; k++) {
        exact |= row_exact_rule(rep, rep->rows + k);
        bound |= rep->rows[k].has_bound;
        trivial |= rep->rows[k].has_bound && rep->rows[k].has_trivial;
    }
    if (exact) {
        bad |= cols_add(t, COL_SCALE, NULL);
        bad |= cols_add(t, COL_KAPPA, NULL);
        bad |= cols_add(t, COL_TOLERANCE, NULL);
        bad |= cols_add(t, COL_RESOLUTION, NULL);
        bad |= cols_add(t, COL_SLACK, NULL);
    }
    if (bound) {
        bad |= cols_add(t, COL_BOUND_LO, NULL);
        bad |= cols_add(t, COL_BOUND_HI, NULL);
        bad |= cols_add(t, COL_RATIO_HI, NULL);
    }
    if (trivial)
        bad |= cols_add(t, COL_TRIVIAL_HI, NULL);
    for (long k = 0; k < rep->n_rows; k++)
        for (int e = 0; e < rep->rows[k].n_extra; e++) {
            const char *name = rep->rows[k].extra[e].name;
            if (csv && extra_is_ival(rep, name)) {
                bad |= cols_add(t, COL_EXTRA_LO, name);
                bad |= cols_add(t, COL_EXTRA_HI, name);
            } else {
                bad |= cols_add(t, COL_EXTRA, name);
            }
        }
    bad |= cols_add(t, COL_VERDICT, NULL);
    if (bad)
        free(t->col);
    return bad ? -1 : 0;
}

static char *col_title(const col_t *c, int csv)
{
    static const char *const titles[][2] = {
        [COL_SWEEP] = {"sweep", "sweep"},
        [COL_SEED] = {"seed", "seed"},
        [COL_PREC] = {"prec", "prec"},
        [COL_PREC_REQ] = {"p asked", "prec_requested"},
        [COL_E_LO] = {"E lo", "error_lo"},
        [COL_E_HI] = {"E hi", "error_hi"},
        [COL_E_ABS_HI] = {"max abs hi", "error_abs_hi"},
        [COL_SCALE] = {"S", "scale_S"},
        [COL_KAPPA] = {"κ", "kappa"},
        [COL_TOLERANCE] = {"S·2^(κ−p)", "tolerance"},
        [COL_RESOLUTION] = {"resolution", "resolution"},
        [COL_SLACK] = {"slack used (bits)", "slack_used_bits"},
        [COL_BOUND_LO] = {"bound lo", "bound_lo"},
        [COL_BOUND_HI] = {"bound hi", "bound_hi"},
        [COL_RATIO_HI] = {"E/bound hi", "ratio_hi"},
        [COL_TRIVIAL_HI] = {"trivial bound hi", "trivial_bound_hi"},
        [COL_VERDICT] = {"verdict", "verdict"},
    };
    /* column names stay unique: an extra named like a parameter says so */
    const char *clash = c->clash ? " (computed)" : "";
    switch (c->kind) {
    case COL_PARAM:
        return strdup(c->name);
    case COL_EXTRA:
        return text_printf("%s%s", c->name, clash);
    case COL_EXTRA_LO:
        return text_printf("%s%s lo", c->name, clash);
    case COL_EXTRA_HI:
        return text_printf("%s%s hi", c->name, clash);
    default:
        return strdup(titles[c->kind][csv]);
    }
}

static char *cell_text(const claim_report_t *rep, const row_t *r, const col_t *c, int digits)
{
    int exact = row_exact_rule(rep, r);
    const column_t *x = (c->kind == COL_EXTRA || c->kind == COL_EXTRA_LO ||
                         c->kind == COL_EXTRA_HI) ? row_find_column(r, c->name) : NULL;
    const char *v;
    switch (c->kind) {
    case COL_SWEEP:
        return strdup(r->sweep ? r->sweep : "");
    case COL_PARAM:
        v = params_get(&r->params, c->name);
        return strdup(v ? v : "");
    case COL_SEED:
        return text_printf("%lu", r->seed);
    case COL_PREC:
        return text_printf("%ld", (long)r->prec);
    case COL_PREC_REQ:
        return text_printf("%ld", (long)r->prec_requested);
    case COL_E_LO:
        return text_lo(r->error, digits);
    case COL_E_HI:
        return text_hi(r->error, digits);
    case COL_E_ABS_HI:
        return text_hi(r->error_abs, digits);
    case COL_SCALE:
        return exact ? text_up(r->scale, digits) : strdup("");
    case COL_KAPPA:
        return exact ? text_printf("%d", verdict_kappa(r->depth)) : strdup("");
    case COL_TOLERANCE:
        return exact ? text_tolerance(r, digits) : strdup("");
    case COL_RESOLUTION:
        return exact ? text_resolution(r) : strdup("");
    case COL_SLACK:
        return exact ? text_slack(r) : strdup("");
    case COL_BOUND_LO:
        return r->has_bound ? text_lo(r->bound, digits) : strdup("");
    case COL_BOUND_HI:
        return r->has_bound ? text_hi(r->bound, digits) : strdup("");
    case COL_RATIO_HI:
        return r->has_bound ? text_ratio_hi(r, digits) : strdup("");
    case COL_TRIVIAL_HI:
        return r->has_bound && r->has_trivial ? text_hi(r->trivial, digits) : strdup("");
    case COL_EXTRA:
        return !x ? strdup("") : x->is_ival ? text_ends(x->iv, digits) : strdup(x->str);
    case COL_EXTRA_LO:
        return !x ? strdup("") : x->is_ival ? text_lo(x->iv, digits) : strdup(x->str);
    case COL_EXTRA_HI:
        return !x || !x->is_ival ? strdup("") : text_hi(x->iv, digits);
    case COL_VERDICT:
        return strdup(row_verdict_word(rep, r));
    }
    return NULL;
}

/* One cell of a table line; -1 when out of memory. */
int put_cell(FILE *f, const char *s, int csv, int first)
{
    char *clean = utf8_clean(s);
    if (!clean)
        return -1;
    if (csv) {
        if (!first)
            fputc(',', f);
        report_csv_field(f, clean);
    } else {
        fputs(first ? "| " : " | ", f);
        report_md_cell(f, clean);
    }
    free(clean);
    return 0;
}


void end_line(FILE *f, int csv)
{
    fputs(csv ? "\r\n" : " |\n", f);
}

/* The rows table; -1 when out of memory. */
int write_table(FILE *f, const claim_report_t *rep, int csv)
{
    cols_t t;
    if (table_columns(&t, rep, csv) != 0)
        return -1;
    int digits = csv ? DIGITS_FILE : DIGITS_MD, ok = 1;
    for (int c = 0; c < t.n && ok; c++) {
        char *title = col_title(t.col + c, csv);
        ok = title && put_cell(f, title, csv, c == 0) == 0;
        free(title);
    }
    end_line(f, csv);
    if (!csv) {
        for (int c = 0; c < t.n; c++)
            fputs(c ? "---|" : "|---|", f);
        fputc('\n', f);
    }
    for (long k = 0; k < rep->n_rows && ok; k++) {
        for (int c = 0; c < t.n && ok; c++) {
            char *cell = cell_text(rep, rep->rows + k, t.col + c, digits);
            ok = cell && put_cell(f, cell, csv, c == 0) == 0;
            free(cell);
        }
        end_line(f, csv);
    }
    free(t.col);
    return ok ? 0 : -1;
}
