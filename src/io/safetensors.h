/* safetensors files: an 8-byte little-endian header length, a JSON header,
 * then the raw data.
 *
 * Reading checks every claim of the header against the file before trusting
 * it: the header length (within the file, at most SAFETENSORS_MAX_HEADER), a
 * JSON object with no duplicate keys, each tensor's dtype, shape (integers
 * >= 0, product checked for overflow) and data_offsets [begin, end] with
 * begin <= end <= data size, end - begin = numel * dtype size for every
 * dtype of known size, no two tensors overlapping, and __metadata__ a
 * string -> string map.  Gaps between tensors are allowed.  Nothing is
 * allocated from a size the header claims; tensors are converted on demand.
 * Tensors of dtypes other than F64/F32/F16/BF16 are listed and can be
 * ignored; reading one is an error.
 *
 * Errors are one line naming the file (and the tensor); functions return 0,
 * EXIT_DATAERR or EXIT_SOFTWARE (out of memory), as in tensorio.h. */
#ifndef ATTNCHECK_SAFETENSORS_H
#define ATTNCHECK_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "tensorio.h"

#define SAFETENSORS_MAX_HEADER ((uint64_t)100000000) /* as the reference implementation */

typedef struct safetensors safetensors_t;

/* Map and parse path. */
int safetensors_open(safetensors_t **st, const char *path, char *err, size_t errsz);
/* Parse size bytes at data (borrowed: they must outlive *st); label names
 * the source in messages. */
int safetensors_open_buffer(safetensors_t **st, const void *data, size_t size, const char *label,
                            char *err, size_t errsz);
void safetensors_close(safetensors_t *st);

const char *safetensors_source(const safetensors_t *st);
/* Tensors, sorted by name. */
size_t safetensors_num_tensors(const safetensors_t *st);
const tensor_view_t *safetensors_tensor(const safetensors_t *st, size_t i);
const tensor_view_t *safetensors_find(const safetensors_t *st, const char *name); /* or NULL */
/* __metadata__ entries, sorted by key. */
size_t safetensors_num_metadata(const safetensors_t *st);
const char *safetensors_metadata_key(const safetensors_t *st, size_t i);
const char *safetensors_metadata_value(const safetensors_t *st, size_t i);
const char *safetensors_metadata_get(const safetensors_t *st, const char *key); /* or NULL */

/* Writing: F64 tensors and string metadata.  Tensors are laid out sorted by
 * name with no gaps, header keys sorted, the header padded with spaces to a
 * multiple of 8 bytes: the same input gives the same bytes.  The file is
 * written to a temporary name and renamed into place.  Returns 0,
 * EXIT_DATAERR (duplicate or empty name, non-finite value, shape not
 * matching), EXIT_SOFTWARE, EXIT_CANTCREAT or EXIT_IOERR. */
typedef struct {
    const char *name;
    size_t ndim;
    const uint64_t *shape;
    const double *data; /* product of shape values, row-major */
} safetensors_entry_t;
int safetensors_write_f64(const char *path, const safetensors_entry_t *tensors, size_t n_tensors,
                          const char *const *meta_keys, const char *const *meta_values,
                          size_t n_meta, char *err, size_t errsz);
/* Pieces of the writer, for writers that stream tensors: one tensor's
 * header object {"dtype": "F64", "shape", "data_offsets": [begin, end]}
 * (NULL when out of memory), and its values as little-endian binary64
 * (0, or -1 on a write error). */
json_t *safetensors_header_entry(size_t ndim, const uint64_t *shape, uint64_t begin,
                                 uint64_t end);
int safetensors_write_values_f64(FILE *f, const double *x, uint64_t numel);

#endif
