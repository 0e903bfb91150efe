/*
 * The Noise IK handshake (Noise Protocol Framework, revision 34) between two routers'
 * static X25519 keys, as WireGuard uses it: the initiator knows the responder's static
 * key in advance, sends it an ephemeral key and its own static key (encrypted) in one
 * message, and the responder answers with one message; both sides then split the
 * chaining key into a send and a receive CipherState.
 *
 *   <- s
 *   ...
 *   -> e, es, s, ss      message 1: 32 + 48 + payload + 16 bytes
 *   <- e, ee, se         message 2: 32 + payload + 16 bytes
 *
 * Suites: DH 25519 only; cipher ChaChaPoly or AESGCM; hash SHA256, SHA512, BLAKE2s or
 * BLAKE2b. Every primitive is OpenSSL 3 EVP; nothing here is our own cryptography.
 *
 * Invariants: a failed call (any negative return) leaves the handshake or cipher
 * exactly as it was before the call, so a forged or corrupted message cannot disturb a
 * handshake in progress; a nonce advances only when a message was sealed or opened.
 * Keys live only in these structures, are wiped with OPENSSL_cleanse() by the _fini
 * calls and on every internal path, and are never printed.
 *
 * The responder learns the initiator's static key from message 1; the caller must
 * check it (noise_handshake_remote_static()) against its configured peers before it
 * answers: IK authenticates the key, not whether the key is welcome.
 *
 * Threads: a handshake or cipher belongs to one thread at a time; no shared state.
 * These calls allocate OpenSSL contexts, so they are for the control plane (the
 * handshake and its tests); the data plane takes the split keys into its own AEAD.
 */
#ifndef TERN_CRYPTO_CRYPTO_NOISE_H
#define TERN_CRYPTO_CRYPTO_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	NOISE_KEY_LEN = 32,          /* X25519 keys and cipher keys */
	NOISE_TAG_LEN = 16,          /* AEAD tag */
	NOISE_HASH_MAX = 64,         /* longest HASHLEN (SHA512, BLAKE2b) */
	NOISE_MESSAGE_MAX = 65535,   /* Noise's limit on any message */
	NOISE_PROTOCOL_NAME_MAX = 48 /* "Noise_IK_25519_ChaChaPoly_BLAKE2b" and NUL */
};

enum noise_cipher_id {
	NOISE_CIPHER_CHACHAPOLY,
	NOISE_CIPHER_AESGCM,
};

enum noise_hash_id {
	NOISE_HASH_SHA256,
	NOISE_HASH_SHA512,
	NOISE_HASH_BLAKE2S,
	NOISE_HASH_BLAKE2B,
};

struct noise_suite {
	enum noise_cipher_id cipher;
	enum noise_hash_id hash;
	size_t hash_len; /* HASHLEN: 32 or 64 */
	char protocol_name[NOISE_PROTOCOL_NAME_MAX];
};

/* A Noise CipherState: no key means messages pass in clear (Noise's empty key). */
struct noise_cipher {
	enum noise_cipher_id cipher;
	bool has_key;
	uint8_t key[NOISE_KEY_LEN];
	uint64_t nonce; /* next nonce; 2^64-1 is reserved and never used */
};

enum noise_handshake_step {
	NOISE_STEP_WRITE_1, /* initiator, before message 1 */
	NOISE_STEP_READ_1,  /* responder, before message 1 */
	NOISE_STEP_READ_2,  /* initiator, after message 1 */
	NOISE_STEP_WRITE_2, /* responder, after message 1 */
	NOISE_STEP_SPLIT,   /* both messages done: noise_handshake_split() */
	NOISE_STEP_DONE,    /* split (or finished): nothing more */
};

struct noise_handshake {
	struct noise_suite suite;
	bool initiator;
	bool has_e;
	enum noise_handshake_step step;
	uint8_t ck[NOISE_HASH_MAX];
	uint8_t h[NOISE_HASH_MAX];
	struct noise_cipher cs;
	uint8_t s_priv[NOISE_KEY_LEN];
	uint8_t s_pub[NOISE_KEY_LEN];
	uint8_t e_priv[NOISE_KEY_LEN];
	uint8_t e_pub[NOISE_KEY_LEN];
	uint8_t rs[NOISE_KEY_LEN]; /* responder's static (initiator) or learned (responder) */
	uint8_t re[NOISE_KEY_LEN];
};

/*
 * Choose a suite by its parts: cipher "ChaChaPoly" or "AESGCM", hash "SHA256",
 * "SHA512", "BLAKE2s" or "BLAKE2b" (Noise's spelling). -ENOTSUP for anything else,
 * -EINVAL for NULL.
 */
int noise_suite_init(struct noise_suite *suite, const char *cipher, const char *hash);
/* The same from a full protocol name, "Noise_IK_25519_<cipher>_<hash>"; -ENOTSUP else. */
int noise_suite_parse(struct noise_suite *suite, const char *protocol_name);

/*
 * Start one side of a handshake. s_priv is this side's static private key (copied);
 * rs_pub is the responder's static public key, required for the initiator (IK) and
 * ignored (may be NULL) for the responder. The prologue (may be NULL if 0 long) must be
 * the same on both sides. Returns 0, -EINVAL for a missing key or a bad private key,
 * -EMSGSIZE for a prologue over NOISE_MESSAGE_MAX, -ENOMEM / -EIO if OpenSSL fails.
 * On failure the handshake is wiped; call noise_handshake_fini() in every case.
 */
int noise_handshake_init(struct noise_handshake *hs, const struct noise_suite *suite,
    bool initiator, const uint8_t *prologue, size_t prologue_len,
    const uint8_t s_priv[NOISE_KEY_LEN], const uint8_t *rs_pub);

/*
 * Use a fixed ephemeral private key instead of a random one: for test vectors only.
 * -EINVAL after this side has written its message (its ephemeral is used by then).
 */
int noise_handshake_set_ephemeral(struct noise_handshake *hs, const uint8_t e_priv[NOISE_KEY_LEN]);

/*
 * Write this side's next handshake message (message 1 for the initiator, message 2 for
 * the responder) carrying payload (may be NULL if 0 long) into out[0..cap). *out_len is
 * set to its exact size. -EINVAL if it is not this side's turn to write, -EMSGSIZE if
 * out is too small or the message would exceed NOISE_MESSAGE_MAX, -EBADMSG if a Diffie-
 * Hellman result is all zero (the peer's static or ephemeral key is a low-order point),
 * -EIO / -ENOMEM if OpenSSL fails. out is wiped on failure.
 */
int noise_handshake_write_message(struct noise_handshake *hs, const uint8_t *payload,
    size_t payload_len, uint8_t *out, size_t cap, size_t *out_len);

/*
 * Read the peer's handshake message msg[0..len) and decrypt its payload into
 * payload_out[0..cap) (*payload_len set). -EINVAL if it is not this side's turn to
 * read, -EBADMSG if the message is too short, too long or does not authenticate (a
 * wrong key, a changed byte, a low-order ephemeral key), -EMSGSIZE if payload_out is too
 * small, -EIO / -ENOMEM if OpenSSL fails. The handshake is unchanged on any failure and
 * payload_out holds no unauthenticated plaintext.
 */
int noise_handshake_read_message(struct noise_handshake *hs, const uint8_t *msg, size_t len,
    uint8_t *payload_out, size_t cap, size_t *payload_len);

/* True once both messages are done and noise_handshake_split() may be called. */
bool noise_handshake_is_complete(const struct noise_handshake *hs);

/*
 * The peer's static public key: known from init on the initiator, learned from message
 * 1 on the responder (and kept after the split). -EINVAL before the responder has read
 * message 1.
 */
int noise_handshake_remote_static(const struct noise_handshake *hs, uint8_t out[NOISE_KEY_LEN]);

/*
 * The handshake hash h (channel binding), suite.hash_len bytes into out[0..cap).
 * Returns the length, -EINVAL before the handshake is complete, -EMSGSIZE if cap is
 * short.
 */
int noise_handshake_hash(const struct noise_handshake *hs, uint8_t *out, size_t cap);

/*
 * Derive the transport CipherStates: send encrypts this side's messages, recv decrypts
 * the peer's. The handshake's keys are wiped and it moves to NOISE_STEP_DONE (the hash
 * and the remote static key stay readable). -EINVAL if the handshake is not complete, -EIO if
 * OpenSSL fails.
 */
int noise_handshake_split(struct noise_handshake *hs, struct noise_cipher *send,
    struct noise_cipher *recv);

/* Wipe every key of the handshake. Safe on a zeroed or finished handshake. */
void noise_handshake_fini(struct noise_handshake *hs);

/*
 * Transport message: seal pt[0..len) with associated data ad (may be NULL if 0 long)
 * into out (len + NOISE_TAG_LEN bytes, or len if the cipher has no key), then advance
 * the nonce. -EMSGSIZE if out is too small or the message exceeds NOISE_MESSAGE_MAX,
 * -EOVERFLOW when the nonces are exhausted, -EIO / -ENOMEM if OpenSSL fails.
 */
int noise_cipher_encrypt(struct noise_cipher *c, const uint8_t *ad, size_t ad_len,
    const uint8_t *pt, size_t len, uint8_t *out, size_t cap, size_t *out_len);

/*
 * Open ct[0..len) into out (len - NOISE_TAG_LEN bytes) and advance the nonce.
 * -EBADMSG if it is shorter than a tag or does not authenticate (nonce unchanged),
 * -EMSGSIZE if out is too small or ct exceeds NOISE_MESSAGE_MAX, -EOVERFLOW when the
 * nonces are exhausted, -EIO / -ENOMEM if OpenSSL fails.
 */
int noise_cipher_decrypt(struct noise_cipher *c, const uint8_t *ad, size_t ad_len,
    const uint8_t *ct, size_t len, uint8_t *out, size_t cap, size_t *out_len);

/* Wipe the key. Safe on a zeroed cipher. */
void noise_cipher_fini(struct noise_cipher *c);

#endif
