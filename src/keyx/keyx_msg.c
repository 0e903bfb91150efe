/*
 * Wire format of the key exchange: exact sizes, header, MACs, key derivation and
 * timestamps. The MAC is OpenSSL's BLAKE2SMAC (BLAKE2s in keyed mode) with a 16-byte
 * output, the same primitive as the handshake's hash, so a flood costs one BLAKE2s per
 * datagram before anything else.
 */
#include "keyx/keyx_msg.h"

#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

void
keyx_msg_header_encode(uint8_t *msg, enum keyx_msg_type type)
{
	msg[0] = (uint8_t)type;
	msg[1] = msg[2] = msg[3] = 0;
}

int
keyx_msg_decode_type(const uint8_t *msg, size_t len)
{
	static const size_t sizes[] = {
	    [KEYX_MSG_INIT] = KEYX_INIT_LEN,
	    [KEYX_MSG_RESP] = KEYX_RESP_LEN,
	    [KEYX_MSG_CONFIRM] = KEYX_CONFIRM_LEN,
	    [KEYX_MSG_COOKIE] = KEYX_COOKIE_MSG_LEN,
	};

	if (msg == NULL || len < KEYX_HEADER_LEN)
		return -EBADMSG;
	if (msg[0] < KEYX_MSG_INIT || msg[0] > KEYX_MSG_COOKIE)
		return -EBADMSG;
	if (msg[1] != 0 || msg[2] != 0 || msg[3] != 0 || len != sizes[msg[0]])
		return -EBADMSG;
	return msg[0];
}

size_t
keyx_msg_mac1_off(enum keyx_msg_type type)
{
	return type == KEYX_MSG_INIT ? KEYX_INIT_MAC1_OFF : KEYX_RESP_MAC1_OFF;
}

int
keyx_msg_derive_key(const char *label, const uint8_t public_key[KEYX_KEY_LEN],
    uint8_t out[KEYX_KEY_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 0;
	int rc = -EIO;

	if (ctx == NULL)
		return -ENOMEM;
	if (EVP_DigestInit_ex2(ctx, EVP_blake2s256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, label, strlen(label)) == 1 &&
	    EVP_DigestUpdate(ctx, public_key, KEYX_KEY_LEN) == 1 &&
	    EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == KEYX_KEY_LEN)
		rc = 0;
	EVP_MD_CTX_free(ctx);
	if (rc != 0)
		OPENSSL_cleanse(out, KEYX_KEY_LEN);
	return rc;
}

/* Fetched once: fetching per call would cost a provider lookup per datagram. */
static EVP_MAC *
keyx_msg_blake2smac(void)
{
	static EVP_MAC *mac;

	if (mac == NULL)
		mac = EVP_MAC_fetch(NULL, "BLAKE2SMAC", NULL);
	return mac;
}

int
keyx_msg_mac(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
    uint8_t out[KEYX_MAC_LEN])
{
	EVP_MAC *mac = keyx_msg_blake2smac();
	EVP_MAC_CTX *ctx;
	size_t size = KEYX_MAC_LEN, out_len = 0;
	OSSL_PARAM params[2];
	int rc = -EIO;

	if (mac == NULL)
		return -EIO;
	ctx = EVP_MAC_CTX_new(mac);
	if (ctx == NULL)
		return -ENOMEM;
	params[0] = OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(ctx, key, key_len, params) == 1 && EVP_MAC_update(ctx, data, len) == 1 &&
	    EVP_MAC_final(ctx, out, &out_len, KEYX_MAC_LEN) == 1 && out_len == KEYX_MAC_LEN)
		rc = 0;
	EVP_MAC_CTX_free(ctx);
	if (rc != 0)
		memset(out, 0, KEYX_MAC_LEN);
	return rc;
}

int
keyx_msg_macs_write(uint8_t *msg, enum keyx_msg_type type, const uint8_t mac1_key[KEYX_KEY_LEN],
    const uint8_t *cookie)
{
	size_t off = keyx_msg_mac1_off(type);
	int rc;

	rc = keyx_msg_mac(mac1_key, KEYX_KEY_LEN, msg, off, msg + off);
	if (rc != 0)
		return rc;
	if (cookie == NULL) {
		memset(msg + off + KEYX_MAC_LEN, 0, KEYX_MAC_LEN);
		return 0;
	}
	return keyx_msg_mac(cookie, KEYX_COOKIE_LEN, msg, off + KEYX_MAC_LEN,
	    msg + off + KEYX_MAC_LEN);
}

bool
keyx_msg_mac1_is_valid(const uint8_t *msg, enum keyx_msg_type type,
    const uint8_t mac1_key[KEYX_KEY_LEN])
{
	size_t off = keyx_msg_mac1_off(type);
	uint8_t want[KEYX_MAC_LEN];

	if (keyx_msg_mac(mac1_key, KEYX_KEY_LEN, msg, off, want) != 0)
		return false;
	return CRYPTO_memcmp(want, msg + off, KEYX_MAC_LEN) == 0;
}

bool
keyx_msg_mac2_is_valid(const uint8_t *msg, enum keyx_msg_type type,
    const uint8_t cookie[KEYX_COOKIE_LEN])
{
	size_t off = keyx_msg_mac1_off(type) + KEYX_MAC_LEN;
	uint8_t want[KEYX_MAC_LEN];

	if (keyx_msg_mac(cookie, KEYX_COOKIE_LEN, msg, off, want) != 0)
		return false;
	return CRYPTO_memcmp(want, msg + off, KEYX_MAC_LEN) == 0;
}

void
keyx_msg_timestamp_encode(uint64_t wall_ns, uint8_t out[KEYX_TIMESTAMP_LEN])
{
	uint64_t secs = (1ull << 62) + wall_ns / 1000000000ull;
	uint32_t nsec = (uint32_t)(wall_ns % 1000000000ull);

	keyx_put32(out, (uint32_t)(secs >> 32));
	keyx_put32(out + 4, (uint32_t)secs);
	keyx_put32(out + 8, nsec);
}
