/*
 * Per-peer key slots of the SVR data path (svr-profile section 6, docs/protocol.md
 * "Security"): what one worker holds for one peer router. The key exchange (src/keyx)
 * makes the keys; the router turns its events into the calls below on the worker
 * thread; the transforms seal and open with the slots.
 *
 * - One send slot: the context for the key the peer receives on, the peer's receive
 *   index, and the next sequence number (one nonce space per key, shared by sealed
 *   metadata and encrypted payloads).
 * - Up to SVR_KEYS_RECV_SLOTS receive slots: the context, our receive index and a
 *   replay window each, so the previous key keeps opening packets in flight during a
 *   rekey overlap.
 *
 * Counter on the wire (the first 8 bytes of every 24-byte trailer, big-endian): the top
 * byte is the low byte of the receiver's index, the low 56 bits the sequence. The
 * receiver picks its slot from that byte; the key exchange guarantees that the live
 * receive keys of one peer differ in their index's low byte. Sequences run
 * 0 .. SVR_KEYS_SEQ_LIMIT - 1; a sender at the limit drops (SEC_KEY_EXHAUSTED) until
 * it is rekeyed. Sealed metadata also carries the full index (security id TLV 16).
 *
 * Ownership: install and expire take ownership of the context they are given and
 * return the one they displaced (or NULL) for the caller to crypto_aead_free() off the
 * data path; nothing here frees or allocates except svr_peer_keys_fini().
 *
 * Threads: a struct svr_peer_keys belongs to one worker; no locks.
 */
#ifndef TERN_SVR_KEYS_H
#define TERN_SVR_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto_aead.h"
#include "crypto/crypto_replay.h"

#define SVR_KEYS_RECV_SLOTS 3
#define SVR_KEYS_SEQ_BITS   56
/* Sequences 0 .. limit - 1 are sent; with index byte 0xff the limit would be UINT64_MAX. */
#define SVR_KEYS_SEQ_LIMIT ((1ull << SVR_KEYS_SEQ_BITS) - 1)
#define SVR_KEYS_SEQ_MASK  ((1ull << SVR_KEYS_SEQ_BITS) - 1)
/* Most contexts svr_peer_keys_clear() may hand back. */
#define SVR_KEYS_CTX_MAX (SVR_KEYS_RECV_SLOTS + 1)

struct svr_send_key {
	struct crypto_aead *aead; /* NULL: no send key (SEC_NO_KEY) */
	uint32_t peer_index;      /* the peer's receive index: security id, counter top byte */
	uint64_t next_seq;        /* next sequence to use; reset by install_send */
};

struct svr_recv_key {
	struct crypto_aead *aead; /* NULL: slot empty */
	uint32_t index;           /* our receive index */
	uint32_t age;             /* install order: the oldest slot is evicted first */
	struct crypto_replay replay;
};

struct svr_peer_key_stats {
	uint64_t sealed;        /* packets sealed (metadata, payload or both) */
	uint64_t opened;        /* packets opened */
	uint64_t auth_failed;   /* SEC_AUTH_FAILED */
	uint64_t replayed;      /* SEC_REPLAY */
	uint64_t unknown_index; /* SEC_UNKNOWN_KEY_INDEX */
	uint64_t recv_installs; /* install_recv calls */
	uint64_t send_installs; /* install_send calls */
};

struct svr_peer_keys {
	struct svr_send_key send;
	struct svr_recv_key recv[SVR_KEYS_RECV_SLOTS];
	uint32_t age_next;
	struct svr_peer_key_stats stats;
};

/* Empty slots, zero stats. */
void svr_peer_keys_init(struct svr_peer_keys *k);

/*
 * Installs a receive key with our index. Takes ownership of aead. Replaces the slot
 * with the same index, else a slot whose index has the same low byte (it can not be
 * live), else an empty slot, else the oldest. Returns the displaced context or NULL.
 */
struct crypto_aead *svr_peer_keys_install_recv(struct svr_peer_keys *k, uint32_t index,
    struct crypto_aead *aead);

/*
 * Installs the send key (the peer receives on peer_index); the sequence restarts at 0.
 * Takes ownership of aead; returns the previous send context or NULL.
 */
struct crypto_aead *svr_peer_keys_install_send(struct svr_peer_keys *k, uint32_t peer_index,
    struct crypto_aead *aead);

/* Removes the receive key with our index; returns its context, NULL if none. */
struct crypto_aead *svr_peer_keys_expire_recv(struct svr_peer_keys *k, uint32_t index);

/*
 * Removes every key (the peer went away or its session was reset): the contexts go to
 * freed[0 .. *n), at most SVR_KEYS_CTX_MAX. Stats are kept.
 */
void svr_peer_keys_clear(struct svr_peer_keys *k, struct crypto_aead *freed[SVR_KEYS_CTX_MAX],
    unsigned *n);

/* Frees every context (crypto_aead_free) and empties the slots. */
void svr_peer_keys_fini(struct svr_peer_keys *k);

/* The next send sequence (packets sent on the current send key), for the rekey limit. */
static inline uint64_t
svr_peer_keys_send_count(const struct svr_peer_keys *k)
{
	return k->send.next_seq;
}

static inline bool
svr_peer_keys_can_send(const struct svr_peer_keys *k)
{
	return k->send.aead != NULL;
}

/* The receive slot holding our index, or NULL. */
struct svr_recv_key *svr_peer_keys_find_recv(struct svr_peer_keys *k, uint32_t index);

/* The receive slot a trailer counter selects (its top byte), or NULL. */
struct svr_recv_key *svr_peer_keys_recv_by_counter(struct svr_peer_keys *k, uint64_t counter);

/*
 * Data path. Seal data[0..len) in place with the send key and write the trailer, using
 * the next sequence. 0; -ENOKEY (no send key), -ERANGE (sequence limit reached), -EIO.
 */
int svr_peer_keys_seal(struct svr_peer_keys *k, const uint8_t *ad, size_t ad_len, uint8_t *data,
    size_t len, uint8_t trailer[CRYPTO_AEAD_TRAILER_LEN]);

/*
 * Open data[0..len) in place with the receive slot r (from the lookups above): checks
 * the replay window, opens, then updates the window. 0; -EALREADY/-ESTALE (replay, data
 * untouched); -EBADMSG (authentication failed: data zeroed, the window unchanged).
 * Counts in k->stats.
 */
int svr_peer_keys_open(struct svr_peer_keys *k, struct svr_recv_key *r, const uint8_t *ad,
    size_t ad_len, uint8_t *data, size_t len, const uint8_t trailer[CRYPTO_AEAD_TRAILER_LEN]);

#endif
