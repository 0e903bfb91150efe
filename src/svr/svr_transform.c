/* The SVR per-packet transforms; see svr_transform.h for the contract. */
#include "svr/svr_transform.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/random.h>

#include "lib/buf.h"
#include "pkt/pkt_csum.h"
#include "pkt/pkt_parse.h"
#include "svr/svr_seal.h"
#include "svr/svr_transform_int.h"

#define SVR_UDP_HDR_LEN 8

static inline void
svr_drop(struct svr_router *rt, enum pkt_drop_reason reason)
{
	pkt_drop_count(rt->drops, reason);
}

static inline size_t
svr_addr_len(uint8_t family)
{
	return family == ADDR_FAMILY_V4 ? 4 : 16;
}

static inline bool
svr_proto_is_native(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

/*
 * Sessions whose controls (one-way disable, protection acks) may ride UDP on the waypoint
 * tuple: UDP and port-less protocols. TCP, also when carried as UDP, always has reverse
 * segments to carry what is owed, so it behaves the same on either carriage.
 */
static inline bool
svr_session_is_udp_borne(const struct session *s)
{
	return s->wan_key.proto == IPPROTO_UDP && s->lan_key.proto != IPPROTO_TCP;
}

/*
 * Length of the TCP header the UDP transform carries at d[off .. end), or -1 with
 * *reason when it is truncated or its data offset impossible.
 */
static int
svr_carried_tcp_len(const uint8_t *d, size_t off, size_t end, enum pkt_drop_reason *reason)
{
	size_t hl;

	if (end < off || end - off < 20) {
		*reason = PKT_DROP_TCP_TRUNCATED;
		return -1;
	}
	hl = (size_t)(d[off + 12] >> 4) * 4;
	if (hl < 20 || hl > end - off) {
		*reason = PKT_DROP_TCP_BAD_DATA_OFFSET;
		return -1;
	}
	return (int)hl;
}

int
svr_router_seed(struct svr_router *rt)
{
	ssize_t n = getrandom(rt->uuid_state, sizeof(rt->uuid_state), 0);

	if (n != (ssize_t)sizeof(rt->uuid_state))
		return n < 0 ? -errno : -EIO;
	if ((rt->uuid_state[0] | rt->uuid_state[1]) == 0)
		rt->uuid_state[0] = 1;
	return 0;
}

static uint64_t
svr_uuid_next(struct svr_router *rt)
{
	uint64_t x = rt->uuid_state[0];
	const uint64_t y = rt->uuid_state[1];

	rt->uuid_state[0] = y;
	x ^= x << 23;
	rt->uuid_state[1] = x ^ y ^ (x >> 17) ^ (y >> 26);
	return rt->uuid_state[1] + y;
}

/*
 * Session UUIDs need to be unique, not secret (the security profile authenticates them
 * as associated data), so a seeded xorshift128+ replaces a getrandom() call per session.
 */
static void
svr_uuid_generate(struct svr_router *rt, uint8_t uuid[16])
{
	uint64_t a = svr_uuid_next(rt), b = svr_uuid_next(rt);

	memcpy(uuid, &a, 8);
	memcpy(uuid + 8, &b, 8);
	uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40); /* version 4 */
	uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80); /* RFC 4122 variant */
}

/* Offset of the byte that names the L4 protocol: IPv4 protocol or the last next-header. */
static size_t
svr_l4_proto_off(const uint8_t *d, const struct pkt_info *info)
{
	size_t off = 40, at = 6;
	uint8_t nh = d[6];

	if (info->family == ADDR_FAMILY_V4)
		return 9;
	/* The parser validated the chain; walk it again only to find the last link. */
	while (off < info->l4_off) {
		at = off;
		if (nh == IPPROTO_FRAGMENT)
			off += 8;
		else if (nh == IPPROTO_AH)
			off += ((size_t)d[off + 1] + 2) * 4;
		else
			off += ((size_t)d[off + 1] + 1) * 8;
		nh = d[at];
	}
	return at;
}

static void
svr_key_from_packet(const struct pkt_buf *p, uint16_t zone, uint8_t proto, uint16_t sport,
    uint16_t dport, struct session_key *key)
{
	const uint8_t *d = p->buf + p->head;
	const struct pkt_info *info = &p->info;

	session_key_set(key, info->family, proto, zone, d + pkt_info_src_off(info),
	    d + pkt_info_dst_off(info), sport, dport);
}

int
svr_lan_key(const struct pkt_buf *p, uint16_t zone, struct session_key *key)
{
	const struct pkt_info *info = &p->info;
	uint16_t sport = 0, dport = 0;

	if (info->flags & PKT_INFO_FRAGMENT)
		return -EPROTONOSUPPORT;
	if (info->flags & (PKT_INFO_HAS_PORTS | PKT_INFO_HAS_L4)) {
		sport = info->sport;
		dport = info->dport;
	}
	svr_key_from_packet(p, zone, info->l4_proto, sport, dport, key);
	return 0;
}

int
svr_wan_key(const struct pkt_buf *p, uint16_t wan_zone, struct session_key *key)
{
	const struct pkt_info *info = &p->info;

	if ((info->flags & PKT_INFO_FRAGMENT) || !(info->flags & PKT_INFO_HAS_PORTS))
		return -EPROTONOSUPPORT;
	svr_key_from_packet(p, wan_zone, info->l4_proto, info->sport, info->dport, key);
	return 0;
}

void
svr_deltas_compute(struct session *s, enum session_dir dir, const struct session_key *in,
    const struct session_key *out)
{
	/* Mixed families: IPv4 keys are zero past byte 4, so 16-byte deltas still hold. */
	size_t alen = in->family == out->family ? svr_addr_len(in->family) : 16;
	uint32_t l3, l4;

	l3 = pkt_csum_delta_add(0, in->src, out->dst, alen);
	l3 = pkt_csum_delta_add(l3, in->dst, out->src, alen);
	l4 = pkt_csum_delta_add16(l3, in->sport, out->dport);
	l4 = pkt_csum_delta_add16(l4, in->dport, out->sport);
	s->csum_delta_l3[dir] = pkt_csum_fold(l3);
	s->csum_delta_l4[dir] = pkt_csum_fold(l4);
}

/* Writes the reverse of key as the packet's addresses (and ports when it has them). */
static void
svr_tuple_write_reverse(uint8_t *d, struct pkt_info *info, const struct session_key *key,
    bool ports)
{
	size_t alen = svr_addr_len(info->family);

	memcpy(d + pkt_info_src_off(info), key->dst, alen);
	memcpy(d + pkt_info_dst_off(info), key->src, alen);
	if (ports) {
		buf_store_be16(d + info->l4_off, key->dport);
		buf_store_be16(d + info->l4_off + 2, key->sport);
		info->sport = key->dport;
		info->dport = key->sport;
	}
}

/* The fast path: new tuple and precomputed deltas, nothing else. */
static void
svr_rewrite_fast(struct pkt_buf *p, const struct session *s, enum session_dir dir,
    const struct session_key *out)
{
	uint8_t *d = p->buf + p->head;
	struct pkt_info *info = &p->info;
	int csum_off = pkt_csum_l4_field_off(info->l4_proto);

	svr_tuple_write_reverse(d, info, out, true);
	if (info->family == ADDR_FAMILY_V4)
		pkt_csum_apply_delta(d + 10, s->csum_delta_l3[dir], false);
	if (csum_off >= 0)
		pkt_csum_apply_delta(d + info->l4_off + (size_t)csum_off, s->csum_delta_l4[dir],
		    info->l4_proto == IPPROTO_UDP);
}

/* The I/O port toward the peer on the session's path, and toward its LAN zone. */
static inline uint32_t
svr_wan_port_of(const struct svr_router *rt, const struct session *s)
{
	return s->path_id < rt->path_count ? rt->paths[s->path_id].wan_port : 0;
}

static inline uint32_t
svr_lan_port_of(const struct svr_router *rt, const struct session *s)
{
	return s->tenant_id < rt->tenant_count && rt->lan_ports != NULL ?
	    rt->lan_ports[s->tenant_id] :
	    0;
}

struct svr_peer_keys *
svr_session_keys(const struct svr_router *rt, const struct session *s)
{
	uint16_t peer;

	if (s->path_id >= rt->path_count || rt->peer_keys == NULL)
		return NULL;
	peer = rt->paths[s->path_id].peer_id;
	return peer < rt->peer_count ? &rt->peer_keys[peer] : NULL;
}

/* The payload associated data of a direction at this router (forward = initiator's). */
static inline void
svr_payload_ad(const struct session *s, enum session_dir dir, uint8_t ad[CRYPTO_AEAD_AD_LEN])
{
	bool forward = (s->role == SESSION_ROLE_INGRESS) == (dir == SESSION_DIR_LAN_TO_WAN);

	crypto_aead_ad_encode(ad, s->uuid,
	    forward ? CRYPTO_AEAD_DIR_FORWARD : CRYPTO_AEAD_DIR_REVERSE);
}

static enum pkt_drop_reason
svr_open_reason(int rc)
{
	return rc == -EALREADY || rc == -ESTALE ? PKT_DROP_SEC_REPLAY : PKT_DROP_SEC_AUTH_FAILED;
}

/*
 * Lowers the MSS option of a TCP SYN (or SYN-ACK) from the LAN to what fits once the
 * trailer and metadata are added; the checksum is updated incrementally (RFC 1624).
 */
static void
svr_tcp_mss_clamp(struct svr_router *rt, struct pkt_buf *p)
{
	const struct pkt_info *info = &p->info;
	uint16_t max = rt->tcp_mss_max[info->family == ADDR_FAMILY_V6];
	uint8_t *d = p->buf + p->head;
	size_t off = (size_t)info->l4_off + 20, end = info->payload_off;

	if (max == 0 || info->l4_proto != IPPROTO_TCP || !(info->tcp_flags & 0x02) ||
	    !(info->flags & PKT_INFO_HAS_L4))
		return;
	while (off < end) {
		uint8_t kind = d[off];
		size_t olen;

		if (kind == 0)
			return;
		if (kind == 1) {
			off++;
			continue;
		}
		if (off + 1 >= end || (olen = d[off + 1]) < 2 || off + olen > end)
			return;
		if (kind == 2 && olen == 4) {
			/* The checksum sums 16-bit words from the L4 start: mind odd offsets. */
			size_t v = off + 2, at = v - ((v - info->l4_off) & 1);
			size_t n = at == v ? 2 : 4;
			uint8_t old[4];

			if (buf_load_be16(d + v) <= max)
				return;
			memcpy(old, d + at, n);
			buf_store_be16(d + v, max);
			pkt_csum_apply_delta(d + info->l4_off + 16,
			    pkt_csum_delta_add(0, old, d + at, n), false);
			rt->stats.mss_clamped++;
			return;
		}
		off += olen;
	}
}

static const char *
svr_name(const char *const *names, uint16_t count, uint16_t id)
{
	return names != NULL && id < count ? names[id] : NULL;
}

static void
svr_str_set(struct svr_str *str, const char *name, uint32_t *present, uint32_t field)
{
	if (name == NULL)
		return;
	str->ptr = name;
	str->len = (uint16_t)strnlen(name, UINT16_MAX);
	*present |= field;
}

static void
svr_ctx_from_key(struct svr_ctx *ctx, const struct session_key *key)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->src.family = key->family;
	ctx->dst.family = key->family;
	memcpy(ctx->src.bytes, key->src, 16);
	memcpy(ctx->dst.bytes, key->dst, 16);
	ctx->sport = key->sport;
	ctx->dport = key->dport;
	ctx->proto = key->proto;
}

/*
 * Forward metadata of an ingress session: what the egress needs to restore and decide.
 * w is the leg it goes on (s, or s's alias): the path named is the leg's.
 */
static void
svr_meta_build_forward(const struct svr_router *rt, const struct session *s,
    const struct session *w, struct svr_meta *m)
{
	const struct svr_path *path = w->path_id < rt->path_count ? &rt->paths[w->path_id] : NULL;

	memset(m, 0, sizeof(*m));
	svr_ctx_from_key(&m->fwd_ctx, &s->lan_key);
	memcpy(m->uuid, s->uuid, sizeof(m->uuid));
	m->present = SVR_META_F_FWD_CTX | SVR_META_F_UUID;
	svr_str_set(&m->tenant, svr_name(rt->tenant_names, rt->tenant_count, s->tenant_id),
	    &m->present, SVR_META_F_TENANT);
	svr_str_set(&m->service, svr_name(rt->service_names, rt->service_count, s->service_id),
	    &m->present, SVR_META_F_SERVICE);
	svr_str_set(&m->source_router, rt->name, &m->present, SVR_META_F_SOURCE_ROUTER);
	if (path != NULL)
		svr_str_set(&m->peer_path_id, path->name, &m->present, SVR_META_F_PEER_PATH_ID);
}

/* Reverse metadata of an egress session: the tuple server-to-client, and "stop". */
static void
svr_meta_build_reverse(const struct session *s, struct svr_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->present = SVR_META_F_DISABLE_FWD_META;
	/* A translated tuple means nothing to the ingress: say only "stop". */
	if (!(s->flags & SVR_SESSION_NAT)) {
		svr_ctx_from_key(&m->rev_ctx, &s->lan_key);
		m->present |= SVR_META_F_REV_CTX;
	}
}

/* True when ctx is the tuple of key read in the other direction. */
static bool
svr_ctx_is_reverse_of(const struct svr_ctx *ctx, const struct session_key *key)
{
	size_t alen = svr_addr_len(key->family);

	return ctx->src.family == key->family && ctx->proto == key->proto &&
	    memcmp(ctx->src.bytes, key->dst, alen) == 0 &&
	    memcmp(ctx->dst.bytes, key->src, alen) == 0 && ctx->sport == key->dport &&
	    ctx->dport == key->sport;
}

/*
 * Replaces the IP header (with any IPv6 extension headers) by a fresh one of the
 * family of `key`, addressed with the reverse of key, for a session whose hosts and
 * waypoints are of different families. Kept: the L4 protocol, TOS / traffic class and
 * TTL / hop limit; the L4 header and payload are not touched. Lost: the IPv4 id (an
 * IPv4 header made here has id 0 and DF, as RFC 6864 allows for atomic datagrams), the
 * flow label and extension headers. The packet is parsed again.
 */
static int
svr_header_xlate(struct pkt_buf *p, const struct session_key *key, enum pkt_drop_reason *reason)
{
	const struct pkt_info *info = &p->info;
	size_t old_len = info->l4_off, new_len = key->family == ADDR_FAMILY_V4 ? 20 : 40;
	size_t l4_len = (size_t)info->ip_len - info->l4_off;
	uint8_t *d = p->buf + p->head;
	uint8_t tos, ttl, proto = info->l4_proto;

	if (info->family == ADDR_FAMILY_V4) {
		tos = d[1];
		ttl = d[8];
	} else {
		tos = (uint8_t)((d[0] & 0x0f) << 4 | d[1] >> 4);
		ttl = d[7];
	}
	if (new_len + l4_len > UINT16_MAX) {
		*reason = PKT_DROP_PKT_TOO_BIG;
		return -EMSGSIZE;
	}
	if (new_len > old_len ? pkt_buf_insert(p, 0, new_len - old_len) < 0 :
	                        pkt_buf_remove(p, 0, old_len - new_len) < 0) {
		*reason = PKT_DROP_PKT_NO_HEADROOM;
		return -ENOBUFS;
	}
	d = p->buf + p->head;
	memset(d, 0, new_len);
	if (key->family == ADDR_FAMILY_V4) {
		d[0] = 0x45;
		d[1] = tos;
		buf_store_be16(d + 2, (uint16_t)(new_len + l4_len));
		d[6] = 0x40; /* DF */
		d[8] = ttl;
		d[9] = proto;
		memcpy(d + 12, key->dst, 4);
		memcpy(d + 16, key->src, 4);
		buf_store_be16(d + 10, pkt_csum_ipv4_header(d, 20));
	} else {
		d[0] = (uint8_t)(0x60 | tos >> 4);
		d[1] = (uint8_t)(tos << 4);
		buf_store_be16(d + 4, (uint16_t)l4_len);
		d[6] = proto;
		d[7] = ttl;
		memcpy(d + 8, key->dst, 16);
		memcpy(d + 24, key->src, 16);
	}
	return pkt_parse(p, reason) < 0 ? -EBADMSG : 0;
}

/*
 * Security on the way out: decides the direction's protection on its first payload,
 * encrypts the payload in place and appends its trailer. *signal and *ack_ok say what
 * the metadata block must carry. 0 or a drop reason.
 */
static int
svr_lan_protect(struct svr_router *rt, struct pkt_buf *p, struct session *s,
    struct svr_peer_keys *k, size_t prot_off, bool *signal, enum pkt_drop_reason *reason)
{
	struct pkt_info *info = &p->info;
	uint8_t *d = p->buf + p->head;
	size_t prot_len = (size_t)info->ip_len - prot_off;
	uint8_t ad[CRYPTO_AEAD_AD_LEN], *trailer;
	int rc;

	*signal = false;
	if (prot_len == 0)
		return 0;
	if (!(s->flags & SVR_PROT_TX_DECIDED)) {
		/* A carried TCP session decides as on a plain path: same ports, same payload. */
		bool portless = (s->flags & (SVR_SESSION_AS_UDP | SVR_SESSION_UDP_TRANSFORM)) ==
		    SVR_SESSION_AS_UDP;
		bool encrypt;
		uint8_t mode = (uint8_t)((s->flags >> SVR_PROT_MODE_SHIFT) & 3);
		uint8_t why = svr_protect_decide(mode, s->lan_key.proto, portless ? 0 : info->sport,
		    portless ? 0 : info->dport, d + prot_off, prot_len, &encrypt);

		s->flags |= SVR_PROT_TX_DECIDED | (encrypt ? SVR_PROT_TX_ENCRYPTED : 0) |
		    ((uint32_t)why << SVR_PROT_TX_REASON_SHIFT);
		if (why < SVR_PROT_REASON_COUNT)
			rt->stats.decisions[why]++;
	}
	*signal = !(s->flags & SVR_PROT_TX_ACKED);
	if (!(s->flags & SVR_PROT_TX_ENCRYPTED)) {
		rt->stats.payload_clear++;
		return 0;
	}
	if ((size_t)info->ip_len + CRYPTO_AEAD_TRAILER_LEN > UINT16_MAX ||
	    (trailer = pkt_buf_put(p, CRYPTO_AEAD_TRAILER_LEN)) == NULL ||
	    p->len > PKT_BUF_DATA_MAX) {
		*reason = PKT_DROP_PKT_TOO_BIG;
		return -EMSGSIZE;
	}
	d = p->buf + p->head;
	svr_payload_ad(s, SESSION_DIR_LAN_TO_WAN, ad);
	rc = svr_peer_keys_seal(k, ad, sizeof(ad), d + prot_off, prot_len, trailer);
	if (rc < 0) {
		*reason = rc == -ENOKEY ? PKT_DROP_SEC_NO_KEY : PKT_DROP_SEC_KEY_EXHAUSTED;
		return rc;
	}
	pkt_set_ip_len(d, info, (size_t)info->ip_len + CRYPTO_AEAD_TRAILER_LEN);
	rt->stats.payload_sealed++;
	return 0;
}

/*
 * LAN -> WAN with something extra on the wire: a metadata block, an empty block for a
 * payload that begins with the cookie, or the UDP header of a carried protocol (a
 * port-less one, or TCP on a UDP-transform path); with security, also the encrypted
 * payload and the protection signal.
 */
/*
 * Would p, with extra bytes of metadata inserted, exceed its session's path MTU on the
 * wire? The IP header changes size when host and waypoint families differ.
 */
static bool
svr_wire_too_big(const struct svr_router *rt, const struct session *s, const struct pkt_info *info,
    size_t extra)
{
	const struct svr_path *path = s->path_id < rt->path_count ? &rt->paths[s->path_id] : NULL;
	size_t wire = (size_t)info->ip_len + extra;

	if (path == NULL || path->mtu == 0)
		return false;
	if (s->flags & SVR_SESSION_XLATE)
		wire = wire - info->l4_off + (s->wan_key.family == ADDR_FAMILY_V6 ? 40 : 20);
	return wire > path->mtu;
}

/*
 * One packet of s toward the peer on leg w: s itself, or for the second copy of a
 * duplicated session's packet, its alias (whose WAN key, path, carriage and forward
 * metadata state are the leg's; everything else is the session's). dup (NULL when the
 * session is not duplicated) goes in the block; copy says the packet is the second copy,
 * which the session's counters do not count again.
 */
enum svr_verdict
svr_lan_to_wan_slow(struct svr_router *rt, struct pkt_buf *p, struct session *s, struct session *w,
    const struct svr_dup_tag *dup, bool copy, uint64_t now_ns)
{
	uint8_t block[SVR_META_MAX_LEN + SVR_SEAL_OVERHEAD];
	struct svr_meta m;
	size_t block_len = 0, ins_off, ins_len;
	bool as_udp = w->flags & SVR_SESSION_AS_UDP;
	bool carried_tcp = w->flags & SVR_SESSION_UDP_TRANSFORM;
	/* Forward metadata is per leg (each leg binds on its own); reverse is the session's. */
	uint32_t meta_flags = (w->flags & SVR_SESSION_FWD_META) | (s->flags & SVR_SESSION_REV_META);
	bool meta = meta_flags != 0;
	bool xlate = w->flags & SVR_SESSION_XLATE;
	bool signal = false, ack = false;
	struct svr_peer_keys *k = NULL;
	enum pkt_drop_reason reason;
	struct pkt_info *info = &p->info;
	uint8_t *d;
	/* What follows the block on the wire: a carried L4 header, or the payload. */
	size_t wire_payload_off = as_udp ? info->l4_off : info->payload_off;
	/* What encryption covers: a port-less segment whole, TCP and UDP their payload. */
	size_t prot_off = as_udp && !carried_tcp ? info->l4_off : info->payload_off;
	/*
	 * The host's L4 checksum is verified wherever the far router will recompute it: a
	 * carried TCP header keeps its checksum on the wire, but the far router recomputes
	 * it after restoring its tuple (which address translation may change).
	 */
	bool verify_l4 = !as_udp || carried_tcp;
	uint32_t len_before = p->len;
	uint8_t tcp_flags = info->tcp_flags;
	/* TLV 12: every SYN (or SYN-ACK) the UDP transform carries has a block that says so. */
	bool syn = carried_tcp && (tcp_flags & 0x02);
	bool split = false;

	d = p->buf + p->head;
	if (rt->security) {
		k = svr_session_keys(rt, s);
		if (k == NULL || !svr_peer_keys_can_send(k)) {
			reason = PKT_DROP_SEC_NO_KEY;
			goto drop;
		}
		/* Everything is recomputed below: never launder a wrong checksum. */
		if (verify_l4 && !pkt_csum_verify(d, info)) {
			reason = PKT_DROP_L4_BAD_CHECKSUM;
			goto drop;
		}
		if (p->len > info->ip_len)
			(void)pkt_buf_trim(p, info->ip_len); /* link-layer padding */
		if (svr_lan_protect(rt, p, s, k, prot_off, &signal, &reason) < 0)
			goto drop;
		d = p->buf + p->head;
		ack = s->flags & SVR_PROT_RX_ACK_DUE;
	}
build:
	if (meta) {
		if (meta_flags & SVR_SESSION_FWD_META) {
			svr_meta_build_forward(rt, s, w, &m);
		} else {
			svr_meta_build_reverse(s, &m);
			/*
			 * Behind a NAT the peer may see this answer on a tuple it does not
			 * know yet: the UUID lets it re-bind from the answer itself.
			 */
			if (w->path_id < rt->path_count && rt->paths[w->path_id].behind_nat) {
				memcpy(m.uuid, s->uuid, sizeof(m.uuid));
				m.present |= SVR_META_F_UUID;
			}
		}
	} else if (signal || ack || syn || dup != NULL ||
	    svr_meta_has_cookie(d + wire_payload_off, info->ip_len - wire_payload_off)) {
		memset(&m, 0, sizeof(m)); /* the empty block marks a false positive */
		if (!signal && !ack && !syn && dup == NULL)
			rt->stats.false_positive_tx++;
	}
	meta = meta || signal || ack || syn || dup != NULL ||
	    svr_meta_has_cookie(d + wire_payload_off, info->ip_len - wire_payload_off);
	if (meta) {
		if (syn)
			m.present |= SVR_META_F_TCP_SYN;
		if (dup != NULL) {
			m.present |= SVR_META_F_DUP_SEQ;
			m.dup_leg = dup->leg;
			m.dup_seq = dup->seq;
		}
		/*
		 * TLV 11 repeats what the decision's mode byte says; a packet that also
		 * carries the ack leaves it out to stay within 100 bytes of overhead.
		 */
		if (signal && !ack && (s->flags & SVR_PROT_TX_ENCRYPTED))
			m.present |= SVR_META_F_PAYLOAD_ENCRYPTED;
		if (k != NULL) {
			m.present |= SVR_META_F_SECURITY_ID;
			m.security_id = k->send.peer_index;
		}
		if (svr_meta_encode(&m, block, SVR_META_MAX_LEN, &block_len) < 0 ||
		    svr_seal_protection_append(block, &block_len, SVR_META_MAX_LEN, signal,
		        (s->flags & SVR_PROT_TX_ENCRYPTED) ? 1 : 0,
		        (uint8_t)((s->flags >> SVR_PROT_TX_REASON_SHIFT) & SVR_PROT_REASON_MASK),
		        ack) < 0) {
			reason = PKT_DROP_PKT_TOO_BIG;
			goto drop;
		}
		if (!split && (meta_flags & SVR_SESSION_FWD_META) &&
		    svr_wire_too_big(rt, w, info,
		        block_len + (k != NULL ? SVR_SEAL_OVERHEAD : 0) +
		            (as_udp ? SVR_UDP_HDR_LEN : 0))) {
			/* The keep-alive carries the forward metadata; this packet goes without. */
			split = true;
			meta = false;
			meta_flags = 0;
			block_len = 0;
			svr_control_send_leg(rt, s, w, SVR_CONTROL_KEEPALIVE, true);
			rt->stats.meta_split++;
			goto build;
		}
		if (k != NULL) {
			int rc = svr_seal_block(k, block, &block_len, sizeof(block));

			if (rc < 0) {
				reason = rc == -ERANGE ? PKT_DROP_SEC_KEY_EXHAUSTED :
				                         PKT_DROP_PKT_TOO_BIG;
				goto drop;
			}
			rt->stats.meta_sealed++;
		}
		if (ack) {
			s->flags &= ~(uint32_t)SVR_PROT_RX_ACK_DUE;
			rt->stats.prot_acks_tx++;
		}
		if (meta_flags != 0)
			rt->stats.meta_tx++;
	}
	/* The L4 checksum is about to be recomputed: never launder a wrong one. */
	if (k == NULL && verify_l4 && (meta || xlate || carried_tcp) && !pkt_csum_verify(d, info)) {
		reason = PKT_DROP_L4_BAD_CHECKSUM;
		goto drop;
	}
	if (xlate && svr_header_xlate(p, &w->wan_key, &reason) < 0)
		goto drop;
	d = p->buf + p->head;
	ins_off = as_udp ? info->l4_off : info->payload_off;
	ins_len = block_len + (as_udp ? SVR_UDP_HDR_LEN : 0);
	if ((size_t)info->ip_len + ins_len > UINT16_MAX ||
	    (size_t)p->len + ins_len > PKT_BUF_DATA_MAX) {
		reason = PKT_DROP_PKT_TOO_BIG;
		goto drop;
	}
	if (pkt_buf_insert(p, ins_off, ins_len) < 0) {
		reason = PKT_DROP_PKT_NO_HEADROOM;
		goto drop;
	}
	d = p->buf + p->head;
	if (as_udp) {
		d[svr_l4_proto_off(d, info)] = IPPROTO_UDP;
		memset(d + ins_off, 0, SVR_UDP_HDR_LEN);
		info->l4_proto = IPPROTO_UDP;
		info->payload_off = (uint16_t)(info->l4_off + SVR_UDP_HDR_LEN);
		info->flags |= PKT_INFO_HAS_PORTS | PKT_INFO_HAS_L4;
	}
	memcpy(d + (as_udp ? ins_off + SVR_UDP_HDR_LEN : ins_off), block, block_len);
	pkt_set_ip_len(d, info, (size_t)info->ip_len + ins_len);
	svr_tuple_write_reverse(d, info, &w->wan_key, true);
	pkt_csum_fill(d, info);
	if (pkt_parse(p, &reason) < 0)
		goto drop;
	if (!copy)
		session_on_packet(rt->sessions, s, SESSION_DIR_LAN_TO_WAN, tcp_flags, len_before,
		    now_ns);
	s->flags &= ~(uint32_t)SVR_SESSION_MOVED; /* something went back since the re-bind */
	p->port = svr_wan_port_of(rt, w);
	return SVR_VERDICT_TO_WAN;
drop:
	svr_drop(rt, reason);
	return SVR_VERDICT_DROP;
}

/*
 * Keys and looks up a burst from one side. Packets that cannot be keyed are counted
 * drops; the others are slot[0..m) with their session index in idx (or NONE).
 */
static unsigned
svr_burst_lookup(struct svr_router *rt, struct pkt_buf **pkts, unsigned n, uint16_t zone,
    bool from_wan, enum svr_verdict *verdicts, uint32_t *idx, unsigned *slot)
{
	struct session_key keys[SVR_BURST_MAX];
	const struct session_key *key_ptrs[SVR_BURST_MAX] = {0};
	unsigned m = 0;

	for (unsigned i = 0; i < n && i < SVR_BURST_MAX; i++) {
		int rc;

		/* An ICMP error belongs to the session it embeds a packet of: never one of its own.
		 */
		if (pkts[i]->info.flags & PKT_INFO_ICMP_ERROR) {
			if (from_wan) {
				svr_drop(rt, PKT_DROP_FW_ICMP_ERROR_NO_SESSION);
				verdicts[i] = SVR_VERDICT_DROP;
			} else {
				verdicts[i] = svr_lan_icmp_err(rt, pkts[i], zone);
			}
			continue;
		}
		rc = from_wan ? svr_wan_key(pkts[i], zone, &keys[m]) :
		                svr_lan_key(pkts[i], zone, &keys[m]);
		verdicts[i] = SVR_VERDICT_DROP;
		if (rc < 0) {
			svr_drop(rt,
			    (pkts[i]->info.flags & PKT_INFO_FRAGMENT) ?
			        PKT_DROP_SVR_FRAGMENT_NOT_REASSEMBLED :
			        PKT_DROP_PROTO_UNSUPPORTED);
			continue;
		}
		key_ptrs[m] = &keys[m];
		slot[m++] = i;
	}
	session_table_lookup_burst(rt->sessions, key_ptrs, m, idx, NULL);
	return m;
}

/*
 * With security, the fast path is only for packets that need nothing: no payload, or a
 * payload of a direction decided clear whose decision the peer acknowledged.
 */
static inline bool
svr_lan_secure_is_fast(const struct session *s, const struct pkt_info *info)
{
	const uint32_t clear = SVR_PROT_TX_DECIDED | SVR_PROT_TX_ACKED;

	if (s->flags & SVR_PROT_RX_ACK_DUE)
		return false;
	return info->ip_len == info->payload_off ||
	    (s->flags & (clear | SVR_PROT_TX_ENCRYPTED)) == clear;
}

/*
 * The session's path is down. The ingress asks the router for another path and moves
 * the session there before this packet leaves (it then carries forward metadata); the
 * egress does not own the waypoint ports, so its packet stays on the dead path until the
 * ingress moves the session. 0, or -ENETUNREACH when the policy drops (counted).
 */
static int
svr_lan_path_down(struct svr_router *rt, struct session *s, uint32_t index, uint64_t now_ns)
{
	uint16_t to = SVR_PATH_NONE;

	if (s->role == SESSION_ROLE_INGRESS && rt->path_pick != NULL)
		to = rt->path_pick(rt, s, rt->path_pick_arg);
	if (to == SVR_PATH_DROP) {
		svr_drop(rt, PKT_DROP_SVR_NO_PATH);
		return -ENETUNREACH;
	}
	if (to == SVR_PATH_NONE || to == s->path_id ||
	    svr_session_migrate(rt, index, to, now_ns) < 0)
		rt->stats.down_path_tx++;
	return 0;
}

void
svr_lan_rx_burst(struct svr_router *rt, struct pkt_buf **pkts, unsigned n, uint16_t zone,
    enum svr_verdict *verdicts, uint64_t now_ns)
{
	uint32_t idx[SVR_BURST_MAX];
	unsigned slot[SVR_BURST_MAX];
	unsigned m = svr_burst_lookup(rt, pkts, n, zone, false, verdicts, idx, slot);

	for (unsigned j = 0; j < m; j++) {
		struct pkt_buf *p = pkts[slot[j]];
		struct session *s;
		const uint8_t *d;

		if (idx[j] == SESSION_INDEX_NONE) {
			verdicts[slot[j]] = SVR_VERDICT_NEW_SESSION;
			continue;
		}
		s = session_table_at(rt->sessions, idx[j]);
		p->user = idx[j];
		if ((s->flags & SVR_SESSION_INSPECT) && rt->inspect != NULL)
			rt->inspect(rt, p, s, idx[j], rt->inspect_arg);
		if (s->path_id < rt->path_count && rt->paths[s->path_id].state != SVR_PATH_UP &&
		    svr_lan_path_down(rt, s, idx[j], now_ns) < 0) {
			verdicts[slot[j]] = SVR_VERDICT_DROP;
			continue;
		}
		/* A SYN retransmitted with metadata: maybe a middlebox drops SVR SYNs. */
		if ((s->flags & SVR_SESSION_FWD_META) && (p->info.tcp_flags & 0x12) == 0x02)
			(void)svr_udp_transform_detect(rt, s, idx[j]);
		d = p->buf + p->head;
		if (p->info.tcp_flags & 0x02)
			svr_tcp_mss_clamp(rt, p);
		if (s->flags & SVR_SESSION_DUP) {
			verdicts[slot[j]] = svr_lan_dup_send(rt, p, s, idx[j], now_ns);
			continue;
		}
		if ((s->flags &
		        (SVR_SESSION_FWD_META | SVR_SESSION_REV_META | SVR_SESSION_AS_UDP |
		            SVR_SESSION_XLATE)) != 0 ||
		    svr_meta_has_cookie(d + p->info.payload_off,
		        p->info.ip_len - p->info.payload_off) ||
		    (rt->security && !svr_lan_secure_is_fast(s, &p->info))) {
			verdicts[slot[j]] = svr_lan_to_wan_slow(rt, p, s, s, NULL, false, now_ns);
			continue;
		}
		svr_rewrite_fast(p, s, SESSION_DIR_LAN_TO_WAN, &s->wan_key);
		session_on_packet(rt->sessions, s, SESSION_DIR_LAN_TO_WAN, p->info.tcp_flags,
		    p->len, now_ns);
		p->port = svr_wan_port_of(rt, s);
		verdicts[slot[j]] = SVR_VERDICT_TO_WAN;
	}
	if (rt->ack_pending_count != 0)
		svr_router_flush(rt);
}

enum svr_verdict
svr_lan_first(struct svr_router *rt, struct pkt_buf *p, uint16_t zone,
    const struct svr_route *route, uint64_t now_ns)
{
	const struct svr_path *path;
	struct session_key lan_key, wan_key;
	uint16_t local_port, peer_port;
	enum pkt_drop_reason reason;
	struct session *s;
	uint32_t index;
	bool as_udp, carried_tcp, xlate;
	int rc;

	if (route->path_id >= rt->path_count) {
		reason = PKT_DROP_PROTO_UNSUPPORTED;
		goto drop;
	}
	path = &rt->paths[route->path_id];
	if (svr_lan_key(p, zone, &lan_key) < 0) {
		reason = PKT_DROP_SVR_FRAGMENT_NOT_REASSEMBLED;
		goto drop;
	}
	if (path->local.family != path->remote.family) {
		reason = PKT_DROP_PROTO_UNSUPPORTED;
		goto drop;
	}
	xlate = path->local.family != p->info.family;
	carried_tcp = p->info.l4_proto == IPPROTO_TCP && path->udp_transform;
	as_udp = !svr_proto_is_native(p->info.l4_proto) || carried_tcp;
	svr_tcp_mss_clamp(rt, p);
	if ((!as_udp || carried_tcp) && !pkt_csum_verify(p->buf + p->head, &p->info)) {
		reason = PKT_DROP_L4_BAD_CHECKSUM;
		goto drop;
	}
	if (svr_waypoint_ports_get(path->ports, &local_port, &peer_port) < 0) {
		reason = PKT_DROP_WAYPOINT_PORTS_EXHAUSTED;
		goto drop;
	}
	session_key_set(&wan_key, path->local.family, as_udp ? IPPROTO_UDP : p->info.l4_proto,
	    path->wan_zone, path->remote.bytes, path->local.bytes, peer_port, local_port);
	rc = session_table_insert(rt->sessions, &lan_key, &wan_key, now_ns, &index);
	if (rc < 0) {
		svr_waypoint_ports_put(path->ports, local_port);
		reason =
		    rc == -ENOSPC ? PKT_DROP_SESSION_TABLE_FULL : PKT_DROP_SVR_SESSION_CONFLICT;
		goto drop;
	}
	s = session_table_get(rt->sessions, index);
	s->role = SESSION_ROLE_INGRESS;
	s->tenant_id = route->tenant_id;
	s->service_id = route->service_id;
	s->path_id = route->path_id;
	s->flags = SVR_SESSION_FWD_META | (as_udp ? SVR_SESSION_AS_UDP : 0) |
	    (carried_tcp ? SVR_SESSION_UDP_TRANSFORM : 0) | (xlate ? SVR_SESSION_XLATE : 0) |
	    ((uint32_t)(route->encrypt & 3) << SVR_PROT_MODE_SHIFT);
	if (route->uuid != NULL)
		memcpy(s->uuid, route->uuid, sizeof(s->uuid));
	else
		svr_uuid_generate(rt, s->uuid);
	svr_deltas_compute(s, SESSION_DIR_LAN_TO_WAN, &s->lan_key, &s->wan_key);
	svr_deltas_compute(s, SESSION_DIR_WAN_TO_LAN, &s->wan_key, &s->lan_key);
	p->user = index;
	if (path->learn)
		svr_uuid_index_add(rt, s, index);
	/* No room for the second leg is counted and leaves a session of one leg. */
	if (route->duplicate)
		(void)svr_dup_alias_add(rt, index, route->dup_path_id, true, now_ns, NULL);
	if (((s->flags & SVR_SESSION_DUP) ?
	            svr_lan_dup_send(rt, p, s, index, now_ns) :
	            svr_lan_to_wan_slow(rt, p, s, s, NULL, false, now_ns)) == SVR_VERDICT_TO_WAN)
		return SVR_VERDICT_TO_WAN;
	/* Counted already; a session whose first packet could not leave is not kept. */
	svr_session_release(rt, s);
	session_table_delete(rt->sessions, index);
	return SVR_VERDICT_DROP;
drop:
	svr_drop(rt, reason);
	return SVR_VERDICT_DROP;
}

/*
 * Removes the block (and the carrying UDP header) from a WAN packet, restores the
 * session's LAN tuple and fixes lengths and checksums. The wire checksum was verified.
 */
enum svr_verdict
svr_wan_restore_slow(struct svr_router *rt, struct pkt_buf *p, struct session *s,
    const struct session *w, size_t block_len, uint64_t now_ns)
{
	/* The carriage is the leg's (w: s, or the alias the packet arrived on). */
	bool as_udp = w->flags & SVR_SESSION_AS_UDP;
	bool carried_tcp = w->flags & SVR_SESSION_UDP_TRANSFORM;
	struct pkt_info *info = &p->info;
	enum pkt_drop_reason reason;
	size_t rm_off = as_udp ? info->l4_off : info->payload_off;
	size_t rm_len = block_len + (as_udp ? SVR_UDP_HDR_LEN : 0);
	uint32_t wire_len = p->len;
	uint8_t *d;

	if (pkt_buf_remove(p, rm_off, rm_len) < 0) {
		reason = PKT_DROP_META_TOO_LONG;
		goto drop;
	}
	d = p->buf + p->head;
	if (as_udp) {
		/* The carried L4 header is the host's own, untouched. */
		d[svr_l4_proto_off(d, info)] = s->lan_key.proto;
		info->l4_proto = s->lan_key.proto;
		if (carried_tcp) {
			int hl =
			    svr_carried_tcp_len(d, info->l4_off, info->ip_len - rm_len, &reason);

			if (hl < 0)
				goto drop;
			info->payload_off = (uint16_t)(info->l4_off + (size_t)hl);
			info->tcp_flags = d[info->l4_off + 13];
		} else {
			info->payload_off = info->l4_off;
			info->flags &= (uint8_t)~PKT_INFO_HAS_PORTS;
		}
	}
	pkt_set_ip_len(d, info, (size_t)info->ip_len - rm_len);
	if (w->flags & SVR_SESSION_XLATE) {
		if (svr_header_xlate(p, &s->lan_key, &reason) < 0)
			goto drop;
		d = p->buf + p->head;
	}
	if (!as_udp || carried_tcp) {
		/*
		 * A carried TCP checksum is the sending host's, over its own tuple: without
		 * translation recomputing gives the same bytes; with it, the right ones. The
		 * carrying UDP checksum, verified, covered it on the WAN.
		 */
		svr_tuple_write_reverse(d, info, &s->lan_key, true);
		pkt_csum_fill(d, info);
	} else if (!(w->flags & SVR_SESSION_XLATE)) {
		svr_tuple_write_reverse(d, info, &s->lan_key, false);
		if (info->family == ADDR_FAMILY_V4)
			buf_store_be16(d + 10, pkt_csum_ipv4_header(d, info->l4_off));
	}
	if (pkt_parse(p, &reason) < 0)
		goto drop;
	session_on_packet(rt->sessions, s, SESSION_DIR_WAN_TO_LAN, info->tcp_flags, wire_len,
	    now_ns);
	p->port = svr_lan_port_of(rt, s);
	return SVR_VERDICT_TO_LAN;
drop:
	svr_drop(rt, reason);
	return SVR_VERDICT_DROP;
}

void
svr_control_send(struct svr_router *rt, struct session *s, uint8_t control, bool fwd_meta)
{
	struct session *a;

	svr_control_send_leg(rt, s, s, control, fwd_meta);
	/* A duplicated session's peer hears it on both legs: either may be the lossy one. */
	if ((s->flags & SVR_SESSION_DUP) &&
	    (a = svr_dup_alias_find(rt, session_table_index(rt->sessions, s), NULL)) != NULL &&
	    a->path_id < rt->path_count && a->path_id != s->path_id)
		svr_control_send_leg(rt, s, a, control, fwd_meta);
}

void
svr_control_send_leg(struct svr_router *rt, struct session *s, struct session *w, uint8_t control,
    bool fwd_meta)
{
	uint8_t block[SVR_META_MAX_LEN + SVR_SEAL_OVERHEAD];
	enum pkt_drop_reason reason = PKT_DROP_PKT_TOO_BIG;
	size_t block_len, ip_hdr, alen = svr_addr_len(w->wan_key.family);
	struct svr_peer_keys *k = NULL;
	struct svr_meta m;
	struct pkt_buf *c;
	bool ack = false;
	uint8_t *d;
	int rc;

	if (fwd_meta && s->role == SESSION_ROLE_INGRESS) {
		svr_meta_build_forward(rt, s, w, &m);
	} else if (fwd_meta) {
		/* The egress's handshake metadata, with the UUID that finds the session (NAT). */
		svr_meta_build_reverse(s, &m);
		memcpy(m.uuid, s->uuid, sizeof(m.uuid));
		m.present |= SVR_META_F_UUID;
	} else {
		memset(&m, 0, sizeof(m));
	}
	m.present |= SVR_META_F_CONTROL;
	m.control = control;
	if (s->flags & SVR_SESSION_DUP) {
		/* Names the leg, so a keep-alive with forward metadata binds the right one. */
		m.present |= SVR_META_F_DUP_SEQ;
		m.dup_leg = (w->flags & SVR_SESSION_LEG1) ? 1 : 0;
		m.dup_seq = 0;
	}
	if (control == SVR_CONTROL_DISABLE_META)
		m.present |= SVR_META_F_DISABLE_FWD_META;
	if (rt->security) {
		k = svr_session_keys(rt, s);
		if (k == NULL || !svr_peer_keys_can_send(k)) {
			svr_drop(rt, PKT_DROP_SEC_NO_KEY);
			return;
		}
		m.present |= SVR_META_F_SECURITY_ID;
		m.security_id = k->send.peer_index;
		ack = s->flags & SVR_PROT_RX_ACK_DUE;
	}
	if (rt->ctrl_out_count >= SVR_CTRL_OUT_MAX || rt->pool == NULL ||
	    (c = pkt_pool_get(rt->pool)) == NULL) {
		svr_drop(rt, PKT_DROP_PKT_POOL_EMPTY);
		return;
	}
	if (svr_meta_encode(&m, block, SVR_META_MAX_LEN, &block_len) < 0 ||
	    svr_seal_protection_append(block, &block_len, SVR_META_MAX_LEN, false, 0, 0, ack) < 0)
		goto fail;
	/* A control rides UDP either way: say when the session itself does (a re-bind). */
	if (fwd_meta && (w->flags & SVR_SESSION_UDP_TRANSFORM) &&
	    svr_seal_flag_append(block, &block_len, SVR_META_MAX_LEN, SVR_TLV_TERN_UDP_TRANSFORM) <
	        0)
		goto fail;
	if (k != NULL) {
		rc = svr_seal_block(k, block, &block_len, sizeof(block));
		if (rc < 0) {
			if (rc == -ERANGE)
				reason = PKT_DROP_SEC_KEY_EXHAUSTED;
			goto fail;
		}
		rt->stats.meta_sealed++;
	}
	ip_hdr = w->wan_key.family == ADDR_FAMILY_V4 ? 20 : 40;
	d = pkt_buf_put(c, ip_hdr + SVR_UDP_HDR_LEN + block_len);
	if (d == NULL)
		goto fail;
	memset(d, 0, ip_hdr + SVR_UDP_HDR_LEN);
	if (ip_hdr == 20) {
		d[0] = 0x45;
		d[8] = 64;
		d[9] = IPPROTO_UDP;
		buf_store_be16(d + 2, (uint16_t)c->len);
		memcpy(d + 12, w->wan_key.dst, alen);
		memcpy(d + 16, w->wan_key.src, alen);
	} else {
		d[0] = 0x60;
		d[6] = IPPROTO_UDP;
		d[7] = 64;
		buf_store_be16(d + 4, (uint16_t)(c->len - 40));
		memcpy(d + 8, w->wan_key.dst, alen);
		memcpy(d + 24, w->wan_key.src, alen);
	}
	buf_store_be16(d + ip_hdr, w->wan_key.dport);
	buf_store_be16(d + ip_hdr + 2, w->wan_key.sport);
	buf_store_be16(d + ip_hdr + 4, (uint16_t)(SVR_UDP_HDR_LEN + block_len));
	memcpy(d + ip_hdr + SVR_UDP_HDR_LEN, block, block_len);
	if (ip_hdr == 20)
		buf_store_be16(d + 10, pkt_csum_ipv4_header(d, 20));
	if (pkt_parse(c, &reason) < 0)
		goto fail;
	pkt_csum_fill(d, &c->info);
	c->port = svr_wan_port_of(rt, w);
	rt->ctrl_out[rt->ctrl_out_count++] = c;
	rt->stats.control_tx++;
	if (ack) {
		s->flags &= ~(uint32_t)SVR_PROT_RX_ACK_DUE;
		rt->stats.prot_acks_tx++;
	}
	return;
fail:
	pkt_pool_put(rt->pool, c);
	svr_drop(rt, reason);
}

void
svr_router_flush(struct svr_router *rt)
{
	for (unsigned i = 0; i < rt->ack_pending_count; i++) {
		struct session *s = session_table_get(rt->sessions, rt->ack_pending[i]);

		/* TCP always has a reverse segment to carry the ack; the control rides UDP. */
		if (s != NULL && (s->flags & SVR_PROT_RX_ACK_DUE) && svr_session_is_udp_borne(s))
			svr_control_send(rt, s, SVR_CONTROL_KEEPALIVE, false);
	}
	rt->ack_pending_count = 0;
}

/* A protection decision arrived for the WAN-to-LAN direction: remember it, owe an ack. */
void
svr_rx_decision_apply(struct svr_router *rt, struct session *s, uint32_t index,
    const struct svr_seal_protection *prot)
{
	if (prot->ack && (s->flags & SVR_PROT_TX_DECIDED))
		s->flags |= SVR_PROT_TX_ACKED;
	if (!prot->has_decision)
		return;
	s->flags &= ~((SVR_PROT_REASON_MASK << SVR_PROT_RX_REASON_SHIFT) | SVR_PROT_RX_ENCRYPTED);
	s->flags |= SVR_PROT_RX_KNOWN | (prot->mode ? SVR_PROT_RX_ENCRYPTED : 0) |
	    ((uint32_t)(prot->reason & SVR_PROT_REASON_MASK) << SVR_PROT_RX_REASON_SHIFT);
	if (!(s->flags & SVR_PROT_RX_ACK_DUE)) {
		s->flags |= SVR_PROT_RX_ACK_DUE;
		if (rt->ack_pending_count < SVR_BURST_MAX)
			rt->ack_pending[rt->ack_pending_count++] = index;
	}
}

/*
 * Opens the encrypted payload of a WAN packet (data[off .. ip_len) ends with the
 * trailer) in place and drops the trailer. 0 or a drop reason.
 */
static int
svr_wan_payload_open(struct svr_peer_keys *k, struct pkt_buf *p,
    const uint8_t ad[CRYPTO_AEAD_AD_LEN], size_t off, enum pkt_drop_reason *reason)
{
	struct pkt_info *info = &p->info;
	uint8_t *d = p->buf + p->head;
	size_t len = (size_t)info->ip_len - off;
	const uint8_t *trailer;
	struct svr_recv_key *r;
	int rc;

	if (len < CRYPTO_AEAD_TRAILER_LEN) {
		k->stats.auth_failed++;
		*reason = PKT_DROP_SEC_AUTH_FAILED;
		return -EBADMSG;
	}
	len -= CRYPTO_AEAD_TRAILER_LEN;
	trailer = d + off + len;
	r = svr_peer_keys_recv_by_counter(k, crypto_aead_trailer_counter(trailer));
	if (r == NULL) {
		k->stats.unknown_index++;
		*reason = PKT_DROP_SEC_UNKNOWN_KEY_INDEX;
		return -ENOKEY;
	}
	rc = svr_peer_keys_open(k, r, ad, CRYPTO_AEAD_AD_LEN, d + off, len, trailer);
	if (rc < 0) {
		*reason = svr_open_reason(rc);
		return rc;
	}
	pkt_set_ip_len(d, info, (size_t)info->ip_len - CRYPTO_AEAD_TRAILER_LEN);
	(void)pkt_buf_trim(p, info->ip_len);
	return 0;
}

/*
 * Opens the sealed block at the start of the WAN payload in place with k, or any peer's
 * keys when k is NULL (*k_out says whose). 0 with *block_len, or a drop reason.
 */
static int
svr_wan_block_open(struct svr_router *rt, struct pkt_buf *p, struct svr_peer_keys *k,
    struct svr_peer_keys **k_out, size_t *block_len, enum pkt_drop_reason *reason)
{
	struct pkt_info *info = &p->info;
	uint8_t *data = p->buf + p->head + info->payload_off;
	struct svr_recv_key *r = NULL;
	uint32_t index;
	int rc;

	rc = svr_seal_peek(data, (size_t)info->ip_len - info->payload_off, &index, block_len,
	    reason);
	if (rc == -ENOENT)
		*reason = PKT_DROP_SEC_META_UNSEALED;
	if (rc < 0)
		return rc;
	if (k != NULL) {
		r = svr_peer_keys_find_recv(k, index);
	} else {
		/* No session yet: peers are few, walk them. */
		for (uint16_t i = 0; i < rt->peer_count && r == NULL && rt->peer_keys != NULL;
		     i++) {
			k = &rt->peer_keys[i];
			r = svr_peer_keys_find_recv(k, index);
		}
	}
	if (r == NULL) {
		if (k != NULL)
			k->stats.unknown_index++;
		*reason = PKT_DROP_SEC_UNKNOWN_KEY_INDEX;
		return -ENOKEY;
	}
	rc = svr_seal_open(k, r, data, *block_len);
	if (rc < 0) {
		*reason = svr_open_reason(rc);
		return rc;
	}
	rt->stats.meta_opened++;
	if (k_out != NULL)
		*k_out = k;
	return 0;
}

/* A control block arrived on a live session: act on it; the packet is consumed. */
static enum svr_verdict
svr_control_handle(struct svr_router *rt, struct session *s, struct session *w, uint32_t index,
    const struct svr_meta *m)
{
	rt->stats.control_rx++;
	switch (m->control) {
	case SVR_CONTROL_DISABLE_META: /* forward metadata is per leg: the one it came on */
		w->flags &= ~(uint32_t)SVR_SESSION_FWD_META;
		break;
	case SVR_CONTROL_ENABLE_META:
		if (s->role == SESSION_ROLE_INGRESS)
			w->flags |= SVR_SESSION_FWD_META;
		/* Behind a NAT, the egress's reverse metadata (with the UUID) re-binds too. */
		else if (s->path_id < rt->path_count && rt->paths[s->path_id].behind_nat)
			w->flags |= SVR_SESSION_REV_META;
		break;
	case SVR_CONTROL_DELETE_SESSION:
		svr_session_release(rt, s);
		session_table_delete(rt->sessions, index);
		break;
	case SVR_CONTROL_KEEPALIVE:
	case SVR_CONTROL_HEALTH_STATE_EXISTS:
		break;
	default:
		svr_drop(rt, PKT_DROP_SVR_CONTROL_BAD);
		return SVR_VERDICT_DROP;
	}
	return SVR_VERDICT_CONSUMED;
}

/*
 * Security on the way in, after the block (if any) was opened and decoded: the payload
 * after the block must have a known decision; an encrypted one is opened in place. Only
 * then are the protection TLVs acted on. 0 or a drop reason.
 */
static int
svr_wan_unprotect(struct svr_router *rt, struct pkt_buf *p, struct session *s,
    const struct session *w, uint32_t index, struct svr_peer_keys *k, size_t block_len,
    const struct svr_seal_protection *prot, enum pkt_drop_reason *reason)
{
	size_t off = (size_t)p->info.payload_off + block_len;
	uint8_t ad[CRYPTO_AEAD_AD_LEN];
	bool encrypted;

	/* A carried TCP header is not encrypted, as on a plain path. */
	if (off < p->info.ip_len && (w->flags & SVR_SESSION_UDP_TRANSFORM)) {
		int hl = svr_carried_tcp_len(p->buf + p->head, off, p->info.ip_len, reason);

		if (hl < 0)
			return -EBADMSG;
		off += (size_t)hl;
	}
	if (off < p->info.ip_len) {
		if (prot->has_decision) {
			encrypted = prot->mode != 0;
		} else if (s->flags & SVR_PROT_RX_KNOWN) {
			encrypted = s->flags & SVR_PROT_RX_ENCRYPTED;
		} else {
			*reason = PKT_DROP_SEC_DECISION_MISSING;
			return -EPROTO;
		}
		if (encrypted) {
			svr_payload_ad(s, SESSION_DIR_WAN_TO_LAN, ad);
			if (svr_wan_payload_open(k, p, ad, off, reason) < 0)
				return -EBADMSG;
			rt->stats.payload_opened++;
		}
	}
	svr_rx_decision_apply(rt, s, index, prot);
	return 0;
}

/*
 * WAN -> LAN when the packet carries a block or the session is carried as UDP. w is the
 * entry the packet's tuple found: s, or s's alias (the second leg of a duplicated
 * session); index is s's.
 */
static enum svr_verdict
svr_wan_to_lan_slow(struct svr_router *rt, struct pkt_buf *p, struct session *s, struct session *w,
    uint32_t index, bool has_cookie, bool opened, uint64_t now_ns)
{
	bool tagged = false;
	uint32_t dup_seq = 0;
	struct pkt_info *info = &p->info;
	const uint8_t *d = p->buf + p->head;
	struct svr_seal_protection prot = {0};
	struct svr_peer_keys *k = NULL;
	enum pkt_drop_reason reason;
	size_t block_len = 0;
	struct svr_meta m;
	uint32_t carries;
	unsigned count;

	/* An opened block changed the bytes: svr_wan_decode() checked the sum before. */
	if (!opened && !pkt_csum_verify(d, info)) {
		reason = PKT_DROP_L4_BAD_CHECKSUM;
		goto drop;
	}
	if (rt->security) {
		k = svr_session_keys(rt, s);
		if (k == NULL) {
			reason = PKT_DROP_SEC_NO_KEY;
			goto drop;
		}
		if (p->len > info->ip_len)
			(void)pkt_buf_trim(p, info->ip_len); /* link-layer padding */
		/* svr_wan_decode() opened it already for a re-bind (svr_wan_rebind_ingress). */
		if (has_cookie && !opened &&
		    svr_wan_block_open(rt, p, k, NULL, &block_len, &reason) < 0)
			goto drop;
	}
	if (!has_cookie)
		goto no_meta;
	if (svr_meta_decode(d + info->payload_off, info->ip_len - info->payload_off, &m, &block_len,
	        &reason) < 0)
		goto drop;
	if (k != NULL && svr_seal_protection_find(d + info->payload_off, &prot) < 0) {
		reason = PKT_DROP_META_BAD_TLV_LENGTH;
		goto drop;
	}
	if (m.present & SVR_META_F_ICMP_ERROR_LOC)
		return svr_wan_icmp_err(rt, p, s, &m);
	if (m.present & SVR_META_F_CONTROL) {
		if (k != NULL)
			svr_rx_decision_apply(rt, s, index, &prot);
		return svr_control_handle(rt, s, w, index, &m);
	}
	tagged = m.present & SVR_META_F_DUP_SEQ;
	dup_seq = m.dup_seq;
	/* Under security every block has a security id: look past it and the flag. */
	carries = (k != NULL ? m.present &
	                      ~(uint32_t)(SVR_META_F_SECURITY_ID | SVR_META_F_PAYLOAD_ENCRYPTED) :
	                       m.present) &
	    /* the SYN flag and a duplicate's sequence alone are no handshake metadata */
	    ~(uint32_t)(SVR_META_F_TCP_SYN | SVR_META_F_DUP_SEQ);
	if (carries == 0)
		goto no_meta; /* the empty block only protects a payload that began with the cookie
		               */
	rt->stats.meta_rx++;
	if (s->role == SESSION_ROLE_INGRESS) {
		if ((m.present & SVR_META_F_REV_CTX) &&
		    !svr_ctx_is_reverse_of(&m.rev_ctx, &s->lan_key)) {
			reason = PKT_DROP_SVR_CONTEXT_MISMATCH;
			goto drop;
		}
		/* The egress answered on this leg: it has bound this leg's tuple. */
		if (m.present & (SVR_META_F_REV_CTX | SVR_META_F_DISABLE_FWD_META))
			w->flags &= ~(uint32_t)SVR_SESSION_FWD_META;
	} else {
		if ((m.present & SVR_META_F_FWD_CTX) &&
		    ((!(s->flags & SVR_SESSION_NAT) &&
		         !svr_ctx_is_reverse_of(&m.fwd_ctx, &s->lan_key)) ||
		        ((m.present & SVR_META_F_UUID) &&
		            memcmp(m.uuid, s->uuid, sizeof(s->uuid)) != 0))) {
			/*
			 * The ingress opened a new session on this waypoint tuple (it restarted
			 * and reused the pair): the old session is dead. Forget it and let the
			 * caller admit the new one like any first packet. Its block is open
			 * already: svr_wan_decode() must not open it twice.
			 */
			if (k != NULL && rt->opened_count < SVR_BURST_MAX)
				rt->opened[rt->opened_count++] = p;
			svr_session_release(rt, s);
			session_table_delete(rt->sessions, index);
			rt->stats.replaced++;
			return SVR_VERDICT_NEW_SESSION;
		}
		/*
		 * A duplicated session's other leg may still be waiting for an answer: keep
		 * sending reverse metadata while forward metadata comes on either leg.
		 */
		if ((s->flags & SVR_SESSION_DUP) && (m.present & SVR_META_F_FWD_CTX))
			s->flags |= SVR_SESSION_REV_META;
		count = (s->flags & SVR_SESSION_META_RX_MASK) >> SVR_SESSION_META_RX_SHIFT;
		if (count < 0xf)
			count++;
		s->flags =
		    (s->flags & ~SVR_SESSION_META_RX_MASK) | (count << SVR_SESSION_META_RX_SHIFT);
		/*
		 * A one-way flow never sends reverse metadata: after 4 metadata packets or 1 s,
		 * whichever comes first, tell the ingress to stop. The
		 * control rides UDP on the waypoint tuple, so only UDP-borne sessions get it;
		 * TCP always has reverse segments to carry reverse metadata.
		 */
		if ((count >= SVR_UNIDIRECTIONAL_META_PACKETS ||
		        now_ns - s->created_ns >= SVR_UNIDIRECTIONAL_META_NS) &&
		    (s->packets[0] == 0 || (s->flags & SVR_SESSION_MOVED)) &&
		    svr_session_is_udp_borne(s) && !(s->flags & SVR_SESSION_DISABLE_SENT)) {
			s->flags |= SVR_SESSION_DISABLE_SENT;
			svr_control_send(rt, s, SVR_CONTROL_DISABLE_META, false);
		}
	}
	goto payload;
no_meta:
	if (s->role == SESSION_ROLE_EGRESS)
		s->flags &= ~(uint32_t)SVR_SESSION_REV_META;
payload:
	/* Before the payload is opened: a second copy costs no decryption. */
	if (tagged && (s->flags & SVR_SESSION_DUP) && svr_dup_filter(rt, s, index, w, dup_seq) < 0)
		return SVR_VERDICT_CONSUMED;
	if (k != NULL && svr_wan_unprotect(rt, p, s, w, index, k, block_len, &prot, &reason) < 0)
		goto drop;
	return svr_wan_restore_slow(rt, p, s, w, block_len, now_ns);
drop:
	svr_drop(rt, reason);
	return SVR_VERDICT_DROP;
}

/*
 * A WAN packet on no session's tuple: an ICMP error carried along a TCP session that
 * travels as TCP rides UDP on its tuple (docs/protocol.md "ICMP errors"), so it is looked
 * up again as TCP. Anything else is NEW_SESSION.
 */
static enum svr_verdict
svr_wan_icmp_err_miss(struct svr_router *rt, struct pkt_buf *p, uint16_t wan_zone, uint64_t now_ns)
{
	struct session_key key;
	struct session *s, *w;
	uint32_t index;

	if (!svr_icmp_err_is_carrier(p) || svr_wan_key(p, wan_zone, &key) < 0)
		return SVR_VERDICT_NEW_SESSION;
	key.proto = IPPROTO_TCP;
	index =
	    session_table_lookup(rt->sessions, &key, session_key_hash(rt->sessions, &key), NULL);
	s = w = index == SESSION_INDEX_NONE ? NULL : session_table_get(rt->sessions, index);
	if (s != NULL && (w->flags & SVR_SESSION_ALIAS))
		s = svr_dup_primary_of(rt, w, &index);
	if (s == NULL || (s->flags & SVR_SESSION_AS_UDP)) {
		svr_drop(rt, PKT_DROP_FW_ICMP_ERROR_NO_SESSION);
		return SVR_VERDICT_DROP;
	}
	p->user = index;
	return svr_wan_to_lan_slow(rt, p, s, w, index, true, false, now_ns);
}

void
svr_wan_rx_burst(struct svr_router *rt, struct pkt_buf **pkts, unsigned n, uint16_t wan_zone,
    enum svr_verdict *verdicts, uint64_t now_ns)
{
	uint32_t idx[SVR_BURST_MAX];
	unsigned slot[SVR_BURST_MAX];
	unsigned m;

	if (rt->ack_pending_count != 0)
		svr_router_flush(rt);
	rt->opened_count = 0;
	m = svr_burst_lookup(rt, pkts, n, wan_zone, true, verdicts, idx, slot);
	for (unsigned j = 0; j < m; j++) {
		struct pkt_buf *p = pkts[slot[j]];
		const uint8_t *d = p->buf + p->head;
		struct session *s, *w;
		uint32_t index = idx[j];
		bool has_cookie;

		if (idx[j] == SESSION_INDEX_NONE) {
			verdicts[slot[j]] = svr_wan_icmp_err_miss(rt, p, wan_zone, now_ns);
			continue;
		}
		s = w = session_table_at(rt->sessions, idx[j]);
		if (w->flags & SVR_SESSION_ALIAS) {
			/* The second leg of a duplicated session: the session is its primary. */
			s = svr_dup_primary_of(rt, w, &index);
			if (s == NULL) {
				/* It outlived its session: forget it; the packet is a miss. */
				svr_dup_alias_release(rt, w);
				session_table_delete(rt->sessions, idx[j]);
				verdicts[slot[j]] = SVR_VERDICT_NEW_SESSION;
				continue;
			}
		}
		p->user = index;
		has_cookie = svr_meta_has_cookie(d + p->info.payload_off,
		    p->info.ip_len - p->info.payload_off);
		if (has_cookie || w != s ||
		    ((s->flags | w->flags) &
		        (SVR_SESSION_AS_UDP | SVR_SESSION_REV_META | SVR_SESSION_XLATE |
		            SVR_SESSION_DUP)) ||
		    (rt->security && p->info.ip_len != p->info.payload_off &&
		        (s->flags & (SVR_PROT_RX_KNOWN | SVR_PROT_RX_ENCRYPTED)) !=
		            SVR_PROT_RX_KNOWN)) {
			verdicts[slot[j]] =
			    svr_wan_to_lan_slow(rt, p, s, w, index, has_cookie, false, now_ns);
			continue;
		}
		svr_rewrite_fast(p, s, SESSION_DIR_WAN_TO_LAN, &s->lan_key);
		session_on_packet(rt->sessions, s, SESSION_DIR_WAN_TO_LAN, p->info.tcp_flags,
		    p->len, now_ns);
		p->port = svr_lan_port_of(rt, s);
		verdicts[slot[j]] = SVR_VERDICT_TO_LAN;
	}
}

int
svr_wan_decode(struct svr_router *rt, struct pkt_buf *p, struct svr_meta *m)
{
	const struct pkt_info *info = &p->info;
	const uint8_t *d = p->buf + p->head;
	enum pkt_drop_reason reason;
	size_t block_len;
	int rc;

	if ((info->flags & PKT_INFO_FRAGMENT) || !(info->flags & PKT_INFO_HAS_PORTS)) {
		reason = PKT_DROP_META_REQUIRED;
		goto drop;
	}
	if (rt->security) {
		bool opened = false;

		for (unsigned i = 0; i < rt->opened_count && !opened; i++) {
			if (rt->opened[i] == p) {
				opened = true;
				rt->opened[i] = NULL;
			}
		}
		if (!svr_meta_has_cookie(d + info->payload_off, info->ip_len - info->payload_off)) {
			reason = PKT_DROP_META_REQUIRED;
			goto drop;
		}
		if (p->len > info->ip_len)
			(void)pkt_buf_trim(p, info->ip_len);
		/* Opening changes the bytes: the wire checksum is checked here, not later. */
		if (!opened && !pkt_csum_verify(d, info)) {
			reason = PKT_DROP_L4_BAD_CHECKSUM;
			goto drop;
		}
		if (!opened && svr_wan_block_open(rt, p, NULL, NULL, &block_len, &reason) < 0)
			goto drop;
	}
	rc = svr_meta_decode(d + info->payload_off, info->ip_len - info->payload_off, m, &block_len,
	    &reason);
	if (rc == -ENOMSG) {
		reason = PKT_DROP_META_REQUIRED;
		goto drop;
	}
	if (rc < 0)
		goto drop;
	/*
	 * A keep-alive with forward metadata re-binds a moved session (svr_wan_first); one
	 * with reverse metadata and a UUID an ingress session behind a NAT's new mapping
	 * (svr_wan_rebind_ingress): both go back to the caller.
	 */
	if ((m->present & SVR_META_F_CONTROL) &&
	    (m->control != SVR_CONTROL_KEEPALIVE || !(m->present & SVR_META_F_UUID) ||
	        !(m->present &
	            (SVR_META_F_FWD_CTX | SVR_META_F_REV_CTX | SVR_META_F_DISABLE_FWD_META)))) {
		reason = PKT_DROP_SVR_CONTROL_NO_SESSION;
		goto drop;
	}
	if ((m->present & SVR_META_F_CONTROL) && !(m->present & SVR_META_F_FWD_CTX))
		return 0;
	/* An answer with reverse metadata and a UUID from an egress behind a NAT: the same. */
	if (!(m->present & SVR_META_F_FWD_CTX) && (m->present & SVR_META_F_UUID) &&
	    (m->present & (SVR_META_F_REV_CTX | SVR_META_F_DISABLE_FWD_META)))
		return 0;
	if (!(m->present & SVR_META_F_FWD_CTX)) {
		reason = PKT_DROP_META_MISSING_CONTEXT;
		goto drop;
	}
	return 0;
drop:
	svr_drop(rt, reason);
	return -EBADMSG;
}

/*
 * Security for the first packet of a session at the egress: the block svr_wan_decode()
 * opened must be under a key of the path's peer; the payload is opened before any state
 * is made. A re-bound session (s, else NULL) keeps the decision it knows when the block
 * repeats none. 0 or a drop reason.
 */
static int
svr_wan_first_unprotect(struct svr_router *rt, struct pkt_buf *p, const struct svr_meta *m,
    const struct svr_accept *accept, const struct session *s, size_t block_len, bool carried_tcp,
    struct svr_seal_protection *prot, enum pkt_drop_reason *reason)
{
	uint16_t peer = rt->paths[accept->path_id].peer_id;
	struct svr_peer_keys *k =
	    rt->peer_keys != NULL && peer < rt->peer_count ? &rt->peer_keys[peer] : NULL;
	const struct pkt_info *info = &p->info;
	size_t off = (size_t)info->payload_off + block_len;
	uint8_t ad[CRYPTO_AEAD_AD_LEN];
	bool encrypted;

	if (k == NULL) {
		*reason = PKT_DROP_SEC_NO_KEY;
		return -ENOKEY;
	}
	if (!(m->present & SVR_META_F_SECURITY_ID) ||
	    svr_peer_keys_find_recv(k, m->security_id) == NULL) {
		*reason = PKT_DROP_SEC_UNKNOWN_KEY_INDEX;
		return -ENOKEY;
	}
	if (svr_seal_protection_find(p->buf + p->head + info->payload_off, prot) < 0) {
		*reason = PKT_DROP_META_BAD_TLV_LENGTH;
		return -EBADMSG;
	}
	if (off < info->ip_len && carried_tcp) {
		int hl = svr_carried_tcp_len(p->buf + p->head, off, info->ip_len, reason);

		if (hl < 0)
			return -EBADMSG;
		off += (size_t)hl;
	}
	if (off >= info->ip_len)
		return 0;
	if (prot->has_decision) {
		encrypted = prot->mode != 0;
	} else if (s != NULL && (s->flags & SVR_PROT_RX_KNOWN)) {
		encrypted = s->flags & SVR_PROT_RX_ENCRYPTED;
	} else {
		*reason = PKT_DROP_SEC_DECISION_MISSING;
		return -EPROTO;
	}
	if (!encrypted)
		return 0;
	if (!(m->present & SVR_META_F_UUID)) {
		*reason = PKT_DROP_SEC_AUTH_FAILED;
		return -EBADMSG;
	}
	crypto_aead_ad_encode(ad, m->uuid, CRYPTO_AEAD_DIR_FORWARD);
	if (svr_wan_payload_open(k, p, ad, off, reason) < 0)
		return -EBADMSG;
	rt->stats.payload_opened++;
	return 0;
}

/*
 * The egress session the forward metadata of a packet on an unknown tuple re-binds, or
 * NULL for a new session. A session with that LAN tuple must be the same one: an egress
 * session of the same UUID reached from the same peer. 0 or a drop reason.
 */
static int
svr_wan_rebind_find(struct svr_router *rt, const struct session_key *lan_key,
    const struct svr_meta *m, const struct svr_accept *accept, struct session **s_out,
    uint32_t *index, enum pkt_drop_reason *reason)
{
	struct session *s;

	*s_out = NULL;
	*index = session_table_lookup(rt->sessions, lan_key,
	    session_key_hash(rt->sessions, lan_key), NULL);
	s = *index != SESSION_INDEX_NONE ? session_table_get(rt->sessions, *index) : NULL;
	if (s == NULL)
		return 0;
	/* Another peer naming our session's UUID is not a move: never let it take it. */
	if (!(m->present & SVR_META_F_UUID) || memcmp(s->uuid, m->uuid, sizeof(s->uuid)) != 0 ||
	    s->role != SESSION_ROLE_EGRESS || s->path_id >= rt->path_count ||
	    rt->paths[s->path_id].peer_id != rt->paths[accept->path_id].peer_id) {
		*reason = PKT_DROP_SVR_SESSION_CONFLICT;
		return -EEXIST;
	}
	*s_out = s;
	return 0;
}

enum svr_verdict
svr_wan_first(struct svr_router *rt, struct pkt_buf *p, const struct svr_meta *m,
    const struct svr_accept *accept, uint64_t now_ns)
{
	const struct svr_ctx *ctx = &m->fwd_ctx;
	const struct pkt_info *info = &p->info;
	const uint8_t *d = p->buf + p->head;
	bool control = m->present & SVR_META_F_CONTROL;
	struct svr_seal_protection prot = {0};
	struct session_key lan_key, wan_key;
	enum pkt_drop_reason reason;
	uint32_t prot_keep = 0, moved = 0, dup_keep = 0;
	bool tagged = m->present & SVR_META_F_DUP_SEQ, leg1 = tagged && m->dup_leg == 1;
	bool fresh = false;
	struct session *s;
	size_t block_len;
	uint32_t index;
	bool as_udp, carried_tcp;
	int rc;

	if (!(m->present & SVR_META_F_FWD_CTX)) {
		reason = PKT_DROP_META_MISSING_CONTEXT;
		goto drop;
	}
	if (accept->path_id >= rt->path_count || ctx->src.family != ctx->dst.family) {
		reason = PKT_DROP_SVR_CONTEXT_MISMATCH;
		goto drop;
	}
	if (control && (m->control != SVR_CONTROL_KEEPALIVE || !(m->present & SVR_META_F_UUID))) {
		reason = PKT_DROP_SVR_CONTROL_NO_SESSION;
		goto drop;
	}
	as_udp = !svr_proto_is_native(ctx->proto);
	/*
	 * TCP in UDP (the UDP transform): a data packet shows it; a control rides UDP
	 * whatever the session is carried as, so the sweep's keep-alive names it (0x8002).
	 */
	carried_tcp = ctx->proto == IPPROTO_TCP &&
	    (control ? svr_seal_flag_find(d + info->payload_off, SVR_TLV_TERN_UDP_TRANSFORM) :
	               info->l4_proto == IPPROTO_UDP);
	if (!control && as_udp && info->l4_proto != IPPROTO_UDP) {
		reason = PKT_DROP_SVR_NOT_CARRIED_AS_UDP;
		goto drop;
	}
	if (!control && !as_udp && !carried_tcp && info->l4_proto != ctx->proto) {
		reason = PKT_DROP_PROTO_UNSUPPORTED;
		goto drop;
	}
	/* With security, svr_wan_decode() checked it before opening the block in place. */
	if (!rt->security && !pkt_csum_verify(d, info)) {
		reason = PKT_DROP_L4_BAD_CHECKSUM;
		goto drop;
	}
	if ((accept->server != NULL && accept->server->family != ctx->src.family) ||
	    (accept->client != NULL && accept->client->family != ctx->src.family)) {
		reason = PKT_DROP_SVR_CONTEXT_MISMATCH;
		goto drop;
	}
	session_key_set(&lan_key, ctx->src.family, ctx->proto, accept->tenant_id,
	    accept->server != NULL ? accept->server->bytes : ctx->dst.bytes,
	    accept->client != NULL ? accept->client->bytes : ctx->src.bytes, ctx->dport,
	    accept->client != NULL ? accept->client_port : ctx->sport);
	if (svr_wan_rebind_find(rt, &lan_key, m, accept, &s, &index, &reason) < 0)
		goto drop;
	if (s == NULL && control) {
		reason = PKT_DROP_SVR_CONTROL_NO_SESSION;
		goto drop;
	}
	block_len = svr_meta_header_len(d + info->payload_off) +
	    svr_meta_payload_len(d + info->payload_off);
	/* A carried TCP header that cannot be restored makes no session. */
	if (!control && carried_tcp &&
	    svr_carried_tcp_len(d, (size_t)info->payload_off + block_len, info->ip_len, &reason) <
	        0)
		goto drop;
	/* The firewall: a new TCP session begins with a SYN, and half-open ones are capped. */
	if (s == NULL && !control && ctx->proto == IPPROTO_TCP) {
		uint8_t flags =
		    carried_tcp ? d[(size_t)info->payload_off + block_len + 13] : info->tcp_flags;

		if (accept->tcp_syn_required && (flags & 0x17) != 0x02) {
			reason = PKT_DROP_FW_TCP_NO_SESSION;
			goto drop;
		}
		if (accept->half_open_full) {
			reason = PKT_DROP_FW_HALF_OPEN_LIMIT;
			goto drop;
		}
	}
	if (rt->security &&
	    svr_wan_first_unprotect(rt, p, m, accept, s, block_len, carried_tcp, &prot, &reason) <
	        0)
		goto drop;
	svr_wan_key(p, rt->paths[accept->path_id].wan_zone, &wan_key);
	if (control)
		wan_key.proto = as_udp || carried_tcp ? IPPROTO_UDP : ctx->proto;
	/*
	 * A duplicated session's leg that is not the one the session's own WAN key carries:
	 * its tuple becomes (or moves) the alias's.
	 */
	if (s != NULL && tagged && leg1 != !!(s->flags & SVR_SESSION_LEG1))
		return svr_wan_first_leg(rt, p, m, accept, s, index, &wan_key, &prot, block_len,
		    now_ns);
	if (s != NULL) {
		/* Same session on a new waypoint tuple (the ingress moved it): re-bind. */
		if (session_table_rekey_wan(rt->sessions, index, &wan_key) < 0) {
			reason = PKT_DROP_SVR_SESSION_CONFLICT;
			goto drop;
		}
		s->path_id = accept->path_id;
		/* Same session, same UUID: its protection decisions stand. */
		prot_keep = s->flags & SVR_PROT_MASK & ~(3u << SVR_PROT_MODE_SHIFT);
		dup_keep = s->flags & (SVR_SESSION_DUP | SVR_SESSION_LEG1);
		moved = SVR_SESSION_MOVED;
		rt->stats.rebinds++;
	} else {
		rc = session_table_insert(rt->sessions, &lan_key, &wan_key, now_ns, &index);
		if (rc < 0) {
			reason = rc == -ENOSPC ? PKT_DROP_SESSION_TABLE_FULL :
			                         PKT_DROP_SVR_SESSION_CONFLICT;
			goto drop;
		}
		s = session_table_get(rt->sessions, index);
		s->role = SESSION_ROLE_EGRESS;
		s->tenant_id = accept->tenant_id;
		s->service_id = accept->service_id;
		s->path_id = accept->path_id;
		if (m->present & SVR_META_F_UUID)
			memcpy(s->uuid, m->uuid, sizeof(s->uuid));
		else
			svr_uuid_generate(rt, s->uuid);
		dup_keep = tagged && leg1 ? SVR_SESSION_LEG1 : 0;
		fresh = true;
	}
	s->flags = SVR_SESSION_REV_META | (as_udp || carried_tcp ? SVR_SESSION_AS_UDP : 0) |
	    (carried_tcp ? SVR_SESSION_UDP_TRANSFORM : 0) |
	    (accept->server != NULL || accept->client != NULL ? SVR_SESSION_NAT : 0) |
	    (ctx->src.family != s->wan_key.family ? SVR_SESSION_XLATE : 0) |
	    (1u << SVR_SESSION_META_RX_SHIFT) | prot_keep | moved | dup_keep |
	    ((uint32_t)(accept->encrypt & 3) << SVR_PROT_MODE_SHIFT);
	/* The ingress duplicates: the other leg is unbound until its first packet. */
	if (fresh && tagged)
		(void)svr_dup_alias_add(rt, index, SVR_PATH_NONE, !leg1, now_ns, NULL);
	if (rt->security)
		svr_rx_decision_apply(rt, s, index, &prot);
	svr_deltas_compute(s, SESSION_DIR_LAN_TO_WAN, &s->lan_key, &s->wan_key);
	svr_deltas_compute(s, SESSION_DIR_WAN_TO_LAN, &s->wan_key, &s->lan_key);
	p->user = index;
	/*
	 * Behind a NAT, the peer sees this session on a translated port it cannot guess:
	 * tell it now, before the first answer (svr_wan_rebind_ingress() at its end).
	 */
	if (!moved && rt->paths[accept->path_id].behind_nat)
		svr_control_send(rt, s, SVR_CONTROL_KEEPALIVE, true);
	if (control) {
		rt->stats.control_rx++;
		return SVR_VERDICT_CONSUMED;
	}
	rt->stats.meta_rx++;
	if (tagged && (s->flags & SVR_SESSION_DUP) &&
	    svr_dup_filter(rt, s, index, s, m->dup_seq) < 0)
		return SVR_VERDICT_CONSUMED;
	return svr_wan_restore_slow(rt, p, s, s, block_len, now_ns);
drop:
	svr_drop(rt, reason);
	return SVR_VERDICT_DROP;
}

void
svr_uuid_index_add(struct svr_router *rt, const struct session *s, uint32_t index)
{
	/* Full (more learn sessions than sessions cannot happen) or there: nothing to do. */
	if (rt->uuid_index != NULL)
		(void)hash_add(rt->uuid_index, s->uuid, index, NULL);
}

enum svr_verdict
svr_wan_rebind_ingress(struct svr_router *rt, struct pkt_buf *p, const struct svr_meta *m,
    uint16_t path_id, uint64_t now_ns)
{
	enum pkt_drop_reason reason = PKT_DROP_SVR_CONTROL_NO_SESSION;
	struct session_key wan_key;
	struct session *s;
	uint32_t index;
	if (rt->uuid_index == NULL || path_id >= rt->path_count ||
	    !(m->present & SVR_META_F_UUID) || hash_lookup(rt->uuid_index, m->uuid, &index) < 0)
		goto drop;
	s = session_table_get(rt->sessions, index);
	if (s == NULL || memcmp(s->uuid, m->uuid, sizeof(s->uuid)) != 0 ||
	    s->role != SESSION_ROLE_INGRESS || s->path_id >= rt->path_count)
		goto drop;
	/* Another peer naming our session's UUID is no re-bind: never let it take it. */
	if (!rt->paths[s->path_id].learn ||
	    rt->paths[s->path_id].peer_id != rt->paths[path_id].peer_id ||
	    s->wan_key.proto != IPPROTO_UDP) {
		reason = PKT_DROP_SVR_SESSION_CONFLICT;
		goto drop;
	}
	if (rt->security) {
		struct svr_peer_keys *k =
		    rt->peer_keys != NULL && rt->paths[path_id].peer_id < rt->peer_count ?
		    &rt->peer_keys[rt->paths[path_id].peer_id] :
		    NULL;

		if (k == NULL || !(m->present & SVR_META_F_SECURITY_ID) ||
		    svr_peer_keys_find_recv(k, m->security_id) == NULL) {
			reason = PKT_DROP_SEC_UNKNOWN_KEY_INDEX;
			goto drop;
		}
	}
	if (svr_wan_key(p, rt->paths[s->path_id].wan_zone, &wan_key) < 0)
		goto drop;
	if (memcmp(&wan_key, &s->wan_key, sizeof(wan_key)) != 0) {
		/* The local port is ours: only the peer's side of the tuple may move. */
		if (wan_key.dport != s->wan_key.dport ||
		    session_table_rekey_wan(rt->sessions, index, &wan_key) < 0) {
			reason = PKT_DROP_SVR_SESSION_CONFLICT;
			goto drop;
		}
		svr_deltas_compute(s, SESSION_DIR_LAN_TO_WAN, &s->lan_key, &s->wan_key);
		svr_deltas_compute(s, SESSION_DIR_WAN_TO_LAN, &s->wan_key, &s->lan_key);
		rt->stats.rebinds++;
		rt->stats.ingress_rebinds++;
	}
	p->user = index;
	/* An answer goes on to the LAN like any other (its block is open already). */
	if (!(m->present & SVR_META_F_CONTROL))
		return svr_wan_to_lan_slow(rt, p, s, s, index, true, rt->security, now_ns);
	/* The egress holds the session: forward metadata has done its work. */
	s->flags &= ~(uint32_t)SVR_SESSION_FWD_META;
	rt->stats.control_rx++;
	return SVR_VERDICT_CONSUMED;
drop:
	svr_drop(rt, reason);
	return SVR_VERDICT_DROP;
}

void
svr_wan_enable_meta(struct svr_router *rt, const struct pkt_buf *p, uint16_t path_id)
{
	struct session reply;

	if (path_id >= rt->path_count)
		return;
	/*
	 * No session owns the tuple: a stand-in that names the path (keys, port) and, as its
	 * WAN key, the packet's tuple, so the control goes back where the packet came from.
	 */
	memset(&reply, 0, sizeof(reply));
	reply.path_id = path_id;
	reply.role = SESSION_ROLE_EGRESS;
	if (svr_wan_key(p, rt->paths[path_id].wan_zone, &reply.wan_key) < 0)
		return;
	reply.wan_key.proto = IPPROTO_UDP;
	svr_control_send(rt, &reply, SVR_CONTROL_ENABLE_META, false);
	rt->stats.enable_meta_tx++;
}

int
svr_session_keepalive(struct svr_router *rt, uint32_t index)
{
	struct session *s = session_table_get(rt->sessions, index), *p;

	if (s == NULL)
		return -ENOENT;
	/*
	 * A duplicated session's second leg: its own tuple (and NAT mapping), with the
	 * session's metadata. The session's keep-alive goes on both legs.
	 */
	if (s->flags & SVR_SESSION_ALIAS) {
		if ((p = svr_dup_primary_of(rt, s, NULL)) == NULL || s->path_id >= rt->path_count)
			return -ENOENT;
		svr_control_send_leg(rt, p, s, SVR_CONTROL_KEEPALIVE, true);
	} else {
		svr_control_send(rt, s, SVR_CONTROL_KEEPALIVE, true);
	}
	rt->stats.keepalives_tx++;
	return 0;
}

void
svr_session_release(struct svr_router *rt, const struct session *s)
{
	/* A second leg alone: its pair goes back; the owner never saw it as a session. */
	if (s->flags & SVR_SESSION_ALIAS) {
		svr_dup_alias_release(rt, s);
		return;
	}
	if (rt->uuid_index != NULL && s->role == SESSION_ROLE_INGRESS)
		(void)hash_del(rt->uuid_index, s->uuid);
	if (s->flags & SVR_SESSION_DUP)
		svr_dup_alias_drop(rt, session_table_index(rt->sessions, s));
	if (rt->on_release != NULL)
		rt->on_release(s, rt->release_arg);
	if (s->role != SESSION_ROLE_INGRESS || s->path_id >= rt->path_count)
		return;
	/* The ingress allocated the pair; its own (even) port is where the peer sends. */
	svr_waypoint_ports_put(rt->paths[s->path_id].ports, s->wan_key.dport);
}
