#!/usr/bin/env bash
# bench/bench_wanem.sh BUILD_DIR [SECONDS]: is ternlab-wanem fast enough not to be the
# bottleneck at 1 Gbit/s of 1400-byte packets? Run as root (scripts/bench wanem).
#
#   ns A 10.99.0.1/24 --veth-- ns core [ternlab-wanem | bridge br0] --veth-- ns B 10.99.0.2/24
#
# In one run: iperf3 UDP, 1400-byte datagrams offered at 1.2 Gbit/s from A to B for
# SECONDS (default 5), first through the emulator with no impairments, then with the
# emulator replaced by a kernel bridge in the core namespace. Prints the iperf3 summaries
# and, last, one JSON line: wanem_gbps and wanem_loss_pct (what B received), the same
# for the bridge, the emulator's CPU seconds and what it forwarded (frame bytes over
# SECONDS: loss after it, at the receiving host, is not the emulator's).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: bench/bench_wanem.sh BUILD_DIR [SECONDS]}
secs=${2:-5}
case $build in /*) ;; *) build=$here/$build ;; esac
bin=$build/tools/ternlab/ternlab-wanem
[ -x "$bin" ] || { echo "bench_wanem: no emulator at $bin" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "bench_wanem: needs root" >&2; exit 1; }

pfx=bwan$$
A=$pfx-a C=$pfx-c B=$pfx-b
tmp=$(mktemp -d /tmp/bench_wanem.XXXXXX)
emu_pid=

cleanup() {
	set +e
	[ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null
	for ns in "$A" "$B" "$C"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=tests/lab/lib/wanem_pair.bash
source "$here/tests/lab/lib/wanem_pair.bash"
wanem_pair_up "$A" "$C" "$B"

# One UDP run; prints "received_gbps loss_pct" from the receiver's side.
udp_run() {
	local label=$1 out=$tmp/$1.json
	timeout $((secs + 30)) ip netns exec "$B" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	local srv=$!
	ip netns exec "$B" nstat -n >/dev/null 2>&1 || true
	for _ in $(seq 50); do
		ip netns exec "$B" ss -lun 2>/dev/null | grep -q ':5201 ' && break
		sleep 0.1
	done
	timeout $((secs + 30)) ip netns exec "$A" iperf3 -c 10.99.0.2 -p 5201 -u -l 1400 -b 1.2G \
		-t "$secs" -J >"$out" || true
	wait "$srv" 2>/dev/null || true
	ip netns exec "$B" nstat -z UdpRcvbufErrors 2>/dev/null |
		awk -v l="$label" '/Udp/ { printf "# %s: receiver %s %s\n", l, $1, $2 }' >&2
	python3 - "$out" "$label" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["end"]["sum"]
# The client's UDP summary carries the server's counts: packets sent, lost and bytes.
sent, lost = s.get("packets", 0), s.get("lost_packets", 0)
gbps = s["bits_per_second"] * (1 - lost / sent if sent else 0) / 1e9
print("# %s: offered %.3f Gbit/s, received %.3f Gbit/s, loss %.2f%% (%d of %d)" %
      (sys.argv[2], s["bits_per_second"] / 1e9, gbps, 100.0 * lost / max(sent, 1), lost, sent),
      file=sys.stderr)
print("%.3f %.2f" % (gbps, 100.0 * lost / max(sent, 1)))
PY
}

# Through the emulator, no impairments.
ctl=$tmp/ctl.sock
ip netns exec "$C" "$bin" --if-a wa --if-b wb --control "$ctl" --log-level warning &
emu_pid=$!
for _ in $(seq 50); do [ -S "$ctl" ] && break; sleep 0.1; done
[ -S "$ctl" ] || { echo "bench_wanem: the emulator did not start" >&2; exit 1; }
read -r wanem_gbps wanem_loss <<<"$(udp_run wanem)"
emu_cpu=$(awk '{ printf "%.2f", ($14 + $15) / '"$(getconf CLK_TCK)"' }' "/proc/$emu_pid/stat")
timeout 10 "$bin" --control "$ctl" --send show >"$tmp/show.json"
python3 - "$tmp/show.json" <<'PY' >&2
import json, sys
d = json.load(open(sys.argv[1]))
ab = d["a_to_b"]
print("# emulator a_to_b: rx %d tx %d drops %s; if_a %s if_b %s" %
      (ab["rx_packets"], ab["tx_packets"], ab["drops"], d["if_a"], d["if_b"]))
PY
fwd_gbps=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.3f" % (d["a_to_b"]["tx_bytes"] * 8 / float(sys.argv[2]) / 1e9))' "$tmp/show.json" "$secs")
kill "$emu_pid"
wait "$emu_pid" 2>/dev/null || true
emu_pid=

# The same path through a kernel bridge.
ip -n "$C" link add br0 type bridge
ip -n "$C" link set wa master br0
ip -n "$C" link set wb master br0
ip -n "$C" link set br0 up
for _ in $(seq 50); do
	[ "$(ip -n "$C" -o link show wb | grep -c 'state UP')" = 1 ] &&
		ip netns exec "$A" python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b"x", ("10.99.0.2", 9))' &&
		ip -n "$A" neigh show 10.99.0.2 | grep -q REACHABLE && break
	sleep 0.1
done
read -r bridge_gbps bridge_loss <<<"$(udp_run bridge)"

printf '{"bench":"wanem","seconds":%s,"datagram_bytes":1400,"offered_gbps":1.2,"wanem_gbps":%s,"wanem_loss_pct":%s,"wanem_cpu_s":%s,"wanem_forwarded_gbps":%s,"bridge_gbps":%s,"bridge_loss_pct":%s}\n' \
	"$secs" "$wanem_gbps" "$wanem_loss" "$emu_cpu" "$fwd_gbps" "$bridge_gbps" "$bridge_loss"
