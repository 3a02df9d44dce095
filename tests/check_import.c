/* scripts/import_model.py end to end: a GPT-2-shaped model made in torch
 * (tests/gpt2_import_oracle.py) in HuggingFace layout (model.safetensors,
 * pytorch_model.bin) and as a TransformerLens state dict, imported and run
 * by `attncheck model` on token ids; the imported logits against
 * HuggingFace's forward pass written in the oracle; the importer's broken
 * twins caught; token-id and bias errors refused with one line.  Skipped
 * when Debian's /usr/bin/python3 lacks torch. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "exitcodes.h"
#include "modelio_testutil.h"

static char tmpdir[256];
static char out[1 << 16];
static void setup(void) { test_tmpdir_make(tmpdir, sizeof tmpdir, "attncheck-import"); }
static void teardown(void) { test_tmpdir_remove(tmpdir); }

/* A shell command (paths under tmpdir and the repository's scripts only),
 * its output into tmpdir/py.txt; returns its exit code. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd - 200, fmt, ap);
    va_end(ap);
    ck_assert(n > 0 && (size_t)n < sizeof cmd - 200);
    snprintf(cmd + n, sizeof cmd - (size_t)n, " >%s/py.txt 2>&1", tmpdir);
    int rc = system(cmd);
    test_read_file(out, sizeof out, tmpdir, "py.txt");
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

#define cli(...) test_run_clif(out, sizeof out, __VA_ARGS__)

/* The output is one line (progress reports aside). */
static int one_line(void)
{
    return test_count_lines(out) == 1;
}

static int have_torch(const char *what)
{
    return mio_have_python("torch, numpy", what);
}

#define PY "/usr/bin/python3"
#define IMPORT PY " scripts/import_model.py"
#define ORACLE PY " tests/gpt2_import_oracle.py"

/* The model in three layouts under tmpdir/m; returns 0 when torch is missing. */
static int make_models(const char *what)
{
    if (!have_torch(what))
        return 0;
    ck_assert_msg(sh(ORACLE " make %s/m", tmpdir) == 0, "%s", out);
    return 1;
}

/* Both layouts (and pytorch_model.bin) through the importer and `model` on
 * token ids: every row holds (the real model within --tol 0.05: gelu_new is
 * approximated by SiLU_a), the logits of the imported file match
 * HuggingFace's forward pass to float64 precision, and the certified top-1
 * token of every position is HuggingFace's argmax. */
START_TEST(test_end_to_end)
{
    if (!make_models("check_import: end to end"))
        return;
    static const struct {
        const char *layout, *source, *config, *ids;
    } src[] = {
        {"hf", "m/hf", "", "ids.npy"},
        {"hf", "m/hfbin/pytorch_model.bin", "", "ids32.npy"},
        {"tl", "m/tl/state_dict.pt", "--config %s/m/tl/cfg.json", "ids.npy"},
    };
    for (size_t k = 0; k < sizeof src / sizeof src[0]; k++) {
        char config[400] = "";
        snprintf(config, sizeof config, src[k].config, tmpdir);
        ck_assert_msg(sh(IMPORT " %s %s/%s %s/imp%zu.safetensors %s", src[k].layout, tmpdir,
                         src[k].source, tmpdir, k, config) == 0,
                      "%s: %s", src[k].source, out);
        ck_assert_msg(strstr(out, "import_model: wrote"), "%s", out);
        ck_assert_msg(sh(ORACLE " check %s/imp%zu.safetensors %s/m", tmpdir, k, tmpdir) == 0,
                      "%s: %s", src[k].source, out);
        ck_assert_msg(cli("model %s/imp%zu.safetensors --input %s/m/%s --tol 0.05 --no-export "
                          "--format json --out %s/r%zu", tmpdir, k, tmpdir, src[k].ids, tmpdir,
                          k) == 0,
                      "%s: %s", src[k].source, out);
        ck_assert_msg(strstr(out, "top1         pos 11") && !strstr(out, "pos 12"), "%s", out);
        ck_assert_msg(sh(ORACLE " check %s/imp%zu.safetensors %s/m --report "
                         "%s/r%zu/model-imp%zu.json", tmpdir, k, tmpdir, tmpdir, k, k) == 0,
                      "%s: %s", src[k].source, out);
    }
    /* the comparison of top-1 tokens can fail: the same model run on other
     * ids (each + 1) does not give HuggingFace's argmax for ids.npy */
    ck_assert_int_eq(sh(PY " -c 'import numpy as np, sys; a = np.load(sys.argv[1]); "
                        "np.save(sys.argv[2], (a + 1) %% 50)' %s/m/ids.npy %s/shifted.npy",
                        tmpdir, tmpdir), 0);
    ck_assert_int_eq(cli("model %s/imp0.safetensors --input %s/shifted.npy --tol 0.05 "
                         "--no-export --format json --out %s/rs", tmpdir, tmpdir, tmpdir), 0);
    ck_assert_msg(sh(ORACLE " check %s/imp0.safetensors %s/m --report %s/rs/model-imp0.json",
                     tmpdir, tmpdir, tmpdir) == 1,
                  "%s", out);
}
END_TEST

/* A wrong mapping in the importer (each of q, k, v's blocks of c_attn
 * transposed, as if Conv1D were Linear; heads taken from the interleaved
 * column order) is caught: its logits disagree with HuggingFace's. */
START_TEST(test_broken_twins)
{
    if (!make_models("check_import: broken twins"))
        return;
    static const char *const mutations[] = {"c_attn-transposed", "heads-interleaved"};
    for (int k = 0; k < 2; k++) {
        ck_assert_msg(sh(IMPORT " hf %s/m/hf %s/bad%d.safetensors --mutate %s", tmpdir, tmpdir,
                         k, mutations[k]) == 0,
                      "%s", out);
        ck_assert_msg(sh(ORACLE " check %s/bad%d.safetensors %s/m", tmpdir, k, tmpdir) == 1,
                      "%s not detected: %s", mutations[k], out);
        ck_assert_msg(strstr(out, "DISAGREE"), "%s", out);
    }
}
END_TEST

/* Token ids that cannot be embedded: 65 and one line, nothing written. */
START_TEST(test_ids_refused)
{
    if (!make_models("check_import: token ids refused"))
        return;
    ck_assert_int_eq(sh(IMPORT " hf %s/m/hf %s/g.safetensors", tmpdir, tmpdir), 0);
    ck_assert_msg(sh(PY " -c 'import sys, numpy as np\n"
                     "sys.path.insert(0, \"scripts\"); import tlmodel\n"
                     "d = sys.argv[1]\n"
                     "np.save(d + \"/big.npy\", np.array([3, 50], dtype=np.int64))\n"
                     "np.save(d + \"/neg.npy\", np.array([3, -1], dtype=np.int32))\n"
                     "np.save(d + \"/long.npy\", np.zeros(17, dtype=np.int64))\n"
                     "np.save(d + \"/two.npy\", np.zeros((1, 4), dtype=np.int64))\n"
                     "np.save(d + \"/i16.npy\", np.zeros(4, dtype=np.int16))\n"
                     "np.save(d + \"/ok.npy\", np.arange(16, dtype=np.int64))\n"
                     "import json, struct\n"
                     "h = json.dumps({\"ids\": {\"dtype\": \"U8\", \"shape\": [3], "
                     "\"data_offsets\": [0, 3]}}).encode()\n"
                     "h += b\" \" * (-len(h) %% 8)\n"
                     "open(d + \"/u8.safetensors\", \"wb\").write(struct.pack(\"<Q\", len(h)) + h + "
                     "bytes([1, 2, 3]))\n"
                     "t, meta = tlmodel.load_file(d + \"/g.safetensors\")\n"
                     "for drop in (\"embed.W_E\", \"pos_embed.W_pos\"):\n"
                     "    tlmodel.save_file({k: v for k, v in t.items() if k != drop},\n"
                     "                      d + \"/no-\" + drop + \".safetensors\", meta)\n"
                     "' %s", tmpdir) == 0,
                  "%s", out);
    static const struct {
        const char *model, *ids, *expect;
    } bad[] = {
        {"g", "big", "token id 50 at position 1 is outside embed.W_E's vocabulary [0, 50)"},
        {"g", "neg", "token id -1 at position 1 is outside"},
        {"g", "long", "17 token ids, but pos_embed.W_pos of"},
        {"g", "two", "token ids must have shape [n_ctx]"},
        {"g", "i16", "dtype '<i2' not supported"},
        {"no-embed.W_E", "ok", "model has no tensor 'embed.W_E' [d_vocab, d_model]"},
        {"no-pos_embed.W_pos", "ok", "model has no tensor 'pos_embed.W_pos' [n_ctx, d_model]"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ck_assert_msg(cli("model %s/%s.safetensors --input %s/%s.npy --out %s/rep%zu", tmpdir,
                          bad[k].model, tmpdir, bad[k].ids, tmpdir, k) == EXIT_DATAERR,
                      "%s/%s: %s", bad[k].model, bad[k].ids, out);
        ck_assert_msg(one_line() && strstr(out, bad[k].expect), "%s/%s: %s", bad[k].model,
                      bad[k].ids, out);
        char rep[400];
        snprintf(rep, sizeof rep, "%s/rep%zu", tmpdir, k);
        ck_assert_msg(access(rep, F_OK) != 0, "a refused run left %s", rep);
    }
    /* a safetensors tensor of a dtype neither stream nor ids: the line names both */
    ck_assert_int_eq(cli("model %s/g.safetensors --input %s/u8.safetensors:ids --no-write",
                         tmpdir, tmpdir), EXIT_DATAERR);
    ck_assert_msg(one_line() && strstr(out, "dtype U8 cannot be read") &&
                      strstr(out, "I64 or I32 for token ids"), "%s", out);
    /* all 16 positions of W_pos: accepted */
    ck_assert_msg(cli("model %s/g.safetensors --input %s/ok.npy --tol 0.05 --no-write", tmpdir,
                      tmpdir) == 0,
                  "%s", out);
}
END_TEST

/* A model without attention and MLP biases (GPT-NeoX-style or bias-free)
 * loads with zeros: its report's numbers are those of the same model with
 * the biases written as zeros; a bias of the wrong shape is still 65. */
START_TEST(test_optional_biases)
{
    if (!make_models("check_import: optional biases"))
        return;
    ck_assert_int_eq(sh(IMPORT " hf %s/m/hf %s/g.safetensors", tmpdir, tmpdir), 0);
    ck_assert_msg(sh(PY " -c 'import sys, re, numpy as np\n"
                     "sys.path.insert(0, \"scripts\"); import tlmodel\n"
                     "d = sys.argv[1]\n"
                     "t, meta = tlmodel.load_file(d + \"/g.safetensors\")\n"
                     "bias = re.compile(r\"blocks\\.\\d+\\.(attn\\.b_[QKVO]|mlp\\.b_(in|out))$\")\n"
                     "z = {k: (np.zeros_like(v) if bias.match(k) else v) for k, v in t.items()}\n"
                     "assert sum(1 for k in t if bias.match(k)) == 12\n"
                     "tlmodel.save_file(z, d + \"/zeros.safetensors\", meta)\n"
                     "tlmodel.save_file({k: v for k, v in t.items() if not bias.match(k)},\n"
                     "                  d + \"/nobias.safetensors\", meta)\n"
                     "w = dict(t); w[\"blocks.1.mlp.b_in\"] = np.zeros(63)\n"
                     "tlmodel.save_file(w, d + \"/badbias.safetensors\", meta)\n"
                     "' %s", tmpdir) == 0,
                  "%s", out);
    for (int k = 0; k < 2; k++)
        ck_assert_msg(cli("model %s/%s.safetensors --input %s/m/ids.npy --tol 0.05 --no-export "
                          "--format json --out %s/r%d", tmpdir, k ? "nobias" : "zeros", tmpdir,
                          tmpdir, k) == 0,
                      "%s", out);
    ck_assert_msg(sh(PY " -c 'import json, sys\n"
                     "rows = [json.load(open(p))[\"rows\"] for p in sys.argv[1:]]\n"
                     "key = lambda r: [(x[\"params\"], x[\"error\"], x.get(\"bound\"), "
                     "x[\"verdict\"], x.get(\"extra\")) for x in r]\n"
                     "assert len(rows[0]) == 20 and key(rows[0]) == key(rows[1])\n"
                     "' %s/r0/model-zeros.json %s/r1/model-nobias.json", tmpdir, tmpdir) == 0,
                  "the bias-free model's report differs from the zero-bias one: %s", out);
    ck_assert_int_eq(cli("model %s/badbias.safetensors --input %s/m/ids.npy --no-write", tmpdir,
                         tmpdir), EXIT_DATAERR);
    ck_assert_msg(one_line() && strstr(out, "'blocks.1.mlp.b_in' has shape [63], the config "
                                            "says [64]"), "%s", out);
}
END_TEST

/* What the importer cannot map exactly is refused with one line and its
 * exit code, and nothing is written. */
START_TEST(test_importer_refusals)
{
    if (!make_models("check_import: refusals"))
        return;
    static const struct {
        const char *key, *value; /* set in config.json (NULL: none) */
        const char *args;        /* after "import_model.py", %s the directory */
        int rc;
        const char *expect;
    } bad[] = {
        {"scale_attn_by_inverse_layer_idx", "true", NULL, 65,
         "scale_attn_by_inverse_layer_idx is true"},
        {"activation_function", "\"tanh\"", NULL, 65, "activation_function 'tanh'"},
        {"n_head", "3", NULL, 65, "n_embd 16 is not a multiple of n_head 3"},
        {"model_type", "\"gpt_neox\"", NULL, 65, "model_type 'gpt_neox' is not gpt2"},
        {"add_cross_attention", "true", NULL, 65, "add_cross_attention is true"},
        {"rotary_dim", "4", NULL, 65, "key 'rotary_dim' is not a GPT2Config field"},
        {"n_layer", "1", NULL, 65, "tensor 'h.1.attn.c_attn.bias' exists but config.json says "
                                   "n_layer 1"},
        {"n_inner", "32", NULL, 65, "tensor 'h.0.mlp.c_fc.weight' has shape [16, 64], the "
                                    "config says [16, 32]"},
        {NULL, NULL, "hf %s/none %s/o.safetensors", 66, "none: no such file or directory"},
        {NULL, NULL, "hf %s/m/tl %s/o.safetensors", 66, "holds neither model.safetensors"},
        {NULL, NULL, "tl %s/m/tl/state_dict.pt %s/o.safetensors", 64, "tl needs --config"},
        {NULL, NULL, "hf %s/m/hf %s/no/such/dir/o.safetensors", 73, "cannot create"},
        {NULL, NULL, "hf %s/m/hf %s/o.safetensors --mutate x", 64, "invalid choice"},
        /* values JSON cannot hold again (the config goes into the file as JSON) */
        {"layer_norm_epsilon", "1e999", NULL, 65, "Infinity is no JSON number"},
        {"n_inner", "true", NULL, 65, "n_inner is not null or an integer >= 1"},
        {NULL, NULL, "hf %s/m/hf/model.safetensors %s/o.safetensors --config %s/deep.json", 65,
         "deep.json: not valid JSON"},
        {NULL, NULL, "tl %s/m/tl/state_dict.pt %s/o.safetensors --config %s/nan.json", 65,
         "NaN is no JSON number"},
    };
    ck_assert_int_eq(sh(PY " -c 'import sys\n"
                        "open(sys.argv[1] + \"/deep.json\", \"w\").write(\"[\" * 100000 + \"]\" * 100000)\n"
                        "open(sys.argv[1] + \"/nan.json\", \"w\").write(\"{\\\"eps\\\": NaN}\")\n"
                        "' %s", tmpdir), 0);
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        int rc;
        if (bad[k].key) {
            ck_assert_int_eq(sh(PY " -c 'import json, sys\n"
                                "c = json.load(open(sys.argv[1])); c[sys.argv[2]] = "
                                "json.loads(sys.argv[3])\n"
                                "json.dump(c, open(sys.argv[4], \"w\"))\n"
                                "' %s/m/hf/config.json %s '%s' %s/c.json", tmpdir, bad[k].key,
                                bad[k].value, tmpdir), 0);
            rc = sh(IMPORT " hf %s/m/hf/model.safetensors %s/o.safetensors --config %s/c.json",
                    tmpdir, tmpdir, tmpdir);
        } else {
            char args[600];
            snprintf(args, sizeof args, bad[k].args, tmpdir, tmpdir, tmpdir);
            rc = sh(IMPORT " %s", args);
        }
        ck_assert_msg(rc == bad[k].rc, "case %zu: rc %d: %s", k, rc, out);
        ck_assert_msg(one_line() && strstr(out, bad[k].expect) &&
                          strncmp(out, "import_model: ", 14) == 0,
                      "case %zu: %s", k, out);
        char o[400];
        snprintf(o, sizeof o, "%s/o.safetensors", tmpdir);
        ck_assert_msg(access(o, F_OK) != 0, "case %zu: a refused import wrote %s", k, o);
    }
}
END_TEST

Suite *suite_import(void)
{
    Suite *s = suite_create("import");
    TCase *tc = tcase_create("import");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_end_to_end);
    tcase_add_test(tc, test_broken_twins);
    tcase_add_test(tc, test_ids_refused);
    tcase_add_test(tc, test_optional_biases);
    tcase_add_test(tc, test_importer_refusals);
    tcase_set_timeout(tc, 300);
    suite_add_tcase(s, tc);
    return s;
}
