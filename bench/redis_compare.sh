#!/usr/bin/env bash
# raftkv (3 nodes on loopback, every write fsynced on a majority) against one
# redis-server with appendfsync always (every write fsynced), driven by the same
# redis-benchmark command. Prints one markdown table. Usage:
#   bench/redis_compare.sh            # defaults: 128-byte values
#   N1=2000 N50=20000 NP=200000 bench/redis_compare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N1=${N1:-2000}      # requests with 1 client
N50=${N50:-20000}   # requests with 50 clients
NP=${NP:-200000}    # requests with 50 clients pipelining 16 each (fast: needs more to time)

if ! command -v redis-benchmark >/dev/null || ! command -v redis-server >/dev/null; then
    apt-get install -y redis-tools redis-server >/dev/null
fi
cargo build --release -q -p raftkv
BIN=${CARGO_TARGET_DIR:-target}/release/raftkv

WORK=$(mktemp -d /tmp/raftkv-bench-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

PEERS=1=127.0.0.1:17101,2=127.0.0.1:17102,3=127.0.0.1:17103
for i in 1 2 3; do
    "$BIN" server --id $i --peers $PEERS --client 127.0.0.1:1638$i --data-dir "$WORK/n$i" 2>"$WORK/n$i.log" &
    PIDS+=($!)
done
redis-server --port 16390 --dir "$WORK" --appendonly yes --appendfsync always --save '' \
    --daemonize no >"$WORK/redis.log" 2>&1 &
PIDS+=($!)

leader_port() {
    for i in 1 2 3; do
        if redis-cli -p 1638$i info 2>/dev/null | grep -q '^role:leader'; then echo 1638$i; return; fi
    done
    return 1
}
for _ in $(seq 1 100); do LEADER=$(leader_port) && break; sleep 0.1; done
FOLLOWER=16381; [ "$LEADER" = 16381 ] && FOLLOWER=16382

# row NAME PORT CLIENTS N [extra args]
row() {
    local name=$1 port=$2 c=$3 n=$4; shift 4
    redis-benchmark -p "$port" -t set,get -d 128 -c "$c" -n "$n" --csv "$@" 2>/dev/null |
        awk -F'","' -v name="$name" -v c="$c" -v extra="$*" 'NR > 1 {
            gsub(/"/, "", $1); gsub(/"/, "", $8);
            printf "| %s | %s | %s %s | %.0f | %s | %s |\n", name, $1, c, extra, $2, $5, $7 }'
}

echo "| server | test | clients | requests/s | p50 ms | p99 ms |"
echo "|---|---|---|---:|---:|---:|"
for c in 1 50; do
    n=$N1; [ $c = 50 ] && n=$N50
    row "redis appendfsync always" 16390 $c $n
    row "raftkv leader" "$LEADER" $c $n
    row "raftkv follower (forwards)" "$FOLLOWER" $c $n
done
row "redis appendfsync always" 16390 50 $NP -P 16
row "raftkv leader" "$LEADER" 50 $NP -P 16
