/*
 * An index pool: hands out the indices 0..capacity-1 of a caller's preallocated array
 * of objects, in O(1), and takes them back.
 *
 * Invariants: an index is either free (on the free stack) or in use (its bit set in the
 * bitmap), never both; pool_put() of an index that is not in use is refused, so a
 * double free is an error code rather than a corrupted free stack. Freed indices are
 * handed out again last in, first out, so the object reused is likely still in cache.
 *
 * Threads: a pool belongs to one thread; no locks.
 */
#ifndef TERN_LIB_POOL_H
#define TERN_LIB_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pool;

/* A pool of capacity (>= 1) free indices, owned by the caller. NULL on ENOMEM or 0. */
struct pool *pool_new(uint32_t capacity);
void pool_free(struct pool *p); /* accepts NULL */

/* Takes a free index into *index (lowest first on a fresh pool); -ENOSPC if none. */
int pool_get(struct pool *p, uint32_t *index);
/* Returns an index; -EINVAL if it is out of range or not in use (a double put). */
int pool_put(struct pool *p, uint32_t index);
/* False for indices out of range. */
bool pool_in_use(const struct pool *p, uint32_t index);

uint32_t pool_count(const struct pool *p); /* indices in use */
uint32_t pool_capacity(const struct pool *p);
/* Every byte the pool allocated. */
size_t pool_memory_bytes(const struct pool *p);

#endif
