#!/usr/bin/env bash
# Lab test: ternd's stateful firewall (docs/policy.md "Stateful firewall").
#
#   a1 --corp-- [a: ternd] --wan0--(core: ternlab-wanem)--wan0-- [b: ternd] --corp-- b1
#   10.1.0.10   tern-corp  192.0.2.1                    192.0.2.2  tern-corp     10.2.0.10
#
# Site a runs with "firewall": {"tcp_no_session": "drop", "half_open_max": 20}.
# Checks:
#   drop       mid-stream TCP segments (ACK, data, FIN) injected by a1 toward b1 never
#              reach the WAN (capture on a's wan0) and count fw-tcp-no-session; a real
#              TCP connection still works.
#   reset      after a reload with "reset", an injected ACK is answered with a RST whose
#              seq is the segment's ack, counted fw-tcp-no-session-reset.
#   half-open  21 SYNs to a host at site b that never answers (10.2.0.99): 20 sessions,
#              one refused fw-half-open-limit, and a connection to b1 meanwhile is
#              refused too; once the half-open sessions idle out (10 s), b1 is reachable.
#   icmp       UDP to a closed port of b1: a connected socket gets ECONNREFUSED, the port
#              unreachable comes from b1 and embeds exactly the header a1 sent, it went
#              along the UDP session (no ICMP session at b; status counts it sent at b
#              and received at a), and unsolicited errors
#              injected by b1 (no session; embedded packet cut) are dropped at b and
#              counted fw-icmp-error-no-session and fw-icmp-error-malformed.
#
# Usage: tests/lab/ternd_firewall.sh [BUILD_DIR]   (root; prints TAP lines; ~1 min)
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:-${TERN_BUILD:-build/gcc}}
source tests/lab/lib/lab.bash
inject=$root/tests/lab/lib/tcp_inject.py

# firewall JSON: site a's "firewall" object, then a reload when the lab is up.
firewall() {
	python3 - "$work/site-a.json" "$1" <<'PY'
import json, sys
cfg = json.load(open(sys.argv[1]))
cfg["firewall"] = json.loads(sys.argv[2])
json.dump(cfg, open(sys.argv[1], "w"), indent=1)
PY
	[ -z "$lab" ] || ctl a reload >/dev/null
}
drops_are() { test "$(drop_count "$1" "$2")" -eq "$3"; } # drops_are SITE REASON N
sessions_to() { # sessions_to SITE DST: sessions whose destination is DST (any port)
	ctl "$1" show sessions | python3 -c "import json,sys; print(sum(1 for s in json.load(sys.stdin)['sessions'] if s['destination'].startswith('$2:')))"
}
# sessions_are SITE DST N: a command, so that wait_for asks again on every try
sessions_are() { test "$(sessions_to "$1" "$2")" -eq "$3"; }
status_of() { ctl "$1" show status | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"; }
status_is() { # status_is SITE KEY N: the status API's counter KEY is N
	local v
	v=$(status_of "$1" "$2")
	[ "$v" -eq "$3" ] || { echo "$1: $2 is $v, not $3"; return 1; }
}
path_up() {
	ctl a show paths | python3 -c "import json,sys; assert json.load(sys.stdin)['paths'][0]['state'] == 'up'"
}
curl_b1() { x a1 -- curl -sSf -o /dev/null --connect-timeout "$1" -m $(($1 + 5)) http://10.2.0.10:8080/; }
no_curl_b1() { ! curl_b1 "$@"; }

lab_examples two-sites site-a site-b
firewall '{"tcp_no_session": "drop", "half_open_max": 20}'
lab_up "$work/two-sites.json" "starts both routers, site a with a firewall"
check "the path is up at site a within 10 s" wait_for 10 path_up
# (not x: its 30 s limit would stop the server mid-test)
timeout 120 "$ternlab" exec --lab "$lab" b1 -- python3 -m http.server 8080 --bind 10.2.0.10 >/dev/null 2>&1 &
bg+=($!)
check "the server on b1 listens within 5 s" wait_for 5 x b1 -- bash -c "ss -ltn | grep -q ':8080'"

# ---- drop --------------------------------------------------------------------------------
# Inter-router carriage: TCP natively, or UDP on waypoint ports.
capture_start a wan0 "$work/mid.pcap" "tcp or udp portrange 16384-65535"
check "drop: a1 injects an ACK, a data segment and a FIN toward b1" bash -c "
	$(declare -f x); lab=$lab ternlab=$ternlab
	x a1 -- python3 $inject 10.1.0.10 10.2.0.10 8080 A --sport 45000 &&
	x a1 -- python3 $inject 10.1.0.10 10.2.0.10 8080 PA --sport 45001 --data hello &&
	x a1 -- python3 $inject 10.1.0.10 10.2.0.10 8080 FA --sport 45002"
capture_stop
check "drop: none of them reached the WAN (capture on a's wan0)" test "$(pcap_count "$work/mid.pcap")" -eq 0
check "drop: counted fw-tcp-no-session (3)" test "$(drop_count a fw-tcp-no-session)" -eq 3
check "drop: no session was made for them" test "$(sessions_to a 10.2.0.10)" -eq 0
check "drop: a real TCP connection to b1 works" curl_b1 3

# ---- reset -------------------------------------------------------------------------------
check "reload with tcp_no_session reset is accepted" firewall '{"tcp_no_session": "reset", "half_open_max": 20}'
check "the path is up again within 20 s" wait_for 20 path_up
check "reset: an injected ACK (ack 777777) gets a RST with seq 777777" bash -c "
	$(declare -f x); lab=$lab ternlab=$ternlab
	x a1 -- python3 $inject 10.1.0.10 10.2.0.10 8080 A --sport 46000 --ack 777777 --expect-rst 3 |
		python3 -c 'import json,sys; r=json.load(sys.stdin); print(r); assert r[\"seq\"] == 777777 and r[\"flags\"] == 4, r'"
check "reset: a FIN without ACK (seq 1000, 5 bytes) gets RST|ACK with ack 1006" bash -c "
	$(declare -f x); lab=$lab ternlab=$ternlab
	x a1 -- python3 $inject 10.1.0.10 10.2.0.10 8080 F --sport 46001 --seq 1000 --data 12345 --expect-rst 3 |
		python3 -c 'import json,sys; r=json.load(sys.stdin); print(r); assert r[\"ack\"] == 1006 and r[\"flags\"] == 20, r'"
check "reset: counted fw-tcp-no-session-reset (2)" test "$(drop_count a fw-tcp-no-session-reset)" -eq 2

# ---- half-open ---------------------------------------------------------------------------
check "half-open: 21 SYNs from a1 to 10.2.0.99 (nobody answers)" \
	x a1 -- python3 "$inject" 10.1.0.10 10.2.0.99 443 S --sport 47000 --count 21
check "half-open: 20 sessions at site a within 3 s" wait_for 3 sessions_are a 10.2.0.99 20
check "half-open: the 21st refused fw-half-open-limit" test "$(drop_count a fw-half-open-limit)" -eq 1
check "half-open: a connection to b1 is refused meanwhile" no_curl_b1 2
check "half-open: counted again" test "$(drop_count a fw-half-open-limit)" -ge 2
check "half-open: after the opening timeout (10 s) b1 is reachable again" wait_for 20 curl_b1 2
check "half-open: the unanswered sessions are gone within 5 s more" wait_for 5 sessions_are a 10.2.0.99 0

# ---- icmp --------------------------------------------------------------------------------
icmperr=$root/tests/lab/lib/icmp_err.py
# Site b's LAN answered some of the half-open SYNs above (nobody is 10.2.0.99) with
# errors, carried too: count from here.
icmp_sent=$(status_of b icmp_errors_sent)
icmp_received=$(status_of a icmp_errors_received)
check "icmp: a connected UDP socket on a1 gets ECONNREFUSED from a closed port of b1, the error embedding what a1 sent" \
	x a1 -- python3 "$icmperr" probe 10.1.0.10 10.2.0.10 9 --sport 41234
check "icmp: the error made no session of its own (a or b)" test "$(sessions_to b 10.1.0.10)$(sessions_to a 10.1.0.10)" = 00
check "icmp: status counts it sent at b and received at a" \
	eval 'status_is b icmp_errors_sent $((icmp_sent + 1)) &&
		status_is a icmp_errors_received $((icmp_received + 1))'
check "icmp: nothing counted unmatched or malformed so far" \
	test "$(drop_count b fw-icmp-error-no-session)$(drop_count b fw-icmp-error-malformed)" = 00
check "icmp: b1 injects an unsolicited port unreachable toward a1" \
	x b1 -- python3 "$icmperr" inject 10.2.0.10 10.1.0.10
check "icmp: dropped at b, counted fw-icmp-error-no-session" \
	wait_for 3 drops_are b fw-icmp-error-no-session 1
check "icmp: b1 injects one whose embedded UDP header is cut" \
	x b1 -- python3 "$icmperr" inject 10.2.0.10 10.1.0.10 --cut 24
check "icmp: dropped at b, counted fw-icmp-error-malformed" \
	wait_for 3 drops_are b fw-icmp-error-malformed 1
check "icmp: neither made a session at b" test "$(sessions_to b 10.1.0.10)" -eq 0

stop_bg
lab_end
