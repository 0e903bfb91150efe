/* The in-memory I/O backend; see io_mem.h. */
#include "io/io_mem.h"

#include <stdlib.h>

struct io_mem_ring {
	uint32_t head; /* next slot to read; written by the consumer */
	uint32_t tail; /* next slot to write; written by the producer */
	uint32_t mask;
	struct pkt_buf **slots;
};

struct io_mem_end {
	struct io_port port; /* first, so an io_port pointer is its end */
	struct io_mem_ring *rx;
	struct io_mem_ring *tx;
};

struct io_mem_link {
	struct io_mem_end ends[2];
	struct io_mem_ring rings[2]; /* rings[i] is received by ends[i] */
};

static unsigned
io_mem_rx_burst(struct io_port *port, struct pkt_buf **bufs, unsigned n)
{
	struct io_mem_end *end = (struct io_mem_end *)port;
	struct io_mem_ring *r = end->rx;
	uint32_t head = r->head;
	uint32_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	unsigned k = 0;

	while (k < n && head != tail) {
		bufs[k] = r->slots[head & r->mask];
		port->stats.rx_bytes += bufs[k]->len;
		head++;
		k++;
	}
	__atomic_store_n(&r->head, head, __ATOMIC_RELEASE);
	port->stats.rx_packets += k;
	return k;
}

static unsigned
io_mem_tx_burst(struct io_port *port, struct pkt_buf **bufs, unsigned n)
{
	struct io_mem_end *end = (struct io_mem_end *)port;
	struct io_mem_ring *r = end->tx;
	uint32_t tail = r->tail;
	uint32_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	unsigned k = 0;

	while (k < n && tail - head <= r->mask) {
		r->slots[tail & r->mask] = bufs[k];
		port->stats.tx_bytes += bufs[k]->len;
		tail++;
		k++;
	}
	__atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE);
	port->stats.tx_packets += k;
	port->stats.tx_full += n - k;
	return k;
}

static const struct io_ops io_mem_ops = {
    .name = "mem",
    .rx_burst = io_mem_rx_burst,
    .tx_burst = io_mem_tx_burst,
};

struct io_mem_link *
io_mem_link_new(uint32_t ring_size, uint32_t id_a, uint32_t id_b)
{
	struct io_mem_link *link;
	uint32_t size = 1;

	if (ring_size == 0 || ring_size > (1u << 24))
		return NULL;
	while (size < ring_size)
		size <<= 1;
	link = calloc(1, sizeof(*link));
	if (link == NULL)
		return NULL;
	for (unsigned i = 0; i < 2; i++) {
		link->rings[i].mask = size - 1;
		link->rings[i].slots = calloc(size, sizeof(*link->rings[i].slots));
		if (link->rings[i].slots == NULL) {
			io_mem_link_free(link, NULL);
			return NULL;
		}
		link->ends[i].port.ops = &io_mem_ops;
		link->ends[i].rx = &link->rings[i];
		link->ends[i].tx = &link->rings[1 - i];
	}
	link->ends[0].port.id = id_a;
	link->ends[1].port.id = id_b;
	return link;
}

void
io_mem_link_free(struct io_mem_link *link, struct pkt_pool *pool)
{
	if (link == NULL)
		return;
	for (unsigned i = 0; i < 2; i++) {
		struct io_mem_ring *r = &link->rings[i];

		if (r->slots == NULL)
			continue;
		for (uint32_t at = r->head; at != r->tail; at++)
			if (pool != NULL)
				pkt_pool_put(pool, r->slots[at & r->mask]);
		free(r->slots);
	}
	free(link);
}

struct io_port *
io_mem_link_port(struct io_mem_link *link, unsigned end)
{
	return end < 2 ? &link->ends[end].port : NULL;
}

uint32_t
io_mem_link_pending(const struct io_mem_link *link, unsigned end)
{
	const struct io_mem_ring *r;

	if (end >= 2)
		return 0;
	r = &link->rings[end];
	return __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) - r->head;
}
