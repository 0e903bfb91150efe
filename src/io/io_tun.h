/*
 * The TUN I/O backend: a port over a Linux TUN device (IFF_TUN | IFF_NO_PI), so what the
 * kernel routes into the device is received as an IP packet (no link header, no packet
 * information prefix) and what is transmitted is handed to the kernel's IP stack as if
 * it had arrived on the device. ternd uses it on the LAN side.
 *
 * Costs: TUN has no batched system call; rx_burst does one readv() and tx_burst one
 * write() per packet, about 6 to 7 us each here (shared/design/platform.md: 115 kpps,
 * 1.4 Gbps TCP). The later lever is the vnet header with TSO/USO offloads
 * (IFF_VNET_HDR, TUNSETOFFLOAD: 64 KB super-packets, ~0.55 us per segment), which needs
 * buffers larger than PKT_BUF_SIZE and segmentation on the WAN side; not done here.
 *
 * Invariants: the descriptor is non-blocking, so neither burst ever sleeps; poll
 * io_tun_fd() for POLLIN. Received buffers come from the pool given at open, at the
 * default headroom, with port set to the port id and rx_ns to the burst's arrival time.
 * Buffers given to tx_burst must come from that same pool (the backend returns them to
 * it once their bytes are copied to the kernel; pkt_pool_put() asserts the owner).
 * No allocation, lock or log per packet; every loss is counted.
 *
 * Threads: a port is driven by one worker (rx and tx on the same thread, since both use
 * the pool); open and close run on the control thread while no worker drives the port.
 */
#ifndef TERN_IO_TUN_H
#define TERN_IO_TUN_H

#include <stdint.h>

#include "io/io.h"
#include "pkt/pkt_buf.h"
#include "pkt/pkt_drop.h"

struct io_tun;

struct io_tun_stats {
	uint64_t rx_errors;     /* readv() failed with something other than EAGAIN */
	uint64_t rx_too_big;    /* packets longer than PKT_BUF_DATA_MAX (dropped: pkt-too-big) */
	uint64_t rx_pool_empty; /* bursts cut short by an empty pool (the packet stays queued) */
	uint64_t tx_errors;     /* write() refused a packet (dropped and freed, not retried) */
};

/*
 * Creates the TUN device name, or attaches to an existing one (for example made
 * persistent by `ip tuntap add mode tun`), and wraps it as port id. name may hold a
 * "%d" for the kernel to pick a number (io_tun_name() says which). The device is left
 * administratively as it was: set it up with router_netlink.
 * On success *out is owned by the caller (io_tun_close()).
 * Errors: -EINVAL (NULL or empty name, name of IFNAMSIZ bytes or more, NULL pool or out;
 * the kernel refused the name; or a device of that name exists and is not a TUN
 * device), -ENOMEM, -EPERM (needs CAP_NET_ADMIN), -EBUSY (the device is already
 * attached to another descriptor), -ENOENT (no /dev/net/tun), or another negative errno
 * from open(), ioctl() or fcntl().
 */
int io_tun_open(const char *name, struct pkt_pool *pool, uint32_t id, struct io_tun **out);

/*
 * Closes the descriptor and frees tun (accepts NULL). The kernel removes the device
 * unless it is persistent (TUNSETPERSIST, or made with `ip tuntap add`): a device this
 * call created goes away, a persistent one stays for the next open.
 */
void io_tun_close(struct io_tun *tun);

/* The port to drive with io_rx_burst()/io_tx_burst() (borrowed; valid until close). */
struct io_port *io_tun_port(struct io_tun *tun);
/* The descriptor to poll for POLLIN (borrowed: do not close it). */
int io_tun_fd(const struct io_tun *tun);
/* The device's name as the kernel gave it (borrowed; valid until close). */
const char *io_tun_name(const struct io_tun *tun);
/* The backend's own counters (the port's packet and byte counters are in port->stats). */
const struct io_tun_stats *io_tun_stats(const struct io_tun *tun);

/*
 * Counts the backend's drops (pkt-too-big) also in the worker's counters; NULL stops
 * that. Call while no worker drives the port. drops is borrowed and must outlive tun.
 */
void io_tun_set_drop_counters(struct io_tun *tun, struct pkt_drop_counters *drops);

#endif
