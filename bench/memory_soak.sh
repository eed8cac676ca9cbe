#!/usr/bin/env bash
# A long write load on a 3-node raftkv cluster: does a node's memory stay bounded?
# Samples each node's resident set size and on-disk log size while redis-benchmark
# writes REQUESTS random keys out of KEYS. The in-memory log is bounded by snapshots
# (--snapshot-log-bytes), so RSS should flatten once the key space is full.
#   REQUESTS=600000 KEYS=100000 SNAPSHOT_BYTES=1048576 bench/memory_soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
REQUESTS=${REQUESTS:-600000}
KEYS=${KEYS:-100000}
SNAPSHOT_BYTES=${SNAPSHOT_BYTES:-1048576}
command -v redis-benchmark >/dev/null || apt-get install -y redis-tools >/dev/null
cargo build --release -q -p raftkv
BIN=${CARGO_TARGET_DIR:-target}/release/raftkv
WORK=$(mktemp -d /tmp/raftkv-soak-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
PEERS=1=127.0.0.1:17301,2=127.0.0.1:17302,3=127.0.0.1:17303
for i in 1 2 3; do
    "$BIN" server --id $i --peers $PEERS --client 127.0.0.1:1648$i --data-dir "$WORK/n$i" \
        --snapshot-log-bytes "$SNAPSHOT_BYTES" 2>"$WORK/n$i.log" &
    PIDS+=($!)
done
sleep 1.5
redis-benchmark -p 16481 -t set -d 128 -r "$KEYS" -n "$REQUESTS" -c 20 -q >"$WORK/bench.txt" 2>&1 &
BENCH=$!
echo "| seconds | RSS node 1 / 2 / 3 (MiB) | log bytes on disk node 1 / 2 / 3 | applied (node 1) |"
echo "|---:|---|---|---:|"
start=$(date +%s)
while kill -0 $BENCH 2>/dev/null; do
    rss=$(for p in "${PIDS[@]}"; do ps -o rss= -p "$p" | awk '{printf "%.1f", $1/1024}'; echo -n " / "; done)
    logs=$("$BIN" status --peers $PEERS 2>/dev/null | awk 'NR > 1 {printf "%s / ", $9}')
    applied=$("$BIN" status --peers $PEERS 2>/dev/null | awk 'NR == 2 {print $7}')
    echo "| $(( $(date +%s) - start )) | ${rss% / } | ${logs% / } | $applied |"
    sleep 5
done
tr '\r' '\n' <"$WORK/bench.txt" | grep "requests per second" | tail -1
