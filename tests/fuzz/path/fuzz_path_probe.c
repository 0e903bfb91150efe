/*
 * Fuzz target of the path prober: an arbitrary datagram on UDP 1280 to a prober with a
 * path and keys, fresh or after a few rounds of genuine probes, keyed or plain
 * (fuzz_path_setup.h says how data[0] picks the mode; the rest is the datagram).
 *
 * Invariants: a rejected datagram appends no event and changes no path status; an
 * accepted one appends only STATE events with legal transitions; the status stays in
 * range and the timers run cleanly afterwards. Anything else aborts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_path_setup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
	if (!cond)
		abort();
}

static void
check_events(const struct path_events *ev, bool sends_ok)
{
	check(ev->overflow == 0);
	for (unsigned k = 0; k < ev->count; k++) {
		const struct path_event *e = &ev->ev[k];

		check(e->path_id == FUZZ_PATH_TOKEN_B && e->peer_id == 1);
		if (e->kind == PATH_EVENT_SEND) {
			check(
			    sends_ok && (e->len == PATH_PROBE_LEN || e->len == PATH_PROBE_LEN_MAX));
			continue;
		}
		if (e->kind == PATH_EVENT_BINDING) {
			check(e->reason >= PATH_BINDING_PEER_LEARNED &&
			    e->reason <= PATH_BINDING_OURS_CHANGED);
			continue;
		}
		check(e->kind == PATH_EVENT_STATE);
		check(e->new_state != PATH_STATE_UNKNOWN && e->new_state != e->old_state &&
		    e->new_state <= PATH_STATE_HOLD_DOWN);
	}
}

static void
check_status(const struct path_status *st)
{
	check(st->state <= PATH_STATE_HOLD_DOWN);
	check(st->loss_pct >= 0.0 && st->loss_pct <= 100.0);
	check(!st->measured || (st->mos >= 1.0 && st->mos <= 4.5));
	check(st->hold_down_ns >= st->cfg.hold_down_ns &&
	    st->hold_down_ns <= st->cfg.hold_down_max_ns);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_path f;
	struct path_status before, after;
	const struct addr *from;
	int rc;

	if (size < 1 || size > 1 + 2 * PATH_PROBE_LEN_MAX)
		return 0;
	fuzz_path_setup(&f, data[0]);
	from = (data[0] & 4) ? &f.addr_x : &f.addr_a;
	check(path_prober_status(f.b, FUZZ_PATH_TOKEN_B, &before) == 0);
	rc = path_prober_receive(f.b, 1, from, PATH_PROBE_PORT, data + 1, size - 1, f.now, &f.ev);
	check(path_prober_status(f.b, FUZZ_PATH_TOKEN_B, &after) == 0);
	if (rc < 0) {
		check(rc == -EBADMSG || rc == -ENOENT || rc == -ENOKEY || rc == -EALREADY);
		check(f.ev.count == 0);
		check(memcmp(&before, &after, sizeof(before)) == 0);
	} else {
		check(rc == 0);
		check(after.probes_received == before.probes_received + 1);
	}
	check_events(&f.ev, false);
	check_status(&after);
	for (int k = 1; k <= 3; k++) {
		f.ev.count = 0;
		path_prober_tick(f.b, f.now + (uint64_t)k * 700000000ull, &f.ev);
		check_events(&f.ev, true);
	}
	check(path_prober_status(f.b, FUZZ_PATH_TOKEN_B, &after) == 0);
	check_status(&after);
	fuzz_path_teardown(&f);
	return 0;
}
