#!/usr/bin/env bash
# Lab test: the UDP transform (svr-profile section 5, docs/protocol.md section 15)
# through a middlebox that drops TCP SYNs carrying data, configured and detected.
#
#   a1 --corp-- [a: ternd] --wan0--(core: ternlab-wanem drop-syn-data)--wan0-- [b: ternd] --corp-- b1
#   10.1.0.10              192.0.2.1                                  192.0.2.2              10.2.0.10
#
# The emulator of link inet plays the middlebox (`drop-syn-data`): every SVR SYN (and
# SYN-ACK) carries metadata as data, so it is dropped there.
#
# Checks:
#   baseline    without the middlebox, TCP from a1 to b1 works on plain TCP carriage.
#   middlebox   with it and no transform, a TCP connection fails; the emulator counts
#               syn-data drops, and the capture shows site a's SYNs leaving as TCP.
#   configured  "udp_transform": true on site a's path (reload): curl and iperf3 work
#               (IPv4 and IPv6 hosts); every inter-router packet of them is UDP on
#               waypoint ports (no TCP at all); show paths says on / udp.
#   detected    "udp_transform": "auto" (reload): show paths says auto / tcp; a curl
#               connects within 8 s (the third SYN, after 1 s and 3 s of Linux's
#               retransmission timer, goes as UDP); show events has
#               udp-transform-detected; show paths says udp; the next connection takes
#               under 2 s (it starts as UDP).
#
# Usage: tests/lab/ternd_udp_transform.sh [BUILD_DIR]   (root; prints TAP lines; ~1 min)
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:-${TERN_BUILD:-build/gcc}}
source tests/lab/lib/lab.bash

impair() { timeout 10 "$ternlab" impair --lab "$lab" inet "$@" >/dev/null; }
# transform VALUE: site a's path gets "udp_transform": VALUE (JSON), then a reload.
transform() {
	python3 - "$work/site-a.json" "$1" <<'PY'
import json, sys
path, value = sys.argv[1], json.loads(sys.argv[2])
cfg = json.load(open(path))
cfg["peers"][0]["paths"][0]["udp_transform"] = value
json.dump(cfg, open(path, "w"), indent=1)
PY
	ctl a reload >/dev/null
}
# path_is FIELD=VALUE...: site a's path wan0 has these fields in show paths.
path_is() {
	ctl a show paths | python3 -c "
import json, sys
p = next(p for p in json.load(sys.stdin)['paths'] if p['name'] == 'wan0')
for want in sys.argv[1:]:
    k, v = want.split('=', 1)
    assert str(p.get(k)) == v, f'{k}: {p.get(k)!r} != {v!r} in {p}'
" "$@"
}
path_up() { path_is state=up; }
syn_data_drops() { # syn_data_drops: the emulator's syn-data drops from site a
	timeout 10 "$ternlab" status --lab "$lab" --json |
		python3 -c "import json,sys; print(json.load(sys.stdin)['links']['inet']['a_to_b']['drops']['syn-data'])"
}
events_have() { ctl a show events | grep -q "\"$1\""; }
# curl_b1 SECONDS [ADDR]: one HTTP GET from a1 to b1's server, bounded.
no_curl_b1() { ! curl_b1 "$@"; }
curl_b1() {
	x a1 -- curl -sSf -o /dev/null -g --connect-timeout "$1" -m $(($1 + 5)) "http://${2:-10.2.0.10}:8080/"
}

lab_examples two-sites site-a site-b
lab_up "$work/two-sites.json" "starts both routers"
check "the path is up at site a within 10 s" wait_for 10 path_up
# An HTTP server on b1 for the whole test (IPv4 and IPv6).
# (not x: its 30 s limit would stop the server mid-test)
timeout 170 "$ternlab" exec --lab "$lab" b1 -- python3 -m http.server 8080 --bind :: >/dev/null 2>&1 &
bg+=($!)
check "the server on b1 listens within 5 s" wait_for 5 x b1 -- bash -c "ss -ltn | grep -q ':8080'"

# ---- baseline ---------------------------------------------------------------------------
check "baseline: a1 fetches from b1 over TCP" curl_b1 3
check "baseline: show paths says udp_transform off, carriage tcp" path_is udp_transform=off carriage=tcp

# ---- the middlebox, no transform ---------------------------------------------------------
check "the emulator takes drop-syn-data" impair drop-syn-data
capture_start a wan0 "$work/plain.pcap" "tcp"
check "middlebox, no transform: a1 cannot connect to b1 (4 s)" no_curl_b1 4
capture_stop
check "middlebox: the emulator counts syn-data drops" test "$(syn_data_drops)" -ge 2
check "middlebox: site a's SYNs left as TCP with data (the capture)" python3 -c "
import subprocess, sys
out = subprocess.run(['tcpdump', '-n', '-r', sys.argv[1], 'tcp[tcpflags] & tcp-syn != 0'],
                     capture_output=True, text=True).stdout.splitlines()
print(len(out), out[:2])
assert len(out) >= 2 and all('length 0' not in l for l in out), out
" "$work/plain.pcap"

# ---- configured: "udp_transform": true ---------------------------------------------------
check "reload with udp_transform true is accepted" transform true
check "the path is up again within 20 s" wait_for 20 path_up
check "configured: show paths says udp_transform on, carriage udp" path_is udp_transform=on carriage=udp
capture_start a wan0 "$work/udp.pcap" "not udp port 1280"
check "configured: a1 fetches from b1 through the middlebox" curl_b1 3
check "configured: IPv6 hosts, a1 fetches from b1" curl_b1 3 "[fd00:2::10]"
x b1 -- timeout 20 iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
bg+=($!)
sleep 0.5
check "configured: iperf3 TCP runs 2 s from a1 to b1" x a1 -- timeout 15 iperf3 -c 10.2.0.10 -t 2
capture_stop
check "configured: every inter-router packet is UDP on waypoint ports, none TCP" python3 -c "
import subprocess, sys
lines = subprocess.run(['tcpdump', '-n', '-r', sys.argv[1]], capture_output=True,
                       text=True).stdout.splitlines()
ip = [l for l in lines if ' IP ' in l]
udp = [l for l in ip if ': UDP, length' in l]
print(len(ip), 'IP packets,', len(udp), 'UDP')
assert len(udp) >= 20, lines[:5]
assert len(udp) == len(ip), [l for l in ip if l not in udp][:3]
for l in udp:
    src, dst = l.split(' IP ')[1].split(':')[0].split(' > ')
    ports = [int(src.rsplit('.', 1)[1]), int(dst.rsplit('.', 1)[1])]
    assert all(p >= 16384 for p in ports), l
" "$work/udp.pcap"

# ---- detected: "udp_transform": "auto" ---------------------------------------------------
check "reload with udp_transform auto is accepted" transform '"auto"'
check "the path is up again within 20 s" wait_for 20 path_up
check "auto: show paths says udp_transform auto, carriage tcp" path_is udp_transform=auto carriage=tcp
drops_before=$(syn_data_drops)
start=$SECONDS
check "auto: a1 connects to b1 through the middlebox within 8 s" curl_b1 8
took=$((SECONDS - start))
echo "# detection: connected after about $took s"
check "auto: SYNs were dropped first (the detection's signal)" test "$(syn_data_drops)" -ge $((drops_before + 2))
check "auto: show events has udp-transform-detected" events_have udp-transform-detected
check "auto: show paths now says carriage udp" path_is udp_transform=auto carriage=udp
drops_before=$(syn_data_drops)
check "auto: the next connection starts as UDP (under 2 s)" curl_b1 2
check "auto: no SYN of it was dropped" test "$(syn_data_drops)" -eq "$drops_before"

stop_bg
lab_end
