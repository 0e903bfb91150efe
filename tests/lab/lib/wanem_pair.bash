# Shared by tests/lab/wanem_basic.sh and bench/bench_wanem.sh (sourced): two hosts on
# one L2 subnet whose only path is through a core namespace, where the caller puts the
# WAN emulator (between wa and wb) or a bridge.
#
#   ns A: eth0 10.99.0.1/24 --veth-- ns C: wa   wb --veth-- ns B: eth0 10.99.0.2/24
#
# wanem_pair_up A C B: makes the three namespaces and the links. Segmentation offload is
# off on the hosts (gso_max_segs 1) so frames are wire-sized; the core neither forwards
# nor speaks IPv6. The caller deletes the namespaces.
wanem_pair_up() {
	local a=$1 c=$2 b=$3 ns
	ip netns add "$a"
	ip netns add "$c"
	ip netns add "$b"
	ip link add eth0 netns "$a" type veth peer name wa netns "$c"
	ip link add eth0 netns "$b" type veth peer name wb netns "$c"
	for ns in "$a" "$b" "$c"; do ip -n "$ns" link set lo up; done
	ip -n "$c" link set wa up
	ip -n "$c" link set wb up
	ip netns exec "$c" sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.disable_ipv6=1
	for ns in "$a" "$b"; do ip -n "$ns" link set eth0 gso_max_segs 1 gso_max_size 1500 up; done
	ip -n "$a" addr add 10.99.0.1/24 dev eth0
	ip -n "$b" addr add 10.99.0.2/24 dev eth0
}
