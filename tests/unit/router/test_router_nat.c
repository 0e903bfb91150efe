/*
 * The NAT relay (router_nat.h): wrapping an SVR packet for the peer's probe mapping and
 * unwrapping it back, byte for byte, over IPv4 and IPv6; what the unwrapper refuses.
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
#include "router/router_nat.h"
#include "svr/svr_test_lab.h"

static struct pkt_pool *pool;

/* A UDP packet sport -> dport with n payload bytes (a made-up SVR payload), parsed. */
static struct pkt_buf *
udp_packet(bool v6, uint16_t sport, uint16_t dport, size_t n)
{
	uint8_t d[2048] = {0};
	size_t ip = v6 ? 40 : 20, len = ip + 8 + n;
	struct pkt_buf *p = pkt_pool_get(pool);
	enum pkt_drop_reason reason;

	assert_non_null(p);
	if (v6) {
		d[0] = 0x60;
		buf_store_be16(d + 4, (uint16_t)(8 + n));
		d[6] = IPPROTO_UDP;
		d[7] = 64;
		d[8] = 0x20, d[9] = 0x01, d[23] = 1;   /* 2001::1 */
		d[24] = 0x20, d[25] = 0x01, d[39] = 2; /* 2001::2 */
	} else {
		d[0] = 0x45;
		buf_store_be16(d + 2, (uint16_t)len);
		d[8] = 64;
		d[9] = IPPROTO_UDP;
		d[12] = 192, d[13] = 0, d[14] = 2, d[15] = 2;
		d[16] = 192, d[17] = 0, d[18] = 2, d[19] = 3;
		buf_store_be16(d + 10, pkt_csum_ipv4_header(d, 20));
	}
	buf_store_be16(d + ip, sport);
	buf_store_be16(d + ip + 2, dport);
	buf_store_be16(d + ip + 4, (uint16_t)(8 + n));
	for (size_t i = 0; i < n; i++)
		d[ip + 8 + i] = (uint8_t)(0x4c + i * 7);
	assert_int_equal(pkt_buf_set(p, d, len), 0);
	assert_int_equal(pkt_parse(p, &reason), 0);
	pkt_csum_fill(p->buf + p->head, &p->info);
	return p;
}

/* What the peer's NAT does to a relay datagram: its destination port back to 1280. */
static void
nat_to_probe_port(struct pkt_buf *p)
{
	enum pkt_drop_reason reason;

	buf_store_be16(p->buf + p->head + p->info.l4_off + 2, ROUTER_NAT_PROBE_PORT);
	assert_int_equal(pkt_parse(p, &reason), 0);
	pkt_csum_fill(p->buf + p->head, &p->info);
}

static void
roundtrip(bool v6)
{
	struct pkt_buf *p = udp_packet(v6, 16384, 16385, 300);
	enum pkt_drop_reason reason;
	uint8_t before[2048];
	size_t len = p->len;
	const uint8_t *h;

	memcpy(before, p->buf + p->head, len);
	assert_false(router_nat_is_relay(p));
	assert_int_equal(router_nat_relay_wrap(p, 40001, 1500, &reason), 0);
	assert_int_equal(p->len, len + ROUTER_NAT_RELAY_HDR_LEN);
	assert_int_equal(p->info.sport, ROUTER_NAT_PROBE_PORT);
	assert_int_equal(p->info.dport, 40001);
	assert_true(pkt_csum_verify(p->buf + p->head, &p->info));
	/* Not a relay until the NAT maps the probe port back to 1280. */
	assert_false(router_nat_is_relay(p));
	nat_to_probe_port(p);
	assert_true(router_nat_is_relay(p));
	h = p->buf + p->head + p->info.payload_off;
	assert_int_equal(h[0], ROUTER_NAT_RELAY_TYPE);
	assert_int_equal(h[1], ROUTER_NAT_RELAY_VERSION);
	assert_int_equal(buf_load_be16(h + 2), 0);
	assert_int_equal(buf_load_be16(h + 4), 16384);
	assert_int_equal(buf_load_be16(h + 6), 16385);
	/* The addresses stay: the NAT in between maps them as for the probes. */
	assert_memory_equal(p->buf + p->head, before, v6 ? 4 : 2); /* version, length differs */
	assert_int_equal(router_nat_relay_unwrap(p, &reason), 0);
	assert_int_equal(p->len, len);
	/* Byte for byte what was wrapped, but the UDP checksum the NAT's rewrite changed. */
	assert_memory_equal(p->buf + p->head, before, (v6 ? 40 : 20) + 6);
	assert_memory_equal(p->buf + p->head + (v6 ? 48 : 28), before + (v6 ? 48 : 28),
	    len - (v6 ? 48 : 28));
	assert_true(pkt_csum_verify(p->buf + p->head, &p->info));
	assert_false(router_nat_is_relay(p));
	pkt_pool_put(pool, p);
}

static void
test_router_nat_relay_roundtrip_v4(void **state)
{
	(void)state;
	roundtrip(false);
}

static void
test_router_nat_relay_roundtrip_v6(void **state)
{
	(void)state;
	roundtrip(true);
}

static void
test_router_nat_relay_wrap_refusals(void **state)
{
	struct pkt_buf *p = udp_packet(false, 16384, 16385, 1472);
	enum pkt_drop_reason reason;

	(void)state;
	/* 1500 bytes already: 8 more would pass the path MTU. */
	assert_int_equal(router_nat_relay_wrap(p, 40001, 1500, &reason), -1);
	assert_int_equal(reason, PKT_DROP_NAT_RELAY_TOO_BIG);
	assert_int_equal(router_nat_relay_wrap(p, 40001, 0, &reason), 0); /* no limit known */
	pkt_pool_put(pool, p);
}

static void
test_router_nat_relay_unwrap_refusals(void **state)
{
	static const struct {
		size_t off;
		uint8_t value;
	} damage[] = {
	    {1, 2}, /* version */
	    {2, 1}, /* reserved */
	    {3, 1}, /* reserved */
	    {4, 0}, /* source port 0 (with byte 5) */
	    {6, 0}, /* destination port 0 (with byte 7) */
	};
	enum pkt_drop_reason reason;
	struct pkt_buf *p;

	(void)state;
	for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
		uint8_t *h;

		p = udp_packet(false, 16384, 16385, 40);
		assert_int_equal(router_nat_relay_wrap(p, 40001, 1500, &reason), 0);
		nat_to_probe_port(p);
		h = p->buf + p->head + p->info.payload_off;
		h[damage[i].off] = damage[i].value;
		if (damage[i].off == 4 || damage[i].off == 6)
			h[damage[i].off + 1] = 0;
		pkt_csum_fill(p->buf + p->head, &p->info);
		assert_int_equal(router_nat_relay_unwrap(p, &reason), -1);
		assert_int_equal(reason, PKT_DROP_NAT_RELAY_MALFORMED);
		pkt_pool_put(pool, p);
	}
	/* A wrong checksum: the wrapper's is the only one over the inner bytes. */
	p = udp_packet(false, 16384, 16385, 40);
	assert_int_equal(router_nat_relay_wrap(p, 40001, 1500, &reason), 0);
	nat_to_probe_port(p);
	p->buf[p->head + p->info.payload_off + 20] ^= 1;
	assert_int_equal(router_nat_relay_unwrap(p, &reason), -1);
	assert_int_equal(reason, PKT_DROP_L4_BAD_CHECKSUM);
	pkt_pool_put(pool, p);
	/* Shorter than the relay header, and not a relay at all. */
	p = udp_packet(false, 16384, ROUTER_NAT_PROBE_PORT, 4);
	p->buf[p->head + p->info.payload_off] = ROUTER_NAT_RELAY_TYPE;
	pkt_csum_fill(p->buf + p->head, &p->info);
	assert_true(router_nat_is_relay(p));
	assert_int_equal(router_nat_relay_unwrap(p, &reason), -1);
	assert_int_equal(reason, PKT_DROP_NAT_RELAY_MALFORMED);
	pkt_pool_put(pool, p);
	p = udp_packet(false, 1280, ROUTER_NAT_PROBE_PORT, 64);
	p->buf[p->head + p->info.payload_off] = 16; /* a probe */
	assert_false(router_nat_is_relay(p));
	assert_int_equal(router_nat_relay_unwrap(p, &reason), -1);
	pkt_pool_put(pool, p);
}

/* ---- the keep-alive sweep ------------------------------------------------------------ */

static struct svr_test_lab lab;
static unsigned flushes;

static void
flush_ctrl(void *arg)
{
	struct svr_router *rt = arg;

	flushes++;
	for (unsigned i = 0; i < rt->ctrl_out_count; i++)
		pkt_pool_put(lab.pool, rt->ctrl_out[i]);
	rt->ctrl_out_count = 0;
}

/* A UDP datagram from host A's port cport: a new session at A, or traffic on one. */
static void
a_sends(uint16_t cport)
{
	uint8_t l4[64], pkt[256];
	size_t len = svr_test_udp_datagram(l4, cport, 5004, "x", 1);
	struct pkt_buf *p = pkt_pool_get(lab.pool);
	enum pkt_drop_reason reason;
	enum svr_verdict v;

	len = svr_test_host_packet(&lab, pkt, true, IPPROTO_UDP, l4, len);
	assert_int_equal(pkt_buf_set(p, pkt, len), 0);
	assert_int_equal(pkt_parse(p, &reason), 0);
	svr_test_router_lan(&lab, &lab.a, &p, 1, &v);
	assert_int_equal(v, SVR_VERDICT_TO_WAN);
	pkt_pool_put(lab.pool, p);
}

static unsigned
sweep(struct router_nat_sweep *sw, uint8_t *rebind, uint64_t at_s, unsigned budget)
{
	unsigned n;

	lab.now_ns = 1000 * SVR_TEST_NS + at_s * SVR_TEST_NS;
	n = router_nat_sweep_run(sw, &lab.a.rt, rebind, lab.now_ns, budget, flush_ctrl, &lab.a.rt);
	assert_true(lab.a.rt.ctrl_out_count <= n); /* a keep-alive each (flushed when full) */
	flush_ctrl(&lab.a.rt);
	return n;
}

static void
test_router_nat_keepalive_schedule(void **state)
{
	struct router_nat_sweep sw = {0};
	uint8_t rebind[1] = {0};

	(void)state;
	svr_test_lab_init(&lab, ADDR_FAMILY_V4, ADDR_FAMILY_V4, 32, 5, false);
	lab.a.path.behind_nat = true;
	lab.now_ns = 1000 * SVR_TEST_NS;
	a_sends(41000);
	a_sends(41001);
	a_sends(41002);
	/* The first pass runs at once: nothing idle yet. */
	assert_int_equal(sweep(&sw, rebind, 0, 4096), 0);
	assert_false(sw.active);
	/* No pass before the interval, whatever the idleness. */
	assert_int_equal(sweep(&sw, rebind, 9, 4096), 0);
	/* 10 s on: every idle session gets one keep-alive, once per pass. */
	assert_int_equal(sweep(&sw, rebind, 10, 4096), 3);
	assert_int_equal(lab.a.rt.stats.keepalives_tx, 3);
	assert_int_equal(sweep(&sw, rebind, 11, 4096), 0);
	/* Traffic on one session: the next pass skips it. */
	lab.now_ns = 1015 * SVR_TEST_NS;
	a_sends(41001);
	assert_int_equal(sweep(&sw, rebind, 20, 4096), 2);
	/* A changed mapping: a pass at once, every session of the path, idle or not. */
	lab.now_ns = 1021 * SVR_TEST_NS;
	a_sends(41000);
	router_nat_sweep_rebind(&sw, rebind, 0, lab.now_ns);
	assert_int_equal(sweep(&sw, rebind, 21, 4096), 3);
	assert_int_equal(rebind[0], 0); /* the pass is over */
	/* A bounded number of sessions per call: the pass goes on where it stopped. */
	assert_int_equal(sweep(&sw, rebind, 31, 1), 1);
	assert_true(sw.active);
	assert_int_equal(sweep(&sw, rebind, 31, 1) + sweep(&sw, rebind, 31, 1), 2);
	assert_int_equal(sweep(&sw, rebind, 31, 1), 0);
	assert_false(sw.active);
	/* Sessions of a path not behind a NAT get none. */
	lab.a.path.behind_nat = false;
	assert_int_equal(sweep(&sw, rebind, 45, 4096), 0);
	assert_int_equal(lab.a.rt.stats.keepalives_tx, 3 + 2 + 3 + 3);
	svr_test_lab_fini(&lab);
}

static int
setup(void **state)
{
	(void)state;
	pool = pkt_pool_new(8);
	return pool == NULL;
}

static int
teardown(void **state)
{
	(void)state;
	assert_int_equal(pkt_pool_available(pool), pkt_pool_capacity(pool));
	pkt_pool_free(pool);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_router_nat_relay_roundtrip_v4),
	    cmocka_unit_test(test_router_nat_relay_roundtrip_v6),
	    cmocka_unit_test(test_router_nat_relay_wrap_refusals),
	    cmocka_unit_test(test_router_nat_relay_unwrap_refusals),
	    cmocka_unit_test(test_router_nat_keepalive_schedule),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
