/* The layout of the source tree: the `#include "..."` lines of each folder
 * of src/ and of theorems/ form no cycle, and no file includes a header of a
 * higher layer.
 * A module is a file name without its extension (x.c and x.h are one
 * module), as the before-stop hook counts them. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "testutil.h"

/* The layers, low to high: a file may include its own layer's headers and
 * lower ones', never a higher one's. */
static const char *const layer_dirs[] = {
    "src/core", "src/io", "src/act", "src/net", "src/fp", "src/run", "theorems", "src/out",
    "src/cli",
};
#define N_LAYERS ((int)(sizeof layer_dirs / sizeof layer_dirs[0]))

#define MAX_MODULES 512
#define MAX_EDGES 8192
#define NAME_LEN 96

typedef struct {
    char name[NAME_LEN];
    int layer;          /* index in the layer table */
} module_t;

typedef struct {
    int from, to;       /* modules */
    char file[160];     /* the including file, and the name it includes */
    char inc[NAME_LEN];
} edge_t;

typedef struct {
    module_t mod[MAX_MODULES];
    int n_mod;
    edge_t edge[MAX_EDGES];
    int n_edge;
    char problem[1600]; /* a module in two layers, an unknown folder, a table overflow */
} graph_t;

static int module_find(const graph_t *g, const char *name)
{
    for (int k = 0; k < g->n_mod; k++)
        if (strcmp(g->mod[k].name, name) == 0)
            return k;
    return -1;
}

/* The module named name in layer (-1: its layer is not known yet). */
static int module_add(graph_t *g, const char *name, int layer)
{
    int k = module_find(g, name);
    if (k < 0) {
        if (g->n_mod == MAX_MODULES) {
            snprintf(g->problem, sizeof g->problem, "more than %d modules", MAX_MODULES);
            return -1;
        }
        k = g->n_mod++;
        snprintf(g->mod[k].name, sizeof g->mod[k].name, "%s", name);
        g->mod[k].layer = layer;
    } else if (layer >= 0 && g->mod[k].layer >= 0 && g->mod[k].layer != layer &&
               !g->problem[0]) {
        snprintf(g->problem, sizeof g->problem, "module %s has files in %s and in %s", name,
                 layer_dirs[g->mod[k].layer], layer_dirs[layer]);
    } else if (layer >= 0) {
        g->mod[k].layer = layer;
    }
    return k;
}

static void edge_add(graph_t *g, const char *from, const char *to, const char *file,
                     const char *inc)
{
    if (strcmp(from, to) == 0)
        return; /* x.c including x.h */
    int a = module_add(g, from, -1), b = module_add(g, to, -1);
    if (a < 0 || b < 0)
        return;
    if (g->n_edge == MAX_EDGES) {
        snprintf(g->problem, sizeof g->problem, "more than %d includes", MAX_EDGES);
        return;
    }
    edge_t *e = g->edge + g->n_edge++;
    e->from = a;
    e->to = b;
    snprintf(e->file, sizeof e->file, "%s", file);
    snprintf(e->inc, sizeof e->inc, "%s", inc);
}

/* ---- the checks ---- */

/* An include from a lower layer to a higher one: 1 and its description in
 * msg, or 0.  Includes of a module whose layer is unknown (a generated or
 * system header) are not judged. */
static int layout_find_upward(const graph_t *g, char *msg, size_t n)
{
    for (int k = 0; k < g->n_edge; k++) {
        const edge_t *e = g->edge + k;
        int lf = g->mod[e->from].layer, lt = g->mod[e->to].layer;
        if (lf >= 0 && lt > lf) {
            snprintf(msg, n, "%s (%s) includes %s (%s, a higher layer)", e->file, layer_dirs[lf],
                     e->inc, layer_dirs[lt]);
            return 1;
        }
    }
    return 0;
}

/* Depth-first search; state 1 on the path, 2 done.  1 when a cycle is
 * found, its modules written into msg. */
static int cycle_dfs(const graph_t *g, int u, char *state, int *path, int depth, char *msg,
                     size_t n)
{
    state[u] = 1;
    path[depth] = u;
    for (int k = 0; k < g->n_edge; k++) {
        if (g->edge[k].from != u)
            continue;
        int v = g->edge[k].to;
        if (state[v] == 1) {
            size_t len = 0;
            int start = depth;
            while (path[start] != v)
                start--;
            for (int j = start; j <= depth && len < n; j++)
                len += (size_t)snprintf(msg + len, n - len, "%s -> ", g->mod[path[j]].name);
            if (len < n)
                snprintf(msg + len, n - len, "%s", g->mod[v].name);
            return 1;
        }
        if (state[v] == 0 && cycle_dfs(g, v, state, path, depth + 1, msg, n))
            return 1;
    }
    state[u] = 2;
    return 0;
}

static int layout_find_cycle(const graph_t *g, char *msg, size_t n)
{
    char state[MAX_MODULES] = {0};
    int path[MAX_MODULES];
    for (int u = 0; u < g->n_mod; u++)
        if (state[u] == 0 && cycle_dfs(g, u, state, path, 0, msg, n))
            return 1;
    return 0;
}

/* ---- reading a tree ---- */

static void strip_ext(char *out, size_t n, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(out, n, "%s", base);
    char *dot = strrchr(out, '.');
    if (dot && dot != out)
        *dot = '\0';
}

/* The name in a line `#  include "name"` (NULL when the line has none). */
static const char *include_name(const char *line, char *out, size_t n)
{
    const char *p = strchr(line, '#');
    if (!p)
        return NULL;
    p++;
    p += strspn(p, " \t");
    if (strncmp(p, "include", 7) != 0)
        return NULL;
    p += 7;
    p += strspn(p, " \t");
    if (*p != '"')
        return NULL;
    const char *end = strchr(p + 1, '"');
    if (!end || (size_t)(end - p - 1) >= n)
        return NULL;
    memcpy(out, p + 1, (size_t)(end - p - 1));
    out[end - p - 1] = '\0';
    return out;
}

static void read_file_includes(graph_t *g, const char *path, int layer)
{
    char mod[NAME_LEN], line[1024], inc[NAME_LEN], target[NAME_LEN];
    strip_ext(mod, sizeof mod, path);
    module_add(g, mod, layer);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(g->problem, sizeof g->problem, "cannot read %s", path);
        return;
    }
    while (fgets(line, sizeof line, f))
        if (include_name(line, inc, sizeof inc)) {
            strip_ext(target, sizeof target, inc);
            edge_add(g, mod, target, path, inc);
        }
    fclose(f);
}

/* Every .c and .h of root/<layer dir>/ (no deeper: a folder is a layer),
 * and a problem for a folder of root/src/ missing from the table.  The
 * number of files read. */
static int read_tree(graph_t *g, const char *root)
{
    int files = 0;
    memset(g, 0, sizeof *g);
    for (int l = 0; l < N_LAYERS; l++) {
        char dir[600];
        snprintf(dir, sizeof dir, "%s/%s", root, layer_dirs[l]);
        DIR *d = opendir(dir);
        if (!d)
            continue;
        for (struct dirent *e; (e = readdir(d));) {
            size_t len = strlen(e->d_name);
            if (len < 3 || (strcmp(e->d_name + len - 2, ".c") && strcmp(e->d_name + len - 2, ".h")))
                continue;
            char path[1200];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            read_file_includes(g, path, l);
            files++;
        }
        closedir(d);
    }
    char src[600];
    snprintf(src, sizeof src, "%s/src", root);
    DIR *d = opendir(src);
    for (struct dirent *e; d && (e = readdir(d));) {
        char path[1200], rel[700];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", src, e->d_name);
        snprintf(rel, sizeof rel, "src/%s", e->d_name);
        if (e->d_name[0] == '.' || stat(path, &st) != 0)
            continue;
        int known = 0;
        for (int l = 0; l < N_LAYERS; l++)
            known |= strcmp(layer_dirs[l], rel) == 0;
        if (!known && !g->problem[0])
            snprintf(g->problem, sizeof g->problem, "%s is not in the layer table of "
                     "tests/check_layout.c", S_ISDIR(st.st_mode) ? rel : path);
    }
    if (d)
        closedir(d);
    return files;
}

/* ---- tests ---- */

static int layer_of(const char *dir)
{
    for (int l = 0; l < N_LAYERS; l++)
        if (strcmp(layer_dirs[l], dir) == 0)
            return l;
    return -1;
}

/* The checks on small graphs built in memory: each kind of violation is
 * found, and a clean graph passes. */
START_TEST(test_checker_small_graphs)
{
    static graph_t g;
    char msg[512];
    /* clean: cli -> out -> run -> core, and a same-layer include */
    memset(&g, 0, sizeof g);
    module_add(&g, "main", layer_of("src/cli"));
    module_add(&g, "report", layer_of("src/out"));
    module_add(&g, "runner", layer_of("src/run"));
    module_add(&g, "verdict", layer_of("src/run"));
    module_add(&g, "imat", layer_of("src/core"));
    edge_add(&g, "main", "report", "main.c", "report.h");
    edge_add(&g, "report", "runner", "report.h", "runner.h");
    edge_add(&g, "runner", "verdict", "runner.c", "verdict.h");
    edge_add(&g, "verdict", "imat", "verdict.h", "imat.h");
    edge_add(&g, "runner", "runner", "runner.c", "runner.h"); /* its own header */
    ck_assert_int_eq(layout_find_upward(&g, msg, sizeof msg), 0);
    ck_assert_int_eq(layout_find_cycle(&g, msg, sizeof msg), 0);
    ck_assert_str_eq(g.problem, "");

    /* an include up a layer: imat (core) -> verdict (run) */
    edge_add(&g, "imat", "verdict", "imat.c", "verdict.h");
    ck_assert_int_eq(layout_find_upward(&g, msg, sizeof msg), 1);
    ck_assert_msg(strstr(msg, "imat.c (src/core) includes verdict.h (src/run"), "%s", msg);
    /* ... which is also a cycle: verdict -> imat -> verdict */
    ck_assert_int_eq(layout_find_cycle(&g, msg, sizeof msg), 1);
    ck_assert_msg(strstr(msg, "imat -> verdict") || strstr(msg, "verdict -> imat"), "%s", msg);

    /* a cycle inside one layer, with no include up a layer */
    memset(&g, 0, sizeof g);
    module_add(&g, "tensorio", layer_of("src/io"));
    module_add(&g, "npy", layer_of("src/io"));
    module_add(&g, "safetensors", layer_of("src/io"));
    edge_add(&g, "npy", "tensorio", "npy.h", "tensorio.h");
    edge_add(&g, "safetensors", "tensorio", "safetensors.h", "tensorio.h");
    ck_assert_int_eq(layout_find_cycle(&g, msg, sizeof msg), 0);
    edge_add(&g, "tensorio", "safetensors", "tensorio.c", "safetensors.h");
    ck_assert_int_eq(layout_find_upward(&g, msg, sizeof msg), 0);
    ck_assert_int_eq(layout_find_cycle(&g, msg, sizeof msg), 1);
    ck_assert_str_eq(msg, "tensorio -> safetensors -> tensorio");

    /* one module in two layers */
    memset(&g, 0, sizeof g);
    module_add(&g, "shard", layer_of("src/run"));
    module_add(&g, "shard", layer_of("src/out"));
    ck_assert_msg(strstr(g.problem, "shard has files in src/run and in src/out"), "%s", g.problem);
}
END_TEST

static void write_text(const char *dir, const char *rel, const char *text)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

static void make_dir(const char *dir, const char *rel)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    ck_assert_int_eq(mkdir(path, 0755), 0);
}

/* A small tree on disk, read as the real one is: clean first, then with a
 * planted include up a layer (which closes a cycle), then with a folder
 * the table does not know. */
START_TEST(test_checker_planted_tree)
{
    static graph_t g;
    char dir[512], msg[512];
    test_tmpdir_make(dir, sizeof dir, "attncheck-layout");
    make_dir(dir, "src");
    make_dir(dir, "src/core");
    make_dir(dir, "src/io");
    make_dir(dir, "theorems");
    write_text(dir, "src/core/xalloc.h", "#ifndef X\n#define X\n#include <stddef.h>\n#endif\n");
    write_text(dir, "src/core/xalloc.c", "#include <stdlib.h>\n#include \"xalloc.h\"\n");
    write_text(dir, "src/io/outfile.h", "#include <stdio.h>\n");
    write_text(dir, "src/io/outfile.c", "#  include \"outfile.h\"\n#include \"xalloc.h\"\n");
    write_text(dir, "theorems/t.c",
               "#include \"outfile.h\" /* t */\n#include \"version_stamp.h\"\n");
    ck_assert_int_eq(read_tree(&g, dir), 5);
    ck_assert_str_eq(g.problem, "");
    ck_assert_int_eq(g.n_edge, 3); /* outfile -> xalloc, t -> outfile, t -> version_stamp */
    ck_assert_int_eq(layout_find_upward(&g, msg, sizeof msg), 0);
    ck_assert_int_eq(layout_find_cycle(&g, msg, sizeof msg), 0);

    /* planted: the core includes io */
    write_text(dir, "src/core/xalloc.c", "#include \"xalloc.h\"\n# include \"outfile.h\"\n");
    read_tree(&g, dir);
    ck_assert_int_eq(layout_find_upward(&g, msg, sizeof msg), 1);
    ck_assert_msg(strstr(msg, "src/core/xalloc.c (src/core) includes outfile.h (src/io"), "%s",
                  msg);
    ck_assert_int_eq(layout_find_cycle(&g, msg, sizeof msg), 1);

    /* a folder the layer table does not know */
    make_dir(dir, "src/extra");
    read_tree(&g, dir);
    ck_assert_msg(strstr(g.problem, "src/extra is not in the layer table"), "%s", g.problem);
    test_tmpdir_remove(dir);
}
END_TEST

/* The real tree (tests run from the repository's root). */
START_TEST(test_source_tree_layers)
{
    static graph_t g;
    char msg[512] = "";
    struct stat st;
    ck_assert_msg(stat("src/core/xalloc.h", &st) == 0 && stat("theorems", &st) == 0,
                  "run the tests from the repository's root (src/core/xalloc.h not found)");
    int files = read_tree(&g, ".");
    ck_assert_msg(g.problem[0] == '\0', "%s", g.problem);
    /* the walk saw the tree: every layer has files, and the includes are many */
    for (int l = 0; l < N_LAYERS; l++) {
        int n = 0;
        for (int k = 0; k < g.n_mod; k++)
            n += g.mod[k].layer == l;
        ck_assert_msg(n > 0, "no module found in %s", layer_dirs[l]);
    }
    ck_assert_msg(files >= 60 && g.n_edge >= 150, "only %d files and %d includes read", files,
                  g.n_edge);
    ck_assert_msg(!layout_find_upward(&g, msg, sizeof msg), "%s", msg);
    ck_assert_msg(!layout_find_cycle(&g, msg, sizeof msg), "include cycle: %s", msg);
}
END_TEST

Suite *suite_layout(void)
{
    Suite *s = suite_create("layout");
    TCase *tc = tcase_create("includes");
    tcase_add_test(tc, test_checker_small_graphs);
    tcase_add_test(tc, test_checker_planted_tree);
    tcase_add_test(tc, test_source_tree_layers);
    suite_add_tcase(s, tc);
    return s;
}
