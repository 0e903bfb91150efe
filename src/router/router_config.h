/*
 * The router's configuration: one JSON document (docs/configuration.md) parsed and
 * validated into an immutable snapshot.
 *
 * Invariants of a snapshot returned by router_config_parse() or router_config_load():
 * - it is allocated once and never modified; every string and array belongs to it and
 *   router_config_free() releases all of it;
 * - every object is addressed by its index in its list, and that index is its id:
 *   tenant ids are 0..tenant_count-1, and so on. Every reference between objects is
 *   resolved to such an id and is in range (the *_name fields keep the text the
 *   operator wrote, for display);
 * - names are unique within their list (path names within their peer);
 * - addresses and prefixes are valid, prefixes have no host bits set, and a path's
 *   remote has the family of its WAN's waypoint.
 * - every path's probe timers are resolved (path, then peer, then defaults), in range,
 *   and hold_down_max_ms >= hold_down_ms; a service's policy_id names its policy;
 * - a rule's tenant_id and service_id name an entry or are ROUTER_CONFIG_ID_ANY, and no
 *   tenant or service is named "any" (rules use the word for every one).
 *
 * Errors are collected, not stopped at: a parse reports every problem it finds, each
 * with the JSON path of the value at fault (router_config_errors.h).
 *
 * Threads: parse and load are pure functions of their input, callable from any thread;
 * a snapshot may be read by any number of threads at once (it never changes), and freed
 * once no thread reads it any more (the caller's epoch or RCU scheme decides when).
 */
#ifndef TERN_ROUTER_ROUTER_CONFIG_H
#define TERN_ROUTER_ROUTER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "router/router_config_errors.h"

/* Longest name (router, tenant, LAN, WAN, peer, path, service, vector), without NUL. */
#define ROUTER_CONFIG_NAME_MAX 63
/* Longest network device name (Linux IFNAMSIZ - 1). */
#define ROUTER_CONFIG_DEVICE_MAX 15
/* Most entries in one top-level list ("lan", "wan", "peers", "tenants", "services"). */
#define ROUTER_CONFIG_LIST_MAX 4096
/* Most items in one inner list (prefixes, ports, access, vectors, paths of a peer). */
#define ROUTER_CONFIG_ITEMS_MAX 1024
/* Longest file name in the configuration (private_key_file). */
#define ROUTER_CONFIG_FILE_NAME_MAX 1024
/* Key lifetime: the key exchange rekeys at least this often (svr-profile section 6). */
#define ROUTER_CONFIG_REKEY_MIN_S     2
#define ROUTER_CONFIG_REKEY_MAX_S     120
#define ROUTER_CONFIG_REKEY_DEFAULT_S 120
/* Largest file router_config_load() reads. */
#define ROUTER_CONFIG_FILE_MAX (16u << 20)

#define ROUTER_CONFIG_TIMEOUT_MIN_S 1
#define ROUTER_CONFIG_TIMEOUT_MAX_S 86400
#define ROUTER_CONFIG_SESSIONS_MIN  1
#define ROUTER_CONFIG_SESSIONS_MAX  16777216
/* Sessions whose application nDPI identifies at once (limits.inspected_sessions). */
#define ROUTER_CONFIG_INSPECTED_DEFAULT 1024
#define ROUTER_CONFIG_INSPECTED_MAX     65536
#define ROUTER_CONFIG_SESSIONS_DEFAULT  262144

/* Service policies (svr-profile section 7). */
#define ROUTER_CONFIG_COST_MAX   1000000
#define ROUTER_CONFIG_SLA_MS_MAX 60000 /* max_latency_ms, max_jitter_ms: 1..this */
#define ROUTER_CONFIG_MOS_MIN    1.0
#define ROUTER_CONFIG_MOS_MAX    4.5
/* Path probes: range and default of each key of a "probe" object. */
#define ROUTER_CONFIG_PROBE_INTERVAL_MIN_MS          10
#define ROUTER_CONFIG_PROBE_INTERVAL_MAX_MS          10000
#define ROUTER_CONFIG_PROBE_INTERVAL_DEFAULT_MS      100
#define ROUTER_CONFIG_PROBE_DOWN_AFTER_MIN           1
#define ROUTER_CONFIG_PROBE_DOWN_AFTER_MAX           100
#define ROUTER_CONFIG_PROBE_DOWN_AFTER_DEFAULT       3
#define ROUTER_CONFIG_PROBE_HOLD_DOWN_MAX_MS         600000
#define ROUTER_CONFIG_PROBE_HOLD_DOWN_DEFAULT_MS     5000
#define ROUTER_CONFIG_PROBE_HOLD_DOWN_CAP_MAX_MS     3600000 /* limit of hold_down_max_ms */
#define ROUTER_CONFIG_PROBE_HOLD_DOWN_CAP_DEFAULT_MS 120000

/* Per-tenant limits (policy_limits.h); 0 is no limit. */
#define ROUTER_CONFIG_TENANT_SESSIONS_MAX 16777216
#define ROUTER_CONFIG_TENANT_RATE_MAX     1000000

struct router_config_tenant {
	char *name;
	uint32_t max_sessions;  /* "limits.sessions": sessions at once; 0: no limit */
	uint32_t max_new_per_s; /* "limits.new_sessions_per_s"; 0: no limit */
};

/*
 * Hosts of a LAN segment whose source address falls in one of prefixes belong to this
 * tenant rather than the segment's (the longest prefix of the segment wins).
 */
struct router_config_lan_tenant {
	char *tenant_name;  /* as written */
	uint32_t tenant_id; /* index into router_config.tenants */
	struct prefix *prefixes;
	size_t prefix_count; /* at least 1 */
};

struct router_config_lan {
	char *name;
	char *tenant_name;   /* as written; tenants[tenant_id].name */
	uint32_t tenant_id;  /* index into router_config.tenants */
	char *device;        /* TUN device; "tern-<name>" unless set */
	struct addr address; /* the router's own address on the segment (host bits kept) */
	uint8_t address_len; /* its prefix length: 1..32 or 1..128 */
	struct prefix *prefixes;
	size_t prefix_count;
	/*
	 * Addresses that clients of other sites take here when their own address falls
	 * inside this segment's prefixes (overlapping sites); routed into the TUN.
	 */
	bool has_nat_pool;
	struct prefix nat_pool;
	/* Tenants by source prefix on this segment ("tenants"); the rest is tenant_id's. */
	struct router_config_lan_tenant *tenants;
	size_t tenant_count;
	/*
	 * The kernel interface the segment's hosts are on ("interface"), or NULL. With it,
	 * ternd gives the segment a routing table of its own, chosen by input interface, so
	 * segments may use the same addresses (router_routes.h).
	 */
	char *interface;
};

struct router_config_wan {
	char *name;
	char *device;
	struct addr waypoint;
	char **vectors;
	size_t vector_count;
};

/*
 * Probe timers of a path (svr-profile section 7). A path's "probe" keys override its
 * peer's, which override the defaults; the snapshot holds the result in every path.
 */
struct router_config_probe {
	uint32_t interval_ms;      /* a probe every this often */
	uint32_t down_after;       /* missed probes in a row that make the path down */
	uint32_t hold_down_ms;     /* good for this long before a down path is up again */
	uint32_t hold_down_max_ms; /* the hold-down doubles per flap up to this; >= hold_down_ms */
};

/* A path belongs to exactly one peer; all paths live in one flat list, id = index. */
struct router_config_path {
	char *name; /* the WAN's name unless set */
	uint32_t peer_id;
	char *wan_name;
	uint32_t wan_id;
	/*
	 * Same family as the WAN's waypoint. With remote_auto, the unspecified address of
	 * that family (0.0.0.0 or ::) until the prober learns the peer's translated one.
	 */
	struct addr remote;
	struct router_config_probe probe; /* resolved: path, then peer, then defaults */
	/*
	 * TCP sessions on this path travel as UDP (a middlebox drops TCP SYNs with data).
	 * Always set with remote_auto or nat (docs/decisions/0008-nat.md).
	 */
	bool udp_transform;
	/*
	 * "auto": TCP starts as TCP and the path turns to the UDP transform by itself when a
	 * session's SYNs with metadata go unanswered (udp_transform is then false).
	 */
	bool udp_transform_auto;
	/* "remote": "auto": the peer is behind a NAT; learn its address from its probes. */
	bool remote_auto;
	/* "nat": true: this router reaches the peer through a NAT (keep-alives, re-binds). */
	bool nat;
};

struct router_config_peer {
	char *name;
	struct router_config_probe probe; /* the peer's own keys over the defaults */
	bool has_public_key;   /* a valid key; required when the router has a private key */
	bool public_key_given; /* written in the document (valid or already reported) */
	uint8_t public_key[32];
	uint32_t path_first; /* this peer's paths are paths[path_first .. +path_count) */
	uint32_t path_count; /* at least 1 */
};

/* Protocol numbers as on the wire; ICMP covers ICMPv6 too (the prefix family decides). */
enum router_config_proto {
	ROUTER_CONFIG_PROTO_ICMP = 1,
	ROUTER_CONFIG_PROTO_TCP = 6,
	ROUTER_CONFIG_PROTO_UDP = 17,
};

struct router_config_ports {
	uint8_t proto;       /* enum router_config_proto */
	uint16_t port_first; /* 1..65535, or 0..65535 for "tcp"/"udp" alone and ICMP */
	uint16_t port_last;  /* >= port_first */
};

enum router_config_route_kind {
	ROUTER_CONFIG_ROUTE_PEER = 1, /* route_id indexes peers */
	ROUTER_CONFIG_ROUTE_LAN = 2,  /* route_id indexes lans */
	/* Local internet breakout with source NAT: route_id indexes wans. */
	ROUTER_CONFIG_ROUTE_BREAKOUT = 3,
};

/* Payload encryption of a service's sessions (svr-profile section 6). */
enum router_config_encryption {
	ROUTER_CONFIG_ENCRYPTION_AUTO = 0, /* encrypt unless the traffic is already encrypted */
	ROUTER_CONFIG_ENCRYPTION_ON = 1,   /* always encrypt */
	ROUTER_CONFIG_ENCRYPTION_OFF = 2,  /* never encrypt the payload (metadata still sealed) */
};

/* The payload cipher; the order matches enum crypto_aead_alg. */
enum router_config_cipher {
	ROUTER_CONFIG_CIPHER_AES_256_GCM = 0,
	ROUTER_CONFIG_CIPHER_CHACHA20_POLY1305 = 1,
};

/* Resiliency of a policy's sessions; the values match enum path_resiliency. */
enum router_config_resiliency {
	ROUTER_CONFIG_RESILIENCY_FAILOVER = 0,
	ROUTER_CONFIG_RESILIENCY_NONE = 1,
	ROUTER_CONFIG_RESILIENCY_REVERTIBLE_FAILOVER = 2,
	ROUTER_CONFIG_RESILIENCY_DUPLICATE = 3,
};

/* What a session gets when no path meets the SLA; the values match enum path_no_path. */
enum router_config_no_path {
	ROUTER_CONFIG_NO_PATH_BEST_EFFORT = 0,
	ROUTER_CONFIG_NO_PATH_DROP = 1,
};

/* SLA limits of a service policy; 0 (has_max_loss false) means no limit. */
struct router_config_sla {
	uint32_t max_latency_ms; /* one way; 0 or 1..ROUTER_CONFIG_SLA_MS_MAX */
	uint32_t max_jitter_ms;  /* 0 or 1..ROUTER_CONFIG_SLA_MS_MAX */
	bool has_max_loss;
	double max_loss_pct; /* 0..100, fractions allowed */
	double min_mos;      /* 0, or ROUTER_CONFIG_MOS_MIN..ROUTER_CONFIG_MOS_MAX */
};

struct router_config_vector_cost {
	char *vector;  /* a vector label; it need not be carried by a WAN of this router */
	uint32_t cost; /* 0..ROUTER_CONFIG_COST_MAX */
};

struct router_config_policy {
	char *name;
	struct router_config_sla sla;
	struct router_config_vector_cost *vector_costs; /* names unique */
	size_t vector_cost_count;
	/*
	 * Cost of a path none of whose vectors is listed (and of a path whose WAN has no
	 * vectors): as written, else 0 when vector_costs is empty and ROUTER_CONFIG_COST_MAX
	 * otherwise, so unlisted paths are the last resort.
	 */
	uint32_t default_cost;
	uint8_t resiliency; /* enum router_config_resiliency */
	uint8_t no_path;    /* enum router_config_no_path */
};

struct router_config_service {
	char *name;
	char *policy_name;       /* NULL: no policy (no SLA, cost 0 everywhere, failover) */
	uint32_t policy_id;      /* index into router_config.policies when policy_name is set */
	uint8_t encryption;      /* enum router_config_encryption */
	struct prefix *prefixes; /* at least one unless domains or apps are given */
	size_t prefix_count;
	/* Domain names ("name" or "*.suffix", lower case, no trailing dot) and nDPI
	 * application names (as nDPI spells them); either may be empty. */
	char **domains;
	size_t domain_count;
	char **apps;
	size_t app_count;
	struct router_config_ports *ports; /* none means every protocol and port */
	size_t port_count;
	/* Tenants that may reach the service: each an implicit allow rule (may be none). */
	char **access_names; /* as written; tenants[access_tenant_ids[i]].name */
	uint32_t *access_tenant_ids;
	size_t access_count;
	uint8_t route_kind; /* enum router_config_route_kind */
	char *route_name;
	uint32_t route_id;
	bool has_address;
	struct addr address; /* the address hosts of other sites use; the egress translates it
	                        to the service's one host prefix, the real server */
};

enum router_config_action {
	ROUTER_CONFIG_ACTION_ALLOW = 1,
	ROUTER_CONFIG_ACTION_DENY = 2,
};

/* "any" in a rule: every tenant, or every service. */
#define ROUTER_CONFIG_ID_ANY UINT32_MAX

/*
 * An access rule (docs/policy.md): (tenant or any, service or any, allow or deny). A
 * deny that matches a session wins over every allow; with no allow, a session is
 * refused (zero trust). Each services[].access entry is an implicit allow rule too.
 */
struct router_config_rule {
	char *name;
	char *tenant_name;  /* as written: a tenant's name or "any" */
	uint32_t tenant_id; /* index into tenants, or ROUTER_CONFIG_ID_ANY */
	char *service_name; /* as written: a service's name or "any" */
	uint32_t service_id;
	uint8_t action; /* enum router_config_action */
};

/* Idle timeouts in seconds, defaults filled in (session/session_table.h). */
struct router_config_timeouts {
	uint32_t tcp_opening_s;
	uint32_t tcp_established_s;
	uint32_t tcp_closing_s;
	uint32_t udp_s;
	uint32_t icmp_s;
};

/*
 * The router's identity for peer keys. Without a private key file the router runs
 * without security: metadata unsealed and payloads in clear (a warning at start).
 */
struct router_config_security {
	char *private_key_file; /* NULL: no security; else absolute (load) or as written */
	uint8_t cipher;         /* enum router_config_cipher */
	uint32_t rekey_after_s; /* ROUTER_CONFIG_REKEY_MIN_S..MAX_S */
};

/*
 * How ternd resolves the services' domain names itself ("dns"): the servers to ask (none:
 * the nameservers of /etc/resolv.conf, read when the resolver starts) and the bounds of
 * the re-resolution interval, which is the answer's TTL clamped to them.
 */
#define ROUTER_CONFIG_DNS_SERVERS_MAX   8
#define ROUTER_CONFIG_DNS_MIN_TTL_S     5u
#define ROUTER_CONFIG_DNS_MAX_TTL_S     86400u
#define ROUTER_CONFIG_DNS_MIN_DEFAULT_S 10u
#define ROUTER_CONFIG_DNS_MAX_DEFAULT_S 3600u
struct router_config_dns {
	struct addr servers[ROUTER_CONFIG_DNS_SERVERS_MAX];
	size_t server_count;
	uint32_t min_ttl_s, max_ttl_s; /* min <= max */
};

/* What the stateful firewall does with a TCP segment that opens no session. */
enum router_config_tcp_no_session {
	ROUTER_CONFIG_TCP_NO_SESSION_DROP = 0,
	ROUTER_CONFIG_TCP_NO_SESSION_RESET = 1, /* and answer the LAN host with a RST */
};

#define ROUTER_CONFIG_RESETS_PER_S_DEFAULT 100u
#define ROUTER_CONFIG_RESETS_PER_S_MAX     100000u

/* "firewall" (docs/configuration.md, docs/policy.md "Stateful firewall"). */
struct router_config_firewall {
	uint8_t tcp_no_session; /* enum router_config_tcp_no_session */
	uint32_t half_open_max; /* TCP sessions not yet established, at once; 0: no cap */
	uint32_t resets_per_s;  /* RSTs the router sends at most, per second */
};

struct router_config {
	char *name;
	struct router_config_security security;
	struct router_config_tenant *tenants;
	size_t tenant_count;
	struct router_config_lan *lans;
	size_t lan_count;
	struct router_config_wan *wans;
	size_t wan_count;
	struct router_config_peer *peers;
	size_t peer_count;
	struct router_config_path *paths;
	size_t path_count;
	struct router_config_policy *policies; /* "service_policies" */
	size_t policy_count;
	struct router_config_service *services;
	size_t service_count;
	struct router_config_rule *rules; /* in order; names unique */
	size_t rule_count;
	struct router_config_timeouts timeouts;
	uint32_t sessions_max;
	uint32_t inspected_max; /* nDPI flow states; 0: applications are not identified */
	struct router_config_dns dns;
	struct router_config_firewall firewall;
};

/*
 * Parses and validates len bytes of JSON text (no NUL needed). On success returns 0 and
 * sets *out to a new snapshot the caller owns (free with router_config_free()).
 * Otherwise *out is NULL and it returns -EINVAL, with every problem appended to errors
 * (which the caller initialized), or -ENOMEM (errors may hold what was found before).
 */
int router_config_parse(const char *text, size_t len, struct router_config **out,
    struct router_config_errors *errors);

/*
 * Reads the file at path and parses it; sets errors' file name to path for printing.
 * A file that cannot be read is one error entry at "$" naming the system error, and
 * -EINVAL like any other invalid configuration; -ENOMEM as router_config_parse().
 */
int router_config_load(const char *path, struct router_config **out,
    struct router_config_errors *errors);

/* Releases a snapshot and everything it owns; NULL is fine. */
void router_config_free(struct router_config *cfg);

/*
 * Checks the invariants listed at the top of this file, independently of the parser
 * that established them: for tests, fuzzers and assertions, not per packet
 * (quadratic in list sizes).
 */
bool router_config_is_consistent(const struct router_config *cfg);

/* Lookups by name for the control plane (not the data path): id or -ENOENT. */
int router_config_tenant_find(const struct router_config *cfg, const char *name);
int router_config_service_find(const struct router_config *cfg, const char *name);
int router_config_peer_find(const struct router_config *cfg, const char *name);
int router_config_lan_find(const struct router_config *cfg, const char *name);
int router_config_wan_find(const struct router_config *cfg, const char *name);
int router_config_policy_find(const struct router_config *cfg, const char *name);
int router_config_rule_find(const struct router_config *cfg, const char *name);

#endif
