#!/usr/bin/env bash
# bench_failover: how long an outage of a WAN link interrupts traffic between two ternd
# routers joined by two links (tools/ternlab/examples/two-sites-multipath.json: inet and
# lte, 10 ms each way), and what the path probes cost.
#
# TRIALS trials (default 20) in one lab. Each trial: a UDP stream a1 -> b1 of 1000
# datagrams/s (100 bytes, sequence-numbered; bench/failover/udpstream.py) and an
# iperf3 TCP transfer at 20 Mbit/s run on inet; after 1 s inet is cut (`ternlab
# impair inet outage`) for 1 s, then restored. The failover time of the trial is the
# largest gap between two arrivals at the UDP receiver (the gap must start at the cut,
# or the trial says so). iperf3 must exit 0 without "reset", and the kernels of a1 and b1
# must count no TCP reset or abort (nstat: TcpEstabResets, TcpOutRsts,
# TcpExtTCPAbortOn*) between the transfer's start and the end of the outage (iperf3's
# server resets its data connection when a test ends, so later counts are not ours).
# A transfer that survives but carries nothing afterwards is "stalled": the trial's
# tcp_mbps_after is what iperf3 sent from 2.5 s (0.5 s after the link came back) to
# the end, and under 5 Mbit/s counts as stalled.
#
# Independence: every trial has new sessions (a new UDP source port, a new iperf3
# connection), starts only when both paths are up at both routers, checks that its
# sessions are on inet before the cut (else the trial is not counted), and the cut
# falls at a random point of the probe schedule. Probe timers are the defaults (a probe
# every 100 ms, down after 3 missed) except the hold-down, which the bench lowers to
# 1 s with no growth (hold_down_ms = hold_down_max_ms = 1000): it only decides when
# inet is used again after the outage, not how fast sessions leave it, and with the
# default (5 s, doubling per flap within a minute, up to 120 s) 20 outages of one link
# would not fit in five minutes. Alternating the cut between inet and lte would not
# help: a new session always chooses inet (cheaper) once it is up, and cutting lte while
# inet is held down would leave no path.
#
# The probe cost is measured for 10 s with both paths up and no traffic: the
# probe_bytes_sent of `ternctl show paths` at both routers (UDP payload bytes, one
# direction each), per second; probe_bytes_per_s_per_path is their mean.
#
# Usage: bench/bench_failover.sh BUILD_DIR [TRIALS]   (root; under 5 minutes)
# Prints human lines, then one JSON object as the last line.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${1:?usage: bench/bench_failover.sh BUILD_DIR [TRIALS]}
trials=${2:-20}
if [ "$(id -u)" -ne 0 ]; then
	echo "bench_failover: run as root (the lab uses network namespaces)" >&2
	exit 1
fi
for tool in iperf3 nstat python3; do
	command -v "$tool" >/dev/null || {
		echo "bench_failover: $tool is missing" >&2
		exit 1
	}
done

ternlab=$root/tools/ternlab/ternlab
ternctl=$root/$build/src/ctl/ternctl
stream=$root/bench/failover/udpstream.py
examples=$root/tools/ternlab/examples
work=$(mktemp -d /tmp/tern-bench-failover.XXXXXX)
lab=""
bg=()
budget_s=270 # stop starting trials after this, so the whole run stays under 5 minutes
start_s=$SECONDS

stop_bg() {
	local p
	for p in "${bg[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${bg[@]}"; do wait "$p" 2>/dev/null || true; done
	bg=()
}
cleanup() {
	stop_bg
	[ -n "$lab" ] && timeout 30 "$ternlab" down --lab "$lab" >/dev/null 2>&1
	lab=""
	[ "${TERN_BENCH_KEEP:-0}" = 1 ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_us() { echo $((${EPOCHREALTIME/./})); }
wait_for() { # wait_for SECONDS CMD...: retries CMD every 0.1 s
	local end=$(($(now_us) + $1 * 1000000))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(now_us)" -ge "$end" ] && return 1
		sleep 0.1
	done
}
xt() { timeout "$1" "$ternlab" exec --lab "$lab" "${@:2}"; }
ctl() { timeout 5 "$ternctl" --socket "/run/ternlab/$lab/ternd-$1.sock" --json "${@:2}"; }
both_up() { # both_up SITE
	ctl "$1" show paths | python3 -c "
import json, sys
sys.exit(not all(p['state'] == 'up' for p in json.load(sys.stdin)['paths']))"
}
# tcp_sources: the sources of the iperf3 sessions a knows now (earlier trials' linger
# until their closing timeout).
tcp_sources() {
	ctl a show sessions | python3 -c "
import json, sys
print(' '.join(s['source'] for s in json.load(sys.stdin)['sessions'] if s['destination'].endswith(':5201')))"
}
# on_inet SPORT OLD: the UDP session from a1:SPORT and this trial's iperf3 sessions (the
# ones whose source is not in OLD) are on wan0.
on_inet() {
	ctl a show sessions | python3 -c "
import json, sys
ss = json.load(sys.stdin)['sessions']
old = set('$2'.split())
udp = [s for s in ss if s['source'].endswith(':$1')]
tcp = [s for s in ss if s['destination'].endswith(':5201') and s['source'] not in old]
print([(s['source'], s.get('path')) for s in udp + tcp])
sys.exit(not (udp and tcp and all(s.get('path') == 'wan0' for s in udp + tcp)))"
}
resets() { # resets NODE: the kernel's TCP reset and abort counters, summed
	xt 10 "$1" -- nstat -asz | awk '/^(TcpEstabResets|TcpOutRsts|TcpExtTCPAbortOn[A-Za-z]+) / { n += $2 } END { print n + 0 }'
}

# The lab, with the bench's hold-down.
cp "$examples"/two-sites-multipath.json "$examples"/site-a-multipath.json "$examples"/site-b-multipath.json "$work/"
for s in a b; do
	python3 - "$work/site-$s-multipath.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for peer in d["peers"]:
    peer["probe"] = {"hold_down_ms": 1000, "hold_down_max_ms": 1000}
json.dump(d, open(sys.argv[1], "w"), indent=1)
PY
done
out=$(timeout 60 "$ternlab" up "$work/two-sites-multipath.json" --build "$build")
lab=$(sed -n 's/^lab \(tl[0-9a-f]*\) .*/\1/p' <<<"$out" | head -n1)
[ -n "$lab" ] || {
	echo "bench_failover: the lab did not come up: $out" >&2
	exit 1
}
echo "lab $lab: two-sites-multipath, hold-down 1 s (bench), other probe timers default"
wait_for 10 bash -c "$(declare -f ctl both_up); ternctl=$ternctl lab=$lab; both_up a && both_up b" || {
	echo "bench_failover: the paths did not come up" >&2
	exit 1
}
xt 10 a1 -- ping -c 2 -i 0.2 -W 2 10.2.0.10 >/dev/null

# Probe cost: 5 s, both paths up, no traffic.
snap() { # snap FILE: probe bytes and probes each router sent on each path, and when
	for s in a b; do
		ctl "$s" show paths | python3 -c "
import json, sys, time
t = time.time()  # ternctl has just answered: the counters are at most a few ms old
for p in json.load(sys.stdin)['paths']:
    print('$s', p['name'], p['probe_bytes_sent'], p['probes_sent'], t)"
	done >"$1"
}
snap "$work/probes0.txt"
sleep 10
snap "$work/probes1.txt"
python3 - "$work/probes0.txt" "$work/probes1.txt" >"$work/probes.json" <<'PY'
import json, sys
def rows(f):
    return {(l.split()[0], l.split()[1]): list(map(float, l.split()[2:])) for l in open(f)}
a, b = rows(sys.argv[1]), rows(sys.argv[2])
paths = [{"router": k[0], "path": k[1], "seconds": b[k][2] - a[k][2],
          "bytes": int(b[k][0] - a[k][0]), "probes": int(b[k][1] - a[k][1])} for k in sorted(b)]
print(json.dumps({"paths": paths}))
PY

# The trials.
: >"$work/trials.jsonl"
done_trials=0
for i in $(seq 1 "$trials"); do
	if [ $((SECONDS - start_s)) -ge $budget_s ]; then
		echo "time budget reached after $done_trials trials" >&2
		break
	fi
	sport=$((7100 + i))
	rm -f "$work/stop" "$work/ready" "$work/recv.json"
	ok=true why=""
	wait_for 15 bash -c "$(declare -f ctl both_up); ternctl=$ternctl lab=$lab; both_up a && both_up b" ||
		{ ok=false why="paths not up before the trial"; }
	xt 20 b1 -- iperf3 -s -1 -B 10.2.0.10 >"$work/iperf3-server-$i.log" 2>&1 &
	bg+=($!)
	xt 20 b1 -- python3 "$stream" recv 10.2.0.10 7001 --seconds 15 --ready "$work/ready" \
		>"$work/recv.json" 2>"$work/recv.err" &
	bg+=($!)
	wait_for 5 test -e "$work/ready" || true
	sleep 0.2
	r0=$(($(resets a1) + $(resets b1)))
	old=$(tcp_sources)
	xt 20 a1 -- iperf3 -c 10.2.0.10 -t 4 -b 20M -i 0.5 -J >"$work/iperf3-$i.log" 2>&1 &
	iperf=$!
	xt 20 a1 -- python3 "$stream" send 10.2.0.10 7001 --sport "$sport" --rate 1000 --seconds 8 \
		--until "$work/stop" >"$work/send-$i.json" 2>&1 &
	bg+=($!)
	sleep 1
	on_inet "$sport" "$old" >"$work/on-inet-$i.txt" 2>&1 || { ok=false why="sessions not on inet before the cut: $(tr -d '\n' <"$work/on-inet-$i.txt")"; }
	t_cut=$EPOCHREALTIME
	"$ternlab" impair --lab "$lab" inet outage >/dev/null
	sleep 1
	r1=$(($(resets a1) + $(resets b1)))
	"$ternlab" impair --lab "$lab" inet clear delay=10ms >/dev/null
	rc=0
	wait $iperf || rc=$?
	sleep 0.3
	touch "$work/stop"
	wait_for 5 test -s "$work/recv.json" || true
	stop_bg
	python3 - "$work/recv.json" "$t_cut" "$i" "$ok" "$why" "$rc" "$work/iperf3-$i.log" $((r1 - r0)) \
		>>"$work/trials.jsonl" <<'PY'
import json, sys
recv, t_cut, i, ok, why, rc, log, resets = sys.argv[1:9]
t_cut = float(t_cut)
try:
    r = json.load(open(recv))
except (OSError, ValueError):
    r = {}
text = open(log, errors="replace").read()
tcp_ok = rc == "0" and "reset" not in text.lower()
# Did TCP carry data again after the failover? The cut is 1 s into the transfer and
# lasts 1 s: what iperf3 sent from 2.5 s to the end, as Mbit/s (20 when it recovered).
try:
    iv = json.loads(text)["intervals"]
    late = [x["sum"] for x in iv if x["sum"]["start"] >= 2.49]
    after = sum(x["bytes"] for x in late) * 8 / 1e6 / max(1e-9, sum(x["seconds"] for x in late))
except (ValueError, KeyError, TypeError):
    after = 0.0
t = {"trial": int(i), "cut": "inet", "valid": ok == "true", "why": why, "sent": r.get("sent"),
     "lost": r.get("lost"), "gap_ms": r.get("gap_ms"), "tcp_ok": tcp_ok,
     "tcp_mbps_after": round(after, 2), "tcp_resumed": after >= 5,
     "tcp_resets": int(resets) + (0 if tcp_ok or "reset" not in text.lower() else 1)}
# The failover gap starts at the cut (what was in flight still arrives: 10 ms).
follows = r.get("gap_from_epoch") is not None and t_cut - 0.05 <= r["gap_from_epoch"] <= t_cut + 0.5
t["follows_cut"] = follows
if not r.get("received"):
    t.update(valid=False, why=t["why"] or "the receiver got nothing")
elif r.get("last_s") is not None and r.get("gap_to_epoch") is not None and not follows:
    t["why"] = (t["why"] + "; " if t["why"] else "") + "largest gap not at the cut"
if r.get("received") and (r.get("gap_to_epoch") or 0) < t_cut:
    # Nothing arrived after the cut: the traffic never came back.
    t.update(valid=False, gap_ms=None, why="traffic did not resume after the cut")
print(json.dumps(t))
PY
	done_trials=$i
	tail -n 1 "$work/trials.jsonl" | python3 -c "
import json, sys
t = json.loads(sys.stdin.read())
print(f\"trial {t['trial']}: gap {t['gap_ms']} ms, lost {t['lost']}, TCP {'ok' if t['tcp_ok'] else 'FAILED'}, {t['tcp_mbps_after']} Mbit/s after\" + ('' if t['valid'] else f\" (not counted: {t['why']})\"))" >&2
done

python3 - "$work/meta.json" "$trials" $((SECONDS - start_s)) <<'PY'
import json, sys
json.dump({"trials": int(sys.argv[2]), "probe_interval_ms": 100, "down_after": 3,
           "hold_down_ms": 1000, "udp_pps": 1000, "tcp_mbps": 20, "link_delay_ms": 10,
           "outage_s": 1, "runtime_s": int(sys.argv[3])}, open(sys.argv[1], "w"))
PY
python3 bench/failover/summary.py "$work/trials.jsonl" "$work/probes.json" "$work/meta.json"
