/*
 * The two-router lab of the SVR unit tests (svr_test_lab.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../pkt/pkt_test_build.h"
#include "crypto/crypto_aead.h"
#include "pkt/pkt_csum.h"
#include "pkt/pkt_parse.h"
#include "session/session_table.h"
#include "svr/svr_waypoint.h"
#include "svr_test_lab.h"

static const char *const tenant_names[] = {"blue"};
static const char *const service_names[] = {"web"};

static void
svr_test_router_init(struct svr_test_lab *lab, struct svr_test_router *r, const char *name, bool a,
    uint64_t table_seed, bool security)
{
	struct session_table_config cfg;

	memset(r, 0, sizeof(*r));
	session_table_config_default(&cfg, 1024);
	cfg.seed = table_seed;
	r->rt.sessions = session_table_new(&cfg, lab->now_ns);
	assert_non_null(r->rt.sessions);
	r->rt.drops = &r->drops;
	r->rt.pool = lab->pool;
	r->rt.name = name;
	r->rt.tenant_names = tenant_names;
	r->rt.tenant_count = 1;
	r->rt.service_names = service_names;
	r->rt.service_count = 1;
	assert_int_equal(addr_parse(svr_test_waypoint_addr(lab, a), &r->path.local), 0);
	assert_int_equal(addr_parse(svr_test_waypoint_addr(lab, !a), &r->path.remote), 0);
	r->path.wan_zone = SESSION_ZONE_WAN | 1;
	r->path.wan_port = SVR_TEST_WAN_PORT;
	r->path.ports = svr_waypoint_ports_new(SVR_WAYPOINT_PORT_FIRST, 65535);
	assert_non_null(r->path.ports);
	r->rt.paths = &r->path;
	r->rt.path_count = 1;
	r->lan_ports[0] = SVR_TEST_LAN_PORT;
	r->rt.lan_ports = r->lan_ports;
	svr_peer_keys_init(&r->keys[0]);
	if (security) {
		r->rt.peer_keys = r->keys;
		r->rt.peer_count = 1;
		r->rt.security = true;
	}
	assert_int_equal(svr_router_seed(&r->rt), 0);
}

static void
svr_test_router_fini(struct svr_test_router *r)
{
	for (unsigned i = 0; i < r->rt.ctrl_out_count; i++)
		pkt_pool_put(r->rt.pool, r->rt.ctrl_out[i]);
	session_table_free(r->rt.sessions);
	svr_waypoint_ports_free(r->path.ports);
	svr_peer_keys_fini(&r->keys[0]);
}

void
svr_test_lab_init(struct svr_test_lab *lab, uint8_t family, uint8_t wan_family, unsigned pool_size,
    uint64_t table_seed, bool security)
{
	memset(lab, 0, sizeof(*lab));
	lab->family = family;
	lab->wan_family = wan_family;
	lab->ip_id = family != wan_family ? 0 : 0x1c46;
	lab->now_ns = 1000 * SVR_TEST_NS;
	memset(lab->key_ab, 0xab, sizeof(lab->key_ab));
	memset(lab->key_ba, 0xba, sizeof(lab->key_ba));
	lab->pool = pkt_pool_new(pool_size);
	assert_non_null(lab->pool);
	svr_test_router_init(lab, &lab->a, "rtr-a", true, table_seed, security);
	svr_test_router_init(lab, &lab->b, "rtr-b", false, table_seed, security);
}

struct crypto_aead *
svr_test_aead_new(const uint8_t key[32])
{
	struct crypto_aead *c;

	assert_int_equal(crypto_aead_new(CRYPTO_AEAD_AES_256_GCM, key, &c), 0);
	return c;
}

void
svr_test_lab_keys_install(struct svr_test_lab *lab)
{
	struct svr_peer_keys *a = &lab->a.keys[0], *b = &lab->b.keys[0];

	/* The install calls hand back what they replace: nothing here, freed all the same. */
	crypto_aead_free(
	    svr_peer_keys_install_send(a, SVR_TEST_IDX_B, svr_test_aead_new(lab->key_ab)));
	crypto_aead_free(
	    svr_peer_keys_install_recv(b, SVR_TEST_IDX_B, svr_test_aead_new(lab->key_ab)));
	crypto_aead_free(
	    svr_peer_keys_install_send(b, SVR_TEST_IDX_A, svr_test_aead_new(lab->key_ba)));
	crypto_aead_free(
	    svr_peer_keys_install_recv(a, SVR_TEST_IDX_A, svr_test_aead_new(lab->key_ba)));
}

void
svr_test_lab_fini(struct svr_test_lab *lab)
{
	svr_test_router_fini(&lab->a);
	svr_test_router_fini(&lab->b);
	/* Every buffer went back: nothing leaked or was dropped silently. */
	assert_int_equal(pkt_pool_available(lab->pool), pkt_pool_capacity(lab->pool));
	pkt_pool_free(lab->pool);
}

const char *
svr_test_host_addr(const struct svr_test_lab *lab, bool a)
{
	if (lab->family == ADDR_FAMILY_V4)
		return a ? "10.0.1.10" : "10.0.2.20";
	return a ? "2001:db8:1::10" : "2001:db8:2::20";
}

const char *
svr_test_waypoint_addr(const struct svr_test_lab *lab, bool a)
{
	if (lab->wan_family == ADDR_FAMILY_V4)
		return a ? "203.0.113.1" : "198.51.100.2";
	return a ? "2001:db8:ff::1" : "2001:db8:ff::2";
}

void
svr_test_router_lan(struct svr_test_lab *lab, struct svr_test_router *r, struct pkt_buf **pkts,
    unsigned n, enum svr_verdict *verdicts)
{
	svr_lan_rx_burst(&r->rt, pkts, n, 0, verdicts, lab->now_ns);
	for (unsigned i = 0; i < n; i++) {
		struct svr_route route = {.encrypt = r->encrypt};

		if (verdicts[i] == SVR_VERDICT_NEW_SESSION)
			verdicts[i] = svr_lan_first(&r->rt, pkts[i], 0, &route, lab->now_ns);
	}
}

void
svr_test_router_wan(struct svr_test_lab *lab, struct svr_test_router *r, struct pkt_buf **pkts,
    unsigned n, enum svr_verdict *verdicts)
{
	svr_wan_rx_burst(&r->rt, pkts, n, r->path.wan_zone, verdicts, lab->now_ns);
	for (unsigned i = 0; i < n; i++) {
		struct svr_accept accept = {.encrypt = r->encrypt};
		struct svr_meta m;

		if (verdicts[i] != SVR_VERDICT_NEW_SESSION)
			continue;
		verdicts[i] = SVR_VERDICT_DROP;
		if (svr_wan_decode(&r->rt, pkts[i], &m) == 0) {
			assert_true(m.present & SVR_META_F_TENANT);
			assert_int_equal(m.tenant.len, 4);
			assert_memory_equal(m.tenant.ptr, "blue", 4);
			verdicts[i] = svr_wan_first(&r->rt, pkts[i], &m, &accept, lab->now_ns);
		}
	}
}

size_t
svr_test_packet_build(const struct svr_test_lab *lab, uint8_t *out, uint8_t family, const char *src,
    const char *dst, uint8_t proto, const uint8_t *l4, size_t l4_len)
{
	struct addr s, d;
	struct pkt_info info;
	enum pkt_drop_reason reason;
	size_t hdr;

	assert_int_equal(addr_parse(src, &s), 0);
	assert_int_equal(addr_parse(dst, &d), 0);
	if (family == ADDR_FAMILY_V4)
		hdr = tb_ipv4_hdr_addr(out, proto, 20 + l4_len, lab->ip_id, 0x4000, s.bytes,
		    d.bytes, NULL, 0);
	else
		hdr = tb_ipv6_hdr_addr(out, proto, l4_len, s.bytes, d.bytes);
	memcpy(out + hdr, l4, l4_len);
	assert_int_equal(pkt_parse_bytes(out, hdr + l4_len, &info, &reason), 0);
	pkt_csum_fill(out, &info);
	return hdr + l4_len;
}

size_t
svr_test_host_packet(const struct svr_test_lab *lab, uint8_t *out, bool from_a, uint8_t proto,
    const uint8_t *l4, size_t l4_len)
{
	return svr_test_packet_build(lab, out, lab->family, svr_test_host_addr(lab, from_a),
	    svr_test_host_addr(lab, !from_a), proto, l4, l4_len);
}

size_t
svr_test_tcp_segment(uint8_t *l4, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
    uint8_t flags, const void *data, size_t n)
{
	size_t hdr = tb_tcp(l4, sport, dport, flags, NULL, 0);

	tb_be32(l4 + 4, seq);
	tb_be32(l4 + 8, ack);
	if (n > 0)
		memcpy(l4 + hdr, data, n);
	return hdr + n;
}

size_t
svr_test_udp_datagram(uint8_t *l4, uint16_t sport, uint16_t dport, const void *data, size_t n)
{
	size_t hdr = tb_udp(l4, sport, dport, n);

	memcpy(l4 + hdr, data, n);
	return hdr + n;
}

size_t
svr_test_icmp_echo(uint8_t *l4, uint8_t family, bool request, uint16_t id, uint16_t seq,
    const char payload[32])
{
	uint8_t type;

	if (family == ADDR_FAMILY_V4)
		type = request ? 8 : 0;
	else
		type = request ? 128 : 129;
	memcpy(l4 + tb_icmp(l4, type, 0, id, seq), payload, 32);
	return 40;
}

void
svr_test_drops_print(const struct svr_test_lab *lab)
{
	for (int i = 0; i < PKT_DROP_COUNT; i++)
		if (lab->a.drops.count[i] || lab->b.drops.count[i])
			print_message("drop %s a=%llu b=%llu\n", pkt_drop_reason_name(i),
			    (unsigned long long)lab->a.drops.count[i],
			    (unsigned long long)lab->b.drops.count[i]);
}

uint64_t
svr_test_drops_total(const struct svr_test_router *r)
{
	uint64_t n = 0;

	for (int i = 0; i < PKT_DROP_COUNT; i++)
		n += r->drops.count[i];
	return n;
}

uint64_t
svr_test_lab_drops(const struct svr_test_lab *lab)
{
	return svr_test_drops_total(&lab->a) + svr_test_drops_total(&lab->b);
}

void
svr_test_lab_assert_no_drops(const struct svr_test_lab *lab)
{
	if (svr_test_lab_drops(lab) != 0)
		svr_test_drops_print(lab);
	assert_int_equal(svr_test_lab_drops(lab), 0);
}

bool
svr_test_contains(const uint8_t *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return true;
	return false;
}

struct session *
svr_test_session_of(struct svr_test_router *r, uint16_t cport, uint32_t *index)
{
	for (uint32_t i = session_table_next(r->rt.sessions, 0); i != SESSION_INDEX_NONE;
	     i = session_table_next(r->rt.sessions, i + 1)) {
		struct session *s = session_table_get(r->rt.sessions, i);

		if (s->lan_key.sport == cport || s->lan_key.dport == cport) {
			if (index != NULL)
				*index = i;
			return s;
		}
	}
	return NULL;
}
