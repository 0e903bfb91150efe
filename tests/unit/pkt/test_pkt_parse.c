/*
 * Unit tests of pkt/pkt_parse: valid IPv4/IPv6 packets of every L4 kind, fragments,
 * extension header chains, and one crafted packet per drop reason, asserted by name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pkt/pkt_csum.h"
#include "pkt/pkt_parse.h"
#include "pkt_test_build.h"

static uint8_t pkt[70000];

static void
expect_drop(const uint8_t *data, size_t len, const char *name)
{
	struct pkt_info info;
	enum pkt_drop_reason reason = PKT_DROP_COUNT;

	assert_int_equal(pkt_parse_bytes(data, len, &info, &reason), -EBADMSG);
	assert_string_equal(pkt_drop_reason_name(reason), name);
}

static void
expect_ok(const uint8_t *data, size_t len, struct pkt_info *info)
{
	enum pkt_drop_reason reason = PKT_DROP_COUNT;
	int err = pkt_parse_bytes(data, len, info, &reason);

	if (err != 0)
		fail_msg("parse failed: %s", pkt_drop_reason_name(reason));
	/* The invariants of pkt_info.h. */
	assert_true(info->l4_off <= info->payload_off);
	assert_true(info->payload_off <= info->ip_len);
	assert_true(info->ip_len <= len);
}

/* Re-fixes the IPv4 header checksum after a test edited the header. */
static void
fix_v4(uint8_t *p)
{
	size_t hdr_len = (size_t)(p[0] & 0x0f) * 4;

	tb_be16(p + 10, 0);
	tb_be16(p + 10, tb_csum(p, hdr_len));
}

static void
test_pkt_parse_ipv4_tcp_syn(void **state)
{
	/* MSS 1460, SACK permitted, timestamps, NOP, window scale 7: a Linux SYN. */
	static const uint8_t opt[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3,
	    3, 7};
	uint8_t l4[60];
	struct pkt_info info;
	size_t len;
	struct addr a;

	(void)state;
	len =
	    tb_v4_packet(pkt, TB_PROTO_TCP, l4, tb_tcp(l4, 40000, 443, 0x02, opt, 20), 0, NULL, 0);
	expect_ok(pkt, len, &info);
	assert_int_equal(info.family, ADDR_FAMILY_V4);
	assert_int_equal(info.l4_proto, TB_PROTO_TCP);
	assert_int_equal(info.l4_off, 20);
	assert_int_equal(info.payload_off, 60);
	assert_int_equal(info.ip_len, 60);
	assert_int_equal(info.sport, 40000);
	assert_int_equal(info.dport, 443);
	assert_int_equal(info.tcp_flags, 0x02);
	assert_int_equal(info.flags, PKT_INFO_HAS_L4 | PKT_INFO_HAS_PORTS);
	pkt_info_src(&info, pkt, &a);
	assert_int_equal(a.family, ADDR_FAMILY_V4);
	assert_memory_equal(a.bytes, tb_v4_src, 4);
	pkt_info_dst(&info, pkt, &a);
	assert_memory_equal(a.bytes, tb_v4_dst, 4);
	assert_int_equal(pkt_info_src_off(&info), 12);
	assert_int_equal(pkt_info_dst_off(&info), 16);
	assert_int_equal(pkt_info_addr_len(&info), 4);
}

static void
test_pkt_parse_ipv4_udp_padding_trimmed(void **state)
{
	struct pkt_pool *pool = pkt_pool_new(1);
	struct pkt_buf *p = pkt_pool_get(pool);
	enum pkt_drop_reason reason;
	uint8_t l4[8];
	size_t len;

	(void)state;
	/* A 28-byte DNS-sized UDP datagram padded to the 46-byte Ethernet minimum. */
	len = tb_v4_packet(pkt, TB_PROTO_UDP, l4, tb_udp(l4, 33000, 53, 4), 4, NULL, 0);
	assert_int_equal(len, 32);
	memset(pkt + len, 0, 14);
	assert_int_equal(pkt_buf_set(p, pkt, 46), 0);
	assert_int_equal(pkt_parse(p, &reason), 0);
	assert_int_equal(p->len, 32);
	assert_int_equal(p->info.ip_len, 32);
	assert_int_equal(p->info.dport, 53);
	assert_int_equal(p->info.payload_off, 28);
	assert_int_equal(p->info.flags, PKT_INFO_HAS_L4 | PKT_INFO_HAS_PORTS);
	pkt_pool_put(pool, p);
	pkt_pool_free(pool);
}

static void
test_pkt_parse_ipv4_icmp_echo_and_error(void **state)
{
	uint8_t l4[8];
	struct pkt_info info;
	size_t len;

	(void)state;
	len = tb_v4_packet(pkt, TB_PROTO_ICMP, l4, tb_icmp(l4, 8, 0, 0xbeef, 1), 56, NULL, 0);
	expect_ok(pkt, len, &info);
	assert_int_equal(info.icmp_type, 8);
	assert_int_equal(info.sport, 0xbeef);
	assert_int_equal(info.dport, 0xbeef);
	assert_int_equal(info.payload_off, 28);
	assert_int_equal(info.flags, PKT_INFO_HAS_L4);

	len = tb_v4_packet(pkt, TB_PROTO_ICMP, l4, tb_icmp(l4, 0, 0, 0xbeef, 1), 0, NULL, 0);
	expect_ok(pkt, len, &info);
	assert_int_equal(info.sport, 0xbeef);

	for (uint8_t type = 0; type < 20; type++) {
		bool error = type == 3 || type == 4 || type == 5 || type == 11 || type == 12;

		len = tb_v4_packet(pkt, TB_PROTO_ICMP, l4, tb_icmp(l4, type, 1, 0, 0), 28, NULL, 0);
		expect_ok(pkt, len, &info);
		assert_int_equal(info.icmp_code, 1);
		assert_int_equal((info.flags & PKT_INFO_ICMP_ERROR) != 0, error);
	}
}

static void
test_pkt_parse_ipv4_options_valid(void **state)
{
	/* NOP, record route (len 7, pointer 4, one slot), EOL. */
	static const uint8_t opt[12] = {1, 7, 7, 4, 0, 0, 0, 0, 0, 0, 0, 0};
	uint8_t l4[8];
	struct pkt_info info;
	size_t len;

	(void)state;
	len = tb_v4_packet(pkt, TB_PROTO_UDP, l4, tb_udp(l4, 1, 2, 0), 0, opt, sizeof(opt));
	expect_ok(pkt, len, &info);
	assert_int_equal(info.l4_off, 32);
	assert_int_equal(info.payload_off, 40);
}

static void
test_pkt_parse_other_protocols_without_l4(void **state)
{
	static const uint8_t esp[16] = {0, 0, 1, 0, 0, 0, 0, 1};
	struct pkt_info info;
	size_t len;

	(void)state;
	len = tb_v4_packet(pkt, TB_PROTO_ESP, esp, sizeof(esp), 20, NULL, 0);
	expect_ok(pkt, len, &info);
	assert_int_equal(info.l4_proto, TB_PROTO_ESP);
	assert_int_equal(info.l4_off, 20);
	assert_int_equal(info.payload_off, 20);
	assert_int_equal(info.flags, 0);
	assert_int_equal(pkt_csum_l4(pkt, &info), 0);
	assert_true(pkt_csum_verify(pkt, &info));

	len = tb_v6_packet(pkt, TB_PROTO_GRE, NULL, 0, esp, 4, 0);
	expect_ok(pkt, len, &info);
	assert_int_equal(info.l4_proto, TB_PROTO_GRE);
	assert_int_equal(info.l4_off, 40);
	assert_int_equal(info.payload_off, 40);
	assert_int_equal(info.flags, 0);

	/* ICMPv6 over IPv4 and ICMP over IPv6 are not parsed as such. */
	len = tb_v4_packet(pkt, TB_PROTO_ICMPV6, esp, 4, 0, NULL, 0);
	expect_ok(pkt, len, &info);
	assert_int_equal(info.flags, 0);
	len = tb_v6_packet(pkt, TB_PROTO_ICMP, NULL, 0, esp, 4, 0);
	expect_ok(pkt, len, &info);
	assert_int_equal(info.flags, 0);
}

static void
test_pkt_parse_ipv6_tcp(void **state)
{
	uint8_t l4[20];
	struct pkt_info info;
	struct addr a;
	size_t len;

	(void)state;
	len =
	    tb_v6_packet(pkt, TB_PROTO_TCP, NULL, 0, l4, tb_tcp(l4, 5000, 22, 0x18, NULL, 0), 100);
	expect_ok(pkt, len, &info);
	assert_int_equal(info.family, ADDR_FAMILY_V6);
	assert_int_equal(info.ip_len, 160);
	assert_int_equal(info.l4_off, 40);
	assert_int_equal(info.payload_off, 60);
	assert_int_equal(info.sport, 5000);
	assert_int_equal(info.dport, 22);
	assert_int_equal(info.tcp_flags, 0x18);
	pkt_info_src(&info, pkt, &a);
	assert_int_equal(a.family, ADDR_FAMILY_V6);
	assert_memory_equal(a.bytes, tb_v6_src, 16);
	pkt_info_dst(&info, pkt, &a);
	assert_memory_equal(a.bytes, tb_v6_dst, 16);
	assert_int_equal(pkt_info_src_off(&info), 8);
	assert_int_equal(pkt_info_dst_off(&info), 24);
	assert_int_equal(pkt_info_addr_len(&info), 16);
}

static void
test_pkt_parse_ipv6_ext_chain(void **state)
{
	uint8_t ext[128], l4[8];
	struct pkt_info info;
	size_t e = 0, len;

	(void)state;
	/* hop-by-hop, destination options, routing, AH (24 bytes), destination, UDP. */
	e += tb_ext_opts(ext + e, TB_PROTO_DSTOPTS, 0);
	e += tb_ext_opts(ext + e, TB_PROTO_ROUTING, 1);
	e += tb_ext_opts(ext + e, TB_PROTO_AH, 0);
	ext[e] = TB_PROTO_DSTOPTS;
	ext[e + 1] = 4; /* (4 + 2) * 4 = 24 bytes */
	memset(ext + e + 2, 0, 22);
	e += 24;
	e += tb_ext_opts(ext + e, TB_PROTO_UDP, 0);
	len = tb_v6_packet(pkt, TB_PROTO_HOPOPTS, ext, e, l4, tb_udp(l4, 7, 9, 3), 3);
	expect_ok(pkt, len, &info);
	assert_int_equal(e, 8 + 16 + 24 + 8 + 8);
	assert_int_equal(info.l4_proto, TB_PROTO_UDP);
	assert_int_equal(info.l4_off, 40 + e);
	assert_int_equal(info.payload_off, 48 + e);
	assert_int_equal(info.sport, 7);
	assert_int_equal(info.flags, PKT_INFO_HAS_L4 | PKT_INFO_HAS_PORTS);
}

static void
test_pkt_parse_ipv6_icmpv6(void **state)
{
	uint8_t l4[8];
	struct pkt_info info;
	size_t len;

	(void)state;
	len = tb_v6_packet(pkt, TB_PROTO_ICMPV6, NULL, 0, l4, tb_icmp(l4, 128, 0, 77, 1), 16);
	expect_ok(pkt, len, &info);
	assert_int_equal(info.icmp_type, 128);
	assert_int_equal(info.sport, 77);
	assert_int_equal(info.dport, 77);
	assert_int_equal(info.flags, PKT_INFO_HAS_L4);
	for (uint8_t type = 0; type < 140; type++) {
		bool error = type >= 1 && type <= 4;

		len =
		    tb_v6_packet(pkt, TB_PROTO_ICMPV6, NULL, 0, l4, tb_icmp(l4, type, 0, 1, 1), 40);
		expect_ok(pkt, len, &info);
		assert_int_equal((info.flags & PKT_INFO_ICMP_ERROR) != 0, error);
		assert_int_equal(info.sport, type == 128 || type == 129 ? 1 : 0);
	}
}

static void
test_pkt_parse_ipv6_no_next_header(void **state)
{
	uint8_t ext[8];
	struct pkt_info info;
	size_t len;

	(void)state;
	len = tb_v6_packet(pkt, TB_PROTO_NONE, NULL, 0, NULL, 0, 0);
	expect_ok(pkt, len, &info);
	assert_int_equal(info.l4_proto, TB_PROTO_NONE);
	assert_int_equal(info.l4_off, 40);
	assert_int_equal(info.flags, 0);
	/* With trailing bytes the payload length still rules. */
	tb_ext_opts(ext, TB_PROTO_NONE, 0);
	len = tb_v6_packet(pkt, TB_PROTO_DSTOPTS, ext, 8, NULL, 0, 0);
	expect_ok(pkt, len + 30, &info);
	assert_int_equal(info.ip_len, 48);
	assert_int_equal(info.l4_off, 48);
}

static void
test_pkt_parse_ipv4_fragments(void **state)
{
	uint8_t l4[20];
	struct pkt_info info;
	size_t len;

	(void)state;
	/* First fragment of a 3000-byte UDP datagram: the UDP length is the whole one. */
	len = tb_v4_packet(pkt, TB_PROTO_UDP, l4, tb_udp(l4, 1, 2, 2992), 1472, NULL, 0);
	tb_be16(pkt + 6, 0x2000);
	fix_v4(pkt);
	expect_ok(pkt, len, &info);
	assert_int_equal(info.flags,
	    PKT_INFO_FRAGMENT | PKT_INFO_FIRST_FRAGMENT | PKT_INFO_HAS_L4 | PKT_INFO_HAS_PORTS);
	assert_int_equal(info.frag_id, 0x1234);
	assert_int_equal(info.frag_off_bytes, 0);

	/* A middle fragment: no L4 header, offset in bytes. */
	tb_be16(pkt + 6, 0x2000 | 185);
	fix_v4(pkt);
	expect_ok(pkt, len, &info);
	assert_int_equal(info.flags, PKT_INFO_FRAGMENT);
	assert_int_equal(info.frag_off_bytes, 1480);
	assert_int_equal(info.l4_off, 20);
	assert_int_equal(info.payload_off, 20);
	assert_int_equal(info.l4_proto, TB_PROTO_UDP);

	/* The last fragment (MF clear, offset set). */
	tb_be16(pkt + 6, 370);
	fix_v4(pkt);
	expect_ok(pkt, len, &info);
	assert_int_equal(info.flags, PKT_INFO_FRAGMENT);
	assert_int_equal(info.frag_off_bytes, 2960);

	/* DF alone is not a fragment. */
	tb_be16(pkt + 6, 0x4000);
	fix_v4(pkt);
	expect_drop(pkt, len, "udp-bad-length");

	/* A tiny first fragment with only part of the TCP header: valid, no L4 yet. */
	len = tb_v4_packet(pkt, TB_PROTO_TCP, l4, 8, 0, NULL, 0);
	tb_be16(pkt + 6, 0x2000);
	fix_v4(pkt);
	expect_ok(pkt, len, &info);
	assert_int_equal(info.flags, PKT_INFO_FRAGMENT | PKT_INFO_FIRST_FRAGMENT);
	/* ... but a first fragment that has a full header with a bad offset is dropped. */
	len = tb_v4_packet(pkt, TB_PROTO_TCP, l4, tb_tcp(l4, 1, 2, 0, NULL, 0), 0, NULL, 0);
	pkt[20 + 12] = 0x40;
	tb_be16(pkt + 6, 0x2000);
	fix_v4(pkt);
	expect_drop(pkt, len, "tcp-bad-data-offset");
}

static void
test_pkt_parse_ipv6_fragments(void **state)
{
	uint8_t ext[32], l4[8];
	struct pkt_info info;
	size_t len, e;

	(void)state;
	/* First fragment after a hop-by-hop header: the chain continues to UDP. */
	e = tb_ext_opts(ext, TB_PROTO_FRAGMENT, 0);
	e += tb_ext_frag(ext + e, TB_PROTO_UDP, 0, true, 0xabcdef01);
	len = tb_v6_packet(pkt, TB_PROTO_HOPOPTS, ext, e, l4, tb_udp(l4, 3, 4, 4000), 1000);
	expect_ok(pkt, len, &info);
	assert_int_equal(info.flags,
	    PKT_INFO_FRAGMENT | PKT_INFO_FIRST_FRAGMENT | PKT_INFO_HAS_L4 | PKT_INFO_HAS_PORTS);
	assert_int_equal(info.frag_hdr_off, 48);
	assert_int_equal(info.frag_id, 0xabcdef01);
	assert_int_equal(info.l4_off, 56);

	/* A later fragment: stops at the fragment header. */
	tb_ext_frag(ext + 8, TB_PROTO_UDP, 1008, true, 0xabcdef01);
	len = tb_v6_packet(pkt, TB_PROTO_HOPOPTS, ext, e, NULL, 0, 1000);
	expect_ok(pkt, len, &info);
	assert_int_equal(info.flags, PKT_INFO_FRAGMENT);
	assert_int_equal(info.frag_off_bytes, 1008);
	assert_int_equal(info.frag_hdr_off, 48);
	assert_int_equal(info.l4_off, 56);
	assert_int_equal(info.payload_off, 56);
	assert_int_equal(info.l4_proto, TB_PROTO_UDP);

	/* An atomic fragment (offset 0, M clear) is a whole datagram (RFC 6946). */
	tb_ext_frag(ext, TB_PROTO_UDP, 0, false, 5);
	len = tb_v6_packet(pkt, TB_PROTO_FRAGMENT, ext, 8, l4, tb_udp(l4, 3, 4, 10), 10);
	expect_ok(pkt, len, &info);
	assert_int_equal(info.flags, PKT_INFO_HAS_L4 | PKT_INFO_HAS_PORTS);
	assert_int_equal(info.frag_hdr_off, 40);
	assert_int_equal(info.l4_off, 48);
}

static void
test_pkt_set_ip_len_ipv4_udp(void **state)
{
	uint8_t l4[8];
	struct pkt_info info;
	size_t len;

	(void)state;
	len = tb_v4_packet(pkt, TB_PROTO_UDP, l4, tb_udp(l4, 1, 2, 100), 100, NULL, 0);
	expect_ok(pkt, len, &info);
	pkt_csum_fill(pkt, &info);
	/* Grow by 24 bytes (as a metadata insert would), then fix the L4 checksum. */
	pkt_set_ip_len(pkt, &info, len + 24);
	assert_int_equal(info.ip_len, len + 24);
	assert_int_equal(tb_get16(pkt + 2), len + 24);
	assert_int_equal(tb_get16(pkt + 10), pkt_csum_ipv4_header(pkt, 20));
	assert_int_equal(tb_get16(pkt + 24), len + 24 - 20);
	pkt_csum_fill(pkt, &info);
	expect_ok(pkt, len + 24, &info);
	assert_true(pkt_csum_verify(pkt, &info));
}

static void
test_pkt_set_ip_len_ipv6_tcp(void **state)
{
	uint8_t l4[20];
	struct pkt_info info;
	size_t len;

	(void)state;
	len = tb_v6_packet(pkt, TB_PROTO_TCP, NULL, 0, l4, tb_tcp(l4, 1, 2, 0x10, NULL, 0), 50);
	expect_ok(pkt, len, &info);
	pkt_set_ip_len(pkt, &info, len - 10);
	assert_int_equal(info.ip_len, len - 10);
	assert_int_equal(tb_get16(pkt + 4), len - 10 - 40);
	expect_ok(pkt, len - 10, &info);
	assert_int_equal(info.ip_len, len - 10);
}

static void
test_pkt_parse_ip_drops(void **state)
{
	uint8_t l4[8];
	size_t len;

	(void)state;
	expect_drop(pkt, 0, "ip-truncated");
	len = tb_v4_packet(pkt, TB_PROTO_UDP, l4, tb_udp(l4, 1, 2, 0), 0, NULL, 0);
	expect_drop(pkt, 19, "ip-truncated");
	pkt[0] = 0x55;
	expect_drop(pkt, len, "ip-bad-version");
	pkt[0] = 0x00;
	expect_drop(pkt, len, "ip-bad-version");
	pkt[0] = 0x44;
	expect_drop(pkt, len, "ipv4-bad-header-length");
	pkt[0] = 0x48; /* 32-byte header in 28 bytes */
	expect_drop(pkt, len, "ip-truncated");

	len = tb_v4_packet(pkt, TB_PROTO_UDP, l4, tb_udp(l4, 1, 2, 0), 0, NULL, 0);
	pkt[10] ^= 1;
	expect_drop(pkt, len, "ipv4-bad-checksum");
	tb_be16(pkt + 2, 19);
	fix_v4(pkt);
	expect_drop(pkt, len, "ipv4-bad-total-length");
	tb_be16(pkt + 2, (uint16_t)(len + 1));
	fix_v4(pkt);
	expect_drop(pkt, len, "ipv4-bad-total-length");

	len = tb_v6_packet(pkt, TB_PROTO_UDP, NULL, 0, l4, tb_udp(l4, 1, 2, 0), 0);
	expect_drop(pkt, 39, "ip-truncated");
	tb_be16(pkt + 4, 9);
	expect_drop(pkt, len, "ipv6-bad-payload-length");
}

static void
test_pkt_parse_ipv4_bad_options(void **state)
{
	static const uint8_t zero_len[4] = {7, 0, 0, 0};
	static const uint8_t one_len[4] = {1, 1, 7, 1};
	static const uint8_t past_end[4] = {1, 7, 8, 4};
	static const uint8_t after_eol[4] = {0, 7, 200, 0};
	uint8_t l4[8];
	size_t len;
	struct pkt_info info;

	(void)state;
	len = tb_v4_packet(pkt, TB_PROTO_UDP, l4, tb_udp(l4, 1, 2, 0), 0, zero_len, 4);
	expect_drop(pkt, len, "ipv4-bad-options");
	len = tb_v4_packet(pkt, TB_PROTO_UDP, l4, tb_udp(l4, 1, 2, 0), 0, one_len, 4);
	expect_drop(pkt, len, "ipv4-bad-options");
	len = tb_v4_packet(pkt, TB_PROTO_UDP, l4, tb_udp(l4, 1, 2, 0), 0, past_end, 4);
	expect_drop(pkt, len, "ipv4-bad-options");
	/* Whatever follows the end-of-list option is padding. */
	len = tb_v4_packet(pkt, TB_PROTO_UDP, l4, tb_udp(l4, 1, 2, 0), 0, after_eol, 4);
	expect_ok(pkt, len, &info);
}

static void
test_pkt_parse_too_big(void **state)
{
	uint8_t l4[8];
	size_t len;

	(void)state;
	/* 40 + 65535 does not fit the 16-bit offsets of pkt_info. */
	len = tb_v6_packet(pkt, TB_PROTO_UDP, NULL, 0, l4, tb_udp(l4, 1, 2, 0), 65535 - 8);
	assert_int_equal(len, 65575);
	expect_drop(pkt, len, "pkt-too-big");
}

static void
test_pkt_parse_ipv6_ext_drops(void **state)
{
	uint8_t ext[256], l4[8];
	size_t len, e = 0;

	(void)state;
	/* Hop-by-hop claims 16 bytes, 8 are there. */
	tb_ext_opts(ext, TB_PROTO_NONE, 1);
	len = tb_v6_packet(pkt, TB_PROTO_HOPOPTS, ext, 8, NULL, 0, 0);
	expect_drop(pkt, len, "ipv6-ext-truncated");
	/* One byte of a header. */
	len = tb_v6_packet(pkt, TB_PROTO_ROUTING, ext, 1, NULL, 0, 0);
	expect_drop(pkt, len, "ipv6-ext-truncated");
	/* Half a fragment header. */
	len = tb_v6_packet(pkt, TB_PROTO_FRAGMENT, ext, 4, NULL, 0, 0);
	expect_drop(pkt, len, "ipv6-ext-truncated");
	/* AH whose length runs past the payload. */
	ext[0] = TB_PROTO_NONE;
	ext[1] = 10;
	len = tb_v6_packet(pkt, TB_PROTO_AH, ext, 16, NULL, 0, 0);
	expect_drop(pkt, len, "ipv6-ext-truncated");

	/* Hop-by-hop after a destination options header. */
	e = tb_ext_opts(ext, TB_PROTO_HOPOPTS, 0);
	e += tb_ext_opts(ext + e, TB_PROTO_NONE, 0);
	len = tb_v6_packet(pkt, TB_PROTO_DSTOPTS, ext, e, NULL, 0, 0);
	expect_drop(pkt, len, "ipv6-ext-bad-order");
	/* Two fragment headers. */
	e = tb_ext_frag(ext, TB_PROTO_FRAGMENT, 0, true, 1);
	e += tb_ext_frag(ext + e, TB_PROTO_UDP, 0, true, 1);
	len = tb_v6_packet(pkt, TB_PROTO_FRAGMENT, ext, e, l4, tb_udp(l4, 1, 2, 0), 0);
	expect_drop(pkt, len, "ipv6-ext-bad-order");

	/* PKT_PARSE_IPV6_EXT_MAX headers pass, one more does not. */
	e = 0;
	for (int i = 0; i < PKT_PARSE_IPV6_EXT_MAX; i++)
		e += tb_ext_opts(ext + e,
		    i + 1 < PKT_PARSE_IPV6_EXT_MAX ? TB_PROTO_DSTOPTS : TB_PROTO_UDP, 0);
	len = tb_v6_packet(pkt, TB_PROTO_DSTOPTS, ext, e, l4, tb_udp(l4, 1, 2, 0), 0);
	{
		struct pkt_info info;

		expect_ok(pkt, len, &info);
		assert_int_equal(info.l4_off, 40 + e);
	}
	ext[e - 8] = TB_PROTO_DSTOPTS;
	e += tb_ext_opts(ext + e, TB_PROTO_UDP, 0);
	len = tb_v6_packet(pkt, TB_PROTO_DSTOPTS, ext, e, l4, tb_udp(l4, 1, 2, 0), 0);
	expect_drop(pkt, len, "ipv6-ext-too-many");
}

static void
test_pkt_parse_tcp_drops(void **state)
{
	static const uint8_t bad_len[4] = {2, 1, 0, 0};
	static const uint8_t past_end[4] = {1, 1, 8, 10};
	static const uint8_t kind_only[4] = {1, 1, 1, 3};
	uint8_t l4[40] = {0};
	size_t len;

	(void)state;
	len = tb_v4_packet(pkt, TB_PROTO_TCP, l4, 19, 0, NULL, 0);
	expect_drop(pkt, len, "tcp-truncated");
	len = tb_v6_packet(pkt, TB_PROTO_TCP, NULL, 0, l4, 10, 0);
	expect_drop(pkt, len, "tcp-truncated");

	tb_tcp(l4, 1, 2, 0, NULL, 0);
	l4[12] = 0x40;
	len = tb_v4_packet(pkt, TB_PROTO_TCP, l4, 20, 10, NULL, 0);
	expect_drop(pkt, len, "tcp-bad-data-offset");
	l4[12] = 0xf0; /* 60-byte header in a 30-byte segment */
	len = tb_v4_packet(pkt, TB_PROTO_TCP, l4, 20, 10, NULL, 0);
	expect_drop(pkt, len, "tcp-bad-data-offset");

	len = tb_v4_packet(pkt, TB_PROTO_TCP, l4, tb_tcp(l4, 1, 2, 0, bad_len, 4), 0, NULL, 0);
	expect_drop(pkt, len, "tcp-bad-options");
	len = tb_v4_packet(pkt, TB_PROTO_TCP, l4, tb_tcp(l4, 1, 2, 0, past_end, 4), 0, NULL, 0);
	expect_drop(pkt, len, "tcp-bad-options");
	len = tb_v6_packet(pkt, TB_PROTO_TCP, NULL, 0, l4, tb_tcp(l4, 1, 2, 0, kind_only, 4), 0);
	expect_drop(pkt, len, "tcp-bad-options");
}

static void
test_pkt_parse_udp_icmp_drops(void **state)
{
	uint8_t l4[8] = {0};
	size_t len;

	(void)state;
	len = tb_v4_packet(pkt, TB_PROTO_UDP, l4, 7, 0, NULL, 0);
	expect_drop(pkt, len, "udp-truncated");
	len = tb_v4_packet(pkt, TB_PROTO_UDP, l4, tb_udp(l4, 1, 2, 0), 0, NULL, 0);
	tb_be16(pkt + 24, 7);
	expect_drop(pkt, len, "udp-bad-length");
	len = tb_v4_packet(pkt, TB_PROTO_UDP, l4, tb_udp(l4, 1, 2, 10), 9, NULL, 0);
	expect_drop(pkt, len, "udp-bad-length");
	len = tb_v6_packet(pkt, TB_PROTO_UDP, NULL, 0, l4, tb_udp(l4, 1, 2, 10), 11);
	expect_drop(pkt, len, "udp-bad-length");

	len = tb_v4_packet(pkt, TB_PROTO_ICMP, l4, 7, 0, NULL, 0);
	expect_drop(pkt, len, "icmp-truncated");
	len = tb_v6_packet(pkt, TB_PROTO_ICMPV6, NULL, 0, l4, 4, 0);
	expect_drop(pkt, len, "icmpv6-truncated");
}

/* Every prefix of valid packets parses or drops cleanly (ASan checks the reads). */
static void
test_pkt_parse_bytes_every_truncation(void **state)
{
	static const uint8_t opt[8] = {2, 4, 5, 0xb4, 1, 1, 1, 0};
	uint8_t ext[64], l4[40];
	size_t lens[4], e;
	uint8_t *copies[4];
	struct pkt_info info;
	enum pkt_drop_reason reason;

	(void)state;
	copies[0] = malloc(100);
	lens[0] =
	    tb_v4_packet(copies[0], TB_PROTO_TCP, l4, tb_tcp(l4, 1, 2, 2, opt, 8), 20, NULL, 0);
	copies[1] = malloc(200);
	e = tb_ext_opts(ext, TB_PROTO_ROUTING, 0);
	e += tb_ext_opts(ext + e, TB_PROTO_FRAGMENT, 1);
	e += tb_ext_frag(ext + e, TB_PROTO_TCP, 0, true, 9);
	lens[1] =
	    tb_v6_packet(copies[1], TB_PROTO_HOPOPTS, ext, e, l4, tb_tcp(l4, 1, 2, 2, opt, 8), 16);
	copies[2] = malloc(100);
	lens[2] = tb_v4_packet(copies[2], TB_PROTO_ICMP, l4, tb_icmp(l4, 8, 0, 1, 1), 10, NULL, 0);
	copies[3] = malloc(100);
	lens[3] = tb_v6_packet(copies[3], TB_PROTO_ICMPV6, NULL, 0, l4, tb_icmp(l4, 1, 0, 0, 0), 4);
	for (int k = 0; k < 4; k++) {
		for (size_t n = 0; n <= lens[k]; n++) {
			uint8_t *exact = malloc(n + 1);
			int err;

			memcpy(exact, copies[k], n);
			err = pkt_parse_bytes(exact, n, &info, &reason);
			assert_int_equal(err, n == lens[k] ? 0 : -EBADMSG);
			free(exact);
		}
		free(copies[k]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pkt_parse_ipv4_tcp_syn),
	    cmocka_unit_test(test_pkt_parse_ipv4_udp_padding_trimmed),
	    cmocka_unit_test(test_pkt_parse_ipv4_icmp_echo_and_error),
	    cmocka_unit_test(test_pkt_parse_ipv4_options_valid),
	    cmocka_unit_test(test_pkt_parse_other_protocols_without_l4),
	    cmocka_unit_test(test_pkt_parse_ipv6_tcp),
	    cmocka_unit_test(test_pkt_parse_ipv6_ext_chain),
	    cmocka_unit_test(test_pkt_parse_ipv6_icmpv6),
	    cmocka_unit_test(test_pkt_parse_ipv6_no_next_header),
	    cmocka_unit_test(test_pkt_parse_ipv4_fragments),
	    cmocka_unit_test(test_pkt_parse_ipv6_fragments),
	    cmocka_unit_test(test_pkt_set_ip_len_ipv4_udp),
	    cmocka_unit_test(test_pkt_set_ip_len_ipv6_tcp),
	    cmocka_unit_test(test_pkt_parse_ip_drops),
	    cmocka_unit_test(test_pkt_parse_ipv4_bad_options),
	    cmocka_unit_test(test_pkt_parse_too_big),
	    cmocka_unit_test(test_pkt_parse_ipv6_ext_drops),
	    cmocka_unit_test(test_pkt_parse_tcp_drops),
	    cmocka_unit_test(test_pkt_parse_udp_icmp_drops),
	    cmocka_unit_test(test_pkt_parse_bytes_every_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
