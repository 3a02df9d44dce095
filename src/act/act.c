/* Activation registry and ball evaluations (act.h).  Monotone functions
 * map the ends of the argument to the ends of the result; the silu-like ones
 * z g(z) (g increasing and positive) are split at 0, where the product of
 * the ends is tight for z >= 0 and overestimates by O(width) for z < 0,
 * which is enough for branch and bound to converge. */
#include "act.h"
#include "special.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ helpers */

typedef void (*ival_unary_fn)(arb_t y, const arb_t x, mpfr_prec_t prec);

/* r = hull(r, a); have says whether r holds anything yet. */
static void hull_into(arb_t r, int *have, const arb_t a, mpfr_prec_t prec)
{
    if (!*have)
        arb_set(r, a);
    else
        arb_union(r, r, a, prec);
    *have = 1;
}

/* The ball enclosing [lo, hi] (ends as arf; lo <= hi). */
static void ball_interval(arb_t r, const arf_t lo, const arf_t hi, mpfr_prec_t prec)
{
    if (arf_equal(lo, hi))
        arb_set_arf(r, lo);
    else
        arb_set_interval_arf(r, lo, hi, prec);
}

/* r encloses {s t : s in x, t in g} from the four products of the ends, as an
 * interval product does (a ball product is wider when both straddle). */
static void mul_ends(arb_t r, const arb_t x, const arb_t g, mpfr_prec_t prec)
{
    if (!arb_is_finite(x) || !arb_is_finite(g)) {
        arb_indeterminate(r);
        return;
    }
    arf_t e[4], xe[2], ge[2], lo, hi;
    for (int k = 0; k < 4; k++)
        arf_init(e[k]);
    arf_init(xe[0]); arf_init(xe[1]); arf_init(ge[0]); arf_init(ge[1]);
    arf_init(lo); arf_init(hi);
    arb_get_lbound_arf(xe[0], x, prec);
    arb_get_ubound_arf(xe[1], x, prec);
    arb_get_lbound_arf(ge[0], g, prec);
    arb_get_ubound_arf(ge[1], g, prec);
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++)
            arf_mul(e[2 * a + b], xe[a], ge[b], ARF_PREC_EXACT, ARF_RND_DOWN); /* exact */
    arf_set(lo, e[0]);
    arf_set(hi, e[0]);
    for (int k = 1; k < 4; k++) {
        if (arf_cmp(e[k], lo) < 0)
            arf_set(lo, e[k]);
        if (arf_cmp(e[k], hi) > 0)
            arf_set(hi, e[k]);
    }
    ball_interval(r, lo, hi, prec);
    for (int k = 0; k < 4; k++)
        arf_clear(e[k]);
    arf_clear(xe[0]); arf_clear(xe[1]); arf_clear(ge[0]); arf_clear(ge[1]);
    arf_clear(lo); arf_clear(hi);
}

/* y encloses z g(z) over x, split at 0 when x straddles it. */
static void ival_x_times(arb_t y, const arb_t x, ival_unary_fn g, mpfr_prec_t prec)
{
    if (!arb_is_finite(x)) {
        arb_indeterminate(y);
        return;
    }
    mpfr_prec_t wp = prec + 8;
    arb_t t, part, r;
    arb_init(t);
    arb_init(part);
    arb_init(r);
    if (arb_is_nonnegative(x) || arb_is_nonpositive(x)) {
        g(t, x, wp);
        mul_ends(r, x, t, wp);
    } else {
        arf_t lo, hi, zero;
        arf_init(lo);
        arf_init(hi);
        arf_init(zero);
        arb_get_lbound_arf(lo, x, wp);
        arb_get_ubound_arf(hi, x, wp);
        ball_interval(part, lo, zero, wp);
        g(t, part, wp);
        mul_ends(r, part, t, wp);
        ball_interval(part, zero, hi, wp);
        g(t, part, wp);
        mul_ends(t, part, t, wp);
        arb_union(r, r, t, wp);
        arf_clear(lo);
        arf_clear(hi);
        arf_clear(zero);
    }
    arb_set_round(y, r, prec);
    arb_clear(t);
    arb_clear(part);
    arb_clear(r);
}

/* --------------------------------------------------- built-in evaluations */

void ival_identity(arb_t y, const arb_t x, const void *unused, mpfr_prec_t prec)
{
    (void)unused;
    arb_set_round(y, x, prec);
}

void ival_silu(arb_t y, const arb_t x, const void *unused, mpfr_prec_t prec)
{
    (void)unused;
    arb_t one;
    arb_init(one);
    arb_one(one);
    ival_silu_a(y, x, one, prec);
    arb_clear(one);
}

void ival_sigmoid_act(arb_t y, const arb_t x, const void *unused, mpfr_prec_t prec)
{
    (void)unused;
    ival_sigmoid(y, x, prec);
}

void ival_tanh_act(arb_t y, const arb_t x, const void *unused, mpfr_prec_t prec)
{
    (void)unused;
    special_ival_monotone(y, x, arb_tanh, prec);
}

void ival_softplus_act(arb_t y, const arb_t x, const void *unused, mpfr_prec_t prec)
{
    (void)unused;
    special_ival_softplus(y, x, prec);
}

void ival_gelu(arb_t y, const arb_t x, const void *unused, mpfr_prec_t prec)
{
    (void)unused;
    ival_x_times(y, x, special_ival_normal_cdf, prec);
}

/* g(z) = (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))) / 2, increasing: its
 * inner cubic is increasing, so evaluate it at the two ends only. */
static void gelu_tanh_gate(arb_t g, const arb_t x, mpfr_prec_t prec)
{
    mpfr_prec_t wp = prec + 8;
    arb_t c, k, z, u, lo_hi;
    arb_init(c);
    arb_init(k);
    arb_init(z);
    arb_init(u);
    arb_init(lo_hi);
    arb_const_pi(c, wp);
    arb_ui_div(c, 2, c, wp);
    arb_sqrt(c, c, wp);
    ival_set_str(k, "0.044715", wp);
    for (int end = 0; end < 2; end++) {
        if (end == 0)
            arb_get_lbound_arf(arb_midref(z), x, wp);
        else
            arb_get_ubound_arf(arb_midref(z), x, wp);
        mag_zero(arb_radref(z));
        arb_sqr(u, z, wp);
        arb_mul(u, u, z, wp);
        arb_mul(u, u, k, wp);
        arb_add(u, u, z, wp);
        arb_mul(u, u, c, wp);
        if (end == 0)
            arb_set(lo_hi, u);
        else
            arb_union(lo_hi, lo_hi, u, wp);
    }
    special_ival_monotone(u, lo_hi, arb_tanh, wp);
    arb_add_ui(u, u, 1, wp);
    arb_mul_2exp_si(u, u, -1);
    arb_set_round(g, u, prec);
    arb_clear(c);
    arb_clear(k);
    arb_clear(z);
    arb_clear(u);
    arb_clear(lo_hi);
}

void ival_gelu_tanh(arb_t y, const arb_t x, const void *unused, mpfr_prec_t prec)
{
    (void)unused;
    if (!arb_is_finite(x)) {
        arb_indeterminate(y);
        return;
    }
    ival_x_times(y, x, gelu_tanh_gate, prec);
}

/* g(z) = tanh(softplus(z)), increasing and positive. */
static void mish_gate(arb_t g, const arb_t x, mpfr_prec_t prec)
{
    special_ival_softplus(g, x, prec);
    special_ival_monotone(g, g, arb_tanh, prec);
}

void ival_mish(arb_t y, const arb_t x, const void *unused, mpfr_prec_t prec)
{
    (void)unused;
    ival_x_times(y, x, mish_gate, prec);
}

/* The parts of x below and above 0 as balls (have_*: the part exists). */
static void split_at_zero(arb_t neg, int *have_neg, arb_t pos, int *have_pos, const arb_t x,
                          mpfr_prec_t prec)
{
    arf_t lo, hi, zero;
    arf_init(lo);
    arf_init(hi);
    arf_init(zero);
    arb_get_lbound_arf(lo, x, prec);
    arb_get_ubound_arf(hi, x, prec);
    *have_neg = arf_sgn(lo) < 0;
    *have_pos = arf_sgn(hi) >= 0;
    if (*have_neg)
        ball_interval(neg, lo, arf_sgn(hi) < 0 ? hi : zero, prec);
    if (*have_pos)
        ball_interval(pos, arf_sgn(lo) >= 0 ? lo : zero, hi, prec);
    arf_clear(lo);
    arf_clear(hi);
    arf_clear(zero);
}

/* ELU: alpha neg_fn(z) for z <= 0 and z for z >= 0; the hull over x. */
static void elu_pieces(arb_t y, const arb_t x, const void *alpha, special_ball_fn neg_fn,
                       mpfr_prec_t prec)
{
    if (!arb_is_finite(x)) {
        arb_indeterminate(y);
        return;
    }
    mpfr_prec_t wp = prec + 8;
    arb_t neg, pos, r;
    int have = 0, have_neg, have_pos;
    arb_init(neg);
    arb_init(pos);
    arb_init(r);
    split_at_zero(neg, &have_neg, pos, &have_pos, x, wp);
    if (have_neg) {
        /* z occurs once and neg_fn is monotone, so this is tight */
        special_ival_monotone(neg, neg, neg_fn, wp);
        if (alpha)
            arb_mul(neg, neg, (arb_srcptr)alpha, wp);
        hull_into(r, &have, neg, wp);
    }
    if (have_pos)
        hull_into(r, &have, pos, wp);
    arb_set_round(y, r, prec);
    arb_clear(neg);
    arb_clear(pos);
    arb_clear(r);
}

void ival_elu(arb_t y, const arb_t x, const void *alpha, mpfr_prec_t prec)
{
    elu_pieces(y, x, alpha, arb_expm1, prec);
}

void ival_hardswish(arb_t y, const arb_t x, const void *unused, mpfr_prec_t prec)
{
    (void)unused;
    if (!arb_is_finite(x)) {
        arb_indeterminate(y);
        return;
    }
    mpfr_prec_t wp = prec + 8;
    arb_t part, q, r;
    arf_t lo, hi, three, mthree;
    int have = 0;
    arb_init(part);
    arb_init(q);
    arb_init(r);
    arf_init(lo);
    arf_init(hi);
    arf_init(three);
    arf_init(mthree);
    arf_set_si(three, 3);
    arf_set_si(mthree, -3);
    arb_get_lbound_arf(lo, x, wp);
    arb_get_ubound_arf(hi, x, wp);
    if (arf_cmp(lo, mthree) <= 0) {
        arb_zero(part); /* z <= -3 */
        hull_into(r, &have, part, wp);
    }
    if (arf_cmp(hi, three) >= 0) {
        /* z >= 3: identity */
        ball_interval(part, arf_cmp(lo, three) > 0 ? lo : three, hi, wp);
        hull_into(r, &have, part, wp);
    }
    if (arf_cmp(hi, mthree) > 0 && arf_cmp(lo, three) < 0) {
        /* -3 < z < 3: q(z) = z(z+3)/6, a parabola with vertex q(-3/2) = -3/8;
         * its range is the hull of the ends and, if inside, the vertex. */
        if (arf_cmp(lo, mthree) < 0)
            arf_set(lo, mthree);
        if (arf_cmp(hi, three) > 0)
            arf_set(hi, three);
        for (int end = 0; end < 2; end++) {
            arb_set_arf(part, end == 0 ? lo : hi);
            arb_add_ui(q, part, 3, wp);
            arb_mul(q, q, part, wp);
            arb_div_ui(q, q, 6, wp);
            hull_into(r, &have, q, wp);
        }
        arb_set_d(q, -1.5); /* exact in binary, as is -3/8 */
        if (arf_cmp(lo, arb_midref(q)) <= 0 && arf_cmp(hi, arb_midref(q)) >= 0) {
            arb_set_d(q, -0.375);
            hull_into(r, &have, q, wp);
        }
    }
    arb_set_round(y, r, prec);
    arb_clear(part);
    arb_clear(q);
    arb_clear(r);
    arf_clear(lo);
    arf_clear(hi);
    arf_clear(three);
    arf_clear(mthree);
}

void ival_expr_act(arb_t y, const arb_t x, const void *expr, mpfr_prec_t prec)
{
    expr_eval_ival(y, (const expr_t *)expr, x, prec);
}

/* ------------------------------------------------- derivative enclosures */

/* SiLU_a'(z) = s + a z s (1 - s), s = sigma(a z); naive composition. */
void dival_silu_a(arb_t y, const arb_t x, const void *a, mpfr_prec_t prec)
{
    mpfr_prec_t wp = prec + 8;
    arb_t s, t;
    arb_init(s);
    arb_init(t);
    arb_mul(t, x, (arb_srcptr)a, wp);
    ival_sigmoid(s, t, wp);
    arb_mul(t, t, s, wp);
    arb_sub_ui(s, s, 1, wp);
    arb_neg(s, s);
    arb_mul(t, t, s, wp);
    arb_sub_ui(s, s, 1, wp);
    arb_neg(s, s); /* back to sigma(a z); 1 - (1 - s) only widens */
    arb_add(y, s, t, prec);
    arb_clear(s);
    arb_clear(t);
}

/* ------------------------------------------------------ double versions */

static double d_softplus(double x) { return fmax(x, 0.0) + log1p(exp(-fabs(x))); }
static double d_identity(double x, double p) { (void)p; return x; }
static double d_relu(double x, double p) { (void)p; return x > 0 ? x : 0.0; }
static double d_silu(double x, double p) { (void)p; return x / (1.0 + exp(-x)); }
static double d_silu_a(double x, double a) { return x / (1.0 + exp(-a * x)); }
static double d_gelu(double x, double p) { (void)p; return 0.5 * x * erfc(-x / sqrt(2.0)); }
static double d_gelu_tanh(double x, double p)
{
    (void)p;
    const double c = 0.7978845608028654; /* sqrt(2/pi) */
    return 0.5 * x * (1.0 + tanh(c * (x + 0.044715 * x * x * x)));
}
static double d_sigmoid(double x, double p) { (void)p; return 1.0 / (1.0 + exp(-x)); }
static double d_tanh(double x, double p) { (void)p; return tanh(x); }
static double d_softplus_p(double x, double p) { (void)p; return d_softplus(x); }
static double d_elu(double x, double a) { return x > 0 ? x : a * expm1(x); }
static double d_mish(double x, double p) { (void)p; return x * tanh(d_softplus(x)); }
static double d_hardswish(double x, double p)
{
    (void)p;
    double r6 = fmin(fmax(x + 3.0, 0.0), 6.0);
    return x * r6 / 6.0;
}

/* ------------------------------------------------------------ registry (actreg.h) */

/* Class facts: witnesses and proofs of claims.md's G0 / G1 (derived in
 * theorems/activation_class.c). */
#define NO_WITNESS -1, NULL, {NULL}
#define NO_PROOF -1, NULL

const act_info_t act_builtins[] = {
    {"identity", "z", "x", ival_identity, NULL, NULL, d_identity,
     0, "γ=2, c=0, Q=0 (weight 1/2 on self and bias)", {"2", "0", "0", "0", "0", "0", "0"},
     NO_PROOF, NULL},
    {"relu", "max(z, 0)", "max(x, 0)", ival_relu, NULL, NULL, d_relu,
     NO_WITNESS, 1, "members are C∞, relu has a kink at 0", NULL},
    {"silu", "z sigma(z)", "x*sigmoid(x)", ival_silu, NULL, NULL, d_silu,
     0, "γ=1, c=0, q=1 (Q=z)", {"1", "0", "1", "0", "0", "1", "0"}, NO_PROOF, NULL},
    {"silu_a", "z sigma(a z)", "x*sigmoid(_a*x)", ival_silu_a, "a", "1", d_silu_a,
     0, "γ=1, c=0, q=a (Q=az)", {"1", "0", "A", "0", "0", "1", "0"}, NO_PROOF, "1.702"},
    {"gelu", "z Phi(z) = z erfc(-z/sqrt 2)/2", "x*erfc(-x/sqrt(2))/2", ival_gelu, NULL, NULL,
     d_gelu, NO_WITNESS, NO_PROOF, NULL},
    {"gelu_tanh", "z/2 (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3)))",
     "x/2*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x^3)))", ival_gelu_tanh, NULL, NULL, d_gelu_tanh,
     NO_WITNESS, NO_PROOF, NULL},
    {"sigmoid", "1/(1 + e^-z)", NULL, ival_sigmoid_act, NULL, NULL, d_sigmoid,
     0, "γ=0, c=1, q=-1 (c σ(z))", {"0", "0", "-1", "0", "0", "1", "1"}, NO_PROOF, NULL},
    {"tanh", "tanh(z)", NULL, ival_tanh_act, NULL, NULL, d_tanh,
     1, "γ0=1, c=-1, Q=2z", {"0", "1", "2", "0", "0", "1", "-1"},
     0, "f(0)=0 forces c=0, f'(0)=1 forces γ=2, and 2zσ(pz²+qz) never tends to 1; "
        "equality on [-L,L] extends to ℝ (analytic)", NULL},
    {"softplus", "log(1 + e^z)", NULL, ival_softplus_act, NULL, NULL, d_softplus_p,
     NO_WITNESS, NO_PROOF, NULL},
    {"elu", "z (z > 0), alpha (e^z - 1) (z <= 0)", "max(x, 0) + _a*min(expm1(x), 0)", ival_elu,
     "alpha", "1", d_elu, NO_WITNESS, 1, "members are C∞, elu is not C² at 0", NULL},
    {"mish", "z tanh(softplus(z))", "x*tanh(softplus(x))", ival_mish, NULL, NULL, d_mish,
     NO_WITNESS, NO_PROOF, NULL},
    {"hardswish", "z min(max(z + 3, 0), 6)/6", "x*min(max(x + 3, 0), 6)/6", ival_hardswish, NULL,
     NULL, d_hardswish, NO_WITNESS, 1, "members are C∞, hardswish has kinks at ±3", NULL},
};
const int act_n_builtins = (int)(sizeof act_builtins / sizeof act_builtins[0]);

const act_info_t *act_find(const char *name)
{
    for (int k = 0; k < act_n_builtins; k++)
        if (strcmp(act_builtins[k].name, name) == 0)
            return &act_builtins[k];
    return NULL;
}

static void act_init_blank(act_t *f)
{
    memset(f, 0, sizeof *f);
    arb_init(f->param);
    arb_one(f->param);
    f->param_d = 1.0;
}

static int act_init_name_body(act_t *f, const char *spec, char *err, size_t errsz,
                              mpfr_prec_t prec);

int act_init_name(act_t *f, const char *spec, char *err, size_t errsz, mpfr_prec_t prec)
{
    act_init_blank(f);
    if (act_init_name_body(f, spec, err, errsz, prec) == 0)
        return 0;
    act_clear(f); /* nothing left for the caller to clear */
    return -1;
}

static int act_init_name_body(act_t *f, const char *spec, char *err, size_t errsz,
                              mpfr_prec_t prec)
{
    char name[64];
    const char *colon = strchr(spec, ':');
    size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
    if (n >= sizeof name) {
        snprintf(err, errsz, "unknown name '%.40s...'", spec);
        return -1;
    }
    memcpy(name, spec, n);
    name[n] = '\0';
    const act_info_t *info = act_find(name);
    if (!info) {
        char names[256] = "";
        size_t at = 0;
        for (int k = 0; k < act_n_builtins && at < sizeof names; k++)
            at += (size_t)snprintf(names + at, sizeof names - at, "%s%s", k ? " " : "",
                                   act_builtins[k].name);
        snprintf(err, errsz, "unknown name '%s' (try: %s)", name, names);
        return -1;
    }
    if (colon && !info->param_name) {
        snprintf(err, errsz, "'%s' takes no parameter", name);
        return -1;
    }
    const char *ptext = colon ? colon + 1 : info->param_default;
    if (info->param_name) {
        char *end;
        double d = strtod(ptext, &end);
        if (*ptext == '\0' || *end != '\0' || !isfinite(d) ||
            ival_set_str(f->param, ptext, prec) != 0) {
            snprintf(err, errsz, "parameter %s of '%s' is not a finite number: '%.40s'",
                     info->param_name, name, ptext);
            return -1;
        }
        f->param_d = d;
    }
    /* the same function in the expression language, which knows the
     * built-ins by name (its parameter as written: a checked decimal) */
    char src[160];
    snprintf(src, sizeof src, "%s(x%s%s)", name, info->param_name ? ", " : "",
             info->param_name ? ptext : "");
    f->dexpr = expr_parse(src, err, errsz);
    if (!f->dexpr)
        return -1;
    f->info = info;
    f->ival = info->ival;
    f->ctx = info->param_name ? (const void *)f->param : NULL;
    if (info->param_name)
        snprintf(f->name, sizeof f->name, "%s:%s", name, ptext);
    else
        snprintf(f->name, sizeof f->name, "%s", name);
    return 0;
}

int act_init_expr(act_t *f, const char *text, char *err, size_t errsz, mpfr_prec_t prec)
{
    (void)prec; /* nothing is rounded here */
    act_init_blank(f);
    f->expr = expr_parse(text, err, errsz);
    if (!f->expr) {
        act_clear(f);
        return -1;
    }
    f->ival = ival_expr_act;
    f->ctx = f->expr;
    snprintf(f->name, sizeof f->name, "expr");
    return 0;
}

int act_init_spec(act_t *f, const char *spec, char *err, size_t errsz, mpfr_prec_t prec)
{
    char name[64];
    size_t n = strcspn(spec, ":");
    if (n < sizeof name) {
        memcpy(name, spec, n);
        name[n] = '\0';
        if (act_find(name))
            return act_init_name(f, spec, err, errsz, prec);
    }
    return act_init_expr(f, spec, err, errsz, prec);
}

void act_init_silu_a(act_t *f, const arb_t a, mpfr_prec_t prec)
{
    (void)prec; /* a is copied exactly */
    act_init_blank(f);
    f->info = act_find("silu_a");
    arb_set(f->param, a);
    f->param_d = arf_get_d(arb_midref(a), ARF_RND_NEAR);
    f->ival = ival_silu_a;
    f->dival = dival_silu_a;
    f->ctx = f->param;
    snprintf(f->name, sizeof f->name, "silu_a:%.17g", f->param_d);
}

void act_clear(act_t *f)
{
    arb_clear(f->param);
    expr_free(f->expr);
    expr_free(f->dexpr);
    f->expr = NULL;
    f->dexpr = NULL;
}

void act_eval_ival(arb_t y, const arb_t x, const void *ctx, mpfr_prec_t prec)
{
    const act_t *f = ctx;
    f->ival(y, x, f->ctx, prec);
}

void act_eval_dival(arb_t dy, const arb_t x, const void *ctx, mpfr_prec_t prec)
{
    const act_t *f = ctx;
    if (f->expr || f->dexpr)
        expr_eval_dival(dy, f->expr ? f->expr : f->dexpr, x, prec);
    else if (f->dival)
        f->dival(dy, x, f->ctx, prec);
    else
        arb_indeterminate(dy);
}

void act_eval_series(arb_ptr y, const act_t *f, const arb_t x, slong len, mpfr_prec_t prec)
{
    if (f->expr || f->dexpr) {
        expr_eval_series(y, f->expr ? f->expr : f->dexpr, x, len, prec);
    } else {
        for (slong k = 0; k < len; k++)
            arb_indeterminate(y + k);
    }
}

void act_eval_point(arb_t y, const act_t *f, const mpfr_t x, mpfr_prec_t prec)
{
    arb_t t;
    arb_init(t);
    arf_set_mpfr(arb_midref(t), x); /* exact: a point */
    f->ival(y, t, f->ctx, prec);
    arb_clear(t);
}

int act_find_undefined(double *at, const act_t *f, double L, long points, mpfr_prec_t prec)
{
    mpfr_t x;
    arb_t y;
    mpfr_init2(x, 64);
    arb_init(y);
    int found = 0;
    for (long k = -1; k < points && !found; k++) {
        /* k = -1: the point 0; then -L + 2 L k / (points - 1) */
        if (k < 0)
            mpfr_set_zero(x, 1);
        else
            mpfr_set_d(x, points > 1 ? -L + 2 * L * (double)k / (double)(points - 1) : L,
                       MPFR_RNDN);
        act_eval_point(y, f, x, prec);
        if (!arb_is_finite(y)) {
            *at = mpfr_get_d(x, MPFR_RNDN);
            found = 1;
        }
    }
    arb_clear(y);
    mpfr_clear(x);
    return found;
}

double act_eval_d(const act_t *f, double x)
{
    if (f->expr)
        return expr_eval_d(f->expr, x);
    return f->info->eval_d(x, f->param_d);
}

const char *act_formula(const act_t *f)
{
    return f->expr ? expr_text(f->expr) : f->info->formula;
}

double act_snap_dyadic(double x, int bits)
{
    return ldexp(nearbyint(ldexp(x, bits)), -bits);
}
