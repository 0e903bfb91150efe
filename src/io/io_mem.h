/*
 * The in-memory I/O backend: a link is two ports joined back to back by two bounded
 * rings, so what one end transmits the other end receives, as buffer pointers (no
 * copy). Tests and benchmarks wire routers and simulated hosts with it.
 *
 * Each ring is single-producer single-consumer with acquire/release ordering, so the
 * two ends of a link may be driven by two threads; one end must not be driven by two.
 * A full ring refuses buffers (tx returns fewer, counted in stats.tx_full).
 */
#ifndef TERN_IO_MEM_H
#define TERN_IO_MEM_H

#include <stdint.h>

#include "io/io.h"

struct io_mem_link;

/*
 * A link whose rings hold ring_size buffers each (rounded up to a power of two).
 * The ports get ids id_a and id_b. NULL on allocation failure or ring_size 0.
 */
struct io_mem_link *io_mem_link_new(uint32_t ring_size, uint32_t id_a, uint32_t id_b);
/* Accepts NULL. Buffers still queued are returned to pool (which may be NULL if none). */
void io_mem_link_free(struct io_mem_link *link, struct pkt_pool *pool);
/* The two ends (borrowed; valid until the link is freed). */
struct io_port *io_mem_link_port(struct io_mem_link *link, unsigned end);
/* Buffers waiting to be received at end. */
uint32_t io_mem_link_pending(const struct io_mem_link *link, unsigned end);

#endif
