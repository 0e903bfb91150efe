/* Fixed-capacity open-addressing hash table; see hash.h for the contract. */
#include "lib/hash.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "lib/hash_fn.h"

/*
 * A slot is 0 when empty, else (hash32 << 32) | (entry id + 1). hash32 picks the home
 * slot (its low bits) and filters key compares (all of it).
 */
#define HASH_SLOT_EMPTY 0

struct hash {
	uint64_t *slots;
	uint32_t slot_mask;
	uint32_t capacity;
	uint32_t count;
	uint32_t free_head; /* free entries are linked through values[] */
	size_t key_len;
	uint64_t seed;
	uint8_t *keys;     /* capacity * key_len */
	uint32_t *values;  /* capacity */
	uint32_t *slot_of; /* capacity: the slot of a live entry, HASH_NONE when free */
};

static uint32_t
hash_key_hash(const struct hash *h, const void *key)
{
	uint64_t x = hash_fn_bytes(h->seed, key, h->key_len);

	/* Fold both halves in, so neither half alone decides the home slot. */
	return (uint32_t)(x >> 32) ^ (uint32_t)x;
}

static uint32_t
hash_slot_id(uint64_t slot)
{
	return (uint32_t)slot - 1;
}

static uint32_t
hash_slot_hash(uint64_t slot)
{
	return (uint32_t)(slot >> 32);
}

static const uint8_t *
hash_entry_key(const struct hash *h, uint32_t id)
{
	return h->keys + (size_t)id * h->key_len;
}

static void
hash_reset(struct hash *h)
{
	memset(h->slots, 0, ((size_t)h->slot_mask + 1) * sizeof(*h->slots));
	for (uint32_t i = 0; i < h->capacity; i++) {
		h->values[i] = i + 1 < h->capacity ? i + 1 : HASH_NONE;
		h->slot_of[i] = HASH_NONE;
	}
	h->free_head = 0;
	h->count = 0;
}

struct hash *
hash_new(uint32_t capacity, size_t key_len, uint64_t seed)
{
	struct hash *h;
	size_t nslots = 8;

	if (capacity == 0 || capacity > HASH_CAPACITY_MAX || key_len == 0 ||
	    key_len > HASH_KEY_MAX) {
		errno = EINVAL;
		return NULL;
	}
	if (seed == 0) {
		/* Blocks only until the kernel's pool is first initialized, early at boot. */
		if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
			return NULL;
	}
	/* Load at most 2/3: linear probing stays at a few probes even when full. */
	while (nslots < (size_t)capacity + capacity / 2)
		nslots *= 2;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	h->slot_mask = (uint32_t)(nslots - 1);
	h->capacity = capacity;
	h->key_len = key_len;
	h->seed = seed;
	h->slots = calloc(nslots, sizeof(*h->slots));
	h->keys = calloc(capacity, key_len);
	h->values = calloc(capacity, sizeof(*h->values));
	h->slot_of = calloc(capacity, sizeof(*h->slot_of));
	if (h->slots == NULL || h->keys == NULL || h->values == NULL || h->slot_of == NULL) {
		hash_free(h);
		errno = ENOMEM;
		return NULL;
	}
	hash_reset(h);
	return h;
}

void
hash_free(struct hash *h)
{
	if (h == NULL)
		return;
	free(h->slots);
	free(h->keys);
	free(h->values);
	free(h->slot_of);
	free(h);
}

void
hash_clear(struct hash *h)
{
	hash_reset(h);
}

/* The slot holding key (hashed to hv), or HASH_NONE. */
static uint32_t
hash_slot_find(const struct hash *h, const void *key, uint32_t hv)
{
	uint32_t i = hv & h->slot_mask;
	uint64_t s;

	/* Terminates: the load factor keeps at least one slot empty. */
	while ((s = h->slots[i]) != HASH_SLOT_EMPTY) {
		if (hash_slot_hash(s) == hv &&
		    memcmp(hash_entry_key(h, hash_slot_id(s)), key, h->key_len) == 0)
			return i;
		i = (i + 1) & h->slot_mask;
	}
	return HASH_NONE;
}

int
hash_add(struct hash *h, const void *key, uint32_t value, uint32_t *id)
{
	uint32_t hv = hash_key_hash(h, key), i = hv & h->slot_mask, e;
	uint64_t s;

	while ((s = h->slots[i]) != HASH_SLOT_EMPTY) {
		if (hash_slot_hash(s) == hv &&
		    memcmp(hash_entry_key(h, hash_slot_id(s)), key, h->key_len) == 0) {
			if (id != NULL)
				*id = hash_slot_id(s);
			return -EEXIST;
		}
		i = (i + 1) & h->slot_mask;
	}
	if (h->count == h->capacity)
		return -ENOSPC;
	e = h->free_head;
	h->free_head = h->values[e];
	memcpy(h->keys + (size_t)e * h->key_len, key, h->key_len);
	h->values[e] = value;
	h->slot_of[e] = i;
	h->slots[i] = (uint64_t)hv << 32 | (uint64_t)(e + 1);
	h->count++;
	if (id != NULL)
		*id = e;
	return 0;
}

/*
 * Empties slot i and shifts back the entries after it that probed past it, so every
 * entry stays reachable from its home slot without tombstones.
 */
static void
hash_slot_remove(struct hash *h, uint32_t i)
{
	uint32_t j = i, home;
	uint64_t s;

	for (;;) {
		j = (j + 1) & h->slot_mask;
		s = h->slots[j];
		if (s == HASH_SLOT_EMPTY)
			break;
		home = hash_slot_hash(s) & h->slot_mask;
		/* The entry at j may fill hole i unless its home lies cyclically in (i, j]. */
		if (((j - home) & h->slot_mask) >= ((j - i) & h->slot_mask)) {
			h->slots[i] = s;
			h->slot_of[hash_slot_id(s)] = i;
			i = j;
		}
	}
	h->slots[i] = HASH_SLOT_EMPTY;
}

static void
hash_entry_release(struct hash *h, uint32_t id)
{
	h->slot_of[id] = HASH_NONE;
	h->values[id] = h->free_head;
	h->free_head = id;
	h->count--;
}

int
hash_del(struct hash *h, const void *key)
{
	uint32_t i = hash_slot_find(h, key, hash_key_hash(h, key)), id;

	if (i == HASH_NONE)
		return -ENOENT;
	id = hash_slot_id(h->slots[i]);
	hash_slot_remove(h, i);
	hash_entry_release(h, id);
	return 0;
}

int
hash_del_id(struct hash *h, uint32_t id)
{
	if (id >= h->capacity || h->slot_of[id] == HASH_NONE)
		return -ENOENT;
	hash_slot_remove(h, h->slot_of[id]);
	hash_entry_release(h, id);
	return 0;
}

int
hash_lookup(const struct hash *h, const void *key, uint32_t *value)
{
	uint32_t i = hash_slot_find(h, key, hash_key_hash(h, key));

	if (i == HASH_NONE)
		return -ENOENT;
	*value = h->values[hash_slot_id(h->slots[i])];
	return 0;
}

uint32_t
hash_find(const struct hash *h, const void *key)
{
	uint32_t i = hash_slot_find(h, key, hash_key_hash(h, key));

	return i == HASH_NONE ? HASH_NONE : hash_slot_id(h->slots[i]);
}

const void *
hash_key(const struct hash *h, uint32_t id)
{
	if (id >= h->capacity || h->slot_of[id] == HASH_NONE)
		return NULL;
	return hash_entry_key(h, id);
}

uint32_t *
hash_value(struct hash *h, uint32_t id)
{
	if (id >= h->capacity || h->slot_of[id] == HASH_NONE)
		return NULL;
	return &h->values[id];
}

uint32_t
hash_next(const struct hash *h, uint32_t id)
{
	for (; id < h->capacity; id++) {
		if (h->slot_of[id] != HASH_NONE)
			return id;
	}
	return HASH_NONE;
}

uint32_t
hash_count(const struct hash *h)
{
	return h->count;
}

uint32_t
hash_capacity(const struct hash *h)
{
	return h->capacity;
}

size_t
hash_key_len(const struct hash *h)
{
	return h->key_len;
}

size_t
hash_memory_bytes(const struct hash *h)
{
	return sizeof(*h) + ((size_t)h->slot_mask + 1) * sizeof(*h->slots) +
	    (size_t)h->capacity * (h->key_len + sizeof(*h->values) + sizeof(*h->slot_of));
}
