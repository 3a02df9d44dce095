/* Command-line helpers shared by the subcommands: one-line errors, option
 * values, and the final check of standard output. */
#ifndef ATTNCHECK_CLI_H
#define ATTNCHECK_CLI_H

#include <stddef.h>
#include "runner.h"

/* "attncheck: MESSAGE" on stderr as exactly one line (control characters
 * in quoted user text shown as '?'); returns code. */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* 1 when s holds a control character (it would break a line or a report). */
int cli_has_control_char(const char *s);
/* 1 when s is UTF-8 text (JSON reports and the run's journal record it). */
int cli_is_utf8(const char *s);

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

/* ---- the one option parser of every verb ----
 * An option takes no value (CLI_FLAG), one value (CLI_VALUE: "--x V" or
 * "--x=V"), an optional inline one (CLI_MAYBE_VALUE: "--x" or "--x=V"), or
 * one value and may be given again (CLI_VALUES: apply sees each value). */
typedef enum { CLI_FLAG, CLI_VALUE, CLI_MAYBE_VALUE, CLI_VALUES } cli_arity_t;
typedef struct {
    const char *name;                                 /* "--tokens" */
    cli_arity_t arity;
    int (*apply)(void *ctx, const char *value);       /* 0, or an exit code after one line */
    size_t slot;   /* apply NULL: the value (const char *) is stored at ctx + slot */
} cli_opt_t;

/* The options several verbs share, and where each goes; a NULL member: the
 * verb has no such option.  prefix ("model", or NULL) starts its messages. */
typedef struct {
    const char *prefix;
    run_options_t *run;          /* --jobs --max-rows --max-memory --max-seconds --shard */
    int threads;                 /* 1: --threads (sets par_set_threads) */
    int plot_timeout;            /* 1: --plot-timeout (sets plot_set_time_limit) */
    const char **out, **format;  /* --out DIR (no control characters), --format LIST */
    int out_is_dir;              /* 1: --out names a report directory ("-" refused) */
    int *no_write;               /* --no-write */
    const char **arith, **accumulate, **order;
} cli_common_t;

/* Parse a verb's arguments argv[1..argc): its own options (opts, ended by
 * {NULL}), then common's; a bare word, "-" and every word after "--" go to
 * operand (NULL: none taken).  --help or -h prints usage.  Returns 0, -1
 * after --help, or the exit code of the first failure (one line out). */
int cli_parse(int argc, char **argv, const char *usage, const cli_opt_t *opts, void *ctx,
              int (*operand)(void *ctx, const char *word), cli_common_t *common);

/* Subcommands in their own files: argv[0] is the subcommand's name; the
 * exit code (exitcodes.h). */
int cmd_activation(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_exchange(int argc, char **argv);

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
