/*
 * Unit tests of the SVR transforms on single packets: test vector TV8 of the profile
 * (docs/protocol.md) produced by the ingress transform and undone by the egress, and
 * every way a first packet can be refused, each under its named drop counter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <string.h>

#include "lib/buf.h"
#include "pkt/pkt_csum.h"
#include "pkt/pkt_parse.h"
#include "session/session_table.h"
#include "svr/svr_meta.h"
#include "svr/svr_transform.h"
#include "svr/svr_waypoint.h"

/* TV8: the host's DNS query, 10.0.1.10:40000 -> 10.0.2.53:53. */
static const uint8_t tv8_host[] = {0x45, 0x00, 0x00, 0x39, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x11, 0x07,
    0x30, 0x0a, 0x00, 0x01, 0x0a, 0x0a, 0x00, 0x02, 0x35, 0x9c, 0x40, 0x00, 0x35, 0x00, 0x25, 0xd0,
    0xb4, 0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x65, 0x78,
    0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00, 0x01};

/* TV8: the same packet between the routers, 121 bytes. */
static const uint8_t tv8_wire[] = {0x45, 0x00, 0x00, 0x79, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x11, 0xb7,
    0xf6, 0xcb, 0x00, 0x71, 0x01, 0xc6, 0x33, 0x64, 0x02, 0x40, 0x00, 0x40, 0x01, 0x00, 0x65, 0x75,
    0x32, 0x4c, 0x48, 0xdb, 0xc6, 0xdd, 0xf6, 0x67, 0x0c, 0x10, 0x0c, 0x00, 0x34, 0x00, 0x02, 0x00,
    0x0d, 0x0a, 0x00, 0x01, 0x0a, 0x0a, 0x00, 0x02, 0x35, 0x9c, 0x40, 0x00, 0x35, 0x11, 0x00, 0x07,
    0x00, 0x04, 0x62, 0x6c, 0x75, 0x65, 0x00, 0x0a, 0x00, 0x03, 0x64, 0x6e, 0x73, 0x00, 0x06, 0x00,
    0x10, 0x3f, 0x25, 0x04, 0xe0, 0x4f, 0x89, 0x41, 0xd3, 0x9a, 0x0c, 0x03, 0x05, 0xe8, 0x2c, 0x33,
    0x01, 0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x65, 0x78,
    0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00, 0x01};

static const uint8_t tv_uuid[16] = {0x3f, 0x25, 0x04, 0xe0, 0x4f, 0x89, 0x41, 0xd3, 0x9a, 0x0c,
    0x03, 0x05, 0xe8, 0x2c, 0x33, 0x01};

static const char *const tenants[] = {"blue"};
static const char *const services[] = {"dns"};
static const uint32_t lan_ports[] = {7};

struct rig {
	struct svr_router rt;
	struct pkt_drop_counters drops;
	struct svr_path path;
	struct pkt_pool *pool;
};

static void
rig_init(struct rig *r, const char *local, const char *remote, uint32_t capacity,
    uint16_t last_port)
{
	struct session_table_config cfg;

	memset(r, 0, sizeof(*r));
	session_table_config_default(&cfg, capacity);
	r->rt.sessions = session_table_new(&cfg, 0);
	assert_non_null(r->rt.sessions);
	r->pool = pkt_pool_new(8);
	assert_non_null(r->pool);
	r->rt.drops = &r->drops;
	r->rt.pool = r->pool;
	r->rt.tenant_names = tenants;
	r->rt.tenant_count = 1;
	r->rt.service_names = services;
	r->rt.service_count = 1;
	r->rt.lan_ports = lan_ports;
	assert_int_equal(addr_parse(local, &r->path.local), 0);
	assert_int_equal(addr_parse(remote, &r->path.remote), 0);
	r->path.wan_zone = SESSION_ZONE_WAN | 1;
	r->path.wan_port = 9;
	r->path.ports = svr_waypoint_ports_new(SVR_WAYPOINT_PORT_FIRST, last_port);
	assert_non_null(r->path.ports);
	r->rt.paths = &r->path;
	r->rt.path_count = 1;
	assert_int_equal(svr_router_seed(&r->rt), 0);
}

static void
rig_fini(struct rig *r)
{
	session_table_free(r->rt.sessions);
	svr_waypoint_ports_free(r->path.ports);
	assert_int_equal(pkt_pool_available(r->pool), pkt_pool_capacity(r->pool));
	pkt_pool_free(r->pool);
}

static struct pkt_buf *
rig_packet(struct rig *r, const uint8_t *bytes, size_t len)
{
	struct pkt_buf *p = pkt_pool_get(r->pool);
	enum pkt_drop_reason reason;

	assert_non_null(p);
	assert_int_equal(pkt_buf_set(p, bytes, len), 0);
	assert_int_equal(pkt_parse(p, &reason), 0);
	return p;
}

/* Runs a LAN packet through the ingress: burst (a miss), then the first-packet path. */
static enum svr_verdict
rig_ingress(struct rig *r, struct pkt_buf *p, const uint8_t *uuid)
{
	enum svr_verdict v;
	struct svr_route route = {.tenant_id = 0, .service_id = 0, .path_id = 0, .uuid = uuid};

	svr_lan_rx_burst(&r->rt, &p, 1, 0, &v, 0);
	if (v == SVR_VERDICT_NEW_SESSION)
		v = svr_lan_first(&r->rt, p, 0, &route, 0);
	return v;
}

/* Opens the TV8 session at the ingress: the host's query leaves for the WAN. */
static void
rig_open_tv8_ingress(struct rig *r)
{
	struct pkt_buf *p = rig_packet(r, tv8_host, sizeof(tv8_host));

	assert_int_equal(rig_ingress(r, p, NULL), SVR_VERDICT_TO_WAN);
	pkt_pool_put(r->pool, p);
}

/* Opens the TV8 session at the egress: the wire packet is accepted into the LAN. */
static void
rig_open_tv8_egress(struct rig *r)
{
	struct pkt_buf *p = rig_packet(r, tv8_wire, sizeof(tv8_wire));
	struct svr_accept accept = {0};
	struct svr_meta m;

	assert_int_equal(svr_wan_decode(&r->rt, p, &m), 0);
	assert_int_equal(svr_wan_first(&r->rt, p, &m, &accept, 0), SVR_VERDICT_TO_LAN);
	pkt_pool_put(r->pool, p);
}

/* TV8's host packet from source port 40001 (checksum adjusted): a second flow. */
static void
tv8_host_second_flow(uint8_t other[sizeof(tv8_host)])
{
	memcpy(other, tv8_host, sizeof(tv8_host));
	buf_store_be16(other + 20, 40001);
	pkt_csum_apply_delta(other + 26, pkt_csum_delta_add16(0, 40000, 40001), true);
}

static size_t
rig_drops_total(const struct rig *r)
{
	size_t total = 0;

	for (int i = 0; i < PKT_DROP_COUNT; i++)
		total += r->drops.count[i];
	return total;
}

static void
test_svr_lan_first_produces_tv8(void **state)
{
	struct rig r;
	struct pkt_buf *p;

	(void)state;
	rig_init(&r, "203.0.113.1", "198.51.100.2", 16, 65535);
	p = rig_packet(&r, tv8_host, sizeof(tv8_host));
	assert_int_equal(rig_ingress(&r, p, tv_uuid), SVR_VERDICT_TO_WAN);
	assert_int_equal(p->len, sizeof(tv8_wire));
	assert_memory_equal(pkt_buf_data(p), tv8_wire, sizeof(tv8_wire));
	assert_int_equal(p->port, 9);
	assert_int_equal(rig_drops_total(&r), 0);
	pkt_pool_put(r.pool, p);
	rig_fini(&r);
}

static void
test_svr_wan_first_restores_tv8_host_packet(void **state)
{
	struct rig r;
	struct pkt_buf *p;
	struct svr_meta m;
	enum svr_verdict v;
	struct svr_accept accept = {0};
	struct session *s;

	(void)state;
	rig_init(&r, "198.51.100.2", "203.0.113.1", 16, 65535);
	p = rig_packet(&r, tv8_wire, sizeof(tv8_wire));
	svr_wan_rx_burst(&r.rt, &p, 1, r.path.wan_zone, &v, 0);
	assert_int_equal(v, SVR_VERDICT_NEW_SESSION);
	assert_int_equal(svr_wan_decode(&r.rt, p, &m), 0);
	assert_int_equal(m.tenant.len, 4);
	assert_memory_equal(m.tenant.ptr, "blue", 4);
	assert_int_equal(svr_wan_first(&r.rt, p, &m, &accept, 0), SVR_VERDICT_TO_LAN);
	assert_int_equal(p->len, sizeof(tv8_host));
	assert_memory_equal(pkt_buf_data(p), tv8_host, sizeof(tv8_host));
	assert_int_equal(p->port, 7);
	s = session_table_get(r.rt.sessions, p->user);
	assert_non_null(s);
	assert_memory_equal(s->uuid, tv_uuid, 16);
	assert_int_equal(s->role, SESSION_ROLE_EGRESS);
	assert_true(s->flags & SVR_SESSION_REV_META);
	pkt_pool_put(r.pool, p);
	rig_fini(&r);
}

static void
test_svr_lan_first_ports_exhausted_is_counted(void **state)
{
	struct rig r;
	struct pkt_buf *p;
	uint8_t other[sizeof(tv8_host)];

	(void)state;
	rig_init(&r, "203.0.113.1", "198.51.100.2", 16, SVR_WAYPOINT_PORT_FIRST + 1);
	rig_open_tv8_ingress(&r);
	/* A second flow: no pair left. */
	tv8_host_second_flow(other);
	p = rig_packet(&r, other, sizeof(other));
	assert_int_equal(rig_ingress(&r, p, NULL), SVR_VERDICT_DROP);
	assert_int_equal(r.drops.count[PKT_DROP_WAYPOINT_PORTS_EXHAUSTED], 1);
	assert_int_equal(session_table_count(r.rt.sessions), 1);
	pkt_pool_put(r.pool, p);
	rig_fini(&r);
}

static void
test_svr_lan_first_table_full_returns_ports(void **state)
{
	struct rig r;
	struct pkt_buf *p;
	uint8_t other[sizeof(tv8_host)];

	(void)state;
	rig_init(&r, "203.0.113.1", "198.51.100.2", 1, 65535);
	rig_open_tv8_ingress(&r);
	/* A second flow: no room in the table. */
	tv8_host_second_flow(other);
	p = rig_packet(&r, other, sizeof(other));
	assert_int_equal(rig_ingress(&r, p, NULL), SVR_VERDICT_DROP);
	assert_int_equal(r.drops.count[PKT_DROP_SESSION_TABLE_FULL], 1);
	assert_int_equal(svr_waypoint_ports_in_use(r.path.ports), 1);
	pkt_pool_put(r.pool, p);
	rig_fini(&r);
}

static void
test_svr_lan_first_bad_checksum_makes_no_session(void **state)
{
	struct rig r;
	struct pkt_buf *p;
	uint8_t bad[sizeof(tv8_host)];

	(void)state;
	rig_init(&r, "203.0.113.1", "198.51.100.2", 16, 65535);
	memcpy(bad, tv8_host, sizeof(bad));
	bad[sizeof(bad) - 1] ^= 0x40; /* payload bit flip: UDP checksum now wrong */
	p = rig_packet(&r, bad, sizeof(bad));
	assert_int_equal(rig_ingress(&r, p, NULL), SVR_VERDICT_DROP);
	assert_int_equal(r.drops.count[PKT_DROP_L4_BAD_CHECKSUM], 1);
	assert_int_equal(session_table_count(r.rt.sessions), 0);
	assert_int_equal(svr_waypoint_ports_in_use(r.path.ports), 0);
	pkt_pool_put(r.pool, p);
	rig_fini(&r);
}

static void
test_svr_lan_rx_fragment_is_counted(void **state)
{
	struct rig r;
	struct pkt_buf *p;
	uint8_t frag[sizeof(tv8_host)];
	enum svr_verdict v;

	(void)state;
	rig_init(&r, "203.0.113.1", "198.51.100.2", 16, 65535);
	memcpy(frag, tv8_host, sizeof(frag));
	frag[6] = 0x20; /* MF, offset 0: the first of several fragments */
	buf_store_be16(frag + 10, 0);
	buf_store_be16(frag + 10, pkt_csum_ipv4_header(frag, 20));
	p = rig_packet(&r, frag, sizeof(frag));
	svr_lan_rx_burst(&r.rt, &p, 1, 0, &v, 0);
	assert_int_equal(v, SVR_VERDICT_DROP);
	assert_int_equal(r.drops.count[PKT_DROP_SVR_FRAGMENT_NOT_REASSEMBLED], 1);
	pkt_pool_put(r.pool, p);
	rig_fini(&r);
}

static void
test_svr_wan_first_same_uuid_new_ports_rebinds(void **state)
{
	struct rig r;
	struct pkt_buf *p;
	struct svr_meta m;
	struct svr_accept accept = {0};
	uint8_t moved[sizeof(tv8_wire)];

	(void)state;
	rig_init(&r, "198.51.100.2", "203.0.113.1", 16, 65535);
	rig_open_tv8_egress(&r);
	/* The ingress moved the session to new waypoint ports, same UUID. */
	memcpy(moved, tv8_wire, sizeof(moved));
	buf_store_be16(moved + 20, 16386);
	buf_store_be16(moved + 22, 16387);
	pkt_csum_apply_delta(moved + 26,
	    pkt_csum_delta_add16(pkt_csum_delta_add16(0, 16384, 16386), 16385, 16387), true);
	p = rig_packet(&r, moved, sizeof(moved));
	assert_int_equal(svr_wan_decode(&r.rt, p, &m), 0);
	assert_int_equal(svr_wan_first(&r.rt, p, &m, &accept, 0), SVR_VERDICT_TO_LAN);
	assert_memory_equal(pkt_buf_data(p), tv8_host, sizeof(tv8_host));
	assert_int_equal(r.rt.stats.rebinds, 1);
	assert_int_equal(session_table_count(r.rt.sessions), 1);
	pkt_pool_put(r.pool, p);
	rig_fini(&r);
}

static void
test_svr_wan_first_other_uuid_same_tuple_conflicts(void **state)
{
	struct rig r;
	struct pkt_buf *p;
	struct svr_meta m;
	struct svr_accept accept = {0};
	uint8_t other[sizeof(tv8_wire)];

	(void)state;
	rig_init(&r, "198.51.100.2", "203.0.113.1", 16, 65535);
	rig_open_tv8_egress(&r);
	/* New ports and a different UUID for the same LAN tuple: refused, not hijacked. */
	memcpy(other, tv8_wire, sizeof(other));
	buf_store_be16(other + 20, 16386);
	other[91] ^= 0xff; /* last UUID byte (block at 28: 12 + 17 + 8 + 7 + 4 + 15) */
	p = rig_packet(&r, other, sizeof(other));
	pkt_csum_fill(pkt_buf_data(p), &p->info);
	assert_int_equal(svr_wan_decode(&r.rt, p, &m), 0);
	assert_int_equal(svr_wan_first(&r.rt, p, &m, &accept, 0), SVR_VERDICT_DROP);
	assert_int_equal(r.drops.count[PKT_DROP_SVR_SESSION_CONFLICT], 1);
	pkt_pool_put(r.pool, p);
	rig_fini(&r);
}

static void
test_svr_wan_rx_reused_tuple_replaces_stale_session(void **state)
{
	struct rig r;
	struct pkt_buf *p;
	struct svr_meta m;
	struct svr_accept accept = {0};
	enum svr_verdict v;
	uint8_t reused[sizeof(tv8_wire)];

	(void)state;
	rig_init(&r, "198.51.100.2", "203.0.113.1", 16, 65535);
	rig_open_tv8_egress(&r);
	/*
	 * The ingress restarted and opened another session (new UUID, client port 40001)
	 * on the same waypoint pair: the egress must drop the stale session and admit the
	 * new one, not deliver it as the old one or refuse it forever.
	 */
	memcpy(reused, tv8_wire, sizeof(reused));
	buf_store_be16(reused + 52, 40001); /* forward context: client port */
	reused[91] ^= 0xff;                 /* another UUID */
	p = rig_packet(&r, reused, sizeof(reused));
	pkt_csum_fill(pkt_buf_data(p), &p->info);
	svr_wan_rx_burst(&r.rt, &p, 1, r.path.wan_zone, &v, 0);
	assert_int_equal(v, SVR_VERDICT_NEW_SESSION);
	assert_int_equal(r.rt.stats.replaced, 1);
	assert_int_equal(session_table_count(r.rt.sessions), 0);
	assert_int_equal(svr_wan_decode(&r.rt, p, &m), 0);
	assert_int_equal(svr_wan_first(&r.rt, p, &m, &accept, 0), SVR_VERDICT_TO_LAN);
	assert_int_equal(p->info.sport, 40001);
	assert_int_equal(session_table_count(r.rt.sessions), 1);
	pkt_pool_put(r.pool, p);
	rig_fini(&r);
}

static void
test_svr_wan_first_translates_server_and_client(void **state)
{
	struct rig r;
	struct pkt_buf *p;
	struct svr_meta m;
	struct addr server, client, got;
	struct svr_accept accept = {0};
	enum pkt_drop_reason reason;
	enum svr_verdict v;
	uint8_t reply[64];
	size_t block_len;

	(void)state;
	rig_init(&r, "198.51.100.2", "203.0.113.1", 16, 65535);
	assert_int_equal(addr_parse("10.0.2.99", &server), 0);
	assert_int_equal(addr_parse("100.64.0.1", &client), 0);
	accept.server = &server;
	accept.client = &client;
	accept.client_port = 2000;
	p = rig_packet(&r, tv8_wire, sizeof(tv8_wire));
	assert_int_equal(svr_wan_decode(&r.rt, p, &m), 0);
	assert_int_equal(svr_wan_first(&r.rt, p, &m, &accept, 0), SVR_VERDICT_TO_LAN);
	/* Delivered to the real server, from the client's translated address and port. */
	pkt_info_dst(&p->info, pkt_buf_data(p), &got);
	assert_true(addr_equal(&got, &server));
	pkt_info_src(&p->info, pkt_buf_data(p), &got);
	assert_true(addr_equal(&got, &client));
	assert_int_equal(p->info.sport, 2000);
	assert_int_equal(p->info.dport, 53);
	assert_true(pkt_csum_verify(pkt_buf_data(p), &p->info));
	pkt_pool_put(r.pool, p);

	/* The server answers the translated client: reverse metadata goes without a context. */
	memcpy(reply, tv8_host, 28);
	memcpy(reply + 12, server.bytes, 4);
	memcpy(reply + 16, client.bytes, 4);
	buf_store_be16(reply + 2, 28 + 4);
	buf_store_be16(reply + 10, 0);
	buf_store_be16(reply + 10, pkt_csum_ipv4_header(reply, 20));
	buf_store_be16(reply + 20, 53);
	buf_store_be16(reply + 22, 2000);
	buf_store_be16(reply + 24, 8 + 4);
	memcpy(reply + 28, "ans!", 4);
	p = rig_packet(&r, reply, 32);
	pkt_csum_fill(pkt_buf_data(p), &p->info);
	svr_lan_rx_burst(&r.rt, &p, 1, 0, &v, 0);
	assert_int_equal(v, SVR_VERDICT_TO_WAN);
	assert_int_equal(svr_meta_decode(pkt_buf_data(p) + p->info.payload_off,
	                     p->info.ip_len - p->info.payload_off, &m, &block_len, &reason),
	    0);
	assert_true(m.present & SVR_META_F_DISABLE_FWD_META);
	assert_false(m.present & SVR_META_F_REV_CTX);
	assert_int_equal(p->info.sport, 16385);
	assert_int_equal(p->info.dport, 16384);
	pkt_pool_put(r.pool, p);
	rig_fini(&r);
}

static void
test_svr_wan_first_corrupted_wire_packet_dropped(void **state)
{
	struct rig r;
	struct pkt_buf *p;
	struct svr_meta m;
	struct svr_accept accept = {0};
	uint8_t bad[sizeof(tv8_wire)];

	(void)state;
	rig_init(&r, "198.51.100.2", "203.0.113.1", 16, 65535);
	memcpy(bad, tv8_wire, sizeof(bad));
	bad[sizeof(bad) - 3] ^= 0x01; /* in the DNS question, after the metadata */
	p = rig_packet(&r, bad, sizeof(bad));
	assert_int_equal(svr_wan_decode(&r.rt, p, &m), 0);
	assert_int_equal(svr_wan_first(&r.rt, p, &m, &accept, 0), SVR_VERDICT_DROP);
	assert_int_equal(r.drops.count[PKT_DROP_L4_BAD_CHECKSUM], 1);
	assert_int_equal(session_table_count(r.rt.sessions), 0);
	pkt_pool_put(r.pool, p);
	rig_fini(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_svr_lan_first_produces_tv8),
	    cmocka_unit_test(test_svr_wan_first_restores_tv8_host_packet),
	    cmocka_unit_test(test_svr_lan_first_ports_exhausted_is_counted),
	    cmocka_unit_test(test_svr_lan_first_table_full_returns_ports),
	    cmocka_unit_test(test_svr_lan_first_bad_checksum_makes_no_session),
	    cmocka_unit_test(test_svr_lan_rx_fragment_is_counted),
	    cmocka_unit_test(test_svr_wan_first_same_uuid_new_ports_rebinds),
	    cmocka_unit_test(test_svr_wan_first_other_uuid_same_tuple_conflicts),
	    cmocka_unit_test(test_svr_wan_first_corrupted_wire_packet_dropped),
	    cmocka_unit_test(test_svr_wan_first_translates_server_and_client),
	    cmocka_unit_test(test_svr_wan_rx_reused_tuple_replaces_stale_session),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
