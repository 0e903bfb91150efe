/*
 * The running router's local API (router_daemon.h, inside in router_daemon_int.h): the
 * command table, and the commands of their own: status, interfaces, peers, drops,
 * services/tenants/apps, config and reload. Sessions, paths and events, and `policy
 * test` have files of their own (router_daemon_api_*.c).
 *
 * An answer is built on the worker thread from the worker's own state (the mailbox,
 * router_daemon_answer()); a handler runs on the control thread and adds what lives
 * there (keys, prober, resolver).
 */
#include "router/router_daemon_int.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/io_afpacket.h"
#include "io/io_tun.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "router/router_drops.h"
#include "router/router_keys.h"
#include "router/router_learn.h"
#include "router/router_paths.h"
#include "router/router_resolve.h"
#include "router/router_status.h"

#ifndef TERN_VERSION
#define TERN_VERSION "unknown"
#endif

/* ---- answers (built on the worker thread, from its own state) -------------------------- */

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

json_t *
router_daemon_answer(struct router_daemon *d, const char *cmd, const json_t *args)
{
	if (strcmp(cmd, "policy_test") == 0)
		return router_daemon_policy_test_answer(d);
	if (strcmp(cmd, "stats") == 0)
		return daemon_answer_stats(d);
	if (strcmp(cmd, "session") == 0)
		return router_daemon_session_answer(d, args);
	if (strcmp(cmd, "paths") == 0)
		return router_daemon_paths_answer(d);
	if (strcmp(cmd, "sessions") == 0)
		return router_daemon_sessions_answer(d, args);
	if (strcmp(cmd, "drops") == 0)
		return daemon_answer_drops(d);
	if (strcmp(cmd, "peers") == 0)
		return daemon_answer_peers(d);
	if (strcmp(cmd, "interfaces") == 0)
		return daemon_answer_interfaces(d);
	return daemon_answer_status(d);
}

/* ---- API handlers (control thread) ----------------------------------------------------- */

int
router_daemon_api_ask(const json_t *args, json_t **result, struct router_api_error *err, void *ctx,
    const char *cmd)
{
	*result = router_daemon_ask(ctx, cmd, args, err);
	return *result != NULL ? 0 : -ETIMEDOUT;
}

#define DAEMON_API_ASK(name)                                                                       \
	static int daemon_api_##name(const json_t *args, json_t **result,                          \
	    struct router_api_error *err, void *ctx)                                               \
	{                                                                                          \
		return router_daemon_api_ask(args, result, err, ctx, #name);                       \
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
	int rc = router_daemon_api_ask(args, &all, err, ctx, "stats");

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
	int rc = router_daemon_api_ask(args, result, err, ctx, "peers");

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

/* The worker's drops plus the handshake's, under the same reason names. */
static int
daemon_api_drops(const json_t *args, json_t **result, struct router_api_error *err, void *ctx)
{
	struct router_daemon *d = ctx;
	int rc = router_daemon_api_ask(args, result, err, ctx, "drops");

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

static int
daemon_api_reload(const json_t *args, json_t **result, struct router_api_error *err, void *ctx)
{
	struct router_daemon *d = ctx;
	int rc;

	(void)args;
	rc = router_daemon_reload(d, err);
	if (rc < 0)
		return rc;
	*result = json_pack("{s:I, s:s, s:I, s:o}", "generation", (json_int_t)(d->reloads + 1),
	    "config_file", d->options->config_path, "sessions_kept",
	    (json_int_t)d->reload_last.kept, "sessions_ended",
	    daemon_reload_ended_json(d->reload_last.ended));
	return 0;
}

int
router_daemon_api_open(struct router_daemon *d)
{
	static const struct {
		const char *name;
		int (*handler)(const json_t *, json_t **, struct router_api_error *, void *);
	} commands[] = {
	    {"status", daemon_api_status},
	    {"sessions", daemon_api_sessions},
	    {"session", router_daemon_api_session},
	    {"peers", daemon_api_peers},
	    {"paths", router_daemon_api_paths},
	    {"events", router_daemon_api_events},
	    {"drops", daemon_api_drops},
	    {"interfaces", daemon_api_interfaces},
	    {"config", daemon_api_config},
	    {"reload", daemon_api_reload},
	    {"policy_test", router_daemon_api_policy_test},
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
