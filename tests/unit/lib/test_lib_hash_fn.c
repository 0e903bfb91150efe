/* Unit tests of lib/hash_fn: determinism, seed and length sensitivity, bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lib/hash_fn.h"

#define MAX_LEN 64

static uint8_t data[MAX_LEN];

static int
setup(void **state)
{
	(void)state;
	for (int i = 0; i < MAX_LEN; i++)
		data[i] = (uint8_t)(i * 151 + 7);
	return 0;
}

static void
test_hash_fn_bytes_deterministic(void **state)
{
	uint8_t copy[MAX_LEN];

	(void)state;
	memcpy(copy, data, sizeof(copy));
	for (size_t len = 0; len <= MAX_LEN; len++) {
		assert_true(hash_fn_bytes(1, data, len) == hash_fn_bytes(1, data, len));
		/* Only the bytes count, not where they live. */
		assert_true(hash_fn_bytes(1, data, len) == hash_fn_bytes(1, copy, len));
	}
	assert_true(hash_fn_bytes(0, "", 0) == hash_fn_bytes(0, data, 0));
}

static void
test_hash_fn_bytes_every_length_differs(void **state)
{
	static const uint8_t zeros[MAX_LEN];
	uint64_t h[MAX_LEN + 1], z[MAX_LEN + 1];

	(void)state;
	for (size_t len = 0; len <= MAX_LEN; len++) {
		h[len] = hash_fn_bytes(42, data, len);
		/* All-zero input of each length: only the length tells them apart. */
		z[len] = hash_fn_bytes(42, zeros, len);
	}
	for (size_t i = 0; i <= MAX_LEN; i++) {
		for (size_t j = i + 1; j <= MAX_LEN; j++) {
			if (h[i] == h[j])
				fail_msg("lengths %zu and %zu collide", i, j);
			if (z[i] == z[j])
				fail_msg("zero lengths %zu and %zu collide", i, j);
		}
	}
}

static void
test_hash_fn_bytes_seed_changes_every_length(void **state)
{
	static const uint64_t seeds[] = {0, 1, 2, 0x8000000000000000ull, UINT64_MAX,
	    0x0123456789abcdefull};
	const size_t n = sizeof(seeds) / sizeof(seeds[0]);

	(void)state;
	for (size_t len = 0; len <= MAX_LEN; len++) {
		for (size_t i = 0; i < n; i++) {
			for (size_t j = i + 1; j < n; j++) {
				if (hash_fn_bytes(seeds[i], data, len) ==
				    hash_fn_bytes(seeds[j], data, len))
					fail_msg("len %zu: seeds %zu and %zu collide", len, i, j);
			}
		}
	}
}

/* Every single-bit change of the input changes the hash, and flips about half its bits. */
static void
test_hash_fn_bytes_bit_flip_avalanche(void **state)
{
	uint8_t buf[MAX_LEN];
	unsigned long flips = 0, samples = 0;

	(void)state;
	for (size_t len = 1; len <= MAX_LEN; len++) {
		uint64_t base;

		memcpy(buf, data, len);
		base = hash_fn_bytes(7, buf, len);
		for (size_t bit = 0; bit < len * 8; bit++) {
			uint64_t h;

			buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			h = hash_fn_bytes(7, buf, len);
			buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			if (h == base)
				fail_msg("len %zu: flipping bit %zu does not change the hash", len,
				    bit);
			flips += (unsigned long)__builtin_popcountll(h ^ base);
			samples++;
		}
	}
	/* 32 is ideal; a weak mix shows up far from it. */
	assert_in_range(flips * 100 / samples, 3000, 3400);
}

/* Reads exactly len bytes: an exact-size heap copy lets ASan catch any read beyond. */
static void
test_hash_fn_bytes_reads_only_len(void **state)
{
	(void)state;
	for (size_t len = 0; len <= MAX_LEN; len++) {
		for (size_t align = 0; align < 8; align++) {
			uint8_t *heap = malloc(len + align + 1);

			assert_non_null(heap);
			/* The input ends at the end of the allocation, at every alignment. */
			memcpy(heap + align + 1, data, len);
			assert_true(
			    hash_fn_bytes(3, heap + align + 1, len) == hash_fn_bytes(3, data, len));
			free(heap);
		}
	}
	/* A zero-length key may come with a NULL pointer. */
	assert_true(hash_fn_bytes(3, NULL, 0) == hash_fn_bytes(3, data, 0));
}

static void
test_hash_fn_mix_basic(void **state)
{
	(void)state;
	assert_true(hash_fn_mix(0, 12345) == 0);
	assert_true(hash_fn_mix(1, 2) == 2);
	/* The high half of the product folds in. */
	assert_true(hash_fn_mix(1ull << 63, 4) == 2);
	assert_true(hash_fn_load64((const uint8_t *)"\x01\0\0\0\0\0\0\0") == 1 ||
	    hash_fn_load64((const uint8_t *)"\x01\0\0\0\0\0\0\0") == 1ull << 56);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_hash_fn_bytes_deterministic, setup),
	    cmocka_unit_test_setup(test_hash_fn_bytes_every_length_differs, setup),
	    cmocka_unit_test_setup(test_hash_fn_bytes_seed_changes_every_length, setup),
	    cmocka_unit_test_setup(test_hash_fn_bytes_bit_flip_avalanche, setup),
	    cmocka_unit_test_setup(test_hash_fn_bytes_reads_only_len, setup),
	    cmocka_unit_test_setup(test_hash_fn_mix_basic, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
