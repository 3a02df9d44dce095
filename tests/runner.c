/* Collects every suite listed in tests/suites.def into one Check runner. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <mpfr.h>
#include "testutil.h"
#include "imat.h"

#define SUITE(name) Suite *suite_##name(void);
#include "suites.def"
#undef SUITE

unsigned long test_seed(void)
{
    const char *s = getenv("ATTNCHECK_SEED");
    return s && *s ? strtoul(s, NULL, 10) : 20230915UL;
}

mpfr_prec_t test_random_prec(gmp_randstate_t st, mpfr_prec_t lo, mpfr_prec_t hi)
{
    return lo + (mpfr_prec_t)gmp_urandomm_ui(st, (unsigned long)(hi - lo + 1));
}

void test_ball_interval_d(arb_t x, double lo, double hi)
{
    mpfr_t a, b;
    mpfr_inits2(53, a, b, (mpfr_ptr)0);
    mpfr_set_d(a, lo, MPFR_RNDN); /* exact: doubles */
    mpfr_set_d(b, hi, MPFR_RNDN);
    if (lo == hi) {
        arf_set_d(arb_midref(x), lo);
        mag_zero(arb_radref(x));
    } else if (mpfr_inf_p(a) || mpfr_inf_p(b)) {
        arb_zero_pm_inf(x);
    } else {
        ival_set_interval_fr(x, a, b, 64);
    }
    mpfr_clears(a, b, (mpfr_ptr)0);
}

int test_quick(void)
{
    const char *s = getenv("ATTNCHECK_QUICK_TESTS");
    return s && *s && strcmp(s, "0") != 0;
}

int test_run_cli(const char *args, char *out, size_t outsz)
{
    const char *bin = getenv("ATTNCHECK_BIN");
    char cmd[4096];
    if (!bin) bin = "./build/attncheck";
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", bin, args);
    FILE *f = popen(cmd, "r");
    if (!f) return -1;
    size_t n = fread(out, 1, outsz ? outsz - 1 : 0, f);
    if (outsz) out[n] = '\0';
    while (fgetc(f) != EOF) { /* drain */ }
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void test_tmpdir_make(char *dir, size_t n, const char *prefix)
{
    snprintf(dir, n, "/tmp/%s-XXXXXX", prefix);
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

void test_tmpdir_remove(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

int main(void)
{
    SRunner *sr = srunner_create(NULL);
#define SUITE(name) srunner_add_suite(sr, suite_##name());
#include "suites.def"
#undef SUITE
    printf("attncheck tests: seed %lu (set ATTNCHECK_SEED to replay)\n", test_seed());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    mpfr_free_cache();
    flint_cleanup();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
