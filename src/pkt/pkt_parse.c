/*
 * IPv4/IPv6 and L4 header parsing; see pkt_parse.h for the contract.
 *
 * Each step checks a length against the bytes known to be there before it reads, and
 * the IP layer shrinks "there" to the datagram (total length or payload length), so
 * the L4 step never sees link padding.
 */
#include "pkt/pkt_parse.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "lib/buf.h"
#include "pkt/pkt_csum.h"

#define PKT_IPV4_HDR_MIN      20
#define PKT_IPV6_HDR_LEN      40
#define PKT_TCP_HDR_MIN       20
#define PKT_UDP_HDR_LEN       8
#define PKT_ICMP_HDR_LEN      8
#define PKT_IPV6_FRAG_HDR_LEN 8

/* IPv4 and TCP share the option encoding: 0 ends the list, 1 pads, others are TLVs. */
static bool
pkt_parse_options_ok(const uint8_t *opt, size_t len)
{
	size_t i = 0;

	while (i < len) {
		if (opt[i] == 0)
			return true;
		if (opt[i] == 1) {
			i++;
			continue;
		}
		if (len - i < 2 || opt[i + 1] < 2 || opt[i + 1] > len - i)
			return false;
		i += opt[i + 1];
	}
	return true;
}

/*
 * The L4 header at info->l4_off of a datagram of ip_len bytes. In a first fragment the
 * segment is cut short, so a header that is not all there just leaves PKT_INFO_HAS_L4
 * clear; reassembly will parse the whole datagram again.
 */
static int
pkt_parse_l4(const uint8_t *data, size_t ip_len, struct pkt_info *info,
    enum pkt_drop_reason *reason)
{
	bool cut = (info->flags & PKT_INFO_FRAGMENT) != 0;
	size_t seg = ip_len - info->l4_off;
	const uint8_t *l4 = data + info->l4_off;
	size_t hdr_len;
	uint16_t udp_len;

	info->payload_off = info->l4_off;
	switch (info->l4_proto) {
	case IPPROTO_TCP:
		if (seg < PKT_TCP_HDR_MIN) {
			if (cut)
				return 0;
			goto tcp_truncated;
		}
		hdr_len = (size_t)(l4[12] >> 4) * 4;
		if (hdr_len < PKT_TCP_HDR_MIN)
			goto tcp_bad_data_offset;
		if (hdr_len > seg) {
			if (cut)
				return 0;
			goto tcp_bad_data_offset;
		}
		if (!pkt_parse_options_ok(l4 + PKT_TCP_HDR_MIN, hdr_len - PKT_TCP_HDR_MIN))
			goto tcp_bad_options;
		info->sport = buf_load_be16(l4);
		info->dport = buf_load_be16(l4 + 2);
		info->tcp_flags = l4[13];
		info->payload_off = (uint16_t)(info->l4_off + hdr_len);
		info->flags |= PKT_INFO_HAS_L4 | PKT_INFO_HAS_PORTS;
		return 0;
	case IPPROTO_UDP:
		if (seg < PKT_UDP_HDR_LEN) {
			if (cut)
				return 0;
			goto udp_truncated;
		}
		/* A first fragment carries only part of the datagram the length describes. */
		udp_len = buf_load_be16(l4 + 4);
		if (udp_len < PKT_UDP_HDR_LEN || (cut ? udp_len < seg : udp_len != seg))
			goto udp_bad_length;
		info->sport = buf_load_be16(l4);
		info->dport = buf_load_be16(l4 + 2);
		info->payload_off = (uint16_t)(info->l4_off + PKT_UDP_HDR_LEN);
		info->flags |= PKT_INFO_HAS_L4 | PKT_INFO_HAS_PORTS;
		return 0;
	case IPPROTO_ICMP:
		if (info->family != ADDR_FAMILY_V4)
			return 0;
		if (seg < PKT_ICMP_HDR_LEN) {
			if (cut)
				return 0;
			goto icmp_truncated;
		}
		info->icmp_type = l4[0];
		info->icmp_code = l4[1];
		if (l4[0] == 0 || l4[0] == 8) {
			info->sport = buf_load_be16(l4 + 4);
			info->dport = info->sport;
		} else if (l4[0] == 3 || l4[0] == 4 || l4[0] == 5 || l4[0] == 11 || l4[0] == 12) {
			info->flags |= PKT_INFO_ICMP_ERROR;
		}
		info->payload_off = (uint16_t)(info->l4_off + PKT_ICMP_HDR_LEN);
		info->flags |= PKT_INFO_HAS_L4;
		return 0;
	case IPPROTO_ICMPV6:
		if (info->family != ADDR_FAMILY_V6)
			return 0;
		if (seg < PKT_ICMP_HDR_LEN) {
			if (cut)
				return 0;
			goto icmpv6_truncated;
		}
		info->icmp_type = l4[0];
		info->icmp_code = l4[1];
		if (l4[0] == 128 || l4[0] == 129) {
			info->sport = buf_load_be16(l4 + 4);
			info->dport = info->sport;
		} else if (l4[0] >= 1 && l4[0] <= 4) {
			info->flags |= PKT_INFO_ICMP_ERROR;
		}
		info->payload_off = (uint16_t)(info->l4_off + PKT_ICMP_HDR_LEN);
		info->flags |= PKT_INFO_HAS_L4;
		return 0;
	default:
		/* ESP, GRE, SCTP...: valid, forwarded by address and protocol only. */
		return 0;
	}

tcp_truncated:
	*reason = PKT_DROP_TCP_TRUNCATED;
	return -EBADMSG;
tcp_bad_data_offset:
	*reason = PKT_DROP_TCP_BAD_DATA_OFFSET;
	return -EBADMSG;
tcp_bad_options:
	*reason = PKT_DROP_TCP_BAD_OPTIONS;
	return -EBADMSG;
udp_truncated:
	*reason = PKT_DROP_UDP_TRUNCATED;
	return -EBADMSG;
udp_bad_length:
	*reason = PKT_DROP_UDP_BAD_LENGTH;
	return -EBADMSG;
icmp_truncated:
	*reason = PKT_DROP_ICMP_TRUNCATED;
	return -EBADMSG;
icmpv6_truncated:
	*reason = PKT_DROP_ICMPV6_TRUNCATED;
	return -EBADMSG;
}

static int
pkt_parse_ipv4(const uint8_t *data, size_t len, struct pkt_info *info, enum pkt_drop_reason *reason)
{
	size_t hdr_len, total;
	uint16_t frag;

	if (len < PKT_IPV4_HDR_MIN)
		goto ip_truncated;
	hdr_len = (size_t)(data[0] & 0x0f) * 4;
	if (hdr_len < PKT_IPV4_HDR_MIN)
		goto bad_header_length;
	if (hdr_len > len)
		goto ip_truncated;
	if (!pkt_csum_ipv4_header_valid(data, hdr_len))
		goto bad_checksum;
	total = buf_load_be16(data + 2);
	if (total < hdr_len || total > len)
		goto bad_total_length;
	if (!pkt_parse_options_ok(data + PKT_IPV4_HDR_MIN, hdr_len - PKT_IPV4_HDR_MIN))
		goto bad_options;

	info->family = ADDR_FAMILY_V4;
	info->ip_len = (uint16_t)total;
	info->l4_proto = data[9];
	info->l4_off = (uint16_t)hdr_len;
	frag = buf_load_be16(data + 6);
	if (frag & 0x3fff) {
		info->flags |= PKT_INFO_FRAGMENT;
		info->frag_id = buf_load_be16(data + 4);
		info->frag_off_bytes = (uint16_t)((frag & 0x1fff) * 8);
		if (info->frag_off_bytes != 0) {
			info->payload_off = info->l4_off;
			return 0;
		}
		info->flags |= PKT_INFO_FIRST_FRAGMENT;
	}
	return pkt_parse_l4(data, total, info, reason);

ip_truncated:
	*reason = PKT_DROP_IP_TRUNCATED;
	return -EBADMSG;
bad_header_length:
	*reason = PKT_DROP_IPV4_BAD_HEADER_LENGTH;
	return -EBADMSG;
bad_checksum:
	*reason = PKT_DROP_IPV4_BAD_CHECKSUM;
	return -EBADMSG;
bad_total_length:
	*reason = PKT_DROP_IPV4_BAD_TOTAL_LENGTH;
	return -EBADMSG;
bad_options:
	*reason = PKT_DROP_IPV4_BAD_OPTIONS;
	return -EBADMSG;
}

static int
pkt_parse_ipv6(const uint8_t *data, size_t len, struct pkt_info *info, enum pkt_drop_reason *reason)
{
	size_t end, off = PKT_IPV6_HDR_LEN, ext_len;
	unsigned ext_count = 0;
	bool seen_frag = false;
	uint8_t nh;

	if (len < PKT_IPV6_HDR_LEN)
		goto ip_truncated;
	end = PKT_IPV6_HDR_LEN + (size_t)buf_load_be16(data + 4);
	if (end > len)
		goto bad_payload_length;
	/* The datagram must fit the 16-bit offsets of pkt_info (jumbo frames do). */
	if (end > UINT16_MAX)
		goto too_big;
	info->family = ADDR_FAMILY_V6;
	info->ip_len = (uint16_t)end;
	nh = data[6];

	for (;;) {
		bool is_frag = false;

		switch (nh) {
		case IPPROTO_HOPOPTS:
			if (off != PKT_IPV6_HDR_LEN)
				goto ext_bad_order;
			/* fall through */
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (end - off < 2)
				goto ext_truncated;
			ext_len = ((size_t)data[off + 1] + 1) * 8;
			break;
		case IPPROTO_AH:
			if (end - off < 2)
				goto ext_truncated;
			ext_len = ((size_t)data[off + 1] + 2) * 4;
			break;
		case IPPROTO_FRAGMENT:
			if (seen_frag)
				goto ext_bad_order;
			seen_frag = is_frag = true;
			ext_len = PKT_IPV6_FRAG_HDR_LEN;
			break;
		default:
			goto upper_layer;
		}
		if (++ext_count > PKT_PARSE_IPV6_EXT_MAX)
			goto ext_too_many;
		if (ext_len > end - off)
			goto ext_truncated;
		if (is_frag) {
			uint16_t frag = buf_load_be16(data + off + 2);

			info->frag_hdr_off = (uint16_t)off;
			/* Offset 0 without M is an atomic fragment: a whole datagram (RFC 6946). */
			if (frag & 0xfff9) {
				info->flags |= PKT_INFO_FRAGMENT;
				info->frag_id = buf_load_be32(data + off + 4);
				info->frag_off_bytes = frag & 0xfff8;
				if (info->frag_off_bytes != 0) {
					/* The rest is the middle of the fragmentable part. */
					info->l4_proto = data[off];
					info->l4_off = (uint16_t)(off + ext_len);
					info->payload_off = info->l4_off;
					return 0;
				}
				info->flags |= PKT_INFO_FIRST_FRAGMENT;
			}
		}
		nh = data[off];
		off += ext_len;
	}

upper_layer:
	/* Next header 59 (no next header) falls in here too: a valid packet without L4. */
	info->l4_proto = nh;
	info->l4_off = (uint16_t)off;
	return pkt_parse_l4(data, end, info, reason);

ip_truncated:
	*reason = PKT_DROP_IP_TRUNCATED;
	return -EBADMSG;
bad_payload_length:
	*reason = PKT_DROP_IPV6_BAD_PAYLOAD_LENGTH;
	return -EBADMSG;
too_big:
	*reason = PKT_DROP_PKT_TOO_BIG;
	return -EBADMSG;
ext_bad_order:
	*reason = PKT_DROP_IPV6_EXT_BAD_ORDER;
	return -EBADMSG;
ext_truncated:
	*reason = PKT_DROP_IPV6_EXT_TRUNCATED;
	return -EBADMSG;
ext_too_many:
	*reason = PKT_DROP_IPV6_EXT_TOO_MANY;
	return -EBADMSG;
}

int
pkt_parse_bytes(const uint8_t *data, size_t len, struct pkt_info *info,
    enum pkt_drop_reason *reason)
{
	memset(info, 0, sizeof(*info));
	if (len == 0) {
		*reason = PKT_DROP_IP_TRUNCATED;
		return -EBADMSG;
	}
	switch (data[0] >> 4) {
	case 4:
		return pkt_parse_ipv4(data, len, info, reason);
	case 6:
		return pkt_parse_ipv6(data, len, info, reason);
	default:
		*reason = PKT_DROP_IP_BAD_VERSION;
		return -EBADMSG;
	}
}

int
pkt_parse(struct pkt_buf *p, enum pkt_drop_reason *reason)
{
	int err;

	err = pkt_parse_bytes(pkt_buf_data(p), p->len, &p->info, reason);
	if (err == 0)
		p->len = p->info.ip_len;
	return err;
}

static void
pkt_info_addr(const struct pkt_info *info, const uint8_t *field, struct addr *out)
{
	if (info->family == ADDR_FAMILY_V6)
		addr_set_v6(out, field);
	else
		addr_set_v4(out, field);
}

void
pkt_info_src(const struct pkt_info *info, const uint8_t *data, struct addr *out)
{
	pkt_info_addr(info, data + pkt_info_src_off(info), out);
}

void
pkt_info_dst(const struct pkt_info *info, const uint8_t *data, struct addr *out)
{
	pkt_info_addr(info, data + pkt_info_dst_off(info), out);
}

void
pkt_set_ip_len(uint8_t *data, struct pkt_info *info, size_t ip_len)
{
	uint16_t len16 = (uint16_t)ip_len;

	if (info->family == ADDR_FAMILY_V4) {
		uint16_t old = buf_load_be16(data + 2);

		buf_store_be16(data + 2, len16);
		pkt_csum_apply_delta(data + 10, pkt_csum_delta_add16(0, old, len16), false);
	} else {
		buf_store_be16(data + 4, (uint16_t)(len16 - PKT_IPV6_HDR_LEN));
	}
	/* A fragment's UDP length describes the whole datagram, not this packet. */
	if (info->l4_proto == IPPROTO_UDP && (info->flags & PKT_INFO_HAS_L4) &&
	    !(info->flags & PKT_INFO_FRAGMENT))
		buf_store_be16(data + info->l4_off + 4, (uint16_t)(len16 - info->l4_off));
	info->ip_len = len16;
}
