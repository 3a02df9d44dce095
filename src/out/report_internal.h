/* Helpers shared by the report writers (report_*.c) and by nothing else:
 * text made in memory, numbers as text (ends rounded outward), the row and
 * verdict words, the rows table, the JSON document and the plots. */
#ifndef ATTNCHECK_REPORT_INTERNAL_H
#define ATTNCHECK_REPORT_INTERNAL_H

#include <stdio.h>
#include <jansson.h>
#include "report.h"

#define DIGITS_FILE 20  /* csv/json: 20 significant digits, outward */
#define DIGITS_MD 4     /* markdown tables */

/* ---- report_common.c ---- */
/* A stream into memory (open_memstream), so that nothing reaches a file
 * before it is complete; close: 0, or -1 (the buffer freed) when any write
 * failed. */
FILE *membuf_open(char **buf, size_t *len);
int membuf_close(FILE *f, char **buf);
/* "out of memory while writing PATH" in err; returns 70. */
int out_of_memory(const char *path, char *err, size_t errsz);
/* Numbers as text, each malloc'd (NULL when out of memory): an enclosure's
 * lower / upper end (rounded down / up), an MPFR number rounded up,
 * printf, and "[lo, hi]" (one number when both ends print alike). */
char *text_lo(arb_srcptr x, int digits);
char *text_hi(arb_srcptr x, int digits);
char *text_up(mpfr_srcptr x, int digits);
char *text_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *text_ends(arb_srcptr x, int digits);
/* E/bound as an enclosure (indeterminate when the bound may be 0 or less). */
void row_ratio(arb_t q, const row_t *r);
/* The row is decided by the exact rule (as verdict_exact_unit applies it). */
int row_exact_rule(const claim_report_t *rep, const row_t *r);
/* The exact rule's tolerance S 2^(kappa - p), rounded down. */
char *text_tolerance(const row_t *r, int digits);
/* The word a row's verdict is written as. */
const char *row_verdict_word(const claim_report_t *rep, const row_t *r);
/* Bits of slack used in tenths rounded up (0), or -1 when unknown / -inf. */
int row_slack_tenths(long *tenths, const row_t *r);
char *text_slack(const row_t *r);
/* "H holds, V violated, I inconclusive" (the mutated run's words when mutated). */
void report_counts_text(char *buf, size_t n, const claim_report_t *rep);
/* A parameter that is a column of its own (seed and prec have their own). */
int param_is_column(const char *name);
/* s with invalid UTF-8 bytes replaced by U+FFFD; malloc'd, or NULL. */
char *utf8_clean(const char *s);
/* The canonical command of one claim's report (rep) or of the whole run
 * (rep NULL); malloc'd, or NULL. */
char *run_command(const report_run_t *run, const claim_report_t *rep);
/* "GMP 6.2.1, MPFR 4.2.0, ..." */
void print_libraries(FILE *f);

/* ---- report_table.c ---- */
/* One cell of an md (csv 0) or CSV table line, first of its line or not;
 * -1 when out of memory. */
int put_cell(FILE *f, const char *s, int csv, int first);
void end_line(FILE *f, int csv);
/* The rows table; -1 when out of memory. */
int write_table(FILE *f, const claim_report_t *rep, int csv);

/* ---- report_json.c ---- */
/* The claim's .json document; NULL when out of memory. */
json_t *json_claim(const claim_report_t *rep, const report_run_t *run);

/* ---- report_plot.c ---- */
/* The k-th plot's file name, <stem>.svg or <stem>-k.svg. */
void plot_file_name(char *buf, size_t n, const char *stem, int k);
/* Write <svgpath>.gp and draw it: *drawn 1 (drawn), 0 (nothing to draw), -2
 * (every point at one x: nothing a table does not show), -3 (hi(E) = 0 on
 * every row: nothing on a log scale), -1 (gnuplot failed).  0, or an exit code with err. */
int write_plot(const claim_report_t *rep, const plot_t *pl, const char *svgpath, int *drawn,
               char *err, size_t errsz);

/* ---- report_junit.c ---- */
/* The claim's JUnit XML at path: 0, or an exit code with err. */
int report_write_junit(const claim_report_t *rep, const report_run_t *run, const char *path,
                       char *err, size_t errsz);

#endif
