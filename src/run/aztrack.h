/* The instance part of the resolution rule (verdict.h): an upper bound of
 * max |a z| over the SiLU_a pre-activations z an evaluation meets, recorded
 * by the activation as it runs (safe for concurrent calls), and the bits it
 * asks of a row. */
#ifndef ATTNCHECK_AZTRACK_H
#define ATTNCHECK_AZTRACK_H

#include <pthread.h>
#include "row.h"

typedef struct {
    arb_srcptr a;
    pthread_mutex_t lock;
    double max_az;        /* an upper bound of max |a z| seen (+inf: some a z not finite) */
} az_track_t;

void az_track_init(az_track_t *t, const arb_t a);
void az_track_clear(az_track_t *t);
/* Record |a z| for one input z. */
void az_track_note(az_track_t *t, const arb_t z);
/* r->resolve_bits = ceil(2 log2(e) max_az) (+1 for the doubles' rounding): a
 * token's output can be e^(-|a z|) below the largest (its weight on self),
 * and a break can move it by a relative e^(-|a z|) only (when its
 * first-order change cancels), so e^(-2 |a z|) is resolved; -1 (more
 * precision first) when max_az is not finite. */
void az_track_resolve_bits(row_t *r, double max_az);

#endif
