/* Instance export.  Point entries are written as exact decimals; enclosures
 * as a midpoint (40 digits) and a radius rounded up. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "aonet_export.h"
#include "cli.h"
#include "exitcodes.h"
#include "export.h"
#include "report.h"
#include "xalloc.h"

/* {"rows", "cols", "exact", "values": [[...]]} and, for enclosures, the
 * largest radius; NULL when out of memory. */
static json_t *json_matrix(const imat_t A)
{
    int exact = imat_is_exact(A), ok = 1;
    mpfr_t mid, rad, r;
    mpfr_inits2(64, mid, rad, r, (mpfr_ptr)0);
    mpfr_set_ui(rad, 0, MPFR_RNDU);
    json_t *m = json_object(), *values = json_array();
    report_json_set(m, "rows", json_integer(A->rows), &ok);
    report_json_set(m, "cols", json_integer(A->cols), &ok);
    report_json_set(m, "exact", json_boolean(exact), &ok);
    for (long i = 0; i < A->rows && ok; i++) {
        json_t *row = json_array();
        for (long j = 0; j < A->cols && ok; j++) {
            arb_srcptr x = imat_entry(A, i, j);
            /* the midpoint exactly (an arf has at most its own bits) */
            slong bits = arf_bits(arb_midref(x));
            mpfr_set_prec(mid, bits > 2 ? bits : 2);
            arf_get_mpfr(mid, arb_midref(x), MPFR_RNDN); /* exact */
            if (exact) {
                char *s = fr_exact_decimal(mid);
                report_json_push(row, s ? json_string(s) : NULL, &ok);
                free(s);
            } else {
                /* radius: the ball's, rounded up */
                arf_t ra;
                arf_init(ra);
                arf_set_mag(ra, arb_radref(x));
                arf_get_mpfr(r, ra, MPFR_RNDU);
                arf_clear(ra);
                mpfr_max(rad, rad, r, MPFR_RNDU);
                report_json_push(row, report_json_mpfr_str(fr_str(mid, 40, MPFR_RNDN)), &ok);
            }
        }
        report_json_push(values, row, &ok);
    }
    report_json_set(m, "values", values, &ok);
    if (!exact) {
        /* 40 printed digits add up to 10^-39 relative: reported with the radius. */
        report_json_set(m, "radius", report_json_mpfr_str(fr_str(rad, 6, MPFR_RNDU)), &ok);
        report_json_set(m, "digits", json_integer(40), &ok);
    }
    mpfr_clears(mid, rad, r, (mpfr_ptr)0);
    if (!ok) {
        json_decref(m);
        return NULL;
    }
    return m;
}

char *export_json(const claim_t *c, const row_t *r, const instance_t *I)
{
    int ok = 1;
    json_t *doc = json_object(), *params = json_object(), *mats = json_object();
    report_json_set(doc, "claim", report_json_text(c->id), &ok);
    report_json_set(doc, "source", report_json_text(c->source), &ok);
    report_json_set(doc, "seed", report_json_seed(r->seed), &ok);
    report_json_set(doc, "prec", json_integer((json_int_t)r->prec), &ok);
    /* the grid's "prec" is not the working precision: the top-level "prec" is */
    for (int a = 0; a < r->params.n; a++)
        if (strcmp(r->params.name[a], "prec") != 0)
            report_json_set(params, r->params.name[a], report_json_text(r->params.value[a]), &ok);
    report_json_set(doc, "params", params, &ok);
    report_json_set(doc, "note", report_json_text(I->note), &ok);
    for (int k = 0; k < I->n && ok; k++)
        report_json_set(mats, I->name[k], json_matrix(I->mat[k]), &ok);
    report_json_set(doc, "matrices", mats, &ok);
    if (!ok) {
        json_decref(doc);
        return NULL;
    }
    return report_json_dumps(doc);
}

int export_claim_instance(const claim_t *c, const run_options_t *o, mpfr_prec_t prec,
                          const char *path)
{
    row_t *rows;
    long n = runner_expand(&rows, c, o);
    if (n <= 0) {
        free(rows);
        fprintf(stderr, "attncheck: export: claim '%s' has an empty grid\n", c->id);
        return EXIT_USAGE;
    }
    /* the target first: a refused path costs no computation */
    atomic_file_t a;
    if (atomic_open(&a, path ? path : "-") != 0) {
        runner_free_rows(rows, n);
        /* a closed standard output (>&-) is a lost write, not a target we
         * could not create */
        return cli_fail(errno == EBADF ? EXIT_IOERR : EXIT_CANTCREAT, "cannot write to '%s': %s",
                        path ? path : "standard output", a.why);
    }
    instance_t I;
    instance_init(&I);
    rows[0].prec = prec;
    int rc = c->export_instance(&I, &rows[0].params, rows[0].seed, prec);
    int status = 0;
    char *text = NULL;
    if (rc != 0) {
        atomic_abort(&a);
        status = cli_fail(EXIT_DATAERR, "export: %s: %s", c->id,
                          I.note[0] ? I.note : "invalid parameters");
    } else if (I.n == 0) {
        /* a JSON export holds the instance's matrices: none is no export */
        atomic_abort(&a);
        status = cli_fail(EXIT_USAGE, "export: claim '%s' has no matrices to write as JSON%s",
                          c->id, I.net.n_layers ? " (its instance is a converted network: use "
                                                  "--format safetensors)" : "");
    } else if (!(text = export_json(c, &rows[0], &I))) {
        atomic_abort(&a);
        status = cli_fail(EXIT_SOFTWARE, "export: out of memory");
    } else {
        fputs(text, a.f);
        if (atomic_commit(&a) != 0)
            status = errno == EPIPE || (!path && cli_stdout_reader_gone(errno))
                       ? EXIT_IOERR /* its reader left: quietly (cli.h) */
                   : path ? cli_fail(EXIT_IOERR, "cannot write '%s': %s", path, a.why)
                          : cli_fail(EXIT_IOERR, "cannot write standard output: %s", a.why);
    }
    free(text);
    instance_clear(&I);
    rows[0].prec = 0; /* nothing was initialised in the row itself */
    runner_free_rows(rows, n);
    return status;
}

/* A parameter written as a decimal that is no dyadic of at most prec bits
 * (a = 1.702) makes weights that are no exact numbers: each such one is
 * replaced by its nearest double, as model's --act-a is, and said so in
 * said ("a = 1.702 -> 1.70199999999999995737..."; the network and its
 * reference are built with the double, so the weights are exact).  The row
 * owns its values: a replaced one is freed.  0, or -1 when one does not fit. */
static int round_params(params_t *p, char *said, size_t saidsz, mpfr_prec_t prec)
{
    arb_t v;
    arb_init(v);
    mpfr_t d;
    mpfr_init2(d, 53);
    size_t at = 0;
    said[0] = '\0';
    int rc = 0;
    for (int k = 0; k < p->n && rc == 0; k++) {
        const char *s = p->value[k];
        char *end;
        double x = strtod(s, &end);
        if (strcmp(p->name[k], "prec") == 0 || end == s || *end != '\0' || !isfinite(x) ||
            ival_set_str(v, s, prec) != 0 || arb_is_exact(v))
            continue;
        mpfr_set_d(d, x, MPFR_RNDN); /* exact: a double */
        char *r = fr_exact_decimal(d);
        if (!r || at >= saidsz) {
            free(r);
            rc = -1;
            break;
        }
        at += (size_t)snprintf(said + at, saidsz - at, "%s%s = %s -> %s", at ? "; " : "",
                               p->name[k], s, r);
        free((char *)p->value[k]);
        p->value[k] = r;
    }
    if (at >= saidsz)
        rc = -1;
    mpfr_clear(d);
    arb_clear(v);
    return rc;
}

int export_claim_network(const claim_t *c, const run_options_t *o, mpfr_prec_t prec,
                         const char *path)
{
    row_t *rows;
    long n = runner_expand(&rows, c, o);
    if (n <= 0) {
        free(rows);
        return cli_fail(EXIT_USAGE, "export: claim '%s' has an empty grid", c->id);
    }
    char err[600];
    aonet_export_t *ex = NULL;
    int rc = aonet_export_open(&ex, path, err, sizeof err);
    if (rc) {
        runner_free_rows(rows, n);
        return cli_fail(rc, "export: %s", err);
    }
    instance_t I;
    instance_init(&I);
    rows[0].prec = prec;
    char rounded[2048];
    int built = round_params(&rows[0].params, rounded, sizeof rounded, prec);
    if (built != 0)
        snprintf(I.note, sizeof I.note, "a parameter's nearest double is too long to write");
    else
        built = c->export_instance(&I, &rows[0].params, rows[0].seed, prec);
    if (built != 0) {
        rc = cli_fail(EXIT_DATAERR, "export: %s: %s", c->id, I.note[0] ? I.note : "invalid parameters");
    } else if (I.net.n_layers == 0) {
        rc = cli_fail(EXIT_USAGE, "export: claim '%s' builds no converted network (use --format json)",
                      c->id);
    } else {
        json_t *params = json_object();
        for (int a = 0; a < rows[0].params.n; a++)
            json_object_set_new(params, rows[0].params.name[a],
                                json_string(rows[0].params.value[a]));
        char *ptext = json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS), seed[32], bias[32];
        json_decref(params);
        snprintf(seed, sizeof seed, "%lu", rows[0].seed);
        snprintf(bias, sizeof bias, "%ld", I.net_bias_row);
        aonet_export_meta(ex, "bias_row", bias);
        aonet_export_meta(ex, "claim", c->id);
        aonet_export_meta(ex, "seed", seed);
        aonet_export_meta(ex, "params", ptext ? ptext : "{}");
        aonet_export_meta(ex, "layout", I.layout);
        aonet_export_meta(ex, "note", I.note);
        if (rounded[0])
            aonet_export_meta(ex, "params_rounded", rounded);
        free(ptext);
        rc = aonet_export_network(ex, &I.net, err, sizeof err);
        if (rc == 0)
            rc = aonet_export_matrix(ex, "stream_in", I.net_in, err, sizeof err);
        if (rc == 0)
            rc = aonet_export_midpoints(ex, "reference_out", I.net_ref, err, sizeof err);
        if (rc == 0) {
            rc = aonet_export_commit(ex, err, sizeof err);
            ex = NULL;
        }
        if (rc)
            cli_fail(rc, "export: %s", err);
    }
    aonet_export_abort(ex);
    instance_clear(&I);
    rows[0].prec = 0;
    runner_free_rows(rows, n);
    return rc;
}
