#!/usr/bin/env bash
# Seed sweep: runs every seeded test of one package over a seed range, split across
# parallel processes, without stopping at a test's first failing seed. Prints, per test,
# the seeds run, the failures, and seeds per second (per core), then every failing seed
# with the command that reruns it. Exits 1 if any seed failed.
#
#   scripts/sweep.sh PACKAGE BASE COUNT [JOBS]
#   scripts/sweep.sh raft-sim 500000 10000        # seeds 500000..509999, one job per core
#
# Extra arguments after `--` go to `cargo test`: `--test nemesis` for one test target,
# or a test name filter.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 3 ]; then
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
package=$1 base=$2 count=$3
jobs=${4:-$(nproc)}
shift $(( $# < 4 ? $# : 4 ))
[ "${1:-}" = "--" ] && shift
[ "$jobs" -ge 1 ] && [ "$count" -ge "$jobs" ] || { echo "need COUNT >= JOBS >= 1" >&2; exit 2; }

cargo test --release -q -p "$package" "$@" --no-run 2>&1 | grep -v '^$' >&2 || true
out=$(mktemp -d)
started=$(date +%s)
chunk=$(( (count + jobs - 1) / jobs ))
for (( j = 0; j < jobs; j++ )); do
    from=$(( base + j * chunk ))
    n=$(( chunk < base + count - from ? chunk : base + count - from ))
    [ "$n" -gt 0 ] || continue
    SIM_SWEEP=1 SIM_SEED_BASE=$from SIM_SEEDS=$n \
        cargo test --release -q -p "$package" "$@" -- --test-threads=1 --nocapture \
        > "$out/job$j.txt" 2>&1 &
done
wait
wall=$(( $(date +%s) - started ))

# libtest may print progress on the same line before a summary: keep from "sweep-" on.
cat "$out"/job*.txt | sed -n 's/.*\(sweep-\(result\|failure\)\t\)/\1/p' |
    awk -F'\t' -v wall="$wall" -v pkg="$package" -v base="$base" -v count="$count" '
    $1 == "sweep-result" {
        if (!($3 in seeds)) names[++nt] = $3
        seeds[$3] += $4; failed[$3] += $5; secs[$3] += $6
    }
    $1 == "sweep-failure" { fails[++nf] = $2 " seed " $3 ": " $4 "\n    reproduce: " $5 }
    END {
        printf "sweep of %s, seeds %d..%d, %d s wall\n", pkg, base, base + count - 1, wall
        printf "%-40s %8s %7s %10s\n", "test", "seeds", "failed", "seeds/s"
        for (i = 1; i <= nt; i++) {
            t = names[i]; rate = secs[t] > 0 ? seeds[t] / secs[t] : 0
            printf "%-40s %8d %7d %10.1f\n", t, seeds[t], failed[t], rate
            total_failed += failed[t]
        }
        for (i = 1; i <= nf; i++) print "FAILED " fails[i]
        exit total_failed > 0
    }'
status=$?
if grep -q "error\[" "$out"/job*.txt; then echo "build errors: see $out" >&2; exit 1; fi
rm -rf "$out"
exit $status
