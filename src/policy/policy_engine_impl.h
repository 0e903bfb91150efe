/*
 * The layout of a built policy (internal to src/policy: the engine builds and reads it,
 * the explanation formatter reads it). Everything is addressed by uint32_t index.
 */
#ifndef TERN_POLICY_POLICY_ENGINE_IMPL_H
#define TERN_POLICY_POLICY_ENGINE_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/addr.h"
#include "policy/policy_engine.h"

#define POLICY_INDEX_NONE UINT32_MAX
#define POLICY_INDEX_ANY  (UINT32_MAX - 1)

struct hash;
struct lpm;

struct policy_segment {
	uint32_t id;
	char *name;
	uint32_t default_tenant; /* index or POLICY_INDEX_NONE */
	struct lpm *sources;     /* source prefix -> tenant index; NULL when none */
};

struct policy_tenant {
	uint32_t id;
	char *name;
	uint32_t max_sessions;
	uint32_t max_new_per_s;
};

struct policy_service {
	uint32_t id;
	char *name;
	uint32_t prefix_first, prefix_count; /* policy.prefixes */
	uint32_t port_first, port_count;     /* policy.ports */
	uint32_t domain_first, domain_count; /* policy.domains (normalised text) */
	uint32_t app_first, app_count;       /* policy.apps (lower case) */
	bool matches_any;                    /* no prefix, domain or application */
	uint8_t route_kind;
	uint32_t route_target_id;
	char *route_target_name;
};

/* One domain or application pattern in a name index (chained on a digest collision). */
struct policy_name_entry {
	const char *text; /* without "*." for a wildcard; borrowed from policy.domains/apps */
	uint32_t service;
	uint32_t pattern; /* index within the service's domains or apps */
	uint32_t next;    /* next entry with the same digest, or POLICY_INDEX_NONE */
};

/* The services that share one destination prefix, and the next shorter such prefix. */
struct policy_prefix_group {
	struct prefix prefix;
	uint32_t first, count;           /* policy.group_services */
	uint32_t parent;                 /* POLICY_INDEX_NONE at the top */
	uint32_t rest_first, rest_count; /* policy.port_entries not in policy.port_exact */
	uint32_t exact_count;            /* entries in policy.port_exact */
	uint64_t exact_bloom;            /* bit (port ^ proto) % 64 of each: skips misses */
};

/*
 * One (service, port entry) of a group, with its rank (policy_engine.c, port_rank). A
 * service without a port list has one, for any protocol and port, of rank 1.
 */
struct policy_port_entry {
	uint32_t service;
	uint32_t rank;
	uint32_t port_entry; /* index in the service's list, or POLICY_INDEX_NONE */
	uint8_t proto;
	uint16_t port_lo, port_hi;
};

/* Key of policy.port_exact: one port of a named protocol with ports, in one group. */
struct policy_port_key {
	uint32_t group;
	uint8_t proto;
	uint8_t pad;
	uint16_t port;
};

struct policy_rule {
	uint32_t id;
	char *name;
	uint32_t tenant;  /* index or POLICY_INDEX_ANY */
	uint32_t service; /* index or POLICY_INDEX_ANY */
	uint8_t action;
};

/* The first deny and first allow rule for one (tenant or any, service or any) key. */
struct policy_rule_pair {
	uint32_t deny, allow; /* rule indices or POLICY_INDEX_NONE */
};

struct policy {
	struct policy_segment *segments;
	uint32_t segment_count;
	struct hash *segment_ids; /* id -> index */
	struct policy_tenant *tenants;
	uint32_t tenant_count;
	struct hash *tenant_ids;
	struct policy_service *services;
	uint32_t service_count;
	struct hash *service_ids;
	struct policy_rule *rules;
	uint32_t rule_count;

	struct prefix *prefixes; /* every service's prefixes, as configured */
	struct policy_port_range *ports;
	char **domains; /* normalised; "*.suffix" kept whole for explanations */
	char **apps;
	uint32_t prefix_total, port_total, domain_total, app_total;

	/* Service lookup. */
	struct lpm *dst; /* prefix -> group index */
	struct policy_prefix_group *groups;
	uint32_t group_count;
	uint32_t *group_services;
	uint32_t *any_services; /* services that match any destination */
	uint32_t any_count;
	uint32_t any_group; /* the group (not in dst) of those services */
	/*
	 * Per group, the best entry for a single port of TCP, UDP, UDP-Lite or SCTP (the
	 * highest rank there is) in port_exact, and every other entry in rest order: rank
	 * down, then service index up, so the first that fits is the group's best.
	 */
	struct policy_port_entry *port_entries;
	uint32_t port_entry_count;
	struct hash *port_exact;         /* struct policy_port_key -> port_entries index */
	struct policy_name_entry *names; /* exact domains, wildcards, applications */
	uint32_t name_count;
	struct hash *exact_index, *wildcard_index, *app_index; /* digest -> first entry */
	uint64_t name_seed;

	/* Rules: (tenant or ANY, service or ANY) -> struct policy_rule_pair. */
	struct hash *rule_index;
	struct policy_rule_pair *rule_pairs;
	uint32_t rule_pair_count;
	/*
	 * The same, laid out for the decision: no hashing. (any, any); per tenant (t, any);
	 * per service (any, s) and its (t, s) entries sorted by tenant.
	 */
	struct policy_rule_pair any_any;
	struct policy_rule_pair *tenant_any;  /* tenant_count */
	struct policy_rule_pair *service_any; /* service_count */
	uint32_t *service_rules_first;        /* service_count + 1 */
	struct policy_tenant_rule {
		uint32_t tenant;
		struct policy_rule_pair pair;
	} * service_rules;
	/* Segment ids below POLICY_SEGMENT_DIRECT_MAX index this array directly. */
	uint32_t *segment_direct;
	uint32_t segment_direct_len;
};

#define POLICY_SEGMENT_DIRECT_MAX 4096

#endif
