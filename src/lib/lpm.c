/* Longest-prefix match over a path-compressed binary trie; see lpm.h for the contract. */
#include "lib/lpm.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define LPM_NIL UINT32_MAX

struct lpm_node {
	uint8_t bytes[16]; /* the node's prefix, host bits clear */
	uint32_t child[2]; /* by the address bit at position len; child[0] links free nodes */
	uint32_t value;
	uint8_t len;
	uint8_t has_value; /* 0 for a glue node */
	uint8_t pad[2];
};

struct lpm {
	struct lpm_node *nodes;
	uint32_t node_cap;
	uint32_t free_head;
	uint32_t free_count;
	uint32_t capacity;
	uint32_t count;
	uint32_t root[2]; /* IPv4, IPv6 */
};

static int
lpm_family_root(uint8_t family)
{
	switch (family) {
	case ADDR_FAMILY_V4:
		return 0;
	case ADDR_FAMILY_V6:
		return 1;
	default:
		return -1;
	}
}

static bool
lpm_bit(const uint8_t *bytes, unsigned i)
{
	return (bytes[i / 8] >> (7 - i % 8)) & 1;
}

/* Number of leading bits a and b share, at most limit. */
static unsigned
lpm_common_len(const uint8_t *a, const uint8_t *b, unsigned limit)
{
	unsigned i;

	for (i = 0; i * 8 < limit; i++) {
		uint8_t x = a[i] ^ b[i];

		if (x != 0) {
			unsigned n = i * 8 + (unsigned)__builtin_clz(x) - 24;

			return n < limit ? n : limit;
		}
	}
	return limit;
}

/* True if the first len bits of a and b are equal. */
static bool
lpm_bytes_match(const uint8_t *a, const uint8_t *b, unsigned len)
{
	unsigned full = len / 8, rest = len % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	return rest == 0 || ((a[full] ^ b[full]) & (uint8_t)(0xffu << (8 - rest))) == 0;
}

static bool
lpm_prefix_valid(const struct prefix *p)
{
	struct prefix masked;

	if (prefix_from_addr(&masked, &p->addr, p->len) < 0)
		return false;
	return addr_equal(&masked.addr, &p->addr);
}

static void
lpm_free_list_reset(struct lpm *t)
{
	for (uint32_t i = 0; i < t->node_cap; i++)
		t->nodes[i].child[0] = i + 1 < t->node_cap ? i + 1 : LPM_NIL;
	t->free_head = 0;
	t->free_count = t->node_cap;
	t->count = 0;
	t->root[0] = t->root[1] = LPM_NIL;
}

struct lpm *
lpm_new(uint32_t capacity)
{
	struct lpm *t;

	if (capacity == 0 || capacity > LPM_CAPACITY_MAX) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	/* n prefixes need at most n - 1 glue nodes (see the invariants in lpm.h). */
	t->node_cap = 2 * capacity;
	t->capacity = capacity;
	t->nodes = calloc(t->node_cap, sizeof(*t->nodes));
	if (t->nodes == NULL) {
		free(t);
		return NULL;
	}
	lpm_free_list_reset(t);
	return t;
}

void
lpm_free(struct lpm *t)
{
	if (t == NULL)
		return;
	free(t->nodes);
	free(t);
}

void
lpm_clear(struct lpm *t)
{
	lpm_free_list_reset(t);
}

static uint32_t
lpm_node_alloc(struct lpm *t, const uint8_t *bytes, unsigned len)
{
	uint32_t i = t->free_head;
	struct lpm_node *n = &t->nodes[i];

	t->free_head = n->child[0];
	t->free_count--;
	memset(n, 0, sizeof(*n));
	/* Copy only the prefix's bits: a glue node's key is cut from a longer one. */
	memcpy(n->bytes, bytes, (len + 7) / 8);
	if (len % 8 != 0)
		n->bytes[len / 8] &= (uint8_t)(0xffu << (8 - len % 8));
	n->len = (uint8_t)len;
	n->child[0] = n->child[1] = LPM_NIL;
	return i;
}

static void
lpm_node_release(struct lpm *t, uint32_t i)
{
	t->nodes[i].child[0] = t->free_head;
	t->nodes[i].has_value = 0;
	t->free_head = i;
	t->free_count++;
}

static int
lpm_insert(struct lpm *t, const struct prefix *p, uint32_t value, bool replace)
{
	const uint8_t *key = p->addr.bytes;
	uint32_t *slot, idx, glue;
	struct lpm_node *n;
	unsigned common = 0;
	int r;

	r = lpm_family_root(p->addr.family);
	if (r < 0 || !lpm_prefix_valid(p))
		return -EINVAL;
	slot = &t->root[r];
	while (*slot != LPM_NIL) {
		n = &t->nodes[*slot];
		common = lpm_common_len(key, n->bytes, p->len < n->len ? p->len : n->len);
		if (common < n->len)
			break; /* p sits above n or beside it: a new node goes into this slot */
		if (n->len == p->len) {
			if (n->has_value && !replace)
				return -EEXIST;
			if (!n->has_value) {
				if (t->count >= t->capacity)
					return -ENOSPC;
				n->has_value = 1;
				t->count++;
			}
			n->value = value;
			return 0;
		}
		slot = &n->child[lpm_bit(key, n->len)];
	}
	/* The invariants make two free nodes certain below capacity; checked all the same. */
	if (t->count >= t->capacity || t->free_count < 2)
		return -ENOSPC;
	idx = lpm_node_alloc(t, key, p->len);
	t->nodes[idx].has_value = 1;
	t->nodes[idx].value = value;
	if (*slot != LPM_NIL) {
		n = &t->nodes[*slot];
		if (common == p->len) {
			/* p contains n: n hangs below the new node. */
			t->nodes[idx].child[lpm_bit(n->bytes, p->len)] = *slot;
			*slot = idx;
		} else {
			/* p and n part at bit common: a glue node holds both. */
			glue = lpm_node_alloc(t, key, common);
			t->nodes[glue].child[lpm_bit(key, common)] = idx;
			t->nodes[glue].child[lpm_bit(n->bytes, common)] = *slot;
			*slot = glue;
		}
	} else {
		*slot = idx;
	}
	t->count++;
	return 0;
}

int
lpm_add(struct lpm *t, const struct prefix *p, uint32_t value)
{
	return lpm_insert(t, p, value, false);
}

int
lpm_set(struct lpm *t, const struct prefix *p, uint32_t value)
{
	return lpm_insert(t, p, value, true);
}

int
lpm_del(struct lpm *t, const struct prefix *p)
{
	uint32_t *slot, *parent_slot = NULL, idx, other;
	struct lpm_node *n, *parent;
	int r;

	r = lpm_family_root(p->addr.family);
	if (r < 0 || !lpm_prefix_valid(p))
		return -EINVAL;
	slot = &t->root[r];
	for (;;) {
		if (*slot == LPM_NIL)
			return -ENOENT;
		n = &t->nodes[*slot];
		if (n->len > p->len || !lpm_bytes_match(n->bytes, p->addr.bytes, n->len))
			return -ENOENT;
		if (n->len == p->len)
			break;
		parent_slot = slot;
		slot = &n->child[lpm_bit(p->addr.bytes, n->len)];
	}
	if (!n->has_value)
		return -ENOENT;
	idx = *slot;
	if (n->child[0] != LPM_NIL && n->child[1] != LPM_NIL) {
		n->has_value = 0; /* still where two subtrees part: it stays as glue */
	} else if (n->child[0] != LPM_NIL || n->child[1] != LPM_NIL) {
		*slot = n->child[0] != LPM_NIL ? n->child[0] : n->child[1];
		lpm_node_release(t, idx);
	} else {
		*slot = LPM_NIL;
		lpm_node_release(t, idx);
		/* A glue parent left with one child is no longer a fork: splice it out. */
		if (parent_slot != NULL) {
			parent = &t->nodes[*parent_slot];
			if (!parent->has_value) {
				idx = *parent_slot;
				other = parent->child[0] != LPM_NIL ? parent->child[0] :
				                                      parent->child[1];
				*parent_slot = other;
				lpm_node_release(t, idx);
			}
		}
	}
	t->count--;
	return 0;
}

int
lpm_lookup(const struct lpm *t, const struct addr *a, uint32_t *value, unsigned *matched_len)
{
	const struct lpm_node *n, *best = NULL;
	unsigned bits = addr_bits(a);
	uint32_t idx;
	int r;

	r = lpm_family_root(a->family);
	if (r < 0)
		return -ENOENT;
	for (idx = t->root[r]; idx != LPM_NIL; idx = n->child[lpm_bit(a->bytes, n->len)]) {
		n = &t->nodes[idx];
		if (!lpm_bytes_match(n->bytes, a->bytes, n->len))
			break;
		if (n->has_value)
			best = n;
		if (n->len >= bits)
			break;
	}
	if (best == NULL)
		return -ENOENT;
	*value = best->value;
	if (matched_len != NULL)
		*matched_len = best->len;
	return 0;
}

int
lpm_lookup_exact(const struct lpm *t, const struct prefix *p, uint32_t *value)
{
	const struct lpm_node *n;
	uint32_t idx;
	int r;

	r = lpm_family_root(p->addr.family);
	if (r < 0 || !lpm_prefix_valid(p))
		return -EINVAL;
	for (idx = t->root[r]; idx != LPM_NIL; idx = n->child[lpm_bit(p->addr.bytes, n->len)]) {
		n = &t->nodes[idx];
		if (n->len > p->len || !lpm_bytes_match(n->bytes, p->addr.bytes, n->len))
			break;
		if (n->len == p->len) {
			if (!n->has_value)
				break;
			*value = n->value;
			return 0;
		}
	}
	return -ENOENT;
}

uint32_t
lpm_count(const struct lpm *t)
{
	return t->count;
}

uint32_t
lpm_capacity(const struct lpm *t)
{
	return t->capacity;
}

/* Pre-order, child 0 first: address order, shorter before longer. Depth <= 129. */
static int
lpm_walk_node(const struct lpm *t, uint32_t idx, uint8_t family,
    int (*fn)(const struct prefix *p, uint32_t value, void *arg), void *arg)
{
	const struct lpm_node *n = &t->nodes[idx];
	struct prefix p;
	int rc;

	if (n->has_value) {
		memset(&p, 0, sizeof(p));
		p.addr.family = family;
		memcpy(p.addr.bytes, n->bytes, sizeof(n->bytes));
		p.len = n->len;
		rc = fn(&p, n->value, arg);
		if (rc != 0)
			return rc;
	}
	for (int c = 0; c < 2; c++) {
		if (n->child[c] != LPM_NIL) {
			rc = lpm_walk_node(t, n->child[c], family, fn, arg);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

int
lpm_walk(const struct lpm *t, int (*fn)(const struct prefix *p, uint32_t value, void *arg),
    void *arg)
{
	static const uint8_t families[2] = {ADDR_FAMILY_V4, ADDR_FAMILY_V6};
	int rc;

	for (int r = 0; r < 2; r++) {
		if (t->root[r] == LPM_NIL)
			continue;
		rc = lpm_walk_node(t, t->root[r], families[r], fn, arg);
		if (rc != 0)
			return rc;
	}
	return 0;
}
