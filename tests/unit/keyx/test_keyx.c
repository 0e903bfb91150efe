/*
 * Unit tests of src/keyx: two routers back to back through keyx_sim.h's in-memory
 * network. Every event is checked by the data-path model (indices unique, low bytes
 * distinct, expiries of installed keys only).
 */
#include "keyx_sim.h"

#include "keyx/keyx_cookie.h"
#include "keyx/keyx_msg.h"

static uint64_t seed;

static struct sim sim;

static struct keyx_config
cfg_timers(uint64_t rekey_s, uint64_t reject_s, uint64_t overlap_ms)
{
	struct keyx_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.rekey_after_ns = rekey_s * NS_PER_S;
	cfg.reject_after_ns = reject_s * NS_PER_S;
	cfg.overlap_ns = overlap_ms * NS_PER_MS;
	return cfg;
}

static uint64_t
stats_drops(const struct keyx_stats *st)
{
	return st->bad_cookie + st->handshake_rejected + st->auth_failed + st->replayed +
	    st->rate_limited + st->malformed + st->unknown_index + st->collisions + st->cookie_sent;
}

static void
test_keyx_handshake_establishes_matching_keys(void **state)
{
	struct keyx_peer_status a, b;

	(void)state;
	sim_init(&sim, seed, NULL);
	sim_run(&sim, 2 * NS_PER_S);
	assert_true(sim_established(&sim));
	/* Crosswise: the initiator's send key is the responder's receive key and back. */
	a = sim_status(&sim, 0);
	b = sim_status(&sim, 1);
	assert_int_equal(a.state, KEYX_PEER_ESTABLISHED);
	assert_int_equal(b.state, KEYX_PEER_ESTABLISHED);
	assert_int_equal(a.send_index, b.recv_index);
	assert_int_equal(b.send_index, a.recv_index);
	assert_int_equal(a.handshakes_completed, 1);
	assert_int_equal(b.handshakes_completed, 1);
	assert_string_equal(keyx_peer_state_name(a.state), "established");
	/* Both started at the first tick: one side yielded, one pair only. */
	assert_int_equal(sim_recv_count(&sim.side[0]), 1);
	assert_int_equal(sim_recv_count(&sim.side[1]), 1);
	assert_int_equal(sim_stats(&sim, 0).auth_failed + sim_stats(&sim, 1).auth_failed, 0);
	sim_fini(&sim);
}

static void
test_keyx_confirm_gates_responder_send_key(void **state)
{
	struct sim_pkt p;

	(void)state;
	sim_init(&sim, seed, NULL);
	sim_want(&sim, 0);
	assert_int_equal(sim_status(&sim, 0).state, KEYX_PEER_HANDSHAKING);
	assert_true(sim_take(&sim, &p));
	assert_int_equal(p.msg[0], KEYX_MSG_INIT);
	assert_int_equal(p.len, KEYX_INIT_LEN);
	assert_int_equal(sim_deliver_one(&sim, &p), 0);
	/* The responder receives under the new pair but does not send yet. */
	assert_int_equal(sim.side[1].installs_recv, 1);
	assert_false(sim.side[1].has_send);
	assert_true(sim_take(&sim, &p));
	assert_int_equal(p.msg[0], KEYX_MSG_RESP);
	assert_int_equal(p.len, KEYX_RESP_LEN);
	assert_int_equal(sim_deliver_one(&sim, &p), 0);
	assert_true(sim_send_matches(&sim, 0));
	assert_false(sim.side[1].has_send);
	assert_true(sim_take(&sim, &p));
	assert_int_equal(p.msg[0], KEYX_MSG_CONFIRM);
	assert_int_equal(p.len, KEYX_CONFIRM_LEN);
	assert_int_equal(sim_deliver_one(&sim, &p), 0);
	assert_true(sim_established(&sim));
	/* A duplicated confirm finds no pending pair. */
	assert_int_equal(sim_deliver_one(&sim, &p), -ENOENT);
	assert_int_equal(sim.side[1].installs_send, 1);
	sim_fini(&sim);
}

static void
test_keyx_note_received_confirms_without_message_3(void **state)
{
	struct sim_pkt p;
	uint32_t index;

	(void)state;
	sim_init(&sim, seed, NULL);
	sim_want(&sim, 0);
	assert_true(sim_take(&sim, &p));
	(void)sim_deliver_one(&sim, &p);
	assert_true(sim_take(&sim, &p));
	(void)sim_deliver_one(&sim, &p);
	assert_true(sim_take(&sim, &p)); /* the confirm: lost */
	assert_false(sim.side[1].has_send);
	index = sim.side[0].send_index;
	/* An unknown index changes nothing; the first data packet confirms. */
	sim_evs.count = 0;
	keyx_note_received(sim.side[1].kx, index ^ 0x100, sim.now_ns, &sim_evs);
	assert_int_equal(sim_evs.count, 0);
	keyx_note_received(sim.side[1].kx, index, sim.now_ns, &sim_evs);
	sim_apply(&sim, 1, &sim_evs);
	assert_true(sim_established(&sim));
	sim_fini(&sim);
}

static void
test_keyx_rekey_keeps_old_receive_key_for_overlap(void **state)
{
	struct keyx_config cfg = cfg_timers(5, 8, 1000);
	uint32_t old0, old1;
	unsigned sends0, sends1;

	(void)state;
	sim_init(&sim, seed, &cfg);
	sim_run(&sim, 3 * NS_PER_S);
	assert_true(sim_established(&sim));
	old0 = sim.side[0].send_local_index;
	old1 = sim.side[1].send_local_index;
	sends0 = sim.side[0].installs_send;
	sends1 = sim.side[1].installs_send;
	for (int i = 0; i < 600; i++) {
		if (sim.side[0].installs_send > sends0 && sim.side[1].installs_send > sends1)
			break;
		sim_run(&sim, 10 * NS_PER_MS);
	}
	assert_true(sim.side[0].installs_send > sends0 && sim.side[1].installs_send > sends1);
	assert_true(sim_established(&sim));
	assert_int_not_equal(sim.side[0].send_local_index, old0);
	assert_non_null(sim_recv_find(&sim.side[0], old0));
	assert_non_null(sim_recv_find(&sim.side[1], old1));
	sim_run(&sim, 700 * NS_PER_MS);
	assert_non_null(sim_recv_find(&sim.side[0], old0));
	assert_non_null(sim_recv_find(&sim.side[1], old1));
	sim_run(&sim, 500 * NS_PER_MS);
	assert_null(sim_recv_find(&sim.side[0], old0));
	assert_null(sim_recv_find(&sim.side[1], old1));
	assert_true(sim.side[0].expires_recv >= 1 && sim.side[1].expires_recv >= 1);
	assert_int_equal(sim_status(&sim, 0).rekeys, 1);
	assert_int_equal(sim_status(&sim, 1).rekeys, 1);
	assert_true(sim_established(&sim));
	sim_fini(&sim);
}

static void
test_keyx_reject_after_clears_and_retry_recovers(void **state)
{
	struct keyx_config cfg = cfg_timers(5, 8, 1000);
	struct keyx_peer_status st;

	(void)state;
	sim_init(&sim, seed, &cfg);
	sim_run(&sim, 2 * NS_PER_S);
	assert_true(sim_established(&sim));
	sim.cut = true;
	sim_run(&sim, 7 * NS_PER_S);
	assert_int_equal(sim.side[0].clears, 1);
	assert_int_equal(sim.side[1].clears, 1);
	assert_false(sim.side[0].has_send || sim.side[1].has_send);
	assert_int_equal(sim_recv_count(&sim.side[0]) + sim_recv_count(&sim.side[1]), 0);
	st = sim_status(&sim, 0);
	assert_int_equal(st.state, KEYX_PEER_HANDSHAKING);
	assert_false(st.has_recv);
	/* After 90 s an attempt gives up and the next one starts. */
	sim_run(&sim, 91 * NS_PER_S);
	st = sim_status(&sim, 0);
	assert_int_equal(st.last_error, -ETIMEDOUT);
	assert_true(st.handshakes_initiated >= 2);
	sim.cut = false;
	sim_run(&sim, 3 * NS_PER_S);
	assert_true(sim_established(&sim));
	assert_int_equal(sim_status(&sim, 0).last_error, 0);
	sim_fini(&sim);
}

/* Runs dur_ns and asserts at every 10 ms step that both sides can send to each other. */
static void
run_established(uint64_t dur_ns)
{
	for (uint64_t t = 0; t < dur_ns; t += 10 * NS_PER_MS) {
		sim_run(&sim, 10 * NS_PER_MS);
		assert_true(sim_established(&sim));
	}
}

static void
set_timers_both(uint64_t rekey_s, uint64_t reject_s, uint64_t overlap_ms)
{
	for (int i = 0; i < 2; i++)
		keyx_set_timers(sim.side[i].kx, rekey_s * NS_PER_S, reject_s * NS_PER_S,
		    overlap_ms * NS_PER_MS);
}

/*
 * A reload that shortens rekey_after (120 s to 3 s) with keys 100 s old: they rekey at
 * once and every 3 s after, and are never cut (the new reject_after, 63 s, is younger
 * than the keys in use: applied to them it uninstalled both sides' keys).
 */
static void
test_keyx_set_timers_shorter_rekeys_with_no_gap(void **state)
{
	struct keyx_config cfg = cfg_timers(120, 180, 10000);

	(void)state;
	sim_init(&sim, seed, &cfg);
	sim_run(&sim, 2 * NS_PER_S);
	run_established(100 * NS_PER_S);
	assert_int_equal(sim_status(&sim, 0).rekeys + sim_status(&sim, 1).rekeys, 0);
	set_timers_both(3, 63, 1500);
	run_established(10 * NS_PER_S);
	assert_int_equal(sim.side[0].clears + sim.side[1].clears, 0);
	assert_int_equal(sim.side[0].expires_send + sim.side[1].expires_send, 0);
	/* At once (the keys are older than 3 s), then at 3 s and 6 s at least. */
	assert_true(sim_status(&sim, 0).rekeys >= 3);
	assert_true(sim_status(&sim, 0).key_established_ns + 4 * NS_PER_S > sim.now_ns);
	sim_fini(&sim);
}

/*
 * The other way (3 s to 120 s): keys made under a 63 s reject_after must not be
 * uninstalled before the new rekey_after replaces them.
 */
static void
test_keyx_set_timers_longer_keeps_keys_until_the_rekey(void **state)
{
	struct keyx_config cfg = cfg_timers(3, 63, 1500);
	uint64_t rekeys;

	(void)state;
	sim_init(&sim, seed, &cfg);
	sim_run(&sim, 2 * NS_PER_S);
	run_established(5 * NS_PER_S);
	set_timers_both(120, 180, 10000);
	rekeys = sim_status(&sim, 0).rekeys;
	run_established(110 * NS_PER_S);
	assert_int_equal(sim.side[0].clears + sim.side[1].clears, 0);
	/* No rekey before 120 s of key age, then one. */
	assert_int_equal(sim_status(&sim, 0).rekeys, rekeys);
	run_established(30 * NS_PER_S);
	assert_int_equal(sim_status(&sim, 0).rekeys, rekeys + 1);
	assert_int_equal(sim.side[0].clears + sim.side[1].clears, 0);
	sim_fini(&sim);
}

static void
test_keyx_simultaneous_initiation_converges(void **state)
{
	(void)state;
	for (int order = 0; order < 2; order++) {
		struct sim_pkt p[2];

		sim_init(&sim, seed + (uint64_t)order, NULL);
		sim_want(&sim, 0);
		sim_want(&sim, 1);
		assert_true(sim_take(&sim, &p[0]));
		assert_true(sim_take(&sim, &p[1]));
		/* Both messages 1 cross; deliver them in either order. */
		(void)sim_deliver_one(&sim, &p[order]);
		(void)sim_deliver_one(&sim, &p[1 - order]);
		sim_flush(&sim);
		assert_true(sim_established(&sim));
		assert_int_equal(sim_stats(&sim, 0).collisions + sim_stats(&sim, 1).collisions, 2);
		assert_int_equal(sim_recv_count(&sim.side[0]), 1);
		assert_int_equal(sim_recv_count(&sim.side[1]), 1);
		sim_run(&sim, 5 * NS_PER_S);
		assert_true(sim_established(&sim));
		sim_fini(&sim);
	}
}

static void
test_keyx_lost_message_recovered_by_retry(void **state)
{
	(void)state;
	for (int type = KEYX_MSG_INIT; type <= KEYX_MSG_CONFIRM; type++) {
		sim_init(&sim, seed + (uint64_t)type, NULL);
		sim.drop_type_once[0] = sim.drop_type_once[1] = type;
		sim_run(&sim, 4 * NS_PER_S);
		assert_int_equal(sim.drop_type_once[0] + sim.drop_type_once[1] < 2 * type, 1);
		assert_true(sim_established(&sim));
		sim_run(&sim, 5 * NS_PER_S);
		assert_true(sim_established(&sim));
		sim_fini(&sim);
	}
}

static void
test_keyx_unknown_static_key_rejected(void **state)
{
	uint8_t other_priv[KEYX_KEY_LEN], other_pub[KEYX_KEY_LEN];
	struct sim_pkt p;

	(void)state;
	sim_init(&sim, seed, NULL);
	/* Side 1 knows some other key instead of side 0's. */
	keyx_free(sim.side[1].kx);
	sim_keypair(&sim.rng, other_priv, other_pub);
	sim_side_new(&sim, 1, NULL, other_pub, &sim_rngs[1]);
	sim_want(&sim, 0);
	assert_true(sim_take(&sim, &p));
	assert_int_equal(sim_deliver_one(&sim, &p), -EPERM);
	assert_int_equal(sim_stats(&sim, 1).handshake_rejected, 1);
	assert_int_equal(sim.queued, 0);
	assert_false(sim_status(&sim, 1).has_recv);
	sim_run(&sim, 3 * NS_PER_S);
	assert_false(sim.side[0].has_send || sim.side[1].has_send);
	assert_int_equal(sim_recv_count(&sim.side[0]) + sim_recv_count(&sim.side[1]), 0);
	assert_true(sim_stats(&sim, 1).handshake_rejected >= 2);
	sim_fini(&sim);
}

static void
test_keyx_replayed_message_1_counted(void **state)
{
	struct sim_pkt p1;
	unsigned recvs;

	(void)state;
	sim_init(&sim, seed, NULL);
	sim_want(&sim, 0);
	assert_true(sim_take(&sim, &p1));
	assert_int_equal(sim_deliver_one(&sim, &p1), 0);
	sim_flush(&sim);
	assert_true(sim_established(&sim));
	recvs = sim.side[1].installs_recv;
	assert_int_equal(sim_deliver_one(&sim, &p1), -EALREADY);
	assert_int_equal(sim_stats(&sim, 1).replayed, 1);
	assert_int_equal(sim.queued, 0);
	assert_int_equal(sim.side[1].installs_recv, recvs);
	assert_true(sim_established(&sim));
	sim_fini(&sim);
}

/*
 * Deliver every one-bit change of p in bits [from, to) to its side: each must fail,
 * be counted under some drop reason, append no event and change no status.
 */
static void
flip_all(struct sim_pkt *p, size_t from_byte, size_t to_byte)
{
	struct keyx *kx = sim.side[p->to].kx;

	for (size_t bit = from_byte * 8; bit < to_byte * 8; bit++) {
		struct keyx_peer_status before, after;
		struct keyx_stats st0, st1;
		int rc;

		keyx_stats(kx, &st0);
		assert_int_equal(keyx_peer_status(kx, 0, &before), 0);
		p->msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		sim_evs.count = 0;
		rc = keyx_receive(kx, &p->from, p->msg, p->len, sim.now_ns, &sim_evs);
		p->msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_true(rc < 0);
		if (rc == -EBUSY && sim_evs.count == 1) {
			/* Under load (the flips drained the bucket): a cookie reply is all. */
			assert_int_equal(sim_evs.ev[0].kind, KEYX_EVENT_SEND);
			assert_int_equal(sim_evs.ev[0].msg[0], KEYX_MSG_COOKIE);
		} else {
			assert_int_equal(sim_evs.count, 0);
		}
		keyx_stats(kx, &st1);
		assert_int_equal(stats_drops(&st1), stats_drops(&st0) + 1);
		assert_int_equal(keyx_peer_status(kx, 0, &after), 0);
		assert_memory_equal(&before, &after, sizeof(before));
	}
	/* Wrong lengths too. */
	for (size_t len = 0; len < KEYX_MSG_MAX; len += 7) {
		if (len == p->len)
			continue;
		sim_evs.count = 0;
		assert_int_equal(keyx_receive(kx, &p->from, p->msg, len, sim.now_ns, &sim_evs),
		    -EBADMSG);
		assert_int_equal(sim_evs.count, 0);
	}
}

static void
test_keyx_bit_flips_change_nothing(void **state)
{
	struct sim_pkt p1, p2, p3;

	(void)state;
	sim_init(&sim, seed, NULL);
	sim_want(&sim, 0);
	assert_true(sim_take(&sim, &p1));
	/* Before delivery: anything covered by mac1 (mac2 is checked only under load). */
	flip_all(&p1, 0, KEYX_INIT_MAC2_OFF);
	assert_int_equal(sim_deliver_one(&sim, &p1), 0);
	assert_true(sim_take(&sim, &p2));
	flip_all(&p2, 0, KEYX_RESP_MAC2_OFF);
	assert_int_equal(sim_deliver_one(&sim, &p2), 0);
	assert_true(sim_take(&sim, &p3));
	flip_all(&p3, 0, p3.len);
	assert_false(sim.side[1].has_send);
	assert_int_equal(sim_deliver_one(&sim, &p3), 0);
	assert_true(sim_established(&sim));
	/* After delivery: every bit, mac2 included (replayed, unknown index). */
	flip_all(&p1, 0, p1.len);
	flip_all(&p2, 0, p2.len);
	flip_all(&p3, 0, p3.len);
	assert_true(sim_stats(&sim, 1).bad_cookie > 0);
	assert_true(sim_stats(&sim, 1).replayed > 0);
	assert_true(sim_stats(&sim, 1).auth_failed > 0);
	assert_true(sim_stats(&sim, 0).unknown_index > 0);
	assert_true(sim_stats(&sim, 1).malformed > 0);
	assert_true(sim_established(&sim));
	sim_fini(&sim);
}

/* An attacker's message 1: garbage with the right mac1 for side 1 and mac2 if cookie. */
static void
attacker_init(uint8_t msg[KEYX_INIT_LEN], const uint8_t *cookie)
{
	uint8_t mac1_key[KEYX_KEY_LEN];

	sim_random(&sim.rng, msg, KEYX_INIT_LEN);
	keyx_msg_header_encode(msg, KEYX_MSG_INIT);
	assert_int_equal(keyx_msg_derive_key(KEYX_LABEL_MAC1, sim.side[1].pub, mac1_key), 0);
	assert_int_equal(keyx_msg_macs_write(msg, KEYX_MSG_INIT, mac1_key, cookie), 0);
}

static int
attacker_send(const struct keyx_endpoint *from, const uint8_t *cookie, uint8_t mac1[KEYX_MAC_LEN])
{
	struct sim_pkt p;

	memset(&p, 0, sizeof(p));
	p.to = 1;
	p.from = *from;
	p.len = KEYX_INIT_LEN;
	attacker_init(p.msg, cookie);
	memcpy(mac1, p.msg + KEYX_INIT_MAC1_OFF, KEYX_MAC_LEN);
	return sim_deliver_one(&sim, &p);
}

static void
test_keyx_cookie_under_flood_keeps_legit_peer(void **state)
{
	struct keyx_config cfg = cfg_timers(120, 180, 10000);
	uint8_t mac1[KEYX_MAC_LEN], cookie[KEYX_COOKIE_LEN], seal[KEYX_KEY_LEN];
	struct keyx_endpoint attacker;
	struct keyx_stats st;
	bool have_cookie = false;

	(void)state;
	cfg.handshakes_per_s_max = 5;
	sim_init(&sim, seed, &cfg);
	sim_endpoint(&attacker, 66, 10);
	/* 2000 forged messages 1 per second at side 1 while the routers handshake. */
	for (int step = 0; step < 500; step++) {
		for (int k = 0; k < 20; k++) {
			int rc = attacker_send(&attacker, have_cookie ? cookie : NULL, mac1);

			assert_true(rc == -EBUSY || rc == -EBADMSG);
			if (!have_cookie && step >= 250 &&
			    sim.attacker_len == KEYX_COOKIE_MSG_LEN) {
				/* Anyone can open a reply to itself: the attacker now has mac2. */
				assert_int_equal(keyx_msg_derive_key(KEYX_LABEL_COOKIE,
				                     sim.side[1].pub, seal),
				    0);
				assert_int_equal(keyx_cookie_reply_decode(seal, sim.attacker_msg,
				                     mac1, cookie),
				    0);
				have_cookie = true;
			}
		}
		sim_run(&sim, 10 * NS_PER_MS);
	}
	assert_true(sim_established(&sim));
	st = sim_stats(&sim, 1);
	assert_true(st.cookie_sent > 1000);
	assert_true(sim_stats(&sim, 0).cookie_received >= 1);
	assert_true(have_cookie);
	/* With a valid mac2 the attacker meets the per-source limit. */
	assert_true(st.rate_limited > 500);
	assert_true(st.auth_failed > 0 && st.auth_failed < 200);
	sim_fini(&sim);
}

static void
test_keyx_cookie_reply_bit_flips_change_nothing(void **state)
{
	struct keyx_config cfg = cfg_timers(120, 180, 10000);
	struct keyx_endpoint attacker;
	uint8_t mac1[KEYX_MAC_LEN];
	struct sim_pkt p1, c;

	(void)state;
	cfg.handshakes_per_s_max = 1;
	sim_init(&sim, seed, &cfg);
	sim_endpoint(&attacker, 66, 10);
	assert_int_equal(attacker_send(&attacker, NULL, mac1), -EBADMSG); /* takes the token */
	sim_want(&sim, 0);
	assert_true(sim_take(&sim, &p1));
	assert_int_equal(sim_deliver_one(&sim, &p1), -EBUSY);
	assert_int_equal(sim_stats(&sim, 1).cookie_sent, 1);
	assert_true(sim_take(&sim, &c));
	assert_int_equal(c.msg[0], KEYX_MSG_COOKIE);
	assert_int_equal(c.len, KEYX_COOKIE_MSG_LEN);
	flip_all(&c, 0, c.len);
	assert_int_equal(sim_stats(&sim, 0).cookie_received, 0);
	assert_int_equal(sim_deliver_one(&sim, &c), 0);
	assert_int_equal(sim_stats(&sim, 0).cookie_received, 1);
	/* The retry carries mac2 and passes although side 1 is still under load. */
	sim_run(&sim, 3 * NS_PER_S);
	assert_true(sim_established(&sim));
	sim_fini(&sim);
}

static void
test_keyx_message_count_triggers_rekey(void **state)
{
	struct keyx_config cfg = cfg_timers(120, 180, 10000);
	unsigned s0, s1;

	(void)state;
	cfg.rekey_after_messages = 1000;
	sim_init(&sim, seed, &cfg);
	sim_run(&sim, 2 * NS_PER_S);
	assert_true(sim_established(&sim));
	s0 = sim.side[0].installs_send;
	s1 = sim.side[1].installs_send;
	keyx_note_sent(sim.side[1].kx, 0, 999);
	sim_run(&sim, 2 * NS_PER_S);
	assert_int_equal(sim.side[0].installs_send, s0);
	keyx_note_sent(sim.side[1].kx, 0, 1000);
	sim_run(&sim, 2 * NS_PER_S);
	assert_int_equal(sim.side[0].installs_send, s0 + 1);
	assert_int_equal(sim.side[1].installs_send, s1 + 1);
	assert_int_equal(sim_status(&sim, 1).rekeys, 1);
	assert_true(sim_established(&sim));
	/* The count restarts with the new key. */
	sim_run(&sim, 5 * NS_PER_S);
	assert_int_equal(sim.side[1].installs_send, s1 + 1);
	sim_fini(&sim);
}

/* A generator whose 32-bit draws share few low bytes, so the index rules must work. */
static void
narrow_random(void *arg, uint8_t *out, size_t len)
{
	sim_random(arg, out, len);
	if (len == sizeof(uint32_t)) {
		uint32_t v;

		memcpy(&v, out, sizeof(v));
		v = (v % 3) << 8 | (v >> 8) % 6; /* 18 values, 6 low bytes */
		memcpy(out, &v, sizeof(v));
	}
}

static void
test_keyx_indices_unique_with_distinct_low_bytes(void **state)
{
	struct keyx_peer_config peers[3] = {0};
	uint8_t priv[KEYX_KEY_LEN], pub[KEYX_KEY_LEN];
	struct keyx_config cfg;
	uint32_t idx[3];
	struct keyx *hub;
	uint64_t rng = seed;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	sim_keypair(&rng, cfg.private_key, pub);
	for (int i = 0; i < 3; i++)
		sim_keypair(&rng, priv, peers[i].public_key);
	cfg.peers = peers;
	cfg.peer_count = 3;
	cfg.random = narrow_random;
	cfg.random_arg = &rng;
	assert_int_equal(keyx_new(&cfg, SIM_T0, &hub), 0);
	for (uint32_t i = 0; i < 3; i++) {
		sim_evs.count = 0;
		keyx_peer_want(hub, i, SIM_T0, &sim_evs);
		assert_int_equal(sim_evs.count, 1);
		idx[i] = keyx_get32(sim_evs.ev[0].msg + KEYX_INIT_SENDER_OFF);
		for (uint32_t j = 0; j < i; j++)
			assert_int_not_equal(idx[i], idx[j]);
	}
	keyx_free(hub);

	/* Many rekeys between two routers with the narrow generator, with loss. */
	{
		struct keyx_config c2 = cfg_timers(2, 4, 1500);

		sim_init(&sim, seed, &c2);
		keyx_free(sim.side[0].kx);
		keyx_free(sim.side[1].kx);
		memset(&c2, 0, sizeof(c2));
		c2.rekey_after_ns = 2 * NS_PER_S;
		c2.reject_after_ns = 4 * NS_PER_S;
		c2.overlap_ns = 1500 * NS_PER_MS;
		for (int i = 0; i < 2; i++) {
			struct keyx_peer_config peer = {0};

			memcpy(peer.public_key, sim.side[1 - i].pub, KEYX_KEY_LEN);
			memcpy(c2.private_key, sim.side[i].priv, KEYX_KEY_LEN);
			c2.peers = &peer;
			c2.peer_count = 1;
			c2.random = narrow_random;
			c2.random_arg = &sim_rngs[i];
			assert_int_equal(keyx_new(&c2, sim.now_ns, &sim.side[i].kx), 0);
		}
		sim.drop_milli = 50;
		sim.dup_milli = 50;
		sim_run(&sim, 60 * NS_PER_S);
		sim.drop_milli = sim.dup_milli = 0;
		sim_run(&sim, 5 * NS_PER_S);
		assert_true(sim_established(&sim));
		assert_true(sim_status(&sim, 0).rekeys + sim_status(&sim, 1).rekeys > 10);
		sim_fini(&sim);
	}
}

static void
test_keyx_new_rejects_bad_config(void **state)
{
	struct keyx_peer_config peers[2] = {0};
	uint8_t pub[KEYX_KEY_LEN];
	struct keyx_config cfg;
	struct keyx *kx = NULL;
	uint64_t rng = seed;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	sim_keypair(&rng, cfg.private_key, pub);
	sim_keypair(&rng, peers[1].public_key, peers[0].public_key);
	cfg.peers = peers;
	cfg.peer_count = 1;
	assert_int_equal(keyx_new(NULL, 0, &kx), -EINVAL);
	assert_int_equal(keyx_new(&cfg, 0, NULL), -EINVAL);
	assert_int_equal(keyx_new(&cfg, 0, &kx), 0);
	assert_int_equal(keyx_peer_count(kx), 1);
	keyx_free(kx);
	memcpy(peers[1].public_key, peers[0].public_key, KEYX_KEY_LEN);
	cfg.peer_count = 2;
	assert_int_equal(keyx_new(&cfg, 0, &kx), -EINVAL); /* the same peer twice */
	memcpy(peers[1].public_key, pub, KEYX_KEY_LEN);
	assert_int_equal(keyx_new(&cfg, 0, &kx), -EINVAL); /* our own key */
	memset(peers[1].public_key, 0, KEYX_KEY_LEN);
	assert_int_equal(keyx_new(&cfg, 0, &kx), -EINVAL); /* a low-order point */
	cfg.peer_count = 1;
	cfg.rekey_after_messages = KEYX_DATA_SEQ_MAX + 1;
	assert_int_equal(keyx_new(&cfg, 0, &kx), -EINVAL);
	cfg.peers = NULL;
	cfg.rekey_after_messages = 0;
	assert_int_equal(keyx_new(&cfg, 0, &kx), -EINVAL);
	cfg.peer_count = 0;
	assert_int_equal(keyx_new(&cfg, 0, &kx), 0);
	assert_int_equal(keyx_peer_status(kx, 0, &(struct keyx_peer_status){0}), -ENOENT);
	keyx_free(kx);
	keyx_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keyx_handshake_establishes_matching_keys),
	    cmocka_unit_test(test_keyx_confirm_gates_responder_send_key),
	    cmocka_unit_test(test_keyx_note_received_confirms_without_message_3),
	    cmocka_unit_test(test_keyx_rekey_keeps_old_receive_key_for_overlap),
	    cmocka_unit_test(test_keyx_reject_after_clears_and_retry_recovers),
	    cmocka_unit_test(test_keyx_set_timers_shorter_rekeys_with_no_gap),
	    cmocka_unit_test(test_keyx_set_timers_longer_keeps_keys_until_the_rekey),
	    cmocka_unit_test(test_keyx_simultaneous_initiation_converges),
	    cmocka_unit_test(test_keyx_lost_message_recovered_by_retry),
	    cmocka_unit_test(test_keyx_unknown_static_key_rejected),
	    cmocka_unit_test(test_keyx_replayed_message_1_counted),
	    cmocka_unit_test(test_keyx_bit_flips_change_nothing),
	    cmocka_unit_test(test_keyx_cookie_under_flood_keeps_legit_peer),
	    cmocka_unit_test(test_keyx_cookie_reply_bit_flips_change_nothing),
	    cmocka_unit_test(test_keyx_message_count_triggers_rekey),
	    cmocka_unit_test(test_keyx_indices_unique_with_distinct_low_bytes),
	    cmocka_unit_test(test_keyx_new_rejects_bad_config),
	};

	seed = test_seed();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
