#!/usr/bin/python3
"""Checks overhead.py on captures it writes itself (no lab, no root): the flow and
carrier filters, fragment joining, and pairing across what real captures hold
(packets the router refused, control messages, swapped neighbours, handshakes).
bench_encryption.sh runs it first. Prints "N passed, N failed"; exits 1 on a failure.

    test_overhead.py [SEED]
"""

import os
import random
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import overhead  # noqa: E402

LAN_SRC, LAN_DST = "10.2.0.10", "10.1.0.10"
WAN_SRC, WAN_DST = "192.0.2.2", "192.0.2.1"


def ip4(text):
    return bytes(int(x) for x in text.split("."))


def packet(src, dst, proto, total, l4=b"", ident=0, frag=0):
    """An IPv4 packet of `total` bytes (the header says so), l4 at its start."""
    body = l4 + bytes(max(0, total - 20 - len(l4)))
    hdr = struct.pack("!BBHHHBB2s4s4s", 0x45, 0, total, ident, frag, 64, proto, b"\0\0", ip4(src), ip4(dst))
    return (hdr + body)[:total]


def tcp(sport, dport, total):
    """A TCP segment header; the payload is total - 40 bytes."""
    return struct.pack("!HHIIBBHHH", sport, dport, 0, 0, 5 << 4, 0x18, 0, 0, 0)


def udp(sport, dport, first=b""):
    return struct.pack("!HHHH", sport, dport, 0, 0) + first


def write_pcap(path, packets, snap=128):
    """packets: (timestamp, IP bytes); written as Ethernet frames cut to snap."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for ts, ip in packets:
            frame = bytes(12) + b"\x08\x00" + ip
            cut = frame[:snap]
            f.write(struct.pack("<IIII", int(ts), int((ts % 1) * 1e6), len(cut), len(frame)))
            f.write(cut)


def run(case, lan_pkts, wan_pkts, carrier, proto="tcp", port=443, skip=0):
    with tempfile.TemporaryDirectory() as d:
        write_pcap(os.path.join(d, "lan.pcap"), lan_pkts)
        write_pcap(os.path.join(d, "wan.pcap"), wan_pkts)
        lan = overhead.lan_flow(os.path.join(d, "lan.pcap"), LAN_SRC, LAN_DST, proto, port)
        wan = overhead.wan_carrier(os.path.join(d, "wan.pcap"), WAN_SRC, WAN_DST, carrier)
        return overhead.analyse(lan, wan, skip)


def stream(rng, n, size=1400, extra=24, carrier="tern", gap=20e-6, latency=15e-6):
    """n LAN data packets and their WAN packets `extra` bytes longer."""
    lan, wan = [], []
    t = 1000.0
    for i in range(n):
        t += gap * (0.5 + rng.random())
        lan.append((t, packet(LAN_SRC, LAN_DST, 6, size, tcp(443, 40000, size))))
        if carrier == "wg":
            l4 = udp(51820, 51820, b"\x04\0\0\0")
        elif carrier == "esp":
            l4 = udp(4500, 4500, b"\x12\x34\x56\x78")
        else:
            l4 = udp(40001, 40002)
        wan.append((t + latency, packet(WAN_SRC, WAN_DST, 17, size + extra, l4, ident=i)))
    return lan, wan


def main(argv):
    rng = random.Random(int(argv[0]) if argv else 1)
    print(f"# seed {argv[0] if argv else 1}")
    results = []

    def check(name, cond, detail=""):
        results.append(cond)
        print(f"{'ok' if cond else 'not ok'} {len(results)} - {name}{'' if cond else ': ' + str(detail)}")

    lan, wan = stream(rng, 500)
    r = run("plain", lan, wan, "tern")
    check("a steady stream pairs one to one at 24 bytes",
          r["paired"] == 500 and r["overhead_bytes_per_packet"] == 24 and r["reordered"] == 0, r)

    # The router refuses 3 packets (path MTU) and sends 2 control messages of its own.
    lan, wan = stream(rng, 300)
    del wan[100], wan[150], wan[200]
    wan.insert(50, (wan[50][0] - 1e-6, packet(WAN_SRC, WAN_DST, 17, 60, udp(40001, 40002), ident=9999)))
    wan.insert(250, (wan[250][0] - 1e-6, packet(WAN_SRC, WAN_DST, 17, 90, udp(40001, 40002), ident=9998)))
    r = run("gaps", lan, wan, "tern")
    check("refused packets and control messages do not shift the pairing",
          r["paired"] == 297 and r["lan_unpaired"] == 3 and r["wan_unpaired"] == 2
          and r["overhead_bytes_per_packet"] == 24, r)

    # ternd swapped a short segment with the full one before it.
    lan, wan = stream(rng, 200, extra=0)
    for i in (40, 120):
        lan[i + 1] = (lan[i + 1][0], packet(LAN_SRC, LAN_DST, 6, 289, tcp(443, 40000, 289)))
        wan[i + 1] = (wan[i + 1][0], packet(WAN_SRC, WAN_DST, 17, 289, udp(40001, 40002)))
        wan[i], wan[i + 1] = (wan[i][0], wan[i + 1][1]), (wan[i + 1][0], wan[i][1])
    r = run("swap", lan, wan, "tern")
    check("swapped neighbours are paired right and counted",
          r["paired"] == 200 and r["overhead_bytes_per_packet"] == 0 and r["reordered"] == 2 and r["max"] == 0, r)

    # Handshake packets with metadata, then data; skip hides them and reports them.
    lan, wan = stream(rng, 100)
    for i in range(4):
        wan[i] = (wan[i][0], packet(WAN_SRC, WAN_DST, 17, 1400 + 78, udp(40001, 40002)))
    r = run("skip", lan, wan, "tern", skip=4)
    check("the first packets are reported apart",
          r["overhead_bytes_per_packet"] == 24 and r["first_packets"] == 4 and r["first_packets_overhead"] == 78, r)

    # WireGuard: only transport messages (type 4) count; a handshake (type 1) does not.
    lan, wan = stream(rng, 100, extra=60, carrier="wg")
    wan.insert(10, (wan[10][0] - 1e-6, packet(WAN_SRC, WAN_DST, 17, 176, udp(51820, 51820, b"\x01\0\0\0"))))
    r = run("wg", lan, wan, "wg")
    check("WireGuard: handshake messages are not carrier packets",
          r["wan_packets"] == 100 and r["paired"] == 100 and r["overhead_bytes_per_packet"] == 60, r)

    # ESP in UDP: IKE (zero marker) and NAT-T keepalives (one byte) are not ESP.
    lan, wan = stream(rng, 100, extra=64, carrier="esp")
    wan.insert(5, (wan[5][0] - 1e-6, packet(WAN_SRC, WAN_DST, 17, 29, udp(4500, 4500, b"\xff"))))
    wan.insert(20, (wan[20][0] - 1e-6, packet(WAN_SRC, WAN_DST, 17, 120, udp(4500, 4500, b"\0\0\0\0"))))
    r = run("esp", lan, wan, "esp")
    check("ESP: IKE and keepalives are not carrier packets",
          r["wan_packets"] == 100 and r["overhead_bytes_per_packet"] == 64, r)

    # A WAN packet fragmented in two counts as one, its bytes summed.
    lan, wan = stream(rng, 50, size=1400, extra=24)
    t, ip = wan[25]
    first = packet(WAN_SRC, WAN_DST, 17, 1000, udp(40001, 40002), ident=777, frag=0x2000)
    rest = packet(WAN_SRC, WAN_DST, 17, 1400 + 24 - 1000 + 20, ident=777, frag=(1000 - 20) // 8)
    wan[25:26] = [(t, first), (t + 1e-6, rest)]
    r = run("frag", lan, wan, "tern")
    check("fragments are joined", r["wan_packets"] == 50 and r["paired"] == 50
          and r["max"] == 44 and r["counted"] == 50, r)

    # Other flows and the other direction on the LAN are not the flow.
    lan, wan = stream(rng, 50)
    lan.insert(10, (lan[10][0] - 1e-6, packet(LAN_DST, LAN_SRC, 6, 52, tcp(40000, 443, 52))))
    lan.insert(20, (lan[20][0] - 1e-6, packet(LAN_SRC, LAN_DST, 6, 1400, tcp(80, 40000, 1400))))
    r = run("filter", lan, wan, "tern")
    check("the LAN filter keeps only the flow in its direction", r["lan_packets"] == 50 and r["paired"] == 50, r)

    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
