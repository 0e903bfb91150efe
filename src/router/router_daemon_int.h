/*
 * The inside of ternd's running router (router_daemon.h), shared by the files that make
 * it up: router_daemon.c (start and stop, the worker thread and its mailbox, the control
 * loop), router_daemon_api.c (the API's command table; status, interfaces, peers,
 * drops, services/tenants/apps, config, reload), router_daemon_api_sessions.c
 * (sessions), router_daemon_api_paths.c (paths and events), router_daemon_api_policy.c
 * (`policy test`) and router_daemon_reload.c (the reload). Nothing outside
 * src/router/router_daemon*.c includes it.
 *
 * Threads: struct router_daemon belongs to the control thread. The worker thread reads
 * what it was started with (cfg, worker, keys, ops) and, while the control thread waits
 * in router_daemon_ask(), what an answer needs: the *_answer() functions run there.
 */
#ifndef TERN_ROUTER_ROUTER_DAEMON_INT_H
#define TERN_ROUTER_ROUTER_DAEMON_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "pkt/pkt_drop.h"
#include "router/router_api.h"
#include "router/router_config.h"
#include "router/router_daemon.h"
#include "router/router_resolve.h"
#include "router/router_worker.h"

/* A question from the control thread that the worker answers between bursts. */
struct daemon_mailbox {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	atomic_bool pending;
	const char *cmd;
	const json_t *args;
	json_t *result;
	bool done;
};

struct router_daemon {
	const struct router_daemon_options *options;
	char socket_path[256];
	struct router_config *cfg;
	json_t *cfg_json; /* the file as loaded, for `show config` */
	struct pkt_pool *pool;
	struct router_netlink *nl;
	struct io_tun **tuns;
	struct io_port **lan_ports;
	struct io_afpacket **afps;
	struct io_port **wan_ports;
	struct daemon_route *routes;
	size_t route_count;
	struct daemon_rule *rules;
	size_t rule_count;
	/* During router_daemon_routes_replace(): the ones installed before, not yet taken. */
	struct daemon_route *routes_prev;
	size_t route_prev_count;
	struct daemon_rule *rules_prev;
	size_t rule_prev_count;
	bool nft_installed;
	struct router_worker *worker;
	/* During a reload: its sessions (and, with worker_prev_keys, keys) go to the next. */
	struct router_worker *worker_prev;
	bool worker_prev_keys;
	struct router_ops *ops;          /* control thread -> worker: keys, path states */
	struct router_wansock *ws;       /* UDP 1280 on every waypoint (NULL without WANs) */
	struct router_keys *keys;        /* NULL: no private key, no security */
	struct router_paths *paths;      /* the path prober (NULL without peers) */
	struct path_prober *prober_prev; /* during a reload: the prober the next one carries */
	const struct router_config *prober_prev_cfg; /* ... and the configuration it probed */
	struct router_resolve *resolve; /* the services' names (NULL: none to resolve) */
	pthread_t thread;
	bool thread_running;
	atomic_bool stop;
	struct daemon_mailbox mbox;
	struct router_worker_what_if what_if; /* policy_test: filled before asking the worker */
	struct router_api *api;
	uint64_t started_ns;
	uint64_t reloads;
	/* What reloads did to live sessions: the last one's, and ended ones since start. */
	struct router_worker_reload_stats reload_last;
	uint64_t reload_ended[ROUTER_RELOAD_END_COUNT];
	/*
	 * The counters of the key exchanges, probers and resolvers a reload freed, added to
	 * the running ones' so the API's never fall (the worker's carry in adopt).
	 */
	struct pkt_drop_counters drops_retired;
	struct router_resolve_stats resolve_retired;
};

/* ---- router_daemon.c: start and stop, the worker thread -------------------------------- */

/*
 * Routes (and, for segments with an "interface", rules) that bring cfg's services and
 * NAT pools to ternd, each recorded for router_daemon_routes_remove(). 0, -ENOMEM, or
 * netlink's error (logged).
 */
int router_daemon_routes_install(struct router_daemon *d, const struct router_config *cfg);

/* Removes the routes and rules router_daemon_routes_install() added. */
void router_daemon_routes_remove(struct router_daemon *d);

/*
 * Makes the installed routes and rules cfg's (a reload): the ones both configurations
 * want stay in the kernel untouched, the new ones are added, then the others removed. A
 * route removed and added again would leave a moment in which a packet that arrives has
 * no route and is lost, uncounted by ternd (the kernel answers it "unreachable"). On an
 * error the old ones not taken stay recorded with the new ones added so far: a
 * replace back to the old configuration puts it exactly as it was. 0, or as install.
 */
int router_daemon_routes_replace(struct router_daemon *d, const struct router_config *cfg);

/*
 * Makes the worker of d->cfg (on a reload, with worker_prev's keys and sessions) and
 * starts its thread and the resolver. 0, or negative errno (logged).
 */
int router_daemon_worker_start(struct router_daemon *d);

/*
 * Stops the worker thread and the resolver. keep: the worker (its sessions, and its keys
 * when worker_prev_keys) waits in worker_prev for the next router_daemon_worker_start().
 */
void router_daemon_worker_stop(struct router_daemon *d, bool keep);

/*
 * Starts what runs on UDP 1280 (the sockets, the key exchange, the prober), each unless
 * already running. 0, or negative errno (logged).
 */
int router_daemon_keys_open(struct router_daemon *d);

/*
 * Control thread: asks the worker cmd (router_daemon_answer() on its thread). The
 * caller owns the result; NULL with err set when the worker does not answer in time.
 */
json_t *router_daemon_ask(struct router_daemon *d, const char *cmd, const json_t *args,
    struct router_api_error *err);

/* ---- router_daemon_api*.c: the API ----------------------------------------------------- */

/*
 * Worker thread: the answer to cmd, built from the worker's own state (the status for a
 * cmd it does not know). The caller owns it; NULL when out of memory.
 */
json_t *router_daemon_answer(struct router_daemon *d, const char *cmd, const json_t *args);

/* A handler's question to the worker: 0 with *result owned by the caller, or -ETIMEDOUT. */
int router_daemon_api_ask(const json_t *args, json_t **result, struct router_api_error *err,
    void *ctx, const char *cmd);

/* Opens the API socket and registers the commands. 0, or negative errno (logged). */
int router_daemon_api_open(struct router_daemon *d);

/* Worker thread: `show sessions` (args: filters and limit), `show session ID`. */
json_t *router_daemon_sessions_answer(struct router_daemon *d, const json_t *args);
json_t *router_daemon_session_answer(struct router_daemon *d, const json_t *args);

/* Worker thread: sessions per path, carriage and the worker's path events. */
json_t *router_daemon_paths_answer(struct router_daemon *d);

/* Worker thread: the decision for d->what_if, which the handler filled. */
json_t *router_daemon_policy_test_answer(struct router_daemon *d);

/* Handlers of the commands session, paths, events and policy_test (router_api.h). */
int router_daemon_api_session(const json_t *args, json_t **result, struct router_api_error *err,
    void *ctx);
int router_daemon_api_paths(const json_t *args, json_t **result, struct router_api_error *err,
    void *ctx);
int router_daemon_api_events(const json_t *args, json_t **result, struct router_api_error *err,
    void *ctx);
int router_daemon_api_policy_test(const json_t *args, json_t **result, struct router_api_error *err,
    void *ctx);

/* ---- router_daemon_reload.c ------------------------------------------------------------ */

/*
 * Control thread: reloads the configuration file, all or nothing. 0; or negative errno
 * with err set, and the running configuration unchanged (or, when applying the new one
 * failed, the previous one running again).
 */
int router_daemon_reload(struct router_daemon *d, struct router_api_error *err);

#endif
