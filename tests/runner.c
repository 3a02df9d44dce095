/* Collects every suite listed in tests/suites.def into one Check runner. */
#define _DEFAULT_SOURCE /* wait4 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <mpfr.h>
#include "testutil.h"
#include "imat.h"

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

int test_run_clif(char *out, size_t outsz, const char *fmt, ...)
{
    char args[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    return test_run_cli(args, out, outsz);
}

char *test_read_whole(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

/* This run's directory: every test's temporary directory is made in it, and
 * main removes it when the run ends, so a test that fails (Check ends it
 * before its teardown), times out or crashes leaves nothing behind. */
static char run_tmp[256];

void test_tmpdir_make(char *dir, size_t n, const char *prefix)
{
    ck_assert_msg(run_tmp[0] != '\0', "no run directory");
    ck_assert_int_lt(snprintf(dir, n, "%s/%s-XXXXXX", run_tmp, prefix), (int)n);
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

/* dir and everything below it (links are removed, never followed) */
static int tree_remove(const char *dir)
{
    return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT ? -1 : 0;
}

void test_tmpdir_remove(const char *dir)
{
    ck_assert_msg(tree_remove(dir) == 0, "cannot remove %s: %s", dir, strerror(errno));
}

static const char *cli_bin(void)
{
    const char *bin = getenv("ATTNCHECK_BIN");
    return bin ? bin : "./build/attncheck";
}

int test_cli_start(const test_cli_t *t)
{
    char out[1024], err[1024];
    snprintf(out, sizeof out, "%s/out.txt", t->dir);
    snprintf(err, sizeof err, "%s/err.txt", t->dir);
    const char *argv[256];
    int n = 0;
    argv[n++] = cli_bin();
    for (int k = 0; t->argv[k] && n < 255; k++)
        argv[n++] = t->argv[k];
    argv[n] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0)
        return (int)pid;
    /* the child: its own process group, so a signal test reaches only it */
    setpgid(0, 0);
    int o = t->stdout_path ? open(t->stdout_path, O_WRONLY | O_CREAT | (t->append ? O_APPEND : O_TRUNC), 0644)
                           : open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = open("/dev/null", O_RDONLY);
    if (o < 0 || e < 0 || in < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0 || dup2(in, 0) < 0)
        _exit(126);
    if (t->stdout_closed)
        close(1);
    if (t->stdout_no_reader) {
        int p[2];
        if (pipe(p) != 0 || close(p[0]) != 0 || dup2(p[1], 1) < 0)
            _exit(126);
        close(p[1]);
        signal(SIGPIPE, SIG_DFL);
    }
    if (t->path_only)
        setenv("PATH", t->path_only, 1);
    if (t->path_prefix) {
        char path[8192];
        snprintf(path, sizeof path, "%s:%s", t->path_prefix, getenv("PATH") ? getenv("PATH") : "");
        setenv("PATH", path, 1);
    }
    if (t->asan_options)
        setenv("ASAN_OPTIONS", t->asan_options, 1);
    if (t->fsize_limit) {
        struct rlimit r = {(rlim_t)t->fsize_limit, (rlim_t)t->fsize_limit};
        if (!t->fsize_signal) /* a write past the limit fails with EFBIG, as on a full disk */
            signal(SIGXFSZ, SIG_IGN);
        else
            signal(SIGXFSZ, SIG_DFL);
        setrlimit(RLIMIT_FSIZE, &r);
    }
    if (t->as_limit) {
        struct rlimit r = {(rlim_t)t->as_limit, (rlim_t)t->as_limit};
        setrlimit(RLIMIT_AS, &r);
    }
    execv(argv[0], (char *const *)argv);
    _exit(127);
}

int test_cli_wait(int pid, double seconds, long *maxrss_kb)
{
    int status = 0;
    struct rusage ru;
    struct timespec step = {0, 10 * 1000 * 1000};
    for (double waited = 0;; waited += 0.01) {
        pid_t r = wait4(pid, &status, WNOHANG, &ru);
        if (r == pid)
            break;
        if (waited > seconds) {
            kill(-pid, SIGKILL);
            wait4(pid, &status, 0, &ru);
            break;
        }
        nanosleep(&step, NULL);
    }
    if (maxrss_kb)
        *maxrss_kb = ru.ru_maxrss;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int test_cli_run(const test_cli_t *t)
{
    return test_cli_wait(test_cli_start(t), 120, NULL);
}

size_t test_read_file(char *buf, size_t bufsz, const char *dir, const char *name)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, bufsz - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    return n;
}

int test_count_lines(const char *s)
{
    int n = 0;
    for (const char *line = s; *line;) {
        const char *end = strchr(line, '\n');
        if (strncmp(line, "attncheck: progress: ", 21) != 0)
            n++;
        if (!end)
            break;
        line = end + 1;
    }
    return n;
}

int main(void)
{
    SRunner *sr = srunner_create(NULL);
#define SUITE(name) srunner_add_suite(sr, suite_##name());
#include "suites.def"
#undef SUITE
    const char *slow = getenv("ATTNCHECK_SLOW_TESTS");
    int slow_only = slow && *slow && strcmp(slow, "0") != 0;
    printf("attncheck tests: seed %lu (set ATTNCHECK_SEED to replay)%s\n", test_seed(),
           slow_only ? "; the whole-registry test cases only" : "");
    const char *tmp = getenv("TMPDIR");
    snprintf(run_tmp, sizeof run_tmp, "%s/attncheck-check-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(run_tmp)) {
        fprintf(stderr, "check: cannot make %s: %s\n", run_tmp, strerror(errno));
        return EXIT_FAILURE;
    }
    /* one run, one summary line: the slow test cases or all the others */
    srunner_run_tagged(sr, NULL, NULL, slow_only ? TEST_SLOW_TAG : NULL,
                       slow_only ? NULL : TEST_SLOW_TAG, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (tree_remove(run_tmp) != 0) {
        fprintf(stderr, "check: cannot remove %s: %s\n", run_tmp, strerror(errno));
        failed++;
    }
    mpfr_free_cache();
    flint_cleanup();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
