/* Helpers shared by the Omega-limit claims (mask-encoding, blog-*,
 * attention-only-encoded): log-linear tail fits of ln hi(E) against Omega
 * (estimates in doubles, labelled so) and small certified utilities. */
#ifndef ATTNCHECK_OMEGA_UTIL_H
#define ATTNCHECK_OMEGA_UTIL_H

#include "thm_common.h"

/* ln of an mpfr value, as a double (an estimate; NaN when x <= 0). */
double omega_ln_d(const mpfr_t x);
/* ln of the upper end of x, as a double (an estimate; NaN when it is <= 0). */
double omega_ln_hi_d(const arb_t x);
/* 1 when the enclosure of E excludes 0 (lo(E) > 0). */
int omega_resolved(const arb_t E);
/* Find an extra column by name (NULL when absent). */
const column_t *omega_extra(const row_t *r, const char *name);

/* Least-squares fits of ln hi(E) against the parameter "omega", one per
 * series: rows with the same sweep label and the same values of the
 * parameters in keys (NULL-terminated) form a series.  Only rows whose E is
 * resolved and whose omega >= omega_min count; of those, the last `tail`
 * points (largest omega) are fitted.  `expect` goes in the comment.  Returns
 * the number of fits written. */
int omega_fit_series(fit_t *fits, int max_fits, const row_t *rows, long n_rows,
                     const char *const *keys, double omega_min, int tail, double expect);
/* Plain least squares slope/intercept of y against x (n >= 2). */
void omega_lsq(double *slope, double *intercept, const double *x, const double *y, int n);

/* v (finite, >= 0) rounded up to `decimals` decimals, as text: a required
 * Omega is never shown below what was derived. */
void omega_text_up(char *buf, size_t n, double v, int decimals);
/* Append printf-formatted text to a malloc'd string (*s may be NULL). */
void omega_strcat(char **s, size_t *len, const char *fmt, ...);

/* Omega from the row: a finite number >= 0 (enclosure).  -1 with a note. */
int omega_get(arb_t omega, row_t *r);

#endif

/* ---- the blog constructions' stream (extra token LAST, one-hot positions) ---- */
/* Xb ((n+1) x (w+n+1)): real row i = [x_i, 0_(w-d), p_i], the extra row
 * [0, p_n]; positions start at column w (w >= d = X->cols). */
void omega_blog_stream(imat_t Xb, const imat_t X, long w);
/* 1.1 >= sup |SiLU'| = 1.0998...: SiLU is 1.1-Lipschitz. */
#define OMEGA_SILU_LIP "1.1"
/* Start precision for a blog row: 64 + 2 Omega / ln 2 + 96 bits, so an
 * error near e^(-2 Omega) is resolved with ~100 bits to spare. */
mpfr_prec_t omega_blog_start_prec(const params_t *p);
/* The blog rows' shared parameters: omega and shape d x l x n (n >= 2). */
int omega_blog_params(row_t *r, arb_t omega, long *d, long *l, long *n);
/* Fits of ln hi(E) against omega for the blog claims (expected -2), over
 * omega >= 5, all resolved points. */
/* The position block every blog head's W_QK has (the head's columns start
 * at c0 of W, positions at row and column P): 2 Omega p_i^T p_n for every
 * i <= n and, unless no_self, 2 Omega p_i^T p_i for i < n (c2 = 2 Omega). */
void omega_blog_positions(imat_t W, long c0, long P, long n, const arb_t c2, int no_self);
/* The blog constructions' estimate_bytes: the instance, the stream of
 * width w = d + n + 1 (one layer) or d + l + n + 1 (three layers), the
 * reference and the bound's matrices, and the larger of the MLP's and the
 * stacked layers' working sets (l full-form heads; the three-layer
 * construction also holds one linear head of its own). */
double omega_blog_one_bytes(const params_t *p, mpfr_prec_t prec);
double omega_blog_three_bytes(const params_t *p, mpfr_prec_t prec);
int omega_blog_fit(fit_t *fits, int max_fits, const row_t *rows, long n_rows);
/* Summary for the blog claims: E at the largest omega and the fitted rate. */
char *omega_blog_summary(const row_t *rows, long n_rows);

/* The blog stream in words (exported networks' layout). */
#define BLOG_LAYOUT                                                                        \
    "blog stream: real token i is [x_i, 0, p_i], the extra token LAST is [0, 0, p_n] "       \
    "(positions one-hot); the extra token's row is the export's bias_row"
/* claim_t.export_instance of a blog claim, given its evaluator (which fills
 * the instance's network when out != NULL); note says what is exported. */
int omega_blog_export(instance_t *I, const params_t *p, unsigned long seed, mpfr_prec_t prec,
                      int (*evaluate)(row_t *r, instance_t *out), const char *note);

/* arb_init / arb_clear over NULL-terminated lists. */
void omega_ivals_init(arb_ptr x, ...);
void omega_ivals_clear(arb_ptr x, ...);
