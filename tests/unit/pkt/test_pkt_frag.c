/*
 * Unit tests of pkt/pkt_frag: reassembly in and out of order, every drop reason, expiry
 * and table limits, IPv6 with extension headers, and a random model that splits random
 * datagrams into random fragments, shuffles several datagrams together and checks the
 * reassembled bytes against the originals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pkt/pkt_csum.h"
#include "pkt/pkt_frag.h"
#include "pkt/pkt_parse.h"
#include "pkt_test_build.h"
#include "test_rand.h"

#define SEC 1000000000ull

/* A datagram to fragment: its bytes and where its fragmentable part starts. */
struct dgram {
	uint8_t bytes[PKT_BUF_DATA_MAX];
	size_t len;
	bool v6;
	size_t unfrag_len; /* IPv4 header, or IPv6 header plus unfragmentable ext headers */
	size_t nh_field;   /* IPv6: the next-header field that will name the fragment header */
	uint32_t id;
};

static struct pkt_pool *pool;

static int
setup(void **state)
{
	(void)state;
	pool = pkt_pool_new(256);
	return pool == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	/* Every test must have given every buffer back: no leak on any path. */
	assert_int_equal(pkt_pool_available(pool), pkt_pool_capacity(pool));
	pkt_pool_free(pool);
	return 0;
}

/* An IPv4 UDP datagram with payload bytes and a right checksum. */
static void
dgram_v4_udp(struct dgram *d, size_t payload, uint16_t id)
{
	uint8_t l4[8];
	struct pkt_info info;
	enum pkt_drop_reason reason;

	memset(d, 0, sizeof(*d));
	d->len = tb_v4_packet(d->bytes, TB_PROTO_UDP, l4, tb_udp(l4, 4000, 53, payload), payload,
	    NULL, 0);
	tb_be16(d->bytes + 4, id);
	tb_be16(d->bytes + 10, 0);
	tb_be16(d->bytes + 10, tb_csum(d->bytes, 20));
	assert_int_equal(pkt_parse_bytes(d->bytes, d->len, &info, &reason), 0);
	pkt_csum_fill(d->bytes, &info);
	d->unfrag_len = 20;
	d->id = id;
}

/* An IPv6 UDP datagram after a hop-by-hop header (so the fragment header goes second). */
static void
dgram_v6_udp(struct dgram *d, size_t payload, uint32_t id, bool hop)
{
	uint8_t l4[8], ext[8];
	struct pkt_info info;
	enum pkt_drop_reason reason;

	memset(d, 0, sizeof(*d));
	tb_ext_opts(ext, TB_PROTO_UDP, 0);
	d->len = tb_v6_packet(d->bytes, hop ? TB_PROTO_HOPOPTS : TB_PROTO_UDP, ext, hop ? 8 : 0, l4,
	    tb_udp(l4, 4000, 53, payload), payload);
	assert_int_equal(pkt_parse_bytes(d->bytes, d->len, &info, &reason), 0);
	pkt_csum_fill(d->bytes, &info);
	d->v6 = true;
	d->unfrag_len = hop ? 48 : 40;
	d->nh_field = hop ? 40 : 6;
	d->id = id;
}

/* The fragment of d carrying fragmentable bytes [off, off + len), parsed, in a buffer. */
static struct pkt_buf *
frag_of(const struct dgram *d, size_t off, size_t len, bool more)
{
	struct pkt_buf *p = pkt_pool_get(pool);
	enum pkt_drop_reason reason;
	uint8_t *b;
	size_t u = d->unfrag_len;

	assert_non_null(p);
	b = pkt_buf_data(p);
	memcpy(b, d->bytes, u);
	if (d->v6) {
		b[d->nh_field] = TB_PROTO_FRAGMENT;
		tb_ext_frag(b + u, d->bytes[d->nh_field], (uint16_t)off, more, d->id);
		memcpy(b + u + 8, d->bytes + u + off, len);
		tb_be16(b + 4, (uint16_t)(u + 8 + len - 40));
		p->len = (uint16_t)(u + 8 + len);
	} else {
		uint16_t df = tb_get16(d->bytes + 6) & 0x4000;

		memcpy(b + u, d->bytes + u + off, len);
		tb_be16(b + 2, (uint16_t)(u + len));
		tb_be16(b + 6, (uint16_t)(df | (more ? 0x2000 : 0) | (off / 8)));
		tb_be16(b + 10, 0);
		tb_be16(b + 10, tb_csum(b, u));
		p->len = (uint16_t)(u + len);
	}
	if (pkt_parse(p, &reason) != 0)
		fail_msg("fragment does not parse: %s", pkt_drop_reason_name(reason));
	return p;
}

static struct pkt_frag_table *
table_new(uint32_t max_datagrams, uint16_t max_fragments, uint16_t max_len)
{
	struct pkt_frag_config cfg;
	struct pkt_frag_table *t;

	pkt_frag_config_default(&cfg);
	if (max_datagrams != 0)
		cfg.max_datagrams = max_datagrams;
	if (max_fragments != 0)
		cfg.max_fragments = max_fragments;
	if (max_len != 0)
		cfg.max_datagram_len = max_len;
	t = pkt_frag_table_new(&cfg, pool);
	assert_non_null(t);
	return t;
}

/* Feeds a fragment that must be held. */
static void
feed_held(struct pkt_frag_table *t, struct pkt_buf *f, uint64_t now)
{
	struct pkt_buf *out = NULL;
	enum pkt_drop_reason reason = PKT_DROP_COUNT;
	int err = pkt_frag_input(t, f, now, &out, &reason);

	if (err != 0)
		fail_msg("fragment dropped: %s", pkt_drop_reason_name(reason));
	assert_null(out);
}

/* Feeds a fragment that must be dropped under name; returns the error. */
static int
feed_drop(struct pkt_frag_table *t, struct pkt_buf *f, uint64_t now, const char *name)
{
	struct pkt_buf *out = NULL;
	enum pkt_drop_reason reason = PKT_DROP_COUNT;
	int err = pkt_frag_input(t, f, now, &out, &reason);

	assert_true(err < 0);
	assert_null(out);
	assert_string_equal(pkt_drop_reason_name(reason), name);
	return err;
}

/* Feeds the fragment that completes d and checks the result against the original. */
static void
feed_complete(struct pkt_frag_table *t, struct pkt_buf *f, uint64_t now, const struct dgram *d)
{
	struct pkt_buf *out = NULL;
	enum pkt_drop_reason reason = PKT_DROP_COUNT;
	int err = pkt_frag_input(t, f, now, &out, &reason);

	if (err != 0)
		fail_msg("completing fragment dropped: %s", pkt_drop_reason_name(reason));
	assert_non_null(out);
	assert_int_equal(out->len, d->len);
	assert_memory_equal(pkt_buf_data(out), d->bytes, d->len);
	assert_int_equal(out->info.ip_len, d->len);
	assert_false(out->info.flags & PKT_INFO_FRAGMENT);
	assert_true(out->info.flags & PKT_INFO_HAS_L4);
	assert_true(pkt_csum_verify(pkt_buf_data(out), &out->info));
	/* Enough headroom is left for the SVR metadata insert. */
	assert_true(pkt_buf_headroom(out) >= PKT_BUF_HEADROOM - 64);
	pkt_pool_put(pool, out);
}

static struct dgram d1, d2;

static void
test_pkt_frag_config_bad_rejected(void **state)
{
	struct pkt_frag_config cfg;

	(void)state;
	pkt_frag_config_default(&cfg);
	assert_int_equal(cfg.max_datagrams, 1024);
	assert_int_equal(cfg.max_fragments, 64);
	assert_int_equal(cfg.max_datagram_len, PKT_BUF_DATA_MAX);
	assert_int_equal(cfg.timeout_ns, 5 * SEC);
	cfg.max_datagrams = 0;
	assert_null(pkt_frag_table_new(&cfg, pool));
	pkt_frag_config_default(&cfg);
	cfg.max_datagram_len = PKT_BUF_DATA_MAX + 1;
	assert_null(pkt_frag_table_new(&cfg, pool));
	pkt_frag_config_default(&cfg);
	cfg.max_fragments = 0;
	assert_null(pkt_frag_table_new(&cfg, pool));
	pkt_frag_config_default(&cfg);
	assert_null(pkt_frag_table_new(&cfg, NULL));
	pkt_frag_table_free(NULL);
}

static void
test_pkt_frag_input_not_fragment_passes(void **state)
{
	struct pkt_frag_table *t = table_new(0, 0, 0);
	struct pkt_buf *p = pkt_pool_get(pool), *out = NULL;
	enum pkt_drop_reason reason;

	(void)state;
	dgram_v4_udp(&d1, 100, 1);
	assert_int_equal(pkt_buf_set(p, d1.bytes, d1.len), 0);
	assert_int_equal(pkt_parse(p, &reason), 0);
	assert_int_equal(pkt_frag_input(t, p, 0, &out, &reason), 0);
	assert_ptr_equal(out, p);
	assert_int_equal(pkt_frag_table_count(t), 0);
	pkt_pool_put(pool, p);
	pkt_frag_table_free(t);
}

static void
test_pkt_frag_input_ipv4_in_order(void **state)
{
	struct pkt_frag_table *t = table_new(0, 0, 0);

	(void)state;
	dgram_v4_udp(&d1, 3000, 77);
	feed_held(t, frag_of(&d1, 0, 1480, true), 1);
	assert_int_equal(pkt_frag_table_count(t), 1);
	feed_held(t, frag_of(&d1, 1480, 1480, true), 2);
	feed_complete(t, frag_of(&d1, 2960, d1.len - 20 - 2960, false), 3, &d1);
	assert_int_equal(pkt_frag_table_count(t), 0);
	pkt_frag_table_free(t);
}

static void
test_pkt_frag_input_ipv4_out_of_order(void **state)
{
	struct pkt_frag_table *t = table_new(0, 0, 0);
	size_t last;

	(void)state;
	dgram_v4_udp(&d1, 1000, 78);
	last = d1.len - 20;
	feed_held(t, frag_of(&d1, 800, last - 800, false), 1);
	feed_held(t, frag_of(&d1, 400, 400, true), 2);
	feed_complete(t, frag_of(&d1, 0, 400, true), 3, &d1);
	/* The same again, first fragment in the middle. */
	feed_held(t, frag_of(&d1, 400, 400, true), 4);
	feed_held(t, frag_of(&d1, 0, 400, true), 5);
	feed_complete(t, frag_of(&d1, 800, last - 800, false), 6, &d1);
	pkt_frag_table_free(t);
}

/* The first fragment to arrive may sit at any headroom; it is adopted all the same. */
static void
test_pkt_frag_input_odd_headroom(void **state)
{
	struct pkt_frag_table *t = table_new(0, 0, 0);
	struct pkt_buf *f;

	(void)state;
	dgram_v4_udp(&d1, 600, 79);
	f = frag_of(&d1, 304, d1.len - 20 - 304, false);
	f->head = 10;
	memmove(pkt_buf_data(f), f->buf + PKT_BUF_HEADROOM, f->len);
	feed_held(t, f, 1);
	feed_complete(t, frag_of(&d1, 0, 304, true), 2, &d1);
	pkt_frag_table_free(t);
}

static void
test_pkt_frag_input_duplicate_overlap(void **state)
{
	struct pkt_frag_table *t = table_new(0, 0, 0);

	(void)state;
	dgram_v4_udp(&d1, 2000, 80);
	feed_held(t, frag_of(&d1, 0, 800, true), 1);
	feed_held(t, frag_of(&d1, 800, 800, true), 2);
	assert_int_equal(feed_drop(t, frag_of(&d1, 800, 800, true), 3, "frag-overlap"), -EBADMSG);
	/* The whole datagram went, not only the duplicate. */
	assert_int_equal(pkt_frag_table_count(t), 0);

	/* Partial overlap: 8 bytes of the second fragment repeat the first. */
	feed_held(t, frag_of(&d1, 0, 800, true), 4);
	feed_drop(t, frag_of(&d1, 792, 800, true), 5, "frag-overlap");
	assert_int_equal(pkt_frag_table_count(t), 0);

	/* Two last fragments that disagree on the end. */
	feed_held(t, frag_of(&d1, 1600, d1.len - 20 - 1600, false), 6);
	feed_drop(t, frag_of(&d1, 800, 16, false), 7, "frag-overlap");
	assert_int_equal(pkt_frag_table_count(t), 0);

	/* Data past the end the last fragment set. */
	feed_held(t, frag_of(&d1, 800, 8, false), 8);
	feed_drop(t, frag_of(&d1, 808, 800, true), 9, "frag-overlap");
	assert_int_equal(pkt_frag_table_count(t), 0);

	/* A last fragment ending before data already received. */
	feed_held(t, frag_of(&d1, 800, 800, true), 10);
	feed_drop(t, frag_of(&d1, 400, 8, false), 11, "frag-overlap");
	assert_int_equal(pkt_frag_table_count(t), 0);
	pkt_frag_table_free(t);
}

static void
test_pkt_frag_input_too_big(void **state)
{
	struct pkt_frag_table *t = table_new(0, 0, 1500);

	(void)state;
	dgram_v4_udp(&d1, 2000, 81);
	/* Alone: only this fragment goes. */
	feed_drop(t, frag_of(&d1, 1480, 400, true), 1, "frag-too-big");
	assert_int_equal(pkt_frag_table_count(t), 0);
	/* With a datagram in progress, the datagram goes too. */
	feed_held(t, frag_of(&d1, 0, 800, true), 2);
	feed_drop(t, frag_of(&d1, 1400, 200, false), 3, "frag-too-big");
	assert_int_equal(pkt_frag_table_count(t), 0);
	/* The largest allowed still reassembles: 20 + 1480 = 1500. */
	dgram_v4_udp(&d1, 1480 - 8, 82);
	feed_held(t, frag_of(&d1, 0, 800, true), 4);
	feed_complete(t, frag_of(&d1, 800, 680, false), 5, &d1);
	pkt_frag_table_free(t);
}

static void
test_pkt_frag_input_bad_offset(void **state)
{
	struct pkt_frag_table *t = table_new(0, 0, 0);

	(void)state;
	dgram_v4_udp(&d1, 1000, 83);
	feed_held(t, frag_of(&d1, 0, 400, true), 1);
	/* A non-last fragment of 401 bytes: the next offset could not be expressed. */
	feed_drop(t, frag_of(&d1, 400, 401, true), 2, "frag-bad-offset");
	/* Only that fragment was dropped; the datagram still completes. */
	assert_int_equal(pkt_frag_table_count(t), 1);
	feed_held(t, frag_of(&d1, 400, 400, true), 3);
	feed_complete(t, frag_of(&d1, 800, d1.len - 20 - 800, false), 4, &d1);
	pkt_frag_table_free(t);
}

static void
test_pkt_frag_input_too_many(void **state)
{
	struct pkt_frag_table *t = table_new(0, 4, 0);

	(void)state;
	dgram_v4_udp(&d1, 1000, 84);
	for (size_t i = 0; i < 4; i++)
		feed_held(t, frag_of(&d1, i * 16, 16, true), i);
	feed_drop(t, frag_of(&d1, 64, 16, true), 5, "frag-too-many");
	assert_int_equal(pkt_frag_table_count(t), 0);
	pkt_frag_table_free(t);
}

static void
test_pkt_frag_expire_timeout(void **state)
{
	struct pkt_frag_table *t = table_new(0, 0, 0);

	(void)state;
	dgram_v4_udp(&d1, 1000, 85);
	dgram_v4_udp(&d2, 1000, 86);
	feed_held(t, frag_of(&d1, 0, 400, true), 1 * SEC);
	feed_held(t, frag_of(&d2, 0, 400, true), 2 * SEC);
	assert_int_equal(pkt_frag_expire(t, 6 * SEC - 1), 0);
	assert_int_equal(pkt_frag_table_count(t), 2);
	assert_int_equal(pkt_frag_expire(t, 6 * SEC), 1);
	assert_int_equal(pkt_frag_table_count(t), 1);
	/* A late fragment of the expired datagram starts over rather than completing it. */
	feed_held(t, frag_of(&d1, 400, d1.len - 20 - 400, false), 6 * SEC);
	assert_int_equal(pkt_frag_table_count(t), 2);
	/* Expiry found by pkt_frag_input is reported by the next pkt_frag_expire. */
	feed_held(t, frag_of(&d2, 400, 400, true), 7 * SEC);
	assert_int_equal(pkt_frag_table_count(t), 2);
	assert_int_equal(pkt_frag_expire(t, 7 * SEC), 1);
	assert_int_equal(pkt_frag_expire(t, 7 * SEC), 0);
	assert_int_equal(pkt_frag_expire(t, 100 * SEC), 2);
	assert_int_equal(pkt_frag_table_count(t), 0);
	pkt_frag_table_free(t);
}

static void
test_pkt_frag_input_table_full(void **state)
{
	struct pkt_frag_table *t = table_new(2, 0, 0);

	(void)state;
	dgram_v4_udp(&d1, 1000, 87);
	feed_held(t, frag_of(&d1, 0, 400, true), 1);
	d1.id = 88;
	tb_be16(d1.bytes + 4, 88);
	feed_held(t, frag_of(&d1, 0, 400, true), 2);
	d1.id = 89;
	tb_be16(d1.bytes + 4, 89);
	assert_int_equal(feed_drop(t, frag_of(&d1, 0, 400, true), 3, "frag-table-full"), -ENOSPC);
	assert_int_equal(pkt_frag_table_count(t), 2);
	/* Once the oldest is past its timeout, a new datagram takes its place. */
	feed_held(t, frag_of(&d1, 0, 400, true), 2 + 5 * SEC);
	assert_int_equal(pkt_frag_table_count(t), 1);
	assert_int_equal(pkt_frag_expire(t, 2 + 5 * SEC), 2);
	/* Same id, another protocol: another datagram. */
	d1.bytes[9] = TB_PROTO_ESP;
	feed_held(t, frag_of(&d1, 0, 400, true), 3 + 5 * SEC);
	assert_int_equal(pkt_frag_table_count(t), 2);
	pkt_frag_table_free(t);
}

static void
test_pkt_frag_input_ipv6_ext(void **state)
{
	struct pkt_frag_table *t = table_new(0, 0, 0);

	(void)state;
	/* Behind a hop-by-hop header; out of order. */
	dgram_v6_udp(&d1, 3000, 0xdeadbeef, true);
	feed_held(t, frag_of(&d1, 2400, d1.len - 48 - 2400, false), 1);
	feed_held(t, frag_of(&d1, 0, 1200, true), 2);
	feed_complete(t, frag_of(&d1, 1200, 1200, true), 3, &d1);
	/* Directly after the IPv6 header; in order. */
	dgram_v6_udp(&d2, 100, 7, false);
	feed_held(t, frag_of(&d2, 0, 56, true), 4);
	feed_complete(t, frag_of(&d2, 56, d2.len - 40 - 56, false), 5, &d2);
	/* Overlap drops the whole datagram (RFC 5722). */
	feed_held(t, frag_of(&d1, 0, 1200, true), 6);
	feed_drop(t, frag_of(&d1, 1192, 8, true), 7, "frag-overlap");
	assert_int_equal(pkt_frag_table_count(t), 0);
	pkt_frag_table_free(t);
}

/* A reassembled datagram is parsed again; one that does not parse is dropped whole. */
static void
test_pkt_frag_input_reassembled_bad(void **state)
{
	struct pkt_frag_table *t = table_new(0, 0, 0);
	struct pkt_buf *out = NULL;
	enum pkt_drop_reason reason;

	(void)state;
	dgram_v4_udp(&d1, 1000, 90);
	tb_be16(d1.bytes + 24, 999); /* UDP length disagrees with the datagram */
	feed_held(t, frag_of(&d1, 0, 504, true), 1);
	assert_int_equal(pkt_frag_input(t, frag_of(&d1, 504, d1.len - 20 - 504, false), 2, &out,
	                     &reason),
	    -EBADMSG);
	assert_null(out);
	assert_string_equal(pkt_drop_reason_name(reason), "udp-bad-length");
	assert_int_equal(pkt_frag_table_count(t), 0);
	pkt_frag_table_free(t);
}

/* Freeing a table with datagrams in progress gives their buffers back. */
static void
test_pkt_frag_table_free_returns_buffers(void **state)
{
	struct pkt_frag_table *t = table_new(0, 0, 0);

	(void)state;
	for (uint16_t id = 0; id < 50; id++) {
		dgram_v4_udp(&d1, 100, id);
		feed_held(t, frag_of(&d1, 0, 16, true), id);
	}
	assert_int_equal(pkt_frag_table_count(t), 50);
	assert_int_equal(pkt_pool_available(pool), pkt_pool_capacity(pool) - 50);
	pkt_frag_table_free(t);
}

/* One random datagram: v4 or v6, random L4, random length, random fragment sizes. */
static void
random_dgram(struct dgram *d, uint64_t *rng, uint32_t id)
{
	uint8_t l4[20], ext[32];
	size_t payload = 16 + test_rand_below(rng, test_rand_below(rng, 4) ? 3000 : 9000);
	size_t e = 0, ue = 0;
	struct pkt_info info;
	enum pkt_drop_reason reason;
	int kind = (int)test_rand_below(rng, 3);
	size_t l4_len;
	uint8_t proto;

	memset(d, 0, sizeof(*d));
	d->v6 = test_rand_below(rng, 2) == 0;
	d->id = d->v6 ? id : (uint16_t)id;
	if (kind == 0) {
		proto = TB_PROTO_TCP;
		l4_len = tb_tcp(l4, (uint16_t)test_rand(rng), 443, 0x18, NULL, 0);
	} else if (kind == 1) {
		proto = TB_PROTO_UDP;
		l4_len = tb_udp(l4, (uint16_t)test_rand(rng), 53, payload);
	} else {
		proto = d->v6 ? TB_PROTO_ICMPV6 : TB_PROTO_ICMP;
		l4_len = tb_icmp(l4, d->v6 ? 128 : 8, 0, (uint16_t)test_rand(rng), 1);
	}
	if (d->v6) {
		size_t max = 40 + 32 + l4_len + payload;

		/* Unfragmentable: nothing, hop-by-hop, or hop-by-hop + routing. */
		int unfrag = (int)test_rand_below(rng, 3);
		bool dst = test_rand_below(rng, 2) == 0; /* a fragmentable dest-options header */
		uint8_t first = unfrag ? TB_PROTO_HOPOPTS : dst ? TB_PROTO_DSTOPTS : proto;

		if (max > PKT_BUF_DATA_MAX - 8)
			payload -= max - (PKT_BUF_DATA_MAX - 8);
		if (proto == TB_PROTO_UDP)
			tb_udp(l4, tb_get16(l4), 53, payload);
		d->nh_field = 6;
		if (unfrag >= 1) {
			d->nh_field = 40 + e;
			e += tb_ext_opts(ext + e,
			    unfrag == 2 ? TB_PROTO_ROUTING :
			        dst     ? TB_PROTO_DSTOPTS :
			                  proto,
			    0);
		}
		if (unfrag == 2) {
			d->nh_field = 40 + e;
			e += tb_ext_opts(ext + e, dst ? TB_PROTO_DSTOPTS : proto, 1);
		}
		ue = e;
		if (dst)
			e += tb_ext_opts(ext + e, proto, 0);
		d->len = tb_v6_packet(d->bytes, first, ext, e, l4, l4_len, payload);
		d->unfrag_len = 40 + ue;
	} else {
		static const uint8_t opt[4] = {1, 1, 1, 1};
		size_t opt_len = test_rand_below(rng, 4) == 0 ? 4 : 0;

		if (20 + opt_len + l4_len + payload > PKT_BUF_DATA_MAX)
			payload = PKT_BUF_DATA_MAX - 20 - opt_len - l4_len;
		if (proto == TB_PROTO_UDP)
			tb_udp(l4, tb_get16(l4), 53, payload);
		d->len = tb_v4_packet(d->bytes, proto, l4, l4_len, payload, opt, opt_len);
		tb_be16(d->bytes + 4, (uint16_t)id);
		if (test_rand_below(rng, 2))
			tb_be16(d->bytes + 6, 0); /* DF clear */
		tb_be16(d->bytes + 10, 0);
		tb_be16(d->bytes + 10, tb_csum(d->bytes, 20 + opt_len));
		d->unfrag_len = 20 + opt_len;
	}
	for (size_t i = d->len - payload; i < d->len; i++)
		d->bytes[i] = (uint8_t)test_rand(rng);
	assert_int_equal(pkt_parse_bytes(d->bytes, d->len, &info, &reason), 0);
	pkt_csum_fill(d->bytes, &info);
}

struct piece {
	uint16_t dgram;
	uint16_t off;
	uint16_t len;
	bool more;
};

static void
test_pkt_frag_input_random_model(void **state)
{
	static struct dgram ds[8];
	static struct piece pieces[8 * 64 + 1];
	uint64_t rng = test_seed();
	struct pkt_frag_table *t = table_new(0, 0, 0);
	uint64_t now = 0;
	unsigned completed = 0, overlaps = 0;

	(void)state;
	for (int round = 0; round < 5000; round++) {
		size_t nd = 1 + test_rand_below(&rng, 8), np = 0;
		bool done[8] = {false}, dropped = false;
		int dup = -1;

		for (size_t i = 0; i < nd; i++) {
			struct dgram *d = &ds[i];
			size_t flen, off = 0, unit;

			random_dgram(d, &rng, (uint32_t)(round * 8 + i));
			flen = d->len - d->unfrag_len;
			/* At least 2 and at most 40 fragments, in 8-byte multiples. */
			unit = (flen / 40 + 7) / 8 * 8;
			if (unit == 0)
				unit = 8;
			do {
				size_t n = unit * (1 + test_rand_below(&rng, 8));

				if (off == 0 && n >= flen)
					n = (flen - 1) / 8 * 8;
				if (n >= flen - off)
					n = flen - off;
				pieces[np++] = (struct piece){(uint16_t)i, (uint16_t)off,
				    (uint16_t)n, off + n < flen};
				off += n;
			} while (off < flen);
		}
		/* Sometimes send one fragment twice. */
		if (test_rand_below(&rng, 5) == 0) {
			size_t k = test_rand_below(&rng, np);

			dup = pieces[k].dgram;
			pieces[np++] = pieces[k];
		}
		for (size_t i = np - 1; i > 0; i--) {
			size_t j = test_rand_below(&rng, i + 1);
			struct piece tmp = pieces[i];

			pieces[i] = pieces[j];
			pieces[j] = tmp;
		}
		for (size_t i = 0; i < np; i++) {
			const struct piece *pc = &pieces[i];
			const struct dgram *d = &ds[pc->dgram];
			struct pkt_buf *out = NULL;
			enum pkt_drop_reason reason = PKT_DROP_COUNT;
			int err;

			err = pkt_frag_input(t, frag_of(d, pc->off, pc->len, pc->more), ++now, &out,
			    &reason);
			if (err != 0) {
				/*
				 * Only the duplicate, before its datagram completed, may drop; the
				 * rest of that datagram then never completes.
				 */
				assert_int_equal(pc->dgram, dup);
				assert_string_equal(pkt_drop_reason_name(reason), "frag-overlap");
				assert_false(done[pc->dgram]);
				assert_false(dropped);
				dropped = true;
				overlaps++;
				continue;
			}
			if (out == NULL)
				continue;
			assert_false(done[pc->dgram]);
			assert_false(pc->dgram == dup && dropped);
			done[pc->dgram] = true;
			assert_int_equal(out->len, d->len);
			assert_memory_equal(pkt_buf_data(out), d->bytes, d->len);
			assert_true(pkt_csum_verify(pkt_buf_data(out), &out->info));
			pkt_pool_put(pool, out);
			completed++;
		}
		for (size_t i = 0; i < nd; i++)
			assert_true(done[i] != ((int)i == dup && dropped));
		/* What is left (a late duplicate's new context) goes at the timeout. */
		now += 5 * SEC;
		pkt_frag_expire(t, now);
		assert_int_equal(pkt_frag_table_count(t), 0);
		assert_int_equal(pkt_pool_available(pool), pkt_pool_capacity(pool));
	}
	printf("# %u datagrams reassembled, %u dropped on a duplicate\n", completed, overlaps);
	pkt_frag_table_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_pkt_frag_config_bad_rejected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pkt_frag_input_not_fragment_passes, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(test_pkt_frag_input_ipv4_in_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pkt_frag_input_ipv4_out_of_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pkt_frag_input_odd_headroom, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pkt_frag_input_duplicate_overlap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pkt_frag_input_too_big, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pkt_frag_input_bad_offset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pkt_frag_input_too_many, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pkt_frag_expire_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pkt_frag_input_table_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pkt_frag_input_ipv6_ext, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pkt_frag_input_reassembled_bad, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pkt_frag_table_free_returns_buffers, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(test_pkt_frag_input_random_model, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
