/* Tensors in files: mapping, views, exact conversion to doubles. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "exitcodes.h"
#include "outfile.h"
#include "tensorio.h"

_Static_assert(sizeof(double) == 8, "binary64 double");

size_t tensor_dtype_size(tensor_dtype_t dtype)
{
    switch (dtype) {
    case TENSOR_F64:
        return 8;
    case TENSOR_F32:
        return 4;
    case TENSOR_F16:
    case TENSOR_BF16:
        return 2;
    default:
        return 0;
    }
}

int tensor_shape_numel(uint64_t *numel, uint64_t *nbytes, const uint64_t *shape, size_t ndim,
                       size_t elsize)
{
    uint64_t n = 1;
    for (size_t i = 0; i < ndim; i++) {
        if (shape[i] != 0 && n > UINT64_MAX / shape[i])
            return -1;
        n *= shape[i];
    }
    if (elsize != 0 && n > UINT64_MAX / elsize)
        return -1;
    if (n * elsize > SIZE_MAX)
        return -1;
    *numel = n;
    *nbytes = n * elsize;
    return 0;
}

/* Little-endian unsigned integer of w bytes. */
static uint64_t load_le(const unsigned char *p, size_t w)
{
    uint64_t v = 0;
    for (size_t i = w; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

/* A binary format with e exponent bits and m stored mantissa bits, decoded
 * with ldexp: every step is exact (the value fits in 53 bits and the double
 * range).  Returns -1 for Inf/NaN. */
static int decode_small_float(double *out, uint64_t bits, int ebits, int mbits)
{
    uint64_t mant = bits & ((UINT64_C(1) << mbits) - 1);
    uint64_t expo = (bits >> mbits) & ((UINT64_C(1) << ebits) - 1);
    int neg = (int)(bits >> (mbits + ebits)) & 1;
    int bias = (1 << (ebits - 1)) - 1;
    double v;
    if (expo == (UINT64_C(1) << ebits) - 1)
        return -1;
    if (expo == 0) /* zero or subnormal: mant * 2^(1 - bias - mbits) */
        v = ldexp((double)mant, 1 - bias - mbits);
    else
        v = ldexp((double)(mant | UINT64_C(1) << mbits), (int)expo - bias - mbits);
    *out = neg ? -v : v; /* -0.0 for a negative zero */
    return 0;
}

static int decode_element(double *out, const unsigned char *p, tensor_dtype_t dtype)
{
    switch (dtype) {
    case TENSOR_F64: {
        uint64_t bits = load_le(p, 8);
        memcpy(out, &bits, 8);
        return isfinite(*out) ? 0 : -1;
    }
    case TENSOR_F32:
        return decode_small_float(out, load_le(p, 4), 8, 23);
    case TENSOR_F16:
        return decode_small_float(out, load_le(p, 2), 5, 10);
    case TENSOR_BF16:
        return decode_small_float(out, load_le(p, 2), 8, 7);
    default:
        return -1;
    }
}

/* Control bytes become '?': a message is one printable line. */
static void tensor_error_line(char *err)
{
    for (unsigned char *p = (unsigned char *)err; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = '?';
}

int tensor_fail(char *err, size_t errsz, int code, const char *source, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(err, errsz, "%s: %s", source, what);
    tensor_error_line(err);
    return code;
}

static int view_fail(char *err, size_t errsz, const tensor_view_t *t, const char *what)
{
    if (t->name[0])
        return tensor_fail(err, errsz, EXIT_DATAERR, t->source, "tensor '%s': %s", t->name, what);
    return tensor_fail(err, errsz, EXIT_DATAERR, t->source, "%s", what);
}

/* Position in row-major order of the element stored at column-major index k. */
static uint64_t fortran_to_c_index(uint64_t k, const uint64_t *shape, size_t ndim)
{
    uint64_t c = 0, stride = 1;
    uint64_t idx[TENSOR_FORTRAN_MAX_NDIM];
    size_t nd = ndim < TENSOR_FORTRAN_MAX_NDIM ? ndim : TENSOR_FORTRAN_MAX_NDIM;
    for (size_t i = 0; i < nd; i++) {
        idx[i] = k % shape[i];
        k /= shape[i];
    }
    for (size_t i = nd; i-- > 0;) {
        c += idx[i] * stride;
        stride *= shape[i];
    }
    return c;
}

int tensor_view_check_finite(const tensor_view_t *t, char *err, size_t errsz)
{
    /* the all-ones exponent field is Inf or NaN in each format */
    static const struct {
        tensor_dtype_t dtype;
        int mbits, ebits;
    } fields[] = {{TENSOR_F64, 52, 11}, {TENSOR_F32, 23, 8}, {TENSOR_F16, 10, 5},
                  {TENSOR_BF16, 7, 8}};
    size_t w = tensor_dtype_size(t->dtype);
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        if (fields[f].dtype != t->dtype)
            continue;
        uint64_t mask = ((UINT64_C(1) << fields[f].ebits) - 1) << fields[f].mbits;
        for (uint64_t k = 0; k < t->numel; k++)
            if ((load_le(t->data + k * w, w) & mask) == mask) {
                char what[160];
                int reorder = t->fortran_order && t->ndim > 1;
                snprintf(what, sizeof what, "element %llu is NaN or infinite",
                         (unsigned long long)(reorder ? fortran_to_c_index(k, t->shape, t->ndim)
                                                      : k));
                return view_fail(err, errsz, t, what);
            }
        return 0;
    }
    return view_fail(err, errsz, t, "dtype cannot be read (want F64, F32, F16 or BF16)");
}

int tensor_view_read_f64(double *out, const tensor_view_t *t, char *err, size_t errsz)
{
    char what[160];
    size_t w = tensor_dtype_size(t->dtype);
    if (w == 0) {
        snprintf(what, sizeof what, "dtype %s cannot be read (want F64, F32, F16 or BF16)",
                 t->dtype_name);
        return view_fail(err, errsz, t, what);
    }
    int reorder = t->fortran_order && t->ndim > 1;
    for (uint64_t k = 0; k < t->numel; k++) {
        double v;
        if (decode_element(&v, t->data + k * w, t->dtype) != 0) {
            snprintf(what, sizeof what, "element %llu is NaN or infinite",
                     (unsigned long long)(reorder ? fortran_to_c_index(k, t->shape, t->ndim) : k));
            return view_fail(err, errsz, t, what);
        }
        out[reorder ? fortran_to_c_index(k, t->shape, t->ndim) : k] = v;
    }
    return 0;
}

size_t tensor_view_int_width(const tensor_view_t *t)
{
    static const struct {
        const char *name;
        size_t width;
    } ints[] = {{"I32", 4}, {"I64", 8}, {"<i4", 4}, {"<i8", 8}};
    for (size_t k = 0; t->dtype == TENSOR_OTHER && k < sizeof ints / sizeof ints[0]; k++)
        if (strcmp(t->dtype_name, ints[k].name) == 0)
            return ints[k].width;
    return 0;
}

int tensor_view_read_i64(int64_t *out, const tensor_view_t *t, char *err, size_t errsz)
{
    size_t w = tensor_view_int_width(t);
    if (w == 0) {
        char what[160];
        snprintf(what, sizeof what, "dtype %s is not an integer type (want int32 or int64)",
                 t->dtype_name);
        return view_fail(err, errsz, t, what);
    }
    for (uint64_t k = 0; k < t->numel; k++) {
        uint64_t u = load_le(t->data + k * w, w);
        /* sign-extend a 32-bit value; two's complement, as both formats store it */
        if (w == 4 && (u & UINT64_C(0x80000000)))
            u |= ~UINT64_C(0xFFFFFFFF);
        out[k] = u <= (uint64_t)INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
    }
    return 0;
}

/* ---- a mapped file that shrinks: reading a page past its new end raises
 * SIGBUS.  Every mapping is registered with a message made beforehand; the
 * handler, when the faulting address lies in one, ends the run as bad data
 * (the cleanup of outfile_die, one line, 65).  Any other SIGBUS is a bug of
 * ours and keeps its default action. ---- */

#define MAPPED_SLOTS 32
static struct {
    atomic_uintptr_t start; /* 0: free */
    size_t size;
    char msg[OUTFILE_PATH_MAX / 4];
} mapped[MAPPED_SLOTS];
static atomic_int bus_handler_set;

static void on_sigbus(int sig, siginfo_t *si, void *ctx)
{
    (void)ctx;
    uintptr_t at = (uintptr_t)si->si_addr;
    for (int k = 0; k < MAPPED_SLOTS; k++) {
        uintptr_t s = atomic_load(&mapped[k].start);
        if (s && at >= s && at - s < mapped[k].size)
            outfile_die(EXIT_DATAERR, mapped[k].msg);
    }
    signal(sig, SIG_DFL); /* not a file of ours: the fault recurs and kills */
}

static void mapped_register(const void *data, size_t size, const char *path)
{
    if (!atomic_exchange(&bus_handler_set, 1)) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_sigbus;
        sa.sa_flags = SA_SIGINFO;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGBUS, &sa, NULL);
    }
    for (int k = 0; k < MAPPED_SLOTS; k++)
        if (!atomic_load(&mapped[k].start)) {
            mapped[k].size = size;
            tensor_fail(mapped[k].msg, sizeof mapped[k].msg, EXIT_DATAERR, path,
                        "the file shrank while it was read (changed by another program)");
            atomic_store(&mapped[k].start, (uintptr_t)data);
            return;
        }
    /* all taken: this mapping is read unguarded (never with the few files a
     * run opens) */
}

static void mapped_forget(const void *data)
{
    for (int k = 0; k < MAPPED_SLOTS; k++)
        if (atomic_load(&mapped[k].start) == (uintptr_t)data) {
            atomic_store(&mapped[k].start, 0);
            return;
        }
}

int mapped_file_open(mapped_file_t *m, const char *path, char *err, size_t errsz)
{
    struct stat st;
    m->data = NULL;
    m->size = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return tensor_fail(err, errsz, EXIT_DATAERR, path, "cannot open: %s", strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > SIZE_MAX) {
        close(fd);
        return tensor_fail(err, errsz, EXIT_DATAERR, path,
                           "not a regular file of a size we can map");
    }
    m->size = (size_t)st.st_size;
    if (m->size > 0) {
        void *p = mmap(NULL, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(fd);
            m->size = 0;
            return tensor_fail(err, errsz, e == ENOMEM ? EXIT_SOFTWARE : EXIT_DATAERR, path,
                               "cannot map: %s", strerror(e));
        }
        mapped_register(p, m->size, path);
        m->data = p;
    }
    close(fd);
    return 0;
}

void mapped_file_close(mapped_file_t *m)
{
    if (m->data) {
        mapped_forget(m->data);
        munmap((void *)m->data, m->size);
    }
    m->data = NULL;
    m->size = 0;
}

void tensor_f64_clear(tensor_f64_t *t)
{
    free(t->shape);
    free(t->data);
    memset(t, 0, sizeof *t);
}

int tensor_f64_from_view(tensor_f64_t *t, const tensor_view_t *v, char *err, size_t errsz)
{
    memset(t, 0, sizeof *t);
    /* nothing is allocated from a shape the file has not backed: the dtype
     * must be one we read (its size known, so the reader checked numel *
     * size against the data), and the doubles must fit in memory's range */
    size_t w = tensor_dtype_size(v->dtype);
    if (w == 0) {
        char what[160];
        snprintf(what, sizeof what, "dtype %s cannot be read (want F64, F32, F16 or BF16)",
                 v->dtype_name);
        return view_fail(err, errsz, v, what);
    }
    if (v->numel > SIZE_MAX / sizeof *t->data)
        return view_fail(err, errsz, v, "too many values to hold in memory");
    t->shape = malloc((v->ndim ? v->ndim : 1) * sizeof *t->shape);
    t->data = malloc((v->numel ? v->numel : 1) * sizeof *t->data);
    if (!t->shape || !t->data) {
        tensor_f64_clear(t);
        return tensor_fail(err, errsz, EXIT_SOFTWARE, v->source, "out of memory for %llu values",
                           (unsigned long long)v->numel);
    }
    if (v->ndim)
        memcpy(t->shape, v->shape, v->ndim * sizeof *t->shape);
    t->ndim = v->ndim;
    t->numel = v->numel;
    int rc = tensor_view_read_f64(t->data, v, err, errsz);
    if (rc != 0)
        tensor_f64_clear(t);
    return rc;
}
