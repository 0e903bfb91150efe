/*
 * The kernel rules that keep the kernel from answering waypoint traffic itself: ternd
 * receives waypoint packets on a packet socket (io_afpacket), which sees them whatever
 * netfilter does later, so the kernel's own copy must be dropped before the local stack
 * answers a TCP SYN with a RST or a UDP datagram with ICMP port unreachable.
 *
 * One nftables table per ternd instance, "tern_<name>" in the inet family, with one chain
 * on the prerouting hook at priority -300 (raw): after defragmentation (-400), so a
 * fragmented datagram is dropped once whole, and before conntrack (-200), so waypoint
 * flows never create or look up conntrack entries. For each waypoint it drops packets to
 * the waypoint address whose protocol is TCP or UDP with a destination port in the
 * waypoint range, and UDP to the probe port when enabled. nft finds the transport header
 * behind IPv6 extension headers, so it also drops what the packet socket's filter does
 * not match (io_afpacket.h). Outgoing packets need no rule.
 *
 * install replaces the whole table in one transaction (add, delete, add), so it is
 * idempotent and never leaves a window without rules on a reinstall; remove deletes it
 * and succeeds when it is already gone. ternd removes the table on exit.
 *
 * Threads: control thread only (each call opens and closes its own nftables context).
 * Needs CAP_NET_ADMIN in the network namespace. Allocates; never on the data path.
 */
#ifndef TERN_ROUTER_NFT_H
#define TERN_ROUTER_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"

/* Longest instance name: the table name is "tern_" and this. */
#define ROUTER_NFT_NAME_MAX 32
/* Room for nft's error text in the callers' buffers (longer text is cut). */
#define ROUTER_NFT_ERROR_MAX 512
/* Most waypoints one table holds. */
#define ROUTER_NFT_WAYPOINTS_MAX 64

struct router_nft_waypoint {
	struct addr addr;    /* local waypoint address, IPv4 or IPv6 */
	uint16_t port_first; /* inclusive range; first <= last, first > 0 */
	uint16_t port_last;
	bool probe_port; /* also drop UDP to the probe port (IO_AFPACKET_PROBE_PORT, 1280) */
};

/*
 * Installs (or replaces) table "tern_<name>" with one rule set per waypoint. name is
 * 1..ROUTER_NFT_NAME_MAX of [A-Za-z0-9_-]. On failure nft's error text (if any) is copied
 * to error (NUL-terminated, cut to error_len; error may be NULL).
 * Returns 0, -EINVAL (bad name, no or too many waypoints, a bad range or family), -ENOMEM,
 * -EPERM (no CAP_NET_ADMIN), -EOPNOTSUPP (no nftables in the kernel) or -EIO (nft
 * refused the rules for another reason: see error).
 */
int router_nft_install(const char *name, const struct router_nft_waypoint *waypoints, size_t count,
    char *error, size_t error_len);
/* Removes table "tern_<name>"; 0 also when it does not exist. Errors as install. */
int router_nft_remove(const char *name, char *error, size_t error_len);
/* Whether table "tern_<name>" exists (false also when nftables cannot be asked). */
bool router_nft_is_installed(const char *name);

#endif
