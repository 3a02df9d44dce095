/* Converted networks out (aonet_export.h).  Tensor bytes go to an
 * anonymous temporary file as they come (tmpfile: removed by the system
 * however the run ends); at commit the header is written and the bytes are
 * copied behind it, through the atomic output files of outfile.h. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "aonet_export.h"
#include "exitcodes.h"
#include "outfile.h"
#include "report.h"
#include "safetensors.h"
#include "tensorio.h"
#include "xalloc.h"

struct aonet_export {
    char path[OUTFILE_PATH_MAX];
    FILE *data;
    uint64_t offset;
    json_t *header;       /* name -> header entry */
    json_t *corrections;  /* name -> [[index, "exact decimal"], ...] */
    json_t *layers;       /* the network description's layers */
    json_t *ln_final;
    json_t *meta;         /* key -> text */
    long D, d;
};

static int fail_oom(char *err, size_t errsz)
{
    snprintf(err, errsz, "export: out of memory");
    return EXIT_SOFTWARE;
}

int aonet_export_open(aonet_export_t **out, const char *path, char *err, size_t errsz)
{
    *out = NULL;
    if (strlen(path) >= OUTFILE_PATH_MAX - 8) {
        snprintf(err, errsz, "export: path '%.60s...' is too long", path);
        return EXIT_CANTCREAT;
    }
    /* the targets are checked now, so a refused path costs no computation */
    char jpath[OUTFILE_PATH_MAX + 8];
    snprintf(jpath, sizeof jpath, "%s.json", path);
    const char *targets[2] = {path, jpath};
    for (int k = 0; k < 2; k++) {
        /* two files, the second named after the first: never a stream's
         * companion ("-.json", /dev/null.json) */
        if (outfile_is_stream(targets[k])) {
            snprintf(err, errsz, "cannot write to '%s': the converted network is two files, FILE "
                     "and FILE.json: FILE must be a regular file or a new name", targets[k]);
            return EXIT_CANTCREAT;
        }
        atomic_file_t a;
        if (atomic_open(&a, targets[k]) != 0) {
            snprintf(err, errsz, "cannot write to '%s': %s", targets[k], a.why);
            return EXIT_CANTCREAT;
        }
        atomic_abort(&a);
    }
    aonet_export_t *ex = xcalloc(1, sizeof *ex);
    snprintf(ex->path, sizeof ex->path, "%s", path);
    ex->data = tmpfile();
    ex->header = json_object();
    ex->corrections = json_object();
    ex->layers = json_array();
    ex->meta = json_object();
    ex->D = ex->d = -1;
    if (!ex->data) {
        snprintf(err, errsz, "export: cannot create a temporary file: %s", strerror(errno));
        aonet_export_abort(ex);
        return EXIT_CANTCREAT;
    }
    if (!ex->header || !ex->corrections || !ex->layers || !ex->meta) {
        aonet_export_abort(ex);
        return fail_oom(err, errsz);
    }
    *out = ex;
    return 0;
}

void aonet_export_abort(aonet_export_t *ex)
{
    if (!ex)
        return;
    if (ex->data)
        fclose(ex->data);
    json_decref(ex->header);
    json_decref(ex->corrections);
    json_decref(ex->layers);
    json_decref(ex->ln_final);
    json_decref(ex->meta);
    free(ex);
}

void aonet_export_meta(aonet_export_t *ex, const char *key, const char *value)
{
    json_object_set_new(ex->meta, key, json_string(value));
}

int aonet_export_f64(aonet_export_t *ex, const char *name, size_t ndim, const uint64_t *shape,
                     const double *data, char *err, size_t errsz)
{
    uint64_t numel, nbytes;
    if (json_object_get(ex->header, name) || strcmp(name, "__metadata__") == 0 || !*name) {
        snprintf(err, errsz, "export: internal: tensor name '%s' repeated or reserved", name);
        return EXIT_SOFTWARE;
    }
    if (tensor_shape_numel(&numel, &nbytes, shape, ndim, 8) != 0) {
        snprintf(err, errsz, "export: tensor '%s': its size overflows", name);
        return EXIT_SOFTWARE;
    }
    for (uint64_t k = 0; k < numel; k++)
        if (!isfinite(data[k])) {
            snprintf(err, errsz, "export: tensor '%s': a value is not finite", name);
            return EXIT_SOFTWARE;
        }
    json_t *e = safetensors_header_entry(ndim, shape, ex->offset, ex->offset + nbytes);
    if (!e || json_object_set_new(ex->header, name, e) != 0)
        return fail_oom(err, errsz);
    if (safetensors_write_values_f64(ex->data, data, numel) != 0) {
        snprintf(err, errsz, "export: cannot write the temporary file: %s", strerror(errno));
        return EXIT_IOERR;
    }
    ex->offset += nbytes;
    return 0;
}

/* The exact decimal of a point ball (malloc'd). */
static char *exact_decimal(const arb_t x)
{
    slong bits = arf_bits(arb_midref(x));
    mpfr_t m;
    mpfr_init2(m, bits > 2 ? bits : 2);
    arf_get_mpfr(m, arb_midref(x), MPFR_RNDN); /* exact: the precision holds every bit */
    char *s = fr_exact_decimal(m);
    mpfr_clear(m);
    return s;
}

/* The value of an exact ball as the nearest double; when that is not the
 * number itself, its exact decimal is set in corr under its index. */
static int ball_to_double(double *v, arb_srcptr x, uint64_t index, json_t *corr)
{
    if (!arb_is_exact(x))
        return -1;
    *v = arf_get_d(arb_midref(x), ARF_RND_NEAR);
    arf_t back;
    arf_init(back);
    arf_set_d(back, *v);
    int same = arf_equal(back, arb_midref(x));
    arf_clear(back);
    if (!same) {
        char *s = exact_decimal(x);
        char key[32];
        snprintf(key, sizeof key, "%llu", (unsigned long long)index);
        json_object_set_new(corr, key, json_string(s));
        free(s);
    }
    return 0;
}

/* Entries of A in the order given by idx(k) for k < numel, as a tensor. */
static int put_balls(aonet_export_t *ex, const char *name, size_t ndim, const uint64_t *shape,
                     const imat_t A, long (*idx)(const uint64_t *shape, uint64_t k, long cols),
                     char *err, size_t errsz)
{
    uint64_t numel = 1;
    for (size_t i = 0; i < ndim; i++)
        numel *= shape[i];
    double *v = xmallocarray((size_t)(numel ? numel : 1), sizeof *v);
    json_t *corr = json_object();
    int rc = corr ? 0 : fail_oom(err, errsz);
    for (uint64_t k = 0; k < numel && rc == 0; k++)
        if (ball_to_double(v + k, A->e + (idx ? idx(shape, k, A->cols) : (long)k), k, corr) != 0) {
            snprintf(err, errsz, "export: internal: tensor '%s' has an inexact entry", name);
            rc = EXIT_SOFTWARE;
        }
    if (rc == 0)
        rc = aonet_export_f64(ex, name, ndim, shape, v, err, errsz);
    if (rc == 0 && json_object_size(corr) > 0 &&
        json_object_set(ex->corrections, name, corr) != 0)
        rc = fail_oom(err, errsz);
    json_decref(corr);
    free(v);
    return rc;
}

int aonet_export_matrix(aonet_export_t *ex, const char *name, const imat_t A, char *err,
                        size_t errsz)
{
    uint64_t shape[2] = {(uint64_t)A->rows, (uint64_t)A->cols};
    return put_balls(ex, name, 2, shape, A, NULL, err, errsz);
}

int aonet_export_midpoints(aonet_export_t *ex, const char *name, const imat_t A, char *err,
                           size_t errsz)
{
    uint64_t shape[2] = {(uint64_t)A->rows, (uint64_t)A->cols};
    double *v = xmallocarray((size_t)(A->rows * A->cols > 0 ? A->rows * A->cols : 1), sizeof *v);
    for (long k = 0; k < A->rows * A->cols; k++)
        v[k] = arf_get_d(arb_midref(A->e + k), ARF_RND_NEAR);
    int rc = aonet_export_f64(ex, name, 2, shape, v, err, errsz);
    free(v);
    return rc;
}

int aonet_export_network(aonet_export_t *ex, const aonet_t *A, char *err, size_t errsz)
{
    int rc = 0;
    ex->d = A->d;
    ex->D = A->D;
    for (long k = 0; k < A->n_layers && rc == 0; k++)
        rc = aonet_export_layer(ex, k, A->layers + k, err, errsz);
    if (rc == 0 && A->ln_final.kind != AONET_LN_NONE)
        rc = aonet_export_final_ln(ex, &A->ln_final, err, errsz);
    if (ex->d < 0)
        ex->d = A->d;
    return rc;
}

/* [n, D, r] from the stacked D x (n r): entry (h, i, e) is (i, h r + e). */
static long idx_heads_in(const uint64_t *shape, uint64_t k, long cols)
{
    uint64_t D = shape[1], r = shape[2];
    uint64_t h = k / (D * r), i = (k / r) % D, e = k % r;
    return (long)(i * (uint64_t)cols + h * r + e);
}

/* [n, D, r] from a shared D x r: every head the same. */
static long idx_shared(const uint64_t *shape, uint64_t k, long cols)
{
    (void)cols;
    return (long)(k % (shape[1] * shape[2]));
}

static json_t *exact_text(const arb_t x)
{
    if (!arb_is_exact(x))
        return NULL;
    char *s = exact_decimal(x);
    json_t *j = json_string(s);
    free(s);
    return j;
}

static int put_ln(aonet_export_t *ex, const char *prefix, const aonet_ln_t *ln, json_t **desc,
                  char *err, size_t errsz)
{
    char name[160];
    *desc = json_pack("{s:s, s:I}", "kind", aonet_ln_kind_name(ln->kind), "d", (json_int_t)ln->d);
    if (!*desc)
        return fail_oom(err, errsz);
    if (ln->kind == AONET_LN_NONE)
        return 0;
    json_object_set_new(*desc, "eps", exact_text(ln->eps));
    uint64_t shape[1] = {(uint64_t)ln->d};
    int rc = 0;
    if (aonet_ln_has_w(ln->kind)) {
        snprintf(name, sizeof name, "%s.w", prefix);
        rc = put_balls(ex, name, 1, shape, ln->w, NULL, err, errsz);
    }
    if (rc == 0 && aonet_ln_has_b(ln->kind)) {
        snprintf(name, sizeof name, "%s.b", prefix);
        rc = put_balls(ex, name, 1, shape, ln->b, NULL, err, errsz);
    }
    return rc;
}

int aonet_export_layer(aonet_export_t *ex, long k, const aonet_layer_t *L, char *err,
                       size_t errsz)
{
    char prefix[64], name[160];
    if (k != (long)json_array_size(ex->layers)) {
        snprintf(err, errsz, "export: internal: layer %ld out of order", k);
        return EXIT_SOFTWARE;
    }
    snprintf(name, sizeof name, "net.layers.%ld.ln", k);
    json_t *lnd = NULL, *groups = json_array();
    int rc = put_ln(ex, name, &L->ln, &lnd, err, errsz);
    snprintf(prefix, sizeof prefix, "net.layers.%ld", k);
    for (long g = 0; g < L->n_groups && rc == 0; g++) {
        const aonet_group_t *G = L->groups + g;
        long D = G->W_Q->rows;
        if (ex->D < 0)
            ex->D = D;
        uint64_t qk[3] = {(uint64_t)G->n_heads, (uint64_t)D, (uint64_t)G->r_qk};
        uint64_t v[3] = {(uint64_t)G->n_heads, (uint64_t)D, (uint64_t)G->r_ov};
        uint64_t o[3] = {(uint64_t)G->n_heads, (uint64_t)G->r_ov, (uint64_t)D};
        snprintf(name, sizeof name, "%s.%s.W_Q", prefix, G->name);
        rc = put_balls(ex, name, 3, qk, G->W_Q, idx_heads_in, err, errsz);
        snprintf(name, sizeof name, "%s.%s.W_K", prefix, G->name);
        if (rc == 0)
            rc = put_balls(ex, name, 3, qk, G->W_K, G->shared_k ? idx_shared : idx_heads_in,
                           err, errsz);
        snprintf(name, sizeof name, "%s.%s.W_V", prefix, G->name);
        if (rc == 0)
            rc = put_balls(ex, name, 3, v, G->W_V, idx_heads_in, err, errsz);
        snprintf(name, sizeof name, "%s.%s.W_O", prefix, G->name);
        if (rc == 0)
            rc = put_balls(ex, name, 3, o, G->W_O, NULL, err, errsz);
        json_t *gd = json_pack("{s:s, s:I, s:I, s:I, s:o?, s:s}", "name", G->name, "n_heads",
                               (json_int_t)G->n_heads, "d_head_qk", (json_int_t)G->r_qk,
                               "d_head_ov", (json_int_t)G->r_ov, "attn_scale",
                               exact_text(G->attn_scale), "mask", aonet_mask_name(G->mask));
        if (rc != 0)
            json_decref(gd); /* a tensor failed to write: the group is not recorded */
        else if (!gd || json_array_append_new(groups, gd) != 0)
            rc = fail_oom(err, errsz);
    }
    if (rc != 0) {
        json_decref(lnd);
        json_decref(groups);
        return rc;
    }
    json_t *ld = json_pack("{s:o, s:o}", "ln", lnd, "groups", groups);
    if (!ld || json_array_append_new(ex->layers, ld) != 0)
        return fail_oom(err, errsz);
    if (ex->d < 0)
        ex->d = L->ln.d;
    return rc;
}

int aonet_export_final_ln(aonet_export_t *ex, const aonet_ln_t *ln, char *err, size_t errsz)
{
    json_decref(ex->ln_final);
    ex->ln_final = NULL;
    return put_ln(ex, "net.ln_final", ln, &ex->ln_final, err, errsz);
}

/* The network description (metadata "attncheck_network"), as text. */
static char *network_text(const aonet_export_t *ex)
{
    json_t *net = json_pack("{s:s, s:i, s:I, s:I, s:O, s:O*}", "format",
                            "attncheck attention-only network (src/aonet.h)", "version", 1, "D",
                            (json_int_t)ex->D, "d", (json_int_t)ex->d, "layers", ex->layers,
                            "ln_final", ex->ln_final);
    char *s = net ? json_dumps(net, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(net);
    return s;
}

int aonet_export_commit(aonet_export_t *ex, char *err, size_t errsz)
{
    int rc = 0;
    char *net = network_text(ex), *header = NULL, *exact = NULL;
    char jpath[OUTFILE_PATH_MAX + 8];
    snprintf(jpath, sizeof jpath, "%s.json", ex->path);
    json_t *meta = json_deep_copy(ex->meta);
    if (!net || !meta || json_object_set_new(meta, "attncheck_network", json_string(net)) != 0 ||
        json_object_set(ex->header, "__metadata__", meta) != 0)
        rc = fail_oom(err, errsz);
    if (rc == 0 && !(header = json_dumps(ex->header, JSON_COMPACT | JSON_SORT_KEYS)))
        rc = fail_oom(err, errsz);
    /* the exact file: metadata, shapes, and the corrections */
    if (rc == 0) {
        json_t *doc = json_pack("{s:s, s:O, s:O, s:O}", "format",
                                "attncheck export: the F64 tensors with these exact entries "
                                "are the certified network", "metadata", meta, "tensors",
                                ex->header, "exact_entries", ex->corrections);
        json_object_del(json_object_get(doc, "tensors"), "__metadata__");
        exact = doc ? json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
        json_decref(doc);
        if (!exact)
            rc = fail_oom(err, errsz);
    }
    json_decref(meta);
    atomic_file_t a, b;
    int a_open = 0, b_open = 0;
    if (rc == 0) {
        if (atomic_open(&a, ex->path) != 0) {
            snprintf(err, errsz, "cannot write to '%s': %s", ex->path, a.why);
            rc = EXIT_CANTCREAT;
        } else {
            a_open = 1;
        }
    }
    if (rc == 0) {
        if (atomic_open(&b, jpath) != 0) {
            snprintf(err, errsz, "cannot write to '%s': %s", jpath, b.why);
            rc = EXIT_CANTCREAT;
        } else {
            b_open = 1;
        }
    }
    if (rc == 0) {
        size_t hlen = strlen(header), padded = (hlen + 7) / 8 * 8;
        unsigned char len[8];
        for (int k = 0; k < 8; k++)
            len[k] = (unsigned char)((uint64_t)padded >> (8 * k));
        fwrite(len, 1, 8, a.f);
        fwrite(header, 1, hlen, a.f);
        for (size_t i = hlen; i < padded; i++)
            fputc(' ', a.f);
        /* the tensors' bytes, copied from the temporary */
        char buf[1 << 16];
        size_t got;
        rewind(ex->data);
        while ((got = fread(buf, 1, sizeof buf, ex->data)) > 0)
            if (fwrite(buf, 1, got, a.f) != got)
                break;
        if (ferror(ex->data)) {
            snprintf(err, errsz, "export: cannot read back the temporary file");
            rc = EXIT_IOERR;
        }
        fputs(exact, b.f);
        fputc('\n', b.f);
    }
    if (rc == 0) {
        a_open = 0;
        if (atomic_commit(&a) != 0) {
            snprintf(err, errsz, "cannot write '%s': %s", ex->path, a.why);
            rc = EXIT_IOERR;
        }
    }
    if (rc == 0) {
        b_open = 0;
        if (atomic_commit(&b) != 0) {
            snprintf(err, errsz, "cannot write '%s': %s", jpath, b.why);
            rc = EXIT_IOERR;
            outfile_remove(ex->path); /* the two files come together or not at all */
        }
    }
    if (a_open)
        atomic_abort(&a);
    if (b_open)
        atomic_abort(&b);
    free(net);
    free(header);
    free(exact);
    aonet_export_abort(ex);
    return rc;
}
