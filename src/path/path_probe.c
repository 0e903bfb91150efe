/* Path probe encoding and exact-size validation (path_probe.h). */
#include "path/path_probe.h"

#include <errno.h>
#include <string.h>

#include "lib/buf.h"

enum {
	OFF_TYPE = 0,
	OFF_FLAGS = 1,
	OFF_VERSION = 2,
	OFF_RESERVED = 3,
	OFF_KEY_INDEX = 4,
	OFF_SENDER_TOKEN = 8,
	OFF_RECEIVER_TOKEN = 12,
	OFF_SEQ = 16,
	OFF_TX = 20,
	OFF_ECHO_SEQ = 28,
	OFF_ECHO_TX = 32,
	OFF_ECHO_DELAY = 40,
	OFF_RX_COUNT = 44,
	OFF_TAG = 48,
	/* With OBSERVED: */
	OFF_OBS_FAMILY = 48,
	OFF_OBS_RESERVED = 49,
	OFF_OBS_PORT = 50,
	OFF_OBS_ADDR = 52,
	OFF_OBS_TAG = 68,
};

_Static_assert(OFF_TAG == PATH_PROBE_AD_LEN, "the tag follows the header");
_Static_assert(OFF_TAG + PATH_PROBE_TAG_LEN == PATH_PROBE_LEN, "probe size");
_Static_assert(OFF_OBS_TAG == PATH_PROBE_AD_LEN + PATH_PROBE_OBSERVED_LEN, "observed size");
_Static_assert(OFF_OBS_TAG + PATH_PROBE_TAG_LEN == PATH_PROBE_LEN_MAX, "extended probe size");

size_t
path_probe_len(const struct path_probe *p)
{
	return (p->flags & PATH_PROBE_FLAG_OBSERVED) ? PATH_PROBE_LEN_MAX : PATH_PROBE_LEN;
}

size_t
path_probe_ad_len(const struct path_probe *p)
{
	return path_probe_len(p) - PATH_PROBE_TAG_LEN;
}

static void
store_be64(uint8_t *p, uint64_t v)
{
	buf_store_be32(p, (uint32_t)(v >> 32));
	buf_store_be32(p + 4, (uint32_t)v);
}

static uint64_t
load_be64(const uint8_t *p)
{
	return (uint64_t)buf_load_be32(p) << 32 | buf_load_be32(p + 4);
}

void
path_probe_encode(uint8_t *out, const struct path_probe *p)
{
	out[OFF_TYPE] = PATH_PROBE_TYPE;
	out[OFF_FLAGS] = p->flags;
	out[OFF_VERSION] = PATH_PROBE_VERSION;
	out[OFF_RESERVED] = 0;
	buf_store_be32(out + OFF_KEY_INDEX, p->key_index);
	buf_store_be32(out + OFF_SENDER_TOKEN, p->sender_token);
	buf_store_be32(out + OFF_RECEIVER_TOKEN, p->receiver_token);
	buf_store_be32(out + OFF_SEQ, p->seq);
	store_be64(out + OFF_TX, p->tx_ns);
	buf_store_be32(out + OFF_ECHO_SEQ, p->echo_seq);
	store_be64(out + OFF_ECHO_TX, p->echo_tx_ns);
	buf_store_be32(out + OFF_ECHO_DELAY, p->echo_delay_us);
	buf_store_be32(out + OFF_RX_COUNT, p->rx_count);
	if (p->flags & PATH_PROBE_FLAG_OBSERVED) {
		bool v4 = p->observed.family == ADDR_FAMILY_V4;

		out[OFF_OBS_FAMILY] = v4 ? 4 : 6;
		out[OFF_OBS_RESERVED] = 0;
		buf_store_be16(out + OFF_OBS_PORT, p->observed_port);
		memset(out + OFF_OBS_ADDR, 0, 16);
		memcpy(out + OFF_OBS_ADDR, p->observed.bytes, v4 ? 4 : 16);
	}
	memcpy(out + path_probe_ad_len(p), p->tag, PATH_PROBE_TAG_LEN);
}

/* The observed address of an extended probe: 0, or -EBADMSG. */
static int
path_probe_decode_observed(const uint8_t *msg, struct path_probe *out)
{
	static const uint8_t zero[12];
	uint8_t family = msg[OFF_OBS_FAMILY];

	if ((family != 4 && family != 6) || msg[OFF_OBS_RESERVED] != 0)
		return -EBADMSG;
	if (family == 4 && memcmp(msg + OFF_OBS_ADDR + 4, zero, sizeof(zero)) != 0)
		return -EBADMSG;
	memset(&out->observed, 0, sizeof(out->observed));
	out->observed.family = family == 4 ? ADDR_FAMILY_V4 : ADDR_FAMILY_V6;
	memcpy(out->observed.bytes, msg + OFF_OBS_ADDR, family == 4 ? 4 : 16);
	out->observed_port = buf_load_be16(msg + OFF_OBS_PORT);
	return 0;
}

int
path_probe_decode(const uint8_t *msg, size_t len, struct path_probe *out)
{
	static const uint8_t zero[PATH_PROBE_TAG_LEN];

	if (msg == NULL || len < PATH_PROBE_LEN || msg[OFF_TYPE] != PATH_PROBE_TYPE ||
	    msg[OFF_VERSION] != PATH_PROBE_VERSION || msg[OFF_RESERVED] != 0 ||
	    (msg[OFF_FLAGS] &
	        ~(PATH_PROBE_FLAG_AUTH | PATH_PROBE_FLAG_ECHO | PATH_PROBE_FLAG_OBSERVED)) != 0)
		return -EBADMSG;
	memset(out, 0, sizeof(*out));
	out->flags = msg[OFF_FLAGS];
	if (len != path_probe_len(out))
		return -EBADMSG;
	if ((out->flags & PATH_PROBE_FLAG_OBSERVED) && path_probe_decode_observed(msg, out) < 0)
		return -EBADMSG;
	out->key_index = buf_load_be32(msg + OFF_KEY_INDEX);
	out->sender_token = buf_load_be32(msg + OFF_SENDER_TOKEN);
	out->receiver_token = buf_load_be32(msg + OFF_RECEIVER_TOKEN);
	out->seq = buf_load_be32(msg + OFF_SEQ);
	out->tx_ns = load_be64(msg + OFF_TX);
	out->echo_seq = buf_load_be32(msg + OFF_ECHO_SEQ);
	out->echo_tx_ns = load_be64(msg + OFF_ECHO_TX);
	out->echo_delay_us = buf_load_be32(msg + OFF_ECHO_DELAY);
	out->rx_count = buf_load_be32(msg + OFF_RX_COUNT);
	memcpy(out->tag, msg + path_probe_ad_len(out), PATH_PROBE_TAG_LEN);
	if (out->sender_token == 0)
		return -EBADMSG;
	/* A plain probe carries no key and a zero tag: nothing in it may look keyed. */
	if (!(out->flags & PATH_PROBE_FLAG_AUTH) &&
	    (out->key_index != 0 || memcmp(out->tag, zero, sizeof(zero)) != 0))
		return -EBADMSG;
	return 0;
}

bool
path_probe_is_probe(const uint8_t *msg, size_t len)
{
	return msg != NULL && len >= 1 && msg[0] == PATH_PROBE_TYPE;
}

void
path_probe_nonce(uint8_t nonce[12], uint32_t sender_token, uint32_t seq)
{
	memset(nonce, 0, 4);
	buf_store_be32(nonce + 4, sender_token);
	buf_store_be32(nonce + 8, seq);
}
