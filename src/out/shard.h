/* Sharded runs for a cluster.  `verify --shard K/N` runs the rows k = K,
 * K + N, K + 2N, ... of every claim's grid (round-robin over the row index:
 * the costly rows, which a sweep's axes repeat periodically, spread over
 * the shards) and writes their results to DIR/partial.json: every row whole
 * and exact (balls as arb_dump_str writes them, MPFR points in exact
 * hexadecimal), with the run they belong to and each grid's row count.
 * `merge` reads a complete set of shards back into the rows of the
 * unsharded run, and the same writers make the same reports, byte for byte. */
#ifndef ATTNCHECK_SHARD_H
#define ATTNCHECK_SHARD_H

#include "report.h"

#define SHARD_FILE "partial.json"
#define SHARD_COUNT_MAX 1000000L
#define SHARD_MAX_IDS 64

/* A partial file's digest: "sha256:" and 64 hexadecimal digits. */
#define SHARD_DIGEST_HEX 71
/* merge --recheck's default: rows recomputed per shard */
#define SHARD_RECHECK_DEFAULT 2

/* "K/N" with 0 <= K < N <= SHARD_COUNT_MAX, decimal digits only; 0 on
 * success. */
int shard_parse(long *index, long *count, const char *s);

/* Write the rows of a sharded run (reps from runner_run_claim with
 * run->options->shard_count set) to outdir/partial.json.  0, or an exit
 * code (70, 73, 74) with err. */
int shard_write(const claim_report_t *reps, int n, const report_run_t *run, const char *outdir,
                char *err, size_t errsz);

/* The run a set of shards records, as its command line gave it (the
 * strings point into the set; options not recorded are at their defaults). */
typedef struct {
    const char *verb;
    const char *ids[SHARD_MAX_IDS];
    int n_ids;
    int mutate;
    const char *mutate_name;
    const char *arith, *accumulate, *order; /* the float twin's names (NULL: none) */
    run_options_t options;
    /* verb "model": the recorded arguments and the model file's sha256 */
    const char *model_args[SHARD_MAX_IDS];
    int n_model_args;
    const char *model_sha256;
} shard_run_t;

typedef struct shard_set shard_set_t;

/* Read dirs[k]/partial.json for every k, and check that they are shards
 * 0 .. N-1 of one run, made by this attncheck with these libraries: each
 * exactly once, none missing.  0 with *set and *run; 75 when a run still
 * holds one of the directories; 65 with err when a file is missing,
 * malformed, of another run, or larger than max_memory allows. */
int shard_set_read(shard_set_t **set, shard_run_t *run, char *const *dirs, int n_dirs,
                   double max_memory, char *err, size_t errsz);
/* Check that the shards record exactly this run (its canonical command) and
 * the reports it selects, claims[k] with mutations[k].  0, or -1 with err. */
int shard_set_check(const shard_set_t *set, const report_run_t *run,
                    const claim_t *const *claims, const int *mutations, int n, char *err,
                    size_t errsz);
/* Report k of the run: the grid of claim c under o (o->mutation set), each
 * row read from its shard and checked against the grid, then the verdicts
 * counted and the fits and summary made as an unsharded run makes them;
 * rep->seconds is the shards' time summed.  0, or -1 with err. */
int shard_set_fill(claim_report_t *rep, shard_set_t *set, int k, const claim_t *c,
                   const run_options_t *o, char *err, size_t errsz);
/* The digest of a partial file's document: sha256 of the document without
 * its "digest" member, dumped with sorted keys and compact separators.
 * 0, or -1 out of memory. */
int shard_digest(char hex[SHARD_DIGEST_HEX + 1], const json_t *doc);
/* Draw the rows shard_set_fill recomputes with the runner and compares with
 * the stored ones (the verdict equal, every enclosure overlapping): per_shard
 * rows of each shard (all of them when it holds fewer, or per_shard < 0; none
 * for 0), by a draw seeded from the shards' digests, so that one set of
 * files always draws the same rows. */
void shard_set_recheck(shard_set_t *set, long per_shard);
/* N, the number of shards. */
long shard_set_count(const shard_set_t *set);
/* For a run's journal (journal.h): a row as a partial file holds it, the
 * options that determine the numbers, an empty set that only keeps the
 * extra column names of rows read back, and a row read back into grid row r
 * (its grid point checked, its verdict judged again): 0, or -1 with what. */
json_t *shard_row_json(const row_t *r, long index);
json_t *shard_options_json(const report_run_t *run);
shard_set_t *shard_names_new(void);
int shard_row_load(row_t *r, const json_t *j, shard_set_t *names, claim_kind_t kind, char *what,
                   size_t n);
/* Free the set (after the reports made from it are cleared). */
void shard_set_free(shard_set_t *set);

#endif
