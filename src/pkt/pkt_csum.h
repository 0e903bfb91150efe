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

#include "pkt/pkt_info.h"

/* One's-complement sum of len bytes (odd lengths padded with a zero byte) plus sum. */
uint32_t pkt_csum_partial(const void *data, size_t len, uint32_t sum);
/* Folds a 32-bit sum to 16 bits (not complemented). */
uint16_t pkt_csum_fold(uint32_t sum);

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
uint32_t pkt_csum_delta_add16(uint32_t delta, uint16_t old_value, uint16_t new_value);
/*
 * Applies a delta to the big-endian checksum at field (RFC 1624). With udp set, a
 * stored 0 (no checksum) stays 0 and a result of 0 is written as 0xffff.
 */
void pkt_csum_apply_delta(uint8_t *field, uint32_t delta, bool udp);

/* Offset of the L4 checksum field within the L4 header for proto, or -1 if none. */
int pkt_csum_l4_field_off(uint8_t l4_proto);

#endif
