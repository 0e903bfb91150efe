#!/usr/bin/env bash
# Lab test: a reload keeps the sessions the new configuration still allows
# (docs/decisions/0012-reload-keeps-sessions.md), with keys and two WAN links.
#
#              +--wan0 192.0.2.1 ---- inet (10 ms) ---- 192.0.2.2 wan0--+
#   a1 --corp-- [a: ternd]                                     [b: ternd] --corp-- b1
#   10.1.0.10  +--wan1 198.51.100.1 -- lte (10 ms) -- 198.51.100.2 wan1--+   10.2.0.10
#
# The two-sites-multipath topology (generated keys: security on). Site a is reloaded
# (`ternctl reload`, ternd keeps running) while traffic crosses it:
#
#   keep     an 8 s iperf3 TCP transfer and a 500 datagram/s UDP stream run across a
#            reload that adds an unrelated rule: iperf3 exits 0 with no reset and carries
#            data after the reload, a1 and b1 count no TCP reset, the UDP stream's
#            largest gap (reported) is under 1 s, the reply and `show status` count the
#            sessions kept and none ended; the keys are kept (no sec-replay, nothing
#            dropped for a key at b).
#   paths    the same reload: no path, SLA, failover or revert event at a after it, both
#            paths up since before it, the sessions on the path they had (b's paths and
#            events are reported).
#   end      a reload that takes the services' access away ends the sessions (reply
#            sessions_ended, `show status` reload.ended.policy), the UDP stream stops,
#            and a1's next packets are refused (policy-no-rule).
#   control  lte cut for 1 s: the event check sees wan1 go down (it can fail).
#
# Usage: tests/lab/ternd_reload.sh [BUILD_DIR]   (root; prints TAP lines; ~1 min)
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:-${TERN_BUILD:-build/gcc}}
source tests/lab/lib/lab.bash
stream=$root/bench/failover/udpstream.py

# sess_paths SITE: "dport=path" of every session of a1 to b1, sorted.
sess_paths() {
	sj "$1" sessions "' '.join(sorted(s['destination'].rsplit(':', 1)[1] + '=' + str(s.get('path')) for s in d['sessions'] if '10.2.0.10' in s['destination']))"
}
# events_since SITE TS: the path, SLA and failover events at SITE after TS (its ts_s).
events_since() {
	sj "$1" events "'\n'.join(f\"{e['ts_s']:.3f} {e['kind']} {e.get('path')} {e.get('detail')}\" for e in d['events'] if e['ts_s'] > $2 and e['kind'] in ('path-up', 'path-down', 'path-hold-down', 'failover', 'revert', 'sla-breach', 'sla-met'))"
}
# events_last SITE: the time (ts_s) of SITE's newest event, 0 without any.
events_last() { sj "$1" events "max([e['ts_s'] for e in d['events']], default=0)"; }
no_routes() { # no_routes NODE: packets the kernel could not route (IpExtInNoRoutes)
	x "$1" -- nstat -asz IpExtInNoRoutes | awk '/^IpExtInNoRoutes / { n += $2 } END { print n + 0 }'
}
recv_start() { # recv_start NAME PORT SECONDS: a udpstream receiver on b1
	rm -f "$work/$1.ready"
	xt $(($3 + 5)) b1 -- python3 "$stream" recv 10.2.0.10 "$2" --seconds "$3" \
		--ready "$work/$1.ready" >"$work/$1.json" 2>"$work/$1.err" &
	bg+=($!)
	wait_for 5 test -e "$work/$1.ready"
}
send_start() { # send_start NAME PORT SPORT RATE SECONDS
	rm -f "$work/$1.stop"
	xt $(($5 + 10)) a1 -- python3 "$stream" send 10.2.0.10 "$2" --sport "$3" --rate "$4" \
		--seconds "$5" --size 172 --until "$work/$1.stop" >"$work/$1-send.json" 2>&1 &
	bg+=($!)
}

# edit PYTHON: runs PYTHON over cfg, site a's running configuration (the lab wrote it,
# with its generated key, into its state directory), and writes it back.
edit() {
	python3 - "$cfg_a" "$1" <<'PY'
import json, sys
path = sys.argv[1]
cfg = json.load(open(path))
exec(sys.argv[2])
json.dump(cfg, open(path, "w"), indent=1)
PY
}

lab_up "$root/tools/ternlab/examples/two-sites-multipath.json" "two sites, two WAN links, keys"
cfg_a=/run/ternlab/$lab/a.json
check "site a runs from the lab's configuration with a private key" \
	grep -q private_key_file "$cfg_a"
check "both paths are up on both routers within 5 s" \
	wait_for 5 bash -c "$(declare -f ctl sj path_get state_is both_up); lab=$lab root=$root build=$build; both_up a && both_up b"
sleep 1 # the paths' first measurements

# ---- keep: TCP and UDP across a reload that changes an unrelated rule -----------------
x b1 -- timeout 30 iperf3 -s -1 -B 10.2.0.10 >"$work/iperf3-server.log" 2>&1 &
bg+=($!)
recv_start keep 7000 25
sleep 0.3
r0=$(($(resets a1) + $(resets b1)))
replay0=$(drop_count b sec-replay)
xt 25 a1 -- iperf3 -c 10.2.0.10 -t 8 -b 20M -i 1 -J >"$work/iperf3.log" 2>&1 &
iperf=$!
send_start keep 7000 7100 500 9
sleep 2.5
before=$(sess_paths a)
echo "# sessions before the reload: $before"
check "the TCP transfer and the UDP stream run through a" \
	bash -c "grep -q '5201=wan' <<<'$before' && grep -q '7000=wan' <<<'$before'"
edit 'cfg["rules"] = [{"name": "no-dup", "tenant": "corp", "service": "b-dup", "action": "deny"}]'
mark_a=$(events_last a)
mark_b=$(events_last b)
# What a's kernel does to its routes and rules during the reload: one that stays must
# never go away, even for a moment (a packet arriving then has no route and is lost).
noroute0=$(no_routes a)
rm -f "$work/monitor.ready"
xt 20 a -- bash -c "touch '$work/monitor.ready'; exec ip monitor route rule" >"$work/monitor.log" 2>&1 &
mon=$!
wait_for 5 test -e "$work/monitor.ready"
sleep 0.2
t0=$(now_us)
ctl a reload >"$work/reload1.json" 2>&1
echo "# reload 1 took $((($(now_us) - t0) / 1000)) ms: $(cat "$work/reload1.json")"
sleep 0.2
kill "$mon" 2>/dev/null
wait "$mon" 2>/dev/null
echo "# a's kernel during reload 1: $(grep -c . "$work/monitor.log") route/rule changes, $(($(no_routes a) - noroute0)) packets without a route"
check "keep: reload 1 removes none of a's routes or rules (they stay in place)" \
	bash -c "! grep -E '^Deleted' '$work/monitor.log'"
check "reload 1 (an unrelated rule) keeps every session and ends none" python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
assert r['sessions_kept'] >= 3, r
assert sum(r['sessions_ended'].values()) == 0, r
" "$work/reload1.json"
sleep 1
after=$(sess_paths a)
check "paths: every session is still on its path ($after)" test "$after" = "$before"
wait $iperf
rc=$?
r1=$(($(resets a1) + $(resets b1)))
check "keep: iperf3 across the reload exits 0" test $rc -eq 0
check "keep: iperf3 reports no reset" bash -c "! grep -qi 'reset' '$work/iperf3.log'"
check "keep: TCP carries data after the reload too (60% of 20 MB in all, every second after the 3rd)" python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
got = d['end']['sum_received']['bytes']
per = [round(i['sum']['bytes'] / 1e6, 2) for i in d['intervals']]
print('received', got, 'bytes; MB per second sent:', per)
assert got >= 0.6 * 20e6, got
assert all(b > 0.5 for b in per[3:8]), per
" "$work/iperf3.log"
check "keep: a1 and b1 count no TCP reset or abort during the transfer ($r0 -> $r1)" test "$r1" -eq "$r0"
wait_for 15 test -s "$work/keep.json"
echo "# keep: UDP $(python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
print(f\"gap {r['gap_ms']} ms, {r['lost']} of {r['sent']} datagrams lost, gaps over 50 ms: {r['gaps_over_50ms']}\")
" "$work/keep.json" 2>&1)"
check "keep: the UDP stream's largest gap across the reload is under 1 s, nothing lost" python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
assert r['sent'] and r['received'] > 0.9 * r['sent'], r
assert r['gap_ms'] < 1000, r
assert r['lost'] == 0, r
" "$work/keep.json"
check "keep: show status counts the sessions the last reload kept" bash -c \
	"$(declare -f ctl sj); lab=$lab root=$root build=$build; sj a status \"d['reload']['last_kept'] >= 3 and sum(d['reload']['ended'].values()) == 0 or exit(1)\""
check "keep: b refuses none of a's packets as sec-replay after the reload ($replay0)" \
	test "$(drop_count b sec-replay)" -eq "$replay0"
check "paths: both paths are up at a, since before the reload" python3 -c "
import json, sys
for site in (1,):
    for p in json.loads(sys.argv[site])['paths']:
        print(site, p['name'], p['state'], p['since_s'], p['flaps'], p['latency_ms'])
        assert p['state'] == 'up' and p['since_s'] > float(sys.argv[3]) and p['flaps'] == 0, p
        assert p['latency_ms'] is not None, p
" "$(ctl a show paths)" "$(ctl b show paths)" "$(awk "BEGIN { print ($(now_us) - $t0) / 1e6 }")"
check "paths: no path, SLA, failover or revert event at a after the reload" bash -c \
	"$(declare -f ctl sj events_since); lab=$lab root=$root build=$build; ev=\$(events_since a $mark_a) || exit 1; echo \"\$ev\"; test -z \"\$ev\""
# Site b is not reloaded; a's probes go on during the reload (a helper thread makes the
# worker), yet with the machine loaded b has been seen to take both paths down for a few
# ms once (its own probe timer, 3 x 100 ms): reported, not asserted.
echo "# paths at b: $(ctl b show paths | python3 -c "import json,sys; print([(p['name'], p['state'], p['flaps']) for p in json.load(sys.stdin)['paths']])")"
echo "# events at b after the reload: $(events_since b "$mark_b" | tr '\n' ';')"
stop_bg

# ---- end: a reload that takes the access away ends the sessions ----------------------
recv_start end 7002 8
send_start end 7002 7102 500 12
sleep 1.5
check "end: the UDP stream runs before the reload" bash -c "grep -q '7002=wan' <<<'$(sess_paths a)'"
no_rule0=$(drop_count a policy-no-rule)
edit 'for s in cfg["services"]: s.pop("access", None)'
ctl a reload >"$work/reload2.json" 2>&1
echo "# reload 2: $(cat "$work/reload2.json")"
check "end: reload 2 ends the sessions without a rule (sessions_ended.policy)" python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
assert r['sessions_ended'].get('policy', 0) >= 1 and r['sessions_kept'] == 0, r
" "$work/reload2.json"
check "end: show status counts them (reload.ended.policy)" bash -c \
	"$(declare -f ctl sj); lab=$lab root=$root build=$build; sj a status \"d['reload']['ended']['policy'] >= 1 and d['reload']['last_ended']['policy'] >= 1 or exit(1)\""
sleep 1
check "end: a1's packets after it are refused (policy-no-rule)" \
	test "$(drop_count a policy-no-rule)" -gt "$((no_rule0 + 100))"
check "end: a holds no session to b1" bash -c "test -z \"$(sess_paths a)\""
check "end: a new session (ping) is refused" bash -c "! timeout 30 '$ternlab' exec --lab $lab a1 -- ping -c 2 -i 0.2 -W 1 10.2.0.10"
touch "$work/end.stop"
wait_for 10 test -s "$work/end.json"
check "end: the UDP stream stopped at the reload (nothing arrived after it)" python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
print({k: r.get(k) for k in ('sent', 'received', 'last_s', 'first_s')})
assert 0 < r['received'] and r['last_s'] - r['first_s'] < 3.5, r
" "$work/end.json"
stop_bg

# A positive control for the event checks above: lte cut for 1 s is seen as a path-down.
mark_a=$(events_last a)
timeout 10 "$ternlab" impair --lab "$lab" lte outage >/dev/null
sleep 1
timeout 10 "$ternlab" impair --lab "$lab" lte "clear delay=10ms" >/dev/null
check "control: the event check sees wan1 go down when lte is cut" bash -c \
	"$(declare -f ctl sj events_since); lab=$lab root=$root build=$build; ev=\$(events_since a $mark_a) || exit 1; echo \"\$ev\"; grep -q 'path-down wan1' <<<\"\$ev\""
lab_end
