/*
 * Wire format of the key exchange (docs/protocol.md, "Peer key exchange"): four
 * message types of exact sizes, a 4-byte header (type, three zero bytes), big-endian
 * indices, and the two MACs that let a responder drop garbage before any
 * Diffie-Hellman:
 *
 *   mac1 = BLAKE2s-MAC-128(key = BLAKE2s-256("tern keyx mac1 v1" || recipient's static
 *          public key), message up to mac1)
 *   mac2 = BLAKE2s-MAC-128(key = cookie, message up to mac2), zero without a cookie
 *
 * Threads: pure functions; the MAC calls allocate an OpenSSL context (control plane).
 */
#ifndef TERN_KEYX_KEYX_MSG_H
#define TERN_KEYX_KEYX_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keyx/keyx.h"

enum keyx_msg_type {
	KEYX_MSG_INIT = 1,    /* message 1, initiator -> responder */
	KEYX_MSG_RESP = 2,    /* message 2, responder -> initiator */
	KEYX_MSG_CONFIRM = 3, /* message 3, initiator -> responder */
	KEYX_MSG_COOKIE = 4,  /* message 4, cookie reply */
};

enum {
	KEYX_MAC_LEN = 16,
	KEYX_COOKIE_LEN = 16,
	KEYX_TIMESTAMP_LEN = 12,
	KEYX_TAG_LEN = 16,
	KEYX_COOKIE_NONCE_LEN = 12,
	KEYX_HEADER_LEN = 4,

	/* Noise message 1: e (32), encrypted s (32 + 16), encrypted timestamp (12 + 16). */
	KEYX_NOISE1_LEN = 32 + 48 + KEYX_TIMESTAMP_LEN + KEYX_TAG_LEN,
	/* Noise message 2: e (32), encrypted empty payload (16). */
	KEYX_NOISE2_LEN = 32 + KEYX_TAG_LEN,

	KEYX_INIT_SENDER_OFF = 4,
	KEYX_INIT_NOISE_OFF = 8,
	KEYX_INIT_MAC1_OFF = KEYX_INIT_NOISE_OFF + KEYX_NOISE1_LEN, /* 116 */
	KEYX_INIT_MAC2_OFF = KEYX_INIT_MAC1_OFF + KEYX_MAC_LEN,     /* 132 */
	KEYX_INIT_LEN = KEYX_INIT_MAC2_OFF + KEYX_MAC_LEN,          /* 148 */

	KEYX_RESP_SENDER_OFF = 4,
	KEYX_RESP_RECEIVER_OFF = 8,
	KEYX_RESP_NOISE_OFF = 12,
	KEYX_RESP_MAC1_OFF = KEYX_RESP_NOISE_OFF + KEYX_NOISE2_LEN, /* 60 */
	KEYX_RESP_MAC2_OFF = KEYX_RESP_MAC1_OFF + KEYX_MAC_LEN,     /* 76 */
	KEYX_RESP_LEN = KEYX_RESP_MAC2_OFF + KEYX_MAC_LEN,          /* 92 */

	KEYX_CONFIRM_RECEIVER_OFF = 4,
	KEYX_CONFIRM_TAG_OFF = 8,
	KEYX_CONFIRM_LEN = KEYX_CONFIRM_TAG_OFF + KEYX_TAG_LEN, /* 24 */

	KEYX_COOKIE_RECEIVER_OFF = 4,
	KEYX_COOKIE_NONCE_OFF = 8,
	KEYX_COOKIE_BOX_OFF = KEYX_COOKIE_NONCE_OFF + KEYX_COOKIE_NONCE_LEN,        /* 20 */
	KEYX_COOKIE_MSG_LEN = KEYX_COOKIE_BOX_OFF + KEYX_COOKIE_LEN + KEYX_TAG_LEN, /* 52 */
};

/*
 * The Noise nonce of the confirm message under the initiator's new send key: the
 * highest nonce Noise allows. The data path's nonce for counter c is 4 zero bytes + c
 * big-endian, Noise's is 4 zero bytes + n little-endian; 2^64-2 in either byte order is
 * a counter with a 56-bit sequence of at least 2^56-2, which the data path never uses
 * (KEYX_DATA_SEQ_MAX), so the confirm never shares a nonce with a data packet.
 */
#define KEYX_CONFIRM_NONCE (UINT64_MAX - 1)

/* The Noise prologue, binding both sides to this protocol and version. */
#define KEYX_PROLOGUE "tern keyx v1"

static inline void
keyx_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t
keyx_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Writes type and the three zero bytes. */
void keyx_msg_header_encode(uint8_t *msg, enum keyx_msg_type type);

/*
 * The type of msg[0..len) if its length is exactly that type's and the reserved bytes
 * are zero; -EBADMSG otherwise (an unknown type too).
 */
int keyx_msg_decode_type(const uint8_t *msg, size_t len);

/* The offset of mac1 in a message of this type (INIT or RESP only). */
size_t keyx_msg_mac1_off(enum keyx_msg_type type);

/*
 * Derive a 32-byte key as BLAKE2s-256(label || public_key): the mac1 key ("tern keyx
 * mac1 v1") and the cookie sealing key ("tern keyx cookie v1") of the owner of
 * public_key. -EIO if OpenSSL fails.
 */
int keyx_msg_derive_key(const char *label, const uint8_t public_key[KEYX_KEY_LEN],
    uint8_t out[KEYX_KEY_LEN]);
#define KEYX_LABEL_MAC1   "tern keyx mac1 v1"
#define KEYX_LABEL_COOKIE "tern keyx cookie v1"

/* BLAKE2s-MAC-128 of data under key (1..32 bytes). -EIO if OpenSSL fails. */
int keyx_msg_mac(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
    uint8_t out[KEYX_MAC_LEN]);

/*
 * Fill mac1 (with mac1_key) and mac2 (with cookie, or zero if cookie is NULL) of an
 * INIT or RESP message whose body is written. -EIO if OpenSSL fails.
 */
int keyx_msg_macs_write(uint8_t *msg, enum keyx_msg_type type, const uint8_t mac1_key[KEYX_KEY_LEN],
    const uint8_t *cookie);

/* Whether mac1 (resp. mac2 under cookie) of an INIT or RESP message is right. */
bool keyx_msg_mac1_is_valid(const uint8_t *msg, enum keyx_msg_type type,
    const uint8_t mac1_key[KEYX_KEY_LEN]);
bool keyx_msg_mac2_is_valid(const uint8_t *msg, enum keyx_msg_type type,
    const uint8_t cookie[KEYX_COOKIE_LEN]);

/*
 * TAI64N-style timestamp of wall-clock ns: 8 bytes 2^62 + seconds, 4 bytes
 * nanoseconds, big-endian, so byte order is time order.
 */
void keyx_msg_timestamp_encode(uint64_t wall_ns, uint8_t out[KEYX_TIMESTAMP_LEN]);

#endif
