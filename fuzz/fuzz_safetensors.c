/* libFuzzer target for the safetensors reader and the model loader: any
 * byte string is either refused with one line naming the source, or parsed
 * into tensors that every read stays inside (ASan checks the bounds; the
 * malloc limit of the make target catches an allocation of a size the header
 * merely claims). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "safetensors.h"
#include "tmodel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(const char *err)
{
    if (strncmp(err, "fuzz: ", 6) != 0 || strchr(err, '\n'))
        abort();
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
