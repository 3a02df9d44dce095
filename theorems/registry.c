/* The claim registry: one line per theorem module, in report order. */
#include "claim.h"

extern const claim_t claim_neuron_head, claim_mlp_layer, claim_activation_head,
    claim_linear_head, claim_attention_only;

const claim_t *const claim_registry[] = {
    &claim_neuron_head,
    &claim_mlp_layer,
    &claim_activation_head,
    &claim_linear_head,
    &claim_attention_only,
    NULL,
};
