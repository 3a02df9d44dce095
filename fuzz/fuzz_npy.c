/* libFuzzer target for the .npy reader: refused with one line, or a view
 * whose every byte is inside the input (ASan), read without a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    npy_t *a;
    if (npy_open_buffer(&a, data, size, "fuzz", err, sizeof err) != 0) {
        if (strncmp(err, "fuzz: ", 6) != 0 || strchr(err, '\n'))
            abort();
        return 0;
    }
    const tensor_view_t *v = npy_tensor(a);
    if (v->numel > size)
        abort(); /* every element has at least two bytes in the input */
    double *x = malloc((v->numel ? v->numel : 1) * sizeof *x);
    if (!x)
        abort();
    if (tensor_view_read_f64(x, v, err, sizeof err) != 0 &&
        (strncmp(err, "fuzz: ", 6) != 0 || strchr(err, '\n')))
        abort();
    free(x);
    npy_close(a);
    return 0;
}
