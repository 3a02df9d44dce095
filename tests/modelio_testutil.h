/* Helpers shared by the model I/O suites: a private temporary directory and
 * raw files written byte by byte. */
#ifndef ATTNCHECK_MODELIO_TESTUTIL_H
#define ATTNCHECK_MODELIO_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "testutil.h"

/* mkdtemp'd directory for one test; removed (with its files) by mio_tmp_clear. */
static char mio_dir[256];

static inline void mio_tmp_setup(void)
{
    test_tmpdir_make(mio_dir, sizeof mio_dir, "attncheck-mio");
}

static inline void mio_tmp_teardown(void)
{
    test_tmpdir_remove(mio_dir);
}

static inline const char *mio_path(char *buf, size_t bufsz, const char *name)
{
    snprintf(buf, bufsz, "%s/%s", mio_dir, name);
    return buf;
}

static inline void mio_write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

/* A safetensors file: the given length field, header text, then datasz bytes. */
static inline void mio_write_safetensors(const char *path, uint64_t hlen, const char *header,
                                         const void *data, size_t datasz)
{
    size_t L = strlen(header);
    unsigned char *buf = malloc(8 + L + datasz + 1);
    ck_assert_ptr_nonnull(buf);
    for (int b = 0; b < 8; b++)
        buf[b] = (unsigned char)(hlen >> (8 * b));
    memcpy(buf + 8, header, L);
    if (datasz)
        memcpy(buf + 8 + L, data, datasz);
    mio_write_bytes(path, buf, 8 + L + datasz);
    free(buf);
}

/* 1 when Debian's /usr/bin/python3 imports modules ("numpy", "onnx, numpy");
 * otherwise says on stderr that what is skipped, and 0. */
static inline int mio_have_python(const char *modules, const char *what)
{
    char cmd[200];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 -c 'import %s' 2>/dev/null", modules);
    if (access("/usr/bin/python3", X_OK) == 0 && system(cmd) == 0)
        return 1;
    fprintf(stderr, "%s: /usr/bin/python3 with %s missing: skipped\n", what, modules);
    return 0;
}

/* err is exactly one line, non-empty. */
static inline void mio_assert_one_line(const char *err)
{
    ck_assert_msg(err[0] != '\0', "empty error message");
    ck_assert_msg(strchr(err, '\n') == NULL, "error has more than one line: %s", err);
}

#endif
