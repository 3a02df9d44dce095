/* Tensors in files: a read-only mapping of a file, a view of one tensor's
 * bytes inside it, and its exact conversion to doubles.
 *
 * Every F64, F32, F16 and BF16 value is exactly a double (subnormals and
 * negative zero included), so a converted tensor is the file's tensor, not an
 * approximation of it.  NaN or Inf in a tensor that is read is bad data.
 *
 * Functions that can fail return 0, EXIT_DATAERR (bad or unreadable input)
 * or EXIT_SOFTWARE (out of memory), and write one line without a newline
 * into err, naming the file and the tensor. */
#ifndef ATTNCHECK_TENSORIO_H
#define ATTNCHECK_TENSORIO_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    TENSOR_F64,
    TENSOR_F32,
    TENSOR_F16,
    TENSOR_BF16,
    TENSOR_OTHER /* stored and skipped; an error only when read */
} tensor_dtype_t;

/* The most dimensions a column-major (fortran_order) view may have. */
#define TENSOR_FORTRAN_MAX_NDIM 64

/* One tensor's bytes inside a file (borrowed from the file's reader). */
typedef struct {
    const char *source;         /* file name, for messages */
    const char *name;           /* tensor name ("" for a .npy file) */
    const char *dtype_name;     /* as in the file: "F32", "<f4", ... */
    tensor_dtype_t dtype;
    size_t ndim;
    const uint64_t *shape;      /* ndim entries */
    uint64_t numel;             /* product of shape; 1 for a scalar */
    int fortran_order;          /* .npy only: column-major data */
    const unsigned char *data;  /* numel * element size bytes */
} tensor_view_t;

/* Size in bytes of one element, 0 for TENSOR_OTHER. */
size_t tensor_dtype_size(tensor_dtype_t dtype);

/* *numel = product of shape[0..ndim) and *nbytes = *numel * elsize, or -1
 * when either overflows 64 bits (or size_t for nbytes). */
int tensor_shape_numel(uint64_t *numel, uint64_t *nbytes, const uint64_t *shape, size_t ndim,
                       size_t elsize);

/* 0 when no element of the view is Inf or NaN (the message names the first
 * one, as tensor_view_read_f64 would), without converting anything. */
int tensor_view_check_finite(const tensor_view_t *t, char *err, size_t errsz);
/* Convert the view to numel doubles in C (row-major) order, exactly. */
int tensor_view_read_f64(double *out, const tensor_view_t *t, char *err, size_t errsz);

/* Integer tensors (token ids): the width in bytes, 4 or 8, of a view of
 * little-endian signed 32- or 64-bit integers (safetensors I32/I64, .npy
 * <i4/<i8; stored as TENSOR_OTHER), else 0; and its numel values in storage
 * order (a 1-D view's order). */
size_t tensor_view_int_width(const tensor_view_t *t);
int tensor_view_read_i64(int64_t *out, const tensor_view_t *t, char *err, size_t errsz);

/* A file mapped read-only.  Only regular files are accepted, opened without
 * blocking (a FIFO is refused, never waited on). */
typedef struct {
    const unsigned char *data; /* NULL when size is 0 */
    size_t size;
} mapped_file_t;
int mapped_file_open(mapped_file_t *m, const char *path, char *err, size_t errsz);
void mapped_file_close(mapped_file_t *m);

/* A tensor converted to doubles, owning its memory. */
typedef struct {
    size_t ndim;
    uint64_t *shape;
    uint64_t numel;
    double *data;
} tensor_f64_t;
void tensor_f64_clear(tensor_f64_t *t);

/* Write "source: what" into err as one printable line (control bytes, such
 * as a newline in a tensor name, become '?') and return code. */
int tensor_fail(char *err, size_t errsz, int code, const char *source, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Copy a view's shape and values into t: the dtype checked (one we read)
 * before anything is allocated. */
int tensor_f64_from_view(tensor_f64_t *t, const tensor_view_t *v, char *err, size_t errsz);
#endif
