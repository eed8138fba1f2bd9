#!/usr/bin/env python3
"""Server CPU and peak memory of single seatnet requests on a huge map.

Starts `seatnet-server` (release build) on 127.0.0.1, port 0, and sends one
request at a time over one line-mode connection. Around each request it
reads, from /proc/<pid>:

- CPU: `utime + stime` of /proc/<pid>/stat (clock ticks, 10 ms each here:
  coarse), and the sum of the first field of every
  /proc/<pid>/task/*/schedstat (nanoseconds on CPU, every thread): the
  figure reported;
- peak memory: `VmHWM` of /proc/<pid>/status, before and after.

Usage (from the workspace root, after `cargo build --release -p seatnet`):

    python3 benches/request_cost.py [--seats 100000000] [--max-seats 1024]

Loopback only. Everything is bounded: the fill phase stops at the first
`ERR not-enough`, every read has a timeout, the server is killed at exit.
"""

import argparse
import glob
import os
import socket
import statistics
import subprocess
import sys
import time

SERVER = "target/release/seatnet-server"


def cpu_ns(pid):
    total = 0
    for path in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            with open(path) as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass  # a thread that ended meanwhile
    return total


def ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # Fields 14 and 15 of stat(5), counted after the ")" of the name.
    return int(fields[11]) + int(fields[12])


def hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM")


class Client:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.ask("HELP")  # line mode from the first request on

    def send(self, text):
        self.sock.sendall(text.encode() + b"\n")

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise RuntimeError("server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def ask(self, text):
        self.send(text)
        return self.line()


class Server:
    def __init__(self, seats, max_seats):
        self.proc = subprocess.Popen(
            [SERVER, "--host", "127.0.0.1", "--port", "0", "--quiet",
             "--seats", str(seats), "--threads", "2", "--max-line", "65536",
             "--max-seats-per-request", str(max_seats)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        first = self.proc.stdout.readline()
        self.port = int(first.split("127.0.0.1:")[1].split()[0])
        self.pid = self.proc.pid

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def measure(server, client, label, request, rows, repeat=1):
    """Sends `request` `repeat` times, one at a time; one row per label."""
    cpus, tick_deltas, hwm_deltas, reply = [], [], [], ""
    for _ in range(repeat):
        c0, t0, h0 = cpu_ns(server.pid), ticks(server.pid), hwm_kb(server.pid)
        reply = client.ask(request)
        c1, t1, h1 = cpu_ns(server.pid), ticks(server.pid), hwm_kb(server.pid)
        cpus.append(c1 - c0)
        tick_deltas.append(t1 - t0)
        hwm_deltas.append(h1 - h0)
    rows.append((label, repeat, statistics.median(cpus), max(cpus),
                 max(tick_deltas), max(hwm_deltas), hwm_kb(server.pid), reply))
    return reply


def fill(client, per_request):
    """Reserves every free seat: TOGETHER <per_request>, pipelined 512
    deep, until ERR not-enough; then ANY <per_request> the same way; then
    ANY of what is left. Returns the TOGETHER bookings' references."""
    refs = []
    for verb in ("TOGETHER", "ANY"):
        done = False
        while not done:
            client.sock.sendall(f"{verb} {per_request}\n".encode() * 512)
            for _ in range(512):
                line = client.line()
                if not line.startswith("OK "):
                    done = True
                elif verb == "TOGETHER":
                    refs.append(line.split()[1])
    free = int(client.ask("STATS").split(" free=")[1].split()[0])
    if free:
        client.ask(f"ANY {free}")
    return refs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seats", type=int, default=100_000_000)
    ap.add_argument("--max-seats", type=int, default=1024)
    args = ap.parse_args()
    cap = args.max_seats
    server = Server(args.seats, cap)
    rows = []
    try:
        client = Client(server.port)
        time.sleep(0.2)
        print(f"seats {args.seats}, cap {cap}, server pid {server.pid}, "
              f"VmHWM at start {hwm_kb(server.pid)} kB", file=sys.stderr)
        measure(server, client, "STATS (fresh map)", "STATS", rows, 5)
        measure(server, client, "AVAIL (fresh map: one run)", "AVAIL", rows, 5)
        measure(server, client, "ANY 50000000 (over the cap)", "ANY 50000000", rows)
        r = measure(server, client, f"ANY {cap}", f"ANY {cap}", rows, 10)
        any_ref = r.split()[1]
        r = measure(server, client, f"TOGETHER {cap}", f"TOGETHER {cap}", rows, 10)
        together_ref = r.split()[1]
        spread = ",".join(str(s) for s in range(50_000_001, 50_000_001 + 2 * cap, 2))
        measure(server, client, f"ALL of {cap} seats (every other seat)",
                f"ALL {spread}", rows)
        spread = ",".join(str(s) for s in range(60_000_001, 60_000_001 + 2 * cap, 2))
        measure(server, client, f"BOOK of {cap} seats", f"BOOK {spread}", rows)
        spread = ",".join(str(s) for s in range(70_000_001, 70_000_001 + 2 * cap, 2))
        measure(server, client, f"original request of {cap} seats", spread, rows)
        measure(server, client, f"CANCEL (ANY {cap} booking)", f"CANCEL {any_ref}", rows)
        measure(server, client, f"CANCEL (TOGETHER {cap} booking)",
                f"CANCEL {together_ref}", rows)
        measure(server, client, "AVAIL (after the above: fragmented)", "AVAIL", rows, 5)
        start = time.time()
        refs = fill(client, cap)
        print(f"filled with {len(refs)} TOGETHER {cap} bookings in "
              f"{time.time() - start:.1f} s; VmHWM {hwm_kb(server.pid)} kB", file=sys.stderr)
        free = client.ask("STATS").split(" free=")[1].split()[0]
        print(f"free seats left: {free}", file=sys.stderr)
        measure(server, client, "STATS (full map)", "STATS", rows, 5)
        measure(server, client, "AVAIL (full map: walks every word)", "AVAIL", rows, 5)
        measure(server, client, f"ANY {cap} (full map: not-enough)", f"ANY {cap}", rows, 5)
        measure(server, client, f"TOGETHER {cap} (full map: not-enough)",
                f"TOGETHER {cap}", rows, 5)
        middle = refs[len(refs) // 2]
        measure(server, client, "CANCEL (one booking mid-map)", f"CANCEL {middle}", rows)
        measure(server, client, "AVAIL (one hole mid-map)", "AVAIL", rows, 5)
        measure(server, client, f"ANY {cap} (only the mid-map hole free)",
                f"ANY {cap}", rows)
    finally:
        server.stop()
    print("| request | times | server CPU, median | max | utime+stime ticks, max | "
          "VmHWM rise, max | VmHWM after | reply |")
    print("|---|---|---|---|---|---|---|---|")
    for label, n, med, mx, tk, dh, h, reply in rows:
        short = reply if len(reply) <= 60 else reply[:57] + "..."
        print(f"| {label} | {n} | {med / 1e6:.3f} ms | {mx / 1e6:.3f} ms | {tk} | "
              f"{dh} kB | {h / 1024:.1f} MB | `{short}` |")


if __name__ == "__main__":
    main()
