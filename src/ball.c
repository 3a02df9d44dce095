/* Checked allocation for the core and for FLINT (ball.h). */
#include <stdio.h>
#include <stdlib.h>
#include "ball.h"
#include "exitcodes.h"

static void out_of_memory(void)
{
    fputs("attncheck: out of memory\n", stderr);
    exit(EXIT_SOFTWARE);
}

void *ball_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        out_of_memory();
    return p;
}

void *ball_calloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        out_of_memory();
    return p;
}

void *ball_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        out_of_memory();
    return q;
}

void ball_install_memory_handlers(void)
{
    __flint_set_memory_functions(ball_malloc, ball_calloc, ball_realloc, free);
}
