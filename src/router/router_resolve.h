/*
 * ternd's own resolution of the domain names its services list (docs/policy.md, "Names
 * in ternd"): A and AAAA queries for every exact name (a wildcard cannot be asked) to the
 * configured DNS servers (router_config.dns, else the nameservers of /etc/resolv.conf),
 * over non-blocking UDP sockets that the control thread polls, so nothing here ever
 * blocks. Answers are parsed by policy_dns_parse_answer() and must carry the id and the
 * name asked, from a server asked, to count. Each address is handed on through a
 * callback (the daemon queues it for the worker), and the name is asked again when its
 * shortest TTL, clamped to dns.min_ttl_s .. dns.max_ttl_s, runs out; a server that does
 * not answer within ROUTER_RESOLVE_TIMEOUT_MS is left for the next one.
 *
 * Threads: the control thread only.
 */
#ifndef TERN_ROUTER_ROUTER_RESOLVE_H
#define TERN_ROUTER_ROUTER_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "router/router_config.h"

#define ROUTER_RESOLVE_TIMEOUT_MS 2000u
/* Kept past the TTL in the data plane, so an address does not lapse before the answer
 * to the next query arrives. */
#define ROUTER_RESOLVE_GRACE_S 10u

struct router_resolve;

/*
 * name (borrowed from the configuration the resolver was made with) has addr for
 * ttl_s seconds.
 */
typedef void (
    *router_resolve_fn)(const char *name, const struct addr *addr, uint32_t ttl_s, void *arg);

/*
 * A resolver for cfg's exact service names (cfg must outlive it). resolv_conf is the file
 * read when cfg has no servers (NULL: /etc/resolv.conf). 0 and *out (NULL when there is
 * no name to resolve), -ENOENT no server to ask, -ENOMEM, or a socket's -errno.
 */
int router_resolve_new(const struct router_config *cfg, const char *resolv_conf,
    struct router_resolve **out);
void router_resolve_free(struct router_resolve *r); /* accepts NULL */
/* The servers' UDP port (53 unless a test says otherwise). */
void router_resolve_set_port(struct router_resolve *r, uint16_t port);

/* The sockets to poll for input (at most max); returns how many. */
size_t router_resolve_fds(const struct router_resolve *r, int *fds, size_t max);
/* When router_resolve_tick() has something to do. */
uint64_t router_resolve_next_ns(const struct router_resolve *r);
/* Sends the queries that are due (new, expired, or timed out). */
void router_resolve_tick(struct router_resolve *r, uint64_t now_ns);
/* Reads every waiting answer; calls fn for each address learnt. */
void router_resolve_read(struct router_resolve *r, uint64_t now_ns, router_resolve_fn fn,
    void *arg);

/*
 * One datagram from a server (read by router_resolve_read(); tests and the fuzzer call
 * it directly): counted as refused unless it answers a query in flight by id and type,
 * for the name asked.
 */
void router_resolve_answer(struct router_resolve *r, const uint8_t *msg, size_t len,
    uint64_t now_ns, router_resolve_fn fn, void *arg);
/* The id of query i (2 per name: A, AAAA) while it is in flight, else -1 (tests). */
int router_resolve_inflight_id(const struct router_resolve *r, size_t i);

struct router_resolve_stats {
	uint64_t queries;   /* sent */
	uint64_t answers;   /* accepted */
	uint64_t addresses; /* handed on */
	uint64_t refused;   /* datagrams not matching a query, or failing the parser */
	uint64_t timeouts;
};
const struct router_resolve_stats *router_resolve_stats(const struct router_resolve *r);
/* The names asked (borrowed) and how many. */
size_t router_resolve_count(const struct router_resolve *r);
const char *router_resolve_name(const struct router_resolve *r, size_t i);

#endif
