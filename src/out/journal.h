/* A run's journal: every row a run finishes is appended to DIR/run.journal
 * (one JSON line each, as a shard's partial file holds rows, with its
 * sha256), so that a run stopped before its reports (killed, --max-seconds)
 * can be resumed: `--resume` reads the journal back, keeps the rows it holds
 * when it records this very run (the options that determine the numbers,
 * the reports, the shard, attncheck's and the libraries' versions), and
 * computes only the others; the reports are the same bytes as an
 * uninterrupted run's.  The first line is the run's identity. */
#ifndef ATTNCHECK_JOURNAL_H
#define ATTNCHECK_JOURNAL_H

#include "report.h"

#define JOURNAL_FILE "run.journal"

typedef struct journal journal_t;

/* Open dir's journal for the run of these reports.  resume 0: a new journal
 * (an old one is replaced); 1: the rows of dir's journal are kept (none when
 * there is none), 65 with err when it is another run's or damaged.  The
 * runner takes it through o->journal (runner.h).  0, or an exit code. */
int journal_open(journal_t **j, const char *dir, const report_run_t *how,
                 const claim_t *const *claims, const int *mutations, int n,
                 const run_options_t *o, int resume, char *err, size_t errsz);
/* Rows it held (kept) and rows it took since it opened. */
long journal_kept(const journal_t *j);
/* Set o's journal hooks for report k. */
void journal_attach(journal_t *j, run_options_t *o, int k);
/* Stop writing; keep 0 removes the file (the run's reports are written, or
 * the run failed on its data).  Before the output directory is closed. */
void journal_end(journal_t *j, int keep);
/* Free it, after the rows read from it (their column names are its). */
void journal_close(journal_t *j);

#endif
