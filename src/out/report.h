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
#define FORMAT_ALL 15   /* the default: md, csv, json, svg */
#define FORMAT_JUNIT 16 /* <stem>.junit.xml, only when asked for (doc/reports.md) */

/* Parse "md,csv,json,svg,junit"; -1 on an unknown name. */
int report_parse_formats(int *out, const char *s);
/* What the reports record about the run that made them.  Only the options
 * that determine the numbers are recorded, in a fixed order (claims, --full,
 * --seed, --prec, each --set in the order given, --mutate, --arith,
 * --accumulate, --order); --jobs, --out
 * and --format change no number and are left out, so the same command and
 * seed give byte-identical reports whatever they were.  The command line
 * as typed goes to the run log with the timings. */
typedef struct {
    const char *verb;               /* "verify" or "sweep" */
    const char *const *ids;         /* the claims as given (n_ids = 0: every claim) */
    int n_ids;
    int mutate;                     /* --mutate was given, */
    const char *mutate_name;        /* with this name (NULL: each claim's first) */
    const run_options_t *options;
    int argc;                       /* the command line as typed, from the verb on */
    char *const *argv;
    const char *command;            /* the canonical command recorded instead of the one
                                       built from verb, ids and options (or NULL) */
    long shards;                    /* merge: the shards the rows came from (run.log) */
    const char *arith;              /* --arith FORMAT (the claims are float twins, */
    const char *accumulate;         /* arith_claim.h), --accumulate and --order as */
    const char *order;              /* recorded (NULL: not given) */
    /* `model`: its arguments as recorded (the canonical words after "model",
     * from which merge rebuilds the claim) and the model file's sha256 */
    const char *const *model_args;
    int n_model_args;
    const char *model_sha256;
} report_run_t;

/* File stem of a report: the claim id, or <id>.mutated-<name>. */
void report_stem(char *buf, size_t n, const claim_report_t *rep);
/* Each returns 0, or an exit code (70 out of memory, 73 cannot create,
 * 74 cannot write) with a message in err. */
int report_write_claim(const claim_report_t *rep, const report_run_t *run, const char *outdir,
                       int formats, char *err, size_t errsz);
/* index.json and index.md: the reports listed in outdir/index.json (if any)
 * with these merged in (a report written again replaces its entry; the
 * others are kept, each with the command and attncheck that made it). */
int report_write_index(const claim_report_t *reps, int n, const report_run_t *run,
                       const char *outdir, char *err, size_t errsz);
/* outdir/index.json's entries (a new array when there is none); 0, or 65
 * when it is not an index attncheck wrote (70 out of memory), with err. */
int report_index_read(json_t **entries, const char *outdir, char *err, size_t errsz);
/* run.log in outdir: the command as typed, versions, and each claim's
 * rows and seconds (timings live here and on stderr, never in a report). */
int report_write_run_log(const claim_report_t *reps, int n, const report_run_t *run,
                         const char *outdir, char *err, size_t errsz);
/* Write text to path by outfile's rule (a temporary renamed into place):
 * 0, or 73 / 74 with err. */
int report_write_file(const char *path, const char *text, size_t len, char *err, size_t errsz);
/* The run as the reports record it: the canonical command (of one claim's
 * report when rep is given, else of the whole run), the options left out,
 * attncheck's and the libraries' versions.  NULL when out of memory. */
json_t *report_json_run(const report_run_t *run, const claim_report_t *rep);
/* One-screen summary of a claim's run on f (no timings: the same every run). */
void report_print_summary(FILE *f, const claim_report_t *rep);
/* One progress line with the claim's time. */
void report_print_timing(FILE *f, const claim_report_t *rep);
/* One CSV field (RFC 4180: quoted when it holds , " CR or LF) and one
 * markdown table cell (| and \ escaped, line breaks as <br>). */
void report_csv_field(FILE *f, const char *s);
void report_md_cell(FILE *f, const char *s);
/* A word as a POSIX shell reads it back: bare when it is plain (letters,
 * digits and _-+=.,:/@%), otherwise single-quoted with each ' written '\''.
 * For replay lines: no file name or value pasted into sh runs anything. */
void report_shell_quote(FILE *f, const char *s);

/* JSON helpers shared with export: a string (invalid UTF-8 replaced by
 * U+FFFD), an enclosure as {"lo", "hi"} decimal strings rounded outward,
 * and the text of a document (consumes doc; NULL when doc is NULL or on
 * allocation failure; free() it). */
json_t *report_json_text(const char *s);
/* A seed as a decimal string: every value in [0, 2^64 - 1] exactly (a JSON
 * integer from jansson is signed 64-bit: 2^63 and above would turn negative). */
json_t *report_json_seed(unsigned long seed);
json_t *report_json_ends(arb_srcptr x, int digits);
char *report_json_dumps(json_t *doc);
/* A string from MPFR's allocator (freed here; NULL stays NULL) as a JSON string. */
json_t *report_json_mpfr_str(char *s);
/* Set or append value (consumed); *ok becomes 0 when obj, arr or value is
 * NULL (an earlier allocation failed) or jansson fails. */
void report_json_set(json_t *obj, const char *key, json_t *value, int *ok);
void report_json_push(json_t *arr, json_t *value, int *ok);

/* The libraries' versions as the reports record them ("GMP 6.2.1, MPFR ..."),
 * no newline (attncheck --version). */
void report_print_libraries(FILE *f);

/* The claims catalogue (attncheck list --format md). */
void report_print_catalogue_md(FILE *f);
/* The catalogue as a JSON document (attncheck list --format json): per claim
 * id, source, kind, provenance, statement, its quick and full grids (each
 * sweep's label and axes, an axis's name and default values as strings)
 * and its mutations (name, what it breaks).  malloc'd; NULL when out of memory. */
char *report_catalogue_json(void);

#endif
