#!/usr/bin/env bash
# What recording a trace costs a real cluster: 3 raftkv nodes on loopback, SET and GET
# with redis-benchmark (50 clients, 128-byte values), without and with --trace-dir
# (and with --trace-outputs), alternating ROUNDS times. Prints one markdown table of
# medians and the trace bytes written per SET. Usage:
#   bench/trace_overhead.sh              # N=20000 requests per run, ROUNDS=3
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-20000}
ROUNDS=${ROUNDS:-3}
command -v redis-benchmark >/dev/null || apt-get install -y redis-tools >/dev/null
cargo build --release -q -p raftkv
BIN=${CARGO_TARGET_DIR:-target}/release/raftkv
WORK=$(mktemp -d /tmp/raftkv-trace-bench-XXXXXX)
PIDS=()
stop() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; PIDS=(); }
trap 'stop; rm -rf "$WORK"' EXIT
PEERS=1=127.0.0.1:17201,2=127.0.0.1:17202,3=127.0.0.1:17203

# run MODE: starts a fresh cluster in MODE (off|digests|outputs), benchmarks it, stops it;
# prints "set_rps get_rps trace_bytes".
run() {
    local mode=$1 dir=$WORK/$1-$RANDOM extra=()
    case $mode in
        digests) extra=(--trace-dir "$dir/trace") ;;
        outputs) extra=(--trace-dir "$dir/trace" --trace-outputs) ;;
    esac
    for i in 1 2 3; do
        "$BIN" server --id $i --peers $PEERS --client 127.0.0.1:1648$i --data-dir "$dir/n$i" "${extra[@]}" 2>/dev/null &
        PIDS+=($!)
    done
    local leader=""
    for _ in $(seq 1 100); do
        for i in 1 2 3; do
            redis-cli -p 1648$i info 2>/dev/null | grep -q '^role:leader' && leader=1648$i
        done
        [ -n "$leader" ] && break; sleep 0.1
    done
    local out
    out=$(redis-benchmark -p "$leader" -t set,get -d 128 -c 50 -n "$N" --csv 2>/dev/null |
        awk -F'","' 'NR > 1 { gsub(/"/, "", $2); printf "%s ", $2 }')
    stop
    local bytes=0
    [ -d "$dir/trace" ] && bytes=$(du -sb "$dir/trace" | cut -f1)
    echo "$out$bytes"
    rm -rf "$dir"
}

declare -A SET GET BYTES
for r in $(seq 1 "$ROUNDS"); do
    for mode in off digests outputs; do
        read -r s g b < <(run $mode)
        SET[$mode]+="$s "; GET[$mode]+="$g "; BYTES[$mode]+="$b "
    done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
base=$(echo "${SET[off]}" | median)
echo "| recording | SET/s (median of $ROUNDS) | vs off | GET/s | trace bytes per request (3 nodes) |"
echo "|---|---:|---:|---:|---:|"
for mode in off digests outputs; do
    s=$(echo "${SET[$mode]}" | median); g=$(echo "${GET[$mode]}" | median)
    b=$(echo "${BYTES[$mode]}" | median)
    awk -v m=$mode -v s=$s -v g=$g -v b=$b -v base=$base -v n=$N 'BEGIN {
        printf "| %s | %.0f | %.2f× | %.0f | %.0f |\n", m, s, s / base, g, b / (2 * n) }'
done
