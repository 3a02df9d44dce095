/* Plot scripts checked by their structure (the .gp beside each SVG): an
 * exact claim's plot has a panel of hi(E) itself (its values are the rows'
 * log10 hi(E)) above the slack panel, with one κ line where every row has
 * one κ and one per series where they differ; a reference line is drawn
 * only where the rows at each point share it, else every row is drawn
 * against its own and one line marks 1; categorical x axes; a plot whose
 * points all have one x is not drawn.  Through the CLI: blog-one-layer over
 * several seeds and float-formats' default grid. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "report.h"
#include "testutil.h"

static char tmpdir[256];
static char out[1 << 16];

static void setup(void) { test_tmpdir_make(tmpdir, sizeof tmpdir, "attncheck-plots"); }
static void teardown(void) { test_tmpdir_remove(tmpdir); }


/* The points of data block $name in a script: their count (-1: no block). */
static int gp_block(const char *gp, const char *name, double *x, double *y, int max)
{
    char head[64];
    snprintf(head, sizeof head, "$%s << EOD\n", name);
    const char *at = strstr(gp, head);
    if (!at)
        return -1;
    at += strlen(head);
    int n = 0;
    while (strncmp(at, "EOD\n", 4) != 0) {
        char *end;
        double a = strtod(at, &end), b = strtod(end, &end);
        ck_assert_msg(*end == '\n', "block %s: a line is not 'x y'", name);
        if (n < max) {
            x[n] = a;
            y[n] = b;
        }
        n++;
        at = end + 1;
    }
    return n;
}

/* Blocks whose names start with prefix ("sr": the lower panel's references). */
static int gp_count(const char *gp, const char *prefix)
{
    int n = 0;
    char head[32];
    snprintf(head, sizeof head, "$%s", prefix);
    for (const char *at = gp; (at = strstr(at, head)); at++)
        n += strstr(at, " << EOD\n") == at + strcspn(at, " ") ;
    return n;
}

static void row_begin(row_t *r, mpfr_prec_t prec, unsigned long seed)
{
    memset(r, 0, sizeof *r);
    r->sweep = "s";
    r->seed = seed;
    row_start(r, prec);
}

static void row_param(row_t *r, const char *name, const char *value)
{
    r->params.name[r->params.n] = name;
    r->params.value[r->params.n++] = value;
}

static void report_begin(claim_report_t *rep, const claim_t *c, row_t *rows, long n)
{
    memset(rep, 0, sizeof *rep);
    rep->claim = c;
    rep->rows = rows;
    rep->n_rows = n;
}

static char *write_and_read(const claim_report_t *rep, const char *stem, int k)
{
    run_options_t o;
    run_options_default(&o);
    report_run_t run = {.verb = "verify", .options = &o};
    char err[512], path[600];
    int rc = report_write_claim(rep, &run, tmpdir, FORMAT_MD | FORMAT_SVG, err, sizeof err);
    ck_assert_msg(rc == 0, "report_write_claim: %d %s", rc, err);
    if (k)
        snprintf(path, sizeof path, "%s/%s-%d.svg.gp", tmpdir, stem, k);
    else
        snprintf(path, sizeof path, "%s/%s.svg.gp", tmpdir, stem);
    return test_read_whole(path);
}

/* ------------------------------------------------------- exact claims */

static const claim_t claim_exact = {
    .id = "exactplot", .source = "test", .kind = KIND_EXACT, .provenance = "test",
    .statement = "an exact claim's plot", .formula = "none",
    .plots = {{.x = "prec", .y = "slack used", .series = "a", .logx = 1, .extra_y = "kappa",
               .title = "slack"}},
};

/* rows: a in {1, 2} (depth d1, d2), p in {64, 128, 256}, two shapes each
 * with its own S and E = 2^(10 + k - p) S. */
static void exact_rows(row_t *rows, int d1, int d2)
{
    static const char *const as[] = {"1", "2"}, *const shapes[] = {"2x3", "4x5"};
    static const long ps[] = {64, 128, 256};
    int n = 0;
    for (int a = 0; a < 2; a++)
        for (int p = 0; p < 3; p++)
            for (int s = 0; s < 2; s++) {
                row_t *r = rows + n++;
                row_begin(r, ps[p], 1);
                row_param(r, "a", as[a]);
                row_param(r, "shape", shapes[s]);
                r->depth = a ? d2 : d1;
                mpfr_set_ui(r->scale, 3u + 5u * (unsigned)s, MPFR_RNDU);
                arb_set_ui(r->error, 3u + 5u * (unsigned)s);
                arb_mul_2exp_si(r->error, r->error, 10 + n - ps[p]);
                r->verdict = verdict_exact(r->error, r->scale, r->prec, r->depth);
            }
}

START_TEST(test_exact_plot_has_e)
{
    enum { N = 12 };
    row_t rows[N];
    for (int variant = 0; variant < 2; variant++) {
        exact_rows(rows, 1, variant ? 3 : 1);
        claim_report_t rep;
        report_begin(&rep, &claim_exact, rows, N);
        char *gp = write_and_read(&rep, "exactplot", 0);
        ck_assert_ptr_nonnull(gp);
        ck_assert_ptr_nonnull(strstr(gp, "set multiplot layout 2,1"));
        /* the E panel: per series and p, the largest log10 hi(E) of its rows */
        for (int a = 0; a < 2; a++) {
            char name[16];
            double x[8], y[8];
            snprintf(name, sizeof name, "ey%d", a);
            ck_assert_int_eq(gp_block(gp, name, x, y, 8), 3);
            for (int k = 0; k < 3; k++) {
                double want = -INFINITY;
                for (int j = 0; j < N; j++) {
                    if (strcmp(rows[j].params.value[0], a ? "2" : "1") != 0 ||
                        (double)rows[j].prec != x[k])
                        continue;
                    mpfr_t hi;
                    mpfr_init2(hi, 64);
                    ival_get_hi(hi, rows[j].error);
                    mpfr_log10(hi, hi, MPFR_RNDN);
                    want = fmax(want, mpfr_get_d(hi, MPFR_RNDN));
                    mpfr_clear(hi);
                }
                ck_assert_msg(fabs(y[k] - want) < 1e-9, "E panel at p = %g: %g, rows' %g", x[k],
                              y[k], want);
            }
        }
        ck_assert_int_eq(gp_count(gp, "ey"), 2);
        ck_assert_int_eq(gp_count(gp, "er"), 0); /* no tolerance line across rows */
        /* one κ line when every row has one κ, one per series otherwise */
        ck_assert_int_eq(gp_count(gp, "sr"), variant ? 2 : 1);
        free(gp);
        for (int k = 0; k < N; k++)
            row_clear(rows + k);
    }
}
END_TEST

/* E = 0 certified on every row: no plot (a κ line alone), and the report
 * says why. */
START_TEST(test_exact_zero_not_drawn)
{
    enum { N = 12 };
    row_t rows[N];
    exact_rows(rows, 1, 1);
    for (int k = 0; k < N; k++) {
        arb_zero(rows[k].error);
        rows[k].verdict = verdict_exact(rows[k].error, rows[k].scale, rows[k].prec, 1);
    }
    claim_report_t rep;
    report_begin(&rep, &claim_exact, rows, N);
    char *gp = write_and_read(&rep, "exactplot", 0);
    ck_assert_ptr_null(gp);
    char path[600];
    snprintf(path, sizeof path, "%s/exactplot.md", tmpdir);
    char *md = test_read_whole(path);
    ck_assert_ptr_nonnull(md);
    ck_assert_ptr_nonnull(strstr(md, "(No plot exactplot.svg: hi(E) = 0 exactly on every row"));
    free(md);
    for (int k = 0; k < N; k++)
        row_clear(rows + k);
}
END_TEST

/* ------------------------------------------------ bounds and references */

static const claim_t claim_bound = {
    .id = "boundplot", .source = "test", .kind = KIND_INEQUALITY, .provenance = "test",
    .statement = "an inequality claim's plot", .formula = "none",
    .plots = {{.x = "omega", .y = "error", .series = "mask", .logy = 1, .extra_y = "bound",
               .title = "E"}},
};

/* rows: mask in {a, b}, omega in {1, 2, 4}, tau in taus; bound = tau * c_mask
 * / omega, E = bound / 8. */
static int bound_rows(row_t *rows, const char *const *taus, int ntau, int masks_differ)
{
    static const char *const masks[] = {"a", "b"}, *const omegas[] = {"1", "2", "4"};
    int n = 0;
    for (int m = 0; m < 2; m++)
        for (int o = 0; o < 3; o++)
            for (int t = 0; t < ntau; t++) {
                row_t *r = rows + n++;
                row_begin(r, 64, 1);
                row_param(r, "mask", masks[m]);
                row_param(r, "omega", omegas[o]);
                row_param(r, "tau", taus[t]);
                arb_set_str(r->bound, taus[t], 64);
                arb_mul_ui(r->bound, r->bound, masks_differ ? 1u + (unsigned)m : 1u, 64);
                arb_div_ui(r->bound, r->bound, 1u << o, 64);
                arb_mul_2exp_si(r->error, r->bound, -3);
                r->has_bound = 1;
                r->verdict = verdict_bound(r->error, r->bound);
            }
    return n;
}

START_TEST(test_bound_lines_per_group)
{
    row_t rows[24];
    static const char *const one[] = {"1"}, *const two[] = {"1", "4"};
    static const struct {
        const char *const *taus;
        int ntau, masks_differ, lines, mixed;
    } v[] = {
        {one, 1, 0, 1, 0}, /* one bound per omega: one line */
        {one, 1, 1, 2, 0}, /* each mask its own: a line per mask */
        {two, 2, 1, 1, 1}, /* rows at one point differ (tau): each row against its own */
    };
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
        int n = bound_rows(rows, v[k].taus, v[k].ntau, v[k].masks_differ);
        claim_report_t rep;
        report_begin(&rep, &claim_bound, rows, n);
        char *gp = write_and_read(&rep, "boundplot", 0);
        ck_assert_ptr_nonnull(gp);
        ck_assert_int_eq(gp_count(gp, "sy"), 2);
        ck_assert_msg(gp_count(gp, "sr") == v[k].lines, "variant %zu: %d reference lines", k,
                      gp_count(gp, "sr"));
        ck_assert_int_eq(strstr(gp, "against its own bound") != NULL, v[k].mixed);
        double x[8], y[8];
        if (v[k].mixed) {
            /* E / bound = 1/8 on every row; the line at 1 (log10: 0) */
            ck_assert_int_eq(gp_block(gp, "sy0", x, y, 8), 3);
            for (int j = 0; j < 3; j++)
                ck_assert_msg(fabs(y[j] - log10(0.125)) < 1e-6, "E/bound drawn as %g", y[j]);
            ck_assert_int_eq(gp_block(gp, "sr0", x, y, 8), 2);
            ck_assert(y[0] == 0 && y[1] == 0);
        }
        free(gp);
        for (int j = 0; j < n; j++)
            row_clear(rows + j);
    }
}
END_TEST

/* ---------------------------------------- categorical and one-x plots */

static const claim_t claim_cat = {
    .id = "catplot", .source = "test", .kind = KIND_INEQUALITY, .provenance = "test",
    .statement = "categories", .formula = "none",
    .plots = {{.x = "omega", .y = "error", .series = "format", .logy = 1, .title = "cat"},
              {.x = "n", .y = "error", .series = "format", .logy = 1, .title = "one n"}},
};

START_TEST(test_categories_and_one_x)
{
    static const char *const omegas[] = {"req", "2req", "8req"};
    row_t rows[3];
    for (int k = 0; k < 3; k++) {
        row_begin(rows + k, 64, 1);
        row_param(rows + k, "format", "binary32");
        row_param(rows + k, "omega", omegas[k]);
        row_param(rows + k, "n", "4");
        arb_set_ui(rows[k].error, 1u + (unsigned)k);
        rows[k].verdict = VERDICT_HOLDS;
    }
    claim_report_t rep;
    report_begin(&rep, &claim_cat, rows, 3);
    char *gp = write_and_read(&rep, "catplot", 0);
    ck_assert_ptr_nonnull(gp);
    ck_assert_ptr_nonnull(strstr(gp, "set xtics ('req' 0, '2req' 1, '8req' 2)"));
    double x[4], y[4];
    ck_assert_int_eq(gp_block(gp, "sy0", x, y, 4), 3);
    ck_assert(x[0] == 0 && x[1] == 1 && x[2] == 2);
    free(gp);
    /* every point at n = 4: no plot, and the report says why */
    char path[600];
    snprintf(path, sizeof path, "%s/catplot-1.svg.gp", tmpdir);
    ck_assert_int_ne(access(path, F_OK), 0);
    snprintf(path, sizeof path, "%s/catplot.md", tmpdir);
    char *md = test_read_whole(path);
    ck_assert_ptr_nonnull(md);
    ck_assert_ptr_nonnull(strstr(md, "(No plot catplot-1.svg: every row drawn has one value of n.)"));
    free(md);
    for (int k = 0; k < 3; k++)
        row_clear(rows + k);
}
END_TEST

/* ------------------------------------------------------ through the CLI */

/* blog-one-layer over two seeds: where the rows at one (shape, Omega) have
 * different bounds (read from the .json), the plot draws each row against
 * its own; else a bound line per shape or one. */
START_TEST(test_cli_blog_bounds)
{
    char args[600], path[600];
    snprintf(args, sizeof args, "sweep blog-one-layer --set shape=3x12x4,2x8x6 --set seed=1,2 "
             "--set omega=1,10,50 --format json,svg --out %s/b", tmpdir);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 0);
    snprintf(path, sizeof path, "%s/b/blog-one-layer.json", tmpdir);
    json_error_t e;
    json_t *doc = json_load_file(path, 0, &e);
    ck_assert_msg(doc != NULL, "%s", e.text);
    json_t *rows = json_object_get(doc, "rows");
    int mixed = 0;
    for (size_t i = 0; i < json_array_size(rows); i++)
        for (size_t j = 0; j < i; j++) {
            json_t *a = json_array_get(rows, i), *b = json_array_get(rows, j);
            json_t *pa = json_object_get(a, "params"), *pb = json_object_get(b, "params");
            if (!json_equal(json_object_get(pa, "shape"), json_object_get(pb, "shape")) ||
                !json_equal(json_object_get(pa, "omega"), json_object_get(pb, "omega")))
                continue;
            mixed |= !json_equal(json_object_get(json_object_get(a, "bound"), "hi"),
                                 json_object_get(json_object_get(b, "bound"), "hi"));
        }
    json_decref(doc);
    snprintf(path, sizeof path, "%s/b/blog-one-layer.svg.gp", tmpdir);
    char *gp = test_read_whole(path);
    ck_assert_ptr_nonnull(gp);
    ck_assert_int_eq(strstr(gp, "against its own bound") != NULL, mixed);
    if (mixed)
        ck_assert_int_eq(gp_count(gp, "sr"), 1);
    free(gp);
}
END_TEST

/* float-formats' default grid: a plot of E / (2 E_orig + floor) per
 * construction, with every construction of the grid on its axis. */
START_TEST(test_cli_float_formats)
{
    char args[600], path[600];
    snprintf(args, sizeof args, "verify float-formats --format md,svg --out %s/f", tmpdir);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 0);
    snprintf(path, sizeof path, "%s/f/float-formats.svg.gp", tmpdir);
    char *gp = test_read_whole(path);
    ck_assert_ptr_nonnull(gp);
    static const char *const cons[] = {"mask-encoding", "attention-only-encoded", "blog-one-layer",
                                       "blog-three-layer", "neuron-head", "mlp-layer"};
    const char *xt = strstr(gp, "set xtics (");
    ck_assert_ptr_nonnull(xt);
    for (size_t k = 0; k < sizeof cons / sizeof cons[0]; k++) {
        char tic[80];
        snprintf(tic, sizeof tic, "'%s' ", cons[k]);
        ck_assert_msg(strstr(xt, tic) != NULL, "no tic for %s", cons[k]);
    }
    ck_assert_int_eq(gp_count(gp, "sy"), 3); /* three formats */
    double x[4], y[4];
    ck_assert_int_eq(gp_block(gp, "sr0", x, y, 4), 6); /* the line at 1 under every construction */
    ck_assert(y[0] == 0);
    free(gp);
    snprintf(path, sizeof path, "%s/f/float-formats.svg", tmpdir);
    if (access(path, F_OK) != 0)
        fprintf(stderr, "check_plots: gnuplot drew nothing (is it installed?)\n");
}
END_TEST

Suite *suite_plots(void)
{
    Suite *s = suite_create("plots");
    TCase *tc = tcase_create("plots");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_exact_plot_has_e);
    tcase_add_test(tc, test_exact_zero_not_drawn);
    tcase_add_test(tc, test_bound_lines_per_group);
    tcase_add_test(tc, test_categories_and_one_x);
    tcase_add_test(tc, test_cli_blog_bounds);
    tcase_add_test(tc, test_cli_float_formats);
    suite_add_tcase(s, tc);
    return s;
}
