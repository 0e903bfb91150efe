/* Unit tests of lib/addr: address and prefix parse, format and matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "lib/addr.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_addr_parse_v4_roundtrip),
	    cmocka_unit_test(test_addr_parse_garbage_rejected),
	    cmocka_unit_test(test_prefix_parse_host_bits_rejected),
	    cmocka_unit_test(test_prefix_contains_boundaries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
