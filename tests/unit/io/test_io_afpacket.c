/*
 * Unit tests of io/io_afpacket (the WAN backend) and router/router_nft (the rules that
 * stop the kernel answering waypoint traffic). Needs root: skipped otherwise.
 *
 * Topology, built once in namespaces private to this process (so everything disappears
 * with it, even when a test fails or crashes):
 *
 *   ns "router" (the test's own)            ns "peer"
 *   veth0 10.210.0.1/24, fd00:210::1/64 --- veth1 10.210.0.2/24, fd00:210::2/64
 *   io_afpacket on veth0, router_nft         plain sockets
 *
 * The test unshares a fresh network namespace for itself (router), then a second one
 * (peer), keeping an fd on each so setns() switches the calling thread between them;
 * a socket stays in the namespace it was created in. Two namespaces are needed because
 * traffic between two local addresses of one namespace goes over lo, never the veth.
 * ip(8) configures the links: system() runs it in the thread's current namespace.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "io/io_afpacket.h"
#include "lib/addr.h"
#include "pkt/pkt_buf.h"
#include "pkt/pkt_csum.h"
#include "pkt/pkt_parse.h"
#include "router/router_nft.h"

#define WAIT_MS 2000
/* How long "no answer" is waited for; an answer on veth takes well under 1 ms. */
#define SILENCE_MS 700

static int ns_router = -1;
static int ns_peer = -1;
static bool net_ready;
static struct pkt_pool *pool;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int
run(const char *cmd)
{
	int r = system(cmd);

	if (r != 0)
		fprintf(stderr, "# command failed (%d): %s\n", r, cmd);
	return r;
}

static void
enter(int ns)
{
	if (setns(ns, CLONE_NEWNET) != 0) {
		perror("setns");
		abort();
	}
}

/* A sysctl of the calling thread's network namespace (procfs resolves it at open). */
static int
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int r;

	if (f == NULL)
		return -1;
	r = fputs(text, f) < 0 ? -1 : 0;
	if (fclose(f) != 0)
		r = -1;
	if (r != 0)
		fprintf(stderr, "# cannot write %s\n", path);
	return r;
}

static int
group_setup(void **state)
{
	char cmd[512];

	(void)state;
	pool = pkt_pool_new(256);
	if (pool == NULL)
		return -1;
	if (geteuid() != 0) {
		printf("# not root: the afpacket tests are skipped\n");
		return 0;
	}
	if (unshare(CLONE_NEWNET) != 0) {
		printf("# unshare(CLONE_NEWNET): %s: skipped\n", strerror(errno));
		return 0;
	}
	ns_router = open("/proc/self/ns/net", O_RDONLY);
	if (ns_router < 0 || unshare(CLONE_NEWNET) != 0)
		return -1;
	ns_peer = open("/proc/self/ns/net", O_RDONLY);
	if (ns_peer < 0)
		return -1;
	if (run("ip link set lo up") != 0)
		return -1;
	enter(ns_router);
	snprintf(cmd, sizeof(cmd),
	    "ip link set lo up && ip link add veth0 type veth peer name veth1 netns /proc/%d/fd/%d && "
	    "ip addr add 10.210.0.1/24 dev veth0 && ip addr add fd00:210::1/64 dev veth0 nodad && "
	    "ip link set veth0 up",
	    (int)getpid(), ns_peer);
	if (run(cmd) != 0)
		return -1;
	enter(ns_peer);
	if (run("ip addr add 10.210.0.2/24 dev veth1 && ip addr add fd00:210::2/64 dev veth1 nodad "
	        "&& ip link set veth1 up") != 0)
		return -1;
	enter(ns_router);
	/*
	 * The kernel rate-limits ICMP errors per peer (a burst of 6, then 1 a second); the
	 * tests count on seeing every port unreachable they provoke.
	 */
	if (write_file("/proc/sys/net/ipv4/icmp_ratelimit", "0") != 0 ||
	    write_file("/proc/sys/net/ipv6/icmp/ratelimit", "0") != 0)
		return -1;
	net_ready = true;
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	/* The namespaces, links and tables die with the last fd and this process. */
	if (ns_router >= 0)
		close(ns_router);
	if (ns_peer >= 0)
		close(ns_peer);
	pkt_pool_free(pool);
	return 0;
}

static void
need_net(void)
{
	if (!net_ready)
		skip();
}

static struct io_afpacket *
open_port(const char *waypoint, bool probe)
{
	struct io_afpacket_config c;
	struct io_afpacket *a = NULL;

	memset(&c, 0, sizeof(c));
	snprintf(c.ifname, sizeof(c.ifname), "veth0");
	assert_int_equal(addr_parse(waypoint, &c.waypoint), 0);
	c.probe_port = probe;
	c.port_id = 7;
	assert_int_equal(io_afpacket_open(&c, pool, &a), 0);
	return a;
}

/* A socket of the peer namespace. */
static int
peer_socket(int family, int type, int proto)
{
	int fd;

	enter(ns_peer);
	fd = socket(family, type | SOCK_CLOEXEC, proto);
	enter(ns_router);
	assert_true(fd >= 0);
	return fd;
}

static void
peer_sockaddr(int family, const char *text, uint16_t port, struct sockaddr_in6 *sa, socklen_t *len)
{
	memset(sa, 0, sizeof(*sa));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)sa;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, text, &sin->sin_addr), 1);
		*len = sizeof(*sin);
	} else {
		sa->sin6_family = AF_INET6;
		sa->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, text, &sa->sin6_addr), 1);
		*len = sizeof(*sa);
	}
}

static void
peer_send_udp(int family, const char *dst, uint16_t port, const void *data, size_t len)
{
	struct sockaddr_in6 sa;
	socklen_t sa_len;
	int fd = peer_socket(family, SOCK_DGRAM, 0);
	int off = IP_PMTUDISC_DONT;

	if (family == AF_INET)
		assert_int_equal(setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &off, sizeof(off)), 0);
	peer_sockaddr(family, dst, port, &sa, &sa_len);
	assert_int_equal(sendto(fd, data, len, 0, (struct sockaddr *)&sa, sa_len), (ssize_t)len);
	close(fd);
}

/* Destination port of a parsed packet with an L4 header, else 0. */
static uint16_t
dst_port(struct pkt_buf *p)
{
	const uint8_t *d = pkt_buf_data(p);

	if (!(p->info.flags & PKT_INFO_HAS_L4))
		return 0;
	return (uint16_t)(d[p->info.l4_off + 2] << 8 | d[p->info.l4_off + 3]);
}

/*
 * Receives until a packet to port want arrives or WAIT_MS pass; every packet must be
 * well formed, have a valid L4 checksum and not go to port never. Returns how many
 * packets were fragments other than the first.
 */
static unsigned
receive_until(struct io_afpacket *a, uint16_t want, uint16_t never, bool *found)
{
	struct io_port *port = io_afpacket_port(a);
	uint64_t deadline = now_ms() + WAIT_MS;
	unsigned frags = 0;

	*found = false;
	while (!*found && now_ms() < deadline) {
		struct pollfd pfd = {.fd = io_afpacket_rx_fd(a), .events = POLLIN};
		struct pkt_buf *bufs[16];
		unsigned n;

		(void)poll(&pfd, 1, 50);
		n = io_rx_burst(port, bufs, 16);
		for (unsigned i = 0; i < n; i++) {
			enum pkt_drop_reason reason;

			assert_int_equal(bufs[i]->port, 7);
			assert_int_equal(pkt_parse(bufs[i], &reason), 0);
			if (bufs[i]->info.flags & PKT_INFO_FRAGMENT) {
				if (bufs[i]->info.frag_off_bytes != 0)
					frags++;
			} else {
				if (!pkt_csum_verify(pkt_buf_data(bufs[i]), &bufs[i]->info)) {
					for (unsigned j = 0; j < bufs[i]->len; j++)
						printf("%02x", pkt_buf_data(bufs[i])[j]);
					printf("\n");
					fail_msg("bad L4 checksum");
				}
				assert_int_not_equal(dst_port(bufs[i]), never);
				if (dst_port(bufs[i]) == want)
					*found = true;
			}
		}
		pkt_pool_put_burst(pool, bufs, n);
	}
	return frags;
}

static void
test_io_afpacket_open_bad_config_refused(void **state)
{
	struct io_afpacket_config c;
	struct io_afpacket *a = (struct io_afpacket *)1;

	(void)state;
	memset(&c, 0, sizeof(c));
	snprintf(c.ifname, sizeof(c.ifname), "lo");
	assert_int_equal(io_afpacket_open(&c, pool, &a), -EINVAL); /* no address */
	assert_null(a);
	assert_int_equal(addr_parse("10.210.0.1", &c.waypoint), 0);
	c.port_first = 2000;
	c.port_last = 1000;
	assert_int_equal(io_afpacket_open(&c, pool, &a), -EINVAL);
	c.port_first = 0;
	c.port_last = 0;
	snprintf(c.ifname, sizeof(c.ifname), "nosuchif0");
	assert_int_equal(io_afpacket_open(&c, pool, &a), -ENODEV);
	io_afpacket_close(NULL);
}

static void
test_io_afpacket_rx_burst_waypoint_port_received(void **state)
{
	struct io_afpacket *a;
	bool found;

	(void)state;
	need_net();
	a = open_port("10.210.0.1", false);
	/* Port 5000 goes first: if the filter let it through it would come before 16385. */
	peer_send_udp(AF_INET, "10.210.0.1", 5000, "outside", 7);
	peer_send_udp(AF_INET, "10.210.0.1", 16385, "inside", 6);
	receive_until(a, 16385, 5000, &found);
	assert_true(found);
	assert_true(io_afpacket_port(a)->stats.rx_packets >= 1);
	io_afpacket_close(a);
}

static void
test_io_afpacket_rx_burst_probe_port_only_when_enabled(void **state)
{
	struct io_afpacket *a;
	bool found;

	(void)state;
	need_net();
	a = open_port("10.210.0.1", false);
	peer_send_udp(AF_INET, "10.210.0.1", 1280, "probe", 5);
	peer_send_udp(AF_INET, "10.210.0.1", 16387, "marker", 6);
	receive_until(a, 16387, 1280, &found);
	assert_true(found);
	io_afpacket_close(a);

	a = open_port("10.210.0.1", true);
	peer_send_udp(AF_INET, "10.210.0.1", 1280, "probe", 5);
	receive_until(a, 1280, 0, &found);
	assert_true(found);
	io_afpacket_close(a);
}

static void
test_io_afpacket_rx_burst_later_fragments_received(void **state)
{
	static uint8_t big[3000];
	struct io_afpacket *a;
	bool found;
	unsigned frags;

	(void)state;
	need_net();
	a = open_port("10.210.0.1", false);
	/* Port 5000 is outside: only the fragments without ports may come through. */
	peer_send_udp(AF_INET, "10.210.0.1", 5000, big, sizeof(big));
	peer_send_udp(AF_INET, "10.210.0.1", 16389, "marker", 6);
	frags = receive_until(a, 16389, 5000, &found);
	assert_true(found);
	assert_int_equal(frags, 2);
	io_afpacket_close(a);
}

static void
test_io_afpacket_rx_burst_ipv6_waypoint_port_received(void **state)
{
	struct io_afpacket *a;
	bool found;

	(void)state;
	need_net();
	a = open_port("fd00:210::1", false);
	peer_send_udp(AF_INET6, "fd00:210::1", 5000, "outside", 7);
	peer_send_udp(AF_INET6, "fd00:210::1", 16385, "inside", 6);
	receive_until(a, 16385, 5000, &found);
	assert_true(found);
	io_afpacket_close(a);
}

/*
 * Returns the answer the peer gets within SILENCE_MS: a TCP connect to port that was
 * refused (a RST) or a UDP datagram that was refused (ICMP port unreachable) gives
 * -ECONNREFUSED, no answer gives 0.
 */
static int
peer_probe_answer(int family, const char *dst, int type, uint16_t port)
{
	struct sockaddr_in6 sa;
	socklen_t sa_len;
	int fd = peer_socket(family, type | SOCK_NONBLOCK, 0);
	struct pollfd pfd = {.fd = fd, .events = type == SOCK_STREAM ? POLLOUT : POLLIN};
	int err = 0;
	socklen_t err_len = sizeof(err);

	peer_sockaddr(family, dst, port, &sa, &sa_len);
	if (connect(fd, (struct sockaddr *)&sa, sa_len) != 0)
		assert_int_equal(errno, EINPROGRESS);
	if (type == SOCK_DGRAM)
		assert_int_equal(send(fd, "x", 1, 0), 1);
	if (poll(&pfd, 1, SILENCE_MS) > 0)
		assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len), 0);
	close(fd);
	return -err;
}

static void
test_router_nft_install_kernel_stays_silent(void **state)
{
	struct router_nft_waypoint w[2];
	char error[ROUTER_NFT_ERROR_MAX];
	struct io_afpacket *a;
	bool found;

	(void)state;
	need_net();
	/* Without the rules the kernel answers: the checks below can see an answer. */
	assert_int_equal(peer_probe_answer(AF_INET, "10.210.0.1", SOCK_STREAM, 16384),
	    -ECONNREFUSED);
	assert_int_equal(peer_probe_answer(AF_INET, "10.210.0.1", SOCK_DGRAM, 16391),
	    -ECONNREFUSED);

	memset(w, 0, sizeof(w));
	assert_int_equal(addr_parse("10.210.0.1", &w[0].addr), 0);
	w[0].port_first = 16384;
	w[0].port_last = 65535;
	w[0].probe_port = true;
	assert_int_equal(addr_parse("fd00:210::1", &w[1].addr), 0);
	w[1].port_first = 16384;
	w[1].port_last = 65535;
	assert_int_equal(router_nft_install("afptest", w, 2, error, sizeof(error)), 0);
	/* Idempotent: a second install replaces the table. */
	assert_int_equal(router_nft_install("afptest", w, 2, error, sizeof(error)), 0);
	assert_true(router_nft_is_installed("afptest"));

	a = open_port("10.210.0.1", true);
	assert_int_equal(peer_probe_answer(AF_INET, "10.210.0.1", SOCK_STREAM, 16384), 0);
	assert_int_equal(peer_probe_answer(AF_INET, "10.210.0.1", SOCK_DGRAM, 16385), 0);
	assert_int_equal(peer_probe_answer(AF_INET, "10.210.0.1", SOCK_DGRAM, 1280), 0);
	assert_int_equal(peer_probe_answer(AF_INET6, "fd00:210::1", SOCK_STREAM, 16384), 0);
	/* Outside the range the kernel still answers. */
	assert_int_equal(peer_probe_answer(AF_INET, "10.210.0.1", SOCK_STREAM, 5001),
	    -ECONNREFUSED);
	/* The packet socket still saw what the kernel dropped. */
	receive_until(a, 16384, 5001, &found);
	assert_true(found);
	io_afpacket_close(a);

	assert_int_equal(router_nft_remove("afptest", error, sizeof(error)), 0);
	assert_false(router_nft_is_installed("afptest"));
	assert_int_equal(router_nft_remove("afptest", error, sizeof(error)), 0);
	assert_int_equal(peer_probe_answer(AF_INET, "10.210.0.1", SOCK_STREAM, 16384),
	    -ECONNREFUSED);
}

static void
test_router_nft_install_bad_input_refused(void **state)
{
	struct router_nft_waypoint w;
	char error[ROUTER_NFT_ERROR_MAX];

	(void)state;
	memset(&w, 0, sizeof(w));
	assert_int_equal(addr_parse("10.210.0.1", &w.addr), 0);
	w.port_first = 100;
	w.port_last = 10;
	assert_int_equal(router_nft_install("x", &w, 1, error, sizeof(error)), -EINVAL);
	w.port_last = 200;
	assert_int_equal(router_nft_install("bad name", &w, 1, error, sizeof(error)), -EINVAL);
	assert_int_equal(router_nft_install("x;flush ruleset", &w, 1, error, sizeof(error)),
	    -EINVAL);
	assert_int_equal(router_nft_install("", &w, 1, error, sizeof(error)), -EINVAL);
	assert_int_equal(router_nft_install("x", &w, 0, error, sizeof(error)), -EINVAL);
	assert_int_equal(router_nft_remove("a/b", error, sizeof(error)), -EINVAL);
}

/* Builds a UDP packet src:sport -> dst:dport in a pool buffer, checksums filled. */
static struct pkt_buf *
build_udp(const char *src, const char *dst, uint16_t sport, uint16_t dport, const char *payload)
{
	struct pkt_buf *p = pkt_pool_get(pool);
	struct addr s, d;
	uint8_t pkt[128];
	size_t plen = strlen(payload), l4, total;
	enum pkt_drop_reason reason;

	assert_non_null(p);
	assert_int_equal(addr_parse(src, &s), 0);
	assert_int_equal(addr_parse(dst, &d), 0);
	memset(pkt, 0, sizeof(pkt));
	if (s.family == ADDR_FAMILY_V4) {
		l4 = 20;
		total = l4 + 8 + plen;
		pkt[0] = 0x45;
		pkt[2] = (uint8_t)(total >> 8);
		pkt[3] = (uint8_t)total;
		pkt[8] = 64;
		pkt[9] = IPPROTO_UDP;
		memcpy(pkt + 12, s.bytes, 4);
		memcpy(pkt + 16, d.bytes, 4);
		{
			uint16_t c = pkt_csum_ipv4_header(pkt, 20);

			pkt[10] = (uint8_t)(c >> 8);
			pkt[11] = (uint8_t)c;
		}
	} else {
		l4 = 40;
		total = l4 + 8 + plen;
		pkt[0] = 0x60;
		pkt[4] = (uint8_t)((8 + plen) >> 8);
		pkt[5] = (uint8_t)(8 + plen);
		pkt[6] = IPPROTO_UDP;
		pkt[7] = 64;
		memcpy(pkt + 8, s.bytes, 16);
		memcpy(pkt + 24, d.bytes, 16);
	}
	pkt[l4] = (uint8_t)(sport >> 8);
	pkt[l4 + 1] = (uint8_t)sport;
	pkt[l4 + 2] = (uint8_t)(dport >> 8);
	pkt[l4 + 3] = (uint8_t)dport;
	pkt[l4 + 4] = (uint8_t)((8 + plen) >> 8);
	pkt[l4 + 5] = (uint8_t)(8 + plen);
	memcpy(pkt + l4 + 8, payload, plen);
	assert_int_equal(pkt_buf_set(p, pkt, total), 0);
	if (pkt_parse(p, &reason) != 0)
		fail_msg("built packet does not parse: %s", pkt_drop_reason_name(reason));
	pkt_csum_fill(pkt_buf_data(p), &p->info);
	return p;
}

static void
tx_arrives(const char *waypoint, const char *peer, int family, uint16_t port)
{
	struct io_afpacket *a = open_port(waypoint, false);
	struct sockaddr_in6 sa, from;
	socklen_t sa_len, from_len = sizeof(from);
	int fd = peer_socket(family, SOCK_DGRAM, 0);
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	struct pkt_buf *p;
	char got[64];
	uint32_t avail = pkt_pool_available(pool);

	peer_sockaddr(family, peer, port, &sa, &sa_len);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sa_len), 0);
	p = build_udp(waypoint, peer, 16384, port, "from-waypoint");
	assert_int_equal(io_tx_burst(io_afpacket_port(a), &p, 1), 1);
	assert_int_equal(pkt_pool_available(pool), avail); /* sent buffers go back */
	assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
	assert_int_equal(recvfrom(fd, got, sizeof(got), MSG_DONTWAIT, (struct sockaddr *)&from,
	                     &from_len),
	    13);
	assert_memory_equal(got, "from-waypoint", 13);
	if (family == AF_INET)
		assert_int_equal(ntohs(((struct sockaddr_in *)&from)->sin_port), 16384);
	else
		assert_int_equal(ntohs(from.sin6_port), 16384);
	assert_int_equal(io_afpacket_port(a)->stats.tx_packets, 1);
	close(fd);
	io_afpacket_close(a);
}

static void
test_io_afpacket_tx_burst_ipv4_arrives(void **state)
{
	(void)state;
	need_net();
	tx_arrives("10.210.0.1", "10.210.0.2", AF_INET, 40000);
}

/* Also checks that an IPv6 IPPROTO_RAW socket takes the whole packet with its header. */
static void
test_io_afpacket_tx_burst_ipv6_arrives(void **state)
{
	(void)state;
	need_net();
	tx_arrives("fd00:210::1", "fd00:210::2", AF_INET6, 40001);
}

static void
test_io_afpacket_tx_burst_wrong_family_counted(void **state)
{
	struct io_afpacket *a;
	struct io_afpacket_stats st;
	struct pkt_buf *p;
	uint32_t avail = pkt_pool_available(pool);

	(void)state;
	need_net();
	a = open_port("10.210.0.1", false);
	p = build_udp("fd00:210::1", "fd00:210::2", 16384, 40002, "x");
	/* Taken (and given back to the pool), counted, never sent. */
	assert_int_equal(io_tx_burst(io_afpacket_port(a), &p, 1), 1);
	assert_int_equal(pkt_pool_available(pool), avail);
	io_afpacket_stats_read(a, &st);
	assert_int_equal(st.tx_bad, 1);
	assert_int_equal(io_afpacket_port(a)->stats.tx_packets, 0);
	io_afpacket_close(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_io_afpacket_open_bad_config_refused),
	    cmocka_unit_test(test_io_afpacket_rx_burst_waypoint_port_received),
	    cmocka_unit_test(test_io_afpacket_rx_burst_probe_port_only_when_enabled),
	    cmocka_unit_test(test_io_afpacket_rx_burst_later_fragments_received),
	    cmocka_unit_test(test_io_afpacket_rx_burst_ipv6_waypoint_port_received),
	    cmocka_unit_test(test_router_nft_install_bad_input_refused),
	    cmocka_unit_test(test_router_nft_install_kernel_stays_silent),
	    cmocka_unit_test(test_io_afpacket_tx_burst_ipv4_arrives),
	    cmocka_unit_test(test_io_afpacket_tx_burst_ipv6_arrives),
	    cmocka_unit_test(test_io_afpacket_tx_burst_wrong_family_counted),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
