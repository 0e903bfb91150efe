/*
 * The UDP transform (svr-profile section 5, docs/protocol.md "UDP transform"): TCP
 * sessions on a path whose middleboxes drop TCP SYNs with data travel as UDP.
 *
 *                      path 0: 203.0.113.1   ==== plain ======== 198.51.100.2
 *   host A -- router A                                                      router B -- host B
 *   10.0.1.10          path 1: 203.0.113.101 ==== UDP only ===== 198.51.100.102      10.0.2.20
 *
 * Only router A (the ingress) has udp_transform set on path 1: the egress follows what
 * arrives. Link 1 is a middlebox that lets no TCP through: a TCP packet sent on it is a
 * test failure, not a loss. Every test runs with security off and on, with hosts and
 * waypoints of the same family and of different families; every delivered host packet
 * must be the sent one byte for byte.
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
#include "pkt/pkt_csum.h"
#include "pkt/pkt_parse.h"
#include "session/session_table.h"
#include "svr/svr_keys.h"
#include "svr/svr_meta.h"
#include "svr/svr_seal.h"
#include "svr/svr_transform.h"
#include "svr/svr_waypoint.h"
#include "svr_test_lab.h"
#include "test_rand.h"

#define IDX_A      0x11111101u /* A's receive index */
#define IDX_B      0x22222202u /* B's receive index */
#define NPATHS     2
#define PORT_OF(k) (SVR_TEST_WAN_PORT + (k))

enum outcome {
	DELIVERED,
	LOST,
	DROPPED
};

struct ulab {
	struct svr_test_lab base;
	bool security;
	struct svr_path paths[2][NPATHS]; /* [0] router A's, [1] router B's */
	bool link_dead[NPATHS];
	uint16_t first_path; /* where A opens new sessions */
	uint16_t prefer;     /* path_pick: this one when it is up, else the other */
	/* Copies of the peers' keys that only read the wire (their replay windows are theirs). */
	struct svr_peer_keys inspect[2]; /* [0] opens what A sends, [1] what B sends */
	uint8_t wire[4096];              /* the last data packet on a link */
	size_t wire_len;
	uint16_t wire_path;
	bool wire_from_a;
	uint64_t wire_udp, wire_tcp; /* packets seen on the links, data and control */
};

static struct ulab the_lab;

static const char *
wp(const struct ulab *f, bool a, int path)
{
	bool v4 = f->base.wan_family == ADDR_FAMILY_V4;

	if (path == 0)
		return svr_test_waypoint_addr(&f->base, a);
	return v4 ? (a ? "203.0.113.101" : "198.51.100.102") :
	            (a ? "2001:db8:ff::101" : "2001:db8:ff::102");
}

static uint16_t
pick(struct svr_router *rt, const struct session *s, void *arg)
{
	struct ulab *f = arg;
	uint16_t other = (uint16_t)(1 - s->path_id);

	if (rt->paths[f->prefer].state == SVR_PATH_UP)
		return f->prefer == s->path_id ? SVR_PATH_NONE : f->prefer;
	return rt->paths[other].state == SVR_PATH_UP ? other : SVR_PATH_NONE;
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
ulab_setup(void **state, uint8_t family, uint8_t wan_family, bool security)
{
	struct ulab *f = &the_lab;

	memset(f, 0, sizeof(*f));
	f->security = security;
	svr_test_lab_init(&f->base, family, wan_family, 256, 7, security);
	for (int r = 0; r < 2; r++) {
		struct svr_test_router *tr = r == 0 ? &f->base.a : &f->base.b;
		struct svr_path *p = &f->paths[r][1];

		f->paths[r][0] = tr->path;
		assert_int_equal(addr_parse(wp(f, r == 0, 1), &p->local), 0);
		assert_int_equal(addr_parse(wp(f, r != 0, 1), &p->remote), 0);
		p->wan_zone = (uint16_t)(SESSION_ZONE_WAN | 2);
		p->wan_port = PORT_OF(1);
		p->ports = svr_waypoint_ports_new(SVR_WAYPOINT_PORT_FIRST, 65535);
		assert_non_null(p->ports);
		tr->rt.paths = f->paths[r];
		tr->rt.path_count = NPATHS;
		tr->rt.path_pick = pick;
		tr->rt.path_pick_arg = f;
	}
	f->paths[0][1].udp_transform = true; /* the ingress's configuration only */
	svr_peer_keys_init(&f->inspect[0]);
	svr_peer_keys_init(&f->inspect[1]);
	if (security) {
		crypto_aead_free(
		    svr_peer_keys_install_send(&f->base.a.keys[0], IDX_B, aead_of(0xab)));
		crypto_aead_free(
		    svr_peer_keys_install_recv(&f->base.b.keys[0], IDX_B, aead_of(0xab)));
		crypto_aead_free(
		    svr_peer_keys_install_send(&f->base.b.keys[0], IDX_A, aead_of(0xba)));
		crypto_aead_free(
		    svr_peer_keys_install_recv(&f->base.a.keys[0], IDX_A, aead_of(0xba)));
		crypto_aead_free(svr_peer_keys_install_recv(&f->inspect[0], IDX_B, aead_of(0xab)));
		crypto_aead_free(svr_peer_keys_install_recv(&f->inspect[1], IDX_A, aead_of(0xba)));
	}
	*state = f;
	return 0;
}

#define SETUP(name, fam, wan, sec)                                                                 \
	static int name(void **state)                                                              \
	{                                                                                          \
		return ulab_setup(state, fam, wan, sec);                                           \
	}
SETUP(setup_v4, ADDR_FAMILY_V4, ADDR_FAMILY_V4, false)
SETUP(setup_v6, ADDR_FAMILY_V6, ADDR_FAMILY_V6, false)
SETUP(setup_v4_over_v6, ADDR_FAMILY_V4, ADDR_FAMILY_V6, false)
SETUP(setup_v6_over_v4, ADDR_FAMILY_V6, ADDR_FAMILY_V4, false)
SETUP(setup_v4_sec, ADDR_FAMILY_V4, ADDR_FAMILY_V4, true)
SETUP(setup_v6_sec, ADDR_FAMILY_V6, ADDR_FAMILY_V6, true)
SETUP(setup_v4_over_v6_sec, ADDR_FAMILY_V4, ADDR_FAMILY_V6, true)
SETUP(setup_v6_over_v4_sec, ADDR_FAMILY_V6, ADDR_FAMILY_V4, true)

static int
ulab_teardown(void **state)
{
	struct ulab *f = *state;

	for (int r = 0; r < 2; r++)
		svr_waypoint_ports_free(f->paths[r][1].ports);
	svr_peer_keys_fini(&f->inspect[0]);
	svr_peer_keys_fini(&f->inspect[1]);
	svr_test_lab_fini(&f->base);
	return 0;
}

static void
path_set(struct ulab *f, int k, bool up)
{
	f->paths[0][k].state = up ? SVR_PATH_UP : SVR_PATH_DOWN;
	f->paths[1][k].state = up ? SVR_PATH_UP : SVR_PATH_DOWN;
	f->link_dead[k] = !up;
}

/* Every packet put on a link: count its carriage; the UDP-only link never sees TCP. */
static void
link_check(struct ulab *f, const struct pkt_buf *p, uint16_t k)
{
	struct pkt_info info;
	enum pkt_drop_reason reason;

	assert_int_equal(pkt_parse_bytes(p->buf + p->head, p->len, &info, &reason), 0);
	assert_int_equal(info.family, f->base.wan_family);
	if (info.l4_proto == IPPROTO_UDP)
		f->wire_udp++;
	else
		f->wire_tcp++;
	if (k == 1)
		assert_int_equal(info.l4_proto, IPPROTO_UDP);
}

static struct pkt_buf *
wan_in(struct ulab *f, struct svr_test_router *r, struct pkt_buf *p, uint16_t k,
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

static unsigned
ctrl_deliver(struct ulab *f)
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

			assert_true(k < NPATHS);
			link_check(f, c[j], k);
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

/* One host packet through router tx: new sessions of A open on f->first_path. */
static enum svr_verdict
lan_in(struct ulab *f, struct svr_test_router *tx, struct pkt_buf *p)
{
	enum svr_verdict v;

	svr_lan_rx_burst(&tx->rt, &p, 1, 0, &v, f->base.now_ns);
	if (v == SVR_VERDICT_NEW_SESSION) {
		struct svr_route route = {.path_id = f->first_path, .encrypt = tx->encrypt};

		v = svr_lan_first(&tx->rt, p, 0, &route, f->base.now_ns);
	}
	return v;
}

/* A host packet through both routers; DELIVERED is checked byte for byte. */
static enum outcome
xmit(struct ulab *f, bool from_a, uint8_t proto, const uint8_t *l4, size_t l4_len, int *path)
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
	v = lan_in(f, tx, p);
	if (path != NULL)
		*path = -1;
	if (v != SVR_VERDICT_TO_WAN) {
		pkt_pool_put(f->base.pool, p);
		ctrl_deliver(f);
		return DROPPED;
	}
	k = (uint16_t)(p->port - SVR_TEST_WAN_PORT);
	assert_true(k < NPATHS);
	if (path != NULL)
		*path = k;
	link_check(f, p, k);
	memcpy(f->wire, p->buf + p->head, p->len);
	f->wire_len = p->len;
	f->wire_path = k;
	f->wire_from_a = from_a;
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

/* The client's sequence numbers start at 1000, the server's at 9000. */
static size_t
tcp_build(uint8_t *l4, bool from_a, uint16_t cport, uint8_t flags, const char *data)
{
	size_t n = data != NULL ? strlen(data) : 0;

	return from_a ? svr_test_tcp_segment(l4, cport, 443, 1001, 9001, flags, data, n) :
	                svr_test_tcp_segment(l4, 443, cport, 9001, 1001, flags, data, n);
}

static enum outcome
tcp_send(struct ulab *f, bool from_a, uint16_t cport, uint8_t flags, const char *data, int *path)
{
	uint8_t l4[512];
	size_t len = tcp_build(l4, from_a, cport, flags, data);

	return xmit(f, from_a, IPPROTO_TCP, l4, len, path);
}

static enum outcome
udp_send(struct ulab *f, bool from_a, uint16_t cport, const char *data, int *path)
{
	uint8_t l4[512];
	size_t len = from_a ? svr_test_udp_datagram(l4, cport, 5004, data, strlen(data)) :
	                      svr_test_udp_datagram(l4, 5004, cport, data, strlen(data));

	return xmit(f, from_a, IPPROTO_UDP, l4, len, path);
}

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
drops(const struct ulab *f)
{
	return svr_test_drops_total(&f->base.a) + svr_test_drops_total(&f->base.b);
}

static void
assert_no_drops(const struct ulab *f)
{
	if (drops(f) != 0)
		svr_test_drops_print(&f->base);
	assert_int_equal(drops(f), 0);
}

/*
 * The last wire packet: its info, and its block decoded into *m (opened with a copy of
 * the receiver's key when sealed). Returns the block's wire length, 0 when none.
 */
static size_t
wire_meta(struct ulab *f, struct pkt_info *info, struct svr_meta *m, uint8_t *copy)
{
	enum pkt_drop_reason reason;
	size_t block_len = 0;

	memcpy(copy, f->wire, f->wire_len);
	assert_int_equal(pkt_parse_bytes(copy, f->wire_len, info, &reason), 0);
	if (!svr_meta_has_cookie(copy + info->payload_off, info->ip_len - info->payload_off))
		return 0;
	if (f->security) {
		struct svr_peer_keys *k = &f->inspect[f->wire_from_a ? 0 : 1];
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

/*
 * The last wire packet is the UDP transform of host segment l4 (l4_len bytes): UDP on
 * the session's waypoint ports, then the block (if any), then the host's TCP header byte
 * for byte, checksum included. Returns the block length.
 */
static size_t
assert_wire_carries(struct ulab *f, const uint8_t *l4, size_t l4_len, const struct session *s,
    struct svr_meta *m)
{
	uint8_t copy[4096];
	struct pkt_info info;
	size_t block_len = wire_meta(f, &info, m, copy), tcp_off, hl = (size_t)(l4[12] >> 4) * 4;

	assert_int_equal(info.l4_proto, IPPROTO_UDP);
	/* The session's WAN key is the tuple as received: its reverse is what is sent. */
	if (s->role == SESSION_ROLE_INGRESS) {
		assert_int_equal(info.sport, s->wan_key.dport);
		assert_int_equal(info.dport, s->wan_key.sport);
	}
	tcp_off = info.payload_off + block_len;
	assert_true(tcp_off + hl <= info.ip_len);
	assert_memory_equal(f->wire + tcp_off, l4, hl);
	if (!f->security || l4_len == hl) {
		assert_int_equal(info.ip_len, tcp_off + l4_len);
		assert_memory_equal(f->wire + tcp_off, l4, l4_len);
	}
	return block_len;
}

/* A TCP connection on the transformed path: handshake, then data both ways. */
static void
test_udpt_handshake_and_data(void **state)
{
	struct ulab *f = *state;
	size_t hdr = f->base.wan_family == ADDR_FAMILY_V4 ? 20 : 40;
	const uint16_t cport = 50000;
	struct session *sa, *sb;
	struct svr_meta m;
	uint8_t l4[512];
	size_t l4_len;
	int path;

	f->first_path = 1;
	/* SYN: forward metadata with a TCP context and TLV 12, then the TCP header. */
	assert_int_equal(tcp_send(f, true, cport, 0x02, NULL, &path), DELIVERED);
	assert_int_equal(path, 1);
	sa = session_of(&f->base.a, cport, NULL);
	sb = session_of(&f->base.b, cport, NULL);
	assert_non_null(sa);
	assert_non_null(sb);
	assert_true(sa->flags & SVR_SESSION_UDP_TRANSFORM);
	assert_true(sa->flags & SVR_SESSION_AS_UDP);
	assert_true(sb->flags & SVR_SESSION_UDP_TRANSFORM);
	assert_int_equal(sa->wan_key.proto, IPPROTO_UDP);
	assert_int_equal(sb->wan_key.proto, IPPROTO_UDP);
	assert_int_equal(sa->lan_key.proto, IPPROTO_TCP);
	assert_int_equal(sb->lan_key.proto, IPPROTO_TCP);
	l4_len = tcp_build(l4, true, cport, 0x02, NULL);
	{
		/* The segment as the host built it (with its checksum): rebuild to read it. */
		uint8_t pkt[2048];
		size_t n = svr_test_host_packet(&f->base, pkt, true, IPPROTO_TCP, l4, l4_len);

		memcpy(l4, pkt + (n - l4_len), l4_len);
	}
	assert_true(assert_wire_carries(f, l4, l4_len, sa, &m) > 0);
	assert_true(m.present & SVR_META_F_FWD_CTX);
	assert_int_equal(m.fwd_ctx.proto, IPPROTO_TCP);
	assert_int_equal(m.fwd_ctx.sport, cport);
	assert_int_equal(m.fwd_ctx.dport, 443);
	assert_true(m.present & SVR_META_F_TCP_SYN);
	/* SYN-ACK: back as UDP on the same path, reverse metadata and TLV 12. */
	assert_int_equal(tcp_send(f, false, cport, 0x12, NULL, &path), DELIVERED);
	assert_int_equal(path, 1);
	{
		uint8_t pkt[2048];
		size_t n;

		l4_len = tcp_build(l4, false, cport, 0x12, NULL);
		n = svr_test_host_packet(&f->base, pkt, false, IPPROTO_TCP, l4, l4_len);
		memcpy(l4, pkt + (n - l4_len), l4_len);
	}
	assert_true(assert_wire_carries(f, l4, l4_len, sb, &m) > 0);
	assert_true(m.present & SVR_META_F_TCP_SYN);
	assert_true(m.present & SVR_META_F_DISABLE_FWD_META);
	if (m.present & SVR_META_F_REV_CTX)
		assert_int_equal(m.rev_ctx.proto, IPPROTO_TCP);
	/* ACK and data: no TLV 12. */
	assert_int_equal(tcp_send(f, true, cport, 0x10, NULL, &path), DELIVERED);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(tcp_send(f, true, cport, 0x18, req, &path), DELIVERED);
		assert_int_equal(path, 1);
		if (wire_meta(f, &(struct pkt_info){0}, &m, (uint8_t[4096]){0}) > 0)
			assert_false(m.present & SVR_META_F_TCP_SYN);
		assert_int_equal(tcp_send(f, false, cport, 0x18, resp, &path), DELIVERED);
		assert_int_equal(path, 1);
		if (wire_meta(f, &(struct pkt_info){0}, &m, (uint8_t[4096]){0}) > 0)
			assert_false(m.present & SVR_META_F_TCP_SYN);
		if (f->security)
			assert_false(contains(f->wire, f->wire_len, "SECRET"));
	}
	/* Steady state: IP, UDP, the host's TCP header and payload (and the trailer). */
	assert_int_equal(tcp_send(f, true, cport, 0x18, req, &path), DELIVERED);
	assert_int_equal(f->wire_len,
	    hdr + 8 + 20 + strlen(req) + (f->security ? CRYPTO_AEAD_TRAILER_LEN : 0));
	assert_int_equal(tcp_send(f, false, cport, 0x18, resp, &path), DELIVERED);
	assert_int_equal(f->wire_len,
	    hdr + 8 + 20 + strlen(resp) + (f->security ? CRYPTO_AEAD_TRAILER_LEN : 0));
	/* A pure ACK carries no trailer: encryption covers the TCP payload only. */
	assert_int_equal(tcp_send(f, true, cport, 0x10, NULL, &path), DELIVERED);
	assert_int_equal(f->wire_len, hdr + 8 + 20);
	if (!f->security) {
		assert_int_equal(tcp_send(f, true, cport, 0x18, req, &path), DELIVERED);
		assert_int_equal(wire_meta(f, &(struct pkt_info){0}, &m, (uint8_t[4096]){0}), 0);
	} else {
		assert_true(f->base.a.rt.stats.payload_sealed > 0);
		assert_true(f->base.b.rt.stats.payload_opened > 0);
		assert_true(f->base.b.rt.stats.payload_sealed > 0);
		assert_true(f->base.a.rt.stats.payload_opened > 0);
	}
	assert_int_equal(f->wire_tcp, 0);
	assert_true(f->wire_udp >= 14);
	assert_int_equal(session_table_count(f->base.a.rt.sessions), 1);
	assert_int_equal(session_table_count(f->base.b.rt.sessions), 1);
	assert_no_drops(f);
}

/* A TLS session is sent clear by decision, as it would be on a plain path. */
static void
test_udpt_adaptive_decision_as_plain(void **state)
{
	struct ulab *f = *state;
	/* A TLS record header (no NUL byte: tcp_send takes a string), then "hello". */
	static const char hello[] = "\x16\x03\x03\x01\x05hello";
	struct svr_protection prot;
	int path;

	assert_true(f->security);
	f->first_path = 1;
	assert_int_equal(tcp_send(f, true, 50001, 0x02, NULL, &path), DELIVERED);
	assert_int_equal(tcp_send(f, false, 50001, 0x12, NULL, &path), DELIVERED);
	assert_int_equal(tcp_send(f, true, 50001, 0x18, hello, &path), DELIVERED);
	assert_true(contains(f->wire, f->wire_len, "hello"));
	svr_session_protection(session_of(&f->base.a, 50001, NULL), &prot);
	assert_true(prot.dir[SESSION_DIR_LAN_TO_WAN].decided);
	assert_false(prot.dir[SESSION_DIR_LAN_TO_WAN].encrypted);
	assert_string_equal(prot.dir[SESSION_DIR_LAN_TO_WAN].reason_name, "tls");
	assert_int_equal(f->wire_tcp, 0);
	assert_no_drops(f);
}

/* UDP sessions are unaffected by the path's transform: UDP stays UDP, header and all. */
static void
test_udpt_udp_sessions_unchanged(void **state)
{
	struct ulab *f = *state;
	int path;

	f->first_path = 1;
	assert_int_equal(udp_send(f, true, 40000, "SECRET-ping", &path), DELIVERED);
	assert_int_equal(path, 1);
	assert_false(session_of(&f->base.a, 40000, NULL)->flags & SVR_SESSION_UDP_TRANSFORM);
	assert_false(session_of(&f->base.b, 40000, NULL)->flags & SVR_SESSION_UDP_TRANSFORM);
	assert_int_equal(udp_send(f, false, 40000, "SECRET-pong", &path), DELIVERED);
	assert_no_drops(f);
}

/* A host segment with a wrong checksum is never carried (the far end recomputes it). */
static void
test_udpt_bad_host_checksum_dropped(void **state)
{
	struct ulab *f = *state;
	uint8_t l4[512], pkt[2048];
	size_t l4_len = tcp_build(l4, true, 50002, 0x02, NULL);
	size_t n = svr_test_host_packet(&f->base, pkt, true, IPPROTO_TCP, l4, l4_len);
	struct pkt_buf *p = pkt_pool_get(f->base.pool);
	enum pkt_drop_reason reason;

	f->first_path = 1;
	pkt[n - l4_len + 16] ^= 0x40;
	assert_int_equal(pkt_buf_set(p, pkt, n), 0);
	assert_int_equal(pkt_parse(p, &reason), 0);
	assert_int_equal(lan_in(f, &f->base.a, p), SVR_VERDICT_DROP);
	pkt_pool_put(f->base.pool, p);
	assert_int_equal(f->base.a.drops.count[PKT_DROP_L4_BAD_CHECKSUM], 1);
	assert_int_equal(session_table_count(f->base.a.rt.sessions), 0);
}

/* A carried TCP header cut short after the block is dropped at the egress, counted. */
static void
test_udpt_truncated_carried_header_dropped(void **state)
{
	struct ulab *f = *state;
	uint8_t l4[512], pkt[2048];
	size_t l4_len = tcp_build(l4, true, 50003, 0x02, NULL);
	size_t n = svr_test_host_packet(&f->base, pkt, true, IPPROTO_TCP, l4, l4_len);
	struct pkt_buf *p;
	enum pkt_drop_reason reason;
	struct pkt_info info;
	struct svr_meta m;
	size_t block_len;
	uint8_t copy[4096];

	assert_false(f->security); /* sealed, the cut would be an authentication failure */
	f->first_path = 1;
	p = pkt_pool_get(f->base.pool);
	assert_int_equal(pkt_buf_set(p, pkt, n), 0);
	assert_int_equal(pkt_parse(p, &reason), 0);
	assert_int_equal(lan_in(f, &f->base.a, p), SVR_VERDICT_TO_WAN);
	memcpy(f->wire, p->buf + p->head, p->len);
	f->wire_len = p->len;
	f->wire_from_a = true;
	block_len = wire_meta(f, &info, &m, copy);
	assert_true(block_len > 0);
	/* Keep the block and 12 bytes of the TCP header; fix lengths and the UDP sum. */
	assert_int_equal(pkt_buf_trim(p, info.payload_off + block_len + 12), 0);
	pkt_set_ip_len(p->buf + p->head, &p->info, p->len);
	assert_int_equal(pkt_parse(p, &reason), 0);
	pkt_csum_fill(p->buf + p->head, &p->info);
	assert_null(wan_in(f, &f->base.b, p, 1, NULL));
	assert_int_equal(f->base.b.drops.count[PKT_DROP_TCP_TRUNCATED], 1);
	assert_int_equal(session_table_count(f->base.b.rt.sessions), 0);
}

/*
 * Failover plain -> transformed -> plain, moved by the client's next packet each time:
 * the carriage follows the path, the egress re-binds, and the stream stays byte-exact.
 */
static void
test_udpt_failover_plain_transformed_plain(void **state)
{
	struct ulab *f = *state;
	const uint16_t cport = 50010;
	struct session *sa, *sb;
	int path;

	f->first_path = 0;
	assert_int_equal(tcp_send(f, true, cport, 0x02, NULL, &path), DELIVERED);
	assert_int_equal(path, 0);
	assert_int_equal(f->wire_tcp, 1);
	assert_int_equal(tcp_send(f, false, cport, 0x12, NULL, &path), DELIVERED);
	assert_int_equal(tcp_send(f, true, cport, 0x18, req, &path), DELIVERED);
	assert_int_equal(tcp_send(f, false, cport, 0x18, resp, &path), DELIVERED);
	assert_int_equal(f->wire_udp, 0);
	sa = session_of(&f->base.a, cport, NULL);
	sb = session_of(&f->base.b, cport, NULL);
	assert_false(sa->flags & SVR_SESSION_AS_UDP);
	/* Path 0 fails: the next forward segment moves the session to the UDP-only path. */
	f->prefer = 1;
	path_set(f, 0, false);
	assert_int_equal(tcp_send(f, true, cport, 0x18, req, &path), DELIVERED);
	assert_int_equal(path, 1);
	assert_true(sa->flags & SVR_SESSION_UDP_TRANSFORM);
	assert_true(sb->flags & SVR_SESSION_UDP_TRANSFORM);
	assert_int_equal(sb->wan_key.proto, IPPROTO_UDP);
	assert_int_equal(sb->path_id, 1);
	assert_memory_equal(sa->uuid, sb->uuid, 16);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(tcp_send(f, false, cport, 0x18, resp, &path), DELIVERED);
		assert_int_equal(path, 1);
		assert_int_equal(tcp_send(f, true, cport, 0x18, req, &path), DELIVERED);
		assert_int_equal(path, 1);
	}
	/* Path 0 is back and preferred, path 1 fails: back to TCP. */
	path_set(f, 0, true);
	f->prefer = 0;
	path_set(f, 1, false);
	assert_int_equal(tcp_send(f, true, cport, 0x18, req, &path), DELIVERED);
	assert_int_equal(path, 0);
	assert_false(sa->flags & (SVR_SESSION_UDP_TRANSFORM | SVR_SESSION_AS_UDP));
	assert_false(sb->flags & (SVR_SESSION_UDP_TRANSFORM | SVR_SESSION_AS_UDP));
	assert_int_equal(sa->wan_key.proto, IPPROTO_TCP);
	assert_int_equal(sb->wan_key.proto, IPPROTO_TCP);
	for (int i = 0; i < 3; i++) {
		uint64_t tcp = f->wire_tcp;

		assert_int_equal(tcp_send(f, false, cport, 0x18, resp, &path), DELIVERED);
		assert_int_equal(path, 0);
		assert_int_equal(f->wire_tcp, tcp + 1);
		assert_int_equal(tcp_send(f, true, cport, 0x18, req, &path), DELIVERED);
	}
	assert_int_equal(f->base.a.rt.stats.migrations, 2);
	assert_int_equal(f->base.b.rt.stats.rebinds, 2);
	assert_int_equal(svr_waypoint_ports_in_use(f->paths[0][0].ports), 1);
	assert_int_equal(svr_waypoint_ports_in_use(f->paths[0][1].ports), 0);
	assert_no_drops(f);
}

/*
 * A download (only the server talks) moved by the sweep: the keep-alive names the
 * carriage (TLV 0x8002), so the egress sends the server's segments as UDP at once;
 * and back to TCP by the next sweep.
 */
static void
test_udpt_sweep_moves_silent_session(void **state)
{
	struct ulab *f = *state;
	const uint16_t cport = 50020;
	struct session *sb;
	int path;

	f->first_path = 0;
	assert_int_equal(tcp_send(f, true, cport, 0x02, NULL, &path), DELIVERED);
	assert_int_equal(tcp_send(f, false, cport, 0x12, NULL, &path), DELIVERED);
	assert_int_equal(tcp_send(f, true, cport, 0x10, NULL, &path), DELIVERED);
	sb = session_of(&f->base.b, cport, NULL);
	f->prefer = 1;
	path_set(f, 0, false);
	assert_int_equal(svr_sessions_migrate_path(&f->base.a.rt, 0, 100, f->base.now_ns), 1);
	assert_int_equal(ctrl_deliver(f), 1);
	assert_true(sb->flags & SVR_SESSION_UDP_TRANSFORM);
	assert_int_equal(sb->wan_key.proto, IPPROTO_UDP);
	assert_int_equal(sb->path_id, 1);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(tcp_send(f, false, cport, 0x18, resp, &path), DELIVERED);
		assert_int_equal(path, 1);
	}
	/* Back: the sweep of path 1 takes it to the preferred path 0, as TCP. */
	path_set(f, 0, true);
	f->prefer = 0;
	assert_int_equal(svr_sessions_migrate_path(&f->base.a.rt, 1, 100, f->base.now_ns), 1);
	assert_int_equal(ctrl_deliver(f), 1);
	assert_false(sb->flags & (SVR_SESSION_UDP_TRANSFORM | SVR_SESSION_AS_UDP));
	assert_int_equal(sb->wan_key.proto, IPPROTO_TCP);
	for (int i = 0; i < 3; i++) {
		uint64_t tcp = f->wire_tcp;

		assert_int_equal(tcp_send(f, false, cport, 0x18, resp, &path), DELIVERED);
		assert_int_equal(path, 0);
		assert_int_equal(f->wire_tcp, tcp + 1);
	}
	assert_int_equal(tcp_send(f, true, cport, 0x10, NULL, &path), DELIVERED);
	assert_int_equal(f->base.b.rt.stats.rebinds, 2);
	assert_no_drops(f);
}

/*
 * Randomized: TCP and UDP flows open on either path and talk both ways while paths go
 * down and up and sweeps run. Every delivered packet is intact (xmit checks), link 1
 * never sees TCP (link_check), every TCP data packet's carriage matches its path, and no
 * router drops but svr-control-no-session (a keep-alive for a session whose first packet
 * was lost, as in test_svr_failover.c).
 */
#define MODEL_FLOWS 10
static void
test_udpt_random_model(void **state)
{
	struct ulab *f = *state;
	uint64_t rng = test_seed();
	bool opened[MODEL_FLOWS] = {0}, at_b[MODEL_FLOWS] = {0};
	unsigned n_open = 0, n_at_b = 0, lost = 0, delivered = 0;
	char data[64];

	for (int step = 0; step < 2500; step++) {
		unsigned r = (unsigned)test_rand_below(&rng, 100);
		unsigned i = (unsigned)test_rand_below(&rng, MODEL_FLOWS);
		bool tcp = i % 3 != 0;
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
			f->prefer = (uint16_t)test_rand_below(&rng, 2);
			svr_sessions_migrate_path(&f->base.a.rt, (uint16_t)test_rand_below(&rng, 2),
			    (unsigned)test_rand_below(&rng, 8) + 1, f->base.now_ns);
			ctrl_deliver(f);
			continue;
		}
		f->first_path = (uint16_t)test_rand_below(&rng, 2);
		snprintf(data, sizeof(data), "SECRET-%d-%u-%s", step, i, from_a ? "a" : "b");
		if (tcp)
			o = tcp_send(f, from_a, cport, opened[i] ? 0x18 : 0x02,
			    opened[i] ? data : NULL, NULL);
		else
			o = udp_send(f, from_a, cport, data, NULL);
		assert_int_not_equal(o, DROPPED);
		if (tcp) {
			struct pkt_info info;
			enum pkt_drop_reason reason;

			assert_int_equal(pkt_parse_bytes(f->wire, f->wire_len, &info, &reason), 0);
			assert_int_equal(info.l4_proto,
			    f->wire_path == 1 ? IPPROTO_UDP : IPPROTO_TCP);
		}
		if (f->security)
			assert_false(contains(f->wire, f->wire_len, "SECRET"));
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
		if (drops(f) !=
		    f->base.a.drops.count[PKT_DROP_SVR_CONTROL_NO_SESSION] +
		        f->base.b.drops.count[PKT_DROP_SVR_CONTROL_NO_SESSION]) {
			svr_test_drops_print(&f->base);
			fail_msg("step %d: a router dropped", step);
		}
	}
	print_message("# delivered %u lost %u migrations %llu rebinds %llu udp %llu tcp %llu\n",
	    delivered, lost, (unsigned long long)f->base.a.rt.stats.migrations,
	    (unsigned long long)f->base.b.rt.stats.rebinds, (unsigned long long)f->wire_udp,
	    (unsigned long long)f->wire_tcp);
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
		if (a->path_id == b->path_id && a->lan_key.proto == IPPROTO_TCP)
			assert_int_equal(a->flags & SVR_SESSION_UDP_TRANSFORM,
			    b->flags & SVR_SESSION_UDP_TRANSFORM);
	}
}

#define T(test, setup) cmocka_unit_test_setup_teardown(test, setup, ulab_teardown)
#define UDPT_TESTS(setup)                                                                          \
	T(test_udpt_handshake_and_data, setup), T(test_udpt_udp_sessions_unchanged, setup),        \
	    T(test_udpt_bad_host_checksum_dropped, setup),                                         \
	    T(test_udpt_failover_plain_transformed_plain, setup),                                  \
	    T(test_udpt_sweep_moves_silent_session, setup), T(test_udpt_random_model, setup)
/* Clear: the wire can be cut where the test wants. Secure: decisions exist. */
#define UDPT_TESTS_CLEAR(setup)                                                                    \
	UDPT_TESTS(setup), T(test_udpt_truncated_carried_header_dropped, setup)
#define UDPT_TESTS_SECURE(setup) UDPT_TESTS(setup), T(test_udpt_adaptive_decision_as_plain, setup)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    UDPT_TESTS_CLEAR(setup_v4),
	    UDPT_TESTS_CLEAR(setup_v6),
	    UDPT_TESTS_CLEAR(setup_v4_over_v6),
	    UDPT_TESTS_CLEAR(setup_v6_over_v4),
	    UDPT_TESTS_SECURE(setup_v4_sec),
	    UDPT_TESTS_SECURE(setup_v6_sec),
	    UDPT_TESTS_SECURE(setup_v4_over_v6_sec),
	    UDPT_TESTS_SECURE(setup_v6_over_v4_sec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
