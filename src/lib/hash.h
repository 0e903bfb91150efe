/*
 * A fixed-capacity hash table from fixed-size byte keys (key_len bytes, set at creation,
 * at most HASH_KEY_MAX) to uint32_t values, for control- and data-plane indexes (names,
 * fragment ids, peer tuples). The value is usually the index of an object in a pool.
 *
 * Layout: entries (key, value) live in preallocated arrays and are addressed by an entry
 * id in [0, capacity) that stays the same while the entry lives. A separate slot array
 * (a power of two, at least 1.5 slots per entry) does open addressing with linear
 * probing: each slot holds 32 bits of the key's hash and the entry id, so a probe
 * compares keys only when those bits agree. Deletion shifts the following run of the
 * cluster back (no tombstones), so lookups never slow down with churn.
 *
 * The hash is hash_fn_bytes() under a per-table seed from getrandom(), so a sender who
 * chooses keys cannot aim them at one cluster without knowing the seed.
 *
 * Invariants: count <= capacity; a key is stored at most once; keys are compared as
 * bytes, so callers zero any padding in key structures.
 *
 * Threads: no internal locking. Any number of threads may read a table nobody modifies;
 * a modification needs exclusive access.
 */
#ifndef TERN_LIB_HASH_H
#define TERN_LIB_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_KEY_MAX      64
#define HASH_CAPACITY_MAX (1u << 30)
/* "No entry": from hash_find() and hash_next(). */
#define HASH_NONE UINT32_MAX

struct hash;

/*
 * A table for capacity entries (1..HASH_CAPACITY_MAX) of key_len-byte keys
 * (1..HASH_KEY_MAX). seed 0 draws a seed from getrandom(); tests pass a fixed one.
 * Allocates everything now. NULL with errno EINVAL, ENOMEM, or getrandom()'s error.
 */
struct hash *hash_new(uint32_t capacity, size_t key_len, uint64_t seed);
void hash_free(struct hash *h); /* accepts NULL */

/*
 * Copies key (key_len bytes) in with value; *id (may be NULL) receives its entry id.
 * -EEXIST: the key is there already (its value is unchanged, *id receives its entry);
 * -ENOSPC: the table holds capacity entries.
 */
int hash_add(struct hash *h, const void *key, uint32_t value, uint32_t *id);
/* Removes key; -ENOENT if absent. */
int hash_del(struct hash *h, const void *key);
/* Removes the entry with this id; -ENOENT if it is not live. */
int hash_del_id(struct hash *h, uint32_t id);
/* Removes every entry; the capacity and the seed stay. */
void hash_clear(struct hash *h);

/* The value stored for key; -ENOENT if absent. */
int hash_lookup(const struct hash *h, const void *key, uint32_t *value);
/* The entry id of key, or HASH_NONE. */
uint32_t hash_find(const struct hash *h, const void *key);

/* The key of a live entry (borrowed, key_len bytes, valid until it is deleted), or NULL. */
const void *hash_key(const struct hash *h, uint32_t id);
/* The value of a live entry, writable in place; NULL if id is not live. */
uint32_t *hash_value(struct hash *h, uint32_t id);

/*
 * The first live entry id >= id, or HASH_NONE: iterate with
 *     for (id = hash_next(h, 0); id != HASH_NONE; id = hash_next(h, id + 1))
 * Deleting the current entry inside the loop is safe; an entry added during the loop
 * may or may not be visited.
 */
uint32_t hash_next(const struct hash *h, uint32_t id);

uint32_t hash_count(const struct hash *h);
uint32_t hash_capacity(const struct hash *h);
size_t hash_key_len(const struct hash *h);
/* Every byte the table allocated, for sizing. */
size_t hash_memory_bytes(const struct hash *h);

#endif
