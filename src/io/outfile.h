/* Output files and directories, the cleanup run on a signal or a fatal
 * error, and gnuplot by fork/exec.
 *
 * Every file attncheck writes goes to its target by one rule:
 *  - a new name or a regular file: written to a temporary beside it
 *    (.attncheck-tmp.<pid>.<name>.XXXXXX) and renamed into place, so a
 *    failed run leaves the old file or none, never half of one;
 *  - a symbolic link to a regular file, owned by you or by the owner of the
 *    directory holding the link: the file it points to is replaced the same
 *    way and the link is kept (another user's link, a dangling link, or a
 *    link to anything else is refused);
 *  - a character device or a FIFO (/dev/null, a named pipe): written
 *    straight through, never replaced; opened without blocking, so a FIFO
 *    with no reader is refused at once, never waited on;
 *  - "-", /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N: written to
 *    that open descriptor (so a shell's append redirection stays one);
 *  - a directory: refused, "is a directory"; any other kind: refused. */
#ifndef ATTNCHECK_OUTFILE_H
#define ATTNCHECK_OUTFILE_H

#include <stdio.h>

#define OUTFILE_TMP_PREFIX ".attncheck-tmp."
#define OUTFILE_LOCK_NAME ".attncheck.lock"
#define OUTFILE_PATH_MAX 4096
/* Room a report directory keeps for the names written in it (the longest
 * stem, ".svg.gp", and a temporary's prefix and suffix). */
#define OUTFILE_NAME_ROOM 160

/* Call once at start: signal handlers (SIGINT, SIGTERM, SIGHUP stop the run,
 * kill a running gnuplot, remove this run's temporaries, lock and the
 * directories it created, and exit 128 + the signal; SIGXFSZ ignored, so a
 * write past the file size limit fails with EFBIG: 74) and the umask. */
void outfile_init(void);
/* The same cleanup, then one line "attncheck: MSG" and exit code; safe to
 * call from any thread. */
_Noreturn void outfile_die(int code, const char *msg);

/* ---- one output file ---- */
typedef struct {
    FILE *f;
    void *cookie;                /* f's descriptor and first write error */
    int mode;                    /* how it reaches its target (outfile.c) */
    int slot;                    /* cleanup slot of the temporary, or -1 */
    char tmp[OUTFILE_PATH_MAX];
    char path[OUTFILE_PATH_MAX]; /* the target, a link resolved */
    char why[160];               /* why atomic_open or atomic_commit failed */
} atomic_file_t;
/* 0, or -1 with errno and a->why set (nothing created). */
int atomic_open(atomic_file_t *a, const char *path);
/* Flush, check and put in place: 0, or -1 with errno and a->why set (the
 * temporary removed, the target untouched). */
int atomic_commit(atomic_file_t *a);
/* 1 when atomic_open would write path straight through, not replace a file
 * ("-", a descriptor alias, a character device or a FIFO, or a link to one). */
int outfile_is_stream(const char *path);
/* Drop a file opened by atomic_open without touching its target. */
void atomic_abort(atomic_file_t *a);
/* A file of the run's own (not made by atomic_open) that a signal or a
 * fatal error removes until it is forgotten: the slot, or -1 when none is
 * free (then it is left). */
int outfile_temp_register(const char *path);
void outfile_temp_forget(int slot);
/* Remove path when it is a regular file (a stale output of ours); leaves
 * links, devices and anything else alone. */
void outfile_remove(const char *path);

/* ---- the report directory: created (mkdir -p), locked, cleaned ---- */
typedef struct {
    char path[OUTFILE_PATH_MAX];
    int lock_fd;
} outdir_t;
/* Check the path's length before creating anything, create the missing
 * levels, take the lock (a second run gets 75) and remove the temporaries
 * a killed run left.  0, or 73 / 75 with one line in err. */
int outdir_open(outdir_t *d, const char *path, char *err, size_t errsz);
/* Release the lock; when failed, remove every level this run created (if
 * empty). */
void outdir_close(outdir_t *d, int failed);

/* ---- plots ---- */
/* Time limit of one gnuplot run in seconds (default 60). */
void plot_set_time_limit(double seconds);
/* Run gnuplot on script (fork/exec, no shell; the script on its standard
 * input, its output and errors captured) under the time limit, check the
 * SVG it wrote (well-formed start and end, a plausible size) and put it in
 * place at svg.  On any failure: one warning line, the old plot at svg
 * removed, and -1. */
int plot_render(const char *script, const char *svg);

#endif
