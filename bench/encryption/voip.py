#!/usr/bin/python3
"""A VoIP-like stream: 60-byte UDP payloads at 50 packets per second (an RTP header
and a 48-byte voice frame every 20 ms, like a low-rate codec), for a bounded time.

    voip.py send ADDR PORT [SECONDS]   send for SECONDS (default 5) from port PORT
    voip.py recv ADDR PORT [SECONDS]   count what arrives, for at most SECONDS (default 10)

Each payload is a 12-byte RTP header (version 2, payload type 0, sequence number,
timestamp, a fixed SSRC) and 48 random bytes: cleartext RTP as far as any router can
tell, so Tern's adaptive encryption should encrypt it. Prints one line: packets sent
or received.
"""

import os
import socket
import sys
import time

PAYLOAD = 60
RATE = 50
SSRC = bytes.fromhex("7e2d0001")


def send(addr, port, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("", port))
    n = int(seconds * RATE)
    start = time.monotonic()
    for i in range(n):
        due = start + i / RATE
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        rtp = bytes([0x80, 0]) + (i & 0xFFFF).to_bytes(2, "big") + (i * 160).to_bytes(4, "big") + SSRC
        s.sendto(rtp + os.urandom(PAYLOAD - len(rtp)), (addr, port))
    print(f"sent {n}")


def recv(addr, port, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    deadline = time.monotonic() + seconds
    got = 0
    while True:
        left = deadline - time.monotonic()
        # Stop 1 s after the stream ends, or at the deadline.
        s.settimeout(min(left, 1.0) if got else left)
        if left <= 0:
            break
        try:
            s.recv(2048)
        except socket.timeout:
            if got:
                break
            continue
        got += 1
    print(f"received {got}")


def main(argv):
    if len(argv) not in (3, 4) or argv[0] not in ("send", "recv"):
        print(__doc__, file=sys.stderr)
        return 2
    seconds = float(argv[3]) if len(argv) == 4 else (5 if argv[0] == "send" else 10)
    (send if argv[0] == "send" else recv)(argv[1], int(argv[2]), seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
