/* Activation functions: the built-ins of the registry (actreg.h) and
 * activations written as expressions.  Every activation has a ball evaluation of type
 * ival_act_fn (mlp.h) that encloses phi over the whole argument ball,
 * and a point evaluation (as an enclosure, and in doubles for optimisers). */
#ifndef ATTNCHECK_ACT_H
#define ATTNCHECK_ACT_H

#include <stddef.h>
#include "mlp.h"
#include "expr.h"
#include "actreg.h"

/* Built-in ball evaluations (ctx as noted; NULL where unused).
 * ival_relu, ival_silu_a and ival_sigmoid come from mlp.h. */
void ival_identity(arb_t y, const arb_t x, const void *unused, mpfr_prec_t prec);
void ival_silu(arb_t y, const arb_t x, const void *unused, mpfr_prec_t prec);
void ival_sigmoid_act(arb_t y, const arb_t x, const void *unused, mpfr_prec_t prec);
void ival_tanh_act(arb_t y, const arb_t x, const void *unused, mpfr_prec_t prec);
void ival_softplus_act(arb_t y, const arb_t x, const void *unused, mpfr_prec_t prec);
/* GELU(z) = z Phi(z), Phi the standard normal CDF (through erfc). */
void ival_gelu(arb_t y, const arb_t x, const void *unused, mpfr_prec_t prec);
/* GELU_tanh(z) = z/2 (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))). */
void ival_gelu_tanh(arb_t y, const arb_t x, const void *unused, mpfr_prec_t prec);
/* ELU(z) = z for z > 0, alpha (e^z - 1) otherwise; ctx is const arb_t
 * alpha, or NULL for alpha = 1. */
void ival_elu(arb_t y, const arb_t x, const void *alpha, mpfr_prec_t prec);
/* Mish(z) = z tanh(softplus(z)). */
void ival_mish(arb_t y, const arb_t x, const void *unused, mpfr_prec_t prec);
/* Hardswish(z) = z min(max(z + 3, 0), 6) / 6, range computed piece by piece. */
void ival_hardswish(arb_t y, const arb_t x, const void *unused, mpfr_prec_t prec);
/* An expression activation; ctx is const expr_t *. */
void ival_expr_act(arb_t y, const arb_t x, const void *expr, mpfr_prec_t prec);

/* act_info_t, act_builtins and act_find: the registry (actreg.h). */

/* One activation ready to evaluate: pass act_eval_ival with ctx = the
 * act_t (or f->ival with ctx f->ctx) wherever an ival_act_fn is wanted. */
typedef struct {
    const act_info_t *info;   /* NULL for an expression */
    char name[96];            /* "silu_a:1.702", "gelu", "expr" */
    arb_t param;              /* the parameter's enclosure (when info->param_name) */
    double param_d;           /* the same, nearest double (for eval_d) */
    expr_t *expr;             /* owned (expressions only) */
    expr_t *dexpr;            /* owned (built-ins): "NAME(x[, PARAM])" in the expression
                                 language, which expands the built-in into its formula:
                                 derivatives, series, and a second way to compute it */
    ival_act_fn ival;
    ival_act_fn dival;        /* derivative where there is no expression (SiLU_a with a
                                 slope ball: act_init_silu_a), else NULL */
    const void *ctx;
} act_t;

/* "NAME" or "NAME:PARAM" (e.g. "silu_a:1.702", "elu:0.5").  Returns 0, or
 * -1 with a message in err (unknown name, bad or misplaced parameter); on
 * -1 nothing needs clearing.  An act_t points into itself: never copy one. */
int act_init_name(act_t *f, const char *spec, char *err, size_t errsz, mpfr_prec_t prec);
/* An expression in x (expr.h).  Returns 0, or -1 with the parser's message. */
int act_init_expr(act_t *f, const char *text, char *err, size_t errsz, mpfr_prec_t prec);
/* A built-in name when one matches, else an expression (for --target). */
int act_init_spec(act_t *f, const char *spec, char *err, size_t errsz, mpfr_prec_t prec);
/* SiLU_a with the parameter a given as an enclosure. */
void act_init_silu_a(act_t *f, const arb_t a, mpfr_prec_t prec);
void act_clear(act_t *f);

/* ival_act_fn with ctx = const act_t *. */
void act_eval_ival(arb_t y, const arb_t x, const void *f, mpfr_prec_t prec);
/* y encloses phi(x) at the point x, at prec. */
void act_eval_point(arb_t y, const act_t *f, const mpfr_t x, mpfr_prec_t prec);
/* dy encloses phi' over x (one-sided derivatives where phi has a kink), for
 * the mean-value form; NaN when no bound is known.  ctx = const act_t *. */
void act_eval_dival(arb_t dy, const arb_t x, const void *f, mpfr_prec_t prec);
/* SiLU_a'(z) = s + a z s (1 - s), s = sigma(a z) (ctx = const arb_t a). */
void dival_silu_a(arb_t y, const arb_t x, const void *a, mpfr_prec_t prec);
/* y[0..len): the Taylor coefficients of phi at x + t (expr_eval_series);
 * not finite where phi has no expression (act_init_silu_a). */
void act_eval_series(arb_ptr y, const act_t *f, const arb_t x, slong len, mpfr_prec_t prec);
/* Where phi is not defined (or not finite) on [-L, L]: its value is
 * enclosed at `points` equally spaced points (both ends among them) and at
 * 0; 1 with *at the first point whose enclosure is not finite, else 0. */
int act_find_undefined(double *at, const act_t *f, double L, long points, mpfr_prec_t prec);
/* phi(x) in doubles: not certified (optimisers, plots). */
double act_eval_d(const act_t *f, double x);
/* One-line formula for reports ("x*sigmoid(1.702*x)" for expressions). */
const char *act_formula(const act_t *f);

/* x rounded to a multiple of 2^-bits (a short exact decimal), in doubles. */
double act_snap_dyadic(double x, int bits);

#endif
