/* activation-class (derived): what one head of internal dimension 1 with
 * mask B computes as a function of z = x.w.
 *
 * Derivation.  Query token i (real) attends to itself and to the bias token
 * 0 only.  Query q_i = x^_i W_Q, key k_j = x^_j W_K (scalars), value
 * v_j = x^_j W_V W_O.  The bias token's key is kappa = W_K[bias], its value
 * c u with c = W_V[bias], u = W_O.  Softmax over the two keys gives weight
 * sigma(q_i k_i - q_i kappa) = sigma(q_i (k_i - kappa)) on self, so
 *   h_i = sigma(Q) v_i + (1 - sigma(Q)) c u,   Q = q_i (k_i - kappa).
 * For h_i to depend on x_i only through z = x_i.w, the feature parts of
 * W_Q, W_K, W_V are multiples of w.
 * G0 (real tokens [x, 0]): q = al z, k - kappa = be z - kappa, v = g z u:
 *   f(z) = g z sigma(p z^2 + q z) + c sigma(-p z^2 - q z),
 *   p = al be, q = -al kappa  (q comes from the bias key alone).
 * G1 (real tokens [x, 1, 0]): the constant coordinate adds a0, be0, g0:
 *   f(z) = (g z + g0) sigma(Q) + c (1 - sigma(Q)),
 *   Q = (al z + a0)(be z + be0 - kappa); kappa merges into be0 (set 0).
 * Checked exactly below (rows "formula") with random dyadic parameters and
 * a random kappa, against the formula computed directly. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "actclass.h"
#include "act_util.h"
#include "xalloc.h"

/* ------------------------------------------------------- the claim */

enum { MUT_NONE, MUT_DROP_KAPPA, MUT_SWAP_C, MUT_SELF_MASK, MUT_WRONG_WITNESS };

/* An exact identity: judged by the exact rule (0 excluded = violated); the
 * reports show its tolerance S 2^(kappa - p) and the slack used. */
static void mark_exact_identity(row_t *r)
{
    r->has_bound = 0;
    r->exact_identity = 1;
}

static int run_formula(row_t *r)
{
    const char *cl = params_get(&r->params, "class");
    int cls = cl && strcmp(cl, "G1") == 0 ? 1 : cl && strcmp(cl, "G0") == 0 ? 0 : -1;
    if (cls < 0) {
        snprintf(r->note, sizeof r->note, "class='%s' must be G0 or G1", cl ? cl : "");
        return -1;
    }
    /* random dyadic parameters k/16, and kappa */
    ac_member_t m;
    gmp_randstate_t st;
    thm_rand_init(st, r->seed, 90 + (unsigned long)cls);
    for (int k = 0; k < AC_NPAR; k++) {
        long num = (long)gmp_urandomm_ui(st, 97) - 48;
        if (!cls && (k == AC_G0 || k == AC_A0 || k == AC_B0))
            num = 0;
        ac_member_set(&m, k, (double)num / 16.0); /* exact: |num| <= 48 */
    }
    arb_t kappa;
    arb_init(kappa);
    arb_set_si(kappa, (long)gmp_urandomm_ui(st, 97) - 48);
    arb_mul_2exp_si(kappa, kappa, -4);
    gmp_randclear(st);
    mpfr_t S, zmax;
    mpfr_init2(S, 64);
    mpfr_init2(zmax, 64);
    int fm = r->mutation == MUT_DROP_KAPPA ? 1 : r->mutation == MUT_SWAP_C ? 2 : 0;
    ac_head_check(r->error, NULL, S, zmax, &m, kappa, cls, NULL, r->mutation == MUT_SELF_MASK, fm, 6,
                  r->seed, r->prec);
    arb_set(r->error_abs, r->error);
    mpfr_set(r->scale, S, MPFR_RNDU);
    mark_exact_identity(r);
    char buf[200];
    ac_member_str(buf, sizeof buf, &m, cls);
    row_add_text(r, "parameters", "%s", buf);
    arb_set(row_add_ival(r, "bias key k0"), kappa);
    arb_clear(kappa);
    mpfr_clear(S);
    mpfr_clear(zmax);
    return 0;
}

static const char *status_short(ac_status_t s)
{
    return s == AC_EXACT ? "exact member" : s == AC_NOT_MEMBER ? "not a member (proved)"
         : s == AC_BEST ? "best found" : "WITNESS FAILS";
}

/* What is known of phi's class; G0 is inside G1 (gamma0 = alpha0 = 0,
 * Q = z (p z + q)), so a G1 non-member is in neither. */
static const char *membership(const ac_result_t res[2])
{
    ac_status_t g0 = res[0].status, g1 = res[1].status;
    if (g0 == AC_WITNESS_FAILS || g1 == AC_WITNESS_FAILS)
        return "unknown: a claimed witness fails";
    if (g0 == AC_EXACT)
        return "member of G0 and G1";
    if (g1 == AC_EXACT)
        return g0 == AC_NOT_MEMBER ? "member of G1, not of G0 (proved)"
                                   : "member of G1; G0 undecided";
    if (g1 == AC_NOT_MEMBER)
        return "member of neither (proved)";
    return g0 == AC_NOT_MEMBER ? "not of G0 (proved); G1 undecided" : "undecided";
}

static int run_builtin(row_t *r)
{
    const char *name = params_get(&r->params, "act");
    act_t phi;
    char err[200];
    if (!name || act_init_name(&phi, name, err, sizeof err, r->prec) != 0) {
        snprintf(r->note, sizeof r->note, "act='%.40s': %.100s", name ? name : "",
                 name ? err : "missing");
        return -1;
    }
    char base[64];
    snprintf(base, sizeof base, "%s", name);
    char *colon = strchr(base, ':');
    const char *ptxt = colon ? colon + 1 : (phi.info && phi.info->param_default ? phi.info->param_default : NULL);
    if (colon)
        *colon = '\0';
    ac_result_t res[2];
    ac_result_init(res, r->prec);
    ac_result_init(res + 1, r->prec);
    ac_classify(res, &phi, base, ptxt, r->mutation == MUT_WRONG_WITNESS, r->prec);
    static const char *const nm[2][3] = {{"G0", "G0 member", "G0 gap (certified)"},
                                         {"G1", "G1 member", "G1 gap (certified)"}};
    for (int c = 0; c < 2; c++) {
        row_add_text(r, nm[c][0], "%s", status_short(res[c].status));
        row_add_text(r, nm[c][1], "%s", res[c].params);
        arb_set(row_add_ival(r, nm[c][2]), res[c].gap);
    }
    row_add_text(r, "membership", "%s", membership(res));
    /* the head from the G1 member on random tokens against phi */
    arb_t kappa;
    arb_init(kappa);
    arb_set_ui(kappa, 0);
    mpfr_t S, zmax;
    mpfr_init2(S, 64);
    mpfr_init2(zmax, 64);
    ac_head_check(r->error, r->trivial, S, zmax, &res[1].m, kappa, 1, &phi, 0, 0, 8, r->seed,
                  r->prec);
    arb_set(r->error_abs, r->error);
    mpfr_set(r->scale, S, MPFR_RNDU);
    if (res[1].status == AC_EXACT) {
        mark_exact_identity(r);
    } else if (res[1].status == AC_WITNESS_FAILS) {
        arb_set_ui(r->bound, 0); /* the claimed witness is not one */
        arb_set(r->error, res[1].gap);
        r->has_bound = 1;
    } else {
        /* |f - phi| <= gap on [-L, L] and |z| <= L, so E <= gap ||u||_2 */
        arb_set(r->bound, res[1].gap);
        arb_mul_2exp_si(r->bound, r->bound, 1); /* ||u||_2 <= sqrt(3) < 2 (entries in [-1, 1]) */
        r->has_bound = 1;
        r->has_trivial = 1; /* the head's output and phi(z) u: the triangle inequality */
    }
    if (res[0].status == AC_EXACT || res[1].status == AC_EXACT) {
        int c = res[0].status == AC_EXACT ? 0 : 1;
        row_add_text(r, "pointwise hi p, p+64", "%.2e, %.2e", res[c].pw_hi[0], res[c].pw_hi[1]);
    }
    if (!mpfr_number_p(zmax) || mpfr_cmp_d(zmax, AC_L) > 0) {
        /* the gap bound holds only for |z| <= L: without it the row proves nothing */
        if (!r->exact_identity)
            r->has_bound = 0;
        row_add_text(r, "warning", "|z| > L");
    }
    ac_result_clear(res);
    ac_result_clear(res + 1);
    arb_clear(kappa);
    mpfr_clear(S);
    mpfr_clear(zmax);
    act_clear(&phi);
    return 0;
}

static int run(row_t *r)
{
    return strcmp(r->sweep, "formula") == 0 ? run_formula(r) : run_builtin(r);
}

static char *summary_md(const row_t *rows, long n_rows)
{
    size_t cap = 16384, len = 0;
    char *s = xmalloc(cap);
    len += (size_t)snprintf(s + len, cap - len,
        "## Class table over the built-ins\n\n"
        "Exact member: a witness whose certified sup gap on [−10, 10] has lo = 0 and hi ≤ %g "
        "(an absolute floor, reached within %d boxes with Taylor bounds of order %d), and "
        "whose pointwise differences at 16 points contain 0 and shrink from p to p + 64 "
        "bits. Otherwise the best member found by Nelder–Mead in doubles (an estimate; "
        "parameters within ±%g) with its certified gap. 'Head E' is the head built from the "
        "G1 member on random tokens against φ (certified).\n\n"
        "| activation | G0 | G0 member | G0 gap (certified) | G1 | G1 member | G1 gap (certified) "
        "| membership | head E hi | head check |\n|---|---|---|---|---|---|---|---|---|---|\n",
        AC_MEMBER_TOL, AC_MEMBER_BOXES, AC_TAYLOR_ORDER, AC_NM_BOUND);
    for (long k = 0; k < n_rows; k++) {
        const row_t *r = rows + k;
        if (strcmp(r->sweep, "builtins") != 0)
            continue;
        len += (size_t)snprintf(s + len, cap - len, "| %s ", params_get(&r->params, "act"));
        static const char *const cols[] = {"G0", "G0 member", "G0 gap (certified)", "G1",
                                           "G1 member", "G1 gap (certified)", "membership"};
        for (int c = 0; c < 7; c++) {
            const column_t *x = row_find_column(r, cols[c]);
            if (!x) {
                len += (size_t)snprintf(s + len, cap - len, "| - ");
            } else if (x->is_ival) {
                char *lo = ival_lo_str(x->iv, 6), *hi = ival_hi_str(x->iv, 6);
                len += (size_t)snprintf(s + len, cap - len, "| [%s, %s] ", lo, hi);
                mpfr_free_str(lo);
                mpfr_free_str(hi);
            } else {
                len += (size_t)snprintf(s + len, cap - len, "| %s ", x->str);
            }
        }
        char *hi = ival_hi_str(r->error, 3);
        len += (size_t)snprintf(s + len, cap - len, "| %s | %s |\n", hi, verdict_name(r->verdict));
        mpfr_free_str(hi);
        if (len + 1024 > cap)
            s = xrealloc(s, cap *= 2);
    }
    snprintf(s + len, cap - len,
             "\nProofs of non-membership are short arguments in code comments (smoothness; for "
             "tanh ∉ G0: f(0) = 0 forces c = 0, f'(0) = 1 forces γ = 2, and 2zσ(pz² + qz) never "
             "tends to 1). 'best found' rows are not proofs: the certified gap bounds how far "
             "that member is, not the class.\n");
    return s;
}

const claim_t claim_activation_class = {
    .id = "activation-class",
    .source = "derived (Theorems 3, 8)",
    .kind = KIND_INEQUALITY,
    .provenance = "derived",
    .statement = "One head of internal dimension 1 with mask B computes f(z)u with f in G0 "
                 "(no constant coordinate) or G1 (constant-1 coordinate); which built-ins are "
                 "members, and how close the others get.",
    .formula = "Self weight σ(q_i(k_i − k₀)), k₀ the bias token's key, bias value c: "
               "h_i = σ(Q)v_i + (1 − σ(Q))c·u.\n"
               "**G0**: f(z) = γzσ(pz² + qz) + cσ(−pz² − qz), p = αβ, q = −αk₀ (W_Q = αw, "
               "W_K = βw + k₀ e_bias, W_V = γw + c e_bias, W_O = u).\n"
               "**G1**: f(z) = (γz + γ₀)σ(Q) + c(1 − σ(Q)), Q = (αz + α₀)(βz + β₀ − k₀).\n"
               "Rows `formula`: random dyadic parameters and k₀; the head on the bias-token "
               "stream against the formula, an exact identity judged by the exact rule "
               "(E ≤ S·2^{κ−p}, κ = 24).\n"
               "Rows `builtins`: exact membership with a witness (certified sup gap lo = 0, "
               "hi ≤ tolerance, pointwise enclosures containing 0 and shrinking with p) or the "
               "best member (Nelder–Mead in doubles, an estimate) with a certified gap; the head "
               "from the G1 member on 8 random tokens (d = 3) against φ(z)u: exact members "
               "E ≤ S·2^{κ−p}, others E ≤ 2·gap (‖u‖₂ ≤ √3). The verdict of a `builtins` row is "
               "this head check, not membership: the column `membership` says what is known "
               "of φ's class.",
    .notes = "Domain [−10, 10] (the membership statement is about that interval). Best members "
             "are searched with parameters in ±64: relu's infimum 0 is not attained in G0/G1.",
    .quick = {{"formula", {{"class", "G0,G1"}, {"prec", "53,128,512"}, {"seed", "1,2,3,4"}, {NULL, NULL}}},
              {"builtins", {{"act", "identity,relu,silu,silu_a:1.702,gelu,gelu_tanh,sigmoid,tanh,"
                                    "softplus,elu,mish,hardswish"}, {"prec", "128"}, {NULL, NULL}}},
              {NULL, {{NULL, NULL}}}},
    .mutations = {{"drop-bias-key", "the formula without the bias key k₀"},
                  {"swap-c", "the formula with σ(Q) and 1 − σ(Q) swapped"},
                  {"self-mask", "the head with mask I (no bias token)"},
                  {"wrong-witness", "every witness with c + 1"},
                  {NULL, NULL}},
    .run = run,
    .summary_md = summary_md,
};
