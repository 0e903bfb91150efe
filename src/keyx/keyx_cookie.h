/*
 * Denial-of-service defences of the key exchange, as WireGuard's: a global token
 * bucket decides when the router is "under load"; under load a handshake message
 * without a valid mac2 gets a cookie reply instead of a Diffie-Hellman, and one with a
 * valid mac2 passes a per-source-address token bucket. Everything is fixed-size: a
 * flood allocates nothing.
 *
 *   cookie       = BLAKE2s-MAC-128(secret, family || address (16) || port (2, BE))
 *                  with a random 32-byte secret replaced every KEYX_COOKIE_ROTATE_NS
 *   cookie reply = ChaCha20-Poly1305(key = BLAKE2s-256("tern keyx cookie v1" || the
 *                  replier's static public key), nonce = 12 random bytes,
 *                  AD = mac1 of the message answered, plaintext = cookie)
 *
 * Threads: one owner thread, like struct keyx.
 */
#ifndef TERN_KEYX_KEYX_COOKIE_H
#define TERN_KEYX_KEYX_COOKIE_H

#include <stdbool.h>
#include <stdint.h>

#include "keyx/keyx.h"
#include "keyx/keyx_msg.h"

enum {
	KEYX_SOURCE_SETS = 256, /* per-source buckets: sets x ways entries */
	KEYX_SOURCE_WAYS = 4,
	KEYX_SOURCE_PER_S = 20, /* handshakes per second per source address */
	KEYX_SOURCE_BURST = 5,
};

struct keyx_source_bucket {
	struct addr addr;
	uint64_t tokens_milli; /* thousandths of a token */
	uint64_t last_ns;
	bool used;
};

struct keyx_cookie_state {
	uint8_t secret[KEYX_KEY_LEN];
	uint64_t secret_ns;
	bool has_secret;
	uint8_t seal_key[KEYX_KEY_LEN]; /* from our own static public key */
	/* Global bucket: handshake messages per second before "under load". */
	uint32_t per_s_max;
	uint64_t load_tokens_milli;
	uint64_t load_last_ns;
	uint64_t source_seed;
	struct keyx_source_bucket sources[KEYX_SOURCE_SETS][KEYX_SOURCE_WAYS];
};

/*
 * Set up with our own static public key, the global rate and a hash seed. The secret is
 * made lazily by keyx_cookie_secret_refresh(). -EIO if OpenSSL fails.
 */
int keyx_cookie_init(struct keyx_cookie_state *cs, const uint8_t public_key[KEYX_KEY_LEN],
    uint32_t per_s_max, uint64_t seed, uint64_t now_ns);
void keyx_cookie_fini(struct keyx_cookie_state *cs);

/* Whether the secret is missing or older than KEYX_COOKIE_ROTATE_NS (then fresh is used). */
bool keyx_cookie_secret_is_stale(const struct keyx_cookie_state *cs, uint64_t now_ns);
void keyx_cookie_secret_set(struct keyx_cookie_state *cs, const uint8_t fresh[KEYX_KEY_LEN],
    uint64_t now_ns);

/* The cookie of a source endpoint under the current secret. -EIO if OpenSSL fails. */
int keyx_cookie_compute(const struct keyx_cookie_state *cs, const struct keyx_endpoint *from,
    uint8_t out[KEYX_COOKIE_LEN]);

/* Takes a token of the global bucket; false means "under load". */
bool keyx_cookie_load_take(struct keyx_cookie_state *cs, uint64_t now_ns);

/* Takes a token of from's source-address bucket; false means rate limited. */
bool keyx_cookie_source_take(struct keyx_cookie_state *cs, const struct addr *from,
    uint64_t now_ns);

/*
 * Write a cookie reply (KEYX_COOKIE_MSG_LEN bytes) to out answering a message with
 * sender index receiver and mac1, from the source from. -EIO if OpenSSL fails.
 */
int keyx_cookie_reply_encode(const struct keyx_cookie_state *cs, const struct keyx_endpoint *from,
    uint32_t receiver, const uint8_t mac1[KEYX_MAC_LEN], const uint8_t nonce[KEYX_COOKIE_NONCE_LEN],
    uint8_t *out);

/*
 * Open a cookie reply with the replier's sealing key (derived from its public key) and
 * the mac1 of the message we sent it. -EBADMSG if it does not authenticate.
 */
int keyx_cookie_reply_decode(const uint8_t seal_key[KEYX_KEY_LEN], const uint8_t *msg,
    const uint8_t mac1[KEYX_MAC_LEN], uint8_t cookie[KEYX_COOKIE_LEN]);

#endif
