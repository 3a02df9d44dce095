/* m SiLU heads per neuron: phi(z) ~ S(z) = sum_{j<m} c_j SiLU_{a_j}(z), each term one
 * head of the paper's construction (c_j through W_O, a_j through W_Q).
 *
 * The fit (silusum_fit) is an estimate in doubles: an L_p fit with p raised
 * towards the sup norm (Gauss-Newton with damping), on a grid of [-L, L],
 * each m started from the fit for m - 1 plus one head; its parameters are
 * then rounded to dyadics k 2^-bits (exact in the converted network's
 * weights) with sum_j c_j = 1 exactly: the slope of S at +inf, 0 at -inf,
 * as for ReLU-like activations, so the gap over the whole line can be
 * finite.  What reaches a verdict is silusum_certify's enclosure of the
 * gap of the rounded parameters. */
#ifndef ATTNCHECK_SILUSUM_H
#define ATTNCHECK_SILUSUM_H

#include "act.h"
#include "supnorm.h"

#define SILUSUM_MAX_HEADS 12

typedef struct {
    int m;
    double c[SILUSUM_MAX_HEADS];  /* multiples of 2^-bits, sum exactly 1 */
    double a[SILUSUM_MAX_HEADS];  /* slopes in [SILUSUM_A_MIN, a_max], multiples of 2^-bits */
    int bits;
    double L;                     /* the fit's range [-L, L] */
    double gap_d;                 /* estimate of sup_{|z|<=L} |phi - S| (doubles) */
} silusum_t;

/* Slopes are kept in [SILUSUM_A_MIN, a_max]: a slope floor keeps the tails
 * short; the ceiling is the caller's (ReLU is approached as a -> inf, so
 * without a ceiling its fits run off to infinity). */
#define SILUSUM_A_MIN 0.25

/* Fit m heads to phi on [-L, L] with slopes <= a_max, started from prev (a
 * fit with m - 1 heads) or from scratch (prev NULL).  Deterministic.
 * Returns 0, or -1 when m is out of [1, SILUSUM_MAX_HEADS], L < 1 or
 * a_max < SILUSUM_A_MIN, or phi is not finite on the grid. */
int silusum_fit(silusum_t *fit, const act_t *phi, int m, double L, double a_max,
                const silusum_t *prev);
/* fits[0..M): m = 1..M, each started from the one before. */
int silusum_fit_table(silusum_t *fits, const act_t *phi, int M, double L, double a_max);

/* The shipped fits (silusum_table.c): m = 1..SILUSUM_SHIPPED_M heads for
 * gelu, gelu_tanh and relu, made by silusum_fit_table on [-10, 10] with
 * slopes <= 8 when they were shipped (the same on every machine, unlike a
 * fit in doubles); gap_d is recomputed.  0, or -1 when there is none. */
#define SILUSUM_SHIPPED_L 10.0
#define SILUSUM_SHIPPED_A_MAX 8.0
#define SILUSUM_SHIPPED_M 8
int silusum_shipped(silusum_t *fit, const char *act, int m);
/* What a conversion with m heads per neuron calls: the shipped fit when
 * phi is one of its built-ins and (L, a_max) are the shipped ones, else
 * silusum_fit_table up to m (its last).  *shipped says which. */
int silusum_get(silusum_t *fit, int *shipped, const act_t *phi, int m, double L, double a_max);

/* The sum as an expression of the language (expr.h), every parameter an
 * exact decimal: "1*silu_a(x, 1.7729) + ...".  Returns the length written
 * (truncated like snprintf). */
int silusum_expr_text(char *buf, size_t size, const silusum_t *fit);
/* c_j or a_j as its exact decimal (a dyadic double). */
void silusum_decimal(char *buf, size_t size, double v);
/* The double estimate of S(z). */
double silusum_eval_d(const silusum_t *fit, double z);
/* The double estimate of sup_{|z|<=fit->L} |phi - S| (a grid, maxima refined). */
double silusum_gap_d(const act_t *phi, const silusum_t *fit);

/* A tail argument beyond L is known for phi when it is one of these
 * built-ins: its name, else NULL. */
const char *silusum_tail_kind(const act_t *phi);

typedef struct {
    arb_t gap;      /* encloses sup |phi - S| over the line (tails) or over [-L, L] */
    arb_t gap_in;   /* encloses sup over [-L_cert, L_cert] (branch and bound) */
    arb_t tail;     /* upper bound of |phi - S| for |z| >= L_cert; not finite: none */
    double L_cert;  /* the range of the branch and bound */
    mpfr_t argmax;  /* where |phi - S| >= lo(gap_in) */
    long boxes;
    int converged;  /* the branch and bound met its tolerance */
    int whole_line; /* 1: gap is over the whole line (a tail argument applied) */
} silusum_cert_t;

void silusum_cert_init(silusum_cert_t *c, mpfr_prec_t prec);
void silusum_cert_clear(silusum_cert_t *c);

/* Certify sup |phi - S| for the dyadic fit: branch and bound over
 * [-L_cert, L_cert] (o NULL: defaults with Taylor order 12) and, when
 * silusum_tail_kind(phi) names one, the tail for |z| >= L_cert:
 *   |phi(z) - S(z)| <= L Q(L) + sum_j |c_j| L e^{-a_j L} =: T(L),
 * Q(u) = Phi(-u) (gelu), e^{-2k(u + 0.044715 u^3)}, k = sqrt(2/pi)
 * (gelu_tanh), 0 (relu); valid when sum c_j = 1, L >= 1 and a_j L >= 1
 * (the argument is in silusum.c).  L_cert is the fit's L, raised (to at most
 * 256) until the double estimate of T is below 2^-30 of the fit's gap.
 * Then gap = [lo(gap_in), max(hi(gap_in), hi(T))].  Without a tail argument
 * gap = gap_in over the fit's [-L, L] and whole_line is 0.
 * Returns supnorm's status (0 converged, 1 not), -1 on a bad fit. */
int silusum_certify(silusum_cert_t *c, const act_t *phi, const silusum_t *fit,
                    const supnorm_opts_t *o, mpfr_prec_t prec);

/* The fit as an activation (an expression), for branch and bound. */
int silusum_act(act_t *s, const silusum_t *fit, mpfr_prec_t prec);

#endif
