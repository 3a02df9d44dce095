/* Output files and directories.  Every file is written to a temporary name
 * in its directory and renamed, so a failed run leaves no half-written file. */
#ifndef ATTNCHECK_OUTFILE_H
#define ATTNCHECK_OUTFILE_H

#include <stdio.h>

/* Atomic file: open a temporary beside path; commit renames it. */
typedef struct {
    FILE *f;
    char tmp[4096];
    char path[4096];
} atomic_file_t;
int atomic_open(atomic_file_t *a, const char *path);
int atomic_commit(atomic_file_t *a); /* 0 or -1 (temporary removed) */

/* Make sure outdir exists and is writable: 0, or 73 with err.  *created is
 * set when this call made the directory (report_discard_dir removes it
 * again, if still empty, when the run fails before writing). */
int report_prepare_dir(const char *outdir, int *created, char *err, size_t errsz);
void report_discard_dir(const char *outdir, int created);
/* Run gnuplot on script, writing the plot to svg.  0 on success, -1 otherwise. */
int plot_render(const char *script, const char *svg);

#endif
