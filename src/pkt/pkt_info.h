/*
 * What the parser learnt about a packet: offsets of its layers and the fields every
 * later stage needs, so no stage parses twice. Offsets are relative to the packet's
 * first byte (pkt_buf_data()); ports are in host byte order.
 *
 * Invariants after a successful pkt_parse(): l4_off <= payload_off <= ip_len and
 * ip_len == the packet length (trailing padding is trimmed).
 *
 * ICMP/ICMPv6 echo fills sport and dport with its identifier but, not being TCP or UDP,
 * leaves PKT_INFO_HAS_PORTS clear: session code keys on l4_proto plus the ports.
 */
#ifndef TERN_PKT_INFO_H
#define TERN_PKT_INFO_H

#include <stdint.h>

enum pkt_info_flag {
	PKT_INFO_FRAGMENT = 1 << 0,       /* a fragment of a larger datagram */
	PKT_INFO_FIRST_FRAGMENT = 1 << 1, /* offset 0 (the only one with the L4 header) */
	PKT_INFO_HAS_PORTS = 1 << 2,      /* TCP or UDP header parsed: sport/dport valid */
	PKT_INFO_HAS_L4 = 1 << 3,         /* an L4 header (TCP, UDP, ICMP, ICMPv6) parsed */
	PKT_INFO_ICMP_ERROR = 1 << 4,     /* ICMP/ICMPv6 error (carries an inner packet) */
};

struct pkt_info {
	uint8_t family;   /* ADDR_FAMILY_V4 or ADDR_FAMILY_V6 */
	uint8_t l4_proto; /* upper-layer protocol after IPv6 extension headers (IPPROTO_*) */
	uint8_t tcp_flags;
	uint8_t flags;        /* enum pkt_info_flag */
	uint16_t l4_off;      /* offset of the L4 header (after IPv4 options / IPv6 ext hdrs) */
	uint16_t payload_off; /* offset of the L4 payload (after TCP options, UDP or ICMP hdr) */
	uint16_t ip_len;      /* length of the IP datagram (IPv4 total length, IPv6 40 + payload) */
	uint16_t sport;       /* TCP/UDP ports; for ICMP echo: identifier in both */
	uint16_t dport;
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint16_t frag_off_bytes; /* fragment offset in bytes (fragments only) */
	uint16_t frag_hdr_off;   /* IPv6: offset of the fragment extension header, or 0; also
	                            set for an atomic fragment, which is not a FRAGMENT */
	uint32_t frag_id;        /* IPv4 id or IPv6 fragment identification */
};

#endif
