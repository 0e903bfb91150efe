#!/usr/bin/env bash
# Lab test: two ternd routers across an IPv6 WAN, with short idle timeouts.
#
#   a1 --corp-- [a: ternd] --wan0--(core: ternlab-wanem)--wan0-- [b: ternd] --corp-- b1
#   10.1.0.10              2001:db8:ff::1       2001:db8:ff::2                10.2.0.10
#   fd00:1::10                                                                fd00:2::10
#
# IPv4 hosts cross the IPv6 WAN and IPv6 hosts cross it natively. Checks that the
# server receives exactly the SYN the client sent (no metadata leaks to hosts), that a
# session whose first packet (or its answer) is lost still comes up (the retransmission
# carries metadata again), and that idle sessions expire and give their waypoint pairs
# back.
#
# Usage: tests/lab/ternd_v6_wan.sh [BUILD_DIR]   (root; prints TAP lines)
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:-${TERN_BUILD:-build/gcc}}
source tests/lab/lib/lab.bash
lab_up "$root/tools/ternlab/examples/two-sites-v6wan.json" "starts both routers on an IPv6 WAN"
json_get() { # json_get EXPR: evaluate EXPR on the JSON on stdin as d
	python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

check "IPv4 hosts across the IPv6 WAN: a1 pings b1" x a1 -- ping -c 3 -i 0.2 -W 2 10.2.0.10
check "IPv6 across the IPv6 WAN: a1 pings b1" x a1 -- ping -6 -c 3 -i 0.2 -W 2 fd00:2::10

# The SYN as the client sent it and as the server received it.
x a1 -- timeout 15 tcpdump -n -U -i eth0 -w "$work/client.pcap" -c 1 'tcp[tcpflags] == tcp-syn' >/dev/null 2>&1 &
cap_client=$!
x b1 -- timeout 15 tcpdump -n -U -i eth0 -w "$work/server.pcap" -c 1 'tcp[tcpflags] == tcp-syn' >/dev/null 2>&1 &
cap_server=$!
x b1 -- timeout 20 iperf3 -s -1 >/dev/null 2>&1 &
server=$!
sleep 1
check "TCP: iperf3 runs 1 s from a1 to b1" x a1 -- timeout 15 iperf3 -c 10.2.0.10 -t 1
wait $server $cap_client $cap_server 2>/dev/null
check "the server received exactly the SYN the client sent" python3 - "$work/client.pcap" "$work/server.pcap" <<'PY'
import struct, sys
def first_ip(path):
    data = open(path, "rb").read()
    e = "<" if struct.unpack("<I", data[:4])[0] in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    linktype = struct.unpack(e + "I", data[20:24])[0]
    incl = struct.unpack(e + "I", data[24 + 8:24 + 12])[0]
    frame = data[40:40 + incl]
    return frame[14:] if linktype == 1 else frame
c, s = first_ip(sys.argv[1]), first_ip(sys.argv[2])
ihl_c, ihl_s = (c[0] & 15) * 4, (s[0] & 15) * 4
# Addresses, protocol and the whole TCP segment (options, sequence numbers) are the
# client's; routers may change only TTL and the header checksum.
assert c[12:20] == s[12:20], ("addresses", c[12:20].hex(), s[12:20].hex())
assert c[9] == s[9] == 6
# The client's capture shows the TCP checksum before offload fills it in, so compare
# the segments without it, and check the server's checksum is right.
tc, ts = bytearray(c[ihl_c:]), bytearray(s[ihl_s:])
tc[16:18] = ts[16:18] = b"\0\0"
assert tc == ts, ("segment", c[ihl_c:].hex(), s[ihl_s:].hex())
assert len(c) == len(s), (len(c), len(s))
seg = s[ihl_s:]
pseudo = s[12:20] + bytes([0, 6]) + len(seg).to_bytes(2, "big")
data = pseudo + seg + (b"\0" if len(seg) % 2 else b"")
total = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
while total >> 16:
    total = (total & 0xFFFF) + (total >> 16)
assert total == 0xFFFF, "the server's TCP checksum is wrong"
PY

# connect_through_loss WORDS...: an iperf3 connection opens while the link applies
# WORDS (an outage of one or both directions) for its first half second.
connect_through_loss() {
	local server client rc
	x b1 -- timeout 30 iperf3 -s -1 >/dev/null 2>&1 &
	server=$!
	sleep 0.5
	timeout 10 "$ternlab" impair --lab "$lab" inet "$@" >/dev/null
	x a1 -- timeout 20 iperf3 -c 10.2.0.10 -t 1 >/dev/null 2>&1 &
	client=$!
	sleep 0.5
	timeout 10 "$ternlab" impair --lab "$lab" inet clear >/dev/null
	wait $client
	rc=$?
	wait $server 2>/dev/null
	return $rc
}

# Recovery: the first SYN is lost, and then (the SYN goes through) the SYN-ACK with
# the reverse metadata; the hosts' retransmissions bring each session up.
connect_through_loss outage
check "TCP whose first SYN was lost on the WAN still connects" test $? -eq 0
connect_through_loss b-to-a: outage
check "TCP whose SYN-ACK was lost on the WAN still connects" test $? -eq 0

# Idle sessions expire (3 s here) and their waypoint pairs come back.
check "sessions exist after the traffic" test "$(ctl a show sessions | json_get 'd["total"]')" -gt 0
sleep 6
check "idle sessions expire at site a" test "$(ctl a show sessions | json_get 'd["total"]')" -eq 0
check "idle sessions expire at site b" test "$(ctl b show sessions | json_get 'd["total"]')" -eq 0
check "site a's waypoint pairs are all back" \
	test "$(ctl a show peers | json_get 'd["peers"][0]["paths"][0]["waypoint_pairs_in_use"]')" -eq 0
check "traffic after expiry starts new sessions" x a1 -- ping -c 2 -i 0.2 -W 2 10.2.0.10

lab_end
