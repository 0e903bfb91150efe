/*
 * Fragment reassembly; see pkt_frag.h for the contract.
 *
 * Layout of a context's buffer: the fragmentable part (the IPv4 payload, or what
 * follows the IPv6 fragment header) is copied to buf[data_start + offset], and the
 * unfragmentable header of the offset-0 fragment right in front of data_start, so the
 * finished datagram is contiguous without moving the payload again. data_start is
 * PKT_BUF_HEADROOM plus the header length of the first fragment to arrive; the
 * reassembled packet keeps (nearly) the default headroom for the SVR transforms.
 *
 * The first fragment to arrive becomes the context's buffer (moved in place), so
 * starting a datagram needs no second buffer and cannot fail on an empty pool; the
 * buffers of later fragments go back to the pool once copied.
 *
 * Contexts live in one preallocated array, chained per hash bucket and on one list in
 * creation order; since every context has the same timeout, the oldest is always at the
 * head of that list and expiry stops at the first one still young.
 */
#include "pkt/pkt_frag.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/hash_fn.h"
#include "pkt/pkt_csum.h"
#include "pkt/pkt_parse.h"

#define PKT_FRAG_NONE         UINT32_MAX
#define PKT_FRAG_UNITS        (PKT_BUF_DATA_MAX / 8)
#define PKT_FRAG_WORDS        ((PKT_FRAG_UNITS + 63) / 64)
#define PKT_FRAG_MAX_CONTEXTS (1u << 24)
#define PKT_IPV6_HDR_LEN      40

struct pkt_frag_key {
	uint8_t family;
	uint8_t proto; /* IPv4 protocol, or the IPv6 fragment header's next header */
	uint8_t pad[2];
	uint32_t id;
	uint8_t src[16];
	uint8_t dst[16];
};

struct pkt_frag_ctx {
	struct pkt_frag_key key;
	uint32_t bucket;
	uint32_t bucket_next;
	uint32_t age_prev; /* creation order; free contexts chain through age_next */
	uint32_t age_next;
	struct pkt_buf *buf;
	uint64_t first_ns;
	uint16_t data_start; /* where fragmentable byte 0 goes in buf->buf */
	uint16_t hdr_len;    /* unfragmentable header of the offset-0 fragment */
	uint16_t total_len;  /* fragmentable bytes, once the last fragment is in */
	uint16_t max_end;    /* highest offset + length received */
	uint16_t units;      /* 8-byte units received */
	uint16_t frags;
	bool have_first;
	bool have_last;
	uint64_t bitmap[PKT_FRAG_WORDS];
};

struct pkt_frag_table {
	struct pkt_frag_config config;
	struct pkt_pool *pool;
	uint64_t seed;
	uint32_t *buckets;
	uint32_t bucket_mask;
	struct pkt_frag_ctx *ctxs;
	uint32_t free_head;
	uint32_t age_head;
	uint32_t age_tail;
	uint32_t count;
	uint32_t expired_pending; /* expired inside pkt_frag_input, reported by expire */
};

/* What pkt_frag_input needs to know about one fragment. */
struct pkt_frag_piece {
	struct pkt_frag_key key;
	size_t hdr_len; /* unfragmentable header: IPv4 header, or IPv6 up to the frag hdr */
	size_t start;   /* first byte of the fragment's data */
	size_t len;     /* bytes of fragment data */
	size_t off;     /* offset of that data in the fragmentable part */
	bool more;
};

void
pkt_frag_config_default(struct pkt_frag_config *config)
{
	config->max_datagrams = 1024;
	config->max_fragments = 64;
	config->max_datagram_len = PKT_BUF_DATA_MAX;
	config->timeout_ns = 5000000000ull;
}

static uint64_t
pkt_frag_seed(void)
{
	uint64_t seed;
	struct timespec ts;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
		return seed;
	/* Without entropy yet the table still works; only flood resistance is weaker. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)&seed;
}

struct pkt_frag_table *
pkt_frag_table_new(const struct pkt_frag_config *config, struct pkt_pool *pool)
{
	struct pkt_frag_table *t;
	uint32_t nbuckets = 1;

	if (config == NULL || pool == NULL || config->max_datagrams == 0 ||
	    config->max_datagrams > PKT_FRAG_MAX_CONTEXTS || config->max_fragments == 0 ||
	    config->max_datagram_len == 0 || config->max_datagram_len > PKT_BUF_DATA_MAX ||
	    config->timeout_ns == 0)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	/* Twice as many buckets as contexts keeps chains short when the table is full. */
	while (nbuckets < config->max_datagrams * 2)
		nbuckets <<= 1;
	t->buckets = malloc((size_t)nbuckets * sizeof(*t->buckets));
	t->ctxs = calloc(config->max_datagrams, sizeof(*t->ctxs));
	if (t->buckets == NULL || t->ctxs == NULL) {
		free(t->buckets);
		free(t->ctxs);
		free(t);
		return NULL;
	}
	t->config = *config;
	t->pool = pool;
	t->seed = pkt_frag_seed();
	t->bucket_mask = nbuckets - 1;
	for (uint32_t i = 0; i < nbuckets; i++)
		t->buckets[i] = PKT_FRAG_NONE;
	for (uint32_t i = 0; i < config->max_datagrams; i++)
		t->ctxs[i].age_next = i + 1 < config->max_datagrams ? i + 1 : PKT_FRAG_NONE;
	t->free_head = 0;
	t->age_head = PKT_FRAG_NONE;
	t->age_tail = PKT_FRAG_NONE;
	return t;
}

/* Unlinks ctx from its bucket and the age list and frees it; its buffer stays as is. */
static void
pkt_frag_ctx_release(struct pkt_frag_table *t, struct pkt_frag_ctx *ctx)
{
	uint32_t i = (uint32_t)(ctx - t->ctxs);
	uint32_t *link = &t->buckets[ctx->bucket];

	while (*link != i)
		link = &t->ctxs[*link].bucket_next;
	*link = ctx->bucket_next;

	if (ctx->age_prev != PKT_FRAG_NONE)
		t->ctxs[ctx->age_prev].age_next = ctx->age_next;
	else
		t->age_head = ctx->age_next;
	if (ctx->age_next != PKT_FRAG_NONE)
		t->ctxs[ctx->age_next].age_prev = ctx->age_prev;
	else
		t->age_tail = ctx->age_prev;

	ctx->buf = NULL;
	ctx->age_next = t->free_head;
	t->free_head = i;
	t->count--;
}

/* Drops a whole datagram: its buffer goes back to the pool. */
static void
pkt_frag_ctx_drop(struct pkt_frag_table *t, struct pkt_frag_ctx *ctx)
{
	struct pkt_buf *buf = ctx->buf;

	pkt_frag_ctx_release(t, ctx);
	pkt_pool_put(t->pool, buf);
}

void
pkt_frag_table_free(struct pkt_frag_table *t)
{
	if (t == NULL)
		return;
	while (t->age_head != PKT_FRAG_NONE)
		pkt_frag_ctx_drop(t, &t->ctxs[t->age_head]);
	free(t->buckets);
	free(t->ctxs);
	free(t);
}

uint32_t
pkt_frag_table_count(const struct pkt_frag_table *t)
{
	return t->count;
}

static bool
pkt_frag_is_expired(const struct pkt_frag_table *t, const struct pkt_frag_ctx *ctx, uint64_t now_ns)
{
	return now_ns >= ctx->first_ns && now_ns - ctx->first_ns >= t->config.timeout_ns;
}

static unsigned
pkt_frag_expire_old(struct pkt_frag_table *t, uint64_t now_ns)
{
	unsigned n = 0;

	while (
	    t->age_head != PKT_FRAG_NONE && pkt_frag_is_expired(t, &t->ctxs[t->age_head], now_ns)) {
		pkt_frag_ctx_drop(t, &t->ctxs[t->age_head]);
		n++;
	}
	return n;
}

unsigned
pkt_frag_expire(struct pkt_frag_table *t, uint64_t now_ns)
{
	unsigned n = pkt_frag_expire_old(t, now_ns) + t->expired_pending;

	t->expired_pending = 0;
	return n;
}

static struct pkt_frag_ctx *
pkt_frag_lookup(struct pkt_frag_table *t, const struct pkt_frag_key *key, uint32_t bucket)
{
	for (uint32_t i = t->buckets[bucket]; i != PKT_FRAG_NONE; i = t->ctxs[i].bucket_next) {
		if (memcmp(&t->ctxs[i].key, key, sizeof(*key)) == 0)
			return &t->ctxs[i];
	}
	return NULL;
}

static struct pkt_frag_ctx *
pkt_frag_ctx_add(struct pkt_frag_table *t, const struct pkt_frag_key *key, uint32_t bucket,
    uint64_t now_ns)
{
	uint32_t i = t->free_head;
	struct pkt_frag_ctx *ctx;

	if (i == PKT_FRAG_NONE)
		return NULL;
	ctx = &t->ctxs[i];
	t->free_head = ctx->age_next;
	memset(ctx, 0, sizeof(*ctx));
	ctx->key = *key;
	ctx->first_ns = now_ns;
	ctx->bucket = bucket;
	ctx->bucket_next = t->buckets[bucket];
	t->buckets[bucket] = i;
	ctx->age_prev = t->age_tail;
	ctx->age_next = PKT_FRAG_NONE;
	if (t->age_tail != PKT_FRAG_NONE)
		t->ctxs[t->age_tail].age_next = i;
	else
		t->age_head = i;
	t->age_tail = i;
	t->count++;
	return ctx;
}

/* Tests units [first, end) of the bitmap; sets them all and returns true if none was. */
static bool
pkt_frag_bitmap_claim(uint64_t *bitmap, size_t first, size_t end)
{
	for (size_t u = first; u < end; u++) {
		if (bitmap[u / 64] & (1ull << (u % 64)))
			return false;
	}
	for (size_t u = first; u < end; u++)
		bitmap[u / 64] |= 1ull << (u % 64);
	return true;
}

/* Reads what reassembly needs from a parsed fragment (offsets checked by the parser). */
static void
pkt_frag_piece_init(struct pkt_frag_piece *pc, const uint8_t *data, const struct pkt_info *info)
{
	memset(pc, 0, sizeof(*pc));
	pc->key.family = info->family;
	pc->key.id = info->frag_id;
	pc->off = info->frag_off_bytes;
	if (info->family == ADDR_FAMILY_V4) {
		pc->key.proto = data[9];
		memcpy(pc->key.src, data + 12, 4);
		memcpy(pc->key.dst, data + 16, 4);
		pc->hdr_len = (size_t)(data[0] & 0x0f) * 4;
		pc->start = pc->hdr_len;
		pc->more = (buf_load_be16(data + 6) & 0x2000) != 0;
	} else {
		pc->key.proto = data[info->frag_hdr_off];
		memcpy(pc->key.src, data + 8, 16);
		memcpy(pc->key.dst, data + 24, 16);
		pc->hdr_len = info->frag_hdr_off;
		pc->start = (size_t)info->frag_hdr_off + 8;
		pc->more = (buf_load_be16(data + info->frag_hdr_off + 2) & 1) != 0;
	}
	pc->len = info->ip_len - pc->start;
}

/* Offset of the next-header field that names the IPv6 fragment header, or 0 if none. */
static size_t
pkt_frag_ipv6_nh_field(const uint8_t *data, size_t frag_hdr_off)
{
	size_t off = PKT_IPV6_HDR_LEN, field = 6, len;
	uint8_t nh = data[6];

	while (off < frag_hdr_off) {
		if (frag_hdr_off - off < 2)
			return 0;
		switch (nh) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			len = ((size_t)data[off + 1] + 1) * 8;
			break;
		case IPPROTO_AH:
			len = ((size_t)data[off + 1] + 2) * 4;
			break;
		default:
			return 0;
		}
		field = off;
		nh = data[off];
		off += len;
	}
	return off == frag_hdr_off && nh == IPPROTO_FRAGMENT ? field : 0;
}

/*
 * Turns the finished context into the unfragmented datagram: the header of the offset-0
 * fragment already sits in front of the data, only its length and fragment fields change.
 */
static int
pkt_frag_finish(struct pkt_frag_table *t, struct pkt_frag_ctx *ctx, struct pkt_buf **out,
    enum pkt_drop_reason *reason)
{
	struct pkt_buf *p = ctx->buf;
	size_t hdr_len = ctx->hdr_len, ip_len = hdr_len + ctx->total_len;
	uint8_t *data;
	int err;

	p->head = (uint16_t)(ctx->data_start - hdr_len);
	p->len = (uint16_t)ip_len;
	pkt_frag_ctx_release(t, ctx);
	data = pkt_buf_data(p);
	if (data[0] >> 4 == 4) {
		buf_store_be16(data + 2, (uint16_t)ip_len);
		/* Keep DF (and the reserved bit); clear MF and the offset. */
		buf_store_be16(data + 6, buf_load_be16(data + 6) & 0xc000);
		buf_store_be16(data + 10, pkt_csum_ipv4_header(data, hdr_len));
	} else {
		buf_store_be16(data + 4, (uint16_t)(ip_len - PKT_IPV6_HDR_LEN));
	}
	err = pkt_parse(p, reason);
	/* A second fragment header inside the fragmentable part: not a whole datagram. */
	if (err == 0 && (p->info.flags & PKT_INFO_FRAGMENT)) {
		*reason = PKT_DROP_IPV6_EXT_BAD_ORDER;
		err = -EBADMSG;
	}
	if (err < 0) {
		pkt_pool_put(t->pool, p);
		return err;
	}
	*out = p;
	return 0;
}

int
pkt_frag_input(struct pkt_frag_table *t, struct pkt_buf *frag, uint64_t now_ns,
    struct pkt_buf **out, enum pkt_drop_reason *reason)
{
	struct pkt_frag_ctx *ctx;
	struct pkt_frag_piece pc;
	const uint8_t *data;
	uint8_t *dst;
	uint32_t bucket;
	size_t end, nh_field = 0;
	int err = -EBADMSG;

	*out = NULL;
	if (!(frag->info.flags & PKT_INFO_FRAGMENT)) {
		/* Not a fragment (e.g. an IPv6 atomic fragment): already a whole datagram. */
		*out = frag;
		return 0;
	}
	t->expired_pending += pkt_frag_expire_old(t, now_ns);

	data = pkt_buf_data(frag);
	pkt_frag_piece_init(&pc, data, &frag->info);
	end = pc.off + pc.len;
	bucket = (uint32_t)hash_fn_bytes(t->seed, &pc.key, sizeof(pc.key)) & t->bucket_mask;
	ctx = pkt_frag_lookup(t, &pc.key, bucket);

	if (frag->len > PKT_BUF_DATA_MAX || pc.hdr_len + end > t->config.max_datagram_len)
		goto too_big;
	if (pc.more && pc.len % 8 != 0)
		goto bad_offset;
	if (pc.off == 0 && frag->info.family == ADDR_FAMILY_V6) {
		nh_field = pkt_frag_ipv6_nh_field(data, pc.hdr_len);
		if (nh_field == 0)
			goto bad_offset;
	}

	if (ctx == NULL) {
		if (PKT_BUF_HEADROOM + pc.hdr_len + end > PKT_BUF_SIZE)
			goto too_big;
		ctx = pkt_frag_ctx_add(t, &pc.key, bucket, now_ns);
		if (ctx == NULL)
			goto table_full;
		/*
		 * Adopt the fragment's buffer, its header at the default headroom: then the
		 * payload (moved to data_start + off, past the header) never overwrites it.
		 */
		if (frag->head != PKT_BUF_HEADROOM) {
			memmove(frag->buf + PKT_BUF_HEADROOM, data, frag->len);
			frag->head = PKT_BUF_HEADROOM;
			data = pkt_buf_data(frag);
		}
		ctx->buf = frag;
		ctx->data_start = (uint16_t)(PKT_BUF_HEADROOM + pc.hdr_len);
	} else {
		if (ctx->data_start + end > PKT_BUF_SIZE || pc.hdr_len > ctx->data_start)
			goto too_big;
	}

	if (++ctx->frags > t->config.max_fragments)
		goto too_many;
	if (pc.off == 0 && ctx->have_first)
		goto overlap;
	if (pc.more ? ctx->have_last && end > ctx->total_len : ctx->have_last || end < ctx->max_end)
		goto overlap;
	if (!pkt_frag_bitmap_claim(ctx->bitmap, pc.off / 8, (end + 7) / 8))
		goto overlap;
	ctx->units = (uint16_t)(ctx->units + (end + 7) / 8 - pc.off / 8);
	if (end > ctx->max_end)
		ctx->max_end = (uint16_t)end;
	if (!pc.more) {
		ctx->have_last = true;
		ctx->total_len = (uint16_t)end;
	}

	dst = ctx->buf->buf + ctx->data_start;
	memmove(dst + pc.off, data + pc.start, pc.len);
	if (pc.off == 0) {
		ctx->have_first = true;
		ctx->hdr_len = (uint16_t)pc.hdr_len;
		memmove(dst - pc.hdr_len, data, pc.hdr_len);
		/* The fragment header goes: its predecessor now names what followed it. */
		if (nh_field != 0)
			dst[(ptrdiff_t)nh_field - (ptrdiff_t)pc.hdr_len] = pc.key.proto;
	}
	if (frag != ctx->buf)
		pkt_pool_put(t->pool, frag);

	if (!ctx->have_first || !ctx->have_last)
		return 0;
	if ((size_t)ctx->hdr_len + ctx->total_len > t->config.max_datagram_len) {
		*reason = PKT_DROP_FRAG_TOO_BIG;
		pkt_frag_ctx_drop(t, ctx);
		return -EBADMSG;
	}
	if (ctx->units != (ctx->total_len + 7) / 8)
		return 0;
	return pkt_frag_finish(t, ctx, out, reason);

table_full:
	*reason = PKT_DROP_FRAG_TABLE_FULL;
	err = -ENOSPC;
	goto drop;
too_big:
	*reason = PKT_DROP_FRAG_TOO_BIG;
	goto drop;
bad_offset:
	*reason = PKT_DROP_FRAG_BAD_OFFSET;
	ctx = NULL; /* only this fragment is wrong; its datagram may still complete */
	goto drop;
too_many:
	*reason = PKT_DROP_FRAG_TOO_MANY;
	goto drop;
overlap:
	*reason = PKT_DROP_FRAG_OVERLAP;
drop:
	if (ctx == NULL || frag != ctx->buf)
		pkt_pool_put(t->pool, frag);
	if (ctx != NULL)
		pkt_frag_ctx_drop(t, ctx);
	return err;
}
