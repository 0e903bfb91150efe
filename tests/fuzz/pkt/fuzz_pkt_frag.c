/*
 * Fuzz target for pkt_frag_input()/pkt_frag_expire(): the input is a table config and
 * a sequence of fragment records; each record becomes an IPv4 or IPv6 fragment packet
 * (valid IP headers, fuzzer-chosen offset, length, more-fragments bit, id, protocol and
 * first 16 payload bytes) fed to a small table on a fake clock.
 *
 * Checked: every drop has a fragment reason (or, for a reassembled datagram, a parser
 * reason); a reassembled datagram is a parsed whole packet within the configured size;
 * the table never holds more than its capacity; and at the end, once the table is
 * freed, every buffer is back in the pool.
 *
 * Input: 4 config bytes, then records of 24 bytes:
 *   0     flags: bit 0 IPv6, bit 1 more fragments, bits 2-3 id, bit 4 IPv6 hop-by-hop
 *         header, bit 5 jump the clock by a timeout, bit 6 run expiry, bit 7 odd headroom
 *   1     protocol (IPv4) / fragment header next header (IPv6)
 *   2-3   offset in 8-byte units (13 bits)
 *   4-5   fragment data length (14 bits)
 *   6     clock advance in ms
 *   7     unused
 *   8-23  first 16 bytes of fragment data (the rest is a pattern)
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "pkt/pkt_buf.h"
#include "pkt/pkt_csum.h"
#include "pkt/pkt_frag.h"
#include "pkt/pkt_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_POOL_SIZE 24
#define FUZZ_RECORD    24
#define FUZZ_MS        1000000ull

static void
check(int ok)
{
	if (!ok)
		abort();
}

static bool
is_frag_reason(enum pkt_drop_reason r)
{
	return r == PKT_DROP_FRAG_BAD_OFFSET || r == PKT_DROP_FRAG_OVERLAP ||
	    r == PKT_DROP_FRAG_TOO_BIG || r == PKT_DROP_FRAG_TOO_MANY ||
	    r == PKT_DROP_FRAG_TABLE_FULL;
}

/* Builds the fragment packet of one record into p; false if it is not a valid packet. */
static bool
build_fragment(struct pkt_buf *p, const uint8_t *rec)
{
	static const uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	static const uint8_t dst[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
	bool v6 = rec[0] & 1, more = rec[0] & 2, hop = rec[0] & 16;
	uint16_t off_units = buf_load_be16(rec + 2) & 0x1fff;
	size_t len = buf_load_be16(rec + 4) & 0x3fff;
	uint32_t id = 0x1000u + ((rec[0] >> 2) & 3);
	size_t hdr = v6 ? (hop ? 56 : 48) : 20;
	enum pkt_drop_reason reason;
	uint8_t *b;

	if (rec[0] & 128)
		p->head = (uint16_t)(PKT_BUF_HEADROOM - 100 + rec[7] % 200);
	if (hdr + len > pkt_buf_tailroom(p))
		len = pkt_buf_tailroom(p) - hdr;
	b = pkt_buf_put(p, hdr + len);
	memset(b, 0, hdr);
	memcpy(b + hdr, rec + 8, len < 16 ? len : 16);
	for (size_t i = 16; i < len; i++)
		b[hdr + i] = (uint8_t)(i * 31 + off_units);
	if (v6) {
		b[0] = 0x60;
		buf_store_be16(b + 4, (uint16_t)(hdr + len - 40));
		b[6] = hop ? 0 : 44;
		b[7] = 64;
		memcpy(b + 8, src, 16);
		memcpy(b + 24, dst, 16);
		if (hop) {
			b[40] = 44;
			b[42] = 1; /* PadN */
			b[43] = 4;
		}
		b[hdr - 8] = rec[1];
		buf_store_be16(b + hdr - 6, (uint16_t)(off_units << 3 | (more ? 1 : 0)));
		buf_store_be32(b + hdr - 4, id);
	} else {
		b[0] = 0x45;
		buf_store_be16(b + 2, (uint16_t)(hdr + len));
		buf_store_be16(b + 4, (uint16_t)id);
		buf_store_be16(b + 6, (uint16_t)((more ? 0x2000 : 0) | off_units));
		b[8] = 64;
		b[9] = rec[1];
		memcpy(b + 12, src, 4);
		memcpy(b + 16, dst, 4);
		buf_store_be16(b + 10, pkt_csum_ipv4_header(b, 20));
	}
	return pkt_parse(p, &reason) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pkt_pool *pool;
	struct pkt_frag_config cfg;
	struct pkt_frag_table *t;
	uint64_t now = 1;

	if (size < 4)
		return 0;
	if (pool == NULL)
		pool = pkt_pool_new(FUZZ_POOL_SIZE);
	check(pool != NULL);
	pkt_frag_config_default(&cfg);
	cfg.max_datagrams = 1 + data[0] % 8;
	cfg.max_fragments = (uint16_t)(1 + data[1] % 16);
	cfg.max_datagram_len = (uint16_t)(1 + buf_load_be16(data + 2) % PKT_BUF_DATA_MAX);
	cfg.timeout_ns = 1000 * FUZZ_MS;
	t = pkt_frag_table_new(&cfg, pool);
	check(t != NULL);

	for (size_t pos = 4; pos + FUZZ_RECORD <= size; pos += FUZZ_RECORD) {
		const uint8_t *rec = data + pos;
		struct pkt_buf *p = pkt_pool_get(pool), *out = NULL;
		enum pkt_drop_reason reason = PKT_DROP_COUNT;
		int err;

		/* The table holds at most one buffer per datagram: the pool never runs dry. */
		check(p != NULL);
		now += rec[6] * FUZZ_MS;
		if (rec[0] & 32)
			now += cfg.timeout_ns;
		if (rec[0] & 64)
			(void)pkt_frag_expire(t, now);
		if (!build_fragment(p, rec)) {
			pkt_pool_put(pool, p);
			continue;
		}
		err = pkt_frag_input(t, p, now, &out, &reason);
		check(pkt_frag_table_count(t) <= cfg.max_datagrams);
		if (err != 0) {
			check(out == NULL && reason < PKT_DROP_COUNT);
			check(
			    err == -ENOSPC ? reason == PKT_DROP_FRAG_TABLE_FULL : err == -EBADMSG);
			/* A fragment reason, or the parser's (listed before them) on a rebuilt one.
			 */
			check(is_frag_reason(reason) || reason < PKT_DROP_FRAG_BAD_OFFSET);
			continue;
		}
		if (out == NULL)
			continue;
		if (out == p && !(out->info.flags & PKT_INFO_FRAGMENT)) {
			/* Not a fragment at all: handed straight back. */
			pkt_pool_put(pool, out);
			continue;
		}
		check(!(out->info.flags & PKT_INFO_FRAGMENT));
		check(out->len == out->info.ip_len && out->len <= cfg.max_datagram_len);
		check(out->head + out->len <= PKT_BUF_SIZE);
		{
			struct pkt_info info;

			check(pkt_parse_bytes(pkt_buf_data(out), out->len, &info, &reason) == 0);
			check(memcmp(&info, &out->info, sizeof(info)) == 0);
		}
		pkt_pool_put(pool, out);
	}
	(void)pkt_frag_expire(t, now + cfg.timeout_ns);
	check(pkt_frag_table_count(t) == 0);
	pkt_frag_table_free(t);
	check(pkt_pool_available(pool) == pkt_pool_capacity(pool));
	return 0;
}
