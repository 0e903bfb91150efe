/*
 * Unit tests of crypto/noise: the Noise IK handshake against the public cacophony
 * vectors (every handshake and transport byte), and its failure behaviour.
 *
 * The vectors are tests/unit/crypto/noise-ik-vectors.json, found by, in order:
 *   1. the environment variable TERN_NOISE_VECTORS (a path to the file);
 *   2. __FILE__'s directory, if the compiler was given an absolute path;
 *   3. __FILE__'s directory taken relative to the build root. meson compiles with
 *      paths relative to the build root ("../../tests/unit/crypto/..."), and this
 *      binary sits in <build root>/tests/unit, so the root is /proc/self/exe's
 *      directory's grandparent. That holds whatever the working directory, so both
 *      `meson test` and running the binary directly find the file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/crypto_noise.h"
#include "test_rand.h"

enum {
	BUF_MAX = 1024
};

static json_t *vectors;

static int
vectors_path(char *out, size_t cap)
{
	const char *env = getenv("TERN_NOISE_VECTORS");
	char file[PATH_MAX], exe[PATH_MAX];
	char *slash;
	ssize_t n;

	if (env != NULL && *env != '\0')
		return snprintf(out, cap, "%s", env) < (int)cap ? 0 : -ENAMETOOLONG;
	snprintf(file, sizeof(file), "%s", __FILE__);
	slash = strrchr(file, '/');
	if (slash == NULL)
		return -ENOENT;
	slash[1] = '\0';
	if (file[0] == '/')
		return snprintf(out, cap, "%snoise-ik-vectors.json", file) < (int)cap ?
		    0 :
		    -ENAMETOOLONG;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -errno;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash == NULL)
		return -ENOENT;
	*slash = '\0';
	return snprintf(out, cap, "%s/../../%snoise-ik-vectors.json", exe, file) < (int)cap ?
	    0 :
	    -ENAMETOOLONG;
}

static int
vectors_setup(void **state)
{
	char path[2 * PATH_MAX];
	json_error_t jerr;

	(void)state;
	if (vectors_path(path, sizeof(path)) != 0)
		return -1;
	vectors = json_load_file(path, 0, &jerr);
	if (vectors == NULL) {
		fprintf(stderr, "# cannot load %s: %s\n", path, jerr.text);
		return -1;
	}
	return 0;
}

static int
vectors_teardown(void **state)
{
	(void)state;
	json_decref(vectors);
	vectors = NULL;
	return 0;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode the hex string field `key` of obj into out; returns its length. */
static size_t
hex_field(const json_t *obj, const char *key, uint8_t *out, size_t cap)
{
	const char *s = json_string_value(json_object_get(obj, key));
	size_t len;

	assert_non_null(s);
	len = strlen(s);
	assert_int_equal(len % 2, 0);
	assert_true(len / 2 <= cap);
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);

		assert_true(hi >= 0 && lo >= 0);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return len / 2;
}

static void
hex_key(const json_t *obj, const char *key, uint8_t out[NOISE_KEY_LEN])
{
	assert_int_equal(hex_field(obj, key, out, NOISE_KEY_LEN), NOISE_KEY_LEN);
}

/* Initiator and responder of one vector, ephemerals injected. */
static void
vector_start(const json_t *v, struct noise_handshake *ini, struct noise_handshake *resp)
{
	uint8_t prologue[BUF_MAX], key[NOISE_KEY_LEN], rs[NOISE_KEY_LEN];
	struct noise_suite suite;
	size_t plen;

	assert_int_equal(noise_suite_parse(&suite, json_string_value(json_object_get(v, "name"))),
	    0);
	plen = hex_field(v, "init_prologue", prologue, sizeof(prologue));
	hex_key(v, "init_static", key);
	hex_key(v, "init_remote_static", rs);
	assert_int_equal(noise_handshake_init(ini, &suite, true, prologue, plen, key, rs), 0);
	hex_key(v, "init_ephemeral", key);
	assert_int_equal(noise_handshake_set_ephemeral(ini, key), 0);

	plen = hex_field(v, "resp_prologue", prologue, sizeof(prologue));
	hex_key(v, "resp_static", key);
	assert_int_equal(noise_handshake_init(resp, &suite, false, prologue, plen, key, NULL), 0);
	hex_key(v, "resp_ephemeral", key);
	assert_int_equal(noise_handshake_set_ephemeral(resp, key), 0);
}

/* Run handshake message i (0 or 1) of vector v: writer writes, compare, reader reads. */
static void
vector_handshake_message(const json_t *msg, struct noise_handshake *writer,
    struct noise_handshake *reader)
{
	uint8_t payload[BUF_MAX], expect[BUF_MAX], out[BUF_MAX], got[BUF_MAX];
	size_t payload_len, expect_len, out_len, got_len;

	payload_len = hex_field(msg, "payload", payload, sizeof(payload));
	expect_len = hex_field(msg, "ciphertext", expect, sizeof(expect));
	assert_int_equal(noise_handshake_write_message(writer, payload, payload_len, out,
	                     sizeof(out), &out_len),
	    0);
	assert_int_equal(out_len, expect_len);
	assert_memory_equal(out, expect, expect_len);
	assert_int_equal(noise_handshake_read_message(reader, out, out_len, got, sizeof(got),
	                     &got_len),
	    0);
	assert_int_equal(got_len, payload_len);
	assert_memory_equal(got, payload, payload_len);
}

static void
test_noise_handshake_vectors_match(void **state)
{
	size_t i;
	json_t *v;

	(void)state;
	assert_int_equal(json_array_size(json_object_get(vectors, "vectors")), 8);
	json_array_foreach(json_object_get(vectors, "vectors"), i, v)
	{
		struct noise_handshake ini, resp;
		struct noise_cipher ini_send, ini_recv, resp_send, resp_recv;
		uint8_t h1[NOISE_HASH_MAX], h2[NOISE_HASH_MAX], key[NOISE_KEY_LEN];
		const json_t *msgs = json_object_get(v, "messages");
		int hl;

		vector_start(v, &ini, &resp);
		assert_true(json_array_size(msgs) >= 2);
		assert_int_equal(noise_handshake_remote_static(&resp, key), -EINVAL);
		vector_handshake_message(json_array_get(msgs, 0), &ini, &resp);
		/* The responder learned the initiator's static key. */
		assert_int_equal(noise_handshake_remote_static(&resp, key), 0);
		assert_memory_equal(key, ini.s_pub, NOISE_KEY_LEN);
		vector_handshake_message(json_array_get(msgs, 1), &resp, &ini);
		assert_true(noise_handshake_is_complete(&ini));
		assert_true(noise_handshake_is_complete(&resp));
		hl = noise_handshake_hash(&ini, h1, sizeof(h1));
		assert_int_equal(hl, (int)ini.suite.hash_len);
		assert_int_equal(noise_handshake_hash(&resp, h2, sizeof(h2)), hl);
		assert_memory_equal(h1, h2, (size_t)hl);
		if (json_object_get(v, "handshake_hash") != NULL) {
			uint8_t want[NOISE_HASH_MAX];

			assert_int_equal(hex_field(v, "handshake_hash", want, sizeof(want)),
			    (size_t)hl);
			assert_memory_equal(h1, want, (size_t)hl);
		}
		assert_int_equal(noise_handshake_split(&ini, &ini_send, &ini_recv), 0);
		assert_int_equal(noise_handshake_split(&resp, &resp_send, &resp_recv), 0);
		/* After the split only public values remain: the keys and the hash. */
		assert_int_equal(noise_handshake_remote_static(&resp, h2), 0);
		assert_memory_equal(h2, key, NOISE_KEY_LEN);
		assert_int_equal(noise_handshake_remote_static(&ini, h2), 0);
		hex_key(v, "init_remote_static", key);
		assert_memory_equal(h2, key, NOISE_KEY_LEN);
		assert_int_equal(noise_handshake_hash(&resp, h2, sizeof(h2)), hl);
		assert_memory_equal(h1, h2, (size_t)hl);
		for (size_t k = 0; k < NOISE_KEY_LEN; k++)
			assert_int_equal(resp.s_priv[k] | resp.e_priv[k] | resp.ck[k], 0);

		for (size_t m = 2; m < json_array_size(msgs); m++) {
			const json_t *msg = json_array_get(msgs, m);
			uint8_t payload[BUF_MAX], expect[BUF_MAX], out[BUF_MAX], got[BUF_MAX];
			size_t payload_len, expect_len, out_len, got_len;
			/* After the handshake the initiator sends the even messages. */
			bool from_ini = m % 2 == 0;
			struct noise_cipher *tx = from_ini ? &ini_send : &resp_send;
			struct noise_cipher *rx = from_ini ? &resp_recv : &ini_recv;

			payload_len = hex_field(msg, "payload", payload, sizeof(payload));
			expect_len = hex_field(msg, "ciphertext", expect, sizeof(expect));
			assert_int_equal(noise_cipher_encrypt(tx, NULL, 0, payload, payload_len,
			                     out, sizeof(out), &out_len),
			    0);
			assert_int_equal(out_len, expect_len);
			assert_memory_equal(out, expect, expect_len);
			assert_int_equal(noise_cipher_decrypt(rx, NULL, 0, out, out_len, got,
			                     sizeof(got), &got_len),
			    0);
			assert_int_equal(got_len, payload_len);
			assert_memory_equal(got, payload, payload_len);
		}
		noise_cipher_fini(&ini_send);
		noise_cipher_fini(&ini_recv);
		noise_cipher_fini(&resp_send);
		noise_cipher_fini(&resp_recv);
		noise_handshake_fini(&ini);
		noise_handshake_fini(&resp);
	}
}

/* The first vector's handshake messages, for the failure tests. */
struct ik_pair {
	struct noise_handshake ini, resp;
	uint8_t m1[BUF_MAX], m2[BUF_MAX];
	size_t m1_len, m2_len;
};

static void
ik_pair_start(struct ik_pair *p, size_t vector)
{
	const json_t *v = json_array_get(json_object_get(vectors, "vectors"), vector);
	const json_t *msgs = json_object_get(v, "messages");

	assert_non_null(v);
	vector_start(v, &p->ini, &p->resp);
	p->m1_len = hex_field(json_array_get(msgs, 0), "ciphertext", p->m1, sizeof(p->m1));
	p->m2_len = hex_field(json_array_get(msgs, 1), "ciphertext", p->m2, sizeof(p->m2));
}

static void
ik_pair_fini(struct ik_pair *p)
{
	noise_handshake_fini(&p->ini);
	noise_handshake_fini(&p->resp);
}

static void
test_noise_handshake_read_message_flipped_bit_rejected(void **state)
{
	uint8_t payload[BUF_MAX];
	size_t plen;
	struct ik_pair p;

	(void)state;
	for (size_t v = 0; v < 8; v++) {
		struct noise_handshake before;

		ik_pair_start(&p, v);
		/* Every bit of message 1: rejected, responder untouched. */
		before = p.resp;
		for (size_t bit = 0; bit < p.m1_len * 8; bit++) {
			p.m1[bit / 8] ^= (uint8_t)(1u << bit % 8);
			assert_int_equal(noise_handshake_read_message(&p.resp, p.m1, p.m1_len,
			                     payload, sizeof(payload), &plen),
			    -EBADMSG);
			p.m1[bit / 8] ^= (uint8_t)(1u << bit % 8);
			assert_memory_equal(&before, &p.resp, sizeof(before));
		}
		assert_int_equal(noise_handshake_read_message(&p.resp, p.m1, p.m1_len, payload,
		                     sizeof(payload), &plen),
		    0);

		/* The initiator must write message 1 itself to be able to read message 2. */
		assert_int_equal(noise_handshake_write_message(&p.ini, payload, plen, p.m1,
		                     sizeof(p.m1), &plen),
		    0);
		before = p.ini;
		for (size_t bit = 0; bit < p.m2_len * 8; bit++) {
			p.m2[bit / 8] ^= (uint8_t)(1u << bit % 8);
			assert_int_equal(noise_handshake_read_message(&p.ini, p.m2, p.m2_len,
			                     payload, sizeof(payload), &plen),
			    -EBADMSG);
			p.m2[bit / 8] ^= (uint8_t)(1u << bit % 8);
			assert_memory_equal(&before, &p.ini, sizeof(before));
		}
		assert_int_equal(noise_handshake_read_message(&p.ini, p.m2, p.m2_len, payload,
		                     sizeof(payload), &plen),
		    0);
		assert_true(noise_handshake_is_complete(&p.ini));
		ik_pair_fini(&p);
	}
}

static void
test_noise_handshake_read_message_wrong_length_rejected(void **state)
{
	uint8_t payload[BUF_MAX], out[BUF_MAX];
	size_t plen, olen;
	struct ik_pair p;

	(void)state;
	ik_pair_start(&p, 0);
	for (size_t len = 0; len < p.m1_len; len++)
		assert_int_equal(noise_handshake_read_message(&p.resp, p.m1, len, payload,
		                     sizeof(payload), &plen),
		    -EBADMSG);
	/* One byte more is a longer payload with a wrong tag. */
	assert_int_equal(noise_handshake_read_message(&p.resp, p.m1, p.m1_len + 1, payload,
	                     sizeof(payload), &plen),
	    -EBADMSG);
	/* A payload buffer one byte short. */
	assert_int_equal(noise_handshake_read_message(&p.resp, p.m1, p.m1_len, payload,
	                     p.m1_len - 96 - 1, &plen),
	    -EMSGSIZE);
	assert_int_equal(noise_handshake_read_message(&p.resp, p.m1, p.m1_len, payload,
	                     p.m1_len - 96, &plen),
	    0);
	/* The initiator writes the same message 1, so that message 2 matches it. */
	assert_int_equal(noise_handshake_write_message(&p.ini, payload, plen, out, sizeof(out),
	                     &olen),
	    0);
	assert_int_equal(olen, p.m1_len);
	for (size_t len = 0; len < p.m2_len; len++)
		assert_int_equal(noise_handshake_read_message(&p.ini, p.m2, len, payload,
		                     sizeof(payload), &plen),
		    -EBADMSG);
	assert_int_equal(noise_handshake_read_message(&p.ini, p.m2, p.m2_len, payload,
	                     sizeof(payload), &plen),
	    0);
	assert_int_equal(plen, p.m2_len - 48);
	ik_pair_fini(&p);
}

static void
test_noise_handshake_write_message_short_buffer_rejected(void **state)
{
	uint8_t out[BUF_MAX], payload[4] = {1, 2, 3, 4};
	size_t olen;
	struct ik_pair p;
	struct noise_handshake before;

	(void)state;
	ik_pair_start(&p, 1);
	before = p.ini;
	assert_int_equal(noise_handshake_write_message(&p.ini, payload, sizeof(payload), out,
	                     96 + sizeof(payload) - 1, &olen),
	    -EMSGSIZE);
	assert_memory_equal(&before, &p.ini, sizeof(before));
	assert_int_equal(noise_handshake_write_message(&p.ini, payload, NOISE_MESSAGE_MAX, out,
	                     sizeof(out), &olen),
	    -EMSGSIZE);
	assert_int_equal(noise_handshake_write_message(&p.ini, payload, sizeof(payload), out,
	                     96 + sizeof(payload), &olen),
	    0);
	assert_int_equal(olen, 96 + sizeof(payload));
	ik_pair_fini(&p);
}

static void
test_noise_handshake_read_message_wrong_responder_key_rejected(void **state)
{
	uint8_t payload[BUF_MAX], key[NOISE_KEY_LEN];
	size_t plen;
	struct ik_pair p;
	struct noise_handshake other;

	(void)state;
	ik_pair_start(&p, 0);
	memset(key, 0x42, sizeof(key));
	assert_int_equal(noise_handshake_init(&other, &p.resp.suite, false,
	                     (const uint8_t *)"John Galt", 9, key, NULL),
	    0);
	assert_int_equal(noise_handshake_read_message(&other, p.m1, p.m1_len, payload,
	                     sizeof(payload), &plen),
	    -EBADMSG);
	/* A low-order (all-zero) ephemeral key: the DH result is refused. */
	memcpy(key, p.m1, sizeof(key));
	memset(p.m1, 0, NOISE_KEY_LEN);
	assert_int_equal(noise_handshake_read_message(&p.resp, p.m1, p.m1_len, payload,
	                     sizeof(payload), &plen),
	    -EBADMSG);
	memcpy(p.m1, key, sizeof(key));
	/* A different prologue fails too, with the right key. */
	assert_int_equal(noise_handshake_init(&other, &p.resp.suite, false,
	                     (const uint8_t *)"John Gal", 8, p.resp.s_priv, NULL),
	    0);
	assert_int_equal(noise_handshake_read_message(&other, p.m1, p.m1_len, payload,
	                     sizeof(payload), &plen),
	    -EBADMSG);
	/* And so does another suite. */
	ik_pair_fini(&p);
	ik_pair_start(&p, 4);
	assert_int_equal(noise_handshake_init(&other, &p.resp.suite, false,
	                     (const uint8_t *)"John Galt", 9, p.resp.s_priv, NULL),
	    0);
	ik_pair_fini(&p);
	ik_pair_start(&p, 0);
	assert_int_equal(noise_handshake_read_message(&other, p.m1, p.m1_len, payload,
	                     sizeof(payload), &plen),
	    -EBADMSG);
	noise_handshake_fini(&other);
	ik_pair_fini(&p);
}

static void
test_noise_handshake_out_of_order_rejected(void **state)
{
	uint8_t payload[BUF_MAX], out[BUF_MAX], key[NOISE_KEY_LEN] = {1};
	size_t plen, olen;
	struct noise_cipher a, b;
	struct ik_pair p;

	(void)state;
	ik_pair_start(&p, 2);
	/* The initiator cannot read before it wrote; the responder cannot write first. */
	assert_int_equal(noise_handshake_read_message(&p.ini, p.m2, p.m2_len, payload,
	                     sizeof(payload), &plen),
	    -EINVAL);
	assert_int_equal(noise_handshake_write_message(&p.resp, NULL, 0, out, sizeof(out), &olen),
	    -EINVAL);
	assert_int_equal(noise_handshake_split(&p.ini, &a, &b), -EINVAL);
	assert_int_equal(noise_handshake_hash(&p.ini, out, sizeof(out)), -EINVAL);
	assert_false(noise_handshake_is_complete(&p.ini));

	assert_int_equal(noise_handshake_write_message(&p.ini, NULL, 0, out, sizeof(out), &olen),
	    0);
	/* No second message 1, and no new ephemeral once it is used. */
	assert_int_equal(noise_handshake_write_message(&p.ini, NULL, 0, out, sizeof(out), &olen),
	    -EINVAL);
	assert_int_equal(noise_handshake_set_ephemeral(&p.ini, key), -EINVAL);
	/* Message 2 fed to the responder is not a message 1 it accepts. */
	assert_int_equal(noise_handshake_read_message(&p.resp, p.m2, p.m2_len, payload,
	                     sizeof(payload), &plen),
	    -EBADMSG);
	assert_int_equal(noise_handshake_read_message(&p.resp, p.m1, p.m1_len, payload,
	                     sizeof(payload), &plen),
	    0);
	assert_int_equal(noise_handshake_read_message(&p.resp, p.m1, p.m1_len, payload,
	                     sizeof(payload), &plen),
	    -EINVAL);
	assert_int_equal(noise_handshake_split(&p.resp, &a, &b), -EINVAL);
	/* Message 1 fed back to the initiator fails to authenticate as message 2. */
	assert_int_equal(noise_handshake_read_message(&p.ini, p.m1, p.m1_len, payload,
	                     sizeof(payload), &plen),
	    -EBADMSG);
	ik_pair_fini(&p);
}

static void
test_noise_suite_parse_unknown_rejected(void **state)
{
	static const char *const bad[] = {"Noise_XX_25519_ChaChaPoly_SHA256",
	    "Noise_IK_448_ChaChaPoly_SHA256", "Noise_IK_25519_AESGCM_SHA384",
	    "Noise_IK_25519_ChaChaPoly", "Noise_IK_25519_ChaChaPoly_SHA256x",
	    "Noise_IK_25519_chachapoly_SHA256", "", "Noise_IK_25519_ChaChaPolyChaChaPoly_SHA256"};
	struct noise_suite s;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(noise_suite_parse(&s, bad[i]), -ENOTSUP);
	assert_int_equal(noise_suite_init(&s, "AESGCM", "MD5"), -ENOTSUP);
	assert_int_equal(noise_suite_init(&s, NULL, "SHA256"), -EINVAL);
	assert_int_equal(noise_suite_init(&s, "AESGCM", "BLAKE2b"), 0);
	assert_string_equal(s.protocol_name, "Noise_IK_25519_AESGCM_BLAKE2b");
	assert_int_equal(s.hash_len, 64);
}

static void
test_noise_cipher_decrypt_tampered_rejected(void **state)
{
	struct noise_cipher tx = {.cipher = NOISE_CIPHER_AESGCM, .has_key = true};
	struct noise_cipher rx, clear = {0};
	uint8_t ad[3] = {7, 8, 9}, pt[40], ct[64], out[64];
	size_t clen, olen;

	(void)state;
	memset(tx.key, 0x5a, sizeof(tx.key));
	memset(pt, 0xa5, sizeof(pt));
	rx = tx;
	assert_int_equal(noise_cipher_encrypt(&tx, ad, sizeof(ad), pt, sizeof(pt), ct, sizeof(ct),
	                     &clen),
	    0);
	assert_int_equal(clen, sizeof(pt) + NOISE_TAG_LEN);
	assert_int_equal(tx.nonce, 1);
	for (size_t i = 0; i < clen; i++) {
		ct[i] ^= 0x80;
		assert_int_equal(noise_cipher_decrypt(&rx, ad, sizeof(ad), ct, clen, out,
		                     sizeof(out), &olen),
		    -EBADMSG);
		ct[i] ^= 0x80;
		assert_int_equal(rx.nonce, 0);
	}
	/* Other associated data, a short buffer, a short message. */
	assert_int_equal(noise_cipher_decrypt(&rx, ad, 2, ct, clen, out, sizeof(out), &olen),
	    -EBADMSG);
	assert_int_equal(noise_cipher_decrypt(&rx, ad, sizeof(ad), ct, clen, out, sizeof(pt) - 1,
	                     &olen),
	    -EMSGSIZE);
	assert_int_equal(noise_cipher_decrypt(&rx, ad, sizeof(ad), ct, NOISE_TAG_LEN - 1, out,
	                     sizeof(out), &olen),
	    -EBADMSG);
	assert_int_equal(noise_cipher_decrypt(&rx, ad, sizeof(ad), ct, clen, out, sizeof(out),
	                     &olen),
	    0);
	assert_int_equal(olen, sizeof(pt));
	assert_memory_equal(out, pt, sizeof(pt));
	assert_int_equal(rx.nonce, 1);
	/* Replaying it under the next nonce fails. */
	assert_int_equal(noise_cipher_decrypt(&rx, ad, sizeof(ad), ct, clen, out, sizeof(out),
	                     &olen),
	    -EBADMSG);
	/* Exhausted nonces. */
	tx.nonce = UINT64_MAX;
	assert_int_equal(noise_cipher_encrypt(&tx, ad, sizeof(ad), pt, sizeof(pt), ct, sizeof(ct),
	                     &clen),
	    -EOVERFLOW);
	/* No key: Noise's empty CipherState passes the text through. */
	assert_int_equal(noise_cipher_encrypt(&clear, ad, sizeof(ad), pt, sizeof(pt), ct,
	                     sizeof(ct), &clen),
	    0);
	assert_int_equal(clen, sizeof(pt));
	assert_memory_equal(ct, pt, sizeof(pt));
	assert_int_equal(clear.nonce, 0);
	noise_cipher_fini(&tx);
	noise_cipher_fini(&rx);
	for (size_t i = 0; i < sizeof(tx.key); i++)
		assert_int_equal(tx.key[i], 0);
}

/*
 * Random suites, keys, payloads and corruptions: the model is that the genuine
 * messages always pass and deliver their payloads, and every changed message fails.
 */
static void
test_noise_handshake_random_model(void **state)
{
	static const char *const ciphers[] = {"ChaChaPoly", "AESGCM"};
	static const char *const hashes[] = {"SHA256", "SHA512", "BLAKE2s", "BLAKE2b"};
	uint64_t rng = test_seed();

	(void)state;
	for (int round = 0; round < 300; round++) {
		struct noise_suite suite;
		struct noise_handshake ini, resp;
		struct noise_cipher is, ir, rs_, rr;
		uint8_t si[NOISE_KEY_LEN], sr[NOISE_KEY_LEN], pr[NOISE_KEY_LEN];
		uint8_t payload[256], msg[BUF_MAX], got[BUF_MAX], prologue[16];
		size_t plen, mlen, glen, prologue_len;
		struct noise_handshake probe;

		assert_int_equal(noise_suite_init(&suite, ciphers[test_rand_below(&rng, 2)],
		                     hashes[test_rand_below(&rng, 4)]),
		    0);
		for (size_t i = 0; i < NOISE_KEY_LEN; i++) {
			si[i] = (uint8_t)test_rand(&rng);
			sr[i] = (uint8_t)test_rand(&rng);
		}
		prologue_len = test_rand_below(&rng, sizeof(prologue) + 1);
		for (size_t i = 0; i < prologue_len; i++)
			prologue[i] = (uint8_t)test_rand(&rng);
		/* The responder's public key, as the initiator's configuration holds it. */
		assert_int_equal(noise_handshake_init(&resp, &suite, false, prologue, prologue_len,
		                     sr, NULL),
		    0);
		memcpy(pr, resp.s_pub, sizeof(pr));
		assert_int_equal(noise_handshake_init(&ini, &suite, true, prologue, prologue_len,
		                     si, pr),
		    0);

		for (int m = 0; m < 2; m++) {
			struct noise_handshake *w = m == 0 ? &ini : &resp;
			struct noise_handshake *r = m == 0 ? &resp : &ini;

			plen = test_rand_below(&rng, sizeof(payload) + 1);
			for (size_t i = 0; i < plen; i++)
				payload[i] = (uint8_t)test_rand(&rng);
			assert_int_equal(noise_handshake_write_message(w, payload, plen, msg,
			                     sizeof(msg), &mlen),
			    0);
			assert_int_equal(mlen, plen + (m == 0 ? 96 : 48));
			/* A corrupted copy: a flipped bit, or a wrong length. */
			probe = *r;
			if (test_rand_below(&rng, 2) == 0) {
				size_t bit = test_rand_below(&rng, mlen * 8);

				msg[bit / 8] ^= (uint8_t)(1u << bit % 8);
				assert_int_equal(noise_handshake_read_message(r, msg, mlen, got,
				                     sizeof(got), &glen),
				    -EBADMSG);
				msg[bit / 8] ^= (uint8_t)(1u << bit % 8);
			} else {
				size_t len = test_rand_below(&rng, mlen);

				assert_int_equal(noise_handshake_read_message(r, msg, len, got,
				                     sizeof(got), &glen),
				    -EBADMSG);
			}
			assert_memory_equal(&probe, r, sizeof(probe));
			assert_int_equal(noise_handshake_read_message(r, msg, mlen, got,
			                     sizeof(got), &glen),
			    0);
			assert_int_equal(glen, plen);
			assert_memory_equal(got, payload, plen);
		}
		assert_int_equal(noise_handshake_split(&ini, &is, &ir), 0);
		assert_int_equal(noise_handshake_split(&resp, &rs_, &rr), 0);
		assert_memory_equal(is.key, rr.key, NOISE_KEY_LEN);
		assert_memory_equal(ir.key, rs_.key, NOISE_KEY_LEN);
		assert_memory_not_equal(is.key, ir.key, NOISE_KEY_LEN);
		for (int t = 0; t < 4; t++) {
			bool from_ini = test_rand_below(&rng, 2) == 0;

			plen = test_rand_below(&rng, sizeof(payload) + 1);
			for (size_t i = 0; i < plen; i++)
				payload[i] = (uint8_t)test_rand(&rng);
			assert_int_equal(noise_cipher_encrypt(from_ini ? &is : &rs_, NULL, 0,
			                     payload, plen, msg, sizeof(msg), &mlen),
			    0);
			assert_int_equal(noise_cipher_decrypt(from_ini ? &rr : &ir, NULL, 0, msg,
			                     mlen, got, sizeof(got), &glen),
			    0);
			assert_int_equal(glen, plen);
			assert_memory_equal(got, payload, plen);
		}
		noise_cipher_fini(&is);
		noise_cipher_fini(&ir);
		noise_cipher_fini(&rs_);
		noise_cipher_fini(&rr);
		noise_handshake_fini(&ini);
		noise_handshake_fini(&resp);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_noise_handshake_vectors_match),
	    cmocka_unit_test(test_noise_handshake_read_message_flipped_bit_rejected),
	    cmocka_unit_test(test_noise_handshake_read_message_wrong_length_rejected),
	    cmocka_unit_test(test_noise_handshake_write_message_short_buffer_rejected),
	    cmocka_unit_test(test_noise_handshake_read_message_wrong_responder_key_rejected),
	    cmocka_unit_test(test_noise_handshake_out_of_order_rejected),
	    cmocka_unit_test(test_noise_suite_parse_unknown_rejected),
	    cmocka_unit_test(test_noise_cipher_decrypt_tampered_rejected),
	    cmocka_unit_test(test_noise_handshake_random_model),
	};

	return cmocka_run_group_tests(tests, vectors_setup, vectors_teardown);
}
