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
 * Classification is the policy engine's (src/policy, docs/policy.md), built from the
 * snapshot when the worker is made: a new session from a LAN gets the segment's tenant,
 * the best service routed to a peer, and a verdict from the rules (explicit rules, and
 * each services[].access entry as an allow); anything but an allow is dropped under a
 * policy-* reason. Then the tenant's limits (sessions at once, new per second), then the
 * path. A new session from a peer must name a service this router serves on a LAN, and
 * the same engine decides again as the tenant the metadata names (zero trust); or one it
 * routes to another peer, which makes this router a hub: the session goes on as a second
 * leg through the tenant's transit zone (docs/decisions/0011-hub.md).
 *
 * A segment's hosts belong to its tenant, or to another by source prefix
 * (lan[].tenants). A session's LAN-key zone is its segment id (segments may use the same
 * addresses); svr's "tenant id" (struct svr_route.tenant_id) is a slot per (segment,
 * tenant), which gives the tenant's name for metadata and the segment's port. A
 * service routed to a breakout WAN link leaves by it with source NAT, without SVR
 * (router_breakout.h), after the same policy, limits and counting.
 *
 * Threads: a worker belongs to one thread; the configuration snapshot it was made from
 * must outlive it and never changes. A reload makes a new worker from the new snapshot
 * and moves the live sessions into it (router_worker_adopt) while no thread polls either.
 */
#ifndef TERN_ROUTER_ROUTER_WORKER_H
#define TERN_ROUTER_ROUTER_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/crypto_aead.h"
#include "io/io.h"
#include "path/path_log.h"
#include "path/path_select.h"
#include "policy/policy_engine.h"
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
/* The WAN links' MTU the worker assumes (Ethernet); forward metadata never pushes past it. */
#define ROUTER_WAN_MTU 1500

/* Port ids the worker gives svr: LAN segment i is i, WAN interface i is BASE + i. */
#define ROUTER_WORKER_WAN_PORT_BASE 0x10000u
/* Hub transit zones' pseudo ports (never a device): BASE + svr tenant id (slot). */
#define ROUTER_WORKER_TRANSIT_PORT_BASE 0x20000u
#define ROUTER_WORKER_BURST             32

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

/*
 * A reload (docs/decisions/0012-reload-keeps-sessions.md): why the new worker ended a
 * session of the old one instead of carrying it on.
 */
#define ROUTER_RELOAD_END_REASONS(X)                                                               \
	X(TENANT, "tenant")     /* its tenant (or segment) is gone */                              \
	X(SERVICE, "service")   /* its service is gone or routed elsewhere */                      \
	X(PEER, "peer")         /* its path leads to another peer, or none */                      \
	X(PATH, "path")         /* its path (or second leg's) is gone or changed */                \
	X(POLICY, "policy")     /* the rules no longer allow the tenant the service */             \
	X(NAT, "nat")           /* its segment's NAT pool is gone or changed */                    \
	X(PORTS, "ports")       /* its waypoint or NAT port is taken in the new pool */            \
	X(FULL, "full")         /* the new session table (limits.sessions) is full */              \
	X(BREAKOUT, "breakout") /* a breakout session the new table cannot take */

enum router_reload_end {
#define ROUTER_RELOAD_END_ENUM(id, name) ROUTER_RELOAD_END_##id,
	ROUTER_RELOAD_END_REASONS(ROUTER_RELOAD_END_ENUM)
#undef ROUTER_RELOAD_END_ENUM
	ROUTER_RELOAD_END_COUNT
};

/* Stable lower-case name of a reason ("policy"), for the API. */
const char *router_reload_end_name(enum router_reload_end reason);

struct router_worker_reload_stats {
	uint64_t kept;                           /* sessions the new worker carries on */
	uint64_t ended[ROUTER_RELOAD_END_COUNT]; /* sessions it ended, by reason */
};

/*
 * A reload hands the live state of old (made from the previous snapshot, stopped: no
 * thread polls it) to w (just made from the new one, not polled yet): every session,
 * breakout session and duplicate leg whose tenant, service, peer and path still exist by
 * name and that the new rules still allow is copied with its ids re-mapped, its waypoint
 * and NAT ports, tenant count, UUID index entry and application; path states and
 * measurements follow their paths by name; with keys (the key configuration is the
 * same) the peers' keys, send sequences and replay windows follow their peers by name.
 * The rest ends (counted in *stats, added to). The counters the API shows (drops, svr
 * statistics, peers' data keys, learners, nDPI, per service, tenant and application) go
 * on from old's values: none falls at a reload. old keeps only what it did not hand over
 * and is freed by the caller. Never fails: what cannot move ends.
 */
void router_worker_adopt(struct router_worker *w, struct router_worker *old, bool keys,
    uint64_t now_ns, struct router_worker_reload_stats *stats);

/* One pass over every port; returns how many packets it received. */
unsigned router_worker_poll(struct router_worker *w, uint64_t now_ns);
/* Timers: idle sessions (their waypoint pairs go back) and stale fragments. */
void router_worker_tick(struct router_worker *w, uint64_t now_ns);

/*
 * What the control thread hands the worker, applied between bursts (the only place the
 * worker's keys and path states change): peer keys made by the key exchange
 * (router_keys.h) and path states and measurements from the prober (router_paths.h).
 */
enum router_worker_op_kind {
	ROUTER_WORKER_KEY_INSTALL_RECV, /* index: our receive index */
	ROUTER_WORKER_KEY_INSTALL_SEND, /* index: the peer's receive index */
	ROUTER_WORKER_KEY_EXPIRE_RECV,
	ROUTER_WORKER_KEY_EXPIRE_SEND,
	ROUTER_WORKER_KEY_CLEAR,
	ROUTER_WORKER_PATH_STATE,    /* path_id: up or not (path_up), and its measurements */
	ROUTER_WORKER_PATH_METRICS,  /* path_id: new measurements, state unchanged */
	ROUTER_WORKER_NAME_RESOLVED, /* name has addr for ttl_s (ternd's own resolver) */
	/*
	 * NAT (docs/decisions/0008-nat.md). PATH_REMOTE: path_id ("remote": "auto") has
	 * learned where its peer is: remote, and remote_port its translated probe port (the
	 * relay's). PATH_REBIND: path_id ("nat": true): our mapping changed, so every session
	 * on it sends a keep-alive with its metadata for the peer to re-bind.
	 */
	ROUTER_WORKER_PATH_REMOTE,
	ROUTER_WORKER_PATH_REBIND,
};

/* A path's measurements as the worker keeps them for path selection. */
struct router_worker_path_metrics {
	bool measured;       /* false: nothing measured yet (the SLA counts as broken) */
	uint32_t latency_us; /* one way, smoothed */
	uint32_t jitter_us;
	double loss_pct;
	double mos;
};

struct router_worker_op {
	enum router_worker_op_kind kind;
	uint32_t peer_id;
	uint32_t index;
	struct crypto_aead *aead; /* KEY_INSTALL_*: owned by the worker from then on */
	uint32_t path_id;         /* PATH_*: router_config path id */
	bool path_up;             /* PATH_STATE */
	struct router_worker_path_metrics metrics; /* PATH_* */
	/* NAME_RESOLVED: name is borrowed from the configuration snapshot, which outlives
	 * every operation queued for a worker made from it. */
	const char *name;
	struct addr addr;
	uint32_t ttl_s;
	struct addr remote;   /* PATH_REMOTE */
	uint16_t remote_port; /* PATH_REMOTE */
};

/*
 * Applies op; contexts it displaces are freed here (a control event, not per packet).
 * A path that goes down (or stops meeting a policy's SLA) starts a sweep that moves its
 * ingress sessions; one that comes back starts a sweep for revertible sessions. Sweeps
 * run a bounded number of sessions per router_worker_tick().
 */
void router_worker_op_apply(struct router_worker *w, const struct router_worker_op *op);
/*
 * Call this before w runs, when w replaces `from` under the same keys and peers (a
 * reload): w takes from's key slots as they are, with their send sequences, receive
 * replay windows and statistics, so no nonce is sealed twice under a key and no packet
 * opened before is opened again; from is left with none. Both must be made from
 * configurations with the same peer count (-EINVAL, nothing moved). No thread may run
 * either worker meanwhile.
 */
int router_worker_keys_take(struct router_worker *w, struct router_worker *from);
/* Packets sent under the peer's current send key (for the message-count rekey). */
uint64_t router_worker_peer_sent(const struct router_worker *w, uint32_t peer_id);
/* The per-peer key statistics of the data path, or NULL. */
const struct svr_peer_key_stats *router_worker_peer_key_stats(const struct router_worker *w,
    uint32_t peer_id);
/*
 * Why a session would be on its path now: runs the path selection of the session's
 * service over the current measurements and writes the operator's explanation (as
 * path_choice_format()). Returns its length, or a negative errno.
 */
int router_worker_session_explain(const struct router_worker *w, const struct session *s, char *buf,
    size_t len);
/*
 * The operator's what-if (`ternctl policy test`): what a new session from LAN segment
 * lan would get, decided by the same engine and path selection as live packets, without
 * sending anything. Text fields are "" when not applicable.
 */
struct router_worker_what_if {
	uint32_t lan;
	struct addr src, dst;
	uint8_t proto;
	uint16_t dst_port;
	const char *sni; /* the ClientHello's name; NULL: what the worker learnt, if anything */
	const char *app; /* the nDPI application; NULL: what the worker learnt, if anything */
};

struct router_worker_verdict {
	bool allowed;     /* the session would be made (verdict allow, room, a path) */
	char tenant[64];  /* "" with no tenant */
	char service[64]; /* "" with no service */
	char verdict[32]; /* policy_verdict_name() */
	char rule[80];    /* the deciding rule's name */
	char route[80];   /* "peer site-b" */
	char path[80];    /* the path a session would take, or why none */
	char limit[128];  /* the tenant's limits now, and whether one would refuse */
	char drop[48];    /* the drop reason a live packet would be counted under, or "" */
	char sni[POLICY_DOMAIN_MAX + 1]; /* the SNI the decision used (given or learnt) */
	char app[POLICY_APP_MAX + 1];    /* the application it used (given or learnt) */
	char explanation[POLICY_EXPLAIN_TEXT_MAX + PATH_CHOICE_TEXT_MAX];
};

/* Fills *out (always); 0, or -EINVAL for a segment that does not exist. */
int router_worker_policy_test(const struct router_worker *w, const struct router_worker_what_if *q,
    struct router_worker_verdict *out);

/* The learners (names, applications) and the per service/tenant/app statistics. */
struct router_learn *router_worker_learn(const struct router_worker *w);
/* Applies what ternd's resolver found: name has addr for ttl_s (all tenants). */
void router_worker_resolved(struct router_worker *w, const char *name, const struct addr *addr,
    uint32_t ttl_s);

/* The worker's failover events (sessions moved off a path), for the API. */
const struct path_log *router_worker_log(const struct router_worker *w);
/* The worker's SLA events (a path starts or stops breaking a policy's SLA). */
const struct path_log *router_worker_sla_log(const struct router_worker *w);
/* Sessions on each path (counted on demand, for the API). */
uint32_t router_worker_path_sessions(const struct router_worker *w, uint32_t path_id);

/*
 * The name of the tenant a session of this worker belongs to (borrowed), or "?": at the
 * egress the tenant the metadata named (whom the egress policy checked), not the
 * segment's own.
 */
const char *router_worker_session_tenant(const struct router_worker *w, const struct session *s);
/* The LAN segment a session's host is on (borrowed), or NULL (hub transit). */
const char *router_worker_session_segment(const struct router_worker *w, const struct session *s);
/*
 * Hub transit (docs/protocol.md "Hub"): whether session index is a leg of a session
 * this router carries from one peer to another. The leg from the first peer is this
 * router's egress ("in"), the leg to the next its ingress ("out"); *from_peer and
 * *to_peer are config peer ids, *partner the other leg's index (SESSION_INDEX_NONE when
 * it is gone, and then the peer on that side is UINT32_MAX when not known).
 * Control thread between polls, as the sessions.
 */
struct router_worker_transit {
	bool out; /* this leg is the ingress one, toward to_peer */
	uint32_t from_peer, to_peer;
	uint32_t partner;
};
bool router_worker_session_transit(struct router_worker *w, uint32_t index,
    struct router_worker_transit *out);
/* The breakout sessions, or NULL when no service breaks out. */
struct session_table *router_worker_breakout_sessions(struct router_worker *w);

/* What the control thread reports, read on the worker's own thread. */
const struct pkt_drop_counters *router_worker_drops(const struct router_worker *w);
struct session_table *router_worker_sessions(struct router_worker *w);
/*
 * The second leg (alias entry) of duplicated session index, or NULL: its path_id and
 * wan_key are the leg's (borrowed, control thread between polls, as the sessions).
 */
const struct session *router_worker_session_alias(struct router_worker *w, uint32_t index);
const struct svr_stats *router_worker_svr_stats(const struct router_worker *w);
const struct svr_path *router_worker_path(const struct router_worker *w, uint32_t path_id);

#endif
