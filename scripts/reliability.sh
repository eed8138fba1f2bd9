#!/bin/bash
# The measurement of docs/reliability.md: a separately started seatnet-server,
# hostile connections from scripts/hostile.py (10,000 idle, 200 trickling
# one byte a second, 50 pipelining and never reading), and 16 honest clients
# from seatnet-bench; prints the load tool's report and the server's peak
# memory (VmHWM). Loopback only; bounded (about two minutes).
#
#   cargo build --release -p seatnet
#   RATE=5000 BENCH_AFTER=45 scripts/reliability.sh
#
# RATE: requests per second each pipeliner sends; BENCH_AFTER: seconds
# between the hostile connections being open and the honest load starting.
set -eu
cd "$(dirname "$0")/.."
S=target/release/seatnet-server
B=target/release/seatnet-bench
OUT=$(mktemp -d)
$S --port 0 -q --seats 1000000 --max-conns 15000 --idle-timeout 300 >"$OUT/server.out" 2>"$OUT/server.err" &
SPID=$!
trap 'kill $SPID 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q listening "$OUT/server.out" && break; sleep 0.1; done
PORT=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$OUT/server.out")
echo "server pid $SPID: $(cat "$OUT/server.out")"
python3 scripts/hostile.py --port "$PORT" --idle 10000 --trickle 200 --pipeline 50 \
    --pipeline-rate "${RATE:-1000}" --duration 75 >"$OUT/hostile.out" &
HPID=$!
for _ in $(seq 120); do grep -q pipeliners "$OUT/hostile.out" && break; sleep 1; done
sleep "${BENCH_AFTER:-5}"
cat "$OUT/hostile.out"
echo "server descriptors: $(ls /proc/$SPID/fd | wc -l)"
$B --port "$PORT" -c 16 -d 10 --seats 1000000 -k 1 2>&1 | grep -v "^ours: " || echo "bench exit $?"
grep -E "VmHWM" /proc/$SPID/status
wait $HPID
tail -1 "$OUT/hostile.out"
grep -E "VmHWM" /proc/$SPID/status
kill -TERM $SPID
wait $SPID
echo "server exit $?"
trap - EXIT
rm -r "$OUT"
