/*
 * Shared by the key exchange fuzz target and its corpus generator: two routers with
 * fixed keys and seeded generators, so every run reaches the same states and the
 * genuine messages of the seed corpus stay valid.
 *
 * Modes (data[0] % 3) name the router the datagram goes to:
 *   0: a fresh responder;
 *   1: the initiator after it sent message 1 (message 2 or a cookie reply expected);
 *   2: the responder after it answered message 1 (a confirm expected).
 * (data[0] / 3) % 2 == 1 puts the receiver under load first (cookie replies, mac2).
 */
#ifndef TERN_TESTS_FUZZ_KEYX_SETUP_H
#define TERN_TESTS_FUZZ_KEYX_SETUP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto_key.h"
#include "keyx/keyx.h"
#include "keyx/keyx_msg.h"

#define FUZZ_KEYX_T0 (1000ull * 1000000000ull)

struct fuzz_keyx {
	struct keyx *r, *i; /* responder, initiator */
	uint64_t rng_r, rng_i;
	struct keyx_endpoint ep_r, ep_i;
	struct keyx_events ev;
	uint8_t msg1[KEYX_MSG_MAX], msg2[KEYX_MSG_MAX];
	size_t msg1_len, msg2_len;
};

static void
fuzz_keyx_random(void *arg, uint8_t *out, size_t len)
{
	uint64_t *s = arg;

	for (size_t k = 0; k < len; k++) {
		uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		out[k] = (uint8_t)(z ^ (z >> 31));
	}
}

static const uint8_t fuzz_keyx_priv_r[KEYX_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
    14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t fuzz_keyx_priv_i[KEYX_KEY_LEN] = {101, 102, 103, 104, 105, 106, 107, 108, 109,
    110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128,
    129, 130, 131, 132};

static struct keyx *
fuzz_keyx_new(const uint8_t *priv, const uint8_t *peer_priv, uint64_t *rng)
{
	struct keyx_peer_config peer = {0};
	struct keyx_config cfg;
	struct keyx *kx = NULL;

	memset(&cfg, 0, sizeof(cfg));
	memcpy(cfg.private_key, priv, KEYX_KEY_LEN);
	if (crypto_key_public(peer_priv, peer.public_key) != 0)
		abort();
	cfg.peers = &peer;
	cfg.peer_count = 1;
	cfg.handshakes_per_s_max = 1;
	cfg.random = fuzz_keyx_random;
	cfg.random_arg = rng;
	if (keyx_new(&cfg, FUZZ_KEYX_T0, &kx) != 0)
		abort();
	return kx;
}

/* The last SEND event of f->ev into msg; false if there is none. */
static bool
fuzz_keyx_take_send(struct fuzz_keyx *f, uint8_t *msg, size_t *len)
{
	for (unsigned k = f->ev.count; k-- > 0;)
		if (f->ev.ev[k].kind == KEYX_EVENT_SEND) {
			memcpy(msg, f->ev.ev[k].msg, f->ev.ev[k].len);
			*len = f->ev.ev[k].len;
			return true;
		}
	return false;
}

static void
fuzz_keyx_endpoint(struct keyx_endpoint *ep, uint8_t last)
{
	const uint8_t a[4] = {198, 51, 100, last};

	memset(ep, 0, sizeof(*ep));
	addr_set_v4(&ep->addr, a);
	ep->port = KEYX_PORT;
}

/* Drain kx's handshake bucket with one message that passes mac1. */
static void
fuzz_keyx_load(struct fuzz_keyx *f, struct keyx *kx, const uint8_t *own_priv)
{
	uint8_t pub[KEYX_KEY_LEN], key[KEYX_KEY_LEN], msg[KEYX_INIT_LEN];
	struct keyx_endpoint ep;

	memset(msg, 0x55, sizeof(msg));
	keyx_msg_header_encode(msg, KEYX_MSG_INIT);
	if (crypto_key_public(own_priv, pub) != 0 ||
	    keyx_msg_derive_key(KEYX_LABEL_MAC1, pub, key) != 0 ||
	    keyx_msg_macs_write(msg, KEYX_MSG_INIT, key, NULL) != 0)
		abort();
	fuzz_keyx_endpoint(&ep, 99);
	f->ev.count = 0;
	(void)keyx_receive(kx, &ep, msg, sizeof(msg), FUZZ_KEYX_T0, &f->ev);
}

/* Bring the routers to mode; returns the router the fuzz datagram goes to. */
static struct keyx *
fuzz_keyx_setup(struct fuzz_keyx *f, unsigned mode, bool load)
{
	struct keyx *target;

	memset(f, 0, sizeof(*f));
	f->rng_r = 1;
	f->rng_i = 2;
	fuzz_keyx_endpoint(&f->ep_r, 1);
	fuzz_keyx_endpoint(&f->ep_i, 2);
	f->r = fuzz_keyx_new(fuzz_keyx_priv_r, fuzz_keyx_priv_i, &f->rng_r);
	f->i = fuzz_keyx_new(fuzz_keyx_priv_i, fuzz_keyx_priv_r, &f->rng_i);
	target = f->r;
	if (mode >= 1) {
		keyx_peer_want(f->i, 0, FUZZ_KEYX_T0, &f->ev);
		if (!fuzz_keyx_take_send(f, f->msg1, &f->msg1_len))
			abort();
		target = f->i;
	}
	if (mode == 2) {
		f->ev.count = 0;
		if (keyx_receive(f->r, &f->ep_i, f->msg1, f->msg1_len, FUZZ_KEYX_T0, &f->ev) != 0 ||
		    !fuzz_keyx_take_send(f, f->msg2, &f->msg2_len))
			abort();
		target = f->r;
	}
	if (load)
		fuzz_keyx_load(f, target, target == f->r ? fuzz_keyx_priv_r : fuzz_keyx_priv_i);
	f->ev.count = 0;
	return target;
}

static void
fuzz_keyx_teardown(struct fuzz_keyx *f)
{
	keyx_free(f->r);
	keyx_free(f->i);
}

#endif
