/*
 * Packet duplication (docs/protocol.md "Packet duplication"): every packet of a
 * duplicated session leaves on two paths, and the far router delivers one copy.
 *
 *                      path 0: 203.0.113.1   ==== link 0 ==== 198.51.100.2
 *   host A -- router A                                                      router B -- host B
 *   10.0.1.10          path 1: 203.0.113.101 ==== link 1 ==== 198.51.100.102      10.0.2.20
 *
 * A opens every session, duplicated, with path 0 first and path 1 second. The tests carry
 * every wire packet themselves (the copies leave through ctrl_out), so they can lose and
 * reorder copies. Every test runs with security off and on.
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

#include "lib/buf.h"
#include "session/session_table.h"
#include "svr/svr_waypoint.h"
#include "svr_test_links.h"
#include "test_rand.h"

static struct svr_test_links the_lab;

/* The first leg: stay unless the path is down, then any other up path. */
static uint16_t
pick(struct svr_router *rt, const struct session *s, void *arg)
{
	(void)arg;
	if (rt->paths[s->path_id].state == SVR_PATH_UP)
		return SVR_PATH_NONE;
	for (uint16_t k = 0; k < 2; k++)
		if (k != s->path_id && rt->paths[k].state == SVR_PATH_UP)
			return k;
	return SVR_PATH_NONE;
}

/* The second leg: the lowest up path that is not the first leg's. */
static uint16_t
dup_pick(struct svr_router *rt, const struct session *s, uint16_t leg_path, void *arg)
{
	(void)arg;
	(void)leg_path;
	for (uint16_t k = 0; k < 2; k++)
		if (k != s->path_id && rt->paths[k].state == SVR_PATH_UP)
			return k;
	return SVR_PATH_NONE;
}

static int
dlab_setup(void **state, bool security)
{
	struct svr_test_links *f = &the_lab;

	svr_test_links_init(f, ADDR_FAMILY_V4, ADDR_FAMILY_V4, 13, security, pick, NULL);
	f->base.a.rt.dup_path_pick = dup_pick;
	f->base.b.rt.dup_path_pick = dup_pick;
	*state = f;
	return 0;
}

SVR_TEST_SETUP(setup_clear, dlab_setup(state, false))
SVR_TEST_SETUP(setup_secure, dlab_setup(state, true))

static int
dlab_teardown(void **state)
{
	svr_test_links_fini(*state);
	return 0;
}

/* A wire packet in flight. */
struct wire {
	struct pkt_buf *p;
	uint16_t link;
	bool to_b;
};

#define INFLIGHT_MAX 256

struct flight {
	struct wire w[INFLIGHT_MAX];
	unsigned n;
};

/* Takes what router tx sent (p, and everything in its ctrl_out) into fl. */
static void
collect(struct svr_test_links *f, struct svr_test_router *tx, struct pkt_buf *p, struct flight *fl)
{
	bool to_b = tx == &f->base.a;

	if (p != NULL) {
		assert_true(fl->n < INFLIGHT_MAX);
		fl->w[fl->n++] = (struct wire){p, (uint16_t)(p->port - SVR_TEST_WAN_PORT), to_b};
	}
	for (unsigned i = 0; i < tx->rt.ctrl_out_count; i++) {
		struct pkt_buf *c = tx->rt.ctrl_out[i];

		assert_true(fl->n < INFLIGHT_MAX);
		fl->w[fl->n++] = (struct wire){c, (uint16_t)(c->port - SVR_TEST_WAN_PORT), to_b};
	}
	tx->rt.ctrl_out_count = 0;
}

/* A host datagram (numbered by seq in its payload) into router tx from the LAN. */
static void
send_udp(struct svr_test_links *f, bool from_a, uint16_t cport, uint32_t seq, struct flight *fl)
{
	struct svr_test_router *tx = from_a ? &f->base.a : &f->base.b;
	uint8_t l4[64], pkt[128], data[12];
	size_t n, len;
	struct pkt_buf *p = pkt_pool_get(f->base.pool);
	enum pkt_drop_reason reason;
	enum svr_verdict v;

	memcpy(data, "SECRET##", 8);
	buf_store_be32(data + 8, seq);
	n = from_a ? svr_test_udp_datagram(l4, cport, 5004, data, sizeof(data)) :
	             svr_test_udp_datagram(l4, 5004, cport, data, sizeof(data));
	len = svr_test_host_packet(&f->base, pkt, from_a, IPPROTO_UDP, l4, n);
	assert_non_null(p);
	assert_int_equal(pkt_buf_set(p, pkt, len), 0);
	assert_int_equal(pkt_parse(p, &reason), 0);
	svr_lan_rx_burst(&tx->rt, &p, 1, 0, &v, f->base.now_ns);
	if (v == SVR_VERDICT_NEW_SESSION) {
		struct svr_route route = {.path_id = 0,
		    .encrypt = tx->encrypt,
		    .duplicate = true,
		    .dup_path_id = 1};

		v = svr_lan_first(&tx->rt, p, 0, &route, f->base.now_ns);
	}
	if (v != SVR_VERDICT_TO_WAN) {
		pkt_pool_put(f->base.pool, p);
		p = NULL;
	}
	collect(f, tx, p, fl);
}

/*
 * Delivers wire packet i of fl (removed from it); the host's sequence when the far
 * router gave it to its LAN, else -1. Answers the far router sends go into fl.
 */
static long
deliver_one(struct svr_test_links *f, struct flight *fl, unsigned i)
{
	struct wire w = fl->w[i];
	struct svr_test_router *rx = w.to_b ? &f->base.b : &f->base.a;
	struct pkt_buf *h;
	long seq = -1;

	fl->w[i] = fl->w[--fl->n];
	h = svr_test_links_wan_in(f, rx, w.p, w.link, NULL);
	if (h != NULL) {
		const uint8_t *d = h->buf + h->head;

		assert_int_equal(h->info.l4_proto, IPPROTO_UDP);
		assert_int_equal(h->info.ip_len - h->info.payload_off, 12);
		assert_memory_equal(d + h->info.payload_off, "SECRET##", 8);
		seq = buf_load_be32(d + h->info.payload_off + 8);
		pkt_pool_put(f->base.pool, h);
	}
	collect(f, rx, NULL, fl);
	return seq;
}

/* Drops what is in flight on link k. */
static void
lose_link(struct svr_test_links *f, struct flight *fl, uint16_t k)
{
	for (unsigned i = 0; i < fl->n;) {
		if (fl->w[i].link == k) {
			pkt_pool_put(f->base.pool, fl->w[i].p);
			fl->w[i] = fl->w[--fl->n];
		} else {
			i++;
		}
	}
}

/* Delivers everything in flight in order; returns how many reached a host. */
static unsigned
deliver_all(struct svr_test_links *f, struct flight *fl, long *last)
{
	unsigned hosts = 0;

	while (fl->n > 0) {
		long seq = deliver_one(f, fl, 0);

		if (seq >= 0) {
			hosts++;
			if (last != NULL)
				*last = seq;
		}
	}
	return hosts;
}

static uint32_t
in_use(const struct svr_test_links *f, int k)
{
	return svr_waypoint_ports_in_use(f->paths[0][k].ports);
}

/*
 * Both copies cross, both ways: each host gets every datagram once, the second copy is
 * counted as filtered, and both routers hold one session with a second leg on path 1.
 */
static void
test_dup_both_legs_deliver_once(void **state)
{
	struct svr_test_links *f = *state;
	struct flight fl = {0};
	struct session *sa, *sb, *alias;
	uint32_t ia, ib, ai;
	long last = -1;

	for (uint32_t i = 1; i <= 6; i++) {
		send_udp(f, true, 40000, i, &fl);
		assert_int_equal(fl.n, 2); /* one copy per path */
		assert_int_not_equal(fl.w[0].link, fl.w[1].link);
		assert_int_equal(deliver_all(f, &fl, &last), 1);
		assert_int_equal(last, i);
		send_udp(f, false, 40000, 100 + i, &fl);
		assert_int_equal(deliver_all(f, &fl, &last), 1);
		assert_int_equal(last, 100 + i);
	}
	assert_int_equal(f->base.a.rt.stats.dup_tx, 6);
	assert_int_equal(f->base.b.rt.stats.dup_tx, 6);
	assert_int_equal(f->base.b.rt.stats.dup_filtered, 6);
	assert_int_equal(f->base.a.rt.stats.dup_filtered, 6);
	/* One session and one alias each; the alias is on path 1 at both ends. */
	assert_int_equal(session_table_count(f->base.a.rt.sessions), 2);
	assert_int_equal(session_table_count(f->base.b.rt.sessions), 2);
	sa = svr_test_session_of(&f->base.a, 40000, &ia);
	sb = svr_test_session_of(&f->base.b, 40000, &ib);
	assert_non_null(sa);
	assert_non_null(sb);
	assert_true(sa->flags & SVR_SESSION_DUP);
	assert_true(sb->flags & SVR_SESSION_DUP);
	assert_int_equal(sa->path_id, 0);
	assert_int_equal(sb->path_id, 0);
	ai = svr_session_alias(&f->base.a.rt, ia);
	assert_int_not_equal(ai, SESSION_INDEX_NONE);
	alias = session_table_get(f->base.a.rt.sessions, ai);
	assert_int_equal(alias->path_id, 1);
	assert_true(alias->flags & SVR_SESSION_LEG1);
	alias = session_table_get(f->base.b.rt.sessions, svr_session_alias(&f->base.b.rt, ib));
	assert_int_equal(alias->path_id, 1);
	/* The handshake is over on both legs: no forward metadata is due on either. */
	assert_false(sa->flags & SVR_SESSION_FWD_META);
	assert_false(session_table_get(f->base.a.rt.sessions, ai)->flags & SVR_SESSION_FWD_META);
	/* Each host packet counted once, not per copy. */
	assert_int_equal(sa->packets[SESSION_DIR_LAN_TO_WAN], 6);
	assert_int_equal(sb->packets[SESSION_DIR_WAN_TO_LAN], 6);
	assert_int_equal(in_use(f, 0), 1);
	assert_int_equal(in_use(f, 1), 1);
	svr_test_lab_assert_no_drops(&f->base);
}

/*
 * Steady state on the wire: each copy carries only the 12-byte header TLV 0x8003 in a
 * block (24 bytes; sealed, 56), with the same sequence on both legs and legs 0 and 1.
 */
static void
test_dup_wire_overhead(void **state)
{
	struct svr_test_links *f = *state;
	struct flight fl = {0};
	size_t plain = 20 + 8 + 12;

	for (uint32_t i = 1; i <= 4; i++) {
		send_udp(f, true, 40000, i, &fl);
		deliver_all(f, &fl, NULL);
		send_udp(f, false, 40000, i, &fl);
		deliver_all(f, &fl, NULL);
	}
	send_udp(f, true, 40000, 5, &fl);
	assert_int_equal(fl.n, 2);
	for (unsigned i = 0; i < 2; i++) {
		struct pkt_buf *p = fl.w[i].p;

		assert_int_equal(p->len,
		    plain + (f->security ? 24 + 32 + CRYPTO_AEAD_TRAILER_LEN : 24));
		if (!f->security) {
			struct svr_meta m;
			size_t block_len;
			enum pkt_drop_reason reason;
			const uint8_t *d = p->buf + p->head + 28;

			assert_int_equal(svr_meta_decode(d, p->len - 28, &m, &block_len, &reason),
			    0);
			assert_int_equal(m.present, SVR_META_F_DUP_SEQ);
			assert_int_equal(m.dup_seq, 5);
			assert_int_equal(m.dup_leg, fl.w[i].link);
		}
	}
	assert_int_equal(deliver_all(f, &fl, NULL), 1);
	svr_test_lab_assert_no_drops(&f->base);
}

/*
 * Seeded model: copies are lost on each link at random (up to 30 %) and delivered in
 * random order from a bounded flight. A datagram reaches the host exactly once when at
 * least one of its copies crossed, never when none did; nothing is counted as a drop.
 */
static void
test_dup_random_loss_and_reorder(void **state)
{
	enum {
		N = 600,
		FLIGHT = 12
	};
	struct svr_test_links *f = *state;
	uint64_t rng = test_seed();
	static uint8_t got_b[N + 1], got_a[N + 1], crossed_b[N + 1], crossed_a[N + 1];
	struct flight fl = {0};
	unsigned loss0 = (unsigned)test_rand_below(&rng, 31),
	         loss1 = (unsigned)test_rand_below(&rng, 31);

	memset(got_b, 0, sizeof(got_b));
	memset(got_a, 0, sizeof(got_a));
	memset(crossed_b, 0, sizeof(crossed_b));
	memset(crossed_a, 0, sizeof(crossed_a));
	printf("# loss %u %% on link 0, %u %% on link 1\n", loss0, loss1);
	/* The first exchange is clean: the session and both legs are set up. */
	send_udp(f, true, 40000, 0, &fl);
	deliver_all(f, &fl, NULL);
	send_udp(f, false, 40000, 0, &fl);
	deliver_all(f, &fl, NULL);
	for (uint32_t i = 1; i <= N; i++) {
		bool from_a = test_rand_below(&rng, 2) == 0;
		unsigned before = fl.n;

		send_udp(f, from_a, 40000, i, &fl);
		/* Loss on the way out: what is left of this packet's copies crossed. */
		for (unsigned j = before; j < fl.n;) {
			unsigned loss = fl.w[j].link == 0 ? loss0 : loss1;

			if (test_rand_below(&rng, 100) < loss) {
				pkt_pool_put(f->base.pool, fl.w[j].p);
				fl.w[j] = fl.w[--fl.n];
			} else {
				(from_a ? crossed_b : crossed_a)[i] = 1;
				j++;
			}
		}
		while (fl.n > (unsigned)test_rand_below(&rng, FLIGHT)) {
			unsigned k = (unsigned)test_rand_below(&rng, fl.n);
			bool to_b = fl.w[k].to_b;
			long seq = deliver_one(f, &fl, k);

			if (seq >= 0 && seq <= N) {
				uint8_t *got = to_b ? got_b : got_a;

				assert_int_equal(got[seq], 0); /* never twice */
				got[seq] = 1;
			}
		}
	}
	while (fl.n > 0) {
		bool to_b = fl.w[0].to_b;
		long seq = deliver_one(f, &fl, 0);

		if (seq >= 0 && seq <= N) {
			uint8_t *got = to_b ? got_b : got_a;

			assert_int_equal(got[seq], 0);
			got[seq] = 1;
		}
	}
	for (uint32_t i = 1; i <= N; i++) {
		assert_int_equal(got_b[i], crossed_b[i]);
		assert_int_equal(got_a[i], crossed_a[i]);
	}
	assert_int_equal(f->base.a.rt.stats.dup_stale + f->base.b.rt.stats.dup_stale, 0);
	svr_test_lab_assert_no_drops(&f->base);
}

/*
 * One leg's path goes down: the session goes on with the other, no copy is sent into
 * the dead path; when the first leg's path dies the session moves to path 1 and has a
 * single leg; when path 0 returns the second leg is bound there again (sweep).
 */
static void
test_dup_leg_follows_paths(void **state)
{
	struct svr_test_links *f = *state;
	struct flight fl = {0};
	uint64_t dup_tx;
	uint32_t ia, ai;
	long last = -1;
	unsigned calls = 0;

	send_udp(f, true, 40000, 1, &fl);
	deliver_all(f, &fl, NULL);
	send_udp(f, false, 40000, 1, &fl);
	deliver_all(f, &fl, NULL);
	(void)svr_test_session_of(&f->base.a, 40000, &ia);
	/* Path 1 down: one copy, on path 0. */
	svr_test_links_path_set(f, 1, false);
	dup_tx = f->base.a.rt.stats.dup_tx;
	send_udp(f, true, 40000, 2, &fl);
	assert_int_equal(fl.n, 1);
	assert_int_equal(fl.w[0].link, 0);
	assert_int_equal(deliver_all(f, &fl, &last), 1);
	assert_int_equal(last, 2);
	assert_int_equal(f->base.a.rt.stats.dup_tx, dup_tx);
	/* Path 1 back, path 0 down: the session moves to path 1, its leg has nowhere to go. */
	svr_test_links_path_set(f, 1, true);
	svr_test_links_path_set(f, 0, false);
	send_udp(f, true, 40000, 3, &fl);
	assert_int_equal(fl.n, 1);
	assert_int_equal(fl.w[0].link, 1);
	assert_int_equal(deliver_all(f, &fl, &last), 1);
	assert_int_equal(last, 3);
	assert_int_equal(svr_test_session_of(&f->base.a, 40000, NULL)->path_id, 1);
	send_udp(f, false, 40000, 3, &fl);
	assert_int_equal(fl.n, 1);
	assert_int_equal(deliver_all(f, &fl, &last), 1);
	/* Path 0 back: the sweep of path 1 binds the second leg to path 0 at both ends. */
	svr_test_links_path_set(f, 0, true);
	while (calls == 0 || !svr_sessions_migrate_done(&f->base.a.rt, 1)) {
		(void)svr_sessions_migrate_path(&f->base.a.rt, 1, 8, f->base.now_ns);
		collect(f, &f->base.a, NULL, &fl);
		deliver_all(f, &fl, NULL);
		assert_true(++calls < 10);
	}
	ai = svr_session_alias(&f->base.a.rt, ia);
	assert_int_not_equal(ai, SESSION_INDEX_NONE);
	assert_int_equal(session_table_get(f->base.a.rt.sessions, ai)->path_id, 0);
	send_udp(f, true, 40000, 4, &fl);
	assert_int_equal(fl.n, 2);
	assert_int_equal(deliver_all(f, &fl, &last), 1);
	assert_int_equal(last, 4);
	send_udp(f, false, 40000, 4, &fl);
	assert_int_equal(fl.n, 2); /* the egress bound the moved leg: answers on both */
	lose_link(f, &fl, 1);
	assert_int_equal(deliver_all(f, &fl, &last), 1);
	assert_int_equal(in_use(f, 0), 1);
	assert_int_equal(in_use(f, 1), 1);
	svr_test_lab_assert_no_drops(&f->base);
}

static void
expire_hook(struct session *s, uint32_t index, void *arg)
{
	(void)index;
	svr_session_release(arg, s);
}

/*
 * Keep-alives (the NAT sweep's): the session's goes on both legs, a second leg's on its
 * own tuple only; the far router consumes each (a hit on either tuple).
 */
static void
test_dup_keepalive_per_leg(void **state)
{
	struct svr_test_links *f = *state;
	struct flight fl = {0};
	uint64_t ctrl_rx;
	uint32_t ia, ai;

	send_udp(f, true, 40000, 1, &fl);
	deliver_all(f, &fl, NULL);
	send_udp(f, false, 40000, 1, &fl);
	deliver_all(f, &fl, NULL);
	(void)svr_test_session_of(&f->base.a, 40000, &ia);
	ai = svr_session_alias(&f->base.a.rt, ia);
	ctrl_rx = f->base.b.rt.stats.control_rx;
	assert_int_equal(svr_session_keepalive(&f->base.a.rt, ia), 0);
	collect(f, &f->base.a, NULL, &fl);
	assert_int_equal(fl.n, 2);
	assert_int_not_equal(fl.w[0].link, fl.w[1].link);
	assert_int_equal(deliver_all(f, &fl, NULL), 0);
	assert_int_equal(svr_session_keepalive(&f->base.a.rt, ai), 0);
	collect(f, &f->base.a, NULL, &fl);
	assert_int_equal(fl.n, 1);
	assert_int_equal(fl.w[0].link, 1);
	assert_int_equal(deliver_all(f, &fl, NULL), 0);
	assert_int_equal(f->base.b.rt.stats.control_rx, ctrl_rx + 3);
	svr_test_lab_assert_no_drops(&f->base);
}

/* Ending a duplicated session ends its second leg: both waypoint pairs go back. */
static void
test_dup_expire_returns_pairs(void **state)
{
	struct svr_test_links *f = *state;
	struct flight fl = {0};

	send_udp(f, true, 40000, 1, &fl);
	deliver_all(f, &fl, NULL);
	assert_int_equal(session_table_count(f->base.a.rt.sessions), 2);
	f->base.now_ns += 400 * SVR_TEST_NS;
	session_table_expire(f->base.a.rt.sessions, f->base.now_ns, expire_hook, &f->base.a.rt);
	session_table_expire(f->base.b.rt.sessions, f->base.now_ns, expire_hook, &f->base.b.rt);
	assert_int_equal(session_table_count(f->base.a.rt.sessions), 0);
	assert_int_equal(session_table_count(f->base.b.rt.sessions), 0);
	assert_int_equal(in_use(f, 0), 0);
	assert_int_equal(in_use(f, 1), 0);
}

#define BOTH(t)                                                                                    \
	cmocka_unit_test_setup_teardown(t, setup_clear, dlab_teardown),                            \
	    cmocka_unit_test_setup_teardown(t, setup_secure, dlab_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    BOTH(test_dup_both_legs_deliver_once),
	    BOTH(test_dup_wire_overhead),
	    BOTH(test_dup_random_loss_and_reorder),
	    BOTH(test_dup_leg_follows_paths),
	    BOTH(test_dup_keepalive_per_leg),
	    BOTH(test_dup_expire_returns_pairs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
