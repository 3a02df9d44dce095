/* Writers: per claim <stem>.md/.csv/.json/.svg, and index.md.  Every file
 * is written to a temporary name in the same directory and renamed, so a
 * failed run leaves no half-written file. */
#ifndef ATTNCHECK_REPORT_H
#define ATTNCHECK_REPORT_H

#include <stdio.h>
#include <jansson.h>
#include "runner.h"
#include "outfile.h"

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
/* One-screen summary of a claim's run on f. */
void report_print_summary(FILE *f, const claim_report_t *rep);
/* One CSV field (RFC 4180: quoted when it holds , " CR or LF) and one
 * markdown table cell (| and \ escaped, line breaks as <br>). */
void report_csv_field(FILE *f, const char *s);
void report_md_cell(FILE *f, const char *s);

/* JSON helpers shared with export: a string (invalid UTF-8 replaced by
 * U+FFFD), an enclosure as {"lo", "hi"} decimal strings rounded outward,
 * and the text of a document (consumes doc; NULL when doc is NULL or on
 * allocation failure; free() it). */
json_t *report_json_text(const char *s);
json_t *report_json_ends(mpfi_srcptr x, int digits);
char *report_json_dumps(json_t *doc);
/* A string from MPFR's allocator (freed here; NULL stays NULL) as a JSON string. */
json_t *report_json_mpfr_str(char *s);
/* Set or append value (consumed); *ok becomes 0 when obj, arr or value is
 * NULL (an earlier allocation failed) or jansson fails. */
void report_json_set(json_t *obj, const char *key, json_t *value, int *ok);
void report_json_push(json_t *arr, json_t *value, int *ok);

/* The claims catalogue (attncheck list --format md). */
void report_print_catalogue_md(FILE *f);

#endif
