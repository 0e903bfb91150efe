/*
 * Wire format of a path probe (docs/protocol.md, "Path probes"): one fixed-size
 * message on UDP 1280, which it shares with the key exchange (types 1..4); probes are
 * type 16. All integers big-endian:
 *
 *   off len field
 *     0   1 type = 16
 *     1   1 flags: bit 0 AUTH (the tag is an AES-256-GCM tag), bit 1 ECHO (the echo
 *           fields are valid); other bits zero
 *     2   1 version = 1
 *     3   1 reserved, zero
 *     4   4 key index: the receiver's receive index of the key that sealed it (0 plain)
 *     8   4 sender's path token (the sender's path_id; never 0)
 *    12   4 receiver's path token, echoed: the last token received from the other
 *           side on this path, 0 while none was received (lets the receiver find the
 *           path even when a NAT rewrote the source)
 *    16   4 sequence: per path, +1 per probe sent
 *    20   8 tx timestamp, ns of the sender's monotonic clock
 *    28   4 echo sequence: the highest sequence received from the other side
 *    32   8 echo tx timestamp: its tx timestamp, verbatim
 *    40   4 echo delay, us between receiving that probe and sending this one
 *    44   4 receive counter: probes accepted from the other side on this path
 *    48  16 tag: AEAD tag over empty plaintext with bytes 0..47 as associated data
 *           (AUTH), or 16 zero bytes (plain)
 *    64     total
 *
 * With flag bit 2 OBSERVED (docs/decisions/0008-nat.md), 20 bytes go between the header
 * and the tag, so the tag covers them (bytes 0..67 are the associated data; 84 total):
 *    48   1 family of the observed address: 4 or 6
 *    49   1 reserved, zero
 *    50   2 observed port
 *    52  16 observed address (IPv4: the first 4 bytes, the rest zero)
 * The observed address and port are the source from which the sender received the
 * newest probe on this path: the receiver's address as the sender sees it (behind a
 * NAT, the translated one). A prober sends them only on a path where it learns its
 * peer's address, or once the peer sent them, so a peer that predates them never
 * receives one.
 *
 * Nonce of the tag: 4 zero bytes || sender's path token || sequence. A prober never
 * reuses a (token, sequence) pair under one send key (path_prober.h says how), and
 * probes use a key of their own (the caller derives it from the data key), so the
 * nonce is unique per key.
 *
 * Threads: pure functions on caller-owned buffers.
 */
#ifndef TERN_PATH_PATH_PROBE_H
#define TERN_PATH_PATH_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"

#define PATH_PROBE_PORT         1280
#define PATH_PROBE_TYPE         16
#define PATH_PROBE_VERSION      1
#define PATH_PROBE_LEN          64
#define PATH_PROBE_AD_LEN       48 /* the header: everything before the tag */
#define PATH_PROBE_TAG_LEN      16
#define PATH_PROBE_OBSERVED_LEN 20
#define PATH_PROBE_LEN_MAX      (PATH_PROBE_LEN + PATH_PROBE_OBSERVED_LEN)

#define PATH_PROBE_FLAG_AUTH     0x01
#define PATH_PROBE_FLAG_ECHO     0x02
#define PATH_PROBE_FLAG_OBSERVED 0x04

struct path_probe {
	uint8_t flags;
	uint32_t key_index;
	uint32_t sender_token;
	uint32_t receiver_token;
	uint32_t seq;
	uint64_t tx_ns;
	uint32_t echo_seq;
	uint64_t echo_tx_ns;
	uint32_t echo_delay_us;
	uint32_t rx_count;
	struct addr observed; /* OBSERVED: family 4 or 6 */
	uint16_t observed_port;
	uint8_t tag[PATH_PROBE_TAG_LEN];
};

/* The length of p on the wire: PATH_PROBE_LEN, or PATH_PROBE_LEN_MAX with OBSERVED. */
size_t path_probe_len(const struct path_probe *p);
/* The associated data of p's tag: everything before it. */
size_t path_probe_ad_len(const struct path_probe *p);

/* Writes the path_probe_len(p) bytes of p (type and version implied). */
void path_probe_encode(uint8_t *out, const struct path_probe *p);

/*
 * Decodes msg (len bytes) into *out. -EBADMSG unless len is exactly PATH_PROBE_LEN
 * (PATH_PROBE_LEN_MAX with OBSERVED), the type, version and reserved bytes are right,
 * no unknown flag is set, the sender's token is not 0, an observed address has family
 * 4 or 6 (an IPv4 one with zero padding), and a plain probe's tag is zero. Does not
 * authenticate.
 */
int path_probe_decode(const uint8_t *msg, size_t len, struct path_probe *out);

/* Whether msg looks like a probe (its first byte), to demultiplex UDP 1280. */
bool path_probe_is_probe(const uint8_t *msg, size_t len);

/* The nonce of the probe's tag. */
void path_probe_nonce(uint8_t nonce[12], uint32_t sender_token, uint32_t seq);

#endif
