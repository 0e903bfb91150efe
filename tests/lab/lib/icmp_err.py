#!/usr/bin/env python3
"""ICMP errors in the firewall lab test (docs/protocol.md section 19). IPv4 only.

    icmp_err.py probe SRC DST DPORT [--sport N]
        A connected UDP socket from SRC:sport sends one datagram to DST:DPORT (closed):
        its recv must raise ConnectionRefusedError, and the port unreachable a raw ICMP
        socket sees must come from DST and embed exactly the IP and UDP header (and
        payload) this host sent. Prints what it saw as JSON; exits 1 otherwise.
    icmp_err.py inject SRC DST [--cut N]
        Sends an unsolicited port unreachable from SRC to DST about a UDP packet
        DST:5555 -> SRC:7777 that no session has, the embedded packet cut to N bytes
        (default: whole; 24 cuts inside the UDP header: malformed).
"""
import argparse
import json
import socket
import struct
import sys
import time

from inet_csum import csum, l4_csum


def udp_packet(src, dst, sport, dport, payload, ident, frag=0x4000, ttl=64):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    c = l4_csum(socket.inet_aton(src), socket.inet_aton(dst), 17, udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), ident, frag, ttl, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + udp


def probe(a):
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    raw.settimeout(3)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((a.src, a.sport))
    u.settimeout(3)
    u.connect((a.dst, a.dport))
    payload = b"tern-icmp-probe"
    u.send(payload)
    seen = None
    end = time.time() + 3
    while time.time() < end:
        try:
            pkt, peer = raw.recvfrom(2048)
        except socket.timeout:
            break
        ihl = (pkt[0] & 15) * 4
        icmp = pkt[ihl:]
        if icmp[0] != 3:
            continue
        inner = icmp[8:]
        iihl = (inner[0] & 15) * 4
        isport, idport = struct.unpack("!HH", inner[iihl:iihl + 4])
        if isport != a.sport or idport != a.dport:
            continue
        seen = {"from": peer[0], "type": icmp[0], "code": icmp[1],
                "icmp_csum_ok": csum(icmp) == 0, "inner": inner.hex()}
        break
    refused = False
    try:
        u.recv(100)
    except ConnectionRefusedError:
        refused = True
    except socket.timeout:
        pass
    print(json.dumps({"refused": refused, "error": seen}))
    if not refused or seen is None:
        return 1
    inner = bytes.fromhex(seen["inner"])
    # What this host sent: its IP header (the kernel's id and DF bit; the TTL as it
    # arrived at DST, each router on the way took one) and the datagram.
    ident, frag = struct.unpack("!HH", inner[4:8])
    sent = udp_packet(a.src, a.dst, a.sport, a.dport, payload, ident, frag, inner[8])
    ok = (seen["from"] == a.dst and seen["code"] == 3 and seen["icmp_csum_ok"]
          and inner[:len(sent)] == sent)
    if not ok:
        print("expected inner " + sent.hex(), file=sys.stderr)
    return 0 if ok else 1


def inject(a):
    inner = udp_packet(a.dst, a.src, 5555, 7777, b"none", 4242)
    if a.cut:
        inner = inner[:a.cut]
    msg = struct.pack("!BBHI", 3, 3, 0, 0) + inner
    msg = msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.bind((a.src, 0))
    s.sendto(msg, (a.dst, 0))
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["probe", "inject"])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("dport", type=int, nargs="?", default=9)
    ap.add_argument("--sport", type=int, default=41234)
    ap.add_argument("--cut", type=int, default=0)
    a = ap.parse_args()
    return probe(a) if a.mode == "probe" else inject(a)


if __name__ == "__main__":
    sys.exit(main())
