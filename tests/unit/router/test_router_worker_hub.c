/*
 * A hub: three ternd workers from real configurations, joined by in-memory links, with
 * no link between the spokes:
 *
 *   host a1 --lan-- site-a --wan-- hub --wan-- site-b --lan-- host b1
 *   10.1.0.10       wp 192.0.2.1   192.0.2.2    wp 198.51.100.2   10.2.0.20
 *                                  198.51.100.1
 *
 * site-a routes b-web to the hub; the hub routes it to site-b; site-b serves it on its
 * LAN. Checks that a session crosses the hub as two SVR legs with one UUID, both ways,
 * plain and sealed (each leg with its own peer keys), and that the hub decides for
 * itself (its rules, its services, no way back to the peer a session came from), every
 * refusal counted under its name.
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

#include "crypto/crypto_aead.h"
#include "io/io_mem.h"
#include "lib/buf.h"
#include "pkt/pkt_csum.h"
#include "pkt/pkt_parse.h"
#include "router/router_config.h"
#include "router/router_worker.h"
#include "worker_rig.h"

#define KEY_A "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="
#define KEY_B "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08="

/* Security on: a key file is named (never read here) and peers have public keys. */
#define SEC_ROUTER(name, sec) "\"router\": { \"name\": \"" name "\"" sec " },"
#define SEC_ON                ", \"private_key_file\": \"r.key\""

#define SITE_A(sec, key)                                                                           \
	"{ " SEC_ROUTER("site-a", sec) "  \"tenants\": [ { \"name\": \"corp\" }, { \"name\": "     \
	                               "\"guest\" } ],"                                            \
	                               "  \"lan\": [ { \"name\": \"corp\", \"tenant\": \"corp\", " \
	                               "\"address\": \"10.1.0.1/24\","                             \
	                               "             \"prefixes\": [\"10.1.0.0/24\"],"             \
	                               "             \"tenants\": [ { \"tenant\": \"guest\", "     \
	                               "\"prefixes\": [\"10.1.0.128/25\"] } ] } ],"                \
	                               "  \"wan\": [ { \"name\": \"wan0\", \"device\": \"wan0\", " \
	                               "\"waypoint\": \"192.0.2.1\" } ],"                          \
	                               "  \"peers\": [ { \"name\": \"hub\", " key                  \
	                               " \"paths\": [ { \"wan\": \"wan0\", \"remote\": "           \
	                               "\"192.0.2.2\" } ] } ],"                                    \
	                               "  \"services\": ["                                         \
	                               "    { \"name\": \"b-web\", \"prefixes\": "                 \
	                               "[\"10.2.0.0/24\"], \"ports\": [\"tcp/80\", "               \
	                               "\"udp/5000-5010\", \"icmp\"],"                             \
	                               "      \"access\": [\"corp\", \"guest\"], \"route\": { "    \
	                               "\"peer\": \"hub\" } },"                                    \
	                               "    { \"name\": \"b-secret\", \"prefixes\": "              \
	                               "[\"10.2.9.0/24\"], \"access\": [\"corp\"],"                \
	                               "      \"route\": { \"peer\": \"hub\" } },"                 \
	                               "    { \"name\": \"back\", \"prefixes\": "                  \
	                               "[\"10.3.0.0/24\"], \"access\": [\"corp\"],"                \
	                               "      \"route\": { \"peer\": \"hub\" } } ] }"

/* The hub serves b-web to corp only (through site-b), and sends "back" back to site-a. */
#define HUB(sec, ka, kb, rules)                                                                    \
	"{ " SEC_ROUTER("hub", sec) "  \"tenants\": [ { \"name\": \"corp\" }, { \"name\": "        \
	                            "\"guest\" } ],"                                               \
	                            "  \"lan\": [ { \"name\": \"mgmt\", \"tenant\": \"corp\", "    \
	                            "\"address\": \"10.9.0.1/24\","                                \
	                            "             \"prefixes\": [\"10.9.0.0/24\"] } ],"            \
	                            "  \"wan\": [ { \"name\": \"to-a\", \"device\": \"wan0\", "    \
	                            "\"waypoint\": \"192.0.2.2\" },"                               \
	                            "           { \"name\": \"to-b\", \"device\": \"wan1\", "      \
	                            "\"waypoint\": \"198.51.100.1\" } ],"                          \
	                            "  \"peers\": [ { \"name\": \"site-a\", " ka                   \
	                            " \"paths\": [ { \"wan\": \"to-a\", \"remote\": "              \
	                            "\"192.0.2.1\" } ] },"                                         \
	                            "               { \"name\": \"site-b\", " kb                   \
	                            " \"paths\": [ { \"wan\": \"to-b\", \"remote\": "              \
	                            "\"198.51.100.2\" } ] } ],"                                    \
	                            "  \"services\": ["                                            \
	                            "    { \"name\": \"b-web\", \"prefixes\": [\"10.2.0.0/24\"], " \
	                            "\"access\": [\"corp\"],"                                      \
	                            "      \"route\": { \"peer\": \"site-b\" } },"                 \
	                            "    { \"name\": \"back\", \"prefixes\": [\"10.3.0.0/24\"], "  \
	                            "\"access\": [\"corp\"],"                                      \
	                            "      \"route\": { \"peer\": \"site-a\" } } ] " rules "}"

#define SITE_B(sec, key)                                                                           \
	"{ " SEC_ROUTER("site-b", sec) "  \"tenants\": [ { \"name\": \"corp\" } ],"                \
	                               "  \"lan\": [ { \"name\": \"corp\", \"tenant\": \"corp\", " \
	                               "\"address\": \"10.2.0.1/24\","                             \
	                               "             \"prefixes\": [\"10.2.0.0/24\"] } ],"         \
	                               "  \"wan\": [ { \"name\": \"wan0\", \"device\": \"wan0\", " \
	                               "\"waypoint\": \"198.51.100.2\" } ],"                       \
	                               "  \"peers\": [ { \"name\": \"hub\", " key                  \
	                               " \"paths\": [ { \"wan\": \"wan0\", \"remote\": "           \
	                               "\"198.51.100.1\" } ] } ],"                                 \
	                               "  \"services\": ["                                         \
	                               "    { \"name\": \"b-web\", \"prefixes\": "                 \
	                               "[\"10.2.0.0/24\"], \"access\": [\"corp\"],"                \
	                               "      \"route\": { \"lan\": \"corp\" } } ] }"

#define PK(k) "\"public_key\": \"" k "\","

static const char site_a_plain[] = SITE_A("", "");
static const char hub_plain[] = HUB("", "", "", "");
static const char site_b_plain[] = SITE_B("", "");
static const char site_a_sec[] = SITE_A(SEC_ON, PK(KEY_B));
static const char hub_sec[] = HUB(SEC_ON, PK(KEY_A), PK(KEY_B), "");
static const char site_b_sec[] = SITE_B(SEC_ON, PK(KEY_A));
static const char hub_deny[] = HUB("", "", "",
    ", \"rules\": [ { \"name\": \"no-corp\", \"tenant\": \"corp\", \"service\": \"b-web\", "
    "\"action\": \"deny\" } ]");

struct rig {
	struct pkt_pool *pool;
	struct router_config *cfg_a, *cfg_h, *cfg_b;
	struct io_mem_link *lan_a, *lan_h, *lan_b, *wan_ah, *wan_hb;
	struct io_port *a_lans[1], *a_wans[1], *h_lans[1], *h_wans[2], *b_lans[1], *b_wans[1];
	struct router_worker *a, *h, *b;
	uint64_t now_ns;
	bool secure;
};

static const char *rig_a = site_a_plain, *rig_h = hub_plain, *rig_b = site_b_plain;

/* One direction's key: sender's send slot and receiver's receive slot, same index. */
static void
key_install(struct router_worker *tx, uint32_t tx_peer, struct router_worker *rx, uint32_t rx_peer,
    uint32_t index, uint8_t fill)
{
	uint8_t key[CRYPTO_AEAD_KEY_LEN];
	struct router_worker_op op;

	memset(key, fill, sizeof(key));
	memset(&op, 0, sizeof(op));
	op.kind = ROUTER_WORKER_KEY_INSTALL_SEND;
	op.peer_id = tx_peer;
	op.index = index;
	assert_int_equal(crypto_aead_new(CRYPTO_AEAD_AES_256_GCM, key, &op.aead), 0);
	router_worker_op_apply(tx, &op);
	op.kind = ROUTER_WORKER_KEY_INSTALL_RECV;
	op.peer_id = rx_peer;
	assert_int_equal(crypto_aead_new(CRYPTO_AEAD_AES_256_GCM, key, &op.aead), 0);
	router_worker_op_apply(rx, &op);
}

static int
rig_setup(void **state)
{
	static struct rig r;

	memset(&r, 0, sizeof(r));
	r.now_ns = 1000000000ull;
	r.pool = pkt_pool_new(512);
	r.cfg_a = worker_rig_config_parse(rig_a);
	r.cfg_h = worker_rig_config_parse(rig_h);
	r.cfg_b = worker_rig_config_parse(rig_b);
	r.secure = rig_a == site_a_sec;
	rig_a = site_a_plain;
	rig_h = hub_plain;
	rig_b = site_b_plain;
	r.lan_a = io_mem_link_new(64, 100, 0);
	r.lan_h = io_mem_link_new(64, 150, 0);
	r.lan_b = io_mem_link_new(64, 200, 0);
	r.a_lans[0] = io_mem_link_port(r.lan_a, 1);
	r.h_lans[0] = io_mem_link_port(r.lan_h, 1);
	r.b_lans[0] = io_mem_link_port(r.lan_b, 1);
	r.wan_ah = io_mem_link_new(64, 0, 0);
	r.wan_hb = io_mem_link_new(64, 1, 0);
	r.a_wans[0] = io_mem_link_port(r.wan_ah, 0);
	r.h_wans[0] = io_mem_link_port(r.wan_ah, 1);
	r.h_wans[1] = io_mem_link_port(r.wan_hb, 0);
	r.b_wans[0] = io_mem_link_port(r.wan_hb, 1);
	assert_int_equal(router_worker_new(r.cfg_a, r.a_lans, r.a_wans, r.pool, r.now_ns, &r.a), 0);
	assert_int_equal(router_worker_new(r.cfg_h, r.h_lans, r.h_wans, r.pool, r.now_ns, &r.h), 0);
	assert_int_equal(router_worker_new(r.cfg_b, r.b_lans, r.b_wans, r.pool, r.now_ns, &r.b), 0);
	if (r.secure) {
		/* Four keys, one per leg and direction: the hub holds both legs' own. */
		key_install(r.a, 0, r.h, 0, 11, 0x11);
		key_install(r.h, 0, r.a, 0, 12, 0x12);
		key_install(r.h, 1, r.b, 0, 13, 0x13);
		key_install(r.b, 0, r.h, 1, 14, 0x14);
	}
	*state = &r;
	return 0;
}

static int
rig_setup_secure(void **state)
{
	rig_a = site_a_sec;
	rig_h = hub_sec;
	rig_b = site_b_sec;
	return rig_setup(state);
}

static int
rig_setup_deny(void **state)
{
	rig_h = hub_deny;
	return rig_setup(state);
}

static int
rig_teardown(void **state)
{
	struct rig *r = *state;

	router_worker_free(r->a);
	router_worker_free(r->h);
	router_worker_free(r->b);
	io_mem_link_free(r->lan_a, r->pool);
	io_mem_link_free(r->lan_h, r->pool);
	io_mem_link_free(r->lan_b, r->pool);
	io_mem_link_free(r->wan_ah, r->pool);
	io_mem_link_free(r->wan_hb, r->pool);
	assert_int_equal(pkt_pool_available(r->pool), pkt_pool_capacity(r->pool));
	pkt_pool_free(r->pool);
	router_config_free(r->cfg_a);
	router_config_free(r->cfg_h);
	router_config_free(r->cfg_b);
	return 0;
}

static void
run(struct rig *r)
{
	worker_rig_poll((struct router_worker *const[]){r->a, r->h, r->b, NULL}, 6, r->now_ns);
}

#define expect_delivered(r, lan, bytes, len)                                                       \
	worker_rig_expect_one_at((r)->pool, lan, bytes, len,                                       \
	    (struct router_worker *const[]){(r)->a, (r)->h, (r)->b, NULL}, __LINE__)

static uint64_t
drops(struct router_worker *w, enum pkt_drop_reason reason)
{
	return router_worker_drops(w)->count[reason];
}

/* The only session of w (asserts there is exactly one), and its index. */
static const struct session *
only_session(struct router_worker *w, uint32_t *index)
{
	struct session_table *t = router_worker_sessions(w);

	assert_int_equal(session_table_count(t), 1);
	*index = session_table_next(t, 0);
	return session_table_get(t, *index);
}

/* Both legs at the hub: one UUID with the spokes, roles, peers, partners. */
static void
expect_hub_legs(struct rig *r)
{
	struct session_table *t = router_worker_sessions(r->h);
	const struct session *sa, *sb, *leg[2] = {NULL, NULL};
	struct router_worker_transit tr[2];
	uint32_t ia, ib, idx[2], k = 0;

	sa = only_session(r->a, &ia);
	sb = only_session(r->b, &ib);
	assert_int_equal(session_table_count(t), 2);
	for (uint32_t i = session_table_next(t, 0); i != SESSION_INDEX_NONE && k < 2;
	     i = session_table_next(t, i + 1), k++) {
		idx[k] = i;
		leg[k] = session_table_get(t, i);
		assert_true(router_worker_session_transit(r->h, i, &tr[k]));
		assert_memory_equal(leg[k]->uuid, sa->uuid, 16);
		assert_string_equal(router_worker_session_tenant(r->h, leg[k]), "corp");
	}
	assert_int_equal(k, 2);
	assert_memory_equal(sb->uuid, sa->uuid, 16);
	assert_int_equal(tr[0].partner, idx[1]);
	assert_int_equal(tr[1].partner, idx[0]);
	assert_true(tr[0].out != tr[1].out);
	for (k = 0; k < 2; k++) {
		assert_int_equal(tr[k].from_peer, 0); /* site-a */
		assert_int_equal(tr[k].to_peer, 1);   /* site-b */
		/* The leg out (ingress) is on the path to site-b, the leg in on site-a's. */
		assert_int_equal(leg[k]->path_id, tr[k].out ? 1 : 0);
	}
	assert_false(router_worker_session_transit(r->a, ia, &tr[0]));
}

static void
both_ways(struct rig *r, uint8_t proto)
{
	uint8_t pkt[256];
	size_t len;

	for (int round = 0; round < 3; round++) {
		if (proto == IPPROTO_ICMP)
			len = worker_rig_packet_make(pkt, "10.1.0.10", "10.2.0.20", proto, 8, 77,
			    "ping");
		else
			len = worker_rig_packet_make(pkt, "10.1.0.10", "10.2.0.20", proto, 40000,
			    proto == IPPROTO_TCP ? 80 : 5005, "hello");
		worker_rig_inject(r->pool, r->lan_a, pkt, len);
		run(r);
		expect_delivered(r, r->lan_b, pkt, len);
		if (proto == IPPROTO_ICMP)
			len = worker_rig_packet_make(pkt, "10.2.0.20", "10.1.0.10", proto, 0, 77,
			    "pong");
		else
			len = worker_rig_packet_make(pkt, "10.2.0.20", "10.1.0.10", proto,
			    proto == IPPROTO_TCP ? 80 : 5005, 40000, "hi back");
		if (proto == IPPROTO_TCP)
			pkt[33] = 0x12; /* SYN-ACK */
		if (proto == IPPROTO_TCP) {
			struct pkt_info info;
			enum pkt_drop_reason reason;

			assert_int_equal(pkt_parse_bytes(pkt, len, &info, &reason), 0);
			pkt_csum_fill(pkt, &info);
		}
		worker_rig_inject(r->pool, r->lan_b, pkt, len);
		run(r);
		expect_delivered(r, r->lan_a, pkt, len);
		if (proto == IPPROTO_TCP)
			break; /* one handshake is the point */
	}
	expect_hub_legs(r);
	assert_int_equal(io_mem_link_pending(r->lan_h, 0), 0); /* nothing leaks to a LAN */
}

static void
test_router_worker_hub_udp_both_ways(void **state)
{
	struct rig *r = *state;

	both_ways(r, IPPROTO_UDP);
	/* Each leg began with metadata: a's and the hub's ingress, the hub's and b's egress. */
	assert_int_equal(router_worker_svr_stats(r->h)->meta_tx, 2);
	if (r->secure) {
		assert_true(router_worker_svr_stats(r->h)->meta_sealed >= 2);
		assert_true(router_worker_svr_stats(r->h)->meta_opened >= 2);
	}
	/* Idle, both legs go, their waypoint pair and the tenant's place with them. */
	r->now_ns += 200ull * 1000000000ull;
	router_worker_tick(r->h, r->now_ns);
	assert_int_equal(session_table_count(router_worker_sessions(r->h)), 0);
	assert_int_equal(svr_waypoint_ports_in_use(router_worker_path(r->h, 1)->ports), 0);
}

static void
test_router_worker_hub_tcp_both_ways(void **state)
{
	both_ways(*state, IPPROTO_TCP);
}

static void
test_router_worker_hub_icmp_both_ways(void **state)
{
	both_ways(*state, IPPROTO_ICMP);
}

/* The second leg ended first: the next forward packet makes it again, same UUID. */
static void
test_router_worker_hub_leg_remade(void **state)
{
	struct rig *r = *state;
	struct session_table *t = router_worker_sessions(r->h);
	struct router_worker_transit tr;
	uint8_t pkt[256];
	size_t len;

	both_ways(r, IPPROTO_UDP);
	for (uint32_t i = session_table_next(t, 0); i != SESSION_INDEX_NONE;
	     i = session_table_next(t, i + 1)) {
		assert_true(router_worker_session_transit(r->h, i, &tr));
		if (tr.out) {
			/* Only the entry: its waypoint pair stays taken, which no check here reads.
			 */
			assert_int_equal(session_table_delete(t, i), 0);
			break;
		}
	}
	assert_int_equal(session_table_count(t), 1);
	/* The hub still has the leg from a; the next forward packet makes the other again. */
	len = worker_rig_packet_make(pkt, "10.1.0.10", "10.2.0.20", IPPROTO_UDP, 40000, 5005,
	    "again");
	worker_rig_inject(r->pool, r->lan_a, pkt, len);
	run(r);
	expect_delivered(r, r->lan_b, pkt, len);
	expect_hub_legs(r);
}

/* The hub's own rule denies the tenant: nothing reaches b, counted at the hub. */
static void
test_router_worker_hub_rule_denies(void **state)
{
	struct rig *r = *state;
	uint8_t pkt[256];
	size_t len;

	len = worker_rig_packet_make(pkt, "10.1.0.10", "10.2.0.20", IPPROTO_UDP, 40000, 5005,
	    "hello");
	worker_rig_inject(r->pool, r->lan_a, pkt, len);
	run(r);
	assert_int_equal(io_mem_link_pending(r->lan_b, 0), 0);
	assert_int_equal(drops(r->h, PKT_DROP_POLICY_DENIED), 1);
	assert_int_equal(session_table_count(router_worker_sessions(r->h)), 0);
	assert_int_equal(session_table_count(router_worker_sessions(r->b)), 0);
}

/* A tenant the hub's access lists leave out (guest) is refused there. */
static void
test_router_worker_hub_tenant_without_access(void **state)
{
	struct rig *r = *state;
	uint8_t pkt[256];
	size_t len;

	len = worker_rig_packet_make(pkt, "10.1.0.200", "10.2.0.20", IPPROTO_UDP, 40000, 5005,
	    "guest");
	worker_rig_inject(r->pool, r->lan_a, pkt, len);
	run(r);
	assert_int_equal(io_mem_link_pending(r->lan_b, 0), 0);
	assert_int_equal(drops(r->h, PKT_DROP_POLICY_NO_RULE), 1);
	assert_int_equal(session_table_count(router_worker_sessions(r->h)), 0);
}

/* A service the hub does not route, and one it would send back where it came from. */
static void
test_router_worker_hub_refuses_unrouted_and_loops(void **state)
{
	struct rig *r = *state;
	uint8_t pkt[256];
	size_t len;

	len = worker_rig_packet_make(pkt, "10.1.0.10", "10.2.9.9", IPPROTO_UDP, 40000, 5005,
	    "secret");
	worker_rig_inject(r->pool, r->lan_a, pkt, len);
	len =
	    worker_rig_packet_make(pkt, "10.1.0.10", "10.3.0.3", IPPROTO_UDP, 40000, 5005, "loop");
	worker_rig_inject(r->pool, r->lan_a, pkt, len);
	run(r);
	assert_int_equal(io_mem_link_pending(r->lan_b, 0), 0);
	assert_int_equal(io_mem_link_pending(r->lan_a, 0), 0);
	assert_int_equal(drops(r->h, PKT_DROP_ROUTER_UNKNOWN_SERVICE), 1);
	assert_int_equal(drops(r->h, PKT_DROP_ROUTER_HUB_LOOP), 1);
	assert_int_equal(session_table_count(router_worker_sessions(r->h)), 0);
	assert_int_equal(svr_waypoint_ports_in_use(router_worker_path(r->h, 0)->ports), 0);
}

/* Reloads the hub with text: a new worker adopts the old one's sessions. */
static struct router_worker_reload_stats
reload_hub(struct rig *r, const char *text)
{
	struct router_worker_reload_stats st;
	struct router_config *cfg = worker_rig_config_parse(text);
	struct router_worker *w;

	memset(&st, 0, sizeof(st));
	assert_int_equal(router_worker_new(cfg, r->h_lans, r->h_wans, r->pool, r->now_ns, &w), 0);
	router_worker_adopt(w, r->h, true, r->now_ns, &st);
	router_worker_free(r->h);
	router_config_free(r->cfg_h);
	r->h = w;
	r->cfg_h = cfg;
	return st;
}

/* s with the first from replaced by to (into out, which has room). */
static void
text_replace(char *out, size_t size, const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);

	assert_non_null(at);
	assert_true(strlen(s) - strlen(from) + strlen(to) < size);
	snprintf(out, size, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
}

/*
 * A reload of the hub keeps a transit session (both legs) when its tenant's transit
 * slot moves (tenants in another order, a LAN slot more before the transit zone):
 * nothing new is signalled, packets go on both ways on the same legs; a reload whose
 * rules deny the tenant ends both legs and gives their waypoint pair back.
 */
static void
test_router_worker_hub_reload_keeps_transit(void **state)
{
	struct rig *r = *state;
	struct router_worker_reload_stats st;
	const char *base = r->secure ? hub_sec : hub_plain;
	char moved[sizeof(hub_sec) + 256], tmp[sizeof(hub_sec) + 256];
	uint64_t meta_tx;
	uint8_t pkt[256];
	size_t len;

	both_ways(r, IPPROTO_UDP);
	meta_tx = router_worker_svr_stats(r->h)->meta_tx;
	text_replace(tmp, sizeof(tmp), base, "{ \"name\": \"corp\" }, { \"name\": \"guest\" }",
	    "{ \"name\": \"guest\" }, { \"name\": \"corp\" }");
	text_replace(moved, sizeof(moved), tmp, "\"prefixes\": [\"10.9.0.0/24\"] }",
	    "\"prefixes\": [\"10.9.0.0/24\"], \"tenants\": [ { \"tenant\": \"guest\", "
	    "\"prefixes\": [\"10.9.0.128/25\"] } ] }");
	st = reload_hub(r, moved);
	assert_int_equal(st.kept, 2);
	for (int i = 0; i < ROUTER_RELOAD_END_COUNT; i++)
		assert_int_equal(st.ended[i], 0);
	assert_int_equal(svr_waypoint_ports_in_use(router_worker_path(r->h, 1)->ports), 1);
	expect_hub_legs(r);
	for (int round = 0; round < 2; round++) {
		len = worker_rig_packet_make(pkt, "10.1.0.10", "10.2.0.20", IPPROTO_UDP, 40000,
		    5005, "on");
		worker_rig_inject(r->pool, r->lan_a, pkt, len);
		run(r);
		expect_delivered(r, r->lan_b, pkt, len);
		len = worker_rig_packet_make(pkt, "10.2.0.20", "10.1.0.10", IPPROTO_UDP, 5005,
		    40000, "back");
		worker_rig_inject(r->pool, r->lan_b, pkt, len);
		run(r);
		expect_delivered(r, r->lan_a, pkt, len);
	}
	expect_hub_legs(r);
	/* No new metadata: the count goes on from the old worker's. */
	assert_int_equal(router_worker_svr_stats(r->h)->meta_tx, meta_tx);
	assert_int_equal(meta_tx, 2);
	assert_int_equal(drops(r->h, PKT_DROP_ROUTER_HUB_NO_SESSION), 0);
	assert_int_equal(io_mem_link_pending(r->lan_h, 0), 0);
	/* Idle, both legs still go, and the pair with them. */
	r->now_ns += 200ull * 1000000000ull;
	router_worker_tick(r->h, r->now_ns);
	assert_int_equal(session_table_count(router_worker_sessions(r->h)), 0);
	assert_int_equal(svr_waypoint_ports_in_use(router_worker_path(r->h, 1)->ports), 0);
}

static void
test_router_worker_hub_reload_ends_denied_transit(void **state)
{
	struct rig *r = *state;
	struct router_worker_reload_stats st;
	uint8_t pkt[256];
	size_t len;

	both_ways(r, IPPROTO_UDP);
	st = reload_hub(r, hub_deny);
	assert_int_equal(st.kept, 0);
	assert_int_equal(st.ended[ROUTER_RELOAD_END_POLICY], 2);
	assert_int_equal(session_table_count(router_worker_sessions(r->h)), 0);
	assert_int_equal(svr_waypoint_ports_in_use(router_worker_path(r->h, 1)->ports), 0);
	len = worker_rig_packet_make(pkt, "10.1.0.10", "10.2.0.20", IPPROTO_UDP, 40000, 5005,
	    "denied");
	worker_rig_inject(r->pool, r->lan_a, pkt, len);
	run(r);
	/* site-a still holds the session (it idles out there): no metadata, refused. */
	assert_int_equal(io_mem_link_pending(r->lan_b, 0), 0);
	assert_int_equal(drops(r->h, PKT_DROP_META_REQUIRED), 1);
	/* A new session is refused by the hub's new rule. */
	len = worker_rig_packet_make(pkt, "10.1.0.10", "10.2.0.20", IPPROTO_UDP, 40001, 5005,
	    "denied");
	worker_rig_inject(r->pool, r->lan_a, pkt, len);
	run(r);
	assert_int_equal(io_mem_link_pending(r->lan_b, 0), 0);
	assert_int_equal(drops(r->h, PKT_DROP_POLICY_DENIED), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_router_worker_hub_udp_both_ways, rig_setup,
	        rig_teardown),
	    cmocka_unit_test_setup_teardown(test_router_worker_hub_tcp_both_ways, rig_setup,
	        rig_teardown),
	    cmocka_unit_test_setup_teardown(test_router_worker_hub_icmp_both_ways, rig_setup,
	        rig_teardown),
	    cmocka_unit_test_setup_teardown(test_router_worker_hub_udp_both_ways, rig_setup_secure,
	        rig_teardown),
	    cmocka_unit_test_setup_teardown(test_router_worker_hub_tcp_both_ways, rig_setup_secure,
	        rig_teardown),
	    cmocka_unit_test_setup_teardown(test_router_worker_hub_icmp_both_ways, rig_setup_secure,
	        rig_teardown),
	    cmocka_unit_test_setup_teardown(test_router_worker_hub_leg_remade, rig_setup,
	        rig_teardown),
	    cmocka_unit_test_setup_teardown(test_router_worker_hub_rule_denies, rig_setup_deny,
	        rig_teardown),
	    cmocka_unit_test_setup_teardown(test_router_worker_hub_tenant_without_access, rig_setup,
	        rig_teardown),
	    cmocka_unit_test_setup_teardown(test_router_worker_hub_refuses_unrouted_and_loops,
	        rig_setup, rig_teardown),
	    cmocka_unit_test_setup_teardown(test_router_worker_hub_reload_keeps_transit, rig_setup,
	        rig_teardown),
	    cmocka_unit_test_setup_teardown(test_router_worker_hub_reload_keeps_transit,
	        rig_setup_secure, rig_teardown),
	    cmocka_unit_test_setup_teardown(test_router_worker_hub_reload_ends_denied_transit,
	        rig_setup, rig_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
