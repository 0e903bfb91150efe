/*
 * Parsing of IPv4 and IPv6 (with extension headers), TCP, UDP, ICMP and ICMPv6.
 *
 * The parser reads only inside [data, data + len), checks every length field against
 * the bytes actually present, and puts every malformed case under a named drop reason
 * (pkt_drop.h). Fragments other than the first are valid packets without an L4 header
 * (PKT_INFO_FRAGMENT set, PKT_INFO_HAS_L4 clear); the first fragment parses its L4
 * header if it is all there.
 *
 * Threads: pure functions over caller-owned buffers.
 */
#ifndef TERN_PKT_PARSE_H
#define TERN_PKT_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "pkt/pkt_buf.h"
#include "pkt/pkt_drop.h"
#include "pkt/pkt_info.h"

/*
 * Most IPv6 extension headers a packet may carry before its upper-layer header; more is
 * IPV6_EXT_TOO_MANY (a long chain only serves to hide the L4 header from filters).
 */
#define PKT_PARSE_IPV6_EXT_MAX 8

/*
 * Parses len bytes of an IP packet into *info. Returns 0, or -EBADMSG with *reason set.
 * Verifies the IPv4 header checksum; does not verify L4 checksums.
 */
int pkt_parse_bytes(const uint8_t *data, size_t len, struct pkt_info *info,
    enum pkt_drop_reason *reason);

/*
 * Parses the packet in p into p->info and trims bytes after the IP datagram (link
 * padding). Returns 0 or -EBADMSG with *reason set.
 */
int pkt_parse(struct pkt_buf *p, enum pkt_drop_reason *reason);

/* Source and destination addresses of a parsed packet. */
void pkt_info_src(const struct pkt_info *info, const uint8_t *data, struct addr *out);
void pkt_info_dst(const struct pkt_info *info, const uint8_t *data, struct addr *out);

/* Offsets of the address fields in the IP header, and their length (4 or 16). */
static inline size_t
pkt_info_src_off(const struct pkt_info *info)
{
	return info->family == ADDR_FAMILY_V6 ? 8 : 12;
}

static inline size_t
pkt_info_dst_off(const struct pkt_info *info)
{
	return info->family == ADDR_FAMILY_V6 ? 24 : 16;
}

static inline size_t
pkt_info_addr_len(const struct pkt_info *info)
{
	return info->family == ADDR_FAMILY_V6 ? 16 : 4;
}

/*
 * Sets the IP length fields (IPv4 total length and header checksum, or IPv6 payload
 * length) and the UDP length after the packet's size changed by a transform, and
 * updates info->ip_len. The L4 checksum is left to the caller. ip_len must be at least
 * info->l4_off and at most UINT16_MAX; the IPv4 header checksum is updated
 * incrementally, so it must have been right before.
 */
void pkt_set_ip_len(uint8_t *data, struct pkt_info *info, size_t ip_len);

#endif
