/*
 * Unit tests of the path prober: two probers back to back through path_sim.h's
 * in-memory network with controllable delay, jitter, loss and outages.
 */
#include "path_sim.h"

#include <math.h>

static uint64_t seed;
static struct sim sim;

/* The captured probes of side 0 (tap), for tampering and replays. */
static uint8_t cap_msg[64][PATH_PROBE_LEN];
static unsigned cap_count;

static void
tap_capture(struct sim *s, int from, const uint8_t *msg, size_t len)
{
	(void)s;
	if (from == 0 && cap_count < 64 && len == PATH_PROBE_LEN)
		memcpy(cap_msg[cap_count++], msg, len);
}

static unsigned
count_changes(const struct sim_side *d, uint8_t to, uint8_t reason)
{
	unsigned n = 0;

	for (unsigned k = 0; k < d->nchanges; k++)
		if (d->changes[k].new_state == to &&
		    (reason == 0 || d->changes[k].reason == reason))
			n++;
	return n;
}

static void
test_path_clean_path_comes_up_with_mos_4_40(void **state)
{
	struct path_status st;
	struct path_prober_stats stats;

	(void)state;
	sim_init(&sim, seed, true, NULL);
	sim_links(&sim, 2 * NS_PER_MS, 0, 0, false); /* 4 ms round trip */
	/* First contact: UP at the first answer (one interval), no hold-down. */
	sim_run(&sim, 110 * NS_PER_MS, NS_PER_MS);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(sim.side[i].state, PATH_STATE_UP);
		assert_int_equal(sim.side[i].changes[0].reason, PATH_CHANGE_FIRST_ANSWER);
		assert_true(sim.side[i].changes[0].ts_ns - SIM_T0 <= 110 * NS_PER_MS);
	}
	sim_run(&sim, 10 * NS_PER_S - 110 * NS_PER_MS, NS_PER_MS);
	for (int i = 0; i < 2; i++) {
		sim_status(&sim, i, &st);
		assert_int_equal(st.state, PATH_STATE_UP);
		assert_true(st.measured);
		assert_int_equal(st.rtt_us, 4000);
		assert_int_equal(st.latency_us, 2000);
		assert_true(st.latency_avg_us >= 1990 && st.latency_avg_us <= 2010);
		assert_int_equal(st.jitter_us, 0);
		assert_true(st.loss_pct == 0.0);
		assert_true(fabs(st.mos - 4.40) <= 0.01);
		assert_true(st.probes_sent >= 100 && st.probes_sent <= 102);
		assert_int_equal(st.bytes_sent, st.probes_sent * PATH_PROBE_LEN);
		assert_true(st.probes_received >= 99);
		assert_int_equal(st.flaps, 0);
		assert_int_equal(st.hold_down_ns, PATH_HOLD_DOWN_NS_DEFAULT);
	}
	/* Probe traffic at the defaults: ~10 probes per second, 64 bytes each. */
	sim_status(&sim, 0, &st);
	print_message(
	    "# probe traffic per path and direction: %.1f probes/s, %.0f B/s UDP payload, "
	    "%.0f B/s as IPv4 (+28), %.0f B/s as IPv6 (+48)\n",
	    st.probes_sent / 10.01, st.bytes_sent / 10.01,
	    (st.bytes_sent + 28.0 * st.probes_sent) / 10.01,
	    (st.bytes_sent + 48.0 * st.probes_sent) / 10.01);
	path_prober_stats(sim.side[1].p, &stats);
	assert_int_equal(stats.bad_tag + stats.malformed + stats.replayed + stats.unknown_path +
	        stats.unknown_key + stats.stale_echo + stats.tx_no_key,
	    0);
	sim_fini(&sim);
}

static void
test_path_latency_is_half_the_round_trip_and_mos_follows(void **state)
{
	struct path_status st;
	double want;

	(void)state;
	sim_init(&sim, seed, true, NULL);
	sim_links(&sim, 200 * NS_PER_MS, 0, 0, false);
	sim_run(&sim, 10 * NS_PER_S, NS_PER_MS);
	sim_status(&sim, 0, &st);
	assert_int_equal(st.state, PATH_STATE_UP);
	assert_true(st.latency_us >= 199000 && st.latency_us <= 201000);
	assert_true(st.latency_avg_us >= 199000 && st.latency_avg_us <= 201000);
	want = path_mos(200000, 0, 0); /* eff 210 ms: R = 93.2 - 9 = 84.2, MOS 4.17 */
	assert_true(fabs(st.mos - want) < 0.01);
	assert_true(fabs(st.mos - 4.17) < 0.01);
	/* Asymmetric: 50 ms one way, 150 ms back: latency is still half the round trip. */
	sim_fini(&sim);
	sim_init(&sim, seed, true, NULL);
	sim.link[0].delay_ns = 50 * NS_PER_MS;
	sim.link[1].delay_ns = 150 * NS_PER_MS;
	sim_run(&sim, 5 * NS_PER_S, NS_PER_MS);
	for (int i = 0; i < 2; i++) {
		sim_status(&sim, i, &st);
		assert_true(st.latency_us >= 99000 && st.latency_us <= 101000);
	}
	sim_fini(&sim);
}

static void
test_path_jitter_is_measured(void **state)
{
	struct path_status st;

	(void)state;
	sim_init(&sim, seed, true, NULL);
	/* Uniform 0..20 ms extra delay: mean |D| of two such is 6.7 ms. */
	sim_links(&sim, 20 * NS_PER_MS, 20 * NS_PER_MS, 0, false);
	sim_run(&sim, 30 * NS_PER_S, NS_PER_MS);
	sim_status(&sim, 0, &st);
	assert_int_equal(st.state, PATH_STATE_UP);
	assert_true(st.jitter_us > 3000 && st.jitter_us < 11000);
	assert_true(st.mos < path_mos(st.latency_avg_us, 0, st.loss_pct));
	sim_fini(&sim);
}

static void
test_path_loss_converges_near_5_percent(void **state)
{
	struct path_status st;
	double sum = 0, real;
	unsigned n = 0;
	uint64_t sent0, dropped0;

	(void)state;
	sim_init(&sim, seed, true, NULL);
	sim_links(&sim, 10 * NS_PER_MS, 0, 50000, false);
	sim_run(&sim, 10 * NS_PER_S, NS_PER_MS);
	sent0 = sim.sent[0];
	dropped0 = sim.dropped[0];
	for (int k = 0; k < 200; k++) {
		sim_run(&sim, NS_PER_S, 2 * NS_PER_MS);
		sim_status(&sim, 0, &st);
		sum += st.loss_pct;
		n++;
	}
	real = 100.0 * (double)(sim.dropped[0] - dropped0) / (double)(sim.sent[0] - sent0);
	print_message("# 5%% loss each way: mean estimate %.2f%% over %u samples (real %.2f%%), "
	              "last %.2f%%\n",
	    sum / n, n, real, st.loss_pct);
	/* Near what the network really dropped, and near the 5 % it was set to. */
	assert_true(fabs(sum / n - real) < 0.75);
	assert_true(fabs(sum / n - 5.0) < 2.0);
	/* The MOS takes the loss in. */
	assert_true(fabs(st.mos - path_mos(st.latency_avg_us, st.jitter_us, st.loss_pct)) < 0.005);
	sim_fini(&sim);
}

static void
test_path_outage_goes_down_fast_and_back_after_hold_down(void **state)
{
	struct path_status st;
	uint64_t cut_at, down_at = 0, hold_at = 0, up_at = 0;

	(void)state;
	sim_init(&sim, seed, true, NULL);
	sim_links(&sim, 5 * NS_PER_MS, 0, 0, false);
	/* Up longer than the flap window, so the outage is not a flap. */
	sim_run(&sim, PATH_FLAP_WINDOW_NS_DEFAULT + NS_PER_S, 5 * NS_PER_MS);
	sim_run(&sim, 37 * NS_PER_MS, NS_PER_MS);
	assert_int_equal(sim.side[0].state, PATH_STATE_UP);
	cut_at = sim.now_ns;
	sim_links(&sim, 5 * NS_PER_MS, 0, 0, true);
	while (sim.side[0].state == PATH_STATE_UP && sim.now_ns - cut_at < NS_PER_S)
		sim_run(&sim, NS_PER_MS, NS_PER_MS);
	down_at = sim.now_ns;
	print_message("# outage detected after %llu ms\n",
	    (unsigned long long)((down_at - cut_at) / NS_PER_MS));
	assert_int_equal(sim.side[0].state, PATH_STATE_DOWN);
	assert_true(down_at - cut_at <= 400 * NS_PER_MS);
	sim_run(&sim, 3 * NS_PER_S, NS_PER_MS);
	assert_int_equal(sim.side[0].state, PATH_STATE_DOWN);
	sim_status(&sim, 0, &st);
	assert_true(st.loss_pct > 50.0);
	/* Restored: HOLD_DOWN at once, UP only after 5 s of answers. */
	sim_links(&sim, 5 * NS_PER_MS, 0, 0, false);
	while (sim.side[0].state != PATH_STATE_UP && sim.now_ns - down_at < 20 * NS_PER_S) {
		sim_run(&sim, NS_PER_MS, NS_PER_MS);
		if (hold_at == 0 && sim.side[0].state == PATH_STATE_HOLD_DOWN)
			hold_at = sim.now_ns;
	}
	up_at = sim.now_ns;
	assert_true(hold_at != 0);
	assert_true(up_at - hold_at >= PATH_HOLD_DOWN_NS_DEFAULT);
	assert_true(up_at - hold_at <= PATH_HOLD_DOWN_NS_DEFAULT + 20 * NS_PER_MS);
	assert_int_equal(count_changes(&sim.side[0], PATH_STATE_UP, PATH_CHANGE_HOLD_DOWN_DONE), 1);
	sim_status(&sim, 0, &st);
	assert_int_equal(st.flaps, 0);
	assert_int_equal(count_changes(&sim.side[0], PATH_STATE_DOWN, PATH_CHANGE_MISSED), 1);
	sim_fini(&sim);
}

static void
test_path_outage_after_stable_period_is_not_a_flap(void **state)
{
	struct path_config cfg;
	struct path_status st;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.flap_window_ns = 2 * NS_PER_S;
	sim_init(&sim, seed, true, &cfg);
	sim_run(&sim, 3 * NS_PER_S, 2 * NS_PER_MS);
	sim_links(&sim, 0, 0, 0, true);
	sim_run(&sim, NS_PER_S, 2 * NS_PER_MS);
	sim_status(&sim, 0, &st);
	assert_int_equal(st.state, PATH_STATE_DOWN);
	assert_int_equal(st.flaps, 0);
	assert_int_equal(st.hold_down_ns, PATH_HOLD_DOWN_NS_DEFAULT);
	assert_int_equal(count_changes(&sim.side[0], PATH_STATE_DOWN, PATH_CHANGE_MISSED), 1);
	sim_fini(&sim);
}

static void
test_path_flapping_grows_hold_down_and_stays_down(void **state)
{
	struct path_status st;
	uint64_t up_ns = 0, t0;
	struct path_log *log;
	unsigned flapped = 0;

	(void)state;
	sim_init(&sim, seed, true, NULL);
	sim_links(&sim, 5 * NS_PER_MS, 0, 0, false);
	sim_run(&sim, 2 * NS_PER_S, NS_PER_MS);
	assert_int_equal(sim.side[0].state, PATH_STATE_UP);
	t0 = sim.now_ns;
	/* Link A goes down and up every second for 20 s. */
	for (int k = 0; k < 20; k++) {
		sim_links(&sim, 5 * NS_PER_MS, 0, 0, k % 2 == 0);
		for (int ms = 0; ms < 1000; ms++) {
			sim_run(&sim, NS_PER_MS, NS_PER_MS);
			if (sim.side[0].state == PATH_STATE_UP)
				up_ns += NS_PER_MS;
		}
	}
	sim_status(&sim, 0, &st);
	print_message("# flapping 20 s: up %llu ms, flaps %u, hold-down now %llu s\n",
	    (unsigned long long)(up_ns / NS_PER_MS), st.flaps,
	    (unsigned long long)(st.hold_down_ns / NS_PER_S));
	/* Doubled at least twice, never above the maximum. */
	assert_true(st.hold_down_ns >= 4 * PATH_HOLD_DOWN_NS_DEFAULT);
	assert_true(st.hold_down_ns <= PATH_HOLD_DOWN_MAX_NS_DEFAULT);
	assert_true(st.flaps >= 5);
	/* Not up most of the time: the path never came back up after the first flap. */
	assert_true(up_ns < 2 * NS_PER_S);
	assert_true(count_changes(&sim.side[0], PATH_STATE_UP, PATH_CHANGE_HOLD_DOWN_DONE) == 0);
	/* The events say so, with growing hold-downs. */
	log = path_prober_log(sim.side[0].p);
	for (size_t i = 0; i < path_log_count(log); i++) {
		const struct path_log_entry *e = path_log_get(log, i);

		assert_true(e->ts_ns >= SIM_T0);
		if (e->kind == PATH_LOG_STATE && e->reason == PATH_CHANGE_FLAPPED) {
			assert_true(e->ts_ns >= t0);
			assert_true(e->hold_down_ns >= PATH_HOLD_DOWN_NS_DEFAULT
			        << (flapped < 4 ? flapped + 1 : 4));
			flapped++;
		}
	}
	assert_int_equal(flapped, st.flaps);
	/* Once stable, it comes back after the grown hold-down. */
	sim_links(&sim, 5 * NS_PER_MS, 0, 0, false);
	sim_run(&sim, st.hold_down_ns - NS_PER_S, 5 * NS_PER_MS);
	assert_int_equal(sim.side[0].state, PATH_STATE_HOLD_DOWN);
	sim_run(&sim, 2 * NS_PER_S, 5 * NS_PER_MS);
	assert_int_equal(sim.side[0].state, PATH_STATE_UP);
	sim_fini(&sim);
}

static void
test_path_hold_down_decays_when_stable(void **state)
{
	struct path_config cfg;
	struct path_status st;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.hold_down_ns = NS_PER_S;
	cfg.hold_down_max_ns = 8 * NS_PER_S;
	cfg.flap_window_ns = 10 * NS_PER_S;
	sim_init(&sim, seed, true, &cfg);
	sim_run(&sim, NS_PER_S, 2 * NS_PER_MS);
	for (int k = 0; k < 8; k++) {
		sim_links(&sim, 0, 0, 0, k % 2 == 0);
		sim_run(&sim, NS_PER_S, 2 * NS_PER_MS);
	}
	sim_status(&sim, 0, &st);
	assert_int_equal(st.hold_down_ns, 8 * NS_PER_S);
	sim_links(&sim, 0, 0, 0, false);
	sim_run(&sim, 9 * NS_PER_S, 2 * NS_PER_MS);
	assert_int_equal(sim.side[0].state, PATH_STATE_UP);
	/* Each flap window up halves it: 8 -> 4 -> 2 -> 1, and not below the base. */
	sim_run(&sim, 45 * NS_PER_S, 5 * NS_PER_MS);
	sim_status(&sim, 0, &st);
	assert_int_equal(st.hold_down_ns, NS_PER_S);
	assert_int_equal(st.state, PATH_STATE_UP);
	sim_fini(&sim);
}

static void
test_path_tampered_probes_are_counted_and_change_nothing(void **state)
{
	struct path_status before, after;
	struct path_prober_stats stats;
	uint8_t msg[PATH_PROBE_LEN];
	struct path_events ev;

	(void)state;
	cap_count = 0;
	sim_init(&sim, seed, true, NULL);
	sim.tap = tap_capture;
	sim_run(&sim, NS_PER_S, NS_PER_MS);
	sim.tap = NULL;
	assert_true(cap_count > 2);
	sim_status(&sim, 1, &before);
	/* Every single-bit flip of the newest genuine probe. */
	for (unsigned bit = 0; bit < PATH_PROBE_LEN * 8; bit++) {
		memcpy(msg, cap_msg[cap_count - 1], sizeof(msg));
		msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ev.count = 0;
		assert_true(path_prober_receive(sim.side[1].p, 1, &sim.side[0].addr,
		                PATH_PROBE_PORT, msg, sizeof(msg), sim.now_ns, &ev) < 0);
		assert_int_equal(ev.count, 0);
	}
	sim_status(&sim, 1, &after);
	assert_memory_equal(&before, &after, sizeof(before));
	path_prober_stats(sim.side[1].p, &stats);
	assert_int_equal(stats.bad_tag + stats.malformed + stats.unknown_key + stats.unknown_path,
	    PATH_PROBE_LEN * 8);
	assert_true(stats.bad_tag >= 300);
	sim_fini(&sim);
}

static void
test_path_replayed_probes_are_rejected(void **state)
{
	struct path_prober_stats stats;
	struct path_status before, after;
	struct path_events ev;

	(void)state;
	cap_count = 0;
	sim_init(&sim, seed, true, NULL);
	sim.tap = tap_capture;
	sim_run(&sim, NS_PER_S, NS_PER_MS);
	sim.tap = NULL;
	sim_run(&sim, NS_PER_MS, NS_PER_MS); /* the last one captured is delivered */
	sim_status(&sim, 1, &before);
	/* Every probe already delivered, again, and an old one much later. */
	for (unsigned k = 0; k < cap_count; k++) {
		ev.count = 0;
		assert_int_equal(path_prober_receive(sim.side[1].p, 1, &sim.side[0].addr,
		                     PATH_PROBE_PORT, cap_msg[k], PATH_PROBE_LEN, sim.now_ns, &ev),
		    -EALREADY);
		assert_int_equal(ev.count, 0);
	}
	sim_status(&sim, 1, &after);
	assert_memory_equal(&before, &after, sizeof(before));
	path_prober_stats(sim.side[1].p, &stats);
	assert_int_equal(stats.replayed, cap_count);
	sim_fini(&sim);
}

/* Side 1's probes, as tap_capture() takes side 0's. */
static uint8_t cap1_msg[64][PATH_PROBE_LEN];
static unsigned cap1_count;

static void
tap_capture_1(struct sim *s, int from, const uint8_t *msg, size_t len)
{
	(void)s;
	if (from == 1 && cap1_count < 64 && len == PATH_PROBE_LEN)
		memcpy(cap1_msg[cap1_count++], msg, len);
	else if (from == 0 && cap_count < 64 && len == PATH_PROBE_LEN)
		memcpy(cap_msg[cap_count++], msg, len);
}

/*
 * Side 0 rebuilt as a reload does: a new prober, the same keys, carried from the old;
 * with keep, its path unchanged (under token path_id) takes the old one's state.
 */
static void
sim_rebuild_side0_as(struct sim *s, bool keep, uint32_t path_id)
{
	struct sim_side *d = &s->side[0];
	struct path_prober_config pc;
	struct path_prober *next;
	struct path_spec spec;
	uint32_t old_id = d->path_id;

	memset(&pc, 0, sizeof(pc));
	pc.open_key = sim_open_key;
	pc.open_key_arg = d;
	assert_int_equal(path_prober_new(&pc, s->now_ns, &next), 0);
	memset(&spec, 0, sizeof(spec));
	spec.peer_id = d->peer_id;
	spec.path_id = path_id;
	spec.local_id = 1;
	spec.local = d->addr;
	spec.remote = s->side[1].addr;
	assert_int_equal(path_prober_add_path(next, &spec, s->now_ns), 0);
	path_prober_carry(next, d->p);
	if (keep)
		assert_int_equal(path_prober_carry_path(next, path_id, d->p, old_id), 0);
	else
		d->state = PATH_STATE_UNKNOWN;
	assert_int_equal(path_prober_carry_path(next, path_id + 7, d->p, old_id), -ENOENT);
	path_prober_set_send_key(next, d->peer_id, d->send, d->send_index);
	path_prober_free(d->p);
	d->p = next;
	d->path_id = path_id;
	d->nchanges = 0;
}

static void
sim_rebuild_side0(struct sim *s)
{
	sim_rebuild_side0_as(s, false, s->side[0].path_id);
}

static void
test_path_reload_is_never_refused_as_a_replay(void **state)
{
	struct path_prober_stats stats;
	struct path_probe first;
	struct path_events ev;
	uint32_t last_seq;

	(void)state;
	sim_init(&sim, seed, true, NULL);
	sim_links(&sim, 5 * NS_PER_MS, 0, 0, false);
	/* Long enough that a restarted sequence is more than a replay window behind. */
	sim_run(&sim, 20 * NS_PER_S, NS_PER_MS);
	cap_count = cap1_count = 0;
	sim.tap = tap_capture_1;
	sim_run(&sim, NS_PER_S, NS_PER_MS);
	assert_true(cap_count > 0 && cap1_count > 0);
	assert_int_equal(path_probe_decode(cap_msg[cap_count - 1], PATH_PROBE_LEN, &first), 0);
	last_seq = first.seq;
	sim_run(&sim, 10 * NS_PER_MS, NS_PER_MS); /* everything in flight arrives */
	sim_rebuild_side0(&sim);
	cap_count = 0;
	sim_run(&sim, 300 * NS_PER_MS, NS_PER_MS);
	sim.tap = NULL;
	/* No nonce reused: the new prober's sequence goes on above the old one's. */
	assert_true(cap_count > 0);
	assert_int_equal(path_probe_decode(cap_msg[0], PATH_PROBE_LEN, &first), 0);
	assert_true(first.seq > last_seq);
	/* The peer refuses nothing and both sides are UP again at the first answer. */
	path_prober_stats(sim.side[1].p, &stats);
	assert_int_equal(stats.replayed, 0);
	assert_int_equal(stats.bad_tag, 0);
	assert_int_equal(sim.side[0].state, PATH_STATE_UP);
	assert_true(
	    sim.side[0].changes[0].ts_ns - (sim.now_ns - 300 * NS_PER_MS) <= 200 * NS_PER_MS);
	assert_int_equal(sim.side[1].state, PATH_STATE_UP);
	/* The rebuilt side kept its replay window: the peer's old probes stay refused. */
	for (unsigned k = 0; k < cap1_count; k++) {
		ev.count = 0;
		assert_int_equal(path_prober_receive(sim.side[0].p, 1, &sim.side[1].addr,
		                     PATH_PROBE_PORT, cap1_msg[k], PATH_PROBE_LEN, sim.now_ns, &ev),
		    -EALREADY);
	}
	path_prober_stats(sim.side[0].p, &stats);
	assert_int_equal(stats.replayed, cap1_count);
	sim_fini(&sim);
}

/*
 * A reload that leaves the path as it was: the new prober takes its state over, so
 * neither side sees a change, nothing is refused, measurements go on. With the same
 * token even the echoes of the probes in flight count; with another the sequence
 * starts above the old prober's.
 */
static void
test_path_reload_carries_an_unchanged_path(void **state)
{
	for (int other = 0; other < 2; other++) {
		struct path_status before, after, peer;
		struct path_prober_stats stats;
		struct path_probe pr;
		uint32_t last_seq;

		(void)state;
		sim_init(&sim, seed, true, NULL);
		sim_links(&sim, 5 * NS_PER_MS, 0, 0, false);
		sim_run(&sim, 5 * NS_PER_S, NS_PER_MS);
		cap_count = 0;
		sim.tap = tap_capture;
		sim_run(&sim, 200 * NS_PER_MS, NS_PER_MS);
		assert_true(cap_count > 0);
		assert_int_equal(path_probe_decode(cap_msg[cap_count - 1], PATH_PROBE_LEN, &pr), 0);
		last_seq = pr.seq;
		sim_status(&sim, 0, &before);
		assert_int_equal(before.state, PATH_STATE_UP);
		/* Probes still in flight: with the same token their echoes still count. */
		sim_rebuild_side0_as(&sim, true, other ? SIM_TOKEN_A + 5 : SIM_TOKEN_A);
		sim.side[1].nchanges = 0;
		sim_status(&sim, 0, &after);
		assert_int_equal(after.state, PATH_STATE_UP);
		assert_int_equal(after.since_ns, before.since_ns);
		assert_true(after.measured);
		assert_int_equal(after.latency_avg_us, before.latency_avg_us);
		assert_int_equal(after.probes_sent, before.probes_sent);
		cap_count = 0;
		sim_run(&sim, 2 * NS_PER_S, NS_PER_MS);
		sim.tap = NULL;
		assert_int_equal(sim.side[0].nchanges, 0);
		assert_int_equal(sim.side[1].nchanges, 0);
		assert_true(cap_count > 0);
		assert_int_equal(path_probe_decode(cap_msg[0], PATH_PROBE_LEN, &pr), 0);
		/* Either way above every sequence the old prober sealed. */
		assert_true(pr.seq > last_seq);
		sim_status(&sim, 0, &after);
		assert_int_equal(after.state, PATH_STATE_UP);
		assert_int_equal(after.since_ns, before.since_ns);
		assert_true(after.probes_sent >= before.probes_sent + 19);
		assert_true(after.loss_pct == 0.0);
		assert_true(after.latency_avg_us >= 4990 && after.latency_avg_us <= 5010);
		sim_status(&sim, 1, &peer);
		assert_int_equal(peer.state, PATH_STATE_UP);
		assert_true(peer.loss_pct == 0.0);
		path_prober_stats(sim.side[1].p, &stats);
		assert_int_equal(stats.replayed + stats.bad_tag + stats.unknown_path, 0);
		path_prober_stats(sim.side[0].p, &stats);
		assert_int_equal(stats.replayed + stats.bad_tag + stats.unknown_path, 0);
		if (!other)
			assert_int_equal(stats.stale_echo, 0);
		sim_fini(&sim);
	}
}

static void
test_path_unauthenticated_mode_works(void **state)
{
	struct path_status st;
	struct path_prober_stats stats;
	struct path_events ev;
	struct path_prober *keyed;
	struct path_prober_config pc;
	struct path_spec spec;

	(void)state;
	cap_count = 0;
	sim_init(&sim, seed, false, NULL);
	sim.tap = tap_capture;
	sim_links(&sim, 10 * NS_PER_MS, 0, 0, false);
	sim_run(&sim, 3 * NS_PER_S, NS_PER_MS);
	sim.tap = NULL;
	for (int i = 0; i < 2; i++) {
		sim_status(&sim, i, &st);
		assert_int_equal(st.state, PATH_STATE_UP);
		assert_true(st.latency_us >= 9900 && st.latency_us <= 10100);
	}
	/* Plain probes: no AUTH flag, key index 0, zero tag. */
	assert_int_equal(cap_msg[0][1] & PATH_PROBE_FLAG_AUTH, 0);
	/* A keyed prober refuses them. */
	memset(&pc, 0, sizeof(pc));
	pc.open_key = sim_open_key;
	pc.open_key_arg = &sim.side[1];
	assert_int_equal(path_prober_new(&pc, sim.now_ns, &keyed), 0);
	memset(&spec, 0, sizeof(spec));
	spec.peer_id = SIM_PEER_A;
	spec.path_id = SIM_TOKEN_B;
	spec.local_id = 1;
	spec.remote = sim.side[0].addr;
	assert_int_equal(path_prober_add_path(keyed, &spec, sim.now_ns), 0);
	ev.count = 0;
	assert_int_equal(path_prober_receive(keyed, 1, &sim.side[0].addr, PATH_PROBE_PORT,
	                     cap_msg[0], PATH_PROBE_LEN, sim.now_ns, &ev),
	    -EBADMSG);
	path_prober_stats(keyed, &stats);
	assert_int_equal(stats.bad_tag, 1);
	/* Without a send key it sends nothing. */
	ev.count = 0;
	path_prober_tick(keyed, sim.now_ns, &ev);
	assert_int_equal(ev.count, 0);
	path_prober_stats(keyed, &stats);
	assert_int_equal(stats.tx_no_key, 1);
	path_prober_free(keyed);
	sim_fini(&sim);
}

static void
test_path_unknown_key_and_path_are_counted(void **state)
{
	struct path_prober_stats stats;
	struct path_events ev;
	struct addr other;
	static const uint8_t o4[4] = {203, 0, 113, 9};

	(void)state;
	cap_count = 0;
	sim_init(&sim, seed, true, NULL);
	sim.tap = tap_capture;
	sim_run(&sim, 20 * NS_PER_MS, NS_PER_MS);
	sim.tap = NULL;
	/* Side 1 loses its receive key: -ENOKEY. */
	sim.side[1].recv_index = 0;
	ev.count = 0;
	assert_int_equal(path_prober_receive(sim.side[1].p, 1, &sim.side[0].addr, PATH_PROBE_PORT,
	                     cap_msg[0], PATH_PROBE_LEN, sim.now_ns, &ev),
	    -ENOKEY);
	/* From an unknown address on the first probe (no token echoed yet): -ENOENT. */
	addr_set_v4(&other, o4);
	assert_int_equal(path_prober_receive(sim.side[1].p, 1, &other, PATH_PROBE_PORT, cap_msg[0],
	                     PATH_PROBE_LEN, sim.now_ns, &ev),
	    -ENOENT);
	/* On another WAN: -ENOENT. */
	assert_int_equal(path_prober_receive(sim.side[1].p, 2, &sim.side[0].addr, PATH_PROBE_PORT,
	                     cap_msg[0], PATH_PROBE_LEN, sim.now_ns, &ev),
	    -ENOENT);
	path_prober_stats(sim.side[1].p, &stats);
	assert_int_equal(stats.unknown_key, 1);
	assert_int_equal(stats.unknown_path, 2);
	assert_int_equal(ev.count, 0);
	sim_fini(&sim);
}

static void
test_path_follows_a_nat_rebinding_by_token(void **state)
{
	static const uint8_t n4[4] = {203, 0, 113, 77};
	struct path_status st;

	(void)state;
	sim_init(&sim, seed, true, NULL);
	sim_run(&sim, 2 * NS_PER_S, NS_PER_MS);
	/* Side 0's NAT maps it to a new public address: side 1 finds the path by token. */
	addr_set_v4(&sim.side[0].addr, n4);
	sim.any_remote = true;
	sim_run(&sim, 2 * NS_PER_S, NS_PER_MS);
	sim_status(&sim, 1, &st);
	assert_int_equal(st.state, PATH_STATE_UP);
	assert_true(addr_equal(&st.remote, &sim.side[0].addr));
	assert_int_equal(sim.side[1].nchanges, 1);
	sim_fini(&sim);
}

static void
test_path_learns_a_peer_behind_a_nat(void **state)
{
	struct path_status st0, st1;
	uint64_t sent_before;

	(void)state;
	sim_init_learn(&sim, seed, true, NULL, true);
	sim.side[0].port = 40000; /* side 0's NAT maps its port 1280 */
	/* Side 1 sends nothing while it does not know where side 0 is. */
	sim_status(&sim, 1, &st1);
	assert_true(st1.learn);
	assert_false(st1.learned);
	sent_before = sim.sent[1];
	sim_run(&sim, 2 * NS_PER_S, NS_PER_MS);
	sim_status(&sim, 0, &st0);
	sim_status(&sim, 1, &st1);
	assert_int_equal(st0.state, PATH_STATE_UP);
	assert_int_equal(st1.state, PATH_STATE_UP);
	assert_true(sim.sent[1] > sent_before);
	assert_true(st1.learned);
	assert_true(addr_equal(&st1.remote, &sim.side[0].addr));
	assert_int_equal(st1.remote_port, 40000);
	/* Learned, then its own address as side 0 sees it (side 0 reports it back). */
	assert_int_equal(sim.side[1].bindings, 2);
	assert_int_equal(sim.side[1].last_binding, PATH_BINDING_OURS_SEEN);
	assert_int_equal(sim.side[1].last_binding_port, PATH_PROBE_PORT);
	/* Side 0 hears where it appears to be, once. */
	assert_true(st0.has_reflexive);
	assert_true(addr_equal(&st0.reflexive, &sim.side[0].addr));
	assert_int_equal(st0.reflexive_port, 40000);
	assert_int_equal(st0.binding_changes, 0);
	assert_int_equal(sim.side[0].bindings, 1);
	assert_int_equal(sim.side[0].last_binding, PATH_BINDING_OURS_SEEN);
	sim_fini(&sim);
}

static void
test_path_reports_a_changed_nat_binding(void **state)
{
	struct path_status st0, st1;

	(void)state;
	sim_init_learn(&sim, seed, true, NULL, true);
	sim.side[0].port = 40000;
	sim_run(&sim, 2 * NS_PER_S, NS_PER_MS);
	/* The NAT forgets the mapping; the next one has another port. */
	sim.side[0].port = 51234;
	sim.any_remote = true;
	sim_run(&sim, 2 * NS_PER_S, NS_PER_MS);
	sim_status(&sim, 0, &st0);
	sim_status(&sim, 1, &st1);
	assert_int_equal(st1.state, PATH_STATE_UP);
	assert_int_equal(st1.remote_port, 51234);
	assert_int_equal(sim.side[1].bindings, 3);
	assert_int_equal(sim.side[1].last_binding, PATH_BINDING_PEER_MOVED);
	assert_int_equal(st0.reflexive_port, 51234);
	assert_int_equal(st0.binding_changes, 1);
	assert_int_equal(sim.side[0].bindings, 2);
	assert_int_equal(sim.side[0].last_binding, PATH_BINDING_OURS_CHANGED);
	assert_int_equal(sim.side[0].last_binding_port, 51234);
	/* Neither side went down for it. */
	assert_int_equal(sim.side[0].nchanges, 1);
	assert_int_equal(sim.side[1].nchanges, 1);
	sim_fini(&sim);
}

static void
test_path_learn_needs_authentication(void **state)
{
	struct path_prober_config pc;
	struct path_prober *p;
	struct path_spec spec;

	(void)state;
	memset(&pc, 0, sizeof(pc));
	pc.paths_max = 1;
	assert_int_equal(path_prober_new(&pc, 0, &p), 0);
	memset(&spec, 0, sizeof(spec));
	spec.path_id = 1;
	spec.remote.family = ADDR_FAMILY_V4;
	spec.learn = true;
	assert_int_equal(path_prober_add_path(p, &spec, 0), -EINVAL);
	spec.learn = false;
	assert_int_equal(path_prober_add_path(p, &spec, 0), 0);
	path_prober_free(p);
}

static void
test_path_add_del_and_config_checks(void **state)
{
	struct path_prober_config pc;
	struct path_prober *p;
	struct path_spec spec;
	struct path_status st;
	struct path_config peer, path, r;
	struct path_events ev;
	static const uint8_t a4[4] = {10, 0, 0, 1};
	uint32_t seq_before;

	(void)state;
	memset(&pc, 0, sizeof(pc));
	pc.paths_max = 2;
	assert_int_equal(path_prober_new(NULL, 0, &p), -EINVAL);
	pc.paths_max = PATH_PATHS_MAX_LIMIT + 1;
	assert_int_equal(path_prober_new(&pc, 0, &p), -EINVAL);
	pc.paths_max = 2;
	assert_int_equal(path_prober_new(&pc, 0, &p), 0);
	memset(&spec, 0, sizeof(spec));
	spec.path_id = 1;
	assert_int_equal(path_prober_add_path(p, &spec, 0), -EINVAL); /* no remote */
	addr_set_v4(&spec.remote, a4);
	spec.path_id = 0;
	assert_int_equal(path_prober_add_path(p, &spec, 0), -EINVAL);
	spec.path_id = 1;
	spec.cfg.interval_ns = 1000;
	assert_int_equal(path_prober_add_path(p, &spec, 0), -EINVAL);
	spec.cfg.interval_ns = 0;
	spec.cfg.hold_down_ns = 200 * NS_PER_S; /* above the default maximum */
	assert_int_equal(path_prober_add_path(p, &spec, 0), -EINVAL);
	spec.cfg.hold_down_ns = 0;
	spec.cfg.loss_window = PATH_LOSS_WINDOW_MAX + 1;
	assert_int_equal(path_prober_add_path(p, &spec, 0), -EINVAL);
	spec.cfg.loss_window = 0;
	assert_int_equal(path_prober_add_path(p, &spec, 0), 0);
	assert_int_equal(path_prober_add_path(p, &spec, 0), -EEXIST);
	spec.path_id = 2;
	assert_int_equal(path_prober_add_path(p, &spec, 0), 0);
	spec.path_id = 3;
	assert_int_equal(path_prober_add_path(p, &spec, 0), -ENOSPC);
	assert_int_equal(path_prober_path_count(p), 2);
	assert_int_equal(path_prober_status_at(p, 1, &st), 0);
	assert_int_equal(st.path_id, 2);
	assert_int_equal(st.cfg.interval_ns, PATH_INTERVAL_NS_DEFAULT);
	assert_int_equal(st.cfg.remote_port, PATH_PROBE_PORT);
	assert_int_equal(path_prober_status_at(p, 2, &st), -ENOENT);
	/* Plain probes go out at once, then every interval; next_ns says when. */
	ev.count = 0;
	path_prober_tick(p, 0, &ev);
	assert_int_equal(ev.count, 2);
	assert_int_equal(path_prober_next_ns(p), PATH_INTERVAL_NS_DEFAULT);
	ev.count = 0;
	path_prober_tick(p, PATH_INTERVAL_NS_DEFAULT - 1, &ev);
	assert_int_equal(ev.count, 0);
	seq_before = ((uint32_t)ev.ev[0].msg[16] << 24) | ((uint32_t)ev.ev[0].msg[17] << 16) |
	    ((uint32_t)ev.ev[0].msg[18] << 8) | ev.ev[0].msg[19];
	(void)seq_before;
	/* Deleted and added again: the sequence starts above every one used. */
	for (int k = 0; k < 5; k++) {
		ev.count = 0;
		path_prober_tick(p, (uint64_t)(k + 1) * PATH_INTERVAL_NS_DEFAULT, &ev);
	}
	assert_int_equal(path_prober_del_path(p, 1), 0);
	assert_int_equal(path_prober_del_path(p, 1), -ENOENT);
	spec.path_id = 1;
	assert_int_equal(path_prober_add_path(p, &spec, 10 * PATH_INTERVAL_NS_DEFAULT), 0);
	ev.count = 0;
	path_prober_tick(p, 10 * PATH_INTERVAL_NS_DEFAULT, &ev);
	for (unsigned k = 0; k < ev.count; k++)
		if (ev.ev[k].path_id == 1)
			assert_true(((uint32_t)ev.ev[k].msg[16] << 24 | ev.ev[k].msg[17] << 16 |
			                ev.ev[k].msg[18] << 8 | ev.ev[k].msg[19]) >= 7);
	path_prober_free(p);
	path_prober_free(NULL);
	/* Per-path over per-peer over defaults. */
	memset(&peer, 0, sizeof(peer));
	memset(&path, 0, sizeof(path));
	peer.interval_ns = 200 * NS_PER_MS;
	peer.hold_down_ns = 7 * NS_PER_S;
	path.hold_down_ns = 3 * NS_PER_S;
	path_config_resolve(&r, &path, &peer);
	assert_int_equal(r.interval_ns, 200 * NS_PER_MS);
	assert_int_equal(r.hold_down_ns, 3 * NS_PER_S);
	assert_int_equal(r.down_after, PATH_DOWN_AFTER_DEFAULT);
	assert_int_equal(r.loss_window, PATH_LOSS_WINDOW_DEFAULT);
	assert_string_equal(path_state_name(PATH_STATE_HOLD_DOWN), "hold-down");
	assert_string_equal(path_change_reason_name(PATH_CHANGE_FLAPPED), "flapped");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_path_clean_path_comes_up_with_mos_4_40),
	    cmocka_unit_test(test_path_latency_is_half_the_round_trip_and_mos_follows),
	    cmocka_unit_test(test_path_jitter_is_measured),
	    cmocka_unit_test(test_path_loss_converges_near_5_percent),
	    cmocka_unit_test(test_path_outage_goes_down_fast_and_back_after_hold_down),
	    cmocka_unit_test(test_path_outage_after_stable_period_is_not_a_flap),
	    cmocka_unit_test(test_path_flapping_grows_hold_down_and_stays_down),
	    cmocka_unit_test(test_path_hold_down_decays_when_stable),
	    cmocka_unit_test(test_path_tampered_probes_are_counted_and_change_nothing),
	    cmocka_unit_test(test_path_replayed_probes_are_rejected),
	    cmocka_unit_test(test_path_reload_is_never_refused_as_a_replay),
	    cmocka_unit_test(test_path_reload_carries_an_unchanged_path),
	    cmocka_unit_test(test_path_unauthenticated_mode_works),
	    cmocka_unit_test(test_path_unknown_key_and_path_are_counted),
	    cmocka_unit_test(test_path_follows_a_nat_rebinding_by_token),
	    cmocka_unit_test(test_path_add_del_and_config_checks),
	    cmocka_unit_test(test_path_learns_a_peer_behind_a_nat),
	    cmocka_unit_test(test_path_reports_a_changed_nat_binding),
	    cmocka_unit_test(test_path_learn_needs_authentication),
	};

	seed = test_seed();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
