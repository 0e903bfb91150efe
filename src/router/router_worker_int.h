/*
 * The inside of a ternd data-plane worker (router_worker.h), shared by the files that
 * make up the worker: router_worker.c (the worker's life and its packet passes),
 * router_worker_policy.c (access policy: classification, acceptance, what-if),
 * router_worker_paths.c (path selection, sweeps, SLA and reverts), router_worker_hub.c
 * (hub transit) and router_worker_reload.c (a reload's hand-over of live sessions).
 * Nothing outside src/router/router_worker*.c includes it.
 *
 * Threads: as router_worker.h: one worker thread, or the control thread while the
 * worker is stopped.
 */
#ifndef TERN_ROUTER_ROUTER_WORKER_INT_H
#define TERN_ROUTER_ROUTER_WORKER_INT_H

#include "policy/policy_limits.h"
#include "router/router_breakout.h"
#include "router/router_fw.h"
#include "router/router_learn.h"
#include "router/router_nat.h"
#include "router/router_worker.h"

struct router_worker {
	const struct router_config *cfg;
	struct svr_router svr;
	struct pkt_drop_counters drops;
	struct pkt_pool *pool;
	struct pkt_frag_table *frag;
	struct svr_path *paths;
	struct svr_peer_keys *peer_keys; /* by peer id */
	/*
	 * Path selection: one policy per service policy plus a last, zeroed one for
	 * services without a policy (no SLA, cost 0, failover, best effort), and each
	 * policy's cost of each path (path_costs[policy * path_count + path]).
	 */
	struct path_select_policy *policies;
	struct path_vector_cost **vector_costs;
	uint32_t *path_costs;
	struct router_worker_path_metrics *metrics; /* by path id */
	uint8_t *sla_broken; /* [policy * path_count + path]: the path breaks that SLA */
	uint8_t *sweep_due;  /* by path id: its ingress sessions are to be reconsidered */
	uint8_t *sweep_kind; /* by path id: 1 it failed (failover), 0 a revert */
	/* By path id: svr migrations when its sweep was asked for. */
	uint64_t *sweep_base;
	/*
	 * [policy * path_count + path]: when the path met the policy's SLA again, the time
	 * sessions of that policy may come back to it (a revert waits the path's hold-down,
	 * as a path that was down does); 0: none due.
	 */
	uint64_t *revert_at;
	uint64_t now_ns;          /* the last poll's or tick's clock, for operations */
	struct path_log *log;     /* failovers and reverts, for `ternctl show events` */
	struct path_log *sla_log; /* SLA breaches and recoveries, for the same */
	/*
	 * svr's tenant ids ("slots"): slot i < lan_count is segment i with its default
	 * tenant; then one slot per entry of each segment's "tenants" (by source prefix).
	 * A session's LAN-key zone stays its segment id (the segments' addresses may
	 * overlap, a segment's own may not), its tenant id is the slot, which gives svr the
	 * tenant's name for metadata and the segment's port for delivery.
	 */
	const char **tenant_names; /* by slot */
	uint32_t *slot_tenant;     /* by slot: config tenant id */
	uint32_t *slot_first;      /* by LAN segment: its first "tenants" slot */
	uint32_t slot_count;
	/*
	 * Hub transit (docs/protocol.md "Hub"): slot transit_first + t is tenant t's transit
	 * zone, where a session from a peer for a service routed to another peer is handed
	 * from its egress leg to its ingress leg (its I/O port is a pseudo port,
	 * ROUTER_WORKER_TRANSIT_PORT_BASE + slot, that never reaches a device).
	 */
	uint32_t transit_first;
	const char **service_names;
	uint32_t *lan_port_ids;           /* by slot: the segment's I/O port */
	struct router_breakout *breakout; /* NULL: no service breaks out */
	/* Per LAN segment with a "nat_pool": the address clients take, and its ports. */
	struct addr *nat_addr;
	struct svr_waypoint_ports **nat_ports;
	/*
	 * Access policy (docs/policy.md): the ingress decides among the services routed to
	 * peers, a segment per LAN; the egress re-checks the rules for the services routed
	 * to LANs, a segment per tenant (segment id = tenant id, the one the metadata names).
	 */
	struct policy *ingress_policy, *egress_policy;
	struct policy_limits *limits;    /* per tenant, ingress sessions */
	uint32_t *implicit_rule_service; /* rule id - rule_count -> service, for names */
	bool first_released;             /* set by on_release: svr_lan_first let go */
	struct router_learn *learn;      /* names, applications, statistics */
	struct router_fw fw;             /* stateful firewall: sessions that may begin */
	struct io_port *const *lan_ports;
	struct io_port *const *wan_ports;
	/* Per output port, the packets of the current pass waiting to be sent. */
	struct pkt_buf **tx;
	unsigned *tx_count;
	unsigned port_count;
	/* NAT between routers (router_nat.h), by path id. */
	uint16_t *relay_port; /* learn paths: the peer's translated probe port; 0 unknown */
	uint8_t *nat_rebind;  /* behind-NAT paths: all sessions owe a keep-alive this pass */
	uint64_t *nat_enable_full_ns; /* learn paths: enable-metadata bucket, full at */
	struct router_nat_sweep nat_sweep;
	bool behind_nat; /* some path is behind a NAT: the sweep runs */
};

/* The seed of the flow hashes that spread sessions over paths (load sharing). */
#define ROUTER_WORKER_FLOW_SEED 0x7465726e70617468ull

/*
 * Functions of one worker file called from another; each is described where it is
 * defined. All run on the worker's thread, as router_worker.h says.
 */

/* router_worker.c: the worker's life and its packet passes. */
void router_worker_drop(struct router_worker *w, struct pkt_buf *p, enum pkt_drop_reason reason);
bool router_worker_nat_ports(uint8_t proto);
void router_worker_send(struct router_worker *w, struct pkt_buf *p);
bool router_worker_nat_relay(struct router_worker *w, struct pkt_buf *p);

/*
 * A session ends (svr calls this from svr_session_release): an ingress session gives its
 * tenant's place back; an egress one returns the NAT port it took.
 */
void router_worker_on_release(const struct session *s, void *arg);

/* router_worker_policy.c: access policy. */
int router_worker_policies_new(struct router_worker *w);
enum pkt_drop_reason router_worker_policy_reason(uint8_t verdict);
bool router_worker_prefix_match(const struct router_config_service *svc, const struct addr *a);
int router_worker_classify(struct router_worker *w, uint16_t lan, const struct pkt_buf *p,
    struct svr_route *route, uint32_t *tenant, enum pkt_drop_reason *reason);
int router_worker_accept(struct router_worker *w, uint16_t wan, const struct pkt_buf *p,
    const struct svr_meta *m, struct svr_accept *accept, enum pkt_drop_reason *reason);
uint32_t router_worker_meta_tenant(const struct router_worker *w, const struct svr_meta *m);

/* router_worker_paths.c: path selection, sweeps, SLA and reverts. */
int router_worker_paths_new(struct router_worker *w);
uint64_t router_worker_flow_hash(const struct pkt_buf *p, uint16_t lan);
uint64_t router_worker_session_hash(const struct session *s);
int router_worker_select(const struct router_worker *w, const struct router_config_service *svc,
    uint32_t first, uint64_t flow_hash, struct path_choice *choice);
uint16_t router_worker_path_pick(struct svr_router *rt, const struct session *s, void *arg);
uint16_t router_worker_dup_path_pick(struct svr_router *rt, const struct session *s,
    uint16_t leg_path, void *arg);
void router_worker_path_op(struct router_worker *w, const struct router_worker_op *op);
void router_worker_on_udp_transform(struct svr_router *rt, uint16_t path_id, void *arg);
void router_worker_sweep(struct router_worker *w, uint64_t now_ns);
int router_worker_peer_route(const struct router_worker *w, const struct router_config_service *svc,
    uint64_t hash, struct svr_route *route);

/*
 * The SLA verdicts of path as its measurements stand, with no event and no sweep: a
 * reload that carried a path's measurements carries what they meant (a breach is not
 * found again, a met SLA is not met "again").
 */
void router_worker_sla_settle(struct router_worker *w, uint32_t path);

/* router_worker_hub.c: hub transit. */
int router_worker_transit_accept(struct router_worker *w, size_t path, const struct svr_meta *m,
    const struct router_config_service *svc, struct svr_accept *accept,
    enum pkt_drop_reason *reason);
void router_worker_transit(struct router_worker *w, struct pkt_buf *p, uint64_t now_ns);

#endif
