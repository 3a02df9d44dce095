/* The expression language of `attncheck activation --expr`: a function of
 * one variable x (z is a synonym) parsed into a tree, evaluated either as a
 * certified enclosure over a ball (Arb) or at a point.
 *
 * Grammar (usual precedence; ^ binds tighter than unary minus and is right
 * associative, so -x^2 = -(x^2) and 2^-x is allowed):
 *   expr    := term (('+' | '-') term)*
 *   term    := unary (('*' | '/') unary)*
 *   unary   := ('-' | '+') unary | power
 *   power   := primary ('^' unary)?
 *   primary := number | 'x' | 'z' | 'pi' | 'e' | '(' expr ')'
 *            | f1 '(' expr ')' | ('min' | 'max') '(' expr ',' expr ')'
 *   f1      := exp log log1p expm1 sqrt abs tanh sigmoid erf erfc softplus
 *   number  := digits ['.' digits] [('e'|'E') ['+'|'-'] digits]  (or '.' digits ...)
 * Limits: EXPR_MAX_LEN bytes, EXPR_MAX_DEPTH nested levels. */
#ifndef ATTNCHECK_EXPR_H
#define ATTNCHECK_EXPR_H

#include <stddef.h>
#include "ball.h"

#define EXPR_MAX_LEN 4096
#define EXPR_MAX_DEPTH 64

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

/* Point value f(x), each operation rounded with rnd: not certified; meant
 * for optimisers and plots. */
void expr_eval_fr(mpfr_t y, const expr_t *e, const mpfr_t x, mpfr_rnd_t rnd);
double expr_eval_d(const expr_t *e, double x);

#endif
