/*
 * A reload's hand-over of live state from the old worker to the new one
 * (router_worker_adopt, docs/decisions/0012-reload-keeps-sessions.md).
 *
 * The new worker is made from the new snapshot like any other, so everything derived
 * from configuration (policies, limits, path selection, names, slots) is the new one's.
 * Then each live session of the old table is looked at once: its ids are indexes into
 * the old snapshot, so they are turned into names and back into the new snapshot's
 * indexes; the rules decide the (tenant, service) pair again; what passes is copied into
 * the new table with the ports it holds taken out of the new pools, and what does not
 * is counted under a reason and left behind, to be freed with the old worker. The
 * sessions move to new indexes, so everything keyed by index (duplicate legs' alias
 * keys, the UUID index, the learner's records) is re-made for the new index.
 */
#include <errno.h>
#include <string.h>

#include "dpi/dpi_app.h"
#include "lib/buf.h"
#include "lib/hash.h"
#include "pkt/pkt_frag.h"
#include "router/router_worker.h"
#include "router/router_worker_int.h"

const char *
router_reload_end_name(enum router_reload_end reason)
{
	static const char *const names[] = {
#define ROUTER_RELOAD_END_NAME(id, name) [ROUTER_RELOAD_END_##id] = name,
	    ROUTER_RELOAD_END_REASONS(ROUTER_RELOAD_END_NAME)
#undef ROUTER_RELOAD_END_NAME
	};

	return (unsigned)reason < ROUTER_RELOAD_END_COUNT ? names[reason] : "?";
}

static uint32_t
reload_service(const struct router_worker *w, const struct router_worker *old, uint16_t id)
{
	if (id >= old->cfg->service_count)
		return UINT32_MAX;
	for (size_t i = 0; i < w->cfg->service_count; i++)
		if (strcmp(w->cfg->services[i].name, old->cfg->services[id].name) == 0)
			return (uint32_t)i;
	return UINT32_MAX;
}

static uint32_t
reload_tenant(const struct router_worker *w, const struct router_worker *old, uint32_t id)
{
	if (id >= old->cfg->tenant_count)
		return UINT32_MAX;
	for (size_t i = 0; i < w->cfg->tenant_count; i++)
		if (strcmp(w->cfg->tenants[i].name, old->cfg->tenants[id].name) == 0)
			return (uint32_t)i;
	return UINT32_MAX;
}

/* A hub's transit slot (one per tenant, after the LAN slots). */
static bool
reload_transit(const struct router_worker *w, uint32_t slot)
{
	return slot >= w->transit_first && slot < w->transit_first + w->cfg->tenant_count;
}

/*
 * The new slot of an old one: the same segment with the same tenant, or the transit
 * slot of the tenant of the same name.
 */
static uint32_t
reload_slot(const struct router_worker *w, const struct router_worker *old, uint16_t slot)
{
	uint32_t lan, t;

	if (reload_transit(old, slot)) {
		t = reload_tenant(w, old, slot - old->transit_first);
		return t == UINT32_MAX ? UINT32_MAX : w->transit_first + t;
	}
	if (slot >= old->slot_count)
		return UINT32_MAX;
	lan = old->lan_port_ids[slot];
	if (lan >= w->cfg->lan_count || strcmp(old->cfg->lans[lan].name, w->cfg->lans[lan].name))
		return UINT32_MAX;
	for (uint32_t s = 0; s < w->slot_count; s++)
		if (w->lan_port_ids[s] == lan &&
		    (s < w->cfg->lan_count) == (slot < old->cfg->lan_count) &&
		    strcmp(w->tenant_names[s], old->tenant_names[slot]) == 0)
			return s;
	return UINT32_MAX;
}

/*
 * The new path of an old one: the same name, WAN, peer (by name) and remote waypoint (a
 * learnt one is handed over first, router_worker_adopt_paths), so the session's WAN key
 * stays the packets' tuple. *why says which it is not.
 */
static uint32_t
reload_path(const struct router_worker *w, const struct router_worker *old, uint16_t id,
    enum router_reload_end *why)
{
	const struct router_config_path *op, *np;
	uint32_t p;

	*why = ROUTER_RELOAD_END_PATH;
	if (id >= old->cfg->path_count)
		return UINT32_MAX;
	op = &old->cfg->paths[id];
	for (p = 0; p < w->cfg->path_count; p++)
		if (strcmp(w->cfg->paths[p].name, op->name) == 0)
			break;
	if (p == w->cfg->path_count)
		return UINT32_MAX;
	np = &w->cfg->paths[p];
	if (strcmp(w->cfg->peers[np->peer_id].name, old->cfg->peers[op->peer_id].name) != 0) {
		*why = ROUTER_RELOAD_END_PEER;
		return UINT32_MAX;
	}
	if (w->paths[p].wan_zone != old->paths[id].wan_zone ||
	    !addr_equal(&w->paths[p].local, &old->paths[id].local) ||
	    !addr_equal(&w->paths[p].remote, &old->paths[id].remote))
		return UINT32_MAX;
	return p;
}

/* Paths by name: what the prober said (state, measurements) and a learnt remote. */
static void
router_worker_adopt_paths(struct router_worker *w, const struct router_worker *old)
{
	for (size_t p = 0; p < w->cfg->path_count; p++)
		for (size_t o = 0; o < old->cfg->path_count; o++) {
			const struct router_config_path *np = &w->cfg->paths[p];
			const struct router_config_path *op = &old->cfg->paths[o];

			if (strcmp(np->name, op->name) != 0 || np->wan_id != op->wan_id)
				continue;
			if (np->remote_auto && op->remote_auto) {
				w->paths[p].remote = old->paths[o].remote;
				w->relay_port[p] = old->relay_port[o];
			}
			if (!addr_equal(&w->paths[p].remote, &old->paths[o].remote))
				continue;
			w->paths[p].state = old->paths[o].state;
			w->metrics[p] = old->metrics[o];
			router_worker_sla_settle(w, (uint32_t)p);
		}
}

/*
 * Peers by name: keys, send sequences and replay windows move, so a reload neither
 * reuses a sequence under a key nor accepts a replay the old window refused.
 */
static void
router_worker_adopt_keys(struct router_worker *w, struct router_worker *old)
{
	for (size_t p = 0; p < w->cfg->peer_count; p++)
		for (size_t o = 0; o < old->cfg->peer_count; o++) {
			if (strcmp(w->cfg->peers[p].name, old->cfg->peers[o].name) != 0)
				continue;
			svr_peer_keys_fini(&w->peer_keys[p]);
			w->peer_keys[p] = old->peer_keys[o];
			svr_peer_keys_init(&old->peer_keys[o]);
		}
}

/* Where an ended session's count goes. */
static void
reload_end(struct router_worker_reload_stats *st, enum router_reload_end why)
{
	st->ended[why]++;
}

/*
 * The second leg of a duplicated session, to the new primary index: its alias keys name
 * the primary's index, and an ingress leg holds a pair in its path's pool. 0, or the
 * reason the leg (and so the session) cannot move.
 */
static int
reload_alias(struct router_worker *w, struct router_worker *old, uint32_t old_primary,
    uint32_t primary, uint64_t now_ns, enum router_reload_end *why)
{
	uint32_t ai = svr_session_alias(&old->svr, old_primary), ni;
	struct session copy;
	uint32_t path = SVR_PATH_NONE;
	int rc;

	if (ai == SESSION_INDEX_NONE)
		return 0; /* no leg yet: svr makes one when it is due */
	copy = *session_table_get(old->svr.sessions, ai);
	memset(copy.lan_key.src, 0, sizeof(copy.lan_key.src));
	buf_store_be32(copy.lan_key.src, primary);
	if (copy.wan_key.zone == SVR_ALIAS_UNBOUND_ZONE) {
		memset(copy.wan_key.src, 0, sizeof(copy.wan_key.src));
		buf_store_be32(copy.wan_key.src, primary);
	} else if (copy.path_id < old->cfg->path_count) {
		path = reload_path(w, old, copy.path_id, why);
		if (path == UINT32_MAX)
			return -ENOENT;
		copy.path_id = (uint16_t)path;
	}
	if (copy.role == SESSION_ROLE_INGRESS && path != SVR_PATH_NONE &&
	    svr_waypoint_ports_take(w->paths[path].ports, copy.wan_key.dport) < 0) {
		*why = ROUTER_RELOAD_END_PORTS;
		return -EADDRINUSE;
	}
	rc = session_table_insert_copy(w->svr.sessions, &copy, now_ns, &ni);
	if (rc < 0) {
		if (copy.role == SESSION_ROLE_INGRESS && path != SVR_PATH_NONE)
			svr_waypoint_ports_put(w->paths[path].ports, copy.wan_key.dport);
		*why = rc == -ENOSPC ? ROUTER_RELOAD_END_FULL : ROUTER_RELOAD_END_PORTS;
		return rc;
	}
	return 0;
}

/* An egress session's translated client port, when it took one of the segment's pool. */
static bool
reload_nat_port(const struct router_worker *w, const struct session *s, uint32_t seg)
{
	return (s->flags & SVR_SESSION_NAT) && s->role == SESSION_ROLE_EGRESS &&
	    seg < w->cfg->lan_count && w->nat_ports[seg] != NULL &&
	    memcmp(s->lan_key.dst, w->nat_addr[seg].bytes, 16) == 0 &&
	    (s->lan_key.proto == 6 || s->lan_key.proto == 17);
}

/* One SVR session of old (not an alias) into w; 0, or the reason it ends. */
static int
reload_session(struct router_worker *w, struct router_worker *old, uint32_t oi, uint64_t now_ns,
    enum router_reload_end *why)
{
	const struct session *s = session_table_get(old->svr.sessions, oi);
	struct session copy = *s;
	struct policy_decision d;
	uint16_t lt, ls, app;
	uint32_t slot, svc, path, tenant, ni;
	bool ingress = s->role == SESSION_ROLE_INGRESS, port = false, nat = false, transit;
	int rc;

	slot = reload_slot(w, old, s->tenant_id);
	if (slot == UINT32_MAX) {
		*why = ROUTER_RELOAD_END_TENANT;
		return -ENOENT;
	}
	transit = reload_transit(w, slot);
	svc = reload_service(w, old, s->service_id);
	/* Both legs of a hub's transit session are for a service routed to a peer. */
	if (svc == UINT32_MAX ||
	    (w->cfg->services[svc].route_kind == ROUTER_CONFIG_ROUTE_PEER) !=
	        (ingress || transit)) {
		*why = ROUTER_RELOAD_END_SERVICE;
		return -ENOENT;
	}
	path = reload_path(w, old, s->path_id, why);
	if (path == UINT32_MAX)
		return -ENOENT;
	/* The ingress leg goes to the service's peer; a transit never back to where it came. */
	if ((ingress || transit) &&
	    (strcmp(w->cfg->services[svc].route_name,
	         w->cfg->peers[w->cfg->paths[path].peer_id].name) == 0) != ingress) {
		*why = ROUTER_RELOAD_END_PEER;
		return -ENOENT;
	}
	/*
	 * The tenant the rules decide for: the slot's (a transit slot's is the one the
	 * metadata named), or the one the metadata named as the learner recorded it.
	 */
	router_learn_session_get(old->learn, oi, &lt, &ls, &app);
	tenant = ingress || transit        ? w->slot_tenant[slot] :
	    lt != ROUTER_LEARN_TENANT_NONE ? reload_tenant(w, old, lt) :
	                                     UINT32_MAX;
	if (!ingress && !transit && lt != ROUTER_LEARN_TENANT_NONE && tenant == UINT32_MAX) {
		*why = ROUTER_RELOAD_END_TENANT;
		return -ENOENT;
	}
	/* A hub decides a transit with its ingress rules, as router_worker_transit_accept. */
	if (tenant != UINT32_MAX &&
	    policy_decide_rules(ingress || transit ? w->ingress_policy : w->egress_policy, tenant,
	        svc, &d) < 0) {
		*why = ROUTER_RELOAD_END_POLICY;
		return -EACCES;
	}
	if (reload_nat_port(old, s, s->tenant_id)) {
		if (!reload_nat_port(w, s, slot)) {
			*why = ROUTER_RELOAD_END_NAT;
			return -ENOENT;
		}
		if (svr_waypoint_ports_take(w->nat_ports[slot], s->lan_key.dport) < 0) {
			*why = ROUTER_RELOAD_END_PORTS;
			return -EADDRINUSE;
		}
		nat = true;
	}
	if (ingress) {
		if (svr_waypoint_ports_take(w->paths[path].ports, s->wan_key.dport) < 0) {
			*why = ROUTER_RELOAD_END_PORTS;
			rc = -EADDRINUSE;
			goto undo;
		}
		port = true;
	}
	copy.tenant_id = (uint16_t)slot;
	/* A LAN session's zone is its segment (unchanged); a transit leg's is its slot. */
	if (transit)
		copy.lan_key.zone = (uint16_t)slot;
	copy.service_id = (uint16_t)svc;
	copy.path_id = (uint16_t)path;
	/* nDPI's flow state stays in the old pool: what it named so far is kept. */
	copy.flags &= ~(uint32_t)SVR_SESSION_INSPECT;
	rc = session_table_insert_copy(w->svr.sessions, &copy, now_ns, &ni);
	if (rc < 0) {
		*why = rc == -ENOSPC ? ROUTER_RELOAD_END_FULL : ROUTER_RELOAD_END_PORTS;
		goto undo;
	}
	if ((s->flags & SVR_SESSION_DUP) && reload_alias(w, old, oi, ni, now_ns, why) < 0) {
		session_table_delete(w->svr.sessions, ni);
		rc = -ENOENT;
		goto undo;
	}
	if (ingress) {
		policy_limits_restore(w->limits, tenant);
		if (w->svr.uuid_index != NULL && w->paths[path].learn)
			(void)hash_add(w->svr.uuid_index, copy.uuid, ni, NULL);
	}
	if (transit)
		return 0; /* the learner keeps no record of a transit (router_worker_transit) */
	router_learn_session_start(w->learn, ni,
	    (uint16_t)(tenant != UINT32_MAX ? tenant : ROUTER_LEARN_TENANT_NONE), (uint16_t)svc,
	    false, DPI_SLOT_NONE, app);
	return 0;
undo:
	if (port)
		svr_waypoint_ports_put(w->paths[path].ports, s->wan_key.dport);
	if (nat)
		svr_waypoint_ports_put(w->nat_ports[slot], s->lan_key.dport);
	return rc;
}

/*
 * Breakout sessions: the table moves whole when the new worker's is the same size (its
 * NAT pools are per WAN link, and the links are the same), with ids re-mapped and the
 * rules asked again; otherwise they end.
 */
static void
router_worker_adopt_breakout(struct router_worker *w, struct router_worker *old,
    struct router_worker_reload_stats *st)
{
	struct session_table *t;
	struct router_breakout *b;
	uint32_t i, next;

	if (old->breakout == NULL)
		return;
	t = router_breakout_sessions(old->breakout);
	if (w->breakout == NULL ||
	    session_table_capacity(router_breakout_sessions(w->breakout)) !=
	        session_table_capacity(t)) {
		st->ended[ROUTER_RELOAD_END_BREAKOUT] += session_table_count(t);
		return;
	}
	b = w->breakout;
	w->breakout = old->breakout;
	old->breakout = b;
	for (i = session_table_next(t, 0); i != SESSION_INDEX_NONE; i = next) {
		struct session *s = session_table_get(t, i);
		struct policy_decision d;
		uint32_t slot = reload_slot(w, old, s->tenant_id);
		uint32_t svc = reload_service(w, old, s->service_id);
		enum router_reload_end why = ROUTER_RELOAD_END_TENANT;

		next = session_table_next(t, i + 1);
		if (slot != UINT32_MAX) {
			why = ROUTER_RELOAD_END_SERVICE;
			if (svc != UINT32_MAX &&
			    w->cfg->services[svc].route_kind == ROUTER_CONFIG_ROUTE_BREAKOUT &&
			    strcmp(w->cfg->wans[w->cfg->services[svc].route_id].name,
			        old->cfg->wans[s->path_id].name) == 0) {
				why = ROUTER_RELOAD_END_POLICY;
				if (policy_decide_rules(w->ingress_policy, w->slot_tenant[slot],
				        svc, &d) == 0) {
					s->tenant_id = (uint16_t)slot;
					s->service_id = (uint16_t)svc;
					s->path_id = (uint16_t)w->cfg->services[svc].route_id;
					policy_limits_restore(w->limits, w->slot_tenant[slot]);
					st->kept++;
					continue;
				}
			}
		}
		router_breakout_close(w->breakout, i);
		reload_end(st, why);
	}
}

/* Adds the uint64_t counters of from to to: structs made of uint64_t counters only. */
static void
reload_counters_add(void *to, const void *from, size_t size)
{
	for (size_t off = 0; off + sizeof(uint64_t) <= size; off += sizeof(uint64_t)) {
		uint64_t a, b;

		/* memcpy, not a cast: the struct is not known to be an array to the compiler. */
		memcpy(&a, (char *)to + off, sizeof(a));
		memcpy(&b, (const char *)from + off, sizeof(b));
		a += b;
		memcpy((char *)to + off, &a, sizeof(a));
	}
}

_Static_assert(sizeof(struct svr_stats) % sizeof(uint64_t) == 0, "svr_stats: uint64_t only");
_Static_assert(sizeof(struct svr_peer_key_stats) % sizeof(uint64_t) == 0,
    "svr_peer_key_stats: uint64_t only");

/*
 * What the API counts (drops, svr's statistics, each peer's data keys, the learners',
 * nDPI's and the per service, tenant and application totals) goes on from the old
 * worker's values, so no counter falls at a reload (docs/api.md). A peer's, service's or
 * tenant's counters follow its name; one the new configuration drops is gone with it.
 * Called after the sessions moved: the ones that did not have ended in old's learner.
 */
static void
router_worker_adopt_counters(struct router_worker *w, const struct router_worker *old)
{
	for (size_t i = 0; i < PKT_DROP_COUNT; i++)
		w->drops.count[i] += old->drops.count[i];
	reload_counters_add(&w->svr.stats, &old->svr.stats, sizeof(w->svr.stats));
	/* Keys that moved took their counters, and old's slot was emptied (zero). */
	for (size_t p = 0; p < w->cfg->peer_count; p++)
		for (size_t o = 0; o < old->cfg->peer_count; o++)
			if (strcmp(w->cfg->peers[p].name, old->cfg->peers[o].name) == 0)
				reload_counters_add(&w->peer_keys[p].stats,
				    &old->peer_keys[o].stats, sizeof(w->peer_keys[p].stats));
	router_learn_carry(w->learn, old->learn);
	for (uint16_t o = 0; o < old->cfg->service_count; o++) {
		uint32_t n = reload_service(w, old, o);

		if (n != UINT32_MAX)
			router_learn_carry_service(w->learn, n, old->learn, o);
	}
	for (uint32_t o = 0; o < old->cfg->tenant_count; o++) {
		uint32_t n = reload_tenant(w, old, o);

		if (n != UINT32_MAX)
			router_learn_carry_tenant(w->learn, n, old->learn, o);
	}
}

void
router_worker_adopt(struct router_worker *w, struct router_worker *old, bool keys, uint64_t now_ns,
    struct router_worker_reload_stats *st)
{
	struct session_table *t = old->svr.sessions;
	enum router_reload_end why;

	router_worker_adopt_paths(w, old);
	if (keys)
		router_worker_adopt_keys(w, old);
	for (uint32_t i = session_table_next(t, 0); i != SESSION_INDEX_NONE;
	     i = session_table_next(t, i + 1)) {
		const struct session *s = session_table_get(t, i);

		if (s->flags & SVR_SESSION_ALIAS)
			continue; /* moves with its session */
		if (reload_session(w, old, i, now_ns, &why) == 0) {
			st->kept++;
		} else {
			/* Its bytes stay in its service's, tenant's and application's totals. */
			router_learn_session_end(old->learn, i, s);
			reload_end(st, why);
		}
	}
	router_worker_adopt_breakout(w, old, st);
	router_worker_adopt_counters(w, old);
	/*
	 * A datagram whose fragments old still holds cannot be finished here (the rest would
	 * meet an empty table and wait for the first in vain): it is lost with old's table,
	 * and counted as such. The ones already due are the timeouts they are.
	 */
	w->drops.count[PKT_DROP_FRAG_TIMEOUT] += pkt_frag_expire(old->frag, now_ns);
	w->drops.count[PKT_DROP_FRAG_RELOAD] += pkt_frag_table_count(old->frag);
}
