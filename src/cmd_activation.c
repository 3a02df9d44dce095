/* `attncheck activation`: compare an activation (built-in or expression)
 * with a target by a certified sup gap on [-L, L], and judge a claimed gap.
 * Tails beyond L are not covered: the domain is part of the statement. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "act.h"
#include "exitcodes.h"
#include "runner.h"
#include "supnorm.h"

static const char *usage_activation =
    "usage: attncheck activation (--name NAME | --expr EXPR) [--target NAME|EXPR]\n"
    "                            [--domain L] [--claim GAP] [--prec P] [--help]\n"
    "  --name NAME     a built-in: identity relu silu silu_a[:a] gelu gelu_tanh sigmoid\n"
    "                  tanh softplus elu[:alpha] mish hardswish\n"
    "  --expr EXPR     a function of x (or z): + - * / ^, exp log log1p expm1 sqrt abs\n"
    "                  tanh sigmoid erf erfc softplus min max, pi, e\n"
    "  --target F      compare with F (a built-in name or an expression): certified\n"
    "                  enclosure of sup |f - F| on [-L, L]\n"
    "  --domain L      half-width of the domain (default 10); tails beyond L not covered\n"
    "  --claim GAP     exit 0 if the gap is certainly <= GAP, 1 if certainly > GAP,\n"
    "                  2 if undecided after raising the precision (up to 1024 bits)\n"
    "  --prec P        starting precision in bits (default 128)\n";

static int act_fail(int code, const char *msg)
{
    fprintf(stderr, "attncheck activation: %s\n", msg);
    return code;
}

/* A finite decimal number; 0 on success. */
static int parse_finite(double *out, const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int cmd_activation(int argc, char **argv)
{
    const char *name = NULL, *expr = NULL, *target = NULL, *domain = "10", *claim = NULL;
    mpfr_prec_t prec = 128;
    char msg[512];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_activation, stdout);
            return EXIT_HOLDS;
        }
        const char **slot = strcmp(a, "--name") == 0 ? &name
                          : strcmp(a, "--expr") == 0 ? &expr
                          : strcmp(a, "--target") == 0 ? &target
                          : strcmp(a, "--domain") == 0 ? &domain
                          : strcmp(a, "--claim") == 0 ? &claim : NULL;
        if (strcmp(a, "--prec") == 0) {
            if (i + 1 >= argc)
                return act_fail(EXIT_USAGE, "--prec needs a value");
            if (parse_prec(&prec, argv[++i]) != 0) {
                snprintf(msg, sizeof msg, "bad precision '%.40s'", argv[i]);
                return act_fail(EXIT_DATAERR, msg);
            }
            continue;
        }
        if (!slot) {
            snprintf(msg, sizeof msg, "unknown option '%.40s' (see --help)", a);
            return act_fail(EXIT_USAGE, msg);
        }
        if (i + 1 >= argc) {
            snprintf(msg, sizeof msg, "%s needs a value", a);
            return act_fail(EXIT_USAGE, msg);
        }
        *slot = argv[++i];
    }
    if ((name == NULL) == (expr == NULL))
        return act_fail(EXIT_USAGE, "give exactly one of --name and --expr (see --help)");
    double L_d, claim_d = 0;
    if (parse_finite(&L_d, domain) != 0 || L_d <= 0) {
        snprintf(msg, sizeof msg, "--domain must be a positive finite number, not '%.40s'", domain);
        return act_fail(EXIT_DATAERR, msg);
    }
    if (claim && (parse_finite(&claim_d, claim) != 0 || claim_d < 0)) {
        snprintf(msg, sizeof msg, "--claim must be a finite number >= 0, not '%.40s'", claim);
        return act_fail(EXIT_DATAERR, msg);
    }

    act_t f, g;
    char err[300];
    int rc = name ? act_init_name(&f, name, err, sizeof err, prec)
                  : act_init_expr(&f, expr, err, sizeof err, prec);
    if (rc != 0)
        return act_fail(name ? EXIT_USAGE : EXIT_DATAERR, err);
    if (!target) {
        act_clear(&f);
        return act_fail(EXIT_SOFTWARE, "the class report without --target is not implemented yet "
                        "(activation-class module pending); give --target");
    }
    if (act_init_spec(&g, target, err, sizeof err, prec) != 0) {
        act_clear(&f);
        return act_fail(strncmp(err, "expression", 10) == 0 ? EXIT_DATAERR : EXIT_USAGE, err);
    }

    mpfr_t L;
    mpfi_t bound;
    mpfr_init2(L, 128);
    mpfi_init2(bound, 128);
    mpfr_set_str(L, domain, 10, MPFR_RNDU); /* round the domain outward */
    if (claim)
        mpfi_set_str(bound, claim, 10);

    supnorm_opts_t o;
    supnorm_opts_default(&o);
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
            if (mpfr_cmp(&s.sup->right, &bound->left) <= 0)
                verdict = 0;
            else if (mpfr_cmp(&s.sup->left, &bound->right) > 0)
                verdict = 1;
            else
                verdict = 2;
        }
        if ((!claim && status == 0) || verdict == 0 || verdict == 1 || p * 2 > 1024)
            break;
        o.rel_tol /= 100;
        o.max_boxes *= 2;
        if (o.rel_tol < 1e-30)
            o.rel_tol = 1e-30;
        fprintf(stderr, "attncheck activation: undecided at %ld bits, retrying at %ld\n",
                (long)p, (long)(2 * p));
    }
    if (status < 0) {
        rc = act_fail(EXIT_SOFTWARE, "internal error: bad domain");
    } else {
        printf("f: %s = %s\n", f.name, act_formula(&f));
        printf("g: %s = %s\n", g.name, act_formula(&g));
        mpfr_printf("domain: [-%.17Rg, %.17Rg] (the tails beyond it are not covered)\n", L, L);
        mpfr_printf("sup |f - g| in [%.12RDe, %.12RUe]  (certified; %ld boxes%s)\n", &s.sup->left,
                    &s.sup->right, s.boxes, s.converged ? "" : "; tolerance not reached");
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
    mpfi_clear(bound);
    act_clear(&f);
    act_clear(&g);
    return rc;
}
