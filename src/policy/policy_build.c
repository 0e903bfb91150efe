/*
 * Building a policy from its configuration (policy_new, policy_free): check every
 * entry, copy it, and make the lookup structures policy_classify() reads. Runs on the
 * control thread; all allocation of the engine happens here.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/hash_fn.h"
#include "lib/lpm.h"
#include "policy/policy_engine.h"
#include "policy/policy_engine_impl.h"
#include "policy/policy_name.h"

struct build {
	struct policy *p;
	char *err;
	size_t err_len;
};

__attribute__((format(printf, 3, 4))) static int
fail(struct build *b, int rc, const char *fmt, ...)
{
	va_list ap;

	if (b->err != NULL && b->err_len > 0) {
		va_start(ap, fmt);
		vsnprintf(b->err, b->err_len, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static uint32_t
id_index(const struct hash *h, uint32_t id)
{
	uint32_t v;

	return hash_lookup(h, &id, &v) == 0 ? v : POLICY_INDEX_NONE;
}

static int
text_copy(struct build *b, char **out, const char *in, const char *what, uint32_t id)
{
	if (in == NULL || in[0] == '\0')
		return fail(b, -EINVAL, "%s %u has no name", what, id);
	*out = strdup(in);
	return *out == NULL ? fail(b, -ENOMEM, "out of memory") : 0;
}

static bool
prefix_is_valid(const struct prefix *pf)
{
	struct prefix norm;

	if (pf->addr.family != ADDR_FAMILY_V4 && pf->addr.family != ADDR_FAMILY_V6)
		return false;
	if (prefix_from_addr(&norm, &pf->addr, pf->len) != 0)
		return false;
	return prefix_equal(&norm, pf);
}

static struct hash *
ids_new(uint32_t n)
{
	return hash_new(n > 0 ? n : 1, sizeof(uint32_t), 0);
}

static int
build_segments(struct build *b, const struct policy_config *cfg)
{
	struct policy *p = b->p;

	p->segment_ids = ids_new((uint32_t)cfg->segment_count);
	p->segments = calloc(cfg->segment_count + 1, sizeof(*p->segments));
	if (p->segment_ids == NULL || p->segments == NULL)
		return fail(b, -ENOMEM, "out of memory");
	for (size_t i = 0; i < cfg->segment_count; i++) {
		const struct policy_segment_config *sc = &cfg->segments[i];
		struct policy_segment *s = &p->segments[i];
		int rc;

		s->id = sc->id;
		s->default_tenant = POLICY_INDEX_NONE;
		p->segment_count++;
		if ((rc = text_copy(b, &s->name, sc->name, "segment", sc->id)) != 0)
			return rc;
		if (hash_add(p->segment_ids, &sc->id, (uint32_t)i, NULL) != 0)
			return fail(b, -EEXIST, "segment %s: id %u is used twice", sc->name,
			    sc->id);
		if (sc->id < POLICY_SEGMENT_DIRECT_MAX && sc->id >= p->segment_direct_len)
			p->segment_direct_len = sc->id + 1;
	}
	/* Small ids (router config indices are) skip the hash on every decision. */
	p->segment_direct = calloc(p->segment_direct_len + 1, sizeof(*p->segment_direct));
	if (p->segment_direct == NULL)
		return fail(b, -ENOMEM, "out of memory");
	for (uint32_t k = 0; k < p->segment_direct_len; k++)
		p->segment_direct[k] = POLICY_INDEX_NONE;
	for (uint32_t i = 0; i < p->segment_count; i++)
		if (p->segments[i].id < p->segment_direct_len)
			p->segment_direct[p->segments[i].id] = i;
	return 0;
}

static int
build_tenants(struct build *b, const struct policy_config *cfg)
{
	struct policy *p = b->p;
	uint32_t *per_segment;
	int rc = 0;

	p->tenant_ids = ids_new((uint32_t)cfg->tenant_count);
	p->tenants = calloc(cfg->tenant_count + 1, sizeof(*p->tenants));
	per_segment = calloc(p->segment_count + 1, sizeof(*per_segment));
	if (p->tenant_ids == NULL || p->tenants == NULL || per_segment == NULL) {
		rc = fail(b, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < cfg->tenant_count; i++) {
		const struct policy_tenant_config *tc = &cfg->tenants[i];
		struct policy_tenant *t = &p->tenants[i];

		t->id = tc->id;
		t->max_sessions = tc->max_sessions;
		t->max_new_per_s = tc->max_new_per_s;
		p->tenant_count++;
		if ((rc = text_copy(b, &t->name, tc->name, "tenant", tc->id)) != 0)
			goto out;
		if (tc->id >= POLICY_ID_ANY ||
		    hash_add(p->tenant_ids, &tc->id, (uint32_t)i, NULL) != 0) {
			rc = fail(b, -EEXIST, "tenant %s: id %u is reserved or used twice",
			    tc->name, tc->id);
			goto out;
		}
		for (size_t k = 0; k < tc->source_count; k++) {
			uint32_t seg = id_index(p->segment_ids, tc->sources[k].segment_id);

			if (seg == POLICY_INDEX_NONE) {
				rc = fail(b, -ENOENT, "tenant %s: no segment with id %u", tc->name,
				    tc->sources[k].segment_id);
				goto out;
			}
			if (!prefix_is_valid(&tc->sources[k].prefix)) {
				rc = fail(b, -EINVAL, "tenant %s: source %zu is not a valid prefix",
				    tc->name, k);
				goto out;
			}
			per_segment[seg]++;
		}
	}
	for (uint32_t s = 0; s < p->segment_count; s++) {
		if (per_segment[s] == 0)
			continue;
		p->segments[s].sources = lpm_new(per_segment[s]);
		if (p->segments[s].sources == NULL) {
			rc = fail(b, -ENOMEM, "out of memory");
			goto out;
		}
	}
	for (size_t i = 0; i < cfg->tenant_count; i++) {
		const struct policy_tenant_config *tc = &cfg->tenants[i];

		for (size_t k = 0; k < tc->source_count; k++) {
			uint32_t seg = id_index(p->segment_ids, tc->sources[k].segment_id);
			char text[PREFIX_TEXT_MAX];

			if (lpm_add(p->segments[seg].sources, &tc->sources[k].prefix,
			        (uint32_t)i) == 0)
				continue;
			prefix_format(&tc->sources[k].prefix, text, sizeof(text));
			rc = fail(b, -EEXIST, "tenant %s: source %s is given twice in segment %s",
			    tc->name, text, p->segments[seg].name);
			goto out;
		}
	}
	for (size_t i = 0; i < cfg->segment_count; i++) {
		uint32_t def = cfg->segments[i].default_tenant_id;

		if (def == POLICY_ID_NONE)
			continue;
		p->segments[i].default_tenant = id_index(p->tenant_ids, def);
		if (p->segments[i].default_tenant == POLICY_INDEX_NONE) {
			rc = fail(b, -ENOENT, "segment %s: default tenant %u does not exist",
			    p->segments[i].name, def);
			goto out;
		}
	}
out:
	free(per_segment);
	return rc;
}

/* Adds one pattern to a name index (digest -> chain of entries). */
static int
name_index_add(struct build *b, struct hash *index, const char *text, uint32_t service,
    uint32_t pattern)
{
	struct policy *p = b->p;
	uint64_t digest = hash_fn_bytes(p->name_seed, text, strlen(text));
	struct policy_name_entry *e = &p->names[p->name_count];
	uint32_t id;
	int rc;

	e->text = text;
	e->service = service;
	e->pattern = pattern;
	e->next = POLICY_INDEX_NONE;
	rc = hash_add(index, &digest, p->name_count, &id);
	if (rc == -EEXIST) {
		uint32_t *head = hash_value(index, id);

		e->next = *head;
		*head = p->name_count;
	} else if (rc != 0) {
		return fail(b, rc, "name index full");
	}
	p->name_count++;
	return 0;
}

static int
build_service_lists(struct build *b, const struct policy_config *cfg)
{
	struct policy *p = b->p;
	size_t np = 0, nport = 0, nd = 0, na = 0;

	for (size_t i = 0; i < cfg->service_count; i++) {
		np += cfg->services[i].prefix_count;
		nport += cfg->services[i].port_count;
		nd += cfg->services[i].domain_count;
		na += cfg->services[i].app_count;
	}
	if (np > LPM_CAPACITY_MAX || nd + na > HASH_CAPACITY_MAX)
		return fail(b, -EINVAL, "too many service prefixes or names");
	p->prefixes = calloc(np + 1, sizeof(*p->prefixes));
	p->ports = calloc(nport + 1, sizeof(*p->ports));
	p->domains = calloc(nd + 1, sizeof(*p->domains));
	p->apps = calloc(na + 1, sizeof(*p->apps));
	p->names = calloc(nd + na + 1, sizeof(*p->names));
	p->exact_index = hash_new((uint32_t)nd + 1, sizeof(uint64_t), 0);
	p->wildcard_index = hash_new((uint32_t)nd + 1, sizeof(uint64_t), 0);
	p->app_index = hash_new((uint32_t)na + 1, sizeof(uint64_t), 0);
	p->dst = lpm_new((uint32_t)np + 1);
	p->groups = calloc(np + 2, sizeof(*p->groups)); /* and the any group */
	p->group_services = calloc(np + 1, sizeof(*p->group_services));
	p->any_services = calloc(cfg->service_count + 1, sizeof(*p->any_services));
	if (p->prefixes == NULL || p->ports == NULL || p->domains == NULL || p->apps == NULL ||
	    p->names == NULL || p->exact_index == NULL || p->wildcard_index == NULL ||
	    p->app_index == NULL || p->dst == NULL || p->groups == NULL ||
	    p->group_services == NULL || p->any_services == NULL)
		return fail(b, -ENOMEM, "out of memory");
	p->name_seed = 0x5eed5eed5eed5eedull ^ (uint64_t)(uintptr_t)p;
	return 0;
}

static int
build_service(struct build *b, const struct policy_service_config *sc, uint32_t i)
{
	struct policy *p = b->p;
	struct policy_service *s = &p->services[i];
	char text[POLICY_DOMAIN_MAX + 3];
	int rc;

	s->id = sc->id;
	s->route_kind = sc->route_kind;
	s->route_target_id = sc->route_target_id;
	p->service_count++;
	if ((rc = text_copy(b, &s->name, sc->name, "service", sc->id)) != 0)
		return rc;
	if (sc->route_target_name != NULL &&
	    (s->route_target_name = strdup(sc->route_target_name)) == NULL)
		return fail(b, -ENOMEM, "out of memory");
	if (sc->id >= POLICY_ID_ANY || hash_add(p->service_ids, &sc->id, i, NULL) != 0)
		return fail(b, -EEXIST, "service %s: id %u is reserved or used twice", sc->name,
		    sc->id);
	if (sc->route_kind > POLICY_ROUTE_BREAKOUT)
		return fail(b, -EINVAL, "service %s: unknown route kind %u", sc->name,
		    sc->route_kind);
	s->prefix_first = p->prefix_total;
	for (size_t k = 0; k < sc->prefix_count; k++) {
		if (!prefix_is_valid(&sc->prefixes[k]))
			return fail(b, -EINVAL, "service %s: prefix %zu is not a valid prefix",
			    sc->name, k);
		p->prefixes[p->prefix_total++] = sc->prefixes[k];
	}
	s->prefix_count = (uint32_t)sc->prefix_count;
	s->port_first = p->port_total;
	for (size_t k = 0; k < sc->port_count; k++) {
		if (sc->ports[k].port_lo > sc->ports[k].port_hi)
			return fail(b, -EINVAL, "service %s: port range %u-%u is reversed",
			    sc->name, sc->ports[k].port_lo, sc->ports[k].port_hi);
		p->ports[p->port_total++] = sc->ports[k];
	}
	s->port_count = (uint32_t)sc->port_count;
	s->domain_first = p->domain_total;
	for (size_t k = 0; k < sc->domain_count; k++) {
		const char *d = sc->domains[k];
		bool wild = d != NULL && d[0] == '*' && d[1] == '.';

		if (d == NULL ||
		    policy_name_domain(wild ? d + 2 : d, text + 2, sizeof(text) - 2) < 0)
			return fail(b, -EINVAL,
			    "service %s: \"%s\" is not a domain name or *.suffix", sc->name,
			    d == NULL ? "(null)" : d);
		text[0] = '*';
		text[1] = '.';
		if ((p->domains[p->domain_total] = strdup(wild ? text : text + 2)) == NULL)
			return fail(b, -ENOMEM, "out of memory");
		rc = name_index_add(b, wild ? p->wildcard_index : p->exact_index,
		    p->domains[p->domain_total] + (wild ? 2 : 0), i, (uint32_t)k);
		p->domain_total++;
		if (rc != 0)
			return rc;
	}
	s->domain_count = (uint32_t)sc->domain_count;
	s->app_first = p->app_total;
	for (size_t k = 0; k < sc->app_count; k++) {
		if (policy_name_app(sc->apps[k], text, sizeof(text)) < 0)
			return fail(b, -EINVAL, "service %s: application %zu is not a valid name",
			    sc->name, k);
		if ((p->apps[p->app_total] = strdup(text)) == NULL)
			return fail(b, -ENOMEM, "out of memory");
		rc = name_index_add(b, p->app_index, p->apps[p->app_total], i, (uint32_t)k);
		p->app_total++;
		if (rc != 0)
			return rc;
	}
	s->app_count = (uint32_t)sc->app_count;
	s->matches_any = s->prefix_count == 0 && s->domain_count == 0 && s->app_count == 0;
	if (s->matches_any)
		p->any_services[p->any_count++] = i;
	return 0;
}

struct group_walk {
	struct policy *p;
	uint32_t stack[130]; /* the chain of enclosing prefixes: at most one per length */
	unsigned depth;
};

/* Visits groups shorter-first in address order, so the enclosing ones are on the stack. */
static int
group_parent_visit(const struct prefix *pf, uint32_t value, void *arg)
{
	struct group_walk *w = arg;
	struct policy_prefix_group *g = &w->p->groups[value];

	while (w->depth > 0 &&
	    !prefix_contains(&w->p->groups[w->stack[w->depth - 1]].prefix, &pf->addr))
		w->depth--;
	g->parent = w->depth > 0 ? w->stack[w->depth - 1] : POLICY_INDEX_NONE;
	if (w->depth < sizeof(w->stack) / sizeof(w->stack[0]))
		w->stack[w->depth++] = value;
	return 0;
}

/* One group per distinct prefix, holding its services in service order. */
static int
build_prefix_groups(struct build *b)
{
	struct policy *p = b->p;
	struct group_walk walk = {.p = p};
	uint32_t *fill;

	for (uint32_t i = 0; i < p->service_count; i++) {
		const struct policy_service *s = &p->services[i];

		for (uint32_t k = 0; k < s->prefix_count; k++) {
			const struct prefix *pf = &p->prefixes[s->prefix_first + k];
			uint32_t g;

			if (lpm_lookup_exact(p->dst, pf, &g) != 0) {
				g = p->group_count++;
				p->groups[g].prefix = *pf;
				if (lpm_add(p->dst, pf, g) != 0)
					return fail(b, -ENOMEM, "prefix table full");
			}
			p->groups[g].count++;
		}
	}
	for (uint32_t g = 0, at = 0; g < p->group_count; g++) {
		p->groups[g].first = at;
		at += p->groups[g].count;
	}
	fill = calloc(p->group_count + 1, sizeof(*fill));
	if (fill == NULL)
		return fail(b, -ENOMEM, "out of memory");
	for (uint32_t i = 0; i < p->service_count; i++) {
		const struct policy_service *s = &p->services[i];

		for (uint32_t k = 0; k < s->prefix_count; k++) {
			uint32_t g, *slot;

			(void)lpm_lookup_exact(p->dst, &p->prefixes[s->prefix_first + k], &g);
			slot = &p->group_services[p->groups[g].first];
			/* A service listing one prefix twice is in its group once. */
			if (fill[g] > 0 && slot[fill[g] - 1] == i) {
				p->groups[g].count--;
				continue;
			}
			slot[fill[g]++] = i;
		}
	}
	free(fill);
	return lpm_walk(p->dst, group_parent_visit, &walk);
}

static bool
proto_has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17 || proto == 132 || proto == 136;
}

static int
entry_order(const void *a, const void *b)
{
	const struct policy_port_entry *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank > y->rank ? -1 : 1;
	if (x->service != y->service)
		return x->service < y->service ? -1 : 1;
	return x->port_entry < y->port_entry ? -1 : x->port_entry > y->port_entry;
}

/* The entries of group g: single ports of port protocols to port_exact, the rest sorted. */
static int
build_group_ports(struct build *b, uint32_t g, const uint32_t *services, uint32_t n)
{
	struct policy *p = b->p;
	struct policy_prefix_group *grp = &p->groups[g];

	grp->rest_first = p->port_entry_count;
	for (uint32_t k = 0; k < n; k++) {
		const struct policy_service *s = &p->services[services[k]];

		if (s->port_count == 0) {
			p->port_entries[p->port_entry_count++] =
			    (struct policy_port_entry){services[k], 1, POLICY_INDEX_NONE, 0, 0,
			        65535};
			continue;
		}
		for (uint32_t e = 0; e < s->port_count; e++) {
			const struct policy_port_range *r = &p->ports[s->port_first + e];
			struct policy_port_entry *pe = &p->port_entries[p->port_entry_count];

			*pe = (struct policy_port_entry){services[k],
			    1 + (r->proto != 0 ? 65536u : 0) + (65535u - (r->port_hi - r->port_lo)),
			    e, r->proto, r->port_lo, r->port_hi};
			if (proto_has_ports(r->proto) && r->port_lo == r->port_hi) {
				struct policy_port_key key = {g, r->proto, 0, r->port_lo};
				int rc = hash_add(p->port_exact, &key, p->port_entry_count, NULL);

				/* Taken: by a service defined earlier, which wins the tie. */
				if (rc != 0 && rc != -EEXIST)
					return fail(b, rc, "port index full");
				if (rc == 0) {
					/* Kept out of the rest list: move it past the end later. */
					pe->rank = 0;
				}
			}
			p->port_entry_count++;
		}
	}
	grp->rest_count = p->port_entry_count - grp->rest_first;
	return 0;
}

/*
 * Port indexes of every group. Exact entries are first collected in place with rank
 * 0, then each group's entries are sorted so those sink to its end and are dropped from
 * its rest list; the hash is rebuilt with their final positions.
 */
static int
build_port_index(struct build *b)
{
	struct policy *p = b->p;
	size_t total = 0;
	int rc;

	for (uint32_t i = 0; i < p->service_count; i++) {
		const struct policy_service *s = &p->services[i];
		size_t per = s->port_count > 0 ? s->port_count : 1;

		total += per * (s->matches_any ? 1 : s->prefix_count);
	}
	if (total >= HASH_CAPACITY_MAX)
		return fail(b, -EINVAL, "too many service ports");
	p->port_entries = calloc(total + 1, sizeof(*p->port_entries));
	p->port_exact = hash_new((uint32_t)total + 1, sizeof(struct policy_port_key), 0);
	if (p->port_entries == NULL || p->port_exact == NULL)
		return fail(b, -ENOMEM, "out of memory");
	p->any_group = p->group_count;
	p->groups[p->any_group].parent = POLICY_INDEX_NONE;
	for (uint32_t g = 0; g <= p->group_count; g++) {
		if (g == p->any_group)
			rc = build_group_ports(b, g, p->any_services, p->any_count);
		else
			rc = build_group_ports(b, g, &p->group_services[p->groups[g].first],
			    p->groups[g].count);
		if (rc != 0)
			return rc;
	}
	hash_clear(p->port_exact);
	for (uint32_t g = 0; g <= p->group_count; g++) {
		struct policy_prefix_group *grp = &p->groups[g];
		struct policy_port_entry *e = &p->port_entries[grp->rest_first];
		uint32_t n = grp->rest_count;

		qsort(e, n, sizeof(*e), entry_order);
		while (n > 0 && e[n - 1].rank == 0) {
			const struct policy_port_entry *x = &e[n - 1];
			struct policy_port_key key = {g, x->proto, 0, x->port_lo};

			(void)hash_add(p->port_exact, &key, grp->rest_first + n - 1, NULL);
			grp->exact_count++;
			grp->exact_bloom |= 1ull << ((x->port_lo ^ x->proto) % 64);
			n--;
		}
		grp->rest_count = n;
	}
	return 0;
}

static int
build_services(struct build *b, const struct policy_config *cfg)
{
	struct policy *p = b->p;
	int rc;

	if (cfg->service_count >= POLICY_INDEX_ANY)
		return fail(b, -EINVAL, "too many services");
	p->service_ids = ids_new((uint32_t)cfg->service_count);
	p->services = calloc(cfg->service_count + 1, sizeof(*p->services));
	if (p->service_ids == NULL || p->services == NULL)
		return fail(b, -ENOMEM, "out of memory");
	if ((rc = build_service_lists(b, cfg)) != 0)
		return rc;
	for (size_t i = 0; i < cfg->service_count; i++) {
		if ((rc = build_service(b, &cfg->services[i], (uint32_t)i)) != 0)
			return rc;
	}
	if ((rc = build_prefix_groups(b)) != 0)
		return rc;
	return build_port_index(b);
}

struct rule_key {
	uint32_t tenant, service;
};

static int
tenant_rule_order(const void *a, const void *b)
{
	const struct policy_tenant_rule *x = a, *y = b;

	return x->tenant < y->tenant ? -1 : x->tenant > y->tenant;
}

/* The rule pairs of rule_index, as arrays the decision indexes without hashing. */
static int
build_rule_layout(struct build *b)
{
	struct policy *p = b->p;
	const struct policy_rule_pair none = {POLICY_INDEX_NONE, POLICY_INDEX_NONE};
	uint32_t *fill;

	p->any_any = none;
	p->tenant_any = calloc(p->tenant_count + 1, sizeof(*p->tenant_any));
	p->service_any = calloc(p->service_count + 1, sizeof(*p->service_any));
	p->service_rules_first = calloc(p->service_count + 2, sizeof(*p->service_rules_first));
	p->service_rules = calloc(p->rule_pair_count + 1, sizeof(*p->service_rules));
	fill = calloc(p->service_count + 1, sizeof(*fill));
	if (p->tenant_any == NULL || p->service_any == NULL || p->service_rules_first == NULL ||
	    p->service_rules == NULL || fill == NULL) {
		free(fill);
		return fail(b, -ENOMEM, "out of memory");
	}
	for (uint32_t t = 0; t < p->tenant_count; t++)
		p->tenant_any[t] = none;
	for (uint32_t s = 0; s < p->service_count; s++)
		p->service_any[s] = none;
	for (uint32_t id = hash_next(p->rule_index, 0); id != HASH_NONE;
	     id = hash_next(p->rule_index, id + 1)) {
		const struct rule_key *k = hash_key(p->rule_index, id);

		if (k->tenant != POLICY_INDEX_ANY && k->service != POLICY_INDEX_ANY)
			p->service_rules_first[k->service + 1]++;
	}
	for (uint32_t s = 0; s < p->service_count; s++)
		p->service_rules_first[s + 1] += p->service_rules_first[s];
	for (uint32_t id = hash_next(p->rule_index, 0); id != HASH_NONE;
	     id = hash_next(p->rule_index, id + 1)) {
		const struct rule_key *k = hash_key(p->rule_index, id);
		const struct policy_rule_pair *pair =
		    &p->rule_pairs[*hash_value(p->rule_index, id)];

		if (k->tenant == POLICY_INDEX_ANY && k->service == POLICY_INDEX_ANY)
			p->any_any = *pair;
		else if (k->service == POLICY_INDEX_ANY)
			p->tenant_any[k->tenant] = *pair;
		else if (k->tenant == POLICY_INDEX_ANY)
			p->service_any[k->service] = *pair;
		else
			p->service_rules[p->service_rules_first[k->service] + fill[k->service]++] =
			    (struct policy_tenant_rule){k->tenant, *pair};
	}
	for (uint32_t s = 0; s < p->service_count; s++)
		qsort(&p->service_rules[p->service_rules_first[s]],
		    p->service_rules_first[s + 1] - p->service_rules_first[s],
		    sizeof(p->service_rules[0]), tenant_rule_order);
	free(fill);
	return 0;
}

static int
build_rules(struct build *b, const struct policy_config *cfg)
{
	struct policy *p = b->p;
	struct hash *ids;
	int rc = 0;

	ids = ids_new((uint32_t)cfg->rule_count);
	p->rules = calloc(cfg->rule_count + 1, sizeof(*p->rules));
	p->rule_pairs = calloc(cfg->rule_count + 1, sizeof(*p->rule_pairs));
	p->rule_index = hash_new((uint32_t)cfg->rule_count + 1, sizeof(struct rule_key), 0);
	if (ids == NULL || p->rules == NULL || p->rule_pairs == NULL || p->rule_index == NULL) {
		rc = fail(b, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < cfg->rule_count; i++) {
		const struct policy_rule_config *rc_ = &cfg->rules[i];
		struct policy_rule *r = &p->rules[i];
		struct rule_key key;
		struct policy_rule_pair *pair;
		uint32_t id, *slot;

		r->id = rc_->id;
		r->action = rc_->action;
		p->rule_count++;
		if (rc_->name != NULL && (r->name = strdup(rc_->name)) == NULL) {
			rc = fail(b, -ENOMEM, "out of memory");
			goto out;
		}
		if (rc_->id >= POLICY_ID_ANY || hash_add(ids, &rc_->id, (uint32_t)i, NULL) != 0) {
			rc = fail(b, -EEXIST, "rule %u: id is reserved or used twice", rc_->id);
			goto out;
		}
		if (rc_->action != POLICY_ALLOW && rc_->action != POLICY_DENY) {
			rc = fail(b, -EINVAL, "rule %u: action must be allow or deny", rc_->id);
			goto out;
		}
		r->tenant = rc_->tenant_id == POLICY_ID_ANY ?
		    POLICY_INDEX_ANY :
		    id_index(p->tenant_ids, rc_->tenant_id);
		r->service = rc_->service_id == POLICY_ID_ANY ?
		    POLICY_INDEX_ANY :
		    id_index(p->service_ids, rc_->service_id);
		if (r->tenant == POLICY_INDEX_NONE || r->service == POLICY_INDEX_NONE) {
			rc = fail(b, -ENOENT, "rule %u: no %s with id %u", rc_->id,
			    r->tenant == POLICY_INDEX_NONE ? "tenant" : "service",
			    r->tenant == POLICY_INDEX_NONE ? rc_->tenant_id : rc_->service_id);
			goto out;
		}
		memset(&key, 0, sizeof(key));
		key.tenant = r->tenant;
		key.service = r->service;
		if (hash_add(p->rule_index, &key, p->rule_pair_count, &id) == 0) {
			pair = &p->rule_pairs[p->rule_pair_count++];
			pair->deny = POLICY_INDEX_NONE;
			pair->allow = POLICY_INDEX_NONE;
		} else {
			pair = &p->rule_pairs[*hash_value(p->rule_index, id)];
		}
		slot = r->action == POLICY_DENY ? &pair->deny : &pair->allow;
		if (*slot == POLICY_INDEX_NONE)
			*slot = (uint32_t)i;
	}
	if (rc == 0)
		rc = build_rule_layout(b);
out:
	hash_free(ids);
	return rc;
}

int
policy_new(const struct policy_config *cfg, struct policy **out, char *err, size_t err_len)
{
	struct build b = {.err = err, .err_len = err_len};
	int rc;

	*out = NULL;
	if (err != NULL && err_len > 0)
		err[0] = '\0';
	if (cfg->segment_count >= POLICY_INDEX_ANY || cfg->tenant_count >= POLICY_INDEX_ANY ||
	    cfg->rule_count >= HASH_CAPACITY_MAX)
		return fail(&b, -EINVAL, "too many segments, tenants or rules");
	b.p = calloc(1, sizeof(*b.p));
	if (b.p == NULL)
		return fail(&b, -ENOMEM, "out of memory");
	if ((rc = build_segments(&b, cfg)) != 0 || (rc = build_tenants(&b, cfg)) != 0 ||
	    (rc = build_services(&b, cfg)) != 0 || (rc = build_rules(&b, cfg)) != 0) {
		policy_free(b.p);
		return rc;
	}
	*out = b.p;
	return 0;
}

void
policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	for (uint32_t i = 0; i < p->segment_count; i++) {
		free(p->segments[i].name);
		lpm_free(p->segments[i].sources);
	}
	for (uint32_t i = 0; i < p->tenant_count; i++)
		free(p->tenants[i].name);
	for (uint32_t i = 0; i < p->service_count; i++) {
		free(p->services[i].name);
		free(p->services[i].route_target_name);
	}
	for (uint32_t i = 0; i < p->rule_count; i++)
		free(p->rules[i].name);
	for (uint32_t i = 0; i < p->domain_total; i++)
		free(p->domains[i]);
	for (uint32_t i = 0; i < p->app_total; i++)
		free(p->apps[i]);
	free(p->segments);
	free(p->tenants);
	free(p->services);
	free(p->rules);
	free(p->prefixes);
	free(p->ports);
	free(p->domains);
	free(p->apps);
	free(p->names);
	free(p->groups);
	free(p->group_services);
	free(p->any_services);
	free(p->port_entries);
	free(p->tenant_any);
	free(p->service_any);
	free(p->service_rules_first);
	free(p->service_rules);
	free(p->segment_direct);
	hash_free(p->port_exact);
	free(p->rule_pairs);
	hash_free(p->segment_ids);
	hash_free(p->tenant_ids);
	hash_free(p->service_ids);
	hash_free(p->exact_index);
	hash_free(p->wildcard_index);
	hash_free(p->app_index);
	hash_free(p->rule_index);
	lpm_free(p->dst);
	free(p);
}
