/* Per-tenant session limits (policy_limits.h). */
#include "policy/policy_limits.h"

#include <errno.h>
#include <stdlib.h>

struct tenant_limit {
	uint32_t max_sessions; /* 0: none */
	uint32_t in_use;
	uint64_t interval_ns; /* 1 s / max_new_per_s; 0: no rate limit */
	uint64_t tat_ns;      /* when the bucket is full again (GCRA) */
	uint64_t refused_sessions, refused_rate;
};

struct policy_limits {
	uint32_t count;
	struct tenant_limit t[];
};

#define NS_PER_S 1000000000ull

struct policy_limits *
policy_limits_new(const struct policy *p)
{
	uint32_t n = policy_tenant_count(p);
	struct policy_limits *l;

	l = calloc(1, sizeof(*l) + (size_t)n * sizeof(l->t[0]));
	if (l == NULL)
		return NULL;
	l->count = n;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t rate;

		policy_tenant_limits(p, i, &l->t[i].max_sessions, &rate);
		l->t[i].interval_ns = rate > 0 ? NS_PER_S / rate : 0;
	}
	return l;
}

void
policy_limits_free(struct policy_limits *l)
{
	free(l);
}

int
policy_limits_admit(struct policy_limits *l, uint32_t tenant_index, uint64_t now_ns)
{
	struct tenant_limit *t;
	uint64_t tat;

	if (tenant_index >= l->count)
		return -ENOENT;
	t = &l->t[tenant_index];
	if (t->max_sessions != 0 && t->in_use >= t->max_sessions) {
		t->refused_sessions++;
		return -EDQUOT;
	}
	if (t->interval_ns != 0) {
		/* A burst of one second's worth, then one per interval. */
		tat = t->tat_ns > now_ns ? t->tat_ns : now_ns;
		if (tat - now_ns > NS_PER_S - t->interval_ns) {
			t->refused_rate++;
			return -EBUSY;
		}
		t->tat_ns = tat + t->interval_ns;
	}
	t->in_use++;
	return 0;
}

void
policy_limits_restore(struct policy_limits *l, uint32_t tenant_index)
{
	if (tenant_index < l->count)
		l->t[tenant_index].in_use++;
}

void
policy_limits_release(struct policy_limits *l, uint32_t tenant_index)
{
	if (tenant_index < l->count && l->t[tenant_index].in_use > 0)
		l->t[tenant_index].in_use--;
}

uint32_t
policy_limits_in_use(const struct policy_limits *l, uint32_t tenant_index)
{
	return tenant_index < l->count ? l->t[tenant_index].in_use : 0;
}

uint64_t
policy_limits_refused_sessions(const struct policy_limits *l, uint32_t tenant_index)
{
	return tenant_index < l->count ? l->t[tenant_index].refused_sessions : 0;
}

uint64_t
policy_limits_refused_rate(const struct policy_limits *l, uint32_t tenant_index)
{
	return tenant_index < l->count ? l->t[tenant_index].refused_rate : 0;
}
