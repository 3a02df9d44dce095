/* Output files and directories (outfile.h for the rules), the cleanup a
 * signal or a fatal error runs, and gnuplot by fork/exec with a time limit.
 * No shell is ever run: every path reaches the kernel as one argument. */
#define _GNU_SOURCE /* flock, realpath, fopencookie */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "exitcodes.h"
#include "outfile.h"

#ifndef NAME_MAX
#define NAME_MAX 255
#endif

/* ---- what a signal or a fatal error cleans up.  The handler may run on
 * any thread, so everything it reads is a lock-free atomic or a buffer
 * filled before the atomic that publishes it. ---- */

#define TEMP_SLOTS 64
static struct {
    atomic_int used;
    char path[OUTFILE_PATH_MAX];
} temps[TEMP_SLOTS];
static atomic_int plot_pgid;       /* running gnuplot's process group, or 0 */
static atomic_int lock_held;
static char lock_path[OUTFILE_PATH_MAX];
static atomic_int dirs_created;    /* levels of dir_path this run made */
static int dir_len[OUTFILE_PATH_MAX / 2]; /* their lengths, outermost first */
static char dir_path[OUTFILE_PATH_MAX];
static char dir_scratch[OUTFILE_PATH_MAX];
static atomic_int dying;
static atomic_int creating;        /* threads inside temp_create */
static mode_t new_file_mode = 0644;

static int temp_register(const char *path)
{
    for (int k = 0; k < TEMP_SLOTS; k++)
        if (!atomic_load(&temps[k].used)) {
            snprintf(temps[k].path, sizeof temps[k].path, "%s", path);
            atomic_store(&temps[k].used, 1);
            return k;
        }
    return -1; /* full: the temporary is not created (never with the few a run has open) */
}

static void temp_forget(int slot)
{
    if (slot >= 0)
        atomic_store(&temps[slot].used, 0);
}

int outfile_temp_register(const char *path)
{
    return temp_register(path);
}

void outfile_temp_forget(int slot)
{
    temp_forget(slot);
}

/* Only async-signal-safe calls from here to _exit.  dying is set: no
 * thread starts a temporary any more; one being created is waited for (at
 * most 2 s), so that its name is in the list when the list is read. */
static void cleanup_now(void)
{
    int pg = atomic_load(&plot_pgid);
    if (pg > 0) {
        kill(-pg, SIGKILL);
        waitpid(pg, NULL, 0); /* gone before we are */
    }
    struct timespec ms = {0, 1000 * 1000};
    for (int k = 0; k < 2000 && atomic_load(&creating) > 0; k++)
        nanosleep(&ms, NULL);
    for (int k = 0; k < TEMP_SLOTS; k++)
        if (atomic_load(&temps[k].used))
            unlink(temps[k].path);
    if (atomic_exchange(&lock_held, 0))
        unlink(lock_path);
    for (int k = atomic_exchange(&dirs_created, 0) - 1; k >= 0; k--) {
        memcpy(dir_scratch, dir_path, (size_t)dir_len[k]);
        dir_scratch[dir_len[k]] = '\0';
        rmdir(dir_scratch); /* fails harmlessly when not empty */
    }
}

static void say_raw(const char *a, const char *b)
{
    ssize_t ignored = write(2, a, strlen(a));
    ignored = write(2, b, strlen(b));
    ignored = write(2, "\n", 1);
    (void)ignored;
}

_Noreturn void outfile_die(int code, const char *msg)
{
    if (atomic_exchange(&dying, 1))
        for (;;)
            pause(); /* another thread is already cleaning up and exiting */
    cleanup_now();
    say_raw("attncheck: ", msg);
    _exit(code);
}

static void on_signal(int sig)
{
    if (atomic_exchange(&dying, 1))
        for (;;)
            pause();
    cleanup_now();
    say_raw("attncheck: ", sig == SIGINT ? "interrupted (SIGINT); temporary files removed"
                         : sig == SIGTERM ? "terminated (SIGTERM); temporary files removed"
                                          : "hung up (SIGHUP); temporary files removed");
    _exit(EXIT_SIGNAL_BASE + sig);
}

void outfile_init(void)
{
    mode_t mask = umask(0);
    umask(mask);
    new_file_mode = 0666 & ~mask;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (int k = 0; k < 3; k++)
        sigaddset(&sa.sa_mask, sigs[k]);
    for (int k = 0; k < 3; k++)
        if (sigaction(sigs[k], NULL, &old) == 0 && old.sa_handler != SIG_IGN) /* nohup stays */
            sigaction(sigs[k], &sa, NULL);
    /* past the file size limit a write fails with EFBIG, reported as a lost
     * write (74) with the temporaries removed, instead of a silent death */
    signal(SIGXFSZ, SIG_IGN);
    /* a reader that leaves (list | head) makes a write fail with EPIPE, not
     * kill the run halfway through its files: each writer sees the error */
    signal(SIGPIPE, SIG_IGN);
}

/* ---- one output file ---- */

enum { OUT_RENAME = 1, OUT_THROUGH, OUT_STDOUT, OUT_FD };

/* The stream over an output descriptor keeps the first write error: stdio
 * only remembers that one happened, so a full disk used to be reported as
 * "Input/output error". */
typedef struct {
    int fd;
    int first_errno;
} out_cookie_t;

static ssize_t cookie_write(void *c, const char *buf, size_t size)
{
    out_cookie_t *k = c;
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(k->fd, buf + done, size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (!k->first_errno)
                k->first_errno = n < 0 ? errno : EIO;
            errno = k->first_errno;
            return 0; /* fewer than size: the stream's error flag is set */
        }
        done += (size_t)n;
    }
    return (ssize_t)done;
}

static int cookie_close(void *c)
{
    out_cookie_t *k = c;
    int rc = close(k->fd);
    int e = errno;
    free(k);
    errno = e;
    return rc;
}

/* a->f = a write stream on fd that owns it; NULL (fd left open) when out
 * of memory. */
static FILE *out_stream(atomic_file_t *a, int fd)
{
    out_cookie_t *k = malloc(sizeof *k);
    if (!k)
        return NULL;
    k->fd = fd;
    k->first_errno = 0;
    cookie_io_functions_t io = {NULL, cookie_write, NULL, cookie_close};
    a->f = fopencookie(k, "w", io);
    a->cookie = a->f ? k : NULL;
    if (!a->f)
        free(k);
    return a->f;
}

/* The first write error of a stream made by out_stream, or 0. */
static int out_stream_errno(const atomic_file_t *a)
{
    return a->mode != OUT_STDOUT && a->cookie ? ((const out_cookie_t *)a->cookie)->first_errno : 0;
}

static void dir_of(char *dir, size_t n, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, n, ".");
    else if (slash == path)
        snprintf(dir, n, "/");
    else
        snprintf(dir, n, "%.*s", (int)(slash - path), path);
}

static const char *base_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* "-", /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N: descriptor N;
 * otherwise -1. */
static int fd_alias(const char *path)
{
    if (strcmp(path, "-") == 0 || strcmp(path, "/dev/stdout") == 0)
        return 1;
    if (strcmp(path, "/dev/stderr") == 0)
        return 2;
    const char *num = strncmp(path, "/dev/fd/", 8) == 0 ? path + 8
                    : strncmp(path, "/proc/self/fd/", 14) == 0 ? path + 14 : NULL;
    if (!num || !*num || strlen(num) > 7)
        return -1;
    int fd = 0;
    for (; *num; num++) {
        if (*num < '0' || *num > '9')
            return -1;
        fd = fd * 10 + (*num - '0');
    }
    return fd;
}

/* A link is followed when its owner is the caller or the owner of the
 * directory that holds it (the kernel's protected_symlinks rule): a link
 * planted by another user in a shared directory is refused. */
static int link_trusted(const char *path, const struct stat *lst)
{
    if (lst->st_uid == geteuid())
        return 1;
    char dir[OUTFILE_PATH_MAX];
    struct stat ds;
    dir_of(dir, sizeof dir, path);
    return stat(dir, &ds) == 0 && ds.st_uid == lst->st_uid;
}

static int refuse(atomic_file_t *a, int err, const char *why)
{
    snprintf(a->why, sizeof a->why, "%s", why);
    errno = err;
    return -1;
}

static int temp_open_registered(char *tmp, int len, int *slot);

/* Block SIGINT, SIGTERM and SIGHUP on this thread (the signals that stop a
 * run), saving the old mask in old for pthread_sigmask(SIG_SETMASK, old). */
static void block_stop_signals(sigset_t *old)
{
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, old);
}

/* A unique temporary beside target: .attncheck-tmp.<pid>.<name>.XXXXXX,
 * registered for cleanup.  Returns its descriptor or -1 (errno set). */
static int temp_create(char *tmp, size_t n, int *slot, const char *target)
{
    char dir[OUTFILE_PATH_MAX];
    dir_of(dir, sizeof dir, target);
    int len = snprintf(tmp, n, "%s/%s%ld.%.64s.XXXXXX", dir, OUTFILE_TMP_PREFIX, (long)getpid(),
                       base_of(target));
    if (len < 0 || (size_t)len >= n) {
        errno = ENAMETOOLONG;
        return -1;
    }
    /* the name is registered before the file exists (mkstemp would create
     * it first), and no signal handler runs on this thread meanwhile: a
     * cleanup on another thread waits for us (creating), or we see it has
     * begun (dying) and create nothing */
    sigset_t old;
    block_stop_signals(&old);
    atomic_fetch_add(&creating, 1);
    if (atomic_load(&dying)) {
        atomic_fetch_sub(&creating, 1);
        for (;;)
            pause(); /* the thread cleaning up ends the process */
    }
    int fd = temp_open_registered(tmp, len, slot);
    int e = errno;
    atomic_fetch_sub(&creating, 1);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return fd;
}

/* Draw the six-character suffix of tmp (length len), register the name,
 * then create it exclusively; retried on a clash. */
static int temp_open_registered(char *tmp, int len, int *slot)
{
    char *x = tmp + len - 6;
    static const char digits[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    static atomic_uint counter;
    for (int tries = 0; tries < 100; tries++) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        uint64_t r = (uint64_t)t.tv_nsec * 0x9E3779B97F4A7C15u ^ (uint64_t)t.tv_sec ^
                     (uint64_t)atomic_fetch_add(&counter, 1) << 40;
        for (int k = 0; k < 6; k++, r /= 62)
            x[k] = digits[r % 62];
        *slot = temp_register(tmp);
        if (*slot < 0) {
            errno = EMFILE;
            return -1;
        }
        int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0)
            return fd;
        int e = errno;
        temp_forget(*slot);
        *slot = -1;
        errno = e;
        if (e != EEXIST)
            return -1;
    }
    return -1; /* EEXIST a hundred times */
}

int outfile_is_stream(const char *path)
{
    struct stat st;
    return fd_alias(path) >= 0 ||
           (stat(path, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)));
}

int atomic_open(atomic_file_t *a, const char *path)
{
    a->f = NULL;
    a->cookie = NULL;
    a->mode = 0;
    a->slot = -1;
    a->tmp[0] = a->why[0] = '\0';
    size_t len = strlen(path);
    if (len + 1 > sizeof a->path || len + 90 > sizeof a->tmp)
        return refuse(a, ENAMETOOLONG, "the path is too long");
    snprintf(a->path, sizeof a->path, "%s", path);

    int fd = fd_alias(path);
    if (fd >= 0) {
        if (fcntl(fd, F_GETFD) < 0)
            return refuse(a, EBADF, "that descriptor is not open");
        if (fd == 1) {
            a->f = stdout;
            a->mode = OUT_STDOUT;
            return 0;
        }
        int d = dup(fd);
        if (d < 0 || !out_stream(a, d)) {
            if (d >= 0)
                close(d);
            return refuse(a, errno, strerror(errno));
        }
        a->mode = OUT_FD;
        return 0;
    }
    if (len && path[len - 1] == '/')
        return refuse(a, EISDIR, "is a directory");

    struct stat st;
    int exists = 1;
    if (lstat(path, &st) != 0) {
        if (errno != ENOENT)
            return refuse(a, errno, strerror(errno));
        exists = 0;
    } else if (S_ISLNK(st.st_mode)) {
        if (!link_trusted(path, &st))
            return refuse(a, EPERM, "is a symbolic link owned by another user");
        char resolved[PATH_MAX];
        if (!realpath(path, resolved) || stat(resolved, &st) != 0) {
            int e = errno;
            return refuse(a, e, e == ENOENT ? "is a symbolic link to a missing file" : strerror(e));
        }
        if (strlen(resolved) + 90 > sizeof a->tmp)
            return refuse(a, ENAMETOOLONG, "the path is too long");
        snprintf(a->path, sizeof a->path, "%s", resolved);
    }
    if (exists && S_ISDIR(st.st_mode))
        return refuse(a, EISDIR, "is a directory");
    if (exists && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
        /* never replaced: written straight through.  Opened without
         * blocking (a FIFO with no reader would wait forever, holding the
         * report directory's lock), then made blocking for the writes. */
        int d = open(a->path, O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        struct stat now;
        if (d < 0 && errno == ENXIO && S_ISFIFO(st.st_mode))
            return refuse(a, ENXIO, "is a FIFO with no reader (attncheck does not wait for one)");
        if (d < 0)
            return refuse(a, errno, strerror(errno));
        int fl = fcntl(d, F_GETFL);
        if (fl < 0 || fcntl(d, F_SETFL, fl & ~O_NONBLOCK) != 0) {
            int e = errno;
            close(d);
            return refuse(a, e, strerror(e));
        }
        if (fstat(d, &now) != 0 || !(S_ISCHR(now.st_mode) || S_ISFIFO(now.st_mode))) {
            close(d);
            return refuse(a, EINVAL, "changed while it was opened");
        }
        if (!out_stream(a, d)) {
            close(d);
            return refuse(a, ENOMEM, strerror(ENOMEM));
        }
        a->mode = OUT_THROUGH;
        return 0;
    }
    if (exists && !S_ISREG(st.st_mode))
        return refuse(a, EINVAL, "is not a regular file, a character device or a FIFO");

    fd = temp_create(a->tmp, sizeof a->tmp, &a->slot, a->path);
    if (fd < 0)
        return refuse(a, errno, strerror(errno));
    /* the replacement keeps the old file's mode (and owner, when we may) */
    if (fchmod(fd, exists ? st.st_mode & 0777 : new_file_mode) != 0) { /* keep 0600 */ }
    if (exists && geteuid() == 0 && fchown(fd, st.st_uid, st.st_gid) != 0) { /* keep root's */ }
    if (!out_stream(a, fd)) {
        int e = ENOMEM;
        close(fd);
        unlink(a->tmp);
        temp_forget(a->slot);
        return refuse(a, e, strerror(e));
    }
    a->mode = OUT_RENAME;
    return 0;
}

int atomic_commit(atomic_file_t *a)
{
    int bad, e = 0;
    errno = 0;
    if (a->mode == OUT_STDOUT) {
        bad = fflush(stdout) != 0 || ferror(stdout);
        e = errno ? errno : EIO;
    } else {
        bad = fflush(a->f) != 0 || ferror(a->f);
        e = out_stream_errno(a) ? out_stream_errno(a) : errno ? errno : EIO;
        a->cookie = NULL; /* freed by fclose */
        if (fclose(a->f) != 0 && !bad) {
            bad = 1;
            e = errno;
        }
    }
    a->f = NULL;
    if (a->mode == OUT_RENAME) {
        if (!bad && rename(a->tmp, a->path) != 0) {
            bad = 1;
            e = errno;
        }
        if (bad)
            unlink(a->tmp);
        temp_forget(a->slot);
        a->slot = -1;
    }
    if (!bad)
        return 0;
    snprintf(a->why, sizeof a->why, "%s", strerror(e));
    errno = e;
    return -1;
}

void atomic_abort(atomic_file_t *a)
{
    if (a->f && a->mode != OUT_STDOUT)
        fclose(a->f);
    a->f = NULL;
    a->cookie = NULL;
    if (a->mode == OUT_RENAME) {
        unlink(a->tmp);
        temp_forget(a->slot);
        a->slot = -1;
    }
}

void outfile_remove(const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
        unlink(path);
}

/* ---- the report directory ---- */

/* Temporaries of runs that are gone (the pid in the name is not alive). */
static void remove_stale_temps(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    size_t plen = strlen(OUTFILE_TMP_PREFIX);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strncmp(e->d_name, OUTFILE_TMP_PREFIX, plen) != 0)
            continue;
        char *end;
        long pid = strtol(e->d_name + plen, &end, 10);
        if (end == e->d_name + plen || *end != '.' || pid <= 0 || pid > INT_MAX)
            continue;
        if (pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno == EPERM)
            continue; /* a live run's */
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

static void remove_created_dirs(void)
{
    for (int k = atomic_exchange(&dirs_created, 0) - 1; k >= 0; k--) {
        char p[OUTFILE_PATH_MAX];
        snprintf(p, sizeof p, "%.*s", dir_len[k], dir_path);
        rmdir(p);
    }
}

static int outdir_fail(char *err, size_t errsz, int code, const char *what, const char *path,
                       const char *why)
{
    snprintf(err, errsz, "%s '%s': %s", what, path, why);
    remove_created_dirs();
    return code;
}

int outdir_open(outdir_t *d, const char *path, char *err, size_t errsz)
{
    d->lock_fd = -1;
    size_t len = strlen(path);
    /* every length checked before anything is created */
    if (len + OUTFILE_NAME_ROOM >= OUTFILE_PATH_MAX) {
        snprintf(err, errsz, "cannot create output directory: the path is %zu bytes long, at "
                 "most %d are allowed", len, OUTFILE_PATH_MAX - OUTFILE_NAME_ROOM - 1);
        return EXIT_CANTCREAT;
    }
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, "/");
        if (n > NAME_MAX) {
            snprintf(err, errsz, "cannot create output directory: a name in the path is %zu "
                     "bytes long, at most %d are allowed", n, NAME_MAX);
            return EXIT_CANTCREAT;
        }
        p += n;
        p += *p == '/';
    }
    snprintf(d->path, sizeof d->path, "%s", path);
    while (len > 1 && d->path[len - 1] == '/')
        d->path[--len] = '\0';

    /* mkdir -p, remembering each level made, outermost first */
    snprintf(dir_path, sizeof dir_path, "%s", d->path);
    int made = 0;
    for (size_t k = 1; k <= len; k++) {
        if (k < len && dir_path[k] != '/')
            continue;
        if (k < len && dir_path[k - 1] == '/')
            continue; /* "a//b" */
        char level[OUTFILE_PATH_MAX];
        snprintf(level, sizeof level, "%.*s", (int)k, dir_path);
        if (mkdir(level, 0777) == 0) {
            dir_len[made++] = (int)k;
            atomic_store(&dirs_created, made);
        } else if (errno != EEXIST) {
            return outdir_fail(err, errsz, EXIT_CANTCREAT, "cannot create output directory",
                               d->path, strerror(errno));
        }
    }
    struct stat st;
    if (stat(d->path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        int e = errno;
        return outdir_fail(err, errsz, EXIT_CANTCREAT, "cannot create output directory", d->path,
                           strerror(stat(d->path, &st) != 0 ? e : ENOTDIR));
    }
    if (access(d->path, W_OK | X_OK) != 0)
        return outdir_fail(err, errsz, EXIT_CANTCREAT, "cannot write in output directory",
                           d->path, strerror(errno));

    /* the lock: flock on a file in the directory; the file is removed when
     * the run ends, so after locking, check that the name still names it */
    if (snprintf(lock_path, sizeof lock_path, "%s/%s", d->path, OUTFILE_LOCK_NAME) >=
        (int)sizeof lock_path)
        return outdir_fail(err, errsz, EXIT_CANTCREAT, "cannot create output directory", d->path,
                           strerror(ENAMETOOLONG)); /* not reached: the length was checked */
    for (int tries = 0;; tries++) {
        int fd = open(lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
            return outdir_fail(err, errsz, EXIT_CANTCREAT, "cannot create lock file", lock_path,
                               strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            close(fd);
            if (e == EWOULDBLOCK)
                return outdir_fail(err, errsz, EXIT_TEMPFAIL, "output directory", d->path,
                                   "in use by another attncheck run (try again when it ends)");
            return outdir_fail(err, errsz, EXIT_CANTCREAT, "cannot lock", lock_path, strerror(e));
        }
        struct stat held, named;
        if (fstat(fd, &held) == 0 && lstat(lock_path, &named) == 0 && held.st_dev == named.st_dev &&
            held.st_ino == named.st_ino) {
            d->lock_fd = fd;
            atomic_store(&lock_held, 1);
            break;
        }
        close(fd); /* the previous holder removed it meanwhile: take the new one */
        if (tries == 8)
            return outdir_fail(err, errsz, EXIT_TEMPFAIL, "output directory", d->path,
                               "its lock keeps changing hands");
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(d->lock_fd, 0) != 0 || write(d->lock_fd, pid, (size_t)n) != n) { /* advisory text only */ }
    remove_stale_temps(d->path);
    return 0;
}

void outdir_close(outdir_t *d, int failed)
{
    if (d->lock_fd >= 0) {
        if (atomic_exchange(&lock_held, 0))
            unlink(lock_path); /* while still holding it */
        close(d->lock_fd);
        d->lock_fd = -1;
    }
    if (failed)
        remove_created_dirs();
    atomic_store(&dirs_created, 0);
}

/* ---- plots ---- */

static double plot_limit = 60;

void plot_set_time_limit(double seconds)
{
    plot_limit = seconds;
}

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* What gnuplot printed (its first 2 KB), kept to quote its last line. */
typedef struct {
    char text[2048];
    size_t len;
} captured_t;

static void capture(captured_t *c, const char *buf, size_t n)
{
    size_t room = sizeof c->text - 1 - c->len;
    if (n > room)
        n = room;
    memcpy(c->text + c->len, buf, n);
    c->len += n;
    c->text[c->len] = '\0';
}

/* The last non-blank line (gnuplot ends with "line N: what went wrong"),
 * control characters replaced, at most 120 bytes. */
static void last_line(char *out, size_t outsz, const captured_t *c)
{
    size_t end = c->len;
    while (end > 0 && isspace((unsigned char)c->text[end - 1]))
        end--;
    size_t start = end;
    while (start > 0 && c->text[start - 1] != '\n')
        start--;
    while (start < end && isspace((unsigned char)c->text[start]))
        start++;
    size_t n = 0;
    for (size_t k = start; k < end && n + 1 < outsz && n < 120; k++)
        out[n++] = isprint((unsigned char)c->text[k]) ? c->text[k] : ' ';
    out[n] = '\0';
}

static int set_cloexec(int fd)
{
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* gnuplot -e "outfile='NAME'" - < script, run in dir.  0, or -1 with why. */
static int gnuplot_run(const char *script, const char *dir, const char *outname, char *why,
                       size_t whysz)
{
    char assign[NAME_MAX + 32];
    snprintf(assign, sizeof assign, "outfile='%.*s'", NAME_MAX, outname);
    int in = open(script, O_RDONLY | O_CLOEXEC);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
    int errp[2] = {-1, -1}, execp[2] = {-1, -1};
    if (in < 0 || dfd < 0 || nul < 0 || pipe(errp) != 0 || pipe(execp) != 0 ||
        set_cloexec(errp[0]) || set_cloexec(errp[1]) || set_cloexec(execp[0]) ||
        set_cloexec(execp[1])) {
        snprintf(why, whysz, "cannot prepare gnuplot: %s", strerror(errno));
        int fds[] = {in, dfd, nul, errp[0], errp[1], execp[0], execp[1]};
        for (int k = 0; k < 7; k++)
            if (fds[k] >= 0)
                close(fds[k]);
        return -1;
    }
    /* no signal between fork and plot_pgid: the handler must see the child */
    sigset_t old;
    block_stop_signals(&old);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* its own process group: the terminal's ^C reaches attncheck, which
         * kills the whole group; our handlers are not the child's */
        setpgid(0, 0);
        /* and it dies with us, even when we are killed by SIGKILL (else it
         * would go on writing its temporary after the next run cleaned up);
         * a parent already gone before this line is caught by getppid */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(127);
        for (int k = 0; k < 3; k++) {
            static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
            struct sigaction now;
            if (sigaction(sigs[k], NULL, &now) == 0 && now.sa_handler != SIG_IGN)
                signal(sigs[k], SIG_DFL);
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        int e = 0;
        if (dup2(in, 0) < 0 || dup2(nul, 1) < 0 || dup2(errp[1], 2) < 0 || fchdir(dfd) != 0)
            e = errno;
        if (!e) {
            char *const argv[] = {"gnuplot", "-e", assign, "-", NULL};
            execvp("gnuplot", argv);
            e = errno;
        }
        ssize_t ignored = write(execp[1], &e, sizeof e);
        (void)ignored;
        _exit(127);
    }
    close(in);
    close(dfd);
    close(nul);
    close(errp[1]);
    close(execp[1]);
    if (pid < 0) {
        int e = errno;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        snprintf(why, whysz, "cannot start gnuplot: %s", strerror(e));
        close(errp[0]);
        close(execp[0]);
        return -1;
    }
    setpgid(pid, pid); /* also from here: the group exists before any kill */
    atomic_store(&plot_pgid, (int)pid);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    int e = 0, status = 0;
    ssize_t got = read(execp[0], &e, sizeof e); /* 0 bytes: exec succeeded */
    close(execp[0]);
    if (got == (ssize_t)sizeof e) {
        waitpid(pid, &status, 0);
        atomic_store(&plot_pgid, 0);
        close(errp[0]);
        if (e == ENOENT)
            snprintf(why, whysz, "gnuplot is not installed (Debian: gnuplot-nox)");
        else
            snprintf(why, whysz, "cannot run gnuplot: %s", strerror(e));
        return -1;
    }

    captured_t said = {"", 0};
    int errfd = errp[0], timed_out = 0;
    double deadline = now_seconds() + plot_limit;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            break;
        double left = deadline - now_seconds();
        if (left <= 0) {
            kill(-pid, SIGKILL); /* the group, gnuplot's children too */
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            timed_out = 1;
            break;
        }
        int ms = left > 0.2 ? 200 : (int)(left * 1000) + 1;
        if (errfd >= 0) {
            struct pollfd p = {errfd, POLLIN, 0};
            if (poll(&p, 1, ms) > 0) {
                char buf[512];
                ssize_t k = read(errfd, buf, sizeof buf);
                if (k > 0)
                    capture(&said, buf, (size_t)k);
                else if (k == 0 || errno != EINTR) {
                    close(errfd);
                    errfd = -1;
                }
            }
        } else {
            sleep_ms(ms < 5 ? ms : 5);
        }
    }
    atomic_store(&plot_pgid, 0);
    if (errfd >= 0) {
        /* what is left in the pipe, without waiting for a descendant */
        struct pollfd p = {errfd, POLLIN, 0};
        char buf[512];
        ssize_t k;
        while (poll(&p, 1, 0) > 0 && (k = read(errfd, buf, sizeof buf)) > 0)
            capture(&said, buf, (size_t)k);
        close(errfd);
    }
    if (timed_out) {
        snprintf(why, whysz, "gnuplot did not finish within %g s and was stopped", plot_limit);
        return -1;
    }
    if (WIFSIGNALED(status)) {
        snprintf(why, whysz, "gnuplot was killed by signal %d", WTERMSIG(status));
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char line[128];
        last_line(line, sizeof line, &said);
        snprintf(why, whysz, "gnuplot failed (exit %d)%s%s", WEXITSTATUS(status),
                 line[0] ? ": " : "", line);
        return -1;
    }
    return 0;
}

#define SVG_MIN_BYTES 200

/* A plausible, complete SVG: an <svg element near the start, "</svg>" at
 * the end, and a size no real plot is below. */
static int svg_check(const char *path, char *why, size_t whysz)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(why, whysz, "gnuplot wrote no SVG");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    char head[512], tail[64];
    ssize_t nh = pread(fd, head, sizeof head - 1, 0);
    off_t at = st.st_size > (off_t)(sizeof tail - 1) ? st.st_size - (off_t)(sizeof tail - 1) : 0;
    ssize_t nt = pread(fd, tail, sizeof tail - 1, at);
    close(fd);
    if (st.st_size < SVG_MIN_BYTES || nh < 0 || nt < 0) {
        snprintf(why, whysz, "gnuplot wrote %lld bytes, too few for a plot",
                 (long long)st.st_size);
        return -1;
    }
    head[nh] = '\0';
    while (nt > 0 && isspace((unsigned char)tail[nt - 1]))
        nt--;
    tail[nt] = '\0';
    if (!strstr(head, "<svg")) {
        snprintf(why, whysz, "gnuplot's output is not an SVG");
        return -1;
    }
    if (nt < 6 || strcmp(tail + nt - 6, "</svg>") != 0) {
        snprintf(why, whysz, "gnuplot's SVG is truncated (no closing </svg>; a full disk?)");
        return -1;
    }
    return 0;
}

/* Copy the checked temporary to svg by the output rules. */
static int svg_install(const char *tmp, const char *svg, char *why, size_t whysz)
{
    atomic_file_t a;
    if (atomic_open(&a, svg) != 0) {
        snprintf(why, whysz, "%s", a.why);
        return -1;
    }
    FILE *in = fopen(tmp, "rb");
    char buf[8192];
    size_t n;
    int bad = !in;
    while (in && (n = fread(buf, 1, sizeof buf, in)) > 0)
        bad |= fwrite(buf, 1, n, a.f) != n;
    if (in) {
        bad |= ferror(in);
        fclose(in);
    }
    if (bad) {
        atomic_abort(&a);
        snprintf(why, whysz, "cannot copy the plot: %s", strerror(errno));
        return -1;
    }
    if (atomic_commit(&a) != 0) {
        snprintf(why, whysz, "cannot write it: %s", a.why);
        return -1;
    }
    return 0;
}

static int name_is_plain(const char *s)
{
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
            return 0;
    return 1;
}

int plot_render(const char *script, const char *svg)
{
    char why[300] = "", dir[OUTFILE_PATH_MAX], tmp[OUTFILE_PATH_MAX];
    int slot = -1, rc = -1;
    dir_of(dir, sizeof dir, svg);
    /* gnuplot gets only a name of ours, never user text: the temporary's
     * name must be plain, since it is quoted in gnuplot's language */
    char target[OUTFILE_PATH_MAX];
    int fd = -1;
    if (snprintf(target, sizeof target, "%s/%s", dir,
                 name_is_plain(base_of(svg)) ? base_of(svg) : "plot.svg") < (int)sizeof target)
        fd = temp_create(tmp, sizeof tmp, &slot, target);
    else
        errno = ENAMETOOLONG;
    if (fd < 0) {
        snprintf(why, sizeof why, "cannot create a temporary file: %s", strerror(errno));
    } else {
        close(fd);
        if (gnuplot_run(script, dir, base_of(tmp), why, sizeof why) == 0 &&
            svg_check(tmp, why, sizeof why) == 0 && svg_install(tmp, svg, why, sizeof why) == 0)
            rc = 0;
        unlink(tmp);
        temp_forget(slot);
    }
    if (rc != 0) {
        outfile_remove(svg); /* no stale plot of other data under this name */
        fprintf(stderr, "attncheck: warning: no plot %s: %s\n", svg, why);
    }
    return rc;
}
