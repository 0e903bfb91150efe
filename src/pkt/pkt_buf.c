/* Packet buffers and their per-worker pool; see pkt_buf.h for the contract. */
#include "pkt/pkt_buf.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct pkt_pool {
	struct pkt_buf *bufs; /* count buffers, one 64-byte aligned allocation */
	uint32_t *free_stack; /* indices of free buffers; the top is reused first */
	uint8_t *in_pool;     /* per buffer: 1 while on the free stack (catches double puts) */
	uint32_t count;
	uint32_t top; /* number of entries on free_stack */
};

void
pkt_buf_reset(struct pkt_buf *p)
{
	p->head = PKT_BUF_HEADROOM;
	p->len = 0;
	p->port = 0;
	p->user = 0;
	p->rx_ns = 0;
	memset(&p->info, 0, sizeof(p->info));
}

int
pkt_buf_set(struct pkt_buf *p, const void *data, size_t len)
{
	if (len > PKT_BUF_DATA_MAX)
		return -EMSGSIZE;
	p->head = PKT_BUF_HEADROOM;
	p->len = (uint16_t)len;
	memset(&p->info, 0, sizeof(p->info));
	if (len > 0)
		memcpy(p->buf + p->head, data, len);
	return 0;
}

uint8_t *
pkt_buf_put(struct pkt_buf *p, size_t n)
{
	uint8_t *tail;

	if (n > pkt_buf_tailroom(p))
		return NULL;
	tail = p->buf + p->head + p->len;
	p->len = (uint16_t)(p->len + n);
	return tail;
}

int
pkt_buf_trim(struct pkt_buf *p, size_t len)
{
	if (len > p->len)
		return -EINVAL;
	p->len = (uint16_t)len;
	return 0;
}

int
pkt_buf_insert(struct pkt_buf *p, size_t off, size_t n)
{
	uint8_t *old_head;

	if (off > p->len)
		return -EINVAL;
	if (n > p->head)
		return -ENOBUFS;
	old_head = p->buf + p->head;
	p->head = (uint16_t)(p->head - n);
	p->len = (uint16_t)(p->len + n);
	if (off > 0)
		memmove(p->buf + p->head, old_head, off);
	return 0;
}

int
pkt_buf_remove(struct pkt_buf *p, size_t off, size_t n)
{
	uint8_t *old_head;

	if (off > p->len || n > p->len - off)
		return -EINVAL;
	old_head = p->buf + p->head;
	p->head = (uint16_t)(p->head + n);
	p->len = (uint16_t)(p->len - n);
	if (off > 0)
		memmove(p->buf + p->head, old_head, off);
	return 0;
}

struct pkt_pool *
pkt_pool_new(uint32_t count)
{
	struct pkt_pool *pool;
	void *mem = NULL;
	size_t bytes;

	if (count == 0 || __builtin_mul_overflow((size_t)count, sizeof(struct pkt_buf), &bytes))
		return NULL;
	pool = calloc(1, sizeof(*pool));
	if (pool == NULL)
		return NULL;
	if (posix_memalign(&mem, 64, bytes) != 0)
		goto fail;
	pool->bufs = mem;
	pool->free_stack = calloc(count, sizeof(*pool->free_stack));
	pool->in_pool = calloc(count, sizeof(*pool->in_pool));
	if (pool->free_stack == NULL || pool->in_pool == NULL)
		goto fail;
	pool->count = count;
	/* Pushed in reverse so the first gets hand out buffers in address order. */
	for (uint32_t i = 0; i < count; i++) {
		struct pkt_buf *p = &pool->bufs[i];

		p->index = i;
		pkt_buf_reset(p);
		pool->free_stack[count - 1 - i] = i;
		pool->in_pool[i] = 1;
	}
	pool->top = count;
	return pool;
fail:
	free(pool->in_pool);
	free(pool->free_stack);
	free(pool->bufs);
	free(pool);
	return NULL;
}

void
pkt_pool_free(struct pkt_pool *pool)
{
	if (pool == NULL)
		return;
	assert(pool->top == pool->count);
	free(pool->in_pool);
	free(pool->free_stack);
	free(pool->bufs);
	free(pool);
}

struct pkt_buf *
pkt_pool_get(struct pkt_pool *pool)
{
	struct pkt_buf *p;
	uint32_t i;

	if (pool->top == 0)
		return NULL;
	i = pool->free_stack[--pool->top];
	pool->in_pool[i] = 0;
	p = &pool->bufs[i];
	pkt_buf_reset(p);
	return p;
}

void
pkt_pool_put(struct pkt_pool *pool, struct pkt_buf *p)
{
	uint32_t i = p->index;

	/* A buffer of another pool or put twice would corrupt the stack: a bug, not input. */
	assert(i < pool->count && &pool->bufs[i] == p);
	assert(pool->in_pool[i] == 0);
	pool->in_pool[i] = 1;
	pool->free_stack[pool->top++] = i;
}

unsigned
pkt_pool_get_burst(struct pkt_pool *pool, struct pkt_buf **out, unsigned n)
{
	unsigned got = 0;

	while (got < n && pool->top > 0)
		out[got++] = pkt_pool_get(pool);
	return got;
}

void
pkt_pool_put_burst(struct pkt_pool *pool, struct pkt_buf **bufs, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		pkt_pool_put(pool, bufs[i]);
}

uint32_t
pkt_pool_available(const struct pkt_pool *pool)
{
	return pool->top;
}

uint32_t
pkt_pool_capacity(const struct pkt_pool *pool)
{
	return pool->count;
}
