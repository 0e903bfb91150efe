/*
 * Cookies and rate limits of the key exchange (keyx_cookie.h). Token buckets count in
 * thousandths of a token so integer arithmetic refills smoothly at any rate.
 */
#include "keyx/keyx_cookie.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "crypto/crypto_aead.h"
#include "lib/hash_fn.h"

int
keyx_cookie_init(struct keyx_cookie_state *cs, const uint8_t public_key[KEYX_KEY_LEN],
    uint32_t per_s_max, uint64_t seed, uint64_t now_ns)
{
	memset(cs, 0, sizeof(*cs));
	cs->per_s_max = per_s_max;
	cs->load_tokens_milli = (uint64_t)per_s_max * 1000;
	cs->load_last_ns = now_ns;
	cs->source_seed = seed;
	return keyx_msg_derive_key(KEYX_LABEL_COOKIE, public_key, cs->seal_key);
}

void
keyx_cookie_fini(struct keyx_cookie_state *cs)
{
	OPENSSL_cleanse(cs, sizeof(*cs));
}

bool
keyx_cookie_secret_is_stale(const struct keyx_cookie_state *cs, uint64_t now_ns)
{
	return !cs->has_secret || now_ns - cs->secret_ns >= KEYX_COOKIE_ROTATE_NS;
}

void
keyx_cookie_secret_set(struct keyx_cookie_state *cs, const uint8_t fresh[KEYX_KEY_LEN],
    uint64_t now_ns)
{
	memcpy(cs->secret, fresh, KEYX_KEY_LEN);
	cs->secret_ns = now_ns;
	cs->has_secret = true;
}

int
keyx_cookie_compute(const struct keyx_cookie_state *cs, const struct keyx_endpoint *from,
    uint8_t out[KEYX_COOKIE_LEN])
{
	uint8_t src[1 + 16 + 2];

	src[0] = from->addr.family;
	memcpy(src + 1, from->addr.bytes, 16);
	src[17] = (uint8_t)(from->port >> 8);
	src[18] = (uint8_t)from->port;
	return keyx_msg_mac(cs->secret, sizeof(cs->secret), src, sizeof(src), out);
}

/*
 * Refill a bucket of rate per second up to burst tokens, then take one if there is one.
 * Time is consumed only as far as it turned into whole thousandths, so frequent calls
 * (a flood) do not round the refill away.
 */
static bool
keyx_bucket_take(uint64_t *tokens_milli, uint64_t *last_ns, uint64_t rate, uint64_t burst,
    uint64_t now_ns)
{
	uint64_t cap = burst * 1000;

	if (now_ns > *last_ns && rate > 0) {
		__uint128_t elapsed = now_ns - *last_ns;
		__uint128_t add = elapsed * rate / 1000000;

		if (*tokens_milli + add >= cap) {
			*tokens_milli = cap;
			*last_ns = now_ns;
		} else {
			*tokens_milli += (uint64_t)add;
			*last_ns += (uint64_t)(add * 1000000 / rate);
		}
	} else if (*tokens_milli >= cap) {
		*last_ns = now_ns;
	}
	if (*tokens_milli < 1000)
		return false;
	*tokens_milli -= 1000;
	return true;
}

bool
keyx_cookie_load_take(struct keyx_cookie_state *cs, uint64_t now_ns)
{
	return keyx_bucket_take(&cs->load_tokens_milli, &cs->load_last_ns, cs->per_s_max,
	    cs->per_s_max, now_ns);
}

bool
keyx_cookie_source_take(struct keyx_cookie_state *cs, const struct addr *from, uint64_t now_ns)
{
	uint64_t h = hash_fn_bytes(cs->source_seed, from, sizeof(*from));
	struct keyx_source_bucket *set = cs->sources[h % KEYX_SOURCE_SETS];
	struct keyx_source_bucket *b = NULL;
	unsigned i;

	for (i = 0; i < KEYX_SOURCE_WAYS; i++)
		if (set[i].used && addr_equal(&set[i].addr, from)) {
			b = &set[i];
			break;
		}
	if (b == NULL) {
		/* A new source takes a free way or the least recently used one. */
		b = &set[0];
		for (i = 0; i < KEYX_SOURCE_WAYS; i++) {
			if (!set[i].used) {
				b = &set[i];
				break;
			}
			if (set[i].last_ns < b->last_ns)
				b = &set[i];
		}
		b->used = true;
		b->addr = *from;
		b->tokens_milli = KEYX_SOURCE_BURST * 1000;
		b->last_ns = now_ns;
	}
	return keyx_bucket_take(&b->tokens_milli, &b->last_ns, KEYX_SOURCE_PER_S, KEYX_SOURCE_BURST,
	    now_ns);
}

int
keyx_cookie_reply_encode(const struct keyx_cookie_state *cs, const struct keyx_endpoint *from,
    uint32_t receiver, const uint8_t mac1[KEYX_MAC_LEN], const uint8_t nonce[KEYX_COOKIE_NONCE_LEN],
    uint8_t *out)
{
	struct crypto_aead *aead = NULL;
	uint8_t *box = out + KEYX_COOKIE_BOX_OFF;
	int rc;

	keyx_msg_header_encode(out, KEYX_MSG_COOKIE);
	keyx_put32(out + KEYX_COOKIE_RECEIVER_OFF, receiver);
	memcpy(out + KEYX_COOKIE_NONCE_OFF, nonce, KEYX_COOKIE_NONCE_LEN);
	rc = keyx_cookie_compute(cs, from, box);
	if (rc == 0)
		rc = crypto_aead_new(CRYPTO_AEAD_CHACHA20_POLY1305, cs->seal_key, &aead);
	if (rc == 0)
		rc = crypto_aead_seal_nonce(aead, nonce, mac1, KEYX_MAC_LEN, box, KEYX_COOKIE_LEN,
		    box + KEYX_COOKIE_LEN);
	crypto_aead_free(aead);
	if (rc != 0)
		OPENSSL_cleanse(out, KEYX_COOKIE_MSG_LEN);
	return rc;
}

int
keyx_cookie_reply_decode(const uint8_t seal_key[KEYX_KEY_LEN], const uint8_t *msg,
    const uint8_t mac1[KEYX_MAC_LEN], uint8_t cookie[KEYX_COOKIE_LEN])
{
	struct crypto_aead *aead = NULL;
	int rc;

	memcpy(cookie, msg + KEYX_COOKIE_BOX_OFF, KEYX_COOKIE_LEN);
	rc = crypto_aead_new(CRYPTO_AEAD_CHACHA20_POLY1305, seal_key, &aead);
	if (rc == 0)
		rc = crypto_aead_open_nonce(aead, msg + KEYX_COOKIE_NONCE_OFF, mac1, KEYX_MAC_LEN,
		    cookie, KEYX_COOKIE_LEN, msg + KEYX_COOKIE_BOX_OFF + KEYX_COOKIE_LEN);
	crypto_aead_free(aead);
	if (rc != 0) {
		OPENSSL_cleanse(cookie, KEYX_COOKIE_LEN);
		return -EBADMSG;
	}
	return 0;
}
