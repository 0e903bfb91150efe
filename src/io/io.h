/*
 * The I/O backend interface: a port receives and transmits bursts of packet buffers.
 * Backends (mem here; tun, afpacket and afxdp with the router) implement struct io_ops.
 *
 * Ownership: rx_burst hands buffers to the caller; tx_burst takes the first k it
 * returns and leaves the rest with the caller, who frees them and counts the drop.
 *
 * Threads: a port is driven by one worker; a backend says if its two ends may be on
 * different threads.
 */
#ifndef TERN_IO_H
#define TERN_IO_H

#include <stdint.h>

#include "pkt/pkt_buf.h"

struct io_port;

struct io_ops {
	const char *name;
	unsigned (*rx_burst)(struct io_port *port, struct pkt_buf **bufs, unsigned n);
	unsigned (*tx_burst)(struct io_port *port, struct pkt_buf **bufs, unsigned n);
};

struct io_port_stats {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t tx_full; /* buffers refused because the queue or device was full */
};

struct io_port {
	const struct io_ops *ops;
	uint32_t id;
	struct io_port_stats stats;
};

static inline unsigned
io_rx_burst(struct io_port *port, struct pkt_buf **bufs, unsigned n)
{
	return port->ops->rx_burst(port, bufs, n);
}

static inline unsigned
io_tx_burst(struct io_port *port, struct pkt_buf **bufs, unsigned n)
{
	return port->ops->tx_burst(port, bufs, n);
}

#endif
