/* The one header that includes Arb (FLINT's ball arithmetic).  FLINT 3 ships
 * it as <flint/arb.h>; Debian bookworm's libflint-arb-dev as <arb.h>.  The
 * Makefile finds out which and defines ATTNCHECK_FLINT3 for the former; no
 * other file includes an Arb header.  GMP and MPFR come along: MPFR stays the
 * plain-point oracle and the type of correctly rounded points. */
#ifndef ATTNCHECK_BALL_H
#define ATTNCHECK_BALL_H

#include <gmp.h>
#include <mpfr.h>
#ifdef ATTNCHECK_FLINT3
#include <flint/arb.h>
#include <flint/arb_mat.h>
#include <flint/arb_hypgeom.h>
#else
#include <arb.h>
#include <arb_mat.h>
#include <arb_hypgeom.h>
#endif

#endif
