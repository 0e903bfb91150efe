/* The packet inside an ICMP/ICMPv6 error; see pkt_icmp_err.h. */
#include "pkt/pkt_icmp_err.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "lib/buf.h"
#include "pkt/pkt_csum.h"
#include "pkt/pkt_parse.h"

#define ICMP_HDR_LEN 8
#define IPV6_HDR_LEN 40
#define IPV6_EXT_MAX 8

static bool
pkt_icmp_err_is_error(uint8_t family, uint8_t type)
{
	if (family == ADDR_FAMILY_V4)
		return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
	return type >= 1 && type <= 4;
}

/* The L4 header at off of proto (len bytes of the datagram): ports, or none. */
static int
pkt_icmp_err_l4(const uint8_t *data, size_t len, size_t off, uint8_t family,
    struct pkt_icmp_err *out)
{
	const uint8_t *l4 = data + off;

	switch (out->l4_proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		break;
	default:
		return 0;
	}
	if (len - off < PKT_ICMP_ERR_L4_MIN)
		return -EBADMSG;
	out->inner_l4_off = (uint16_t)off;
	if (out->l4_proto == IPPROTO_TCP || out->l4_proto == IPPROTO_UDP) {
		out->sport = buf_load_be16(l4);
		out->dport = buf_load_be16(l4 + 2);
		out->has_ports = true;
		return 0;
	}
	if ((out->l4_proto == IPPROTO_ICMP) != (family == ADDR_FAMILY_V4))
		return 0; /* ICMP in IPv6 or ICMPv6 in IPv4: no session has it */
	if (pkt_icmp_err_is_error(family, l4[0]))
		return -EBADMSG;
	if ((family == ADDR_FAMILY_V4 && (l4[0] == 0 || l4[0] == 8)) ||
	    (family == ADDR_FAMILY_V6 && (l4[0] == 128 || l4[0] == 129))) {
		out->sport = out->dport = buf_load_be16(l4 + 4);
		out->has_ports = true;
	}
	return 0;
}

int
pkt_icmp_err_parse(const uint8_t *data, const struct pkt_info *info, struct pkt_icmp_err *out)
{
	size_t len = info->ip_len, off = info->payload_off, ihl, ext = 0;
	const uint8_t *in;
	uint8_t next;

	memset(out, 0, sizeof(*out));
	if (!(info->flags & PKT_INFO_ICMP_ERROR) ||
	    info->payload_off != info->l4_off + ICMP_HDR_LEN || off >= len)
		return -EBADMSG;
	in = data + off;
	out->inner_off = (uint16_t)off;
	out->inner_len = (uint16_t)(len - off);
	if ((in[0] >> 4) != (info->family == ADDR_FAMILY_V4 ? 4 : 6))
		return -EBADMSG;
	if (info->family == ADDR_FAMILY_V4) {
		ihl = (size_t)(in[0] & 0x0f) * 4;
		if (ihl < 20 || len - off < ihl)
			return -EBADMSG;
		addr_set_v4(&out->src, in + 12);
		addr_set_v4(&out->dst, in + 16);
		out->l4_proto = in[9];
		/* A later fragment has no L4 header. */
		if ((buf_load_be16(in + 6) & 0x1fff) != 0)
			return 0;
		return pkt_icmp_err_l4(data, len, off + ihl, info->family, out);
	}
	if (len - off < IPV6_HDR_LEN)
		return -EBADMSG;
	addr_set_v6(&out->src, in + 8);
	addr_set_v6(&out->dst, in + 24);
	next = in[6];
	off += IPV6_HDR_LEN;
	for (;;) {
		if (next == 0 || next == 43 || next == 60) {
			if (++ext > IPV6_EXT_MAX || len - off < 8)
				return -EBADMSG;
			next = data[off];
			off += ((size_t)data[off + 1] + 1) * 8;
			if (off > len)
				return -EBADMSG;
			continue;
		}
		if (next == 44) {
			if (++ext > IPV6_EXT_MAX || len - off < 8)
				return -EBADMSG;
			out->l4_proto = data[off];
			if ((buf_load_be16(data + off + 2) & 0xfff8) != 0)
				return 0;
			next = data[off];
			off += 8;
			continue;
		}
		break;
	}
	out->l4_proto = next;
	return pkt_icmp_err_l4(data, len, off, info->family, out);
}

int
pkt_icmp_err_rewrite(uint8_t *data, const struct pkt_info *info, struct pkt_icmp_err *e,
    const struct addr *src, uint16_t sport, const struct addr *dst, uint16_t dport)
{
	bool v4 = info->family == ADDR_FAMILY_V4;
	size_t alen = v4 ? 4 : 16, src_off = v4 ? 12 : 8, dst_off = v4 ? 16 : 24;
	uint8_t *in = data + e->inner_off, *l4 = data + e->inner_l4_off;
	uint32_t pseudo = 0, ports = 0;
	int field;

	if (src->family != info->family || dst->family != info->family)
		return -EINVAL;
	pseudo = pkt_csum_delta_add(pseudo, in + src_off, src->bytes, alen);
	pseudo = pkt_csum_delta_add(pseudo, in + dst_off, dst->bytes, alen);
	memcpy(in + src_off, src->bytes, alen);
	memcpy(in + dst_off, dst->bytes, alen);
	e->src = *src;
	e->dst = *dst;
	if (v4)
		buf_store_be16(in + 10, pkt_csum_ipv4_header(in, (size_t)(in[0] & 0x0f) * 4));
	if (e->has_ports) {
		bool echo = e->l4_proto == IPPROTO_ICMP || e->l4_proto == IPPROTO_ICMPV6;
		size_t avail = (size_t)e->inner_off + e->inner_len - e->inner_l4_off;

		if (echo) {
			ports = pkt_csum_delta_add16(ports, e->sport, sport);
			buf_store_be16(l4 + 4, sport);
			e->sport = e->dport = sport;
		} else {
			ports = pkt_csum_delta_add16(ports, e->sport, sport);
			ports = pkt_csum_delta_add16(ports, e->dport, dport);
			buf_store_be16(l4, sport);
			buf_store_be16(l4 + 2, dport);
			e->sport = sport;
			e->dport = dport;
		}
		field = pkt_csum_l4_field_off(e->l4_proto);
		/* ICMP over IPv4 has no pseudo header; the others cover the addresses. */
		if (e->l4_proto != IPPROTO_ICMP)
			ports += pkt_csum_fold(pseudo);
		if (field >= 0 && (size_t)field + 2 <= avail)
			pkt_csum_apply_delta(l4 + field, ports, e->l4_proto == IPPROTO_UDP && v4);
	}
	pkt_csum_fill(data, info);
	return 0;
}
