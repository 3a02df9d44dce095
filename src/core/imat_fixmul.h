/* The integer kernel behind imat_mul for an exact right operand (imat.h);
 * private to imat.c. */
#ifndef ATTNCHECK_IMAT_FIXMUL_H
#define ATTNCHECK_IMAT_FIXMUL_H

#include "imat.h"

/* C = A W (add = 0) or C + A W (add = 1), C not aliasing A or W, when every
 * entry of W that meets a nonzero column of A is a finite point whose
 * column fits 62 bits between its highest and lowest bit: returns 1.
 * Otherwise returns 0 and C is untouched. */
int imat_fixmul_into(imat_t C, const imat_t A, const imat_t W, int add, mpfr_prec_t prec);
/* Its scratch memory in bytes (an estimate). */
double imat_fixmul_bytes(long M, long K, long P, mpfr_prec_t prec);

#endif
