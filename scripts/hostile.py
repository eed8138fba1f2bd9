#!/usr/bin/env python3
"""Hostile connections against a seatnet server on loopback, for
docs/reliability.md: idle ones, slowloris tricklers and pipeliners that
never read. Bounded: runs --duration seconds, then closes everything and
prints what it saw. Connections the server closes on purpose (trickled
requests past --request-timeout, unread replies past --max-output) are
reopened, so the pressure stays on.

    python3 scripts/hostile.py --port PORT --idle 10000 --trickle 200 \
        --pipeline 50 --pipeline-rate 1000 --duration 60
"""

import argparse
import resource
import socket
import sys
import time


def loopback_only(host):
    addr = socket.gethostbyname(host)
    if not addr.startswith("127."):
        sys.exit(f"refusing non-loopback target {addr}")
    return addr


def connect(addr, port):
    s = socket.create_connection((addr, port), timeout=10)
    s.setblocking(False)
    return s


def closed_by_peer(s):
    """Reads and discards what is there; True at end of stream or error."""
    try:
        while True:
            data = s.recv(65536)
            if not data:
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--idle", type=int, default=10000)
    p.add_argument("--trickle", type=int, default=200)
    p.add_argument("--pipeline", type=int, default=50)
    p.add_argument("--pipeline-rate", type=int, default=1000,
                   help="requests per second each pipeliner sends (never reading a reply)")
    p.add_argument("--duration", type=float, default=60)
    a = p.parse_args()
    addr = loopback_only(a.host)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    start = time.monotonic()
    idle = [connect(addr, a.port) for _ in range(a.idle)]
    print(f"{len(idle)} idle connections open after {time.monotonic() - start:.1f} s", flush=True)

    def new_trickler():
        s = connect(addr, a.port)
        s.send(b"HELP\n")  # line mode: from now on a partial line waits
        return s

    tricklers = [new_trickler() for _ in range(a.trickle)]
    pipeliners = [connect(addr, a.port) for _ in range(a.pipeline)]
    print(f"{a.trickle} tricklers and {a.pipeline} pipeliners open", flush=True)
    # One original-style seat request per line; every 50 ms a pipeliner
    # sends a twentieth of its rate (what the socket takes of it).
    batch = b"1\n" * max(1, a.pipeline_rate // 20)
    reopened_trickle = reopened_pipe = 0
    sent_pipe = 0
    end = time.monotonic() + a.duration
    next_trickle = time.monotonic()
    while time.monotonic() < end:
        now = time.monotonic()
        if now >= next_trickle:
            next_trickle = now + 1.0
            for i, s in enumerate(tricklers):
                try:
                    if closed_by_peer(s):
                        raise ConnectionResetError
                    s.send(b"1")
                except OSError:
                    s.close()
                    tricklers[i] = new_trickler()
                    reopened_trickle += 1
        for i, s in enumerate(pipeliners):
            try:
                sent_pipe += s.send(batch)
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                pipeliners[i] = connect(addr, a.port)
                reopened_pipe += 1
        time.sleep(0.05)

    still_idle = sum(1 for s in idle if not closed_by_peer(s))
    print(
        f"after {a.duration:.0f} s: idle still open {still_idle}/{len(idle)}, "
        f"tricklers reopened {reopened_trickle} times, "
        f"pipeliners reopened {reopened_pipe} times ({sent_pipe} request bytes sent unread)",
        flush=True,
    )
    for s in idle + tricklers + pipeliners:
        s.close()


if __name__ == "__main__":
    main()
