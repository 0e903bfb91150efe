/*
 * Hashed timer wheel (see timer_wheel.h). Each slot is a doubly linked list of node
 * indices; a node's prev is either another node or, with TW_HEAD set, the list whose
 * head it is, so unlinking needs neither the slot number nor a search. One extra list,
 * the pending list, holds timers that are due and about to fire: the callback can
 * delete or re-arm any of them because that is an ordinary unlink.
 */
#include "lib/timer_wheel.h"

#include <errno.h>
#include <stdlib.h>

#define TW_NONE UINT32_MAX
#define TW_HEAD 0x80000000u

struct timer_wheel {
	uint8_t *nodes;
	size_t stride;
	uint32_t capacity;
	uint32_t slot_mask;
	uint32_t pending; /* list index of the pending list: slot_mask + 1 */
	uint32_t armed;
	uint64_t tick_ns;
	uint64_t origin_ns;
	uint64_t cur_tick; /* every timer due at or before this tick has fired */
	bool advancing;
	uint32_t *heads; /* slot_mask + 2 lists */
};

static struct timer_wheel_node *
tw_node(const struct timer_wheel *w, uint32_t id)
{
	return (struct timer_wheel_node *)(void *)(w->nodes + (size_t)id * w->stride);
}

static void
tw_push(struct timer_wheel *w, uint32_t list, uint32_t id)
{
	struct timer_wheel_node *n = tw_node(w, id);

	n->next = w->heads[list];
	n->prev = TW_HEAD | list;
	if (n->next != TW_NONE)
		tw_node(w, n->next)->prev = id;
	w->heads[list] = id;
}

static void
tw_unlink(struct timer_wheel *w, uint32_t id)
{
	struct timer_wheel_node *n = tw_node(w, id);

	if (n->prev & TW_HEAD)
		w->heads[n->prev & ~TW_HEAD] = n->next;
	else
		tw_node(w, n->prev)->next = n->next;
	if (n->next != TW_NONE)
		tw_node(w, n->next)->prev = n->prev;
}

/* The tick whose boundary is the first at or after t: timers never fire early. */
static uint64_t
tw_tick_ceil(const struct timer_wheel *w, uint64_t t)
{
	uint64_t d;

	if (t <= w->origin_ns)
		return 0;
	d = t - w->origin_ns;
	return d / w->tick_ns + (d % w->tick_ns != 0);
}

static uint64_t
tw_tick_floor(const struct timer_wheel *w, uint64_t t)
{
	if (t <= w->origin_ns)
		return 0;
	return (t - w->origin_ns) / w->tick_ns;
}

struct timer_wheel *
timer_wheel_new(void *nodes, size_t stride, uint32_t capacity, uint32_t slots, uint64_t tick_ns,
    uint64_t now_ns)
{
	struct timer_wheel *w = NULL;
	uint32_t n = 1;

	if (nodes == NULL || stride < sizeof(struct timer_wheel_node) ||
	    stride % _Alignof(struct timer_wheel_node) != 0 ||
	    (uintptr_t)nodes % _Alignof(struct timer_wheel_node) != 0 || capacity == 0 ||
	    capacity > TIMER_WHEEL_CAPACITY_MAX || slots == 0 || slots > TIMER_WHEEL_SLOTS_MAX ||
	    tick_ns == 0)
		goto fail;
	while (n < slots)
		n <<= 1;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		goto fail;
	w->heads = malloc(((size_t)n + 1) * sizeof(w->heads[0]));
	if (w->heads == NULL)
		goto fail;
	w->nodes = nodes;
	w->stride = stride;
	w->capacity = capacity;
	w->slot_mask = n - 1;
	w->pending = n;
	w->tick_ns = tick_ns;
	w->origin_ns = now_ns;
	for (uint32_t i = 0; i <= n; i++)
		w->heads[i] = TW_NONE;
	for (uint32_t i = 0; i < capacity; i++) {
		struct timer_wheel_node *node = tw_node(w, i);

		node->next = TW_NONE;
		node->prev = TW_NONE;
		node->expire_tick = 0;
	}
	return w;
fail:
	timer_wheel_free(w);
	return NULL;
}

void
timer_wheel_free(struct timer_wheel *w)
{
	if (w == NULL)
		return;
	free(w->heads);
	free(w);
}

int
timer_wheel_add(struct timer_wheel *w, uint32_t id, uint64_t expire_ns)
{
	struct timer_wheel_node *n;
	uint64_t tick;

	if (id >= w->capacity)
		return -EINVAL;
	n = tw_node(w, id);
	tick = tw_tick_ceil(w, expire_ns);
	/* The slot of a tick already reached was swept: take the next one. */
	if (tick <= w->cur_tick)
		tick = w->cur_tick + 1;
	if (n->expire_tick != 0)
		tw_unlink(w, id);
	else
		w->armed++;
	n->expire_tick = tick;
	tw_push(w, (uint32_t)(tick & w->slot_mask), id);
	return 0;
}

int
timer_wheel_del(struct timer_wheel *w, uint32_t id)
{
	struct timer_wheel_node *n;

	if (id >= w->capacity)
		return -EINVAL;
	n = tw_node(w, id);
	if (n->expire_tick == 0)
		return -ENOENT;
	tw_unlink(w, id);
	n->expire_tick = 0;
	w->armed--;
	return 0;
}

bool
timer_wheel_is_armed(const struct timer_wheel *w, uint32_t id)
{
	return id < w->capacity && tw_node(w, id)->expire_tick != 0;
}

uint64_t
timer_wheel_expiry_ns(const struct timer_wheel *w, uint32_t id)
{
	uint64_t tick;

	if (!timer_wheel_is_armed(w, id))
		return 0;
	tick = tw_node(w, id)->expire_tick;
	if (tick > (UINT64_MAX - w->origin_ns) / w->tick_ns)
		return UINT64_MAX;
	return w->origin_ns + tick * w->tick_ns;
}

/* Moves the timers of one slot that are due by tick onto the singly linked chain. */
static uint32_t
tw_gather_slot(struct timer_wheel *w, uint32_t slot, uint64_t tick, uint32_t chain)
{
	uint32_t id = w->heads[slot];

	while (id != TW_NONE) {
		struct timer_wheel_node *n = tw_node(w, id);
		uint32_t next = n->next;

		if (n->expire_tick <= tick) {
			tw_unlink(w, id);
			n->next = chain;
			chain = id;
		}
		id = next;
	}
	return chain;
}

/* Stable merge sort of a singly linked chain by expiry tick, O(n log n), no memory. */
static uint32_t
tw_sort_chain(struct timer_wheel *w, uint32_t list)
{
	for (size_t insize = 1;; insize *= 2) {
		uint32_t p = list, tail = TW_NONE;
		unsigned merges = 0;

		list = TW_NONE;
		while (p != TW_NONE) {
			uint32_t q = p;
			size_t psize = 0, qsize = insize;

			merges++;
			while (psize < insize && q != TW_NONE) {
				psize++;
				q = tw_node(w, q)->next;
			}
			while (psize > 0 || (qsize > 0 && q != TW_NONE)) {
				uint32_t e;

				if (psize > 0 &&
				    (qsize == 0 || q == TW_NONE ||
				        tw_node(w, p)->expire_tick <= tw_node(w, q)->expire_tick)) {
					e = p;
					p = tw_node(w, p)->next;
					psize--;
				} else {
					e = q;
					q = tw_node(w, q)->next;
					qsize--;
				}
				if (tail == TW_NONE)
					list = e;
				else
					tw_node(w, tail)->next = e;
				tail = e;
			}
			p = q;
		}
		if (tail != TW_NONE)
			tw_node(w, tail)->next = TW_NONE;
		if (merges <= 1)
			return list;
	}
}

/* Makes the chain, in its order, the pending list (which is empty). */
static void
tw_chain_to_pending(struct timer_wheel *w, uint32_t chain)
{
	uint32_t prev = TW_HEAD | w->pending;

	w->heads[w->pending] = chain;
	for (uint32_t id = chain; id != TW_NONE; id = tw_node(w, id)->next) {
		tw_node(w, id)->prev = prev;
		prev = id;
	}
}

static unsigned
tw_fire_pending(struct timer_wheel *w, void (*fn)(struct timer_wheel *w, uint32_t id, void *arg),
    void *arg)
{
	unsigned fired = 0;
	uint32_t id;

	/* Re-read the head every time: the callback may have unlinked any pending timer. */
	while ((id = w->heads[w->pending]) != TW_NONE) {
		tw_unlink(w, id);
		tw_node(w, id)->expire_tick = 0;
		w->armed--;
		fired++;
		if (fn != NULL)
			fn(w, id, arg);
	}
	return fired;
}

unsigned
timer_wheel_advance(struct timer_wheel *w, uint64_t now_ns,
    void (*fn)(struct timer_wheel *w, uint32_t id, void *arg), void *arg)
{
	uint64_t target = tw_tick_floor(w, now_ns);
	unsigned fired = 0;

	if (w->advancing || target <= w->cur_tick)
		return 0;
	w->advancing = true;
	if (target - w->cur_tick > (uint64_t)w->slot_mask + 1) {
		/* Longer than a revolution: sweep each slot once, then fire in order. */
		uint32_t chain = TW_NONE;

		w->cur_tick = target;
		for (uint32_t s = 0; w->armed != 0 && s <= w->slot_mask; s++)
			chain = tw_gather_slot(w, s, target, chain);
		tw_chain_to_pending(w, tw_sort_chain(w, chain));
		fired += tw_fire_pending(w, fn, arg);
	} else {
		while (w->cur_tick < target) {
			uint32_t chain;

			if (w->armed == 0) {
				w->cur_tick = target;
				break;
			}
			w->cur_tick++;
			chain = tw_gather_slot(w, (uint32_t)(w->cur_tick & w->slot_mask),
			    w->cur_tick, TW_NONE);
			/* Every timer in the chain is due at exactly cur_tick: no sort. */
			tw_chain_to_pending(w, chain);
			fired += tw_fire_pending(w, fn, arg);
		}
	}
	w->advancing = false;
	return fired;
}

uint32_t
timer_wheel_count(const struct timer_wheel *w)
{
	return w->armed;
}

uint64_t
timer_wheel_tick_ns(const struct timer_wheel *w)
{
	return w->tick_ns;
}

size_t
timer_wheel_memory_bytes(const struct timer_wheel *w)
{
	return sizeof(*w) + ((size_t)w->slot_mask + 2) * sizeof(w->heads[0]);
}
