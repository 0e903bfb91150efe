/*
 * The session table (see session_table.h).
 *
 * One hash of uint32 bucket heads holds both keys of every session. A chain link is
 * (index << 1 | half): half 0 is the session's LAN key, whose next link is lan_next,
 * half 1 its WAN key, whose next link is wan_next. The two halves sit exactly one
 * cache line apart (wan_key is lan_key + 64, wan_next is lan_next + 64), so following
 * a link is an address computation rather than a branch. Buckets are a power of two
 * >= 4x capacity (two keys per session): about 0.5 keys per bucket or fewer.
 */
#include "session/session_table.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>

#include "lib/addr.h"
#include "lib/hash_fn.h"
#include "lib/pool.h"

#define SESSION_LINK_NONE      UINT32_MAX
#define SESSION_HALF           64
#define SESSION_HUGE_PAGE      (2u << 20)
#define SESSION_MS             1000000ull
#define SESSION_S              1000000000ull
#define SESSION_TIMEOUT_MAX_NS (365ull * 24 * 3600 * SESSION_S)

/* The wheel spans the longest timeout if it can, with at most this many slots. */
#define SESSION_WHEEL_SLOTS_MIN 64u
#define SESSION_WHEEL_SLOTS_MAX 65536u

/* tcp_seen bits; SYN and FIN are shifted by enum session_dir. */
#define SESSION_TCP_SYN 0x01u
#define SESSION_TCP_FIN 0x04u
#define SESSION_TCP_RST 0x10u

#define TCP_FLAG_FIN 0x01u
#define TCP_FLAG_SYN 0x02u
#define TCP_FLAG_RST 0x04u
#define TCP_FLAG_ACK 0x10u

_Static_assert(sizeof(struct session_key) == 40, "session keys are hashed as 40 bytes");
_Static_assert(offsetof(struct session, lan_key) == 0, "LAN half starts line 0");
_Static_assert(offsetof(struct session, wan_key) == SESSION_HALF, "WAN half starts line 1");
_Static_assert(offsetof(struct session, wan_next) - offsetof(struct session, lan_next) ==
        SESSION_HALF,
    "chain links one half apart");
_Static_assert(offsetof(struct session, packets) == 2 * SESSION_HALF, "counters start line 2");

struct session_table {
	struct session *sessions; /* capacity, 64-byte aligned */
	uint32_t *buckets;        /* bucket_mask + 1 chain heads */
	uint32_t bucket_mask;
	uint32_t capacity;
	uint64_t seed;
	size_t sessions_bytes;
	size_t buckets_bytes;
	struct pool *pool;
	struct timer_wheel *wheel;
	uint64_t timeout_ns[SESSION_TIMEOUT_COUNT];
	struct session_table_stats stats;
	uint32_t opening; /* live sessions in SESSION_TIMEOUT_TCP_OPENING (half-open) */
};

static const uint64_t session_timeout_default_ns[SESSION_TIMEOUT_COUNT] = {
    [SESSION_TIMEOUT_TCP_OPENING] = 10 * SESSION_S,
    [SESSION_TIMEOUT_TCP_ESTABLISHED] = 1900 * SESSION_S,
    [SESSION_TIMEOUT_TCP_CLOSING] = 10 * SESSION_S,
    [SESSION_TIMEOUT_UDP] = 180 * SESSION_S,
    [SESSION_TIMEOUT_ICMP] = 10 * SESSION_S,
    [SESSION_TIMEOUT_OTHER] = 180 * SESSION_S,
};

static inline bool
session_key_equal(const struct session_key *a, const struct session_key *b)
{
	const uint8_t *x = (const uint8_t *)a, *y = (const uint8_t *)b;
	uint64_t d = 0;

	for (size_t i = 0; i < sizeof(*a); i += 8)
		d |= hash_fn_load64(x + i) ^ hash_fn_load64(y + i);
	return d == 0;
}

/* Inlined everywhere inside: an exported function is not, in a -fPIC build. */
static inline uint64_t
session_hash(const struct session_table *t, const struct session_key *key)
{
	return hash_fn_bytes(t->seed, key, sizeof(*key));
}

/* The key a chain link names. */
static inline const struct session_key *
session_link_key(const struct session_table *t, uint32_t link)
{
	const uint8_t *s = (const uint8_t *)&t->sessions[link >> 1];

	return (const struct session_key *)(const void *)(s + (link & 1) * SESSION_HALF);
}

/* The chain link that follows link. */
static inline uint32_t *
session_link_next(const struct session_table *t, uint32_t link)
{
	uint8_t *s = (uint8_t *)&t->sessions[link >> 1];

	return (
	    uint32_t *)(void *)(s + offsetof(struct session, lan_next) + (link & 1) * SESSION_HALF);
}

static enum session_timeout_class
session_timeout_class_of(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return SESSION_TIMEOUT_TCP_OPENING;
	case IPPROTO_UDP:
		return SESSION_TIMEOUT_UDP;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return SESSION_TIMEOUT_ICMP;
	default:
		return SESSION_TIMEOUT_OTHER;
	}
}

/*
 * Large arrays on 2 MB boundaries with a transparent huge page hint: a million sessions
 * looked up at random would otherwise miss the TLB on most packets.
 */
static void *
session_table_alloc(size_t size, size_t *allocated)
{
	size_t align = size >= SESSION_HUGE_PAGE ? SESSION_HUGE_PAGE : 64;
	void *p;

	size = (size + align - 1) / align * align;
	p = aligned_alloc(align, size);
	if (p != NULL && align == SESSION_HUGE_PAGE)
		(void)madvise(p, size, MADV_HUGEPAGE);
	*allocated = size;
	return p;
}

void
session_table_config_default(struct session_table_config *config, uint32_t capacity)
{
	memset(config, 0, sizeof(*config));
	config->capacity = capacity;
	memcpy(config->timeout_ns, session_timeout_default_ns, sizeof(config->timeout_ns));
	config->tick_ns = 100 * SESSION_MS;
}

struct session_table *
session_table_new(const struct session_table_config *config, uint64_t now_ns)
{
	struct session_table *t = NULL;
	uint64_t buckets = 1, longest = 0, slots = SESSION_WHEEL_SLOTS_MIN, tick_ns;

	if (config->capacity == 0 || config->capacity > SESSION_TABLE_CAPACITY_MAX ||
	    config->tick_ns > SESSION_TIMEOUT_MAX_NS)
		goto fail;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		goto fail;
	t->capacity = config->capacity;
	for (int c = 0; c < SESSION_TIMEOUT_COUNT; c++) {
		uint64_t v = config->timeout_ns[c];

		if (v > SESSION_TIMEOUT_MAX_NS)
			goto fail;
		t->timeout_ns[c] = v != 0 ? v : session_timeout_default_ns[c];
		if (t->timeout_ns[c] > longest)
			longest = t->timeout_ns[c];
	}
	t->seed = config->seed;
	if (t->seed == 0 && getrandom(&t->seed, sizeof(t->seed), 0) != sizeof(t->seed))
		goto fail;

	while (buckets < 4ull * t->capacity)
		buckets <<= 1;
	t->bucket_mask = (uint32_t)(buckets - 1);
	t->buckets = session_table_alloc(buckets * sizeof(t->buckets[0]), &t->buckets_bytes);
	t->sessions =
	    session_table_alloc((size_t)t->capacity * sizeof(t->sessions[0]), &t->sessions_bytes);
	t->pool = pool_new(t->capacity);
	if (t->buckets == NULL || t->sessions == NULL || t->pool == NULL)
		goto fail;
	memset(t->buckets, 0xff, t->buckets_bytes);
	memset(t->sessions, 0, t->sessions_bytes);

	tick_ns = config->tick_ns != 0 ? config->tick_ns : 100 * SESSION_MS;
	while (slots < SESSION_WHEEL_SLOTS_MAX && slots * tick_ns <= longest)
		slots <<= 1;
	t->wheel = timer_wheel_new(&t->sessions[0].timer, sizeof(t->sessions[0]), t->capacity,
	    (uint32_t)slots, tick_ns, now_ns);
	if (t->wheel == NULL)
		goto fail;
	return t;
fail:
	session_table_free(t);
	return NULL;
}

void
session_table_free(struct session_table *t)
{
	if (t == NULL)
		return;
	timer_wheel_free(t->wheel);
	pool_free(t->pool);
	free(t->sessions);
	free(t->buckets);
	free(t);
}

uint64_t
session_key_hash(const struct session_table *t, const struct session_key *key)
{
	return session_hash(t, key);
}

void
session_table_prefetch(const struct session_table *t, uint64_t hash)
{
	__builtin_prefetch(&t->buckets[hash & t->bucket_mask]);
}

/* The link of the key equal to key in the chain starting at link, or LINK_NONE. */
static inline uint32_t
session_chain_find(const struct session_table *t, uint32_t link, const struct session_key *key)
{
	while (link != SESSION_LINK_NONE && !session_key_equal(session_link_key(t, link), key))
		link = *session_link_next(t, link);
	return link;
}

uint32_t
session_table_lookup(const struct session_table *t, const struct session_key *key, uint64_t hash,
    enum session_dir *dir)
{
	uint32_t link = session_chain_find(t, t->buckets[hash & t->bucket_mask], key);

	if (link == SESSION_LINK_NONE)
		return SESSION_INDEX_NONE;
	if (dir != NULL)
		*dir = (enum session_dir)(link & 1);
	return link >> 1;
}

static void
session_table_lookup_chunk(const struct session_table *t, const struct session_key *const *keys,
    unsigned n, uint32_t *out, enum session_dir *dirs)
{
	uint32_t pos[SESSION_TABLE_BURST_MAX];
	unsigned i;

	/* Stage 1: hash every key and start fetching its bucket. */
	for (i = 0; i < n; i++) {
		pos[i] = (uint32_t)session_hash(t, keys[i]) & t->bucket_mask;
		__builtin_prefetch(&t->buckets[pos[i]]);
	}
	/* Stage 2: read the chain heads and start fetching the key line they name. */
	for (i = 0; i < n; i++) {
		pos[i] = t->buckets[pos[i]];
		if (pos[i] != SESSION_LINK_NONE)
			__builtin_prefetch(session_link_key(t, pos[i]));
	}
	/* Stage 3: compare; fetch the whole session the caller is about to use. */
	for (i = 0; i < n; i++) {
		uint32_t link = session_chain_find(t, pos[i], keys[i]);

		if (link == SESSION_LINK_NONE) {
			out[i] = SESSION_INDEX_NONE;
			continue;
		}
		out[i] = link >> 1;
		if (dirs != NULL)
			dirs[i] = (enum session_dir)(link & 1);
		/* The matched key's line is in cache now; fetch the other half and line 2. */
		__builtin_prefetch(
		    (const uint8_t *)&t->sessions[link >> 1] + (1 - (link & 1)) * SESSION_HALF);
		__builtin_prefetch((const uint8_t *)&t->sessions[link >> 1] + 2 * SESSION_HALF, 1);
	}
}

void
session_table_lookup_burst(const struct session_table *t, const struct session_key *const *keys,
    unsigned n, uint32_t *out, enum session_dir *dirs)
{
	for (unsigned done = 0; done < n; done += SESSION_TABLE_BURST_MAX) {
		unsigned chunk =
		    n - done < SESSION_TABLE_BURST_MAX ? n - done : SESSION_TABLE_BURST_MAX;

		session_table_lookup_chunk(t, keys + done, chunk, out + done,
		    dirs != NULL ? dirs + done : NULL);
	}
}

static void
session_chain_link(struct session_table *t, uint32_t link, uint64_t hash)
{
	uint32_t *head = &t->buckets[hash & t->bucket_mask];

	*session_link_next(t, link) = *head;
	*head = link;
}

static void
session_chain_unlink(struct session_table *t, uint32_t link, uint64_t hash)
{
	uint32_t *at = &t->buckets[hash & t->bucket_mask];

	/* The link is in this chain by construction; the NONE test only bounds the walk. */
	while (*at != link && *at != SESSION_LINK_NONE)
		at = session_link_next(t, *at);
	if (*at == link)
		*at = *session_link_next(t, link);
}

int
session_table_insert(struct session_table *t, const struct session_key *lan_key,
    const struct session_key *wan_key, uint64_t now_ns, uint32_t *index)
{
	uint64_t lan_hash = session_hash(t, lan_key), wan_hash = session_hash(t, wan_key);
	struct session *s;
	uint32_t i;

	if (session_key_equal(lan_key, wan_key) ||
	    session_table_lookup(t, lan_key, lan_hash, NULL) != SESSION_INDEX_NONE ||
	    session_table_lookup(t, wan_key, wan_hash, NULL) != SESSION_INDEX_NONE)
		return -EEXIST;
	if (pool_get(t->pool, &i) < 0) {
		t->stats.full++;
		return -ENOSPC;
	}
	s = &t->sessions[i];
	/* The timer of a free session is disarmed, and a zeroed node is a disarmed one. */
	memset(s, 0, sizeof(*s));
	s->lan_key = *lan_key;
	s->wan_key = *wan_key;
	s->last_seen_ns = now_ns;
	s->created_ns = now_ns;
	s->timeout_class = session_timeout_class_of(lan_key->proto);
	t->opening += s->timeout_class == SESSION_TIMEOUT_TCP_OPENING;
	session_chain_link(t, i << 1, lan_hash);
	session_chain_link(t, i << 1 | 1, wan_hash);
	timer_wheel_add(t->wheel, i, now_ns + t->timeout_ns[s->timeout_class]);
	t->stats.inserts++;
	if (index != NULL)
		*index = i;
	return 0;
}

int
session_table_insert_copy(struct session_table *t, const struct session *src, uint64_t now_ns,
    uint32_t *index)
{
	struct session *s;
	uint64_t due;
	uint32_t i;
	int rc;

	rc = session_table_insert(t, &src->lan_key, &src->wan_key, now_ns, &i);
	if (rc < 0)
		return rc;
	s = &t->sessions[i];
	t->opening -= s->timeout_class == SESSION_TIMEOUT_TCP_OPENING;
	s->flags = src->flags;
	s->last_seen_ns = src->last_seen_ns;
	s->tenant_id = src->tenant_id;
	s->service_id = src->service_id;
	s->path_id = src->path_id;
	s->role = src->role;
	s->timeout_class =
	    src->timeout_class < SESSION_TIMEOUT_COUNT ? src->timeout_class : s->timeout_class;
	s->tcp_seen = src->tcp_seen;
	memcpy(s->csum_delta_l3, src->csum_delta_l3, sizeof(s->csum_delta_l3));
	memcpy(s->csum_delta_l4, src->csum_delta_l4, sizeof(s->csum_delta_l4));
	s->created_ns = src->created_ns;
	memcpy(s->owner_data, src->owner_data, sizeof(s->owner_data));
	t->opening += s->timeout_class == SESSION_TIMEOUT_TCP_OPENING;
	/* The idle time already spent counts: the timer fires when it would have. */
	due = s->last_seen_ns + t->timeout_ns[s->timeout_class];
	(void)timer_wheel_del(t->wheel, i);
	timer_wheel_add(t->wheel, i, due > now_ns ? due : now_ns);
	if (index != NULL)
		*index = i;
	return 0;
}

static void
session_table_remove(struct session_table *t, uint32_t index)
{
	struct session *s = &t->sessions[index];

	t->opening -= s->timeout_class == SESSION_TIMEOUT_TCP_OPENING;
	session_chain_unlink(t, index << 1, session_hash(t, &s->lan_key));
	session_chain_unlink(t, index << 1 | 1, session_hash(t, &s->wan_key));
	/* -ENOENT when called from the session's own timer, which is already disarmed. */
	(void)timer_wheel_del(t->wheel, index);
	(void)pool_put(t->pool, index);
}

int
session_table_delete(struct session_table *t, uint32_t index)
{
	if (!pool_in_use(t->pool, index))
		return -ENOENT;
	session_table_remove(t, index);
	t->stats.deletes++;
	return 0;
}

int
session_table_rekey_wan(struct session_table *t, uint32_t index, const struct session_key *wan_key)
{
	struct session *s;
	uint64_t hash;

	if (!pool_in_use(t->pool, index))
		return -ENOENT;
	s = &t->sessions[index];
	if (session_key_equal(&s->wan_key, wan_key))
		return 0;
	hash = session_hash(t, wan_key);
	if (session_table_lookup(t, wan_key, hash, NULL) != SESSION_INDEX_NONE)
		return -EEXIST;
	session_chain_unlink(t, index << 1 | 1, session_hash(t, &s->wan_key));
	s->wan_key = *wan_key;
	session_chain_link(t, index << 1 | 1, hash);
	return 0;
}

struct session *
session_table_get(struct session_table *t, uint32_t index)
{
	return pool_in_use(t->pool, index) ? &t->sessions[index] : NULL;
}

struct session *
session_table_at(struct session_table *t, uint32_t index)
{
	return &t->sessions[index];
}

uint32_t
session_table_index(const struct session_table *t, const struct session *s)
{
	return (uint32_t)(s - t->sessions);
}

uint32_t
session_table_next(const struct session_table *t, uint32_t index)
{
	for (; index < t->capacity; index++)
		if (pool_in_use(t->pool, index))
			return index;
	return SESSION_INDEX_NONE;
}

/* The TCP part of session_on_packet(), out of line: only SYN, FIN and RST get here. */
void
session_on_tcp_flags(struct session_table *t, struct session *s, unsigned dir, uint8_t tcp_flags,
    uint64_t now_ns)
{
	enum session_timeout_class old = s->timeout_class, next;
	unsigned seen = s->tcp_seen;

	if ((tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) == TCP_FLAG_SYN &&
	    old == SESSION_TIMEOUT_TCP_CLOSING)
		seen = 0; /* a new connection reusing the tuple */
	if (tcp_flags & TCP_FLAG_SYN)
		seen |= SESSION_TCP_SYN << dir;
	if (tcp_flags & TCP_FLAG_FIN)
		seen |= SESSION_TCP_FIN << dir;
	if (tcp_flags & TCP_FLAG_RST)
		seen |= SESSION_TCP_RST;
	s->tcp_seen = (uint8_t)seen;

	if ((seen & SESSION_TCP_RST) || (seen & (SESSION_TCP_FIN * 3)) == SESSION_TCP_FIN * 3)
		next = SESSION_TIMEOUT_TCP_CLOSING;
	else if ((seen & (SESSION_TCP_SYN * 3)) == SESSION_TCP_SYN * 3)
		next = SESSION_TIMEOUT_TCP_ESTABLISHED;
	else
		next = SESSION_TIMEOUT_TCP_OPENING;
	if (next == old)
		return;
	s->timeout_class = (uint8_t)next;
	t->opening += next == SESSION_TIMEOUT_TCP_OPENING;
	t->opening -= old == SESSION_TIMEOUT_TCP_OPENING;
	/* A longer timeout is found when the timer fires; a shorter one must pull it in. */
	if (t->timeout_ns[next] < t->timeout_ns[old])
		timer_wheel_add(t->wheel, (uint32_t)(s - t->sessions),
		    now_ns + t->timeout_ns[next]);
}

struct session_expire_ctx {
	struct session_table *t;
	uint64_t now_ns;
	void (*on_expire)(struct session *s, uint32_t index, void *arg);
	void *arg;
	unsigned expired;
};

static void
session_on_timer(struct timer_wheel *w, uint32_t index, void *arg)
{
	struct session_expire_ctx *ctx = arg;
	struct session_table *t = ctx->t;
	struct session *s = &t->sessions[index];
	uint64_t timeout = t->timeout_ns[s->timeout_class];

	/* Traffic since the timer was armed: sleep again for what is left of the timeout. */
	if (s->last_seen_ns > ctx->now_ns || ctx->now_ns - s->last_seen_ns < timeout) {
		timer_wheel_add(w, index, s->last_seen_ns + timeout);
		return;
	}
	if (ctx->on_expire != NULL)
		ctx->on_expire(s, index, ctx->arg);
	/* on_expire must not delete it, but a table that stays consistent costs one test. */
	if (pool_in_use(t->pool, index))
		session_table_remove(t, index);
	t->stats.expired++;
	ctx->expired++;
}

unsigned
session_table_expire(struct session_table *t, uint64_t now_ns,
    void (*on_expire)(struct session *s, uint32_t index, void *arg), void *arg)
{
	struct session_expire_ctx ctx = {.t = t,
	    .now_ns = now_ns,
	    .on_expire = on_expire,
	    .arg = arg};

	timer_wheel_advance(t->wheel, now_ns, session_on_timer, &ctx);
	return ctx.expired;
}

uint32_t
session_table_opening(const struct session_table *t)
{
	return t->opening;
}

uint32_t
session_table_count(const struct session_table *t)
{
	return pool_count(t->pool);
}

uint32_t
session_table_capacity(const struct session_table *t)
{
	return t->capacity;
}

size_t
session_table_memory_bytes(const struct session_table *t)
{
	return sizeof(*t) + t->sessions_bytes + t->buckets_bytes + pool_memory_bytes(t->pool) +
	    timer_wheel_memory_bytes(t->wheel);
}

void
session_table_stats_get(const struct session_table *t, struct session_table_stats *out)
{
	*out = t->stats;
}

void
session_key_set(struct session_key *key, uint8_t family, uint8_t proto, uint16_t zone,
    const uint8_t *src, const uint8_t *dst, uint16_t sport, uint16_t dport)
{
	size_t len = family == ADDR_FAMILY_V6 ? 16 : 4;

	memset(key, 0, sizeof(*key));
	memcpy(key->src, src, len);
	memcpy(key->dst, dst, len);
	key->sport = sport;
	key->dport = dport;
	key->zone = zone;
	key->family = family;
	key->proto = proto;
}
