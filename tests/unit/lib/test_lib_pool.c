/* Unit tests of lib/pool: index handout, double put, exhaustion, and a random model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "lib/pool.h"
#include "test_rand.h"

static void
test_pool_new_zero_capacity_refused(void **state)
{
	(void)state;
	assert_null(pool_new(0));
	pool_free(NULL);
}

static void
test_pool_get_hands_out_every_index_once(void **state)
{
	struct pool *p = pool_new(130);
	uint32_t index;

	(void)state;
	assert_non_null(p);
	assert_int_equal(pool_capacity(p), 130);
	for (uint32_t i = 0; i < 130; i++) {
		assert_false(pool_in_use(p, i));
		assert_int_equal(pool_get(p, &index), 0);
		assert_int_equal(index, i);
		assert_true(pool_in_use(p, i));
	}
	assert_int_equal(pool_count(p), 130);
	assert_int_equal(pool_get(p, &index), -ENOSPC);
	pool_free(p);
}

static void
test_pool_put_double_refused(void **state)
{
	struct pool *p = pool_new(8);
	uint32_t a, b;

	(void)state;
	assert_int_equal(pool_get(p, &a), 0);
	assert_int_equal(pool_put(p, a), 0);
	assert_int_equal(pool_put(p, a), -EINVAL);
	assert_int_equal(pool_put(p, 8), -EINVAL);
	assert_int_equal(pool_put(p, UINT32_MAX), -EINVAL);
	assert_false(pool_in_use(p, UINT32_MAX));
	assert_int_equal(pool_count(p), 0);
	/* Last in, first out: the index just freed comes back first. */
	assert_int_equal(pool_get(p, &a), 0);
	assert_int_equal(pool_get(p, &b), 0);
	assert_int_equal(pool_put(p, a), 0);
	assert_int_equal(pool_get(p, &b), 0);
	assert_int_equal(a, b);
	pool_free(p);
}

static void
test_pool_memory_bytes_small(void **state)
{
	struct pool *p = pool_new(1000000);

	(void)state;
	assert_non_null(p);
	/* 4 bytes of free stack plus one bit per index. */
	assert_true(pool_memory_bytes(p) <= 1000000 * 4 + 1000000 / 8 + 256);
	pool_free(p);
}

static void
test_pool_random_against_model(void **state)
{
	enum {
		CAP = 300,
		OPS = 200000
	};
	uint64_t rng = test_seed();
	struct pool *p = pool_new(CAP);
	bool used[CAP] = {false};
	uint32_t count = 0;

	(void)state;
	assert_non_null(p);
	for (int op = 0; op < OPS; op++) {
		uint64_t r = test_rand(&rng);
		uint32_t i = (uint32_t)(r >> 8) % (CAP + 2);

		if (r & 1) {
			uint32_t got = UINT32_MAX;
			int rc = pool_get(p, &got);

			if (count == CAP) {
				assert_int_equal(rc, -ENOSPC);
				continue;
			}
			assert_int_equal(rc, 0);
			assert_true(got < CAP);
			assert_false(used[got]);
			used[got] = true;
			count++;
		} else {
			bool live = i < CAP && used[i];

			assert_int_equal(pool_put(p, i), live ? 0 : -EINVAL);
			if (live) {
				used[i] = false;
				count--;
			}
		}
		assert_int_equal(pool_count(p), count);
		assert_int_equal(pool_in_use(p, i), i < CAP && used[i]);
	}
	for (uint32_t i = 0; i < CAP; i++)
		assert_int_equal(pool_in_use(p, i), used[i]);
	pool_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pool_new_zero_capacity_refused),
	    cmocka_unit_test(test_pool_get_hands_out_every_index_once),
	    cmocka_unit_test(test_pool_put_double_refused),
	    cmocka_unit_test(test_pool_memory_bytes_small),
	    cmocka_unit_test(test_pool_random_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
