/*
 * A ternd data-plane worker: it owns the session table, the packet buffers in flight
 * and the SVR state of one router, and moves packets between the router's LAN ports
 * (one per configured LAN segment) and WAN ports (one per configured WAN interface).
 *
 * One pass (router_worker_poll) takes a burst from every port, parses and reassembles,
 * runs the SVR transforms (src/svr), classifies the sessions they do not know, and
 * transmits per output port. It never allocates, locks or logs per packet; every packet
 * it does not forward is counted under a drop reason.
 *
 * Classification here is the first step of the policy issue: a packet from a LAN goes
 * to the first service (in configuration order) routed to a peer whose prefixes,
 * protocols and ports match it; the LAN's tenant must be in the service's access list.
 * A new session from a peer must name a service this router serves on a LAN, from a
 * tenant that service admits, to an address inside it.
 *
 * In SVR terms the worker's "tenant id" (struct svr_route.tenant_id, the LAN-key zone)
 * is the LAN segment id: a segment has exactly one tenant, and the metadata carries the
 * tenant's name.
 *
 * Threads: a worker belongs to one thread; the configuration snapshot it was made from
 * must outlive it and never changes.
 */
#ifndef TERN_ROUTER_ROUTER_WORKER_H
#define TERN_ROUTER_ROUTER_WORKER_H

#include <stdint.h>

#include "crypto/crypto_aead.h"
#include "io/io.h"
#include "pkt/pkt_buf.h"
#include "pkt/pkt_drop.h"
#include "router/router_config.h"
#include "session/session_table.h"
#include "svr/svr_transform.h"

/*
 * The MTU of the LAN TUN devices: a 1500-byte WAN packet keeps 100 bytes for a metadata
 * block and the 24-byte encryption trailer. TCP MSS is clamped to fit it.
 */
#define ROUTER_HOST_MTU 1400

/* Port ids the worker gives svr: LAN segment i is i, WAN interface i is BASE + i. */
#define ROUTER_WORKER_WAN_PORT_BASE 0x10000u
#define ROUTER_WORKER_BURST         32

struct router_worker;

/*
 * A worker for cfg with its ports: lan_ports[i] for cfg->lans[i], wan_ports[i] for
 * cfg->wans[i] (borrowed; they outlive the worker). Buffers come from pool. 0, or
 * -ENOMEM, or -EINVAL for a configuration the worker cannot carry (a path whose
 * waypoint families differ).
 */
int router_worker_new(const struct router_config *cfg, struct io_port *const *lan_ports,
    struct io_port *const *wan_ports, struct pkt_pool *pool, uint64_t now_ns,
    struct router_worker **out);
void router_worker_free(struct router_worker *w); /* accepts NULL */

/* One pass over every port; returns how many packets it received. */
unsigned router_worker_poll(struct router_worker *w, uint64_t now_ns);
/* Timers: idle sessions (their waypoint pairs go back) and stale fragments. */
void router_worker_tick(struct router_worker *w, uint64_t now_ns);

/*
 * Peer keys, made by the key exchange on the control thread (router_keys.h) and handed
 * to the worker, which applies them between bursts: the only place keys change.
 */
enum router_worker_key_kind {
	ROUTER_WORKER_KEY_INSTALL_RECV, /* index: our receive index */
	ROUTER_WORKER_KEY_INSTALL_SEND, /* index: the peer's receive index */
	ROUTER_WORKER_KEY_EXPIRE_RECV,
	ROUTER_WORKER_KEY_EXPIRE_SEND,
	ROUTER_WORKER_KEY_CLEAR,
};

struct router_worker_key_op {
	enum router_worker_key_kind kind;
	uint32_t peer_id;
	uint32_t index;
	struct crypto_aead *aead; /* INSTALL_*: owned by the worker from then on */
};

/* Applies op; contexts it displaces are freed here (a control event, not per packet). */
void router_worker_key_apply(struct router_worker *w, const struct router_worker_key_op *op);
/* Packets sent under the peer's current send key (for the message-count rekey). */
uint64_t router_worker_peer_sent(const struct router_worker *w, uint32_t peer_id);
/* The per-peer key statistics of the data path, or NULL. */
const struct svr_peer_key_stats *router_worker_peer_key_stats(const struct router_worker *w,
    uint32_t peer_id);

/* What the control thread reports, read on the worker's own thread. */
const struct pkt_drop_counters *router_worker_drops(const struct router_worker *w);
struct session_table *router_worker_sessions(struct router_worker *w);
const struct svr_stats *router_worker_svr_stats(const struct router_worker *w);
const struct svr_path *router_worker_path(const struct router_worker *w, uint32_t path_id);

#endif
