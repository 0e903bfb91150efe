#!/usr/bin/env bash
# Lab test: NAT between routers (docs/decisions/0008-nat.md). Site a's WAN passes
# through a masquerading NAT (nftables `masquerade fully-random`: every new mapping gets
# a random port; nothing unsolicited gets in); b is public and learns a's translated
# address and port from a's authenticated probes ("remote": "auto"). Security is on.
#
#                        100.64.0.1 [nat-inet] 192.0.2.3
#   a1 --corp-- [a: ternd] wan0 -------- NAT -------- inet (5 ms) ---- wan0 [b: ternd] --corp-- b1
#   10.1.0.10          100.64.0.2                              192.0.2.2            10.2.0.10
#
# Checks:
#   learn     both paths come up; b shows a at the NAT's outside address on a port that
#             is not 1280; a shows itself as b sees it (the same address and port).
#   wire      a capture on b's side of the link sees a's traffic only from 192.0.2.3,
#             never from a's own 100.64.0.2.
#   a-side    from the NATed site: ping, a TCP transfer (iperf3) and a UDP stream.
#   b-side    from the public site: ping, TCP (iperf3) and a UDP stream; the first
#             packets go by the relay, nothing is dropped for want of a mapping.
#   flush     during a TCP transfer from a1 and a UDP stream from b1, the NAT's mappings
#             are flushed: a's mapping gets a new port, a sees it (nat-binding-changed),
#             b follows (nat-peer-moved); iperf3 exits 0 without a reset, the UDP stream
#             resumes (its largest gap is measured and bounded), and new sessions work
#             both ways afterwards.
#
# Usage: tests/lab/ternd_nat.sh [BUILD_DIR]   (root; prints TAP lines; ~1 min)
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:-${TERN_BUILD:-build/gcc}}
source tests/lab/lib/lab.bash
stream=$root/bench/failover/udpstream.py

paths_up() { state_is a wan0 up && state_is b wan0 up; }
events() { sj "$1" events "'\n'.join(f\"{e['kind']} {e.get('detail')}\" for e in d['events'])"; }
drops() { sj "$1" drops "' '.join(f\"{k['reason']}={k['count']}\" for k in d['drops'] if k['count'])"; }
# recv_start NAME NODE ADDR PORT SECONDS / send_start NAME NODE ADDR PORT RATE SECONDS
recv_start() {
	rm -f "$work/$1.ready"
	xt $(($5 + 5)) "$2" -- python3 "$stream" recv "$3" "$4" --seconds "$5" \
		--ready "$work/$1.ready" >"$work/$1.json" 2>"$work/$1.err" &
	bg+=($!)
	wait_for 5 test -e "$work/$1.ready"
}
send_start() {
	rm -f "$work/$1.stop"
	xt $(($6 + 10)) "$2" -- python3 "$stream" send "$3" "$4" --rate "$5" --seconds "$6" \
		--size 172 --until "$work/$1.stop" >"$work/$1-send.json" 2>&1 &
	bg+=($!)
}
stream_end() {
	touch "$work/$1.stop"
	wait_for 5 test -s "$work/$1.json"
}

lab_up "$root/tools/ternlab/examples/two-sites-nat.json" "two sites, a behind a masquerading NAT"

# ---- learn ---------------------------------------------------------------------------
check "the path is up on both routers within 5 s" \
	wait_for 5 bash -c "$(declare -f ctl sj path_get state_is paths_up); lab=$lab root=$root build=$build; paths_up"
check "b learned a at the NAT's outside address, on a translated port" python3 -c "
import json, sys
b, a = json.loads(sys.argv[1])['paths'][0], json.loads(sys.argv[2])['paths'][0]
print('b sees a at', b['remote'], b['remote_port'], '; a is seen at', a['reflexive'], a['reflexive_port'])
assert b['nat'] == 'peer-behind' and a['nat'] == 'behind', (a['nat'], b['nat'])
assert b['remote'] == '192.0.2.3' and b['remote_port'] not in (0, 1280), b
assert a['reflexive'] == b['remote'] and a['reflexive_port'] == b['remote_port'], (a, b)
assert b['reflexive'] == '192.0.2.2' and b['reflexive_port'] == 1280, b
" "$(ctl b show paths)" "$(ctl a show paths)"
check "events: b learned the peer, a saw its binding" bash -c \
	"$(declare -f ctl sj events); lab=$lab root=$root build=$build; events b | grep -q '^nat-peer-learned' && events a | grep -q '^nat-binding-seen'"

# ---- wire: what b's side of the link carries -----------------------------------------
timeout 8 "$ternlab" capture --lab "$lab" inet -w "$work/wire.pcap" -f "udp" >/dev/null 2>&1 &
cap=$!
sleep 1
check "a-side: a1 pings b1" x a1 -- ping -c 3 -i 0.2 -W 2 10.2.0.10
check "b-side: b1 pings a1 (first packets by the relay)" x b1 -- ping -c 3 -i 0.2 -W 2 10.1.0.10
sleep 0.5
kill "$cap" 2>/dev/null
wait "$cap" 2>/dev/null
check "wire: b's side sees a only as 192.0.2.3 (data, relay and probes), never 100.64.0.2" bash -c "
tcpdump -n -r '$work/wire.pcap' 2>/dev/null >'$work/wire.txt'
echo \"\$(wc -l <'$work/wire.txt') packets; from 192.0.2.3: \$(grep -c ' 192.0.2.3\.[0-9]* > ' '$work/wire.txt'); relayed to it: \$(grep -c '192.0.2.2.1280 > 192.0.2.3' '$work/wire.txt')\"
grep -q ' 192.0.2.3\.[0-9]* > 192.0.2.2\.[0-9]*: UDP' '$work/wire.txt' &&
grep -q '192.0.2.2.1280 > 192.0.2.3' '$work/wire.txt' &&
! grep -q '100\.64\.0\.2' '$work/wire.txt'"

# ---- sessions from either side -------------------------------------------------------
x b1 -- timeout 20 iperf3 -s -1 -B 10.2.0.10 >/dev/null 2>&1 &
bg+=($!)
sleep 0.3
check "a-side: TCP a1 -> b1 (iperf3, 2 s)" x a1 -- iperf3 -c 10.2.0.10 -t 2 -b 20M
x a1 -- timeout 20 iperf3 -s -1 -B 10.1.0.10 >/dev/null 2>&1 &
bg+=($!)
sleep 0.3
check "b-side: TCP b1 -> a1 (iperf3, 2 s)" x b1 -- iperf3 -c 10.1.0.10 -t 2 -b 20M
recv_start ua b1 10.2.0.10 7000 10
send_start ua a1 10.2.0.10 7000 200 1
recv_start ub a1 10.1.0.10 7001 10
send_start ub b1 10.1.0.10 7001 200 1
sleep 1.5
stream_end ua
stream_end ub
check "a-side: a UDP stream a1 -> b1 arrives whole" \
	python3 -c "import json; r = json.load(open('$work/ua.json')); print(r); assert r['received'] > 150 and r['lost'] == 0, r"
check "b-side: a UDP stream b1 -> a1 arrives whole (its first datagrams by the relay)" \
	python3 -c "import json; r = json.load(open('$work/ub.json')); print(r); assert r['received'] > 150 and r['lost'] == 0, r"
stop_bg
echo "# drops so far: a: $(drops a | tr '\n' ' ') b: $(drops b | tr '\n' ' ')"
check "no packet toward the NAT lacked a relay port or a mapping" bash -c \
	"$(declare -f ctl sj drops); lab=$lab root=$root build=$build; d=\$(drops b; drops a); echo \"\$d\"; ! grep -q 'nat-relay' <<<\"\$d\""

# ---- flush the NAT's mappings under traffic --------------------------------------------
port0=$(path_get b wan0 remote_port)
x b1 -- timeout 30 iperf3 -s -1 -B 10.2.0.10 >"$work/iperf3-server.log" 2>&1 &
bg+=($!)
recv_start flush a1 10.1.0.10 7002 30
sleep 0.3
r0=$(($(resets a1) + $(resets b1)))
xt 25 a1 -- iperf3 -c 10.2.0.10 -t 6 -b 10M -J >"$work/iperf3.json" 2>&1 &
iperf=$!
send_start flush b1 10.1.0.10 7002 500 6
sleep 2
t_flush=$EPOCHREALTIME
check "nat-flush deletes the NAT's mappings" timeout 10 "$ternlab" nat-flush --lab "$lab" inet
check "a sees its mapping change within 3 s (nat-binding-changed)" \
	wait_for 3 bash -c "$(declare -f ctl sj events); lab=$lab root=$root build=$build; events a | grep -q '^nat-binding-changed'"
echo "# flush: a saw the new binding $((($(now_us) - ${t_flush/./}) / 1000)) ms after the flush (polled: an upper bound)"
check "b follows a to a new port" bash -c "$(declare -f ctl sj path_get); lab=$lab root=$root build=$build
p=\$(path_get b wan0 remote_port); echo \"port $port0 -> \$p\"; test \"\$p\" != '$port0'"
r1=$(($(resets a1) + $(resets b1)))
wait $iperf
rc=$?
check "flush: iperf3 a1 -> b1 across the flush exits 0" test $rc -eq 0
check "flush: iperf3 reports no reset, and the kernels counted none" bash -c \
	"! grep -qi 'reset' '$work/iperf3.json' && test $r1 -eq $r0"
check "flush: TCP carries data after the flush (over 60% of 6 s at 10 Mbit/s)" python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
got = d['end']['sum_received']['bytes']
print('received', got, 'bytes; per second:', [round(i['sum']['bytes'] / 1e6, 2) for i in d['intervals']])
assert got >= 0.6 * 7.5e6, got
assert all(i['sum']['bytes'] > 0 for i in d['intervals'][3:]), 'no data after the flush'
" "$work/iperf3.json"
stream_end flush
echo "# flush: UDP b1 -> a1 $(head -c 300 "$work/flush.json")"
# The gap the flush made: the one over 50 ms that starts around it (a busy machine adds
# stalls of its own elsewhere in the stream; those are not the flush's).
check "flush: the UDP stream b1 -> a1 resumes (its gap at the flush under 2 s)" python3 -c "
import json
r = json.load(open('$work/flush.json'))
off = r['gap_from_epoch'] - r['gap_from_s']
at = [ms for s, ms in r['gaps_over_50ms'] if $t_flush - 0.2 <= s + off <= $t_flush + 1.0]
print('gap at the flush', max(at) if at else None, 'ms; lost', r['lost'], 'of', r['sent'])
assert at, ('no gap at the flush: did the flush touch the stream?', r)
assert max(at) < 2000 and r['received'] > 1000, r
assert r['last_s'] + off > $t_flush + 2, ('the stream did not resume', r)
"
stop_bg
check "events at b: the peer moved" bash -c \
	"$(declare -f ctl sj events); lab=$lab root=$root build=$build; events b | grep '^nat-peer-moved'"

# ---- after the flush: new sessions both ways --------------------------------------------
check "after: a1 pings b1" x a1 -- ping -c 2 -i 0.2 -W 2 10.2.0.10
check "after: b1 pings a1" x b1 -- ping -c 2 -i 0.2 -W 2 10.1.0.10
x a1 -- timeout 20 iperf3 -s -1 -B 10.1.0.10 >/dev/null 2>&1 &
bg+=($!)
sleep 0.3
check "after: TCP b1 -> a1 (iperf3, 1 s)" x b1 -- iperf3 -c 10.1.0.10 -t 1 -b 10M
stop_bg
echo "# drops at the end: a: $(drops a | tr '\n' ' ') b: $(drops b | tr '\n' ' ')"
lab_end
