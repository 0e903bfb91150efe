/*
 * The WAN backend: one port per (WAN interface, waypoint address). It receives only the
 * packets addressed to the waypoint's ports and sends whole IP packets that the kernel
 * routes and resolves neighbours for.
 *
 * Receive: an AF_PACKET SOCK_DGRAM socket (the L3 packet, no link header) bound to the
 * interface and to the waypoint's ethertype (ETH_P_IP or ETH_P_IPV6, so the kernel never
 * hands it the other family nor outgoing packets), with a classic BPF filter attached
 * before bind so nothing unfiltered is ever queued. The filter accepts a packet when its
 * destination is the waypoint address and
 *   - its protocol is UDP or TCP and its destination port is in [port_first, port_last],
 *     or is IO_AFPACKET_PROBE_PORT over UDP when probe_port is set (or relay_port
 *     and the first payload byte is IO_AFPACKET_RELAY_TYPE);
 *   - or (IPv4) it is a fragment other than the first of UDP or TCP: it has no ports, and
 *     the reassembly in the data path needs it; the port check then happens there;
 *   - or (IPv6) its next header is a fragment header (44), for the same reason.
 * IPv4 options are handled (the filter reads IHL). IPv6 extension headers other than the
 * fragment header are not matched: classic BPF has no loops, so walking a chain of
 * unknown length cannot be expressed, and unrolling a few steps would still miss longer
 * chains. Such packets are dropped by the kernel rule (router_nft, which does walk the
 * chain) and never reach Tern.
 *
 * Why recvmmsg and not a TPACKET_V3 ring: a ring saves the system call but the packet
 * then has to be copied out of the ring into a pool buffer (the data path needs headroom
 * and owns its buffers), so both cost one copy; recvmmsg copies straight into pool
 * buffers at the default headroom, and has no block-retire timeout adding latency at
 * low rates. One recvmmsg per burst keeps the syscall cost per packet small.
 *
 * The socket asks for PACKET_AUXDATA with each packet, so a packet from a local sender
 * whose L4 checksum was left to the device (CHECKSUM_PARTIAL, e.g. over veth; the kernel
 * says TP_STATUS_CSUMNOTREADY) gets its checksum completed here. (PACKET_VNET_HDR would
 * give the checksum offsets and GSO type directly, but the kernel takes it only on
 * SOCK_RAW sockets.) A GRO super-packet larger than PKT_BUF_DATA_MAX is dropped
 * (stats.rx_truncated); keep GRO off on the WAN interface (veth has it off by default),
 * or the data path sees packets larger than the MTU.
 *
 * Send: a raw socket (SOCK_RAW, IPPROTO_RAW) of the waypoint's family bound to the
 * interface (SO_BINDTODEVICE). IPPROTO_RAW implies IP_HDRINCL for IPv4 (the kernel fills
 * the total length and header checksum, and the id when it is 0) and, for IPv6, that the
 * buffer is the whole packet with its IPv6 header (Linux sets hdrincl for IPv6 IPPROTO_RAW
 * sockets too; the unit test checks it on the running kernel). Packets go out in
 * sendmmsg batches; the destination for routing is read from each packet's header.
 *
 * Ownership: rx_burst takes buffers from the pool given at open and hands them to the
 * caller. tx_burst sends the first k buffers it returns and puts them back into that same
 * pool (so every buffer given to tx_burst must come from it); a buffer the kernel refuses
 * with a hard error (no route, too big) is counted in stats.tx_errors and also put back.
 * The rest (the socket buffer was full) stay with the caller and are counted in
 * stats.io.tx_full.
 *
 * Threads: a port is driven by one worker; rx and tx may run on two threads only if they
 * use two pools, which this backend does not support: drive both ends from one thread.
 * No allocation, lock or log per packet.
 */
#ifndef TERN_IO_AFPACKET_H
#define TERN_IO_AFPACKET_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "io/io.h"
#include "lib/addr.h"
#include "pkt/pkt_buf.h"

/* The UDP port of the path probe protocol, received when probe_port is set. */
#define IO_AFPACKET_PROBE_PORT 1280
/* The first payload byte of a NAT relay datagram on that port (router_nat.h). */
#define IO_AFPACKET_RELAY_TYPE 17
/* Default waypoint port range (docs/protocol.md, section 8). */
#define IO_AFPACKET_PORT_FIRST 16384
#define IO_AFPACKET_PORT_LAST  65535
/* Most packets one recvmmsg or sendmmsg moves; larger bursts are cut into these. */
#define IO_AFPACKET_BURST_MAX 64

struct io_afpacket_config {
	char ifname[IF_NAMESIZE]; /* the WAN interface */
	struct addr waypoint;     /* the local waypoint address, IPv4 or IPv6 */
	uint16_t port_first;      /* waypoint ports, inclusive; 0 and 0 mean the default */
	uint16_t port_last;
	bool probe_port; /* also receive UDP to IO_AFPACKET_PROBE_PORT */
	/*
	 * Also receive UDP to IO_AFPACKET_PROBE_PORT whose first payload byte is
	 * IO_AFPACKET_RELAY_TYPE: the NAT relay (router_nat.h), for a router behind a NAT.
	 */
	bool relay_port;
	uint32_t port_id; /* stored in io_port.id and in each received buffer's port */
	int rcvbuf_bytes; /* SO_RCVBUF(FORCE) of the packet socket; 0 keeps the default */
	int sndbuf_bytes; /* SO_SNDBUF(FORCE) of the raw socket; 0 keeps the default */
};

struct io_afpacket_stats {
	uint64_t rx_truncated;    /* larger than PKT_BUF_DATA_MAX (a GRO super-packet) */
	uint64_t rx_no_buffers;   /* bursts cut short because the pool was empty */
	uint64_t rx_errors;       /* recvmmsg failures other than EAGAIN */
	uint64_t rx_bad_csum;     /* checksum to finish, but the packet is too short */
	uint64_t tx_errors;       /* packets the kernel refused (route, size, family) */
	uint64_t tx_bad;          /* packets too short or of the wrong family to send */
	uint64_t rx_kernel_drops; /* from PACKET_STATISTICS, updated by _stats_read */
};

struct io_afpacket;

/*
 * Opens both sockets and attaches the filter. The port takes buffers from pool (borrowed:
 * it must outlive the port). Needs CAP_NET_RAW. Returns 0 and *out, or -EINVAL (bad
 * config: no address, first > last, name too long), -ENODEV (no such interface),
 * -ENOMEM, or the negative errno of the failing socket call (e.g. -EPERM).
 */
int io_afpacket_open(const struct io_afpacket_config *config, struct pkt_pool *pool,
    struct io_afpacket **out);
/* Accepts NULL. Closes both sockets; buffers already handed out are the caller's. */
void io_afpacket_close(struct io_afpacket *a);
/* The generic port (borrowed; valid until close). */
struct io_port *io_afpacket_port(struct io_afpacket *a);
/* The packet socket, to wait on with poll/epoll (EPOLLIN). */
int io_afpacket_rx_fd(const struct io_afpacket *a);
/* The raw socket, to wait on with EPOLLOUT after tx_full. */
int io_afpacket_tx_fd(const struct io_afpacket *a);
/*
 * Copies the backend counters; also reads PACKET_STATISTICS (which resets the kernel's
 * count) and adds its drops to rx_kernel_drops. Same thread as the data path.
 */
void io_afpacket_stats_read(struct io_afpacket *a, struct io_afpacket_stats *out);

#endif
