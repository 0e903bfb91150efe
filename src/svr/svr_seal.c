/* Sealed metadata; see svr_seal.h for the contract. */
#include "svr/svr_seal.h"

#include <errno.h>
#include <string.h>

#include "lib/buf.h"
#include "svr/svr_meta.h"

#define SVR_TLV_HDR_LEN 4

int
svr_seal_block(struct svr_peer_keys *k, uint8_t *block, size_t *len, size_t cap)
{
	size_t hlen = svr_meta_header_len(block), plen = svr_meta_payload_len(block);
	int rc;

	if (*len + CRYPTO_AEAD_TRAILER_LEN > cap || plen + CRYPTO_AEAD_TRAILER_LEN > UINT16_MAX)
		return -ENOBUFS;
	/* The length is in the associated data: write the wire value before sealing. */
	buf_store_be16(block + SVR_META_COOKIE_LEN + 2, (uint16_t)(plen + CRYPTO_AEAD_TRAILER_LEN));
	rc = svr_peer_keys_seal(k, block, hlen, block + hlen, plen, block + hlen + plen);
	if (rc < 0)
		return rc;
	*len = hlen + plen + CRYPTO_AEAD_TRAILER_LEN;
	return 0;
}

int
svr_seal_peek(const uint8_t *data, size_t len, uint32_t *security_id, size_t *block_len,
    enum pkt_drop_reason *reason)
{
	size_t hlen, plen, off;
	uint16_t ver_hlen;
	bool found = false;

	if (len < SVR_META_FIXED_LEN) {
		*reason = PKT_DROP_META_TRUNCATED;
		return -EBADMSG;
	}
	ver_hlen = buf_load_be16(data + SVR_META_COOKIE_LEN);
	if (ver_hlen >> 12 != SVR_META_VERSION) {
		*reason = PKT_DROP_META_BAD_VERSION;
		return -EBADMSG;
	}
	hlen = svr_meta_header_len(data);
	plen = svr_meta_payload_len(data);
	if (hlen < SVR_META_FIXED_LEN) {
		*reason = PKT_DROP_META_BAD_HEADER_LENGTH;
		return -EBADMSG;
	}
	if (hlen + plen > len) {
		*reason = PKT_DROP_META_TOO_LONG;
		return -EBADMSG;
	}
	for (off = SVR_META_FIXED_LEN; off < hlen;) {
		uint16_t type, tlen;

		if (hlen - off < SVR_TLV_HDR_LEN) {
			*reason = PKT_DROP_META_TLV_OVERRUN;
			return -EBADMSG;
		}
		type = buf_load_be16(data + off);
		tlen = buf_load_be16(data + off + 2);
		off += SVR_TLV_HDR_LEN;
		if (tlen > hlen - off) {
			*reason = PKT_DROP_META_TLV_OVERRUN;
			return -EBADMSG;
		}
		if (type == SVR_TLV_SECURITY_ID) {
			if (tlen != 4) {
				*reason = PKT_DROP_META_BAD_TLV_LENGTH;
				return -EBADMSG;
			}
			if (found) {
				*reason = PKT_DROP_META_DUPLICATE_TLV;
				return -EBADMSG;
			}
			*security_id = buf_load_be32(data + off);
			found = true;
		}
		off += tlen;
	}
	*block_len = hlen + plen;
	return found ? 0 : -ENOENT;
}

int
svr_seal_open(struct svr_peer_keys *k, struct svr_recv_key *r, uint8_t *data, size_t block_len)
{
	size_t hlen = svr_meta_header_len(data), plen = block_len - hlen;
	uint8_t *trailer;
	int rc;

	if (plen < CRYPTO_AEAD_TRAILER_LEN) {
		k->stats.auth_failed++;
		return -EBADMSG;
	}
	plen -= CRYPTO_AEAD_TRAILER_LEN;
	trailer = data + hlen + plen;
	rc = svr_peer_keys_open(k, r, data, hlen, data + hlen, plen, trailer);
	if (rc < 0)
		return rc;
	buf_store_be16(trailer, SVR_TLV_TERN_SEAL_PAD);
	buf_store_be16(trailer + 2, CRYPTO_AEAD_TRAILER_LEN - SVR_TLV_HDR_LEN);
	memset(trailer + SVR_TLV_HDR_LEN, 0, CRYPTO_AEAD_TRAILER_LEN - SVR_TLV_HDR_LEN);
	return 0;
}

int
svr_seal_protection_append(uint8_t *block, size_t *len, size_t cap, bool decision, uint8_t mode,
    uint8_t reason, bool ack)
{
	size_t add = (decision ? SVR_TLV_HDR_LEN + 2 : 0) + (ack ? SVR_TLV_HDR_LEN : 0);
	size_t plen = svr_meta_payload_len(block);
	uint8_t *w = block + *len;

	if (*len + add > cap || plen + add > UINT16_MAX)
		return -ENOBUFS;
	if (decision) {
		buf_store_be16(w, SVR_TLV_TERN_PROTECTION);
		buf_store_be16(w + 2, 2);
		w[4] = mode;
		w[5] = reason;
		w += SVR_TLV_HDR_LEN + 2;
	}
	if (ack) {
		buf_store_be16(w, SVR_TLV_TERN_PROTECTION_ACK);
		buf_store_be16(w + 2, 0);
	}
	buf_store_be16(block + SVR_META_COOKIE_LEN + 2, (uint16_t)(plen + add));
	*len += add;
	return 0;
}

int
svr_seal_protection_find(const uint8_t *block, struct svr_seal_protection *out)
{
	size_t hlen = svr_meta_header_len(block), end = hlen + svr_meta_payload_len(block);
	size_t off;

	memset(out, 0, sizeof(*out));
	/* svr_meta_decode() accepted the block: every TLV fits its section. */
	for (off = hlen; off + SVR_TLV_HDR_LEN <= end;) {
		uint16_t type = buf_load_be16(block + off), tlen = buf_load_be16(block + off + 2);

		off += SVR_TLV_HDR_LEN;
		if (type == SVR_TLV_TERN_PROTECTION) {
			if (tlen != 2 || block[off] > 1 || out->has_decision)
				return -EBADMSG;
			out->has_decision = true;
			out->mode = block[off];
			out->reason = block[off + 1];
		} else if (type == SVR_TLV_TERN_PROTECTION_ACK) {
			if (tlen != 0)
				return -EBADMSG;
			out->ack = true;
		}
		off += tlen;
	}
	return 0;
}

int
svr_seal_flag_append(uint8_t *block, size_t *len, size_t cap, uint16_t type)
{
	size_t plen = svr_meta_payload_len(block);
	uint8_t *w = block + *len;

	if (*len + SVR_TLV_HDR_LEN > cap || plen + SVR_TLV_HDR_LEN > UINT16_MAX)
		return -ENOBUFS;
	buf_store_be16(w, type);
	buf_store_be16(w + 2, 0);
	buf_store_be16(block + SVR_META_COOKIE_LEN + 2, (uint16_t)(plen + SVR_TLV_HDR_LEN));
	*len += SVR_TLV_HDR_LEN;
	return 0;
}

bool
svr_seal_flag_find(const uint8_t *block, uint16_t type)
{
	size_t hlen = svr_meta_header_len(block), end = hlen + svr_meta_payload_len(block);

	/* svr_meta_decode() accepted the block: every TLV fits its section. */
	for (size_t off = hlen; off + SVR_TLV_HDR_LEN <= end;) {
		uint16_t t = buf_load_be16(block + off), tlen = buf_load_be16(block + off + 2);

		if (t == type && tlen == 0)
			return true;
		off += SVR_TLV_HDR_LEN + tlen;
	}
	return false;
}
