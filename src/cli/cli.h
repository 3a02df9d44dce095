/* Command-line helpers shared by the subcommands: one-line errors, option
 * values, and the final check of standard output. */
#ifndef ATTNCHECK_CLI_H
#define ATTNCHECK_CLI_H

#include <stddef.h>

/* "attncheck: MESSAGE" on stderr as exactly one line (control characters
 * in quoted user text shown as '?'); returns code. */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* 1 when s holds a control character (it would break a line or a report). */
int cli_has_control_char(const char *s);

/* Split "--flag=value" into flag (NUL-terminated in buf) and value; a bare
 * flag gives value NULL, an operand (not starting with '-') an empty flag.
 * -1 when the flag is longer than bufsz. */
int cli_split_flag(char *buf, size_t bufsz, const char **value, const char *arg);

/* A count in [1, max] (decimal digits only); 0 on success. */
int cli_parse_count(long *out, const char *s, long max);
/* Seconds: a positive decimal number, at most a million; 0 on success. */
int cli_parse_seconds(double *out, const char *s);
/* A size in bytes: a positive number with an optional K, M, G or T (powers
 * of 1024, an optional "iB" or "B" after it); 0 on success. */
int cli_parse_bytes(double *out, const char *s);

/* Flush standard output now (a failure is remembered for the end). */
void cli_flush_stdout(void);
/* Flush and close standard output: a lost write is exit 74 with one line
 * (unless rc already reports an error, whose line is out).  A reader that
 * left (EPIPE: attncheck list | head) is 74 with no line: the output was
 * cut on purpose, but it was cut, and the run's files are whole. */
int cli_finish_stdout(int rc);
/* 1 when a write to standard output failed because its reader left: e is
 * EPIPE, or standard output is a pipe whose read end is closed. */
int cli_stdout_reader_gone(int e);

#endif
