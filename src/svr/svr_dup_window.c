/* The duplicate filter; see svr_dup_window.h for the contract. */
#include "svr/svr_dup_window.h"

#include <errno.h>
#include <string.h>

#define SVR_DUP_BLOCK_MASK (SVR_DUP_WINDOW_BLOCKS - 1)

void
svr_dup_window_init(struct svr_dup_window *w)
{
	memset(w, 0, sizeof(*w));
}

uint64_t
svr_dup_window_extend(const struct svr_dup_window *w, uint32_t wire_seq)
{
	int32_t diff;

	if (w->top == 0)
		return wire_seq;
	/* Serial number arithmetic (RFC 1982): the nearest 64-bit value with these bits. */
	diff = (int32_t)(wire_seq - (uint32_t)w->top);
	if (diff < 0 && (uint64_t)(-(int64_t)diff) >= w->top)
		return 0;
	return (uint64_t)((int64_t)w->top + diff);
}

int
svr_dup_window_check(const struct svr_dup_window *w, uint64_t seq)
{
	if (seq == 0)
		return -ESTALE;
	if (seq > w->top)
		return 0;
	if (w->top - seq >= SVR_DUP_WINDOW)
		return -ESTALE;
	return (w->bits[(seq >> 6) & SVR_DUP_BLOCK_MASK] >> (seq & 63)) & 1 ? -EALREADY : 0;
}

void
svr_dup_window_update(struct svr_dup_window *w, uint64_t seq)
{
	uint64_t block = seq >> 6;

	if (seq > w->top) {
		uint64_t top_block = w->top >> 6, gap = block - top_block;

		/* The blocks the window moves over are cleared whole (all of them at most). */
		if (w->top == 0 || gap > SVR_DUP_WINDOW_BLOCKS)
			gap = SVR_DUP_WINDOW_BLOCKS;
		for (uint64_t i = 1; i <= gap; i++)
			w->bits[(top_block + i) & SVR_DUP_BLOCK_MASK] = 0;
		w->top = seq;
	}
	w->bits[block & SVR_DUP_BLOCK_MASK] |= 1ull << (seq & 63);
}
