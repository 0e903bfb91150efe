/*
 * Waypoint port pairs: a ring of free pair indices (so freed pairs are reused in FIFO
 * order, as late as possible) and a bitmap of allocated pairs (so a put of a pair that
 * is not out is refused in O(1)). Pair i is local port first + 2i, peer port + 1.
 */
#include "svr/svr_waypoint.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

struct svr_waypoint_ports {
	uint32_t first;    /* local (even) port of pair 0 */
	uint32_t capacity; /* pairs; at most 32768, so an index fits 16 bits */
	uint32_t head;     /* ring slot of the next pair to hand out */
	uint32_t free_count;
	uint16_t *ring;
	uint64_t *allocated; /* bit i set: pair i is out */
};

static bool
svr_waypoint_is_allocated(const struct svr_waypoint_ports *w, uint32_t pair)
{
	return (w->allocated[pair / 64] >> (pair % 64)) & 1;
}

struct svr_waypoint_ports *
svr_waypoint_ports_new(uint16_t first, uint16_t last)
{
	struct svr_waypoint_ports *w;
	uint32_t start = ((uint32_t)first + 1) & ~1u;

	/* Port 0 is not a port a peer can send to. */
	if (start == 0 || start + 1 > last)
		return NULL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	w->first = start;
	w->capacity = ((uint32_t)last - start + 1) / 2;
	w->free_count = w->capacity;
	w->ring = calloc(w->capacity, sizeof(*w->ring));
	w->allocated = calloc((w->capacity + 63) / 64, sizeof(*w->allocated));
	if (w->ring == NULL || w->allocated == NULL) {
		svr_waypoint_ports_free(w);
		return NULL;
	}
	for (uint32_t i = 0; i < w->capacity; i++)
		w->ring[i] = (uint16_t)i;
	return w;
}

void
svr_waypoint_ports_free(struct svr_waypoint_ports *w)
{
	if (w == NULL)
		return;
	free(w->ring);
	free(w->allocated);
	free(w);
}

int
svr_waypoint_ports_get(struct svr_waypoint_ports *w, uint16_t *local_port, uint16_t *peer_port)
{
	uint32_t pair;

	if (w->free_count == 0)
		return -EADDRNOTAVAIL;
	pair = w->ring[w->head];
	w->head = (w->head + 1) % w->capacity;
	w->free_count--;
	w->allocated[pair / 64] |= UINT64_C(1) << (pair % 64);
	*local_port = (uint16_t)(w->first + 2 * pair);
	*peer_port = (uint16_t)(*local_port + 1);
	return 0;
}

int
svr_waypoint_ports_put(struct svr_waypoint_ports *w, uint16_t local_port)
{
	uint32_t pair;

	if (local_port < w->first || (local_port - w->first) % 2 != 0)
		return -EINVAL;
	pair = (local_port - w->first) / 2;
	if (pair >= w->capacity || !svr_waypoint_is_allocated(w, pair))
		return -EINVAL;
	w->allocated[pair / 64] &= ~(UINT64_C(1) << (pair % 64));
	w->ring[(w->head + w->free_count) % w->capacity] = (uint16_t)pair;
	w->free_count++;
	return 0;
}

int
svr_waypoint_ports_take(struct svr_waypoint_ports *w, uint16_t local_port)
{
	uint32_t pair, slot, last;

	if (local_port < w->first || (local_port - w->first) % 2 != 0)
		return -EINVAL;
	pair = (local_port - w->first) / 2;
	if (pair >= w->capacity)
		return -EINVAL;
	if (svr_waypoint_is_allocated(w, pair))
		return -EADDRINUSE;
	/* Find the pair among the free ones and fill its place with the last free one. */
	for (slot = 0; slot < w->free_count; slot++)
		if (w->ring[(w->head + slot) % w->capacity] == pair)
			break;
	if (slot == w->free_count)
		return -EADDRINUSE; /* not free, not allocated: cannot happen */
	last = (w->head + w->free_count - 1) % w->capacity;
	w->ring[(w->head + slot) % w->capacity] = w->ring[last];
	w->free_count--;
	w->allocated[pair / 64] |= UINT64_C(1) << (pair % 64);
	return 0;
}

uint32_t
svr_waypoint_ports_in_use(const struct svr_waypoint_ports *w)
{
	return w->capacity - w->free_count;
}

uint32_t
svr_waypoint_ports_capacity(const struct svr_waypoint_ports *w)
{
	return w->capacity;
}
