#!/usr/bin/env python3
"""Checks on a WAN capture for the lab tests (standard library only).

    pcap_check.py absent FILE MARKER        no packet carries MARKER anywhere
    pcap_check.py stream FILE PORT OUT      writes the TCP byte stream sent from PORT
                                            (metadata blocks removed, in sequence order)
    pcap_check.py udp-sizes FILE [PORT...]  prints, per UDP packet (to or from PORT, or
                                            all), its payload length, the length without
                                            a metadata block, and 1 if it had one
    pcap_check.py raw FILE SPORT DPORT N    prints the N-th IPv4 packet from SPORT to DPORT
                                            (UDP or TCP, waypoint ports) as hex
"""
import struct
import sys

COOKIE = bytes.fromhex("4c48dbc6ddf6670c")


def packets(path):
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        ip = frame[14:] if linktype == 1 else frame
        if len(ip) >= 20 and ip[0] >> 4 == 4:
            yield ip


def l4(ip):
    """(proto, sport, dport, seq, payload) of an IPv4 TCP/UDP packet, or None."""
    ihl = (ip[0] & 15) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    ip = ip[:total]
    proto = ip[9]
    seg = ip[ihl:]
    if proto == 17 and len(seg) >= 8:
        sport, dport = struct.unpack("!HH", seg[:4])
        return proto, sport, dport, 0, seg[8:]
    if proto == 6 and len(seg) >= 20:
        sport, dport, seq = struct.unpack("!HHI", seg[:8])
        doff = (seg[12] >> 4) * 4
        return proto, sport, dport, seq, seg[doff:]
    return None


def strip_meta(payload):
    if payload.startswith(COOKIE) and len(payload) >= 12:
        hlen = struct.unpack("!H", payload[8:10])[0] & 0xFFF
        plen = struct.unpack("!H", payload[10:12])[0]
        return payload[hlen + plen:]
    return payload


def main(argv):
    cmd, path = argv[1], argv[2]
    if cmd == "absent":
        marker = argv[3].encode()
        hits = sum(1 for ip in packets(path) if marker in ip)
        total = sum(1 for _ in packets(path))
        if hits:
            sys.exit(f"{hits} of {total} packets carry the marker")
        print(f"0 of {total} packets carry the marker")
    elif cmd == "stream":
        port, out = int(argv[3]), argv[4]
        segs = {}
        for ip in packets(path):
            p = l4(ip)
            if p and p[0] == 6 and p[1] == port:
                data = strip_meta(p[4])
                if data:
                    segs.setdefault(p[3], data)
        if not segs:
            sys.exit("no TCP payload from that port")
        base = min(segs)
        # Sequence numbers wrap at 2^32; the streams here are far shorter.
        stream = bytearray()
        for seq in sorted(segs, key=lambda s: (s - base) % (1 << 32)):
            rel = (seq - base) % (1 << 32)
            data = segs[seq]
            if rel > len(stream):
                sys.exit(f"gap in the capture at relative sequence {len(stream)}")
            stream[rel:rel + len(data)] = data
        open(out, "wb").write(bytes(stream))
        print(f"{len(segs)} segments, {len(stream)} bytes")
    elif cmd == "udp-sizes":
        ports = {int(p) for p in argv[3:]}
        for ip in packets(path):
            p = l4(ip)
            if p and p[0] == 17 and (not ports or p[1] in ports or p[2] in ports):
                print(len(p[4]), len(strip_meta(p[4])), int(p[4].startswith(COOKIE)))
    elif cmd == "raw":
        sport, dport, nth = int(argv[3]), int(argv[4]), int(argv[5])
        found = [ip for ip in packets(path) if (p := l4(ip)) and p[1] == sport and p[2] == dport]
        print(found[nth].hex())
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
