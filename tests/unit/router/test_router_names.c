/*
 * Services by name in ternd's worker (router_learn.h): two workers joined by in-memory
 * links, as in test_router_worker.c:
 *
 *   host a1 --lan-- worker site-a --wan-- worker site-b --lan-- b hosts
 *   10.1.0.10                                                   10.2.0.53 (DNS), .80, .90
 *
 * Checks that a DNS answer crossing site a teaches it the name of an address (and the
 * TTL ends it), that a ClientHello's SNI decides the next sessions to its server, that
 * ternd's own resolution reaches every tenant, that the what-if agrees each time, the
 * statistics, and the nDPI pool running out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "../policy/policy_dns_build.h"
#include "../policy/policy_tls_samples.h"
#include "io/io_mem.h"
#include "lib/buf.h"
#include "pkt/pkt_csum.h"
#include "pkt/pkt_parse.h"
#include "router/router_config.h"
#include "router/router_learn.h"
#include "router/router_worker.h"
#include "worker_rig.h"

static const char site_a[] = WORKER_RIG_SITE_A("{ \"name\": \"corp\" }, { \"name\": \"guest\" }",
    ", \"services\": ["
    "    { \"name\": \"dns\", \"prefixes\": [\"10.2.0.53/32\"], \"ports\": [\"udp/53\"],"
    "      \"access\": [\"corp\"], \"route\": { \"peer\": \"site-b\" } },"
    "    { \"name\": \"app\", \"domains\": [\"app.corp.example\"], \"access\": [\"corp\", "
    "\"guest\"], \"route\": { \"peer\": \"site-b\" } },"
    "    { \"name\": \"web\", \"prefixes\": [\"10.2.0.90/32\"], \"ports\": [\"tcp/443\"],"
    "      \"access\": [\"corp\"], \"route\": { \"peer\": \"site-b\" } },"
    "    { \"name\": \"secure\", \"domains\": [\"*.test\"], \"ports\": [\"tcp/443\"],"
    "      \"access\": [\"corp\"], \"route\": { \"peer\": \"site-b\" } } ]");

static const char site_b[] =
    "{ \"router\": { \"name\": \"site-b\" },"
    "  \"tenants\": [ { \"name\": \"corp\" } ],"
    "  \"lan\": [ { \"name\": \"corp\", \"tenant\": \"corp\", \"address\": \"10.2.0.1/24\","
    "             \"prefixes\": [\"10.2.0.0/24\"] } ],"
    "  \"wan\": [ { \"name\": \"wan0\", \"device\": \"wan0\", \"waypoint\": \"192.0.2.2\" } ],"
    "  \"peers\": [ { \"name\": \"site-a\", \"paths\": [ { \"wan\": \"wan0\", \"remote\": "
    "\"192.0.2.1\" } ] } ],"
    "  \"services\": ["
    "    { \"name\": \"dns\", \"prefixes\": [\"10.2.0.53/32\"], \"access\": [\"corp\"],"
    "      \"route\": { \"lan\": \"corp\" } },"
    "    { \"name\": \"app\", \"domains\": [\"app.corp.example\"], \"access\": [\"corp\"],"
    "      \"route\": { \"lan\": \"corp\" } },"
    "    { \"name\": \"web\", \"prefixes\": [\"10.2.0.90/32\"], \"access\": [\"corp\"],"
    "      \"route\": { \"lan\": \"corp\" } },"
    "    { \"name\": \"secure\", \"domains\": [\"*.test\"], \"access\": [\"corp\"],"
    "      \"route\": { \"lan\": \"corp\" } } ] }";

static int
rig_setup(void **state)
{
	static struct worker_rig r;

	worker_rig_setup(&r, site_a, site_b);
	*state = &r;
	return 0;
}

static int
rig_teardown(void **state)
{
	worker_rig_teardown(*state);
	return 0;
}

/* An IPv4 UDP or TCP packet with valid checksums; TCP flags as given (SYN: 0x02). */
static size_t
packet_make(uint8_t *out, const char *src, const char *dst, uint8_t proto, uint16_t sport,
    uint16_t dport, uint8_t tcp_flags, const uint8_t *payload, size_t n)
{
	return worker_rig_packet_bytes(out, src, dst, proto, sport, dport, tcp_flags, 65535,
	    payload, n);
}

/* The what-if for a1 -> dst:port (tcp) with an optional SNI. */
static void
what_if(struct worker_rig *r, const char *dst, uint16_t port, const char *sni,
    struct router_worker_verdict *v)
{
	struct router_worker_what_if wi = {.lan = 0,
	    .proto = IPPROTO_TCP,
	    .dst_port = port,
	    .sni = sni};

	assert_int_equal(addr_parse("10.1.0.10", &wi.src), 0);
	assert_int_equal(addr_parse(dst, &wi.dst), 0);
	assert_int_equal(router_worker_policy_test(r->a, &wi, v), 0);
}

/* The service of site a's one session from a1 with this source port, by name. */
static const char *
session_service(struct worker_rig *r, uint16_t sport)
{
	struct session_table *t = router_worker_sessions(r->a);

	for (uint32_t i = session_table_next(t, 0); i != SESSION_INDEX_NONE;
	     i = session_table_next(t, i + 1)) {
		const struct session *s = session_table_get(t, i);

		if (s->lan_key.sport == sport)
			return r->cfg_a->services[s->service_id].name;
	}
	return NULL;
}

/* A DNS response for name: one A record, addr, ttl_s. */
static size_t
dns_answer(uint8_t *out, const char *name, const uint8_t addr[4], uint32_t ttl_s)
{
	struct dns_build m;

	dns_header(&m, 0x8180, 1, 1, 0, 0);
	dns_labels(&m, name, 1);
	dns_put16(&m, 1);
	dns_put16(&m, 1);
	dns_pointer(&m, 12);
	dns_rr(&m, 1, ttl_s, 4);
	for (int i = 0; i < 4; i++)
		dns_put8(&m, addr[i]);
	memcpy(out, m.b, m.n);
	return m.n;
}

static void
test_router_names_dns_answer_names_address(void **state)
{
	struct worker_rig *r = *state;
	const uint8_t app_addr[4] = {10, 2, 0, 80};
	struct router_worker_verdict v;
	uint8_t pkt[512], msg[256];
	size_t len, n;

	/* Before any answer, 10.2.0.80 is no service: refused and counted. */
	what_if(r, "10.2.0.80", 443, NULL, &v);
	assert_string_equal(v.verdict, "no-service");
	len = packet_make(pkt, "10.1.0.10", "10.2.0.80", IPPROTO_TCP, 41000, 443, 0x02, NULL, 0);
	worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	worker_rig_run(r);
	assert_int_equal(worker_rig_drain(r->pool, r->lan_b), 0);
	assert_int_equal(router_worker_drops(r->a)->count[PKT_DROP_POLICY_NO_SERVICE], 1);

	/* a1 asks the DNS server at site b; the answer crosses site a on its way back. */
	len = packet_make(pkt, "10.1.0.10", "10.2.0.53", IPPROTO_UDP, 5353, 53, 0,
	    (const uint8_t *)"q", 1);
	worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	worker_rig_run(r);
	assert_int_equal(worker_rig_drain(r->pool, r->lan_b), 1);
	n = dns_answer(msg, "app.corp.example", app_addr, 30);
	len = packet_make(pkt, "10.2.0.53", "10.1.0.10", IPPROTO_UDP, 53, 5353, 0, msg, n);
	worker_rig_inject(r->pool, r->lan_b, pkt, len);
	worker_rig_run(r);
	assert_int_equal(worker_rig_drain(r->pool, r->lan_a[0]), 1);
	assert_int_equal(router_learn_stats(router_worker_learn(r->a))->dns_records, 1);

	/* Now the same SYN is the domain service, and the what-if says so. */
	what_if(r, "10.2.0.80", 443, NULL, &v);
	assert_string_equal(v.verdict, "allow");
	assert_string_equal(v.service, "app");
	assert_non_null(strstr(v.explanation, "app.corp.example"));
	len = packet_make(pkt, "10.1.0.10", "10.2.0.80", IPPROTO_TCP, 41001, 443, 0x02, NULL, 0);
	worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	worker_rig_run(r);
	assert_int_equal(worker_rig_drain(r->pool, r->lan_b), 1);
	assert_string_equal(session_service(r, 41001), "app");
	/* An address nobody named stays refused. */
	what_if(r, "10.2.0.81", 443, NULL, &v);
	assert_string_equal(v.verdict, "no-service");

	/* The TTL runs out: the name goes, and with it the service. */
	r->now_ns += 31ull * 1000000000ull;
	worker_rig_run(r);
	what_if(r, "10.2.0.80", 443, NULL, &v);
	assert_string_equal(v.verdict, "no-service");
	len = packet_make(pkt, "10.1.0.10", "10.2.0.80", IPPROTO_TCP, 41002, 443, 0x02, NULL, 0);
	worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	worker_rig_run(r);
	assert_int_equal(worker_rig_drain(r->pool, r->lan_b), 0);
	assert_int_equal(router_worker_drops(r->a)->count[PKT_DROP_POLICY_NO_SERVICE], 2);
}

static void
test_router_names_sni_decides_next_sessions(void **state)
{
	struct worker_rig *r = *state;
	struct router_worker_verdict v;
	uint8_t pkt[1024];
	size_t len;

	/* The first connection is decided at its SYN: by prefix, service web. */
	len = packet_make(pkt, "10.1.0.10", "10.2.0.90", IPPROTO_TCP, 42000, 443, 0x02, NULL, 0);
	worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	worker_rig_run(r);
	assert_int_equal(worker_rig_drain(r->pool, r->lan_b), 1);
	assert_string_equal(session_service(r, 42000), "web");
	what_if(r, "10.2.0.90", 443, NULL, &v);
	assert_string_equal(v.service, "web");
	/* The what-if with the SNI says where a connection with that name goes. */
	what_if(r, "10.2.0.90", 443, "example.test", &v);
	assert_string_equal(v.service, "secure");
	assert_string_equal(v.sni, "example.test");
	/* Its ClientHello (after the handshake) names example.test. */
	len = packet_make(pkt, "10.1.0.10", "10.2.0.90", IPPROTO_TCP, 42000, 443, 0x18,
	    policy_sample_ch13, sizeof(policy_sample_ch13));
	worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	worker_rig_run(r);
	assert_int_equal(worker_rig_drain(r->pool, r->lan_b), 1);
	assert_int_equal(router_learn_stats(router_worker_learn(r->a))->sni_learnt, 1);
	/* The session keeps its route; the next one to that server takes secure's. */
	assert_string_equal(session_service(r, 42000), "web");
	what_if(r, "10.2.0.90", 443, NULL, &v);
	assert_string_equal(v.service, "secure");
	assert_string_equal(v.sni, "example.test");
	len = packet_make(pkt, "10.1.0.10", "10.2.0.90", IPPROTO_TCP, 42001, 443, 0x02, NULL, 0);
	worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	worker_rig_run(r);
	assert_int_equal(worker_rig_drain(r->pool, r->lan_b), 1);
	assert_string_equal(session_service(r, 42001), "secure");
}

static void
test_router_names_resolved_for_every_tenant(void **state)
{
	struct worker_rig *r = *state;
	struct router_worker_verdict v;
	struct router_worker_what_if wi = {.lan = 1, .proto = IPPROTO_UDP, .dst_port = 9};
	struct router_worker_op op = {.kind = ROUTER_WORKER_NAME_RESOLVED,
	    .name = "app.corp.example",
	    .ttl_s = 60};

	assert_int_equal(addr_parse("10.2.0.77", &op.addr), 0);
	router_worker_op_apply(r->a, &op);
	what_if(r, "10.2.0.77", 443, NULL, &v);
	assert_string_equal(v.service, "app");
	assert_string_equal(v.verdict, "allow");
	/* Guest (the other segment's tenant) learnt it too. */
	assert_int_equal(addr_parse("10.1.1.10", &wi.src), 0);
	wi.dst = op.addr;
	assert_int_equal(router_worker_policy_test(r->a, &wi, &v), 0);
	assert_string_equal(v.tenant, "guest");
	assert_string_equal(v.service, "app");
	assert_int_equal(router_learn_stats(router_worker_learn(r->a))->resolved, 1);
}

static void
test_router_names_stats_count_sessions_and_bytes(void **state)
{
	struct worker_rig *r = *state;
	struct router_learn *l = router_worker_learn(r->a);
	struct router_learn_count svc[8], ten[4], *apps;
	uint8_t pkt[512];
	size_t len, len2;
	uint32_t napps = router_learn_app_count(l);

	apps = calloc(napps, sizeof(*apps));
	assert_non_null(apps);
	len = packet_make(pkt, "10.1.0.10", "10.2.0.53", IPPROTO_UDP, 5353, 53, 0,
	    (const uint8_t *)"q", 1);
	worker_rig_inject(r->pool, r->lan_a[0], pkt, len);
	worker_rig_run(r);
	len2 = packet_make(pkt, "10.2.0.53", "10.1.0.10", IPPROTO_UDP, 53, 5353, 0,
	    (const uint8_t *)"ab", 2);
	worker_rig_inject(r->pool, r->lan_b, pkt, len2);
	worker_rig_run(r);
	assert_int_equal(worker_rig_drain(r->pool, r->lan_b), 1);
	assert_int_equal(worker_rig_drain(r->pool, r->lan_a[0]), 1);
	router_learn_stats_walk(l, router_worker_sessions(r->a), svc, ten, apps);
	assert_int_equal(svc[0].sessions_now, 1);
	assert_int_equal(svc[0].sessions_total, 1);
	assert_int_equal(svc[0].bytes[0], len);
	/* Bytes as the session counts them: each packet as it arrived (from the WAN with
	 * its metadata). */
	assert_true(svc[0].bytes[1] >= len2);
	assert_int_equal(ten[0].sessions_total, 1);
	assert_int_equal(ten[1].sessions_total, 0);
	/* The session ends: its counts stay, no longer live. */
	r->now_ns += 400ull * 1000000000ull;
	router_worker_tick(r->a, r->now_ns);
	router_learn_stats_walk(l, router_worker_sessions(r->a), svc, ten, apps);
	assert_int_equal(svc[0].sessions_now, 0);
	assert_int_equal(svc[0].sessions_total, 1);
	assert_int_equal(svc[0].bytes[0], len);
	assert_int_equal(ten[0].bytes[1], svc[0].bytes[1]);
	free(apps);
}

/* The nDPI pool: sessions beyond it are counted as not inspected; slots come back. */
static void
test_router_names_app_pool_exhaustion(void **state)
{
	struct router_learn_config lc = {.sessions = 8,
	    .tenants = 1,
	    .services = 1,
	    .dns_entries = 4,
	    .sni_entries = 4,
	    .app_entries = 4,
	    .dpi_flows = 2,
	    .dpi_packets = 4};
	struct router_learn *l = router_learn_new(&lc);
	uint8_t syn[64];
	uint32_t slot[3];
	uint16_t app;
	size_t len;
	struct session s;

	(void)state;
	assert_non_null(l);
	assert_non_null(router_learn_dpi(l));
	len = packet_make(syn, "10.1.0.10", "10.2.0.90", IPPROTO_TCP, 1, 443, 0x02, NULL, 0);
	for (int i = 0; i < 3; i++)
		slot[i] = router_learn_first(l, syn, len, 1000, &app);
	assert_int_not_equal(slot[0], DPI_SLOT_NONE);
	assert_int_not_equal(slot[1], DPI_SLOT_NONE);
	assert_int_equal(slot[2], DPI_SLOT_NONE);
	assert_int_equal(dpi_app_stats(router_learn_dpi(l))->not_inspected, 1);
	assert_int_equal(dpi_app_stats(router_learn_dpi(l))->in_use, 2);
	assert_true(router_learn_session_start(l, 0, 0, 0, false, slot[0], app));
	router_learn_first_abort(l, slot[1]);
	memset(&s, 0, sizeof(s));
	router_learn_session_end(l, 0, &s);
	assert_int_equal(dpi_app_stats(router_learn_dpi(l))->in_use, 0);
	assert_int_not_equal(router_learn_first(l, syn, len, 1000, &app), DPI_SLOT_NONE);
	router_learn_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_router_names_dns_answer_names_address, rig_setup,
	        rig_teardown),
	    cmocka_unit_test_setup_teardown(test_router_names_sni_decides_next_sessions, rig_setup,
	        rig_teardown),
	    cmocka_unit_test_setup_teardown(test_router_names_resolved_for_every_tenant, rig_setup,
	        rig_teardown),
	    cmocka_unit_test_setup_teardown(test_router_names_stats_count_sessions_and_bytes,
	        rig_setup, rig_teardown),
	    cmocka_unit_test(test_router_names_app_pool_exhaustion),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
