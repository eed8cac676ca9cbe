#!/usr/bin/env bash
# Resident memory of a follower catching up from far behind: a 3-node raftkv cluster,
# node 3 stopped while KEYS keys of 128-byte values are written, then restarted. The
# leader has long compacted its log (a snapshot every --snapshot-log-bytes), so node 3
# catches up by snapshot, sent in chunks, then the log after it. Node 3's resident
# memory is sampled every 50 ms until it has applied what the leader had; its peak is
# compared with the leader's steady memory and the raw data. Prints one markdown row:
#   | keys | raw data MiB | leader RSS MiB | follower peak RSS MiB | peak / leader | catch-up s |
# Usage: KEYS=300000 bench/memory_catchup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
KEYS=${KEYS:-300000}
VALUE_BYTES=128
command -v redis-cli >/dev/null || apt-get install -y redis-tools >/dev/null
cargo build --release -q -p raftkv
BIN=${CARGO_TARGET_DIR:-target}/release/raftkv
WORK=$(mktemp -d /tmp/raftkv-catchup-XXXXXX)
declare -A PID
cleanup() {
    for p in "${PID[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

PEERS=1=127.0.0.1:17601,2=127.0.0.1:17602,3=127.0.0.1:17603
start() {
    "$BIN" server --id "$1" --peers $PEERS --client 127.0.0.1:1678"$1" --data-dir "$WORK/n$1" 2>>"$WORK/n$1.log" &
    PID[$1]=$!
}
info() { redis-cli -p 1678"$1" info 2>/dev/null | tr -d '\r' | awk -F: -v k="$2" '$1 == k { print $2 }'; }
for i in 1 2 3; do start $i; done
LEADER=
for _ in $(seq 1 100); do
    for i in 1 2; do [ "$(info $i role)" = leader ] && LEADER=$i; done
    [ -n "$LEADER" ] && break
    sleep 0.1
done
[ -n "$LEADER" ] || { echo "no leader among nodes 1 and 2 in 10 s; logs in $WORK" >&2; exit 1; }
{ kill -9 "${PID[3]}"; wait "${PID[3]}" || true; } 2>/dev/null

python3 bench/fill.py "$KEYS" "$VALUE_BYTES" >"$WORK/fill.resp"
redis-cli -p 1678"$LEADER" --pipe <"$WORK/fill.resp" >"$WORK/pipe.txt" 2>&1
grep -q "errors: 0, replies: $KEYS" "$WORK/pipe.txt" || { cat "$WORK/pipe.txt" >&2; exit 1; }
target=$(info "$LEADER" applied_index)
leader_rss=$(awk '/^VmRSS/ { print $2 }' /proc/"${PID[$LEADER]}"/status)

began=$(date +%s.%N)
start 3
peak=0
for _ in $(seq 1 2400); do # at most 120 s
    rss=$(awk '/^VmRSS/ { print $2 }' /proc/"${PID[3]}"/status 2>/dev/null || echo 0)
    [ "$rss" -gt "$peak" ] && peak=$rss
    applied=$(info 3 applied_index)
    [ -n "$applied" ] && [ "$applied" -ge "$target" ] && break
    sleep 0.05
done
ended=$(date +%s.%N)
applied=$(info 3 applied_index)
[ -n "$applied" ] && [ "$applied" -ge "$target" ] ||
    { echo "node 3 applied ${applied:-nothing} of $target in 120 s; logs in $WORK" >&2; exit 1; }
[ "$(info 3 snapshot_bytes)" -gt 0 ] ||
    { echo "node 3 caught up without a snapshot: not far enough behind (raise KEYS)" >&2; exit 1; }
hwm=$(awk '/^VmHWM/ { print $2 }' /proc/"${PID[3]}"/status)
[ "$hwm" -gt "$peak" ] && peak=$hwm
raw=$((KEYS * (9 + VALUE_BYTES)))
awk -v k="$KEYS" -v raw="$raw" -v l="$leader_rss" -v p="$peak" -v a="$began" -v b="$ended" 'BEGIN {
    printf "| %d | %.1f | %.1f | %.1f | %.2fx | %.1f |\n", k, raw / 1048576, l / 1024, p / 1024, p / l, b - a }'
