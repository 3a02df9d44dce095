/* Converted networks out: F64 safetensors in a TransformerLens-style
 * layout, plus a JSON file that makes the export exact.
 *
 * OUT (safetensors, F64), tensor names:
 *   net.layers.{k}.ln.w, net.layers.{k}.ln.b        [d]           (LN layers)
 *   net.layers.{k}.{group}.W_Q, .W_K                [n_heads, D, d_head_qk]
 *   net.layers.{k}.{group}.W_V                      [n_heads, D, d_head_ov]
 *   net.layers.{k}.{group}.W_O                      [n_heads, d_head_ov, D]
 *   net.ln_final.w, net.ln_final.b                  [d]           (LN)
 * and whatever the caller adds (the original model under "original.", its
 * embeddings under their TransformerLens names, its tokens, reference
 * outputs).  A shared W_K is written out for every head.
 * Metadata "attncheck_network": the network as JSON (aonet.h's layout:
 * D, d, per layer the LN's kind and eps, per group its name, n_heads,
 * d_head_qk, d_head_ov, attn_scale, mask rule; eps and attn_scale as exact
 * decimals), plus the caller's keys.  Tensors are laid out in the order
 * they are added (the header's keys sorted), so a large network is written
 * layer by layer, never held whole.
 *
 * OUT.json: the same metadata, and for every tensor whose F64 values are
 * not all exact, the exact decimal of each entry that is not: with them,
 * the F64 file is the certified network exactly.  Weights that are
 * doubles (a model's own, and most converted ones) need no correction.
 *
 * Both files appear together at commit (each written to a temporary and
 * renamed); nothing is left behind on failure. */
#ifndef ATTNCHECK_AONET_EXPORT_H
#define ATTNCHECK_AONET_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include "aonet.h"

typedef struct aonet_export aonet_export_t;

/* Start an export to path (and path.json).  0, or EXIT_CANTCREAT with one
 * line in err (nothing created). */
int aonet_export_open(aonet_export_t **ex, const char *path, char *err, size_t errsz);
/* Add a tensor of doubles (written now). */
int aonet_export_f64(aonet_export_t *ex, const char *name, size_t ndim, const uint64_t *shape,
                     const double *data, char *err, size_t errsz);
/* Add a ball matrix as an F64 tensor of its midpoints rounded to nearest;
 * entries that are not exact doubles get exact corrections in the JSON when
 * they are exact numbers (an inexact ball is an error: only exact data is
 * exported). */
int aonet_export_matrix(aonet_export_t *ex, const char *name, const imat_t A, char *err,
                        size_t errsz);
/* The midpoints of a ball matrix, rounded to nearest, as an F64 tensor (no
 * exact entries: for references, not weights). */
int aonet_export_midpoints(aonet_export_t *ex, const char *name, const imat_t A, char *err,
                           size_t errsz);
/* Every layer of A and its final LN. */
int aonet_export_network(aonet_export_t *ex, const aonet_t *A, char *err, size_t errsz);
/* Layer k, and the final LN, in the layout above. */
int aonet_export_layer(aonet_export_t *ex, long k, const aonet_layer_t *L, char *err,
                       size_t errsz);
int aonet_export_final_ln(aonet_export_t *ex, const aonet_ln_t *ln, char *err, size_t errsz);
/* Metadata: key -> text (copied), written at commit. */
void aonet_export_meta(aonet_export_t *ex, const char *key, const char *value);
/* Write both files and free ex.  0, or an exit code with one line in err
 * (nothing left behind). */
int aonet_export_commit(aonet_export_t *ex, char *err, size_t errsz);
/* Drop everything (ex NULL: nothing). */
void aonet_export_abort(aonet_export_t *ex);

/* The network JSON of "attncheck_network" for D, d and the layers seen so
 * far is built as layers are added; callers add nothing for it. */

#endif
