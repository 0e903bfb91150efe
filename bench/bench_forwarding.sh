#!/usr/bin/env bash
# bench_forwarding: iperf3 TCP through two ternd routers versus the same lab with the
# routers replaced by plain kernel routing, side by side in one run. Both labs have
# the same namespaces, veths and WAN emulator (no impairment), so the ratio is what
# Tern costs. CPU is the whole machine's busy time (from /proc/stat) during the
# transfer, divided by the gigabytes moved: it includes iperf3 and the emulator, the
# same in both labs.
#
# Usage: bench/bench_forwarding.sh BUILD_DIR [SECONDS] [STREAMS]   (root)
# Prints human lines, then one JSON object as the last line.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: bench/bench_forwarding.sh BUILD_DIR [SECONDS] [STREAMS]}
seconds=${2:-10}
streams=${3:-1}
ternlab=tools/ternlab/ternlab
lab=""
trap '[ -n "$lab" ] && $ternlab down --lab "$lab" >/dev/null 2>&1' EXIT INT TERM

busy_ticks() { awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }

# measure TOPOLOGY: prints "gbps cpu_s gbytes"
measure() {
	local out server json t0 t1 hz
	out=$($ternlab up "$1" --build "$build")
	lab=$(sed -n 's/^lab \(tl[0-9a-f]*\) .*/\1/p' <<<"$out" | head -n1)
	$ternlab exec --lab "$lab" b1 -- iperf3 -s -1 -B 10.2.0.10 >/dev/null 2>&1 &
	server=$!
	sleep 0.5
	# Warm up the path (and the routers' sessions) first.
	$ternlab exec --lab "$lab" a1 -- ping -c 2 -i 0.2 -W 2 10.2.0.10 >/dev/null
	t0=$(busy_ticks)
	json=$($ternlab exec --lab "$lab" a1 -- iperf3 -c 10.2.0.10 -t "$seconds" -P "$streams" -J)
	t1=$(busy_ticks)
	wait $server || true
	$ternlab down --lab "$lab" >/dev/null
	lab=""
	hz=$(getconf CLK_TCK)
	python3 -c "
import json, sys
d = json.loads(sys.argv[1])
end = d['end']['sum_received']
gbps = end['bits_per_second'] / 1e9
gbytes = end['bytes'] / 1e9
cpu = (int(sys.argv[2]) - int(sys.argv[3])) / int(sys.argv[4])
print(f'{gbps:.3f} {cpu:.2f} {gbytes:.3f}')
" "$json" "$t1" "$t0" "$hz"
}

read -r tern_gbps tern_cpu tern_gb < <(measure tools/ternlab/examples/two-sites.json)
read -r kern_gbps kern_cpu kern_gb < <(measure tools/ternlab/examples/two-sites-kernel.json)
echo "ternd:  $tern_gbps Gbit/s, $tern_cpu CPU s for $tern_gb GB"
echo "kernel: $kern_gbps Gbit/s, $kern_cpu CPU s for $kern_gb GB"
python3 -c "
import json, sys
t, tc, tg, k, kc, kg, s, p = map(float, sys.argv[1:9])
print(json.dumps({'bench': 'forwarding', 'seconds': s, 'streams': int(p),
    'tern_gbps': t, 'kernel_gbps': k, 'ratio': round(t / k, 3) if k else None,
    'tern_cpu_s_per_gb': round(tc / tg, 2) if tg else None,
    'kernel_cpu_s_per_gb': round(kc / kg, 2) if kg else None}))
" "$tern_gbps" "$tern_cpu" "$tern_gb" "$kern_gbps" "$kern_cpu" "$kern_gb" "$seconds" "$streams"
