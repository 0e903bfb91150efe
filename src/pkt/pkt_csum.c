/*
 * Internet checksums; see pkt_csum.h for the contract.
 *
 * Every sum here is a value of big-endian 16-bit words ("network order value"), so a
 * folded, complemented result is stored with buf_store_be16(). pkt_csum_partial() adds
 * native-order 64-bit words and swaps the folded result once: the one's-complement sum
 * does not depend on byte order except for that final swap (RFC 1071, section 2B).
 *
 * Folding always uses the end-around carry and never maps 0xffff to 0, so the result of
 * a nonzero input is in [1, 0xffff]; with that, eqn. 3 of RFC 1624 gives bit for bit the
 * same checksum as a full recomputation.
 */
#include "pkt/pkt_csum.h"

#include <netinet/in.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/buf.h"

/* Adds b to a with the carry out of bit 63 brought back in (one's complement). */
static inline uint64_t
pkt_csum_add64(uint64_t a, uint64_t b)
{
	uint64_t r = a + b;

	return r + (r < b);
}

static inline uint64_t
pkt_csum_load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint16_t
pkt_csum_fold64(uint64_t acc)
{
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffu) + (acc >> 16);
	acc = (acc & 0xffffu) + (acc >> 16);
	acc = (acc & 0xffffu) + (acc >> 16);
	return (uint16_t)acc;
}

uint32_t
pkt_csum_partial(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;
	uint64_t acc = 0;
	uint16_t native;

	while (len >= 32) {
		acc = pkt_csum_add64(acc, pkt_csum_load64(p));
		acc = pkt_csum_add64(acc, pkt_csum_load64(p + 8));
		acc = pkt_csum_add64(acc, pkt_csum_load64(p + 16));
		acc = pkt_csum_add64(acc, pkt_csum_load64(p + 24));
		p += 32;
		len -= 32;
	}
	while (len >= 8) {
		acc = pkt_csum_add64(acc, pkt_csum_load64(p));
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		uint32_t w;

		memcpy(&w, p, sizeof(w));
		acc = pkt_csum_add64(acc, w);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;

		memcpy(&w, p, sizeof(w));
		acc = pkt_csum_add64(acc, w);
		p += 2;
		len -= 2;
	}
	if (len == 1) {
		/* The odd byte is the high half of a big-endian word padded with zero. */
		uint8_t pad[2] = {p[0], 0};
		uint16_t w;

		memcpy(&w, pad, sizeof(w));
		acc = pkt_csum_add64(acc, w);
	}
	native = pkt_csum_fold64(acc);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	native = __builtin_bswap16(native);
#endif
	return pkt_csum_fold64((uint64_t)pkt_csum_fold64(sum) + native);
}

uint16_t
pkt_csum_ipv4_header(const uint8_t *hdr, size_t hdr_len)
{
	uint32_t sum;

	sum = pkt_csum_partial(hdr, 10, 0);
	if (hdr_len > 12)
		sum = pkt_csum_partial(hdr + 12, hdr_len - 12, sum);
	return (uint16_t)~pkt_csum_fold(sum);
}

/* The L4 checksum field of a complete (unfragmented) parsed packet, or -1 if none. */
static int
pkt_csum_l4_field(const struct pkt_info *info)
{
	int field;

	if (!(info->flags & PKT_INFO_HAS_L4) || (info->flags & PKT_INFO_FRAGMENT))
		return -1;
	/* ICMP belongs to IPv4 and ICMPv6 to IPv6; the parser gives no L4 otherwise. */
	field = pkt_csum_l4_field_off(info->l4_proto);
	if (field < 0 || (size_t)info->l4_off + (size_t)field + 2 > info->ip_len)
		return -1;
	return field;
}

/* The pseudo header sum (zero for ICMP over IPv4) plus the whole L4 segment. */
static uint32_t
pkt_csum_l4_sum(const uint8_t *data, const struct pkt_info *info, int field)
{
	size_t l4_len = (size_t)info->ip_len - info->l4_off;
	const uint8_t *l4 = data + info->l4_off;
	uint32_t sum = 0;

	if (info->family == ADDR_FAMILY_V4 && info->l4_proto != IPPROTO_ICMP) {
		sum = pkt_csum_partial(data + 12, 8, 0);
		sum += info->l4_proto;
		sum += (uint32_t)l4_len;
	} else if (info->family == ADDR_FAMILY_V6) {
		sum = pkt_csum_partial(data + 8, 32, 0);
		sum += (uint32_t)(l4_len >> 16) + (uint32_t)(l4_len & 0xffff);
		sum += info->l4_proto;
	}
	/* Skip the checksum field itself: sum the bytes before it and after it. */
	sum = pkt_csum_partial(l4, (size_t)field, sum);
	return pkt_csum_partial(l4 + field + 2, l4_len - (size_t)field - 2, sum);
}

uint16_t
pkt_csum_l4(const uint8_t *data, const struct pkt_info *info)
{
	int field = pkt_csum_l4_field(info);
	uint16_t csum;

	if (field < 0)
		return 0;
	csum = (uint16_t)~pkt_csum_fold(pkt_csum_l4_sum(data, info, field));
	if (csum == 0 && info->l4_proto == IPPROTO_UDP)
		csum = 0xffff;
	return csum;
}

void
pkt_csum_fill(uint8_t *data, const struct pkt_info *info)
{
	int field;

	if (info->family == ADDR_FAMILY_V4)
		buf_store_be16(data + 10, pkt_csum_ipv4_header(data, (size_t)(data[0] & 0x0f) * 4));
	field = pkt_csum_l4_field(info);
	if (field >= 0)
		buf_store_be16(data + info->l4_off + field, pkt_csum_l4(data, info));
}

bool
pkt_csum_verify(const uint8_t *data, const struct pkt_info *info)
{
	const uint8_t *stored;
	uint32_t sum;
	int field;

	if (info->family == ADDR_FAMILY_V4 &&
	    pkt_csum_fold(pkt_csum_partial(data, (size_t)(data[0] & 0x0f) * 4, 0)) != 0xffff)
		return false;
	field = pkt_csum_l4_field(info);
	if (field < 0)
		return true;
	stored = data + info->l4_off + field;
	/* UDP over IPv4 may go without a checksum; over IPv6 it may not (RFC 8200). */
	if (info->l4_proto == IPPROTO_UDP && info->family == ADDR_FAMILY_V4 &&
	    buf_load_be16(stored) == 0)
		return true;
	sum = pkt_csum_partial(stored, 2, pkt_csum_l4_sum(data, info, field));
	return pkt_csum_fold(sum) == 0xffff;
}

uint32_t
pkt_csum_delta_add(uint32_t delta, const void *old_bytes, const void *new_bytes, size_t len)
{
	const uint8_t *o = old_bytes, *n = new_bytes;

	for (size_t i = 0; i + 1 < len; i += 2)
		delta = pkt_csum_delta_add16(delta, buf_load_be16(o + i), buf_load_be16(n + i));
	return delta;
}
