/*
 * Names learnt from DNS answers: which name a tenant's DNS answer gave for an address,
 * until the answer's TTL runs out, so that a service defined by a domain name matches
 * the addresses its clients were told to use.
 *
 * Structure: a fixed number of entries keyed by (tenant id, address) in a lib/hash
 * index; each keeps one name (the last answer wins: an address several names share,
 * like a CDN's, means the name asked last) and its expiry. When the cache is full, a
 * clock hand evicts the first expired entry, or the first one not used since the hand
 * last passed it (second chance): memory never grows, and the names in use stay.
 *
 * TTLs are clamped to POLICY_DNS_TTL_MIN_S..POLICY_DNS_TTL_MAX_S: a client connects to
 * an address right after a TTL-0 answer, and a week-long TTL should not pin an entry.
 *
 * Threads: none inside. One cache per thread that feeds and reads it (a worker: the
 * DNS answers it forwards and the sessions it classifies); keys are tenant ids, not
 * policy indices, so a cache survives a policy reload.
 */
#ifndef TERN_POLICY_POLICY_DNS_CACHE_H
#define TERN_POLICY_POLICY_DNS_CACHE_H

#include <stdint.h>

#include "lib/addr.h"
#include "policy/policy_engine.h"

#define POLICY_DNS_TTL_MIN_S          5u
#define POLICY_DNS_TTL_MAX_S          86400u
#define POLICY_DNS_CACHE_CAPACITY_MAX (1u << 24)

struct policy_dns_cache;

/* A cache of capacity entries (1..POLICY_DNS_CACHE_CAPACITY_MAX); NULL, errno set. */
struct policy_dns_cache *policy_dns_cache_new(uint32_t capacity);
void policy_dns_cache_free(struct policy_dns_cache *c); /* accepts NULL */

/*
 * Records that a DNS answer seen by tenant_id gave addr for name, for ttl_s seconds
 * (clamped) from now_ns. name is text ("www.example.com", any case, an optional
 * trailing dot). -EINVAL: not a valid name or address. Never fails for lack of room.
 */
int policy_dns_learn(struct policy_dns_cache *c, uint32_t tenant_id, const char *name,
    const struct addr *addr, uint32_t ttl_s, uint64_t now_ns);

/*
 * The name learnt for (tenant_id, addr), still valid at now_ns (lower case, no trailing
 * dot; borrowed until the next learn), or NULL. Marks the entry used.
 */
const char *policy_dns_lookup(struct policy_dns_cache *c, uint32_t tenant_id,
    const struct addr *addr, uint64_t now_ns);

uint32_t policy_dns_cache_count(const struct policy_dns_cache *c);
/* Entries dropped to make room for another (expired or not). */
uint64_t policy_dns_cache_evictions(const struct policy_dns_cache *c);

#endif
