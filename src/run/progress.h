/* Progress of a run on stderr: rows done of the total, the rate and the
 * time left.  On a terminal one bar redrawn in place; otherwise a plain line
 * at most every PROGRESS_LINE_SECONDS.  One run at a time, any thread. */
#ifndef ATTNCHECK_PROGRESS_H
#define ATTNCHECK_PROGRESS_H

#include <stddef.h>

#define PROGRESS_LINE_SECONDS 5.0

/* Start counting a run of total rows (enabled 0: count, print nothing). */
void progress_begin(long total, int enabled);
/* rows that need no work (kept from a journal): done, not in the rate */
void progress_kept(long rows);
/* One row finished (what: the claim it belongs to). */
void progress_row_done(const char *what);
/* Wipe the bar before another line goes to stderr (no-op otherwise). */
void progress_clear(void);
/* The end of the run: the bar is wiped; nothing more is printed. */
void progress_end(void);
/* "12/760 rows (1.6%), 0.42 rows/s, ETA 29 min": done of total, of which
 * `computed` in `elapsed` seconds make the rate. */
void progress_format(char *buf, size_t n, long done, long total, long computed, double elapsed);

#endif
