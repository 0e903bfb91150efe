/* The running router; see router_daemon.h. */
#include "router/router_daemon.h"

#include <errno.h>
#include <grp.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <netinet/in.h>
#include <poll.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "io/io_afpacket.h"
#include "io/io_tun.h"
#include "crypto/crypto_aead.h"
#include "crypto/crypto_key.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "router/router_api.h"
#include "router/router_config.h"
#include "router/router_drops.h"
#include "path/path_log.h"
#include "path/path_probe.h"
#include "path/path_select.h"
#include "path/path_prober.h"
#include "router/router_keys.h"
#include "router/router_learn.h"
#include "router/router_nat.h"
#include "router/router_ops.h"
#include "router/router_paths.h"
#include "router/router_resolve.h"
#include "router/router_status.h"
#include "router/router_wansock.h"
#include "router/router_netlink.h"
#include "router/router_nft.h"
#include "router/router_worker.h"

#ifndef TERN_VERSION
#define TERN_VERSION "unknown"
#endif

#define DAEMON_POOL_BUFFERS     4096
#define DAEMON_WAN_SOCKET_BYTES (8 << 20)
#define DAEMON_TUN_MTU          ROUTER_HOST_MTU
#define DAEMON_TICK_NS          100000000ull
#define DAEMON_IDLE_POLL_MS     10
#define DAEMON_MAILBOX_MS       2000
#define DAEMON_SESSIONS_MAX     1000
/* Breakout sessions are listed with ids from here (past any SVR session index). */
#define DAEMON_BREAKOUT_ID_BASE SESSION_TABLE_CAPACITY_MAX

struct daemon_route {
	struct prefix prefix;
	char device[IF_NAMESIZE];
	uint32_t table; /* 0: main */
};

/* A policy-routing rule ternd added: iif device lookup table. */
struct daemon_rule {
	uint8_t family;
	char device[IF_NAMESIZE];
	uint32_t table;
};

/*
 * LAN segment i with an "interface" has routing table DAEMON_TABLE_BASE + i, chosen by
 * rules at priority DAEMON_TABLE_BASE + i (before main's 32766).
 */
#define DAEMON_TABLE_BASE 7000u

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

/* ---- setup and teardown ---------------------------------------------------------------- */

/* An access entry or an allow rule may let tenant reach service svc (deny rules aside). */
static bool
daemon_service_allows(const struct router_config *cfg, size_t svc, uint32_t tenant)
{
	for (size_t a = 0; a < cfg->services[svc].access_count; a++)
		if (cfg->services[svc].access_tenant_ids[a] == tenant)
			return true;
	for (size_t r = 0; r < cfg->rule_count; r++) {
		const struct router_config_rule *rule = &cfg->rules[r];

		if (rule->action == ROUTER_CONFIG_ACTION_ALLOW &&
		    (rule->tenant_id == ROUTER_CONFIG_ID_ANY || rule->tenant_id == tenant) &&
		    (rule->service_id == ROUTER_CONFIG_ID_ANY || rule->service_id == svc))
			return true;
	}
	return false;
}

/* Adds a route and records it for removal; an existing one is left as it is. */
static int
daemon_route_add(struct router_daemon *d, const struct prefix *prefix, const char *device,
    uint32_t table)
{
	struct daemon_route *r = &d->routes[d->route_count];
	char text[PREFIX_TEXT_MAX];
	int rc;

	r->prefix = *prefix;
	r->table = table;
	snprintf(r->device, sizeof(r->device), "%s", device);
	rc = router_netlink_route_add(d->nl, &r->prefix, r->device, NULL, table);
	prefix_format(&r->prefix, text, sizeof(text));
	if (rc == -EEXIST) {
		log_warning("route %s (table %u) already exists; left as it is", text, table);
		return 0;
	}
	if (rc < 0)
		return log_error_errno(rc, "cannot route %s into %s (table %u)", text, r->device,
		    table);
	d->route_count++;
	return 0;
}

static int
daemon_rule_add(struct router_daemon *d, uint8_t family, const char *device, uint32_t table)
{
	struct daemon_rule *r = &d->rules[d->rule_count];
	int rc;

	r->family = family;
	r->table = table;
	snprintf(r->device, sizeof(r->device), "%s", device);
	rc = router_netlink_rule_add(d->nl, family, device, table, table);
	if (rc == -EEXIST)
		return 0;
	if (rc < 0)
		return log_error_errno(rc, "cannot add the %s rule iif %s lookup %u%s",
		    family == ADDR_FAMILY_V4 ? "IPv4" : "IPv6", device, table,
		    rc == -EAFNOSUPPORT ? " (a kernel without IPv6 multiple tables?)" : "");
	d->rule_count++;
	return 0;
}

/* The prefixes hosts reach service svc at: its address when it has one. */
static size_t
daemon_service_dests(const struct router_config_service *svc, size_t p, struct prefix *out)
{
	if (svc->has_address) {
		prefix_from_addr(out, &svc->address, addr_bits(&svc->address));
		return 1;
	}
	if (p < svc->prefix_count)
		*out = svc->prefixes[p];
	return svc->prefix_count;
}

/*
 * A segment with an "interface" gets its own table: every service that leaves from
 * here (peer or breakout) into its TUN, so the policy sees and counts what it refuses;
 * its NAT pool into the TUN; its prefixes on the interface. Rules by input interface
 * (its hosts' interface, its TUN) choose the table, so two segments with the same
 * addresses each reach their own TUN and are answered on their own interface.
 */
static int
daemon_segment_table_install(struct router_daemon *d, const struct router_config *cfg, size_t l)
{
	const struct router_config_lan *lan = &cfg->lans[l];
	uint32_t table = DAEMON_TABLE_BASE + (uint32_t)l;
	struct prefix pfx;
	int rc = 0;

	for (size_t i = 0; i < cfg->service_count && rc == 0; i++) {
		const struct router_config_service *svc = &cfg->services[i];

		if (svc->route_kind == ROUTER_CONFIG_ROUTE_LAN)
			continue;
		for (size_t p = 0; rc == 0 && p < daemon_service_dests(svc, p, &pfx); p++)
			rc = daemon_route_add(d, &pfx, lan->device, table);
	}
	if (rc == 0 && lan->has_nat_pool)
		rc = daemon_route_add(d, &lan->nat_pool, lan->device, table);
	for (size_t p = 0; rc == 0 && p < lan->prefix_count; p++)
		rc = daemon_route_add(d, &lan->prefixes[p], lan->interface, table);
	/* Rules for the families the segment's hosts use. */
	for (uint8_t f = ADDR_FAMILY_V4; rc == 0 && f <= ADDR_FAMILY_V6; f++) {
		bool used = false;

		for (size_t p = 0; p < lan->prefix_count; p++)
			used |= lan->prefixes[p].addr.family == f;
		if (!used)
			continue;
		rc = daemon_rule_add(d, f, lan->interface, table);
		if (rc == 0)
			rc = daemon_rule_add(d, f, lan->device, table);
	}
	return rc;
}

static int
daemon_routes_install(struct router_daemon *d, const struct router_config *cfg)
{
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < cfg->service_count; i++)
		if (cfg->services[i].route_kind != ROUTER_CONFIG_ROUTE_LAN)
			n += cfg->services[i].prefix_count;
	n *= cfg->lan_count + 1;
	for (size_t l = 0; l < cfg->lan_count; l++)
		n += 1 + cfg->lans[l].prefix_count; /* NAT pool, on-link prefixes */
	d->routes = calloc(n ? n : 1, sizeof(*d->routes));
	d->rules = calloc(4 * cfg->lan_count + 1, sizeof(*d->rules));
	if (d->routes == NULL || d->rules == NULL)
		return -ENOMEM;
	for (size_t l = 0; l < cfg->lan_count; l++) {
		if (cfg->lans[l].interface == NULL)
			continue;
		rc = daemon_segment_table_install(d, cfg, l);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; i < cfg->service_count; i++) {
		const struct router_config_service *svc = &cfg->services[i];
		size_t lan = cfg->lan_count, plain = cfg->lan_count;
		struct prefix pfx;

		if (svc->route_kind == ROUTER_CONFIG_ROUTE_LAN)
			continue;
		/*
		 * Segments without an "interface" share the main table: into the first such
		 * segment whose tenant an access entry or an allow rule names; else the first
		 * of them, so the policy sees (and counts) what it refuses.
		 */
		for (size_t l = 0; l < cfg->lan_count; l++) {
			if (cfg->lans[l].interface != NULL)
				continue;
			if (plain == cfg->lan_count)
				plain = l;
			if (lan == cfg->lan_count &&
			    daemon_service_allows(cfg, i, cfg->lans[l].tenant_id))
				lan = l;
		}
		if (lan == cfg->lan_count)
			lan = plain;
		if (lan == cfg->lan_count) {
			if (cfg->lan_count == 0)
				log_warning("service %s: no LAN segment; no route", svc->name);
			continue;
		}
		for (size_t p = 0; p < daemon_service_dests(svc, p, &pfx); p++) {
			rc = daemon_route_add(d, &pfx, cfg->lans[lan].device, 0);
			if (rc < 0)
				return rc;
		}
	}
	/* Servers answer translated clients at the segment's NAT pool: route it to ternd. */
	for (size_t l = 0; l < cfg->lan_count; l++) {
		if (!cfg->lans[l].has_nat_pool || cfg->lans[l].interface != NULL)
			continue;
		rc = daemon_route_add(d, &cfg->lans[l].nat_pool, cfg->lans[l].device, 0);
		if (rc < 0)
			return log_error_errno(rc, "LAN %s: cannot route its NAT pool",
			    cfg->lans[l].name);
	}
	return 0;
}

static void
daemon_routes_remove(struct router_daemon *d)
{
	for (size_t i = 0; i < d->rule_count; i++)
		router_netlink_rule_del(d->nl, d->rules[i].family, d->rules[i].device,
		    d->rules[i].table, d->rules[i].table);
	for (size_t i = 0; i < d->route_count; i++)
		router_netlink_route_del(d->nl, &d->routes[i].prefix, d->routes[i].device, NULL,
		    d->routes[i].table);
	free(d->rules);
	free(d->routes);
	d->rules = NULL;
	d->routes = NULL;
	d->rule_count = 0;
	d->route_count = 0;
}

static int
daemon_devices_open(struct router_daemon *d)
{
	const struct router_config *cfg = d->cfg;
	struct router_nft_waypoint *wps;
	char error[512];
	int rc;

	d->tuns = calloc(cfg->lan_count + 1, sizeof(*d->tuns));
	d->lan_ports = calloc(cfg->lan_count + 1, sizeof(*d->lan_ports));
	d->afps = calloc(cfg->wan_count + 1, sizeof(*d->afps));
	d->wan_ports = calloc(cfg->wan_count + 1, sizeof(*d->wan_ports));
	wps = calloc(cfg->wan_count + 1, sizeof(*wps));
	if (d->tuns == NULL || d->lan_ports == NULL || d->afps == NULL || d->wan_ports == NULL ||
	    wps == NULL) {
		free(wps);
		return -ENOMEM;
	}
	for (size_t i = 0; i < cfg->lan_count; i++) {
		const char *dev = cfg->lans[i].device;

		rc = io_tun_open(dev, d->pool, (uint32_t)i, &d->tuns[i]);
		if (rc < 0)
			goto fail;
		d->lan_ports[i] = io_tun_port(d->tuns[i]);
		rc = router_netlink_link_set_mtu(d->nl, dev, DAEMON_TUN_MTU);
		if (rc == 0)
			rc = router_netlink_link_set_up(d->nl, dev, true);
		if (rc < 0) {
			log_error_errno(rc, "LAN %s: cannot bring up %s", cfg->lans[i].name, dev);
			goto fail;
		}
	}
	for (size_t i = 0; i < cfg->wan_count; i++) {
		struct io_afpacket_config ac;

		memset(&ac, 0, sizeof(ac));
		snprintf(ac.ifname, sizeof(ac.ifname), "%s", cfg->wans[i].device);
		ac.waypoint = cfg->wans[i].waypoint;
		ac.port_id = ROUTER_WORKER_WAN_PORT_BASE + (uint32_t)i;
		/* Bursts from the WAN must not overflow the socket while the worker is busy. */
		ac.rcvbuf_bytes = DAEMON_WAN_SOCKET_BYTES;
		ac.sndbuf_bytes = DAEMON_WAN_SOCKET_BYTES;
		/* Behind a NAT on a path of this WAN: a peer relays first packets (router_nat.h).
		 */
		for (size_t j = 0; j < cfg->path_count; j++)
			if (cfg->paths[j].nat && cfg->paths[j].wan_id == i)
				ac.relay_port = true;
		rc = io_afpacket_open(&ac, d->pool, &d->afps[i]);
		if (rc < 0) {
			log_error_errno(rc, "WAN %s: cannot open a packet socket on %s",
			    cfg->wans[i].name, cfg->wans[i].device);
			goto fail;
		}
		d->wan_ports[i] = io_afpacket_port(d->afps[i]);
		wps[i].addr = cfg->wans[i].waypoint;
		wps[i].port_first = IO_AFPACKET_PORT_FIRST;
		wps[i].port_last = IO_AFPACKET_PORT_LAST;
	}
	rc = router_nft_install(cfg->name, wps, cfg->wan_count, error, sizeof(error));
	free(wps);
	wps = NULL;
	if (rc < 0) {
		log_error("cannot install the nftables table for the waypoints: %s", error);
		goto fail;
	}
	d->nft_installed = true;
	return daemon_routes_install(d, cfg);
fail:
	free(wps);
	return rc;
}

static void
daemon_devices_close(struct router_daemon *d)
{
	char error[512];

	if (d->nl != NULL)
		daemon_routes_remove(d);
	if (d->nft_installed && router_nft_remove(d->cfg->name, error, sizeof(error)) < 0)
		log_error("cannot remove the nftables table tern_%s: %s", d->cfg->name, error);
	d->nft_installed = false;
	for (size_t i = 0; d->afps != NULL && i < d->cfg->wan_count; i++)
		io_afpacket_close(d->afps[i]);
	for (size_t i = 0; d->tuns != NULL && i < d->cfg->lan_count; i++)
		io_tun_close(d->tuns[i]);
	free(d->afps);
	free(d->wan_ports);
	free(d->tuns);
	free(d->lan_ports);
	d->afps = NULL;
	d->tuns = NULL;
}

/* ---- the worker thread ----------------------------------------------------------------- */

static json_t *daemon_answer(struct router_daemon *d, const char *cmd, const json_t *args);

static void
daemon_mailbox_serve(struct router_daemon *d)
{
	struct daemon_mailbox *mb = &d->mbox;

	pthread_mutex_lock(&mb->lock);
	if (mb->cmd != NULL && !mb->done) {
		mb->result = daemon_answer(d, mb->cmd, mb->args);
		mb->done = true;
		atomic_store(&mb->pending, false);
		pthread_cond_broadcast(&mb->cond);
	}
	pthread_mutex_unlock(&mb->lock);
}

static void *
daemon_worker_main(void *arg)
{
	struct router_daemon *d = arg;
	struct pollfd fds[2 * 64];
	size_t nfds = 0;
	uint64_t now, last_tick = clock_now_ns();

	for (size_t i = 0; i < d->cfg->lan_count && nfds < 64; i++)
		fds[nfds++] = (struct pollfd){.fd = io_tun_fd(d->tuns[i]), .events = POLLIN};
	for (size_t i = 0; i < d->cfg->wan_count && nfds < 128; i++)
		fds[nfds++] =
		    (struct pollfd){.fd = io_afpacket_rx_fd(d->afps[i]), .events = POLLIN};
	while (!atomic_load_explicit(&d->stop, memory_order_relaxed)) {
		unsigned n;

		now = clock_now_ns();
		n = router_worker_poll(d->worker, now);
		if (now - last_tick >= DAEMON_TICK_NS) {
			router_worker_tick(d->worker, now);
			for (size_t i = 0; d->keys != NULL && i < d->cfg->peer_count; i++)
				router_keys_publish_sent(d->keys, (uint32_t)i,
				    router_worker_peer_sent(d->worker, (uint32_t)i));
			last_tick = now;
		}
		if (router_ops_pending(d->ops))
			router_ops_drain(d->ops, d->worker);
		if (atomic_load_explicit(&d->mbox.pending, memory_order_acquire))
			daemon_mailbox_serve(d);
		if (n == 0)
			poll(fds, nfds, DAEMON_IDLE_POLL_MS);
	}
	return NULL;
}

static void daemon_wansock_rx(void *arg, uint32_t wan, const struct addr *from, uint16_t from_port,
    const uint8_t *msg, size_t len);

/*
 * The probes stop while the control thread is busy: a reload reads the peers' and sends
 * ours while its helper thread makes the new worker (daemon_worker_start), so that
 * neither side counts the reload as missed probes (down after 3 x 100 ms by default).
 */
static void
daemon_paths_pump(struct router_daemon *d)
{
	if (d->paths == NULL || d->ws == NULL)
		return;
	router_wansock_read(d->ws, daemon_wansock_rx, d);
	router_paths_tick(d->paths, clock_now_ns());
}

/*
 * Makes the worker of d->cfg; on a reload it takes the old worker's keys (when they
 * stay) and the sessions the new configuration still allows (decision 0012), and frees
 * it. Touches the workers and the packet pool only (no worker thread runs), so on a
 * reload it runs on a helper thread while the control thread keeps the probes going.
 */
static int
daemon_worker_build(struct router_daemon *d)
{
	int rc;

	rc = router_worker_new(d->cfg, d->lan_ports, d->wan_ports, d->pool, clock_now_ns(),
	    &d->worker);
	if (rc < 0 || d->worker_prev == NULL)
		return rc;
	/*
	 * The keys outlive the worker: restarting a send key's sequence would reuse its
	 * nonces (and the peer would drop the packets as replays).
	 */
	if (d->worker_prev_keys)
		router_worker_keys_take(d->worker, d->worker_prev);
	memset(&d->reload_last, 0, sizeof(d->reload_last));
	router_worker_adopt(d->worker, d->worker_prev, false, clock_now_ns(), &d->reload_last);
	/* Before the new thread runs: freeing a worker puts buffers in the pool. */
	router_worker_free(d->worker_prev);
	d->worker_prev = NULL;
	return 0;
}

struct daemon_build {
	struct router_daemon *d;
	int rc;
	atomic_bool done;
};

static void *
daemon_build_main(void *arg)
{
	struct daemon_build *b = arg;

	b->rc = daemon_worker_build(b->d);
	atomic_store_explicit(&b->done, true, memory_order_release);
	return NULL;
}

static int
daemon_worker_start(struct router_daemon *d)
{
	struct daemon_build b = {.d = d};
	pthread_t helper;
	int rc;

	if (d->worker_prev == NULL || d->paths == NULL ||
	    pthread_create(&helper, NULL, daemon_build_main, &b) != 0) {
		b.rc = daemon_worker_build(d);
	} else {
		/* Making a worker takes tens of ms, more on a loaded machine: probes go on. */
		while (!atomic_load_explicit(&b.done, memory_order_acquire)) {
			daemon_paths_pump(d);
			poll(NULL, 0, 5);
		}
		pthread_join(helper, NULL);
	}
	if (b.rc < 0)
		return log_error_errno(b.rc, "cannot create the data-plane worker");
	atomic_store(&d->stop, false);
	rc = -pthread_create(&d->thread, NULL, daemon_worker_main, d);
	if (rc < 0) {
		/* It never ran: it keeps the keys for the next try. */
		d->worker_prev = d->worker;
		d->worker = NULL;
		return log_error_errno(rc, "cannot start the data-plane thread");
	}
	d->thread_running = true;
	/* The services' names, resolved for this worker (its configuration's names). */
	rc = router_resolve_new(d->cfg, NULL, &d->resolve);
	if (rc < 0)
		log_warning("cannot resolve the services' domain names: %s (they match by SNI "
		            "and by the DNS answers the router forwards only)",
		    rc == -ENOENT ? "no DNS server (dns.servers, /etc/resolv.conf)" :
		                    strerror(-rc));
	return 0;
}

/*
 * keep: the worker (its sessions, and its keys when worker_prev_keys) waits in worker_prev
 * for the next daemon_worker_start().
 */
static void
daemon_worker_stop(struct router_daemon *d, bool keep)
{
	if (d->resolve != NULL) {
		const struct router_resolve_stats *rs = router_resolve_stats(d->resolve);

		d->resolve_retired.queries += rs->queries;
		d->resolve_retired.answers += rs->answers;
		d->resolve_retired.addresses += rs->addresses;
		d->resolve_retired.refused += rs->refused;
		d->resolve_retired.timeouts += rs->timeouts;
	}
	router_resolve_free(d->resolve);
	d->resolve = NULL;
	if (d->thread_running) {
		atomic_store(&d->stop, true);
		pthread_join(d->thread, NULL);
		d->thread_running = false;
	}
	/* Operations meant for this worker die with it (their contexts freed by it). */
	if (d->worker != NULL && d->ops != NULL)
		router_ops_drain(d->ops, d->worker);
	if (keep && d->worker != NULL) {
		router_worker_free(d->worker_prev);
		d->worker_prev = d->worker;
	} else {
		router_worker_free(d->worker);
	}
	d->worker = NULL;
}

/* Asks the worker; NULL with err set when it does not answer in time. */
static json_t *
daemon_ask(struct router_daemon *d, const char *cmd, const json_t *args,
    struct router_api_error *err)
{
	struct daemon_mailbox *mb = &d->mbox;
	struct timespec deadline;
	json_t *result = NULL;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += DAEMON_MAILBOX_MS / 1000;
	pthread_mutex_lock(&mb->lock);
	mb->cmd = cmd;
	mb->args = args;
	mb->result = NULL;
	mb->done = false;
	atomic_store_explicit(&mb->pending, true, memory_order_release);
	while (!mb->done)
		if (pthread_cond_timedwait(&mb->cond, &mb->lock, &deadline) == ETIMEDOUT)
			break;
	if (mb->done)
		result = mb->result;
	mb->cmd = NULL;
	atomic_store(&mb->pending, false);
	pthread_mutex_unlock(&mb->lock);
	if (result == NULL)
		router_api_error_set(err, ROUTER_API_E_INTERNAL, "the data plane did not answer");
	return result;
}

/* ---- answers (built on the worker thread, from its own state) -------------------------- */

/* "ip:port" (IPv6 as "[ip]:port"), as the API documents tuples. */
static json_t *
daemon_endpoint_json(uint8_t family, const uint8_t *bytes, uint16_t port)
{
	struct addr a;
	char text[ADDR_TEXT_MAX], out[ADDR_TEXT_MAX + 8];

	if (family == ADDR_FAMILY_V4)
		addr_set_v4(&a, bytes);
	else
		addr_set_v6(&a, bytes);
	if (addr_format(&a, text, sizeof(text)) < 0)
		return json_string("?");
	snprintf(out, sizeof(out), family == ADDR_FAMILY_V4 ? "%s:%u" : "[%s]:%u", text, port);
	return json_string(out);
}

static const char *
daemon_proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	default:
		return "other";
	}
}

static const char *
daemon_state_name(uint8_t timeout_class)
{
	switch (timeout_class) {
	case SESSION_TIMEOUT_TCP_OPENING:
		return "opening";
	case SESSION_TIMEOUT_TCP_ESTABLISHED:
		return "established";
	case SESSION_TIMEOUT_TCP_CLOSING:
		return "closing";
	default:
		return "open";
	}
}

static const char *
daemon_protection_state(const struct router_daemon *d, const struct svr_protection_dir *p)
{
	if (d->cfg->security.private_key_file == NULL)
		return "off";
	if (!p->decided)
		return "pending";
	return p->encrypted ? "encrypted" : "clear";
}

/* One direction's payload protection: its state, why, and whether the peer knows it. */
static json_t *
daemon_protection_dir_json(const struct router_daemon *d, const struct svr_protection_dir *p)
{
	return json_pack("{s:s, s:s, s:b}", "state", daemon_protection_state(d, p), "reason",
	    p->decided ? p->reason_name : "", "acknowledged", p->acked);
}

/* "out encrypted (auto), in clear (tls)": the sessions table's encryption column. */
static void
daemon_protection_text(const struct router_daemon *d, const struct svr_protection *prot, char *out,
    size_t len)
{
	const struct svr_protection_dir *o = &prot->dir[SESSION_DIR_LAN_TO_WAN],
	                                *i = &prot->dir[SESSION_DIR_WAN_TO_LAN];

	if (d->cfg->security.private_key_file == NULL) {
		snprintf(out, len, "off (no keys)");
		return;
	}
	snprintf(out, len, "out %s%s%s%s, in %s%s%s%s", daemon_protection_state(d, o),
	    o->decided ? " (" : "", o->decided ? o->reason_name : "", o->decided ? ")" : "",
	    daemon_protection_state(d, i), i->decided ? " (" : "", i->decided ? i->reason_name : "",
	    i->decided ? ")" : "");
}

/*
 * A duplicated session's second leg: "duplicate": true and "second_path" (null while the
 * leg has no path), with its waypoints; other sessions say "duplicate": false.
 */
static void
daemon_session_dup_json(struct router_daemon *d, const struct session *s, uint32_t index, json_t *o)
{
	const struct router_config *cfg = d->cfg;
	const struct session *a;

	json_object_set_new(o, "duplicate", json_boolean(s->flags & SVR_SESSION_DUP));
	if (!(s->flags & SVR_SESSION_DUP))
		return;
	a = router_worker_session_alias(d->worker, index);
	if (a == NULL || a->path_id >= cfg->path_count) {
		json_object_set_new(o, "second_path", json_null());
		return;
	}
	json_object_set_new(o, "second_path", json_string(cfg->paths[a->path_id].name));
	json_object_set_new(o, "second_waypoint",
	    json_pack("{s:o, s:o}", "source",
	        daemon_endpoint_json(a->wan_key.family, a->wan_key.dst, a->wan_key.dport),
	        "destination",
	        daemon_endpoint_json(a->wan_key.family, a->wan_key.src, a->wan_key.sport)));
}

/*
 * A hub's leg of a session it carries from one peer to another: role "transit", which
 * leg ("in" from the first peer, "out" to the next), both peers and the other leg's id.
 */
static void
daemon_session_transit_json(struct router_daemon *d, uint32_t index, json_t *o)
{
	const struct router_config *cfg = d->cfg;
	struct router_worker_transit tr;

	if (!router_worker_session_transit(d->worker, index, &tr))
		return;
	json_object_set_new(o, "role", json_string("transit"));
	json_object_set_new(o, "leg", json_string(tr.out ? "out" : "in"));
	json_object_set_new(o, "from_peer",
	    tr.from_peer < cfg->peer_count ? json_string(cfg->peers[tr.from_peer].name) :
	                                     json_null());
	json_object_set_new(o, "to_peer",
	    tr.to_peer < cfg->peer_count ? json_string(cfg->peers[tr.to_peer].name) : json_null());
	json_object_set_new(o, "partner",
	    tr.partner != SESSION_INDEX_NONE ? json_integer(tr.partner) : json_null());
}

static json_t *
daemon_session_json(struct router_daemon *d, const struct session *s, uint32_t index, uint64_t now)
{
	const struct router_config *cfg = d->cfg;
	const struct session_key *lan = &s->lan_key, *wan = &s->wan_key;
	bool breakout = s->role == SESSION_ROLE_BREAKOUT;
	bool ingress = s->role == SESSION_ROLE_INGRESS || breakout;
	const char *peer =
	    s->path_id < cfg->path_count ? cfg->peers[cfg->paths[s->path_id].peer_id].name : "?";
	const char *path = s->path_id < cfg->path_count ? cfg->paths[s->path_id].name : "?";
	char uuid[40], enc[96], route[96];
	struct svr_protection prot;
	json_t *o;

	if (breakout) {
		/* A breakout's "path" is its WAN link; its id lists after SVR's. */
		peer = "-";
		path = s->path_id < cfg->wan_count ? cfg->wans[s->path_id].name : "?";
		snprintf(route, sizeof(route), "breakout %s", path);
		index += DAEMON_BREAKOUT_ID_BASE;
	} else {
		snprintf(route, sizeof(route), "peer %s", peer);
	}

	svr_session_protection(s, &prot);
	daemon_protection_text(d, &prot, enc, sizeof(enc));
	snprintf(uuid, sizeof(uuid),
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", s->uuid[0],
	    s->uuid[1], s->uuid[2], s->uuid[3], s->uuid[4], s->uuid[5], s->uuid[6], s->uuid[7],
	    s->uuid[8], s->uuid[9], s->uuid[10], s->uuid[11], s->uuid[12], s->uuid[13], s->uuid[14],
	    s->uuid[15]);
	/* The original tuple as the client sent it: the LAN key at the ingress, reversed at the
	 * egress. */
	o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:{s:o, s:o}, s:s, s:s, s:s, s:I, "
	              "s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:o}",
	    "id", (json_int_t)index, "uuid", uuid, "tenant",
	    router_worker_session_tenant(d->worker, s), "service",
	    s->service_id < cfg->service_count ? cfg->services[s->service_id].name : "?", "peer",
	    peer, "proto", daemon_proto_name(lan->proto), "source",
	    ingress ? daemon_endpoint_json(lan->family, lan->src, lan->sport) :
	              daemon_endpoint_json(lan->family, lan->dst, lan->dport),
	    "destination",
	    ingress ? daemon_endpoint_json(lan->family, lan->dst, lan->dport) :
	              daemon_endpoint_json(lan->family, lan->src, lan->sport),
	    "waypoint", "source", daemon_endpoint_json(wan->family, wan->dst, wan->dport),
	    "destination", daemon_endpoint_json(wan->family, wan->src, wan->sport), "role",
	    breakout    ? "breakout" :
	        ingress ? "ingress" :
	                  "egress",
	    "state", daemon_state_name(s->timeout_class), "metadata",
	    s->flags & SVR_SESSION_FWD_META     ? "forward" :
	        s->flags & SVR_SESSION_REV_META ? "reverse" :
	                                          "done",
	    "age_s", (json_int_t)((now - s->created_ns) / 1000000000ull), "idle_s",
	    (json_int_t)((now - s->last_seen_ns) / 1000000000ull), "packets_out",
	    (json_int_t)s->packets[SESSION_DIR_LAN_TO_WAN], "packets_in",
	    (json_int_t)s->packets[SESSION_DIR_WAN_TO_LAN], "bytes_out",
	    (json_int_t)s->bytes[SESSION_DIR_LAN_TO_WAN], "bytes_in",
	    (json_int_t)s->bytes[SESSION_DIR_WAN_TO_LAN], "path", path, "encryption",
	    breakout ? "off (breakout)" : enc, "protection",
	    json_pack("{s:o, s:o}", "out",
	        daemon_protection_dir_json(d, &prot.dir[SESSION_DIR_LAN_TO_WAN]), "in",
	        daemon_protection_dir_json(d, &prot.dir[SESSION_DIR_WAN_TO_LAN])));
	if (o != NULL) {
		const char *segment = router_worker_session_segment(d->worker, s);

		json_object_set_new(o, "route", json_string(route));
		json_object_set_new(o, "segment",
		    segment != NULL ? json_string(segment) : json_null());
	}
	/* Breakout sessions live in a table of their own, with flags of their own. */
	if (o != NULL && !breakout) {
		/* The application nDPI named (Unknown while inspecting, or if not inspected). */
		const struct router_learn *l = router_worker_learn(d->worker);
		uint16_t tenant, service, app;

		router_learn_session_get(l, index, &tenant, &service, &app);
		json_object_set_new(o, "app",
		    json_string(router_learn_dpi(l) != NULL ?
		            dpi_app_name(router_learn_dpi(l), app) :
		            "Unknown"));
		daemon_session_dup_json(d, s, index, o);
		daemon_session_transit_json(d, index, o);
	}
	return o;
}

static bool
daemon_session_matches(const json_t *o, const json_t *args)
{
	static const char *const keys[] = {"tenant", "service", "peer", "proto"};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *want = json_string_value(json_object_get(args, keys[i]));

		if (want != NULL &&
		    strcmp(want, json_string_value(json_object_get(o, keys[i]))) != 0)
			return false;
	}
	return true;
}

static json_t *
daemon_answer_sessions(struct router_daemon *d, const json_t *args)
{
	struct session_table *tables[2] = {router_worker_sessions(d->worker),
	    router_worker_breakout_sessions(d->worker)};
	json_int_t limit = json_integer_value(json_object_get(args, "limit")), total = 0;
	json_t *list = json_array();
	uint64_t now = clock_now_ns();

	if (limit <= 0 || limit > DAEMON_SESSIONS_MAX)
		limit = DAEMON_SESSIONS_MAX;
	for (size_t k = 0; k < 2; k++) {
		struct session_table *t = tables[k];

		for (uint32_t i = t != NULL ? session_table_next(t, 0) : SESSION_INDEX_NONE;
		     i != SESSION_INDEX_NONE; i = session_table_next(t, i + 1)) {
			const struct session *s = session_table_get(t, i);
			json_t *o;

			if (k == 0 && (s->flags & SVR_SESSION_ALIAS))
				continue; /* a second leg is shown with its session */
			o = daemon_session_json(d, s, i, now);
			if (o == NULL || !daemon_session_matches(o, args)) {
				json_decref(o);
				continue;
			}
			if (total++ < limit)
				json_array_append_new(list, o);
			else
				json_decref(o);
		}
	}
	return json_pack("{s:I, s:o}", "total", total, "sessions", list);
}

static json_t *
daemon_answer_drops(struct router_daemon *d)
{
	const struct pkt_drop_counters *c = router_worker_drops(d->worker);
	json_t *list = json_array();

	for (int i = 0; i < PKT_DROP_COUNT; i++)
		json_array_append_new(list,
		    json_pack("{s:s, s:I}", "reason", pkt_drop_reason_name((enum pkt_drop_reason)i),
		        "count", (json_int_t)c->count[i]));
	return json_pack("{s:o}", "drops", list);
}

static json_t *
daemon_answer_peers(struct router_daemon *d)
{
	const struct router_config *cfg = d->cfg;
	struct session_table *t = router_worker_sessions(d->worker);
	json_int_t *sessions = calloc(cfg->path_count + 1, sizeof(*sessions));
	json_int_t *tx = calloc(cfg->path_count + 1, sizeof(*tx));
	json_int_t *rx = calloc(cfg->path_count + 1, sizeof(*rx));
	json_t *list = json_array();

	for (uint32_t i = session_table_next(t, 0); sessions && tx && rx && i != SESSION_INDEX_NONE;
	     i = session_table_next(t, i + 1)) {
		const struct session *s = session_table_get(t, i);

		if (s->path_id >= cfg->path_count)
			continue;
		sessions[s->path_id]++; /* a second leg counts on its path; it has no counters */
		if (s->flags & SVR_SESSION_ALIAS)
			continue;
		tx[s->path_id] += (json_int_t)s->packets[SESSION_DIR_LAN_TO_WAN];
		rx[s->path_id] += (json_int_t)s->packets[SESSION_DIR_WAN_TO_LAN];
	}
	for (size_t i = 0; i < cfg->peer_count; i++) {
		json_t *paths = json_array();

		for (uint32_t p = cfg->peers[i].path_first;
		     p < cfg->peers[i].path_first + cfg->peers[i].path_count; p++) {
			const struct svr_path *sp = router_worker_path(d->worker, p);
			char local[ADDR_TEXT_MAX], remote[ADDR_TEXT_MAX];

			addr_format(&sp->local, local, sizeof(local));
			addr_format(&sp->remote, remote, sizeof(remote));
			json_array_append_new(paths,
			    json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "name",
			        cfg->paths[p].name, "interface",
			        cfg->wans[cfg->paths[p].wan_id].device, "local", local, "remote",
			        remote, "state", "up", "sessions", sessions ? sessions[p] : 0,
			        "tx_packets", tx ? tx[p] : 0, "rx_packets", rx ? rx[p] : 0,
			        "waypoint_pairs_in_use",
			        (json_int_t)svr_waypoint_ports_in_use(sp->ports)));
		}
		const struct svr_peer_key_stats *ks =
		    router_worker_peer_key_stats(d->worker, (uint32_t)i);

		json_array_append_new(list,
		    json_pack("{s:s, s:o, s:{s:I, s:I, s:I, s:I, s:I}}", "name", cfg->peers[i].name,
		        "paths", paths, "data_keys", "sealed", (json_int_t)ks->sealed, "opened",
		        (json_int_t)ks->opened, "auth_failed", (json_int_t)ks->auth_failed,
		        "replayed", (json_int_t)ks->replayed, "unknown_index",
		        (json_int_t)ks->unknown_index));
	}
	free(sessions);
	free(tx);
	free(rx);
	return json_pack("{s:o}", "peers", list);
}

static json_t *
daemon_port_json(const char *kind, const char *name, const char *device, const char *address,
    const struct io_port_stats *st, uint64_t drops)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "name", name, "kind",
	    kind, "device", device, "address", address, "state", "up", "rx_packets",
	    (json_int_t)st->rx_packets, "rx_bytes", (json_int_t)st->rx_bytes, "tx_packets",
	    (json_int_t)st->tx_packets, "tx_bytes", (json_int_t)st->tx_bytes, "drops",
	    (json_int_t)(drops + st->tx_full));
}

static json_t *
daemon_answer_interfaces(struct router_daemon *d)
{
	const struct router_config *cfg = d->cfg;
	json_t *list = json_array();

	for (size_t i = 0; i < cfg->lan_count; i++) {
		const struct io_tun_stats *ts = io_tun_stats(d->tuns[i]);
		char addr[ADDR_TEXT_MAX], text[ADDR_TEXT_MAX + 5];
		json_t *o;

		addr_format(&cfg->lans[i].address, addr, sizeof(addr));
		snprintf(text, sizeof(text), "%s/%u", addr, cfg->lans[i].address_len);
		o = daemon_port_json("lan", cfg->lans[i].name, cfg->lans[i].device, text,
		    &d->lan_ports[i]->stats, ts->rx_errors + ts->rx_too_big + ts->tx_errors);
		json_object_set_new(o, "tenant", json_string(cfg->lans[i].tenant_name));
		json_array_append_new(list, o);
	}
	for (size_t i = 0; i < cfg->wan_count; i++) {
		struct io_afpacket_stats as;
		char addr[ADDR_TEXT_MAX];

		io_afpacket_stats_read(d->afps[i], &as);
		addr_format(&cfg->wans[i].waypoint, addr, sizeof(addr));
		json_array_append_new(list,
		    daemon_port_json("wan", cfg->wans[i].name, cfg->wans[i].device, addr,
		        &d->wan_ports[i]->stats,
		        as.rx_truncated + as.rx_errors + as.tx_errors + as.tx_bad +
		            as.rx_kernel_drops));
	}
	return json_pack("{s:o}", "interfaces", list);
}

static json_t *daemon_answer_status_base(struct router_daemon *d, const struct svr_stats *st,
    struct session_table *t);

/* Sessions ended by reload, by reason (router_reload_end_name()). */
static json_t *
daemon_reload_ended_json(const uint64_t *ended)
{
	json_t *o = json_object();

	for (size_t i = 0; o != NULL && i < ROUTER_RELOAD_END_COUNT; i++)
		json_object_set_new(o, router_reload_end_name((enum router_reload_end)i),
		    json_integer((json_int_t)ended[i]));
	return o;
}

static json_t *
daemon_answer_status(struct router_daemon *d)
{
	const struct svr_stats *st = router_worker_svr_stats(d->worker);
	struct session_table *t = router_worker_sessions(d->worker);
	json_t *o;

	o = daemon_answer_status_base(d, st, t);
	if (o != NULL)
		json_object_set_new(o, "reload",
		    json_pack("{s:I, s:o, s:o}", "last_kept", (json_int_t)d->reload_last.kept,
		        "last_ended", daemon_reload_ended_json(d->reload_last.ended), "ended",
		        daemon_reload_ended_json(d->reload_ended)));
	return o;
}

static json_t *
daemon_answer_status_base(struct router_daemon *d, const struct svr_stats *st,
    struct session_table *t)
{
	json_t *o = json_pack("{s:s, s:s, s:i, s:I, s:I, s:s, s:I, s:i, s:I, s:I, s:I, s:I}",
	    "router", d->cfg->name, "version", TERN_VERSION, "api", ROUTER_API_VERSION, "pid",
	    (json_int_t)getpid(), "uptime_s",
	    (json_int_t)((clock_now_ns() - d->started_ns) / 1000000000ull), "config_file",
	    d->options->config_path, "config_generation", (json_int_t)(d->reloads + 1), "workers",
	    1, "sessions", (json_int_t)session_table_count(t), "session_capacity",
	    (json_int_t)session_table_capacity(t), "peers", (json_int_t)d->cfg->peer_count,
	    "interfaces", (json_int_t)(d->cfg->lan_count + d->cfg->wan_count));

	if (o != NULL && router_status_svr_add(o, st) < 0) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

/* One session with why it is on its path, or {"session": null}. */
static json_t *
daemon_answer_session(struct router_daemon *d, const json_t *args)
{
	struct session_table *t = router_worker_sessions(d->worker);
	json_int_t id = json_integer_value(json_object_get(args, "id"));
	const struct session *s;
	char why[PATH_CHOICE_TEXT_MAX];
	json_t *o;

	if (id >= DAEMON_BREAKOUT_ID_BASE && id <= UINT32_MAX &&
	    router_worker_breakout_sessions(d->worker) != NULL) {
		/* A breakout session: no peer path to explain. */
		uint32_t index = (uint32_t)(id - DAEMON_BREAKOUT_ID_BASE);

		t = router_worker_breakout_sessions(d->worker);
		if (session_table_next(t, index) != index)
			return json_pack("{s:n}", "session");
		o = daemon_session_json(d, session_table_get(t, index), index, clock_now_ns());
		if (o == NULL)
			return NULL;
		json_object_set_new(o, "explanation",
		    json_string("breakout: out by its WAN link with source NAT (no peer path)"));
		return json_pack("{s:o}", "session", o);
	}
	if (id < 0 || id > UINT32_MAX || session_table_next(t, (uint32_t)id) != (uint32_t)id)
		return json_pack("{s:n}", "session");
	s = session_table_get(t, (uint32_t)id);
	if (s->flags & SVR_SESSION_ALIAS)
		return json_pack("{s:n}", "session");
	o = daemon_session_json(d, s, (uint32_t)id, clock_now_ns());
	if (o == NULL)
		return NULL;
	if (router_worker_session_explain(d->worker, s, why, sizeof(why)) < 0)
		snprintf(why, sizeof(why), "%s",
		    s->role == SESSION_ROLE_EGRESS ? "egress: the ingress router chose the path" :
		                                     "no explanation (no peer path)");
	else if (s->role == SESSION_ROLE_EGRESS)
		snprintf(why, sizeof(why), "egress: the ingress router chose the path");
	json_object_set_new(o, "explanation", json_string(why));
	return json_pack("{s:o}", "session", o);
}

/* Sessions per path, and the worker's failover events. */
static json_t *
daemon_answer_paths(struct router_daemon *d)
{
	json_t *counts = json_array(), *events = json_array(), *carriage = json_array();
	const struct path_log *log = router_worker_log(d->worker);
	const struct path_log *sla = router_worker_sla_log(d->worker);

	for (size_t i = 0; i < d->cfg->path_count; i++) {
		const struct svr_path *sp = router_worker_path(d->worker, (uint32_t)i);

		json_array_append_new(counts,
		    json_integer(router_worker_path_sessions(d->worker, (uint32_t)i)));
		json_array_append_new(carriage,
		    json_string(sp != NULL && sp->udp_transform ? "udp" : "tcp"));
	}
	/* The entries as they are: the control thread formats them with the prober's. */
	for (size_t i = 0; i < path_log_count(log) + path_log_count(sla); i++) {
		const struct path_log_entry *e = i < path_log_count(log) ?
		    path_log_get(log, i) :
		    path_log_get(sla, i - path_log_count(log));

		json_array_append_new(events,
		    json_pack("{s:I, s:i, s:i, s:I, s:I, s:I}", "ts_ns", (json_int_t)e->ts_ns,
		        "kind", e->kind, "reason", e->reason, "path", (json_int_t)e->path_id,
		        "other", (json_int_t)e->other_path_id, "detail", (json_int_t)e->detail));
	}
	return json_pack("{s:o, s:o, s:o}", "sessions", counts, "events", events, "carriage",
	    carriage);
}

/* `policy test`: the engine's decision for d->what_if, live packets' code, no packet. */
static json_t *
daemon_answer_policy_test(struct router_daemon *d)
{
	struct router_worker_verdict *v = malloc(sizeof(*v));
	json_t *o;

	if (v == NULL)
		return NULL;
	if (router_worker_policy_test(d->worker, &d->what_if, v) < 0) {
		free(v);
		return NULL;
	}
	o = json_pack("{s:s, s:s?, s:s?, s:s, s:b, s:s?, s:s?, s:s?, s:s?, s:s?, s:s}", "segment",
	    d->cfg->lans[d->what_if.lan].name, "tenant", v->tenant[0] ? v->tenant : NULL, "service",
	    v->service[0] ? v->service : NULL, "verdict", v->verdict, "allowed", v->allowed, "rule",
	    v->rule[0] ? v->rule : NULL, "route", v->route[0] ? v->route : NULL, "path",
	    v->path[0] ? v->path : NULL, "limit", v->limit[0] ? v->limit : NULL, "drop",
	    v->drop[0] ? v->drop : NULL, "explanation", v->explanation);
	if (o != NULL && v->sni[0] != '\0')
		json_object_set_new(o, "sni", json_string(v->sni));
	if (o != NULL && v->app[0] != '\0')
		json_object_set_new(o, "app", json_string(v->app));
	free(v);
	return o;
}

static json_t *
daemon_count_json(const char *name, const struct router_learn_count *c)
{
	return json_pack("{s:s, s:I, s:I, s:I, s:I}", "name", name, "sessions",
	    (json_int_t)c->sessions_now, "sessions_total", (json_int_t)c->sessions_total,
	    "bytes_out", (json_int_t)c->bytes[SESSION_DIR_LAN_TO_WAN], "bytes_in",
	    (json_int_t)c->bytes[SESSION_DIR_WAN_TO_LAN]);
}

/*
 * `show services|tenants|apps`: sessions and bytes per service, tenant and application
 * (ended sessions plus the live ones, summed now), and what the learners saw.
 */
static json_t *
daemon_answer_stats(struct router_daemon *d)
{
	struct router_learn *l = router_worker_learn(d->worker);
	const struct router_learn_stats *ls = router_learn_stats(l);
	const struct dpi_app *dpi = router_learn_dpi(l);
	uint32_t napps = router_learn_app_count(l);
	struct router_learn_count *svc = calloc(d->cfg->service_count + 1, sizeof(*svc));
	struct router_learn_count *ten = calloc(d->cfg->tenant_count + 1, sizeof(*ten));
	struct router_learn_count *app = calloc(napps, sizeof(*app));
	json_t *services = json_array(), *tenants = json_array(), *apps = json_array(), *o = NULL;

	if (svc == NULL || ten == NULL || app == NULL || services == NULL || tenants == NULL ||
	    apps == NULL)
		goto out;
	router_learn_stats_walk(l, router_worker_sessions(d->worker), svc, ten, app);
	for (size_t i = 0; i < d->cfg->service_count; i++)
		json_array_append_new(services,
		    daemon_count_json(d->cfg->services[i].name, &svc[i]));
	for (size_t i = 0; i < d->cfg->tenant_count; i++)
		json_array_append_new(tenants, daemon_count_json(d->cfg->tenants[i].name, &ten[i]));
	/* Applications nobody used are left out: nDPI knows some 280. */
	for (uint32_t i = 0; i < napps; i++)
		if (app[i].sessions_total > 0)
			json_array_append_new(apps,
			    daemon_count_json(dpi != NULL ? dpi_app_name(dpi, (uint16_t)i) :
			                                    "Unknown",
			        &app[i]));
	o = json_pack("{s:O, s:O, s:O, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}}", "services",
	    services, "tenants", tenants, "apps", apps, "learnt", "dns_answers",
	    (json_int_t)ls->dns_answers, "dns_records", (json_int_t)ls->dns_records, "dns_bad",
	    (json_int_t)ls->dns_bad, "dns_cache_entries",
	    (json_int_t)policy_dns_cache_count(router_learn_dns(l)), "resolved",
	    (json_int_t)ls->resolved, "sni_learnt", (json_int_t)ls->sni_learnt, "sni_none",
	    (json_int_t)ls->sni_none, "apps_learnt", (json_int_t)ls->apps_learnt);
	if (o != NULL && dpi != NULL) {
		const struct dpi_app_stats *ds = dpi_app_stats(dpi);

		json_object_set_new(o, "inspection",
		    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "inspected",
		        (json_int_t)ds->started, "not_inspected", (json_int_t)ds->not_inspected,
		        "detected", (json_int_t)ds->detected, "given_up", (json_int_t)ds->given_up,
		        "stopped", (json_int_t)ds->stopped, "in_use", (json_int_t)ds->in_use));
	}
out:
	json_decref(services);
	json_decref(tenants);
	json_decref(apps);
	free(svc);
	free(ten);
	free(app);
	return o;
}

static json_t *
daemon_answer(struct router_daemon *d, const char *cmd, const json_t *args)
{
	if (strcmp(cmd, "policy_test") == 0)
		return daemon_answer_policy_test(d);
	if (strcmp(cmd, "stats") == 0)
		return daemon_answer_stats(d);
	if (strcmp(cmd, "session") == 0)
		return daemon_answer_session(d, args);
	if (strcmp(cmd, "paths") == 0)
		return daemon_answer_paths(d);
	if (strcmp(cmd, "sessions") == 0)
		return daemon_answer_sessions(d, args);
	if (strcmp(cmd, "drops") == 0)
		return daemon_answer_drops(d);
	if (strcmp(cmd, "peers") == 0)
		return daemon_answer_peers(d);
	if (strcmp(cmd, "interfaces") == 0)
		return daemon_answer_interfaces(d);
	return daemon_answer_status(d);
}

/* ---- API handlers (control thread) ----------------------------------------------------- */

static int
daemon_api_ask(const json_t *args, json_t **result, struct router_api_error *err, void *ctx,
    const char *cmd)
{
	*result = daemon_ask(ctx, cmd, args, err);
	return *result != NULL ? 0 : -ETIMEDOUT;
}

#define DAEMON_API_ASK(name)                                                                       \
	static int daemon_api_##name(const json_t *args, json_t **result,                          \
	    struct router_api_error *err, void *ctx)                                               \
	{                                                                                          \
		return daemon_api_ask(args, result, err, ctx, #name);                              \
	}
DAEMON_API_ASK(status)
DAEMON_API_ASK(sessions)
DAEMON_API_ASK(interfaces)

/*
 * `show services|tenants|apps`: the worker's counts (one answer for the three), keeping
 * the list asked for and the learners' counters; services add the resolver's.
 */
static int
daemon_api_stats_part(const json_t *args, json_t **result, struct router_api_error *err, void *ctx,
    const char *part)
{
	struct router_daemon *d = ctx;
	json_t *all;
	int rc = daemon_api_ask(args, &all, err, ctx, "stats");

	if (rc < 0)
		return rc;
	*result = json_pack("{s:O, s:O}", part, json_object_get(all, part), "learnt",
	    json_object_get(all, "learnt"));
	if (*result != NULL && strcmp(part, "apps") == 0 &&
	    json_object_get(all, "inspection") != NULL)
		json_object_set(*result, "inspection", json_object_get(all, "inspection"));
	if (*result != NULL && strcmp(part, "services") == 0 && d->resolve != NULL) {
		const struct router_resolve_stats *rs = router_resolve_stats(d->resolve);

		json_object_set_new(*result, "resolver",
		    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "names",
		        (json_int_t)router_resolve_count(d->resolve), "queries",
		        (json_int_t)(rs->queries + d->resolve_retired.queries), "answers",
		        (json_int_t)(rs->answers + d->resolve_retired.answers), "addresses",
		        (json_int_t)(rs->addresses + d->resolve_retired.addresses), "refused",
		        (json_int_t)(rs->refused + d->resolve_retired.refused), "timeouts",
		        (json_int_t)(rs->timeouts + d->resolve_retired.timeouts)));
	}
	json_decref(all);
	if (*result == NULL) {
		router_api_error_set(err, ROUTER_API_E_INTERNAL, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int
daemon_api_services(const json_t *args, json_t **result, struct router_api_error *err, void *ctx)
{
	return daemon_api_stats_part(args, result, err, ctx, "services");
}

static int
daemon_api_tenants(const json_t *args, json_t **result, struct router_api_error *err, void *ctx)
{
	return daemon_api_stats_part(args, result, err, ctx, "tenants");
}

static int
daemon_api_apps(const json_t *args, json_t **result, struct router_api_error *err, void *ctx)
{
	return daemon_api_stats_part(args, result, err, ctx, "apps");
}

/* The worker's view of each peer plus the key exchange's (which lives on this thread). */
static int
daemon_api_peers(const json_t *args, json_t **result, struct router_api_error *err, void *ctx)
{
	struct router_daemon *d = ctx;
	json_t *peer;
	size_t i;
	int rc = daemon_api_ask(args, result, err, ctx, "peers");

	if (rc < 0)
		return rc;
	json_array_foreach(json_object_get(*result, "peers"), i, peer)
	{
		json_t *sec = d->keys != NULL ?
		    router_keys_peer_json(d->keys, (uint32_t)i, clock_now_ns()) :
		    json_pack("{s:s}", "state", "off");

		json_object_set_new(peer, "security", sec);
	}
	return 0;
}

/* `show session ID`: the worker's session, or an error naming the id. */
static int
daemon_api_session(const json_t *args, json_t **result, struct router_api_error *err, void *ctx)
{
	int rc = daemon_api_ask(args, result, err, ctx, "session");

	if (rc == 0 && json_is_null(json_object_get(*result, "session"))) {
		json_decref(*result);
		*result = NULL;
		router_api_error_set(err, "not-found", "no session with id %lld",
		    (long long)json_integer_value(json_object_get(args, "id")));
		return -ENOENT;
	}
	return rc;
}

/* A protocol by name ("tcp", "udp", "icmp", "icmpv6") or number (0-255); -1 if neither. */
static int
daemon_proto_parse(const json_t *v)
{
	static const struct {
		const char *name;
		int number;
	} names[] = {{"tcp", IPPROTO_TCP}, {"udp", IPPROTO_UDP}, {"icmp", IPPROTO_ICMP},
	    {"icmpv6", IPPROTO_ICMPV6}, {"sctp", IPPROTO_SCTP}};

	if (json_is_integer(v))
		return json_integer_value(v) >= 0 && json_integer_value(v) <= 255 ?
		    (int)json_integer_value(v) :
		    -1;
	for (size_t i = 0; json_is_string(v) && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(json_string_value(v), names[i].name) == 0)
			return names[i].number;
	return -1;
}

static bool
daemon_lan_holds(const struct router_config_lan *lan, const struct addr *a)
{
	for (size_t i = 0; i < lan->prefix_count; i++)
		if (prefix_contains(&lan->prefixes[i], a))
			return true;
	return false;
}

/* Segment lan has hosts of tenant t: its own, or by source prefix. */
static bool
daemon_lan_has_tenant(const struct router_config_lan *lan, uint32_t t)
{
	if (lan->tenant_id == t)
		return true;
	for (size_t j = 0; j < lan->tenant_count; j++)
		if (lan->tenants[j].tenant_id == t)
			return true;
	return false;
}

/*
 * `policy test`: checks the question here (the worker only answers it), picks the LAN
 * segment the packet would arrive on (the one named; else the tenant's segment holding
 * src, or its first; else the segment holding src), then asks the worker.
 */
static int
daemon_api_policy_test(const json_t *args, json_t **result, struct router_api_error *err, void *ctx)
{
	static const char *const keys[] = {"tenant", "segment", "src", "dst", "proto", "port",
	    "sni", "app", NULL};
	struct router_daemon *d = ctx;
	const struct router_config *cfg = d->cfg;
	struct router_worker_what_if *wi = &d->what_if;
	const char *tenant = json_string_value(json_object_get(args, "tenant"));
	const char *segment = json_string_value(json_object_get(args, "segment"));
	const char *src = json_string_value(json_object_get(args, "src"));
	const char *dst = json_string_value(json_object_get(args, "dst"));
	const json_t *port = json_object_get(args, "port"), *sni = json_object_get(args, "sni");
	const char *key;
	const json_t *value;
	int t = -1, proto;
	size_t lan = cfg->lan_count;

	json_object_foreach((json_t *)args, key, value)
	{
		size_t k = 0;

		while (keys[k] != NULL && strcmp(keys[k], key) != 0)
			k++;
		if (keys[k] == NULL)
			return router_api_error_set(err, ROUTER_API_E_BAD_REQUEST,
			    "unknown argument \"%s\" (expected tenant, segment, src, dst, proto, "
			    "port, sni, app)",
			    key);
	}
	memset(wi, 0, sizeof(*wi));
	if (src == NULL || addr_parse(src, &wi->src) < 0)
		return router_api_error_set(err, ROUTER_API_E_BAD_REQUEST,
		    "src: expected the source address (e.g. \"10.1.0.10\")");
	if (dst == NULL || addr_parse(dst, &wi->dst) < 0)
		return router_api_error_set(err, ROUTER_API_E_BAD_REQUEST,
		    "dst: expected the destination address (e.g. \"10.2.0.10\")");
	if (wi->src.family != wi->dst.family)
		return router_api_error_set(err, ROUTER_API_E_BAD_REQUEST,
		    "src and dst are of different address families");
	proto = daemon_proto_parse(json_object_get(args, "proto"));
	if (proto < 0)
		return router_api_error_set(err, ROUTER_API_E_BAD_REQUEST,
		    "proto: expected tcp, udp, icmp, icmpv6, sctp or a number 0-255");
	wi->proto = (uint8_t)proto;
	if (port != NULL &&
	    (!json_is_integer(port) || json_integer_value(port) < 0 ||
	        json_integer_value(port) > 65535))
		return router_api_error_set(err, ROUTER_API_E_BAD_REQUEST,
		    "port: expected an integer 0-65535");
	wi->dst_port = (uint16_t)json_integer_value(port);
	if (sni != NULL &&
	    (!json_is_string(sni) || json_string_length(sni) == 0 || json_string_length(sni) > 253))
		return router_api_error_set(err, ROUTER_API_E_BAD_REQUEST,
		    "sni: expected a server name of 1 to 253 characters");
	wi->sni = json_string_value(sni);
	if (json_object_get(args, "app") != NULL &&
	    (!json_is_string(json_object_get(args, "app")) ||
	        json_string_length(json_object_get(args, "app")) == 0 ||
	        json_string_length(json_object_get(args, "app")) > 63))
		return router_api_error_set(err, ROUTER_API_E_BAD_REQUEST,
		    "app: expected an application name of 1 to 63 characters");
	wi->app = json_string_value(json_object_get(args, "app"));
	if (json_object_get(args, "tenant") != NULL &&
	    (tenant == NULL || (t = router_config_tenant_find(cfg, tenant)) < 0))
		return router_api_error_set(err, "not-found", "no tenant %s here",
		    tenant != NULL ? tenant : "(not a string)");
	if (json_object_get(args, "segment") != NULL) {
		int l = segment != NULL ? router_config_lan_find(cfg, segment) : -ENOENT;

		if (l < 0)
			return router_api_error_set(err, "not-found", "no LAN segment %s here",
			    segment != NULL ? segment : "(not a string)");
		if (t >= 0 && !daemon_lan_has_tenant(&cfg->lans[l], (uint32_t)t))
			return router_api_error_set(err, ROUTER_API_E_BAD_REQUEST,
			    "segment %s has no hosts of tenant %s (its tenant is %s)", segment,
			    tenant, cfg->tenants[cfg->lans[l].tenant_id].name);
		lan = (size_t)l;
	}
	for (size_t l = 0; lan == cfg->lan_count && l < cfg->lan_count; l++)
		if ((t < 0 || daemon_lan_has_tenant(&cfg->lans[l], (uint32_t)t)) &&
		    daemon_lan_holds(&cfg->lans[l], &wi->src))
			lan = l;
	for (size_t l = 0; lan == cfg->lan_count && t >= 0 && l < cfg->lan_count; l++)
		if (daemon_lan_has_tenant(&cfg->lans[l], (uint32_t)t))
			lan = l;
	if (lan == cfg->lan_count)
		return t >= 0 ? router_api_error_set(err, "not-found",
		                    "tenant %s has no LAN segment on this router", tenant) :
		                router_api_error_set(err, "not-found",
		                    "no LAN segment holds %s; give the tenant or the segment", src);
	wi->lan = (uint32_t)lan;
	return daemon_api_ask(args, result, err, ctx, "policy_test");
}

/*
 * Each path's UDP transform as configured ("on", "off", "auto") and how its new TCP
 * sessions travel now ("tcp", or "udp" when configured or detected), from the worker.
 */
static void
daemon_paths_carriage(struct router_daemon *d, json_t *list, const json_t *carriage)
{
	size_t i;
	json_t *p;

	json_array_foreach(list, i, p)
	{
		const char *peer = json_string_value(json_object_get(p, "peer"));
		const char *name = json_string_value(json_object_get(p, "name"));

		for (size_t k = 0; peer != NULL && name != NULL && k < d->cfg->path_count; k++) {
			const struct router_config_path *cp = &d->cfg->paths[k];
			const char *c = json_string_value(json_array_get(carriage, k));

			if (strcmp(cp->name, name) != 0 ||
			    strcmp(d->cfg->peers[cp->peer_id].name, peer) != 0)
				continue;
			json_object_set_new(p, "udp_transform",
			    json_string(cp->udp_transform_auto ? "auto" :
			            cp->udp_transform          ? "on" :
			                                         "off"));
			json_object_set_new(p, "carriage", json_string(c != NULL ? c : "tcp"));
		}
	}
}

/* `show paths`: the prober's view (this thread) with the worker's session counts. */
static int
daemon_api_paths(const json_t *args, json_t **result, struct router_api_error *err, void *ctx)
{
	struct router_daemon *d = ctx;
	json_t *w = daemon_ask(d, "paths", args, err);
	uint32_t *counts;
	int rc = 0;

	if (w == NULL)
		return -ETIMEDOUT;
	if (d->paths == NULL) {
		*result = json_pack("{s:[]}", "paths");
		json_decref(w);
		return 0;
	}
	counts = calloc(d->cfg->path_count + 1, sizeof(*counts));
	for (size_t i = 0; counts != NULL && i < d->cfg->path_count; i++)
		counts[i] =
		    (uint32_t)json_integer_value(json_array_get(json_object_get(w, "sessions"), i));
	*result = router_paths_json(d->paths, counts, clock_now_ns());
	if (*result == NULL)
		rc = -ENOMEM;
	else
		daemon_paths_carriage(d, json_object_get(*result, "paths"),
		    json_object_get(w, "carriage"));
	free(counts);
	json_decref(w);
	return rc;
}

static const char *
daemon_state_text(uint8_t state)
{
	return path_state_name((enum path_state)state);
}

/*
 * One event for `show events`: a state change (the prober's log), an SLA breach or
 * recovery, a failover or revert (the worker's). path_base: the log's path id of the
 * configuration's path 0 (the prober counts from 1).
 */
static json_t *
daemon_event_json(struct router_daemon *d, const struct path_log_entry *e, uint32_t path_base)
{
	static const char *const limits[] = {"", "max-latency", "max-jitter", "max-loss",
	    "min-mos"};
	const struct router_config *cfg = d->cfg;
	uint32_t id = e->path_id - path_base;
	const struct router_config_path *path =
	    e->path_id >= path_base && id < cfg->path_count ? &cfg->paths[id] : NULL;
	const char *peer = path != NULL ? cfg->peers[path->peer_id].name : "?";
	double ts = (double)(e->ts_ns > d->started_ns ? e->ts_ns - d->started_ns : 0) / 1e9;
	char detail[256];
	const char *kind;

	if (e->kind == PATH_LOG_STATE) {
		kind = e->new_state == PATH_STATE_UP     ? "path-up" :
		    e->new_state == PATH_STATE_HOLD_DOWN ? "path-hold-down" :
		                                           "path-down";
		snprintf(detail, sizeof(detail), "%s -> %s (%s), hold-down %.1f s, %u flaps",
		    daemon_state_text(e->old_state), daemon_state_text(e->new_state),
		    path_change_reason_name((enum path_change_reason)e->reason),
		    (double)e->hold_down_ns / 1e9, e->flaps);
	} else if (e->kind == PATH_LOG_SLA_BREACH) {
		const char *policy = e->other_path_id < cfg->policy_count ?
		    cfg->policies[e->other_path_id].name :
		    "?";
		const char *limit = e->reason < 5 ? limits[e->reason] : "?";

		kind = e->reason != 0 ? "sla-breach" : "sla-met";
		if (e->reason == 0)
			snprintf(detail, sizeof(detail), "meets the SLA of policy %s again",
			    policy);
		else if (e->reason == PATH_SLA_MAX_LATENCY || e->reason == PATH_SLA_MAX_JITTER)
			snprintf(detail, sizeof(detail), "breaks %s of policy %s (%.1f ms)", limit,
			    policy, (double)e->detail / 1000.0);
		else
			snprintf(detail, sizeof(detail), "breaks %s of policy %s (%.2f)", limit,
			    policy, (double)e->detail / 1000.0);
	} else if (e->kind == PATH_LOG_UDP_TRANSFORM) {
		kind = path_log_kind_name(PATH_LOG_UDP_TRANSFORM);
		snprintf(detail, sizeof(detail),
		    "a TCP session's SYN with metadata went unanswered %llu times: TCP sessions "
		    "on the path now travel as UDP",
		    (unsigned long long)e->detail);
	} else if (e->kind == PATH_LOG_NAT_BINDING) {
		static const char *const kinds[] = {"nat-binding", "nat-peer-learned",
		    "nat-peer-moved", "nat-binding-seen", "nat-binding-changed"};
		char addr[ADDR_TEXT_MAX];

		kind = e->reason < 5 ? kinds[e->reason] : kinds[0];
		addr_format(&e->addr, addr, sizeof(addr));
		if (e->reason == PATH_BINDING_PEER_LEARNED || e->reason == PATH_BINDING_PEER_MOVED)
			snprintf(detail, sizeof(detail), "the peer is at %s port %u (was port %u)",
			    addr, e->port, e->old_port);
		else
			snprintf(detail, sizeof(detail),
			    "the peer sees us at %s port %u (was port %u)%s", addr, e->port,
			    e->old_port,
			    e->reason == PATH_BINDING_OURS_CHANGED && path != NULL && path->nat ?
			        ": sessions re-bind" :
			        "");
	} else {
		kind = e->reason != 0 ? "failover" : "revert";
		snprintf(detail, sizeof(detail), "%llu sessions moved %s %s",
		    (unsigned long long)e->detail,
		    e->reason != 0 ? "off the failed path" : "back to a preferred path from",
		    path != NULL ? path->name : "?");
	}
	return json_pack("{s:f, s:I, s:s, s:s, s:s, s:s}", "ts_s", ts, "ts_ns",
	    (json_int_t)e->ts_ns, "kind", kind, "peer", peer, "path",
	    path != NULL ? path->name : "?", "detail", detail);
}

static int
daemon_event_compare(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "ts_ns"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "ts_ns"));

	return x < y ? -1 : x > y;
}

/* `show events`: the prober's and the worker's, merged in time order. */
static int
daemon_api_events(const json_t *args, json_t **result, struct router_api_error *err, void *ctx)
{
	struct router_daemon *d = ctx;
	json_t *w = daemon_ask(d, "paths", args, err), *list, *e, **all;
	const struct path_log *log = d->paths != NULL ? router_paths_log(d->paths) : NULL;
	size_t n = 0, i, cap;

	if (w == NULL)
		return -ETIMEDOUT;
	cap = (log != NULL ? path_log_count(log) : 0) +
	    json_array_size(json_object_get(w, "events")) + 1;
	all = calloc(cap, sizeof(*all));
	list = json_array();
	for (i = 0; all != NULL && log != NULL && i < path_log_count(log); i++)
		all[n++] = daemon_event_json(d, path_log_get(log, i), 1);
	json_array_foreach(json_object_get(w, "events"), i, e)
	{
		struct path_log_entry x = {.ts_ns = (uint64_t)json_integer_value(
		                               json_object_get(e, "ts_ns")),
		    .kind = (uint8_t)json_integer_value(json_object_get(e, "kind")),
		    .reason = (uint8_t)json_integer_value(json_object_get(e, "reason")),
		    .path_id = (uint32_t)json_integer_value(json_object_get(e, "path")),
		    .other_path_id = (uint32_t)json_integer_value(json_object_get(e, "other")),
		    .detail = (uint64_t)json_integer_value(json_object_get(e, "detail"))};

		if (all != NULL)
			all[n++] = daemon_event_json(d, &x, 0);
	}
	if (all != NULL)
		qsort(all, n, sizeof(*all), daemon_event_compare);
	for (i = 0; i < n; i++) {
		json_object_del(all[i], "ts_ns");
		json_array_append_new(list, all[i]);
	}
	free(all);
	json_decref(w);
	*result = json_pack("{s:o}", "events", list);
	return *result != NULL ? 0 : -ENOMEM;
}

/* The worker's drops plus the handshake's, under the same reason names. */
static int
daemon_api_drops(const json_t *args, json_t **result, struct router_api_error *err, void *ctx)
{
	struct router_daemon *d = ctx;
	int rc = daemon_api_ask(args, result, err, ctx, "drops");

	if (rc == 0 && d->keys != NULL)
		router_keys_drops_add(d->keys, json_object_get(*result, "drops"));
	if (rc == 0 && d->paths != NULL)
		router_paths_drops_add(d->paths, json_object_get(*result, "drops"));
	for (int i = 0; rc == 0 && i < PKT_DROP_COUNT; i++)
		if (d->drops_retired.count[i] != 0)
			router_drops_add(json_object_get(*result, "drops"), (enum pkt_drop_reason)i,
			    d->drops_retired.count[i]);
	return rc;
}

static int
daemon_api_config(const json_t *args, json_t **result, struct router_api_error *err, void *ctx)
{
	struct router_daemon *d = ctx;

	(void)args;
	(void)err;
	*result = json_deep_copy(d->cfg_json);
	return *result != NULL ? 0 : -ENOMEM;
}

static int daemon_reload(struct router_daemon *d, struct router_api_error *err);
static int daemon_keys_open(struct router_daemon *d);

static int
daemon_api_reload(const json_t *args, json_t **result, struct router_api_error *err, void *ctx)
{
	struct router_daemon *d = ctx;
	int rc;

	(void)args;
	rc = daemon_reload(d, err);
	if (rc < 0)
		return rc;
	*result = json_pack("{s:I, s:s, s:I, s:o}", "generation", (json_int_t)(d->reloads + 1),
	    "config_file", d->options->config_path, "sessions_kept",
	    (json_int_t)d->reload_last.kept, "sessions_ended",
	    daemon_reload_ended_json(d->reload_last.ended));
	return 0;
}

/* ---- reload ---------------------------------------------------------------------------- */

/* True when next needs the same devices and waypoints as cur (a reload can keep them). */
static bool
daemon_devices_same(const struct router_config *cur, const struct router_config *next)
{
	if (cur->lan_count != next->lan_count || cur->wan_count != next->wan_count ||
	    strcmp(cur->name, next->name) != 0)
		return false;
	for (size_t i = 0; i < cur->lan_count; i++)
		if (strcmp(cur->lans[i].device, next->lans[i].device) != 0)
			return false;
	for (size_t i = 0; i < cur->wan_count; i++)
		if (strcmp(cur->wans[i].device, next->wans[i].device) != 0 ||
		    !addr_equal(&cur->wans[i].waypoint, &next->wans[i].waypoint))
			return false;
	return true;
}

static int
daemon_reload(struct router_daemon *d, struct router_api_error *err)
{
	struct router_config_errors errors;
	struct router_config *next = NULL, *old;
	uint64_t ended = 0;
	json_t *next_json;
	bool keys_same;
	int rc;

	router_config_errors_init(&errors);
	rc = router_config_load(d->options->config_path, &next, &errors);
	if (rc < 0) {
		json_t *details = json_array();

		router_config_errors_print(&errors, stderr);
		for (size_t i = 0; i < router_config_errors_count(&errors); i++) {
			const struct router_config_error *e = router_config_errors_at(&errors, i);
			char line[512];

			snprintf(line, sizeof(line), "%s: %s", e->path, e->message);
			json_array_append_new(details, json_string(line));
		}
		router_api_error_set(err, "config-invalid",
		    "%s: %zu error(s); the running configuration is unchanged",
		    d->options->config_path, router_config_errors_count(&errors));
		json_decref(err->details);
		err->details = details;
		router_config_errors_fini(&errors);
		return -EINVAL;
	}
	router_config_errors_fini(&errors);
	if (!daemon_devices_same(d->cfg, next)) {
		router_config_free(next);
		router_api_error_set(err, "restart-needed",
		    "the new configuration changes devices or waypoints: restart ternd; the "
		    "running configuration is unchanged");
		log_warning("reload refused: devices or waypoints changed (restart needed)");
		return -EINVAL;
	}
	/*
	 * A new rekey time keeps the keys (set_config applies it); a new identity or cipher
	 * restarts the exchange, and kept sessions wait for its keys (decision 0012).
	 */
	keys_same = d->keys != NULL && router_keys_config_same(d->cfg, next) &&
	    router_keys_private_key_same(d->keys, next);
	if (!keys_same && next->security.private_key_file != NULL) {
		uint8_t probe[CRYPTO_KEY_LEN];
		char why[256];

		/* Check the key file before anything stops; the keys are built after. */
		rc = crypto_key_read_private_file(next->security.private_key_file, probe, why,
		    sizeof(why));
		OPENSSL_cleanse(probe, sizeof(probe));
		if (rc < 0) {
			router_api_error_set(err, "config-invalid",
			    "$.router.private_key_file: %s; the running configuration is unchanged",
			    why);
			router_config_free(next);
			return -EINVAL;
		}
	}
	next_json = json_load_file(d->options->config_path, 0, NULL);
	d->worker_prev_keys = keys_same;
	daemon_worker_stop(d, true);
	daemon_routes_remove(d);
	old = d->cfg;
	d->cfg = next;
	d->prober_prev = router_paths_free_keep(d->paths);
	d->prober_prev_cfg = old;
	d->paths = NULL;
	/* It probes no more: what it refused stays in `show drops`. */
	if (d->prober_prev != NULL)
		router_paths_prober_drops_count(d->prober_prev, &d->drops_retired);
	if (keys_same) {
		router_keys_set_config(d->keys, d->cfg);
	} else {
		if (d->keys != NULL)
			router_keys_drops_count(d->keys, &d->drops_retired);
		router_keys_free(d->keys);
		d->keys = NULL;
	}
	rc = daemon_routes_install(d, d->cfg);
	if (rc == 0)
		rc = daemon_keys_open(d);
	if (rc == 0)
		rc = daemon_worker_start(d);
	if (rc < 0) {
		/* Put the old policy back exactly as it ran. */
		daemon_routes_remove(d);
		if (d->paths != NULL)
			router_paths_drops_count(d->paths, &d->drops_retired);
		router_paths_free(d->paths);
		d->paths = NULL;
		if (d->keys != NULL && keys_same) {
			router_keys_set_config(d->keys, old);
		} else {
			if (d->keys != NULL)
				router_keys_drops_count(d->keys, &d->drops_retired);
			router_keys_free(d->keys);
			d->keys = NULL;
		}
		d->cfg = old;
		json_decref(next_json);
		daemon_routes_install(d, d->cfg);
		daemon_keys_open(d);
		daemon_worker_start(d);
		/* After the start: a worker made from next may have held the keys until then. */
		router_config_free(next);
		path_prober_free(d->prober_prev);
		d->prober_prev = NULL;
		d->prober_prev_cfg = NULL;
		router_api_error_set(err, ROUTER_API_E_INTERNAL,
		    "applying the new configuration failed (%s); the previous one runs again",
		    strerror(-rc));
		return rc;
	}
	path_prober_free(d->prober_prev);
	d->prober_prev = NULL;
	d->prober_prev_cfg = NULL;
	router_config_free(old);
	json_decref(d->cfg_json);
	d->cfg_json = next_json != NULL ? next_json : json_object();
	d->reloads++;
	for (size_t i = 0; i < ROUTER_RELOAD_END_COUNT; i++) {
		d->reload_ended[i] += d->reload_last.ended[i];
		ended += d->reload_last.ended[i];
	}
	log_info("configuration reloaded from %s: %" PRIu64 " sessions kept, %" PRIu64 " ended",
	    d->options->config_path, d->reload_last.kept, ended);
	return 0;
}

/* ---- main loop ------------------------------------------------------------------------- */

/*
 * Starts what runs on UDP 1280: the sockets, the key exchange when the configuration has
 * a private key, and the path prober when it has peers (each unless already running).
 */
static int
daemon_keys_open(struct router_daemon *d)
{
	char why[256];
	int rc;

	if (d->ws == NULL && d->cfg->wan_count > 0) {
		rc = router_wansock_new(d->cfg, &d->ws, why, sizeof(why));
		if (rc < 0)
			return log_error_errno(rc, "%s", why);
	}
	if (d->keys == NULL && d->cfg->security.private_key_file == NULL) {
		log_warning("no private_key_file: metadata and payloads cross the WAN unencrypted "
		            "and unauthenticated, and path probes are not authenticated");
	} else if (d->keys == NULL) {
		rc = router_keys_new(d->cfg, d->ops, d->ws, clock_now_ns(), &d->keys, why,
		    sizeof(why));
		if (rc < 0)
			return log_error_errno(rc, "%s: %s", d->cfg->security.private_key_file,
			    why);
		log_info("peer keys: %zu peers, cipher %s, rekey every %u s", d->cfg->peer_count,
		    crypto_aead_alg_name((enum crypto_aead_alg)d->cfg->security.cipher),
		    d->cfg->security.rekey_after_s);
	}
	if (d->paths == NULL && d->cfg->path_count > 0) {
		rc = router_paths_new(d->cfg, d->ops, d->ws, d->keys, d->prober_prev,
		    d->prober_prev_cfg, clock_now_ns(), &d->paths, why, sizeof(why));
		if (rc < 0)
			return log_error_errno(rc, "%s", why);
	}
	return 0;
}

static int
daemon_api_open(struct router_daemon *d)
{
	static const struct {
		const char *name;
		int (*handler)(const json_t *, json_t **, struct router_api_error *, void *);
	} commands[] = {
	    {"status", daemon_api_status},
	    {"sessions", daemon_api_sessions},
	    {"session", daemon_api_session},
	    {"peers", daemon_api_peers},
	    {"paths", daemon_api_paths},
	    {"events", daemon_api_events},
	    {"drops", daemon_api_drops},
	    {"interfaces", daemon_api_interfaces},
	    {"config", daemon_api_config},
	    {"reload", daemon_api_reload},
	    {"policy_test", daemon_api_policy_test},
	    {"services", daemon_api_services},
	    {"tenants", daemon_api_tenants},
	    {"apps", daemon_api_apps},
	};
	struct router_api_config ac;
	struct group *grp;
	int rc;

	memset(&ac, 0, sizeof(ac));
	ac.socket_path = d->socket_path;
	rc = router_api_new(&ac, &d->api);
	if (rc < 0)
		return log_error_errno(rc, "cannot open the API socket %s", d->socket_path);
	/* Members of the group "tern", where it exists, may use ternctl without root. */
	grp = getgrnam("tern");
	if (grp != NULL && chown(d->socket_path, (uid_t)-1, grp->gr_gid) < 0)
		log_warning("cannot give %s to group tern: %s", d->socket_path, strerror(errno));
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		struct router_api_command c = {.name = commands[i].name,
		    .handler = commands[i].handler,
		    .ctx = d};

		rc = router_api_register(d->api, &c);
		if (rc < 0)
			return log_error_errno(rc, "cannot register API command %s",
			    commands[i].name);
	}
	return 0;
}

/* An address ternd's resolver found: to the worker, like keys and path states. */
static void
daemon_resolved(const char *name, const struct addr *addr, uint32_t ttl_s, void *arg)
{
	struct router_daemon *d = arg;
	struct router_worker_op op = {.kind = ROUTER_WORKER_NAME_RESOLVED,
	    .name = name,
	    .addr = *addr,
	    .ttl_s = ttl_s};

	router_ops_push(d->ops, &op);
}

/*
 * A datagram on UDP 1280: a path probe, or the key exchange's. A NAT relay datagram is
 * the data path's (its packet socket has a copy, router_nat.h): not for the key exchange.
 */
static void
daemon_wansock_rx(void *arg, uint32_t wan, const struct addr *from, uint16_t from_port,
    const uint8_t *msg, size_t len)
{
	struct router_daemon *d = arg;
	uint64_t now = clock_now_ns();

	if (len >= 1 && msg[0] == ROUTER_NAT_RELAY_TYPE)
		return;
	if (path_probe_is_probe(msg, len)) {
		if (d->paths != NULL)
			router_paths_receive(d->paths, wan, from, from_port, msg, len, now);
	} else if (d->keys != NULL) {
		router_keys_receive(d->keys, wan, from, from_port, msg, len, now);
	}
}

static int
daemon_loop(struct router_daemon *d, int sfd)
{
	uint64_t last_tick = 0;

	for (;;) {
		struct pollfd fds[2 + 64 + 2] = {
		    {.fd = sfd, .events = POLLIN},
		    {.fd = router_api_fd(d->api), .events = POLLIN},
		};
		int ws_fds[64];
		size_t nws = d->ws != NULL ? router_wansock_fds(d->ws, ws_fds, 64) : 0;
		bool ws_ready = false;
		struct signalfd_siginfo si;
		uint64_t now = clock_now_ns(), next = now + 500 * 1000000ull;
		int timeout_ms;

		int rs_fds[2];
		size_t nrs = router_resolve_fds(d->resolve, rs_fds, 2);
		bool rs_ready = false;

		for (size_t i = 0; i < nws; i++)
			fds[2 + i] = (struct pollfd){.fd = ws_fds[i], .events = POLLIN};
		for (size_t i = 0; i < nrs; i++)
			fds[2 + nws + i] = (struct pollfd){.fd = rs_fds[i], .events = POLLIN};
		if (d->resolve != NULL && router_resolve_next_ns(d->resolve) < next)
			next = router_resolve_next_ns(d->resolve);
		/* Wake up for the prober's next probe and the key exchange's 100 ms timers. */
		if (d->keys != NULL && last_tick + ROUTER_KEYS_TICK_NS < next)
			next = last_tick + ROUTER_KEYS_TICK_NS;
		if (d->paths != NULL && router_paths_next_ns(d->paths) < next)
			next = router_paths_next_ns(d->paths);
		timeout_ms = next <= now ? 0 : (int)((next - now + 999999) / 1000000);
		if (poll(fds, (nfds_t)(2 + nws + nrs), timeout_ms) < 0 && errno != EINTR)
			return log_error_errno(-errno, "poll");
		if (fds[1].revents)
			router_api_on_readable(d->api);
		for (size_t i = 0; i < nws; i++)
			ws_ready |= (fds[2 + i].revents & POLLIN) != 0;
		if (ws_ready)
			router_wansock_read(d->ws, daemon_wansock_rx, d);
		now = clock_now_ns();
		for (size_t i = 0; i < nrs; i++)
			rs_ready |= (fds[2 + nws + i].revents & POLLIN) != 0;
		if (rs_ready)
			router_resolve_read(d->resolve, now, daemon_resolved, d);
		if (d->resolve != NULL && router_resolve_next_ns(d->resolve) <= now)
			router_resolve_tick(d->resolve, now);
		if (d->keys != NULL && now - last_tick >= ROUTER_KEYS_TICK_NS) {
			router_keys_tick(d->keys, now);
			last_tick = now;
		}
		if (d->paths != NULL && router_paths_next_ns(d->paths) <= now)
			router_paths_tick(d->paths, now);
		if (!(fds[0].revents & POLLIN) || read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGHUP) {
			struct router_api_error err;

			memset(&err, 0, sizeof(err));
			if (daemon_reload(d, &err) < 0)
				log_error("reload: %s", err.message);
			json_decref(err.details);
			continue;
		}
		log_info("signal %u: stopping", si.ssi_signo);
		return 0;
	}
}

int
router_daemon_run(const struct router_daemon_options *options)
{
	struct router_config_errors errors;
	struct router_daemon d;
	sigset_t mask;
	int sfd = -1, rc, status = 1;

	memset(&d, 0, sizeof(d));
	d.options = options;
	pthread_mutex_init(&d.mbox.lock, NULL);
	pthread_cond_init(&d.mbox.cond, NULL);
	router_config_errors_init(&errors);
	rc = router_config_load(options->config_path, &d.cfg, &errors);
	if (rc < 0) {
		router_config_errors_print(&errors, stderr);
		router_config_errors_fini(&errors);
		fprintf(stderr, "%s: configuration invalid; ternd not started\n",
		    options->config_path);
		return 1;
	}
	router_config_errors_fini(&errors);
	d.cfg_json = json_load_file(options->config_path, 0, NULL);
	if (options->socket_path != NULL)
		snprintf(d.socket_path, sizeof(d.socket_path), "%s", options->socket_path);
	else
		snprintf(d.socket_path, sizeof(d.socket_path), "%s/%s.sock", ROUTER_API_SOCKET_DIR,
		    d.cfg->name);
	/* Signals go to the control thread only: block them before any thread starts. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	d.pool = pkt_pool_new(DAEMON_POOL_BUFFERS);
	rc = d.pool == NULL ? -ENOMEM : router_netlink_open(&d.nl);
	if (rc < 0 || sfd < 0) {
		log_error("cannot start: %s", strerror(rc < 0 ? -rc : errno));
		goto out;
	}
	d.started_ns = clock_now_ns();
	if (router_ops_new(&d.ops) < 0) {
		log_error("cannot start: out of memory");
		goto out;
	}
	if (daemon_devices_open(&d) < 0 || daemon_api_open(&d) < 0 || daemon_keys_open(&d) < 0 ||
	    daemon_worker_start(&d) < 0)
		goto out;
	log_info("router %s running: %zu LAN, %zu WAN, %zu peers, %zu services; API %s",
	    d.cfg->name, d.cfg->lan_count, d.cfg->wan_count, d.cfg->peer_count,
	    d.cfg->service_count, d.socket_path);
	status = daemon_loop(&d, sfd) < 0 ? 1 : 0;
out:
	daemon_worker_stop(&d, false);
	router_worker_free(d.worker_prev);
	router_paths_free(d.paths);
	router_keys_free(d.keys);
	router_wansock_free(d.ws);
	router_ops_free(d.ops);
	router_api_free(d.api);
	daemon_devices_close(&d);
	router_netlink_close(d.nl);
	if (sfd >= 0)
		close(sfd);
	pkt_pool_free(d.pool);
	json_decref(d.cfg_json);
	router_config_free(d.cfg);
	pthread_mutex_destroy(&d.mbox.lock);
	pthread_cond_destroy(&d.mbox.cond);
	return status;
}
