"""Internet checksums (RFC 1071) for the lab tests' hand-made packets, shared by the
raw-socket senders (icmp_err.py, tcp_inject.py, wan_inject.py). IPv4 only."""
import struct


def csum(data):
    """The ones' complement sum of data, complemented (0 over data holding its own)."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def l4_csum(src, dst, proto, segment):
    """The TCP or UDP checksum of segment (its checksum field zero) from src to dst,
    4-byte addresses: over the IPv4 pseudo-header and the segment. A UDP sender writes
    0xFFFF for 0 (0 would mean no checksum)."""
    return csum(bytes(src) + bytes(dst) + struct.pack("!BBH", 0, proto, len(segment)) + bytes(segment))
