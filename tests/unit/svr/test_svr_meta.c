/*
 * Unit tests of svr/svr_meta: the profile's test vectors byte for byte in both
 * directions, every rejection with its drop reason, skipping of unknown TLVs, and a
 * randomized encode/decode roundtrip (TERN_SEED reproduces a run).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "svr/svr_meta.h"
#include "test_rand.h"

#define BLOCK_CAP 70000

/* ---- helpers ---- */

/* Hex digits to bytes, ignoring spaces and newlines; fails the test on odd input. */
static size_t
hex_decode(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (const char *p = hex; *p != '\0'; p++) {
		int v = 0;

		if (*p == ' ' || *p == '\n')
			continue;
		if (*p >= '0' && *p <= '9')
			v = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			v = *p - 'a' + 10;
		else
			fail_msg("bad hex digit %c", *p);
		if (hi < 0) {
			hi = v;
			continue;
		}
		assert_true(n < cap);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	assert_int_equal(hi, -1);
	return n;
}

static void
set_v4(struct addr *a, uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3)
{
	const uint8_t b[4] = {b0, b1, b2, b3};

	addr_set_v4(a, b);
}

static struct svr_str
str_of(const char *s)
{
	return (struct svr_str){.ptr = s, .len = (uint16_t)strlen(s)};
}

static void
assert_str_equal(struct svr_str s, const char *want)
{
	assert_int_equal(s.len, strlen(want));
	assert_memory_equal(s.ptr, want, s.len);
}

/* Encodes m, checks the bytes against the hex vector, decodes them back to m. */
static void
assert_vector(const struct svr_meta *m, const char *hex)
{
	uint8_t want[BLOCK_CAP], got[BLOCK_CAP];
	size_t want_len = hex_decode(hex, want, sizeof(want)), len = 0, block_len = 0;
	enum pkt_drop_reason reason = PKT_DROP_COUNT;
	struct svr_meta back;

	assert_int_equal(svr_meta_encode(m, got, sizeof(got), &len), 0);
	assert_int_equal(len, want_len);
	assert_memory_equal(got, want, want_len);
	assert_int_equal(svr_meta_decode(want, want_len, &back, &block_len, &reason), 0);
	assert_int_equal(block_len, want_len);
	assert_true(svr_meta_equal(&back, m));
}

/* Builds cookie + fixed header + the given section bytes into out. */
static size_t
block_build(uint8_t *out, const char *header_hex, const char *payload_hex)
{
	size_t hn = hex_decode(header_hex, out + SVR_META_FIXED_LEN, BLOCK_CAP - 12);
	size_t pn = hex_decode(payload_hex, out + SVR_META_FIXED_LEN + hn, BLOCK_CAP - 12 - hn);

	memcpy(out, svr_meta_cookie, SVR_META_COOKIE_LEN);
	buf_store_be16(out + 8, (uint16_t)(0x1000 | (SVR_META_FIXED_LEN + hn)));
	buf_store_be16(out + 10, (uint16_t)pn);
	return SVR_META_FIXED_LEN + hn + pn;
}

static void
assert_rejected(const uint8_t *data, size_t len, enum pkt_drop_reason want)
{
	enum pkt_drop_reason reason = PKT_DROP_COUNT;
	struct svr_meta m;
	size_t block_len = 12345;
	uint8_t *copy = malloc(len > 0 ? len : 1);

	/* An exact-size heap copy, so ASan catches any read past len. */
	assert_non_null(copy);
	memcpy(copy, data, len);
	assert_int_equal(svr_meta_decode(copy, len, &m, &block_len, &reason), -EBADMSG);
	free(copy);
	if (reason != want)
		fail_msg("reason %s, want %s", pkt_drop_reason_name(reason),
		    pkt_drop_reason_name(want));
	assert_int_equal(block_len, 12345);
}

static void
assert_block_rejected(const char *header_hex, const char *payload_hex, enum pkt_drop_reason want)
{
	uint8_t b[BLOCK_CAP];
	size_t n = block_build(b, header_hex, payload_hex);

	assert_rejected(b, n, want);
}

static void
tv1_fields(struct svr_meta *m)
{
	static const uint8_t uuid[16] = {0x3f, 0x25, 0x04, 0xe0, 0x4f, 0x89, 0x41, 0xd3, 0x9a, 0x0c,
	    0x03, 0x05, 0xe8, 0x2c, 0x33, 0x01};

	memset(m, 0, sizeof(*m));
	m->present = SVR_META_F_SECURITY_ID | SVR_META_F_FWD_CTX | SVR_META_F_TENANT |
	    SVR_META_F_SERVICE | SVR_META_F_UUID | SVR_META_F_SOURCE_ROUTER;
	m->security_id = 1;
	set_v4(&m->fwd_ctx.src, 10, 0, 1, 10);
	set_v4(&m->fwd_ctx.dst, 10, 0, 2, 20);
	m->fwd_ctx.sport = 50000;
	m->fwd_ctx.dport = 443;
	m->fwd_ctx.proto = 6;
	m->tenant = str_of("blue");
	m->service = str_of("web");
	memcpy(m->uuid, uuid, sizeof(uuid));
	m->source_router = str_of("rtr-a");
}

static const char tv1_hex[] = "4c48dbc6ddf6670c 1014 003d 0010 0004 00000001"
                              "0002 000d 0a00010a 0a000214 c350 01bb 06"
                              "0007 0004 626c7565  000a 0003 776562"
                              "0006 0010 3f2504e04f8941d39a0c0305e82c3301  000e 0005 7274722d61";

/* ---- test vectors ---- */

static void
test_svr_meta_encode_tv1_forward(void **state)
{
	struct svr_meta m, back;
	uint8_t b[128];
	size_t n = hex_decode(tv1_hex, b, sizeof(b)), block_len;
	enum pkt_drop_reason reason;

	(void)state;
	tv1_fields(&m);
	assert_vector(&m, tv1_hex);
	/* Field by field too, so a bug shared by encoder and svr_meta_equal still shows. */
	assert_int_equal(n, 81);
	assert_int_equal(svr_meta_decode(b, n, &back, &block_len, &reason), 0);
	assert_int_equal(back.present, m.present);
	assert_int_equal(back.security_id, 1);
	assert_int_equal(back.fwd_ctx.src.family, ADDR_FAMILY_V4);
	assert_memory_equal(back.fwd_ctx.src.bytes, "\x0a\x00\x01\x0a", 4);
	assert_memory_equal(back.fwd_ctx.dst.bytes, "\x0a\x00\x02\x14", 4);
	assert_int_equal(back.fwd_ctx.sport, 50000);
	assert_int_equal(back.fwd_ctx.dport, 443);
	assert_int_equal(back.fwd_ctx.proto, 6);
	assert_str_equal(back.tenant, "blue");
	assert_str_equal(back.service, "web");
	assert_str_equal(back.source_router, "rtr-a");
	assert_memory_equal(back.uuid, m.uuid, 16);
	assert_int_equal(svr_meta_header_len(b), 20);
	assert_int_equal(svr_meta_payload_len(b), 61);
}

static void
test_svr_meta_encode_tv2_reverse(void **state)
{
	struct svr_meta m = {0};

	(void)state;
	m.present = SVR_META_F_REV_CTX | SVR_META_F_DISABLE_FWD_META;
	set_v4(&m.rev_ctx.src, 10, 0, 2, 20);
	set_v4(&m.rev_ctx.dst, 10, 0, 1, 10);
	m.rev_ctx.sport = 443;
	m.rev_ctx.dport = 50000;
	m.rev_ctx.proto = 6;
	assert_vector(&m,
	    "4c48dbc6ddf6670c 100c 0015 0004 000d 0a000214 0a00010a 01bb c350 06"
	    "0012 0000");
}

static void
test_svr_meta_encode_tv3_empty(void **state)
{
	struct svr_meta m = {0};
	uint8_t b[32];
	size_t n = hex_decode("4c48dbc6ddf6670c 100c 0000 abcdef", b, sizeof(b)), block_len;
	enum pkt_drop_reason reason;

	(void)state;
	assert_vector(&m, "4c48dbc6ddf6670c 100c 0000");
	/* With the original payload behind it, only the 12 bytes are the block. */
	memset(&m, 0xa5, sizeof(m));
	assert_int_equal(svr_meta_decode(b, n, &m, &block_len, &reason), 0);
	assert_int_equal(m.present, 0);
	assert_int_equal(block_len, 12);
}

static void
test_svr_meta_encode_tv4_path_metrics(void **state)
{
	struct svr_meta m = {0};

	(void)state;
	m.present = SVR_META_F_PATH_METRICS;
	m.path_metrics.tx_colour = 1;
	m.path_metrics.tx_time_ms = 100;
	m.path_metrics.rx_colour = 2;
	m.path_metrics.rx_time_ms = 200;
	m.path_metrics.drop = true;
	m.path_metrics.prev_colour_count = 10;
	assert_vector(&m, "4c48dbc6ddf6670c 101a 0000 001a 000a 10000064 200000c8 800a");
}

static void
test_svr_meta_encode_tv5_fragment(void **state)
{
	struct svr_meta m = {0};

	(void)state;
	m.present = SVR_META_F_FRAGMENT;
	m.fragment.ext_id = 1;
	m.fragment.orig_id = 0x1234;
	m.fragment.flags_offset = 0x2000 | 185; /* MF */
	m.fragment.largest = 1500;
	assert_vector(&m, "4c48dbc6ddf6670c 101a 0000 0001 000a 00000001 1234 20b9 05dc");
}

static void
test_svr_meta_encode_tv6_forward_v6(void **state)
{
	struct svr_meta m = {0};
	uint8_t tlv[64], got[128];
	size_t tlv_len, len;

	(void)state;
	tlv_len = hex_decode("0003 0025 20010db8000100000000000000000010 "
	                     "20010db8000200000000000000000020 c350 01bb 06",
	    tlv, sizeof(tlv));
	m.present = SVR_META_F_FWD_CTX;
	assert_int_equal(addr_parse("2001:db8:1::10", &m.fwd_ctx.src), 0);
	assert_int_equal(addr_parse("2001:db8:2::20", &m.fwd_ctx.dst), 0);
	m.fwd_ctx.sport = 50000;
	m.fwd_ctx.dport = 443;
	m.fwd_ctx.proto = 6;
	assert_int_equal(svr_meta_encode(&m, got, sizeof(got), &len), 0);
	assert_int_equal(len, 12 + tlv_len);
	assert_memory_equal(got + 12, tlv, tlv_len);
	assert_vector(&m,
	    "4c48dbc6ddf6670c 100c 0029 0003 0025 20010db8000100000000000000000010"
	    "20010db8000200000000000000000020 c350 01bb 06");
}

static void
test_svr_meta_encode_tv7_keepalive(void **state)
{
	struct svr_meta m = {0};

	(void)state;
	m.present = SVR_META_F_CONTROL;
	m.control = SVR_CONTROL_KEEPALIVE;
	assert_vector(&m, "4c48dbc6ddf6670c 1011 0000 0018 0001 01");
}

static void
test_svr_meta_decode_tv8_udp_payload(void **state)
{
	static const char block_hex[] =
	    "4c48dbc6ddf6670c 100c 0034 0002 000d 0a00010a 0a000235 9c40 0035 11"
	    "0007 0004 626c7565  000a 0003 646e73  0006 0010 3f2504e04f8941d39a0c0305e82c3301";
	struct svr_meta m;
	uint8_t b[256];
	size_t n, block_len;
	enum pkt_drop_reason reason;

	(void)state;
	tv1_fields(&m);
	m.present &= ~(SVR_META_F_SECURITY_ID | SVR_META_F_SOURCE_ROUTER);
	set_v4(&m.fwd_ctx.dst, 10, 0, 2, 53);
	m.fwd_ctx.sport = 40000;
	m.fwd_ctx.dport = 53;
	m.fwd_ctx.proto = 17;
	m.service = str_of("dns");
	assert_vector(&m, block_hex);
	/* The UDP payload of TV8: the block, then the DNS query untouched. */
	n = hex_decode(block_hex, b, sizeof(b));
	n += hex_decode("abcd0100000100000000000007 6578616d706c65 03 636f6d 00 0001 0001", b + n,
	    sizeof(b) - n);
	assert_int_equal(n, 121 - 28);
	assert_int_equal(svr_meta_decode(b, n, &m, &block_len, &reason), 0);
	assert_int_equal(block_len, 64);
}

/* ---- rejections ---- */

static void
test_svr_meta_decode_no_cookie_untouched(void **state)
{
	struct svr_meta m, before;
	uint8_t b[64];
	size_t n = hex_decode("4c48dbc6ddf6670d 100c 0000", b, sizeof(b)), block_len = 7;
	enum pkt_drop_reason reason = PKT_DROP_COUNT;

	(void)state;
	memset(&m, 0x5a, sizeof(m));
	before = m;
	assert_int_equal(svr_meta_decode(b, n, &m, &block_len, &reason), -ENOMSG);
	assert_int_equal(svr_meta_decode(svr_meta_cookie, 7, &m, &block_len, &reason), -ENOMSG);
	assert_int_equal(svr_meta_decode(NULL, 0, &m, &block_len, &reason), -ENOMSG);
	assert_memory_equal(&m, &before, sizeof(m));
	assert_int_equal(block_len, 7);
	assert_int_equal(reason, PKT_DROP_COUNT);
	assert_false(svr_meta_has_cookie(b, n));
	assert_true(svr_meta_has_cookie(svr_meta_cookie, 8));
}

static void
test_svr_meta_decode_bad_fixed_header_rejected(void **state)
{
	static const struct {
		const char *hex;
		enum pkt_drop_reason reason;
	} cases[] = {
	    {"4c48dbc6ddf6670c", PKT_DROP_META_TRUNCATED},
	    {"4c48dbc6ddf6670c 100c 00", PKT_DROP_META_TRUNCATED},
	    {"4c48dbc6ddf6670c 000c 0000", PKT_DROP_META_BAD_VERSION},
	    {"4c48dbc6ddf6670c 200c 0000", PKT_DROP_META_BAD_VERSION},
	    {"4c48dbc6ddf6670c f00c 0000", PKT_DROP_META_BAD_VERSION},
	    {"4c48dbc6ddf6670c 100b 0000", PKT_DROP_META_BAD_HEADER_LENGTH},
	    {"4c48dbc6ddf6670c 1000 0000", PKT_DROP_META_BAD_HEADER_LENGTH},
	    /* header length past the payload */
	    {"4c48dbc6ddf6670c 1014 0000 0010 0004 000000", PKT_DROP_META_TOO_LONG},
	    {"4c48dbc6ddf6670c 1fff 0000", PKT_DROP_META_TOO_LONG},
	    /* header fits, header + payload does not */
	    {"4c48dbc6ddf6670c 100c 0001", PKT_DROP_META_TOO_LONG},
	    {"4c48dbc6ddf6670c 100c ffff 0000", PKT_DROP_META_TOO_LONG},
	};
	uint8_t b[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_rejected(b, hex_decode(cases[i].hex, b, sizeof(b)), cases[i].reason);
}

static void
test_svr_meta_decode_every_truncation_rejected(void **state)
{
	uint8_t b[128];
	size_t n = hex_decode(tv1_hex, b, sizeof(b));

	(void)state;
	for (size_t len = 8; len < n; len++)
		assert_rejected(b, len,
		    len < SVR_META_FIXED_LEN ? PKT_DROP_META_TRUNCATED : PKT_DROP_META_TOO_LONG);
}

static void
test_svr_meta_decode_tlv_overrun_rejected(void **state)
{
	(void)state;
	/* A TLV header cut short, in each section. */
	assert_block_rejected("00", "", PKT_DROP_META_TLV_OVERRUN);
	assert_block_rejected("0010 00", "", PKT_DROP_META_TLV_OVERRUN);
	assert_block_rejected("", "000700", PKT_DROP_META_TLV_OVERRUN);
	/* A value longer than what is left of its section. */
	assert_block_rejected("0010 0004 000000", "", PKT_DROP_META_TLV_OVERRUN);
	assert_block_rejected("", "0007 0005 626c7565", PKT_DROP_META_TLV_OVERRUN);
	assert_block_rejected("", "0007 0004 626c7565 8000 0001", PKT_DROP_META_TLV_OVERRUN);
	/* Unknown types are skipped, yet their length must still stay inside. */
	assert_block_rejected("9999 0002 00", "", PKT_DROP_META_TLV_OVERRUN);
	/* A header TLV whose value would run on into the payload section. */
	assert_block_rejected("0010 0008 00000001", "0012 0000", PKT_DROP_META_TLV_OVERRUN);
}

/* Known TLV types with one fixed length, and their section (true = header). */
static const struct {
	uint16_t type;
	uint16_t len;
	bool header;
} fixed_tlvs[] = {
    {SVR_TLV_FRAGMENT, 10, true},
    {SVR_TLV_FWD_CTX_V4, 13, false},
    {SVR_TLV_FWD_CTX_V6, 37, false},
    {SVR_TLV_REV_CTX_V4, 13, false},
    {SVR_TLV_REV_CTX_V6, 37, false},
    {SVR_TLV_SESSION_UUID, 16, false},
    {SVR_TLV_PAYLOAD_ENCRYPTED, 0, false},
    {SVR_TLV_TCP_SYN, 0, false},
    {SVR_TLV_SECURITY_ID, 4, true},
    {SVR_TLV_DISABLE_FWD_META, 0, false},
    {SVR_TLV_ICMP_ERROR_LOC_V4, 4, true},
    {SVR_TLV_ICMP_ERROR_LOC_V6, 16, true},
    {SVR_TLV_CONTROL, 1, true},
    {SVR_TLV_PATH_METRICS, 10, true},
    {SVR_TLV_REMAINING_TIME, 4, false},
    {SVR_TLV_SESSION_HEALTH, 1, true},
};

/* A block holding one TLV of the given type and length (zero value) in one section. */
static size_t
block_one_tlv(uint8_t *b, uint16_t type, uint16_t len, bool header)
{
	size_t tlv_len = 4 + (size_t)len;

	memset(b, 0, 12 + tlv_len);
	memcpy(b, svr_meta_cookie, 8);
	buf_store_be16(b + 8, (uint16_t)(0x1000 | (12 + (header ? tlv_len : 0))));
	buf_store_be16(b + 10, (uint16_t)(header ? 0 : tlv_len));
	buf_store_be16(b + 12, type);
	buf_store_be16(b + 14, len);
	return 12 + tlv_len;
}

static void
test_svr_meta_decode_bad_tlv_length_rejected(void **state)
{
	uint8_t b[128];
	struct svr_meta m;
	size_t block_len;
	enum pkt_drop_reason reason;

	(void)state;
	for (size_t i = 0; i < sizeof(fixed_tlvs) / sizeof(fixed_tlvs[0]); i++) {
		uint16_t t = fixed_tlvs[i].type, len = fixed_tlvs[i].len;
		bool h = fixed_tlvs[i].header;

		/* The right length is accepted; a zero value is valid for all of these. */
		assert_int_equal(svr_meta_decode(b, block_one_tlv(b, t, len, h), &m, &block_len,
		                     &reason),
		    0);
		assert_rejected(b, block_one_tlv(b, t, len + 1, h), PKT_DROP_META_BAD_TLV_LENGTH);
		if (len > 0)
			assert_rejected(b, block_one_tlv(b, t, len - 1, h),
			    PKT_DROP_META_BAD_TLV_LENGTH);
	}
	/* Multicast group context: 11 with family 4 or 35 with family 6, nothing else. */
	assert_block_rejected("", "0032 000c 04 00 e0000001 0a000001 11 00",
	    PKT_DROP_META_BAD_TLV_LENGTH);
	assert_block_rejected("", "0032 000b 06 00 e0000001 0a000001 11",
	    PKT_DROP_META_BAD_TLV_LENGTH);
	assert_block_rejected("", "0032 000b 02 00 e0000001 0a000001 11",
	    PKT_DROP_META_BAD_TLV_LENGTH);
	assert_block_rejected("",
	    "0032 0023 04 00 ff020000000000000000000000000001"
	    "20010db8000000000000000000000001 11",
	    PKT_DROP_META_BAD_TLV_LENGTH);
	assert_block_rejected("", "0032 0000", PKT_DROP_META_BAD_TLV_LENGTH);
	/* Multicast egress list: the entries must fill the value exactly. */
	assert_block_rejected("", "0033 0000", PKT_DROP_META_BAD_TLV_LENGTH);
	assert_block_rejected("", "0033 0001 00", PKT_DROP_META_BAD_TLV_LENGTH);
	assert_block_rejected("", "0033 0004 0001 0261", PKT_DROP_META_BAD_TLV_LENGTH);
	assert_block_rejected("", "0033 0005 0001 0161 00", PKT_DROP_META_BAD_TLV_LENGTH);
	assert_block_rejected("", "0033 0004 0002 0161", PKT_DROP_META_BAD_TLV_LENGTH);
}

static void
test_svr_meta_decode_wrong_section_rejected(void **state)
{
	uint8_t b[128];

	(void)state;
	for (size_t i = 0; i < sizeof(fixed_tlvs) / sizeof(fixed_tlvs[0]); i++)
		assert_rejected(b,
		    block_one_tlv(b, fixed_tlvs[i].type, fixed_tlvs[i].len, !fixed_tlvs[i].header),
		    PKT_DROP_META_WRONG_SECTION);
	/* Variable-length payload TLVs in the header. */
	assert_block_rejected("0007 0004 626c7565", "", PKT_DROP_META_WRONG_SECTION);
	assert_block_rejected("000a 0000", "", PKT_DROP_META_WRONG_SECTION);
	assert_block_rejected("0033 0002 0000", "", PKT_DROP_META_WRONG_SECTION);
	assert_block_rejected("0032 000b 04 00 e0000001 0a000001 11", "",
	    PKT_DROP_META_WRONG_SECTION);
}

static void
test_svr_meta_decode_duplicate_rejected(void **state)
{
	(void)state;
	assert_block_rejected("0010 0004 00000001 0010 0004 00000002", "",
	    PKT_DROP_META_DUPLICATE_TLV);
	assert_block_rejected("", "0007 0001 61 0007 0001 62", PKT_DROP_META_DUPLICATE_TLV);
	assert_block_rejected("", "0012 0000 0012 0000", PKT_DROP_META_DUPLICATE_TLV);
	/* The v4 and v6 forms fill the same field. */
	assert_block_rejected("",
	    "0002 000d 0a00010a 0a000214 c350 01bb 06"
	    "0003 0025 20010db8000100000000000000000010 20010db8000200000000000000000020 c350 "
	    "01bb 06",
	    PKT_DROP_META_DUPLICATE_TLV);
	assert_block_rejected("0014 0004 0a000001 0015 0010 20010db8000000000000000000000001", "",
	    PKT_DROP_META_DUPLICATE_TLV);
	/* An unknown TLV between them changes nothing. */
	assert_block_rejected("",
	    "0006 0010 00000000000000000000000000000000 8001 0000"
	    "0006 0010 00000000000000000000000000000000",
	    PKT_DROP_META_DUPLICATE_TLV);
}

/*
 * TV9 (docs/protocol.md "Packet duplication"): the block of a steady-state packet of a
 * duplicated session, leg 1, sequence 0x01020304: 24 bytes, the empty block plus TLV
 * 0x8003 in the header section. Wrong lengths, legs and reserved bytes are refused.
 */
static void
test_svr_meta_dup_seq_tv9(void **state)
{
	static const char tv9[] = "4c48dbc6ddf6670c 1018 0000 8003 0008 01000000 01020304";
	uint8_t want[64], b[BLOCK_CAP];
	size_t want_len = hex_decode(tv9, want, sizeof(want)), len, block_len;
	struct svr_meta m = {0}, back;
	enum pkt_drop_reason reason;

	(void)state;
	m.present = SVR_META_F_DUP_SEQ;
	m.dup_leg = 1;
	m.dup_seq = 0x01020304;
	assert_int_equal(svr_meta_encode(&m, b, sizeof(b), &len), 0);
	assert_int_equal(len, 24);
	assert_int_equal(want_len, 24);
	assert_memory_equal(b, want, len);
	assert_int_equal(svr_meta_decode(want, want_len, &back, &block_len, &reason), 0);
	assert_true(svr_meta_equal(&back, &m));
	assert_string_equal(svr_tlv_type_name(SVR_TLV_TERN_DUP_SEQ), "tern-duplicate-sequence");
	assert_block_rejected("8003 0004 00000001", "", PKT_DROP_META_BAD_TLV_LENGTH);
	assert_block_rejected("8003 0008 02000000 00000001", "", PKT_DROP_META_BAD_TLV_LENGTH);
	assert_block_rejected("8003 0008 00010000 00000001", "", PKT_DROP_META_BAD_TLV_LENGTH);
	assert_block_rejected("", "8003 0008 00000000 00000001", PKT_DROP_META_WRONG_SECTION);
	assert_block_rejected("8003 0008 00000000 00000001 8003 0008 01000000 00000001", "",
	    PKT_DROP_META_DUPLICATE_TLV);
}

/* ---- accepted oddities ---- */

static void
test_svr_meta_decode_unknown_tlvs_skipped(void **state)
{
	uint8_t b[BLOCK_CAP];
	size_t n, block_len;
	struct svr_meta m;
	enum pkt_drop_reason reason;

	(void)state;
	n = block_build(b, "0000 0000 0010 0004 00000007 8000 0003 010203 0017 0000",
	    "0008 0002 abcd 0007 0004 626c7565 0009 0000 ffff 0005 0102030405 0034 0001 00 "
	    "8001 0000");
	assert_int_equal(svr_meta_decode(b, n, &m, &block_len, &reason), 0);
	assert_int_equal(block_len, n);
	assert_int_equal(m.present, SVR_META_F_SECURITY_ID | SVR_META_F_TENANT);
	assert_int_equal(m.security_id, 7);
	assert_str_equal(m.tenant, "blue");
	/* Only unknown TLVs: as good as an empty block. */
	n = block_build(b, "0017 0001 01", "0100 0000");
	assert_int_equal(svr_meta_decode(b, n, &m, &block_len, &reason), 0);
	assert_int_equal(m.present, 0);
}

static void
test_svr_meta_decode_empty_strings_accepted(void **state)
{
	uint8_t b[BLOCK_CAP];
	size_t n, block_len;
	struct svr_meta m;
	enum pkt_drop_reason reason;

	(void)state;
	n = block_build(b, "", "0007 0000 000a 0000 0033 0002 0000");
	assert_int_equal(svr_meta_decode(b, n, &m, &block_len, &reason), 0);
	assert_int_equal(m.present,
	    SVR_META_F_TENANT | SVR_META_F_SERVICE | SVR_META_F_MCAST_EGRESS_LIST);
	assert_int_equal(m.tenant.len, 0);
	assert_int_equal(m.service.len, 0);
	assert_int_equal(m.mcast_egress_list_len, 2);
}

/* ---- encoder ---- */

static void
all_fields(struct svr_meta *m, bool v6, uint8_t *list_buf, size_t list_cap)
{
	static const struct svr_str routers[] = {{"rtr-b", 5}, {"", 0}, {"rtr-c", 5}};
	size_t list_len;

	tv1_fields(m);
	m->present = SVR_META_F_ALL;
	m->fragment = (struct svr_fragment){0xdeadbeef, 0x4321, 0x4000 | 0x1fff, 9000};
	if (v6) {
		assert_int_equal(addr_parse("2001:db8::1", &m->icmp_error_loc), 0);
		assert_int_equal(addr_parse("2001:db8:2::20", &m->rev_ctx.src), 0);
		assert_int_equal(addr_parse("2001:db8:1::10", &m->rev_ctx.dst), 0);
		assert_int_equal(addr_parse("2001:db8:1::10", &m->mcast_group.source), 0);
		assert_int_equal(addr_parse("ff05::1:3", &m->mcast_group.group), 0);
		m->mcast_group.family = ADDR_FAMILY_V6;
	} else {
		set_v4(&m->icmp_error_loc, 192, 0, 2, 1);
		set_v4(&m->rev_ctx.src, 10, 0, 2, 20);
		set_v4(&m->rev_ctx.dst, 10, 0, 1, 10);
		set_v4(&m->mcast_group.source, 10, 0, 1, 10);
		set_v4(&m->mcast_group.group, 239, 1, 2, 3);
		m->mcast_group.family = ADDR_FAMILY_V4;
	}
	m->rev_ctx.sport = 443;
	m->rev_ctx.dport = 50000;
	m->rev_ctx.proto = 6;
	m->control = SVR_CONTROL_DELETE_SESSION;
	m->path_metrics = (struct svr_path_metrics){15, 0x0fffffff, 0, 0, false, 0x7fff};
	m->session_health = 2;
	m->dup_leg = 1;
	m->dup_seq = 0xfedcba98;
	m->security_policy = str_of("aes");
	m->dest_router = str_of("rtr-b");
	m->peer_path_id = str_of("wan1-to-wan2");
	m->application = str_of("office365");
	m->remaining_time_s = 1900;
	m->mcast_group.flags = 0x80;
	m->mcast_group.proto = 17;
	assert_int_equal(svr_meta_mcast_egress_build(routers, 3, list_buf, list_cap, &list_len), 0);
	m->mcast_egress_list = list_buf;
	m->mcast_egress_list_len = (uint16_t)list_len;
}

static void
test_svr_meta_roundtrip_all_fields(void **state)
{
	uint8_t list[64], b[BLOCK_CAP];
	struct svr_meta m, back;
	size_t len, block_len;
	enum pkt_drop_reason reason;

	(void)state;
	for (int v6 = 0; v6 <= 1; v6++) {
		all_fields(&m, v6, list, sizeof(list));
		assert_int_equal(svr_meta_encode(&m, b, sizeof(b), &len), 0);
		assert_true(len <= SVR_META_MAX_LEN);
		assert_int_equal(svr_meta_decode(b, len, &back, &block_len, &reason), 0);
		assert_int_equal(block_len, len);
		assert_true(svr_meta_equal(&back, &m));
		assert_int_equal(back.present, SVR_META_F_ALL);
		/* Header TLVs: security id, duplicate, fragment, control, metrics, ICMP, health. */
		assert_int_equal(svr_meta_header_len(b),
		    12 + 8 + 12 + 14 + 5 + 14 + (v6 ? 20 : 8) + 5);
		assert_int_equal(buf_load_be16(b + 12), SVR_TLV_SECURITY_ID);
		assert_int_equal(buf_load_be16(b + 20), SVR_TLV_TERN_DUP_SEQ);
		assert_int_equal(buf_load_be16(b + 32), SVR_TLV_FRAGMENT);
	}
}

static void
test_svr_meta_mcast_egress_next_walks_names(void **state)
{
	uint8_t list[64];
	struct svr_meta m;
	struct svr_str name;
	size_t pos = 0;

	(void)state;
	all_fields(&m, false, list, sizeof(list));
	assert_true(svr_meta_mcast_egress_next(&m, &pos, &name));
	assert_str_equal(name, "rtr-b");
	assert_true(svr_meta_mcast_egress_next(&m, &pos, &name));
	assert_int_equal(name.len, 0);
	assert_true(svr_meta_mcast_egress_next(&m, &pos, &name));
	assert_str_equal(name, "rtr-c");
	assert_false(svr_meta_mcast_egress_next(&m, &pos, &name));
	m.present &= ~SVR_META_F_MCAST_EGRESS_LIST;
	pos = 0;
	assert_false(svr_meta_mcast_egress_next(&m, &pos, &name));
}

static void
test_svr_meta_mcast_egress_build_errors(void **state)
{
	static char big[256];
	struct svr_str names[2] = {{"a", 1}, {big, 256}};
	uint8_t out[512];
	size_t len;

	(void)state;
	assert_int_equal(svr_meta_mcast_egress_build(names, 2, out, sizeof(out), &len), -EINVAL);
	names[1] = (struct svr_str){NULL, 1};
	assert_int_equal(svr_meta_mcast_egress_build(names, 2, out, sizeof(out), &len), -EINVAL);
	names[1] = (struct svr_str){big, 255};
	assert_int_equal(svr_meta_mcast_egress_build(names, 2, out, 259, &len), -ENOBUFS);
	assert_int_equal(svr_meta_mcast_egress_build(names, 2, out, 260, &len), 0);
	assert_int_equal(len, 260);
	assert_int_equal(svr_meta_mcast_egress_build(NULL, 0, out, 2, &len), 0);
	assert_int_equal(len, 2);
}

static void
test_svr_meta_encode_invalid_fields_refused(void **state)
{
	uint8_t list[64], b[BLOCK_CAP];
	struct svr_meta m;
	size_t len = 99;

	(void)state;
#define EXPECT_EINVAL(mutate)                                                                      \
	do {                                                                                       \
		all_fields(&m, false, list, sizeof(list));                                         \
		mutate;                                                                            \
		assert_int_equal(svr_meta_encode(&m, b, sizeof(b), &len), -EINVAL);                \
	} while (0)
	EXPECT_EINVAL(m.present |= 1u << 23);
	EXPECT_EINVAL(m.dup_leg = 2);
	EXPECT_EINVAL(m.present |= 1u << 31);
	EXPECT_EINVAL(m.tenant.ptr = NULL);
	EXPECT_EINVAL(m.application.ptr = NULL);
	EXPECT_EINVAL(assert_int_equal(addr_parse("::1", &m.fwd_ctx.dst), 0));
	EXPECT_EINVAL(memset(&m.rev_ctx.src, 0, sizeof(m.rev_ctx.src)));
	EXPECT_EINVAL(m.fwd_ctx.src.family = m.fwd_ctx.dst.family = 5);
	EXPECT_EINVAL(m.icmp_error_loc.family = ADDR_FAMILY_NONE);
	EXPECT_EINVAL(m.path_metrics.tx_colour = 16);
	EXPECT_EINVAL(m.path_metrics.rx_colour = 16);
	EXPECT_EINVAL(m.path_metrics.tx_time_ms = 0x10000000);
	EXPECT_EINVAL(m.path_metrics.rx_time_ms = 0x10000000);
	EXPECT_EINVAL(m.path_metrics.prev_colour_count = 0x8000);
	EXPECT_EINVAL(m.mcast_group.family = ADDR_FAMILY_V6);
	EXPECT_EINVAL(assert_int_equal(addr_parse("ff05::1", &m.mcast_group.group), 0));
	EXPECT_EINVAL(m.mcast_egress_list = NULL);
	EXPECT_EINVAL(m.mcast_egress_list_len--);
	EXPECT_EINVAL(list[1] = 9);
#undef EXPECT_EINVAL
	/* A payload section past 65535 bytes cannot be described by its length field. */
	{
		static char big[65535];

		memset(&m, 0, sizeof(m));
		m.present = SVR_META_F_TENANT | SVR_META_F_SERVICE;
		m.tenant = (struct svr_str){big, 40000};
		m.service = (struct svr_str){big, 40000};
		assert_int_equal(svr_meta_encode(&m, b, sizeof(b), &len), -ENOBUFS);
		m.service.len = 65535 - 4 - 40004;
		assert_int_equal(svr_meta_encode(&m, b, sizeof(b), &len), 0);
		assert_int_equal(len, 12 + 65535);
		m.service.len++;
		assert_int_equal(svr_meta_encode(&m, b, sizeof(b), &len), -EINVAL);
	}
	assert_int_equal(len, 12 + 65535);
}

static void
test_svr_meta_encode_short_buffer_refused(void **state)
{
	uint8_t list[64], b[BLOCK_CAP], small[SVR_META_MAX_LEN];
	struct svr_meta m;
	size_t len, n;

	(void)state;
	all_fields(&m, true, list, sizeof(list));
	assert_int_equal(svr_meta_encode(&m, b, sizeof(b), &n), 0);
	for (size_t cap = 0; cap < n; cap++) {
		len = 12345;
		assert_int_equal(svr_meta_encode(&m, small, cap, &len), -ENOBUFS);
		assert_int_equal(len, 12345);
	}
	assert_int_equal(svr_meta_encode(&m, small, n, &len), 0);
	assert_memory_equal(small, b, n);
}

static void
test_svr_meta_names_known_and_unknown(void **state)
{
	(void)state;
	assert_string_equal(svr_tlv_type_name(SVR_TLV_FWD_CTX_V4), "forward-context-v4");
	assert_string_equal(svr_tlv_type_name(SVR_TLV_MCAST_EGRESS_LIST), "multicast-egress-list");
	assert_string_equal(svr_tlv_type_name(0), "unknown");
	assert_string_equal(svr_tlv_type_name(8), "unknown");
	assert_string_equal(svr_tlv_type_name(52), "unknown");
	assert_string_equal(svr_tlv_type_name(0x8000), "unknown");
	assert_string_equal(svr_control_name(SVR_CONTROL_KEEPALIVE), "keep-alive");
	assert_string_equal(svr_control_name(SVR_CONTROL_HEALTH_STATE_EXISTS),
	    "health-state-exists");
	assert_string_equal(svr_control_name(4), "unknown");
	assert_string_equal(pkt_drop_reason_name(PKT_DROP_META_WRONG_SECTION),
	    "meta-wrong-section");
	assert_string_equal(pkt_drop_reason_name(PKT_DROP_META_DUPLICATE_TLV),
	    "meta-duplicate-tlv");
}

/* ---- randomized roundtrip ---- */

static void
rng_addr(uint64_t *rng, struct addr *a, bool v6)
{
	uint8_t bytes[16];

	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)test_rand(rng);
	if (v6)
		addr_set_v6(a, bytes);
	else
		addr_set_v4(a, bytes);
}

static void
rng_ctx(uint64_t *rng, struct svr_ctx *c)
{
	bool v6 = test_rand_below(rng, 2);

	rng_addr(rng, &c->src, v6);
	rng_addr(rng, &c->dst, v6);
	c->sport = (uint16_t)test_rand(rng);
	c->dport = (uint16_t)test_rand(rng);
	c->proto = (uint8_t)test_rand(rng);
}

static void
rng_str(uint64_t *rng, struct svr_str *s, const char *pool, size_t pool_len)
{
	/* Mostly short names, now and then a long one. */
	size_t len =
	    test_rand_below(rng, 8) == 0 ? test_rand_below(rng, 300) : test_rand_below(rng, 20);
	size_t off = test_rand_below(rng, pool_len - len);

	s->ptr = pool + off;
	s->len = (uint16_t)len;
}

static void
rng_meta(uint64_t *rng, struct svr_meta *m, const char *pool, size_t pool_len, uint8_t *list,
    size_t list_cap)
{
	struct svr_str names[8];
	uint16_t count = (uint16_t)test_rand_below(rng, 8);
	size_t list_len;

	memset(m, 0, sizeof(*m));
	m->present = (uint32_t)test_rand(rng) & SVR_META_F_ALL;
	if (test_rand_below(rng, 4) == 0)
		m->present &= (uint32_t)test_rand(rng);
	m->fragment = (struct svr_fragment){(uint32_t)test_rand(rng), (uint16_t)test_rand(rng),
	    (uint16_t)test_rand(rng), (uint16_t)test_rand(rng)};
	m->security_id = (uint32_t)test_rand(rng);
	rng_addr(rng, &m->icmp_error_loc, test_rand_below(rng, 2));
	m->control = (uint8_t)test_rand(rng);
	m->path_metrics = (struct svr_path_metrics){(uint8_t)test_rand_below(rng, 16),
	    (uint32_t)test_rand(rng) & 0x0fffffff, (uint8_t)test_rand_below(rng, 16),
	    (uint32_t)test_rand(rng) & 0x0fffffff, test_rand_below(rng, 2),
	    (uint16_t)test_rand_below(rng, 0x8000)};
	m->session_health = (uint8_t)test_rand(rng);
	rng_ctx(rng, &m->fwd_ctx);
	rng_ctx(rng, &m->rev_ctx);
	for (size_t i = 0; i < sizeof(m->uuid); i++)
		m->uuid[i] = (uint8_t)test_rand(rng);
	rng_str(rng, &m->tenant, pool, pool_len);
	rng_str(rng, &m->service, pool, pool_len);
	rng_str(rng, &m->source_router, pool, pool_len);
	rng_str(rng, &m->security_policy, pool, pool_len);
	rng_str(rng, &m->dest_router, pool, pool_len);
	rng_str(rng, &m->peer_path_id, pool, pool_len);
	rng_str(rng, &m->application, pool, pool_len);
	m->remaining_time_s = (uint32_t)test_rand(rng);
	m->mcast_group.family = test_rand_below(rng, 2) ? ADDR_FAMILY_V6 : ADDR_FAMILY_V4;
	m->mcast_group.flags = (uint8_t)test_rand(rng);
	rng_addr(rng, &m->mcast_group.source, m->mcast_group.family == ADDR_FAMILY_V6);
	rng_addr(rng, &m->mcast_group.group, m->mcast_group.family == ADDR_FAMILY_V6);
	m->mcast_group.proto = (uint8_t)test_rand(rng);
	for (uint16_t i = 0; i < count; i++) {
		rng_str(rng, &names[i], pool, pool_len);
		names[i].len = (uint16_t)(names[i].len % 256);
	}
	assert_int_equal(svr_meta_mcast_egress_build(names, count, list, list_cap, &list_len), 0);
	m->mcast_egress_list = list;
	m->mcast_egress_list_len = (uint16_t)list_len;
}

static void
test_svr_meta_roundtrip_random(void **state)
{
	static char pool[1024];
	static uint8_t list[8 * 256 + 2], b[BLOCK_CAP], b2[BLOCK_CAP];
	struct svr_meta m, back;
	size_t len, len2, block_len;
	enum pkt_drop_reason reason;
	uint64_t rng = test_seed();

	(void)state;
	for (size_t i = 0; i < sizeof(pool); i++)
		pool[i] = (char)test_rand(&rng);
	for (int iter = 0; iter < 20000; iter++) {
		rng_meta(&rng, &m, pool, sizeof(pool), list, sizeof(list));
		assert_int_equal(svr_meta_encode(&m, b, sizeof(b), &len), 0);
		/* Trailing bytes stand for the original L4 payload. */
		b[len] = 0x4c;
		assert_int_equal(svr_meta_decode(b, len + 1, &back, &block_len, &reason), 0);
		assert_int_equal(block_len, len);
		if (!svr_meta_equal(&back, &m))
			fail_msg("iteration %d: decoded fields differ (present %#x)", iter,
			    m.present);
		/* Encoding is canonical: the decoded fields give the same bytes again. */
		assert_int_equal(svr_meta_encode(&back, b2, sizeof(b2), &len2), 0);
		assert_int_equal(len2, len);
		assert_memory_equal(b2, b, len);
		/* One changed field must be seen by svr_meta_equal. */
		if (m.present & SVR_META_F_SECURITY_ID) {
			back.security_id ^= 1;
			assert_false(svr_meta_equal(&back, &m));
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_svr_meta_encode_tv1_forward),
	    cmocka_unit_test(test_svr_meta_encode_tv2_reverse),
	    cmocka_unit_test(test_svr_meta_encode_tv3_empty),
	    cmocka_unit_test(test_svr_meta_encode_tv4_path_metrics),
	    cmocka_unit_test(test_svr_meta_encode_tv5_fragment),
	    cmocka_unit_test(test_svr_meta_encode_tv6_forward_v6),
	    cmocka_unit_test(test_svr_meta_encode_tv7_keepalive),
	    cmocka_unit_test(test_svr_meta_decode_tv8_udp_payload),
	    cmocka_unit_test(test_svr_meta_decode_no_cookie_untouched),
	    cmocka_unit_test(test_svr_meta_decode_bad_fixed_header_rejected),
	    cmocka_unit_test(test_svr_meta_decode_every_truncation_rejected),
	    cmocka_unit_test(test_svr_meta_decode_tlv_overrun_rejected),
	    cmocka_unit_test(test_svr_meta_decode_bad_tlv_length_rejected),
	    cmocka_unit_test(test_svr_meta_decode_wrong_section_rejected),
	    cmocka_unit_test(test_svr_meta_decode_duplicate_rejected),
	    cmocka_unit_test(test_svr_meta_dup_seq_tv9),
	    cmocka_unit_test(test_svr_meta_decode_unknown_tlvs_skipped),
	    cmocka_unit_test(test_svr_meta_decode_empty_strings_accepted),
	    cmocka_unit_test(test_svr_meta_roundtrip_all_fields),
	    cmocka_unit_test(test_svr_meta_mcast_egress_next_walks_names),
	    cmocka_unit_test(test_svr_meta_mcast_egress_build_errors),
	    cmocka_unit_test(test_svr_meta_encode_invalid_fields_refused),
	    cmocka_unit_test(test_svr_meta_encode_short_buffer_refused),
	    cmocka_unit_test(test_svr_meta_names_known_and_unknown),
	    cmocka_unit_test(test_svr_meta_roundtrip_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
