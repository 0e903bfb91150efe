/*
 * Unit tests of session/session_table: both keys, delete, limits, burst lookups,
 * rekeying, zones, idle timeouts per protocol on a fake clock, memory per session, and
 * a random model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "session/session_table.h"
#include "test_rand.h"

#define S  1000000000ull
#define MS 1000000ull
/* A fake CLOCK_MONOTONIC that starts well after boot. */
#define T0 (1000 * S)

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

/* LAN key number n of zone: 10.0.x.y:port -> 192.0.2.1:80. */
static void
lan_key(struct session_key *k, uint16_t zone, uint8_t proto, uint32_t n)
{
	uint8_t src[4] = {10, (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
	uint8_t dst[4] = {192, 0, 2, 1};

	session_key_set(k, ADDR_FAMILY_V4, proto, zone, src, dst, (uint16_t)(1024 + n % 50000), 80);
}

/* WAN key number n: peer waypoint 203.0.113.1:port -> our waypoint 198.51.100.1:port. */
static void
wan_key(struct session_key *k, uint8_t proto, uint32_t n)
{
	uint8_t peer[4] = {203, 0, 113, 1}, local[4] = {198, 51, 100, 1};

	session_key_set(k, ADDR_FAMILY_V4, proto, SESSION_ZONE_WAN | 1, peer, local,
	    (uint16_t)(16384 + n % 40000), (uint16_t)(16384 + n / 40000));
}

static struct session_table *
table_new(uint32_t capacity)
{
	struct session_table_config config;
	struct session_table *t;

	session_table_config_default(&config, capacity);
	config.seed = 0x1234;
	t = session_table_new(&config, T0);
	assert_non_null(t);
	return t;
}

static uint32_t
insert(struct session_table *t, uint8_t proto, uint32_t n, uint64_t now_ns)
{
	struct session_key lk, wk;
	uint32_t index = SESSION_INDEX_NONE;

	lan_key(&lk, 1, proto, n);
	wan_key(&wk, proto, n);
	assert_int_equal(session_table_insert(t, &lk, &wk, now_ns, &index), 0);
	assert_true(index < session_table_capacity(t));
	return index;
}

static uint32_t
lookup(const struct session_table *t, const struct session_key *k, enum session_dir *dir)
{
	return session_table_lookup(t, k, session_key_hash(t, k), dir);
}

static void
test_session_table_new_bad_config_refused(void **state)
{
	struct session_table_config config;

	(void)state;
	session_table_config_default(&config, 0);
	assert_null(session_table_new(&config, 0));
	session_table_config_default(&config, SESSION_TABLE_CAPACITY_MAX + 1);
	assert_null(session_table_new(&config, 0));
	session_table_config_default(&config, 16);
	config.timeout_ns[SESSION_TIMEOUT_UDP] = 400ull * 24 * 3600 * S;
	assert_null(session_table_new(&config, 0));
	session_table_free(NULL);
}

static void
test_session_table_insert_lookup_both_keys(void **state)
{
	struct session_table *t = table_new(16);
	struct session_key lk, wk, other;
	enum session_dir dir = SESSION_DIR_WAN_TO_LAN;
	struct session *s;
	uint32_t index;

	(void)state;
	lan_key(&lk, 1, IPPROTO_TCP, 7);
	wan_key(&wk, IPPROTO_TCP, 7);
	assert_int_equal(session_table_insert(t, &lk, &wk, T0 + 5, &index), 0);
	assert_int_equal(session_table_count(t), 1);
	assert_int_equal(lookup(t, &lk, &dir), index);
	assert_int_equal(dir, SESSION_DIR_LAN_TO_WAN);
	assert_int_equal(lookup(t, &wk, &dir), index);
	assert_int_equal(dir, SESSION_DIR_WAN_TO_LAN);
	assert_int_equal(lookup(t, &wk, NULL), index);
	lan_key(&other, 1, IPPROTO_TCP, 8);
	assert_int_equal(lookup(t, &other, &dir), SESSION_INDEX_NONE);

	s = session_table_get(t, index);
	assert_non_null(s);
	assert_memory_equal(&s->lan_key, &lk, sizeof(lk));
	assert_memory_equal(&s->wan_key, &wk, sizeof(wk));
	assert_int_equal(s->last_seen_ns, T0 + 5);
	assert_int_equal(s->timeout_class, SESSION_TIMEOUT_TCP_OPENING);
	assert_int_equal(s->flags, 0);
	assert_int_equal(s->packets[0] + s->packets[1] + s->bytes[0] + s->bytes[1], 0);
	assert_null(session_table_get(t, index + 1));
	assert_null(session_table_get(t, SESSION_INDEX_NONE));
	session_table_free(t);
}

static void
test_session_table_insert_existing_key_refused(void **state)
{
	struct session_table *t = table_new(16);
	struct session_key lk, wk, lk2, wk2;
	struct session_table_stats stats;

	(void)state;
	insert(t, IPPROTO_UDP, 1, T0);
	lan_key(&lk, 1, IPPROTO_UDP, 1);
	wan_key(&wk, IPPROTO_UDP, 1);
	lan_key(&lk2, 1, IPPROTO_UDP, 2);
	wan_key(&wk2, IPPROTO_UDP, 2);
	assert_int_equal(session_table_insert(t, &lk, &wk2, T0, NULL), -EEXIST);
	assert_int_equal(session_table_insert(t, &lk2, &wk, T0, NULL), -EEXIST);
	/* A LAN key equal to another session's WAN key, and both keys equal. */
	assert_int_equal(session_table_insert(t, &wk, &wk2, T0, NULL), -EEXIST);
	assert_int_equal(session_table_insert(t, &lk2, &lk2, T0, NULL), -EEXIST);
	assert_int_equal(session_table_count(t), 1);
	assert_int_equal(session_table_insert(t, &lk2, &wk2, T0, NULL), 0);
	session_table_stats_get(t, &stats);
	assert_int_equal(stats.inserts, 2);
	assert_int_equal(stats.full, 0);
	session_table_free(t);
}

static void
test_session_table_delete_removes_both_keys(void **state)
{
	struct session_table *t = table_new(16);
	struct session_key lk, wk;
	struct session_table_stats stats;
	uint32_t a, b;

	(void)state;
	a = insert(t, IPPROTO_UDP, 1, T0);
	b = insert(t, IPPROTO_UDP, 2, T0);
	assert_int_equal(session_table_delete(t, a), 0);
	assert_int_equal(session_table_delete(t, a), -ENOENT);
	assert_int_equal(session_table_delete(t, 999), -ENOENT);
	assert_null(session_table_get(t, a));
	lan_key(&lk, 1, IPPROTO_UDP, 1);
	wan_key(&wk, IPPROTO_UDP, 1);
	assert_int_equal(lookup(t, &lk, NULL), SESSION_INDEX_NONE);
	assert_int_equal(lookup(t, &wk, NULL), SESSION_INDEX_NONE);
	lan_key(&lk, 1, IPPROTO_UDP, 2);
	assert_int_equal(lookup(t, &lk, NULL), b);
	assert_int_equal(session_table_count(t), 1);
	session_table_stats_get(t, &stats);
	assert_int_equal(stats.deletes, 1);
	/* The deleted session's timer went with it: nothing expires later. */
	assert_int_equal(session_table_delete(t, b), 0);
	assert_int_equal(session_table_expire(t, T0 + 10000 * S, NULL, NULL), 0);
	session_table_free(t);
}

static void
test_session_table_insert_full_refused(void **state)
{
	struct session_table *t = table_new(8);
	struct session_table_stats stats;
	struct session_key lk, wk;

	(void)state;
	for (uint32_t n = 0; n < 8; n++)
		insert(t, IPPROTO_TCP, n, T0);
	lan_key(&lk, 1, IPPROTO_TCP, 8);
	wan_key(&wk, IPPROTO_TCP, 8);
	assert_int_equal(session_table_insert(t, &lk, &wk, T0, NULL), -ENOSPC);
	assert_int_equal(session_table_insert(t, &lk, &wk, T0, NULL), -ENOSPC);
	session_table_stats_get(t, &stats);
	assert_int_equal(stats.full, 2);
	assert_int_equal(stats.inserts, 8);
	assert_int_equal(session_table_delete(t, 3), 0);
	assert_int_equal(session_table_insert(t, &lk, &wk, T0, NULL), 0);
	assert_int_equal(session_table_count(t), 8);
	session_table_free(t);
}

static void
test_session_table_lookup_burst_equals_single(void **state)
{
	enum {
		N = 1000,
		BURST = 150
	};
	struct session_table *t = table_new(N);
	static struct session_key keys[BURST];
	const struct session_key *ptrs[BURST];
	uint32_t out[BURST], out2[BURST];
	enum session_dir dirs[BURST];
	uint64_t rng = 42;

	(void)state;
	for (uint32_t n = 0; n < N; n++)
		insert(t, IPPROTO_UDP, n, T0);
	for (unsigned i = 0; i < BURST; i++) {
		uint32_t n = (uint32_t)(test_rand(&rng) % (2 * N)); /* half of them miss */

		if (i % 2)
			lan_key(&keys[i], 1, IPPROTO_UDP, n);
		else
			wan_key(&keys[i], IPPROTO_UDP, n);
		ptrs[i] = &keys[i];
	}
	static const unsigned sizes[] = {0, 1, 37, 64, 65, 128, BURST};

	for (unsigned z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		unsigned n = sizes[z];

		memset(out, 0xee, sizeof(out));
		session_table_lookup_burst(t, ptrs, n, out, dirs);
		session_table_lookup_burst(t, ptrs, n, out2, NULL);
		for (unsigned i = 0; i < n; i++) {
			enum session_dir dir;
			uint32_t want = lookup(t, &keys[i], &dir);

			assert_int_equal(out[i], want);
			assert_int_equal(out2[i], want);
			if (want != SESSION_INDEX_NONE)
				assert_int_equal(dirs[i], dir);
		}
		if (n < BURST)
			assert_int_equal(out[n], 0xeeeeeeee); /* nothing written past n */
	}
	session_table_free(t);
}

static void
test_session_table_rekey_wan_moves_key(void **state)
{
	struct session_table *t = table_new(16);
	struct session_key old, fresh, taken_lan, taken_wan;
	enum session_dir dir;
	uint32_t a, b;

	(void)state;
	a = insert(t, IPPROTO_UDP, 1, T0);
	b = insert(t, IPPROTO_UDP, 2, T0);
	wan_key(&old, IPPROTO_UDP, 1);
	wan_key(&fresh, IPPROTO_UDP, 100);
	lan_key(&taken_lan, 1, IPPROTO_UDP, 2);
	wan_key(&taken_wan, IPPROTO_UDP, 2);
	assert_int_equal(session_table_rekey_wan(t, a, &old), 0);
	assert_int_equal(session_table_rekey_wan(t, a, &taken_wan), -EEXIST);
	assert_int_equal(session_table_rekey_wan(t, a, &taken_lan), -EEXIST);
	assert_int_equal(session_table_rekey_wan(t, 7, &fresh), -ENOENT);
	assert_int_equal(session_table_rekey_wan(t, a, &fresh), 0);
	assert_int_equal(lookup(t, &old, NULL), SESSION_INDEX_NONE);
	assert_int_equal(lookup(t, &fresh, &dir), a);
	assert_int_equal(dir, SESSION_DIR_WAN_TO_LAN);
	assert_memory_equal(&session_table_get(t, a)->wan_key, &fresh, sizeof(fresh));
	assert_int_equal(lookup(t, &taken_wan, NULL), b);
	/* The old key is free for another session now. */
	assert_int_equal(session_table_rekey_wan(t, b, &old), 0);
	assert_int_equal(lookup(t, &old, NULL), b);
	assert_int_equal(session_table_delete(t, a), 0);
	assert_int_equal(lookup(t, &fresh, NULL), SESSION_INDEX_NONE);
	session_table_free(t);
}

static void
test_session_table_zones_keep_tenants_apart(void **state)
{
	struct session_table *t = table_new(16);
	struct session_key l1, l2, w1, w2;
	uint32_t a, b;

	(void)state;
	lan_key(&l1, 1, IPPROTO_TCP, 5);
	lan_key(&l2, 2, IPPROTO_TCP, 5); /* the same tuple in another tenant */
	wan_key(&w1, IPPROTO_TCP, 1);
	wan_key(&w2, IPPROTO_TCP, 2);
	assert_int_equal(session_table_insert(t, &l1, &w1, T0, &a), 0);
	assert_int_equal(session_table_insert(t, &l2, &w2, T0, &b), 0);
	assert_int_not_equal(a, b);
	assert_int_equal(lookup(t, &l1, NULL), a);
	assert_int_equal(lookup(t, &l2, NULL), b);
	session_table_free(t);
}

struct expired_log {
	unsigned calls[64];
	unsigned total;
	uint64_t now_ns;
};

static void
on_expire_log(struct session *s, uint32_t index, void *arg)
{
	struct expired_log *log = arg;

	assert_true(index < 64);
	/* The session is still whole while the hook runs. */
	assert_true(s->lan_key.family == ADDR_FAMILY_V4);
	assert_true(log->now_ns - s->last_seen_ns >= 10 * S);
	log->calls[index]++;
	log->total++;
}

static unsigned
expire(struct session_table *t, struct expired_log *log, uint64_t now_ns)
{
	log->now_ns = now_ns;
	return session_table_expire(t, now_ns, on_expire_log, log);
}

static void
test_session_table_expire_per_protocol(void **state)
{
	struct session_table *t = table_new(16);
	struct expired_log log = {0};
	struct session_table_stats stats;
	uint32_t tcp, udp, icmp, icmp6, gre;

	(void)state;
	tcp = insert(t, IPPROTO_TCP, 1, T0);
	udp = insert(t, IPPROTO_UDP, 2, T0);
	icmp = insert(t, IPPROTO_ICMP, 3, T0);
	icmp6 = insert(t, IPPROTO_ICMPV6, 4, T0);
	gre = insert(t, IPPROTO_GRE, 5, T0);
	assert_int_equal(session_table_get(t, udp)->timeout_class, SESSION_TIMEOUT_UDP);
	assert_int_equal(session_table_get(t, icmp)->timeout_class, SESSION_TIMEOUT_ICMP);
	assert_int_equal(session_table_get(t, icmp6)->timeout_class, SESSION_TIMEOUT_ICMP);
	assert_int_equal(session_table_get(t, gre)->timeout_class, SESSION_TIMEOUT_OTHER);

	assert_int_equal(expire(t, &log, T0 + 10 * S - 1), 0);
	assert_int_equal(expire(t, &log, T0 + 10 * S), 3);
	assert_int_equal(log.calls[tcp] + log.calls[icmp] + log.calls[icmp6], 3);
	assert_null(session_table_get(t, tcp));
	assert_int_equal(expire(t, &log, T0 + 180 * S - 1), 0);
	assert_int_equal(expire(t, &log, T0 + 180 * S), 2);
	assert_int_equal(log.calls[udp] + log.calls[gre], 2);
	assert_int_equal(session_table_count(t), 0);
	session_table_stats_get(t, &stats);
	assert_int_equal(stats.expired, 5);
	assert_int_equal(stats.deletes, 0);
	session_table_free(t);
}

static void
test_session_table_expire_tcp_opening_then_established(void **state)
{
	struct session_table *t = table_new(16);
	struct expired_log log = {0};
	uint64_t last;
	uint32_t a;

	(void)state;
	a = insert(t, IPPROTO_TCP, 1, T0);
	session_on_packet(t, session_table_get(t, a), SESSION_DIR_LAN_TO_WAN, TCP_SYN, 60, T0);
	assert_int_equal(session_table_get(t, a)->timeout_class, SESSION_TIMEOUT_TCP_OPENING);
	/* The SYN-ACK 9 s later: established, with no timer work on the packet path. */
	last = T0 + 9 * S;
	session_on_packet(t, session_table_get(t, a), SESSION_DIR_WAN_TO_LAN, TCP_SYN | TCP_ACK, 60,
	    last);
	assert_int_equal(session_table_get(t, a)->timeout_class, SESSION_TIMEOUT_TCP_ESTABLISHED);
	assert_int_equal(expire(t, &log, T0 + 10 * S), 0);
	assert_int_equal(expire(t, &log, T0 + 600 * S), 0);
	assert_int_equal(expire(t, &log, last + 1900 * S - 1), 0);
	assert_int_equal(expire(t, &log, last + 1900 * S), 1);
	assert_int_equal(log.calls[a], 1);
	session_table_free(t);
}

static void
test_session_table_expire_tcp_closing(void **state)
{
	struct session_table *t = table_new(16);
	struct expired_log log = {0};
	uint32_t fin, rst, reuse;

	(void)state;
	fin = insert(t, IPPROTO_TCP, 1, T0);
	rst = insert(t, IPPROTO_TCP, 2, T0);
	reuse = insert(t, IPPROTO_TCP, 3, T0);
	for (uint32_t i = 0; i < 3; i++) {
		struct session *s = session_table_get(t, i);

		session_on_packet(t, s, SESSION_DIR_LAN_TO_WAN, TCP_SYN, 60, T0);
		session_on_packet(t, s, SESSION_DIR_WAN_TO_LAN, TCP_SYN | TCP_ACK, 60, T0);
		session_on_packet(t, s, SESSION_DIR_LAN_TO_WAN, TCP_ACK, 52, T0);
		assert_int_equal(s->timeout_class, SESSION_TIMEOUT_TCP_ESTABLISHED);
	}
	/* One FIN is not enough; FIN both ways is. */
	session_on_packet(t, session_table_get(t, fin), SESSION_DIR_LAN_TO_WAN, TCP_FIN | TCP_ACK,
	    52, T0 + 100 * S);
	assert_int_equal(session_table_get(t, fin)->timeout_class, SESSION_TIMEOUT_TCP_ESTABLISHED);
	session_on_packet(t, session_table_get(t, fin), SESSION_DIR_WAN_TO_LAN, TCP_FIN | TCP_ACK,
	    52, T0 + 100 * S);
	assert_int_equal(session_table_get(t, fin)->timeout_class, SESSION_TIMEOUT_TCP_CLOSING);
	session_on_packet(t, session_table_get(t, rst), SESSION_DIR_WAN_TO_LAN, TCP_RST, 40,
	    T0 + 100 * S);
	assert_int_equal(session_table_get(t, rst)->timeout_class, SESSION_TIMEOUT_TCP_CLOSING);
	/* A bare SYN after the close: a new connection on the same tuple. */
	session_on_packet(t, session_table_get(t, reuse), SESSION_DIR_LAN_TO_WAN, TCP_RST, 40,
	    T0 + 100 * S);
	session_on_packet(t, session_table_get(t, reuse), SESSION_DIR_LAN_TO_WAN, TCP_SYN, 60,
	    T0 + 105 * S);
	assert_int_equal(session_table_get(t, reuse)->timeout_class, SESSION_TIMEOUT_TCP_OPENING);

	/* Closed sessions go 10 s after their last packet, not 1900 s. */
	assert_int_equal(expire(t, &log, T0 + 110 * S - 1), 0);
	assert_int_equal(expire(t, &log, T0 + 110 * S), 2);
	assert_int_equal(log.calls[fin] + log.calls[rst], 2);
	assert_int_equal(expire(t, &log, T0 + 115 * S), 1);
	assert_int_equal(log.calls[reuse], 1);
	session_table_free(t);
}

static void
test_session_table_expire_traffic_keeps_alive(void **state)
{
	struct session_table *t = table_new(16);
	struct expired_log log = {0};
	uint64_t now = T0;
	uint32_t a, idle;

	(void)state;
	a = insert(t, IPPROTO_UDP, 1, T0);
	idle = insert(t, IPPROTO_UDP, 2, T0);
	for (int i = 0; i < 40; i++) {
		now += 100 * S + 12345;
		session_on_packet(t, session_table_get(t, a), SESSION_DIR_LAN_TO_WAN, 0, 100, now);
		expire(t, &log, now);
	}
	assert_int_equal(log.total, 1);
	assert_int_equal(log.calls[idle], 1);
	assert_int_equal(session_table_get(t, a)->packets[SESSION_DIR_LAN_TO_WAN], 40);
	assert_int_equal(session_table_get(t, a)->bytes[SESSION_DIR_LAN_TO_WAN], 4000);
	assert_int_equal(session_table_get(t, a)->packets[SESSION_DIR_WAN_TO_LAN], 0);
	/* Silence: gone 180 s after the last packet, within one 100 ms tick. */
	assert_int_equal(expire(t, &log, now + 180 * S - 1), 0);
	assert_int_equal(expire(t, &log, now + 180 * S + 100 * MS), 1);
	assert_int_equal(log.calls[a], 1);
	session_table_free(t);
}

static void
test_session_table_expire_calls_on_expire_once(void **state)
{
	struct session_table *t = table_new(64);
	struct expired_log log = {0};

	(void)state;
	for (uint32_t n = 0; n < 64; n++)
		insert(t, n % 2 ? IPPROTO_ICMP : IPPROTO_UDP, n, T0 + n * S);
	for (uint64_t now = T0; now < T0 + 400 * S; now += 700 * MS)
		expire(t, &log, now);
	/* And once more over a gap longer than the wheel's span. */
	expire(t, &log, T0 + 100000 * S);
	assert_int_equal(log.total, 64);
	for (uint32_t n = 0; n < 64; n++)
		assert_int_equal(log.calls[n], 1);
	session_table_free(t);
}

static void
test_session_table_next_walks_live_sessions(void **state)
{
	struct session_table *t = table_new(16);
	uint32_t seen = 0;

	(void)state;
	for (uint32_t n = 0; n < 6; n++)
		insert(t, IPPROTO_UDP, n, T0);
	session_table_delete(t, 0);
	session_table_delete(t, 4);
	for (uint32_t i = session_table_next(t, 0); i != SESSION_INDEX_NONE;
	     i = session_table_next(t, i + 1))
		seen |= 1u << i;
	assert_int_equal(seen, 0x2e);
	assert_int_equal(session_table_next(t, 16), SESSION_INDEX_NONE);
	session_table_free(t);
}

static void
test_session_key_set_reads_only_the_family_bytes(void **state)
{
	/* Heap copies so ASan sees a read beyond 4 bytes of an IPv4 address. */
	uint8_t *src = malloc(4), *dst = malloc(4);
	uint8_t src6[16], dst6[16];
	struct session_key k;

	(void)state;
	memcpy(src, (uint8_t[]){10, 0, 0, 1}, 4);
	memcpy(dst, (uint8_t[]){10, 0, 0, 2}, 4);
	memset(&k, 0xaa, sizeof(k));
	session_key_set(&k, ADDR_FAMILY_V4, IPPROTO_UDP, 3, src, dst, 1000, 53);
	assert_memory_equal(k.src, ((uint8_t[16]){10, 0, 0, 1}), 16);
	assert_memory_equal(k.dst, ((uint8_t[16]){10, 0, 0, 2}), 16);
	assert_int_equal(k.sport, 1000);
	assert_int_equal(k.dport, 53);
	assert_int_equal(k.zone, 3);
	assert_int_equal(k.family, ADDR_FAMILY_V4);
	assert_int_equal(k.proto, IPPROTO_UDP);
	memset(src6, 0x20, 16);
	memset(dst6, 0x30, 16);
	session_key_set(&k, ADDR_FAMILY_V6, IPPROTO_TCP, 3, src6, dst6, 1, 2);
	assert_memory_equal(k.src, src6, 16);
	assert_memory_equal(k.dst, dst6, 16);
	free(src);
	free(dst);
}

static void
test_session_table_memory_per_session_at_most_256(void **state)
{
	struct session_table *t = table_new(1000000);
	size_t bytes = session_table_memory_bytes(t);

	(void)state;
	printf("# memory: %zu bytes for 1000000 sessions, %.1f bytes per session "
	       "(struct session %zu)\n",
	    bytes, (double)bytes / 1e6, sizeof(struct session));
	assert_true(sizeof(struct session) <= 192);
	assert_true(bytes / 1000000 <= 256);
	assert_true(bytes >= 1000000 * sizeof(struct session));
	session_table_free(t);
}

/*
 * The model: per index, whether a session lives there, its two keys (as numbers into
 * a small key universe, so collisions, -EEXIST and a full table all happen), its last
 * packet time and a naive TCP state. A session must be gone once its idle deadline is
 * a whole tick in the past, and must not go before the deadline.
 */
#define M_CAP  48
#define M_KEYS 300

struct m_session {
	bool live;
	unsigned lan, wan;
	uint64_t last_seen_ns;
	bool syn[2], fin[2], rst;
};

struct model {
	struct session_table *t;
	struct session_key keys[M_KEYS];
	struct m_session s[M_CAP];
	uint32_t count;
	uint64_t now_ns;
	uint64_t expired;
};

static uint8_t
m_proto(unsigned k)
{
	static const uint8_t protos[] = {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_TCP, 47};

	return protos[k % 5];
}

static uint64_t
m_timeout_ns(const struct model *m, const struct m_session *s)
{
	switch (m_proto(s->lan)) {
	case IPPROTO_TCP:
		if (s->rst || (s->fin[0] && s->fin[1]))
			return 10 * S;
		if (s->syn[0] && s->syn[1])
			return 1900 * S;
		return 10 * S;
	case IPPROTO_UDP:
		return 180 * S;
	case IPPROTO_ICMP:
		return 10 * S;
	default:
		(void)m;
		return 180 * S;
	}
}

/* Which live session holds key k, and by which half; -1 if none. */
static int
m_find(const struct model *m, unsigned k, enum session_dir *dir)
{
	for (int i = 0; i < M_CAP; i++) {
		if (!m->s[i].live)
			continue;
		if (m->s[i].lan == k || m->s[i].wan == k) {
			*dir = m->s[i].lan == k ? SESSION_DIR_LAN_TO_WAN : SESSION_DIR_WAN_TO_LAN;
			return i;
		}
	}
	return -1;
}

static void
m_on_expire(struct session *s, uint32_t index, void *arg)
{
	struct model *m = arg;
	struct m_session *ms;

	assert_true(index < M_CAP);
	ms = &m->s[index];
	assert_true(ms->live); /* once per session */
	assert_memory_equal(&s->lan_key, &m->keys[ms->lan], sizeof(s->lan_key));
	assert_true(m->now_ns - ms->last_seen_ns >= m_timeout_ns(m, ms));
	ms->live = false;
	m->count--;
	m->expired++;
}

static void
m_insert(struct model *m, uint64_t r)
{
	unsigned lan = (unsigned)(r % M_KEYS), wan = (unsigned)((r >> 16) % M_KEYS);
	enum session_dir dir;
	uint32_t index = SESSION_INDEX_NONE;
	int want = 0, rc;

	if (lan == wan || m_find(m, lan, &dir) >= 0 || m_find(m, wan, &dir) >= 0)
		want = -EEXIST;
	else if (m->count == M_CAP)
		want = -ENOSPC;
	rc = session_table_insert(m->t, &m->keys[lan], &m->keys[wan], m->now_ns, &index);
	assert_int_equal(rc, want);
	if (rc != 0)
		return;
	assert_true(index < M_CAP);
	assert_false(m->s[index].live);
	memset(&m->s[index], 0, sizeof(m->s[index]));
	m->s[index].live = true;
	m->s[index].lan = lan;
	m->s[index].wan = wan;
	m->s[index].last_seen_ns = m->now_ns;
	m->count++;
}

static void
m_packet(struct model *m, uint64_t r)
{
	static const uint8_t flag_sets[] = {0, TCP_ACK, TCP_SYN, TCP_SYN | TCP_ACK, TCP_ACK,
	    TCP_FIN | TCP_ACK, TCP_ACK, TCP_RST, TCP_SYN, TCP_ACK | TCP_SYN};
	unsigned i = (unsigned)(r % M_CAP), d = (unsigned)(r >> 8) & 1;
	uint8_t flags = flag_sets[(r >> 16) % sizeof(flag_sets)];
	struct m_session *ms = &m->s[i];
	bool tcp;

	if (!ms->live)
		return;
	tcp = m_proto(ms->lan) == IPPROTO_TCP;
	session_on_packet(m->t, session_table_get(m->t, i), (enum session_dir)d, tcp ? flags : 0,
	    100, m->now_ns);
	ms->last_seen_ns = m->now_ns;
	if (!tcp)
		return;
	if (flags == TCP_SYN && (ms->rst || (ms->fin[0] && ms->fin[1]))) {
		ms->syn[0] = ms->syn[1] = ms->fin[0] = ms->fin[1] = false;
		ms->rst = false;
	}
	ms->syn[d] |= (flags & TCP_SYN) != 0;
	ms->fin[d] |= (flags & TCP_FIN) != 0;
	ms->rst |= (flags & TCP_RST) != 0;
}

static void
m_check(const struct model *m)
{
	const uint64_t tick = 100 * MS;

	assert_int_equal(session_table_count(m->t), m->count);
	for (uint32_t i = 0; i < M_CAP; i++) {
		const struct m_session *ms = &m->s[i];
		struct session *s = session_table_get(m->t, i);

		assert_int_equal(s != NULL, ms->live);
		if (!ms->live)
			continue;
		assert_int_equal(s->last_seen_ns, ms->last_seen_ns);
		/* Still here although a whole tick past its deadline: a missed expiry. */
		assert_true(ms->last_seen_ns + m_timeout_ns(m, ms) + tick > m->now_ns);
	}
}

static void
test_session_table_random_against_model(void **state)
{
	static struct model m;
	struct session_table_config config;
	struct session_table_stats stats;
	uint64_t rng = test_seed();

	(void)state;
	memset(&m, 0, sizeof(m));
	session_table_config_default(&config, M_CAP);
	config.seed = test_rand(&rng) | 1;
	m.now_ns = T0;
	m.t = session_table_new(&config, T0);
	assert_non_null(m.t);
	for (unsigned k = 0; k < M_KEYS; k++) {
		if (k % 3 == 2)
			wan_key(&m.keys[k], m_proto(k), k);
		else
			lan_key(&m.keys[k], (uint16_t)(1 + k % 2), m_proto(k), k / 2);
	}
	for (int op = 0; op < 200000; op++) {
		uint64_t r = test_rand(&rng);
		uint64_t arg = r >> 8;

		switch (r % 16) {
		case 0:
		case 1:
		case 2:
			m_insert(&m, arg);
			break;
		case 3: {
			uint32_t i = (uint32_t)(arg % (M_CAP + 2));
			bool live = i < M_CAP && m.s[i].live;

			assert_int_equal(session_table_delete(m.t, i), live ? 0 : -ENOENT);
			if (live) {
				m.s[i].live = false;
				m.count--;
			}
			break;
		}
		case 4:
		case 5: {
			unsigned k = (unsigned)(arg % M_KEYS);
			enum session_dir want_dir = SESSION_DIR_LAN_TO_WAN, dir;
			int want = m_find(&m, k, &want_dir);
			uint32_t got = lookup(m.t, &m.keys[k], &dir);

			assert_int_equal(got, want < 0 ? SESSION_INDEX_NONE : (uint32_t)want);
			if (want >= 0)
				assert_int_equal(dir, want_dir);
			break;
		}
		case 6: {
			const struct session_key *ptrs[M_KEYS];
			uint32_t out[M_KEYS];
			enum session_dir dirs[M_KEYS];

			for (unsigned k = 0; k < M_KEYS; k++)
				ptrs[k] = &m.keys[k];
			session_table_lookup_burst(m.t, ptrs, M_KEYS, out, dirs);
			for (unsigned k = 0; k < M_KEYS; k++) {
				enum session_dir want_dir = SESSION_DIR_LAN_TO_WAN;
				int want = m_find(&m, k, &want_dir);

				assert_int_equal(out[k],
				    want < 0 ? SESSION_INDEX_NONE : (uint32_t)want);
				if (want >= 0)
					assert_int_equal(dirs[k], want_dir);
			}
			break;
		}
		case 7: {
			uint32_t i = (uint32_t)(arg % M_CAP);
			unsigned k = (unsigned)((arg >> 16) % M_KEYS);
			enum session_dir dir;
			int owner = m_find(&m, k, &dir), want;

			if (!m.s[i].live)
				want = -ENOENT;
			else if (m.s[i].wan == k)
				want = 0;
			else if (owner >= 0)
				want = -EEXIST;
			else
				want = 0;
			assert_int_equal(session_table_rekey_wan(m.t, i, &m.keys[k]), want);
			if (want == 0 && m.s[i].live)
				m.s[i].wan = k;
			break;
		}
		case 8:
		case 9:
		case 10:
		case 11:
			m_packet(&m, arg);
			break;
		default:
			/* Mostly short steps, sometimes minutes, rarely beyond the wheel. */
			if (arg % 1000 == 0)
				m.now_ns += 3000 * S + arg % (1000 * S);
			else if (arg % 100 == 0)
				m.now_ns += arg % (300 * S);
			else if (arg % 30 == 0)
				m.now_ns += arg % (20 * S);
			else
				m.now_ns += arg % (100 * MS);
			session_table_expire(m.t, m.now_ns, m_on_expire, &m);
			break;
		}
		m_check(&m);
	}
	session_table_stats_get(m.t, &stats);
	assert_int_equal(stats.expired, m.expired);
	assert_int_equal(stats.inserts, stats.deletes + stats.expired + m.count);
	printf("# %llu inserts, %llu expired, %llu refused as full\n",
	    (unsigned long long)stats.inserts, (unsigned long long)stats.expired,
	    (unsigned long long)stats.full);
	session_table_free(m.t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_session_table_new_bad_config_refused),
	    cmocka_unit_test(test_session_table_insert_lookup_both_keys),
	    cmocka_unit_test(test_session_table_insert_existing_key_refused),
	    cmocka_unit_test(test_session_table_delete_removes_both_keys),
	    cmocka_unit_test(test_session_table_insert_full_refused),
	    cmocka_unit_test(test_session_table_lookup_burst_equals_single),
	    cmocka_unit_test(test_session_table_rekey_wan_moves_key),
	    cmocka_unit_test(test_session_table_zones_keep_tenants_apart),
	    cmocka_unit_test(test_session_table_expire_per_protocol),
	    cmocka_unit_test(test_session_table_expire_tcp_opening_then_established),
	    cmocka_unit_test(test_session_table_expire_tcp_closing),
	    cmocka_unit_test(test_session_table_expire_traffic_keeps_alive),
	    cmocka_unit_test(test_session_table_expire_calls_on_expire_once),
	    cmocka_unit_test(test_session_table_next_walks_live_sessions),
	    cmocka_unit_test(test_session_key_set_reads_only_the_family_bytes),
	    cmocka_unit_test(test_session_table_memory_per_session_at_most_256),
	    cmocka_unit_test(test_session_table_random_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
