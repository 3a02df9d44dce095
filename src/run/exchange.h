/* The exchange rate of a model's MLPs: how many heads each block's neurons
 * cost, exactly and with a certified error (reduce.h), as a claim built at
 * run time from a model file and run by the one runner.  Rows:
 *   reduce × block      the exact reductions (duplicates, opposites, dead
 *                       relu, silent neurons): the reduced MLP sublayer on
 *                       the original's stream entering it against the
 *                       original's, exact rule (depth 1); columns: the
 *                       floor (neuron heads + linear head), the counts, the
 *                       dead-with-tail count and bound
 *   merge × block × heads  k heads by greedy agglomerative merging
 *                       (reduce_merge_order): E(k) on the data, certified,
 *                       against the certified bound over every LN output
 *                       (with a margin: over the box around the tokens' LN2
 *                       outputs, which holds them; both bounds are columns)
 *   threshold × block   the smallest k on the merge order with E(k) <=
 *                       1e-3 S (S the sublayer output's scale), found by
 *                       bisection: E(k) certified <= 1e-3 S, and E(k - 1)
 *                       in a column (certified above it unless k is 1);
 *                       and the smallest k whose bound over every LN
 *                       output (and over the box) is <= 1e-3 S (columns);
 *                       the whole model's E from that MLP on at the k found,
 *                       and (at most two blocks after it) the smallest k
 *                       with the whole model within 1e-3 of its scale
 * The mutation merges-claimed-exact claims every merge exact (a merge of
 * non-duplicates treated as exact): the reduce rows merge the nearest two
 * classes, and every row is judged by the exact rule. */
#ifndef ATTNCHECK_EXCHANGE_H
#define ATTNCHECK_EXCHANGE_H

#include "claim.h"

typedef struct {
    const char *file;     /* the model (.safetensors) */
    const char *input;    /* the stream entering block 0, or NULL: drawn tokens */
    long tokens;          /* drawn tokens (no input) */
    unsigned long seed;
    const char *blocks;   /* comma-separated block numbers, or NULL: all (at most 6) */
    const char *margin;   /* a decimal >= 0: the box domain around the tokens' LN2 outputs,
                             each coordinate's range widened by it; NULL: no box */
    mpfr_prec_t prec;
} exchange_spec_t;

#define EXCHANGE_MAX_BLOCKS 6
#define EXCHANGE_TOL_REL 1e-3

typedef struct exchange exchange_t;

/* Open the model, read or draw the tokens, compute every chosen block's
 * stream, analysis and merge order, and build the claim.  0, or an exit
 * code with one line in err. */
int exchange_open(exchange_t **x, const exchange_spec_t *s, char *err, size_t errsz);
void exchange_free(exchange_t *x);
const claim_t *exchange_claim(const exchange_t *x);
/* Block b's (an index into the chosen blocks) floor and neurons. */
long exchange_n_blocks(const exchange_t *x);
long exchange_block(const exchange_t *x, long i);
long exchange_floor(const exchange_t *x, long i);
long exchange_neurons(const exchange_t *x);
/* Neuron heads of chosen block i's exact plan (the floor without the linear head). */
long exchange_groups(const exchange_t *x, long i);
/* The threshold row's search for chosen block i at prec: the smallest
 * neuron-group count k found (0 when even the exact plan's E is not
 * certified <= 1e-3 S), in *k_domain (or NULL) the smallest whose bound
 * over every LN output is, and in *k_e2e (or NULL) the smallest whose
 * whole-model output is within 1e-3 of its scale (-1: not searched, more
 * than two blocks follow; -2: a block could not be read); add the linear
 * head (floor - groups) for heads. */
long exchange_threshold(exchange_t *x, long i, mpfr_prec_t prec, long *k_domain, long *k_e2e);

#endif
