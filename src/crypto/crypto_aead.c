/*
 * Payload AEAD on OpenSSL 3 EVP: see crypto_aead.h. The key schedule is done once in
 * crypto_aead_new(); each packet only re-initialises the EVP context with its nonce and
 * direction (a NULL key keeps the schedule), so the data path allocates nothing.
 */
#include "crypto/crypto_aead.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

struct crypto_aead {
	EVP_CIPHER_CTX *evp;
	enum crypto_aead_alg alg;
};

static const EVP_CIPHER *
crypto_aead_cipher(enum crypto_aead_alg alg)
{
	switch (alg) {
	case CRYPTO_AEAD_AES_256_GCM:
		return EVP_aes_256_gcm();
	case CRYPTO_AEAD_CHACHA20_POLY1305:
		return EVP_chacha20_poly1305();
	}
	return NULL;
}

const char *
crypto_aead_alg_name(enum crypto_aead_alg alg)
{
	switch (alg) {
	case CRYPTO_AEAD_AES_256_GCM:
		return "aes-256-gcm";
	case CRYPTO_AEAD_CHACHA20_POLY1305:
		return "chacha20-poly1305";
	}
	return "unknown";
}

int
crypto_aead_new(enum crypto_aead_alg alg, const uint8_t key[CRYPTO_AEAD_KEY_LEN],
    struct crypto_aead **out)
{
	const EVP_CIPHER *cipher = crypto_aead_cipher(alg);
	struct crypto_aead *ctx = NULL;
	int err;

	*out = NULL;
	if (cipher == NULL)
		return -EINVAL;
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return -ENOMEM;
	ctx->alg = alg;
	ctx->evp = EVP_CIPHER_CTX_new();
	if (ctx->evp == NULL) {
		err = -ENOMEM;
		goto fail;
	}
	/* Both ciphers default to a 12-byte nonce; the key schedule is kept from here. */
	if (EVP_CipherInit_ex(ctx->evp, cipher, NULL, key, NULL, 1) != 1 ||
	    EVP_CIPHER_CTX_get_iv_length(ctx->evp) != CRYPTO_AEAD_NONCE_LEN) {
		err = -EIO;
		goto fail;
	}
	*out = ctx;
	return 0;
fail:
	crypto_aead_free(ctx);
	return err;
}

void
crypto_aead_free(struct crypto_aead *ctx)
{
	if (ctx == NULL)
		return;
	/* EVP_CIPHER_CTX_free() cleanses the key schedule held by the provider. */
	EVP_CIPHER_CTX_free(ctx->evp);
	OPENSSL_cleanse(ctx, sizeof(*ctx));
	free(ctx);
}

enum crypto_aead_alg
crypto_aead_alg(const struct crypto_aead *ctx)
{
	return ctx->alg;
}

void
crypto_aead_ad_encode(uint8_t ad[CRYPTO_AEAD_AD_LEN], const uint8_t uuid[CRYPTO_AEAD_UUID_LEN],
    enum crypto_aead_dir dir)
{
	memcpy(ad, uuid, CRYPTO_AEAD_UUID_LEN);
	ad[CRYPTO_AEAD_UUID_LEN] = (uint8_t)dir;
}

static void
crypto_aead_store_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

uint64_t
crypto_aead_trailer_counter(const uint8_t trailer[CRYPTO_AEAD_TRAILER_LEN])
{
	uint64_t v = 0;

	for (int i = 0; i < CRYPTO_AEAD_COUNTER_LEN; i++)
		v = v << 8 | trailer[i];
	return v;
}

static void
crypto_aead_nonce(uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], uint64_t counter)
{
	memset(nonce, 0, CRYPTO_AEAD_NONCE_LEN - CRYPTO_AEAD_COUNTER_LEN);
	crypto_aead_store_be64(nonce + CRYPTO_AEAD_NONCE_LEN - CRYPTO_AEAD_COUNTER_LEN, counter);
}

/* Start one message under nonce in direction enc and feed the associated data. */
static int
crypto_aead_begin(struct crypto_aead *ctx, const uint8_t *nonce, int enc, const uint8_t *ad,
    size_t ad_len, size_t len)
{
	int outl;

	if (len > CRYPTO_AEAD_MAX_DATA_LEN || ad_len > CRYPTO_AEAD_MAX_DATA_LEN)
		return -EMSGSIZE;
	if (EVP_CipherInit_ex(ctx->evp, NULL, NULL, NULL, nonce, enc) != 1)
		return -EIO;
	if (ad_len > 0 && EVP_CipherUpdate(ctx->evp, NULL, &outl, ad, (int)ad_len) != 1)
		return -EIO;
	return 0;
}

int
crypto_aead_seal_nonce(struct crypto_aead *ctx, const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN],
    const uint8_t *ad, size_t ad_len, uint8_t *data, size_t len, uint8_t tag[CRYPTO_AEAD_TAG_LEN])
{
	int outl = 0, finl = 0;
	int err;

	err = crypto_aead_begin(ctx, nonce, 1, ad, ad_len, len);
	if (err < 0)
		return err;
	if (len > 0 && EVP_CipherUpdate(ctx->evp, data, &outl, data, (int)len) != 1)
		return -EIO;
	/* Both ciphers are stream modes: all output comes from the update. */
	if (EVP_CipherFinal_ex(ctx->evp, data + outl, &finl) != 1 || (size_t)(outl + finl) != len)
		return -EIO;
	if (EVP_CIPHER_CTX_ctrl(ctx->evp, EVP_CTRL_AEAD_GET_TAG, CRYPTO_AEAD_TAG_LEN, tag) != 1)
		return -EIO;
	return 0;
}

int
crypto_aead_open_nonce(struct crypto_aead *ctx, const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN],
    const uint8_t *ad, size_t ad_len, uint8_t *data, size_t len,
    const uint8_t tag[CRYPTO_AEAD_TAG_LEN])
{
	uint8_t tag_copy[CRYPTO_AEAD_TAG_LEN];
	int outl = 0, finl = 0;
	int err;

	err = crypto_aead_begin(ctx, nonce, 0, ad, ad_len, len);
	if (err < 0)
		return err;
	/* The ctrl takes a non-const pointer. */
	memcpy(tag_copy, tag, sizeof(tag_copy));
	if (EVP_CIPHER_CTX_ctrl(ctx->evp, EVP_CTRL_AEAD_SET_TAG, CRYPTO_AEAD_TAG_LEN, tag_copy) !=
	    1) {
		err = -EIO;
		goto bad;
	}
	if (len > 0 && EVP_CipherUpdate(ctx->evp, data, &outl, data, (int)len) != 1) {
		err = -EIO;
		goto bad;
	}
	/* Final compares the tag in constant time. */
	if (EVP_CipherFinal_ex(ctx->evp, data + outl, &finl) != 1 || (size_t)(outl + finl) != len) {
		err = -EBADMSG;
		goto bad;
	}
	return 0;
bad:
	/* Never leave unauthenticated plaintext behind. */
	if (len > 0)
		OPENSSL_cleanse(data, len);
	return err;
}

int
crypto_aead_seal(struct crypto_aead *ctx, uint64_t counter, const uint8_t *ad, size_t ad_len,
    uint8_t *data, size_t len, uint8_t trailer[CRYPTO_AEAD_TRAILER_LEN])
{
	uint8_t nonce[CRYPTO_AEAD_NONCE_LEN];

	if (counter == UINT64_MAX)
		return -ERANGE;
	crypto_aead_nonce(nonce, counter);
	crypto_aead_store_be64(trailer, counter);
	return crypto_aead_seal_nonce(ctx, nonce, ad, ad_len, data, len,
	    trailer + CRYPTO_AEAD_COUNTER_LEN);
}

int
crypto_aead_open(struct crypto_aead *ctx, const uint8_t *ad, size_t ad_len, uint8_t *data,
    size_t len, const uint8_t trailer[CRYPTO_AEAD_TRAILER_LEN])
{
	uint8_t nonce[CRYPTO_AEAD_NONCE_LEN];
	uint64_t counter = crypto_aead_trailer_counter(trailer);

	/* seal never uses this counter, so the trailer can not be authentic. */
	if (counter == UINT64_MAX) {
		if (len > 0 && len <= CRYPTO_AEAD_MAX_DATA_LEN)
			OPENSSL_cleanse(data, len);
		return -EBADMSG;
	}
	crypto_aead_nonce(nonce, counter);
	return crypto_aead_open_nonce(ctx, nonce, ad, ad_len, data, len,
	    trailer + CRYPTO_AEAD_COUNTER_LEN);
}
