/*
 * Packet builders for the pkt unit tests: IPv4/IPv6 headers (with options and extension
 * headers), TCP, UDP, ICMP and ICMPv6, and a naive byte-at-a-time Internet checksum that
 * the tests use as the reference model. Everything is written with explicit big-endian
 * stores so the builders share no code with the module under test.
 */
#ifndef TERN_TESTS_PKT_TEST_BUILD_H
#define TERN_TESTS_PKT_TEST_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TB_PROTO_HOPOPTS  0
#define TB_PROTO_ICMP     1
#define TB_PROTO_TCP      6
#define TB_PROTO_UDP      17
#define TB_PROTO_ROUTING  43
#define TB_PROTO_FRAGMENT 44
#define TB_PROTO_GRE      47
#define TB_PROTO_ESP      50
#define TB_PROTO_AH       51
#define TB_PROTO_ICMPV6   58
#define TB_PROTO_NONE     59
#define TB_PROTO_DSTOPTS  60

static inline void
tb_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
tb_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint16_t
tb_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The reference: RFC 1071 literally, one 16-bit word at a time, folded at the end. */
static inline uint32_t
tb_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	uint64_t s = sum;

	for (size_t i = 0; i < len; i++)
		s += (i % 2 == 0) ? (uint32_t)p[i] << 8 : p[i];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

static inline uint16_t
tb_csum(const uint8_t *p, size_t len)
{
	return (uint16_t)~tb_sum(p, len, 0);
}

static const uint8_t tb_v4_src[4] = {192, 168, 1, 10};
static const uint8_t tb_v4_dst[4] = {10, 0, 0, 1};
static const uint8_t tb_v6_src[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t tb_v6_dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

/* An IPv4 header from src to dst with opt_len bytes of options at p; returns its length. */
static inline size_t
tb_ipv4_hdr_addr(uint8_t *p, uint8_t proto, size_t total_len, uint16_t id, uint16_t frag,
    const uint8_t src[4], const uint8_t dst[4], const uint8_t *opt, size_t opt_len)
{
	size_t hdr_len = 20 + opt_len;

	memset(p, 0, 20);
	p[0] = (uint8_t)(0x40 | (hdr_len / 4));
	tb_be16(p + 2, (uint16_t)total_len);
	tb_be16(p + 4, id);
	tb_be16(p + 6, frag);
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
	if (opt_len > 0)
		memcpy(p + 20, opt, opt_len);
	tb_be16(p + 10, tb_csum(p, hdr_len));
	return hdr_len;
}

/* The same from tb_v4_src to tb_v4_dst. */
static inline size_t
tb_ipv4_hdr(uint8_t *p, uint8_t proto, size_t total_len, uint16_t id, uint16_t frag,
    const uint8_t *opt, size_t opt_len)
{
	return tb_ipv4_hdr_addr(p, proto, total_len, id, frag, tb_v4_src, tb_v4_dst, opt, opt_len);
}

/* An IPv6 header from src to dst; returns 40. */
static inline size_t
tb_ipv6_hdr_addr(uint8_t *p, uint8_t nh, size_t payload_len, const uint8_t src[16],
    const uint8_t dst[16])
{
	memset(p, 0, 40);
	p[0] = 0x60;
	tb_be16(p + 4, (uint16_t)payload_len);
	p[6] = nh;
	p[7] = 64;
	memcpy(p + 8, src, 16);
	memcpy(p + 24, dst, 16);
	return 40;
}

/* The same from tb_v6_src to tb_v6_dst. */
static inline size_t
tb_ipv6_hdr(uint8_t *p, uint8_t nh, size_t payload_len)
{
	return tb_ipv6_hdr_addr(p, nh, payload_len, tb_v6_src, tb_v6_dst);
}

/* A TCP header with opt_len (multiple of 4) option bytes; returns its length. */
static inline size_t
tb_tcp(uint8_t *p, uint16_t sport, uint16_t dport, uint8_t flags, const uint8_t *opt,
    size_t opt_len)
{
	memset(p, 0, 20);
	tb_be16(p, sport);
	tb_be16(p + 2, dport);
	tb_be32(p + 4, 0x01020304);
	p[12] = (uint8_t)(((20 + opt_len) / 4) << 4);
	p[13] = flags;
	tb_be16(p + 14, 65535);
	if (opt_len > 0)
		memcpy(p + 20, opt, opt_len);
	return 20 + opt_len;
}

static inline size_t
tb_udp(uint8_t *p, uint16_t sport, uint16_t dport, size_t payload_len)
{
	tb_be16(p, sport);
	tb_be16(p + 2, dport);
	tb_be16(p + 4, (uint16_t)(8 + payload_len));
	tb_be16(p + 6, 0);
	return 8;
}

static inline size_t
tb_icmp(uint8_t *p, uint8_t type, uint8_t code, uint16_t id, uint16_t seq)
{
	p[0] = type;
	p[1] = code;
	tb_be16(p + 2, 0);
	tb_be16(p + 4, id);
	tb_be16(p + 6, seq);
	return 8;
}

/* The L4 checksum of a whole segment with its pseudo header, the reference way. */
static inline uint16_t
tb_l4_csum(const uint8_t *ip, bool v6, uint8_t proto, const uint8_t *l4, size_t l4_len,
    size_t field)
{
	uint8_t pseudo[40];
	uint32_t sum = 0;
	uint16_t c;

	if (v6) {
		memcpy(pseudo, ip + 8, 32);
		tb_be32(pseudo + 32, (uint32_t)l4_len);
		pseudo[36] = pseudo[37] = pseudo[38] = 0;
		pseudo[39] = proto;
		sum = tb_sum(pseudo, 40, 0);
	} else if (proto != TB_PROTO_ICMP) {
		memcpy(pseudo, ip + 12, 8);
		pseudo[8] = 0;
		pseudo[9] = proto;
		tb_be16(pseudo + 10, (uint16_t)l4_len);
		sum = tb_sum(pseudo, 12, 0);
	}
	/* The field is at an even offset: sum around it. */
	sum = tb_sum(l4, field, sum);
	c = (uint16_t)~tb_sum(l4 + field + 2, l4_len - field - 2, sum);
	if (c == 0 && proto == TB_PROTO_UDP)
		c = 0xffff;
	return c;
}

/*
 * A whole IPv4 packet: header (with options), L4 header built by the caller in l4hdr,
 * and payload_len bytes of pattern payload. Returns the packet length.
 */
static inline size_t
tb_v4_packet(uint8_t *p, uint8_t proto, const uint8_t *l4hdr, size_t l4hdr_len, size_t payload_len,
    const uint8_t *opt, size_t opt_len)
{
	size_t hdr_len = 20 + opt_len, total = hdr_len + l4hdr_len + payload_len;

	tb_ipv4_hdr(p, proto, total, 0x1234, 0x4000, opt, opt_len);
	if (l4hdr_len > 0)
		memcpy(p + hdr_len, l4hdr, l4hdr_len);
	for (size_t i = 0; i < payload_len; i++)
		p[hdr_len + l4hdr_len + i] = (uint8_t)(i * 7 + 3);
	return total;
}

/*
 * A whole IPv6 packet whose extension headers (already encoded, the first one's type in
 * first_nh, the last one's next header = proto) are ext[0..ext_len).
 */
static inline size_t
tb_v6_packet(uint8_t *p, uint8_t first_nh, const uint8_t *ext, size_t ext_len, const uint8_t *l4hdr,
    size_t l4hdr_len, size_t payload_len)
{
	size_t total = 40 + ext_len + l4hdr_len + payload_len;

	tb_ipv6_hdr(p, first_nh, total - 40);
	if (ext_len > 0)
		memcpy(p + 40, ext, ext_len);
	if (l4hdr_len > 0)
		memcpy(p + 40 + ext_len, l4hdr, l4hdr_len);
	for (size_t i = 0; i < payload_len; i++)
		p[40 + ext_len + l4hdr_len + i] = (uint8_t)(i * 5 + 1);
	return total;
}

/* An extension header of type-dependent length: 8 * (hdr_ext_len + 1) bytes, PadN. */
static inline size_t
tb_ext_opts(uint8_t *p, uint8_t nh, uint8_t hdr_ext_len)
{
	size_t len = ((size_t)hdr_ext_len + 1) * 8;

	memset(p, 0, len);
	p[0] = nh;
	p[1] = hdr_ext_len;
	p[2] = 1; /* PadN covering the rest */
	p[3] = (uint8_t)(len - 4);
	return len;
}

static inline size_t
tb_ext_frag(uint8_t *p, uint8_t nh, uint16_t off_bytes, bool more, uint32_t id)
{
	p[0] = nh;
	p[1] = 0;
	tb_be16(p + 2, (uint16_t)(off_bytes | (more ? 1 : 0)));
	tb_be32(p + 4, id);
	return 8;
}

#endif
