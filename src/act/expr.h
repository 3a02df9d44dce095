/* The expression language of `attncheck activation --expr`: a function of
 * one variable x (z is a synonym) parsed into a tree, evaluated either as a
 * certified enclosure over a ball (Arb) or at a point.
 *
 * Grammar (usual precedence; ^ (or **) binds tighter than unary minus and is
 * right associative, so -x^2 = -(x^2) and 2^-x is allowed):
 *   expr    := term (('+' | '-') term)*
 *   term    := unary (('*' | '/') unary)*
 *   unary   := ('-' | '+') unary | power
 *   power   := primary (('^' | '**') unary)?
 *   primary := number | 'x' | 'z' | 'pi' | 'e' | '(' expr ')'
 *            | f1 '(' expr ')' | ('min' | 'max') '(' expr ',' expr ')'
 *            | act '(' expr ')' | act2 '(' expr [',' expr] ')'
 *   f1      := exp log log1p expm1 sqrt abs tanh sigmoid erf erfc softplus sin cos
 *   act     := identity relu silu gelu gelu_tanh mish hardswish selu
 *   act2    := silu_a elu     (the slope a, the alpha; 1 when left out)
 *   (act also holds selu: a formula only, no built-in activation of the registry)
 *   number  := digits ['.' digits] [('e'|'E') ['+'|'-'] digits]  (or '.' digits ...)
 * The built-in activations (act, act2) are expanded where they are called
 * into their formulas in the language (relu(u) = max(u, 0), gelu(u) =
 * u*erfc(-u/sqrt(2))/2, silu_a(u, a) = u*sigmoid(a*u), ...).
 * Limits: EXPR_MAX_LEN bytes, EXPR_MAX_DEPTH nested levels, EXPR_MAX_NODES
 * operations after the built-ins are expanded. */
#ifndef ATTNCHECK_EXPR_H
#define ATTNCHECK_EXPR_H

#include <stddef.h>
#include "ball.h"

#define EXPR_MAX_LEN 4096
#define EXPR_MAX_DEPTH 64
#define EXPR_MAX_NODES 20000

typedef struct expr expr_t;

/* Parse text.  Returns the tree, or NULL with a one-line message in err
 * (such as "expression: expected ')' at position 12 (end of input)");
 * positions count bytes from 1, and the end of input is length + 1. */
expr_t *expr_parse(const char *text, char *err, size_t errsz);
void expr_free(expr_t *e);
/* The text the tree was parsed from. */
const char *expr_text(const expr_t *e);

/* y encloses f(t) for every point t of x, computed at prec.  Where f is
 * undefined on part of x (log or sqrt of a negative, a non-integer power of
 * a negative, 0/0) or unbounded (a division by a ball containing 0) y is
 * not finite; callers treat that as "cannot certify" (arb_is_finite). */
void expr_eval_ival(arb_t y, const expr_t *e, const arb_t x, mpfr_prec_t prec);

/* dy encloses f'(t) for every point t of x where f is differentiable; where
 * f is only Lipschitz (abs, min, max) it encloses the one-sided derivatives,
 * so f(t) - f(m) lies in dy (t - m) for t, m in x (the mean-value form).
 * Not finite: no derivative bound. */
void expr_eval_dival(arb_t dy, const expr_t *e, const arb_t x, mpfr_prec_t prec);

/* Taylor coefficients of f at x + t: y[k] encloses f^(k)(u)/k! for every
 * point u of the ball x, k < len (for k = 0 the value).  Not finite (y[0]
 * and every coefficient) where f is not len - 1 times differentiable on x:
 * outside its domain, or a kink of abs, min or max inside x.  With x a
 * point and x's ball B, f(t) lies in sum_{k<N} y_m[k] (t-m)^k +
 * y_B[N] [-r, r]^N (Taylor with Lagrange's remainder). */
void expr_eval_series(arb_ptr y, const expr_t *e, const arb_t x, slong len, mpfr_prec_t prec);

/* How the series evaluation treats the nodes of min, max and abs (numbered
 * 0, 1, ... in pre-order; a branch: 0 the first argument, abs's a; 1 the
 * second, -a).  A node whose two sides' values are ordered over the ball
 * takes the winner; one that is tied (undecided) is counted in ties (the
 * first in first_tie) and fails unless side is set (expr_eval_jet).  Node
 * force_idx takes branch force_dec, where the difference of its two sides
 * is strictly monotone on the ball (its derivative's enclosure has a sign;
 * else it fails).  want_dec gets node want_idx's branch (-1: undecided). */
typedef struct {
    int side, force_idx, force_dec, want_idx;  /* set by the caller (-1: none) */
    int ties, first_tie, want_dec;             /* results */
    int next, cur;                             /* the walk's */
} expr_ties_t;
void expr_ties_init(expr_ties_t *t);   /* no side, nothing forced or wanted */
/* expr_eval_series under t (a side only at a point). */
void expr_eval_series_ties(arb_ptr y, const expr_t *e, const arb_t x, slong len,
                           mpfr_prec_t prec, expr_ties_t *t);

/* One-sided Taylor coefficients at the point x0 (an exact ball): y[k]
 * encloses g^(k)(x0)/k! for the function g, analytic near x0, that equals
 * f on (x0, x0 + h) (side +1) or on (x0 - h, x0) (side -1) for some h > 0.
 * Where a min, max or abs is tied at x0 (its arguments' values equal, or
 * abs's argument 0), the branch taken on that side is the one the first
 * nonzero coefficient of their difference picks (t^k < 0 for t < 0 and k
 * odd); not finite when a coefficient that decides it may be 0 but is not
 * exactly 0, or where f is not analytic from that side (sqrt at 0).
 * Returns the ties met: 0 means the left and right series are the same. */
int expr_eval_jet(arb_ptr y, const expr_t *e, const arb_t x0, int side, slong len,
                  mpfr_prec_t prec);

/* The distinct decimal constants the user wrote (not those of an expanded
 * built-in), in the order written; up to max of them.  Returns how many
 * there are (which may exceed max; past max, repeats may be counted). */
int expr_constants(const char **texts, int max, const expr_t *e);

/* Point value f(x), each operation rounded with rnd: not certified; meant
 * for optimisers and plots. */
void expr_eval_fr(mpfr_t y, const expr_t *e, const mpfr_t x, mpfr_rnd_t rnd);
double expr_eval_d(const expr_t *e, double x);

#endif
