/* safetensors: a checked reader and a deterministic F64 writer. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "exitcodes.h"
#include "outfile.h"
#include "safetensors.h"

typedef struct {
    tensor_view_t view;
    uint64_t begin, end; /* byte offsets in the data region */
} st_entry_t;

struct safetensors {
    char *source;
    mapped_file_t map; /* empty for a borrowed buffer */
    json_t *root;      /* owns every name and dtype string below */
    size_t n;
    st_entry_t *t;    /* sorted by name */
    uint64_t *shapes; /* all shapes, back to back */
    size_t n_meta;
    const char **meta_key, **meta_value; /* sorted by key */
};

static const struct {
    const char *name;
    tensor_dtype_t dtype;
    size_t size;
} st_dtypes[] = {
    {"F64", TENSOR_F64, 8},    {"F32", TENSOR_F32, 4},       {"F16", TENSOR_F16, 2},
    {"BF16", TENSOR_BF16, 2},  {"I64", TENSOR_OTHER, 8},     {"I32", TENSOR_OTHER, 4},
    {"I16", TENSOR_OTHER, 2},  {"I8", TENSOR_OTHER, 1},      {"U64", TENSOR_OTHER, 8},
    {"U32", TENSOR_OTHER, 4},  {"U16", TENSOR_OTHER, 2},     {"U8", TENSOR_OTHER, 1},
    {"BOOL", TENSOR_OTHER, 1}, {"F8_E4M3", TENSOR_OTHER, 1}, {"F8_E5M2", TENSOR_OTHER, 1},
};

/* A name shortened for a message. */
static const char *short_name(char *buf, size_t bufsz, const char *s)
{
    size_t L = strlen(s);
    if (L + 1 <= bufsz)
        return s;
    snprintf(buf, bufsz, "%.*s...", (int)(bufsz - 4), s);
    return buf;
}

static int cmp_entry_name(const void *a, const void *b)
{
    return strcmp(((const st_entry_t *)a)->view.name, ((const st_entry_t *)b)->view.name);
}

static int cmp_entry_ptr_begin(const void *a, const void *b)
{
    const st_entry_t *x = *(const st_entry_t *const *)a, *y = *(const st_entry_t *const *)b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* A JSON integer >= 0. */
static int get_uint(uint64_t *out, const json_t *v)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

/* Check one tensor entry and fill e (shape into shape_buf). */
static int parse_entry(st_entry_t *e, uint64_t *shape_buf, const char *name, const json_t *obj,
                       uint64_t data_size, const char *src, char *err, size_t errsz)
{
    char nb[96];
    const char *nm = short_name(nb, sizeof nb, name);
    if (!json_is_object(obj))
        return tensor_fail(err, errsz, EXIT_DATAERR, src, "tensor '%s': entry is not an object",
                           nm);
    const json_t *dt = json_object_get(obj, "dtype"), *sh = json_object_get(obj, "shape"),
                 *off = json_object_get(obj, "data_offsets");
    if (!json_is_string(dt))
        return tensor_fail(err, errsz, EXIT_DATAERR, src,
                           "tensor '%s': dtype missing or not a string", nm);
    if (!json_is_array(sh))
        return tensor_fail(err, errsz, EXIT_DATAERR, src,
                           "tensor '%s': shape missing or not a list", nm);
    if (!json_is_array(off) || json_array_size(off) != 2)
        return tensor_fail(err, errsz, EXIT_DATAERR, src,
                           "tensor '%s': data_offsets missing or not a list [begin, end]", nm);
    e->view.dtype_name = json_string_value(dt);
    e->view.dtype = TENSOR_OTHER;
    size_t elsize = 0;
    for (size_t k = 0; k < sizeof st_dtypes / sizeof st_dtypes[0]; k++)
        if (strcmp(e->view.dtype_name, st_dtypes[k].name) == 0) {
            e->view.dtype = st_dtypes[k].dtype;
            elsize = st_dtypes[k].size;
        }
    size_t ndim = json_array_size(sh);
    for (size_t i = 0; i < ndim; i++)
        if (get_uint(&shape_buf[i], json_array_get(sh, i)) != 0)
            return tensor_fail(err, errsz, EXIT_DATAERR, src,
                               "tensor '%s': shape entry %zu is not an integer >= 0", nm, i);
    uint64_t nbytes;
    if (tensor_shape_numel(&e->view.numel, &nbytes, shape_buf, ndim, elsize) != 0)
        return tensor_fail(err, errsz, EXIT_DATAERR, src,
                           "tensor '%s': shape's size overflows 64 bits", nm);
    if (get_uint(&e->begin, json_array_get(off, 0)) != 0 ||
        get_uint(&e->end, json_array_get(off, 1)) != 0)
        return tensor_fail(err, errsz, EXIT_DATAERR, src,
                           "tensor '%s': data_offsets are not integers >= 0", nm);
    if (e->begin > e->end || e->end > data_size)
        return tensor_fail(err, errsz, EXIT_DATAERR, src,
                           "tensor '%s': data_offsets [%llu, %llu] outside the data (%llu bytes)",
                           nm, (unsigned long long)e->begin, (unsigned long long)e->end,
                           (unsigned long long)data_size);
    if (elsize != 0 && e->end - e->begin != nbytes)
        return tensor_fail(err, errsz, EXIT_DATAERR, src,
                           "tensor '%s': data_offsets hold %llu bytes, shape and %s need %llu", nm,
                           (unsigned long long)(e->end - e->begin), e->view.dtype_name,
                           (unsigned long long)nbytes);
    e->view.name = name;
    e->view.ndim = ndim;
    e->view.shape = shape_buf;
    e->view.fortran_order = 0;
    return 0;
}

static int parse_metadata(safetensors_t *st, const json_t *meta, char *err, size_t errsz)
{
    if (!json_is_object(meta))
        return tensor_fail(err, errsz, EXIT_DATAERR, st->source, "__metadata__ is not an object");
    size_t n = json_object_size(meta);
    st->meta_key = malloc((n ? n : 1) * sizeof *st->meta_key);
    st->meta_value = malloc((n ? n : 1) * sizeof *st->meta_value);
    if (!st->meta_key || !st->meta_value)
        return tensor_fail(err, errsz, EXIT_SOFTWARE, st->source, "out of memory");
    const char *key;
    json_t *v;
    char nb[96];
    json_object_foreach((json_t *)meta, key, v)
    {
        if (!json_is_string(v))
            return tensor_fail(err, errsz, EXIT_DATAERR, st->source,
                               "__metadata__ value of '%s' is not a string",
                               short_name(nb, sizeof nb, key));
        st->meta_key[st->n_meta] = key;
        st->meta_value[st->n_meta] = json_string_value(v);
        st->n_meta++;
    }
    /* insertion sort by key (metadata maps are small) */
    for (size_t i = 1; i < st->n_meta; i++)
        for (size_t j = i; j > 0 && strcmp(st->meta_key[j - 1], st->meta_key[j]) > 0; j--) {
            const char *k = st->meta_key[j], *val = st->meta_value[j];
            st->meta_key[j] = st->meta_key[j - 1];
            st->meta_value[j] = st->meta_value[j - 1];
            st->meta_key[j - 1] = k;
            st->meta_value[j - 1] = val;
        }
    return 0;
}

/* No two non-empty tensors share a byte. */
static int check_overlap(const safetensors_t *st, char *err, size_t errsz)
{
    if (st->n < 2)
        return 0;
    const st_entry_t **by_begin = malloc(st->n * sizeof *by_begin);
    if (!by_begin)
        return tensor_fail(err, errsz, EXIT_SOFTWARE, st->source, "out of memory");
    for (size_t i = 0; i < st->n; i++)
        by_begin[i] = &st->t[i];
    qsort(by_begin, st->n, sizeof *by_begin, cmp_entry_ptr_begin);
    const st_entry_t *reach = NULL; /* the entry ending furthest so far */
    int rc = 0;
    for (size_t i = 0; i < st->n && rc == 0; i++) {
        const st_entry_t *e = by_begin[i];
        if (e->begin == e->end)
            continue;
        if (reach && e->begin < reach->end) {
            char na[64], nb[64];
            rc = tensor_fail(err, errsz, EXIT_DATAERR, st->source,
                             "tensors '%s' and '%s' overlap in the data",
                             short_name(na, sizeof na, reach->view.name),
                             short_name(nb, sizeof nb, e->view.name));
        }
        if (!reach || e->end > reach->end)
            reach = e;
    }
    free(by_begin);
    return rc;
}

static int parse_header(safetensors_t *st, const unsigned char *data, size_t size, char *err,
                        size_t errsz)
{
    if (size < 8)
        return tensor_fail(err, errsz, EXIT_DATAERR, st->source,
                           "%zu bytes: too short for the 8-byte header length", size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | data[i];
    if (hlen > size - 8)
        return tensor_fail(err, errsz, EXIT_DATAERR, st->source,
                           "header length %llu exceeds the %zu bytes that follow it",
                           (unsigned long long)hlen, size - 8);
    if (hlen > SAFETENSORS_MAX_HEADER)
        return tensor_fail(err, errsz, EXIT_DATAERR, st->source,
                           "header length %llu is over the %llu-byte limit",
                           (unsigned long long)hlen, (unsigned long long)SAFETENSORS_MAX_HEADER);
    if (hlen == 0 || data[8] != '{')
        return tensor_fail(err, errsz, EXIT_DATAERR, st->source, "header does not start with '{'");
    json_error_t jerr;
    st->root = json_loadb((const char *)data + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &jerr);
    if (!st->root)
        return tensor_fail(err, errsz, EXIT_DATAERR, st->source,
                           "header is not valid JSON: %s (byte %d)", jerr.text, jerr.position);
    if (!json_is_object(st->root))
        return tensor_fail(err, errsz, EXIT_DATAERR, st->source, "header is not a JSON object");
    uint64_t data_size = size - 8 - hlen;
    const unsigned char *region = data + 8 + hlen;

    /* room for every entry and every shape: bounded by the header's own size */
    size_t n_keys = json_object_size(st->root), n_dims = 0;
    const char *key;
    json_t *v;
    json_object_foreach(st->root, key, v)
    {
        const json_t *sh = json_is_object(v) ? json_object_get(v, "shape") : NULL;
        if (json_is_array(sh))
            n_dims += json_array_size(sh);
    }
    st->t = calloc(n_keys ? n_keys : 1, sizeof *st->t);
    st->shapes = malloc((n_dims ? n_dims : 1) * sizeof *st->shapes);
    if (!st->t || !st->shapes)
        return tensor_fail(err, errsz, EXIT_SOFTWARE, st->source, "out of memory");
    size_t dims_used = 0;
    json_object_foreach(st->root, key, v)
    {
        if (strcmp(key, "__metadata__") == 0) {
            int rc = parse_metadata(st, v, err, errsz);
            if (rc != 0)
                return rc;
            continue;
        }
        st_entry_t *e = &st->t[st->n];
        int rc = parse_entry(e, st->shapes + dims_used, key, v, data_size, st->source, err, errsz);
        if (rc != 0)
            return rc;
        dims_used += e->view.ndim;
        e->view.source = st->source;
        e->view.data = region + e->begin;
        st->n++;
    }
    qsort(st->t, st->n, sizeof *st->t, cmp_entry_name);
    return check_overlap(st, err, errsz);
}

int safetensors_open_buffer(safetensors_t **out, const void *data, size_t size, const char *label,
                            char *err, size_t errsz)
{
    safetensors_t *st = calloc(1, sizeof *st);
    int rc = st && (st->source = strdup(label))
                 ? parse_header(st, data, size, err, errsz)
                 : tensor_fail(err, errsz, EXIT_SOFTWARE, label, "out of memory");
    if (rc != 0) {
        safetensors_close(st);
        st = NULL;
    }
    *out = st;
    return rc;
}

int safetensors_open(safetensors_t **out, const char *path, char *err, size_t errsz)
{
    mapped_file_t map;
    *out = NULL;
    int rc = mapped_file_open(&map, path, err, errsz);
    if (rc == 0 && (rc = safetensors_open_buffer(out, map.data, map.size, path, err, errsz)) == 0)
        (*out)->map = map; /* the mapping lives as long as the views */
    else
        mapped_file_close(&map);
    return rc;
}

void safetensors_close(safetensors_t *st)
{
    if (!st)
        return;
    mapped_file_close(&st->map);
    json_decref(st->root);
    free(st->t);
    free(st->shapes);
    free(st->meta_key);
    free(st->meta_value);
    free(st->source);
    free(st);
}

const char *safetensors_source(const safetensors_t *st)
{
    return st->source;
}
size_t safetensors_num_tensors(const safetensors_t *st)
{
    return st->n;
}
const tensor_view_t *safetensors_tensor(const safetensors_t *st, size_t i)
{
    return i < st->n ? &st->t[i].view : NULL;
}

const tensor_view_t *safetensors_find(const safetensors_t *st, const char *name)
{
    st_entry_t key;
    key.view.name = name;
    const st_entry_t *e = bsearch(&key, st->t, st->n, sizeof *st->t, cmp_entry_name);
    return e ? &e->view : NULL;
}

size_t safetensors_num_metadata(const safetensors_t *st)
{
    return st->n_meta;
}
const char *safetensors_metadata_key(const safetensors_t *st, size_t i)
{
    return i < st->n_meta ? st->meta_key[i] : NULL;
}
const char *safetensors_metadata_value(const safetensors_t *st, size_t i)
{
    return i < st->n_meta ? st->meta_value[i] : NULL;
}
const char *safetensors_metadata_get(const safetensors_t *st, const char *key)
{
    for (size_t i = 0; i < st->n_meta; i++)
        if (strcmp(st->meta_key[i], key) == 0)
            return st->meta_value[i];
    return NULL;
}

/* ---- writer ---- */

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(**(const char *const *const *)a, **(const char *const *const *)b);
}

json_t *safetensors_header_entry(size_t ndim, const uint64_t *shape, uint64_t begin,
                                 uint64_t end)
{
    json_t *obj = json_object(), *sh = json_array(), *off = json_array();
    int bad = !obj || !sh || !off;
    for (size_t d = 0; d < ndim && !bad; d++)
        bad = json_array_append_new(sh, json_integer((json_int_t)shape[d])) != 0;
    bad = bad || json_array_append_new(off, json_integer((json_int_t)begin)) != 0 ||
          json_array_append_new(off, json_integer((json_int_t)end)) != 0 ||
          json_object_set_new(obj, "dtype", json_string("F64")) != 0 ||
          json_object_set(obj, "shape", sh) != 0 || json_object_set(obj, "data_offsets", off) != 0;
    json_decref(sh);
    json_decref(off);
    if (bad) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

/* The header JSON for tensors in the order of `order`, or NULL. */
static char *write_header(const safetensors_entry_t *t, const size_t *order, size_t n,
                          const char *const *mk, const char *const *mv, size_t n_meta)
{
    json_t *root = json_object(), *meta = n_meta ? json_object() : NULL;
    int bad = !root || (n_meta && !meta);
    for (size_t i = 0; i < n_meta && !bad; i++)
        bad = json_object_set_new(meta, mk[i], json_string(mv[i])) != 0;
    if (meta && !bad)
        bad = json_object_set(root, "__metadata__", meta) != 0;
    uint64_t offset = 0;
    for (size_t k = 0; k < n && !bad; k++) {
        const safetensors_entry_t *e = &t[order[k]];
        uint64_t numel, nbytes;
        tensor_shape_numel(&numel, &nbytes, e->shape, e->ndim, 8); /* checked by the caller */
        json_t *obj = safetensors_header_entry(e->ndim, e->shape, offset, offset + nbytes);
        bad = !obj || json_object_set_new(root, e->name, obj) != 0;
        offset += nbytes;
    }
    char *text = bad ? NULL : json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(meta);
    json_decref(root);
    return text;
}

int safetensors_write_values_f64(FILE *f, const double *x, uint64_t numel)
{
    unsigned char buf[8 * 512];
    for (uint64_t k = 0; k < numel;) {
        size_t m = 0;
        for (; m < 512 && k < numel; m++, k++) {
            uint64_t bits;
            memcpy(&bits, &x[k], 8);
            for (int b = 0; b < 8; b++)
                buf[8 * m + (size_t)b] = (unsigned char)(bits >> (8 * b));
        }
        if (fwrite(buf, 8, m, f) != m)
            return -1;
    }
    return 0;
}

/* Names unique, non-empty and not reserved; shapes and values sound. */
static int check_write_input(const safetensors_entry_t *t, size_t n, const size_t *order,
                             const char *const *mk, size_t n_meta, char *err, size_t errsz)
{
    char nb[96];
    for (size_t k = 0; k < n; k++) {
        const safetensors_entry_t *e = &t[order[k]];
        const char *nm = short_name(nb, sizeof nb, e->name);
        if (!e->name[0] || strcmp(e->name, "__metadata__") == 0)
            return tensor_fail(err, errsz, EXIT_DATAERR, "safetensors writer",
                               "bad tensor name '%s'", nm);
        if (k > 0 && strcmp(t[order[k - 1]].name, e->name) == 0)
            return tensor_fail(err, errsz, EXIT_DATAERR, "safetensors writer",
                               "tensor name '%s' appears twice", nm);
        uint64_t numel, nbytes;
        for (size_t d = 0; d < e->ndim; d++)
            if (e->shape[d] > (uint64_t)INT64_MAX)
                return tensor_fail(err, errsz, EXIT_DATAERR, "safetensors writer",
                                   "tensor '%s': dimension too large", nm);
        if (tensor_shape_numel(&numel, &nbytes, e->shape, e->ndim, 8) != 0 ||
            nbytes > (uint64_t)INT64_MAX)
            return tensor_fail(err, errsz, EXIT_DATAERR, "safetensors writer",
                               "tensor '%s': shape's size overflows", nm);
        for (uint64_t i = 0; i < numel; i++)
            if (!isfinite(e->data[i]))
                return tensor_fail(err, errsz, EXIT_DATAERR, "safetensors writer",
                                   "tensor '%s': element %llu is NaN or infinite", nm,
                                   (unsigned long long)i);
    }
    for (size_t i = 0; i < n_meta; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(mk[i], mk[j]) == 0)
                return tensor_fail(err, errsz, EXIT_DATAERR, "safetensors writer",
                                   "metadata key '%s' appears twice",
                                   short_name(nb, sizeof nb, mk[i]));
    return 0;
}

int safetensors_write_f64(const char *path, const safetensors_entry_t *tensors, size_t n,
                          const char *const *meta_keys, const char *const *meta_values,
                          size_t n_meta, char *err, size_t errsz)
{
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    const char **names = malloc((n ? n : 1) * sizeof *names);
    const char ***by_name = malloc((n ? n : 1) * sizeof *by_name);
    int rc = 0;
    if (!order || !names || !by_name) {
        rc = tensor_fail(err, errsz, EXIT_SOFTWARE, path, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        names[i] = tensors[i].name;
        by_name[i] = &names[i];
    }
    qsort(by_name, n, sizeof *by_name, cmp_str_ptr);
    for (size_t k = 0; k < n; k++)
        order[k] = (size_t)(by_name[k] - names);
    rc = check_write_input(tensors, n, order, meta_keys, n_meta, err, errsz);
    if (rc != 0)
        goto out;
    char *header = write_header(tensors, order, n, meta_keys, meta_values, n_meta);
    if (!header) {
        rc = tensor_fail(err, errsz, EXIT_SOFTWARE, path, "cannot build the header");
        goto out;
    }
    size_t hlen = strlen(header), padded = (hlen + 7) / 8 * 8;
    atomic_file_t af;
    if (atomic_open(&af, path) != 0) {
        rc = tensor_fail(err, errsz, EXIT_CANTCREAT, path, "cannot create: %s", af.why);
        free(header);
        goto out;
    }
    unsigned char len[8];
    for (int b = 0; b < 8; b++)
        len[b] = (unsigned char)((uint64_t)padded >> (8 * b));
    fwrite(len, 1, 8, af.f);
    fwrite(header, 1, hlen, af.f);
    for (size_t i = hlen; i < padded; i++)
        fputc(' ', af.f);
    free(header);
    for (size_t k = 0; k < n; k++) {
        const safetensors_entry_t *e = &tensors[order[k]];
        uint64_t numel, nbytes;
        tensor_shape_numel(&numel, &nbytes, e->shape, e->ndim, 8);
        if (safetensors_write_values_f64(af.f, e->data, numel) != 0)
            break; /* ferror is set; the commit below fails and removes the file */
    }
    if (atomic_commit(&af) != 0)
        rc = tensor_fail(err, errsz, EXIT_IOERR, path, "cannot write: %s", af.why);
out:
    free(order);
    free(names);
    free(by_name);
    return rc;
}
