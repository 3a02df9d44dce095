/* Checked allocation (xalloc.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ball.h"
#include "exitcodes.h"
#include "xalloc.h"

static xalloc_fatal_fn fatal_hook;

void xalloc_on_fatal(xalloc_fatal_fn fn)
{
    fatal_hook = fn;
}

_Noreturn void xalloc_die(size_t size)
{
    char msg[96];
    snprintf(msg, sizeof msg, "out of memory (allocating %zu bytes)", size);
    if (fatal_hook)
        fatal_hook(EXIT_SOFTWARE, msg); /* does not return */
    /* no hook: the line and the exit code alone (write(2): no stdio buffer) */
    ssize_t ignored = write(2, "attncheck: ", 11);
    ignored = write(2, msg, strlen(msg));
    ignored = write(2, "\n", 1);
    (void)ignored;
    _exit(EXIT_SOFTWARE);
}

void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        xalloc_die(size);
    return p;
}

void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        xalloc_die(count > SIZE_MAX / (size ? size : 1) ? SIZE_MAX : count * size);
    return p;
}

void *xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q)
        xalloc_die(size);
    return q;
}

void *xmallocarray(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        xalloc_die(SIZE_MAX);
    return xmalloc(count * size);
}

void *xreallocarray(void *p, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        xalloc_die(SIZE_MAX);
    return xrealloc(p, count * size);
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

/* GMP's allocation interface (MPFR allocates through it). */
static void *gmp_alloc(size_t size)
{
    return xmalloc(size);
}

static void *gmp_realloc(void *p, size_t old_size, size_t new_size)
{
    (void)old_size;
    return xrealloc(p, new_size);
}

static void gmp_free(void *p, size_t size)
{
    (void)size;
    free(p);
}

void xalloc_install_library_hooks(void)
{
    mp_set_memory_functions(gmp_alloc, gmp_realloc, gmp_free);
    /* FLINT: Arb's balls and matrices */
    __flint_set_memory_functions(xmalloc, xcalloc, xrealloc, free);
}
