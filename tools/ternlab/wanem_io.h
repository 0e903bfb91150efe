/*
 * Frame I/O of ternlab-wanem: one AF_PACKET socket per interface and a preallocated
 * pool of frame buffers addressed by 32-bit index (the refs the engine holds).
 *
 * Each port socket is bound to its interface for every protocol (ETH_P_ALL), puts the
 * interface in promiscuous mode (frames for any MAC are taken; the kernel undoes it
 * when the socket closes), ignores its own sends (PACKET_IGNORE_OUTGOING) and carries a
 * virtio-net header (PACKET_VNET_HDR) so a frame whose checksum the sender left to
 * offload is sent on with that request intact instead of arriving with a wrong
 * checksum. Frames are received with recvmmsg and sent with sendmmsg, a batch at a
 * time. A frame larger than a buffer (a GSO super-packet: turn segmentation offload off
 * on the senders) is dropped and counted as rx_truncated.
 *
 * A buffer holds the virtio-net header followed by the frame; lengths given to and
 * returned from these functions are frame lengths without the header.
 *
 * Threads: a pool and its ports belong to the one forwarding thread.
 */
#ifndef TERN_TOOLS_TERNLAB_WANEM_IO_H
#define TERN_TOOLS_TERNLAB_WANEM_IO_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

/* Frames per recvmmsg/sendmmsg call. */
#define WANEM_IO_BATCH 64
/* Bytes per buffer: a 1514-byte frame (or a 9000-byte jumbo) with its header fits. */
#define WANEM_IO_BUF_SIZE 9216

struct wanem_pool {
	uint8_t *mem; /* count * WANEM_IO_BUF_SIZE bytes */
	uint32_t count;
	uint32_t *free_list; /* stack of free indices */
	uint32_t nfree;
};

struct wanem_port {
	int fd;
	int ifindex;
	char name[IF_NAMESIZE];
	uint64_t rx_truncated; /* frames larger than a buffer, dropped */
	uint64_t tx_dropped;   /* frames the kernel did not take (full socket buffer) */
	uint64_t rx_errors;    /* failed receive calls other than "nothing to read" */
};

/* Allocates count buffers (all free). Returns 0, -EINVAL (count 0), -ENOMEM. */
int wanem_pool_init(struct wanem_pool *pool, uint32_t count);
void wanem_pool_fini(struct wanem_pool *pool);
/* The frame (after the virtio-net header) in buffer index; the caller must own it. */
const uint8_t *wanem_pool_frame(const struct wanem_pool *pool, uint32_t index);
/* Gives index back to the pool; the caller must own it. */
void wanem_pool_put(struct wanem_pool *pool, uint32_t index);

/*
 * Opens the port on interface ifname (which must exist in the current namespace).
 * Returns 0, or a negative errno after logging what failed (-ENODEV for an unknown
 * interface, -EPERM without CAP_NET_RAW, ...). On failure the port is closed.
 */
int wanem_port_open(struct wanem_port *port, const char *ifname);
/* Closes the port (safe on a closed or failed port). */
void wanem_port_close(struct wanem_port *port);

/*
 * Receives up to max (<= WANEM_IO_BATCH) frames into buffers taken from pool; refs[] and
 * lens[] get their indices and frame lengths, and the caller owns those buffers. Returns
 * how many (0 when nothing is waiting or the pool is empty).
 */
size_t wanem_port_recv(struct wanem_port *port, struct wanem_pool *pool, uint32_t *refs,
    uint32_t *lens, size_t max);

/*
 * Sends n (<= WANEM_IO_BATCH) frames out of port and gives every buffer back to pool,
 * sent or not; frames the kernel refused count in tx_dropped. Returns how many were sent.
 */
size_t wanem_port_send(struct wanem_port *port, struct wanem_pool *pool, const uint32_t *refs,
    const uint32_t *lens, size_t n);

#endif
