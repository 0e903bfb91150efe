/*
 * Seeded randomized model test of the path prober: two probers over a network whose
 * delay, jitter, loss and outages change at random every few seconds, for simulated
 * minutes, with short timers. TERN_SEED=<seed> repeats a run.
 *
 * A naive model follows each side's path from the STATE events alone and checks:
 * - transitions are legal (UNKNOWN->UP, UP->DOWN, DOWN->HOLD_DOWN, HOLD_DOWN->UP/DOWN);
 * - HOLD_DOWN -> UP only after the hold-down announced on entry has fully passed;
 * - the hold-down is base * 2^k, capped at the maximum, and grows only on FLAPPED;
 * - both directions cut: DOWN within down_after intervals + 1 tick;
 * - both directions clean for a hold-down maximum plus a second: UP;
 * - status values in range: loss 0..100, MOS 1..4.5, received <= sent by the peer.
 */
#include "path_sim.h"

#define STEP_NS      (2 * NS_PER_MS)
#define PHASE_MS     4000
#define RUN_NS       (20 * 60 * NS_PER_S)
#define HOLD_NS      (NS_PER_S)
#define HOLD_MAX_NS  (8 * NS_PER_S)
#define FLAP_NS      (10 * NS_PER_S)
#define IN_FLIGHT_NS ((150 + 30) * NS_PER_MS) /* the longest delay + jitter below */

static uint64_t seed;
static struct sim sim;

struct model {
	uint8_t state;
	uint64_t hold_entry_ns, hold_ns;
	unsigned seen;
};

static bool
hold_valid(uint64_t h)
{
	for (uint64_t v = HOLD_NS; v < HOLD_MAX_NS; v *= 2)
		if (h == v)
			return true;
	return h == HOLD_MAX_NS;
}

static void
model_follow(struct model *m, const struct sim_side *d)
{
	for (; m->seen < d->nchanges; m->seen++) {
		const struct sim_change *c = &d->changes[m->seen];
		uint64_t old_hold = m->hold_ns;

		assert_int_equal(c->old_state, m->state);
		assert_true(hold_valid(c->hold_down_ns));
		switch (c->new_state) {
		case PATH_STATE_UP:
			assert_true(
			    m->state == PATH_STATE_UNKNOWN || m->state == PATH_STATE_HOLD_DOWN);
			if (m->state == PATH_STATE_HOLD_DOWN)
				assert_true(c->ts_ns - m->hold_entry_ns >= m->hold_ns);
			break;
		case PATH_STATE_DOWN:
			assert_true(m->state == PATH_STATE_UP || m->state == PATH_STATE_HOLD_DOWN);
			if (m->state == PATH_STATE_HOLD_DOWN)
				assert_int_equal(c->reason, PATH_CHANGE_FLAPPED);
			if (c->reason == PATH_CHANGE_FLAPPED)
				assert_true(c->hold_down_ns == HOLD_MAX_NS ||
				    c->hold_down_ns >= 2 * old_hold);
			break;
		case PATH_STATE_HOLD_DOWN:
			assert_int_equal(m->state, PATH_STATE_DOWN);
			m->hold_entry_ns = c->ts_ns;
			break;
		default:
			fail_msg("transition to %u", c->new_state);
		}
		/* Outside a flap the hold-down only shrinks (decay) or stays. */
		if (c->reason != PATH_CHANGE_FLAPPED && m->seen > 0)
			assert_true(c->hold_down_ns <= old_hold || old_hold == 0);
		m->hold_ns = c->hold_down_ns;
		m->state = c->new_state;
	}
}

static void
test_path_prober_model_random_network(void **state)
{
	struct path_config cfg;
	struct model m[2];
	uint64_t end, cut_since = 0, clean_since = 0;
	unsigned phases = 0, cuts = 0, ups = 0;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.hold_down_ns = HOLD_NS;
	cfg.hold_down_max_ns = HOLD_MAX_NS;
	cfg.flap_window_ns = FLAP_NS;
	sim_init(&sim, seed, true, &cfg);
	memset(m, 0, sizeof(m));
	m[0].hold_ns = m[1].hold_ns = 0;
	end = sim.now_ns + RUN_NS;
	while (sim.now_ns < end) {
		uint64_t phase_end =
		    sim.now_ns + (1 + test_rand_below(&sim.rng, PHASE_MS)) * NS_PER_MS;
		unsigned kind = (unsigned)test_rand_below(&sim.rng, 6);
		bool clean = false;

		phases++;
		for (int i = 0; i < 2; i++) {
			struct sim_link *l = &sim.link[i];

			l->delay_ns = test_rand_below(&sim.rng, 150) * NS_PER_MS;
			l->jitter_ns = test_rand_below(&sim.rng, 3) == 0 ?
			    test_rand_below(&sim.rng, 30) * NS_PER_MS :
			    0;
			l->loss_ppm = kind == 1 ? (uint32_t)test_rand_below(&sim.rng, 300000) : 0;
			l->cut = false;
		}
		if (kind == 2) { /* both ways */
			sim.link[0].cut = sim.link[1].cut = true;
			cuts++;
		} else if (kind == 3) { /* one way */
			sim.link[test_rand_below(&sim.rng, 2)].cut = true;
		} else if (kind == 4) { /* a long clean period */
			phase_end = sim.now_ns + HOLD_MAX_NS + 3 * NS_PER_S;
			sim.link[0].jitter_ns = sim.link[1].jitter_ns = 0;
			clean = true;
		}
		cut_since = kind == 2 ? sim.now_ns : 0;
		clean_since = clean ? sim.now_ns : 0;
		while (sim.now_ns < phase_end && sim.now_ns < end) {
			sim_run(&sim, STEP_NS, STEP_NS);
			for (int i = 0; i < 2; i++) {
				struct path_status st;

				model_follow(&m[i], &sim.side[i]);
				sim_status(&sim, i, &st);
				assert_int_equal(st.state, m[i].state);
				assert_true(st.loss_pct >= 0.0 && st.loss_pct <= 100.0);
				assert_true(!st.measured || (st.mos >= 1.0 && st.mos <= 4.5));
				assert_true(st.probes_received <= sim.sent[1 - i]);
				/* Cut: down within 3 intervals of the last datagram in flight. */
				if (cut_since != 0 &&
				    sim.now_ns - cut_since >
				        3 * PATH_INTERVAL_NS_DEFAULT + IN_FLIGHT_NS + STEP_NS)
					assert_true(st.state == PATH_STATE_DOWN ||
					    st.state == PATH_STATE_UNKNOWN);
				if (clean_since != 0 &&
				    sim.now_ns - clean_since > HOLD_MAX_NS + 2 * NS_PER_S) {
					assert_int_equal(st.state, PATH_STATE_UP);
					ups++;
				}
			}
		}
	}
	assert_int_equal(sim.side[0].nchanges < SIM_CHANGES, true);
	print_message("# %u phases, %u cuts, %u/%u state changes, %u clean checks\n", phases, cuts,
	    sim.side[0].nchanges, sim.side[1].nchanges, ups);
	sim_fini(&sim);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_path_prober_model_random_network),
	};

	seed = test_seed();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
