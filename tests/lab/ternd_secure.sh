#!/usr/bin/env bash
# Lab test: peer keys, payload encryption, adaptive encryption and replay protection
# (issue 4) between two ternd routers whose keys ternlab generates.
#
#   a1 --corp-- [a: ternd] --wan0--(core: ternlab-wanem)--wan0-- [b: ternd] --corp-- b1
#   10.1.0.10                192.0.2.1                  192.0.2.2               10.2.0.10
#
# Checks: keys are established; a plain HTTP body never shows on the WAN and arrives
# byte-identical; HTTPS records cross unchanged with no trailer; QUIC- and
# WireGuard-looking UDP crosses with 0 bytes of overhead, plain UDP with 24; a flipped
# bit is dropped as sec-auth-failed and a replay as sec-replay while the session goes
# on; a router holding a wrong peer key gets no session; iperf3 survives several
# rekeys; ternctl shows each session's encryption and the peers' keys.
#
# Usage: tests/lab/ternd_secure.sh [BUILD_DIR]   (root; prints TAP lines)
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:-${TERN_BUILD:-build/gcc}}
source tests/lab/lib/lab.bash
pcap=tests/lab/lib/pcap_check.py
ternctl=$root/$build/src/ctl/ternctl

lab_examples two-sites-secure site-a site-b
lab_up "$work/two-sites-secure.json" "starts both routers with generated keys"
check "the key exchange is established on both sides within 5 s" \
	wait_for 5 bash -c "$(declare -f ctl keys_up); lab=$lab root=$root build=$build; keys_up a && keys_up b"
check "IPv4: a1 pings b1 through encrypting routers" x a1 -- ping -c 3 -i 0.2 -W 2 10.2.0.10
check "IPv6 hosts across the IPv4 WAN: a1 pings b1" x a1 -- ping -6 -c 3 -i 0.2 -W 2 fd00:2::10

# Servers on b1: nginx for HTTP and HTTPS, with a page full of a marker string.
web_start 80 b1.lab.tern
python3 -c "
import os
with open('$work/www/page.txt', 'w') as f:
    for i in range(4000):
        f.write(f'TERN-PLAINTEXT-MARKER line {i} ' + os.urandom(8).hex() + '\n')
"

capture_start a wan0 "$work/http.pcap" "tcp"
check "HTTP: a1 downloads the page from b1" x a1 -- curl -sf -o "$work/http.got" http://10.2.0.10/page.txt
capture_stop
check "HTTP: the download is byte-identical" cmp "$work/http.got" "$work/www/page.txt"
check "HTTP: the WAN capture holds the transfer (over 190 kB of TCP)" test "$(stat -c %s "$work/http.pcap")" -gt 190000
check "HTTP: the marker string never appears on the WAN" python3 $pcap absent "$work/http.pcap" TERN-PLAINTEXT-MARKER

# HTTPS: the server's byte stream on the WAN is exactly what it sent (no trailer).
capture_start a wan0 "$work/https.pcap" "tcp"
wan_dump=$dump
capture_start b1 eth0 "$work/https-lan.pcap" "tcp port 443"
check "HTTPS: a1 downloads the page from b1" x a1 -- curl -sfk -o "$work/https.got" https://10.2.0.10/page.txt
capture_stop "$wan_dump"
capture_stop
check "HTTPS: the download is byte-identical" cmp "$work/https.got" "$work/www/page.txt"
check "TCP MSS: the SYN reaching b1 announces at most 1360 (the 1400-byte host MTU)" python3 - "$work/https-lan.pcap" <<'PY'
import struct, sys
sys.path.insert(0, "tests/lab/lib")
import pcap_check as pc
for ip in pc.packets(sys.argv[1]):
    ihl = (ip[0] & 15) * 4
    tcp = ip[ihl:]
    if ip[9] != 6 or tcp[13] & 0x12 != 0x02:
        continue
    opts, i = tcp[20:(tcp[12] >> 4) * 4], 0
    while i < len(opts) and opts[i] != 0:
        if opts[i] == 1:
            i += 1
            continue
        if opts[i] == 2:
            mss = struct.unpack("!H", opts[i + 2:i + 4])[0]
            assert mss <= 1360, mss
            print("MSS", mss)
            sys.exit(0)
        i += opts[i + 1]
sys.exit("no SYN with an MSS option")
PY
python3 $pcap stream "$work/https-lan.pcap" 443 "$work/tls-lan.bin" >/dev/null 2>&1
# On the WAN the server's packets leave b from a waypoint port: take the side that
# carried the most TCP payload toward a.
check "HTTPS: the TLS records on the WAN equal the server's, with no trailer" python3 - "$work/https.pcap" "$work/tls-lan.bin" <<'PY'
import subprocess, sys, collections
sys.path.insert(0, "tests/lab/lib")
import pcap_check as pc
want = open(sys.argv[2], "rb").read()
by_port = collections.Counter()
for ip in pc.packets(sys.argv[1]):
    p = pc.l4(ip)
    if p and p[0] == 6 and ip[12:16] == bytes([192, 0, 2, 2]):
        by_port[p[1]] += len(p[4])
port = by_port.most_common(1)[0][0]
subprocess.run([sys.executable, "tests/lab/lib/pcap_check.py", "stream", sys.argv[1], str(port), sys.argv[2] + ".wan"], check=True, capture_output=True)
got = open(sys.argv[2] + ".wan", "rb").read()
assert len(want) > 50000, f"LAN stream only {len(want)} bytes"
assert got == want, f"WAN stream {len(got)} bytes, server sent {len(want)}"
PY

# UDP: QUIC- and WireGuard-looking datagrams cross clear (0 bytes more), plain ones
# encrypted (24 bytes more), each echoed back intact.
udp_run() { # udp_run KIND PORT: 10 datagrams a1 -> b1:PORT and back
	x b1 -- timeout 10 python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('10.2.0.10', $2))
s.settimeout(8)
for _ in range(10):
    data, peer = s.recvfrom(2048)
    s.sendto(data, peer)
" &
	local server=$!
	sleep 0.4
	x a1 -- timeout 10 python3 -c "
import os, socket
kind = '$1'
def datagram(i):
    if kind == 'quic':   # a QUIC v1 long header (Initial) and random bytes
        return bytes([0xc3]) + bytes.fromhex('00000001') + bytes([8]) + os.urandom(8) + bytes([0]) + os.urandom(300)
    if kind == 'wireguard':  # a WireGuard transport data message
        return bytes([4, 0, 0, 0]) + os.urandom(4) + i.to_bytes(8, 'little') + os.urandom(208)
    return b'TERN-PLAINTEXT-MARKER ' + os.urandom(200)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('10.1.0.10', $2 + 1))
s.settimeout(3)
for i in range(10):
    d = datagram(i)
    s.sendto(d, ('10.2.0.10', $2))
    assert s.recvfrom(2048)[0] == d
"
	local rc=$?
	wait $server
	return $rc
}
udp_overhead() { # udp_overhead FILE SIZE: every packet without metadata is SIZE bytes
	python3 $pcap udp-sizes "$1" | python3 -c "
import sys
rows = [tuple(map(int, l.split())) for l in sys.stdin]
plain = [r for r in rows if r[2] == 0]
assert len(rows) >= 20, f'{len(rows)} packets'
assert plain, 'every packet carried metadata'
assert all(r[0] == $2 for r in plain), sorted(set(r[0] for r in plain))
"
}
capture_start a wan0 "$work/quic.pcap" "udp portrange 16384-65535"
check "UDP that looks like QUIC: 10 datagrams echo back" udp_run quic 7100
capture_stop
check "UDP that looks like QUIC: 0 bytes of overhead on the WAN" udp_overhead "$work/quic.pcap" 315
capture_start a wan0 "$work/wg.pcap" "udp portrange 16384-65535"
check "UDP that looks like WireGuard: 10 datagrams echo back" udp_run wireguard 7200
capture_stop
check "UDP that looks like WireGuard: 0 bytes of overhead on the WAN" udp_overhead "$work/wg.pcap" 224
capture_start a wan0 "$work/udp.pcap" "udp portrange 16384-65535"
check "plain UDP: 10 datagrams echo back" udp_run plain 7300
capture_stop
check "plain UDP: 24 bytes of overhead on the WAN (222 + 24)" udp_overhead "$work/udp.pcap" 246
check "plain UDP: the marker string never appears on the WAN" python3 $pcap absent "$work/udp.pcap" TERN-PLAINTEXT-MARKER

# Tampering and replay: a datagram a1 -> b1 is lost on the way (the emulator drops it)
# after a's capture saw it. Re-sent with one bit flipped it is dropped as
# sec-auth-failed; re-sent as it was it is delivered once, then dropped as sec-replay.
x b1 -- timeout 20 python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('10.2.0.10', 7500))
s.settimeout(15)
while True:
    data, peer = s.recvfrom(2048)
    open('$work/b1-got.txt', 'ab').write(data + b'\\n')
    s.sendto(data, peer)
" >/dev/null 2>&1 &
tamper_server=$!
sleep 0.4
send_from_a1() { # send_from_a1 TEXT: one datagram to b1:7500 from a1's port 7501
	x a1 -- python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('10.1.0.10', 7501))
s.sendto(b'$1', ('10.2.0.10', 7500))
"
}
capture_start a wan0 "$work/tamper.pcap" "udp portrange 16384-65535 and src host 192.0.2.1"
for i in 1 2 3; do send_from_a1 "before $i"; sleep 0.1; done
timeout 10 "$ternlab" impair --lab "$lab" inet "a-to-b: loss=100%" >/dev/null
send_from_a1 "the lost one"
sleep 0.3
timeout 10 "$ternlab" impair --lab "$lab" inet clear >/dev/null
capture_stop
# "the lost one" is 12 bytes: 36 on the WAN with its trailer.
lost=$(python3 -c "
import sys
sys.path.insert(0, 'tests/lab/lib')
import pcap_check as pc
print([ip for ip in pc.packets('$work/tamper.pcap') if (p := pc.l4(ip)) and len(p[4]) == 36][-1].hex())
")
auth0=$(drop_count b sec-auth-failed)
replay0=$(drop_count b sec-replay)
x a -- python3 tests/lab/lib/wan_inject.py "$lost" 3
sleep 0.3
check "a flipped bit in an encrypted payload: sec-auth-failed +1, nothing delivered" \
	bash -c "test $(drop_count b sec-auth-failed) -eq $((auth0 + 1)) && ! grep -q 'the lost one' $work/b1-got.txt"
x a -- python3 tests/lab/lib/wan_inject.py "$lost"
sleep 0.3
check "the same packet unmodified is delivered" bash -c "grep -q 'the lost one' '$work/b1-got.txt' || { '$ternctl' --socket /run/ternlab/$lab/ternd-b.sock show drops; '$ternctl' --socket /run/ternlab/$lab/ternd-b.sock show sessions; false; }"
x a -- python3 tests/lab/lib/wan_inject.py "$lost"
sleep 0.3
check "the packet replayed: sec-replay +1, delivered only once" \
	bash -c "test $(drop_count b sec-replay) -eq $((replay0 + 1)) && test \$(grep -c 'the lost one' $work/b1-got.txt) -eq 1"
send_from_a1 "after"
sleep 0.3
check "after tampering and replay, the session goes on" grep -q after "$work/b1-got.txt"
kill $tamper_server 2>/dev/null
wait $tamper_server 2>/dev/null

check "ternctl show sessions names encrypted and clear directions" bash -c \
	"'$ternctl' --socket /run/ternlab/$lab/ternd-a.sock show sessions | grep -q 'encrypted (auto)'"
check "ternctl show peers shows the key exchange" bash -c \
	"'$ternctl' --socket /run/ternlab/$lab/ternd-a.sock show peers | grep -qE 'established|rekeying'"

# A reload that keeps the keys rebuilds a's prober and worker: the probes go on above the
# sequences b has seen (before, b refused them as probe-replay until they caught up) and
# the path keeps its state.
path_up() { # path_up SITE: its one path is up
	ctl "$1" show paths | python3 -c "import json,sys; sys.exit(json.load(sys.stdin)['paths'][0]['state'] != 'up')"
}
up_within_ms() { # up_within_ms MS SITE: polls every 50 ms; prints how long it took
	local t0 now
	t0=$(date +%s%N)
	until path_up "$2"; do
		now=$(date +%s%N)
		[ $(((now - t0) / 1000000)) -ge "$1" ] && return 1
		sleep 0.05
	done
	echo $((($(date +%s%N) - t0) / 1000000)) >"$work/up_ms"
}
# Counters never fall at a reload (docs/api.md "Counters and reloads"): every drop
# reason and every counter of status, services and peers' data keys stays at or above
# what it was just before.
counters_save() { # counters_save SITE NAME
	ctl "$1" show drops --all >"$work/$2-drops.json"
	ctl "$1" show status >"$work/$2-status.json"
	ctl "$1" show services >"$work/$2-services.json"
	ctl "$1" show peers >"$work/$2-peers.json"
}
counters_kept() { # counters_kept SITE NAME: none fell since counters_save SITE NAME
	counters_save "$1" "$2-after"
	python3 - "$work/$2" "$work/$2-after" <<'PY'
import json, sys
def flat(prefix):
    out = {}
    for x in json.load(open(prefix + "-drops.json"))["drops"]:
        out["drop " + x["reason"]] = x["count"]
    st = json.load(open(prefix + "-status.json"))
    for k, v in st.items():
        if isinstance(v, int) and k not in ("pid", "sessions", "session_capacity", "uptime_s"):
            out["status " + k] = v
    sv = json.load(open(prefix + "-services.json"))
    for s in sv["services"]:
        for k in ("sessions_total", "bytes_out", "bytes_in"):
            out["service %s %s" % (s["name"], k)] = s[k]
    for k, v in sv["learnt"].items():
        if k != "dns_cache_entries":
            out["learnt " + k] = v
    for p in json.load(open(prefix + "-peers.json"))["peers"]:
        for k, v in p["data_keys"].items():
            out["peer %s %s" % (p["name"], k)] = v
    return out
before, after = flat(sys.argv[1]), flat(sys.argv[2])
fell = ["%s %d -> %d" % (k, v, after.get(k, 0)) for k, v in before.items() if after.get(k, 0) < v]
grown = sum(1 for k, v in before.items() if after.get(k, 0) > v)
print("# %d counters, none fell, %d grew" % (len(before), grown) if not fell else "\n".join(fell))
sys.exit(1 if fell or sum(before.values()) == 0 else 0)
PY
}
# The 100 % loss above took the path down; it is up again after its hold-down (5 s, more
# if it flapped). A reload keeps the prober's state, so the reload must find it up.
check "before the reload a's path is up (after the hold-down of the loss above)" \
	up_within_ms 20000 a
replay0=$(drop_count b probe-replay)
secreplay0=$(drop_count b sec-replay)
counters_save a keep
check "a reload keeping the keys is applied" ctl a reload
check "after the reload a's path is up within 1.5 s (the prober's state is kept)" \
	up_within_ms 1500 a
check "a's counters did not fall at the reload" counters_kept a keep
echo "# a's path up $(cat "$work/up_ms" 2>/dev/null) ms after the reload returned"
sleep 2
replay1=$(drop_count b probe-replay)
check "b refuses none of a's probes after the reload as replays ($replay0 -> $replay1)" \
	test "$replay1" -eq "$replay0"
# The rebuilt worker goes on with the send key's sequence (before, it restarted at 0:
# reused nonces, and b dropped the packets as sec-replay).
check "after the reload a1 reaches b1" x a1 -- ping -c 3 -i 0.2 -W 2 10.2.0.10
check "b drops none of a's packets after the reload as sec-replay" \
	test "$(drop_count b sec-replay)" -eq "$secreplay0"

# Rekey under load: both routers reload with a rekey every 3 s in the middle of 9 s of
# iperf3. A rekey time is a timer, not a property of the keys: the keys in use go on
# across the reload (before, the exchange restarted and the kept session's packets
# dropped as sec-no-key and sec-unknown-key-index until the new handshake).
set_security() { # set_security KEY VALUE: in both sites' configurations
	for s in a b; do
		python3 - "/run/ternlab/$lab/$s.json" "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["router"][sys.argv[2]] = json.loads(sys.argv[3])
json.dump(d, open(sys.argv[1], "w"), indent=1)
PY
	done
}
sec_drops() { echo $(($(drop_count a sec-unknown-key-index) + $(drop_count b sec-unknown-key-index) + $(drop_count a sec-auth-failed) + $(drop_count b sec-auth-failed) + $(drop_count a sec-no-key) + $(drop_count b sec-no-key))); }
rekeys() { # rekeys SITE
	ctl "$1" show peers | python3 -c "import json,sys; print(json.load(sys.stdin)['peers'][0]['security']['rekeys'])"
}
# Counters go on across reloads (docs/api.md): the counts below are differences.
reload_both() {
	ctl a reload >"$work/reload-a.json" 2>&1 && ctl b reload >"$work/reload-b.json" 2>&1
}
set_security rekey_after_s 3
x b1 -- timeout 30 iperf3 -s -1 -B 10.2.0.10 >/dev/null 2>&1 &
server=$!
sleep 0.5
sec0=$(sec_drops)
rekeys0=$(($(rekeys a) + $(rekeys b)))
x a1 -- timeout 25 iperf3 -c 10.2.0.10 -t 9 >"$work/iperf-rekey.txt" 2>&1 &
client=$!
sleep 1.5
check "under load, a reload with a new rekey time is applied on both routers" reload_both
wait $client
client_rc=$?
check "rekey under load: the 9 s iperf3 transfer across the reload completes" bash -c \
	"test $client_rc -eq 0 || { cat '$work/iperf-rekey.txt'; false; }"
wait $server
rekeys1=$(($(rekeys a) + $(rekeys b)))
check "rekey under load: the keys went on and at least 2 rekeys happened ($rekeys0 -> $rekeys1)" test "$rekeys1" -ge $((rekeys0 + 2))
sec1=$(sec_drops)
check "rekey under load: no packet dropped for a missing, unknown or failed key ($sec0 -> $sec1)" test "$sec1" -eq "$sec0"

# A new cipher makes new keys (a key is never used under two algorithms): the sessions
# stay, their packets drop, counted, from a's reload until both routers run the new
# cipher and the new handshake is done (docs/configuration.md, decision 0012).
nonzero_drops() { # nonzero_drops SITE: "reason=count ..." of the counts not 0
	ctl "$1" show drops --all | python3 -c "import json,sys; print(' '.join(f\"{x['reason']}={x['count']}\" for x in json.load(sys.stdin)['drops'] if x['count']))"
}
drop_count_in() { # drop_count_in "reason=count ..." REASON
	local x
	for x in $1; do [ "${x%%=*}" = "$2" ] && echo "${x#*=}" && return; done
	echo 0
}
all_drops() { # all_drops SITE: the packets dropped, any reason but a probe's
	ctl "$1" show drops --all | python3 -c "import json,sys; print(sum(x['count'] for x in json.load(sys.stdin)['drops'] if not x['reason'].startswith('probe-')))"
}
set_security cipher '"chacha20-poly1305"'
a0=$(all_drops a)
b0=$(all_drops b)
b_before="$(nonzero_drops b)"
x a1 -- ping -c 100 -i 0.05 -W 1 10.2.0.10 >"$work/ping-cipher.txt" 2>&1 &
pinger=$!
sleep 1
# b sees a's packets under the new cipher fail for 2 s; its counts go on across its own
# reload, which also ends its key exchange (whose drops stay counted).
ctl a reload >"$work/reload-cipher-a.json" 2>&1
sleep 2
bmid=$(all_drops b)
b_mid="$(nonzero_drops b)"
counters_save b cipher
ctl b reload >"$work/reload-cipher-b.json" 2>&1
check "b's counters did not fall at a reload that restarts the key exchange" counters_kept b cipher
check "a reload with a new cipher is applied on both routers, a's sessions kept" python3 -c "
import json
a = json.load(open('$work/reload-cipher-a.json'))
json.load(open('$work/reload-cipher-b.json'))
assert a['sessions_kept'] >= 1, a"
check "after the cipher change the keys are established again within 5 s" \
	wait_for 5 bash -c "$(declare -f ctl keys_up); lab=$lab root=$root build=$build; keys_up a && keys_up b"
wait $pinger
counted=$(($(all_drops a) - a0 + $(all_drops b) - b0))
lost=$(python3 -c "
import re
t = open('$work/ping-cipher.txt').read()
m = re.search(r'(\d+) packets transmitted, (\d+) received', t)
print(int(m.group(1)) - int(m.group(2)) if m else 999)")
echo "# cipher change: $lost of 100 pings lost, $counted drops counted on a and b (a: $(nonzero_drops a); b before its reload: $b_mid; b after: $(nonzero_drops b))"
check "the cipher change: the kept ping session goes on (its last echo is answered)" \
	bash -c "grep -q 'icmp_seq=100 ' '$work/ping-cipher.txt'"
# 20 pings a second for the 2 s with different ciphers: b counts them (40 expected).
# Not checked yet: the few losses (5 of 50 in our runs) around b's own reload that no
# counter shows.
check "the cipher change: b counts a's pings under a cipher it does not run ($b_mid)" \
	test $(($(drop_count_in "$b_mid" sec-auth-failed) - $(drop_count_in "$b_before" sec-auth-failed))) -ge 30
web_stop

# A router holding the wrong key for its peer gets no session.
timeout 30 "$ternlab" down --lab "$lab" >/dev/null 2>&1
lab=""
wrong=$("$ternctl" genkey | "$ternctl" pubkey)
python3 - "$work/site-b.json" "$wrong" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["peers"][0]["public_key"] = sys.argv[2]
json.dump(d, open(sys.argv[1], "w"), indent=1)
PY
lab_up "$work/two-sites-secure.json" "starts with a wrong key for site a at site b"
sleep 3
check "wrong key: the key exchange is not established" bash -c "! { $(declare -f ctl keys_up); lab=$lab root=$root build=$build; keys_up a; }"
check "wrong key: a1 can not reach b1" bash -c "! timeout 10 $ternlab exec --lab $lab a1 -- ping -c 2 -i 0.3 -W 1 10.2.0.10"
check "wrong key: the handshakes are refused and counted" bash -c \
	"test \$(( $(drop_count a sec-bad-cookie) + $(drop_count b sec-handshake-rejected) + $(drop_count a sec-handshake-rejected) + $(drop_count b sec-bad-cookie) )) -ge 1"
lab_end
