/* What a worker learns about its sessions; see router_learn.h. */
#include "router/router_learn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash_fn.h"
#include "policy/policy_dns.h"
#include "policy/policy_sni.h"

#define LEARN_SEED 0x6c6561726e6e6d73ull

/* Per session index: what the statistics and the inspection need. */
struct learn_session {
	uint32_t dpi_slot; /* DPI_SLOT_NONE: not (or no longer) identifying */
	uint16_t tenant, service, app;
	uint8_t sni_left; /* client payload packets still to read for an SNI; 0: done */
	uint8_t live;
};

/* A learnt application of (segment, server, proto, port), direct-mapped by hash. */
struct learn_app {
	struct addr server;
	uint16_t segment, port;
	uint8_t proto;
	uint16_t app;
	uint64_t expires_ns; /* 0: empty */
};

struct router_learn {
	struct router_learn_config cfg;
	struct policy_dns_cache *dns;
	struct policy_dns_cache *sni; /* keyed by LAN segment, not tenant */
	struct learn_app *apps;
	uint32_t app_mask;
	struct dpi_app *dpi;
	struct learn_session *sessions;
	/* Ended sessions: [services], [tenants], [apps]. */
	struct router_learn_count *ended_services, *ended_tenants, *ended_apps;
	uint32_t app_count;
	struct router_learn_stats stats;
};

struct router_learn *
router_learn_new(const struct router_learn_config *cfg)
{
	struct router_learn *l;
	uint32_t apps = 1;

	if (cfg->sessions == 0 || cfg->dns_entries == 0 || cfg->sni_entries == 0 ||
	    cfg->app_entries == 0 || cfg->app_entries > (1u << 24)) {
		errno = EINVAL;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return NULL;
	l->cfg = *cfg;
	while (apps < cfg->app_entries)
		apps <<= 1;
	l->app_mask = apps - 1;
	if (cfg->dpi_flows > 0) {
		l->dpi = dpi_app_new(cfg->dpi_flows, cfg->dpi_packets ? cfg->dpi_packets : 8);
		if (l->dpi == NULL && errno != ENOTSUP)
			goto fail;
	}
	l->app_count = l->dpi != NULL ? dpi_app_count(l->dpi) : 1;
	l->dns = policy_dns_cache_new(cfg->dns_entries);
	l->sni = policy_dns_cache_new(cfg->sni_entries);
	l->apps = calloc(apps, sizeof(*l->apps));
	l->sessions = calloc(cfg->sessions, sizeof(*l->sessions));
	l->ended_services = calloc(cfg->services + 1, sizeof(*l->ended_services));
	l->ended_tenants = calloc(cfg->tenants + 1, sizeof(*l->ended_tenants));
	l->ended_apps = calloc(l->app_count, sizeof(*l->ended_apps));
	if (l->dns == NULL || l->sni == NULL || l->apps == NULL || l->sessions == NULL ||
	    l->ended_services == NULL || l->ended_tenants == NULL || l->ended_apps == NULL)
		goto fail;
	for (uint32_t i = 0; i < cfg->sessions; i++)
		l->sessions[i].dpi_slot = DPI_SLOT_NONE;
	return l;
fail:
	router_learn_free(l);
	errno = ENOMEM;
	return NULL;
}

void
router_learn_free(struct router_learn *l)
{
	if (l == NULL)
		return;
	dpi_app_free(l->dpi);
	policy_dns_cache_free(l->dns);
	policy_dns_cache_free(l->sni);
	free(l->apps);
	free(l->sessions);
	free(l->ended_services);
	free(l->ended_tenants);
	free(l->ended_apps);
	free(l);
}

struct policy_dns_cache *
router_learn_dns(struct router_learn *l)
{
	return l->dns;
}

const struct dpi_app *
router_learn_dpi(const struct router_learn *l)
{
	return l->dpi;
}

const struct router_learn_stats *
router_learn_stats(const struct router_learn *l)
{
	return &l->stats;
}

uint32_t
router_learn_app_count(const struct router_learn *l)
{
	return l->app_count;
}

struct learn_dns_ctx {
	struct router_learn *l;
	uint32_t tenant_id;
	uint64_t now_ns;
};

static int
router_learn_dns_record(const char *name, const struct addr *addr, uint32_t ttl_s, void *arg)
{
	struct learn_dns_ctx *c = arg;

	if (policy_dns_learn(c->l->dns, c->tenant_id, name, addr, ttl_s, c->now_ns) == 0)
		c->l->stats.dns_records++;
	return 0;
}

int
router_learn_dns_answer(struct router_learn *l, uint32_t tenant_id, const uint8_t *msg, size_t len,
    uint64_t now_ns)
{
	struct learn_dns_ctx c = {.l = l, .tenant_id = tenant_id, .now_ns = now_ns};
	int rc;

	l->stats.dns_answers++;
	rc = policy_dns_parse_answer(msg, len, router_learn_dns_record, &c);
	if (rc < 0)
		l->stats.dns_bad++;
	return rc;
}

void
router_learn_resolved(struct router_learn *l, const char *name, const struct addr *addr,
    uint32_t ttl_s, uint64_t now_ns)
{
	for (uint32_t t = 0; t < l->cfg.tenants; t++)
		policy_dns_learn(l->dns, t, name, addr, ttl_s, now_ns);
	l->stats.resolved++;
}

static struct learn_app *
router_learn_app_slot(const struct router_learn *l, uint16_t segment, const struct addr *server,
    uint8_t proto, uint16_t port)
{
	uint64_t h = hash_fn_bytes(LEARN_SEED, server->bytes, sizeof(server->bytes));

	h = hash_fn_mix(h ^ ((uint64_t)segment << 32 | (uint64_t)proto << 16 | port),
	    0x9e3779b97f4a7c15ull);
	return &l->apps[h & l->app_mask];
}

static bool
router_learn_app_is(const struct learn_app *a, uint16_t segment, const struct addr *server,
    uint8_t proto, uint16_t port)
{
	return a->segment == segment && a->proto == proto && a->port == port &&
	    addr_equal(&a->server, server);
}

void
router_learn_lookup(struct router_learn *l, uint16_t segment, const struct addr *dst, uint8_t proto,
    uint16_t dport, uint64_t now_ns, const char **sni, const char **app)
{
	const struct learn_app *a = router_learn_app_slot(l, segment, dst, proto, dport);

	*sni = policy_dns_lookup(l->sni, segment, dst, now_ns);
	*app = NULL;
	if (l->dpi != NULL && a->expires_ns > now_ns &&
	    router_learn_app_is(a, segment, dst, proto, dport))
		*app = dpi_app_name(l->dpi, a->app);
}

uint32_t
router_learn_first(struct router_learn *l, const uint8_t *l3, size_t len, uint64_t now_ns,
    uint16_t *app)
{
	uint32_t slot;

	*app = DPI_APP_UNKNOWN;
	if (l->dpi == NULL || dpi_app_start(l->dpi, &slot) < 0)
		return DPI_SLOT_NONE;
	if (dpi_app_feed(l->dpi, slot, l3, len, now_ns, app) == 1) {
		l->stats.apps_learnt += *app != DPI_APP_UNKNOWN;
		return DPI_SLOT_NONE;
	}
	return slot;
}

void
router_learn_first_abort(struct router_learn *l, uint32_t slot)
{
	if (l->dpi != NULL && slot != DPI_SLOT_NONE)
		dpi_app_stop(l->dpi, slot);
}

bool
router_learn_session_start(struct router_learn *l, uint32_t index, uint16_t tenant,
    uint16_t service, bool want_sni, uint32_t slot, uint16_t app)
{
	struct learn_session *ls;

	if (index >= l->cfg.sessions) {
		router_learn_first_abort(l, slot);
		return false;
	}
	ls = &l->sessions[index];
	/* A slot a session left behind (ended without session_end) goes back first. */
	if (ls->dpi_slot != DPI_SLOT_NONE && l->dpi != NULL)
		dpi_app_stop(l->dpi, ls->dpi_slot);
	*ls = (struct learn_session){.dpi_slot = slot,
	    .tenant = tenant,
	    .service = service,
	    .app = app,
	    .sni_left = want_sni ? ROUTER_LEARN_SNI_PACKETS : 0,
	    .live = 1};
	return ls->dpi_slot != DPI_SLOT_NONE || ls->sni_left > 0;
}

bool
router_learn_inspect(struct router_learn *l, uint32_t index, const uint8_t *l3, size_t len,
    const uint8_t *payload, size_t plen, bool from_client, bool ingress, uint16_t segment,
    const struct addr *server, uint8_t proto, uint16_t port, uint64_t now_ns)
{
	struct learn_session *ls;
	uint16_t app;

	if (index >= l->cfg.sessions)
		return false;
	ls = &l->sessions[index];
	if (ls->sni_left > 0 && from_client && ingress && plen > 0) {
		char name[POLICY_DOMAIN_MAX + 1];
		int rc = policy_tls_sni(payload, plen, name, sizeof(name));

		/* A ClientHello split over segments: the first holds the name almost always,
		 * and a later one alone is no ClientHello; so one payload packet decides. */
		ls->sni_left = 0;
		if (rc > 0 &&
		    policy_dns_learn(l->sni, segment, name, server, ROUTER_LEARN_SNI_TTL_S,
		        now_ns) == 0)
			l->stats.sni_learnt++;
		else
			l->stats.sni_none++;
	}
	if (ls->dpi_slot != DPI_SLOT_NONE &&
	    dpi_app_feed(l->dpi, ls->dpi_slot, l3, len, now_ns, &app) == 1) {
		ls->dpi_slot = DPI_SLOT_NONE;
		ls->app = app;
		l->stats.apps_learnt += app != DPI_APP_UNKNOWN;
		if (app != DPI_APP_UNKNOWN && ingress) {
			struct learn_app *a =
			    router_learn_app_slot(l, segment, server, proto, port);

			*a = (struct learn_app){.server = *server,
			    .segment = segment,
			    .port = port,
			    .proto = proto,
			    .app = app,
			    .expires_ns = now_ns + ROUTER_LEARN_APP_TTL_S * 1000000000ull};
		}
	}
	return ls->dpi_slot != DPI_SLOT_NONE || ls->sni_left > 0;
}

static void
router_learn_add(struct router_learn_count *c, const struct session *s, bool live)
{
	c->sessions_total++;
	c->sessions_now += live;
	c->bytes[0] += s->bytes[0];
	c->bytes[1] += s->bytes[1];
}

void
router_learn_session_end(struct router_learn *l, uint32_t index, const struct session *s)
{
	struct learn_session *ls;

	if (index >= l->cfg.sessions || !l->sessions[index].live)
		return;
	ls = &l->sessions[index];
	if (ls->dpi_slot != DPI_SLOT_NONE)
		dpi_app_stop(l->dpi, ls->dpi_slot);
	ls->dpi_slot = DPI_SLOT_NONE;
	ls->live = 0;
	if (ls->service < l->cfg.services)
		router_learn_add(&l->ended_services[ls->service], s, false);
	if (ls->tenant < l->cfg.tenants)
		router_learn_add(&l->ended_tenants[ls->tenant], s, false);
	router_learn_add(&l->ended_apps[ls->app < l->app_count ? ls->app : 0], s, false);
}

void
router_learn_session_get(const struct router_learn *l, uint32_t index, uint16_t *tenant,
    uint16_t *service, uint16_t *app)
{
	const struct learn_session *ls = index < l->cfg.sessions ? &l->sessions[index] : NULL;

	*tenant = ls != NULL && ls->live ? ls->tenant : ROUTER_LEARN_TENANT_NONE;
	*service = ls != NULL && ls->live ? ls->service : ROUTER_LEARN_SERVICE_NONE;
	*app = ls != NULL && ls->live ? ls->app : DPI_APP_UNKNOWN;
}

void
router_learn_stats_walk(const struct router_learn *l, struct session_table *t,
    struct router_learn_count *services, struct router_learn_count *tenants,
    struct router_learn_count *apps)
{
	memcpy(services, l->ended_services, l->cfg.services * sizeof(*services));
	memcpy(tenants, l->ended_tenants, l->cfg.tenants * sizeof(*tenants));
	memcpy(apps, l->ended_apps, l->app_count * sizeof(*apps));
	for (uint32_t i = session_table_next(t, 0); i != SESSION_INDEX_NONE;
	     i = session_table_next(t, i + 1)) {
		const struct learn_session *ls = i < l->cfg.sessions ? &l->sessions[i] : NULL;
		const struct session *s = session_table_get(t, i);

		if (ls == NULL || !ls->live)
			continue;
		if (ls->service < l->cfg.services)
			router_learn_add(&services[ls->service], s, true);
		if (ls->tenant < l->cfg.tenants)
			router_learn_add(&tenants[ls->tenant], s, true);
		router_learn_add(&apps[ls->app < l->app_count ? ls->app : 0], s, true);
	}
}

static void
router_learn_count_carry(struct router_learn_count *c, const struct router_learn_count *from)
{
	c->sessions_total += from->sessions_total;
	c->bytes[0] += from->bytes[0];
	c->bytes[1] += from->bytes[1];
}

void
router_learn_carry(struct router_learn *l, const struct router_learn *old)
{
	l->stats.dns_answers += old->stats.dns_answers;
	l->stats.dns_records += old->stats.dns_records;
	l->stats.dns_bad += old->stats.dns_bad;
	l->stats.resolved += old->stats.resolved;
	l->stats.sni_learnt += old->stats.sni_learnt;
	l->stats.sni_none += old->stats.sni_none;
	l->stats.apps_learnt += old->stats.apps_learnt;
	/* Without nDPI on one side, every application is Unknown (0) there. */
	for (uint32_t a = 0; a < old->app_count; a++)
		router_learn_count_carry(&l->ended_apps[a < l->app_count ? a : 0],
		    &old->ended_apps[a]);
	if (l->dpi != NULL && old->dpi != NULL)
		dpi_app_stats_carry(l->dpi, dpi_app_stats(old->dpi));
}

void
router_learn_carry_service(struct router_learn *l, uint32_t id, const struct router_learn *old,
    uint32_t old_id)
{
	if (id < l->cfg.services && old_id < old->cfg.services)
		router_learn_count_carry(&l->ended_services[id], &old->ended_services[old_id]);
}

void
router_learn_carry_tenant(struct router_learn *l, uint32_t id, const struct router_learn *old,
    uint32_t old_id)
{
	if (id < l->cfg.tenants && old_id < old->cfg.tenants)
		router_learn_count_carry(&l->ended_tenants[id], &old->ended_tenants[old_id]);
}
