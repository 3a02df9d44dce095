/* The shell around the numbers, as a careless or hostile user meets it:
 * no shell is ever run, nothing that is not ours is destroyed, lost output
 * is an error, one run per output directory, bounded work, every value
 * checked where it enters, signals stop a run cleanly.  Every case checks
 * the exit code, exactly one line, nothing half-written, nothing of ours
 * left behind and nothing of anyone else's touched.  The binary runs from
 * an argument vector (no shell), with fake gnuplots first on PATH where a
 * case needs one.  No case names a file outside its own directory that a
 * broken binary could replace (device nodes are the test's own). */
#define _DEFAULT_SOURCE /* flock, lchown */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "testutil.h"

static char tmp[256];          /* this test's directory */
static char outdir[512];       /* tmp/r: must not exist after a refused run */
static char buf[1 << 16], err[1 << 16];

static void setup(void)
{
    test_tmpdir_make(tmp, sizeof tmp, "attncheck-hard");
    snprintf(outdir, sizeof outdir, "%s/r", tmp);
}

static void teardown(void) { test_tmpdir_remove(tmp); }

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static void path_in(char *p, size_t n, const char *dir, const char *name)
{
    snprintf(p, n, "%s/%s", dir, name);
}

/* Entries of dir whose name starts with prefix. */
static int count_prefixed(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d)) != NULL;)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    if (d)
        closedir(d);
    return n;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(chmod(path, mode), 0);
}

/* Run argv with stdout/stderr in tmp; err holds stderr. */
static int run(const char *const *argv)
{
    test_cli_t t = {.argv = argv, .dir = tmp};
    int rc = test_cli_run(&t);
    test_read_file(buf, sizeof buf, tmp, "out.txt");
    test_read_file(err, sizeof err, tmp, "err.txt");
    return rc;
}

/* One line "attncheck: ..." on stderr, nothing on stdout. */
static void assert_one_line(const char *what)
{
    ck_assert_msg(test_count_lines(err) == 1, "%s: %d lines on stderr: %s", what,
                  test_count_lines(err), err);
    ck_assert_msg(strncmp(err, "attncheck: ", 11) == 0, "%s: %s", what, err);
}

/* A two-row neuron-head grid: fast, and it draws one plot (a plot needs
 * two precisions: one abscissa is not drawn). */
#define TWO_ROWS "--set", "prec=53,64", "--set", "shape=2x3", "--set", "a=1", "--set", "seed=1"

/* ---- bad input: exit code, one line, nothing created ---- */

static char long_seeds[20000 * 6 + 8], long_as[20000 * 6 + 8];

static const char *fill_list(char *s, const char *name)
{
    int n = sprintf(s, "%s=", name);
    for (int k = 1; k <= 20000; k++)
        n += sprintf(s + n, k > 1 ? ",%d" : "%d", k);
    return s;
}

#define OUT "--out", "@OUT"
static const struct {
    int code;
    const char *argv[16];
} bad[] = {
    /* 6: every value checked where it enters */
    {64, {"verify", "neuron-head", "--set", "seed=abc", OUT, NULL}},
    {64, {"sweep", "neuron-head", "--set", "seed=-1", OUT, NULL}},
    {64, {"sweep", "neuron-head", "--set", "seed=99999999999999999999", OUT, NULL}},
    {64, {"sweep", "neuron-head", "--set", "seed= 1", OUT, NULL}},
    {64, {"verify", "neuron-head", "--seed", "+1", OUT, NULL}},
    {64, {"sweep", "neuron-head", "--set", "a=1\n2", OUT, NULL}},
    {64, {"sweep", "neuron-head", "--set", "a=1\x1b[2J", OUT, NULL}},
    {64, {"sweep", "neuron-head", "--set", "a=1|2", OUT, NULL}},
    {64, {"sweep", "neuron-head", "--set", "a=1'\"`", OUT, NULL}},
    {64, {"sweep", "neuron-head", "--set", "prec= 53", OUT, NULL}},
    {64, {"verify", "neuron-head", "--prec", "abc", OUT, NULL}},
    {64, {"activation", "--name", "gelu", "--prec", "abc", NULL}},
    {64, {"activation", "--name", "gelu", "--prec=abc", NULL}},
    {64, {"activation", "--name", "gelu", "--domain", "nan", NULL}},
    {64, {"activation", "--name", "gelu", "--target", "relu", "--claim", "abc", NULL}},
    {64, {"activation", "--name", "gelu", "--max-seconds", "0", NULL}},
    {64, {"activation", "--name", "gelu", "--max-seconds", "1e3", NULL}},
    {65, {"activation", "--expr", "x\n+1", "--target", "relu", NULL}},
    {65, {"activation", "--name", "relu", "--target", "x\r+1", NULL}},
    {64, {"verify", "neuron-head", "--max-rows", "0", OUT, NULL}},
    {64, {"verify", "neuron-head", "--max-rows", "-5", OUT, NULL}},
    {64, {"verify", "neuron-head", "--max-memory", "12Q", OUT, NULL}},
    {64, {"verify", "neuron-head", "--max-memory", "inf", OUT, NULL}},
    {64, {"verify", "neuron-head", "--plot-timeout", "-1", OUT, NULL}},
    {64, {"verify", "--mutate=no-such", OUT, NULL}},
    {64, {"verify", "inflation", "--mutate", OUT, NULL}},
    {64, {"verify", "neuron-head", "--out", "@OUT/a\nb", NULL}},
    {64, {"unknown\ncommand", NULL}},
    {64, {"exchange", OUT, NULL}},
    {64, {"exchange", "no-such.safetensors", "--prec", "abc", OUT, NULL}},
    {64, {"exchange", "no-such.safetensors", "--mutate", "no-such", OUT, NULL}},
    {64, {"exchange", "no-such.safetensors", "--input", "x.npy", "--tokens", "3", OUT, NULL}},
    {65, {"exchange", "no-such.safetensors", OUT, NULL}},
    /* 5: bounded work, refused before anything runs */
    {65, {"sweep", "neuron-head", "--set", "@SEEDS", "--set", "@AS", OUT, NULL}},
    {65, {"sweep", "mlp-layer", "--set", "shape=4096x4096x4096", "--set", "prec=4096", OUT, NULL}},
    {65, {"export", "mlp-layer", "--seed", "1", "--set", "shape=4096x4096x4096", "--set",
          "prec=4096", NULL}},
    {65, {"verify", "--full", "--max-rows", "100", OUT, NULL}},
    {65, {"verify", "neuron-head", "--max-memory", "1M", OUT, NULL}},
    /* 6: a run that fails with 65 removes every level it created */
    {65, {"sweep", "neuron-head", "--set", "a=-1", "--out", "@OUT/x/y/z", NULL}},
    /* 6: lengths checked before creating anything */
    {73, {"verify", "neuron-head", "--out", "@LONG", NULL}},
    {73, {"verify", "neuron-head", "--out", "@OUT/@NAME256", NULL}},
    /* 2: a directory target */
    {73, {"export", "mlp-layer", "--seed", "7", "--out", "@TMP", NULL}},
    {73, {"export", "mlp-layer", "--seed", "7", "--out", "@OUT/no/such/dir/i.json", NULL}},
};

START_TEST(test_bad_input)
{
    static char longpath[4400], name256[300], outsub[4600];
    char *p = longpath + sprintf(longpath, "%s/r", tmp);
    while (p - longpath < 4200)
        p += sprintf(p, "/%s", "dddddddddddddddddddd"); /* 21 bytes a level */
    memset(name256, 'n', 256);
    name256[256] = '\0';
    const char *argv[16];
    for (int k = 0; k < 16; k++) {
        const char *a = bad[_i].argv[k];
        if (!a) {
            argv[k] = NULL;
            break;
        }
        if (strcmp(a, "@OUT") == 0)
            a = outdir;
        else if (strcmp(a, "@TMP") == 0)
            a = tmp;
        else if (strcmp(a, "@LONG") == 0)
            a = longpath;
        else if (strcmp(a, "@SEEDS") == 0)
            a = fill_list(long_seeds, "seed");
        else if (strcmp(a, "@AS") == 0)
            a = fill_list(long_as, "a");
        else if (strncmp(a, "@OUT/", 5) == 0) {
            snprintf(outsub, sizeof outsub, "%s/%s", outdir,
                     strcmp(a + 5, "@NAME256") == 0 ? name256 : a + 5);
            a = outsub;
        }
        argv[k] = a;
    }
    int rc = run(argv);
    ck_assert_msg(rc == bad[_i].code, "case %d (%s %s %s) exited %d, expected %d: %s", _i,
                  argv[0], argv[1] ? argv[1] : "", argv[1] && argv[2] ? argv[2] : "", rc,
                  bad[_i].code, err);
    assert_one_line(argv[0]);
    ck_assert_msg(buf[0] == '\0', "case %d wrote to stdout: %s", _i, buf);
    ck_assert_msg(!exists(outdir), "case %d left %s behind", _i, outdir);
    ck_assert_int_eq(count_prefixed(tmp, ".attncheck"), 0);
}
END_TEST

/* The messages name the problem (and the estimate, for refused grids). */
START_TEST(test_messages)
{
    const char *a1[] = {"sweep", "neuron-head", "--set", "seed=-1", "--no-write", NULL};
    ck_assert_int_eq(run(a1), 64);
    ck_assert_ptr_nonnull(strstr(err, "seed '-1' is not an integer in [0, 18446744073709551615]"));
    const char *a2[] = {"sweep", "mlp-layer", "--set", "shape=4096x4096x4096", "--set", "prec=4096",
                        "--no-write", NULL};
    ck_assert_int_eq(run(a2), 65);
    ck_assert_ptr_nonnull(strstr(err, "estimated peak memory"));
    ck_assert_ptr_nonnull(strstr(err, "GiB is over --max-memory 4.0 GiB"));
    const char *a3[] = {"verify", "--mutate", "--no-write", "--max-rows", "1", NULL};
    ck_assert_int_eq(run(a3), 65);
    ck_assert_ptr_nonnull(strstr(err, "over --max-rows 1"));
    const char *a4[] = {"export", "mlp-layer", "--seed", "7", "--out", tmp, NULL};
    ck_assert_int_eq(run(a4), 73);
    ck_assert_ptr_nonnull(strstr(err, "is a directory"));
    const char *a5[] = {"verify", "neuron-head", "--out", "/proc/attncheck/x", NULL};
    ck_assert_int_eq(run(a5), 73);
    assert_one_line("unwritable --out");
    /* a long echoed path is cut in its middle: the reason stays (it was cut
     * at 1024 bytes, reason and all) */
    static char longout[2100];
    int n = snprintf(longout, sizeof longout, "/nonexistent/");
    memset(longout + n, 'a', 2000);
    snprintf(longout + n + 2000, sizeof longout - (size_t)n - 2000, "/x.json");
    const char *a6[] = {"export", "mlp-layer", "--seed", "7", "--out", longout, NULL};
    ck_assert_int_eq(run(a6), 73);
    assert_one_line("long path");
    ck_assert_msg(strlen(err) < 1100 && strstr(err, "/x.json': No such file or directory\n"), "%s",
                  err);
    /* a closed standard output is a lost write (74), not a target refused */
    const char *a7[] = {"export", "mlp-layer", "--seed", "7", NULL};
    test_cli_t t7 = {.argv = a7, .dir = tmp, .stdout_closed = 1};
    ck_assert_int_eq(test_cli_run(&t7), 74);
    test_read_file(err, sizeof err, tmp, "err.txt");
    assert_one_line("closed stdout");
}
END_TEST

/* --mutate with no claim: every claim that has mutations (the whole
 * registry: a slow test).  The bound claims' weakened bounds still hold on
 * some rows (not detected there): exit 3. */
START_TEST(test_mutate_without_claim)
{
    const char *argv[] = {"verify", "--mutate", "--no-write", NULL};
    ck_assert_int_eq(run(argv), 3);
    ck_assert_ptr_nonnull(strstr(buf, "not detected"));
    int reports = 0;
    for (const char *p = buf; (p = strstr(p, ".mutated-")) != NULL; p++)
        reports++;
    ck_assert_msg(reports >= 10, "only %d mutated claims ran: %s", reports, buf);
    ck_assert_ptr_null(strstr(buf, "inflation"));
    ck_assert_ptr_null(strstr(buf, " 0 violated"));
}
END_TEST

static int wait_for(const char *path);

/* ---- 1: no shell, ever ---- */

START_TEST(test_no_shell_in_paths)
{
    char out[2000], pwned[600], svg[2100];
    path_in(pwned, sizeof pwned, tmp, "PWNED");
    snprintf(out, sizeof out, "%s/x$(touch %s)'q\"`touch %s`", tmp, pwned, pwned);
    const char *argv[] = {"verify", "neuron-head", TWO_ROWS, "--out", out, NULL};
    ck_assert_msg(run(argv) == 0, "%s", err);
    ck_assert_msg(!exists(pwned), "a shell ran a command from the --out path");
    ck_assert_msg(test_count_lines(err) == 0, "stderr: %s", err); /* progress lines only */
    path_in(svg, sizeof svg, out, "neuron-head.svg");
    ck_assert_msg(exists(svg), "no plot in the quoted directory");
    ck_assert_int_eq(count_prefixed(out, ".attncheck"), 0);
}
END_TEST

/* A fake gnuplot: `body` is its shell script (the test's, not the product's). */
static void fake_gnuplot(const char *body)
{
    char dir[600], path[700];
    path_in(dir, sizeof dir, tmp, "bin");
    mkdir(dir, 0755);
    path_in(path, sizeof path, dir, "gnuplot");
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "#!/bin/sh\n%s\n", body);
    fclose(f);
    chmod(path, 0755);
}

static int run_with_fake(const char *const *argv)
{
    char dir[600];
    path_in(dir, sizeof dir, tmp, "bin");
    test_cli_t t = {.argv = argv, .dir = tmp, .path_prefix = dir};
    int rc = test_cli_run(&t);
    test_read_file(buf, sizeof buf, tmp, "out.txt");
    test_read_file(err, sizeof err, tmp, "err.txt");
    return rc;
}

/* Gone, or a zombie waiting for init: it runs no more. */
static int process_gone(long pid)
{
    char path[64], stat[256];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 1;
    size_t n = fread(stat, 1, sizeof stat - 1, f);
    fclose(f);
    stat[n] = '\0';
    const char *paren = strrchr(stat, ')');
    return paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

static long read_pid(const char *name)
{
    char text[64];
    test_read_file(text, sizeof text, tmp, name);
    return atol(text);
}

START_TEST(test_gnuplot_hangs)
{
    char pidfile[600], md[700], svg[700];
    path_in(pidfile, sizeof pidfile, tmp, "gnuplot.pid");
    char body[1400];
    snprintf(body, sizeof body, "echo $$ > '%s'\nexec sleep 1000", pidfile);
    fake_gnuplot(body);
    const char *argv[] = {"verify", "neuron-head", TWO_ROWS, "--plot-timeout", "0.5", "--out",
                          outdir, NULL};
    ck_assert_msg(run_with_fake(argv) == 0, "%s", err);
    ck_assert_msg(test_count_lines(err) == 1 && strstr(err, "did not finish within 0.5 s"),
                  "stderr: %s", err);
    long pid = read_pid("gnuplot.pid");
    ck_assert(pid > 0);
    ck_assert_msg(process_gone(pid), "the hanging gnuplot still runs");
    path_in(md, sizeof md, outdir, "neuron-head.md");
    path_in(svg, sizeof svg, outdir, "neuron-head.svg");
    ck_assert(exists(md));
    ck_assert(!exists(svg));
    ck_assert_int_eq(count_prefixed(outdir, ".attncheck"), 0);
}
END_TEST

START_TEST(test_gnuplot_truncated_svg)
{
    /* gnuplot on a full disk: exit 0 and half an SVG.  The fake reads the
     * name attncheck gives it (outfile='...') and writes a cut-off plot. */
    fake_gnuplot("name=$(printf '%s' \"$2\" | sed \"s/^outfile='\\(.*\\)'$/\\1/\")\n"
                 "printf '<?xml version=\"1.0\"?>\\n<svg width=\"860\">' > \"$name\"\n"
                 "head -c 4000 /dev/zero | tr '\\0' 'x' >> \"$name\"\nexit 0");
    char svg[700], md[700];
    mkdir(outdir, 0755);
    path_in(svg, sizeof svg, outdir, "neuron-head.svg");
    write_file(svg, "<svg>an old plot of other data</svg>\n", 0644);
    const char *argv[] = {"verify", "neuron-head", TWO_ROWS, "--out", outdir, NULL};
    ck_assert_msg(run_with_fake(argv) == 0, "%s", err);
    ck_assert_msg(test_count_lines(err) == 1 && strstr(err, "truncated"), "stderr: %s", err);
    ck_assert_msg(!exists(svg), "the old plot is still linked by name");
    path_in(md, sizeof md, outdir, "neuron-head.md");
    ck_assert(exists(md));
    ck_assert_int_eq(count_prefixed(outdir, ".attncheck"), 0);
}
END_TEST

START_TEST(test_gnuplot_missing)
{
    const char *argv[] = {"verify", "neuron-head", TWO_ROWS, "--out", outdir, NULL};
    test_cli_t t = {.argv = argv, .dir = tmp, .path_only = "/nonexistent"};
    ck_assert_int_eq(test_cli_run(&t), 0);
    test_read_file(err, sizeof err, tmp, "err.txt");
    ck_assert_msg(test_count_lines(err) == 1 && strstr(err, "gnuplot is not installed"), "%s", err);
}
END_TEST

/* Wait until path exists (a fake's sign that it runs); a safety net only. */
static int wait_for(const char *path)
{
    struct timespec step = {0, 10 * 1000 * 1000};
    for (int k = 0; k < 6000; k++) {
        if (exists(path))
            return 1;
        nanosleep(&step, NULL);
    }
    return 0;
}

START_TEST(test_sigint_while_plotting)
{
    char pidfile[600], body[2000], bindir[600];
    path_in(pidfile, sizeof pidfile, tmp, "gnuplot.pid");
    snprintf(body, sizeof body, "echo $$ > '%s.tmp'; mv '%s.tmp' '%s'\nexec sleep 1000", pidfile,
             pidfile, pidfile);
    fake_gnuplot(body);
    path_in(bindir, sizeof bindir, tmp, "bin");
    const char *argv[] = {"verify", "neuron-head", TWO_ROWS, "--out", outdir, NULL};
    test_cli_t t = {.argv = argv, .dir = tmp, .path_prefix = bindir};
    int pid = test_cli_start(&t);
    ck_assert_msg(wait_for(pidfile), "the fake gnuplot never started");
    long gp = read_pid("gnuplot.pid");
    ck_assert_int_eq(kill(pid, _i ? SIGTERM : SIGINT), 0);
    int rc = test_cli_wait(pid, 60, NULL);
    ck_assert_int_eq(rc, _i ? 143 : 130);
    test_read_file(err, sizeof err, tmp, "err.txt");
    ck_assert_msg(test_count_lines(err) == 1 && strstr(err, _i ? "SIGTERM" : "SIGINT"), "%s", err);
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/%ld", gp);
    ck_assert_msg(!exists(proc), "gnuplot outlived attncheck (killed and reaped before exit)");
    ck_assert_int_eq(count_prefixed(outdir, ".attncheck"), 0); /* temporaries and lock */
}
END_TEST

/* attncheck killed by SIGKILL (no handler runs): its gnuplot dies with it
 * instead of living on to write its temporary after the next run. */
START_TEST(test_sigkill_takes_gnuplot_along)
{
    char pidfile[600], body[2000], bindir[600];
    path_in(pidfile, sizeof pidfile, tmp, "gnuplot.pid");
    snprintf(body, sizeof body, "echo $$ > '%s.tmp'; mv '%s.tmp' '%s'\nexec sleep 1000", pidfile,
             pidfile, pidfile);
    fake_gnuplot(body);
    path_in(bindir, sizeof bindir, tmp, "bin");
    const char *argv[] = {"verify", "neuron-head", TWO_ROWS, "--out", outdir, NULL};
    test_cli_t t = {.argv = argv, .dir = tmp, .path_prefix = bindir};
    int pid = test_cli_start(&t);
    ck_assert_msg(wait_for(pidfile), "the fake gnuplot never started");
    long gp = read_pid("gnuplot.pid");
    ck_assert(gp > 0);
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    ck_assert_int_eq(test_cli_wait(pid, 60, NULL), 128 + SIGKILL);
    struct timespec step = {0, 10 * 1000 * 1000};
    for (int k = 0; k < 500 && !process_gone(gp); k++)
        nanosleep(&step, NULL);
    int gone = process_gone(gp);
    if (!gone)
        kill((pid_t)gp, SIGKILL); /* the test's own orphan: not left running */
    ck_assert_msg(gone, "gnuplot outlived attncheck's SIGKILL");
}
END_TEST

/* SIGINT and SIGHUP at random moments of the write phase (reports being
 * renamed into place, gnuplot running): every temporary is removed, even
 * one being created when the signal lands.  The moment is drawn from the
 * test seed; a leftover used to appear in about one trial in thirty. */
START_TEST(test_signals_in_the_write_phase)
{
    gmp_randstate_t rs;
    gmp_randinit_default(rs);
    gmp_randseed_ui(rs, test_seed() + 15);
    int trials = test_quick() ? 6 : 40;
    for (int k = 0; k < trials; k++) {
        char dir[600];
        snprintf(dir, sizeof dir, "%s/w%d", tmp, k);
        const char *argv[] = {"verify", "neuron-head", "mlp-layer", "--out", dir, NULL};
        test_cli_t t = {.argv = argv, .dir = tmp};
        int pid = test_cli_start(&t);
        /* the write phase starts with the first report's temporary */
        struct timespec step = {0, 1000 * 1000};
        for (int w = 0; w < 60000 && count_prefixed(dir, ".attncheck-tmp") == 0 &&
                        count_prefixed(dir, "neuron-head") == 0;
             w++)
            nanosleep(&step, NULL);
        struct timespec delay = {0, (long)gmp_urandomm_ui(rs, 120) * 1000 * 1000};
        nanosleep(&delay, NULL);
        int sig = k % 2 ? SIGHUP : SIGINT;
        kill(pid, sig);
        int rc = test_cli_wait(pid, 60, NULL);
        ck_assert_msg(rc == 0 || rc == 128 + sig, "trial %d: exit %d", k, rc);
        ck_assert_msg(count_prefixed(dir, ".attncheck") == 0,
                      "trial %d (signal %d after %ld ms, exit %d): a temporary or the lock is left",
                      k, sig, delay.tv_nsec / 1000000, rc);
    }
    gmp_randclear(rs);
}
END_TEST

START_TEST(test_sigterm_while_computing)
{
    /* a grid that computes for a while; the lock file says it has started */
    char lock[700];
    path_in(lock, sizeof lock, outdir, ".attncheck.lock");
    const char *argv[] = {"sweep", "mlp-layer", "--set", "shape=64x128x48", "--set", "prec=4096",
                          "--out", outdir, NULL};
    test_cli_t t = {.argv = argv, .dir = tmp};
    int pid = test_cli_start(&t);
    ck_assert_msg(wait_for(lock), "the run never took its lock");
    ck_assert_int_eq(kill(pid, SIGTERM), 0);
    ck_assert_int_eq(test_cli_wait(pid, 60, NULL), 143);
    test_read_file(err, sizeof err, tmp, "err.txt");
    ck_assert_msg(test_count_lines(err) == 1, "%s", err);
    ck_assert_msg(!exists(outdir), "the directory the run created is still there");
}
END_TEST

/* ---- 4: one run per output directory ---- */

START_TEST(test_lock_and_stale_temporaries)
{
    char lock[700], stale[700], live[700], mine[700], md[700];
    mkdir(outdir, 0755);
    path_in(lock, sizeof lock, outdir, ".attncheck.lock");
    int fd = open(lock, O_RDWR | O_CREAT, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
    const char *argv[] = {"verify", "neuron-head", TWO_ROWS, "--out", outdir, NULL};
    ck_assert_int_eq(run(argv), 75);
    assert_one_line("locked");
    ck_assert_ptr_nonnull(strstr(err, "in use by another attncheck run"));
    path_in(md, sizeof md, outdir, "neuron-head.md");
    ck_assert(!exists(md));
    ck_assert(exists(lock)); /* the holder's file is left alone */
    close(fd);
    unlink(lock);

    /* a killed run's temporary goes; a live run's and anything else stays */
    snprintf(stale, sizeof stale, "%s/.attncheck-tmp.999999999.neuron-head.md.AbCdEf", outdir);
    snprintf(live, sizeof live, "%s/.attncheck-tmp.%ld.neuron-head.md.AbCdEf", outdir,
             (long)getpid());
    path_in(mine, sizeof mine, outdir, "notes.txt");
    write_file(stale, "half", 0644);
    write_file(live, "half", 0644);
    write_file(mine, "the user's", 0644);
    ck_assert_msg(run(argv) == 0, "%s", err);
    ck_assert(!exists(stale));
    ck_assert(exists(live));
    ck_assert(exists(mine));
    ck_assert(exists(md));
    ck_assert(!exists(lock));
}
END_TEST

/* A character device of the test's own (1,3 is null, 1,7 is full), so that
 * a broken binary replaces a node in the test directory, never /dev's.
 * Without mknod, only a non-root run may use /dev's (it cannot replace
 * it); NULL: skip. */
static const char *private_device(char *path, size_t n, const char *name, unsigned minor)
{
    path_in(path, n, tmp, name);
    if (mknod(path, S_IFCHR | 0666, makedev(1, minor)) == 0)
        return path;
    if (geteuid() != 0)
        return minor == 3 ? "/dev/null" : "/dev/full";
    return NULL;
}

/* ---- 2: never destroy what is not ours ---- */

START_TEST(test_export_targets)
{
    char target[600], link[600], dangling[600], fifo[600], got[600];
    const char *exp[] = {"export", "neuron-head", "--seed", "7", "--set", "shape=2x3", "--out",
                         NULL, NULL};
    /* a symlink to a regular file: the file is updated, the link kept, its mode kept */
    path_in(target, sizeof target, tmp, "target.json");
    path_in(link, sizeof link, tmp, "link.json");
    write_file(target, "old", 0600);
    ck_assert_int_eq(symlink(target, link), 0);
    exp[7] = link;
    ck_assert_msg(run(exp) == 0, "%s", err);
    struct stat st;
    ck_assert_int_eq(lstat(link, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));
    ck_assert_int_eq(stat(target, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    test_read_file(buf, sizeof buf, tmp, "target.json");
    ck_assert_msg(strncmp(buf, "{\n \"claim\": \"neuron-head\"", 25) == 0, "%s", buf);
    ck_assert_int_eq(count_prefixed(tmp, ".attncheck"), 0);

    /* a dangling symlink: refused, nothing created */
    path_in(dangling, sizeof dangling, tmp, "dangling.json");
    ck_assert_int_eq(symlink("/nonexistent/attncheck-x.json", dangling), 0);
    exp[7] = dangling;
    ck_assert_int_eq(run(exp), 73);
    assert_one_line("dangling link");

    /* a character device: written through, never replaced */
    char devpath[600];
    const char *dev = private_device(devpath, sizeof devpath, "null", 3);
    struct stat before, after;
    if (dev) {
        ck_assert_int_eq(stat(dev, &before), 0);
        exp[7] = dev;
        ck_assert_msg(run(exp) == 0, "%s", err);
        ck_assert_int_eq(lstat(dev, &after), 0);
        ck_assert(S_ISCHR(after.st_mode) && after.st_rdev == before.st_rdev &&
                  after.st_ino == before.st_ino);
    }

    /* a FIFO: written through to its reader */
    path_in(fifo, sizeof fifo, tmp, "fifo");
    path_in(got, sizeof got, tmp, "got.json");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    /* the reader is there before attncheck opens the FIFO (a FIFO with no
     * reader is refused): opened without blocking, it polls, which waits
     * for data or for the writer's end, then reads */
    char ready[600];
    path_in(ready, sizeof ready, tmp, "reader.ready");
    pid_t reader = fork();
    if (reader == 0) {
        alarm(60); /* never outlive a failed test */
        int in = open(fifo, O_RDONLY | O_NONBLOCK), o = open(got, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        close(open(ready, O_WRONLY | O_CREAT, 0644));
        char b[4096];
        ssize_t n;
        struct pollfd p = {in, POLLIN, 0};
        while (poll(&p, 1, -1) > 0 && (n = read(in, b, sizeof b)) > 0)
            if (write(o, b, (size_t)n) != n)
                _exit(1);
        _exit(0);
    }
    ck_assert(wait_for(ready));
    exp[7] = fifo;
    ck_assert_msg(run(exp) == 0, "%s", err);
    int status;
    waitpid(reader, &status, 0);
    ck_assert_int_eq(lstat(fifo, &st), 0);
    ck_assert(S_ISFIFO(st.st_mode));
    test_read_file(buf, sizeof buf, tmp, "got.json");
    ck_assert_msg(strncmp(buf, "{\n \"claim\": \"neuron-head\"", 25) == 0, "%s", buf);

    /* "-", /dev/fd/1 and /dev/stdout write to the descriptor: an append
     * stays an append.  /dev/stdout only when not root: a broken binary run
     * as root would replace the system's link (/dev/fd/1 lies in /proc,
     * where nothing can be created). */
    const char *names[] = {"-", "/dev/fd/1", "/proc/self/fd/1", "/dev/stdout"};
    for (int k = 0; k < (geteuid() == 0 ? 3 : 4); k++) {
        path_in(got, sizeof got, tmp, "log.txt");
        write_file(got, "the user's log\n", 0644);
        exp[7] = names[k];
        test_cli_t t = {.argv = exp, .dir = tmp, .stdout_path = got, .append = 1};
        ck_assert_int_eq(test_cli_run(&t), 0);
        test_read_file(buf, sizeof buf, tmp, "log.txt");
        ck_assert_msg(strncmp(buf, "the user's log\n{\n \"claim\"", 25) == 0, "%s: %.80s", names[k], buf);
    }
}
END_TEST

/* The converted network is two files, FILE and FILE.json: a stream target
 * (a device, a FIFO) is refused before any work, and no FILE.json appears
 * beside it (as root, --out /dev/null made /dev/null.json). */
START_TEST(test_export_network_targets)
{
    char devpath[600], fifo[600], companion[700];
    const char *dev = private_device(devpath, sizeof devpath, "null", 3);
    path_in(fifo, sizeof fifo, tmp, "fifo");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0); /* no reader: opening it would block */
    const char *targets[] = {dev && strncmp(dev, tmp, strlen(tmp)) == 0 ? dev : NULL, fifo};
    for (int k = 0; k < 2; k++) {
        if (!targets[k])
            continue;
        const char *exp[] = {"export", "attention-only-encoded", "--seed", "1", "--format",
                             "safetensors", "--out", targets[k], NULL};
        ck_assert_int_eq(run(exp), 73);
        assert_one_line(targets[k]);
        ck_assert_msg(strstr(err, "two files"), "%s", err);
        snprintf(companion, sizeof companion, "%s.json", targets[k]);
        ck_assert_msg(!exists(companion), "%s created", companion);
        ck_assert_int_eq(count_prefixed(tmp, ".attncheck"), 0);
    }
}
END_TEST

/* A FIFO with no reader, in a report directory or as --out: refused at
 * once with 73, never waited on (the run used to hang holding the lock). */
START_TEST(test_fifo_without_reader)
{
    char fifo[700], lock[700];
    mkdir(outdir, 0755);
    path_in(fifo, sizeof fifo, outdir, "neuron-head.csv");
    path_in(lock, sizeof lock, outdir, ".attncheck.lock");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    const char *verify[] = {"verify", "neuron-head", TWO_ROWS, "--out", outdir, NULL};
    const char *exp[] = {"export", "neuron-head", "--seed", "7", "--out", fifo, NULL};
    const char *const *argvs[] = {verify, exp};
    for (int k = 0; k < 2; k++) {
        test_cli_t t = {.argv = argvs[k], .dir = tmp};
        int rc = test_cli_wait(test_cli_start(&t), 30, NULL);
        test_read_file(err, sizeof err, tmp, "err.txt");
        ck_assert_msg(rc == 73, "%s exited %d: %s", argvs[k][0], rc, err);
        assert_one_line(argvs[k][0]);
        ck_assert_msg(strstr(err, "is a FIFO with no reader"), "%s", err);
        struct stat st;
        ck_assert_int_eq(lstat(fifo, &st), 0);
        ck_assert(S_ISFIFO(st.st_mode));
        ck_assert(!exists(lock));
        ck_assert_int_eq(count_prefixed(outdir, ".attncheck"), 0);
    }
}
END_TEST

/* Another user's link in a directory we own is not followed. */
START_TEST(test_export_foreign_link)
{
    if (geteuid() != 0)
        return; /* needs a link owned by someone else: root only */
    char target[600], link[600];
    path_in(target, sizeof target, tmp, "precious");
    path_in(link, sizeof link, tmp, "out.json");
    write_file(target, "keep me", 0644);
    ck_assert_int_eq(symlink(target, link), 0);
    ck_assert_int_eq(lchown(link, 65534, 65534), 0);
    const char *exp[] = {"export", "neuron-head", "--seed", "7", "--out", link, NULL};
    ck_assert_int_eq(run(exp), 73);
    assert_one_line("foreign link");
    ck_assert_ptr_nonnull(strstr(err, "owned by another user"));
    test_read_file(buf, sizeof buf, tmp, "precious");
    ck_assert_str_eq(buf, "keep me");
}
END_TEST

/* ---- 3: lost output is an error ---- */

static const struct {
    const char *argv[12];
} to_full[] = {
    {{"list", NULL}},
    {{"list", "--format", "md", NULL}},
    {{"export", "mlp-layer", "--seed", "7", NULL}},
    {{"export", "mlp-layer", "--seed", "7", "--out", "/dev/fd/1", NULL}},
    {{"activation", "--name", "relu", "--target", "silu", NULL}},
    {{"verify", "neuron-head", TWO_ROWS, "--no-write", NULL}},
    {{"--help", NULL}},
};

START_TEST(test_stdout_full)
{
    char devpath[600];
    const char *dev = private_device(devpath, sizeof devpath, "full", 7);
    if (!dev)
        return;
    test_cli_t t = {.argv = to_full[_i].argv, .dir = tmp, .stdout_path = dev};
    int rc = test_cli_run(&t);
    test_read_file(err, sizeof err, tmp, "err.txt");
    ck_assert_msg(rc == 74, "%s exited %d: %s", to_full[_i].argv[0], rc, err);
    assert_one_line("stdout full");
    ck_assert_ptr_nonnull(strstr(err, "cannot write "));
    ck_assert_ptr_nonnull(strstr(err, ": No space left on device"));
}
END_TEST

/* A reader that leaves (attncheck list | head -c 10): every verb that
 * writes to standard output ends with 74 and no line (not killed by
 * SIGPIPE, 141), and a run's report files are written whole. */
START_TEST(test_stdout_reader_gone)
{
    const char *verify[] = {"verify", "neuron-head", TWO_ROWS, "--out", outdir, NULL};
    for (int k = 0; k <= (int)(sizeof to_full / sizeof to_full[0]); k++) {
        const char *const *argv = k < (int)(sizeof to_full / sizeof to_full[0]) ? to_full[k].argv
                                                                                : verify;
        test_cli_t t = {.argv = argv, .dir = tmp, .stdout_no_reader = 1};
        int rc = test_cli_run(&t);
        test_read_file(err, sizeof err, tmp, "err.txt");
        ck_assert_msg(rc == 74, "%s %s exited %d: %s", argv[0], argv[1] ? argv[1] : "", rc, err);
        ck_assert_msg(test_count_lines(err) == 0, "%s: %s", argv[0], err);
    }
    char md[700];
    path_in(md, sizeof md, outdir, "neuron-head.md");
    ck_assert(exists(md));
    ck_assert_int_eq(count_prefixed(outdir, ".attncheck-tmp"), 0);
}
END_TEST

/* Threads beyond the work do not multiply the memory estimate: each
 * per-thread term counts at most the tasks of its par_for, so --threads
 * 1000 gives the exit, summary and reports of --threads 2 (it gave 65, an
 * estimate of 4.5 GiB). */
START_TEST(test_threads_beyond_the_work)
{
    char dirs[2][600], outs[2][1 << 12], cmd[1400];
    const char *threads[2] = {"2", "1000"};
    int rc[2];
    for (int k = 0; k < 2; k++) {
        snprintf(dirs[k], sizeof dirs[k], "%s/t%s", tmp, threads[k]);
        const char *argv[] = {"verify", "mask-encoding", "--threads", threads[k], "--out", dirs[k],
                              NULL};
        test_cli_t t = {.argv = argv, .dir = tmp};
        rc[k] = test_cli_run(&t);
        test_read_file(err, sizeof err, tmp, "err.txt");
        test_read_file(outs[k], sizeof outs[k], tmp, "out.txt");
        ck_assert_msg(rc[k] == 0, "--threads %s exited %d: %s", threads[k], rc[k], err);
        char *w = strstr(outs[k], "reports written to "); /* names its directory */
        ck_assert_ptr_nonnull(w);
        *w = '\0';
    }
    ck_assert_str_eq(outs[0], outs[1]);
    snprintf(cmd, sizeof cmd, "diff -r -x run.log '%s' '%s' >/dev/null", dirs[0], dirs[1]);
    ck_assert_msg(system(cmd) == 0, "--threads 1000 wrote other reports than --threads 2");
}
END_TEST

START_TEST(test_export_to_full_device)
{
    char devpath[600];
    const char *dev = private_device(devpath, sizeof devpath, "full", 7);
    if (!dev)
        return;
    const char *exp[] = {"export", "mlp-layer", "--seed", "7", "--out", dev, NULL};
    ck_assert_int_eq(run(exp), 74);
    assert_one_line("export to a full device");
    ck_assert_ptr_nonnull(strstr(err, "No space left on device"));
    struct stat st;
    ck_assert_int_eq(lstat(dev, &st), 0);
    ck_assert(S_ISCHR(st.st_mode));
}
END_TEST

START_TEST(test_report_disk_full)
{
    /* the file size limit stands in for a full disk: writes fail with EFBIG
     * (gnuplot's too); the old report stays whole */
    char md[700];
    mkdir(outdir, 0755);
    path_in(md, sizeof md, outdir, "neuron-head.md");
    write_file(md, "the previous report\n", 0644);
    const char *argv[] = {"verify", "neuron-head", "--out", outdir, NULL};
    test_cli_t t = {.argv = argv, .dir = tmp, .fsize_limit = 8192};
    int rc = test_cli_run(&t);
    test_read_file(err, sizeof err, tmp, "err.txt");
    ck_assert_msg(rc == 74, "exit %d: %s", rc, err);
    ck_assert_ptr_nonnull(strstr(err, "attncheck: cannot write"));
    test_read_file(buf, sizeof buf, outdir, "neuron-head.md");
    ck_assert_str_eq(buf, "the previous report\n");
    ck_assert_int_eq(count_prefixed(outdir, ".attncheck"), 0);
}
END_TEST

/* A disk that fills: a 64 KiB tmpfs (as root; skipped with a message where
 * mounting is refused).  74 naming ENOSPC, not "Input/output error", and
 * no temporaries left.  The mount is gone before any assertion. */
START_TEST(test_report_tmpfs_full)
{
    char mnt[600], out[700];
    path_in(mnt, sizeof mnt, tmp, "small");
    ck_assert_int_eq(mkdir(mnt, 0755), 0);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=64k") != 0) {
        fprintf(stderr, "test_report_tmpfs_full: skipped: cannot mount a tmpfs here (%s)\n",
                strerror(errno));
        return;
    }
    path_in(out, sizeof out, mnt, "r");
    const char *argv[] = {"verify", "neuron-head", "mlp-layer", "--out", out, NULL};
    test_cli_t t = {.argv = argv, .dir = tmp};
    int rc = test_cli_run(&t);
    int left = count_prefixed(out, ".attncheck-tmp");
    int unmounted = umount2(mnt, MNT_DETACH);
    test_read_file(err, sizeof err, tmp, "err.txt");
    ck_assert_int_eq(unmounted, 0);
    ck_assert_msg(rc == 74, "exit %d: %s", rc, err);
    ck_assert_ptr_nonnull(strstr(err, "attncheck: cannot write"));
    ck_assert_ptr_nonnull(strstr(err, ": No space left on device"));
    ck_assert_ptr_null(strstr(err, "Input/output error"));
    ck_assert_int_eq(left, 0);
}
END_TEST

/* ulimit -f in a shell leaves SIGXFSZ at its default, which kills: a run
 * past the limit must instead end with 74, one line naming the reason,
 * and no temporaries or lock left. */
static const struct {
    const char *argv[12];
} past_fsize[] = {
    {{"verify", "mlp-layer", "neuron-head", "--out", "@OUT", NULL}},
    {{"export", "attention-only-encoded", "--seed", "1", "--format", "safetensors", "--out",
      "@OUT/n.safetensors", NULL}},
    {{"model", "models/ppocrv4-svtr.safetensors", "--input", "models/ppocrv4-svtr-input.npy",
      "--out", "@OUT", NULL}},
};

START_TEST(test_file_size_limit_signal)
{
    const char *argv[12];
    char sub[700];
    for (int k = 0; k < 12; k++) {
        const char *a = past_fsize[_i].argv[k];
        if (a && strcmp(a, "@OUT") == 0)
            a = outdir;
        else if (a && strncmp(a, "@OUT/", 5) == 0) {
            path_in(sub, sizeof sub, outdir, a + 5);
            a = sub;
        }
        argv[k] = a;
        if (!a)
            break;
    }
    if (strcmp(argv[0], "model") == 0 && access(argv[1], R_OK) != 0)
        return; /* the fixture is made by make models */
    mkdir(outdir, 0755); /* kept on failure: its contents are checked */
    test_cli_t t = {.argv = argv, .dir = tmp, .fsize_limit = 16 * 1024, .fsize_signal = 1};
    int rc = test_cli_run(&t);
    test_read_file(err, sizeof err, tmp, "err.txt");
    ck_assert_msg(rc == 74, "%s exited %d: %s", argv[0], rc, err);
    const char *last = strstr(err, "cannot write");
    ck_assert_msg(last && strstr(last, ": File too large"), "%s", err);
    ck_assert_int_eq(count_prefixed(outdir, ".attncheck"), 0);
}
END_TEST

/* The model file cut short while it is read (it is mapped): one line and
 * 65, not a death by SIGBUS; the run's directory and temporaries gone. */
START_TEST(test_model_truncated_while_read)
{
    const char *fixture = "models/ppocrv4-svtr.safetensors";
    if (access(fixture, R_OK) != 0)
        return;
    char model[600], cmd_err[700];
    path_in(model, sizeof model, tmp, "m.safetensors");
    FILE *in = fopen(fixture, "rb"), *out = fopen(model, "wb");
    ck_assert(in && out);
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
    fclose(in);
    ck_assert_int_eq(fclose(out), 0);
    const char *argv[] = {"model", model, "--input", "models/ppocrv4-svtr-input.npy", "--out",
                          outdir, NULL};
    test_cli_t t = {.argv = argv, .dir = tmp};
    int pid = test_cli_start(&t);
    /* its first line names the blocks and tokens: the rows read the tensors from then on */
    path_in(cmd_err, sizeof cmd_err, tmp, "err.txt");
    struct timespec step = {0, 5 * 1000 * 1000};
    for (int k = 0; k < 6000; k++) {
        test_read_file(err, sizeof err, tmp, "err.txt");
        if (strstr(err, " blocks, "))
            break;
        nanosleep(&step, NULL);
    }
    ck_assert_int_eq(truncate(model, 4096), 0);
    int rc = test_cli_wait(pid, 120, NULL);
    test_read_file(err, sizeof err, tmp, "err.txt");
    ck_assert_msg(rc == 65, "exit %d: %s", rc, err);
    ck_assert_msg(strstr(err, "m.safetensors: the file shrank while it was read"), "%s", err);
    ck_assert_msg(!exists(outdir), "the run left its directory");
    ck_assert_int_eq(count_prefixed(tmp, ".attncheck"), 0);
}
END_TEST

/* ---- 5: bounded work ---- */

START_TEST(test_out_of_memory)
{
    /* over a memory limit the run ends with one line and 70, not a crash;
     * under ASan the allocator returns NULL for large requests instead
     * (W_in alone, 4096 x 4096 balls, is above the 512 MiB limit) */
    const char *argv[] = {"sweep", "mlp-layer", "--set", "shape=4096x4096x64", "--set",
                          "prec=4096", "--set", "a=1", "--set", "seed=1", "--max-memory", "1T",
                          "--out", outdir, NULL};
#if defined(__SANITIZE_ADDRESS__)
    /* ASan's own warning about the refused request goes to its log file */
    char opts[700];
    snprintf(opts, sizeof opts, "allocator_may_return_null=1:max_allocation_size_mb=16:"
             "log_path=%s/asan", tmp);
    test_cli_t t = {.argv = argv, .dir = tmp, .asan_options = opts};
#else
    test_cli_t t = {.argv = argv, .dir = tmp, .as_limit = 512L << 20};
#endif
    int rc = test_cli_run(&t);
    test_read_file(err, sizeof err, tmp, "err.txt");
    ck_assert_msg(rc == 70, "exit %d: %s", rc, err);
    ck_assert_msg(test_count_lines(err) == 1 && strstr(err, "attncheck: out of memory"), "%s", err);
    ck_assert_msg(!exists(outdir), "the run left its directory");
}
END_TEST

START_TEST(test_estimate_is_above_the_peak)
{
#if defined(__SANITIZE_ADDRESS__)
    return; /* ASan's shadow memory is not the program's */
#endif
    if (test_quick())
        return; /* valgrind runs: a forked child's peak counts the parent's
                   image before exec, and here the parent is valgrind's */
    const char *est[] = {"sweep", "mlp-layer", "--set", "shape=64x256x64", "--set", "prec=1024",
                         "--set", "a=1", "--set", "seed=1", "--no-write", "--max-memory", "20M",
                         NULL};
    ck_assert_int_eq(run(est), 65);
    const char *p = strstr(err, "estimated peak memory ");
    ck_assert_ptr_nonnull(p);
    double mib = atof(p + 22);
    ck_assert_ptr_nonnull(strstr(p, " MiB is over"));
    est[12] = "1T";
    test_cli_t t = {.argv = est, .dir = tmp};
    long rss_kb = 0;
    ck_assert_int_eq(test_cli_wait(test_cli_start(&t), 300, &rss_kb), 0);
    ck_assert_msg(rss_kb > 0 && (double)rss_kb / 1024 <= mib,
                  "peak RSS %.1f MiB above the estimate %.1f MiB", (double)rss_kb / 1024, mib);
}
END_TEST

START_TEST(test_activation_time_limit)
{
    /* tanh against 2 sigmoid(2x) - 1 is 0: a floor of 1e-300 is far below
     * what 128 bits resolve, so it never converges, and stops at the limit
     * as inconclusive */
    const char *argv[] = {"activation", "--name", "tanh", "--target", "2*sigmoid(2*x)-1",
                          "--floor", "1e-300", "--max-seconds", "1", NULL};
    ck_assert_int_eq(run(argv), 2);
    assert_one_line("time limit");
    ck_assert_ptr_nonnull(strstr(err, "time limit of 1 s reached"));
}
END_TEST

START_TEST(test_help_documents_the_rules)
{
    const char *v[] = {"verify", "--help", NULL};
    ck_assert_int_eq(run(v), 0);
    ck_assert_ptr_nonnull(strstr(buf, "--max-memory"));
    ck_assert_ptr_nonnull(strstr(buf, "75 output directory in use"));
    ck_assert_ptr_nonnull(strstr(buf, "64 usage"));
    const char *a[] = {"activation", "--help", NULL};
    ck_assert_int_eq(run(a), 0);
    ck_assert_ptr_nonnull(strstr(buf, "--max-seconds"));
}
END_TEST

Suite *suite_hardening(void)
{
    Suite *s = suite_create("hardening");
    TCase *tc = tcase_create("hardening");
    tcase_set_timeout(tc, 300);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_bad_input, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, test_messages);
    tcase_add_test(tc, test_no_shell_in_paths);
    tcase_add_test(tc, test_gnuplot_hangs);
    tcase_add_test(tc, test_gnuplot_truncated_svg);
    tcase_add_test(tc, test_gnuplot_missing);
    tcase_add_loop_test(tc, test_sigint_while_plotting, 0, 2);
    tcase_add_test(tc, test_sigterm_while_computing);
    tcase_add_test(tc, test_sigkill_takes_gnuplot_along);
    tcase_add_test(tc, test_signals_in_the_write_phase);
    tcase_add_test(tc, test_lock_and_stale_temporaries);
    tcase_add_test(tc, test_export_targets);
    tcase_add_test(tc, test_export_network_targets);
    tcase_add_test(tc, test_fifo_without_reader);
    tcase_add_test(tc, test_export_foreign_link);
    tcase_add_loop_test(tc, test_stdout_full, 0, (int)(sizeof to_full / sizeof to_full[0]));
    tcase_add_test(tc, test_stdout_reader_gone);
    tcase_add_test(tc, test_threads_beyond_the_work);
    tcase_add_test(tc, test_export_to_full_device);
    tcase_add_test(tc, test_report_disk_full);
    tcase_add_test(tc, test_report_tmpfs_full);
    tcase_add_loop_test(tc, test_file_size_limit_signal, 0,
                        (int)(sizeof past_fsize / sizeof past_fsize[0]));
    tcase_add_test(tc, test_model_truncated_while_read);
    tcase_add_test(tc, test_out_of_memory);
    tcase_add_test(tc, test_estimate_is_above_the_peak);
    tcase_add_test(tc, test_activation_time_limit);
    tcase_add_test(tc, test_help_documents_the_rules);
    suite_add_tcase(s, tc);
    /* every claim's mutations: make check-slow */
    TCase *slow = tcase_create("hardening-slow");
    tcase_set_tags(slow, TEST_SLOW_TAG);
    tcase_set_timeout(slow, 600);
    tcase_add_checked_fixture(slow, setup, teardown);
    tcase_add_test(slow, test_mutate_without_claim);
    suite_add_tcase(s, slow);
    return s;
}
