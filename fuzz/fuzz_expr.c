/* libFuzzer target for the --expr parser: any byte string must be either
 * rejected with a message naming a position, or parsed into a tree that
 * evaluates (as a ball enclosure, its derivative, its Taylor series, and at
 * a point) without crashing; the point enclosure meets the box enclosure,
 * and the series' value over the box meets both. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "expr.h"
#include "imat.h"
#include "special.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char err[256];
    expr_t *e = expr_parse(text, err, sizeof err);
    if (!e) {
        /* Every rejection names a position or a limit. */
        if (strncmp(err, "expression: ", 12) != 0)
            abort();
        free(text);
        return 0;
    }
    arb_t x, y, yd, xp, yp;
    arb_ptr ys = _arb_vec_init(4);
    mpfr_t lo, hi, q;
    arb_init(x);
    arb_init(y);
    arb_init(yd);
    arb_init(xp);
    arb_init(yp);
    mpfr_inits2(64, lo, hi, q, (mpfr_ptr)0);
    static const double boxes[][2] = {{-2, 3}, {0.5, 0.75}, {-1e3, -1e-3}, {0, 0}};
    for (size_t k = 0; k < sizeof boxes / sizeof boxes[0]; k++) {
        mpfr_set_d(lo, boxes[k][0], MPFR_RNDN);
        mpfr_set_d(hi, boxes[k][1], MPFR_RNDN);
        ival_set_interval_fr(x, lo, hi, 64);
        expr_eval_ival(y, e, x, 64);
        expr_eval_dival(yd, e, x, 64);
        expr_eval_series(ys, e, x, 4, 64);
        /* The enclosure at a point of the box must meet the box's enclosure,
         * and the series' value over the box (an enclosure of f there too). */
        ival_set_fr(xp, lo);
        expr_eval_ival(yp, e, xp, 64);
        if (arb_is_finite(y) && arb_is_finite(yp) && !arb_overlaps(y, yp))
            abort();
        if (arb_is_finite(ys) && arb_is_finite(yp) && !arb_overlaps(ys, yp))
            abort();
        expr_eval_fr(q, e, lo, MPFR_RNDN);
    }
    (void)expr_text(e);
    const char *consts[8];
    int nc = expr_constants(consts, 8, e);
    for (int k = 0; k < nc && k < 8; k++)
        if (!consts[k] || !*consts[k])
            abort();
    arb_clear(x);
    arb_clear(y);
    arb_clear(yd);
    arb_clear(xp);
    arb_clear(yp);
    _arb_vec_clear(ys, 4);
    mpfr_clears(lo, hi, q, (mpfr_ptr)0);
    expr_free(e);
    free(text);
    mpfr_free_cache();
    flint_cleanup();
    return 0;
}
