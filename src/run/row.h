/* One row of a claim's grid: its parameters, what the claim's run
 * measured (certified enclosures) and the runner's verdict.  A leaf type:
 * it knows balls and verdicts, nothing of networks, formats or writers. */
#ifndef ATTNCHECK_ROW_H
#define ATTNCHECK_ROW_H

#include <stddef.h>
#include "ball.h"
#include "verdict.h"

/* ---- parameters of one row: ordered name=value strings ---- */
#define PARAM_MAX 16
typedef struct {
    int n;
    const char *name[PARAM_MAX];
    const char *value[PARAM_MAX];
    const void *ctx;   /* the claim's run-time data (claim_t.ctx), or NULL */
} params_t;

const char *params_get(const params_t *p, const char *name); /* NULL if absent */
/* Parsed getters; each returns 0 on success, -1 when absent or malformed. */
int params_get_long(long *out, const params_t *p, const char *name);
/* An enclosure of the decimal value (exact when dyadic and prec suffices). */
int params_get_ival(arb_t out, const params_t *p, const char *name, mpfr_prec_t prec);
double params_get_double(const params_t *p, const char *name, double dflt);

/* ---- one named extra column of a row ---- */
#define ROW_MAX_EXTRA 12
typedef struct {
    const char *name;   /* static string */
    int is_ival;        /* 1: enclosure in iv; 0: text in str */
    arb_t iv;
    char str[128];
} column_t;

/* ---- one row: inputs set by the runner, the rest by the module ---- */
typedef struct {
    params_t params;
    const char *sweep;    /* label of the sweep the row came from */
    unsigned long seed;
    mpfr_prec_t prec;     /* working precision of this evaluation */
    mpfr_prec_t prec_requested; /* the precision asked for (the prec axis, or the start) */
    int mutation;         /* 0 = the claimed construction, k = mutations[k-1] */
    const void *ctx;      /* the claim's run-time data (claim_t.ctx; also params.ctx) */

    /* filled by the module */
    arb_t error;          /* E, certified */
    arb_t error_abs;      /* largest |entry| of the difference, certified */
    arb_t bound;          /* inequality claims: the claimed bound */
    mpfr_t scale;         /* exact claims: S, largest output magnitude (rounded up) */
    int has_bound;
    int bound_is_floor;   /* the claim is E >= bound (a floor), not E <= bound */
    int depth;            /* exact claims: composed attention layers (sets kappa); 0 = 1 */
    int exact_identity;   /* a row of a non-exact claim that checks an exact identity:
                             judged like an exact claim's row (0 excluded = violated) */
    long resolve_bits;    /* exact rule: bits the instance needs beyond kappa + margin +
                             param bits to resolve its parameters (verdict.h), e.g.
                             2 log2(e) max |a z|; 0 when none; -1 when it could not be
                             measured at this precision (the runner doubles it) */
    arb_t trivial;        /* bound rows: the trivial bound (error_trivial_bound), */
    int has_trivial;      /* when set; a bound at or above it is vacuous */
    int n_extra;
    column_t extra[ROW_MAX_EXTRA];
    char note[160];       /* module's failure message, if any */

    /* filled by the runner */
    verdict_t verdict;
    long prec_needed;     /* exact rule: the working precision the resolution rule asked
                             for (0: the rule did not apply) */
    int raised_after_prediction; /* 1: the rule asked more than the row was first evaluated
                             at (the claim's prediction, if any, was short): run again */
} row_t;

/* The extra column called name, or NULL. */
const column_t *row_find_column(const row_t *r, const char *name);
/* Add an extra column (the name must be a static string). */
arb_ptr row_add_ival(row_t *r, const char *name);
void row_add_text(row_t *r, const char *name, const char *fmt, ...);
void row_add_long(row_t *r, const char *name, long v);

#endif
