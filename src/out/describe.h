/* A claim's parameters as the runner sees them (attncheck describe), and a
 * run's grid before any work (--dry-run).  Everything is read from the
 * claim's sweeps through runner_sweeps: no parameter list is kept apart. */
#ifndef ATTNCHECK_DESCRIBE_H
#define ATTNCHECK_DESCRIBE_H

#include <stdio.h>
#include "runner.h"

/* How --set combines with a claim's sub-sweeps, in one paragraph. */
extern const char describe_set_rule[];
/* attncheck describe ID: text on f. */
void describe_print(FILE *f, const claim_t *c);
/* The same as one JSON document (malloc'd, or NULL out of memory). */
char *describe_json(const claim_t *c);
/* --dry-run: each claim's sub-sweeps under o (mutations[k]: its mutation),
 * the rows, and the memory estimate; nothing is computed. */
void describe_dry_run(FILE *f, const claim_t *const *claims, const int *mutations, int n,
                      const run_options_t *o);

#endif
