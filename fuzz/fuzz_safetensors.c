/* libFuzzer target for the safetensors reader and the model loader: any
 * byte string is either refused with one line naming the source, or parsed
 * into tensors that every read stays inside (ASan checks the bounds; the
 * malloc limit of the make target catches an allocation of a size the header
 * merely claims). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "safetensors.h"
#include "tensorload.h"
#include "tmodel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(const char *err)
{
    if (strncmp(err, "fuzz: ", 6) != 0 || strchr(err, '\n'))
        abort();
}

/* The input as a file, loaded as "FILE.safetensors:name" by tensor_load. */
static void load_from_file(const uint8_t *data, size_t size, const char *name)
{
    static char path[64];
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/attncheck-fuzz-%ld.safetensors", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    char *spec = malloc(strlen(path) + strlen(name) + 2);
    if (!spec)
        abort();
    sprintf(spec, "%s:%s", path, name);
    char err[512];
    tensor_f64_t t;
    if (tensor_load(&t, spec, err, sizeof err) != 0) {
        if (strncmp(err, path, strlen(path)) != 0 || strchr(err, '\n'))
            abort(); /* one line naming the file */
    } else {
        tensor_f64_clear(&t);
    }
    free(spec);
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    safetensors_t *st;
    if (safetensors_open_buffer(&st, data, size, "fuzz", err, sizeof err) != 0) {
        check_error(err);
        return 0;
    }
    for (size_t i = 0; i < safetensors_num_tensors(st); i++) {
        const tensor_view_t *v = safetensors_tensor(st, i);
        if (v->dtype == TENSOR_OTHER)
            continue;
        if (v->numel > size)
            abort(); /* a readable tensor's bytes are inside the input */
        double *x = malloc((v->numel ? v->numel : 1) * sizeof *x);
        if (!x)
            abort();
        if (tensor_view_read_f64(x, v, err, sizeof err) != 0)
            check_error(err);
        free(x);
    }
    /* --input FILE.safetensors:TENSOR: every tensor, unreadable dtypes
     * included, through the loader's copy (which must check before it
     * allocates), then the first one through the file path itself */
    for (size_t i = 0; i < safetensors_num_tensors(st); i++) {
        tensor_f64_t t;
        if (tensor_f64_from_view(&t, safetensors_tensor(st, i), err, sizeof err) != 0)
            check_error(err);
        else
            tensor_f64_clear(&t);
    }
    if (safetensors_num_tensors(st) > 0)
        load_from_file(data, size, safetensors_tensor(st, 0)->name);
    for (size_t i = 0; i < safetensors_num_metadata(st); i++)
        if (!safetensors_metadata_get(st, safetensors_metadata_key(st, i)))
            abort();
    safetensors_close(st);
    tmodel_t *m;
    if (tmodel_open_buffer(&m, data, size, "fuzz", err, sizeof err) != 0) {
        check_error(err);
        return 0;
    }
    tmodel_close(m);
    return 0;
}
