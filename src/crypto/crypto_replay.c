/* Anti-replay window (RFC 6479 style): see crypto_replay.h. */
#include "crypto/crypto_replay.h"

#include <errno.h>
#include <string.h>

#define BLOCK_MASK (CRYPTO_REPLAY_BLOCKS - 1)

void
crypto_replay_init(struct crypto_replay *w)
{
	memset(w, 0, sizeof(*w));
}

static uint64_t
crypto_replay_bit(uint64_t counter)
{
	return 1ull << (counter % CRYPTO_REPLAY_BLOCK_BITS);
}

static uint64_t
crypto_replay_block(uint64_t counter)
{
	return (counter / CRYPTO_REPLAY_BLOCK_BITS) & BLOCK_MASK;
}

int
crypto_replay_check(const struct crypto_replay *w, uint64_t counter)
{
	if (counter == UINT64_MAX)
		return -ERANGE;
	if (counter >= w->next)
		return 0;
	/* next > counter >= 0 here, so next - 1 is the greatest accepted counter. */
	if (w->next - 1 - counter >= CRYPTO_REPLAY_WINDOW)
		return -ESTALE;
	if (w->bitmap[crypto_replay_block(counter)] & crypto_replay_bit(counter))
		return -EALREADY;
	return 0;
}

int
crypto_replay_update(struct crypto_replay *w, uint64_t counter)
{
	int err = crypto_replay_check(w, counter);

	if (err < 0)
		return err;
	if (counter >= w->next) {
		/*
		 * Slide: clear every block between the greatest accepted counter's block
		 * and the new one, at most the whole ring. While the window is empty all
		 * bits are clear already.
		 */
		if (w->next > 0) {
			uint64_t cur = (w->next - 1) / CRYPTO_REPLAY_BLOCK_BITS;
			uint64_t diff = counter / CRYPTO_REPLAY_BLOCK_BITS - cur;

			if (diff > CRYPTO_REPLAY_BLOCKS)
				diff = CRYPTO_REPLAY_BLOCKS;
			for (uint64_t i = 1; i <= diff; i++)
				w->bitmap[(cur + i) & BLOCK_MASK] = 0;
		}
		w->next = counter + 1;
	}
	w->bitmap[crypto_replay_block(counter)] |= crypto_replay_bit(counter);
	return 0;
}
