/*
 * Unit tests of src/router/router_keys.c at a reload: which changes of the security
 * settings keep the running keys (a rekey time) and which restart the key exchange (the
 * private key, even rewritten in place, a peer's public key, the cipher).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/crypto_key.h"
#include "router/router_config.h"
#include "router/router_keys.h"
#include "router/router_ops.h"
#include "worker_rig.h"

/* RFC 7748's two public keys, as ternctl pubkey prints them. */
#define KEY_A "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="
#define KEY_B "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08="

static char dir[64], key_path[128];

/* Writes a fresh private key to key_path (mode 600, replacing the file). */
static void
key_file_write(void)
{
	uint8_t priv[CRYPTO_KEY_LEN];
	char text[CRYPTO_KEY_B64_LEN + 1];
	int fd;

	assert_int_equal(crypto_key_generate(priv), 0);
	crypto_key_encode(priv, text);
	unlink(key_path);
	fd = open(key_path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(write(fd, "\n", 1), 1);
	close(fd);
}

static struct router_config *
config(const char *cipher, unsigned rekey_s, const char *peer_key)
{
	char text[1024];

	snprintf(text, sizeof(text),
	    "{\"router\": {\"name\": \"r\", \"private_key_file\": \"%s\", \"cipher\": \"%s\", "
	    "\"rekey_after_s\": %u}, "
	    "\"wan\": [{\"name\": \"w\", \"device\": \"eth0\", \"waypoint\": \"192.0.2.1\"}], "
	    "\"peers\": [{\"name\": \"p1\", \"public_key\": \"%s\", "
	    "\"paths\": [{\"wan\": \"w\", \"remote\": \"192.0.2.2\"}]}]}",
	    key_path, cipher, rekey_s, peer_key);
	return worker_rig_config_parse(text);
}

struct fixture {
	struct router_ops *ops;
	struct router_config *cur;
	struct router_keys *rk;
};

static int
setup(void **state)
{
	static struct fixture f;
	char why[256];

	memset(&f, 0, sizeof(f));
	key_file_write();
	assert_int_equal(router_ops_new(&f.ops), 0);
	f.cur = config("aes-256-gcm", 120, KEY_A);
	/* No sockets: nothing here sends (no tick). */
	assert_int_equal(router_keys_new(f.cur, f.ops, NULL, 1, &f.rk, why, sizeof(why)), 0);
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	router_keys_free(f->rk);
	router_ops_free(f->ops);
	router_config_free(f->cur);
	return 0;
}

/*
 * A new rekey_after_s keeps the keys: restarting the exchange for it left the sessions
 * a reload keeps with no key until the new handshake (sec-no-key drops under load).
 */
static void
test_router_keys_rekey_change_keeps_the_keys(void **state)
{
	struct fixture *f = *state;
	struct router_config *next = config("aes-256-gcm", 3, KEY_A);

	assert_true(router_keys_config_same(f->cur, next));
	assert_true(router_keys_private_key_same(f->rk, next));
	router_keys_set_config(f->rk, next);
	/* And back, as a failed reload does. */
	router_keys_set_config(f->rk, f->cur);
	router_config_free(next);
}

static void
test_router_keys_identity_or_cipher_change_renews(void **state)
{
	struct fixture *f = *state;
	struct router_config *next;

	next = config("chacha20-poly1305", 120, KEY_A);
	assert_false(router_keys_config_same(f->cur, next));
	router_config_free(next);
	next = config("aes-256-gcm", 120, KEY_B);
	assert_false(router_keys_config_same(f->cur, next));
	router_config_free(next);
	/* The same path with another key in it (a rotation written in place). */
	next = config("aes-256-gcm", 120, KEY_A);
	assert_true(router_keys_config_same(f->cur, next));
	assert_true(router_keys_private_key_same(f->rk, next));
	key_file_write();
	assert_false(router_keys_private_key_same(f->rk, next));
	/* Unreadable: not the same (the reload then reports why). */
	assert_int_equal(chmod(key_path, 0644), 0);
	assert_false(router_keys_private_key_same(f->rk, next));
	router_config_free(next);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_router_keys_rekey_change_keeps_the_keys, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(test_router_keys_identity_or_cipher_change_renews,
	        setup, teardown),
	};
	int rc;

	snprintf(dir, sizeof(dir), "/tmp/tern-keys-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(key_path, sizeof(key_path), "%s/r.key", dir);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(key_path);
	rmdir(dir);
	return rc;
}
