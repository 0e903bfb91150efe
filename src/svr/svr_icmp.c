/*
 * ICMP errors carried along their session (docs/protocol.md "ICMP errors"): an error a
 * LAN node sends about a packet of a session goes to the peer as a control-like UDP
 * packet on the session's waypoint tuple; the peer rebuilds it for its host, from the
 * address the host's packet went to and with the embedded header the host sent.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "lib/buf.h"
#include "pkt/pkt_csum.h"
#include "pkt/pkt_icmp_err.h"
#include "pkt/pkt_parse.h"
#include "svr/svr_transform_int.h"

#define SVR_TLV_HDR_LEN 4
#define SVR_UDP_HDR_LEN 8

static void
svr_icmp_addr(struct addr *a, uint8_t family, const uint8_t *bytes)
{
	if (family == ADDR_FAMILY_V4)
		addr_set_v4(a, bytes);
	else
		addr_set_v6(a, bytes);
}

static void
svr_icmp_drop(struct svr_router *rt, enum pkt_drop_reason reason)
{
	pkt_drop_count(rt->drops, reason);
}

/* Writes an IPv4 or IPv6 header of proto for a datagram of len bytes from src to dst. */
static void
svr_icmp_ip_header(uint8_t *d, uint8_t family, uint8_t proto, size_t len, const uint8_t *src,
    const uint8_t *dst)
{
	if (family == ADDR_FAMILY_V4) {
		memset(d, 0, 20);
		d[0] = 0x45;
		d[8] = 64;
		d[9] = proto;
		buf_store_be16(d + 2, (uint16_t)len);
		memcpy(d + 12, src, 4);
		memcpy(d + 16, dst, 4);
		buf_store_be16(d + 10, pkt_csum_ipv4_header(d, 20));
		return;
	}
	memset(d, 0, 40);
	d[0] = 0x60;
	d[6] = proto;
	d[7] = 64;
	buf_store_be16(d + 4, (uint16_t)(len - 40));
	memcpy(d + 8, src, 16);
	memcpy(d + 24, dst, 16);
}

bool
svr_icmp_err_is_carrier(const struct pkt_buf *p)
{
	const struct pkt_info *info = &p->info;
	const uint8_t *b = p->buf + p->head + info->payload_off;
	size_t len = info->ip_len - info->payload_off, hlen;

	if (info->l4_proto != IPPROTO_UDP || !svr_meta_has_cookie(b, len) ||
	    len < SVR_META_FIXED_LEN)
		return false;
	hlen = (size_t)(buf_load_be16(b + SVR_META_COOKIE_LEN) & 0x0fff);
	if (hlen < SVR_META_FIXED_LEN || hlen > len)
		return false;
	/* The header section is never sealed: the location TLV is visible as it came. */
	for (size_t off = SVR_META_FIXED_LEN; off + SVR_TLV_HDR_LEN <= hlen;) {
		uint16_t t = buf_load_be16(b + off), tlen = buf_load_be16(b + off + 2);

		if (t == SVR_TLV_ICMP_ERROR_LOC_V4 || t == SVR_TLV_ICMP_ERROR_LOC_V6)
			return true;
		off += SVR_TLV_HDR_LEN + tlen;
	}
	return false;
}

/* Appends the Tern ICMP error TLV (the message, len bytes) to an unsealed block. */
static int
svr_icmp_tlv_append(uint8_t *block, size_t *len, size_t cap, const uint8_t *msg, size_t msg_len)
{
	size_t plen = svr_meta_payload_len(block);

	if (*len + SVR_TLV_HDR_LEN + msg_len > cap || plen + SVR_TLV_HDR_LEN + msg_len > UINT16_MAX)
		return -ENOBUFS;
	buf_store_be16(block + *len, SVR_TLV_TERN_ICMP_ERROR);
	buf_store_be16(block + *len + 2, (uint16_t)msg_len);
	memcpy(block + *len + SVR_TLV_HDR_LEN, msg, msg_len);
	buf_store_be16(block + SVR_META_COOKIE_LEN + 2,
	    (uint16_t)(plen + SVR_TLV_HDR_LEN + msg_len));
	*len += SVR_TLV_HDR_LEN + msg_len;
	return 0;
}

/* The Tern ICMP error TLV of a decoded (opened) block: its value, or NULL. */
static const uint8_t *
svr_icmp_tlv_find(const uint8_t *block, size_t *msg_len)
{
	size_t hlen = svr_meta_header_len(block), end = hlen + svr_meta_payload_len(block);

	/* svr_meta_decode() accepted the block: every TLV fits its section. */
	for (size_t off = hlen; off + SVR_TLV_HDR_LEN <= end;) {
		uint16_t t = buf_load_be16(block + off), tlen = buf_load_be16(block + off + 2);

		if (t == SVR_TLV_TERN_ICMP_ERROR) {
			*msg_len = tlen;
			return block + off + SVR_TLV_HDR_LEN;
		}
		off += SVR_TLV_HDR_LEN + tlen;
	}
	return NULL;
}

enum svr_verdict
svr_lan_icmp_err(struct svr_router *rt, struct pkt_buf *p, uint16_t zone)
{
	uint8_t block[SVR_META_MAX_LEN + SVR_SEAL_OVERHEAD];
	struct pkt_info *info = &p->info;
	const uint8_t *d = p->buf + p->head;
	enum pkt_drop_reason reason;
	struct svr_peer_keys *k = NULL;
	struct session_key key;
	struct pkt_icmp_err e;
	struct svr_meta m;
	struct session *s;
	size_t block_len, msg_len, ip_hdr;
	uint32_t index;
	uint8_t *o;
	int rc;

	if (pkt_icmp_err_parse(d, info, &e) < 0) {
		reason = PKT_DROP_FW_ICMP_ERROR_MALFORMED;
		goto drop;
	}
	/* Without its ports (a later fragment) the embedded packet names no session. */
	if (!e.has_ports &&
	    (e.l4_proto == IPPROTO_TCP || e.l4_proto == IPPROTO_UDP || e.l4_proto == IPPROTO_ICMP ||
	        e.l4_proto == IPPROTO_ICMPV6)) {
		reason = PKT_DROP_FW_ICMP_ERROR_NO_SESSION;
		goto drop;
	}
	/* The embedded packet went toward the LAN: the session's LAN key is its reverse. */
	session_key_set(&key, info->family, e.l4_proto, zone, e.dst.bytes, e.src.bytes, e.dport,
	    e.sport);
	index =
	    session_table_lookup(rt->sessions, &key, session_key_hash(rt->sessions, &key), NULL);
	s = index == SESSION_INDEX_NONE ? NULL : session_table_get(rt->sessions, index);
	if (s == NULL || (s->flags & SVR_SESSION_ALIAS) || s->path_id >= rt->path_count) {
		reason = PKT_DROP_FW_ICMP_ERROR_NO_SESSION;
		goto drop;
	}
	/* The far router recomputes it: never launder a wrong one. */
	if (!pkt_csum_verify(d, info)) {
		reason = PKT_DROP_L4_BAD_CHECKSUM;
		goto drop;
	}
	memset(&m, 0, sizeof(m));
	m.present = SVR_META_F_UUID | SVR_META_F_ICMP_ERROR_LOC;
	memcpy(m.uuid, s->uuid, sizeof(m.uuid));
	svr_icmp_addr(&m.icmp_error_loc, info->family, d + pkt_info_src_off(info));
	if (rt->security) {
		k = svr_session_keys(rt, s);
		if (k == NULL || !svr_peer_keys_can_send(k)) {
			reason = PKT_DROP_SEC_NO_KEY;
			goto drop;
		}
		m.present |= SVR_META_F_SECURITY_ID;
		m.security_id = k->send.peer_index;
	}
	msg_len = (size_t)info->ip_len - info->l4_off;
	if (msg_len > SVR_ICMP_ERR_CARRY_MAX)
		msg_len = SVR_ICMP_ERR_CARRY_MAX; /* the headers the host needs come first */
	reason = PKT_DROP_PKT_TOO_BIG;
	if (svr_meta_encode(&m, block, SVR_META_MAX_LEN, &block_len) < 0 ||
	    svr_icmp_tlv_append(block, &block_len, SVR_META_MAX_LEN, d + info->l4_off, msg_len) < 0)
		goto drop;
	if (k != NULL) {
		rc = svr_seal_block(k, block, &block_len, sizeof(block));
		if (rc < 0) {
			reason = rc == -ERANGE ? PKT_DROP_SEC_KEY_EXHAUSTED : PKT_DROP_PKT_TOO_BIG;
			goto drop;
		}
		rt->stats.meta_sealed++;
	}
	/* The error becomes a UDP packet on the session's waypoint tuple, toward the peer. */
	ip_hdr = s->wan_key.family == ADDR_FAMILY_V4 ? 20 : 40;
	pkt_buf_reset(p);
	o = pkt_buf_put(p, ip_hdr + SVR_UDP_HDR_LEN + block_len);
	if (o == NULL)
		goto drop;
	svr_icmp_ip_header(o, s->wan_key.family, IPPROTO_UDP, p->len, s->wan_key.dst,
	    s->wan_key.src);
	buf_store_be16(o + ip_hdr, s->wan_key.dport);
	buf_store_be16(o + ip_hdr + 2, s->wan_key.sport);
	buf_store_be16(o + ip_hdr + 4, (uint16_t)(SVR_UDP_HDR_LEN + block_len));
	buf_store_be16(o + ip_hdr + 6, 0);
	memcpy(o + ip_hdr + SVR_UDP_HDR_LEN, block, block_len);
	if (pkt_parse(p, &reason) < 0)
		goto drop;
	pkt_csum_fill(o, &p->info);
	p->user = index;
	p->port = rt->paths[s->path_id].wan_port;
	rt->stats.icmp_errors_tx++;
	return SVR_VERDICT_TO_WAN;
drop:
	svr_icmp_drop(rt, reason);
	return SVR_VERDICT_DROP;
}

enum svr_verdict
svr_wan_icmp_err(struct svr_router *rt, struct pkt_buf *p, struct session *s,
    const struct svr_meta *m)
{
	uint8_t msg[SVR_META_MAX_LEN];
	const struct session_key *lk = &s->lan_key;
	const uint8_t *block = p->buf + p->head + p->info.payload_off, *v;
	enum pkt_drop_reason reason = PKT_DROP_FW_ICMP_ERROR_MALFORMED;
	size_t msg_len = 0, ip_hdr = lk->family == ADDR_FAMILY_V4 ? 20 : 40;
	struct pkt_icmp_err e;
	uint8_t *o;

	/* The UUID says which session the sender meant (the TCP key may find another). */
	if (!(m->present & SVR_META_F_UUID) || memcmp(m->uuid, s->uuid, sizeof(s->uuid)) != 0) {
		reason = PKT_DROP_SVR_CONTEXT_MISMATCH;
		goto drop;
	}
	/* The documented bounds (docs/protocol.md section 19), not only what fits msg. */
	v = svr_icmp_tlv_find(block, &msg_len);
	if (v == NULL || msg_len < SVR_ICMP_ERR_CARRY_MIN || msg_len > SVR_ICMP_ERR_CARRY_MAX)
		goto drop;
	_Static_assert(SVR_ICMP_ERR_CARRY_MAX <= sizeof(msg), "msg holds the longest message");
	/* An ICMP message of one family is meaningless to a host of the other. */
	if (m->icmp_error_loc.family != lk->family) {
		reason = PKT_DROP_PROTO_UNSUPPORTED;
		goto drop;
	}
	memcpy(msg, v, msg_len);
	pkt_buf_reset(p);
	o = pkt_buf_put(p, ip_hdr + msg_len);
	if (o == NULL)
		goto drop;
	/* From the address the host's packet went to (a service address stays one). */
	svr_icmp_ip_header(o, lk->family,
	    lk->family == ADDR_FAMILY_V4 ? IPPROTO_ICMP : IPPROTO_ICMPV6, p->len, lk->dst, lk->src);
	memcpy(o + ip_hdr, msg, msg_len);
	if (pkt_parse(p, &reason) < 0)
		goto drop;
	reason = PKT_DROP_FW_ICMP_ERROR_MALFORMED;
	if (pkt_icmp_err_parse(o, &p->info, &e) < 0 || e.l4_proto != lk->proto ||
	    (!e.has_ports && (lk->sport != 0 || lk->dport != 0)))
		goto drop;
	/* Back to what the host sent: the session's tuple as its LAN key has it. */
	{
		struct addr src, dst;

		svr_icmp_addr(&src, lk->family, lk->src);
		svr_icmp_addr(&dst, lk->family, lk->dst);
		if (pkt_icmp_err_rewrite(o, &p->info, &e, &src, lk->sport, &dst, lk->dport) < 0)
			goto drop;
	}
	p->user = session_table_index(rt->sessions, s);
	p->port = s->tenant_id < rt->tenant_count && rt->lan_ports != NULL ?
	    rt->lan_ports[s->tenant_id] :
	    0;
	rt->stats.icmp_errors_rx++;
	return SVR_VERDICT_TO_LAN;
drop:
	svr_icmp_drop(rt, reason);
	return SVR_VERDICT_DROP;
}
