/*
 * A ternd data-plane worker (router_worker.h): its life (new, free), its packet passes
 * (poll, tick), NAT between routers, the learners' hooks and key operations. Access
 * policy, paths and hub transit are router_worker_policy.c, _paths.c and _hub.c; the
 * worker's inside is router_worker_int.h.
 */
#include "router/router_worker.h"
#include "router/router_worker_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "pkt/pkt_frag.h"
#include "io/io_afpacket.h"
#include "pkt/pkt_parse.h"
#include "policy/policy_engine.h"
#include "pkt/pkt_reset.h"
#include "policy/policy_limits.h"
#include "router/router_breakout.h"
#include "router/router_learn.h"
#include "router/router_fw.h"
#include "router/router_nat.h"
#include "svr/svr_meta.h"
#include "svr/svr_waypoint.h"

void
router_worker_drop(struct router_worker *w, struct pkt_buf *p, enum pkt_drop_reason reason)
{
	pkt_drop_count(&w->drops, reason);
	pkt_pool_put(w->pool, p);
}

bool
router_worker_nat_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

/* svr_session_release()'s hook (router_worker_int.h). */
void
router_worker_on_release(const struct session *s, void *arg)
{
	struct router_worker *w = arg;

	router_learn_session_end(w->learn, session_table_index(w->svr.sessions, s), s);
	if (s->role == SESSION_ROLE_INGRESS &&
	    s->tenant_id < w->transit_first + w->cfg->tenant_count) {
		policy_limits_release(w->limits, w->slot_tenant[s->tenant_id]);
		w->first_released = true;
		return;
	}
	if (!(s->flags & SVR_SESSION_NAT) || s->role != SESSION_ROLE_EGRESS ||
	    s->tenant_id >= w->cfg->lan_count || w->nat_ports[s->tenant_id] == NULL ||
	    memcmp(s->lan_key.dst, w->nat_addr[s->tenant_id].bytes, 16) != 0 ||
	    !router_worker_nat_ports(s->lan_key.proto))
		return;
	svr_waypoint_ports_put(w->nat_ports[s->tenant_id], s->lan_key.dport);
}

/* The learners' sizes (router_learn.h): a few MB in all. */
#define ROUTER_WORKER_DNS_ENTRIES 8192
#define ROUTER_WORKER_SNI_ENTRIES 4096
#define ROUTER_WORKER_APP_ENTRIES 4096
#define ROUTER_WORKER_DPI_PACKETS 8

/* ---- NAT between routers (router_nat.h) ------------------------------------------------- */

static int router_worker_path_of(const struct router_worker *w, uint16_t wan,
    const struct pkt_buf *p);

static void
router_worker_nat_op(struct router_worker *w, const struct router_worker_op *op)
{
	uint32_t path = op->path_id;

	if (path >= w->cfg->path_count)
		return;
	if (op->kind == ROUTER_WORKER_PATH_REMOTE) {
		/* Only a learn path moves: a configured remote is what the operator said. */
		if (!w->cfg->paths[path].remote_auto ||
		    op->remote.family != w->paths[path].local.family)
			return;
		w->paths[path].remote = op->remote;
		w->relay_port[path] = op->remote_port;
		return;
	}
	if (!w->cfg->paths[path].nat)
		return;
	router_nat_sweep_rebind(&w->nat_sweep, w->nat_rebind, (uint16_t)path, w->now_ns);
}

/* Sends the control packets svr made (keep-alives of the sweep) and empties the list. */
static void
router_worker_ctrl_send(struct router_worker *w)
{
	for (unsigned i = 0; i < w->svr.ctrl_out_count; i++)
		router_worker_send(w, w->svr.ctrl_out[i]);
	w->svr.ctrl_out_count = 0;
}

static void
router_worker_ctrl_flush(void *arg)
{
	router_worker_ctrl_send(arg);
}

/* Behind a NAT: keep-alives and re-binds (router_nat_sweep_run()), a bounded pass per tick. */
static void
router_worker_nat_sweep(struct router_worker *w, uint64_t now_ns)
{
	if (!w->behind_nat)
		return;
	(void)router_nat_sweep_run(&w->nat_sweep, &w->svr, w->nat_rebind, now_ns,
	    ROUTER_NAT_SWEEP_BUDGET, router_worker_ctrl_flush, w);
	router_worker_ctrl_send(w);
}

/*
 * A packet without metadata on an unknown tuple from a peer behind a NAT: its NAT gave
 * a session a new mapping. Asks it for metadata (svr_wan_enable_meta()), at most
 * ROUTER_NAT_ENABLE_BURST at once and one per ROUTER_NAT_ENABLE_NS after, per path, so
 * a flood of such packets costs the peer little. The packet itself is dropped by
 * svr_wan_decode() as any packet without metadata is (meta-required).
 */
static void
router_worker_nat_unknown(struct router_worker *w, uint16_t wan, const struct pkt_buf *p,
    uint64_t now_ns)
{
	const struct pkt_info *info = &p->info;
	int path;
	uint64_t *t;

	if ((info->flags & PKT_INFO_FRAGMENT) || !(info->flags & PKT_INFO_HAS_PORTS) ||
	    svr_meta_has_cookie(p->buf + p->head + info->payload_off,
	        (size_t)info->ip_len - info->payload_off))
		return;
	path = router_worker_path_of(w, wan, p);
	if (path < 0 || !w->paths[path].learn)
		return;
	/* A token bucket kept as a time: the moment it would be full again. */
	t = &w->nat_enable_full_ns[path];
	if (*t < now_ns)
		*t = now_ns;
	if (*t - now_ns > (ROUTER_NAT_ENABLE_BURST - 1) * ROUTER_NAT_ENABLE_NS)
		return;
	*t += ROUTER_NAT_ENABLE_NS;
	svr_wan_enable_meta(&w->svr, p, (uint16_t)path);
}

/*
 * Relays unwrapped in place (router_nat.h); the others stay. Returns the packets kept.
 */
static unsigned
router_worker_nat_unrelay(struct router_worker *w, struct pkt_buf **bufs, unsigned n)
{
	enum pkt_drop_reason reason;
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++) {
		if (router_nat_is_relay(bufs[i]) && router_nat_relay_unwrap(bufs[i], &reason) < 0) {
			router_worker_drop(w, bufs[i], reason);
			continue;
		}
		bufs[k++] = bufs[i];
	}
	return k;
}

/*
 * Toward a peer behind a NAT, the session's own mapping does not exist until the peer
 * answers on it: until then (forward metadata still due) its packets go by the peer's
 * probe mapping, wrapped (router_nat.h). False: p was dropped (counted).
 */
bool
router_worker_nat_relay(struct router_worker *w, struct pkt_buf *p)
{
	struct session *s = session_table_get(w->svr.sessions, p->user);
	enum pkt_drop_reason reason;
	uint16_t path;

	if (s == NULL || s->role != SESSION_ROLE_INGRESS || !(s->flags & SVR_SESSION_FWD_META))
		return true;
	path = s->path_id;
	if (path >= w->cfg->path_count || !w->paths[path].learn)
		return true;
	if (w->relay_port[path] == 0) {
		router_worker_drop(w, p, PKT_DROP_NAT_RELAY_NO_PORT);
		return false;
	}
	if (router_nat_relay_wrap(p, w->relay_port[path], w->paths[path].mtu, &reason) < 0) {
		router_worker_drop(w, p, reason);
		return false;
	}
	return true;
}

/*
 * The breakout table when a service breaks out: as many sessions as the NAT ports of
 * every WAN link allow (one even port per session), within the router's session limit.
 */
static int
router_worker_breakout_new(struct router_worker *w, const struct session_table_config *scfg,
    uint64_t now_ns)
{
	const struct router_config *cfg = w->cfg;
	struct addr *addrs;
	uint64_t capacity;
	bool any = false;
	int rc;

	for (size_t i = 0; i < cfg->service_count; i++)
		any |= cfg->services[i].route_kind == ROUTER_CONFIG_ROUTE_BREAKOUT;
	if (!any || cfg->wan_count == 0)
		return 0;
	capacity =
	    (uint64_t)cfg->wan_count * ((IO_AFPACKET_PORT_LAST - SVR_WAYPOINT_PORT_FIRST + 1) / 2);
	if (capacity > cfg->sessions_max)
		capacity = cfg->sessions_max;
	addrs = calloc(cfg->wan_count, sizeof(*addrs));
	if (addrs == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->wan_count; i++)
		addrs[i] = cfg->wans[i].waypoint;
	rc = router_breakout_new(scfg, (uint32_t)capacity, addrs, cfg->wan_count,
	    SVR_WAYPOINT_PORT_FIRST, IO_AFPACKET_PORT_LAST, now_ns, &w->breakout);
	free(addrs);
	return rc;
}

/* ---- names, applications and statistics (router_learn.h) ------------------------------ */

/* A packet of a session under inspection, as it is on the LAN (untransformed). */
static void
router_worker_learn_packet(struct router_worker *w, const struct pkt_buf *p, struct session *s,
    uint32_t index, bool lan_to_wan)
{
	const struct pkt_info *info = &p->info;
	const uint8_t *l3 = p->buf + p->head;
	bool ingress = s->role == SESSION_ROLE_INGRESS;
	struct addr server;
	size_t plen;

	if (info->ip_len > p->len || info->payload_off > info->ip_len) {
		s->flags &= ~SVR_SESSION_INSPECT;
		return;
	}
	plen = (size_t)info->ip_len - info->payload_off;
	if (s->lan_key.family == ADDR_FAMILY_V4)
		addr_set_v4(&server, s->lan_key.dst);
	else
		addr_set_v6(&server, s->lan_key.dst);
	if (!router_learn_inspect(w->learn, index, l3, info->ip_len, l3 + info->payload_off, plen,
	        lan_to_wan == ingress, ingress, s->lan_key.zone, &server, s->lan_key.proto,
	        s->lan_key.dport, w->now_ns))
		s->flags &= ~SVR_SESSION_INSPECT;
}

/* svr's inspect hook: a LAN packet of a session flagged SVR_SESSION_INSPECT. */
static void
router_worker_inspect(struct svr_router *rt, const struct pkt_buf *p, struct session *s,
    uint32_t index, void *arg)
{
	(void)rt;
	router_worker_learn_packet(arg, p, s, index, true);
}

/*
 * A session was just made at index from the packet whose nDPI slot is slot: record it
 * (tenant, service) and start inspecting it if there is anything to learn.
 */
static void
router_worker_learn_start(struct router_worker *w, uint32_t index, uint32_t tenant,
    uint32_t service, uint32_t slot, uint16_t app)
{
	struct session *s = session_table_get(w->svr.sessions, index);

	if (s == NULL) {
		router_learn_first_abort(w->learn, slot);
		return;
	}
	if (router_learn_session_start(w->learn, index, (uint16_t)tenant, (uint16_t)service,
	        s->role == SESSION_ROLE_INGRESS && s->lan_key.proto == IPPROTO_TCP, slot, app))
		s->flags |= SVR_SESSION_INSPECT;
}

/*
 * A packet delivered to a LAN host: the DNS learner reads answers to the host's
 * queries (UDP from port 53 on a session it began), and an inspected session's packet
 * goes to the application learner.
 */
static void
router_worker_learn_to_lan(struct router_worker *w, struct pkt_buf *p)
{
	struct session *s = session_table_get(w->svr.sessions, p->user);
	enum pkt_drop_reason reason;
	uint16_t tenant, service, app;

	if (s == NULL)
		return;
	if (s->role == SESSION_ROLE_INGRESS && s->lan_key.proto == IPPROTO_UDP &&
	    s->lan_key.dport == 53) {
		/* The transform may have moved the headers: parse the delivered packet. */
		router_learn_session_get(w->learn, p->user, &tenant, &service, &app);
		if (tenant != ROUTER_LEARN_TENANT_NONE && pkt_parse(p, &reason) == 0 &&
		    p->info.l4_proto == IPPROTO_UDP && !(p->info.flags & PKT_INFO_FRAGMENT))
			router_learn_dns_answer(w->learn, tenant,
			    p->buf + p->head + p->info.payload_off,
			    (size_t)p->info.ip_len - p->info.payload_off, w->now_ns);
	}
	if (s->flags & SVR_SESSION_INSPECT)
		router_worker_learn_packet(w, p, s, p->user, false);
}

int
router_worker_new(const struct router_config *cfg, struct io_port *const *lan_ports,
    struct io_port *const *wan_ports, struct pkt_pool *pool, uint64_t now_ns,
    struct router_worker **out)
{
	struct session_table_config scfg;
	struct pkt_frag_config fcfg;
	struct router_worker *w;
	const uint64_t s = 1000000000ull;
	size_t i;
	int rc = -ENOMEM;

	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->cfg = cfg;
	w->now_ns = now_ns;
	w->pool = pool;
	w->lan_ports = lan_ports;
	w->wan_ports = wan_ports;
	w->port_count = (unsigned)(cfg->lan_count + cfg->wan_count);
	session_table_config_default(&scfg, cfg->sessions_max);
	scfg.timeout_ns[SESSION_TIMEOUT_TCP_OPENING] = cfg->timeouts.tcp_opening_s * s;
	scfg.timeout_ns[SESSION_TIMEOUT_TCP_ESTABLISHED] = cfg->timeouts.tcp_established_s * s;
	scfg.timeout_ns[SESSION_TIMEOUT_TCP_CLOSING] = cfg->timeouts.tcp_closing_s * s;
	scfg.timeout_ns[SESSION_TIMEOUT_UDP] = cfg->timeouts.udp_s * s;
	scfg.timeout_ns[SESSION_TIMEOUT_ICMP] = cfg->timeouts.icmp_s * s;
	w->svr.sessions = session_table_new(&scfg, now_ns);
	pkt_frag_config_default(&fcfg);
	w->frag = pkt_frag_table_new(&fcfg, pool);
	w->paths = calloc(cfg->path_count ? cfg->path_count : 1, sizeof(*w->paths));
	w->slot_count = (uint32_t)cfg->lan_count;
	for (i = 0; i < cfg->lan_count; i++)
		w->slot_count += (uint32_t)cfg->lans[i].tenant_count;
	w->transit_first = w->slot_count;
	/* svr's tenant ids are 16 bits and LAN zones stay below the alias and WAN zones. */
	if (w->slot_count + cfg->tenant_count >= SVR_ALIAS_ZONE) {
		rc = -EINVAL;
		goto fail;
	}
	w->tenant_names = calloc(w->slot_count + cfg->tenant_count + 1, sizeof(char *));
	w->slot_tenant = calloc(w->slot_count + cfg->tenant_count + 1, sizeof(uint32_t));
	w->slot_first = calloc(cfg->lan_count + 1, sizeof(uint32_t));
	w->lan_port_ids = calloc(w->slot_count + cfg->tenant_count + 1, sizeof(uint32_t));
	w->service_names = calloc(cfg->service_count ? cfg->service_count : 1, sizeof(char *));
	w->tx = calloc((size_t)w->port_count * ROUTER_WORKER_BURST * 2 + 1, sizeof(*w->tx));
	w->tx_count = calloc(w->port_count + 1, sizeof(*w->tx_count));
	w->nat_addr = calloc(cfg->lan_count ? cfg->lan_count : 1, sizeof(*w->nat_addr));
	w->nat_ports = calloc(cfg->lan_count ? cfg->lan_count : 1, sizeof(*w->nat_ports));
	w->peer_keys = calloc(cfg->peer_count ? cfg->peer_count : 1, sizeof(*w->peer_keys));
	if (w->peer_keys == NULL || router_worker_paths_new(w) < 0)
		goto fail;
	rc = router_worker_policies_new(w);
	if (rc < 0)
		goto fail;
	rc = -ENOMEM;
	{
		struct router_learn_config lc = {.sessions = cfg->sessions_max,
		    .tenants = (uint32_t)cfg->tenant_count,
		    .services = (uint32_t)cfg->service_count,
		    .dns_entries = ROUTER_WORKER_DNS_ENTRIES,
		    .sni_entries = ROUTER_WORKER_SNI_ENTRIES,
		    .app_entries = ROUTER_WORKER_APP_ENTRIES,
		    .dpi_flows = cfg->sessions_max < cfg->inspected_max ? cfg->sessions_max :
		                                                          cfg->inspected_max,
		    .dpi_packets = ROUTER_WORKER_DPI_PACKETS};

		w->learn = router_learn_new(&lc);
		if (w->learn == NULL)
			goto fail;
	}
	for (i = 0; i < cfg->peer_count; i++)
		svr_peer_keys_init(&w->peer_keys[i]);
	if (w->svr.sessions == NULL || w->frag == NULL || w->paths == NULL ||
	    w->tenant_names == NULL || w->lan_port_ids == NULL || w->service_names == NULL ||
	    w->slot_tenant == NULL || w->slot_first == NULL || w->tx == NULL ||
	    w->tx_count == NULL || w->nat_addr == NULL || w->nat_ports == NULL)
		goto fail;
	for (i = 0; i < cfg->lan_count; i++) {
		uint32_t slot = (uint32_t)cfg->lan_count;

		for (size_t l = 0; l < i; l++)
			slot += (uint32_t)cfg->lans[l].tenant_count;
		w->slot_first[i] = slot;
		for (size_t j = 0; j < cfg->lans[i].tenant_count; j++, slot++) {
			w->slot_tenant[slot] = cfg->lans[i].tenants[j].tenant_id;
			w->tenant_names[slot] = cfg->tenants[w->slot_tenant[slot]].name;
			w->lan_port_ids[slot] = (uint32_t)i;
		}
		w->slot_tenant[i] = cfg->lans[i].tenant_id;
		w->tenant_names[i] = cfg->tenants[cfg->lans[i].tenant_id].name;
		w->lan_port_ids[i] = (uint32_t)i;
		if (!cfg->lans[i].has_nat_pool)
			continue;
		/* The pool's first host address; its ports are handed out per session. */
		w->nat_addr[i] = cfg->lans[i].nat_pool.addr;
		w->nat_addr[i].bytes[addr_bits(&w->nat_addr[i]) / 8 - 1] |= 1;
		w->nat_ports[i] = svr_waypoint_ports_new(1024, 65535);
		if (w->nat_ports[i] == NULL)
			goto fail;
	}
	for (i = 0; i < cfg->tenant_count; i++) {
		uint32_t slot = w->transit_first + (uint32_t)i;

		w->slot_tenant[slot] = (uint32_t)i;
		w->tenant_names[slot] = cfg->tenants[i].name;
		w->lan_port_ids[slot] = ROUTER_WORKER_TRANSIT_PORT_BASE + slot;
	}
	for (i = 0; i < cfg->service_count; i++)
		w->service_names[i] = cfg->services[i].name;
	for (i = 0; i < cfg->path_count; i++) {
		const struct router_config_path *cp = &cfg->paths[i];
		struct svr_path *sp = &w->paths[i];

		sp->local = cfg->wans[cp->wan_id].waypoint;
		sp->remote = cp->remote;
		if (sp->local.family != sp->remote.family) {
			rc = -EINVAL;
			goto fail;
		}
		sp->wan_zone = (uint16_t)(SESSION_ZONE_WAN | cp->wan_id);
		sp->wan_port = ROUTER_WORKER_WAN_PORT_BASE + cp->wan_id;
		sp->name = cp->name;
		sp->peer_id = (uint16_t)cp->peer_id;
		sp->udp_transform = cp->udp_transform;
		sp->udp_transform_detect = cp->udp_transform_auto;
		sp->learn = cp->remote_auto;
		sp->behind_nat = cp->nat;
		w->behind_nat |= cp->nat;
		/* Ingress sessions toward a peer behind a NAT are found by UUID (re-binds). */
		if (cp->remote_auto && w->svr.uuid_index == NULL &&
		    (w->svr.uuid_index = hash_new(cfg->sessions_max, 16, 0)) == NULL)
			goto fail;
		sp->mtu = ROUTER_WAN_MTU;
		sp->ports = svr_waypoint_ports_new(SVR_WAYPOINT_PORT_FIRST, 65535);
		if (sp->ports == NULL)
			goto fail;
	}
	w->svr.drops = &w->drops;
	w->svr.pool = pool;
	w->svr.name = cfg->name;
	w->svr.tenant_names = w->tenant_names;
	w->svr.tenant_count = (uint16_t)(w->slot_count + cfg->tenant_count);
	w->svr.service_names = w->service_names;
	w->svr.service_count = (uint16_t)cfg->service_count;
	w->svr.paths = w->paths;
	w->svr.path_count = (uint16_t)cfg->path_count;
	w->svr.lan_ports = w->lan_port_ids;
	w->svr.path_pick = router_worker_path_pick;
	w->svr.dup_path_pick = router_worker_dup_path_pick;
	w->svr.path_pick_arg = w;
	router_fw_init(&w->fw, &cfg->firewall, now_ns);
	w->svr.on_udp_transform_detected = router_worker_on_udp_transform;
	w->svr.udp_transform_arg = w;
	w->svr.security = cfg->security.private_key_file != NULL;
	w->svr.peer_keys = w->peer_keys;
	w->svr.peer_count = (uint16_t)cfg->peer_count;
	/*
	 * With encryption a full-size segment grows by the trailer and, once, a decision
	 * signal: the host MTU (the TUN's) keeps room for both, and clamping the MSS to it
	 * spares every session a round of PMTU discovery. Without security the SYN is left
	 * exactly as the host sent it.
	 */
	if (w->svr.security) {
		w->svr.tcp_mss_max[0] = ROUTER_HOST_MTU - 20 - 20;
		w->svr.tcp_mss_max[1] = ROUTER_HOST_MTU - 40 - 20;
	}
	w->svr.inspect = router_worker_inspect;
	w->svr.inspect_arg = w;
	w->svr.on_release = router_worker_on_release;
	w->svr.release_arg = w;
	rc = svr_router_seed(&w->svr);
	if (rc == 0)
		rc = router_worker_breakout_new(w, &scfg, now_ns);
	if (rc < 0)
		goto fail;
	*out = w;
	return 0;
fail:
	router_worker_free(w);
	return rc;
}

void
router_worker_free(struct router_worker *w)
{
	if (w == NULL)
		return;
	for (unsigned port = 0; w->tx_count != NULL && port < w->port_count; port++)
		for (unsigned i = 0; i < w->tx_count[port]; i++)
			pkt_pool_put(w->pool, w->tx[port * ROUTER_WORKER_BURST * 2 + i]);
	for (size_t i = 0; w->paths != NULL && i < w->cfg->path_count; i++)
		svr_waypoint_ports_free(w->paths[i].ports);
	for (size_t i = 0; w->nat_ports != NULL && i < w->cfg->lan_count; i++)
		svr_waypoint_ports_free(w->nat_ports[i]);
	for (size_t i = 0; w->peer_keys != NULL && i < w->cfg->peer_count; i++)
		svr_peer_keys_fini(&w->peer_keys[i]);
	free(w->peer_keys);
	policy_free(w->ingress_policy);
	policy_free(w->egress_policy);
	policy_limits_free(w->limits);
	free(w->implicit_rule_service);
	for (size_t i = 0; w->vector_costs != NULL && i < w->cfg->policy_count; i++)
		free(w->vector_costs[i]);
	free(w->vector_costs);
	free(w->policies);
	free(w->path_costs);
	free(w->metrics);
	free(w->sla_broken);
	free(w->sweep_due);
	free(w->sweep_kind);
	free(w->sweep_base);
	free(w->revert_at);
	free(w->relay_port);
	free(w->nat_rebind);
	free(w->nat_enable_full_ns);
	hash_free(w->svr.uuid_index);
	free(w->log);
	free(w->sla_log);
	free(w->nat_ports);
	free(w->nat_addr);
	pkt_frag_table_free(w->frag);
	session_table_free(w->svr.sessions);
	router_learn_free(w->learn);
	free(w->paths);
	router_breakout_free(w->breakout);
	free(w->tenant_names);
	free(w->slot_tenant);
	free(w->slot_first);
	free(w->lan_port_ids);
	free(w->service_names);
	free(w->tx);
	free(w->tx_count);
	free(w);
}

/* Index of an output port in the tx arrays: LANs first, then WANs; -1 if none. */
static int
router_worker_out_index(const struct router_worker *w, uint32_t port_id)
{
	if (port_id < w->cfg->lan_count)
		return (int)port_id;
	if (port_id >= ROUTER_WORKER_WAN_PORT_BASE &&
	    port_id - ROUTER_WORKER_WAN_PORT_BASE < w->cfg->wan_count)
		return (int)(w->cfg->lan_count + (port_id - ROUTER_WORKER_WAN_PORT_BASE));
	return -1;
}

static void
router_worker_flush(struct router_worker *w, unsigned out)
{
	struct pkt_buf **bufs = &w->tx[out * ROUTER_WORKER_BURST * 2];
	struct io_port *port =
	    out < w->cfg->lan_count ? w->lan_ports[out] : w->wan_ports[out - w->cfg->lan_count];
	unsigned n = w->tx_count[out], sent;

	w->tx_count[out] = 0;
	if (n == 0)
		return;
	sent = io_tx_burst(port, bufs, n);
	for (unsigned i = sent; i < n; i++)
		router_worker_drop(w, bufs[i], PKT_DROP_IO_TX_FULL);
}

/* Queues p for its output port (p->port), sending when the queue is full. */
void
router_worker_send(struct router_worker *w, struct pkt_buf *p)
{
	int out = router_worker_out_index(w, p->port);

	if (out < 0) {
		router_worker_drop(w, p, PKT_DROP_IO_NO_PORT);
		return;
	}
	if (w->tx_count[out] == ROUTER_WORKER_BURST * 2)
		router_worker_flush(w, (unsigned)out);
	w->tx[(unsigned)out * ROUTER_WORKER_BURST * 2 + w->tx_count[out]++] = p;
}

/*
 * Parses a received burst in place, keeping the packets that are whole (fragments go
 * to the reassembly table and come back complete). Returns how many remain.
 */
static unsigned
router_worker_parse(struct router_worker *w, struct pkt_buf **bufs, unsigned n, uint64_t now_ns)
{
	enum pkt_drop_reason reason;
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++) {
		struct pkt_buf *p = bufs[i], *whole = NULL;

		if (pkt_parse(p, &reason) < 0) {
			router_worker_drop(w, p, reason);
			continue;
		}
		if (p->info.flags & PKT_INFO_FRAGMENT) {
			/* The table owns the fragment now, whatever it answers. */
			if (pkt_frag_input(w->frag, p, now_ns, &whole, &reason) < 0) {
				pkt_drop_count(&w->drops, reason);
				continue;
			}
			if (whole == NULL)
				continue;
			p = whole;
		}
		bufs[k++] = p;
	}
	return k;
}

/* The path whose remote sent p on WAN wan, or -1. */
static int
router_worker_path_of(const struct router_worker *w, uint16_t wan, const struct pkt_buf *p)
{
	struct addr src;

	pkt_info_src(&p->info, p->buf + p->head, &src);
	for (size_t i = 0; i < w->cfg->path_count; i++)
		if (w->cfg->paths[i].wan_id == wan && addr_equal(&w->paths[i].remote, &src))
			return (int)i;
	return -1;
}

/* A new session's first packet, as on the LAN, to the application learner. */
static uint32_t
router_worker_learn_first(struct router_worker *w, const struct pkt_buf *p, uint16_t *app)
{
	size_t len = p->info.ip_len <= p->len ? p->info.ip_len : p->len;

	return router_learn_first(w->learn, p->buf + p->head, len, w->now_ns, app);
}

/*
 * The firewall answers a TCP segment without a session with a reset toward the host on
 * LAN segment lan (its buffer from the pool; none free: no reset, the drop still counts).
 */
static void
router_worker_reset(struct router_worker *w, const struct pkt_buf *p, uint16_t lan)
{
	struct pkt_buf *r = pkt_pool_get(w->pool);

	if (r == NULL)
		return;
	if (pkt_tcp_reset_build(p, r) < 0) {
		pkt_pool_put(w->pool, r);
		return;
	}
	r->port = lan;
	router_worker_send(w, r);
}

/* A packet of breakout session index from the LAN: translated, out by its WAN link. */
static void
router_worker_breakout_out(struct router_worker *w, struct pkt_buf *p, uint32_t index,
    uint64_t now_ns)
{
	p->port = ROUTER_WORKER_WAN_PORT_BASE + router_breakout_out(w->breakout, p, index, now_ns);
	router_worker_send(w, p);
}

/*
 * A packet from LAN segment lan that SVR does not know: a breakout session's, or the
 * first of a new session (classified: to a peer through svr, or a new breakout).
 * Returns true when it is dealt with here (sent or dropped), false to go on with svr's
 * verdict in *verdict.
 */
static bool
router_worker_lan_new(struct router_worker *w, uint16_t lan, struct pkt_buf *p,
    enum svr_verdict *verdict, uint64_t now_ns)
{
	struct svr_route route;
	enum pkt_drop_reason reason;
	enum router_fw_verdict fw;
	uint32_t index, tenant, slot;
	uint16_t app;
	int rc;

	if (w->breakout != NULL) {
		index = router_breakout_lan_lookup(w->breakout, p, lan);
		if (index != SESSION_INDEX_NONE) {
			router_worker_breakout_out(w, p, index, now_ns);
			return true;
		}
	}
	fw = router_fw_lan_new(&w->fw, p, session_table_opening(w->svr.sessions), now_ns, &reason);
	if (fw != ROUTER_FW_PASS) {
		if (fw == ROUTER_FW_RESET)
			router_worker_reset(w, p, lan);
		router_worker_drop(w, p, reason); /* the segment itself goes no further */
		return true;
	}
	rc = router_worker_classify(w, lan, p, &route, &tenant, &reason);
	if (rc < 0) {
		router_worker_drop(w, p, reason);
		return true;
	}
	if (rc == 1) {
		if (router_breakout_open(w->breakout, p, lan, route.path_id, route.tenant_id,
		        route.service_id, now_ns, &index, &reason) < 0) {
			policy_limits_release(w->limits, w->slot_tenant[route.tenant_id]);
			router_worker_drop(w, p, reason);
			return true;
		}
		router_worker_breakout_out(w, p, index, now_ns);
		return true;
	}
	/* nDPI sees the first packet as the host sent it, before the transform. */
	slot = router_worker_learn_first(w, p, &app);
	w->first_released = false;
	*verdict = svr_lan_first(&w->svr, p, lan, &route, now_ns);
	if (*verdict == SVR_VERDICT_TO_WAN)
		router_worker_learn_start(w, p->user, tenant, route.service_id, slot, app);
	else
		router_learn_first_abort(w->learn, slot);
	/* No session came of it, and none was released: give the place back. */
	if (*verdict != SVR_VERDICT_TO_WAN && !w->first_released)
		policy_limits_release(w->limits, w->slot_tenant[route.tenant_id]);
	return false;
}

static void
router_worker_lan_burst(struct router_worker *w, uint16_t lan, struct pkt_buf **bufs, unsigned n,
    uint64_t now_ns)
{
	enum svr_verdict verdicts[ROUTER_WORKER_BURST];

	svr_lan_rx_burst(&w->svr, bufs, n, lan, verdicts, now_ns);
	for (unsigned i = 0; i < n; i++) {
		if (verdicts[i] == SVR_VERDICT_NEW_SESSION &&
		    router_worker_lan_new(w, lan, bufs[i], &verdicts[i], now_ns))
			continue;
		if (verdicts[i] == SVR_VERDICT_TO_WAN) {
			if (w->svr.uuid_index == NULL || router_worker_nat_relay(w, bufs[i]))
				router_worker_send(w, bufs[i]);
		} else {
			pkt_pool_put(w->pool, bufs[i]); /* dropped (counted by svr) or consumed */
		}
	}
}

static void
router_worker_wan_burst(struct router_worker *w, uint16_t wan, struct pkt_buf **bufs, unsigned n,
    uint64_t now_ns)
{
	enum svr_verdict verdicts[ROUTER_WORKER_BURST];

	svr_wan_rx_burst(&w->svr, bufs, n, (uint16_t)(SESSION_ZONE_WAN | wan), verdicts, now_ns);
	for (unsigned i = 0; i < n; i++) {
		if (verdicts[i] == SVR_VERDICT_NEW_SESSION && w->breakout != NULL) {
			/* An answer to a breakout session: translated back to its host. */
			uint32_t index = router_breakout_wan_lookup(w->breakout, bufs[i], wan);

			if (index != SESSION_INDEX_NONE) {
				const struct session *s =
				    router_breakout_in(w->breakout, bufs[i], index, now_ns);

				bufs[i]->port = w->lan_port_ids[s->tenant_id];
				router_worker_send(w, bufs[i]);
				continue;
			}
		}
		if (verdicts[i] == SVR_VERDICT_NEW_SESSION) {
			struct svr_meta m;
			struct svr_accept accept;
			enum pkt_drop_reason reason;

			verdicts[i] = SVR_VERDICT_DROP;
			if (w->svr.uuid_index != NULL)
				router_worker_nat_unknown(w, wan, bufs[i], now_ns);
			if (svr_wan_decode(&w->svr, bufs[i], &m) < 0) {
				pkt_pool_put(w->pool, bufs[i]); /* counted by svr */
				continue;
			}
			if (!(m.present & SVR_META_F_FWD_CTX)) {
				/* A keep-alive from an egress behind a NAT (router_nat.h). */
				int path = router_worker_path_of(w, wan, bufs[i]);

				if (path < 0) {
					router_worker_drop(w, bufs[i],
					    PKT_DROP_ROUTER_UNKNOWN_PEER);
					continue;
				}
				verdicts[i] = svr_wan_rebind_ingress(&w->svr, bufs[i], &m,
				    (uint16_t)path, now_ns);
			} else {
				if (router_worker_accept(w, wan, bufs[i], &m, &accept, &reason) <
				    0) {
					router_worker_drop(w, bufs[i], reason);
					continue;
				}
				verdicts[i] = svr_wan_first(&w->svr, bufs[i], &m, &accept, now_ns);
				if (verdicts[i] == SVR_VERDICT_TO_LAN &&
				    accept.tenant_id < w->transit_first) {
					uint16_t app;
					uint32_t slot = router_worker_learn_first(w, bufs[i], &app);

					router_worker_learn_start(w, bufs[i]->user,
					    router_worker_meta_tenant(w, &m), accept.service_id,
					    slot, app);
				}
				/* No session took the NAT port: give it back. */
				if (verdicts[i] == SVR_VERDICT_DROP && accept.client != NULL &&
				    router_worker_nat_ports(m.fwd_ctx.proto))
					svr_waypoint_ports_put(w->nat_ports[accept.tenant_id],
					    accept.client_port);
			}
		}
		if (verdicts[i] == SVR_VERDICT_TO_LAN &&
		    bufs[i]->port >= ROUTER_WORKER_TRANSIT_PORT_BASE) {
			router_worker_transit(w, bufs[i], now_ns);
		} else if (verdicts[i] == SVR_VERDICT_TO_LAN) {
			router_worker_learn_to_lan(w, bufs[i]);
			router_worker_send(w, bufs[i]);
		} else {
			pkt_pool_put(w->pool, bufs[i]);
		}
	}
}

unsigned
router_worker_poll(struct router_worker *w, uint64_t now_ns)
{
	struct pkt_buf *bufs[ROUTER_WORKER_BURST];
	unsigned total = 0, n;

	w->now_ns = now_ns;
	for (size_t lan = 0; lan < w->cfg->lan_count; lan++) {
		n = io_rx_burst(w->lan_ports[lan], bufs, ROUTER_WORKER_BURST);
		total += n;
		n = router_worker_parse(w, bufs, n, now_ns);
		router_worker_lan_burst(w, (uint16_t)lan, bufs, n, now_ns);
	}
	for (size_t wan = 0; wan < w->cfg->wan_count; wan++) {
		n = io_rx_burst(w->wan_ports[wan], bufs, ROUTER_WORKER_BURST);
		total += n;
		n = router_worker_parse(w, bufs, n, now_ns);
		if (w->behind_nat)
			n = router_worker_nat_unrelay(w, bufs, n);
		router_worker_wan_burst(w, (uint16_t)wan, bufs, n, now_ns);
	}
	/* Acknowledgements of protection decisions still owed become control packets. */
	svr_router_flush(&w->svr);
	for (unsigned i = 0; i < w->svr.ctrl_out_count; i++)
		router_worker_send(w, w->svr.ctrl_out[i]);
	w->svr.ctrl_out_count = 0;
	for (unsigned out = 0; out < w->port_count; out++)
		router_worker_flush(w, out);
	return total;
}

/* A breakout session ended: its tenant's place goes back. */
static void
router_worker_breakout_end(const struct session *s, void *arg)
{
	struct router_worker *w = arg;

	if (s->tenant_id < w->slot_count)
		policy_limits_release(w->limits, w->slot_tenant[s->tenant_id]);
}

static void
router_worker_on_expire(struct session *s, uint32_t index, void *arg)
{
	(void)index;
	svr_session_release(arg, s);
}

void
router_worker_tick(struct router_worker *w, uint64_t now_ns)
{
	unsigned stale;
	w->now_ns = now_ns;
	session_table_expire(w->svr.sessions, now_ns, router_worker_on_expire, &w->svr);
	if (w->breakout != NULL)
		router_breakout_expire(w->breakout, now_ns, router_worker_breakout_end, w);
	router_worker_sweep(w, now_ns);
	router_worker_nat_sweep(w, now_ns);
	for (unsigned i = 0; i < w->svr.ctrl_out_count; i++)
		router_worker_send(w, w->svr.ctrl_out[i]);
	w->svr.ctrl_out_count = 0;
	for (unsigned out = 0; out < w->port_count; out++)
		router_worker_flush(w, out);
	stale = pkt_frag_expire(w->frag, now_ns);
	w->drops.count[PKT_DROP_FRAG_TIMEOUT] += stale;
}

const struct pkt_drop_counters *
router_worker_drops(const struct router_worker *w)
{
	return &w->drops;
}

const char *
router_worker_session_tenant(const struct router_worker *w, const struct session *s)
{
	uint16_t tenant = ROUTER_LEARN_TENANT_NONE, service, app;

	/* An egress slot is the segment it delivers to; the tenant is the one that asked. */
	if (s->role == SESSION_ROLE_EGRESS && s->tenant_id < w->transit_first && w->learn != NULL)
		router_learn_session_get(w->learn, session_table_index(w->svr.sessions, s), &tenant,
		    &service, &app);
	if (tenant < w->cfg->tenant_count)
		return w->cfg->tenants[tenant].name;
	return s->tenant_id < w->transit_first + w->cfg->tenant_count ?
	    w->tenant_names[s->tenant_id] :
	    "?";
}

const char *
router_worker_session_segment(const struct router_worker *w, const struct session *s)
{
	return s->tenant_id < w->transit_first ? w->cfg->lans[w->lan_port_ids[s->tenant_id]].name :
	                                         NULL;
}

struct session_table *
router_worker_breakout_sessions(struct router_worker *w)
{
	return w->breakout != NULL ? router_breakout_sessions(w->breakout) : NULL;
}

struct session_table *
router_worker_sessions(struct router_worker *w)
{
	return w->svr.sessions;
}

const struct session *
router_worker_session_alias(struct router_worker *w, uint32_t index)
{
	uint32_t ai = svr_session_alias(&w->svr, index);

	return ai == SESSION_INDEX_NONE ? NULL : session_table_get(w->svr.sessions, ai);
}

const struct svr_stats *
router_worker_svr_stats(const struct router_worker *w)
{
	return &w->svr.stats;
}

void
router_worker_op_apply(struct router_worker *w, const struct router_worker_op *op)
{
	struct crypto_aead *freed[SVR_KEYS_CTX_MAX];
	struct svr_peer_keys *k;
	unsigned n = 0;

	if (op->kind == ROUTER_WORKER_PATH_STATE || op->kind == ROUTER_WORKER_PATH_METRICS) {
		router_worker_path_op(w, op);
		return;
	}
	if (op->kind == ROUTER_WORKER_NAME_RESOLVED) {
		if (op->name != NULL)
			router_worker_resolved(w, op->name, &op->addr, op->ttl_s);
		return;
	}
	if (op->kind == ROUTER_WORKER_PATH_REMOTE || op->kind == ROUTER_WORKER_PATH_REBIND) {
		router_worker_nat_op(w, op);
		return;
	}
	if (op->peer_id >= w->cfg->peer_count) {
		crypto_aead_free(op->aead);
		return;
	}
	k = &w->peer_keys[op->peer_id];
	switch (op->kind) {
	case ROUTER_WORKER_KEY_INSTALL_RECV:
		freed[n++] = svr_peer_keys_install_recv(k, op->index, op->aead);
		break;
	case ROUTER_WORKER_KEY_INSTALL_SEND:
		freed[n++] = svr_peer_keys_install_send(k, op->index, op->aead);
		break;
	case ROUTER_WORKER_KEY_EXPIRE_RECV:
		freed[n++] = svr_peer_keys_expire_recv(k, op->index);
		break;
	case ROUTER_WORKER_KEY_EXPIRE_SEND:
		if (k->send.aead != NULL && k->send.peer_index == op->index)
			freed[n++] = svr_peer_keys_install_send(k, 0, NULL);
		break;
	case ROUTER_WORKER_KEY_CLEAR:
		svr_peer_keys_clear(k, freed, &n);
		break;
	default:
		break;
	}
	for (unsigned i = 0; i < n; i++)
		crypto_aead_free(freed[i]);
}

int
router_worker_keys_take(struct router_worker *w, struct router_worker *from)
{
	if (w->cfg->peer_count != from->cfg->peer_count)
		return -EINVAL;
	for (size_t i = 0; i < w->cfg->peer_count; i++) {
		svr_peer_keys_fini(&w->peer_keys[i]);
		w->peer_keys[i] = from->peer_keys[i];
		svr_peer_keys_init(&from->peer_keys[i]);
	}
	return 0;
}

uint64_t
router_worker_peer_sent(const struct router_worker *w, uint32_t peer_id)
{
	return peer_id < w->cfg->peer_count ? svr_peer_keys_send_count(&w->peer_keys[peer_id]) : 0;
}

const struct svr_peer_key_stats *
router_worker_peer_key_stats(const struct router_worker *w, uint32_t peer_id)
{
	return peer_id < w->cfg->peer_count ? &w->peer_keys[peer_id].stats : NULL;
}

struct router_learn *
router_worker_learn(const struct router_worker *w)
{
	return w->learn;
}

void
router_worker_resolved(struct router_worker *w, const char *name, const struct addr *addr,
    uint32_t ttl_s)
{
	router_learn_resolved(w->learn, name, addr, ttl_s, w->now_ns);
}
