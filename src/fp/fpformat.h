/* Emulated IEEE 754 float formats: binary64, binary32, bfloat16, binary16.
 *
 * A value in a format F is an mpfr_t of precision F->prec holding a number
 * representable in F (normal, subnormal, signed zero), or +-inf, or NaN.
 * Every function below rounds its exact real result once to nearest, ties to
 * even, in F's precision and exponent range with gradual underflow, exactly as
 * an IEEE 754 operation does: overflow gives +-inf, underflow a subnormal or a
 * signed zero.  Flush-to-zero modes are not modelled.
 *
 * MPFR's exponent range and flags are global (per thread in Debian's MPFR);
 * every function saves them, works, and restores both before it returns.
 * The result argument is set to precision F->prec (any precision on entry;
 * it may alias an input).  Outputs first, inputs const, format last.
 *
 * Model of the hardware, function by function (fl = one rounding in F):
 *   add, sub, mul, div, sqrt, fma: correctly rounded, as IEEE 754 requires.
 *   exp, tanh, erf: correctly rounded.  Real libraries (CUDA expf, glibc,
 *     vectorised torch kernels) are not: this is a model of the hardware in
 *     which the transcendental functions are as good as they can be.
 *   sigmoid(x) = fl(1 / fl(1 + fl(exp(-x))))                  (-x is exact)
 *   silu_a(x)  = fl(x * sigmoid(fl(a * x)))                   (a in F)
 *   relu(x)    = x > 0 ? x : +0;  NaN stays NaN                (exact)
 *   gelu(x)    = fl(fl(0.5 * x) * fl(1 + fl(erf(fl(x * c1)))))  c1 = fl(1/sqrt 2)
 *   gelu_tanh(x) = fl(fl(0.5 * x) * fl(1 + fl(tanh(fl(c2 * fl(x + fl(c3 * fl(fl(x*x)*x))))))))
 *     with c2 = fl(sqrt(2/pi)), c3 = fl(0.044715), each constant correctly rounded to F.
 * Sums, dot products, softmax and LayerNorm follow fpf_arith_t below. */
#ifndef ATTNCHECK_FPFORMAT_H
#define ATTNCHECK_FPFORMAT_H

#include <gmp.h>
#include <mpfr.h>

typedef struct {
    const char *name;  /* "binary32" */
    mpfr_prec_t prec;  /* significand bits, the implicit one included */
    long emin, emax;   /* IEEE exponents: normal numbers are 2^emin <= |x| < 2^(emax+1) */
} fpf_format_t;

extern const fpf_format_t fpf_binary64;  /* p 53, emin -1022, emax 1023 */
extern const fpf_format_t fpf_binary32;  /* p 24, emin  -126, emax  127 */
extern const fpf_format_t fpf_bfloat16;  /* p  8, emin  -126, emax  127 */
extern const fpf_format_t fpf_binary16;  /* p 11, emin   -14, emax   15 */

/* The format called name (binary64, binary32, bfloat16, binary16, or one of
 * float64, fp64, float32, fp32, bf16, float16, fp16), or NULL. */
const fpf_format_t *fpf_format_find(const char *name);

/* ---- values ---- */
void fpf_init(mpfr_t x, const fpf_format_t *f);  /* +0 at F's precision */
int fpf_is_member(const mpfr_t x, const fpf_format_t *f); /* 1 when x is an F value (or inf, NaN) */

/* Round an exact value to F.  Each returns the ternary value (sign of
 * result - exact).  set_str takes a decimal or any MPFR-readable number. */
int fpf_set_fr(mpfr_t r, const mpfr_t x, const fpf_format_t *f);
int fpf_set_d(mpfr_t r, double x, const fpf_format_t *f);
int fpf_set_si(mpfr_t r, long x, const fpf_format_t *f);
int fpf_set_str(mpfr_t r, const char *s, const fpf_format_t *f); /* -2 if not a number */

/* ---- one rounding each ---- */
int fpf_add(mpfr_t r, const mpfr_t a, const mpfr_t b, const fpf_format_t *f);
int fpf_sub(mpfr_t r, const mpfr_t a, const mpfr_t b, const fpf_format_t *f);
int fpf_mul(mpfr_t r, const mpfr_t a, const mpfr_t b, const fpf_format_t *f);
int fpf_div(mpfr_t r, const mpfr_t a, const mpfr_t b, const fpf_format_t *f);
int fpf_fma(mpfr_t r, const mpfr_t a, const mpfr_t b, const mpfr_t c, const fpf_format_t *f);
int fpf_sqrt(mpfr_t r, const mpfr_t a, const fpf_format_t *f);
int fpf_exp(mpfr_t r, const mpfr_t a, const fpf_format_t *f);
int fpf_tanh(mpfr_t r, const mpfr_t a, const fpf_format_t *f);
int fpf_erf(mpfr_t r, const mpfr_t a, const fpf_format_t *f);

/* ---- composite functions: the stated sequences above ---- */
void fpf_sigmoid(mpfr_t r, const mpfr_t x, const fpf_format_t *f);
void fpf_silu_a(mpfr_t r, const mpfr_t x, const mpfr_t a, const fpf_format_t *f);
void fpf_relu(mpfr_t r, const mpfr_t x, const fpf_format_t *f);
void fpf_gelu(mpfr_t r, const mpfr_t x, const fpf_format_t *f);
void fpf_gelu_tanh(mpfr_t r, const mpfr_t x, const fpf_format_t *f);

typedef enum { FPF_ACT_RELU, FPF_ACT_SILU_A, FPF_ACT_GELU, FPF_ACT_GELU_TANH, FPF_ACT_SIGMOID }
    fpf_act_t;
/* phi(x) for the activation act; a is used by FPF_ACT_SILU_A only. */
void fpf_act_apply(mpfr_t r, const mpfr_t x, fpf_act_t act, const mpfr_t a,
                   const fpf_format_t *f);

/* ---- sums, dot products, softmax, LayerNorm ----
 * fmt: every input and every result is an fmt value.
 * acc: a sum or dot product is carried in acc and rounded to fmt once at the
 *   end.  acc = fmt: each addition is rounded to fmt.  acc = binary32 with fmt
 *   bfloat16/binary16 models tensor-core GEMMs: a product of two fmt values
 *   (at most 22 bits) is exact in binary32 unless it leaves binary32's range,
 *   each addition is rounded to binary32, the total is rounded to fmt.
 *   Every term is first rounded to acc (exact when acc holds fmt).  This is
 *   the IEEE-rounded idealisation: real tensor cores add a block of products
 *   at once and may truncate while aligning them, which is not modelled.
 * order, for n terms t_0 .. t_{n-1}:
 *   SEQUENTIAL:     s = t_0; s = fl_acc(s + t_i) for i = 1 .. n-1;
 *                   a dot product's term t_i is fl_acc(x_i * y_i).
 *   SEQUENTIAL_FMA: sums as SEQUENTIAL; a dot product is s = fl_acc(x_0 y_0),
 *                   s = fl_acc(x_i y_i + s) (one rounding per fused step).
 *   PAIRWISE:       sum(t_0..t_{n-1}) = fl_acc(sum(t_0..t_{m-1}) + sum(t_m..t_{n-1})),
 *                   m = floor(n/2), down to single terms.
 * The empty sum is +0.  An addend (a bias) is one more term, added last:
 *   s = fl_acc(s + addend), after the products in any order. */
typedef enum { FPF_SUM_SEQUENTIAL, FPF_SUM_SEQUENTIAL_FMA, FPF_SUM_PAIRWISE } fpf_order_t;

typedef struct {
    const fpf_format_t *fmt;
    const fpf_format_t *acc;
    fpf_order_t order;
} fpf_arith_t;

/* The order called name ("sequential", "sequential-fma", "pairwise"); -1 if unknown. */
int fpf_order_find(fpf_order_t *order, const char *name);
const char *fpf_order_name(fpf_order_t order);

/* r = sum x[i*incx], i < n.  Returns 0, or -1 when out of memory. */
int fpf_sum(mpfr_t r, const __mpfr_struct *x, long incx, long n, const fpf_arith_t *ar);
/* r = sum x[i*incx] y[i*incy] (+ addend unless NULL).  0, or -1 out of memory. */
int fpf_dot(mpfr_t r, const __mpfr_struct *x, long incx, const __mpfr_struct *y, long incy,
            long n, mpfr_srcptr addend, const fpf_arith_t *ar);
/* The same over n pairs of pointers (y NULL: a plain sum of the x[i]). */
int fpf_dot_ptr(mpfr_t r, mpfr_srcptr const *x, mpfr_srcptr const *y, long n,
                mpfr_srcptr addend, const fpf_arith_t *ar);

/* Softmax of the n logits s into w (n fmt values; w may alias s):
 *   m = max s (exact; any NaN gives all-NaN weights), d_i = fl(s_i - m),
 *   e_i = fl(exp(d_i)), S = fpf_sum(e) in ar's acc and order, w_i = fl(e_i / S).
 * A row whose maximum is +-inf gives NaN weights (inf - inf), as frameworks do.
 * Returns 0, or -1 when n < 1 or out of memory. */
int fpf_softmax(__mpfr_struct *w, const __mpfr_struct *s, long n, const fpf_arith_t *ar);

/* LayerNorm of the n values x into y (may alias x), biased variance:
 *   nn = fl(n); mu = fl(fpf_sum(x) / nn); c_i = fl(x_i - mu);
 *   var = fl(fpf_dot(c, c) / nn); sd = fl(sqrt(fl(var + eps)));
 *   y_i = fl(fl(fl(c_i / sd) * gamma_i) + beta_i)
 * gamma or beta NULL: that step is skipped (gamma = 1, beta = 0).
 * Returns 0, or -1 when n < 1 or out of memory. */
int fpf_layernorm(__mpfr_struct *y, const __mpfr_struct *x, long n, const __mpfr_struct *gamma,
                  const __mpfr_struct *beta, const mpfr_t eps, const fpf_arith_t *ar);

/* RMSNorm of the n values x into y (may alias x), as TransformerLens's
 * x * rsqrt(mean(x^2) + eps) * w:
 *   nn = fl(n); ms = fl(fpf_dot(x, x) / nn); r = fl(1 / fl(sqrt(fl(ms + eps))));
 *   y_i = fl(fl(x_i * r) * gamma_i)
 * gamma NULL: that step is skipped.  Returns 0, or -1 when n < 1 or out of memory. */
int fpf_rmsnorm(__mpfr_struct *y, const __mpfr_struct *x, long n, const __mpfr_struct *gamma,
                const mpfr_t eps, const fpf_arith_t *ar);

#endif
