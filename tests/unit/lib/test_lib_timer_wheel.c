/* Unit tests of lib/timer_wheel: timing, re-arm, long timeouts and gaps, callbacks, model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "lib/timer_wheel.h"
#include "test_rand.h"

/* The caller's objects, with the node in the middle so the stride matters. */
struct obj {
	uint64_t before;
	struct timer_wheel_node node;
	uint32_t after;
};

#define OBJ_MAX 512

static struct obj objs[OBJ_MAX];

struct fired_log {
	uint32_t ids[4096];
	uint64_t at_ns[4096];
	unsigned n;
	uint64_t now_ns;
};

static struct timer_wheel *
wheel_new(uint32_t capacity, uint32_t slots, uint64_t tick_ns, uint64_t now_ns)
{
	struct timer_wheel *w;

	memset(objs, 0xa5, sizeof(objs)); /* the wheel must disarm whatever is there */
	w = timer_wheel_new(&objs[0].node, sizeof(objs[0]), capacity, slots, tick_ns, now_ns);
	assert_non_null(w);
	return w;
}

static void
log_fire(struct timer_wheel *w, uint32_t id, void *arg)
{
	struct fired_log *log = arg;

	assert_false(timer_wheel_is_armed(w, id));
	assert_true(log->n < sizeof(log->ids) / sizeof(log->ids[0]));
	log->ids[log->n] = id;
	log->at_ns[log->n] = log->now_ns;
	log->n++;
}

static unsigned
advance(struct timer_wheel *w, struct fired_log *log, uint64_t now_ns)
{
	log->now_ns = now_ns;
	return timer_wheel_advance(w, now_ns, log_fire, log);
}

static void
test_timer_wheel_new_bad_arguments_refused(void **state)
{
	(void)state;
	assert_null(timer_wheel_new(NULL, sizeof(objs[0]), 4, 8, 1, 0));
	assert_null(timer_wheel_new(&objs[0].node, 8, 4, 8, 1, 0));
	assert_null(timer_wheel_new(&objs[0].node, sizeof(objs[0]) + 1, 4, 8, 1, 0));
	assert_null(timer_wheel_new(&objs[0].node, sizeof(objs[0]), 0, 8, 1, 0));
	assert_null(timer_wheel_new(&objs[0].node, sizeof(objs[0]), 4, 0, 1, 0));
	assert_null(timer_wheel_new(&objs[0].node, sizeof(objs[0]), 4, 8, 0, 0));
	assert_null(
	    timer_wheel_new(&objs[0].node, sizeof(objs[0]), 4, TIMER_WHEEL_SLOTS_MAX + 1, 1, 0));
	timer_wheel_free(NULL);
}

static void
test_timer_wheel_add_fires_at_tick_never_early(void **state)
{
	struct timer_wheel *w = wheel_new(8, 16, 100, 1000);
	struct fired_log log = {0};

	(void)state;
	assert_int_equal(timer_wheel_count(w), 0);
	assert_false(timer_wheel_is_armed(w, 0));
	/* 1000 + 250 rounds up to the boundary at 1300. */
	assert_int_equal(timer_wheel_add(w, 3, 1250), 0);
	assert_true(timer_wheel_is_armed(w, 3));
	assert_int_equal(timer_wheel_expiry_ns(w, 3), 1300);
	assert_int_equal(timer_wheel_count(w), 1);
	assert_int_equal(advance(w, &log, 1249), 0);
	assert_int_equal(advance(w, &log, 1299), 0);
	assert_int_equal(advance(w, &log, 1300), 1);
	assert_int_equal(log.ids[0], 3);
	assert_false(timer_wheel_is_armed(w, 3));
	assert_int_equal(timer_wheel_expiry_ns(w, 3), 0);
	assert_int_equal(timer_wheel_count(w), 0);
	/* Time going back does nothing. */
	assert_int_equal(advance(w, &log, 500), 0);
	/* The untouched neighbours of the node are the caller's. */
	assert_true(objs[3].before == 0xa5a5a5a5a5a5a5a5ull && objs[3].after == 0xa5a5a5a5u);
	timer_wheel_free(w);
}

static void
test_timer_wheel_add_bad_id_refused(void **state)
{
	struct timer_wheel *w = wheel_new(8, 16, 100, 0);

	(void)state;
	assert_int_equal(timer_wheel_add(w, 8, 1000), -EINVAL);
	assert_int_equal(timer_wheel_del(w, 8), -EINVAL);
	assert_int_equal(timer_wheel_del(w, 2), -ENOENT);
	assert_false(timer_wheel_is_armed(w, UINT32_MAX));
	timer_wheel_free(w);
}

static void
test_timer_wheel_del_prevents_firing(void **state)
{
	struct timer_wheel *w = wheel_new(8, 16, 10, 0);
	struct fired_log log = {0};

	(void)state;
	for (uint32_t i = 0; i < 8; i++)
		assert_int_equal(timer_wheel_add(w, i, 50), 0);
	assert_int_equal(timer_wheel_del(w, 0), 0);
	assert_int_equal(timer_wheel_del(w, 7), 0);
	assert_int_equal(timer_wheel_del(w, 4), 0);
	assert_int_equal(timer_wheel_del(w, 4), -ENOENT);
	assert_int_equal(timer_wheel_count(w), 5);
	assert_int_equal(advance(w, &log, 50), 5);
	for (unsigned i = 0; i < log.n; i++)
		assert_true(log.ids[i] != 0 && log.ids[i] != 4 && log.ids[i] != 7);
	timer_wheel_free(w);
}

static void
test_timer_wheel_add_rearm_moves_timer(void **state)
{
	struct timer_wheel *w = wheel_new(8, 16, 10, 0);
	struct fired_log log = {0};

	(void)state;
	assert_int_equal(timer_wheel_add(w, 1, 50), 0);
	assert_int_equal(timer_wheel_add(w, 1, 90), 0);
	assert_int_equal(timer_wheel_count(w), 1);
	assert_int_equal(advance(w, &log, 80), 0);
	assert_int_equal(timer_wheel_add(w, 1, 20), 0); /* past: next tick */
	assert_int_equal(timer_wheel_expiry_ns(w, 1), 90);
	assert_int_equal(advance(w, &log, 89), 0);
	assert_int_equal(advance(w, &log, 90), 1);
	timer_wheel_free(w);
}

static void
test_timer_wheel_advance_timeout_beyond_span(void **state)
{
	/* 8 slots of 10 ns: an 80 ns span; timers many revolutions away. */
	struct timer_wheel *w = wheel_new(4, 8, 10, 0);
	struct fired_log log = {0};

	(void)state;
	assert_int_equal(timer_wheel_add(w, 0, 10000), 0); /* tick 1000, 125 revolutions */
	assert_int_equal(timer_wheel_add(w, 1, 10), 0);    /* tick 1, slot 1 */
	assert_int_equal(timer_wheel_add(w, 2, 90), 0);    /* tick 9: slot 1, next revolution */
	assert_int_equal(timer_wheel_add(w, 3, 9990), 0);
	for (uint64_t t = 0; t <= 20000; t += 10)
		advance(w, &log, t);
	assert_int_equal(log.n, 4);
	assert_int_equal(log.ids[0], 1);
	assert_int_equal(log.at_ns[0], 10);
	assert_int_equal(log.ids[1], 2);
	assert_int_equal(log.at_ns[1], 90);
	assert_int_equal(log.ids[2], 3);
	assert_int_equal(log.at_ns[2], 9990);
	assert_int_equal(log.ids[3], 0);
	assert_int_equal(log.at_ns[3], 10000);
	timer_wheel_free(w);
}

static void
test_timer_wheel_advance_long_gap_in_order(void **state)
{
	/* A 1 ns tick and a gap of about 11.6 days: stepping tick by tick would not end. */
	struct timer_wheel *w = wheel_new(OBJ_MAX, 64, 1, 0);
	struct fired_log log = {0};
	const uint64_t gap = 1000000000000000ull;

	(void)state;
	for (uint32_t i = 0; i < OBJ_MAX; i++) {
		/* Spread over the gap in a shuffled order, plus some beyond it. */
		uint64_t at = (uint64_t)((i * 7919u) % OBJ_MAX) * (gap / 400);

		assert_int_equal(timer_wheel_add(w, i, at), 0);
	}
	assert_int_equal(advance(w, &log, gap), 401);
	for (unsigned i = 1; i < log.n; i++)
		assert_true((log.ids[i - 1] * 7919u) % OBJ_MAX <= (log.ids[i] * 7919u) % OBJ_MAX);
	assert_int_equal(timer_wheel_count(w), OBJ_MAX - 401);
	/* The wheel goes on normally after the jump: the timers left fire on time. */
	log.n = 0;
	assert_int_equal(advance(w, &log, gap / 400 * 401), 1);
	assert_int_equal(timer_wheel_add(w, 0, gap + gap / 400 * 2 + 5), 0);
	assert_int_equal(advance(w, &log, gap + gap / 400 * 2 + 4), 1); /* the 402nd */
	assert_int_equal(advance(w, &log, gap + gap / 400 * 2 + 5), 1); /* id 0, one tick on */
	assert_int_equal(log.ids[2], 0);
	timer_wheel_free(w);
}

struct periodic {
	unsigned fired;
	uint64_t now_ns;
};

static void
periodic_fire(struct timer_wheel *w, uint32_t id, void *arg)
{
	struct periodic *p = arg;

	p->fired++;
	assert_int_equal(timer_wheel_add(w, id, p->now_ns + 30), 0);
}

static void
test_timer_wheel_advance_rearm_in_callback(void **state)
{
	struct timer_wheel *w = wheel_new(2, 16, 10, 0);
	struct periodic p = {0};

	(void)state;
	assert_int_equal(timer_wheel_add(w, 0, 30), 0);
	for (uint64_t t = 0; t <= 300; t += 10) {
		p.now_ns = t;
		timer_wheel_advance(w, t, periodic_fire, &p);
	}
	assert_int_equal(p.fired, 10);
	assert_true(timer_wheel_is_armed(w, 0));
	/* Re-armed in the past from a callback: due at the next tick, not lost. */
	p.now_ns = 0;
	assert_int_equal(timer_wheel_advance(w, 330, periodic_fire, &p), 1);
	assert_int_equal(timer_wheel_expiry_ns(w, 0), 340);
	timer_wheel_free(w);
}

struct killer {
	unsigned fired;
	uint32_t victim;
	bool nested_done;
};

static void
killer_fire(struct timer_wheel *w, uint32_t id, void *arg)
{
	struct killer *k = arg;

	(void)id;
	k->fired++;
	/* Whichever of the two fires first deletes the other, due in the same tick. */
	k->victim = id ^ 1;
	assert_int_equal(timer_wheel_del(w, k->victim), 0);
	/* A nested advance is refused (does nothing). */
	assert_int_equal(timer_wheel_advance(w, UINT64_MAX, killer_fire, k), 0);
}

static void
test_timer_wheel_advance_delete_pending_in_callback(void **state)
{
	struct timer_wheel *w = wheel_new(4, 16, 10, 0);
	struct killer k = {0};

	(void)state;
	assert_int_equal(timer_wheel_add(w, 0, 50), 0);
	assert_int_equal(timer_wheel_add(w, 1, 50), 0);
	assert_int_equal(timer_wheel_add(w, 2, 60), 0);
	assert_int_equal(timer_wheel_add(w, 3, 60), 0);
	assert_int_equal(timer_wheel_advance(w, 50, killer_fire, &k), 1);
	assert_int_equal(timer_wheel_count(w), 2);
	/* Also over a long gap, where due timers are gathered first. */
	assert_int_equal(timer_wheel_advance(w, 100000, killer_fire, &k), 1);
	assert_int_equal(timer_wheel_count(w), 0);
	assert_int_equal(k.fired, 2);
	timer_wheel_free(w);
}

static void
test_timer_wheel_memory_bytes_small(void **state)
{
	struct timer_wheel *w = wheel_new(OBJ_MAX, 1000, 10, 0);

	(void)state;
	/* 1000 rounds up to 1024 slots of 4 bytes plus the pending list. */
	assert_true(timer_wheel_memory_bytes(w) >= 1025 * 4);
	assert_true(timer_wheel_memory_bytes(w) <= 1025 * 4 + 256);
	assert_int_equal(timer_wheel_tick_ns(w), 10);
	timer_wheel_free(w);
}

/*
 * The model: each timer's expiry tick in a plain array (0: not armed), computed from
 * the documented rounding. A fired timer must be armed in the model, due by now, and
 * no later than any other armed timer (so firing is in order and nothing due is
 * skipped); after an advance nothing due may remain.
 */
struct model {
	struct timer_wheel *w;
	uint64_t rng;
	uint64_t origin_ns;
	uint64_t tick_ns;
	uint64_t now_ns;
	uint64_t cur_tick;
	uint64_t last_fired_tick;
	uint64_t expire[OBJ_MAX];
	uint32_t armed;
	unsigned fired;
};

static uint64_t
model_tick(const struct model *m, uint64_t at_ns)
{
	uint64_t d, t;

	d = at_ns <= m->origin_ns ? 0 : at_ns - m->origin_ns;
	t = d / m->tick_ns + (d % m->tick_ns != 0);
	return t <= m->cur_tick ? m->cur_tick + 1 : t;
}

static void
model_add(struct model *m, uint32_t id, uint64_t at_ns)
{
	assert_int_equal(timer_wheel_add(m->w, id, at_ns), 0);
	if (m->expire[id] == 0)
		m->armed++;
	m->expire[id] = model_tick(m, at_ns);
}

static void
model_del(struct model *m, uint32_t id)
{
	assert_int_equal(timer_wheel_del(m->w, id), m->expire[id] != 0 ? 0 : -ENOENT);
	if (m->expire[id] != 0)
		m->armed--;
	m->expire[id] = 0;
}

static void
model_fire(struct timer_wheel *w, uint32_t id, void *arg)
{
	struct model *m = arg;
	uint64_t target = (m->now_ns - m->origin_ns) / m->tick_ns;
	uint64_t r;

	assert_ptr_equal(w, m->w);
	assert_true(id < OBJ_MAX);
	assert_true(m->expire[id] != 0);
	assert_true(m->expire[id] <= target);
	assert_true(m->expire[id] >= m->last_fired_tick);
	for (uint32_t i = 0; i < OBJ_MAX; i++)
		assert_true(m->expire[i] == 0 || m->expire[i] >= m->expire[id]);
	m->last_fired_tick = m->expire[id];
	m->expire[id] = 0;
	m->armed--;
	m->fired++;
	/* Act on the wheel from inside the callback; only into the future of now_ns. */
	r = test_rand(&m->rng);
	switch (r % 4) {
	case 0:
		model_add(m, id, m->now_ns + 1 + (r >> 8) % (m->tick_ns * 200));
		break;
	case 1:
		model_del(m, (uint32_t)(r >> 8) % OBJ_MAX);
		break;
	case 2:
		model_add(m, (uint32_t)(r >> 8) % OBJ_MAX, m->now_ns + 1 + (r >> 20) % 1000);
		break;
	default:
		break;
	}
}

static void
test_timer_wheel_random_against_model(void **state)
{
	static struct model m;
	const uint64_t span_ns = 64 * 7;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.rng = test_seed();
	m.tick_ns = 7;
	m.origin_ns = 1000 + test_rand(&m.rng) % 1000;
	m.now_ns = m.origin_ns;
	m.w = wheel_new(OBJ_MAX, 64, m.tick_ns, m.origin_ns);
	for (int op = 0; op < 200000; op++) {
		uint64_t r = test_rand(&m.rng);
		uint32_t id = (uint32_t)(r >> 8) % OBJ_MAX;
		unsigned fired;

		switch (r % 8) {
		case 0:
		case 1:
		case 2:
			/* From the past to several revolutions ahead. */
			model_add(&m, id, m.now_ns - span_ns + (r >> 20) % (span_ns * 6));
			break;
		case 3:
			model_del(&m, id);
			break;
		default:
			if ((r >> 40) % 64 == 0)
				m.now_ns += span_ns * (1 + (r >> 48) % 100); /* long gap */
			else if ((r >> 40) % 8 == 0)
				m.now_ns += (r >> 48) % span_ns;
			else
				m.now_ns += (r >> 48) % (m.tick_ns * 3);
			m.last_fired_tick = 0;
			m.fired = 0;
			fired = timer_wheel_advance(m.w, m.now_ns, model_fire, &m);
			assert_int_equal(fired, m.fired);
			m.cur_tick = (m.now_ns - m.origin_ns) / m.tick_ns;
			for (uint32_t i = 0; i < OBJ_MAX; i++)
				assert_true(m.expire[i] == 0 || m.expire[i] > m.cur_tick);
			break;
		}
		assert_int_equal(timer_wheel_count(m.w), m.armed);
		assert_int_equal(timer_wheel_expiry_ns(m.w, id),
		    m.expire[id] == 0 ? 0 : m.origin_ns + m.expire[id] * m.tick_ns);
	}
	timer_wheel_free(m.w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_timer_wheel_new_bad_arguments_refused),
	    cmocka_unit_test(test_timer_wheel_add_fires_at_tick_never_early),
	    cmocka_unit_test(test_timer_wheel_add_bad_id_refused),
	    cmocka_unit_test(test_timer_wheel_del_prevents_firing),
	    cmocka_unit_test(test_timer_wheel_add_rearm_moves_timer),
	    cmocka_unit_test(test_timer_wheel_advance_timeout_beyond_span),
	    cmocka_unit_test(test_timer_wheel_advance_long_gap_in_order),
	    cmocka_unit_test(test_timer_wheel_advance_rearm_in_callback),
	    cmocka_unit_test(test_timer_wheel_advance_delete_pending_in_callback),
	    cmocka_unit_test(test_timer_wheel_memory_bytes_small),
	    cmocka_unit_test(test_timer_wheel_random_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
