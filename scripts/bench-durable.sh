#!/usr/bin/env bash
# The measurement of docs/performance.md, "seatnet durable mode": one run,
# four systems interleaved, the same workload from the same load tool.
#
#   A  seatnet-server in memory
#   B  seatnet-server --data-dir DIR --fsync always
#   C  redis-server --save '' --appendonly no               (in memory)
#   D  redis-server --appendonly yes --appendfsync always   (durable)
#
# For each round (ROUNDS, default 3) and each load (1, 16 and 64
# connections, and 64 connections pipelined 16 deep) it runs A B C D in
# turn, each on a fresh server with a fresh data directory, then prints the
# median of the rounds and the ratios. Then a scaling table: B and D at 1,
# 4, 16, 64 and 256 connections, with B's group-commit batch (journal
# records / syncs, read from STATS before and after each run).
#
#   scripts/bench-durable.sh                 # about 8 minutes
#   ROUNDS=5 DURATION=5 scripts/bench-durable.sh
#   BEFORE=/path/to/older/seatnet-server scripts/bench-durable.sh
#
# BEFORE adds a fifth system to the first table: that binary run like B
# (durable, fsync always), to compare two versions in one run.
#
# Workload (seatnet-bench's own): requests of K=2 random seats out of
# 10,000,000 (so nearly every seat is granted); seatnet gets newline-framed
# original requests (`5,10`), Redis one `SETBIT seats <s> 1` per seat, both
# commands of a request in one write. One driver thread.
#
# Installs redis-server with apt-get if it is missing (needs root). Every
# server listens on 127.0.0.1 only; every data directory is under one
# temporary directory on the same disk (BENCH_DIR, default target/), removed
# at the end with every process this script started.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-3}
WARMUP=${WARMUP:-0.5}
SEATS=10000000
SCALING=${SCALING:-1 4 16 64 256}

if ! command -v redis-server >/dev/null; then
    echo "== installing redis-server"
    apt-get install -y redis-server >/dev/null || {
        apt-get update >/dev/null && apt-get install -y redis-server >/dev/null
    }
fi
# Debian starts a system Redis on install; ours never touches it (own
# ports, own directories).

echo "== cargo build --release -p seatnet --bins"
cargo build --release -p seatnet --bins
SERVER=target/release/seatnet-server
BENCH=target/release/seatnet-bench

mkdir -p "${BENCH_DIR:-target}"
WORK=$(mktemp -d "${BENCH_DIR:-target}/bench-durable.XXXXXX")
WORK=$(cd "$WORK" && pwd)
PID=
# Only the one server running now: a stopped one's pid may be reused.
cleanup() {
    if [ -n "$PID" ]; then
        kill "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
RESULTS="$WORK/results"
: >"$RESULTS"

# A free loopback port (for Redis; seatnet picks its own with --port 0).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits until something accepts on 127.0.0.1:$1 (at most 10 s).
wait_port() {
    local _
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "nothing listens on 127.0.0.1:$1" >&2
    return 1
}

# The journal counters of seatnet's STATS reply on port $1: "records syncs".
journal_counters() {
    local line
    exec 3<>"/dev/tcp/127.0.0.1/$1"
    printf 'STATS\n' >&3
    read -r line <&3
    exec 3>&-
    local records syncs
    records=$(sed -n 's/.*journal_records=\([0-9]*\).*/\1/p' <<<"$line")
    syncs=$(sed -n 's/.*journal_syncs=\([0-9]*\).*/\1/p' <<<"$line")
    echo "${records:-0} ${syncs:-0}"
}

PORT=
# start SYSTEM DIR: starts a fresh server, sets PORT and PID.
start() {
    local system=$1 dir=$2
    mkdir -p "$dir"
    case $system in
    mem | durable | before)
        local extra=() binary=$SERVER
        [ "$system" = mem ] || extra=(--data-dir "$dir/data" --fsync always)
        [ "$system" = before ] && binary=$BEFORE
        "$binary" --port 0 --seats "$SEATS" --log-level warn "${extra[@]}" \
            >"$dir/out" 2>"$dir/err" &
        PID=$!
        local _
        for _ in $(seq 100); do
            grep -q listening "$dir/out" 2>/dev/null && break
            sleep 0.1
        done
        PORT=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/out")
        ;;
    redis-mem | redis-durable)
        PORT=$(free_port)
        local persist=(--appendonly no)
        [ "$system" = redis-durable ] && persist=(--appendonly yes --appendfsync always)
        redis-server --bind 127.0.0.1 --port "$PORT" --dir "$dir" --save '' \
            "${persist[@]}" --daemonize no --logfile "$dir/redis.log" >/dev/null 2>&1 &
        PID=$!
        ;;
    esac
    wait_port "$PORT"
}

stop() {
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    PID=
}

# measure ROUND SYSTEM CONNS PIPELINE: one run on a fresh server; appends
# "system conns pipeline round req/s batch" to the results.
measure() {
    local round=$1 system=$2 conns=$3 pipeline=$4
    local dir="$WORK/$system-$conns-$pipeline-$round"
    start "$system" "$dir"
    local target=(--port "$PORT" --framing newline)
    case $system in redis-*) target=(--target redis --port "$PORT") ;; esac
    local before=(0 0) after=(0 0)
    [ "$system" = durable ] && read -r -a before <<<"$(journal_counters "$PORT")"
    local json
    json=$("$BENCH" "${target[@]}" -c "$conns" --pipeline "$pipeline" -k 2 \
        --seats "$SEATS" -d "$DURATION" --warmup "$WARMUP" --json -q 2>"$dir/bench.err") || {
        echo "seatnet-bench failed on $system (exit $?):" >&2
        cat "$dir/bench.err" >&2
        exit 1
    }
    [ "$system" = durable ] && read -r -a after <<<"$(journal_counters "$PORT")"
    stop
    local rate batch
    rate=$(python3 -c 'import json,sys; print(round(json.loads(sys.argv[1])["runs"][0]["throughput"]))' "$json")
    batch=$(python3 -c 'import sys; r,s=int(sys.argv[1]),int(sys.argv[2]); print(f"{r/s:.1f}" if s else "-")' \
        "$((after[0] - before[0]))" "$((after[1] - before[1]))")
    echo "$system $conns $pipeline $round $rate $batch" >>"$RESULTS"
    printf '  %-14s c=%-3s p=%-2s  %8s req/s  batch %s\n' "$system" "$conns" "$pipeline" "$rate" "$batch"
}

echo "== machine"
echo "$(nproc) cores; $(uname -sr); $(redis-server --version | cut -d' ' -f1-3)"
echo "data directories under $WORK: $(df -T "$WORK" | awk 'NR==2 {print $1, $2}')"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

LOADS=("1 1" "16 1" "64 1" "64 16")
for round in $(seq "$ROUNDS"); do
    echo "== round $round of $ROUNDS (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    for load in "${LOADS[@]}"; do
        read -r conns pipeline <<<"$load"
        for system in mem durable redis-mem redis-durable ${BEFORE:+before}; do
            measure "$round" "$system" "$conns" "$pipeline"
        done
    done
done

echo "== scaling (durable only; load average $(cut -d' ' -f1-3 /proc/loadavg))"
for round in $(seq "$ROUNDS"); do
    for conns in $SCALING; do
        for system in durable redis-durable; do
            measure "s$round" "$system" "$conns" 1
        done
    done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$RESULTS" "$ROUNDS" "$SCALING" <<'EOF'
import statistics, sys
from collections import defaultdict

rates, batches = defaultdict(list), defaultdict(list)
per_round = defaultdict(dict)
for line in open(sys.argv[1]):
    system, conns, pipeline, rnd, rate, batch = line.split()
    key = (rnd.startswith("s"), system, int(conns), int(pipeline))
    rates[key].append(int(rate))
    per_round[key][rnd] = int(rate)
    if batch != "-":
        batches[key].append(float(batch))

def med(key):
    return statistics.median(rates[key]) if rates[key] else float("nan")

def cell(key):
    """median (lowest-highest) of the rounds."""
    r = rates[key]
    if not r:
        return "-"
    return f"{statistics.median(r):,.0f} ({min(r) / 1000:.1f}k-{max(r) / 1000:.1f}k)"

def batch(key):
    return f"{statistics.median(batches[key]):.1f}" if batches[key] else "-"

systems = ["mem", "durable", "redis-mem", "redis-durable"]
names = ["seatnet memory", "seatnet durable", "Redis memory", "Redis durable"]
if any(key[1] == "before" for key in rates):
    systems.append("before")
    names.append("BEFORE durable")
loads = [(1, 1), (16, 1), (64, 1), (64, 16)]
print(f"\n== req/s: median of {sys.argv[2]} rounds (lowest-highest); batch = journal records per fdatasync")
print("| connections | " + " | ".join(names) + " | durable batch |")
print("|---|" + "---:|" * (len(names) + 1))
for c, p in loads:
    label = f"{c}" if p == 1 else f"{c}, pipelined {p}"
    cells = [cell((False, s, c, p)) for s in systems]
    print(f"| {label} | " + " | ".join(cells) + f" | {batch((False, 'durable', c, p))} |")

def rounds(a, b):
    """The ratio a/b of each round (adjacent runs, so less drift)."""
    pa, pb = per_round[a], per_round[b]
    return ", ".join(f"{pa[r] / pb[r]:.2f}" for r in sorted(pa) if r in pb and pb[r])

print("\n| ratio of medians | value | each round | target |")
print("|---|---:|---|---|")
for c, p, target in [(16, 1, 1.2), (64, 1, 1.2), (64, 16, 1.5)]:
    label = f"{c}" if p == 1 else f"{c}x{p}"
    a, b = (False, "durable", c, p), (False, "redis-durable", c, p)
    r = med(a) / med(b)
    print(f"| seatnet durable / Redis durable, {label} | {r:.2f} | {rounds(a, b)} | >= {target} {'met' if r >= target else 'MISSED'} |")
a, b = (False, "durable", 64, 16), (False, "mem", 64, 16)
r = med(a) / med(b)
print(f"| seatnet durable / seatnet memory, 64x16 | {r:.2f} | {rounds(a, b)} | >= 0.60 {'met' if r >= 0.6 else 'MISSED'} |")
if "before" in systems:
    for c, p in loads:
        a, b = (False, "durable", c, p), (False, "before", c, p)
        print(f"| seatnet durable / BEFORE durable, {c}x{p} | {med(a) / med(b):.2f} | {rounds(a, b)} | - |")

print(f"\n== scaling: median of {sys.argv[2]} rounds (lowest-highest)")
print("| connections | seatnet durable (req/s) | batch | Redis durable (req/s) |")
print("|---:|---:|---:|---:|")
for c in map(int, sys.argv[3].split()):
    d, r = cell((True, "durable", c, 1)), cell((True, "redis-durable", c, 1))
    print(f"| {c} | {d} | {batch((True, 'durable', c, 1))} | {r} |")
EOF
