/* The PP-OCRv4 SVTR encoder fixture shared by the real-model claims
 * (model_svtr.c, model_svtr_encoded.c). */
#ifndef ATTNCHECK_MODEL_SVTR_H
#define ATTNCHECK_MODEL_SVTR_H

#include <stddef.h>
#include "claim.h"
#include "modelcheck.h"

typedef struct {
    tmodel_t *m;
    convert_act_t act;
    imat_t X;          /* the real activations entering block 0, exact */
} svtr_t;

/* models/file, relative to the working directory (where `make models` puts it). */
void svtr_path(char *buf, size_t n, const char *file);
/* claim_t.available: the model and its input are there (else why, and
 * "run 'make models'"). */
int svtr_available(char *why, size_t whysz);
/* Open the model and its tokens for row r (-1 with r->note on failure). */
int svtr_open(svtr_t *s, row_t *r);
void svtr_close(svtr_t *s);
/* Run the checks of o (its row callback set here) on tokens X, into the
 * one row r; -1 with r->note on failure. */
int svtr_check(row_t *r, const svtr_t *s, const imat_t X, mcheck_opts_t *o);
/* claim_t.export_instance: the converted encoder on the first `tokens` (all
 * when NULL) real tokens, with every mask encoded by Omega when omega is not
 * NULL; its input stream and its reference. */
int svtr_export(instance_t *I, const params_t *p, unsigned long seed, mpfr_prec_t prec,
                long tokens, const arb_struct *omega);
/* The converter's mutation (CONVERT_MUT_*) for row r of claim c. */
int svtr_mutation(const claim_t *c, const row_t *r);

#endif
