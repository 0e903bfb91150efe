/*
 * NAT between routers, the worker's part (docs/decisions/0008-nat.md, docs/protocol.md
 * "NAT"): the relay that carries a session's first packets toward a peer behind a NAT
 * over the peer's probe mapping (UDP 1280) until the peer's keep-alive opens the
 * session's own, and the keep-alive sweep that keeps the mappings of a NATed router's
 * sessions fresh and re-binds them when its mapping changed.
 *
 * Relay datagram: UDP from our waypoint port 1280 to the peer's translated probe port,
 * whose payload is an 8-byte relay header followed by the SVR packet's UDP payload:
 *
 *   off len field
 *     0   1 type = 17 (UDP 1280 demultiplexes on the first byte: key exchange 1..4,
 *           probes 16)
 *     1   1 version = 1
 *     2   2 reserved, zero
 *     4   2 the waypoint source port the packet would have had
 *     6   2 the waypoint destination port
 *
 * The receiver restores the two ports, removes the header and handles the packet as if
 * it had come on its waypoint tuple: it is authenticated there like any other.
 *
 * Threads: the worker's; pure functions on the caller's buffers and sweep state.
 */
#ifndef TERN_ROUTER_ROUTER_NAT_H
#define TERN_ROUTER_ROUTER_NAT_H

#include <stdbool.h>
#include <stdint.h>

#include "pkt/pkt_buf.h"
#include "pkt/pkt_drop.h"

#define ROUTER_NAT_RELAY_TYPE    17
#define ROUTER_NAT_RELAY_VERSION 1
#define ROUTER_NAT_RELAY_HDR_LEN 8
#define ROUTER_NAT_PROBE_PORT    1280
/*
 * A session through a NAT that was idle this long gets a keep-alive: below the 30 s a
 * Linux masquerade keeps an unanswered UDP mapping, so a mapping never lapses while its
 * session lives. Every session is looked at once per pass; a pass starts this often.
 */
#define ROUTER_NAT_KEEPALIVE_NS (10ull * 1000000000ull)
/* Enable-metadata answers to a peer behind a NAT: a burst of 32, then one per 2 ms. */
#define ROUTER_NAT_ENABLE_BURST 32ull
#define ROUTER_NAT_ENABLE_NS    (2ull * 1000000ull)
/* Sessions looked at per worker tick (100 ms) by the keep-alive sweep. */
#define ROUTER_NAT_SWEEP_BUDGET 4096u

struct svr_router;

/* The keep-alive sweep's progress (zeroed: no pass yet; the first starts at once). */
struct router_nat_sweep {
	uint32_t next;       /* next session index the pass looks at */
	uint64_t started_ns; /* when the pass in progress (or the last one) began */
	bool active;
	bool started; /* a pass ever began */
};

/*
 * A pass over rt's sessions, at most budget of them per call (the cursor stays in sw).
 * A pass starts ROUTER_NAT_KEEPALIVE_NS after the previous one began. Each session on a
 * path with behind_nat gets a keep-alive (svr_session_keepalive()) when it was idle that
 * long, or when rebind[its path] is set (cleared at the end of the pass). When
 * rt->ctrl_out is full, flush(arg) must send and empty it. Returns keep-alives made.
 */
unsigned router_nat_sweep_run(struct router_nat_sweep *sw, struct svr_router *rt, uint8_t *rebind,
    uint64_t now_ns, unsigned budget, void (*flush)(void *arg), void *arg);

/* Our mapping on path changed: a pass starts now in which every session of it re-binds. */
void router_nat_sweep_rebind(struct router_nat_sweep *sw, uint8_t *rebind, uint16_t path,
    uint64_t now_ns);

/*
 * Wraps the parsed UDP packet p (an SVR packet on its waypoint tuple) into a relay
 * datagram to relay_port, in place, and parses it again. 0, or -1 with *reason
 * (NAT_RELAY_TOO_BIG past mtu (0: no limit), PKT_NO_HEADROOM, PROTO_UNSUPPORTED when p
 * is not UDP).
 */
int router_nat_relay_wrap(struct pkt_buf *p, uint16_t relay_port, uint16_t mtu,
    enum pkt_drop_reason *reason);

/* Whether the parsed packet p is a relay datagram (UDP to port 1280, type 17). */
bool router_nat_is_relay(const struct pkt_buf *p);

/*
 * Unwraps the relay datagram p in place (ports restored, header removed, checksums made
 * again) and parses it. 0, or -1 with *reason NAT_RELAY_MALFORMED (length, version,
 * reserved bytes, a port 0) or L4_BAD_CHECKSUM.
 */
int router_nat_relay_unwrap(struct pkt_buf *p, enum pkt_drop_reason *reason);

#endif
