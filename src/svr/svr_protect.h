/*
 * Payload protection of SVR sessions (svr-profile section 6, docs/protocol.md
 * "Adaptive encryption"): per session direction, the sending router decides on the
 * first packet that carries payload whether the payload is encrypted (24-byte trailer)
 * or sent clear because it is already encrypted (TLS, QUIC, ... by crypto_detect) or the
 * service forces it off. The decision travels in the Tern TLV 0x8000 until the other
 * router acknowledges it with TLV 0x8001.
 *
 * State lives in struct session.flags bits 12..27 (the SVR_PROT_* bits below); the
 * transforms own it. "tx" is this router's LAN-to-WAN direction (we decide), "rx" the
 * WAN-to-LAN direction (the peer decided).
 *
 * Threads: pure functions over a session of the calling worker.
 */
#ifndef TERN_SVR_PROTECT_H
#define TERN_SVR_PROTECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session/session_table.h"

/* The service's setting at a router (struct svr_route / svr_accept .encrypt). */
enum svr_encrypt_mode {
	SVR_ENCRYPT_AUTO = 0, /* encrypt unless the payload is already encrypted */
	SVR_ENCRYPT_ON,       /* always encrypt */
	SVR_ENCRYPT_OFF,      /* never encrypt */
};

/*
 * Why a direction is clear or encrypted: the reason byte of TLV 0x8000. Values 1..7 are
 * enum crypto_detect_kind (clear: already encrypted).
 */
enum svr_prot_reason {
	SVR_PROT_REASON_AUTO = 0,       /* nothing detected: encrypted */
	SVR_PROT_REASON_FORCED_ON = 8,  /* the service forces encryption */
	SVR_PROT_REASON_FORCED_OFF = 9, /* the service forbids encryption */
	SVR_PROT_REASON_COUNT = 10,
};

/* Session flag bits (struct session.flags); bits 0..11 are the handshake's. */
#define SVR_PROT_TX_DECIDED      (1u << 12)
#define SVR_PROT_TX_ENCRYPTED    (1u << 13)
#define SVR_PROT_TX_ACKED        (1u << 14)
#define SVR_PROT_TX_REASON_SHIFT 15 /* 4 bits */
#define SVR_PROT_RX_KNOWN        (1u << 19)
#define SVR_PROT_RX_ENCRYPTED    (1u << 20)
#define SVR_PROT_RX_ACK_DUE      (1u << 21) /* an ack is owed to the peer */
#define SVR_PROT_RX_REASON_SHIFT 22         /* 4 bits */
#define SVR_PROT_MODE_SHIFT      26         /* 2 bits: enum svr_encrypt_mode here */
#define SVR_PROT_REASON_MASK     0xfu
#define SVR_PROT_MASK            (0xffffu << 12)

/*
 * Decides a direction from its first payload: the reason (enum svr_prot_reason or the
 * crypto_detect kind) and *encrypt. proto is the host's L4 protocol, ports in host order.
 */
uint8_t svr_protect_decide(uint8_t mode, uint8_t proto, uint16_t sport, uint16_t dport,
    const uint8_t *payload, size_t len, bool *encrypt);

/* One direction of a session as shown to the operator. */
struct svr_protection_dir {
	bool decided; /* the decision is made (tx) or known (rx) */
	bool encrypted;
	bool acked;     /* tx: the peer acknowledged; rx: our ack is sent */
	uint8_t reason; /* enum svr_prot_reason or enum crypto_detect_kind */
	const char *reason_name;
};

struct svr_protection {
	struct svr_protection_dir dir[2]; /* by enum session_dir */
};

/* The protection state of a session for display (`ternctl show sessions`). */
void svr_session_protection(const struct session *s, struct svr_protection *out);

/*
 * Stable lower-case name of a reason: "auto", "forced-on", "forced-off", or the
 * crypto_detect kind ("tls", "quic", ...) for already-encrypted traffic.
 */
const char *svr_protection_reason_name(uint8_t reason);

#endif
