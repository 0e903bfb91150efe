#!/usr/bin/env bash
# Lab test: local internet breakout with source NAT, beside SVR to a peer.
#
#   red1   10.1.0.10  --red--+                 +--wan0--(wanem)--wan0--[b: ternd]--srv-- b1 10.2.0.10
#   guest1 10.1.0.200 --red--+-[a: ternd]------+
#   blue1  10.1.0.10  --blue-+                 +--wan1 203.0.113.1--(wanem)--wan0 203.0.113.2--
#                                                  [isp: kernel router]--dmz-- www 198.51.100.80
#
# (tools/ternlab/examples/tenants.json.) Service "web" (198.51.100.0/24, tcp/80) is routed
# {"breakout": "uplink"} for tenants red and guest; "banned" (198.51.100.66) breaks out
# too but a rule denies it to everyone. red1 fetches a page from www through site a's
# uplink: www sees site a's WAN address, never 10.1.0.x, and the capture on the uplink
# shows the same, while red1's traffic to red-app (site b) crosses wan0 as SVR (waypoint
# ports, no host address on the wire). blue1 may not break out, nobody reaches banned:
# both refused and counted. `ternctl policy test` agrees with every outcome.
#
# Usage: tests/lab/ternd_breakout.sh [BUILD_DIR]   (root; prints TAP lines)
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:-${TERN_BUILD:-build/gcc}}
source tests/lab/lib/lab.bash

# what_if "ARGS" FIELD=VALUE... (FIELD^=VALUE: starts with): site a's policy test.
what_if() {
	local args=$1
	shift
	# shellcheck disable=SC2086
	ctl a policy test $args | json_has "$@"
}
fetch() { x "$1" -- curl -sf -m 5 -o /dev/null "http://$2/"; }
no_fetch() { ! x "$1" -- curl -sf -m 3 -o /dev/null "http://$2/"; }

lab_up "$root/tools/ternlab/examples/tenants.json" "starts site a with an uplink to an isp, and site b"

x www -- timeout 60 python3 -m http.server 80 --bind 198.51.100.80 >"$work/www.log" 2>&1 &
x b1 -- timeout 60 python3 -m http.server 80 --bind 10.2.0.10 >"$work/b1.log" 2>&1 &
sleep 1

# 1. Breakout: www sees the WAN address.
capture_start isp wan0 "$work/uplink.pcap" "tcp port 80"
check "red1 fetches a page from www (198.51.100.80) through the uplink" fetch red1 198.51.100.80
capture_stop
check "www saw the request from site a's uplink address 203.0.113.1" grep -q '^203.0.113.1 .*"GET / ' "$work/www.log"
check "the uplink capture holds the session, from 203.0.113.1, never from 10.1.0.x" bash -c "
	out=\$(tcpdump -n -r $work/uplink.pcap 2>/dev/null)
	grep -q '203.0.113.1\.[0-9]* > 198.51.100.80.80' <<<\"\$out\" &&
	grep -q '198.51.100.80.80 > 203.0.113.1\.[0-9]*' <<<\"\$out\" &&
	! grep -q '10\.1\.0\.' <<<\"\$out\""
check "site a lists the session: role breakout, route breakout uplink, tenant red" bash -c "
	$root/$build/src/ctl/ternctl --socket /run/ternlab/$lab/ternd-a.sock --json show sessions service=web |
	python3 -c '
import json, sys
s = json.load(sys.stdin)[\"sessions\"]
assert any(x[\"role\"] == \"breakout\" and x[\"route\"] == \"breakout uplink\" and x[\"tenant\"] == \"red\"
           and x[\"waypoint\"][\"source\"].startswith(\"203.0.113.1:\") and x[\"packets_in\"] > 0 for x in s), s'"
check "show session ID explains a breakout session" bash -c "
	id=\$($root/$build/src/ctl/ternctl --socket /run/ternlab/$lab/ternd-a.sock --json show sessions service=web |
		python3 -c 'import json,sys; print(json.load(sys.stdin)[\"sessions\"][0][\"id\"])')
	$root/$build/src/ctl/ternctl --socket /run/ternlab/$lab/ternd-a.sock --json show session \$id |
	python3 -c 'import json,sys; s=json.load(sys.stdin)[\"session\"]; assert s[\"role\"]==\"breakout\" and \"source NAT\" in s[\"explanation\"], s'"
check "what-if: red1 -> www breaks out through uplink with source NAT to 203.0.113.1" \
	what_if "--segment red --src 10.1.0.10 --dst 198.51.100.80 --proto tcp --port 80" \
	tenant=red service=web verdict=allow allowed=True "route=breakout uplink" \
	"path=uplink (wan1, source NAT to 203.0.113.1)"
check "guest1 (guest by prefix) fetches from www too" fetch guest1 198.51.100.80

# 2. A corporate service still goes to the peer, as SVR on wan0.
capture_start a wan0 "$work/wan0.pcap" "tcp or udp"
check "red1 fetches from red-app at site b" fetch red1 10.2.0.10
capture_stop
check "wan0 carries it between the waypoints on waypoint ports, no host address on the wire" bash -c "
	out=\$(tcpdump -n -r $work/wan0.pcap 2>/dev/null)
	grep -Eq '192.0.2.1\.(1[6-9][0-9]{3}|[2-6][0-9]{4}) > 192.0.2.2\.' <<<\"\$out\" &&
	! grep -Eq '10\.(1|2)\.0\.|198\.51\.100' <<<\"\$out\""
check "what-if: red1 -> red-app goes to the peer" \
	what_if "--segment red --src 10.1.0.10 --dst 10.2.0.10 --proto tcp --port 80" \
	"route=peer site-b" path=wan0 allowed=True

# 3. Refusals, counted before anything leaves.
before=$(drop_count a policy-no-rule)
check "blue1 (not allowed web) cannot fetch from www" no_fetch blue1 198.51.100.80
check "blue1 -> www is counted under policy-no-rule" test "$(drop_count a policy-no-rule)" -gt "$before"
check "what-if: blue1 -> www is no-rule" \
	what_if "--segment blue --src 10.1.0.10 --dst 198.51.100.80 --proto tcp --port 80" \
	tenant=blue service=web verdict=no-rule allowed=False drop=policy-no-rule
capture_start isp wan0 "$work/banned.pcap" "host 198.51.100.66"
before=$(drop_count a policy-denied)
check "red1 cannot reach banned (198.51.100.66)" no_fetch red1 198.51.100.66
capture_stop
check "red1 -> banned is counted under policy-denied" test "$(drop_count a policy-denied)" -gt "$before"
check "nothing for banned left by the uplink (the capture itself is readable)" bash -c "
	tcpdump -n -r $work/banned.pcap >/dev/null 2>&1 && test \$(tcpdump -n -r $work/banned.pcap 2>/dev/null | wc -l) -eq 0"
check "what-if: red1 -> banned is deny-by-rule no-banned" \
	what_if "--segment red --src 10.1.0.10 --dst 198.51.100.66 --proto tcp --port 80" \
	service=banned verdict=deny-by-rule rule=no-banned allowed=False drop=policy-denied
check "no breakout drops and nothing unexpected at site a" bash -c "
	$root/$build/src/ctl/ternctl --socket /run/ternlab/$lab/ternd-a.sock --json show drops |
	python3 -c '
import json, sys
ok = {\"router-local-scope\", \"policy-no-rule\", \"policy-denied\"}
bad = [x for x in json.load(sys.stdin)[\"drops\"] if x[\"count\"] and x[\"reason\"] not in ok]
assert not bad, bad'"
lab_end
