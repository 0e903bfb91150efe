/*
 * The packet an ICMP or ICMPv6 error carries (RFC 792, RFC 4443: destination
 * unreachable, packet too big, time exceeded, parameter problem, source quench,
 * redirect): its tuple, to find the session the error belongs to, and the rewrite of
 * its header when that session is translated (docs/policy.md "Stateful firewall").
 *
 * The embedded packet is the one that caused the error, as its sender sent it, so its
 * tuple is the session's in the direction opposite the error. It is cut short (at
 * least its IP header and 8 bytes of L4 header are there, RFC 792); its L4 checksum
 * covers bytes that are gone, so a rewrite adjusts it by delta only.
 *
 * Threads: pure functions on caller-owned bytes; no allocation.
 */
#ifndef TERN_PKT_PKT_ICMP_ERR_H
#define TERN_PKT_PKT_ICMP_ERR_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/addr.h"
#include "pkt/pkt_info.h"

/* Bytes of the embedded L4 header an error must carry (RFC 792: 64 bits). */
#define PKT_ICMP_ERR_L4_MIN 8

struct pkt_icmp_err {
	uint8_t l4_proto;      /* the embedded packet's upper-layer protocol */
	bool has_ports;        /* TCP/UDP ports, or an ICMP echo's identifier in both */
	uint16_t inner_off;    /* offset of the embedded IP header in the packet */
	uint16_t inner_l4_off; /* offset of its L4 header (valid with has_ports) */
	uint16_t inner_len;    /* its bytes present, to the end of the outer datagram */
	struct addr src, dst;  /* as the embedded packet has them */
	uint16_t sport, dport;
};

/*
 * Parses the packet an error (info->flags has PKT_INFO_ICMP_ERROR) embeds, data being
 * the parsed datagram. 0 and *out; -EBADMSG when it is not an error, the embedded
 * header is of another family, cut inside its IP header (or before 8 bytes of a TCP,
 * UDP or ICMP header), has a bad IPv4 header length, too many IPv6 extension headers,
 * or is itself an ICMP error (never answered with one, RFC 1122 3.2.2). A non-first
 * fragment or another protocol parses with has_ports false.
 */
int pkt_icmp_err_parse(const uint8_t *data, const struct pkt_info *info, struct pkt_icmp_err *out);

/*
 * Rewrites the embedded packet's addresses and ports (has_ports; else only addresses)
 * to src:sport -> dst:dport (same family), adjusting the embedded IPv4 header checksum,
 * the embedded L4 checksum where its field is present (by delta: the rest of the
 * segment is gone), and recomputing the error's own ICMP/ICMPv6 checksum. The outer
 * header's own addresses are the caller's (with pkt_csum_fill() after changing them).
 * -EINVAL for another family. Updates *e.
 */
int pkt_icmp_err_rewrite(uint8_t *data, const struct pkt_info *info, struct pkt_icmp_err *e,
    const struct addr *src, uint16_t sport, const struct addr *dst, uint16_t dport);

#endif
