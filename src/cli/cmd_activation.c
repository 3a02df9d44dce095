/* `attncheck activation`: compare an activation (built-in or expression)
 * with a target by a certified sup gap on [-L, L], and judge a claimed gap;
 * without --target, its class report (G0/G1 of claims.md, through the
 * activation-class module); --file checks one function per line into one
 * table; --baseline prints the regression baseline.  Tails beyond L are not
 * covered: the domain is part of the statement. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "act.h"
#include "actclass.h"
#include "cli.h"
#include "exitcodes.h"
#include "report.h"
#include "runner.h"
#include "silusum.h"
#include "supnorm.h"
#include "xalloc.h"

#define ACT_MAX_SECONDS_DEFAULT 60
/* The absolute floor of a sup gap: a difference that may be identically 0
 * is certified to be at most this, and nothing more is claimed. */
#define ACT_FLOOR_DEFAULT 1e-30
#define ACT_TAYLOR_ORDER 12
/* Points at which a function must be defined before any other work. */
#define ACT_DOMAIN_PROBES 2001
/* --file limits: its size, its lines (each line at most EXPR_MAX_LEN bytes). */
#define ACT_FILE_MAX_BYTES (1L << 20)
#define ACT_FILE_MAX_LINES 1000
/* --target given more than once: at most this many. */
#define ACT_MAX_TARGETS 16

static const char *usage_activation =
    "usage: attncheck activation (--name NAME | --expr EXPR | --file FILE) [--target NAME|EXPR]...\n"
    "                            [--domain L] [--claim GAP] [--expect member|nonmember]\n"
    "                            [--floor EPS] [--prec P] [--format text|json]\n"
    "                            [--max-seconds S] [--help]\n"
    "       attncheck activation (--name NAME | --expr EXPR) --heads M [--a-max A] [--refit]\n"
    "                            [--domain L] [--prec P] [--format text|json]\n"
    "       attncheck activation --baseline [--file FUNCS]   (> tests/activation_baseline.tsv)\n"
    "       attncheck activation --baseline FILE\n"
    "  without --target: the class report: exact membership in G0 / G1 with a\n"
    "                  witness (parameters shown exactly as certified, e.g. q = 1.702 =\n"
    "                  851/500), or the best member found (certified gap on [-10, 10]);\n"
    "                  the head built from it checked on random tokens; non-membership of\n"
    "                  an expression by a certified kink (one-sided derivatives that differ\n"
    "                  where a min, max or abs switches: members are analytic)\n"
    "  --name NAME     a built-in: identity relu silu silu_a[:a] gelu gelu_tanh sigmoid\n"
    "                  tanh softplus elu[:alpha] mish hardswish\n"
    "  --expr EXPR     a function of x (or z): + - * / ^ **, exp log log1p expm1 sqrt abs\n"
    "                  tanh sigmoid erf erfc softplus sin cos min max, pi, e, and the\n"
    "                  built-ins as functions: relu(x), gelu(x), silu(x), silu_a(x, a), ...,\n"
    "                  and selu(x)\n"
    "  --file FILE     one function (a built-in name or an expression) per line, into one\n"
    "                  table; blank lines and lines starting with # are skipped; a regular\n"
    "                  file of at most 1 MiB and 1000 lines, each at most 4096 bytes\n"
    "  --target F      compare with F (a built-in name or an expression): certified\n"
    "                  enclosure of sup |f - F| on [-L, L]; up to 16 --target, one\n"
    "                  comparison each, the worst exit\n"
    "  --baseline      print the regression baseline of the built-ins, or with --file of\n"
    "                  FUNCS's functions (one tab-separated line each)\n"
    "  --baseline FILE classify FILE's functions again and compare: each change one line\n"
    "                  (CHANGED FILE:LINE: ...), exit 1 on any change, 0 none\n"
    "  --domain L      half-width of the domain (default 10); tails beyond L not covered\n"
    "  --floor EPS     absolute floor of a sup gap (default 1e-30): a gap that may be 0\n"
    "                  (an identity) is certified to be at most EPS, and no more\n"
    "  --claim GAP     the sup gap (with --target) or the G1 member's gap is <= GAP:\n"
    "                  holds (0), violated (1), or undecided after raising the precision\n"
    "                  up to 1024 bits (2)\n"
    "  --expect member|nonmember  the class report's membership in G1: 0 when certified\n"
    "                  (member: a witness passes; nonmember: a proof), 1 when its opposite\n"
    "                  is, 2 when neither (no witness found, non-membership not proved)\n"
    "  --heads M       m SiLU heads per neuron, m = 1..M (M <= 12): the fit\n"
    "                  f(z) ~ sum_j c_j SiLU_{a_j}(z) (an estimate: dyadic c_j, a_j, sum c_j\n"
    "                  = 1, slopes in [1/4, A], fitted on [-L, L]) and its certified sup gap\n"
    "                  eps_m: over the whole line for gelu, gelu_tanh and relu (a certified\n"
    "                  tail bound beyond L), over [-L, L] for anything else; for those three\n"
    "                  with L = 10, A = 8 and M <= 8 the shipped fits are used\n"
    "  --a-max A       the slope ceiling of the fit (default 8; ReLU needs one: its best\n"
    "                  slope is +inf)\n"
    "  --refit         fit now even where a shipped fit exists\n"
    "  --format F      text (default) or json\n"
    "  --prec P        starting precision in bits (default 128)\n"
    "  --max-seconds S stop after S seconds (default 60) and answer inconclusive (exit 2)\n"
    "                  unless the claim was already decided\n"
    "Exit: 0 holds, 1 violated (a claim, an expectation or the head check), 2 inconclusive;\n"
    "      without --claim and --expect the head check's (a proved non-member exits 0,\n"
    "      and its report says NOT A MEMBER); 64 a\n"
    "      malformed option or value (--prec abc, --domain nan), 65 bad data (an expression\n"
    "      that does not parse, a function undefined or unbounded on the domain, a bad\n"
    "      --file or a bad line of it, named by its number), 70 internal error.\n";

#define act_fail(code, ...) cli_fail(code, "activation: " __VA_ARGS__)

typedef struct {
    const char *name, *expr, *file, *target, *domain, *claim, *expect, *floor_text, *format;
    const char *targets[ACT_MAX_TARGETS]; /* every --target, in order (target: the first) */
    int n_targets;
    const char *baseline_file;  /* --baseline FILE: check it */
    int baseline_operand;       /* --baseline was the last option: a word after it is FILE */
    const char *heads_text, *a_max_text;
    int heads, refit;
    double a_max;
    mpfr_prec_t prec;
    double max_seconds, L, floor;
    int json, baseline;
    int expect_member;       /* -1: no --expect; 1 member; 0 nonmember */
} act_opts_t;

/* One function's outcome.  Judgements: -1 none, 0 holds, 1 violated,
 * 2 inconclusive. */
typedef struct {
    long line;               /* --file: the line; 0 otherwise */
    char label[100];         /* the built-in's name, or "expr" */
    char formula[EXPR_MAX_LEN + 1];
    int target;              /* compared with --target (else the class report) */
    const char *target_text; /* that --target as given */
    /* class report */
    ac_result_t res[2];
    arb_t headE;
    mpfr_t headS;            /* the head's tolerance (exact) or 2 gap */
    int head_exact, head_ok;  /* head_ok: 1 holds; head_v: judgement_words' index */
    int head_v;
    /* target */
    supnorm_t s;
    /* judgements */
    int claim_v, expect_v, member; /* member: 1 certified, 0 disproved, -1 neither */
    int rc;
} outcome_t;

static const char *const judgement_words[] = {"holds", "violated", "inconclusive"};

/* A finite decimal number; 0 on success.  Parsed by MPFR in base 10, the
 * same parser that later reads the text at full precision (strtod would also
 * accept hex such as 0x10, which base 10 reads as 0). */
static int parse_finite(double *out, const char *s)
{
    mpfr_t x;
    char *end;
    mpfr_init2(x, 64);
    int ok = *s && !isspace((unsigned char)*s);
    if (ok) {
        mpfr_strtofr(x, s, &end, 10, MPFR_RNDN);
        ok = *end == '\0' && mpfr_number_p(x);
    }
    if (ok)
        *out = mpfr_get_d(x, MPFR_RNDN);
    mpfr_clear(x);
    return ok ? 0 : -1;
}

/* A baseline line: the function and six columns. */
#define ACT_BASELINE_LINE (EXPR_MAX_LEN + 512)

static int read_function_file(char **text, size_t *len, const char *path, char *err,
                              size_t errsz);
typedef struct {
    long line;
    char *text;  /* points into the file's buffer */
} file_line_t;
static int split_lines(file_line_t **out, long *n_out, char *buf, size_t len, const char *path,
                       char *err, size_t errsz);

/* The baseline of the built-ins, or with --file of its functions (each a
 * built-in name or an expression): the lines --baseline FILE checks. */
static int print_baseline(const act_opts_t *opt)
{
    char *line = xmalloc(ACT_BASELINE_LINE), err[1024], *buf = NULL;
    file_line_t *lines = NULL;
    long n = act_n_builtins;
    size_t len;
    int rc = 0;
    if (opt->file) {
        rc = read_function_file(&buf, &len, opt->file, err, sizeof err);
        if (rc == 0)
            rc = split_lines(&lines, &n, buf, len, opt->file, err, sizeof err);
    }
    if (rc == 0)
        puts(AC_BASELINE_HEADER);
    for (long k = 0; k < n && rc == 0; k++) {
        char spec[64];
        if (!lines)
            ac_baseline_spec(spec, sizeof spec, &act_builtins[k]);
        if (ac_baseline_line(line, ACT_BASELINE_LINE, lines ? lines[k].text : spec,
                             AC_BASELINE_PREC) != 0) {
            rc = EXIT_DATAERR;
            snprintf(err, sizeof err, "%.300s:%ld: not a built-in name or an expression",
                     opt->file ? opt->file : "built-ins", lines ? lines[k].line : k + 1);
            break;
        }
        puts(line);
        cli_flush_stdout();
    }
    free(lines);
    free(buf);
    free(line);
    return rc ? act_fail(rc, "%s", err) : EXIT_HOLDS;
}

/* --baseline FILE: each function of FILE (lines as --baseline prints them;
 * blank lines and lines starting with # skipped) classified again and
 * compared (ac_baseline_compare); each change one line on standard output,
 * then a summary.  Every line is read and checked for its form first, so a
 * bad one is 65 with one line and nothing else printed.  0 no change, 1 a
 * change. */
static int check_baseline(const char *path)
{
    char err[1024], *buf;
    size_t len;
    int rc = read_function_file(&buf, &len, path, err, sizeof err);
    if (rc)
        return act_fail(rc, "%s", err);
    long n = 0, lineno = 0, changed = 0;
    file_line_t *lines = xmallocarray(ACT_FILE_MAX_LINES, sizeof *lines);
    for (size_t at = 0; at < len && rc == 0;) {
        size_t end = at;
        while (end < len && buf[end] != '\n')
            end++;
        buf[end] = '\0';
        size_t l = end - at;
        if (l && buf[end - 1] == '\r') { /* CRLF line ends */
            buf[end - 1] = '\0';
            l--;
        }
        char *t = buf + at;
        at = end + 1;
        lineno++;
        if (!*t || *t == '#')
            continue;
        int tabs = 0, bad = l >= ACT_BASELINE_LINE || strlen(t) != l; /* a NUL byte inside */
        for (const char *c = t; !bad && *c; c++) {
            tabs += *c == '\t';
            bad = (unsigned char)*c < 0x20 && *c != '\t';
        }
        if (bad || tabs != 6 || *t == '\t' || !ac_baseline_wellformed(t)) {
            rc = act_fail(EXIT_DATAERR, "%.300s:%ld: not a baseline line (function, then G0, "
                          "gap lo, gap hi, G1, gap lo, gap hi, tab-separated; as --baseline "
                          "prints)", path, lineno);
        } else if (n == ACT_FILE_MAX_LINES) {
            rc = act_fail(EXIT_DATAERR, "%.300s: more than %d functions", path,
                          ACT_FILE_MAX_LINES);
        } else {
            lines[n].line = lineno;
            lines[n++].text = t;
        }
    }
    if (rc == 0 && n == 0)
        rc = act_fail(EXIT_DATAERR, "%.300s: no baseline line in it", path);
    /* every function names a built-in or parses */
    for (long k = 0; k < n && rc == 0; k++) {
        char *tab = strchr(lines[k].text, '\t'), e2[300];
        act_t f;
        *tab = '\0';
        if (act_init_spec(&f, lines[k].text, e2, sizeof e2, AC_BASELINE_PREC) != 0)
            rc = act_fail(EXIT_DATAERR, "%.300s:%ld: %s", path, lines[k].line, e2);
        else
            act_clear(&f);
        *tab = '\t';
    }
    char *fresh = xmalloc(ACT_BASELINE_LINE), *msg = xmalloc(2 * ACT_BASELINE_LINE);
    for (long k = 0; k < n && rc == 0; k++) {
        char *tab = strchr(lines[k].text, '\t');
        *tab = '\0';
        int r = ac_baseline_line(fresh, ACT_BASELINE_LINE, lines[k].text, AC_BASELINE_PREC);
        *tab = '\t';
        if (r == 0)
            r = ac_baseline_compare(lines[k].text, fresh, msg, 2 * ACT_BASELINE_LINE);
        else
            snprintf(msg, 2 * ACT_BASELINE_LINE, "%s: cannot be classified", lines[k].text);
        if (r != 0) {
            changed++;
            printf("CHANGED %s:%ld: %s\n", path, lines[k].line, msg);
            cli_flush_stdout();
        }
    }
    if (rc == 0) {
        printf("baseline %s: %ld functions, %ld changed%s\n", path, n, changed,
               changed ? "" : " (every verdict and gap as recorded)");
        rc = changed ? EXIT_VIOLATED : EXIT_HOLDS;
    }
    free(fresh);
    free(msg);
    free(lines);
    free(buf);
    return rc;
}

/* The worse of two exit codes among 0, 2 and 1 (1 worst). */
static int worse(int a, int b)
{
    if (a == EXIT_VIOLATED || b == EXIT_VIOLATED)
        return EXIT_VIOLATED;
    return a == EXIT_INCONCLUSIVE || b == EXIT_INCONCLUSIVE ? EXIT_INCONCLUSIVE : EXIT_HOLDS;
}

static int judgement_exit(int v)
{
    return v == 0 ? EXIT_HOLDS : v == 1 ? EXIT_VIOLATED : EXIT_INCONCLUSIVE;
}

/* Initialise f from a built-in name (NAME or NAME:PARAM) or an expression;
 * the code is 64 for a bad name given with --name, else 65. */
static int function_init(act_t *f, const char *text, int is_name, char *err, size_t errsz,
                         mpfr_prec_t prec)
{
    if (is_name)
        return act_init_name(f, text, err, errsz, prec) == 0 ? 0 : EXIT_USAGE;
    return act_init_spec(f, text, err, errsz, prec) == 0 ? 0 : EXIT_DATAERR;
}

/* 0 when f is defined and finite at the domain's probe points, else 65 with
 * a message naming the point. */
static int check_defined(const act_t *f, const char *what, const char *text, double L,
                         char *err, size_t errsz, mpfr_prec_t prec)
{
    double at;
    if (!act_find_undefined(&at, f, L, ACT_DOMAIN_PROBES, prec))
        return 0;
    snprintf(err, errsz, "%s = %.200s is undefined or not finite at x = %.17g, inside the "
             "domain [-%g, %g]", what, text, at, L, L);
    return EXIT_DATAERR;
}

static void outcome_init(outcome_t *o, mpfr_prec_t prec)
{
    memset(o, 0, sizeof *o);
    ac_result_init(o->res, prec);
    ac_result_init(o->res + 1, prec);
    arb_init(o->headE);
    mpfr_init2(o->headS, 64);
    supnorm_init(&o->s, prec);
    o->claim_v = o->expect_v = o->member = -1;
}

static void outcome_clear(outcome_t *o)
{
    ac_result_clear(o->res);
    ac_result_clear(o->res + 1);
    arb_clear(o->headE);
    mpfr_clear(o->headS);
    supnorm_clear(&o->s);
}

/* The class report of f: membership, the head check, --claim, --expect. */
static void run_class(outcome_t *o, const act_t *f, const char *builtin_spec,
                      const act_opts_t *opt)
{
    mpfr_prec_t prec = opt->prec;
    char base[64] = "";
    const char *ptxt = NULL;
    if (builtin_spec) {
        snprintf(base, sizeof base, "%s", builtin_spec);
        char *colon = strchr(base, ':');
        ptxt = colon ? colon + 1 : f->info->param_default;
        if (colon)
            *colon = '\0';
    }
    ac_classify(o->res, f, builtin_spec ? base : NULL, ptxt, 0, prec);
    ac_status_t g1 = o->res[1].status;
    o->member = g1 == AC_EXACT || o->res[0].status == AC_EXACT ? 1 : g1 == AC_NOT_MEMBER ? 0 : -1;

    /* the head from the G1 member on random tokens */
    arb_t kappa;
    mpfr_t zmax, Ehi;
    arb_init(kappa);
    arb_set_ui(kappa, 0);
    mpfr_init2(zmax, 64);
    mpfr_init2(Ehi, 64);
    ac_head_check(o->headE, NULL, o->headS, zmax, &o->res[1].m, kappa, 1, f, 0, 0, 8, 1, prec);
    ival_get_hi(Ehi, o->headE);
    o->head_exact = o->res[1].status == AC_EXACT;
    if (o->head_exact) {
        mpfr_mul_2si(o->headS, o->headS, VERDICT_EXACT_KAPPA - (long)prec, MPFR_RNDD);
        o->head_ok = arb_is_finite(o->headE) && arb_contains_zero(o->headE) &&
                     mpfr_lessequal_p(Ehi, o->headS);
        o->head_v = o->head_ok ? 0 : 1;
    } else {
        ival_get_lo(o->headS, o->res[1].gap);
        mpfr_mul_ui(o->headS, o->headS, 2, MPFR_RNDD); /* ||u||_2 <= sqrt 3 < 2 */
        int in_range = mpfr_number_p(zmax) && mpfr_cmp_d(zmax, AC_L) <= 0;
        o->head_ok = mpfr_lessequal_p(Ehi, o->headS) && in_range;
        /* violated only when lo(E) is above 2 hi(gap), the bound's largest value;
         * between the two (a wide gap: a search stopped by --max-seconds) nothing is certified */
        mpfr_t Elo, top;
        mpfr_inits2(64, Elo, top, (mpfr_ptr)0);
        ival_get_lo(Elo, o->headE);
        ival_get_hi(top, o->res[1].gap);
        mpfr_mul_ui(top, top, 2, MPFR_RNDU);
        o->head_v = o->head_ok ? 0 : in_range && mpfr_greater_p(Elo, top) ? 1 : 2;
        mpfr_clears(Elo, top, (mpfr_ptr)0);
    }
    o->rc = o->head_v == 0 ? EXIT_HOLDS : o->head_v == 1 ? EXIT_VIOLATED : EXIT_INCONCLUSIVE;
    if (opt->claim && o->head_ok) {
        /* the G1 member's gap against GAP; raise the precision and tighten */
        arb_t bound, g;
        arb_init(bound);
        arb_init(g);
        ival_set_str(bound, opt->claim, prec);
        double tol = 1e-6;
        for (mpfr_prec_t p = prec;; p *= 2) {
            if (o->res[1].status == AC_EXACT) {
                arb_set(g, o->res[1].gap);
            } else {
                act_t m;
                ac_member_act(&m, &o->res[1].m, p);
                supnorm_gap(g, NULL, NULL, f, &m, AC_L, tol, p);
                act_clear(&m);
            }
            o->claim_v = ival_le(g, bound) ? 0 /* false when not finite */
                       : ival_gt(g, bound) ? 1 : 2;
            if (o->claim_v != 2 || p * 2 > 1024 || o->res[1].status == AC_EXACT ||
                supnorm_deadline_reached())
                break;
            tol /= 1000;
            fprintf(stderr, "attncheck: activation: undecided at %ld bits, retrying at %ld\n",
                    (long)p, (long)(2 * p));
        }
        o->rc = judgement_exit(o->claim_v);
        arb_clear(bound);
        arb_clear(g);
    }
    if (opt->expect_member >= 0) {
        o->expect_v = o->member < 0 ? 2 : o->member == opt->expect_member ? 0 : 1;
        o->rc = worse(o->rc, judgement_exit(o->expect_v));
    }
    arb_clear(kappa);
    mpfr_clear(zmax);
    mpfr_clear(Ehi);
}

/* sup |f - g| on [-L, L], with --claim judged; raise the precision while
 * undecided.  0, or 65 with err when the gap is not finite (f or g is
 * unbounded or undefined somewhere the probes missed). */
static int run_target(outcome_t *o, const act_t *f, const act_t *g, const act_opts_t *opt,
                      char *err, size_t errsz)
{
    mpfr_t L;
    arb_t bound;
    mpfr_init2(L, 128);
    arb_init(bound);
    mpfr_set_str(L, opt->domain, 10, MPFR_RNDU); /* round the domain outward */
    if (opt->claim)
        ival_set_str(bound, opt->claim, opt->prec);
    supnorm_opts_t so;
    supnorm_opts_default(&so);
    so.abs_tol = opt->floor;
    so.taylor_order = ACT_TAYLOR_ORDER;
    int status = 0, rc = 0;
    o->target = 1;
    for (mpfr_prec_t p = opt->prec;; p *= 2) {
        /* each round: the act objects keep their parameter enclosures; only
         * the working precision and the tolerances change */
        status = supnorm_diff(&o->s, f, g, L, &so, p);
        if (status < 0)
            break;
        if (opt->claim)
            o->claim_v = ival_le(o->s.sup, bound) ? 0 /* false when not finite */
                       : ival_gt(o->s.sup, bound) ? 1 : 2;
        if (!arb_is_finite(o->s.sup) || (!opt->claim && status == 0) || o->claim_v == 0 ||
            o->claim_v == 1 || p * 2 > 1024 || supnorm_deadline_reached())
            break;
        so.rel_tol /= 100;
        so.max_boxes *= 2;
        if (so.rel_tol < 1e-30)
            so.rel_tol = 1e-30;
        fprintf(stderr, "attncheck: activation: undecided at %ld bits, retrying at %ld\n",
                (long)p, (long)(2 * p));
    }
    if (status < 0) {
        snprintf(err, errsz, "internal error: bad domain");
        rc = EXIT_SOFTWARE;
    } else if (!arb_is_finite(o->s.sup) && !supnorm_deadline_reached()) {
        mpfr_snprintf(err, errsz, "sup |f - g| is not finite on [-L, L]: f or g is unbounded or "
                      "undefined near x = %.17Rg", o->s.argmax);
        rc = EXIT_DATAERR;
    } else {
        o->rc = opt->claim ? judgement_exit(o->claim_v)
                           : o->s.converged ? EXIT_HOLDS : EXIT_INCONCLUSIVE;
    }
    mpfr_clear(L);
    arb_clear(bound);
    return rc;
}

/* ---- text output ---- */

static void print_gap(const char *what, const arb_t g)
{
    char *lo = ival_lo_str(g, 13), *hi = ival_hi_str(g, 13);
    printf("%s in [%s, %s] (certified)", what, lo, hi);
    mpfr_free_str(lo);
    mpfr_free_str(hi);
}

static const char *membership_word(int member)
{
    return member > 0 ? "member" : member == 0 ? "nonmember (proved)" : "undecided";
}

static void print_class_text(const outcome_t *o, const act_opts_t *opt)
{
    printf("f: %s = %s\n", o->label, o->formula);
    printf("domain: [-10, 10] (the tails beyond it are not covered)\n");
    for (int c = 0; c < 2; c++) {
        const ac_result_t *r = o->res + c;
        printf("G%d: %s\n", c, r->verdict);
        if (r->status != AC_EXACT)
            printf("    best member found (Nelder-Mead in doubles, an estimate): %s\n", r->params);
        printf("    ");
        print_gap("sup |f - member|", r->gap);
        printf("; %ld boxes\n", r->boxes);
        if (r->status == AC_EXACT || r->status == AC_WITNESS_FAILS)
            printf("    pointwise |f - member| at 16 points: hi %.2e at %ld bits, %.2e at %ld "
                   "bits (%s)\n", r->pw_hi[0], (long)opt->prec, r->pw_hi[1],
                   (long)opt->prec + 64,
                   r->pointwise_ok ? "enclosures contain 0 and shrink" : "FAILED");
    }
    char *elo = ival_lo_str(o->headE, 4), *ehi = ival_hi_str(o->headE, 4);
    if (o->head_exact)
        mpfr_printf("head: internal dimension 1, mask B, stream [x, 1, bias], from the G1 "
                    "witness, 8 random tokens (d = 3): E in [%s, %s] (certified), %s "
                    "(exact: hi(E) <= S 2^(24-p) = %.3RUe)\n", elo, ehi,
                    o->head_ok ? "holds" : "VIOLATED", o->headS);
    else
        printf("head: internal dimension 1, mask B, stream [x, 1, bias], from the best G1 "
               "member, 8 random tokens (d = 3): E in [%s, %s] (certified), %s "
               "(E <= 2 gap)\n", elo, ehi, o->head_v == 1 ? "VIOLATED" : judgement_words[o->head_v]);
    mpfr_free_str(elo);
    mpfr_free_str(ehi);
    if (o->claim_v >= 0)
        printf("claim: the G1 member's sup gap <= %s on [-10, 10]: %s\n", opt->claim,
               judgement_words[o->claim_v]);
    if (o->expect_v >= 0)
        printf("expect: %s of G1: %s (G1 membership: %s)\n",
               opt->expect_member ? "member" : "nonmember", judgement_words[o->expect_v],
               membership_word(o->member));
    /* the answer in words that cannot read as a pass when f is no member */
    printf("result: f is %s\n", o->member > 0 ? "a member of G1 (the head computes f)"
           : o->member == 0 ? "NOT A MEMBER of G0 or G1 (proved): no one head of internal "
                              "dimension 1 with mask B computes f exactly on [-10, 10]; the head "
                              "above computes the best member"
           : "of undecided membership: no witness found and non-membership not proved; the "
             "head above computes the best member, not f");
}

static void print_target_text(const outcome_t *o, const act_t *f, const act_t *g,
                              const act_opts_t *opt)
{
    printf("f: %s = %s\n", f->name, act_formula(f));
    printf("g: %s = %s\n", g->name, act_formula(g));
    printf("domain: [-%s, %s] (the tails beyond it are not covered)\n", opt->domain, opt->domain);
    if (o->s.at_floor) {
        char *lo = ival_lo_str(o->s.sup, 4), *hi = ival_hi_str(o->s.sup, 4);
        printf("sup |f - g| <= %s (certified: at the floor %s, below which nothing is claimed; "
               "the lower end is %s%s; %ld boxes)\n", hi, opt->floor_text ? opt->floor_text : "1e-30",
               lo, arb_contains_zero(o->s.sup) ? ", so the difference may be identically 0" : "",
               o->s.boxes);
        mpfr_free_str(lo);
        mpfr_free_str(hi);
    } else {
        char *slo = ival_lo_str(o->s.sup, 13), *shi = ival_hi_str(o->s.sup, 13);
        printf("sup |f - g| in [%s, %s]  (certified; %ld boxes%s)\n", slo, shi, o->s.boxes,
               o->s.converged ? "" : "; tolerance not reached");
        mpfr_free_str(slo);
        mpfr_free_str(shi);
        mpfr_printf("reached at x = %.17Rg\n", o->s.argmax);
    }
    if (o->claim_v >= 0)
        printf("claim: sup |f - g| <= %s on [-L, L]: %s\n", opt->claim,
               judgement_words[o->claim_v]);
}

/* The --file table's head: the function is the last column, never cut. */
static void print_table_head(const act_opts_t *opt, int n_g)
{
    double L = n_g ? opt->L : AC_L;
    printf("file: %s; %s; domain [-%g, %g] (the tails beyond it are not covered)\n",
           opt->file, n_g ? "sup |f - target|" : "class report (G1 membership: member, "
           "NONMEMBER (proved), or undecided; check: --expect, else --claim, else the head "
           "built from the witness or best member)", L, L);
    if (n_g)
        printf(" line  %-12s  %-12s  exit  function%s\n", "sup gap hi", "claim",
               n_g > 1 ? "  vs  target" : "");
    else
        printf(" line  %-13s  %-13s  %-10s  %-10s  %-24s  exit  function\n", "G0", "G1",
               "G1 gap hi", "G1 member", "check");
}

/* One line of the --file table (text: the line as written; target: shown
 * when there are several). */
static void print_row_text(const outcome_t *o, const char *text, const char *target)
{
    char gap[40] = "";
    if (o->target) {
        char *hi = ival_hi_str(o->s.sup, 4);
        snprintf(gap, sizeof gap, "%s%s", o->s.at_floor ? "<= " : "", hi);
        mpfr_free_str(hi);
        printf("%5ld  %-12s  %-12s  %4d  %s%s%s\n", o->line, gap,
               o->claim_v >= 0 ? judgement_words[o->claim_v] : "-", o->rc, text,
               target ? "  vs  " : "", target ? target : "");
        return;
    }
    char *hi = ival_hi_str(o->res[1].gap, 4);
    snprintf(gap, sizeof gap, "%s", hi);
    mpfr_free_str(hi);
    static const char *const st[] = {"exact member", "NOT A MEMBER", "best found",
                                     "WITNESS FAILS"};
    char check[64];
    if (o->expect_v >= 0)
        snprintf(check, sizeof check, "expect: %s", o->expect_v == 1 ? "VIOLATED"
                                                                     : judgement_words[o->expect_v]);
    else if (o->claim_v >= 0)
        snprintf(check, sizeof check, "claim: %s", o->claim_v == 1 ? "VIOLATED"
                                                                    : judgement_words[o->claim_v]);
    else
        snprintf(check, sizeof check, "%s head: %s", o->head_exact ? "witness" : "best-member",
                 o->head_v == 1 ? "VIOLATED" : judgement_words[o->head_v]);
    printf("%5ld  %-13s  %-13s  %-10s  %-10s  %-24s  %4d  %s\n", o->line, st[o->res[0].status],
           st[o->res[1].status], gap, o->member > 0 ? "member" : o->member == 0 ? "NONMEMBER"
           : "undecided", check, o->rc, text);
}

/* ---- JSON output ---- */

static json_t *json_member(const ac_result_t *r, int cls, int *ok)
{
    json_t *m = json_object(), *par = json_object();
    static const char *const names[AC_NPAR] = {"gamma", "gamma0", "alpha", "alpha0", "beta",
                                               "beta0", "c"};
    report_json_set(m, "class", json_string(cls ? "G1" : "G0"), ok);
    report_json_set(m, "status", json_string(ac_status_word(r->status)), ok);
    report_json_set(m, "verdict", report_json_text(r->verdict), ok);
    for (int k = 0; k < AC_NPAR; k++) {
        json_t *p = json_object();
        report_json_set(p, "text", report_json_text(r->m.txt[k]), ok);
        if (r->m.show[k][0])
            report_json_set(p, "exact", report_json_text(r->m.show[k]), ok);
        else
            report_json_set(p, "estimate", json_real(r->m.v[k]), ok);
        report_json_set(par, names[k], p, ok);
    }
    report_json_set(m, "parameters", par, ok);
    report_json_set(m, "gap", report_json_ends(r->gap, 20), ok);
    report_json_set(m, "boxes", json_integer(r->boxes), ok);
    if (r->status == AC_EXACT || r->status == AC_WITNESS_FAILS)
        report_json_set(m, "pointwise_ok", json_boolean(r->pointwise_ok), ok);
    return m;
}

static json_t *json_outcome(const outcome_t *o, const act_opts_t *opt)
{
    int ok = 1;
    json_t *j = json_object();
    if (o->line)
        report_json_set(j, "line", json_integer(o->line), &ok);
    report_json_set(j, "function", report_json_text(o->formula), &ok);
    report_json_set(j, "name", report_json_text(o->label), &ok);
    if (o->target) {
        report_json_set(j, "target", report_json_text(o->target_text), &ok);
        report_json_set(j, "domain", report_json_text(opt->domain), &ok);
        report_json_set(j, "sup", report_json_ends(o->s.sup, 20), &ok);
        report_json_set(j, "at_floor", json_boolean(o->s.at_floor), &ok);
        if (o->s.at_floor)
            report_json_set(j, "floor", report_json_text(opt->floor_text ? opt->floor_text
                                                                         : "1e-30"), &ok);
        report_json_set(j, "converged", json_boolean(o->s.converged), &ok);
        report_json_set(j, "boxes", json_integer(o->s.boxes), &ok);
    } else {
        json_t *cl = json_array();
        for (int c = 0; c < 2; c++)
            report_json_push(cl, json_member(o->res + c, c, &ok), &ok);
        report_json_set(j, "domain", json_string("10"), &ok);
        report_json_set(j, "classes", cl, &ok);
        report_json_set(j, "membership_g1", json_string(membership_word(o->member)), &ok);
        json_t *h = json_object();
        report_json_set(h, "E", report_json_ends(o->headE, 20), &ok);
        report_json_set(h, "rule", json_string(o->head_exact ? "exact: 0 in E, hi(E) <= S 2^(24-p)"
                                                             : "E <= 2 gap"), &ok);
        report_json_set(h, "verdict", json_string(judgement_words[o->head_v]), &ok);
        report_json_set(j, "head", h, &ok);
        if (o->expect_v >= 0) {
            json_t *e = json_object();
            report_json_set(e, "expected", json_string(opt->expect_member ? "member" : "nonmember"), &ok);
            report_json_set(e, "verdict", json_string(judgement_words[o->expect_v]), &ok);
            report_json_set(j, "expect", e, &ok);
        }
    }
    if (o->claim_v >= 0) {
        json_t *c = json_object();
        report_json_set(c, "gap", report_json_text(opt->claim), &ok);
        report_json_set(c, "verdict", json_string(judgement_words[o->claim_v]), &ok);
        report_json_set(j, "claim", c, &ok);
    }
    report_json_set(j, "exit", json_integer(o->rc), &ok);
    if (!ok) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static int print_json(json_t *doc)
{
    char *text = report_json_dumps(doc);
    if (!text)
        return act_fail(EXIT_SOFTWARE, "out of memory while writing JSON");
    fputs(text, stdout);
    free(text);
    return 0;
}

/* Print doc (built with ok still 1) and return status; 70 when it could not be. */
static int print_json_status(json_t *doc, int ok, int status)
{
    if (!ok) {
        json_decref(doc);
        return act_fail(EXIT_SOFTWARE, "out of memory while writing JSON");
    }
    return print_json(doc) != 0 ? EXIT_SOFTWARE : status;
}

/* ---- one function ---- */

/* Check f (against g, or its class), filling o; 0, or an exit code >= 64
 * with err. */
static int check_function(outcome_t *o, act_t *f, const char *builtin_spec, const act_t *g,
                          const act_opts_t *opt, char *err, size_t errsz)
{
    snprintf(o->label, sizeof o->label, "%s", builtin_spec ? f->name : "expr");
    snprintf(o->formula, sizeof o->formula, "%s", act_formula(f));
    int rc = check_defined(f, "f", act_formula(f), g ? opt->L : AC_L, err, errsz, opt->prec);
    if (rc)
        return rc;
    if (g)
        return run_target(o, f, g, opt, err, errsz);
    run_class(o, f, builtin_spec, opt);
    return 0;
}

/* ---- --file ---- */

/* The file's text (NUL-terminated, malloc'd) under the rules: a regular
 * file, at most ACT_FILE_MAX_BYTES, opened without blocking (a FIFO is
 * refused, never waited on).  0, or 65 (70 when out of memory) with err. */
static int read_function_file(char **text, size_t *len, const char *path, char *err,
                              size_t errsz)
{
    struct stat st;
    *text = NULL;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(err, errsz, "%.300s: cannot open: %s", path, strerror(errno));
        return EXIT_DATAERR;
    }
    int rc = 0;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errsz, "%.300s: cannot stat: %s", path, strerror(errno));
        rc = EXIT_DATAERR;
    } else if (S_ISDIR(st.st_mode)) {
        snprintf(err, errsz, "%.300s: is a directory", path);
        rc = EXIT_DATAERR;
    } else if (!S_ISREG(st.st_mode)) {
        snprintf(err, errsz, "%.300s: not a regular file", path);
        rc = EXIT_DATAERR;
    } else if (st.st_size > ACT_FILE_MAX_BYTES) {
        snprintf(err, errsz, "%.300s: larger than %ld bytes", path, ACT_FILE_MAX_BYTES);
        rc = EXIT_DATAERR;
    }
    if (rc) {
        close(fd);
        return rc;
    }
    /* read at most one byte past the limit: a file that grew is refused too */
    size_t cap = (size_t)ACT_FILE_MAX_BYTES + 2, n = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        ssize_t k = read(fd, buf + n, cap - 1 - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            snprintf(err, errsz, "%.300s: cannot read: %s", path, strerror(errno));
            rc = EXIT_DATAERR;
            break;
        }
        if (k == 0)
            break;
        n += (size_t)k;
        if (n > (size_t)ACT_FILE_MAX_BYTES) {
            snprintf(err, errsz, "%.300s: larger than %ld bytes", path, ACT_FILE_MAX_BYTES);
            rc = EXIT_DATAERR;
            break;
        }
    }
    close(fd);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}

/* Split the file into its function lines (blank and # lines skipped),
 * refusing a NUL byte, an over-long line, too many lines, and text with
 * control characters; 0, or 65 with err naming the line. */
static int split_lines(file_line_t **out, long *n_out, char *buf, size_t len, const char *path,
                       char *err, size_t errsz)
{
    file_line_t *lines = xmallocarray(ACT_FILE_MAX_LINES, sizeof *lines);
    long n = 0, lineno = 0;
    size_t at = 0;
    while (at < len) {
        lineno++;
        size_t end = at;
        while (end < len && buf[end] != '\n')
            end++;
        size_t l = end - at;
        if (memchr(buf + at, '\0', l)) {
            snprintf(err, errsz, "%.300s:%ld: holds a NUL byte", path, lineno);
            free(lines);
            return EXIT_DATAERR;
        }
        if (l > EXPR_MAX_LEN) {
            snprintf(err, errsz, "%.300s:%ld: longer than %d bytes", path, lineno, EXPR_MAX_LEN);
            free(lines);
            return EXIT_DATAERR;
        }
        buf[end] = '\0';
        if (l && buf[end - 1] == '\r')
            buf[end - 1] = '\0'; /* CRLF line ends */
        char *t = buf + at;
        while (*t == ' ' || *t == '\t')
            t++;
        at = end + 1;
        if (!*t || *t == '#')
            continue;
        if (cli_has_control_char(t)) {
            snprintf(err, errsz, "%.300s:%ld: holds a control character", path, lineno);
            free(lines);
            return EXIT_DATAERR;
        }
        if (n == ACT_FILE_MAX_LINES) {
            snprintf(err, errsz, "%.300s: more than %d functions", path, ACT_FILE_MAX_LINES);
            free(lines);
            return EXIT_DATAERR;
        }
        lines[n].line = lineno;
        lines[n++].text = t;
    }
    if (n == 0) {
        snprintf(err, errsz, "%.300s: no function in it (one per line)", path);
        free(lines);
        return EXIT_DATAERR;
    }
    *out = lines;
    *n_out = n;
    return 0;
}

static void clear_targets(act_t *g, int n)
{
    for (int k = 0; k < n; k++)
        act_clear(g + k);
}

/* The --target values, in order, as a JSON array. */
static json_t *json_targets(const act_opts_t *opt, int *ok)
{
    json_t *a = json_array();
    for (int k = 0; k < opt->n_targets; k++)
        report_json_push(a, report_json_text(opt->targets[k]), ok);
    return a;
}

static int run_file(const act_opts_t *opt, const act_t *gs, int n_g)
{
    const act_t *g = n_g ? gs : NULL; /* any target: the domain is --domain's */
    char err[1024], *buf;
    size_t len;
    int rc = read_function_file(&buf, &len, opt->file, err, sizeof err);
    if (rc)
        return act_fail(rc, "%s", err);
    file_line_t *lines;
    long n;
    rc = split_lines(&lines, &n, buf, len, opt->file, err, sizeof err);
    if (rc) {
        free(buf);
        return act_fail(rc, "%s", err);
    }
    /* every line parses and is defined on the domain before any work */
    act_t *fs = xmallocarray((size_t)n, sizeof *fs);
    long ready = 0;
    for (; ready < n && rc == 0; ready++) {
        char e2[400];
        rc = function_init(fs + ready, lines[ready].text, 0, e2, sizeof e2, opt->prec);
        if (rc == 0)
            rc = check_defined(fs + ready, "f", lines[ready].text, g ? opt->L : AC_L, e2,
                               sizeof e2, opt->prec);
        else
            rc = EXIT_DATAERR;
        if (rc) {
            snprintf(err, sizeof err, "%.300s:%ld: %s", opt->file, lines[ready].line, e2);
            if (fs[ready].ival) /* initialised: defined-ness failed */
                act_clear(fs + ready);
        }
    }
    if (rc) {
        for (long k = 0; k + 1 < ready; k++)
            act_clear(fs + k);
        free(fs);
        free(lines);
        free(buf);
        return act_fail(rc, "%s", err);
    }
    int status = EXIT_HOLDS;
    json_t *rows = opt->json ? json_array() : NULL;
    int ok = 1;
    if (!opt->json)
        print_table_head(opt, n_g);
    int stopped = 0;
    for (long k = 0; k < n && status < EXIT_USAGE && !stopped; k++)
        for (int t = 0; t < (n_g ? n_g : 1) && status < EXIT_USAGE && !stopped; t++) {
            outcome_t o;
            outcome_init(&o, opt->prec);
            o.line = lines[k].line;
            const char *spec = fs[k].info ? lines[k].text : NULL;
            rc = check_function(&o, fs + k, spec, n_g ? gs + t : NULL, opt, err, sizeof err);
            o.target_text = n_g ? opt->targets[t] : NULL;
            snprintf(o.formula, sizeof o.formula, "%s", lines[k].text); /* as written */
            if (rc) {
                status = act_fail(rc, "%.300s:%ld: %s", opt->file, lines[k].line, err);
            } else {
                status = worse(status, o.rc);
                if (opt->json)
                    report_json_push(rows, json_outcome(&o, opt), &ok);
                else
                    print_row_text(&o, lines[k].text, n_g > 1 ? opt->targets[t] : NULL);
                cli_flush_stdout();
            }
            outcome_clear(&o);
            if (supnorm_deadline_reached() && status < EXIT_USAGE) {
                status = worse(status, EXIT_INCONCLUSIVE); /* the rows after it are not checked */
                stopped = 1;
            }
        }
    if (opt->json && status < EXIT_USAGE) {
        json_t *doc = json_object();
        report_json_set(doc, "file", report_json_text(opt->file), &ok);
        if (n_g == 1)
            report_json_set(doc, "target", report_json_text(opt->target), &ok);
        else if (n_g > 1)
            report_json_set(doc, "targets", json_targets(opt, &ok), &ok);
        report_json_set(doc, "rows", rows, &ok);
        report_json_set(doc, "exit", json_integer(status), &ok);
        status = print_json_status(doc, ok, status);
    } else if (rows) {
        json_decref(rows);
    }
    for (long k = 0; k < n; k++)
        act_clear(fs + k);
    free(fs);
    free(lines);
    free(buf);
    return status;
}

/* ---- --heads ---- */

/* eps_1..eps_M of m SiLU heads per neuron for f (silusum.h): the fits
 * (shipped or fitted now, estimates) and their certified gaps. */
static int run_heads(const act_t *f, const act_opts_t *opt)
{
    char err[700];
    int rc = check_defined(f, "f", act_formula(f), opt->L, err, sizeof err, opt->prec);
    if (rc)
        return act_fail(rc, "%s", err);
    int M = opt->heads;
    silusum_t *fits = xmallocarray((size_t)M, sizeof *fits);
    const char *kind = silusum_tail_kind(f);
    int shipped = !opt->refit && kind && opt->L == SILUSUM_SHIPPED_L &&
                  opt->a_max == SILUSUM_SHIPPED_A_MAX && M <= SILUSUM_SHIPPED_M;
    for (int m = 1; m <= M && shipped; m++)
        shipped = silusum_shipped(fits + m - 1, kind, m) == 0;
    if (!shipped && silusum_fit_table(fits, f, M, opt->L, opt->a_max) != 0) {
        free(fits);
        return act_fail(EXIT_DATAERR, "the fit failed: f is not finite on a grid of [-%g, %g]",
                        opt->L, opt->L);
    }
    supnorm_opts_t so;
    supnorm_opts_default(&so);
    so.rel_tol = 1e-9;
    so.taylor_order = ACT_TAYLOR_ORDER;
    int status = EXIT_HOLDS, ok = 1, whole = kind != NULL;
    json_t *rows = opt->json ? json_array() : NULL;
    if (!opt->json) {
        printf("f: %s = %s\n", f->info ? f->name : "expr", act_formula(f));
        printf("heads: f(z) ~ S_m(z) = sum_{j<=m} c_j SiLU_{a_j}(z), one head per term; c_j, a_j "
               "dyadic (exact), sum c_j = 1, slopes in [%g, %g]\n", SILUSUM_A_MIN, opt->a_max);
        printf("fit: %s on [-%g, %g] (estimates: an L_p fit in doubles, p up to 1024)\n",
               shipped ? "the shipped fits, made" : "fitted now", opt->L, opt->L);
        printf("gap: eps_m = sup |f - S_m| certified %s\n",
               whole ? "over the whole line (branch and bound on [-L, L], a certified tail "
                       "bound for |z| >= L)"
                     : "on [-L, L] only (no tail argument for this function: the tails are "
                       "not covered)");
        printf(" m  eps_m (certified)                  L     tail bound   bits  sum|c_j|\n");
    }
    for (int m = 1; m <= M && status < EXIT_USAGE; m++) {
        const silusum_t *fit = fits + m - 1;
        silusum_cert_t c;
        silusum_cert_init(&c, opt->prec);
        int r = silusum_certify(&c, f, fit, &so, opt->prec);
        char text[SILUSUM_MAX_HEADS * 160];
        silusum_expr_text(text, sizeof text, fit);
        double sumc = 0;
        for (int j = 0; j < fit->m; j++)
            sumc += fabs(fit->c[j]);
        if (r < 0 || !arb_is_finite(c.gap_in)) {
            if (!supnorm_deadline_reached()) {
                mpfr_snprintf(err, sizeof err, "m = %d: sup |f - S_m| is not finite on [-L, L]: f "
                              "is unbounded or undefined near x = %.17Rg", m, c.argmax);
                status = act_fail(EXIT_DATAERR, "%s", err);
            } else {
                status = worse(status, EXIT_INCONCLUSIVE);
            }
            silusum_cert_clear(&c);
            break;
        }
        if (!c.converged)
            status = worse(status, EXIT_INCONCLUSIVE);
        if (opt->json) {
            json_t *h = json_object(), *cj = json_array(), *aj = json_array();
            for (int j = 0; j < fit->m; j++) {
                char buf[80];
                silusum_decimal(buf, sizeof buf, fit->c[j]);
                report_json_push(cj, json_string(buf), &ok);
                silusum_decimal(buf, sizeof buf, fit->a[j]);
                report_json_push(aj, json_string(buf), &ok);
            }
            report_json_set(h, "m", json_integer(m), &ok);
            report_json_set(h, "eps", report_json_ends(c.gap, 20), &ok);
            report_json_set(h, "whole_line", json_boolean(c.whole_line), &ok);
            report_json_set(h, "sup_on_range", report_json_ends(c.gap_in, 20), &ok);
            report_json_set(h, "L", json_real(c.L_cert), &ok);
            if (c.whole_line)
                report_json_set(h, "tail_bound", report_json_ends(c.tail, 6), &ok);
            report_json_set(h, "converged", json_boolean(c.converged), &ok);
            report_json_set(h, "boxes", json_integer(c.boxes), &ok);
            report_json_set(h, "bits", json_integer(fit->bits), &ok);
            report_json_set(h, "c", cj, &ok);
            report_json_set(h, "a", aj, &ok);
            report_json_set(h, "expression", json_string(text), &ok);
            report_json_set(h, "estimate", json_real(fit->gap_d), &ok);
            report_json_push(rows, h, &ok);
        } else {
            char *lo = ival_lo_str(c.gap, 10), *hi = ival_hi_str(c.gap, 10);
            char *th = c.whole_line ? ival_hi_str(c.tail, 2) : NULL;
            char gap[80];
            snprintf(gap, sizeof gap, "[%s, %s]", lo, hi);
            printf("%2d  %-34s %-5g %-12s %-5d %.6g%s\n", m, gap, c.L_cert, th ? th : "-",
                   fit->bits, sumc, c.converged ? "" : "  (tolerance not reached)");
            printf("    S_%d = %s\n", m, text);
            mpfr_free_str(lo);
            mpfr_free_str(hi);
            if (th)
                mpfr_free_str(th);
            cli_flush_stdout();
        }
        silusum_cert_clear(&c);
    }
    if (opt->json && status < EXIT_USAGE) {
        json_t *doc = json_object();
        report_json_set(doc, "function", report_json_text(act_formula(f)), &ok);
        report_json_set(doc, "name", report_json_text(f->info ? f->name : "expr"), &ok);
        report_json_set(doc, "domain", report_json_text(opt->domain), &ok);
        report_json_set(doc, "a_max", json_real(opt->a_max), &ok);
        report_json_set(doc, "fit", json_string(shipped ? "shipped" : "fitted"), &ok);
        report_json_set(doc, "heads", rows, &ok);
        report_json_set(doc, "exit", json_integer(status), &ok);
        status = print_json_status(doc, ok, status);
    } else if (rows) {
        json_decref(rows);
    }
    free(fits);
    return status;
}

/* ---- options ---- */

static int opt_baseline(void *ctx, const char *v)
{
    act_opts_t *o = ctx;
    o->baseline = 1;
    o->baseline_file = v;
    o->baseline_operand = v == NULL;
    return 0;
}

/* A bare word: FILE of "--baseline FILE"; nothing else takes one. */
static int opt_operand(void *ctx, const char *word)
{
    act_opts_t *o = ctx;
    if (!o->baseline_operand)
        return act_fail(EXIT_USAGE, "unexpected argument '%s'", word);
    o->baseline_file = word;
    o->baseline_operand = 0;
    return 0;
}

static int opt_target(void *ctx, const char *v)
{
    act_opts_t *o = ctx;
    if (o->n_targets == ACT_MAX_TARGETS)
        return act_fail(EXIT_USAGE, "more than %d --target", ACT_MAX_TARGETS);
    o->targets[o->n_targets++] = v;
    if (!o->target)
        o->target = v;
    return 0;
}

static int opt_refit(void *ctx, const char *v)
{
    (void)v;
    ((act_opts_t *)ctx)->refit = 1;
    return 0;
}

static int opt_prec(void *ctx, const char *v)
{
    if (parse_prec(&((act_opts_t *)ctx)->prec, v) != 0)
        return act_fail(EXIT_USAGE, "--prec '%.40s' is not an integer in [%d, %d]", v, PREC_MIN,
                        PREC_MAX);
    return 0;
}

static int opt_max_seconds(void *ctx, const char *v)
{
    if (cli_parse_seconds(&((act_opts_t *)ctx)->max_seconds, v) != 0)
        return act_fail(EXIT_USAGE, "--max-seconds '%.40s' is not a number of seconds in "
                        "(0, 10^6]", v);
    return 0;
}

#define ACT_TEXT(flag, member) {flag, CLI_VALUE, NULL, offsetof(act_opts_t, member)}
static const cli_opt_t activation_opts[] = {
    {"--baseline", CLI_MAYBE_VALUE, opt_baseline, 0}, {"--refit", CLI_FLAG, opt_refit, 0},
    {"--target", CLI_VALUES, opt_target, 0},
    ACT_TEXT("--heads", heads_text), ACT_TEXT("--a-max", a_max_text),
    ACT_TEXT("--name", name), ACT_TEXT("--expr", expr), ACT_TEXT("--file", file),
    ACT_TEXT("--domain", domain), ACT_TEXT("--claim", claim),
    ACT_TEXT("--expect", expect), ACT_TEXT("--floor", floor_text), ACT_TEXT("--format", format),
    {"--prec", CLI_VALUE, opt_prec, 0}, {"--max-seconds", CLI_VALUE, opt_max_seconds, 0},
    {NULL, CLI_FLAG, NULL, 0}};
#undef ACT_TEXT

static int parse_options(act_opts_t *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->domain = "10";
    o->prec = 128;
    o->max_seconds = ACT_MAX_SECONDS_DEFAULT;
    o->floor = ACT_FLOOR_DEFAULT;
    o->expect_member = -1;
    cli_common_t common = {.prefix = "activation"};
    int rc = cli_parse(argc, argv, usage_activation, activation_opts, o, opt_operand, &common);
    if (rc)
        return rc;
    const char *format = o->format;
    if (o->baseline) {
        /* print (the built-ins, or --file's functions), or check FILE */
        if (o->name || o->expr || (o->file && o->baseline_file) || o->target || o->claim ||
            o->expect || format || o->heads_text || o->a_max_text || o->refit)
            return act_fail(EXIT_USAGE, "--baseline takes no other option but --file (to print "
                            "its functions' lines); --baseline FILE checks FILE");
        if (o->baseline_file && (!*o->baseline_file || cli_has_control_char(o->baseline_file)))
            return act_fail(EXIT_USAGE, "--baseline '%s': not a file name", o->baseline_file);
        if (o->file && cli_has_control_char(o->file))
            return act_fail(EXIT_USAGE, "--file '%s': the path holds a control character",
                            o->file);
        return 0;
    }
    if ((o->name != NULL) + (o->expr != NULL) + (o->file != NULL) != 1)
        return act_fail(EXIT_USAGE, "give exactly one of --name, --expr and --file (see --help)");
    if (format && strcmp(format, "json") != 0 && strcmp(format, "text") != 0)
        return act_fail(EXIT_USAGE, "--format '%.40s': use text or json", format);
    o->json = format && strcmp(format, "json") == 0;
    if (o->expect) {
        if (strcmp(o->expect, "member") == 0)
            o->expect_member = 1;
        else if (strcmp(o->expect, "nonmember") == 0)
            o->expect_member = 0;
        else
            return act_fail(EXIT_USAGE, "--expect '%.40s': use member or nonmember", o->expect);
        if (o->target)
            return act_fail(EXIT_USAGE, "--expect judges the class report: it takes no --target");
    }
    /* text that is printed back: one line each */
    if (o->name && cli_has_control_char(o->name))
        return act_fail(EXIT_USAGE, "unknown activation '%s'", o->name);
    if (o->file && cli_has_control_char(o->file))
        return act_fail(EXIT_USAGE, "--file '%s': the path holds a control character", o->file);
    if (o->expr && cli_has_control_char(o->expr))
        return act_fail(EXIT_DATAERR, "expression '%s' holds a control character", o->expr);
    for (int k = 0; k < o->n_targets; k++)
        if (cli_has_control_char(o->targets[k]))
            return act_fail(EXIT_DATAERR, "expression '%s' holds a control character",
                            o->targets[k]);
    double claim_d;
    if (parse_finite(&o->L, o->domain) != 0 || o->L <= 0)
        return act_fail(EXIT_USAGE, "--domain must be a positive finite number, not '%.40s'",
                        o->domain);
    if (o->claim && (parse_finite(&claim_d, o->claim) != 0 || claim_d < 0))
        return act_fail(EXIT_USAGE, "--claim must be a finite number >= 0, not '%.40s'", o->claim);
    if (o->floor_text && (parse_finite(&o->floor, o->floor_text) != 0 || !(o->floor > 0)))
        return act_fail(EXIT_USAGE, "--floor must be a finite number > 0, not '%.40s'",
                        o->floor_text);
    o->a_max = SILUSUM_SHIPPED_A_MAX;
    if (o->heads_text) {
        double h;
        if (parse_finite(&h, o->heads_text) != 0 || h != floor(h) || h < 1 ||
            h > SILUSUM_MAX_HEADS)
            return act_fail(EXIT_USAGE, "--heads must be an integer in [1, %d], not '%.40s'",
                            SILUSUM_MAX_HEADS, o->heads_text);
        o->heads = (int)h;
        if (o->file || o->target || o->claim || o->expect || o->floor_text)
            return act_fail(EXIT_USAGE, "--heads takes --name or --expr, and no --file, "
                            "--target, --claim, --expect or --floor");
        if (o->L < 1 || o->L > 1e6) /* the fit's grid and tails are doubles on [-L, L] */
            return act_fail(EXIT_USAGE, "--heads needs --domain L in [1, 10^6]");
        if (o->a_max_text && (parse_finite(&o->a_max, o->a_max_text) != 0 ||
                              !(o->a_max >= SILUSUM_A_MIN) || o->a_max > 1024))
            return act_fail(EXIT_USAGE, "--a-max must be a number in [%g, 1024], not '%.40s'",
                            SILUSUM_A_MIN, o->a_max_text);
        return 0;
    }
    if (o->a_max_text || o->refit)
        return act_fail(EXIT_USAGE, "--a-max and --refit go with --heads");
    if (!o->target && strcmp(o->domain, "10") != 0 && o->L != AC_L)
        return act_fail(EXIT_USAGE, "the class report is on [-10, 10]; --domain applies with "
                        "--target");
    return 0;
}

/* Past --max-seconds: an undecided answer is inconclusive, said on stderr. */
static int time_limit_reached(int rc, double seconds)
{
    if (!supnorm_deadline_reached() || rc == EXIT_HOLDS || rc == EXIT_VIOLATED || rc >= EXIT_USAGE)
        return rc;
    return act_fail(EXIT_INCONCLUSIVE, "time limit of %g s reached (--max-seconds): inconclusive",
                    seconds);
}

int cmd_activation(int argc, char **argv)
{
    act_opts_t opt;
    int rc = parse_options(&opt, argc, argv);
    if (rc)
        return rc < 0 ? EXIT_HOLDS : rc;
    if (opt.baseline)
        return opt.baseline_file ? check_baseline(opt.baseline_file) : print_baseline(&opt);
    supnorm_set_deadline(opt.max_seconds); /* the clock starts once the input is accepted */

    char err[700];
    act_t g[ACT_MAX_TARGETS], f;
    int n_g = 0;
    for (; n_g < opt.n_targets; n_g++) {
        const char *t = opt.targets[n_g];
        rc = function_init(g + n_g, t, 0, err, sizeof err, opt.prec);
        if (rc == 0 && (rc = check_defined(g + n_g, "the target", t, opt.L, err, sizeof err,
                                           opt.prec)) != 0)
            act_clear(g + n_g);
        if (rc) {
            clear_targets(g, n_g);
            return act_fail(strncmp(err, "expression", 10) == 0 || rc == EXIT_DATAERR
                                ? EXIT_DATAERR : EXIT_USAGE, "%s", err);
        }
    }
    if (opt.file) {
        rc = run_file(&opt, g, n_g);
        clear_targets(g, n_g);
        return time_limit_reached(rc, opt.max_seconds);
    }
    rc = function_init(&f, opt.name ? opt.name : opt.expr, opt.name != NULL, err, sizeof err,
                       opt.prec);
    if (rc) {
        clear_targets(g, n_g);
        return act_fail(rc, "%s", err);
    }
    if (opt.heads) {
        rc = run_heads(&f, &opt);
        act_clear(&f);
        return time_limit_reached(rc, opt.max_seconds);
    }
    /* the class report, or one comparison per --target */
    json_t *docs = opt.json && n_g > 1 ? json_array() : NULL;
    int status = EXIT_HOLDS, ok = 1;
    for (int t = 0; t < (n_g ? n_g : 1) && status < EXIT_USAGE; t++) {
        outcome_t o;
        outcome_init(&o, opt.prec);
        rc = check_function(&o, &f, opt.name, n_g ? g + t : NULL, &opt, err, sizeof err);
        o.target_text = n_g ? opt.targets[t] : NULL;
        if (rc) {
            status = act_fail(rc, "%s", err);
        } else if (docs) {
            report_json_push(docs, json_outcome(&o, &opt), &ok);
            status = worse(status, o.rc);
        } else if (opt.json) {
            json_t *doc = json_outcome(&o, &opt);
            rc = doc ? print_json(doc) : act_fail(EXIT_SOFTWARE, "out of memory while writing "
                                                               "JSON");
            status = rc ? rc : o.rc;
        } else {
            if (t > 0)
                putchar('\n');
            if (n_g)
                print_target_text(&o, &f, g + t, &opt);
            else
                print_class_text(&o, &opt);
            status = worse(status, o.rc);
            cli_flush_stdout();
        }
        outcome_clear(&o);
        if (supnorm_deadline_reached())
            break; /* the targets after it are not compared */
    }
    if (docs && status < EXIT_USAGE) {
        json_t *doc = json_object();
        report_json_set(doc, "targets", json_targets(&opt, &ok), &ok);
        report_json_set(doc, "rows", docs, &ok);
        report_json_set(doc, "exit", json_integer(status), &ok);
        status = print_json_status(doc, ok, status);
    } else if (docs) {
        json_decref(docs);
    }
    act_clear(&f);
    clear_targets(g, n_g);
    return time_limit_reached(status, opt.max_seconds);
}
