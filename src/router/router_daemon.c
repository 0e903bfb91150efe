/*
 * The running router (router_daemon.h): start and stop (devices, kernel routes and
 * rules), the worker thread and the mailbox it answers, the control loop. The API's
 * commands are in router_daemon_api*.c, the reload in router_daemon_reload.c; what the
 * files share is in router_daemon_int.h.
 */
#include "router/router_daemon.h"
#include "router/router_daemon_int.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "crypto/crypto_aead.h"
#include "io/io_afpacket.h"
#include "io/io_tun.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "path/path_probe.h"
#include "router/router_keys.h"
#include "router/router_nat.h"
#include "router/router_netlink.h"
#include "router/router_nft.h"
#include "router/router_ops.h"
#include "router/router_paths.h"
#include "router/router_resolve.h"
#include "router/router_wansock.h"

#define DAEMON_POOL_BUFFERS     4096
#define DAEMON_WAN_SOCKET_BYTES (8 << 20)
#define DAEMON_TUN_MTU          ROUTER_HOST_MTU
#define DAEMON_TICK_NS          100000000ull
#define DAEMON_IDLE_POLL_MS     10
#define DAEMON_MAILBOX_MS       2000

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

/*
 * During router_daemon_routes_replace(): true when the previous configuration installed
 * r already, which then moves to the new record untouched (no moment without it).
 */
static bool
daemon_route_take_prev(struct router_daemon *d, const struct daemon_route *r)
{
	for (size_t i = 0; i < d->route_prev_count; i++) {
		struct daemon_route *o = &d->routes_prev[i];

		if (o->table == r->table && strcmp(o->device, r->device) == 0 &&
		    prefix_equal(&o->prefix, &r->prefix)) {
			*o = d->routes_prev[--d->route_prev_count];
			return true;
		}
	}
	return false;
}

/*
 * The previous configuration routed r's prefix in r's table into another device: that
 * route goes (the prefix moves to another segment), so r can be added. True when it did.
 */
static bool
daemon_route_move_prev(struct router_daemon *d, const struct daemon_route *r)
{
	for (size_t i = 0; i < d->route_prev_count; i++) {
		struct daemon_route *o = &d->routes_prev[i];

		if (o->table == r->table && prefix_equal(&o->prefix, &r->prefix)) {
			router_netlink_route_del(d->nl, &o->prefix, o->device, NULL, o->table);
			*o = d->routes_prev[--d->route_prev_count];
			return true;
		}
	}
	return false;
}

static bool
daemon_rule_take_prev(struct router_daemon *d, const struct daemon_rule *r)
{
	for (size_t i = 0; i < d->rule_prev_count; i++) {
		struct daemon_rule *o = &d->rules_prev[i];

		if (o->family == r->family && o->table == r->table &&
		    strcmp(o->device, r->device) == 0) {
			*o = d->rules_prev[--d->rule_prev_count];
			return true;
		}
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
	if (daemon_route_take_prev(d, r)) {
		d->route_count++;
		return 0;
	}
	rc = router_netlink_route_add(d->nl, &r->prefix, r->device, NULL, table);
	if (rc == -EEXIST && daemon_route_move_prev(d, r))
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
	if (daemon_rule_take_prev(d, r)) {
		d->rule_count++;
		return 0;
	}
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

int
router_daemon_routes_install(struct router_daemon *d, const struct router_config *cfg)
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

void
router_daemon_routes_remove(struct router_daemon *d)
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

/*
 * The previous configuration's routes and rules that the new one did not take: removed
 * after a replace that worked; after one that failed half-way they stay recorded (the
 * next replace, back to the old configuration, takes them again or removes them).
 */
static void
daemon_routes_prev_settle(struct router_daemon *d, bool remove)
{
	struct daemon_route *routes = NULL;
	struct daemon_rule *rules = NULL;

	if (!remove) {
		routes = realloc(d->routes,
		    (d->route_count + d->route_prev_count + 1) * sizeof(*d->routes));
		if (routes != NULL)
			d->routes = routes;
		rules =
		    realloc(d->rules, (d->rule_count + d->rule_prev_count + 1) * sizeof(*d->rules));
		if (rules != NULL)
			d->rules = rules;
	}
	for (size_t i = 0; i < d->rule_prev_count; i++) {
		if (rules != NULL)
			d->rules[d->rule_count++] = d->rules_prev[i];
		else
			router_netlink_rule_del(d->nl, d->rules_prev[i].family,
			    d->rules_prev[i].device, d->rules_prev[i].table,
			    d->rules_prev[i].table);
	}
	for (size_t i = 0; i < d->route_prev_count; i++) {
		if (routes != NULL)
			d->routes[d->route_count++] = d->routes_prev[i];
		else
			router_netlink_route_del(d->nl, &d->routes_prev[i].prefix,
			    d->routes_prev[i].device, NULL, d->routes_prev[i].table);
	}
	free(d->routes_prev);
	free(d->rules_prev);
	d->routes_prev = NULL;
	d->rules_prev = NULL;
	d->route_prev_count = 0;
	d->rule_prev_count = 0;
}

int
router_daemon_routes_replace(struct router_daemon *d, const struct router_config *cfg)
{
	int rc;

	d->routes_prev = d->routes;
	d->route_prev_count = d->route_count;
	d->rules_prev = d->rules;
	d->rule_prev_count = d->rule_count;
	d->routes = NULL;
	d->rules = NULL;
	d->route_count = 0;
	d->rule_count = 0;
	rc = router_daemon_routes_install(d, cfg);
	daemon_routes_prev_settle(d, rc == 0);
	return rc;
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
	return router_daemon_routes_install(d, cfg);
fail:
	free(wps);
	return rc;
}

static void
daemon_devices_close(struct router_daemon *d)
{
	char error[512];

	if (d->nl != NULL)
		router_daemon_routes_remove(d);
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

static void
daemon_mailbox_serve(struct router_daemon *d)
{
	struct daemon_mailbox *mb = &d->mbox;

	pthread_mutex_lock(&mb->lock);
	if (mb->cmd != NULL && !mb->done) {
		mb->result = router_daemon_answer(d, mb->cmd, mb->args);
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
 * ours while its helper thread makes the new worker (router_daemon_worker_start), so that
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

int
router_daemon_worker_start(struct router_daemon *d)
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
 * for the next router_daemon_worker_start().
 */
void
router_daemon_worker_stop(struct router_daemon *d, bool keep)
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
json_t *
router_daemon_ask(struct router_daemon *d, const char *cmd, const json_t *args,
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

/* ---- main loop ------------------------------------------------------------------------- */

/*
 * Starts what runs on UDP 1280: the sockets, the key exchange when the configuration has
 * a private key, and the path prober when it has peers (each unless already running).
 */
int
router_daemon_keys_open(struct router_daemon *d)
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
			if (router_daemon_reload(d, &err) < 0)
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
	if (daemon_devices_open(&d) < 0 || router_daemon_api_open(&d) < 0 ||
	    router_daemon_keys_open(&d) < 0 || router_daemon_worker_start(&d) < 0)
		goto out;
	log_info("router %s running: %zu LAN, %zu WAN, %zu peers, %zu services; API %s",
	    d.cfg->name, d.cfg->lan_count, d.cfg->wan_count, d.cfg->peer_count,
	    d.cfg->service_count, d.socket_path);
	status = daemon_loop(&d, sfd) < 0 ? 1 : 0;
out:
	router_daemon_worker_stop(&d, false);
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
