/* Checked allocation.  When memory runs out attncheck prints one line,
 * removes its temporary files, lock and the directories it created, and
 * exits 70: never a crash, never a half-written file. */
#ifndef ATTNCHECK_XALLOC_H
#define ATTNCHECK_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t size);
/* count * size, refused (exit 70) when the product overflows. */
void *xmallocarray(size_t count, size_t size);
void *xreallocarray(void *p, size_t count, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* One line "attncheck: out of memory ..." and exit 70, through the hook
 * set by xalloc_on_fatal (the output layer's cleanup) when there is one. */
_Noreturn void xalloc_die(size_t size);

/* What runs out of memory ends in: fn(70, "out of memory ...") must print
 * the line, clean up (temporaries, lock, directories made) and exit; it
 * never returns.  main sets it (outfile_die) before any allocation; the
 * core knows no output file. */
typedef void (*xalloc_fatal_fn)(int code, const char *msg);
void xalloc_on_fatal(xalloc_fatal_fn fn);

/* Route the numeric libraries' allocations through the checked ones, so
 * that their failures also end in one line and exit 70.  Call first. */
void xalloc_install_library_hooks(void);

#endif
