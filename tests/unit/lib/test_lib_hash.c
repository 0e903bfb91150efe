/* Unit tests of lib/hash: the API contract, then random operations against a naive list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "test_rand.h"

struct key12 {
	uint32_t a, b, c;
};

static void
test_hash_new_bad_args(void **state)
{
	(void)state;
	assert_null(hash_new(0, 8, 1));
	assert_null(hash_new(HASH_CAPACITY_MAX + 1, 8, 1));
	assert_null(hash_new(8, 0, 1));
	assert_null(hash_new(8, HASH_KEY_MAX + 1, 1));
	hash_free(NULL);
}

static void
test_hash_add_lookup_del(void **state)
{
	struct hash *h = hash_new(16, sizeof(struct key12), 0);
	struct key12 k1 = {1, 2, 3}, k2 = {1, 2, 4};
	uint32_t v = 0, id1, id2;

	(void)state;
	assert_non_null(h);
	assert_int_equal(hash_key_len(h), sizeof(struct key12));
	assert_int_equal(hash_capacity(h), 16);
	assert_int_equal(hash_lookup(h, &k1, &v), -ENOENT);
	assert_int_equal(hash_add(h, &k1, 100, &id1), 0);
	assert_int_equal(hash_add(h, &k2, 200, &id2), 0);
	assert_int_not_equal(id1, id2);
	assert_int_equal(hash_count(h), 2);
	assert_int_equal(hash_lookup(h, &k1, &v), 0);
	assert_int_equal(v, 100);
	assert_int_equal(hash_lookup(h, &k2, &v), 0);
	assert_int_equal(v, 200);
	assert_int_equal(hash_find(h, &k2), id2);
	assert_memory_equal(hash_key(h, id1), &k1, sizeof(k1));

	assert_int_equal(hash_del(h, &k1), 0);
	assert_int_equal(hash_del(h, &k1), -ENOENT);
	assert_int_equal(hash_lookup(h, &k1, &v), -ENOENT);
	assert_int_equal(hash_find(h, &k1), HASH_NONE);
	assert_null(hash_key(h, id1));
	assert_null(hash_value(h, id1));
	assert_int_equal(hash_lookup(h, &k2, &v), 0);
	assert_int_equal(v, 200);
	assert_int_equal(hash_count(h), 1);
	assert_true(hash_memory_bytes(h) >= 16 * (sizeof(struct key12) + 4));
	hash_free(h);
}

static void
test_hash_add_duplicate_eexist(void **state)
{
	struct hash *h = hash_new(4, 8, 42);
	uint64_t k = 7;
	uint32_t v, id, id2 = HASH_NONE;

	(void)state;
	assert_int_equal(hash_add(h, &k, 1, &id), 0);
	assert_int_equal(hash_add(h, &k, 2, &id2), -EEXIST);
	assert_int_equal(id2, id);
	assert_int_equal(hash_add(h, &k, 3, NULL), -EEXIST);
	assert_int_equal(hash_lookup(h, &k, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(hash_count(h), 1);
	hash_free(h);
}

static void
test_hash_add_full_enospc(void **state)
{
	struct hash *h = hash_new(3, 4, 42);
	uint32_t k, v;

	(void)state;
	for (k = 0; k < 3; k++)
		assert_int_equal(hash_add(h, &k, k * 10, NULL), 0);
	k = 3;
	assert_int_equal(hash_add(h, &k, 30, NULL), -ENOSPC);
	/* A duplicate in a full table is still reported as such. */
	k = 1;
	assert_int_equal(hash_add(h, &k, 99, NULL), -EEXIST);
	assert_int_equal(hash_del(h, &k), 0);
	k = 3;
	assert_int_equal(hash_add(h, &k, 30, NULL), 0);
	assert_int_equal(hash_lookup(h, &k, &v), 0);
	assert_int_equal(v, 30);
	assert_int_equal(hash_count(h), 3);
	hash_free(h);
}

static void
test_hash_del_id_and_value_in_place(void **state)
{
	struct hash *h = hash_new(8, 2, 42);
	uint8_t key[2] = {0xab, 0xcd};
	uint32_t id, v, *vp;

	(void)state;
	assert_int_equal(hash_del_id(h, 0), -ENOENT);
	assert_int_equal(hash_del_id(h, 8), -ENOENT);
	assert_int_equal(hash_del_id(h, HASH_NONE), -ENOENT);
	assert_null(hash_key(h, HASH_NONE));
	assert_int_equal(hash_add(h, key, 5, &id), 0);
	vp = hash_value(h, id);
	assert_non_null(vp);
	assert_int_equal(*vp, 5);
	*vp = 6;
	assert_int_equal(hash_lookup(h, key, &v), 0);
	assert_int_equal(v, 6);
	assert_int_equal(hash_del_id(h, id), 0);
	assert_int_equal(hash_del_id(h, id), -ENOENT);
	assert_int_equal(hash_lookup(h, key, &v), -ENOENT);
	assert_int_equal(hash_count(h), 0);
	hash_free(h);
}

static void
test_hash_next_visits_each_and_allows_delete(void **state)
{
	struct hash *h = hash_new(64, 4, 42);
	unsigned seen[64] = {0}, n = 0;
	uint32_t k, id;

	(void)state;
	assert_int_equal(hash_next(h, 0), HASH_NONE);
	for (k = 0; k < 50; k++)
		assert_int_equal(hash_add(h, &k, k, NULL), 0);
	for (k = 0; k < 50; k += 3)
		assert_int_equal(hash_del(h, &k), 0);
	for (id = hash_next(h, 0); id != HASH_NONE; id = hash_next(h, id + 1)) {
		uint32_t key;

		memcpy(&key, hash_key(h, id), 4);
		assert_true(key < 50 && key % 3 != 0);
		assert_int_equal(*hash_value(h, id), key);
		seen[key]++;
		n++;
		/* Deleting the current entry must not disturb the walk. */
		if (key % 2 == 0)
			assert_int_equal(hash_del_id(h, id), 0);
	}
	assert_int_equal(n, 50 - 17);
	for (k = 0; k < 50; k++)
		assert_int_equal(seen[k], k % 3 != 0 ? 1 : 0);
	for (k = 0; k < 50; k++) {
		uint32_t v;

		assert_int_equal(hash_lookup(h, &k, &v), k % 3 != 0 && k % 2 != 0 ? 0 : -ENOENT);
	}
	hash_free(h);
}

static void
test_hash_clear_empties(void **state)
{
	struct hash *h = hash_new(4, 4, 42);
	uint32_t k, v;

	(void)state;
	for (k = 0; k < 4; k++)
		assert_int_equal(hash_add(h, &k, k, NULL), 0);
	hash_clear(h);
	assert_int_equal(hash_count(h), 0);
	assert_int_equal(hash_next(h, 0), HASH_NONE);
	for (k = 0; k < 4; k++)
		assert_int_equal(hash_lookup(h, &k, &v), -ENOENT);
	for (k = 10; k < 14; k++)
		assert_int_equal(hash_add(h, &k, k, NULL), 0);
	hash_free(h);
}

/* Every one-byte key in a table of exactly 256: full, all found, then emptied. */
static void
test_hash_one_byte_keys_fill_and_drain(void **state)
{
	struct hash *h = hash_new(256, 1, 0);
	uint8_t k;
	uint32_t v;

	(void)state;
	for (unsigned i = 0; i < 256; i++) {
		k = (uint8_t)(i * 37);
		assert_int_equal(hash_add(h, &k, i, NULL), 0);
	}
	assert_int_equal(hash_count(h), 256);
	k = 0;
	assert_int_equal(hash_add(h, &k, 0, NULL), -EEXIST);
	for (unsigned i = 0; i < 256; i++) {
		k = (uint8_t)(i * 37);
		assert_int_equal(hash_lookup(h, &k, &v), 0);
		assert_int_equal(v, i);
	}
	for (unsigned i = 0; i < 256; i++) {
		k = (uint8_t)(i * 101);
		assert_int_equal(hash_del(h, &k), 0);
		/* After each removal the rest is still reachable (backward shift is right). */
		for (unsigned j = i + 1; j < 256; j++) {
			uint8_t other = (uint8_t)(j * 101);

			assert_int_equal(hash_lookup(h, &other, &v), 0);
		}
	}
	assert_int_equal(hash_count(h), 0);
	hash_free(h);
}

/* Randomized model test. */

struct model_entry {
	uint8_t key[HASH_KEY_MAX];
	uint32_t value;
	uint32_t id;
};

struct model {
	struct model_entry *e;
	unsigned n;
	size_t key_len;
};

static int
model_find(const struct model *m, const uint8_t *key)
{
	for (unsigned i = 0; i < m->n; i++) {
		if (memcmp(m->e[i].key, key, m->key_len) == 0)
			return (int)i;
	}
	return -1;
}

/* Keys from a space about twice the capacity, so adds collide and lookups both hit and miss. */
static void
random_key(uint64_t *rng, uint8_t *key, size_t key_len, unsigned space)
{
	uint64_t x = test_rand_below(rng, space);

	memset(key, 0x5a, key_len);
	for (size_t i = 0; i < key_len && i < 8; i++)
		key[key_len - 1 - i] = (uint8_t)(x >> (8 * i));
	/* A key shorter than 8 bytes cannot hold the whole space: duplicates, as wanted. */
}

static void
model_run(uint64_t *rng, uint32_t capacity, size_t key_len, unsigned ops)
{
	struct hash *h = hash_new(capacity, key_len, test_rand(rng) | 1);
	struct model m = {.e = calloc(capacity, sizeof(struct model_entry)), .key_len = key_len};
	unsigned space = capacity * 2 + 1;

	assert_non_null(h);
	assert_non_null(m.e);
	for (unsigned op = 0; op < ops; op++) {
		uint8_t key[HASH_KEY_MAX];
		unsigned kind = (unsigned)test_rand_below(rng, 100);
		unsigned add_share = (op / 2000) % 2 == 0 ? 45 : 15;
		uint32_t v, id;
		int i, rc;

		random_key(rng, key, key_len, space);
		i = model_find(&m, key);
		if (kind < add_share) {
			v = (uint32_t)test_rand(rng);
			rc = hash_add(h, key, v, &id);
			if (i >= 0) {
				assert_int_equal(rc, -EEXIST);
				assert_int_equal(id, m.e[i].id);
			} else if (m.n == capacity) {
				assert_int_equal(rc, -ENOSPC);
			} else {
				assert_int_equal(rc, 0);
				assert_true(id < capacity);
				memcpy(m.e[m.n].key, key, key_len);
				m.e[m.n].value = v;
				m.e[m.n].id = id;
				m.n++;
			}
		} else if (kind < 55) {
			rc = hash_del(h, key);
			assert_int_equal(rc, i >= 0 ? 0 : -ENOENT);
			if (i >= 0)
				m.e[i] = m.e[--m.n];
		} else if (kind < 60 && m.n > 0) {
			/* Delete by id, or update a value in place. */
			unsigned j = (unsigned)test_rand_below(rng, m.n);

			if (test_rand_below(rng, 2)) {
				assert_int_equal(hash_del_id(h, m.e[j].id), 0);
				m.e[j] = m.e[--m.n];
			} else {
				v = (uint32_t)test_rand(rng);
				*hash_value(h, m.e[j].id) = v;
				m.e[j].value = v;
			}
		} else {
			rc = hash_lookup(h, key, &v);
			if (i < 0) {
				assert_int_equal(rc, -ENOENT);
				assert_int_equal(hash_find(h, key), HASH_NONE);
			} else {
				assert_int_equal(rc, 0);
				assert_int_equal(v, m.e[i].value);
				assert_int_equal(hash_find(h, key), m.e[i].id);
			}
		}
		assert_int_equal(hash_count(h), m.n);
		if (op % 997 == 0) {
			unsigned n = 0;

			/* Every model entry is found by key, and iteration yields exactly them. */
			for (unsigned j = 0; j < m.n; j++) {
				assert_int_equal(hash_lookup(h, m.e[j].key, &v), 0);
				assert_int_equal(v, m.e[j].value);
				assert_memory_equal(hash_key(h, m.e[j].id), m.e[j].key, key_len);
			}
			for (id = hash_next(h, 0); id != HASH_NONE; id = hash_next(h, id + 1)) {
				i = model_find(&m, hash_key(h, id));
				assert_true(i >= 0);
				assert_int_equal(m.e[i].id, id);
				n++;
			}
			assert_int_equal(n, m.n);
		}
	}
	free(m.e);
	hash_free(h);
}

static void
test_hash_random_against_model(void **state)
{
	static const struct {
		uint32_t capacity;
		size_t key_len;
		unsigned ops;
	} runs[] = {
	    {1, 4, 2000},
	    {2, 1, 2000},
	    {7, 3, 10000},
	    {64, 8, 20000},
	    {100, 13, 20000},
	    {300, 40, 30000},
	    {500, 64, 30000},
	};
	uint64_t rng = test_seed();

	(void)state;
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
		model_run(&rng, runs[i].capacity, runs[i].key_len, runs[i].ops);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hash_new_bad_args),
	    cmocka_unit_test(test_hash_add_lookup_del),
	    cmocka_unit_test(test_hash_add_duplicate_eexist),
	    cmocka_unit_test(test_hash_add_full_enospc),
	    cmocka_unit_test(test_hash_del_id_and_value_in_place),
	    cmocka_unit_test(test_hash_next_visits_each_and_allows_delete),
	    cmocka_unit_test(test_hash_clear_empties),
	    cmocka_unit_test(test_hash_one_byte_keys_fill_and_drain),
	    cmocka_unit_test(test_hash_random_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
