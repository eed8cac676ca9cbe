#!/usr/bin/env bash
# A 3-member etcd cluster on loopback (Debian's etcd-server, every write fsynced on a
# majority as etcd always does), driven through its HTTP gateway by wrk: PUT and range
# (a linearizable read, etcd's default) of one key with a 128-byte value, at 1 and 50
# connections. Prints markdown table rows in redis_compare.sh's columns:
#   | server | test | clients | requests/s | p50 ms | p99 ms |
# Usage: bench/etcd_rows.sh            (SECONDS_PER_ROW=10 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_ROW=${SECONDS_PER_ROW:-10}

if ! command -v etcd >/dev/null || ! command -v wrk >/dev/null; then
    apt-get install -y etcd-server wrk >/dev/null
fi

WORK=$(mktemp -d /tmp/etcd-bench-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

CLUSTER=e1=http://127.0.0.1:12381,e2=http://127.0.0.1:12382,e3=http://127.0.0.1:12383
for i in 1 2 3; do
    etcd --name e$i --data-dir "$WORK/e$i" \
        --listen-peer-urls http://127.0.0.1:1238$i --initial-advertise-peer-urls http://127.0.0.1:1238$i \
        --listen-client-urls http://127.0.0.1:1237$i --advertise-client-urls http://127.0.0.1:1237$i \
        --initial-cluster $CLUSTER --initial-cluster-state new --initial-cluster-token bench \
        >"$WORK/e$i.log" 2>&1 &
    PIDS+=($!)
done

# The member whose status names itself leader (the gateway answers JSON; python reads it).
leader_port() {
    for i in 1 2 3; do
        local status
        status=$(curl -s -m 1 -X POST -d '{}' http://127.0.0.1:1237$i/v3/maintenance/status) || continue
        if python3 -c 'import json,sys; s=json.load(sys.stdin); sys.exit(s.get("leader") != s["header"]["member_id"])' \
            <<<"$status" 2>/dev/null; then
            echo 1237$i
            return
        fi
    done
    return 1
}
LEADER=
for _ in $(seq 1 100); do LEADER=$(leader_port) && break; sleep 0.1; done
[ -n "$LEADER" ] || { echo "etcd elected no leader in 10 s; logs in $WORK" >&2; exit 1; }

KEY=$(printf 'key:__rand_int__' | base64 -w0)   # the key redis-benchmark's SET and GET use
VALUE=$(head -c 128 /dev/zero | tr '\0' x | base64 -w0)
cat >"$WORK/put.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"key":"$KEY","value":"$VALUE"}'
EOF
cat >"$WORK/range.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"key":"$KEY"}'
EOF

# row TEST PATH SCRIPT CONNECTIONS
row() {
    local test=$1 path=$2 script=$3 c=$4 threads=1 out
    [ "$c" -gt 1 ] && threads=2
    out=$(wrk -t$threads -c"$c" -d"${SECONDS_PER_ROW}s" --latency -s "$script" "http://127.0.0.1:$LEADER$path")
    if grep -q 'Non-2xx' <<<"$out"; then
        echo "etcd answered errors to $test:" >&2
        echo "$out" >&2
        exit 1
    fi
    awk -v test="$test" -v c="$c" '
        function ms(v) {
            if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v
        }
        $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) }
        $1 == "Requests/sec:" { rps = $2 }
        END { printf "| etcd 3.4 (wrk, HTTP gateway) | %s | %s  | %.0f | %.3f | %.3f |\n", test, c, rps, p50, p99 }' <<<"$out"
}

# Write once first, so the reads find the key.
curl -s -m 5 -X POST -d "{\"key\":\"$KEY\",\"value\":\"$VALUE\"}" "http://127.0.0.1:$LEADER/v3/kv/put" >/dev/null
for c in 1 50; do
    row SET /v3/kv/put "$WORK/put.lua" $c
    row GET /v3/kv/range "$WORK/range.lua" $c
done
