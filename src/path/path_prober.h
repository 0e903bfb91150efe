/*
 * The path prober (svr-profile section 7): every (local WAN, remote waypoint) pair of
 * a peer is a path with its own probes, metrics and state. Probes run on UDP 1280
 * (wire format in path_probe.h and docs/protocol.md, "Path probes"), authenticated
 * with a probe key per peer. From them: liveness, latency (half the round trip),
 * jitter (RFC 3550), loss over a sliding window, MOS (path_metrics.h).
 *
 * Like keyx, a pure state machine: no sockets, no threads, no clock reads. The
 * router's control thread feeds it the probes received on UDP 1280 (type byte 16,
 * path_probe_is_probe()) and ticks (at least every path_prober_next_ns(), ~10 ms is
 * fine), and executes the events it appends: send a probe, report a state change.
 *
 * States of a path:
 *   UNKNOWN   no answer yet; the first answer takes it UP at once (no hold-down).
 *   UP        answered; nothing answered for down_after intervals -> DOWN.
 *   DOWN      answers come again -> HOLD_DOWN.
 *   HOLD_DOWN answers for hold_down without a gap of down_after intervals -> UP;
 *             such a gap -> DOWN again.
 * An answer is an accepted probe whose echo acknowledges a probe of ours newer than the
 * last acknowledged one, so one-way failures take both sides down.
 * Flap damping: a path that goes DOWN from HOLD_DOWN, or from UP less than flap_window
 * after it came UP, has flapped: its hold-down doubles (up to hold_down_max). Each
 * flap_window spent UP without a flap halves it again, down to the base hold_down.
 *
 * NAT (docs/decisions/0008-nat.md): a path may learn its peer's address (spec.learn) from
 * its first authenticated probe and follows it when it changes; a path whose peer reports
 * the source of our probes (flag OBSERVED) reports that reflexive address, and a change of
 * it, as BINDING events and log entries.
 *
 * Authentication: with cfg.open_key set, probes are sealed with the peer's probe send
 * key (path_prober_set_send_key()) and a probe is accepted only if it opens under the
 * key open_key() returns for its key index; a path whose peer has no send key sends
 * nothing. With open_key NULL (routers without keys) probes are plain: no tag, key
 * index 0, and anyone on the path can forge them; the router should say so.
 * Nonce uniqueness: a path's sequence only grows, and a path added again with a token
 * used before starts above every sequence the prober ever used, so a (token, sequence)
 * pair is never sealed twice by one prober. A prober that replaces another under the
 * same keys (a reload) must start from it with path_prober_carry(); otherwise the
 * caller gives each prober fresh keys (keys never outlive the key exchange that made
 * them, which restarts with the router).
 * Replay: per path, a 64-probe sliding window per key index (4 keys, least recently used
 * replaced).
 *
 * Invariants: a probe that fails any check changes no state and is counted in struct
 * path_prober_stats; every state change is both an event and a path_log entry.
 *
 * Threads: a prober belongs to one thread (the control thread); no locking.
 */
#ifndef TERN_PATH_PATH_PROBER_H
#define TERN_PATH_PATH_PROBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "path/path_log.h"
#include "path/path_metrics.h"
#include "path/path_probe.h"

struct crypto_aead;
struct path_prober;

/* Defaults of struct path_config, used for every field left 0. */
#define PATH_INTERVAL_NS_DEFAULT      (100ull * 1000000ull)
#define PATH_DOWN_AFTER_DEFAULT       3u
#define PATH_HOLD_DOWN_NS_DEFAULT     (5ull * 1000000000ull)
#define PATH_HOLD_DOWN_MAX_NS_DEFAULT (120ull * 1000000000ull)
#define PATH_FLAP_WINDOW_NS_DEFAULT   (60ull * 1000000000ull)
#define PATH_LOSS_WINDOW_DEFAULT      50u
#define PATH_PATHS_MAX_DEFAULT        64u
#define PATH_PATHS_MAX_LIMIT          4096u
#define PATH_EVENTS_MAX               64
/* Smallest interval accepted (the prober is not a flood generator). */
#define PATH_INTERVAL_NS_MIN (10ull * 1000000ull)

enum path_state {
	PATH_STATE_UNKNOWN = 0,
	PATH_STATE_UP = 1,
	PATH_STATE_DOWN = 2,
	PATH_STATE_HOLD_DOWN = 3,
};

enum path_change_reason {
	PATH_CHANGE_FIRST_ANSWER = 1,   /* UNKNOWN -> UP */
	PATH_CHANGE_MISSED = 2,         /* -> DOWN: down_after intervals without an answer */
	PATH_CHANGE_FLAPPED = 3,        /* -> DOWN as MISSED, and it was a flap: hold-down grew */
	PATH_CHANGE_ANSWERED = 4,       /* DOWN -> HOLD_DOWN */
	PATH_CHANGE_HOLD_DOWN_DONE = 5, /* HOLD_DOWN -> UP */
};

/* What a BINDING event reports (docs/decisions/0008-nat.md). */
enum path_binding_kind {
	PATH_BINDING_PEER_LEARNED = 1, /* a learn path heard its peer: remote is where it is */
	PATH_BINDING_PEER_MOVED = 2,   /* the peer's address or port changed (its NAT moved) */
	PATH_BINDING_OURS_SEEN = 3,    /* the peer first reported our address as it sees it */
	PATH_BINDING_OURS_CHANGED = 4, /* ... and now reports another: our NAT mapping changed */
};

/*
 * Timers and sizes of one path. Every field left 0 takes the default above; see
 * path_config_resolve() for per-peer defaults.
 */
struct path_config {
	uint64_t interval_ns;      /* between probes; >= PATH_INTERVAL_NS_MIN */
	uint32_t down_after;       /* intervals without an answer before DOWN */
	uint32_t loss_window;      /* probes, 1..PATH_LOSS_WINDOW_MAX */
	uint64_t hold_down_ns;     /* base hold-down */
	uint64_t hold_down_max_ns; /* >= hold_down_ns */
	uint64_t flap_window_ns;
	uint16_t remote_port; /* PATH_PROBE_PORT */
};

/*
 * out = path's fields, or peer's where path's are 0 (peer may be NULL), or the
 * defaults where both are 0.
 */
void path_config_resolve(struct path_config *out, const struct path_config *path,
    const struct path_config *peer);

struct path_prober_config {
	uint32_t paths_max; /* 0: PATH_PATHS_MAX_DEFAULT; at most PATH_PATHS_MAX_LIMIT */
	/*
	 * The probe receive key of peer_id for key_index, or NULL if there is none.
	 * Borrowed for the duration of the call. NULL: unauthenticated mode (see above).
	 */
	struct crypto_aead *(*open_key)(void *arg, uint32_t peer_id, uint32_t key_index);
	void *open_key_arg;
};

/* One path as the caller configures it. */
struct path_spec {
	uint32_t peer_id;
	uint32_t path_id;          /* the caller's id, unique, not 0; also the path's token */
	uint32_t local_id;         /* the caller's WAN/socket id the path uses */
	struct addr local, remote; /* the two waypoints */
	struct path_config cfg;    /* resolved here as path_config_resolve(cfg, NULL) */
	/*
	 * The peer is behind a NAT: remote (family only; the address is ignored) is learned
	 * from its first authenticated probe, and nothing is sent before. Authenticated
	 * probers only. Such a path also reports the peer its observed address.
	 */
	bool learn;
};

enum path_event_kind {
	PATH_EVENT_SEND = 1,  /* send msg[0..len) from local_id to remote:remote_port */
	PATH_EVENT_STATE = 2, /* the path changed state */
	/* a NAT binding (reason: enum path_binding_kind): remote:remote_port is the address
	 * now (PEER_*: the peer's; OURS_*: ours as the peer sees it) */
	PATH_EVENT_BINDING = 3,
};

struct path_event {
	uint8_t kind; /* enum path_event_kind */
	uint32_t peer_id, path_id;
	/* SEND */
	uint32_t local_id;
	struct addr remote;
	uint16_t remote_port;
	uint8_t msg[PATH_PROBE_LEN_MAX];
	size_t len;
	/* STATE */
	uint8_t old_state, new_state; /* enum path_state */
	uint8_t reason;               /* enum path_change_reason; BINDING: path_binding_kind */
	uint32_t flaps;
	uint64_t hold_down_ns; /* the hold-down now in force for the path */
	uint64_t ts_ns;        /* when (the now of the call) */
};

/*
 * Events beyond PATH_EVENTS_MAX: STATE events are dropped and counted in overflow (the
 * log still has them); probes that do not fit are not built and go out on the next
 * tick.
 */
struct path_events {
	struct path_event ev[PATH_EVENTS_MAX];
	unsigned count;
	uint64_t overflow;
};

struct path_status {
	uint32_t peer_id, path_id, local_id;
	struct addr local, remote;
	uint16_t remote_port;  /* where probes go now (learned from authenticated probes) */
	bool learn;            /* spec.learn */
	bool learned;          /* learn: the peer's address is known */
	bool has_reflexive;    /* the peer reported our address as it sees it */
	struct addr reflexive; /* ... that address (behind a NAT: the translated one) */
	uint16_t reflexive_port;
	uint32_t binding_changes;    /* times the reported address changed */
	uint8_t state;               /* enum path_state */
	uint64_t since_ns;           /* last state change (or the time the path was added) */
	uint64_t hold_down_ns;       /* in force now */
	uint64_t hold_down_until_ns; /* HOLD_DOWN: UP at this time if answers continue */
	uint32_t flaps;
	bool measured;           /* at least one round trip measured */
	uint32_t rtt_us;         /* last */
	uint32_t latency_us;     /* last, half the round trip */
	uint32_t latency_avg_us; /* EWMA (1/8) */
	uint32_t jitter_us;
	double loss_pct;
	double mos;
	uint64_t probes_sent, probes_received; /* received = accepted */
	uint64_t bytes_sent, bytes_received;   /* UDP payload bytes */
	uint64_t last_answer_ns;
	struct path_config cfg; /* resolved */
};

struct path_prober_stats {
	uint64_t rx_probes, tx_probes; /* accepted, sent */
	uint64_t malformed;            /* length, type, version, flags, zero token */
	uint64_t unknown_path;         /* no path for the token or the source */
	uint64_t unknown_key;          /* open_key() has no key for the index */
	uint64_t bad_tag;              /* authentication failed, or wrong mode */
	uint64_t replayed;
	uint64_t tx_no_key;  /* a probe was due but the peer has no send key */
	uint64_t tx_failed;  /* sealing failed */
	uint64_t stale_echo; /* an echo that names no probe we sent (ignored, not a drop) */
	uint64_t events_overflow;
};

/*
 * A prober (cfg copied). *out is the caller's, to free with path_prober_free().
 * -EINVAL NULL arguments or paths_max over the limit, -ENOMEM.
 */
int path_prober_new(const struct path_prober_config *cfg, uint64_t now_ns,
    struct path_prober **out);
/* Frees; send keys are borrowed and stay the caller's. NULL accepted. */
void path_prober_free(struct path_prober *p);

/*
 * Adds a path in state UNKNOWN; its first probe is due at once. -EINVAL bad spec
 * (path_id 0, address families that differ or are none, a config out of range),
 * -EEXIST path_id in use, -ENOSPC paths_max reached.
 */
int path_prober_add_path(struct path_prober *p, const struct path_spec *spec, uint64_t now_ns);
/* -ENOENT unknown path_id. No event. */
int path_prober_del_path(struct path_prober *p, uint32_t path_id);

/*
 * Call this when `to` replaces `from` under the same keys (a reload rebuilds the
 * prober, the key exchange keeps its keys): every sequence `to` sends from now is above
 * every sequence `from` used, so no nonce is sealed twice under a key and the peer's
 * replay window, which still holds `from`'s probes, accepts `to`'s at once; and every
 * path of `to` that is a path of `from` (same peer, local id and remote waypoint) takes
 * over its replay windows, so probes `from` accepted are not accepted again. Paths of
 * `to` that have already sent keep their sequence (call this before the first tick).
 * Nothing else carries: the paths start UNKNOWN and come UP at their first answer,
 * unless the caller hands a path's state over with path_prober_carry_path().
 */
void path_prober_carry(struct path_prober *to, const struct path_prober *from);

/*
 * After path_prober_carry(), for a path whose configuration the caller knows unchanged
 * (the same peer, WAN and remote, matched by its own names): path to_id of `to` takes
 * over what path from_id of `from` knew, so a reload neither reports it down nor waits
 * for an answer: its state and since when, hold-down in force (within to's timers) and
 * flaps, the last answer, the measurements, the peer's side (its token, the probe we
 * echo, a learnt address, the reflexive one, replay windows) and the counters. With the
 * same token (path id) it goes on with from's sequences (the old prober sends no more),
 * so echoes of probes in flight still count; with another token it keeps to's sequence
 * (above every one from used: a nonce is never sealed twice) and its loss window starts
 * afresh. No event, no log entry. -ENOENT either id unknown.
 */
int path_prober_carry_path(struct path_prober *to, uint32_t to_id, const struct path_prober *from,
    uint32_t from_id);

/*
 * Sets (key != NULL) or clears (NULL) the probe send key of peer_id and the peer's
 * receive index for it. The key is borrowed: it must stay valid until it is replaced,
 * cleared, or the prober freed. Call it whenever the key exchange installs or expires
 * a send key.
 */
void path_prober_set_send_key(struct path_prober *p, uint32_t peer_id, struct crypto_aead *key,
    uint32_t key_index);

/* Call this at least at path_prober_next_ns(): sends due probes, runs the timers. */
void path_prober_tick(struct path_prober *p, uint64_t now_ns, struct path_events *out);
/* The earliest time a tick has work (UINT64_MAX without paths). */
uint64_t path_prober_next_ns(const struct path_prober *p);

/*
 * Call this for every probe (path_probe_is_probe()) received on UDP 1280 through
 * local_id from from:from_port. 0: accepted (events appended). Dropped and counted:
 * -EBADMSG malformed or failed authentication, -ENOENT unknown path, -ENOKEY no key
 * for the key index, -EALREADY replayed.
 */
int path_prober_receive(struct path_prober *p, uint32_t local_id, const struct addr *from,
    uint16_t from_port, const uint8_t *msg, size_t len, uint64_t now_ns, struct path_events *out);

/* -ENOENT unknown path_id. */
int path_prober_status(const struct path_prober *p, uint32_t path_id, struct path_status *out);
/* Paths, for `ternctl show paths`: index 0..path_prober_path_count() - 1, in add order. */
size_t path_prober_path_count(const struct path_prober *p);
int path_prober_status_at(const struct path_prober *p, size_t index, struct path_status *out);

void path_prober_stats(const struct path_prober *p, struct path_prober_stats *out);
/* The event log (borrowed, lives as long as the prober); SLA code may append to it. */
struct path_log *path_prober_log(struct path_prober *p);

const char *path_state_name(enum path_state s);
const char *path_change_reason_name(enum path_change_reason r);

#endif
