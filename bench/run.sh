#!/usr/bin/env bash
# Every benchmark of BENCHMARKS.md in one run on this machine, side by side with what a
# user would pick instead, written as one results file (markdown) with every goal of
# issue 17 marked met or not. Installs what it needs (Debian's redis-server,
# redis-tools, etcd-server, wrk; the raft crate comes from crates.io with
# bench/inproc). Run it on an otherwise idle machine: it takes about 15 minutes.
#   bench/run.sh                      # writes bench/results/DATE.md and prints it
#   OUT=/tmp/r.md INPROC_RUNS=5 bench/run.sh
#   PARTS="e2e sim" bench/run.sh      # some parts only: e2e inproc sim memory
set -euo pipefail
cd "$(dirname "$0")/.."
PARTS=${PARTS:-e2e inproc sim memory}
INPROC_RUNS=${INPROC_RUNS:-3}
# Each scenario's measurement lasts a second or more at these counts: at 50 and 10 seeds
# (0.1 s) single runs varied by a third or more.
SIM_SEEDS=${SIM_SEEDS:-200}
KV_SIM_SEEDS=${KV_SIM_SEEDS:-50}
MEMORY_KEYS=${MEMORY_KEYS:-1000000}
CATCHUP_KEYS=${CATCHUP_KEYS:-300000}
mkdir -p bench/results
OUT=${OUT:-bench/results/$(date -u +%F).md}

want() { [[ " $PARTS " == *" $1 "* ]]; }

e2e() {
    echo "## End to end: 3 nodes on loopback, fsync on"
    echo
    echo '`bench/redis_compare.sh` (raftkv and Redis, redis-benchmark -d 128) and `bench/etcd_rows.sh` (etcd, wrk).'
    echo
    local rows
    rows=$({ bench/redis_compare.sh | tail -n +3; bench/etcd_rows.sh; })
    echo "| server | test | clients | requests/s | p50 ms | p99 ms |"
    echo "|---|---|---|---:|---:|---:|"
    echo "$rows"
    echo
    python3 bench/goals.py e2e <<<"$rows"
}

inproc() {
    echo "## In-process Raft: raft-core against raft-rs 0.7"
    echo
    echo "\`bench/inproc/run.sh all $INPROC_RUNS\` (medians of $INPROC_RUNS alternating runs per side)."
    echo
    local table
    table=$(bench/inproc/run.sh all "$INPROC_RUNS")
    echo "$table"
    echo
    python3 bench/goals.py inproc <<<"$table"
}

sim() {
    echo "## Simulation speed ($SIM_SEEDS seeds per Raft scenario, $KV_SIM_SEEDS for KV)"
    echo
    echo '```'
    local lines
    lines=$({
        BENCH_SEEDS=$SIM_SEEDS cargo bench -q -p raft-sim --bench sim_speed 2>/dev/null
        BENCH_SEEDS=$KV_SIM_SEEDS cargo bench -q -p kv-sim --bench kv_speed 2>/dev/null
    })
    echo "$lines"
    cargo test -q --release -p raft-sim -p kv-sim --no-run 2>/dev/null
    local start end
    start=$(date +%s.%N)
    cargo test -q --release -p raft-sim -p kv-sim >/dev/null 2>&1
    end=$(date +%s.%N)
    echo "lab suite (raft-sim and kv-sim tests at CI seeds, release): wall $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s"
    echo '```'
    echo
    python3 bench/goals.py sim <<<"$lines"
}

memory() {
    echo "## Memory: a node holding $MEMORY_KEYS keys of 128-byte values"
    echo
    echo "\`KEYS=$MEMORY_KEYS bench/memory_keys.sh\`"
    echo
    local rows
    rows=$(KEYS=$MEMORY_KEYS bench/memory_keys.sh)
    echo "| keys | raw data MiB | node | RSS MiB | RSS / raw | peak MiB | peak / raw |"
    echo "|---:|---:|---|---:|---:|---:|---:|"
    echo "$rows"
    echo
    python3 bench/goals.py memory <<<"$rows"
    echo
    echo "A follower catching up from far behind (by snapshot): \`KEYS=$CATCHUP_KEYS bench/memory_catchup.sh\`"
    echo
    echo "| keys | raw data MiB | leader RSS MiB | follower peak RSS MiB | peak / leader | catch-up s |"
    echo "|---:|---:|---:|---:|---:|---:|"
    KEYS=$CATCHUP_KEYS bench/memory_catchup.sh
}

{
    echo "# Benchmark run $(date -u '+%F %H:%M UTC')"
    echo
    echo "Commit $(git rev-parse --short HEAD)$(git diff --quiet -- . ':!bench/results' || echo ' (work tree modified)');" \
        "$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)," \
        "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    for part in e2e inproc sim memory; do
        if want $part; then $part; echo; fi
    done
} | tee "$OUT"
echo "written to $OUT" >&2
