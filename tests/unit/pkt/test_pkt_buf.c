/* Unit tests of pkt/pkt_buf: buffer edits and the LIFO pool, plus a random model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "pkt/pkt_buf.h"
#include "pkt_test_build.h"
#include "test_rand.h"

static void
test_pkt_pool_new_zero_rejected(void **state)
{
	(void)state;
	assert_null(pkt_pool_new(0));
	pkt_pool_free(NULL);
}

static void
test_pkt_pool_get_reset_and_aligned(void **state)
{
	struct pkt_pool *pool = pkt_pool_new(4);
	struct pkt_buf *p;

	(void)state;
	assert_non_null(pool);
	assert_int_equal(pkt_pool_capacity(pool), 4);
	assert_int_equal(pkt_pool_available(pool), 4);
	p = pkt_pool_get(pool);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % 64, 0);
	assert_int_equal((uintptr_t)p->buf % 64, 0);
	assert_int_equal(p->head, PKT_BUF_HEADROOM);
	assert_int_equal(p->len, 0);
	/* Dirty it; the next get of the same buffer must come back clean. */
	p->head = 3;
	p->len = 99;
	p->user = 7;
	p->info.flags = 0xff;
	p->info.l4_off = 33;
	pkt_pool_put(pool, p);
	assert_ptr_equal(pkt_pool_get(pool), p);
	assert_int_equal(p->head, PKT_BUF_HEADROOM);
	assert_int_equal(p->len, 0);
	assert_int_equal(p->user, 0);
	assert_int_equal(p->info.flags, 0);
	assert_int_equal(p->info.l4_off, 0);
	pkt_pool_put(pool, p);
	pkt_pool_free(pool);
}

static void
test_pkt_pool_get_lifo_until_empty(void **state)
{
	struct pkt_pool *pool = pkt_pool_new(3);
	struct pkt_buf *a, *b, *c;

	(void)state;
	a = pkt_pool_get(pool);
	b = pkt_pool_get(pool);
	c = pkt_pool_get(pool);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_true(a != b && b != c && a != c);
	assert_null(pkt_pool_get(pool));
	assert_int_equal(pkt_pool_available(pool), 0);
	pkt_pool_put(pool, b);
	pkt_pool_put(pool, a);
	/* Most recently returned first: it is the one still in cache. */
	assert_ptr_equal(pkt_pool_get(pool), a);
	assert_ptr_equal(pkt_pool_get(pool), b);
	pkt_pool_put(pool, a);
	pkt_pool_put(pool, b);
	pkt_pool_put(pool, c);
	assert_int_equal(pkt_pool_available(pool), 3);
	pkt_pool_free(pool);
}

static void
test_pkt_pool_get_burst_partial(void **state)
{
	struct pkt_pool *pool = pkt_pool_new(5);
	struct pkt_buf *bufs[8];

	(void)state;
	assert_int_equal(pkt_pool_get_burst(pool, bufs, 3), 3);
	assert_int_equal(pkt_pool_available(pool), 2);
	assert_int_equal(pkt_pool_get_burst(pool, bufs + 3, 5), 2);
	assert_int_equal(pkt_pool_get_burst(pool, bufs + 5, 3), 0);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(bufs[i]->head, PKT_BUF_HEADROOM);
	pkt_pool_put_burst(pool, bufs, 5);
	assert_int_equal(pkt_pool_available(pool), 5);
	pkt_pool_free(pool);
}

static void
test_pkt_buf_set_too_big(void **state)
{
	static uint8_t big[PKT_BUF_DATA_MAX + 1];
	struct pkt_pool *pool = pkt_pool_new(1);
	struct pkt_buf *p = pkt_pool_get(pool);

	(void)state;
	assert_int_equal(pkt_buf_set(p, big, sizeof(big)), -EMSGSIZE);
	assert_int_equal(pkt_buf_set(p, big, PKT_BUF_DATA_MAX), 0);
	assert_int_equal(p->len, PKT_BUF_DATA_MAX);
	assert_int_equal(pkt_buf_tailroom(p), 0);
	assert_null(pkt_buf_put(p, 1));
	assert_non_null(pkt_buf_put(p, 0));
	pkt_pool_put(pool, p);
	pkt_pool_free(pool);
}

static void
test_pkt_buf_put_trim(void **state)
{
	struct pkt_pool *pool = pkt_pool_new(1);
	struct pkt_buf *p = pkt_pool_get(pool);
	uint8_t *t;

	(void)state;
	assert_int_equal(pkt_buf_set(p, "abc", 3), 0);
	t = pkt_buf_put(p, 2);
	assert_ptr_equal(t, pkt_buf_data(p) + 3);
	memcpy(t, "de", 2);
	assert_int_equal(p->len, 5);
	assert_memory_equal(pkt_buf_data(p), "abcde", 5);
	assert_int_equal(pkt_buf_trim(p, 6), -EINVAL);
	assert_int_equal(pkt_buf_trim(p, 2), 0);
	assert_int_equal(p->len, 2);
	pkt_pool_put(pool, p);
	pkt_pool_free(pool);
}

static void
test_pkt_buf_insert_moves_front(void **state)
{
	struct pkt_pool *pool = pkt_pool_new(1);
	struct pkt_buf *p = pkt_pool_get(pool);

	(void)state;
	assert_int_equal(pkt_buf_set(p, "HEADpayload", 11), 0);
	assert_int_equal(pkt_buf_insert(p, 4, 3), 0);
	assert_int_equal(p->head, PKT_BUF_HEADROOM - 3);
	assert_int_equal(p->len, 14);
	memcpy(pkt_buf_data(p) + 4, "MET", 3);
	assert_memory_equal(pkt_buf_data(p), "HEADMETpayload", 14);
	assert_int_equal(pkt_buf_remove(p, 4, 3), 0);
	assert_int_equal(p->head, PKT_BUF_HEADROOM);
	assert_memory_equal(pkt_buf_data(p), "HEADpayload", 11);
	/* At the very front and at the very end. */
	assert_int_equal(pkt_buf_insert(p, 0, 2), 0);
	memcpy(pkt_buf_data(p), "xy", 2);
	assert_memory_equal(pkt_buf_data(p), "xyHEADpayload", 13);
	assert_int_equal(pkt_buf_insert(p, 13, 1), 0);
	pkt_buf_data(p)[13] = 'z';
	assert_memory_equal(pkt_buf_data(p), "xyHEADpayloadz", 14);
	assert_int_equal(pkt_buf_remove(p, 13, 1), 0);
	assert_int_equal(pkt_buf_remove(p, 0, 2), 0);
	assert_memory_equal(pkt_buf_data(p), "HEADpayload", 11);
	pkt_pool_put(pool, p);
	pkt_pool_free(pool);
}

static void
test_pkt_buf_insert_bad_args(void **state)
{
	struct pkt_pool *pool = pkt_pool_new(1);
	struct pkt_buf *p = pkt_pool_get(pool);

	(void)state;
	assert_int_equal(pkt_buf_set(p, "0123456789", 10), 0);
	assert_int_equal(pkt_buf_insert(p, 11, 1), -EINVAL);
	assert_int_equal(pkt_buf_insert(p, 4, PKT_BUF_HEADROOM + 1), -ENOBUFS);
	assert_int_equal(pkt_buf_insert(p, 4, PKT_BUF_HEADROOM), 0);
	assert_int_equal(p->head, 0);
	assert_int_equal(pkt_buf_insert(p, 0, 1), -ENOBUFS);
	assert_int_equal(pkt_buf_remove(p, 4, PKT_BUF_HEADROOM), 0);
	assert_memory_equal(pkt_buf_data(p), "0123456789", 10);
	assert_int_equal(pkt_buf_remove(p, 8, 3), -EINVAL);
	assert_int_equal(pkt_buf_remove(p, 11, 0), -EINVAL);
	assert_int_equal(pkt_buf_remove(p, 10, 0), 0);
	assert_int_equal(pkt_buf_remove(p, 0, 10), 0);
	assert_int_equal(p->len, 0);
	pkt_pool_put(pool, p);
	pkt_pool_free(pool);
}

/* Random insert/remove/put/trim against a flat byte array. */
static void
test_pkt_buf_random_model(void **state)
{
	static uint8_t model[PKT_BUF_SIZE];
	uint64_t rng = test_seed();
	struct pkt_pool *pool = pkt_pool_new(2);
	struct pkt_buf *p = pkt_pool_get(pool);
	size_t mlen = 0;

	(void)state;
	for (int op = 0; op < 20000; op++) {
		size_t off, n, room;
		uint8_t *t;
		int err;

		switch (test_rand_below(&rng, 5)) {
		case 0: /* insert */
			off = test_rand_below(&rng, mlen + 2);
			n = test_rand_below(&rng, 64);
			room = pkt_buf_headroom(p);
			err = pkt_buf_insert(p, off, n);
			if (off > mlen) {
				assert_int_equal(err, -EINVAL);
				break;
			}
			if (n > room) {
				assert_int_equal(err, -ENOBUFS);
				break;
			}
			assert_int_equal(err, 0);
			memmove(model + off + n, model + off, mlen - off);
			for (size_t i = 0; i < n; i++)
				model[off + i] = pkt_buf_data(p)[off + i] =
				    (uint8_t)test_rand(&rng);
			mlen += n;
			break;
		case 1: /* remove */
			off = test_rand_below(&rng, mlen + 2);
			n = test_rand_below(&rng, 64);
			err = pkt_buf_remove(p, off, n);
			if (off > mlen || n > mlen - off) {
				assert_int_equal(err, -EINVAL);
				break;
			}
			assert_int_equal(err, 0);
			memmove(model + off, model + off + n, mlen - off - n);
			mlen -= n;
			break;
		case 2: /* put */
			n = test_rand_below(&rng, 300);
			t = pkt_buf_put(p, n);
			if (t == NULL) {
				assert_true(n > PKT_BUF_SIZE - p->head - mlen);
				break;
			}
			for (size_t i = 0; i < n; i++)
				model[mlen + i] = t[i] = (uint8_t)test_rand(&rng);
			mlen += n;
			break;
		case 3: /* trim */
			n = test_rand_below(&rng, mlen + 10);
			err = pkt_buf_trim(p, n);
			assert_int_equal(err, n > mlen ? -EINVAL : 0);
			if (err == 0)
				mlen = n;
			break;
		default: /* occasionally start over, to reach the full and empty corners */
			if (test_rand_below(&rng, 50) == 0) {
				n = test_rand_below(&rng, 2000);
				for (size_t i = 0; i < n; i++)
					model[i] = (uint8_t)test_rand(&rng);
				assert_int_equal(pkt_buf_set(p, model, n), 0);
				mlen = n;
			}
			break;
		}
		assert_int_equal(p->len, mlen);
		assert_true((size_t)p->head + p->len <= PKT_BUF_SIZE);
		assert_memory_equal(pkt_buf_data(p), model, mlen);
	}
	pkt_pool_put(pool, p);
	pkt_pool_free(pool);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pkt_pool_new_zero_rejected),
	    cmocka_unit_test(test_pkt_pool_get_reset_and_aligned),
	    cmocka_unit_test(test_pkt_pool_get_lifo_until_empty),
	    cmocka_unit_test(test_pkt_pool_get_burst_partial),
	    cmocka_unit_test(test_pkt_buf_set_too_big),
	    cmocka_unit_test(test_pkt_buf_put_trim),
	    cmocka_unit_test(test_pkt_buf_insert_moves_front),
	    cmocka_unit_test(test_pkt_buf_insert_bad_args),
	    cmocka_unit_test(test_pkt_buf_random_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
