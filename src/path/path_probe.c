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
};

_Static_assert(OFF_TAG == PATH_PROBE_AD_LEN, "the tag follows the header");
_Static_assert(OFF_TAG + PATH_PROBE_TAG_LEN == PATH_PROBE_LEN, "probe size");

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
path_probe_encode(uint8_t out[PATH_PROBE_LEN], const struct path_probe *p)
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
	memcpy(out + OFF_TAG, p->tag, PATH_PROBE_TAG_LEN);
}

int
path_probe_decode(const uint8_t *msg, size_t len, struct path_probe *out)
{
	static const uint8_t zero[PATH_PROBE_TAG_LEN];

	if (msg == NULL || len != PATH_PROBE_LEN || msg[OFF_TYPE] != PATH_PROBE_TYPE ||
	    msg[OFF_VERSION] != PATH_PROBE_VERSION || msg[OFF_RESERVED] != 0 ||
	    (msg[OFF_FLAGS] & ~(PATH_PROBE_FLAG_AUTH | PATH_PROBE_FLAG_ECHO)) != 0)
		return -EBADMSG;
	out->flags = msg[OFF_FLAGS];
	out->key_index = buf_load_be32(msg + OFF_KEY_INDEX);
	out->sender_token = buf_load_be32(msg + OFF_SENDER_TOKEN);
	out->receiver_token = buf_load_be32(msg + OFF_RECEIVER_TOKEN);
	out->seq = buf_load_be32(msg + OFF_SEQ);
	out->tx_ns = load_be64(msg + OFF_TX);
	out->echo_seq = buf_load_be32(msg + OFF_ECHO_SEQ);
	out->echo_tx_ns = load_be64(msg + OFF_ECHO_TX);
	out->echo_delay_us = buf_load_be32(msg + OFF_ECHO_DELAY);
	out->rx_count = buf_load_be32(msg + OFF_RX_COUNT);
	memcpy(out->tag, msg + OFF_TAG, PATH_PROBE_TAG_LEN);
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
