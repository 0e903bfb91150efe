#!/usr/bin/env bash
# Lab test: ternlab builds a two-site lab with kernel routing through the WAN emulator,
# and tears it down without leaving anything behind.
#
#   a1 --corp-- [a] --wan0--(core: ternlab-wanem)--wan0-- [b] --corp-- b1
#   10.1.0.10   10.1.0.1    192.0.2.1       192.0.2.2     10.2.0.1   10.2.0.10
#   fd00:1::10                                                        fd00:2::10
#
# Usage: tests/lab/ternlab_kernel.sh [BUILD_DIR]   (root; prints TAP lines)
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:-${TERN_BUILD:-build/gcc}}
source tests/lab/lib/lab.bash
# A broken topology: every error named by its JSON path, and nothing built.
cat >"$work/bad.json" <<'JSON'
{ "name": "Bad Name", "sites": [ { "name": "a", "router": { "mode": "magic" }, "color": 1,
  "lans": [ { "name": "corp", "router_addresses": ["10.1.0.1/24"],
              "hosts": [ { "name": "a1", "addresses": ["10.9.0.10/24"] } ] } ] } ],
  "links": [ { "name": "inet", "ends": ["a.wan0", "b.wan0"] } ] }
JSON
before=$(ip netns list | wc -l)
bad=$("$ternlab" up "$work/bad.json" 2>&1)
check "a bad topology names every error by its JSON path" bash -c '
	grep -qF "\$.name: \"Bad Name\" is not a lab name" <<<"$1" &&
	grep -qF "\$.sites[0].color: unknown key" <<<"$1" &&
	grep -qF "\$.sites[0].router.mode: expected" <<<"$1" &&
	grep -qF "\$.sites[0].lans[0].hosts[0].addresses[0]: 10.9.0.10/24 is in no subnet" <<<"$1" &&
	grep -qF "\$.links[0].ends[0]: \"a.wan0\" is not a WAN interface" <<<"$1"' _ "$bad"
check "a bad topology builds nothing" test "$(ip netns list | wc -l)" -eq "$before"
lab_up "$root/tools/ternlab/examples/two-sites-kernel.json" "builds the lab"
rtt_ms() { # average RTT of 3 pings, in whole ms
	x a1 -- ping -q -c 3 -i 0.2 -W 2 "$1" | sed -n 's|.*= [0-9.]*/\([0-9]*\)\..*|\1|p'
}

check "IPv4 from a1 reaches b1 across the WAN" x a1 -- ping -c 2 -i 0.2 -W 2 10.2.0.10
check "IPv6 from a1 reaches b1 across the WAN" x a1 -- ping -6 -c 2 -i 0.2 -W 2 fd00:2::10
capture=$work/link.pcap
timeout 20 "$ternlab" capture --lab "$lab" inet -w "$capture" -c 4 -f icmp >/dev/null 2>&1 &
capturing=$!
sleep 1
x a1 -- ping -c 2 -i 0.2 -W 2 10.2.0.10 >/dev/null
wait $capturing
check "capture writes the link's packets to a pcap file" test "$(tcpdump -r "$capture" -n 2>/dev/null | grep -c ICMP)" -eq 4
check "impair sets 50 ms of delay" timeout 10 "$ternlab" impair --lab "$lab" inet delay=50ms
rtt=$(rtt_ms 10.2.0.10)
check "RTT with 50 ms each way is 100 to 150 ms (got ${rtt:-none})" test "${rtt:-0}" -ge 100 -a "${rtt:-0}" -lt 150
check "outage stops traffic" timeout 10 "$ternlab" impair --lab "$lab" inet outage
check "no ping gets through an outage" bash -c "! timeout 20 $ternlab exec --lab $lab a1 -- ping -c 2 -i 0.2 -W 1 10.2.0.10"
check "clear restores the link" timeout 10 "$ternlab" impair --lab "$lab" inet clear
check "traffic flows again after clear" x a1 -- ping -c 2 -i 0.2 -W 2 10.2.0.10
check "a bad impairment is refused" bash -c "! timeout 10 $ternlab impair --lab $lab inet delay=fast"
check "status answers with the emulator counters" bash -c "timeout 10 $ternlab status --lab $lab --json | grep -q a_to_b"
gone=$lab
lab_end "down removes the lab's state" test ! -e "/run/ternlab/$gone"
