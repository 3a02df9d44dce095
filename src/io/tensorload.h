/* Loading an input tensor by its file's kind (above npy and safetensors,
 * which both read into tensorio's types). */
#ifndef ATTNCHECK_TENSORLOAD_H
#define ATTNCHECK_TENSORLOAD_H

#include "tensorio.h"

/* Load an input tensor from spec: "X.npy", or "FILE.safetensors:TENSOR"
 * (split at the first ".safetensors:"). */
int tensor_load(tensor_f64_t *t, const char *spec, char *err, size_t errsz);
/* The same, or token ids: when the tensor holds int32/int64 (.npy <i4/<i8,
 * safetensors I32/I64), *ids (malloc'd) gets its *n_ids values (shape
 * [n_ctx], n_ctx >= 1, else 65) and t stays empty; otherwise *ids is NULL
 * and t is loaded as by tensor_load. */
int tensor_load_input(tensor_f64_t *t, int64_t **ids, uint64_t *n_ids, const char *spec,
                      char *err, size_t errsz);

#endif
