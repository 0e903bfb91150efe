/* Unit tests of crypto/crypto_replay: the anti-replay window, also against a naive model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto_replay.h"
#include "test_rand.h"

#define W CRYPTO_REPLAY_WINDOW

static void
test_crypto_replay_window_at_least_2048(void **state)
{
	(void)state;
	assert_true(W >= 2048);
}

static void
test_crypto_replay_update_in_order(void **state)
{
	struct crypto_replay w;

	(void)state;
	crypto_replay_init(&w);
	for (uint64_t c = 0; c < 3 * W; c++) {
		assert_int_equal(crypto_replay_check(&w, c), 0);
		assert_int_equal(crypto_replay_update(&w, c), 0);
		assert_int_equal(crypto_replay_check(&w, c), -EALREADY);
	}
}

static void
test_crypto_replay_update_reordered_within_window(void **state)
{
	struct crypto_replay w;

	(void)state;
	crypto_replay_init(&w);
	assert_int_equal(crypto_replay_update(&w, 2 * W), 0);
	/* Backwards down to the oldest counter the window still covers. */
	for (uint64_t c = 2 * W - 1; c > W; c--) {
		assert_int_equal(crypto_replay_update(&w, c), 0);
		assert_int_equal(crypto_replay_update(&w, c), -EALREADY);
	}
	assert_int_equal(crypto_replay_update(&w, W), -ESTALE);
	assert_int_equal(crypto_replay_update(&w, 2 * W), -EALREADY);
	assert_int_equal(crypto_replay_update(&w, 2 * W + 1), 0);
}

static void
test_crypto_replay_update_duplicate_rejected(void **state)
{
	struct crypto_replay w;

	(void)state;
	crypto_replay_init(&w);
	assert_int_equal(crypto_replay_update(&w, 0), 0);
	assert_int_equal(crypto_replay_update(&w, 0), -EALREADY);
	assert_int_equal(crypto_replay_update(&w, 5), 0);
	assert_int_equal(crypto_replay_check(&w, 5), -EALREADY);
	assert_int_equal(crypto_replay_check(&w, 0), -EALREADY);
	assert_int_equal(crypto_replay_check(&w, 3), 0);
}

static void
test_crypto_replay_check_just_outside_window(void **state)
{
	struct crypto_replay w;
	uint64_t top = 10 * W + 17;

	(void)state;
	crypto_replay_init(&w);
	assert_int_equal(crypto_replay_update(&w, top), 0);
	assert_int_equal(crypto_replay_check(&w, top - W), -ESTALE);
	assert_int_equal(crypto_replay_update(&w, top - W), -ESTALE);
	assert_int_equal(crypto_replay_check(&w, top - W + 1), 0);
	assert_int_equal(crypto_replay_update(&w, top - W + 1), 0);
	assert_int_equal(crypto_replay_check(&w, 0), -ESTALE);
}

static void
test_crypto_replay_update_far_jump_clears_blocks(void **state)
{
	/* Around one block, around the ring (64 blocks) and far beyond. */
	static const uint64_t jumps[] = {1, 63, 64, 65, 64 * 62, 64 * 63 - 1, 64 * 63, 64 * 63 + 1,
	    64 * 64 - 1, 64 * 64, 64 * 64 + 1, 64 * 65, 7 * W + 3, 1ull << 40};
	struct crypto_replay w;

	(void)state;
	for (size_t j = 0; j < sizeof(jumps) / sizeof(jumps[0]); j++) {
		/* A full window first, so a block left uncleared shows as duplicates. */
		uint64_t top = W + 100 + j, next = top + jumps[j];

		crypto_replay_init(&w);
		for (uint64_t c = 0; c <= top; c++)
			assert_int_equal(crypto_replay_update(&w, c), 0);
		assert_int_equal(crypto_replay_update(&w, next), 0);
		for (uint64_t c = next - W + 1; c < next; c++)
			assert_int_equal(crypto_replay_check(&w, c), c <= top ? -EALREADY : 0);
		assert_int_equal(crypto_replay_check(&w, next), -EALREADY);
		assert_int_equal(crypto_replay_check(&w, next - W), -ESTALE);
		assert_int_equal(crypto_replay_check(&w, top - W), -ESTALE);
	}
}

static void
test_crypto_replay_check_counter_limits(void **state)
{
	struct crypto_replay w;

	(void)state;
	crypto_replay_init(&w);
	assert_int_equal(crypto_replay_check(&w, UINT64_MAX), -ERANGE);
	assert_int_equal(crypto_replay_update(&w, UINT64_MAX), -ERANGE);
	assert_int_equal(crypto_replay_update(&w, UINT64_MAX - 1), 0);
	assert_int_equal(crypto_replay_update(&w, UINT64_MAX - 1), -EALREADY);
	assert_int_equal(crypto_replay_update(&w, UINT64_MAX - 2), 0);
	assert_int_equal(crypto_replay_check(&w, UINT64_MAX - 1 - W), -ESTALE);
	assert_int_equal(crypto_replay_check(&w, 0), -ESTALE);
	assert_int_equal(crypto_replay_check(&w, UINT64_MAX), -ERANGE);
}

static void
test_crypto_replay_update_failure_changes_nothing(void **state)
{
	struct crypto_replay w, copy;

	(void)state;
	crypto_replay_init(&w);
	assert_int_equal(crypto_replay_update(&w, 5000), 0);
	assert_int_equal(crypto_replay_update(&w, 4990), 0);
	memcpy(&copy, &w, sizeof(w));
	assert_int_equal(crypto_replay_update(&w, 4990), -EALREADY);
	assert_int_equal(crypto_replay_update(&w, 1), -ESTALE);
	assert_memory_equal(&copy, &w, sizeof(w));
}

/*
 * The naive model: the greatest accepted counter and the list of accepted counters
 * still inside the window (older ones are pruned; they are stale anyway).
 */
struct model {
	bool any;
	uint64_t top;
	uint64_t *seen;
	size_t n;
};

static int
model_check(const struct model *m, uint64_t c)
{
	if (c == UINT64_MAX)
		return -ERANGE;
	if (!m->any || c > m->top)
		return 0;
	if (m->top - c >= W)
		return -ESTALE;
	for (size_t i = 0; i < m->n; i++)
		if (m->seen[i] == c)
			return -EALREADY;
	return 0;
}

static void
model_update(struct model *m, uint64_t c)
{
	size_t j = 0;

	if (!m->any || c > m->top)
		m->top = c;
	m->any = true;
	m->seen[m->n++] = c;
	for (size_t i = 0; i < m->n; i++)
		if (m->top - m->seen[i] < W)
			m->seen[j++] = m->seen[i];
	m->n = j;
}

static void
test_crypto_replay_update_random_against_model(void **state)
{
	uint64_t rng = test_seed();
	struct crypto_replay w;
	struct model m = {0};

	(void)state;
	m.seen = calloc(W + 1, sizeof(*m.seen));
	assert_non_null(m.seen);
	crypto_replay_init(&w);
	for (int i = 0; i < 30000; i++) {
		if (i % 10000 == 0) {
			/* A new key: both start empty again. */
			crypto_replay_init(&w);
			m.any = false;
			m.n = 0;
		}

		uint64_t r = test_rand_below(&rng, 100), base = m.any ? m.top : 0, c;

		if (r < 40)
			c = base + test_rand_below(&rng, 3); /* mostly in order */
		else if (r < 80)
			c = base - test_rand_below(&rng, W + 64); /* reordered, stale, duplicate */
		else if (r < 95)
			c = base + test_rand_below(&rng, 3 * W); /* jumps across blocks */
		else if (r < 98)
			c = test_rand(&rng); /* anywhere, far jumps */
		else
			c = UINT64_MAX - test_rand_below(&rng, 3);
		if (c > base && !m.any)
			c = test_rand_below(&rng, 100);

		int want = model_check(&m, c);

		assert_int_equal(crypto_replay_check(&w, c), want);
		/*
		 * Only about half the packets authenticate: the others only check. Jumps to
		 * the ends of the counter space rarely authenticate, or the rest of the run
		 * would only see stale counters.
		 */
		if (test_rand_below(&rng, 2) == 0 && (r < 95 || i % 3000 == 0)) {
			assert_int_equal(crypto_replay_update(&w, c), want);
			if (want == 0)
				model_update(&m, c);
		}
	}
	free(m.seen);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crypto_replay_window_at_least_2048),
	    cmocka_unit_test(test_crypto_replay_update_in_order),
	    cmocka_unit_test(test_crypto_replay_update_reordered_within_window),
	    cmocka_unit_test(test_crypto_replay_update_duplicate_rejected),
	    cmocka_unit_test(test_crypto_replay_check_just_outside_window),
	    cmocka_unit_test(test_crypto_replay_update_far_jump_clears_blocks),
	    cmocka_unit_test(test_crypto_replay_check_counter_limits),
	    cmocka_unit_test(test_crypto_replay_update_failure_changes_nothing),
	    cmocka_unit_test(test_crypto_replay_update_random_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
