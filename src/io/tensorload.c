/* An input tensor from a .npy file or a tensor of a .safetensors file. */
#include <stdlib.h>
#include <string.h>
#include "exitcodes.h"
#include "npy.h"
#include "safetensors.h"
#include "tensorload.h"

/* The files a spec opens: one of them is set on success, with *v inside it. */
typedef struct {
    safetensors_t *st;
    npy_t *npy;
} opened_t;

static void opened_close(opened_t *o)
{
    safetensors_close(o->st);
    npy_close(o->npy);
}

static int open_view(opened_t *o, const tensor_view_t **v, const char *spec, char *err,
                     size_t errsz)
{
    static const char sep[] = ".safetensors:";
    const char *cut = strstr(spec, sep);
    int rc;
    memset(o, 0, sizeof *o);
    if (cut) {
        size_t plen = (size_t)(cut - spec) + sizeof sep - 2; /* keep ".safetensors" */
        char *path = malloc(plen + 1);
        if (!path)
            return tensor_fail(err, errsz, EXIT_SOFTWARE, spec, "out of memory");
        memcpy(path, spec, plen);
        path[plen] = '\0';
        const char *name = cut + sizeof sep - 1;
        rc = safetensors_open(&o->st, path, err, errsz);
        free(path);
        if (rc != 0)
            return rc;
        *v = safetensors_find(o->st, name);
        if (*v)
            return 0;
        rc = tensor_fail(err, errsz, EXIT_DATAERR, safetensors_source(o->st),
                         "no tensor named '%s'", name);
        opened_close(o);
        return rc;
    }
    size_t L = strlen(spec);
    if (L < 4 || strcmp(spec + L - 4, ".npy") != 0)
        return tensor_fail(err, errsz, EXIT_DATAERR, spec,
                           "an input is X.npy or FILE.safetensors:TENSOR");
    rc = npy_open(&o->npy, spec, err, errsz);
    if (rc == 0)
        *v = npy_tensor(o->npy);
    return rc;
}

int tensor_load(tensor_f64_t *t, const char *spec, char *err, size_t errsz)
{
    opened_t o;
    const tensor_view_t *v;
    memset(t, 0, sizeof *t);
    int rc = open_view(&o, &v, spec, err, errsz);
    if (rc != 0)
        return rc;
    rc = tensor_f64_from_view(t, v, err, errsz);
    opened_close(&o);
    return rc;
}

int tensor_load_input(tensor_f64_t *t, int64_t **ids, uint64_t *n_ids, const char *spec,
                      char *err, size_t errsz)
{
    opened_t o;
    const tensor_view_t *v;
    memset(t, 0, sizeof *t);
    *ids = NULL;
    *n_ids = 0;
    int rc = open_view(&o, &v, spec, err, errsz);
    if (rc != 0)
        return rc;
    if (!tensor_view_int_width(v) && tensor_dtype_size(v->dtype) == 0)
        rc = tensor_fail(err, errsz, EXIT_DATAERR, spec, "dtype %s cannot be read (want F64, "
                         "F32, F16 or BF16 for a stream, I64 or I32 for token ids)",
                         v->dtype_name);
    else if (!tensor_view_int_width(v))
        rc = tensor_f64_from_view(t, v, err, errsz);
    else if (v->ndim != 1 || v->numel < 1)
        rc = tensor_fail(err, errsz, EXIT_DATAERR, spec, "token ids must have shape [n_ctx], "
                         "n_ctx >= 1 (this tensor has %zu dimensions, %llu values)", v->ndim,
                         (unsigned long long)v->numel);
    else if (!(*ids = malloc((size_t)v->numel * sizeof **ids)))
        rc = tensor_fail(err, errsz, EXIT_SOFTWARE, spec, "out of memory");
    else if ((rc = tensor_view_read_i64(*ids, v, err, errsz)) == 0)
        *n_ids = v->numel;
    if (rc != 0) {
        free(*ids);
        *ids = NULL;
    }
    opened_close(&o);
    return rc;
}
