/* crypto_key: key text, derivation and the private key file's checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/crypto_key.h"

/* RFC 7748 section 6.1: Alice's key pair, in base64. */
static const char alice_priv[] = "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=";
static const char alice_pub[] = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";

static void
test_crypto_key_round_trip_and_rfc7748(void **state)
{
	uint8_t priv[CRYPTO_KEY_LEN], pub[CRYPTO_KEY_LEN];
	char text[CRYPTO_KEY_B64_LEN + 1];

	(void)state;
	assert_int_equal(crypto_key_decode(alice_priv, strlen(alice_priv), priv), 0);
	crypto_key_encode(priv, text);
	assert_string_equal(text, alice_priv);
	assert_int_equal(crypto_key_public(priv, pub), 0);
	crypto_key_encode(pub, text);
	assert_string_equal(text, alice_pub);
}

static void
test_crypto_key_decode_refuses_garbage(void **state)
{
	static const char *const bad[] = {
	    "", "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo", /* no padding */
	    "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LC==",    /* 31 bytes */
	    "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo==",   /* too long */
	    "dwdtCnMYpX08FsFy*bJmRd9ML4frwJkqsXf7pR25LCo=",    /* not base64 */
	    "dwdtCnMYpX08FsFy bJmRd9ML4frwJkqsXf7pR25LCo=",    /* a space */
	};
	uint8_t key[CRYPTO_KEY_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(key, 0xa5, sizeof(key));
		assert_int_equal(crypto_key_decode(bad[i], strlen(bad[i]), key), -EINVAL);
		for (size_t j = 0; j < sizeof(key); j++)
			assert_int_equal(key[j], 0);
	}
	assert_int_equal(crypto_key_decode(NULL, 0, key), -EINVAL);
}

static void
test_crypto_key_derive_is_hkdf_sha256(void **state)
{
	/* HKDF-SHA256(IKM = 00..1f, no salt, info "tern probe v1"), from Python's hmac. */
	static const uint8_t want[CRYPTO_KEY_LEN] = {0x40, 0xe1, 0xd0, 0xfe, 0x5b, 0x97, 0xa8, 0xeb,
	    0xe8, 0xea, 0x73, 0xa7, 0x6a, 0xb3, 0x6f, 0x82, 0x99, 0x23, 0x09, 0x49, 0x26, 0xd6,
	    0xb6, 0xa5, 0xb8, 0xb0, 0x49, 0xb5, 0xf4, 0x01, 0x05, 0xa4};
	uint8_t key[CRYPTO_KEY_LEN], out[CRYPTO_KEY_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	assert_int_equal(crypto_key_derive(key, "tern probe v1", out), 0);
	assert_memory_equal(out, want, sizeof(want));
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void
test_crypto_key_private_file_checks(void **state)
{
	char dir[] = "/tmp/tern-key-XXXXXX", path[64], why[160], line[64];
	uint8_t key[CRYPTO_KEY_LEN], want[CRYPTO_KEY_LEN];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/k", dir);
	snprintf(line, sizeof(line), "%s\n", alice_priv);
	assert_int_equal(crypto_key_decode(alice_priv, strlen(alice_priv), want), 0);

	write_file(path, line, 0600);
	assert_int_equal(crypto_key_read_private_file(path, key, why, sizeof(why)), 0);
	assert_memory_equal(key, want, sizeof(key));

	write_file(path, line, 0644);
	assert_int_equal(crypto_key_read_private_file(path, key, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "644"));

	write_file(path, "not a key\n", 0600);
	assert_int_equal(crypto_key_read_private_file(path, key, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "no key"));
	/* The reason never quotes the file's content. */
	assert_null(strstr(why, "not a key"));

	unlink(path);
	assert_int_equal(crypto_key_read_private_file(path, key, why, sizeof(why)), -ENOENT);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crypto_key_round_trip_and_rfc7748),
	    cmocka_unit_test(test_crypto_key_decode_refuses_garbage),
	    cmocka_unit_test(test_crypto_key_private_file_checks),
	    cmocka_unit_test(test_crypto_key_derive_is_hkdf_sha256),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
