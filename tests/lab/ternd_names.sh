#!/usr/bin/env bash
# Lab test: services by domain name (DNS answers seen, and names ternd resolves itself),
# by TLS SNI, applications named by nDPI, and the per service/tenant/app statistics.
#
#   a1 --corp-- [a: ternd] --wan0--(core: ternlab-wanem)--wan0-- [b: ternd] --corp-- b1
#   10.1.0.10   tern-corp  192.0.2.1                    192.0.2.2  tern-corp     10.2.0.10
#
# b1 runs a DNS responder (tests/lab/lib/dns_server.py: app.corp.example and
# res.corp.example, TTL 20 s) and nginx (HTTP on 8080, HTTPS on 443, self-signed).
# Site a's services (all to peer site-b; only "b-net" has no allow, so it stands for
# "not a named service", refused by default deny, and gives the kernel its route):
#   dns       10.2.0.10/32 udp/53         app       *.corp.example tcp/8080
#   web       10.2.0.10/32 tcp/443        resolved  res.corp.example tcp/8080
#   secure    secure.corp.example tcp/443 b-net     10.2.0.0/24 (no rule)
# Checks:
#   dns       before a1 asks, HTTP to 10.2.0.10:8080 is refused (policy-no-rule, b-net);
#             a1 resolves app.corp.example through the router; the same connection is
#             then service app and works; 10.2.0.11:8080, which nobody named, stays
#             refused. `policy test` says so each time.
#   resolver  site a resolves res.corp.example itself (dns.servers: b1): 10.2.0.12 is
#             service resolved, live and in the what-if.
#   sni       the FIRST HTTPS connection to 10.2.0.10 (curl with the name secure.corp.
#             example, no DNS) is decided at its SYN: service web; its ClientHello
#             teaches site a the name; the SECOND connection is service secure. The
#             what-if says web before, secure after (no --sni), and secure with --sni.
#   stats     show services/tenants/apps count those sessions and their bytes; nDPI
#             names HTTP and TLS.
#
# Usage: tests/lab/ternd_names.sh [BUILD_DIR]   (root; prints TAP lines; ~1 min)
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:-${TERN_BUILD:-build/gcc}}
source tests/lab/lib/lab.bash
dnsd=$root/tests/lab/lib/dns_server.py

lab_examples two-sites
cat >"$work/site-a.json" <<'EOF'
{ "router": { "name": "site-a" },
  "tenants": [ { "name": "corp" } ],
  "lan": [ { "name": "corp", "tenant": "corp", "device": "tern-corp",
             "address": "10.1.0.1/24", "prefixes": ["10.1.0.0/24"] } ],
  "wan": [ { "name": "wan0", "device": "wan0", "waypoint": "192.0.2.1" } ],
  "peers": [ { "name": "site-b", "paths": [ { "wan": "wan0", "remote": "192.0.2.2" } ] } ],
  "services": [
    { "name": "dns", "prefixes": ["10.2.0.10/32"], "ports": ["udp/53"], "access": ["corp"],
      "route": { "peer": "site-b" } },
    { "name": "app", "domains": ["*.corp.example"], "ports": ["tcp/8080"], "access": ["corp"],
      "route": { "peer": "site-b" } },
    { "name": "resolved", "domains": ["res.corp.example"], "ports": ["tcp/8080"],
      "access": ["corp"], "route": { "peer": "site-b" } },
    { "name": "web", "prefixes": ["10.2.0.10/32"], "ports": ["tcp/443"], "access": ["corp"],
      "route": { "peer": "site-b" } },
    { "name": "secure", "domains": ["secure.corp.example"], "ports": ["tcp/443"],
      "access": ["corp"], "route": { "peer": "site-b" } },
    { "name": "b-net", "prefixes": ["10.2.0.0/24"], "route": { "peer": "site-b" } },
    { "name": "a-servers", "prefixes": ["10.1.0.0/24"], "access": ["corp"],
      "route": { "lan": "corp" } } ],
  "dns": { "servers": ["10.2.0.10"], "min_ttl_s": 10, "max_ttl_s": 60 } }
EOF
cat >"$work/site-b.json" <<'EOF'
{ "router": { "name": "site-b" },
  "tenants": [ { "name": "corp" } ],
  "lan": [ { "name": "corp", "tenant": "corp", "device": "tern-corp",
             "address": "10.2.0.1/24", "prefixes": ["10.2.0.0/24"] } ],
  "wan": [ { "name": "wan0", "device": "wan0", "waypoint": "192.0.2.2" } ],
  "peers": [ { "name": "site-a", "paths": [ { "wan": "wan0", "remote": "192.0.2.1" } ] } ],
  "services": [
    { "name": "dns", "prefixes": ["10.2.0.10/32"], "access": ["corp"], "route": { "lan": "corp" } },
    { "name": "app", "domains": ["*.corp.example"], "access": ["corp"], "route": { "lan": "corp" } },
    { "name": "resolved", "domains": ["res.corp.example"], "access": ["corp"],
      "route": { "lan": "corp" } },
    { "name": "web", "prefixes": ["10.2.0.10/32"], "access": ["corp"], "route": { "lan": "corp" } },
    { "name": "secure", "domains": ["secure.corp.example"], "access": ["corp"],
      "route": { "lan": "corp" } },
    { "name": "a-servers", "prefixes": ["10.1.0.0/24"], "access": ["corp"],
      "route": { "peer": "site-a" } } ],
  "dns": { "servers": ["10.2.0.10"] } }
EOF

# count SITE WHAT NAME FIELD: FIELD of the row NAME of `show WHAT` (services, tenants, apps).
count() { sj "$1" "$2" "sum(r['$4'] for r in d['$2'] if r['name'] == '$3')"; }
# what_if DST PORT [--sni NAME] -- FIELD=VALUE...: `policy test` for a1 -> DST:PORT (tcp).
what_if() {
	local dst=$1 port=$2 extra=()
	shift 2
	while [ "$1" != "--" ]; do extra+=("$1"); shift; done
	shift
	ctl a policy test --tenant corp --src 10.1.0.10 --dst "$dst" --proto tcp --port "$port" \
		"${extra[@]}" | json_has "$@"
}
http_get() { x a1 -- curl -sf -m 3 -o /dev/null "http://$1:8080/"; }
no_http_get() { ! x a1 -- curl -sf -m 2 -o /dev/null "http://$1:8080/"; }
https_secure() {
	x a1 -- curl -sfk -m 5 -o /dev/null --resolve secure.corp.example:443:10.2.0.10 \
		https://secure.corp.example/
}

lab_up "$work/two-sites.json" "starts both routers with services by name"

# Servers on b1: the DNS responder, nginx for HTTP (8080) and HTTPS (443).
timeout 170 "$ternlab" exec --lab "$lab" b1 -- python3 "$dnsd" serve 10.2.0.10 --ttl 20 \
	app.corp.example=10.2.0.10 res.corp.example=10.2.0.12 2>"$work/dns.log" &
bg+=($!)
web_start 8080 secure.corp.example
echo "hello from b1" >"$work/www/index.html"
path_up() { test "$(sj a paths "d['paths'][0]['state']")" = up; }
check "the path between the sites comes up" wait_for 15 path_up

# 1. A name learnt from a DNS answer crossing site a.
check "dns: before any answer, policy test says b-net, no-rule" \
	what_if 10.2.0.10 8080 -- service=b-net verdict=no-rule drop=policy-no-rule
before=$(drop_count a policy-no-rule)
check "dns: before any answer, a1's HTTP to 10.2.0.10:8080 is refused" no_http_get 10.2.0.10
check "dns: ... and counted under policy-no-rule" test "$(drop_count a policy-no-rule)" -gt "$before"
check "dns: a1 resolves app.corp.example through the router" bash -c \
	"timeout 30 $ternlab exec --lab $lab a1 -- python3 $dnsd query 10.2.0.10 app.corp.example | grep -qx 10.2.0.10"
check "dns: site a learnt the answer's record" \
	test "$(sj a services "d['learnt']['dns_records']")" -ge 1
check "dns: policy test now says service app (by the DNS name), allow" \
	what_if 10.2.0.10 8080 -- service=app verdict=allow "explanation~=10.2.0.10 learnt from DNS"
check "dns: a1's HTTP to app.corp.example's address reaches b1" http_get 10.2.0.10
check "dns: site a counted one session of app" test "$(count a services app sessions_total)" -eq 1
check "dns: site b served it as app" test "$(count b services app sessions_total)" -eq 1
check "dns: an address nobody named (10.2.0.11) stays b-net, no-rule" \
	what_if 10.2.0.11 8080 -- service=b-net verdict=no-rule
before=$(drop_count a policy-no-rule)
check "dns: ... and live HTTP to it is refused" no_http_get 10.2.0.11
check "dns: ... counted under policy-no-rule" test "$(drop_count a policy-no-rule)" -gt "$before"

# 2. ternd's own resolution of res.corp.example (exact names only).
resolved() { test "$(sj a services "d['learnt']['resolved']")" -ge 1; }
check "resolver: site a resolved res.corp.example through b1" wait_for 10 resolved
check "resolver: b1's responder was asked by site a's router" grep -q "10.1.0.1 asked res.corp.example type 1" "$work/dns.log"
check "resolver: policy test says 10.2.0.12:8080 is service resolved, allow" \
	what_if 10.2.0.12 8080 -- service=resolved verdict=allow
x a1 -- curl -s -m 1 -o /dev/null http://10.2.0.12:8080/ >/dev/null 2>&1
check "resolver: a1's connection to 10.2.0.12 left as service resolved" \
	test "$(count a services resolved sessions_total)" -ge 1

# 3. SNI: the first connection goes by its SYN, the next by the name it sent.
check "sni: before any ClientHello, policy test says web (prefix)" \
	what_if 10.2.0.10 443 -- service=web verdict=allow
check "sni: with --sni secure.corp.example it says secure" \
	what_if 10.2.0.10 443 --sni secure.corp.example -- service=secure verdict=allow sni=secure.corp.example
check "sni: the first HTTPS connection to secure.corp.example works" https_secure
check "sni: it was service web (decided at its SYN)" test "$(count a services web sessions_total)" -eq 1
check "sni: no session of secure yet" test "$(count a services secure sessions_total)" -eq 0
check "sni: site a learnt the ClientHello's name" test "$(sj a services "d['learnt']['sni_learnt']")" -ge 1
check "sni: policy test without --sni now says secure, with the learnt name" \
	what_if 10.2.0.10 443 -- service=secure verdict=allow sni=secure.corp.example
check "sni: the second HTTPS connection works" https_secure
check "sni: the second connection was service secure" test "$(count a services secure sessions_total)" -eq 1
check "sni: site b served it as secure" test "$(count b services secure sessions_total)" -eq 1
check "sni: web still has one" test "$(count a services web sessions_total)" -eq 1

# 4. Statistics and applications.
check "stats: secure's bytes both ways are counted (a TLS exchange each way)" \
	test "$(sj a services "[min(r['bytes_out'], r['bytes_in']) for r in d['services'] if r['name'] == 'secure'][0]")" -gt 500
check "stats: tenant corp counts every session (>= 6) and its bytes" bash -c \
	"test $(count a tenants corp sessions_total) -ge 6 && test $(count a tenants corp bytes_in) -gt 1000"
check "apps: nDPI named TLS on site a" bash -c "test $(count a apps TLS sessions_total) -ge 2"
check "apps: nDPI named HTTP on site a" bash -c "test $(count a apps HTTP sessions_total) -ge 1"
check "apps: nDPI named DNS on site a" bash -c "test $(count a apps DNS sessions_total) -ge 1"
check "apps: every session got a flow state (none refused)" \
	test "$(sj a apps "d['inspection']['not_inspected']")" -eq 0
check "apps: site b (the egress) names TLS too" bash -c "test $(count b apps TLS sessions_total) -ge 2"
check "ternctl show services prints a table" bash -c \
	"timeout 10 $root/$build/src/ctl/ternctl --socket /run/ternlab/$lab/ternd-a.sock show services | grep -Eq '^secure +[0-9]+ +1 '"
check "ternctl show apps prints a table" bash -c \
	"timeout 10 $root/$build/src/ctl/ternctl --socket /run/ternlab/$lab/ternd-a.sock show apps | grep -q '^TLS '"

web_stop
kill "${bg[@]}" 2>/dev/null
wait 2>/dev/null
lab_end "no ternd is left running" no_ternd_left
