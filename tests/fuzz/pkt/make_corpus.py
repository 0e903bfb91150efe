#!/usr/bin/env python3
"""Writes the seed corpora of fuzz_pkt_parse and fuzz_pkt_frag.

Run from the repository root: python3 tests/fuzz/pkt/make_corpus.py
The committed files change only when this script does (docs/decisions/0002).
"""
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus")

V4_SRC = bytes([192, 168, 1, 10])
V4_DST = bytes([8, 8, 8, 8])
V6_SRC = bytes.fromhex("20010db8000000000000000000000001")
V6_DST = bytes.fromhex("20010db8000100000000000000000002")


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ipv4(proto, payload, ident=0x1234, frag=0x4000, options=b""):
    ihl = 5 + len(options) // 4
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + len(payload), ident, frag,
                      64, proto, 0, V4_SRC, V4_DST) + options
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def ipv6(nh, payload):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, 64, V6_SRC, V6_DST) + payload


def l4_csum(v6, proto, seg, field):
    if v6:
        pseudo = V6_SRC + V6_DST + struct.pack("!IxxxB", len(seg), proto)
    elif proto == 1:
        pseudo = b""
    else:
        pseudo = V4_SRC + V4_DST + struct.pack("!xBH", proto, len(seg))
    c = csum(pseudo + seg)
    if proto == 17 and c == 0:
        c = 0xFFFF
    return seg[:field] + struct.pack("!H", c) + seg[field + 2:]


def tcp(sport, dport, flags, options=b"", payload=b"", v6=False):
    off = (20 + len(options)) // 4
    seg = struct.pack("!HHIIBBHHH", sport, dport, 0x11223344, 0, off << 4, flags, 64240, 0,
                      0) + options + payload
    return l4_csum(v6, 6, seg, 16)


def udp(sport, dport, payload, v6=False):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    return l4_csum(v6, 17, seg, 6)


def icmp(typ, code, rest, payload, v6=False):
    seg = struct.pack("!BBH", typ, code, 0) + rest + payload
    return l4_csum(v6, 58 if v6 else 1, seg, 2)


def ext(nh, body_len8):
    """A hop-by-hop / destination options / routing header with PadN filling it."""
    length = (body_len8 + 1) * 8
    return bytes([nh, body_len8, 1, length - 4]) + bytes(length - 4)


def write(corpus, name, data):
    d = os.path.join(ROOT, corpus)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


SYN_OPTS = bytes([2, 4, 0x05, 0xB4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7])
DNS_QUERY = bytes.fromhex("abcd01000001000000000000076578616d706c6503636f6d0000010001")


def parse_corpus():
    c = "fuzz_pkt_parse"
    write(c, "ipv4-tcp-syn", ipv4(6, tcp(40000, 443, 0x02, SYN_OPTS)))
    write(c, "ipv4-udp-dns", ipv4(17, udp(33000, 53, DNS_QUERY)))
    write(c, "ipv4-udp-dns-padded", ipv4(17, udp(33000, 53, b"x")) + bytes(17))
    write(c, "ipv4-icmp-echo", ipv4(1, icmp(8, 0, struct.pack("!HH", 0xBEEF, 1), bytes(56))))
    inner = ipv4(17, udp(1, 2, b""))[:28]
    write(c, "ipv4-icmp-unreach", ipv4(1, icmp(3, 4, struct.pack("!HH", 0, 1400), inner)))
    write(c, "ipv4-options-rr", ipv4(17, udp(5, 6, b"hi"), options=bytes([1, 7, 7, 4]) + bytes(8)))
    write(c, "ipv4-esp", ipv4(50, struct.pack("!II", 0x100, 1) + bytes(24)))
    big = udp(7, 9, bytes(range(256)) * 8)
    write(c, "ipv4-frag-first", ipv4(17, big[:1480], ident=7, frag=0x2000))
    write(c, "ipv4-frag-middle", ipv4(17, big[1480:1600], ident=7, frag=0x2000 | 185))
    write(c, "ipv6-tcp-syn", ipv6(6, tcp(40000, 22, 0x02, SYN_OPTS, v6=True)))
    write(c, "ipv6-icmpv6-echo", ipv6(58, icmp(128, 0, struct.pack("!HH", 7, 1), bytes(16), True)))
    chain = ext(60, 0) + ext(43, 1) + ext(17, 0)
    write(c, "ipv6-ext-chain-udp", ipv6(0, chain + udp(53, 5353, DNS_QUERY, True)))
    frag = bytes([17, 0]) + struct.pack("!HI", 0 | 1, 0xABCDEF01)
    write(c, "ipv6-frag-first", ipv6(0, ext(44, 0) + frag + udp(1, 2, bytes(64), True)[:48]))
    frag = bytes([17, 0]) + struct.pack("!HI", 48 | 1, 0xABCDEF01)
    write(c, "ipv6-frag-middle", ipv6(44, frag + bytes(48)))
    write(c, "ipv6-no-next-header", ipv6(59, b""))
    write(c, "truncated-ipv4", ipv4(6, tcp(1, 2, 0x10))[:30])
    write(c, "bad-version", b"\x55" + bytes(39))


def record(flags, proto, off_units, length, advance_ms=0, first16=b""):
    return struct.pack("!BBHHBB", flags, proto, off_units, length, advance_ms, 0) + \
        first16.ljust(16, b"\0")[:16]


def frag_corpus():
    c = "fuzz_pkt_frag"
    cfg = bytes([8, 15]) + struct.pack("!H", 9215)
    # IPv4 UDP, 64 bytes in two fragments, in order: the first carries a UDP header whose
    # length covers both (payload beyond 16 bytes is the generator's pattern).
    hdr = struct.pack("!HHHH", 1000, 53, 64, 0)
    write(c, "ipv4-two-in-order", cfg + record(2, 17, 0, 32, 1, hdr) + record(0, 17, 4, 32, 1))
    write(c, "ipv4-two-reversed", cfg + record(0, 17, 4, 32, 1) + record(2, 17, 0, 32, 1, hdr))
    write(c, "ipv6-hop-three", cfg + record(1 | 16, 17, 8, 16) +
          record(1 | 2 | 16, 17, 0, 32, 0, hdr[:4] + struct.pack("!H", 80) + hdr[6:]) +
          record(1 | 2 | 16, 17, 4, 32))
    write(c, "ipv4-overlap", cfg + record(2, 50, 0, 64) + record(2, 50, 4, 64))
    write(c, "ipv4-timeout", cfg + record(2, 50, 0, 64) + record(0 | 32 | 64, 50, 8, 8))
    write(c, "ipv4-table-full", bytes([0, 15]) + struct.pack("!H", 9215) +
          record(2, 50, 0, 8) + record(2 | 4, 50, 0, 8) + record(2 | 8, 50, 0, 8))
    write(c, "ipv4-too-big", cfg[:2] + struct.pack("!H", 200) + record(2, 50, 0, 400))


if __name__ == "__main__":
    parse_corpus()
    frag_corpus()
