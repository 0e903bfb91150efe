/*
 * The UDP transform (svr-profile section 5, docs/protocol.md "UDP transform"): TCP
 * sessions on a path whose middleboxes drop TCP SYNs with data travel as UDP.
 *
 *                      path 0: 203.0.113.1   ==== plain ======== 198.51.100.2
 *   host A -- router A                                                      router B -- host B
 *   10.0.1.10          path 1: 203.0.113.101 ==== UDP only ===== 198.51.100.102      10.0.2.20
 *
 * Only router A (the ingress) has udp_transform set on path 1: the egress follows what
 * arrives. Link 1 of the lab (svr_test_links.h) is UDP only: a middlebox that lets no
 * TCP through, so a TCP packet sent on it is a test failure, not a loss. Every test runs
 * with security off and on, with hosts and waypoints of the same family and of different
 * families; every delivered host packet must be the sent one byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <string.h>

#include "crypto/crypto_aead.h"
#include "pkt/pkt_csum.h"
#include "session/session_table.h"
#include "svr/svr_waypoint.h"
#include "svr_test_links.h"
#include "test_rand.h"

static struct svr_test_links the_lab;

/* path_pick: the preferred path when it is up, else the other if it is up. */
static uint16_t
pick(struct svr_router *rt, const struct session *s, void *arg)
{
	const struct svr_test_links *f = arg;
	uint16_t other = (uint16_t)(1 - s->path_id);

	if (rt->paths[f->prefer].state == SVR_PATH_UP)
		return f->prefer == s->path_id ? SVR_PATH_NONE : f->prefer;
	return rt->paths[other].state == SVR_PATH_UP ? other : SVR_PATH_NONE;
}

static int
ulab_setup(void **state, uint8_t family, uint8_t wan_family, bool security)
{
	struct svr_test_links *f = &the_lab;

	svr_test_links_init(f, family, wan_family, 7, security, pick, f);
	f->tcp_port = 443;
	f->link_udp_only[1] = true;
	f->paths[0][1].udp_transform = true; /* the ingress's configuration only */
	*state = f;
	return 0;
}

SVR_TEST_SETUP(setup_v4, ulab_setup(state, ADDR_FAMILY_V4, ADDR_FAMILY_V4, false))
SVR_TEST_SETUP(setup_v6, ulab_setup(state, ADDR_FAMILY_V6, ADDR_FAMILY_V6, false))
SVR_TEST_SETUP(setup_v4_over_v6, ulab_setup(state, ADDR_FAMILY_V4, ADDR_FAMILY_V6, false))
SVR_TEST_SETUP(setup_v6_over_v4, ulab_setup(state, ADDR_FAMILY_V6, ADDR_FAMILY_V4, false))
SVR_TEST_SETUP(setup_v4_sec, ulab_setup(state, ADDR_FAMILY_V4, ADDR_FAMILY_V4, true))
SVR_TEST_SETUP(setup_v6_sec, ulab_setup(state, ADDR_FAMILY_V6, ADDR_FAMILY_V6, true))
SVR_TEST_SETUP(setup_v4_over_v6_sec, ulab_setup(state, ADDR_FAMILY_V4, ADDR_FAMILY_V6, true))
SVR_TEST_SETUP(setup_v6_over_v4_sec, ulab_setup(state, ADDR_FAMILY_V6, ADDR_FAMILY_V4, true))

static int
ulab_teardown(void **state)
{
	svr_test_links_fini(*state);
	return 0;
}

static const char req[] = "GET /SECRET HTTP/1.1\r\n\r\n";
static const char resp[] = "HTTP/1.1 200 OK\r\n\r\nSECRET body";

/* The last wire packet's block, when it has one, is not a SYN's. */
static void
assert_wire_no_syn(struct svr_test_links *f)
{
	uint8_t copy[SVR_TEST_WIRE_MAX];
	struct pkt_info info;
	struct svr_meta m;

	if (svr_test_links_wire_meta(f, &info, &m, copy) > 0)
		assert_false(m.present & SVR_META_F_TCP_SYN);
}

/*
 * The segment from A (or B) as its host built it, checksum included: the bytes a
 * transformed wire packet must carry.
 */
static size_t
host_segment(struct svr_test_links *f, uint8_t *l4, bool from_a, uint16_t cport, uint8_t flags)
{
	size_t l4_len = svr_test_links_tcp_build(f, l4, from_a, cport, flags, NULL);
	uint8_t pkt[2048];
	size_t n = svr_test_host_packet(&f->base, pkt, from_a, IPPROTO_TCP, l4, l4_len);

	memcpy(l4, pkt + (n - l4_len), l4_len);
	return l4_len;
}

/*
 * Back on plain path 0: three server segments, each one more TCP packet on the wire,
 * each followed by a client segment when both_ways.
 */
static void
assert_server_on_tcp(struct svr_test_links *f, uint16_t cport, bool both_ways)
{
	int path;

	for (int i = 0; i < 3; i++) {
		uint64_t tcp = f->wire_tcp;

		assert_int_equal(svr_test_links_tcp_send(f, false, cport, 0x18, resp, &path),
		    SVR_TEST_DELIVERED);
		assert_int_equal(path, 0);
		assert_int_equal(f->wire_tcp, tcp + 1);
		if (both_ways)
			assert_int_equal(svr_test_links_tcp_send(f, true, cport, 0x18, req, &path),
			    SVR_TEST_DELIVERED);
	}
}

/*
 * The last wire packet is the UDP transform of host segment l4 (l4_len bytes): UDP on
 * the session's waypoint ports, then the block (if any), then the host's TCP header byte
 * for byte, checksum included. Returns the block length.
 */
static size_t
assert_wire_carries(struct svr_test_links *f, const uint8_t *l4, size_t l4_len,
    const struct session *s, struct svr_meta *m)
{
	uint8_t copy[SVR_TEST_WIRE_MAX];
	struct pkt_info info;
	size_t block_len = svr_test_links_wire_meta(f, &info, m, copy), tcp_off,
	       hl = (size_t)(l4[12] >> 4) * 4;

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
	struct svr_test_links *f = *state;
	size_t hdr = f->base.wan_family == ADDR_FAMILY_V4 ? 20 : 40;
	const uint16_t cport = 50000;
	struct session *sa, *sb;
	struct svr_meta m;
	uint8_t l4[512];
	size_t l4_len;
	int path;

	f->first_path = 1;
	/* SYN: forward metadata with a TCP context and TLV 12, then the TCP header. */
	assert_int_equal(svr_test_links_tcp_send(f, true, cport, 0x02, NULL, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(path, 1);
	sa = svr_test_session_of(&f->base.a, cport, NULL);
	sb = svr_test_session_of(&f->base.b, cport, NULL);
	assert_non_null(sa);
	assert_non_null(sb);
	assert_true(sa->flags & SVR_SESSION_UDP_TRANSFORM);
	assert_true(sa->flags & SVR_SESSION_AS_UDP);
	assert_true(sb->flags & SVR_SESSION_UDP_TRANSFORM);
	assert_int_equal(sa->wan_key.proto, IPPROTO_UDP);
	assert_int_equal(sb->wan_key.proto, IPPROTO_UDP);
	assert_int_equal(sa->lan_key.proto, IPPROTO_TCP);
	assert_int_equal(sb->lan_key.proto, IPPROTO_TCP);
	l4_len = host_segment(f, l4, true, cport, 0x02);
	assert_true(assert_wire_carries(f, l4, l4_len, sa, &m) > 0);
	assert_true(m.present & SVR_META_F_FWD_CTX);
	assert_int_equal(m.fwd_ctx.proto, IPPROTO_TCP);
	assert_int_equal(m.fwd_ctx.sport, cport);
	assert_int_equal(m.fwd_ctx.dport, 443);
	assert_true(m.present & SVR_META_F_TCP_SYN);
	/* SYN-ACK: back as UDP on the same path, reverse metadata and TLV 12. */
	assert_int_equal(svr_test_links_tcp_send(f, false, cport, 0x12, NULL, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(path, 1);
	l4_len = host_segment(f, l4, false, cport, 0x12);
	assert_true(assert_wire_carries(f, l4, l4_len, sb, &m) > 0);
	assert_true(m.present & SVR_META_F_TCP_SYN);
	assert_true(m.present & SVR_META_F_DISABLE_FWD_META);
	if (m.present & SVR_META_F_REV_CTX)
		assert_int_equal(m.rev_ctx.proto, IPPROTO_TCP);
	/* ACK and data: no TLV 12. */
	assert_int_equal(svr_test_links_tcp_send(f, true, cport, 0x10, NULL, &path),
	    SVR_TEST_DELIVERED);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(svr_test_links_tcp_send(f, true, cport, 0x18, req, &path),
		    SVR_TEST_DELIVERED);
		assert_int_equal(path, 1);
		assert_wire_no_syn(f);
		assert_int_equal(svr_test_links_tcp_send(f, false, cport, 0x18, resp, &path),
		    SVR_TEST_DELIVERED);
		assert_int_equal(path, 1);
		assert_wire_no_syn(f);
		svr_test_links_assert_wire_sealed(f);
	}
	/* Steady state: IP, UDP, the host's TCP header and payload (and the trailer). */
	assert_int_equal(svr_test_links_tcp_send(f, true, cport, 0x18, req, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(f->wire_len,
	    hdr + 8 + 20 + strlen(req) + (f->security ? CRYPTO_AEAD_TRAILER_LEN : 0));
	assert_int_equal(svr_test_links_tcp_send(f, false, cport, 0x18, resp, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(f->wire_len,
	    hdr + 8 + 20 + strlen(resp) + (f->security ? CRYPTO_AEAD_TRAILER_LEN : 0));
	/* A pure ACK carries no trailer: encryption covers the TCP payload only. */
	assert_int_equal(svr_test_links_tcp_send(f, true, cport, 0x10, NULL, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(f->wire_len, hdr + 8 + 20);
	if (!f->security) {
		assert_int_equal(svr_test_links_tcp_send(f, true, cport, 0x18, req, &path),
		    SVR_TEST_DELIVERED);
		assert_int_equal(svr_test_links_wire_meta(f, &(struct pkt_info){0}, &m,
		                     (uint8_t[SVR_TEST_WIRE_MAX]){0}),
		    0);
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
	svr_test_lab_assert_no_drops(&f->base);
}

/* A TLS session is sent clear by decision, as it would be on a plain path. */
static void
test_udpt_adaptive_decision_as_plain(void **state)
{
	struct svr_test_links *f = *state;
	/* A TLS record header (no NUL byte: tcp_send takes a string), then "hello". */
	static const char hello[] = "\x16\x03\x03\x01\x05hello";
	struct svr_protection prot;
	int path;

	assert_true(f->security);
	f->first_path = 1;
	assert_int_equal(svr_test_links_tcp_send(f, true, 50001, 0x02, NULL, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_tcp_send(f, false, 50001, 0x12, NULL, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_tcp_send(f, true, 50001, 0x18, hello, &path),
	    SVR_TEST_DELIVERED);
	assert_true(svr_test_contains(f->wire, f->wire_len, "hello"));
	svr_session_protection(svr_test_session_of(&f->base.a, 50001, NULL), &prot);
	assert_true(prot.dir[SESSION_DIR_LAN_TO_WAN].decided);
	assert_false(prot.dir[SESSION_DIR_LAN_TO_WAN].encrypted);
	assert_string_equal(prot.dir[SESSION_DIR_LAN_TO_WAN].reason_name, "tls");
	assert_int_equal(f->wire_tcp, 0);
	svr_test_lab_assert_no_drops(&f->base);
}

/* UDP sessions are unaffected by the path's transform: UDP stays UDP, header and all. */
static void
test_udpt_udp_sessions_unchanged(void **state)
{
	struct svr_test_links *f = *state;
	int path;

	f->first_path = 1;
	assert_int_equal(svr_test_links_udp_send(f, true, 40000, "SECRET-ping", &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(path, 1);
	assert_false(
	    svr_test_session_of(&f->base.a, 40000, NULL)->flags & SVR_SESSION_UDP_TRANSFORM);
	assert_false(
	    svr_test_session_of(&f->base.b, 40000, NULL)->flags & SVR_SESSION_UDP_TRANSFORM);
	assert_int_equal(svr_test_links_udp_send(f, false, 40000, "SECRET-pong", &path),
	    SVR_TEST_DELIVERED);
	svr_test_lab_assert_no_drops(&f->base);
}

/* A host segment with a wrong checksum is never carried (the far end recomputes it). */
static void
test_udpt_bad_host_checksum_dropped(void **state)
{
	struct svr_test_links *f = *state;
	uint8_t l4[512], pkt[2048];
	size_t l4_len = svr_test_links_tcp_build(f, l4, true, 50002, 0x02, NULL);
	size_t n = svr_test_host_packet(&f->base, pkt, true, IPPROTO_TCP, l4, l4_len);
	struct pkt_buf *p = pkt_pool_get(f->base.pool);
	enum pkt_drop_reason reason;

	f->first_path = 1;
	pkt[n - l4_len + 16] ^= 0x40;
	assert_int_equal(pkt_buf_set(p, pkt, n), 0);
	assert_int_equal(pkt_parse(p, &reason), 0);
	assert_int_equal(svr_test_links_lan_in(f, &f->base.a, p), SVR_VERDICT_DROP);
	pkt_pool_put(f->base.pool, p);
	assert_int_equal(f->base.a.drops.count[PKT_DROP_L4_BAD_CHECKSUM], 1);
	assert_int_equal(session_table_count(f->base.a.rt.sessions), 0);
}

/* A carried TCP header cut short after the block is dropped at the egress, counted. */
static void
test_udpt_truncated_carried_header_dropped(void **state)
{
	struct svr_test_links *f = *state;
	uint8_t l4[512], pkt[2048];
	size_t l4_len = svr_test_links_tcp_build(f, l4, true, 50003, 0x02, NULL);
	size_t n = svr_test_host_packet(&f->base, pkt, true, IPPROTO_TCP, l4, l4_len);
	struct pkt_buf *p;
	enum pkt_drop_reason reason;
	struct pkt_info info;
	struct svr_meta m;
	size_t block_len;
	uint8_t copy[SVR_TEST_WIRE_MAX];

	assert_false(f->security); /* sealed, the cut would be an authentication failure */
	f->first_path = 1;
	p = pkt_pool_get(f->base.pool);
	assert_int_equal(pkt_buf_set(p, pkt, n), 0);
	assert_int_equal(pkt_parse(p, &reason), 0);
	assert_int_equal(svr_test_links_lan_in(f, &f->base.a, p), SVR_VERDICT_TO_WAN);
	memcpy(f->wire, p->buf + p->head, p->len);
	f->wire_len = p->len;
	f->wire_from_a = true;
	block_len = svr_test_links_wire_meta(f, &info, &m, copy);
	assert_true(block_len > 0);
	/* Keep the block and 12 bytes of the TCP header; fix lengths and the UDP sum. */
	assert_int_equal(pkt_buf_trim(p, info.payload_off + block_len + 12), 0);
	pkt_set_ip_len(p->buf + p->head, &p->info, p->len);
	assert_int_equal(pkt_parse(p, &reason), 0);
	pkt_csum_fill(p->buf + p->head, &p->info);
	assert_null(svr_test_links_wan_in(f, &f->base.b, p, 1, NULL));
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
	struct svr_test_links *f = *state;
	const uint16_t cport = 50010;
	struct session *sa, *sb;
	int path;

	f->first_path = 0;
	assert_int_equal(svr_test_links_tcp_send(f, true, cport, 0x02, NULL, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(path, 0);
	assert_int_equal(f->wire_tcp, 1);
	assert_int_equal(svr_test_links_tcp_send(f, false, cport, 0x12, NULL, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_tcp_send(f, true, cport, 0x18, req, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_tcp_send(f, false, cport, 0x18, resp, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(f->wire_udp, 0);
	sa = svr_test_session_of(&f->base.a, cport, NULL);
	sb = svr_test_session_of(&f->base.b, cport, NULL);
	assert_false(sa->flags & SVR_SESSION_AS_UDP);
	/* Path 0 fails: the next forward segment moves the session to the UDP-only path. */
	f->prefer = 1;
	svr_test_links_path_set(f, 0, false);
	assert_int_equal(svr_test_links_tcp_send(f, true, cport, 0x18, req, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(path, 1);
	assert_true(sa->flags & SVR_SESSION_UDP_TRANSFORM);
	assert_true(sb->flags & SVR_SESSION_UDP_TRANSFORM);
	assert_int_equal(sb->wan_key.proto, IPPROTO_UDP);
	assert_int_equal(sb->path_id, 1);
	assert_memory_equal(sa->uuid, sb->uuid, 16);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(svr_test_links_tcp_send(f, false, cport, 0x18, resp, &path),
		    SVR_TEST_DELIVERED);
		assert_int_equal(path, 1);
		assert_int_equal(svr_test_links_tcp_send(f, true, cport, 0x18, req, &path),
		    SVR_TEST_DELIVERED);
		assert_int_equal(path, 1);
	}
	/* Path 0 is back and preferred, path 1 fails: back to TCP. */
	svr_test_links_path_set(f, 0, true);
	f->prefer = 0;
	svr_test_links_path_set(f, 1, false);
	assert_int_equal(svr_test_links_tcp_send(f, true, cport, 0x18, req, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(path, 0);
	assert_false(sa->flags & (SVR_SESSION_UDP_TRANSFORM | SVR_SESSION_AS_UDP));
	assert_false(sb->flags & (SVR_SESSION_UDP_TRANSFORM | SVR_SESSION_AS_UDP));
	assert_int_equal(sa->wan_key.proto, IPPROTO_TCP);
	assert_int_equal(sb->wan_key.proto, IPPROTO_TCP);
	assert_server_on_tcp(f, cport, true);
	assert_int_equal(f->base.a.rt.stats.migrations, 2);
	assert_int_equal(f->base.b.rt.stats.rebinds, 2);
	assert_int_equal(svr_waypoint_ports_in_use(f->paths[0][0].ports), 1);
	assert_int_equal(svr_waypoint_ports_in_use(f->paths[0][1].ports), 0);
	svr_test_lab_assert_no_drops(&f->base);
}

/*
 * A download (only the server talks) moved by the sweep: the keep-alive names the
 * carriage (TLV 0x8002), so the egress sends the server's segments as UDP at once;
 * and back to TCP by the next sweep.
 */
static void
test_udpt_sweep_moves_silent_session(void **state)
{
	struct svr_test_links *f = *state;
	const uint16_t cport = 50020;
	struct session *sb;
	int path;

	f->first_path = 0;
	assert_int_equal(svr_test_links_tcp_send(f, true, cport, 0x02, NULL, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_tcp_send(f, false, cport, 0x12, NULL, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_tcp_send(f, true, cport, 0x10, NULL, &path),
	    SVR_TEST_DELIVERED);
	sb = svr_test_session_of(&f->base.b, cport, NULL);
	f->prefer = 1;
	svr_test_links_path_set(f, 0, false);
	assert_int_equal(svr_sessions_migrate_path(&f->base.a.rt, 0, 100, f->base.now_ns), 1);
	assert_int_equal(svr_test_links_ctrl_deliver(f), 1);
	assert_true(sb->flags & SVR_SESSION_UDP_TRANSFORM);
	assert_int_equal(sb->wan_key.proto, IPPROTO_UDP);
	assert_int_equal(sb->path_id, 1);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(svr_test_links_tcp_send(f, false, cport, 0x18, resp, &path),
		    SVR_TEST_DELIVERED);
		assert_int_equal(path, 1);
	}
	/* Back: the sweep of path 1 takes it to the preferred path 0, as TCP. */
	svr_test_links_path_set(f, 0, true);
	f->prefer = 0;
	assert_int_equal(svr_sessions_migrate_path(&f->base.a.rt, 1, 100, f->base.now_ns), 1);
	assert_int_equal(svr_test_links_ctrl_deliver(f), 1);
	assert_false(sb->flags & (SVR_SESSION_UDP_TRANSFORM | SVR_SESSION_AS_UDP));
	assert_int_equal(sb->wan_key.proto, IPPROTO_TCP);
	assert_server_on_tcp(f, cport, false);
	assert_int_equal(svr_test_links_tcp_send(f, true, cport, 0x10, NULL, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(f->base.b.rt.stats.rebinds, 2);
	svr_test_lab_assert_no_drops(&f->base);
}

/*
 * Randomized (svr_test_links_model_run): two flows in three TCP, new sessions on either
 * path; link 1 never sees TCP (the lab checks), every TCP data packet's carriage matches
 * its path, nothing is in clear with security on, and both ends of a flow on one path
 * agree on the transform.
 */
static bool
model_tcp_flow(unsigned i)
{
	return i % 3 != 0;
}

static void
model_before_send(struct svr_test_links *f, uint64_t *rng)
{
	f->first_path = (uint16_t)test_rand_below(rng, 2);
}

static void
model_after_send(struct svr_test_links *f, bool tcp, unsigned n_open)
{
	(void)n_open;
	if (tcp) {
		struct pkt_info info;
		enum pkt_drop_reason reason;

		assert_int_equal(pkt_parse_bytes(f->wire, f->wire_len, &info, &reason), 0);
		assert_int_equal(info.l4_proto, f->wire_path == 1 ? IPPROTO_UDP : IPPROTO_TCP);
	}
	svr_test_links_assert_wire_sealed(f);
}

static void
model_flow_check(const struct session *a, const struct session *b)
{
	if (a->path_id == b->path_id && a->lan_key.proto == IPPROTO_TCP)
		assert_int_equal(a->flags & SVR_SESSION_UDP_TRANSFORM,
		    b->flags & SVR_SESSION_UDP_TRANSFORM);
}

static void
test_udpt_random_model(void **state)
{
	static const struct svr_test_links_model model = {
	    .flows = 10,
	    .steps = 2500,
	    .tcp_flow = model_tcp_flow,
	    .before_send = model_before_send,
	    .after_send = model_after_send,
	    .flow_check = model_flow_check,
	};

	svr_test_links_model_run(*state, &model);
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
