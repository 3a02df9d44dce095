/* Writers: per claim <stem>.md/.csv/.json/.svg, and index.md.  Every file
 * is written to a temporary name in the same directory and renamed, so a
 * failed run leaves no half-written file. */
#ifndef ATTNCHECK_REPORT_H
#define ATTNCHECK_REPORT_H

#include <stdio.h>
#include "runner.h"

#define FORMAT_MD 1
#define FORMAT_CSV 2
#define FORMAT_JSON 4
#define FORMAT_SVG 8
#define FORMAT_ALL 15

/* Parse "md,csv,json,svg"; -1 on an unknown name. */
int report_parse_formats(int *out, const char *s);
/* File stem of a report: the claim id, or <id>.mutated-<name>. */
void report_stem(char *buf, size_t n, const claim_report_t *rep);
/* Returns 0, or an exit code (73 cannot create, 74 cannot write) with err. */
int report_write_claim(const claim_report_t *rep, const char *outdir, int formats,
                       char *err, size_t errsz);
int report_write_index(const claim_report_t *reps, int n, const char *outdir,
                       char *err, size_t errsz);
/* Make sure outdir exists and is writable: 0, or 73 with err.  *created is
 * set when this call made the directory (report_discard_dir removes it
 * again, if still empty, when the run fails before writing). */
int report_prepare_dir(const char *outdir, int *created, char *err, size_t errsz);
void report_discard_dir(const char *outdir, int created);
/* One-screen summary of a claim's run on f. */
void report_print_summary(FILE *f, const claim_report_t *rep);
/* The claims catalogue (attncheck list --format md). */
void report_print_catalogue_md(FILE *f);

/* Atomic file: open a temporary beside path; commit renames it. */
typedef struct {
    FILE *f;
    char tmp[4096];
    char path[4096];
} atomic_file_t;
int atomic_open(atomic_file_t *a, const char *path);
int atomic_commit(atomic_file_t *a); /* 0 or -1 (temporary removed) */

#endif
