/* Emulated IEEE float formats on MPFR: see fpformat.h for the model. */
#include <stdlib.h>
#include <string.h>
#include "fpformat.h"

const fpf_format_t fpf_binary64 = {"binary64", 53, -1022, 1023};
const fpf_format_t fpf_binary32 = {"binary32", 24, -126, 127};
const fpf_format_t fpf_bfloat16 = {"bfloat16", 8, -126, 127};
const fpf_format_t fpf_binary16 = {"binary16", 11, -14, 15};

const fpf_format_t *fpf_format_find(const char *name)
{
    static const struct {
        const char *name;
        const fpf_format_t *f;
    } names[] = {
        {"binary64", &fpf_binary64}, {"float64", &fpf_binary64}, {"fp64", &fpf_binary64},
        {"binary32", &fpf_binary32}, {"float32", &fpf_binary32}, {"fp32", &fpf_binary32},
        {"bfloat16", &fpf_bfloat16}, {"bf16", &fpf_bfloat16},
        {"binary16", &fpf_binary16}, {"float16", &fpf_binary16}, {"fp16", &fpf_binary16},
    };
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i].name) == 0)
            return names[i].f;
    return NULL;
}

/* ---- MPFR's global state around one operation ----
 * An operation runs in MPFR's widest exponent range, where the result at F's
 * precision is the exact result rounded to nearest with an unbounded exponent
 * (format values never leave that range, and what does is +-inf or 0 there as
 * well).  Then, in F's range written MPFR's way (x = m 2^e with 1/2 <= m < 1:
 * emax + 1, and emin - prec + 2 for the smallest subnormal), mpfr_check_range
 * gives IEEE overflow and mpfr_subnormalize rounds again at a subnormal's
 * precision, using the first ternary value so the result is the exact value
 * rounded once.  Any other direct MPFR call that may raise a flag (NaN in,
 * comparisons with NaN) also runs between env_enter and env_leave. */
typedef struct {
    mpfr_exp_t emin, emax;
    mpfr_flags_t flags;
} env_t;

/* Inside a sum or dot product the widest range is held across its
 * operations (entered and left once): round_op then skips both. */
static _Thread_local int env_held;

static void env_enter(env_t *e)
{
    e->emin = mpfr_get_emin();
    e->emax = mpfr_get_emax();
    e->flags = mpfr_flags_save();
    mpfr_set_emin(mpfr_get_emin_min());
    mpfr_set_emax(mpfr_get_emax_max());
}

static int env_fit(mpfr_ptr r, int inex, const fpf_format_t *f)
{
    /* a normal result of F (2^emin <= |r| < 2^(emax+1)) is already right:
     * neither the range check nor subnormalize would change it */
    if (mpfr_regular_p(r) && mpfr_get_exp(r) > f->emin && mpfr_get_exp(r) <= f->emax + 1)
        return inex;
    mpfr_set_emin((mpfr_exp_t)(f->emin - f->prec + 2));
    mpfr_set_emax((mpfr_exp_t)(f->emax + 1));
    inex = mpfr_check_range(r, inex, MPFR_RNDN);
    inex = mpfr_subnormalize(r, inex, MPFR_RNDN);
    mpfr_set_emin(mpfr_get_emin_min());
    mpfr_set_emax(mpfr_get_emax_max());
    return inex;
}

static void env_leave(const env_t *e)
{
    mpfr_set_emin(e->emin);
    mpfr_set_emax(e->emax);
    mpfr_flags_restore(e->flags, MPFR_FLAGS_ALL);
}

typedef enum { OP_SET, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_FMA, OP_SQRT, OP_REC_SQRT, OP_EXP,
               OP_TANH, OP_ERF } op_t;

/* The exact result of op rounded to nearest at t's precision; ternary value. */
static int op_raw(mpfr_ptr t, op_t op, mpfr_srcptr a, mpfr_srcptr b, mpfr_srcptr c)
{
    switch (op) {
    case OP_SET: return mpfr_set(t, a, MPFR_RNDN);
    case OP_ADD: return mpfr_add(t, a, b, MPFR_RNDN);
    case OP_SUB: return mpfr_sub(t, a, b, MPFR_RNDN);
    case OP_MUL: return mpfr_mul(t, a, b, MPFR_RNDN);
    case OP_DIV: return mpfr_div(t, a, b, MPFR_RNDN);
    case OP_FMA: return mpfr_fma(t, a, b, c, MPFR_RNDN);
    case OP_SQRT: return mpfr_sqrt(t, a, MPFR_RNDN);
    case OP_REC_SQRT: return mpfr_rec_sqrt(t, a, MPFR_RNDN);
    case OP_EXP: return mpfr_exp(t, a, MPFR_RNDN);
    case OP_TANH: return mpfr_tanh(t, a, MPFR_RNDN);
    case OP_ERF: return mpfr_erf(t, a, MPFR_RNDN);
    }
    return 0;
}

/* r = op(a, b, c) rounded once to F; r is set to F's precision. */
static int round_op(mpfr_ptr r, op_t op, mpfr_srcptr a, mpfr_srcptr b, mpfr_srcptr c,
                    const fpf_format_t *f)
{
    env_t e = {0, 0, 0};
    int inex;
    if (!env_held)
        env_enter(&e);
    if (mpfr_get_prec(r) == f->prec) {
        inex = env_fit(r, op_raw(r, op, a, b, c), f);
    } else {
        /* through a temporary: r may alias an input */
        mpfr_t t;
        mpfr_init2(t, f->prec);
        inex = env_fit(t, op_raw(t, op, a, b, c), f);
        mpfr_swap(r, t);
        mpfr_clear(t);
    }
    if (!env_held)
        env_leave(&e);
    return inex;
}

void fpf_init(mpfr_t x, const fpf_format_t *f)
{
    mpfr_init2(x, f->prec);
    mpfr_set_zero(x, 1);
}

int fpf_is_member(const mpfr_t x, const fpf_format_t *f)
{
    if (!mpfr_regular_p(x))
        return 1;
    mpfr_t t;
    fpf_init(t, f);
    int inex = fpf_set_fr(t, x, f);
    mpfr_clear(t);
    return inex == 0;
}

int fpf_set_fr(mpfr_t r, const mpfr_t x, const fpf_format_t *f)
{
    return round_op(r, OP_SET, x, NULL, NULL, f);
}

int fpf_set_d(mpfr_t r, double x, const fpf_format_t *f)
{
    env_t e;
    mpfr_t t;
    mpfr_init2(t, 53);
    env_enter(&e);
    mpfr_set_d(t, x, MPFR_RNDN); /* exact */
    env_leave(&e);
    int inex = fpf_set_fr(r, t, f);
    mpfr_clear(t);
    return inex;
}

int fpf_set_si(mpfr_t r, long x, const fpf_format_t *f)
{
    mpfr_t t;
    mpfr_init2(t, (mpfr_prec_t)(8 * sizeof(long)));
    mpfr_set_si(t, x, MPFR_RNDN); /* exact */
    int inex = fpf_set_fr(r, t, f);
    mpfr_clear(t);
    return inex;
}

int fpf_set_str(mpfr_t r, const char *s, const fpf_format_t *f)
{
    env_t e;
    char *end;
    mpfr_t t;
    mpfr_init2(t, f->prec);
    env_enter(&e);
    /* mpfr_strtofr rounds the decimal correctly to t's precision */
    int inex = mpfr_strtofr(t, s, &end, 10, MPFR_RNDN);
    int ok = end != s && *end == '\0';
    if (ok)
        inex = env_fit(t, inex, f);
    env_leave(&e);
    if (ok)
        mpfr_swap(r, t);
    mpfr_clear(t);
    return ok ? inex : -2;
}

int fpf_add(mpfr_t r, const mpfr_t a, const mpfr_t b, const fpf_format_t *f)
{
    return round_op(r, OP_ADD, a, b, NULL, f);
}

int fpf_sub(mpfr_t r, const mpfr_t a, const mpfr_t b, const fpf_format_t *f)
{
    return round_op(r, OP_SUB, a, b, NULL, f);
}

int fpf_mul(mpfr_t r, const mpfr_t a, const mpfr_t b, const fpf_format_t *f)
{
    return round_op(r, OP_MUL, a, b, NULL, f);
}

int fpf_div(mpfr_t r, const mpfr_t a, const mpfr_t b, const fpf_format_t *f)
{
    return round_op(r, OP_DIV, a, b, NULL, f);
}

int fpf_fma(mpfr_t r, const mpfr_t a, const mpfr_t b, const mpfr_t c, const fpf_format_t *f)
{
    return round_op(r, OP_FMA, a, b, c, f);
}

int fpf_sqrt(mpfr_t r, const mpfr_t a, const fpf_format_t *f)
{
    return round_op(r, OP_SQRT, a, NULL, NULL, f);
}

int fpf_exp(mpfr_t r, const mpfr_t a, const fpf_format_t *f)
{
    return round_op(r, OP_EXP, a, NULL, NULL, f);
}

int fpf_tanh(mpfr_t r, const mpfr_t a, const fpf_format_t *f)
{
    return round_op(r, OP_TANH, a, NULL, NULL, f);
}

int fpf_erf(mpfr_t r, const mpfr_t a, const fpf_format_t *f)
{
    return round_op(r, OP_ERF, a, NULL, NULL, f);
}

/* ---- composite functions ---- */

void fpf_sigmoid(mpfr_t r, const mpfr_t x, const fpf_format_t *f)
{
    env_t e;
    mpfr_t t, one;
    fpf_init(t, f);
    fpf_init(one, f);
    mpfr_set_ui(one, 1, MPFR_RNDN);
    env_enter(&e);
    mpfr_neg(t, x, MPFR_RNDN); /* exact */
    env_leave(&e);
    fpf_exp(t, t, f);
    fpf_add(t, one, t, f);
    fpf_div(r, one, t, f);
    mpfr_clears(t, one, (mpfr_ptr)0);
}

void fpf_silu_a(mpfr_t r, const mpfr_t x, const mpfr_t a, const fpf_format_t *f)
{
    mpfr_t t;
    fpf_init(t, f);
    fpf_mul(t, a, x, f);
    fpf_sigmoid(t, t, f);
    fpf_mul(r, x, t, f);
    mpfr_clear(t);
}

void fpf_relu(mpfr_t r, const mpfr_t x, const fpf_format_t *f)
{
    if (mpfr_nan_p(x) || mpfr_sgn(x) > 0)
        fpf_set_fr(r, x, f);
    else
        fpf_set_si(r, 0, f);
}

/* r = fl(fl(0.5 x) * fl(1 + t)) for t an F value: the last steps of both GELUs. */
static void gelu_finish(mpfr_t r, const mpfr_t x, const mpfr_t t, const fpf_format_t *f)
{
    mpfr_t h, u, c;
    fpf_init(h, f);
    fpf_init(u, f);
    fpf_init(c, f);
    mpfr_set_ui(c, 1, MPFR_RNDN);
    fpf_add(u, c, t, f);
    mpfr_set_ui_2exp(c, 1, -1, MPFR_RNDN);
    fpf_mul(h, c, x, f);
    fpf_mul(r, h, u, f);
    mpfr_clears(h, u, c, (mpfr_ptr)0);
}

void fpf_gelu(mpfr_t r, const mpfr_t x, const fpf_format_t *f)
{
    mpfr_t c1, t, two;
    fpf_init(c1, f);
    fpf_init(t, f);
    mpfr_init2(two, 2);
    mpfr_set_ui(two, 2, MPFR_RNDN);
    round_op(c1, OP_REC_SQRT, two, NULL, NULL, f); /* fl(1/sqrt 2), correctly rounded */
    fpf_mul(t, x, c1, f);
    fpf_erf(t, t, f);
    gelu_finish(r, x, t, f);
    mpfr_clears(c1, t, two, (mpfr_ptr)0);
}

/* fl(sqrt(2/pi)): enclose it at growing precision until both ends round to
 * the same F value (Ziv's strategy), which is then the correct rounding. */
static void const_sqrt_2_over_pi(mpfr_t r, const fpf_format_t *f)
{
    env_t e;
    mpfr_t lo, hi, rlo, rhi;
    env_enter(&e); /* the directed steps below raise MPFR's inexact flag */
    fpf_init(rlo, f);
    fpf_init(rhi, f);
    for (mpfr_prec_t p = 2 * f->prec + 64;; p *= 2) {
        mpfr_inits2(p, lo, hi, (mpfr_ptr)0);
        mpfr_const_pi(hi, MPFR_RNDU);
        mpfr_ui_div(lo, 2, hi, MPFR_RNDD);
        mpfr_sqrt(lo, lo, MPFR_RNDD);
        mpfr_const_pi(hi, MPFR_RNDD);
        mpfr_ui_div(hi, 2, hi, MPFR_RNDU);
        mpfr_sqrt(hi, hi, MPFR_RNDU);
        fpf_set_fr(rlo, lo, f);
        fpf_set_fr(rhi, hi, f);
        mpfr_clears(lo, hi, (mpfr_ptr)0);
        if (mpfr_equal_p(rlo, rhi))
            break;
    }
    fpf_set_fr(r, rlo, f);
    mpfr_clears(rlo, rhi, (mpfr_ptr)0);
    env_leave(&e);
}

void fpf_gelu_tanh(mpfr_t r, const mpfr_t x, const fpf_format_t *f)
{
    mpfr_t c2, c3, t;
    fpf_init(c2, f);
    fpf_init(c3, f);
    fpf_init(t, f);
    const_sqrt_2_over_pi(c2, f);
    fpf_set_str(c3, "0.044715", f);
    fpf_mul(t, x, x, f);
    fpf_mul(t, t, x, f);
    fpf_mul(t, c3, t, f);
    fpf_add(t, x, t, f);
    fpf_mul(t, c2, t, f);
    fpf_tanh(t, t, f);
    gelu_finish(r, x, t, f);
    mpfr_clears(c2, c3, t, (mpfr_ptr)0);
}

void fpf_act_apply(mpfr_t r, const mpfr_t x, fpf_act_t act, const mpfr_t a,
                   const fpf_format_t *f)
{
    switch (act) {
    case FPF_ACT_RELU: fpf_relu(r, x, f); break;
    case FPF_ACT_SILU_A: fpf_silu_a(r, x, a, f); break;
    case FPF_ACT_GELU: fpf_gelu(r, x, f); break;
    case FPF_ACT_GELU_TANH: fpf_gelu_tanh(r, x, f); break;
    case FPF_ACT_SIGMOID: fpf_sigmoid(r, x, f); break;
    }
}

/* ---- sums and dot products ---- */

static const char *const order_names[] = {"sequential", "sequential-fma", "pairwise"};

int fpf_order_find(fpf_order_t *order, const char *name)
{
    for (int i = 0; i < 3; i++)
        if (name && strcmp(name, order_names[i]) == 0) {
            *order = (fpf_order_t)i;
            return 0;
        }
    return -1;
}

const char *fpf_order_name(fpf_order_t order)
{
    return (unsigned)order < 3 ? order_names[order] : "?";
}

/* v[0] = pairwise sum of v[0 .. n), each addition rounded to A; v[] is scratch. */
static void sum_pairwise(__mpfr_struct *v, long n, const fpf_format_t *A)
{
    if (n <= 1)
        return;
    long m = n / 2;
    sum_pairwise(v, m, A);
    sum_pairwise(v + m, n - m, A);
    fpf_add(v, v, v + m, A);
}

/* Term i in the accumulation format: x_i (y NULL) or fl_acc(x_i y_i). */
static void term(mpfr_ptr t, mpfr_srcptr const *x, mpfr_srcptr const *y, long i,
                 const fpf_format_t *A)
{
    if (y)
        fpf_mul(t, x[i], y[i], A);
    else
        fpf_set_fr(t, x[i], A);
}

static int dot_ptr(mpfr_t r, mpfr_srcptr const *x, mpfr_srcptr const *y, long n,
                   mpfr_srcptr addend, const fpf_arith_t *ar);

int fpf_dot_ptr(mpfr_t r, mpfr_srcptr const *x, mpfr_srcptr const *y, long n,
                mpfr_srcptr addend, const fpf_arith_t *ar)
{
    env_t e;
    env_enter(&e);
    env_held++;
    int rc = dot_ptr(r, x, y, n, addend, ar);
    env_held--;
    env_leave(&e);
    return rc;
}

static int dot_ptr(mpfr_t r, mpfr_srcptr const *x, mpfr_srcptr const *y, long n,
                   mpfr_srcptr addend, const fpf_arith_t *ar)
{
    const fpf_format_t *A = ar->acc;
    mpfr_t s, t;
    fpf_init(s, A);
    fpf_init(t, A);
    if (n > 0 && ar->order == FPF_SUM_PAIRWISE) {
        __mpfr_struct *v = malloc(sizeof *v * (size_t)n);
        if (!v) {
            mpfr_clears(s, t, (mpfr_ptr)0);
            return -1;
        }
        for (long i = 0; i < n; i++) {
            fpf_init(v + i, A);
            term(v + i, x, y, i, A);
        }
        sum_pairwise(v, n, A);
        fpf_set_fr(s, v, A);
        for (long i = 0; i < n; i++)
            mpfr_clear(v + i);
        free(v);
    } else if (n > 0) {
        term(s, x, y, 0, A);
        for (long i = 1; i < n; i++) {
            if (y && ar->order == FPF_SUM_SEQUENTIAL_FMA) {
                fpf_fma(s, x[i], y[i], s, A);
            } else {
                term(t, x, y, i, A);
                fpf_add(s, s, t, A);
            }
        }
    }
    if (addend) {
        fpf_set_fr(t, addend, A);
        fpf_add(s, s, t, A);
    }
    fpf_set_fr(r, s, ar->fmt);
    mpfr_clears(s, t, (mpfr_ptr)0);
    return 0;
}

/* Pointers to x[0], x[inc], ..., x[(n-1) inc]; NULL when out of memory. */
static mpfr_srcptr *strided_ptrs(const __mpfr_struct *x, long inc, long n)
{
    mpfr_srcptr *p = malloc(sizeof *p * (size_t)(n > 0 ? n : 1));
    if (p)
        for (long i = 0; i < n; i++)
            p[i] = x + i * inc;
    return p;
}

int fpf_dot(mpfr_t r, const __mpfr_struct *x, long incx, const __mpfr_struct *y, long incy,
            long n, mpfr_srcptr addend, const fpf_arith_t *ar)
{
    if (n < 0)
        return -1;
    mpfr_srcptr *px = strided_ptrs(x, incx, n);
    mpfr_srcptr *py = y ? strided_ptrs(y, incy, n) : NULL;
    int rc = -1;
    if (px && (py || !y))
        rc = fpf_dot_ptr(r, px, py, n, addend, ar);
    free(px);
    free(py);
    return rc;
}

int fpf_sum(mpfr_t r, const __mpfr_struct *x, long incx, long n, const fpf_arith_t *ar)
{
    return fpf_dot(r, x, incx, NULL, 0, n, NULL, ar);
}

/* ---- softmax and LayerNorm ---- */

int fpf_softmax(__mpfr_struct *w, const __mpfr_struct *s, long n, const fpf_arith_t *ar)
{
    const fpf_format_t *F = ar->fmt;
    if (n < 1)
        return -1;
    long imax = 0;
    for (long i = 0; i < n; i++) {
        if (mpfr_nan_p(s + i)) {
            env_t e;
            env_enter(&e); /* mpfr_set_nan raises the NaN flag */
            for (long k = 0; k < n; k++) {
                mpfr_set_prec(w + k, F->prec);
                mpfr_set_nan(w + k);
            }
            env_leave(&e);
            return 0;
        }
        if (mpfr_greater_p(s + i, s + imax)) /* no NaN so far: no erange flag */
            imax = i;
    }
    mpfr_t m, S;
    fpf_init(m, F);
    fpf_init(S, F);
    fpf_set_fr(m, s + imax, F);
    for (long i = 0; i < n; i++) {
        fpf_sub(w + i, s + i, m, F);
        fpf_exp(w + i, w + i, F);
    }
    int rc = fpf_sum(S, w, 1, n, ar);
    if (rc == 0)
        for (long i = 0; i < n; i++)
            fpf_div(w + i, w + i, S, F);
    mpfr_clears(m, S, (mpfr_ptr)0);
    return rc;
}

int fpf_layernorm(__mpfr_struct *y, const __mpfr_struct *x, long n, const __mpfr_struct *gamma,
                  const __mpfr_struct *beta, const mpfr_t eps, const fpf_arith_t *ar)
{
    const fpf_format_t *F = ar->fmt;
    if (n < 1)
        return -1;
    mpfr_t nn, mu, var, sd;
    fpf_init(nn, F);
    fpf_init(mu, F);
    fpf_init(var, F);
    fpf_init(sd, F);
    fpf_set_si(nn, n, F);
    int rc = fpf_sum(mu, x, 1, n, ar);
    if (rc == 0) {
        fpf_div(mu, mu, nn, F);
        for (long i = 0; i < n; i++)
            fpf_sub(y + i, x + i, mu, F); /* c_i, in y */
        rc = fpf_dot(var, y, 1, y, 1, n, NULL, ar);
    }
    if (rc == 0) {
        fpf_div(var, var, nn, F);
        fpf_add(var, var, eps, F);
        fpf_sqrt(sd, var, F);
        for (long i = 0; i < n; i++) {
            fpf_div(y + i, y + i, sd, F);
            if (gamma)
                fpf_mul(y + i, y + i, gamma + i, F);
            if (beta)
                fpf_add(y + i, y + i, beta + i, F);
        }
    }
    mpfr_clears(nn, mu, var, sd, (mpfr_ptr)0);
    return rc;
}

int fpf_rmsnorm(__mpfr_struct *y, const __mpfr_struct *x, long n, const __mpfr_struct *gamma,
                const mpfr_t eps, const fpf_arith_t *ar)
{
    const fpf_format_t *F = ar->fmt;
    if (n < 1)
        return -1;
    mpfr_t nn, ms, r, one;
    fpf_init(nn, F);
    fpf_init(ms, F);
    fpf_init(r, F);
    fpf_init(one, F);
    fpf_set_si(nn, n, F);
    fpf_set_si(one, 1, F);
    int rc = fpf_dot(ms, x, 1, x, 1, n, NULL, ar);
    if (rc == 0) {
        fpf_div(ms, ms, nn, F);
        fpf_add(ms, ms, eps, F);
        fpf_sqrt(r, ms, F);
        fpf_div(r, one, r, F);
        for (long i = 0; i < n; i++) {
            fpf_mul(y + i, x + i, r, F);
            if (gamma)
                fpf_mul(y + i, y + i, gamma + i, F);
        }
    }
    mpfr_clears(nn, ms, r, one, (mpfr_ptr)0);
    return rc;
}
