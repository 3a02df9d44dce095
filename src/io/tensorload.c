/* An input tensor from a .npy file or a tensor of a .safetensors file. */
#include <stdlib.h>
#include <string.h>
#include "exitcodes.h"
#include "npy.h"
#include "safetensors.h"
#include "tensorload.h"

int tensor_load(tensor_f64_t *t, const char *spec, char *err, size_t errsz)
{
    static const char sep[] = ".safetensors:";
    const char *cut = strstr(spec, sep);
    int rc;
    memset(t, 0, sizeof *t);
    if (cut) {
        size_t plen = (size_t)(cut - spec) + sizeof sep - 2; /* keep ".safetensors" */
        char *path = malloc(plen + 1);
        if (!path)
            return tensor_fail(err, errsz, EXIT_SOFTWARE, spec, "out of memory");
        memcpy(path, spec, plen);
        path[plen] = '\0';
        const char *name = cut + sizeof sep - 1;
        safetensors_t *st;
        rc = safetensors_open(&st, path, err, errsz);
        free(path);
        if (rc != 0)
            return rc;
        const tensor_view_t *v = safetensors_find(st, name);
        rc = v ? tensor_f64_from_view(t, v, err, errsz)
               : tensor_fail(err, errsz, EXIT_DATAERR, safetensors_source(st),
                             "no tensor named '%s'", name);
        safetensors_close(st);
        return rc;
    }
    size_t L = strlen(spec);
    if (L < 4 || strcmp(spec + L - 4, ".npy") != 0)
        return tensor_fail(err, errsz, EXIT_DATAERR, spec,
                           "an input is X.npy or FILE.safetensors:TENSOR");
    npy_t *a;
    rc = npy_open(&a, spec, err, errsz);
    if (rc != 0)
        return rc;
    rc = tensor_f64_from_view(t, npy_tensor(a), err, errsz);
    npy_close(a);
    return rc;
}
