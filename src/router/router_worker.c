/* A ternd data-plane worker; see router_worker.h. */
#include "router/router_worker.h"
#include "router/router_worker_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash_fn.h"
#include "path/path_log.h"
#include "path/path_select.h"
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

static void
router_worker_drop(struct router_worker *w, struct pkt_buf *p, enum pkt_drop_reason reason)
{
	pkt_drop_count(&w->drops, reason);
	pkt_pool_put(w->pool, p);
}

static bool
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

/* ---- access policy: built from the snapshot, asked once per new session ------------------ */

/* Config port specs as the engine's: ICMP covers ICMPv6 too, so both are listed. */
static size_t
router_worker_policy_ports(const struct router_config_service *svc, struct policy_port_range *out)
{
	size_t n = 0;

	for (size_t i = 0; i < svc->port_count; i++) {
		const struct router_config_ports *pr = &svc->ports[i];

		if (pr->proto == ROUTER_CONFIG_PROTO_ICMP) {
			out[n++] = (struct policy_port_range){IPPROTO_ICMP, 0, 65535};
			out[n++] = (struct policy_port_range){IPPROTO_ICMPV6, 0, 65535};
		} else {
			out[n++] =
			    (struct policy_port_range){pr->proto, pr->port_first, pr->port_last};
		}
	}
	return n;
}

/*
 * Which policy decides a service: the egress's for services on a local LAN, the
 * ingress's for the rest (a peer, or breakout: both leave from here).
 */
static uint8_t
router_worker_side(uint8_t route_kind)
{
	return route_kind == ROUTER_CONFIG_ROUTE_LAN ? ROUTER_CONFIG_ROUTE_LAN :
	                                               ROUTER_CONFIG_ROUTE_PEER;
}

static uint8_t
router_worker_policy_route(uint8_t route_kind)
{
	switch (route_kind) {
	case ROUTER_CONFIG_ROUTE_PEER:
		return POLICY_ROUTE_PEER;
	case ROUTER_CONFIG_ROUTE_LAN:
		return POLICY_ROUTE_LAN;
	default:
		return POLICY_ROUTE_BREAKOUT;
	}
}

/*
 * The policy of the services routed by route_kind (ROUTER_CONFIG_ROUTE_PEER: the
 * ingress's, segments are the LANs; _LAN: the egress's, which decides a tenant and a
 * service named in metadata by the rules alone, policy_decide_rules()). Rules:
 * the explicit ones that name such a service or any, then each access entry as an
 * allow. Ids are config indices (implicit rules: rule_count + k), so both policies
 * report the same ids.
 */
static int
router_worker_policy_new(struct router_worker *w, uint8_t route_kind, struct policy **out)
{
	const struct router_config *cfg = w->cfg;
	struct policy_config pc;
	struct policy_segment_config *segs = NULL;
	struct policy_tenant_config *tenants = NULL;
	struct policy_tenant_source *sources = NULL;
	struct policy_service_config *svcs = NULL;
	struct policy_rule_config *rules = NULL;
	struct prefix *prefixes = NULL;
	struct policy_port_range *ports = NULL;
	char **names = NULL;
	size_t nseg, nprefix = 0, nport = 0, naccess = 0, k = 0, implicit = 0, nsrc = 0;
	char err[256];
	int rc = -ENOMEM;

	nseg = route_kind == ROUTER_CONFIG_ROUTE_PEER ? cfg->lan_count : cfg->tenant_count;
	for (size_t l = 0; l < cfg->lan_count; l++)
		for (size_t j = 0; j < cfg->lans[l].tenant_count; j++)
			nsrc += cfg->lans[l].tenants[j].prefix_count;
	for (size_t i = 0; i < cfg->service_count; i++) {
		nprefix += cfg->services[i].prefix_count;
		nport += 2 * cfg->services[i].port_count;
		naccess += cfg->services[i].access_count;
	}
	memset(&pc, 0, sizeof(pc));
	segs = calloc(nseg + 1, sizeof(*segs));
	tenants = calloc(cfg->tenant_count + 1, sizeof(*tenants));
	svcs = calloc(cfg->service_count + 1, sizeof(*svcs));
	rules = calloc(cfg->rule_count + naccess + 1, sizeof(*rules));
	prefixes = calloc(nprefix + 1, sizeof(*prefixes));
	ports = calloc(nport + cfg->service_count + 1, sizeof(*ports));
	names = calloc(cfg->service_count + 1, sizeof(*names));
	sources = calloc(nsrc + 1, sizeof(*sources));
	if (segs == NULL || tenants == NULL || svcs == NULL || rules == NULL || prefixes == NULL ||
	    ports == NULL || names == NULL || sources == NULL)
		goto out;
	for (size_t i = 0; i < nseg; i++) {
		bool ingress = route_kind == ROUTER_CONFIG_ROUTE_PEER;

		segs[i].id = (uint32_t)i;
		segs[i].name = ingress ? cfg->lans[i].name : cfg->tenants[i].name;
		segs[i].default_tenant_id = ingress ? cfg->lans[i].tenant_id : (uint32_t)i;
	}
	pc.segments = segs;
	pc.segment_count = nseg;
	nsrc = 0;
	for (size_t i = 0; i < cfg->tenant_count; i++) {
		/* The ingress assigns tenants by (segment, source prefix) too. */
		tenants[i].sources = &sources[nsrc];
		for (size_t l = 0; l < cfg->lan_count && route_kind == ROUTER_CONFIG_ROUTE_PEER;
		     l++)
			for (size_t j = 0; j < cfg->lans[l].tenant_count; j++) {
				const struct router_config_lan_tenant *lt =
				    &cfg->lans[l].tenants[j];

				if (lt->tenant_id != i)
					continue;
				for (size_t p = 0; p < lt->prefix_count; p++)
					sources[nsrc++] =
					    (struct policy_tenant_source){.segment_id = (uint32_t)l,
					        .prefix = lt->prefixes[p]};
			}
		tenants[i].source_count = (size_t)(&sources[nsrc] - tenants[i].sources);
		tenants[i].id = (uint32_t)i;
		tenants[i].name = cfg->tenants[i].name;
		tenants[i].max_sessions = cfg->tenants[i].max_sessions;
		tenants[i].max_new_per_s = cfg->tenants[i].max_new_per_s;
	}
	pc.tenants = tenants;
	pc.tenant_count = cfg->tenant_count;
	nprefix = nport = 0;
	for (size_t i = 0; i < cfg->service_count; i++) {
		const struct router_config_service *cs = &cfg->services[i];
		struct policy_service_config *ps = &svcs[pc.service_count];

		if (router_worker_side(cs->route_kind) != route_kind)
			continue;
		ps->id = (uint32_t)i;
		ps->name = cs->name;
		ps->prefixes = &prefixes[nprefix];
		ps->ports = &ports[nport];
		/* Hosts reach a service with an address at that address only. */
		if (cs->has_address) {
			prefix_from_addr(&prefixes[nprefix++], &cs->address,
			    addr_bits(&cs->address));
			ps->prefix_count = 1;
		} else {
			if (cs->prefix_count > 0) /* none for a service known by name only */
				memcpy(&prefixes[nprefix], cs->prefixes,
				    cs->prefix_count * sizeof(*prefixes));
			nprefix += cs->prefix_count;
			ps->prefix_count = cs->prefix_count;
		}
		ps->domains = (const char *const *)cs->domains;
		ps->domain_count = cs->domain_count;
		ps->apps = (const char *const *)cs->apps;
		ps->app_count = cs->app_count;
		ps->port_count = router_worker_policy_ports(cs, &ports[nport]);
		nport += ps->port_count;
		ps->route_kind = router_worker_policy_route(cs->route_kind);
		ps->route_target_id = cs->route_id;
		ps->route_target_name = cs->route_name;
		pc.service_count++;
	}
	pc.services = svcs;
	for (size_t i = 0; i < cfg->rule_count; i++) {
		const struct router_config_rule *cr = &cfg->rules[i];

		if (cr->service_id != ROUTER_CONFIG_ID_ANY &&
		    router_worker_side(cfg->services[cr->service_id].route_kind) != route_kind)
			continue;
		rules[k++] = (struct policy_rule_config){.id = (uint32_t)i,
		    .name = cr->name,
		    .tenant_id =
		        cr->tenant_id == ROUTER_CONFIG_ID_ANY ? POLICY_ID_ANY : cr->tenant_id,
		    .service_id =
		        cr->service_id == ROUTER_CONFIG_ID_ANY ? POLICY_ID_ANY : cr->service_id,
		    .action = cr->action == ROUTER_CONFIG_ACTION_DENY ? POLICY_DENY : POLICY_ALLOW};
	}
	for (size_t i = 0; i < cfg->service_count; i++) {
		const struct router_config_service *cs = &cfg->services[i];

		if (cs->access_count > 0 && asprintf(&names[i], "%s.access", cs->name) < 0) {
			names[i] = NULL;
			goto out;
		}
		for (size_t j = 0; j < cs->access_count; j++, implicit++) {
			if (router_worker_side(cs->route_kind) != route_kind)
				continue;
			rules[k++] = (struct policy_rule_config){.id = (uint32_t)(cfg->rule_count +
			                                             implicit),
			    .name = names[i],
			    .tenant_id = cs->access_tenant_ids[j],
			    .service_id = (uint32_t)i,
			    .action = POLICY_ALLOW};
		}
	}
	pc.rules = rules;
	pc.rule_count = k;
	rc = policy_new(&pc, out, err, sizeof(err));
out:
	for (size_t i = 0; names != NULL && i < cfg->service_count; i++)
		free(names[i]);
	free(names);
	free(ports);
	free(prefixes);
	free(rules);
	free(svcs);
	free(tenants);
	free(sources);
	free(segs);
	return rc;
}

static int
router_worker_policies_new(struct router_worker *w)
{
	const struct router_config *cfg = w->cfg;
	size_t naccess = 0, k = 0;
	int rc;

	rc = router_worker_policy_new(w, ROUTER_CONFIG_ROUTE_PEER, &w->ingress_policy);
	if (rc == 0)
		rc = router_worker_policy_new(w, ROUTER_CONFIG_ROUTE_LAN, &w->egress_policy);
	if (rc < 0)
		return rc;
	w->limits = policy_limits_new(w->ingress_policy);
	for (size_t i = 0; i < cfg->service_count; i++)
		naccess += cfg->services[i].access_count;
	w->implicit_rule_service = calloc(naccess + 1, sizeof(*w->implicit_rule_service));
	if (w->limits == NULL || w->implicit_rule_service == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->service_count; i++)
		for (size_t j = 0; j < cfg->services[i].access_count; j++)
			w->implicit_rule_service[k++] = (uint32_t)i;
	return 0;
}

static enum pkt_drop_reason
router_worker_policy_reason(uint8_t verdict)
{
	switch (verdict) {
	case POLICY_VERDICT_DENY_BY_RULE:
		return PKT_DROP_POLICY_DENIED;
	case POLICY_VERDICT_NO_RULE:
		return PKT_DROP_POLICY_NO_RULE;
	case POLICY_VERDICT_NO_TENANT:
		return PKT_DROP_POLICY_NO_TENANT;
	default:
		return PKT_DROP_POLICY_NO_SERVICE;
	}
}

/*
 * What the worker has learnt for a query's destination: the DNS cache, and the SNI and
 * application seen on earlier sessions there (names given by the query win).
 */
static void
router_worker_query_names(const struct router_worker *w, struct policy_query *q)
{
	const char *sni, *app;

	q->dns = router_learn_dns(w->learn);
	router_learn_lookup(w->learn, (uint16_t)q->segment_id, &q->dst, q->proto, q->dst_port,
	    q->now_ns, &sni, &app);
	if (q->domain == NULL)
		q->domain = sni;
	if (q->app == NULL)
		q->app = app;
}

/* The engine's question for a packet from LAN segment lan. */
static void
router_worker_query(const struct router_worker *w, uint16_t lan, const struct pkt_buf *p,
    struct policy_query *q)
{
	memset(q, 0, sizeof(*q));
	q->segment_id = lan;
	pkt_info_src(&p->info, p->buf + p->head, &q->src);
	pkt_info_dst(&p->info, p->buf + p->head, &q->dst);
	q->proto = p->info.l4_proto;
	q->dst_port = p->info.dport;
	q->now_ns = w->now_ns;
	router_worker_query_names(w, q);
}

/* ---- paths: policies, measurements, selection and failover ---------------------------- */

static uint32_t
router_worker_policy_of(const struct router_worker *w, const struct router_config_service *svc)
{
	return svc->policy_name != NULL ? svc->policy_id : (uint32_t)w->cfg->policy_count;
}

static void router_worker_candidate(const struct router_worker *w, uint32_t policy, uint32_t path,
    struct path_candidate *c);

static int
router_worker_paths_new(struct router_worker *w)
{
	const struct router_config *cfg = w->cfg;
	size_t npol = cfg->policy_count + 1, npath = cfg->path_count ? cfg->path_count : 1;

	w->policies = calloc(npol, sizeof(*w->policies));
	w->vector_costs = calloc(npol, sizeof(*w->vector_costs));
	w->path_costs = calloc(npol * npath, sizeof(*w->path_costs));
	w->sla_broken = calloc(npol * npath, sizeof(*w->sla_broken));
	w->metrics = calloc(npath, sizeof(*w->metrics));
	w->sweep_due = calloc(npath, sizeof(*w->sweep_due));
	w->sweep_kind = calloc(npath, sizeof(*w->sweep_kind));
	w->sweep_base = calloc(npath, sizeof(*w->sweep_base));
	w->revert_at = calloc(npol * npath, sizeof(*w->revert_at));
	w->relay_port = calloc(npath, sizeof(*w->relay_port));
	w->nat_rebind = calloc(npath, sizeof(*w->nat_rebind));
	w->nat_enable_full_ns = calloc(npath, sizeof(*w->nat_enable_full_ns));
	w->log = calloc(1, sizeof(*w->log));
	w->sla_log = calloc(1, sizeof(*w->sla_log));
	if (w->policies == NULL || w->vector_costs == NULL || w->path_costs == NULL ||
	    w->sla_broken == NULL || w->metrics == NULL || w->sweep_due == NULL ||
	    w->sweep_kind == NULL || w->sweep_base == NULL || w->revert_at == NULL ||
	    w->log == NULL || w->sla_log == NULL || w->relay_port == NULL ||
	    w->nat_rebind == NULL || w->nat_enable_full_ns == NULL)
		return -ENOMEM;
	path_log_init(w->log);
	path_log_init(w->sla_log);
	for (size_t i = 0; i < cfg->policy_count; i++) {
		const struct router_config_policy *cp = &cfg->policies[i];
		struct path_select_policy *pp = &w->policies[i];

		w->vector_costs[i] = calloc(cp->vector_cost_count ? cp->vector_cost_count : 1,
		    sizeof(*w->vector_costs[i]));
		if (w->vector_costs[i] == NULL)
			return -ENOMEM;
		for (size_t v = 0; v < cp->vector_cost_count; v++)
			w->vector_costs[i][v] =
			    (struct path_vector_cost){.vector = cp->vector_costs[v].vector,
			        .cost = cp->vector_costs[v].cost};
		pp->max_latency_us = cp->sla.max_latency_ms * 1000u;
		pp->max_jitter_us = cp->sla.max_jitter_ms * 1000u;
		pp->has_max_loss = cp->sla.has_max_loss;
		pp->max_loss_pct = cp->sla.max_loss_pct;
		pp->min_mos = cp->sla.min_mos;
		pp->vector_costs = w->vector_costs[i];
		pp->vector_cost_count = cp->vector_cost_count;
		pp->default_cost = cp->default_cost;
		pp->resiliency = cp->resiliency;
		pp->no_path = cp->no_path;
	}
	for (size_t i = 0; i < npol; i++)
		for (size_t p = 0; p < cfg->path_count; p++) {
			const struct router_config_wan *wan = &cfg->wans[cfg->paths[p].wan_id];
			struct path_candidate c;
			double value, limit;

			w->path_costs[i * npath + p] = path_select_cost(&w->policies[i],
			    (const char *const *)wan->vectors, wan->vector_count);
			/* Nothing measured yet: as the SLA check sees it, so the first
			 * measurement that meets it counts as a recovery. */
			router_worker_candidate(w, (uint32_t)i, (uint32_t)p, &c);
			w->sla_broken[i * npath + p] = path_select_sla_check(&w->policies[i], &c,
			                                   &value, &limit) != PATH_SLA_NONE;
		}
	return 0;
}

#define ROUTER_WORKER_FLOW_SEED 0x7465726e70617468ull

/* The learners' sizes (router_learn.h): a few MB in all. */
#define ROUTER_WORKER_DNS_ENTRIES 8192
#define ROUTER_WORKER_SNI_ENTRIES 4096
#define ROUTER_WORKER_APP_ENTRIES 4096
#define ROUTER_WORKER_DPI_PACKETS 8

/* A flow's hash for load sharing: stable for the session (its original 5-tuple). */
static uint64_t
router_worker_flow_hash(const struct pkt_buf *p, uint16_t lan)
{
	struct session_key key;

	memset(&key, 0, sizeof(key));
	if (svr_lan_key(p, lan, &key) < 0)
		return 0;
	return hash_fn_bytes(ROUTER_WORKER_FLOW_SEED, &key, sizeof(key));
}

static void
router_worker_candidate(const struct router_worker *w, uint32_t policy, uint32_t path,
    struct path_candidate *c)
{
	const struct router_worker_path_metrics *m = &w->metrics[path];
	size_t npath = w->cfg->path_count ? w->cfg->path_count : 1;

	c->path_id = path;
	c->up = w->paths[path].state == SVR_PATH_UP;
	c->cost = w->path_costs[policy * npath + path];
	if (m->measured) {
		c->latency_us = m->latency_us;
		c->jitter_us = m->jitter_us;
		c->loss_pct = m->loss_pct;
		c->mos = m->mos;
	} else {
		/* Unmeasured: it meets no SLA limit, and ranks last on quality. */
		c->latency_us = UINT32_MAX;
		c->jitter_us = UINT32_MAX;
		c->loss_pct = 100.0;
		c->mos = 1.0;
	}
}

/* Path selection for a session of svc toward the peer whose paths start at first. */
static int
router_worker_select(const struct router_worker *w, const struct router_config_service *svc,
    uint32_t first, uint64_t flow_hash, struct path_choice *choice)
{
	const struct router_config_peer *peer = &w->cfg->peers[w->cfg->paths[first].peer_id];
	struct path_candidate cands[PATH_SELECT_CANDIDATES_MAX];
	uint32_t policy = router_worker_policy_of(w, svc);
	size_t n = peer->path_count < PATH_SELECT_CANDIDATES_MAX ? peer->path_count :
	                                                           PATH_SELECT_CANDIDATES_MAX;

	for (size_t i = 0; i < n; i++)
		router_worker_candidate(w, policy, peer->path_first + (uint32_t)i, &cands[i]);
	return path_select(&w->policies[policy], cands, n, flow_hash, choice);
}

static uint64_t
router_worker_session_hash(const struct session *s)
{
	return hash_fn_bytes(ROUTER_WORKER_FLOW_SEED, s->uuid, sizeof(s->uuid));
}

/* svr's path_pick: where an ingress session that must be reconsidered goes. */
static uint16_t
router_worker_path_pick(struct svr_router *rt, const struct session *s, void *arg)
{
	struct router_worker *w = arg;
	const struct router_config_service *svc;
	struct path_candidate current;
	struct path_choice choice;
	double value, limit;
	uint32_t policy;
	int rc;

	(void)rt;
	if (s->service_id >= w->cfg->service_count || s->path_id >= w->cfg->path_count)
		return SVR_PATH_NONE;
	svc = &w->cfg->services[s->service_id];
	policy = router_worker_policy_of(w, svc);
	rc = router_worker_select(w, svc, s->path_id, router_worker_session_hash(s), &choice);
	if (rc == -ENETUNREACH)
		return SVR_PATH_DROP;
	if (rc < 0 || choice.path_id == s->path_id)
		return SVR_PATH_NONE;
	router_worker_candidate(w, policy, s->path_id, &current);
	if (!path_select_should_move(&w->policies[policy], &current, &choice))
		return SVR_PATH_NONE;
	/*
	 * A move that is only a preference (the current path is up and meets the SLA) waits
	 * until the preferred path has met the SLA for its hold-down, whatever sweep asked.
	 */
	if (current.up &&
	    path_select_sla_check(&w->policies[policy], &current, &value, &limit) ==
	        PATH_SLA_NONE &&
	    w->revert_at[policy * w->cfg->path_count + choice.path_id] > w->now_ns)
		return SVR_PATH_NONE;
	return (uint16_t)choice.path_id;
}

/*
 * svr's dup_path_pick: the path for the second leg of a duplicated ingress session, the
 * best one of the policy that is not the first leg's (path_select's second choice when
 * the first leg is on its first).
 */
static uint16_t
router_worker_dup_path_pick(struct svr_router *rt, const struct session *s, uint16_t leg_path,
    void *arg)
{
	struct router_worker *w = arg;
	struct path_choice choice;
	int rc;

	(void)rt;
	(void)leg_path;
	if (s->service_id >= w->cfg->service_count || s->path_id >= w->cfg->path_count)
		return SVR_PATH_NONE;
	rc = router_worker_select(w, &w->cfg->services[s->service_id], s->path_id,
	    router_worker_session_hash(s), &choice);
	if (rc < 0)
		return SVR_PATH_NONE;
	if (choice.path_id != s->path_id)
		return (uint16_t)choice.path_id;
	return choice.has_second ? (uint16_t)choice.second_path_id : SVR_PATH_NONE;
}

/*
 * Asks for a sweep of path: its sessions are reconsidered (moved off it when it failed,
 * moved back when a preferred path returned). The moves packets made lazily since count
 * too: the event says how many sessions were moved in all.
 */
static void
router_worker_sweep_ask(struct router_worker *w, uint32_t path, uint8_t failed)
{
	if (!w->sweep_due[path]) {
		w->sweep_base[path] = w->svr.stats.migrations;
		w->sweep_kind[path] = failed;
	}
	w->sweep_kind[path] |= failed;
	w->sweep_due[path] = 1;
}

/* Marks for a sweep every path of path's peer but path itself (revert candidates). */
static void
router_worker_sweep_siblings(struct router_worker *w, uint32_t path)
{
	const struct router_config_peer *peer = &w->cfg->peers[w->cfg->paths[path].peer_id];

	for (uint32_t p = peer->path_first; p < peer->path_first + peer->path_count; p++)
		if (p != path)
			router_worker_sweep_ask(w, p, 0);
}

/* New measurements: a path that starts or stops breaking a policy's SLA is swept. */
static void
router_worker_sla_update(struct router_worker *w, uint32_t path, bool first)
{
	size_t npath = w->cfg->path_count;

	for (size_t i = 0; i <= w->cfg->policy_count; i++) {
		struct path_candidate c;
		double value, limit;
		uint8_t broken, lim;

		router_worker_candidate(w, (uint32_t)i, path, &c);
		lim = path_select_sla_check(&w->policies[i], &c, &value, &limit);
		broken = lim != PATH_SLA_NONE;
		if (broken == w->sla_broken[i * npath + path])
			continue;
		w->sla_broken[i * npath + path] = broken;
		/* Logged once measured: an unmeasured path "breaks" every SLA by definition. */
		if (w->metrics[path].measured) {
			/* detail: the value that broke the limit (µs, or thousandths). */
			struct path_log_entry e = {.ts_ns = w->now_ns,
			    .kind = PATH_LOG_SLA_BREACH,
			    .reason = lim,
			    .peer_id = w->cfg->paths[path].peer_id,
			    .path_id = path,
			    .other_path_id = (uint32_t)i};

			if (lim == PATH_SLA_MAX_LATENCY || lim == PATH_SLA_MAX_JITTER)
				e.detail = (uint64_t)value;
			else if (lim != PATH_SLA_NONE)
				e.detail = (uint64_t)(value * 1000.0 + 0.5);
			path_log_append(w->sla_log, &e);
		}
		if (broken) {
			router_worker_sweep_ask(w, path, 1);
			w->revert_at[i * npath + path] = 0;
		} else { /* A path's first measurement is its first contact: no hold-down, as
			  * the prober brings a new path up at once. */
			uint64_t at = w->now_ns +
			    (first ? 0 :
			             (uint64_t)w->cfg->paths[path].probe.hold_down_ms * 1000000ull);

			/* 0 means "none due": a revert due at time 0 is due at 1 ns. */
			w->revert_at[i * npath + path] = at != 0 ? at : 1;
		}
	}
}

/* router_worker_int.h */
void
router_worker_sla_settle(struct router_worker *w, uint32_t path)
{
	size_t npath = w->cfg->path_count;

	for (size_t i = 0; i <= w->cfg->policy_count; i++) {
		struct path_candidate c;
		double value, limit;

		router_worker_candidate(w, (uint32_t)i, path, &c);
		w->sla_broken[i * npath + path] =
		    path_select_sla_check(&w->policies[i], &c, &value, &limit) != PATH_SLA_NONE;
	}
}

static void
router_worker_path_op(struct router_worker *w, const struct router_worker_op *op)
{
	uint32_t path = op->path_id;
	bool first;
	uint8_t state;
	if (path >= w->cfg->path_count)
		return;
	first = op->metrics.measured && !w->metrics[path].measured;
	w->metrics[path] = op->metrics;
	if (op->kind == ROUTER_WORKER_PATH_STATE) {
		state = op->path_up ? SVR_PATH_UP : SVR_PATH_DOWN;
		if (state != w->paths[path].state) {
			w->paths[path].state = state;
			if (state == SVR_PATH_DOWN) {
				router_worker_sweep_ask(w, path, 1);
			} else {
				/* The prober held it down already: no second hold-down. */
				for (size_t i = 0; i <= w->cfg->policy_count; i++)
					w->revert_at[i * w->cfg->path_count + path] = 0;
				router_worker_sweep_siblings(w, path);
			}
		}
	}
	router_worker_sla_update(w, path, first);
}

/*
 * svr moved a session whose SYNs went unanswered to the UDP transform: the path's next
 * TCP sessions start as UDP (until the worker is made again: a reload or a restart
 * detects anew), and the first detection on a path is an event.
 */
static void
router_worker_on_udp_transform(struct svr_router *rt, uint16_t path_id, void *arg)
{
	struct router_worker *w = arg;
	struct path_log_entry e = {.ts_ns = w->now_ns,
	    .kind = PATH_LOG_UDP_TRANSFORM,
	    .path_id = path_id,
	    .other_path_id = UINT32_MAX,
	    .detail = SVR_UDP_TRANSFORM_DETECT_SYNS};

	(void)rt;
	if (path_id >= w->cfg->path_count || w->paths[path_id].udp_transform)
		return;
	w->paths[path_id].udp_transform = true;
	e.peer_id = w->cfg->paths[path_id].peer_id;
	path_log_append(w->log, &e);
}

/* ---- NAT between routers (router_nat.h) ------------------------------------------------- */

static void router_worker_send(struct router_worker *w, struct pkt_buf *p);
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
static bool
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

/* Sessions reconsidered per tick (100 ms): a million sessions move within 25 s. */
#define ROUTER_WORKER_SWEEP_BUDGET 4096

/* Runs the sweeps due, a bounded number of sessions per call. */
static void
router_worker_sweep(struct router_worker *w, uint64_t now_ns)
{
	unsigned budget = ROUTER_WORKER_SWEEP_BUDGET;
	for (size_t i = 0; i < (w->cfg->policy_count + 1) * w->cfg->path_count; i++) {
		if (w->revert_at[i] != 0 && now_ns >= w->revert_at[i]) {
			w->revert_at[i] = 0;
			router_worker_sweep_siblings(w, (uint32_t)(i % w->cfg->path_count));
		}
	}
	for (uint32_t p = 0; p < w->cfg->path_count && budget > 0; p++) {
		unsigned moved;

		if (!w->sweep_due[p])
			continue;
		moved = svr_sessions_migrate_path(&w->svr, (uint16_t)p, budget, now_ns);
		budget = moved < budget ? budget - moved : 0;
		if (!svr_sessions_migrate_done(&w->svr, (uint16_t)p))
			break; /* one pass at a time: svr keeps one cursor */
		w->sweep_due[p] = 0;
		if (w->svr.stats.migrations > w->sweep_base[p]) {
			/* reason: 1 the path failed (failover), 0 a preferred one returned. */
			struct path_log_entry e = {.ts_ns = now_ns,
			    .kind = PATH_LOG_FAILOVER,
			    .reason = w->sweep_kind[p],
			    .peer_id = w->cfg->paths[p].peer_id,
			    .path_id = p,
			    .other_path_id = UINT32_MAX,
			    .detail = w->svr.stats.migrations - w->sweep_base[p]};

			path_log_append(w->log, &e);
		}
	}
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
static void
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

static bool
router_worker_prefix_match(const struct router_config_service *svc, const struct addr *a)
{
	for (size_t i = 0; i < svc->prefix_count; i++)
		if (prefix_contains(&svc->prefixes[i], a))
			return true;
	return false;
}

static bool
router_worker_lan_contains(const struct router_config_lan *lan, const struct addr *a)
{
	for (size_t i = 0; i < lan->prefix_count; i++)
		if (prefix_contains(&lan->prefixes[i], a))
			return true;
	return false;
}

static bool
router_worker_addr_is_local_scope(const struct addr *a)
{
	const uint8_t *b = a->bytes;

	if (a->family == ADDR_FAMILY_V4)
		return b[0] >= 224 || (b[0] == 169 && b[1] == 254) || b[0] == 0 || b[0] == 127;
	return b[0] == 0xff || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
}

/* svr's tenant id (slot) of tenant_id on LAN segment lan; see struct router_worker. */
static uint16_t
router_worker_slot(const struct router_worker *w, uint16_t lan, uint32_t tenant_id)
{
	const struct router_config_lan *l = &w->cfg->lans[lan];

	if (tenant_id == l->tenant_id)
		return lan;
	for (size_t j = 0; j < l->tenant_count; j++)
		if (l->tenants[j].tenant_id == tenant_id)
			return (uint16_t)(w->slot_first[lan] + j);
	return lan;
}

/*
 * The path part of a route to the peer that serves svc (the service's policy: SLA,
 * costs, resiliency, over flow hash), or -ENETUNREACH when the policy prefers a drop.
 */
static int
router_worker_peer_route(const struct router_worker *w, const struct router_config_service *svc,
    uint64_t hash, struct svr_route *route)
{
	const struct router_config_peer *peer = &w->cfg->peers[svc->route_id];
	struct path_choice choice;
	int rc;

	rc = router_worker_select(w, svc, peer->path_first, hash, &choice);
	if (rc == -ENETUNREACH)
		return rc;
	/* Nothing up at all: the first path, which may still carry something. */
	route->path_id = (uint16_t)(rc == 0 ? choice.path_id : peer->path_first);
	/* Duplicated: a second leg on the next best path, or later when one comes up. */
	route->duplicate =
	    w->policies[router_worker_policy_of(w, svc)].resiliency == PATH_RESILIENCY_DUPLICATE;
	route->dup_path_id =
	    (uint16_t)(rc == 0 && choice.has_second ? choice.second_path_id : SVR_PATH_NONE);
	/* The config's encryption values are svr's modes, in the same order. */
	route->encrypt = svc->encryption;
	return 0;
}

/*
 * A new session from LAN segment lan: the policy's service and verdict, the tenant's
 * limits, then the path; or the drop reason. On success the tenant holds one more
 * session, which router_worker_on_release() gives back. Returns 0 for a session to a
 * peer, 1 for a breakout (route->path_id is then the WAN link), or a negative errno.
 */
static int
router_worker_classify(struct router_worker *w, uint16_t lan, const struct pkt_buf *p,
    struct svr_route *route, uint32_t *tenant, enum pkt_drop_reason *reason)
{
	const struct router_config *cfg = w->cfg;
	const struct router_config_service *svc;
	struct policy_decision d;
	struct policy_query q;
	int rc;

	router_worker_query(w, lan, p, &q);
	/*
	 * Link-local and multicast destinations (the kernel's own neighbour discovery and
	 * MLD on the TUN, for one) are never a service: say so apart from a missing one.
	 */
	if (router_worker_addr_is_local_scope(&q.dst)) {
		*reason = PKT_DROP_ROUTER_LOCAL_SCOPE;
		return -ENOENT;
	}
	if (policy_classify(w->ingress_policy, &q, &d) < 0) {
		*reason = router_worker_policy_reason(d.verdict);
		return -EACCES;
	}
	rc = policy_limits_admit(w->limits, d.tenant_index, w->now_ns);
	if (rc < 0) {
		*reason = rc == -EBUSY ? PKT_DROP_POLICY_TENANT_RATE_LIMIT :
		                         PKT_DROP_POLICY_TENANT_SESSION_LIMIT;
		return rc;
	}
	svc = &cfg->services[d.service_id];
	*tenant = d.tenant_id;
	memset(route, 0, sizeof(*route));
	route->tenant_id = router_worker_slot(w, lan, d.tenant_id);
	route->service_id = (uint16_t)d.service_id;
	if (svc->route_kind == ROUTER_CONFIG_ROUTE_BREAKOUT) {
		route->path_id = (uint16_t)svc->route_id;
		return 1;
	}
	rc = router_worker_peer_route(w, svc, router_worker_flow_hash(p, lan), route);
	if (rc < 0) {
		policy_limits_release(w->limits, d.tenant_index);
		*reason = PKT_DROP_SVR_NO_PATH;
		return rc;
	}
	return 0;
}

static bool
router_worker_str_is(const struct svr_str *s, const char *name)
{
	return s->len == strlen(name) && memcmp(s->ptr, name, s->len) == 0;
}

/*
 * The egress's check of a new session from a peer for service svc_id: PKT_DROP_COUNT when
 * the tenant named in m may reach it, else the drop reason.
 */
static int
router_worker_egress_check(const struct router_worker *w, const struct svr_meta *m, uint32_t svc_id)
{
	const struct router_config *cfg = w->cfg;
	const struct router_config_service *svc = &cfg->services[svc_id];
	struct policy_decision d;
	size_t t;

	for (t = 0; t < cfg->tenant_count && (m->present & SVR_META_F_TENANT); t++)
		if (router_worker_str_is(&m->tenant, cfg->tenants[t].name))
			break;
	if (!(m->present & SVR_META_F_TENANT) || t == cfg->tenant_count)
		return PKT_DROP_POLICY_NO_TENANT;
	/* The service is known by the name in the metadata: only the rules decide here. */
	if (policy_decide_rules(w->egress_policy, (uint32_t)t, svc_id, &d) < 0 &&
	    d.verdict == POLICY_VERDICT_NO_SERVICE)
		return PKT_DROP_POLICY_NO_SERVICE;
	if (d.verdict != POLICY_VERDICT_ALLOW)
		return router_worker_policy_reason(d.verdict);
	/*
	 * And the destination must be the service: its address, or inside its prefixes. A
	 * service known only by names here (domains, applications: the ingress saw the
	 * evidence) must at least be on the segment it is routed to.
	 */
	if (svc->has_address          ? !addr_equal(&svc->address, &m->fwd_ctx.dst) :
	        svc->prefix_count > 0 ? !router_worker_prefix_match(svc, &m->fwd_ctx.dst) :
	                                !router_worker_lan_contains(&cfg->lans[svc->route_id],
	                                    &m->fwd_ctx.dst))
		return PKT_DROP_POLICY_NO_SERVICE;
	return PKT_DROP_COUNT;
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

/* ---- hub transit: a session from one peer carried on to another ----------------------- */

static uint32_t router_worker_meta_tenant(const struct router_worker *w, const struct svr_meta *m);

/*
 * A new session from a peer (on path) for svc, which this router routes to another
 * peer: this router is the hub, the egress of the arriving leg and the ingress of the
 * next. The same zero trust as for a LAN service: the tenant named in the metadata must
 * be allowed to reach svc by this router's own rules, and the destination must be the
 * service. Never back to the peer it came from (the simplest loop). Accepted, the leg
 * delivers into the tenant's transit zone (router_worker_transit()).
 */
static int
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
static void
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

/* A new session from a peer on WAN wan: may it in, and into which LAN segment. */
static int
router_worker_accept(struct router_worker *w, uint16_t wan, const struct pkt_buf *p,
    const struct svr_meta *m, struct svr_accept *accept, enum pkt_drop_reason *reason)
{
	const struct router_config *cfg = w->cfg;
	const struct router_config_service *svc = NULL;
	struct addr src;
	size_t i, path = cfg->path_count;
	int rc;

	pkt_info_src(&p->info, p->buf + p->head, &src);
	/* The path's remote as the worker knows it: learned, for a peer behind a NAT. */
	for (i = 0; i < cfg->path_count; i++)
		if (cfg->paths[i].wan_id == wan && addr_equal(&w->paths[i].remote, &src))
			path = i;
	if (path == cfg->path_count) {
		*reason = PKT_DROP_ROUTER_UNKNOWN_PEER;
		return -ENOENT;
	}
	for (i = 0; i < cfg->service_count && (m->present & SVR_META_F_SERVICE); i++)
		if (router_worker_str_is(&m->service, cfg->services[i].name))
			svc = &cfg->services[i];
	if (svc != NULL && svc->route_kind == ROUTER_CONFIG_ROUTE_PEER)
		return router_worker_transit_accept(w, path, m, svc, accept, reason);
	if (svc == NULL || svc->route_kind != ROUTER_CONFIG_ROUTE_LAN) {
		*reason = PKT_DROP_ROUTER_UNKNOWN_SERVICE;
		return -ENOENT;
	}
	/*
	 * Zero trust: the egress decides again, with the same engine, as the tenant named
	 * in the metadata: the destination must be the named service here, and a rule must
	 * let that tenant reach it.
	 */
	memset(accept, 0, sizeof(*accept));
	rc = router_worker_egress_check(w, m, (uint32_t)(svc - cfg->services));
	if (rc != PKT_DROP_COUNT) {
		*reason = (enum pkt_drop_reason)rc;
		return -EACCES;
	}
	/* A service address stands for the real server: the service's one host prefix. */
	if (svc->has_address)
		accept->server = &svc->prefixes[0].addr;
	/* A client whose address is also this segment's takes one of the segment's pool. */
	for (i = 0; i < cfg->lans[svc->route_id].prefix_count; i++) {
		uint16_t nat_port, unused;

		if (!prefix_contains(&cfg->lans[svc->route_id].prefixes[i], &m->fwd_ctx.src))
			continue;
		if (w->nat_ports[svc->route_id] == NULL) {
			*reason = PKT_DROP_ROUTER_NAT_UNAVAILABLE;
			return -EADDRNOTAVAIL;
		}
		accept->client = &w->nat_addr[svc->route_id];
		accept->client_port = m->fwd_ctx.sport;
		/*
		 * TCP and UDP clients get a port of their own; ICMP keeps its identifier (the
		 * carried ICMP header is not rewritten), so two translated clients pinging
		 * with the same identifier at once would share a key: a known limit.
		 */
		if (router_worker_nat_ports(m->fwd_ctx.proto) &&
		    svr_waypoint_ports_get(w->nat_ports[svc->route_id], &nat_port, &unused) < 0) {
			*reason = PKT_DROP_ROUTER_NAT_UNAVAILABLE;
			return -EADDRNOTAVAIL;
		}
		if (router_worker_nat_ports(m->fwd_ctx.proto))
			accept->client_port = nat_port;
		break;
	}
	/*
	 * ICMPv6 is carried with its own checksum, which covers the addresses: translating
	 * them would deliver a wrong checksum, so such sessions are refused, not mangled.
	 */
	if ((accept->server != NULL || accept->client != NULL) &&
	    m->fwd_ctx.proto == IPPROTO_ICMPV6) {
		*reason = PKT_DROP_ROUTER_NAT_UNAVAILABLE;
		return -EPROTONOSUPPORT;
	}
	accept->tenant_id = (uint16_t)svc->route_id;
	accept->service_id = (uint16_t)(svc - cfg->services);
	accept->path_id = (uint16_t)path;
	accept->encrypt = svc->encryption;
	accept->tcp_syn_required = true;
	accept->half_open_full =
	    router_fw_half_open_full(&w->fw, session_table_opening(w->svr.sessions));
	return 0;
}

/* A new session's first packet, as on the LAN, to the application learner. */
static uint32_t
router_worker_learn_first(struct router_worker *w, const struct pkt_buf *p, uint16_t *app)
{
	size_t len = p->info.ip_len <= p->len ? p->info.ip_len : p->len;

	return router_learn_first(w->learn, p->buf + p->head, len, w->now_ns, app);
}

/* The tenant the metadata names, by config index (ROUTER_LEARN_TENANT_NONE: none). */
static uint32_t
router_worker_meta_tenant(const struct router_worker *w, const struct svr_meta *m)
{
	for (size_t t = 0; t < w->cfg->tenant_count && (m->present & SVR_META_F_TENANT); t++)
		if (router_worker_str_is(&m->tenant, w->cfg->tenants[t].name))
			return (uint32_t)t;
	return ROUTER_LEARN_TENANT_NONE;
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

const struct svr_path *
router_worker_path(const struct router_worker *w, uint32_t path_id)
{
	return path_id < w->cfg->path_count ? &w->paths[path_id] : NULL;
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

int
router_worker_session_explain(const struct router_worker *w, const struct session *s, char *buf,
    size_t len)
{
	const char *names[PATH_SELECT_CANDIDATES_MAX];
	const struct router_config_peer *peer;
	struct path_choice choice;
	int rc;

	if (s->service_id >= w->cfg->service_count || s->path_id >= w->cfg->path_count)
		return -ENOENT;
	peer = &w->cfg->peers[w->cfg->paths[s->path_id].peer_id];
	rc = router_worker_select(w, &w->cfg->services[s->service_id], s->path_id,
	    router_worker_session_hash(s), &choice);
	if (rc < 0 && rc != -ENETUNREACH && rc != -EHOSTUNREACH)
		return rc;
	for (uint32_t i = 0; i < peer->path_count && i < PATH_SELECT_CANDIDATES_MAX; i++)
		names[i] = w->cfg->paths[peer->path_first + i].name;
	return path_choice_format(&choice, names, buf, len);
}

uint32_t
router_worker_path_sessions(const struct router_worker *w, uint32_t path_id)
{
	struct session_table *t = w->svr.sessions;
	uint32_t n = 0;

	for (uint32_t i = session_table_next(t, 0); i != SESSION_INDEX_NONE;
	     i = session_table_next(t, i + 1))
		n += session_table_get(t, i)->path_id == path_id;
	return n;
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

const struct path_log *
router_worker_log(const struct router_worker *w)
{
	return w->log;
}

const struct path_log *
router_worker_sla_log(const struct router_worker *w)
{
	return w->sla_log;
}

/* The what-if's path for a breakout: what router_breakout_open() would say. */
static void
router_worker_breakout_test(const struct router_worker *w, const struct router_worker_what_if *wi,
    const struct router_config_service *svc, struct router_worker_verdict *out)
{
	const struct router_config_wan *wan = &w->cfg->wans[svc->route_id];
	char text[ADDR_TEXT_MAX];
	uint32_t free_ports = router_breakout_ports_free(w->breakout, svc->route_id);

	addr_format(&wan->waypoint, text, sizeof(text));
	snprintf(out->path, sizeof(out->path), "%s (%s, source NAT to %s)", wan->name, wan->device,
	    text);
	if (out->drop[0] != '\0')
		return;
	if ((wi->proto != IPPROTO_TCP && wi->proto != IPPROTO_UDP) ||
	    wi->src.family != wan->waypoint.family)
		snprintf(out->drop, sizeof(out->drop), "%s",
		    pkt_drop_reason_name(PKT_DROP_ROUTER_BREAKOUT_UNSUPPORTED));
	else if (free_ports == 0)
		snprintf(out->drop, sizeof(out->drop), "%s",
		    pkt_drop_reason_name(PKT_DROP_ROUTER_BREAKOUT_PORTS_EXHAUSTED));
}

int
router_worker_policy_test(const struct router_worker *w, const struct router_worker_what_if *wi,
    struct router_worker_verdict *out)
{
	const struct router_config *cfg = w->cfg;
	const char *names[PATH_SELECT_CANDIDATES_MAX];
	const struct router_config_service *svc;
	const struct router_config_peer *peer;
	struct policy_decision d;
	struct policy_query q;
	struct path_choice choice;
	struct session_key key;
	uint32_t max_sessions, max_rate, in_use;
	size_t used;
	int rc;

	memset(out, 0, sizeof(*out));
	if (wi->lan >= cfg->lan_count)
		return -EINVAL;
	memset(&q, 0, sizeof(q));
	q.segment_id = wi->lan;
	q.src = wi->src;
	q.dst = wi->dst;
	q.proto = wi->proto;
	q.dst_port = wi->dst_port;
	q.domain = wi->sni != NULL && wi->sni[0] != '\0' ? wi->sni : NULL;
	q.app = wi->app != NULL && wi->app[0] != '\0' ? wi->app : NULL;
	q.now_ns = w->now_ns;
	/* The same learnt names a live packet would be classified with. */
	router_worker_query_names(w, &q);
	if (q.domain != NULL)
		snprintf(out->sni, sizeof(out->sni), "%s", q.domain);
	if (q.app != NULL)
		snprintf(out->app, sizeof(out->app), "%s", q.app);
	if (router_worker_addr_is_local_scope(&wi->dst)) {
		snprintf(out->verdict, sizeof(out->verdict), "no-service");
		snprintf(out->drop, sizeof(out->drop), "%s",
		    pkt_drop_reason_name(PKT_DROP_ROUTER_LOCAL_SCOPE));
		snprintf(out->explanation, sizeof(out->explanation),
		    "link-local or multicast destination: never a service");
		return 0;
	}
	policy_classify(w->ingress_policy, &q, &d);
	used = (size_t)policy_decision_format(w->ingress_policy, &q, &d, out->explanation,
	    sizeof(out->explanation));
	if (used >= sizeof(out->explanation))
		used = sizeof(out->explanation) - 1;
	snprintf(out->verdict, sizeof(out->verdict), "%s", policy_verdict_name(d.verdict));
	if (d.tenant_id != POLICY_ID_NONE)
		snprintf(out->tenant, sizeof(out->tenant), "%s", cfg->tenants[d.tenant_id].name);
	if (d.service_id != POLICY_ID_NONE)
		snprintf(out->service, sizeof(out->service), "%s",
		    cfg->services[d.service_id].name);
	if (d.rule_id != POLICY_ID_NONE)
		snprintf(out->rule, sizeof(out->rule), "%s",
		    d.rule_id < cfg->rule_count ?
		        cfg->rules[d.rule_id].name :
		        cfg->services[w->implicit_rule_service[d.rule_id - cfg->rule_count]].name);
	if (d.rule_id != POLICY_ID_NONE && d.rule_id >= cfg->rule_count)
		snprintf(out->rule + strlen(out->rule), sizeof(out->rule) - strlen(out->rule),
		    ".access");
	if (d.verdict != POLICY_VERDICT_ALLOW) {
		snprintf(out->drop, sizeof(out->drop), "%s",
		    pkt_drop_reason_name(router_worker_policy_reason(d.verdict)));
		return 0;
	}
	svc = &cfg->services[d.service_id];
	if (svc->route_kind == ROUTER_CONFIG_ROUTE_BREAKOUT)
		snprintf(out->route, sizeof(out->route), "breakout %s",
		    cfg->wans[svc->route_id].name);
	else
		snprintf(out->route, sizeof(out->route), "peer %s", cfg->peers[svc->route_id].name);
	policy_tenant_limits(w->ingress_policy, d.tenant_index, &max_sessions, &max_rate);
	in_use = policy_limits_in_use(w->limits, d.tenant_index);
	{
		char s_text[32] = "no limit", r_text[32] = "no limit";

		if (max_sessions != 0)
			snprintf(s_text, sizeof(s_text), "%u", max_sessions);
		if (max_rate != 0)
			snprintf(r_text, sizeof(r_text), "%u/s", max_rate);
		snprintf(out->limit, sizeof(out->limit), "sessions %u of %s, new sessions %s",
		    in_use, s_text, r_text);
	}
	if (max_sessions != 0 && in_use >= max_sessions) {
		snprintf(out->drop, sizeof(out->drop), "%s",
		    pkt_drop_reason_name(PKT_DROP_POLICY_TENANT_SESSION_LIMIT));
		snprintf(out->limit + strlen(out->limit), sizeof(out->limit) - strlen(out->limit),
		    ": full, a new session is refused");
	}
	if (svc->route_kind == ROUTER_CONFIG_ROUTE_BREAKOUT) {
		router_worker_breakout_test(w, wi, svc, out);
		out->allowed = out->drop[0] == '\0';
		return 0;
	}
	peer = &cfg->peers[svc->route_id];
	/* The flow hash a live packet of this tuple would give (source port 0). */
	memset(&key, 0, sizeof(key));
	session_key_set(&key, wi->src.family, wi->proto, (uint16_t)wi->lan, wi->src.bytes,
	    wi->dst.bytes, 0, wi->dst_port);
	rc = router_worker_select(w, svc, peer->path_first,
	    hash_fn_bytes(ROUTER_WORKER_FLOW_SEED, &key, sizeof(key)), &choice);
	for (uint32_t i = 0; i < peer->path_count && i < PATH_SELECT_CANDIDATES_MAX; i++)
		names[i] = cfg->paths[peer->path_first + i].name;
	if (rc == 0) {
		snprintf(out->path, sizeof(out->path), "%s", cfg->paths[choice.path_id].name);
	} else if (rc == -ENETUNREACH) {
		snprintf(out->path, sizeof(out->path), "none (no path meets the SLA: dropped)");
		if (out->drop[0] == '\0')
			snprintf(out->drop, sizeof(out->drop), "%s",
			    pkt_drop_reason_name(PKT_DROP_SVR_NO_PATH));
	} else {
		snprintf(out->path, sizeof(out->path), "%s (no path is up)",
		    cfg->paths[peer->path_first].name);
	}
	if (rc == 0 || rc == -ENETUNREACH || rc == -EHOSTUNREACH) {
		out->explanation[used] = '\0';
		if (used + 3 < sizeof(out->explanation)) {
			memcpy(out->explanation + used, "; ", 3);
			path_choice_format(&choice, names, out->explanation + used + 2,
			    sizeof(out->explanation) - used - 2);
		}
	}
	out->allowed = out->drop[0] == '\0';
	return 0;
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
