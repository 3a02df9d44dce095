/* Activation registry and interval evaluations (act.h).  Monotone functions
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

typedef void (*ival_unary_fn)(mpfi_t y, const mpfi_t x);

/* r = hull(r, a); have says whether r holds anything yet. */
static void hull_into(mpfi_t r, int *have, const mpfi_t a)
{
    if (!*have)
        mpfi_set(r, a);
    else
        mpfi_union(r, r, a);
    *have = 1;
}

/* y encloses z g(z) over x, split at 0 when x straddles it. */
static void ival_x_times(mpfi_t y, const mpfi_t x, ival_unary_fn g)
{
    if (mpfi_nan_p(x)) {
        special_ival_set_nan(y);
        return;
    }
    mpfr_prec_t wp = mpfi_get_prec(y) + 8;
    mpfi_t t, part, r;
    mpfi_init2(t, wp);
    mpfi_init2(part, wp);
    mpfi_init2(r, wp);
    if (mpfr_sgn(&x->left) >= 0 || mpfr_sgn(&x->right) <= 0) {
        g(t, x);
        mpfi_mul(r, x, t);
    } else {
        mpfr_t zero;
        mpfr_init2(zero, 2);
        mpfr_set_zero(zero, 1);
        mpfi_interv_fr(part, &x->left, zero);
        g(t, part);
        mpfi_mul(r, part, t);
        mpfi_interv_fr(part, zero, &x->right);
        g(t, part);
        mpfi_mul(t, part, t);
        mpfi_union(r, r, t);
        mpfr_clear(zero);
    }
    mpfi_set(y, r); /* rounds outward to y's precision */
    mpfi_clear(t);
    mpfi_clear(part);
    mpfi_clear(r);
}

/* --------------------------------------------------- built-in evaluations */

void ival_identity(mpfi_t y, const mpfi_t x, const void *unused)
{
    (void)unused;
    mpfi_set(y, x);
}

void ival_silu(mpfi_t y, const mpfi_t x, const void *unused)
{
    (void)unused;
    mpfi_t one;
    mpfi_init2(one, 2);
    mpfi_set_ui(one, 1);
    ival_silu_a(y, x, one);
    mpfi_clear(one);
}

void ival_sigmoid_act(mpfi_t y, const mpfi_t x, const void *unused)
{
    (void)unused;
    ival_sigmoid(y, x);
}

void ival_tanh_act(mpfi_t y, const mpfi_t x, const void *unused)
{
    (void)unused;
    mpfi_tanh(y, x); /* increasing: MPFI maps the ends */
}

void ival_softplus_act(mpfi_t y, const mpfi_t x, const void *unused)
{
    (void)unused;
    special_ival_softplus(y, x);
}

void ival_gelu(mpfi_t y, const mpfi_t x, const void *unused)
{
    (void)unused;
    ival_x_times(y, x, special_ival_normal_cdf);
}

/* g(z) = (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))) / 2, increasing: its
 * inner cubic is increasing, so evaluate it at the two ends only. */
static void gelu_tanh_gate(mpfi_t g, const mpfi_t x)
{
    mpfr_prec_t wp = mpfi_get_prec(g) + 8;
    mpfi_t c, k, z, u, lo_hi;
    mpfi_init2(c, wp);
    mpfi_init2(k, wp);
    mpfi_init2(z, wp);
    mpfi_init2(u, wp);
    mpfi_init2(lo_hi, wp);
    mpfi_const_pi(c);
    mpfi_ui_div(c, 2, c);
    mpfi_sqrt(c, c);
    mpfi_set_str(k, "0.044715", 10);
    for (int end = 0; end < 2; end++) {
        mpfi_set_fr(z, end == 0 ? &x->left : &x->right);
        mpfi_sqr(u, z);
        mpfi_mul(u, u, z);
        mpfi_mul(u, u, k);
        mpfi_add(u, u, z);
        mpfi_mul(u, u, c);
        if (end == 0)
            mpfi_set(lo_hi, u);
        else
            mpfi_union(lo_hi, lo_hi, u);
    }
    mpfi_tanh(u, lo_hi);
    mpfi_add_ui(u, u, 1);
    mpfi_div_2ui(g, u, 1);
    mpfi_clear(c);
    mpfi_clear(k);
    mpfi_clear(z);
    mpfi_clear(u);
    mpfi_clear(lo_hi);
}

void ival_gelu_tanh(mpfi_t y, const mpfi_t x, const void *unused)
{
    (void)unused;
    ival_x_times(y, x, gelu_tanh_gate);
}

/* g(z) = tanh(softplus(z)), increasing and positive. */
static void mish_gate(mpfi_t g, const mpfi_t x)
{
    special_ival_softplus(g, x);
    mpfi_tanh(g, g);
}

void ival_mish(mpfi_t y, const mpfi_t x, const void *unused)
{
    (void)unused;
    ival_x_times(y, x, mish_gate);
}

void ival_elu(mpfi_t y, const mpfi_t x, const void *alpha)
{
    if (mpfi_nan_p(x)) {
        special_ival_set_nan(y);
        return;
    }
    mpfr_prec_t wp = mpfi_get_prec(y) + 8;
    mpfi_t part, r;
    mpfr_t zero;
    int have = 0;
    mpfi_init2(part, wp);
    mpfi_init2(r, wp);
    mpfr_init2(zero, 2);
    mpfr_set_zero(zero, 1);
    if (mpfr_sgn(&x->left) < 0) {
        /* z <= 0: alpha expm1(z); z occurs once, so this is tight. */
        if (mpfr_sgn(&x->right) < 0)
            mpfi_set(part, x);
        else
            mpfi_interv_fr(part, &x->left, zero);
        mpfi_expm1(part, part);
        if (alpha)
            mpfi_mul(part, part, (mpfi_srcptr)alpha);
        hull_into(r, &have, part);
    }
    if (mpfr_sgn(&x->right) >= 0) {
        if (mpfr_sgn(&x->left) >= 0)
            mpfi_set(part, x);
        else
            mpfi_interv_fr(part, zero, &x->right);
        hull_into(r, &have, part);
    }
    mpfi_set(y, r);
    mpfi_clear(part);
    mpfi_clear(r);
    mpfr_clear(zero);
}

void ival_hardswish(mpfi_t y, const mpfi_t x, const void *unused)
{
    (void)unused;
    if (mpfi_nan_p(x)) {
        special_ival_set_nan(y);
        return;
    }
    mpfr_prec_t wp = mpfi_get_prec(y) + 8;
    mpfi_t part, q, r;
    mpfr_t lo, hi, three, mthree;
    int have = 0;
    mpfi_init2(part, wp);
    mpfi_init2(q, wp);
    mpfi_init2(r, wp);
    mpfr_init2(lo, mpfi_get_prec(x));
    mpfr_init2(hi, mpfi_get_prec(x));
    mpfr_init2(three, 4);
    mpfr_init2(mthree, 4);
    mpfr_set_si(three, 3, MPFR_RNDN);
    mpfr_set_si(mthree, -3, MPFR_RNDN);
    if (mpfr_cmp_si(&x->left, -3) <= 0) {
        mpfi_set_ui(part, 0); /* z <= -3 */
        hull_into(r, &have, part);
    }
    if (mpfr_cmp_si(&x->right, 3) >= 0) {
        /* z >= 3: identity */
        mpfr_max(lo, &x->left, three, MPFR_RNDN); /* exact */
        mpfi_interv_fr(part, lo, &x->right);
        hull_into(r, &have, part);
    }
    if (mpfr_cmp_si(&x->right, -3) > 0 && mpfr_cmp_si(&x->left, 3) < 0) {
        /* -3 < z < 3: q(z) = z(z+3)/6, a parabola with vertex q(-3/2) = -3/8;
         * its range is the hull of the ends and, if inside, the vertex. */
        mpfr_max(lo, &x->left, mthree, MPFR_RNDN); /* exact */
        mpfr_min(hi, &x->right, three, MPFR_RNDN);
        for (int end = 0; end < 2; end++) {
            mpfi_set_fr(part, end == 0 ? lo : hi);
            mpfi_add_ui(q, part, 3);
            mpfi_mul(q, q, part);
            mpfi_div_ui(q, q, 6);
            hull_into(r, &have, q);
        }
        if (mpfr_cmp_d(lo, -1.5) <= 0 && mpfr_cmp_d(hi, -1.5) >= 0) {
            mpfi_set_d(q, -0.375); /* exact in binary */
            hull_into(r, &have, q);
        }
    }
    mpfi_set(y, r);
    mpfi_clear(part);
    mpfi_clear(q);
    mpfi_clear(r);
    mpfr_clear(lo);
    mpfr_clear(hi);
    mpfr_clear(three);
    mpfr_clear(mthree);
}

void ival_expr_act(mpfi_t y, const mpfi_t x, const void *expr)
{
    expr_eval_ival(y, (const expr_t *)expr, x);
}

/* ------------------------------------------------- derivative enclosures */

/* SiLU_a'(z) = s + a z s (1 - s), s = sigma(a z); naive composition. */
void dival_silu_a(mpfi_t y, const mpfi_t x, const void *a)
{
    mpfr_prec_t wp = mpfi_get_prec(y) + 8;
    mpfi_t s, t;
    mpfi_init2(s, wp);
    mpfi_init2(t, wp);
    mpfi_mul(t, x, (mpfi_srcptr)a);
    ival_sigmoid(s, t);
    mpfi_mul(t, t, s);
    mpfi_ui_sub(s, 1, s);
    mpfi_mul(t, t, s);
    mpfi_ui_sub(s, 1, s); /* back to sigma(a z); 1 - (1 - s) only widens */
    mpfi_add(y, s, t);
    mpfi_clear(s);
    mpfi_clear(t);
}

/* ELU'(z) = 1 for z > 0, alpha e^z for z < 0: the hull over x. */
void dival_elu(mpfi_t y, const mpfi_t x, const void *alpha)
{
    mpfr_prec_t wp = mpfi_get_prec(y) + 8;
    mpfi_t part, r;
    mpfr_t zero;
    int have = 0;
    mpfi_init2(part, wp);
    mpfi_init2(r, wp);
    mpfr_init2(zero, 2);
    mpfr_set_zero(zero, 1);
    if (mpfi_nan_p(x)) {
        special_ival_set_nan(r);
    } else {
        if (mpfr_sgn(&x->left) < 0) {
            if (mpfr_sgn(&x->right) < 0)
                mpfi_set(part, x);
            else
                mpfi_interv_fr(part, &x->left, zero);
            mpfi_exp(part, part);
            if (alpha)
                mpfi_mul(part, part, (mpfi_srcptr)alpha);
            hull_into(r, &have, part);
        }
        if (mpfr_sgn(&x->right) >= 0) {
            mpfi_set_ui(part, 1);
            hull_into(r, &have, part);
        }
    }
    mpfi_set(y, r);
    mpfi_clear(part);
    mpfi_clear(r);
    mpfr_clear(zero);
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

/* ------------------------------------------------------------ registry */

const act_info_t act_builtins[] = {
    {"identity", "z", ival_identity, NULL, NULL, d_identity, "x", NULL},
    {"relu", "max(z, 0)", ival_relu, NULL, NULL, d_relu, "max(x, 0)", NULL},
    {"silu", "z sigma(z)", ival_silu, NULL, NULL, d_silu, "x*sigmoid(x)", NULL},
    {"silu_a", "z sigma(a z)", ival_silu_a, "a", "1", d_silu_a, NULL, dival_silu_a},
    {"gelu", "z Phi(z) = z erfc(-z/sqrt 2)/2", ival_gelu, NULL, NULL, d_gelu,
     "x*erfc(-x/sqrt(2))/2", NULL},
    {"gelu_tanh", "z/2 (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3)))", ival_gelu_tanh, NULL, NULL,
     d_gelu_tanh, "x/2*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x^3)))", NULL},
    {"sigmoid", "1/(1 + e^-z)", ival_sigmoid_act, NULL, NULL, d_sigmoid, "sigmoid(x)", NULL},
    {"tanh", "tanh(z)", ival_tanh_act, NULL, NULL, d_tanh, "tanh(x)", NULL},
    {"softplus", "log(1 + e^z)", ival_softplus_act, NULL, NULL, d_softplus_p, "softplus(x)", NULL},
    {"elu", "z (z > 0), alpha (e^z - 1) (z <= 0)", ival_elu, "alpha", "1", d_elu, NULL, dival_elu},
    {"mish", "z tanh(softplus(z))", ival_mish, NULL, NULL, d_mish, "x*tanh(softplus(x))", NULL},
    {"hardswish", "z min(max(z + 3, 0), 6)/6", ival_hardswish, NULL, NULL, d_hardswish,
     "x*min(max(x + 3, 0), 6)/6", NULL},
};
const int act_n_builtins = (int)(sizeof act_builtins / sizeof act_builtins[0]);

const act_info_t *act_find(const char *name)
{
    for (int k = 0; k < act_n_builtins; k++)
        if (strcmp(act_builtins[k].name, name) == 0)
            return &act_builtins[k];
    return NULL;
}

static void act_init_blank(act_t *f, mpfr_prec_t prec)
{
    memset(f, 0, sizeof *f);
    mpfi_init2(f->param, prec);
    mpfi_set_ui(f->param, 1);
    f->param_d = 1.0;
}

static int act_init_name_body(act_t *f, const char *spec, char *err, size_t errsz);

int act_init_name(act_t *f, const char *spec, char *err, size_t errsz, mpfr_prec_t prec)
{
    act_init_blank(f, prec);
    if (act_init_name_body(f, spec, err, errsz) == 0)
        return 0;
    act_clear(f); /* nothing left for the caller to clear */
    return -1;
}

static int act_init_name_body(act_t *f, const char *spec, char *err, size_t errsz)
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
        snprintf(err, errsz, "unknown name '%s' (try: identity relu silu silu_a "
                 "gelu gelu_tanh sigmoid tanh softplus elu mish hardswish)", name);
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
            mpfi_set_str(f->param, ptext, 10) != 0 || !special_ival_is_finite(f->param)) {
            snprintf(err, errsz, "parameter %s of '%s' is not a finite number: '%.40s'",
                     info->param_name, name, ptext);
            return -1;
        }
        f->param_d = d;
    }
    if (info->expr_src) {
        f->dexpr = expr_parse(info->expr_src, err, errsz);
        if (!f->dexpr)
            return -1; /* cannot happen: the sources are fixed */
    }
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
    act_init_blank(f, prec);
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

void act_init_silu_a(act_t *f, const mpfi_t a, mpfr_prec_t prec)
{
    act_init_blank(f, prec);
    f->info = act_find("silu_a");
    mpfi_set(f->param, a);
    f->param_d = mpfi_get_d(a);
    f->ival = ival_silu_a;
    f->ctx = f->param;
    snprintf(f->name, sizeof f->name, "silu_a:%.17g", f->param_d);
}

void act_clear(act_t *f)
{
    mpfi_clear(f->param);
    expr_free(f->expr);
    expr_free(f->dexpr);
    f->expr = NULL;
    f->dexpr = NULL;
}

void act_eval_ival(mpfi_t y, const mpfi_t x, const void *ctx)
{
    const act_t *f = ctx;
    f->ival(y, x, f->ctx);
}

void act_eval_dival(mpfi_t dy, const mpfi_t x, const void *ctx)
{
    const act_t *f = ctx;
    if (f->expr)
        expr_eval_dival(dy, f->expr, x);
    else if (f->dexpr)
        expr_eval_dival(dy, f->dexpr, x);
    else if (f->info && f->info->dival)
        f->info->dival(dy, x, f->ctx);
    else
        special_ival_set_nan(dy);
}

void act_eval_point(mpfi_t y, const act_t *f, const mpfr_t x)
{
    mpfi_t t;
    mpfr_prec_t p = mpfr_get_prec(x);
    mpfi_init2(t, p > mpfi_get_prec(y) ? p : mpfi_get_prec(y));
    mpfi_set_fr(t, x); /* exact: t is at least as precise as x */
    f->ival(y, t, f->ctx);
    mpfi_clear(t);
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
