/* .npy: files written byte by byte (versions 1.0/2.0/3.0, C and Fortran
 * order, <f8 <f4 <f2), malformed headers, files NumPy itself wrote (when
 * Debian's python3-numpy is installed), and the --input spec. */
#include <math.h>
#include <unistd.h>
#include "exitcodes.h"
#include "modelio_testutil.h"
#include "npy.h"
#include "safetensors.h"
#include "tensorload.h"

/* A .npy file: version major.0, the dict text padded as NumPy pads it, then
 * the data. */
static void write_npy(const char *path, int major, const char *dict, const void *data,
                      size_t datasz)
{
    size_t pre = major == 1 ? 10 : 12, L = strlen(dict);
    size_t hlen = (pre + L + 1 + 63) / 64 * 64 - pre;
    unsigned char *buf = malloc(pre + hlen + datasz + 1);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    for (size_t b = 0; b < pre - 8; b++)
        buf[8 + b] = (unsigned char)(hlen >> (8 * b));
    memcpy(buf + pre, dict, L);
    memset(buf + pre + L, ' ', hlen - L - 1);
    buf[pre + hlen - 1] = '\n';
    if (datasz)
        memcpy(buf + pre + hlen, data, datasz);
    mio_write_bytes(path, buf, pre + hlen + datasz);
    free(buf);
}

static void put_le(unsigned char *p, uint64_t v, size_t w)
{
    for (size_t b = 0; b < w; b++)
        p[b] = (unsigned char)(v >> (8 * b));
}

/* A 2x3x4 tensor x[i][j][k] = i*100 + j*10 + k + 0.5 written in C and in
 * Fortran order, in each format version and dtype: C order comes back. */
START_TEST(test_orders_versions_dtypes)
{
    static const char *descr[] = {"<f8", "<f4", "<f2"};
    static const size_t width[] = {8, 4, 2};
    char path[300], err[512], dict[200];
    unsigned char data[24 * 8];
    for (int major = 1; major <= 3; major++)
        for (int d = 0; d < 3; d++)
            for (int fortran = 0; fortran <= 1; fortran++) {
                for (int i = 0; i < 2; i++)
                    for (int j = 0; j < 3; j++)
                        for (int k = 0; k < 4; k++) {
                            double v = i * 100 + j * 10 + k + 0.5; /* exact in F16 (< 2048) */
                            size_t pos = fortran ? (size_t)(i + 2 * j + 6 * k)
                                                 : (size_t)(i * 12 + j * 4 + k);
                            uint64_t bits;
                            if (d == 0) {
                                memcpy(&bits, &v, 8);
                            } else if (d == 1) {
                                float f = (float)v;
                                uint32_t b32;
                                memcpy(&b32, &f, 4);
                                bits = b32;
                            } else { /* binary16 by hand: v = m 2^e with 11-bit m */
                                int e;
                                double fr = frexp(v, &e); /* v = fr 2^e, fr in [0.5, 1) */
                                uint64_t m = (uint64_t)ldexp(fr, 11);
                                bits = (uint64_t)(e - 1 + 15) << 10 | (m & 0x3ff);
                            }
                            put_le(data + pos * width[d], bits, width[d]);
                        }
                snprintf(dict, sizeof dict,
                         "{'descr': '%s', 'fortran_order': %s, 'shape': (2, 3, 4), }", descr[d],
                         fortran ? "True" : "False");
                write_npy(mio_path(path, sizeof path, "a.npy"), major, dict, data,
                          24 * width[d]);
                npy_t *a;
                ck_assert_msg(npy_open(&a, path, err, sizeof err) == 0, "%s", err);
                const tensor_view_t *v = npy_tensor(a);
                ck_assert_uint_eq(v->ndim, 3);
                ck_assert_uint_eq(v->numel, 24);
                double x[24];
                ck_assert_int_eq(tensor_view_read_f64(x, v, err, sizeof err), 0);
                for (int n = 0; n < 24; n++)
                    ck_assert_msg(x[n] == (n / 12) * 100 + (n / 4 % 3) * 10 + n % 4 + 0.5,
                                  "v%d %s fortran=%d: x[%d] = %g", major, descr[d], fortran, n,
                                  x[n]);
                npy_close(a);
            }
}
END_TEST

START_TEST(test_scalar_and_empty)
{
    char path[300], err[512];
    double one = -0.0, x[1];
    write_npy(mio_path(path, sizeof path, "s.npy"), 1,
              "{'descr': '<f8', 'fortran_order': False, 'shape': ()}", &one, 8);
    npy_t *a;
    ck_assert_int_eq(npy_open(&a, path, err, sizeof err), 0);
    ck_assert_uint_eq(npy_tensor(a)->ndim, 0);
    ck_assert_uint_eq(npy_tensor(a)->numel, 1);
    ck_assert_int_eq(tensor_view_read_f64(x, npy_tensor(a), err, sizeof err), 0);
    ck_assert(x[0] == 0 && signbit(x[0]));
    npy_close(a);
    write_npy(path, 1, "{\"shape\": (0, 7), \"fortran_order\": True, \"descr\": \"<f4\"}", NULL, 0);
    ck_assert_int_eq(npy_open(&a, path, err, sizeof err), 0);
    ck_assert_uint_eq(npy_tensor(a)->numel, 0);
    npy_close(a);
}
END_TEST

static const struct {
    const char *what;
    int major;
    const char *dict;
    size_t datasz;
    const char *expect;
} malformed[] = {
    {"version 4", 4, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", 8, "version"},
    {"big-endian", 1, "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", 8, "'>f8'"},
    {"int16", 1, "{'descr': '<i2', 'fortran_order': False, 'shape': (1,), }", 8, "'<i2'"},
    {"big-endian ids", 1, "{'descr': '>i8', 'fortran_order': False, 'shape': (1,), }", 8, "'>i8'"},
    {"ids short", 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", 8, "need 16"},
    {"int32 ids long", 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }", 8,
     "need 4"},
    {"object dtype", 1, "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", 8, "'|O'"},
    {"structured", 1, "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }", 8,
     "descr"},
    {"no descr", 1, "{'fortran_order': False, 'shape': (1,), }", 8, "lacks descr"},
    {"no shape", 1, "{'descr': '<f8', 'fortran_order': False}", 8, "lacks shape"},
    {"extra key", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1}", 8,
     "unexpected"},
    {"repeated key", 1, "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (1,)}",
     8, "repeated"},
    {"order maybe", 1, "{'descr': '<f8', 'fortran_order': Maybe, 'shape': (1,), }", 8,
     "fortran_order"},
    {"shape not a tuple", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1), }", 8,
     "tuple"},
    {"shape a list", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': [1], }", 8, "tuple"},
    {"negative dim", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }", 8, "tuple"},
    {"dim 2^64", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (18446744073709551616,)}",
     8, "overflows"},
    {"numel 2^64", 1,
     "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", 8,
     "overflows"},
    {"shape 2^63", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (9223372036854775808,)}",
     8, "overflows"},
    {"data short", 2, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 8, "need 16"},
    {"data long", 3, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", 16, "need 8"},
    {"text after", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,)} x", 8, "after"},
    {"not a dict", 1, "['descr', '<f8']", 8, "not a dict"},
    {"unterminated", 1, "{'descr': '<f8", 8, "descr"},
    {"escape", 1, "{'descr': '<f\\8', 'fortran_order': False, 'shape': (1,)}", 8, "descr"},
};

START_TEST(test_malformed)
{
    char path[300], err[512];
    unsigned char data[16] = {0};
    write_npy(mio_path(path, sizeof path, "m.npy"), malformed[_i].major, malformed[_i].dict, data,
              malformed[_i].datasz);
    npy_t *a = (npy_t *)1;
    int rc = npy_open(&a, path, err, sizeof err);
    ck_assert_msg(rc == EXIT_DATAERR, "%s: rc %d", malformed[_i].what, rc);
    ck_assert_ptr_null(a);
    mio_assert_one_line(err);
    ck_assert_msg(strstr(err, malformed[_i].expect) != NULL, "%s: '%s' lacks '%s'",
                  malformed[_i].what, err, malformed[_i].expect);
}
END_TEST

/* Raw damage: bad magic, truncated preamble, a header length past the end. */
START_TEST(test_damaged)
{
    char path[300], err[512];
    npy_t *a;
    static const unsigned char nomagic[16] = "\x93NUMPX\x01\x00\x04\x00{}  ";
    static const unsigned char shortv2[11] = "\x93NUMPY\x02\x00\x04\x00\x00";
    static const unsigned char lying[14] = "\x93NUMPY\x01\x00\xff\xff{}\n ";
    mio_write_bytes(mio_path(path, sizeof path, "d.npy"), nomagic, sizeof nomagic);
    ck_assert_int_eq(npy_open(&a, path, err, sizeof err), EXIT_DATAERR);
    ck_assert_ptr_nonnull(strstr(err, "magic"));
    mio_write_bytes(path, shortv2, sizeof shortv2);
    ck_assert_int_eq(npy_open(&a, path, err, sizeof err), EXIT_DATAERR);
    ck_assert_ptr_nonnull(strstr(err, "too short"));
    mio_write_bytes(path, lying, sizeof lying);
    ck_assert_int_eq(npy_open(&a, path, err, sizeof err), EXIT_DATAERR);
    ck_assert_ptr_nonnull(strstr(err, "exceeds"));
    mio_write_bytes(path, "", 0);
    ck_assert_int_eq(npy_open(&a, path, err, sizeof err), EXIT_DATAERR);
    /* NaN in the data is found when read */
    double nan2[2] = {1, NAN};
    write_npy(path, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", nan2, 16);
    ck_assert_int_eq(npy_open(&a, path, err, sizeof err), 0);
    double x[2];
    ck_assert_int_eq(tensor_view_read_f64(x, npy_tensor(a), err, sizeof err), EXIT_DATAERR);
    ck_assert_ptr_nonnull(strstr(err, "element 1"));
    npy_close(a);
}
END_TEST

/* Files NumPy writes (np.save), read against the values Python prints in
 * hex.  Skipped, saying so, without Debian's numpy. */
START_TEST(test_numpy_written)
{
    if (!mio_have_python("numpy", "check_npy: files np.save wrote"))
        return;
    char script[300], out[300], cmd[1000], err[512];
    mio_path(script, sizeof script, "w.py");
    mio_path(out, sizeof out, "vals.txt");
    FILE *f = fopen(script, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "import numpy as np, sys\n"
            "d = sys.argv[1]\n"
            "r = np.random.default_rng(%lu)\n"
            "x = r.standard_normal((3, 5, 2)) * 2.0 ** r.integers(-14, 12, (3, 5, 2))\n"
            "x[0, 0, 0] = -0.0; x[0, 0, 1] = 5e-324\n"
            "with open(d + '/vals.txt', 'w') as out:\n"
            "    for t, name in ((np.float64, 'f8'), (np.float32, 'f4'), (np.float16, 'f2')):\n"
            "        y = x.astype(t)\n"
            "        np.save(d + '/c_' + name + '.npy', y)\n"
            "        np.save(d + '/f_' + name + '.npy', np.asfortranarray(y))\n"
            "        np.save(d + '/t_' + name + '.npy', y.transpose(2, 0, 1))\n"
            "        out.write(' '.join(float(v).hex() for v in y.ravel()) + '\\n')\n",
            test_seed());
    fclose(f);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s'", script, mio_dir);
    ck_assert_int_eq(system(cmd), 0);
    FILE *vals = fopen(out, "r");
    ck_assert_ptr_nonnull(vals);
    static const char *names[] = {"f8", "f4", "f2"};
    for (int d = 0; d < 3; d++) {
        double want[30], got[30];
        char hex[64];
        for (int k = 0; k < 30; k++) {
            ck_assert_int_eq(fscanf(vals, "%63s", hex), 1);
            want[k] = strtod(hex, NULL);
        }
        for (int layout = 0; layout < 3; layout++) {
            char path[300], file[16];
            snprintf(file, sizeof file, "%c_%s.npy", "cft"[layout], names[d]);
            npy_t *a;
            ck_assert_msg(npy_open(&a, mio_path(path, sizeof path, file), err, sizeof err) == 0,
                          "%s", err);
            ck_assert_int_eq(tensor_view_read_f64(got, npy_tensor(a), err, sizeof err), 0);
            for (int k = 0; k < 30; k++) {
                /* t_ holds x.transpose(2, 0, 1): got[c][i][j] = x[i][j][c] */
                int src = layout == 2 ? (k % 15) / 5 * 10 + k % 5 * 2 + k / 15 : k;
                ck_assert_msg(memcmp(&got[k], &want[src], 8) == 0, "%s[%d]: %a != %a", file, k,
                              got[k], want[src]);
            }
            ck_assert_int_eq(npy_tensor(a)->fortran_order, layout == 1);
            npy_close(a);
        }
    }
    fclose(vals);
}
END_TEST

/* --input specs: X.npy, FILE.safetensors:TENSOR, and the errors. */
START_TEST(test_tensor_load)
{
    char path[300], spec[400], err[512];
    double v[3] = {1.5, -2, 0x1p-1074};
    write_npy(mio_path(path, sizeof path, "in.npy"), 1,
              "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 3), }", v, 24);
    tensor_f64_t t;
    ck_assert_int_eq(tensor_load(&t, path, err, sizeof err), 0);
    ck_assert_uint_eq(t.ndim, 2);
    ck_assert_uint_eq(t.shape[1], 3);
    ck_assert(memcmp(t.data, v, 24) == 0);
    tensor_f64_clear(&t);
    static const uint64_t shape[] = {3};
    safetensors_entry_t e = {"blocks.0.hook_resid_pre", 1, shape, v};
    mio_path(path, sizeof path, "acts.safetensors");
    ck_assert_int_eq(safetensors_write_f64(path, &e, 1, NULL, NULL, 0, err, sizeof err), 0);
    snprintf(spec, sizeof spec, "%s:blocks.0.hook_resid_pre", path);
    ck_assert_int_eq(tensor_load(&t, spec, err, sizeof err), 0);
    ck_assert_uint_eq(t.numel, 3);
    ck_assert(memcmp(t.data, v, 24) == 0);
    tensor_f64_clear(&t);
    snprintf(spec, sizeof spec, "%s:missing", path);
    ck_assert_int_eq(tensor_load(&t, spec, err, sizeof err), EXIT_DATAERR);
    ck_assert_ptr_nonnull(strstr(err, "no tensor named 'missing'"));
    ck_assert_int_eq(tensor_load(&t, path, err, sizeof err), EXIT_DATAERR); /* no :TENSOR */
    ck_assert_ptr_nonnull(strstr(err, "X.npy or FILE.safetensors:TENSOR"));
    snprintf(spec, sizeof spec, "%s/none.safetensors:x", mio_dir);
    ck_assert_int_eq(tensor_load(&t, spec, err, sizeof err), EXIT_DATAERR);
    ck_assert_ptr_nonnull(strstr(err, "cannot open"));
    ck_assert_int_eq(tensor_load(&t, "/nonexistent/x.npy", err, sizeof err), EXIT_DATAERR);
    mio_assert_one_line(err);
    /* a dtype of unknown size is not checked against the data by the
     * reader: its shape, 2^40 values, must not be allocated before the
     * dtype is refused */
    const char *h = "{\"T\":{\"dtype\":\"F77\",\"shape\":[1099511627776],\"data_offsets\":[0,8]}}";
    mio_write_safetensors(mio_path(path, sizeof path, "f77.safetensors"), strlen(h), h, v, 8);
    snprintf(spec, sizeof spec, "%s:T", path);
    ck_assert_int_eq(tensor_load(&t, spec, err, sizeof err), EXIT_DATAERR);
    ck_assert_msg(strstr(err, "dtype F77 cannot be read"), "%s", err);
    mio_assert_one_line(err);
}
END_TEST

Suite *suite_npy(void)
{
    Suite *s = suite_create("npy");
    TCase *tc = tcase_create("reader");
    tcase_add_checked_fixture(tc, mio_tmp_setup, mio_tmp_teardown);
    tcase_add_test(tc, test_orders_versions_dtypes);
    tcase_add_test(tc, test_scalar_and_empty);
    tcase_add_loop_test(tc, test_malformed, 0, (int)(sizeof malformed / sizeof malformed[0]));
    tcase_add_test(tc, test_damaged);
    tcase_add_test(tc, test_numpy_written);
    tcase_add_test(tc, test_tensor_load);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
