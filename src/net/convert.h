/* The attention-only conversion of a pre-LN transformer with biases
 * (TransformerLens layout, tblock.h): each block becomes two layers of an
 * attention-only network with LayerNorm (aonet.h).  Exact, derived here
 * (it extends the paper's Theorem 6, which has neither LN nor biases).
 *
 * Stream.  Each token is a row [features (d) | c | f], width D = d + 2:
 * real tokens [x, 1, 0], and a bias token at position 0, [0, 1, 1].  LN
 * acts on the d features only and passes c and f through, so the bias
 * token's normalised features are beta (the LN bias; 0 for LNPre and none).
 * RMSNorm (RMS: x/sqrt(mean(x^2) + eps) w, RMSPre without w) has no beta:
 * the bias token's features are 0, mean(0^2) + eps = eps > 0, so RMS(0) =
 * 0 * w / sqrt(eps) = 0 exactly, and every formula below holds with beta = 0
 * (the f rows are -b_V, -t).  Real tokens' features are x, normalised as the
 * original does, since c and f are outside the d normalised columns.
 * Write u = LN(h) for the normalised stream a layer reads.
 *
 * Layer A (block b's attention), LN = LN1, one group of the H original
 * heads (internal dimension d_head for QK, d_head + 1 for OV):
 *   W_Q~ = [W_Q; b_Q; 0], W_K~ = [W_K; b_K; 0] (rows: features, c, f), so a
 *   real token's query and key are the original u W_Q + b_Q, u W_K + b_K;
 *   W_V~ = [W_V; b_V; -(beta1 W_V + b_V)]: the bias token's value is 0;
 *   W_O~ = [W_O, 0, 0]; logits q.k / attn_scale, as the original;
 *   head 0 has one more value channel, c - f (1 on real tokens, 0 on the
 *   bias token), with output row [b_O, 0, 0]: real tokens see only real
 *   tokens, so its weights sum to 1 and it adds b_O;
 *   mask: real tokens see real tokens as the original does (causal: j <= i;
 *   bidirectional: all), never the bias token; the bias token sees only
 *   itself (its value is 0, so its row stays [0, 1, 1]).
 * Layer B (block b's MLP), LN = LN2, reading u = LN2(h):
 *   neuron k is one head of internal dimension 1, mask B (self + bias
 *   token), with w = W_in[:,k], t = b_in[k], f_k = -(beta2 . w + t):
 *     value  v = u w + t c + f_k f   (z = LN2(h) w + t on a real token, 0 on
 *                                     the bias token);
 *     query  v;  key -a f (the same W_K, [0; 0; -a], for every neuron);
 *     output W_out[k,:] (then 0, 0 for c, f).
 *   (claims.md puts a in the query, a v with key -f: the same W_QK = -a v-col
 *   e_f^T.  Here a sits in the key, so every query weight is a number of
 *   the model file and exports as an exact double.)
 *   A real token's logits are 0 (itself) and -a z (the bias token), so it
 *   gets sigma(a z) z W_out[k,:] = SiLU_a(z) W_out[k,:]; the bias token sees
 *   only itself and gets 0.  One more head, mask I (self only), value c - f
 *   and output [b_out, 0, 0], adds b_out to real tokens.
 * Heads per block: H + d_mlp + 1 (SVTR: 8 + 240 + 1 = 249).
 * That is the literal form (the paper's construction, CONVERT_LITERAL).
 *
 * Parallel blocks (parallel_attn_mlp: y = x + Attn(LN1(x)) + b_O +
 * MLP(LN2(x)) + b_out, both sublayers reading x).  A layer adds every head
 * group's output to the stream it read, so layer A's group and layer B's
 * groups put in ONE layer compute exactly x + Attn(.) + MLP(.) from x, as
 * long as each group reads its own LN of x.  A layer has one LN for all its
 * groups.  LN1 = LN2 (same kind, eps, gamma, beta; always for LNPre, RMSPre
 * and none): that LN, the columns as above.  Otherwise write LN_i(x) =
 * n(x) diag(gamma_i) + beta_i, n the LN without gamma and beta (LNPre for
 * LN, RMSPre for RMS: the same mean, variance or mean square, and eps), so
 * every map of sublayer i is
 *     LN_i(x) W + t = n(x) (diag(gamma_i) W) + (beta_i . W + t),
 * and the layer's LN is n, each column [diag(gamma_i) W[:, k]; a; -a] with
 * a = beta_i . W[:, k] + t (in both forms: n has no beta to keep).
 * diag(gamma) W is a product of two doubles per entry, exact in Arb at
 * ARF_PREC_EXACT.  The bias token: n(0) = 0 (its features are 0: mean 0,
 * variance or mean square 0, 0/sqrt(eps) = 0), so its entries are a - a = 0
 * as in the float-robust form, and every argument above holds.  Heads per
 * block the same, H + d_mlp + 1, in one layer: L layers for L blocks.
 *
 * The float-robust form (CONVERT_FLOAT_ROBUST, the default): the same
 * network with every converted layer's LN beta folded into the c rows, so
 * that the bias token's row stays [0, 1, 1] bitwise in every float format
 * (doc/float-robust.md).  In the literal form the bias token's value
 * beta1 W_V + b_V - (beta1 W_V + b_V) is 0 only in exact arithmetic: in
 * float a residue is left on its features and the next LN divides it by
 * sqrt(eps).  Float-robust: each layer's LN keeps gamma, has beta = 0, and
 * every column reading the normalised stream u' = LN_gamma(h) = u - beta is
 *     [W[:, k]; a; -a],  a = beta . W[:, k] + t   (t its bias: b_Q, b_K, b_V,
 *                                                  b_in, 0 for W_gate)
 * for W_Q, W_K and W_V of layer A and the neurons' W_Q and W_V.  Real
 * tokens [x, 1, 0]: u' W + a = u W + t, the original's.  The bias token
 * [0, 1, 1]: its features are exactly 0 in any format, so LN_gamma gives
 * (0 - 0)/sqrt(0 + eps) gamma = +-0 (when eps rounds to a positive value:
 * eps > 2^-25 in binary16); its entry is (+-0) . W + a + (-a), every partial
 * sum of which, in any order, with or without FMA, is +-0, a or -a: exact,
 * and the total is +0 (x + (-x) = +0 to nearest).  a and -a round to exact
 * negatives in any format and in the F64 export (rounding to nearest is
 * odd), so its value, query and key are exactly 0; it sees one key (itself,
 * in layer A and under masks B and I), whose softmax weight is exactly 1;
 * its head outputs are 0 * W_O = +-0 and the residual leaves [0, 1, 1]
 * bitwise.  The heads carrying b_O, b_out (value c - f) and the neurons' key
 * -a f need no change.  The final LN keeps its beta (nothing reads it).  The
 * float-robust network is exact in real arithmetic like the literal one.
 *
 * Activations.  silu: exact with a = 1.  sigmoid: exact, the neuron's value
 * is c - f instead of z.  Gated MLPs phi(u W_gate) * (u W_in + b_in): with
 * phi = sigmoid (GLU) exact, the query from the gate (u W_gate - (beta2 .
 * W_gate) f) and the value from the up projection.  SwiGLU (silu gate) and
 * GeGLU (gelu gate) are outside the class: one head of mask B gives
 * sigma(query . key difference) times a value affine in the token, while
 * g sigma(g) u needs a value quadratic in the token (g times u); they are
 * refused.  gelu, gelu_new (= gelu_pytorch_tanh), gelu_fast and relu: the
 * heads use SiLU_a, the conversion is exact for the model with phi replaced
 * by SiLU_a, and the MLP's error is at most G sum_k ||W_out[k,:]||_2, G the
 * certified sup |phi - SiLU_a| over the certified range of z. */
#ifndef ATTNCHECK_CONVERT_H
#define ATTNCHECK_CONVERT_H

#include <stddef.h>
#include "act.h"
#include "aonet.h"
#include "silusum.h"
#include "tblock.h"

/* ---- the activation ---- */
typedef enum {
    CONVERT_ACT_SILU,    /* exact, a = 1 */
    CONVERT_ACT_SIGMOID, /* exact, value c - f, a = 1 */
    CONVERT_ACT_GLU,     /* gated with a sigmoid gate: exact, a = 1 */
    CONVERT_ACT_APPROX   /* gelu, gelu_new, gelu_fast, gelu_pytorch_tanh, relu: SiLU_a */
} convert_act_kind_t;

/* relu's default slope: the gap W0(1/e)/a = 0.0087 (relu-limit), below the
 * GELU fits' 0.014; larger a shrinks it like 1/a. */
#define CONVERT_RELU_A "32"
/* The interval gelu-approx fits a* on (its L). */
#define CONVERT_FIT_L 10.0

/* m heads per neuron in one block (approximated kinds): phi ~ S = sum_j c_j
 * SiLU_{a_j} (silusum.h), head j of neuron k a neuron head with key -a_j f
 * and output c_j W_out[k,:] (an exact product); the layer then computes the
 * MLP with phi replaced by S exactly. */
typedef struct {
    silusum_t fit;      /* c_j, a_j: exact dyadics, sum_j c_j = 1 */
    int shipped;        /* silusum_shipped's fit (else fitted here, an estimate) */
    act_t twin;         /* S as an expression: the twin's activation */
} convert_heads_t;

typedef struct {
    convert_act_kind_t kind;
    act_t phi;          /* the model's activation, certified */
    act_t silu;         /* SiLU_a with the heads' a */
    arb_t a;            /* the heads' slope, exact */
    char a_text[200];   /* a and where it comes from */
    long n_blocks;      /* blocks with heads[b] (0: one SiLU_a head per neuron) */
    convert_heads_t *heads;
} convert_act_t;

/* The model's activation and the heads' slope: act_a (decimal text, or
 * NULL for the default: 1 for exact kinds, a* of gelu-approx for the GELUs,
 * CONVERT_RELU_A for relu).  0, or EXIT_DATAERR with one line in err (a
 * gated MLP outside the class, --act-a on an exact kind) or EXIT_USAGE (a
 * malformed or non-positive act_a).  On failure nothing needs clearing. */
int convert_act_init(convert_act_t *ca, const tmodel_config_t *c, const char *act_a, char *err,
                     size_t errsz, mpfr_prec_t prec);
void convert_act_clear(convert_act_t *ca);
int convert_act_exact(const convert_act_t *ca);
/* m[b] heads per neuron (1 .. SILUSUM_SHIPPED_M) in blocks b < n_blocks of an
 * approximated kind: silusum_get's fit on [-SILUSUM_SHIPPED_L, L] with slopes
 * <= SILUSUM_SHIPPED_A_MAX (the shipped one for gelu, gelu_tanh, relu), in
 * place of the one SiLU_a; a_text says which.  May be called again (another
 * m).  0, or EXIT_DATAERR (an exact kind, an m out of range) / EXIT_SOFTWARE
 * with one line in err. */
int convert_act_set_heads(convert_act_t *ca, long n_blocks, const int *m, char *err,
                          size_t errsz, mpfr_prec_t prec);
/* Block b's heads per neuron: its m, or 1 (one SiLU_a head, or an exact kind). */
int convert_act_m(const convert_act_t *ca, long b);
/* The activation block b's neuron heads compute: S of its m heads, or SiLU_a. */
const act_t *convert_act_twin(const convert_act_t *ca, long b);
/* The largest slope of any neuron head (a, or the largest a_j): a >= every
 * head's, for the resolution rule's max |a z|. */
void convert_act_slope_max(arb_t a, const convert_act_t *ca);

/* ---- mutations: deliberately broken conversions ---- */
enum {
    CONVERT_MUT_NONE,
    CONVERT_MUT_DROP_B_IN,      /* neurons without b_in (c row 0, f row -beta2 . w) */
    CONVERT_MUT_LN_CF,          /* LN over all d + 2 columns: c and f normalised too */
    CONVERT_MUT_BIAS_VISIBLE,   /* original heads' masks let real tokens see the bias token */
    CONVERT_MUT_NO_F_ROW,       /* f rows of W_V dropped: the bias token's values are not 0 */
    CONVERT_MUT_DROP_B_OUT,     /* the b_out head left out */
    CONVERT_MUT_DROP_HEAD,      /* the last neuron head of every neuron outputs 0 */
    CONVERT_N_MUT
};
/* {name, what it breaks} of mutation k (1 .. CONVERT_N_MUT - 1). */
extern const char *const convert_mutation[CONVERT_N_MUT][2];
/* The mutation called name, or 0 (none) when there is none. */
int convert_mutation_index(const char *name);

/* ---- the form ---- */
typedef enum {
    CONVERT_FLOAT_ROBUST, /* LN beta folded into the c rows: the bias row bitwise in float */
    CONVERT_LITERAL,      /* the paper's construction: LN keeps beta, f rows cancel it */
    CONVERT_N_FORMS
} convert_form_t;
#define CONVERT_FORM_DEFAULT CONVERT_FLOAT_ROBUST
/* "float-robust", "literal" */
extern const char *const convert_form_name[CONVERT_N_FORMS];
/* The form called name: 0, or -1 when there is none. */
int convert_form_find(convert_form_t *form, const char *name);

typedef struct {
    convert_form_t form;
    int mutation; /* CONVERT_MUT_* */
} convert_opts_t;

/* ---- the stream and the layers ---- */
/* The layout, in words (reports, exports). */
#define CONVERT_LAYOUT_TEXT                                                              \
    "each token a row [features (d) | c | f]: the bias token at position 0 is [0, 1, 1], " \
    "real tokens [x, 1, 0]; LayerNorm acts on the d features and passes c and f through"
/* Xs ((n+1) x (d+2)) = [[0, 1, 1], [X, 1, 0]]: the bias token first. */
void convert_stream(imat_t Xs, const imat_t X);
/* LN on the d features of the stream of width D (src acts on d columns),
 * beta kept: the final LN of either form. */
void convert_ln(aonet_ln_t *dst, const aonet_ln_t *src, long D, int mutation);
/* The converted layers of block B in form o->form, exact (out
 * uninitialised): 2 for a sequential block (out[0] layer A, out[1] layer
 * B), 1 for a parallel block (out[0], every head group reading LN(x)).
 * Returns the count. */
long convert_block_layers(aonet_layer_t out[2], const tblock_t *B, const convert_act_t *ca,
                          const convert_opts_t *o);
/* Layer A (attention) and layer B (MLP) of a sequential block B (B->parallel
 * 0) in form o->form, exact (A, L uninitialised). */
void convert_block_opts(aonet_layer_t *A, aonet_layer_t *L, const tblock_t *B,
                        const convert_act_t *ca, const convert_opts_t *o);
/* The same in the default form. */
void convert_block(aonet_layer_t *A, aonet_layer_t *L, const tblock_t *B,
                   const convert_act_t *ca, int mutation);

#endif
