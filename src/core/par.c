/* Threads for one large computation (par.h).  One lock guards everything:
 * tasks are coarse (a panel of a product, a group of heads), so taking a
 * task costs nothing next to running it. */
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include "ball.h"
#include "par.h"

/* A helper with nothing to do for this long leaves (freeing its caches). */
#define PAR_IDLE_NS 250000000L

typedef struct par_job {
    void (*fn)(void *, long);
    void *arg;
    long n, next, done;
    struct par_job *newer, *older; /* the list of jobs with tasks not yet taken */
} par_job_t;

static pthread_mutex_t par_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t par_work = PTHREAD_COND_INITIALIZER; /* helpers: a task, room, or stop */
static pthread_cond_t par_done = PTHREAD_COND_INITIALIZER; /* a task finished, a helper left */
static pthread_once_t par_once = PTHREAD_ONCE_INIT;
static int par_want;      /* cores in all; 0: the online processors */
static int par_helpers;   /* helpers alive */
static int par_busy;      /* threads at work: rows, callers of par_for, helpers in a task */
static int par_stop;
static par_job_t *par_newest;
/* > 0 while this thread counts as busy (an entered row, a par_for, a helper) */
static _Thread_local int par_depth;

int par_online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 1024 ? 1024 : (int)n;
}

void par_set_threads(int n)
{
    pthread_mutex_lock(&par_lock);
    par_want = n < 1 ? 0 : n;
    pthread_cond_broadcast(&par_work);
    pthread_mutex_unlock(&par_lock);
}

static int threads_locked(void) { return par_want ? par_want : par_online_cpus(); }

int par_threads(void)
{
    pthread_mutex_lock(&par_lock);
    int t = threads_locked();
    pthread_mutex_unlock(&par_lock);
    return t;
}

int par_threads_for(double n_tasks)
{
    int t = par_threads();
    return !(n_tasks >= 1) ? 1 : n_tasks < (double)t ? (int)n_tasks : t;
}

static void job_unlink(par_job_t *j)
{
    if (j->newer)
        j->newer->older = j->older;
    else
        par_newest = j->older;
    if (j->older)
        j->older->newer = j->newer;
    j->newer = j->older = NULL;
}

/* Take the next task of job j (the lock held); unlink the job when none is left. */
static long job_take(par_job_t *j)
{
    long k = j->next++;
    if (j->next == j->n)
        job_unlink(j);
    return k;
}

static void job_finish(par_job_t *j)
{
    if (++j->done == j->n)
        pthread_cond_broadcast(&par_done);
}

static void *helper(void *unused)
{
    (void)unused;
    par_depth = 1; /* counted busy only while it runs a task */
    pthread_mutex_lock(&par_lock);
    for (;;) {
        if (par_stop)
            break;
        if (par_newest && par_busy < threads_locked()) {
            par_job_t *j = par_newest; /* the newest: nested jobs finish first */
            long k = job_take(j);
            par_busy++;
            pthread_mutex_unlock(&par_lock);
            j->fn(j->arg, k);
            pthread_mutex_lock(&par_lock);
            par_busy--;
            job_finish(j);
            pthread_cond_broadcast(&par_work); /* room for another helper */
            continue;
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += PAR_IDLE_NS;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        if (pthread_cond_timedwait(&par_work, &par_lock, &until) == ETIMEDOUT && !par_newest)
            break;
    }
    par_helpers--;
    pthread_cond_broadcast(&par_done);
    pthread_mutex_unlock(&par_lock);
    mpfr_free_cache(); /* this thread's constant caches */
    flint_cleanup();
    return NULL;
}

/* fork: the child has none of the parent's helpers; the lock is held across
 * the fork so that the state copied is consistent. */
static void atfork_prepare(void) { pthread_mutex_lock(&par_lock); }
static void atfork_parent(void) { pthread_mutex_unlock(&par_lock); }
static void atfork_child(void)
{
    par_helpers = 0;
    par_busy = 0;
    par_stop = 0;
    par_newest = NULL;
    pthread_cond_init(&par_work, NULL);
    pthread_cond_init(&par_done, NULL);
    pthread_mutex_unlock(&par_lock);
}
static void register_atfork(void) { pthread_atfork(atfork_prepare, atfork_parent, atfork_child); }

/* Start helpers up to one fewer than the cores (the lock held). */
static void start_helpers(long tasks)
{
    int want = threads_locked() - 1;
    if (want > tasks - 1)
        want = (int)(tasks - 1);
    pthread_attr_t attr;
    if (par_helpers >= want || pthread_attr_init(&attr) != 0)
        return;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    while (par_helpers < want) {
        pthread_t t;
        if (pthread_create(&t, &attr, helper, NULL) != 0)
            break; /* fewer helpers: the caller does the rest */
        par_helpers++;
    }
    pthread_attr_destroy(&attr);
}

void par_for(long n_tasks, void (*fn)(void *arg, long k), void *arg)
{
    if (n_tasks <= 0)
        return;
    pthread_once(&par_once, register_atfork);
    pthread_mutex_lock(&par_lock);
    if (n_tasks == 1 || threads_locked() == 1) {
        pthread_mutex_unlock(&par_lock);
        for (long k = 0; k < n_tasks; k++)
            fn(arg, k);
        return;
    }
    par_job_t job = {.fn = fn, .arg = arg, .n = n_tasks};
    int counted = par_depth == 0;
    par_busy += counted;
    par_depth++;
    job.older = par_newest;
    if (par_newest)
        par_newest->newer = &job;
    par_newest = &job;
    start_helpers(n_tasks);
    pthread_cond_broadcast(&par_work);
    while (job.next < job.n) {
        long k = job_take(&job);
        pthread_mutex_unlock(&par_lock);
        fn(arg, k);
        pthread_mutex_lock(&par_lock);
        job_finish(&job);
    }
    while (job.done < job.n)
        pthread_cond_wait(&par_done, &par_lock);
    par_depth--;
    par_busy -= counted;
    pthread_cond_broadcast(&par_work);
    pthread_mutex_unlock(&par_lock);
}

void par_enter(void)
{
    pthread_mutex_lock(&par_lock);
    if (par_depth++ == 0)
        par_busy++;
    pthread_mutex_unlock(&par_lock);
}

void par_leave(void)
{
    pthread_mutex_lock(&par_lock);
    if (--par_depth == 0)
        par_busy--;
    pthread_cond_broadcast(&par_work);
    pthread_mutex_unlock(&par_lock);
}

void par_shutdown(void)
{
    pthread_mutex_lock(&par_lock);
    par_stop = 1;
    pthread_cond_broadcast(&par_work);
    while (par_helpers > 0)
        pthread_cond_wait(&par_done, &par_lock);
    par_stop = 0;
    pthread_mutex_unlock(&par_lock);
}
