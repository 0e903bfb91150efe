/*
 * A worker's paths (part of router_worker.h, the worker's inside in
 * router_worker_int.h): each service policy's costs and SLA verdicts per path, path
 * selection for new sessions and svr's path_pick, the sweeps that move sessions on a
 * failure or a revert, and the prober's path operations.
 */
#include "router/router_worker.h"
#include "router/router_worker_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash_fn.h"
#include "path/path_log.h"
#include "path/path_select.h"

static uint32_t
router_worker_policy_of(const struct router_worker *w, const struct router_config_service *svc)
{
	return svc->policy_name != NULL ? svc->policy_id : (uint32_t)w->cfg->policy_count;
}

static void router_worker_candidate(const struct router_worker *w, uint32_t policy, uint32_t path,
    struct path_candidate *c);

int
router_worker_paths_new(struct router_worker *w)
{
	const struct router_config *cfg = w->cfg;
	size_t npol = cfg->policy_count + 1, npath = cfg->path_count ? cfg->path_count : 1;

	w->policies = calloc(npol, sizeof(*w->policies));
	w->vector_costs = calloc(npol, sizeof(*w->vector_costs));
	w->path_costs = calloc(npol * npath, sizeof(*w->path_costs));
	w->sla_broken = calloc(npol * npath, sizeof(*w->sla_broken));
	w->metrics = calloc(npath, sizeof(*w->metrics));
	w->sweep_due = calloc(npath, sizeof(*w->sweep_due));
	w->sweep_kind = calloc(npath, sizeof(*w->sweep_kind));
	w->sweep_base = calloc(npath, sizeof(*w->sweep_base));
	w->revert_at = calloc(npol * npath, sizeof(*w->revert_at));
	w->relay_port = calloc(npath, sizeof(*w->relay_port));
	w->nat_rebind = calloc(npath, sizeof(*w->nat_rebind));
	w->nat_enable_full_ns = calloc(npath, sizeof(*w->nat_enable_full_ns));
	w->log = calloc(1, sizeof(*w->log));
	w->sla_log = calloc(1, sizeof(*w->sla_log));
	if (w->policies == NULL || w->vector_costs == NULL || w->path_costs == NULL ||
	    w->sla_broken == NULL || w->metrics == NULL || w->sweep_due == NULL ||
	    w->sweep_kind == NULL || w->sweep_base == NULL || w->revert_at == NULL ||
	    w->log == NULL || w->sla_log == NULL || w->relay_port == NULL ||
	    w->nat_rebind == NULL || w->nat_enable_full_ns == NULL)
		return -ENOMEM;
	path_log_init(w->log);
	path_log_init(w->sla_log);
	for (size_t i = 0; i < cfg->policy_count; i++) {
		const struct router_config_policy *cp = &cfg->policies[i];
		struct path_select_policy *pp = &w->policies[i];

		w->vector_costs[i] = calloc(cp->vector_cost_count ? cp->vector_cost_count : 1,
		    sizeof(*w->vector_costs[i]));
		if (w->vector_costs[i] == NULL)
			return -ENOMEM;
		for (size_t v = 0; v < cp->vector_cost_count; v++)
			w->vector_costs[i][v] =
			    (struct path_vector_cost){.vector = cp->vector_costs[v].vector,
			        .cost = cp->vector_costs[v].cost};
		pp->max_latency_us = cp->sla.max_latency_ms * 1000u;
		pp->max_jitter_us = cp->sla.max_jitter_ms * 1000u;
		pp->has_max_loss = cp->sla.has_max_loss;
		pp->max_loss_pct = cp->sla.max_loss_pct;
		pp->min_mos = cp->sla.min_mos;
		pp->vector_costs = w->vector_costs[i];
		pp->vector_cost_count = cp->vector_cost_count;
		pp->default_cost = cp->default_cost;
		pp->resiliency = cp->resiliency;
		pp->no_path = cp->no_path;
	}
	for (size_t i = 0; i < npol; i++)
		for (size_t p = 0; p < cfg->path_count; p++) {
			const struct router_config_wan *wan = &cfg->wans[cfg->paths[p].wan_id];
			struct path_candidate c;
			double value, limit;

			w->path_costs[i * npath + p] = path_select_cost(&w->policies[i],
			    (const char *const *)wan->vectors, wan->vector_count);
			/* Nothing measured yet: as the SLA check sees it, so the first
			 * measurement that meets it counts as a recovery. */
			router_worker_candidate(w, (uint32_t)i, (uint32_t)p, &c);
			w->sla_broken[i * npath + p] = path_select_sla_check(&w->policies[i], &c,
			                                   &value, &limit) != PATH_SLA_NONE;
		}
	return 0;
}

/* A flow's hash for load sharing: stable for the session (its original 5-tuple). */
uint64_t
router_worker_flow_hash(const struct pkt_buf *p, uint16_t lan)
{
	struct session_key key;

	memset(&key, 0, sizeof(key));
	if (svr_lan_key(p, lan, &key) < 0)
		return 0;
	return hash_fn_bytes(ROUTER_WORKER_FLOW_SEED, &key, sizeof(key));
}

static void
router_worker_candidate(const struct router_worker *w, uint32_t policy, uint32_t path,
    struct path_candidate *c)
{
	const struct router_worker_path_metrics *m = &w->metrics[path];
	size_t npath = w->cfg->path_count ? w->cfg->path_count : 1;

	c->path_id = path;
	c->up = w->paths[path].state == SVR_PATH_UP;
	c->cost = w->path_costs[policy * npath + path];
	if (m->measured) {
		c->latency_us = m->latency_us;
		c->jitter_us = m->jitter_us;
		c->loss_pct = m->loss_pct;
		c->mos = m->mos;
	} else {
		/* Unmeasured: it meets no SLA limit, and ranks last on quality. */
		c->latency_us = UINT32_MAX;
		c->jitter_us = UINT32_MAX;
		c->loss_pct = 100.0;
		c->mos = 1.0;
	}
}

/* Path selection for a session of svc toward the peer whose paths start at first. */
int
router_worker_select(const struct router_worker *w, const struct router_config_service *svc,
    uint32_t first, uint64_t flow_hash, struct path_choice *choice)
{
	const struct router_config_peer *peer = &w->cfg->peers[w->cfg->paths[first].peer_id];
	struct path_candidate cands[PATH_SELECT_CANDIDATES_MAX];
	uint32_t policy = router_worker_policy_of(w, svc);
	size_t n = peer->path_count < PATH_SELECT_CANDIDATES_MAX ? peer->path_count :
	                                                           PATH_SELECT_CANDIDATES_MAX;

	for (size_t i = 0; i < n; i++)
		router_worker_candidate(w, policy, peer->path_first + (uint32_t)i, &cands[i]);
	return path_select(&w->policies[policy], cands, n, flow_hash, choice);
}

uint64_t
router_worker_session_hash(const struct session *s)
{
	return hash_fn_bytes(ROUTER_WORKER_FLOW_SEED, s->uuid, sizeof(s->uuid));
}

/* svr's path_pick: where an ingress session that must be reconsidered goes. */
uint16_t
router_worker_path_pick(struct svr_router *rt, const struct session *s, void *arg)
{
	struct router_worker *w = arg;
	const struct router_config_service *svc;
	struct path_candidate current;
	struct path_choice choice;
	double value, limit;
	uint32_t policy;
	int rc;

	(void)rt;
	if (s->service_id >= w->cfg->service_count || s->path_id >= w->cfg->path_count)
		return SVR_PATH_NONE;
	svc = &w->cfg->services[s->service_id];
	policy = router_worker_policy_of(w, svc);
	rc = router_worker_select(w, svc, s->path_id, router_worker_session_hash(s), &choice);
	if (rc == -ENETUNREACH)
		return SVR_PATH_DROP;
	if (rc < 0 || choice.path_id == s->path_id)
		return SVR_PATH_NONE;
	router_worker_candidate(w, policy, s->path_id, &current);
	if (!path_select_should_move(&w->policies[policy], &current, &choice))
		return SVR_PATH_NONE;
	/*
	 * A move that is only a preference (the current path is up and meets the SLA) waits
	 * until the preferred path has met the SLA for its hold-down, whatever sweep asked.
	 */
	if (current.up &&
	    path_select_sla_check(&w->policies[policy], &current, &value, &limit) ==
	        PATH_SLA_NONE &&
	    w->revert_at[policy * w->cfg->path_count + choice.path_id] > w->now_ns)
		return SVR_PATH_NONE;
	return (uint16_t)choice.path_id;
}

/*
 * svr's dup_path_pick: the path for the second leg of a duplicated ingress session, the
 * best one of the policy that is not the first leg's (path_select's second choice when
 * the first leg is on its first).
 */
uint16_t
router_worker_dup_path_pick(struct svr_router *rt, const struct session *s, uint16_t leg_path,
    void *arg)
{
	struct router_worker *w = arg;
	struct path_choice choice;
	int rc;

	(void)rt;
	(void)leg_path;
	if (s->service_id >= w->cfg->service_count || s->path_id >= w->cfg->path_count)
		return SVR_PATH_NONE;
	rc = router_worker_select(w, &w->cfg->services[s->service_id], s->path_id,
	    router_worker_session_hash(s), &choice);
	if (rc < 0)
		return SVR_PATH_NONE;
	if (choice.path_id != s->path_id)
		return (uint16_t)choice.path_id;
	return choice.has_second ? (uint16_t)choice.second_path_id : SVR_PATH_NONE;
}

/*
 * Asks for a sweep of path: its sessions are reconsidered (moved off it when it failed,
 * moved back when a preferred path returned). The moves packets made lazily since count
 * too: the event says how many sessions were moved in all.
 */
static void
router_worker_sweep_ask(struct router_worker *w, uint32_t path, uint8_t failed)
{
	if (!w->sweep_due[path]) {
		w->sweep_base[path] = w->svr.stats.migrations;
		w->sweep_kind[path] = failed;
	}
	w->sweep_kind[path] |= failed;
	w->sweep_due[path] = 1;
}

/* Marks for a sweep every path of path's peer but path itself (revert candidates). */
static void
router_worker_sweep_siblings(struct router_worker *w, uint32_t path)
{
	const struct router_config_peer *peer = &w->cfg->peers[w->cfg->paths[path].peer_id];

	for (uint32_t p = peer->path_first; p < peer->path_first + peer->path_count; p++)
		if (p != path)
			router_worker_sweep_ask(w, p, 0);
}

/* New measurements: a path that starts or stops breaking a policy's SLA is swept. */
static void
router_worker_sla_update(struct router_worker *w, uint32_t path, bool first)
{
	size_t npath = w->cfg->path_count;

	for (size_t i = 0; i <= w->cfg->policy_count; i++) {
		struct path_candidate c;
		double value, limit;
		uint8_t broken, lim;

		router_worker_candidate(w, (uint32_t)i, path, &c);
		lim = path_select_sla_check(&w->policies[i], &c, &value, &limit);
		broken = lim != PATH_SLA_NONE;
		if (broken == w->sla_broken[i * npath + path])
			continue;
		w->sla_broken[i * npath + path] = broken;
		/* Logged once measured: an unmeasured path "breaks" every SLA by definition. */
		if (w->metrics[path].measured) {
			/* detail: the value that broke the limit (µs, or thousandths). */
			struct path_log_entry e = {.ts_ns = w->now_ns,
			    .kind = PATH_LOG_SLA_BREACH,
			    .reason = lim,
			    .peer_id = w->cfg->paths[path].peer_id,
			    .path_id = path,
			    .other_path_id = (uint32_t)i};

			if (lim == PATH_SLA_MAX_LATENCY || lim == PATH_SLA_MAX_JITTER)
				e.detail = (uint64_t)value;
			else if (lim != PATH_SLA_NONE)
				e.detail = (uint64_t)(value * 1000.0 + 0.5);
			path_log_append(w->sla_log, &e);
		}
		if (broken) {
			router_worker_sweep_ask(w, path, 1);
			w->revert_at[i * npath + path] = 0;
		} else { /* A path's first measurement is its first contact: no hold-down, as
			  * the prober brings a new path up at once. */
			uint64_t at = w->now_ns +
			    (first ? 0 :
			             (uint64_t)w->cfg->paths[path].probe.hold_down_ms * 1000000ull);

			/* 0 means "none due": a revert due at time 0 is due at 1 ns. */
			w->revert_at[i * npath + path] = at != 0 ? at : 1;
		}
	}
}

/* router_worker_int.h */
void
router_worker_sla_settle(struct router_worker *w, uint32_t path)
{
	size_t npath = w->cfg->path_count;

	for (size_t i = 0; i <= w->cfg->policy_count; i++) {
		struct path_candidate c;
		double value, limit;

		router_worker_candidate(w, (uint32_t)i, path, &c);
		w->sla_broken[i * npath + path] =
		    path_select_sla_check(&w->policies[i], &c, &value, &limit) != PATH_SLA_NONE;
	}
}

void
router_worker_path_op(struct router_worker *w, const struct router_worker_op *op)
{
	uint32_t path = op->path_id;
	bool first;
	uint8_t state;
	if (path >= w->cfg->path_count)
		return;
	first = op->metrics.measured && !w->metrics[path].measured;
	w->metrics[path] = op->metrics;
	if (op->kind == ROUTER_WORKER_PATH_STATE) {
		state = op->path_up ? SVR_PATH_UP : SVR_PATH_DOWN;
		if (state != w->paths[path].state) {
			w->paths[path].state = state;
			if (state == SVR_PATH_DOWN) {
				router_worker_sweep_ask(w, path, 1);
			} else {
				/* The prober held it down already: no second hold-down. */
				for (size_t i = 0; i <= w->cfg->policy_count; i++)
					w->revert_at[i * w->cfg->path_count + path] = 0;
				router_worker_sweep_siblings(w, path);
			}
		}
	}
	router_worker_sla_update(w, path, first);
}

/*
 * svr moved a session whose SYNs went unanswered to the UDP transform: the path's next
 * TCP sessions start as UDP (until the worker is made again: a reload or a restart
 * detects anew), and the first detection on a path is an event.
 */
void
router_worker_on_udp_transform(struct svr_router *rt, uint16_t path_id, void *arg)
{
	struct router_worker *w = arg;
	struct path_log_entry e = {.ts_ns = w->now_ns,
	    .kind = PATH_LOG_UDP_TRANSFORM,
	    .path_id = path_id,
	    .other_path_id = UINT32_MAX,
	    .detail = SVR_UDP_TRANSFORM_DETECT_SYNS};

	(void)rt;
	if (path_id >= w->cfg->path_count || w->paths[path_id].udp_transform)
		return;
	w->paths[path_id].udp_transform = true;
	e.peer_id = w->cfg->paths[path_id].peer_id;
	path_log_append(w->log, &e);
}

/* Sessions reconsidered per tick (100 ms): a million sessions move within 25 s. */
#define ROUTER_WORKER_SWEEP_BUDGET 4096

/* Runs the sweeps due, a bounded number of sessions per call. */
void
router_worker_sweep(struct router_worker *w, uint64_t now_ns)
{
	unsigned budget = ROUTER_WORKER_SWEEP_BUDGET;
	for (size_t i = 0; i < (w->cfg->policy_count + 1) * w->cfg->path_count; i++) {
		if (w->revert_at[i] != 0 && now_ns >= w->revert_at[i]) {
			w->revert_at[i] = 0;
			router_worker_sweep_siblings(w, (uint32_t)(i % w->cfg->path_count));
		}
	}
	for (uint32_t p = 0; p < w->cfg->path_count && budget > 0; p++) {
		unsigned moved;

		if (!w->sweep_due[p])
			continue;
		moved = svr_sessions_migrate_path(&w->svr, (uint16_t)p, budget, now_ns);
		budget = moved < budget ? budget - moved : 0;
		if (!svr_sessions_migrate_done(&w->svr, (uint16_t)p))
			break; /* one pass at a time: svr keeps one cursor */
		w->sweep_due[p] = 0;
		if (w->svr.stats.migrations > w->sweep_base[p]) {
			/* reason: 1 the path failed (failover), 0 a preferred one returned. */
			struct path_log_entry e = {.ts_ns = now_ns,
			    .kind = PATH_LOG_FAILOVER,
			    .reason = w->sweep_kind[p],
			    .peer_id = w->cfg->paths[p].peer_id,
			    .path_id = p,
			    .other_path_id = UINT32_MAX,
			    .detail = w->svr.stats.migrations - w->sweep_base[p]};

			path_log_append(w->log, &e);
		}
	}
}

/*
 * The path part of a route to the peer that serves svc (the service's policy: SLA,
 * costs, resiliency, over flow hash), or -ENETUNREACH when the policy prefers a drop.
 */
int
router_worker_peer_route(const struct router_worker *w, const struct router_config_service *svc,
    uint64_t hash, struct svr_route *route)
{
	const struct router_config_peer *peer = &w->cfg->peers[svc->route_id];
	struct path_choice choice;
	int rc;

	rc = router_worker_select(w, svc, peer->path_first, hash, &choice);
	if (rc == -ENETUNREACH)
		return rc;
	/* Nothing up at all: the first path, which may still carry something. */
	route->path_id = (uint16_t)(rc == 0 ? choice.path_id : peer->path_first);
	/* Duplicated: a second leg on the next best path, or later when one comes up. */
	route->duplicate =
	    w->policies[router_worker_policy_of(w, svc)].resiliency == PATH_RESILIENCY_DUPLICATE;
	route->dup_path_id =
	    (uint16_t)(rc == 0 && choice.has_second ? choice.second_path_id : SVR_PATH_NONE);
	/* The config's encryption values are svr's modes, in the same order. */
	route->encrypt = svc->encryption;
	return 0;
}

const struct svr_path *
router_worker_path(const struct router_worker *w, uint32_t path_id)
{
	return path_id < w->cfg->path_count ? &w->paths[path_id] : NULL;
}

int
router_worker_session_explain(const struct router_worker *w, const struct session *s, char *buf,
    size_t len)
{
	const char *names[PATH_SELECT_CANDIDATES_MAX];
	const struct router_config_peer *peer;
	struct path_choice choice;
	int rc;

	if (s->service_id >= w->cfg->service_count || s->path_id >= w->cfg->path_count)
		return -ENOENT;
	peer = &w->cfg->peers[w->cfg->paths[s->path_id].peer_id];
	rc = router_worker_select(w, &w->cfg->services[s->service_id], s->path_id,
	    router_worker_session_hash(s), &choice);
	if (rc < 0 && rc != -ENETUNREACH && rc != -EHOSTUNREACH)
		return rc;
	for (uint32_t i = 0; i < peer->path_count && i < PATH_SELECT_CANDIDATES_MAX; i++)
		names[i] = w->cfg->paths[peer->path_first + i].name;
	return path_choice_format(&choice, names, buf, len);
}

uint32_t
router_worker_path_sessions(const struct router_worker *w, uint32_t path_id)
{
	struct session_table *t = w->svr.sessions;
	uint32_t n = 0;

	for (uint32_t i = session_table_next(t, 0); i != SESSION_INDEX_NONE;
	     i = session_table_next(t, i + 1))
		n += session_table_get(t, i)->path_id == path_id;
	return n;
}

const struct path_log *
router_worker_log(const struct router_worker *w)
{
	return w->log;
}

const struct path_log *
router_worker_sla_log(const struct router_worker *w)
{
	return w->sla_log;
}
