/* The error metric E of claims.md and the three verdicts. */
#ifndef ATTNCHECK_VERDICT_H
#define ATTNCHECK_VERDICT_H

#include "imat.h"

typedef enum { VERDICT_HOLDS = 0, VERDICT_VIOLATED = 1, VERDICT_INCONCLUSIVE = 2 } verdict_t;

const char *verdict_name(verdict_t v);

/* E = max_i ||Y_i - Z_i||_2 and the largest |Y_ij - Z_ij|, as enclosures,
 * over rows [row0, row0 + rows) and columns [0, cols) of both matrices. */
void error_metric(arb_t E, arb_t E_abs, const imat_t Y, const imat_t Z,
                  long row0, long rows, long cols, mpfr_prec_t prec);

/* Slack kappa of the exact-identity test: a check at precision p holds when
 * the enclosure of E contains 0 and hi(E) <= S * 2^(kappa - p).  Enclosure
 * widths compound layer by layer (about 5 bits per transformer block was
 * measured), so a construction of `depth` composed attention layers gets
 * kappa = 24 + 8 (depth - 1). */
#define VERDICT_EXACT_KAPPA 24
#define VERDICT_KAPPA_PER_LAYER 8
int verdict_kappa(int depth);

/* The unit of the exact test, u = S 2^-p rounded down (S = 0 counts as 1:
 * an all-zero output still gets room): a row holds when 0 is in E and
 * hi(E) <= 2^kappa u.  Reports show log2(hi(E) / u), the bits of slack used. */
void verdict_exact_unit(mpfr_t u, const mpfr_t S, mpfr_prec_t prec);
/* Exact identity: holds / violated (0 excluded) / inconclusive. */
verdict_t verdict_exact(const arb_t E, const mpfr_t S, mpfr_prec_t prec, int depth);
/* Inequality E <= bound: holds when hi(E) <= lo(bound), violated when
 * lo(E) > hi(bound), else inconclusive (also when either is not finite). */
verdict_t verdict_bound(const arb_t E, const arb_t bound);

#endif
