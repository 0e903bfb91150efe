/*
 * The two-link lab of the SVR failover and UDP transform tests (svr_test_links.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "crypto/crypto_aead.h"
#include "session/session_table.h"
#include "svr/svr_seal.h"
#include "svr/svr_waypoint.h"
#include "svr_test_links.h"
#include "test_rand.h"

const char *
svr_test_links_waypoint_addr(const struct svr_test_links *l, bool a, int k)
{
	if (k == 0)
		return svr_test_waypoint_addr(&l->base, a);
	if (l->base.wan_family == ADDR_FAMILY_V4)
		return a ? "203.0.113.101" : "198.51.100.102";
	return a ? "2001:db8:ff::101" : "2001:db8:ff::102";
}

struct svr_path *
svr_test_links_path_add(struct svr_test_links *l, bool a, uint16_t k, const char *local,
    const char *remote)
{
	struct svr_test_router *tr = a ? &l->base.a : &l->base.b;
	struct svr_path *p = &l->paths[a ? 0 : 1][k];

	assert_true(k > 0 && k < SVR_TEST_LINKS_PATHS && k == tr->rt.path_count);
	assert_int_equal(addr_parse(local, &p->local), 0);
	assert_int_equal(addr_parse(remote, &p->remote), 0);
	p->wan_zone = (uint16_t)(SESSION_ZONE_WAN | (k + 1));
	p->wan_port = (uint16_t)(SVR_TEST_WAN_PORT + k);
	p->ports = svr_waypoint_ports_new(SVR_WAYPOINT_PORT_FIRST, 65535);
	assert_non_null(p->ports);
	tr->rt.path_count = k + 1u;
	return p;
}

void
svr_test_links_init(struct svr_test_links *l, uint8_t family, uint8_t wan_family,
    uint64_t table_seed, bool security,
    uint16_t (*pick)(struct svr_router *rt, const struct session *s, void *arg), void *arg)
{
	memset(l, 0, sizeof(*l));
	l->security = security;
	l->tcp_port = 80;
	svr_test_lab_init(&l->base, family, wan_family, 256, table_seed, security);
	for (int r = 0; r < 2; r++) {
		struct svr_test_router *tr = r == 0 ? &l->base.a : &l->base.b;

		l->paths[r][0] = tr->path;
		tr->rt.paths = l->paths[r];
		tr->rt.path_count = 1;
		tr->rt.path_pick = pick;
		tr->rt.path_pick_arg = arg;
		svr_test_links_path_add(l, r == 0, 1, svr_test_links_waypoint_addr(l, r == 0, 1),
		    svr_test_links_waypoint_addr(l, r != 0, 1));
	}
	svr_peer_keys_init(&l->inspect[0]);
	svr_peer_keys_init(&l->inspect[1]);
	if (security) {
		svr_test_lab_keys_install(&l->base);
		crypto_aead_free(svr_peer_keys_install_recv(&l->inspect[0], SVR_TEST_IDX_B,
		    svr_test_aead_new(l->base.key_ab)));
		crypto_aead_free(svr_peer_keys_install_recv(&l->inspect[1], SVR_TEST_IDX_A,
		    svr_test_aead_new(l->base.key_ba)));
	}
}

void
svr_test_links_fini(struct svr_test_links *l)
{
	/* Path 0 is the lab's own: svr_test_lab_fini() frees its ports. */
	for (int r = 0; r < 2; r++)
		for (int k = 1; k < SVR_TEST_LINKS_PATHS; k++)
			svr_waypoint_ports_free(l->paths[r][k].ports);
	svr_peer_keys_fini(&l->inspect[0]);
	svr_peer_keys_fini(&l->inspect[1]);
	svr_test_lab_fini(&l->base);
}

void
svr_test_links_path_set(struct svr_test_links *l, int k, bool up)
{
	l->paths[0][k].state = up ? SVR_PATH_UP : SVR_PATH_DOWN;
	l->paths[1][k].state = up ? SVR_PATH_UP : SVR_PATH_DOWN;
	l->link_dead[k] = !up;
}

/* Every packet put on link k: of the WAN family, counted by carriage, no TCP if UDP only. */
static uint16_t
svr_test_links_check(struct svr_test_links *l, const struct pkt_buf *p)
{
	uint16_t k = (uint16_t)(p->port - SVR_TEST_WAN_PORT);
	struct pkt_info info;
	enum pkt_drop_reason reason;

	assert_true(k < SVR_TEST_LINKS);
	assert_int_equal(pkt_parse_bytes(p->buf + p->head, p->len, &info, &reason), 0);
	assert_int_equal(info.family, l->base.wan_family);
	if (info.l4_proto == IPPROTO_UDP)
		l->wire_udp++;
	else
		l->wire_tcp++;
	if (l->link_udp_only[k])
		assert_int_equal(info.l4_proto, IPPROTO_UDP);
	return k;
}

enum svr_verdict
svr_test_links_lan_in(struct svr_test_links *l, struct svr_test_router *tx, struct pkt_buf *p)
{
	enum svr_verdict v;

	svr_lan_rx_burst(&tx->rt, &p, 1, 0, &v, l->base.now_ns);
	if (v == SVR_VERDICT_NEW_SESSION) {
		struct svr_route route = {.path_id = l->first_path, .encrypt = tx->encrypt};

		v = svr_lan_first(&tx->rt, p, 0, &route, l->base.now_ns);
	}
	return v;
}

struct pkt_buf *
svr_test_links_wan_in(struct svr_test_links *l, struct svr_test_router *r, struct pkt_buf *p,
    uint16_t k, enum svr_verdict *out)
{
	enum pkt_drop_reason reason;
	enum svr_verdict v = SVR_VERDICT_DROP;

	if (pkt_parse(p, &reason) == 0) {
		svr_wan_rx_burst(&r->rt, &p, 1, l->paths[r == &l->base.a ? 0 : 1][k].wan_zone, &v,
		    l->base.now_ns);
		if (v == SVR_VERDICT_NEW_SESSION) {
			struct svr_accept accept = {.path_id = k,
			    .encrypt = r->encrypt,
			    .tcp_syn_required = l->fw_syn_required,
			    .half_open_full = l->fw_half_open_full};
			struct svr_meta m;

			v = SVR_VERDICT_DROP;
			if (l->nat_enable_meta && l->paths[r == &l->base.a ? 0 : 1][k].learn &&
			    !svr_meta_has_cookie(p->buf + p->head + p->info.payload_off,
			        (size_t)p->info.ip_len - p->info.payload_off))
				svr_wan_enable_meta(&r->rt, p, k);
			/* Without a forward context: a NAT re-bind (svr_wan_rebind_ingress). */
			if (svr_wan_decode(&r->rt, p, &m) == 0)
				v = (m.present & SVR_META_F_FWD_CTX) ?
				    svr_wan_first(&r->rt, p, &m, &accept, l->base.now_ns) :
				    svr_wan_rebind_ingress(&r->rt, p, &m, k, l->base.now_ns);
		}
	}
	if (out != NULL)
		*out = v;
	if (v != SVR_VERDICT_TO_LAN) {
		pkt_pool_put(l->base.pool, p);
		return NULL;
	}
	return p;
}

unsigned
svr_test_links_ctrl_deliver(struct svr_test_links *l)
{
	struct svr_test_router *from[2] = {&l->base.a, &l->base.b},
	                       *to[2] = {&l->base.b, &l->base.a};
	unsigned delivered = 0;

	for (int i = 0; i < 2; i++) {
		unsigned n = from[i]->rt.ctrl_out_count;
		struct pkt_buf *c[SVR_CTRL_OUT_MAX];

		memcpy(c, from[i]->rt.ctrl_out, n * sizeof(c[0]));
		from[i]->rt.ctrl_out_count = 0;
		for (unsigned j = 0; j < n; j++) {
			uint16_t k = svr_test_links_check(l, c[j]);
			enum svr_verdict v;

			if (l->link_dead[k] ||
			    (l->middlebox != NULL && !l->middlebox(l, c[j], i == 0, k))) {
				pkt_pool_put(l->base.pool, c[j]);
				continue;
			}
			assert_null(svr_test_links_wan_in(l, to[i], c[j], k, &v));
			delivered += v == SVR_VERDICT_CONSUMED;
		}
	}
	return delivered;
}

/* The control packets of the exchange cross too, whatever became of the packet. */
static enum svr_test_outcome
svr_test_links_done(struct svr_test_links *l, enum svr_test_outcome o)
{
	svr_test_links_ctrl_deliver(l);
	return o;
}

enum svr_test_outcome
svr_test_links_xmit(struct svr_test_links *l, bool from_a, uint8_t proto, const uint8_t *l4,
    size_t l4_len, int *path)
{
	struct svr_test_router *tx = from_a ? &l->base.a : &l->base.b;
	struct svr_test_router *rx = from_a ? &l->base.b : &l->base.a;
	uint8_t sent[2048];
	size_t len = svr_test_host_packet(&l->base, sent, from_a, proto, l4, l4_len);
	struct pkt_buf *p = pkt_pool_get(l->base.pool), *h;
	enum pkt_drop_reason reason;
	uint16_t k;

	assert_non_null(p);
	assert_int_equal(pkt_buf_set(p, sent, len), 0);
	assert_int_equal(pkt_parse(p, &reason), 0);
	if (path != NULL)
		*path = -1;
	if (svr_test_links_lan_in(l, tx, p) != SVR_VERDICT_TO_WAN) {
		pkt_pool_put(l->base.pool, p);
		return svr_test_links_done(l, SVR_TEST_DROPPED);
	}
	k = svr_test_links_check(l, p);
	if (path != NULL)
		*path = k;
	memcpy(l->wire, p->buf + p->head, p->len);
	l->wire_len = p->len;
	l->wire_path = k;
	l->wire_from_a = from_a;
	if (l->link_dead[k] ||
	    (l->link_drop_syn_data[k] && p->info.l4_proto == IPPROTO_TCP &&
	        (p->info.tcp_flags & 0x02) && p->info.payload_off < p->info.ip_len) ||
	    (l->middlebox != NULL && !l->middlebox(l, p, from_a, k))) {
		pkt_pool_put(l->base.pool, p);
		return svr_test_links_done(l, SVR_TEST_LOST);
	}
	h = svr_test_links_wan_in(l, rx, p, k, NULL);
	if (h == NULL)
		return svr_test_links_done(l, SVR_TEST_DROPPED);
	assert_int_equal(h->len, len);
	assert_memory_equal(h->buf + h->head, sent, len);
	pkt_pool_put(l->base.pool, h);
	return svr_test_links_done(l, SVR_TEST_DELIVERED);
}

size_t
svr_test_links_tcp_build(const struct svr_test_links *l, uint8_t *l4, bool from_a, uint16_t cport,
    uint8_t flags, const char *data)
{
	size_t n = data != NULL ? strlen(data) : 0;

	return from_a ? svr_test_tcp_segment(l4, cport, l->tcp_port, 1001, 9001, flags, data, n) :
	                svr_test_tcp_segment(l4, l->tcp_port, cport, 9001, 1001, flags, data, n);
}

enum svr_test_outcome
svr_test_links_tcp_send(struct svr_test_links *l, bool from_a, uint16_t cport, uint8_t flags,
    const char *data, int *path)
{
	uint8_t l4[512];
	size_t len = svr_test_links_tcp_build(l, l4, from_a, cport, flags, data);

	return svr_test_links_xmit(l, from_a, IPPROTO_TCP, l4, len, path);
}

enum svr_test_outcome
svr_test_links_udp_send(struct svr_test_links *l, bool from_a, uint16_t cport, const char *data,
    int *path)
{
	uint8_t l4[512];
	size_t len = from_a ? svr_test_udp_datagram(l4, cport, 5004, data, strlen(data)) :
	                      svr_test_udp_datagram(l4, 5004, cport, data, strlen(data));

	return svr_test_links_xmit(l, from_a, IPPROTO_UDP, l4, len, path);
}

void
svr_test_links_assert_wire_sealed(const struct svr_test_links *l)
{
	if (l->security)
		assert_false(svr_test_contains(l->wire, l->wire_len, "SECRET"));
}

size_t
svr_test_links_wire_meta(struct svr_test_links *l, struct pkt_info *info, struct svr_meta *m,
    uint8_t copy[SVR_TEST_WIRE_MAX])
{
	enum pkt_drop_reason reason;
	size_t block_len = 0;

	memcpy(copy, l->wire, l->wire_len);
	assert_int_equal(pkt_parse_bytes(copy, l->wire_len, info, &reason), 0);
	if (!svr_meta_has_cookie(copy + info->payload_off, info->ip_len - info->payload_off))
		return 0;
	if (l->security) {
		struct svr_peer_keys *k = &l->inspect[l->wire_from_a ? 0 : 1];
		uint32_t index;
		struct svr_recv_key *r;

		assert_int_equal(svr_seal_peek(copy + info->payload_off,
		                     info->ip_len - info->payload_off, &index, &block_len, &reason),
		    0);
		r = svr_peer_keys_find_recv(k, index);
		assert_non_null(r);
		assert_int_equal(svr_seal_open(k, r, copy + info->payload_off, block_len), 0);
	}
	assert_int_equal(svr_meta_decode(copy + info->payload_off, info->ip_len - info->payload_off,
	                     m, &block_len, &reason),
	    0);
	return block_len;
}

void
svr_test_links_assert_same_session(struct svr_test_links *l, uint16_t cport, uint16_t path)
{
	struct session *a = svr_test_session_of(&l->base.a, cport, NULL);
	struct session *b = svr_test_session_of(&l->base.b, cport, NULL);

	assert_non_null(a);
	assert_non_null(b);
	assert_memory_equal(a->uuid, b->uuid, sizeof(a->uuid));
	assert_int_equal(a->path_id, path);
	assert_int_equal(b->path_id, path);
}

/* A path goes down or comes back, or a sweep runs (r < 8 of 100): true if one did. */
static bool
svr_test_links_model_churn(struct svr_test_links *l, uint64_t *rng, unsigned r)
{
	if (r < 4) {
		int k = (int)test_rand_below(rng, SVR_TEST_LINKS);

		svr_test_links_path_set(l, k, l->link_dead[k]);
		return true;
	}
	if (r < 8) {
		uint16_t k = (uint16_t)test_rand_below(rng, SVR_TEST_LINKS);

		l->prefer = (uint16_t)test_rand_below(rng, SVR_TEST_LINKS);
		svr_sessions_migrate_path(&l->base.a.rt, k, (unsigned)test_rand_below(rng, 8) + 1,
		    l->base.now_ns);
		svr_test_links_ctrl_deliver(l);
		return true;
	}
	return false;
}

/*
 * svr-control-no-session is expected on either side: a keep-alive for a session whose
 * first packet was lost finds nothing to re-bind at B, and an ack that B owed from an
 * earlier burst leaves (at the start of B's next WAN burst) on the old tuple just before
 * B reads the keep-alive that moves the session, so A no longer knows it.
 */
static void
svr_test_links_model_drops_check(const struct svr_test_links *l, int step)
{
	if (svr_test_lab_drops(&l->base) !=
	    l->base.a.drops.count[PKT_DROP_SVR_CONTROL_NO_SESSION] +
	        l->base.b.drops.count[PKT_DROP_SVR_CONTROL_NO_SESSION]) {
		svr_test_drops_print(&l->base);
		fail_msg("step %d: a router dropped", step);
	}
}

void
svr_test_links_model_run(struct svr_test_links *l, const struct svr_test_links_model *m)
{
	uint64_t rng = test_seed();
	bool opened[SVR_TEST_MODEL_FLOWS_MAX] = {0}, at_b[SVR_TEST_MODEL_FLOWS_MAX] = {0};
	unsigned n_open = 0, n_at_b = 0, lost = 0, delivered = 0;
	char data[64];

	assert_true(m->flows <= SVR_TEST_MODEL_FLOWS_MAX);
	for (int step = 0; step < (int)m->steps; step++) {
		unsigned r = (unsigned)test_rand_below(&rng, 100);
		unsigned i = (unsigned)test_rand_below(&rng, m->flows);
		bool tcp = m->tcp_flow(i);
		uint16_t cport = (uint16_t)(41000 + i);
		bool from_a = !at_b[i] || test_rand_below(&rng, 2) == 0;
		enum svr_test_outcome o;

		l->base.now_ns += 1000000;
		if (svr_test_links_model_churn(l, &rng, r))
			continue;
		if (m->before_send != NULL)
			m->before_send(l, &rng);
		snprintf(data, sizeof(data), "SECRET-%d-%u-%s", step, i, from_a ? "a" : "b");
		if (tcp)
			o = svr_test_links_tcp_send(l, from_a, cport, opened[i] ? 0x18 : 0x02,
			    opened[i] ? data : NULL, NULL);
		else
			o = svr_test_links_udp_send(l, from_a, cport, data, NULL);
		assert_int_not_equal(o, SVR_TEST_DROPPED);
		if (!opened[i]) {
			opened[i] = true;
			n_open++;
		}
		if (o == SVR_TEST_DELIVERED) {
			delivered++;
			if (from_a && !at_b[i]) {
				at_b[i] = true;
				n_at_b++;
			}
		} else {
			lost++;
			assert_true(l->link_dead[l->wire_path]);
		}
		assert_int_equal(session_table_count(l->base.a.rt.sessions), n_open);
		assert_int_equal(session_table_count(l->base.b.rt.sessions), n_at_b);
		if (m->after_send != NULL)
			m->after_send(l, tcp, n_open);
		svr_test_links_model_drops_check(l, step);
	}
	print_message("# delivered %u lost %u migrations %llu rebinds %llu udp %llu tcp %llu\n",
	    delivered, lost, (unsigned long long)l->base.a.rt.stats.migrations,
	    (unsigned long long)l->base.b.rt.stats.rebinds, (unsigned long long)l->wire_udp,
	    (unsigned long long)l->wire_tcp);
	assert_true(l->base.a.rt.stats.migrations > 0);
	assert_true(l->base.b.rt.stats.rebinds > 0);
	for (unsigned i = 0; i < m->flows; i++) {
		struct session *a, *b;

		if (!at_b[i])
			continue;
		a = svr_test_session_of(&l->base.a, (uint16_t)(41000 + i), NULL);
		b = svr_test_session_of(&l->base.b, (uint16_t)(41000 + i), NULL);
		assert_non_null(a);
		assert_non_null(b);
		assert_memory_equal(a->uuid, b->uuid, 16);
		if (m->flow_check != NULL)
			m->flow_check(a, b);
	}
}
