/*
 * Local internet breakout: sessions that leave through one of the router's WAN links
 * straight to their destination, without SVR, with the source translated to the WAN's
 * address and a port of its own (source NAT, docs/decisions/0007-breakout.md).
 *
 * A breakout table holds the breakout sessions of one worker in a session table of its
 * own (SVR's fast path must never see them): the LAN key is the host's tuple in its
 * segment's zone, as for SVR sessions; the WAN key is the tuple the destination's answers
 * carry (destination -> WAN address, NAT port) in the WAN's zone, so each direction is
 * one lookup and one rewrite with a checksum delta computed when the session is made.
 * NAT ports come from one pool per WAN link, [port_first, port_last], which must lie in
 * the range the WAN's packet socket receives (io_afpacket.h); a pool that is empty
 * refuses new sessions (ROUTER_BREAKOUT_PORTS_EXHAUSTED). Only TCP and UDP break out: the
 * WAN's packet socket receives nothing else, so an ICMP echo would leave and its answer
 * never come back.
 *
 * Threads: a table belongs to one worker thread; nothing here allocates, locks or logs
 * per packet.
 */
#ifndef TERN_ROUTER_BREAKOUT_H
#define TERN_ROUTER_BREAKOUT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "pkt/pkt_buf.h"
#include "pkt/pkt_drop.h"
#include "session/session_table.h"

struct router_breakout;

/*
 * A table of capacity sessions (timeouts as in scfg, whose capacity is ignored) for
 * wan_count WAN links whose addresses are wan_addrs[i] (copied), each with NAT ports
 * port_first..port_last. 0 and *out, -EINVAL (no WAN, bad range), -ENOMEM.
 */
int router_breakout_new(const struct session_table_config *scfg, uint32_t capacity,
    const struct addr *wan_addrs, size_t wan_count, uint16_t port_first, uint16_t port_last,
    uint64_t now_ns, struct router_breakout **out);
void router_breakout_free(struct router_breakout *b); /* accepts NULL */

/* The session of a parsed packet from LAN zone zone, or SESSION_INDEX_NONE. */
uint32_t router_breakout_lan_lookup(const struct router_breakout *b, const struct pkt_buf *p,
    uint16_t zone);
/* The session of a parsed packet from WAN link wan, or SESSION_INDEX_NONE. */
uint32_t router_breakout_wan_lookup(const struct router_breakout *b, const struct pkt_buf *p,
    uint32_t wan);

/*
 * A new session for the first packet p from LAN zone zone, leaving by WAN link wan;
 * tenant_id and service_id are stored in the session for the owner. 0 and *index, or
 * the drop reason in *reason and: -EPROTONOSUPPORT (not TCP or UDP, a fragment, or the
 * WAN's family is not the packet's: ROUTER_BREAKOUT_UNSUPPORTED), -EADDRNOTAVAIL (no free
 * NAT port: ROUTER_BREAKOUT_PORTS_EXHAUSTED), -ENOSPC (SESSION_TABLE_FULL), -EEXIST (the
 * translated tuple is taken: SVR_SESSION_CONFLICT). Nothing is kept on error.
 */
int router_breakout_open(struct router_breakout *b, const struct pkt_buf *p, uint16_t zone,
    uint32_t wan, uint16_t tenant_id, uint16_t service_id, uint64_t now_ns, uint32_t *index,
    enum pkt_drop_reason *reason);

/*
 * Rewrites p (from the LAN, session index) to leave by the WAN: source = the WAN address
 * and the session's NAT port. Returns the WAN link id.
 */
uint32_t router_breakout_out(struct router_breakout *b, struct pkt_buf *p, uint32_t index,
    uint64_t now_ns);
/* Rewrites p (from the WAN, session index) back to the host's tuple; the session. */
const struct session *router_breakout_in(struct router_breakout *b, struct pkt_buf *p,
    uint32_t index, uint64_t now_ns);

/*
 * Expires idle sessions: their NAT ports go back, then on_end (may be NULL) sees each
 * before it is deleted. Returns how many ended.
 */
unsigned router_breakout_expire(struct router_breakout *b, uint64_t now_ns,
    void (*on_end)(const struct session *s, void *arg), void *arg);

/* Ends session index now (a reload no longer allows it): its NAT port goes back. */
void router_breakout_close(struct router_breakout *b, uint32_t index);
/* The sessions, for the control plane's listings (borrowed). */
struct session_table *router_breakout_sessions(struct router_breakout *b);
/* Free NAT ports of WAN link wan. */
uint32_t router_breakout_ports_free(const struct router_breakout *b, uint32_t wan);

#endif
