/* `attncheck model FILE` as a claim: built at run time from the model file,
 * its grid the union of sweeps over the axes check and block (pos for the
 * top-1 rows), every row independent (any thread, any shard, any
 * precision), run by the one runner.  The rows (modelcheck.h computes them):
 *   attn, mlp, mlp-silu_a  × block   each sublayer alone, on the original's
 *                                    stream entering it (cached, exact)
 *   model | model-silu_a             end to end, exact rule, depth 2L + 1
 *   real                             (activations approximated by SiLU_a)
 *                                    E to the real model <= --tol
 *   encoded                          (--omega) masks encoded by Omega
 *   top1 × pos                       (a file with unembed.W_U) the converted
 *                                    network's top-1 token is the model's */
#ifndef ATTNCHECK_MODEL_CLAIM_H
#define ATTNCHECK_MODEL_CLAIM_H

#include "claim.h"
#include <stdio.h>
#include "convert.h"
#include "modelcheck.h"

/* What a model claim is built from: the command line's options (text, as
 * given: they are recorded and a merge rebuilds the claim from them). */
typedef struct {
    const char *file;        /* the model (.safetensors) */
    const char *input;       /* the stream entering block 0 (or NULL: drawn tokens) */
    long tokens;             /* drawn tokens (no input) */
    unsigned long seed;
    const char *act_a;       /* or NULL */
    const char *omega;       /* or NULL: no encoded row */
    const char *tol;         /* absolute tolerance of `real` (or NULL: 1e-3 S); for an
                                approximated activation without act_a or heads_per_neuron
                                it also chooses the heads per neuron of each block */
    int heads_per_neuron;    /* m SiLU heads per neuron in every block (0: one SiLU_a) */
    mpfr_prec_t prec;        /* the sublayer rows' working precision */
    convert_form_t form;     /* the conversion's form (0: float-robust) */
    int arith;               /* 1: the claim is the base of its float twin (arith_claim.h,
                                --arith): its grid is one row `float` (the whole network)
                                and its estimates count the network and the original held
                                in memory; it is run only through the twin */
} model_spec_t;

#define MODEL_PREC_DEFAULT 128
#define MODEL_TOKENS_DEFAULT 32
#define MODEL_TOL_REL 1e-3
/* The most heads per neuron --tol tries (the shipped fits). */
#define MODEL_HEADS_MAX SILUSUM_SHIPPED_M

typedef struct model_claim model_claim_t;

/* Open the file, check it, estimate the run's memory (the tokens, the
 * cached streams, jobs rows at work) against max_memory before any large
 * allocation, read or draw the tokens and build the claim.  0, or an exit
 * code with one line in err. */
int model_claim_open(model_claim_t **mc, const model_spec_t *s, int jobs, double max_memory,
                     char *err, size_t errsz);
void model_claim_free(model_claim_t *mc);
const claim_t *model_claim(const model_claim_t *mc);
/* sha256 of the model file (64 hex digits). */
const char *model_claim_sha256(const model_claim_t *mc);
/* What a shard records and merge checks: the model file's sha256, and "+" the
 * --input file's when the tokens come from one. */
const char *model_claim_identity(const model_claim_t *mc);
/* The report's extra JSON ("details"): the file, config, tokens, heads. */
char *model_claim_details(const model_claim_t *mc);
/* One console line per row (the check, its block or position, E, verdict). */
void model_claim_print_rows(FILE *f, const claim_report_t *rep);
/* The converted network's layers (and final LN) to a sink, block by block
 * (an export); 0 or an exit code with err. */
int model_claim_convert(const model_claim_t *mc, const aonet_sink_t *sink, char *err,
                        size_t errsz);
/* What the run is made of, for the console and exports. */
const tmodel_t *model_claim_model(const model_claim_t *mc);
const convert_act_t *model_claim_act(const model_claim_t *mc);
const imat_struct *model_claim_tokens(const model_claim_t *mc);
const char *model_claim_tokens_text(const model_claim_t *mc);
/* Block b's heads per neuron (1 without --heads-per-neuron or --tol's choice). */
int model_claim_heads_m(const model_claim_t *mc, long b);

/* sha256 of a file as 64 hex digits; -1 when it cannot be read. */
int model_file_sha256(char hex[65], const char *path);

#endif
