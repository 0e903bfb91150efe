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
ternlab=tools/ternlab/ternlab
topo=tools/ternlab/examples/two-sites-kernel.json
n=0
failed=0
lab=""

check() { # check NAME CMD...: one TAP line
	local name=$1
	shift
	n=$((n + 1))
	local out
	if out=$("$@" 2>&1); then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		sed 's/^/# /' <<<"$out" | tail -n 5
		failed=1
	fi
}
cleanup() { [ -n "$lab" ] && timeout 30 "$ternlab" down --lab "$lab" >/dev/null 2>&1; }
trap cleanup EXIT INT TERM

out=$(timeout 60 "$ternlab" up "$topo" --build "$build" 2>&1)
lab=$(sed -n 's/^lab \(tl[0-9a-f]*\) .*/\1/p' <<<"$out" | head -n1)
check "ternlab up builds the lab" test -n "$lab"
[ -n "$lab" ] || { echo "$out" >&2; echo "1..$n"; exit 1; }
x() { timeout 20 "$ternlab" exec --lab "$lab" "$@"; }
rtt_ms() { # average RTT of 3 pings, in whole ms
	x a1 -- ping -q -c 3 -i 0.2 -W 2 "$1" | sed -n 's|.*= [0-9.]*/\([0-9]*\)\..*|\1|p'
}

check "IPv4 from a1 reaches b1 across the WAN" x a1 -- ping -c 2 -i 0.2 -W 2 10.2.0.10
check "IPv6 from a1 reaches b1 across the WAN" x a1 -- ping -6 -c 2 -i 0.2 -W 2 fd00:2::10
capture=$(mktemp)
timeout 20 "$ternlab" capture --lab "$lab" inet -w "$capture" -c 4 -f icmp >/dev/null 2>&1 &
capturing=$!
sleep 1
x a1 -- ping -c 2 -i 0.2 -W 2 10.2.0.10 >/dev/null
wait $capturing
check "capture writes the link's packets to a pcap file" test "$(tcpdump -r "$capture" -n 2>/dev/null | grep -c ICMP)" -eq 4
rm -f "$capture"
check "impair sets 50 ms of delay" timeout 10 "$ternlab" impair --lab "$lab" inet delay=50ms
rtt=$(rtt_ms 10.2.0.10)
check "RTT with 50 ms each way is 100 to 150 ms (got ${rtt:-none})" test "${rtt:-0}" -ge 100 -a "${rtt:-0}" -lt 150
check "outage stops traffic" timeout 10 "$ternlab" impair --lab "$lab" inet outage
check "no ping gets through an outage" bash -c "! timeout 20 $ternlab exec --lab $lab a1 -- ping -c 2 -i 0.2 -W 1 10.2.0.10"
check "clear restores the link" timeout 10 "$ternlab" impair --lab "$lab" inet clear
check "traffic flows again after clear" x a1 -- ping -c 2 -i 0.2 -W 2 10.2.0.10
check "a bad impairment is refused" bash -c "! timeout 10 $ternlab impair --lab $lab inet delay=fast"
check "status answers with the emulator counters" bash -c "timeout 10 $ternlab status --lab $lab --json | grep -q a_to_b"
timeout 30 "$ternlab" down --lab "$lab" >/dev/null 2>&1
check "down removes every namespace of the lab" bash -c "! ip netns list | grep -q '^$lab-'"
check "down removes the lab's state" test ! -e "/run/ternlab/$lab"
lab=""
echo "1..$n"
exit $failed
