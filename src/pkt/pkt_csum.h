/*
 * Internet checksums: full computation (RFC 1071) for new headers and verification,
 * and incremental update (RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m')) for rewrites, so
 * the fast path touches only the changed fields.
 *
 * A "delta" is the one's-complement sum of (~old + new) over every rewritten 16-bit
 * word; computed once per session direction, it is applied to every packet with one
 * add and fold. Sums are kept unfolded in uint32_t.
 *
 * Threads: pure functions.
 */
#ifndef TERN_PKT_CSUM_H
#define TERN_PKT_CSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>
#include <string.h>

#include "lib/buf.h"
#include "pkt/pkt_info.h"

/* One's-complement sum of len bytes (odd lengths padded with a zero byte) plus sum. */
uint32_t pkt_csum_partial(const void *data, size_t len, uint32_t sum);
/* Folds a 32-bit sum to 16 bits (not complemented). Inline: it is on the fast path. */
static inline uint16_t
pkt_csum_fold(uint32_t sum)
{
	sum = (sum & 0xffffu) + (sum >> 16);
	sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * True when an IPv4 header of hdr_len bytes (a multiple of 4, as IHL makes it) has a
 * right checksum. Native-order 32-bit adds: whether a one's-complement sum folds to
 * 0xffff does not depend on byte order, so no swapping; inline for the parser.
 */
static inline bool
pkt_csum_ipv4_header_valid(const uint8_t *hdr, size_t hdr_len)
{
	uint64_t acc = 0;
	uint32_t w;

	for (size_t i = 0; i + 4 <= hdr_len; i += 4) {
		memcpy(&w, hdr + i, sizeof(w));
		acc += w;
	}
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	return pkt_csum_fold((uint32_t)acc) == 0xffff;
}

/* The IPv4 header checksum of a header of hdr_len bytes (its checksum field ignored). */
uint16_t pkt_csum_ipv4_header(const uint8_t *hdr, size_t hdr_len);
/*
 * The TCP/UDP/ICMPv6 checksum of the L4 segment of a parsed packet, with the pseudo
 * header (ICMP over IPv4 has none). Ignores the current checksum field's value. For
 * UDP a computed 0 is returned as 0xffff (RFC 768). Returns 0 when there is nothing to
 * compute: no parsed L4 header (PKT_INFO_HAS_L4 clear) or a fragment (the checksum
 * covers the whole datagram).
 */
uint16_t pkt_csum_l4(const uint8_t *data, const struct pkt_info *info);
/*
 * Recomputes and stores the IPv4 header checksum (no-op for IPv6) and the L4 checksum
 * (skipped where pkt_csum_l4() has nothing to compute).
 */
void pkt_csum_fill(uint8_t *data, const struct pkt_info *info);
/*
 * True when the stored L4 (and IPv4 header) checksums are right. A zero UDP checksum is
 * right over IPv4 (none sent) and wrong over IPv6; fragments and packets without an L4
 * checksum only have their IPv4 header checked.
 */
bool pkt_csum_verify(const uint8_t *data, const struct pkt_info *info);

/* Adds (~old + new) over len bytes (even) to a delta. */
uint32_t pkt_csum_delta_add(uint32_t delta, const void *old_bytes, const void *new_bytes,
    size_t len);
static inline uint32_t
pkt_csum_delta_add16(uint32_t delta, uint16_t old_value, uint16_t new_value)
{
	/* Folding once first keeps any number of calls from overflowing the uint32_t. */
	delta = (delta & 0xffffu) + (delta >> 16);
	return delta + (uint16_t)~old_value + new_value;
}
/*
 * Applies a delta to the big-endian checksum at field (RFC 1624). With udp set, a
 * stored 0 (no checksum) stays 0 and a result of 0 is written as 0xffff.
 */
static inline void
pkt_csum_apply_delta(uint8_t *field, uint32_t delta, bool udp)
{
	uint16_t csum = buf_load_be16(field);
	uint32_t sum;

	if (udp && csum == 0)
		return;
	sum = (uint32_t)(uint16_t)~csum + pkt_csum_fold(delta);
	csum = (uint16_t)~pkt_csum_fold(sum);
	if (udp && csum == 0)
		csum = 0xffff;
	buf_store_be16(field, csum);
}

/* Offset of the L4 checksum field within the L4 header for proto, or -1 if none. */
static inline int
pkt_csum_l4_field_off(uint8_t l4_proto)
{
	switch (l4_proto) {
	case IPPROTO_TCP:
		return 16;
	case IPPROTO_UDP:
		return 6;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return 2;
	default:
		return -1;
	}
}

#endif
