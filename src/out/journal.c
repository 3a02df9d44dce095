/* A run's journal (journal.h).  Each line is written by one write(2) to a
 * descriptor opened O_APPEND, so a killed run leaves whole lines and at
 * most one cut last line, which a resumed run drops; every line carries the
 * sha256 of its content (shard_digest), so a damaged one is refused. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "exitcodes.h"
#include "journal.h"
#include "outfile.h"
#include "shard.h"
#include "version.h"
#include "xalloc.h"

#define JOURNAL_FORMAT 1
/* a journal is read whole: one far larger than any run's rows is refused */
#define JOURNAL_MAX_BYTES (1L << 32)

struct journal {
    char path[OUTFILE_PATH_MAX + 32];
    int fd;                 /* -1 once a write failed: the run goes on unjournaled */
    int slot;               /* while it holds no row, a signal removes it (outfile.h) */
    pthread_mutex_t lock;
    json_t **lines;         /* rows read back (resume), in file order */
    long n_lines;
    shard_set_t *names;     /* their extra column names */
    const claim_t *const *claims;
    long kept, added;
};

/* The run's identity: what a resumed run must share with the journal. */
static json_t *identity(const report_run_t *how, const claim_t *const *claims,
                        const int *mutations, int n, const run_options_t *o)
{
    int ok = 1;
    char *libs = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&libs, &len);
    if (f) {
        report_print_libraries(f);
        fclose(f);
    }
    json_t *id = json_object(), *reps = json_array(), *shard = json_array();
    report_json_set(id, "attncheck_journal", json_integer(JOURNAL_FORMAT), &ok);
    report_json_set(id, "attncheck", json_string(attncheck_version()), &ok);
    report_json_set(id, "libraries", libs ? json_string(libs) : NULL, &ok);
    free(libs);
    report_json_set(id, "options", shard_options_json(how), &ok);
    for (int k = 0; k < n; k++) {
        json_t *r = json_array();
        report_json_push(r, json_string(claims[k]->id), &ok);
        report_json_push(r, json_integer(mutations[k]), &ok);
        report_json_push(reps, r, &ok);
    }
    report_json_set(id, "reports", reps, &ok);
    report_json_push(shard, json_integer(o->shard_index), &ok);
    report_json_push(shard, json_integer(o->shard_count), &ok);
    report_json_set(id, "shard", shard, &ok);
    if (!ok) {
        json_decref(id);
        return NULL;
    }
    return id;
}

/* One line: the object with its digest, compact, and a newline. */
static char *line_text(json_t *obj)
{
    char digest[SHARD_DIGEST_HEX + 1];
    int ok = 1;
    if (shard_digest(digest, obj) != 0)
        return NULL;
    report_json_set(obj, "digest", json_string(digest), &ok);
    char *text = ok ? json_dumps(obj, JSON_COMPACT) : NULL;
    if (!text)
        return NULL;
    size_t len = strlen(text);
    char *line = xmalloc(len + 2);
    memcpy(line, text, len);
    line[len] = '\n';
    line[len + 1] = '\0';
    free(text);
    return line;
}

static int write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* A line read back: its digest must be that of its content. */
static json_t *line_parse(const char *s, size_t len)
{
    json_t *obj = json_loadb(s, len, JSON_REJECT_DUPLICATES, NULL);
    const char *stored = json_string_value(json_object_get(obj, "digest"));
    char digest[SHARD_DIGEST_HEX + 1];
    if (!json_is_object(obj) || !stored || shard_digest(digest, obj) != 0 ||
        strcmp(digest, stored) != 0) {
        json_decref(obj);
        return NULL;
    }
    json_object_del(obj, "digest");
    return obj;
}

/* Read the journal at path; 0 with the rows, or 65 with err.  *valid: the
 * bytes up to the last whole line. */
static int journal_read(journal_t *j, const json_t *want, off_t *valid, char *err, size_t errsz)
{
    FILE *f = fopen(j->path, "rb");
    if (!f) {
        snprintf(err, errsz, "cannot read '%s': %s", j->path, strerror(errno));
        return EXIT_IOERR;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 65536 > cap) {
            cap = cap ? 2 * cap : 65536 * 2;
            buf = xrealloc(buf, cap);
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
        if (len > (size_t)JOURNAL_MAX_BYTES) {
            fclose(f);
            free(buf);
            snprintf(err, errsz, "'%s' is over 4 GiB: not a journal of attncheck", j->path);
            return EXIT_DATAERR;
        }
    }
    int rd_err = ferror(f);
    fclose(f);
    if (rd_err) {
        free(buf);
        snprintf(err, errsz, "cannot read '%s'", j->path);
        return EXIT_IOERR;
    }
    int rc = 0;
    long line_no = 0;
    size_t at = 0;
    *valid = 0;
    while (at < len && rc == 0) {
        char *nl = memchr(buf + at, '\n', len - at);
        if (!nl)
            break; /* a cut last line: the row it was writing is computed again */
        size_t n = (size_t)(nl - (buf + at));
        json_t *obj = line_parse(buf + at, n);
        line_no++;
        if (!obj) {
            snprintf(err, errsz, "'%s': line %ld is damaged (its sha256 does not match); move "
                     "the journal away to start afresh", j->path, line_no);
            rc = EXIT_DATAERR;
        } else if (line_no == 1) {
            if (!json_equal(obj, (json_t *)want)) {
                snprintf(err, errsz, "--resume: '%s' is the journal of another run (another "
                         "command, claim, shard or attncheck version); run without --resume to "
                         "start afresh", j->path);
                rc = EXIT_DATAERR;
            }
            json_decref(obj);
        } else {
            j->lines = xreallocarray(j->lines, (size_t)j->n_lines + 1, sizeof *j->lines);
            j->lines[j->n_lines++] = obj;
        }
        at += n + 1;
        *valid = (off_t)at;
    }
    if (rc == 0 && line_no == 0) {
        snprintf(err, errsz, "--resume: '%s' holds no whole line: not a journal; run without "
                 "--resume to start afresh", j->path);
        rc = EXIT_DATAERR;
    }
    free(buf);
    return rc;
}

static long fill(void *arg, int report, row_t *rows, long n, unsigned char *kept, char *err,
                 size_t errsz)
{
    journal_t *j = arg;
    long got = 0;
    for (long k = 0; k < j->n_lines; k++) {
        json_t *line = j->lines[k];
        if (!line)
            continue;
        json_int_t rep = json_integer_value(json_object_get(line, "report"));
        json_int_t idx = json_integer_value(json_object_get(line, "index"));
        if (!json_is_integer(json_object_get(line, "report")) || rep != report)
            continue;
        char what[256];
        if (!json_is_integer(json_object_get(line, "index")) || idx < 0 || idx >= n) {
            snprintf(err, errsz, "'%s': a row of report %d is not in its grid", j->path, report);
            return -1;
        }
        if (kept[idx])
            continue; /* once is enough */
        if (shard_row_load(rows + idx, json_object_get(line, "row"), j->names,
                           j->claims[report]->kind, what, sizeof what) != 0) {
            snprintf(err, errsz, "'%s': %s row %ld: %s", j->path, j->claims[report]->id,
                     (long)idx, what);
            return -1;
        }
        kept[idx] = 1;
        got++;
        json_decref(line); /* each line is one report's: read once */
        j->lines[k] = NULL;
    }
    pthread_mutex_lock(&j->lock);
    j->kept += got;
    pthread_mutex_unlock(&j->lock);
    return got;
}

static void add(void *arg, int report, const row_t *r, long index)
{
    journal_t *j = arg;
    int ok = 1;
    json_t *obj = json_object();
    report_json_set(obj, "report", json_integer(report), &ok);
    report_json_set(obj, "index", json_integer(index), &ok);
    report_json_set(obj, "row", shard_row_json(r, index), &ok);
    char *line = ok ? line_text(obj) : NULL;
    json_decref(obj);
    pthread_mutex_lock(&j->lock);
    if (j->fd >= 0 && (!line || write_all(j->fd, line, strlen(line)) != 0)) {
        /* the run goes on; only a resume of it would compute more */
        fprintf(stderr, "attncheck: warning: cannot append to '%s' (%s): later rows are not "
                "journaled\n", j->path, line ? strerror(errno) : "out of memory");
        close(j->fd);
        j->fd = -1;
    }
    j->added += j->fd >= 0;
    if (j->added == 1) { /* a row worth keeping: a signal leaves it for --resume */
        outfile_temp_forget(j->slot);
        j->slot = -1;
    }
    pthread_mutex_unlock(&j->lock);
    free(line);
}

int journal_open(journal_t **out, const char *dir, const report_run_t *how,
                 const claim_t *const *claims, const int *mutations, int n,
                 const run_options_t *o, int resume, char *err, size_t errsz)
{
    *out = NULL;
    journal_t *j = xcalloc(1, sizeof *j);
    pthread_mutex_init(&j->lock, NULL);
    j->fd = -1;
    j->slot = -1;
    j->claims = claims;
    j->names = shard_names_new();
    snprintf(j->path, sizeof j->path, "%s/%s", dir, JOURNAL_FILE);
    json_t *id = identity(how, claims, mutations, n, o);
    int rc = id ? 0 : EXIT_SOFTWARE;
    if (!id)
        snprintf(err, errsz, "cannot record the run's options in '%s' (out of memory, or a "
                 "value that is not UTF-8 text)", j->path);
    off_t valid = 0;
    struct stat st;
    int have = lstat(j->path, &st) == 0;
    if (rc == 0 && have && !S_ISREG(st.st_mode)) {
        snprintf(err, errsz, "'%s' is not a regular file", j->path);
        rc = EXIT_CANTCREAT;
    }
    if (rc == 0 && resume && have)
        rc = journal_read(j, id, &valid, err, errsz);
    else if (rc == 0 && resume)
        fprintf(stderr, "attncheck: --resume: no journal in '%s': every row is computed\n", dir);
    if (rc == 0) {
        int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW;
        j->fd = open(j->path, flags | (resume && have ? 0 : O_TRUNC), 0644);
        if (j->fd < 0 || (resume && have && ftruncate(j->fd, valid) != 0)) {
            snprintf(err, errsz, "cannot write '%s': %s", j->path, strerror(errno));
            rc = EXIT_CANTCREAT;
        }
    }
    if (rc == 0 && j->n_lines == 0) /* no row yet: the run's temporary until one comes */
        j->slot = outfile_temp_register(j->path);
    if (rc == 0 && !(resume && have)) {
        char *line = line_text(id);
        if (!line || write_all(j->fd, line, strlen(line)) != 0) {
            snprintf(err, errsz, "cannot write '%s': %s", j->path,
                     line ? strerror(errno) : "out of memory");
            rc = EXIT_IOERR;
        }
        free(line);
    }
    json_decref(id);
    if (rc != 0) {
        journal_close(j);
        return rc;
    }
    *out = j;
    return 0;
}

long journal_kept(const journal_t *j)
{
    return j ? j->kept : 0;
}

void journal_attach(journal_t *j, run_options_t *o, int k)
{
    o->journal = j;
    o->journal_report = k;
    o->journal_fill = j ? fill : NULL;
    o->journal_add = j ? add : NULL;
}

void journal_end(journal_t *j, int keep)
{
    if (!j)
        return;
    if (j->fd >= 0)
        close(j->fd);
    j->fd = -1;
    outfile_temp_forget(j->slot);
    j->slot = -1;
    if (!keep)
        unlink(j->path);
}

void journal_close(journal_t *j)
{
    if (!j)
        return;
    journal_end(j, 1);
    for (long k = 0; k < j->n_lines; k++)
        json_decref(j->lines[k]);
    free(j->lines);
    shard_set_free(j->names);
    pthread_mutex_destroy(&j->lock);
    free(j);
}
