/*
 * IPv4 and IPv6 fragment reassembly, before classification.
 *
 * A fixed table of reassembly contexts keyed by (family, src, dst, protocol, id).
 * Each context copies fragment payloads into one buffer (that of the first fragment of
 * the datagram to arrive), and tracks received 8-byte units in a bitmap.
 * Limits (all counted drops, never crashes): contexts in the table, fragments per
 * datagram, reassembled size (PKT_BUF_DATA_MAX at most), age (timeout). Overlapping
 * fragments drop the whole datagram (RFC 5722 for IPv6; same policy for IPv4 because
 * overlap is an evasion technique, not something hosts do).
 *
 * Threads: a table belongs to one worker.
 */
#ifndef TERN_PKT_FRAG_H
#define TERN_PKT_FRAG_H

#include <stdint.h>

#include "pkt/pkt_buf.h"
#include "pkt/pkt_drop.h"

struct pkt_frag_config {
	uint32_t max_datagrams;    /* contexts in the table */
	uint16_t max_fragments;    /* per datagram */
	uint16_t max_datagram_len; /* reassembled IP datagram, <= PKT_BUF_DATA_MAX */
	uint64_t timeout_ns;       /* a datagram not complete by then is dropped */
};

/* Defaults: 1024 datagrams, 64 fragments, PKT_BUF_DATA_MAX bytes, 5 s. */
void pkt_frag_config_default(struct pkt_frag_config *config);

struct pkt_frag_table;

/* NULL on allocation failure or a bad config. Buffers come from (and go back to) pool. */
struct pkt_frag_table *pkt_frag_table_new(const struct pkt_frag_config *config,
    struct pkt_pool *pool);
/* Accepts NULL. Returns every held buffer to the pool. */
void pkt_frag_table_free(struct pkt_frag_table *t);

/*
 * Feeds one parsed fragment (PKT_INFO_FRAGMENT set). Always takes ownership of frag,
 * which must come from the table's pool. Returns:
 *   0 with *out NULL: held, datagram not complete yet;
 *   0 with *out set: the reassembled datagram, parsed (out->info valid), owned by the
 *     caller (a packet that is not a fragment comes back unchanged the same way);
 *   -EBADMSG (FRAG_BAD_OFFSET, FRAG_OVERLAP, FRAG_TOO_BIG, FRAG_TOO_MANY, or the
 *     parser's reason for a reassembled datagram that does not parse) / -ENOSPC
 *     (FRAG_TABLE_FULL) with *reason set: the fragment (and, for overlap, size, count or
 *     parse errors, its whole datagram) was dropped and counted once under *reason.
 * The first fragment's buffer becomes the reassembly buffer, so no pool buffer is
 * needed (-ENOBUFS is never returned). Datagrams found expired here are dropped and
 * reported by the next pkt_frag_expire().
 */
int pkt_frag_input(struct pkt_frag_table *t, struct pkt_buf *frag, uint64_t now_ns,
    struct pkt_buf **out, enum pkt_drop_reason *reason);

/*
 * Drops datagrams older than the timeout; returns how many, including those that
 * pkt_frag_input() expired since the last call (each counts as one FRAG_TIMEOUT drop
 * for the caller). Call from the worker's timer tick.
 */
unsigned pkt_frag_expire(struct pkt_frag_table *t, uint64_t now_ns);
uint32_t pkt_frag_table_count(const struct pkt_frag_table *t);

#endif
