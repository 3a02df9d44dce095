/* Instance export.  Point entries are written as exact decimals; enclosures
 * as a midpoint (40 digits) and a radius rounded up. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "exitcodes.h"
#include "export.h"
#include "report.h"
#include "xalloc.h"

char *fr_exact_decimal(const mpfr_t x)
{
    if (mpfr_zero_p(x))
        return xstrdup("0");
    mpz_t m;
    mpz_init(m);
    mpfr_exp_t e = mpfr_get_z_2exp(m, x); /* x = m 2^e exactly */
    unsigned long k = e < 0 ? (unsigned long)(-e) : 0;
    if (e >= 0) {
        mpz_mul_2exp(m, m, (mp_bitcnt_t)e);
    } else {
        /* m 2^e = m 5^k / 10^k: an integer with k decimals */
        mpz_t f;
        mpz_init(f);
        mpz_ui_pow_ui(f, 5, k);
        mpz_mul(m, m, f);
        mpz_clear(f);
    }
    int neg = mpz_sgn(m) < 0;
    mpz_abs(m, m);
    char *digits = xmalloc(mpz_sizeinbase(m, 10) + 2);
    mpz_get_str(digits, 10, m);
    mpz_clear(m);
    size_t nd = strlen(digits), intlen = nd > k ? nd - k : 0;
    char *s = xmalloc(nd + k + 4), *p = s;
    if (neg)
        *p++ = '-';
    if (intlen == 0)
        *p++ = '0';
    memcpy(p, digits, intlen);
    p += intlen;
    if (k > 0) {
        *p++ = '.';
        for (size_t z = nd; z < k; z++)
            *p++ = '0';
        strcpy(p, digits + intlen);
        /* trim trailing zeros of the fraction; m is not a multiple of 10 at the end anyway */
        size_t L = strlen(s);
        while (s[L - 1] == '0')
            s[--L] = '\0';
        if (s[L - 1] == '.')
            s[L - 1] = '\0';
    } else {
        *p = '\0';
    }
    free(digits);
    return s;
}

static void write_matrix(FILE *f, const imat_t A)
{
    int exact = imat_is_exact(A);
    mpfr_t mid, rad, r;
    mpfr_prec_t p = (A->rows > 0 && A->cols > 0) ? mpfi_get_prec(A->e) : 64;
    mpfr_inits2(p, mid, rad, r, (mpfr_ptr)0);
    mpfr_set_ui(rad, 0, MPFR_RNDU);
    fprintf(f, "{\"rows\":%ld,\"cols\":%ld,\"exact\":%s,\"values\":[", A->rows, A->cols,
            exact ? "true" : "false");
    for (long i = 0; i < A->rows; i++) {
        fputs(i ? ",\n  [" : "\n  [", f);
        for (long j = 0; j < A->cols; j++) {
            mpfi_srcptr x = imat_entry(A, i, j);
            char *s;
            if (exact) {
                s = fr_exact_decimal(&x->left);
                fprintf(f, "%s\"%s\"", j ? "," : "", s);
                free(s);
            } else {
                mpfi_mid(mid, x);
                /* radius: max(mid - lo, hi - mid), rounded up */
                mpfr_sub(r, &x->right, mid, MPFR_RNDU);
                mpfr_max(rad, rad, r, MPFR_RNDU);
                mpfr_sub(r, mid, &x->left, MPFR_RNDU);
                mpfr_max(rad, rad, r, MPFR_RNDU);
                s = fr_str(mid, 40, MPFR_RNDN);
                fprintf(f, "%s\"%s\"", j ? "," : "", s);
                mpfr_free_str(s);
            }
        }
        fputs("]", f);
    }
    fputs("]", f);
    if (!exact) {
        /* 40 printed digits add up to 10^-39 relative: reported with the radius. */
        char *s = fr_str(rad, 6, MPFR_RNDU);
        fprintf(f, ",\"radius\":\"%s\",\"digits\":40", s);
        mpfr_free_str(s);
    }
    fputs("}", f);
    mpfr_clears(mid, rad, r, (mpfr_ptr)0);
}

void export_write_json(FILE *f, const claim_t *c, const row_t *r, const instance_t *I)
{
    fprintf(f, "{\"claim\":\"%s\",\"source\":\"%s\",\"seed\":%lu,\"prec\":%ld,\"params\":{", c->id,
            c->source, r->seed, (long)r->prec);
    /* the grid's "prec" is not the working precision: the top-level "prec" is */
    for (int a = 0, first = 1; a < r->params.n; a++)
        if (strcmp(r->params.name[a], "prec") != 0) {
            fprintf(f, "%s\"%s\":\"%s\"", first ? "" : ",", r->params.name[a], r->params.value[a]);
            first = 0;
        }
    fprintf(f, "},\n\"note\":\"%s\",\n\"matrices\":{", I->note);
    for (int k = 0; k < I->n; k++) {
        fprintf(f, "%s\n\"%s\":", k ? "," : "", I->name[k]);
        write_matrix(f, I->mat[k]);
    }
    fputs("}}\n", f);
}

int export_claim_instance(const claim_t *c, const run_options_t *o, mpfr_prec_t prec,
                          const char *path)
{
    row_t *rows;
    long n = runner_expand(&rows, c, o);
    if (n <= 0) {
        free(rows);
        fprintf(stderr, "attncheck: export: claim '%s' has an empty grid\n", c->id);
        return EXIT_USAGE;
    }
    /* the target first: a refused path costs no computation */
    atomic_file_t a;
    if (atomic_open(&a, path ? path : "-") != 0) {
        runner_free_rows(rows, n);
        return cli_fail(EXIT_CANTCREAT, "cannot write to '%s': %s",
                        path ? path : "standard output", a.why);
    }
    instance_t I;
    instance_init(&I);
    rows[0].prec = prec;
    int rc = c->export_instance(&I, &rows[0].params, rows[0].seed, prec);
    int status = 0;
    if (rc != 0) {
        atomic_abort(&a);
        status = cli_fail(EXIT_DATAERR, "export: %s: %s", c->id,
                          I.note[0] ? I.note : "invalid parameters");
    } else {
        export_write_json(a.f, c, &rows[0], &I);
        if (atomic_commit(&a) != 0)
            status = path ? cli_fail(EXIT_IOERR, "cannot write '%s': %s", path, a.why)
                          : cli_fail(EXIT_IOERR, "cannot write standard output: %s", a.why);
    }
    instance_clear(&I);
    rows[0].prec = 0; /* nothing was initialised in the row itself */
    runner_free_rows(rows, n);
    return status;
}
