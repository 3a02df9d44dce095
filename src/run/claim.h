/* What a theorem module provides, and what it gets.  A module never prints
 * and never parses flags; src/ never knows a particular theorem. */
#ifndef ATTNCHECK_CLAIM_H
#define ATTNCHECK_CLAIM_H

#include <stddef.h>
#include "aonet.h"
#include "onet.h"
#include "row.h"
#include "verdict.h"

/* ---- a sweep is the product of its axes; a claim's grid is a union of sweeps ---- */
typedef struct {
    const char *name;
    const char *values; /* comma-separated */
} axis_t;

#define SWEEP_MAX_AXES 8
typedef struct {
    const char *label;              /* names a series in reports */
    axis_t axes[SWEEP_MAX_AXES];    /* terminated by {NULL, NULL} */
} sweep_t;

/* ---- an exported instance: named matrices, and the converted network ---- */
#define INSTANCE_MAX_MATS 64
typedef struct {
    int n;
    char name[INSTANCE_MAX_MATS][48];
    imat_struct *mat[INSTANCE_MAX_MATS];  /* owned */
    char note[256];
    /* The converted network the claim builds (net.n_layers 0: none), the
     * stream it starts from and the stream it must end in (the reference),
     * and the stream's layout in words: `attncheck export --format
     * safetensors` writes them (aonet_export.h). */
    aonet_t net;
    imat_t net_in, net_ref;
    long net_bias_row;    /* the bias (or extra) token's row of the streams: 0, or the last */
    /* The same network with explicit masks, where net encodes them with
     * one-hot positions and Omega (n_layers 0: none): it runs on the first
     * net_masked.D columns of net_in, and is what the encoding is compared
     * with (float formats). */
    aonet_t net_masked;
    char layout[200];
    /* The original (unconverted) computation the network stands for, as
     * the float rule runs it (orig.n_stages 0: none given): it runs on
     * orig_in, and its output is rows [orig_row0, orig_row0 + orig_in rows)
     * and columns [0, orig.D) of net_ref, exactly. */
    onet_t orig;
    imat_t orig_in;
    long orig_row0;
    /* 1: orig_in is the user's data (a model's tokens, --input or drawn):
     * the float rule runs on it as given; 0: on tokens drawn afresh. */
    int orig_tokens_given;
    /* A network and original too large to hold at once (a model's): when
     * source.net is set, net holds no layers (its D and d are set) and
     * source.net hands them over in order, one at a time; when source.orig
     * is set, orig holds no stages (D, act, a and what are set) and
     * source.orig hands them over.  ctx outlives the instance. */
    struct {
        void *ctx;
        int (*net)(void *ctx, const aonet_sink_t *sink, char *err, size_t errsz);
        int (*orig)(void *ctx, const onet_sink_t *sink, char *err, size_t errsz);
    } source;
} instance_t;
void instance_init(instance_t *I);
void instance_clear(instance_t *I);
/* The network's layers (held or from source.net) to sink, in order. */
int instance_emit_net(const instance_t *I, const aonet_sink_t *sink, char *err, size_t errsz);
/* The original's stages (held or from source.orig) to sink, in order. */
int instance_emit_orig(const instance_t *I, const onet_sink_t *sink, char *err, size_t errsz);
/* 1 when the instance has a network / an original computation. */
int instance_has_net(const instance_t *I);
int instance_has_orig(const instance_t *I);
/* Add a copy of A under name. */
void instance_add(instance_t *I, const char *name, const imat_t A);
/* Append a layer of the network: n heads of attn.h (one group), mask M (one
 * of aonet.h's rules, NULL for none; -1 when it is none of them), no
 * LayerNorm. */
int instance_net_heads(instance_t *I, const attn_head_struct *heads, long n, const mask_t *M,
                       mpfr_prec_t prec);
/* The same for the heads of a source, built one by one at stream width D. */
int instance_net_source(instance_t *I, const attn_source_t *src, long D, mpfr_prec_t prec);
/* The same two for the network with explicit masks (net_masked). */
int instance_masked_heads(instance_t *I, const attn_head_struct *heads, long n, const mask_t *M,
                          mpfr_prec_t prec);
int instance_masked_source(instance_t *I, const attn_source_t *src, long D, mpfr_prec_t prec);
void instance_masked_layer(instance_t *I, aonet_layer_t *L);
/* Append a layer, taking L over (L is left empty). */
void instance_net_layer(instance_t *I, aonet_layer_t *L);
/* The network's input and reference streams (copied) and its layout. */
void instance_net_io(instance_t *I, const imat_t in, const imat_t ref, const char *layout);
/* The original computation: an MLP with its residual, X + phi(X W_in) W_out
 * (phi SiLU_a with slope a), on the tokens X (copied) whose outputs are
 * net_ref's rows from row0; what says it in words. */
void instance_orig_mlp(instance_t *I, const imat_t X, const imat_t W_in, const imat_t W_out,
                       const arb_t a, long row0, const char *what);
/* The original's input (copied) and where its output sits in net_ref. */
void instance_orig_in(instance_t *I, const imat_t X, long row0);

/* ---- fits and plots, computed over all rows of a claim ---- */
typedef struct {
    char series[64];
    char x[24], y[24], model[24];
    double slope, intercept;
    int points;
    char comment[128];
} fit_t;

/* A plot: for each x, the largest y over the rows (one line per series).
 * Quantities: "error" (hi(E)), "bound", "ratio" (hi(E/bound)), "slack used"
 * and "kappa" (rows judged by the exact rule: log2(hi(E)/(S 2^-p)) and the
 * verdict's limit on it), or an extra column's name (its hi end). */
typedef struct {
    const char *x;        /* parameter name on the x axis */
    const char *y;        /* the quantity drawn */
    const char *series;   /* parameter whose values make the lines (or NULL) */
    int logx, logy;
    const char *title;
    const char *extra_y;  /* a reference quantity, dashed: one line, or one per series
                             where the series differ (or NULL) */
    const char *mark_x;   /* vertical lines: comma-separated numbers, extra column
                             names (a line per distinct value) and "min" (where the
                             quantity drawn is smallest, per series, and where
                             extra_y is); or NULL */
} plot_t;

typedef enum { KIND_EXACT, KIND_INEQUALITY, KIND_TABLE } claim_kind_t;

typedef struct claim_report claim_report_t;

#define CLAIM_MAX_SWEEPS 8
#define CLAIM_MAX_MUTATIONS 8
#define CLAIM_MAX_PLOTS 6
typedef struct claim_s {
    const char *id;           /* "mlp-layer" */
    const char *source;       /* "Theorem 3" */
    claim_kind_t kind;
    const char *provenance;   /* "paper" | "derived" | "blog code" */
    const char *statement;    /* one line */
    const char *formula;      /* markdown, several lines: construction and bound */
    const char *notes;        /* markdown: what the check does not cover (or NULL) */
    sweep_t quick[CLAIM_MAX_SWEEPS];   /* terminated by label NULL */
    sweep_t full[CLAIM_MAX_SWEEPS];    /* empty: same as quick */
    const char *mutations[CLAIM_MAX_MUTATIONS][2]; /* {name, what it breaks}, NULL-terminated */
    plot_t plots[CLAIM_MAX_PLOTS];     /* terminated by x NULL */

    /* Evaluate one row at r->prec. Returns 0, or -1 with r->note set when
     * the parameters are invalid (exit 65). */
    int (*run)(row_t *r);
    /* The instance part of the resolution rule before the first evaluation
     * (or NULL): r as run() gets it, at the start precision; sets
     * r->resolve_bits (and r->depth, r->exact_identity) to what run() will
     * set, from a cheap pass (the pre-activations alone).  The runner starts
     * the row at the rule's precision and applies the rule again to what
     * run() met (a short prediction costs a second evaluation, counted).
     * 0, or -1: no prediction. */
    int (*predict)(row_t *r);
    /* Precision to start a row at when no "prec" axis is given (or NULL: 128). */
    mpfr_prec_t (*start_prec)(const params_t *p);
    /* Build one instance for export (or NULL). */
    int (*export_instance)(instance_t *I, const params_t *p, unsigned long seed,
                           mpfr_prec_t prec);
    /* The same instance for a run rather than a file: its network and
     * original may be handed over by instance_t.source, one part at a time
     * (or NULL: export_instance's). */
    int (*run_instance)(instance_t *I, const params_t *p, unsigned long seed,
                        mpfr_prec_t prec);
    /* Fits over all rows after the sweep (or NULL). Returns the number written. */
    int (*fit)(fit_t *fits, int max_fits, const row_t *rows, long n_rows);
    /* Extra markdown appended to the report after the table (or NULL);
     * returns a malloc'd string. */
    char *(*summary_md)(const row_t *rows, long n_rows);
    /* Working memory of one row at precision prec in bytes, an estimate made
     * before any work (or NULL: only the row itself is counted);
     * thm_estimate_bytes in theorems/thm_common.c is the shared default. */
    double (*estimate_bytes)(const params_t *p, mpfr_prec_t prec);
    /* Whether the claim can run here (or NULL: always).  0 with a one-line
     * reason in why (a model fixture that is not there, and the command
     * that makes it): the claim is reported "skipped" with that reason, it
     * runs no row, and nothing else fails. */
    int (*available)(char *why, size_t whysz);
    /* Data a claim built at run time gives its rows (a model file read by
     * `attncheck model`, a float twin's base and format), handed to every
     * callback as params_t.ctx and row_t.ctx; NULL for the registry's
     * claims.  The claim keeps it thread-safe: rows run on any thread. */
    const void *ctx;
    /* A wrapper (arith_claim.h): the claim it wraps, whose id a command
     * line names; NULL for a claim of the registry. */
    const struct claim_s *base;
} claim_t;

/* The registry lives in theorems/registry.c. */
extern const claim_t *const claim_registry[];
const claim_t *claim_find(const char *id);
const char *claim_kind_name(claim_kind_t k);

#endif
