"""Reads one part's results (markdown table rows or bench lines) on stdin and prints
issue 17's goals for that part, each marked met or not, with the figures it compared.
Used by bench/run.sh:  python3 bench/goals.py e2e|inproc|sim|memory < rows"""

import re
import sys


def cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def table(text):
    """The data rows of a markdown table (or bare rows), as lists of cells."""
    rows = [cells(l) for l in text.splitlines() if l.strip().startswith("|")]
    return [r for r in rows if r and not set(r[0]) <= set("-:") and r[0] not in ("row", "server", "keys")]


def mark(ok):
    return "**met**" if ok else "**not met**"


def e2e(text):
    rps = {}
    for server, test, clients, r, *_ in table(text):
        rps[(server, test, clients)] = float(r)

    def get(server, test, clients):
        key = next((k for k in rps if k[0].startswith(server) and k[1] == test and k[2] == clients), None)
        if key is None:
            sys.exit(f"goals: no row for {server} {test} with {clients} clients")
        return rps[key]

    raft_set = get("raftkv leader", "SET", "50")
    raft_get = get("raftkv leader", "GET", "50")
    redis_set = get("redis", "SET", "50")
    redis_get = get("redis", "GET", "50")
    etcd_set = get("etcd", "SET", "50")
    piped = get("raftkv leader", "SET", "50 -P 16")
    print("| goal | figures | ratio | |")
    print("|---|---|---:|---|")
    print(f"| SET at 50 clients ≥ Redis with appendfsync always | {raft_set:.0f} vs {redis_set:.0f} /s | {raft_set / redis_set:.2f}× | {mark(raft_set >= redis_set)} |")
    print(f"| SET at 50 clients ≥ 3× etcd | {raft_set:.0f} vs {etcd_set:.0f} /s | {raft_set / etcd_set:.2f}× | {mark(raft_set >= 3 * etcd_set)} |")
    print(f"| GET at 50 clients ≥ 0.5× Redis GET | {raft_get:.0f} vs {redis_get:.0f} /s | {raft_get / redis_get:.2f}× | {mark(raft_get >= 0.5 * redis_get)} |")
    print(f"| pipelined SET (-P 16, 50 clients) ≥ 100,000/s | {piped:.0f} /s | | {mark(piped >= 100_000)} |")


def inproc(text):
    rows = table(text)
    print("| goal | row | figures | |")
    print("|---|---|---|---|")
    for r in rows:
        name, ratio, core_rss, rs_rss = r[0], float(r[4].rstrip("×x")), float(r[8]), float(r[9])
        print(f"| ≥ 2× raft-rs entries/s | {name} | {ratio:.2f}× | {mark(ratio >= 2)} |")
    for r in rows:
        name, core_rss, rs_rss = r[0], float(r[8]), float(r[9])
        print(f"| peak memory ≤ raft-rs's | {name} | {core_rss:.1f} vs {rs_rss:.1f} MiB | {mark(core_rss <= rs_rss)} |")


def sim(text):
    print("| goal | scenario | speed | |")
    print("|---|---|---:|---|")
    for line in text.splitlines():
        m = re.match(r"(.+?)\s+seeds .* speed\s+(\d+)x", line)
        if m:
            speed = int(m.group(2))
            print(f"| ≥ 10,000× simulated time | {m.group(1).strip()} | {speed}× | {mark(speed >= 10_000)} |")


def memory(text):
    rows = table(text)
    worst = max(float(r[4].rstrip("x")) for r in rows)
    worst_peak = max(float(r[6].rstrip("x")) for r in rows)
    print("| goal | figures | |")
    print("|---|---|---|")
    print(f"| a node's resident memory ≤ 1.5× the raw data | largest {worst:.2f}× (peak during the fill {worst_peak:.2f}×) | {mark(worst <= 1.5)} |")


if __name__ == "__main__":
    {"e2e": e2e, "inproc": inproc, "sim": sim, "memory": memory}[sys.argv[1]](sys.stdin.read())
