/* model-svtr-encoded (Theorem 9 on a real model; bound derived).  The SVTR
 * encoder's attention-only conversion (model-svtr) with every mask encoded
 * by one-hot positions and Omega (src/maskenc.h): an unmasked network on
 * the stream [features | c | f | positions], checked end to end against
 * the encoder itself, E against the derived layer-by-layer bound (LN's
 * Lipschitz bound per row, mask-encoding's leak per head at the perturbed
 * input, the masked head's own Lipschitz bound) plus the certified distance
 * of the masked network to the encoder.  For eps in {1e-3, 1e-6, 1e-12}:
 * the smallest Omega of the sweep whose certified E is <= eps, next to the
 * derived Omega_req(eps), the smallest Omega at which the bound is. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "maskenc.h"
#include "model_svtr.h"
#include "omega_util.h"
#include "xalloc.h"

extern const claim_t claim_model_svtr_encoded;

static int run(row_t *r)
{
    arb_t omega;
    arb_init(omega);
    long tokens;
    if (omega_get(omega, r) != 0) {
        arb_clear(omega);
        return -1;
    }
    if (params_get_long(&tokens, &r->params, "tokens") != 0 || tokens < 1 || tokens > 40) {
        snprintf(r->note, sizeof r->note, "tokens='%s' must be an integer in [1, 40]",
                 params_get(&r->params, "tokens") ? params_get(&r->params, "tokens") : "");
        arb_clear(omega);
        return -1;
    }
    svtr_t s;
    if (svtr_open(&s, r) != 0) {
        arb_clear(omega);
        return -1;
    }
    /* the first `tokens` of the real input */
    imat_t X;
    imat_init(X, tokens, s.X->cols);
    for (long k = 0; k < X->rows * X->cols; k++)
        arb_set(X->e + k, s.X->e + k);
    const char *mut = r->mutation > 0 ? claim_model_svtr_encoded.mutations[r->mutation - 1][0]
                                      : NULL;
    mcheck_opts_t o = {.prec = r->prec, .act = &s.act, .checks = MCHECK_BIT(MCHECK_ENCODED),
                       .block = -1, .omega = omega};
    if (mut && strcmp(mut, "half-omega") == 0)
        o.enc_mutation = MASKENC_MUT_HALF_OMEGA;
    else if (mut && strcmp(mut, "unscaled") == 0)
        o.enc_mutation = MASKENC_MUT_UNSCALED;
    else if (mut)
        o.enc_convert_mutation = convert_mutation_index(mut);
    int rc = svtr_check(r, &s, X, &o);
    imat_clear(X);
    svtr_close(&s);
    arb_clear(omega);
    return rc ? -1 : 0;
}

static int export_instance(instance_t *I, const params_t *p, unsigned long seed,
                           mpfr_prec_t prec)
{
    row_t r;
    memset(&r, 0, sizeof r);
    r.params = *p;
    r.prec = prec;
    arb_t omega;
    arb_init(omega);
    long tokens = 8;
    int rc = omega_get(omega, &r);
    params_get_long(&tokens, p, "tokens");
    if (rc == 0)
        rc = svtr_export(I, p, seed, prec, tokens, omega);
    else
        snprintf(I->note, sizeof I->note, "%s", r.note);
    arb_clear(omega);
    return rc;
}

/* The encoded error falls like e^-Omega: the rounding noise of the streams
 * (about 2^(42 - p) here) must stay below the bound, ~2^(165 - 1.44 Omega):
 * 64 + 1.5 Omega bits, at least 128; the Ziv loop raises it if needed. */
static mpfr_prec_t start_prec(const params_t *p)
{
    double om = params_get_double(p, "omega", 0);
    if (!(om >= 0) || om > 1e5)
        return 128;
    double bits = 64 + 1.5 * om;
    return (mpfr_prec_t)(bits < 128 ? 128 : bits < 8192 ? bits : 8192);
}

/* Two encoded networks of up to 40 tokens at width 163 (layer B: 240 heads
 * with 1 + 40 query columns each), the masked network, both blocks. */
static double estimate_bytes(const params_t *p, mpfr_prec_t prec)
{
    long n = 40;
    params_get_long(&n, p, "tokens");
    double N = (double)(n > 0 && n <= 40 ? n : 40) + 1;
    double balls = 600000.0 + 4 * 163.0 * 240 * (1 + N) + 12 * N * 240 * (1 + N);
    return 24.0 * 1024 * 1024 + balls * ((double)sizeof(arb_struct) + ball_heap_bytes(prec));
}

static int fit(fit_t *fits, int max_fits, const row_t *rows, long n_rows)
{
    static const char *const keys[] = {"tokens", NULL};
    return omega_fit_series(fits, max_fits, rows, n_rows, keys, 24, 4, -1);
}

/* The eps table: per token count, the smallest Omega of the sweep whose
 * certified E is <= eps, next to the derived Omega_req(eps). */
static char *summary_md(const row_t *rows, long n_rows)
{
    char *s = NULL;
    size_t len = 0;
    omega_strcat(&s, &len, "## Omega needed for E <= eps\n\n| tokens | eps | smallest Omega of "
                 "the sweep with hi(E) <= eps (certified) | derived Omega_req(eps) (the "
                 "bound) |\n|---|---|---|---|\n");
    for (long k = 0; k < n_rows; k++) {
        const char *tk = params_get(&rows[k].params, "tokens");
        int first = 1;
        for (long j = 0; j < k && first; j++)
            first = strcmp(params_get(&rows[j].params, "tokens"), tk) != 0;
        if (!first)
            continue;
        for (int e = 0; e < MCHECK_N_EPS; e++) {
            double best = INFINITY;
            const column_t *req = NULL;
            arb_t eps;
            arb_init(eps);
            arb_set_d(eps, mcheck_eps[e]);
            for (long j = 0; j < n_rows; j++) {
                if (strcmp(params_get(&rows[j].params, "tokens"), tk) != 0)
                    continue;
                double om = params_get_double(&rows[j].params, "omega", NAN);
                if (ival_le(rows[j].error, eps) && om < best)
                    best = om;
                if (!req)
                    req = row_find_column(rows + j, mcheck_eps_column[e]);
            }
            arb_clear(eps);
            char b[32];
            if (isfinite(best))
                snprintf(b, sizeof b, "%g", best);
            else
                snprintf(b, sizeof b, "none in the sweep");
            omega_strcat(&s, &len, "| %s | %g | %s | %s |\n", tk, mcheck_eps[e], b,
                         req ? req->str : "-");
        }
    }
    omega_strcat(&s, &len,
                 "\nThe sweep's Omega are a grid: the smallest certified Omega is a grid point "
                 "(the true threshold lies between it and the one before). Omega_req(eps) is "
                 "the smallest multiple of 1/64 at which the derived bound, plus the masked "
                 "network's certified distance, is <= eps (evaluated in balls at 64 bits, "
                 "its upper end compared): certified for the bound, and conservative by the "
                 "bound's own looseness.\n");
    return s;
}

#define ENC_OMEGAS "0,16,32,40,48,56,64,96,128,192"
#define ENC_OMEGAS_QUICK "0,16,32,40,48,64,96,128,192"

const claim_t claim_model_svtr_encoded = {
    .id = "model-svtr-encoded",
    .source = "Theorem 9 + LN/biases (bound derived)",
    .kind = KIND_INEQUALITY,
    .provenance = "paper (masks in weights); bound derived; real model",
    .statement = "PP-OCRv4's SVTR encoder made attention-only with every mask encoded by "
                 "one-hot positions and Omega (no mask left) matches the encoder up to a "
                 "derived E(Omega) -> 0.",
    .formula = "The 4-layer attention-only network of model-svtr (stream [features | c | f], "
               "bias token at position 0) on X′ = [X̂ | I_N], each head unmasked with "
               "W′_Q = [[W_Q, 0], [0, s·Ω(M − J)]], W′_K = [[W_K, 0], [0, I_N]], W′_V = [W_V; 0], "
               "W′_O = [W_O, 0] (s the head's attn_scale: logits q·k/s + Ω(M_ij − 1)). E = max "
               "over all rows of ‖Y_i − Y′_i‖₂ on the first d + 2 columns after ln_final, "
               "against [[ln_final(0), 1, 1], [encoder(X), 1, 0]].\n"
               "Derived bound, layer by layer along the masked network (Δ the largest row "
               "distance of the two streams, Δ₀ = 0; only features move): LN's Lipschitz bound "
               "per row λ = max|w| / √(eps + ((‖Px‖ − Δ)₊)²/d) (P the centring; λ = max|w|/√eps "
               "on the bias token), ΔU = λΔ; per head, with Q, K the largest query and key "
               "norms, O the largest ‖v W_O‖ on the masked input, a_Q, a_K, a_OV norms of W_Q, "
               "W_K, W_V W_O: S = (Q + a_QΔU)(K + a_KΔU)/s, leak 2(N−1)e^{2S−Ω}(O + a_OVΔU) "
               "(mask-encoding at the perturbed input) plus a_OVΔU + 2O(Q a_KΔU + "
               "a_QΔU(K + a_KΔU))/s (the masked head between the inputs); Δ_{k+1} ≤ Δ_k + Σ "
               "over heads. **E ≤ λ_final Δ_final + hi(E_masked)**, E_masked the certified "
               "distance of the masked network to the encoder (Theorem 6 + LN: 0 exactly).\n"
               "Ω_req(ε): the smallest Ω (to 1/64) at which that bound is ≤ ε.",
    .notes = "Quick grid: the first 8 of the 40 real tokens (the encoded heads cost N times "
             "more; --full adds all 40). The bound is vacuous (astronomically large) until Ω "
             "exceeds the logit ranges it compounds, then falls like e^{−Ω}; mutations can "
             "only be violated where it is informative (the largest Ω of the sweep).",
    .quick = {{"omega", {{"omega", ENC_OMEGAS_QUICK}, {"tokens", "8"}, {NULL, NULL}}},
              {NULL, {{NULL, NULL}}}},
    .full = {{"omega", {{"omega", ENC_OMEGAS ",256"}, {"tokens", "8,40"}, {NULL, NULL}}},
             {NULL, {{NULL, NULL}}}},
    .mutations = {{"half-omega", "the position blocks use Omega/2 (the bound keeps Omega)"},
                  {"unscaled", "the position blocks are -Omega, not -s Omega: the original "
                               "heads (s = sqrt 15) lose only Omega/s on masked keys"},
                  {"bias-visible", "the encoded masks let real tokens see the bias token"},
                  {NULL, NULL}},
    .plots = {{.x = "omega", .y = "error", .series = "tokens", .logy = 1,
               .mark_x = "Omega_req(1e-3),Omega_req(1e-12)",
               .title = "end-to-end hi(E) against Omega (certified); marked: derived "
                        "Omega_req(1e-3), Omega_req(1e-12)"}},
    .run = run,
    .start_prec = start_prec,
    .export_instance = export_instance,
    .fit = fit,
    .summary_md = summary_md,
    .estimate_bytes = estimate_bytes,
    .available = svtr_available,
};
