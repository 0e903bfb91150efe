/*
 * Seed and pseudo-random numbers for the randomized model tests under tests/unit.
 *
 * Why: a model test that fails on one random sequence must be repeatable. Every such
 * test takes its seed from test_seed(), which prints it; TERN_SEED=<that number> runs
 * the same sequence again. The generator is splitmix64: tiny, fast, deterministic on
 * every platform, and any seed (0 too) gives a full-quality stream.
 */
#ifndef TERN_TESTS_UNIT_TEST_RAND_H
#define TERN_TESTS_UNIT_TEST_RAND_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

/*
 * The seed of a randomized test: TERN_SEED if it is set and not empty, otherwise fresh
 * from getrandom(), otherwise the clock. Printed (and flushed, so it survives a crash)
 * as a TAP comment.
 */
static inline uint64_t
test_seed(void)
{
	const char *env = getenv("TERN_SEED");
	uint64_t seed;

	if (env != NULL && *env != '\0')
		seed = strtoull(env, NULL, 0);
	else if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)time(NULL);
	printf("# seed %llu (TERN_SEED=%llu to repeat)\n", (unsigned long long)seed,
	    (unsigned long long)seed);
	fflush(stdout);
	return seed;
}

/* splitmix64: the next number of the stream whose state is *state. */
static inline uint64_t
test_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A number in [0, n); n must not be 0. The modulo bias is negligible for test choices. */
static inline uint64_t
test_rand_below(uint64_t *state, uint64_t n)
{
	return test_rand(state) % n;
}

#endif
