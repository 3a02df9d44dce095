/* Masks encoded in weights (the paper's Theorem 9) for a network of
 * aonet.h: one-hot positions appended to the stream, X' = [X | I_N], and
 * every masked head made unmasked: W'_Q = [[W_Q, 0], [0, s Omega (M - J)]],
 * W'_K = [[W_K, 0], [0, I_N]] (rows: the D stream columns, then the N
 * positions; columns: the head's r_qk, then N), W'_V = [W_V; 0],
 * W'_O = [W_O, 0], s the group's attn_scale, so that
 *     s'_ij = q_i . k_j / s + Omega (M_ij - 1):
 * allowed keys keep their logits, masked keys lose Omega.  The position
 * columns never change (W'_O is 0 there) and LN passes them through.
 *
 * Derived bound, layer by layer (exact networks; every constant a
 * certified upper bound).  Let X_k be the masked network's stream entering
 * layer k and Delta_k a bound on the largest row distance between the
 * encoded stream's first D columns and X_k (Delta_0 = 0).  Only features
 * move (no head writes c, f or positions), so LN's Lipschitz bound per row,
 *     lambda = max |w| / sqrt(eps + ((||P x|| - Delta)_+)^2 / d)
 * (P the centring, the identity for RMSNorm, whose Jacobian w s (I - c^ c^T / d)
 * has the same norm bound; the bias token, P x = 0, gives max |w| / sqrt(eps)),
 * bounds the normalised inputs' distance by DeltaU = lambda Delta.  Per head
 * (Q, K the largest query and key norms on the masked input, O the largest
 * ||v_j W_O||, a_Q, a_K, a_OV norms of W_Q, W_K and W_V W_O, s its scale):
 *     Smax = (Q + a_Q DeltaU)(K + a_K DeltaU) / s     (any |logit| at the perturbed input)
 *     enc  = 2 (N - 1) e^(2 Smax - Omega) (O + a_OV DeltaU)   (maskenc_head_leak)
 *     lip  = a_OV DeltaU + 2 O (Q a_K DeltaU + a_Q DeltaU (K + a_K DeltaU)) / s
 *            (the masked head between the two inputs: the softmax Jacobian
 *            maps l_inf to l_1 with norm <= 2)
 *     Delta_(k+1) <= Delta_k + sum over heads (enc + lip).
 * The output's distance is at most lambda_final Delta_final, and E (to the
 * original model) at most that plus the certified distance of the masked
 * network to the original. */
#ifndef ATTNCHECK_MASKENC_H
#define ATTNCHECK_MASKENC_H

#include "aonet.h"

/* Deliberately broken encodings (mutations). */
enum {
    MASKENC_MUT_NONE,
    MASKENC_MUT_HALF_OMEGA, /* the position blocks use Omega/2 (the bound keeps Omega) */
    MASKENC_MUT_UNSCALED    /* the position blocks are -Omega, not -s Omega: heads with a
                               scale s lose only Omega/s on masked keys */
};
/* The encoded layer of L for N tokens (E uninitialised). */
void maskenc_layer(aonet_layer_t *E, const aonet_layer_t *L, long N, const arb_t omega,
                   int mutation, mpfr_prec_t prec);
/* Xe (N x (D + N)) = [X | I_N]. */
void maskenc_stream(imat_t Xe, const imat_t X);
/* The first D columns of the encoded stream, into X (N x D). */
void maskenc_features(imat_t X, const imat_t Xe, long D);

/* The mask-encoding inequality for one head (Theorem 9; derived), the one
 * place it is written.  A head on N tokens whose logits all lie in [-S, S]
 * (allowed and masked keys alike) and whose outputs v_j W_O all have norm
 * <= V, with its mask encoded by Omega (masked logits lowered by Omega).
 * Per query row i, with Z_i the allowed keys' sum of e^s (>= e^-S: at least
 * one allowed key) and D_i the masked keys' (<= (N-1) e^S), the weight the
 * encoded head leaks to masked keys is
 *     delta_i = e^-Omega D_i / (Z_i + e^-Omega D_i) <= (N-1) e^(2S - Omega),
 * and the encoded output moves from the masked one by
 *     ||h'_i - h_i|| = delta_i ||m_i - h_i|| <= 2 delta_i V
 * (m_i the masked keys' average, both averages of vectors of norm <= V), so
 *     ||h' - h|| <= 2 (N-1) e^(2S - Omega) V.
 * (mask-encoding's instance: S = B = tau ||W_QK||_2 R^2, V = ||W_OV||_2 R.)
 * Rounding: the caller's S and V are upper bounds; the expression is
 * increasing in both, and is evaluated in ball arithmetic (2S exactly, the
 * rest enclosed), so hi(leak) bounds it from above; e^x beyond any number
 * gives +inf (ival_exp_bound).  leak may not alias S or V. */
void maskenc_head_leak(arb_t leak, const arb_t S, const arb_t V, long N, const arb_t omega,
                       mpfr_prec_t prec);
/* Omega_req(eps) = 2S + ln(2 (N-1) V / eps): the smallest Omega at which the
 * bound above is <= eps.  From hi(S), hi(V), every step rounded up (eps
 * rounded down), 64 bits: the Omega returned is >= the true one. */
double maskenc_head_omega_req(const arb_t S, const arb_t V, long N, double eps);

/* The bound's constants, gathered layer by layer along the masked network. */
typedef struct maskenc_bound maskenc_bound_t;
maskenc_bound_t *maskenc_bound_new(long N);
void maskenc_bound_free(maskenc_bound_t *b);
/* Layer L with X (N x D) the masked stream entering it. */
void maskenc_bound_add_layer(maskenc_bound_t *b, const aonet_layer_t *L, const imat_t X,
                             mpfr_prec_t prec);
/* The final LN, with X the masked stream before it. */
void maskenc_bound_set_final(maskenc_bound_t *b, const aonet_ln_t *ln, const imat_t X,
                             mpfr_prec_t prec);
/* An upper bound of the distance between the encoded and the masked
 * network's outputs at Omega (the point hi of it, or +inf). */
void maskenc_bound_eval(arb_t bound, const maskenc_bound_t *b, const arb_t omega,
                        mpfr_prec_t prec);
/* The smallest Omega (a multiple of 1/64 below 10^6) with hi(bound + extra)
 * <= eps, or -1 when there is none. */
double maskenc_omega_req(const maskenc_bound_t *b, const arb_t extra, double eps,
                         mpfr_prec_t prec);

#endif
