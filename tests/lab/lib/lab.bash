# Shared by the lab tests in tests/lab/ (sourced, never run on its own): TAP checks,
# a ternlab lab that is always torn down, and helpers to reach its nodes.
#
# A test sets `build` (the build directory) and calls lab_up with a topology; lab_end
# tears the lab down, prints the plan line and exits with the tests' status.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
ternlab=$root/tools/ternlab/ternlab
work=$(mktemp -d)
n=0
failed=0
lab=""
bg=() # background processes of the test, ended by stop_bg (and at exit)

# check NAME CMD...: one TAP line; on failure the command's last output lines follow.
check() {
	local name=$1 out
	shift
	n=$((n + 1))
	if out=$("$@" 2>&1); then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		sed 's/^/# /' <<<"$out" | tail -n 8
		failed=1
	fi
}

lab_cleanup() {
	stop_bg
	[ -d "$work" ] && web_stop
	[ -n "$lab" ] && timeout 30 "$ternlab" down --lab "$lab" >/dev/null 2>&1
	[ -n "${KEEP_WORK:-}" ] && echo "# kept $work" >&2 || rm -rf "$work"
}
trap lab_cleanup EXIT INT TERM

# lab_up TOPOLOGY WHAT: builds the lab (one check line); exits when it cannot.
lab_up() {
	local out
	out=$(timeout 60 "$ternlab" up "$1" --build "$build" 2>&1)
	lab=$(sed -n 's/^lab \(tl[0-9a-f]*\) .*/\1/p' <<<"$out" | head -n1)
	check "ternlab up $2" test -n "$lab"
	if [ -z "$lab" ]; then
		sed 's/^/# /' <<<"$out"
		echo "1..$n"
		exit 1
	fi
}

# x NODE -- CMD...: runs CMD in NODE's namespace, bounded in time.
x() { timeout 30 "$ternlab" exec --lab "$lab" "$@"; }

# ctl SITE ARGS...: ternctl --json against the site's ternd.
ctl() { timeout 10 "$root/$build/src/ctl/ternctl" --socket "/run/ternlab/$lab/ternd-$1.sock" --json "${@:2}"; }

# lab_end [NAME CMD...]: tears the lab down, checks no namespace is left (and the
# optional check NAME CMD after it), prints the plan and exits with the result.
lab_end() {
	local gone=$lab
	timeout 30 "$ternlab" down --lab "$lab" >/dev/null 2>&1
	lab=""
	check "down removes every namespace of the lab" bash -c "! ip netns list | grep -q '^$gone-'"
	[ $# -gt 0 ] && check "$@"
	echo "1..$n"
	exit $failed
}

# lab_examples NAME...: copies ternlab's example topologies and configurations
# (tools/ternlab/examples/NAME.json) into $work, for a test to edit before lab_up.
lab_examples() {
	local name
	for name in "$@"; do cp "$root/tools/ternlab/examples/$name.json" "$work/" || return 1; done
}

# xt SECONDS NODE -- CMD...: x with another time limit.
xt() { timeout "$1" "$ternlab" exec --lab "$lab" "${@:2}"; }

now_us() { echo $((${EPOCHREALTIME/./})); }

# wait_for SECONDS CMD...: runs CMD again every 0.1 s until it succeeds (returns 0) or
# SECONDS (a fraction is fine) have passed (returns 1). CMD is run anew each time, so
# it must be a command or a function that asks again, never a value taken once.
wait_for() {
	local end=$(($(now_us) + $(awk "BEGIN { print int($1 * 1000000) }")))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(now_us)" -ge "$end" ] && return 1
		sleep 0.1
	done
}

# stop_bg: ends the test's background processes (the pids in bg) and waits for them.
stop_bg() {
	local p
	for p in "${bg[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${bg[@]}"; do wait "$p" 2>/dev/null; done
	bg=()
}

# sj SITE WHAT EXPR: EXPR (Python, over d) on the JSON of `ternctl show WHAT`.
sj() { ctl "$1" show "$2" | python3 -c "import json,sys; d=json.load(sys.stdin); print($3)"; }

# path_get SITE PATH FIELD: FIELD of the path PATH (its name, e.g. wan0) in `show paths`.
path_get() { sj "$1" paths "next(p['$3'] for p in d['paths'] if p['name'] == '$2')"; }
# state_is SITE PATH STATE: the path's state is STATE (up, down...).
state_is() { test "$(path_get "$1" "$2" state)" = "$3"; }
# both_up SITE: both paths of the two-link topologies (wan0 and wan1) are up.
both_up() { state_is "$1" wan0 up && state_is "$1" wan1 up; }

# drop_count SITE REASON: the site's packets dropped for REASON.
drop_count() {
	ctl "$1" show drops --all | python3 -c "import json,sys; print(sum(x['count'] for x in json.load(sys.stdin)['drops'] if x['reason']=='$2'))"
}

# keys_up SITE: every peer's key exchange is established (or rekeying).
keys_up() {
	ctl "$1" show peers | python3 -c "import json,sys; sys.exit(any(p['security']['state'] not in ('established', 'rekeying') for p in json.load(sys.stdin)['peers']))"
}

# resets NODE: the kernel's TCP reset and abort counters, summed.
resets() {
	x "$1" -- nstat -asz | awk '/^(TcpEstabResets|TcpOutRsts|TcpExtTCPAbortOn[A-Za-z]+) / { n += $2 } END { print n + 0 }'
}

# field FILE KEY: the value of KEY in the JSON object in FILE.
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$@"; }

# no_ternd_left: no ternd of this test's configurations still runs.
no_ternd_left() { ! pgrep -f "ternd --config $work/"; }

# capture_start NODE IF FILE [FILTER...]: tcpdump on NODE's IF into FILE in the background
# (its pid in $dump and in bg). As root (-Z root: tcpdump's own user may not write into
# the test's private directory), packets written as they come (--immediate-mode, -U);
# returns once tcpdump says it listens (1 if it does not within 10 s).
capture_start() {
	local node=$1 dev=$2 file=$3
	shift 3
	rm -f "$file"
	timeout 120 ip netns exec "$lab-$node" tcpdump -Z root --immediate-mode -n -U -B 16384 \
		-i "$dev" -w "$file" "$@" >/dev/null 2>"$file.log" &
	dump=$!
	bg+=("$dump")
	wait_for 10 grep -q "listening on" "$file.log"
}

# capture_stop [PID]: gives the last packets half a second to reach the file, then ends
# the capture PID (default $dump).
capture_stop() {
	local pid=${1:-$dump}
	sleep 0.5
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# pcap_count FILE: the packets in a capture file.
pcap_count() { tcpdump -n -r "$1" 2>/dev/null | wc -l; }

# json_has FIELD=VALUE...: the JSON object on stdin has these fields, compared as text
# (FIELD^=VALUE: starts with VALUE; FIELD~=VALUE: contains it); says which one differs.
json_has() {
	python3 -c "
import json, sys
r = json.load(sys.stdin)
for want in sys.argv[1:]:
    k, v = want.split('=', 1)
    if k.endswith('^'):
        k = k[:-1]
        assert str(r.get(k)).startswith(v), f'{k}: {r.get(k)!r} does not start with {v!r} in {r}'
    elif k.endswith('~'):
        k = k[:-1]
        assert v in str(r.get(k)), f'{k}: {v!r} not in {r.get(k)!r} in {r}'
    else:
        assert str(r.get(k)) == v, f'{k}: {r.get(k)!r} != {v!r} in {r}'
" "$@"
}

# web_start HTTP_PORT CN: nginx on b1 (10.2.0.10) serving $work/www (made here) over HTTP
# on HTTP_PORT and HTTPS on 443 with a self-signed certificate for CN; returns once both
# listen. web_stop ends it (lab_cleanup does too, whatever happened before).
web_start() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=$2" \
		-keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1
	mkdir -p "$work/www"
	cat >"$work/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $work; proxy_temp_path $work; fastcgi_temp_path $work;
	uwsgi_temp_path $work; scgi_temp_path $work;
	server { listen 10.2.0.10:$1; root $work/www; }
	server { listen 10.2.0.10:443 ssl; root $work/www;
		ssl_certificate $work/cert.pem; ssl_certificate_key $work/key.pem; }
}
NGINX
	x b1 -- nginx -c "$work/nginx.conf" &&
		wait_for 5 bash -c "ip netns exec '$lab-b1' ss -ltn | grep -q ':443 ' && ip netns exec '$lab-b1' ss -ltn | grep -q ':$1 '"
}
web_stop() {
	[ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
	rm -f "$work/nginx.pid"
}
