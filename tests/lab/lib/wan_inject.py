#!/usr/bin/env python3
"""Re-sends a captured IPv4 UDP packet from a router namespace, for the lab tests.

    wan_inject.py HEX [FLIP_OFFSET]

HEX is the packet from `pcap_check.py raw`. With FLIP_OFFSET, one bit of the UDP
payload byte at that offset is flipped first. The UDP checksum is recomputed either
way, so the receiver's checksum check passes and what it judges is the content.
"""
import socket
import struct
import sys

from inet_csum import l4_csum


pkt = bytearray(bytes.fromhex(sys.argv[1]))
ihl = (pkt[0] & 15) * 4
if pkt[9] != 17:
    sys.exit("not UDP")
if len(sys.argv) > 2:
    pkt[ihl + 8 + int(sys.argv[2])] ^= 0x01
udp = pkt[ihl:]
udp[6:8] = b"\0\0"
c = l4_csum(pkt[12:16], pkt[16:20], 17, udp) or 0xFFFF
pkt[ihl + 6:ihl + 8] = struct.pack("!H", c)
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.sendto(bytes(pkt), (socket.inet_ntoa(bytes(pkt[16:20])), 0))
