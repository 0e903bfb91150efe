/*
 * Adaptive encryption: recognise traffic that is already encrypted from the first
 * payload of a session direction, so it is forwarded without a second encryption and
 * without a trailer (svr-profile section 6).
 *
 * The detectors are heuristics over a few header bytes: each checks the fixed fields,
 * exact lengths and value ranges of its protocol so that ordinary cleartext (HTTP, DNS,
 * random bytes) is left to be encrypted. A miss only costs 24 bytes per packet; a false
 * positive would send cleartext unencrypted, so every detector errs towards NONE.
 *
 * Invariants: never reads payload past len (payload may be NULL when len is 0); pure and
 * deterministic: the same arguments give the same answer.
 *
 * Threads: no state; any thread.
 */
#ifndef TERN_CRYPTO_DETECT_H
#define TERN_CRYPTO_DETECT_H

#include <stddef.h>
#include <stdint.h>

enum crypto_detect_kind {
	CRYPTO_DETECT_NONE = 0,  /* not recognised: encrypt it */
	CRYPTO_DETECT_TLS,       /* TLS record over TCP */
	CRYPTO_DETECT_DTLS,      /* DTLS 1.0/1.2/1.3 record (plaintext header) over UDP */
	CRYPTO_DETECT_QUIC,      /* QUIC long header (v1, v2, drafts) or version negotiation */
	CRYPTO_DETECT_SSH,       /* SSH identification banner over TCP */
	CRYPTO_DETECT_WIREGUARD, /* WireGuard message over UDP */
	CRYPTO_DETECT_ESP,       /* IP protocol 50, or ESP in UDP on port 4500 */
	CRYPTO_DETECT_IKE,       /* IKEv1/IKEv2 on UDP 500 or 4500, or a NAT-T keepalive */
	CRYPTO_DETECT_COUNT
};

/* The first UDP/TCP ports of IKE and of NAT traversal (RFC 3948). */
#define CRYPTO_DETECT_PORT_IKE  500
#define CRYPTO_DETECT_PORT_NATT 4500

/*
 * The kind of the first payload of a direction: l4_proto is the IP protocol (IPPROTO_*),
 * ports are in host order (ignored unless TCP or UDP), payload[0..len) is the L4
 * payload (for ESP, the ESP header onwards). Returns CRYPTO_DETECT_NONE when nothing
 * matches.
 */
enum crypto_detect_kind crypto_detect_payload(uint8_t l4_proto, uint16_t sport, uint16_t dport,
    const uint8_t *payload, size_t len);

/* A stable lower-case name for logs and `ternctl show sessions`; "unknown" if out of range. */
const char *crypto_detect_kind_name(enum crypto_detect_kind kind);

#endif
