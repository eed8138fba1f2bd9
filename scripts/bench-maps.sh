#!/bin/bash
# The measurement of docs/performance.md, "Holds over many maps": the mixed
# hold/confirm/cancel workload of `seatnet-bench --workload holds` against
# a separately started release seatnet-server serving 1 map or 1,000 maps,
# at 16 and 64 connections, in memory and durable (--data-dir in a temp
# directory, --fsync always). Every configuration runs once per round,
# rounds interleaved (so a burst of load from other processes hits all of
# them alike); the table gives each one's median over the rounds and the
# ratios 1,000 maps / 1 map and durable / in memory.
#
#   scripts/bench-maps.sh                 # 3 rounds of 5 s runs, ~3 minutes
#   ROUNDS=5 DURATION=10 scripts/bench-maps.sh
#
# The 1,000-map server has maps m0..m999 of SEATS numbered seats each
# (default 200); the 1-map server has one map m0 of 1,000 x SEATS seats, so
# both hold the same seats and get the same requests: only how the seats
# are split into maps differs. Loopback only; every server is killed and
# every temp directory removed on exit, however the script ends.
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
SEATS=${SEATS:-200}
MANY=1000
# Bench flags shared by every run (documented in docs/performance.md).
LOAD=(--workload holds -k 2 --confirm 70 --keep 4 --warmup "$WARMUP" -d "$DURATION" --json --quiet)

cargo build --release -q -p seatnet --bin seatnet-server --bin seatnet-bench
S=target/release/seatnet-server
B=target/release/seatnet-bench

WORK=$(mktemp -d)
SPID=
cleanup() {
    if [ -n "$SPID" ]; then
        kill "$SPID" 2>/dev/null || true
        wait "$SPID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Map flags of the two servers.
ONE=(--map "m0=$((MANY * SEATS))")
MANY_MAPS=()
for ((i = 0; i < MANY; i++)); do MANY_MAPS+=(--map "m$i=$SEATS"); done

# run ROUND MAPS CONNS MODE: one server, one bench run, one result line.
run() {
    local round=$1 maps=$2 conns=$3 mode=$4 port json code
    local args=(--port 0 -q)
    if [ "$maps" = 1 ]; then args+=("${ONE[@]}"); else args+=("${MANY_MAPS[@]}"); fi
    if [ "$mode" = durable ]; then
        args+=(--data-dir "$WORK/data" --fsync always)
    fi
    # The server opens these files itself, after the fork: the previous
    # run's startup line must not be there to be found meanwhile.
    rm -f "$WORK/server.out" "$WORK/server.err"
    "$S" "${args[@]}" >"$WORK/server.out" 2>"$WORK/server.err" &
    SPID=$!
    for _ in $(seq 300); do grep -qs listening "$WORK/server.out" && break; sleep 0.1; done
    port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/server.out")
    if [ -z "$port" ]; then
        echo "server did not start: $(cat "$WORK/server.err")" >&2
        exit 1
    fi
    code=0
    json=$("$B" --port "$port" --maps "$maps" -c "$conns" --seed "$round" "${LOAD[@]}" \
        2>"$WORK/bench.txt") || code=$?
    kill -TERM "$SPID"
    wait "$SPID" || true
    SPID=
    rm -rf "$WORK/data"
    if [ "$code" != 0 ]; then
        echo "seatnet-bench exited $code on $maps maps, $conns connections, $mode:" >&2
        cat "$WORK/bench.txt" >&2
        exit 1
    fi
    echo "$json" | python3 -c '
import json, sys
r = json.load(sys.stdin)["runs"][0]
assert r["consistency_ok"] and r["errors"] == 0, r
print(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4],
      round(r["throughput"]), r["p50_us"], r["p99_us"], r["full"])
' "$round" "$maps" "$conns" "$mode" | tee -a "$WORK/results"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
echo "round maps conns mode req/s p50_us p99_us full"
for ((round = 1; round <= ROUNDS; round++)); do
    for conns in 16 64; do
        for maps in 1 "$MANY"; do
            for mode in memory durable; do
                run "$round" "$maps" "$conns" "$mode"
            done
        done
    done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$WORK/results" "$MANY" <<'EOF'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
many = sys.argv[2]
med = {}
for key in {tuple(r[1:4]) for r in rows}:
    runs = [r for r in rows if tuple(r[1:4]) == key]
    med[key] = tuple(statistics.median(float(r[i]) for r in runs) for i in (4, 5, 6))
print()
print(f"median of {len(rows) // len(med)} rounds; req/s counts every request (USE, HOLD, CONFIRM, CANCEL)")
print(f"{'maps':>5} {'conns':>5} {'mode':>8} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7}"
      f" {'x 1 map':>8} {'x memory':>9}")
for conns in ("16", "64"):
    for maps in ("1", many):
        for mode in ("memory", "durable"):
            tput, p50, p99 = med[(maps, conns, mode)]
            vs_one = tput / med[("1", conns, mode)][0]
            vs_mem = tput / med[(maps, conns, "memory")][0]
            print(f"{maps:>5} {conns:>5} {mode:>8} {tput:>8.0f} {p50 / 1e3:>7.3f} {p99 / 1e3:>7.3f}"
                  f" {vs_one:>7.2f}x {vs_mem:>8.2f}x")
EOF
