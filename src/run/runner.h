/* Sweep runner: claim -> grid of rows -> evaluation at precision p ->
 * verdict, with a precision-doubling (Ziv) loop on inconclusive. */
#ifndef ATTNCHECK_RUNNER_H
#define ATTNCHECK_RUNNER_H

#include "claim.h"

#define RUN_MAX_SETS 16
#define PREC_MIN 24
#define PREC_MAX 65536
#define PREC_CAP_DEFAULT 8192
/* Limits a run is held to before any work (--max-rows, --max-memory). */
#define RUN_MAX_ROWS_DEFAULT 100000L
#define RUN_MAX_MEMORY_DEFAULT (4.0 * 1024 * 1024 * 1024)

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
    int progress;              /* report progress on stderr (--quiet: 0) */
    int dry_run;               /* --dry-run: print the grid and the estimate, compute nothing */
    int resume;                /* --resume: keep the rows a journal in --out holds */
    long max_rows;             /* refuse a grid of more rows */
    double max_memory;         /* refuse a run whose estimated peak is larger (bytes) */
    long shard_index;          /* --shard K/N: the rows k = K, K + N, K + 2N, ... of */
    long shard_count;          /* each claim's grid (0: the whole grid) */
    double max_seconds;        /* rows not begun after this many seconds are answered
                                  inconclusive, not run (0: no limit) */
    /* A journal of finished rows (journal.h; NULL: none): journal_fill reads
     * the rows it holds for report journal_report into rows (kept[k] = 1 for
     * each; their number, or -1 with err); journal_add appends a finished
     * row (any thread). */
    void *journal;
    int journal_report;
    long (*journal_fill)(void *journal, int report, row_t *rows, long n, unsigned char *kept,
                         char *err, size_t errsz);
    void (*journal_add)(void *journal, int report, const row_t *r, long index);
} run_options_t;

#define REPORT_MAX_FITS 32
struct claim_report {
    const claim_t *claim;
    int mutation;
    row_t *rows;
    long n_rows;
    long not_run;             /* rows --max-seconds left (inconclusive, not computed) */
    fit_t fits[REPORT_MAX_FITS];
    int n_fits;
    long holds, violated, inconclusive, vacuous;
    long raised;              /* rows the resolution rule raised after their first evaluation */
    double seconds;
    char *summary;            /* claim's extra markdown, or NULL */
    char *details_json;       /* a JSON object the .json report carries as "details", or NULL */
    int skipped;              /* the claim could not run here (no rows): */
    char skip_reason[256];    /* why, and what to run */
};

void run_options_default(run_options_t *o);
/* Parse a decimal precision in [PREC_MIN, PREC_MAX]; 0 on success. */
int parse_prec(mpfr_prec_t *out, const char *s);
/* Parse a seed: a decimal integer in [0, ULONG_MAX], no sign; 0 on success. */
int parse_seed(unsigned long *out, const char *s);
/* Check options against the claim before anything runs: unknown --set axis
 * names, values with characters outside letters, digits and . _ : + -,
 * malformed precisions and seeds.  0, or -1 with a message in err. */
int runner_validate(const claim_t *c, const run_options_t *o, char *err, size_t errsz);
/* Rows of a claim's whole grid, whatever the shard (LONG_MAX when more). */
long runner_grid_rows(const claim_t *c, const run_options_t *o);
/* How many of a grid's `total` rows shard K/N runs (all of them when o has
 * no shard). */
long runner_shard_rows(long total, const run_options_t *o);
/* Before any work: the number of rows and an estimate of the peak memory of
 * running these claims (rows kept for the reports, plus `jobs` rows at work,
 * each by its claim's estimate_bytes; jobs 0: the rows are only kept, as in
 * merge); a shard counts its own rows.  0, or -1 with err (the estimate in
 * it) when over o->max_rows or o->max_memory. */
int runner_check_limits(const claim_t *const *claims, int n, const run_options_t *o,
                        char *err, size_t errsz);
/* The row count and an estimate of the peak memory runner_check_limits
 * makes, whatever the limits (peak -1: over ten million rows, not visited). */
void runner_estimate(long *rows, double *peak, const claim_t *const *claims, int n,
                     const run_options_t *o);
/* The names --set takes for the claim's quick or full grid, comma-separated:
 * its axes in order, then seed and prec. */
void runner_param_names(char *buf, size_t n, const claim_t *c, int full);
/* One sub-sweep of a claim's grid as a run sees it: its axes after --set,
 * --seed and --prec, and whether it runs (a sub-sweep that lacks one of the
 * --set axes other than seed and prec does not). */
typedef struct {
    const char *label;        /* the claim's label */
    const char *row_label;    /* the rows' (a grid's own name is "custom" under --set) */
    const char *lacks;        /* NULL: it runs; else a --set axis it has not */
    long rows;                /* 0 when it does not run; LONG_MAX when more */
    int n_axes;
    const char *name[PARAM_MAX];
    const char *values[PARAM_MAX];   /* comma-separated */
    int changed[PARAM_MAX];          /* 1: set by the run, not the claim's */
    char seed[32];
} runner_sweep_t;
/* The sub-sweeps of the grid o selects (at most CLAIM_MAX_SWEEPS); their number. */
int runner_sweeps(runner_sweep_t *out, const claim_t *c, const run_options_t *o);
/* Run every row of the claim's grid (of the shard's part of it).  0 on
 * success; -1 with err when a row's parameters are rejected by the module
 * (bad input data). */
int runner_run_claim(claim_report_t *rep, const claim_t *c, const run_options_t *o,
                     char *err, size_t errsz);
/* Count the rows' verdicts and, over a whole grid (not a shard's part), run
 * the claim's fits and summary: what a run does once its rows are known. */
void runner_finish_claim(claim_report_t *rep, int whole_grid);
void claim_report_clear(claim_report_t *rep);
/* A size in bytes for a message: "512 bytes", "3.2 GiB". */
void runner_format_bytes(char *buf, size_t n, double bytes);
/* Mutation index for a name (NULL: the first); -1 when unknown. */
int claim_mutation_index(const claim_t *c, const char *name);
/* The verdict of an evaluated row at r->prec by its rule: exact (an exact
 * claim, or r->exact_identity; inconclusive when its resolution could not be
 * measured), the bound (r->has_bound; vacuous at or above r->trivial), a
 * table row, or else inconclusive. */
void runner_judge_row(row_t *r, claim_kind_t kind);
/* rep's holds, violated, inconclusive and vacuous from its rows' verdicts. */
void claim_report_count(claim_report_t *rep);
/* Evaluate one row in place (exposed for tests): at the requested precision
 * raised by the resolution rule (exact rows, verdict.h; the parameters
 * first, then once more when the instance asks for more), then the Ziv
 * loop on inconclusive.  -1 with r->note when the parameters are rejected
 * or cannot be resolved within PREC_MAX. */
int runner_eval_row(row_t *r, const claim_t *c, mpfr_prec_t cap);
/* Initialise a row's results at prec (E, bound = 0; no extras), and clear them. */
void row_start(row_t *r, mpfr_prec_t prec);
void row_clear(row_t *r);
/* The rows of the grid, or of the shard's part of it, in grid order
 * (parameters and seeds only); free with runner_free_rows.  -1 (rows NULL)
 * on a seed runner_validate refuses. */
long runner_expand(row_t **rows, const claim_t *c, const run_options_t *o);
void runner_free_rows(row_t *rows, long n);

#endif
