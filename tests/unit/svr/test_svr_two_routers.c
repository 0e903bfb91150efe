/*
 * Two SVR routers in one process, joined by in-memory links:
 *
 *   host A --lanA-- router A --wanA-- [tap] --wanB-- router B --lanB-- host B
 *   10.0.1.10       wp 203.0.113.1               wp 198.51.100.2      10.0.2.20
 *
 * The tap relays every inter-router packet and records whether it carried metadata,
 * so each exchange asserts (1) each host receives byte for byte what the other host
 * sent and (2) metadata rides exactly on the packets the handshake rules say.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "io/io_mem.h"
#include "lib/buf.h"
#include "pkt/pkt_csum.h"
#include "pkt/pkt_parse.h"
#include "session/session_table.h"
#include "svr/svr_meta.h"
#include "svr/svr_transform.h"
#include "svr/svr_waypoint.h"
#include "svr_test_lab.h"
#include "test_rand.h"

enum tap_kind {
	TAP_PLAIN,   /* no metadata block */
	TAP_FORWARD, /* forward metadata */
	TAP_REVERSE, /* reverse metadata */
	TAP_EMPTY,   /* the empty false-positive block */
	TAP_CONTROL,
};

struct lab {
	struct svr_test_lab base;
	struct io_mem_link *lan_a, *lan_b, *wan_a, *wan_b;
	struct io_port *host_a, *host_b, *tap_a, *tap_b;
	struct io_port *lan[2], *wan[2]; /* the ports of router A [0] and B [1] */
	enum tap_kind tap_log[64];
	unsigned tap_count;
};

static int
lab_setup(void **state, uint8_t family, uint8_t wan_family)
{
	static struct lab lab;

	memset(&lab, 0, sizeof(lab));
	svr_test_lab_init(&lab.base, family, wan_family, 256, 42, false);
	lab.lan_a = io_mem_link_new(64, 0, SVR_TEST_LAN_PORT);
	lab.lan_b = io_mem_link_new(64, 0, SVR_TEST_LAN_PORT);
	lab.wan_a = io_mem_link_new(64, SVR_TEST_WAN_PORT, 0);
	lab.wan_b = io_mem_link_new(64, SVR_TEST_WAN_PORT, 0);
	if (!lab.lan_a || !lab.lan_b || !lab.wan_a || !lab.wan_b)
		return -1;
	lab.host_a = io_mem_link_port(lab.lan_a, 0);
	lab.host_b = io_mem_link_port(lab.lan_b, 0);
	lab.tap_a = io_mem_link_port(lab.wan_a, 1);
	lab.tap_b = io_mem_link_port(lab.wan_b, 1);
	lab.lan[0] = io_mem_link_port(lab.lan_a, 1);
	lab.wan[0] = io_mem_link_port(lab.wan_a, 0);
	lab.lan[1] = io_mem_link_port(lab.lan_b, 1);
	lab.wan[1] = io_mem_link_port(lab.wan_b, 0);
	*state = &lab;
	return 0;
}

SVR_TEST_SETUP(lab_setup_v4, lab_setup(state, ADDR_FAMILY_V4, ADDR_FAMILY_V4))
SVR_TEST_SETUP(lab_setup_v6, lab_setup(state, ADDR_FAMILY_V6, ADDR_FAMILY_V6))
/* IPv6 hosts across an IPv4 WAN, and IPv4 hosts across an IPv6 WAN. */
SVR_TEST_SETUP(lab_setup_v6_over_v4, lab_setup(state, ADDR_FAMILY_V6, ADDR_FAMILY_V4))
SVR_TEST_SETUP(lab_setup_v4_over_v6, lab_setup(state, ADDR_FAMILY_V4, ADDR_FAMILY_V6))

static int
lab_teardown(void **state)
{
	struct lab *lab = *state;

	io_mem_link_free(lab->lan_a, lab->base.pool);
	io_mem_link_free(lab->lan_b, lab->base.pool);
	io_mem_link_free(lab->wan_a, lab->base.pool);
	io_mem_link_free(lab->wan_b, lab->base.pool);
	svr_test_lab_fini(&lab->base);
	return 0;
}

static void
tx_or_free(struct lab *lab, struct io_port *port, struct pkt_buf *p)
{
	if (io_tx_burst(port, &p, 1) != 1)
		pkt_pool_put(lab->base.pool, p);
}

/* Keeps the packets that parse (in order), counting and freeing the others. */
static unsigned
parse_filter(struct lab *lab, struct svr_test_router *r, struct pkt_buf **pkts, unsigned n)
{
	enum pkt_drop_reason reason;
	unsigned i, k;

	for (i = k = 0; i < n; i++) {
		if (pkt_parse(pkts[i], &reason) < 0) {
			pkt_drop_count(&r->drops, reason);
			pkt_pool_put(lab->base.pool, pkts[i]);
			continue;
		}
		pkts[k++] = pkts[i];
	}
	return k;
}

/* One pass of a router's worker loop: LAN side, WAN side, then its control packets. */
static void
router_poll(struct lab *lab, struct svr_test_router *r)
{
	struct io_port *lan = lab->lan[r == &lab->base.b], *wan = lab->wan[r == &lab->base.b];
	struct pkt_buf *pkts[32];
	enum svr_verdict verdicts[32];
	unsigned n, i;

	n = parse_filter(lab, r, pkts, io_rx_burst(lan, pkts, 32));
	svr_test_router_lan(&lab->base, r, pkts, n, verdicts);
	for (i = 0; i < n; i++) {
		if (verdicts[i] == SVR_VERDICT_TO_WAN)
			tx_or_free(lab, wan, pkts[i]);
		else
			pkt_pool_put(lab->base.pool, pkts[i]);
	}

	n = parse_filter(lab, r, pkts, io_rx_burst(wan, pkts, 32));
	svr_test_router_wan(&lab->base, r, pkts, n, verdicts);
	for (i = 0; i < n; i++) {
		if (verdicts[i] == SVR_VERDICT_TO_LAN)
			tx_or_free(lab, lan, pkts[i]);
		else
			pkt_pool_put(lab->base.pool, pkts[i]);
	}
	for (i = 0; i < r->rt.ctrl_out_count; i++)
		tx_or_free(lab, wan, r->rt.ctrl_out[i]);
	r->rt.ctrl_out_count = 0;
}

static enum tap_kind
tap_classify(const struct lab *lab, struct pkt_buf *p)
{
	enum pkt_drop_reason reason;
	struct svr_meta m;
	size_t block_len;
	const uint8_t *d;

	assert_int_equal(pkt_parse(p, &reason), 0);
	d = pkt_buf_data(p);
	/* No tunnel: the wire packet is plain IP, TCP or UDP on the waypoint tuple. */
	assert_int_equal(p->info.family, lab->base.wan_family);
	assert_true(p->info.l4_proto == IPPROTO_TCP || p->info.l4_proto == IPPROTO_UDP);
	assert_true(pkt_csum_verify(d, &p->info));
	if (svr_meta_decode(d + p->info.payload_off, p->info.ip_len - p->info.payload_off, &m,
	        &block_len, &reason) != 0)
		return TAP_PLAIN;
	if (m.present & SVR_META_F_CONTROL)
		return TAP_CONTROL;
	if (m.present & SVR_META_F_FWD_CTX)
		return TAP_FORWARD;
	if (m.present & SVR_META_F_REV_CTX)
		return TAP_REVERSE;
	assert_int_equal(m.present, 0);
	return TAP_EMPTY;
}

/* Moves packets between the routers' WAN ports in both directions, logging each. */
static void
tap_relay(struct lab *lab)
{
	struct pkt_buf *pkts[32];
	unsigned n, i;

	n = io_rx_burst(lab->tap_a, pkts, 32);
	for (i = 0; i < n; i++) {
		assert_true(lab->tap_count < 64);
		lab->tap_log[lab->tap_count++] = tap_classify(lab, pkts[i]);
		tx_or_free(lab, lab->tap_b, pkts[i]);
	}
	n = io_rx_burst(lab->tap_b, pkts, 32);
	for (i = 0; i < n; i++) {
		assert_true(lab->tap_count < 64);
		lab->tap_log[lab->tap_count++] = tap_classify(lab, pkts[i]);
		tx_or_free(lab, lab->tap_a, pkts[i]);
	}
}

static void
lab_run(struct lab *lab)
{
	for (int round = 0; round < 4; round++) {
		router_poll(lab, &lab->base.a);
		tap_relay(lab);
		router_poll(lab, &lab->base.b);
		tap_relay(lab);
	}
}

/* The TCP segments of these tests carry text. */
static size_t
tcp_segment(uint8_t *l4, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
    const char *data)
{
	return svr_test_tcp_segment(l4, sport, dport, seq, ack, flags, data,
	    data != NULL ? strlen(data) : 0);
}

static size_t
icmp_echo(uint8_t *l4, uint8_t family, bool request, uint16_t id, uint16_t seq)
{
	return svr_test_icmp_echo(l4, family, request, id, seq, "abcdefghijklmnopqrstuvwxyz012345");
}

/*
 * Sends one packet from a host, runs the lab, and checks the other host received it
 * byte for byte and the tap saw the expected kinds of wire packets.
 */
static void
exchange(struct lab *lab, bool from_a, uint8_t proto, const uint8_t *l4, size_t l4_len,
    const enum tap_kind *expect, unsigned expect_n)
{
	uint8_t sent[2048];
	size_t len;
	struct pkt_buf *p, *got[4];
	unsigned n;

	len = svr_test_host_packet(&lab->base, sent, from_a, proto, l4, l4_len);
	p = pkt_pool_get(lab->base.pool);
	assert_non_null(p);
	assert_int_equal(pkt_buf_set(p, sent, len), 0);
	assert_int_equal(io_tx_burst(from_a ? lab->host_a : lab->host_b, &p, 1), 1);
	lab->tap_count = 0;
	lab_run(lab);

	n = io_rx_burst(from_a ? lab->host_b : lab->host_a, got, 4);
	if (n != 1)
		svr_test_drops_print(&lab->base);
	assert_int_equal(n, 1);
	assert_int_equal(got[0]->len, len);
	assert_memory_equal(pkt_buf_data(got[0]), sent, len);
	pkt_pool_put(lab->base.pool, got[0]);

	assert_int_equal(lab->tap_count, expect_n);
	for (unsigned i = 0; i < expect_n; i++)
		assert_int_equal(lab->tap_log[i], expect[i]);
}

static void
test_two_routers_tcp_exchange(void **state)
{
	struct lab *lab = *state;
	uint8_t l4[128];
	size_t n;
	static const enum tap_kind fwd[] = {TAP_FORWARD}, rev[] = {TAP_REVERSE},
	                           plain[] = {TAP_PLAIN};

	n = tcp_segment(l4, 50000, 443, 1000, 0, 0x02, NULL); /* SYN */
	exchange(lab, true, IPPROTO_TCP, l4, n, fwd, 1);
	n = tcp_segment(l4, 443, 50000, 9000, 1001, 0x12, NULL); /* SYN-ACK */
	exchange(lab, false, IPPROTO_TCP, l4, n, rev, 1);
	n = tcp_segment(l4, 50000, 443, 1001, 9001, 0x10, NULL); /* ACK */
	exchange(lab, true, IPPROTO_TCP, l4, n, plain, 1);
	n = tcp_segment(l4, 50000, 443, 1001, 9001, 0x18, "GET / HTTP/1.1\r\n\r\n");
	exchange(lab, true, IPPROTO_TCP, l4, n, plain, 1);
	n = tcp_segment(l4, 443, 50000, 9001, 1019, 0x18, "HTTP/1.1 200 OK\r\n\r\nhello");
	exchange(lab, false, IPPROTO_TCP, l4, n, plain, 1);
	n = tcp_segment(l4, 50000, 443, 1019, 9025, 0x11, NULL); /* FIN */
	exchange(lab, true, IPPROTO_TCP, l4, n, plain, 1);
	n = tcp_segment(l4, 443, 50000, 9025, 1020, 0x11, NULL); /* FIN */
	exchange(lab, false, IPPROTO_TCP, l4, n, plain, 1);
	n = tcp_segment(l4, 50000, 443, 1020, 9026, 0x10, NULL); /* last ACK */
	exchange(lab, true, IPPROTO_TCP, l4, n, plain, 1);

	assert_int_equal(session_table_count(lab->base.a.rt.sessions), 1);
	assert_int_equal(session_table_count(lab->base.b.rt.sessions), 1);
	svr_test_lab_assert_no_drops(&lab->base);
}

static void
test_two_routers_udp_exchange(void **state)
{
	struct lab *lab = *state;
	uint8_t l4[128];
	size_t n;
	static const enum tap_kind fwd[] = {TAP_FORWARD}, rev[] = {TAP_REVERSE},
	                           plain[] = {TAP_PLAIN};

	/* Two queries before any answer: both carry forward metadata. */
	n = svr_test_udp_datagram(l4, 40000, 53, "query-1", 7);
	exchange(lab, true, IPPROTO_UDP, l4, n, fwd, 1);
	n = svr_test_udp_datagram(l4, 40000, 53, "query-2", 7);
	exchange(lab, true, IPPROTO_UDP, l4, n, fwd, 1);
	n = svr_test_udp_datagram(l4, 53, 40000, "answer-1", 8);
	exchange(lab, false, IPPROTO_UDP, l4, n, rev, 1);
	/* Reverse metadata arrived: the ingress stops; the egress stops on seeing that. */
	n = svr_test_udp_datagram(l4, 40000, 53, "query-3", 7);
	exchange(lab, true, IPPROTO_UDP, l4, n, plain, 1);
	n = svr_test_udp_datagram(l4, 53, 40000, "answer-2", 8);
	exchange(lab, false, IPPROTO_UDP, l4, n, plain, 1);
	svr_test_lab_assert_no_drops(&lab->base);
}

static void
test_two_routers_icmp_echo(void **state)
{
	struct lab *lab = *state;
	uint8_t l4[128];
	size_t n;
	uint8_t proto = lab->base.family == ADDR_FAMILY_V4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	static const enum tap_kind fwd[] = {TAP_FORWARD}, rev[] = {TAP_REVERSE},
	                           plain[] = {TAP_PLAIN};

	/* ICMP has no ports: it travels as UDP on the waypoint tuple (tap checks UDP). */
	n = icmp_echo(l4, lab->base.family, true, 0x4242, 1);
	exchange(lab, true, proto, l4, n, fwd, 1);
	n = icmp_echo(l4, lab->base.family, false, 0x4242, 1);
	exchange(lab, false, proto, l4, n, rev, 1);
	n = icmp_echo(l4, lab->base.family, true, 0x4242, 2);
	exchange(lab, true, proto, l4, n, plain, 1);
	n = icmp_echo(l4, lab->base.family, false, 0x4242, 2);
	exchange(lab, false, proto, l4, n, plain, 1);
	svr_test_lab_assert_no_drops(&lab->base);
}

static void
test_two_routers_false_positive_gets_empty_block(void **state)
{
	struct lab *lab = *state;
	uint8_t l4[128], payload[16];
	size_t n;
	static const enum tap_kind fwd[] = {TAP_FORWARD}, rev[] = {TAP_REVERSE},
	                           empty[] = {TAP_EMPTY}, plain[] = {TAP_PLAIN};

	n = svr_test_udp_datagram(l4, 41000, 5000, "hello", 5);
	exchange(lab, true, IPPROTO_UDP, l4, n, fwd, 1);
	n = svr_test_udp_datagram(l4, 5000, 41000, "hi", 2);
	exchange(lab, false, IPPROTO_UDP, l4, n, rev, 1);
	n = svr_test_udp_datagram(l4, 41000, 5000, "again", 5);
	exchange(lab, true, IPPROTO_UDP, l4, n, plain, 1);
	/* A payload that happens to start with the cookie travels behind an empty block. */
	memcpy(payload, svr_meta_cookie, 8);
	memcpy(payload + 8, "payload!", 8);
	n = svr_test_udp_datagram(l4, 41000, 5000, payload, sizeof(payload));
	exchange(lab, true, IPPROTO_UDP, l4, n, empty, 1);
	n = svr_test_udp_datagram(l4, 5000, 41000, payload, sizeof(payload));
	exchange(lab, false, IPPROTO_UDP, l4, n, empty, 1);
	assert_int_equal(lab->base.a.rt.stats.false_positive_tx, 1);
	assert_int_equal(lab->base.b.rt.stats.false_positive_tx, 1);
	svr_test_lab_assert_no_drops(&lab->base);
}

static void
test_two_routers_one_way_flow_stops_metadata(void **state)
{
	struct lab *lab = *state;
	uint8_t l4[128];
	size_t n;
	static const enum tap_kind fwd[] = {TAP_FORWARD},
	                           fwd_then_ctrl[] = {TAP_FORWARD, TAP_CONTROL},
	                           plain[] = {TAP_PLAIN};

	for (int i = 0; i < SVR_UNIDIRECTIONAL_META_PACKETS - 1; i++) {
		n = svr_test_udp_datagram(l4, 42000, 514, "syslog line", 11);
		exchange(lab, true, IPPROTO_UDP, l4, n, fwd, 1);
	}
	/* The 4th metadata packet makes the egress send disable-forward-metadata. */
	n = svr_test_udp_datagram(l4, 42000, 514, "syslog line", 11);
	exchange(lab, true, IPPROTO_UDP, l4, n, fwd_then_ctrl, 2);
	n = svr_test_udp_datagram(l4, 42000, 514, "syslog line", 11);
	exchange(lab, true, IPPROTO_UDP, l4, n, plain, 1);
	assert_int_equal(lab->base.b.rt.stats.control_tx, 1);
	assert_int_equal(lab->base.a.rt.stats.control_rx, 1);
	svr_test_lab_assert_no_drops(&lab->base);
}

/* Puts a UDP packet from A's waypoint to B's straight on B's WAN link; B polls once. */
static void
wan_inject_to_b(struct lab *lab, const uint8_t *l4, size_t l4_len)
{
	uint8_t pkt[256];
	size_t len = svr_test_packet_build(&lab->base, pkt, lab->base.wan_family,
	    svr_test_waypoint_addr(&lab->base, true), svr_test_waypoint_addr(&lab->base, false),
	    IPPROTO_UDP, l4, l4_len);
	struct pkt_buf *p = pkt_pool_get(lab->base.pool);

	assert_int_equal(pkt_buf_set(p, pkt, len), 0);
	assert_int_equal(io_tx_burst(lab->tap_b, &p, 1), 1);
	router_poll(lab, &lab->base.b);
}

static void
test_two_routers_wan_garbage_is_counted(void **state)
{
	struct lab *lab = *state;
	uint8_t l4[128];

	/* A UDP packet to router B's waypoint with no session and no metadata. */
	wan_inject_to_b(lab, l4, svr_test_udp_datagram(l4, 16384, 16385, "no metadata", 11));
	assert_int_equal(lab->base.b.drops.count[PKT_DROP_META_REQUIRED], 1);
	assert_int_equal(io_mem_link_pending(lab->lan_b, 0), 0);

	/* Metadata whose TLV runs past its section. */
	memcpy(l4 + 8, svr_meta_cookie, 8);
	memcpy(l4 + 16, "\x10\x0c\x00\x06\x00\x02\x00\x0d\x0a\x00", 10);
	buf_store_be16(l4 + 4, 8 + 18);
	wan_inject_to_b(lab, l4, 8 + 18);
	assert_int_equal(lab->base.b.drops.count[PKT_DROP_META_TLV_OVERRUN], 1);
	assert_int_equal(session_table_count(lab->base.b.rt.sessions), 0);
}

static void
test_two_routers_slow_one_way_flow_stops_after_1s(void **state)
{
	struct lab *lab = *state;
	uint8_t l4[128];
	size_t n;
	static const enum tap_kind fwd[] = {TAP_FORWARD},
	                           fwd_then_ctrl[] = {TAP_FORWARD, TAP_CONTROL},
	                           plain[] = {TAP_PLAIN};

	n = svr_test_udp_datagram(l4, 42001, 514, "syslog line", 11);
	exchange(lab, true, IPPROTO_UDP, l4, n, fwd, 1);
	/* Second metadata packet, 1.5 s later: the time rule fires before the count rule. */
	lab->base.now_ns += 1500000000ull;
	exchange(lab, true, IPPROTO_UDP, l4, n, fwd_then_ctrl, 2);
	lab->base.now_ns += 1500000000ull;
	exchange(lab, true, IPPROTO_UDP, l4, n, plain, 1);
	assert_int_equal(lab->base.b.rt.stats.control_tx, 1);
	svr_test_lab_assert_no_drops(&lab->base);
}

static void
on_expire_release(struct session *s, uint32_t index, void *arg)
{
	(void)index;
	svr_session_release(arg, s);
}

static void
test_two_routers_expiry_hook_releases_ports(void **state)
{
	struct lab *lab = *state;
	uint8_t l4[128];
	size_t n;
	static const enum tap_kind fwd[] = {TAP_FORWARD};

	n = svr_test_udp_datagram(l4, 43001, 123, "ntp", 3);
	exchange(lab, true, IPPROTO_UDP, l4, n, fwd, 1);
	assert_int_equal(svr_waypoint_ports_in_use(lab->base.a.path.ports), 1);
	lab->base.now_ns += 181 * SVR_TEST_NS;
	assert_int_equal(session_table_expire(lab->base.a.rt.sessions, lab->base.now_ns,
	                     on_expire_release, &lab->base.a.rt),
	    1);
	assert_int_equal(svr_waypoint_ports_in_use(lab->base.a.path.ports), 0);
	assert_int_equal(session_table_count(lab->base.a.rt.sessions), 0);
}

/*
 * Randomized model test: random flows (TCP, UDP, ICMP echo) started from either site,
 * random packets in random directions. A naive model of the handshake rules predicts
 * the kind of every wire packet; delivery must be byte for byte. Seed: TERN_SEED.
 */
struct model_flow {
	uint8_t proto;
	bool initiator_a; /* which site sent the first packet */
	bool started;
	bool fwd_pending; /* the ingress still sends forward metadata */
	bool rev_pending; /* the egress still sends reverse metadata */
	bool disable_sent;
	unsigned fwd_meta_rx; /* forward metadata packets the egress received */
	unsigned rev_packets; /* packets from the responder */
	uint16_t port_a, port_b;
};

static void
test_two_routers_random_model(void **state)
{
	struct lab *lab = *state;
	struct model_flow flows[24];
	uint64_t rng = test_seed();
	uint8_t icmp = lab->base.family == ADDR_FAMILY_V4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;

	memset(flows, 0, sizeof(flows));
	for (unsigned i = 0; i < 24; i++) {
		static const uint8_t protos[] = {IPPROTO_TCP, IPPROTO_UDP, 0};

		flows[i].proto = protos[test_rand_below(&rng, 3)];
		if (flows[i].proto == 0)
			flows[i].proto = icmp;
		flows[i].port_a = (uint16_t)(20000 + i);
		flows[i].port_b = (uint16_t)(30000 + i);
	}
	for (unsigned step = 0; step < 600; step++) {
		struct model_flow *f = &flows[test_rand_below(&rng, 24)];
		bool from_a = test_rand(&rng) & 1;
		uint8_t l4[256], payload[64];
		size_t plen = 1 + test_rand_below(&rng, sizeof(payload)), n;
		enum tap_kind expect[2];
		unsigned expect_n = 1;
		bool from_initiator;

		for (size_t k = 0; k < plen; k++)
			payload[k] = (uint8_t)test_rand(&rng);
		payload[0] = (uint8_t)(payload[0] & 0x3f); /* never the cookie's first byte */
		if (!f->started) {
			f->started = true;
			f->initiator_a = from_a;
			f->fwd_pending = true;
		}
		from_initiator = from_a == f->initiator_a;
		if (from_initiator) {
			if (f->fwd_pending) {
				expect[0] = TAP_FORWARD;
				f->fwd_meta_rx++;
				f->rev_pending = true; /* the egress installs or keeps its state */
				if (f->fwd_meta_rx >= SVR_UNIDIRECTIONAL_META_PACKETS &&
				    f->rev_packets == 0 && f->proto != IPPROTO_TCP &&
				    !f->disable_sent) {
					f->disable_sent = true;
					f->fwd_pending = false;
					expect[1] = TAP_CONTROL;
					expect_n = 2;
				}
			} else {
				expect[0] = TAP_PLAIN;
				f->rev_pending = false;
			}
		} else {
			f->rev_packets++;
			if (f->rev_pending) {
				expect[0] = TAP_REVERSE;
				f->fwd_pending = false;
			} else {
				expect[0] = TAP_PLAIN;
			}
		}
		if (f->proto == IPPROTO_TCP) {
			n = tcp_segment(l4, from_a ? f->port_a : f->port_b,
			    from_a ? f->port_b : f->port_a, (uint32_t)test_rand(&rng),
			    (uint32_t)test_rand(&rng), 0x18, NULL);
			memcpy(l4 + n, payload, plen);
			n += plen;
		} else if (f->proto == IPPROTO_UDP) {
			n = svr_test_udp_datagram(l4, from_a ? f->port_a : f->port_b,
			    from_a ? f->port_b : f->port_a, payload, plen);
		} else {
			n = icmp_echo(l4, lab->base.family, from_a == f->initiator_a, f->port_a,
			    (uint16_t)step);
		}
		exchange(lab, from_a, f->proto, l4, n, expect, expect_n);
	}
	svr_test_lab_assert_no_drops(&lab->base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_two_routers_tcp_exchange, lab_setup_v4,
	        lab_teardown),
	    cmocka_unit_test_setup_teardown(test_two_routers_udp_exchange, lab_setup_v4,
	        lab_teardown),
	    cmocka_unit_test_setup_teardown(test_two_routers_icmp_echo, lab_setup_v4, lab_teardown),
	    cmocka_unit_test_setup_teardown(test_two_routers_tcp_exchange, lab_setup_v6,
	        lab_teardown),
	    cmocka_unit_test_setup_teardown(test_two_routers_udp_exchange, lab_setup_v6,
	        lab_teardown),
	    cmocka_unit_test_setup_teardown(test_two_routers_icmp_echo, lab_setup_v6, lab_teardown),
	    cmocka_unit_test_setup_teardown(test_two_routers_false_positive_gets_empty_block,
	        lab_setup_v4, lab_teardown),
	    cmocka_unit_test_setup_teardown(test_two_routers_slow_one_way_flow_stops_after_1s,
	        lab_setup_v4, lab_teardown),
	    cmocka_unit_test_setup_teardown(test_two_routers_one_way_flow_stops_metadata,
	        lab_setup_v4, lab_teardown),
	    cmocka_unit_test_setup_teardown(test_two_routers_wan_garbage_is_counted, lab_setup_v4,
	        lab_teardown),
	    cmocka_unit_test_setup_teardown(test_two_routers_wan_garbage_is_counted, lab_setup_v6,
	        lab_teardown),
	    cmocka_unit_test_setup_teardown(test_two_routers_expiry_hook_releases_ports,
	        lab_setup_v4, lab_teardown),
	    cmocka_unit_test_setup_teardown(test_two_routers_random_model, lab_setup_v4,
	        lab_teardown),
	    cmocka_unit_test_setup_teardown(test_two_routers_random_model, lab_setup_v6,
	        lab_teardown),
	    cmocka_unit_test_setup_teardown(test_two_routers_tcp_exchange, lab_setup_v6_over_v4,
	        lab_teardown),
	    cmocka_unit_test_setup_teardown(test_two_routers_udp_exchange, lab_setup_v6_over_v4,
	        lab_teardown),
	    cmocka_unit_test_setup_teardown(test_two_routers_icmp_echo, lab_setup_v6_over_v4,
	        lab_teardown),
	    cmocka_unit_test_setup_teardown(test_two_routers_random_model, lab_setup_v6_over_v4,
	        lab_teardown),
	    cmocka_unit_test_setup_teardown(test_two_routers_tcp_exchange, lab_setup_v4_over_v6,
	        lab_teardown),
	    cmocka_unit_test_setup_teardown(test_two_routers_icmp_echo, lab_setup_v4_over_v6,
	        lab_teardown),
	    cmocka_unit_test_setup_teardown(test_two_routers_random_model, lab_setup_v4_over_v6,
	        lab_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
