/*
 * bench_policy: the policy decision for a session's first packet (policy_classify):
 * tenant by segment and source prefix, service by application, SNI, learnt DNS name,
 * destination prefix and port, then the access rules, with 10 000 services and 1 000
 * rules by default, all random but seeded (the same configuration every run).
 *
 * The configuration: 16 segments, 64 tenants (each two source prefixes in one segment,
 * a default tenant on half the segments); services with one to three IPv4 or IPv6
 * prefixes of /8 to /32 (nested, so lookups walk shorter prefixes when ports miss), zero
 * to two (protocol, port range) entries, one in ten also domains ("*.s123.example" or
 * "www.s123.example"), one in fifty an application name, a few with no destination at
 * all; rules of tenant or any, service or any, one in four a deny. The queries: a
 * million new sessions from the tenants' prefixes (some from nobody's) to addresses
 * inside random services' prefixes (some to nothing), TCP or UDP to the services' ports
 * or others, one in five with an SNI name, one in fifty with an application, and a DNS
 * cache holding names learnt for 4 096 destinations.
 *
 * Queries are made before the clock starts. Each run decides all of them in order;
 * ns per session is the run's time over the count, and the headline is the median of
 * the runs. A separate pass times every decision alone (clock_gettime around each,
 * its own cost measured and subtracted) for the p50 and p99. Every decision is counted
 * by verdict, so a benchmark that decided nothing fails instead of reporting a time.
 *
 * Prints human lines, then one JSON object as the last line.
 * Usage: bench_policy [--services N] [--rules N] [--queries N] [--runs N] [--seed N]
 */
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/policy_dns_cache.h"
#include "policy/policy_engine.h"

#define SEGMENTS        16
#define TENANTS         64
#define DNS_LEARNT      4096
#define DOMAIN_TEXT_MAX 40

static uint64_t rng;

static uint64_t
rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t
below(uint64_t n)
{
	return rnd() % n;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
fail(const char *what)
{
	fprintf(stderr, "bench_policy: %s\n", what);
	exit(1);
}

/* A random address: IPv4 in 10/8 or 100.64/10 mostly, IPv6 in 2001:db8::/32 sometimes. */
static struct addr
rand_addr(void)
{
	struct addr a;
	uint64_t r = rnd();

	memset(&a, 0, sizeof(a));
	if (below(8) == 0) {
		a.family = ADDR_FAMILY_V6;
		a.bytes[0] = 0x20;
		a.bytes[1] = 0x01;
		a.bytes[2] = 0x0d;
		a.bytes[3] = 0xb8;
		memcpy(a.bytes + 4, &r, 8);
		a.bytes[12] = (uint8_t)below(256);
		a.bytes[15] = (uint8_t)below(256);
	} else {
		a.family = ADDR_FAMILY_V4;
		a.bytes[0] = below(2) ? 10 : 100;
		a.bytes[1] = (uint8_t)(a.bytes[0] == 100 ? 64 + below(64) : below(256));
		a.bytes[2] = (uint8_t)(r >> 8);
		a.bytes[3] = (uint8_t)(r >> 16);
	}
	return a;
}

static struct prefix
rand_prefix(void)
{
	struct addr a = rand_addr();
	struct prefix p;
	unsigned len =
	    a.family == ADDR_FAMILY_V4 ? 8 + (unsigned)below(25) : 32 + (unsigned)below(97);

	prefix_from_addr(&p, &a, len);
	return p;
}

/* A host inside p. */
static struct addr
addr_in(const struct prefix *p)
{
	struct addr a = p->addr;
	unsigned bits = addr_bits(&a);

	for (unsigned i = p->len; i < bits; i++) {
		if (below(2))
			a.bytes[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	}
	return a;
}

struct bench {
	struct policy_segment_config segments[SEGMENTS];
	struct policy_tenant_config tenants[TENANTS];
	struct policy_tenant_source sources[TENANTS][2];
	struct policy_service_config *services;
	struct prefix (*prefixes)[3];
	struct policy_port_range (*ports)[2];
	char (*domain_text)[DOMAIN_TEXT_MAX];
	const char **domain_ptr;
	struct policy_rule_config *rules;
	struct policy_query *queries;
	char (*sni)[DOMAIN_TEXT_MAX];
	uint32_t nservices, nrules, nqueries;
};

static const char *const apps[] = {"youtube", "netflix", "zoom", "teams", "ssh", "bittorrent"};
static const uint8_t protos[] = {6, 6, 17, 0};

static void
config_make(struct bench *b)
{
	for (uint32_t s = 0; s < SEGMENTS; s++) {
		b->segments[s].id = s + 1;
		b->segments[s].name = "segment";
		b->segments[s].default_tenant_id =
		    s % 2 ? (uint32_t)below(TENANTS) : POLICY_ID_NONE;
	}
	for (uint32_t t = 0; t < TENANTS; t++) {
		uint32_t seg = 1 + (uint32_t)below(SEGMENTS);

		for (int k = 0; k < 2; k++) {
			struct addr a = rand_addr();

			b->sources[t][k].segment_id = seg;
			prefix_from_addr(&b->sources[t][k].prefix, &a,
			    a.family == ADDR_FAMILY_V4 ? 16 + (unsigned)below(9) :
			                                 48 + (unsigned)below(17));
		}
		b->tenants[t] = (struct policy_tenant_config){.id = t,
		    .name = "tenant",
		    .sources = b->sources[t],
		    .source_count = 2};
	}
	for (uint32_t i = 0; i < b->nservices; i++) {
		struct policy_service_config *s = &b->services[i];
		uint64_t kind = below(100);

		s->id = i;
		s->name = "service";
		s->route_kind = (uint8_t)(1 + below(3));
		s->route_target_id = (uint32_t)below(8);
		if (kind >= 1) {
			s->prefix_count = 1 + below(3);
			for (size_t k = 0; k < s->prefix_count; k++)
				b->prefixes[i][k] = rand_prefix();
			s->prefixes = b->prefixes[i];
		}
		/* A service with no destination always names its ports (dns: udp/53). */
		s->port_count = kind == 0 ? 1 : below(3);
		for (size_t k = 0; k < s->port_count; k++) {
			uint16_t lo = (uint16_t)(below(4) ? 1 + below(1024) : 1024 + below(60000));
			uint16_t w = (uint16_t)(below(3) ? 0 : below(1000));

			b->ports[i][k] = (struct policy_port_range){protos[below(4)], lo,
			    (uint16_t)(lo + w < lo ? 65535 : lo + w)};
		}
		s->ports = b->ports[i];
		if (kind >= 1 && kind < 11) {
			snprintf(b->domain_text[i], DOMAIN_TEXT_MAX,
			    below(2) ? "*.s%u.example" : "www.s%u.example", i);
			b->domain_ptr[i] = b->domain_text[i];
			s->domains = &b->domain_ptr[i];
			s->domain_count = 1;
		}
		if (kind >= 11 && kind < 13) {
			s->apps = &apps[below(6)];
			s->app_count = 1;
		}
	}
	for (uint32_t r = 0; r < b->nrules; r++) {
		/* A few "tenant -> any service", more "any tenant -> service", never both. */
		bool any_service = below(100) == 0;

		b->rules[r] = (struct policy_rule_config){.id = r + 1,
		    .tenant_id =
		        !any_service && below(8) == 0 ? POLICY_ID_ANY : (uint32_t)below(TENANTS),
		    .service_id = any_service ? POLICY_ID_ANY : (uint32_t)below(b->nservices),
		    .action = below(4) == 0 ? POLICY_DENY : POLICY_ALLOW};
	}
}

static void
queries_make(struct bench *b, struct policy_dns_cache *dns)
{
	for (uint32_t i = 0; i < b->nqueries; i++) {
		struct policy_query *q = &b->queries[i];
		const struct policy_tenant_config *t = &b->tenants[below(TENANTS)];
		const struct policy_service_config *s = &b->services[below(b->nservices)];

		memset(q, 0, sizeof(*q));
		q->segment_id = t->sources[0].segment_id;
		q->src = below(20) == 0 ? rand_addr() : addr_in(&t->sources[below(2)].prefix);
		if (s->prefix_count > 0 && below(10) != 0)
			q->dst = addr_in(&s->prefixes[below(s->prefix_count)]);
		else
			q->dst = rand_addr();
		if (s->port_count > 0 && below(4) != 0) {
			const struct policy_port_range *r = &s->ports[below(s->port_count)];

			q->proto = r->proto != 0 ? r->proto : 6;
			q->dst_port =
			    (uint16_t)(r->port_lo + below((uint64_t)(r->port_hi - r->port_lo) + 1));
		} else {
			q->proto = below(2) ? 6 : 17;
			q->dst_port = (uint16_t)(1 + below(65535));
		}
		if (below(5) == 0) {
			snprintf(b->sni[i], DOMAIN_TEXT_MAX, "www.s%u.example",
			    (unsigned)below(b->nservices));
			q->domain = b->sni[i];
		}
		if (below(50) == 0)
			q->app = apps[below(6)];
		q->dns = dns;
		q->now_ns = 1;
		/* Some destinations were named by a DNS answer the tenant got. */
		if (i % (b->nqueries / DNS_LEARNT + 1) == 0) {
			char name[DOMAIN_TEXT_MAX];

			snprintf(name, sizeof(name), "m.s%u.example",
			    (unsigned)below(b->nservices));
			policy_dns_learn(dns, t->id, name, &q->dst, 3600, 0);
		}
	}
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	struct bench b = {.nservices = 10000, .nrules = 1000, .nqueries = 1000000};
	unsigned runs = 5;
	uint64_t seed = 42, counts[6] = {0}, *lat, t_build, timer_ns, sink = 0;
	double per_run[16], median, p50, p99;
	struct policy_dns_cache *dns;
	struct policy_config cfg;
	struct policy *p = NULL;
	char err[256];
	cpu_set_t cpus;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--services") == 0 && i + 1 < argc)
			b.nservices = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--rules") == 0 && i + 1 < argc)
			b.nrules = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--queries") == 0 && i + 1 < argc)
			b.nqueries = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else
			fail(
			    "usage: bench_policy [--services N] [--rules N] [--queries N] [--runs N] "
			    "[--seed N]");
	}
	if (b.nservices < 1 || b.nqueries < 100 || runs < 1 || runs > 16)
		fail("--services >= 1, --queries >= 100, --runs 1..16");
	rng = seed;
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);

	b.services = calloc(b.nservices, sizeof(*b.services));
	b.prefixes = calloc(b.nservices, sizeof(*b.prefixes));
	b.ports = calloc(b.nservices, sizeof(*b.ports));
	b.domain_text = calloc(b.nservices, sizeof(*b.domain_text));
	b.domain_ptr = calloc(b.nservices, sizeof(*b.domain_ptr));
	b.rules = calloc(b.nrules + 1, sizeof(*b.rules));
	b.queries = calloc(b.nqueries, sizeof(*b.queries));
	b.sni = calloc(b.nqueries, sizeof(*b.sni));
	lat = calloc(b.nqueries, sizeof(*lat));
	dns = policy_dns_cache_new(2 * DNS_LEARNT);
	if (b.services == NULL || b.prefixes == NULL || b.ports == NULL || b.domain_text == NULL ||
	    b.domain_ptr == NULL || b.rules == NULL || b.queries == NULL || b.sni == NULL ||
	    lat == NULL || dns == NULL)
		fail("out of memory");
	config_make(&b);
	cfg = (struct policy_config){b.segments, SEGMENTS, b.tenants, TENANTS, b.services,
	    b.nservices, b.rules, b.nrules};
	t_build = now_ns();
	if (policy_new(&cfg, &p, err, sizeof(err)) != 0)
		fail(err);
	t_build = now_ns() - t_build;
	queries_make(&b, dns);

	for (unsigned r = 0; r < runs; r++) {
		uint64_t t0 = now_ns();

		for (uint32_t i = 0; i < b.nqueries; i++) {
			struct policy_decision d;

			policy_classify(p, &b.queries[i], &d);
			if (r == 0)
				counts[d.verdict < 6 ? d.verdict : 0]++;
			sink += d.service_index;
		}
		per_run[r] = (double)(now_ns() - t0) / b.nqueries;
	}
	for (unsigned i = 1; i < runs; i++)
		for (unsigned j = i; j > 0 && per_run[j - 1] > per_run[j]; j--) {
			double t = per_run[j];

			per_run[j] = per_run[j - 1];
			per_run[j - 1] = t;
		}
	median = per_run[runs / 2];

	/* Each decision alone, less the cost of the two clock reads. */
	{
		uint64_t t0 = now_ns(), t1;

		for (int k = 0; k < 1000; k++)
			t1 = now_ns();
		timer_ns = (t1 - t0) / 1000;
	}
	for (uint32_t i = 0; i < b.nqueries; i++) {
		struct policy_decision d;
		uint64_t t0 = now_ns(), dt;

		policy_classify(p, &b.queries[i], &d);
		dt = now_ns() - t0;
		lat[i] = dt > timer_ns ? dt - timer_ns : 0;
		sink += d.rule_index;
	}
	qsort(lat, b.nqueries, sizeof(*lat), cmp_u64);
	p50 = (double)lat[b.nqueries / 2];
	p99 = (double)lat[(uint64_t)b.nqueries * 99 / 100];
	if (counts[POLICY_VERDICT_ALLOW] == 0 || counts[0] != 0)
		fail("no session was allowed, or a verdict is unknown: the configuration is wrong");

	printf("policy: %u services, %u rules, %d tenants on %d segments; built in %.1f ms\n",
	    b.nservices, b.nrules, TENANTS, SEGMENTS, (double)t_build / 1e6);
	printf("verdicts: allow %llu, deny-by-rule %llu, no-rule %llu, no-service %llu, "
	       "no-tenant %llu (of %u)\n",
	    (unsigned long long)counts[1], (unsigned long long)counts[2],
	    (unsigned long long)counts[3], (unsigned long long)counts[4],
	    (unsigned long long)counts[5], b.nqueries);
	printf("decision per new session: %.1f ns (median of %u runs; runs %.1f..%.1f ns)\n",
	    median, runs, per_run[0], per_run[runs - 1]);
	printf("one decision timed alone: p50 %.0f ns, p99 %.0f ns (clock read %llu ns "
	       "subtracted)\n",
	    p50, p99, (unsigned long long)timer_ns);
	printf("{\"bench\":\"policy\",\"services\":%u,\"rules\":%u,\"tenants\":%d,\"queries\":%u,"
	       "\"runs\":%u,\"seed\":%llu,\"policy_ns_per_session\":%.1f,\"policy_p50_ns\":%.0f,"
	       "\"policy_p99_ns\":%.0f,\"build_ms\":%.1f,\"allowed\":%llu,\"sink\":%llu}\n",
	    b.nservices, b.nrules, TENANTS, b.nqueries, runs, (unsigned long long)seed, median, p50,
	    p99, (double)t_build / 1e6, (unsigned long long)counts[1],
	    (unsigned long long)(sink & 1));

	policy_free(p);
	policy_dns_cache_free(dns);
	free(b.services);
	free(b.prefixes);
	free(b.ports);
	free(b.domain_text);
	free(b.domain_ptr);
	free(b.rules);
	free(b.queries);
	free(b.sni);
	free(lat);
	return 0;
}
