/* The command line: exit codes, one-line errors, no files on bad input,
 * reports that parse, and an exported instance an independent program
 * recomputes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "testutil.h"

static char out[1 << 16];
static char tmpdir[256];

static void setup(void) { test_tmpdir_make(tmpdir, sizeof tmpdir, "attncheck-test"); }
static void teardown(void) { test_tmpdir_remove(tmpdir); }

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* bad input: exit code, exactly one line, and no output directory created */
static const struct {
    const char *args;
    int code;
} bad[] = {
    {"verify no-such-claim", 64},
    {"verify neuron-head --bogus", 64},
    {"verify neuron-head --prec 0", 64},
    {"verify neuron-head --prec abc", 64},
    {"verify neuron-head --prec 53,", 64},
    {"verify neuron-head --prec 1000000", 64},
    {"verify neuron-head --seed -1", 64},
    {"verify neuron-head --seed 1x", 64},
    {"verify neuron-head --jobs 0", 64},
    {"verify neuron-head --format pdf", 64},
    {"verify neuron-head --mutate=no-such", 64},
    {"sweep neuron-head --set zz=1", 64},
    {"sweep neuron-head", 64},
    {"sweep neuron-head --set a=-1", 65},
    {"sweep neuron-head --set a=nan", 65},
    {"sweep neuron-head --set a=inf", 65},
    {"sweep neuron-head --set shape=0x3", 65},
    {"export mlp-layer", 64},
    {"export mlp-layer --seed 7 --format csv", 64},
    {"export relu-limit --seed 7 --format safetensors", 64},
    {"nonsense", 64},
    {"activation --expr 'x*(sigmoid('", 65},
    {"activation --expr 'x+' --target gelu", 65},
    {"activation --name no-such", 64},
    {"activation --name gelu --domain nan", 64},
    {"activation --name gelu --target relu --claim abc", 64},
    {"activation --name relu --target silu --domain 0x10 --claim 0.01", 64},
    {"activation --name relu --target silu --claim 0x1p2", 64},
    {"sweep gelu-approx --set at=inf", 65},
};

START_TEST(test_bad_input)
{
    char args[512];
    /* activation writes no files and takes no --out */
    if (strncmp(bad[_i].args, "activation", 10) == 0)
        snprintf(args, sizeof args, "%s", bad[_i].args);
    else
        snprintf(args, sizeof args, "%s --out %s/r", bad[_i].args, tmpdir);
    int rc = test_run_cli(args, out, sizeof out);
    ck_assert_msg(rc == bad[_i].code, "'%s' exited %d, expected %d: %s", bad[_i].args, rc,
                  bad[_i].code, out);
    ck_assert_msg(test_count_lines(out) == 1, "'%s' printed %d lines: %s", bad[_i].args,
                  test_count_lines(out), out);
    ck_assert_msg(strncmp(out, "attncheck: ", 11) == 0, "message: %s", out);
    char path[300];
    snprintf(path, sizeof path, "%s/r", tmpdir);
    ck_assert_msg(!exists(path), "'%s' left %s behind", bad[_i].args, path);
}
END_TEST

START_TEST(test_unwritable_out)
{
    int rc = test_run_cli("verify neuron-head --out /proc/attncheck/reports", out, sizeof out);
    ck_assert_int_eq(rc, 73);
    ck_assert_int_eq(test_count_lines(out), 1);
}
END_TEST

START_TEST(test_verify_writes_parseable_reports)
{
    char args[1024], path[512];
    snprintf(args, sizeof args, "verify neuron-head --prec 53,4096 --out %s", tmpdir);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 0);
    const char *files[] = {"index.md", "neuron-head.md", "neuron-head.csv", "neuron-head.json",
                           "neuron-head.svg"};
    for (int k = 0; k < 5; k++) {
        snprintf(path, sizeof path, "%s/%s", tmpdir, files[k]);
        ck_assert_msg(exists(path), "missing %s", files[k]);
    }
    snprintf(args, sizeof args,
             "python3 -c 'import json,sys; from decimal import Decimal as D; d=json.load(open(sys.argv[1])); "
             "assert d[\"claim\"]==\"neuron-head\"; assert d[\"summary\"][\"violated\"]==0; "
             "hi=[D(r[\"error\"][\"hi\"]) for r in d[\"rows\"] if r[\"prec\"]==4096]; "
             "assert len(hi)==45 and max(hi) < D(\"1e-1200\")' "
             "%s/neuron-head.json",
             tmpdir);
    ck_assert_msg(system(args) == 0, "neuron-head.json does not parse or is wrong");
    /* no temporary files are left (ours are hidden: .attncheck-tmp.*) */
    snprintf(args, sizeof args, "ls -A %s | grep -c tmp", tmpdir);
    FILE *f = popen(args, "r");
    int n = -1;
    ck_assert(fscanf(f, "%d", &n) == 1);
    pclose(f);
    ck_assert_int_eq(n, 0);
}
END_TEST

START_TEST(test_mutation_exits_1)
{
    ck_assert_int_eq(test_run_cli("verify mlp-layer --mutate --no-write", out, sizeof out), 1);
    ck_assert_ptr_nonnull(strstr(out, "violated: seed"));
}
END_TEST

START_TEST(test_export_recomputed_independently)
{
    char args[512];
    snprintf(args, sizeof args, "export mlp-layer --seed 7 --out %s/i.json", tmpdir);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 0);
    snprintf(args, sizeof args, "python3 tests/recompute_export.py %s/i.json", tmpdir);
    ck_assert_msg(system(args) == 0, "independent recomputation disagrees");
}
END_TEST

START_TEST(test_activation_claims)
{
    /* the certified gap GELU vs SiLU_1.702 is about 0.0203349: claims on either side */
    const char *base = "activation --expr 'x*sigmoid(1.702*x)' --target gelu --claim ";
    char args[256];
    snprintf(args, sizeof args, "%s0.01", base);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 1);
    snprintf(args, sizeof args, "%s0.020335", base);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 0);
    snprintf(args, sizeof args, "%s0.020334", base);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 1);
    ck_assert_int_eq(test_run_cli("activation --name tanh", out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "G1: exact member"));
    ck_assert_ptr_nonnull(strstr(out, "G0: not a member"));
}
END_TEST

START_TEST(test_catalogue_is_current)
{
    /* theorems/README.md is generated by list --format md */
    ck_assert_int_eq(test_run_cli("list --format md", out, sizeof out), 0);
    FILE *f = fopen("theorems/README.md", "r");
    ck_assert_msg(f != NULL, "theorems/README.md missing");
    static char file[1 << 16];
    size_t n = fread(file, 1, sizeof file - 1, f);
    file[n] = '\0';
    fclose(f);
    ck_assert_msg(strcmp(file, out) == 0,
                  "theorems/README.md is stale: run ./build/attncheck list --format md > theorems/README.md");
}
END_TEST

START_TEST(test_help_and_list)
{
    ck_assert_int_eq(test_run_cli("--help", out, sizeof out), 0);
    ck_assert_int_eq(test_run_cli("verify --help", out, sizeof out), 0);
    ck_assert_int_eq(test_run_cli("export --help", out, sizeof out), 0);
    ck_assert_int_eq(test_run_cli("list", out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "attention-only"));
}
END_TEST

Suite *suite_cli(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_bad_input, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, test_unwritable_out);
    tcase_add_test(tc, test_verify_writes_parseable_reports);
    tcase_add_test(tc, test_mutation_exits_1);
    tcase_add_test(tc, test_export_recomputed_independently);
    tcase_add_test(tc, test_catalogue_is_current);
    tcase_add_test(tc, test_activation_claims);
    tcase_add_test(tc, test_help_and_list);
    suite_add_tcase(s, tc);
    return s;
}
