/* Sums of SiLU heads (silusum.h): the fit in doubles, the dyadic rounding,
 * and the certified gap with its tail argument. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "silusum.h"
#include "silufit.h"
#include "special.h"
#include "xalloc.h"

/* The fit's grid on [-L, L]. */
#define FIT_GRID 1001
/* The L_p schedule: p doubles from 2 to P_MAX. */
#define FIT_P_MAX 1024
#define FIT_LM_STEPS 40

#define NPAR_MAX (2 * SILUSUM_MAX_HEADS - 1)

typedef struct {
    int m, N;
    const double *z, *phi;  /* grid and phi on it */
    double a_max;
} prob_t;

static double sigm(double t)
{
    return t >= 0 ? 1.0 / (1.0 + exp(-t)) : exp(t) / (1.0 + exp(t));
}

/* theta = [log a_1 .. log a_m, c_1 .. c_{m-1}], c_m = 1 - sum. */
static void unpack(const prob_t *P, const double *th, double *a, double *c)
{
    double s = 0;
    for (int j = 0; j < P->m; j++)
        a[j] = exp(th[j]);
    for (int j = 0; j + 1 < P->m; j++) {
        c[j] = th[P->m + j];
        s += c[j];
    }
    c[P->m - 1] = 1 - s;
}

/* e_i = phi_i - S(z_i); with J (N x n, row-major) when J != NULL. */
static void residual(const prob_t *P, const double *th, double *e, double *J)
{
    int m = P->m, n = 2 * m - 1;
    double a[SILUSUM_MAX_HEADS], c[SILUSUM_MAX_HEADS], s[SILUSUM_MAX_HEADS];
    unpack(P, th, a, c);
    for (int i = 0; i < P->N; i++) {
        double z = P->z[i], S = 0;
        for (int j = 0; j < m; j++) {
            s[j] = sigm(a[j] * z);
            S += c[j] * z * s[j];
        }
        e[i] = P->phi[i] - S;
        if (!J)
            continue;
        double *row = J + (size_t)i * (size_t)n;
        for (int j = 0; j < m; j++)
            row[j] = -c[j] * z * s[j] * (1 - s[j]) * a[j] * z;
        for (int j = 0; j + 1 < m; j++)
            row[m + j] = -z * s[j] + z * s[m - 1];
    }
}

static double max_abs(const double *e, int N)
{
    double r = 0;
    for (int i = 0; i < N; i++)
        r = fmax(r, fabs(e[i]));
    return r;
}

/* sum (|e_i|/scale)^p */
static double lp_obj(const double *e, int N, double p, double scale)
{
    double r = 0;
    for (int i = 0; i < N; i++)
        r += pow(fabs(e[i]) / scale, p);
    return r;
}

/* Solve A x = b (n x n, destroyed) by Gaussian elimination with partial
 * pivoting; -1 when singular. */
static int solve(double *A, double *b, double *x, int n)
{
    for (int k = 0; k < n; k++) {
        int piv = k;
        for (int i = k + 1; i < n; i++)
            if (fabs(A[i * n + k]) > fabs(A[piv * n + k]))
                piv = i;
        if (!(fabs(A[piv * n + k]) > 0))
            return -1;
        if (piv != k) {
            for (int j = 0; j < n; j++) {
                double t = A[k * n + j];
                A[k * n + j] = A[piv * n + j];
                A[piv * n + j] = t;
            }
            double t = b[k];
            b[k] = b[piv];
            b[piv] = t;
        }
        for (int i = k + 1; i < n; i++) {
            double f = A[i * n + k] / A[k * n + k];
            for (int j = k; j < n; j++)
                A[i * n + j] -= f * A[k * n + j];
            b[i] -= f * b[k];
        }
    }
    for (int k = n - 1; k >= 0; k--) {
        double s = b[k];
        for (int j = k + 1; j < n; j++)
            s -= A[k * n + j] * x[j];
        x[k] = s / A[k * n + k];
    }
    return 0;
}

/* Slopes into [A_MIN, a_max]. */
static void clamp(const prob_t *P, double *th)
{
    for (int j = 0; j < P->m; j++)
        th[j] = fmin(fmax(th[j], log(SILUSUM_A_MIN)), log(P->a_max));
}

/* Damped Gauss-Newton on sum |e_i|^p (its Hessian approximated by
 * (p - 1) J^T W J, W = |e|^(p-2)); th improved in place. */
static void lp_descend(const prob_t *P, double *th, double p, double *e, double *J)
{
    int n = 2 * P->m - 1, N = P->N;
    double A[NPAR_MAX * NPAR_MAX], g[NPAR_MAX], d[NPAR_MAX], H[NPAR_MAX * NPAR_MAX],
        rhs[NPAR_MAX], trial[NPAR_MAX];
    double *et = xmallocarray((size_t)N, sizeof *et);
    double lambda = 1e-3;
    for (int it = 0; it < FIT_LM_STEPS; it++) {
        residual(P, th, e, J);
        double scale = max_abs(e, N);
        if (!(scale > 0))
            break;
        double F = lp_obj(e, N, p, scale);
        memset(A, 0, sizeof A);
        memset(g, 0, sizeof g);
        for (int i = 0; i < N; i++) {
            double r = e[i] / scale, w = pow(fabs(r), p - 2);
            if (w < 1e-300)
                continue;
            const double *row = J + (size_t)i * (size_t)n;
            for (int k = 0; k < n; k++) {
                g[k] += w * r * row[k];
                for (int l = 0; l <= k; l++)
                    A[k * n + l] += (p - 1) * w * row[k] * row[l] / scale;
            }
        }
        for (int k = 0; k < n; k++)
            for (int l = 0; l < k; l++)
                A[l * n + k] = A[k * n + l];
        int improved = 0;
        for (int tries = 0; tries < 12 && !improved; tries++) {
            memcpy(H, A, sizeof H);
            for (int k = 0; k < n; k++) {
                H[k * n + k] += lambda * (A[k * n + k] + 1e-12);
                rhs[k] = -g[k];
            }
            if (solve(H, rhs, d, n) != 0) {
                lambda *= 10;
                continue;
            }
            for (int k = 0; k < n; k++)
                trial[k] = th[k] + d[k];
            clamp(P, trial);
            residual(P, trial, et, NULL);
            double Ft = lp_obj(et, N, p, scale);
            if (isfinite(Ft) && Ft < F) {
                memcpy(th, trial, (size_t)n * sizeof *th);
                lambda = fmax(lambda / 3, 1e-9);
                improved = 1;
            } else {
                lambda *= 4;
            }
        }
        if (!improved)
            break;
    }
    free(et);
}

/* The L_p schedule from th; keeps the parameters of the smallest max |e|
 * seen in best (returned). */
static double fit_from(const prob_t *P, double *th, double *best, double *e, double *J)
{
    int n = 2 * P->m - 1;
    residual(P, th, e, NULL);
    double best_gap = max_abs(e, P->N);
    memcpy(best, th, (size_t)n * sizeof *th);
    for (double p = 2; p <= FIT_P_MAX; p *= 2) {
        lp_descend(P, th, p, e, J);
        residual(P, th, e, NULL);
        double gp = max_abs(e, P->N);
        if (gp < best_gap) {
            best_gap = gp;
            memcpy(best, th, (size_t)n * sizeof *th);
        }
    }
    return best_gap;
}

static double fit_diff_d(double z, const void *ctx)
{
    const void *const *pc = ctx;
    return act_eval_d(pc[0], z) - silusum_eval_d(pc[1], z);
}

double silusum_eval_d(const silusum_t *fit, double z)
{
    double S = 0;
    for (int j = 0; j < fit->m; j++)
        S += fit->c[j] * z * sigm(fit->a[j] * z);
    return S;
}

/* Rounded to 2^-bits with c_m = 1 - sum of the others (exact while the
 * numerators stay below 2^53; where not, the tail argument, which checks
 * the sum exactly, does not apply and the gap is said to be on [-L, L]). */
static void round_fit(silusum_t *out, const double *a, const double *c, int m, int bits)
{
    double s = 0;
    out->m = m;
    out->bits = bits;
    for (int j = 0; j < m; j++) {
        out->a[j] = fmax(act_snap_dyadic(a[j], bits), ldexp(1, -bits));
        if (j + 1 < m) {
            out->c[j] = act_snap_dyadic(c[j], bits);
            s += out->c[j];
        }
    }
    out->c[m - 1] = 1 - s;
}

double silusum_gap_d(const act_t *phi, const silusum_t *fit)
{
    const void *pc[2] = {phi, fit};
    return silufit_sup_d(fit_diff_d, pc, fit->L, 4001);
}

int silusum_fit(silusum_t *fit, const act_t *phi, int m, double L, double a_max,
                const silusum_t *prev)
{
    if (m < 1 || m > SILUSUM_MAX_HEADS || !(L >= 1) || !(a_max >= SILUSUM_A_MIN) ||
        (prev && prev->m != m - 1))
        return -1;
    int N = FIT_GRID, n = 2 * m - 1;
    double *z = xmallocarray((size_t)N, sizeof *z), *ph = xmallocarray((size_t)N, sizeof *ph);
    double *e = xmallocarray((size_t)N, sizeof *e);
    double *J = xmallocarray((size_t)N * (size_t)n, sizeof *J);
    int ok = 1;
    for (int i = 0; i < N; i++) {
        z[i] = -L + 2 * L * i / (N - 1);
        ph[i] = act_eval_d(phi, z[i]);
        ok &= isfinite(ph[i]);
    }
    double best[NPAR_MAX], th[NPAR_MAX], cand[NPAR_MAX];
    double best_gap = INFINITY;
    prob_t P = {m, N, z, ph, a_max};
    if (ok && m == 1) {
        /* a sweep of slopes, then the schedule from the best */
        double a0 = 1;
        for (double a = SILUSUM_A_MIN; a <= a_max * 1.0001; a *= 1.05) {
            th[0] = log(a);
            residual(&P, th, e, NULL);
            double g = max_abs(e, N);
            if (g < best_gap) {
                best_gap = g;
                a0 = a;
            }
        }
        th[0] = log(fmin(a0, a_max));
        best_gap = fit_from(&P, th, best, e, J);
    } else if (ok) {
        /* starts: the m - 1 heads plus one at a slope a new = ratio * a_k,
         * with coefficient +-delta taken from the largest coefficient */
        double pa[SILUSUM_MAX_HEADS], pc[SILUSUM_MAX_HEADS];
        silusum_t base;
        if (prev) {
            base = *prev;
        } else if (silusum_fit(&base, phi, m - 1, L, a_max, NULL) != 0) {
            ok = 0;
        }
        if (ok) {
            memcpy(pa, base.a, sizeof pa);
            memcpy(pc, base.c, sizeof pc);
            int big = 0;
            for (int j = 1; j < m - 1; j++)
                if (fabs(pc[j]) > fabs(pc[big]))
                    big = j;
            static const double ratios[] = {0.5, 0.75, 1.5, 2.5};
            static const double deltas[] = {0.25, -0.25};
            for (int k = 0; k < m - 1; k++)
                for (size_t r = 0; r < sizeof ratios / sizeof *ratios; r++)
                    for (size_t s = 0; s < sizeof deltas / sizeof *deltas; s++) {
                        double a[SILUSUM_MAX_HEADS], c[SILUSUM_MAX_HEADS];
                        memcpy(a, pa, sizeof a);
                        memcpy(c, pc, sizeof c);
                        a[m - 1] = fmin(fmax(pa[k] * ratios[r], SILUSUM_A_MIN), a_max);
                        c[m - 1] = deltas[s] * (fabs(pc[big]) > 0 ? fabs(pc[big]) : 1);
                        c[big] -= c[m - 1];
                        /* pack: the last coefficient is implied */
                        for (int j = 0; j < m; j++)
                            th[j] = log(a[j]);
                        for (int j = 0; j + 1 < m; j++)
                            th[m + j] = c[j];
                        double g = fit_from(&P, th, cand, e, J);
                        if (g < best_gap) {
                            best_gap = g;
                            memcpy(best, cand, sizeof best);
                        }
                    }
            /* never worse than the m - 1 heads (the new head at coefficient 0) */
            for (int j = 0; j < m - 1; j++)
                th[j] = log(pa[j]);
            th[m - 1] = log(pa[0]);
            for (int j = 0; j + 1 < m; j++)
                th[m + j] = pc[j]; /* the new head's coefficient 1 - sum = 0 */
            residual(&P, th, e, NULL);
            if (max_abs(e, N) < best_gap) {
                best_gap = max_abs(e, N);
                memcpy(best, th, sizeof best);
            }
        }
    }
    if (ok) {
        double a[SILUSUM_MAX_HEADS], c[SILUSUM_MAX_HEADS];
        unpack(&P, best, a, c);
        /* the shortest dyadics that keep the estimate within 2^-10 of the
         * unrounded fit's */
        silusum_t exact;
        exact.m = m;
        exact.L = L;
        exact.bits = 0;
        memcpy(exact.a, a, sizeof exact.a);
        memcpy(exact.c, c, sizeof exact.c);
        double g0 = silusum_gap_d(phi, &exact);
        for (int bits = 8; bits <= 40; bits++) {
            round_fit(fit, a, c, m, bits);
            fit->L = L;
            fit->gap_d = silusum_gap_d(phi, fit);
            if (fit->gap_d <= g0 * (1 + 1.0 / 1024))
                break;
        }
    }
    free(z);
    free(ph);
    free(e);
    free(J);
    return ok ? 0 : -1;
}

int silusum_fit_table(silusum_t *fits, const act_t *phi, int M, double L, double a_max)
{
    for (int m = 1; m <= M; m++)
        if (silusum_fit(fits + m - 1, phi, m, L, a_max, m > 1 ? fits + m - 2 : NULL) != 0)
            return -1;
    return 0;
}

void silusum_decimal(char *buf, size_t size, double v)
{
    /* a dyadic k 2^-b has an exact decimal with b digits after the point;
     * glibc prints a double's exact expansion */
    snprintf(buf, size, "%.60f", v);
    char *dot = strchr(buf, '.');
    if (dot) {
        char *end = buf + strlen(buf) - 1;
        while (end > dot && *end == '0')
            *end-- = '\0';
        if (end == dot)
            *end = '\0';
    }
}

int silusum_expr_text(char *buf, size_t size, const silusum_t *fit)
{
    size_t len = 0;
    for (int j = 0; j < fit->m; j++) {
        char c[80], a[80];
        silusum_decimal(c, sizeof c, fabs(fit->c[j]));
        silusum_decimal(a, sizeof a, fit->a[j]);
        int k = snprintf(buf + (len < size ? len : size), len < size ? size - len : 0,
                         "%s%s*silu_a(x, %s)", j == 0 ? (fit->c[j] < 0 ? "-" : "")
                                                      : (fit->c[j] < 0 ? " - " : " + "),
                         c, a);
        len += (size_t)k;
    }
    return (int)len;
}

int silusum_act(act_t *s, const silusum_t *fit, mpfr_prec_t prec)
{
    char text[SILUSUM_MAX_HEADS * 160], err[200];
    silusum_expr_text(text, sizeof text, fit);
    return act_init_expr(s, text, err, sizeof err, prec);
}

const char *silusum_tail_kind(const act_t *phi)
{
    if (!phi->info || phi->expr)
        return NULL;
    static const char *const known[] = {"gelu", "gelu_tanh", "relu"};
    for (int k = 0; k < 3; k++)
        if (strcmp(phi->info->name, known[k]) == 0)
            return known[k];
    return NULL;
}

void silusum_cert_init(silusum_cert_t *c, mpfr_prec_t prec)
{
    arb_init(c->gap);
    arb_init(c->gap_in);
    arb_init(c->tail);
    mpfr_init2(c->argmax, prec);
    c->L_cert = 0;
    c->boxes = 0;
    c->converged = 0;
    c->whole_line = 0;
}

void silusum_cert_clear(silusum_cert_t *c)
{
    arb_clear(c->gap);
    arb_clear(c->gap_in);
    arb_clear(c->tail);
    mpfr_clear(c->argmax);
}

/* The tail bound T(L) (silusum.h), certified.  Why it holds, for |z| >= L,
 * u = |z|: for all three, phi(z) - phi(-z) = z (Phi(z) + Phi(-z) = 1, tanh
 * odd, relu(z) - relu(-z) = z) and phi(-u) = -u Q(u), with Q as stated
 * (gelu_tanh: (1 - tanh y)/2 = sigma(-2y) <= e^{-2y}); S(z) - S(-z) =
 * z sum c_j = z and S(-u) = -u sum c_j sigma(-a_j u).  So at z = -u and at
 * z = u alike
 *   phi(z) - S(z) = -u Q(u) + sum_j c_j u sigma(-a_j u),
 * and sigma(-t) <= e^{-t}: |phi - S| <= u Q(u) + sum_j |c_j| u e^{-a_j u}.
 * Each term decreases for u >= L: u e^{-a u} when a u >= 1; u Phi(-u) since
 * Phi(-u) < phi(u)/u (Mills) makes its derivative Phi(-u) - u phi(u) < 0 for
 * u >= 1; u e^{-b(u)}, b(u) = 2k(u + 0.044715 u^3), when u b'(u) >= 2k u >= 1,
 * true for u >= 1 since 2k > 1.  So T(L), each term at u = L, bounds them. */
static void tail_bound(arb_t T, const char *kind, const silusum_t *fit, double L,
                       mpfr_prec_t prec)
{
    arb_t u, t, q;
    arb_init(u);
    arb_init(t);
    arb_init(q);
    arb_set_d(u, L); /* exact: a double */
    /* sum c_j = 1 and a_j L >= 1, decided exactly (arf sums and products
     * of doubles at ARF_PREC_EXACT) */
    arf_t sum, x, y;
    arf_init(sum);
    arf_init(x);
    arf_init(y);
    for (int j = 0; j < fit->m; j++) {
        arf_set_d(x, fit->c[j]);
        arf_add(sum, sum, x, ARF_PREC_EXACT, ARF_RND_DOWN);
    }
    int valid = L >= 1 && arf_is_one(sum);
    for (int j = 0; j < fit->m; j++) {
        arf_set_d(x, fit->a[j]);
        arf_set_d(y, L);
        arf_mul(x, x, y, ARF_PREC_EXACT, ARF_RND_DOWN);
        valid &= arf_cmp_si(x, 1) >= 0;
    }
    arf_clear(sum);
    arf_clear(x);
    arf_clear(y);
    if (!valid) {
        arb_indeterminate(T);
    } else {
        arb_zero(T);
        if (strcmp(kind, "gelu") == 0) {
            /* L Phi(-L) = L erfc(L / sqrt 2) / 2 */
            arb_sqrt_ui(q, 2, prec);
            arb_div(q, u, q, prec);
            arb_hypgeom_erfc(q, q, prec);
            arb_mul_2exp_si(q, q, -1);
            arb_mul(T, q, u, prec);
        } else if (strcmp(kind, "gelu_tanh") == 0) {
            /* L e^{-2k(L + 0.044715 L^3)} */
            arb_const_pi(q, prec);
            arb_ui_div(q, 2, q, prec);
            arb_sqrt(q, q, prec);
            arb_mul_2exp_si(q, q, 1);
            ival_set_str(t, "0.044715", prec);
            arb_mul(t, t, u, prec);
            arb_mul(t, t, u, prec);
            arb_mul(t, t, u, prec);
            arb_add(t, t, u, prec);
            arb_mul(q, q, t, prec);
            arb_neg(q, q);
            arb_exp(q, q, prec);
            arb_mul(T, q, u, prec);
        }
        for (int j = 0; j < fit->m; j++) {
            arb_set_d(t, -fit->a[j]); /* exact */
            arb_mul(t, t, u, prec);
            arb_exp(t, t, prec);
            arb_mul(t, t, u, prec);
            arb_set_d(q, fabs(fit->c[j])); /* exact */
            arb_mul(t, t, q, prec);
            arb_add(T, T, t, prec);
        }
    }
    arb_clear(u);
    arb_clear(t);
    arb_clear(q);
}

/* The tail bound in doubles (an estimate, to choose L). */
static double tail_d(const char *kind, const silusum_t *fit, double L)
{
    double T = 0;
    if (strcmp(kind, "gelu") == 0)
        T = L * 0.5 * erfc(L / sqrt(2.0));
    else if (strcmp(kind, "gelu_tanh") == 0)
        T = L * exp(-2 * 0.7978845608028654 * (L + 0.044715 * L * L * L));
    for (int j = 0; j < fit->m; j++)
        T += fabs(fit->c[j]) * L * exp(-fit->a[j] * L);
    return T;
}

int silusum_certify(silusum_cert_t *c, const act_t *phi, const silusum_t *fit,
                    const supnorm_opts_t *o, mpfr_prec_t prec)
{
    if (fit->m < 1 || fit->m > SILUSUM_MAX_HEADS || !(fit->L > 0))
        return -1;
    const char *kind = silusum_tail_kind(phi);
    double L = fit->L;
    if (kind)
        while (L < 256 && !(tail_d(kind, fit, L) <= ldexp(fit->gap_d, -30)))
            L = fmin(2 * L, 256);
    c->L_cert = L;
    supnorm_opts_t dflt;
    if (!o) {
        supnorm_opts_default(&dflt);
        dflt.taylor_order = 12;
        o = &dflt;
    }
    act_t S;
    if (silusum_act(&S, fit, prec) != 0)
        return -1;
    supnorm_t s;
    supnorm_init(&s, prec);
    mpfr_t Lf;
    mpfr_init2(Lf, 64);
    mpfr_set_d(Lf, L, MPFR_RNDN); /* exact: a double */
    int rc = supnorm_diff(&s, phi, &S, Lf, o, prec);
    arb_set(c->gap_in, s.sup);
    mpfr_set_prec(c->argmax, mpfr_get_prec(s.argmax));
    mpfr_set(c->argmax, s.argmax, MPFR_RNDN);
    c->boxes = s.boxes;
    c->converged = s.converged;
    c->whole_line = 0;
    arb_indeterminate(c->tail);
    arb_set(c->gap, c->gap_in);
    if (kind) {
        tail_bound(c->tail, kind, fit, L, prec);
        if (arb_is_finite(c->tail) && arb_is_finite(c->gap_in)) {
            /* [lo(gap_in), max(hi(gap_in), hi(T))]: lo is a value at a point,
             * every point lies in [-L, L] or in the tail */
            mpfr_t lo, hi, th;
            mpfr_inits2(prec, lo, hi, th, (mpfr_ptr)0);
            ival_get_lo(lo, c->gap_in);
            ival_get_hi(hi, c->gap_in);
            ival_get_hi(th, c->tail);
            mpfr_max(hi, hi, th, MPFR_RNDU);
            ival_set_interval_fr(c->gap, lo, hi, prec);
            mpfr_clears(lo, hi, th, (mpfr_ptr)0);
            c->whole_line = 1;
        }
    }
    mpfr_clear(Lf);
    supnorm_clear(&s);
    act_clear(&S);
    return rc;
}
