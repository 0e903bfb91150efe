/*
 * The running router's paths for the API (router_daemon_api.c has the command table):
 * `show paths` (the prober's view with the worker's session counts and carriage) and
 * `show events` (the prober's and the worker's logs, merged in time order).
 */
#include "router/router_daemon_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "path/path_log.h"
#include "path/path_prober.h"
#include "path/path_select.h"
#include "router/router_paths.h"

/* ---- answers (built on the worker thread, from its own state) -------------------------- */

/* Sessions per path, and the worker's failover events. */
json_t *
router_daemon_paths_answer(struct router_daemon *d)
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

/* ---- API handlers (control thread) ----------------------------------------------------- */

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
int
router_daemon_api_paths(const json_t *args, json_t **result, struct router_api_error *err,
    void *ctx)
{
	struct router_daemon *d = ctx;
	json_t *w = router_daemon_ask(d, "paths", args, err);
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
int
router_daemon_api_events(const json_t *args, json_t **result, struct router_api_error *err,
    void *ctx)
{
	struct router_daemon *d = ctx;
	json_t *w = router_daemon_ask(d, "paths", args, err), *list, *e, **all;
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
