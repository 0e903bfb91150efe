/*
 * Detectors of already-encrypted traffic: see crypto_detect.h. Each detector takes the
 * payload and its length and checks the length before every read.
 */
#include "crypto/crypto_detect.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>

#include "lib/buf.h"

enum {
	TLS_CHANGE_CIPHER_SPEC = 20,
	TLS_ALERT = 21,
	TLS_HANDSHAKE = 22,
	TLS_APPLICATION_DATA = 23,
	TLS_RECORD_HDR_LEN = 5,
	/* RFC 5246 6.2.3: a TLSCiphertext fragment is at most 2^14 + 2048 bytes. */
	TLS_RECORD_MAX_LEN = 16384 + 2048,
	DTLS_RECORD_HDR_LEN = 13,
	QUIC_MAX_CID_LEN = 20,
	WG_HANDSHAKE_INITIATION = 1,
	WG_HANDSHAKE_RESPONSE = 2,
	WG_COOKIE_REPLY = 3,
	WG_TRANSPORT_DATA = 4,
	WG_INITIATION_LEN = 148,
	WG_RESPONSE_LEN = 92,
	WG_COOKIE_REPLY_LEN = 64,
	WG_TRANSPORT_MIN_LEN = 32, /* 16 header + 16 tag: a keepalive */
	IKE_HDR_LEN = 28,
	NATT_NON_ESP_MARKER_LEN = 4,
	ESP_HDR_LEN = 8, /* SPI + sequence number */
};

static bool
crypto_detect_is_tls_type(uint8_t type)
{
	return type >= TLS_CHANGE_CIPHER_SPEC && type <= TLS_APPLICATION_DATA;
}

/*
 * A TLS record header: a known content type, version 3.0 (SSL 3) to 3.4, a length that
 * fits a record; a change_cipher_spec record carries exactly the one byte 1. A session
 * starts with handshake (22), but every type is accepted so that a connection picked up
 * in the middle (after a failover or a restart) is still recognised.
 */
static bool
crypto_detect_tls(const uint8_t *p, size_t len)
{
	uint16_t rec_len;

	if (len < TLS_RECORD_HDR_LEN)
		return false;
	if (!crypto_detect_is_tls_type(p[0]) || p[1] != 3 || p[2] > 4)
		return false;
	rec_len = buf_load_be16(p + 3);
	if (rec_len == 0 || rec_len > TLS_RECORD_MAX_LEN)
		return false;
	if (p[0] == TLS_CHANGE_CIPHER_SPEC)
		return rec_len == 1 && (len < TLS_RECORD_HDR_LEN + 1 || p[5] == 1);
	return true;
}

/*
 * A DTLS record header (RFC 6347 / 9147 plaintext form): content type, version 1.0
 * (0xfeff), 1.2 (0xfefd) or 1.3's legacy 0xfefc, epoch + sequence, and a length that
 * fits inside the datagram.
 */
static bool
crypto_detect_dtls(const uint8_t *p, size_t len)
{
	uint16_t version;

	if (len < DTLS_RECORD_HDR_LEN || !crypto_detect_is_tls_type(p[0]))
		return false;
	version = buf_load_be16(p + 1);
	if (version != 0xfeff && version != 0xfefd && version != 0xfefc)
		return false;
	return buf_load_be16(p + 11) > 0 && buf_load_be16(p + 11) <= len - DTLS_RECORD_HDR_LEN;
}

static bool
crypto_detect_quic_version_known(uint32_t v)
{
	return v == 0x00000001u ||                  /* RFC 9000 */
	    v == 0x6b3343cfu ||                     /* QUIC v2, RFC 9369 */
	    (v >= 0xff00001du && v <= 0xff000022u); /* drafts 29 to 34 */
}

/*
 * A QUIC long header (RFC 8999/9000 17.2): header form 1, fixed bit 1 and a version we
 * know, or version 0 (version negotiation, where the other bits are arbitrary); then the
 * destination and source connection ids, each with its length byte, inside the datagram.
 */
static bool
crypto_detect_quic(const uint8_t *p, size_t len)
{
	size_t off, max_cid;
	uint32_t version;

	if (len < 7 || !(p[0] & 0x80))
		return false;
	version = buf_load_be32(p + 1);
	if (version == 0) {
		/* Version negotiation: ids up to 255 bytes, then at least one version. */
		max_cid = 255;
	} else {
		if (!(p[0] & 0x40) || !crypto_detect_quic_version_known(version))
			return false;
		max_cid = QUIC_MAX_CID_LEN;
	}
	off = 5;
	if (p[off] > max_cid || len - off - 1 < p[off])
		return false;
	off += 1 + p[off];
	if (off >= len || p[off] > max_cid || len - off - 1 < p[off])
		return false;
	off += 1 + p[off];
	if (version == 0)
		return len - off >= 4 && (len - off) % 4 == 0;
	return true;
}

/* The SSH identification string (RFC 4253 4.2); "SSH-1.99-" announces 2.0 compatibility. */
static bool
crypto_detect_ssh(const uint8_t *p, size_t len)
{
	static const char v2[] = "SSH-2.0-", v199[] = "SSH-1.99-";

	return (len >= sizeof(v2) - 1 && memcmp(p, v2, sizeof(v2) - 1) == 0) ||
	    (len >= sizeof(v199) - 1 && memcmp(p, v199, sizeof(v199) - 1) == 0);
}

/* A WireGuard message: type 1 to 4, three zero bytes, the type's exact length. */
static bool
crypto_detect_wireguard(const uint8_t *p, size_t len)
{
	if (len < 4 || p[1] != 0 || p[2] != 0 || p[3] != 0)
		return false;
	switch (p[0]) {
	case WG_HANDSHAKE_INITIATION:
		return len == WG_INITIATION_LEN;
	case WG_HANDSHAKE_RESPONSE:
		return len == WG_RESPONSE_LEN;
	case WG_COOKIE_REPLY:
		return len == WG_COOKIE_REPLY_LEN;
	case WG_TRANSPORT_DATA:
		/* The plaintext is padded to 16 bytes, then a 16-byte tag. */
		return len >= WG_TRANSPORT_MIN_LEN && (len - WG_TRANSPORT_MIN_LEN) % 16 == 0;
	}
	return false;
}

/*
 * An ISAKMP/IKE header (RFC 7296 3.1, RFC 2408 3.1): a non-zero initiator SPI, major
 * version 1 or 2, a known exchange type and a length equal to the message's.
 */
static bool
crypto_detect_ike(const uint8_t *p, size_t len)
{
	uint8_t major, exchange;
	bool spi_zero = true;

	if (len < IKE_HDR_LEN)
		return false;
	for (int i = 0; i < 8; i++)
		spi_zero = spi_zero && p[i] == 0;
	if (spi_zero)
		return false;
	major = p[17] >> 4;
	exchange = p[18];
	if (major == 2) {
		/* IKE_SA_INIT .. INFORMATIONAL, IKE_SESSION_RESUME, INTERMEDIATE, FOLLOWUP_KE */
		if (!(exchange >= 34 && exchange <= 38) && exchange != 43 && exchange != 44)
			return false;
	} else if (major == 1) {
		/* Base, identity protection, authentication only, aggressive, informational,
		 * quick mode, new group mode */
		if (!(exchange >= 1 && exchange <= 5) && exchange != 32 && exchange != 33)
			return false;
	} else {
		return false;
	}
	return buf_load_be32(p + 24) == len;
}

static enum crypto_detect_kind
crypto_detect_natt(const uint8_t *p, size_t len)
{
	/* RFC 3948 2.3: the NAT-keepalive is the one byte 0xff. */
	if (len == 1 && p[0] == 0xff)
		return CRYPTO_DETECT_IKE;
	if (len >= NATT_NON_ESP_MARKER_LEN && buf_load_be32(p) == 0)
		return crypto_detect_ike(p + NATT_NON_ESP_MARKER_LEN,
		           len - NATT_NON_ESP_MARKER_LEN) ?
		    CRYPTO_DETECT_IKE :
		    CRYPTO_DETECT_NONE;
	/* Otherwise ESP in UDP (RFC 3948 2.1): SPI 1 to 255 are reserved. */
	if (len >= ESP_HDR_LEN && buf_load_be32(p) > 255)
		return CRYPTO_DETECT_ESP;
	return CRYPTO_DETECT_NONE;
}

static enum crypto_detect_kind
crypto_detect_udp(uint16_t sport, uint16_t dport, const uint8_t *p, size_t len)
{
	if (sport == CRYPTO_DETECT_PORT_NATT || dport == CRYPTO_DETECT_PORT_NATT) {
		enum crypto_detect_kind kind = crypto_detect_natt(p, len);

		if (kind != CRYPTO_DETECT_NONE)
			return kind;
	}
	if ((sport == CRYPTO_DETECT_PORT_IKE || dport == CRYPTO_DETECT_PORT_IKE) &&
	    crypto_detect_ike(p, len))
		return CRYPTO_DETECT_IKE;
	if (crypto_detect_wireguard(p, len))
		return CRYPTO_DETECT_WIREGUARD;
	if (crypto_detect_quic(p, len))
		return CRYPTO_DETECT_QUIC;
	if (crypto_detect_dtls(p, len))
		return CRYPTO_DETECT_DTLS;
	return CRYPTO_DETECT_NONE;
}

enum crypto_detect_kind
crypto_detect_payload(uint8_t l4_proto, uint16_t sport, uint16_t dport, const uint8_t *payload,
    size_t len)
{
	if (l4_proto == IPPROTO_ESP)
		return CRYPTO_DETECT_ESP;
	if (len == 0 || payload == NULL)
		return CRYPTO_DETECT_NONE;
	if (l4_proto == IPPROTO_TCP) {
		if (crypto_detect_tls(payload, len))
			return CRYPTO_DETECT_TLS;
		if (crypto_detect_ssh(payload, len))
			return CRYPTO_DETECT_SSH;
		return CRYPTO_DETECT_NONE;
	}
	if (l4_proto == IPPROTO_UDP)
		return crypto_detect_udp(sport, dport, payload, len);
	return CRYPTO_DETECT_NONE;
}

const char *
crypto_detect_kind_name(enum crypto_detect_kind kind)
{
	static const char *const names[CRYPTO_DETECT_COUNT] = {
	    [CRYPTO_DETECT_NONE] = "none",
	    [CRYPTO_DETECT_TLS] = "tls",
	    [CRYPTO_DETECT_DTLS] = "dtls",
	    [CRYPTO_DETECT_QUIC] = "quic",
	    [CRYPTO_DETECT_SSH] = "ssh",
	    [CRYPTO_DETECT_WIREGUARD] = "wireguard",
	    [CRYPTO_DETECT_ESP] = "esp",
	    [CRYPTO_DETECT_IKE] = "ike",
	};

	if ((unsigned)kind >= CRYPTO_DETECT_COUNT)
		return "unknown";
	return names[kind];
}
