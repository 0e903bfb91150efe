/* TCP resets built by the router; see pkt_reset.h. */
#include "pkt/pkt_reset.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "pkt/pkt_csum.h"
#include "pkt/pkt_parse.h"

#define PKT_TCP_FIN 0x01
#define PKT_TCP_SYN 0x02
#define PKT_TCP_RST 0x04
#define PKT_TCP_ACK 0x10

int
pkt_tcp_reset_build(const struct pkt_buf *in, struct pkt_buf *out)
{
	const struct pkt_info *info = &in->info;
	const uint8_t *d = in->buf + in->head, *tcp;
	uint8_t pkt[60], *rt;
	bool v6 = info->family == ADDR_FAMILY_V6;
	size_t ip_hl = v6 ? 40 : 20, len = ip_hl + 20;
	uint32_t seg_len, seq = 0, ack = 0;
	uint8_t flags;
	enum pkt_drop_reason reason;

	if (info->l4_proto != IPPROTO_TCP || !(info->flags & PKT_INFO_HAS_L4) ||
	    (info->flags & PKT_INFO_FRAGMENT) || (info->tcp_flags & PKT_TCP_RST) ||
	    info->payload_off > info->ip_len || info->ip_len > in->len)
		return -EINVAL;
	tcp = d + info->l4_off;
	seg_len = (uint32_t)(info->ip_len - info->payload_off) + !!(info->tcp_flags & PKT_TCP_SYN) +
	    !!(info->tcp_flags & PKT_TCP_FIN);
	if (info->tcp_flags & PKT_TCP_ACK) {
		seq = buf_load_be32(tcp + 8);
		flags = PKT_TCP_RST;
	} else {
		ack = buf_load_be32(tcp + 4) + seg_len;
		flags = PKT_TCP_RST | PKT_TCP_ACK;
	}
	memset(pkt, 0, sizeof(pkt));
	if (v6) {
		pkt[0] = 0x60;
		pkt[5] = 20; /* payload length */
		pkt[6] = IPPROTO_TCP;
		pkt[7] = 64;
		memcpy(pkt + 8, d + 24, 16); /* source: the segment's destination */
		memcpy(pkt + 24, d + 8, 16);
	} else {
		pkt[0] = 0x45;
		pkt[3] = (uint8_t)len;
		pkt[6] = 0x40; /* DF */
		pkt[8] = 64;
		pkt[9] = IPPROTO_TCP;
		memcpy(pkt + 12, d + 16, 4);
		memcpy(pkt + 16, d + 12, 4);
	}
	rt = pkt + ip_hl;
	memcpy(rt, tcp + 2, 2); /* source port: the segment's destination port */
	memcpy(rt + 2, tcp, 2);
	buf_store_be32(rt + 4, seq);
	buf_store_be32(rt + 8, ack);
	rt[12] = 5 << 4;
	rt[13] = flags;
	if (!v6) /* the parser checks it; the TCP checksum is filled after */
		buf_store_be16(pkt + 10, pkt_csum_ipv4_header(pkt, 20));
	if (pkt_buf_set(out, pkt, len) < 0 || pkt_parse(out, &reason) < 0)
		return -EINVAL;
	pkt_csum_fill(out->buf + out->head, &out->info);
	return 0;
}
