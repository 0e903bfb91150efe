/*
 * The TLS SNI extractor (policy_sni.h). Every read goes through need(), which tells a
 * field that lies beyond the length its container declares (-EINVAL: malformed) from one
 * that is declared but not yet received (-EAGAIN: wait for more).
 */
#include "policy/policy_sni.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "policy/policy_name.h"

enum {
	TLS_RECORD_HANDSHAKE = 22,
	TLS_HANDSHAKE_CLIENT_HELLO = 1,
	TLS_EXT_SERVER_NAME = 0,
	TLS_SNI_HOST_NAME = 0,
	TLS_RECORD_HEADER_LEN = 5,
	TLS_HANDSHAKE_HEADER_LEN = 4,
	TLS_RECORD_MAX = 16384,
	TLS_HOST_NAME_MAX = 253,
};

struct reader {
	const uint8_t *p;
	size_t at;
	size_t avail; /* bytes received */
};

/* n more bytes at r->at, inside a container that ends at end. */
static int
need(const struct reader *r, size_t end, size_t n)
{
	if (r->at > end || end - r->at < n)
		return -EINVAL;
	if (r->at > r->avail || r->avail - r->at < n)
		return -EAGAIN;
	return 0;
}

static uint16_t
u16_at(const struct reader *r)
{
	return (uint16_t)(r->p[r->at] << 8 | r->p[r->at + 1]);
}

/* Reads a length-prefixed (len_bytes: 1 or 2) block and returns its end in *block_end. */
static int
block(struct reader *r, size_t end, unsigned len_bytes, size_t *block_end)
{
	size_t n;
	int rc;

	if ((rc = need(r, end, len_bytes)) != 0)
		return rc;
	n = len_bytes == 1 ? r->p[r->at] : u16_at(r);
	r->at += len_bytes;
	if (end - r->at < n)
		return -EINVAL;
	*block_end = r->at + n;
	return 0;
}

static int
host_name_copy(const uint8_t *name, size_t n, char *out, size_t cap)
{
	size_t label = 0;

	if (n == 0 || n > TLS_HOST_NAME_MAX)
		return -EILSEQ;
	for (size_t i = 0; i < n; i++) {
		if (name[i] == '.') {
			if (label == 0)
				return -EILSEQ;
			label = 0;
		} else if (!policy_name_label_char(name[i]) || ++label > 63) {
			return -EILSEQ;
		}
	}
	if (label == 0)
		return -EILSEQ; /* a trailing dot (RFC 6066 forbids it) */
	if (n >= cap)
		return -ENOSPC;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
	out[n] = '\0';
	return (int)n;
}

/* The server_name extension, from its list length to its end. */
static int
server_name_read(struct reader *r, size_t ext_end, char *out, size_t cap)
{
	size_t list_end, name_end;
	uint8_t type;
	int rc;

	if ((rc = block(r, ext_end, 2, &list_end)) != 0)
		return rc;
	if (list_end != ext_end || list_end == r->at)
		return -EINVAL;
	while (r->at < list_end) {
		if ((rc = need(r, list_end, 1)) != 0)
			return rc;
		type = r->p[r->at++];
		if ((rc = block(r, list_end, 2, &name_end)) != 0)
			return rc;
		if ((rc = need(r, name_end, name_end - r->at)) != 0)
			return rc;
		if (type == TLS_SNI_HOST_NAME)
			return host_name_copy(r->p + r->at, name_end - r->at, out, cap);
		r->at = name_end;
	}
	return -ENOENT;
}

int
policy_tls_sni(const uint8_t *payload, size_t len, char *out, size_t cap)
{
	struct reader r = {.p = payload, .at = 0, .avail = len};
	size_t rec_end, hs_end, end, ext_end, hs_len;
	uint16_t rec_len;
	int rc;

	if (cap > 0)
		out[0] = '\0';
	/* The record header, byte by byte, so garbage is refused as early as possible. */
	if (len >= 1 && payload[0] != TLS_RECORD_HANDSHAKE)
		return -EINVAL;
	if (len >= 2 && payload[1] != 3)
		return -EINVAL;
	if (len >= 3 && payload[2] > 4)
		return -EINVAL;
	if (len < TLS_RECORD_HEADER_LEN)
		return -EAGAIN;
	rec_len = (uint16_t)(payload[3] << 8 | payload[4]);
	if (rec_len < TLS_HANDSHAKE_HEADER_LEN || rec_len > TLS_RECORD_MAX)
		return -EINVAL;
	rec_end = TLS_RECORD_HEADER_LEN + (size_t)rec_len;
	r.at = TLS_RECORD_HEADER_LEN;
	if ((rc = need(&r, rec_end, 1)) != 0)
		return rc;
	if (payload[r.at] != TLS_HANDSHAKE_CLIENT_HELLO)
		return -EINVAL;
	if ((rc = need(&r, rec_end, TLS_HANDSHAKE_HEADER_LEN)) != 0)
		return rc;
	hs_len = (size_t)payload[6] << 16 | (size_t)payload[7] << 8 | payload[8];
	r.at += TLS_HANDSHAKE_HEADER_LEN;
	hs_end = r.at + hs_len;
	if (hs_end > rec_end)
		return -EOPNOTSUPP;
	if (hs_end != rec_end)
		return -EINVAL; /* nothing may follow a ClientHello in its record */
	end = hs_end;

	/* legacy_version (3, x), random. */
	if ((rc = need(&r, end, 2 + 32)) != 0)
		return rc;
	if (payload[r.at] != 3)
		return -EINVAL;
	r.at += 2 + 32;
	/* legacy_session_id <0..32>. */
	if ((rc = block(&r, end, 1, &ext_end)) != 0)
		return rc;
	if (ext_end - r.at > 32)
		return -EINVAL;
	r.at = ext_end;
	/* cipher_suites <2..2^16-2>, pairs. */
	if ((rc = block(&r, end, 2, &ext_end)) != 0)
		return rc;
	if (ext_end == r.at || (ext_end - r.at) % 2 != 0)
		return -EINVAL;
	r.at = ext_end;
	/* legacy_compression_methods <1..2^8-1>. */
	if ((rc = block(&r, end, 1, &ext_end)) != 0)
		return rc;
	if (ext_end == r.at)
		return -EINVAL;
	r.at = ext_end;
	if (r.at == end)
		return -ENOENT; /* a ClientHello without extensions (TLS 1.2 and older) */
	/* extensions <8..2^16-1>, which end the ClientHello exactly. */
	if ((rc = block(&r, end, 2, &ext_end)) != 0)
		return rc;
	if (ext_end != end)
		return -EINVAL;
	while (r.at < end) {
		size_t one_end;
		uint16_t type;

		if ((rc = need(&r, end, 2)) != 0)
			return rc;
		type = u16_at(&r);
		r.at += 2;
		if ((rc = block(&r, end, 2, &one_end)) != 0)
			return rc;
		if (type == TLS_EXT_SERVER_NAME)
			return server_name_read(&r, one_end, out, cap);
		r.at = one_end;
	}
	return -ENOENT;
}
