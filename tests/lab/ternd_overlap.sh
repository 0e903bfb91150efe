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
root=$PWD
build=${1:-${TERN_BUILD:-build/gcc}}
ternlab=$root/tools/ternlab/ternlab
ternctl=$root/$build/src/ctl/ternctl
work=$(mktemp -d)
n=0
failed=0
lab=""

check() { # check NAME CMD...: one TAP line, the command's output as diagnostics on failure
	local name=$1 out
	shift
	n=$((n + 1))
	if out=$("$@" 2>&1); then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		sed 's/^/# /' <<<"$out" | tail -n 8
		failed=1
	fi
}
cleanup() {
	[ -n "$lab" ] && timeout 30 "$ternlab" down --lab "$lab" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

out=$(timeout 60 "$ternlab" up "$root/tools/ternlab/examples/two-sites-overlap.json" --build "$build" 2>&1)
lab=$(sed -n 's/^lab \(tl[0-9a-f]*\) .*/\1/p' <<<"$out" | head -n1)
check "ternlab up starts two sites with the same LAN prefix" test -n "$lab"
if [ -z "$lab" ]; then
	echo "# $out"
	echo "1..$n"
	exit 1
fi
x() { timeout 30 "$ternlab" exec --lab "$lab" "$@"; }
ctl() { timeout 10 "$ternctl" --socket "/run/ternlab/$lab/ternd-$1.sock" --json "${@:2}"; }

check "a1 pings b1 at its service address 10.100.2.10" x a1 -- ping -c 3 -i 0.2 -W 2 10.100.2.10
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
check "site b lists the translated session" bash -c "timeout 10 $ternctl --socket /run/ternlab/$lab/ternd-b.sock --json show sessions | grep -q '100.64.2.1'"
check "no drops but local-scope at either site" python3 -c "
import json, subprocess
for site in 'ab':
    d = json.loads(subprocess.check_output(['$ternctl', '--socket', '/run/ternlab/$lab/ternd-%s.sock' % site, '--json', 'show', 'drops']))
    bad = [x for x in d['drops'] if x['count'] and x['reason'] != 'router-local-scope']
    assert not bad, (site, bad)
"

timeout 30 "$ternlab" down --lab "$lab" >/dev/null 2>&1
check "down removes every namespace of the lab" bash -c "! ip netns list | grep -q '^$lab-'"
lab=""
echo "1..$n"
exit $failed
