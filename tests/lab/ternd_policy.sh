#!/usr/bin/env bash
# Lab test: the access policy of ternd (zero trust), changed live by reloads.
#
#   a1 --corp-- [a: ternd] --wan0--(core: ternlab-wanem)--wan0-- [b: ternd] --corp-- b1
#   10.1.0.10   tern-corp  192.0.2.1                    192.0.2.2  tern-corp     10.2.0.10
#
# Site a starts with no rule and no access list: a1's traffic to b1 is refused at the
# ingress, never reaches the WAN and is counted under policy-no-rule. Then, each by an
# edit of site a's file and `ternctl reload` (ternd keeps running): an allow rule makes it
# work, removing it stops new sessions, a deny beats an allow, and a tenant limited to
# 100 sessions gets its 101st UDP flow refused and counted. `ternctl policy test` is
# asked each time and must agree with what the packets got.
#
# Usage: tests/lab/ternd_policy.sh [BUILD_DIR]   (root; prints TAP lines)
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:-${TERN_BUILD:-build/gcc}}
source tests/lab/lib/lab.bash

# policy RULES_JSON [LIMITS_JSON]: rewrites site a's file with these rules, no access
# lists, and corp's limits.
policy() {
	python3 - "$work/site-a.json" "$1" "${2:-null}" <<'PY'
import json, sys
path, rules, limits = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
cfg = json.load(open(path))
for s in cfg["services"]:
    s.pop("access", None)
cfg["rules"] = rules
cfg["tenants"] = [{"name": "corp"}]
if limits is not None:
    cfg["tenants"][0]["limits"] = limits
json.dump(cfg, open(path, "w"), indent=1)
PY
}
reload() { ctl a reload >/dev/null; }
# what_if FIELD=VALUE...: `ternctl policy test` for a1 -> b1 (ICMP) has these fields
# (path^=: just after a reload a path may be named 'wan0 (no path is up)').
what_if() {
	ctl a policy test --tenant corp --src 10.1.0.10 --dst 10.2.0.10 --proto icmp | json_has "$@"
}
ping_b1() { x a1 -- ping -c 2 -i 0.2 -W 1 10.2.0.10; }
no_ping_b1() { ! x a1 -- ping -c 2 -i 0.2 -W 1 10.2.0.10; }

lab_examples two-sites site-a site-b
policy '[]'
lab_up "$work/two-sites.json" "starts both routers, site a with no rule at all"
pid_a=$(pgrep -f "ternd --config $work/site-a.json")

# wan_capture FILE: SVR waypoint traffic on a's wan0 (a capture that silently failed to
# open would look exactly like an empty one: the checks read its header too).
wan_capture() { capture_start a wan0 "$1" udp portrange 16384-65535; }

# 1. Default deny: nothing crosses the WAN, the refusal is counted.
wan_capture "$work/wan.pcap"
check "no rule: a1 cannot ping b1" no_ping_b1
capture_stop
check "no rule: the WAN capture was taken (it has a pcap header)" tcpdump -n -r "$work/wan.pcap"
check "no rule: the WAN capture holds no packet of that traffic" \
	test "$(pcap_count "$work/wan.pcap")" -eq 0
check "no rule: counted under policy-no-rule at site a" test "$(drop_count a policy-no-rule)" -ge 2
check "no rule: policy test says no-rule, no rule decided, dropped as policy-no-rule" \
	what_if verdict=no-rule tenant=corp service=b-servers drop=policy-no-rule allowed=False

# 2. An allow rule, by a reload: works without restarting ternd.
policy '[{"name": "corp-to-b", "tenant": "corp", "service": "b-servers", "action": "allow"}]'
check "reload with an allow rule is accepted" reload
wan_capture "$work/wan-allowed.pcap"
check "allow rule: a1 pings b1" ping_b1
capture_stop
# The same capture sees the allowed pings: so an empty capture above means no packet.
check "allow rule: the WAN capture holds the pings as SVR" \
	test "$(pcap_count "$work/wan-allowed.pcap")" -ge 4
check "allow rule: policy test says allow by corp-to-b over wan0" \
	what_if verdict=allow rule=corp-to-b "route=peer site-b" path^=wan0 allowed=True
check "allow rule: ternd was not restarted" test "$(pgrep -f "ternd --config $work/site-a.json")" = "$pid_a"

# 3. Removing it stops new sessions.
policy '[]'
check "reload without the rule is accepted" reload
check "rule removed: a1 cannot ping b1 any more" no_ping_b1
check "rule removed: counted under policy-no-rule again" test "$(drop_count a policy-no-rule)" -gt 0
check "rule removed: policy test says no-rule" what_if verdict=no-rule

# 4. Deny beats allow, whatever the order.
policy '[{"name": "corp-any", "tenant": "corp", "service": "any", "action": "allow"},
         {"name": "no-b", "tenant": "any", "service": "b-servers", "action": "deny"}]'
check "reload with allow and deny rules is accepted" reload
check "deny beats allow: a1 cannot ping b1" no_ping_b1
check "deny beats allow: counted under policy-denied" test "$(drop_count a policy-denied)" -ge 2
check "deny beats allow: policy test says deny-by-rule by no-b" \
	what_if verdict=deny-by-rule rule=no-b drop=policy-denied

# 5. A tenant limited to 100 sessions: the 101st UDP flow is refused and counted.
policy '[{"name": "corp-to-b", "tenant": "corp", "service": "b-servers", "action": "allow"}]' \
	'{"sessions": 100}'
check "reload with a 100-session limit for corp is accepted" reload
check "limit: 101 UDP flows from distinct source ports are sent" x a1 -- python3 -c "
import socket
for port in range(20000, 20101):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('10.1.0.10', port))
    s.sendto(b'flow %d' % port, ('10.2.0.10', 9000))
    s.close()
"
sleep 0.5
check "limit: site a holds exactly 100 sessions" \
	test "$(ctl a show status | python3 -c 'import json,sys; print(json.load(sys.stdin)["sessions"])')" -eq 100
check "limit: the 101st is counted under policy-tenant-session-limit" \
	test "$(drop_count a policy-tenant-session-limit)" -eq 1
check "limit: policy test says allow, but full: policy-tenant-session-limit" \
	what_if verdict=allow allowed=False drop=policy-tenant-session-limit
check "ternctl policy test prints key: value lines" bash -c \
	"timeout 10 $root/$build/src/ctl/ternctl --socket /run/ternlab/$lab/ternd-a.sock policy test --tenant corp --src 10.1.0.10 --dst 10.2.0.10 --proto udp --port 9000 | grep -q '^verdict: *allow'"
check "ternctl policy test refuses a bad address (usage error 2)" bash -c \
	"timeout 10 $root/$build/src/ctl/ternctl --socket /run/ternlab/$lab/ternd-a.sock policy test --src 10.1.0 --dst 10.2.0.10 --proto icmp; test \$? -eq 2"
check "API policy_test with an unknown tenant is an error" bash -c \
	"! timeout 10 $root/$build/src/ctl/ternctl --socket /run/ternlab/$lab/ternd-a.sock policy test --tenant nobody --src 10.1.0.10 --dst 10.2.0.10 --proto icmp"
lab_end "no ternd is left running" no_ternd_left
