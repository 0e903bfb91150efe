/*
 * Noise IK on OpenSSL 3 EVP: the CipherState (AEAD with Noise's nonce encodings), the
 * SymmetricState (MixHash, MixKey through Noise's HMAC-HKDF) and the two IK messages.
 *
 * Every handshake step works on a copy of the state and commits it only on success,
 * so a failed call changes nothing; the copy is wiped on every path.
 */
#include "crypto/crypto_noise.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

/* IK message sizes without the payload: e, encrypted s, and the payload's tag. */
enum {
	NOISE_IK_MSG1_OVERHEAD = NOISE_KEY_LEN + (NOISE_KEY_LEN + NOISE_TAG_LEN) + NOISE_TAG_LEN,
	NOISE_IK_MSG2_OVERHEAD = NOISE_KEY_LEN + NOISE_TAG_LEN,
	NOISE_NONCE_LEN = 12,
};

static const char *const noise_cipher_names[] = {
    [NOISE_CIPHER_CHACHAPOLY] = "ChaChaPoly",
    [NOISE_CIPHER_AESGCM] = "AESGCM",
};

static const struct {
	const char *noise_name;
	const char *evp_name;
	size_t len;
} noise_hashes[] = {
    [NOISE_HASH_SHA256] = {"SHA256", "SHA256", 32},
    [NOISE_HASH_SHA512] = {"SHA512", "SHA512", 64},
    [NOISE_HASH_BLAKE2S] = {"BLAKE2s", "BLAKE2S-256", 32},
    [NOISE_HASH_BLAKE2B] = {"BLAKE2b", "BLAKE2B-512", 64},
};

#define NOISE_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

int
noise_suite_init(struct noise_suite *suite, const char *cipher, const char *hash)
{
	size_t ci, hi;

	if (suite == NULL || cipher == NULL || hash == NULL)
		return -EINVAL;
	for (ci = 0; ci < NOISE_ARRAY_LEN(noise_cipher_names); ci++)
		if (strcmp(cipher, noise_cipher_names[ci]) == 0)
			break;
	for (hi = 0; hi < NOISE_ARRAY_LEN(noise_hashes); hi++)
		if (strcmp(hash, noise_hashes[hi].noise_name) == 0)
			break;
	if (ci == NOISE_ARRAY_LEN(noise_cipher_names) || hi == NOISE_ARRAY_LEN(noise_hashes))
		return -ENOTSUP;
	memset(suite, 0, sizeof(*suite));
	suite->cipher = (enum noise_cipher_id)ci;
	suite->hash = (enum noise_hash_id)hi;
	suite->hash_len = noise_hashes[hi].len;
	snprintf(suite->protocol_name, sizeof(suite->protocol_name), "Noise_IK_25519_%s_%s",
	    noise_cipher_names[ci], noise_hashes[hi].noise_name);
	return 0;
}

int
noise_suite_parse(struct noise_suite *suite, const char *protocol_name)
{
	static const char prefix[] = "Noise_IK_25519_";
	char cipher[16];
	const char *rest, *sep;
	size_t n;

	if (suite == NULL || protocol_name == NULL)
		return -EINVAL;
	if (strncmp(protocol_name, prefix, sizeof(prefix) - 1) != 0)
		return -ENOTSUP;
	rest = protocol_name + sizeof(prefix) - 1;
	sep = strchr(rest, '_');
	if (sep == NULL)
		return -ENOTSUP;
	n = (size_t)(sep - rest);
	if (n >= sizeof(cipher))
		return -ENOTSUP;
	memcpy(cipher, rest, n);
	cipher[n] = '\0';
	return noise_suite_init(suite, cipher, sep + 1);
}

/* --- CipherState ---------------------------------------------------------------- */

static void
noise_nonce_encode(enum noise_cipher_id cipher, uint64_t n, uint8_t iv[NOISE_NONCE_LEN])
{
	memset(iv, 0, 4);
	for (int i = 0; i < 8; i++) {
		uint8_t b = (uint8_t)(n >> (8 * i));

		/* ChaChaPoly: little-endian counter; AESGCM: big-endian (Noise 5.1). */
		if (cipher == NOISE_CIPHER_CHACHAPOLY)
			iv[4 + i] = b;
		else
			iv[NOISE_NONCE_LEN - 1 - i] = b;
	}
}

static const EVP_CIPHER *
noise_evp_cipher(enum noise_cipher_id cipher)
{
	return cipher == NOISE_CIPHER_CHACHAPOLY ? EVP_chacha20_poly1305() : EVP_aes_256_gcm();
}

/* AEAD seal or open of one message under key k and nonce n; out holds the result. */
static int
noise_aead(bool seal, enum noise_cipher_id cipher, const uint8_t key[NOISE_KEY_LEN], uint64_t n,
    const uint8_t *ad, size_t ad_len, const uint8_t *in, size_t in_len, uint8_t *out)
{
	uint8_t iv[NOISE_NONCE_LEN];
	uint8_t tag[NOISE_TAG_LEN];
	size_t text_len = seal ? in_len : in_len - NOISE_TAG_LEN;
	EVP_CIPHER_CTX *ctx;
	int outl, err = -EIO;

	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		return -ENOMEM;
	noise_nonce_encode(cipher, n, iv);
	if (EVP_CipherInit_ex(ctx, noise_evp_cipher(cipher), NULL, key, iv, seal ? 1 : 0) != 1)
		goto out;
	if (ad_len > 0 && EVP_CipherUpdate(ctx, NULL, &outl, ad, (int)ad_len) != 1)
		goto out;
	if (text_len > 0 && EVP_CipherUpdate(ctx, out, &outl, in, (int)text_len) != 1)
		goto out;
	if (seal) {
		if (EVP_CipherFinal_ex(ctx, out + text_len, &outl) != 1)
			goto out;
		if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, NOISE_TAG_LEN,
		        out + text_len) != 1)
			goto out;
	} else {
		memcpy(tag, in + text_len, NOISE_TAG_LEN);
		if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, NOISE_TAG_LEN, tag) != 1)
			goto out;
		if (EVP_CipherFinal_ex(ctx, out + text_len, &outl) != 1) {
			err = -EBADMSG;
			goto out;
		}
	}
	err = 0;
out:
	if (err != 0 && !seal && text_len > 0)
		OPENSSL_cleanse(out, text_len); /* never hand out unauthenticated plaintext */
	OPENSSL_cleanse(iv, sizeof(iv));
	EVP_CIPHER_CTX_free(ctx);
	return err;
}

int
noise_cipher_encrypt(struct noise_cipher *c, const uint8_t *ad, size_t ad_len, const uint8_t *pt,
    size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t need;
	int err;

	if (c == NULL || out_len == NULL || (pt == NULL && len > 0) || (ad == NULL && ad_len > 0))
		return -EINVAL;
	if (!c->has_key) {
		if (len > NOISE_MESSAGE_MAX || cap < len || (out == NULL && len > 0))
			return -EMSGSIZE;
		if (len > 0)
			memmove(out, pt, len);
		*out_len = len;
		return 0;
	}
	need = len + NOISE_TAG_LEN;
	if (need > NOISE_MESSAGE_MAX || cap < need || out == NULL)
		return -EMSGSIZE;
	if (ad_len > NOISE_MESSAGE_MAX)
		return -EMSGSIZE;
	if (c->nonce == UINT64_MAX)
		return -EOVERFLOW;
	err = noise_aead(true, c->cipher, c->key, c->nonce, ad, ad_len, pt, len, out);
	if (err != 0)
		return err;
	c->nonce++;
	*out_len = need;
	return 0;
}

int
noise_cipher_decrypt(struct noise_cipher *c, const uint8_t *ad, size_t ad_len, const uint8_t *ct,
    size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	int err;

	if (c == NULL || out_len == NULL || (ct == NULL && len > 0) || (ad == NULL && ad_len > 0))
		return -EINVAL;
	if (len > NOISE_MESSAGE_MAX || ad_len > NOISE_MESSAGE_MAX)
		return -EMSGSIZE;
	if (!c->has_key) {
		if (cap < len || (out == NULL && len > 0))
			return -EMSGSIZE;
		if (len > 0)
			memmove(out, ct, len);
		*out_len = len;
		return 0;
	}
	if (len < NOISE_TAG_LEN)
		return -EBADMSG;
	if (cap < len - NOISE_TAG_LEN || (out == NULL && len > NOISE_TAG_LEN))
		return -EMSGSIZE;
	if (c->nonce == UINT64_MAX)
		return -EOVERFLOW;
	err = noise_aead(false, c->cipher, c->key, c->nonce, ad, ad_len, ct, len, out);
	if (err != 0)
		return err;
	c->nonce++;
	*out_len = len - NOISE_TAG_LEN;
	return 0;
}

void
noise_cipher_fini(struct noise_cipher *c)
{
	if (c != NULL)
		OPENSSL_cleanse(c, sizeof(*c));
}

/* --- Hash, HKDF, DH --------------------------------------------------------------- */

/* out = HASH(a || b). */
static int
noise_hash2(const struct noise_suite *suite, const uint8_t *a, size_t a_len, const uint8_t *b,
    size_t b_len, uint8_t *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_MD *md = EVP_MD_fetch(NULL, noise_hashes[suite->hash].evp_name, NULL);
	unsigned int outl = 0;
	int err = -EIO;

	if (ctx == NULL || md == NULL) {
		err = ctx == NULL ? -ENOMEM : -EIO;
		goto out;
	}
	if (EVP_DigestInit_ex2(ctx, md, NULL) != 1)
		goto out;
	if (a_len > 0 && EVP_DigestUpdate(ctx, a, a_len) != 1)
		goto out;
	if (b_len > 0 && EVP_DigestUpdate(ctx, b, b_len) != 1)
		goto out;
	if (EVP_DigestFinal_ex(ctx, out, &outl) != 1 || outl != suite->hash_len)
		goto out;
	err = 0;
out:
	EVP_MD_free(md);
	EVP_MD_CTX_free(ctx);
	return err;
}

static int
noise_hmac(const struct noise_suite *suite, const uint8_t *key, size_t key_len, const uint8_t *data,
    size_t data_len, uint8_t *out)
{
	static const uint8_t empty[1];
	size_t outl = 0;

	if (EVP_Q_mac(NULL, "HMAC", NULL, noise_hashes[suite->hash].evp_name, NULL, key, key_len,
	        data_len > 0 ? data : empty, data_len, out, suite->hash_len, &outl) == NULL ||
	    outl != suite->hash_len)
		return -EIO;
	return 0;
}

/* Noise's HKDF with two outputs (section 4.3), each hash_len bytes. */
static int
noise_hkdf2(const struct noise_suite *suite, const uint8_t *ck, const uint8_t *ikm, size_t ikm_len,
    uint8_t *out1, uint8_t *out2)
{
	uint8_t temp_key[NOISE_HASH_MAX];
	uint8_t in[NOISE_HASH_MAX + 1];
	size_t hl = suite->hash_len;
	int err;

	err = noise_hmac(suite, ck, hl, ikm, ikm_len, temp_key);
	if (err != 0)
		goto out;
	in[0] = 0x01;
	err = noise_hmac(suite, temp_key, hl, in, 1, out1);
	if (err != 0)
		goto out;
	memcpy(in, out1, hl);
	in[hl] = 0x02;
	err = noise_hmac(suite, temp_key, hl, in, hl + 1, out2);
out:
	OPENSSL_cleanse(temp_key, sizeof(temp_key));
	OPENSSL_cleanse(in, sizeof(in));
	return err;
}

static int
noise_x25519_public(const uint8_t priv[NOISE_KEY_LEN], uint8_t pub[NOISE_KEY_LEN])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, NOISE_KEY_LEN);
	size_t len = NOISE_KEY_LEN;
	int err = -EINVAL;

	if (k != NULL && EVP_PKEY_get_raw_public_key(k, pub, &len) == 1 && len == NOISE_KEY_LEN)
		err = 0;
	EVP_PKEY_free(k);
	return err;
}

/*
 * out = X25519(priv, pub). OpenSSL refuses an all-zero result (a low-order public
 * key); that is the peer's doing, so it reads as -EBADMSG.
 */
static int
noise_dh(const uint8_t priv[NOISE_KEY_LEN], const uint8_t pub[NOISE_KEY_LEN],
    uint8_t out[NOISE_KEY_LEN])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, NOISE_KEY_LEN);
	EVP_PKEY *p = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub, NOISE_KEY_LEN);
	EVP_PKEY_CTX *ctx = NULL;
	size_t len = NOISE_KEY_LEN;
	int err = -EIO;

	if (k == NULL || p == NULL)
		goto out;
	ctx = EVP_PKEY_CTX_new(k, NULL);
	if (ctx == NULL) {
		err = -ENOMEM;
		goto out;
	}
	if (EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, p) != 1)
		goto out;
	if (EVP_PKEY_derive(ctx, out, &len) != 1 || len != NOISE_KEY_LEN) {
		OPENSSL_cleanse(out, NOISE_KEY_LEN);
		err = -EBADMSG;
		goto out;
	}
	err = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(p);
	EVP_PKEY_free(k);
	return err;
}

/* --- SymmetricState ---------------------------------------------------------------- */

static int
noise_mix_hash(struct noise_handshake *hs, const uint8_t *data, size_t len)
{
	return noise_hash2(&hs->suite, hs->h, hs->suite.hash_len, data, len, hs->h);
}

static int
noise_mix_key(struct noise_handshake *hs, const uint8_t *ikm, size_t len)
{
	uint8_t temp_k[NOISE_HASH_MAX];
	int err;

	err = noise_hkdf2(&hs->suite, hs->ck, ikm, len, hs->ck, temp_k);
	if (err == 0) {
		/* HASHLEN 64: the cipher key is the first 32 bytes. */
		memcpy(hs->cs.key, temp_k, NOISE_KEY_LEN);
		hs->cs.has_key = true;
		hs->cs.nonce = 0;
	}
	OPENSSL_cleanse(temp_k, sizeof(temp_k));
	return err;
}

/* MixKey(DH(priv, pub)). */
static int
noise_mix_dh(struct noise_handshake *hs, const uint8_t *priv, const uint8_t *pub)
{
	uint8_t shared[NOISE_KEY_LEN];
	int err;

	err = noise_dh(priv, pub, shared);
	if (err == 0)
		err = noise_mix_key(hs, shared, sizeof(shared));
	OPENSSL_cleanse(shared, sizeof(shared));
	return err;
}

static int
noise_encrypt_and_hash(struct noise_handshake *hs, const uint8_t *pt, size_t len, uint8_t *out,
    size_t cap, size_t *out_len)
{
	int err;

	err = noise_cipher_encrypt(&hs->cs, hs->h, hs->suite.hash_len, pt, len, out, cap, out_len);
	if (err == 0)
		err = noise_mix_hash(hs, out, *out_len);
	return err;
}

static int
noise_decrypt_and_hash(struct noise_handshake *hs, const uint8_t *ct, size_t len, uint8_t *out,
    size_t cap, size_t *out_len)
{
	int err;

	err = noise_cipher_decrypt(&hs->cs, hs->h, hs->suite.hash_len, ct, len, out, cap, out_len);
	if (err == 0)
		err = noise_mix_hash(hs, ct, len);
	return err;
}

/* --- HandshakeState ---------------------------------------------------------------- */

int
noise_handshake_init(struct noise_handshake *hs, const struct noise_suite *suite, bool initiator,
    const uint8_t *prologue, size_t prologue_len, const uint8_t s_priv[NOISE_KEY_LEN],
    const uint8_t *rs_pub)
{
	size_t name_len;
	int err = -EINVAL;

	if (hs == NULL)
		return -EINVAL;
	memset(hs, 0, sizeof(*hs));
	if (suite == NULL || s_priv == NULL || (initiator && rs_pub == NULL) ||
	    (prologue == NULL && prologue_len > 0))
		goto fail;
	if (prologue_len > NOISE_MESSAGE_MAX) {
		err = -EMSGSIZE;
		goto fail;
	}
	hs->suite = *suite;
	hs->initiator = initiator;
	hs->step = initiator ? NOISE_STEP_WRITE_1 : NOISE_STEP_READ_1;
	hs->cs.cipher = suite->cipher;
	memcpy(hs->s_priv, s_priv, NOISE_KEY_LEN);
	err = noise_x25519_public(hs->s_priv, hs->s_pub);
	if (err != 0)
		goto fail;

	name_len = strlen(suite->protocol_name);
	if (name_len <= suite->hash_len)
		memcpy(hs->h, suite->protocol_name, name_len);
	else if ((err = noise_hash2(suite, (const uint8_t *)suite->protocol_name, name_len, NULL, 0,
	              hs->h)) != 0)
		goto fail;
	memcpy(hs->ck, hs->h, suite->hash_len);
	err = noise_mix_hash(hs, prologue, prologue_len);
	if (err != 0)
		goto fail;
	/* Pre-message "<- s": both sides hash the responder's static key. */
	if (initiator) {
		memcpy(hs->rs, rs_pub, NOISE_KEY_LEN);
		err = noise_mix_hash(hs, hs->rs, NOISE_KEY_LEN);
	} else {
		err = noise_mix_hash(hs, hs->s_pub, NOISE_KEY_LEN);
	}
	if (err != 0)
		goto fail;
	return 0;
fail:
	OPENSSL_cleanse(hs, sizeof(*hs));
	return err;
}

int
noise_handshake_set_ephemeral(struct noise_handshake *hs, const uint8_t e_priv[NOISE_KEY_LEN])
{
	int err;

	if (hs == NULL || e_priv == NULL)
		return -EINVAL;
	if (hs->step != NOISE_STEP_WRITE_1 && hs->step != NOISE_STEP_READ_1 &&
	    hs->step != NOISE_STEP_WRITE_2)
		return -EINVAL;
	memcpy(hs->e_priv, e_priv, NOISE_KEY_LEN);
	err = noise_x25519_public(hs->e_priv, hs->e_pub);
	if (err != 0) {
		OPENSSL_cleanse(hs->e_priv, sizeof(hs->e_priv));
		hs->has_e = false;
		return err;
	}
	hs->has_e = true;
	return 0;
}

static int
noise_ephemeral_ensure(struct noise_handshake *hs)
{
	if (hs->has_e)
		return 0;
	if (RAND_priv_bytes(hs->e_priv, NOISE_KEY_LEN) != 1)
		return -EIO;
	if (noise_x25519_public(hs->e_priv, hs->e_pub) != 0)
		return -EIO;
	hs->has_e = true;
	return 0;
}

/* -> e, es, s, ss, payload */
static int
noise_write_1(struct noise_handshake *hs, const uint8_t *payload, size_t payload_len, uint8_t *out,
    size_t cap, size_t *out_len)
{
	size_t n;
	int err;

	memcpy(out, hs->e_pub, NOISE_KEY_LEN);
	if ((err = noise_mix_hash(hs, hs->e_pub, NOISE_KEY_LEN)) != 0 ||
	    (err = noise_mix_dh(hs, hs->e_priv, hs->rs)) != 0 ||
	    (err = noise_encrypt_and_hash(hs, hs->s_pub, NOISE_KEY_LEN, out + NOISE_KEY_LEN,
	         cap - NOISE_KEY_LEN, &n)) != 0 ||
	    (err = noise_mix_dh(hs, hs->s_priv, hs->rs)) != 0)
		return err;
	err = noise_encrypt_and_hash(hs, payload, payload_len, out + NOISE_KEY_LEN + n,
	    cap - NOISE_KEY_LEN - n, out_len);
	if (err == 0)
		*out_len += NOISE_KEY_LEN + n;
	return err;
}

/* <- e, ee, se, payload */
static int
noise_write_2(struct noise_handshake *hs, const uint8_t *payload, size_t payload_len, uint8_t *out,
    size_t cap, size_t *out_len)
{
	int err;

	memcpy(out, hs->e_pub, NOISE_KEY_LEN);
	if ((err = noise_mix_hash(hs, hs->e_pub, NOISE_KEY_LEN)) != 0 ||
	    (err = noise_mix_dh(hs, hs->e_priv, hs->re)) != 0 ||
	    (err = noise_mix_dh(hs, hs->e_priv, hs->rs)) != 0)
		return err;
	err = noise_encrypt_and_hash(hs, payload, payload_len, out + NOISE_KEY_LEN,
	    cap - NOISE_KEY_LEN, out_len);
	if (err == 0)
		*out_len += NOISE_KEY_LEN;
	return err;
}

int
noise_handshake_write_message(struct noise_handshake *hs, const uint8_t *payload,
    size_t payload_len, uint8_t *out, size_t cap, size_t *out_len)
{
	struct noise_handshake work;
	size_t need, len = 0;
	int err;

	if (hs == NULL || out_len == NULL || (payload == NULL && payload_len > 0))
		return -EINVAL;
	if (hs->step == NOISE_STEP_WRITE_1)
		need = NOISE_IK_MSG1_OVERHEAD;
	else if (hs->step == NOISE_STEP_WRITE_2)
		need = NOISE_IK_MSG2_OVERHEAD;
	else
		return -EINVAL;
	if (payload_len > NOISE_MESSAGE_MAX - need)
		return -EMSGSIZE;
	need += payload_len;
	if (out == NULL || cap < need)
		return -EMSGSIZE;

	work = *hs;
	err = noise_ephemeral_ensure(&work);
	if (err != 0)
		goto out;
	if (work.step == NOISE_STEP_WRITE_1) {
		err = noise_write_1(&work, payload, payload_len, out, cap, &len);
		work.step = NOISE_STEP_READ_2;
	} else {
		err = noise_write_2(&work, payload, payload_len, out, cap, &len);
		work.step = NOISE_STEP_SPLIT;
	}
	if (err != 0)
		goto out;
	if (len != need) {
		err = -EIO;
		goto out;
	}
	*hs = work;
	*out_len = len;
out:
	if (err != 0)
		OPENSSL_cleanse(out, need);
	OPENSSL_cleanse(&work, sizeof(work));
	return err;
}

/* -> e, es, s, ss, payload (responder) */
static int
noise_read_1(struct noise_handshake *hs, const uint8_t *msg, size_t len, uint8_t *payload_out,
    size_t cap, size_t *payload_len)
{
	const size_t s_len = NOISE_KEY_LEN + NOISE_TAG_LEN;
	size_t n;
	int err;

	memcpy(hs->re, msg, NOISE_KEY_LEN);
	if ((err = noise_mix_hash(hs, hs->re, NOISE_KEY_LEN)) != 0 ||
	    (err = noise_mix_dh(hs, hs->s_priv, hs->re)) != 0 ||
	    (err = noise_decrypt_and_hash(hs, msg + NOISE_KEY_LEN, s_len, hs->rs, NOISE_KEY_LEN,
	         &n)) != 0 ||
	    (err = noise_mix_dh(hs, hs->s_priv, hs->rs)) != 0)
		return err;
	return noise_decrypt_and_hash(hs, msg + NOISE_KEY_LEN + s_len, len - NOISE_KEY_LEN - s_len,
	    payload_out, cap, payload_len);
}

/* <- e, ee, se, payload (initiator) */
static int
noise_read_2(struct noise_handshake *hs, const uint8_t *msg, size_t len, uint8_t *payload_out,
    size_t cap, size_t *payload_len)
{
	int err;

	memcpy(hs->re, msg, NOISE_KEY_LEN);
	if ((err = noise_mix_hash(hs, hs->re, NOISE_KEY_LEN)) != 0 ||
	    (err = noise_mix_dh(hs, hs->e_priv, hs->re)) != 0 ||
	    (err = noise_mix_dh(hs, hs->s_priv, hs->re)) != 0)
		return err;
	return noise_decrypt_and_hash(hs, msg + NOISE_KEY_LEN, len - NOISE_KEY_LEN, payload_out,
	    cap, payload_len);
}

int
noise_handshake_read_message(struct noise_handshake *hs, const uint8_t *msg, size_t len,
    uint8_t *payload_out, size_t cap, size_t *payload_len)
{
	struct noise_handshake work;
	size_t overhead, plen = 0;
	int err;

	if (hs == NULL || payload_len == NULL || (msg == NULL && len > 0))
		return -EINVAL;
	if (hs->step == NOISE_STEP_READ_1)
		overhead = NOISE_IK_MSG1_OVERHEAD;
	else if (hs->step == NOISE_STEP_READ_2)
		overhead = NOISE_IK_MSG2_OVERHEAD;
	else
		return -EINVAL;
	if (len < overhead || len > NOISE_MESSAGE_MAX)
		return -EBADMSG;
	if (cap < len - overhead || (payload_out == NULL && len > overhead))
		return -EMSGSIZE;

	work = *hs;
	if (work.step == NOISE_STEP_READ_1) {
		err = noise_read_1(&work, msg, len, payload_out, cap, &plen);
		work.step = NOISE_STEP_WRITE_2;
	} else {
		err = noise_read_2(&work, msg, len, payload_out, cap, &plen);
		work.step = NOISE_STEP_SPLIT;
	}
	if (err == 0 && plen != len - overhead)
		err = -EIO;
	if (err == 0) {
		*hs = work;
		*payload_len = plen;
	} else if (payload_out != NULL && len > overhead) {
		OPENSSL_cleanse(payload_out, len - overhead);
	}
	OPENSSL_cleanse(&work, sizeof(work));
	return err;
}

bool
noise_handshake_is_complete(const struct noise_handshake *hs)
{
	return hs != NULL && hs->step == NOISE_STEP_SPLIT;
}

int
noise_handshake_remote_static(const struct noise_handshake *hs, uint8_t out[NOISE_KEY_LEN])
{
	if (hs == NULL || out == NULL)
		return -EINVAL;
	if (!hs->initiator && hs->step == NOISE_STEP_READ_1)
		return -EINVAL;
	memcpy(out, hs->rs, NOISE_KEY_LEN);
	return 0;
}

int
noise_handshake_hash(const struct noise_handshake *hs, uint8_t *out, size_t cap)
{
	if (hs == NULL || out == NULL)
		return -EINVAL;
	if (hs->step != NOISE_STEP_SPLIT && hs->step != NOISE_STEP_DONE)
		return -EINVAL;
	if (cap < hs->suite.hash_len)
		return -EMSGSIZE;
	memcpy(out, hs->h, hs->suite.hash_len);
	return (int)hs->suite.hash_len;
}

int
noise_handshake_split(struct noise_handshake *hs, struct noise_cipher *send,
    struct noise_cipher *recv)
{
	uint8_t k1[NOISE_HASH_MAX], k2[NOISE_HASH_MAX];
	uint8_t h[NOISE_HASH_MAX], rs[NOISE_KEY_LEN];
	struct noise_suite suite;
	bool initiator;
	int err;

	if (hs == NULL || send == NULL || recv == NULL || hs->step != NOISE_STEP_SPLIT)
		return -EINVAL;
	err = noise_hkdf2(&hs->suite, hs->ck, NULL, 0, k1, k2);
	if (err != 0)
		goto out;
	memset(send, 0, sizeof(*send));
	memset(recv, 0, sizeof(*recv));
	send->cipher = recv->cipher = hs->suite.cipher;
	send->has_key = recv->has_key = true;
	/* k1 protects initiator -> responder, k2 the other way. */
	memcpy(send->key, hs->initiator ? k1 : k2, NOISE_KEY_LEN);
	memcpy(recv->key, hs->initiator ? k2 : k1, NOISE_KEY_LEN);

	/* Only public values survive the split: the hash, for channel binding, and rs. */
	suite = hs->suite;
	initiator = hs->initiator;
	memcpy(h, hs->h, sizeof(h));
	memcpy(rs, hs->rs, sizeof(rs));
	OPENSSL_cleanse(hs, sizeof(*hs));
	hs->suite = suite;
	hs->initiator = initiator;
	memcpy(hs->h, h, sizeof(h));
	memcpy(hs->rs, rs, sizeof(rs));
	hs->step = NOISE_STEP_DONE;
out:
	OPENSSL_cleanse(k1, sizeof(k1));
	OPENSSL_cleanse(k2, sizeof(k2));
	OPENSSL_cleanse(h, sizeof(h));
	return err;
}

void
noise_handshake_fini(struct noise_handshake *hs)
{
	if (hs != NULL)
		OPENSSL_cleanse(hs, sizeof(*hs));
}
