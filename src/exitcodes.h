/* Exit codes of attncheck (design.md; sysexits where one fits). */
#ifndef ATTNCHECK_EXITCODES_H
#define ATTNCHECK_EXITCODES_H

enum {
    EXIT_HOLDS = 0,        /* everything holds */
    EXIT_VIOLATED = 1,     /* something violated */
    EXIT_INCONCLUSIVE = 2, /* inconclusive remains, nothing violated */
    EXIT_USAGE = 64,       /* EX_USAGE: bad flag, unknown claim */
    EXIT_DATAERR = 65,     /* EX_DATAERR: bad number, malformed expression */
    EXIT_SOFTWARE = 70,    /* EX_SOFTWARE: internal error */
    EXIT_CANTCREAT = 73,   /* EX_CANTCREAT: cannot create output */
    EXIT_IOERR = 74        /* EX_IOERR: cannot write output */
};

#endif
