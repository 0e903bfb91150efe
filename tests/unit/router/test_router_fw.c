/*
 * The stateful firewall's decisions for packets without a session (router_fw.h) and the
 * resets it answers with (pkt/pkt_reset.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "lib/buf.h"
#include "pkt/pkt_csum.h"
#include "pkt/pkt_parse.h"
#include "pkt/pkt_reset.h"
#include "router/router_fw.h"

static struct pkt_pool *pool;

static int
setup(void **state)
{
	(void)state;
	pool = pkt_pool_new(8);
	return pool != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	pkt_pool_free(pool);
	return 0;
}

/*
 * A TCP segment 10.1.0.10:40000 -> 10.2.0.10:443 (or fd00:1::10 -> fd00:2::10) with
 * seq 1000, ack 5000, flags and payload bytes of data, parsed, checksums right.
 */
static struct pkt_buf *
segment(bool v6, uint8_t flags, size_t payload)
{
	struct pkt_buf *p = pkt_pool_get(pool);
	uint8_t b[200] = {0}, *tcp;
	size_t hl = v6 ? 40 : 20, len = hl + 20 + payload;
	enum pkt_drop_reason reason;

	assert_non_null(p);
	if (v6) {
		b[0] = 0x60;
		buf_store_be16(b + 4, (uint16_t)(20 + payload));
		b[6] = IPPROTO_TCP;
		b[7] = 64;
		b[8] = 0xfd, b[10] = 1, b[23] = 0x10;
		b[24] = 0xfd, b[26] = 2, b[39] = 0x10;
	} else {
		b[0] = 0x45;
		buf_store_be16(b + 2, (uint16_t)len);
		b[8] = 64;
		b[9] = IPPROTO_TCP;
		memcpy(b + 12, (uint8_t[]){10, 1, 0, 10}, 4);
		memcpy(b + 16, (uint8_t[]){10, 2, 0, 10}, 4);
		buf_store_be16(b + 10, pkt_csum_ipv4_header(b, 20));
	}
	tcp = b + hl;
	buf_store_be16(tcp, 40000);
	buf_store_be16(tcp + 2, 443);
	buf_store_be32(tcp + 4, 1000);
	buf_store_be32(tcp + 8, 5000);
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	memset(tcp + 20, 'x', payload);
	assert_int_equal(pkt_buf_set(p, b, len), 0);
	assert_int_equal(pkt_parse(p, &reason), 0);
	pkt_csum_fill(p->buf + p->head, &p->info);
	return p;
}

static void
test_pkt_tcp_reset_answers(void **state)
{
	(void)state;
	for (int v6 = 0; v6 < 2; v6++) {
		struct pkt_buf *in = segment(v6, 0x18, 7), *r = pkt_pool_get(pool);
		const uint8_t *d, *t;

		/* ACK set: the reset takes its ack number as seq, and only RST. */
		assert_int_equal(pkt_tcp_reset_build(in, r), 0);
		d = r->buf + r->head;
		t = d + r->info.l4_off;
		assert_true(pkt_csum_verify(d, &r->info));
		assert_int_equal(r->info.l4_proto, IPPROTO_TCP);
		assert_int_equal(r->info.sport, 443);
		assert_int_equal(r->info.dport, 40000);
		assert_int_equal(buf_load_be32(t + 4), 5000);
		assert_int_equal(t[13], 0x04);
		if (v6)
			assert_memory_equal(d + 8, in->buf + in->head + 24, 16);
		else
			assert_memory_equal(d + 12, in->buf + in->head + 16, 4);
		pkt_pool_put(pool, in);
		/* No ACK (a FIN with 3 bytes): seq 0, ack = seq + 3 + 1, RST|ACK. */
		in = segment(v6, 0x01, 3);
		assert_int_equal(pkt_tcp_reset_build(in, r), 0);
		d = r->buf + r->head;
		t = d + r->info.l4_off;
		assert_true(pkt_csum_verify(d, &r->info));
		assert_int_equal(buf_load_be32(t + 4), 0);
		assert_int_equal(buf_load_be32(t + 8), 1004);
		assert_int_equal(t[13], 0x14);
		pkt_pool_put(pool, in);
		/* A reset is never answered. */
		in = segment(v6, 0x04, 0);
		assert_int_equal(pkt_tcp_reset_build(in, r), -EINVAL);
		pkt_pool_put(pool, in);
		pkt_pool_put(pool, r);
	}
}

static void
test_router_fw_drop_mode(void **state)
{
	struct router_config_firewall cfg = {.resets_per_s = 100};
	struct router_fw fw;
	enum pkt_drop_reason reason;
	static const uint8_t bad[] = {0x10, 0x18, 0x12, 0x01, 0x04, 0x03, 0x06, 0x00};

	(void)state;
	router_fw_init(&fw, &cfg, 0);
	for (size_t i = 0; i < sizeof(bad); i++) {
		struct pkt_buf *p = segment(false, bad[i], 0);

		assert_int_equal(router_fw_lan_new(&fw, p, 0, 1, &reason), ROUTER_FW_DROP);
		assert_int_equal(reason, PKT_DROP_FW_TCP_NO_SESSION);
		pkt_pool_put(pool, p);
	}
	struct pkt_buf *syn = segment(true, 0x02, 0);

	assert_int_equal(router_fw_lan_new(&fw, syn, 1000000, 1, &reason), ROUTER_FW_PASS);
	pkt_pool_put(pool, syn);
}

/* Resets at most resets_per_s a second; beyond, a plain drop; a RST gets none. */
static void
test_router_fw_reset_mode_rate_limited(void **state)
{
	struct router_config_firewall cfg = {.tcp_no_session = ROUTER_CONFIG_TCP_NO_SESSION_RESET,
	    .resets_per_s = 3};
	struct router_fw fw;
	enum pkt_drop_reason reason;
	struct pkt_buf *ack = segment(false, 0x10, 0), *rst = segment(false, 0x04, 0);
	const uint64_t s = 1000000000ull;

	(void)state;
	router_fw_init(&fw, &cfg, 10 * s);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(router_fw_lan_new(&fw, ack, 0, 10 * s, &reason), ROUTER_FW_RESET);
		assert_int_equal(reason, PKT_DROP_FW_TCP_NO_SESSION_RESET);
	}
	assert_int_equal(router_fw_lan_new(&fw, ack, 0, 10 * s, &reason), ROUTER_FW_DROP);
	assert_int_equal(reason, PKT_DROP_FW_TCP_NO_SESSION);
	/* A third of a second later: one more token. */
	assert_int_equal(router_fw_lan_new(&fw, ack, 0, 10 * s + s / 3 + 1, &reason),
	    ROUTER_FW_RESET);
	assert_int_equal(router_fw_lan_new(&fw, ack, 0, 10 * s + s / 3 + 1, &reason),
	    ROUTER_FW_DROP);
	/* A long pause fills the bucket to a second's worth, no more. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(router_fw_lan_new(&fw, ack, 0, 100 * s, &reason), ROUTER_FW_RESET);
	assert_int_equal(router_fw_lan_new(&fw, ack, 0, 100 * s, &reason), ROUTER_FW_DROP);
	assert_int_equal(router_fw_lan_new(&fw, rst, 0, 200 * s, &reason), ROUTER_FW_DROP);
	assert_int_equal(reason, PKT_DROP_FW_TCP_NO_SESSION);
	pkt_pool_put(pool, ack);
	pkt_pool_put(pool, rst);
}

static void
test_router_fw_half_open_cap(void **state)
{
	struct router_config_firewall cfg = {.half_open_max = 10, .resets_per_s = 1};
	struct router_fw fw;
	enum pkt_drop_reason reason;
	struct pkt_buf *syn = segment(false, 0x02, 0);

	(void)state;
	router_fw_init(&fw, &cfg, 0);
	assert_int_equal(router_fw_lan_new(&fw, syn, 9, 0, &reason), ROUTER_FW_PASS);
	assert_int_equal(router_fw_lan_new(&fw, syn, 10, 0, &reason), ROUTER_FW_DROP);
	assert_int_equal(reason, PKT_DROP_FW_HALF_OPEN_LIMIT);
	assert_false(router_fw_half_open_full(&fw, 9));
	assert_true(router_fw_half_open_full(&fw, 10));
	cfg.half_open_max = 0;
	router_fw_init(&fw, &cfg, 0);
	assert_false(router_fw_half_open_full(&fw, UINT32_MAX));
	pkt_pool_put(pool, syn);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pkt_tcp_reset_answers),
	    cmocka_unit_test(test_router_fw_drop_mode),
	    cmocka_unit_test(test_router_fw_reset_mode_rate_limited),
	    cmocka_unit_test(test_router_fw_half_open_cap),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
