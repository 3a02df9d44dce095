/* The restricted class of activations: members of G0 and
 * G1, exact membership with a witness, best members found in doubles with a
 * certified sup gap, and the one-head construction.  Used by the claim and
 * by `attncheck activation` without --target. */
#ifndef ATTNCHECK_ACTCLASS_H
#define ATTNCHECK_ACTCLASS_H

#include "act.h"
#include "attn.h"
#include "supnorm.h"

/* Bits of the dyadic random tokens of the head check. */
#define AC_WEIGHT_BITS 4

/* A member in G1 form: f(z) = (g z + g0) sigma(Q) + c (1 - sigma(Q)),
 * Q = (al z + a0)(be z + be0).  G0 members have g0 = a0 = 0.  Each
 * parameter is text in the expression language (exact: an integer over a
 * power of two, or a decimal such as a's). */
enum { AC_G, AC_G0, AC_AL, AC_A0, AC_BE, AC_B0, AC_C, AC_NPAR };
typedef struct {
    char txt[AC_NPAR][48];
    double v[AC_NPAR];
    char show[AC_NPAR][96]; /* the value exactly as certified ("1.702 = 851/500"), or ""
                               where only an estimate is known */
} ac_member_t;

typedef enum { AC_EXACT, AC_NOT_MEMBER, AC_BEST, AC_WITNESS_FAILS } ac_status_t;

typedef struct {
    ac_status_t status;
    ac_member_t m;
    char verdict[480];   /* "exact member (witness ...)", "not a member (proof: ...)", ... */
    char params[400];    /* the member's parameters, readable */
    arb_t gap;          /* certified sup |phi - member| on [-L, L] */
    long boxes;
    int pointwise_ok;    /* exact members: pointwise enclosures contain 0, shrink */
    double pw_hi[2];     /* largest pointwise hi at prec and prec + 64 */
} ac_result_t;

#define AC_L 10.0
/* Exact membership: lo(gap) = 0 and hi(gap) <= AC_MEMBER_TOL, the absolute
 * floor Taylor bounds of order AC_TAYLOR_ORDER reach on [-10, 10] for equal
 * functions within AC_MEMBER_BOXES boxes. */
#define AC_MEMBER_TOL 1e-30
#define AC_MEMBER_BOXES 20000
#define AC_TAYLOR_ORDER 12
/* A user function's best member is tried as exact when its estimated gap
 * is below this, with each parameter replaced by the nearest exact
 * candidate within AC_CANDIDATE_TOL (relative to max(1, |v|)): the
 * expression's own decimal constants and simple multiples of them,
 * integers, and fractions p/q with q <= AC_CANDIDATE_DEN. */
#define AC_TRY_EXACT_BELOW 1e-6
#define AC_CANDIDATE_TOL 1e-4
#define AC_CANDIDATE_DEN 1000

/* Best members are searched with every parameter in [-AC_NM_BOUND, AC_NM_BOUND]. */
#define AC_NM_BOUND 64.0

/* Set parameter k of m to x snapped to a multiple of 2^-20 (exact text). */
void ac_member_set(ac_member_t *m, int k, double x);

void ac_result_init(ac_result_t *r, mpfr_prec_t prec);
void ac_result_clear(ac_result_t *r);

/* Classify phi in G0 (res[0]) and G1 (res[1]).  builtin: registry name, whose
 * row gives the witness and the proof (NULL for an expression).  param_txt: the
 * parameter of silu_a / elu as text (NULL: none).  mutate_witness adds 1 to
 * every witness's c (a mutation). */
void ac_classify(ac_result_t res[2], const act_t *phi, const char *builtin,
                 const char *param_txt, int mutate_witness, mpfr_prec_t prec);

/* Non-membership by a certified kink: at a point z0 = k 2^-AC_KINK_BITS
 * inside (-L, L) where phi's formula has a tie (a min, max or abs), its
 * one-sided Taylor coefficients (expr_eval_jet) of some order <=
 * AC_KINK_ORDER are disjoint enclosures, so phi is not C^j at z0; or,
 * between two such points, one node's two sides cross once (strictly
 * monotone difference, branches differing at the ends, bisected to 2^-40)
 * and the two branches' derivative enclosures over the bracket are
 * disjoint.  Every member of G0 and G1 is analytic on the whole line, so
 * none equals phi on [-L, L].  Points, then brackets, are tried from 0
 * outward.  1 with the proof in why, 0 when none is found (which proves
 * nothing). */
#define AC_KINK_BITS 6
#define AC_KINK_ORDER 7
int ac_kink_proof(char *why, size_t n, const act_t *phi, double L, mpfr_prec_t prec);

/* An act_t for the member (an expression). 0 or -1. */
int ac_member_act(act_t *f, const ac_member_t *m, mpfr_prec_t prec);

/* The head of internal dimension 1, mask B (mask I when self_mask), built
 * from the member on random tokens (d = 3, n tokens, seeded); E between its
 * output on the real tokens and phi(z_i) u (or the formula with the member's
 * parameters when phi is NULL); the bias key kappa is used as given (the
 * formula's Q uses be0 - kappa).  cls 0: stream [x, bias]; 1: [x, 1, bias].
 * S gets the largest output magnitude.  formula_mut: 1 drops kappa from the
 * formula, 2 swaps the roles of sigma(Q) and 1 - sigma(Q).  zmax: hi |z|.
 * trivial (or NULL): the trivial bound of E (error_trivial_bound). */
void ac_head_check(arb_t E, arb_ptr trivial, mpfr_t S, mpfr_t zmax, const ac_member_t *m,
                   const arb_t kappa,
                   int cls, const act_t *phi, int self_mask, int formula_mut, long n,
                   unsigned long seed, mpfr_prec_t prec);

/* One-line readable form of a member ("g=1, c=-1, Q=2z"); the exact values
 * (m->show) where they are known. */
void ac_member_str(char *buf, size_t n, const ac_member_t *m, int cls);

#endif

/* ---- regression baseline (tests/activation_baseline.tsv) ---- */
/* Columns: name, then for G0 and G1: status word, gap lo, gap hi. */
#define AC_BASELINE_HEADER "# activation\tG0\tG0_gap_lo\tG0_gap_hi\tG1\tG1_gap_lo\tG1_gap_hi"
/* Baseline precision; every built-in of the registry has a line, in its order. */
#define AC_BASELINE_PREC 128
/* The spec the baseline pins for a built-in ("silu_a:1.702", "gelu"). */
void ac_baseline_spec(char *buf, size_t n, const act_info_t *info);
/* Classify `spec` (a built-in "elu:0.5" or an expression) and write its
 * baseline line (no newline); -1 when spec is neither. */
int ac_baseline_line(char *buf, size_t n, const char *spec, mpfr_prec_t prec);
/* Compare a stored line with a fresh one: 0 when the statuses agree and each
 * fresh gap enclosure lies inside the stored one widened by AC_BASELINE_RELTOL
 * (relative); else -1 with every change, in one line naming the activation, in msg. */
#define AC_BASELINE_RELTOL 1e-3
int ac_baseline_compare(const char *stored, const char *fresh, char *msg, size_t msgsz);
/* 1 when line has a baseline line's fields: a function, then for G0 and G1
 * a status word (ac_status_word) and two gap ends that are whole numbers. */
int ac_baseline_wellformed(const char *line);
const char *ac_status_word(ac_status_t s);
