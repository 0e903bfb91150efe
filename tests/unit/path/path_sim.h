/*
 * Two path probers wired back to back for the path tests: side 0 and side 1, one path
 * each (tokens SIM_TOKEN_A and SIM_TOKEN_B, peers of each other), an in-memory network
 * with per-direction delay, uniform jitter, random loss and outages, and a simulated
 * clock. With keys, each side seals under its own probe key (index SIM_INDEX_A / B)
 * and the other side opens with a separate context of the same key.
 *
 * Every SEND event goes through the network; every STATE event is checked (old state
 * matches the tracked one, no UNKNOWN target) and recorded with its time.
 */
#ifndef TERN_TESTS_UNIT_PATH_SIM_H
#define TERN_TESTS_UNIT_PATH_SIM_H

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

#include "crypto/crypto_aead.h"
#include "path/path_prober.h"
#include "test_rand.h"

#define NS_PER_MS   1000000ull
#define NS_PER_S    1000000000ull
#define SIM_QUEUE   8192
#define SIM_T0      (1000 * NS_PER_S)
#define SIM_TOKEN_A 11u
#define SIM_TOKEN_B 22u
#define SIM_PEER_A  7u          /* side 1's peer id of side 0 */
#define SIM_PEER_B  9u          /* side 0's peer id of side 1 */
#define SIM_INDEX_A 0x0a000001u /* side 1's receive index of side 0's key */
#define SIM_INDEX_B 0x0b000002u
#define SIM_CHANGES 1024

struct sim_pkt {
	int to;
	uint64_t at_ns;
	struct addr from;
	uint16_t from_port;
	uint8_t msg[PATH_PROBE_LEN_MAX];
	size_t len;
};

struct sim_change {
	uint64_t ts_ns;
	uint8_t old_state, new_state, reason;
	uint64_t hold_down_ns;
};

/* One direction of the network: from side i to side 1 - i. */
struct sim_link {
	uint64_t delay_ns, jitter_ns;
	uint32_t loss_ppm; /* per million */
	bool cut;
};

struct sim_side {
	struct path_prober *p;
	struct addr addr;
	uint32_t path_id, peer_id;
	struct crypto_aead *send, *recv; /* recv opens the other side's probes */
	uint32_t send_index, recv_index;
	uint8_t state; /* tracked from STATE events */
	struct sim_change changes[SIM_CHANGES];
	unsigned nchanges;
	uint64_t rx_ok, rx_err;
	int last_rc;
	uint16_t port;        /* source port of its probes as the other side sees them */
	unsigned bindings;    /* BINDING events */
	uint8_t last_binding; /* enum path_binding_kind of the last */
	struct addr last_binding_addr;
	uint16_t last_binding_port;
};

struct sim {
	uint64_t now_ns, rng;
	bool keys;
	bool any_remote; /* a NAT test: probes may still go to the old address */
	bool learn1;     /* side 1's path learns side 0's address (sim_init_learn) */
	struct sim_side side[2];
	struct sim_link link[2];
	struct sim_pkt q[SIM_QUEUE];
	unsigned nq;
	uint64_t sent[2], dropped[2];
	/* Optional tap: sees every datagram entering the network (tests copy probes). */
	void (*tap)(struct sim *s, int from, const uint8_t *msg, size_t len);
};

static struct path_events sim_evs;

static struct crypto_aead *
sim_open_key(void *arg, uint32_t peer_id, uint32_t key_index)
{
	struct sim_side *d = arg;

	if (peer_id != d->peer_id || key_index != d->recv_index)
		return NULL;
	return d->recv;
}

static void
sim_key(uint8_t key[CRYPTO_AEAD_KEY_LEN], uint8_t fill)
{
	memset(key, fill, CRYPTO_AEAD_KEY_LEN);
}

/*
 * Sets up both sides with cfg for their paths (NULL: defaults) and keys or none; with
 * learn1, side 1 learns side 0's address (side 0 is behind a NAT).
 */
static inline void
sim_init_learn(struct sim *s, uint64_t seed, bool keys, const struct path_config *cfg, bool learn1)
{
	static const uint8_t a4[4] = {192, 0, 2, 1}, b4[4] = {198, 51, 100, 1};
	uint8_t ka[CRYPTO_AEAD_KEY_LEN], kb[CRYPTO_AEAD_KEY_LEN];

	memset(s, 0, sizeof(*s));
	s->now_ns = SIM_T0;
	s->rng = seed;
	s->keys = keys;
	addr_set_v4(&s->side[0].addr, a4);
	addr_set_v4(&s->side[1].addr, b4);
	s->side[0].path_id = SIM_TOKEN_A;
	s->side[1].path_id = SIM_TOKEN_B;
	s->side[0].peer_id = SIM_PEER_B;
	s->side[1].peer_id = SIM_PEER_A;
	s->side[0].port = s->side[1].port = PATH_PROBE_PORT;
	s->learn1 = learn1;
	sim_key(ka, 0xa5);
	sim_key(kb, 0x5b);
	if (keys) {
		assert_int_equal(crypto_aead_new(CRYPTO_AEAD_AES_256_GCM, ka, &s->side[0].send), 0);
		assert_int_equal(crypto_aead_new(CRYPTO_AEAD_AES_256_GCM, ka, &s->side[1].recv), 0);
		assert_int_equal(crypto_aead_new(CRYPTO_AEAD_AES_256_GCM, kb, &s->side[1].send), 0);
		assert_int_equal(crypto_aead_new(CRYPTO_AEAD_AES_256_GCM, kb, &s->side[0].recv), 0);
		s->side[0].send_index = SIM_INDEX_A;
		s->side[1].recv_index = SIM_INDEX_A;
		s->side[1].send_index = SIM_INDEX_B;
		s->side[0].recv_index = SIM_INDEX_B;
	}
	for (int i = 0; i < 2; i++) {
		struct sim_side *d = &s->side[i];
		struct path_prober_config pc;
		struct path_spec spec;

		memset(&pc, 0, sizeof(pc));
		if (keys) {
			pc.open_key = sim_open_key;
			pc.open_key_arg = d;
		}
		assert_int_equal(path_prober_new(&pc, s->now_ns, &d->p), 0);
		memset(&spec, 0, sizeof(spec));
		spec.peer_id = d->peer_id;
		spec.path_id = d->path_id;
		spec.local_id = 1;
		spec.local = d->addr;
		spec.remote = s->side[1 - i].addr;
		if (i == 1 && learn1) {
			spec.learn = true;
			memset(spec.remote.bytes, 0, sizeof(spec.remote.bytes));
		}
		if (cfg != NULL)
			spec.cfg = *cfg;
		assert_int_equal(path_prober_add_path(d->p, &spec, s->now_ns), 0);
		if (keys)
			path_prober_set_send_key(d->p, d->peer_id, d->send, d->send_index);
	}
}

static inline void
sim_init(struct sim *s, uint64_t seed, bool keys, const struct path_config *cfg)
{
	sim_init_learn(s, seed, keys, cfg, false);
}

static inline void
sim_fini(struct sim *s)
{
	for (int i = 0; i < 2; i++) {
		path_prober_free(s->side[i].p);
		crypto_aead_free(s->side[i].send);
		crypto_aead_free(s->side[i].recv);
	}
}

/* Puts a datagram from side `from` into the network (or drops it). */
static void
sim_transmit(struct sim *s, int from, const uint8_t *msg, size_t len)
{
	struct sim_link *l = &s->link[from];
	struct sim_pkt *q;

	if (s->tap != NULL)
		s->tap(s, from, msg, len);
	s->sent[from]++;
	if (l->cut || (l->loss_ppm > 0 && test_rand_below(&s->rng, 1000000) < l->loss_ppm) ||
	    s->nq >= SIM_QUEUE) {
		s->dropped[from]++;
		return;
	}
	q = &s->q[s->nq++];
	q->to = 1 - from;
	q->at_ns = s->now_ns + l->delay_ns +
	    (l->jitter_ns > 0 ? test_rand_below(&s->rng, l->jitter_ns + 1) : 0);
	q->from = s->side[from].addr;
	q->from_port = s->side[from].port;
	memcpy(q->msg, msg, len);
	q->len = len;
}

static void
sim_apply(struct sim *s, int i, const struct path_events *ev)
{
	struct sim_side *d = &s->side[i];

	assert_int_equal(ev->overflow, 0);
	for (unsigned k = 0; k < ev->count; k++) {
		const struct path_event *e = &ev->ev[k];

		assert_int_equal(e->path_id, d->path_id);
		assert_int_equal(e->peer_id, d->peer_id);
		if (e->kind == PATH_EVENT_SEND) {
			assert_true(e->len == PATH_PROBE_LEN ||
			    ((s->learn1 || s->any_remote) && e->len == PATH_PROBE_LEN_MAX));
			assert_true(s->any_remote || e->remote_port == s->side[1 - i].port);
			assert_true(s->any_remote || addr_equal(&e->remote, &s->side[1 - i].addr));
			sim_transmit(s, i, e->msg, e->len);
			continue;
		}
		if (e->kind == PATH_EVENT_BINDING) {
			d->bindings++;
			d->last_binding = e->reason;
			d->last_binding_addr = e->remote;
			d->last_binding_port = e->remote_port;
			continue;
		}
		assert_int_equal(e->kind, PATH_EVENT_STATE);
		assert_int_equal(e->old_state, d->state);
		assert_int_not_equal(e->new_state, PATH_STATE_UNKNOWN);
		assert_int_not_equal(e->new_state, e->old_state);
		assert_int_equal(e->ts_ns, s->now_ns);
		d->state = e->new_state;
		if (d->nchanges < SIM_CHANGES) {
			struct sim_change *c = &d->changes[d->nchanges++];

			c->ts_ns = e->ts_ns;
			c->old_state = e->old_state;
			c->new_state = e->new_state;
			c->reason = e->reason;
			c->hold_down_ns = e->hold_down_ns;
		}
	}
}

/* Delivers every datagram due by now, in arrival order. */
static void
sim_deliver(struct sim *s)
{
	for (;;) {
		unsigned best = s->nq;
		struct sim_pkt pkt;
		struct sim_side *d;

		for (unsigned k = 0; k < s->nq; k++)
			if (s->q[k].at_ns <= s->now_ns &&
			    (best == s->nq || s->q[k].at_ns < s->q[best].at_ns))
				best = k;
		if (best == s->nq)
			return;
		pkt = s->q[best];
		s->q[best] = s->q[--s->nq];
		d = &s->side[pkt.to];
		sim_evs.count = 0;
		d->last_rc = path_prober_receive(d->p, 1, &pkt.from, pkt.from_port, pkt.msg,
		    pkt.len, s->now_ns, &sim_evs);
		if (d->last_rc == 0)
			d->rx_ok++;
		else
			d->rx_err++;
		sim_apply(s, pkt.to, &sim_evs);
	}
}

/* Runs the clock for duration_ns in steps of step_ns (deliveries, then ticks). */
static inline void
sim_run(struct sim *s, uint64_t duration_ns, uint64_t step_ns)
{
	uint64_t end = s->now_ns + duration_ns;

	while (s->now_ns < end) {
		s->now_ns += step_ns;
		sim_deliver(s);
		for (int i = 0; i < 2; i++) {
			sim_evs.count = 0;
			path_prober_tick(s->side[i].p, s->now_ns, &sim_evs);
			sim_apply(s, i, &sim_evs);
		}
	}
}

static inline void
sim_status(struct sim *s, int i, struct path_status *st)
{
	assert_int_equal(path_prober_status(s->side[i].p, s->side[i].path_id, st), 0);
}

/* Both directions. */
static inline void
sim_links(struct sim *s, uint64_t delay_ns, uint64_t jitter_ns, uint32_t loss_ppm, bool cut)
{
	for (int i = 0; i < 2; i++) {
		s->link[i].delay_ns = delay_ns;
		s->link[i].jitter_ns = jitter_ns;
		s->link[i].loss_ppm = loss_ppm;
		s->link[i].cut = cut;
	}
}

#endif
