/* The claim registry: one line per theorem module, in report order. */
#include "claim.h"

extern const claim_t claim_neuron_head;

const claim_t *const claim_registry[] = {
    &claim_neuron_head,
    NULL,
};
