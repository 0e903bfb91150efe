#!/usr/bin/python3
"""A paced UDP stream with sequence numbers, and a receiver that measures its gaps:
how long a failover interrupts a flow, as the receiving application sees it.

    udpstream.py send ADDR PORT [--rate PPS] [--seconds S] [--size BYTES] [--sport PORT]
                     [--until FILE]
    udpstream.py recv ADDR PORT [--seconds S] [--ready FILE]

The sender sends --rate datagrams per second (default 1000) for --seconds (default 3),
each --size bytes (default 100, at least 16): a magic word, a 32-bit sequence number
and the CLOCK_MONOTONIC send time (ns), then zeros; then five end markers carrying the
number sent. It paces against the clock (a late datagram goes at once, so a stall does
not shift the rest) and prints one JSON line: {"sent": N, "late_ms_max": ...}. With
--until it stops early, within 100 ms of FILE coming to exist.

The receiver binds ADDR:PORT, touches --ready FILE once it is bound, records every
arrival (CLOCK_MONOTONIC) until an end marker (plus 300 ms for stragglers) or --seconds
(default 30) and prints one JSON line:

    sent         from the end marker (null if none arrived)
    received     distinct sequence numbers received
    lost         sent - received (or, without an end marker, the holes below the
                 highest sequence number received)
    duplicates, reordered (arrived after a higher sequence number)
    gap_ms       the largest time between two consecutive arrivals
    gap_from_s, gap_to_s   the arrival times (CLOCK_MONOTONIC, s) around that gap
    gap_from_epoch, gap_to_epoch   the same in CLOCK_REALTIME (s since 1970, what
                 bash's $EPOCHREALTIME says), so a script can tell whether the gap
                 follows the moment it cut a link
    gap_lost     sequence numbers missing across that gap
    gaps_over_50ms  every gap over 50 ms, as [from_s, ms]
    first_s, last_s  the first and last arrival times

CLOCK_MONOTONIC is shared by all network namespaces (they are not time namespaces), so
send and arrival times compare directly.
"""

import argparse
import json
import os
import socket
import struct
import sys
import time

MAGIC = 0x54455246  # "TERF"
END = 0x454E4421    # "END!"
HEADER = struct.Struct("!IIQ")


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def send(args):
    s = socket.socket(family(args.addr), socket.SOCK_DGRAM)
    if args.sport:
        s.bind(("", args.sport))
    n = int(args.seconds * args.rate)
    pad = bytes(max(0, args.size - HEADER.size))
    start = time.monotonic_ns()
    period = 1e9 / args.rate
    late = 0
    check_every = max(1, int(args.rate / 10))
    for i in range(n):
        if args.until and i % check_every == 0 and os.path.exists(args.until):
            n = i
            break
        due = start + int(i * period)
        now = time.monotonic_ns()
        if now < due:
            time.sleep((due - now) / 1e9)
            now = time.monotonic_ns()
        late = max(late, now - due)
        try:
            s.sendto(HEADER.pack(MAGIC, i, now) + pad, (args.addr, args.port))
        except OSError:
            pass  # no route for a moment is part of what is measured
    for _ in range(5):
        s.sendto(HEADER.pack(END, n, time.monotonic_ns()), (args.addr, args.port))
        time.sleep(0.01)
    print(json.dumps({"sent": n, "late_ms_max": round(late / 1e6, 3)}))


def recv(args):
    s = socket.socket(family(args.addr), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((args.addr, args.port))
    if args.ready:
        open(args.ready, "w").close()
    deadline = time.monotonic() + args.seconds
    arrivals = []  # (arrival ns, seq)
    sent = None
    end_by = None
    while True:
        now = time.monotonic()
        stop = deadline if end_by is None else min(deadline, end_by)
        if now >= stop:
            break
        s.settimeout(stop - now)
        try:
            data = s.recv(65536)
        except socket.timeout:
            break
        t = time.monotonic_ns()
        if len(data) < HEADER.size:
            continue
        magic, seq, _ = HEADER.unpack_from(data)
        if magic == MAGIC:
            arrivals.append((t, seq))
        elif magic == END and sent is None:
            sent = seq
            end_by = time.monotonic() + 0.3
    out = summarize(arrivals, sent)
    offset = time.time() - time.monotonic()  # CLOCK_REALTIME - CLOCK_MONOTONIC
    for k in ("gap_from", "gap_to"):
        out[k + "_epoch"] = round(out[k + "_s"] + offset, 6) if out[k + "_s"] is not None else None
    print(json.dumps(out))


def summarize(arrivals, sent):
    seen = set()
    dups = reordered = 0
    top = -1
    for _, seq in arrivals:
        if seq in seen:
            dups += 1
            continue
        seen.add(seq)
        if seq < top:
            reordered += 1
        top = max(top, seq)
    out = {"sent": sent, "received": len(seen), "duplicates": dups, "reordered": reordered,
           "lost": (sent - len(seen)) if sent is not None else (top + 1 - len(seen)),
           "gap_ms": None, "gap_from_s": None, "gap_to_s": None, "gap_lost": 0,
           "gaps_over_50ms": [], "first_s": None, "last_s": None}
    if not arrivals:
        return out
    out["first_s"] = arrivals[0][0] / 1e9
    out["last_s"] = arrivals[-1][0] / 1e9
    best = (-1, 0)
    for i in range(1, len(arrivals)):
        gap = arrivals[i][0] - arrivals[i - 1][0]
        if gap > best[0]:
            best = (gap, i)
        if gap > 50_000_000:
            out["gaps_over_50ms"].append([round(arrivals[i - 1][0] / 1e9, 4), round(gap / 1e6, 1)])
    if best[0] >= 0:
        gap, i = best
        out["gap_ms"] = round(gap / 1e6, 2)
        out["gap_from_s"] = arrivals[i - 1][0] / 1e9
        out["gap_to_s"] = arrivals[i][0] / 1e9
        lo, hi = arrivals[i - 1][1], arrivals[i][1]
        out["gap_lost"] = sum(1 for q in range(lo + 1, hi) if q not in seen) if hi > lo else 0
    return out


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="mode", required=True)
    ps = sub.add_parser("send")
    ps.add_argument("addr")
    ps.add_argument("port", type=int)
    ps.add_argument("--rate", type=float, default=1000)
    ps.add_argument("--seconds", type=float, default=3)
    ps.add_argument("--size", type=int, default=100)
    ps.add_argument("--sport", type=int, default=0)
    ps.add_argument("--until")
    pr = sub.add_parser("recv")
    pr.add_argument("addr")
    pr.add_argument("port", type=int)
    pr.add_argument("--seconds", type=float, default=30)
    pr.add_argument("--ready")
    args = p.parse_args(argv)
    if args.mode == "send":
        if args.size < HEADER.size or args.rate <= 0:
            p.error("--size must be at least 16 and --rate positive")
        send(args)
    else:
        recv(args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
