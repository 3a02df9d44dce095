/* What made a report: attncheck's version (git describe at build time) and
 * the versions of the libraries its numbers and files come from. */
#ifndef ATTNCHECK_VERSION_H
#define ATTNCHECK_VERSION_H

const char *attncheck_version(void);

typedef struct {
    const char *name;
    const char *version;
} library_version_t;

/* The libraries in use, as linked at run time; returns how many (<= max). */
int attncheck_libraries(library_version_t *out, int max);

#endif
