/*
 * A worker's access policy (docs/policy.md; part of router_worker.h, the worker's
 * inside in router_worker_int.h): the engines built from the snapshot, a new LAN
 * session's classification, the egress's zero-trust acceptance of a session from a
 * peer, and the what-if (router_worker_policy_test).
 */
#include "router/router_worker.h"
#include "router/router_worker_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash_fn.h"
#include "path/path_select.h"
#include "pkt/pkt_parse.h"
#include "policy/policy_engine.h"
#include "policy/policy_limits.h"
#include "router/router_breakout.h"
#include "router/router_fw.h"
#include "router/router_learn.h"
#include "svr/svr_meta.h"
#include "svr/svr_waypoint.h"

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

int
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

enum pkt_drop_reason
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

bool
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
 * A new session from LAN segment lan: the policy's service and verdict, the tenant's
 * limits, then the path; or the drop reason. On success the tenant holds one more
 * session, which router_worker_on_release() gives back. Returns 0 for a session to a
 * peer, 1 for a breakout (route->path_id is then the WAN link), or a negative errno.
 */
int
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

/* A new session from a peer on WAN wan: may it in, and into which LAN segment. */
int
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

/* The tenant the metadata names, by config index (ROUTER_LEARN_TENANT_NONE: none). */
uint32_t
router_worker_meta_tenant(const struct router_worker *w, const struct svr_meta *m)
{
	for (size_t t = 0; t < w->cfg->tenant_count && (m->present & SVR_META_F_TENANT); t++)
		if (router_worker_str_is(&m->tenant, w->cfg->tenants[t].name))
			return (uint32_t)t;
	return ROUTER_LEARN_TENANT_NONE;
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
