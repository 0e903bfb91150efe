/*
 * What a worker learns about the sessions it carries, for services defined by domain
 * name, TLS SNI and application (docs/policy.md, "Names in ternd"), and the per
 * service, tenant and application statistics.
 *
 * - DNS: answers delivered to a LAN host (UDP from port 53 on a session of that host)
 *   are parsed (policy_dns_parse_answer) into the worker's policy_dns_cache, keyed by
 *   the host's tenant; names ternd resolves itself (router_resolve.h) go in for every
 *   tenant. The classifier hands the cache to policy_classify().
 * - SNI: a TCP session's first client payload is read for a ClientHello; its server
 *   name is learnt for (LAN segment, server address) for ROUTER_LEARN_SNI_TTL_S (renewed
 *   by every ClientHello). The session was routed at its SYN, before any name was
 *   seen: the name decides the *next* sessions to that address (policy_query.domain).
 * - Applications: nDPI (src/dpi) on the first packets of each session, both
 *   directions, from a fixed pool; the result is kept on the session (for statistics)
 *   and learnt for (LAN segment, server address, port) for ROUTER_LEARN_APP_TTL_S, for
 *   the next sessions there (policy_query.app).
 *
 * Everything is preallocated from the sizes given to router_learn_new(): the caches
 * evict (clock, or direct-mapped for applications), the nDPI pool refuses (counted as
 * not inspected). Nothing here allocates, locks or logs per packet (nDPI's own per-flow
 * strings aside, dpi_app.h).
 *
 * Statistics cost nothing per packet: a session's bytes are added to its service,
 * tenant and application when it ends; the live sessions are summed when asked
 * (router_learn_stats_walk).
 *
 * Threads: the worker's.
 */
#ifndef TERN_ROUTER_ROUTER_LEARN_H
#define TERN_ROUTER_ROUTER_LEARN_H

#include <stdbool.h>
#include <stdint.h>

#include "dpi/dpi_app.h"
#include "lib/addr.h"
#include "policy/policy_dns_cache.h"
#include "policy/policy_engine.h"
#include "session/session_table.h"

#define ROUTER_LEARN_SNI_TTL_S 600u
#define ROUTER_LEARN_APP_TTL_S 600u
/* Client payload packets read for a ClientHello before giving up on a session. */
#define ROUTER_LEARN_SNI_PACKETS  4u
#define ROUTER_LEARN_TENANT_NONE  UINT16_MAX
#define ROUTER_LEARN_SERVICE_NONE UINT16_MAX

struct router_learn_config {
	uint32_t sessions;    /* session table capacity (per-session state) */
	uint32_t tenants;     /* tenant ids 0..tenants-1 */
	uint32_t services;    /* service ids 0..services-1 */
	uint32_t dns_entries; /* DNS cache size */
	uint32_t sni_entries; /* SNI cache size */
	uint32_t app_entries; /* learnt applications (rounded up to a power of two) */
	uint32_t dpi_flows;   /* nDPI pool; 0: no application identification */
	uint32_t dpi_packets; /* packets inspected per session at most */
};

/* Sessions and bytes of one service, tenant or application. */
struct router_learn_count {
	uint64_t sessions_total; /* ended + live */
	uint32_t sessions_now;
	uint64_t bytes[2]; /* enum session_dir: LAN to WAN, WAN to LAN */
};

struct router_learn_stats {
	uint64_t dns_answers; /* answers read */
	uint64_t dns_records; /* address records learnt from them */
	uint64_t dns_bad;     /* answers refused by the parser */
	uint64_t resolved;    /* addresses pushed by ternd's own resolver */
	uint64_t sni_learnt;  /* ClientHellos with a name */
	uint64_t sni_none;    /* first payloads without one (not TLS, no name, malformed) */
	uint64_t apps_learnt; /* sessions nDPI named */
};

struct router_learn;

/* NULL on allocation failure or a zero size (errno set). A dpi pool that nDPI cannot
 * make (errno ENOTSUP) leaves applications unidentified, not the worker unmade. */
struct router_learn *router_learn_new(const struct router_learn_config *cfg);
void router_learn_free(struct router_learn *l); /* accepts NULL */

struct policy_dns_cache *router_learn_dns(struct router_learn *l);
/* The nDPI pool, or NULL when applications are not identified. */
const struct dpi_app *router_learn_dpi(const struct router_learn *l);
const struct router_learn_stats *router_learn_stats(const struct router_learn *l);

/*
 * A DNS response (msg, len: the UDP payload) delivered to a host of tenant_id: its A and
 * AAAA records go into the DNS cache. Returns the records learnt or a negative errno
 * from policy_dns_parse_answer() (counted in dns_bad).
 */
int router_learn_dns_answer(struct router_learn *l, uint32_t tenant_id, const uint8_t *msg,
    size_t len, uint64_t now_ns);
/* ternd's own resolver: name has addr for ttl_s, for every tenant. */
void router_learn_resolved(struct router_learn *l, const char *name, const struct addr *addr,
    uint32_t ttl_s, uint64_t now_ns);

/*
 * What was learnt about a new session's destination: the SNI for (segment, dst) and the
 * application for (segment, dst, dport), each NULL when none (borrowed until the next
 * learn). sni_buf holds the name (POLICY_DOMAIN_MAX + 1 bytes).
 */
void router_learn_lookup(struct router_learn *l, uint16_t segment, const struct addr *dst,
    uint8_t proto, uint16_t dport, uint64_t now_ns, const char **sni, const char **app);

/*
 * A new session's first packet (l3, len: as it is on the LAN), before the session is
 * made: takes an nDPI slot and feeds it. Returns the slot for
 * router_learn_session_start(), or DPI_SLOT_NONE (no identification: pool empty or off;
 * or decided at once, *app then says what).
 */
uint32_t router_learn_first(struct router_learn *l, const uint8_t *l3, size_t len, uint64_t now_ns,
    uint16_t *app);
/* The session of router_learn_first() was not made: the slot goes back. */
void router_learn_first_abort(struct router_learn *l, uint32_t slot);
/*
 * The session is made at index: its tenant and service (for statistics), whether to
 * read its first client payload for an SNI (ingress TCP), and the slot and application
 * of router_learn_first(). Returns true when the session is to be inspected (the caller
 * sets SVR_SESSION_INSPECT and feeds router_learn_inspect()).
 */
bool router_learn_session_start(struct router_learn *l, uint32_t index, uint16_t tenant,
    uint16_t service, bool want_sni, uint32_t slot, uint16_t app);
/*
 * A packet of an inspected session: l3/len the IP packet as on the LAN, payload/plen its
 * L4 payload; from_client: it travels from the session's client; ingress: the session
 * began here (only then is anything learnt for later sessions, keyed by segment,
 * server, proto and port). Returns false when inspection is over (clear the flag).
 */
bool router_learn_inspect(struct router_learn *l, uint32_t index, const uint8_t *l3, size_t len,
    const uint8_t *payload, size_t plen, bool from_client, bool ingress, uint16_t segment,
    const struct addr *server, uint8_t proto, uint16_t port, uint64_t now_ns);
/* The session at index ended: its bytes go to its service, tenant and application. */
void router_learn_session_end(struct router_learn *l, uint32_t index, const struct session *s);
/* The session's tenant, service and application (DPI_APP_UNKNOWN until known). */
void router_learn_session_get(const struct router_learn *l, uint32_t index, uint16_t *tenant,
    uint16_t *service, uint16_t *app);

/*
 * The counts now into per-service (cfg.services entries), per-tenant (cfg.tenants) and
 * per-application (dpi_app_count(), or 1) arrays: ended sessions plus the live ones of
 * t, walked once (a control question, not per packet).
 */
void router_learn_stats_walk(const struct router_learn *l, struct session_table *t,
    struct router_learn_count *services, struct router_learn_count *tenants,
    struct router_learn_count *apps);
uint32_t router_learn_app_count(const struct router_learn *l);

/*
 * A reload (router_worker_adopt): what old counted goes on in l, so the statistics never
 * fall. The learners' and nDPI's counters and the applications' ended sessions add up
 * (application ids are nDPI's, the same in both); a service's or tenant's ended sessions
 * follow its name, which the caller turns into ids (router_learn_carry_service/tenant,
 * old_id of old's configuration, id of l's). Old's sessions that do not move must have
 * ended in old first (router_learn_session_end).
 */
void router_learn_carry(struct router_learn *l, const struct router_learn *old);
void router_learn_carry_service(struct router_learn *l, uint32_t id, const struct router_learn *old,
    uint32_t old_id);
void router_learn_carry_tenant(struct router_learn *l, uint32_t id, const struct router_learn *old,
    uint32_t old_id);

#endif
