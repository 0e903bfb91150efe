/* Unit tests of lib/lpm: edge cases, then random operations against a naive list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/lpm.h"
#include "test_rand.h"

static struct prefix
P(const char *text) {
	struct prefix p;

	if (prefix_parse(text, &p) != 0)
		fail_msg("bad prefix in test: %s", text);
	return p;
}

static struct addr
A(const char *text) {
	struct addr a;

	if (addr_parse(text, &a) != 0)
		fail_msg("bad address in test: %s", text);
	return a;
}

static void
add(struct lpm *t, const char *prefix, uint32_t value)
{
	struct prefix p = P(prefix);

	assert_int_equal(lpm_add(t, &p, value), 0);
}

/* Asserts that address text maps to value through a prefix of length len. */
static void
expect(const struct lpm *t, const char *addr, uint32_t value, unsigned len)
{
	struct addr a = A(addr);
	uint32_t v = 0;
	unsigned l = 0;

	if (lpm_lookup(t, &a, &v, &l) != 0)
		fail_msg("%s: no match, expected %u /%u", addr, value, len);
	if (v != value || l != len)
		fail_msg("%s: got %u /%u, expected %u /%u", addr, v, l, value, len);
}

static void
expect_none(const struct lpm *t, const char *addr)
{
	struct addr a = A(addr);
	uint32_t v;

	assert_int_equal(lpm_lookup(t, &a, &v, NULL), -ENOENT);
}

static void
test_lpm_new_bad_capacity(void **state)
{
	(void)state;
	assert_null(lpm_new(0));
	assert_null(lpm_new(LPM_CAPACITY_MAX + 1));
	lpm_free(NULL);
}

static void
test_lpm_lookup_empty_enoent(void **state)
{
	struct lpm *t = lpm_new(4);
	struct addr none;

	(void)state;
	expect_none(t, "10.0.0.1");
	expect_none(t, "::1");
	memset(&none, 0, sizeof(none));
	assert_int_equal(lpm_lookup(t, &none, &(uint32_t){0}, NULL), -ENOENT);
	assert_int_equal(lpm_count(t), 0);
	assert_int_equal(lpm_capacity(t), 4);
	lpm_free(t);
}

static void
test_lpm_lookup_default_route_per_family(void **state)
{
	struct lpm *t = lpm_new(4);

	(void)state;
	add(t, "0.0.0.0/0", 4);
	expect(t, "0.0.0.0", 4, 0);
	expect(t, "255.255.255.255", 4, 0);
	expect(t, "10.1.2.3", 4, 0);
	/* The IPv4 default route says nothing about IPv6, mapped addresses included. */
	expect_none(t, "::");
	expect_none(t, "::ffff:10.1.2.3");

	add(t, "::/0", 6);
	expect(t, "::", 6, 0);
	expect(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 6, 0);
	expect(t, "10.1.2.3", 4, 0);
	assert_int_equal(lpm_count(t), 2);
	lpm_free(t);
}

static void
test_lpm_lookup_host_routes(void **state)
{
	struct lpm *t = lpm_new(8);

	(void)state;
	add(t, "10.0.0.1/32", 1);
	add(t, "2001:db8::1/128", 2);
	add(t, "255.255.255.255/32", 3);
	add(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", 4);
	expect(t, "10.0.0.1", 1, 32);
	expect_none(t, "10.0.0.0");
	expect_none(t, "10.0.0.2");
	expect_none(t, "11.0.0.1");
	expect(t, "2001:db8::1", 2, 128);
	expect_none(t, "2001:db8::");
	expect_none(t, "2001:db8::3");
	expect(t, "255.255.255.255", 3, 32);
	expect_none(t, "255.255.255.254");
	expect(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 4, 128);
	expect_none(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
	lpm_free(t);
}

static void
test_lpm_lookup_nested_longest_wins(void **state)
{
	struct lpm *t = lpm_new(16);

	(void)state;
	add(t, "10.0.0.0/8", 8);
	add(t, "10.1.2.0/24", 24);
	add(t, "10.1.0.0/16", 16);
	add(t, "10.1.2.128/25", 25);
	add(t, "10.1.2.129/32", 32);
	expect(t, "10.2.0.0", 8, 8);
	expect(t, "10.1.3.0", 16, 16);
	expect(t, "10.1.2.1", 24, 24);
	expect(t, "10.1.2.130", 25, 25);
	expect(t, "10.1.2.129", 32, 32);
	expect_none(t, "11.1.2.129");

	add(t, "2001:db8::/32", 32);
	add(t, "2001:db8:1::/48", 48);
	add(t, "2001:db8:1:2::/64", 64);
	expect(t, "2001:db8:1:2::5", 64, 64);
	expect(t, "2001:db8:1:3::5", 48, 48);
	expect(t, "2001:db8:2::", 32, 32);
	expect_none(t, "2001:db9::");
	lpm_free(t);
}

static void
test_lpm_del_inner_leaves_outer(void **state)
{
	struct lpm *t = lpm_new(8);
	struct prefix p = P("10.1.0.0/16");

	(void)state;
	add(t, "10.0.0.0/8", 8);
	add(t, "10.1.0.0/16", 16);
	expect(t, "10.1.1.1", 16, 16);
	assert_int_equal(lpm_del(t, &p), 0);
	expect(t, "10.1.1.1", 8, 8);
	assert_int_equal(lpm_del(t, &p), -ENOENT);
	assert_int_equal(lpm_count(t), 1);

	add(t, "2001:db8::/32", 32);
	add(t, "2001:db8:ff00::/40", 40);
	p = P("2001:db8:ff00::/40");
	assert_int_equal(lpm_del(t, &p), 0);
	expect(t, "2001:db8:ff00::1", 32, 32);
	lpm_free(t);
}

static void
test_lpm_del_outer_leaves_inner(void **state)
{
	struct lpm *t = lpm_new(8);
	struct prefix p = P("10.0.0.0/8");

	(void)state;
	add(t, "10.0.0.0/8", 8);
	add(t, "10.1.0.0/16", 16);
	add(t, "10.2.0.0/16", 162);
	assert_int_equal(lpm_del(t, &p), 0);
	expect(t, "10.1.1.1", 16, 16);
	expect(t, "10.2.1.1", 162, 16);
	expect_none(t, "10.3.1.1");
	assert_int_equal(lpm_count(t), 2);
	lpm_free(t);
}

static void
test_lpm_del_glue_prefix_enoent(void **state)
{
	struct lpm *t = lpm_new(8);
	struct prefix glue = P("10.0.0.0/23"), shorter = P("10.0.0.0/22"), p;
	uint32_t v;

	(void)state;
	/* These two part at bit 23, so the trie holds an unstored 10.0.0.0/23 node. */
	add(t, "10.0.0.0/24", 1);
	add(t, "10.0.1.0/24", 2);
	assert_int_equal(lpm_del(t, &glue), -ENOENT);
	assert_int_equal(lpm_del(t, &shorter), -ENOENT);
	assert_int_equal(lpm_lookup_exact(t, &glue, &v), -ENOENT);
	expect_none(t, "10.0.2.0");

	/* Storing the glue prefix itself turns that node into a real one. */
	add(t, "10.0.0.0/23", 3);
	assert_int_equal(lpm_lookup_exact(t, &glue, &v), 0);
	assert_int_equal(v, 3);
	expect(t, "10.0.0.1", 1, 24);
	p = P("10.0.0.0/24");
	assert_int_equal(lpm_del(t, &p), 0);
	expect(t, "10.0.0.1", 3, 23);
	p = P("10.0.1.0/24");
	assert_int_equal(lpm_del(t, &p), 0);
	expect(t, "10.0.1.1", 3, 23);
	assert_int_equal(lpm_del(t, &glue), 0);
	expect_none(t, "10.0.1.1");
	assert_int_equal(lpm_count(t), 0);
	lpm_free(t);
}

static void
test_lpm_add_duplicate_eexist(void **state)
{
	struct lpm *t = lpm_new(4);
	struct prefix p = P("192.168.0.0/16");
	uint32_t v;

	(void)state;
	assert_int_equal(lpm_add(t, &p, 1), 0);
	assert_int_equal(lpm_add(t, &p, 2), -EEXIST);
	assert_int_equal(lpm_lookup_exact(t, &p, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(lpm_count(t), 1);
	lpm_free(t);
}

static void
test_lpm_set_replaces_or_adds(void **state)
{
	struct lpm *t = lpm_new(2);
	struct prefix p = P("192.168.0.0/16"), q = P("fe80::/10"), r = P("::1/128");

	(void)state;
	assert_int_equal(lpm_set(t, &p, 1), 0);
	assert_int_equal(lpm_set(t, &p, 2), 0);
	expect(t, "192.168.1.1", 2, 16);
	assert_int_equal(lpm_set(t, &q, 3), 0);
	assert_int_equal(lpm_count(t), 2);
	/* Full, but replacing a stored prefix needs no room. */
	assert_int_equal(lpm_set(t, &q, 4), 0);
	expect(t, "fe80::1", 4, 10);
	assert_int_equal(lpm_set(t, &r, 5), -ENOSPC);
	lpm_free(t);
}

static void
test_lpm_add_full_enospc(void **state)
{
	struct lpm *t = lpm_new(3);
	struct prefix a = P("10.0.0.0/24"), b = P("10.0.1.0/24"), c = P("::/0");
	struct prefix d = P("10.0.0.0/23"), e = P("10.0.0.0/8");

	(void)state;
	assert_int_equal(lpm_add(t, &a, 1), 0);
	assert_int_equal(lpm_add(t, &b, 2), 0);
	assert_int_equal(lpm_add(t, &c, 3), 0);
	/* Full, including the case of a glue node that would become real. */
	assert_int_equal(lpm_add(t, &d, 4), -ENOSPC);
	assert_int_equal(lpm_add(t, &e, 5), -ENOSPC);
	assert_int_equal(lpm_count(t), 3);
	expect(t, "10.0.1.9", 2, 24);
	assert_int_equal(lpm_del(t, &c), 0);
	assert_int_equal(lpm_add(t, &d, 4), 0);
	assert_int_equal(lpm_add(t, &e, 5), -ENOSPC);

	lpm_clear(t);
	assert_int_equal(lpm_count(t), 0);
	expect_none(t, "10.0.1.9");
	assert_int_equal(lpm_add(t, &e, 5), 0);
	assert_int_equal(lpm_add(t, &a, 1), 0);
	assert_int_equal(lpm_add(t, &c, 3), 0);
	lpm_free(t);
}

static void
test_lpm_add_invalid_einval(void **state)
{
	struct lpm *t = lpm_new(4);
	struct prefix p = P("10.0.0.0/8");
	uint32_t v;

	(void)state;
	p.addr.bytes[3] = 1; /* a host bit */
	assert_int_equal(lpm_add(t, &p, 1), -EINVAL);
	assert_int_equal(lpm_del(t, &p), -EINVAL);
	assert_int_equal(lpm_lookup_exact(t, &p, &v), -EINVAL);
	p = P("10.0.0.0/8");
	p.len = 33;
	assert_int_equal(lpm_add(t, &p, 1), -EINVAL);
	p = P("10.0.0.0/8");
	p.addr.bytes[8] = 1; /* IPv4 with junk past its four bytes */
	assert_int_equal(lpm_add(t, &p, 1), -EINVAL);
	p = P("::/0");
	p.len = 129;
	assert_int_equal(lpm_add(t, &p, 1), -EINVAL);
	p = P("::/0");
	p.addr.family = ADDR_FAMILY_NONE;
	assert_int_equal(lpm_add(t, &p, 1), -EINVAL);
	assert_int_equal(lpm_set(t, &p, 1), -EINVAL);
	assert_int_equal(lpm_count(t), 0);
	lpm_free(t);
}

struct walk_log {
	unsigned n;
	char text[16][PREFIX_TEXT_MAX];
	uint32_t value[16];
	unsigned stop_after;
};

static int
walk_record(const struct prefix *p, uint32_t value, void *arg)
{
	struct walk_log *w = arg;

	assert_int_equal(prefix_format(p, w->text[w->n], PREFIX_TEXT_MAX), 0);
	w->value[w->n] = value;
	w->n++;
	return w->n == w->stop_after ? 42 : 0;
}

static void
test_lpm_walk_order(void **state)
{
	static const char *const sorted[] = {"0.0.0.0/0", "10.0.0.0/8", "10.0.0.0/24",
	    "10.0.1.0/24", "10.128.0.0/9", "192.168.1.1/32", "::/0", "2001:db8::/32",
	    "2001:db8::1/128", "fe80::/10"};
	const unsigned n = sizeof(sorted) / sizeof(sorted[0]);
	struct lpm *t = lpm_new(16);
	struct walk_log w = {0};

	(void)state;
	/* Insert in a scrambled order. */
	for (unsigned i = 0; i < n; i++)
		add(t, sorted[(i * 7) % n], (i * 7) % n);
	assert_int_equal(lpm_walk(t, walk_record, &w), 0);
	assert_int_equal(w.n, n);
	for (unsigned i = 0; i < n; i++) {
		assert_string_equal(w.text[i], sorted[i]);
		assert_int_equal(w.value[i], i);
	}
	memset(&w, 0, sizeof(w));
	w.stop_after = 3;
	assert_int_equal(lpm_walk(t, walk_record, &w), 42);
	assert_int_equal(w.n, 3);
	lpm_free(t);
}

/* Randomized model test: the trie against a list searched by prefix_contains(). */

struct model_entry {
	struct prefix p;
	uint32_t value;
};

struct model {
	struct model_entry *e;
	unsigned n;
};

/*
 * Addresses near a few bases so that prefixes nest, collide and share long runs of
 * bits; some bits flipped at random positions, biased to the first bytes and the end.
 */
static struct addr
random_addr(uint64_t *rng, uint8_t family)
{
	static const uint8_t base[4][16] = {
	    {10, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	    {192, 168, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
	    {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	    {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	        0xff, 0xff},
	};
	unsigned bits = family == ADDR_FAMILY_V4 ? 32 : 128;
	uint8_t bytes[16];
	struct addr a;
	unsigned flips;

	memcpy(bytes, base[test_rand_below(rng, 4)], 16);
	if (test_rand_below(rng, 8) == 0) {
		for (unsigned i = 0; i < 16; i++)
			bytes[i] = (uint8_t)test_rand(rng);
	}
	flips = (unsigned)test_rand_below(rng, 4);
	for (unsigned i = 0; i < flips; i++) {
		/* Half of the flips are kept to the first 24 bits. */
		unsigned span = test_rand_below(rng, 2) ? bits : (bits < 24 ? bits : 24);
		unsigned pos = (unsigned)test_rand_below(rng, span);

		bytes[pos / 8] ^= (uint8_t)(0x80u >> (pos % 8));
	}
	if (family == ADDR_FAMILY_V4)
		addr_set_v4(&a, bytes);
	else
		addr_set_v6(&a, bytes);
	return a;
}

static struct prefix
random_prefix(uint64_t *rng, uint8_t family)
{
	unsigned bits = family == ADDR_FAMILY_V4 ? 32 : 128;
	struct addr a = random_addr(rng, family);
	struct prefix p;
	unsigned len;

	/* Favour the interesting lengths: 0, the host length, and short ones. */
	switch (test_rand_below(rng, 6)) {
	case 0:
		len = 0;
		break;
	case 1:
		len = bits;
		break;
	case 2:
		len = (unsigned)test_rand_below(rng, 25);
		break;
	default:
		len = (unsigned)test_rand_below(rng, bits + 1);
		break;
	}
	assert_int_equal(prefix_from_addr(&p, &a, len), 0);
	return p;
}

static int
model_find(const struct model *m, const struct prefix *p)
{
	for (unsigned i = 0; i < m->n; i++) {
		if (prefix_equal(&m->e[i].p, p))
			return (int)i;
	}
	return -1;
}

static int
model_lookup(const struct model *m, const struct addr *a, uint32_t *value, unsigned *len)
{
	int best = -1;

	for (unsigned i = 0; i < m->n; i++) {
		if (prefix_contains(&m->e[i].p, a) &&
		    (best < 0 || m->e[i].p.len > m->e[best].p.len))
			best = (int)i;
	}
	if (best < 0)
		return -ENOENT;
	*value = m->e[best].value;
	*len = m->e[best].p.len;
	return 0;
}

struct walk_check {
	const struct model *m;
	unsigned n;
	struct prefix prev;
};

static int
walk_check_one(const struct prefix *p, uint32_t value, void *arg)
{
	struct walk_check *w = arg;
	int i = model_find(w->m, p);

	if (i < 0 || w->m->e[i].value != value)
		fail_msg("walk returned a prefix the model does not hold");
	/* Strictly increasing: by family, then address, then length. */
	if (w->n > 0) {
		int c = addr_compare(&w->prev.addr, &p->addr);

		if (c > 0 || (c == 0 && w->prev.len >= p->len))
			fail_msg("walk out of order");
	}
	w->prev = *p;
	w->n++;
	return 0;
}

static void
test_lpm_random_against_model(void **state)
{
	const unsigned capacity = 200, ops = 100000;
	uint64_t rng = test_seed();
	struct lpm *t = lpm_new(capacity);
	struct model m = {.e = calloc(capacity, sizeof(struct model_entry))};
	unsigned adds = 0, dels = 0, hits = 0, full = 0;

	(void)state;
	assert_non_null(t);
	assert_non_null(m.e);
	for (unsigned op = 0; op < ops; op++) {
		uint8_t family = test_rand_below(&rng, 2) ? ADDR_FAMILY_V4 : ADDR_FAMILY_V6;
		unsigned kind = (unsigned)test_rand_below(&rng, 100);
		/* Alternate phases that fill the table (to -ENOSPC) and drain it. */
		unsigned add_share = (op / 5000) % 2 == 0 ? 46 : 12;

		if (kind < add_share) {
			struct prefix p = random_prefix(&rng, family);
			uint32_t value = (uint32_t)test_rand(&rng);
			int i = model_find(&m, &p), rc = lpm_add(t, &p, value);

			if (i >= 0) {
				assert_int_equal(rc, -EEXIST);
			} else if (m.n == capacity) {
				assert_int_equal(rc, -ENOSPC);
				full++;
			} else {
				assert_int_equal(rc, 0);
				m.e[m.n].p = p;
				m.e[m.n].value = value;
				m.n++;
				adds++;
			}
		} else if (kind < 50) {
			/* Delete a stored prefix most of the time, a random one otherwise. */
			struct prefix p = m.n > 0 && test_rand_below(&rng, 4) != 0 ?
			    m.e[test_rand_below(&rng, m.n)].p :
			    random_prefix(&rng, family);
			int i = model_find(&m, &p), rc = lpm_del(t, &p);

			if (i < 0) {
				assert_int_equal(rc, -ENOENT);
			} else {
				assert_int_equal(rc, 0);
				m.e[i] = m.e[--m.n];
				dels++;
			}
		} else if (kind < 55 && m.n > 0) {
			/* Replace through lpm_set(). */
			unsigned i = (unsigned)test_rand_below(&rng, m.n);
			uint32_t value = (uint32_t)test_rand(&rng);

			assert_int_equal(lpm_set(t, &m.e[i].p, value), 0);
			m.e[i].value = value;
		} else {
			struct addr a = random_addr(&rng, family);
			uint32_t v1 = 0, v2 = 0;
			unsigned l1 = 0, l2 = 0;
			int r1 = model_lookup(&m, &a, &v1, &l1), r2 = lpm_lookup(t, &a, &v2, &l2);

			if (r1 != r2 || v1 != v2 || l1 != l2) {
				char text[ADDR_TEXT_MAX];

				addr_format(&a, text, sizeof(text));
				fail_msg("op %u lookup %s: model %d %u /%u, lpm %d %u /%u", op,
				    text, r1, v1, l1, r2, v2, l2);
			}
			hits += r1 == 0;
		}
		assert_int_equal(lpm_count(t), m.n);
		if (op % 1000 == 0) {
			struct walk_check w = {.m = &m};

			assert_int_equal(lpm_walk(t, walk_check_one, &w), 0);
			assert_int_equal(w.n, m.n);
			for (unsigned i = 0; i < m.n; i++) {
				uint32_t v;

				assert_int_equal(lpm_lookup_exact(t, &m.e[i].p, &v), 0);
				assert_int_equal(v, m.e[i].value);
			}
		}
	}
	printf("# %u adds, %u deletes, %u lookup hits, %u refused as full\n", adds, dels, hits,
	    full);
	/* Drain completely: everything left must delete, and the trie ends empty. */
	while (m.n > 0) {
		assert_int_equal(lpm_del(t, &m.e[m.n - 1].p), 0);
		m.n--;
	}
	assert_int_equal(lpm_count(t), 0);
	expect_none(t, "10.1.2.3");
	expect_none(t, "2001:db8::");
	free(m.e);
	lpm_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lpm_new_bad_capacity),
	    cmocka_unit_test(test_lpm_lookup_empty_enoent),
	    cmocka_unit_test(test_lpm_lookup_default_route_per_family),
	    cmocka_unit_test(test_lpm_lookup_host_routes),
	    cmocka_unit_test(test_lpm_lookup_nested_longest_wins),
	    cmocka_unit_test(test_lpm_del_inner_leaves_outer),
	    cmocka_unit_test(test_lpm_del_outer_leaves_inner),
	    cmocka_unit_test(test_lpm_del_glue_prefix_enoent),
	    cmocka_unit_test(test_lpm_add_duplicate_eexist),
	    cmocka_unit_test(test_lpm_set_replaces_or_adds),
	    cmocka_unit_test(test_lpm_add_full_enospc),
	    cmocka_unit_test(test_lpm_add_invalid_einval),
	    cmocka_unit_test(test_lpm_walk_order),
	    cmocka_unit_test(test_lpm_random_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
