/*
 * The stateful firewall's decisions about packets that match no session (docs/policy.md
 * "Stateful firewall"): a TCP session must begin with a SYN (no ACK, RST or FIN), a
 * TCP segment that opens nothing is dropped or answered with a reset (rate-limited),
 * and the half-open TCP sessions of the router are capped. The session table does the
 * tracking (session_table_opening()); this file only decides.
 *
 * Threads: a struct router_fw belongs to one worker; no locks, no allocation.
 */
#ifndef TERN_ROUTER_ROUTER_FW_H
#define TERN_ROUTER_ROUTER_FW_H

#include <stdbool.h>
#include <stdint.h>

#include "pkt/pkt_buf.h"
#include "pkt/pkt_drop.h"
#include "router/router_config.h"

struct router_fw {
	uint8_t tcp_no_session; /* enum router_config_tcp_no_session */
	uint32_t half_open_max; /* 0: no cap */
	uint32_t resets_per_s;  /* token bucket: this rate, and as many at once */
	uint64_t tokens_ns;     /* tokens held, in ns of refill (1 token = 1e9 / rate ns) */
	uint64_t last_ns;       /* when tokens_ns was last brought up to date */
};

enum router_fw_verdict {
	ROUTER_FW_PASS = 0,  /* may open a session */
	ROUTER_FW_DROP = 1,  /* dropped: *reason */
	ROUTER_FW_RESET = 2, /* dropped (*reason) and answered with a TCP reset */
};

/* From the snapshot's "firewall"; the reset bucket starts full. */
void router_fw_init(struct router_fw *fw, const struct router_config_firewall *cfg,
    uint64_t now_ns);

/* True when TCP flags may begin a session: SYN without ACK, RST or FIN. */
static inline bool
router_fw_tcp_opens(uint8_t tcp_flags)
{
	return (tcp_flags & 0x17) == 0x02;
}

/* True when the half-open cap is reached with half_open sessions in the table. */
static inline bool
router_fw_half_open_full(const struct router_fw *fw, uint32_t half_open)
{
	return fw->half_open_max != 0 && half_open >= fw->half_open_max;
}

/*
 * A parsed packet from a LAN that matches no session, with half_open TCP sessions in
 * the table now: ROUTER_FW_PASS, or a drop with *reason (FW_TCP_NO_SESSION,
 * FW_TCP_NO_SESSION_RESET when a reset is due and the bucket had a token,
 * FW_HALF_OPEN_LIMIT). Takes a reset token when it answers RESET.
 */
enum router_fw_verdict router_fw_lan_new(struct router_fw *fw, const struct pkt_buf *p,
    uint32_t half_open, uint64_t now_ns, enum pkt_drop_reason *reason);

#endif
