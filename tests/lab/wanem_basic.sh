#!/usr/bin/env bash
# tests/lab/wanem_basic.sh [BUILD_DIR]: ternlab-wanem forwards, delays, drops and
# rate-limits frames between two hosts on one L2 subnet. Run as root.
#
#   ns twan$$-a                  ns twan$$-c (WAN core)                 ns twan$$-b
#  +-------------+            +------------------------------+            +-------------+
#  | eth0        |   veth     | wa  [ternlab-wanem]  wb      |   veth     | eth0        |
#  | 10.99.0.1/24|------------|  (no addresses, no forwarding)|------------| 10.99.0.2/24|
#  +-------------+            +------------------------------+            +-------------+
#
# The emulator is the only path between A and B (if-a is wa, so a_to_b is A to B). Segmentation offload is off on the
# hosts (gso_max_segs 1) so frames are wire-sized. The build directory comes from the
# first argument, else $TERN_BUILD, else build/gcc. Prints TAP lines; exits non-zero if
# any check failed. Every command has a timeout; a trap removes everything on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-${TERN_BUILD:-build/gcc}}
case $build in /*) ;; *) build=$here/$build ;; esac
bin=$build/tools/ternlab/ternlab-wanem
[ -x "$bin" ] || { echo "Bail out! no emulator at $bin (build it first)"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }

pfx=twan$$
A=$pfx-a C=$pfx-c B=$pfx-b
tmp=$(mktemp -d /tmp/wanem_basic.XXXXXX)
ctl=$tmp/ctl.sock
emu_pid=
failed=0
n=0

cleanup() {
	set +e
	[ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null
	for ns in "$A" "$B" "$C"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; [ $# -lt 2 ] || echo "# $2"; }
check() { # check NAME CMD...: ok if CMD succeeds
	local name=$1; shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}
inA() { timeout 30 ip netns exec "$A" "$@"; }
# This machine has no ping(8): a small ICMP echo client. ping_a COUNT WAIT_S prints
# "received min_ms max_ms" and succeeds if any reply came back.
cat >"$tmp/ping.py" <<'PY'
import os, socket, struct, sys, time
dst, count, wait = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
ident, rtts = os.getpid() & 0xFFFF, []
def csum(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    t = (t >> 16) + (t & 0xFFFF); t += t >> 16
    return ~t & 0xFFFF
for seq in range(count):
    body = struct.pack("!d", time.monotonic()) + bytes(48)
    hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    s.sendto(struct.pack("!BBHHH", 8, 0, csum(hdr + body), ident, seq) + body, (dst, 0))
    end = time.monotonic() + wait
    while (left := end - time.monotonic()) > 0:
        s.settimeout(left)
        try:
            pkt = s.recv(2048)
        except socket.timeout:
            break
        ihl = (pkt[0] & 15) * 4
        t, c, _, i, q = struct.unpack("!BBHHH", pkt[ihl:ihl + 8])
        if t == 0 and i == ident and q == seq:
            rtts.append((time.monotonic() - struct.unpack("!d", pkt[ihl + 8:ihl + 16])[0]) * 1e3)
            break
    time.sleep(0.2)
print(len(rtts), "%.3f" % min(rtts or [0]), "%.3f" % max(rtts or [0]))
sys.exit(0 if rtts else 1)
PY
ping_a() { timeout 60 ip netns exec "$A" python3 "$tmp/ping.py" 10.99.0.2 "$@"; }
ping_q() { ping_a "$@" >/dev/null; }
inB() { timeout 30 ip netns exec "$B" "$@"; }
emu() { timeout 10 "$bin" --control "$ctl" --send "$*"; }

# shellcheck source=tests/lab/lib/wanem_pair.bash
source "$here/tests/lab/lib/wanem_pair.bash"
wanem_pair_up "$A" "$C" "$B"

ip netns exec "$C" timeout 600 "$bin" --if-a wa --if-b wb --control "$ctl" --seed 1 \
	--log-level warning &
emu_pid=$!
for _ in $(seq 50); do [ -S "$ctl" ] && break; sleep 0.1; done
[ -S "$ctl" ] || { echo "Bail out! the emulator did not start"; exit 1; }

echo "1..11"
check "ping through the emulator" ping_q 3 2

# RTT bounds: both directions carry the delay, so 2 x 50 ms.
emu delay=50ms >/dev/null
read -r got rmin rmax <<<"$(ping_a 5 2 || echo 0 0 0)"
if awk -v g="$got" -v a="$rmin" -v b="$rmax" 'BEGIN { exit !(g == 5 && a >= 100 && b < 200) }'; then
	ok "delay=50ms gives an RTT in [100, 200) ms (min $rmin, max $rmax)"
else
	not_ok "delay=50ms gives an RTT in [100, 200) ms" "$got replies, min $rmin max $rmax"
fi

emu loss=100% >/dev/null
check "loss=100% stops pings" bash -c "! timeout 30 ip netns exec $A python3 $tmp/ping.py 10.99.0.2 3 1 >/dev/null"
emu clear outage >/dev/null
check "outage stops pings" bash -c "! timeout 30 ip netns exec $A python3 $tmp/ping.py 10.99.0.2 3 1 >/dev/null"
show=$(emu show)
check "show counts outage drops" bash -c "echo '$show' | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d[\"a_to_b\"][\"drops\"][\"outage\"] >= 3 and d[\"params\"][\"outage\"] else 1)'"
emu clear >/dev/null
check "clear restores the link" ping_q 3 2

# One direction only: lose what B sends (the echo replies), keep what A sends (the
# requests). Ping needs both ways, so the counters tell the directions apart.
before=$(emu show)
emu b-to-a: loss=100% >/dev/null
check "b-to-a: loss=100% stops pings" bash -c "! timeout 30 ip netns exec $A python3 $tmp/ping.py 10.99.0.2 3 1 >/dev/null"
after=$(emu show)
one_way() {
	BEFORE=$before AFTER=$after python3 -c '
import json, os, sys
b, a = json.loads(os.environ["BEFORE"]), json.loads(os.environ["AFTER"])
ok = (a["command"] == "b-to-a: loss=100%" and a["params"] is None
      and a["a_to_b"]["params"]["loss_ppm"] == 0 and a["b_to_a"]["params"]["loss_ppm"] == 1000000
      and a["a_to_b"]["tx_packets"] - b["a_to_b"]["tx_packets"] >= 3
      and a["a_to_b"]["drops"]["loss"] == b["a_to_b"]["drops"]["loss"]
      and a["b_to_a"]["drops"]["loss"] - b["b_to_a"]["drops"]["loss"] >= 3)
sys.exit(0 if ok else 1)'
}
if one_way; then
	ok "b-to-a: loss=100%: a_to_b forwards, b_to_a drops (show counters)"
else
	not_ok "b-to-a: loss=100%: a_to_b forwards, b_to_a drops (show counters)" "show: $after"
fi
emu clear >/dev/null

check "a bad command is refused with the word" bash -c "timeout 10 $bin --control $ctl --send 'delay=5xs' 2>&1 | grep -qF 'delay=5xs: unknown time unit'"

# Rate: a TCP run through a 10 Mbit/s link with a 100-packet queue (a deep queue would
# only add delay). Receiver-side throughput.
emu rate=10mbit queue=100 >/dev/null
inB iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
srv=$!
for _ in $(seq 50); do
	inB ss -ltn 2>/dev/null | grep -q ':5201 ' && break
	sleep 0.1
done
mbps=$(inA iperf3 -c 10.99.0.2 -p 5201 -t 5 -J 2>/dev/null |
	python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6))' 2>/dev/null) || mbps=0
wait "$srv" 2>/dev/null || true
if awk -v m="$mbps" 'BEGIN { exit !(m >= 7 && m <= 11) }'; then
	ok "rate=10mbit: TCP gets $mbps Mbit/s (7 to 11)"
else
	not_ok "rate=10mbit: TCP gets 7 to 11 Mbit/s" "measured $mbps Mbit/s"
fi

kill "$emu_pid"
wait "$emu_pid" && rc=0 || rc=$?
emu_pid=
check "SIGTERM stops the emulator cleanly and removes its socket (status $rc)" \
	bash -c "[ $rc = 0 ] && [ ! -e $ctl ]"

[ "$failed" = 0 ] || { echo "# $failed of $n checks failed"; exit 1; }
