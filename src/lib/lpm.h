/*
 * Longest-prefix match of IPv4 and IPv6 addresses to a uint32_t value (a route, a
 * service or a tenant index), for classification and routing on the session-miss path.
 *
 * Structure: a path-compressed binary trie (PATRICIA) per family, nodes preallocated in
 * one array and linked by uint32_t index. Every node carries its full prefix; a node is
 * either a stored prefix or a "glue" node where two subtrees diverge. Chosen over a
 * multibit (DIR-24-8 or stride) trie because:
 * - memory is linear and exact: at most 2 * capacity nodes of 32 bytes, for IPv6 as
 *   for IPv4, whatever the prefixes are; a stride trie's worst case for IPv6 is large
 *   and depends on the prefix mix, which config cannot bound;
 * - delete is local and simple (no expansion of prefixes into many slots to undo);
 * - lookup visits at most one node per distinct prefix length on the path (<= 33 or
 *   129), with no allocation. The per-packet fast path hits the session table, not this
 *   table, so a few dozen cache lines on a session's first packet are affordable.
 *
 * Invariants: a glue node has exactly two children, so a family with n prefixes has at
 * most n - 1 glue nodes; a child's prefix is longer than its parent's and extends it,
 * and its bit at the parent's length selects the child slot.
 *
 * Threads: no internal locking. Any number of threads may look up a table nobody
 * modifies; a modification needs exclusive access. The data path therefore gets an
 * immutable table per configuration snapshot (built by the control thread, then shared
 * read-only and freed once no worker uses the old snapshot).
 */
#ifndef TERN_LIB_LPM_H
#define TERN_LIB_LPM_H

#include <stdint.h>

#include "lib/addr.h"

struct lpm;

/* Keeps the node array (two nodes per prefix) indexable by uint32_t. */
#define LPM_CAPACITY_MAX (UINT32_MAX / 4)

/*
 * A table for up to capacity prefixes of both families together (capacity >= 1 and
 * <= LPM_CAPACITY_MAX). Allocates everything now; NULL with errno EINVAL or ENOMEM.
 */
struct lpm *lpm_new(uint32_t capacity);
void lpm_free(struct lpm *t); /* accepts NULL */

/*
 * Stores value for p. -EINVAL: p is not a valid prefix (no family, length beyond the
 * family, host bits set); -EEXIST: p is already stored (its value is unchanged);
 * -ENOSPC: the table holds capacity prefixes.
 */
int lpm_add(struct lpm *t, const struct prefix *p, uint32_t value);
/* Stores value for p, adding it or replacing its value. Errors as lpm_add() but -EEXIST. */
int lpm_set(struct lpm *t, const struct prefix *p, uint32_t value);
/* Removes p itself (never a shorter or longer one). -ENOENT if p is not stored; -EINVAL. */
int lpm_del(struct lpm *t, const struct prefix *p);
/* Removes every prefix; the capacity stays. */
void lpm_clear(struct lpm *t);

/*
 * The value of the longest stored prefix that contains a, and that prefix's length
 * (matched_len may be NULL). -ENOENT when none does, or a has no family. Never
 * allocates; safe on a shared const table.
 */
int lpm_lookup(const struct lpm *t, const struct addr *a, uint32_t *value, unsigned *matched_len);
/* The value stored for exactly p; -ENOENT or -EINVAL. */
int lpm_lookup_exact(const struct lpm *t, const struct prefix *p, uint32_t *value);

uint32_t lpm_count(const struct lpm *t);
uint32_t lpm_capacity(const struct lpm *t);

/*
 * Calls fn for every stored prefix, IPv4 first, each family in address order with a
 * shorter prefix before the longer ones it contains. A nonzero return from fn stops the
 * walk and is returned. fn must not modify the table.
 */
int lpm_walk(const struct lpm *t, int (*fn)(const struct prefix *p, uint32_t value, void *arg),
    void *arg);

#endif
