#!/usr/bin/env bash
# Lab test: two sites talk Secure Vector Routing through two ternd routers.
#
#   a1 --corp-- [a: ternd] --wan0--(core: ternlab-wanem)--wan0-- [b: ternd] --corp-- b1
#   10.1.0.10   tern-corp  192.0.2.1                    192.0.2.2  tern-corp     10.2.0.10
#   fd00:1::10  (TUN)                                               (TUN)        fd00:2::10
#
# IPv6 hosts cross the IPv4 WAN. Checks end to end traffic, the WAN capture (no
# tunnel, metadata only on the handshake packets), the local API, named drop counters
# for garbage from the WAN, an all-or-nothing reload, and a clean teardown.
#
# Usage: tests/lab/ternd_two_sites.sh [BUILD_DIR]   (root; prints TAP lines)
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:-${TERN_BUILD:-build/gcc}}
source tests/lab/lib/lab.bash

# The lab runs from a copy of the example, so the test may break a configuration.
cp "$root"/tools/ternlab/examples/{two-sites,site-a,site-b}.json "$work/"
lab_up "$work/two-sites.json" "starts both routers"
api() { # api SITE CMD: the JSON answer of ternd's local API
	python3 - "/run/ternlab/$lab/ternd-$1.sock" "$2" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall((json.dumps({"cmd": sys.argv[2]}) + "\n").encode())
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
print(data.decode())
PY
}
api_has() { # api_has SITE CMD TEXT: the answer contains TEXT (spaces ignored)
	api "$1" "$2" | tr -d ' ' | grep -qF -- "$(tr -d ' ' <<<"$3")"
}
no_ternd_left() {
	! pgrep -f "ternd --config $work/"
}
drop_count() { # drop_count SITE REASON
	api "$1" drops | python3 -c "import json,sys; d=json.load(sys.stdin)['result']['drops']; print(sum(x['count'] for x in d if x['reason']=='$2'))"
}

check "IPv4: a1 pings b1 through both routers" x a1 -- ping -c 3 -i 0.2 -W 2 10.2.0.10
check "IPv6 hosts across the IPv4 WAN: a1 pings b1" x a1 -- ping -6 -c 3 -i 0.2 -W 2 fd00:2::10
check "IPv4: b1 pings a1 (sessions from the other side)" x b1 -- ping -c 2 -i 0.2 -W 2 10.1.0.10

# TCP: the server must see the client's own address and port.
x b1 -- timeout 20 iperf3 -s -1 -J >"$work/iperf-server.json" 2>&1 &
server=$!
sleep 0.5
check "TCP: iperf3 runs 1 s from a1 to b1" x a1 -- timeout 15 iperf3 -c 10.2.0.10 -t 1 -J
wait $server
check "TCP: the server saw the client's address 10.1.0.10" \
	python3 -c "import json; d=json.load(open('$work/iperf-server.json')); assert d['start']['connected'][0]['remote_host']=='10.1.0.10', d['start']['connected']"

# A UDP exchange on the wire: no tunnel header, waypoint addresses only, metadata on
# the first packet each way and on no later one.
x a -- timeout 15 tcpdump -n -U -i wan0 -w "$work/wan.pcap" udp portrange 16384-65535 >/dev/null 2>&1 &
dump=$!
sleep 1
x b1 -- timeout 10 python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('10.2.0.10', 7000))
s.settimeout(8)
for _ in range(5):
    data, peer = s.recvfrom(2048)
    s.sendto(data, peer)
" &
echo_server=$!
sleep 0.5
check "UDP: five datagrams a1 -> b1 echo back" x a1 -- python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('10.1.0.10', 7001))
s.settimeout(3)
for i in range(5):
    s.sendto(b'hello %d' % i, ('10.2.0.10', 7000))
    assert s.recvfrom(2048)[0] == b'hello %d' % i
"
wait $echo_server
sleep 1
kill $dump 2>/dev/null
wait $dump 2>/dev/null
check "WAN: the exchange is 10 UDP packets between the waypoints, 2 with metadata" python3 - "$work/wan.pcap" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
magic = struct.unpack("<I", data[:4])[0]
endian = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
linktype = struct.unpack(endian + "I", data[20:24])[0]
off, pkts = 24, []
while off + 16 <= len(data):
    incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
    frame = data[off + 16:off + 16 + incl]
    off += 16 + incl
    ip = frame[14:] if linktype == 1 else frame
    if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
        continue
    src, dst = ip[12:16], ip[16:20]
    pkts.append((src, dst, ip[28:]))
cookie = bytes.fromhex("4c48dbc6ddf6670c")
wps = {bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])}
ours = [p for p in pkts if p[0] in wps and p[1] in wps]
assert len(ours) == 10, f"{len(ours)} waypoint packets (of {len(pkts)})"
with_meta = [i for i, p in enumerate(ours) if p[2].startswith(cookie)]
assert with_meta == [0, 1], f"metadata on packets {with_meta}"
hosts = {bytes([10, 1, 0, 10]), bytes([10, 2, 0, 10])}
for i, p in enumerate(ours):
    if i > 1:
        assert not any(h in p[2] for h in hosts), f"packet {i} carries a host address"
PY

# The local API, and garbage from the WAN counted under named reasons.
check "API: status of site a names the router" api_has a status '"router": "site-a"'
check "API: sessions of site a list the TCP session" api_has a sessions '"proto": "tcp"'
before=$(drop_count a meta-required)
x b -- python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('192.0.2.2', 16500))
for payload in (b'no metadata at all', bytes(range(256)) * 4):
    s.sendto(payload, ('192.0.2.1', 16385))
"
sleep 0.5
after=$(drop_count a meta-required)
check "WAN garbage without metadata: meta-required counts 2 more (got $before -> $after)" test "$after" -eq $((before + 2))
x b -- python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('192.0.2.2', 16502))
block = bytes.fromhex('4c48dbc6ddf6670c' '100c0006' '0002000d0a00')
s.sendto(block, ('192.0.2.1', 16387))
"
sleep 0.5
check "WAN metadata with a TLV past its section: meta-tlv-overrun" test "$(drop_count a meta-tlv-overrun)" -ge 1
# Truncated, wrong-version and lying metadata from the known peer.
x b -- python3 -c "
import socket, uuid
def tlv(t, v):
    return t.to_bytes(2, 'big') + len(v).to_bytes(2, 'big') + v
def block(payload, version=1):
    return (bytes.fromhex('4c48dbc6ddf6670c') + ((version << 12) | 12).to_bytes(2, 'big')
            + len(payload).to_bytes(2, 'big') + payload)
def forward(service, tenant, dst):
    ctx = bytes([10, 2, 0, 10]) + bytes(dst) + (40000).to_bytes(2, 'big') + (80).to_bytes(2, 'big') + bytes([17])
    return block(tlv(2, ctx) + tlv(7, tenant) + tlv(10, service) + tlv(6, uuid.uuid4().bytes))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('192.0.2.2', 16504))
sends = [
    block(b'')[:10] + (256).to_bytes(2, 'big'),              # payload section past the packet
    block(b'', version=2),                                    # a version this router does not speak
    forward(b'no-such-service', b'corp', [10, 1, 0, 10]),     # a service site a does not serve
    forward(b'a-servers', b'guest', [10, 1, 0, 10]),          # a tenant the service does not admit
    forward(b'a-servers', b'corp', [192, 0, 2, 200]),         # an address outside the service
]
for i, payload in enumerate(sends):
    s.sendto(payload, ('192.0.2.1', 16389 + 2 * i))
"
sleep 0.5
check "WAN metadata longer than its packet: meta-too-long" test "$(drop_count a meta-too-long)" -ge 1
check "WAN metadata of another version: meta-bad-version" test "$(drop_count a meta-bad-version)" -ge 1
check "WAN metadata naming a service not served here: router-unknown-service" test "$(drop_count a router-unknown-service)" -ge 1
check "WAN metadata of a tenant unknown here: policy-no-tenant" test "$(drop_count a policy-no-tenant)" -ge 1
check "WAN metadata for an address outside the service: policy-no-service" test "$(drop_count a policy-no-service)" -ge 1
check "site a still forwards after the garbage" x a1 -- ping -c 2 -i 0.2 -W 2 10.2.0.10

# Reload: a broken file changes nothing; a good one is applied.
cp "$work/site-a.json" "$work/site-a.good"
echo '{ "router": { "name": "site-a" }, "tenants": [ {} ] }' >"$work/site-a.json"
check "API reload of an invalid file is refused" api_has a reload '"ok": false'
kill -HUP "$(pgrep -f "ternd --config $work/site-a.json")"
sleep 0.5
check "after a refused reload and SIGHUP, site a still forwards" x a1 -- ping -c 2 -i 0.2 -W 2 10.2.0.10
cp "$work/site-a.good" "$work/site-a.json"
check "API reload of the good file is applied" api_has a reload '"generation": 2'
check "after the reload, site a forwards" x a1 -- ping -c 2 -i 0.2 -W 2 10.2.0.10

# SIGTERM: ternd removes its TUN, its nftables table and its API socket.
ternd_a=$(pgrep -f "ternd --config $work/site-a.json")
check "site a has its TUN and nftables table while running" \
	bash -c "ip netns exec $lab-a ip link show tern-corp && ip netns exec $lab-a nft list tables | grep -q tern_site-a"
kill -TERM "$ternd_a"
for _ in $(seq 50); do kill -0 "$ternd_a" 2>/dev/null || break; sleep 0.1; done
check "SIGTERM stops ternd" bash -c "! kill -0 $ternd_a 2>/dev/null"
check "after SIGTERM the TUN is gone" bash -c "! ip netns exec $lab-a ip link show tern-corp"
check "after SIGTERM the nftables table is gone" bash -c "! ip netns exec $lab-a nft list tables | grep -q tern_"
check "after SIGTERM the API socket is gone" test ! -e "/run/ternlab/$lab/ternd-a.sock"
lab_end "no ternd is left running" no_ternd_left
