/* A first measurement of the float-format question (issue 10): one SiLU
 * neuron computed by a softmax, in each emulated format (src/fpformat.h).
 *
 *   blog one-layer: the query's logits are 2 Omega + z (itself, value z) and
 *     2 Omega (the extra token, value 0); weight on itself sigma(z), output
 *     z sigma(z) = SiLU(z).  In a format, fl(2 Omega + z) keeps only z's
 *     multiple of the spacing near 2 Omega.
 *   explicit mask B: logits 0 (itself, value z) and -a z (the bias token,
 *     value 0); output SiLU_a(z), with z's own relative precision.
 *
 * The two-key model leaves out the other real tokens (logit z_j, weight
 * ~e^(z_j - 2 Omega)): it shows the rounding floor alone, not the e^(-2 Omega)
 * leak.  The float output is exact (a format value) and SiLU is enclosed
 * with directed rounding at 256 bits, so each error printed as [lo, hi] is a
 * certified enclosure of |float output - SiLU(z)|, for this model of the
 * hardware (one rounding per step, correctly rounded exp, sums in the format,
 * sequential order). */
#include <stdio.h>
#include <stdlib.h>
#include "fpformat.h"

#define WORK_PREC 256

/* [lo, hi] contains z sigma(a z) (a z exact at WORK_PREC bits). */
static void silu_enclose(mpfr_t lo, mpfr_t hi, const mpfr_t z, const mpfr_t a)
{
    mpfr_t t, elo, ehi, slo, shi;
    mpfr_inits2(WORK_PREC, t, elo, ehi, slo, shi, (mpfr_ptr)0);
    mpfr_mul(t, a, z, MPFR_RNDN); /* exact: two format values */
    mpfr_neg(t, t, MPFR_RNDN);
    mpfr_exp(elo, t, MPFR_RNDD);
    mpfr_exp(ehi, t, MPFR_RNDU);
    mpfr_add_ui(ehi, ehi, 1, MPFR_RNDU);
    mpfr_ui_div(slo, 1, ehi, MPFR_RNDD); /* sigma >= 1 / (1 + e_hi) */
    mpfr_add_ui(elo, elo, 1, MPFR_RNDD);
    mpfr_ui_div(shi, 1, elo, MPFR_RNDU); /* sigma <= 1 / (1 + e_lo) */
    if (mpfr_sgn(z) >= 0) {
        mpfr_mul(lo, z, slo, MPFR_RNDD);
        mpfr_mul(hi, z, shi, MPFR_RNDU);
    } else {
        mpfr_mul(lo, z, shi, MPFR_RNDD);
        mpfr_mul(hi, z, slo, MPFR_RNDU);
    }
    mpfr_clears(t, elo, ehi, slo, shi, (mpfr_ptr)0);
}

/* [elo, ehi] contains |y - SiLU_a(z)|. */
static void error_enclose(mpfr_t elo, mpfr_t ehi, const mpfr_t y, const mpfr_t z,
                          const mpfr_t a)
{
    mpfr_t lo, hi, dlo, dhi;
    mpfr_inits2(WORK_PREC, lo, hi, dlo, dhi, (mpfr_ptr)0);
    silu_enclose(lo, hi, z, a);
    mpfr_sub(dlo, y, hi, MPFR_RNDD);
    mpfr_sub(dhi, y, lo, MPFR_RNDU);
    if (mpfr_sgn(dlo) <= 0 && mpfr_sgn(dhi) >= 0) {
        mpfr_set_ui(elo, 0, MPFR_RNDN);
        mpfr_neg(dlo, dlo, MPFR_RNDN);
        mpfr_max(ehi, dlo, dhi, MPFR_RNDU);
    } else {
        mpfr_abs(dlo, dlo, MPFR_RNDN);
        mpfr_abs(dhi, dhi, MPFR_RNDN);
        mpfr_min(elo, dlo, dhi, MPFR_RNDD);
        mpfr_max(ehi, dlo, dhi, MPFR_RNDU);
    }
    mpfr_clears(lo, hi, dlo, dhi, (mpfr_ptr)0);
}

/* The neuron's float output y from logits (s_self, s_other), values (z, 0). */
static void neuron(mpfr_t y, const mpfr_t s_self, const mpfr_t s_other, const mpfr_t z,
                   const fpf_arith_t *ar)
{
    const fpf_format_t *f = ar->fmt;
    __mpfr_struct s[2], w[2], v[2];
    for (int k = 0; k < 2; k++) {
        fpf_init(s + k, f);
        fpf_init(w + k, f);
        fpf_init(v + k, f);
    }
    fpf_set_fr(s + 0, s_self, f);
    fpf_set_fr(s + 1, s_other, f);
    fpf_set_fr(v + 0, z, f);
    if (fpf_softmax(w, s, 2, ar) != 0 || fpf_dot(y, w, 1, v, 1, 2, NULL, ar) != 0) {
        fprintf(stderr, "fp_logits: out of memory\n");
        exit(70);
    }
    for (int k = 0; k < 2; k++)
        mpfr_clears(s + k, w + k, v + k, (mpfr_ptr)0);
}

/* One neuron evaluation in a format: inputs z and a (format values, a = 1),
 * the two outputs, and their errors as enclosures at WORK_PREC. */
typedef struct {
    const fpf_format_t *f;
    mpfr_t z, a, y_blog, y_expl;
    mpfr_t e_blog_lo, e_blog_hi, e_expl_lo, e_expl_hi;
} neuron_run_t;

static void run_init(neuron_run_t *r, const fpf_format_t *f)
{
    r->f = f;
    fpf_init(r->z, f);
    fpf_init(r->a, f);
    fpf_init(r->y_blog, f);
    fpf_init(r->y_expl, f);
    fpf_set_si(r->a, 1, f);
    mpfr_inits2(WORK_PREC, r->e_blog_lo, r->e_blog_hi, r->e_expl_lo, r->e_expl_hi,
                (mpfr_ptr)0);
}

static void run_clear(neuron_run_t *r)
{
    mpfr_clears(r->z, r->a, r->y_blog, r->y_expl, r->e_blog_lo, r->e_blog_hi, r->e_expl_lo,
                r->e_expl_hi, (mpfr_ptr)0);
}

/* Blog one-layer (Omega) and explicit-mask (a) outputs for r->z, errors enclosed. */
static void run_at(neuron_run_t *r, long omega)
{
    const fpf_format_t *f = r->f;
    const fpf_arith_t ar = {f, f, FPF_SUM_SEQUENTIAL};
    mpfr_t two_omega, s_self, s_other, one;
    fpf_init(two_omega, f);
    fpf_init(s_self, f);
    fpf_init(s_other, f);
    mpfr_init2(one, 2);
    mpfr_set_ui(one, 1, MPFR_RNDN);
    fpf_set_si(two_omega, 2 * omega, f);
    fpf_add(s_self, r->z, two_omega, f); /* the pre-activation meets 2 Omega here */
    neuron(r->y_blog, s_self, two_omega, r->z, &ar);
    error_enclose(r->e_blog_lo, r->e_blog_hi, r->y_blog, r->z, one);
    fpf_set_si(s_self, 0, f);
    fpf_mul(s_other, r->a, r->z, f);
    mpfr_neg(s_other, s_other, MPFR_RNDN);
    neuron(r->y_expl, s_self, s_other, r->z, &ar);
    error_enclose(r->e_expl_lo, r->e_expl_hi, r->y_expl, r->z, r->a);
    mpfr_clears(two_omega, s_self, s_other, one, (mpfr_ptr)0);
}

static const fpf_format_t *const fmts[4] = {&fpf_bfloat16, &fpf_binary16, &fpf_binary32,
                                            &fpf_binary64};

static void print_spacing(long omega)
{
    printf("# Spacing of each format near 2 Omega = %ld and above 2048\n\n", 2 * omega);
    printf("| format | p | spacing at %ld | spacing in [2048, 4096) |\n|---|---|---|---|\n",
           2 * omega);
    for (int k = 0; k < 4; k++) {
        const fpf_format_t *f = fmts[k];
        mpfr_t x, next;
        fpf_init(x, f);
        fpf_init(next, f);
        long at[2] = {2 * omega, 2048};
        printf("| %s | %ld |", f->name, (long)f->prec);
        for (int j = 0; j < 2; j++) {
            fpf_set_si(x, at[j], f);
            mpfr_set(next, x, MPFR_RNDN);
            mpfr_nextabove(next); /* at F's precision, far from F's range limits */
            mpfr_sub(next, next, x, MPFR_RNDN); /* exact */
            mpfr_printf(" %Rg |", next);
        }
        printf("\n");
        mpfr_clears(x, next, (mpfr_ptr)0);
    }
}

static void print_neuron_table(long omega)
{
    /* short dyadics (exact in every format) and decimals (rounded to each) */
    const char *zs[] = {"-3", "-1.7", "-1", "-0.5", "0.25", "0.3", "1", "1.5", "2.2", "3.75", "6"};
    printf("\n# One SiLU neuron at Omega = %ld, a = 1: blog one-layer logits [2 Omega + z, "
           "2 Omega]\n# against explicit mask B logits [0, -a z]; E = |output - SiLU(z)|, "
           "certified enclosure\n\n", omega);
    printf("| format | z | fl(2 Omega + z) - 2 Omega | blog output | E blog | explicit output "
           "| E explicit | E explicit / (u SiLU(z)) |\n|---|---|---|---|---|---|---|---|\n");
    mpfr_t lo, hi, rel;
    mpfr_inits2(WORK_PREC, lo, hi, rel, (mpfr_ptr)0);
    for (int k = 0; k < 4; k++) {
        neuron_run_t r;
        run_init(&r, fmts[k]);
        const fpf_format_t *f = r.f;
        mpfr_t kept, two_omega;
        fpf_init(kept, f);
        fpf_init(two_omega, f);
        fpf_set_si(two_omega, 2 * omega, f);
        for (size_t j = 0; j < sizeof zs / sizeof zs[0]; j++) {
            fpf_set_str(r.z, zs[j], f);
            run_at(&r, omega);
            fpf_add(kept, r.z, two_omega, f);
            mpfr_sub(kept, kept, two_omega, MPFR_RNDN); /* exact (Sterbenz) */
            /* E explicit / (2^-p |SiLU(z)|), rounded up; SiLU(z) in [lo, hi], one sign */
            silu_enclose(lo, hi, r.z, r.a);
            mpfr_abs(lo, lo, MPFR_RNDN);
            mpfr_abs(hi, hi, MPFR_RNDN);
            mpfr_min(hi, lo, hi, MPFR_RNDD);
            mpfr_div_2si(hi, hi, (long)f->prec, MPFR_RNDD);
            mpfr_div(rel, r.e_expl_hi, hi, MPFR_RNDU);
            mpfr_printf("| %s | %s | %Rg | %.6Rg | [%.3Re, %.3Re] | %.6Rg | [%.3Re, %.3Re] | "
                        "<= %.3Rf |\n", f->name, zs[j], kept, r.y_blog, r.e_blog_lo,
                        r.e_blog_hi, r.y_expl, r.e_expl_lo, r.e_expl_hi, rel);
        }
        mpfr_clears(kept, two_omega, (mpfr_ptr)0);
        run_clear(&r);
    }
    mpfr_clears(lo, hi, rel, (mpfr_ptr)0);
}

static void print_omega_sweep(void)
{
    const long omegas[] = {1, 4, 16, 64, 256, 1000};
    printf("\n# Largest E over z = fl(4 sin k), k = -1024 .. 1024 (2049 values in [-4, 4] "
           "with the format's full precision), a = 1\n\n");
    printf("| format | Omega | max E blog (upper end) | max E explicit (upper end) |\n"
           "|---|---|---|---|\n");
    mpfr_t q, m_blog, m_expl;
    mpfr_inits2(WORK_PREC, q, m_blog, m_expl, (mpfr_ptr)0);
    for (int k = 0; k < 4; k++) {
        neuron_run_t r;
        run_init(&r, fmts[k]);
        for (size_t o = 0; o < sizeof omegas / sizeof omegas[0]; o++) {
            mpfr_set_ui(m_blog, 0, MPFR_RNDN);
            mpfr_set_ui(m_expl, 0, MPFR_RNDN);
            for (long i = -1024; i <= 1024; i++) {
                mpfr_set_si(q, i, MPFR_RNDN);
                mpfr_sin(q, q, MPFR_RNDN);
                mpfr_mul_2ui(q, q, 2, MPFR_RNDN);
                fpf_set_fr(r.z, q, r.f); /* a full-precision format value in [-4, 4] */
                run_at(&r, omegas[o]);
                mpfr_max(m_blog, m_blog, r.e_blog_hi, MPFR_RNDU);
                mpfr_max(m_expl, m_expl, r.e_expl_hi, MPFR_RNDU);
            }
            mpfr_printf("| %s | %ld | %.3Re | %.3Re |\n", r.f->name, omegas[o], m_blog, m_expl);
        }
        run_clear(&r);
    }
    mpfr_clears(q, m_blog, m_expl, (mpfr_ptr)0);
}

int main(void)
{
    print_spacing(1000);
    print_neuron_table(1000);
    print_omega_sweep();
    mpfr_free_cache();
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "fp_logits: cannot write the table to stdout\n");
        return 74;
    }
    return 0;
}
