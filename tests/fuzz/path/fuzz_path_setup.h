/*
 * Shared by the path probe fuzz target and its corpus generator: two probers A and B
 * with fixed keys, one path each, that exchange probes for a few rounds on a fixed
 * clock. The prober uses no randomness, so every run reaches the same state and the
 * genuine probes of the seed corpus stay valid.
 *
 * Mode byte (data[0]): bit 0 set: plain (unauthenticated) probers; bit 1 set: B is
 * fresh (no round exchanged); bit 2 set: the datagram comes from another address; bit 3
 * set (keyed only): B learns A's address (A is behind a NAT), so both sides send the
 * OBSERVED field once they have heard each other.
 * The rest of the input is the datagram to B. A's next probe, after setup, is
 * f->next (what a genuine input carries).
 */
#ifndef TERN_TESTS_FUZZ_PATH_SETUP_H
#define TERN_TESTS_FUZZ_PATH_SETUP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto_aead.h"
#include "path/path_prober.h"

#define FUZZ_PATH_T0      (1000ull * 1000000000ull)
#define FUZZ_PATH_STEP    (100ull * 1000000ull)
#define FUZZ_PATH_ROUNDS  5
#define FUZZ_PATH_TOKEN_A 11u
#define FUZZ_PATH_TOKEN_B 22u
#define FUZZ_PATH_INDEX_A 0x0a000001u
#define FUZZ_PATH_INDEX_B 0x0b000002u

struct fuzz_path {
	struct path_prober *a, *b;
	struct crypto_aead *a_send, *b_recv, *b_send, *a_recv;
	struct addr addr_a, addr_b, addr_x;
	uint64_t now;
	struct path_events ev;
	uint8_t next[PATH_PROBE_LEN_MAX]; /* A's next probe to B */
	uint8_t prev[PATH_PROBE_LEN_MAX]; /* A's previous one, already delivered */
	size_t next_len, prev_len;
};

static struct crypto_aead *
fuzz_path_open_a(void *arg, uint32_t peer_id, uint32_t key_index)
{
	struct fuzz_path *f = arg;

	return peer_id == 2 && key_index == FUZZ_PATH_INDEX_B ? f->a_recv : NULL;
}

static struct crypto_aead *
fuzz_path_open_b(void *arg, uint32_t peer_id, uint32_t key_index)
{
	struct fuzz_path *f = arg;

	return peer_id == 1 && key_index == FUZZ_PATH_INDEX_A ? f->b_recv : NULL;
}

static struct path_prober *
fuzz_path_new(struct fuzz_path *f, bool plain, bool is_a, bool learn)
{
	struct path_prober_config pc;
	struct path_prober *p = NULL;
	struct path_spec spec;

	memset(&pc, 0, sizeof(pc));
	if (!plain) {
		pc.open_key = is_a ? fuzz_path_open_a : fuzz_path_open_b;
		pc.open_key_arg = f;
	}
	memset(&spec, 0, sizeof(spec));
	spec.peer_id = is_a ? 2 : 1;
	spec.path_id = is_a ? FUZZ_PATH_TOKEN_A : FUZZ_PATH_TOKEN_B;
	spec.local_id = 1;
	spec.local = is_a ? f->addr_a : f->addr_b;
	spec.remote = is_a ? f->addr_b : f->addr_a;
	if (learn && !is_a) {
		spec.learn = true;
		memset(spec.remote.bytes, 0, sizeof(spec.remote.bytes));
	}
	if (path_prober_new(&pc, f->now, &p) != 0 || path_prober_add_path(p, &spec, f->now) != 0)
		abort();
	if (!plain)
		path_prober_set_send_key(p, spec.peer_id, is_a ? f->a_send : f->b_send,
		    is_a ? FUZZ_PATH_INDEX_A : FUZZ_PATH_INDEX_B);
	return p;
}

/* Ticks p and hands its SEND events to q (q NULL: keep the last one in out). */
static void
fuzz_path_round(struct fuzz_path *f, struct path_prober *p, const struct addr *from,
    struct path_prober *q, uint8_t *out, size_t *out_len)
{
	struct path_events ev;

	ev.count = 0;
	path_prober_tick(p, f->now, &ev);
	for (unsigned k = 0; k < ev.count; k++) {
		if (ev.ev[k].kind != PATH_EVENT_SEND)
			continue;
		if (out != NULL) {
			memcpy(out, ev.ev[k].msg, ev.ev[k].len);
			*out_len = ev.ev[k].len;
		}
		if (q != NULL) {
			f->ev.count = 0;
			(void)path_prober_receive(q, 1, from, PATH_PROBE_PORT, ev.ev[k].msg,
			    ev.ev[k].len, f->now + 1000000, &f->ev);
		}
	}
}

static void
fuzz_path_setup(struct fuzz_path *f, uint8_t mode)
{
	static const uint8_t a4[4] = {192, 0, 2, 1}, b4[4] = {198, 51, 100, 1},
	                     x4[4] = {203, 0, 113, 5};
	uint8_t ka[CRYPTO_AEAD_KEY_LEN], kb[CRYPTO_AEAD_KEY_LEN];
	bool plain = mode & 1, fresh = mode & 2, learn = (mode & 8) && !plain;

	memset(f, 0, sizeof(*f));
	f->now = FUZZ_PATH_T0;
	addr_set_v4(&f->addr_a, a4);
	addr_set_v4(&f->addr_b, b4);
	addr_set_v4(&f->addr_x, x4);
	memset(ka, 0xa5, sizeof(ka));
	memset(kb, 0x5b, sizeof(kb));
	if (crypto_aead_new(CRYPTO_AEAD_AES_256_GCM, ka, &f->a_send) != 0 ||
	    crypto_aead_new(CRYPTO_AEAD_AES_256_GCM, ka, &f->b_recv) != 0 ||
	    crypto_aead_new(CRYPTO_AEAD_AES_256_GCM, kb, &f->b_send) != 0 ||
	    crypto_aead_new(CRYPTO_AEAD_AES_256_GCM, kb, &f->a_recv) != 0)
		abort();
	f->a = fuzz_path_new(f, plain, true, learn);
	f->b = fuzz_path_new(f, plain, false, learn);
	for (int r = 0; !fresh && r < FUZZ_PATH_ROUNDS; r++) {
		fuzz_path_round(f, f->a, &f->addr_a, f->b, f->prev, &f->prev_len);
		fuzz_path_round(f, f->b, &f->addr_b, f->a, NULL, NULL);
		f->now += FUZZ_PATH_STEP;
	}
	fuzz_path_round(f, f->a, &f->addr_a, NULL, f->next, &f->next_len);
	f->now += 2000000;
	f->ev.count = 0;
}

static void
fuzz_path_teardown(struct fuzz_path *f)
{
	path_prober_free(f->a);
	path_prober_free(f->b);
	crypto_aead_free(f->a_send);
	crypto_aead_free(f->a_recv);
	crypto_aead_free(f->b_send);
	crypto_aead_free(f->b_recv);
}

#endif
