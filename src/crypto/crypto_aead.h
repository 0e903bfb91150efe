/*
 * Payload encryption (svr-profile section 6): AES-256-GCM by default or
 * ChaCha20-Poly1305, on OpenSSL 3 EVP. One context per key and direction, made once
 * when the key is installed; sealing and opening reuse its preallocated EVP context,
 * so nothing is allocated per packet.
 *
 * Wire layout of an encrypted payload: ciphertext (same length as the plaintext, in
 * place) followed by a 24-byte trailer = 8-byte big-endian counter + 16-byte tag.
 *
 * Nonce (12 bytes) = 4 zero bytes + the 8-byte counter big-endian. The nonce never
 * repeats under one key as long as the sender never reuses a counter: the caller
 * counts from 0 and rekeys well before UINT64_MAX (which is refused).
 *
 * Associated data is the caller's: for payloads it is crypto_aead_ad_encode() (session
 * UUID + direction), so a payload can not be moved into another session or direction.
 *
 * Keys: the context keeps only OpenSSL's key schedule, which EVP_CIPHER_CTX_free()
 * cleanses; the rest of the context is cleansed too. Keys are never printed or logged.
 *
 * Threads: a context belongs to one worker at a time; calls on one context are not
 * thread-safe, different contexts are independent.
 */
#ifndef TERN_CRYPTO_AEAD_H
#define TERN_CRYPTO_AEAD_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_AEAD_KEY_LEN      32
#define CRYPTO_AEAD_NONCE_LEN    12
#define CRYPTO_AEAD_TAG_LEN      16
#define CRYPTO_AEAD_COUNTER_LEN  8
#define CRYPTO_AEAD_TRAILER_LEN  (CRYPTO_AEAD_COUNTER_LEN + CRYPTO_AEAD_TAG_LEN) /* 24 */
#define CRYPTO_AEAD_UUID_LEN     16
#define CRYPTO_AEAD_AD_LEN       (CRYPTO_AEAD_UUID_LEN + 1) /* uuid + direction */
#define CRYPTO_AEAD_MAX_DATA_LEN 65535                      /* more than any IP payload */

enum crypto_aead_alg {
	CRYPTO_AEAD_AES_256_GCM = 0, /* the default */
	CRYPTO_AEAD_CHACHA20_POLY1305 = 1,
};

/* The direction byte of the payload associated data. */
enum crypto_aead_dir {
	CRYPTO_AEAD_DIR_FORWARD = 0, /* from the session's initiator */
	CRYPTO_AEAD_DIR_REVERSE = 1,
};

struct crypto_aead;

/*
 * A context for alg with a copy of key (the caller zeroes its own copy). On success
 * *out is owned by the caller, to be freed with crypto_aead_free(). -EINVAL for an
 * unknown alg, -ENOMEM if OpenSSL can not allocate, -EIO if OpenSSL refuses the key.
 */
int crypto_aead_new(enum crypto_aead_alg alg, const uint8_t key[CRYPTO_AEAD_KEY_LEN],
    struct crypto_aead **out);

/* Zero the key and free the context; NULL is accepted. */
void crypto_aead_free(struct crypto_aead *ctx);

enum crypto_aead_alg crypto_aead_alg(const struct crypto_aead *ctx);

/* The stable name of an algorithm for logs and config: "aes-256-gcm", "chacha20-poly1305". */
const char *crypto_aead_alg_name(enum crypto_aead_alg alg);

/* Write the payload associated data: uuid (16 bytes) then the direction byte. */
void crypto_aead_ad_encode(uint8_t ad[CRYPTO_AEAD_AD_LEN], const uint8_t uuid[CRYPTO_AEAD_UUID_LEN],
    enum crypto_aead_dir dir);

/* The counter carried in a trailer (to check the replay window before opening). */
uint64_t crypto_aead_trailer_counter(const uint8_t trailer[CRYPTO_AEAD_TRAILER_LEN]);

/*
 * Encrypt data[0..len) in place under the nonce of counter, authenticating ad too, and
 * write the trailer (counter + tag). ad may be NULL when ad_len is 0, data when len is
 * 0. -ERANGE for counter UINT64_MAX, -EMSGSIZE for len or ad_len over
 * CRYPTO_AEAD_MAX_DATA_LEN, -EIO if OpenSSL fails (data is then unspecified).
 */
int crypto_aead_seal(struct crypto_aead *ctx, uint64_t counter, const uint8_t *ad, size_t ad_len,
    uint8_t *data, size_t len, uint8_t trailer[CRYPTO_AEAD_TRAILER_LEN]);

/*
 * Verify and decrypt data[0..len) in place with the counter and tag of trailer and ad.
 * 0: data is the plaintext. -EBADMSG: authentication failed and data is zeroed, so no
 * unauthenticated plaintext survives; the caller drops the packet (a trailer counter of
 * UINT64_MAX, which seal never writes, is -EBADMSG too). -EMSGSIZE as for seal. The replay window
 * is the caller's (crypto_replay.h).
 */
int crypto_aead_open(struct crypto_aead *ctx, const uint8_t *ad, size_t ad_len, uint8_t *data,
    size_t len, const uint8_t trailer[CRYPTO_AEAD_TRAILER_LEN]);

/*
 * The same with an explicit 12-byte nonce and a separate tag, for other nonce layouts
 * (the Noise handshake's, known-answer tests). Same errors as above.
 */
int crypto_aead_seal_nonce(struct crypto_aead *ctx, const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN],
    const uint8_t *ad, size_t ad_len, uint8_t *data, size_t len, uint8_t tag[CRYPTO_AEAD_TAG_LEN]);
int crypto_aead_open_nonce(struct crypto_aead *ctx, const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN],
    const uint8_t *ad, size_t ad_len, uint8_t *data, size_t len,
    const uint8_t tag[CRYPTO_AEAD_TAG_LEN]);

#endif
