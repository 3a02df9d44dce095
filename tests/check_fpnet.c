/* fpnet: a converted network run in an emulated float format.  Computed two
 * ways: one head through fpnet and through fpmat's own head (bit for bit,
 * every format, accumulation and order); binary64 against the exact network
 * (Arb); the grid floor against hand-computed distances; the floor theorem
 * D >= floor on random networks, broken by a run in binary64 and by Omega
 * terms added after rounding; the float-formats claim's rows and the CLI's
 * --arith. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "act.h"
#include "arith_claim.h"
#include "fpnet.h"
#include "runner.h"
#include "testutil.h"

/* Random 53-bit numbers in [-1, 1) as doubles. */
static double rand_unit(gmp_randstate_t st)
{
    return (double)gmp_urandomm_ui(st, 1UL << 30) / (double)(1UL << 29) - 1.0 +
           (double)gmp_urandomm_ui(st, 1UL << 23) * 0x1p-53;
}

/* One factored head of width D, internal dimension r, rule mask, as an
 * aonet of one layer; its weights and the tokens as doubles too. */
typedef struct {
    long N, D, r;
    double *WQ, *WK, *WV, *WO, *X;
    aonet_t net;
    imat_t Xi;
} one_head_t;

static void one_head_init(one_head_t *t, long N, long D, long r, aonet_mask_t mask,
                          gmp_randstate_t st)
{
    t->N = N;
    t->D = D;
    t->r = r;
    double **w[5] = {&t->WQ, &t->WK, &t->WV, &t->WO, &t->X};
    long sz[5] = {D * r, D * r, D * r, r * D, N * D};
    for (int k = 0; k < 5; k++) {
        *w[k] = malloc(sizeof(double) * (size_t)sz[k]);
        for (long i = 0; i < sz[k]; i++)
            (*w[k])[i] = rand_unit(st);
    }
    aonet_init(&t->net, D, D, 1);
    aonet_layer_init(t->net.layers, 1);
    aonet_group_t *g = t->net.layers[0].groups;
    aonet_group_init(g, "h", D, 1, r, r, 0, mask);
    for (long k = 0; k < D * r; k++) {
        arb_set_d(g->W_Q->e + k, t->WQ[k]);
        arb_set_d(g->W_K->e + k, t->WK[k]);
        arb_set_d(g->W_V->e + k, t->WV[k]);
        arb_set_d(g->W_O->e + k, t->WO[k]);
    }
    imat_init(t->Xi, N, D);
    for (long k = 0; k < N * D; k++)
        arb_set_d(t->Xi->e + k, t->X[k]);
}

static void one_head_clear(one_head_t *t)
{
    free(t->WQ);
    free(t->WK);
    free(t->WV);
    free(t->WO);
    free(t->X);
    aonet_clear(&t->net);
    imat_clear(t->Xi);
}

/* fpnet on a one-head network = X + fpmat's head, bit for bit. */
START_TEST(test_head_matches_fpmat)
{
    static const fpf_format_t *const fmts[] = {&fpf_binary64, &fpf_binary32, &fpf_bfloat16,
                                               &fpf_binary16};
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + 61 + (unsigned long)_i);
    const fpf_format_t *f = fmts[_i % 4];
    fpf_arith_t ar = {.fmt = f, .acc = (_i / 4) % 2 && f->prec < 24 ? &fpf_binary32 : f,
                      .order = (_i / 8) % 2 ? FPF_SUM_PAIRWISE : FPF_SUM_SEQUENTIAL};
    long N = 2 + (long)gmp_urandomm_ui(st, 5), D = 1 + (long)gmp_urandomm_ui(st, 5);
    long r = 1 + (long)gmp_urandomm_ui(st, 3);
    one_head_t t;
    one_head_init(&t, N, D, r, (_i / 2) % 2 ? AONET_MASK_CAUSAL : AONET_MASK_ALL, st);
    fpnet_opts_t o = {.ar = ar, .omega_col = -1};
    fpnet_stats_t sts;
    fpf_mat_t Y;
    ck_assert_int_eq(fpnet_apply(Y, &t.net, t.Xi, &o, &sts), 0);
    ck_assert_int_eq(sts.off_grid, 0);

    fpf_head_t h;
    fpf_mat_t X, Z;
    fpf_mask_t M;
    ck_assert_int_eq(fpf_head_init(h, D, r, f), 0);
    fpf_mat_set_d(h->W_Q, t.WQ);
    fpf_mat_set_d(h->W_K, t.WK);
    fpf_mat_set_d(h->W_V, t.WV);
    fpf_mat_set_d(h->W_O, t.WO);
    ck_assert_int_eq(fpf_mat_init(X, N, D, f), 0);
    ck_assert_int_eq(fpf_mat_init(Z, N, D, f), 0);
    fpf_mat_set_d(X, t.X);
    ck_assert_int_eq((_i / 2) % 2 ? fpf_mask_init_causal(&M, N) : fpf_mask_init_full(&M, N), 0);
    ck_assert_int_eq(fpf_head_apply(Z, h, X, &M, &ar), 0);
    fpf_mat_add(Z, Z, X);
    for (long k = 0; k < N * D; k++)
        ck_assert_msg(mpfr_equal_p(Y->e + k, Z->e + k),
                      "%s entry %ld differs (seed %lu, case %d)", f->name, k, test_seed(), _i);
    fpf_mat_clear(Y);
    fpf_mat_clear(X);
    fpf_mat_clear(Z);
    fpf_mask_clear(&M);
    fpf_head_clear(h);
    one_head_clear(&t);
    gmp_randclear(st);
}
END_TEST

/* An instance around a one-head network: the exact output as reference. */
static void instance_of(instance_t *I, one_head_t *t, mpfr_prec_t prec)
{
    instance_init(I);
    aonet_clear(&I->net);
    I->net = t->net;
    aonet_init(&t->net, 0, 0, 0); /* the instance owns it now */
    imat_t R;
    imat_init(R, t->N, t->D);
    imat_set(R, t->Xi);
    aonet_apply(R, &I->net, prec);
    instance_net_io(I, t->Xi, R, "test");
    imat_clear(R);
}

/* binary64 close to the exact network; every format's D at least its floor;
 * a run in binary64 below a 16-bit format's floor. */
START_TEST(test_floor_theorem)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + 71 + (unsigned long)_i);
    mpfr_prec_t prec = test_random_prec(st, 96, 300);
    long N = 2 + (long)gmp_urandomm_ui(st, 6), D = 2 + (long)gmp_urandomm_ui(st, 4);
    one_head_t t;
    one_head_init(&t, N, D, 2, AONET_MASK_CAUSAL, st);
    instance_t I;
    instance_of(&I, &t, prec);
    static const fpf_format_t *const fmts[] = {&fpf_binary64, &fpf_binary32, &fpf_bfloat16,
                                               &fpf_binary16};
    for (int k = 0; k < 4; k++) {
        fpnet_opts_t o = {.ar = {.fmt = fmts[k], .acc = fmts[k], .order = FPF_SUM_SEQUENTIAL},
                          .omega_col = -1};
        fpnet_measure_t m;
        fpnet_measure_init(&m);
        ck_assert_int_eq(fpnet_measure(&m, &I, &o, fmts[k], 0, 0, 0, prec), 0);
        ck_assert_int_eq(m.off_grid, 0);
        ck_assert_msg(verdict_floor(m.D, m.floor) == VERDICT_HOLDS, "%s: D below the floor "
                      "(seed %lu)", fmts[k]->name, test_seed());
        /* the reference is the exact network itself: E = D */
        ck_assert(arb_overlaps(m.D, m.E_ref));
        if (k == 0) { /* binary64: a few hundred units of 2^-53 at most here */
            arb_t lim;
            arb_init(lim);
            arb_set_d(lim, 0x1p-40);
            ck_assert(ival_le(m.D, lim));
            arb_clear(lim);
        }
        fpnet_measure_clear(&m);
    }
    /* the mistake: binary64 claimed as bfloat16 */
    fpnet_opts_t o = {.ar = {.fmt = &fpf_binary64, .acc = &fpf_binary64,
                             .order = FPF_SUM_SEQUENTIAL}, .omega_col = -1};
    fpnet_measure_t m;
    fpnet_measure_init(&m);
    ck_assert_int_eq(fpnet_measure(&m, &I, &o, &fpf_bfloat16, 0, 0, 0, prec), 0);
    ck_assert_int_eq(verdict_floor(m.D, m.floor), VERDICT_VIOLATED);
    fpnet_measure_clear(&m);
    instance_clear(&I);
    one_head_clear(&t);
    gmp_randclear(st);
}
END_TEST

/* The floor against distances worked by hand (bfloat16: spacing 2^-7 in [1, 2)). */
START_TEST(test_grid_floor_values)
{
    imat_t C;
    imat_init(C, 2, 2);
    arb_set_d(imat_entry(C, 0, 0), 1.0);               /* on the grid */
    arb_set_d(imat_entry(C, 0, 1), 1.0 + 0x1p-9);      /* 2^-9 from 1 */
    arb_set_d(imat_entry(C, 1, 0), 1.0 + 3 * 0x1p-9);  /* 2^-9 from 1 + 2^-7 */
    arb_set_d(imat_entry(C, 1, 1), 3.0 * 0x1p-10);     /* 3 2^-10 = 1.5 2^-9: on the grid */
    arb_t fl, want;
    arb_init(fl);
    arb_init(want);
    fpnet_grid_floor(fl, C, 0, 2, 2, &fpf_bfloat16, 128);
    /* both rows: sqrt(0 + 2^-18) = 2^-9, less 2^-20 relative */
    arb_set_d(want, 0x1p-9 * (1.0 - 0x1p-20));
    ck_assert(arb_overlaps(fl, want));
    ck_assert(arb_is_exact(fl));
    fpnet_grid_floor(fl, C, 0, 1, 1, &fpf_bfloat16, 128);
    ck_assert(arb_is_zero(fl));
    /* binary64: every entry is on its grid */
    fpnet_grid_floor(fl, C, 0, 2, 2, &fpf_binary64, 128);
    ck_assert(arb_is_zero(fl));
    /* a ball across a rounding boundary certifies nothing: 0 */
    arb_set_d(imat_entry(C, 0, 0), 1.0 + 0x1p-8);
    mag_set_d(arb_radref(imat_entry(C, 0, 0)), 0x1p-20);
    fpnet_grid_floor(fl, C, 0, 1, 1, &fpf_bfloat16, 128);
    ck_assert(arb_is_zero(fl));
    arb_clear(fl);
    arb_clear(want);
    imat_clear(C);
}
END_TEST

/* The blog one-layer network at Omega = 1000: in bfloat16 every logit is a
 * bfloat16 value; with the Omega terms added after rounding they are not. */
START_TEST(test_omega_after_rounding_leaves_the_grid)
{
    const claim_t *c = claim_find("blog-one-layer");
    params_t p = {.n = 2, .name = {"shape", "omega"}, .value = {"2x8x3", "1000"}};
    instance_t I;
    instance_init(&I);
    ck_assert_int_eq(c->export_instance(&I, &p, 1 + test_seed() % 1000, 128), 0);
    for (int mut = 0; mut < 2; mut++) {
        fpnet_opts_t o = {.ar = {.fmt = &fpf_bfloat16, .acc = &fpf_bfloat16,
                                 .order = FPF_SUM_SEQUENTIAL},
                          .omega_col = mut ? 2 : -1}; /* positions after d = 2 features */
        fpnet_stats_t sts;
        fpf_mat_t Y;
        ck_assert_int_eq(fpnet_apply(Y, &I.net, I.net_in, &o, &sts), 0);
        if (mut)
            ck_assert_int_gt(sts.off_grid, 0);
        else
            ck_assert_int_eq(sts.off_grid, 0);
        fpf_mat_clear(Y);
    }
    instance_clear(&I);
}
END_TEST

/* Run float-formats over the given axes (mutation m); rep to clear. */
static void ff_run(claim_report_t *rep, int m, const char *const sets[][2], int n_sets)
{
    const claim_t *c = claim_find("float-formats");
    ck_assert_ptr_nonnull(c);
    run_options_t o;
    run_options_default(&o);
    o.mutation = m;
    for (int k = 0; k < n_sets; k++) {
        o.set_name[k] = sets[k][0];
        o.set_values[k] = sets[k][1];
    }
    o.n_sets = n_sets;
    char err[512];
    ck_assert_msg(runner_validate(c, &o, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(runner_run_claim(rep, c, &o, err, sizeof err) == 0, "%s", err);
    ck_assert_int_gt(rep->n_rows, 0);
}

/* float-formats' default grid: every row holds and is a float computation;
 * the encoded rows ran at their computed threshold (column Omega equals
 * Omega_req(u S)); the blog rows asserted beyond are those the rounding
 * argument predicts (column rounding loses z); every
 * mutation breaks every row (within: the network broken; beyond: its
 * rounding defect removed, or the comparison inverted). */
START_TEST(test_float_formats_rows)
{
    const claim_t *c = claim_find("float-formats");
    ck_assert_ptr_nonnull(c);
    for (int m = 0; m <= 2; m++) {
        claim_report_t rep;
        ff_run(&rep, m, NULL, 0);
        long within = 0, beyond = 0;
        for (long k = 0; k < rep.n_rows; k++) {
            const row_t *r = rep.rows + k;
            const char *as = params_get(&r->params, "asserts");
            ck_assert_ptr_nonnull(as);
            within += strcmp(as, "within") == 0;
            beyond += strcmp(as, "beyond") == 0;
            if (m > 0) {
                ck_assert_msg(r->verdict == VERDICT_VIOLATED, "mutation %d: %s %s %s: %s", m,
                              params_get(&r->params, "construction"),
                              params_get(&r->params, "format"), as,
                              verdict_name(r->verdict));
                continue;
            }
            ck_assert_int_eq(r->verdict, VERDICT_HOLDS);
            ck_assert_str_eq(row_find_column(r, "float computation")->str, "yes");
            const column_t *om = row_find_column(r, "Omega");
            const column_t *rq = row_find_column(r, "Omega_req(u S)");
            if (strcmp(as, "within") == 0 && om) {
                ck_assert_ptr_nonnull(rq);
                arb_t t;
                arb_init(t);
                ck_assert_int_eq(arb_set_str(t, rq->str, 128), 0);
                ck_assert(arb_equal(t, om->iv)); /* omega=req: run at the threshold */
                arb_clear(t);
            }
            if (strcmp(as, "beyond") == 0) {
                const column_t *pr = row_find_column(r, "rounding loses z");
                ck_assert_ptr_nonnull(pr);
                ck_assert_msg(strncmp(pr->str, "yes", 3) == 0, "%s", pr->str);
            }
        }
        ck_assert_int_gt(within, 0);
        ck_assert_int_gt(beyond, 0);
        claim_report_clear(&rep);
    }
}
END_TEST

/* The threshold is where the encoding starts working: half of it, the float
 * rule is violated for mask-encoding in every format (the mask not encoded
 * yet), and at it the rule holds; the blog constructions at the author's
 * Omega in bfloat16 fail the float rule (the case) and hold beyond. */
START_TEST(test_float_formats_threshold)
{
    static const char *const below[][2] = {{"construction", "mask-encoding"},
                                           {"format", "binary32,bfloat16,binary16"},
                                           {"omega", "0.25req,req"},
                                           {"asserts", "within"}};
    claim_report_t rep;
    ff_run(&rep, 0, below, 4);
    for (long k = 0; k < rep.n_rows; k++) {
        const row_t *r = rep.rows + k;
        int at = strcmp(params_get(&r->params, "omega"), "req") == 0;
        ck_assert_msg(r->verdict == (at ? VERDICT_HOLDS : VERDICT_VIOLATED), "%s %s: %s",
                      params_get(&r->params, "format"), params_get(&r->params, "omega"),
                      verdict_name(r->verdict));
    }
    claim_report_clear(&rep);
    static const char *const blog[][2] = {{"construction", "blog-one-layer"},
                                          {"format", "bfloat16"},
                                          {"omega", "1000"},
                                          {"asserts", "within,beyond"}};
    ff_run(&rep, 0, blog, 4);
    for (long k = 0; k < rep.n_rows; k++) {
        const row_t *r = rep.rows + k;
        int w = strcmp(params_get(&r->params, "asserts"), "within") == 0;
        ck_assert_int_eq(r->verdict, w ? VERDICT_VIOLATED : VERDICT_HOLDS);
    }
    claim_report_clear(&rep);
}
END_TEST

static const struct {
    const char *args;
    int code;
} cli_cases[] = {
    {"sweep mlp-layer --set a=1 --set shape=2x3x3 --set prec=128 --arith bf16 --no-write", 0},
    {"sweep mlp-layer --set a=1 --arith bf16 --accumulate binary32 --order pairwise "
     "--set shape=2x3x3 --set prec=128 --no-write", 0},
    {"sweep mlp-layer --set a=1 --arith float8 --no-write", 64},
    {"sweep mlp-layer --set a=1 --arith binary32 --accumulate bfloat16 --no-write", 64},
    {"sweep mlp-layer --set a=1 --arith binary32 --order random --no-write", 64},
    {"sweep mlp-layer --set a=1 --accumulate binary32 --no-write", 64},
    /* the float rule: the converted network in F against the original in F */
    {"sweep blog-one-layer --set omega=1000 --arith bfloat16 --no-write", 1},
    {"sweep mlp-layer --set a=1 --set shape=2x3x3 --arith binary32 --no-write", 0},
    {"sweep attention-only --set seed=1 --arith binary32 --no-write", 0},
    /* the broken twin: a mutation of the converted network, every row violated */
    {"sweep mlp-layer --set a=1 --arith binary32 --mutate --no-write", 1},
    {"sweep blog-one-layer --set omega=8 --arith binary32 --mutate=converted-weight "
     "--no-write", 1},
    {"sweep blog-one-layer --set omega=8 --arith binary32 --mutate=no-such --no-write", 64},
    {"verify mlp-layer --arith binary32 --no-write", 64},
    /* export --arith: the instance the float row runs (fresh tokens) */
    {"export mlp-layer --seed 1 --set a=1 --arith binary32 --out /dev/null", 0},
    {"export mlp-layer --seed 1 --arith float8 --out /dev/null", 64},
    {"sweep relu-limit --set a=1 --arith binary32 --no-write", 64},
    {"model no-such.safetensors --arith float8 --no-write", 64},
    {"model no-such.safetensors --order pairwise --no-write", 64},
    {"model no-such.safetensors --arith bf16 --accumulate binary16 --no-write", 64},
    {"model no-such.safetensors --arith bf16 --mutate ln-cf --no-write", 64},
};

START_TEST(test_cli_arith)
{
    char out[8192];
    int rc = test_run_cli(cli_cases[_i].args, out, sizeof out);
    ck_assert_msg(rc == cli_cases[_i].code, "'%s' exited %d, not %d: %s", cli_cases[_i].args, rc,
                  cli_cases[_i].code, out);
    if (rc == 64 || rc == 65)
        ck_assert_int_eq(test_count_lines(out), 1);
}
END_TEST

/* Field `col` of the first row of a CSV file (RFC 4180 quotes honoured); 0
 * when found. */
static int csv_field(char *out, size_t n, const char *path, const char *col)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char buf[2][16384];
    int ok = fgets(buf[0], sizeof buf[0], f) && fgets(buf[1], sizeof buf[1], f);
    fclose(f);
    if (!ok)
        return -1;
    int want = -1;
    for (int pass = 0; pass < 2; pass++) {
        const char *p = buf[pass];
        for (int k = 0; *p && *p != '\n'; k++) {
            char field[512];
            size_t len = 0;
            int quoted = *p == '"';
            p += quoted;
            while (*p && (quoted ? !(*p == '"' && p[1] != '"') : *p != ',' && *p != '\n')) {
                if (quoted && *p == '"')
                    p++; /* a doubled quote */
                if (len + 1 < sizeof field)
                    field[len++] = *p;
                p++;
            }
            p += quoted && *p == '"';
            field[len] = '\0';
            if (pass == 0 && strcmp(field, col) == 0)
                want = k;
            if (pass == 1 && k == want) {
                if (len >= n)
                    return -1;
                memcpy(out, field, len + 1);
                return 0;
            }
            p += *p == ',';
        }
        if (want < 0)
            return -1;
    }
    return -1;
}

/* torch on the CPU runs an exported network in float32 and bfloat16; its
 * error lies within a factor 16 of the emulation's certified one for the
 * same format (bfloat16: binary32 accumulation, as torch's CPU products).
 * An estimate: torch's exp is not correctly rounded and it sums in its own
 * order; the band says the emulation models what a framework does. */
static const struct {
    const char *claim, *sets;
} torch_cases[] = {
    {"mlp-layer", "--set shape=4x8x5 --set a=1"},
    {"blog-one-layer", "--set shape=3x12x4 --set omega=1000"},
};

START_TEST(test_torch_cross_check)
{
    static const char *const fmt[2] = {"binary32", "bfloat16"}, *const acc[2] = {"same",
                                                                                 "binary32"};
    static const char *const dtype[2] = {"float32", "bfloat16"};
    char dir[256], cmd[2048], out[8192], path[400], val[128];
    test_tmpdir_make(dir, sizeof dir, "attncheck-torch");
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 -c 'import torch, numpy' > %s/probe.txt 2>&1",
             dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "check_fpnet: torch cross-check skipped: /usr/bin/python3 has no torch "
                        "(apt-get install python3-torch)\n");
        test_tmpdir_remove(dir);
        return;
    }
    const char *claim = torch_cases[_i].claim, *sets = torch_cases[_i].sets;
    double torch[2];
    for (int k = 0; k < 2; k++) {
        /* the instance the float row runs (its tokens drawn afresh from the seed) */
        snprintf(cmd, sizeof cmd, "export %s --seed 1 %s --arith %s --format safetensors --out "
                 "%s/x%d.safetensors", claim, sets, fmt[k], dir, k);
        ck_assert_msg(test_run_cli(cmd, out, sizeof out) == 0, "%s", out);
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 scripts/torch_export.py %s/x%d.safetensors "
                 "--dtype float32,bfloat16 > %s/torch.txt 2>&1", dir, k, dir);
        ck_assert_int_eq(system(cmd), 0);
        test_read_file(out, sizeof out, dir, "torch.txt");
        char *next;
        double both = strtod(out, &next);
        torch[k] = k == 0 ? both : strtod(next, NULL);
    }
    for (int k = 0; k < 2; k++) {
        snprintf(cmd, sizeof cmd, "sweep %s %s --set seed=1 --set prec=128 --arith %s "
                 "--accumulate %s --out %s/r%d", claim, sets, fmt[k], acc[k], dir, k);
        /* the float rule may answer either way (blog-one-layer at Omega = 1000 is worse
         * than the MLP in binary32): this test compares torch with the emulation only */
        int rc = test_run_cli(cmd, out, sizeof out);
        ck_assert_msg(rc == 0 || rc == 1, "%s", out);
        /* the float twin's report: CLAIM.FORMAT.acc-ACC; E is the converted network in the
         * format against the exact reference */
        snprintf(path, sizeof path, "%s/r%d/%s.%s%s%s.csv", dir, k, claim, fmt[k],
                 strcmp(acc[k], "same") ? ".acc-" : "", strcmp(acc[k], "same") ? acc[k] : "");
        ck_assert_int_eq(csv_field(val, sizeof val, path, "error_hi"), 0);
        double emul = strtod(val, NULL);
        fprintf(stderr, "check_fpnet: %s %s: torch %s E = %.3e, emulated %s (accumulate %s) E = "
                "%.3e (an estimate, not certified)\n", claim, sets, dtype[k], torch[k], fmt[k],
                acc[k], emul);
        ck_assert_msg(emul > 0 && torch[k] >= emul / 16 && torch[k] <= emul * 16,
                      "%s: torch %s E = %g outside [E/16, 16 E] of the emulation's %g", claim,
                      dtype[k], torch[k], emul);
    }
    test_tmpdir_remove(dir);
}
END_TEST

/* A mutated float twin: every row violated (the exit rule's "detected"). */
START_TEST(test_arith_mutation_detected)
{
    char out[8192];
    int rc = test_run_cli("sweep blog-one-layer --set omega=8 --set seed=1,2 --arith binary32 "
                          "--mutate=converted-weight --no-write", out, sizeof out);
    ck_assert_msg(rc == 1 && strstr(out, "4 violated (detected)"), "exit %d: %s", rc, out);
}
END_TEST

/* Every claim's original computation (instance_t.orig), computed exactly by
 * onet_apply on its input, is the claim's reference on the original's
 * block: the float rule compares with the right computation. */
START_TEST(test_originals_are_the_references)
{
    static const char *const ids[] = {"mlp-layer", "neuron-head", "blog-one-layer",
                                      "blog-three-layer", "attention-only",
                                      "attention-only-encoded"};
    static const char *const sets[][2] = {{"a", "1.702"}, {"a", "0.5"}, {"omega", "8"},
                                          {"omega", "8"}, {"a", "1"}, {"omega", "64"}};
    const claim_t *c = claim_find(ids[_i]);
    ck_assert_ptr_nonnull(c);
    run_options_t o;
    run_options_default(&o);
    o.set_name[0] = sets[_i][0];
    o.set_values[0] = sets[_i][1];
    o.n_sets = 1;
    row_t *rows;
    long n = runner_expand(&rows, c, &o);
    ck_assert_int_gt(n, 0);
    instance_t I;
    instance_init(&I);
    ck_assert_int_eq(c->export_instance(&I, &rows[0].params, rows[0].seed, 256), 0);
    ck_assert_int_gt(I.orig.n_stages, 0);
    imat_t Y;
    imat_init(Y, 0, 0);
    imat_reinit(Y, I.orig_in->rows, I.orig_in->cols);
    imat_set(Y, I.orig_in);
    ck_assert_int_eq(onet_apply(Y, &I.orig, 256), 0);
    arb_t E, Eabs;
    arb_init(E);
    arb_init(Eabs);
    imat_t R;
    imat_init(R, Y->rows, Y->cols);
    for (long i = 0; i < Y->rows; i++)
        for (long j = 0; j < Y->cols; j++)
            arb_set(imat_entry(R, i, j), imat_entry(I.net_ref, I.orig_row0 + i, j));
    error_metric(E, Eabs, Y, R, 0, Y->rows, Y->cols, 256);
    arb_t tol;
    arb_init(tol);
    arb_set_ui(tol, 1);
    arb_mul_2exp_si(tol, tol, -200);
    ck_assert_msg(ival_le(E, tol), "%s: the original is not the reference", ids[_i]);
    arb_clear(tol);
    arb_clear(E);
    arb_clear(Eabs);
    imat_clear(Y);
    imat_clear(R);
    instance_clear(&I);
    runner_free_rows(rows, n);
}
END_TEST

/* A tiny pre-LN GELU model (LN with gains and biases, causal attention with
 * biases, two heads, an MLP, ln_final): fpnet_model_apply in binary64 is
 * within a small certified distance of the Arb forward pass (tblock_attn,
 * tblock_mlp), and bfloat16 is certifiably worse by orders of magnitude. */
START_TEST(test_model_blocks_in_format)
{
    const long N = 5, D = 6, H = 2, E = 3, M = 8;
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, 7);
    tblock_t B;
    onet_block_zero(&B, D, H, E, M);
    B.causal = 1;
    arb_set_d(B.attn_scale, 1.7320508075688772); /* ~sqrt(3), a double: exact */
    imat_struct *mats[] = {B.W_Q, B.W_K, B.W_V, B.b_Q, B.b_K, B.b_V, B.W_O, B.b_O, B.W_in,
                           B.b_in, B.W_out, B.b_out};
    for (size_t k = 0; k < sizeof mats / sizeof mats[0]; k++)
        for (long i = 0; i < mats[k]->rows * mats[k]->cols; i++)
            arb_set_d(mats[k]->e + i, rand_unit(st));
    aonet_ln_t *lns[2] = {&B.ln1, &B.ln2};
    aonet_ln_t lnf;
    aonet_ln_init(&lnf);
    aonet_ln_set_kind(&lnf, AONET_LN_LN, D);
    arb_set_d(lnf.eps, 1e-5);
    for (int k = 0; k < 2; k++) {
        aonet_ln_set_kind(lns[k], AONET_LN_LN, D);
        arb_set_d(lns[k]->eps, 1e-5);
    }
    aonet_ln_t *all[3] = {&B.ln1, &B.ln2, &lnf};
    for (int k = 0; k < 3; k++)
        for (long j = 0; j < D; j++) {
            arb_set_d(all[k]->w->e + j, 1 + rand_unit(st) / 4);
            arb_set_d(all[k]->b->e + j, rand_unit(st) / 4);
        }
    imat_t X, Y;
    imat_init(X, N, D);
    imat_init(Y, N, D);
    for (long k = 0; k < N * D; k++)
        arb_set_d(X->e + k, rand_unit(st));
    gmp_randclear(st);
    const mpfr_prec_t prec = 256;
    tblock_attn(Y, &B, X, prec);
    tblock_mlp(Y, &B, Y, ival_gelu, NULL, prec);
    aonet_ln_apply(Y, Y, &lnf, prec);
    const fpf_format_t *fmts[2] = {&fpf_binary64, &fpf_bfloat16};
    arb_t err[2], Eabs;
    arb_init(Eabs);
    for (int k = 0; k < 2; k++) {
        fpf_arith_t ar = {fmts[k], fmts[k], FPF_SUM_SEQUENTIAL};
        fpf_mat_t F;
        ck_assert_int_eq(fpnet_model_apply(F, &B, 1, &lnf, "gelu", X, &ar), 0);
        imat_t Fx;
        imat_init(Fx, 0, 0);
        fpnet_mat_exact(Fx, F);
        fpf_mat_clear(F);
        arb_init(err[k]);
        error_metric(err[k], Eabs, Fx, Y, 0, N, D, prec);
        imat_clear(Fx);
    }
    arb_t t;
    arb_init(t);
    arb_set_d(t, 1e-12); /* outputs ~1 after ln_final: binary64's errors are ~1e-15 */
    ck_assert_msg(ival_le(err[0], t), "binary64 run is not within 1e-12 of the Arb pass");
    ck_assert_msg(arb_is_positive(err[0]), "binary64 run certifiably differs from the exact");
    arb_mul_2exp_si(t, err[0], 20);
    ck_assert_msg(arb_gt(err[1], t), "bfloat16 is not 2^20 times worse than binary64");
    arb_set_d(t, 0.5);
    ck_assert_msg(ival_le(err[1], t), "bfloat16 run is off by more than 0.5");
    arb_clear(t);
    arb_clear(err[0]);
    arb_clear(err[1]);
    arb_clear(Eabs);
    imat_clear(X);
    imat_clear(Y);
    aonet_ln_clear(&lnf);
    tblock_clear(&B);
}
END_TEST

/* The float twin: the base's grid, its own id, and the wrapper refuses a
 * claim that builds no network. */
START_TEST(test_arith_claim_make)
{
    arith_claim_t w;
    fpf_arith_t ar;
    char err[256];
    ck_assert_int_eq(fpnet_arith_parse(&ar, "bfloat16", NULL, "pairwise"), 0);
    const claim_t *base = claim_find("blog-one-layer");
    ck_assert_int_eq(arith_claim_make(&w, base, &ar, err, sizeof err), 0);
    ck_assert_str_eq(w.claim.id, "blog-one-layer.bfloat16.pairwise");
    ck_assert_ptr_eq(w.claim.base, base);
    ck_assert_ptr_eq(w.claim.ctx, &w);
    ck_assert_str_eq(w.claim.quick[0].axes[0].name, base->quick[0].axes[0].name);
    ck_assert_int_eq(arith_claim_make(&w, claim_find("relu-limit"), &ar, err, sizeof err), -1);
}
END_TEST

/* An input that straddles a rounding boundary of the format asks for more
 * bits (1) and leaves Y uninitialised, with nothing held (under ASan, a leak
 * would fail here). */
START_TEST(test_input_straddles_rounding)
{
    gmp_randstate_t st;
    gmp_randinit_default(st);
    gmp_randseed_ui(st, test_seed() + 7);
    one_head_t t;
    one_head_init(&t, 2, 2, 1, AONET_MASK_ALL, st);
    arb_set_d(t.Xi->e, 1 + 0x1p-11); /* halfway between two binary16 values */
    mag_set_d(arb_radref(t.Xi->e), 0x1p-30);
    fpnet_opts_t o = {.ar = {.fmt = &fpf_binary16, .acc = &fpf_binary16,
                             .order = FPF_SUM_SEQUENTIAL}, .omega_col = -1};
    fpnet_stats_t sts;
    fpf_mat_t Y;
    ck_assert_int_eq(fpnet_apply(Y, &t.net, t.Xi, &o, &sts), 1);
    one_head_clear(&t);
    gmp_randclear(st);
}
END_TEST

Suite *suite_fpnet(void)
{
    Suite *s = suite_create("fpnet");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_head_matches_fpmat, 0, 16);
    tcase_add_loop_test(tc, test_floor_theorem, 0, test_quick() ? 2 : 8);
    tcase_add_test(tc, test_grid_floor_values);
    tcase_add_test(tc, test_omega_after_rounding_leaves_the_grid);
    tcase_add_test(tc, test_float_formats_rows);
    tcase_add_test(tc, test_float_formats_threshold);
    tcase_add_loop_test(tc, test_cli_arith, 0, (int)(sizeof cli_cases / sizeof cli_cases[0]));
    tcase_add_test(tc, test_arith_mutation_detected);
    tcase_add_loop_test(tc, test_originals_are_the_references, 0, 6);
    tcase_add_test(tc, test_model_blocks_in_format);
    tcase_add_test(tc, test_arith_claim_make);
    tcase_add_test(tc, test_input_straddles_rounding);
    tcase_add_loop_test(tc, test_torch_cross_check, 0,
                        (int)(sizeof torch_cases / sizeof torch_cases[0]));
    suite_add_tcase(s, tc);
    return s;
}
