/*
 * ICMP errors carried along their session (docs/protocol.md "ICMP errors"), in the
 * two-router lab of svr_test_lab.h, both families, clear and sealed, with the egress
 * translating the server's address and the client's (the service address and nat_pool
 * of the router's configuration):
 *
 *   host A --- router A ==== WAN ==== router B --- server (10.0.2.30 behind 10.0.2.20)
 *   10.0.1.10                                   sees the client as 10.0.2.1:2000
 *
 * The server (or a node beside it) answers a packet of A's with an ICMP error; A must
 * get it from the address it sent to, embedding exactly the header it sent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <string.h>

#include "lib/buf.h"
#include "pkt/pkt_csum.h"
#include "pkt/pkt_parse.h"
#include "session/session_table.h"
#include "svr/svr_meta.h"
#include "svr/svr_seal.h"
#include "svr/svr_transform.h"
#include "svr_test_lab.h"

struct icmp_lab {
	struct svr_test_lab base;
	bool nat; /* the egress translates both addresses */
	struct addr server, client;
};

static struct icmp_lab g_lab;

static const char *
server_addr(const struct icmp_lab *l)
{
	return l->base.family == ADDR_FAMILY_V4 ? "10.0.2.30" : "2001:db8:2::30";
}

static const char *
nat_addr(const struct icmp_lab *l)
{
	return l->base.family == ADDR_FAMILY_V4 ? "10.0.2.1" : "2001:db8:2::1";
}

static int
lab_setup(void **state, uint8_t family, uint8_t wan_family, bool security, bool nat)
{
	struct icmp_lab *l = &g_lab;

	memset(l, 0, sizeof(*l));
	svr_test_lab_init(&l->base, family, wan_family, 64, 7, security);
	if (security)
		svr_test_lab_keys_install(&l->base);
	if (family != wan_family)
		l->base.ip_id = 0;
	l->nat = nat;
	assert_int_equal(addr_parse(server_addr(l), &l->server), 0);
	assert_int_equal(addr_parse(nat_addr(l), &l->client), 0);
	*state = l;
	return 0;
}

static int
lab_teardown(void **state)
{
	struct icmp_lab *l = *state;

	svr_test_lab_fini(&l->base);
	return 0;
}

SVR_TEST_SETUP(setup_v4, lab_setup(state, ADDR_FAMILY_V4, ADDR_FAMILY_V4, false, false))
SVR_TEST_SETUP(setup_v6, lab_setup(state, ADDR_FAMILY_V6, ADDR_FAMILY_V6, false, false))
SVR_TEST_SETUP(setup_v4_nat, lab_setup(state, ADDR_FAMILY_V4, ADDR_FAMILY_V4, false, true))
SVR_TEST_SETUP(setup_v6_nat, lab_setup(state, ADDR_FAMILY_V6, ADDR_FAMILY_V6, false, true))
SVR_TEST_SETUP(setup_v4_sec_nat, lab_setup(state, ADDR_FAMILY_V4, ADDR_FAMILY_V4, true, true))
SVR_TEST_SETUP(setup_v6_sec, lab_setup(state, ADDR_FAMILY_V6, ADDR_FAMILY_V6, true, false))
SVR_TEST_SETUP(setup_v4_over_v6, lab_setup(state, ADDR_FAMILY_V4, ADDR_FAMILY_V6, false, true))

static struct pkt_buf *
buf_of(struct icmp_lab *l, const uint8_t *bytes, size_t len)
{
	struct pkt_buf *p = pkt_pool_get(l->base.pool);
	enum pkt_drop_reason reason;

	assert_non_null(p);
	assert_int_equal(pkt_buf_set(p, bytes, len), 0);
	assert_int_equal(pkt_parse(p, &reason), 0);
	return p;
}

/* One packet through r's LAN side (the expected verdict), or its WAN side. */
static struct pkt_buf *
lan_in(struct icmp_lab *l, struct svr_test_router *r, struct pkt_buf *p, enum svr_verdict expect)
{
	enum svr_verdict v;

	svr_test_router_lan(&l->base, r, &p, 1, &v);
	if (v != expect)
		svr_test_drops_print(&l->base);
	assert_int_equal(v, expect);
	if (v == SVR_VERDICT_DROP) {
		pkt_pool_put(l->base.pool, p);
		return NULL;
	}
	return p;
}

static struct pkt_buf *
wan_in(struct icmp_lab *l, struct svr_test_router *r, struct pkt_buf *p, enum svr_verdict expect)
{
	enum svr_verdict v;

	svr_wan_rx_burst(&r->rt, &p, 1, r->path.wan_zone, &v, l->base.now_ns);
	if (v == SVR_VERDICT_NEW_SESSION) {
		struct svr_accept accept = {.encrypt = r->encrypt};
		struct svr_meta m;

		v = SVR_VERDICT_DROP;
		if (l->nat && r == &l->base.b) {
			accept.server = &l->server;
			accept.client = &l->client;
			accept.client_port = 2000;
		}
		if (svr_wan_decode(&r->rt, p, &m) == 0) {
			/* As the worker: ICMP keeps its identifier (router_worker_accept). */
			if (m.fwd_ctx.proto == IPPROTO_ICMP || m.fwd_ctx.proto == IPPROTO_ICMPV6)
				accept.client_port = m.fwd_ctx.sport;
			v = svr_wan_first(&r->rt, p, &m, &accept, l->base.now_ns);
		}
	}
	assert_int_equal(v, expect);
	if (v == SVR_VERDICT_DROP) {
		pkt_pool_put(l->base.pool, p);
		return NULL;
	}
	return p;
}

/* The ICMP error type/code "port unreachable" or "packet too big" of the lab's family. */
static void
error_type(const struct icmp_lab *l, bool too_big, uint8_t *type, uint8_t *code)
{
	if (l->base.family == ADDR_FAMILY_V4) {
		*type = 3;
		*code = too_big ? 4 : 3;
	} else {
		*type = too_big ? 2 : 1;
		*code = too_big ? 0 : 4;
	}
}

/* An error from src to dst embedding the first cut bytes of the datagram inner. */
static size_t
error_build(const struct icmp_lab *l, uint8_t *out, const char *src, const char *dst, bool too_big,
    const uint8_t *inner, size_t inner_len, size_t cut)
{
	uint8_t l4[1500];
	uint8_t proto = l->base.family == ADDR_FAMILY_V4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;

	memset(l4, 0, 8);
	error_type(l, too_big, &l4[0], &l4[1]);
	if (too_big)
		buf_store_be16(l4 + (l->base.family == ADDR_FAMILY_V4 ? 6 : 6), 1300);
	if (cut > inner_len)
		cut = inner_len;
	memcpy(l4 + 8, inner, cut);
	return svr_test_packet_build(&l->base, out, l->base.family, src, dst, proto, l4, 8 + cut);
}

/* A sends l4 of proto to B; what B's LAN got (bytes) and what A sent. */
static size_t
a_to_b(struct icmp_lab *l, uint8_t proto, const uint8_t *l4, size_t l4_len, uint8_t *sent,
    size_t *sent_len, uint8_t *got)
{
	struct pkt_buf *p;
	size_t n;

	*sent_len = svr_test_host_packet(&l->base, sent, true, proto, l4, l4_len);
	p = lan_in(l, &l->base.a, buf_of(l, sent, *sent_len), SVR_VERDICT_TO_WAN);
	p = wan_in(l, &l->base.b, p, SVR_VERDICT_TO_LAN);
	n = p->len;
	memcpy(got, pkt_buf_data(p), n);
	pkt_pool_put(l->base.pool, p);
	return n;
}

/* Checks what A received: the error from the address A sent to, embedding `sent`. */
static void
assert_error_at_a(struct icmp_lab *l, struct pkt_buf *p, bool too_big, const uint8_t *sent,
    size_t cut)
{
	const uint8_t *d = pkt_buf_data(p);
	const struct pkt_info *info = &p->info;
	uint8_t type, code;
	struct addr a, b;

	error_type(l, too_big, &type, &code);
	assert_true(info->flags & PKT_INFO_ICMP_ERROR);
	assert_int_equal(info->icmp_type, type);
	assert_int_equal(info->icmp_code, code);
	assert_int_equal(addr_parse(svr_test_host_addr(&l->base, false), &b), 0);
	assert_int_equal(addr_parse(svr_test_host_addr(&l->base, true), &a), 0);
	assert_memory_equal(d + pkt_info_src_off(info), b.bytes, l->base.family == 4 ? 4 : 16);
	assert_memory_equal(d + pkt_info_dst_off(info), a.bytes, l->base.family == 4 ? 4 : 16);
	assert_true(pkt_csum_verify(d, info));
	assert_int_equal(info->ip_len - info->payload_off, cut);
	assert_memory_equal(d + info->payload_off, sent, cut);
	assert_int_equal(p->port, SVR_TEST_LAN_PORT);
}

static void
udp_port_unreachable(void **state, bool too_big)
{
	struct icmp_lab *l = *state;
	uint8_t l4[64], sent[256], got[512], err[1500];
	size_t l4_len, sent_len, got_len, n;
	uint32_t before_a, before_b;
	struct pkt_buf *p;
	struct addr gs, gd;
	char gsrc[64], gdst[64];
	const struct pkt_info *info;

	l4_len = svr_test_udp_datagram(l4, 40000, 53, "query-1", 7);
	got_len = a_to_b(l, IPPROTO_UDP, l4, l4_len, sent, &sent_len, got);
	/* The server answers from where the packet went, to where it came from. */
	{
		struct pkt_buf *q = buf_of(l, got, got_len);

		info = &q->info;
		if (l->base.family == ADDR_FAMILY_V4) {
			addr_set_v4(&gs, got + pkt_info_dst_off(info));
			addr_set_v4(&gd, got + pkt_info_src_off(info));
		} else {
			addr_set_v6(&gs, got + pkt_info_dst_off(info));
			addr_set_v6(&gd, got + pkt_info_src_off(info));
		}
		if (l->nat) {
			assert_true(addr_equal(&gs, &l->server));
			assert_true(addr_equal(&gd, &l->client));
			assert_int_equal(q->info.sport, 2000);
		}
		pkt_pool_put(l->base.pool, q);
	}
	assert_int_equal(addr_format(&gs, gsrc, sizeof(gsrc)), 0);
	assert_int_equal(addr_format(&gd, gdst, sizeof(gdst)), 0);
	before_a = session_table_count(l->base.a.rt.sessions);
	before_b = session_table_count(l->base.b.rt.sessions);
	n = error_build(l, err, gsrc, gdst, too_big, got, got_len, got_len);
	p = lan_in(l, &l->base.b, buf_of(l, err, n), SVR_VERDICT_TO_WAN);
	assert_int_equal(p->info.l4_proto, IPPROTO_UDP);
	assert_true(svr_meta_has_cookie(pkt_buf_data(p) + p->info.payload_off,
	    p->info.ip_len - p->info.payload_off));
	if (l->base.b.rt.security) /* the message is sealed: the server's address is not there */
		assert_false(svr_test_contains(pkt_buf_data(p), p->len, "query-1"));
	assert_int_equal(l->base.b.rt.stats.icmp_errors_tx, 1);
	p = wan_in(l, &l->base.a, p, SVR_VERDICT_TO_LAN);
	assert_error_at_a(l, p, too_big, sent, sent_len);
	pkt_pool_put(l->base.pool, p);
	assert_int_equal(l->base.a.rt.stats.icmp_errors_rx, 1);
	/* Errors never make sessions. */
	assert_int_equal(session_table_count(l->base.a.rt.sessions), before_a);
	assert_int_equal(session_table_count(l->base.b.rt.sessions), before_b);
	svr_test_lab_assert_no_drops(&l->base);
}

static void
test_icmp_udp_port_unreachable_reaches_client(void **state)
{
	udp_port_unreachable(state, false);
}

static void
test_icmp_packet_too_big_reaches_client(void **state)
{
	udp_port_unreachable(state, true);
}

/* A TCP session travels as TCP; its error rides UDP on the same tuple. */
static void
test_icmp_tcp_error_rides_udp(void **state)
{
	struct icmp_lab *l = *state;
	uint8_t l4[64], sent[256], got[512], err[1500];
	size_t l4_len, sent_len, got_len, n;
	struct pkt_buf *p, *q;
	char gsrc[64], gdst[64];
	struct addr gs, gd;

	l4_len = svr_test_tcp_segment(l4, 40001, 80, 1000, 0, 0x02, NULL, 0);
	got_len = a_to_b(l, IPPROTO_TCP, l4, l4_len, sent, &sent_len, got);
	q = buf_of(l, got, got_len);
	if (l->base.family == ADDR_FAMILY_V4) {
		addr_set_v4(&gs, got + pkt_info_dst_off(&q->info));
		addr_set_v4(&gd, got + pkt_info_src_off(&q->info));
	} else {
		addr_set_v6(&gs, got + pkt_info_dst_off(&q->info));
		addr_set_v6(&gd, got + pkt_info_src_off(&q->info));
	}
	pkt_pool_put(l->base.pool, q);
	assert_int_equal(addr_format(&gs, gsrc, sizeof(gsrc)), 0);
	assert_int_equal(addr_format(&gd, gdst, sizeof(gdst)), 0);
	/* Only the IP header and 8 bytes of TCP: what RFC 792 promises. */
	n = error_build(l, err, gsrc, gdst, true, got, got_len,
	    (l->base.family == ADDR_FAMILY_V4 ? 20 : 40) + 8);
	p = lan_in(l, &l->base.b, buf_of(l, err, n), SVR_VERDICT_TO_WAN);
	assert_int_equal(p->info.l4_proto, IPPROTO_UDP);
	p = wan_in(l, &l->base.a, p, SVR_VERDICT_TO_LAN);
	/* The TCP checksum is past the cut: the embedded bytes are A's as sent. */
	assert_error_at_a(l, p, true, sent, (l->base.family == ADDR_FAMILY_V4 ? 20 : 40) + 8);
	pkt_pool_put(l->base.pool, p);
	svr_test_lab_assert_no_drops(&l->base);
}

/* The other way: A's LAN reports an error about what B's server sent. */
static void
test_icmp_error_toward_egress(void **state)
{
	struct icmp_lab *l = *state;
	uint8_t l4[64], sent[256], got[512], err[1500], ans[256];
	size_t l4_len, sent_len, got_len, n, ans_len;
	struct pkt_buf *p;

	l4_len = svr_test_udp_datagram(l4, 40002, 123, "ntp", 3);
	got_len = a_to_b(l, IPPROTO_UDP, l4, l4_len, sent, &sent_len, got);
	(void)got_len;
	/* B answers (from the server to the client as B's LAN sees them). */
	{
		struct pkt_buf *q = buf_of(l, got, got_len);
		char s[64], d[64];
		struct addr as, ad;

		if (l->base.family == ADDR_FAMILY_V4) {
			addr_set_v4(&as, got + pkt_info_dst_off(&q->info));
			addr_set_v4(&ad, got + pkt_info_src_off(&q->info));
		} else {
			addr_set_v6(&as, got + pkt_info_dst_off(&q->info));
			addr_set_v6(&ad, got + pkt_info_src_off(&q->info));
		}
		l4_len = svr_test_udp_datagram(l4, 123, q->info.sport, "time", 4);
		pkt_pool_put(l->base.pool, q);
		assert_int_equal(addr_format(&as, s, sizeof(s)), 0);
		assert_int_equal(addr_format(&ad, d, sizeof(d)), 0);
		ans_len = svr_test_packet_build(&l->base, ans, l->base.family, s, d, IPPROTO_UDP,
		    l4, l4_len);
	}
	p = lan_in(l, &l->base.b, buf_of(l, ans, ans_len), SVR_VERDICT_TO_WAN);
	p = wan_in(l, &l->base.a, p, SVR_VERDICT_TO_LAN);
	/* Host A's stack: port unreachable about what it got. */
	n = error_build(l, err, svr_test_host_addr(&l->base, true),
	    svr_test_host_addr(&l->base, false), false, pkt_buf_data(p), p->len, p->len);
	pkt_pool_put(l->base.pool, p);
	p = lan_in(l, &l->base.a, buf_of(l, err, n), SVR_VERDICT_TO_WAN);
	p = wan_in(l, &l->base.b, p, SVR_VERDICT_TO_LAN);
	/* The server gets it from the client's address as it knows it, about its answer. */
	assert_true(p->info.flags & PKT_INFO_ICMP_ERROR);
	assert_true(pkt_csum_verify(pkt_buf_data(p), &p->info));
	assert_int_equal(p->info.ip_len - p->info.payload_off, ans_len);
	assert_memory_equal(pkt_buf_data(p) + p->info.payload_off, ans, ans_len);
	pkt_pool_put(l->base.pool, p);
	assert_int_equal(l->base.b.rt.stats.icmp_errors_rx, 1);
	svr_test_lab_assert_no_drops(&l->base);
}

/* Echo sessions are keyed by their identifier, which the error embeds. */
static void
test_icmp_echo_host_unreachable(void **state)
{
	struct icmp_lab *l = *state;
	uint8_t l4[64], sent[256], got[512], err[1500];
	size_t l4_len, sent_len, got_len, n;
	uint8_t proto = l->base.family == ADDR_FAMILY_V4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	struct pkt_buf *p, *q;
	char s[64], d[64];
	struct addr as, ad;

	/* The worker refuses translated ICMPv6 sessions (their checksum covers the addresses). */
	if (l->nat && l->base.family == ADDR_FAMILY_V6)
		return;
	l4_len = svr_test_icmp_echo(l4, l->base.family, true, 0x4242, 1,
	    "0123456789abcdef0123456789abcdef");
	got_len = a_to_b(l, proto, l4, l4_len, sent, &sent_len, got);
	q = buf_of(l, got, got_len);
	if (l->base.family == ADDR_FAMILY_V4) {
		addr_set_v4(&as, got + pkt_info_dst_off(&q->info));
		addr_set_v4(&ad, got + pkt_info_src_off(&q->info));
	} else {
		addr_set_v6(&as, got + pkt_info_dst_off(&q->info));
		addr_set_v6(&ad, got + pkt_info_src_off(&q->info));
	}
	pkt_pool_put(l->base.pool, q);
	assert_int_equal(addr_format(&as, s, sizeof(s)), 0);
	assert_int_equal(addr_format(&ad, d, sizeof(d)), 0);
	n = error_build(l, err, s, d, false, got, got_len, got_len);
	p = lan_in(l, &l->base.b, buf_of(l, err, n), SVR_VERDICT_TO_WAN);
	p = wan_in(l, &l->base.a, p, SVR_VERDICT_TO_LAN);
	assert_error_at_a(l, p, false, sent, sent_len);
	pkt_pool_put(l->base.pool, p);
	svr_test_lab_assert_no_drops(&l->base);
}

/* Unsolicited, malformed, and from the WAN side: dropped, counted, no session. */
static void
test_icmp_error_without_session_dropped(void **state)
{
	struct icmp_lab *l = *state;
	uint8_t l4[64], inner[256], err[1500];
	size_t l4_len, inner_len, n;

	l4_len = svr_test_udp_datagram(l4, 53, 40009, "x", 1);
	inner_len = svr_test_host_packet(&l->base, inner, true, IPPROTO_UDP, l4, l4_len);
	n = error_build(l, err, svr_test_host_addr(&l->base, false),
	    svr_test_host_addr(&l->base, true), false, inner, inner_len, inner_len);
	(void)lan_in(l, &l->base.b, buf_of(l, err, n), SVR_VERDICT_DROP);
	assert_int_equal(l->base.b.drops.count[PKT_DROP_FW_ICMP_ERROR_NO_SESSION], 1);
	/* Cut inside the embedded UDP header. */
	n = error_build(l, err, svr_test_host_addr(&l->base, false),
	    svr_test_host_addr(&l->base, true), false, inner, inner_len,
	    (l->base.family == ADDR_FAMILY_V4 ? 20 : 40) + 4);
	(void)lan_in(l, &l->base.b, buf_of(l, err, n), SVR_VERDICT_DROP);
	assert_int_equal(l->base.b.drops.count[PKT_DROP_FW_ICMP_ERROR_MALFORMED], 1);
	/* An error arriving on the WAN side as it is. */
	n = error_build(l, err, svr_test_waypoint_addr(&l->base, true),
	    svr_test_waypoint_addr(&l->base, false), false, inner, inner_len, inner_len);
	if (l->base.family == l->base.wan_family)
		(void)wan_in(l, &l->base.b, buf_of(l, err, n), SVR_VERDICT_DROP);
	assert_int_equal(session_table_count(l->base.a.rt.sessions), 0);
	assert_int_equal(session_table_count(l->base.b.rt.sessions), 0);
	if (l->base.family == l->base.wan_family)
		assert_int_equal(l->base.b.drops.count[PKT_DROP_FW_ICMP_ERROR_NO_SESSION], 2);
}

/*
 * A peer's carrier whose 0x8004 message is longer than the 400 bytes a sender cuts to
 * (docs/protocol.md section 19): malformed, not delivered.
 */
static void
test_icmp_error_carrier_too_long_dropped(void **state)
{
	struct icmp_lab *l = *state;
	uint8_t l4[64], sent[256], got[512], err[1500], *d, *block;
	size_t l4_len, sent_len, got_len, n, hlen, end, off, grow;
	struct pkt_buf *p;
	struct addr gs, gd;
	char gsrc[64], gdst[64];
	enum pkt_drop_reason reason;

	assert_false(l->base.b.rt.security);
	l4_len = svr_test_udp_datagram(l4, 40000, 53, "query-1", 7);
	got_len = a_to_b(l, IPPROTO_UDP, l4, l4_len, sent, &sent_len, got);
	/* The server's answer goes from the address the datagram went to. */
	p = buf_of(l, got, got_len);
	if (l->base.family == ADDR_FAMILY_V4) {
		addr_set_v4(&gs, got + pkt_info_dst_off(&p->info));
		addr_set_v4(&gd, got + pkt_info_src_off(&p->info));
	} else {
		addr_set_v6(&gs, got + pkt_info_dst_off(&p->info));
		addr_set_v6(&gd, got + pkt_info_src_off(&p->info));
	}
	pkt_pool_put(l->base.pool, p);
	assert_int_equal(addr_format(&gs, gsrc, sizeof(gsrc)), 0);
	assert_int_equal(addr_format(&gd, gdst, sizeof(gdst)), 0);
	n = error_build(l, err, gsrc, gdst, false, got, got_len, got_len);
	p = lan_in(l, &l->base.b, buf_of(l, err, n), SVR_VERDICT_TO_WAN);
	/* The message TLV is the block's last: grow it to 401 bytes (zeros after it). */
	d = pkt_buf_data(p);
	block = d + p->info.payload_off;
	hlen = svr_meta_header_len(block);
	end = hlen + svr_meta_payload_len(block);
	for (off = hlen; buf_load_be16(block + off) != SVR_TLV_TERN_ICMP_ERROR;)
		off += 4 + buf_load_be16(block + off + 2);
	assert_int_equal(off + 4 + buf_load_be16(block + off + 2), end);
	grow = 401 - buf_load_be16(block + off + 2);
	assert_non_null(pkt_buf_put(p, grow));
	d = pkt_buf_data(p);
	block = d + p->info.payload_off;
	memset(block + end, 0, grow);
	buf_store_be16(block + off + 2, 401);
	buf_store_be16(block + SVR_META_COOKIE_LEN + 2, (uint16_t)(end - hlen + grow));
	if (l->base.wan_family == ADDR_FAMILY_V4)
		buf_store_be16(d + 2, (uint16_t)p->len);
	else
		buf_store_be16(d + 4, (uint16_t)(p->len - 40));
	buf_store_be16(d + p->info.l4_off + 4, (uint16_t)(p->len - p->info.l4_off));
	if (l->base.wan_family == ADDR_FAMILY_V4) {
		buf_store_be16(d + 10, 0);
		buf_store_be16(d + 10, pkt_csum_ipv4_header(d, 20));
	}
	assert_int_equal(pkt_parse(p, &reason), 0);
	pkt_csum_fill(d, &p->info);
	(void)wan_in(l, &l->base.a, p, SVR_VERDICT_DROP);
	assert_int_equal(l->base.a.drops.count[PKT_DROP_FW_ICMP_ERROR_MALFORMED], 1);
	assert_int_equal(l->base.a.rt.stats.icmp_errors_rx, 0);
}

#define ICMP_TESTS(setup)                                                                          \
	cmocka_unit_test_setup_teardown(test_icmp_udp_port_unreachable_reaches_client, setup,      \
	    lab_teardown),                                                                         \
	    cmocka_unit_test_setup_teardown(test_icmp_packet_too_big_reaches_client, setup,        \
	        lab_teardown),                                                                     \
	    cmocka_unit_test_setup_teardown(test_icmp_tcp_error_rides_udp, setup, lab_teardown),   \
	    cmocka_unit_test_setup_teardown(test_icmp_error_toward_egress, setup, lab_teardown),   \
	    cmocka_unit_test_setup_teardown(test_icmp_echo_host_unreachable, setup, lab_teardown), \
	    cmocka_unit_test_setup_teardown(test_icmp_error_without_session_dropped, setup,        \
	        lab_teardown)

/* The block is grown in clear: the labs without security. */
#define ICMP_CLEAR_TESTS(setup)                                                                    \
	cmocka_unit_test_setup_teardown(test_icmp_error_carrier_too_long_dropped, setup,           \
	    lab_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    ICMP_TESTS(setup_v4),
	    ICMP_TESTS(setup_v6),
	    ICMP_TESTS(setup_v4_nat),
	    ICMP_TESTS(setup_v6_nat),
	    ICMP_TESTS(setup_v4_sec_nat),
	    ICMP_TESTS(setup_v6_sec),
	    ICMP_TESTS(setup_v4_over_v6),
	    ICMP_CLEAR_TESTS(setup_v4),
	    ICMP_CLEAR_TESTS(setup_v6),
	    ICMP_CLEAR_TESTS(setup_v4_nat),
	    ICMP_CLEAR_TESTS(setup_v6_nat),
	    ICMP_CLEAR_TESTS(setup_v4_over_v6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
