/* Distances between two outputs Y and Z (rows [row0, row0 + rows),
 * columns [0, cols) of both), as certified enclosures: the error metric E
 * every claim is judged by, the trivial bound, and the scale S of an output. */
#ifndef ATTNCHECK_ERRMETRIC_H
#define ATTNCHECK_ERRMETRIC_H

#include "imat.h"

/* E = max_i ||Y_i - Z_i||_2 and the largest |Y_ij - Z_ij|, as enclosures,
 * over rows [row0, row0 + rows) and columns [0, cols) of both matrices. */
void error_metric(arb_t E, arb_t E_abs, const imat_t Y, const imat_t Z,
                  long row0, long rows, long cols, mpfr_prec_t prec);

/* The trivial bound of an error between two outputs: the largest E the
 * triangle inequality allows, max_i (||Y_i||_2 + ||Z_i||_2) over rows
 * [row0, row0 + rows) and columns [0, cols), an enclosure. */
void error_trivial_bound(arb_t T, const imat_t Y, const imat_t Z, long row0, long rows, long cols,
                         mpfr_prec_t prec);

/* Largest upper end of |Y| over rows [row0, row0+rows), rounded up. */
void scale_of(mpfr_t S, const imat_t Y, long row0, long rows, long cols);

#endif
