/*
 * Unit tests of the policy engine (src/policy/policy_engine.h): one test per rule of
 * the model (tenants, services, rules, routes), the explanation text, configuration
 * errors, the learnt-name cache and the per-tenant limits.
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
#include "policy/policy_limits.h"

#define S 1000000000ull

enum {
	SEG_CORP = 1,
	SEG_GUEST = 2,
	SEG_LAB = 3
};
enum {
	T_CORP = 10,
	T_ADMIN = 11,
	T_GUEST = 12
};
enum {
	SV_B_WEB = 100,
	SV_B_ANY = 101,
	SV_SSH = 102,
	SV_YOUTUBE = 103,
	SV_MAIL = 104,
	SV_EXAMPLE = 105,
	SV_DNS = 106,
	SV_INTERNET = 107,
};

static struct prefix
pfx(const char *text)
{
	struct prefix p;

	if (prefix_parse(text, &p) != 0)
		fail_msg("bad prefix %s", text);
	return p;
}

static struct addr
ip(const char *text)
{
	struct addr a;

	if (addr_parse(text, &a) != 0)
		fail_msg("bad address %s", text);
	return a;
}

/* The fixture: three segments, three tenants, eight services, eight rules. */
struct fixture {
	struct policy_segment_config segments[3];
	struct policy_tenant_source src_corp[1], src_admin[1], src_guest[1];
	struct policy_tenant_config tenants[3];
	struct prefix p_b_web[1], p_b_any[1], p_ssh[1], p_internet[1];
	struct policy_service_config services[8];
	struct policy_rule_config rules[8];
	struct policy_config cfg;
};

static const struct policy_port_range tcp80[] = {{6, 80, 80}};
static const struct policy_port_range tcp22[] = {{6, 22, 22}};
static const struct policy_port_range tcp443[] = {{6, 443, 443}};
static const struct policy_port_range udp53[] = {{17, 53, 53}};
static const char *const yt_domains[] = {"*.youtube.com", "YouTube.com."};
static const char *const yt_apps[] = {"YouTube"};
static const char *const mail_domains[] = {"mail.example.com"};
static const char *const example_domains[] = {"*.example.com"};

static void
fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->segments[0] = (struct policy_segment_config){SEG_CORP, "corp", POLICY_ID_NONE};
	f->segments[1] = (struct policy_segment_config){SEG_GUEST, "guest", T_GUEST};
	f->segments[2] = (struct policy_segment_config){SEG_LAB, "lab", POLICY_ID_NONE};
	f->src_corp[0] = (struct policy_tenant_source){SEG_CORP, pfx("10.1.0.0/24")};
	f->src_admin[0] = (struct policy_tenant_source){SEG_CORP, pfx("10.1.0.128/25")};
	f->src_guest[0] = (struct policy_tenant_source){SEG_GUEST, pfx("10.1.0.0/24")};
	f->tenants[0] = (struct policy_tenant_config){T_CORP, "corp", f->src_corp, 1, 0, 0};
	f->tenants[1] = (struct policy_tenant_config){T_ADMIN, "corp-admin", f->src_admin, 1, 0, 0};
	f->tenants[2] = (struct policy_tenant_config){T_GUEST, "guest", f->src_guest, 1, 2, 10};
	f->p_b_web[0] = pfx("10.2.0.0/24");
	f->p_b_any[0] = pfx("10.2.0.0/16");
	f->p_ssh[0] = pfx("10.2.0.0/24");
	f->p_internet[0] = pfx("0.0.0.0/0");
	f->services[0] = (struct policy_service_config){.id = SV_B_WEB,
	    .name = "b-web",
	    .prefixes = f->p_b_web,
	    .prefix_count = 1,
	    .ports = tcp80,
	    .port_count = 1,
	    .route_kind = POLICY_ROUTE_PEER,
	    .route_target_id = 7,
	    .route_target_name = "site-b"};
	f->services[1] = (struct policy_service_config){.id = SV_B_ANY,
	    .name = "b-any",
	    .prefixes = f->p_b_any,
	    .prefix_count = 1,
	    .route_kind = POLICY_ROUTE_PEER,
	    .route_target_id = 7,
	    .route_target_name = "site-b"};
	f->services[2] = (struct policy_service_config){.id = SV_SSH,
	    .name = "ssh",
	    .prefixes = f->p_ssh,
	    .prefix_count = 1,
	    .ports = tcp22,
	    .port_count = 1,
	    .route_kind = POLICY_ROUTE_PEER,
	    .route_target_id = 7};
	f->services[3] = (struct policy_service_config){.id = SV_YOUTUBE,
	    .name = "youtube",
	    .domains = yt_domains,
	    .domain_count = 2,
	    .apps = yt_apps,
	    .app_count = 1,
	    .route_kind = POLICY_ROUTE_BREAKOUT,
	    .route_target_id = 1,
	    .route_target_name = "wan0"};
	f->services[4] = (struct policy_service_config){.id = SV_MAIL,
	    .name = "mail",
	    .ports = tcp443,
	    .port_count = 1,
	    .domains = mail_domains,
	    .domain_count = 1,
	    .route_kind = POLICY_ROUTE_BREAKOUT,
	    .route_target_id = 1,
	    .route_target_name = "wan0"};
	f->services[5] = (struct policy_service_config){.id = SV_EXAMPLE,
	    .name = "example",
	    .ports = tcp443,
	    .port_count = 1,
	    .domains = example_domains,
	    .domain_count = 1,
	    .route_kind = POLICY_ROUTE_BREAKOUT,
	    .route_target_id = 2};
	f->services[6] = (struct policy_service_config){.id = SV_DNS,
	    .name = "dns",
	    .ports = udp53,
	    .port_count = 1,
	    .route_kind = POLICY_ROUTE_LAN,
	    .route_target_id = SEG_LAB,
	    .route_target_name = "lab"};
	f->services[7] = (struct policy_service_config){.id = SV_INTERNET,
	    .name = "internet",
	    .prefixes = f->p_internet,
	    .prefix_count = 1,
	    .route_kind = POLICY_ROUTE_BREAKOUT,
	    .route_target_id = 1,
	    .route_target_name = "wan0"};
	f->rules[0] = (struct policy_rule_config){1, NULL, T_CORP, SV_B_WEB, POLICY_ALLOW};
	f->rules[1] = (struct policy_rule_config){2, "no-ssh", T_CORP, SV_SSH, POLICY_DENY};
	f->rules[2] = (struct policy_rule_config){3, NULL, POLICY_ID_ANY, SV_SSH, POLICY_ALLOW};
	f->rules[3] = (struct policy_rule_config){4, NULL, T_ADMIN, POLICY_ID_ANY, POLICY_ALLOW};
	f->rules[4] = (struct policy_rule_config){5, NULL, POLICY_ID_ANY, SV_DNS, POLICY_ALLOW};
	f->rules[5] = (struct policy_rule_config){6, NULL, T_GUEST, SV_INTERNET, POLICY_ALLOW};
	f->rules[6] = (struct policy_rule_config){7, NULL, T_GUEST, SV_YOUTUBE, POLICY_DENY};
	f->rules[7] = (struct policy_rule_config){8, NULL, T_CORP, SV_YOUTUBE, POLICY_ALLOW};
	f->cfg = (struct policy_config){f->segments, 3, f->tenants, 3, f->services, 8, f->rules, 8};
}

static struct policy *
fixture_policy(void)
{
	struct fixture f;
	struct policy *p = NULL;
	char err[256];

	fixture_init(&f);
	if (policy_new(&f.cfg, &p, err, sizeof(err)) != 0)
		fail_msg("policy_new: %s", err);
	return p; /* the config is gone: the policy owns copies */
}

static struct policy_query
query(uint32_t seg, const char *src, const char *dst, uint8_t proto, uint16_t port)
{
	struct policy_query q;

	memset(&q, 0, sizeof(q));
	q.segment_id = seg;
	q.src = ip(src);
	q.dst = ip(dst);
	q.proto = proto;
	q.dst_port = port;
	return q;
}

static void
test_policy_classify_allow_by_rule_explained(void **state)
{
	struct policy *p = fixture_policy();
	struct policy_query q = query(SEG_CORP, "10.1.0.5", "10.2.0.9", 6, 80);
	struct policy_decision d;
	char text[POLICY_EXPLAIN_TEXT_MAX];

	(void)state;
	assert_int_equal(policy_classify(p, &q, &d), 0);
	assert_int_equal(d.verdict, POLICY_VERDICT_ALLOW);
	assert_int_equal(d.tenant_id, T_CORP);
	assert_int_equal(d.service_id, SV_B_WEB);
	assert_int_equal(d.rule_id, 1);
	assert_int_equal(d.route_kind, POLICY_ROUTE_PEER);
	assert_int_equal(d.route_target_id, 7);
	policy_decision_format(p, &q, &d, text, sizeof(text));
	assert_string_equal(text,
	    "tenant corp (segment corp, 10.1.0.0/24); service b-web (prefix "
	    "10.2.0.0/24, tcp/80); verdict allow by rule 1 (corp -> b-web "
	    "allow); route peer site-b");
	policy_free(p);
}

static void
test_policy_classify_deny_beats_allow(void **state)
{
	struct policy *p = fixture_policy();
	struct policy_query q = query(SEG_CORP, "10.1.0.5", "10.2.0.9", 6, 22);
	struct policy_decision d;
	char text[POLICY_EXPLAIN_TEXT_MAX];

	(void)state;
	/* Rule 3 allows any tenant to ssh, rule 2 denies corp: the deny wins. */
	assert_int_equal(policy_classify(p, &q, &d), -EACCES);
	assert_int_equal(d.verdict, POLICY_VERDICT_DENY_BY_RULE);
	assert_int_equal(d.service_id, SV_SSH);
	assert_int_equal(d.rule_id, 2);
	policy_decision_format(p, &q, &d, text, sizeof(text));
	assert_non_null(strstr(text, "verdict deny by rule 2 (no-ssh: corp -> ssh deny)"));
	/* A deny listed after the allow still wins (guest: allow internet, deny youtube). */
	q = query(SEG_GUEST, "10.1.0.5", "203.0.113.9", 6, 443);
	q.domain = "www.youtube.com";
	assert_int_equal(policy_classify(p, &q, &d), -EACCES);
	assert_int_equal(d.verdict, POLICY_VERDICT_DENY_BY_RULE);
	assert_int_equal(d.rule_id, 7);
	policy_free(p);
}

/* The egress's question: the pair is known by ids, only the rules decide. */
static void
test_policy_decide_rules_by_ids(void **state)
{
	struct policy *p = fixture_policy();
	struct policy_decision d;

	(void)state;
	assert_int_equal(policy_decide_rules(p, T_CORP, SV_B_WEB, &d), 0);
	assert_int_equal(d.verdict, POLICY_VERDICT_ALLOW);
	assert_int_equal(d.rule_id, 1);
	/* The same pair as policy_classify() decides: deny beats allow. */
	assert_int_equal(policy_decide_rules(p, T_CORP, SV_SSH, &d), -EACCES);
	assert_int_equal(d.verdict, POLICY_VERDICT_DENY_BY_RULE);
	assert_int_equal(d.rule_id, 2);
	assert_int_equal(policy_decide_rules(p, 9999, SV_SSH, &d), -EACCES);
	assert_int_equal(d.verdict, POLICY_VERDICT_NO_TENANT);
	assert_int_equal(policy_decide_rules(p, T_CORP, 9999, &d), -EACCES);
	assert_int_equal(d.verdict, POLICY_VERDICT_NO_SERVICE);
	policy_free(p);
}

static void
test_policy_classify_any_wildcards(void **state)
{
	struct policy *p = fixture_policy();
	struct policy_query q = query(SEG_CORP, "10.1.0.200", "10.2.0.9", 6, 22);
	struct policy_decision d;

	(void)state;
	/* corp-admin: "any tenant -> ssh allow" (rule 3) comes before "admin -> any". */
	assert_int_equal(policy_classify(p, &q, &d), 0);
	assert_int_equal(d.tenant_id, T_ADMIN);
	assert_int_equal(d.rule_id, 3);
	/* corp-admin to b-any: only "admin -> any service" allows. */
	q = query(SEG_CORP, "10.1.0.200", "10.2.7.7", 6, 443);
	assert_int_equal(policy_classify(p, &q, &d), 0);
	assert_int_equal(d.service_id, SV_B_ANY);
	assert_int_equal(d.rule_id, 4);
	/* Any tenant to dns, at any address no prefix claims (0.0.0.0/0 is internet's). */
	q = query(SEG_GUEST, "192.168.9.9", "2001:db8::53", 17, 53);
	assert_int_equal(policy_classify(p, &q, &d), 0);
	assert_int_equal(d.tenant_id, T_GUEST);
	assert_int_equal(d.service_id, SV_DNS);
	assert_int_equal(d.rule_id, 5);
	assert_int_equal(d.route_kind, POLICY_ROUTE_LAN);
	policy_free(p);
}

static void
test_policy_classify_default_deny(void **state)
{
	struct policy *p = fixture_policy();
	struct policy_query q = query(SEG_CORP, "10.1.0.5", "10.2.7.7", 6, 443);
	struct policy_decision d;
	char text[POLICY_EXPLAIN_TEXT_MAX];

	(void)state;
	assert_int_equal(policy_classify(p, &q, &d), -EACCES);
	assert_int_equal(d.verdict, POLICY_VERDICT_NO_RULE);
	assert_int_equal(d.service_id, SV_B_ANY);
	assert_int_equal(d.rule_id, POLICY_ID_NONE);
	policy_decision_format(p, &q, &d, text, sizeof(text));
	assert_non_null(
	    strstr(text, "verdict no-rule (no rule allows corp -> b-any: default deny)"));
	/* A policy without rules allows nothing. */
	{
		struct fixture f;
		struct policy *empty;

		fixture_init(&f);
		f.cfg.rule_count = 0;
		assert_int_equal(policy_new(&f.cfg, &empty, NULL, 0), 0);
		q = query(SEG_CORP, "10.1.0.5", "10.2.0.9", 6, 80);
		assert_int_equal(policy_classify(empty, &q, &d), -EACCES);
		assert_int_equal(d.verdict, POLICY_VERDICT_NO_RULE);
		policy_free(empty);
	}
	policy_free(p);
}

static void
test_policy_tenant_most_specific_prefix(void **state)
{
	struct policy *p = fixture_policy();
	struct policy_query q = query(SEG_CORP, "10.1.0.127", "10.2.0.9", 6, 80);
	struct policy_decision d;
	char text[POLICY_EXPLAIN_TEXT_MAX];

	(void)state;
	policy_classify(p, &q, &d);
	assert_int_equal(d.tenant_id, T_CORP);
	assert_int_equal(d.tenant_by, POLICY_TENANT_BY_PREFIX);
	q.src = ip("10.1.0.128");
	policy_classify(p, &q, &d);
	assert_int_equal(d.tenant_id, T_ADMIN);
	policy_decision_format(p, &q, &d, text, sizeof(text));
	assert_non_null(strstr(text, "tenant corp-admin (segment corp, 10.1.0.128/25)"));
	/* No prefix and no default on segment corp: no tenant. */
	q.src = ip("10.9.0.1");
	assert_int_equal(policy_classify(p, &q, &d), -EACCES);
	assert_int_equal(d.verdict, POLICY_VERDICT_NO_TENANT);
	policy_decision_format(p, &q, &d, text, sizeof(text));
	assert_string_equal(text,
	    "no tenant (segment corp has no tenant for 10.9.0.1 and no "
	    "default); verdict no-tenant (default deny)");
	policy_free(p);
}

static void
test_policy_tenant_overlapping_addresses_by_segment(void **state)
{
	struct policy *p = fixture_policy();
	struct policy_query q = query(SEG_GUEST, "10.1.0.5", "10.2.0.9", 6, 80);
	struct policy_decision d;
	char text[POLICY_EXPLAIN_TEXT_MAX];

	(void)state;
	/* The same source as corp's, on the guest segment: guest, which may not reach b-web. */
	assert_int_equal(policy_classify(p, &q, &d), -EACCES);
	assert_int_equal(d.tenant_id, T_GUEST);
	assert_int_equal(d.verdict, POLICY_VERDICT_NO_RULE);
	/* Outside guest's prefix, the segment's default tenant. */
	q.src = ip("172.16.0.1");
	policy_classify(p, &q, &d);
	assert_int_equal(d.tenant_id, T_GUEST);
	assert_int_equal(d.tenant_by, POLICY_TENANT_BY_DEFAULT);
	policy_decision_format(p, &q, &d, text, sizeof(text));
	assert_non_null(strstr(text, "tenant guest (segment guest, its default tenant)"));
	/* A segment nobody configured. */
	q.segment_id = 99;
	assert_int_equal(policy_classify(p, &q, &d), -EACCES);
	assert_int_equal(d.verdict, POLICY_VERDICT_NO_TENANT);
	policy_free(p);
}

static void
test_policy_service_by_prefix_and_port(void **state)
{
	struct policy *p = fixture_policy();
	struct policy_query q = query(SEG_CORP, "10.1.0.5", "10.2.0.9", 6, 80);
	struct policy_decision d;
	char text[POLICY_EXPLAIN_TEXT_MAX];

	(void)state;
	policy_classify(p, &q, &d);
	assert_int_equal(d.service_id, SV_B_WEB);
	/* Port 81: neither /24 service fits, the /16 does. */
	q.dst_port = 81;
	policy_classify(p, &q, &d);
	assert_int_equal(d.service_id, SV_B_ANY);
	assert_int_equal(d.service_prefix.len, 16);
	/* UDP 80 is not tcp/80. */
	q.proto = 17;
	q.dst_port = 80;
	policy_classify(p, &q, &d);
	assert_int_equal(d.service_id, SV_B_ANY);
	/* Outside 10.2/16: the default route's service. */
	q = query(SEG_CORP, "10.1.0.5", "198.51.100.1", 6, 80);
	policy_classify(p, &q, &d);
	assert_int_equal(d.service_id, SV_INTERNET);
	assert_int_equal(d.service_by, POLICY_SERVICE_BY_PREFIX);
	/* IPv6 matches no IPv4 prefix, and tcp is not the dns service's udp/53. */
	q = query(SEG_CORP, "10.1.0.5", "2001:db8::1", 6, 53);
	assert_int_equal(policy_classify(p, &q, &d), -EACCES);
	assert_int_equal(d.verdict, POLICY_VERDICT_NO_SERVICE);
	policy_decision_format(p, &q, &d, text, sizeof(text));
	assert_non_null(
	    strstr(text, "no service for 2001:db8::1; verdict no-service (default deny)"));
	policy_free(p);
}

static void
test_policy_service_by_domain_sni(void **state)
{
	struct policy *p = fixture_policy();
	struct policy_query q = query(SEG_CORP, "10.1.0.5", "203.0.113.5", 6, 443);
	struct policy_decision d;
	char text[POLICY_EXPLAIN_TEXT_MAX];

	(void)state;
	q.domain = "www.YouTube.com";
	assert_int_equal(policy_classify(p, &q, &d), 0);
	assert_int_equal(d.service_id, SV_YOUTUBE);
	assert_int_equal(d.service_by, POLICY_SERVICE_BY_DOMAIN);
	assert_int_equal(d.rule_id, 8);
	policy_decision_format(p, &q, &d, text, sizeof(text));
	assert_non_null(strstr(text,
	    "service youtube (domain *.youtube.com); verdict allow by rule "
	    "8 (corp -> youtube allow); route breakout wan0"));
	/* The apex is not below "*.youtube.com", but is listed itself (with its dot). */
	q.domain = "youtube.com";
	policy_classify(p, &q, &d);
	assert_int_equal(d.service_id, SV_YOUTUBE);
	/* An exact name beats a wildcard. */
	q.domain = "mail.example.com";
	policy_classify(p, &q, &d);
	assert_int_equal(d.service_id, SV_MAIL);
	q.domain = "a.b.example.com";
	policy_classify(p, &q, &d);
	assert_int_equal(d.service_id, SV_EXAMPLE);
	/* "*.example.com" does not cover example.com: the prefix decides. */
	q.domain = "example.com";
	policy_classify(p, &q, &d);
	assert_int_equal(d.service_id, SV_INTERNET);
	/* The name fits but the port does not. */
	q.domain = "mail.example.com";
	q.dst_port = 80;
	policy_classify(p, &q, &d);
	assert_int_equal(d.service_id, SV_INTERNET);
	/* A malformed name is no evidence. */
	q.domain = "bad..youtube.com";
	policy_classify(p, &q, &d);
	assert_int_equal(d.service_id, SV_INTERNET);
	policy_free(p);
}

static void
test_policy_service_by_app(void **state)
{
	struct policy *p = fixture_policy();
	struct policy_query q = query(SEG_CORP, "10.1.0.5", "10.2.0.9", 6, 80);
	struct policy_decision d;
	char text[POLICY_EXPLAIN_TEXT_MAX];

	(void)state;
	/* The application beats even a matching prefix and port. */
	q.app = "youtube";
	policy_classify(p, &q, &d);
	assert_int_equal(d.service_id, SV_YOUTUBE);
	assert_int_equal(d.service_by, POLICY_SERVICE_BY_APP);
	policy_decision_format(p, &q, &d, text, sizeof(text));
	assert_non_null(strstr(text, "service youtube (application youtube)"));
	q.app = "Netflix";
	policy_classify(p, &q, &d);
	assert_int_equal(d.service_id, SV_B_WEB);
	policy_free(p);
}

static void
test_policy_service_by_dns_learnt_name_until_ttl(void **state)
{
	struct policy *p = fixture_policy();
	struct policy_dns_cache *dns = policy_dns_cache_new(64);
	struct policy_query q = query(SEG_CORP, "10.1.0.5", "198.51.100.7", 6, 443);
	struct policy_decision d;
	struct addr a = ip("198.51.100.7");
	char text[POLICY_EXPLAIN_TEXT_MAX];
	uint64_t t0 = 1000 * S;

	(void)state;
	assert_non_null(dns);
	q.dns = dns;
	q.now_ns = t0;
	policy_classify(p, &q, &d);
	assert_int_equal(d.service_id, SV_INTERNET);
	assert_int_equal(policy_dns_learn(dns, T_CORP, "M.YouTube.com.", &a, 60, t0), 0);
	policy_classify(p, &q, &d);
	assert_int_equal(d.service_id, SV_YOUTUBE);
	assert_int_equal(d.service_by, POLICY_SERVICE_BY_DNS);
	policy_decision_format(p, &q, &d, text, sizeof(text));
	assert_non_null(strstr(text,
	    "service youtube (domain *.youtube.com, 198.51.100.7 learnt "
	    "from DNS)"));
	/* The SNI, when there is one, comes first. */
	q.domain = "mail.example.com";
	policy_classify(p, &q, &d);
	assert_int_equal(d.service_id, SV_MAIL);
	q.domain = NULL;
	/* Learnt by another tenant: not this one's. */
	q.segment_id = SEG_GUEST;
	policy_classify(p, &q, &d);
	assert_int_equal(d.service_id, SV_INTERNET);
	q.segment_id = SEG_CORP;
	/* Valid until the TTL runs out, not after. */
	q.now_ns = t0 + 59 * S;
	policy_classify(p, &q, &d);
	assert_int_equal(d.service_id, SV_YOUTUBE);
	q.now_ns = t0 + 60 * S;
	policy_classify(p, &q, &d);
	assert_int_equal(d.service_id, SV_INTERNET);
	assert_int_equal(policy_dns_cache_count(dns), 0);
	/* A TTL of 0 is held for the minimum, so the connection that follows still matches. */
	assert_int_equal(policy_dns_learn(dns, T_CORP, "youtube.com", &a, 0, t0), 0);
	q.now_ns = t0 + (POLICY_DNS_TTL_MIN_S - 1) * S;
	policy_classify(p, &q, &d);
	assert_int_equal(d.service_id, SV_YOUTUBE);
	policy_dns_cache_free(dns);
	policy_free(p);
}

static void
test_policy_dns_cache_bounded_second_chance(void **state)
{
	struct policy_dns_cache *dns = policy_dns_cache_new(4);
	struct addr a = ip("192.0.2.1"), hot = ip("192.0.2.200");
	char name[32];

	(void)state;
	assert_int_equal(policy_dns_learn(dns, 1, "hot.example", &hot, 3600, 0), 0);
	for (unsigned i = 0; i < 100; i++) {
		a.bytes[3] = (uint8_t)i;
		snprintf(name, sizeof(name), "n%u.example", i);
		assert_int_equal(policy_dns_learn(dns, 1, name, &a, 3600, i), 0);
		/* The hot entry is used between learns, so the clock keeps passing it over. */
		assert_string_equal(policy_dns_lookup(dns, 1, &hot, i), "hot.example");
		assert_true(policy_dns_cache_count(dns) <= 4);
	}
	assert_int_equal(policy_dns_cache_evictions(dns), 97);
	assert_string_equal(policy_dns_lookup(dns, 1, &a, 100), "n99.example");
	/* Last answer wins for an address. */
	assert_int_equal(policy_dns_learn(dns, 1, "other.example", &a, 10, 100), 0);
	assert_string_equal(policy_dns_lookup(dns, 1, &a, 100), "other.example");
	assert_int_equal(policy_dns_learn(dns, 1, "bad name", &a, 10, 100), -EINVAL);
	assert_null(policy_dns_cache_new(0));
	policy_dns_cache_free(dns);
	policy_dns_cache_free(NULL);
}

static void
test_policy_limits_sessions_and_rate(void **state)
{
	struct policy *p = fixture_policy();
	struct policy_limits *l = policy_limits_new(p);
	int guest = policy_tenant_index(p, T_GUEST), corp = policy_tenant_index(p, T_CORP);
	uint64_t t0 = 50 * S;

	(void)state;
	assert_non_null(l);
	assert_true(guest >= 0 && corp >= 0);
	/* guest: at most 2 sessions, 10 new per second. */
	assert_int_equal(policy_limits_admit(l, (uint32_t)guest, t0), 0);
	assert_int_equal(policy_limits_admit(l, (uint32_t)guest, t0), 0);
	assert_int_equal(policy_limits_admit(l, (uint32_t)guest, t0), -EDQUOT);
	assert_int_equal(policy_limits_in_use(l, (uint32_t)guest), 2);
	assert_int_equal(policy_limits_refused_sessions(l, (uint32_t)guest), 1);
	/* Release and admit eight more: ten in the second in all, the eleventh waits. */
	for (int i = 0; i < 8; i++) {
		policy_limits_release(l, (uint32_t)guest);
		assert_int_equal(policy_limits_admit(l, (uint32_t)guest, t0), 0);
	}
	policy_limits_release(l, (uint32_t)guest);
	assert_int_equal(policy_limits_admit(l, (uint32_t)guest, t0), -EBUSY);
	assert_int_equal(policy_limits_refused_rate(l, (uint32_t)guest), 1);
	assert_int_equal(policy_limits_in_use(l, (uint32_t)guest), 1);
	/* A tenth of a second later, one more token. */
	assert_int_equal(policy_limits_admit(l, (uint32_t)guest, t0 + S / 10), 0);
	assert_int_equal(policy_limits_admit(l, (uint32_t)guest, t0 + S / 10), -EDQUOT);
	/* corp has no limits. */
	for (int i = 0; i < 10000; i++)
		assert_int_equal(policy_limits_admit(l, (uint32_t)corp, t0), 0);
	assert_int_equal(policy_limits_admit(l, 99, t0), -ENOENT);
	/* Releasing more than is held never wraps. */
	policy_limits_release(l, (uint32_t)guest);
	policy_limits_release(l, (uint32_t)guest);
	policy_limits_release(l, (uint32_t)guest);
	assert_int_equal(policy_limits_in_use(l, (uint32_t)guest), 0);
	policy_limits_free(l);
	policy_free(p);
}

static void
expect_config_error(struct fixture *f, int rc, const char *text)
{
	struct policy *p = (struct policy *)1;
	char err[256];

	assert_int_equal(policy_new(&f->cfg, &p, err, sizeof(err)), rc);
	assert_null(p);
	if (strstr(err, text) == NULL)
		fail_msg("error \"%s\" does not say \"%s\"", err, text);
}

static void
test_policy_new_refuses_bad_config(void **state)
{
	struct fixture f;
	const char *const bad_domain[] = {"www.*.example.com"};
	const struct policy_port_range reversed[] = {{6, 90, 80}};

	(void)state;
	fixture_init(&f);
	f.tenants[1].id = T_CORP;
	expect_config_error(&f, -EEXIST, "tenant corp-admin: id 10 is reserved or used twice");
	fixture_init(&f);
	f.rules[0].tenant_id = 77;
	expect_config_error(&f, -ENOENT, "rule 1: no tenant with id 77");
	fixture_init(&f);
	f.rules[0].service_id = 77;
	expect_config_error(&f, -ENOENT, "rule 1: no service with id 77");
	fixture_init(&f);
	f.rules[0].action = 0;
	expect_config_error(&f, -EINVAL, "rule 1: action must be allow or deny");
	fixture_init(&f);
	f.p_b_web[0].addr.bytes[3] = 1; /* 10.2.0.1/24 */
	expect_config_error(&f, -EINVAL, "service b-web: prefix 0 is not a valid prefix");
	fixture_init(&f);
	f.services[3].domains = bad_domain;
	f.services[3].domain_count = 1;
	expect_config_error(&f, -EINVAL, "service youtube: \"www.*.example.com\" is not a domain");
	fixture_init(&f);
	f.services[0].ports = reversed;
	expect_config_error(&f, -EINVAL, "service b-web: port range 90-80 is reversed");
	fixture_init(&f);
	f.src_admin[0].prefix = pfx("10.1.0.0/24");
	expect_config_error(&f, -EEXIST,
	    "tenant corp-admin: source 10.1.0.0/24 is given twice in "
	    "segment corp");
	fixture_init(&f);
	f.src_admin[0].segment_id = 42;
	expect_config_error(&f, -ENOENT, "tenant corp-admin: no segment with id 42");
	fixture_init(&f);
	f.segments[2].default_tenant_id = 5;
	expect_config_error(&f, -ENOENT, "segment lab: default tenant 5 does not exist");
	fixture_init(&f);
	f.services[2].id = SV_B_WEB;
	expect_config_error(&f, -EEXIST, "service ssh: id 100 is reserved or used twice");
	fixture_init(&f);
	f.services[2].route_kind = 9;
	expect_config_error(&f, -EINVAL, "service ssh: unknown route kind 9");
	policy_free(NULL);
}

static void
test_policy_names_are_stable(void **state)
{
	(void)state;
	assert_string_equal(policy_verdict_name(POLICY_VERDICT_ALLOW), "allow");
	assert_string_equal(policy_verdict_name(POLICY_VERDICT_DENY_BY_RULE), "deny-by-rule");
	assert_string_equal(policy_verdict_name(POLICY_VERDICT_NO_RULE), "no-rule");
	assert_string_equal(policy_verdict_name(POLICY_VERDICT_NO_SERVICE), "no-service");
	assert_string_equal(policy_verdict_name(POLICY_VERDICT_NO_TENANT), "no-tenant");
	assert_string_equal(policy_route_kind_name(POLICY_ROUTE_BREAKOUT), "breakout");
}

static void
test_policy_format_counts_past_a_short_buffer(void **state)
{
	struct policy *p = fixture_policy();
	struct policy_query q = query(SEG_CORP, "10.1.0.5", "10.2.0.9", 6, 80);
	struct policy_decision d;
	char full[POLICY_EXPLAIN_TEXT_MAX], shrt[16];
	int n;

	(void)state;
	policy_classify(p, &q, &d);
	n = policy_decision_format(p, &q, &d, full, sizeof(full));
	assert_int_equal(n, (int)strlen(full));
	assert_int_equal(policy_decision_format(p, &q, &d, shrt, sizeof(shrt)), n);
	assert_int_equal(strlen(shrt), sizeof(shrt) - 1);
	assert_memory_equal(shrt, full, sizeof(shrt) - 1);
	policy_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_policy_classify_allow_by_rule_explained),
	    cmocka_unit_test(test_policy_classify_deny_beats_allow),
	    cmocka_unit_test(test_policy_decide_rules_by_ids),
	    cmocka_unit_test(test_policy_classify_any_wildcards),
	    cmocka_unit_test(test_policy_classify_default_deny),
	    cmocka_unit_test(test_policy_tenant_most_specific_prefix),
	    cmocka_unit_test(test_policy_tenant_overlapping_addresses_by_segment),
	    cmocka_unit_test(test_policy_service_by_prefix_and_port),
	    cmocka_unit_test(test_policy_service_by_domain_sni),
	    cmocka_unit_test(test_policy_service_by_app),
	    cmocka_unit_test(test_policy_service_by_dns_learnt_name_until_ttl),
	    cmocka_unit_test(test_policy_dns_cache_bounded_second_chance),
	    cmocka_unit_test(test_policy_limits_sessions_and_rate),
	    cmocka_unit_test(test_policy_new_refuses_bad_config),
	    cmocka_unit_test(test_policy_names_are_stable),
	    cmocka_unit_test(test_policy_format_counts_past_a_short_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
