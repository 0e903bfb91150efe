/*
 * Unit tests of svr/svr_waypoint: even/odd pairing, exhaustion and recovery, FIFO reuse,
 * refused double frees, and random get/put against a naive model (TERN_SEED).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "svr/svr_waypoint.h"
#include "test_rand.h"

static void
test_svr_waypoint_ports_get_even_odd_from_16384(void **state)
{
	struct svr_waypoint_ports *w = svr_waypoint_ports_new(SVR_WAYPOINT_PORT_FIRST, 65535);
	uint16_t local, peer;

	(void)state;
	assert_non_null(w);
	assert_int_equal(svr_waypoint_ports_capacity(w), 24576);
	assert_int_equal(svr_waypoint_ports_in_use(w), 0);
	for (uint32_t i = 0; i < 24576; i++) {
		assert_int_equal(svr_waypoint_ports_get(w, &local, &peer), 0);
		assert_int_equal(local, 16384 + 2 * i);
		assert_int_equal(peer, local + 1);
	}
	assert_int_equal(local, 65534);
	assert_int_equal(peer, 65535);
	assert_int_equal(svr_waypoint_ports_in_use(w), 24576);
	svr_waypoint_ports_free(w);
}

static void
test_svr_waypoint_ports_new_rounds_and_bounds(void **state)
{
	struct svr_waypoint_ports *w;
	uint16_t local, peer;

	(void)state;
	/* An odd first port is rounded up; a last port without its odd partner is unused. */
	w = svr_waypoint_ports_new(20001, 20006);
	assert_non_null(w);
	assert_int_equal(svr_waypoint_ports_capacity(w), 2);
	assert_int_equal(svr_waypoint_ports_get(w, &local, &peer), 0);
	assert_int_equal(local, 20002);
	assert_int_equal(svr_waypoint_ports_get(w, &local, &peer), 0);
	assert_int_equal(local, 20004);
	assert_int_equal(peer, 20005);
	assert_int_equal(svr_waypoint_ports_get(w, &local, &peer), -EADDRNOTAVAIL);
	svr_waypoint_ports_free(w);
	/* One pair at the very top of the port space. */
	w = svr_waypoint_ports_new(65534, 65535);
	assert_non_null(w);
	assert_int_equal(svr_waypoint_ports_capacity(w), 1);
	svr_waypoint_ports_free(w);
	/* Empty ranges and port 0. */
	assert_null(svr_waypoint_ports_new(65535, 65535));
	assert_null(svr_waypoint_ports_new(20000, 20000));
	assert_null(svr_waypoint_ports_new(20001, 20002));
	assert_null(svr_waypoint_ports_new(30000, 20000));
	assert_null(svr_waypoint_ports_new(0, 100));
	svr_waypoint_ports_free(NULL);
}

static void
test_svr_waypoint_ports_get_exhausted_then_recovers(void **state)
{
	struct svr_waypoint_ports *w = svr_waypoint_ports_new(40000, 40007);
	uint16_t local, peer, first_local = 0;

	(void)state;
	assert_non_null(w);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(svr_waypoint_ports_get(w, &local, &peer), 0);
		if (i == 1)
			first_local = local;
	}
	local = peer = 7;
	assert_int_equal(svr_waypoint_ports_get(w, &local, &peer), -EADDRNOTAVAIL);
	assert_int_equal(local, 7);
	assert_int_equal(svr_waypoint_ports_get(w, &local, &peer), -EADDRNOTAVAIL);
	assert_int_equal(svr_waypoint_ports_put(w, first_local), 0);
	assert_int_equal(svr_waypoint_ports_in_use(w), 3);
	assert_int_equal(svr_waypoint_ports_get(w, &local, &peer), 0);
	assert_int_equal(local, first_local);
	assert_int_equal(peer, first_local + 1);
	svr_waypoint_ports_free(w);
}

static void
test_svr_waypoint_ports_put_reused_in_fifo_order(void **state)
{
	static const uint16_t want[] = {5, 6, 7, 3, 0, 4};
	struct svr_waypoint_ports *w = svr_waypoint_ports_new(16384, 16384 + 2 * 8 - 1);
	uint16_t local, peer;

	(void)state;
	assert_non_null(w);
	for (int i = 0; i < 5; i++)
		assert_int_equal(svr_waypoint_ports_get(w, &local, &peer), 0);
	/* Freed pairs queue behind the three never used, in the order they were freed. */
	assert_int_equal(svr_waypoint_ports_put(w, 16384 + 2 * 3), 0);
	assert_int_equal(svr_waypoint_ports_put(w, 16384 + 2 * 0), 0);
	assert_int_equal(svr_waypoint_ports_put(w, 16384 + 2 * 4), 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(svr_waypoint_ports_get(w, &local, &peer), 0);
		assert_int_equal(local, 16384 + 2 * want[i]);
	}
	assert_int_equal(svr_waypoint_ports_get(w, &local, &peer), -EADDRNOTAVAIL);
	svr_waypoint_ports_free(w);
}

static void
test_svr_waypoint_ports_put_double_free_refused(void **state)
{
	struct svr_waypoint_ports *w = svr_waypoint_ports_new(16384, 16393);
	uint16_t local, peer;

	(void)state;
	assert_non_null(w);
	assert_int_equal(svr_waypoint_ports_get(w, &local, &peer), 0);
	assert_int_equal(svr_waypoint_ports_put(w, local), 0);
	assert_int_equal(svr_waypoint_ports_put(w, local), -EINVAL);
	/* Never allocated, odd (the peer's port), below and above the range. */
	assert_int_equal(svr_waypoint_ports_put(w, 16386), -EINVAL);
	assert_int_equal(svr_waypoint_ports_get(w, &local, &peer), 0);
	assert_int_equal(svr_waypoint_ports_put(w, peer), -EINVAL);
	assert_int_equal(svr_waypoint_ports_put(w, 16382), -EINVAL);
	assert_int_equal(svr_waypoint_ports_put(w, 16394), -EINVAL);
	assert_int_equal(svr_waypoint_ports_put(w, 0), -EINVAL);
	assert_int_equal(svr_waypoint_ports_put(w, 65534), -EINVAL);
	assert_int_equal(svr_waypoint_ports_in_use(w), 1);
	/* The refused puts left the pool whole: 5 pairs, one out, four to get. */
	for (int i = 0; i < 4; i++)
		assert_int_equal(svr_waypoint_ports_get(w, &local, &peer), 0);
	assert_int_equal(svr_waypoint_ports_get(w, &local, &peer), -EADDRNOTAVAIL);
	svr_waypoint_ports_free(w);
}

/*
 * The model: a set of allocated local ports and a plain FIFO array of free ones, each
 * operation checked for the exact port the allocator must give.
 */
static void
test_svr_waypoint_ports_random_against_model(void **state)
{
	enum {
		FIRST = 30001,
		LAST = 30201,
		CAP = 100
	};
	static bool out[65536];
	static uint16_t fifo[1 << 20];
	size_t head = 0, tail = 0;
	uint16_t held[CAP];
	size_t nheld = 0;
	struct svr_waypoint_ports *w;
	uint64_t rng = test_seed();

	(void)state;
	memset(out, 0, sizeof(out));
	w = svr_waypoint_ports_new(FIRST, LAST);
	assert_non_null(w);
	assert_int_equal(svr_waypoint_ports_capacity(w), CAP);
	for (uint16_t p = 30002; p + 1 <= LAST; p += 2)
		fifo[tail++] = p;
	for (int op = 0; op < 200000; op++) {
		uint32_t r = (uint32_t)test_rand_below(&rng, 100);
		uint16_t local, peer;

		if (tail - head >= (1u << 20) - CAP)
			fail_msg("model fifo too small");
		if (r < 50) {
			int rc = svr_waypoint_ports_get(w, &local, &peer);

			if (head == tail) {
				assert_int_equal(rc, -EADDRNOTAVAIL);
				continue;
			}
			assert_int_equal(rc, 0);
			assert_int_equal(local, fifo[head]);
			assert_int_equal(peer, local + 1);
			assert_false(out[local]);
			head++;
			out[local] = true;
			held[nheld++] = local;
		} else if (r < 90 && nheld > 0) {
			size_t i = test_rand_below(&rng, nheld);

			local = held[i];
			held[i] = held[--nheld];
			assert_int_equal(svr_waypoint_ports_put(w, local), 0);
			out[local] = false;
			fifo[tail++] = local;
		} else {
			/* A random port: refused unless it is an allocated even port. */
			local = (uint16_t)(FIRST - 4 + test_rand_below(&rng, LAST - FIRST + 8));
			if (out[local])
				continue;
			assert_int_equal(svr_waypoint_ports_put(w, local), -EINVAL);
		}
		assert_int_equal(svr_waypoint_ports_in_use(w), nheld);
	}
	svr_waypoint_ports_free(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_svr_waypoint_ports_get_even_odd_from_16384),
	    cmocka_unit_test(test_svr_waypoint_ports_new_rounds_and_bounds),
	    cmocka_unit_test(test_svr_waypoint_ports_get_exhausted_then_recovers),
	    cmocka_unit_test(test_svr_waypoint_ports_put_reused_in_fifo_order),
	    cmocka_unit_test(test_svr_waypoint_ports_put_double_free_refused),
	    cmocka_unit_test(test_svr_waypoint_ports_random_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
