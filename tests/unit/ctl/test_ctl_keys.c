/* Unit tests of ternctl genkey / pubkey (src/ctl/ctl_keys.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ctl/ctl_keys.h"

/* Runs pubkey on the text, returns its exit status and what it printed. */
static int
pubkey_of(const char *text, char *out, size_t out_size)
{
	char in_buf[256], err_buf[256];
	FILE *in, *o, *e;
	int rc;

	snprintf(in_buf, sizeof(in_buf), "%s", text);
	in = fmemopen(in_buf, strlen(in_buf), "r");
	o = fmemopen(out, out_size, "w");
	e = fmemopen(err_buf, sizeof(err_buf), "w");
	assert_non_null(in);
	assert_non_null(o);
	assert_non_null(e);
	memset(out, 0, out_size);
	rc = ctl_keys_pubkey(in, o, e);
	fclose(in);
	fclose(o);
	fclose(e);
	return rc;
}

static void
test_ctl_keys_pubkey_rfc7748_alice(void **state)
{
	char out[128];

	(void)state;
	/* RFC 7748 section 6.1: Alice's private key and public key, in base64. */
	assert_int_equal(pubkey_of("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\n", out,
	                     sizeof(out)),
	    0);
	assert_string_equal(out, "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=\n");
}

static void
test_ctl_keys_genkey_gives_a_key_pubkey_takes(void **state)
{
	char key[128], pub[128], err_buf[128];
	FILE *o, *e;

	(void)state;
	memset(key, 0, sizeof(key));
	o = fmemopen(key, sizeof(key), "w");
	e = fmemopen(err_buf, sizeof(err_buf), "w");
	assert_int_equal(ctl_keys_genkey(o, e), 0);
	fclose(o);
	fclose(e);
	assert_int_equal(strlen(key), 45);
	assert_int_equal(key[44], '\n');
	assert_int_equal(pubkey_of(key, pub, sizeof(pub)), 0);
	assert_int_equal(strlen(pub), 45);
	assert_string_not_equal(pub, key);
}

static void
test_ctl_keys_pubkey_garbage_refused(void **state)
{
	static const char *const bad[] = {
	    "", "\n", "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LC=\n", /* 43 characters */
	    "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCoA\n",          /* no padding: 33 bytes */
	    "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25L==\n",           /* 31 bytes */
	    "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LC*=\n",          /* not base64 */
	    "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=X\n",         /* trailing byte */
	};
	char out[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_not_equal(pubkey_of(bad[i], out, sizeof(out)), 0);
		assert_int_equal(strlen(out), 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ctl_keys_pubkey_rfc7748_alice),
	    cmocka_unit_test(test_ctl_keys_genkey_gives_a_key_pubkey_takes),
	    cmocka_unit_test(test_ctl_keys_pubkey_garbage_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
