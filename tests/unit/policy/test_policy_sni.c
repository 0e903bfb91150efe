/*
 * Unit tests of the TLS SNI learner (src/policy/policy_sni.h) on ClientHellos captured
 * from OpenSSL on loopback (policy_tls_samples.h): the name from TLS 1.3 and 1.2
 * hellos, -EAGAIN for every prefix, and each refusal.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "policy/policy_sni.h"
#include "policy_tls_samples.h"

/* Offset of the SNI host name in a sample. */
static size_t
name_offset(const uint8_t *ch, size_t len)
{
	for (size_t i = 0; i + 12 <= len; i++)
		if (memcmp(ch + i, "example.test", 12) == 0)
			return i;
	fail_msg("sample without example.test");
	return 0;
}

static void
test_policy_tls_sni_captured_hellos(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(policy_tls_sni(policy_sample_ch13, sizeof(policy_sample_ch13), out,
	                     sizeof(out)),
	    12);
	assert_string_equal(out, "example.test");
	assert_int_equal(policy_tls_sni(policy_sample_ch12, sizeof(policy_sample_ch12), out,
	                     sizeof(out)),
	    12);
	assert_string_equal(out, "example.test");
	assert_int_equal(policy_tls_sni(policy_sample_ch_nosni, sizeof(policy_sample_ch_nosni), out,
	                     sizeof(out)),
	    -ENOENT);
}

static void
test_policy_tls_sni_every_prefix_waits_or_agrees(void **state)
{
	size_t end = name_offset(policy_sample_ch13, sizeof(policy_sample_ch13)) + 12;
	char out[256];

	(void)state;
	for (size_t len = 0; len <= sizeof(policy_sample_ch13); len++) {
		int rc = policy_tls_sni(policy_sample_ch13, len, out, sizeof(out));

		if (len < end)
			assert_int_equal(rc, -EAGAIN);
		else
			assert_int_equal(rc, 12);
	}
	/*
	 * Without a name, the answer is known once the last extension's header is in (its
	 * body cannot hold another extension), and stays the same from there on.
	 */
	{
		bool known = false;

		for (size_t len = 0; len <= sizeof(policy_sample_ch_nosni); len++) {
			int rc = policy_tls_sni(policy_sample_ch_nosni, len, out, sizeof(out));

			if (rc == -ENOENT)
				known = true;
			else
				assert_true(!known && rc == -EAGAIN);
		}
		assert_true(known);
	}
}

static void
test_policy_tls_sni_not_a_client_hello(void **state)
{
	static const uint8_t http[] = "GET / HTTP/1.1\r\nHost: example.test\r\n\r\n";
	uint8_t ch[sizeof(policy_sample_ch13)];
	char out[256];

	(void)state;
	assert_int_equal(policy_tls_sni(http, sizeof(http) - 1, out, sizeof(out)), -EINVAL);
	assert_int_equal(policy_tls_sni(http, 1, out, sizeof(out)), -EINVAL);
	/* Application data, not handshake. */
	memcpy(ch, policy_sample_ch13, sizeof(ch));
	ch[0] = 23;
	assert_int_equal(policy_tls_sni(ch, sizeof(ch), out, sizeof(out)), -EINVAL);
	/* A ServerHello. */
	memcpy(ch, policy_sample_ch13, sizeof(ch));
	ch[5] = 2;
	assert_int_equal(policy_tls_sni(ch, sizeof(ch), out, sizeof(out)), -EINVAL);
	/* SSL 2-style version byte. */
	memcpy(ch, policy_sample_ch13, sizeof(ch));
	ch[1] = 2;
	assert_int_equal(policy_tls_sni(ch, 2, out, sizeof(out)), -EINVAL);
	/* A record longer than TLS allows. */
	memcpy(ch, policy_sample_ch13, sizeof(ch));
	ch[3] = 0x40;
	ch[4] = 0x01;
	assert_int_equal(policy_tls_sni(ch, sizeof(ch), out, sizeof(out)), -EINVAL);
}

static void
test_policy_tls_sni_malformed_lengths(void **state)
{
	uint8_t ch[sizeof(policy_sample_ch13) + 1];
	size_t n = sizeof(policy_sample_ch13);
	size_t at;
	char out[256];

	(void)state;
	/* The handshake claims more than its record: a ClientHello over several records. */
	memcpy(ch, policy_sample_ch13, n);
	ch[8]++;
	assert_int_equal(policy_tls_sni(ch, n, out, sizeof(out)), -EOPNOTSUPP);
	/* The record holds a byte after the ClientHello. */
	memcpy(ch, policy_sample_ch13, n);
	ch[4]++;
	ch[n] = 0;
	assert_int_equal(policy_tls_sni(ch, n + 1, out, sizeof(out)), -EINVAL);
	/* A session id of 33 bytes. */
	memcpy(ch, policy_sample_ch13, n);
	ch[9 + 2 + 32] = 33;
	assert_int_equal(policy_tls_sni(ch, n, out, sizeof(out)), -EINVAL);
	/* The host name's length runs past its list. */
	memcpy(ch, policy_sample_ch13, n);
	at = name_offset(ch, n);
	ch[at - 1]++;
	assert_int_equal(policy_tls_sni(ch, n, out, sizeof(out)), -EINVAL);
}

static void
test_policy_tls_sni_bad_or_long_names(void **state)
{
	uint8_t ch[sizeof(policy_sample_ch13)];
	size_t n = sizeof(policy_sample_ch13), at;
	char out[256];

	(void)state;
	memcpy(ch, policy_sample_ch13, n);
	at = name_offset(ch, n);
	ch[at + 3] = ' ';
	assert_int_equal(policy_tls_sni(ch, n, out, sizeof(out)), -EILSEQ);
	ch[at + 3] = '.';
	ch[at + 7] = '.'; /* "exa..e.test": an empty label */
	ch[at + 8] = '.';
	assert_int_equal(policy_tls_sni(ch, n, out, sizeof(out)), -EILSEQ);
	memcpy(ch, policy_sample_ch13, n);
	ch[at + 11] = '.'; /* a trailing dot */
	assert_int_equal(policy_tls_sni(ch, n, out, sizeof(out)), -EILSEQ);
	/* Upper case is folded. */
	memcpy(ch, policy_sample_ch13, n);
	ch[at] = 'E';
	assert_int_equal(policy_tls_sni(ch, n, out, sizeof(out)), 12);
	assert_string_equal(out, "example.test");
	/* 12 characters need 13 bytes. */
	assert_int_equal(policy_tls_sni(ch, n, out, 12), -ENOSPC);
	assert_int_equal(policy_tls_sni(ch, n, out, 13), 12);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_policy_tls_sni_captured_hellos),
	    cmocka_unit_test(test_policy_tls_sni_every_prefix_waits_or_agrees),
	    cmocka_unit_test(test_policy_tls_sni_not_a_client_hello),
	    cmocka_unit_test(test_policy_tls_sni_malformed_lengths),
	    cmocka_unit_test(test_policy_tls_sni_bad_or_long_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
