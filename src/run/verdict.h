/* The verdicts (of the error metric E, errmetric.h), and the precision an exact
 * check needs to resolve its parameters. */
#ifndef ATTNCHECK_VERDICT_H
#define ATTNCHECK_VERDICT_H

#include "errmetric.h" /* E, the quantity every verdict judges */
#include "imat.h"

/* vacuous: a row whose claimed bound is at or above the trivial one (+inf,
 * or the largest E the triangle inequality allows): E <= bound holds, but
 * it says nothing the two outputs did not already say. */
typedef enum {
    VERDICT_HOLDS = 0, VERDICT_VIOLATED = 1, VERDICT_INCONCLUSIVE = 2, VERDICT_VACUOUS = 3
} verdict_t;

const char *verdict_name(verdict_t v);
/* The word a report shows for a row: verdict_name, except in a mutated run,
 * where a row that holds did not detect the break: "not detected at this
 * resolution" (exact rule) or "not detected" (a bound, vacuous or not). */
const char *verdict_word(verdict_t v, int mutated, int exact_rule);

/* Slack kappa of the exact-identity test: a check at precision p holds when
 * the enclosure of E contains 0 and hi(E) <= S * 2^(kappa - p).  Enclosure
 * widths compound layer by layer (about 5 bits per transformer block was
 * measured), so a construction of `depth` composed attention layers gets
 * kappa = 24 + 8 (depth - 1). */
#define VERDICT_EXACT_KAPPA 24
#define VERDICT_KAPPA_PER_LAYER 8
int verdict_kappa(int depth);

/* The resolution rule.  An exact row at working precision p certifies E
 * to the relative resolution 2^(kappa - p) (relative to S).  Its parameters
 * act on the output through terms as small as |theta| (a small slope: the
 * a-dependent part of SiLU_a is ~ a z^2) and e^(-2 max |a z|) (a large
 * slope: a token's output is e^(-|a z|) below S, and a break may move it by
 * a relative e^(-|a z|)); a break of the construction shows in those
 * terms.  So the working precision is raised to at least
 *   kappa + VERDICT_RESOLVE_MARGIN + param_bits + instance_bits,
 * param_bits = max over the numeric parameters theta < 1 of -log2 theta
 * (verdict_param_bits), instance_bits = 2 log2(e) max |a z| over the
 * instance (set by the claim, row_t.resolve_bits): the resolution is then
 * 2^MARGIN below the smallest parameter-dependent term. */
#define VERDICT_RESOLVE_MARGIN 16
/* ceil(max(0, -log2 |theta|)) over the numeric values of p other than seed
 * and prec (0 when there is none); LONG_MAX when a value is too small for
 * MPFR's exponent range.  A value that is not a number counts as none. */
long verdict_param_bits(int n, const char *const *names, const char *const *values);
/* The working precision the rule asks for (saturating at LONG_MAX). */
long verdict_resolve_prec(int depth, long param_bits, long instance_bits);

/* The unit of the exact test, u = S 2^-p rounded down (S = 0 counts as 1:
 * an all-zero output still gets room): a row holds when 0 is in E and
 * hi(E) <= 2^kappa u.  Reports show log2(hi(E) / u), the bits of slack used. */
void verdict_exact_unit(mpfr_t u, const mpfr_t S, mpfr_prec_t prec);
/* Exact identity: holds / violated (0 excluded) / inconclusive. */
verdict_t verdict_exact(const arb_t E, const mpfr_t S, mpfr_prec_t prec, int depth);
/* Inequality E <= bound: holds when hi(E) <= lo(bound), violated when
 * lo(E) > hi(bound), else inconclusive (also when either is not finite). */
verdict_t verdict_bound(const arb_t E, const arb_t bound);
/* A floor E >= bound: holds when lo(E) >= hi(bound), violated when
 * hi(E) < lo(bound) or the bound is +inf and E finite, else inconclusive
 * (also when either is not finite). */
verdict_t verdict_floor(const arb_t E, const arb_t bound);
/* The same, and vacuous when E <= bound holds while the bound is +inf or,
 * with trivial != NULL, at or above the trivial bound (lo(bound) >=
 * hi(trivial): certainly no tighter than the triangle inequality). */
verdict_t verdict_bound_trivial(const arb_t E, const arb_t bound, const arb_t trivial);

#endif
