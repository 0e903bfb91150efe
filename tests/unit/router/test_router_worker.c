/*
 * Two ternd workers built from real configurations, joined by in-memory links:
 *
 *   host a1 --lan-- worker site-a --wan-- worker site-b --lan-- host b1
 *   10.1.0.10        wp 192.0.2.1          wp 192.0.2.2          10.2.0.20
 *
 * Checks the classification and acceptance the worker adds around the SVR
 * transforms: services, access policy (rules, access lists, tenant limits, the egress
 * re-check, the what-if), peers, and their named drop counters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "io/io_mem.h"
#include "lib/buf.h"
#include "pkt/pkt_csum.h"
#include "pkt/pkt_parse.h"
#include "router/router_config.h"
#include "router/router_worker.h"
#include "worker_rig.h"

static const char site_a[] = WORKER_RIG_SITE_A("{ \"name\": \"corp\" }, { \"name\": \"guest\" }",
    ", \"services\": ["
    "    { \"name\": \"b-web\", \"prefixes\": [\"10.2.0.0/24\"], \"ports\": [\"tcp/80\", "
    "\"udp/5000-5010\", \"icmp\"],"
    "      \"access\": [\"corp\"], \"route\": { \"peer\": \"site-b\" } },"
    "    { \"name\": \"b-secret\", \"prefixes\": [\"10.2.9.0/24\"], \"access\": [\"corp\"],"
    "      \"route\": { \"peer\": \"site-b\" } } ]");

/* The configurations the next rig_setup() uses (tests set them in their own setup). */
static const char *rig_text_a = site_a, *rig_text_b = worker_rig_site_b;

static int
rig_setup(void **state)
{
	static struct worker_rig r;

	worker_rig_setup(&r, rig_text_a, rig_text_b);
	rig_text_a = site_a;
	rig_text_b = worker_rig_site_b;
	*state = &r;
	return 0;
}

static int
rig_teardown(void **state)
{
	worker_rig_teardown(*state);
	return 0;
}

static void
test_router_worker_service_both_ways(void **state)
{
	struct worker_rig *r = *state;
	uint8_t pkt[256];
	size_t len;

	len = worker_rig_packet_make(pkt, "10.1.0.10", "10.2.0.20", IPPROTO_UDP, 40000, 5005,
	    "hello");
	worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	worker_rig_run(r);
	worker_rig_expect_delivered(r, r->lan_b, pkt, len);
	len = worker_rig_packet_make(pkt, "10.2.0.20", "10.1.0.10", IPPROTO_UDP, 5005, 40000,
	    "hi back");
	worker_rig_inject(r->pool, r->lan_b, pkt, len);
	worker_rig_run(r);
	worker_rig_expect_delivered(r, r->lan_a[0], pkt, len);
	assert_int_equal(router_worker_svr_stats(r->a)->meta_tx, 1);
	assert_int_equal(router_worker_svr_stats(r->b)->meta_tx, 1);
	assert_int_equal(session_table_count(router_worker_sessions(r->a)), 1);
	assert_int_equal(session_table_count(router_worker_sessions(r->b)), 1);
	/* Timers: 180 s idle later the UDP session is gone and its waypoint pair is free. */
	r->now_ns += 200ull * 1000000000ull;
	router_worker_tick(r->a, r->now_ns);
	assert_int_equal(session_table_count(router_worker_sessions(r->a)), 0);
	assert_int_equal(svr_waypoint_ports_in_use(router_worker_path(r->a, 0)->ports), 0);
}

static void
test_router_worker_no_service_is_counted(void **state)
{
	struct worker_rig *r = *state;
	uint8_t pkt[256];
	size_t len;

	/* Wrong port for b-web, and an address no service covers. */
	len = worker_rig_packet_make(pkt, "10.1.0.10", "10.2.0.20", IPPROTO_TCP, 40001, 22, "");
	worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	len = worker_rig_packet_make(pkt, "10.1.0.10", "10.3.0.1", IPPROTO_UDP, 40001, 5005, "x");
	worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	worker_rig_run(r);
	worker_rig_expect_nothing(r->lan_b);
	assert_int_equal(router_worker_drops(r->a)->count[PKT_DROP_POLICY_NO_SERVICE], 2);
	assert_int_equal(session_table_count(router_worker_sessions(r->a)), 0);
}

static void
test_router_worker_local_scope_is_not_a_service(void **state)
{
	struct worker_rig *r = *state;
	uint8_t pkt[256];
	size_t len;

	/* What a kernel sends into a TUN on its own: multicast, link-local. */
	len =
	    worker_rig_packet_make(pkt, "10.1.0.10", "224.0.0.22", IPPROTO_UDP, 5353, 5353, "mdns");
	worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	len = worker_rig_packet_make(pkt, "10.1.0.10", "169.254.1.1", IPPROTO_UDP, 40000, 53, "x");
	worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	worker_rig_run(r);
	worker_rig_expect_nothing(r->lan_b);
	assert_int_equal(router_worker_drops(r->a)->count[PKT_DROP_ROUTER_LOCAL_SCOPE], 2);
	assert_int_equal(router_worker_drops(r->a)->count[PKT_DROP_POLICY_NO_SERVICE], 0);
}

static void
test_router_worker_tenant_without_access_is_denied(void **state)
{
	struct worker_rig *r = *state;
	uint8_t pkt[256];
	size_t len;

	len = worker_rig_packet_make(pkt, "10.1.1.10", "10.2.0.20", IPPROTO_TCP, 40002, 80, "");
	worker_rig_inject(r->pool, r->lan_a[1], pkt, len);
	worker_rig_run(r);
	worker_rig_expect_nothing(r->lan_b);
	/* guest is in no access list and no rule names it: the default deny. */
	assert_int_equal(router_worker_drops(r->a)->count[PKT_DROP_POLICY_NO_RULE], 1);
}

static void
test_router_worker_egress_refuses_unserved_service(void **state)
{
	struct worker_rig *r = *state;
	uint8_t pkt[256];
	size_t len;

	/* Site a thinks b serves b-secret; site b does not, and says so in a counter. */
	len = worker_rig_packet_make(pkt, "10.1.0.10", "10.2.9.9", IPPROTO_UDP, 40003, 9, "secret");
	worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	worker_rig_run(r);
	worker_rig_expect_nothing(r->lan_b);
	assert_int_equal(router_worker_drops(r->b)->count[PKT_DROP_ROUTER_UNKNOWN_SERVICE], 1);
	assert_int_equal(session_table_count(router_worker_sessions(r->b)), 0);
}

static void
test_router_worker_garbage_from_wan_is_counted(void **state)
{
	struct worker_rig *r = *state;
	uint8_t pkt[256];
	size_t len;
	struct pkt_buf *p;

	/* No session, no metadata: dropped at b under meta-required. */
	len = worker_rig_packet_make(pkt, "192.0.2.1", "192.0.2.2", IPPROTO_UDP, 16384, 16385,
	    "junk");
	p = pkt_pool_get(r->pool);
	assert_int_equal(pkt_buf_set(p, pkt, len), 0);
	assert_int_equal(io_tx_burst(r->a_wans[0], &p, 1), 1);
	/* Not even IP. */
	p = pkt_pool_get(r->pool);
	assert_int_equal(pkt_buf_set(p, "\x00\x01\x02", 3), 0);
	assert_int_equal(io_tx_burst(r->a_wans[0], &p, 1), 1);
	router_worker_poll(r->b, r->now_ns);
	assert_int_equal(router_worker_drops(r->b)->count[PKT_DROP_META_REQUIRED], 1);
	assert_int_equal(router_worker_drops(r->b)->count[PKT_DROP_IP_TRUNCATED] +
	        router_worker_drops(r->b)->count[PKT_DROP_IP_BAD_VERSION],
	    1);
	worker_rig_expect_nothing(r->lan_b);
}

/* Site a's topology with other services and rules: "%s" is the services and rules. */
#define SITE_A_WITH(services_and_rules, corp_limits)                                               \
	WORKER_RIG_SITE_A("{ \"name\": \"corp\" " corp_limits " }, { \"name\": \"guest\" }",       \
	    ", " services_and_rules)

#define B_WEB_NO_ACCESS                                                                            \
	"\"services\": [ { \"name\": \"b-web\", \"prefixes\": [\"10.2.0.0/24\"],"                  \
	"  \"route\": { \"peer\": \"site-b\" } } ]"

static const char site_a_no_rules[] = SITE_A_WITH(B_WEB_NO_ACCESS, "");
static const char site_a_deny[] = SITE_A_WITH(B_WEB_NO_ACCESS
    ", \"rules\": [ { \"name\": \"corp-web\", \"tenant\": \"corp\", \"service\": \"b-web\","
    "  \"action\": \"allow\" }, { \"name\": \"all\", \"tenant\": \"any\", \"service\": \"any\","
    "  \"action\": \"allow\" }, { \"name\": \"no-web\", \"tenant\": \"any\", \"service\":"
    "  \"b-web\", \"action\": \"deny\" } ]",
    "");
static const char site_a_limited[] = SITE_A_WITH(B_WEB_NO_ACCESS
    ", \"rules\": [ { \"name\": \"all\", \"tenant\": \"any\", \"service\": \"any\","
    "  \"action\": \"allow\" } ]",
    ", \"limits\": { \"sessions\": 3 }");
static const char site_a_rate[] = SITE_A_WITH(B_WEB_NO_ACCESS
    ", \"rules\": [ { \"name\": \"all\", \"tenant\": \"any\", \"service\": \"any\","
    "  \"action\": \"allow\" } ]",
    ", \"limits\": { \"new_sessions_per_s\": 2 }");
/* Site b knows guest but lets only corp reach b-web. */
static const char site_b_corp_only[] =
    "{ \"router\": { \"name\": \"site-b\" },"
    "  \"tenants\": [ { \"name\": \"corp\" }, { \"name\": \"guest\" } ],"
    "  \"lan\": [ { \"name\": \"corp\", \"tenant\": \"corp\", \"address\": \"10.2.0.1/24\","
    "             \"prefixes\": [\"10.2.0.0/24\"] } ],"
    "  \"wan\": [ { \"name\": \"wan0\", \"device\": \"wan0\", \"waypoint\": \"192.0.2.2\" } ],"
    "  \"peers\": [ { \"name\": \"site-a\", \"paths\": [ { \"wan\": \"wan0\", \"remote\": "
    "\"192.0.2.1\" } ] } ],"
    "  \"services\": ["
    "    { \"name\": \"b-web\", \"prefixes\": [\"10.2.0.0/24\"], \"access\": [\"corp\"],"
    "      \"route\": { \"lan\": \"corp\" } } ] }";

static int
rig_setup_no_rules(void **state)
{
	rig_text_a = site_a_no_rules;
	return rig_setup(state);
}

static int
rig_setup_deny(void **state)
{
	rig_text_a = site_a_deny;
	return rig_setup(state);
}

static int
rig_setup_limited(void **state)
{
	rig_text_a = site_a_limited;
	return rig_setup(state);
}

static int
rig_setup_rate(void **state)
{
	rig_text_a = site_a_rate;
	return rig_setup(state);
}

static int
rig_setup_egress_check(void **state)
{
	rig_text_a = site_a_limited; /* any tenant may reach any service */
	rig_text_b = site_b_corp_only;
	return rig_setup(state);
}

static unsigned
pending(struct io_mem_link *lan)
{
	return io_mem_link_pending(lan, 0);
}

static void
test_router_worker_default_deny_without_rules(void **state)
{
	struct worker_rig *r = *state;
	struct router_worker_verdict v;
	struct router_worker_what_if wi = {.lan = 0, .proto = IPPROTO_TCP, .dst_port = 80};
	uint8_t pkt[256];
	size_t len;

	len = worker_rig_packet_make(pkt, "10.1.0.10", "10.2.0.20", IPPROTO_TCP, 40000, 80, "");
	worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	worker_rig_run(r);
	worker_rig_expect_nothing(r->lan_b);
	assert_int_equal(router_worker_drops(r->a)->count[PKT_DROP_POLICY_NO_RULE], 1);
	assert_int_equal(router_worker_svr_stats(r->a)->meta_tx, 0);
	/* The what-if says the same, with the same engine. */
	assert_int_equal(addr_parse("10.1.0.10", &wi.src), 0);
	assert_int_equal(addr_parse("10.2.0.20", &wi.dst), 0);
	assert_int_equal(router_worker_policy_test(r->a, &wi, &v), 0);
	assert_false(v.allowed);
	assert_string_equal(v.tenant, "corp");
	assert_string_equal(v.service, "b-web");
	assert_string_equal(v.verdict, "no-rule");
	assert_string_equal(v.drop, "policy-no-rule");
	assert_string_equal(v.rule, "");
}

static void
test_router_worker_deny_beats_allow(void **state)
{
	struct worker_rig *r = *state;
	struct router_worker_verdict v;
	struct router_worker_what_if wi = {.lan = 0, .proto = IPPROTO_UDP, .dst_port = 53};
	uint8_t pkt[256];
	size_t len;

	len = worker_rig_packet_make(pkt, "10.1.0.10", "10.2.0.20", IPPROTO_UDP, 40000, 53, "q");
	worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	worker_rig_run(r);
	worker_rig_expect_nothing(r->lan_b);
	assert_int_equal(router_worker_drops(r->a)->count[PKT_DROP_POLICY_DENIED], 1);
	assert_int_equal(addr_parse("10.1.0.10", &wi.src), 0);
	assert_int_equal(addr_parse("10.2.0.20", &wi.dst), 0);
	assert_int_equal(router_worker_policy_test(r->a, &wi, &v), 0);
	assert_string_equal(v.verdict, "deny-by-rule");
	assert_string_equal(v.rule, "no-web");
	assert_string_equal(v.drop, "policy-denied");
	assert_non_null(strstr(v.explanation, "no-web"));
}

static void
test_router_worker_tenant_session_limit(void **state)
{
	struct worker_rig *r = *state;
	struct router_worker_verdict v;
	struct router_worker_what_if wi = {.lan = 0, .proto = IPPROTO_UDP, .dst_port = 9};
	uint8_t pkt[256];
	size_t len;

	for (uint16_t i = 0; i < 4; i++) {
		len = worker_rig_packet_make(pkt, "10.1.0.10", "10.2.0.20", IPPROTO_UDP, 40000 + i,
		    9, "x");
		worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	}
	worker_rig_run(r);
	assert_int_equal(pending(r->lan_b), 3);
	worker_rig_drain(r->pool, r->lan_b);
	assert_int_equal(session_table_count(router_worker_sessions(r->a)), 3);
	assert_int_equal(router_worker_drops(r->a)->count[PKT_DROP_POLICY_TENANT_SESSION_LIMIT], 1);
	/* Another tenant is not held back by corp's limit (guest has none). */
	assert_int_equal(addr_parse("10.1.0.10", &wi.src), 0);
	assert_int_equal(addr_parse("10.2.0.20", &wi.dst), 0);
	assert_int_equal(router_worker_policy_test(r->a, &wi, &v), 0);
	assert_string_equal(v.verdict, "allow");
	assert_false(v.allowed);
	assert_string_equal(v.drop, "policy-tenant-session-limit");
	assert_non_null(strstr(v.limit, "sessions 3 of 3"));
	/* Sessions that end give their place back. */
	r->now_ns += 200ull * 1000000000ull;
	router_worker_tick(r->a, r->now_ns);
	assert_int_equal(session_table_count(router_worker_sessions(r->a)), 0);
	assert_int_equal(router_worker_policy_test(r->a, &wi, &v), 0);
	assert_true(v.allowed);
	assert_string_equal(v.path, "wan0");
	len = worker_rig_packet_make(pkt, "10.1.0.10", "10.2.0.20", IPPROTO_UDP, 41000, 9, "again");
	worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	worker_rig_run(r);
	assert_int_equal(session_table_count(router_worker_sessions(r->a)), 1);
	assert_int_equal(router_worker_drops(r->a)->count[PKT_DROP_POLICY_TENANT_SESSION_LIMIT], 1);
	worker_rig_drain(r->pool, r->lan_b);
}

static void
test_router_worker_tenant_rate_limit(void **state)
{
	struct worker_rig *r = *state;
	uint8_t pkt[256];
	size_t len;

	/* 2 per second: a burst of two, then the third waits. */
	for (uint16_t i = 0; i < 3; i++) {
		len = worker_rig_packet_make(pkt, "10.1.0.10", "10.2.0.20", IPPROTO_UDP, 40000 + i,
		    9, "x");
		worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	}
	worker_rig_run(r);
	assert_int_equal(session_table_count(router_worker_sessions(r->a)), 2);
	assert_int_equal(router_worker_drops(r->a)->count[PKT_DROP_POLICY_TENANT_RATE_LIMIT], 1);
	r->now_ns += 1000000000ull;
	len = worker_rig_packet_make(pkt, "10.1.0.10", "10.2.0.20", IPPROTO_UDP, 40010, 9, "x");
	worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	worker_rig_run(r);
	assert_int_equal(session_table_count(router_worker_sessions(r->a)), 3);
	worker_rig_drain(r->pool, r->lan_b);
}

static void
test_router_worker_egress_rechecks_tenant(void **state)
{
	struct worker_rig *r = *state;
	uint8_t pkt[256];
	size_t len;

	/* Site a lets guest through; site b's rules do not: b refuses and counts it. */
	len = worker_rig_packet_make(pkt, "10.1.1.10", "10.2.0.20", IPPROTO_UDP, 40000, 9, "guest");
	worker_rig_inject(r->pool, r->lan_a[1], pkt, len);
	len = worker_rig_packet_make(pkt, "10.1.0.10", "10.2.0.20", IPPROTO_UDP, 40001, 9, "corp");
	worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	worker_rig_run(r);
	assert_int_equal(router_worker_svr_stats(r->a)->meta_tx, 2);
	assert_int_equal(router_worker_drops(r->b)->count[PKT_DROP_POLICY_NO_RULE], 1);
	assert_int_equal(session_table_count(router_worker_sessions(r->b)), 1);
	assert_int_equal(pending(r->lan_b), 1);
	worker_rig_drain(r->pool, r->lan_b);
}

static void
test_router_worker_what_if_allow(void **state)
{
	struct worker_rig *r = *state;
	struct router_worker_verdict v;
	struct router_worker_what_if wi = {.lan = 0, .proto = IPPROTO_TCP, .dst_port = 80};

	assert_int_equal(addr_parse("10.1.0.10", &wi.src), 0);
	assert_int_equal(addr_parse("10.2.0.20", &wi.dst), 0);
	assert_int_equal(router_worker_policy_test(r->a, &wi, &v), 0);
	assert_true(v.allowed);
	assert_string_equal(v.tenant, "corp");
	assert_string_equal(v.service, "b-web");
	assert_string_equal(v.verdict, "allow");
	assert_string_equal(v.rule, "b-web.access");
	assert_string_equal(v.route, "peer site-b");
	assert_string_equal(v.path, "wan0");
	assert_string_equal(v.drop, "");
	assert_non_null(strstr(v.explanation, "verdict allow"));
	/* Port 22 is not b-web's; a segment that does not exist is an error. */
	wi.dst_port = 22;
	assert_int_equal(router_worker_policy_test(r->a, &wi, &v), 0);
	assert_string_equal(v.verdict, "no-service");
	assert_string_equal(v.drop, "policy-no-service");
	wi.lan = 7;
	assert_int_equal(router_worker_policy_test(r->a, &wi, &v), -EINVAL);
	assert_int_equal(session_table_count(router_worker_sessions(r->a)), 0);
}

/*
 * Tenants: two segments with the same addresses (red on lan 0, blue on lan 1), and
 * guest by source prefix on red's segment. Site b serves each tenant's app and one
 * that red and blue share.
 */
static const char site_a_tenants[] =
    "{ \"router\": { \"name\": \"site-a\" },"
    "  \"tenants\": [ { \"name\": \"red\" }, { \"name\": \"blue\" }, { \"name\": "
    "\"guest\" } ],"
    "  \"lan\": [ { \"name\": \"red\", \"tenant\": \"red\", \"address\": \"10.1.0.1/24\","
    "             \"prefixes\": [\"10.1.0.0/24\"], \"tenants\": [ { \"tenant\": \"guest\", "
    "\"prefixes\": [\"10.1.0.128/25\"] } ] },"
    "           { \"name\": \"blue\", \"tenant\": \"blue\", \"address\": \"10.1.0.1/24\","
    "             \"prefixes\": [\"10.1.0.0/24\"] } ],"
    "  \"wan\": [ { \"name\": \"wan0\", \"device\": \"wan0\", \"waypoint\": \"192.0.2.1\" } ],"
    "  \"peers\": [ { \"name\": \"site-b\", \"paths\": [ { \"wan\": \"wan0\", \"remote\": "
    "\"192.0.2.2\" } ] } ],"
    "  \"services\": ["
    "    { \"name\": \"red-app\", \"prefixes\": [\"10.2.0.10/32\"], \"access\": [\"red\"],"
    "      \"route\": { \"peer\": \"site-b\" } },"
    "    { \"name\": \"blue-app\", \"prefixes\": [\"10.2.0.20/32\"], \"access\": [\"blue\"],"
    "      \"route\": { \"peer\": \"site-b\" } },"
    "    { \"name\": \"guest-app\", \"prefixes\": [\"10.2.0.30/32\"], \"access\": "
    "[\"guest\"], \"route\": { \"peer\": \"site-b\" } },"
    "    { \"name\": \"shared\", \"prefixes\": [\"10.2.0.40/32\"], \"access\": [\"red\", "
    "\"blue\"], \"route\": { \"peer\": \"site-b\" } } ],"
    "  \"rules\": [ { \"name\": \"no-blue-shared\", \"tenant\": \"blue\", \"service\": "
    "\"shared\", \"action\": \"deny\" } ] }";

static const char site_b_tenants[] =
    "{ \"router\": { \"name\": \"site-b\" },"
    "  \"tenants\": [ { \"name\": \"red\" }, { \"name\": \"blue\" }, { \"name\": "
    "\"guest\" } ],"
    "  \"lan\": [ { \"name\": \"srv\", \"tenant\": \"red\", \"address\": \"10.2.0.1/24\","
    "             \"prefixes\": [\"10.2.0.0/24\"] } ],"
    "  \"wan\": [ { \"name\": \"wan0\", \"device\": \"wan0\", \"waypoint\": \"192.0.2.2\" } ],"
    "  \"peers\": [ { \"name\": \"site-a\", \"paths\": [ { \"wan\": \"wan0\", \"remote\": "
    "\"192.0.2.1\" } ] } ],"
    "  \"services\": ["
    "    { \"name\": \"red-app\", \"prefixes\": [\"10.2.0.10/32\"], \"access\": [\"red\"],"
    "      \"route\": { \"lan\": \"srv\" } },"
    "    { \"name\": \"blue-app\", \"prefixes\": [\"10.2.0.20/32\"], \"access\": [\"blue\"],"
    "      \"route\": { \"lan\": \"srv\" } },"
    "    { \"name\": \"guest-app\", \"prefixes\": [\"10.2.0.30/32\"], \"access\": "
    "[\"guest\"], \"route\": { \"lan\": \"srv\" } },"
    "    { \"name\": \"shared\", \"prefixes\": [\"10.2.0.40/32\"], \"access\": [\"red\", "
    "\"blue\"], \"route\": { \"lan\": \"srv\" } } ] }";

static int
rig_setup_tenants(void **state)
{
	rig_text_a = site_a_tenants;
	rig_text_b = site_b_tenants;
	return rig_setup(state);
}

/* The tenant of the one session of w whose LAN key has source src. */
static const char *
session_tenant_of(struct router_worker *w, const char *dst)
{
	struct session_table *t = router_worker_sessions(w);
	struct addr a;

	assert_int_equal(addr_parse(dst, &a), 0);
	for (uint32_t i = session_table_next(t, 0); i != SESSION_INDEX_NONE;
	     i = session_table_next(t, i + 1)) {
		const struct session *s = session_table_get(t, i);

		if (memcmp(s->lan_key.dst, a.bytes, 4) == 0)
			return router_worker_session_tenant(w, s);
	}
	return NULL;
}

/* The session of w whose LAN key has source src (at an egress: the server's side). */
static const struct session *
session_from(struct router_worker *w, const char *src)
{
	struct session_table *t = router_worker_sessions(w);
	struct addr a;

	assert_int_equal(addr_parse(src, &a), 0);
	for (uint32_t i = session_table_next(t, 0); i != SESSION_INDEX_NONE;
	     i = session_table_next(t, i + 1)) {
		const struct session *s = session_table_get(t, i);

		if (memcmp(s->lan_key.src, a.bytes, 4) == 0)
			return s;
	}
	fail_msg("no session from %s", src);
	return NULL;
}

static void
test_router_worker_tenants_by_segment_and_prefix(void **state)
{
	struct worker_rig *r = *state;
	struct router_worker_verdict v;
	struct router_worker_what_if wi = {.lan = 0, .proto = IPPROTO_UDP, .dst_port = 53};
	uint8_t pkt[256], back[256];
	size_t len, blen;

	/* Same host address and port on both segments, each to its own app. */
	len = worker_rig_packet_make(pkt, "10.1.0.10", "10.2.0.10", IPPROTO_UDP, 40000, 53, "red");
	worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	worker_rig_run(r);
	worker_rig_expect_delivered(r, r->lan_b, pkt, len);
	len = worker_rig_packet_make(pkt, "10.1.0.10", "10.2.0.20", IPPROTO_UDP, 40000, 53, "blue");
	worker_rig_inject(r->pool, r->lan_a[1], pkt, len);
	worker_rig_run(r);
	worker_rig_expect_delivered(r, r->lan_b, pkt, len);
	/* Red may not reach blue's app: refused at the ingress, counted. */
	len = worker_rig_packet_make(pkt, "10.1.0.10", "10.2.0.20", IPPROTO_UDP, 40001, 53, "red");
	worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	worker_rig_run(r);
	worker_rig_expect_nothing(r->lan_b);
	assert_int_equal(router_worker_drops(r->a)->count[PKT_DROP_POLICY_NO_RULE], 1);
	/*
	 * The same tuple from both segments to the shared app: red's session must not
	 * carry blue's packet (the segment is the zone), and a rule refuses blue. (Both
	 * allowed at once would meet at site b as one client tuple in one segment: a
	 * conflict, counted, unless site b translates them with a nat_pool.)
	 */
	len = worker_rig_packet_make(pkt, "10.1.0.10", "10.2.0.40", IPPROTO_UDP, 40000, 53, "red");
	worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	worker_rig_run(r);
	worker_rig_expect_delivered(r, r->lan_b, pkt, len);
	len = worker_rig_packet_make(pkt, "10.1.0.10", "10.2.0.40", IPPROTO_UDP, 40000, 53, "blue");
	worker_rig_inject(r->pool, r->lan_a[1], pkt, len);
	worker_rig_run(r);
	worker_rig_expect_nothing(r->lan_b);
	assert_int_equal(router_worker_drops(r->a)->count[PKT_DROP_POLICY_DENIED], 1);
	assert_int_equal(session_table_count(router_worker_sessions(r->a)), 3);
	assert_int_equal(session_table_count(router_worker_sessions(r->b)), 3);
	/* Site b's answer to each reaches the host of the right segment. */
	blen = worker_rig_packet_make(back, "10.2.0.20", "10.1.0.10", IPPROTO_UDP, 53, 40000,
	    "to blue");
	worker_rig_inject(r->pool, r->lan_b, back, blen);
	worker_rig_run(r);
	worker_rig_expect_delivered(r, r->lan_a[1], back, blen);
	worker_rig_expect_nothing(r->lan_a[0]);
	blen = worker_rig_packet_make(back, "10.2.0.10", "10.1.0.10", IPPROTO_UDP, 53, 40000,
	    "to red");
	worker_rig_inject(r->pool, r->lan_b, back, blen);
	worker_rig_run(r);
	worker_rig_expect_delivered(r, r->lan_a[0], back, blen);
	worker_rig_expect_nothing(r->lan_a[1]);
	/* Guest by source prefix on red's segment: guest's app (site b checks the tenant
	 * named in the metadata), and not red's. */
	len =
	    worker_rig_packet_make(pkt, "10.1.0.200", "10.2.0.30", IPPROTO_UDP, 40000, 53, "guest");
	worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	worker_rig_run(r);
	worker_rig_expect_delivered(r, r->lan_b, pkt, len);
	assert_string_equal(session_tenant_of(r->a, "10.2.0.30"), "guest");
	assert_string_equal(session_tenant_of(r->a, "10.2.0.10"), "red");
	assert_string_equal(session_tenant_of(r->a, "10.2.0.20"), "blue");
	assert_string_equal(router_worker_session_segment(r->a, session_from(r->a, "10.1.0.200")),
	    "red");
	/*
	 * At the egress the tenant is the one the metadata named (the one site b's policy
	 * checked), though all three are delivered into srv, whose own tenant is red.
	 */
	assert_string_equal(router_worker_session_tenant(r->b, session_from(r->b, "10.2.0.30")),
	    "guest");
	assert_string_equal(router_worker_session_tenant(r->b, session_from(r->b, "10.2.0.20")),
	    "blue");
	assert_string_equal(router_worker_session_tenant(r->b, session_from(r->b, "10.2.0.10")),
	    "red");
	assert_string_equal(router_worker_session_segment(r->b, session_from(r->b, "10.2.0.20")),
	    "srv");
	len =
	    worker_rig_packet_make(pkt, "10.1.0.200", "10.2.0.10", IPPROTO_UDP, 40000, 53, "guest");
	worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	worker_rig_run(r);
	worker_rig_expect_nothing(r->lan_b);
	assert_int_equal(router_worker_drops(r->a)->count[PKT_DROP_POLICY_NO_RULE], 2);
	blen = worker_rig_packet_make(back, "10.2.0.30", "10.1.0.200", IPPROTO_UDP, 53, 40000,
	    "to guest");
	worker_rig_inject(r->pool, r->lan_b, back, blen);
	worker_rig_run(r);
	worker_rig_expect_delivered(r, r->lan_a[0], back, blen);
	/* The what-if agrees: tenant by prefix, and by segment. */
	assert_int_equal(addr_parse("10.1.0.200", &wi.src), 0);
	assert_int_equal(addr_parse("10.2.0.30", &wi.dst), 0);
	assert_int_equal(router_worker_policy_test(r->a, &wi, &v), 0);
	assert_true(v.allowed);
	assert_string_equal(v.tenant, "guest");
	assert_non_null(strstr(v.explanation, "10.1.0.128/25"));
	assert_int_equal(addr_parse("10.2.0.10", &wi.dst), 0);
	assert_int_equal(router_worker_policy_test(r->a, &wi, &v), 0);
	assert_false(v.allowed);
	assert_string_equal(v.drop, "policy-no-rule");
	wi.lan = 1;
	assert_int_equal(addr_parse("10.1.0.10", &wi.src), 0);
	assert_int_equal(addr_parse("10.2.0.20", &wi.dst), 0);
	assert_int_equal(router_worker_policy_test(r->a, &wi, &v), 0);
	assert_true(v.allowed);
	assert_string_equal(v.tenant, "blue");
	assert_string_equal(v.route, "peer site-b");
	assert_int_equal(router_worker_drops(r->b)->count[PKT_DROP_POLICY_NO_RULE], 0);
}

/*
 * Breakout: site a's corp reaches "inet" (198.51.100.0/24) through wan0 with source NAT;
 * "banned" (203.0.113.0/24) breaks out too but a rule denies it.
 */
static const char site_a_breakout[] =
    "{ \"router\": { \"name\": \"site-a\" },"
    "  \"tenants\": [ { \"name\": \"corp\" } ],"
    "  \"lan\": [ { \"name\": \"corp\", \"tenant\": \"corp\", \"address\": \"10.1.0.1/24\","
    "             \"prefixes\": [\"10.1.0.0/24\"] },"
    "           { \"name\": \"other\", \"tenant\": \"corp\", \"address\": \"10.1.1.1/24\","
    "             \"prefixes\": [\"10.1.1.0/24\"] } ],"
    "  \"wan\": [ { \"name\": \"wan0\", \"device\": \"wan0\", \"waypoint\": \"192.0.2.1\" } ],"
    "  \"services\": ["
    "    { \"name\": \"inet\", \"prefixes\": [\"198.51.100.0/24\"], \"access\": [\"corp\"],"
    "      \"route\": { \"breakout\": \"wan0\" } },"
    "    { \"name\": \"banned\", \"prefixes\": [\"203.0.113.0/24\"], "
    "      \"route\": { \"breakout\": \"wan0\" } } ],"
    "  \"rules\": [ { \"name\": \"all\", \"tenant\": \"any\", \"service\": \"any\", "
    "\"action\": \"allow\" }, { \"name\": \"no-banned\", \"tenant\": \"corp\", "
    "\"service\": \"banned\", \"action\": \"deny\" } ] }";

static int
rig_setup_breakout(void **state)
{
	rig_text_a = site_a_breakout;
	return rig_setup(state);
}

/* The one packet site a sent on the WAN (site b is not polled), parsed. */
static struct pkt_buf *
wan_sent(struct worker_rig *r)
{
	struct pkt_buf *got[2];
	enum pkt_drop_reason reason;

	assert_int_equal(io_rx_burst(io_mem_link_port(r->wan, 1), got, 2), 1);
	assert_int_equal(pkt_parse(got[0], &reason), 0);
	return got[0];
}

/* A packet from the WAN's far end (site b's side, which is not polled). */
static void
inject_wan(struct worker_rig *r, const uint8_t *bytes, size_t len)
{
	struct pkt_buf *p = pkt_pool_get(r->pool);

	assert_non_null(p);
	assert_int_equal(pkt_buf_set(p, bytes, len), 0);
	assert_int_equal(io_tx_burst(io_mem_link_port(r->wan, 1), &p, 1), 1);
}

static void
test_router_worker_breakout_translates_both_ways(void **state)
{
	struct worker_rig *r = *state;
	struct router_worker_verdict v;
	struct router_worker_what_if wi = {.lan = 0, .proto = IPPROTO_TCP, .dst_port = 80};
	uint8_t pkt[256], back[256], want[256];
	struct pkt_buf *p;
	size_t len, blen, wlen;
	uint16_t nat_port;
	struct session_table *t;

	len = worker_rig_packet_make(pkt, "10.1.0.10", "198.51.100.80", IPPROTO_TCP, 40000, 80,
	    "GET");
	worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	router_worker_poll(r->a, r->now_ns);
	p = wan_sent(r);
	/* The source is the WAN's address and a NAT port; checksums still hold. */
	assert_memory_equal(pkt_buf_data(p) + 12, "\xc0\x00\x02\x01", 4);
	assert_memory_equal(pkt_buf_data(p) + 16, pkt + 16, 4);
	assert_true(pkt_csum_ipv4_header_valid(pkt_buf_data(p), 20));
	assert_true(pkt_csum_verify(pkt_buf_data(p), &p->info));
	nat_port = p->info.sport;
	assert_true(nat_port >= 16384);
	assert_int_equal(p->info.dport, 80);
	pkt_pool_put(r->pool, p);
	/* The answer comes back translated to the host's own tuple, byte for byte. */
	blen = worker_rig_packet_make(back, "198.51.100.80", "192.0.2.1", IPPROTO_TCP, 80, nat_port,
	    "200");
	wlen = worker_rig_packet_make(want, "198.51.100.80", "10.1.0.10", IPPROTO_TCP, 80, 40000,
	    "200");
	inject_wan(r, back, blen);
	router_worker_poll(r->a, r->now_ns);
	worker_rig_expect_delivered(r, r->lan_a[0], want, wlen);
	worker_rig_expect_nothing(r->lan_a[1]);
	/* The next packet of the session takes the same port; it is no SVR session. */
	worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	router_worker_poll(r->a, r->now_ns);
	p = wan_sent(r);
	assert_int_equal(p->info.sport, nat_port);
	pkt_pool_put(r->pool, p);
	t = router_worker_breakout_sessions(r->a);
	assert_non_null(t);
	assert_int_equal(session_table_count(t), 1);
	assert_int_equal(session_table_get(t, session_table_next(t, 0))->role,
	    SESSION_ROLE_BREAKOUT);
	assert_int_equal(session_table_count(router_worker_sessions(r->a)), 0);
	/* An answer to a port nobody holds is no breakout's: SVR counts it as ever. */
	blen =
	    worker_rig_packet_make(back, "198.51.100.80", "192.0.2.1", IPPROTO_TCP, 80, 17000, "x");
	inject_wan(r, back, blen);
	router_worker_poll(r->a, r->now_ns);
	worker_rig_expect_nothing(r->lan_a[0]);
	assert_int_equal(router_worker_drops(r->a)->count[PKT_DROP_META_REQUIRED], 1);
	/* A denied destination is refused before breakout, and counted. */
	len = worker_rig_packet_make(pkt, "10.1.0.10", "203.0.113.5", IPPROTO_UDP, 40000, 53, "q");
	worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	router_worker_poll(r->a, r->now_ns);
	assert_int_equal(io_mem_link_pending(r->wan, 1), 0);
	assert_int_equal(router_worker_drops(r->a)->count[PKT_DROP_POLICY_DENIED], 1);
	/* ICMP cannot break out (its answers would never reach ternd): counted. */
	len = worker_rig_packet_make(pkt, "10.1.0.10", "198.51.100.80", IPPROTO_UDP, 1, 1, "icmp");
	pkt[9] = IPPROTO_ICMP;
	pkt[10] = pkt[11] = 0;
	buf_store_be16(pkt + 10, pkt_csum_ipv4_header(pkt, 20));
	worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	router_worker_poll(r->a, r->now_ns);
	assert_int_equal(router_worker_drops(r->a)->count[PKT_DROP_ROUTER_BREAKOUT_UNSUPPORTED], 1);
	/* The what-if says the same. */
	assert_int_equal(addr_parse("10.1.0.10", &wi.src), 0);
	assert_int_equal(addr_parse("198.51.100.80", &wi.dst), 0);
	assert_int_equal(router_worker_policy_test(r->a, &wi, &v), 0);
	assert_true(v.allowed);
	assert_string_equal(v.route, "breakout wan0");
	assert_string_equal(v.path, "wan0 (wan0, source NAT to 192.0.2.1)");
	assert_non_null(strstr(v.explanation, "route breakout"));
	wi.proto = IPPROTO_ICMP;
	assert_int_equal(router_worker_policy_test(r->a, &wi, &v), 0);
	assert_string_equal(v.drop, "router-breakout-unsupported");
	wi.proto = IPPROTO_UDP;
	assert_int_equal(addr_parse("203.0.113.5", &wi.dst), 0);
	assert_int_equal(router_worker_policy_test(r->a, &wi, &v), 0);
	assert_string_equal(v.drop, "policy-denied");
	/* Idle: the session ends and its NAT port goes back. */
	r->now_ns += 4000ull * 1000000000ull;
	router_worker_tick(r->a, r->now_ns);
	assert_int_equal(session_table_count(t), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_router_worker_service_both_ways, rig_setup,
	        rig_teardown),
	    cmocka_unit_test_setup_teardown(test_router_worker_no_service_is_counted, rig_setup,
	        rig_teardown),
	    cmocka_unit_test_setup_teardown(test_router_worker_local_scope_is_not_a_service,
	        rig_setup, rig_teardown),
	    cmocka_unit_test_setup_teardown(test_router_worker_tenant_without_access_is_denied,
	        rig_setup, rig_teardown),
	    cmocka_unit_test_setup_teardown(test_router_worker_egress_refuses_unserved_service,
	        rig_setup, rig_teardown),
	    cmocka_unit_test_setup_teardown(test_router_worker_garbage_from_wan_is_counted,
	        rig_setup, rig_teardown),
	    cmocka_unit_test_setup_teardown(test_router_worker_default_deny_without_rules,
	        rig_setup_no_rules, rig_teardown),
	    cmocka_unit_test_setup_teardown(test_router_worker_deny_beats_allow, rig_setup_deny,
	        rig_teardown),
	    cmocka_unit_test_setup_teardown(test_router_worker_tenant_session_limit,
	        rig_setup_limited, rig_teardown),
	    cmocka_unit_test_setup_teardown(test_router_worker_tenant_rate_limit, rig_setup_rate,
	        rig_teardown),
	    cmocka_unit_test_setup_teardown(test_router_worker_egress_rechecks_tenant,
	        rig_setup_egress_check, rig_teardown),
	    cmocka_unit_test_setup_teardown(test_router_worker_what_if_allow, rig_setup,
	        rig_teardown),
	    cmocka_unit_test_setup_teardown(test_router_worker_tenants_by_segment_and_prefix,
	        rig_setup_tenants, rig_teardown),
	    cmocka_unit_test_setup_teardown(test_router_worker_breakout_translates_both_ways,
	        rig_setup_breakout, rig_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
