#!/usr/bin/env bash
# In-process Raft benchmark: raft-core against tikv's raft 0.7 (see BENCHMARKS.md).
#   bench/inproc/run.sh              every row, 3 alternating runs per side, medians
#   bench/inproc/run.sh all 5 ROW    5 runs of one row
#   bench/inproc/run.sh one core 128B-batch256    one run of one side (for perf)
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release --quiet
target="${CARGO_TARGET_DIR:-target}"
exec "$target/release/inproc-bench" "$@"
