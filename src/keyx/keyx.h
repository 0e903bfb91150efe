/*
 * The peer key exchange on UDP 1280 (svr-profile section 6): WireGuard's handshake layer
 * adapted to Tern. Each router has a static X25519 key and knows its peers' public
 * keys; a handshake is Noise_IK_25519_ChaChaPoly_BLAKE2s (crypto_noise.h) plus a third
 * "confirm" message, and yields per peer a send key and a receive key (32 bytes each)
 * with 32-bit key indices. The wire format is in docs/protocol.md ("Peer key exchange").
 *
 * This module is a pure state machine: no sockets, no threads, no clock reads. The
 * caller (the router's control thread) feeds it datagrams received on KEYX_PORT and
 * timer ticks (every ~100 ms) and executes the events it appends to a struct
 * keyx_events, in order: send a datagram, install or expire a key in the data path.
 *
 * Invariants:
 * - Every receive index handed out is unique across all peers' live keys, and its low
 *   byte differs from the low byte of every other live receive index of the same peer
 *   (the data path carries it in the top byte of the packet counter to pick the key).
 * - A responder installs its send key only after the initiator's confirm message
 *   authenticates; a key pair older than reject_after is uninstalled.
 * - A datagram that fails any check (length, type, mac1, index, authentication,
 *   timestamp) changes no state; it is counted in struct keyx_stats.
 * - Keys are wiped with OPENSSL_cleanse() when no longer needed and by keyx_free();
 *   they leave the module only in INSTALL events and are never printed.
 *
 * Data-path counters: under a key, the data path must keep its 56-bit sequence (the
 * counter without the top byte) below KEYX_DATA_SEQ_MAX; the confirm message uses a
 * Noise nonce that the data path therefore never reaches under the same key.
 *
 * Threads: a struct keyx belongs to one thread (the control thread); no locking.
 */
#ifndef TERN_KEYX_KEYX_H
#define TERN_KEYX_KEYX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"

#define KEYX_PORT         1280
#define KEYX_KEY_LEN      32
#define KEYX_MSG_MAX      256
#define KEYX_EVENTS_MAX   64
#define KEYX_DATA_SEQ_MAX ((1ull << 56) - 2)
/* peer_id of a SEND event that answers a source not yet tied to a peer (cookie reply). */
#define KEYX_PEER_NONE UINT32_MAX

/* Defaults of struct keyx_config, used for every field left 0. */
#define KEYX_REKEY_AFTER_NS_DEFAULT       (120ull * 1000000000ull)
#define KEYX_REKEY_AFTER_MESSAGES_DEFAULT (1ull << 48)
#define KEYX_REJECT_AFTER_NS_DEFAULT      (180ull * 1000000000ull)
#define KEYX_OVERLAP_NS_DEFAULT           (10ull * 1000000000ull)
#define KEYX_RETRY_NS_DEFAULT             (1000000000ull)
#define KEYX_HANDSHAKES_PER_S_DEFAULT     50u
/* Fixed timers: retry jitter, attempt give-up, the responder's extra rekey slack. */
#define KEYX_RETRY_JITTER_NS  (330ull * 1000000ull)
#define KEYX_ATTEMPT_NS       (90ull * 1000000000ull)
#define KEYX_REKEY_SLACK_NS   (10ull * 1000000000ull)
#define KEYX_COOKIE_ROTATE_NS (120ull * 1000000000ull)

struct keyx;

struct keyx_endpoint {
	struct addr addr;
	uint16_t port;
	uint32_t local_id; /* the caller's socket/WAN id */
};

struct keyx_peer_config {
	uint8_t public_key[KEYX_KEY_LEN];
	/*
	 * Never initiate: the peer is behind a NAT and cannot be reached before it speaks
	 * (docs/decisions/0008-nat.md). Its handshakes make every pair, so it also rekeys
	 * (only the initiator of a pair rekeys on time); a message 1 of ours that could not
	 * leave would otherwise win the collision rule against the peer's and stall both.
	 */
	bool passive;
};

struct keyx_config {
	uint8_t private_key[KEYX_KEY_LEN];    /* copied; caller wipes its own */
	const struct keyx_peer_config *peers; /* copied; peer id = index in this array */
	size_t peer_count;
	uint64_t rekey_after_ns, rekey_after_messages, reject_after_ns, overlap_ns, retry_ns;
	uint32_t handshakes_per_s_max; /* 0 = defaults for every zero field */
	/*
	 * CLOCK_REALTIME in ns at the moment of keyx_new()'s now_ns: message 1 carries a
	 * wall-clock timestamp (realtime_ns + now - now at keyx_new) so a peer that
	 * restarts still sends newer timestamps. 0: use now_ns itself (tests).
	 */
	uint64_t realtime_ns;
	/*
	 * Randomness for key indices, retry jitter, cookie secrets and ephemeral keys:
	 * NULL (production) means OpenSSL RAND_bytes(). Tests and fuzzers pass a seeded
	 * generator so that a run is reproducible.
	 */
	void (*random)(void *arg, uint8_t *out, size_t len);
	void *random_arg;
};

enum keyx_event_kind {
	KEYX_EVENT_SEND,
	KEYX_EVENT_INSTALL_RECV,
	KEYX_EVENT_INSTALL_SEND,
	KEYX_EVENT_EXPIRE_RECV,
	KEYX_EVENT_CLEAR,       /* all keys of the peer gone (reject_after) */
	KEYX_EVENT_EXPIRE_SEND, /* the peer's send key is gone, receive keys stay */
};

struct keyx_event {
	enum keyx_event_kind kind;
	uint32_t peer_id;
	/*
	 * SEND: to.addr.family == 0 means "any path of peer_id" (the caller sends on every
	 * path of the peer); otherwise reply to that endpoint via to.local_id.
	 */
	struct keyx_endpoint to;
	uint8_t msg[KEYX_MSG_MAX];
	size_t len;
	/*
	 * INSTALL_RECV: index = our receive index; INSTALL_SEND: index = the peer's receive
	 * index (goes in the security-id TLV) and local_index = our receive index of the
	 * same key pair; EXPIRE_RECV: index; EXPIRE_SEND: index = the peer's index.
	 * A new INSTALL_SEND replaces the peer's previous send key.
	 */
	uint32_t index;
	uint32_t local_index;
	uint8_t key[KEYX_KEY_LEN]; /* the caller wipes it after use */
};

/* Events beyond KEYX_EVENTS_MAX are dropped and counted in overflow (and in stats). */
struct keyx_events {
	struct keyx_event ev[KEYX_EVENTS_MAX];
	unsigned count;
	uint64_t overflow;
};

/*
 * A key exchange for cfg (everything copied). On success *out is the caller's, to free
 * with keyx_free(). -EINVAL: NULL arguments, a private key or a peer key that is not a
 * usable X25519 key, two peers with the same key, a peer with our own key, or a
 * rekey_after_messages above KEYX_DATA_SEQ_MAX; -ENOMEM; -EIO if OpenSSL fails.
 */
int keyx_new(const struct keyx_config *cfg, uint64_t now_ns, struct keyx **out);
/* Wipes every key and frees; NULL accepted. */
void keyx_free(struct keyx *kx);

/*
 * Call this for every datagram received on KEYX_PORT. Returns 0 (processed, events
 * appended) or a negative errno naming why it was dropped, counted in stats:
 * -EBADMSG malformed or bad mac1/mac2 or failed authentication, -ENOENT unknown
 * receiver index, -EPERM unknown static key, -EALREADY replayed timestamp, -EBUSY rate
 * limited or answered with a cookie, -ENOMEM / -EIO internal failures.
 */
int keyx_receive(struct keyx *kx, const struct keyx_endpoint *from, const uint8_t *msg, size_t len,
    uint64_t now_ns, struct keyx_events *out);

/* Call this every ~100 ms: retries, rekeys, expiries, eager handshakes. */
void keyx_tick(struct keyx *kx, uint64_t now_ns, struct keyx_events *out);

/*
 * New timers for a running exchange (a reload; 0 = the default, as in keyx_config),
 * applied at once without touching a key: the current pair rekeys when it is older
 * than the new rekey_after (a shorter one rekeys at the next tick, with the keys in use
 * valid until the new pair replaces them and the overlap ends), the new overlap counts
 * from the next retirement, and reject_after applies to new pairs while live pairs keep
 * theirs unless the new one is longer (a shorter one would uninstall keys in use, a
 * longer rekey_after could outlast them).
 */
void keyx_set_timers(struct keyx *kx, uint64_t rekey_after_ns, uint64_t reject_after_ns,
    uint64_t overlap_ns);

/* Call this when the data path has traffic for peer_id and no send key. */
void keyx_peer_want(struct keyx *kx, uint32_t peer_id, uint64_t now_ns, struct keyx_events *out);

/* Call this to report packets sent under the current send key (a running total). */
void keyx_note_sent(struct keyx *kx, uint32_t peer_id, uint64_t packets_under_current_send_key);

/*
 * Optional: call this when a packet first authenticates under receive index
 * local_index. Like WireGuard's first data packet, it confirms a responder's key pair
 * whose confirm message was lost, so the send key is installed at once. Unknown or
 * already confirmed indices are ignored.
 */
void keyx_note_received(struct keyx *kx, uint32_t local_index, uint64_t now_ns,
    struct keyx_events *out);

enum keyx_peer_state {
	KEYX_PEER_NO_KEY,
	KEYX_PEER_HANDSHAKING,
	KEYX_PEER_ESTABLISHED,
	KEYX_PEER_REKEYING,
};

struct keyx_peer_status {
	enum keyx_peer_state state;
	bool has_send, has_recv;
	uint32_t send_index, recv_index; /* of the current pair */
	uint64_t key_established_ns;
	uint64_t last_rekey_ns;
	uint64_t last_handshake_attempt_ns;
	uint64_t handshakes_initiated, handshakes_completed, rekeys;
	int last_error; /* -ETIMEDOUT after a 90 s attempt gave up, 0 once keys are set */
};

const char *keyx_peer_state_name(enum keyx_peer_state s);
/* -ENOENT for an unknown peer_id. */
int keyx_peer_status(const struct keyx *kx, uint32_t peer_id, struct keyx_peer_status *out);
size_t keyx_peer_count(const struct keyx *kx);

struct keyx_stats {
	uint64_t rx_messages, tx_messages;
	uint64_t bad_cookie; /* mac1 or mac2 wrong */
	uint64_t cookie_sent, cookie_received;
	uint64_t handshake_rejected; /* unknown static key */
	uint64_t auth_failed;
	uint64_t replayed; /* old timestamp */
	uint64_t rate_limited;
	uint64_t malformed, unknown_index;
	uint64_t events_overflow;
	uint64_t collisions; /* a peer's message 1 crossed ours and lost the tie-break */
};

void keyx_stats(const struct keyx *kx, struct keyx_stats *out);

#endif
