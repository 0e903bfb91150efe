/*
 * The control-thread side of peer paths: the path prober (src/path) over the UDP 1280
 * sockets (router_wansock.h), and the hand-over of path states and measurements to the
 * data-plane worker (router_ops.h), which chooses and fails over paths with them.
 *
 * Every configured path is probed from the moment ternd starts. The worker learns a
 * path as usable only from the prober (a path that never answers is never preferred):
 * at start every path is reported down, then up on its first answer, down after the
 * configured missed probes, up again after its hold-down. Measurements go to the worker
 * every ROUTER_PATHS_METRICS_NS; the worker, which decides on them, logs SLA breaches
 * and recoveries itself (router_worker_log()).
 *
 * Probes are authenticated with probe keys derived from the peer keys when the router
 * has a private key (router_keys_set_probe_hook()); without one they are plain.
 *
 * Threads: the control thread only.
 */
#ifndef TERN_ROUTER_ROUTER_PATHS_H
#define TERN_ROUTER_ROUTER_PATHS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "path/path_log.h"
#include "path/path_prober.h"
#include "pkt/pkt_drop.h"
#include "router/router_config.h"
#include "router/router_keys.h"
#include "router/router_ops.h"
#include "router/router_wansock.h"

#define ROUTER_PATHS_METRICS_NS 200000000ull

struct router_paths;

/*
 * A prober for every path of cfg (borrowed, must outlive the module); keys may be NULL
 * (plain probes). prev (may be NULL) is the prober this one replaces after a reload
 * (router_paths_free_keep()), made from prev_cfg: its sequences and replay windows carry
 * over (path_prober_carry()), so the peers never refuse the new prober's probes as
 * replays, and a path of cfg that is a path of prev_cfg unchanged (the same name, peer,
 * WAN and remote) keeps its state, measurements and hold-down (path_prober_carry_path()):
 * a reload reports no such path down. Every path's state goes to the worker at once
 * (a new one's as down until it answers). 0 and *out, or a negative errno with
 * why[0..why_len) set.
 */
int router_paths_new(const struct router_config *cfg, struct router_ops *ops,
    struct router_wansock *ws, struct router_keys *keys, const struct path_prober *prev,
    const struct router_config *prev_cfg, uint64_t now_ns, struct router_paths **out, char *why,
    size_t why_len);
void router_paths_free(struct router_paths *rp); /* NULL accepted */
/*
 * Frees rp but its prober, which it returns (NULL for rp NULL) to pass as prev to the
 * next router_paths_new(); the caller frees it with path_prober_free(). It no longer
 * borrows the keys (they may be freed before it).
 */
struct path_prober *router_paths_free_keep(struct router_paths *rp);

/* A probe received on WAN wan. */
void router_paths_receive(struct router_paths *rp, uint32_t wan, const struct addr *from,
    uint16_t from_port, const uint8_t *msg, size_t len, uint64_t now_ns);
/* Probes due, timers, measurements to the worker. */
void router_paths_tick(struct router_paths *rp, uint64_t now_ns);
/* When the next tick has work. */
uint64_t router_paths_next_ns(const struct router_paths *rp);

/*
 * `show paths`: one object per path (docs/api.md); sessions[path id] (may be NULL) are
 * the worker's counts.
 */
json_t *router_paths_json(const struct router_paths *rp, const uint32_t *sessions, uint64_t now_ns);
/* The prober's log (path state changes). Its path ids are the configuration's plus one. */
const struct path_log *router_paths_log(const struct router_paths *rp);
/* Probes refused, under the drop reasons' names, added to the drops list. */
void router_paths_drops_add(const struct router_paths *rp, json_t *list);
/*
 * The same counts of a prober (router_paths_free_keep()'s) added to c, for the daemon to
 * keep when it frees the prober at a reload: `show drops` never falls.
 */
void router_paths_prober_drops_count(const struct path_prober *p, struct pkt_drop_counters *c);
void router_paths_drops_count(const struct router_paths *rp, struct pkt_drop_counters *c);

#endif
