/* The verdicts of claims.md and the resolution rule (the error metric E is errmetric.c). */
#include <limits.h>
#include <string.h>
#include "verdict.h"

const char *verdict_name(verdict_t v)
{
    switch (v) {
    case VERDICT_HOLDS: return "holds";
    case VERDICT_VIOLATED: return "violated";
    case VERDICT_VACUOUS: return "vacuous";
    default: return "inconclusive";
    }
}

const char *verdict_word(verdict_t v, int mutated, int exact_rule)
{
    if (mutated && v == VERDICT_HOLDS)
        return exact_rule ? "not detected at this resolution" : "not detected";
    if (mutated && v == VERDICT_VACUOUS)
        return "not detected (vacuous bound)";
    return verdict_name(v);
}

long verdict_param_bits(int n, const char *const *names, const char *const *values)
{
    long bits = 0;
    mpfr_t t;
    mpfr_init2(t, 64);
    for (int k = 0; k < n; k++) {
        if (strcmp(names[k], "seed") == 0 || strcmp(names[k], "prec") == 0)
            continue;
        char *end;
        mpfr_clear_flags();
        mpfr_strtofr(t, values[k], &end, 10, MPFR_RNDN);
        if (*end || !*values[k])
            continue; /* not a number: a shape, a name */
        if (mpfr_underflow_p() && mpfr_zero_p(t)) {
            bits = LONG_MAX; /* below 2^emin: beyond any precision */
            break;
        }
        if (!mpfr_regular_p(t))
            continue;
        /* |t| >= 2^(e-1), so -log2 |t| <= 1 - e */
        long e = (long)mpfr_get_exp(t);
        if (1 - e > bits)
            bits = 1 - e;
    }
    mpfr_clear(t);
    return bits;
}

long verdict_resolve_prec(int depth, long param_bits, long instance_bits)
{
    long p = verdict_kappa(depth) + VERDICT_RESOLVE_MARGIN;
    if (param_bits > LONG_MAX - p)
        return LONG_MAX;
    p += param_bits;
    if (instance_bits > LONG_MAX - p)
        return LONG_MAX;
    return p + (instance_bits > 0 ? instance_bits : 0);
}

int verdict_kappa(int depth)
{
    return VERDICT_EXACT_KAPPA + VERDICT_KAPPA_PER_LAYER * (depth > 1 ? depth - 1 : 0);
}

void verdict_exact_unit(mpfr_t u, const mpfr_t S, mpfr_prec_t prec)
{
    mpfr_set(u, S, MPFR_RNDD); /* rounded down so the test never passes too easily */
    if (mpfr_zero_p(u))
        mpfr_set_ui(u, 1, MPFR_RNDD);
    mpfr_mul_2si(u, u, -(long)prec, MPFR_RNDD);
}

verdict_t verdict_exact(const arb_t E, const mpfr_t S, mpfr_prec_t prec, int depth)
{
    if (!arb_is_finite(E))
        return VERDICT_INCONCLUSIVE; /* nothing is known */
    if (arb_is_positive(E))
        return VERDICT_VIOLATED; /* 0 excluded: a certified counterexample */
    if (!mpfr_number_p(S))
        return VERDICT_INCONCLUSIVE; /* an infinite scale would certify anything */
    mpfr_t lim;
    arb_t L;
    mpfr_init2(lim, 64);
    arb_init(L);
    /* S * 2^(kappa - p), rounded down so the test never passes too easily */
    verdict_exact_unit(lim, S, prec);
    mpfr_mul_2si(lim, lim, verdict_kappa(depth), MPFR_RNDD); /* exact: a power of two */
    arf_set_mpfr(arb_midref(L), lim); /* exact: a point */
    /* every point of E <= lim (false when E is not finite) */
    verdict_t v = ival_le(E, L) ? VERDICT_HOLDS : VERDICT_INCONCLUSIVE;
    arb_clear(L);
    mpfr_clear(lim);
    return v;
}

verdict_t verdict_bound(const arb_t E, const arb_t bound)
{
    /* every point of E against every point of the bound; false when not finite */
    if (ival_le(E, bound))
        return VERDICT_HOLDS;
    if (ival_gt(E, bound))
        return VERDICT_VIOLATED;
    return VERDICT_INCONCLUSIVE;
}

verdict_t verdict_floor(const arb_t E, const arb_t bound)
{
    if (arf_is_pos_inf(arb_midref(bound)) && arb_is_finite(E))
        return VERDICT_VIOLATED; /* no finite E is above +inf */
    if (ival_le(bound, E))
        return VERDICT_HOLDS;
    if (ival_gt(bound, E))
        return VERDICT_VIOLATED;
    return VERDICT_INCONCLUSIVE;
}

verdict_t verdict_bound_trivial(const arb_t E, const arb_t bound, const arb_t trivial)
{
    verdict_t v = verdict_bound(E, bound);
    if (v != VERDICT_HOLDS)
        return v;
    if (arf_is_pos_inf(arb_midref(bound)))
        return VERDICT_VACUOUS; /* above every number */
    /* the bound is certainly no smaller than what the triangle inequality gives */
    if (trivial && arb_is_finite(trivial) && ival_le(trivial, bound))
        return VERDICT_VACUOUS;
    return VERDICT_HOLDS;
}
