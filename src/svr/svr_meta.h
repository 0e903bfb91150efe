/*
 * The SVR metadata block (docs/protocol.md): cookie, version, header and payload
 * lengths, header TLVs and payload TLVs, encoded and decoded with every TLV of the
 * registry.
 *
 * Decoding borrows: string values point into the decoded bytes, so a struct svr_meta
 * is valid only while those bytes are. Decoding allocates nothing. Unknown TLV types
 * are skipped; anything malformed is rejected with a drop reason.
 *
 * Threads: pure functions over caller-owned memory.
 */
#ifndef TERN_SVR_META_H
#define TERN_SVR_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/addr.h"
#include "pkt/pkt_drop.h"

#define SVR_META_COOKIE_LEN 8
#define SVR_META_FIXED_LEN  12 /* cookie + version/header length + payload length */
#define SVR_META_VERSION    1
/* Largest block Tern encodes; decoders accept whatever fits the L4 payload. */
#define SVR_META_MAX_LEN 512

extern const uint8_t svr_meta_cookie[SVR_META_COOKIE_LEN];

enum svr_tlv_type {
	SVR_TLV_FRAGMENT = 1,
	SVR_TLV_FWD_CTX_V4 = 2,
	SVR_TLV_FWD_CTX_V6 = 3,
	SVR_TLV_REV_CTX_V4 = 4,
	SVR_TLV_REV_CTX_V6 = 5,
	SVR_TLV_SESSION_UUID = 6,
	SVR_TLV_TENANT = 7,
	SVR_TLV_SERVICE = 10,
	SVR_TLV_PAYLOAD_ENCRYPTED = 11,
	SVR_TLV_TCP_SYN = 12,
	SVR_TLV_SOURCE_ROUTER = 14,
	SVR_TLV_SECURITY_POLICY = 15,
	SVR_TLV_SECURITY_ID = 16,
	SVR_TLV_DEST_ROUTER = 17,
	SVR_TLV_DISABLE_FWD_META = 18,
	SVR_TLV_PEER_PATH_ID = 19,
	SVR_TLV_ICMP_ERROR_LOC_V4 = 20,
	SVR_TLV_ICMP_ERROR_LOC_V6 = 21,
	SVR_TLV_CONTROL = 24,
	SVR_TLV_PATH_METRICS = 26,
	SVR_TLV_APPLICATION = 35,
	SVR_TLV_REMAINING_TIME = 42,
	SVR_TLV_SESSION_HEALTH = 46,
	SVR_TLV_MCAST_GROUP_CTX = 50,
	SVR_TLV_MCAST_EGRESS_LIST = 51,
	/*
	 * Tern private (docs/protocol.md "Packet duplication"), the one private TLV the codec
	 * knows, because the data path must read it from every block of a duplicated
	 * session: header section, 8 bytes: u8 leg (0 or 1), 3 zero bytes, u32 sequence.
	 */
	SVR_TLV_TERN_DUP_SEQ = 0x8003,
};

/* Values of the control TLV (24). */
enum svr_control {
	SVR_CONTROL_KEEPALIVE = 1,
	SVR_CONTROL_ENABLE_META = 2,
	SVR_CONTROL_DISABLE_META = 3,
	SVR_CONTROL_DELETE_SESSION = 6,
	SVR_CONTROL_HEALTH_STATE_EXISTS = 8,
};

/* Which fields of struct svr_meta are present: one bit per field below. */
enum svr_meta_field {
	SVR_META_F_FRAGMENT = 1u << 0,
	SVR_META_F_FWD_CTX = 1u << 1,
	SVR_META_F_REV_CTX = 1u << 2,
	SVR_META_F_UUID = 1u << 3,
	SVR_META_F_TENANT = 1u << 4,
	SVR_META_F_SERVICE = 1u << 5,
	SVR_META_F_PAYLOAD_ENCRYPTED = 1u << 6,
	SVR_META_F_TCP_SYN = 1u << 7,
	SVR_META_F_SOURCE_ROUTER = 1u << 8,
	SVR_META_F_SECURITY_POLICY = 1u << 9,
	SVR_META_F_SECURITY_ID = 1u << 10,
	SVR_META_F_DEST_ROUTER = 1u << 11,
	SVR_META_F_DISABLE_FWD_META = 1u << 12,
	SVR_META_F_PEER_PATH_ID = 1u << 13,
	SVR_META_F_ICMP_ERROR_LOC = 1u << 14,
	SVR_META_F_CONTROL = 1u << 15,
	SVR_META_F_PATH_METRICS = 1u << 16,
	SVR_META_F_APPLICATION = 1u << 17,
	SVR_META_F_REMAINING_TIME = 1u << 18,
	SVR_META_F_SESSION_HEALTH = 1u << 19,
	SVR_META_F_MCAST_GROUP_CTX = 1u << 20,
	SVR_META_F_MCAST_EGRESS_LIST = 1u << 21,
	SVR_META_F_DUP_SEQ = 1u << 22,
};

/* Every bit of enum svr_meta_field; the encoder refuses others. */
#define SVR_META_F_ALL ((1u << 23) - 1)

/* A session tuple as the context TLVs carry it; ports in host order. */
struct svr_ctx {
	struct addr src; /* family says whether the v4 or the v6 TLV is used */
	struct addr dst;
	uint16_t sport;
	uint16_t dport;
	uint8_t proto;
};

/* A borrowed string: not NUL-terminated. */
struct svr_str {
	const char *ptr;
	uint16_t len;
};

struct svr_fragment {
	uint32_t ext_id;
	uint16_t orig_id;
	uint16_t flags_offset; /* reserved, DF, MF bits + 13-bit offset in 8-byte units */
	uint16_t largest;
};

struct svr_path_metrics {
	uint8_t tx_colour;   /* 4 bits */
	uint32_t tx_time_ms; /* 28 bits */
	uint8_t rx_colour;
	uint32_t rx_time_ms;
	bool drop;
	uint16_t prev_colour_count; /* 15 bits */
};

struct svr_mcast_group_ctx {
	uint8_t family; /* ADDR_FAMILY_V4/V6; the wire carries the same 4 or 6 */
	uint8_t flags;
	struct addr source;
	struct addr group;
	uint8_t proto;
};

struct svr_meta {
	uint32_t present; /* enum svr_meta_field */
	/* header TLVs */
	struct svr_fragment fragment;
	uint32_t security_id;
	struct addr icmp_error_loc;
	uint8_t control; /* enum svr_control */
	struct svr_path_metrics path_metrics;
	uint8_t session_health; /* 1 request, 2 request after timeout */
	uint8_t dup_leg;        /* TLV 0x8003: which leg of a duplicated session (0, 1) */
	uint32_t dup_seq;       /* TLV 0x8003: the packet's sequence in its direction */
	/* payload TLVs */
	struct svr_ctx fwd_ctx;
	struct svr_ctx rev_ctx;
	uint8_t uuid[16];
	struct svr_str tenant;
	struct svr_str service;
	struct svr_str source_router;
	struct svr_str security_policy;
	struct svr_str dest_router;
	struct svr_str peer_path_id;
	struct svr_str application;
	uint32_t remaining_time_s;
	struct svr_mcast_group_ctx mcast_group;
	/* raw value (count u16, then len u8 + name entries), borrowed; see _egress_next */
	const uint8_t *mcast_egress_list;
	uint16_t mcast_egress_list_len;
};

/* True when len >= 8 and data starts with the cookie. Inline: every packet asks. */
static inline bool
svr_meta_has_cookie(const uint8_t *data, size_t len)
{
	return data != NULL && len >= SVR_META_COOKIE_LEN &&
	    memcmp(data, svr_meta_cookie, SVR_META_COOKIE_LEN) == 0;
}

/*
 * Encodes the present fields of m into out (cap bytes) in the canonical order of
 * docs/protocol.md (which reproduces its test vectors); *len receives the block length.
 * A block with no TLVs is the empty (false-positive) block.
 * -ENOBUFS if it does not fit, -EINVAL for a field that cannot be encoded (a present bit
 * outside SVR_META_F_ALL, a non-empty string with a NULL pointer, context families that
 * do not match or are not V4/V6, a 4-, 15- or 28-bit field overflow, a multicast group
 * context whose families disagree, an egress list whose entries do not fill it exactly,
 * a payload section longer than 65535). Nothing useful is in out after an error.
 */
int svr_meta_encode(const struct svr_meta *m, uint8_t *out, size_t cap, size_t *len);

/*
 * Decodes the block at the start of data (an L4 payload of len bytes). Returns:
 *   0: *m filled, *block_len = header length + payload length;
 *   -ENOMSG: no cookie, so not metadata (m untouched);
 *   -EBADMSG: malformed, *reason says why: META_TRUNCATED (cookie but no room for the
 *     fixed 12 bytes), META_BAD_VERSION, META_BAD_HEADER_LENGTH (below 12),
 *     META_TOO_LONG (header + payload length past len), META_TLV_OVERRUN (a TLV running
 *     past its section), META_BAD_TLV_LENGTH (a known TLV with a wrong length or an
 *     inconsistent inner layout), META_WRONG_SECTION, META_DUPLICATE_TLV (a field given
 *     twice, also as its v4 and v6 forms); m is then unspecified.
 * Bytes after the block (the original L4 payload) are not looked at.
 */
int svr_meta_decode(const uint8_t *data, size_t len, struct svr_meta *m, size_t *block_len,
    enum pkt_drop_reason *reason);

/*
 * Lengths of the sections of a block that svr_meta_decode accepted or svr_meta_encode
 * wrote (so at least SVR_META_FIXED_LEN bytes), for sealing the payload section: the
 * header length includes the fixed 12 bytes.
 */
size_t svr_meta_header_len(const uint8_t *block);
size_t svr_meta_payload_len(const uint8_t *block);

/*
 * True when a and b carry the same present fields with the same values (strings and the
 * egress list by content, not by pointer). Fields whose bit is clear are ignored.
 */
bool svr_meta_equal(const struct svr_meta *a, const struct svr_meta *b);

/*
 * Walks the router names of m's multicast egress list: start with *pos = 0; each call
 * gives the next name (borrowed from the list) and returns true, or false at the end.
 */
bool svr_meta_mcast_egress_next(const struct svr_meta *m, size_t *pos, struct svr_str *name);

/*
 * Builds an egress list value (count, then len u8 + name entries) from count names into
 * out, for m->mcast_egress_list. -EINVAL for a name longer than 255 or a non-empty name
 * with a NULL pointer, -ENOBUFS if it does not fit.
 */
int svr_meta_mcast_egress_build(const struct svr_str *names, uint16_t count, uint8_t *out,
    size_t cap, size_t *len);

/* Text name of a TLV type or control value, for logs and captures ("unknown" else). */
const char *svr_tlv_type_name(uint16_t type);
const char *svr_control_name(uint8_t control);

#endif
