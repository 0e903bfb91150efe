/*
 * The session table: every session a router carries, each reachable by two keys.
 *
 * - The LAN key: the 5-tuple of the session's packets as they arrive from the LAN, in
 *   the LAN segment's zone (tenant), because tenants may reuse addresses.
 * - The WAN key: the waypoint 5-tuple of the session's packets as they arrive from
 *   the WAN (peer waypoint -> our waypoint), in the WAN zone.
 * Both keys live in one hash (the zone's top bit, SESSION_ZONE_WAN, keeps the two kinds
 * apart) and lead to one struct session that holds both directions.
 *
 * Capacity is fixed when the table is made: sessions, buckets, chains and timer nodes
 * are preallocated and addressed by 32-bit index; insert on a full table is -ENOSPC,
 * which the caller counts as SESSION_TABLE_FULL. Memory per session (everything the
 * table allocates divided by capacity) is at most 256 bytes.
 *
 * Idle timeouts per protocol are driven by a timer wheel (lib/timer_wheel.h). The fast
 * path only stores last_seen; when a session's timer fires the table re-arms it for
 * the remaining idle time, or expires the session, so packets do not touch the wheel.
 * The one exception is a TCP session whose timeout shrinks (to CLOSING after FIN both
 * ways or RST): its timer is pulled in once, so closed connections do not hold their
 * slot for the whole established timeout.
 *
 * Layout: a struct session is three cache lines in a 64-byte aligned array. Line 0
 * holds the LAN key and its chain link, line 1 the WAN key and its chain link, so a
 * chain walk touches one line per session it passes; line 2 holds counters, the UUID
 * and the timer node.
 *
 * Threads: a table belongs to one worker; no locks.
 */
#ifndef TERN_SESSION_TABLE_H
#define TERN_SESSION_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/timer_wheel.h"

#define SESSION_INDEX_NONE UINT32_MAX
#define SESSION_ZONE_WAN   0x8000u
/* Most sessions a table may hold (its bucket array must stay indexable by uint32). */
#define SESSION_TABLE_CAPACITY_MAX (1u << 28)
/* Keys one session_table_lookup_burst() stage handles; larger bursts are chunked. */
#define SESSION_TABLE_BURST_MAX 64

/* A session tuple in one zone. 40 bytes, no padding holes: hashed and compared as bytes. */
struct session_key {
	uint8_t src[16]; /* IPv4 in the first 4 bytes, rest zero (as struct addr) */
	uint8_t dst[16];
	uint16_t sport; /* host order; ICMP echo identifier for ICMP */
	uint16_t dport;
	uint16_t zone;  /* LAN: tenant/segment id; WAN: SESSION_ZONE_WAN | wan interface id */
	uint8_t family; /* ADDR_FAMILY_V4 / ADDR_FAMILY_V6 */
	uint8_t proto;  /* IPPROTO_* of the original session */
};

enum session_timeout_class {
	SESSION_TIMEOUT_TCP_OPENING,     /* until the handshake completes: 10 s */
	SESSION_TIMEOUT_TCP_ESTABLISHED, /* 1900 s */
	SESSION_TIMEOUT_TCP_CLOSING,     /* after FIN both ways or RST: 10 s */
	SESSION_TIMEOUT_UDP,             /* 180 s */
	SESSION_TIMEOUT_ICMP,            /* 10 s */
	SESSION_TIMEOUT_OTHER,           /* 180 s */
	SESSION_TIMEOUT_COUNT
};

/* The two directions of a session at this router. */
enum session_dir {
	SESSION_DIR_LAN_TO_WAN = 0,
	SESSION_DIR_WAN_TO_LAN = 1,
};

enum session_role {
	SESSION_ROLE_INGRESS = 1,  /* we saw the first packet, from the LAN */
	SESSION_ROLE_EGRESS = 2,   /* the first packet came from a peer with metadata */
	SESSION_ROLE_BREAKOUT = 3, /* local breakout: out by a WAN link, no peer (router) */
};

/* 192 bytes: three cache lines (see the layout note at the top). */
struct session {
	/* line 0: read by lookups on the LAN key */
	struct session_key lan_key;
	uint32_t lan_next; /* hash chain link, owned by the table */
	uint32_t flags;    /* owner-defined (the SVR handshake state in src/svr) */
	uint64_t last_seen_ns;
	uint16_t tenant_id;
	uint16_t service_id;
	uint16_t path_id;
	uint8_t role;          /* enum session_role */
	uint8_t timeout_class; /* enum session_timeout_class */
	/* line 1: read by lookups on the WAN key */
	struct session_key wan_key;
	uint32_t wan_next; /* hash chain link, owned by the table */
	uint8_t tcp_seen;  /* owned by the table: SYN/FIN/RST seen per direction */
	uint8_t pad[3];
	uint16_t csum_delta_l3[2]; /* per enum session_dir: precomputed rewrite deltas */
	uint16_t csum_delta_l4[2];
	uint64_t created_ns; /* set by insert: when the session began here */
	/* line 2 */
	union {
		struct {
			uint64_t packets[2]; /* per enum session_dir */
			uint64_t bytes[2];
			uint8_t uuid[16];
		};
		/*
		 * An owner may make an entry that is not a session of its own but a second
		 * key pair of one (an alias: src/svr's duplicate legs). Such an entry has no
		 * counters or UUID; its owner keeps state of its own here. The table never
		 * reads or writes these bytes (session_on_packet() does: not for aliases).
		 */
		uint64_t owner_data[6];
	};
	struct timer_wheel_node timer; /* idle timer, owned by the table */
};

_Static_assert(sizeof(struct session) == 192, "struct session must stay three cache lines");

struct session_table_config {
	uint32_t capacity;
	uint64_t timeout_ns[SESSION_TIMEOUT_COUNT]; /* 0 keeps the default */
	uint64_t tick_ns;                           /* timer resolution; 0: 100 ms */
	uint64_t seed;                              /* hash seed; 0: from getrandom() */
};

struct session_table_stats {
	uint64_t inserts;
	uint64_t deletes; /* by session_table_delete() */
	uint64_t expired; /* by session_table_expire(); inserts = count + deletes + expired */
	uint64_t full;    /* inserts refused because the table was full */
};

struct session_table;

/* Fills the defaults (the timeouts listed above, 100 ms tick) for capacity sessions. */
void session_table_config_default(struct session_table_config *config, uint32_t capacity);
/*
 * NULL on allocation failure or a bad config (capacity 0 or above
 * SESSION_TABLE_CAPACITY_MAX, a timeout or tick above one year). now_ns starts the
 * timer wheel. Everything is allocated and touched here, so the data path never faults
 * a page in.
 */
struct session_table *session_table_new(const struct session_table_config *config, uint64_t now_ns);
void session_table_free(struct session_table *t); /* accepts NULL */

uint64_t session_key_hash(const struct session_table *t, const struct session_key *key);
/* Prefetches the bucket of a hash; call for a whole batch before the lookups. */
void session_table_prefetch(const struct session_table *t, uint64_t hash);

/*
 * Finds the session one of whose keys equals key (hash from session_key_hash()).
 * Returns its index or SESSION_INDEX_NONE. *dir (may be NULL) receives the direction
 * of a packet that arrives with this key: LAN keys give LAN_TO_WAN, WAN keys WAN_TO_LAN.
 */
uint32_t session_table_lookup(const struct session_table *t, const struct session_key *key,
    uint64_t hash, enum session_dir *dir);
/*
 * Looks up n keys with staged prefetching (buckets, then sessions), in chunks of
 * SESSION_TABLE_BURST_MAX; out[i] and dirs[i] (dirs may be NULL) as for
 * session_table_lookup(). The sessions found are prefetched for the caller.
 */
void session_table_lookup_burst(const struct session_table *t,
    const struct session_key *const *keys, unsigned n, uint32_t *out, enum session_dir *dirs);

/*
 * Inserts a session with both keys; the rest of *s is zeroed except what the caller
 * fills after. timeout_class is set from lan_key->proto. Returns the index via *index
 * (may be NULL). -EEXIST: a key is already there (or both keys are equal), checked
 * first; -ENOSPC: the table is full (counted in stats.full).
 */
int session_table_insert(struct session_table *t, const struct session_key *lan_key,
    const struct session_key *wan_key, uint64_t now_ns, uint32_t *index);
/*
 * Inserts a copy of src, a session of another table (a reload moves sessions into a new
 * worker's table): both keys, flags, ids, TCP state, checksum deltas, created_ns,
 * counters and UUID (or an alias's owner data); its idle timer runs to last_seen plus the
 * timeout of its class here. Errors as session_table_insert().
 */
int session_table_insert_copy(struct session_table *t, const struct session *src, uint64_t now_ns,
    uint32_t *index);
/* -ENOENT if index is not a live session. Counted in stats.deletes. */
int session_table_delete(struct session_table *t, uint32_t index);
/*
 * Replaces the WAN key (path change); 0 if it is already the session's WAN key,
 * -EEXIST if the new key is taken (also by this session's LAN key), -ENOENT.
 */
int session_table_rekey_wan(struct session_table *t, uint32_t index,
    const struct session_key *wan_key);

/* The session at index (borrowed), or NULL if none lives there. */
struct session *session_table_get(struct session_table *t, uint32_t index);
/*
 * The session at an index that a lookup has just returned, so known to be live: the
 * fast path skips the liveness bitmap of session_table_get(). Anything else is a bug.
 */
struct session *session_table_at(struct session_table *t, uint32_t index);
/* The index of s, a session of this table (for owners that keep per-session arrays). */
uint32_t session_table_index(const struct session_table *t, const struct session *s);
/* The first live index >= index, or SESSION_INDEX_NONE: walks every session (CLI). */
uint32_t session_table_next(const struct session_table *t, uint32_t index);

/* The TCP part of session_on_packet(), out of line: only SYN, FIN and RST get here. */
void session_on_tcp_flags(struct session_table *t, struct session *s, unsigned dir,
    uint8_t tcp_flags, uint64_t now_ns);

/*
 * Call for every packet of a session (s from this table): updates last_seen, counters
 * and, for TCP, the state that selects the idle timeout: OPENING until a SYN was seen
 * each way, then ESTABLISHED; CLOSING after a FIN each way or any RST; a bare SYN on a
 * CLOSING session starts a new connection on the same tuple (OPENING). tcp_flags is
 * the TCP flags byte (0 for other protocols). Touches the timer wheel only when the
 * timeout shrinks (see the top). Inline: it runs for every packet of the fast path.
 */
static inline void
session_on_packet(struct session_table *t, struct session *s, enum session_dir dir,
    uint8_t tcp_flags, uint32_t bytes, uint64_t now_ns)
{
	unsigned d = (unsigned)dir & 1;

	s->last_seen_ns = now_ns;
	s->packets[d]++;
	s->bytes[d] += bytes;
	/* FIN 0x01, SYN 0x02, RST 0x04; IPPROTO_TCP is 6. */
	if ((tcp_flags & 0x07) != 0 && s->lan_key.proto == 6)
		session_on_tcp_flags(t, s, d, tcp_flags, now_ns);
}

/*
 * Advances the timer wheel to now_ns. Sessions idle for their timeout are handed to
 * on_expire (may be NULL; it may read the session and must not delete it) and then
 * deleted. Returns how many expired.
 */
unsigned session_table_expire(struct session_table *t, uint64_t now_ns,
    void (*on_expire)(struct session *s, uint32_t index, void *arg), void *arg);

/*
 * Half-open sessions: live TCP sessions in SESSION_TIMEOUT_TCP_OPENING (no SYN seen
 * both ways yet, or a closed tuple reopened by a new SYN), kept as sessions are made,
 * change state and end, so the firewall's cap costs no walk.
 */
uint32_t session_table_opening(const struct session_table *t);
uint32_t session_table_count(const struct session_table *t);
uint32_t session_table_capacity(const struct session_table *t);
/* Every byte the table allocated, for the bytes-per-session figure. */
size_t session_table_memory_bytes(const struct session_table *t);
void session_table_stats_get(const struct session_table *t, struct session_table_stats *out);

/*
 * Builds a key. Reads 4 bytes of each address for ADDR_FAMILY_V4 (any family but V6)
 * and 16 for ADDR_FAMILY_V6, so src and dst may point into a packet; the key is
 * zero-padded.
 */
void session_key_set(struct session_key *key, uint8_t family, uint8_t proto, uint16_t zone,
    const uint8_t *src, const uint8_t *dst, uint16_t sport, uint16_t dport);

#endif
