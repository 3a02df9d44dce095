/* .npy files (NumPy format versions 1.0, 2.0, 3.0): magic, version, header
 * length, a Python dict literal {'descr': ..., 'fortran_order': ...,
 * 'shape': (...)}, then the raw data.
 *
 * dtypes '<f8', '<f4', '<f2' (bfloat16 is not a NumPy dtype), and '<i8',
 * '<i4' for token ids (TENSOR_OTHER: tensor_view_read_i64); fortran_order
 * True is read and returned in C order by tensor_view_read_f64.  The header
 * length, the dict (each key once, nothing else), the shape (integers, at
 * most NPY_MAX_NDIM of them, product checked for overflow) and the data size
 * (exactly numel * itemsize bytes after the header) are checked before
 * anything is trusted.  Errors as in tensorio.h. */
#ifndef ATTNCHECK_NPY_H
#define ATTNCHECK_NPY_H

#include <stddef.h>
#include "tensorio.h"

/* the most a column-major view may have (tensor_view_read_f64 reorders it) */
#define NPY_MAX_NDIM TENSOR_FORTRAN_MAX_NDIM

typedef struct npy npy_t;

int npy_open(npy_t **a, const char *path, char *err, size_t errsz);
/* size bytes at data are borrowed: they must outlive *a. */
int npy_open_buffer(npy_t **a, const void *data, size_t size, const char *label, char *err,
                    size_t errsz);
const tensor_view_t *npy_tensor(const npy_t *a);
void npy_close(npy_t *a);

#endif
