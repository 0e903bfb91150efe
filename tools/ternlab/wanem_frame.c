/* Looking into frames for ternlab-wanem's middlebox impairments; see wanem_frame.h. */
#include "wanem_frame.h"

#include <netinet/in.h>

#define WANEM_ETH_HLEN    14
#define WANEM_ETH_P_IP    0x0800
#define WANEM_ETH_P_IPV6  0x86dd
#define WANEM_ETH_P_8021Q 0x8100
#define WANEM_TCP_SYN     0x02
/* Extension headers looked through before giving up (a chain longer is not TCP to us). */
#define WANEM_IPV6_EXT_MAX 8

static uint16_t
wanem_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* l4 points at a TCP header inside an IP payload of l4_len bytes. */
static bool
wanem_tcp_is_syn_data(const uint8_t *l4, size_t l4_len)
{
	size_t doff;

	if (l4_len < 20)
		return false;
	doff = (size_t)(l4[12] >> 4) * 4;
	return doff >= 20 && doff < l4_len && (l4[13] & WANEM_TCP_SYN);
}

static bool
wanem_ipv4_is_syn_data(const uint8_t *ip, size_t len)
{
	size_t ihl, total;

	if (len < 20 || (ip[0] >> 4) != 4)
		return false;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	total = wanem_be16(ip + 2);
	/* A later fragment holds no TCP header of its own. */
	if (ihl < 20 || total < ihl || total > len || (wanem_be16(ip + 6) & 0x1fff) != 0 ||
	    ip[9] != IPPROTO_TCP)
		return false;
	return wanem_tcp_is_syn_data(ip + ihl, total - ihl);
}

static bool
wanem_ipv6_is_syn_data(const uint8_t *ip, size_t len)
{
	size_t off = 40, end;
	uint8_t next;

	if (len < 40 || (ip[0] >> 4) != 6)
		return false;
	end = 40 + (size_t)wanem_be16(ip + 4);
	if (end > len)
		return false;
	next = ip[6];
	for (int i = 0; i < WANEM_IPV6_EXT_MAX; i++) {
		if (next == IPPROTO_TCP)
			return wanem_tcp_is_syn_data(ip + off, end - off);
		if (next == IPPROTO_FRAGMENT) {
			if (end - off < 8 || (wanem_be16(ip + off + 2) & 0xfff8) != 0)
				return false;
			next = ip[off];
			off += 8;
			continue;
		}
		if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING && next != IPPROTO_DSTOPTS)
			return false;
		if (end - off < 8 || end - off < 8 + (size_t)ip[off + 1] * 8)
			return false;
		next = ip[off];
		off += 8 + (size_t)ip[off + 1] * 8;
	}
	return false;
}

bool
wanem_frame_is_tcp_syn_data(const uint8_t *frame, size_t len)
{
	size_t off = WANEM_ETH_HLEN;
	uint16_t type;

	if (len < WANEM_ETH_HLEN)
		return false;
	type = wanem_be16(frame + 12);
	if (type == WANEM_ETH_P_8021Q) {
		if (len < WANEM_ETH_HLEN + 4)
			return false;
		type = wanem_be16(frame + 16);
		off += 4;
	}
	if (type == WANEM_ETH_P_IP)
		return wanem_ipv4_is_syn_data(frame + off, len - off);
	if (type == WANEM_ETH_P_IPV6)
		return wanem_ipv6_is_syn_data(frame + off, len - off);
	return false;
}
