/*
 * The egress's part of the stateful firewall (struct svr_accept.tcp_syn_required and
 * half_open_full; docs/policy.md "Stateful firewall"): a new TCP session from a peer must
 * begin with a SYN, carried natively or by the UDP transform, and none is made over the
 * half-open cap; a session the ingress moves (a re-bind, mid-stream) is never refused.
 *
 *                      path 0: 203.0.113.1   ==== link 0 ==== 198.51.100.2
 *   host A -- router A                                                      router B -- host B
 *   10.0.1.10          path 1: 203.0.113.101 ==== link 1 ==== 198.51.100.102      10.0.2.20
 *
 * Router A opens the sessions (no firewall at svr's ingress: the worker's, tested in
 * tests/unit/router); router B's accept carries the firewall. Path 1 is transformed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <string.h>

#include "session/session_table.h"
#include "svr_test_links.h"

static struct svr_test_links the_lab;

/* path_pick: the other path (the test moves sessions by marking paths down). */
static uint16_t
pick_other(struct svr_router *rt, const struct session *s, void *arg)
{
	(void)arg;
	return rt->paths[1 - s->path_id].state == SVR_PATH_UP ? (uint16_t)(1 - s->path_id) :
	                                                        SVR_PATH_NONE;
}

static int
fw_setup(void **state, uint8_t family, uint8_t wan_family)
{
	struct svr_test_links *l = &the_lab;

	svr_test_links_init(l, family, wan_family, 5, false, pick_other, l);
	l->tcp_port = 443;
	l->paths[0][1].udp_transform = true;
	l->fw_syn_required = true;
	*state = l;
	return 0;
}

SVR_TEST_SETUP(setup_v4, fw_setup(state, ADDR_FAMILY_V4, ADDR_FAMILY_V4))
SVR_TEST_SETUP(setup_v6_over_v4, fw_setup(state, ADDR_FAMILY_V6, ADDR_FAMILY_V4))

static int
fw_teardown(void **state)
{
	svr_test_links_fini(*state);
	return 0;
}

static uint64_t
drops_b(struct svr_test_links *l, enum pkt_drop_reason r)
{
	return l->base.b.drops.count[r];
}

/* Mid-stream segments (ACK, data, FIN, RST, SYN-ACK) make no session at B, on either carriage. */
static void
test_fw_egress_refuses_non_syn(void **state)
{
	struct svr_test_links *l = *state;
	static const uint8_t flags[] = {0x10, 0x18, 0x11, 0x04, 0x12, 0x03};
	int path;

	for (uint16_t k = 0; k < 2; k++) {
		l->first_path = k;
		for (size_t i = 0; i < sizeof(flags); i++) {
			uint16_t cport = (uint16_t)(42000 + k * 100 + i);

			assert_int_equal(svr_test_links_tcp_send(l, true, cport, flags[i],
			                     flags[i] & 0x08 ? "data" : NULL, &path),
			    SVR_TEST_DROPPED);
			assert_int_equal(path, k);
			assert_null(svr_test_session_of(&l->base.b, cport, NULL));
		}
	}
	assert_int_equal(drops_b(l, PKT_DROP_FW_TCP_NO_SESSION), 2 * sizeof(flags));
	assert_int_equal(session_table_count(l->base.b.rt.sessions), 0);
	/* A SYN opens, and the session then carries everything. */
	assert_int_equal(svr_test_links_tcp_send(l, true, 42500, 0x02, NULL, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_tcp_send(l, false, 42500, 0x12, NULL, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_tcp_send(l, true, 42500, 0x18, "GET /", &path),
	    SVR_TEST_DELIVERED);
	/* UDP is not TCP: no SYN needed. */
	assert_int_equal(svr_test_links_udp_send(l, true, 42501, "hello", &path),
	    SVR_TEST_DELIVERED);
}

/* Over the half-open cap nothing TCP opens; open sessions and UDP go on. */
static void
test_fw_egress_half_open_full(void **state)
{
	struct svr_test_links *l = *state;
	int path;

	assert_int_equal(svr_test_links_tcp_send(l, true, 43000, 0x02, NULL, &path),
	    SVR_TEST_DELIVERED);
	l->fw_half_open_full = true;
	assert_int_equal(svr_test_links_tcp_send(l, true, 43001, 0x02, NULL, &path),
	    SVR_TEST_DROPPED);
	assert_int_equal(drops_b(l, PKT_DROP_FW_HALF_OPEN_LIMIT), 1);
	assert_int_equal(svr_test_links_tcp_send(l, false, 43000, 0x12, NULL, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_tcp_send(l, true, 43000, 0x10, NULL, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_udp_send(l, true, 43002, "hello", &path),
	    SVR_TEST_DELIVERED);
}

/*
 * An established session moves (path 0 down: plain to transformed): its first packet on
 * the new tuple is mid-stream, and B re-binds it by UUID in spite of the firewall, even
 * over the half-open cap.
 */
static void
test_fw_egress_rebind_not_refused(void **state)
{
	struct svr_test_links *l = *state;
	int path;

	assert_int_equal(svr_test_links_tcp_send(l, true, 44000, 0x02, NULL, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_tcp_send(l, false, 44000, 0x12, NULL, &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_tcp_send(l, true, 44000, 0x10, NULL, &path),
	    SVR_TEST_DELIVERED);
	l->fw_half_open_full = true;
	svr_test_links_path_set(l, 0, false);
	assert_int_equal(svr_test_links_tcp_send(l, true, 44000, 0x18, "more", &path),
	    SVR_TEST_DELIVERED);
	assert_int_equal(path, 1);
	svr_test_links_assert_same_session(l, 44000, 1);
	assert_int_equal(l->base.b.rt.stats.rebinds, 1);
	assert_int_equal(drops_b(l, PKT_DROP_FW_TCP_NO_SESSION), 0);
	assert_int_equal(drops_b(l, PKT_DROP_FW_HALF_OPEN_LIMIT), 0);
}

#define T(test, setup) cmocka_unit_test_setup_teardown(test, setup, fw_teardown)
#define FW_TESTS(setup)                                                                            \
	T(test_fw_egress_refuses_non_syn, setup), T(test_fw_egress_half_open_full, setup),         \
	    T(test_fw_egress_rebind_not_refused, setup)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    FW_TESTS(setup_v4),
	    FW_TESTS(setup_v6_over_v4),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
