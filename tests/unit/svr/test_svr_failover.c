/*
 * Failover of SVR sessions between two paths of one peer (svr-profile section 7):
 *
 *                      path 0: 203.0.113.1   ==== link 0 ==== 198.51.100.2
 *   host A -- router A                                                      router B -- host B
 *   10.0.1.10          path 1: 203.0.113.101 ==== link 1 ==== 198.51.100.102      10.0.2.20
 *                      path 2 (A only): 203.0.113.1 -> 192.0.2.3, another peer
 *
 * The lab is svr_test_links.h with a third path at A. A is the ingress of every session.
 * Every test runs with security off and on; every delivered host packet must be the sent
 * one byte for byte, and no router may count a drop that the test did not cause on
 * purpose.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "crypto/crypto_aead.h"
#include "session/session_table.h"
#include "svr/svr_waypoint.h"
#include "svr_test_links.h"

#define PEER_C 1

/*
 * path_pick policy: prefer path links.prefer when it is up (revert), else any up path.
 * Path 2 (A only) leads from A's waypoint of path 0 to another peer, C.
 */
struct fpolicy {
	bool revert_udp; /* may UDP sessions go back to the preferred path */
	bool pick_drop;  /* the policy drops when nothing is up */
};

static struct svr_test_links the_lab;
static struct fpolicy the_policy;

static uint16_t
pick(struct svr_router *rt, const struct session *s, void *arg)
{
	const struct fpolicy *pol = arg;
	const struct svr_path *paths = rt->paths;
	uint16_t prefer = the_lab.prefer;

	if (paths[prefer].state == SVR_PATH_UP && prefer != s->path_id &&
	    (pol->revert_udp || s->lan_key.proto != IPPROTO_UDP ||
	        paths[s->path_id].state != SVR_PATH_UP))
		return prefer;
	for (uint16_t k = 0; k < 2; k++)
		if (k != s->path_id && paths[k].state == SVR_PATH_UP)
			return paths[s->path_id].state == SVR_PATH_UP ? SVR_PATH_NONE : k;
	return pol->pick_drop ? SVR_PATH_DROP : SVR_PATH_NONE;
}

static int
flab_setup(void **state, uint8_t family, bool security)
{
	struct svr_test_links *f = &the_lab;

	memset(&the_policy, 0, sizeof(the_policy));
	svr_test_links_init(f, family, family, 11, security, pick, &the_policy);
	svr_test_links_path_add(f, true, 2, svr_test_waypoint_addr(&f->base, true),
	    f->base.wan_family == ADDR_FAMILY_V4 ? "192.0.2.3" : "2001:db8:cc::3")
	    ->peer_id = PEER_C;
	*state = f;
	return 0;
}

SVR_TEST_SETUP(setup_clear, flab_setup(state, ADDR_FAMILY_V4, false))
SVR_TEST_SETUP(setup_secure, flab_setup(state, ADDR_FAMILY_V4, true))
SVR_TEST_SETUP(setup_secure_v6, flab_setup(state, ADDR_FAMILY_V6, true))

static int
flab_teardown(void **state)
{
	svr_test_links_fini(*state);
	return 0;
}

static const char req[] = "GET /SECRET HTTP/1.1\r\n\r\n";
static const char resp[] = "HTTP/1.1 200 OK\r\n\r\nSECRET body";

static uint32_t
in_use(const struct svr_test_links *f, int k)
{
	return svr_waypoint_ports_in_use(f->paths[0][k].ports);
}

/* A TCP connection (client port 50000) and a UDP flow (40000), both ways, on path 0. */
static void
flows_open(struct svr_test_links *f)
{
	int path;

	assert_int_equal(svr_test_links_tcp_send(f, true, 50000, 0x02, NULL, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(path, 0);
	assert_int_equal(svr_test_links_tcp_send(f, false, 50000, 0x12, NULL, &path),
	    SVR_TEST_DELIVERED);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(svr_test_links_tcp_send(f, true, 50000, 0x18, req, &path),
		    SVR_TEST_DELIVERED);
		assert_int_equal(svr_test_links_tcp_send(f, false, 50000, 0x18, resp, &path),
		    SVR_TEST_DELIVERED);
		assert_int_equal(path, 0);
		assert_int_equal(svr_test_links_udp_send(f, true, 40000, "SECRET-ping", &path),
		    SVR_TEST_DELIVERED);
		assert_int_equal(svr_test_links_udp_send(f, false, 40000, "SECRET-pong", &path),
		    SVR_TEST_DELIVERED);
		assert_int_equal(path, 0);
	}
	assert_int_equal(in_use(f, 0), 2);
	assert_int_equal(in_use(f, 1), 0);
	assert_int_equal(session_table_count(f->base.a.rt.sessions), 2);
	assert_int_equal(session_table_count(f->base.b.rt.sessions), 2);
	svr_test_lab_assert_no_drops(&f->base);
}

/* Forward metadata with this UUID is on the wire (readable only without security). */
static void
assert_wire_forward_meta(struct svr_test_links *f, const uint8_t uuid[16])
{
	uint8_t copy[SVR_TEST_WIRE_MAX];
	struct pkt_info info;
	struct svr_meta m;

	if (f->security) {
		svr_test_links_assert_wire_sealed(f);
		return;
	}
	assert_true(svr_test_links_wire_meta(f, &info, &m, copy) > 0);
	assert_true(m.present & SVR_META_F_FWD_CTX);
	assert_true(m.present & SVR_META_F_UUID);
	assert_memory_equal(m.uuid, uuid, 16);
}

/* The next forward packet of a session on a dead path moves it; the egress re-binds. */
static void
test_failover_lazy_moves_on_next_packet(void **state)
{
	struct svr_test_links *f = *state;
	uint8_t uuid_tcp[16], uuid_udp[16];
	size_t hdr = f->base.wan_family == ADDR_FAMILY_V4 ? 20 : 40;
	int path;

	flows_open(f);
	memcpy(uuid_tcp, svr_test_session_of(&f->base.a, 50000, NULL)->uuid, 16);
	memcpy(uuid_udp, svr_test_session_of(&f->base.a, 40000, NULL)->uuid, 16);
	svr_test_links_path_set(f, 0, false);
	/* The egress can not move a session: its answer goes into the dead path. */
	assert_int_equal(svr_test_links_tcp_send(f, false, 50000, 0x18, resp, &path),
	    SVR_TEST_LOST);
	assert_int_equal(path, 0);
	assert_int_equal(f->base.b.rt.stats.down_path_tx, 1);
	/* The client's next segment moves the session and carries forward metadata. */
	assert_int_equal(svr_test_links_tcp_send(f, true, 50000, 0x18, req, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(path, 1);
	assert_wire_forward_meta(f, uuid_tcp);
	assert_int_equal(f->base.a.rt.stats.migrations, 1);
	assert_int_equal(f->base.b.rt.stats.rebinds, 1);
	svr_test_links_assert_same_session(f, 50000, 1);
	assert_memory_equal(svr_test_session_of(&f->base.b, 50000, NULL)->uuid, uuid_tcp, 16);
	/* The server's retransmission leaves by the new path, encrypted. */
	assert_int_equal(svr_test_links_tcp_send(f, false, 50000, 0x18, resp, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(path, 1);
	svr_test_links_assert_wire_sealed(f);
	/* UDP: the server talks first here; it is lost until the client moves the flow. */
	assert_int_equal(svr_test_links_udp_send(f, false, 40000, "SECRET-pong", &path),
	    SVR_TEST_LOST);
	assert_int_equal(svr_test_links_udp_send(f, true, 40000, "SECRET-ping", &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(path, 1);
	assert_wire_forward_meta(f, uuid_udp);
	assert_int_equal(svr_test_links_udp_send(f, false, 40000, "SECRET-pong", &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(path, 1);
	svr_test_links_assert_same_session(f, 40000, 1);
	/* Steady state again: the handshake is over, only the payload (and trailer). */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(svr_test_links_tcp_send(f, true, 50000, 0x18, req, &path),
		    SVR_TEST_DELIVERED);
		assert_int_equal(path, 1);
		assert_int_equal(svr_test_links_udp_send(f, false, 40000, "SECRET-pong", &path),
		    SVR_TEST_DELIVERED);
		assert_int_equal(path, 1);
	}
	assert_int_equal(svr_test_links_tcp_send(f, true, 50000, 0x18, req, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(f->wire_len,
	    hdr + 20 + strlen(req) + (f->security ? CRYPTO_AEAD_TRAILER_LEN : 0));
	assert_int_equal(svr_test_links_udp_send(f, true, 40000, "SECRET-ping", &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(f->wire_len,
	    hdr + 8 + strlen("SECRET-ping") + (f->security ? CRYPTO_AEAD_TRAILER_LEN : 0));
	if (f->security) {
		assert_false(svr_test_contains(f->wire, f->wire_len, "SECRET"));
		assert_true(f->base.b.rt.stats.payload_opened > 0);
		assert_true(f->base.a.rt.stats.payload_opened > 0);
	}
	assert_int_equal(f->base.a.rt.stats.migrations, 2);
	assert_int_equal(f->base.b.rt.stats.rebinds, 2);
	assert_int_equal(session_table_count(f->base.a.rt.sessions), 2);
	assert_int_equal(session_table_count(f->base.b.rt.sessions), 2);
	assert_int_equal(in_use(f, 0), 0);
	assert_int_equal(in_use(f, 1), 2);
	svr_test_lab_assert_no_drops(&f->base);
}

/*
 * An idle session (a download: only the server talks) moves by the sweep alone: the
 * keep-alive with forward metadata re-binds it, and the server's packets take path 1.
 */
static void
test_failover_sweep_moves_idle_sessions(void **state)
{
	struct svr_test_links *f = *state;
	size_t hdr = f->base.wan_family == ADDR_FAMILY_V4 ? 20 : 40;
	unsigned moved = 0, calls = 0;
	uint64_t ctrl_rx;
	int path;

	flows_open(f);
	ctrl_rx = f->base.b.rt.stats.control_rx;
	svr_test_links_path_set(f, 0, false);
	/* Budget 1: the pass is resumable and visits each session once. */
	while (calls == 0 || !svr_sessions_migrate_done(&f->base.a.rt, 0)) {
		unsigned n = svr_sessions_migrate_path(&f->base.a.rt, 0, 1, f->base.now_ns);

		assert_true(n <= 1);
		assert_int_equal(svr_test_links_ctrl_deliver(f), n);
		moved += n;
		assert_true(++calls < 10);
	}
	assert_int_equal(moved, 2);
	assert_true(calls >= 2);
	assert_int_equal(f->base.a.rt.stats.migrations, 2);
	assert_int_equal(f->base.b.rt.stats.rebinds, 2);
	assert_int_equal(f->base.b.rt.stats.control_rx, ctrl_rx + 2);
	svr_test_links_assert_same_session(f, 50000, 1);
	svr_test_links_assert_same_session(f, 40000, 1);
	/* The server talks; the client stays silent. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(svr_test_links_tcp_send(f, false, 50000, 0x18, resp, &path),
		    SVR_TEST_DELIVERED);
		assert_int_equal(path, 1);
		assert_int_equal(svr_test_links_udp_send(f, false, 40000, "SECRET-stream", &path),
		    SVR_TEST_DELIVERED);
		assert_int_equal(path, 1);
		svr_test_links_assert_wire_sealed(f);
	}
	/* The reverse metadata ended the forward metadata: the client's packet is plain. */
	assert_int_equal(svr_test_links_udp_send(f, true, 40000, "SECRET-ping", &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(f->wire_len, hdr + 8 + 11 + (f->security ? 24 : 0));
	assert_int_equal(session_table_count(f->base.b.rt.sessions), 2);
	assert_int_equal(in_use(f, 0), 0);
	assert_int_equal(in_use(f, 1), 2);
	svr_test_lab_assert_no_drops(&f->base);
}

/* The preferred path is back after its hold-down: revertible sessions go back. */
static void
test_failover_revert_after_hold_down(void **state)
{
	struct svr_test_links *f = *state;
	unsigned moved;
	int path;

	flows_open(f);
	svr_test_links_path_set(f, 0, false);
	moved = svr_sessions_migrate_path(&f->base.a.rt, 0, 100, f->base.now_ns);
	assert_int_equal(moved, 2);
	assert_true(svr_sessions_migrate_done(&f->base.a.rt, 0));
	assert_int_equal(svr_test_links_ctrl_deliver(f), 2);
	/* Path 0 is good again: TCP is revertible here, UDP is not. */
	svr_test_links_path_set(f, 0, true);
	f->prefer = 0;
	the_policy.revert_udp = false;
	moved = svr_sessions_migrate_path(&f->base.a.rt, 1, 100, f->base.now_ns);
	assert_int_equal(moved, 1);
	assert_int_equal(svr_test_links_ctrl_deliver(f), 1);
	svr_test_links_assert_same_session(f, 50000, 0);
	svr_test_links_assert_same_session(f, 40000, 1);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(svr_test_links_tcp_send(f, true, 50000, 0x18, req, &path),
		    SVR_TEST_DELIVERED);
		assert_int_equal(path, 0);
		assert_int_equal(svr_test_links_tcp_send(f, false, 50000, 0x18, resp, &path),
		    SVR_TEST_DELIVERED);
		assert_int_equal(path, 0);
		assert_int_equal(svr_test_links_udp_send(f, true, 40000, "SECRET-ping", &path),
		    SVR_TEST_DELIVERED);
		assert_int_equal(path, 1);
		assert_int_equal(svr_test_links_udp_send(f, false, 40000, "SECRET-pong", &path),
		    SVR_TEST_DELIVERED);
		assert_int_equal(path, 1);
	}
	assert_int_equal(f->base.a.rt.stats.migrations, 3);
	assert_int_equal(f->base.b.rt.stats.rebinds, 3);
	assert_int_equal(in_use(f, 0), 1);
	assert_int_equal(in_use(f, 1), 1);
	assert_int_equal(session_table_count(f->base.b.rt.sessions), 2);
	svr_test_lab_assert_no_drops(&f->base);
}

/* What svr_session_migrate() refuses, and that a refusal changes nothing. */
static void
test_failover_migrate_refusals(void **state)
{
	struct svr_test_links *f = *state;
	uint32_t ia = 0, ib = 0;
	struct session *s;

	flows_open(f);
	s = svr_test_session_of(&f->base.a, 50000, &ia);
	assert_non_null(svr_test_session_of(&f->base.b, 50000, &ib));
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
	assert_int_equal(svr_test_links_tcp_send(f, true, 50000, 0x18, req, NULL),
	    SVR_TEST_DELIVERED);
	svr_test_links_assert_same_session(f, 50000, 1);
	svr_test_lab_assert_no_drops(&f->base);
}

/* No path left: the session stays (packets leave by the dead path) or the policy drops. */
static void
test_failover_no_path_keeps_or_drops(void **state)
{
	struct svr_test_links *f = *state;
	int path;

	flows_open(f);
	svr_test_links_path_set(f, 0, false);
	svr_test_links_path_set(f, 1, false);
	assert_int_equal(svr_test_links_tcp_send(f, true, 50000, 0x18, req, &path), SVR_TEST_LOST);
	assert_int_equal(path, 0);
	assert_int_equal(f->base.a.rt.stats.down_path_tx, 1);
	assert_int_equal(f->base.a.rt.stats.migrations, 0);
	the_policy.pick_drop = true;
	assert_int_equal(svr_test_links_udp_send(f, true, 40000, "SECRET-ping", &path),
	    SVR_TEST_DROPPED);
	assert_int_equal(f->base.a.drops.count[PKT_DROP_SVR_NO_PATH], 1);
	/* The sweep has no packet to drop: the sessions stay. */
	assert_int_equal(svr_sessions_migrate_path(&f->base.a.rt, 0, 100, f->base.now_ns), 0);
	assert_int_equal(f->base.a.rt.ctrl_out_count, 0);
	/* Path 1 comes back: the next packet moves the session. */
	svr_test_links_path_set(f, 1, true);
	assert_int_equal(svr_test_links_udp_send(f, true, 40000, "SECRET-ping", &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(path, 1);
	svr_test_links_assert_same_session(f, 40000, 1);
	assert_int_equal(svr_test_lab_drops(&f->base), 1);
}

/* The egress refuses to let another peer's packet re-bind a session. */
static void
test_failover_rebind_from_other_peer_conflicts(void **state)
{
	struct svr_test_links *f = *state;
	int path;

	flows_open(f);
	/* At B, path 1 now leads to another peer: what comes over it is not this session. */
	f->paths[1][1].peer_id = PEER_C;
	svr_test_links_path_set(f, 0, false);
	assert_int_equal(svr_test_links_udp_send(f, true, 40000, "SECRET-ping", &path),
	    SVR_TEST_DROPPED);
	assert_int_equal(path, 1);
	assert_int_equal(f->base.b.drops.count[PKT_DROP_SVR_SESSION_CONFLICT], 1);
	assert_int_equal(f->base.b.rt.stats.rebinds, 0);
	assert_int_equal(svr_test_session_of(&f->base.b, 40000, NULL)->path_id, 0);
	assert_int_equal(session_table_count(f->base.b.rt.sessions), 2);
	assert_int_equal(svr_test_lab_drops(&f->base), 1);
}

/*
 * Randomized (svr_test_links_model_run): half the flows TCP, UDP sessions revert too;
 * the flows hold one waypoint port each, and both ends agree on every flow's path.
 */
static bool
model_tcp_flow(unsigned i)
{
	return i % 2 == 0;
}

static void
model_after_send(struct svr_test_links *f, bool tcp, unsigned n_open)
{
	(void)tcp;
	assert_int_equal(in_use(f, 0) + in_use(f, 1), n_open);
}

static void
model_flow_check(const struct session *a, const struct session *b)
{
	assert_int_equal(a->path_id, b->path_id);
}

static void
test_failover_random_model(void **state)
{
	static const struct svr_test_links_model model = {
	    .flows = 12,
	    .steps = 3000,
	    .tcp_flow = model_tcp_flow,
	    .after_send = model_after_send,
	    .flow_check = model_flow_check,
	};

	the_policy.revert_udp = true;
	svr_test_links_model_run(*state, &model);
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
