/* Index pool: a stack of free indices plus an in-use bitmap (see pool.h). */
#include "lib/pool.h"

#include <errno.h>
#include <stdlib.h>

struct pool {
	uint32_t capacity;
	uint32_t free_count; /* free_stack[0..free_count) are free; the top is handed out */
	uint32_t *free_stack;
	uint64_t *in_use; /* one bit per index */
};

static size_t
pool_bitmap_words(uint32_t capacity)
{
	return ((size_t)capacity + 63) / 64;
}

struct pool *
pool_new(uint32_t capacity)
{
	struct pool *p = NULL;

	if (capacity == 0)
		goto fail;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		goto fail;
	p->capacity = capacity;
	p->free_count = capacity;
	p->free_stack = malloc((size_t)capacity * sizeof(p->free_stack[0]));
	p->in_use = calloc(pool_bitmap_words(capacity), sizeof(p->in_use[0]));
	if (p->free_stack == NULL || p->in_use == NULL)
		goto fail;
	/* Top of the stack is the end of the array: hand out 0, 1, 2, ... first. */
	for (uint32_t i = 0; i < capacity; i++)
		p->free_stack[i] = capacity - 1 - i;
	return p;
fail:
	pool_free(p);
	return NULL;
}

void
pool_free(struct pool *p)
{
	if (p == NULL)
		return;
	free(p->free_stack);
	free(p->in_use);
	free(p);
}

int
pool_get(struct pool *p, uint32_t *index)
{
	uint32_t i;

	if (p->free_count == 0)
		return -ENOSPC;
	i = p->free_stack[--p->free_count];
	p->in_use[i / 64] |= 1ull << (i % 64);
	*index = i;
	return 0;
}

int
pool_put(struct pool *p, uint32_t index)
{
	if (!pool_in_use(p, index))
		return -EINVAL;
	p->in_use[index / 64] &= ~(1ull << (index % 64));
	p->free_stack[p->free_count++] = index;
	return 0;
}

bool
pool_in_use(const struct pool *p, uint32_t index)
{
	if (index >= p->capacity)
		return false;
	return (p->in_use[index / 64] >> (index % 64)) & 1;
}

uint32_t
pool_count(const struct pool *p)
{
	return p->capacity - p->free_count;
}

uint32_t
pool_capacity(const struct pool *p)
{
	return p->capacity;
}

size_t
pool_memory_bytes(const struct pool *p)
{
	return sizeof(*p) + (size_t)p->capacity * sizeof(p->free_stack[0]) +
	    pool_bitmap_words(p->capacity) * sizeof(p->in_use[0]);
}
