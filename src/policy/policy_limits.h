/*
 * Per-tenant session limits: how many sessions a tenant may hold at once, and how many
 * it may open per second (a token bucket of one second's worth, as GCRA: one
 * "theoretical arrival time" per tenant, so no refill timer is needed).
 *
 * The engine's decision says whether a session may exist; this says whether the tenant
 * has room for one more now. Admit after an ALLOW verdict, release when the session
 * ends (and only then: a refused admission took nothing).
 *
 * Threads: none inside; one owner (the worker that creates and ends sessions). Sized
 * from one policy: after a reload, make a new one (sessions start afresh then anyway).
 */
#ifndef TERN_POLICY_POLICY_LIMITS_H
#define TERN_POLICY_POLICY_LIMITS_H

#include <stdint.h>

#include "policy/policy_engine.h"

struct policy_limits;

/* Counters for every tenant of p with its limits; NULL with errno ENOMEM. */
struct policy_limits *policy_limits_new(const struct policy *p);
void policy_limits_free(struct policy_limits *l); /* accepts NULL */

/*
 * Takes one session for tenant_index at now_ns: 0, or -EDQUOT (the tenant holds its
 * max_sessions), -EBUSY (its new-session rate is spent for now), -ENOENT (no such
 * tenant). A refusal changes nothing.
 */
int policy_limits_admit(struct policy_limits *l, uint32_t tenant_index, uint64_t now_ns);
/* Gives back one session of tenant_index (ignored if it holds none). */
/*
 * Counts a session already admitted elsewhere (a reload carries it over): no check of
 * the limit or the rate; a tenant over its new limit admits nothing until below it.
 */
void policy_limits_restore(struct policy_limits *l, uint32_t tenant_index);
void policy_limits_release(struct policy_limits *l, uint32_t tenant_index);

uint32_t policy_limits_in_use(const struct policy_limits *l, uint32_t tenant_index);
/* Refusals so far, by reason, for counters. */
uint64_t policy_limits_refused_sessions(const struct policy_limits *l, uint32_t tenant_index);
uint64_t policy_limits_refused_rate(const struct policy_limits *l, uint32_t tenant_index);

#endif
