/*
 * The path event log: a bounded ring of the last PATH_LOG_SIZE path events (state
 * changes from the prober; SLA breaches and failovers appended by whoever decides
 * them) with their timestamps, for `ternctl show events`. When full, the oldest entry
 * is overwritten and counted in dropped.
 *
 * Threads: a log belongs to its writer's thread (the control thread); no locking.
 */
#ifndef TERN_PATH_PATH_LOG_H
#define TERN_PATH_PATH_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"

#define PATH_LOG_SIZE 256

enum path_log_kind {
	PATH_LOG_STATE = 1, /* a path changed state (old_state, new_state, reason) */
	/* a path broke an SLA (reason: the enum path_sla_limit broken, detail: the value in
	 * µs or thousandths) or met it again (reason 0); other_path_id: the policy */
	PATH_LOG_SLA_BREACH = 2,
	/* detail sessions moved off path_id (reason 1: it failed; 0: a revert) */
	PATH_LOG_FAILOVER = 3,
	/* the path's TCP sessions now travel as UDP: a session's SYNs with metadata went
	 * unanswered ("udp_transform": "auto"); detail: SYNs it sent first */
	PATH_LOG_UDP_TRANSFORM = 4,
	/*
	 * A NAT binding was seen or changed (reason: enum path_binding_kind in
	 * path_prober.h; addr:port the address now, old_port the port before, 0 if none)
	 */
	PATH_LOG_NAT_BINDING = 5,
};

struct path_log_entry {
	uint64_t ts_ns;               /* monotonic */
	uint8_t kind;                 /* enum path_log_kind */
	uint8_t old_state, new_state; /* enum path_state (PATH_LOG_STATE) */
	uint8_t reason;               /* enum path_change_reason (PATH_LOG_STATE) */
	uint32_t peer_id, path_id;
	uint32_t other_path_id; /* PATH_LOG_SLA_BREACH: the policy; else unused */
	uint32_t flaps;         /* PATH_LOG_STATE: the path's flap count */
	uint64_t hold_down_ns;  /* PATH_LOG_STATE: the path's hold-down after the change */
	uint64_t detail;        /* kind-specific: SLA limit, sessions moved */
	struct addr addr;       /* PATH_LOG_NAT_BINDING */
	uint16_t port, old_port;
};

struct path_log {
	struct path_log_entry ring[PATH_LOG_SIZE];
	uint64_t total; /* entries ever appended; the newest is ring[(total - 1) % SIZE] */
	uint64_t dropped;
};

void path_log_init(struct path_log *log);
void path_log_append(struct path_log *log, const struct path_log_entry *e);
/* Entries held: min(total, PATH_LOG_SIZE). */
size_t path_log_count(const struct path_log *log);
/* The i-th held entry, oldest first; NULL when i >= path_log_count(). Borrowed. */
const struct path_log_entry *path_log_get(const struct path_log *log, size_t i);
const char *path_log_kind_name(enum path_log_kind k);

#endif
