/*
 * Unit tests of svr/svr_dup_window, the duplicate filter: first copy delivered, second
 * filtered, the window's edge, wire sequences that wrap, and random arrivals of two
 * copies of a numbered stream against a naive model (TERN_SEED).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "svr/svr_dup_window.h"
#include "test_rand.h"

/* What a receiver does with a packet: check, and mark it when it is delivered. */
static int
deliver(struct svr_dup_window *w, uint32_t wire)
{
	uint64_t seq = svr_dup_window_extend(w, wire);
	int rc = svr_dup_window_check(w, seq);

	if (rc == 0)
		svr_dup_window_update(w, seq);
	return rc;
}

static void
test_svr_dup_window_second_copy_filtered(void **state)
{
	struct svr_dup_window w;

	(void)state;
	svr_dup_window_init(&w);
	assert_int_equal(deliver(&w, 1), 0);
	assert_int_equal(deliver(&w, 1), -EALREADY);
	assert_int_equal(deliver(&w, 3), 0);
	assert_int_equal(deliver(&w, 2), 0); /* late but new: the other leg lost it */
	assert_int_equal(deliver(&w, 2), -EALREADY);
	assert_int_equal(deliver(&w, 3), -EALREADY);
	assert_int_equal(w.top, 3);
}

static void
test_svr_dup_window_zero_is_stale(void **state)
{
	struct svr_dup_window w;

	(void)state;
	svr_dup_window_init(&w);
	assert_int_equal(svr_dup_window_check(&w, 0), -ESTALE);
	assert_int_equal(svr_dup_window_extend(&w, 7), 7);
}

static void
test_svr_dup_window_edge_is_exact(void **state)
{
	struct svr_dup_window w;
	uint64_t top = 1000;

	(void)state;
	svr_dup_window_init(&w);
	assert_int_equal(deliver(&w, (uint32_t)top), 0);
	/* The newest SVR_DUP_WINDOW sequences are inside, the one before is not. */
	assert_int_equal(svr_dup_window_check(&w, top - SVR_DUP_WINDOW + 1), 0);
	assert_int_equal(svr_dup_window_check(&w, top - SVR_DUP_WINDOW), -ESTALE);
	/* A jump far ahead forgets everything before the new window. */
	assert_int_equal(deliver(&w, (uint32_t)(top + 10 * SVR_DUP_WINDOW)), 0);
	assert_int_equal(svr_dup_window_check(&w, top + 10 * SVR_DUP_WINDOW - 1), 0);
	assert_int_equal(svr_dup_window_check(&w, top), -ESTALE);
}

static void
test_svr_dup_window_wire_sequence_wraps(void **state)
{
	struct svr_dup_window w;

	(void)state;
	svr_dup_window_init(&w);
	assert_int_equal(deliver(&w, 0xfffffffeu), 0);
	assert_int_equal(deliver(&w, 0xffffffffu), 0);
	assert_int_equal(deliver(&w, 0), 0);
	assert_int_equal(w.top, 0x100000000ull);
	assert_int_equal(deliver(&w, 1), 0);
	assert_int_equal(deliver(&w, 0xffffffffu), -EALREADY);
	assert_int_equal(deliver(&w, 0), -EALREADY);
	assert_int_equal(svr_dup_window_extend(&w, 0xfffffff0u), 0xfffffff0ull);
}

static void
test_svr_dup_window_extend_never_below_one(void **state)
{
	struct svr_dup_window w;

	(void)state;
	svr_dup_window_init(&w);
	assert_int_equal(deliver(&w, 5), 0);
	assert_int_equal(svr_dup_window_extend(&w, 0xfffffff0u), 0);
	assert_int_equal(deliver(&w, 0xfffffff0u), -ESTALE);
}

/*
 * Two legs deliver copies of a numbered stream, each losing some and reordering within a
 * bound; the model is "delivered before" as a plain array plus the newest delivered.
 * Everything the filter delivers must be new to the model, everything it refuses must
 * be a duplicate or stale by the model's definition, and a packet that arrives within
 * the window after its only copy was lost is delivered.
 */
static void
test_svr_dup_window_random_against_model(void **state)
{
	enum {
		N = 20000,
		SPREAD = 150
	};
	uint64_t rng = test_seed();
	/* Start near the 32-bit wrap so the extension is exercised too. */
	uint64_t base = 0xffffffffull - N / 2;
	struct arrival {
		uint64_t at;
		uint64_t seq;
	} *arr = calloc(2 * N, sizeof(*arr));
	bool *seen = calloc(N + 1, sizeof(bool));
	struct svr_dup_window w;
	uint64_t top = 0;
	size_t n = 0, delivered = 0;

	(void)state;
	assert_non_null(arr);
	assert_non_null(seen);
	svr_dup_window_init(&w);
	for (uint64_t i = 1; i <= N; i++) {
		for (int leg = 0; leg < 2; leg++) {
			if (test_rand_below(&rng, 100) < 10)
				continue; /* lost on this leg */
			arr[n].at = i * 4 + test_rand_below(&rng, leg == 0 ? 8 : SPREAD);
			arr[n].seq = i;
			n++;
		}
	}
	/* Insertion order by arrival time: a stable sort keeps it deterministic. */
	for (size_t i = 1; i < n; i++) {
		struct arrival a = arr[i];
		size_t j = i;

		while (j > 0 && arr[j - 1].at > a.at) {
			arr[j] = arr[j - 1];
			j--;
		}
		arr[j] = a;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t seq = arr[i].seq;
		uint32_t wire = (uint32_t)(base + seq);
		int want, got = deliver(&w, wire);

		if (top != 0 && seq + SVR_DUP_WINDOW <= top)
			want = -ESTALE;
		else if (seen[seq])
			want = -EALREADY;
		else
			want = 0;
		assert_int_equal(got, want);
		if (want == 0) {
			seen[seq] = true;
			delivered++;
			if (seq > top)
				top = seq;
		}
	}
	/* Each leg loses 10 %: about 1 % of the stream is lost on both. */
	assert_true(delivered > N * 97 / 100);
	free(arr);
	free(seen);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_svr_dup_window_second_copy_filtered),
	    cmocka_unit_test(test_svr_dup_window_zero_is_stale),
	    cmocka_unit_test(test_svr_dup_window_edge_is_exact),
	    cmocka_unit_test(test_svr_dup_window_wire_sequence_wraps),
	    cmocka_unit_test(test_svr_dup_window_extend_never_below_one),
	    cmocka_unit_test(test_svr_dup_window_random_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
