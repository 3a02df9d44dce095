/* What a run prints on the terminal: the summary of a claim, its time,
 * and the claims catalogue (attncheck list --format md). */
#include <stdlib.h>
#include <string.h>
#include "arith_claim.h"
#include "report_internal.h"

void report_print_summary(FILE *f, const claim_report_t *rep)
{
    char stem[256];
    report_stem(stem, sizeof stem, rep);
    if (rep->skipped) {
        fprintf(f, "%-24s %-10s skipped: %s\n", stem, claim_kind_name(rep->claim->kind),
                rep->skip_reason);
        return;
    }
    char counts[256];
    report_counts_text(counts, sizeof counts, rep);
    fprintf(f, "%-24s %-10s %5ld rows: %s  %s\n", stem, claim_kind_name(rep->claim->kind),
            rep->n_rows, counts, rep->claim->source);
    /* Per precision requested: the largest hi(E), and the row closest to
     * what its verdict compares it with, S 2^(kappa - p). */
    if (rep->n_rows && params_get(&rep->rows[0].params, "prec") && rep->claim->kind == KIND_EXACT) {
        long seen[64];
        int ns = 0;
        for (long k = 0; k < rep->n_rows; k++) {
            long p;
            if (params_get_long(&p, &rep->rows[k].params, "prec") != 0)
                continue;
            int j;
            for (j = 0; j < ns && seen[j] != p; j++) {}
            if (j == ns && ns < 64)
                seen[ns++] = p;
        }
        for (int j = 0; j < ns; j++) {
            const row_t *tight = NULL;
            long tight_margin = 0;
            mpfr_t worst;
            mpfr_init2(worst, 64);
            mpfr_set_ui(worst, 0, MPFR_RNDU);
            for (long k = 0; k < rep->n_rows; k++) {
                const row_t *r = rep->rows + k;
                long p, tenths;
                if (params_get_long(&p, &r->params, "prec") != 0 || p != seen[j])
                    continue;
                mpfr_t e;
                mpfr_init2(e, 64);
                ival_get_hi(e, r->error);
                mpfr_max(worst, worst, e, MPFR_RNDU);
                mpfr_clear(e);
                if (row_slack_tenths(&tenths, r) == 0 &&
                    (!tight || tenths - 10L * verdict_kappa(r->depth) > tight_margin)) {
                    tight = r;
                    tight_margin = tenths - 10L * verdict_kappa(r->depth);
                }
            }
            long raised = 0, top = 0;
            for (long k = 0; k < rep->n_rows; k++) {
                const row_t *r = rep->rows + k;
                if (r->prec_requested == seen[j] && r->prec > r->prec_requested) {
                    raised++;
                    top = r->prec > top ? (long)r->prec : top;
                }
            }
            char *w = text_up(worst, 3);
            fprintf(f, "    prec %5ld: max hi(E) = %s", seen[j], w ? w : "?");
            if (raised)
                fprintf(f, " (%ld rows at a raised working precision, up to %ld bits)", raised, top);
            if (tight) {
                char *e = text_hi(tight->error, 3), *t = text_tolerance(tight, 3);
                char *sl = text_slack(tight);
                fprintf(f, "; closest to its tolerance: hi(E) = %s vs S·2^(κ−p) = %s (slack used "
                           "%s of κ = %d bits)\n", e ? e : "?", t ? t : "?", sl ? sl : "?",
                        verdict_kappa(tight->depth));
                free(e);
                free(t);
                free(sl);
            } else {
                fputs(" (hi(E) = 0 exactly on every row)\n", f);
            }
            free(w);
            mpfr_clear(worst);
        }
    }
    for (long k = 0, shown = 0; rep->mutation > 0 && k < rep->n_rows && shown < 3; k++) {
        const row_t *r = rep->rows + k;
        if (r->verdict == VERDICT_VIOLATED)
            continue;
        shown++;
        fprintf(f, "    %s: seed %lu prec %ld", row_verdict_word(rep, r), r->seed, (long)r->prec);
        if (row_exact_rule(rep, r))
            fprintf(f, " (resolution 2^%ld)", (long)verdict_kappa(r->depth) - (long)r->prec);
        for (int a = 0; a < r->params.n; a++)
            if (param_is_column(r->params.name[a]))
                fprintf(f, " %s=%s", r->params.name[a], r->params.value[a]);
        fputc('\n', f);
    }
    for (long k = 0, shown = 0; k < rep->n_rows && shown < 3; k++) {
        const row_t *r = rep->rows + k;
        if (r->verdict != VERDICT_VIOLATED)
            continue;
        shown++;
        fprintf(f, "    violated: seed %lu prec %ld", r->seed, (long)r->prec);
        for (int a = 0; a < r->params.n; a++)
            if (param_is_column(r->params.name[a]))
                fprintf(f, " %s=%s", r->params.name[a], r->params.value[a]);
        char *lo = ival_lo_str(r->error, 6), *hi = ival_hi_str(r->error, 6);
        fprintf(f, "  E in [%s, %s]\n", lo, hi);
        mpfr_free_str(lo);
        mpfr_free_str(hi);
    }
}

void report_print_timing(FILE *f, const claim_report_t *rep)
{
    char stem[256];
    report_stem(stem, sizeof stem, rep);
    fprintf(f, "attncheck: progress: %s: %ld rows in %.1f s\n", stem, rep->n_rows, rep->seconds);
}

void report_print_catalogue_md(FILE *f)
{
    fputs("# Claims checked by attncheck\n\n"
          "Generated by `attncheck list --format md`; `make check` fails when this file is "
          "stale. Source: R. Huben and V. Morris, *Attention-Only Transformers and "
          "Implementing MLPs with Attention Heads*, arXiv:2309.08593 (2023), and the first "
          "author's blog code (RobertHuben/ffn_via_attention). Provenance *derived* means "
          "worked out from the abstract, theorem numbering and code, not copied from the "
          "paper: a reader holding the paper can compare the formula below with it.\n\n"
          "Conventions: row vectors; bias token at position 0 (X̂ = [[0, 1], [X, 0]]); "
          "σ(t) = 1/(1+e^−t); SiLU_a(z) = z·σ(az); logits s_ij = τ·x_i W_QK x_jᵀ (no 1/√r); "
          "masks C (causal), B (self + bias), I (self); no LayerNorm except in the model-* claims "
          "(stream [features | c | f], bias token [0, 1, 1]; see model-svtr).\n\n", f);
    for (int k = 0; claim_registry[k]; k++) {
        const claim_t *c = claim_registry[k];
        fprintf(f, "## %s — %s (%s; provenance: %s)\n\n%s\n\n%s\n\n", c->id, c->source,
                claim_kind_name(c->kind), c->provenance, c->statement, c->formula);
        if (c->mutations[0][0]) {
            fputs("Mutations:", f);
            for (int m = 0; m < CLAIM_MAX_MUTATIONS && c->mutations[m][0]; m++)
                fprintf(f, "%s `%s` (%s)", m ? ";" : "", c->mutations[m][0], c->mutations[m][1]);
            fputs(".\n\n", f);
        }
    }
    fputs(arith_claim_catalogue_md(), f);
}

/* One grid (quick or full) as [{"label", "axes": [{"name", "values": [...]}]}]. */
static json_t *grid_json(const sweep_t *grid)
{
    json_t *sweeps = json_array();
    int ok = sweeps != NULL;
    for (int s = 0; ok && s < CLAIM_MAX_SWEEPS && grid[s].label; s++) {
        json_t *sw = json_object(), *axes = json_array();
        report_json_set(sw, "label", report_json_text(grid[s].label), &ok);
        for (int a = 0; ok && a < SWEEP_MAX_AXES && grid[s].axes[a].name; a++) {
            json_t *ax = json_object(), *vals = json_array();
            report_json_set(ax, "name", report_json_text(grid[s].axes[a].name), &ok);
            /* the values as the claim writes them, one string each */
            for (const char *v = grid[s].axes[a].values; ok && *v;) {
                size_t len = strcspn(v, ",");
                json_t *one = json_stringn(v, len);
                report_json_push(vals, one, &ok);
                v += len + (v[len] == ',');
            }
            report_json_set(ax, "values", vals, &ok);
            report_json_push(axes, ax, &ok);
        }
        report_json_set(sw, "axes", axes, &ok);
        report_json_push(sweeps, sw, &ok);
    }
    if (!ok) {
        json_decref(sweeps);
        return NULL;
    }
    return sweeps;
}

char *report_catalogue_json(void)
{
    json_t *doc = json_object(), *claims = json_array();
    int ok = 1;
    for (int k = 0; ok && claim_registry[k]; k++) {
        const claim_t *c = claim_registry[k];
        json_t *o = json_object(), *grids = json_object(), *muts = json_array();
        report_json_set(o, "id", report_json_text(c->id), &ok);
        report_json_set(o, "source", report_json_text(c->source), &ok);
        report_json_set(o, "kind", report_json_text(claim_kind_name(c->kind)), &ok);
        report_json_set(o, "provenance", report_json_text(c->provenance), &ok);
        report_json_set(o, "statement", report_json_text(c->statement), &ok);
        /* an empty full grid is the quick one: written out, not left implied */
        report_json_set(grids, "quick", grid_json(c->quick), &ok);
        report_json_set(grids, "full", grid_json(c->full[0].label ? c->full : c->quick), &ok);
        report_json_set(o, "sweeps", grids, &ok);
        for (int m = 0; ok && m < CLAIM_MAX_MUTATIONS && c->mutations[m][0]; m++) {
            json_t *mu = json_object();
            report_json_set(mu, "name", report_json_text(c->mutations[m][0]), &ok);
            report_json_set(mu, "breaks", report_json_text(c->mutations[m][1]), &ok);
            report_json_push(muts, mu, &ok);
        }
        report_json_set(o, "mutations", muts, &ok);
        report_json_push(claims, o, &ok);
    }
    report_json_set(doc, "claims", claims, &ok);
    if (!ok) {
        json_decref(doc);
        return NULL;
    }
    return report_json_dumps(doc);
}
