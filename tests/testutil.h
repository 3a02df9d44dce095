/* Shared helpers for the Check suites. */
#ifndef ATTNCHECK_TESTUTIL_H
#define ATTNCHECK_TESTUTIL_H

#include <check.h>
#include "ball.h"

/* Seed for this run: ATTNCHECK_SEED if set, else a fixed default.  Printed
 * by the runner so a failure can be replayed. */
unsigned long test_seed(void);
/* A random precision in [lo, hi] drawn from the test seed stream. */
mpfr_prec_t test_random_prec(gmp_randstate_t st, mpfr_prec_t lo, mpfr_prec_t hi);
/* x = the ball enclosing [lo, hi] (doubles; lo <= hi, or either infinite). */
void test_ball_interval_d(arb_t x, double lo, double hi);
/* 1 when ATTNCHECK_QUICK_TESTS is set (valgrind runs use smaller loops). */
int test_quick(void);
/* Run the CLI (ATTNCHECK_BIN) with a shell argument string; returns the exit
 * code, stdout+stderr captured into out (size outsz). */
int test_run_cli(const char *args, char *out, size_t outsz);

/* A fresh private directory /tmp/<prefix>-XXXXXX (its path in dir), and its
 * removal with everything in it. */
void test_tmpdir_make(char *dir, size_t n, const char *prefix);
void test_tmpdir_remove(const char *dir);

#endif
