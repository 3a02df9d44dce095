/* The command line: exit codes, one-line errors, no files on bad input,
 * reports that parse, and an exported instance an independent program
 * recomputes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include "testutil.h"
#include <jansson.h>
#include "claim.h"
#include "version.h"

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
    /* one parser: a forgotten value is not taken from the next option; -- ends options */
    {"verify neuron-head --out --no-write", 64},
    {"verify neuron-head --jobs 1 --jobs 2 --no-write", 64},
    {"list --format md --format text", 64},
    {"verify -- --no-write", 64},
    /* a report directory is never "-" (standard output) */
    {"verify neuron-head --out -", 64},
    {"sweep neuron-head --set a=1 --out -", 64},
    {"merge --out - x", 64},
    {"model x.safetensors --out -", 64},
    {"activation --name gelu --heads 1 --domain 1e308", 64},
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
    {"sweep neuron-head --set a=1e400", 65}, /* past the doubles: every row was inconclusive */
    {"sweep neuron-head --set shape=0x3", 65},
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
    ck_assert_msg(!exists("-"), "'%s' made a directory named -", bad[_i].args);
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

/* Issue 7, items 10, 11 and 12: each case of the issue, its exit code
 * before (in the comment) and now, and what the output must say (stdout
 * and stderr); bad input gets exactly one line. */
static const struct {
    const char *args;
    int code;
    const char *says[3];
} verdict_cases[] = {
    /* before: 9/9 holds, exit 0 (the break a ~ 1e-20 is below 2^(24-53)) */
    {"verify neuron-head --mutate=flip-wk --set a=1e-20 --set prec=53 --no-write", 1,
     {"9 violated (detected)", "rows at a raised working precision, up to 1", NULL}},
    /* before: 45/45 holds even at 4096 bits, exit 0 */
    {"verify neuron-head --mutate=flip-wk --set a=1e-2000 --no-write", 1,
     {"45 violated (detected)", "prec 66", NULL}},
    /* before: exit 1 (one row violated was enough); now 3: two rows missed it (their
     * weakened bound is vacuous there) */
    {"sweep mask-encoding --set family=adv --set N=4 --set omega=8 --mutate=b-not-2b "
     "--no-write", 3, {"2 not detected (vacuous bound)", NULL}},
    /* exact-rule rows of a mutated run that hold */
    {"verify activation-class --mutate=drop-bias-key --no-write", 3,
     {"not detected at this resolution: seed", "(resolution 2^-", NULL}},
    /* before: 20 rows, 20 holds (+inf and 10^(3*10^8) bounds among them) */
    {"verify attention-only-encoded --no-write", 0, {"11 holds, 9 vacuous", NULL}},
    /* a slope no precision resolves is refused */
    {"sweep neuron-head --set a=1e-30000 --no-write", 65, {"65536", NULL}},
    /* item 12: activation, before (in the comment) and now */
    /* before: 453 s, "tolerance not reached" */
    {"activation --name tanh --target '2*sigmoid(2*x)-1' --max-seconds 30", 0,
     {"sup |f - g| <= 9.9", "at the floor 1e-30", "may be identically 0"}},
    /* before: undecided after 590 s */
    {"activation --expr 'erfc(x)-1+erf(x)' --target 0 --max-seconds 30", 0,
     {"at the floor 1e-30", NULL}},
    /* before: "not a member, gap 5e-8" (the witness was the double nearest 1.702) */
    {"activation --expr 'x*sigmoid(1.702*x)' --max-seconds 30", 0,
     {"G0: exact member", "q = 1.702 = 851/500", NULL}},
    /* a search stopped by its time limit certifies a wide gap: the head check is then
     * inconclusive, not violated (before: 'VIOLATED', exit 1; and sin of a 10^8-bit point
     * ran for minutes past --max-seconds) */
    {"activation --expr 'sin((x+20)^2110e4)' --max-seconds 2", 2,
     {"inconclusive (E <= 2 gap)", NULL}},
    /* before: "E in [nan, nan] VIOLATED", exit 1 */
    {"activation --expr 'log(x)'", 65, {"undefined or not finite at x = 0", NULL}},
    {"activation --name relu --target 'sqrt(x)'", 65, {"the target = sqrt(x) is undefined", NULL}},
    {"activation --expr 'x/(x-0.3)' --target x", 65, {"unbounded or undefined near x = 0.3", NULL}},
    /* --expect and --claim set the exit code; without them a non-member exits 0 */
    {"activation --name gelu", 0, {"no witness; best member found", NULL}},
    {"activation --name relu --expect member", 1, {"expect: member of G1: violated", NULL}},
    {"activation --name relu --expect nonmember", 0, {"expect: nonmember of G1: holds", NULL}},
    {"activation --name gelu --expect member", 2, {"expect: member of G1: inconclusive", NULL}},
    {"activation --name tanh --expect nonmember", 1, {"nonmember of G1: violated", NULL}},
    {"activation --expr 'x*sigmoid(1.702*x)' --expect member", 0, {"member of G1: holds", NULL}},
    {"activation --name gelu --expect maybe", 64, {"use member or nonmember", NULL}},
    {"activation --name gelu --target relu --expect member", 64, {"takes no --target", NULL}},
    /* --format json */
    {"activation --name tanh --target '2*sigmoid(2*x)-1' --format json", 0,
     {"\"at_floor\": true", "\"floor\": \"1e-30\"", NULL}},
    {"activation --name gelu --format json --expect member", 2,
     {"\"membership_g1\": \"undecided\"", "\"verdict\": \"inconclusive\"", NULL}},
    {"activation --name gelu --format xml", 64, {"use text or json", NULL}},
    /* built-ins as functions, ** and sin, cos */
    {"activation --expr 'relu(x) + gelu(x) - silu(x) + x**2' --target "
     "'max(x,0) + x*erfc(-x/sqrt(2))/2 - x*sigmoid(x) + x^2'", 0, {"at the floor", NULL}},
    {"activation --expr 'sin(x)^2+cos(x)^2' --target 1", 0, {"at the floor", NULL}},
    {"activation --name tanh --target '2*sigmoid(2*x)-1' --floor 0", 64, {"--floor", NULL}},
};

START_TEST(test_verdict_cases)
{
    int rc = test_run_cli(verdict_cases[_i].args, out, sizeof out);
    ck_assert_msg(rc == verdict_cases[_i].code, "'%s' exited %d, expected %d: %s",
                  verdict_cases[_i].args, rc, verdict_cases[_i].code, out);
    for (int k = 0; k < 3 && verdict_cases[_i].says[k]; k++)
        ck_assert_msg(strstr(out, verdict_cases[_i].says[k]), "'%s' does not say '%s': %s",
                      verdict_cases[_i].args, verdict_cases[_i].says[k], out);
    if (rc >= 64)
        ck_assert_msg(test_count_lines(out) == 1, "'%s': %d lines", verdict_cases[_i].args,
                      test_count_lines(out));
}
END_TEST

/* The words reach every format: md, csv, json (and index.md's counts). */
START_TEST(test_verdict_words_in_files)
{
    char args[1024], path[512];
    snprintf(args, sizeof args, "verify activation-class --mutate=drop-bias-key --out %s/m",
             tmpdir);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 3);
    static const char *const files[] = {"activation-class.mutated-drop-bias-key.md",
                                        "activation-class.mutated-drop-bias-key.csv",
                                        "activation-class.mutated-drop-bias-key.json"};
    static char text[1 << 18];
    for (int k = 0; k < 3; k++) {
        snprintf(path, sizeof path, "%s/m", tmpdir);
        test_read_file(text, sizeof text, path, files[k]);
        ck_assert_msg(strstr(text, "not detected at this resolution"), "%s", files[k]);
    }
    test_read_file(text, sizeof text, path, "activation-class.mutated-drop-bias-key.json");
    ck_assert_ptr_nonnull(strstr(text, "\"not_detected\": 12"));
    snprintf(args, sizeof args, "verify attention-only-encoded --out %s/v", tmpdir);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 0);
    snprintf(path, sizeof path, "%s/v", tmpdir);
    test_read_file(text, sizeof text, path, "index.md");
    ck_assert_ptr_nonnull(strstr(text, "| holds | vacuous | violated |"));
    ck_assert_ptr_nonnull(strstr(text, "| 20 | 11 | 9 | 0 | 0 |"));
    test_read_file(text, sizeof text, path, "attention-only-encoded.json");
    ck_assert_ptr_nonnull(strstr(text, "\"vacuous\": 9"));
    ck_assert_ptr_nonnull(strstr(text, "\"verdict\": \"vacuous\""));
    snprintf(args, sizeof args, "/usr/bin/python3 tests/parse_reports.py %s/m >/dev/null && "
             "/usr/bin/python3 tests/parse_reports.py %s/v >/dev/null", tmpdir, tmpdir);
    ck_assert_msg(system(args) == 0, "the reports do not parse");
}
END_TEST


/* Non-membership of expressions by a certified kink (elu, SELU written two
 * ways, hardswish, abs): --expect nonmember holds; members written as
 * expressions are never called non-members, and a tie whose two sides agree
 * (max(x, x)) is no kink: the twins. */
START_TEST(test_activation_kinks)
{
    char args[1024];
    static const char *const kinked[] = {
        "elu(x,1)", "selu(x)", "1.0507*(max(x,0)+1.67326*min(exp(x)-1,0))", "hardswish(x)",
        "abs(x-3)/2"};
    for (size_t k = 0; k < sizeof kinked / sizeof kinked[0]; k++) {
        snprintf(args, sizeof args, "activation --expr '%s' --expect nonmember", kinked[k]);
        ck_assert_int_eq(test_run_cli(args, out, sizeof out), 0);
        ck_assert_msg(strstr(out, "G1: not a member (proof: certified kink: at z = ") &&
                      strstr(out, "result: f is NOT A MEMBER"), "%s: %s", kinked[k], out);
        snprintf(args, sizeof args, "activation --expr '%s' --expect member", kinked[k]);
        ck_assert_int_eq(test_run_cli(args, out, sizeof out), 1);
    }
    /* where: the kink's point and the order of the derivatives that differ */
    ck_assert_int_eq(test_run_cli("activation --expr 'elu(x,1)'", out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "at z = 0 the one-sided derivatives of order 2 differ"));
    ck_assert_int_eq(test_run_cli("activation --expr 'hardswish(x)'", out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "at z = -3 the one-sided derivatives of order 1 differ"));
    static const char *const smooth[] = {"x*sigmoid(x)", "silu(x)", "max(x,x)"};
    for (size_t k = 0; k < sizeof smooth / sizeof smooth[0]; k++) {
        snprintf(args, sizeof args, "activation --expr '%s' --expect nonmember", smooth[k]);
        ck_assert_int_eq(test_run_cli(args, out, sizeof out), 1);
        ck_assert_msg(!strstr(out, "certified kink") && strstr(out, "(G1 membership: member)"),
                      "%s: %s", smooth[k], out);
    }
}
END_TEST

/* Several --target in one run: one comparison each, the worst exit; a
 * claim that fails for one target fails the run (the twin). */
START_TEST(test_activation_targets)
{
    ck_assert_int_eq(test_run_cli("activation --expr 'gelu(x)' --target silu --target "
                                  "'silu_a(x,1.702)' --claim 0.25", out, sizeof out), 0);
    const char *first = strstr(out, "g: silu = "), *second = strstr(out, "g: expr = silu_a(x,1.702)");
    ck_assert_msg(first && second && first < second, "%s", out);
    ck_assert_int_eq(test_run_cli("activation --expr 'gelu(x)' --target silu --target "
                                  "'silu_a(x,1.702)' --claim 0.05", out, sizeof out), 1);
    ck_assert_ptr_nonnull(strstr(out, "claim: sup |f - g| <= 0.05 on [-L, L]: violated"));
    ck_assert_ptr_nonnull(strstr(out, "claim: sup |f - g| <= 0.05 on [-L, L]: holds"));
    const char *bin = getenv("ATTNCHECK_BIN") ? getenv("ATTNCHECK_BIN") : "./build/attncheck";
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s activation --expr x --target silu --target tanh --format json "
             "| /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); "
             "assert d[\"targets\"] == [\"silu\", \"tanh\"]; "
             "assert [r[\"target\"] for r in d[\"rows\"]] == [\"silu\", \"tanh\"]'", bin);
    ck_assert_msg(system(cmd) == 0, "the JSON of several targets is not what it should be");
    ck_assert_int_eq(test_run_cli("activation --expr x --target silu --expect member", out,
                                  sizeof out), 64);
}
END_TEST

/* A user baseline: --baseline --file writes it, --baseline FILE checks it
 * (0, "0 changed"); a flipped verdict is one CHANGED line and exit 1 (the
 * twin); a line that is no baseline line is 65. */
START_TEST(test_activation_baseline_file)
{
    char fns[512], base[512], flip[512], args[2048];
    snprintf(fns, sizeof fns, "%s/bfns.txt", tmpdir);
    snprintf(base, sizeof base, "%s/base.tsv", tmpdir);
    snprintf(flip, sizeof flip, "%s/flip.tsv", tmpdir);
    FILE *f = fopen(fns, "w");
    ck_assert_ptr_nonnull(f);
    fputs("elu(x,1)\nx*sigmoid(x)\nrelu\n", f);
    ck_assert_int_eq(fclose(f), 0);
    snprintf(args, sizeof args, "activation --baseline --file %s > %s", fns, base);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 0);
    snprintf(args, sizeof args, "activation --baseline %s", base);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 0);
    ck_assert_msg(strstr(out, ": 3 functions, 0 changed") && test_count_lines(out) == 1, "%s", out);
    snprintf(args, sizeof args, "activation --baseline=%s", base);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 0);
    /* the member recorded as a non-member */
    snprintf(args, sizeof args, "sed 's/^x\\*sigmoid(x)\texact\t\\(.*\\)\texact/"
             "x*sigmoid(x)\tnot-member\t\\1\tnot-member/' %s > %s", base, flip);
    ck_assert_int_eq(system(args), 0);
    snprintf(args, sizeof args, "activation --baseline %s", flip);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 1);
    ck_assert_msg(test_count_lines(out) == 2 && strstr(out, "CHANGED ") &&
                  strstr(out, ":3: x*sigmoid(x): G0 verdict moved: baseline 'not-member', now "
                         "'exact'; x*sigmoid(x): G1 verdict moved") &&
                  strstr(out, ": 3 functions, 1 changed"), "%s", out);
    f = fopen(flip, "w");
    ck_assert_ptr_nonnull(f);
    fputs("relu\tnot-member\n", f);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 65);
    ck_assert(test_count_lines(out) == 1);
    /* fields that are no status word or no whole number (relu's gaps lie inside
     * [0, 1], so read leniently "0junk" would pass as 0) */
    static const char *malformed[] = {
        "relu\tnot-member\t0junk\t1\tnot-member\t0\t1\n",
        "relu\tnot-member\t0\t1\tnot-member\t0\t1e\n",
        "relu\tnot-member\t\t0\t1\tnot-member\t0\t1\n",
        "relu\tnot-a-member\t0\t1\tnot-member\t0\t1\n",
    };
    for (size_t k = 0; k < sizeof malformed / sizeof malformed[0]; k++) {
        f = fopen(flip, "w");
        ck_assert_ptr_nonnull(f);
        fputs(malformed[k], f);
        ck_assert_int_eq(fclose(f), 0);
        ck_assert_msg(test_run_cli(args, out, sizeof out) == 65 && test_count_lines(out) == 1 &&
                      strstr(out, ":1: not a baseline line"), "'%s': %s", malformed[k], out);
    }
    snprintf(args, sizeof args, "activation --baseline %s --expr x", base);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 64);
}
END_TEST

/* --file: one function per line into one table (text and JSON); a bad file
 * or a bad line: one line naming it, 65, and nothing on stdout. */
START_TEST(test_activation_file)
{
    char path[512], args[1024];
    snprintf(path, sizeof path, "%s/fns.txt", tmpdir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("# two members and a non-member\nx*sigmoid(1.702*x)\n\ngelu\r\n  2*sigmoid(2*x)-1\n", f);
    ck_assert_int_eq(fclose(f), 0);
    snprintf(args, sizeof args, "activation --file %s", path);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 0);
    /* the function last, as written; membership in its own column */
    ck_assert_ptr_nonnull(strstr(out, "    2  exact member   exact member "));
    ck_assert_ptr_nonnull(strstr(out, "  x*sigmoid(1.702*x)\n"));
    ck_assert_ptr_nonnull(strstr(out, "    4  best found     best found "));
    ck_assert_ptr_nonnull(strstr(out, "  undecided  "));
    ck_assert_ptr_nonnull(strstr(out, "  gelu\n"));
    ck_assert_ptr_nonnull(strstr(out, "    5  best found     exact member "));
    ck_assert_ptr_nonnull(strstr(out, "  2*sigmoid(2*x)-1\n"));
    snprintf(args, sizeof args, "activation --file %s --expect member --format json", path);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 2); /* gelu: undecided */
    const char *bin = getenv("ATTNCHECK_BIN") ? getenv("ATTNCHECK_BIN") : "./build/attncheck";
    snprintf(args, sizeof args, "%s activation --file %s --expect member --format json "
             "2>/dev/null | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); "
             "assert [r[\"line\"] for r in d[\"rows\"]] == [2, 4, 5]; "
             "assert [r[\"exit\"] for r in d[\"rows\"]] == [0, 2, 0]; assert d[\"exit\"] == 2'",
             bin, path);
    ck_assert_msg(system(args) == 0, "the --file JSON is not what it should be");
    /* bad files and bad lines */
    static const struct {
        const char *name, *content;
        const char *says;
    } bad_files[] = {
        {"b1.txt", "x\nlog(x)\n", "b1.txt:2: f = log(x) is undefined"},
        {"b2.txt", "x\n\nx+\n", "b2.txt:3: expression: expected an operand"},
        {"b3.txt", "x\x01y\n", "b3.txt:1: holds a control character"},
        {"b4.txt", "# only a comment\n", "b4.txt: no function in it"},
        {"b5.txt", "no_such_name\n", "b5.txt:1: expression: unknown name"},
    };
    for (size_t k = 0; k < sizeof bad_files / sizeof bad_files[0]; k++) {
        snprintf(path, sizeof path, "%s/%s", tmpdir, bad_files[k].name);
        f = fopen(path, "w");
        fputs(bad_files[k].content, f);
        fclose(f);
        snprintf(args, sizeof args, "activation --file %s", path);
        ck_assert_int_eq(test_run_cli(args, out, sizeof out), 65);
        ck_assert_msg(strstr(out, bad_files[k].says) && test_count_lines(out) == 1, "%s: %s",
                      bad_files[k].name, out);
    }
    /* the hardening rules: a directory, a FIFO (never waited on), a file over
     * 1 MiB (sparse), a NUL byte, a line over 4096 bytes */
    char fifo[512], big[512], nul[512], lng[512];
    snprintf(fifo, sizeof fifo, "%s/fifo", tmpdir);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    snprintf(big, sizeof big, "%s/big.txt", tmpdir);
    f = fopen(big, "w");
    ck_assert_int_eq(ftruncate(fileno(f), 5L << 20), 0);
    fclose(f);
    snprintf(nul, sizeof nul, "%s/nul.txt", tmpdir);
    f = fopen(nul, "w");
    fwrite("x\n\0x\n", 1, 5, f);
    fclose(f);
    snprintf(lng, sizeof lng, "%s/long.txt", tmpdir);
    f = fopen(lng, "w");
    fputs("x\n", f);
    for (int k = 0; k < 2100; k++)
        fputs("x+", f);
    fputs("x\n", f);
    fclose(f);
    const char *paths[] = {tmpdir, fifo, big, nul, lng};
    const char *says[] = {": is a directory", "fifo: not a regular file", "larger than 1048576",
                          "nul.txt:2: holds a NUL byte", "long.txt:2: longer than 4096 bytes"};
    for (int k = 0; k < 5; k++) {
        snprintf(args, sizeof args, "activation --file %s", paths[k]);
        ck_assert_int_eq(test_run_cli(args, out, sizeof out), 65);
        ck_assert_msg(strstr(out, says[k]) && test_count_lines(out) == 1, "%s: %s", paths[k],
                      out);
    }
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

/* Seeds in [2^63, 2^64 - 1] (jansson's integers are signed): every JSON a
 * run writes (report, export, a shard's partial.json, merge's report) holds
 * each seed as the decimal string given on the command line. */
static const struct {
    const char *args; /* %s: the temporary directory */
    const char *file; /* the JSON written, in it */
    const char *seed;
} seed_cases[] = {
    {"verify neuron-head --seed 9223372036854775808 --format json --out %s/r", "r/neuron-head.json",
     "9223372036854775808"},
    {"sweep neuron-head --set seed=18446744073709551615 --set a=1 --set shape=2x3 --format json "
     "--out %s/r", "r/neuron-head.json", "18446744073709551615"},
    {"export neuron-head --seed 18446744073709551615 --out %s/i.json", "i.json",
     "18446744073709551615"},
    {"verify neuron-head --seed 9223372036854775809 --shard 0/1 --out %s/s", "s/partial.json",
     "9223372036854775809"},
};

START_TEST(test_seed_round_trip)
{
    if (access("/usr/bin/python3", X_OK) != 0) {
        fprintf(stderr, "cli: seed round trip skipped: no /usr/bin/python3\n");
        return;
    }
    char args[1024], cmd[2048];
    snprintf(args, sizeof args, seed_cases[_i].args, tmpdir);
    ck_assert_msg(test_run_cli(args, out, sizeof out) == 0, "%s: %s", args, out);
    const char *file = seed_cases[_i].file;
    if (strstr(args, "--shard")) { /* and merged: the report as an unsharded run writes it */
        snprintf(args, sizeof args, "merge %s/s --format json --out %s/m", tmpdir, tmpdir);
        ck_assert_msg(test_run_cli(args, out, sizeof out) == 0, "%s: %s", args, out);
    }
    /* every "seed" key anywhere in the document: a string equal to the seed */
    for (int k = 0; k < (strstr(args, "merge") ? 2 : 1); k++) {
        snprintf(cmd, sizeof cmd,
                 "/usr/bin/python3 -c 'import json,sys\n"
                 "def seeds(x):\n"
                 "    if isinstance(x, dict):\n"
                 "        for k, v in x.items():\n"
                 "            if k == \"seed\": yield v\n"
                 "            else: yield from seeds(v)\n"
                 "    elif isinstance(x, list):\n"
                 "        for v in x: yield from seeds(v)\n"
                 "s = list(seeds(json.load(open(sys.argv[1]))))\n"
                 "assert s and all(v == sys.argv[2] for v in s), s[:3]' %s/%s %s",
                 tmpdir, k ? "m/neuron-head.json" : file, seed_cases[_i].seed);
        ck_assert_msg(system(cmd) == 0, "%s: a seed is not \"%s\"", k ? "merge" : args,
                      seed_cases[_i].seed);
    }
}
END_TEST

/* Operands are paths of any length: a model file or a shard directory deep
 * in a cluster's scratch space is not an "unknown option". */
START_TEST(test_long_operands)
{
    char dir[1024], args[2048], path[1100];
    snprintf(dir, sizeof dir, "%s/%s", tmpdir,
             "a-directory-name-long-enough-to-pass-sixty-four-bytes-in-all-0123456789");
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    snprintf(args, sizeof args, "verify neuron-head --shard 0/1 --out %s/s0", dir);
    ck_assert_msg(test_run_cli(args, out, sizeof out) == 0, "%s", out);
    snprintf(args, sizeof args, "merge %s/s0 --format md --out %s/m", dir, tmpdir);
    ck_assert_msg(test_run_cli(args, out, sizeof out) == 0, "%s", out);
    /* a malformed model file there is bad data (65), not a usage error */
    snprintf(path, sizeof path, "%s/bad.safetensors", dir);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs("not a model", f);
    ck_assert_int_eq(fclose(f), 0);
    snprintf(args, sizeof args, "model %s --out %s/r", path, tmpdir);
    ck_assert_msg(test_run_cli(args, out, sizeof out) == 65, "%s", out);
    ck_assert_int_eq(test_count_lines(out), 1);
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

/* --version and version: attncheck's version and the libraries' line the
 * reports record, from this build's own version.o. */
START_TEST(test_version)
{
    char want[1024];
    library_version_t lib[8];
    int n = attncheck_libraries(lib, 8), at;
    at = snprintf(want, sizeof want, "attncheck %s\n", attncheck_version());
    for (int k = 0; k < n; k++)
        at += snprintf(want + at, sizeof want - (size_t)at, "%s%s %s", k ? ", " : "", lib[k].name,
                       lib[k].version);
    snprintf(want + at, sizeof want - (size_t)at, "\n");
    const char *forms[] = {"--version", "version"};
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(test_run_cli(forms[k], out, sizeof out), 0);
        ck_assert_str_eq(out, want);
    }
    ck_assert_int_eq(test_run_cli("--version extra", out, sizeof out), 64);
    ck_assert_int_eq(test_count_lines(out), 1);
}
END_TEST

/* One entry of D/index.json against its report's own summary (counts) and
 * the command that made it. */
static void check_index_entry(json_t *e, const char *dir, const char *stem, const char *command)
{
    char path[600];
    ck_assert_str_eq(json_string_value(json_object_get(e, "report")), stem);
    ck_assert_str_eq(json_string_value(json_object_get(e, "command")), command);
    ck_assert_str_eq(json_string_value(json_object_get(e, "attncheck")), attncheck_version());
    snprintf(path, sizeof path, "%s.md", stem);
    ck_assert_str_eq(json_string_value(json_object_get(e, "file")), path);
    snprintf(path, sizeof path, "%s/%s.json", dir, stem);
    json_error_t je;
    json_t *rep = json_load_file(path, 0, &je), *sum = json_object_get(rep, "summary");
    ck_assert_msg(rep != NULL, "%s: %s", path, je.text);
    static const char *const counts[] = {"holds", "vacuous", "violated", "inconclusive"};
    for (int k = 0; k < 4; k++)
        ck_assert_int_eq(json_integer_value(json_object_get(e, counts[k])),
                         json_integer_value(json_object_get(sum, counts[k])));
    json_decref(rep);
}

/* Two runs into one directory: index.md and index.json list the reports of
 * both, each with its own command; a rerun replaces its entry; an index.json
 * attncheck did not write is refused (65) before any work. */
START_TEST(test_index_merges_runs)
{
    char args[1024], dir[400], path[600];
    static char text[1 << 16];
    snprintf(dir, sizeof dir, "%s/d", tmpdir);
    snprintf(args, sizeof args, "verify neuron-head --prec 53 --out %s", dir);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 0);
    snprintf(args, sizeof args, "verify mask-encoding --out %s", dir);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 0);
    const char *first = "attncheck verify neuron-head --prec 53";
    for (int round = 0; round < 2; round++) {
        snprintf(path, sizeof path, "%s/index.json", dir);
        json_error_t je;
        json_t *idx = json_load_file(path, 0, &je), *list = json_object_get(idx, "reports");
        ck_assert_msg(idx != NULL, "index.json: %s", je.text);
        ck_assert_int_eq((int)json_array_size(list), 2);
        check_index_entry(json_array_get(list, 0), dir, "neuron-head", first);
        check_index_entry(json_array_get(list, 1), dir, "mask-encoding",
                          "attncheck verify mask-encoding");
        json_decref(idx);
        test_read_file(text, sizeof text, dir, "index.md");
        ck_assert_ptr_nonnull(strstr(text, "| [neuron-head](neuron-head.md) |"));
        ck_assert_ptr_nonnull(strstr(text, "| [mask-encoding](mask-encoding.md) |"));
        ck_assert_ptr_nonnull(strstr(text, "## Earlier runs"));
        snprintf(path, sizeof path, "made by `%s`", round ? "attncheck verify mask-encoding"
                                                          : first);
        ck_assert_msg(strstr(text, path), "index.md does not state the earlier run: %s", text);
        /* neuron-head again, another precision: its entry replaced in place */
        first = "attncheck verify neuron-head --prec 113";
        snprintf(args, sizeof args, "verify neuron-head --prec 113 --out %s", dir);
        if (round == 0)
            ck_assert_int_eq(test_run_cli(args, out, sizeof out), 0);
    }
    snprintf(args, sizeof args, "echo '{\"format\": \"other\"}' > %s/index.json", dir);
    ck_assert_int_eq(system(args), 0);
    snprintf(args, sizeof args, "verify neuron-head --prec 53 --out %s", dir);
    ck_assert_int_eq(test_run_cli(args, out, sizeof out), 65);
    ck_assert_int_eq(test_count_lines(out), 1);
    ck_assert_ptr_nonnull(strstr(out, "index.json' is not an attncheck report index"));
}
END_TEST

/* list --format json parses back to the registry: every claim, its fields,
 * each grid's axes with their values, and its mutations. */
START_TEST(test_list_json)
{
    static char doc[1 << 20];
    const char *argv[] = {"list", "--format", "json", NULL};
    test_cli_t t = {.argv = argv, .dir = tmpdir};
    ck_assert_int_eq(test_cli_run(&t), 0);
    test_read_file(doc, sizeof doc, tmpdir, "out.txt");
    json_error_t e;
    json_t *root = json_loads(doc, 0, &e);
    ck_assert_msg(root != NULL, "list --format json: %s (line %d)", e.text, e.line);
    json_t *claims = json_object_get(root, "claims");
    int n = 0;
    while (claim_registry[n])
        n++;
    ck_assert_int_eq((int)json_array_size(claims), n);
    for (int k = 0; k < n; k++) {
        const claim_t *c = claim_registry[k];
        json_t *o = json_array_get(claims, (size_t)k);
        ck_assert_str_eq(json_string_value(json_object_get(o, "id")), c->id);
        ck_assert_str_eq(json_string_value(json_object_get(o, "source")), c->source);
        ck_assert_str_eq(json_string_value(json_object_get(o, "kind")), claim_kind_name(c->kind));
        ck_assert_str_eq(json_string_value(json_object_get(o, "provenance")), c->provenance);
        ck_assert_str_eq(json_string_value(json_object_get(o, "statement")), c->statement);
        for (int g = 0; g < 2; g++) {
            const sweep_t *grid = g && c->full[0].label ? c->full : c->quick;
            json_t *sw = json_object_get(json_object_get(o, "sweeps"), g ? "full" : "quick");
            int ns = 0;
            for (; ns < CLAIM_MAX_SWEEPS && grid[ns].label; ns++) {
                json_t *s = json_array_get(sw, (size_t)ns), *axes = json_object_get(s, "axes");
                ck_assert_str_eq(json_string_value(json_object_get(s, "label")), grid[ns].label);
                int na = 0;
                for (; na < SWEEP_MAX_AXES && grid[ns].axes[na].name; na++) {
                    json_t *ax = json_array_get(axes, (size_t)na), *vals;
                    ck_assert_str_eq(json_string_value(json_object_get(ax, "name")),
                                     grid[ns].axes[na].name);
                    /* the values joined by commas are the claim's own list */
                    char joined[4096] = "";
                    size_t i;
                    json_t *v;
                    vals = json_object_get(ax, "values");
                    json_array_foreach(vals, i, v) {
                        if (i)
                            strncat(joined, ",", sizeof joined - strlen(joined) - 1);
                        strncat(joined, json_string_value(v), sizeof joined - strlen(joined) - 1);
                    }
                    ck_assert_str_eq(joined, grid[ns].axes[na].values);
                }
                ck_assert_int_eq((int)json_array_size(axes), na);
            }
            ck_assert_int_eq((int)json_array_size(sw), ns);
        }
        json_t *muts = json_object_get(o, "mutations");
        int m = 0;
        for (; m < CLAIM_MAX_MUTATIONS && c->mutations[m][0]; m++) {
            json_t *mu = json_array_get(muts, (size_t)m);
            ck_assert_str_eq(json_string_value(json_object_get(mu, "name")), c->mutations[m][0]);
            ck_assert_str_eq(json_string_value(json_object_get(mu, "breaks")), c->mutations[m][1]);
        }
        ck_assert_int_eq((int)json_array_size(muts), m);
    }
    json_decref(root);
    ck_assert_int_eq(test_run_cli("list --format yaml", out, sizeof out), 64);
}
END_TEST

/* export without --seed is export --seed 1, the documented default. */
START_TEST(test_export_default_seed)
{
    static char with[1 << 16];
    ck_assert_int_eq(test_run_cli("export mlp-layer", out, sizeof out), 0);
    ck_assert_int_eq(test_run_cli("export mlp-layer --seed 1", with, sizeof with), 0);
    ck_assert_str_eq(out, with);
    ck_assert_ptr_nonnull(strstr(out, "\"seed\": \"1\""));
    ck_assert_int_eq(test_run_cli("export mlp-layer --seed 2", with, sizeof with), 0);
    ck_assert_str_ne(out, with);
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
    tcase_add_loop_test(tc, test_verdict_cases, 0,
                        (int)(sizeof verdict_cases / sizeof verdict_cases[0]));
    tcase_add_test(tc, test_verdict_words_in_files);
    tcase_add_test(tc, test_activation_file);
    tcase_add_test(tc, test_activation_kinks);
    tcase_add_test(tc, test_activation_targets);
    tcase_add_test(tc, test_activation_baseline_file);
    tcase_add_loop_test(tc, test_seed_round_trip, 0,
                        (int)(sizeof seed_cases / sizeof seed_cases[0]));
    tcase_add_test(tc, test_long_operands);
    tcase_add_test(tc, test_help_and_list);
    tcase_add_test(tc, test_version);
    tcase_add_test(tc, test_list_json);
    tcase_add_test(tc, test_index_merges_runs);
    tcase_add_test(tc, test_export_default_seed);
    suite_add_tcase(s, tc);
    return s;
}
