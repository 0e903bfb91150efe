/*
 * Packet buffers: fixed-size, preallocated, with headroom in front of the packet so
 * the SVR transforms can grow headers (insert metadata after the L4 header) by moving
 * the few header bytes toward the front instead of the payload toward the back.
 *
 * Invariants: head + len <= PKT_BUF_SIZE; the packet's first byte (its IP header)
 * is at buf[head]. A buffer belongs to exactly one owner at a time: the pool, a
 * worker, a queue or the fragment table.
 *
 * Threads: a pool belongs to one worker (no locks); buffers may move between threads
 * only through an explicit handoff queue (src/io).
 */
#ifndef TERN_PKT_BUF_H
#define TERN_PKT_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkt/pkt_info.h"

/* Room in front of a received packet for a metadata block (SVR_META_MAX_LEN) to go in. */
#define PKT_BUF_HEADROOM 512
/* Largest packet: a 9000-byte jumbo frame plus metadata and an encryption trailer. */
#define PKT_BUF_DATA_MAX 9216
#define PKT_BUF_SIZE     (PKT_BUF_HEADROOM + PKT_BUF_DATA_MAX)

struct pkt_buf {
	uint16_t head;        /* offset of the packet's first byte in buf */
	uint16_t len;         /* bytes of packet from head */
	uint32_t index;       /* position in its pool, for the pool's free list */
	uint32_t port;        /* I/O port it arrived on or leaves by (src/io) */
	uint32_t user;        /* owner-defined (e.g. session index) */
	uint64_t rx_ns;       /* CLOCK_MONOTONIC arrival time */
	struct pkt_info info; /* filled by pkt_parse() */
	uint8_t buf[PKT_BUF_SIZE] __attribute__((aligned(64)));
};

static inline uint8_t *
pkt_buf_data(struct pkt_buf *p)
{
	return p->buf + p->head;
}

static inline size_t
pkt_buf_headroom(const struct pkt_buf *p)
{
	return p->head;
}

static inline size_t
pkt_buf_tailroom(const struct pkt_buf *p)
{
	return PKT_BUF_SIZE - p->head - p->len;
}

/* Empties the buffer, leaving the default headroom; clears port, user, rx_ns and info. */
void pkt_buf_reset(struct pkt_buf *p);
/*
 * Replaces the content with a copy of len bytes at the default headroom and clears info;
 * -EMSGSIZE if len > PKT_BUF_DATA_MAX.
 */
int pkt_buf_set(struct pkt_buf *p, const void *data, size_t len);
/* Extends the tail by n bytes (returns a pointer to them) or NULL without room. */
uint8_t *pkt_buf_put(struct pkt_buf *p, size_t n);
/* Shortens the packet to len bytes; -EINVAL if len is longer than the packet. */
int pkt_buf_trim(struct pkt_buf *p, size_t len);

/*
 * Opens a gap of n bytes at offset off (0 <= off <= len) by moving the off bytes before
 * it n bytes toward the front; the gap's content is undefined. Cheap when off is a
 * header length. -ENOBUFS when the headroom is smaller than n, -EINVAL on a bad off.
 * Neither this nor pkt_buf_remove() touches p->info: offsets after off move by n.
 */
int pkt_buf_insert(struct pkt_buf *p, size_t off, size_t n);
/*
 * Removes n bytes at offset off by moving the off bytes before them n bytes toward the
 * back. -EINVAL when off + n runs past the packet.
 */
int pkt_buf_remove(struct pkt_buf *p, size_t off, size_t n);

/*
 * A pool of buffers allocated once (one contiguous, 64-byte aligned array) with a
 * LIFO free stack of indices so recently used, cache-warm buffers are reused first.
 */
struct pkt_pool;

/* NULL on allocation failure or count == 0. The caller owns the pool. */
struct pkt_pool *pkt_pool_new(uint32_t count);
/* Accepts NULL. All buffers must have been returned (asserted). */
void pkt_pool_free(struct pkt_pool *pool);
/* A reset buffer, or NULL when the pool is empty (the caller counts PKT_POOL_EMPTY). */
struct pkt_buf *pkt_pool_get(struct pkt_pool *pool);
/* p must come from this pool and not be in it already (both asserted: a bug, not input). */
void pkt_pool_put(struct pkt_pool *pool, struct pkt_buf *p);
/* Up to n buffers into out; returns how many. */
unsigned pkt_pool_get_burst(struct pkt_pool *pool, struct pkt_buf **out, unsigned n);
void pkt_pool_put_burst(struct pkt_pool *pool, struct pkt_buf **bufs, unsigned n);
uint32_t pkt_pool_available(const struct pkt_pool *pool);
uint32_t pkt_pool_capacity(const struct pkt_pool *pool);

#endif
