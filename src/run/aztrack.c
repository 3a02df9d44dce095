/* The largest |a z| an evaluation meets, for the resolution rule. */
#include <math.h>
#include "aztrack.h"

void az_track_init(az_track_t *t, const arb_t a)
{
    t->a = a;
    t->max_az = 0;
    pthread_mutex_init(&t->lock, NULL);
}

void az_track_clear(az_track_t *t)
{
    pthread_mutex_destroy(&t->lock);
}

void az_track_note(az_track_t *t, const arb_t z)
{
    arb_t az;
    arb_init(az);
    arb_mul(az, z, t->a, 30);
    /* |a z| at its larger end, in doubles rounded outward by ival_*_d */
    double m = arb_is_finite(az) ? fabs(ival_hi_d(az)) : INFINITY;
    double lo = arb_is_finite(az) ? fabs(ival_lo_d(az)) : INFINITY;
    if (lo > m)
        m = lo;
    arb_clear(az);
    pthread_mutex_lock(&t->lock);
    if (!(m <= t->max_az))
        t->max_az = m;
    pthread_mutex_unlock(&t->lock);
}

void az_track_resolve_bits(row_t *r, double max_az)
{
    double bits = ceil(2 * max_az * 1.4426950408889634) + (max_az > 0);
    r->resolve_bits = !isfinite(bits) ? -1 : bits < 1e15 ? (long)bits : 1000000000000000L;
}
