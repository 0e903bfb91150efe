/*
 * Path selection and failover of the ternd worker: two workers joined by two WAN links
 * (in-memory), each site with one LAN:
 *
 *   host a1 --lan-- site-a  wan0 192.0.2.1    ----  192.0.2.2    wan0  site-b --lan-- host b1
 *   10.1.0.10               wan1 198.51.100.1 ----  198.51.100.2 wan1          10.2.0.20
 *
 * wan0 carries the vector "broadband" (cost 10), wan1 "lte" (cost 20). "voice" (UDP
 * 5000-5999) has an SLA of 150 ms and is revertible; "bulk" (everything else) has no
 * SLA and fails over only; "strict" (UDP 7000) has an SLA no path meets and drops;
 * "video" (UDP 6000-6999, a jitter SLA) is there to break apart from voice.
 * The test plays the prober: it hands the workers path states and measurements with
 * router_worker_op_apply() and drives them with a simulated clock. Nothing here
 * depends on real time or on randomness (costs never tie, so the per-session hash that
 * breaks ties never decides).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto_aead.h"
#include "io/io_mem.h"
#include "lib/buf.h"
#include "path/path_log.h"
#include "path/path_select.h"
#include "pkt/pkt_csum.h"
#include "pkt/pkt_parse.h"
#include "router/router_config.h"
#include "router/router_worker.h"
#include "worker_rig.h"
#include "session/session_table.h"
#include "svr/svr_transform.h"

#define POLICIES                                                                                   \
	"  \"service_policies\": ["                                                                \
	"    { \"name\": \"voice\", \"sla\": { \"max_latency_ms\": 150 },"                         \
	"      \"vector_costs\": { \"broadband\": 10, \"lte\": 20 },"                              \
	"      \"resiliency\": \"revertible-failover\" },"                                         \
	"    { \"name\": \"bulk\", \"vector_costs\": { \"broadband\": 10, \"lte\": 20 },"          \
	"      \"resiliency\": \"failover\" },"                                                    \
	"    { \"name\": \"strict\", \"sla\": { \"max_latency_ms\": 1 },"                          \
	"      \"vector_costs\": { \"broadband\": 10, \"lte\": 20 }, \"no_path\": \"drop\" },"     \
	"    { \"name\": \"video\", \"sla\": { \"max_jitter_ms\": 30 },"                           \
	"      \"vector_costs\": { \"broadband\": 10, \"lte\": 20 },"                              \
	"      \"resiliency\": \"revertible-failover\" },"                                         \
	"    { \"name\": \"dup\", \"vector_costs\": { \"broadband\": 10, \"lte\": 20 },"           \
	"      \"resiliency\": \"duplicate\" } ],"

/* hold_down_ms 1000 (default 5000) keeps the revert test short. */
static const char site_a[] =
    "{ \"router\": { \"name\": \"site-a\" },"
    "  \"tenants\": [ { \"name\": \"corp\" } ],"
    "  \"lan\": [ { \"name\": \"corp\", \"tenant\": \"corp\", \"address\": \"10.1.0.1/24\","
    "             \"prefixes\": [\"10.1.0.0/24\"] } ],"
    "  \"wan\": [ { \"name\": \"wan0\", \"device\": \"wan0\", \"waypoint\": \"192.0.2.1\","
    "             \"vectors\": [\"broadband\"] },"
    "           { \"name\": \"wan1\", \"device\": \"wan1\", \"waypoint\": \"198.51.100.1\","
    "             \"vectors\": [\"lte\"] } ],"
    "  \"peers\": [ { \"name\": \"site-b\", \"probe\": { \"hold_down_ms\": 1000 },"
    "               \"paths\": [ { \"wan\": \"wan0\", \"remote\": \"192.0.2.2\" },"
    "                            { \"wan\": \"wan1\", \"remote\": \"198.51.100.2\" } ] } ]," POLICIES
    "  \"services\": ["
    "    { \"name\": \"voice\", \"prefixes\": [\"10.2.0.0/24\"], \"ports\": [\"udp/5000-5999\"],"
    "      \"access\": [\"corp\"], \"route\": { \"peer\": \"site-b\" }, \"policy\": \"voice\" },"
    "    { \"name\": \"video\", \"prefixes\": [\"10.2.0.0/24\"], \"ports\": [\"udp/6000-6999\"],"
    "      \"access\": [\"corp\"], \"route\": { \"peer\": \"site-b\" }, \"policy\": \"video\" },"
    "    { \"name\": \"strict\", \"prefixes\": [\"10.2.0.0/24\"], \"ports\": [\"udp/7000\"],"
    "      \"access\": [\"corp\"], \"route\": { \"peer\": \"site-b\" }, \"policy\": \"strict\" },"
    "    { \"name\": \"dup\", \"prefixes\": [\"10.2.0.0/24\"], \"ports\": [\"udp/8000\"],"
    "      \"access\": [\"corp\"], \"route\": { \"peer\": \"site-b\" }, \"policy\": \"dup\" },"
    "    { \"name\": \"bulk\", \"prefixes\": [\"10.2.0.0/24\"],"
    "      \"access\": [\"corp\"], \"route\": { \"peer\": \"site-b\" }, \"policy\": \"bulk\" } ] }";

static const char site_b[] =
    "{ \"router\": { \"name\": \"site-b\" },"
    "  \"tenants\": [ { \"name\": \"corp\" } ],"
    "  \"lan\": [ { \"name\": \"corp\", \"tenant\": \"corp\", \"address\": \"10.2.0.1/24\","
    "             \"prefixes\": [\"10.2.0.0/24\"] } ],"
    "  \"wan\": [ { \"name\": \"wan0\", \"device\": \"wan0\", \"waypoint\": \"192.0.2.2\","
    "             \"vectors\": [\"broadband\"] },"
    "           { \"name\": \"wan1\", \"device\": \"wan1\", \"waypoint\": \"198.51.100.2\","
    "             \"vectors\": [\"lte\"] } ],"
    "  \"peers\": [ { \"name\": \"site-a\", \"probe\": { \"hold_down_ms\": 1000 },"
    "               \"paths\": [ { \"wan\": \"wan0\", \"remote\": \"192.0.2.1\" },"
    "                            { \"wan\": \"wan1\", \"remote\": \"198.51.100.1\" } ] } ]," POLICIES
    "  \"services\": ["
    "    { \"name\": \"voice\", \"prefixes\": [\"10.2.0.0/24\"], \"access\": [\"corp\"],"
    "      \"route\": { \"lan\": \"corp\" }, \"policy\": \"voice\" },"
    "    { \"name\": \"video\", \"prefixes\": [\"10.2.0.0/24\"], \"access\": [\"corp\"],"
    "      \"route\": { \"lan\": \"corp\" }, \"policy\": \"video\" },"
    "    { \"name\": \"strict\", \"prefixes\": [\"10.2.0.0/24\"], \"access\": [\"corp\"],"
    "      \"route\": { \"lan\": \"corp\" }, \"policy\": \"strict\" },"
    "    { \"name\": \"dup\", \"prefixes\": [\"10.2.0.0/24\"], \"access\": [\"corp\"],"
    "      \"route\": { \"lan\": \"corp\" }, \"policy\": \"dup\" },"
    "    { \"name\": \"bulk\", \"prefixes\": [\"10.2.0.0/24\"], \"access\": [\"corp\"],"
    "      \"route\": { \"lan\": \"corp\" }, \"policy\": \"bulk\" } ] }";

/* Path ids (the same at both sites: the peers list their paths in the same order). */
enum {
	WAN0 = 0,
	WAN1 = 1
};

/* The flows: client ports at host a1 and the service ports at b1. */
enum {
	VOICE_CPORT = 40000,
	VOICE_SPORT = 5004,
	BULK_CPORT = 40001,
	BULK_SPORT = 9000,
	IDLE_CPORT = 40002, /* a second bulk flow that sends nothing after its first packet */
	STRICT_CPORT = 40003,
	STRICT_SPORT = 7000,
	DUP_CPORT = 40004,
	DUP_SPORT = 8000,
};

#define MS 1000000ull

struct rig {
	struct pkt_pool *pool;
	struct router_config *cfg_a, *cfg_b;
	struct io_mem_link *lan_a, *lan_b, *wan[2];
	struct io_port *a_lans[1], *a_wans[2], *b_lans[1], *b_wans[2];
	struct router_worker *a, *b;
	uint64_t now_ns;
};

/* What the prober would hand over: a state change (PATH_STATE) or new measurements. */
static void
path_report_jitter(struct router_worker *w, enum router_worker_op_kind kind, uint32_t path, bool up,
    uint32_t latency_ms, uint32_t jitter_ms)
{
	struct router_worker_op op;

	memset(&op, 0, sizeof(op));
	op.kind = kind;
	op.path_id = path;
	op.path_up = up;
	op.metrics.measured = true;
	op.metrics.latency_us = latency_ms * 1000u;
	op.metrics.jitter_us = jitter_ms * 1000u;
	op.metrics.loss_pct = 0.0;
	op.metrics.mos = 4.4;
	router_worker_op_apply(w, &op);
}

static void
path_report(struct router_worker *w, enum router_worker_op_kind kind, uint32_t path, bool up,
    uint32_t latency_ms)
{
	path_report_jitter(w, kind, path, up, latency_ms, 2);
}

/* Both workers hear the same about a path (each site probes its own end). */
static void
path_report_both(struct rig *r, enum router_worker_op_kind kind, uint32_t path, bool up,
    uint32_t latency_ms)
{
	path_report(r->a, kind, path, up, latency_ms);
	path_report(r->b, kind, path, up, latency_ms);
}

static void
run(struct rig *r)
{
	worker_rig_poll((struct router_worker *const[]){r->a, r->b, NULL}, 4, r->now_ns);
}

/* Moves the clock to now_ns and runs both workers' timers (sweeps), then their ports. */
static void
tick_at(struct rig *r, uint64_t now_ns)
{
	r->now_ns = now_ns;
	router_worker_tick(r->a, r->now_ns);
	router_worker_tick(r->b, r->now_ns);
	run(r);
}

/* A packet of a flow from host a1 to b1, which must reach b1 byte for byte. */
static void
send_forward(struct rig *r, uint16_t cport, uint16_t sport, const char *payload)
{
	uint8_t pkt[256];
	size_t len = worker_rig_packet_make(pkt, "10.1.0.10", "10.2.0.20", IPPROTO_UDP, cport,
	    sport, payload);

	worker_rig_inject(r->pool, r->lan_a, pkt, len);
	run(r);
	worker_rig_expect_delivered(r, r->lan_b, pkt, len);
}

/* The answer from b1, which must reach a1 byte for byte. */
static void
send_reverse(struct rig *r, uint16_t cport, uint16_t sport, const char *payload)
{
	uint8_t pkt[256];
	size_t len = worker_rig_packet_make(pkt, "10.2.0.20", "10.1.0.10", IPPROTO_UDP, sport,
	    cport, payload);

	worker_rig_inject(r->pool, r->lan_b, pkt, len);
	run(r);
	worker_rig_expect_delivered(r, r->lan_a, pkt, len);
}

/*
 * The one session of the flow whose client port is cport at worker w (the ingress keys
 * it by its source port, the egress by its destination port). Fails unless there is
 * exactly one: a re-bind must not leave a second session behind.
 */
static struct session *
flow_session(struct router_worker *w, uint16_t cport)
{
	struct session_table *t = router_worker_sessions(w);
	struct session *found = NULL;
	unsigned n = 0;

	for (uint32_t i = session_table_next(t, 0); i != SESSION_INDEX_NONE;
	     i = session_table_next(t, i + 1)) {
		struct session *s = session_table_get(t, i);

		if (s->lan_key.sport == cport || s->lan_key.dport == cport) {
			found = s;
			n++;
		}
	}
	assert_int_equal(n, 1);
	return found;
}

static uint16_t
flow_path(struct router_worker *w, uint16_t cport)
{
	return flow_session(w, cport)->path_id;
}

/* Both ends agree on the flow's path. */
static void
expect_flow_on(struct rig *r, uint16_t cport, uint16_t path)
{
	assert_int_equal(flow_path(r->a, cport), path);
	assert_int_equal(flow_path(r->b, cport), path);
}

/* The newest failover event of path_id in w's log with that reason, or NULL. */
static const struct path_log_entry *
log_find(const struct router_worker *w, uint32_t path_id, uint8_t reason)
{
	const struct path_log *log = router_worker_log(w);
	const struct path_log_entry *found = NULL;

	for (size_t i = 0; i < path_log_count(log); i++) {
		const struct path_log_entry *e = path_log_get(log, i);

		if (e->kind == PATH_LOG_FAILOVER && e->path_id == path_id && e->reason == reason)
			found = e;
	}
	return found;
}

static uint64_t
drops_total(const struct router_worker *w)
{
	const struct pkt_drop_counters *d = router_worker_drops(w);
	uint64_t n = 0;

	for (size_t i = 0; i < sizeof(d->count) / sizeof(d->count[0]); i++)
		n += d->count[i];
	return n;
}

/*
 * Both paths up and measured (20 ms), then a voice flow, a bulk flow and an idle bulk
 * flow, each answered once so both ends know the session.
 */
static int
rig_setup(void **state)
{
	static struct rig r;

	memset(&r, 0, sizeof(r));
	r.now_ns = 1000000000ull;
	r.pool = pkt_pool_new(512);
	r.cfg_a = worker_rig_config_parse(site_a);
	r.cfg_b = worker_rig_config_parse(site_b);
	r.lan_a = io_mem_link_new(64, 100, 0);
	r.a_lans[0] = io_mem_link_port(r.lan_a, 1);
	r.lan_b = io_mem_link_new(64, 200, 0);
	r.b_lans[0] = io_mem_link_port(r.lan_b, 1);
	for (unsigned i = 0; i < 2; i++) {
		r.wan[i] = io_mem_link_new(64, i, i);
		r.a_wans[i] = io_mem_link_port(r.wan[i], 0);
		r.b_wans[i] = io_mem_link_port(r.wan[i], 1);
	}
	assert_int_equal(router_worker_new(r.cfg_a, r.a_lans, r.a_wans, r.pool, r.now_ns, &r.a), 0);
	assert_int_equal(router_worker_new(r.cfg_b, r.b_lans, r.b_wans, r.pool, r.now_ns, &r.b), 0);
	/* A path nobody reported on is up but unmeasured: report both as up and good. */
	for (uint32_t p = WAN0; p <= WAN1; p++)
		path_report_both(&r, ROUTER_WORKER_PATH_STATE, p, true, 20);
	tick_at(&r, r.now_ns + 100 * MS);
	*state = &r;
	return 0;
}

static int
rig_teardown(void **state)
{
	struct rig *r = *state;

	router_worker_free(r->a);
	router_worker_free(r->b);
	io_mem_link_free(r->lan_a, r->pool);
	io_mem_link_free(r->lan_b, r->pool);
	io_mem_link_free(r->wan[0], r->pool);
	io_mem_link_free(r->wan[1], r->pool);
	assert_int_equal(pkt_pool_available(r->pool), pkt_pool_capacity(r->pool));
	pkt_pool_free(r->pool);
	router_config_free(r->cfg_a);
	router_config_free(r->cfg_b);
	return 0;
}

/* Opens the voice, bulk and idle flows; every one of them lands on wan0 (cost 10). */
static void
flows_open(struct rig *r)
{
	send_forward(r, VOICE_CPORT, VOICE_SPORT, "voice-1");
	send_reverse(r, VOICE_CPORT, VOICE_SPORT, "voice-1-back");
	send_forward(r, BULK_CPORT, BULK_SPORT, "bulk-1");
	send_reverse(r, BULK_CPORT, BULK_SPORT, "bulk-1-back");
	send_forward(r, IDLE_CPORT, BULK_SPORT, "idle-1");
	send_reverse(r, IDLE_CPORT, BULK_SPORT, "idle-1-back");
}

static void
test_paths_new_sessions_take_the_cheapest_path(void **state)
{
	struct rig *r = *state;
	uint64_t wan1_tx = r->a_wans[WAN1]->stats.tx_packets;

	flows_open(r);
	expect_flow_on(r, VOICE_CPORT, WAN0);
	expect_flow_on(r, BULK_CPORT, WAN0);
	expect_flow_on(r, IDLE_CPORT, WAN0);
	assert_int_equal(router_worker_path_sessions(r->a, WAN0), 3);
	assert_int_equal(router_worker_path_sessions(r->a, WAN1), 0);
	/* Nothing went over lte at all, and no session was created twice or moved. */
	assert_int_equal(r->a_wans[WAN1]->stats.tx_packets, wan1_tx);
	assert_int_equal(session_table_count(router_worker_sessions(r->a)), 3);
	assert_int_equal(session_table_count(router_worker_sessions(r->b)), 3);
	assert_int_equal(router_worker_svr_stats(r->a)->migrations, 0);
	assert_int_equal(router_worker_svr_stats(r->b)->rebinds, 0);
	assert_int_equal(drops_total(r->a), 0);
	assert_int_equal(drops_total(r->b), 0);
	assert_int_equal(path_log_count(router_worker_log(r->a)), 0);
}

/* Scenario 2 (and the explanation, 6): wan0 at 200 ms breaks voice's SLA, not bulk's. */
static void
test_paths_sla_breach_moves_only_the_voice_session(void **state)
{
	struct rig *r = *state;
	const struct path_log_entry *e;
	uint64_t b_wan0_rx;

	flows_open(r);
	path_report_both(r, ROUTER_WORKER_PATH_METRICS, WAN0, true, 200);
	/* The sweep runs at the tick, not when the measurement arrives. */
	assert_int_equal(flow_path(r->a, VOICE_CPORT), WAN0);
	tick_at(r, r->now_ns + 100 * MS);
	/* Only the keep-alive crossed: b's host sees nothing, b re-binds the session. */
	worker_rig_expect_nothing(r->lan_b);
	expect_flow_on(r, VOICE_CPORT, WAN1);
	expect_flow_on(r, BULK_CPORT, WAN0);
	expect_flow_on(r, IDLE_CPORT, WAN0);
	assert_int_equal(router_worker_svr_stats(r->a)->migrations, 1);
	assert_int_equal(router_worker_svr_stats(r->b)->rebinds, 1);
	/* Delivery goes on both ways, over lte for voice and broadband for bulk. */
	b_wan0_rx = r->b_wans[WAN0]->stats.rx_packets;
	send_forward(r, VOICE_CPORT, VOICE_SPORT, "voice-2");
	send_reverse(r, VOICE_CPORT, VOICE_SPORT, "voice-2-back");
	assert_int_equal(r->b_wans[WAN0]->stats.rx_packets, b_wan0_rx);
	send_forward(r, BULK_CPORT, BULK_SPORT, "bulk-2");
	send_reverse(r, BULK_CPORT, BULK_SPORT, "bulk-2-back");
	assert_int_equal(r->b_wans[WAN0]->stats.rx_packets, b_wan0_rx + 1);
	assert_int_equal(session_table_count(router_worker_sessions(r->a)), 3);
	assert_int_equal(session_table_count(router_worker_sessions(r->b)), 3);
	assert_int_equal(router_worker_svr_stats(r->b)->rebinds, 1);
	assert_int_equal(drops_total(r->a), 0);
	assert_int_equal(drops_total(r->b), 0);
	/* The event: one session moved off wan0 because it failed (the SLA). */
	e = log_find(r->a, WAN0, 1);
	assert_non_null(e);
	assert_int_equal(e->peer_id, 0);
	assert_int_equal(e->detail, 1);
	assert_int_equal(path_log_count(router_worker_log(r->a)), 1);
	/* b moved nothing (it is the egress of every session). */
	assert_int_equal(path_log_count(router_worker_log(r->b)), 0);
	assert_int_equal(router_worker_path_sessions(r->a, WAN0), 2);
	assert_int_equal(router_worker_path_sessions(r->a, WAN1), 1);
}

/* Scenario 6: the operator's explanation names both paths and the broken limit. */
static void
test_paths_explain_names_paths_and_limit(void **state)
{
	struct rig *r = *state;
	char text[PATH_CHOICE_TEXT_MAX], small[8];
	int n;

	flows_open(r);
	path_report_both(r, ROUTER_WORKER_PATH_METRICS, WAN0, true, 200);
	tick_at(r, r->now_ns + 100 * MS);
	n = router_worker_session_explain(r->a, flow_session(r->a, VOICE_CPORT), text,
	    sizeof(text));
	print_message("# voice at a: %s\n", text);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	assert_non_null(strstr(text, "wan0"));
	assert_non_null(strstr(text, "wan1"));
	assert_non_null(strstr(text, "max-latency"));
	assert_non_null(strstr(text, "200 ms > 150 ms"));
	assert_non_null(strstr(text, "wan1 meets the SLA at cost 20: chosen"));
	/* Bulk has no SLA: wan0 is still its cheapest path, wan1 the costlier one. */
	n = router_worker_session_explain(r->a, flow_session(r->a, BULK_CPORT), text, sizeof(text));
	print_message("# bulk at a: %s\n", text);
	assert_true(n > 0);
	assert_non_null(strstr(text, "wan0 meets the SLA at cost 10: chosen"));
	assert_non_null(strstr(text, "wan1 meets the SLA at cost 20: costlier"));
	assert_null(strstr(text, "max-latency"));
	/* The egress explains with its own measurements the same way. */
	n = router_worker_session_explain(r->b, flow_session(r->b, VOICE_CPORT), text,
	    sizeof(text));
	print_message("# voice at b: %s\n", text);
	assert_true(n > 0);
	assert_non_null(strstr(text, "max-latency"));
	/* Cut to a small buffer: still terminated, the full length returned. */
	n = router_worker_session_explain(r->a, flow_session(r->a, VOICE_CPORT), text,
	    sizeof(text));
	assert_int_equal(router_worker_session_explain(r->a, flow_session(r->a, VOICE_CPORT), small,
	                     sizeof(small)),
	    n);
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

/* Scenario 3: back to good, voice waits out the hold-down, then returns to wan0. */
static void
test_paths_revert_waits_for_the_hold_down(void **state)
{
	struct rig *r = *state;
	uint64_t good_at, lte_tx;
	const struct path_log_entry *e;

	flows_open(r);
	path_report_both(r, ROUTER_WORKER_PATH_METRICS, WAN0, true, 200);
	tick_at(r, r->now_ns + 100 * MS);
	expect_flow_on(r, VOICE_CPORT, WAN1);
	/* wan0 good again at good_at (the workers' clock: their last poll). */
	good_at = r->now_ns;
	path_report_both(r, ROUTER_WORKER_PATH_METRICS, WAN0, true, 20);
	for (uint64_t t = good_at + 100 * MS; t < good_at + 1000 * MS; t += 100 * MS) {
		tick_at(r, t);
		expect_flow_on(r, VOICE_CPORT, WAN1);
	}
	/* The packet in between keeps going over lte. */
	lte_tx = r->a_wans[WAN1]->stats.tx_packets;
	send_forward(r, VOICE_CPORT, VOICE_SPORT, "voice-during-hold-down");
	assert_int_equal(r->a_wans[WAN1]->stats.tx_packets, lte_tx + 1);
	assert_int_equal(router_worker_svr_stats(r->a)->migrations, 1);
	/* Hold-down over: the sweep moves it back, the keep-alive re-binds it at b. */
	tick_at(r, good_at + 1000 * MS);
	worker_rig_expect_nothing(r->lan_b);
	expect_flow_on(r, VOICE_CPORT, WAN0);
	expect_flow_on(r, BULK_CPORT, WAN0);
	assert_int_equal(router_worker_svr_stats(r->a)->migrations, 2);
	assert_int_equal(router_worker_svr_stats(r->b)->rebinds, 2);
	send_forward(r, VOICE_CPORT, VOICE_SPORT, "voice-back-home");
	send_reverse(r, VOICE_CPORT, VOICE_SPORT, "voice-back-home-back");
	assert_int_equal(session_table_count(router_worker_sessions(r->b)), 3);
	assert_int_equal(drops_total(r->a), 0);
	assert_int_equal(drops_total(r->b), 0);
	/* The revert is logged against the path the session left, reason 0. */
	e = log_find(r->a, WAN1, 0);
	assert_non_null(e);
	assert_int_equal(e->detail, 1);
	assert_int_equal(e->ts_ns, good_at + 1000 * MS);
	/* Later ticks change nothing. */
	tick_at(r, good_at + 5000 * MS);
	expect_flow_on(r, VOICE_CPORT, WAN0);
	assert_int_equal(router_worker_svr_stats(r->a)->migrations, 2);
}

/* A path that breaks the SLA again during its hold-down starts a new hold-down. */
static void
test_paths_flap_during_hold_down_restarts_it(void **state)
{
	struct rig *r = *state;
	uint64_t t0;

	flows_open(r);
	path_report_both(r, ROUTER_WORKER_PATH_METRICS, WAN0, true, 200);
	tick_at(r, r->now_ns + 100 * MS);
	expect_flow_on(r, VOICE_CPORT, WAN1);
	t0 = r->now_ns;
	path_report_both(r, ROUTER_WORKER_PATH_METRICS, WAN0, true, 20); /* good at t0 */
	tick_at(r, t0 + 500 * MS);
	path_report_both(r, ROUTER_WORKER_PATH_METRICS, WAN0, true, 200); /* bad again */
	tick_at(r, t0 + 600 * MS);
	path_report_both(r, ROUTER_WORKER_PATH_METRICS, WAN0, true, 20); /* good at t0+600 */
	tick_at(r, t0 + 1000 * MS); /* the first hold-down would have ended here */
	expect_flow_on(r, VOICE_CPORT, WAN1);
	tick_at(r, t0 + 1500 * MS);
	expect_flow_on(r, VOICE_CPORT, WAN1);
	tick_at(r, t0 + 1600 * MS);
	expect_flow_on(r, VOICE_CPORT, WAN0);
	assert_int_equal(router_worker_svr_stats(r->a)->migrations, 2);
	send_forward(r, VOICE_CPORT, VOICE_SPORT, "voice-home");
}

/*
 * Scenario 4: wan0 down. The bulk flow's next packet moves it (lazily, before any
 * tick); the idle flow and voice are moved by the sweep at the next tick, and their
 * keep-alives re-bind them at b.
 */
static void
test_paths_down_moves_lazily_then_by_sweep(void **state)
{
	struct rig *r = *state;
	uint64_t a_wan0_tx;
	const struct path_log_entry *e;

	flows_open(r);
	path_report_both(r, ROUTER_WORKER_PATH_STATE, WAN0, false, 20);
	a_wan0_tx = r->a_wans[WAN0]->stats.tx_packets;
	send_forward(r, BULK_CPORT, BULK_SPORT, "bulk-after-down");
	expect_flow_on(r, BULK_CPORT, WAN1);
	assert_int_equal(router_worker_svr_stats(r->a)->migrations, 1);
	assert_int_equal(router_worker_svr_stats(r->b)->rebinds, 1);
	/* Not swept yet: the silent ones are still on wan0. */
	assert_int_equal(flow_path(r->a, IDLE_CPORT), WAN0);
	assert_int_equal(flow_path(r->a, VOICE_CPORT), WAN0);
	/* The answer leaves b by the path the session was re-bound to. */
	send_reverse(r, BULK_CPORT, BULK_SPORT, "bulk-after-down-back");
	tick_at(r, r->now_ns + 100 * MS);
	worker_rig_expect_nothing(r->lan_b);
	expect_flow_on(r, IDLE_CPORT, WAN1);
	expect_flow_on(r, VOICE_CPORT, WAN1);
	expect_flow_on(r, BULK_CPORT, WAN1);
	assert_int_equal(router_worker_svr_stats(r->a)->migrations, 3);
	assert_int_equal(router_worker_svr_stats(r->b)->rebinds, 3);
	assert_int_equal(r->a_wans[WAN0]->stats.tx_packets, a_wan0_tx);
	assert_int_equal(router_worker_path_sessions(r->a, WAN0), 0);
	/* One event for wan0 counts the lazy move and the swept ones. */
	e = log_find(r->a, WAN0, 1);
	assert_non_null(e);
	assert_int_equal(e->detail, 3);
	/* Every flow still gets through, both ways, with one session per flow at b. */
	send_forward(r, IDLE_CPORT, BULK_SPORT, "idle-2");
	send_reverse(r, IDLE_CPORT, BULK_SPORT, "idle-2-back");
	send_forward(r, VOICE_CPORT, VOICE_SPORT, "voice-3");
	send_reverse(r, VOICE_CPORT, VOICE_SPORT, "voice-3-back");
	assert_int_equal(session_table_count(router_worker_sessions(r->b)), 3);
	assert_int_equal(r->a_wans[WAN0]->stats.tx_packets, a_wan0_tx);
	assert_int_equal(router_worker_svr_stats(r->a)->down_path_tx, 0);
	assert_int_equal(drops_total(r->a), 0);
	assert_int_equal(drops_total(r->b), 0);
	/*
	 * wan0 up again (the prober held it down already): the revertible voice flow comes
	 * back at the next tick, the failover-only flows stay on wan1.
	 */
	path_report_both(r, ROUTER_WORKER_PATH_STATE, WAN0, true, 20);
	tick_at(r, r->now_ns + 100 * MS);
	expect_flow_on(r, VOICE_CPORT, WAN0);
	expect_flow_on(r, BULK_CPORT, WAN1);
	expect_flow_on(r, IDLE_CPORT, WAN1);
	assert_int_equal(router_worker_svr_stats(r->a)->migrations, 4);
	send_forward(r, VOICE_CPORT, VOICE_SPORT, "voice-4");
}

/* The path of the second leg of the duplicated flow at w, or -1 when it has none. */
static int
dup_leg_path(struct router_worker *w)
{
	struct session_table *t = router_worker_sessions(w);
	const struct session *s = flow_session(w, DUP_CPORT), *a;

	assert_true(s->flags & SVR_SESSION_DUP);
	a = router_worker_session_alias(w, session_table_index(t, s));
	return a != NULL && a->path_id < 2 ? a->path_id : -1;
}

/*
 * A "duplicate" service: every packet leaves on both paths (the cheaper one first) and
 * each host gets it once; when a leg's path goes down the flow goes on with the other
 * and no copy goes into the dead path; when it comes back both legs are used again.
 */
static void
test_paths_duplicate_uses_both_paths(void **state)
{
	struct rig *r = *state;
	uint64_t a0, a1;

	a0 = r->a_wans[WAN0]->stats.tx_packets;
	a1 = r->a_wans[WAN1]->stats.tx_packets;
	send_forward(r, DUP_CPORT, DUP_SPORT, "dup-1");
	send_reverse(r, DUP_CPORT, DUP_SPORT, "dup-1-back");
	assert_int_equal(r->a_wans[WAN0]->stats.tx_packets, a0 + 1);
	assert_int_equal(r->a_wans[WAN1]->stats.tx_packets, a1 + 1);
	expect_flow_on(r, DUP_CPORT, WAN0);
	assert_int_equal(dup_leg_path(r->a), WAN1);
	assert_int_equal(dup_leg_path(r->b), WAN1);
	for (int i = 0; i < 3; i++) {
		send_forward(r, DUP_CPORT, DUP_SPORT, "dup-2");
		send_reverse(r, DUP_CPORT, DUP_SPORT, "dup-2-back");
	}
	assert_int_equal(router_worker_svr_stats(r->a)->dup_tx, 4);
	assert_int_equal(router_worker_svr_stats(r->b)->dup_tx, 4);
	assert_int_equal(router_worker_svr_stats(r->b)->dup_filtered, 4);
	assert_int_equal(router_worker_svr_stats(r->a)->dup_filtered, 4);
	/* lte down: one copy, on wan0. */
	path_report_both(r, ROUTER_WORKER_PATH_STATE, WAN1, false, 20);
	tick_at(r, r->now_ns + 100 * MS);
	a1 = r->a_wans[WAN1]->stats.tx_packets;
	send_forward(r, DUP_CPORT, DUP_SPORT, "dup-3");
	send_reverse(r, DUP_CPORT, DUP_SPORT, "dup-3-back");
	assert_int_equal(r->a_wans[WAN1]->stats.tx_packets, a1);
	/* lte back, wan0 down: the session moves to lte; its second leg has nowhere to go. */
	path_report_both(r, ROUTER_WORKER_PATH_STATE, WAN1, true, 20);
	path_report_both(r, ROUTER_WORKER_PATH_STATE, WAN0, false, 20);
	tick_at(r, r->now_ns + 100 * MS);
	a0 = r->a_wans[WAN0]->stats.tx_packets;
	send_forward(r, DUP_CPORT, DUP_SPORT, "dup-4");
	send_reverse(r, DUP_CPORT, DUP_SPORT, "dup-4-back");
	expect_flow_on(r, DUP_CPORT, WAN1);
	assert_int_equal(r->a_wans[WAN0]->stats.tx_packets, a0);
	/* wan0 back: duplicated again at once, over both. */
	path_report_both(r, ROUTER_WORKER_PATH_STATE, WAN0, true, 20);
	tick_at(r, r->now_ns + 100 * MS);
	a0 = r->a_wans[WAN0]->stats.tx_packets;
	a1 = r->a_wans[WAN1]->stats.tx_packets;
	send_forward(r, DUP_CPORT, DUP_SPORT, "dup-5");
	send_reverse(r, DUP_CPORT, DUP_SPORT, "dup-5-back");
	assert_int_equal(r->a_wans[WAN0]->stats.tx_packets, a0 + 1);
	assert_int_equal(r->a_wans[WAN1]->stats.tx_packets, a1 + 1);
	assert_int_not_equal(dup_leg_path(r->a), flow_path(r->a, DUP_CPORT));
	assert_int_equal(dup_leg_path(r->b), dup_leg_path(r->a));
	assert_int_equal(drops_total(r->a), 0);
	assert_int_equal(drops_total(r->b), 0);
}

/* Both paths down: sessions stay where they are and their packets still leave. */
static void
test_paths_all_down_keeps_sessions(void **state)
{
	struct rig *r = *state;

	flows_open(r);
	path_report_both(r, ROUTER_WORKER_PATH_STATE, WAN0, false, 20);
	path_report_both(r, ROUTER_WORKER_PATH_STATE, WAN1, false, 20);
	send_forward(r, BULK_CPORT, BULK_SPORT, "bulk-into-the-void");
	tick_at(r, r->now_ns + 100 * MS);
	expect_flow_on(r, BULK_CPORT, WAN0);
	expect_flow_on(r, VOICE_CPORT, WAN0);
	assert_int_equal(router_worker_svr_stats(r->a)->migrations, 0);
	assert_int_equal(router_worker_svr_stats(r->a)->down_path_tx, 1);
}

/* Scenario 5: "strict" (1 ms, no_path drop): no path meets it, new sessions are refused. */
static void
test_paths_no_path_drop_refuses_new_sessions(void **state)
{
	struct rig *r = *state;
	uint8_t pkt[256];
	size_t len;
	uint32_t before = session_table_count(router_worker_sessions(r->a));

	len = worker_rig_packet_make(pkt, "10.1.0.10", "10.2.0.20", IPPROTO_UDP, STRICT_CPORT,
	    STRICT_SPORT, "strict");
	worker_rig_inject(r->pool, r->lan_a, pkt, len);
	run(r);
	worker_rig_expect_nothing(r->lan_b);
	assert_int_equal(router_worker_drops(r->a)->count[PKT_DROP_SVR_NO_PATH], 1);
	assert_int_equal(drops_total(r->a), 1);
	assert_int_equal(session_table_count(router_worker_sessions(r->a)), before);
	assert_int_equal(session_table_count(router_worker_sessions(r->b)), 0);
	/* A second try is refused the same way; other services are not affected. */
	worker_rig_inject(r->pool, r->lan_a, pkt, len);
	run(r);
	worker_rig_expect_nothing(r->lan_b);
	assert_int_equal(router_worker_drops(r->a)->count[PKT_DROP_SVR_NO_PATH], 2);
	send_forward(r, VOICE_CPORT, VOICE_SPORT, "voice-ok");
	/* Once a path meets the SLA (1 ms on lte), the session is made there. */
	path_report_both(r, ROUTER_WORKER_PATH_METRICS, WAN1, true, 1);
	send_forward(r, STRICT_CPORT, STRICT_SPORT, "strict-ok");
	expect_flow_on(r, STRICT_CPORT, WAN1);
}

/*
 * A path the worker never heard of is up but unmeasured, so it breaks every SLA: a new
 * voice session takes wan1. When wan0's first (good) measurement arrives, wan0 starts
 * to meet the SLA and, voice being revertible, the session comes back to the cheaper
 * wan0 (a first measurement is first contact: no hold-down, as for the prober).
 *
 * Regression: sla_broken once started as "meets" whatever the metrics said, so this
 * first measurement was no change and the session stayed on wan1 for good.
 */
static void
test_paths_first_measurement_is_a_recovery(void **state)
{
	struct rig *r = *state;

	router_worker_free(r->a);
	router_worker_free(r->b);
	assert_int_equal(router_worker_new(r->cfg_a, r->a_lans, r->a_wans, r->pool, r->now_ns,
	                     &r->a),
	    0);
	assert_int_equal(router_worker_new(r->cfg_b, r->b_lans, r->b_wans, r->pool, r->now_ns,
	                     &r->b),
	    0);
	path_report_both(r, ROUTER_WORKER_PATH_STATE, WAN1, true, 20);
	/* The sweeps this report asks for (strict's SLA breaks at 20 ms) run on no session. */
	tick_at(r, r->now_ns + 100 * MS);
	send_forward(r, VOICE_CPORT, VOICE_SPORT, "voice-1");
	expect_flow_on(r, VOICE_CPORT, WAN1);
	path_report_both(r, ROUTER_WORKER_PATH_STATE, WAN0, true, 20);
	tick_at(r, r->now_ns + 2000 * MS);
	expect_flow_on(r, VOICE_CPORT, WAN0);
}

/*
 * One measurement in which wan0's latency recovers (voice's SLA met again) and its
 * jitter grows (video's SLA broken): voice should still revert after the hold-down.
 *
 * Regression: the revert time was once one per path, so the other policy breaking
 * cleared the time this policy had set.
 */
static void
test_paths_revert_survives_another_policy_breaking(void **state)
{
	struct rig *r = *state;

	flows_open(r);
	path_report_both(r, ROUTER_WORKER_PATH_METRICS, WAN0, true, 200);
	tick_at(r, r->now_ns + 100 * MS);
	expect_flow_on(r, VOICE_CPORT, WAN1);
	path_report_jitter(r->a, ROUTER_WORKER_PATH_METRICS, WAN0, true, 20, 50);
	path_report_jitter(r->b, ROUTER_WORKER_PATH_METRICS, WAN0, true, 20, 50);
	tick_at(r, r->now_ns + 2000 * MS);
	expect_flow_on(r, VOICE_CPORT, WAN0);
}

/*
 * During wan0's hold-down, wan1 starts breaking video's SLA (jitter) but still meets
 * voice's. The sweep of wan1 this asks for should move video sessions only: the voice
 * session should stay on wan1 until wan0's hold-down is over.
 *
 * Regression: any sweep of wan1 once asked path_pick, which moved the session back
 * before the hold-down ended.
 */
static void
test_paths_other_sweep_does_not_cut_the_hold_down(void **state)
{
	struct rig *r = *state;
	uint64_t t0;

	flows_open(r);
	path_report_both(r, ROUTER_WORKER_PATH_METRICS, WAN0, true, 200);
	tick_at(r, r->now_ns + 100 * MS);
	expect_flow_on(r, VOICE_CPORT, WAN1);
	t0 = r->now_ns;
	path_report_both(r, ROUTER_WORKER_PATH_METRICS, WAN0, true, 20);
	path_report_jitter(r->a, ROUTER_WORKER_PATH_METRICS, WAN1, true, 20, 50);
	path_report_jitter(r->b, ROUTER_WORKER_PATH_METRICS, WAN1, true, 20, 50);
	tick_at(r, t0 + 100 * MS);
	expect_flow_on(r, VOICE_CPORT, WAN1);
	tick_at(r, t0 + 1000 * MS);
	expect_flow_on(r, VOICE_CPORT, WAN0);
}

/* A reload's new worker takes the old one's keys as they are (router_worker_keys_take). */
static void
test_paths_reload_worker_takes_the_keys(void **state)
{
	struct rig *r = *state;
	struct router_worker_op op = {.kind = ROUTER_WORKER_KEY_INSTALL_SEND,
	    .peer_id = 0,
	    .index = 0x1234};
	uint8_t key[CRYPTO_AEAD_KEY_LEN];
	struct router_worker *next;

	memset(key, 0x42, sizeof(key));
	assert_int_equal(crypto_aead_new(CRYPTO_AEAD_AES_256_GCM, key, &op.aead), 0);
	router_worker_op_apply(r->a, &op);
	assert_int_equal(router_worker_peer_key_stats(r->a, 0)->send_installs, 1);
	assert_int_equal(router_worker_new(r->cfg_a, r->a_lans, r->a_wans, r->pool, r->now_ns,
	                     &next),
	    0);
	assert_int_equal(router_worker_keys_take(next, r->a), 0);
	/* The slot moved whole (sequence, replay windows, statistics); the old one is empty. */
	assert_int_equal(router_worker_peer_key_stats(next, 0)->send_installs, 1);
	assert_int_equal(router_worker_peer_key_stats(r->a, 0)->send_installs, 0);
	assert_int_equal(router_worker_peer_sent(next, 0), router_worker_peer_sent(r->a, 0));
	router_worker_free(next);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_paths_new_sessions_take_the_cheapest_path,
	        rig_setup, rig_teardown),
	    cmocka_unit_test_setup_teardown(test_paths_sla_breach_moves_only_the_voice_session,
	        rig_setup, rig_teardown),
	    cmocka_unit_test_setup_teardown(test_paths_explain_names_paths_and_limit, rig_setup,
	        rig_teardown),
	    cmocka_unit_test_setup_teardown(test_paths_revert_waits_for_the_hold_down, rig_setup,
	        rig_teardown),
	    cmocka_unit_test_setup_teardown(test_paths_flap_during_hold_down_restarts_it, rig_setup,
	        rig_teardown),
	    cmocka_unit_test_setup_teardown(test_paths_down_moves_lazily_then_by_sweep, rig_setup,
	        rig_teardown),
	    cmocka_unit_test_setup_teardown(test_paths_all_down_keeps_sessions, rig_setup,
	        rig_teardown),
	    cmocka_unit_test_setup_teardown(test_paths_duplicate_uses_both_paths, rig_setup,
	        rig_teardown),
	    cmocka_unit_test_setup_teardown(test_paths_no_path_drop_refuses_new_sessions, rig_setup,
	        rig_teardown),
	    cmocka_unit_test_setup_teardown(test_paths_reload_worker_takes_the_keys, rig_setup,
	        rig_teardown),
	    cmocka_unit_test_setup_teardown(test_paths_first_measurement_is_a_recovery, rig_setup,
	        rig_teardown),
	    cmocka_unit_test_setup_teardown(test_paths_revert_survives_another_policy_breaking,
	        rig_setup, rig_teardown),
	    cmocka_unit_test_setup_teardown(test_paths_other_sweep_does_not_cut_the_hold_down,
	        rig_setup, rig_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
