/*
 * A worker as a hub (docs/protocol.md "Hub", docs/decisions/0011-hub.md; part of
 * router_worker.h, the worker's inside in router_worker_int.h): a session from one
 * peer for a service routed to another goes on as a second leg through the tenant's
 * transit zone.
 */
#include "router/router_worker.h"
#include "router/router_worker_int.h"

#include <errno.h>
#include <string.h>

#include "pkt/pkt_parse.h"
#include "policy/policy_limits.h"
#include "router/router_fw.h"
#include "router/router_learn.h"
#include "svr/svr_meta.h"

/*
 * A new session from a peer (on path) for svc, which this router routes to another
 * peer: this router is the hub, the egress of the arriving leg and the ingress of the
 * next. The same zero trust as for a LAN service: the tenant named in the metadata must
 * be allowed to reach svc by this router's own rules, and the destination must be the
 * service. Never back to the peer it came from (the simplest loop). Accepted, the leg
 * delivers into the tenant's transit zone (router_worker_transit()).
 */
int
router_worker_transit_accept(struct router_worker *w, size_t path, const struct svr_meta *m,
    const struct router_config_service *svc, struct svr_accept *accept,
    enum pkt_drop_reason *reason)
{
	const struct router_config *cfg = w->cfg;
	uint32_t svc_id = (uint32_t)(svc - cfg->services);
	uint32_t t = router_worker_meta_tenant(w, m);
	struct policy_decision d;

	if (cfg->paths[path].peer_id == svc->route_id) {
		*reason = PKT_DROP_ROUTER_HUB_LOOP;
		return -ELOOP;
	}
	if (t == ROUTER_LEARN_TENANT_NONE) {
		*reason = PKT_DROP_POLICY_NO_TENANT;
		return -EACCES;
	}
	if (policy_decide_rules(w->ingress_policy, t, svc_id, &d) < 0) {
		*reason = router_worker_policy_reason(d.verdict);
		return -EACCES;
	}
	if (svc->has_address ?
	        !addr_equal(&svc->address, &m->fwd_ctx.dst) :
	        svc->prefix_count > 0 && !router_worker_prefix_match(svc, &m->fwd_ctx.dst)) {
		*reason = PKT_DROP_POLICY_NO_SERVICE;
		return -EACCES;
	}
	memset(accept, 0, sizeof(*accept));
	accept->tenant_id = (uint16_t)(w->transit_first + t);
	accept->service_id = (uint16_t)svc_id;
	accept->path_id = (uint16_t)path;
	accept->encrypt = svc->encryption;
	accept->tcp_syn_required = true;
	accept->half_open_full =
	    router_fw_half_open_full(&w->fw, session_table_opening(w->svr.sessions));
	return 0;
}

/*
 * The ingress leg of a transit session whose egress leg (index from) just delivered p
 * into zone, the tenant's transit zone: same UUID, tenant and service, a path to the
 * service's peer by this router's policy, the tenant's limits. A packet that comes the
 * other way with no leg to go back on (its egress leg ended first) has nowhere to go.
 */
static enum svr_verdict
router_worker_transit_first(struct router_worker *w, struct pkt_buf *p, uint16_t zone,
    uint32_t from, uint64_t now_ns)
{
	const struct session *s = session_table_get(w->svr.sessions, from);
	const struct router_config_service *svc;
	struct svr_route route;
	uint8_t uuid[16];
	uint32_t tenant = w->slot_tenant[zone];
	enum svr_verdict v;
	int rc;

	if (s->role != SESSION_ROLE_EGRESS || s->tenant_id != zone ||
	    s->service_id >= w->cfg->service_count) {
		pkt_drop_count(&w->drops, PKT_DROP_ROUTER_HUB_NO_SESSION);
		return SVR_VERDICT_DROP;
	}
	svc = &w->cfg->services[s->service_id];
	rc = policy_limits_admit(w->limits, tenant, now_ns);
	if (rc < 0) {
		pkt_drop_count(&w->drops,
		    rc == -EBUSY ? PKT_DROP_POLICY_TENANT_RATE_LIMIT :
		                   PKT_DROP_POLICY_TENANT_SESSION_LIMIT);
		return SVR_VERDICT_DROP;
	}
	memset(&route, 0, sizeof(route));
	if (router_worker_peer_route(w, svc, router_worker_session_hash(s), &route) < 0) {
		policy_limits_release(w->limits, tenant);
		pkt_drop_count(&w->drops, PKT_DROP_SVR_NO_PATH);
		return SVR_VERDICT_DROP;
	}
	memcpy(uuid, s->uuid, sizeof(uuid));
	route.uuid = uuid;
	route.tenant_id = zone;
	route.service_id = s->service_id;
	w->first_released = false;
	v = svr_lan_first(&w->svr, p, zone, &route, now_ns);
	if (v != SVR_VERDICT_TO_WAN && !w->first_released)
		policy_limits_release(w->limits, tenant);
	return v;
}

/*
 * A packet a leg delivered into a transit zone (p->port is the zone's pseudo port,
 * p->user the leg's session): handed to the other leg as if it came from a LAN, by the
 * zone's own session keys (the egress leg's LAN key is the reply tuple, the ingress
 * leg's the forward tuple, so the two never collide). Sent, or dropped and counted.
 */
void
router_worker_transit(struct router_worker *w, struct pkt_buf *p, uint64_t now_ns)
{
	uint16_t zone = (uint16_t)(p->port - ROUTER_WORKER_TRANSIT_PORT_BASE);
	uint32_t from = p->user;
	enum pkt_drop_reason reason;
	enum svr_verdict v;

	/* The leg rewrote the packet: its parse (offsets, carried protocol) is redone. */
	if (pkt_parse(p, &reason) < 0) {
		router_worker_drop(w, p, reason);
		return;
	}
	svr_lan_rx_burst(&w->svr, &p, 1, zone, &v, now_ns);
	if (v == SVR_VERDICT_NEW_SESSION)
		v = router_worker_transit_first(w, p, zone, from, now_ns);
	if (v == SVR_VERDICT_TO_WAN && (w->svr.uuid_index == NULL || router_worker_nat_relay(w, p)))
		router_worker_send(w, p);
	else if (v != SVR_VERDICT_TO_WAN)
		pkt_pool_put(w->pool, p); /* dropped (counted) or consumed */
}

bool
router_worker_session_transit(struct router_worker *w, uint32_t index,
    struct router_worker_transit *out)
{
	const struct router_config *cfg = w->cfg;
	const struct session *s, *o;
	const struct session_key *k;
	struct session_key key;
	uint32_t peer;

	if (session_table_next(w->svr.sessions, index) != index)
		return false;
	s = session_table_get(w->svr.sessions, index);
	if ((s->flags & SVR_SESSION_ALIAS) || s->tenant_id < w->transit_first ||
	    s->tenant_id >= w->transit_first + cfg->tenant_count)
		return false;
	k = &s->lan_key;
	/* The other leg's LAN key is this one's reversed, in the same transit zone. */
	session_key_set(&key, k->family, k->proto, k->zone, k->dst, k->src, k->dport, k->sport);
	out->partner = session_table_lookup(w->svr.sessions, &key,
	    session_key_hash(w->svr.sessions, &key), NULL);
	o = out->partner != SESSION_INDEX_NONE ? session_table_get(w->svr.sessions, out->partner) :
	                                         NULL;
	peer = s->path_id < cfg->path_count ? cfg->paths[s->path_id].peer_id : UINT32_MAX;
	out->out = s->role == SESSION_ROLE_INGRESS;
	if (out->out) {
		out->to_peer = peer;
		out->from_peer = o != NULL && o->path_id < cfg->path_count ?
		    cfg->paths[o->path_id].peer_id :
		    UINT32_MAX;
	} else {
		out->from_peer = peer;
		out->to_peer = s->service_id < cfg->service_count ?
		    cfg->services[s->service_id].route_id :
		    UINT32_MAX;
	}
	return true;
}
