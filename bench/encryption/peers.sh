# Sourced by bench/bench_encryption.sh: the two peers it compares Tern with, built
# between the router namespaces of a kernel-routing ternlab lab
# (tools/ternlab/examples/two-sites-kernel.json: a = 192.0.2.1, LAN 10.1.0.0/24;
# b = 192.0.2.2, LAN 10.2.0.0/24). Each *_up starts its daemons as children of the
# calling shell (so peers_down can stop and reap them by pid), waits a bounded time
# for them and fails if the tunnel does not carry a ping.
#
# Needs: $ternlab, $lab (the lab id), $work (a private directory) and the function x
# (ternlab exec). Daemons are started with $ternlab exec itself, not through x, so
# that $! is the daemon (every step execs the next) and not a subshell.

peer_pids=()
wg_ifs=()

# The other site's values.
peer_of() { [ "$1" = a ] && echo b || echo a; }
wan_of() { [ "$1" = a ] && echo 192.0.2.1 || echo 192.0.2.2; }
lan_of() { [ "$1" = a ] && echo 10.1.0.0/24 || echo 10.2.0.0/24; }

# Wait up to $1 seconds for the command after it to succeed.
wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.1
	done
}

# wireguard-go (user space over TUN) in each router namespace. wireguard-go keeps its
# control socket in /var/run/wireguard/IFNAME.sock, shared by every namespace, so
# each router's interface is named after the lab and the site (not wg0) to keep two
# routers, or two labs, from taking the same socket.
wg_up() {
	local s ifname key
	for s in a b; do
		ifname="w${lab}$s"
		(umask 077 && wg genkey >"$work/wg-$s.key")
		wg pubkey <"$work/wg-$s.key" >"$work/wg-$s.pub"
		# -f: stay a child of this shell, so it is stopped and reaped by pid.
		$ternlab exec --lab "$lab" "$s" -- wireguard-go -f "$ifname" >"$work/wireguard-go-$s.log" 2>&1 &
		peer_pids+=($!)
		wg_ifs+=("$ifname")
		wait_until 10 test -S "/var/run/wireguard/$ifname.sock" || {
			echo "wireguard-go did not start in router $s" >&2
			return 1
		}
	done
	for s in a b; do
		ifname="w${lab}$s"
		key=$(peer_of "$s")
		x "$s" -- wg set "$ifname" private-key "$work/wg-$s.key" listen-port 51820 \
			peer "$(cat "$work/wg-$key.pub")" allowed-ips "$(lan_of "$key")" \
			endpoint "$(wan_of "$key"):51820"
		x "$s" -- ip link set "$ifname" mtu 1420 up
		x "$s" -- ip route replace "$(lan_of "$key")" dev "$ifname"
	done
	x a1 -- ping -c 2 -i 0.3 -W 3 10.2.0.10 >/dev/null || {
		echo "no ping through wireguard-go" >&2
		return 1
	}
}

# strongSwan's charon with the kernel-libipsec plugin (ESP in user space over the TUN
# device ipsec0) in each router namespace. Each charon runs in a private mount
# namespace with a tmpfs on /run (its pid file and stroke socket are fixed paths
# there) and its own strongswan.conf (STRONGSWAN_CONF), whose vici socket lives in
# $work. IKEv2, pre-shared key, ESP AES-256-GCM (16-byte ICV), encap = yes: ESP in
# UDP 4500 from the first packet (libipsec has no other way; nor has this kernel).
ipsec_up() {
	local s o psk
	psk=$(openssl rand -hex 24)
	for s in a b; do
		o=$(peer_of "$s")
		mkdir -p "$work/ipsec-$s"
		cat >"$work/ipsec-$s/strongswan.conf" <<EOF
charon {
	load = random nonce aesni aes gcm openssl sha1 sha2 hmac kdf pem pkcs1 x509 pubkey kernel-libipsec kernel-netlink socket-default vici
	install_routes = yes
	install_virtual_ip = no
	filelog {
		log {
			path = $work/ipsec-$s/charon.log
			default = 1
			ike = 1
		}
	}
	plugins {
		vici {
			socket = unix://$work/ipsec-$s/charon.vici
		}
	}
}
swanctl {
	socket = unix://$work/ipsec-$s/charon.vici
}
EOF
		cat >"$work/ipsec-$s/swanctl.conf" <<EOF
connections {
	bench {
		version = 2
		local_addrs = $(wan_of "$s")
		remote_addrs = $(wan_of "$o")
		encap = yes
		mobike = no
		proposals = aes256gcm16-prfsha256-x25519
		local {
			auth = psk
			id = site-$s
		}
		remote {
			auth = psk
			id = site-$o
		}
		children {
			lan {
				local_ts = $(lan_of "$s")
				remote_ts = $(lan_of "$o")
				esp_proposals = aes256gcm16
				mode = tunnel
			}
		}
	}
}
secrets {
	ike-bench {
		id-a = site-a
		id-b = site-b
		secret = 0x$psk
	}
}
EOF
		STRONGSWAN_CONF="$work/ipsec-$s/strongswan.conf" \
			$ternlab exec --lab "$lab" "$s" -- unshare -m --propagation private \
			sh -c 'mount -t tmpfs tmpfs /run && exec /usr/lib/ipsec/charon' \
			>"$work/ipsec-$s/charon.out" 2>&1 &
		peer_pids+=($!)
		wait_until 10 test -S "$work/ipsec-$s/charon.vici" || {
			echo "charon did not start in router $s" >&2
			return 1
		}
		STRONGSWAN_CONF="$work/ipsec-$s/strongswan.conf" \
			timeout 15 swanctl --load-all --file "$work/ipsec-$s/swanctl.conf" \
			--uri "unix://$work/ipsec-$s/charon.vici" >"$work/ipsec-$s/load.out" 2>&1 || {
			echo "swanctl could not load router $s's configuration" >&2
			cat "$work/ipsec-$s/load.out" >&2
			return 1
		}
	done
	STRONGSWAN_CONF="$work/ipsec-a/strongswan.conf" \
		timeout 20 swanctl --initiate --child lan --timeout 15 \
		--uri "unix://$work/ipsec-a/charon.vici" >"$work/ipsec-a/initiate.out" 2>&1 || {
		echo "the IPsec tunnel did not come up" >&2
		tail -n 20 "$work/ipsec-a/initiate.out" >&2
		return 1
	}
	x a1 -- ping -c 2 -i 0.3 -W 3 10.2.0.10 >/dev/null || {
		echo "no ping through the IPsec tunnel" >&2
		return 1
	}
}

# Stop what *_up started (ternlab down would kill it too, but not reap it).
peers_down() {
	local p ifname
	for p in "${peer_pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${peer_pids[@]}"; do
		timeout 5 tail --pid="$p" -f /dev/null 2>/dev/null || kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	for ifname in "${wg_ifs[@]}"; do
		rm -f "/var/run/wireguard/$ifname.sock"
	done
	peer_pids=()
	wg_ifs=()
}
