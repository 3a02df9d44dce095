/* safetensors: a table of malformed files (each one error line, exit 65,
 * never a crash), files written byte by byte in F32/F16/BF16 read exactly
 * (every F16 and BF16 pattern, against the compiler's own conversions), and
 * the F64 writer read back bit for bit. */
#include <float.h>
#include <math.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "exitcodes.h"
#include "modelio_testutil.h"
#include "safetensors.h"

#define NOLEN UINT64_MAX /* length field = the header's own length */

static const struct {
    const char *what;
    uint64_t hlen; /* NOLEN: strlen(header) */
    const char *header;
    size_t datasz;
    const char *expect; /* substring of the error */
} malformed[] = {
    {"lying length", 1000, "{}", 0, "exceeds"},
    {"length 2^64-1", UINT64_MAX - 1, "{}", 0, "exceeds"},
    {"empty header", 0, "", 0, "does not start"},
    {"not JSON", NOLEN, "{abc", 0, "not valid JSON"},
    {"JSON array", NOLEN, "[1,2]", 0, "does not start"},
    {"trailing garbage", NOLEN, "{} x", 0, "not valid JSON"},
    {"duplicate key", NOLEN,
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
     "\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4, "not valid JSON"},
    {"invalid UTF-8", NOLEN, "{\"\xff\":1}", 0, "not valid JSON"},
    {"NUL in a key", NOLEN, "{\"a\\u0000b\":1}", 0, "not valid JSON"},
    {"entry not an object", NOLEN, "{\"a\":1}", 0, "not an object"},
    {"no dtype", NOLEN, "{\"a\":{\"shape\":[],\"data_offsets\":[0,4]}}", 4, "dtype"},
    {"dtype a number", NOLEN, "{\"a\":{\"dtype\":4,\"shape\":[],\"data_offsets\":[0,4]}}", 4,
     "dtype"},
    {"no shape", NOLEN, "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "shape"},
    {"negative dim", NOLEN, "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4,
     "shape entry 0"},
    {"real dim", NOLEN, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8,
     "shape entry 0"},
    {"dim 2^63", NOLEN,
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[9223372036854775808],\"data_offsets\":[0,4]}}", 4,
     "not valid JSON"},
    {"numel overflow", NOLEN,
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4,
     "overflows"},
    {"bytes overflow", NOLEN,
     "{\"a\":{\"dtype\":\"F64\",\"shape\":[9223372036854775807],\"data_offsets\":[0,4]}}", 4,
     "overflows"},
    {"huge shape, offsets small", NOLEN,
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[1000000000,1000],\"data_offsets\":[0,4]}}", 4,
     "need"},
    {"offsets one entry", NOLEN, "{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0]}}", 4,
     "data_offsets"},
    {"offsets negative", NOLEN,
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[-4,0]}}", 4, "data_offsets"},
    {"begin > end", NOLEN, "{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[4,0]}}", 4,
     "outside"},
    {"end past the data", NOLEN,
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "outside"},
    {"end 2^63-1", NOLEN,
     "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,9223372036854775807]}}", 4,
     "outside"},
    {"bytes not numel*size", NOLEN,
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 8, "need 8"},
    {"overlap", NOLEN,
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
     "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap"},
    {"one inside another", NOLEN,
     "{\"a\":{\"dtype\":\"U8\",\"shape\":[12],\"data_offsets\":[0,12]},"
     "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 12, "overlap"},
    {"same range twice", NOLEN,
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
     "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "overlap"},
    {"metadata not an object", NOLEN, "{\"__metadata__\":[1]}", 0, "__metadata__"},
    {"metadata value a number", NOLEN, "{\"__metadata__\":{\"k\":1}}", 0, "__metadata__"},
    {"newline in a name", NOLEN,
     "{\"a\\nb\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "a?b"},
    {"deep nesting", NOLEN,
     "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
     "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 0,
     "not valid JSON"},
};

START_TEST(test_malformed)
{
    char path[300], err[512];
    const char *h = malformed[_i].header;
    uint64_t hlen = malformed[_i].hlen == NOLEN ? strlen(h) : malformed[_i].hlen;
    unsigned char data[16] = {0};
    mio_write_safetensors(mio_path(path, sizeof path, "bad.safetensors"), hlen, h, data,
                          malformed[_i].datasz);
    safetensors_t *st = (safetensors_t *)1;
    int rc = safetensors_open(&st, path, err, sizeof err);
    ck_assert_msg(rc == EXIT_DATAERR, "%s: rc %d", malformed[_i].what, rc);
    ck_assert_ptr_null(st);
    mio_assert_one_line(err);
    ck_assert_msg(strstr(err, malformed[_i].expect) && strstr(err, path),
                  "%s: message '%s' lacks '%s' or the path", malformed[_i].what, err,
                  malformed[_i].expect);
}
END_TEST

/* Files too short, not regular, or absent; a FIFO must not block. */
START_TEST(test_not_a_file)
{
    char path[300], err[512];
    safetensors_t *st;
    static const unsigned char seven[7] = {2, 0, 0, 0, 0, 0, 0};
    mio_write_bytes(mio_path(path, sizeof path, "empty"), "", 0);
    ck_assert_int_eq(safetensors_open(&st, path, err, sizeof err), EXIT_DATAERR);
    ck_assert_ptr_nonnull(strstr(err, "too short"));
    mio_write_bytes(mio_path(path, sizeof path, "seven"), seven, 7);
    ck_assert_int_eq(safetensors_open(&st, path, err, sizeof err), EXIT_DATAERR);
    ck_assert_ptr_nonnull(strstr(err, "too short"));
    ck_assert_int_eq(safetensors_open(&st, mio_dir, err, sizeof err), EXIT_DATAERR);
    ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
    ck_assert_int_eq(safetensors_open(&st, mio_path(path, sizeof path, "absent"), err, sizeof err),
                     EXIT_DATAERR);
    ck_assert_ptr_nonnull(strstr(err, "cannot open"));
    ck_assert_int_eq(mkfifo(mio_path(path, sizeof path, "fifo"), 0600), 0);
    ck_assert_int_eq(safetensors_open(&st, path, err, sizeof err), EXIT_DATAERR);
    ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
    mio_assert_one_line(err);
}
END_TEST

/* The header cap, on a sparse file just over it. */
START_TEST(test_header_cap)
{
    char path[300], err[512];
    uint64_t hlen = SAFETENSORS_MAX_HEADER + 1;
    mio_write_safetensors(mio_path(path, sizeof path, "big"), hlen, "{", NULL, 0);
    ck_assert_int_eq(truncate(path, (off_t)(8 + hlen)), 0);
    safetensors_t *st;
    ck_assert_int_eq(safetensors_open(&st, path, err, sizeof err), EXIT_DATAERR);
    ck_assert_msg(strstr(err, "limit") != NULL, "%s", err);
}
END_TEST

/* Oracles: the compiler's own float types. */
static double oracle_f32(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, 4);
    return (double)f;
}
static double oracle_bf16(uint16_t bits) { return oracle_f32((uint32_t)bits << 16); }
#ifdef __FLT16_MAX__
static double oracle_f16(uint16_t bits)
{
    _Float16 h;
    memcpy(&h, &bits, 2);
    return (double)h;
}
#endif

static int finite_pattern(uint32_t bits, int ebits, int mbits)
{
    uint32_t e = (bits >> mbits) & ((1u << ebits) - 1);
    return e != (1u << ebits) - 1;
}

/* Every finite 16-bit pattern of F16 and BF16, and F32 edge and random
 * patterns, written byte by byte and read back against the oracles. */
START_TEST(test_small_floats_exact)
{
    char path[300], err[512], header[1024];
    enum { NF32 = 4096 };
    uint16_t *f16 = malloc(65536 * 2), *bf16 = malloc(65536 * 2);
    uint32_t *f32 = malloc(NF32 * 4);
    ck_assert(f16 && bf16 && f32);
    size_t n16 = 0, nbf = 0;
    for (uint32_t b = 0; b < 65536; b++) {
        if (finite_pattern(b, 5, 10))
            f16[n16++] = (uint16_t)b;
        if (finite_pattern(b, 8, 7))
            bf16[nbf++] = (uint16_t)b;
    }
    static const uint32_t edges[] = {0, 0x80000000u, 1, 0x80000001u, 0x007fffffu, 0x00800000u,
                                     0x7f7fffffu, 0xff7fffffu, 0x3f800000u, 0x3eaaaaabu};
    gmp_randstate_t rs;
    gmp_randinit_default(rs);
    gmp_randseed_ui(rs, test_seed());
    size_t n32 = 0;
    for (size_t k = 0; k < sizeof edges / sizeof edges[0]; k++)
        f32[n32++] = edges[k];
    while (n32 < NF32) {
        uint32_t b = (uint32_t)gmp_urandomb_ui(rs, 32);
        if (finite_pattern(b, 8, 23))
            f32[n32++] = b;
    }
    gmp_randclear(rs);
    /* data: f16 | bf16 | f32, each little-endian */
    size_t nbytes = 2 * n16 + 2 * nbf + 4 * n32;
    unsigned char *data = malloc(nbytes), *p = data;
    ck_assert_ptr_nonnull(data);
    for (size_t k = 0; k < n16; k++, p += 2)
        p[0] = (unsigned char)f16[k], p[1] = (unsigned char)(f16[k] >> 8);
    for (size_t k = 0; k < nbf; k++, p += 2)
        p[0] = (unsigned char)bf16[k], p[1] = (unsigned char)(bf16[k] >> 8);
    for (size_t k = 0; k < n32; k++, p += 4)
        for (int b = 0; b < 4; b++)
            p[b] = (unsigned char)(f32[k] >> (8 * b));
    snprintf(header, sizeof header,
             "{\"h\":{\"dtype\":\"F16\",\"shape\":[%zu],\"data_offsets\":[0,%zu]},"
             "\"b\":{\"dtype\":\"BF16\",\"shape\":[%zu],\"data_offsets\":[%zu,%zu]},"
             "\"s\":{\"dtype\":\"F32\",\"shape\":[2,%zu],\"data_offsets\":[%zu,%zu]},"
             "\"__metadata__\":{\"format\":\"pt\"}}   ",
             n16, 2 * n16, nbf, 2 * n16, 2 * n16 + 2 * nbf, n32 / 2, 2 * n16 + 2 * nbf, nbytes);
    mio_write_safetensors(mio_path(path, sizeof path, "small.safetensors"), strlen(header), header,
                          data, nbytes);
    safetensors_t *st;
    ck_assert_int_eq(safetensors_open(&st, path, err, sizeof err), 0);
    ck_assert_uint_eq(safetensors_num_tensors(st), 3);
    ck_assert_str_eq(safetensors_tensor(st, 0)->name, "b"); /* sorted by name */
    ck_assert_str_eq(safetensors_metadata_get(st, "format"), "pt");
    double *x = malloc(65536 * sizeof *x);
    ck_assert_ptr_nonnull(x);

    const tensor_view_t *v = safetensors_find(st, "b");
    ck_assert_int_eq(tensor_view_read_f64(x, v, err, sizeof err), 0);
    for (size_t k = 0; k < nbf; k++) {
        double want = oracle_bf16(bf16[k]);
        ck_assert_msg(memcmp(&x[k], &want, 8) == 0, "BF16 %04x: %a != %a", bf16[k], x[k], want);
    }
#ifdef __FLT16_MAX__
    v = safetensors_find(st, "h");
    ck_assert_int_eq(tensor_view_read_f64(x, v, err, sizeof err), 0);
    for (size_t k = 0; k < n16; k++) {
        double want = oracle_f16(f16[k]);
        ck_assert_msg(memcmp(&x[k], &want, 8) == 0, "F16 %04x: %a != %a", f16[k], x[k], want);
    }
#endif
    v = safetensors_find(st, "s");
    ck_assert_uint_eq(v->ndim, 2);
    ck_assert_int_eq(tensor_view_read_f64(x, v, err, sizeof err), 0);
    for (size_t k = 0; k < n32; k++) {
        double want = oracle_f32(f32[k]);
        ck_assert_msg(memcmp(&x[k], &want, 8) == 0, "F32 %08x: %a != %a", f32[k], x[k], want);
    }
    /* the smallest subnormals and negative zero, by value */
    ck_assert(x[2] == 0x1p-149 && signbit(x[1]) && x[1] == 0);
    safetensors_close(st);
    free(x);
    free(data);
    free(f16);
    free(bf16);
    free(f32);
}
END_TEST

/* NaN or Inf in a tensor that is read is bad data naming the tensor; other
 * tensors of the file still read; other dtypes fail only when read. */
START_TEST(test_bad_values)
{
    static const struct {
        const char *dtype;
        unsigned char bytes[8];
        size_t size;
    } bad[] = {
        {"F64", {0, 0, 0, 0, 0, 0, 0xf8, 0x7f}, 8}, /* NaN */
        {"F64", {0, 0, 0, 0, 0, 0, 0xf0, 0xff}, 8}, /* -Inf */
        {"F32", {0, 0, 0x80, 0x7f}, 4},             /* Inf */
        {"F32", {1, 0, 0x80, 0xff}, 4},             /* NaN */
        {"F16", {0, 0x7c}, 2},                      /* Inf */
        {"F16", {1, 0xfe}, 2},                      /* NaN */
        {"BF16", {0x80, 0x7f}, 2},                  /* Inf */
        {"BF16", {0xc1, 0xff}, 2},                  /* NaN */
        {"I64", {0}, 8},
        {"U8", {0}, 1},
        {"F8_E4M3", {0}, 1},
    };
    char path[300], err[512], header[512];
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        unsigned char data[16] = {0, 0, 0x80, 0x3f}; /* "ok": F32 1.0 */
        memcpy(data + 4, bad[k].bytes, bad[k].size);
        snprintf(header, sizeof header,
                 "{\"ok\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                 "\"bad.%zu\":{\"dtype\":\"%s\",\"shape\":[1],\"data_offsets\":[4,%zu]}}",
                 k, bad[k].dtype, 4 + bad[k].size);
        mio_write_safetensors(mio_path(path, sizeof path, "v.safetensors"), strlen(header), header,
                              data, 4 + bad[k].size);
        safetensors_t *st;
        ck_assert_int_eq(safetensors_open(&st, path, err, sizeof err), 0);
        double x[2];
        ck_assert_int_eq(tensor_view_read_f64(x, safetensors_find(st, "ok"), err, sizeof err), 0);
        ck_assert(x[0] == 1.0);
        const tensor_view_t *v = safetensors_tensor(st, 0);
        ck_assert_int_eq(tensor_view_read_f64(x, v, err, sizeof err), EXIT_DATAERR);
        mio_assert_one_line(err);
        char want[32];
        snprintf(want, sizeof want, "'bad.%zu'", k);
        ck_assert_msg(strstr(err, want) != NULL, "%s", err);
        safetensors_close(st);
    }
}
END_TEST

/* Unknown dtypes are listed; their size is not checked; gaps are allowed. */
START_TEST(test_unknown_dtype_and_gaps)
{
    char path[300], err[512];
    const char *h = "{\"q\":{\"dtype\":\"Q4_K\",\"shape\":[7],\"data_offsets\":[0,3]},"
                    "\"x\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[6,8]},"
                    "\"e\":{\"dtype\":\"F64\",\"shape\":[0,5],\"data_offsets\":[8,8]}}";
    unsigned char data[8] = {1, 2, 3, 0, 0, 0, 0x00, 0x3c}; /* x = 1.0 */
    mio_write_safetensors(mio_path(path, sizeof path, "u.safetensors"), strlen(h), h, data, 8);
    safetensors_t *st;
    ck_assert_int_eq(safetensors_open(&st, path, err, sizeof err), 0);
    double x[1];
    ck_assert_int_eq(tensor_view_read_f64(x, safetensors_find(st, "x"), err, sizeof err), 0);
    ck_assert(x[0] == 1.0);
    const tensor_view_t *e = safetensors_find(st, "e");
    ck_assert_uint_eq(e->numel, 0);
    ck_assert_int_eq(tensor_view_read_f64(x, e, err, sizeof err), 0);
    ck_assert_int_eq(tensor_view_read_f64(x, safetensors_find(st, "q"), err, sizeof err),
                     EXIT_DATAERR);
    ck_assert_ptr_nonnull(strstr(err, "Q4_K"));
    ck_assert_ptr_null(safetensors_find(st, "nope"));
    safetensors_close(st);
}
END_TEST

/* A mapped file cut short under the reader: reading a page past the new
 * end raises SIGBUS, which ends the process with one line and 65 (the
 * cleanup of a fatal error), never a crash.  Run in a child of its own. */
START_TEST(test_truncated_while_mapped)
{
    char path[300], errpath[300], err[512], text[1024];
    enum { N = 4096 }; /* 32 KiB of F64: pages past the cut */
    char h[128];
    snprintf(h, sizeof h, "{\"x\":{\"dtype\":\"F64\",\"shape\":[%d],\"data_offsets\":[0,%d]}}", N,
             8 * N);
    static double data[N];
    for (int k = 0; k < N; k++)
        data[k] = k;
    mio_write_safetensors(mio_path(path, sizeof path, "cut.safetensors"), strlen(h), h, data,
                          sizeof data);
    safetensors_t *st;
    ck_assert_int_eq(safetensors_open(&st, path, err, sizeof err), 0);
    ck_assert_int_eq(truncate(path, 4096), 0);
    mio_path(errpath, sizeof errpath, "stderr.txt");
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *e = freopen(errpath, "w", stderr);
        static double x[N];
        if (!e)
            _exit(99);
        int rc = tensor_view_read_f64(x, safetensors_find(st, "x"), err, sizeof err);
        _exit(rc == 0 ? 98 : 97); /* not reached: the read faults */
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    safetensors_close(st);
    mio_path(errpath, sizeof errpath, "stderr.txt");
    FILE *f = fopen(errpath, "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[n] = '\0';
    if (f)
        fclose(f);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == EXIT_DATAERR,
                  "status %d (signal %d): %s", status, WIFSIGNALED(status) ? WTERMSIG(status) : 0,
                  text);
    ck_assert_msg(strstr(text, "cut.safetensors: the file shrank while it was read"), "%s", text);
    ck_assert_int_eq(test_count_lines(text), 1);
}
END_TEST

/* Random doubles of every kind, including subnormals and -0. */
static double random_double(gmp_randstate_t rs)
{
    switch (gmp_urandomm_ui(rs, 6)) {
    case 0: return -0.0;
    case 1: return ldexp((double)gmp_urandomb_ui(rs, 30), -1074); /* subnormal */
    case 2: return gmp_urandomb_ui(rs, 1) ? DBL_MAX : -DBL_TRUE_MIN;
    default: {
        double m = (double)gmp_urandomb_ui(rs, 53) + 1;
        long e = (long)gmp_urandomm_ui(rs, 2000) - 1000;
        return (gmp_urandomb_ui(rs, 1) ? -1 : 1) * ldexp(m, (int)e - 53);
    }
    }
}

/* Written by the writer, read back bit for bit; the same tensors given in
 * another order give the same bytes. */
START_TEST(test_writer_round_trip)
{
    char path[300], path2[300], err[512];
    gmp_randstate_t rs;
    gmp_randinit_default(rs);
    gmp_randseed_ui(rs, test_seed() + 1);
    static const uint64_t s0[] = {0}, s1[] = {3, 4}, s2[] = {2, 0, 5}, s3[] = {17};
    double a[1], b[12], d[17];
    for (size_t i = 0; i < 12; i++)
        b[i] = random_double(rs);
    for (size_t i = 0; i < 17; i++)
        d[i] = random_double(rs);
    a[0] = random_double(rs);
    gmp_randclear(rs);
    safetensors_entry_t t[] = {
        {"z.scalar", 0, s0, a}, {"blocks.0.attn.W_Q", 2, s1, b},
        {"empty", 3, s2, NULL}, {"a.vec", 1, s3, d},
    };
    const char *mk[] = {"zeta", "config", "format"}, *mv[] = {"last", "{\"d_model\":4}", "pt"};
    mio_path(path, sizeof path, "w.safetensors");
    ck_assert_int_eq(safetensors_write_f64(path, t, 4, mk, mv, 3, err, sizeof err), 0);
    safetensors_t *st;
    ck_assert_int_eq(safetensors_open(&st, path, err, sizeof err), 0);
    ck_assert_uint_eq(safetensors_num_tensors(st), 4);
    ck_assert_uint_eq(safetensors_num_metadata(st), 3);
    ck_assert_str_eq(safetensors_metadata_key(st, 0), "config");
    ck_assert_str_eq(safetensors_metadata_value(st, 0), "{\"d_model\":4}");
    for (size_t k = 0; k < 4; k++) {
        const tensor_view_t *v = safetensors_find(st, t[k].name);
        ck_assert_ptr_nonnull(v);
        ck_assert_str_eq(v->dtype_name, "F64");
        ck_assert_uint_eq(v->ndim, t[k].ndim);
        uint64_t n = 1;
        for (size_t i = 0; i < v->ndim; i++) {
            ck_assert_uint_eq(v->shape[i], t[k].shape[i]);
            n *= t[k].shape[i];
        }
        double got[17];
        ck_assert_int_eq(tensor_view_read_f64(got, v, err, sizeof err), 0);
        ck_assert_msg(n == 0 || memcmp(got, t[k].data, n * 8) == 0, "%s differs", t[k].name);
    }
    safetensors_close(st);

    /* another order, same bytes; header and data 8-byte aligned */
    safetensors_entry_t r[] = {t[3], t[1], t[0], t[2]};
    const char *mk2[] = {"format", "zeta", "config"}, *mv2[] = {"pt", "last", "{\"d_model\":4}"};
    mio_path(path2, sizeof path2, "w2.safetensors");
    ck_assert_int_eq(safetensors_write_f64(path2, r, 4, mk2, mv2, 3, err, sizeof err), 0);
    FILE *f1 = fopen(path, "rb"), *f2 = fopen(path2, "rb");
    ck_assert(f1 && f2);
    unsigned char buf1[4096], buf2[4096];
    size_t n1 = fread(buf1, 1, sizeof buf1, f1), n2 = fread(buf2, 1, sizeof buf2, f2);
    fclose(f1);
    fclose(f2);
    ck_assert_uint_eq(n1, n2);
    ck_assert(memcmp(buf1, buf2, n1) == 0);
    ck_assert_uint_eq(buf1[0] % 8, 0);
}
END_TEST

/* The writer refuses bad input and leaves nothing behind. */
START_TEST(test_writer_refuses)
{
    char path[300], err[512];
    static const uint64_t s1[] = {2}, huge[] = {UINT64_MAX, 0};
    double good[2] = {1, 2}, nan2[2] = {1, NAN};
    safetensors_entry_t dup[] = {{"a", 1, s1, good}, {"a", 1, s1, good}};
    safetensors_entry_t nan[] = {{"a", 1, s1, nan2}};
    safetensors_entry_t empty[] = {{"", 1, s1, good}};
    safetensors_entry_t meta[] = {{"__metadata__", 1, s1, good}};
    safetensors_entry_t big[] = {{"a", 2, huge, good}};
    const char *mk[] = {"k", "k"}, *mv[] = {"1", "2"};
    mio_path(path, sizeof path, "refused.safetensors");
    ck_assert_int_eq(safetensors_write_f64(path, dup, 2, NULL, NULL, 0, err, sizeof err),
                     EXIT_DATAERR);
    ck_assert_ptr_nonnull(strstr(err, "twice"));
    ck_assert_int_eq(safetensors_write_f64(path, nan, 1, NULL, NULL, 0, err, sizeof err),
                     EXIT_DATAERR);
    ck_assert_ptr_nonnull(strstr(err, "NaN"));
    ck_assert_int_eq(safetensors_write_f64(path, empty, 1, NULL, NULL, 0, err, sizeof err),
                     EXIT_DATAERR);
    ck_assert_int_eq(safetensors_write_f64(path, meta, 1, NULL, NULL, 0, err, sizeof err),
                     EXIT_DATAERR);
    ck_assert_int_eq(safetensors_write_f64(path, big, 1, NULL, NULL, 0, err, sizeof err),
                     EXIT_DATAERR);
    ck_assert_int_eq(safetensors_write_f64(path, nan, 0, mk, mv, 2, err, sizeof err),
                     EXIT_DATAERR);
    struct stat sb;
    ck_assert_int_ne(stat(path, &sb), 0);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s')\"", mio_dir);
    ck_assert_int_eq(system(cmd), 0);
    /* a directory that does not exist: cannot create */
    ck_assert_int_eq(safetensors_write_f64(mio_path(path, sizeof path, "no/such/x"), nan, 0, NULL,
                                           NULL, 0, err, sizeof err),
                     EXIT_CANTCREAT);
}
END_TEST

Suite *suite_safetensors(void)
{
    Suite *s = suite_create("safetensors");
    TCase *tc = tcase_create("reader");
    tcase_add_checked_fixture(tc, mio_tmp_setup, mio_tmp_teardown);
    tcase_add_loop_test(tc, test_malformed, 0, (int)(sizeof malformed / sizeof malformed[0]));
    tcase_add_test(tc, test_not_a_file);
    tcase_add_test(tc, test_header_cap);
    tcase_add_test(tc, test_small_floats_exact);
    tcase_add_test(tc, test_bad_values);
    tcase_add_test(tc, test_unknown_dtype_and_gaps);
    tcase_add_test(tc, test_truncated_while_mapped);
    suite_add_tcase(s, tc);
    TCase *tw = tcase_create("writer");
    tcase_add_checked_fixture(tw, mio_tmp_setup, mio_tmp_teardown);
    tcase_add_test(tw, test_writer_round_trip);
    tcase_add_test(tw, test_writer_refuses);
    suite_add_tcase(s, tw);
    return s;
}
