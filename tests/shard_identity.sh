#!/usr/bin/env bash
# A sharded run merges byte-identical to the unsharded one.  Each case runs
# one command unsharded, then as N shards side by side (xargs -P 2, or GNU
# parallel where installed for the cases that name it), merges the shards
# (listed in reverse order), and compares the exit codes, the summaries
# printed, the list of files and every file byte for byte: md, csv, json,
# svg and the gnuplot scripts (run.log holds timings and is left aside).
# The SLURM array job of scripts/shards.sbatch runs as its tasks would, and
# doc/cluster.md shows that script as it is.  Silent when every case passes; one
# line per difference otherwise.
# usage: tests/shard_identity.sh ATTNCHECK_BIN TMPDIR [small|all]
# (small: the cases of a few claims; all: every claim's default grid, the
# whole registry (make check-slow); neither: both)
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tmp=$2
which=${3:-}
repo=$(cd "$(dirname "$0")/.." && pwd)
failed=0

say() { echo "shard_identity: $*" >&2; failed=1; }

# run_case NAME N RUNNER ARGS...   (RUNNER: xargs, parallel or slurm)
run_case() {
    local name=$1 n=$2 runner=$3
    shift 3
    local dir=$tmp/$name k rc want
    mkdir -p "$dir"
    "$bin" "$@" --out "$dir/whole" >"$dir/whole.out" 2>"$dir/whole.err"
    want=$?
    if [ "$want" -ge 64 ]; then
        say "$name: the unsharded run failed ($want): $(head -c 300 "$dir/whole.err")"
        return
    fi
    # each shard exits with its rows' verdict code, which xargs and parallel
    # fold into theirs: what counts is that each wrote its partial results
    if [ "$runner" = parallel ]; then
        seq 0 $((n - 1)) | parallel -q -j 2 "$bin" "$@" --shard "{}/$n" --out "$dir/shards/{}" \
            >/dev/null 2>"$dir/shards.err"
    elif [ "$runner" = slurm ]; then
        # the array's tasks, two at a time, each in the job's directory
        (cd "$dir" && seq 0 $((n - 1)) | xargs -P 2 -I{} env SLURM_ARRAY_TASK_ID={} \
            SLURM_ARRAY_TASK_MAX=$((n - 1)) SLURM_CPUS_PER_TASK=1 ATTNCHECK="$bin" \
            bash "$repo/scripts/shards.sbatch" "$@" >/dev/null 2>"$dir/shards.err")
    else
        seq 0 $((n - 1)) | xargs -P 2 -I{} "$bin" "$@" --shard "{}/$n" --out "$dir/shards/{}" \
            >/dev/null 2>"$dir/shards.err"
    fi
    for k in $(seq 0 $((n - 1))); do
        if [ ! -f "$dir/shards/$k/partial.json" ]; then
            say "$name: shard $k/$n wrote no partial results: $(grep -v progress "$dir/shards.err" | head -c 300)"
            return
        fi
    done
    local shards=()
    for k in $(seq $((n - 1)) -1 0); do shards+=("$dir/shards/$k"); done
    "$bin" merge "${shards[@]}" --out "$dir/merged" >"$dir/merged.out" 2>"$dir/merged.err"
    rc=$?
    [ "$rc" = "$want" ] || say "$name: merge exited $rc, the unsharded run $want: $(head -c 300 "$dir/merged.err")"
    local whole merged f kinds=""
    whole=$(cd "$dir/whole" && ls -A | grep -v '^run\.log$')
    merged=$(cd "$dir/merged" && ls -A | grep -v '^run\.log$')
    [ "$whole" = "$merged" ] || say "$name ($n shards): the merge wrote other files:" $merged "; unsharded:" $whole
    for f in $whole; do
        [ -f "$dir/merged/$f" ] || continue
        cmp -s "$dir/whole/$f" "$dir/merged/$f" || say "$name ($n shards): $f differs"
        kinds="$kinds ${f##*.}"
    done
    for f in md csv json svg; do
        case " $kinds " in *" $f "*) ;; *) say "$name: no .$f file was compared" ;; esac
    done
    grep -v '^reports written' "$dir/whole.out" >"$dir/whole.sum"
    grep -v '^reports written' "$dir/merged.out" >"$dir/merged.sum"
    cmp -s "$dir/whole.sum" "$dir/merged.sum" || say "$name ($n shards): the printed summaries differ"
}

runner=xargs
command -v parallel >/dev/null 2>&1 && runner=parallel

if [ "$which" != all ]; then
    # doc/cluster.md shows scripts/shards.sbatch as it is (its comment lines aside)
    while IFS= read -r line; do
        case "$line" in "# "* | "") continue ;; esac
        grep -qxF "    $line" "$repo/doc/cluster.md" || say "doc/cluster.md does not show this line of scripts/shards.sbatch: $line"
    done <"$repo/scripts/shards.sbatch"

    # an exact claim and an inequality with fits and a summary, whole
    run_case exact-inequality-1 1 xargs verify neuron-head mask-encoding
    # more shards than inflation's 5 rows: its shards 5 and 6 are empty
    run_case empty-shards-7 7 "$runner" verify neuron-head mask-encoding inflation attention-only-encoded
    # a sweep of one's own with a seed and precisions; mutated runs (violated, exit 1)
    run_case sweep-4 4 xargs sweep mask-encoding --set omega=4,8,16 --seed 5 --prec 53,113
    run_case mutated-3 3 xargs verify neuron-head relu-limit --mutate=all
    # the SLURM array job, 8 tasks
    run_case slurm-8 8 slurm verify linear-head blog-one-layer
fi
if [ "$which" != small ]; then
    # every claim's default grid
    run_case all-claims-3 3 "$runner" verify
fi
exit $failed
