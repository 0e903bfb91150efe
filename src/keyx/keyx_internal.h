/*
 * State of the key exchange shared by keyx.c (lifecycle, timers, status) and
 * keyx_receive.c (the four message handlers). Not for use outside src/keyx.
 *
 * Per peer, up to KEYX_PAIRS key pairs, each in one state:
 *   PENDING  responder side after writing message 2: receive key installed, send key
 *            held back until the confirm message (or a first data packet) arrives;
 *   CURRENT  the pair whose send key is installed (at most one);
 *   OLD      receive key only, until expire_ns (overlap after a newer pair took over).
 * plus at most one initiation in flight (our message 1 waiting for message 2). Every
 * live receive index (pairs and initiation) is in by_index, mapped to
 * peer_id * KEYX_SLOTS + slot (slot KEYX_SLOT_INIT for the initiation).
 */
#ifndef TERN_KEYX_KEYX_INTERNAL_H
#define TERN_KEYX_KEYX_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/crypto_noise.h"
#include "keyx/keyx.h"
#include "keyx/keyx_cookie.h"
#include "keyx/keyx_msg.h"
#include "lib/hash.h"

enum {
	KEYX_PAIRS = 4,
	KEYX_SLOT_INIT = KEYX_PAIRS,
	KEYX_SLOTS = 8,
	/* Most events one peer's tick appends: expiries of all pairs, then a message 1. */
	KEYX_TICK_EVENTS_PER_PEER = 2 * KEYX_PAIRS + 2,
};

enum keyx_pair_state {
	KEYX_PAIR_FREE,
	KEYX_PAIR_PENDING,
	KEYX_PAIR_CURRENT,
	KEYX_PAIR_OLD,
};

struct keyx_pair {
	enum keyx_pair_state state;
	bool initiator; /* we sent message 1 of this pair */
	uint32_t local_index, remote_index;
	uint64_t created_ns;
	/*
	 * The reject_after it lives under: the module's when it was made, raised (never
	 * lowered) by keyx_set_timers(), so a reload never cuts a live key short.
	 */
	uint64_t reject_after_ns;
	uint64_t expire_ns; /* OLD: end of the overlap */
	/* PENDING only, wiped when the pair leaves PENDING. */
	uint8_t send_key[KEYX_KEY_LEN];
	uint8_t confirm_key[KEYX_KEY_LEN]; /* the receive key, to open the confirm */
};

struct keyx_initiation {
	bool active;
	struct noise_handshake hs;
	uint32_t local_index;
	uint64_t next_retry_ns;
};

struct keyx_peer {
	uint8_t public_key[KEYX_KEY_LEN];
	bool passive;                          /* struct keyx_peer_config.passive */
	uint8_t mac1_key[KEYX_KEY_LEN];        /* mac1 of what we send to the peer */
	uint8_t cookie_open_key[KEYX_KEY_LEN]; /* opens the peer's cookie replies */
	struct keyx_pair pairs[KEYX_PAIRS];
	struct keyx_initiation init;
	uint64_t attempt_start_ns;
	uint8_t cookie[KEYX_COOKIE_LEN]; /* from the peer's cookie reply */
	uint64_t cookie_ns;
	bool has_cookie;
	uint8_t last_mac1[KEYX_MAC_LEN]; /* of our last message 1 or 2 to the peer */
	bool has_last_mac1;
	uint8_t last_timestamp[KEYX_TIMESTAMP_LEN]; /* newest accepted message 1 */
	bool has_timestamp;
	uint64_t sent_packets;
	struct keyx_peer_status status; /* counters and times; state fields filled on read */
};

struct keyx {
	uint8_t private_key[KEYX_KEY_LEN];
	uint8_t public_key[KEYX_KEY_LEN];
	uint8_t mac1_key[KEYX_KEY_LEN]; /* checks mac1 of what we receive */
	uint64_t rekey_after_ns, rekey_after_messages, reject_after_ns, overlap_ns, retry_ns;
	struct noise_suite suite;
	struct noise_handshake responder; /* initialised once, copied per message 1 */
	struct keyx_peer *peers;
	uint32_t peer_count;
	uint32_t tick_cursor;
	struct hash *by_index; /* 4-byte receive index -> peer_id * KEYX_SLOTS + slot */
	struct hash *by_key;   /* 32-byte static public key -> peer_id */
	struct keyx_cookie_state cookie;
	struct keyx_stats stats;
	uint64_t start_ns, realtime_ns, last_wall_ns;
	void (*random)(void *arg, uint8_t *out, size_t len);
	void *random_arg;
};

/* keyx.c */
int keyx_random(struct keyx *kx, void *out, size_t len);
int keyx_ephemeral_pick(struct keyx *kx, struct noise_handshake *hs);
struct keyx_event *keyx_event_push(struct keyx *kx, struct keyx_events *out,
    enum keyx_event_kind kind, uint32_t peer_id);
void keyx_event_send(struct keyx *kx, struct keyx_events *out, uint32_t peer_id,
    const struct keyx_endpoint *to, const uint8_t *msg, size_t len);
int keyx_index_lookup(const struct keyx *kx, uint32_t index, uint32_t *peer_id, unsigned *slot);
int keyx_index_alloc(struct keyx *kx, uint32_t peer_id, unsigned slot, uint32_t *index);
void keyx_index_move(struct keyx *kx, uint32_t index, uint32_t peer_id, unsigned slot);
void keyx_index_free(struct keyx *kx, uint32_t index);
struct keyx_pair *keyx_pair_current(struct keyx_peer *p);
int keyx_pair_slot_take(struct keyx *kx, uint32_t peer_id, struct keyx_events *out);
void keyx_pair_make_current(struct keyx *kx, uint32_t peer_id, struct keyx_pair *pair,
    uint64_t now_ns);
void keyx_pair_confirm(struct keyx *kx, uint32_t peer_id, struct keyx_pair *pair, uint64_t now_ns,
    struct keyx_events *out);
void keyx_initiation_drop(struct keyx *kx, struct keyx_peer *p);
const uint8_t *keyx_peer_cookie(const struct keyx_peer *p, uint64_t now_ns);
int keyx_cookie_secret_refresh(struct keyx *kx, uint64_t now_ns);

#endif
