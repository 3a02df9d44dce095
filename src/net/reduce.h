/* Reductions of one block's MLP (tblock.h) before conversion: fewer neuron
 * heads, exactly or with a certified error.
 *
 * Folding.  With u = LN2(h) = n(h) diag(gamma) + beta (n the LN without
 * gamma and beta), neuron k's pre-activation is
 *     z_k = u . w_k + b_k = n(h) . w'_k + b'_k,  w'_k = gamma o w_k,
 *                                               b'_k = beta . w_k + b_k,
 * exact in Arb (products and sums of doubles at ARF_PREC_EXACT).
 * The domain: every LN output.  n(h) has ||n||_2^2 = d var/(var + eps) < d,
 * and sum_i n_i = 0 when the norm centres (LN, LNPre), so
 *     |z_k - b'_k| <= R_k = sqrt(d) ||P w'_k||_2,  P = I - 11^T/d
 * (P = I for RMS, RMSPre); with no norm the domain is unbounded.
 * Exact reductions, each an identity for every h:
 *   duplicates  (w'_j, b'_j) = (w'_k, b'_k): z_j = z_k, one neuron with
 *               output W_out[j,:] + W_out[k,:];
 *   opposites   (w'_j, b'_j) = -(w'_k, b'_k), phi odd-linear
 *               (phi(z) - phi(-z) = z: SiLU_a, GELU, ReLU):
 *               phi(z_j) W_j = phi(z_k) W_j - z_k W_j, so the pair is one
 *               neuron (output W_k + W_j, none when that is 0) and a linear
 *               term -(u . w_k + b_k) W_j; all linear terms of a block are
 *               one linear head (self-attention with weight exactly 1,
 *               internal dimension their rank);
 *   dead, exact relu with b'_k + R_k <= 0 (phi(z_k) = 0 on the domain;
 *               its opposites keep their linear terms);
 *   silent      W_out[k,:] = 0.
 * Dead with a tail (other activations): b'_k + R_k <= -2 (a label); the
 * neuron's output is at most sup |phi([b'_k - R_k, b'_k + R_k])|
 * ||W_out[k,:]||_2 (one interval evaluation): counted and bounded, not
 * removed (it is not exact).
 * The floor of a block: the neuron heads left (classes with a non-zero
 * output) plus one linear head when there is a linear term. */
#ifndef ATTNCHECK_REDUCE_H
#define ATTNCHECK_REDUCE_H

#include "convert.h"
#include "tblock.h"

typedef struct {
    long d, M;
    int bounded;       /* 1: the domain (all LN outputs) is bounded */
    int centred;       /* 1: n(h) sums to 0 (LN, LNPre) */
    int odd_linear;    /* 1: phi(z) - phi(-z) = z */
    arb_ptr bf;        /* b'_k, exact */
    arb_ptr R;         /* R_k, certified (+inf when unbounded) */
    double *pw;        /* M x d: P w'_k rounded to doubles (clustering only) */
    double *bfd;       /* b'_k rounded */
    double *wout;      /* ||W_out[k,:]||_2 rounded (clustering only) */
    long *cls;         /* exact class: its first neuron */
    int *sgn;          /* z_k = sgn_k z_cls(k) */
    int *dropped;      /* 1: silent; 2: a dead class (relu, its first neuron) */
    int *tail;         /* 1: dead with a tail */
    double *onorm;     /* per class: ||O_c||_2 rounded, O_c = sum of its W_out rows */
    int *ozero;        /* per class: O_c = 0 exactly */
    arb_t tail_bound;  /* sum over tail-dead neurons of |phi(hi)| ||W_out[k,:]||_2 */
    long n_dup, n_opp, n_dead, n_silent, n_tail, n_classes;
    long floor;        /* neuron heads after the exact reductions, + 1 for a linear head */
    int has_linear;
} reduce_info_t;

/* Analyse block B's MLP (not gated; for sigmoid only duplicates and
 * silent neurons apply).  prec: the radii's working precision. */
void reduce_analyse(reduce_info_t *I, const tblock_t *B, const convert_act_t *ca,
                    mpfr_prec_t prec);
void reduce_info_clear(reduce_info_t *I);

/* A plan: every neuron's group (a neuron head), or -1 (dropped). */
typedef struct {
    long M, k;
    long *group;
} reduce_plan_t;
void reduce_plan_clear(reduce_plan_t *p);
/* The exact plan: one group per class with a non-zero output. */
void reduce_plan_exact(reduce_plan_t *p, const reduce_info_t *I);

/* Greedy agglomerative merging of the exact plan's groups: at each step
 * the two groups with the least cost
 *     s_A s_B / (s_A + s_B) * (|b_A - b_B| + sqrt(d) ||P(w_A - w_B)||_2)
 * (s: the sum of ||W_out||_2 of a group's classes; b, Pw: their
 * s-weighted means of the classes' folded values, in doubles) are merged,
 * down to one group.  Nearest neighbours are cached; a group whose
 * neighbour merged is refreshed when it next comes up as the least (a
 * heuristic order: the certification does not depend on it).  order[2 t], order[2 t + 1]: step t merged the second
 * group into the first (exact plan's group ids); n_steps = groups - 1. */
typedef struct {
    long n_groups;  /* of the exact plan */
    long n_steps;
    long *order;
} reduce_merges_t;
void reduce_merge_order(reduce_merges_t *mo, const reduce_info_t *I, const reduce_plan_t *exact);
void reduce_merges_clear(reduce_merges_t *mo);
/* The plan with k groups: the exact plan after its first n_groups - k merges. */
void reduce_plan_budget(reduce_plan_t *p, const reduce_plan_t *exact, const reduce_merges_t *mo,
                        long k);

/* A reduced MLP: y = h + phi(u W_in + b_in) W_out + b_out + u Lin + lin_b,
 * u = LN2(h) (Lin 0 x 0 when there is no linear term). */
typedef struct {
    long k;
    imat_t W_in, b_in, W_out, b_out, Lin, lin_b;
    arb_t domain_bound; /* certified sup over the domain of the output's distance
                           to the original MLP's (+inf when unbounded) */
    arb_t box_bound;    /* the same over the box (reduce_build's box; +inf without one) */
} reduce_mlp_t;

/* The reduced MLP of plan p.  A group whose classes are one class keeps
 * that class's first neuron (w, b) exactly; a merged group gets the
 * s-weighted mean of its classes' (w, b) in original coordinates (doubles,
 * then exact) and output the sum of its neurons' W_out rows; its domain
 * bound is sum over its classes of ||O_c||_2 (1 + 1/e) delta_c, delta_c =
 * sup_domain |z_c - z_group| = |b'_c - b'_g| + sqrt(d) ||P gamma o (w_c - w_g)||_2
 * (1 + 1/e bounds |phi'| for SiLU_a, GELU and ReLU: sigma(t) + t sigma(t)
 * sigma(-t) <= 1 + |t| e^-|t| <= 1 + 1/e, and Phi(z) + z phi(z) <= 1 + phi(1)).
 * exact_claim: the plan's merged groups are claimed exact (a deliberately
 * broken reduction): the domain bound leaves them out.
 * box (1 x d, or NULL): balls enclosing every u = LN2(h) of a second
 * domain, coordinate by coordinate; its bound is the same sum with
 * delta_c = sup over the box of |u . (w_c - w_g) + b_c - b_g| (one ball
 * evaluation: for a linear map of a box, the ball's radius is the range). */
void reduce_build(reduce_mlp_t *R, const tblock_t *B, const reduce_info_t *I,
                  const reduce_plan_t *p, int exact_claim, const imat_struct *box,
                  mpfr_prec_t prec);
void reduce_mlp_clear(reduce_mlp_t *R);
/* Y = h + the reduced MLP on H, activation phi (ctx). */
void reduce_mlp_apply(imat_t Y, const reduce_mlp_t *R, const tblock_t *B, const imat_t H,
                      ival_act_fn phi, const void *ctx, mpfr_prec_t prec);
/* Neuron heads of R plus its linear head (one, when there is a linear term). */
long reduce_mlp_heads(const reduce_mlp_t *R);

#endif
