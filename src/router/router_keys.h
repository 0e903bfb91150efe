/*
 * The control-thread side of peer keys: the key exchange (src/keyx) on one UDP socket
 * per WAN waypoint (port 1280), and the hand-over of its keys to the data-plane worker.
 *
 * The key exchange is I/O free; this module reads its datagrams, ticks its timers,
 * sends what it asks, and turns each key it installs into an AEAD context
 * (crypto_aead_new, an allocation, here rather than on the worker) queued for the
 * worker. The worker drains the queue between bursts (router_keys_drain), so keys
 * change only there and the data path takes no lock; the queue's mutex is taken only
 * when the atomic `pending` flag says there is something to take.
 *
 * A copy of every live key is kept here (the mirror), so a worker rebuilt by a reload
 * gets the current keys at once instead of waiting for a handshake. The mirror is wiped
 * as keys expire and when this module is freed; keys are never printed or logged.
 *
 * Threads: everything runs on the control thread except router_keys_pending(),
 * router_keys_drain() and router_keys_publish_sent(), which the worker thread calls.
 */
#ifndef TERN_ROUTER_ROUTER_KEYS_H
#define TERN_ROUTER_ROUTER_KEYS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keyx/keyx.h"
#include "router/router_config.h"
#include "router/router_worker.h"

#define ROUTER_KEYS_TICK_NS 100000000ull

struct router_keys;

/*
 * Reads cfg's private key file, opens and binds one UDP socket per WAN waypoint on
 * KEYX_PORT and starts the key exchange with every peer's public key. 0 and *out, or a
 * negative errno with why[0..why_len) saying what is wrong (the key file, a socket).
 * cfg must have a private key file; it is borrowed and must outlive the module (see
 * router_keys_set_config()).
 */
int router_keys_new(const struct router_config *cfg, uint64_t now_ns, struct router_keys **out,
    char *why, size_t why_len);
/* Wipes every key and closes the sockets; NULL accepted. */
void router_keys_free(struct router_keys *rk);

/*
 * True when next's security is the same as the running one's (key file path, cipher,
 * rekey time, peers' names and keys in the same order), so the module and its keys can
 * go on across a reload; the caller then calls router_keys_set_config(rk, next).
 */
bool router_keys_config_same(const struct router_config *cur, const struct router_config *next);
void router_keys_set_config(struct router_keys *rk, const struct router_config *cfg);

/* The sockets to poll for POLLIN (one per WAN), into fds[0..max); returns the count. */
size_t router_keys_fds(const struct router_keys *rk, int *fds, size_t max);
/* Reads every datagram waiting on the sockets and handles what the exchange asks. */
void router_keys_on_readable(struct router_keys *rk, uint64_t now_ns);
/* Timers (call every ROUTER_KEYS_TICK_NS): retries, rekeys, expiries. */
void router_keys_tick(struct router_keys *rk, uint64_t now_ns);
/* Queues every mirrored key for a new worker (after a reload rebuilt it). */
void router_keys_replay(struct router_keys *rk);

/* Worker thread: is there anything to drain? One relaxed atomic load. */
bool router_keys_pending(struct router_keys *rk);
/* Worker thread: applies every queued key operation to w. */
void router_keys_drain(struct router_keys *rk, struct router_worker *w);
/* Worker thread: the packets sent under the peer's send key, for the message limit. */
void router_keys_publish_sent(struct router_keys *rk, uint32_t peer_id, uint64_t sent);

/* Per peer: handshake state, key indices, key age, last rekey, counters (for the API). */
json_t *router_keys_peer_json(const struct router_keys *rk, uint32_t peer_id, uint64_t now_ns);
/*
 * Adds the handshake's drops to the worker's list of {"reason", "count"} entries, under
 * the same names (sec-bad-cookie, sec-handshake-rejected, ...): one drop count per
 * reason whichever thread dropped it. Malformed handshake datagrams count as
 * sec-handshake-rejected.
 */
void router_keys_drops_add(const struct router_keys *rk, json_t *list);

#endif
