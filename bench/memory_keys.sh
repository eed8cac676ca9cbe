#!/usr/bin/env bash
# Resident memory of raftkv nodes holding KEYS keys of 128-byte values (issue 17's goal:
# at most 1.5x the raw data). A 3-node cluster on loopback is filled with distinct keys
# "k:0000000".. through one pipelined connection (redis-cli --pipe), then each node's
# current (VmRSS) and peak (VmHWM) resident memory is read from /proc and compared with
# the raw bytes of the keys and values. Prints markdown table rows:
#   | keys | raw data MiB | node | RSS MiB | RSS / raw | peak MiB | peak / raw |
# Usage: KEYS=1000000 bench/memory_keys.sh
set -euo pipefail
cd "$(dirname "$0")/.."
KEYS=${KEYS:-1000000}
VALUE_BYTES=128
command -v redis-cli >/dev/null || apt-get install -y redis-tools >/dev/null
cargo build --release -q -p raftkv
BIN=${CARGO_TARGET_DIR:-target}/release/raftkv
WORK=$(mktemp -d /tmp/raftkv-keys-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

PEERS=1=127.0.0.1:17401,2=127.0.0.1:17402,3=127.0.0.1:17403
for i in 1 2 3; do
    "$BIN" server --id $i --peers $PEERS --client 127.0.0.1:1658$i --data-dir "$WORK/n$i" 2>"$WORK/n$i.log" &
    PIDS+=($!)
done
leader_port() {
    for i in 1 2 3; do
        if redis-cli -p 1658$i info 2>/dev/null | grep -q '^role:leader'; then echo 1658$i; return; fi
    done
    return 1
}
LEADER=
for _ in $(seq 1 100); do LEADER=$(leader_port) && break; sleep 0.1; done
[ -n "$LEADER" ] || { echo "raftkv elected no leader in 10 s; logs in $WORK" >&2; exit 1; }

python3 bench/fill.py "$KEYS" "$VALUE_BYTES" >"$WORK/fill.resp"
redis-cli -p "$LEADER" --pipe <"$WORK/fill.resp" >"$WORK/pipe.txt" 2>&1 ||
    { echo "the fill failed:" >&2; cat "$WORK/pipe.txt" >&2; exit 1; }
grep -q "errors: 0, replies: $KEYS" "$WORK/pipe.txt" ||
    { echo "the fill did not answer every SET with OK:" >&2; cat "$WORK/pipe.txt" >&2; exit 1; }
last=$(redis-cli -p "$LEADER" get "k:$(printf %07d $((KEYS - 1)))")
[ ${#last} = $VALUE_BYTES ] || { echo "the last key reads back as '$last'" >&2; exit 1; }
# Let followers apply everything and snapshots settle.
sleep 5

raw=$((KEYS * (9 + VALUE_BYTES)))
for i in 1 2 3; do
    pid=${PIDS[$((i - 1))]}
    rss=$(awk '/^VmRSS/ { print $2 }' /proc/$pid/status)
    hwm=$(awk '/^VmHWM/ { print $2 }' /proc/$pid/status)
    role=follower; [ 1658$i = "$LEADER" ] && role=leader
    awk -v k="$KEYS" -v raw="$raw" -v rss="$rss" -v hwm="$hwm" -v node="$i ($role)" 'BEGIN {
        printf "| %d | %.1f | %s | %.1f | %.2fx | %.1f | %.2fx |\n",
            k, raw / 1048576, node, rss / 1024, rss * 1024 / raw, hwm / 1024, hwm * 1024 / raw }'
done
