/*
 * The breakout table (src/router/router_breakout.c): source NAT both ways with valid
 * checksums, NAT port exhaustion and return, and a randomized model of sessions and
 * ports against a naive list. Also the policy-routing rule message of router_netlink.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/buf.h"
#include "pkt/pkt_csum.h"
#include "pkt/pkt_parse.h"
#include "router/router_breakout.h"
#include "router/router_netlink.h"
#include "test_rand.h"
#include "worker_rig.h"

#define S 1000000000ull

/* A parsed UDP or TCP packet in p with valid checksums. */
static void
packet_set(struct pkt_buf *p, const char *src, const char *dst, uint8_t proto, uint16_t sport,
    uint16_t dport)
{
	enum pkt_drop_reason reason;
	uint8_t out[64];
	size_t len = worker_rig_packet_bytes(out, src, dst, proto, sport, dport, 0, 0,
	    (const uint8_t *)"data", 4);

	assert_int_equal(pkt_buf_set(p, out, len), 0);
	assert_int_equal(pkt_parse(p, &reason), 0);
}

static struct router_breakout *
table_new(uint16_t first, uint16_t last, uint32_t capacity)
{
	struct session_table_config scfg;
	struct router_breakout *b;
	struct addr wan[2];

	session_table_config_default(&scfg, capacity);
	scfg.seed = 1;
	assert_int_equal(addr_parse("192.0.2.1", &wan[0]), 0);
	assert_int_equal(addr_parse("2001:db8::1", &wan[1]), 0);
	assert_int_equal(router_breakout_new(&scfg, capacity, wan, 2, first, last, S, &b), 0);
	return b;
}

static void
test_router_breakout_translates_and_restores(void **state)
{
	struct pkt_pool *pool = pkt_pool_new(4);
	struct pkt_buf *p = pkt_pool_get(pool);
	struct router_breakout *b = table_new(16384, 65535, 64);
	enum pkt_drop_reason reason;
	uint32_t index;
	uint16_t nat;

	(void)state;
	packet_set(p, "10.1.0.10", "198.51.100.80", IPPROTO_UDP, 40000, 53);
	assert_int_equal(router_breakout_lan_lookup(b, p, 3), SESSION_INDEX_NONE);
	assert_int_equal(router_breakout_open(b, p, 3, 0, 7, 9, S, &index, &reason), 0);
	assert_int_equal(router_breakout_lan_lookup(b, p, 3), index);
	/* Another segment with the same addresses is another session. */
	assert_int_equal(router_breakout_lan_lookup(b, p, 4), SESSION_INDEX_NONE);
	assert_int_equal(router_breakout_out(b, p, index, S), 0);
	assert_memory_equal(pkt_buf_data(p) + 12, "\xc0\x00\x02\x01", 4);
	assert_true(pkt_csum_ipv4_header_valid(pkt_buf_data(p), 20));
	assert_true(pkt_csum_verify(pkt_buf_data(p), &p->info));
	nat = buf_load_be16(pkt_buf_data(p) + 20);
	assert_true(nat >= 16384 && nat % 2 == 0);
	/* The answer. */
	packet_set(p, "198.51.100.80", "192.0.2.1", IPPROTO_UDP, 53, nat);
	assert_int_equal(router_breakout_wan_lookup(b, p, 1), SESSION_INDEX_NONE);
	assert_int_equal(router_breakout_wan_lookup(b, p, 0), index);
	assert_int_equal(router_breakout_in(b, p, index, S)->tenant_id, 7);
	assert_memory_equal(pkt_buf_data(p) + 16, "\x0a\x01\x00\x0a", 4);
	assert_int_equal(buf_load_be16(pkt_buf_data(p) + 22), 40000);
	assert_true(pkt_csum_ipv4_header_valid(pkt_buf_data(p), 20));
	assert_true(pkt_csum_verify(pkt_buf_data(p), &p->info));
	/* IPv4 hosts cannot leave by an IPv6 WAN; ICMP-like protocols not at all. */
	packet_set(p, "10.1.0.10", "198.51.100.80", IPPROTO_TCP, 40000, 80);
	assert_int_equal(router_breakout_open(b, p, 3, 1, 7, 9, S, &index, &reason),
	    -EPROTONOSUPPORT);
	assert_int_equal(reason, PKT_DROP_ROUTER_BREAKOUT_UNSUPPORTED);
	router_breakout_free(b);
	pkt_pool_put(pool, p);
	pkt_pool_free(pool);
}

static void
test_router_breakout_ports_exhausted_then_returned(void **state)
{
	struct pkt_pool *pool = pkt_pool_new(4);
	struct pkt_buf *p = pkt_pool_get(pool);
	/* Ports 16384..16389: three even ports, three sessions. */
	struct router_breakout *b = table_new(16384, 16389, 64);
	enum pkt_drop_reason reason;
	uint32_t index;

	(void)state;
	assert_int_equal(router_breakout_ports_free(b, 0), 3);
	for (uint16_t i = 0; i < 3; i++) {
		packet_set(p, "10.1.0.10", "198.51.100.80", IPPROTO_TCP, (uint16_t)(1000 + i), 80);
		assert_int_equal(router_breakout_open(b, p, 0, 0, 0, 0, S, &index, &reason), 0);
	}
	assert_int_equal(router_breakout_ports_free(b, 0), 0);
	packet_set(p, "10.1.0.10", "198.51.100.80", IPPROTO_TCP, 2000, 80);
	assert_int_equal(router_breakout_open(b, p, 0, 0, 0, 0, S, &index, &reason),
	    -EADDRNOTAVAIL);
	assert_int_equal(reason, PKT_DROP_ROUTER_BREAKOUT_PORTS_EXHAUSTED);
	assert_int_equal(session_table_count(router_breakout_sessions(b)), 3);
	/* The other WAN's pool is its own. */
	assert_int_equal(router_breakout_ports_free(b, 1), 3);
	/* Idle TCP sessions that never opened end after 10 s; their ports come back. */
	assert_int_equal(router_breakout_expire(b, 20 * S, NULL, NULL), 3);
	assert_int_equal(router_breakout_ports_free(b, 0), 3);
	assert_int_equal(router_breakout_open(b, p, 0, 0, 0, 0, 20 * S, &index, &reason), 0);
	router_breakout_free(b);
	pkt_pool_put(pool, p);
	pkt_pool_free(pool);
}

static void
count_end(const struct session *s, void *arg)
{
	(void)s;
	(*(unsigned *)arg)++;
}

/*
 * Random opens, packets both ways and expiries against a naive model: the table's
 * sessions and free ports always match, a session's NAT port is unique, and every
 * translation is undone exactly by the answer's.
 */
static void
test_router_breakout_random_model(void **state)
{
	enum {
		PORTS = 40,
		HOSTS = 64
	};
	struct pkt_pool *pool = pkt_pool_new(4);
	struct pkt_buf *p = pkt_pool_get(pool);
	struct router_breakout *b = table_new(16384, 16384 + 2 * PORTS - 1, 256);
	uint64_t rs = test_seed(), now = S;
	uint64_t last_seen[HOSTS] = {0};
	uint16_t nat_of[HOSTS] = {0};
	bool open[HOSTS] = {false};
	unsigned ended = 0, model_ended = 0;

	(void)state;
	for (int step = 0; step < 4000; step++) {
		unsigned h = (unsigned)test_rand_below(&rs, HOSTS), live = 0;
		char src[32];
		enum pkt_drop_reason reason;
		uint32_t index;

		snprintf(src, sizeof(src), "10.1.0.%u", h + 1);
		packet_set(p, src, "198.51.100.80", IPPROTO_UDP, 5000, 53);
		index = router_breakout_lan_lookup(b, p, 0);
		assert_int_equal(index != SESSION_INDEX_NONE, open[h]);
		for (unsigned k = 0; k < HOSTS; k++)
			live += open[k];
		if (!open[h]) {
			int rc = router_breakout_open(b, p, 0, 0, 0, 0, now, &index, &reason);

			assert_int_equal(rc == 0, live < PORTS);
			if (rc < 0) {
				assert_int_equal(reason, PKT_DROP_ROUTER_BREAKOUT_PORTS_EXHAUSTED);
				goto tick;
			}
			open[h] = true;
		}
		router_breakout_out(b, p, index, now);
		nat_of[h] = buf_load_be16(pkt_buf_data(p) + 20);
		for (unsigned k = 0; k < HOSTS; k++)
			assert_false(k != h && open[k] && nat_of[k] == nat_of[h]);
		last_seen[h] = now;
		packet_set(p, "198.51.100.80", "192.0.2.1", IPPROTO_UDP, 53, nat_of[h]);
		assert_int_equal(router_breakout_wan_lookup(b, p, 0), index);
		router_breakout_in(b, p, index, now);
		assert_int_equal(pkt_buf_data(p)[19], h + 1);
		assert_true(pkt_csum_verify(pkt_buf_data(p), &p->info));
tick:
		now += test_rand_below(&rs, 3 * S);
		router_breakout_expire(b, now, count_end, &ended);
		/* UDP idles out after 180 s, give or take the wheel's 100 ms tick. */
		live = 0;
		for (unsigned k = 0; k < HOSTS; k++) {
			bool was = open[k];

			snprintf(src, sizeof(src), "10.1.0.%u", k + 1);
			packet_set(p, src, "198.51.100.80", IPPROTO_UDP, 5000, 53);
			open[k] = router_breakout_lan_lookup(b, p, 0) != SESSION_INDEX_NONE;
			assert_false(open[k] && !was);
			if (was && !open[k])
				model_ended++;
			if (was && now - last_seen[k] < 179 * S)
				assert_true(open[k]);
			if (now - last_seen[k] > 181 * S)
				assert_false(open[k]);
			live += open[k];
		}
		assert_int_equal(ended, model_ended);
		assert_int_equal(session_table_count(router_breakout_sessions(b)), live);
		assert_int_equal(router_breakout_ports_free(b, 0), PORTS - live);
	}
	router_breakout_free(b);
	pkt_pool_put(pool, p);
	pkt_pool_free(pool);
}

static void
test_router_netlink_rule_msg_by_input_interface(void **state)
{
	uint8_t buf[256] __attribute__((aligned(8)));
	const struct nlmsghdr *nlh = (const void *)buf;
	const struct fib_rule_hdr *frh;
	const struct nlattr *attr;
	uint32_t table = 0, prio = 0;
	const char *iif = NULL;
	int len;

	(void)state;
	len = router_netlink_rule_msg(buf, sizeof(buf), RTM_NEWRULE, ADDR_FAMILY_V6, "br-red", 7001,
	    7001);
	assert_true(len > 0 && (size_t)len == nlh->nlmsg_len);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWRULE);
	assert_int_equal(nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL), NLM_F_CREATE | NLM_F_EXCL);
	frh = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(frh->family, AF_INET6);
	assert_int_equal(frh->action, FR_ACT_TO_TBL);
	assert_int_equal(frh->table, RT_TABLE_UNSPEC);
	mnl_attr_for_each(attr, nlh, sizeof(*frh))
	{
		if (mnl_attr_get_type(attr) == FRA_IIFNAME)
			iif = mnl_attr_get_str(attr);
		else if (mnl_attr_get_type(attr) == FRA_TABLE)
			table = mnl_attr_get_u32(attr);
		else if (mnl_attr_get_type(attr) == FRA_PRIORITY)
			prio = mnl_attr_get_u32(attr);
	}
	assert_string_equal(iif, "br-red");
	assert_int_equal(table, 7001);
	assert_int_equal(prio, 7001);
	/* Small tables fit the header; deletes do not create. */
	len = router_netlink_rule_msg(buf, sizeof(buf), RTM_DELRULE, ADDR_FAMILY_V4, "tern-red",
	    200, 9);
	assert_true(len > 0);
	assert_int_equal(nlh->nlmsg_flags, 0);
	assert_int_equal(((const struct fib_rule_hdr *)mnl_nlmsg_get_payload(nlh))->table, 200);
	assert_int_equal(router_netlink_rule_msg(buf, sizeof(buf), RTM_NEWRULE, ADDR_FAMILY_V4, "",
	                     1, 1),
	    -EINVAL);
	assert_int_equal(router_netlink_rule_msg(buf, sizeof(buf), RTM_NEWRULE, ADDR_FAMILY_V4,
	                     "br-red", 0, 1),
	    -EINVAL);
	assert_int_equal(router_netlink_rule_msg(buf, sizeof(buf), RTM_NEWRULE, 0, "br-red", 1, 1),
	    -EAFNOSUPPORT);
	assert_int_equal(router_netlink_rule_msg(buf, 16, RTM_NEWRULE, ADDR_FAMILY_V4, "br-red", 1,
	                     1),
	    -ENOSPC);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_router_breakout_translates_and_restores),
	    cmocka_unit_test(test_router_breakout_ports_exhausted_then_returned),
	    cmocka_unit_test(test_router_breakout_random_model),
	    cmocka_unit_test(test_router_netlink_rule_msg_by_input_interface),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
