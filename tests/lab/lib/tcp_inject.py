#!/usr/bin/env python3
"""Sends hand-made TCP segments from a host namespace, for the firewall lab test.

    tcp_inject.py SRC DST DPORT FLAGS [--sport N] [--count N] [--seq N] [--ack N]
                  [--data TEXT] [--expect-rst SECONDS]

FLAGS is letters of S A F R P (e.g. A, PA, S). --count sends that many segments, the
source port counting up from --sport. --expect-rst waits that long for a RST from
DST:DPORT to the first segment's source port, prints it as JSON
({"seq": .., "ack": .., "flags": ..}) and exits 1 if none came. IPv4 only; the kernel
adds the IP header (a raw TCP socket), this script the TCP header and its checksum.
"""
import argparse
import json
import socket
import struct
import sys
import time

from inet_csum import l4_csum


def segment(src, dst, sport, dport, seq, ack, flags, data):
    bits = sum({"F": 1, "S": 2, "R": 4, "P": 8, "A": 16}[c] for c in flags)
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, bits, 64240, 0, 0)
    c = l4_csum(socket.inet_aton(src), socket.inet_aton(dst), 6, hdr + data)
    return hdr[:16] + struct.pack("!H", c) + hdr[18:] + data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("dport", type=int)
    ap.add_argument("flags")
    ap.add_argument("--sport", type=int, default=45000)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--seq", type=int, default=1000)
    ap.add_argument("--ack", type=int, default=5000)
    ap.add_argument("--data", default="")
    ap.add_argument("--expect-rst", type=float, default=0)
    a = ap.parse_args()
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    for i in range(a.count):
        s.sendto(segment(a.src, a.dst, a.sport + i, a.dport, a.seq, a.ack, a.flags, a.data.encode()),
                 (a.dst, 0))
        time.sleep(0.002)
    if a.expect_rst <= 0:
        return 0
    end = time.time() + a.expect_rst
    while time.time() < end:
        s.settimeout(max(0.01, end - time.time()))
        try:
            pkt, addr = s.recvfrom(2048)
        except socket.timeout:
            break
        ihl = (pkt[0] & 15) * 4
        sport, dport, seq, ack, _, flags = struct.unpack("!HHIIBB", pkt[ihl:ihl + 14])
        if addr[0] == a.dst and sport == a.dport and dport == a.sport and flags & 4:
            print(json.dumps({"seq": seq, "ack": ack, "flags": flags}))
            return 0
    print("no reset", file=sys.stderr)
    return 1


sys.exit(main())
