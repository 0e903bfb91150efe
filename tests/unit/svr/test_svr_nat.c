/*
 * NAT between routers (docs/decisions/0008-nat.md, docs/protocol.md section 16), the
 * transforms' part: router B is behind a NAT on link 0, router A public.
 *
 *   host A -- router A 203.0.113.1 ==== link 0 ==== [NAT] 198.51.100.2 router B -- host B
 *   10.0.1.10   (path 0: learn)                    (path 0: behind_nat)        10.0.2.20
 *
 * The NAT (a middlebox on link 0) gives every port B sends from a mapping to a port of
 * its own (from NAT_PORT_FIRST, below the waypoint range), lets in only packets to a
 * mapped port (port-restricted), and forgets everything on a flush. A packet from A to
 * one of B's own waypoint ports stands for the router's relay over the probe mapping
 * (router_nat.h, tested there): it reaches B unchanged. Both paths carry TCP as UDP, as
 * the router configures them. Every test runs with security off and on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "lib/buf.h"
#include "pkt/pkt_csum.h"
#include "svr_test_links.h"

#define NAT_PORT_FIRST 2000
#define NAT_MAP_MAX    64

static struct svr_test_links the_lab;

static struct {
	uint16_t inside[NAT_MAP_MAX]; /* B's port of mapping i, translated to FIRST + next + i */
	unsigned count;
	uint16_t base; /* first translated port of the current mappings */
	uint64_t relayed, refused;
} nat;

static void
nat_flush(void)
{
	/* A new mapping never reuses a port of the old ones (fully random in the lab). */
	nat.base = (uint16_t)(nat.base + NAT_MAP_MAX);
	nat.count = 0;
}

static void
nat_rewrite(struct pkt_buf *p, bool sport, uint16_t port)
{
	enum pkt_drop_reason reason;
	uint8_t *d = p->buf + p->head;

	buf_store_be16(d + p->info.l4_off + (sport ? 0 : 2), port);
	assert_int_equal(pkt_parse(p, &reason), 0);
	pkt_csum_fill(p->buf + p->head, &p->info);
}

static bool
nat_middlebox(struct svr_test_links *l, struct pkt_buf *p, bool from_a, uint16_t k)
{
	(void)l;
	if (k != 0)
		return true;
	if (!from_a) {
		unsigned i;

		for (i = 0; i < nat.count && nat.inside[i] != p->info.sport; i++)
			;
		if (i == nat.count) {
			assert_true(nat.count < NAT_MAP_MAX);
			nat.inside[nat.count++] = p->info.sport;
		}
		nat_rewrite(p, true, (uint16_t)(nat.base + i));
		return true;
	}
	if (p->info.dport >= SVR_WAYPOINT_PORT_FIRST) {
		nat.relayed++; /* the router would have wrapped it: it arrives as sent */
		return true;
	}
	if (p->info.dport >= nat.base && p->info.dport < nat.base + nat.count) {
		nat_rewrite(p, false, nat.inside[p->info.dport - nat.base]);
		return true;
	}
	nat.refused++; /* unsolicited: no mapping for that port */
	return false;
}

static int
nat_setup(void **state, bool security)
{
	struct svr_test_links *f = &the_lab;

	svr_test_links_init(f, ADDR_FAMILY_V4, ADDR_FAMILY_V4, 11, security, NULL, NULL);
	memset(&nat, 0, sizeof(nat));
	nat.base = NAT_PORT_FIRST;
	f->middlebox = nat_middlebox;
	f->paths[0][0].learn = true;
	f->paths[1][0].behind_nat = true;
	f->paths[0][0].udp_transform = f->paths[1][0].udp_transform = true;
	f->tcp_port = 443;
	f->base.a.rt.uuid_index = hash_new(64, 16, 7);
	assert_non_null(f->base.a.rt.uuid_index);
	*state = f;
	return 0;
}

static int
nat_teardown(void **state)
{
	struct svr_test_links *f = *state;

	hash_free(f->base.a.rt.uuid_index);
	f->base.a.rt.uuid_index = NULL;
	svr_test_links_fini(f);
	return 0;
}

SVR_TEST_SETUP(setup_clear, nat_setup(state, false))
SVR_TEST_SETUP(setup_sec, nat_setup(state, true))

/* The session of client port cport at router r (A: 0, B: 1), or NULL. */
static struct session *
nat_session(struct svr_test_links *f, bool a, uint16_t cport)
{
	struct session_table *t = (a ? &f->base.a : &f->base.b)->rt.sessions;

	for (uint32_t i = session_table_next(t, 0); i != SESSION_INDEX_NONE;
	     i = session_table_next(t, i + 1)) {
		struct session *s = session_table_get(t, i);

		if (s->lan_key.sport == cport || s->lan_key.dport == cport)
			return s;
	}
	return NULL;
}

static uint64_t
drops(const struct svr_test_router *r, enum pkt_drop_reason reason)
{
	return r->drops.count[reason];
}

/* Every session of B sends what the worker's re-bind pass makes it send. */
static void
nat_rebind_pass(struct svr_test_links *f)
{
	struct session_table *t = f->base.b.rt.sessions;

	for (uint32_t i = session_table_next(t, 0); i != SESSION_INDEX_NONE;
	     i = session_table_next(t, i + 1))
		assert_int_equal(svr_session_keepalive(&f->base.b.rt, i), 0);
	assert_int_equal(svr_session_keepalive(&f->base.b.rt, SESSION_INDEX_NONE - 1), -ENOENT);
	svr_test_links_ctrl_deliver(f);
}

/* A opens a session toward B behind the NAT: the relay, then B's keep-alive binds it. */
static void
test_nat_public_side_opens(void **state)
{
	struct svr_test_links *f = *state;
	struct session *sa, *sb;

	assert_int_equal(svr_test_links_udp_send(f, true, 41000, "hello", NULL),
	    SVR_TEST_DELIVERED);
	assert_int_equal(nat.relayed, 1);
	/* B's new egress session told A its translated tuple at once. */
	sa = nat_session(f, true, 41000);
	sb = nat_session(f, false, 41000);
	assert_non_null(sa);
	assert_non_null(sb);
	assert_int_equal(f->base.a.rt.stats.ingress_rebinds, 1);
	assert_int_equal(sa->wan_key.sport, NAT_PORT_FIRST);
	assert_int_equal(sa->wan_key.dport, sb->wan_key.sport); /* A's own port never moves */
	assert_false(sa->flags & SVR_SESSION_FWD_META);
	/* From now on straight through the mapping, both ways. */
	assert_int_equal(svr_test_links_udp_send(f, true, 41000, "again", NULL),
	    SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_udp_send(f, false, 41000, "answer", NULL),
	    SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_tcp_send(f, true, 41001, 0x02, NULL, NULL),
	    SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_tcp_send(f, false, 41001, 0x12, NULL, NULL),
	    SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_tcp_send(f, true, 41001, 0x10, "GET", NULL),
	    SVR_TEST_DELIVERED);
	assert_int_equal(nat.relayed, 2); /* the SYN; the ACK went by its mapping */
	assert_int_equal(nat.refused, 0);
	assert_int_equal(f->base.a.rt.stats.ingress_rebinds, 2);
}

/* B opens a session: the NAT translates its port, A answers to the translated one. */
static void
test_nat_natted_side_opens(void **state)
{
	struct svr_test_links *f = *state;
	struct session *sa;

	assert_int_equal(svr_test_links_udp_send(f, false, 42000, "from b", NULL),
	    SVR_TEST_DELIVERED);
	sa = nat_session(f, true, 42000);
	assert_non_null(sa);
	assert_int_equal(sa->role, SESSION_ROLE_EGRESS);
	assert_int_equal(sa->wan_key.sport, NAT_PORT_FIRST);
	assert_int_equal(svr_test_links_udp_send(f, true, 42000, "reply", NULL),
	    SVR_TEST_DELIVERED);
	assert_int_equal(nat.relayed, 0);
	assert_int_equal(nat.refused, 0);
}

/*
 * The NAT forgets its mappings: packets toward the old ports are refused, B's arrive on
 * new ports A does not know (dropped, counted); B's re-bind pass moves every session.
 */
static void
test_nat_flush_rebinds_both_roles(void **state)
{
	struct svr_test_links *f = *state;
	uint64_t rebinds_before;

	assert_int_equal(svr_test_links_udp_send(f, true, 41000, "a opens", NULL),
	    SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_udp_send(f, false, 42000, "b opens", NULL),
	    SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_udp_send(f, true, 42000, "a answers", NULL),
	    SVR_TEST_DELIVERED);
	nat_flush();
	assert_int_equal(svr_test_links_udp_send(f, true, 41000, "lost", NULL), SVR_TEST_LOST);
	assert_int_equal(nat.refused, 1);
	assert_int_equal(svr_test_links_udp_send(f, false, 42000, "early", NULL), SVR_TEST_DROPPED);
	/* Without metadata, or (security) with only a protection signal: no context. */
	assert_int_equal(drops(&f->base.a, PKT_DROP_META_REQUIRED) +
	        drops(&f->base.a, PKT_DROP_META_MISSING_CONTEXT),
	    1);
	rebinds_before = f->base.a.rt.stats.rebinds;
	nat_rebind_pass(f);
	/* One re-bind per session: the egress one by forward metadata, the ingress one by
	 * reverse metadata and the UUID. */
	assert_int_equal(f->base.a.rt.stats.rebinds, rebinds_before + 2);
	assert_true(nat_session(f, true, 41000)->wan_key.sport >= nat.base);
	assert_true(nat_session(f, true, 41000)->wan_key.sport < nat.base + nat.count);
	assert_int_equal(svr_test_links_udp_send(f, true, 41000, "back", NULL), SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_udp_send(f, false, 41000, "back", NULL),
	    SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_udp_send(f, false, 42000, "back", NULL),
	    SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_udp_send(f, true, 42000, "back", NULL), SVR_TEST_DELIVERED);
	assert_int_equal(nat.refused, 1);
}

/*
 * The same flush, but A answers B's packets on the unknown tuples with "enable metadata":
 * each session re-binds from its next packet, without waiting for B to notice the flush.
 */
static void
test_nat_flush_enable_metadata(void **state)
{
	struct svr_test_links *f = *state;

	f->nat_enable_meta = true;
	assert_int_equal(svr_test_links_udp_send(f, true, 41000, "a opens", NULL),
	    SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_udp_send(f, false, 41000, "b answers", NULL),
	    SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_udp_send(f, true, 41000, "a again", NULL),
	    SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_udp_send(f, false, 42000, "b opens", NULL),
	    SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_udp_send(f, true, 42000, "a answers", NULL),
	    SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_udp_send(f, false, 42000, "b again", NULL),
	    SVR_TEST_DELIVERED);
	assert_int_equal(f->base.a.rt.stats.enable_meta_tx, 0);
	nat_flush();
	/* B's ingress session: one packet lost, answered; the next carries metadata. */
	assert_int_equal(svr_test_links_udp_send(f, false, 42000, "early", NULL), SVR_TEST_DROPPED);
	assert_int_equal(f->base.a.rt.stats.enable_meta_tx, 1);
	assert_true(nat_session(f, false, 42000)->flags & SVR_SESSION_FWD_META);
	assert_int_equal(svr_test_links_udp_send(f, false, 42000, "re-bound", NULL),
	    SVR_TEST_DELIVERED);
	assert_int_equal(svr_test_links_udp_send(f, true, 42000, "both ways", NULL),
	    SVR_TEST_DELIVERED);
	/* B's egress session: the same through reverse metadata with the UUID. */
	assert_int_equal(svr_test_links_udp_send(f, false, 41000, "early", NULL), SVR_TEST_DROPPED);
	assert_int_equal(f->base.a.rt.stats.enable_meta_tx, 2);
	assert_true(nat_session(f, false, 41000)->flags & SVR_SESSION_REV_META);
	assert_int_equal(svr_test_links_udp_send(f, false, 41000, "re-bound", NULL),
	    SVR_TEST_DELIVERED);
	assert_int_equal(f->base.a.rt.stats.ingress_rebinds, 2);
	assert_int_equal(svr_test_links_udp_send(f, true, 41000, "both ways", NULL),
	    SVR_TEST_DELIVERED);
	assert_int_equal(nat.refused, 0);
}

/* An answer that overtakes B's keep-alive (it is lost here) re-binds by itself. */
static void
test_nat_answer_rebinds_without_keepalive(void **state)
{
	struct svr_test_links *f = *state;
	struct pkt_buf *c;

	/* The first packet, by the relay, without letting B's keep-alive cross. */
	{
		uint8_t l4[64];
		uint8_t pkt[256];
		size_t len = svr_test_udp_datagram(l4, 43000, 5004, "x", 1);
		struct pkt_buf *p = pkt_pool_get(f->base.pool), *h;
		enum pkt_drop_reason reason;

		len = svr_test_host_packet(&f->base, pkt, true, IPPROTO_UDP, l4, len);
		assert_int_equal(pkt_buf_set(p, pkt, len), 0);
		assert_int_equal(pkt_parse(p, &reason), 0);
		assert_int_equal(svr_test_links_lan_in(f, &f->base.a, p), SVR_VERDICT_TO_WAN);
		assert_true(nat_middlebox(f, p, true, 0));
		h = svr_test_links_wan_in(f, &f->base.b, p, 0, NULL);
		assert_non_null(h);
		pkt_pool_put(f->base.pool, h);
	}
	assert_int_equal(f->base.b.rt.ctrl_out_count, 1);
	c = f->base.b.rt.ctrl_out[0];
	f->base.b.rt.ctrl_out_count = 0;
	pkt_pool_put(f->base.pool, c);
	assert_true(nat_session(f, true, 43000)->flags & SVR_SESSION_FWD_META);
	/* B's answer carries reverse metadata with the UUID: A re-binds and delivers it. */
	assert_int_equal(svr_test_links_udp_send(f, false, 43000, "answer", NULL),
	    SVR_TEST_DELIVERED);
	assert_int_equal(f->base.a.rt.stats.ingress_rebinds, 1);
	assert_false(nat_session(f, true, 43000)->flags & SVR_SESSION_FWD_META);
	assert_int_equal(svr_test_links_udp_send(f, true, 43000, "direct", NULL),
	    SVR_TEST_DELIVERED);
	assert_int_equal(nat.relayed, 1);
}

/* A re-bind names a session: not one of another role, path or an unknown UUID. */
static void
test_nat_rebind_refusals(void **state)
{
	struct svr_test_links *f = *state;
	struct svr_meta m;
	struct pkt_buf *p;
	struct session *sa;
	uint8_t raw[64] = {0x45, 0, 0, 28, 0, 0, 0, 0, 64, IPPROTO_UDP};
	enum pkt_drop_reason reason;

	assert_int_equal(svr_test_links_udp_send(f, false, 44000, "b opens", NULL),
	    SVR_TEST_DELIVERED);
	sa = nat_session(f, true, 44000);
	memset(&m, 0, sizeof(m));
	m.present = SVR_META_F_CONTROL | SVR_META_F_UUID | SVR_META_F_DISABLE_FWD_META;
	m.control = SVR_CONTROL_KEEPALIVE;
	memcpy(m.uuid, sa->uuid, sizeof(m.uuid));
	/* A packet on some tuple of link 0 (its content does not matter here). */
	memcpy(raw + 12, sa->wan_key.src, 4);
	memcpy(raw + 16, sa->wan_key.dst, 4);
	buf_store_be16(raw + 20, 3999);
	buf_store_be16(raw + 22, sa->wan_key.dport);
	buf_store_be16(raw + 24, 8);
	buf_store_be16(raw + 10, pkt_csum_ipv4_header(raw, 20));
	p = pkt_pool_get(f->base.pool);
	assert_int_equal(pkt_buf_set(p, raw, 28), 0);
	assert_int_equal(pkt_parse(p, &reason), 0);
	/* An egress session of A is not re-bound from reverse metadata. */
	assert_int_equal(svr_wan_rebind_ingress(&f->base.a.rt, p, &m, 0, f->base.now_ns),
	    SVR_VERDICT_DROP);
	assert_int_equal(drops(&f->base.a, PKT_DROP_SVR_CONTROL_NO_SESSION), 1);
	m.uuid[0] ^= 1;
	assert_int_equal(svr_wan_rebind_ingress(&f->base.a.rt, p, &m, 0, f->base.now_ns),
	    SVR_VERDICT_DROP);
	assert_int_equal(drops(&f->base.a, PKT_DROP_SVR_CONTROL_NO_SESSION), 2);
	pkt_pool_put(f->base.pool, p);
}

#define T(test, setup) cmocka_unit_test_setup_teardown(test, setup, nat_teardown)
#define NAT_TESTS(setup)                                                                           \
	T(test_nat_public_side_opens, setup), T(test_nat_natted_side_opens, setup),                \
	    T(test_nat_flush_rebinds_both_roles, setup), T(test_nat_flush_enable_metadata, setup), \
	    T(test_nat_answer_rebinds_without_keepalive, setup),                                   \
	    T(test_nat_rebind_refusals, setup)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    NAT_TESTS(setup_clear),
	    NAT_TESTS(setup_sec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
