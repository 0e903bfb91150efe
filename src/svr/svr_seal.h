/*
 * Sealed metadata (docs/protocol.md "Sealed metadata"): with security on, the payload-TLV
 * section of every block is encrypted with the peer's send key, the header TLVs carry
 * the security id (TLV 16, the peer's receive index) and the 12 fixed bytes plus the
 * header TLVs are the associated data. On the wire the payload section is
 * ciphertext || 8-byte counter || 16-byte tag, and the payload length counts all of it.
 *
 * Opening works in place and keeps the block's wire length: the 24 trailer bytes are
 * overwritten with a padding TLV (SVR_TLV_TERN_SEAL_PAD, skipped by every decoder), so
 * svr_meta_decode() reads the opened block as it is and the caller removes the block by
 * its wire length.
 *
 * Threads: pure functions over caller-owned memory and the caller's key slots.
 */
#ifndef TERN_SVR_SEAL_H
#define TERN_SVR_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkt/pkt_drop.h"
#include "svr/svr_keys.h"

/* Tern private TLVs (docs/protocol.md); receivers that do not know them skip them. */
#define SVR_TLV_TERN_PROTECTION     0x8000 /* u8 mode (0 clear, 1 encrypted), u8 reason */
#define SVR_TLV_TERN_PROTECTION_ACK 0x8001 /* flag: the decision toward us is known */
#define SVR_TLV_TERN_UDP_TRANSFORM  0x8002 /* flag: the session is TCP carried as UDP */
/* The ICMP message an error carried along its session has (docs/protocol.md "ICMP errors") */
#define SVR_TLV_TERN_ICMP_ERROR 0x8004
#define SVR_TLV_TERN_SEAL_PAD   0x80ff /* never sent: replaces an opened trailer */

/* Bytes sealing adds to a block: TLV 16 (8) and the trailer (24). */
#define SVR_SEAL_OVERHEAD (8 + CRYPTO_AEAD_TRAILER_LEN)

/*
 * Seals the block block[0 .. *len) (as svr_meta_encode wrote it, with the security id
 * TLV already in its header) with k's send key: rewrites its payload length, encrypts the
 * payload section in place and appends the trailer; *len grows by 24 (cap is the room).
 * -ENOKEY no send key, -ERANGE key exhausted, -ENOBUFS no room, -EIO.
 */
int svr_seal_block(struct svr_peer_keys *k, uint8_t *block, size_t *len, size_t cap);

/*
 * Reads the fixed bytes and header TLVs of the block at data (len bytes of L4 payload,
 * starting with the cookie). 0: *security_id and *block_len (the wire length) set;
 * -ENOENT: a well-formed header without a security id (unsealed); -EBADMSG with
 * *reason: malformed (the reasons of svr_meta_decode for the fixed part and header).
 */
int svr_seal_peek(const uint8_t *data, size_t len, uint32_t *security_id, size_t *block_len,
    enum pkt_drop_reason *reason);

/*
 * Opens the sealed block data[0 .. block_len) in place with the receive slot r of k
 * (replay window checked before, updated after). 0: the payload section holds the
 * plaintext TLVs and a padding TLV. -EALREADY/-ESTALE: replayed (nothing changed);
 * -EBADMSG: not authentic or too short for a trailer (the window unchanged).
 */
int svr_seal_open(struct svr_peer_keys *k, struct svr_recv_key *r, uint8_t *data, size_t block_len);

/*
 * Appends the Tern protection TLVs to the payload section of an unsealed block (before
 * svr_seal_block): the decision (mode, reason) when decision is set, the ack when ack
 * is set. -ENOBUFS.
 */
int svr_seal_protection_append(uint8_t *block, size_t *len, size_t cap, bool decision, uint8_t mode,
    uint8_t reason, bool ack);

/* What the Tern protection TLVs of an opened block say. */
struct svr_seal_protection {
	bool has_decision;
	uint8_t mode; /* 0 clear, 1 encrypted */
	uint8_t reason;
	bool ack;
};

/*
 * Finds the Tern protection TLVs in the payload section of a block that
 * svr_meta_decode() accepted. -EBADMSG for a protection TLV of the wrong length or a
 * mode other than 0/1.
 */
int svr_seal_protection_find(const uint8_t *block, struct svr_seal_protection *out);

/*
 * Appends a zero-length Tern flag TLV (e.g. SVR_TLV_TERN_UDP_TRANSFORM) to the payload
 * section of an unsealed block (before svr_seal_block). -ENOBUFS.
 */
int svr_seal_flag_append(uint8_t *block, size_t *len, size_t cap, uint16_t type);

/*
 * True when the payload section of a block that svr_meta_decode() accepted (opened, if
 * it was sealed) holds a TLV of that type with length 0.
 */
bool svr_seal_flag_find(const uint8_t *block, uint16_t type);

#endif
