#!/usr/bin/env bash
# bench_encryption: Tern's encryption against the user-space encrypted tunnels that run
# on this kernel, side by side in one run, between the same two router namespaces of
# a two-site ternlab lab (host, router, WAN emulator, router, host; no impairment):
#
#   tern         ternd with keys, every service "encryption": "auto"
#   tern_plain   the same with "encryption": "off": the ceiling for tern
#   wireguard_go kernel-routing routers, each running wireguard-go over TUN (Debian's
#                0.0.20220316, a 2022 build)
#   ipsec        kernel-routing routers, each running strongSwan's charon with the
#                kernel-libipsec plugin: user-space ESP (AES-256-GCM) in UDP 4500
#
# For each: iperf3 TCP a1 -> b1 with 1 and 4 streams, iperf3 UDP of 1400-byte IP
# packets (1372-byte payloads, which fit every tunnel's MTU) offered at 1 Gbit/s
# (what arrives is reported), CPU seconds per GB during the 1-stream TCP run (the whole
# machine's busy time from /proc/stat, as bench_forwarding), the rates of an HTTP and
# an HTTPS download of 64 MiB (nginx on b1, a self-signed certificate made for the
# run), and the WAN bytes per packet beyond the host's own IP packet for an HTTP and
# an HTTPS download of 32 MiB and a VoIP-like stream (60-byte UDP payloads at 50 per
# second for 5 s, a1 -> b1): tcpdump on the LAN bridge and the WAN interface of the
# router the data enters by, paired packet by packet (bench/encryption/overhead.py).
#
# Tern's secure topologies (two-sites-secure.json, two-sites-secure-plain.json) are
# used when they exist; until then both tern rows run two-sites.json and the result
# says "provisional": true.
#
# Usage: bench/bench_encryption.sh BUILD_DIR [SECONDS] [VARIANTS...]   (root)
#   SECONDS: length of each iperf3 run (default 5); VARIANTS: a subset of
#   tern tern_plain wireguard_go ipsec (default all four).
# Prints human lines, then one JSON object as the last line.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${1:?usage: bench/bench_encryption.sh BUILD_DIR [SECONDS] [VARIANTS...]}
seconds=${2:-5}
shift $(($# >= 2 ? 2 : 1))
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(tern tern_plain wireguard_go ipsec)
for v in "${variants[@]}"; do
	case $v in tern | tern_plain | wireguard_go | ipsec) ;; *)
		echo "bench_encryption: unknown variant $v" >&2
		exit 2
		;;
	esac
done
if [ "$(id -u)" -ne 0 ]; then
	echo "bench_encryption: run as root (the lab uses network namespaces)" >&2
	exit 1
fi
for tool in wireguard-go wg swanctl /usr/lib/ipsec/charon nginx iperf3 tcpdump openssl; do
	command -v "$tool" >/dev/null || {
		echo "bench_encryption: $tool is missing (scripts/bootstrap installs it)" >&2
		exit 1
	}
done

ternlab=tools/ternlab/ternlab
examples=tools/ternlab/examples
enc=bench/encryption
work=$(mktemp -d /tmp/tern-bench-encryption.XXXXXX)
lab=""
bg_pids=()
cap_pids=()
source "$enc/peers.sh"

x() { $ternlab exec --lab "$lab" "$@"; }

# run_fg CMD...: CMD in the background, waited for: bash runs a trap only between
# commands, and a command under timeout(1) does not get the terminal's ^C (timeout
# gives it a process group of its own), so a plain foreground run would hold ^C or a
# TERM back until it ended. lab_end then stops it with the lab.
run_fg() {
	"$@" &
	wait $!
}

stop_bg() {
	local p
	bg_pids+=("${cap_pids[@]}")
	cap_pids=()
	for p in "${bg_pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${bg_pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	bg_pids=()
}

lab_end() {
	stop_bg
	peers_down
	if [ -n "$lab" ]; then
		$ternlab down --lab "$lab" >/dev/null 2>&1 || true
		lab=""
	fi
}
# TERN_BENCH_KEEP=1 keeps the captures, logs and iperf3 output for a look afterwards.
trap 'lab_end; [ "${TERN_BENCH_KEEP:-0}" = 1 ] && echo "kept $work" >&2 || rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# The capture analysis checks itself first, on captures it makes up.
python3 "$enc/test_overhead.py" >"$work/test_overhead.out" 2>&1 || {
	cat "$work/test_overhead.out" >&2
	echo "bench_encryption: bench/encryption/overhead.py fails its own test" >&2
	exit 1
}

if [ -f "$examples/two-sites-secure.json" ] && [ -f "$examples/two-sites-secure-plain.json" ]; then
	tern_topo=$examples/two-sites-secure.json
	tern_plain_topo=$examples/two-sites-secure-plain.json
	provisional=false
else
	tern_topo=$examples/two-sites.json
	tern_plain_topo=$examples/two-sites.json
	provisional=true
	echo "PROVISIONAL: no two-sites-secure*.json yet; tern and tern_plain both run two-sites.json (no encryption)"
fi

busy_ticks() { awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }

# The servers' content, made once: downloads of 64 MiB (rates) and 32 MiB (captured),
# and a self-signed certificate.
mkdir -p "$work/www"
head -c $((64 * 1024 * 1024)) /dev/urandom >"$work/www/big.bin"
head -c $((32 * 1024 * 1024)) "$work/www/big.bin" >"$work/www/file.bin"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=b1.bench.tern" \
	-keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1
cat >"$work/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $work; proxy_temp_path $work; fastcgi_temp_path $work;
	uwsgi_temp_path $work; scgi_temp_path $work;
	server { listen 10.2.0.10:80; root $work/www; }
	server { listen 10.2.0.10:443 ssl; root $work/www;
		ssl_certificate $work/cert.pem; ssl_certificate_key $work/key.pem; }
}
EOF

# iperf3 NAME ARGS...: one client run a1 -> b1 (a server is up on b1), JSON to a file.
iperf3_run() {
	local name=$1
	shift
	run_fg timeout $((seconds + 20)) $ternlab exec --lab "$lab" a1 -- \
		iperf3 -c 10.2.0.10 -t "$seconds" -J "$@" >"$work/$variant-$name.json" 2>"$work/$variant-$name.err" || {
		echo "  $name: iperf3 failed" >&2
		return 0
	}
}

# capture_start ROUTER NAME: tcpdump on the router's LAN bridge and WAN interface, to
# $work/NAME-corp.pcap and $work/NAME-wan0.pcap. Immediate mode, so that the last
# packets are not still in a ring block when capture_stop ends it.
capture_start() {
	local ifname
	cap_name=$2
	for ifname in corp wan0; do
		timeout 60 $ternlab exec --lab "$lab" "$1" -- tcpdump -n -U --immediate-mode -Z root \
			-s 128 -B 8192 -i "$ifname" -w "$work/$cap_name-$ifname.pcap" ip \
			>"$work/$cap_name-$ifname.log" 2>&1 &
		cap_pids+=($!)
	done
	for ifname in corp wan0; do
		wait_until 10 grep -q "listening on" "$work/$cap_name-$ifname.log" || {
			echo "tcpdump did not start on $ifname" >&2
			return 1
		}
	done
}

capture_stop() {
	local p
	sleep 0.5
	for p in "${cap_pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${cap_pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	cap_pids=()
	grep -h "dropped by kernel" "$work/$cap_name"-*.log | grep -qv "^0 " &&
		echo "  warning: tcpdump dropped packets in $cap_name: $(grep -h 'dropped by kernel' "$work/$cap_name"-*.log | tr '\n' ' ')" >&2
	return 0
}

# overhead NAME ARGS...: the analysis of capture $variant-NAME, to $work/$variant-ovh-NAME.json.
overhead() {
	local name=$1
	shift
	python3 "$enc/overhead.py" "$work/$variant-$name-corp.pcap" "$work/$variant-$name-wan0.pcap" \
		--carrier "$carrier" "$@" \
		>"$work/$variant-ovh-$name.json"
}

# run_variant VARIANT: one lab, every measurement, the lab torn down. Runs in an ||
# list (so errexit is off inside it): each step that must work says so.
run_variant() {
	variant=$1
	local topo out t0 t1 proto url
	case $variant in
	tern) topo=$tern_topo carrier=tern ;;
	tern_plain) topo=$tern_plain_topo carrier=tern ;;
	wireguard_go) topo=$examples/two-sites-kernel.json carrier=wg ;;
	ipsec) topo=$examples/two-sites-kernel.json carrier=esp ;;
	esac
	echo "== $variant ($(basename "$topo"))"
	out=$($ternlab up "$topo" --build "$build") || return 1
	lab=$(sed -n 's/^lab \(tl[0-9a-f]*\) .*/\1/p' <<<"$out" | head -n1)
	case $variant in
	wireguard_go) wg_up || return 1 ;;
	ipsec) ipsec_up || return 1 ;;
	esac
	$ternlab exec --lab "$lab" b1 -- iperf3 -s -B 10.2.0.10 >"$work/iperf3-server.log" 2>&1 &
	bg_pids+=($!)
	$ternlab exec --lab "$lab" b1 -- nginx -c "$work/nginx.conf" >"$work/nginx.out" 2>&1 &
	bg_pids+=($!)
	wait_until 10 x a1 -- ping -c 1 -W 1 10.2.0.10 || {
		echo "no path a1 -> b1 in $variant" >&2
		return 1
	}
	wait_until 10 x a1 -- curl -s -o /dev/null --max-time 2 http://10.2.0.10/ || true

	t0=$(busy_ticks)
	iperf3_run tcp1 -P 1
	t1=$(busy_ticks)
	echo "$t0 $t1 $(getconf CLK_TCK)" >"$work/$variant-cpu.txt"
	iperf3_run tcp4 -P 4
	iperf3_run udp1400 -u -l 1372 -b 1G
	# Download rates, 64 MiB each.
	for proto in http https; do
		run_fg timeout 60 $ternlab exec --lab "$lab" a1 -- curl -sk --max-time 50 -o /dev/null \
			-w "%{size_download} %{time_total}\n" "$proto://10.2.0.10/big.bin" \
			>"$work/$variant-$proto.txt" || true
	done

	# Overhead. From here on the hosts send wire-sized packets, so the LAN capture sees
	# each packet as the router forwards it, not a 64 KB offloaded super-packet. (Not
	# for the rates above: segmenting in the hosts' stacks costs the shared cores
	# about half of every row's TCP rate.)
	for h in a1 b1; do
		x "$h" -- ip link set dev eth0 gso_max_segs 1 gso_max_size 1500
	done
	# HTTP and HTTPS downloads of 32 MiB b1 -> a1: the data enters at router b.
	for proto in http https; do
		capture_start b "$variant-$proto" || return 1
		run_fg timeout 60 $ternlab exec --lab "$lab" a1 -- curl -sk --max-time 50 -o /dev/null \
			"$proto://10.2.0.10/file.bin" || true
		capture_stop
		overhead "$proto" --lan 10.2.0.10 10.1.0.10 --proto tcp \
			--port "$([ $proto = http ] && echo 80 || echo 443)" --wan 192.0.2.2 192.0.2.1
	done
	# VoIP a1 -> b1: the data enters at router a.
	timeout 20 $ternlab exec --lab "$lab" b1 -- python3 "$root/$enc/voip.py" recv 10.2.0.10 16384 15 \
		>"$work/$variant-voip-recv.txt" 2>&1 &
	bg_pids+=($!)
	capture_start a "$variant-voip" || return 1
	run_fg timeout 20 $ternlab exec --lab "$lab" a1 -- python3 "$root/$enc/voip.py" send 10.2.0.10 16384 5 \
		>"$work/$variant-voip-send.txt" || true
	capture_stop
	overhead voip --lan 10.1.0.10 10.2.0.10 --proto udp --port 16384 --wan 192.0.2.1 192.0.2.2

	lab_end
	python3 "$enc/summary.py" row "$work" "$variant"
}

for v in "${variants[@]}"; do
	run_variant "$v" || {
		echo "$v: FAILED (its figures are null; logs were in $work)" >&2
		lab_end
	}
done
python3 "$enc/summary.py" total "$work" "$seconds" "$provisional" \
	"$(basename "$tern_topo")" "$(basename "$tern_plain_topo")" "${variants[@]}"
