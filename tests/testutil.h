/* Shared helpers for the Check suites. */
#ifndef ATTNCHECK_TESTUTIL_H
#define ATTNCHECK_TESTUTIL_H

#include <check.h>
#include "ball.h"

/* Each suite's constructor, Suite *suite_NAME(void) in tests/check_NAME.c. */
#define SUITE(name) Suite *suite_##name(void);
#include "suites.def"
#undef SUITE

/* Seed for this run: ATTNCHECK_SEED if set, else a fixed default.  Printed
 * by the runner so a failure can be replayed. */
unsigned long test_seed(void);
/* A random precision in [lo, hi] drawn from the test seed stream. */
mpfr_prec_t test_random_prec(gmp_randstate_t st, mpfr_prec_t lo, mpfr_prec_t hi);
/* x = the ball enclosing [lo, hi] (doubles; lo <= hi, or either infinite). */
void test_ball_interval_d(arb_t x, double lo, double hi);
/* 1 when ATTNCHECK_QUICK_TESTS is set (valgrind runs use smaller loops). */
int test_quick(void);
/* Test cases tagged TEST_SLOW_TAG run over the whole claim registry (minutes):
 * `make check` leaves them out, `make check-slow` (ATTNCHECK_SLOW_TESTS=1)
 * runs them alone, in the same runner. */
#define TEST_SLOW_TAG "slow"
/* Run the CLI (ATTNCHECK_BIN) with a shell argument string; returns the exit
 * code, stdout+stderr captured into out (size outsz). */
int test_run_cli(const char *args, char *out, size_t outsz);
/* The same with the argument string made by printf from fmt. */
int test_run_clif(char *out, size_t outsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A fresh private directory <run>/<prefix>-XXXXXX (its path in dir), and its
 * removal with everything in it.  <run> is the run's own directory,
 * $TMPDIR/attncheck-check-XXXXXX (TMPDIR unset: /tmp), which the runner
 * removes when the run ends: a test that fails, times out or crashes before
 * its teardown leaves nothing behind. */
void test_tmpdir_make(char *dir, size_t n, const char *prefix);
void test_tmpdir_remove(const char *dir);
/* Run the CLI with an argument vector (no shell: any byte reaches it as
 * is).  stdout and stderr go to files in dir (out.txt, err.txt) unless
 * stdout_path names another target (opened O_APPEND when append is set). */
typedef struct {
    const char *const *argv;   /* arguments after the binary, NULL-terminated */
    const char *dir;           /* where out.txt and err.txt are written */
    const char *stdout_path;   /* or NULL */
    int append;
    int stdout_closed;         /* standard output closed (>&-) */
    int stdout_no_reader;      /* standard output a pipe whose reader has left (| head),
                                  SIGPIPE at its default as a shell leaves it */
    const char *path_prefix;   /* put first on PATH (a fake gnuplot), or NULL */
    const char *path_only;     /* PATH replaced by this, or NULL */
    long fsize_limit;          /* RLIMIT_FSIZE in bytes (SIGXFSZ ignored), 0: none */
    int fsize_signal;          /* with fsize_limit: SIGXFSZ left at its default, as after
                                  a shell's ulimit -f */
    long as_limit;             /* RLIMIT_AS in bytes, 0: none */
    const char *asan_options;  /* ASAN_OPTIONS, or NULL */
} test_cli_t;
/* Start it; returns the pid. */
int test_cli_start(const test_cli_t *t);
/* Wait for it (at most `seconds`, then SIGKILL): the exit code, or 128 +
 * the signal that ended it; *maxrss_kb (may be NULL) its peak RSS. */
int test_cli_wait(int pid, double seconds, long *maxrss_kb);
/* Start and wait (120 s). */
int test_cli_run(const test_cli_t *t);
/* The contents of dir/name into buf (truncated, NUL-terminated); its length. */
size_t test_read_file(char *buf, size_t bufsz, const char *dir, const char *name);
/* A whole file, malloc'd and NUL-terminated, or NULL when it cannot be opened. */
char *test_read_whole(const char *path);
/* Lines in s that are not progress reports. */
int test_count_lines(const char *s);

#endif
