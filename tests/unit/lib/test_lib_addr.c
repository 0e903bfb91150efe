/* Unit tests of lib/addr: address and prefix parse, format and matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/addr.h"
#include "test_rand.h"

static void
test_addr_parse_v4_roundtrip(void **state)
{
	struct addr a;
	char text[ADDR_TEXT_MAX];

	(void)state;
	assert_int_equal(addr_parse("10.0.1.10", &a), 0);
	assert_int_equal(a.family, ADDR_FAMILY_V4);
	assert_int_equal(a.bytes[3], 10);
	assert_int_equal(addr_format(&a, text, sizeof(text)), 0);
	assert_string_equal(text, "10.0.1.10");
}

static void
test_addr_parse_garbage_rejected(void **state)
{
	static const char *const bad[] = {"", "10.0.0", "10.0.0.256", "1.2.3.4 ", "::g",
	    "10.0.0.1/32", "a", "1:2:3:4:5:6:7:8:9"};
	struct addr a;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(addr_parse(bad[i], &a), -EINVAL);
}

static void
test_prefix_parse_host_bits_rejected(void **state)
{
	struct prefix p;

	(void)state;
	assert_int_equal(prefix_parse("10.1.0.1/24", &p), -EDOM);
	assert_int_equal(prefix_parse("10.1.0.0/33", &p), -ERANGE);
	assert_int_equal(prefix_parse("10.1.0.0/+8", &p), -EINVAL);
	assert_int_equal(prefix_parse("10.1.0.0/", &p), -EINVAL);
	assert_int_equal(prefix_parse("2001:db8::/32", &p), 0);
	assert_int_equal(p.len, 32);
}

static void
test_prefix_contains_boundaries(void **state)
{
	struct prefix p;
	struct addr in, out;

	(void)state;
	assert_int_equal(prefix_parse("10.1.0.0/23", &p), 0);
	assert_int_equal(addr_parse("10.1.1.255", &in), 0);
	assert_int_equal(addr_parse("10.1.2.0", &out), 0);
	assert_true(prefix_contains(&p, &in));
	assert_false(prefix_contains(&p, &out));
}

/* Parses text, formats it back, and expects the canonical form. */
static void
expect_canonical(const char *text, const char *canonical)
{
	char out[ADDR_TEXT_MAX];
	struct addr a, b;

	if (addr_parse(text, &a) != 0)
		fail_msg("cannot parse %s", text);
	assert_int_equal(addr_format(&a, out, sizeof(out)), 0);
	if (strcmp(out, canonical) != 0)
		fail_msg("%s formats as %s, expected %s", text, out, canonical);
	assert_int_equal(addr_parse(out, &b), 0);
	assert_true(addr_equal(&a, &b));
}

static void
test_addr_format_v6_canonical(void **state)
{
	(void)state;
	/* RFC 5952: lower case, no leading zeros, the longest zero run (the first of equals) as
	 * "::", a single zero field kept. */
	expect_canonical("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1");
	expect_canonical("2001:DB8::A", "2001:db8::a");
	expect_canonical("0:0:0:0:0:0:0:0", "::");
	expect_canonical("0:0:0:0:0:0:0:1", "::1");
	expect_canonical("1:0:0:0:0:0:0:0", "1::");
	expect_canonical("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");
	expect_canonical("2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1");
	expect_canonical("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1");
	expect_canonical("fe80::0001:0000", "fe80::1:0");
	expect_canonical("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	expect_canonical("::ffff:10.1.2.3", "::ffff:10.1.2.3");
	expect_canonical("::ffff:a01:203", "::ffff:10.1.2.3");
	expect_canonical("0.0.0.0", "0.0.0.0");
	expect_canonical("255.255.255.255", "255.255.255.255");
}

static void
test_addr_parse_v6_family_and_bytes(void **state)
{
	static const uint8_t want[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0x01};
	struct addr a;

	(void)state;
	assert_int_equal(addr_parse("2001:db8::1", &a), 0);
	assert_int_equal(a.family, ADDR_FAMILY_V6);
	assert_memory_equal(a.bytes, want, 16);
	assert_int_equal(addr_bits(&a), 128);
	/* A mapped IPv4 address stays IPv6: the families never mix. */
	assert_int_equal(addr_parse("::ffff:1.2.3.4", &a), 0);
	assert_int_equal(a.family, ADDR_FAMILY_V6);
	assert_int_equal(addr_parse("1.2.3.4", &a), 0);
	assert_int_equal(addr_bits(&a), 32);
	for (int i = 4; i < 16; i++)
		assert_int_equal(a.bytes[i], 0);
	assert_int_equal(addr_parse(NULL, &a), -EINVAL);
}

static void
test_addr_parse_v6_garbage_rejected(void **state)
{
	static const char *const bad[] = {":", ":::", "1::2::3", "2001:db8:::1",
	    "12345::", "1:2:3:4:5:6:7", "::ffff:1.2.3", "fe80::1%eth0", "[::1]", " ::1", "::1 ",
	    "g::", "1.2.3.4.5", "01.2.3.4", "1.2.3.-4", "0x1.2.3.4", "1..2.3"};
	struct addr a;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (addr_parse(bad[i], &a) != -EINVAL)
			fail_msg("accepted %s", bad[i]);
	}
}

static void
test_addr_format_small_buffer_enospc(void **state)
{
	char out[ADDR_TEXT_MAX];
	struct addr a;

	(void)state;
	assert_int_equal(addr_parse("10.1.2.3", &a), 0);
	assert_int_equal(addr_format(&a, out, 9), 0); /* exactly "10.1.2.3" + NUL */
	assert_string_equal(out, "10.1.2.3");
	assert_int_equal(addr_format(&a, out, 8), -ENOSPC);
	assert_int_equal(addr_format(&a, out, 0), -ENOSPC);
	assert_int_equal(addr_parse("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", &a), 0);
	assert_int_equal(addr_format(&a, out, sizeof(out)), 0);
	memset(&a, 0, sizeof(a));
	assert_int_equal(addr_format(&a, out, sizeof(out)), -EAFNOSUPPORT);
}

static void
test_prefix_parse_edge_cases(void **state)
{
	static const struct {
		const char *text;
		int rc;
		unsigned len;
	} cases[] = {
	    {"0.0.0.0/0", 0, 0},
	    {"::/0", 0, 0},
	    {"10.0.0.0/8", 0, 8},
	    {"10.0.0.1", 0, 32},
	    {"::1", 0, 128},
	    {"255.255.255.255/32", 0, 32},
	    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", 0, 128},
	    {"::ffff:10.0.0.0/104", 0, 104},
	    {"2001:db8::/127", 0, 127},
	    {"/8", -EINVAL, 0},
	    {"", -EINVAL, 0},
	    {"/", -EINVAL, 0},
	    {"10.0.0.0/8/8", -EINVAL, 0},
	    {"10.0.0.0/ 8", -EINVAL, 0},
	    {"10.0.0.0/-1", -EINVAL, 0},
	    {"10.0.0.0/8x", -EINVAL, 0},
	    {"10.0.0.0/0x8", -EINVAL, 0},
	    {"10.0.0.0/1000", -EINVAL, 0},
	    {"10.0.0.0/999", -ERANGE, 0},
	    {"10.0.0.0/33", -ERANGE, 0},
	    {"::/129", -ERANGE, 0},
	    {"::1/127", -EDOM, 0},
	    {"0.0.0.1/0", -EDOM, 0},
	    {"128.0.0.0/0", -EDOM, 0},
	    {"2001:db8::/32 ", -EINVAL, 0},
	    {"10.0.0.0 /8", -EINVAL, 0},
	    {"fe80::1%eth0/64", -EINVAL, 0},
	    {"0000:0000:0000:0000:0000:0000:0000:0000:0000/0", -EINVAL, 0},
	};
	struct prefix p;

	(void)state;
	assert_int_equal(prefix_parse(NULL, &p), -EINVAL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = prefix_parse(cases[i].text, &p);

		if (rc != cases[i].rc)
			fail_msg("\"%s\": got %d, expected %d", cases[i].text, rc, cases[i].rc);
		if (rc == 0)
			assert_int_equal(p.len, cases[i].len);
	}
}

static void
test_prefix_format_roundtrip(void **state)
{
	static const char *const texts[] = {"0.0.0.0/0", "10.1.0.0/16", "192.0.2.1/32", "::/0",
	    "2001:db8::/32", "2001:db8::1/128", "fe80::/10"};
	char out[PREFIX_TEXT_MAX];
	struct prefix p, q;

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		assert_int_equal(prefix_parse(texts[i], &p), 0);
		assert_int_equal(prefix_format(&p, out, sizeof(out)), 0);
		assert_string_equal(out, texts[i]);
		assert_int_equal(prefix_parse(out, &q), 0);
		assert_true(prefix_equal(&p, &q));
	}
	assert_int_equal(prefix_parse("10.1.0.0/16", &p), 0);
	assert_int_equal(prefix_format(&p, out, 12), 0); /* "10.1.0.0/16" + NUL */
	assert_int_equal(prefix_format(&p, out, 11), -ENOSPC);
	/* The longest prefix text fits PREFIX_TEXT_MAX. */
	assert_int_equal(prefix_parse("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", &p), 0);
	assert_int_equal(prefix_format(&p, out, sizeof(out)), 0);
	assert_true(strlen(out) < PREFIX_TEXT_MAX);
}

static void
test_prefix_contains_v6_and_default(void **state)
{
	struct prefix v4_default, v6_default, p33, host;
	struct addr a;

	(void)state;
	assert_int_equal(prefix_parse("0.0.0.0/0", &v4_default), 0);
	assert_int_equal(prefix_parse("::/0", &v6_default), 0);
	assert_int_equal(prefix_parse("2001:db8::/33", &p33), 0);
	assert_int_equal(prefix_parse("2001:db8::1/128", &host), 0);

	assert_int_equal(addr_parse("255.255.255.255", &a), 0);
	assert_true(prefix_contains(&v4_default, &a));
	assert_false(prefix_contains(&v6_default, &a));
	assert_int_equal(addr_parse("::", &a), 0);
	assert_true(prefix_contains(&v6_default, &a));
	assert_false(prefix_contains(&v4_default, &a));
	assert_int_equal(addr_parse("::ffff:10.0.0.1", &a), 0);
	assert_false(prefix_contains(&v4_default, &a));

	assert_int_equal(addr_parse("2001:db8:7fff:ffff:ffff:ffff:ffff:ffff", &a), 0);
	assert_true(prefix_contains(&p33, &a));
	assert_int_equal(addr_parse("2001:db8:8000::", &a), 0);
	assert_false(prefix_contains(&p33, &a));
	assert_int_equal(addr_parse("2001:db9::", &a), 0);
	assert_false(prefix_contains(&p33, &a));

	assert_int_equal(addr_parse("2001:db8::1", &a), 0);
	assert_true(prefix_contains(&host, &a));
	assert_int_equal(addr_parse("2001:db8::", &a), 0);
	assert_false(prefix_contains(&host, &a));
	assert_int_equal(addr_parse("2001:db8::3", &a), 0);
	assert_false(prefix_contains(&host, &a));
}

static int
sign(int x)
{
	return (x > 0) - (x < 0);
}

static void
test_addr_compare_ordering(void **state)
{
	/* Ascending: IPv4 before IPv6, then byte order within a family. */
	static const char *const sorted[] = {"0.0.0.0", "0.0.0.1", "1.2.3.4", "1.2.3.5",
	    "1.255.0.0", "2.0.0.0", "255.255.255.255", "::", "::1", "::ffff:0.0.0.0",
	    "1::", "2001:db8::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"};
	const size_t n = sizeof(sorted) / sizeof(sorted[0]);
	struct addr a, b;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			int want = (i > j) - (i < j);

			assert_int_equal(addr_parse(sorted[i], &a), 0);
			assert_int_equal(addr_parse(sorted[j], &b), 0);
			if (sign(addr_compare(&a, &b)) != want)
				fail_msg("compare(%s, %s) != %d", sorted[i], sorted[j], want);
			assert_true(addr_equal(&a, &b) == (i == j));
		}
	}
}

static void
test_prefix_from_addr_clears_host_bits(void **state)
{
	struct prefix p, q;
	struct addr a, none;

	(void)state;
	assert_int_equal(addr_parse("10.1.2.255", &a), 0);
	assert_int_equal(prefix_from_addr(&p, &a, 23), 0);
	assert_int_equal(prefix_parse("10.1.3.0/23", &q), -EDOM);
	assert_int_equal(prefix_parse("10.1.2.0/23", &q), 0);
	assert_true(prefix_equal(&p, &q));
	assert_int_equal(prefix_from_addr(&p, &a, 0), 0);
	assert_int_equal(p.addr.family, ADDR_FAMILY_V4);
	assert_int_equal(prefix_parse("0.0.0.0/0", &q), 0);
	assert_true(prefix_equal(&p, &q));
	assert_int_equal(prefix_from_addr(&p, &a, 32), 0);
	assert_true(addr_equal(&p.addr, &a));
	assert_int_equal(prefix_from_addr(&p, &a, 33), -ERANGE);

	assert_int_equal(addr_parse("2001:db8:ffff:ffff::1", &a), 0);
	assert_int_equal(prefix_from_addr(&p, &a, 36), 0);
	assert_int_equal(prefix_parse("2001:db8:f000::/36", &q), 0);
	assert_true(prefix_equal(&p, &q));
	assert_int_equal(prefix_from_addr(&p, &a, 128), 0);
	assert_true(addr_equal(&p.addr, &a));
	assert_int_equal(prefix_from_addr(&p, &a, 129), -ERANGE);

	memset(&none, 0, sizeof(none));
	assert_int_equal(prefix_from_addr(&p, &none, 0), -ERANGE);
	assert_int_equal(addr_bits(&none), 0);

	/* Same address, other length: not equal. */
	assert_int_equal(prefix_parse("10.0.0.0/8", &p), 0);
	assert_int_equal(prefix_parse("10.0.0.0/9", &q), 0);
	assert_false(prefix_equal(&p, &q));
}

static void
test_addr_bit_msb_first(void **state)
{
	struct addr a;

	(void)state;
	assert_int_equal(addr_parse("128.0.0.1", &a), 0);
	assert_true(addr_bit(&a, 0));
	assert_false(addr_bit(&a, 1));
	assert_false(addr_bit(&a, 30));
	assert_true(addr_bit(&a, 31));
	assert_int_equal(addr_parse("::1", &a), 0);
	assert_true(addr_bit(&a, 127));
	assert_false(addr_bit(&a, 126));
}

/* Randomized: prefix_contains() against a bit-by-bit model; format/parse roundtrips. */

static void
random_addr(uint64_t *rng, struct addr *a, uint8_t family)
{
	uint8_t bytes[16];

	for (int i = 0; i < 16; i++)
		bytes[i] = (uint8_t)test_rand(rng);
	/* Long zero runs too, so the "::" forms get exercised. */
	if (test_rand_below(rng, 2)) {
		unsigned from = (unsigned)test_rand_below(rng, 16);
		unsigned n = (unsigned)test_rand_below(rng, 16);

		for (unsigned i = from; i < 16 && i < from + n; i++)
			bytes[i] = 0;
	}
	if (family == ADDR_FAMILY_V4)
		addr_set_v4(a, bytes);
	else
		addr_set_v6(a, bytes);
}

static bool
model_contains(const struct prefix *p, const struct addr *a)
{
	if (p->addr.family != a->family)
		return false;
	for (unsigned i = 0; i < p->len; i++) {
		if (addr_bit(&p->addr, i) != addr_bit(a, i))
			return false;
	}
	return true;
}

static void
test_prefix_contains_random_against_model(void **state)
{
	uint64_t rng = test_seed();
	unsigned inside = 0;

	(void)state;
	for (unsigned iter = 0; iter < 100000; iter++) {
		uint8_t family = test_rand_below(&rng, 2) ? ADDR_FAMILY_V4 : ADDR_FAMILY_V6;
		unsigned bits = family == ADDR_FAMILY_V4 ? 32 : 128, len;
		char text[PREFIX_TEXT_MAX];
		struct prefix p, q;
		struct addr base, a;

		random_addr(&rng, &base, family);
		len = (unsigned)test_rand_below(&rng, bits + 1);
		assert_int_equal(prefix_from_addr(&p, &base, len), 0);
		switch (test_rand_below(&rng, 4)) {
		case 0: /* unrelated, maybe of the other family */
			random_addr(&rng, &a,
			    test_rand_below(&rng, 4) ? family : (uint8_t)(10 - family));
			break;
		case 1: /* inside: base itself */
			a = base;
			break;
		default: /* base with one bit flipped, inside or just outside */
			a = base;
			{
				unsigned bit = (unsigned)test_rand_below(&rng, bits);

				a.bytes[bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
			}
			break;
		}
		if (prefix_contains(&p, &a) != model_contains(&p, &a))
			fail_msg("iteration %u: prefix_contains disagrees with the model", iter);
		inside += model_contains(&p, &a);

		/* Text roundtrips of both. */
		assert_int_equal(prefix_format(&p, text, sizeof(text)), 0);
		assert_int_equal(prefix_parse(text, &q), 0);
		assert_true(prefix_equal(&p, &q));
		assert_int_equal(addr_format(&a, text, sizeof(text)), 0);
		assert_int_equal(addr_parse(text, &base), 0);
		assert_true(addr_equal(&a, &base));
	}
	printf("# %u of 100000 inside\n", inside);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_addr_parse_v4_roundtrip),
	    cmocka_unit_test(test_addr_parse_garbage_rejected),
	    cmocka_unit_test(test_prefix_parse_host_bits_rejected),
	    cmocka_unit_test(test_prefix_contains_boundaries),
	    cmocka_unit_test(test_addr_format_v6_canonical),
	    cmocka_unit_test(test_addr_parse_v6_family_and_bytes),
	    cmocka_unit_test(test_addr_parse_v6_garbage_rejected),
	    cmocka_unit_test(test_addr_format_small_buffer_enospc),
	    cmocka_unit_test(test_prefix_parse_edge_cases),
	    cmocka_unit_test(test_prefix_format_roundtrip),
	    cmocka_unit_test(test_prefix_contains_v6_and_default),
	    cmocka_unit_test(test_addr_compare_ordering),
	    cmocka_unit_test(test_prefix_from_addr_clears_host_bits),
	    cmocka_unit_test(test_addr_bit_msb_first),
	    cmocka_unit_test(test_prefix_contains_random_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
