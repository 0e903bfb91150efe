/*
 * Unit tests of pkt/pkt_csum: known vectors, the fast sum against a byte-at-a-time
 * model, and incremental updates against full recomputation after random rewrites.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "pkt/pkt_csum.h"
#include "pkt/pkt_parse.h"
#include "pkt_test_build.h"
#include "test_rand.h"

static void
test_pkt_csum_partial_rfc1071_example(void **state)
{
	/* RFC 1071 section 3: the sum of these words is ddf2 (folded). */
	static const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};

	(void)state;
	assert_int_equal(pkt_csum_fold(pkt_csum_partial(data, sizeof(data), 0)), 0xddf2);
	/* The same sum in two pieces, split on a word boundary. */
	assert_int_equal(pkt_csum_fold(pkt_csum_partial(data + 4, 4, pkt_csum_partial(data, 4, 0))),
	    0xddf2);
}

static void
test_pkt_csum_partial_odd_length_pads(void **state)
{
	static const uint8_t data[] = {0x12, 0x34, 0x56};

	(void)state;
	assert_int_equal(pkt_csum_fold(pkt_csum_partial(data, 3, 0)), 0x1234 + 0x5600);
	assert_int_equal(pkt_csum_fold(pkt_csum_partial(data, 1, 0)), 0x1200);
	assert_int_equal(pkt_csum_partial(data, 0, 0), 0);
	assert_int_equal(pkt_csum_fold(pkt_csum_partial(data, 0, 0x12345)), 0x2346);
}

static void
test_pkt_csum_ipv4_header_real(void **state)
{
	/* A captured IPv4/UDP header (192.168.0.1 -> 192.168.0.199), checksum b861. */
	static const uint8_t hdr[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
	    0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
	uint8_t copy[20];

	(void)state;
	assert_int_equal(pkt_csum_ipv4_header(hdr, 20), 0xb861);
	/* The stored field is ignored. */
	memcpy(copy, hdr, 20);
	copy[10] = 0xde;
	copy[11] = 0xad;
	assert_int_equal(pkt_csum_ipv4_header(copy, 20), 0xb861);
	assert_int_equal(pkt_csum_fold(pkt_csum_partial(hdr, 20, 0)), 0xffff);
}

static void
test_pkt_csum_partial_random_vs_model(void **state)
{
	static uint8_t data[4096 + 16];
	uint64_t rng = test_seed();

	(void)state;
	for (int iter = 0; iter < 5000; iter++) {
		size_t align = test_rand_below(&rng, 8);
		size_t len = test_rand_below(&rng, iter < 4000 ? 100 : 4096);
		uint32_t sum = (uint32_t)test_rand(&rng);
		bool ones = test_rand_below(&rng, 8) == 0;

		for (size_t i = 0; i < len; i++)
			data[align + i] = ones ? 0xff : (uint8_t)test_rand(&rng);
		if (test_rand_below(&rng, 4) == 0)
			sum = 0;
		assert_int_equal(pkt_csum_fold(pkt_csum_partial(data + align, len, sum)),
		    tb_sum(data + align, len, sum));
	}
}

static void
test_pkt_csum_l4_field_off_protocols(void **state)
{
	(void)state;
	assert_int_equal(pkt_csum_l4_field_off(TB_PROTO_TCP), 16);
	assert_int_equal(pkt_csum_l4_field_off(TB_PROTO_UDP), 6);
	assert_int_equal(pkt_csum_l4_field_off(TB_PROTO_ICMP), 2);
	assert_int_equal(pkt_csum_l4_field_off(TB_PROTO_ICMPV6), 2);
	assert_int_equal(pkt_csum_l4_field_off(TB_PROTO_ESP), -1);
	assert_int_equal(pkt_csum_l4_field_off(TB_PROTO_GRE), -1);
}

/* Builds one random packet of the given kind; returns its length. */
static size_t
build_random_packet(uint8_t *p, int kind, uint64_t *rng)
{
	uint8_t l4[64];
	size_t l4_len, payload = test_rand_below(rng, 300);
	bool v6 = kind >= 3;
	uint8_t proto;

	switch (kind % 3) {
	case 0:
		proto = TB_PROTO_TCP;
		l4_len =
		    tb_tcp(l4, (uint16_t)test_rand(rng), (uint16_t)test_rand(rng), 0x18, NULL, 0);
		break;
	case 1:
		proto = TB_PROTO_UDP;
		l4_len = tb_udp(l4, (uint16_t)test_rand(rng), (uint16_t)test_rand(rng), payload);
		break;
	default:
		proto = v6 ? TB_PROTO_ICMPV6 : TB_PROTO_ICMP;
		l4_len = tb_icmp(l4, v6 ? 128 : 8, 0, (uint16_t)test_rand(rng), 1);
		break;
	}
	if (v6)
		return tb_v6_packet(p, proto, NULL, 0, l4, l4_len, payload);
	return tb_v4_packet(p, proto, l4, l4_len, payload, NULL, 0);
}

static void
test_pkt_csum_l4_matches_model(void **state)
{
	static uint8_t p[2048];
	uint64_t rng = test_seed();

	(void)state;
	for (int iter = 0; iter < 600; iter++) {
		int kind = (int)test_rand_below(&rng, 6);
		size_t len = build_random_packet(p, kind, &rng);
		struct pkt_info info;
		enum pkt_drop_reason reason;
		int field;

		assert_int_equal(pkt_parse_bytes(p, len, &info, &reason), 0);
		/* Random payload, and a random stored checksum that must be ignored. */
		for (size_t i = info.payload_off; i < len; i++)
			p[i] = (uint8_t)test_rand(&rng);
		field = pkt_csum_l4_field_off(info.l4_proto);
		assert_true(field >= 0);
		tb_be16(p + info.l4_off + field, (uint16_t)test_rand(&rng));
		assert_int_equal(pkt_csum_l4(p, &info),
		    tb_l4_csum(p, kind >= 3, info.l4_proto, p + info.l4_off, len - info.l4_off,
		        (size_t)field));
		pkt_csum_fill(p, &info);
		assert_true(pkt_csum_verify(p, &info));
		assert_int_equal(tb_get16(p + info.l4_off + field), pkt_csum_l4(p, &info));
		/* Any single bit flip in the L4 segment is caught. */
		p[info.l4_off + test_rand_below(&rng, len - info.l4_off)] ^=
		    (uint8_t)(1u << test_rand_below(&rng, 8));
		assert_false(pkt_csum_verify(p, &info));
	}
}

static void
test_pkt_csum_verify_ipv4_header_corrupt(void **state)
{
	uint8_t p[128], l4[8];
	size_t len = tb_v4_packet(p, TB_PROTO_UDP, l4, tb_udp(l4, 1, 2, 10), 10, NULL, 0);
	struct pkt_info info;
	enum pkt_drop_reason reason;

	(void)state;
	assert_int_equal(pkt_parse_bytes(p, len, &info, &reason), 0);
	pkt_csum_fill(p, &info);
	assert_true(pkt_csum_verify(p, &info));
	p[8]--; /* TTL without the checksum fix */
	assert_false(pkt_csum_verify(p, &info));
}

static void
test_pkt_csum_verify_udp_zero(void **state)
{
	uint8_t p[128], l4[8];
	size_t len;
	struct pkt_info info;
	enum pkt_drop_reason reason;

	(void)state;
	/* IPv4: 0 means "no checksum" and is accepted. */
	len = tb_v4_packet(p, TB_PROTO_UDP, l4, tb_udp(l4, 53, 5353, 12), 12, NULL, 0);
	assert_int_equal(pkt_parse_bytes(p, len, &info, &reason), 0);
	assert_int_equal(tb_get16(p + info.l4_off + 6), 0);
	assert_true(pkt_csum_verify(p, &info));
	/* IPv6: a zero UDP checksum is invalid (RFC 8200 section 8.1). */
	len = tb_v6_packet(p, TB_PROTO_UDP, NULL, 0, l4, tb_udp(l4, 53, 5353, 12), 12);
	assert_int_equal(pkt_parse_bytes(p, len, &info, &reason), 0);
	assert_false(pkt_csum_verify(p, &info));
	pkt_csum_fill(p, &info);
	assert_true(pkt_csum_verify(p, &info));
}

/* A UDP packet whose computed checksum is exactly 0 is sent as 0xffff (RFC 768). */
static void
test_pkt_csum_l4_udp_zero_becomes_ffff(void **state)
{
	uint8_t p[128], l4[8];
	size_t len = tb_v4_packet(p, TB_PROTO_UDP, l4, tb_udp(l4, 1000, 2000, 4), 4, NULL, 0);
	struct pkt_info info;
	enum pkt_drop_reason reason;
	uint16_t c;

	(void)state;
	p[len - 2] = p[len - 1] = 0;
	assert_int_equal(pkt_parse_bytes(p, len, &info, &reason), 0);
	c = pkt_csum_l4(p, &info);
	/* Adding ~sum as the last word makes the sum 0xffff, so the checksum 0. */
	tb_be16(p + len - 2, c);
	assert_int_equal(pkt_csum_l4(p, &info), 0xffff);
	pkt_csum_fill(p, &info);
	assert_int_equal(tb_get16(p + info.l4_off + 6), 0xffff);
	assert_true(pkt_csum_verify(p, &info));
}

static void
test_pkt_csum_apply_delta_udp_rules(void **state)
{
	uint8_t field[2];
	uint32_t delta;

	(void)state;
	/* A stored 0 (no checksum) stays 0 for UDP, whatever the delta. */
	tb_be16(field, 0);
	pkt_csum_apply_delta(field, pkt_csum_delta_add16(0, 0x1111, 0x2222), true);
	assert_int_equal(tb_get16(field), 0);
	/* Not for TCP: 0 is an ordinary value there. */
	pkt_csum_apply_delta(field, pkt_csum_delta_add16(0, 0x1111, 0x2222), false);
	assert_int_not_equal(tb_get16(field), 0);
	/* A result of 0 is written 0xffff for UDP: ~(~HC + delta) == 0 needs sum 0xffff. */
	tb_be16(field, 0x1234);
	delta = pkt_csum_delta_add16(0, 0x0000, (uint16_t)(0xffff - (uint16_t)~0x1234));
	pkt_csum_apply_delta(field, delta, false);
	assert_int_equal(tb_get16(field), 0x0000);
	tb_be16(field, 0x1234);
	pkt_csum_apply_delta(field, delta, true);
	assert_int_equal(tb_get16(field), 0xffff);
}

static void
test_pkt_csum_delta_add_matches_words(void **state)
{
	static const uint8_t old_bytes[4] = {10, 0, 0, 1}, new_bytes[4] = {172, 16, 5, 9};
	uint32_t a, b;

	(void)state;
	a = pkt_csum_delta_add(0, old_bytes, new_bytes, 4);
	b = pkt_csum_delta_add16(pkt_csum_delta_add16(0, 0x0a00, 0xac10), 0x0001, 0x0509);
	assert_int_equal(pkt_csum_fold(a), pkt_csum_fold(b));
	/* Many additions of a zero change never overflow the unfolded sum. */
	for (int i = 0; i < 200000; i++)
		b = pkt_csum_delta_add16(b, 0x1234, 0x1234);
	assert_int_equal(pkt_csum_fold(a) % 0xffff, pkt_csum_fold(b) % 0xffff);
}

/*
 * The session fast path: rewrite addresses and ports (NAT/waypoint), TTL, and the IPv4
 * id with per-field deltas, and compare every checksum with a full recomputation.
 */
static void
test_pkt_csum_apply_delta_random_rewrites(void **state)
{
	static uint8_t p[2048];
	uint64_t rng = test_seed();

	(void)state;
	for (int iter = 0; iter < 20000; iter++) {
		int kind = (int)test_rand_below(&rng, 6);
		size_t len = build_random_packet(p, kind, &rng);
		bool v6 = kind >= 3;
		struct pkt_info info;
		enum pkt_drop_reason reason;
		size_t alen, src_off, dst_off, field;
		uint8_t new_src[16], new_dst[16];
		uint32_t ip_delta = 0, l4_delta = 0;
		bool udp;

		assert_int_equal(pkt_parse_bytes(p, len, &info, &reason), 0);
		udp = info.l4_proto == TB_PROTO_UDP;
		/* Start from a right checksum; for UDP over IPv4 sometimes from "none". */
		pkt_csum_fill(p, &info);
		if (udp && !v6 && test_rand_below(&rng, 8) == 0)
			tb_be16(p + info.l4_off + 6, 0);
		field = (size_t)pkt_csum_l4_field_off(info.l4_proto);
		alen = pkt_info_addr_len(&info);
		src_off = pkt_info_src_off(&info);
		dst_off = pkt_info_dst_off(&info);
		for (size_t i = 0; i < alen; i++) {
			new_src[i] =
			    test_rand_below(&rng, 3) ? (uint8_t)test_rand(&rng) : p[src_off + i];
			new_dst[i] =
			    test_rand_below(&rng, 3) ? (uint8_t)test_rand(&rng) : p[dst_off + i];
		}
		/* Addresses: in the pseudo header (not for ICMPv4) and the IPv4 header. */
		ip_delta = pkt_csum_delta_add(ip_delta, p + src_off, new_src, alen);
		ip_delta = pkt_csum_delta_add(ip_delta, p + dst_off, new_dst, alen);
		if (info.l4_proto != TB_PROTO_ICMP)
			l4_delta = ip_delta;
		memcpy(p + src_off, new_src, alen);
		memcpy(p + dst_off, new_dst, alen);
		if (info.flags & PKT_INFO_HAS_PORTS) {
			uint16_t sport = (uint16_t)test_rand(&rng),
			         dport = (uint16_t)test_rand(&rng);

			l4_delta = pkt_csum_delta_add16(l4_delta, tb_get16(p + info.l4_off), sport);
			l4_delta =
			    pkt_csum_delta_add16(l4_delta, tb_get16(p + info.l4_off + 2), dport);
			tb_be16(p + info.l4_off, sport);
			tb_be16(p + info.l4_off + 2, dport);
		} else {
			/* ICMP echo identifier, as the session code rewrites it. */
			uint16_t id = (uint16_t)test_rand(&rng);

			l4_delta =
			    pkt_csum_delta_add16(l4_delta, tb_get16(p + info.l4_off + 4), id);
			tb_be16(p + info.l4_off + 4, id);
		}
		if (!v6) {
			/* TTL (with the protocol in the same word) and id. */
			uint16_t old = tb_get16(p + 8), id = (uint16_t)test_rand(&rng);

			p[8]--;
			ip_delta = pkt_csum_delta_add16(ip_delta, old, tb_get16(p + 8));
			ip_delta = pkt_csum_delta_add16(ip_delta, tb_get16(p + 4), id);
			tb_be16(p + 4, id);
			pkt_csum_apply_delta(p + 10, ip_delta, false);
			assert_int_equal(tb_get16(p + 10), pkt_csum_ipv4_header(p, 20));
		}
		if (udp && !v6 && tb_get16(p + info.l4_off + 6) == 0) {
			pkt_csum_apply_delta(p + info.l4_off + field, l4_delta, true);
			assert_int_equal(tb_get16(p + info.l4_off + 6), 0);
		} else {
			pkt_csum_apply_delta(p + info.l4_off + field, l4_delta, udp);
			assert_int_equal(tb_get16(p + info.l4_off + field), pkt_csum_l4(p, &info));
		}
		assert_true(pkt_csum_verify(p, &info));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pkt_csum_partial_rfc1071_example),
	    cmocka_unit_test(test_pkt_csum_partial_odd_length_pads),
	    cmocka_unit_test(test_pkt_csum_ipv4_header_real),
	    cmocka_unit_test(test_pkt_csum_partial_random_vs_model),
	    cmocka_unit_test(test_pkt_csum_l4_field_off_protocols),
	    cmocka_unit_test(test_pkt_csum_l4_matches_model),
	    cmocka_unit_test(test_pkt_csum_verify_ipv4_header_corrupt),
	    cmocka_unit_test(test_pkt_csum_verify_udp_zero),
	    cmocka_unit_test(test_pkt_csum_l4_udp_zero_becomes_ffff),
	    cmocka_unit_test(test_pkt_csum_apply_delta_udp_rules),
	    cmocka_unit_test(test_pkt_csum_delta_add_matches_words),
	    cmocka_unit_test(test_pkt_csum_apply_delta_random_rewrites),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
