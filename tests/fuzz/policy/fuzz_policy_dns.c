/*
 * Fuzz target of the DNS learner: an arbitrary message to policy_dns_parse_answer(),
 * and every name it reports learnt into a small cache.
 *
 * Invariants: a refused message reports nothing; an accepted one reports exactly its
 * return value of records, each a valid lower-case name with an IPv4 or IPv6 address
 * that the cache accepts and gives back. Anything else aborts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy_dns.h"
#include "policy/policy_dns_cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
	if (!cond)
		abort();
}

struct fuzz_dns {
	struct policy_dns_cache *cache;
	int count;
};

static int
learn(const char *name, const struct addr *addr, uint32_t ttl_s, void *arg)
{
	struct fuzz_dns *f = arg;
	const char *back;
	size_t n = strlen(name);

	check(n > 0 && n <= 253);
	for (size_t i = 0; i < n; i++)
		check(name[i] == '.' || name[i] == '-' || name[i] == '_' ||
		    (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9'));
	check(addr->family == ADDR_FAMILY_V4 || addr->family == ADDR_FAMILY_V6);
	check(policy_dns_learn(f->cache, 1, name, addr, ttl_s, 0) == 0);
	back = policy_dns_lookup(f->cache, 1, addr, 0);
	check(back != NULL && strcmp(back, name) == 0);
	f->count++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct policy_dns_cache *cache;
	struct fuzz_dns f;
	int rc;

	if (size > 65535)
		return 0;
	if (cache == NULL && (cache = policy_dns_cache_new(8)) == NULL)
		abort();
	f.cache = cache;
	f.count = 0;
	rc = policy_dns_parse_answer(data, size, learn, &f);
	if (rc < 0)
		check(f.count == 0 && rc != -EAGAIN);
	else
		check(rc == f.count && rc <= POLICY_DNS_RECORDS_MAX);
	check(policy_dns_cache_count(cache) <= 8);
	check(policy_dns_strerror(rc) != NULL);
	return 0;
}
