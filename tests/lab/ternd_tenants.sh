#!/usr/bin/env bash
# Lab test: tenants at one site with the same addresses, and a tenant by source prefix.
#
#   red1   10.1.0.10  --red--+                                        +--srv-- b1 10.2.0.10 (red-app)
#   guest1 10.1.0.200 --red--+-[a: ternd]--wan0--(wanem)--wan0--[b: ternd]--srv-- b2 10.2.0.20 (blue-app)
#   blue1  10.1.0.10  --blue-+  tern-red, tern-blue                        +--srv-- b3 10.2.0.30 (guest-app)
#                               (wan1 to the isp site: ternd_breakout.sh)
#
# Segments red and blue at site a are both 10.1.0.0/24, and red1 and blue1 have the same
# address. Each segment names its bridge as "interface", so ternd gives it a routing
# table chosen by input interface. Red reaches red-app, blue reaches blue-app; red cannot
# reach blue-app (policy-no-rule at site a). Hosts of red's segment in 10.1.0.128/25 are
# tenant guest, which reaches guest-app (site b checks the tenant the metadata names)
# and not red-app. `ternctl policy test` must agree with each outcome (for overlapping
# sites reached through service addresses, ternd_overlap.sh checks it).
#
# Usage: tests/lab/ternd_tenants.sh [BUILD_DIR]   (root; prints TAP lines)
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:-${TERN_BUILD:-build/gcc}}
source tests/lab/lib/lab.bash

# what_if SITE "ARGS" FIELD=VALUE...: `ternctl policy test ARGS` has these fields.
what_if() {
	local site=$1 args=$2
	shift 2
	# shellcheck disable=SC2086
	ctl "$site" $args | json_has "$@"
}
reaches() { x "$1" -- ping -c 2 -i 0.2 -W 1 "$2" >/dev/null; }
refused() { ! x "$1" -- ping -c 2 -i 0.2 -W 1 "$2" >/dev/null; }

lab_up "$root/tools/ternlab/examples/tenants.json" "starts two sites, site a with two segments of the same prefix"

check "each segment has its table, chosen by input interface" bash -c "
	x() { timeout 10 $ternlab exec --lab $lab \"\$@\"; }
	x a -- ip rule | grep -q 'iif red lookup 7000' &&
	x a -- ip rule | grep -q 'iif tern-red lookup 7000' &&
	x a -- ip rule | grep -q 'iif blue lookup 7001' &&
	x a -- ip route show table 7001 | grep -q '10.2.0.20 dev tern-blue' &&
	x a -- ip route show table 7000 | grep -q '10.1.0.0/24 dev red'"

# Red and blue, same address, each to its own app; the answers find their own segment.
check "red1 (10.1.0.10 on red) pings red-app" reaches red1 10.2.0.10
check "blue1 (10.1.0.10 on blue) pings blue-app" reaches blue1 10.2.0.20
x b2 -- timeout 20 python3 -m http.server 80 --bind 10.2.0.20 >"$work/b2.log" 2>&1 &
x b1 -- timeout 20 python3 -m http.server 80 --bind 10.2.0.10 >"$work/b1.log" 2>&1 &
listening() { xt 5 "$1" -- ss -ltnH | grep -q "$2:80 "; } # listening NODE ADDRESS
check "the web servers on b1 and b2 listen" wait_for 5 \
	bash -c "$(declare -f listening xt); ternlab=$ternlab lab=$lab; listening b1 10.2.0.10 && listening b2 10.2.0.20"
check "TCP: blue1 fetches from blue-app" x blue1 -- curl -sSf -m 5 -o /dev/null http://10.2.0.20/
# On failure: what curl said, and both routers' drops (this check failed once in CI).
check "TCP: red1 fetches from red-app at the same time as blue1 from blue-app" bash -c "
	x() { timeout 20 $ternlab exec --lab $lab \"\$@\"; }
	x red1 -- curl -sSf -m 5 -o /dev/null http://10.2.0.10/ & r=\$!
	x blue1 -- curl -sSf -m 5 -o /dev/null http://10.2.0.20/ && wait \$r && exit 0
	for s in a b; do
		$root/$build/src/ctl/ternctl --socket /run/ternlab/$lab/ternd-\$s.sock show drops
	done
	exit 1"
check "site a's sessions name each tenant" bash -c "
	$root/$build/src/ctl/ternctl --socket /run/ternlab/$lab/ternd-a.sock --json show sessions |
	python3 -c '
import json, sys
s = json.load(sys.stdin)[\"sessions\"]
pairs = {(x[\"tenant\"], x[\"service\"]) for x in s}
assert (\"red\", \"red-app\") in pairs and (\"blue\", \"blue-app\") in pairs, pairs
assert all(x[\"route\"] == \"peer site-b\" for x in s), s'"
check "what-if: red1 -> red-app allowed, tenant red, route peer site-b" \
	what_if a "policy test --segment red --src 10.1.0.10 --dst 10.2.0.10 --proto icmp" \
	tenant=red service=red-app verdict=allow allowed=True "route=peer site-b"
check "what-if: blue1 -> blue-app allowed, tenant blue" \
	what_if a "policy test --segment blue --src 10.1.0.10 --dst 10.2.0.20 --proto tcp --port 80" \
	tenant=blue service=blue-app verdict=allow allowed=True

# Red may not reach blue's app.
before=$(drop_count a policy-no-rule)
check "red1 cannot ping blue-app" refused red1 10.2.0.20
check "red1 -> blue-app is counted under policy-no-rule at site a" \
	test "$(drop_count a policy-no-rule)" -ge $((before + 2))
check "what-if: red1 -> blue-app is no-rule, dropped as policy-no-rule" \
	what_if a "policy test --tenant red --src 10.1.0.10 --dst 10.2.0.20 --proto icmp" \
	tenant=red service=blue-app verdict=no-rule allowed=False drop=policy-no-rule

# Guest by source prefix on red's segment.
check "guest1 (10.1.0.200 on red) pings guest-app" reaches guest1 10.2.0.30
check "site a's session to guest-app is tenant guest (site b let only guest in)" bash -c "
	$root/$build/src/ctl/ternctl --socket /run/ternlab/$lab/ternd-a.sock --json show sessions service=guest-app |
	python3 -c 'import json,sys; s=json.load(sys.stdin)[\"sessions\"]; assert s and all(x[\"tenant\"]==\"guest\" for x in s), s'"
before=$(drop_count a policy-no-rule)
check "guest1 cannot ping red-app" refused guest1 10.2.0.10
check "guest1 -> red-app is counted under policy-no-rule" \
	test "$(drop_count a policy-no-rule)" -ge $((before + 2))
check "what-if: guest1 -> guest-app allowed as guest (by prefix 10.1.0.128/25)" bash -c "
	$root/$build/src/ctl/ternctl --socket /run/ternlab/$lab/ternd-a.sock --json policy test --segment red --src 10.1.0.200 --dst 10.2.0.30 --proto icmp |
	python3 -c 'import json,sys; r=json.load(sys.stdin); assert r[\"tenant\"]==\"guest\" and r[\"allowed\"] and \"10.1.0.128/25\" in r[\"explanation\"], r'"
check "what-if: guest1 -> red-app is no-rule" \
	what_if a "policy test --segment red --src 10.1.0.200 --dst 10.2.0.10 --proto icmp" \
	tenant=guest verdict=no-rule allowed=False
check "no drops at site b" bash -c "
	$root/$build/src/ctl/ternctl --socket /run/ternlab/$lab/ternd-b.sock --json show drops |
	python3 -c 'import json,sys; bad=[x for x in json.load(sys.stdin)[\"drops\"] if x[\"count\"] and x[\"reason\"]!=\"router-local-scope\"]; assert not bad, bad'"
pid_a=$(pgrep -f -- "--socket /run/ternlab/$lab/ternd-a.sock" | head -n1)
kill -TERM "$pid_a" 2>/dev/null
for _ in $(seq 50); do kill -0 "$pid_a" 2>/dev/null || break; sleep 0.1; done
check "site a's ternd removes its rules and tables when it stops" bash -c "
	! timeout 10 $ternlab exec --lab $lab a -- ip rule | grep -q 'lookup 700[01]' &&
	test -z \"\$(timeout 10 $ternlab exec --lab $lab a -- ip route show table 7000)\""
lab_end
