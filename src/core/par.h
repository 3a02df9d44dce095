/* Threads for one large computation.  par_for splits work into tasks whose
 * number and boundaries the caller fixes from the problem's sizes alone, so
 * every result is bit-identical whatever the number of threads: threads only
 * decide who runs a task, never what it computes.
 *
 * A run may use par_threads() cores in all.  Helpers are started on demand
 * (one fewer than the cores) and leave after a short idle time; a thread that
 * works on a row of a sweep says so with par_enter/par_leave, and helpers
 * take tasks only while fewer than par_threads() threads are busy. */
#ifndef ATTNCHECK_PAR_H
#define ATTNCHECK_PAR_H

/* Cores to use in all (n <= 0: the online processors, the default). */
void par_set_threads(int n);
int par_threads(void);
/* The threads a par_for of n_tasks tasks can keep busy at once: at most
 * par_threads(), at most n_tasks (at least 1).  Memory estimates count their
 * per-thread buffers with this, so that threads beyond the work (--threads
 * 1000) do not multiply them. */
int par_threads_for(double n_tasks);
/* The online processors (at least 1). */
int par_online_cpus(void);

/* Run fn(arg, k) for k = 0 .. n_tasks - 1 on this thread and on idle
 * helpers; returns when every task is done.  Tasks must write disjoint
 * outputs.  May be nested (a task may call par_for). */
void par_for(long n_tasks, void (*fn)(void *arg, long k), void *arg);

/* A sweep's row threads: busy from enter to leave. */
void par_enter(void);
void par_leave(void);

/* Stop the helpers and wait for them (each frees its FLINT and MPFR caches).
 * The next par_for starts them again. */
void par_shutdown(void);

#endif
