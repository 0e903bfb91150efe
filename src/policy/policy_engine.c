/*
 * The decision (policy_classify) and the accessors of a built policy. The order of
 * matching is in policy_engine.h; this file finds the best service by looking at the
 * evidence from the strongest down and stopping at the first kind that matches, which
 * gives the same answer as comparing every service (tests/unit/policy checks that
 * against a linear model).
 */
#include <errno.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/hash_fn.h"
#include "lib/lpm.h"
#include "policy/policy_dns_cache.h"
#include "policy/policy_engine.h"
#include "policy/policy_engine_impl.h"
#include "policy/policy_name.h"

/* A service match, compared field by field: the larger wins, then the lower index. */
struct match {
	uint32_t service;
	uint8_t by;    /* enum policy_service_by */
	uint32_t spec; /* length of the prefix or name; exact names above every wildcard */
	uint32_t port_rank;
	uint32_t port_entry;
	uint32_t pattern;
	struct prefix prefix;
};

#define SPEC_EXACT_NAME 1024u

static bool
proto_has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17 || proto == 132 || proto == 136;
}

/*
 * How well q's protocol and port fit service s: 0 no fit; 1 the service has no port
 * list; else 1 + 65536 for a named protocol + (65535 - width of the range).
 */
static uint32_t
port_rank(const struct policy *p, const struct policy_service *s, const struct policy_query *q,
    uint32_t *entry)
{
	uint32_t best = 0;

	*entry = POLICY_INDEX_NONE;
	if (s->port_count == 0)
		return 1;
	for (uint32_t k = 0; k < s->port_count; k++) {
		const struct policy_port_range *r = &p->ports[s->port_first + k];
		bool full = r->port_lo == 0 && r->port_hi == 65535;
		uint32_t rank;

		if (r->proto != 0 && r->proto != q->proto)
			continue;
		if (!full &&
		    (!proto_has_ports(q->proto) || q->dst_port < r->port_lo ||
		        q->dst_port > r->port_hi))
			continue;
		rank = 1 + (r->proto != 0 ? 65536u : 0) + (65535u - (r->port_hi - r->port_lo));
		if (rank > best) {
			best = rank;
			*entry = k;
		}
	}
	return best;
}

static bool
match_better(const struct match *a, const struct match *b)
{
	if (b->service == POLICY_INDEX_NONE)
		return true;
	if (a->by != b->by)
		return a->by > b->by;
	if (a->spec != b->spec)
		return a->spec > b->spec;
	if (a->port_rank != b->port_rank)
		return a->port_rank > b->port_rank;
	return a->service < b->service;
}

/* Offers service i, found by the given evidence, to best if its ports fit. */
static void
consider(const struct policy *p, const struct policy_query *q, struct match *best, uint32_t i,
    uint8_t by, uint32_t spec, uint32_t pattern)
{
	struct match m = {.service = i, .by = by, .spec = spec, .pattern = pattern};

	m.port_rank = port_rank(p, &p->services[i], q, &m.port_entry);
	if (m.port_rank != 0 && match_better(&m, best))
		*best = m;
}

/* Every pattern of index equal to text, offered with spec. */
static void
consider_name(const struct policy *p, const struct policy_query *q, struct match *best,
    const struct hash *index, const char *text, size_t len, uint8_t by, uint32_t spec)
{
	uint64_t digest = hash_fn_bytes(p->name_seed, text, len);
	uint32_t e;

	if (hash_lookup(index, &digest, &e) != 0)
		return;
	for (; e != POLICY_INDEX_NONE; e = p->names[e].next) {
		const struct policy_name_entry *n = &p->names[e];

		if (strncmp(n->text, text, len) == 0 && n->text[len] == '\0')
			consider(p, q, best, n->service, by, spec, n->pattern);
	}
}

/* Services whose domains match name (normalised, len bytes): exact, then "*.suffix". */
static void
consider_domain(const struct policy *p, const struct policy_query *q, struct match *best,
    const char *name, size_t len, uint8_t by)
{
	consider_name(p, q, best, p->exact_index, name, len, by, SPEC_EXACT_NAME + (uint32_t)len);
	for (size_t i = 0; i < len; i++) {
		if (name[i] == '.')
			consider_name(p, q, best, p->wildcard_index, name + i + 1, len - i - 1, by,
			    (uint32_t)(len - i - 1));
	}
}

/*
 * The best (service, port entry) of group g for q's protocol and port: a single port
 * of a port protocol is the highest rank there is, so the exact index answers first;
 * else the first entry of the rest that fits (they are in rank order). NULL: none fits.
 */
static const struct policy_port_entry *
group_best(const struct policy *p, uint32_t g, const struct policy_query *q)
{
	const struct policy_prefix_group *grp = &p->groups[g];
	bool ports = proto_has_ports(q->proto);
	uint32_t v;

	if (ports && (grp->exact_bloom >> ((q->dst_port ^ q->proto) % 64) & 1)) {
		struct policy_port_key key = {g, q->proto, 0, q->dst_port};

		if (hash_lookup(p->port_exact, &key, &v) == 0)
			return &p->port_entries[v];
	}
	for (uint32_t k = 0; k < grp->rest_count; k++) {
		const struct policy_port_entry *e = &p->port_entries[grp->rest_first + k];

		if (e->proto != 0 && e->proto != q->proto)
			continue;
		if ((e->port_lo == 0 && e->port_hi == 65535) ||
		    (ports && q->dst_port >= e->port_lo && q->dst_port <= e->port_hi))
			return e;
	}
	return NULL;
}

static void
take_group(const struct policy *p, uint32_t g, const struct policy_port_entry *e, uint8_t by,
    struct match *best)
{
	best->service = e->service;
	best->by = by;
	best->spec = by == POLICY_SERVICE_BY_PREFIX ? p->groups[g].prefix.len : 0;
	best->port_rank = e->rank;
	best->port_entry = e->port_entry;
	best->pattern = 0;
	if (by == POLICY_SERVICE_BY_PREFIX)
		best->prefix = p->groups[g].prefix;
}

static void
consider_prefixes(const struct policy *p, const struct policy_query *q, struct match *best)
{
	const struct policy_port_entry *e;
	uint32_t g;

	if (lpm_lookup(p->dst, &q->dst, &g, NULL) != 0)
		return;
	/* The longest group with a service whose ports fit wins; shorter ones cannot. */
	for (; g != POLICY_INDEX_NONE; g = p->groups[g].parent) {
		if ((e = group_best(p, g, q)) != NULL) {
			take_group(p, g, e, POLICY_SERVICE_BY_PREFIX, best);
			return;
		}
	}
}

static void
service_find(const struct policy *p, const struct policy_query *q, uint32_t tenant_id,
    struct match *best)
{
	char name[POLICY_DOMAIN_MAX + 1];
	const struct policy_port_entry *e;
	const char *learnt;
	int n;

	if (q->app != NULL && p->app_total > 0 &&
	    (n = policy_name_app(q->app, name, sizeof(name))) > 0)
		consider_name(p, q, best, p->app_index, name, (size_t)n, POLICY_SERVICE_BY_APP, 0);
	if (best->service != POLICY_INDEX_NONE)
		return;
	if (p->domain_total > 0) {
		if (q->domain != NULL &&
		    (n = policy_name_domain(q->domain, name, sizeof(name))) > 0)
			consider_domain(p, q, best, name, (size_t)n, POLICY_SERVICE_BY_DOMAIN);
		if (best->service != POLICY_INDEX_NONE)
			return;
		if (q->dns != NULL &&
		    (learnt = policy_dns_lookup(q->dns, tenant_id, &q->dst, q->now_ns)) != NULL)
			consider_domain(p, q, best, learnt, strlen(learnt), POLICY_SERVICE_BY_DNS);
		if (best->service != POLICY_INDEX_NONE)
			return;
	}
	consider_prefixes(p, q, best);
	if (best->service != POLICY_INDEX_NONE)
		return;
	if (p->any_count > 0 && (e = group_best(p, p->any_group, q)) != NULL)
		take_group(p, p->any_group, e, POLICY_SERVICE_BY_ANY, best);
}

/* prefix_from_addr() without its checks: len comes from the LPM, so it is valid. */
static void
prefix_mask(struct prefix *out, const struct addr *a, unsigned len)
{
	unsigned full = len / 8;

	out->addr = *a;
	out->len = (uint8_t)len;
	if (full < 16) {
		out->addr.bytes[full] &= (uint8_t)(0xff00u >> (len % 8));
		memset(out->addr.bytes + full + 1, 0, 15 - full);
	}
}

static uint32_t
tenant_find(const struct policy *p, const struct policy_query *q, struct policy_decision *out)
{
	const struct policy_segment *seg;
	uint32_t s, t;
	unsigned len;

	if (q->segment_id < p->segment_direct_len)
		s = p->segment_direct[q->segment_id];
	else if (q->segment_id < POLICY_SEGMENT_DIRECT_MAX ||
	    hash_lookup(p->segment_ids, &q->segment_id, &s) != 0)
		s = POLICY_INDEX_NONE;
	if (s == POLICY_INDEX_NONE)
		return POLICY_INDEX_NONE;
	seg = &p->segments[s];
	if (seg->sources != NULL && lpm_lookup(seg->sources, &q->src, &t, &len) == 0) {
		out->tenant_by = POLICY_TENANT_BY_PREFIX;
		prefix_mask(&out->tenant_prefix, &q->src, len);
		return t;
	}
	if (seg->default_tenant != POLICY_INDEX_NONE)
		out->tenant_by = POLICY_TENANT_BY_DEFAULT;
	return seg->default_tenant;
}

static void
rules_fold(const struct policy_rule_pair *pair, struct policy_rule_pair *acc)
{
	if (pair->deny < acc->deny)
		acc->deny = pair->deny;
	if (pair->allow < acc->allow)
		acc->allow = pair->allow;
}

/* The first deny and first allow among the rules for (t, s), (t, any), (any, s), (any, any). */
static void
rules_find(const struct policy *p, uint32_t t, uint32_t s, struct policy_rule_pair *acc)
{
	uint32_t lo = p->service_rules_first[s], hi = p->service_rules_first[s + 1];

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (p->service_rules[mid].tenant < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < p->service_rules_first[s + 1] && p->service_rules[lo].tenant == t)
		rules_fold(&p->service_rules[lo].pair, acc);
	rules_fold(&p->tenant_any[t], acc);
	rules_fold(&p->service_any[s], acc);
	rules_fold(&p->any_any, acc);
}

/* The verdict of the rules for tenant index t and service index sv, into out. */
static int
policy_rules_verdict(const struct policy *p, uint32_t t, uint32_t sv, struct policy_decision *out)
{
	struct policy_rule_pair acc = {POLICY_INDEX_NONE, POLICY_INDEX_NONE};

	rules_find(p, t, sv, &acc);
	if (acc.deny != POLICY_INDEX_NONE) {
		out->verdict = POLICY_VERDICT_DENY_BY_RULE;
		out->rule_index = acc.deny;
	} else if (acc.allow != POLICY_INDEX_NONE) {
		out->verdict = POLICY_VERDICT_ALLOW;
		out->rule_index = acc.allow;
	} else {
		out->verdict = POLICY_VERDICT_NO_RULE;
	}
	if (out->rule_index != POLICY_INDEX_NONE)
		out->rule_id = p->rules[out->rule_index].id;
	return out->verdict == POLICY_VERDICT_ALLOW ? 0 : -EACCES;
}

static void
policy_decision_reset(struct policy_decision *out)
{
	memset(out, 0, sizeof(*out));
	out->tenant_id = POLICY_ID_NONE;
	out->service_id = POLICY_ID_NONE;
	out->rule_id = POLICY_ID_NONE;
	out->route_target_id = POLICY_ID_NONE;
	out->tenant_index = POLICY_INDEX_NONE;
	out->service_index = POLICY_INDEX_NONE;
	out->rule_index = POLICY_INDEX_NONE;
	out->port_entry = POLICY_INDEX_NONE;
}

int
policy_decide_rules(const struct policy *p, uint32_t tenant_id, uint32_t service_id,
    struct policy_decision *out)
{
	uint32_t t, sv;

	policy_decision_reset(out);
	if (hash_lookup(p->tenant_ids, &tenant_id, &t) != 0) {
		out->verdict = POLICY_VERDICT_NO_TENANT;
		return -EACCES;
	}
	out->tenant_index = t;
	out->tenant_id = tenant_id;
	if (hash_lookup(p->service_ids, &service_id, &sv) != 0) {
		out->verdict = POLICY_VERDICT_NO_SERVICE;
		return -EACCES;
	}
	out->service_index = sv;
	out->service_id = service_id;
	out->route_kind = p->services[sv].route_kind;
	out->route_target_id = p->services[sv].route_target_id;
	return policy_rules_verdict(p, t, sv, out);
}

int
policy_classify(const struct policy *p, const struct policy_query *q, struct policy_decision *out)
{
	struct match best = {.service = POLICY_INDEX_NONE};
	const struct policy_service *s;
	uint32_t t;

	policy_decision_reset(out);

	t = tenant_find(p, q, out);
	if (t == POLICY_INDEX_NONE) {
		out->verdict = POLICY_VERDICT_NO_TENANT;
		return -EACCES;
	}
	out->tenant_index = t;
	out->tenant_id = p->tenants[t].id;

	service_find(p, q, out->tenant_id, &best);
	if (best.service == POLICY_INDEX_NONE) {
		out->verdict = POLICY_VERDICT_NO_SERVICE;
		return -EACCES;
	}
	s = &p->services[best.service];
	out->service_index = best.service;
	out->service_id = s->id;
	out->service_by = best.by;
	out->service_prefix = best.prefix;
	out->service_pattern = best.pattern;
	out->port_entry = best.port_entry;
	out->route_kind = s->route_kind;
	out->route_target_id = s->route_target_id;

	return policy_rules_verdict(p, t, best.service, out);
}

uint32_t
policy_tenant_count(const struct policy *p)
{
	return p->tenant_count;
}

uint32_t
policy_service_count(const struct policy *p)
{
	return p->service_count;
}

int
policy_tenant_index(const struct policy *p, uint32_t tenant_id)
{
	uint32_t v;

	return hash_lookup(p->tenant_ids, &tenant_id, &v) == 0 ? (int)v : -ENOENT;
}

const char *
policy_tenant_name(const struct policy *p, uint32_t tenant_index)
{
	return tenant_index < p->tenant_count ? p->tenants[tenant_index].name : NULL;
}

const char *
policy_service_name(const struct policy *p, uint32_t service_index)
{
	return service_index < p->service_count ? p->services[service_index].name : NULL;
}

void
policy_tenant_limits(const struct policy *p, uint32_t tenant_index, uint32_t *max_sessions,
    uint32_t *max_new_per_s)
{
	bool ok = tenant_index < p->tenant_count;

	*max_sessions = ok ? p->tenants[tenant_index].max_sessions : 0;
	*max_new_per_s = ok ? p->tenants[tenant_index].max_new_per_s : 0;
}
