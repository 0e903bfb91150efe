/* Peer paths on the control thread; see router_paths.h. */
#include "router/router_paths.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "path/path_probe.h"
#include "path/path_prober.h"
#include "pkt/pkt_drop.h"
#include "router/router_drops.h"

#define ROUTER_PATHS_MS 1000000ull

struct router_paths {
	const struct router_config *cfg;
	struct router_ops *ops;
	struct router_wansock *ws;
	struct router_keys *keys;
	struct path_prober *prober;
	uint64_t next_metrics_ns;
	struct path_events events;
};

/* The prober's path ids are the configuration's plus one (the prober reserves 0). */
static uint32_t
router_paths_cfg_id(uint32_t prober_id)
{
	return prober_id - 1;
}

static struct crypto_aead *
router_paths_open_key(void *arg, uint32_t peer_id, uint32_t key_index)
{
	struct router_paths *rp = arg;

	return router_keys_probe_open_key(rp->keys, peer_id, key_index);
}

static void
router_paths_send_key(void *arg, uint32_t peer_id, struct crypto_aead *key, uint32_t index)
{
	struct router_paths *rp = arg;

	path_prober_set_send_key(rp->prober, peer_id, key, index);
}

static void
router_paths_metrics(const struct path_status *st, struct router_worker_path_metrics *m)
{
	memset(m, 0, sizeof(*m));
	m->measured = st->measured;
	m->latency_us = st->latency_avg_us;
	m->jitter_us = st->jitter_us;
	m->loss_pct = st->loss_pct;
	m->mos = st->mos;
}

static void
router_paths_push(struct router_paths *rp, uint32_t cfg_path, enum router_worker_op_kind kind)
{
	struct router_worker_op op = {.kind = kind, .path_id = cfg_path};
	struct path_status st;

	if (path_prober_status(rp->prober, cfg_path + 1, &st) < 0)
		return;
	op.path_up = st.state == PATH_STATE_UP;
	router_paths_metrics(&st, &op.metrics);
	router_ops_push(rp->ops, &op);
}

/*
 * A NAT binding (docs/decisions/0008-nat.md): a learn path tells the worker where its
 * peer is now (new sessions, accepting the peer's, the relay); a path behind a NAT whose
 * mapping changed has every session re-bound.
 */
static void
router_paths_binding(struct router_paths *rp, const struct path_event *e)
{
	uint32_t id = router_paths_cfg_id(e->path_id);
	struct router_worker_op op = {.path_id = id};

	if (id >= rp->cfg->path_count)
		return;
	if (e->reason == PATH_BINDING_PEER_LEARNED || e->reason == PATH_BINDING_PEER_MOVED) {
		if (!rp->cfg->paths[id].remote_auto)
			return;
		op.kind = ROUTER_WORKER_PATH_REMOTE;
		op.remote = e->remote;
		op.remote_port = e->remote_port;
		router_ops_push(rp->ops, &op);
	} else if (e->reason == PATH_BINDING_OURS_CHANGED && rp->cfg->paths[id].nat) {
		op.kind = ROUTER_WORKER_PATH_REBIND;
		router_ops_push(rp->ops, &op);
	}
}

static bool
router_paths_endpoint(void *arg, uint32_t path_id, struct addr *to, uint16_t *port)
{
	struct router_paths *rp = arg;
	struct path_status st;

	if (path_prober_status(rp->prober, path_id + 1, &st) < 0 || (st.learn && !st.learned))
		return false;
	*to = st.remote;
	*port = st.remote_port;
	return true;
}

static void
router_paths_handle_events(struct router_paths *rp)
{
	for (unsigned i = 0; i < rp->events.count; i++) {
		const struct path_event *e = &rp->events.ev[i];

		if (e->kind == PATH_EVENT_SEND)
			router_wansock_send(rp->ws, e->local_id, &e->remote, e->remote_port, e->msg,
			    e->len);
		else if (e->kind == PATH_EVENT_STATE)
			router_paths_push(rp, router_paths_cfg_id(e->path_id),
			    ROUTER_WORKER_PATH_STATE);
		else if (e->kind == PATH_EVENT_BINDING)
			router_paths_binding(rp, e);
	}
	rp->events.count = 0;
	rp->events.overflow = 0;
}

/*
 * The path of prev_cfg that path i of cfg is, unchanged: the same name, peer and WAN (by
 * name) and remote (both learnt, or the same address). -1 none.
 */
static long
router_paths_same(const struct router_config *cfg, size_t i, const struct router_config *prev_cfg)
{
	const struct router_config_path *np = &cfg->paths[i];

	for (size_t o = 0; o < prev_cfg->path_count; o++) {
		const struct router_config_path *op = &prev_cfg->paths[o];

		if (strcmp(np->name, op->name) == 0 &&
		    strcmp(cfg->peers[np->peer_id].name, prev_cfg->peers[op->peer_id].name) == 0 &&
		    strcmp(cfg->wans[np->wan_id].name, prev_cfg->wans[op->wan_id].name) == 0 &&
		    addr_equal(&cfg->wans[np->wan_id].waypoint,
		        &prev_cfg->wans[op->wan_id].waypoint) &&
		    np->remote_auto == op->remote_auto &&
		    (np->remote_auto || addr_equal(&np->remote, &op->remote)))
			return (long)o;
	}
	return -1;
}

int
router_paths_new(const struct router_config *cfg, struct router_ops *ops, struct router_wansock *ws,
    struct router_keys *keys, const struct path_prober *prev, const struct router_config *prev_cfg,
    uint64_t now_ns, struct router_paths **out, char *why, size_t why_len)
{
	struct path_prober_config pc = {.paths_max = (uint32_t)cfg->path_count};
	struct router_paths *rp = calloc(1, sizeof(*rp));
	int rc = -ENOMEM;

	*out = NULL;
	if (rp == NULL)
		goto fail;
	rp->cfg = cfg;
	rp->ops = ops;
	rp->ws = ws;
	rp->keys = keys;
	if (pc.paths_max == 0)
		pc.paths_max = 1;
	if (keys != NULL) {
		pc.open_key = router_paths_open_key;
		pc.open_key_arg = rp;
	}
	rc = path_prober_new(&pc, now_ns, &rp->prober);
	if (rc < 0)
		goto fail;
	for (size_t i = 0; i < cfg->path_count; i++) {
		const struct router_config_path *cp = &cfg->paths[i];
		struct path_spec spec = {.peer_id = cp->peer_id,
		    .path_id = (uint32_t)i + 1,
		    .local_id = cp->wan_id,
		    .local = cfg->wans[cp->wan_id].waypoint,
		    .remote = cp->remote,
		    .learn = cp->remote_auto};

		spec.cfg.interval_ns = cp->probe.interval_ms * ROUTER_PATHS_MS;
		spec.cfg.down_after = cp->probe.down_after;
		spec.cfg.hold_down_ns = cp->probe.hold_down_ms * ROUTER_PATHS_MS;
		spec.cfg.hold_down_max_ns = cp->probe.hold_down_max_ms * ROUTER_PATHS_MS;
		/* A hold-down of 0 is a real setting; the prober reads 0 as its default. */
		if (spec.cfg.hold_down_ns == 0)
			spec.cfg.hold_down_ns = 1;
		if (spec.cfg.hold_down_max_ns < spec.cfg.hold_down_ns)
			spec.cfg.hold_down_max_ns = spec.cfg.hold_down_ns;
		rc = path_prober_add_path(rp->prober, &spec, now_ns);
		if (rc < 0) {
			snprintf(why, why_len, "cannot probe path %s of peer %s: %s", cp->name,
			    cfg->peers[cp->peer_id].name, strerror(-rc));
			goto fail_why;
		}
	}
	/* A reload keeps the keys: a restarted sequence would reuse nonces and be replays. */
	path_prober_carry(rp->prober, prev);
	/*
	 * A path the reload left as it was keeps what the prober knew of it: reported down
	 * until it answers again, it would fail over the sessions the worker carried.
	 */
	for (size_t i = 0; prev != NULL && prev_cfg != NULL && i < cfg->path_count; i++) {
		long o = router_paths_same(cfg, i, prev_cfg);

		if (o >= 0)
			(void)path_prober_carry_path(rp->prober, (uint32_t)i + 1, prev,
			    (uint32_t)o + 1);
	}
	/* A new path is not usable until it answers. */
	for (size_t i = 0; i < cfg->path_count; i++)
		router_paths_push(rp, (uint32_t)i, ROUTER_WORKER_PATH_STATE);
	if (keys != NULL) {
		router_keys_set_probe_hook(keys, router_paths_send_key, rp);
		router_keys_set_endpoint_hook(keys, router_paths_endpoint, rp);
	}
	rp->next_metrics_ns = now_ns + ROUTER_PATHS_METRICS_NS;
	*out = rp;
	return 0;
fail:
	snprintf(why, why_len, "cannot start the path prober: %s", strerror(-rc));
fail_why:
	router_paths_free(rp);
	return rc;
}

struct path_prober *
router_paths_free_keep(struct router_paths *rp)
{
	struct path_prober *p;

	if (rp == NULL)
		return NULL;
	p = rp->prober;
	rp->prober = NULL;
	if (rp->keys != NULL) {
		router_keys_set_probe_hook(rp->keys, NULL, NULL);
		router_keys_set_endpoint_hook(rp->keys, NULL, NULL);
	}
	free(rp);
	return p;
}

void
router_paths_free(struct router_paths *rp)
{
	if (rp == NULL)
		return;
	if (rp->keys != NULL && rp->prober != NULL) {
		router_keys_set_probe_hook(rp->keys, NULL, NULL);
		router_keys_set_endpoint_hook(rp->keys, NULL, NULL);
	}
	path_prober_free(rp->prober);
	free(rp);
}

void
router_paths_receive(struct router_paths *rp, uint32_t wan, const struct addr *from,
    uint16_t from_port, const uint8_t *msg, size_t len, uint64_t now_ns)
{
	/* Refusals are counted by the prober (router_paths_drops_add()). */
	(void)path_prober_receive(rp->prober, wan, from, from_port, msg, len, now_ns, &rp->events);
	router_paths_handle_events(rp);
}

void
router_paths_tick(struct router_paths *rp, uint64_t now_ns)
{
	path_prober_tick(rp->prober, now_ns, &rp->events);
	router_paths_handle_events(rp);
	if (now_ns < rp->next_metrics_ns)
		return;
	rp->next_metrics_ns = now_ns + ROUTER_PATHS_METRICS_NS;
	for (size_t i = 0; i < rp->cfg->path_count; i++)
		router_paths_push(rp, (uint32_t)i, ROUTER_WORKER_PATH_METRICS);
}

uint64_t
router_paths_next_ns(const struct router_paths *rp)
{
	uint64_t next = path_prober_next_ns(rp->prober);

	return next < rp->next_metrics_ns ? next : rp->next_metrics_ns;
}

static double
router_paths_ms(uint64_t us)
{
	return round((double)us / 10.0) / 100.0; /* 0.01 ms */
}

/*
 * NAT: where the peer's probes come from (its translated port when it is behind a NAT)
 * and where ours are seen (our own translated address and port).
 */
static void
router_paths_nat_json(json_t *entry, const struct router_config_path *cp,
    const struct path_status *st)
{
	char text[ADDR_TEXT_MAX];

	if (entry == NULL)
		return;
	json_object_set_new(entry, "remote_port", json_integer(st->remote_port));
	json_object_set_new(entry, "nat",
	    json_string(cp->remote_auto ? "peer-behind" :
	            cp->nat             ? "behind" :
	                                  "none"));
	if (st->has_reflexive) {
		addr_format(&st->reflexive, text, sizeof(text));
		json_object_set_new(entry, "reflexive", json_string(text));
		json_object_set_new(entry, "reflexive_port", json_integer(st->reflexive_port));
	} else {
		json_object_set_new(entry, "reflexive", json_null());
		json_object_set_new(entry, "reflexive_port", json_null());
	}
	json_object_set_new(entry, "binding_changes", json_integer(st->binding_changes));
}

json_t *
router_paths_json(const struct router_paths *rp, const uint32_t *sessions, uint64_t now_ns)
{
	const struct router_config *cfg = rp->cfg;
	json_t *list = json_array();

	for (size_t i = 0; i < cfg->path_count; i++) {
		const struct router_config_path *cp = &cfg->paths[i];
		struct path_status st;
		char local[ADDR_TEXT_MAX], remote[ADDR_TEXT_MAX];

		if (path_prober_status(rp->prober, (uint32_t)i + 1, &st) < 0)
			continue;
		json_t *entry;

		addr_format(&st.local, local, sizeof(local));
		if (st.learn && !st.learned)
			snprintf(remote, sizeof(remote), "auto");
		else
			addr_format(&st.remote, remote, sizeof(remote));
		entry =
		    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:f, s:I, "
		              "s:f, s:I, s:I, s:I, s:I, s:I}",
		        "peer", cfg->peers[cp->peer_id].name, "name", cp->name, "interface",
		        cfg->wans[cp->wan_id].device, "local", local, "remote", remote, "state",
		        path_state_name((enum path_state)st.state), "latency_ms",
		        st.measured ? json_real(router_paths_ms(st.latency_us)) : json_null(),
		        "latency_avg_ms",
		        st.measured ? json_real(router_paths_ms(st.latency_avg_us)) : json_null(),
		        "jitter_ms",
		        st.measured ? json_real(router_paths_ms(st.jitter_us)) : json_null(),
		        "loss_pct",
		        st.measured ? json_real(round(st.loss_pct * 100.0) / 100.0) : json_null(),
		        "mos", st.measured ? json_real(round(st.mos * 100.0) / 100.0) : json_null(),
		        "hold_down_s", (double)st.hold_down_ns / 1e9, "flaps", (json_int_t)st.flaps,
		        "since_s",
		        now_ns > st.since_ns ? (double)(now_ns - st.since_ns) / 1e9 : 0.0,
		        "probes_sent", (json_int_t)st.probes_sent, "probes_received",
		        (json_int_t)st.probes_received, "probe_bytes_sent",
		        (json_int_t)st.bytes_sent, "probe_bytes_received",
		        (json_int_t)st.bytes_received, "sessions",
		        (json_int_t)(sessions != NULL ? sessions[i] : 0));
		router_paths_nat_json(entry, cp, &st);
		json_array_append_new(list, entry);
	}
	return json_pack("{s:o}", "paths", list);
}

const struct path_log *
router_paths_log(const struct router_paths *rp)
{
	return path_prober_log(rp->prober);
}

void
router_paths_prober_drops_count(const struct path_prober *p, struct pkt_drop_counters *c)
{
	struct path_prober_stats st;

	path_prober_stats(p, &st);
	c->count[PKT_DROP_PROBE_MALFORMED] += st.malformed;
	c->count[PKT_DROP_PROBE_UNKNOWN_PATH] += st.unknown_path;
	c->count[PKT_DROP_PROBE_UNKNOWN_KEY] += st.unknown_key;
	c->count[PKT_DROP_PROBE_BAD_TAG] += st.bad_tag;
	c->count[PKT_DROP_PROBE_REPLAY] += st.replayed;
}

void
router_paths_drops_count(const struct router_paths *rp, struct pkt_drop_counters *c)
{
	router_paths_prober_drops_count(rp->prober, c);
}

void
router_paths_drops_add(const struct router_paths *rp, json_t *list)
{
	struct pkt_drop_counters c;

	memset(&c, 0, sizeof(c));
	router_paths_prober_drops_count(rp->prober, &c);
	for (int i = 0; i < PKT_DROP_COUNT; i++)
		if (c.count[i] != 0)
			router_drops_add(list, (enum pkt_drop_reason)i, c.count[i]);
}
