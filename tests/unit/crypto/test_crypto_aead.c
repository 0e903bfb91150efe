/*
 * Unit tests of crypto/crypto_aead: known-answer vectors (NIST GCM, RFC 8439) through
 * the same EVP paths as the data path, round trips, and tampering of every part.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "crypto/crypto_aead.h"
#include "test_rand.h"

#define MAX_LEN 9000

/* OpenSSL's allocations, counted to show that sealing and opening allocate nothing. */
static unsigned long openssl_allocs;
static int openssl_mem_counted;

static void *
count_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	openssl_allocs++;
	return malloc(n);
}

static void *
count_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	openssl_allocs++;
	return realloc(p, n);
}

static void
count_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

static size_t
hex_decode(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;

	for (; hex[0] != '\0' && hex[1] != '\0'; hex += 2) {
		unsigned v;

		if (hex[0] == ' ') {
			hex--;
			continue;
		}
		assert_int_equal(sscanf(hex, "%2x", &v), 1);
		assert_true(n < cap);
		out[n++] = (uint8_t)v;
	}
	return n;
}

struct kat {
	enum crypto_aead_alg alg;
	const char *key, *nonce, *ad, *pt, *ct, *tag;
};

/*
 * NIST GCM test cases 13, 14 and 16 (McGrew and Viega, "The Galois/Counter Mode of
 * Operation", AES-256), and RFC 8439 section 2.8.2.
 */
static const struct kat kats[] = {
    {CRYPTO_AEAD_AES_256_GCM, "0000000000000000000000000000000000000000000000000000000000000000",
        "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {CRYPTO_AEAD_AES_256_GCM, "0000000000000000000000000000000000000000000000000000000000000000",
        "000000000000000000000000", "", "00000000000000000000000000000000",
        "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {CRYPTO_AEAD_AES_256_GCM, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
        "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
        "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
        "76fc6ece0f4e1768cddf8853bb2d551b"},
    {CRYPTO_AEAD_CHACHA20_POLY1305,
        "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
        "070000004041424344454647", "50515253c0c1c2c3c4c5c6c7",
        "4c616469657320616e642047656e746c656d656e206f662074686520636c6173"
        "73206f66202739393a204966204920636f756c64206f6666657220796f75206f"
        "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"
        "637265656e20776f756c642062652069742e",
        "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
        "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
        "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
        "3ff4def08e4b7a9de576d26586cec64b6116",
        "1ae10b594f09e26a7e902ecbd0600691"},
};

static void
test_crypto_aead_seal_nonce_known_answers(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(kats) / sizeof(kats[0]); i++) {
		uint8_t key[32], nonce[12], ad[64], pt[256], ct[256], tag[16], buf[256], out[16];
		size_t ad_len, pt_len, ct_len;
		struct crypto_aead *ctx;

		assert_int_equal(hex_decode(kats[i].key, key, sizeof(key)), 32);
		assert_int_equal(hex_decode(kats[i].nonce, nonce, sizeof(nonce)), 12);
		ad_len = hex_decode(kats[i].ad, ad, sizeof(ad));
		pt_len = hex_decode(kats[i].pt, pt, sizeof(pt));
		ct_len = hex_decode(kats[i].ct, ct, sizeof(ct));
		assert_int_equal(hex_decode(kats[i].tag, tag, sizeof(tag)), 16);
		assert_int_equal(pt_len, ct_len);
		assert_int_equal(crypto_aead_new(kats[i].alg, key, &ctx), 0);

		memcpy(buf, pt, pt_len);
		assert_int_equal(crypto_aead_seal_nonce(ctx, nonce, ad, ad_len, buf, pt_len, out),
		    0);
		assert_memory_equal(buf, ct, ct_len);
		assert_memory_equal(out, tag, 16);

		assert_int_equal(crypto_aead_open_nonce(ctx, nonce, ad, ad_len, buf, ct_len, tag),
		    0);
		assert_memory_equal(buf, pt, pt_len);
		crypto_aead_free(ctx);
	}
}

/* The all-zero nonce of NIST cases 13 and 14 is the nonce of counter 0. */
static void
test_crypto_aead_seal_counter_zero_known_answer(void **state)
{
	uint8_t key[32] = {0}, buf[16] = {0}, trailer[CRYPTO_AEAD_TRAILER_LEN], tag[16];
	struct crypto_aead *ctx;

	(void)state;
	assert_int_equal(crypto_aead_new(CRYPTO_AEAD_AES_256_GCM, key, &ctx), 0);
	assert_int_equal(crypto_aead_seal(ctx, 0, NULL, 0, buf, sizeof(buf), trailer), 0);
	hex_decode("cea7403d4d606b6e074ec5d3baf39d18", tag, sizeof(tag));
	assert_memory_equal(buf, tag, 16);
	hex_decode("d0d1c8a799996bf0265b98b5d48ab919", tag, sizeof(tag));
	assert_memory_equal(trailer + 8, tag, 16);
	for (int i = 0; i < 8; i++)
		assert_int_equal(trailer[i], 0);
	crypto_aead_free(ctx);
}

/* The nonce is 4 zero bytes + the counter big-endian, and the trailer carries it. */
static void
test_crypto_aead_seal_nonce_layout(void **state)
{
	static const enum crypto_aead_alg algs[] = {CRYPTO_AEAD_AES_256_GCM,
	    CRYPTO_AEAD_CHACHA20_POLY1305};
	uint8_t key[32], a[100], b[100], trailer[24], tag[16];
	uint8_t nonce[12] = {0, 0, 0, 0, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
	uint64_t counter = 0x0123456789abcdefull;

	(void)state;
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 1);
	for (size_t k = 0; k < 2; k++) {
		struct crypto_aead *ctx;

		assert_int_equal(crypto_aead_new(algs[k], key, &ctx), 0);
		assert_int_equal(crypto_aead_alg(ctx), algs[k]);
		memset(a, 0x5a, sizeof(a));
		memset(b, 0x5a, sizeof(b));
		assert_int_equal(crypto_aead_seal(ctx, counter, key, 5, a, sizeof(a), trailer), 0);
		assert_int_equal(crypto_aead_seal_nonce(ctx, nonce, key, 5, b, sizeof(b), tag), 0);
		assert_memory_equal(a, b, sizeof(a));
		assert_memory_equal(trailer, nonce + 4, 8);
		assert_memory_equal(trailer + 8, tag, 16);
		assert_true(crypto_aead_trailer_counter(trailer) == counter);
		crypto_aead_free(ctx);
	}
	assert_string_equal(crypto_aead_alg_name(CRYPTO_AEAD_AES_256_GCM), "aes-256-gcm");
	assert_string_equal(crypto_aead_alg_name(CRYPTO_AEAD_CHACHA20_POLY1305),
	    "chacha20-poly1305");
}

static void
test_crypto_aead_ad_encode_uuid_then_direction(void **state)
{
	uint8_t uuid[16], ad[CRYPTO_AEAD_AD_LEN];

	(void)state;
	for (int i = 0; i < 16; i++)
		uuid[i] = (uint8_t)(0xa0 + i);
	crypto_aead_ad_encode(ad, uuid, CRYPTO_AEAD_DIR_REVERSE);
	assert_int_equal(sizeof(ad), 17);
	assert_memory_equal(ad, uuid, 16);
	assert_int_equal(ad[16], 1);
	crypto_aead_ad_encode(ad, uuid, CRYPTO_AEAD_DIR_FORWARD);
	assert_int_equal(ad[16], 0);
}

static void
test_crypto_aead_new_bad_alg_rejected(void **state)
{
	uint8_t key[32] = {0};
	struct crypto_aead *ctx = (struct crypto_aead *)&key;

	(void)state;
	assert_int_equal(crypto_aead_new((enum crypto_aead_alg)7, key, &ctx), -EINVAL);
	assert_null(ctx);
	crypto_aead_free(NULL);
}

static void
test_crypto_aead_seal_limits(void **state)
{
	uint8_t key[32] = {0}, data[16] = {0}, trailer[24];
	struct crypto_aead *ctx;

	(void)state;
	assert_int_equal(crypto_aead_new(CRYPTO_AEAD_AES_256_GCM, key, &ctx), 0);
	assert_int_equal(crypto_aead_seal(ctx, UINT64_MAX, NULL, 0, data, 16, trailer), -ERANGE);
	assert_int_equal(crypto_aead_seal(ctx, UINT64_MAX - 1, NULL, 0, data, 16, trailer), 0);
	assert_int_equal(crypto_aead_open(ctx, NULL, 0, data, 16, trailer), 0);
	assert_int_equal(crypto_aead_seal(ctx, 1, NULL, CRYPTO_AEAD_MAX_DATA_LEN + 1, data, 16,
	                     trailer),
	    -EMSGSIZE);
	assert_int_equal(crypto_aead_seal(ctx, 1, NULL, 0, data, CRYPTO_AEAD_MAX_DATA_LEN + 1,
	                     trailer),
	    -EMSGSIZE);
	/* A trailer with the counter seal never uses is not authentic. */
	memset(trailer, 0xff, 8);
	assert_int_equal(crypto_aead_open(ctx, NULL, 0, data, 16, trailer), -EBADMSG);
	crypto_aead_free(ctx);
}

struct pair {
	struct crypto_aead *tx, *rx;
};

static void
pair_new(struct pair *p, enum crypto_aead_alg alg, uint64_t *rng)
{
	uint8_t key[32];

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)test_rand(rng);
	assert_int_equal(crypto_aead_new(alg, key, &p->tx), 0);
	assert_int_equal(crypto_aead_new(alg, key, &p->rx), 0);
}

static void
pair_free(struct pair *p)
{
	crypto_aead_free(p->tx);
	crypto_aead_free(p->rx);
}

static void
fill(uint8_t *p, size_t n, uint64_t *rng)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)test_rand(rng);
}

static void
test_crypto_aead_open_random_roundtrip(void **state)
{
	uint64_t rng = test_seed();
	uint8_t *plain = malloc(MAX_LEN), *data = malloc(MAX_LEN);
	uint8_t ad[64], trailer[24];

	(void)state;
	assert_non_null(plain);
	assert_non_null(data);
	for (int alg = 0; alg < 2; alg++) {
		struct pair p;

		pair_new(&p, (enum crypto_aead_alg)alg, &rng);
		for (uint64_t counter = 0; counter < 300; counter++) {
			size_t len = (size_t)test_rand_below(&rng, MAX_LEN + 1);
			size_t ad_len = (size_t)test_rand_below(&rng, sizeof(ad) + 1);

			if (counter < 3)
				len = counter; /* 0, 1, 2 bytes */
			fill(plain, len, &rng);
			fill(ad, ad_len, &rng);
			memcpy(data, plain, len);
			assert_int_equal(crypto_aead_seal(p.tx, counter, ad, ad_len, data, len,
			                     trailer),
			    0);
			if (len >= 16)
				assert_memory_not_equal(data, plain, len);
			assert_true(crypto_aead_trailer_counter(trailer) == counter);
			assert_int_equal(crypto_aead_open(p.rx, ad, ad_len, data, len, trailer), 0);
			assert_memory_equal(data, plain, len);
			/* One context may also seal and open in turn. */
			assert_int_equal(crypto_aead_seal(p.rx, counter, ad, ad_len, data, len,
			                     trailer),
			    0);
			assert_int_equal(crypto_aead_open(p.tx, ad, ad_len, data, len, trailer), 0);
			assert_memory_equal(data, plain, len);
		}
		pair_free(&p);
	}
	free(plain);
	free(data);
}

static void
test_crypto_aead_open_flipped_bit_rejected(void **state)
{
	uint64_t rng = test_seed();
	uint8_t *plain = malloc(MAX_LEN), *data = malloc(MAX_LEN), *zero = calloc(1, MAX_LEN);
	uint8_t ad[CRYPTO_AEAD_AD_LEN], trailer[24], uuid[16];

	(void)state;
	assert_non_null(plain);
	assert_non_null(data);
	assert_non_null(zero);
	for (int alg = 0; alg < 2; alg++) {
		struct pair p;

		pair_new(&p, (enum crypto_aead_alg)alg, &rng);
		for (uint64_t counter = 0; counter < 400; counter++) {
			size_t len = (size_t)test_rand_below(&rng, 1500 + 1);
			size_t bits, bit;

			fill(plain, len, &rng);
			fill(uuid, sizeof(uuid), &rng);
			crypto_aead_ad_encode(ad, uuid, (enum crypto_aead_dir)(counter & 1));
			memcpy(data, plain, len);
			assert_int_equal(crypto_aead_seal(p.tx, counter, ad, sizeof(ad), data, len,
			                     trailer),
			    0);
			/* Any one bit of data, trailer (counter or tag) or associated data. */
			bits = 8 * (len + sizeof(trailer) + sizeof(ad));
			bit = (size_t)test_rand_below(&rng, bits);
			if (bit < 8 * len)
				data[bit / 8] ^= (uint8_t)(1u << bit % 8);
			else if (bit < 8 * (len + sizeof(trailer)))
				trailer[bit / 8 - len] ^= (uint8_t)(1u << bit % 8);
			else
				ad[bit / 8 - len - sizeof(trailer)] ^= (uint8_t)(1u << bit % 8);
			assert_int_equal(crypto_aead_open(p.rx, ad, sizeof(ad), data, len, trailer),
			    -EBADMSG);
			/* Nothing unauthenticated is left for a careless caller. */
			assert_memory_equal(data, zero, len);
		}
		pair_free(&p);
	}
	free(plain);
	free(data);
	free(zero);
}

static void
test_crypto_aead_open_wrong_key_rejected(void **state)
{
	uint64_t rng = test_seed();
	uint8_t data[600], trailer[24], ad[17] = {1, 2, 3};
	struct pair a, b;

	(void)state;
	for (int alg = 0; alg < 2; alg++) {
		pair_new(&a, (enum crypto_aead_alg)alg, &rng);
		pair_new(&b, (enum crypto_aead_alg)alg, &rng);
		for (uint64_t counter = 0; counter < 50; counter++) {
			size_t len = (size_t)test_rand_below(&rng, sizeof(data) + 1);

			fill(data, len, &rng);
			assert_int_equal(crypto_aead_seal(a.tx, counter, ad, sizeof(ad), data, len,
			                     trailer),
			    0);
			assert_int_equal(crypto_aead_open(b.rx, ad, sizeof(ad), data, len, trailer),
			    -EBADMSG);
		}
		pair_free(&a);
		pair_free(&b);
	}
}

/* The same key under the other algorithm authenticates nothing. */
static void
test_crypto_aead_open_wrong_alg_rejected(void **state)
{
	uint8_t key[32] = {9}, data[64] = {0}, trailer[24];
	struct crypto_aead *gcm, *chacha;

	(void)state;
	assert_int_equal(crypto_aead_new(CRYPTO_AEAD_AES_256_GCM, key, &gcm), 0);
	assert_int_equal(crypto_aead_new(CRYPTO_AEAD_CHACHA20_POLY1305, key, &chacha), 0);
	assert_int_equal(crypto_aead_seal(gcm, 5, NULL, 0, data, sizeof(data), trailer), 0);
	assert_int_equal(crypto_aead_open(chacha, NULL, 0, data, sizeof(data), trailer), -EBADMSG);
	crypto_aead_free(gcm);
	crypto_aead_free(chacha);
}

static void
test_crypto_aead_seal_no_allocation(void **state)
{
	static const enum crypto_aead_alg algs[] = {CRYPTO_AEAD_AES_256_GCM,
	    CRYPTO_AEAD_CHACHA20_POLY1305};
	uint8_t key[32] = {3}, data[1400] = {0}, ad[CRYPTO_AEAD_AD_LEN] = {0}, trailer[24];

	(void)state;
	if (!openssl_mem_counted)
		skip();
	for (size_t k = 0; k < 2; k++) {
		struct crypto_aead *ctx;

		openssl_allocs = 0;
		assert_int_equal(crypto_aead_new(algs[k], key, &ctx), 0);
		assert_true(openssl_allocs > 0); /* the counting works */
		openssl_allocs = 0;
		for (uint64_t counter = 0; counter < 1000; counter++) {
			assert_int_equal(crypto_aead_seal(ctx, counter, ad, sizeof(ad), data,
			                     sizeof(data), trailer),
			    0);
			assert_int_equal(crypto_aead_open(ctx, ad, sizeof(ad), data, sizeof(data),
			                     trailer),
			    0);
			trailer[10] ^= 1;
			assert_int_equal(crypto_aead_open(ctx, ad, sizeof(ad), data, sizeof(data),
			                     trailer),
			    -EBADMSG);
		}
		assert_int_equal(openssl_allocs, 0);
		crypto_aead_free(ctx);
	}
}

int
main(void)
{
	/* Must come before OpenSSL's first allocation. */
	openssl_mem_counted = CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free);

	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crypto_aead_seal_nonce_known_answers),
	    cmocka_unit_test(test_crypto_aead_seal_counter_zero_known_answer),
	    cmocka_unit_test(test_crypto_aead_seal_nonce_layout),
	    cmocka_unit_test(test_crypto_aead_ad_encode_uuid_then_direction),
	    cmocka_unit_test(test_crypto_aead_new_bad_alg_rejected),
	    cmocka_unit_test(test_crypto_aead_seal_limits),
	    cmocka_unit_test(test_crypto_aead_open_random_roundtrip),
	    cmocka_unit_test(test_crypto_aead_open_flipped_bit_rejected),
	    cmocka_unit_test(test_crypto_aead_open_wrong_key_rejected),
	    cmocka_unit_test(test_crypto_aead_open_wrong_alg_rejected),
	    cmocka_unit_test(test_crypto_aead_seal_no_allocation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
