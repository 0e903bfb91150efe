/*
 * Anti-replay sliding window for the counters of one key in one direction, in the style
 * of RFC 6479: a ring of 64-bit blocks, so advancing the window clears whole blocks
 * instead of shifting bits, and nothing is allocated per packet.
 *
 * Invariants: counters run 0 .. UINT64_MAX - 1 (UINT64_MAX is never valid, so a sender
 * must rekey before reaching it). The window always covers the CRYPTO_REPLAY_WINDOW
 * counters ending at the greatest accepted one; anything older is rejected as stale.
 *
 * Usage on receive: crypto_replay_check() before the (expensive) authentication, then
 * crypto_replay_update() only after the tag verified, so a forged packet can never move
 * the window.
 *
 * Threads: a window belongs to the worker that receives on its key; no locking.
 */
#ifndef TERN_CRYPTO_REPLAY_H
#define TERN_CRYPTO_REPLAY_H

#include <stdint.h>

#define CRYPTO_REPLAY_BLOCK_BITS 64u
#define CRYPTO_REPLAY_BLOCKS     64u /* a power of two: the ring index is a mask */
/* One block is the one being refilled, so the guaranteed window is one block short. */
#define CRYPTO_REPLAY_WINDOW ((CRYPTO_REPLAY_BLOCKS - 1) * CRYPTO_REPLAY_BLOCK_BITS)

struct crypto_replay {
	uint64_t next; /* greatest accepted counter + 1; 0 while nothing was accepted */
	uint64_t bitmap[CRYPTO_REPLAY_BLOCKS];
};

/* Empty the window (a new key starts from nothing). */
void crypto_replay_init(struct crypto_replay *w);

/*
 * Would the window accept counter? Changes nothing. 0 if it is new, -EALREADY if it was
 * already accepted, -ESTALE if it lies before the window, -ERANGE for UINT64_MAX.
 */
int crypto_replay_check(const struct crypto_replay *w, uint64_t counter);

/*
 * Accept counter: call only after the packet authenticated. Same errors as
 * crypto_replay_check() (and then the window is unchanged); on 0 the counter is
 * recorded and the window slides forward if it is the greatest so far.
 */
int crypto_replay_update(struct crypto_replay *w, uint64_t counter);

#endif
