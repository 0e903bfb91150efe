/*
 * Fuzz target of keyx: an arbitrary datagram on UDP 1280 to a responder or to an
 * initiator in the middle of a handshake, with or without load (fuzz_keyx_setup.h
 * says how data[0] picks the mode; the rest is the datagram).
 *
 * Invariants: a rejected datagram appends no event but, under load, one cookie reply
 * to its source; an accepted one appends only well-formed events; the timers run
 * cleanly afterwards. Anything else aborts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_keyx_setup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
	if (!cond)
		abort();
}

static void
check_events(const struct keyx_events *ev)
{
	check(ev->overflow == 0);
	for (unsigned k = 0; k < ev->count; k++) {
		const struct keyx_event *e = &ev->ev[k];

		check(e->kind <= KEYX_EVENT_EXPIRE_SEND);
		if (e->kind == KEYX_EVENT_SEND)
			check(e->len > 0 && e->len <= KEYX_MSG_MAX);
		else
			check(e->peer_id == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_keyx f;
	struct keyx_peer_status st;
	struct keyx *kx;
	int rc;

	if (size < 1 || size > 1 + KEYX_MSG_MAX)
		return 0;
	kx = fuzz_keyx_setup(&f, data[0] % 3, (data[0] / 3) % 2 == 1);
	rc = keyx_receive(kx, kx == f.r ? &f.ep_i : &f.ep_r, data + 1, size - 1, FUZZ_KEYX_T0,
	    &f.ev);
	if (rc < 0) {
		if (rc == -EBUSY && f.ev.count == 1)
			check(f.ev.ev[0].kind == KEYX_EVENT_SEND &&
			    f.ev.ev[0].msg[0] == KEYX_MSG_COOKIE);
		else
			check(f.ev.count == 0);
	}
	check_events(&f.ev);
	check(keyx_peer_status(kx, 0, &st) == 0);
	f.ev.count = 0;
	keyx_tick(kx, FUZZ_KEYX_T0 + 2000000000ull, &f.ev);
	check_events(&f.ev);
	f.ev.count = 0;
	keyx_tick(kx, FUZZ_KEYX_T0 + 200000000000ull, &f.ev);
	check_events(&f.ev);
	fuzz_keyx_teardown(&f);
	return 0;
}
