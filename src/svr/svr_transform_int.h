/*
 * Internal to src/svr: the pieces of the transforms that the failover code
 * (svr_migrate.c) and the duplication code (svr_dup.c) share with svr_transform.c.
 * Not for use outside src/svr.
 *
 * Threads: as svr_transform.h, the calling worker's router only.
 */
#ifndef TERN_SVR_TRANSFORM_INT_H
#define TERN_SVR_TRANSFORM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session/session_table.h"
#include "svr/svr_dup_window.h"
#include "svr/svr_seal.h"
#include "svr/svr_transform.h"

/*
 * Checksum deltas for packets arriving with tuple `in` and leaving with the reverse of
 * `out` (src = out->dst, dst = out->src, sport = out->dport, dport = out->sport).
 */
void svr_deltas_compute(struct session *s, enum session_dir dir, const struct session_key *in,
    const struct session_key *out);

/*
 * Builds a control packet (enum svr_control) on the session's waypoint tuple, toward the
 * peer, into rt->ctrl_out; with fwd_meta it also carries the session's forward metadata
 * (context, UUID, names) so the peer can re-bind the session from it. Failures are
 * counted drops (PKT_POOL_EMPTY when rt->ctrl_out or the pool is full, SEC_NO_KEY, ...).
 */
void svr_control_send(struct svr_router *rt, struct session *s, uint8_t control, bool fwd_meta);
/*
 * The same on one leg w of s: w is s itself or its alias; a duplicated session's control
 * names the leg (TLV 0x8003, sequence 0: controls are never filtered).
 */
void svr_control_send_leg(struct svr_router *rt, struct session *s, struct session *w,
    uint8_t control, bool fwd_meta);

/*
 * Duplication state, kept in the alias entry's owner_data (struct session): the
 * sequence of the last packet sent toward the peer, and the filter of what came back.
 */
struct svr_dup_state {
	uint32_t tx_seq; /* wire sequence of the last packet sent; the first is 1 */
	uint32_t reserved;
	struct svr_dup_window rx;
};
_Static_assert(sizeof(struct svr_dup_state) == sizeof(((struct session *)0)->owner_data),
    "the duplication state fills an alias entry's owner data");

void svr_dup_state_load(const struct session *alias, struct svr_dup_state *st);
void svr_dup_state_store(struct session *alias, const struct svr_dup_state *st);

/* The live alias of primary (index), or NULL; *alias_index (may be NULL) gets its index. */
struct session *svr_dup_alias_find(struct svr_router *rt, uint32_t primary, uint32_t *alias_index);
/* The duplicated session an alias belongs to, or NULL when it outlived it. */
struct session *svr_dup_primary_of(struct svr_router *rt, const struct session *alias,
    uint32_t *primary_index);
/*
 * Makes the alias of session primary and marks the session SVR_SESSION_DUP; the second
 * leg carries LEG1 when leg1. At the ingress path_id names the second leg's path
 * (bound at once when it can be: svr_session_dup_move()); SVR_PATH_NONE leaves it
 * unbound. 0 or -ENOSPC (table full: the session is then not duplicated, counted).
 */
int svr_dup_alias_add(struct svr_router *rt, uint32_t primary, uint16_t path_id, bool leg1,
    uint64_t now_ns, uint32_t *alias_index);
/* Returns the waypoint pair an ingress alias holds (svr_session_release()). */
void svr_dup_alias_release(struct svr_router *rt, const struct session *alias);
/* Deletes the alias of session primary, if any, returning its pair. */
void svr_dup_alias_drop(struct svr_router *rt, uint32_t primary);
/*
 * Ingress: gives the second leg of s (index) a usable path when it has none (unbound,
 * its path down, or the first leg's path): asks rt->dup_path_pick and moves it. With
 * keepalive, a moved leg gets a keep-alive with forward metadata (the sweep). True when
 * the leg moved.
 */
bool svr_dup_leg_check(struct svr_router *rt, struct session *s, uint32_t index,
    struct session *alias, bool keepalive, uint64_t now_ns);

/* NAT: indexes an ingress session on a learn path by its UUID (full index: not indexed). */
void svr_uuid_index_add(struct svr_router *rt, const struct session *s, uint32_t index);

/* The key slots of the session's peer, or NULL when its path names no known peer. */
struct svr_peer_keys *svr_session_keys(const struct svr_router *rt, const struct session *s);

/*
 * ICMP errors (svr_icmp.c, docs/protocol.md "ICMP errors"). Bytes of the ICMP message an
 * error carries to the peer at most: its header, the embedded IP header and more than
 * the 8 bytes of L4 header a host needs; the rest is cut. The receiver holds a peer to
 * the same bounds (at least the ICMP header): a longer message is malformed.
 */
#define SVR_ICMP_ERR_CARRY_MAX 400
#define SVR_ICMP_ERR_CARRY_MIN 8
/*
 * An ICMP error p from LAN zone zone (PKT_INFO_ICMP_ERROR): finds the session whose
 * packet it embeds and rewrites p in place into the carrier toward the peer:
 * SVR_VERDICT_TO_WAN, or a counted drop (FW_ICMP_ERROR_MALFORMED,
 * FW_ICMP_ERROR_NO_SESSION, L4_BAD_CHECKSUM, SEC_NO_KEY, PKT_TOO_BIG, ...). Never makes a
 * session, never refreshes one.
 */
enum svr_verdict svr_lan_icmp_err(struct svr_router *rt, struct pkt_buf *p, uint16_t zone);
/* True when p is UDP with a block whose (unsealed) header has an ICMP error location. */
bool svr_icmp_err_is_carrier(const struct pkt_buf *p);
/*
 * A carrier for session s whose block (opened) m decoded: rewrites p in place into the
 * ICMP error for s's host: SVR_VERDICT_TO_LAN, or a counted drop.
 */
enum svr_verdict svr_wan_icmp_err(struct svr_router *rt, struct pkt_buf *p, struct session *s,
    const struct svr_meta *m);

/* What a duplicated session's packet carries: its leg and sequence (TLV 0x8003). */
struct svr_dup_tag {
	uint8_t leg;
	uint32_t seq;
};

/*
 * The transforms' slow paths, shared with the duplication code (svr_dup.c): one packet
 * of s toward the peer on leg w (s, or its alias) with dup (NULL: not duplicated) in its
 * block, copy set for the second copy (not counted again); the restore of a WAN packet
 * whose block (block_len bytes) was handled, on leg w; and a protection decision heard
 * from the peer. Drops are counted; see svr_transform.c.
 */
enum svr_verdict svr_lan_to_wan_slow(struct svr_router *rt, struct pkt_buf *p, struct session *s,
    struct session *w, const struct svr_dup_tag *dup, bool copy, uint64_t now_ns);
enum svr_verdict svr_wan_restore_slow(struct svr_router *rt, struct pkt_buf *p, struct session *s,
    const struct session *w, size_t block_len, uint64_t now_ns);
void svr_rx_decision_apply(struct svr_router *rt, struct session *s, uint32_t index,
    const struct svr_seal_protection *prot);

/*
 * A packet of duplicated session s (index) from the LAN: the next sequence, the copy for
 * the second leg, both through svr_lan_to_wan_slow(); the first copy's verdict.
 */
enum svr_verdict svr_lan_dup_send(struct svr_router *rt, struct pkt_buf *p, struct session *s,
    uint32_t index, uint64_t now_ns);
/*
 * The duplicate filter for a packet of s with wire sequence seq that came on leg w: 0 to
 * deliver (marked), -EALREADY or -ESTALE (counted in rt->stats).
 */
int svr_dup_filter(struct svr_router *rt, struct session *s, uint32_t index, struct session *w,
    uint32_t seq);
/* svr_wan_first() for the leg of s that its own WAN key does not carry. */
enum svr_verdict svr_wan_first_leg(struct svr_router *rt, struct pkt_buf *p,
    const struct svr_meta *m, const struct svr_accept *accept, struct session *s, uint32_t index,
    const struct session_key *wan_key, const struct svr_seal_protection *prot, size_t block_len,
    uint64_t now_ns);

#endif
