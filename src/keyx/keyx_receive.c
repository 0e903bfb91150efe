/*
 * The four message handlers of the key exchange. Each checks, in order of cost:
 * exact length and type, mac1 (one BLAKE2s), the receiver index, the load and rate
 * limits, and only then the Diffie-Hellman or AEAD work. Nothing changes before the
 * message authenticated, so a failed check leaves every handshake as it was.
 */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "keyx/keyx_internal.h"

/*
 * Under load (the global bucket is empty), a message 1 or 2 without a valid mac2 gets
 * a cookie reply instead of a Diffie-Hellman, and one with a valid mac2 passes the
 * per-source bucket. 0: go on; -EBUSY: answered with a cookie or rate limited.
 */
static int
keyx_admit(struct keyx *kx, const struct keyx_endpoint *from, const uint8_t *msg,
    enum keyx_msg_type type, uint32_t sender, uint64_t now_ns, struct keyx_events *out)
{
	uint8_t cookie[KEYX_COOKIE_LEN], reply[KEYX_COOKIE_MSG_LEN];
	uint8_t nonce[KEYX_COOKIE_NONCE_LEN];
	int rc;

	if (keyx_cookie_load_take(&kx->cookie, now_ns))
		return 0;
	rc = keyx_cookie_secret_refresh(kx, now_ns);
	if (rc == 0)
		rc = keyx_cookie_compute(&kx->cookie, from, cookie);
	if (rc != 0)
		return rc;
	if (!keyx_msg_mac2_is_valid(msg, type, cookie)) {
		rc = keyx_random(kx, nonce, sizeof(nonce));
		if (rc == 0)
			rc = keyx_cookie_reply_encode(&kx->cookie, from, sender,
			    msg + keyx_msg_mac1_off(type), nonce, reply);
		if (rc == 0) {
			keyx_event_send(kx, out, KEYX_PEER_NONE, from, reply, sizeof(reply));
			kx->stats.cookie_sent++;
		}
		OPENSSL_cleanse(cookie, sizeof(cookie));
		return rc != 0 ? rc : -EBUSY;
	}
	OPENSSL_cleanse(cookie, sizeof(cookie));
	if (!keyx_cookie_source_take(&kx->cookie, &from->addr, now_ns)) {
		kx->stats.rate_limited++;
		return -EBUSY;
	}
	return 0;
}

/* Message 1: we are the responder. */
static int
keyx_on_init(struct keyx *kx, const struct keyx_endpoint *from, const uint8_t *msg, uint64_t now_ns,
    struct keyx_events *out)
{
	uint32_t sender = keyx_get32(msg + KEYX_INIT_SENDER_OFF), peer_id, index;
	uint8_t ts[KEYX_TIMESTAMP_LEN], rs[KEYX_KEY_LEN], reply[KEYX_RESP_LEN];
	struct noise_cipher send, recv;
	struct noise_handshake hs;
	struct keyx_peer *p;
	struct keyx_pair *pair;
	size_t len = 0;
	int rc, slot;

	if (!keyx_msg_mac1_is_valid(msg, KEYX_MSG_INIT, kx->mac1_key)) {
		kx->stats.bad_cookie++;
		return -EBADMSG;
	}
	rc = keyx_admit(kx, from, msg, KEYX_MSG_INIT, sender, now_ns, out);
	if (rc != 0)
		return rc;

	memset(&send, 0, sizeof(send));
	memset(&recv, 0, sizeof(recv));
	hs = kx->responder;
	rc = noise_handshake_read_message(&hs, msg + KEYX_INIT_NOISE_OFF, KEYX_NOISE1_LEN, ts,
	    sizeof(ts), &len);
	if (rc != 0 || len != sizeof(ts)) {
		kx->stats.auth_failed++;
		rc = -EBADMSG;
		goto out;
	}
	(void)noise_handshake_remote_static(&hs, rs);
	if (hash_lookup(kx->by_key, rs, &peer_id) != 0) {
		kx->stats.handshake_rejected++;
		rc = -EPERM;
		goto out;
	}
	p = &kx->peers[peer_id];
	if (p->has_timestamp && memcmp(ts, p->last_timestamp, sizeof(ts)) <= 0) {
		kx->stats.replayed++;
		rc = -EALREADY;
		goto out;
	}
	if (p->init.active) {
		/*
		 * Both sides initiated at once: the side with the greater public key keeps
		 * its own handshake and ignores the other's, so only one pair results.
		 */
		if (memcmp(kx->public_key, p->public_key, KEYX_KEY_LEN) > 0) {
			kx->stats.collisions++;
			rc = -EINPROGRESS;
			goto out;
		}
	}

	rc = keyx_ephemeral_pick(kx, &hs);
	if (rc == 0)
		rc = noise_handshake_write_message(&hs, NULL, 0, reply + KEYX_RESP_NOISE_OFF,
		    KEYX_NOISE2_LEN, &len);
	if (rc == 0 && len != KEYX_NOISE2_LEN)
		rc = -EIO;
	if (rc == 0)
		rc = noise_handshake_split(&hs, &send, &recv);
	if (rc != 0)
		goto out;
	if (p->init.active) {
		kx->stats.collisions++;
		keyx_initiation_drop(kx, p);
	}
	slot = keyx_pair_slot_take(kx, peer_id, out);
	if (slot < 0) {
		rc = slot;
		goto out;
	}
	rc = keyx_index_alloc(kx, peer_id, (unsigned)slot, &index);
	if (rc != 0)
		goto out;
	keyx_msg_header_encode(reply, KEYX_MSG_RESP);
	keyx_put32(reply + KEYX_RESP_SENDER_OFF, index);
	keyx_put32(reply + KEYX_RESP_RECEIVER_OFF, sender);
	rc = keyx_msg_macs_write(reply, KEYX_MSG_RESP, p->mac1_key, keyx_peer_cookie(p, now_ns));
	if (rc != 0) {
		keyx_index_free(kx, index);
		goto out;
	}

	/* Committed: from here on nothing fails. */
	memcpy(p->last_timestamp, ts, sizeof(ts));
	p->has_timestamp = true;
	memcpy(p->last_mac1, reply + KEYX_RESP_MAC1_OFF, KEYX_MAC_LEN);
	p->has_last_mac1 = true;
	/* A newer message 1 means the initiator abandoned older unconfirmed pairs. */
	for (unsigned i = 0; i < KEYX_PAIRS; i++)
		if (p->pairs[i].state == KEYX_PAIR_PENDING) {
			p->pairs[i].state = KEYX_PAIR_OLD;
			p->pairs[i].expire_ns = now_ns + kx->overlap_ns;
			OPENSSL_cleanse(p->pairs[i].send_key, KEYX_KEY_LEN);
			OPENSSL_cleanse(p->pairs[i].confirm_key, KEYX_KEY_LEN);
		}
	pair = &p->pairs[slot];
	memset(pair, 0, sizeof(*pair));
	pair->state = KEYX_PAIR_PENDING;
	pair->initiator = false;
	pair->local_index = index;
	pair->remote_index = sender;
	pair->created_ns = now_ns;
	pair->reject_after_ns = kx->reject_after_ns;
	memcpy(pair->send_key, send.key, KEYX_KEY_LEN);
	memcpy(pair->confirm_key, recv.key, KEYX_KEY_LEN);
	{
		struct keyx_event *ev = keyx_event_push(kx, out, KEYX_EVENT_INSTALL_RECV, peer_id);

		if (ev != NULL) {
			ev->index = index;
			ev->local_index = index;
			memcpy(ev->key, recv.key, KEYX_KEY_LEN);
		}
	}
	keyx_event_send(kx, out, peer_id, from, reply, sizeof(reply));
	rc = 0;
out:
	noise_handshake_fini(&hs);
	noise_cipher_fini(&send);
	noise_cipher_fini(&recv);
	OPENSSL_cleanse(ts, sizeof(ts));
	return rc;
}

/* Message 2: we are the initiator; the pair is set and we confirm it. */
static int
keyx_on_resp(struct keyx *kx, const struct keyx_endpoint *from, const uint8_t *msg, uint64_t now_ns,
    struct keyx_events *out)
{
	uint32_t sender = keyx_get32(msg + KEYX_RESP_SENDER_OFF);
	uint32_t receiver = keyx_get32(msg + KEYX_RESP_RECEIVER_OFF), peer_id;
	uint8_t confirm[KEYX_CONFIRM_LEN], empty[1];
	struct noise_cipher send, recv, c;
	struct noise_handshake hs;
	struct keyx_event *ev;
	struct keyx_peer *p;
	struct keyx_pair *pair;
	unsigned slot;
	size_t len = 0;
	int rc, pslot;

	if (!keyx_msg_mac1_is_valid(msg, KEYX_MSG_RESP, kx->mac1_key)) {
		kx->stats.bad_cookie++;
		return -EBADMSG;
	}
	if (keyx_index_lookup(kx, receiver, &peer_id, &slot) != 0 || slot != KEYX_SLOT_INIT) {
		kx->stats.unknown_index++;
		return -ENOENT;
	}
	rc = keyx_admit(kx, from, msg, KEYX_MSG_RESP, sender, now_ns, out);
	if (rc != 0)
		return rc;
	p = &kx->peers[peer_id];

	memset(&send, 0, sizeof(send));
	memset(&recv, 0, sizeof(recv));
	memset(&c, 0, sizeof(c));
	hs = p->init.hs;
	rc = noise_handshake_read_message(&hs, msg + KEYX_RESP_NOISE_OFF, KEYX_NOISE2_LEN, empty,
	    sizeof(empty), &len);
	if (rc != 0) {
		kx->stats.auth_failed++;
		rc = -EBADMSG;
		goto out;
	}
	rc = noise_handshake_split(&hs, &send, &recv);
	if (rc != 0)
		goto out;
	/* The confirm: an empty transport message at a nonce the data path never uses. */
	c = send;
	c.nonce = KEYX_CONFIRM_NONCE;
	keyx_msg_header_encode(confirm, KEYX_MSG_CONFIRM);
	keyx_put32(confirm + KEYX_CONFIRM_RECEIVER_OFF, sender);
	rc = noise_cipher_encrypt(&c, confirm, KEYX_CONFIRM_TAG_OFF, NULL, 0,
	    confirm + KEYX_CONFIRM_TAG_OFF, KEYX_TAG_LEN, &len);
	if (rc != 0)
		goto out;
	pslot = keyx_pair_slot_take(kx, peer_id, out);
	if (pslot < 0) {
		rc = pslot;
		goto out;
	}

	/* Committed: the initiation's index becomes the pair's. */
	pair = &p->pairs[pslot];
	memset(pair, 0, sizeof(*pair));
	pair->state = KEYX_PAIR_OLD; /* live, so make_current sees it as taken */
	pair->initiator = true;
	pair->local_index = p->init.local_index;
	pair->remote_index = sender;
	pair->created_ns = now_ns;
	pair->reject_after_ns = kx->reject_after_ns;
	keyx_index_move(kx, pair->local_index, peer_id, (unsigned)pslot);
	noise_handshake_fini(&p->init.hs);
	memset(&p->init, 0, sizeof(p->init));
	keyx_pair_make_current(kx, peer_id, pair, now_ns);

	ev = keyx_event_push(kx, out, KEYX_EVENT_INSTALL_RECV, peer_id);
	if (ev != NULL) {
		ev->index = pair->local_index;
		ev->local_index = pair->local_index;
		memcpy(ev->key, recv.key, KEYX_KEY_LEN);
	}
	ev = keyx_event_push(kx, out, KEYX_EVENT_INSTALL_SEND, peer_id);
	if (ev != NULL) {
		ev->index = pair->remote_index;
		ev->local_index = pair->local_index;
		memcpy(ev->key, send.key, KEYX_KEY_LEN);
	}
	keyx_event_send(kx, out, peer_id, from, confirm, sizeof(confirm));
	rc = 0;
out:
	noise_handshake_fini(&hs);
	noise_cipher_fini(&send);
	noise_cipher_fini(&recv);
	noise_cipher_fini(&c);
	return rc;
}

/* Message 3: the initiator has the keys of our PENDING pair; install our send key. */
static int
keyx_on_confirm(struct keyx *kx, const uint8_t *msg, uint64_t now_ns, struct keyx_events *out)
{
	uint32_t receiver = keyx_get32(msg + KEYX_CONFIRM_RECEIVER_OFF), peer_id;
	struct noise_cipher c;
	struct keyx_pair *pair;
	uint8_t empty[1];
	unsigned slot;
	size_t len = 0;
	int rc;

	if (keyx_index_lookup(kx, receiver, &peer_id, &slot) != 0 || slot >= KEYX_PAIRS ||
	    kx->peers[peer_id].pairs[slot].state != KEYX_PAIR_PENDING) {
		kx->stats.unknown_index++;
		return -ENOENT;
	}
	pair = &kx->peers[peer_id].pairs[slot];
	memset(&c, 0, sizeof(c));
	c.cipher = kx->suite.cipher;
	c.has_key = true;
	memcpy(c.key, pair->confirm_key, KEYX_KEY_LEN);
	c.nonce = KEYX_CONFIRM_NONCE;
	rc = noise_cipher_decrypt(&c, msg, KEYX_CONFIRM_TAG_OFF, msg + KEYX_CONFIRM_TAG_OFF,
	    KEYX_TAG_LEN, empty, sizeof(empty), &len);
	noise_cipher_fini(&c);
	if (rc != 0) {
		kx->stats.auth_failed++;
		return -EBADMSG;
	}
	keyx_pair_confirm(kx, peer_id, pair, now_ns, out);
	return 0;
}

/* Message 4: the peer is under load; keep its cookie for our next message 1 or 2. */
static int
keyx_on_cookie(struct keyx *kx, const uint8_t *msg, uint64_t now_ns)
{
	uint32_t receiver = keyx_get32(msg + KEYX_COOKIE_RECEIVER_OFF), peer_id;
	uint8_t cookie[KEYX_COOKIE_LEN];
	struct keyx_peer *p;
	unsigned slot;

	if (keyx_index_lookup(kx, receiver, &peer_id, &slot) != 0 ||
	    (slot != KEYX_SLOT_INIT && kx->peers[peer_id].pairs[slot].state != KEYX_PAIR_PENDING) ||
	    !kx->peers[peer_id].has_last_mac1) {
		kx->stats.unknown_index++;
		return -ENOENT;
	}
	p = &kx->peers[peer_id];
	if (keyx_cookie_reply_decode(p->cookie_open_key, msg, p->last_mac1, cookie) != 0) {
		kx->stats.auth_failed++;
		return -EBADMSG;
	}
	memcpy(p->cookie, cookie, sizeof(cookie));
	p->cookie_ns = now_ns;
	p->has_cookie = true;
	OPENSSL_cleanse(cookie, sizeof(cookie));
	kx->stats.cookie_received++;
	return 0;
}

int
keyx_receive(struct keyx *kx, const struct keyx_endpoint *from, const uint8_t *msg, size_t len,
    uint64_t now_ns, struct keyx_events *out)
{
	int type;

	if (kx == NULL || from == NULL || out == NULL || (msg == NULL && len > 0))
		return -EINVAL;
	kx->stats.rx_messages++;
	type = keyx_msg_decode_type(msg, len);
	switch (type) {
	case KEYX_MSG_INIT:
		return keyx_on_init(kx, from, msg, now_ns, out);
	case KEYX_MSG_RESP:
		return keyx_on_resp(kx, from, msg, now_ns, out);
	case KEYX_MSG_CONFIRM:
		return keyx_on_confirm(kx, msg, now_ns, out);
	case KEYX_MSG_COOKIE:
		return keyx_on_cookie(kx, msg, now_ns);
	default:
		kx->stats.malformed++;
		return -EBADMSG;
	}
}
