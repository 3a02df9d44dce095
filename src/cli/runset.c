/* The one road from claims to reports (runset.h). */
#include <stdio.h>
#include <stdlib.h>
#include "cli.h"
#include "describe.h"
#include "journal.h"
#include "progress.h"
#include "exitcodes.h"
#include "runset.h"
#include "xalloc.h"

int runset_run(const runset_t *s)
{
    char err[512];
    int status = EXIT_HOLDS, done = 0, n = s->n;
    claim_report_t *reps = NULL;
    outdir_t dir = {.lock_fd = -1};
    journal_t *journal = NULL;
    long not_run = 0;
    const char *out = s->out ? s->out : "reports";
    const int sharded = s->run->shard_count > 0;
    shard_set_t *from = s->from;
    if (from && shard_set_check(from, s->how, s->claims, s->mutations, n, err, sizeof err) != 0)
        return cli_fail(EXIT_DATAERR, "merge: %s", err);
    if (s->run->dry_run && !from) /* the grid and the estimate, nothing computed */
        describe_dry_run(stdout, s->claims, s->mutations, n, s->run);
    if (runner_check_limits(s->claims, n, s->run, err, sizeof err) != 0)
        return cli_fail(EXIT_DATAERR, "%s", err);
    if (s->run->dry_run && !from)
        return EXIT_HOLDS;
    if (!s->no_write && (status = outdir_open(&dir, out, err, sizeof err)) != 0)
        return cli_fail(status, "%s", err);
    if (!s->no_write && s->on_dir && (status = s->on_dir(dir.path, s->arg)) != 0)
        goto done;
    if (!s->no_write && !sharded && (s->formats & FORMAT_MD)) {
        /* an index the run could not merge into is refused before any work */
        json_t *kept;
        if ((status = report_index_read(&kept, dir.path, err, sizeof err)) != 0) {
            cli_fail(status, "%s", err);
            goto done;
        }
        json_decref(kept);
    }

    /* finished rows go to the journal as they come: --resume keeps them */
    if (!s->no_write && !from &&
        (status = journal_open(&journal, dir.path, s->how, s->claims, s->mutations, n, s->run,
                               s->run->resume, err, sizeof err)) != 0) {
        cli_fail(status, "%s", err);
        goto done;
    }
    if (!from) {
        long total = 0;
        for (int k = 0; k < n; k++)
            total += runner_shard_rows(runner_grid_rows(s->claims[k], s->run), s->run);
        progress_begin(total, s->run->progress);
    }
    reps = xcalloc((size_t)(n ? n : 1), sizeof *reps);
    for (int k = 0; k < n; k++) {
        run_options_t o = *s->run;
        o.mutation = s->mutations[k];
        journal_attach(journal, &o, k);
        int rc = from ? shard_set_fill(reps + k, from, k, s->claims[k], &o, err, sizeof err)
                      : runner_run_claim(reps + k, s->claims[k], &o, err, sizeof err);
        if (rc != 0) {
            cli_fail(EXIT_DATAERR, "%s%s", from ? "merge: " : "", err);
            claim_report_clear(reps + k);
            status = EXIT_DATAERR;
            break;
        }
        done++;
        if (s->on_report && (rc = s->on_report(reps + k, s->arg)) != 0) {
            status = rc;
            break;
        }
        progress_clear();
        not_run += reps[k].not_run;
        report_print_summary(stdout, reps + k);
        if (s->on_printed)
            s->on_printed(reps + k, s->arg);
        cli_flush_stdout();
        if (!from && s->run->progress)
            report_print_timing(stderr, reps + k);
        if (s->mutate) /* every mutated row must be violated */
            status = reps[k].violated < reps[k].n_rows ? EXIT_UNDETECTED
                   : status == EXIT_UNDETECTED ? status : EXIT_VIOLATED;
        else if (reps[k].violated)
            status = EXIT_VIOLATED;
        else if (reps[k].inconclusive && status == EXIT_HOLDS)
            status = EXIT_INCONCLUSIVE;
    }
    if (status != EXIT_DATAERR && !s->no_write) {
        if (sharded) {
            int rc = shard_write(reps, done, s->how, dir.path, err, sizeof err);
            if (rc)
                status = cli_fail(rc, "%s", err);
            else
                printf("partial results written to %s/%s (attncheck merge makes the reports)\n",
                       dir.path, SHARD_FILE);
        }
        for (int k = 0; !sharded && k < done && status != EXIT_CANTCREAT && status != EXIT_IOERR;
             k++) {
            int rc = report_write_claim(reps + k, s->how, dir.path, s->formats, err, sizeof err);
            if (rc)
                status = cli_fail(rc, "%s", err);
        }
        if (!sharded && status != EXIT_CANTCREAT && status != EXIT_IOERR &&
            (s->formats & FORMAT_MD)) {
            int rc = report_write_index(reps, done, s->how, dir.path, err, sizeof err);
            if (rc)
                status = cli_fail(rc, "%s", err);
            else
                printf("reports written to %s/ (index.md)\n", dir.path);
        }
        if (status < EXIT_USAGE) {
            int rc = report_write_run_log(reps, done, s->how, dir.path, err, sizeof err);
            if (rc)
                status = cli_fail(rc, "%s", err);
        }
    }
    if (!from)
        progress_end();
    if (journal && journal_kept(journal) > 0)
        fprintf(stderr, "attncheck: --resume: %ld rows kept from %s/%s, the others computed\n",
                journal_kept(journal), dir.path, JOURNAL_FILE);
    if (journal && not_run > 0 && status < EXIT_USAGE)
        fprintf(stderr, "attncheck: %ld rows not run (--max-seconds); the same command with "
                "--resume computes only those (%s/%s)\n", not_run, dir.path, JOURNAL_FILE);
done:
    if (s->on_close)
        status = s->on_close(status, s->arg);
    /* kept while rows are left to compute, or the reports could not be
     * written; gone once they are, or when the run failed on its data */
    journal_end(journal, (not_run > 0 && status < EXIT_USAGE) || status == EXIT_CANTCREAT ||
                             status == EXIT_IOERR);
    if (!s->no_write)
        outdir_close(&dir, status >= EXIT_USAGE);
    for (int k = 0; k < done; k++)
        claim_report_clear(reps + k);
    free(reps);
    journal_close(journal);
    return status;
}
