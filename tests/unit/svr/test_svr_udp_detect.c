/*
 * UDP transform detection (docs/protocol.md "UDP transform", "udp_transform": "auto"):
 * an ingress TCP session whose SYNs with metadata go unanswered moves to the UDP
 * transform on its own path, and the router is told so that the path's next sessions
 * start as UDP.
 *
 *                      path 0: 203.0.113.1   ==== link 0 (middlebox?) ==== 198.51.100.2
 *   host A -- router A                                                      router B -- host B
 *   10.0.1.10          path 1: 203.0.113.101 ==== link 1 ================= 198.51.100.102
 *
 * Router A detects on path 0 (the test's callback does what the worker does: it turns
 * udp_transform on for the path). Link 0's middlebox, when on, loses every TCP segment
 * with SYN set that carries data: every SVR SYN and SYN-ACK with metadata. Runs with
 * security off and on, with hosts and waypoints of the same family and of different
 * families.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <string.h>

#include "pkt/pkt_parse.h"
#include "session/session_table.h"
#include "svr_test_links.h"
#include "test_rand.h"

struct dlab {
	struct svr_test_links links;
	unsigned detected[SVR_TEST_LINKS_PATHS]; /* callback calls per path */
	bool turn_path_on;                       /* the callback sets udp_transform */
};

static struct dlab the_lab;

static uint16_t
pick_none(struct svr_router *rt, const struct session *s, void *arg)
{
	(void)rt;
	(void)s;
	(void)arg;
	return SVR_PATH_NONE;
}

static void
on_detected(struct svr_router *rt, uint16_t path_id, void *arg)
{
	struct dlab *d = arg;

	assert_true(rt == &d->links.base.a.rt);
	assert_true(path_id < SVR_TEST_LINKS_PATHS);
	d->detected[path_id]++;
	if (d->turn_path_on)
		d->links.paths[0][path_id].udp_transform = true;
}

static int
dlab_setup(void **state, uint8_t family, uint8_t wan_family, bool security)
{
	struct dlab *d = &the_lab;

	memset(d, 0, sizeof(*d));
	svr_test_links_init(&d->links, family, wan_family, 11, security, pick_none, d);
	d->links.tcp_port = 443;
	d->links.paths[0][0].udp_transform_detect = true;
	d->links.base.a.rt.on_udp_transform_detected = on_detected;
	d->links.base.a.rt.udp_transform_arg = d;
	d->turn_path_on = true;
	*state = d;
	return 0;
}

SVR_TEST_SETUP(setup_v4, dlab_setup(state, ADDR_FAMILY_V4, ADDR_FAMILY_V4, false))
SVR_TEST_SETUP(setup_v6, dlab_setup(state, ADDR_FAMILY_V6, ADDR_FAMILY_V6, false))
SVR_TEST_SETUP(setup_v4_over_v6, dlab_setup(state, ADDR_FAMILY_V4, ADDR_FAMILY_V6, false))
SVR_TEST_SETUP(setup_v4_sec, dlab_setup(state, ADDR_FAMILY_V4, ADDR_FAMILY_V4, true))
SVR_TEST_SETUP(setup_v6_over_v4_sec, dlab_setup(state, ADDR_FAMILY_V6, ADDR_FAMILY_V4, true))

static int
dlab_teardown(void **state)
{
	struct dlab *d = *state;

	svr_test_links_fini(&d->links);
	return 0;
}

static const char req[] = "GET /SECRET HTTP/1.1\r\n\r\n";
static const char resp[] = "HTTP/1.1 200 OK\r\n\r\nSECRET body";

/* The L4 protocol of the last wire packet. */
static uint8_t
wire_proto(const struct svr_test_links *l)
{
	struct pkt_info info;
	enum pkt_drop_reason reason;

	assert_int_equal(pkt_parse_bytes(l->wire, l->wire_len, &info, &reason), 0);
	return info.l4_proto;
}

static uint32_t
session_flags(struct svr_test_router *r, uint16_t cport)
{
	struct session *s = svr_test_session_of(r, cport, NULL);

	assert_non_null(s);
	return s->flags;
}

/* A full exchange on an open session: data each way, delivered on path 0. */
static void
assert_session_works(struct svr_test_links *l, uint16_t cport)
{
	int path;

	assert_int_equal(svr_test_links_tcp_send(l, true, cport, 0x10, NULL, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_tcp_send(l, true, cport, 0x18, req, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_tcp_send(l, false, cport, 0x18, resp, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(path, 0);
	svr_test_links_assert_wire_sealed(l);
	svr_test_links_assert_same_session(l, cport, 0);
}

/*
 * The middlebox loses the first two SYNs (TCP with metadata); the third leaves as UDP
 * on a new waypoint pair and gets through, the SYN-ACK comes back as UDP, the session
 * works, and the path is reported once. A later session starts as UDP at once.
 */
static void
test_detect_unanswered_syns_move_to_udp(void **state)
{
	struct dlab *d = *state;
	struct svr_test_links *l = &d->links;
	struct session *a;
	uint16_t first_port;
	int path;

	l->link_drop_syn_data[0] = true;
	for (int i = 0; i < SVR_UDP_TRANSFORM_DETECT_SYNS; i++) {
		assert_int_equal(svr_test_links_tcp_send(l, true, 40000, 0x02, NULL, &path),
		    SVR_TEST_LOST);
		assert_int_equal(wire_proto(l), IPPROTO_TCP);
		assert_int_equal(d->detected[0], 0);
	}
	a = svr_test_session_of(&l->base.a, 40000, NULL);
	assert_non_null(a);
	first_port = a->wan_key.dport;
	assert_int_equal(svr_test_links_tcp_send(l, true, 40000, 0x02, NULL, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(path, 0);
	assert_int_equal(wire_proto(l), IPPROTO_UDP);
	assert_int_equal(d->detected[0], 1);
	assert_int_equal(l->base.a.rt.stats.udp_transform_moves, 1);
	assert_true(session_flags(&l->base.a, 40000) & SVR_SESSION_UDP_TRANSFORM);
	assert_int_not_equal(svr_test_session_of(&l->base.a, 40000, NULL)->wan_key.dport,
	    first_port);
	assert_true(session_flags(&l->base.b, 40000) & SVR_SESSION_UDP_TRANSFORM);
	assert_int_equal(svr_test_links_tcp_send(l, false, 40000, 0x12, NULL, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(wire_proto(l), IPPROTO_UDP);
	assert_session_works(l, 40000);
	/* Retransmitted SYNs of a transformed session change nothing. */
	assert_int_equal(svr_test_links_tcp_send(l, true, 40000, 0x02, NULL, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(l->base.a.rt.stats.udp_transform_moves, 1);
	/* The path is on now: the next session's first SYN is UDP. */
	assert_int_equal(svr_test_links_tcp_send(l, true, 40001, 0x02, NULL, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(wire_proto(l), IPPROTO_UDP);
	assert_int_equal(d->detected[0], 1);
	assert_int_equal(session_table_count(l->base.b.rt.sessions), 2);
}

/* A SYN-ACK came back: retransmitted SYNs afterwards never move the session. */
static void
test_detect_answered_session_stays_tcp(void **state)
{
	struct dlab *d = *state;
	struct svr_test_links *l = &d->links;
	int path;

	assert_int_equal(svr_test_links_tcp_send(l, true, 40010, 0x02, NULL, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_tcp_send(l, false, 40010, 0x12, NULL, &path),
	    SVR_TEST_DELIVERED);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(svr_test_links_tcp_send(l, true, 40010, 0x02, NULL, &path),
		    SVR_TEST_DELIVERED);
		assert_int_equal(wire_proto(l), IPPROTO_TCP);
	}
	assert_int_equal(d->detected[0], 0);
	assert_false(session_flags(&l->base.a, 40010) & SVR_SESSION_UDP_TRANSFORM);
	assert_session_works(l, 40010);
}

/* Without detection on the path, unanswered SYNs stay TCP forever. */
static void
test_detect_off_never_moves(void **state)
{
	struct dlab *d = *state;
	struct svr_test_links *l = &d->links;
	int path;

	l->paths[0][0].udp_transform_detect = false;
	l->link_drop_syn_data[0] = true;
	for (int i = 0; i < 6; i++) {
		assert_int_equal(svr_test_links_tcp_send(l, true, 40020, 0x02, NULL, &path),
		    SVR_TEST_LOST);
		assert_int_equal(wire_proto(l), IPPROTO_TCP);
	}
	assert_int_equal(d->detected[0], 0);
	assert_int_equal(l->base.a.rt.stats.udp_transform_moves, 0);
}

/*
 * A false positive: the SYNs reach the egress but the server does not answer. The UDP
 * SYN re-binds the egress's session by its UUID (one session at B, now carried as UDP),
 * and the session works once the server answers.
 */
static void
test_detect_silent_server_egress_rebinds(void **state)
{
	struct dlab *d = *state;
	struct svr_test_links *l = &d->links;
	int path;

	for (int i = 0; i < SVR_UDP_TRANSFORM_DETECT_SYNS; i++)
		assert_int_equal(svr_test_links_tcp_send(l, true, 40030, 0x02, NULL, &path),
		    SVR_TEST_DELIVERED);
	assert_false(session_flags(&l->base.b, 40030) & SVR_SESSION_UDP_TRANSFORM);
	assert_int_equal(svr_test_links_tcp_send(l, true, 40030, 0x02, NULL, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(wire_proto(l), IPPROTO_UDP);
	assert_int_equal(session_table_count(l->base.b.rt.sessions), 1);
	assert_true(session_flags(&l->base.b, 40030) & SVR_SESSION_UDP_TRANSFORM);
	assert_int_equal(l->base.b.rt.stats.rebinds, 1);
	assert_int_equal(svr_test_links_tcp_send(l, false, 40030, 0x12, NULL, &path),
	    SVR_TEST_DELIVERED);
	assert_session_works(l, 40030);
}

/* UDP sessions are UDP already: nothing to detect, whatever goes unanswered. */
static void
test_detect_udp_sessions_untouched(void **state)
{
	struct dlab *d = *state;
	struct svr_test_links *l = &d->links;
	int path;

	for (int i = 0; i < 5; i++)
		assert_int_equal(svr_test_links_udp_send(l, true, 40040, "ping", &path),
		    SVR_TEST_DELIVERED);
	assert_int_equal(d->detected[0], 0);
	assert_int_equal(l->base.a.rt.stats.udp_transform_moves, 0);
}

/*
 * Randomized against a model: flows open one after another, each with the middlebox on
 * or off, detection on or off, a server that answers after some SYNs or never, and the
 * callback turning the path on or not. The model says when a SYN leaves as UDP, whether
 * it is lost, and how many detections there were; the routers must agree.
 */
static void
test_detect_random_model(void **state)
{
	struct dlab *d = *state;
	struct svr_test_links *l = &d->links;
	uint64_t rng = test_seed();
	bool path_on = false;
	unsigned detections = 0, moves = 0;

	for (uint16_t flow = 0; flow < 60; flow++) {
		uint16_t cport = (uint16_t)(41000 + flow);
		bool detect = test_rand_below(&rng, 4) != 0;
		bool middlebox = test_rand_below(&rng, 2) != 0;
		unsigned syns = 1 + (unsigned)test_rand_below(&rng, 5);
		/* The SYN (1-based) the server answers once it reaches it; 0: never. */
		unsigned answer_at = (unsigned)test_rand_below(&rng, 4);
		bool as_udp, reverse = false, delivered_any = false;

		d->turn_path_on = test_rand_below(&rng, 2) != 0;
		if (test_rand_below(&rng, 8) == 0) { /* the operator reloads: path off again */
			path_on = false;
			l->paths[0][0].udp_transform = false;
		}
		l->paths[0][0].udp_transform_detect = detect;
		l->link_drop_syn_data[0] = middlebox;
		as_udp = path_on;
		for (unsigned i = 1; i <= syns && !reverse; i++) {
			enum svr_test_outcome o;
			bool moved_now = false;
			int path;

			if (!as_udp && detect && i - 1 >= SVR_UDP_TRANSFORM_DETECT_SYNS) {
				as_udp = moved_now = true;
				moves++;
				detections++;
				if (d->turn_path_on)
					path_on = true;
			}
			o = svr_test_links_tcp_send(l, true, cport, 0x02, NULL, &path);
			assert_int_equal(wire_proto(l), as_udp ? IPPROTO_UDP : IPPROTO_TCP);
			assert_int_equal(o,
			    !as_udp && middlebox ? SVR_TEST_LOST : SVR_TEST_DELIVERED);
			(void)moved_now;
			delivered_any |= o == SVR_TEST_DELIVERED;
			if (o == SVR_TEST_DELIVERED && answer_at != 0 && i >= answer_at) {
				/* The SYN-ACK carries reverse metadata: lost on TCP too. */
				o = svr_test_links_tcp_send(l, false, cport, 0x12, NULL, &path);
				assert_int_equal(wire_proto(l), as_udp ? IPPROTO_UDP : IPPROTO_TCP);
				assert_int_equal(o,
				    !as_udp && middlebox ? SVR_TEST_LOST : SVR_TEST_DELIVERED);
				reverse = o == SVR_TEST_DELIVERED;
			}
		}
		assert_int_equal(!!(session_flags(&l->base.a, cport) & SVR_SESSION_UDP_TRANSFORM),
		    as_udp);
		if (delivered_any)
			assert_int_equal(!!(session_flags(&l->base.b, cport) &
			                     SVR_SESSION_UDP_TRANSFORM),
			    as_udp);
		if (reverse)
			assert_session_works(l, cport);
		assert_int_equal(d->detected[0], detections);
		assert_int_equal(l->base.a.rt.stats.udp_transform_moves, moves);
		assert_int_equal(l->paths[0][0].udp_transform, path_on);
	}
	print_message("# %u detections over 60 flows\n", detections);
}

#define T(test, setup) cmocka_unit_test_setup_teardown(test, setup, dlab_teardown)
#define DETECT_TESTS(setup)                                                                        \
	T(test_detect_unanswered_syns_move_to_udp, setup),                                         \
	    T(test_detect_answered_session_stays_tcp, setup),                                      \
	    T(test_detect_off_never_moves, setup),                                                 \
	    T(test_detect_silent_server_egress_rebinds, setup),                                    \
	    T(test_detect_udp_sessions_untouched, setup), T(test_detect_random_model, setup)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    DETECT_TESTS(setup_v4),
	    DETECT_TESTS(setup_v6),
	    DETECT_TESTS(setup_v4_over_v6),
	    DETECT_TESTS(setup_v4_sec),
	    DETECT_TESTS(setup_v6_over_v4_sec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
