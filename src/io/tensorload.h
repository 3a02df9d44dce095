/* Loading an input tensor by its file's kind (above npy and safetensors,
 * which both read into tensorio's types). */
#ifndef ATTNCHECK_TENSORLOAD_H
#define ATTNCHECK_TENSORLOAD_H

#include "tensorio.h"

/* Load an input tensor from spec: "X.npy", or "FILE.safetensors:TENSOR"
 * (split at the first ".safetensors:"). */
int tensor_load(tensor_f64_t *t, const char *spec, char *err, size_t errsz);

#endif
