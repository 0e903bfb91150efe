/*
 * The session table's TCP tracking as the stateful firewall reads it: each session's
 * timeout class (OPENING until a SYN was seen each way, ESTABLISHED, CLOSING after a FIN
 * each way or a RST, OPENING again when a bare SYN reopens a closed tuple) and the count
 * of half-open sessions (session_table_opening()), against a naive model under random
 * packets, deletes and a final expiry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <string.h>

#include "lib/addr.h"
#include "session/session_table.h"
#include "test_rand.h"

#define SLOTS 64

/* The model of one session: written from the rules in the header, not from the code. */
struct model {
	bool alive;
	bool tcp;
	uint32_t index;
	bool syn[2], fin[2], rst;
	enum session_timeout_class cls;
};

static enum session_timeout_class
model_class(const struct model *m)
{
	if (!m->tcp)
		return SESSION_TIMEOUT_UDP;
	if (m->rst || (m->fin[0] && m->fin[1]))
		return SESSION_TIMEOUT_TCP_CLOSING;
	if (m->syn[0] && m->syn[1])
		return SESSION_TIMEOUT_TCP_ESTABLISHED;
	return SESSION_TIMEOUT_TCP_OPENING;
}

static void
model_packet(struct model *m, unsigned dir, uint8_t flags)
{
	if (!m->tcp)
		return;
	/* SYN alone (no ACK, no RST) on a closed session: a new connection on the tuple. */
	if ((flags & 0x16) == 0x02 && m->cls == SESSION_TIMEOUT_TCP_CLOSING)
		memset(m->syn, 0, sizeof(m->syn)), memset(m->fin, 0, sizeof(m->fin)),
		    m->rst = false;
	m->syn[dir] |= (flags & 0x02) != 0;
	m->fin[dir] |= (flags & 0x01) != 0;
	m->rst |= (flags & 0x04) != 0;
	m->cls = model_class(m);
}

static uint32_t
model_opening(const struct model *ms)
{
	uint32_t n = 0;

	for (int i = 0; i < SLOTS; i++)
		n += ms[i].alive && ms[i].cls == SESSION_TIMEOUT_TCP_OPENING;
	return n;
}

static void
keys_of(int slot, bool tcp, struct session_key *lan, struct session_key *wan)
{
	uint8_t a[16] = {10, 0, 1, 10}, b[16] = {10, 0, 2, 20}, p[16] = {198, 51, 100, 2},
	        l[16] = {203, 0, 113, 1};
	uint8_t proto = tcp ? IPPROTO_TCP : IPPROTO_UDP;

	session_key_set(lan, ADDR_FAMILY_V4, proto, 0, a, b, (uint16_t)(20000 + slot), 443);
	session_key_set(wan, ADDR_FAMILY_V4, proto, SESSION_ZONE_WAN | 1, p, l,
	    (uint16_t)(30001 + 2 * slot), (uint16_t)(30000 + 2 * slot));
}

static void
test_session_tcp_state_random_model(void **state)
{
	static const uint8_t flag_set[] = {0x02, 0x12, 0x10, 0x18, 0x11, 0x01, 0x04, 0x14, 0x03};
	struct session_table_config cfg;
	struct session_table *t;
	struct model ms[SLOTS];
	uint64_t rng = test_seed(), now = 1000;

	(void)state;
	memset(ms, 0, sizeof(ms));
	session_table_config_default(&cfg, SLOTS);
	cfg.seed = 7;
	t = session_table_new(&cfg, now);
	assert_non_null(t);
	for (int step = 0; step < 200000; step++) {
		int slot = (int)test_rand_below(&rng, SLOTS);
		struct model *m = &ms[slot];
		unsigned r = (unsigned)test_rand_below(&rng, 100);

		now += 1000;
		if (!m->alive) {
			struct session_key lan, wan;

			m->tcp = test_rand_below(&rng, 4) != 0;
			keys_of(slot, m->tcp, &lan, &wan);
			assert_int_equal(session_table_insert(t, &lan, &wan, now, &m->index), 0);
			m->alive = true;
			memset(m->syn, 0, sizeof(m->syn));
			memset(m->fin, 0, sizeof(m->fin));
			m->rst = false;
			m->cls = model_class(m);
		} else if (r < 3) {
			assert_int_equal(session_table_delete(t, m->index), 0);
			m->alive = false;
		} else {
			unsigned dir = (unsigned)test_rand_below(&rng, 2);
			uint8_t flags =
			    m->tcp ? flag_set[test_rand_below(&rng, sizeof(flag_set))] : 0;

			session_on_packet(t, session_table_get(t, m->index), (enum session_dir)dir,
			    flags, 100, now);
			model_packet(m, dir, flags);
		}
		if (m->alive)
			assert_int_equal(session_table_get(t, m->index)->timeout_class, m->cls);
		assert_int_equal(session_table_opening(t), model_opening(ms));
	}
	/* Everything idles out: no half-open session is left behind. */
	session_table_expire(t, now + 4000ull * 1000000000ull, NULL, NULL);
	assert_int_equal(session_table_count(t), 0);
	assert_int_equal(session_table_opening(t), 0);
	session_table_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_session_tcp_state_random_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
