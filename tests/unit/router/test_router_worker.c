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
#include <string.h>

#include "io/io_mem.h"
#include "lib/buf.h"
#include "pkt/pkt_csum.h"
#include "pkt/pkt_parse.h"
#include "router/router_config.h"
#include "router/router_worker.h"

static const char site_a[] =
    "{ \"router\": { \"name\": \"site-a\" },"
    "  \"tenants\": [ { \"name\": \"corp\" }, { \"name\": \"guest\" } ],"
    "  \"lan\": [ { \"name\": \"corp\", \"tenant\": \"corp\", \"address\": \"10.1.0.1/24\","
    "             \"prefixes\": [\"10.1.0.0/24\"] },"
    "           { \"name\": \"guest\", \"tenant\": \"guest\", \"address\": \"10.1.1.1/24\","
    "             \"prefixes\": [\"10.1.1.0/24\"] } ],"
    "  \"wan\": [ { \"name\": \"wan0\", \"device\": \"wan0\", \"waypoint\": \"192.0.2.1\" } ],"
    "  \"peers\": [ { \"name\": \"site-b\", \"paths\": [ { \"wan\": \"wan0\", \"remote\": "
    "\"192.0.2.2\" } ] } ],"
    "  \"services\": ["
    "    { \"name\": \"b-web\", \"prefixes\": [\"10.2.0.0/24\"], \"ports\": [\"tcp/80\", "
    "\"udp/5000-5010\", \"icmp\"],"
    "      \"access\": [\"corp\"], \"route\": { \"peer\": \"site-b\" } },"
    "    { \"name\": \"b-secret\", \"prefixes\": [\"10.2.9.0/24\"], \"access\": [\"corp\"],"
    "      \"route\": { \"peer\": \"site-b\" } } ] }";

/* Site b serves b-web to corp only, and does not serve b-secret at all. */
static const char site_b[] =
    "{ \"router\": { \"name\": \"site-b\" },"
    "  \"tenants\": [ { \"name\": \"corp\" } ],"
    "  \"lan\": [ { \"name\": \"corp\", \"tenant\": \"corp\", \"address\": \"10.2.0.1/24\","
    "             \"prefixes\": [\"10.2.0.0/24\"] } ],"
    "  \"wan\": [ { \"name\": \"wan0\", \"device\": \"wan0\", \"waypoint\": \"192.0.2.2\" } ],"
    "  \"peers\": [ { \"name\": \"site-a\", \"paths\": [ { \"wan\": \"wan0\", \"remote\": "
    "\"192.0.2.1\" } ] } ],"
    "  \"services\": ["
    "    { \"name\": \"b-web\", \"prefixes\": [\"10.2.0.0/24\"], \"access\": [\"corp\"],"
    "      \"route\": { \"lan\": \"corp\" } } ] }";

struct rig {
	struct pkt_pool *pool;
	struct router_config *cfg_a, *cfg_b;
	struct io_mem_link *lan_a[2], *lan_b, *wan;
	struct io_port *a_lans[2], *a_wans[1], *b_lans[1], *b_wans[1];
	struct router_worker *a, *b;
	uint64_t now_ns;
};

static struct router_config *
config_parse(const char *text)
{
	struct router_config_errors errors;
	struct router_config *cfg = NULL;

	router_config_errors_init(&errors);
	if (router_config_parse(text, strlen(text), &cfg, &errors) < 0)
		router_config_errors_print(&errors, stderr);
	router_config_errors_fini(&errors);
	assert_non_null(cfg);
	return cfg;
}

/* The configurations the next rig_setup() uses (tests set them in their own setup). */
static const char *rig_text_a = site_a, *rig_text_b = site_b;

static int
rig_setup(void **state)
{
	static struct rig r;

	memset(&r, 0, sizeof(r));
	r.now_ns = 1000000000ull;
	r.pool = pkt_pool_new(512);
	r.cfg_a = config_parse(rig_text_a);
	r.cfg_b = config_parse(rig_text_b);
	rig_text_a = site_a;
	rig_text_b = site_b;
	for (int i = 0; i < 2; i++) {
		r.lan_a[i] = io_mem_link_new(64, 100 + i, (uint32_t)i);
		r.a_lans[i] = io_mem_link_port(r.lan_a[i], 1);
	}
	r.lan_b = io_mem_link_new(64, 200, 0);
	r.b_lans[0] = io_mem_link_port(r.lan_b, 1);
	r.wan = io_mem_link_new(64, 0, 0);
	r.a_wans[0] = io_mem_link_port(r.wan, 0);
	r.b_wans[0] = io_mem_link_port(r.wan, 1);
	assert_int_equal(router_worker_new(r.cfg_a, r.a_lans, r.a_wans, r.pool, r.now_ns, &r.a), 0);
	assert_int_equal(router_worker_new(r.cfg_b, r.b_lans, r.b_wans, r.pool, r.now_ns, &r.b), 0);
	*state = &r;
	return 0;
}

static int
rig_teardown(void **state)
{
	struct rig *r = *state;

	router_worker_free(r->a);
	router_worker_free(r->b);
	io_mem_link_free(r->lan_a[0], r->pool);
	io_mem_link_free(r->lan_a[1], r->pool);
	io_mem_link_free(r->lan_b, r->pool);
	io_mem_link_free(r->wan, r->pool);
	assert_int_equal(pkt_pool_available(r->pool), pkt_pool_capacity(r->pool));
	pkt_pool_free(r->pool);
	router_config_free(r->cfg_a);
	router_config_free(r->cfg_b);
	return 0;
}

/* A UDP or TCP packet with valid checksums. */
static size_t
packet_make(uint8_t *out, const char *src, const char *dst, uint8_t proto, uint16_t sport,
    uint16_t dport, const char *payload)
{
	struct addr s, d;
	struct pkt_info info;
	enum pkt_drop_reason reason;
	size_t n = strlen(payload), l4 = proto == IPPROTO_TCP ? 20 : 8, len = 20 + l4 + n;

	assert_int_equal(addr_parse(src, &s), 0);
	assert_int_equal(addr_parse(dst, &d), 0);
	memset(out, 0, 20 + l4);
	out[0] = 0x45;
	buf_store_be16(out + 2, (uint16_t)len);
	out[8] = 64;
	out[9] = proto;
	memcpy(out + 12, s.bytes, 4);
	memcpy(out + 16, d.bytes, 4);
	buf_store_be16(out + 20, sport);
	buf_store_be16(out + 22, dport);
	if (proto == IPPROTO_TCP) {
		out[32] = 5 << 4;
		out[33] = 0x02; /* SYN */
	} else {
		buf_store_be16(out + 24, (uint16_t)(8 + n));
	}
	memcpy(out + 20 + l4, payload, n);
	buf_store_be16(out + 10, pkt_csum_ipv4_header(out, 20));
	assert_int_equal(pkt_parse_bytes(out, len, &info, &reason), 0);
	pkt_csum_fill(out, &info);
	return len;
}

static void
inject(struct rig *r, struct io_mem_link *lan, const uint8_t *bytes, size_t len)
{
	struct pkt_buf *p = pkt_pool_get(r->pool);
	struct io_port *host = io_mem_link_port(lan, 0);

	assert_non_null(p);
	assert_int_equal(pkt_buf_set(p, bytes, len), 0);
	assert_int_equal(io_tx_burst(host, &p, 1), 1);
}

static void
run(struct rig *r)
{
	for (int i = 0; i < 4; i++) {
		router_worker_poll(r->a, r->now_ns);
		router_worker_poll(r->b, r->now_ns);
	}
}

/* The one packet a host received, compared with what the other host sent. */
static void
expect_delivered(struct rig *r, struct io_mem_link *lan, const uint8_t *bytes, size_t len)
{
	struct pkt_buf *got[2];
	unsigned n = io_rx_burst(io_mem_link_port(lan, 0), got, 2);

	assert_int_equal(n, 1);
	assert_int_equal(got[0]->len, len);
	assert_memory_equal(pkt_buf_data(got[0]), bytes, len);
	pkt_pool_put(r->pool, got[0]);
}

static void
expect_nothing(struct io_mem_link *lan)
{
	assert_int_equal(io_mem_link_pending(lan, 0), 0);
}

static void
test_router_worker_service_both_ways(void **state)
{
	struct rig *r = *state;
	uint8_t pkt[256];
	size_t len;

	len = packet_make(pkt, "10.1.0.10", "10.2.0.20", IPPROTO_UDP, 40000, 5005, "hello");
	inject(r, r->lan_a[0], pkt, len);
	run(r);
	expect_delivered(r, r->lan_b, pkt, len);
	len = packet_make(pkt, "10.2.0.20", "10.1.0.10", IPPROTO_UDP, 5005, 40000, "hi back");
	inject(r, r->lan_b, pkt, len);
	run(r);
	expect_delivered(r, r->lan_a[0], pkt, len);
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
	struct rig *r = *state;
	uint8_t pkt[256];
	size_t len;

	/* Wrong port for b-web, and an address no service covers. */
	len = packet_make(pkt, "10.1.0.10", "10.2.0.20", IPPROTO_TCP, 40001, 22, "");
	inject(r, r->lan_a[0], pkt, len);
	len = packet_make(pkt, "10.1.0.10", "10.3.0.1", IPPROTO_UDP, 40001, 5005, "x");
	inject(r, r->lan_a[0], pkt, len);
	run(r);
	expect_nothing(r->lan_b);
	assert_int_equal(router_worker_drops(r->a)->count[PKT_DROP_POLICY_NO_SERVICE], 2);
	assert_int_equal(session_table_count(router_worker_sessions(r->a)), 0);
}

static void
test_router_worker_local_scope_is_not_a_service(void **state)
{
	struct rig *r = *state;
	uint8_t pkt[256];
	size_t len;

	/* What a kernel sends into a TUN on its own: multicast, link-local. */
	len = packet_make(pkt, "10.1.0.10", "224.0.0.22", IPPROTO_UDP, 5353, 5353, "mdns");
	inject(r, r->lan_a[0], pkt, len);
	len = packet_make(pkt, "10.1.0.10", "169.254.1.1", IPPROTO_UDP, 40000, 53, "x");
	inject(r, r->lan_a[0], pkt, len);
	run(r);
	expect_nothing(r->lan_b);
	assert_int_equal(router_worker_drops(r->a)->count[PKT_DROP_ROUTER_LOCAL_SCOPE], 2);
	assert_int_equal(router_worker_drops(r->a)->count[PKT_DROP_POLICY_NO_SERVICE], 0);
}

static void
test_router_worker_tenant_without_access_is_denied(void **state)
{
	struct rig *r = *state;
	uint8_t pkt[256];
	size_t len;

	len = packet_make(pkt, "10.1.1.10", "10.2.0.20", IPPROTO_TCP, 40002, 80, "");
	inject(r, r->lan_a[1], pkt, len);
	run(r);
	expect_nothing(r->lan_b);
	/* guest is in no access list and no rule names it: the default deny. */
	assert_int_equal(router_worker_drops(r->a)->count[PKT_DROP_POLICY_NO_RULE], 1);
}

static void
test_router_worker_egress_refuses_unserved_service(void **state)
{
	struct rig *r = *state;
	uint8_t pkt[256];
	size_t len;

	/* Site a thinks b serves b-secret; site b does not, and says so in a counter. */
	len = packet_make(pkt, "10.1.0.10", "10.2.9.9", IPPROTO_UDP, 40003, 9, "secret");
	inject(r, r->lan_a[0], pkt, len);
	run(r);
	expect_nothing(r->lan_b);
	assert_int_equal(router_worker_drops(r->b)->count[PKT_DROP_ROUTER_UNKNOWN_SERVICE], 1);
	assert_int_equal(session_table_count(router_worker_sessions(r->b)), 0);
}

static void
test_router_worker_garbage_from_wan_is_counted(void **state)
{
	struct rig *r = *state;
	uint8_t pkt[256];
	size_t len;
	struct pkt_buf *p;

	/* No session, no metadata: dropped at b under meta-required. */
	len = packet_make(pkt, "192.0.2.1", "192.0.2.2", IPPROTO_UDP, 16384, 16385, "junk");
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
	expect_nothing(r->lan_b);
}

/* Site a's topology with other services and rules: "%s" is the services and rules. */
#define SITE_A_WITH(services_and_rules, corp_limits)                                                \
	"{ \"router\": { \"name\": \"site-a\" },"                                                   \
	"  \"tenants\": [ { \"name\": \"corp\" " corp_limits " }, { \"name\": \"guest\" } ],"       \
	"  \"lan\": [ { \"name\": \"corp\", \"tenant\": \"corp\", \"address\": \"10.1.0.1/24\","    \
	"             \"prefixes\": [\"10.1.0.0/24\"] },"                                           \
	"           { \"name\": \"guest\", \"tenant\": \"guest\", \"address\": \"10.1.1.1/24\","    \
	"             \"prefixes\": [\"10.1.1.0/24\"] } ],"                                         \
	"  \"wan\": [ { \"name\": \"wan0\", \"device\": \"wan0\", \"waypoint\": \"192.0.2.1\" } ]," \
	"  \"peers\": [ { \"name\": \"site-b\", \"paths\": [ { \"wan\": \"wan0\", \"remote\": "     \
	"\"192.0.2.2\" } ] } ]," services_and_rules "}"

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
drain(struct rig *r, struct io_mem_link *lan)
{
	struct pkt_buf *got[8];
	unsigned n;

	while ((n = io_rx_burst(io_mem_link_port(lan, 0), got, 8)) > 0)
		for (unsigned i = 0; i < n; i++)
			pkt_pool_put(r->pool, got[i]);
}

static void
test_router_worker_default_deny_without_rules(void **state)
{
	struct rig *r = *state;
	struct router_worker_verdict v;
	struct router_worker_what_if wi = {.lan = 0, .proto = IPPROTO_TCP, .dst_port = 80};
	uint8_t pkt[256];
	size_t len;

	len = packet_make(pkt, "10.1.0.10", "10.2.0.20", IPPROTO_TCP, 40000, 80, "");
	inject(r, r->lan_a[0], pkt, len);
	run(r);
	expect_nothing(r->lan_b);
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
	struct rig *r = *state;
	struct router_worker_verdict v;
	struct router_worker_what_if wi = {.lan = 0, .proto = IPPROTO_UDP, .dst_port = 53};
	uint8_t pkt[256];
	size_t len;

	len = packet_make(pkt, "10.1.0.10", "10.2.0.20", IPPROTO_UDP, 40000, 53, "q");
	inject(r, r->lan_a[0], pkt, len);
	run(r);
	expect_nothing(r->lan_b);
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
	struct rig *r = *state;
	struct router_worker_verdict v;
	struct router_worker_what_if wi = {.lan = 0, .proto = IPPROTO_UDP, .dst_port = 9};
	uint8_t pkt[256];
	size_t len;

	for (uint16_t i = 0; i < 4; i++) {
		len = packet_make(pkt, "10.1.0.10", "10.2.0.20", IPPROTO_UDP, 40000 + i, 9, "x");
		inject(r, r->lan_a[0], pkt, len);
	}
	run(r);
	assert_int_equal(pending(r->lan_b), 3);
	drain(r, r->lan_b);
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
	len = packet_make(pkt, "10.1.0.10", "10.2.0.20", IPPROTO_UDP, 41000, 9, "again");
	inject(r, r->lan_a[0], pkt, len);
	run(r);
	assert_int_equal(session_table_count(router_worker_sessions(r->a)), 1);
	assert_int_equal(router_worker_drops(r->a)->count[PKT_DROP_POLICY_TENANT_SESSION_LIMIT], 1);
	drain(r, r->lan_b);
}

static void
test_router_worker_tenant_rate_limit(void **state)
{
	struct rig *r = *state;
	uint8_t pkt[256];
	size_t len;

	/* 2 per second: a burst of two, then the third waits. */
	for (uint16_t i = 0; i < 3; i++) {
		len = packet_make(pkt, "10.1.0.10", "10.2.0.20", IPPROTO_UDP, 40000 + i, 9, "x");
		inject(r, r->lan_a[0], pkt, len);
	}
	run(r);
	assert_int_equal(session_table_count(router_worker_sessions(r->a)), 2);
	assert_int_equal(router_worker_drops(r->a)->count[PKT_DROP_POLICY_TENANT_RATE_LIMIT], 1);
	r->now_ns += 1000000000ull;
	len = packet_make(pkt, "10.1.0.10", "10.2.0.20", IPPROTO_UDP, 40010, 9, "x");
	inject(r, r->lan_a[0], pkt, len);
	run(r);
	assert_int_equal(session_table_count(router_worker_sessions(r->a)), 3);
	drain(r, r->lan_b);
}

static void
test_router_worker_egress_rechecks_tenant(void **state)
{
	struct rig *r = *state;
	uint8_t pkt[256];
	size_t len;

	/* Site a lets guest through; site b's rules do not: b refuses and counts it. */
	len = packet_make(pkt, "10.1.1.10", "10.2.0.20", IPPROTO_UDP, 40000, 9, "guest");
	inject(r, r->lan_a[1], pkt, len);
	len = packet_make(pkt, "10.1.0.10", "10.2.0.20", IPPROTO_UDP, 40001, 9, "corp");
	inject(r, r->lan_a[0], pkt, len);
	run(r);
	assert_int_equal(router_worker_svr_stats(r->a)->meta_tx, 2);
	assert_int_equal(router_worker_drops(r->b)->count[PKT_DROP_POLICY_NO_RULE], 1);
	assert_int_equal(session_table_count(router_worker_sessions(r->b)), 1);
	assert_int_equal(pending(r->lan_b), 1);
	drain(r, r->lan_b);
}

static void
test_router_worker_what_if_allow(void **state)
{
	struct rig *r = *state;
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
