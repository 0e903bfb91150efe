/*
 * The running router's sessions for the API (router_daemon_api.c has the command
 * table): `show sessions` and `show session ID`, each session as JSON with its tuples,
 * counters, protection, application, second leg and hub leg.
 */
#include "router/router_daemon_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "lib/clock.h"
#include "path/path_select.h"
#include "router/router_learn.h"

#define DAEMON_SESSIONS_MAX 1000
/* Breakout sessions are listed with ids from here (past any SVR session index). */
#define DAEMON_BREAKOUT_ID_BASE SESSION_TABLE_CAPACITY_MAX

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

		/* At the egress the session goes into a LAN segment; `peer` says where from. */
		if (s->role == SESSION_ROLE_EGRESS && segment != NULL)
			snprintf(route, sizeof(route), "lan %s", segment);
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

json_t *
router_daemon_sessions_answer(struct router_daemon *d, const json_t *args)
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

/* One session with why it is on its path, or {"session": null}. */
json_t *
router_daemon_session_answer(struct router_daemon *d, const json_t *args)
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

/* ---- API handlers (control thread) ----------------------------------------------------- */

/* `show session ID`: the worker's session, or an error naming the id. */
int
router_daemon_api_session(const json_t *args, json_t **result, struct router_api_error *err,
    void *ctx)
{
	int rc = router_daemon_api_ask(args, result, err, ctx, "session");

	if (rc == 0 && json_is_null(json_object_get(*result, "session"))) {
		json_decref(*result);
		*result = NULL;
		router_api_error_set(err, "not-found", "no session with id %lld",
		    (long long)json_integer_value(json_object_get(args, "id")));
		return -ENOENT;
	}
	return rc;
}
