/* The shipped fits of silusum.h: numerators over 2^bits (exact), from
 * silusum_fit_table(phi, 8, 10, 8) (`attncheck activation --name NAME
 * --heads 8 --refit`); the comment is the estimate of the gap then. */
#include <math.h>
#include <string.h>
#include "silusum.h"

typedef struct {
    const char *act;
    int m, bits;
    long long c[SILUSUM_SHIPPED_M], a[SILUSUM_SHIPPED_M];
} shipped_t;

static const shipped_t shipped[] = {
#include "silusum_table.inc"
};

int silusum_shipped(silusum_t *fit, const char *act, int m)
{
    for (size_t k = 0; k < sizeof shipped / sizeof *shipped; k++) {
        const shipped_t *s = shipped + k;
        if (strcmp(s->act, act) != 0 || s->m != m)
            continue;
        memset(fit, 0, sizeof *fit);
        fit->m = m;
        fit->bits = s->bits;
        fit->L = SILUSUM_SHIPPED_L;
        long long sum = 0;
        for (int j = 0; j < m; j++) {
            /* exact: numerators below 2^53 */
            fit->c[j] = ldexp((double)s->c[j], -s->bits);
            fit->a[j] = ldexp((double)s->a[j], -s->bits);
            sum += s->c[j];
        }
        if (sum != 1LL << s->bits)
            return -1; /* sum c_j = 1 is what the tails need */
        act_t phi;
        char err[160];
        if (act_init_name(&phi, act, err, sizeof err, 64) != 0)
            return -1;
        fit->gap_d = silusum_gap_d(&phi, fit);
        act_clear(&phi);
        return 0;
    }
    return -1;
}

int silusum_get(silusum_t *fit, int *is_shipped, const act_t *phi, int m, double L,
                double a_max)
{
    const char *kind = silusum_tail_kind(phi);
    *is_shipped = kind && L == SILUSUM_SHIPPED_L && a_max == SILUSUM_SHIPPED_A_MAX &&
                  silusum_shipped(fit, kind, m) == 0;
    if (*is_shipped)
        return 0;
    silusum_t fits[SILUSUM_MAX_HEADS];
    if (m < 1 || m > SILUSUM_MAX_HEADS || silusum_fit_table(fits, phi, m, L, a_max) != 0)
        return -1;
    *fit = fits[m - 1];
    return 0;
}
