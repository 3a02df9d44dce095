/* Exit codes of attncheck (design.md; sysexits where one fits).
 *
 * Vacuous rows (a bound at or above the trivial one) hold trivially: they
 * are counted apart and change no exit code.
 * The rule for bad input: an unknown command, claim, activation or option,
 * a missing value, or a value of attncheck's own that is malformed or out of
 * its documented range (--prec abc, --seed -1, --set seed=abc, --domain nan,
 * --max-rows 0) is 64; a well-formed value that the claim, the expression
 * parser or the data rejects (--set a=-1, --expr 'x+'), and a grid over
 * --max-rows or --max-memory, is 65. */
#ifndef ATTNCHECK_EXITCODES_H
#define ATTNCHECK_EXITCODES_H

enum {
    EXIT_HOLDS = 0,        /* everything holds */
    EXIT_VIOLATED = 1,     /* something violated */
    EXIT_INCONCLUSIVE = 2, /* inconclusive remains, nothing violated */
    EXIT_UNDETECTED = 3,   /* a --mutate run: some mutated row is not violated (the
                              break went undetected there); a --mutate run whose
                              every row is violated exits EXIT_VIOLATED */
    EXIT_USAGE = 64,       /* EX_USAGE: bad flag or flag value, unknown claim */
    EXIT_DATAERR = 65,     /* EX_DATAERR: a value the claim or the data rejects */
    EXIT_SOFTWARE = 70,    /* EX_SOFTWARE: internal error, out of memory */
    EXIT_CANTCREAT = 73,   /* EX_CANTCREAT: cannot create output */
    EXIT_IOERR = 74,       /* EX_IOERR: cannot write output */
    EXIT_TEMPFAIL = 75     /* EX_TEMPFAIL: output directory locked by another run */
};

/* Stopped by a signal: 128 + the signal number (130 SIGINT, 143 SIGTERM). */
#define EXIT_SIGNAL_BASE 128

#endif
