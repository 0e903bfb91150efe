/*
 * The policy engine: who is asking (tenant), what for (service), whether it may
 * (access rules, zero trust) and where it goes (the service's route), decided for a
 * session's first packet and, with the same code, for `ternctl policy test`.
 *
 * Model (docs/policy.md):
 * - A tenant is assigned by the LAN segment a packet arrives on and its source address:
 *   the longest of the tenant source prefixes of that segment that contains the source
 *   wins; no prefix matches: the segment's default tenant; none: no tenant. Tenants of
 *   different segments may use the same addresses.
 * - A service is identified by prefixes, domain names ("name" exactly or "*.suffix" for
 *   any name below suffix), application names (nDPI), or nothing (any destination), and
 *   filtered by (protocol, port range) entries (none: any). The best matching service
 *   wins, compared by, in order: the evidence (application > SNI/domain of the query >
 *   the name DNS gave for the destination > destination prefix > any destination), its
 *   specificity (an exact name beats a wildcard, a longer suffix or prefix beats a
 *   shorter), the port entry (a named protocol beats any protocol, then a narrower
 *   range), then the service defined first.
 * - Rules name a tenant or any, a service or any, and allow or deny. For the
 *   (tenant, service) of a session, every rule matching it counts: a deny beats any
 *   allow (the first matching deny, in rule order, is reported); else the first
 *   matching allow allows; else nothing does: default deny. "Any service" means any
 *   defined service: traffic to no service is refused whatever the rules say.
 *
 * Invariants: a struct policy is immutable once built: it copies every name and list
 * from the config, so the config may be freed at once. Ids are the caller's (router
 * config indices, typically); each must be unique within its kind.
 *
 * Threads: policy_new() and policy_free() on the control thread; any number of threads
 * may call policy_classify() and the accessors on a built policy at the same time. The
 * DNS cache a query names belongs to the calling thread (policy_dns_cache.h).
 */
#ifndef TERN_POLICY_POLICY_ENGINE_H
#define TERN_POLICY_POLICY_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"

struct policy;
struct policy_dns_cache;

/* "No such object" (tenant, service, rule, route target) and "any" in a rule. */
#define POLICY_ID_NONE UINT32_MAX
#define POLICY_ID_ANY  (UINT32_MAX - 1)

/* Longest domain name (text, without the trailing dot and NUL) and application name. */
#define POLICY_DOMAIN_MAX 253
#define POLICY_APP_MAX    63
/* Shortest buffer policy_decision_format() fills without cutting a typical explanation. */
#define POLICY_EXPLAIN_TEXT_MAX 1024

enum policy_route_kind {
	POLICY_ROUTE_NONE = 0,
	POLICY_ROUTE_PEER = 1,     /* an SVR peer router: target is a peer id */
	POLICY_ROUTE_LAN = 2,      /* a local LAN segment: target is a segment id */
	POLICY_ROUTE_BREAKOUT = 3, /* local internet breakout with source NAT: a WAN id */
};

enum policy_action {
	POLICY_ALLOW = 1,
	POLICY_DENY = 2,
};

enum policy_verdict {
	POLICY_VERDICT_ALLOW = 1,
	POLICY_VERDICT_DENY_BY_RULE = 2,
	POLICY_VERDICT_NO_RULE = 3,    /* no rule allows: default deny */
	POLICY_VERDICT_NO_SERVICE = 4, /* the destination is no service */
	POLICY_VERDICT_NO_TENANT = 5,  /* the segment and source give no tenant */
};

/* How the tenant was found. */
enum policy_tenant_by {
	POLICY_TENANT_BY_NONE = 0,
	POLICY_TENANT_BY_PREFIX = 1,
	POLICY_TENANT_BY_DEFAULT = 2, /* the segment's default tenant */
};

/* How the service matched (the evidence, best first but for NONE). */
enum policy_service_by {
	POLICY_SERVICE_BY_NONE = 0,
	POLICY_SERVICE_BY_APP = 5,
	POLICY_SERVICE_BY_DOMAIN = 4, /* the query's domain (the TLS SNI) */
	POLICY_SERVICE_BY_DNS = 3,    /* the name a DNS answer gave for the destination */
	POLICY_SERVICE_BY_PREFIX = 2,
	POLICY_SERVICE_BY_ANY = 1, /* a service with no prefix, domain or application */
};

/* ---- Configuration, as the router config parser fills it (all borrowed). ---- */

struct policy_segment_config {
	uint32_t id;
	const char *name;
	uint32_t default_tenant_id; /* POLICY_ID_NONE: no default */
};

/* Packets from prefix arriving on segment_id belong to the tenant. */
struct policy_tenant_source {
	uint32_t segment_id;
	struct prefix prefix;
};

struct policy_tenant_config {
	uint32_t id;
	const char *name;
	const struct policy_tenant_source *sources;
	size_t source_count;
	uint32_t max_sessions;  /* 0: no limit */
	uint32_t max_new_per_s; /* new sessions per second; 0: no limit */
};

/*
 * proto 0 is any protocol. The range applies to TCP, UDP, UDP-Lite and SCTP; a packet
 * of another protocol matches only an entry whose range is the whole 0..65535.
 */
struct policy_port_range {
	uint8_t proto;
	uint16_t port_lo, port_hi; /* inclusive, lo <= hi */
};

struct policy_service_config {
	uint32_t id;
	const char *name;
	const struct prefix *prefixes;
	size_t prefix_count;
	const struct policy_port_range *ports; /* none: any protocol and port */
	size_t port_count;
	const char *const *domains; /* "example.com" or "*.example.com", any case */
	size_t domain_count;
	const char *const *apps; /* nDPI application names, any case */
	size_t app_count;
	uint8_t route_kind; /* enum policy_route_kind */
	uint32_t route_target_id;
	const char *route_target_name; /* for explanations; may be NULL */
};

struct policy_rule_config {
	uint32_t id;
	const char *name;    /* may be NULL */
	uint32_t tenant_id;  /* or POLICY_ID_ANY */
	uint32_t service_id; /* or POLICY_ID_ANY */
	uint8_t action;      /* enum policy_action */
};

struct policy_config {
	const struct policy_segment_config *segments;
	size_t segment_count;
	const struct policy_tenant_config *tenants;
	size_t tenant_count;
	const struct policy_service_config *services;
	size_t service_count;
	const struct policy_rule_config *rules; /* in order: the first deny/allow is reported */
	size_t rule_count;
};

/* ---- Decisions. ---- */

/* A session's first packet, or the operator's what-if question. */
struct policy_query {
	uint32_t segment_id;
	struct addr src, dst;
	uint8_t proto;
	uint16_t dst_port;
	const char *domain; /* the TLS SNI or another name the client asked for; may be NULL */
	const char *app;    /* the nDPI application name; may be NULL */
	/* Names learnt from DNS answers (may be NULL), looked up at now_ns. */
	struct policy_dns_cache *dns;
	uint64_t now_ns;
};

struct policy_decision {
	uint8_t verdict;     /* enum policy_verdict */
	uint32_t tenant_id;  /* POLICY_ID_NONE when none */
	uint32_t service_id; /* POLICY_ID_NONE when none */
	uint32_t rule_id;    /* the deciding rule; POLICY_ID_NONE for the other verdicts */
	uint8_t route_kind;  /* the service's route; NONE without a service */
	uint32_t route_target_id;
	/* Evidence, for the explanation. Indices are into the policy's own arrays. */
	uint32_t tenant_index, service_index, rule_index; /* UINT32_MAX when none */
	uint8_t tenant_by;                                /* enum policy_tenant_by */
	struct prefix tenant_prefix;                      /* with POLICY_TENANT_BY_PREFIX */
	uint8_t service_by;                               /* enum policy_service_by */
	struct prefix service_prefix;                     /* with POLICY_SERVICE_BY_PREFIX */
	uint32_t service_pattern; /* the domain or app entry that matched, by index */
	uint32_t port_entry;      /* the port entry that matched; UINT32_MAX: no port list */
};

/*
 * Builds a policy from cfg. 0 and *out (owned by the caller, policy_free()) or:
 * -EINVAL a malformed entry (bad prefix, name, range, action, route kind), -EEXIST a
 * duplicate id or a tenant source prefix given twice in one segment, -ENOENT a reference
 * to an unknown segment, tenant or service, -ENOMEM. err (err_len bytes, may be NULL)
 * receives one line that says which entry and why.
 */
int policy_new(const struct policy_config *cfg, struct policy **out, char *err, size_t err_len);
void policy_free(struct policy *p); /* accepts NULL */

/*
 * Decides q and fills *out (always). Returns 0 when the verdict is ALLOW, -EACCES
 * otherwise (out->verdict says why). Never allocates; the only state it writes is the
 * reference bit of a DNS cache entry it uses.
 */
int policy_classify(const struct policy *p, const struct policy_query *q,
    struct policy_decision *out);

/*
 * The rules alone, for a tenant and a service already known by their ids (the egress
 * learns both from metadata, not from addresses): fills *out's tenant, service, rule and
 * verdict as policy_classify() would for that pair (deny beats allow, default deny).
 * 0 for ALLOW; -EACCES otherwise (NO_TENANT / NO_SERVICE for an unknown id).
 */
int policy_decide_rules(const struct policy *p, uint32_t tenant_id, uint32_t service_id,
    struct policy_decision *out);

/*
 * The operator's explanation of d (made by policy_classify(p, q, d)) into buf (len
 * bytes, always NUL-terminated when len > 0), e.g. "tenant corp (segment corp,
 * 10.1.0.0/24); service b-web (prefix 10.2.0.0/24, tcp/80); verdict allow by rule 3
 * (corp -> b-web allow); route peer site-b". Returns the length of the full text (like
 * snprintf: >= len means it was cut).
 */
int policy_decision_format(const struct policy *p, const struct policy_query *q,
    const struct policy_decision *d, char *buf, size_t len);

/* Stable names of the enums, for the CLI and JSON: "allow", "deny-by-rule", ... */
const char *policy_verdict_name(uint8_t verdict);
const char *policy_route_kind_name(uint8_t kind);

/* Counts and names by the policy's own indices (borrowed, valid while p lives). */
uint32_t policy_tenant_count(const struct policy *p);
uint32_t policy_service_count(const struct policy *p);
/* The index of the tenant with this id, or -ENOENT. */
int policy_tenant_index(const struct policy *p, uint32_t tenant_id);
const char *policy_tenant_name(const struct policy *p, uint32_t tenant_index);
const char *policy_service_name(const struct policy *p, uint32_t service_index);
/* The limits of a tenant, by index (0: none). */
void policy_tenant_limits(const struct policy *p, uint32_t tenant_index, uint32_t *max_sessions,
    uint32_t *max_new_per_s);

#endif
