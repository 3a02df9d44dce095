/* Sweep runner: claim -> grid of rows -> evaluation at precision p ->
 * verdict, with a precision-doubling (Ziv) loop on inconclusive. */
#ifndef ATTNCHECK_RUNNER_H
#define ATTNCHECK_RUNNER_H

#include "claim.h"

#define RUN_MAX_SETS 16
#define PREC_MIN 24
#define PREC_MAX 65536
#define PREC_CAP_DEFAULT 8192

typedef struct {
    int full;
    int seed_set;
    unsigned long seed;
    const char *prec_list;     /* overrides the "prec" axis */
    int mutation;              /* 0: the construction; k: claim->mutations[k-1] */
    int jobs;
    int n_sets;                /* --set NAME=V1,V2 overrides */
    const char *set_name[RUN_MAX_SETS];
    const char *set_values[RUN_MAX_SETS];
    mpfr_prec_t prec_cap;
    int progress;              /* report progress on stderr */
} run_options_t;

#define REPORT_MAX_FITS 32
struct claim_report {
    const claim_t *claim;
    int mutation;
    row_t *rows;
    long n_rows;
    fit_t fits[REPORT_MAX_FITS];
    int n_fits;
    long holds, violated, inconclusive;
    double seconds;
    char *summary;            /* claim's extra markdown, or NULL */
};

void run_options_default(run_options_t *o);
/* Parse a decimal precision in [PREC_MIN, PREC_MAX]; 0 on success. */
int parse_prec(mpfr_prec_t *out, const char *s);
/* Check options against the claim before anything runs: unknown --set axis
 * names, malformed precision lists.  0, or -1 with a message in err. */
int runner_validate(const claim_t *c, const run_options_t *o, char *err, size_t errsz);
/* Run every row of the claim's grid.  0 on success; -1 with err when a row's
 * parameters are rejected by the module (bad input data). */
int runner_run_claim(claim_report_t *rep, const claim_t *c, const run_options_t *o,
                     char *err, size_t errsz);
void claim_report_clear(claim_report_t *rep);
/* Mutation index for a name (NULL: the first); -1 when unknown. */
int claim_mutation_index(const claim_t *c, const char *name);
/* Evaluate one row in place, with the Ziv loop (exposed for tests). */
int runner_eval_row(row_t *r, const claim_t *c, mpfr_prec_t cap);
/* Initialise a row's results at prec (E, bound = 0; no extras), and clear them. */
void row_start(row_t *r, mpfr_prec_t prec);
void row_clear(row_t *r);
/* The rows of the grid (parameters and seeds only); free with runner_free_rows. */
long runner_expand(row_t **rows, const claim_t *c, const run_options_t *o);
void runner_free_rows(row_t *rows, long n);

#endif
