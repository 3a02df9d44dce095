/* libFuzzer target for the --expr parser: any byte string must be either
 * rejected with a message naming a position, or parsed into a tree that
 * evaluates (as an enclosure, its derivative, and at a point) without crashing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <mpfr.h>
#include <mpfi.h>
#include "expr.h"
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
    mpfi_t x, y, yd;
    mpfr_t p, q;
    mpfi_init2(x, 64);
    mpfi_init2(y, 64);
    mpfi_init2(yd, 64);
    mpfr_init2(p, 64);
    mpfr_init2(q, 64);
    static const double boxes[][2] = {{-2, 3}, {0.5, 0.75}, {-1e3, -1e-3}, {0, 0}};
    for (size_t k = 0; k < sizeof boxes / sizeof boxes[0]; k++) {
        mpfi_interv_d(x, boxes[k][0], boxes[k][1]);
        expr_eval_ival(y, e, x);
        expr_eval_dival(yd, e, x);
        /* The point value at a point of the box must lie in the enclosure. */
        mpfr_set_d(p, boxes[k][0], MPFR_RNDN);
        mpfi_t xp, yp;
        mpfi_init2(xp, 64);
        mpfi_init2(yp, 64);
        mpfi_set_fr(xp, p);
        expr_eval_ival(yp, e, xp);
        if (special_ival_is_finite(y) && special_ival_is_finite(yp) &&
            (mpfr_less_p(&yp->left, &y->left) && mpfr_less_p(&yp->right, &y->left)))
            abort(); /* the point enclosure lies wholly below the box enclosure */
        if (special_ival_is_finite(y) && special_ival_is_finite(yp) &&
            (mpfr_greater_p(&yp->left, &y->right)))
            abort(); /* ... or wholly above it */
        mpfi_clear(xp);
        mpfi_clear(yp);
        expr_eval_fr(q, e, p, MPFR_RNDN);
    }
    (void)expr_text(e);
    mpfi_clear(x);
    mpfi_clear(y);
    mpfi_clear(yd);
    mpfr_clear(p);
    mpfr_clear(q);
    expr_free(e);
    free(text);
    mpfr_free_cache();
    return 0;
}
