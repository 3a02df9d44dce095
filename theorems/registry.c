/* The claim registry: one line per theorem module, in report order. */
#include "claim.h"

extern const claim_t claim_neuron_head, claim_mlp_layer, claim_activation_head,
    claim_linear_head, claim_attention_only;
/* Omega limits and costs (issue 3) */
extern const claim_t claim_mask_encoding, claim_blog_three_layer, claim_blog_one_layer,
    claim_inflation, claim_attention_only_encoded;
/* activations (issue 4) */
extern const claim_t claim_relu_limit, claim_gelu_approx, claim_activation_class,
    claim_heads_per_neuron;
/* a real trained model (issue 9) */
extern const claim_t claim_model_svtr_mlp, claim_model_svtr, claim_model_svtr_encoded;
/* float formats (issue 10) */
extern const claim_t claim_float_formats, claim_float_formats_svtr;

const claim_t *const claim_registry[] = {
    &claim_neuron_head,
    &claim_mlp_layer,
    &claim_activation_head,
    &claim_linear_head,
    &claim_attention_only,
    &claim_mask_encoding,
    &claim_attention_only_encoded,
    &claim_blog_three_layer,
    &claim_blog_one_layer,
    &claim_inflation,
    &claim_relu_limit,
    &claim_gelu_approx,
    &claim_activation_class,
    &claim_heads_per_neuron,
    &claim_model_svtr_mlp,
    &claim_model_svtr,
    &claim_model_svtr_encoded,
    &claim_float_formats,
    &claim_float_formats_svtr,
    NULL,
};
