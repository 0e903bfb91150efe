#!/usr/bin/env python3
"""A tiny DNS responder and client for the lab tests (standard library only).

  dns_server.py serve ADDR [--ttl S] NAME=IPV4...
      answers A queries for the NAMEs on ADDR:53 (UDP) with their IPv4 address and TTL S
      (default 30); AAAA and other types of a known name get NOERROR with no answer,
      unknown names NXDOMAIN. Logs one line per query to stderr.
  dns_server.py query SERVER NAME
      asks SERVER:53 for NAME's A record and prints the addresses, one per line (exit 1
      when there is none or no answer within 2 s).
"""
import random
import socket
import struct
import sys


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def read_question(msg):
    """(name, qtype, end offset) of the first question; no compression there."""
    off, labels = 12, []
    while msg[off] != 0:
        n = msg[off]
        labels.append(msg[off + 1:off + 1 + n].decode())
        off += 1 + n
    qtype = struct.unpack("!H", msg[off + 1:off + 3])[0]
    return ".".join(labels).lower(), qtype, off + 5


def serve(addr, ttl, table):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((addr, 53))
    while True:
        msg, peer = sock.recvfrom(1500)
        if len(msg) < 17:
            continue
        try:
            name, qtype, end = read_question(msg)
        except (IndexError, UnicodeDecodeError):
            continue
        qid = msg[:2]
        question = msg[12:end]
        if name not in table:
            reply = qid + struct.pack("!HHHHH", 0x8183, 1, 0, 0, 0) + question
        elif qtype != 1:
            reply = qid + struct.pack("!HHHHH", 0x8180, 1, 0, 0, 0) + question
        else:
            answer = struct.pack("!HHHIH", 0xC00C, 1, 1, ttl, 4) + socket.inet_aton(table[name])
            reply = qid + struct.pack("!HHHHH", 0x8180, 1, 1, 0, 0) + question + answer
        sock.sendto(reply, peer)
        print(f"dns: {peer[0]} asked {name} type {qtype}", file=sys.stderr, flush=True)


def query(server, name):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(2)
    qid = random.randrange(65536)
    sock.sendto(struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + encode_name(name) +
                struct.pack("!HH", 1, 1), (server, 53))
    msg, _ = sock.recvfrom(1500)
    if struct.unpack("!H", msg[:2])[0] != qid:
        return 1
    count = struct.unpack("!H", msg[6:8])[0]
    _, _, off = read_question(msg)
    found = 0
    for _ in range(count):
        off += 2  # a pointer to the question's name
        rtype, _, _, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        off += 10
        if rtype == 1 and rdlen == 4:
            print(socket.inet_ntoa(msg[off:off + 4]))
            found += 1
        off += rdlen
    return 0 if found else 1


def main(argv):
    if len(argv) >= 3 and argv[1] == "query":
        return query(argv[2], argv[3])
    if len(argv) >= 3 and argv[1] == "serve":
        args, ttl, table = argv[3:], 30, {}
        if args[:1] == ["--ttl"]:
            ttl, args = int(args[1]), args[2:]
        for pair in args:
            name, ip = pair.split("=", 1)
            table[name.lower()] = ip
        serve(argv[2], ttl, table)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
