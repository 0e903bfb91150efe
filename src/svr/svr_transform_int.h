/*
 * Internal to src/svr: the pieces of the transforms that the failover code
 * (svr_migrate.c) shares with svr_transform.c. Not for use outside src/svr.
 *
 * Threads: as svr_transform.h, the calling worker's router only.
 */
#ifndef TERN_SVR_TRANSFORM_INT_H
#define TERN_SVR_TRANSFORM_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "session/session_table.h"
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

/* NAT: indexes an ingress session on a learn path by its UUID (full index: not indexed). */
void svr_uuid_index_add(struct svr_router *rt, const struct session *s, uint32_t index);

#endif
