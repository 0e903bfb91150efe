/*
 * Learnt DNS names (policy_dns_cache.h). The entry arrays are indexed by the lib/hash
 * entry id of their key, which stays the same while the entry lives, so the index and
 * the entries need no second mapping.
 */
#include "policy/policy_dns_cache.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "policy/policy_name.h"

struct dns_key {
	uint32_t tenant_id;
	struct addr addr;
};

struct dns_entry {
	uint64_t expires_ns;
	bool used; /* looked up or learnt since the clock hand last passed */
	char name[POLICY_DOMAIN_MAX + 1];
};

struct policy_dns_cache {
	struct hash *index; /* struct dns_key -> nothing; the entry id is the slot */
	struct dns_entry *entries;
	uint32_t capacity;
	uint32_t hand;
	uint64_t evictions;
};

struct policy_dns_cache *
policy_dns_cache_new(uint32_t capacity)
{
	struct policy_dns_cache *c;

	if (capacity == 0 || capacity > POLICY_DNS_CACHE_CAPACITY_MAX) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->capacity = capacity;
	c->index = hash_new(capacity, sizeof(struct dns_key), 0);
	c->entries = calloc(capacity, sizeof(*c->entries));
	if (c->index == NULL || c->entries == NULL) {
		policy_dns_cache_free(c);
		errno = ENOMEM;
		return NULL;
	}
	return c;
}

void
policy_dns_cache_free(struct policy_dns_cache *c)
{
	if (c == NULL)
		return;
	hash_free(c->index);
	free(c->entries);
	free(c);
}

static void
key_make(struct dns_key *k, uint32_t tenant_id, const struct addr *addr)
{
	memset(k, 0, sizeof(*k));
	k->tenant_id = tenant_id;
	k->addr.family = addr->family;
	memcpy(k->addr.bytes, addr->bytes, addr->family == ADDR_FAMILY_V4 ? 4 : 16);
}

/* Second chance: the first expired entry, or the first not used since the last pass. */
static void
evict_one(struct policy_dns_cache *c, uint64_t now_ns)
{
	for (uint64_t steps = 0; steps < 2ull * c->capacity + 1; steps++) {
		uint32_t id = c->hand;
		struct dns_entry *e = &c->entries[id];

		c->hand = c->hand + 1 == c->capacity ? 0 : c->hand + 1;
		if (hash_key(c->index, id) == NULL)
			continue;
		if (e->used && e->expires_ns > now_ns) {
			e->used = false;
			continue;
		}
		hash_del_id(c->index, id);
		c->evictions++;
		return;
	}
}

int
policy_dns_learn(struct policy_dns_cache *c, uint32_t tenant_id, const char *name,
    const struct addr *addr, uint32_t ttl_s, uint64_t now_ns)
{
	char norm[POLICY_DOMAIN_MAX + 1];
	struct dns_key key;
	struct dns_entry *e;
	uint32_t id;
	int n;

	n = policy_name_domain(name, norm, sizeof(norm));
	if (n < 0 || (addr->family != ADDR_FAMILY_V4 && addr->family != ADDR_FAMILY_V6))
		return -EINVAL;
	if (ttl_s < POLICY_DNS_TTL_MIN_S)
		ttl_s = POLICY_DNS_TTL_MIN_S;
	if (ttl_s > POLICY_DNS_TTL_MAX_S)
		ttl_s = POLICY_DNS_TTL_MAX_S;
	key_make(&key, tenant_id, addr);
	id = hash_find(c->index, &key);
	if (id != HASH_NONE) {
		c->entries[id].used = true; /* asked again: worth keeping */
	} else {
		if (hash_count(c->index) == c->capacity)
			evict_one(c, now_ns);
		if (hash_add(c->index, &key, 0, &id) != 0)
			return -ENOSPC; /* not reached: evict_one always frees one */
		/* Unused until a session looks it up, so a burst of answers nobody connects
		 * to cannot push out the names in use. */
		c->entries[id].used = false;
	}
	e = &c->entries[id];
	memcpy(e->name, norm, (size_t)n + 1);
	e->expires_ns = now_ns + (uint64_t)ttl_s * 1000000000ull;
	return 0;
}

const char *
policy_dns_lookup(struct policy_dns_cache *c, uint32_t tenant_id, const struct addr *addr,
    uint64_t now_ns)
{
	struct dns_key key;
	uint32_t id;

	if (addr->family != ADDR_FAMILY_V4 && addr->family != ADDR_FAMILY_V6)
		return NULL;
	key_make(&key, tenant_id, addr);
	id = hash_find(c->index, &key);
	if (id == HASH_NONE)
		return NULL;
	if (c->entries[id].expires_ns <= now_ns) {
		hash_del_id(c->index, id);
		return NULL;
	}
	c->entries[id].used = true;
	return c->entries[id].name;
}

uint32_t
policy_dns_cache_count(const struct policy_dns_cache *c)
{
	return hash_count(c->index);
}

uint64_t
policy_dns_cache_evictions(const struct policy_dns_cache *c)
{
	return c->evictions;
}
