/*
 * A two-router simulation for the key exchange tests: two struct keyx wired back to
 * back through an in-memory network with per-datagram delivery times, drops and
 * duplicates, and a model of each router's data path (its installed receive keys and
 * its one send key) built only from the events the module returns.
 *
 * Checks made on every event: receive indices unique and with distinct low bytes per
 * peer, EXPIRE_RECV only of installed indices, keys never all zero.
 */
#ifndef TERN_TESTS_UNIT_KEYX_SIM_H
#define TERN_TESTS_UNIT_KEYX_SIM_H

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

#include "crypto/crypto_key.h"
#include "keyx/keyx.h"
#include "test_rand.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S  1000000000ull
#define SIM_RECV  16
#define SIM_QUEUE 4096
#define SIM_T0    (1000 * NS_PER_S)

struct sim_recv {
	bool used;
	uint32_t index;
	uint8_t key[KEYX_KEY_LEN];
	uint64_t installed_ns;
};

/* One router's data path as the events leave it. */
struct sim_side {
	struct keyx *kx;
	uint8_t priv[KEYX_KEY_LEN], pub[KEYX_KEY_LEN];
	struct keyx_endpoint ep;
	struct sim_recv recv[SIM_RECV];
	bool has_send;
	uint32_t send_index, send_local_index;
	uint8_t send_key[KEYX_KEY_LEN];
	uint64_t send_installed_ns;
	unsigned installs_send, installs_recv, expires_recv, expires_send, clears;
	uint64_t last_expire_recv_ns;
	uint32_t last_expired_index;
};

struct sim_pkt {
	int to; /* side 0 or 1, or -1 for the attacker */
	struct keyx_endpoint from;
	uint8_t msg[KEYX_MSG_MAX];
	size_t len;
	uint64_t at_ns;
};

struct sim {
	struct sim_side side[2];
	struct sim_pkt queue[SIM_QUEUE];
	unsigned queued;
	uint64_t now_ns;
	uint64_t rng;
	/* Network faults, in thousandths; delays in ns. */
	unsigned drop_milli, dup_milli;
	uint64_t delay_min_ns, delay_max_ns;
	/* Drop the next datagram of this message type (1..4) from a side, once each. */
	int drop_type_once[2];
	bool cut; /* drop everything */
	/* Datagrams for the attacker endpoint (cookie replies), last one kept. */
	uint8_t attacker_msg[KEYX_MSG_MAX];
	size_t attacker_len;
	unsigned attacker_rx;
	unsigned delivered[5];
};

static inline void
sim_random(void *arg, uint8_t *out, size_t len)
{
	uint64_t *state = arg;

	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = test_rand(state);
		size_t n = len - i < 8 ? len - i : 8;

		memcpy(out + i, &v, n);
	}
}

static inline void
sim_keypair(uint64_t *rng, uint8_t priv[KEYX_KEY_LEN], uint8_t pub[KEYX_KEY_LEN])
{
	sim_random(rng, priv, KEYX_KEY_LEN);
	assert_int_equal(crypto_key_public(priv, pub), 0);
}

static inline void
sim_endpoint(struct keyx_endpoint *ep, uint8_t last, uint32_t local_id)
{
	const uint8_t a[4] = {192, 0, 2, last};

	memset(ep, 0, sizeof(*ep));
	addr_set_v4(&ep->addr, a);
	ep->port = KEYX_PORT;
	ep->local_id = local_id;
}

/* Config of side i with the other side as its only peer. cfg_in may change timers. */
static inline void
sim_side_new(struct sim *s, int i, const struct keyx_config *cfg_in,
    const uint8_t peer_pub[KEYX_KEY_LEN], uint64_t *rng)
{
	struct keyx_peer_config peer = {0};
	struct keyx_config cfg;

	memcpy(peer.public_key, peer_pub, KEYX_KEY_LEN);
	if (cfg_in != NULL)
		cfg = *cfg_in;
	else
		memset(&cfg, 0, sizeof(cfg));
	memcpy(cfg.private_key, s->side[i].priv, KEYX_KEY_LEN);
	cfg.peers = &peer;
	cfg.peer_count = 1;
	cfg.random = sim_random;
	cfg.random_arg = rng;
	assert_int_equal(keyx_new(&cfg, s->now_ns, &s->side[i].kx), 0);
}

static uint64_t sim_rngs[2];

/* Two routers that know each other, with cfg's timers (NULL: defaults). */
static inline void
sim_init(struct sim *s, uint64_t seed, const struct keyx_config *cfg)
{
	memset(s, 0, sizeof(*s));
	s->rng = seed;
	s->now_ns = SIM_T0;
	s->delay_min_ns = s->delay_max_ns = 5 * NS_PER_MS;
	for (int i = 0; i < 2; i++) {
		sim_keypair(&s->rng, s->side[i].priv, s->side[i].pub);
		sim_endpoint(&s->side[i].ep, (uint8_t)(1 + i), (uint32_t)(10 + i));
	}
	sim_rngs[0] = test_rand(&s->rng);
	sim_rngs[1] = test_rand(&s->rng);
	sim_side_new(s, 0, cfg, s->side[1].pub, &sim_rngs[0]);
	sim_side_new(s, 1, cfg, s->side[0].pub, &sim_rngs[1]);
}

static inline void
sim_fini(struct sim *s)
{
	keyx_free(s->side[0].kx);
	keyx_free(s->side[1].kx);
}

static inline struct sim_recv *
sim_recv_find(struct sim_side *d, uint32_t index)
{
	for (int i = 0; i < SIM_RECV; i++)
		if (d->recv[i].used && d->recv[i].index == index)
			return &d->recv[i];
	return NULL;
}

static inline unsigned
sim_recv_count(const struct sim_side *d)
{
	unsigned n = 0;

	for (int i = 0; i < SIM_RECV; i++)
		n += d->recv[i].used;
	return n;
}

static inline bool
sim_key_is_zero(const uint8_t *k)
{
	uint8_t acc = 0;

	for (int i = 0; i < KEYX_KEY_LEN; i++)
		acc |= k[i];
	return acc == 0;
}

static inline void
sim_enqueue(struct sim *s, int to, const struct keyx_endpoint *from, const uint8_t *msg, size_t len)
{
	struct sim_pkt *p;
	uint64_t span = s->delay_max_ns - s->delay_min_ns;

	if (s->queued == SIM_QUEUE)
		return; /* a full network drops */
	p = &s->queue[s->queued++];
	p->to = to;
	p->from = *from;
	memcpy(p->msg, msg, len);
	p->len = len;
	p->at_ns =
	    s->now_ns + s->delay_min_ns + (span > 0 ? test_rand_below(&s->rng, span + 1) : 0);
}

/* A datagram leaves side i: faults apply here. */
static inline void
sim_transmit(struct sim *s, int i, const struct keyx_event *ev)
{
	int to = 1 - i;

	if (ev->to.addr.family != 0 && !addr_equal(&ev->to.addr, &s->side[to].ep.addr)) {
		/* A reply to the attacker. */
		memcpy(s->attacker_msg, ev->msg, ev->len);
		s->attacker_len = ev->len;
		s->attacker_rx++;
		return;
	}
	if (s->cut)
		return;
	if (s->drop_type_once[i] != 0 && ev->len > 0 && ev->msg[0] == s->drop_type_once[i]) {
		s->drop_type_once[i] = 0;
		return;
	}
	if (s->drop_milli > 0 && test_rand_below(&s->rng, 1000) < s->drop_milli)
		return;
	sim_enqueue(s, to, &s->side[i].ep, ev->msg, ev->len);
	if (s->dup_milli > 0 && test_rand_below(&s->rng, 1000) < s->dup_milli)
		sim_enqueue(s, to, &s->side[i].ep, ev->msg, ev->len);
}

/* Carry out side i's events on its data-path model. */
static inline void
sim_apply(struct sim *s, int i, struct keyx_events *evs)
{
	struct sim_side *d = &s->side[i];

	assert_int_equal(evs->overflow, 0);
	for (unsigned k = 0; k < evs->count; k++) {
		const struct keyx_event *ev = &evs->ev[k];
		struct sim_recv *r;

		switch (ev->kind) {
		case KEYX_EVENT_SEND:
			assert_true(ev->len > 0 && ev->len <= KEYX_MSG_MAX);
			sim_transmit(s, i, ev);
			break;
		case KEYX_EVENT_INSTALL_RECV:
			assert_int_equal(ev->peer_id, 0);
			assert_false(sim_key_is_zero(ev->key));
			assert_null(sim_recv_find(d, ev->index));
			/* The low byte picks the key in the data path: distinct per peer. */
			for (int j = 0; j < SIM_RECV; j++)
				if (d->recv[j].used)
					assert_int_not_equal(d->recv[j].index & 0xff,
					    ev->index & 0xff);
			r = NULL;
			for (int j = 0; j < SIM_RECV && r == NULL; j++)
				if (!d->recv[j].used)
					r = &d->recv[j];
			assert_non_null(r);
			r->used = true;
			r->index = ev->index;
			memcpy(r->key, ev->key, KEYX_KEY_LEN);
			r->installed_ns = s->now_ns;
			d->installs_recv++;
			break;
		case KEYX_EVENT_INSTALL_SEND:
			assert_false(sim_key_is_zero(ev->key));
			/* The pair's own receive key is installed already. */
			assert_non_null(sim_recv_find(d, ev->local_index));
			d->has_send = true;
			d->send_index = ev->index;
			d->send_local_index = ev->local_index;
			memcpy(d->send_key, ev->key, KEYX_KEY_LEN);
			d->send_installed_ns = s->now_ns;
			d->installs_send++;
			break;
		case KEYX_EVENT_EXPIRE_RECV:
			r = sim_recv_find(d, ev->index);
			assert_non_null(r);
			memset(r, 0, sizeof(*r));
			d->expires_recv++;
			d->last_expire_recv_ns = s->now_ns;
			d->last_expired_index = ev->index;
			break;
		case KEYX_EVENT_EXPIRE_SEND:
			assert_true(d->has_send);
			assert_int_equal(d->send_index, ev->index);
			d->has_send = false;
			d->expires_send++;
			break;
		case KEYX_EVENT_CLEAR:
			memset(d->recv, 0, sizeof(d->recv));
			d->has_send = false;
			d->clears++;
			break;
		}
	}
	evs->count = 0;
}

static struct keyx_events sim_evs;

static inline int
sim_deliver_one(struct sim *s, const struct sim_pkt *p)
{
	int rc;

	if (p->len > 0 && p->msg[0] >= 1 && p->msg[0] <= 4)
		s->delivered[p->msg[0]]++;
	sim_evs.count = 0;
	rc = keyx_receive(s->side[p->to].kx, &p->from, p->msg, p->len, s->now_ns, &sim_evs);
	sim_apply(s, p->to, &sim_evs);
	return rc;
}

/* Deliver every datagram due by now, in time order. */
static inline void
sim_deliver_due(struct sim *s)
{
	for (;;) {
		unsigned best = s->queued;
		struct sim_pkt p;

		for (unsigned k = 0; k < s->queued; k++)
			if (s->queue[k].at_ns <= s->now_ns &&
			    (best == s->queued || s->queue[k].at_ns < s->queue[best].at_ns))
				best = k;
		if (best == s->queued)
			return;
		p = s->queue[best];
		s->queue[best] = s->queue[--s->queued];
		if (p.to >= 0)
			(void)sim_deliver_one(s, &p);
	}
}

/* Remove the earliest queued datagram into *p, advancing time to it; false if none. */
static inline bool
sim_take(struct sim *s, struct sim_pkt *p)
{
	unsigned best = s->queued;

	for (unsigned k = 0; k < s->queued; k++)
		if (best == s->queued || s->queue[k].at_ns < s->queue[best].at_ns)
			best = k;
	if (best == s->queued)
		return false;
	*p = s->queue[best];
	s->queue[best] = s->queue[--s->queued];
	if (p->at_ns > s->now_ns)
		s->now_ns = p->at_ns;
	return true;
}

/* Deliver everything queued and what it causes, without ticks. */
static inline void
sim_flush(struct sim *s)
{
	struct sim_pkt p;

	while (sim_take(s, &p))
		if (p.to >= 0)
			(void)sim_deliver_one(s, &p);
}

static inline void
sim_tick(struct sim *s, int i)
{
	sim_evs.count = 0;
	keyx_tick(s->side[i].kx, s->now_ns, &sim_evs);
	sim_apply(s, i, &sim_evs);
}

static inline void
sim_want(struct sim *s, int i)
{
	sim_evs.count = 0;
	keyx_peer_want(s->side[i].kx, 0, s->now_ns, &sim_evs);
	sim_apply(s, i, &sim_evs);
}

/* Run for dur_ns in 10 ms steps, ticking both sides every 100 ms. */
static inline void
sim_run(struct sim *s, uint64_t dur_ns)
{
	uint64_t end = s->now_ns + dur_ns;

	while (s->now_ns < end) {
		uint64_t before = s->now_ns;

		s->now_ns += 10 * NS_PER_MS;
		sim_deliver_due(s);
		if (s->now_ns / (100 * NS_PER_MS) != before / (100 * NS_PER_MS)) {
			sim_tick(s, 0);
			sim_tick(s, 1);
		}
	}
}

/* Whether side i's send key is the other side's receive key of the same index. */
static inline bool
sim_send_matches(struct sim *s, int i)
{
	struct sim_side *d = &s->side[i];
	struct sim_recv *r;

	if (!d->has_send)
		return false;
	r = sim_recv_find(&s->side[1 - i], d->send_index);
	return r != NULL && memcmp(r->key, d->send_key, KEYX_KEY_LEN) == 0;
}

static inline bool
sim_established(struct sim *s)
{
	return sim_send_matches(s, 0) && sim_send_matches(s, 1);
}

static inline struct keyx_stats
sim_stats(struct sim *s, int i)
{
	struct keyx_stats st;

	keyx_stats(s->side[i].kx, &st);
	return st;
}

static inline struct keyx_peer_status
sim_status(struct sim *s, int i)
{
	struct keyx_peer_status st;

	assert_int_equal(keyx_peer_status(s->side[i].kx, 0, &st), 0);
	return st;
}

#endif
