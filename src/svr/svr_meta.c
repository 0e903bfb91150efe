/*
 * SVR metadata block encoder and decoder; the wire layout and the rules are in
 * docs/protocol.md, the contract in svr_meta.h.
 *
 * The decoder is driven by one registry table (type -> section, length, field bit) so
 * that the section, length and duplicate checks are the same for every TLV and a new
 * TLV is one table line plus its value codec.
 */
#include "svr/svr_meta.h"

#include <errno.h>
#include <string.h>

#include "lib/buf.h"

const uint8_t svr_meta_cookie[SVR_META_COOKIE_LEN] = {0x4c, 0x48, 0xdb, 0xc6, 0xdd, 0xf6, 0x67,
    0x0c};

#define SVR_TLV_HDR_LEN 4
#define SVR_CTX_V4_LEN  13
#define SVR_CTX_V6_LEN  37
/* The 12-bit header length and 16-bit payload length fields bound the sections. */
#define SVR_META_HEADER_LEN_MAX  0x0fffu
#define SVR_META_PAYLOAD_LEN_MAX 0xffffu
#define SVR_TIME_28_MAX          0x0fffffffu
#define SVR_COLOUR_MAX           0x0fu
#define SVR_PREV_COUNT_MAX       0x7fffu

enum svr_tlv_section {
	SVR_SECTION_HEADER = 1,
	SVR_SECTION_PAYLOAD = 2,
};

/* Length column of the registry for TLVs whose length is not one fixed number. */
enum {
	SVR_TLV_LEN_VAR = -1,   /* any length the section holds */
	SVR_TLV_LEN_MCAST = -2, /* 11 (IPv4) or 35 (IPv6), checked with the family byte */
};

struct svr_tlv_info {
	const char *name;
	uint32_t field; /* enum svr_meta_field; 0 marks an unknown type */
	int16_t len;    /* exact value length or SVR_TLV_LEN_* */
	uint8_t section;
};

#define SVR_TLV_TYPE_MAX SVR_TLV_MCAST_EGRESS_LIST

static const struct svr_tlv_info svr_tlv_registry[SVR_TLV_TYPE_MAX + 1] = {
    [SVR_TLV_FRAGMENT] = {"fragment", SVR_META_F_FRAGMENT, 10, SVR_SECTION_HEADER},
    [SVR_TLV_FWD_CTX_V4] = {"forward-context-v4", SVR_META_F_FWD_CTX, SVR_CTX_V4_LEN,
        SVR_SECTION_PAYLOAD},
    [SVR_TLV_FWD_CTX_V6] = {"forward-context-v6", SVR_META_F_FWD_CTX, SVR_CTX_V6_LEN,
        SVR_SECTION_PAYLOAD},
    [SVR_TLV_REV_CTX_V4] = {"reverse-context-v4", SVR_META_F_REV_CTX, SVR_CTX_V4_LEN,
        SVR_SECTION_PAYLOAD},
    [SVR_TLV_REV_CTX_V6] = {"reverse-context-v6", SVR_META_F_REV_CTX, SVR_CTX_V6_LEN,
        SVR_SECTION_PAYLOAD},
    [SVR_TLV_SESSION_UUID] = {"session-uuid", SVR_META_F_UUID, 16, SVR_SECTION_PAYLOAD},
    [SVR_TLV_TENANT] = {"tenant", SVR_META_F_TENANT, SVR_TLV_LEN_VAR, SVR_SECTION_PAYLOAD},
    [SVR_TLV_SERVICE] = {"service", SVR_META_F_SERVICE, SVR_TLV_LEN_VAR, SVR_SECTION_PAYLOAD},
    [SVR_TLV_PAYLOAD_ENCRYPTED] = {"payload-encrypted", SVR_META_F_PAYLOAD_ENCRYPTED, 0,
        SVR_SECTION_PAYLOAD},
    [SVR_TLV_TCP_SYN] = {"tcp-syn", SVR_META_F_TCP_SYN, 0, SVR_SECTION_PAYLOAD},
    [SVR_TLV_SOURCE_ROUTER] = {"source-router", SVR_META_F_SOURCE_ROUTER, SVR_TLV_LEN_VAR,
        SVR_SECTION_PAYLOAD},
    [SVR_TLV_SECURITY_POLICY] = {"security-policy", SVR_META_F_SECURITY_POLICY, SVR_TLV_LEN_VAR,
        SVR_SECTION_PAYLOAD},
    [SVR_TLV_SECURITY_ID] = {"security-id", SVR_META_F_SECURITY_ID, 4, SVR_SECTION_HEADER},
    [SVR_TLV_DEST_ROUTER] = {"destination-router", SVR_META_F_DEST_ROUTER, SVR_TLV_LEN_VAR,
        SVR_SECTION_PAYLOAD},
    [SVR_TLV_DISABLE_FWD_META] = {"disable-forward-metadata", SVR_META_F_DISABLE_FWD_META, 0,
        SVR_SECTION_PAYLOAD},
    [SVR_TLV_PEER_PATH_ID] = {"peer-path-id", SVR_META_F_PEER_PATH_ID, SVR_TLV_LEN_VAR,
        SVR_SECTION_PAYLOAD},
    [SVR_TLV_ICMP_ERROR_LOC_V4] = {"icmp-error-location-v4", SVR_META_F_ICMP_ERROR_LOC, 4,
        SVR_SECTION_HEADER},
    [SVR_TLV_ICMP_ERROR_LOC_V6] = {"icmp-error-location-v6", SVR_META_F_ICMP_ERROR_LOC, 16,
        SVR_SECTION_HEADER},
    [SVR_TLV_CONTROL] = {"control", SVR_META_F_CONTROL, 1, SVR_SECTION_HEADER},
    [SVR_TLV_PATH_METRICS] = {"path-metrics", SVR_META_F_PATH_METRICS, 10, SVR_SECTION_HEADER},
    [SVR_TLV_APPLICATION] = {"application", SVR_META_F_APPLICATION, SVR_TLV_LEN_VAR,
        SVR_SECTION_PAYLOAD},
    [SVR_TLV_REMAINING_TIME] = {"remaining-session-time", SVR_META_F_REMAINING_TIME, 4,
        SVR_SECTION_PAYLOAD},
    [SVR_TLV_SESSION_HEALTH] = {"session-health-check", SVR_META_F_SESSION_HEALTH, 1,
        SVR_SECTION_HEADER},
    [SVR_TLV_MCAST_GROUP_CTX] = {"multicast-group-context", SVR_META_F_MCAST_GROUP_CTX,
        SVR_TLV_LEN_MCAST, SVR_SECTION_PAYLOAD},
    [SVR_TLV_MCAST_EGRESS_LIST] = {"multicast-egress-list", SVR_META_F_MCAST_EGRESS_LIST,
        SVR_TLV_LEN_VAR, SVR_SECTION_PAYLOAD},
};

/* Outside the registry's index range: the private types start at 0x8000. */
static const struct svr_tlv_info svr_tlv_dup_seq_info = {"tern-duplicate-sequence",
    SVR_META_F_DUP_SEQ, 8, SVR_SECTION_HEADER};

static const struct svr_tlv_info *
svr_tlv_lookup(uint16_t type)
{
	if (type == SVR_TLV_TERN_DUP_SEQ)
		return &svr_tlv_dup_seq_info;
	if (type > SVR_TLV_TYPE_MAX || svr_tlv_registry[type].field == 0)
		return NULL;
	return &svr_tlv_registry[type];
}

size_t
svr_meta_header_len(const uint8_t *block)
{
	return buf_load_be16(block + SVR_META_COOKIE_LEN) & SVR_META_HEADER_LEN_MAX;
}

size_t
svr_meta_payload_len(const uint8_t *block)
{
	return buf_load_be16(block + SVR_META_COOKIE_LEN + 2);
}

/* ---- decoding ---- */

static void
svr_addr_read(struct buf_reader *r, struct addr *a, size_t n)
{
	const uint8_t *p = buf_read_ptr(r, n);

	if (p == NULL)
		return;
	if (n == 4)
		addr_set_v4(a, p);
	else
		addr_set_v6(a, p);
}

static void
svr_ctx_read(struct buf_reader *r, struct svr_ctx *c, size_t addr_len)
{
	svr_addr_read(r, &c->src, addr_len);
	svr_addr_read(r, &c->dst, addr_len);
	buf_read_u16(r, &c->sport);
	buf_read_u16(r, &c->dport);
	buf_read_u8(r, &c->proto);
}

static void
svr_str_read(struct buf_reader *r, struct svr_str *s)
{
	size_t n = buf_reader_remaining(r);

	s->len = (uint16_t)n;
	s->ptr = (const char *)buf_read_ptr(r, n);
}

/* The value must be: count u16, then exactly count (len u8, name) entries. */
static bool
svr_egress_list_is_valid(const uint8_t *list, size_t len)
{
	struct buf_reader r;
	uint16_t count;

	buf_reader_init(&r, list, len);
	if (buf_read_u16(&r, &count) < 0)
		return false;
	while (count-- > 0) {
		uint8_t n;

		if (buf_read_u8(&r, &n) < 0 || buf_skip(&r, n) < 0)
			return false;
	}
	return buf_reader_remaining(&r) == 0;
}

static int
svr_mcast_group_read(struct buf_reader *r, struct svr_mcast_group_ctx *g)
{
	size_t addr_len = buf_reader_remaining(r) == 11 ? 4 : 16;

	buf_read_u8(r, &g->family);
	if ((g->family != ADDR_FAMILY_V4 || addr_len != 4) &&
	    (g->family != ADDR_FAMILY_V6 || addr_len != 16))
		return -EBADMSG;
	buf_read_u8(r, &g->flags);
	svr_addr_read(r, &g->source, addr_len);
	svr_addr_read(r, &g->group, addr_len);
	buf_read_u8(r, &g->proto);
	return 0;
}

/* Decodes the value in v of a known TLV whose length already matched the registry. */
static int
svr_tlv_value_read(uint16_t type, struct buf_reader *v, struct svr_meta *m)
{
	uint32_t word;
	uint16_t half;
	uint8_t byte;

	switch ((enum svr_tlv_type)type) {
	case SVR_TLV_FRAGMENT:
		buf_read_u32(v, &m->fragment.ext_id);
		buf_read_u16(v, &m->fragment.orig_id);
		buf_read_u16(v, &m->fragment.flags_offset);
		buf_read_u16(v, &m->fragment.largest);
		break;
	case SVR_TLV_FWD_CTX_V4:
		svr_ctx_read(v, &m->fwd_ctx, 4);
		break;
	case SVR_TLV_FWD_CTX_V6:
		svr_ctx_read(v, &m->fwd_ctx, 16);
		break;
	case SVR_TLV_REV_CTX_V4:
		svr_ctx_read(v, &m->rev_ctx, 4);
		break;
	case SVR_TLV_REV_CTX_V6:
		svr_ctx_read(v, &m->rev_ctx, 16);
		break;
	case SVR_TLV_SESSION_UUID:
		buf_read_bytes(v, m->uuid, sizeof(m->uuid));
		break;
	case SVR_TLV_TENANT:
		svr_str_read(v, &m->tenant);
		break;
	case SVR_TLV_SERVICE:
		svr_str_read(v, &m->service);
		break;
	case SVR_TLV_SOURCE_ROUTER:
		svr_str_read(v, &m->source_router);
		break;
	case SVR_TLV_SECURITY_POLICY:
		svr_str_read(v, &m->security_policy);
		break;
	case SVR_TLV_DEST_ROUTER:
		svr_str_read(v, &m->dest_router);
		break;
	case SVR_TLV_PEER_PATH_ID:
		svr_str_read(v, &m->peer_path_id);
		break;
	case SVR_TLV_APPLICATION:
		svr_str_read(v, &m->application);
		break;
	case SVR_TLV_SECURITY_ID:
		buf_read_u32(v, &m->security_id);
		break;
	case SVR_TLV_ICMP_ERROR_LOC_V4:
		svr_addr_read(v, &m->icmp_error_loc, 4);
		break;
	case SVR_TLV_ICMP_ERROR_LOC_V6:
		svr_addr_read(v, &m->icmp_error_loc, 16);
		break;
	case SVR_TLV_CONTROL:
		buf_read_u8(v, &m->control);
		break;
	case SVR_TLV_PATH_METRICS:
		buf_read_u32(v, &word);
		m->path_metrics.tx_colour = (uint8_t)(word >> 28);
		m->path_metrics.tx_time_ms = word & SVR_TIME_28_MAX;
		buf_read_u32(v, &word);
		m->path_metrics.rx_colour = (uint8_t)(word >> 28);
		m->path_metrics.rx_time_ms = word & SVR_TIME_28_MAX;
		buf_read_u16(v, &half);
		m->path_metrics.drop = (half >> 15) != 0;
		m->path_metrics.prev_colour_count = half & SVR_PREV_COUNT_MAX;
		break;
	case SVR_TLV_REMAINING_TIME:
		buf_read_u32(v, &m->remaining_time_s);
		break;
	case SVR_TLV_SESSION_HEALTH:
		buf_read_u8(v, &m->session_health);
		break;
	case SVR_TLV_TERN_DUP_SEQ:
		buf_read_u8(v, &m->dup_leg);
		buf_read_u8(v, &byte);
		buf_read_u16(v, &half);
		buf_read_u32(v, &m->dup_seq);
		/* Two legs, and reserved bytes are zero: anything else is another format. */
		if (m->dup_leg > 1 || byte != 0 || half != 0)
			return -EBADMSG;
		break;
	case SVR_TLV_MCAST_GROUP_CTX:
		return svr_mcast_group_read(v, &m->mcast_group);
	case SVR_TLV_MCAST_EGRESS_LIST:
		m->mcast_egress_list_len = (uint16_t)buf_reader_remaining(v);
		m->mcast_egress_list = buf_read_ptr(v, m->mcast_egress_list_len);
		if (!svr_egress_list_is_valid(m->mcast_egress_list, m->mcast_egress_list_len))
			return -EBADMSG;
		break;
	case SVR_TLV_PAYLOAD_ENCRYPTED:
	case SVR_TLV_TCP_SYN:
	case SVR_TLV_DISABLE_FWD_META:
		break;
	}
	/* The registry fixed the length, so a short read here is a table bug. */
	return v->error ? -EBADMSG : 0;
}

static bool
svr_tlv_len_is_valid(const struct svr_tlv_info *info, size_t len)
{
	switch (info->len) {
	case SVR_TLV_LEN_VAR:
		return true;
	case SVR_TLV_LEN_MCAST:
		return len == 2 + 2 * 4 + 1 || len == 2 + 2 * 16 + 1;
	default:
		return len == (size_t)info->len;
	}
}

static int
svr_meta_section_decode(struct buf_reader *s, enum svr_tlv_section section, struct svr_meta *m,
    enum pkt_drop_reason *reason)
{
	while (buf_reader_remaining(s) > 0) {
		const struct svr_tlv_info *info;
		struct buf_reader v;
		uint16_t type, len;

		buf_read_u16(s, &type);
		buf_read_u16(s, &len);
		if (buf_read_sub(s, len, &v) < 0) {
			*reason = PKT_DROP_META_TLV_OVERRUN;
			return -EBADMSG;
		}
		info = svr_tlv_lookup(type);
		if (info == NULL)
			continue; /* unknown types, Tern's private ones included, are skipped */
		if (info->section != section) {
			*reason = PKT_DROP_META_WRONG_SECTION;
			return -EBADMSG;
		}
		if (!svr_tlv_len_is_valid(info, len)) {
			*reason = PKT_DROP_META_BAD_TLV_LENGTH;
			return -EBADMSG;
		}
		if (m->present & info->field) {
			*reason = PKT_DROP_META_DUPLICATE_TLV;
			return -EBADMSG;
		}
		m->present |= info->field;
		if (svr_tlv_value_read(type, &v, m) < 0) {
			*reason = PKT_DROP_META_BAD_TLV_LENGTH;
			return -EBADMSG;
		}
	}
	return 0;
}

int
svr_meta_decode(const uint8_t *data, size_t len, struct svr_meta *m, size_t *block_len,
    enum pkt_drop_reason *reason)
{
	struct buf_reader r, header, payload;
	uint16_t ver_hlen, plen;
	size_t hlen;
	int rc;

	if (!svr_meta_has_cookie(data, len))
		return -ENOMSG;
	memset(m, 0, sizeof(*m));
	buf_reader_init(&r, data, len);
	buf_skip(&r, SVR_META_COOKIE_LEN);
	buf_read_u16(&r, &ver_hlen);
	buf_read_u16(&r, &plen);
	if (r.error) {
		*reason = PKT_DROP_META_TRUNCATED;
		goto malformed;
	}
	if (ver_hlen >> 12 != SVR_META_VERSION) {
		*reason = PKT_DROP_META_BAD_VERSION;
		goto malformed;
	}
	hlen = ver_hlen & SVR_META_HEADER_LEN_MAX;
	if (hlen < SVR_META_FIXED_LEN) {
		*reason = PKT_DROP_META_BAD_HEADER_LENGTH;
		goto malformed;
	}
	if (hlen + plen > len) {
		*reason = PKT_DROP_META_TOO_LONG;
		goto malformed;
	}
	buf_read_sub(&r, hlen - SVR_META_FIXED_LEN, &header);
	buf_read_sub(&r, plen, &payload);
	rc = svr_meta_section_decode(&header, SVR_SECTION_HEADER, m, reason);
	if (rc < 0)
		goto malformed;
	rc = svr_meta_section_decode(&payload, SVR_SECTION_PAYLOAD, m, reason);
	if (rc < 0)
		goto malformed;
	*block_len = hlen + plen;
	return 0;
malformed:
	return -EBADMSG;
}

/* ---- encoding ---- */

static bool
svr_ctx_is_encodable(const struct svr_ctx *c)
{
	return c->src.family == c->dst.family &&
	    (c->src.family == ADDR_FAMILY_V4 || c->src.family == ADDR_FAMILY_V6);
}

static bool
svr_str_is_encodable(const struct svr_str *s)
{
	return s->len == 0 || s->ptr != NULL;
}

static bool
svr_addr_is_ip(const struct addr *a)
{
	return a->family == ADDR_FAMILY_V4 || a->family == ADDR_FAMILY_V6;
}

/* Every -EINVAL case of svr_meta_encode, checked before a byte is written. */
static int
svr_meta_validate(const struct svr_meta *m)
{
	static const uint32_t str_fields[] = {SVR_META_F_TENANT, SVR_META_F_SERVICE,
	    SVR_META_F_SOURCE_ROUTER, SVR_META_F_SECURITY_POLICY, SVR_META_F_DEST_ROUTER,
	    SVR_META_F_PEER_PATH_ID, SVR_META_F_APPLICATION};
	const struct svr_str *strs[] = {&m->tenant, &m->service, &m->source_router,
	    &m->security_policy, &m->dest_router, &m->peer_path_id, &m->application};
	const struct svr_path_metrics *pm = &m->path_metrics;
	const struct svr_mcast_group_ctx *g = &m->mcast_group;
	uint32_t p = m->present;

	if (p & ~SVR_META_F_ALL)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(str_fields) / sizeof(str_fields[0]); i++)
		if ((p & str_fields[i]) && !svr_str_is_encodable(strs[i]))
			return -EINVAL;
	if ((p & SVR_META_F_FWD_CTX) && !svr_ctx_is_encodable(&m->fwd_ctx))
		return -EINVAL;
	if ((p & SVR_META_F_REV_CTX) && !svr_ctx_is_encodable(&m->rev_ctx))
		return -EINVAL;
	if ((p & SVR_META_F_ICMP_ERROR_LOC) && !svr_addr_is_ip(&m->icmp_error_loc))
		return -EINVAL;
	if ((p & SVR_META_F_PATH_METRICS) &&
	    (pm->tx_colour > SVR_COLOUR_MAX || pm->rx_colour > SVR_COLOUR_MAX ||
	        pm->tx_time_ms > SVR_TIME_28_MAX || pm->rx_time_ms > SVR_TIME_28_MAX ||
	        pm->prev_colour_count > SVR_PREV_COUNT_MAX))
		return -EINVAL;
	if ((p & SVR_META_F_DUP_SEQ) && m->dup_leg > 1)
		return -EINVAL;
	if ((p & SVR_META_F_MCAST_GROUP_CTX) &&
	    (!svr_addr_is_ip(&g->source) || g->source.family != g->family ||
	        g->group.family != g->family))
		return -EINVAL;
	if ((p & SVR_META_F_MCAST_EGRESS_LIST) &&
	    (m->mcast_egress_list == NULL ||
	        !svr_egress_list_is_valid(m->mcast_egress_list, m->mcast_egress_list_len)))
		return -EINVAL;
	return 0;
}

static void
svr_tlv_hdr_write(struct buf_writer *w, uint16_t type, size_t len)
{
	buf_write_u16(w, type);
	buf_write_u16(w, (uint16_t)len);
}

static void
svr_addr_write(struct buf_writer *w, const struct addr *a)
{
	buf_write_bytes(w, a->bytes, a->family == ADDR_FAMILY_V4 ? 4 : 16);
}

static void
svr_ctx_write(struct buf_writer *w, uint16_t type_v4, uint16_t type_v6, const struct svr_ctx *c)
{
	bool v4 = c->src.family == ADDR_FAMILY_V4;

	svr_tlv_hdr_write(w, v4 ? type_v4 : type_v6, v4 ? SVR_CTX_V4_LEN : SVR_CTX_V6_LEN);
	svr_addr_write(w, &c->src);
	svr_addr_write(w, &c->dst);
	buf_write_u16(w, c->sport);
	buf_write_u16(w, c->dport);
	buf_write_u8(w, c->proto);
}

static void
svr_str_write(struct buf_writer *w, uint16_t type, const struct svr_str *s)
{
	svr_tlv_hdr_write(w, type, s->len);
	buf_write_bytes(w, s->ptr, s->len);
}

static void
svr_meta_header_write(struct buf_writer *w, const struct svr_meta *m)
{
	const struct svr_path_metrics *pm = &m->path_metrics;
	uint32_t p = m->present;

	/* The key index first: a receiver needs it before anything else it checks. */
	if (p & SVR_META_F_SECURITY_ID) {
		svr_tlv_hdr_write(w, SVR_TLV_SECURITY_ID, 4);
		buf_write_u32(w, m->security_id);
	}
	if (p & SVR_META_F_DUP_SEQ) {
		svr_tlv_hdr_write(w, SVR_TLV_TERN_DUP_SEQ, 8);
		buf_write_u8(w, m->dup_leg);
		buf_write_u8(w, 0);
		buf_write_u16(w, 0);
		buf_write_u32(w, m->dup_seq);
	}
	if (p & SVR_META_F_FRAGMENT) {
		svr_tlv_hdr_write(w, SVR_TLV_FRAGMENT, 10);
		buf_write_u32(w, m->fragment.ext_id);
		buf_write_u16(w, m->fragment.orig_id);
		buf_write_u16(w, m->fragment.flags_offset);
		buf_write_u16(w, m->fragment.largest);
	}
	if (p & SVR_META_F_CONTROL) {
		svr_tlv_hdr_write(w, SVR_TLV_CONTROL, 1);
		buf_write_u8(w, m->control);
	}
	if (p & SVR_META_F_PATH_METRICS) {
		svr_tlv_hdr_write(w, SVR_TLV_PATH_METRICS, 10);
		buf_write_u32(w, (uint32_t)pm->tx_colour << 28 | pm->tx_time_ms);
		buf_write_u32(w, (uint32_t)pm->rx_colour << 28 | pm->rx_time_ms);
		buf_write_u16(w, (uint16_t)((pm->drop ? 0x8000u : 0) | pm->prev_colour_count));
	}
	if (p & SVR_META_F_ICMP_ERROR_LOC) {
		bool v4 = m->icmp_error_loc.family == ADDR_FAMILY_V4;

		svr_tlv_hdr_write(w, v4 ? SVR_TLV_ICMP_ERROR_LOC_V4 : SVR_TLV_ICMP_ERROR_LOC_V6,
		    v4 ? 4 : 16);
		svr_addr_write(w, &m->icmp_error_loc);
	}
	if (p & SVR_META_F_SESSION_HEALTH) {
		svr_tlv_hdr_write(w, SVR_TLV_SESSION_HEALTH, 1);
		buf_write_u8(w, m->session_health);
	}
}

static void
svr_meta_payload_write(struct buf_writer *w, const struct svr_meta *m)
{
	const struct svr_mcast_group_ctx *g = &m->mcast_group;
	uint32_t p = m->present;

	if (p & SVR_META_F_FWD_CTX)
		svr_ctx_write(w, SVR_TLV_FWD_CTX_V4, SVR_TLV_FWD_CTX_V6, &m->fwd_ctx);
	if (p & SVR_META_F_REV_CTX)
		svr_ctx_write(w, SVR_TLV_REV_CTX_V4, SVR_TLV_REV_CTX_V6, &m->rev_ctx);
	if (p & SVR_META_F_TENANT)
		svr_str_write(w, SVR_TLV_TENANT, &m->tenant);
	if (p & SVR_META_F_SERVICE)
		svr_str_write(w, SVR_TLV_SERVICE, &m->service);
	if (p & SVR_META_F_UUID) {
		svr_tlv_hdr_write(w, SVR_TLV_SESSION_UUID, sizeof(m->uuid));
		buf_write_bytes(w, m->uuid, sizeof(m->uuid));
	}
	if (p & SVR_META_F_SOURCE_ROUTER)
		svr_str_write(w, SVR_TLV_SOURCE_ROUTER, &m->source_router);
	if (p & SVR_META_F_DEST_ROUTER)
		svr_str_write(w, SVR_TLV_DEST_ROUTER, &m->dest_router);
	if (p & SVR_META_F_SECURITY_POLICY)
		svr_str_write(w, SVR_TLV_SECURITY_POLICY, &m->security_policy);
	if (p & SVR_META_F_PEER_PATH_ID)
		svr_str_write(w, SVR_TLV_PEER_PATH_ID, &m->peer_path_id);
	if (p & SVR_META_F_APPLICATION)
		svr_str_write(w, SVR_TLV_APPLICATION, &m->application);
	if (p & SVR_META_F_REMAINING_TIME) {
		svr_tlv_hdr_write(w, SVR_TLV_REMAINING_TIME, 4);
		buf_write_u32(w, m->remaining_time_s);
	}
	if (p & SVR_META_F_PAYLOAD_ENCRYPTED)
		svr_tlv_hdr_write(w, SVR_TLV_PAYLOAD_ENCRYPTED, 0);
	if (p & SVR_META_F_TCP_SYN)
		svr_tlv_hdr_write(w, SVR_TLV_TCP_SYN, 0);
	if (p & SVR_META_F_DISABLE_FWD_META)
		svr_tlv_hdr_write(w, SVR_TLV_DISABLE_FWD_META, 0);
	if (p & SVR_META_F_MCAST_GROUP_CTX) {
		svr_tlv_hdr_write(w, SVR_TLV_MCAST_GROUP_CTX,
		    g->family == ADDR_FAMILY_V4 ? 2 + 2 * 4 + 1 : 2 + 2 * 16 + 1);
		buf_write_u8(w, g->family);
		buf_write_u8(w, g->flags);
		svr_addr_write(w, &g->source);
		svr_addr_write(w, &g->group);
		buf_write_u8(w, g->proto);
	}
	if (p & SVR_META_F_MCAST_EGRESS_LIST) {
		svr_tlv_hdr_write(w, SVR_TLV_MCAST_EGRESS_LIST, m->mcast_egress_list_len);
		buf_write_bytes(w, m->mcast_egress_list, m->mcast_egress_list_len);
	}
}

int
svr_meta_encode(const struct svr_meta *m, uint8_t *out, size_t cap, size_t *len)
{
	struct buf_writer w;
	uint8_t *lengths;
	size_t hlen, plen;
	int rc;

	rc = svr_meta_validate(m);
	if (rc < 0)
		return rc;
	buf_writer_init(&w, out, cap);
	buf_write_bytes(&w, svr_meta_cookie, SVR_META_COOKIE_LEN);
	lengths = buf_write_reserve(&w, 4);
	svr_meta_header_write(&w, m);
	hlen = w.off;
	svr_meta_payload_write(&w, m);
	plen = w.off - hlen;
	if (w.error)
		return -ENOBUFS;
	/* Header TLVs are a few fixed-size ones, far below 4095; strings can be long. */
	if (hlen > SVR_META_HEADER_LEN_MAX || plen > SVR_META_PAYLOAD_LEN_MAX)
		return -EINVAL;
	buf_store_be16(lengths, (uint16_t)(SVR_META_VERSION << 12 | hlen));
	buf_store_be16(lengths + 2, (uint16_t)plen);
	*len = w.off;
	return 0;
}

/* ---- helpers ---- */

static bool
svr_str_equal(const struct svr_str *a, const struct svr_str *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->ptr, b->ptr, a->len) == 0);
}

static bool
svr_ctx_equal(const struct svr_ctx *a, const struct svr_ctx *b)
{
	return addr_equal(&a->src, &b->src) && addr_equal(&a->dst, &b->dst) &&
	    a->sport == b->sport && a->dport == b->dport && a->proto == b->proto;
}

bool
svr_meta_equal(const struct svr_meta *a, const struct svr_meta *b)
{
	const struct svr_path_metrics *pa = &a->path_metrics, *pb = &b->path_metrics;
	const struct svr_mcast_group_ctx *ga = &a->mcast_group, *gb = &b->mcast_group;
	uint32_t p = a->present;

	if (a->present != b->present)
		return false;
	if ((p & SVR_META_F_FRAGMENT) &&
	    (a->fragment.ext_id != b->fragment.ext_id ||
	        a->fragment.orig_id != b->fragment.orig_id ||
	        a->fragment.flags_offset != b->fragment.flags_offset ||
	        a->fragment.largest != b->fragment.largest))
		return false;
	if ((p & SVR_META_F_SECURITY_ID) && a->security_id != b->security_id)
		return false;
	if ((p & SVR_META_F_ICMP_ERROR_LOC) && !addr_equal(&a->icmp_error_loc, &b->icmp_error_loc))
		return false;
	if ((p & SVR_META_F_CONTROL) && a->control != b->control)
		return false;
	if ((p & SVR_META_F_PATH_METRICS) &&
	    (pa->tx_colour != pb->tx_colour || pa->tx_time_ms != pb->tx_time_ms ||
	        pa->rx_colour != pb->rx_colour || pa->rx_time_ms != pb->rx_time_ms ||
	        pa->drop != pb->drop || pa->prev_colour_count != pb->prev_colour_count))
		return false;
	if ((p & SVR_META_F_SESSION_HEALTH) && a->session_health != b->session_health)
		return false;
	if ((p & SVR_META_F_DUP_SEQ) && (a->dup_leg != b->dup_leg || a->dup_seq != b->dup_seq))
		return false;
	if ((p & SVR_META_F_FWD_CTX) && !svr_ctx_equal(&a->fwd_ctx, &b->fwd_ctx))
		return false;
	if ((p & SVR_META_F_REV_CTX) && !svr_ctx_equal(&a->rev_ctx, &b->rev_ctx))
		return false;
	if ((p & SVR_META_F_UUID) && memcmp(a->uuid, b->uuid, sizeof(a->uuid)) != 0)
		return false;
	if (((p & SVR_META_F_TENANT) && !svr_str_equal(&a->tenant, &b->tenant)) ||
	    ((p & SVR_META_F_SERVICE) && !svr_str_equal(&a->service, &b->service)) ||
	    ((p & SVR_META_F_SOURCE_ROUTER) &&
	        !svr_str_equal(&a->source_router, &b->source_router)) ||
	    ((p & SVR_META_F_SECURITY_POLICY) &&
	        !svr_str_equal(&a->security_policy, &b->security_policy)) ||
	    ((p & SVR_META_F_DEST_ROUTER) && !svr_str_equal(&a->dest_router, &b->dest_router)) ||
	    ((p & SVR_META_F_PEER_PATH_ID) && !svr_str_equal(&a->peer_path_id, &b->peer_path_id)) ||
	    ((p & SVR_META_F_APPLICATION) && !svr_str_equal(&a->application, &b->application)))
		return false;
	if ((p & SVR_META_F_REMAINING_TIME) && a->remaining_time_s != b->remaining_time_s)
		return false;
	if ((p & SVR_META_F_MCAST_GROUP_CTX) &&
	    (ga->family != gb->family || ga->flags != gb->flags ||
	        !addr_equal(&ga->source, &gb->source) || !addr_equal(&ga->group, &gb->group) ||
	        ga->proto != gb->proto))
		return false;
	if ((p & SVR_META_F_MCAST_EGRESS_LIST) &&
	    (a->mcast_egress_list_len != b->mcast_egress_list_len ||
	        (a->mcast_egress_list_len > 0 &&
	            memcmp(a->mcast_egress_list, b->mcast_egress_list, a->mcast_egress_list_len) !=
	                0)))
		return false;
	return true;
}

bool
svr_meta_mcast_egress_next(const struct svr_meta *m, size_t *pos, struct svr_str *name)
{
	struct buf_reader r;
	uint8_t n;

	if (!(m->present & SVR_META_F_MCAST_EGRESS_LIST))
		return false;
	buf_reader_init(&r, m->mcast_egress_list, m->mcast_egress_list_len);
	/* The count is implied by the entries, which fill the value exactly. */
	if (buf_skip(&r, *pos > 2 ? *pos : 2) < 0 || buf_read_u8(&r, &n) < 0)
		return false;
	name->len = n;
	name->ptr = (const char *)buf_read_ptr(&r, n);
	if (name->ptr == NULL)
		return false;
	*pos = r.off;
	return true;
}

int
svr_meta_mcast_egress_build(const struct svr_str *names, uint16_t count, uint8_t *out, size_t cap,
    size_t *len)
{
	struct buf_writer w;

	for (uint16_t i = 0; i < count; i++)
		if (names[i].len > UINT8_MAX || !svr_str_is_encodable(&names[i]))
			return -EINVAL;
	buf_writer_init(&w, out, cap);
	buf_write_u16(&w, count);
	for (uint16_t i = 0; i < count; i++) {
		buf_write_u8(&w, (uint8_t)names[i].len);
		buf_write_bytes(&w, names[i].ptr, names[i].len);
	}
	if (w.error)
		return -ENOBUFS;
	*len = w.off;
	return 0;
}

const char *
svr_tlv_type_name(uint16_t type)
{
	const struct svr_tlv_info *info = svr_tlv_lookup(type);

	return info != NULL ? info->name : "unknown";
}

const char *
svr_control_name(uint8_t control)
{
	switch ((enum svr_control)control) {
	case SVR_CONTROL_KEEPALIVE:
		return "keep-alive";
	case SVR_CONTROL_ENABLE_META:
		return "enable-metadata";
	case SVR_CONTROL_DISABLE_META:
		return "disable-metadata";
	case SVR_CONTROL_DELETE_SESSION:
		return "delete-session";
	case SVR_CONTROL_HEALTH_STATE_EXISTS:
		return "health-state-exists";
	}
	return "unknown";
}
