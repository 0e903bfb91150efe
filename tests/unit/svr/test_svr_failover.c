/*
 * Failover of SVR sessions between two paths of one peer (svr-profile section 7):
 *
 *                      path 0: 203.0.113.1   ==== link 0 ==== 198.51.100.2
 *   host A -- router A                                                      router B -- host B
 *   10.0.1.10          path 1: 203.0.113.101 ==== link 1 ==== 198.51.100.102      10.0.2.20
 *                      path 2 (A only): 203.0.113.1 -> 192.0.2.3, another peer
 *
 * A is the ingress of every session. Marking a path down sets its state at both routers
 * (what the worker does when the prober says so) and cuts its link (packets sent on it
 * are lost). Every test runs with security off and on; every delivered host packet must
 * be the sent one byte for byte, and no router may count a drop that the test did not
 * cause on purpose.
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
#include "pkt/pkt_parse.h"
#include "session/session_table.h"
#include "svr/svr_keys.h"
#include "svr/svr_meta.h"
#include "svr/svr_transform.h"
#include "svr/svr_waypoint.h"
#include "svr_test_lab.h"
#include "test_rand.h"

#define IDX_A      0x11111101u /* A's receive index */
#define IDX_B      0x22222202u /* B's receive index */
#define NPATHS     3
#define PEER_C     1
#define PORT_OF(k) (SVR_TEST_WAN_PORT + (k))

enum outcome {
	DELIVERED,
	LOST,
	DROPPED
};

struct flab {
	struct svr_test_lab base;
	bool security;
	struct svr_path paths[2][NPATHS]; /* [0] router A's, [1] router B's */
	bool link_dead[NPATHS];
	/* path_pick policy: prefer path `prefer` when it is up (revert), else any up path */
	uint16_t prefer;
	bool revert_udp; /* may UDP sessions go back to the preferred path */
	bool pick_drop;  /* the policy drops when nothing is up */
	unsigned picks;
	uint8_t wire[4096]; /* the last data packet on a link */
	size_t wire_len;
	uint16_t wire_path;
};

static struct flab the_lab;

static const char *
wp(const struct flab *f, bool a, int path)
{
	bool v4 = f->base.wan_family == ADDR_FAMILY_V4;

	if (path == 0)
		return svr_test_waypoint_addr(&f->base, a);
	if (path == 1)
		return v4 ? (a ? "203.0.113.101" : "198.51.100.102") :
		            (a ? "2001:db8:ff::101" : "2001:db8:ff::102");
	return v4 ? "192.0.2.3" : "2001:db8:cc::3";
}

static uint16_t
pick(struct svr_router *rt, const struct session *s, void *arg)
{
	struct flab *f = arg;
	const struct svr_path *paths = rt->paths;

	f->picks++;
	if (paths[f->prefer].state == SVR_PATH_UP && f->prefer != s->path_id &&
	    (f->revert_udp || s->lan_key.proto != IPPROTO_UDP ||
	        paths[s->path_id].state != SVR_PATH_UP))
		return f->prefer;
	for (uint16_t k = 0; k < 2; k++)
		if (k != s->path_id && paths[k].state == SVR_PATH_UP)
			return paths[s->path_id].state == SVR_PATH_UP ? SVR_PATH_NONE : k;
	return f->pick_drop ? SVR_PATH_DROP : SVR_PATH_NONE;
}

static void
free_ctx(struct crypto_aead *c)
{
	crypto_aead_free(c);
}

static struct crypto_aead *
aead_of(uint8_t fill)
{
	uint8_t key[32];
	struct crypto_aead *c;

	memset(key, fill, sizeof(key));
	assert_int_equal(crypto_aead_new(CRYPTO_AEAD_AES_256_GCM, key, &c), 0);
	return c;
}

static int
flab_setup(void **state, uint8_t family, bool security)
{
	struct flab *f = &the_lab;

	memset(f, 0, sizeof(*f));
	f->security = security;
	svr_test_lab_init(&f->base, family, family, 256, 11, security);
	for (int r = 0; r < 2; r++) {
		struct svr_test_router *tr = r == 0 ? &f->base.a : &f->base.b;

		f->paths[r][0] = tr->path;
		for (int k = 1; k < NPATHS; k++) {
			struct svr_path *p = &f->paths[r][k];

			assert_int_equal(addr_parse(wp(f, r == 0, k), &p->local), 0);
			assert_int_equal(addr_parse(wp(f, r != 0, k), &p->remote), 0);
			if (k == 2) /* A's path to peer C: its remote is C */
				assert_int_equal(addr_parse(wp(f, false, 2), &p->remote), 0);
			p->wan_zone = (uint16_t)(SESSION_ZONE_WAN | (k + 1));
			p->wan_port = PORT_OF(k);
			p->ports = svr_waypoint_ports_new(SVR_WAYPOINT_PORT_FIRST, 65535);
			assert_non_null(p->ports);
			p->peer_id = k == 2 ? PEER_C : 0;
		}
		f->paths[r][2].local = f->paths[r][0].local;
		tr->rt.paths = f->paths[r];
		tr->rt.path_count = r == 0 ? NPATHS : 2;
		tr->rt.path_pick = pick;
		tr->rt.path_pick_arg = f;
	}
	if (security) {
		free_ctx(svr_peer_keys_install_send(&f->base.a.keys[0], IDX_B, aead_of(0xab)));
		free_ctx(svr_peer_keys_install_recv(&f->base.b.keys[0], IDX_B, aead_of(0xab)));
		free_ctx(svr_peer_keys_install_send(&f->base.b.keys[0], IDX_A, aead_of(0xba)));
		free_ctx(svr_peer_keys_install_recv(&f->base.a.keys[0], IDX_A, aead_of(0xba)));
	}
	*state = f;
	return 0;
}

static int
setup_clear(void **state)
{
	return flab_setup(state, ADDR_FAMILY_V4, false);
}
static int
setup_secure(void **state)
{
	return flab_setup(state, ADDR_FAMILY_V4, true);
}
static int
setup_secure_v6(void **state)
{
	return flab_setup(state, ADDR_FAMILY_V6, true);
}

static int
flab_teardown(void **state)
{
	struct flab *f = *state;

	for (int r = 0; r < 2; r++)
		for (int k = 1; k < NPATHS; k++)
			svr_waypoint_ports_free(f->paths[r][k].ports);
	svr_test_lab_fini(&f->base);
	return 0;
}

/* The worker's reaction to the prober: path k is down (or up) at both routers. */
static void
path_set(struct flab *f, int k, bool up)
{
	f->paths[0][k].state = up ? SVR_PATH_UP : SVR_PATH_DOWN;
	f->paths[1][k].state = up ? SVR_PATH_UP : SVR_PATH_DOWN;
	f->link_dead[k] = !up;
}

/* A wire packet arrives at router r over path k: the host packet, or NULL. */
static struct pkt_buf *
wan_in(struct flab *f, struct svr_test_router *r, struct pkt_buf *p, uint16_t k,
    enum svr_verdict *out)
{
	enum pkt_drop_reason reason;
	enum svr_verdict v = SVR_VERDICT_DROP;

	if (pkt_parse(p, &reason) == 0) {
		svr_wan_rx_burst(&r->rt, &p, 1, f->paths[r == &f->base.a ? 0 : 1][k].wan_zone, &v,
		    f->base.now_ns);
		if (v == SVR_VERDICT_NEW_SESSION) {
			struct svr_accept accept = {.path_id = k, .encrypt = r->encrypt};
			struct svr_meta m;

			v = SVR_VERDICT_DROP;
			if (svr_wan_decode(&r->rt, p, &m) == 0)
				v = svr_wan_first(&r->rt, p, &m, &accept, f->base.now_ns);
		}
	}
	if (out != NULL)
		*out = v;
	if (v != SVR_VERDICT_TO_LAN) {
		pkt_pool_put(f->base.pool, p);
		return NULL;
	}
	return p;
}

/* Control packets each router originated cross their links; returns those delivered. */
static unsigned
ctrl_deliver(struct flab *f)
{
	struct svr_test_router *from[2] = {&f->base.a, &f->base.b},
	                       *to[2] = {&f->base.b, &f->base.a};
	unsigned delivered = 0;

	for (int i = 0; i < 2; i++) {
		unsigned n = from[i]->rt.ctrl_out_count;
		struct pkt_buf *c[SVR_CTRL_OUT_MAX];

		memcpy(c, from[i]->rt.ctrl_out, n * sizeof(c[0]));
		from[i]->rt.ctrl_out_count = 0;
		for (unsigned j = 0; j < n; j++) {
			uint16_t k = (uint16_t)(c[j]->port - SVR_TEST_WAN_PORT);
			enum svr_verdict v;

			assert_true(k < 2);
			if (f->link_dead[k]) {
				pkt_pool_put(f->base.pool, c[j]);
				continue;
			}
			assert_null(wan_in(f, to[i], c[j], k, &v));
			delivered += v == SVR_VERDICT_CONSUMED;
		}
	}
	return delivered;
}

/*
 * A host packet from A or B through both routers. DELIVERED (checked byte for byte),
 * LOST (sent on a dead link) or DROPPED (by a router). *path: the link it took.
 */
static enum outcome
xmit(struct flab *f, bool from_a, uint8_t proto, const uint8_t *l4, size_t l4_len, int *path)
{
	struct svr_test_router *tx = from_a ? &f->base.a : &f->base.b;
	struct svr_test_router *rx = from_a ? &f->base.b : &f->base.a;
	uint8_t sent[2048];
	size_t len = svr_test_host_packet(&f->base, sent, from_a, proto, l4, l4_len);
	struct pkt_buf *p = pkt_pool_get(f->base.pool), *h;
	enum pkt_drop_reason reason;
	enum svr_verdict v;
	uint16_t k;

	assert_non_null(p);
	assert_int_equal(pkt_buf_set(p, sent, len), 0);
	assert_int_equal(pkt_parse(p, &reason), 0);
	svr_test_router_lan(&f->base, tx, &p, 1, &v);
	if (path != NULL)
		*path = -1;
	if (v != SVR_VERDICT_TO_WAN) {
		pkt_pool_put(f->base.pool, p);
		ctrl_deliver(f);
		return DROPPED;
	}
	k = (uint16_t)(p->port - SVR_TEST_WAN_PORT);
	assert_true(k < 2);
	if (path != NULL)
		*path = k;
	memcpy(f->wire, p->buf + p->head, p->len);
	f->wire_len = p->len;
	f->wire_path = k;
	if (f->link_dead[k]) {
		pkt_pool_put(f->base.pool, p);
		ctrl_deliver(f);
		return LOST;
	}
	h = wan_in(f, rx, p, k, NULL);
	if (h == NULL) {
		ctrl_deliver(f);
		return DROPPED;
	}
	assert_int_equal(h->len, len);
	assert_memory_equal(h->buf + h->head, sent, len);
	pkt_pool_put(f->base.pool, h);
	ctrl_deliver(f);
	return DELIVERED;
}

static const char req[] = "GET /SECRET HTTP/1.1\r\n\r\n";
static const char resp[] = "HTTP/1.1 200 OK\r\n\r\nSECRET body";

static enum outcome
tcp_send(struct flab *f, bool from_a, uint16_t cport, uint8_t flags, const char *data, int *path)
{
	uint8_t l4[512];
	size_t n = data != NULL ? strlen(data) : 0;
	size_t len = from_a ? svr_test_tcp_segment(l4, cport, 80, 1001, 9001, flags, data, n) :
	                      svr_test_tcp_segment(l4, 80, cport, 9001, 1001, flags, data, n);

	return xmit(f, from_a, IPPROTO_TCP, l4, len, path);
}

static enum outcome
udp_send(struct flab *f, bool from_a, uint16_t cport, const char *data, int *path)
{
	uint8_t l4[512];
	size_t len = from_a ? svr_test_udp_datagram(l4, cport, 5004, data, strlen(data)) :
	                      svr_test_udp_datagram(l4, 5004, cport, data, strlen(data));

	return xmit(f, from_a, IPPROTO_UDP, l4, len, path);
}

/* The session of router r whose LAN tuple has the client port (A's or B's view). */
static struct session *
session_of(struct svr_test_router *r, uint16_t cport, uint32_t *index)
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

static bool
contains(const uint8_t *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return true;
	return false;
}

static uint64_t
drops(const struct flab *f)
{
	return svr_test_drops_total(&f->base.a) + svr_test_drops_total(&f->base.b);
}

static uint32_t
in_use(const struct flab *f, int k)
{
	return svr_waypoint_ports_in_use(f->paths[0][k].ports);
}

/* A TCP connection (client port 50000) and a UDP flow (40000), both ways, on path 0. */
static void
flows_open(struct flab *f)
{
	int path;

	assert_int_equal(tcp_send(f, true, 50000, 0x02, NULL, &path), DELIVERED);
	assert_int_equal(path, 0);
	assert_int_equal(tcp_send(f, false, 50000, 0x12, NULL, &path), DELIVERED);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(tcp_send(f, true, 50000, 0x18, req, &path), DELIVERED);
		assert_int_equal(tcp_send(f, false, 50000, 0x18, resp, &path), DELIVERED);
		assert_int_equal(path, 0);
		assert_int_equal(udp_send(f, true, 40000, "SECRET-ping", &path), DELIVERED);
		assert_int_equal(udp_send(f, false, 40000, "SECRET-pong", &path), DELIVERED);
		assert_int_equal(path, 0);
	}
	assert_int_equal(in_use(f, 0), 2);
	assert_int_equal(in_use(f, 1), 0);
	assert_int_equal(session_table_count(f->base.a.rt.sessions), 2);
	assert_int_equal(session_table_count(f->base.b.rt.sessions), 2);
	assert_int_equal(drops(f), 0);
}

/* Both routers agree on the session's UUID and path. */
static void
assert_same_session(struct flab *f, uint16_t cport, uint16_t path)
{
	struct session *a = session_of(&f->base.a, cport, NULL);
	struct session *b = session_of(&f->base.b, cport, NULL);

	assert_non_null(a);
	assert_non_null(b);
	assert_memory_equal(a->uuid, b->uuid, sizeof(a->uuid));
	assert_int_equal(a->path_id, path);
	assert_int_equal(b->path_id, path);
}

/* Forward metadata with this UUID is on the wire (readable only without security). */
static void
assert_wire_forward_meta(struct flab *f, const uint8_t uuid[16])
{
	struct pkt_info info;
	enum pkt_drop_reason reason;
	struct svr_meta m;
	size_t block_len;

	if (f->security) {
		assert_false(contains(f->wire, f->wire_len, "SECRET"));
		return;
	}
	assert_int_equal(pkt_parse_bytes(f->wire, f->wire_len, &info, &reason), 0);
	assert_int_equal(svr_meta_decode(f->wire + info.payload_off, info.ip_len - info.payload_off,
	                     &m, &block_len, &reason),
	    0);
	assert_true(m.present & SVR_META_F_FWD_CTX);
	assert_true(m.present & SVR_META_F_UUID);
	assert_memory_equal(m.uuid, uuid, 16);
}

/* The next forward packet of a session on a dead path moves it; the egress re-binds. */
static void
test_failover_lazy_moves_on_next_packet(void **state)
{
	struct flab *f = *state;
	uint8_t uuid_tcp[16], uuid_udp[16];
	size_t hdr = f->base.wan_family == ADDR_FAMILY_V4 ? 20 : 40;
	int path;

	flows_open(f);
	memcpy(uuid_tcp, session_of(&f->base.a, 50000, NULL)->uuid, 16);
	memcpy(uuid_udp, session_of(&f->base.a, 40000, NULL)->uuid, 16);
	path_set(f, 0, false);
	/* The egress can not move a session: its answer goes into the dead path. */
	assert_int_equal(tcp_send(f, false, 50000, 0x18, resp, &path), LOST);
	assert_int_equal(path, 0);
	assert_int_equal(f->base.b.rt.stats.down_path_tx, 1);
	/* The client's next segment moves the session and carries forward metadata. */
	assert_int_equal(tcp_send(f, true, 50000, 0x18, req, &path), DELIVERED);
	assert_int_equal(path, 1);
	assert_wire_forward_meta(f, uuid_tcp);
	assert_int_equal(f->base.a.rt.stats.migrations, 1);
	assert_int_equal(f->base.b.rt.stats.rebinds, 1);
	assert_same_session(f, 50000, 1);
	assert_memory_equal(session_of(&f->base.b, 50000, NULL)->uuid, uuid_tcp, 16);
	/* The server's retransmission leaves by the new path, encrypted. */
	assert_int_equal(tcp_send(f, false, 50000, 0x18, resp, &path), DELIVERED);
	assert_int_equal(path, 1);
	if (f->security)
		assert_false(contains(f->wire, f->wire_len, "SECRET"));
	/* UDP: the server talks first here; it is lost until the client moves the flow. */
	assert_int_equal(udp_send(f, false, 40000, "SECRET-pong", &path), LOST);
	assert_int_equal(udp_send(f, true, 40000, "SECRET-ping", &path), DELIVERED);
	assert_int_equal(path, 1);
	assert_wire_forward_meta(f, uuid_udp);
	assert_int_equal(udp_send(f, false, 40000, "SECRET-pong", &path), DELIVERED);
	assert_int_equal(path, 1);
	assert_same_session(f, 40000, 1);
	/* Steady state again: the handshake is over, only the payload (and trailer). */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(tcp_send(f, true, 50000, 0x18, req, &path), DELIVERED);
		assert_int_equal(path, 1);
		assert_int_equal(udp_send(f, false, 40000, "SECRET-pong", &path), DELIVERED);
		assert_int_equal(path, 1);
	}
	assert_int_equal(tcp_send(f, true, 50000, 0x18, req, &path), DELIVERED);
	assert_int_equal(f->wire_len,
	    hdr + 20 + strlen(req) + (f->security ? CRYPTO_AEAD_TRAILER_LEN : 0));
	assert_int_equal(udp_send(f, true, 40000, "SECRET-ping", &path), DELIVERED);
	assert_int_equal(f->wire_len,
	    hdr + 8 + strlen("SECRET-ping") + (f->security ? CRYPTO_AEAD_TRAILER_LEN : 0));
	if (f->security) {
		assert_false(contains(f->wire, f->wire_len, "SECRET"));
		assert_true(f->base.b.rt.stats.payload_opened > 0);
		assert_true(f->base.a.rt.stats.payload_opened > 0);
	}
	assert_int_equal(f->base.a.rt.stats.migrations, 2);
	assert_int_equal(f->base.b.rt.stats.rebinds, 2);
	assert_int_equal(session_table_count(f->base.a.rt.sessions), 2);
	assert_int_equal(session_table_count(f->base.b.rt.sessions), 2);
	assert_int_equal(in_use(f, 0), 0);
	assert_int_equal(in_use(f, 1), 2);
	if (drops(f) != 0)
		svr_test_drops_print(&f->base);
	assert_int_equal(drops(f), 0);
}

/*
 * An idle session (a download: only the server talks) moves by the sweep alone: the
 * keep-alive with forward metadata re-binds it, and the server's packets take path 1.
 */
static void
test_failover_sweep_moves_idle_sessions(void **state)
{
	struct flab *f = *state;
	size_t hdr = f->base.wan_family == ADDR_FAMILY_V4 ? 20 : 40;
	unsigned moved = 0, calls = 0;
	uint64_t ctrl_rx;
	int path;

	flows_open(f);
	ctrl_rx = f->base.b.rt.stats.control_rx;
	path_set(f, 0, false);
	/* Budget 1: the pass is resumable and visits each session once. */
	while (calls == 0 || !svr_sessions_migrate_done(&f->base.a.rt, 0)) {
		unsigned n = svr_sessions_migrate_path(&f->base.a.rt, 0, 1, f->base.now_ns);

		assert_true(n <= 1);
		assert_int_equal(ctrl_deliver(f), n);
		moved += n;
		assert_true(++calls < 10);
	}
	assert_int_equal(moved, 2);
	assert_true(calls >= 2);
	assert_int_equal(f->base.a.rt.stats.migrations, 2);
	assert_int_equal(f->base.b.rt.stats.rebinds, 2);
	assert_int_equal(f->base.b.rt.stats.control_rx, ctrl_rx + 2);
	assert_same_session(f, 50000, 1);
	assert_same_session(f, 40000, 1);
	/* The server talks; the client stays silent. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(tcp_send(f, false, 50000, 0x18, resp, &path), DELIVERED);
		assert_int_equal(path, 1);
		assert_int_equal(udp_send(f, false, 40000, "SECRET-stream", &path), DELIVERED);
		assert_int_equal(path, 1);
		if (f->security)
			assert_false(contains(f->wire, f->wire_len, "SECRET"));
	}
	/* The reverse metadata ended the forward metadata: the client's packet is plain. */
	assert_int_equal(udp_send(f, true, 40000, "SECRET-ping", &path), DELIVERED);
	assert_int_equal(f->wire_len, hdr + 8 + 11 + (f->security ? 24 : 0));
	assert_int_equal(session_table_count(f->base.b.rt.sessions), 2);
	assert_int_equal(in_use(f, 0), 0);
	assert_int_equal(in_use(f, 1), 2);
	assert_int_equal(drops(f), 0);
}

/* The preferred path is back after its hold-down: revertible sessions go back. */
static void
test_failover_revert_after_hold_down(void **state)
{
	struct flab *f = *state;
	unsigned moved;
	int path;

	flows_open(f);
	path_set(f, 0, false);
	moved = svr_sessions_migrate_path(&f->base.a.rt, 0, 100, f->base.now_ns);
	assert_int_equal(moved, 2);
	assert_true(svr_sessions_migrate_done(&f->base.a.rt, 0));
	assert_int_equal(ctrl_deliver(f), 2);
	/* Path 0 is good again: TCP is revertible here, UDP is not. */
	path_set(f, 0, true);
	f->prefer = 0;
	f->revert_udp = false;
	moved = svr_sessions_migrate_path(&f->base.a.rt, 1, 100, f->base.now_ns);
	assert_int_equal(moved, 1);
	assert_int_equal(ctrl_deliver(f), 1);
	assert_same_session(f, 50000, 0);
	assert_same_session(f, 40000, 1);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(tcp_send(f, true, 50000, 0x18, req, &path), DELIVERED);
		assert_int_equal(path, 0);
		assert_int_equal(tcp_send(f, false, 50000, 0x18, resp, &path), DELIVERED);
		assert_int_equal(path, 0);
		assert_int_equal(udp_send(f, true, 40000, "SECRET-ping", &path), DELIVERED);
		assert_int_equal(path, 1);
		assert_int_equal(udp_send(f, false, 40000, "SECRET-pong", &path), DELIVERED);
		assert_int_equal(path, 1);
	}
	assert_int_equal(f->base.a.rt.stats.migrations, 3);
	assert_int_equal(f->base.b.rt.stats.rebinds, 3);
	assert_int_equal(in_use(f, 0), 1);
	assert_int_equal(in_use(f, 1), 1);
	assert_int_equal(session_table_count(f->base.b.rt.sessions), 2);
	assert_int_equal(drops(f), 0);
}

/* What svr_session_migrate() refuses, and that a refusal changes nothing. */
static void
test_failover_migrate_refusals(void **state)
{
	struct flab *f = *state;
	uint32_t ia = 0, ib = 0;
	struct session *s;

	flows_open(f);
	s = session_of(&f->base.a, 50000, &ia);
	assert_non_null(session_of(&f->base.b, 50000, &ib));
	assert_int_equal(svr_session_migrate(&f->base.a.rt, ia, 2, f->base.now_ns), -EXDEV);
	assert_int_equal(svr_session_migrate(&f->base.a.rt, ia, 0, f->base.now_ns), -EALREADY);
	assert_int_equal(svr_session_migrate(&f->base.a.rt, ia, 7, f->base.now_ns), -EINVAL);
	assert_int_equal(svr_session_migrate(&f->base.b.rt, ib, 1, f->base.now_ns), -EPERM);
	assert_int_equal(svr_session_migrate(&f->base.a.rt, 1000, 1, f->base.now_ns), -ENOENT);
	assert_int_equal(s->path_id, 0);
	assert_int_equal(f->base.a.rt.stats.migrations, 0);
	assert_int_equal(f->base.a.rt.stats.migrate_failures, 2);
	assert_int_equal(in_use(f, 0), 2);
	assert_int_equal(in_use(f, 1), 0);
	assert_int_equal(svr_waypoint_ports_in_use(f->paths[0][2].ports), 0);
	/* Nothing free on path 1: -EADDRNOTAVAIL, and the session stays on path 0. */
	{
		struct svr_waypoint_ports *full = svr_waypoint_ports_new(30000, 30001);
		struct svr_waypoint_ports *keep = f->paths[0][1].ports;
		uint16_t l, p;

		assert_int_equal(svr_waypoint_ports_get(full, &l, &p), 0);
		f->paths[0][1].ports = full;
		assert_int_equal(svr_session_migrate(&f->base.a.rt, ia, 1, f->base.now_ns),
		    -EADDRNOTAVAIL);
		f->paths[0][1].ports = keep;
		svr_waypoint_ports_free(full);
	}
	assert_int_equal(s->path_id, 0);
	/* A direct migration sends nothing; the next packet carries the metadata. */
	assert_int_equal(svr_session_migrate(&f->base.a.rt, ia, 1, f->base.now_ns), 0);
	assert_int_equal(f->base.a.rt.ctrl_out_count, 0);
	assert_int_equal(in_use(f, 0), 1);
	assert_int_equal(in_use(f, 1), 1);
	assert_int_equal(tcp_send(f, true, 50000, 0x18, req, NULL), DELIVERED);
	assert_same_session(f, 50000, 1);
	assert_int_equal(drops(f), 0);
}

/* No path left: the session stays (packets leave by the dead path) or the policy drops. */
static void
test_failover_no_path_keeps_or_drops(void **state)
{
	struct flab *f = *state;
	int path;

	flows_open(f);
	path_set(f, 0, false);
	path_set(f, 1, false);
	assert_int_equal(tcp_send(f, true, 50000, 0x18, req, &path), LOST);
	assert_int_equal(path, 0);
	assert_int_equal(f->base.a.rt.stats.down_path_tx, 1);
	assert_int_equal(f->base.a.rt.stats.migrations, 0);
	f->pick_drop = true;
	assert_int_equal(udp_send(f, true, 40000, "SECRET-ping", &path), DROPPED);
	assert_int_equal(f->base.a.drops.count[PKT_DROP_SVR_NO_PATH], 1);
	/* The sweep has no packet to drop: the sessions stay. */
	assert_int_equal(svr_sessions_migrate_path(&f->base.a.rt, 0, 100, f->base.now_ns), 0);
	assert_int_equal(f->base.a.rt.ctrl_out_count, 0);
	/* Path 1 comes back: the next packet moves the session. */
	path_set(f, 1, true);
	assert_int_equal(udp_send(f, true, 40000, "SECRET-ping", &path), DELIVERED);
	assert_int_equal(path, 1);
	assert_same_session(f, 40000, 1);
	assert_int_equal(drops(f), 1);
}

/* The egress refuses to let another peer's packet re-bind a session. */
static void
test_failover_rebind_from_other_peer_conflicts(void **state)
{
	struct flab *f = *state;
	int path;

	flows_open(f);
	/* At B, path 1 now leads to another peer: what comes over it is not this session. */
	f->paths[1][1].peer_id = PEER_C;
	path_set(f, 0, false);
	assert_int_equal(udp_send(f, true, 40000, "SECRET-ping", &path), DROPPED);
	assert_int_equal(path, 1);
	assert_int_equal(f->base.b.drops.count[PKT_DROP_SVR_SESSION_CONFLICT], 1);
	assert_int_equal(f->base.b.rt.stats.rebinds, 0);
	assert_int_equal(session_of(&f->base.b, 40000, NULL)->path_id, 0);
	assert_int_equal(session_table_count(f->base.b.rt.sessions), 2);
	assert_int_equal(drops(f), 1);
}

/*
 * Randomized: flows open and talk both ways while paths go down and up and sweeps run.
 * Every delivered packet is intact (xmit checks), packets are lost only on dead links,
 * no router counts a drop but svr-control-no-session, and neither router ever holds more
 * than one session per flow. That one is expected on either side: a keep-alive for a
 * session whose first packet was lost finds nothing to re-bind at B, and an ack that B
 * owed from an earlier burst leaves (at the start of B's next WAN burst) on the old tuple
 * just before B reads the keep-alive that moves the session, so A no longer knows it.
 */
#define MODEL_FLOWS 12
static void
test_failover_random_model(void **state)
{
	struct flab *f = *state;
	uint64_t rng = test_seed();
	bool opened[MODEL_FLOWS] = {0}, at_b[MODEL_FLOWS] = {0};
	unsigned n_open = 0, n_at_b = 0, lost = 0, delivered = 0;
	char data[64];

	f->revert_udp = true;
	for (int step = 0; step < 3000; step++) {
		unsigned r = (unsigned)test_rand_below(&rng, 100);
		unsigned i = (unsigned)test_rand_below(&rng, MODEL_FLOWS);
		bool tcp = i % 2 == 0;
		uint16_t cport = (uint16_t)(41000 + i);
		bool from_a = !at_b[i] || test_rand_below(&rng, 2) == 0;
		enum outcome o;

		f->base.now_ns += 1000000;
		if (r < 4) {
			int k = (int)test_rand_below(&rng, 2);

			path_set(f, k, f->link_dead[k]);
			continue;
		}
		if (r < 8) {
			uint16_t k = (uint16_t)test_rand_below(&rng, 2);

			f->prefer = (uint16_t)test_rand_below(&rng, 2);
			svr_sessions_migrate_path(&f->base.a.rt, k,
			    (unsigned)test_rand_below(&rng, 8) + 1, f->base.now_ns);
			ctrl_deliver(f);
			continue;
		}
		snprintf(data, sizeof(data), "SECRET-%d-%u-%s", step, i, from_a ? "a" : "b");
		if (tcp)
			o = tcp_send(f, from_a, cport, opened[i] ? 0x18 : 0x02,
			    opened[i] ? data : NULL, NULL);
		else
			o = udp_send(f, from_a, cport, data, NULL);
		assert_int_not_equal(o, DROPPED);
		if (!opened[i]) {
			opened[i] = true;
			n_open++;
		}
		if (o == DELIVERED) {
			delivered++;
			if (from_a && !at_b[i]) {
				at_b[i] = true;
				n_at_b++;
			}
		} else {
			lost++;
			assert_true(f->link_dead[f->wire_path]);
		}
		assert_int_equal(session_table_count(f->base.a.rt.sessions), n_open);
		assert_int_equal(session_table_count(f->base.b.rt.sessions), n_at_b);
		assert_int_equal(in_use(f, 0) + in_use(f, 1), n_open);
		if (drops(f) !=
		    f->base.a.drops.count[PKT_DROP_SVR_CONTROL_NO_SESSION] +
		        f->base.b.drops.count[PKT_DROP_SVR_CONTROL_NO_SESSION]) {
			svr_test_drops_print(&f->base);
			fail_msg("step %d: a router dropped", step);
		}
	}
	print_message("# delivered %u lost %u migrations %llu rebinds %llu\n", delivered, lost,
	    (unsigned long long)f->base.a.rt.stats.migrations,
	    (unsigned long long)f->base.b.rt.stats.rebinds);
	assert_true(f->base.a.rt.stats.migrations > 0);
	assert_true(f->base.b.rt.stats.rebinds > 0);
	for (unsigned i = 0; i < MODEL_FLOWS; i++) {
		struct session *a, *b;

		if (!at_b[i])
			continue;
		a = session_of(&f->base.a, (uint16_t)(41000 + i), NULL);
		b = session_of(&f->base.b, (uint16_t)(41000 + i), NULL);
		assert_non_null(a);
		assert_non_null(b);
		assert_memory_equal(a->uuid, b->uuid, 16);
		assert_int_equal(a->path_id, b->path_id);
	}
}

#define FAILOVER_TESTS(setup)                                                                      \
	cmocka_unit_test_setup_teardown(test_failover_lazy_moves_on_next_packet, setup,            \
	    flab_teardown),                                                                        \
	    cmocka_unit_test_setup_teardown(test_failover_sweep_moves_idle_sessions, setup,        \
	        flab_teardown),                                                                    \
	    cmocka_unit_test_setup_teardown(test_failover_revert_after_hold_down, setup,           \
	        flab_teardown),                                                                    \
	    cmocka_unit_test_setup_teardown(test_failover_migrate_refusals, setup, flab_teardown), \
	    cmocka_unit_test_setup_teardown(test_failover_no_path_keeps_or_drops, setup,           \
	        flab_teardown),                                                                    \
	    cmocka_unit_test_setup_teardown(test_failover_rebind_from_other_peer_conflicts, setup, \
	        flab_teardown),                                                                    \
	    cmocka_unit_test_setup_teardown(test_failover_random_model, setup, flab_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    FAILOVER_TESTS(setup_clear),
	    FAILOVER_TESTS(setup_secure),
	    FAILOVER_TESTS(setup_secure_v6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
