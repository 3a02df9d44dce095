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

/* One line "attncheck: out of memory ..." and exit 70. */
_Noreturn void xalloc_die(size_t size);

/* Route the numeric libraries' allocations through the checked ones, so
 * that their failures also end in one line and exit 70.  Call first. */
void xalloc_install_library_hooks(void);

#endif
