#!/usr/bin/python3
"""Bytes the WAN carries per packet beyond the host's own IP packet.

Reads two captures taken at the same time in the ingress router's namespace: the LAN
side (the bridge the host's packets arrive on) and the WAN side (the WAN interface
they leave by). Picks the flow's packets in one direction on the LAN and the
carrier's packets in the same direction on the WAN (tern: every IP packet between
the two WAN addresses; wg: WireGuard transport-data messages; esp: ESP in UDP 4500),
joins IP fragments on the WAN back into one packet, and pairs the two lists in order:
a LAN packet's WAN packet is the first one after it (within 0.2 s) that is no shorter
than it and at most 200 bytes longer, looking a few packets ahead in case the router
swapped neighbours (pair() says how). WAN packets skipped that way (key exchange,
control messages) and LAN packets left without one (dropped, e.g. by path-MTU
discovery) are counted, not paired.

Overhead per packet = sum over the pairs (WAN IP bytes - LAN IP bytes) / pairs, over
the flow's data packets after the first SKIP packets of the direction (default 32:
the session's handshake, TCP's and TLS's, and for Tern the first window of packets
that carry SVR metadata until the other side's packets acknowledge it). Data packets:
TCP segments with a payload, or every UDP datagram. What the skipped packets cost is
reported apart ("first_packets_overhead").

Usage: overhead.py LAN.pcap WAN.pcap --lan SRC DST --port PORT --proto tcp|udp
                   --wan SRC DST --carrier tern|wg|esp [--skip N]
Prints one JSON object.
"""

import argparse
import ipaddress
import json
import statistics
import struct
import sys


def pcap_packets(path):
    """Yields (timestamp, IPv4 packet bytes as captured, IP total length)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        endian = "<"
    else:
        endian = ">"
        magic = struct.unpack(">I", data[:4])[0]
    nano = magic == 0xA1B23C4D
    linktype = struct.unpack(endian + "I", data[20:24])[0] & 0xFFFF
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(endian + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        ts = sec + frac / (1e9 if nano else 1e6)
        if linktype == 1:  # Ethernet
            ethertype = struct.unpack("!H", frame[12:14])[0] if len(frame) >= 14 else 0
            ip = frame[14:]
        elif linktype == 113:  # Linux cooked v1
            ethertype = struct.unpack("!H", frame[14:16])[0] if len(frame) >= 16 else 0
            ip = frame[16:]
        elif linktype == 101:  # raw IP
            ethertype, ip = 0x0800, frame
        else:
            raise SystemExit(f"{path}: link type {linktype} not handled")
        if ethertype != 0x0800 or len(ip) < 20 or ip[0] >> 4 != 4:
            continue
        yield ts, ip, struct.unpack("!H", ip[2:4])[0]


def addr(b):
    return str(ipaddress.IPv4Address(bytes(b)))


def lan_flow(path, src, dst, proto, port):
    """The flow's packets from src to dst: list of (ts, length, is_data)."""
    out = []
    pnum = 6 if proto == "tcp" else 17
    for ts, ip, length in pcap_packets(path):
        if ip[9] != pnum or addr(ip[12:16]) != src or addr(ip[16:20]) != dst:
            continue
        ihl = (ip[0] & 15) * 4
        l4 = ip[ihl:]
        if len(l4) < 4:
            continue
        sport, dport = struct.unpack("!HH", l4[:4])
        if port not in (sport, dport):
            continue
        if pnum == 6:
            doff = (l4[12] >> 4) * 4 if len(l4) >= 13 else 20
            is_data = length - ihl - doff > 0
        else:
            is_data = True
        out.append((ts, length, is_data))
    return out


def wan_carrier(path, src, dst, carrier):
    """The carrier's packets from src to dst, fragments joined: list of (ts, length)."""
    out = []
    frags = {}  # (id, proto) -> index into out of the first fragment
    for ts, ip, length in pcap_packets(path):
        if addr(ip[12:16]) != src or addr(ip[16:20]) != dst:
            continue
        proto = ip[9]
        ident = struct.unpack("!H", ip[4:6])[0]
        flags_off = struct.unpack("!H", ip[6:8])[0]
        more, offset = flags_off & 0x2000, flags_off & 0x1FFF
        if offset:
            i = frags.get((ident, proto))
            if i is not None:
                out[i] = (out[i][0], out[i][1] + length)
            continue
        ihl = (ip[0] & 15) * 4
        l4 = ip[ihl:]
        if carrier == "wg":
            # WireGuard transport data: UDP to or from 51820, message type 4.
            if proto != 17 or len(l4) < 9 or 51820 not in struct.unpack("!HH", l4[:4]) or l4[8] != 4:
                continue
        elif carrier == "esp":
            # ESP in UDP 4500: a non-zero SPI (IKE has a zero marker, keepalives one byte).
            if proto != 17 or len(l4) < 12 or 4500 not in struct.unpack("!HH", l4[:4]) or l4[8:12] == b"\0\0\0\0":
                continue
        elif proto not in (6, 17):
            continue
        if more:
            frags[(ident, proto)] = len(out)
        out.append((ts, length))
    return out


def pair(lan, wan, window=0.2, max_extra=200, lookahead=16, slack=0.0005):
    """Pairs each LAN packet with a WAN packet; returns (pairs as (lan index, wan index),
    WAN packets left unpaired).

    A LAN packet's candidates are the first `lookahead` unpaired WAN packets sent no
    earlier than it arrived (less `slack` for the two captures' timestamps) and no
    later than `window` after; the first of those that is no shorter and at most
    `max_extra` longer is its pair. Looking past the next one keeps the pairing right
    when the router swaps neighbouring packets (seen with ternd: a short segment
    overtaking a full one)."""
    pairs = []
    pending = []  # unpaired WAN indices, oldest first, at most lookahead of them
    nxt = 0
    expired = 0
    for i, (ts, length, _) in enumerate(lan):
        while pending and wan[pending[0]][0] < ts - slack:
            pending.pop(0)
            expired += 1
        while nxt < len(wan) and wan[nxt][0] < ts - slack:
            nxt += 1
            expired += 1
        while nxt < len(wan) and len(pending) < lookahead and wan[nxt][0] <= ts + window:
            pending.append(nxt)
            nxt += 1
        for pos, k in enumerate(pending):
            if 0 <= wan[k][1] - length <= max_extra:
                pairs.append((i, k))
                del pending[pos]
                break
    return pairs, expired + len(pending) + len(wan) - nxt


def analyse(lan, wan, skip):
    """The figures (a dict) of lan_flow() and wan_carrier() lists."""
    pairs, wan_skipped = pair(lan, wan)
    extra = [wan[k][1] - lan[i][1] for i, k in pairs if i >= skip and lan[i][2]]
    first = [wan[k][1] - lan[i][1] for i, k in pairs if i < skip]
    # Packets the router sent before one that reached it earlier.
    reordered, high = 0, -1
    for _, k in pairs:
        if k < high:
            reordered += 1
        high = max(high, k)
    res = {
        "lan_packets": len(lan),
        "wan_packets": len(wan),
        "paired": len(pairs),
        "lan_unpaired": len(lan) - len(pairs),
        "wan_unpaired": wan_skipped,
        "reordered": reordered,
        "counted": len(extra),
        "overhead_bytes_per_packet": round(sum(extra) / len(extra), 2) if extra else None,
        "min": min(extra) if extra else None,
        "median": statistics.median(extra) if extra else None,
        "max": max(extra) if extra else None,
        "first_packets": len(first),
        "first_packets_overhead": round(sum(first) / len(first), 2) if first else None,
    }
    return res


def main(argv):
    p = argparse.ArgumentParser()
    p.add_argument("lan_pcap")
    p.add_argument("wan_pcap")
    p.add_argument("--lan", nargs=2, required=True, metavar=("SRC", "DST"))
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--proto", choices=("tcp", "udp"), required=True)
    p.add_argument("--wan", nargs=2, required=True, metavar=("SRC", "DST"))
    p.add_argument("--carrier", choices=("tern", "wg", "esp"), required=True)
    p.add_argument("--skip", type=int, default=32)
    a = p.parse_args(argv)
    lan = lan_flow(a.lan_pcap, a.lan[0], a.lan[1], a.proto, a.port)
    wan = wan_carrier(a.wan_pcap, a.wan[0], a.wan[1], a.carrier)
    res = analyse(lan, wan, a.skip)
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
