/*
 * A fast seeded hash for table keys (session tuples, fragment ids, names).
 *
 * Not cryptographic, but seeded per table from getrandom() so a sender cannot aim a
 * flood of keys at one bucket without knowing the seed. Mixes 8 bytes per step with a
 * 64x64->128 multiply (the wyhash/rapidhash idea), which costs a few ns for a 40-byte
 * session key.
 *
 * Threads: pure functions.
 */
#ifndef TERN_LIB_HASH_FN_H
#define TERN_LIB_HASH_FN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t
hash_fn_mix(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t
hash_fn_load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Hash of len bytes at data under seed; equal inputs and seeds give equal results. */
static inline uint64_t
hash_fn_bytes(uint64_t seed, const void *data, size_t len)
{
	static const uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull,
	                      k2 = 0x8ebc6af09c88c6e3ull;
	const uint8_t *p = data;
	uint64_t h = seed ^ hash_fn_mix(seed ^ k0, k1 ^ len);
	uint8_t tail[8] = {0};

	while (len >= 16) {
		h = hash_fn_mix(hash_fn_load64(p) ^ k1 ^ h, hash_fn_load64(p + 8) ^ k2);
		p += 16;
		len -= 16;
	}
	if (len >= 8) {
		h = hash_fn_mix(hash_fn_load64(p) ^ k1, h ^ k2);
		p += 8;
		len -= 8;
	}
	/* memcpy() from NULL is undefined even for 0 bytes, and a 0-byte key may be NULL. */
	if (len > 0)
		memcpy(tail, p, len);
	h = hash_fn_mix(hash_fn_load64(tail) ^ k2 ^ len, h ^ k0);
	return hash_fn_mix(h ^ k1, h ^ k2);
}

#endif
