/* `attncheck activation`: compare an activation (built-in or expression)
 * with a target by a certified sup gap on [-L, L], and judge a claimed gap;
 * without --target, its class report (G0/G1 of claims.md, through the
 * activation-class module); --baseline prints the regression baseline.
 * Tails beyond L are not covered: the domain is part of the statement. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "act.h"
#include "actclass.h"
#include "cli.h"
#include "exitcodes.h"
#include "runner.h"
#include "supnorm.h"

#define ACT_MAX_SECONDS_DEFAULT 60

static const char *usage_activation =
    "usage: attncheck activation (--name NAME | --expr EXPR) [--target NAME|EXPR]\n"
    "                            [--domain L] [--claim GAP] [--prec P] [--help]\n"
    "       attncheck activation --baseline    (> tests/activation_baseline.tsv)\n"
    "  without --target: the class report: exact membership in G0 / G1 with a\n"
    "                  witness, or the best member found (parameters, certified gap\n"
    "                  on [-10, 10]); the head built from it checked on random tokens;\n"
    "                  --claim GAP judges the G1 member's certified gap\n"
    "  --name NAME     a built-in: identity relu silu silu_a[:a] gelu gelu_tanh sigmoid\n"
    "                  tanh softplus elu[:alpha] mish hardswish\n"
    "  --expr EXPR     a function of x (or z): + - * / ^, exp log log1p expm1 sqrt abs\n"
    "                  tanh sigmoid erf erfc softplus min max, pi, e\n"
    "  --target F      compare with F (a built-in name or an expression): certified\n"
    "                  enclosure of sup |f - F| on [-L, L]\n"
    "  --domain L      half-width of the domain (default 10); tails beyond L not covered\n"
    "  --claim GAP     exit 0 if the gap is certainly <= GAP, 1 if certainly > GAP,\n"
    "                  2 if undecided after raising the precision (up to 1024 bits)\n"
    "  --prec P        starting precision in bits (default 128)\n"
    "  --max-seconds S stop after S seconds (default 60) and answer inconclusive (exit 2)\n"
    "                  unless the claim was already decided\n"
    "Exit: 0 holds, 1 violated, 2 inconclusive, 64 a malformed option or value (--prec abc,\n"
    "      --domain nan), 65 an expression that does not parse, 70 internal error.\n";

#define act_fail(code, ...) cli_fail(code, "activation: " __VA_ARGS__)

/* Past --max-seconds: an undecided answer is inconclusive, said on stderr. */
static int time_limit_reached(int rc, double seconds)
{
    if (!supnorm_deadline_reached() || rc == EXIT_HOLDS || rc == EXIT_VIOLATED)
        return rc;
    return act_fail(EXIT_INCONCLUSIVE, "time limit of %g s reached (--max-seconds): inconclusive",
                    seconds);
}

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

static int print_baseline(void)
{
    char line[512];
    puts(AC_BASELINE_HEADER);
    for (int k = 0; ac_baseline_names[k]; k++) {
        if (ac_baseline_line(line, sizeof line, ac_baseline_names[k], AC_BASELINE_PREC) != 0)
            return act_fail(EXIT_SOFTWARE, "internal error: built-in not found");
        puts(line);
    }
    return EXIT_HOLDS;
}

static void print_gap(const char *what, const arb_t g)
{
    char *lo = ival_lo_str(g, 13), *hi = ival_hi_str(g, 13);
    printf("%s in [%s, %s] (certified)", what, lo, hi);
    mpfr_free_str(lo);
    mpfr_free_str(hi);
}

/* The class report of one function; the exit code follows --claim (if
 * given) and the head check. */
static int class_report(act_t *f, const char *name, const char *expr, const char *claim,
                        mpfr_prec_t prec)
{
    char base[64] = "";
    const char *ptxt = NULL;
    if (name) {
        snprintf(base, sizeof base, "%s", name);
        char *colon = strchr(base, ':');
        ptxt = colon ? colon + 1 : f->info->param_default;
        if (colon)
            *colon = '\0';
    }
    ac_result_t res[2];
    ac_result_init(res, prec);
    ac_result_init(res + 1, prec);
    ac_classify(res, f, name ? base : NULL, ptxt, 0, prec);
    printf("f: %s = %s\n", name ? f->name : "expr", name ? act_formula(f) : expr);
    printf("domain: [-10, 10] (the tails beyond it are not covered)\n");
    for (int c = 0; c < 2; c++) {
        printf("G%d: %s\n", c, res[c].verdict);
        if (res[c].status != AC_EXACT)
            printf("    best member found (Nelder-Mead in doubles, an estimate): %s\n",
                   res[c].params);
        printf("    ");
        print_gap("sup |f - member|", res[c].gap);
        printf("; %ld boxes\n", res[c].boxes);
        if (res[c].status == AC_EXACT || res[c].status == AC_WITNESS_FAILS)
            printf("    pointwise |f - member| at 16 points: hi %.2e at %ld bits, %.2e at %ld "
                   "bits (%s)\n", res[c].pw_hi[0], (long)prec, res[c].pw_hi[1], (long)prec + 64,
                   res[c].pointwise_ok ? "enclosures contain 0 and shrink" : "FAILED");
    }
    /* the head from the G1 member on random tokens */
    arb_t E, kappa;
    mpfr_t S, zmax;
    arb_init(E);
    arb_init(kappa);
    arb_set_ui(kappa, 0);
    mpfr_init2(S, 64);
    mpfr_init2(zmax, 64);
    ac_head_check(E, NULL, S, zmax, &res[1].m, kappa, 1, f, 0, 0, 8, 1, prec);
    int head_ok;
    mpfr_t Ehi;
    mpfr_init2(Ehi, 64);
    ival_get_hi(Ehi, E);
    char *elo = ival_lo_str(E, 4), *ehi = ival_hi_str(E, 4);
    if (res[1].status == AC_EXACT) {
        mpfr_mul_2si(S, S, VERDICT_EXACT_KAPPA - (long)prec, MPFR_RNDU);
        head_ok = arb_is_finite(E) && arb_contains_zero(E);
        head_ok &= mpfr_lessequal_p(Ehi, S);
        mpfr_printf("head: internal dimension 1, mask B, stream [x, 1, bias], from the G1 "
                    "witness, 8 random tokens (d = 3): E in [%s, %s] (certified), %s "
                    "(exact: hi(E) <= S 2^(24-p) = %.3RUe)\n", elo, ehi,
                    head_ok ? "holds" : "VIOLATED", S);
    } else {
        ival_get_lo(S, res[1].gap);
        mpfr_mul_ui(S, S, 2, MPFR_RNDD); /* ||u||_2 <= sqrt 3 < 2 */
        head_ok = mpfr_lessequal_p(Ehi, S) && mpfr_number_p(zmax) &&
                  mpfr_cmp_d(zmax, AC_L) <= 0;
        printf("head: internal dimension 1, mask B, stream [x, 1, bias], from the best G1 "
               "member, 8 random tokens (d = 3): E in [%s, %s] (certified), %s "
               "(E <= 2 gap)\n", elo, ehi, head_ok ? "holds" : "VIOLATED");
    }
    mpfr_free_str(elo);
    mpfr_free_str(ehi);
    mpfr_clear(Ehi);
    int rc = head_ok ? EXIT_HOLDS : EXIT_VIOLATED;
    if (claim && head_ok) {
        /* the G1 member's gap against GAP; raise precision and tighten */
        arb_t bound, g;
        arb_init(bound);
        ival_set_str(bound, claim, prec);
        int verdict = 2;
        double tol = 1e-6;
        act_t m;
        for (mpfr_prec_t p = prec;; p *= 2) {
            arb_init(g);
            if (res[1].status == AC_EXACT)
                arb_set(g, res[1].gap);
            ac_member_act(&m, &res[1].m, p);
            if (res[1].status != AC_EXACT)
                supnorm_gap(g, NULL, NULL, f, &m, AC_L, tol, p);
            act_clear(&m);
            verdict = ival_le(g, bound) ? 0 /* false when not finite */
                    : ival_gt(g, bound) ? 1 : 2;
            if (verdict != 2 || p * 2 > 1024 || res[1].status == AC_EXACT ||
                supnorm_deadline_reached()) {
                arb_clear(g);
                break;
            }
            arb_clear(g);
            tol /= 1000;
            fprintf(stderr, "attncheck: activation: undecided at %ld bits, retrying at %ld\n",
                    (long)p, (long)(2 * p));
        }
        static const char *const vn[] = {"holds", "violated", "inconclusive"};
        printf("claim: the G1 member's sup gap <= %s on [-10, 10]: %s\n", claim, vn[verdict]);
        rc = verdict == 0 ? EXIT_HOLDS : verdict == 1 ? EXIT_VIOLATED : EXIT_INCONCLUSIVE;
        arb_clear(bound);
    }
    arb_clear(E);
    arb_clear(kappa);
    mpfr_clear(S);
    mpfr_clear(zmax);
    ac_result_clear(res);
    ac_result_clear(res + 1);
    return rc;
}

int cmd_activation(int argc, char **argv)
{
    const char *name = NULL, *expr = NULL, *target = NULL, *domain = "10", *claim = NULL;
    mpfr_prec_t prec = 128;
    double max_seconds = ACT_MAX_SECONDS_DEFAULT;
    int baseline = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val;
        char flag[32];
        if (cli_split_flag(flag, sizeof flag, &val, a) != 0)
            return act_fail(EXIT_USAGE, "unknown option '%.40s...' (see --help)", a);
        if ((strcmp(flag, "--help") == 0 || strcmp(flag, "-h") == 0) && !val) {
            fputs(usage_activation, stdout);
            return EXIT_HOLDS;
        }
        if (strcmp(flag, "--baseline") == 0 && !val) {
            baseline = 1;
            continue;
        }
        const char **slot = strcmp(flag, "--name") == 0 ? &name
                          : strcmp(flag, "--expr") == 0 ? &expr
                          : strcmp(flag, "--target") == 0 ? &target
                          : strcmp(flag, "--domain") == 0 ? &domain
                          : strcmp(flag, "--claim") == 0 ? &claim : NULL;
        int is_prec = strcmp(flag, "--prec") == 0, is_time = strcmp(flag, "--max-seconds") == 0;
        if (!slot && !is_prec && !is_time)
            return act_fail(EXIT_USAGE, "unknown option '%.40s' (see --help)", a);
        if (!val) {
            if (i + 1 >= argc)
                return act_fail(EXIT_USAGE, "%s needs a value", flag);
            val = argv[++i];
        }
        if (is_prec && parse_prec(&prec, val) != 0)
            return act_fail(EXIT_USAGE, "--prec '%.40s' is not an integer in [%d, %d]", val,
                            PREC_MIN, PREC_MAX);
        if (is_time && cli_parse_seconds(&max_seconds, val) != 0)
            return act_fail(EXIT_USAGE, "--max-seconds '%.40s' is not a number of seconds in "
                            "(0, 10^6]", val);
        if (slot)
            *slot = val;
    }
    if (baseline) {
        if (name || expr || target || claim)
            return act_fail(EXIT_USAGE, "--baseline takes no other option");
        return print_baseline();
    }
    if ((name == NULL) == (expr == NULL))
        return act_fail(EXIT_USAGE, "give exactly one of --name and --expr (see --help)");
    /* text that is printed back: one line each */
    if (name && cli_has_control_char(name))
        return act_fail(EXIT_USAGE, "unknown activation '%s'", name);
    if ((expr && cli_has_control_char(expr)) || (target && cli_has_control_char(target)))
        return act_fail(EXIT_DATAERR, "expression '%s' holds a control character",
                        expr && cli_has_control_char(expr) ? expr : target);
    double L_d, claim_d = 0;
    if (parse_finite(&L_d, domain) != 0 || L_d <= 0)
        return act_fail(EXIT_USAGE, "--domain must be a positive finite number, not '%.40s'",
                        domain);
    if (claim && (parse_finite(&claim_d, claim) != 0 || claim_d < 0))
        return act_fail(EXIT_USAGE, "--claim must be a finite number >= 0, not '%.40s'", claim);
    supnorm_set_deadline(max_seconds); /* the clock starts once the input is accepted */

    act_t f, g;
    char err[300];
    int rc = name ? act_init_name(&f, name, err, sizeof err, prec)
                  : act_init_expr(&f, expr, err, sizeof err, prec);
    if (rc != 0)
        return act_fail(name ? EXIT_USAGE : EXIT_DATAERR, "%s", err);
    if (!target) {
        if (strcmp(domain, "10") != 0 && L_d != AC_L) {
            act_clear(&f);
            return act_fail(EXIT_USAGE, "the class report is on [-10, 10]; --domain applies with "
                            "--target");
        }
        rc = class_report(&f, name, expr, claim, prec);
        act_clear(&f);
        return time_limit_reached(rc, max_seconds);
    }
    if (act_init_spec(&g, target, err, sizeof err, prec) != 0) {
        act_clear(&f);
        return act_fail(strncmp(err, "expression", 10) == 0 ? EXIT_DATAERR : EXIT_USAGE, "%s", err);
    }

    mpfr_t L;
    arb_t bound;
    mpfr_init2(L, 128);
    arb_init(bound);
    mpfr_set_str(L, domain, 10, MPFR_RNDU); /* round the domain outward */
    if (claim)
        ival_set_str(bound, claim, prec);

    supnorm_opts_t o;
    supnorm_opts_default(&o);
    o.abs_tol = 1e-30;
    o.taylor_order = 12;
    supnorm_t s;
    supnorm_init(&s, prec);
    int verdict = -1, status = 0;
    for (mpfr_prec_t p = prec;; p *= 2) {
        /* Each round: act objects keep their parameter enclosure; only the
         * working precision and the tolerances change. */
        status = supnorm_diff(&s, &f, &g, L, &o, p);
        if (status < 0)
            break;
        if (claim) {
            if (ival_le(s.sup, bound)) /* false when not finite */
                verdict = 0;
            else if (ival_gt(s.sup, bound))
                verdict = 1;
            else
                verdict = 2;
        }
        if ((!claim && status == 0) || verdict == 0 || verdict == 1 || p * 2 > 1024 ||
            supnorm_deadline_reached())
            break;
        o.rel_tol /= 100;
        o.max_boxes *= 2;
        if (o.rel_tol < 1e-30)
            o.rel_tol = 1e-30;
        fprintf(stderr, "attncheck: activation: undecided at %ld bits, retrying at %ld\n",
                (long)p, (long)(2 * p));
    }
    if (status < 0) {
        rc = act_fail(EXIT_SOFTWARE, "internal error: bad domain");
    } else {
        printf("f: %s = %s\n", f.name, act_formula(&f));
        printf("g: %s = %s\n", g.name, act_formula(&g));
        mpfr_printf("domain: [-%.17Rg, %.17Rg] (the tails beyond it are not covered)\n", L, L);
        char *slo = ival_lo_str(s.sup, 13), *shi = ival_hi_str(s.sup, 13);
        printf("sup |f - g| in [%s, %s]  (certified; %ld boxes%s)\n", slo, shi, s.boxes,
               s.converged ? "" : "; tolerance not reached");
        mpfr_free_str(slo);
        mpfr_free_str(shi);
        mpfr_printf("reached at x = %.17Rg\n", s.argmax);
        if (claim) {
            const char *names[] = {"holds", "violated", "inconclusive"};
            printf("claim: sup |f - g| <= %s on [-L, L]: %s\n", claim, names[verdict]);
            rc = verdict == 0 ? EXIT_HOLDS : verdict == 1 ? EXIT_VIOLATED : EXIT_INCONCLUSIVE;
        } else {
            rc = s.converged ? EXIT_HOLDS : EXIT_INCONCLUSIVE;
        }
    }
    supnorm_clear(&s);
    mpfr_clear(L);
    arb_clear(bound);
    act_clear(&f);
    act_clear(&g);
    return time_limit_reached(rc, max_seconds);
}
