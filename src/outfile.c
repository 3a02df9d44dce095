/* Output files and directories: atomic files, the report directory, and
 * running gnuplot on a script. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "outfile.h"

int atomic_open(atomic_file_t *a, const char *path)
{
    snprintf(a->path, sizeof a->path, "%s", path);
    snprintf(a->tmp, sizeof a->tmp, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(a->tmp);
    if (fd < 0) {
        a->f = NULL;
        return -1;
    }
    a->f = fdopen(fd, "w");
    if (!a->f) {
        close(fd);
        unlink(a->tmp);
        return -1;
    }
    return 0;
}

int atomic_commit(atomic_file_t *a)
{
    int bad = ferror(a->f);
    bad |= fclose(a->f) != 0;
    a->f = NULL;
    if (!bad && chmod(a->tmp, 0644) == 0 && rename(a->tmp, a->path) == 0)
        return 0;
    unlink(a->tmp);
    return -1;
}

void report_discard_dir(const char *outdir, int created)
{
    if (created)
        rmdir(outdir); /* fails harmlessly when not empty */
}

int report_prepare_dir(const char *outdir, int *created, char *err, size_t errsz)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s", outdir);
    *created = stat(path, &st) != 0;
    /* mkdir -p */
    for (char *p = path + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(path, 0755) != 0 && errno != EEXIST)
                goto fail;
            *p = '/';
        }
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        goto fail;
    if (access(path, W_OK | X_OK) != 0)
        goto fail;
    return 0;
fail:
    snprintf(err, errsz, "cannot create output directory '%s': %s", outdir, strerror(errno));
    return 73;
}

int plot_render(const char *script, const char *svg)
{
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "gnuplot -e \"outfile='%s'\" '%s' 2>/dev/null", svg, script);
    return system(cmd) == 0 ? 0 : -1;
}
