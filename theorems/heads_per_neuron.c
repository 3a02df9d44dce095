/* heads-per-neuron: how many SiLU heads a neuron costs.  One head of the
 * construction computes c SiLU_a(z) of its neuron's pre-activation z (c
 * through W_O, a through W_Q), so m heads give S_m(z) = sum_j c_j SiLU_{a_j}(z).
 * For phi in {gelu, gelu_tanh, relu} and m = 1..8, the shipped fit (silusum.h:
 * dyadic c_j, a_j with sum c_j = 1, slopes in [1/4, 8], fitted on [-10, 10])
 * has the certified gap eps_m = sup over the whole line |phi - S_m| (branch
 * and bound on [-L, L] and a certified tail bound beyond), and each row
 * checks eps_m <= the fit's double estimate rounded up to 4 significant
 * digits. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "thm_common.h"
#include "act.h"
#include "silusum.h"
#include "xalloc.h"

enum { MUT_NONE, MUT_SLOPE, MUT_WRONG_SIGN };

#define HPN_REL_TOL 1e-9

/* The bound: the estimate (times 1 + 1e-6) rounded up to 4 significant
 * digits, as decimal text. */
static void bound_text(char *buf, size_t size, double est)
{
    double g = est * (1 + 1e-6);
    int e = (int)floor(log10(g)), dec = 3 - e;
    double v = ceil(g * pow(10, dec));
    if (dec > 0)
        snprintf(buf, size, "%.*f", dec, v / pow(10, dec));
    else
        snprintf(buf, size, "%.0f", v * pow(10, -dec));
}

/* The mutations, keeping sum c_j = 1 (so the tail argument still applies
 * and the gap stays finite). */
static void mutate(silusum_t *f, int mutation)
{
    if (mutation == MUT_SLOPE) {
        f->a[0] *= 1 - 1.0 / 16; /* exact: 4 more bits; down, since a larger slope is
                                     closer to relu, below the fit's ceiling */
        f->bits += 4;
    } else if (mutation == MUT_WRONG_SIGN) {
        double c1 = f->c[0];
        f->c[0] = -c1;
        if (f->m > 1) {
            f->c[f->m - 1] += 2 * c1; /* exact: dyadics */
        } else {
            /* no other head to keep the sum: one more, 2 c_1 SiLU_{a_1/2} */
            f->m = 2;
            f->c[1] = 2 * c1;
            f->a[1] = f->a[0] / 2; /* exact; half, to stay below the ceiling */
        }
    }
}

/* Numerators of v[0..m) over 2^bits: "[n1, n2, ...]". */
static void numerators(char *buf, size_t size, const double *v, int m, int bits)
{
    size_t len = 0;
    for (int j = 0; j < m && len < size; j++)
        len += (size_t)snprintf(buf + len, size - len, "%s%.0f%s", j ? ", " : "[",
                                ldexp(v[j], bits), j == m - 1 ? "]" : "");
}

static int run(row_t *r)
{
    mpfr_prec_t prec = r->prec;
    const char *name = params_get(&r->params, "act");
    long m;
    silusum_t fit;
    if (!name || params_get_long(&m, &r->params, "m") != 0 ||
        silusum_shipped(&fit, name, (int)m) != 0) {
        snprintf(r->note, sizeof r->note, "act must be gelu, gelu_tanh or relu and m in 1..%d",
                 SILUSUM_SHIPPED_M);
        return -1;
    }
    act_t phi;
    char err[200];
    if (act_init_name(&phi, name, err, sizeof err, prec) != 0) {
        snprintf(r->note, sizeof r->note, "%.150s", err);
        return -1;
    }
    char btxt[64];
    bound_text(btxt, sizeof btxt, fit.gap_d);
    ival_set_str(r->bound, btxt, prec);
    r->has_bound = 1;
    silusum_t used = fit;
    mutate(&used, r->mutation);
    supnorm_opts_t o;
    supnorm_opts_default(&o);
    o.rel_tol = HPN_REL_TOL;
    o.taylor_order = 12;
    silusum_cert_t c;
    silusum_cert_init(&c, prec);
    int rc = silusum_certify(&c, &phi, &used, &o, prec);
    if (rc < 0) {
        snprintf(r->note, sizeof r->note, "the fit cannot be certified");
    } else {
        arb_set(r->error, c.gap);
        arb_set(r->error_abs, c.gap);
        arb_set(row_add_ival(r, "sup on [-L, L]"), c.gap_in);
        arb_set(row_add_ival(r, "tail bound |z| >= L"), c.tail);
        row_add_long(r, "L", (long)c.L_cert);
        mpfr_abs(c.argmax, c.argmax, MPFR_RNDN);
        ival_set_fr(row_add_ival(r, "|argmax|"), c.argmax);
        row_add_text(r, "estimate", "%.6e", fit.gap_d);
        row_add_long(r, "bits", used.bits);
        char buf[128];
        numerators(buf, sizeof buf, used.c, used.m, used.bits);
        row_add_text(r, "c_j 2^bits", "%s", buf);
        numerators(buf, sizeof buf, used.a, used.m, used.bits);
        row_add_text(r, "a_j 2^bits", "%s", buf);
        double s = 0;
        for (int j = 0; j < used.m; j++)
            s += fabs(used.c[j]); /* exact: dyadics */
        row_add_text(r, "sum |c_j|", "%.6g", s);
        if (!c.whole_line)
            snprintf(r->note, sizeof r->note, "no tail bound: the gap is over [-L, L] only");
    }
    silusum_cert_clear(&c);
    act_clear(&phi);
    return rc < 0 ? -1 : 0;
}

static char *summary_md(const row_t *rows, long n_rows)
{
    size_t cap = 65536, len = 0;
    char *s = xmalloc(cap);
    static const char *const acts[] = {"gelu", "gelu_tanh", "relu"};
    len += (size_t)snprintf(s + len, cap - len,
                            "## ε_m per activation (certified, over the whole line)\n\n"
                            "| act | m | ε_m | ε_m / ε_{m−1} | ε_m < ε_{m−1} (certified) | ‖c‖₁ = Σ_j abs(c_j) |\n"
                            "|---|---|---|---|---|---|\n");
    for (int t = 0; t < 3; t++) {
        const row_t *prev = NULL;
        for (long m = 1; m <= SILUSUM_SHIPPED_M; m++) {
            const row_t *r = NULL;
            for (long k = 0; k < n_rows && !r; k++) {
                long mm;
                const char *a = params_get(&rows[k].params, "act");
                if (a && strcmp(a, acts[t]) == 0 && params_get_long(&mm, &rows[k].params, "m") == 0 &&
                    mm == m)
                    r = rows + k;
            }
            if (!r)
                continue;
            char *lo = ival_lo_str(r->error, 10), *hi = ival_hi_str(r->error, 10);
            const column_t *sc = row_find_column(r, "sum |c_j|");
            char ratio[32] = "-", less[16] = "-";
            if (prev && arb_is_finite(prev->error) && arb_is_finite(r->error)) {
                snprintf(ratio, sizeof ratio, "%.3f",
                         arf_get_d(arb_midref(r->error), ARF_RND_NEAR) /
                             arf_get_d(arb_midref(prev->error), ARF_RND_NEAR));
                snprintf(less, sizeof less, "%s", arb_lt(r->error, prev->error) ? "yes" : "NO");
            }
            len += (size_t)snprintf(s + len, cap - len, "| %s | %ld | [%s, %s] | %s | %s | %s |\n",
                                    acts[t], m, lo, hi, ratio, less, sc ? sc->str : "-");
            mpfr_free_str(lo);
            mpfr_free_str(hi);
            prev = r;
        }
    }
    len += (size_t)snprintf(s + len, cap - len, "\n## The shipped parameters (exact)\n\n"
                            "S_m(z) = Σ_j c_j·SiLU_{a_j}(z), in the expression language:\n\n");
    for (int t = 0; t < 3; t++)
        for (int m = 1; m <= SILUSUM_SHIPPED_M; m++) {
            silusum_t f;
            if (silusum_shipped(&f, acts[t], m) != 0)
                continue;
            char text[SILUSUM_MAX_HEADS * 160];
            silusum_expr_text(text, sizeof text, &f);
            len += (size_t)snprintf(s + len, cap - len, "- %s, m = %d: `%s`\n", acts[t], m, text);
            if (len >= cap)
                break;
        }
    if (len < cap)
        snprintf(s + len, cap - len,
                 "\nThe fits are estimates (an L_p fit in doubles with p raised to 1024, on a "
                 "grid of [−10, 10], each m started from m − 1); only the gaps are certified. "
                 "ReLU is approached as a → ∞ (ε_1 = W0(1/e)/a, relu-limit), so its fits are "
                 "bounded by the slope ceiling 8, and since ReLU is positively homogeneous the "
                 "gaps scale exactly: the ceiling t·8 gives ε_m/t with the slopes t·a_j.\n");
    return s;
}

const claim_t claim_heads_per_neuron = {
    .id = "heads-per-neuron",
    .source = "the exchange rate (how many heads a neuron costs)",
    .kind = KIND_INEQUALITY,
    .provenance = "derived",
    .statement = "m SiLU heads per neuron, S_m = Σ_{j≤m} c_j SiLU_{a_j}, approximate GELU, "
                 "GELU_tanh and ReLU (slopes ≤ 8) over the whole line within the certified "
                 "ε_m; m = 1 is GELU's a* = 1.7729 with ε_1 = 0.01392.",
    .formula = "ε_m = sup_{z∈ℝ} |φ(z) − Σ_{j≤m} c_j SiLU_{a_j}(z)|, c_j, a_j dyadic (exact in "
               "W_O and W_Q), Σ c_j = 1 exactly (the slope at +∞), a_j ∈ [1/4, 8].\n"
               "Certified: branch and bound on [−L, L] (Taylor order 12, relative tolerance "
               "1e-9), and for |z| ≥ L: |φ − S_m| ≤ L·Q(L) + Σ_j |c_j|·L·e^{−a_j L}, Q(u) = "
               "Φ(−u) (GELU), e^{−2k(u+0.044715u³)}, k = √(2/π) (GELU_tanh), 0 (ReLU), valid "
               "for L ≥ 1 and a_j L ≥ 1 (φ(z) − φ(−z) = z = S_m(z) − S_m(−z) and "
               "σ(−t) ≤ e^{−t}; each term decreases beyond L). L is raised from 10 until "
               "the tail bound is below 2^-30 ε_m.\n"
               "Rows: **ε_m ≤ the fit's double estimate rounded up to 4 digits**.",
    .notes = "The parameters are the shipped fits (src/act/silusum_table.c), estimates made "
             "by `attncheck activation --name NAME --heads 8 --refit`; a better fit would lower the "
             "table, not change what is certified. The heads' own conversion error is not "
             "part of this claim: a head computes c·SiLU_a exactly (neuron-head).",
    .quick = {{"table", {{"act", "gelu,gelu_tanh,relu"}, {"m", "1,2,3,4,5,6,7,8"}, {NULL, NULL}}},
              {NULL, {{NULL, NULL}}}},
    .mutations = {{"slope", "a_1 multiplied by 1 - 1/16"},
                  {"wrong-sign", "c_1 negated (the last head takes 2 c_1 back so Σ c_j = 1; for "
                                 "m = 1 a second head 2 c_1 SiLU_{a_1/2})"},
                  {NULL, NULL}},
    .plots = {{.x = "m", .y = "error", .series = "act", .logy = 1,
               .title = "certified ε_m = sup |φ − Σ_{j≤m} c_j SiLU_{a_j}| against m"}},
    .run = run,
    .summary_md = summary_md,
};
