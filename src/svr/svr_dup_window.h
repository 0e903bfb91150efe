/*
 * The duplicate filter of a duplicated session (docs/protocol.md "Packet duplication"):
 * a receiver remembers which sequences of one direction it has delivered, in the style
 * of RFC 6479 (a ring of 64-bit blocks: advancing clears whole blocks, no shifting), so
 * of the two copies of a packet that arrive over two paths only the first is delivered.
 *
 * Invariants: sequences are 64-bit and start at 1 (0 marks an empty window); the sender
 * sends the low 32 bits, which svr_dup_window_extend() widens relative to the newest one
 * delivered, so the wire sequence may wrap. The window covers SVR_DUP_WINDOW sequences
 * ending at the newest delivered one; anything older is stale: it cannot be told apart
 * from a copy already delivered, so it is not delivered (a duplicate at the host is the
 * worse failure). The state is 40 bytes and lives in the session's alias entry.
 *
 * Usage: check before the packet is accepted (after it authenticated, when sealed), then
 * update only when it is delivered.
 *
 * Threads: a window belongs to the worker that owns the session; no locks.
 */
#ifndef TERN_SVR_DUP_WINDOW_H
#define TERN_SVR_DUP_WINDOW_H

#include <stdint.h>

#define SVR_DUP_WINDOW_BLOCKS 4u /* a power of two: the ring index is a mask */
/* One block is the one being refilled, so the guaranteed window is one block short. */
#define SVR_DUP_WINDOW ((SVR_DUP_WINDOW_BLOCKS - 1) * 64u)

struct svr_dup_window {
	uint64_t top; /* newest sequence delivered; 0 while none was */
	uint64_t bits[SVR_DUP_WINDOW_BLOCKS];
};

void svr_dup_window_init(struct svr_dup_window *w);

/*
 * The 64-bit sequence of a wire sequence: the one nearest to the newest delivered
 * (within 2^31 either way). 0 when that would be 0 or below (a stale sequence).
 */
uint64_t svr_dup_window_extend(const struct svr_dup_window *w, uint32_t wire_seq);

/*
 * Would the window deliver seq? Changes nothing. 0 if new, -EALREADY if delivered
 * before (a duplicate), -ESTALE if 0 or older than the window.
 */
int svr_dup_window_check(const struct svr_dup_window *w, uint64_t seq);

/* Marks seq delivered; only after svr_dup_window_check() returned 0 for it. */
void svr_dup_window_update(struct svr_dup_window *w, uint64_t seq);

#endif
