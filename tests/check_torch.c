/* The converted network in users' tools: scripts/torch_export.py (a PyTorch
 * module with TransformerLens hook points) and scripts/export_onnx.py (an
 * ONNX graph), run by Debian's /usr/bin/python3.  Their hooks and outputs
 * against the numpy reference (tests/torch_hooks.py); PP-OCRv4's SVTR, where
 * `make models` made it, in torch float32 and bfloat16 and in ONNX float32
 * against the emulation's certified error (model --arith), the bias row
 * bitwise after every layer, and the literal form as the broken twin.  Skipped
 * with a line when torch, onnx or models/ are missing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "modelio_testutil.h"
#include "testutil.h"

/* The number after "E_conv <= " in a model --arith run's output, or -1. */
static double e_conv(const char *out)
{
    const char *p = strstr(out, "E_conv <= ");
    return p ? strtod(p + strlen("E_conv <= "), NULL) : -1;
}

/* Every claim export that builds a network loads into the module; its
 * hooks are where TransformerLens puts them and do what they say. */
static const char *const hook_claims[] = {
    "mlp-layer --set shape=4x8x5", "blog-one-layer --set shape=3x12x4 --set omega=1000",
    "blog-three-layer", "attention-only-encoded", "mask-encoding",
};

START_TEST(test_torch_hooks)
{
    if (!mio_have_python("torch, numpy", "check_torch: torch hooks"))
        return;
    char dir[256], cmd[1400], out[8192];
    test_tmpdir_make(dir, sizeof dir, "attncheck-torch-hooks");
    snprintf(cmd, sizeof cmd, "export %s --seed 1 --format safetensors --out %s/x.safetensors",
             hook_claims[_i], dir);
    ck_assert_msg(test_run_cli(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/torch_hooks.py %s/x.safetensors > "
             "%s/hooks.txt 2>&1", dir, dir);
    int rc = system(cmd);
    test_read_file(out, sizeof out, dir, "hooks.txt");
    ck_assert_msg(rc == 0 && !strstr(out, "FAILED"), "%s: %s", hook_claims[_i], out);
    test_tmpdir_remove(dir);
}
END_TEST

/* A model file's embed.W_E, pos_embed.W_pos, unembed.W_U and unembed.b_U
 * reach its export, which then turns tokens into logits alone: the same
 * logits as the model (tests/torch_embed.py).  A W_E of the wrong shape is
 * refused with 65 and one line naming it. */
START_TEST(test_export_decodes)
{
    if (!mio_have_python("torch, numpy", "check_torch: decoding an export"))
        return;
    char dir[256], cmd[1400], out[8192];
    test_tmpdir_make(dir, sizeof dir, "attncheck-torch-embed");
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/torch_embed.py make %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "model %s/m.safetensors --input %s/x.npy --out %s/r "
             "--export-converted %s/e.safetensors", dir, dir, dir, dir);
    ck_assert_msg(test_run_cli(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/torch_embed.py check %s %s/e.safetensors "
             "> %s/embed.txt 2>&1", dir, dir, dir);
    int rc = system(cmd);
    test_read_file(out, sizeof out, dir, "embed.txt");
    ck_assert_msg(rc == 0 && !strstr(out, "FAILED"), "%s", out);

    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/torch_embed.py make %s --bad-embed", dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "model %s/m.safetensors --tokens 3 --no-write", dir);
    ck_assert_int_eq(test_run_cli(cmd, out, sizeof out), 65);
    ck_assert_msg(strstr(out, "'embed.W_E' is not [*, d_model = 8]") &&
                      test_count_lines(out) == 1, "%s", out);
    test_tmpdir_remove(dir);
}
END_TEST

/* The two numbers torch_export.py prints (float32, bfloat16), its exit. */
static int run_torch(double e[2], const char *dir, const char *export)
{
    char cmd[1200], out[4096];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 scripts/torch_export.py %s/%s --dtype "
             "float32,bfloat16 --bias-row > %s/torch.txt 2>%s/torch.err", dir, export, dir, dir);
    int rc = system(cmd);
    test_read_file(out, sizeof out, dir, "torch.txt");
    char *next;
    e[0] = strtod(out, &next);
    e[1] = strtod(next, NULL);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* E of export_onnx.py --run (float32) and whether it found the bias row
 * unmoved. */
static double run_onnx(int *bias_ok, const char *dir, const char *export)
{
    char cmd[1200], out[4096];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 scripts/export_onnx.py %s/%s %s/net.onnx --run "
             "> %s/onnx.txt 2>&1", dir, export, dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    test_read_file(out, sizeof out, dir, "onnx.txt");
    *bias_ok = strstr(out, "bias row moved after layers none") != NULL;
    fprintf(stderr, "check_torch: %s", strchr(out, '\n') ? strchr(out, '\n') + 1 : out);
    return strtod(out, NULL);
}

/* The exported SVTR in torch float32 and bfloat16 and in ONNX float32, each
 * within a factor 16 of the emulation's certified E for the same format
 * (binary32; bfloat16 with binary32 accumulation, as torch's CPU products).
 * The band is an estimate, not a certified bound: torch and numpy's exp is
 * not correctly rounded and they sum in their own order.  The bias row is
 * bitwise after every layer in torch and ONNX.  The broken twin: the literal
 * conversion, whose bias row moves, falls outside the band. */
START_TEST(test_svtr_torch_onnx)
{
    if (access("models/ppocrv4-svtr.safetensors", R_OK) != 0 ||
        access("models/ppocrv4-svtr-input.npy", R_OK) != 0) {
        fprintf(stderr, "check_torch: models/ppocrv4-svtr.safetensors absent: skipped (run make "
                        "models)\n");
        return;
    }
    if (!mio_have_python("torch, onnx, numpy", "check_torch: SVTR in torch and ONNX"))
        return;
    char dir[256], cmd[1400], out[8192];
    test_tmpdir_make(dir, sizeof dir, "attncheck-torch-svtr");
    const char *model = "model models/ppocrv4-svtr.safetensors --input "
                        "models/ppocrv4-svtr-input.npy";
    double emul[2];
    snprintf(cmd, sizeof cmd, "%s --arith binary32 --out %s/r32 --export-converted "
             "%s/svtr.safetensors", model, dir, dir);
    ck_assert_msg(test_run_cli(cmd, out, sizeof out) == 0, "%s", out);
    emul[0] = e_conv(out);
    snprintf(cmd, sizeof cmd, "%s --arith bfloat16 --accumulate binary32 --out %s/rbf "
             "--no-export", model, dir);
    ck_assert_msg(test_run_cli(cmd, out, sizeof out) == 0, "%s", out);
    emul[1] = e_conv(out);
    ck_assert_msg(emul[0] > 0 && emul[1] > 0, "no E_conv in %s", out);

    double torch[2];
    ck_assert_msg(run_torch(torch, dir, "svtr.safetensors") == 0,
                  "torch: the float-robust bias row moved, or the script failed");
    int bias_ok;
    double onnx = run_onnx(&bias_ok, dir, "svtr.safetensors");
    ck_assert_msg(bias_ok, "onnx: the float-robust bias row moved");
    const double got[3] = {torch[0], torch[1], onnx}, want[3] = {emul[0], emul[1], emul[0]};
    static const char *const what[3] = {"torch float32", "torch bfloat16", "onnx float32"};
    for (int k = 0; k < 3; k++) {
        fprintf(stderr, "check_torch: SVTR %s E = %.3e, emulated (certified) E <= %.3e; band "
                "x16 is an estimate\n", what[k], got[k], want[k]);
        ck_assert_msg(got[k] >= want[k] / 16 && got[k] <= want[k] * 16,
                      "SVTR: %s E = %g outside [E/16, 16 E] of the emulation's %g", what[k],
                      got[k], want[k]);
    }

    /* the broken twin: the literal form in the same tools */
    snprintf(cmd, sizeof cmd, "%s --conversion literal --out %s/rl --export-converted "
             "%s/literal.safetensors", model, dir, dir);
    ck_assert_msg(test_run_cli(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_int_eq(run_torch(torch, dir, "literal.safetensors"), 1);
    onnx = run_onnx(&bias_ok, dir, "literal.safetensors");
    ck_assert_msg(!bias_ok, "onnx: the literal form's bias row did not move");
    ck_assert_msg(torch[0] > 16 * emul[0] && onnx > 16 * emul[0] && torch[1] > 16 * emul[1],
                  "the literal form is within the band: torch %g %g, onnx %g", torch[0],
                  torch[1], onnx);
    test_tmpdir_remove(dir);
}
END_TEST

Suite *suite_torch(void)
{
    Suite *s = suite_create("torch");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 240);
    tcase_add_loop_test(tc, test_torch_hooks, 0, (int)(sizeof hook_claims / sizeof hook_claims[0]));
    tcase_add_test(tc, test_export_decodes);
    tcase_add_test(tc, test_svtr_torch_onnx);
    suite_add_tcase(s, tc);
    return s;
}
