/*
 * Seeded randomized model test of src/keyx: two routers over a network that drops,
 * duplicates, reorders and delays datagrams, and is sometimes cut altogether, for many
 * simulated minutes with short key lifetimes. TERN_SEED=<seed> repeats a run.
 *
 * Invariants, checked every 10 ms of simulated time:
 * - no key stays installed longer than reject_after (plus one tick);
 * - whenever a side has a send key, the other side has the matching receive key, or
 *   gets it within MISMATCH_MAX_NS (not counting time the network is cut);
 * - after every clean period both sides send under keys the other side receives.
 * The data-path model also checks every event (keyx_sim.h).
 */
#include "keyx_sim.h"

#define REKEY_S         20
#define REJECT_S        30
#define OVERLAP_MS      3000
#define TICK_NS         (100 * NS_PER_MS)
#define MISMATCH_MAX_NS (6 * NS_PER_S)
#define RUN_NS          (30 * 60 * NS_PER_S)

static uint64_t seed;
static struct sim sim;
static uint64_t max_mismatch_ns; /* longest mismatch seen, reported */

static void
model_check(uint64_t mismatch_since[2], uint64_t reject_ns)
{
	for (int i = 0; i < 2; i++) {
		struct sim_side *d = &sim.side[i];

		for (int j = 0; j < SIM_RECV; j++)
			if (d->recv[j].used)
				assert_true(
				    sim.now_ns - d->recv[j].installed_ns <= reject_ns + TICK_NS);
		if (d->has_send)
			assert_true(sim.now_ns - d->send_installed_ns <= reject_ns + TICK_NS);
		if (!d->has_send || sim_send_matches(&sim, i)) {
			mismatch_since[i] = 0;
			continue;
		}
		if (mismatch_since[i] == 0)
			mismatch_since[i] = sim.now_ns;
		if (sim.now_ns - mismatch_since[i] > max_mismatch_ns)
			max_mismatch_ns = sim.now_ns - mismatch_since[i];
		if (sim.now_ns - mismatch_since[i] > MISMATCH_MAX_NS)
			fail_msg(
			    "side %d sends under index %08x the other side lacks since %llu ms", i,
			    d->send_index,
			    (unsigned long long)((sim.now_ns - mismatch_since[i]) / NS_PER_MS));
	}
}

/* The data path's first packet under a pending key confirms it (keyx_note_received). */
static void
model_traffic(void)
{
	for (int i = 0; i < 2; i++) {
		if (!sim_send_matches(&sim, i) || test_rand_below(&sim.rng, 4) != 0)
			continue;
		sim_evs.count = 0;
		keyx_note_received(sim.side[1 - i].kx, sim.side[i].send_index, sim.now_ns,
		    &sim_evs);
		sim_apply(&sim, 1 - i, &sim_evs);
	}
}

static void
model_run(bool traffic)
{
	struct keyx_config cfg;
	uint64_t mismatch_since[2] = {0, 0};
	uint64_t end;
	unsigned phases = 0, cuts = 0;

	max_mismatch_ns = 0;
	memset(&cfg, 0, sizeof(cfg));
	cfg.rekey_after_ns = REKEY_S * NS_PER_S;
	cfg.reject_after_ns = REJECT_S * NS_PER_S;
	cfg.overlap_ns = OVERLAP_MS * NS_PER_MS;
	sim_init(&sim, seed ^ (traffic ? 0x7472616666696300ull : 0), &cfg);
	end = sim.now_ns + RUN_NS;
	while (sim.now_ns < end) {
		uint64_t kind = test_rand_below(&sim.rng, 10), phase_end;

		/* A faulty or cut period ... */
		sim.cut = kind == 0;
		cuts += sim.cut;
		sim.drop_milli = (unsigned)test_rand_below(&sim.rng, 101);
		sim.dup_milli = (unsigned)test_rand_below(&sim.rng, 101);
		sim.delay_min_ns = NS_PER_MS;
		sim.delay_max_ns = (1 + test_rand_below(&sim.rng, 200)) * NS_PER_MS;
		phase_end = sim.now_ns +
		    (sim.cut ? 20 + test_rand_below(&sim.rng, 100) :
		               20 + test_rand_below(&sim.rng, 40)) *
		        NS_PER_S;
		while (sim.now_ns < phase_end) {
			sim_run(&sim, 10 * NS_PER_MS);
			if (traffic && !sim.cut)
				model_traffic();
			if (sim.cut)
				mismatch_since[0] = mismatch_since[1] = 0;
			model_check(mismatch_since, cfg.reject_after_ns);
		}
		/* ... then a clean one, at whose end keys must match both ways. */
		sim.cut = false;
		sim.drop_milli = sim.dup_milli = 0;
		sim.delay_min_ns = sim.delay_max_ns = 5 * NS_PER_MS;
		phase_end = sim.now_ns + 10 * NS_PER_S;
		while (sim.now_ns < phase_end) {
			sim_run(&sim, 10 * NS_PER_MS);
			if (traffic)
				model_traffic();
			model_check(mismatch_since, cfg.reject_after_ns);
		}
		if (!sim_established(&sim))
			fail_msg("no matching keys after a clean period (phase %u)", phases);
		phases++;
	}
	printf("# traffic %d: %u phases, %u cuts, longest mismatch %llu ms, rekeys %llu/%llu, "
	       "clears %u/%u\n",
	    traffic, phases, cuts, (unsigned long long)(max_mismatch_ns / NS_PER_MS),
	    (unsigned long long)sim_status(&sim, 0).rekeys,
	    (unsigned long long)sim_status(&sim, 1).rekeys, sim.side[0].clears, sim.side[1].clears);
	assert_true(sim_status(&sim, 0).rekeys + sim_status(&sim, 1).rekeys > 20);
	sim_fini(&sim);
}

static void
test_keyx_model_without_data_feedback(void **state)
{
	(void)state;
	model_run(false);
}

static void
test_keyx_model_with_data_feedback(void **state)
{
	(void)state;
	model_run(true);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keyx_model_without_data_feedback),
	    cmocka_unit_test(test_keyx_model_with_data_feedback),
	};

	seed = test_seed();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
