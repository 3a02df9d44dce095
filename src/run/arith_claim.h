/* The float-format twin of a claim that builds a network (--arith FORMAT):
 * a claim of its own, with the base claim's grid, whose row builds the base
 * claim's instance for the row's parameters (export_instance) and runs its
 * converted network and the original computation it stands for in the
 * format (fpnet.h), and asks: is the converted network in the format as
 * good as the original computation in the format, same rounding model and
 * summation order?  With
 *   E_conv = the converted network in F against the exact reference (the
 *            exact original output), on the original's output block,
 *   E_orig = the original computation in F against the same reference,
 *   floor  = the grid floor of the exact output (fpnet_grid_floor): no
 *            F-valued output is closer,
 * the row holds when E_conv <= 2 E_orig + floor and is violated when
 * lo(E_conv) > hi(2 E_orig + floor); otherwise inconclusive.  A claim whose
 * instance gives no original (orig) but a network with explicit masks
 * (net_masked) has that network as its original; one with neither has
 * E_orig = floor (the best any F-valued output does), and says so. */
#ifndef ATTNCHECK_ARITH_CLAIM_H
#define ATTNCHECK_ARITH_CLAIM_H

#include "claim.h"
#include "fpformat.h"

typedef struct {
    claim_t claim;            /* hand &claim to the runner; claim.ctx points here */
    const claim_t *base;
    fpf_arith_t ar;
    char id[96], source[96], statement[256], formula[2048], notes[512], plot_title[160];
} arith_claim_t;

/* Make w the twin of base in ar.  0, or -1 with err when base builds no
 * network (no export_instance).  w must stay in place while it is used. */
int arith_claim_make(arith_claim_t *w, const claim_t *base, const fpf_arith_t *ar, char *err,
                     size_t errsz);

/* The catalogue's section on float twins (markdown, static). */
const char *arith_claim_catalogue_md(void);


#endif
