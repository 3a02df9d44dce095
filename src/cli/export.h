/* attncheck export: one instance of a claim as JSON an independent program
 * can recompute. */
#ifndef ATTNCHECK_EXPORT_H
#define ATTNCHECK_EXPORT_H

#include <stdio.h>
#include "runner.h"

/* The instance as JSON text (through jansson; ends in a newline), or NULL
 * when out of memory.  free() it. */
char *export_json(const claim_t *c, const row_t *r, const instance_t *I);
/* Build the claim's first grid point and write its converted network to
 * path (F64 safetensors) and path.json (exact entries), with the stream it
 * starts from ("stream_in") and the reference stream ("reference_out", the
 * midpoints of a certified enclosure): aonet_export.h.  Returns an exit
 * code (64 when the claim builds no network). */
int export_claim_network(const claim_t *c, const run_options_t *o, mpfr_prec_t prec,
                         const char *path);
/* Build the claim's first grid point with the options' seed and write it to
 * path (stdout when NULL).  Returns an exit code. */
int export_claim_instance(const claim_t *c, const run_options_t *o, mpfr_prec_t prec,
                          const char *path);

#endif
