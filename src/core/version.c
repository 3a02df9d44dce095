/* attncheck's version and its libraries' (see version.h). */
#include <gmp.h>
#include <jansson.h>
#include <mpfr.h>
#include "ball.h"
#include "version.h"
#include "version_stamp.h" /* ATTNCHECK_VERSION, written by make */

const char *attncheck_version(void)
{
    return ATTNCHECK_VERSION;
}

int attncheck_libraries(library_version_t *out, int max)
{
    /* The arithmetic library is the line to change when the core moves. */
    const library_version_t libs[] = {
        {"GMP", gmp_version},
        {"MPFR", mpfr_get_version()},
        {"FLINT", flint_version},
#ifndef ATTNCHECK_FLINT3
        {"Arb", arb_version}, /* FLINT 3 ships Arb inside: its version is FLINT's */
#endif
        {"jansson", jansson_version_str()},
    };
    int n = 0;
    for (; n < max && n < (int)(sizeof libs / sizeof libs[0]); n++)
        out[n] = libs[n];
    return n;
}
