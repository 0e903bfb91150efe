#!/usr/bin/env bash
# Lab test: two sites with the same LAN prefix reach each other through service addresses.
#
#   a1 --corp-- [a: ternd] --wan0--(core: ternlab-wanem)--wan0-- [b: ternd] --corp-- b1
#   10.1.0.10   10.1.0.0/24    192.0.2.1           192.0.2.2   10.1.0.0/24       10.1.0.10
#
# Both hosts have the same address. a1 reaches b1 at b's service address 10.100.2.10
# and b1 reaches a1 at 10.100.1.10. The egress translates the service address to the
# real server and, because the client's address is also its own, gives the client an
# address of its NAT pool (100.64.2.0/24 at b), routed back into ternd.
#
# Usage: tests/lab/ternd_overlap.sh [BUILD_DIR]   (root; prints TAP lines)
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:-${TERN_BUILD:-build/gcc}}
source tests/lab/lib/lab.bash
lab_up "$root/tools/ternlab/examples/two-sites-overlap.json" "starts two sites with the same LAN prefix"

check "a1 pings b1 at its service address 10.100.2.10" x a1 -- ping -c 3 -i 0.2 -W 2 10.100.2.10
check "what-if agrees: a1 -> 10.100.2.10 is b-server, allowed, route peer site-b" bash -c "
	timeout 10 $root/$build/src/ctl/ternctl --socket /run/ternlab/$lab/ternd-a.sock --json policy test --src 10.1.0.10 --dst 10.100.2.10 --proto icmp |
	python3 -c 'import json,sys; r=json.load(sys.stdin); assert r[\"service\"]==\"b-server\" and r[\"allowed\"] and r[\"route\"]==\"peer site-b\" and r[\"tenant\"]==\"corp\", r'"
check "what-if agrees: a1 -> b1's real address 10.1.0.10 is no service (it is a1's own LAN)" bash -c "
	timeout 10 $root/$build/src/ctl/ternctl --socket /run/ternlab/$lab/ternd-a.sock --json policy test --src 10.1.0.10 --dst 10.1.0.10 --proto icmp |
	python3 -c 'import json,sys; r=json.load(sys.stdin); assert r[\"verdict\"]==\"no-service\" and not r[\"allowed\"], r'"
check "b1 pings a1 at its service address 10.100.1.10" x b1 -- ping -c 3 -i 0.2 -W 2 10.100.1.10

x b1 -- timeout 20 iperf3 -s -1 -J >"$work/server.json" 2>&1 &
server=$!
sleep 0.5
check "TCP: iperf3 a1 -> b1's service address" x a1 -- timeout 15 iperf3 -c 10.100.2.10 -t 1
wait $server
check "the server sees the client at b's NAT pool, on a port of its own" python3 -c "
import json
c = json.load(open('$work/server.json'))['start']['connected'][0]
assert c['remote_host'] == '100.64.2.1' and c['local_host'] == '10.1.0.10', c
"
check "site b lists the translated session" bash -c "timeout 10 $root/$build/src/ctl/ternctl --socket /run/ternlab/$lab/ternd-b.sock --json show sessions | grep -q '100.64.2.1'"
check "no drops but local-scope at either site" python3 -c "
import json, subprocess
for site in 'ab':
    d = json.loads(subprocess.check_output(['$root/$build/src/ctl/ternctl', '--socket', '/run/ternlab/$lab/ternd-%s.sock' % site, '--json', 'show', 'drops']))
    bad = [x for x in d['drops'] if x['count'] and x['reason'] != 'router-local-scope']
    assert not bad, (site, bad)
"

lab_end
