/*
 * Randomized model test of policy_classify(): random configurations (overlapping
 * tenant prefixes, services sharing prefixes, ports, names and applications, rules
 * with wildcards) and random queries, each decided by the engine and by a naive linear
 * restatement of the rules of policy_engine.h written here; every decision must agree.
 * The seed is printed; TERN_SEED repeats a run.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "policy/policy_dns_cache.h"
#include "policy/policy_engine.h"
#include "test_rand.h"

#define CONFIGS         20
#define QUERIES         10000
#define MAX_SEGMENTS    4
#define MAX_TENANTS     8
#define MAX_SOURCES     4
#define MAX_SERVICES    48
#define MAX_LIST        3
#define MAX_RULES       40
#define ANY_SERVICE_PCT 10

static const char *const domain_pool[] = {"a.example", "*.example", "b.a.example", "*.a.example",
    "x.test", "*.test", "Deep.B.A.Example", "*.b.a.example"};
static const char *const query_names[] = {"a.example", "b.a.example", "c.b.a.example", "z.example",
    "example", "x.test", "y.x.test", "A.EXAMPLE.", "deep.b.a.example", "other.org"};
static const char *const app_pool[] = {"youtube", "Netflix", "zoom", "ssh"};

struct model {
	struct policy_segment_config segments[MAX_SEGMENTS];
	struct policy_tenant_source sources[MAX_TENANTS][MAX_SOURCES];
	struct policy_tenant_config tenants[MAX_TENANTS];
	struct prefix prefixes[MAX_SERVICES][MAX_LIST];
	struct policy_port_range ports[MAX_SERVICES][MAX_LIST];
	const char *domains[MAX_SERVICES][MAX_LIST];
	const char *apps[MAX_SERVICES][MAX_LIST];
	struct policy_service_config services[MAX_SERVICES];
	struct policy_rule_config rules[MAX_RULES];
	struct policy_config cfg;
};

/* An address in a small space, so prefixes overlap and queries hit them: 10.0.a.b or 2001:db8::a:b.
 */
static struct addr
rand_addr(uint64_t *rs)
{
	struct addr a;

	memset(&a, 0, sizeof(a));
	if (test_rand_below(rs, 8) == 0) {
		a.family = ADDR_FAMILY_V6;
		a.bytes[0] = 0x20;
		a.bytes[1] = 0x01;
		a.bytes[2] = 0x0d;
		a.bytes[3] = 0xb8;
		a.bytes[13] = (uint8_t)test_rand_below(rs, 4);
		a.bytes[15] = (uint8_t)test_rand_below(rs, 4);
	} else {
		a.family = ADDR_FAMILY_V4;
		a.bytes[0] = 10;
		a.bytes[2] = (uint8_t)test_rand_below(rs, 4);
		a.bytes[3] = (uint8_t)(test_rand_below(rs, 4) * 64 + test_rand_below(rs, 3));
	}
	return a;
}

static struct prefix
rand_prefix(uint64_t *rs)
{
	static const unsigned v4_lens[] = {0, 8, 16, 22, 24, 26, 32};
	static const unsigned v6_lens[] = {0, 32, 112, 120, 126, 128};
	struct addr a = rand_addr(rs);
	struct prefix p;
	unsigned len = a.family == ADDR_FAMILY_V4 ? v4_lens[test_rand_below(rs, 7)] :
	                                            v6_lens[test_rand_below(rs, 6)];

	prefix_from_addr(&p, &a, len);
	return p;
}

static struct policy_port_range
rand_ports(uint64_t *rs)
{
	static const uint8_t protos[] = {0, 6, 17, 1};
	struct policy_port_range r;
	uint16_t a = (uint16_t)(20 + test_rand_below(rs, 10)),
	         b = (uint16_t)(20 + test_rand_below(rs, 10));

	r.proto = protos[test_rand_below(rs, 4)];
	if (test_rand_below(rs, 4) == 0) {
		r.port_lo = 0;
		r.port_hi = 65535;
	} else {
		r.port_lo = a < b ? a : b;
		r.port_hi = a < b ? b : a;
	}
	return r;
}

static bool
source_taken(const struct model *m, size_t tenants, size_t count, uint32_t seg,
    const struct prefix *p)
{
	for (size_t t = 0; t <= tenants; t++) {
		size_t n = t < tenants ? m->tenants[t].source_count : count;

		for (size_t k = 0; k < n; k++)
			if (m->sources[t][k].segment_id == seg &&
			    prefix_equal(&m->sources[t][k].prefix, p))
				return true;
	}
	return false;
}

static void
model_make(struct model *m, uint64_t *rs)
{
	size_t nseg = 1 + test_rand_below(rs, MAX_SEGMENTS),
	       nt = 1 + test_rand_below(rs, MAX_TENANTS);
	size_t ns = test_rand_below(rs, MAX_SERVICES + 1), nr = test_rand_below(rs, MAX_RULES + 1);

	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < nseg; i++) {
		m->segments[i].id = (uint32_t)(100 + i * 7);
		m->segments[i].name = "seg";
		m->segments[i].default_tenant_id = test_rand_below(rs, 2) ?
		    (uint32_t)(1000 + test_rand_below(rs, nt) * 3) :
		    POLICY_ID_NONE;
	}
	for (size_t t = 0; t < nt; t++) {
		size_t count = 0, want = test_rand_below(rs, MAX_SOURCES + 1);

		for (size_t k = 0; k < want; k++) {
			uint32_t seg = m->segments[test_rand_below(rs, nseg)].id;
			struct prefix p = rand_prefix(rs);

			if (source_taken(m, t, count, seg, &p))
				continue;
			m->sources[t][count].segment_id = seg;
			m->sources[t][count++].prefix = p;
		}
		m->tenants[t].id = (uint32_t)(1000 + t * 3);
		m->tenants[t].name = "tenant";
		m->tenants[t].sources = m->sources[t];
		m->tenants[t].source_count = count;
	}
	for (size_t s = 0; s < ns; s++) {
		struct policy_service_config *sc = &m->services[s];
		bool any = test_rand_below(rs, 100) < ANY_SERVICE_PCT;

		sc->id = (uint32_t)(5000 + s * 11);
		sc->name = "service";
		sc->prefix_count = any ? 0 : test_rand_below(rs, MAX_LIST + 1);
		sc->port_count = test_rand_below(rs, MAX_LIST + 1);
		sc->domain_count = any          ? 0 :
		    test_rand_below(rs, 3) == 0 ? 1 + test_rand_below(rs, 2) :
		                                  0;
		sc->app_count = any ? 0 : test_rand_below(rs, 5) == 0 ? 1 : 0;
		for (size_t k = 0; k < sc->prefix_count; k++)
			m->prefixes[s][k] = rand_prefix(rs);
		for (size_t k = 0; k < sc->port_count; k++)
			m->ports[s][k] = rand_ports(rs);
		for (size_t k = 0; k < sc->domain_count; k++)
			m->domains[s][k] = domain_pool[test_rand_below(rs, 8)];
		for (size_t k = 0; k < sc->app_count; k++)
			m->apps[s][k] = app_pool[test_rand_below(rs, 4)];
		sc->prefixes = m->prefixes[s];
		sc->ports = m->ports[s];
		sc->domains = m->domains[s];
		sc->apps = m->apps[s];
		sc->route_kind = (uint8_t)test_rand_below(rs, 4);
		sc->route_target_id = (uint32_t)test_rand_below(rs, 5);
	}
	for (size_t r = 0; r < nr; r++) {
		struct policy_rule_config *rc = &m->rules[r];

		rc->id = (uint32_t)(r * 2 + 1);
		rc->tenant_id = test_rand_below(rs, 4) == 0 ?
		    POLICY_ID_ANY :
		    m->tenants[test_rand_below(rs, nt)].id;
		rc->service_id = ns == 0 || test_rand_below(rs, 4) == 0 ?
		    POLICY_ID_ANY :
		    m->services[test_rand_below(rs, ns)].id;
		rc->action = test_rand_below(rs, 3) == 0 ? POLICY_DENY : POLICY_ALLOW;
	}
	m->cfg = (struct policy_config){m->segments, nseg, m->tenants, nt, m->services, ns,
	    m->rules, nr};
}

/* ---- The naive model: every rule of policy_engine.h, by scanning everything. ---- */

static void
lower_copy(const char *in, char *out, size_t cap)
{
	size_t n = strlen(in);

	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n >= cap)
		n = cap - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] - 'A' + 'a' : in[i]);
	out[n] = '\0';
}

/* The specificity of pattern for name (both lower case), 0 when it does not match. */
static uint32_t
naive_domain_spec(const char *pattern_in, const char *name)
{
	char pattern[300];
	size_t pl, nl = strlen(name);

	lower_copy(pattern_in, pattern, sizeof(pattern));
	if (pattern[0] == '*') {
		pl = strlen(pattern + 2);
		if (nl > pl + 1 && strcmp(name + nl - pl, pattern + 2) == 0 &&
		    name[nl - pl - 1] == '.')
			return (uint32_t)pl;
		return 0;
	}
	return strcmp(pattern, name) == 0 ? 1024 + (uint32_t)nl : 0;
}

static uint32_t
naive_port_rank(const struct policy_service_config *s, uint8_t proto, uint16_t port)
{
	uint32_t best = 0;
	bool has_ports = proto == 6 || proto == 17 || proto == 132 || proto == 136;

	if (s->port_count == 0)
		return 1;
	for (size_t k = 0; k < s->port_count; k++) {
		const struct policy_port_range *r = &s->ports[k];
		bool full = r->port_lo == 0 && r->port_hi == 65535;
		uint32_t rank;

		if (r->proto != 0 && r->proto != proto)
			continue;
		if (!full && !(has_ports && port >= r->port_lo && port <= r->port_hi))
			continue;
		rank = 1 + (r->proto ? 65536u : 0) + 65535u - (uint32_t)(r->port_hi - r->port_lo);
		if (rank > best)
			best = rank;
	}
	return best;
}

struct naive_decision {
	uint8_t verdict;
	uint32_t tenant_id, service_id, rule_id;
	uint8_t service_by;
};

static void
naive_classify(const struct model *m, const struct policy_query *q, struct naive_decision *d)
{
	const struct policy_config *c = &m->cfg;
	const struct policy_segment_config *seg = NULL;
	uint32_t tenant = POLICY_ID_NONE, best_len = 0;
	bool found = false;
	char sni[300], learnt[300];
	const char *l;
	size_t best = SIZE_MAX;
	uint8_t best_by = 0;
	uint32_t best_spec = 0, best_rank = 0;

	memset(d, 0, sizeof(*d));
	d->tenant_id = d->service_id = d->rule_id = POLICY_ID_NONE;
	for (size_t i = 0; i < c->segment_count; i++)
		if (c->segments[i].id == q->segment_id)
			seg = &c->segments[i];
	if (seg != NULL) {
		for (size_t t = 0; t < c->tenant_count; t++)
			for (size_t k = 0; k < c->tenants[t].source_count; k++) {
				const struct policy_tenant_source *s = &c->tenants[t].sources[k];

				if (s->segment_id == seg->id &&
				    prefix_contains(&s->prefix, &q->src) &&
				    (!found || s->prefix.len > best_len)) {
					found = true;
					best_len = s->prefix.len;
					tenant = c->tenants[t].id;
				}
			}
		if (!found)
			tenant = seg->default_tenant_id;
	}
	if (tenant == POLICY_ID_NONE) {
		d->verdict = POLICY_VERDICT_NO_TENANT;
		return;
	}
	d->tenant_id = tenant;

	if (q->domain != NULL)
		lower_copy(q->domain, sni, sizeof(sni));
	l = q->dns != NULL ? policy_dns_lookup(q->dns, tenant, &q->dst, q->now_ns) : NULL;
	if (l != NULL)
		lower_copy(l, learnt, sizeof(learnt));
	for (size_t i = 0; i < c->service_count; i++) {
		const struct policy_service_config *s = &c->services[i];
		uint32_t rank = naive_port_rank(s, q->proto, q->dst_port), spec = 0;
		uint8_t by = 0;

		if (rank == 0)
			continue;
		for (size_t k = 0; k < s->app_count && q->app != NULL; k++)
			if (strcasecmp(s->apps[k], q->app) == 0)
				by = POLICY_SERVICE_BY_APP;
		for (size_t k = 0; by == 0 && k < s->domain_count && q->domain != NULL; k++) {
			uint32_t sp = naive_domain_spec(s->domains[k], sni);

			if (sp > spec)
				spec = sp;
		}
		if (by == 0 && spec > 0)
			by = POLICY_SERVICE_BY_DOMAIN;
		for (size_t k = 0; by == 0 && k < s->domain_count && l != NULL; k++) {
			uint32_t sp = naive_domain_spec(s->domains[k], learnt);

			if (sp > spec)
				spec = sp;
		}
		if (by == 0 && spec > 0)
			by = POLICY_SERVICE_BY_DNS;
		for (size_t k = 0; by == 0 && k < s->prefix_count; k++)
			if (prefix_contains(&s->prefixes[k], &q->dst) &&
			    (spec == 0 || s->prefixes[k].len + 1u > spec))
				spec = s->prefixes[k].len + 1u; /* +1: a /0 still matches */
		if (by == 0 && spec > 0) {
			by = POLICY_SERVICE_BY_PREFIX;
			spec--;
		}
		if (by == 0 && s->prefix_count == 0 && s->domain_count == 0 && s->app_count == 0)
			by = POLICY_SERVICE_BY_ANY;
		if (by == 0)
			continue;
		if (best == SIZE_MAX || by > best_by || (by == best_by && spec > best_spec) ||
		    (by == best_by && spec == best_spec && rank > best_rank)) {
			best = i;
			best_by = by;
			best_spec = spec;
			best_rank = rank;
		}
	}
	if (best == SIZE_MAX) {
		d->verdict = POLICY_VERDICT_NO_SERVICE;
		return;
	}
	d->service_id = c->services[best].id;
	d->service_by = best_by;
	d->verdict = POLICY_VERDICT_NO_RULE;
	for (int pass = 0; pass < 2 && d->verdict == POLICY_VERDICT_NO_RULE; pass++)
		for (size_t r = 0; r < c->rule_count; r++) {
			const struct policy_rule_config *rc = &c->rules[r];

			if ((rc->tenant_id == tenant || rc->tenant_id == POLICY_ID_ANY) &&
			    (rc->service_id == d->service_id || rc->service_id == POLICY_ID_ANY) &&
			    rc->action == (pass == 0 ? POLICY_DENY : POLICY_ALLOW)) {
				d->verdict =
				    pass == 0 ? POLICY_VERDICT_DENY_BY_RULE : POLICY_VERDICT_ALLOW;
				d->rule_id = rc->id;
				break;
			}
		}
}

static void
test_policy_classify_matches_naive_model(void **state)
{
	uint64_t seed = test_seed(), rs = seed;
	static struct model m;
	uint64_t counts[6] = {0};

	(void)state;
	for (int cfg = 0; cfg < CONFIGS; cfg++) {
		struct policy_dns_cache *dns = policy_dns_cache_new(256);
		struct policy *p = NULL;
		char err[256];

		model_make(&m, &rs);
		if (policy_new(&m.cfg, &p, err, sizeof(err)) != 0)
			fail_msg("config %d: %s", cfg, err);
		/* Some names learnt per tenant, long-lived (expiry has its own unit test). */
		for (int k = 0; k < 64; k++) {
			struct addr a = rand_addr(&rs);

			policy_dns_learn(dns,
			    m.tenants[test_rand_below(&rs, m.cfg.tenant_count)].id,
			    query_names[test_rand_below(&rs, 10)], &a, 3600, 0);
		}
		for (int i = 0; i < QUERIES; i++) {
			struct policy_query q;
			struct policy_decision d;
			struct naive_decision n;
			int rc;

			memset(&q, 0, sizeof(q));
			q.segment_id = test_rand_below(&rs, 10) == 0 ?
			    999 :
			    m.segments[test_rand_below(&rs, m.cfg.segment_count)].id;
			q.src = rand_addr(&rs);
			q.dst = rand_addr(&rs);
			q.proto = (uint8_t)(test_rand_below(&rs, 3) == 0 ? 1 :
			        test_rand_below(&rs, 2)                  ? 6 :
			                                                   17);
			q.dst_port = (uint16_t)(18 + test_rand_below(&rs, 14));
			q.domain = test_rand_below(&rs, 3) == 0 ?
			    query_names[test_rand_below(&rs, 10)] :
			    NULL;
			q.app =
			    test_rand_below(&rs, 6) == 0 ? app_pool[test_rand_below(&rs, 4)] : NULL;
			q.dns = test_rand_below(&rs, 2) ? dns : NULL;
			q.now_ns = 1;
			rc = policy_classify(p, &q, &d);
			naive_classify(&m, &q, &n);
			if (d.verdict != n.verdict || d.tenant_id != n.tenant_id ||
			    d.service_id != n.service_id || d.rule_id != n.rule_id ||
			    d.service_by != n.service_by)
				fail_msg(
				    "seed %llu config %d query %d: engine verdict %u tenant %u service "
				    "%u (by %u) rule %u, model %u %u %u (by %u) %u",
				    (unsigned long long)seed, cfg, i, d.verdict, d.tenant_id,
				    d.service_id, d.service_by, d.rule_id, n.verdict, n.tenant_id,
				    n.service_id, n.service_by, n.rule_id);
			assert_int_equal(rc, d.verdict == POLICY_VERDICT_ALLOW ? 0 : -EACCES);
			if (d.service_id != POLICY_ID_NONE) {
				for (size_t s = 0; s < m.cfg.service_count; s++)
					if (m.services[s].id == d.service_id)
						assert_int_equal(d.route_kind,
						    m.services[s].route_kind);
			}
			counts[d.verdict]++;
		}
		policy_dns_cache_free(dns);
		policy_free(p);
	}
	printf("# verdicts: allow %llu, deny-by-rule %llu, no-rule %llu, no-service %llu, "
	       "no-tenant %llu\n",
	    (unsigned long long)counts[1], (unsigned long long)counts[2],
	    (unsigned long long)counts[3], (unsigned long long)counts[4],
	    (unsigned long long)counts[5]);
	/* The generator must exercise every verdict, or the comparison proves little. */
	for (int v = 1; v <= 5; v++)
		assert_true(counts[v] > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_policy_classify_matches_naive_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
