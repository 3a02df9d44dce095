/* The one road from claims to reports, shared by verify, sweep, merge and
 * model: the limits before any work, the output directory, each claim run
 * by the runner (or read back from shards), the console summary, the exit
 * rule, and the writers (reports, index, run.log, or a shard's partial). */
#ifndef ATTNCHECK_RUNSET_H
#define ATTNCHECK_RUNSET_H

#include "report.h"
#include "shard.h"

typedef struct {
    const claim_t *const *claims;
    const int *mutations;      /* per claim: 0, or its mutation k */
    int n;
    const run_options_t *run;  /* shard_count > 0: write a shard's partial.json */
    const report_run_t *how;
    const char *out;           /* NULL: "reports" */
    int formats;
    int no_write;
    int mutate;                /* a --mutate run: every row must be violated */
    shard_set_t *from;         /* merge: the rows come from these shards */
    /* optional hooks: once the output directory is open (path; an exit
     * code stops the run), on each filled report (before it is printed; an
     * exit code stops the run, one line out), and after each report's
     * summary is printed */
    int (*on_dir)(const char *dir, void *arg);
    int (*on_report)(claim_report_t *rep, void *arg);
    void (*on_printed)(const claim_report_t *rep, void *arg);
    /* before the output directory is closed (and removed, when the run failed):
     * the final status in, the final status out */
    int (*on_close)(int status, void *arg);
    void *arg;
} runset_t;

/* Run and write; returns the exit code (the exit rule: 0 all hold, 1 some
 * row violated, 2 some inconclusive, 3 a --mutate run with a row not
 * violated; 65 bad data, 73/74/75 outputs). */
int runset_run(const runset_t *s);

/* `attncheck model` (cmd_model.c), and merge of a model run's shards: the
 * claim rebuilt from the recorded arguments (65 when the model file's
 * sha256 is not the recorded one), out, formats and limits merge's own. */
int cmd_model(int argc, char **argv);
int cmd_model_merge(const shard_run_t *run, shard_set_t *set, const char *out, int formats,
                    const run_options_t *limits);

#endif
