/* Progress on stderr (progress.h). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "progress.h"

/* a bar is redrawn at most this often */
#define PROGRESS_BAR_SECONDS 0.2
#define PROGRESS_BAR_WIDTH 24

static struct {
    pthread_mutex_t lock;
    int on, tty, drawn;
    long total, done, computed;
    struct timespec t0;
    double last;
} P = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0, 0, 0, {0, 0}, 0};

static double since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + 1e-9 * (double)(now.tv_nsec - t0->tv_nsec);
}

static void duration(char *buf, size_t n, double s)
{
    long t = (long)(s + 0.5);
    if (t < 60)
        snprintf(buf, n, "%ld s", t);
    else if (t < 3600)
        snprintf(buf, n, "%ld min %02ld s", t / 60, t % 60);
    else
        snprintf(buf, n, "%ld h %02ld min", t / 3600, t / 60 % 60);
}

void progress_format(char *buf, size_t n, long done, long total, long computed, double elapsed)
{
    double pct = total > 0 ? 100.0 * (double)done / (double)total : 100.0;
    int len = snprintf(buf, n, "%ld/%ld rows (%.1f%%)", done, total, pct);
    if (len < 0 || (size_t)len >= n)
        return;
    if (computed <= 0 || elapsed <= 0) {
        snprintf(buf + len, n - (size_t)len, ", rate not known yet");
        return;
    }
    double rate = (double)computed / elapsed;
    char eta[32];
    duration(eta, sizeof eta, (double)(total - done) / rate);
    if (rate >= 1)
        snprintf(buf + len, n - (size_t)len, ", %.1f rows/s, ETA %s", rate, eta);
    else
        snprintf(buf + len, n - (size_t)len, ", %.1f s/row, ETA %s", 1 / rate, eta);
}

void progress_begin(long total, int enabled)
{
    pthread_mutex_lock(&P.lock);
    P.on = enabled;
    P.tty = enabled && isatty(STDERR_FILENO);
    P.drawn = 0;
    P.total = total;
    P.done = P.computed = 0;
    clock_gettime(CLOCK_MONOTONIC, &P.t0);
    P.last = 0;
    pthread_mutex_unlock(&P.lock);
}

void progress_kept(long rows)
{
    pthread_mutex_lock(&P.lock);
    P.done += rows;
    pthread_mutex_unlock(&P.lock);
}

/* The bar, or a line; with the lock held. */
static void show(const char *what)
{
    char text[160];
    double t = since(&P.t0);
    progress_format(text, sizeof text, P.done, P.total, P.computed, t);
    if (P.tty) {
        char bar[PROGRESS_BAR_WIDTH + 1];
        long fill = P.total > 0 ? P.done * PROGRESS_BAR_WIDTH / P.total : PROGRESS_BAR_WIDTH;
        for (int k = 0; k < PROGRESS_BAR_WIDTH; k++)
            bar[k] = k < fill ? '#' : '.';
        bar[PROGRESS_BAR_WIDTH] = '\0';
        fprintf(stderr, "\r[%s] %s  %s\033[K", bar, text, what);
        P.drawn = 1;
    } else {
        fprintf(stderr, "attncheck: progress: %s (%s)\n", text, what);
    }
    fflush(stderr);
    P.last = t;
}

void progress_row_done(const char *what)
{
    pthread_mutex_lock(&P.lock);
    P.done++;
    P.computed++;
    if (P.on) {
        double t = since(&P.t0);
        if (t - P.last >= (P.tty ? PROGRESS_BAR_SECONDS : PROGRESS_LINE_SECONDS))
            show(what);
    }
    pthread_mutex_unlock(&P.lock);
}

void progress_clear(void)
{
    pthread_mutex_lock(&P.lock);
    if (P.drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        P.drawn = 0;
    }
    pthread_mutex_unlock(&P.lock);
}

void progress_end(void)
{
    progress_clear();
    pthread_mutex_lock(&P.lock);
    P.on = 0;
    pthread_mutex_unlock(&P.lock);
}
