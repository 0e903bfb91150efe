/*
 * The control-thread side of peer keys: the key exchange (src/keyx) over the UDP 1280
 * sockets (router_wansock.h), and the hand-over of its keys to the data-plane worker
 * (router_ops.h).
 *
 * The key exchange is I/O free; this module feeds it the datagrams that are not probes,
 * ticks its timers, sends what it asks, and turns each key it installs into an AEAD
 * context (crypto_aead_new, an allocation, here rather than on the worker) queued for
 * the worker. It also derives each key's probe key (HKDF-SHA256, "tern probe v1") for
 * the path prober: probes are authenticated with keys of their own, never sharing a
 * nonce space with the data path.
 *
 * A copy of every live key is kept here (the mirror), so a worker rebuilt by a reload
 * gets the current keys at once instead of waiting for a handshake. The mirror is wiped
 * as keys expire and when this module is freed; keys are never printed or logged.
 *
 * Threads: everything runs on the control thread except router_keys_publish_sent(),
 * which the worker thread calls.
 */
#ifndef TERN_ROUTER_ROUTER_KEYS_H
#define TERN_ROUTER_ROUTER_KEYS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keyx/keyx.h"
#include "crypto/crypto_aead.h"
#include "lib/addr.h"
#include "pkt/pkt_drop.h"
#include "router/router_config.h"
#include "router/router_ops.h"
#include "router/router_wansock.h"

#define ROUTER_KEYS_TICK_NS 100000000ull

struct router_keys;

/*
 * Reads cfg's private key file and starts the key exchange with every peer's public
 * key; ops and ws are borrowed. 0 and *out, or a negative errno with why[0..why_len)
 * saying what is wrong. cfg must have a private key file; it is borrowed and must
 * outlive the module (see router_keys_set_config()).
 */
int router_keys_new(const struct router_config *cfg, struct router_ops *ops,
    struct router_wansock *ws, uint64_t now_ns, struct router_keys **out, char *why,
    size_t why_len);
/* Wipes every key; NULL accepted. */
void router_keys_free(struct router_keys *rk);

/*
 * True when next keeps the keys valid (same key file path, cipher, waypoint count, peers'
 * names and keys in the same order), so the module and its keys can go on across a
 * reload; the caller also checks router_keys_private_key_same() (the file's content),
 * then calls router_keys_set_config(rk, next). The rekey time may differ: it is a timer,
 * not a property of the keys. A changed identity or cipher restarts the exchange
 * instead (docs/decisions/0012-reload-keeps-sessions.md says why).
 */
bool router_keys_config_same(const struct router_config *cur, const struct router_config *next);
/* True when next's private key file holds the key rk runs with (false if unreadable). */
bool router_keys_private_key_same(const struct router_keys *rk, const struct router_config *next);
/*
 * cfg (borrowed, must outlive the module) replaces the configuration; its rekey time
 * applies at once to the live keys without cutting any (keyx_set_timers()).
 */
void router_keys_set_config(struct router_keys *rk, const struct router_config *cfg);

/* A key exchange datagram received on WAN wan (anything on UDP 1280 but probes). */
void router_keys_receive(struct router_keys *rk, uint32_t wan, const struct addr *from,
    uint16_t from_port, const uint8_t *msg, size_t len, uint64_t now_ns);
/* Timers (call every ROUTER_KEYS_TICK_NS): retries, rekeys, expiries. */
void router_keys_tick(struct router_keys *rk, uint64_t now_ns);
/* Worker thread: the packets sent under the peer's send key, for the message limit. */
void router_keys_publish_sent(struct router_keys *rk, uint32_t peer_id, uint64_t sent);

/*
 * The path prober's keys: hook is called (now for every peer, then whenever it changes)
 * with the peer's probe send key and the peer's receive index, or NULL when the peer
 * has no send key. The key stays valid until the next call for that peer.
 */
void router_keys_set_probe_hook(struct router_keys *rk,
    void (*hook)(void *arg, uint32_t peer_id, struct crypto_aead *key, uint32_t index), void *arg);
/*
 * Where the key exchange reaches a path whose peer is behind a NAT ("remote": "auto"):
 * hook(arg, path_id, &to, &port) gives the learned address and port, or false while none
 * is known (such a path is skipped). NULL hook: such paths are always skipped.
 */
void router_keys_set_endpoint_hook(struct router_keys *rk,
    bool (*hook)(void *arg, uint32_t path_id, struct addr *to, uint16_t *port), void *arg);

/* The probe key of our receive index for peer_id, or NULL (borrowed, for open_key). */
struct crypto_aead *router_keys_probe_open_key(struct router_keys *rk, uint32_t peer_id,
    uint32_t index);

/* Per peer: handshake state, key indices, key age, last rekey, counters (for the API). */
json_t *router_keys_peer_json(const struct router_keys *rk, uint32_t peer_id, uint64_t now_ns);
/*
 * Adds the handshake's drops to the worker's list of {"reason", "count"} entries, under
 * the same names (sec-bad-cookie, sec-handshake-rejected, ...): one drop count per
 * reason whichever thread dropped it. Malformed handshake datagrams count as
 * sec-handshake-rejected.
 */
void router_keys_drops_add(const struct router_keys *rk, json_t *list);
/* The same counts added to c, for the daemon to keep when it frees rk at a reload. */
void router_keys_drops_count(const struct router_keys *rk, struct pkt_drop_counters *c);

#endif
