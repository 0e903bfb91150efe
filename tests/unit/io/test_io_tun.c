/*
 * Unit tests of io/io_tun and router/router_netlink against the real kernel.
 *
 * Topology, inside a network namespace of its own (unshare(CLONE_NEWNET) in main(), so
 * nothing leaks to the host and every address below exists only in it):
 *
 *   UDP socket ---> kernel: 10.201.0.0/24 via ttun0 ---> ttun0 ---> io_tun rx_burst
 *   UDP socket 10.200.0.1:7777 <--- kernel <--- ttun0 <--- io_tun tx_burst
 *
 *   ttun0: 10.200.0.1/24, fd00:200::1/64, up.
 *
 * Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN for unshare); as another user the tests
 * that need the namespace are skipped and say why. Waits are bounded polls.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "io/io_tun.h"
#include "lib/addr.h"
#include "lib/buf.h"
#include "pkt/pkt_csum.h"
#include "pkt/pkt_drop.h"
#include "pkt/pkt_parse.h"
#include "router/router_netlink.h"

#define TUN_NAME    "ttun0"
#define POOL_SIZE   64
#define WAIT_MS     2000
#define SINK_PORT   9999
#define REPLY_PORT  7777
#define BIG_PAYLOAD 9300

static bool netns_ready;
static char netns_why[160];

struct lan {
	struct pkt_pool *pool;
	struct io_tun *tun;
	struct router_netlink *nl;
	struct pkt_drop_counters drops;
	int reply_fd; /* UDP socket bound to 10.200.0.1:7777, -1 until setup made it */
};

static void
netns_require(void)
{
	if (!netns_ready) {
		printf("# skipped: %s\n", netns_why);
		skip();
	}
}

static struct addr
addr_of(const char *text)
{
	struct addr a;

	assert_int_equal(addr_parse(text, &a), 0);
	return a;
}

static struct prefix
prefix_of(const char *text)
{
	struct prefix p;

	assert_int_equal(prefix_parse(text, &p), 0);
	return p;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* True when fd becomes readable within the time left until deadline_ms. */
static bool
fd_wait_readable(int fd, uint64_t deadline_ms)
{
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		uint64_t now = now_ms();
		int ret;

		if (now >= deadline_ms)
			return false;
		ret = poll(&pfd, 1, (int)(deadline_ms - now));
		if (ret > 0)
			return true;
		if (ret < 0 && errno != EINTR)
			return false;
	}
}

/*
 * The first packet from the TUN device that is not the kernel's own IPv6 chatter
 * (MLD, router solicitations: ICMPv6 the stack sends once the device is up), parsed;
 * NULL when none came within WAIT_MS. Other packets of the same bursts fail the test.
 */
static struct pkt_buf *
lan_rx_one(struct lan *lan)
{
	struct io_port *port = io_tun_port(lan->tun);
	uint64_t deadline = now_ms() + WAIT_MS;
	struct pkt_buf *found = NULL;

	while (found == NULL && fd_wait_readable(io_tun_fd(lan->tun), deadline)) {
		struct pkt_buf *bufs[8];
		unsigned k = io_rx_burst(port, bufs, 8);

		for (unsigned i = 0; i < k; i++) {
			enum pkt_drop_reason reason;

			assert_int_equal(bufs[i]->port, 7);
			assert_int_equal(pkt_parse(bufs[i], &reason), 0);
			if (bufs[i]->info.family == ADDR_FAMILY_V6 &&
			    bufs[i]->info.l4_proto == IPPROTO_ICMPV6) {
				pkt_pool_put(lan->pool, bufs[i]);
				continue;
			}
			assert_null(found);
			found = bufs[i];
		}
	}
	return found;
}

/* The socket the replies written into the TUN device go to, or -1. */
static int
reply_socket(void)
{
	struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = htons(REPLY_PORT)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (inet_pton(AF_INET, "10.200.0.1", &at.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&at, sizeof(at)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
lan_setup(void **state)
{
	static struct lan lan;
	struct addr a4, a6;
	struct prefix route;
	int err;

	memset(&lan, 0, sizeof(lan));
	lan.reply_fd = -1;
	*state = &lan;
	if (!netns_ready)
		return 0;
	if (addr_parse("10.200.0.1", &a4) < 0 || addr_parse("fd00:200::1", &a6) < 0 ||
	    prefix_parse("10.201.0.0/24", &route) < 0)
		return -1;
	lan.pool = pkt_pool_new(POOL_SIZE);
	if (lan.pool == NULL)
		return -1;
	err = router_netlink_open(&lan.nl);
	if (err == 0)
		err = io_tun_open(TUN_NAME, lan.pool, 7, &lan.tun);
	if (err == 0) {
		io_tun_set_drop_counters(lan.tun, &lan.drops);
		err = router_netlink_link_set_up(lan.nl, TUN_NAME, true);
	}
	if (err == 0)
		err = router_netlink_addr_add(lan.nl, TUN_NAME, &a4, 24);
	if (err == 0)
		err = router_netlink_addr_add(lan.nl, TUN_NAME, &a6, 64);
	if (err == 0)
		err = router_netlink_route_add(lan.nl, &route, TUN_NAME, NULL, 0);
	if (err == 0) {
		lan.reply_fd = reply_socket();
		if (lan.reply_fd < 0)
			err = -errno;
	}
	if (err < 0) {
		printf("# setup of %s failed: %s (%s)\n", TUN_NAME, strerror(-err),
		    lan.nl != NULL ? router_netlink_error_text(lan.nl) : "");
		return -1;
	}
	return 0;
}

static int
lan_teardown(void **state)
{
	struct lan *lan = *state;

	if (lan->reply_fd >= 0)
		close(lan->reply_fd);
	io_tun_close(lan->tun);
	router_netlink_close(lan->nl);
	/* Asserts every buffer came back: rx, tx and the drops all return theirs. */
	pkt_pool_free(lan->pool);
	return 0;
}

static void
test_io_tun_open_bad_name_einval(void **state)
{
	struct pkt_pool *pool = pkt_pool_new(1);
	struct io_tun *tun = NULL;

	(void)state;
	assert_non_null(pool);
	assert_int_equal(io_tun_open("a-name-far-too-long", pool, 1, &tun), -EINVAL);
	assert_int_equal(io_tun_open("", pool, 1, &tun), -EINVAL);
	assert_int_equal(io_tun_open(NULL, pool, 1, &tun), -EINVAL);
	assert_int_equal(io_tun_open("tun0", NULL, 1, &tun), -EINVAL);
	assert_null(tun);
	pkt_pool_free(pool);
}

static void
test_router_netlink_bad_name_einval(void **state)
{
	struct router_netlink *nl;
	struct addr a = addr_of("10.9.0.1");
	struct prefix p = prefix_of("10.9.0.0/24");
	uint32_t index;

	(void)state;
	assert_int_equal(router_netlink_open(&nl), 0);
	assert_int_equal(router_netlink_link_index(nl, "a-name-far-too-long", &index), -EINVAL);
	assert_int_equal(router_netlink_link_set_up(nl, "a-name-far-too-long", true), -EINVAL);
	assert_int_equal(router_netlink_link_set_mtu(nl, "", 1500), -EINVAL);
	assert_int_equal(router_netlink_addr_add(nl, "a-name-far-too-long", &a, 24), -EINVAL);
	assert_int_equal(router_netlink_addr_add(nl, "lo", &a, 33), -EINVAL);
	assert_int_equal(router_netlink_route_add(nl, &p, NULL, NULL, 0), -EINVAL);
	router_netlink_close(nl);
}

static void
test_router_netlink_route_add_no_device_enodev(void **state)
{
	struct lan *lan = *state;
	struct prefix p = prefix_of("10.202.0.0/24");
	struct addr gw6 = addr_of("fd00:200::2");

	netns_require();
	assert_int_equal(router_netlink_route_add(lan->nl, &p, "nosuchdev0", NULL, 0), -ENODEV);
	assert_int_equal(router_netlink_route_del(lan->nl, &p, "nosuchdev0", NULL, 0), -ENODEV);
	assert_int_equal(router_netlink_link_set_up(lan->nl, "nosuchdev0", true), -ENODEV);
	/* A gateway of the other family is refused before the kernel is asked. */
	assert_int_equal(router_netlink_route_add(lan->nl, &p, TUN_NAME, &gw6, 0), -EINVAL);
}

static void
test_router_netlink_addr_add_exists_eexist(void **state)
{
	struct lan *lan = *state;
	struct addr a4 = addr_of("10.200.0.1");
	struct addr a6 = addr_of("fd00:200::1");
	struct addr other = addr_of("10.200.0.9");
	uint32_t index = 0;

	netns_require();
	assert_int_equal(router_netlink_link_index(lan->nl, TUN_NAME, &index), 0);
	assert_true(index > 1);
	assert_int_equal(router_netlink_addr_add(lan->nl, TUN_NAME, &a4, 24), -EEXIST);
	assert_int_equal(router_netlink_addr_add(lan->nl, TUN_NAME, &a6, 64), -EEXIST);
	assert_int_equal(router_netlink_addr_del(lan->nl, TUN_NAME, &other, 24), -EADDRNOTAVAIL);
	assert_int_equal(router_netlink_addr_add(lan->nl, TUN_NAME, &other, 24), 0);
	assert_int_equal(router_netlink_addr_del(lan->nl, TUN_NAME, &other, 24), 0);
	assert_string_equal(router_netlink_error_text(lan->nl), "");
}

static void
test_router_netlink_route_add_exists_eexist(void **state)
{
	struct lan *lan = *state;
	struct prefix p4 = prefix_of("10.201.0.0/24");
	struct prefix p6 = prefix_of("fd00:201::/64");
	struct prefix gone = prefix_of("10.203.0.0/16");
	struct prefix dflt = prefix_of("0.0.0.0/0");
	struct addr gw = addr_of("10.200.0.2");

	netns_require();
	assert_int_equal(router_netlink_route_add(lan->nl, &p4, TUN_NAME, NULL, 0), -EEXIST);
	assert_int_equal(router_netlink_route_del(lan->nl, &gone, TUN_NAME, NULL, 0), -ESRCH);
	/* IPv6, then a default route through a gateway in a table of its own (policy). */
	assert_int_equal(router_netlink_route_add(lan->nl, &p6, TUN_NAME, NULL, 0), 0);
	assert_int_equal(router_netlink_route_add(lan->nl, &p6, TUN_NAME, NULL, 0), -EEXIST);
	assert_int_equal(router_netlink_route_del(lan->nl, &p6, TUN_NAME, NULL, 0), 0);
	assert_int_equal(router_netlink_route_add(lan->nl, &dflt, TUN_NAME, &gw, 1000), 0);
	assert_int_equal(router_netlink_route_add(lan->nl, &dflt, TUN_NAME, &gw, 1000), -EEXIST);
	assert_int_equal(router_netlink_route_del(lan->nl, &dflt, TUN_NAME, &gw, 1000), 0);
	assert_int_equal(router_netlink_route_del(lan->nl, &dflt, TUN_NAME, &gw, 1000), -ESRCH);
}

static void
test_io_tun_open_attached_ebusy(void **state)
{
	struct lan *lan = *state;
	struct io_tun *again = NULL;

	netns_require();
	assert_string_equal(io_tun_name(lan->tun), TUN_NAME);
	assert_int_equal(io_tun_open(TUN_NAME, lan->pool, 8, &again), -EBUSY);
	assert_int_equal(io_tun_open("lo", lan->pool, 8, &again), -EINVAL);
	assert_null(again);
}

static void
test_io_tun_rx_burst_udp_datagram(void **state)
{
	static const char payload[] = "ping through ttun0";
	struct lan *lan = *state;
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(SINK_PORT)};
	struct addr src, dst, want_src, want_dst;
	struct pkt_buf *p;
	uint8_t *data;
	int fd;

	netns_require();
	assert_int_equal(inet_pton(AF_INET, "10.201.0.5", &to.sin_addr), 1);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(sendto(fd, payload, sizeof(payload), 0, (struct sockaddr *)&to,
	                     sizeof(to)),
	    sizeof(payload));
	close(fd);

	p = lan_rx_one(lan);
	assert_non_null(p);
	data = pkt_buf_data(p);
	assert_int_equal(p->info.family, ADDR_FAMILY_V4);
	assert_int_equal(p->info.l4_proto, IPPROTO_UDP);
	assert_int_equal(p->info.dport, SINK_PORT);
	assert_int_equal(p->head, PKT_BUF_HEADROOM);
	assert_int_equal(p->len, 20 + 8 + sizeof(payload));
	pkt_info_src(&p->info, data, &src);
	pkt_info_dst(&p->info, data, &dst);
	want_src = addr_of("10.200.0.1");
	want_dst = addr_of("10.201.0.5");
	assert_true(addr_equal(&src, &want_src));
	assert_true(addr_equal(&dst, &want_dst));
	assert_int_equal(p->info.ip_len - p->info.payload_off, sizeof(payload));
	assert_memory_equal(data + p->info.payload_off, payload, sizeof(payload));
	assert_true(pkt_csum_verify(data, &p->info));
	assert_true(p->rx_ns > 0);
	assert_true(io_tun_port(lan->tun)->stats.rx_bytes >= p->len);
	assert_int_equal(io_tun_stats(lan->tun)->rx_errors, 0);
	pkt_pool_put(lan->pool, p);
}

/* A UDP/IPv4 packet from 10.201.0.5:9999 to 10.200.0.1:7777 with right checksums. */
static struct pkt_buf *
reply_build(struct lan *lan, const char *payload, size_t payload_len)
{
	struct pkt_buf *p = pkt_pool_get(lan->pool);
	size_t total = 20 + 8 + payload_len;
	enum pkt_drop_reason reason;
	uint8_t *d;

	assert_non_null(p);
	d = pkt_buf_put(p, total);
	assert_non_null(d);
	memset(d, 0, 28);
	d[0] = 0x45;
	d[2] = (uint8_t)(total >> 8);
	d[3] = (uint8_t)total;
	d[6] = 0x40; /* DF */
	d[8] = 64;
	d[9] = IPPROTO_UDP;
	memcpy(d + 12, (uint8_t[]){10, 201, 0, 5}, 4);
	memcpy(d + 16, (uint8_t[]){10, 200, 0, 1}, 4);
	d[20] = SINK_PORT >> 8;
	d[21] = SINK_PORT & 0xff;
	d[22] = REPLY_PORT >> 8;
	d[23] = REPLY_PORT & 0xff;
	d[24] = (uint8_t)((8 + payload_len) >> 8);
	d[25] = (uint8_t)(8 + payload_len);
	memcpy(d + 28, payload, payload_len);
	/* The parser checks the IPv4 header checksum, so it goes in first. */
	buf_store_be16(d + 10, pkt_csum_ipv4_header(d, 20));
	assert_int_equal(pkt_parse(p, &reason), 0);
	pkt_csum_fill(d, &p->info);
	assert_true(pkt_csum_verify(d, &p->info));
	return p;
}

static void
reply_expect(int fd, const char *payload, size_t payload_len)
{
	char got[256];
	struct sockaddr_in from;
	socklen_t from_len = sizeof(from);
	ssize_t n;

	assert_true(fd_wait_readable(fd, now_ms() + WAIT_MS));
	n = recvfrom(fd, got, sizeof(got), MSG_DONTWAIT, (struct sockaddr *)&from, &from_len);
	assert_int_equal(n, payload_len);
	assert_memory_equal(got, payload, payload_len);
	assert_int_equal(ntohs(from.sin_port), SINK_PORT);
	assert_int_equal(ntohl(from.sin_addr.s_addr), 0x0ac90005);
}

static void
test_io_tun_tx_burst_udp_reply(void **state)
{
	static const char payload[] = "pong from the router";
	struct lan *lan = *state;
	struct io_port *port;
	struct pkt_buf *p;
	uint32_t avail;

	netns_require();
	port = io_tun_port(lan->tun);
	avail = pkt_pool_available(lan->pool);
	p = reply_build(lan, payload, sizeof(payload));
	assert_int_equal(io_tx_burst(port, &p, 1), 1);
	/* Copied to the kernel: the buffer is back in the pool already. */
	assert_int_equal(pkt_pool_available(lan->pool), avail);
	assert_int_equal(port->stats.tx_packets, 1);
	assert_int_equal(port->stats.tx_bytes, 28 + sizeof(payload));
	reply_expect(lan->reply_fd, payload, sizeof(payload));
}

static void
test_io_tun_tx_burst_bad_packet_counted(void **state)
{
	static const char payload[] = "after the bad one";
	struct lan *lan = *state;
	struct pkt_buf *bufs[2];
	struct io_port *port;
	uint64_t tx_packets;

	netns_require();
	port = io_tun_port(lan->tun);
	tx_packets = port->stats.tx_packets;
	/* IP version 0: the kernel refuses it (EINVAL), the next one still goes. */
	bufs[0] = pkt_pool_get(lan->pool);
	assert_non_null(bufs[0]);
	assert_non_null(pkt_buf_put(bufs[0], 40));
	memset(pkt_buf_data(bufs[0]), 0, 40);
	bufs[1] = reply_build(lan, payload, sizeof(payload));
	assert_int_equal(io_tx_burst(port, bufs, 2), 2);
	assert_int_equal(io_tun_stats(lan->tun)->tx_errors, 1);
	assert_int_equal(port->stats.tx_packets, tx_packets + 1);
	reply_expect(lan->reply_fd, payload, sizeof(payload));
}

static void
test_io_tun_rx_burst_too_big_dropped(void **state)
{
	static char payload[BIG_PAYLOAD];
	/* IPv4 and UDP headers around a payload that fills a buffer exactly. */
	const size_t fit = PKT_BUF_DATA_MAX - 20 - 8;
	struct lan *lan = *state;
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(SINK_PORT)};
	const struct io_tun_stats *stats;
	struct pkt_buf *bufs[4];
	uint64_t deadline;
	unsigned fitted = 0;
	int fd;

	netns_require();
	stats = io_tun_stats(lan->tun);
	/* An MTU above PKT_BUF_DATA_MAX lets the kernel hand over unfragmented jumbos. */
	assert_int_equal(router_netlink_link_set_mtu(lan->nl, TUN_NAME, 9500), 0);
	memset(payload, 0xa5, sizeof(payload));
	assert_int_equal(inet_pton(AF_INET, "10.201.0.5", &to.sin_addr), 1);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(sendto(fd, payload, fit, 0, (struct sockaddr *)&to, sizeof(to)), fit);
	assert_int_equal(sendto(fd, payload, sizeof(payload), 0, (struct sockaddr *)&to,
	                     sizeof(to)),
	    sizeof(payload));
	close(fd);
	deadline = now_ms() + WAIT_MS;
	while ((stats->rx_too_big == 0 || fitted == 0) &&
	    fd_wait_readable(io_tun_fd(lan->tun), deadline)) {
		unsigned got = io_rx_burst(io_tun_port(lan->tun), bufs, 4);

		for (unsigned i = 0; i < got; i++) {
			/* Besides the one that fits only the kernel's IPv6 chatter may come. */
			if (pkt_buf_data(bufs[i])[0] >> 4 == 4) {
				assert_int_equal(bufs[i]->len, PKT_BUF_DATA_MAX);
				fitted++;
			} else {
				assert_int_equal(pkt_buf_data(bufs[i])[0] >> 4, 6);
			}
			pkt_pool_put(lan->pool, bufs[i]);
		}
	}
	assert_int_equal(fitted, 1);
	assert_int_equal(stats->rx_too_big, 1);
	assert_int_equal(lan->drops.count[PKT_DROP_PKT_TOO_BIG], 1);
	assert_int_equal(stats->rx_errors, 0);
	assert_int_equal(router_netlink_link_set_mtu(lan->nl, TUN_NAME, 1500), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_io_tun_open_bad_name_einval),
	    cmocka_unit_test(test_router_netlink_bad_name_einval),
	    cmocka_unit_test(test_router_netlink_route_add_no_device_enodev),
	    cmocka_unit_test(test_router_netlink_addr_add_exists_eexist),
	    cmocka_unit_test(test_router_netlink_route_add_exists_eexist),
	    cmocka_unit_test(test_io_tun_open_attached_ebusy),
	    cmocka_unit_test(test_io_tun_rx_burst_udp_datagram),
	    cmocka_unit_test(test_io_tun_tx_burst_udp_reply),
	    cmocka_unit_test(test_io_tun_tx_burst_bad_packet_counted),
	    cmocka_unit_test(test_io_tun_rx_burst_too_big_dropped),
	};

	if (geteuid() != 0) {
		snprintf(netns_why, sizeof(netns_why),
		    "not root: a TUN device, addresses and routes need CAP_NET_ADMIN in a "
		    "network namespace of their own (unshare needs CAP_SYS_ADMIN)");
	} else if (unshare(CLONE_NEWNET) < 0) {
		/* As root this is an environment fault to see, not a reason to skip. */
		fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return 1;
	} else {
		netns_ready = true;
	}
	return cmocka_run_group_tests(tests, lan_setup, lan_teardown);
}
