/* .npy reader: a strict parser for the header dict NumPy writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "exitcodes.h"
#include "npy.h"

struct npy {
    char *source;
    mapped_file_t map;
    char descr[8];
    uint64_t shape[NPY_MAX_NDIM];
    tensor_view_t view;
};

/* A cursor over the header text [p, end). */
typedef struct {
    const char *p, *end;
} cursor_t;

static void skip_space(cursor_t *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n'))
        c->p++;
}

static int eat(cursor_t *c, char ch)
{
    skip_space(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* A quoted string without escapes into buf; -1 when malformed or too long. */
static int read_string(cursor_t *c, char *buf, size_t bufsz)
{
    skip_space(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
        return -1;
    char q = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\' || n + 1 >= bufsz)
            return -1;
        buf[n++] = *c->p++;
    }
    if (c->p >= c->end)
        return -1;
    c->p++;
    buf[n] = '\0';
    return 0;
}

static int read_word(cursor_t *c, const char *w)
{
    size_t L = strlen(w);
    skip_space(c);
    if ((size_t)(c->end - c->p) >= L && memcmp(c->p, w, L) == 0) {
        c->p += L;
        return 1;
    }
    return 0;
}

/* A tuple of integers >= 0: (), (n,), (n, m), ... */
static int read_shape(cursor_t *c, uint64_t *shape, size_t *ndim, const char **why)
{
    *ndim = 0;
    *why = "shape is not a tuple of integers";
    if (!eat(c, '('))
        return -1;
    for (;;) {
        if (eat(c, ')'))
            return 0;
        skip_space(c);
        if (c->p >= c->end || *c->p < '0' || *c->p > '9')
            return -1;
        uint64_t v = 0;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            unsigned d = (unsigned)(*c->p++ - '0');
            if (v > (UINT64_MAX - d) / 10) {
                *why = "shape entry overflows 64 bits";
                return -1;
            }
            v = v * 10 + d;
        }
        if (*ndim == NPY_MAX_NDIM) {
            *why = "shape has too many dimensions";
            return -1;
        }
        shape[(*ndim)++] = v;
        if (!eat(c, ',')) {
            if (eat(c, ')'))
                return *ndim == 1 ? -1 : 0; /* "(n)" is not a tuple */
            return -1;
        }
    }
}

static int parse_npy(npy_t *a, const unsigned char *data, size_t size, char *err, size_t errsz)
{
    static const unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
    if (size < 10 || memcmp(data, magic, 6) != 0)
        return tensor_fail(err, errsz, EXIT_DATAERR, a->source,
                           "not a .npy file (no \\x93NUMPY magic)");
    unsigned major = data[6], minor = data[7];
    size_t start;
    uint64_t hlen;
    if (major == 1 && minor == 0) {
        hlen = (uint64_t)data[8] | (uint64_t)data[9] << 8;
        start = 10;
    } else if ((major == 2 || major == 3) && minor == 0) {
        if (size < 12)
            return tensor_fail(err, errsz, EXIT_DATAERR, a->source,
                               "file too short for its header length");
        hlen = (uint64_t)data[8] | (uint64_t)data[9] << 8 | (uint64_t)data[10] << 16 |
               (uint64_t)data[11] << 24;
        start = 12;
    } else {
        return tensor_fail(err, errsz, EXIT_DATAERR, a->source,
                           "format version %u.%u not supported", major, minor);
    }
    if (hlen > size - start)
        return tensor_fail(err, errsz, EXIT_DATAERR, a->source,
                           "header length %llu exceeds the file", (unsigned long long)hlen);
    cursor_t c = {(const char *)data + start, (const char *)data + start + hlen};
    int have_descr = 0, have_order = 0, have_shape = 0;
    size_t ndim = 0;
    const char *why = "header is not a dict";
    if (!eat(&c, '{'))
        return tensor_fail(err, errsz, EXIT_DATAERR, a->source, "%s", why);
    for (;;) {
        char key[32];
        if (eat(&c, '}'))
            break;
        if (read_string(&c, key, sizeof key) != 0 || !eat(&c, ':'))
            return tensor_fail(err, errsz, EXIT_DATAERR, a->source, "header dict is malformed");
        if (strcmp(key, "descr") == 0 && !have_descr) {
            if (read_string(&c, a->descr, sizeof a->descr) != 0)
                return tensor_fail(err, errsz, EXIT_DATAERR, a->source,
                                   "descr is not a short string");
            have_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0 && !have_order) {
            if (read_word(&c, "True"))
                a->view.fortran_order = 1;
            else if (!read_word(&c, "False"))
                return tensor_fail(err, errsz, EXIT_DATAERR, a->source,
                                   "fortran_order is not True or False");
            have_order = 1;
        } else if (strcmp(key, "shape") == 0 && !have_shape) {
            if (read_shape(&c, a->shape, &ndim, &why) != 0)
                return tensor_fail(err, errsz, EXIT_DATAERR, a->source, "%s", why);
            have_shape = 1;
        } else {
            return tensor_fail(err, errsz, EXIT_DATAERR, a->source,
                               "unexpected or repeated key '%s' in the header", key);
        }
        if (!eat(&c, ',')) {
            if (!eat(&c, '}'))
                return tensor_fail(err, errsz, EXIT_DATAERR, a->source, "header dict is malformed");
            break;
        }
    }
    skip_space(&c);
    if (c.p != c.end)
        return tensor_fail(err, errsz, EXIT_DATAERR, a->source, "text after the header dict");
    if (!have_descr || !have_order || !have_shape)
        return tensor_fail(err, errsz, EXIT_DATAERR, a->source, "header lacks %s",
                           !have_descr   ? "descr"
                           : !have_order ? "fortran_order"
                                         : "shape");
    if (strcmp(a->descr, "<f8") == 0)
        a->view.dtype = TENSOR_F64;
    else if (strcmp(a->descr, "<f4") == 0)
        a->view.dtype = TENSOR_F32;
    else if (strcmp(a->descr, "<f2") == 0)
        a->view.dtype = TENSOR_F16;
    else if (strcmp(a->descr, "<i8") == 0 || strcmp(a->descr, "<i4") == 0)
        a->view.dtype = TENSOR_OTHER; /* token ids: tensor_view_read_i64 */
    else
        return tensor_fail(err, errsz, EXIT_DATAERR, a->source,
                           "dtype '%s' not supported (want <f8, <f4, <f2, or <i8, <i4 for "
                           "token ids)", a->descr);
    a->view.dtype_name = a->descr;
    size_t itemsize = a->view.dtype == TENSOR_OTHER ? tensor_view_int_width(&a->view)
                                                    : tensor_dtype_size(a->view.dtype);
    uint64_t nbytes;
    if (tensor_shape_numel(&a->view.numel, &nbytes, a->shape, ndim, itemsize) != 0)
        return tensor_fail(err, errsz, EXIT_DATAERR, a->source, "shape's size overflows 64 bits");
    uint64_t avail = size - start - hlen;
    if (nbytes != avail)
        return tensor_fail(err, errsz, EXIT_DATAERR, a->source,
                           "shape and dtype need %llu data bytes, file has %llu",
                           (unsigned long long)nbytes, (unsigned long long)avail);
    a->view.source = a->source;
    a->view.name = "";
    a->view.ndim = ndim;
    a->view.shape = a->shape;
    a->view.data = data + start + hlen;
    return 0;
}

int npy_open_buffer(npy_t **out, const void *data, size_t size, const char *label, char *err,
                    size_t errsz)
{
    npy_t *a = calloc(1, sizeof *a);
    int rc = a && (a->source = strdup(label))
                 ? parse_npy(a, data, size, err, errsz)
                 : tensor_fail(err, errsz, EXIT_SOFTWARE, label, "out of memory");
    if (rc != 0) {
        npy_close(a);
        a = NULL;
    }
    *out = a;
    return rc;
}

int npy_open(npy_t **out, const char *path, char *err, size_t errsz)
{
    mapped_file_t map;
    *out = NULL;
    int rc = mapped_file_open(&map, path, err, errsz);
    if (rc == 0 && (rc = npy_open_buffer(out, map.data, map.size, path, err, errsz)) == 0)
        (*out)->map = map; /* the mapping lives as long as the view */
    else
        mapped_file_close(&map);
    return rc;
}

const tensor_view_t *npy_tensor(const npy_t *a)
{
    return &a->view;
}

void npy_close(npy_t *a)
{
    if (!a)
        return;
    mapped_file_close(&a->map);
    free(a->source);
    free(a);
}
