/*
 * Unit tests of pkt_icmp_err: the tuple of the packet an ICMP/ICMPv6 error embeds and
 * its rewrite, both families. Embedded packets are built whole (no payload), so after
 * a rewrite they parse on their own and their checksums verify.
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
#include "pkt/pkt_icmp_err.h"
#include "pkt/pkt_parse.h"

static const uint8_t a4[4] = {10, 1, 0, 10}, b4[4] = {10, 2, 0, 10}, r4[4] = {192, 0, 2, 2};
static const uint8_t n4[4] = {100, 64, 0, 7}, s4[4] = {172, 16, 0, 9};
static const uint8_t a6[16] = {0xfd, 0, 0, 1, [15] = 0x10}, b6[16] = {0xfd, 0, 0, 2, [15] = 0x10};
static const uint8_t n6[16] = {0xfd, 0, 0, 9, [15] = 0x77}, s6[16] = {0xfd, 0, 0, 8, [15] = 0x99};

/* An IP header of family v4/v6 from src to dst, proto, l4_len bytes after it. */
static size_t
ip_hdr(uint8_t *p, bool v4, const uint8_t *src, const uint8_t *dst, uint8_t proto, size_t l4_len)
{
	if (v4) {
		memset(p, 0, 20);
		p[0] = 0x45;
		buf_store_be16(p + 2, (uint16_t)(20 + l4_len));
		p[8] = 64;
		p[9] = proto;
		memcpy(p + 12, src, 4);
		memcpy(p + 16, dst, 4);
		buf_store_be16(p + 10, pkt_csum_ipv4_header(p, 20));
		return 20;
	}
	memset(p, 0, 40);
	p[0] = 0x60;
	buf_store_be16(p + 4, (uint16_t)l4_len);
	p[6] = proto;
	p[7] = 64;
	memcpy(p + 8, src, 16);
	memcpy(p + 24, dst, 16);
	return 40;
}

/* A whole packet: IP + an 8-byte L4 header (UDP, or an echo request), checksums right. */
static size_t
inner_build(uint8_t *p, bool v4, uint8_t proto, const uint8_t *src, const uint8_t *dst,
    uint16_t sport, uint16_t dport)
{
	size_t h = ip_hdr(p, v4, src, dst, proto, 8);
	struct pkt_info info;
	enum pkt_drop_reason reason;

	memset(p + h, 0, 8);
	if (proto == IPPROTO_UDP) {
		buf_store_be16(p + h, sport);
		buf_store_be16(p + h + 2, dport);
		buf_store_be16(p + h + 4, 8);
	} else {
		p[h] = v4 ? 8 : 128;
		buf_store_be16(p + h + 4, sport);
		buf_store_be16(p + h + 6, 1);
	}
	assert_int_equal(pkt_parse_bytes(p, h + 8, &info, &reason), 0);
	pkt_csum_fill(p, &info);
	assert_true(pkt_csum_verify(p, &info));
	return h + 8;
}

/* An error from `from` to `to` of type/code carrying inner[0..inner_len). */
static size_t
error_build(uint8_t *p, bool v4, const uint8_t *from, const uint8_t *to, uint8_t type, uint8_t code,
    const uint8_t *inner, size_t inner_len, struct pkt_info *info)
{
	size_t h = ip_hdr(p, v4, from, to, v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6, 8 + inner_len);
	enum pkt_drop_reason reason;

	memset(p + h, 0, 8);
	p[h] = type;
	p[h + 1] = code;
	memcpy(p + h + 8, inner, inner_len);
	assert_int_equal(pkt_parse_bytes(p, h + 8 + inner_len, info, &reason), 0);
	pkt_csum_fill(p, info);
	return h + 8 + inner_len;
}

static void
addr_of(struct addr *a, bool v4, const uint8_t *b)
{
	if (v4)
		addr_set_v4(a, b);
	else
		addr_set_v6(a, b);
}

/* The embedded packet parsed on its own has right checksums and the given tuple. */
static void
inner_check(const uint8_t *p, const struct pkt_icmp_err *e, bool v4, const uint8_t *src,
    const uint8_t *dst, uint16_t sport)
{
	struct pkt_info in;
	enum pkt_drop_reason reason;
	struct addr a;

	assert_int_equal(pkt_parse_bytes(p + e->inner_off, e->inner_len, &in, &reason), 0);
	assert_true(pkt_csum_verify(p + e->inner_off, &in));
	addr_of(&a, v4, src);
	assert_true(addr_equal(&e->src, &a));
	addr_of(&a, v4, dst);
	assert_true(addr_equal(&e->dst, &a));
	assert_int_equal(e->sport, sport);
}

static void
rewrite_both(bool v4, uint8_t proto)
{
	uint8_t inner[64], pkt[160];
	struct pkt_info info;
	struct pkt_icmp_err e;
	struct addr ns, nd;
	size_t il, len;

	/* The client a sent to the server b; the far side's b answers "port unreachable". */
	il = inner_build(inner, v4, proto, v4 ? a4 : a6, v4 ? b4 : b6, 40000, 9);
	len = error_build(pkt, v4, v4 ? r4 : b6, v4 ? a4 : a6, v4 ? 3 : 1, v4 ? 3 : 4, inner, il,
	    &info);
	assert_true(info.flags & PKT_INFO_ICMP_ERROR);
	assert_int_equal(pkt_icmp_err_parse(pkt, &info, &e), 0);
	assert_int_equal(e.l4_proto, proto);
	assert_true(e.has_ports);
	assert_int_equal(e.inner_len, il);
	inner_check(pkt, &e, v4, v4 ? a4 : a6, v4 ? b4 : b6, 40000);
	if (proto == IPPROTO_UDP)
		assert_int_equal(e.dport, 9);
	/* Back to a translated tuple (egress NAT and a service address), and back again. */
	addr_of(&ns, v4, v4 ? n4 : n6);
	addr_of(&nd, v4, v4 ? s4 : s6);
	assert_int_equal(pkt_icmp_err_rewrite(pkt, &info, &e, &ns, 61000, &nd, 5353), 0);
	assert_true(pkt_csum_verify(pkt, &info));
	inner_check(pkt, &e, v4, v4 ? n4 : n6, v4 ? s4 : s6, 61000);
	assert_int_equal(pkt_icmp_err_parse(pkt, &info, &e), 0);
	assert_int_equal(e.sport, 61000);
	addr_of(&ns, v4, v4 ? a4 : a6);
	addr_of(&nd, v4, v4 ? b4 : b6);
	assert_int_equal(pkt_icmp_err_rewrite(pkt, &info, &e, &ns, 40000, &nd, 9), 0);
	assert_true(pkt_csum_verify(pkt, &info));
	assert_memory_equal(pkt + e.inner_off, inner, il);
	(void)len;
}

static void
test_pkt_icmp_err_udp_v4_rewrites_back_and_forth(void **state)
{
	(void)state;
	rewrite_both(true, IPPROTO_UDP);
}

static void
test_pkt_icmp_err_udp_v6_rewrites_back_and_forth(void **state)
{
	(void)state;
	rewrite_both(false, IPPROTO_UDP);
}

static void
test_pkt_icmp_err_echo_both_families(void **state)
{
	(void)state;
	rewrite_both(true, IPPROTO_ICMP);
	rewrite_both(false, IPPROTO_ICMPV6);
}

static void
test_pkt_icmp_err_malformed_is_refused(void **state)
{
	uint8_t inner[64], pkt[160], err[64];
	struct pkt_info info;
	struct pkt_icmp_err e;
	size_t il, el;

	(void)state;
	/* Cut inside the embedded UDP header. */
	il = inner_build(inner, true, IPPROTO_UDP, a4, b4, 1, 2);
	error_build(pkt, true, r4, a4, 3, 3, inner, il - 1, &info);
	assert_int_equal(pkt_icmp_err_parse(pkt, &info, &e), -EBADMSG);
	/* Cut inside the embedded IP header. */
	error_build(pkt, false, b6, a6, 1, 4, inner, 12, &info);
	assert_int_equal(pkt_icmp_err_parse(pkt, &info, &e), -EBADMSG);
	/* An IPv6 header inside an ICMPv4 error. */
	il = inner_build(inner, false, IPPROTO_UDP, a6, b6, 1, 2);
	error_build(pkt, true, r4, a4, 3, 3, inner, il, &info);
	assert_int_equal(pkt_icmp_err_parse(pkt, &info, &e), -EBADMSG);
	/* An error about an error. */
	il = inner_build(inner, true, IPPROTO_UDP, a4, b4, 1, 2);
	el = error_build(err, true, a4, b4, 11, 0, inner, 28, &info);
	error_build(pkt, true, r4, a4, 3, 1, err, el, &info);
	assert_int_equal(pkt_icmp_err_parse(pkt, &info, &e), -EBADMSG);
	/* Not an error at all: an echo request. */
	il = inner_build(inner, true, IPPROTO_ICMP, a4, b4, 7, 7);
	{
		enum pkt_drop_reason reason;

		assert_int_equal(pkt_parse_bytes(inner, il, &info, &reason), 0);
		assert_int_equal(pkt_icmp_err_parse(inner, &info, &e), -EBADMSG);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pkt_icmp_err_udp_v4_rewrites_back_and_forth),
	    cmocka_unit_test(test_pkt_icmp_err_udp_v6_rewrites_back_and_forth),
	    cmocka_unit_test(test_pkt_icmp_err_echo_both_families),
	    cmocka_unit_test(test_pkt_icmp_err_malformed_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
