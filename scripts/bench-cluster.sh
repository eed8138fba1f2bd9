#!/usr/bin/env bash
# The measurement of docs/performance.md, "Cluster through etcd": in one
# run, a seatnet cluster node journaling through three etcd members against
# a single durable server, then takeover times after kill -9.
#
# 1. Throughput. Two systems, the same workload from the same load tool:
#      cluster  one seatnet-server --etcd (three fresh etcd members on
#               loopback, one map `default` of SEATS seats)
#      durable  one seatnet-server --data-dir DIR --fsync always
#    For each round (ROUNDS, default 3) and each load (CONNS, default 16
#    and 64 connections) it runs both in turn, each on a fresh server (and
#    fresh etcd members, fresh data directories), and prints the median
#    req/s and p99 latency of the rounds, the ratio cluster / durable, and
#    the cluster node's etcd transactions: records per transaction
#    (journal_records / journal_batches of STATS, read before and after
#    each run), transactions per second, and the map snapshots the node
#    stored in etcd meanwhile (from its debug log).
# 2. Takeover. Two nodes (--lease-ttl LEASE_TTL, default 5) and a map T;
#    TAKEOVERS times (default 20): wait until the owners are stable, find
#    T's owner (MAPS), book a few seats of T through the other node (the
#    survivor), kill -9 the owner, and time until the first successful
#    `ANY 1` on T through the survivor (following `ERR moved`, waiting out
#    `ERR no-owner`); then restart the killed node. Prints the median and
#    the worst, and how many of the seats booked before each kill the new
#    owner still held. The probe is seatnet/examples/takeover_probe.rs.
#
#   scripts/bench-cluster.sh                 # about 8 minutes
#   ROUNDS=1 DURATION=2 TAKEOVERS=2 scripts/bench-cluster.sh   # a quick try
#   ROUNDS=5 DURATION=10 TAKEOVERS=40 LEASE_TTL=3 scripts/bench-cluster.sh
#   ROUNDS=0 LEASE_TTL=3 scripts/bench-cluster.sh             # takeovers only
#
# Workload (seatnet-bench's own, as scripts/bench-durable.sh): requests of
# K=2 random seats out of SEATS (default 10,000,000, so nearly every seat is
# granted), newline-framed original requests (`5,10`), one in flight per
# connection, one driver thread.
#
# Needs the `etcd` binary (Debian package etcd-server) and curl. Every
# process listens on 127.0.0.1 only; etcd's and the durable server's data
# directories are under one temporary directory on the same disk
# (BENCH_DIR, default target/), removed at the end with every process this
# script started, however it ends (short of a kill -9 of the script).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
SEATS=${SEATS:-10000000}
CONNS=${CONNS:-16 64}
TAKEOVERS=${TAKEOVERS:-20}
LEASE_TTL=${LEASE_TTL:-5}
# How long any one thing (etcd up, a map owned, owners stable) is waited for.
PATIENCE=60

for tool in etcd curl python3; do
    command -v "$tool" >/dev/null || {
        echo "bench-cluster needs $tool (etcd: apt-get install etcd-server)" >&2
        exit 2
    }
done

echo "== cargo build --release -p seatnet --bins --example takeover_probe"
cargo build --release -p seatnet --bins --example takeover_probe
SERVER=target/release/seatnet-server
BENCH=target/release/seatnet-bench
PROBE=target/release/examples/takeover_probe

mkdir -p "${BENCH_DIR:-target}"
WORK=$(mktemp -d "${BENCH_DIR:-target}/bench-cluster.XXXXXX")
WORK=$(cd "$WORK" && pwd)
# Every process this script started and has not yet waited for.
PIDS=()
forget() {
    local keep=() p
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}
# stop PID [SIGNAL]: stops one process of ours and reaps it.
stop() {
    kill "-${2:-TERM}" "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    forget "$1"
}
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
RESULTS="$WORK/results"
TAKEN="$WORK/takeovers"
: >"$RESULTS"
: >"$TAKEN"

# N distinct free loopback ports (all bound at once, then released).
free_ports() {
    python3 - "$1" <<'EOF'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# ask PORT LINE: one request to 127.0.0.1:PORT, its reply line on stdout.
ask() {
    local reply
    exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
    printf '%s\n' "$2" >&3
    IFS= read -r -t 10 reply <&3 || { exec 3>&-; return 1; }
    exec 3>&-
    printf '%s\n' "${reply%$'\r'}"
}

# The value of counter $2 in the STATS reply of port $1 (0 if absent).
counter() {
    local v
    v=$(ask "$1" STATS | sed -n "s/.* $2=\([0-9]*\).*/\1/p")
    echo "${v:-0}"
}

# start_etcd: three fresh members; sets ETCD (host:port,...), ETCD_DIR,
# ETCD_PIDS. Same flags as seatcluster::testing::EtcdCluster.
ETCD_SERIAL=0
start_etcd() {
    ETCD_SERIAL=$((ETCD_SERIAL + 1))
    ETCD_DIR="$WORK/etcd-$ETCD_SERIAL"
    mkdir -p "$ETCD_DIR"
    local ports initial="" i token="bench-cluster-$$-$ETCD_SERIAL"
    read -r -a ports <<<"$(free_ports 6)"
    for i in 0 1 2; do
        initial+="${initial:+,}m$i=http://127.0.0.1:${ports[2 * i + 1]}"
    done
    ETCD_PIDS=()
    ETCD=
    for i in 0 1 2; do
        local client="http://127.0.0.1:${ports[2 * i]}" peer="http://127.0.0.1:${ports[2 * i + 1]}"
        etcd --name "m$i" --data-dir "$ETCD_DIR/m$i" \
            --listen-client-urls "$client" --advertise-client-urls "$client" \
            --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
            --initial-cluster "$initial" --initial-cluster-state new \
            --initial-cluster-token "$token" --logger zap --log-level warn \
            </dev/null >/dev/null 2>"$ETCD_DIR/m$i.log" &
        ETCD_PIDS+=($!)
        PIDS+=($!)
        ETCD+="${ETCD:+,}127.0.0.1:${ports[2 * i]}"
    done
    # Ready when every member answers a read (which needs a leader).
    local deadline=$((SECONDS + PATIENCE)) port
    for i in 0 1 2; do
        port=${ports[2 * i]}
        until curl -sf -m 2 -X POST -d '{"key":"cmVhZHk="}' \
            "http://127.0.0.1:$port/v3/kv/range" >/dev/null 2>&1; do
            if [ "$SECONDS" -ge "$deadline" ]; then
                echo "etcd member m$i (port $port) did not come up:" >&2
                tail -n 20 "$ETCD_DIR"/m*.log >&2
                exit 1
            fi
            sleep 0.1
        done
    done
}

stop_etcd() {
    local p
    for p in "${ETCD_PIDS[@]}"; do stop "$p" KILL; done
    ETCD_PIDS=()
    rm -rf "$ETCD_DIR"
}

# start_server DIR ARGS...: a seatnet-server on a free port with ARGS;
# sets SPID and SPORT. Its log: warnings, and each snapshot a cluster node
# stores in etcd (counted by measure).
start_server() {
    local dir=$1
    shift
    mkdir -p "$dir"
    rm -f "$dir/out"
    "$SERVER" --host 127.0.0.1 --port 0 --log-level "warn,seatnet::cluster::log=debug" "$@" \
        >"$dir/out" 2>>"$dir/err" &
    SPID=$!
    PIDS+=("$SPID")
    local deadline=$((SECONDS + PATIENCE))
    until grep -qs listening "$dir/out"; do
        if [ "$SECONDS" -ge "$deadline" ] || ! kill -0 "$SPID" 2>/dev/null; then
            echo "seatnet-server $* did not start:" >&2
            cat "$dir/err" >&2
            exit 1
        fi
        sleep 0.05
    done
    SPORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/out")
}

# owner PORT MAP: MAP's owner as node PORT's MAPS says (`here`,
# host:port, `none`; empty when the node does not answer).
owner() {
    local entry
    for entry in $(ask "$1" MAPS 2>/dev/null); do
        case $entry in "$2":*) echo "${entry#"$2":*:*:*:}" ;; esac
    done
}

# owners_of PORT: every map's owner as node PORT's MAPS says (MAP=OWNER ...).
owners_of() {
    local entry out=()
    for entry in $(ask "$1" MAPS 2>/dev/null); do
        case $entry in *:*:*:*:*) out+=("${entry%%:*}=${entry#*:*:*:*:}") ;; esac
    done
    echo "${out[*]}"
}

# wait_owned PORT MAP: until node PORT serves MAP.
wait_owned() {
    local deadline=$((SECONDS + PATIENCE))
    until [ "$(owner "$1" "$2")" = here ]; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "node on port $1 did not take $2 within ${PATIENCE}s: $(ask "$1" MAPS)" >&2
            exit 1
        fi
        sleep 0.2
    done
}

# measure ROUND SYSTEM CONNS: one run on a fresh server; appends
# "system conns round req/s p50_us p99_us errors records batches seconds
# snapshots snapshot_bytes" (the snapshots a cluster node stored in etcd
# during the run, and the largest one's size).
measure() {
    local round=$1 system=$2 conns=$3
    local dir="$WORK/$system-$conns-$round"
    if [ "$system" = cluster ]; then
        start_etcd
        start_server "$dir" --seats "$SEATS" --etcd "$ETCD" --node bench \
            --advertise 127.0.0.1:0 --lease-ttl "$LEASE_TTL"
        wait_owned "$SPORT" default
    else
        start_server "$dir" --seats "$SEATS" --data-dir "$dir/data" --fsync always
    fi
    local batches_name=journal_syncs
    [ "$system" = cluster ] && batches_name=journal_batches
    local r0 b0 r1 b1 t0 t1 json code=0
    r0=$(counter "$SPORT" journal_records)
    b0=$(counter "$SPORT" "$batches_name")
    t0=$(date +%s.%N)
    json=$("$BENCH" --port "$SPORT" --framing newline -c "$conns" -k 2 --seats "$SEATS" \
        -d "$DURATION" --warmup "$WARMUP" --json -q 2>"$dir/bench.err") || code=$?
    t1=$(date +%s.%N)
    r1=$(counter "$SPORT" journal_records)
    b1=$(counter "$SPORT" "$batches_name")
    stop "$SPID"
    [ "$system" = cluster ] && stop_etcd
    # 3: the run finished with some requests failed (counted below).
    if [ "$code" != 0 ] && [ "$code" != 3 ]; then
        echo "seatnet-bench failed on $system, $conns connections (exit $code):" >&2
        cat "$dir/bench.err" >&2
        exit 1
    fi
    python3 - "$json" "$system" "$conns" "$round" "$((r1 - r0))" "$((b1 - b0))" "$t0" "$t1" \
        "$dir/err" <<'EOF' | tee -a "$RESULTS"
import json, re, sys
r = json.loads(sys.argv[1])["runs"][0]
system, conns, rnd, records, batches, t0, t1, log = sys.argv[2:]
assert r["double_grant_ok"], r
sizes = [int(m.group(1)) for m in re.finditer(r"snapshot stored in etcd.* bytes=(\d+)", open(log).read())]
print(system, conns, rnd, round(r["throughput"]), r["p50_us"], r["p99_us"], r["errors"],
      records, batches, f"{float(t1) - float(t0):.3f}", len(sizes), max(sizes, default=0))
EOF
}

echo "== machine"
echo "$(nproc) cores; $(uname -sr); $(etcd --version | head -1)"
echo "data directories under $WORK: $(df -T "$WORK" | awk 'NR==2 {print $1, $2}')"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== throughput: system conns round req/s p50_us p99_us errors records batches seconds"
for round in $(seq "$ROUNDS"); do
    echo "-- round $round of $ROUNDS (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    for conns in $CONNS; do
        for system in cluster durable; do
            measure "$round" "$system" "$conns"
        done
    done
done

echo "== takeover: $TAKEOVERS kills, lease TTL ${LEASE_TTL}s (load average $(cut -d' ' -f1-3 /proc/loadavg))"
start_etcd
NODE_ARGS=(--seats 1000 --map T=1000000 --etcd "$ETCD" --advertise 127.0.0.1:0
    --lease-ttl "$LEASE_TTL")
declare -A NPID NPORT
for node in n1 n2; do
    start_server "$WORK/$node" "${NODE_ARGS[@]}" --node "$node"
    NPID[$node]=$SPID
    NPORT[$node]=$SPORT
done

# stable: both nodes list both, every map is owned, both agree on T's
# owner, and neither node's MAPS changed its owners over 3 s (three polls
# of the nodes), so no map is still moving (a node back from a kill gets
# maps handed back to it). Sets OWNER and SURVIVOR (node names).
stable() {
    local deadline=$((SECONDS + PATIENCE)) last="" same=0 view a b
    while :; do
        view=
        a=$(owner "${NPORT[n1]}" T)
        b=$(owner "${NPORT[n2]}" T)
        if [ "$(ask "${NPORT[n1]}" NODES | cut -d' ' -f2)" = nodes=2 ] &&
            [ "$(ask "${NPORT[n2]}" NODES | cut -d' ' -f2)" = nodes=2 ] &&
            ! ask "${NPORT[n1]}" MAPS | grep -q ':none\b' &&
            ! ask "${NPORT[n2]}" MAPS | grep -q ':none\b'; then
            if [ "$a" = here ] && [ "$b" = "127.0.0.1:${NPORT[n1]}" ]; then
                view="n1 n2"
            elif [ "$b" = here ] && [ "$a" = "127.0.0.1:${NPORT[n2]}" ]; then
                view="n2 n1"
            fi
        fi
        # Every map's owner on both nodes (seats and free left out).
        local all
        all="$view $(owners_of "${NPORT[n1]}") $(owners_of "${NPORT[n2]}")"
        if [ -n "$view" ] && [ "$all" = "$last" ]; then
            same=$((same + 1))
            if [ "$same" -ge 3 ]; then
                read -r OWNER SURVIVOR <<<"$view"
                echo "  owners: $(owners_of "${NPORT[n1]}") as n1 sees them"
                return 0
            fi
        else
            same=0
        fi
        last=$all
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "owners not stable within ${PATIENCE}s: n1 says T=$a, n2 says T=$b" >&2
            exit 1
        fi
        sleep 1
    done
}

for i in $(seq "$TAKEOVERS"); do
    # A map may still move after the owners looked stable (a node hands
    # one back every few seconds): the probe then refuses before killing
    # anything, and the round starts again (at most 3 times).
    for attempt in 1 2 3; do
        stable
        line=$("$PROBE" "127.0.0.1:${NPORT[$SURVIVOR]}" T "127.0.0.1:${NPORT[$OWNER]}" \
            "${NPID[$OWNER]}") && break
        if [ "$attempt" = 3 ] || ! kill -0 "${NPID[$OWNER]}" 2>/dev/null; then
            echo "takeover $i failed (owner $OWNER, survivor $SURVIVOR)" >&2
            exit 1
        fi
        echo "  $i: the owners changed before the kill; again"
    done
    echo "  $i: killed $OWNER, served by $SURVIVOR: $line"
    echo "$line" >>"$TAKEN"
    stop "${NPID[$OWNER]}" KILL
    start_server "$WORK/$OWNER" "${NODE_ARGS[@]}" --node "$OWNER"
    NPID[$OWNER]=$SPID
    NPORT[$OWNER]=$SPORT
done
for node in n1 n2; do stop "${NPID[$node]}"; done
stop_etcd
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$RESULTS" "$TAKEN" "$ROUNDS" "$CONNS" "$LEASE_TTL" <<'EOF'
import statistics, sys
from collections import defaultdict

runs = defaultdict(list)
for line in open(sys.argv[1]):
    (system, conns, rnd, rate, p50, p99, errors, records, batches, seconds, snaps,
     snap_bytes) = line.split()
    runs[(system, int(conns))].append(dict(
        round=rnd, rate=int(rate), p50=float(p50) / 1e3, p99=float(p99) / 1e3,
        errors=int(errors), records=int(records), batches=int(batches),
        seconds=float(seconds), snaps=int(snaps), snap_bytes=int(snap_bytes)))

def med(system, conns, field):
    values = [r[field] for r in runs[(system, conns)]]
    return statistics.median(values) if values else float("nan")

def spread(system, conns, field, fmt):
    values = [r[field] for r in runs[(system, conns)]]
    return f"{fmt(statistics.median(values))} ({fmt(min(values))}-{fmt(max(values))})"

def per_txn(run):
    return run["records"] / run["batches"] if run["batches"] else float("nan")

def txn_rate(run):
    return run["batches"] / run["seconds"]

if runs:  # ROUNDS=0: takeovers only
    print(f"\n== median of {sys.argv[3]} rounds (lowest-highest); latency in ms")
    print("| connections | system | req/s | p50 ms | p99 ms | errors | records per txn / sync | txn / syncs per s | snapshots in etcd (largest) |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    conns_list = [int(c) for c in sys.argv[4].split()]
    for conns in conns_list:
        for system, name in (("cluster", "cluster node, etcd journal"), ("durable", "single durable, fsync always")):
            rs = runs[(system, conns)]
            batch = statistics.median(per_txn(r) for r in rs)
            rate = statistics.median(txn_rate(r) for r in rs)
            snaps = "-"
            if system == "cluster":
                largest = max(r["snap_bytes"] for r in rs)
                snaps = f"{statistics.median(r['snaps'] for r in rs):g} a run ({largest / 2**20:.1f} MiB)"
            rate_cell = spread(system, conns, "rate", lambda v: f"{v:,.0f}")
            p99_cell = spread(system, conns, "p99", lambda v: f"{v:.1f}")
            print(f"| {conns} | {name} | {rate_cell} | {med(system, conns, 'p50'):.2f} | {p99_cell} "
                  f"| {sum(r['errors'] for r in rs)} | {batch:.1f} | {rate:,.0f} | {snaps} |")

    print("\n| ratio cluster / durable | req/s (median) | each round | p99 (median) |")
    print("|---|---:|---|---:|")
    for conns in conns_list:
        c = {r["round"]: r for r in runs[("cluster", conns)]}
        d = {r["round"]: r for r in runs[("durable", conns)]}
        each = ", ".join(f"{c[k]['rate'] / d[k]['rate']:.2f}" for k in sorted(c) if k in d and d[k]["rate"])
        print(f"| {conns} connections | {med('cluster', conns, 'rate') / med('durable', conns, 'rate'):.2f} "
              f"| {each} | {med('cluster', conns, 'p99') / med('durable', conns, 'p99'):.1f}x |")

taken = [dict(kv.split("=") for kv in line.split()) for line in open(sys.argv[2])]
if taken:
    ms = sorted(float(t["takeover_ms"]) for t in taken)
    kept = sum(int(t["kept"].split("/")[0]) for t in taken)
    booked = sum(int(t["kept"].split("/")[1]) for t in taken)
    print(f"\n== takeover after kill -9, lease TTL {sys.argv[5]} s: {len(ms)} kills")
    print(f"| kills | median s | p90 s | best s | worst s | seats booked before a kill still taken after |")
    print("|---:|---:|---:|---:|---:|---:|")
    p90 = ms[min(len(ms) - 1, int(0.9 * len(ms)))]
    print(f"| {len(ms)} | {statistics.median(ms) / 1e3:.2f} | {p90 / 1e3:.2f} | {ms[0] / 1e3:.2f} "
          f"| {ms[-1] / 1e3:.2f} | {kept} of {booked} |")
EOF
