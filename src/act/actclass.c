/* The restricted class of activations: classification of a function into
 * G0 / G1 (exact membership with a witness and a certified sup gap plus
 * pointwise checks, a proof of non-membership where one is known, or the
 * best member found in doubles with a certified gap), the one-head
 * construction from a member, and the regression baseline.  The derivation
 * of G0 and G1 is in theorems/activation_class.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "actclass.h"
#include "errmetric.h"
#include "special.h"
#include "xalloc.h"

/* the seeded stream of a (seed, salt) pair, as the theorem modules draw it */
static void actclass_rand_init(gmp_randstate_t st, unsigned long seed, unsigned long salt)
{
    gmp_randinit_default(st);
    gmp_randseed_ui(st, seed * 1000003UL + salt);
}

/* The witnesses and proofs of the built-ins are rows of the registry (actreg.h). */
_Static_assert(AC_NPAR == ACT_MEMBER_NPAR, "a witness has the member's parameters");

/* --------------------------------------------------------- doubles */

static double member_d(const double *v, double z)
{
    double Q = (v[AC_AL] * z + v[AC_A0]) * (v[AC_BE] * z + v[AC_B0]);
    double s = 1 / (1 + exp(-Q));
    return (v[AC_G] * z + v[AC_G0]) * s + v[AC_C] * (1 - s);
}

#define NM_GRID 401

typedef struct {
    int cls;
    double z[NM_GRID], phi[NM_GRID];
} obj_t;

/* free parameters -> member: G0 x = (g, p, q, c); G1 x = all seven */
static void to_member(double *v, const double *x, int cls)
{
    if (cls == 0) {
        double w[AC_NPAR] = {x[0], 0, 1, 0, x[1], x[2], x[3]};
        memcpy(v, w, sizeof w);
    } else {
        memcpy(v, x, sizeof(double) * AC_NPAR);
    }
}

static double objective(const double *x, const obj_t *o)
{
    double v[AC_NPAR], worst = 0, pen = 0;
    int n = o->cls ? AC_NPAR : 4;
    for (int k = 0; k < n; k++)
        if (fabs(x[k]) > AC_NM_BOUND)
            pen += (fabs(x[k]) - AC_NM_BOUND) * (fabs(x[k]) - AC_NM_BOUND);
    to_member(v, x, o->cls);
    for (int k = 0; k < NM_GRID; k++) {
        double d = fabs(member_d(v, o->z[k]) - o->phi[k]);
        if (!(d <= worst))
            worst = isnan(d) ? INFINITY : d;
    }
    return worst + pen;
}

/* Nelder-Mead from x (n <= 7), iters steps; x gets the best point. */
static double nelder_mead(double *x, int n, const obj_t *o, int iters)
{
    double s[8][7], f[8], c[7], xr[7], xe[7];
    for (int i = 0; i <= n; i++) {
        memcpy(s[i], x, sizeof(double) * (size_t)n);
        if (i > 0)
            s[i][i - 1] += 0.5 + 0.1 * fabs(x[i - 1]);
        f[i] = objective(s[i], o);
    }
    for (int it = 0; it < iters; it++) {
        for (int a = 1; a <= n; a++) /* sort */
            for (int b = a; b > 0 && f[b] < f[b - 1]; b--) {
                double t = f[b]; f[b] = f[b - 1]; f[b - 1] = t;
                for (int k = 0; k < n; k++) {
                    t = s[b][k]; s[b][k] = s[b - 1][k]; s[b - 1][k] = t;
                }
            }
        for (int k = 0; k < n; k++) {
            c[k] = 0;
            for (int i = 0; i < n; i++)
                c[k] += s[i][k] / n;
            xr[k] = c[k] + (c[k] - s[n][k]);
        }
        double fr = objective(xr, o);
        if (fr < f[0]) {
            for (int k = 0; k < n; k++)
                xe[k] = c[k] + 2 * (c[k] - s[n][k]);
            double fe = objective(xe, o);
            memcpy(s[n], fe < fr ? xe : xr, sizeof(double) * (size_t)n);
            f[n] = fe < fr ? fe : fr;
        } else if (fr < f[n - 1]) {
            memcpy(s[n], xr, sizeof(double) * (size_t)n);
            f[n] = fr;
        } else {
            for (int k = 0; k < n; k++)
                xe[k] = c[k] + 0.5 * (s[n][k] - c[k]);
            double fc = objective(xe, o);
            if (fc < f[n]) {
                memcpy(s[n], xe, sizeof(double) * (size_t)n);
                f[n] = fc;
            } else {
                for (int i = 1; i <= n; i++) {
                    for (int k = 0; k < n; k++)
                        s[i][k] = s[0][k] + 0.5 * (s[i][k] - s[0][k]);
                    f[i] = objective(s[i], o);
                }
            }
        }
    }
    int b = 0;
    for (int i = 1; i <= n; i++)
        if (f[i] < f[b])
            b = i;
    memcpy(x, s[b], sizeof(double) * (size_t)n);
    return f[b];
}

/* Best member of class cls (estimate): several starts, restarts from the
 * best.  best_g0 (7 values) seeds G1 when given; extra G0 starts (g, p, q,
 * c) may be given (n_extra of them). */
static double best_member(double *v, const act_t *phi, int cls, const double *best_g0,
                          const double (*extra)[4], int n_extra)
{
    obj_t *o = xmalloc(sizeof *o);
    o->cls = cls;
    for (int k = 0; k < NM_GRID; k++) {
        o->z[k] = -AC_L + 2 * AC_L * k / (NM_GRID - 1);
        o->phi[k] = act_eval_d(phi, o->z[k]);
    }
    static const double s0[][4] = {{1, 0, 1, 0}, {0, 0, -1, 1}, {2, 0, 0, 0}, {1, 0, 4, 0},
                                   {1, 0.1, 1.7, 0}, {0.5, 0, 2, 0.5}};
    static const double s1[][7] = {{0, 1, 2, 0, 0, 1, -1}, {1, 0.5, 1, 0, 0, 1, 0},
                                   {1, 0, 1, 0.5, 0, 1, 0}, {0.5, 0.5, 1, 1, 0.2, 1, 0}};
    double best = INFINITY, x[7], bx[7] = {0};
    int n = cls ? 7 : 4;
    int starts = 6 + (cls ? 4 + (best_g0 != NULL) : n_extra);
    for (int s = 0; s < starts; s++) {
        if (s < 6 || (!cls && s >= 6)) {
            const double *g0 = s < 6 ? s0[s] : extra[s - 6];
            double w[7];
            to_member(w, g0, 0);
            if (cls)
                memcpy(x, w, sizeof w);
            else
                memcpy(x, g0, sizeof(double) * 4);
        } else if (s < 10) {
            memcpy(x, s1[s - 6], sizeof s1[0]);
        } else {
            memcpy(x, best_g0, sizeof(double) * 7);
        }
        double f = nelder_mead(x, n, o, 400);
        f = nelder_mead(x, n, o, 400); /* restart: NM stalls on minimax */
        if (f < best) {
            best = f;
            memcpy(bx, x, sizeof bx);
        }
    }
    to_member(v, bx, cls);
    free(o);
    return best;
}

/* ------------------------------------------- exact candidates (rationals) */

/* q = the decimal s exactly (sign, digits, '.', exponent); 0, or -1 when s
 * is not such a number or its exponent is out of a sane range. */
static int decimal_to_mpq(mpq_t q, const char *s)
{
    mpz_t num, den;
    mpz_inits(num, den, (mpz_ptr)0);
    int neg = *s == '-', digits = 0;
    long scale = 0;
    s += *s == '-' || *s == '+';
    for (; (*s >= '0' && *s <= '9') || *s == '.'; s++) {
        if (*s == '.') {
            if (scale < 0 || digits < 0)
                break;
            scale = -1; /* from now on every digit is a fraction digit */
            continue;
        }
        mpz_mul_ui(num, num, 10);
        mpz_add_ui(num, num, (unsigned long)(*s - '0'));
        digits++;
        if (scale < 0)
            scale--;
    }
    long e = scale < 0 ? scale + 1 : 0;
    int ok = digits > 0;
    if (ok && (*s == 'e' || *s == 'E')) {
        char *end;
        long x = strtol(s + 1, &end, 10);
        ok = end != s + 1 && x > -400 && x < 400;
        e += x;
        s = end;
    }
    ok = ok && *s == '\0' && e > -420 && e < 420;
    if (ok) {
        mpz_ui_pow_ui(den, 10, (unsigned long)(e < 0 ? -e : e));
        if (e >= 0) {
            mpz_mul(num, num, den);
            mpz_set_ui(den, 1);
        }
        if (neg)
            mpz_neg(num, num);
        mpq_set_num(q, num);
        mpq_set_den(q, den);
        mpq_canonicalize(q);
    }
    mpz_clears(num, den, (mpz_ptr)0);
    return ok ? 0 : -1;
}

/* "1.702 = 851/500", "0.5 = 1/2", "3", "851/650": the exact value, as a
 * terminating decimal when it is one (up to 30 digits) and as a fraction. */
static void mpq_show(char *buf, size_t n, const mpq_t q)
{
    char *frac = mpq_get_str(NULL, 10, q);
    if (mpz_cmp_ui(mpq_denref(q), 1) == 0) {
        snprintf(buf, n, "%s", frac);
        free(frac);
        return;
    }
    /* a denominator 2^a 5^b: a decimal with max(a, b) fraction digits */
    mpz_t d;
    mpz_init_set(d, mpq_denref(q));
    unsigned long twos = 0, fives = 0;
    while (mpz_divisible_ui_p(d, 2)) { mpz_divexact_ui(d, d, 2); twos++; }
    while (mpz_divisible_ui_p(d, 5)) { mpz_divexact_ui(d, d, 5); fives++; }
    unsigned long k = twos > fives ? twos : fives;
    if (mpz_cmp_ui(d, 1) == 0 && k <= 30) {
        mpz_ui_pow_ui(d, 10, k);
        mpz_mul(d, d, mpq_numref(q));
        mpz_divexact(d, d, mpq_denref(q)); /* exact: the denominator divides 10^k */
        char *digits = mpz_get_str(NULL, 10, d);
        int neg = digits[0] == '-';
        const char *ds = digits + neg;
        size_t len = strlen(ds), at = 0;
        char dec[64];
        at += (size_t)snprintf(dec, sizeof dec, "%s", neg ? "-" : "");
        if (len <= k) {
            at += (size_t)snprintf(dec + at, sizeof dec - at, "0.");
            for (size_t z = len; z < k && at + 1 < sizeof dec; z++)
                dec[at++] = '0';
            snprintf(dec + at, sizeof dec - at, "%s", ds);
        } else {
            snprintf(dec + at, sizeof dec - at, "%.*s.%s", (int)(len - k), ds, ds + len - k);
        }
        snprintf(buf, n, "%s = %s", dec, frac);
        free(digits);
    } else {
        snprintf(buf, n, "%s", frac);
    }
    mpz_clear(d);
    free(frac);
}

/* The exact candidate nearest v within AC_CANDIDATE_TOL max(1, |v|): an
 * integer, c, -c, 2c, c/2, 1/c, -1/c for the expression's constants c, or
 * a continued-fraction convergent p/q of v with q <= AC_CANDIDATE_DEN.
 * 1 with out set, 0 when there is none. */
static int nearest_exact(mpq_t out, double v, const mpq_t *consts, int nc)
{
    double tol = AC_CANDIDATE_TOL * fmax(1.0, fabs(v)), best = tol;
    int found = 0;
    mpq_t c;
    mpq_init(c);
    /* integers (0 among them) */
    if (fabs(v - nearbyint(v)) <= best) {
        mpq_set_d(out, nearbyint(v)); /* exact: an integer-valued double */
        best = fabs(v - nearbyint(v));
        found = 1;
    }
    for (int k = 0; k < nc; k++)
        for (int form = 0; form < 7; form++) {
            mpq_set(c, consts[k]);
            if (form == 1 || form == 6)
                mpq_neg(c, c);
            if (form == 2)
                mpq_mul_2exp(c, c, 1);
            if (form == 3)
                mpq_div_2exp(c, c, 1);
            if ((form == 4 || form == 6) && mpq_sgn(c) != 0)
                mpq_inv(c, c);
            double d = fabs(v - mpq_get_d(c));
            if (d < best) {
                mpq_set(out, c);
                best = d;
                found = 1;
            }
        }
    /* continued fraction of v: convergents h/k */
    double x = v;
    long h0 = 1, h1 = 0, k0 = 0, k1 = 1; /* h_{-1}/k_{-1} = 1/0, h_{-2}/k_{-2} = 0/1 */
    for (int it = 0; it < 40 && fabs(x) < 1e15; it++) {
        double a = floor(x);
        long h = (long)a * h0 + h1, k = (long)a * k0 + k1;
        if (k > AC_CANDIDATE_DEN || k <= 0)
            break;
        double d = fabs(v - (double)h / (double)k);
        if (d < best) {
            mpq_set_si(out, h, (unsigned long)k);
            mpq_canonicalize(out);
            best = d;
            found = 1;
        }
        h1 = h0; h0 = h;
        k1 = k0; k0 = k;
        if (x - a < 1e-15)
            break;
        x = 1 / (x - a);
    }
    mpq_clear(c);
    return found;
}

/* Set parameter k of m to the exact value q; -1 (m unchanged) when its
 * text does not fit. */
static int member_set_exact(ac_member_t *m, int k, const mpq_t q)
{
    char *s = mpq_get_str(NULL, 10, q);
    int fits = strlen(s) + 3 <= sizeof m->txt[k];
    if (fits) {
        snprintf(m->txt[k], sizeof m->txt[k], "(%s)", s);
        m->v[k] = mpq_get_d(q);
        mpq_show(m->show[k], sizeof m->show[k], q);
    }
    free(s);
    return fits ? 0 : -1;
}

/* ------------------------------------------------------- members */

void ac_member_set(ac_member_t *m, int k, double x)
{
    double d = act_snap_dyadic(x, 20);
    m->v[k] = d;
    double k20 = ldexp(d, 20);
    if (d == nearbyint(d))
        snprintf(m->txt[k], sizeof m->txt[k], "%.0f", d);
    else
        snprintf(m->txt[k], sizeof m->txt[k], "(%.0f/1048576)", k20);
    m->show[k][0] = '\0'; /* an estimate */
}

int ac_member_act(act_t *f, const ac_member_t *m, mpfr_prec_t prec)
{
    char text[800], err[200];
    const char *const *t = (const char *const[]){m->txt[0], m->txt[1], m->txt[2], m->txt[3],
                                                   m->txt[4], m->txt[5], m->txt[6]};
    snprintf(text, sizeof text,
             "(%s*x+%s)*sigmoid((%s*x+%s)*(%s*x+%s))+%s*(1-sigmoid((%s*x+%s)*(%s*x+%s)))",
             t[AC_G], t[AC_G0], t[AC_AL], t[AC_A0], t[AC_BE], t[AC_B0], t[AC_C], t[AC_AL],
             t[AC_A0], t[AC_BE], t[AC_B0]);
    return act_init_expr(f, text, err, sizeof err, prec);
}

/* y = the value of a parameter's text (an enclosure). */
static void par_ival(arb_t y, const char *txt, mpfr_prec_t prec)
{
    char err[100];
    expr_t *e = expr_parse(txt, err, sizeof err);
    arb_t x;
    arb_init(x);
    arb_set_ui(x, 0);
    if (e)
        expr_eval_ival(y, e, x, prec);
    else
        arb_indeterminate(y);
    expr_free(e);
    arb_clear(x);
}

void ac_member_str(char *buf, size_t n, const ac_member_t *m, int cls)
{
    const double *v = m->v;
    int exact = 1;
    for (int k = 0; k < AC_NPAR; k++)
        exact &= m->show[k][0] != '\0';
    if (exact && cls == 0 && v[AC_AL] == 1) /* G0: alpha = 1, so p = beta, q = beta0 */
        snprintf(buf, n, "γ = %s, p = %s, q = %s, c = %s", m->show[AC_G], m->show[AC_BE],
                 m->show[AC_B0], m->show[AC_C]);
    else if (exact)
        snprintf(buf, n, "γ = %s, γ0 = %s, c = %s, Q = (αz + α0)(βz + β0), α = %s, α0 = %s, "
                 "β = %s, β0 = %s", m->show[AC_G], m->show[AC_G0], m->show[AC_C], m->show[AC_AL],
                 m->show[AC_A0], m->show[AC_BE], m->show[AC_B0]);
    else if (cls == 0)
        snprintf(buf, n, "γ=%.4g, p=%.4g, q=%.4g, c=%.4g", v[AC_G], v[AC_AL] * v[AC_BE],
                 v[AC_AL] * v[AC_B0], v[AC_C]);
    else
        snprintf(buf, n, "γ=%.4g, γ0=%.3g, c=%.3g, Q=(%.4gz%+.3g)(%.4gz%+.3g)", v[AC_G], v[AC_G0],
                 v[AC_C], v[AC_AL], v[AC_A0], v[AC_BE], v[AC_B0]);
}

void ac_result_init(ac_result_t *r, mpfr_prec_t prec)
{
    (void)prec;
    memset(r, 0, sizeof *r);
    arb_init(r->gap);
}

void ac_result_clear(ac_result_t *r) { arb_clear(r->gap); }

/* The same activation at another precision. */
static int act_reinit(act_t *g, const act_t *f, mpfr_prec_t prec)
{
    char err[200];
    if (f->expr)
        return act_init_expr(g, expr_text(f->expr), err, sizeof err, prec);
    return act_init_name(g, f->name, err, sizeof err, prec);
}

/* Exact-membership test of m against phi: certified gap with an absolute
 * tolerance, and pointwise enclosures at prec and prec + 64.  1 if member. */
static int exact_test(ac_result_t *res, const act_t *phi, mpfr_prec_t prec)
{
    act_t f;
    ac_member_act(&f, &res->m, prec);
    supnorm_opts_t o;
    supnorm_opts_default(&o);
    o.abs_tol = AC_MEMBER_TOL;
    o.taylor_order = AC_TAYLOR_ORDER;
    o.max_boxes = AC_MEMBER_BOXES;
    supnorm_t s;
    supnorm_init(&s, prec);
    mpfr_t L;
    mpfr_init2(L, 16);
    mpfr_set_d(L, AC_L, MPFR_RNDU);
    supnorm_diff(&s, phi, &f, L, &o, prec);
    arb_set(res->gap, s.sup);
    res->boxes = s.boxes;
    int sup_ok = arb_is_finite(s.sup) && ival_lo_d(s.sup) <= 0 &&
                 ival_hi_d(s.sup) <= AC_MEMBER_TOL;
    supnorm_clear(&s);
    mpfr_clear(L);
    act_clear(&f);

    /* pointwise: 16 seeded dyadic points in [-L, L] */
    int pw_ok = 1;
    for (int round = 0; round < 2; round++) {
        mpfr_prec_t p = prec + 64 * round;
        act_t g, h;
        act_reinit(&g, phi, p);
        ac_member_act(&h, &res->m, p);
        gmp_randstate_t st;
        actclass_rand_init(st, 7, 77);
        mpfr_t x;
        arb_t y1, y2;
        mpfr_init2(x, 32);
        arb_init(y1);
        arb_init(y2);
        double hi = 0;
        for (int k = 0; k < 16; k++) {
            long num = (long)gmp_urandomm_ui(st, 2 * 640 + 1) - 640;
            mpfr_set_si_2exp(x, num, -6, MPFR_RNDN); /* k/64 in [-10, 10], exact */
            act_eval_point(y1, &g, x, p);
            act_eval_point(y2, &h, x, p);
            arb_sub(y1, y1, y2, p);
            pw_ok &= arb_is_finite(y1) && arb_contains_zero(y1);
            ival_abs(y1, y1, p);
            hi = fmax(hi, ival_hi_d(y1));
        }
        res->pw_hi[round] = hi;
        mpfr_clear(x);
        arb_clear(y1);
        arb_clear(y2);
        gmp_randclear(st);
        act_clear(&g);
        act_clear(&h);
    }
    /* shrinks like 2^-p: 64 more bits buy at least 32 */
    pw_ok &= res->pw_hi[1] <= ldexp(res->pw_hi[0], -32);
    res->pointwise_ok = pw_ok;
    return sup_ok && pw_ok;
}

static void certify_best(ac_result_t *res, const act_t *phi, mpfr_prec_t prec)
{
    act_t f;
    ac_member_act(&f, &res->m, prec);
    supnorm_gap(res->gap, NULL, &res->boxes, phi, &f, AC_L, 1e-6, prec);
    act_clear(&f);
}

/* A user function whose best member (v) is close: try it with exact
 * parameters, first each the nearest exact candidate (nearest_exact: the
 * expression's constants, integers, short fractions), then all snapped to
 * multiples of 1/64.  1 (r set, status exact) when a witness passes. */
static int exact_candidates(ac_result_t *r, const act_t *phi, const double *v, int cls,
                            mpfr_prec_t prec)
{
    const char *texts[32];
    int nc = phi->expr ? expr_constants(texts, 32, phi->expr) : 0;
    if (nc > 32)
        nc = 32;
    mpq_t consts[32], q;
    int nq = 0;
    for (int k = 0; k < nc; k++) {
        mpq_init(consts[nq]);
        if (decimal_to_mpq(consts[nq], texts[k]) == 0)
            nq++;
        else
            mpq_clear(consts[nq]);
    }
    mpq_init(q);
    int found = 0;
    for (int round = 0; round < 2 && !found; round++) {
        ac_result_t t;
        ac_result_init(&t, prec);
        int ok = 1;
        for (int k = 0; k < AC_NPAR && ok; k++) {
            if (round == 0)
                ok = nearest_exact(q, v[k], consts, nq);
            else
                mpq_set_d(q, act_snap_dyadic(v[k], 6)); /* exact: a dyadic double */
            ok = ok && member_set_exact(&t.m, k, q) == 0;
        }
        if (ok && exact_test(&t, phi, prec)) {
            r->m = t.m;
            arb_set(r->gap, t.gap);
            r->boxes = t.boxes;
            r->pointwise_ok = 1;
            memcpy(r->pw_hi, t.pw_hi, sizeof t.pw_hi);
            r->status = AC_EXACT;
            ac_member_str(r->params, sizeof r->params, &r->m, cls);
            /* found numerically, not from a known identity: the checks are
             * strong, but a perturbation far below them would pass too */
            snprintf(r->verdict, sizeof r->verdict, "exact member (witness found numerically, "
                     "parameters exact: %.100s; not a symbolic proof)", r->params);
            found = 1;
        }
        ac_result_clear(&t);
    }
    mpq_clear(q);
    for (int k = 0; k < nq; k++)
        mpq_clear(consts[k]);
    return found;
}

/* ---------------------------------------------- certified non-membership */

/* Node idx's branch at the exact point x (-1 undecided there). */
static int branch_at(const expr_t *e, const arb_t x, int idx, mpfr_prec_t prec)
{
    arb_t y;
    arb_init(y);
    expr_ties_t t;
    expr_ties_init(&t);
    t.want_idx = idx;
    expr_eval_series_ties(y, e, x, 1, prec, &t);
    arb_clear(y);
    return t.want_dec;
}

/* The first order j <= AC_KINK_ORDER whose enclosures in lft and rgt
 * (Taylor coefficients) are disjoint, both multiplied by j! in place; -1
 * when none is (or one is not finite first). */
static slong jets_differ(arb_ptr lft, arb_ptr rgt, mpfr_prec_t prec)
{
    for (slong j = 0; j <= AC_KINK_ORDER; j++) {
        if (!arb_is_finite(lft + j) || !arb_is_finite(rgt + j))
            return -1;
        if (arb_overlaps(lft + j, rgt + j))
            continue;
        arb_t f;
        arb_init(f);
        arb_fac_ui(f, (ulong)j, prec); /* f^(j) = j! times the coefficient */
        arb_mul(lft + j, lft + j, f, prec);
        arb_mul(rgt + j, rgt + j, f, prec);
        arb_clear(f);
        return j;
    }
    return -1;
}

/* A kink between two dyadic points: on B = [k, k + 1] 2^-AC_KINK_BITS one
 * min, max or abs node is undecided; its branch differs at the two ends
 * (so its two sides cross inside) and their difference is strictly
 * monotone on B (so they cross once, at r); bisected down to 2^-40 wide,
 * then f is the series with the left end's branch on [lo, r) and the right
 * end's on (r, hi], both analytic on B: disjoint enclosures of their j-th
 * derivatives over B mean f is not C^j at r.  1 with why set. */
static int kink_between(char *why, size_t n, const expr_t *e, long k, mpfr_prec_t prec)
{
    const slong len = AC_KINK_ORDER + 1;
    arb_t B, lo, hi;
    arb_init(B);
    arb_init(lo);
    arb_init(hi);
    arb_set_si(lo, k);
    arb_mul_2exp_si(lo, lo, -AC_KINK_BITS);
    arb_set_si(hi, k + 1);
    arb_mul_2exp_si(hi, hi, -AC_KINK_BITS);
    arb_ptr lft = _arb_vec_init(len), rgt = _arb_vec_init(len);
    expr_ties_t t;
    expr_ties_init(&t);
    arb_union(B, lo, hi, prec);
    expr_eval_series_ties(lft, e, B, 2, prec, &t);
    int idx = t.first_tie, found = 0;
    int dl = idx >= 0 ? branch_at(e, lo, idx, prec) : -1;
    int dh = idx >= 0 ? branch_at(e, hi, idx, prec) : -1;
    if (idx >= 0 && dl >= 0 && dh >= 0 && dl != dh) {
        arb_t m;
        arb_init(m);
        for (int it = 0; it < 40 - AC_KINK_BITS; it++) {
            arb_add(m, lo, hi, prec);
            arb_mul_2exp_si(m, m, -1); /* exact: dyadics of few bits */
            int dm = branch_at(e, m, idx, prec);
            if (dm < 0)
                break; /* a tie at m itself: the point search covers it */
            arb_swap(dm == dl ? lo : hi, m);
        }
        arb_clear(m);
        arb_union(B, lo, hi, prec);
        expr_ties_t tl, tr;
        expr_ties_init(&tl);
        expr_ties_init(&tr);
        tl.force_idx = tr.force_idx = idx;
        tl.force_dec = dl;
        tr.force_dec = dh;
        expr_eval_series_ties(lft, e, B, len, prec, &tl);
        expr_eval_series_ties(rgt, e, B, len, prec, &tr);
        slong j = tl.ties == 0 && tr.ties == 0 ? jets_differ(lft, rgt, prec) : -1;
        if (j >= 0) {
            char *ls = arb_get_str(lft + j, 8, 0), *rs = arb_get_str(rgt + j, 8, 0);
            snprintf(why, n, "certified kink: at one point z in [%.17g, %.17g] the one-sided "
                     "derivatives of order %ld differ (left %s, right %s); every member is "
                     "analytic on ℝ", arf_get_d(arb_midref(lo), ARF_RND_DOWN),
                     arf_get_d(arb_midref(hi), ARF_RND_UP), (long)j, ls, rs);
            flint_free(ls);
            flint_free(rs);
            found = 1;
        }
    }
    _arb_vec_clear(lft, len);
    _arb_vec_clear(rgt, len);
    arb_clear(B);
    arb_clear(lo);
    arb_clear(hi);
    return found;
}

int ac_kink_proof(char *why, size_t n, const act_t *phi, double L, mpfr_prec_t prec)
{
    const expr_t *e = phi->expr ? phi->expr : phi->dexpr;
    if (!e)
        return 0;
    arb_ptr lft = _arb_vec_init(AC_KINK_ORDER + 1), rgt = _arb_vec_init(AC_KINK_ORDER + 1);
    arb_t z;
    arb_init(z);
    /* a formula without min, max or abs has no tie anywhere: nothing to search */
    expr_ties_t t;
    expr_ties_init(&t);
    arb_zero(z);
    expr_eval_series_ties(lft, e, z, 1, prec, &t);
    if (t.next == 0) {
        _arb_vec_clear(lft, AC_KINK_ORDER + 1);
        _arb_vec_clear(rgt, AC_KINK_ORDER + 1);
        arb_clear(z);
        return 0;
    }
    long kmax = (long)ceil(ldexp(L, AC_KINK_BITS)) - 1; /* z0 inside (-L, L) */
    int found = 0;
    for (long k = 0; k <= 2 * kmax && !found; k++) {
        long num = k % 2 ? -(k + 1) / 2 : k / 2; /* 0, -1, 1, -2, 2, ...: kinks near 0 first */
        arb_set_si(z, num);
        arb_mul_2exp_si(z, z, -AC_KINK_BITS); /* exact */
        if (expr_eval_jet(rgt, e, z, 1, AC_KINK_ORDER + 1, prec) == 0)
            continue; /* no tie: f is analytic at z as far as its formula shows */
        expr_eval_jet(lft, e, z, -1, AC_KINK_ORDER + 1, prec);
        slong j = jets_differ(lft, rgt, prec);
        if (j >= 0) {
            char *ls = arb_get_str(lft + j, 8, 0), *rs = arb_get_str(rgt + j, 8, 0);
            snprintf(why, n, "certified kink: at z = %.10g the one-sided derivatives of order "
                     "%ld differ (left %s, right %s); every member is analytic on ℝ",
                     ldexp((double)num, -AC_KINK_BITS), (long)j, ls, rs);
            flint_free(ls);
            flint_free(rs);
            found = 1;
        }
    }
    /* kinks between the points: the boxes between them, from 0 outward */
    for (long k = 0; k < 2 * (kmax + 1) && !found; k++) {
        long num = k % 2 ? -(k + 1) / 2 : k / 2; /* [0, h], [-h, 0], [h, 2h], ... */
        found = kink_between(why, n, e, num, prec);
    }
    _arb_vec_clear(lft, AC_KINK_ORDER + 1);
    _arb_vec_clear(rgt, AC_KINK_ORDER + 1);
    arb_clear(z);
    return found;
}

void ac_classify(ac_result_t res[2], const act_t *phi, const char *builtin,
                 const char *param_txt, int mutate_witness, mpfr_prec_t prec)
{
    const act_info_t *info = builtin ? act_find(builtin) : NULL;
    int witness_cls = info && info->witness_show ? info->witness_cls : -1;
    double g0best[7] = {0};
    /* a user function: a certified kink rules out both classes (C∞ members) */
    char kink[480];
    int kinked = !builtin && ac_kink_proof(kink, sizeof kink, phi, AC_L, prec);
    for (int cls = 0; cls < 2; cls++) {
        ac_result_t *r = res + cls;
        const char *why = info && info->nonmember_why && info->nonmember_cls >= cls
                        ? info->nonmember_why : kinked ? kink : NULL;
        if (witness_cls >= 0 && witness_cls <= cls) {
            mpq_t q;
            mpq_init(q);
            for (int k = 0; k < AC_NPAR; k++) {
                const char *t = strcmp(info->witness_par[k], "A") == 0 ? param_txt
                                                                        : info->witness_par[k];
                snprintf(r->m.txt[k], sizeof r->m.txt[k], "(%s%s)", t ? t : "1",
                         mutate_witness && k == AC_C ? "+1" : "");
                r->m.v[k] = strtod(t ? t : "1", NULL) + (mutate_witness && k == AC_C);
                r->m.show[k][0] = '\0';
                if (decimal_to_mpq(q, t ? t : "1") == 0) {
                    if (mutate_witness && k == AC_C)
                        mpq_set_d(q, r->m.v[k]); /* exact: an integer */
                    mpq_show(r->m.show[k], sizeof r->m.show[k], q);
                }
            }
            mpq_clear(q);
            int ok = exact_test(r, phi, prec);
            r->status = ok ? AC_EXACT : AC_WITNESS_FAILS;
            snprintf(r->verdict, sizeof r->verdict, "%s (witness %s%s)",
                     ok ? "exact member" : "WITNESS FAILS", info->witness_show,
                     mutate_witness ? ", c+1 (mutated)" : "");
            snprintf(r->params, sizeof r->params, "%s", info->witness_show);
            if (cls == 0)
                memcpy(g0best, r->m.v, sizeof g0best);
            continue;
        }
        if (!builtin && cls == 1 && res[0].status == AC_EXACT) {
            /* G0 is inside G1: the G0 witness is one of G1 (gamma0 = alpha0 = 0) */
            r->m = res[0].m;
            arb_set(r->gap, res[0].gap);
            r->boxes = res[0].boxes;
            r->pointwise_ok = res[0].pointwise_ok;
            memcpy(r->pw_hi, res[0].pw_hi, sizeof r->pw_hi);
            r->status = AC_EXACT;
            ac_member_str(r->params, sizeof r->params, &r->m, cls);
            memcpy(r->verdict, res[0].verdict, sizeof r->verdict); /* res[1] from res[0] */
            continue;
        }
        /* a user function: G0 starts from its own constants, gamma in {c, 1}
         * and q in {c, -c, 1} */
        double extra[16][4];
        int n_extra = 0;
        const char *texts[4];
        int nc = !builtin && phi->expr ? expr_constants(texts, 4, phi->expr) : 0;
        for (int i = -1; i < (nc < 4 ? nc : 4) && n_extra < 16; i++)
            for (int j = 0; j < (nc < 4 ? nc : 4) && n_extra + 2 <= 16; j++) {
                double g = i < 0 ? 1 : strtod(texts[i], NULL), q = strtod(texts[j], NULL);
                double s0[2][4] = {{g, 0, q, 0}, {g, 0, -q, 0}};
                memcpy(extra[n_extra++], s0[0], sizeof s0[0]);
                memcpy(extra[n_extra++], s0[1], sizeof s0[1]);
            }
        double v[7];
        double est = best_member(v, phi, cls, cls ? g0best : NULL, extra, n_extra);
        if (cls == 0)
            memcpy(g0best, v, sizeof g0best);
        for (int k = 0; k < AC_NPAR; k++)
            ac_member_set(&r->m, k, v[k]);
        ac_member_str(r->params, sizeof r->params, &r->m, cls);
        if (!builtin && !why && est < AC_TRY_EXACT_BELOW && exact_candidates(r, phi, v, cls, prec))
            continue;
        certify_best(r, phi, prec);
        r->status = why ? AC_NOT_MEMBER : AC_BEST;
        if (why)
            snprintf(r->verdict, sizeof r->verdict, "not a member (proof: %.440s)", why);
        else
            snprintf(r->verdict, sizeof r->verdict, "no witness; best member found (gap "
                     "certified, non-membership not proved)");
    }
}

/* ------------------------------------------------------- the head */

void ac_head_check(arb_t E, arb_ptr trivial, mpfr_t S, mpfr_t zmax, const ac_member_t *m,
                   const arb_t kappa,
                   int cls, const act_t *phi, int self_mask, int formula_mut, long n,
                   unsigned long seed, mpfr_prec_t prec)
{
    const long d = 3, D = d + 1 + cls, bias = d + cls;
    arb_t p[AC_NPAR], z, Q, sg, t, t2;
    for (int k = 0; k < AC_NPAR; k++) {
        arb_init(p[k]);
        par_ival(p[k], m->txt[k], prec);
    }
    arb_init(z);
    arb_init(Q);
    arb_init(sg);
    arb_init(t);
    arb_init(t2);
    gmp_randstate_t st;
    actclass_rand_init(st, seed, 91);
    imat_t X, w, u, Xh, Y, ref, Z;
    imat_init(X, n, d);
    imat_init(w, d, 1);
    imat_init(u, 1, d);
    imat_randtest_dyadic(X, st, AC_WEIGHT_BITS);
    imat_randtest_dyadic(w, st, AC_WEIGHT_BITS);
    imat_randtest_dyadic(u, st, AC_WEIGHT_BITS);
    gmp_randclear(st);
    imat_init(Z, n, 1);
    imat_mul(Z, X, w, prec);
    imat_max_abs_upper(zmax, Z);

    /* stream: row 0 = e_bias; row i = [x_i, (1), 0] */
    imat_init(Xh, n + 1, D);
    arb_set_ui(imat_entry(Xh, 0, bias), 1);
    imat_set_block(Xh, 1, 0, X);
    for (long i = 1; cls && i <= n; i++)
        arb_set_ui(imat_entry(Xh, i, d), 1);
    attn_head_t h;
    attn_head_init(h, D, 1);
    for (long j = 0; j < d; j++) {
        arb_mul(imat_entry(h->W_Q, j, 0), imat_entry(w, j, 0), p[AC_AL], prec);
        arb_mul(imat_entry(h->W_K, j, 0), imat_entry(w, j, 0), p[AC_BE], prec);
        arb_mul(imat_entry(h->W_V, j, 0), imat_entry(w, j, 0), p[AC_G], prec);
        arb_set(imat_entry(h->W_O, 0, j), imat_entry(u, 0, j));
    }
    if (cls) {
        arb_set(imat_entry(h->W_Q, d, 0), p[AC_A0]);
        arb_set(imat_entry(h->W_K, d, 0), p[AC_B0]);
        arb_set(imat_entry(h->W_V, d, 0), p[AC_G0]);
    }
    arb_set(imat_entry(h->W_K, bias, 0), kappa);
    arb_set(imat_entry(h->W_V, bias, 0), p[AC_C]);
    mask_t M;
    if (self_mask)
        mask_self(&M, n + 1);
    else
        mask_self_bias(&M, n + 1);
    imat_init(Y, n + 1, D);
    attn_head_apply(Y, h, Xh, &M, prec);

    /* reference rows: phi(z) u, or the formula */
    imat_init(ref, n + 1, D);
    imat_set(ref, Y);
    for (long i = 1; i <= n; i++) {
        arb_ptr zi = imat_entry(Z, i - 1, 0);
        if (phi) {
            phi->ival(t, zi, phi->ctx, prec);
        } else {
            /* Q = (al z + a0)(be z + be0 - kappa); G0: be0 = 0 in the head */
            arb_mul(Q, p[AC_AL], zi, prec);
            if (cls)
                arb_add(Q, Q, p[AC_A0], prec);
            arb_mul(t, p[AC_BE], zi, prec);
            if (cls)
                arb_add(t, t, p[AC_B0], prec);
            if (formula_mut != 1)
                arb_sub(t, t, kappa, prec);
            arb_mul(Q, Q, t, prec);
            ival_sigmoid(sg, Q, prec);
            arb_mul(t, p[AC_G], zi, prec);
            if (cls)
                arb_add(t, t, p[AC_G0], prec);
            arb_sub_ui(t2, sg, 1, prec);
            arb_neg(t2, t2);
            if (formula_mut == 2) {
                arb_mul(t, t, t2, prec);
                arb_mul(t2, sg, p[AC_C], prec);
            } else {
                arb_mul(t, t, sg, prec);
                arb_mul(t2, t2, p[AC_C], prec);
            }
            arb_add(t, t, t2, prec);
        }
        for (long j = 0; j < D; j++) {
            if (j < d)
                arb_mul(imat_entry(ref, i, j), t, imat_entry(u, 0, j), prec);
            else
                arb_set_ui(imat_entry(ref, i, j), 0);
        }
    }
    arb_t Eabs;
    arb_init(Eabs);
    error_metric(E, Eabs, ref, Y, 1, n, D, prec);
    if (trivial)
        error_trivial_bound(trivial, ref, Y, 1, n, D, prec);
    scale_of(S, ref, 1, n, D);
    arb_clear(Eabs);
    mask_clear(&M);
    attn_head_clear(h);
    imat_clear(X); imat_clear(w); imat_clear(u); imat_clear(Xh);
    imat_clear(Y); imat_clear(ref); imat_clear(Z);
    for (int k = 0; k < AC_NPAR; k++)
        arb_clear(p[k]);
    arb_clear(z); arb_clear(Q); arb_clear(sg); arb_clear(t); arb_clear(t2);
}

/* ------------------------------------------------------- baseline */

void ac_baseline_spec(char *buf, size_t n, const act_info_t *info)
{
    snprintf(buf, n, "%s%s%s", info->name, info->baseline_param ? ":" : "",
             info->baseline_param ? info->baseline_param : "");
}

const char *ac_status_word(ac_status_t s)
{
    return s == AC_EXACT ? "exact" : s == AC_NOT_MEMBER ? "not-member"
         : s == AC_BEST ? "best" : "witness-fails";
}

int ac_baseline_line(char *buf, size_t n, const char *spec, mpfr_prec_t prec)
{
    act_t phi;
    char err[200], base[64] = "";
    if (act_init_spec(&phi, spec, err, sizeof err, prec) != 0)
        return -1;
    const char *ptxt = NULL;
    if (phi.info) {
        snprintf(base, sizeof base, "%s", spec);
        char *colon = strchr(base, ':');
        ptxt = colon ? colon + 1 : phi.info->param_default;
        if (colon)
            *colon = '\0';
    }
    ac_result_t res[2];
    ac_result_init(res, prec);
    ac_result_init(res + 1, prec);
    ac_classify(res, &phi, phi.info ? base : NULL, ptxt, 0, prec);
    size_t len = (size_t)snprintf(buf, n, "%s", spec);
    for (int c = 0; c < 2 && len < n; c++) {
        char *lo = ival_lo_str(res[c].gap, 17), *hi = ival_hi_str(res[c].gap, 17);
        len += (size_t)snprintf(buf + len, n - len, "\t%s\t%s\t%s", ac_status_word(res[c].status),
                                lo, hi);
        mpfr_free_str(lo);
        mpfr_free_str(hi);
    }
    ac_result_clear(res);
    ac_result_clear(res + 1);
    act_clear(&phi);
    return 0;
}

static int split_tabs(char *line, char **f, int max)
{
    int k = 0;
    for (char *t = strtok(line, "\t\n"); t && k < max; t = strtok(NULL, "\t\n"))
        f[k++] = t;
    return k;
}

int ac_baseline_wellformed(const char *line)
{
    char a[EXPR_MAX_LEN + 512], *f[8];
    if (strlen(line) >= sizeof a)
        return 0;
    snprintf(a, sizeof a, "%s", line);
    if (split_tabs(a, f, 8) != 7 || strstr(line, "\t\t")) /* strtok skips empty fields */
        return 0;
    for (int c = 0; c < 2; c++) {
        int known = 0;
        for (int s = AC_EXACT; s <= AC_WITNESS_FAILS; s++)
            known |= strcmp(f[1 + 3 * c], ac_status_word((ac_status_t)s)) == 0;
        if (!known)
            return 0;
        for (int e = 2; e <= 3; e++) {
            /* a gap end is a whole number: "0junk" must not read as 0 */
            mpfr_t v;
            char *end;
            mpfr_init2(v, 64);
            mpfr_strtofr(v, f[e + 3 * c], &end, 10, MPFR_RNDN);
            int ok = end != f[e + 3 * c] && *end == '\0';
            mpfr_clear(v);
            if (!ok)
                return 0;
        }
    }
    return 1;
}

int ac_baseline_compare(const char *stored, const char *fresh, char *msg, size_t msgsz)
{
    char a[EXPR_MAX_LEN + 512], b[EXPR_MAX_LEN + 512], *fa[8], *fb[8];
    snprintf(a, sizeof a, "%s", stored);
    snprintf(b, sizeof b, "%s", fresh);
    if (split_tabs(a, fa, 8) != 7 || split_tabs(b, fb, 8) != 7) {
        snprintf(msg, msgsz, "malformed baseline line '%.60s'", stored);
        return -1;
    }
    size_t at = 0;
    msg[0] = '\0';
    for (int c = 0; c < 2; c++) {
        const char *cls = c ? "G1" : "G0";
        if (strcmp(fa[1 + 3 * c], fb[1 + 3 * c]) != 0) {
            /* every change of the line, in one line */
            if (at < msgsz)
                at += (size_t)snprintf(msg + at, msgsz - at, "%s%s: %s verdict moved: baseline "
                                       "'%s', now '%s'", at ? "; " : "", fa[0], cls,
                                       fa[1 + 3 * c], fb[1 + 3 * c]);
            continue;
        }
        mpfr_t slo, shi, flo, fhi;
        mpfr_inits2(128, slo, shi, flo, fhi, (mpfr_ptr)0);
        mpfr_set_str(slo, fa[2 + 3 * c], 10, MPFR_RNDD);
        mpfr_set_str(shi, fa[3 + 3 * c], 10, MPFR_RNDU);
        mpfr_set_str(flo, fb[2 + 3 * c], 10, MPFR_RNDD);
        mpfr_set_str(fhi, fb[3 + 3 * c], 10, MPFR_RNDU);
        mpfr_mul_d(slo, slo, 1 - AC_BASELINE_RELTOL, MPFR_RNDD);
        mpfr_mul_d(shi, shi, 1 + AC_BASELINE_RELTOL, MPFR_RNDU);
        /* the fresh enclosure must lie inside the widened stored one: a gap that
         * moves, or widens (a loss of certification), fails; NaN compares false */
        int inside = mpfr_greaterequal_p(flo, slo) && mpfr_lessequal_p(fhi, shi);
        mpfr_clears(slo, shi, flo, fhi, (mpfr_ptr)0);
        if (!inside && at < msgsz)
            at += (size_t)snprintf(msg + at, msgsz - at, "%s%s: %s gap moved or widened: "
                                   "baseline [%s, %s], now [%s, %s]", at ? "; " : "", fa[0],
                                   cls, fa[2 + 3 * c], fa[3 + 3 * c], fb[2 + 3 * c],
                                   fb[3 + 3 * c]);
    }
    return at ? -1 : 0;
}
