/*
 * The key exchange's lifecycle, key pairs and timers (keyx.h): creation, index
 * allocation, promotion of pairs, message 1 and its retries, rekeying, expiry and
 * status. The message handlers are in keyx_receive.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "keyx/keyx_internal.h"

int
keyx_random(struct keyx *kx, void *out, size_t len)
{
	if (kx->random != NULL) {
		kx->random(kx->random_arg, out, len);
		return 0;
	}
	return RAND_bytes(out, (int)len) == 1 ? 0 : -EIO;
}

/*
 * With the caller's generator (tests, fuzzing), ephemerals come from it too, so a run
 * is reproducible from its seed; otherwise crypto_noise draws them from OpenSSL.
 */
int
keyx_ephemeral_pick(struct keyx *kx, struct noise_handshake *hs)
{
	uint8_t e[NOISE_KEY_LEN];
	int rc;

	if (kx->random == NULL)
		return 0;
	kx->random(kx->random_arg, e, sizeof(e));
	rc = noise_handshake_set_ephemeral(hs, e);
	OPENSSL_cleanse(e, sizeof(e));
	return rc;
}

static uint64_t
keyx_random64(struct keyx *kx)
{
	uint64_t v = 0;

	(void)keyx_random(kx, &v, sizeof(v));
	return v;
}

struct keyx_event *
keyx_event_push(struct keyx *kx, struct keyx_events *out, enum keyx_event_kind kind,
    uint32_t peer_id)
{
	struct keyx_event *ev;

	if (out->count >= KEYX_EVENTS_MAX) {
		out->overflow++;
		kx->stats.events_overflow++;
		return NULL;
	}
	ev = &out->ev[out->count++];
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->peer_id = peer_id;
	return ev;
}

void
keyx_event_send(struct keyx *kx, struct keyx_events *out, uint32_t peer_id,
    const struct keyx_endpoint *to, const uint8_t *msg, size_t len)
{
	struct keyx_event *ev = keyx_event_push(kx, out, KEYX_EVENT_SEND, peer_id);

	if (ev == NULL)
		return;
	if (to != NULL)
		ev->to = *to;
	memcpy(ev->msg, msg, len);
	ev->len = len;
	kx->stats.tx_messages++;
}

static void
keyx_event_key(struct keyx *kx, struct keyx_events *out, enum keyx_event_kind kind,
    uint32_t peer_id, uint32_t index, uint32_t local_index, const uint8_t *key)
{
	struct keyx_event *ev = keyx_event_push(kx, out, kind, peer_id);

	if (ev == NULL)
		return;
	ev->index = index;
	ev->local_index = local_index;
	if (key != NULL)
		memcpy(ev->key, key, KEYX_KEY_LEN);
}

/* --- Receive indices ---------------------------------------------------------------- */

int
keyx_index_lookup(const struct keyx *kx, uint32_t index, uint32_t *peer_id, unsigned *slot)
{
	uint32_t v;

	if (hash_lookup(kx->by_index, &index, &v) != 0)
		return -ENOENT;
	*peer_id = v / KEYX_SLOTS;
	*slot = v % KEYX_SLOTS;
	return 0;
}

/* Whether low is the low byte of a live receive index of the peer. */
static bool
keyx_index_low_is_used(const struct keyx_peer *p, uint8_t low)
{
	unsigned i;

	if (p->init.active && (uint8_t)p->init.local_index == low)
		return true;
	for (i = 0; i < KEYX_PAIRS; i++)
		if (p->pairs[i].state != KEYX_PAIR_FREE && (uint8_t)p->pairs[i].local_index == low)
			return true;
	return false;
}

int
keyx_index_alloc(struct keyx *kx, uint32_t peer_id, unsigned slot, uint32_t *index)
{
	const struct keyx_peer *p = &kx->peers[peer_id];
	unsigned tries;

	/* At most KEYX_PAIRS + 1 low bytes are taken, so a try fails rarely. */
	for (tries = 0; tries < 256; tries++) {
		uint32_t v = 0;
		int rc = keyx_random(kx, &v, sizeof(v));

		if (rc != 0)
			return rc;
		if (keyx_index_low_is_used(p, (uint8_t)v))
			continue;
		rc = hash_add(kx->by_index, &v, peer_id * KEYX_SLOTS + slot, NULL);
		if (rc == -EEXIST)
			continue;
		if (rc != 0)
			return rc;
		*index = v;
		return 0;
	}
	return -EAGAIN;
}

void
keyx_index_move(struct keyx *kx, uint32_t index, uint32_t peer_id, unsigned slot)
{
	uint32_t id = hash_find(kx->by_index, &index);
	uint32_t *v = id == HASH_NONE ? NULL : hash_value(kx->by_index, id);

	if (v != NULL)
		*v = peer_id * KEYX_SLOTS + slot;
}

void
keyx_index_free(struct keyx *kx, uint32_t index)
{
	(void)hash_del(kx->by_index, &index);
}

/* --- Key pairs ---------------------------------------------------------------------- */

struct keyx_pair *
keyx_pair_current(struct keyx_peer *p)
{
	unsigned i;

	for (i = 0; i < KEYX_PAIRS; i++)
		if (p->pairs[i].state == KEYX_PAIR_CURRENT)
			return &p->pairs[i];
	return NULL;
}

static void
keyx_pair_wipe_secrets(struct keyx_pair *pair)
{
	OPENSSL_cleanse(pair->send_key, sizeof(pair->send_key));
	OPENSSL_cleanse(pair->confirm_key, sizeof(pair->confirm_key));
}

static void
keyx_pair_drop(struct keyx *kx, struct keyx_pair *pair)
{
	keyx_index_free(kx, pair->local_index);
	OPENSSL_cleanse(pair, sizeof(*pair));
	pair->state = KEYX_PAIR_FREE;
}

/* The pair stops being CURRENT or PENDING: its receive key lives on for the overlap. */
static void
keyx_pair_retire(struct keyx *kx, struct keyx_pair *pair, uint64_t now_ns)
{
	pair->state = KEYX_PAIR_OLD;
	pair->expire_ns = now_ns + kx->overlap_ns;
	keyx_pair_wipe_secrets(pair);
}

/*
 * A free pair slot of the peer: if all are taken, the OLD pair that expires first (or
 * else the oldest PENDING one) makes room and its receive key is expired.
 */
int
keyx_pair_slot_take(struct keyx *kx, uint32_t peer_id, struct keyx_events *out)
{
	struct keyx_peer *p = &kx->peers[peer_id];
	struct keyx_pair *victim = NULL;
	unsigned i;

	for (i = 0; i < KEYX_PAIRS; i++)
		if (p->pairs[i].state == KEYX_PAIR_FREE)
			return (int)i;
	for (i = 0; i < KEYX_PAIRS; i++) {
		struct keyx_pair *c = &p->pairs[i];

		if (c->state == KEYX_PAIR_OLD &&
		    (victim == NULL || c->expire_ns < victim->expire_ns))
			victim = c;
	}
	for (i = 0; victim == NULL && i < KEYX_PAIRS; i++) {
		struct keyx_pair *c = &p->pairs[i];

		if (c->state == KEYX_PAIR_PENDING)
			victim = c;
	}
	if (victim == NULL)
		return -ENOSPC; /* cannot happen: only one pair is CURRENT */
	keyx_event_key(kx, out, KEYX_EVENT_EXPIRE_RECV, peer_id, victim->local_index, 0, NULL);
	keyx_pair_drop(kx, victim);
	return (int)(victim - p->pairs);
}

void
keyx_pair_make_current(struct keyx *kx, uint32_t peer_id, struct keyx_pair *pair, uint64_t now_ns)
{
	struct keyx_peer *p = &kx->peers[peer_id];
	bool had_key = false;
	unsigned i;

	for (i = 0; i < KEYX_PAIRS; i++) {
		struct keyx_pair *c = &p->pairs[i];

		if (c == pair)
			continue;
		if (c->state == KEYX_PAIR_CURRENT)
			had_key = true;
		if (c->state == KEYX_PAIR_CURRENT || c->state == KEYX_PAIR_PENDING)
			keyx_pair_retire(kx, c, now_ns);
	}
	pair->state = KEYX_PAIR_CURRENT;
	keyx_pair_wipe_secrets(pair);
	p->sent_packets = 0;
	p->status.handshakes_completed++;
	p->status.key_established_ns = now_ns;
	p->status.last_error = 0;
	if (had_key) {
		p->status.rekeys++;
		p->status.last_rekey_ns = now_ns;
	}
	/* Keys are set: the attempt, if any, is over. */
	if (p->init.active)
		keyx_initiation_drop(kx, p);
}

/* A responder's PENDING pair is confirmed: its send key goes to the data path. */
void
keyx_pair_confirm(struct keyx *kx, uint32_t peer_id, struct keyx_pair *pair, uint64_t now_ns,
    struct keyx_events *out)
{
	keyx_event_key(kx, out, KEYX_EVENT_INSTALL_SEND, peer_id, pair->remote_index,
	    pair->local_index, pair->send_key);
	keyx_pair_make_current(kx, peer_id, pair, now_ns);
}

/* --- Initiation --------------------------------------------------------------------- */

void
keyx_initiation_drop(struct keyx *kx, struct keyx_peer *p)
{
	if (!p->init.active)
		return;
	keyx_index_free(kx, p->init.local_index);
	noise_handshake_fini(&p->init.hs);
	memset(&p->init, 0, sizeof(p->init));
}

const uint8_t *
keyx_peer_cookie(const struct keyx_peer *p, uint64_t now_ns)
{
	if (!p->has_cookie || now_ns - p->cookie_ns >= KEYX_COOKIE_ROTATE_NS)
		return NULL;
	return p->cookie;
}

/* The timestamp of a new message 1: wall clock, strictly increasing. */
static void
keyx_timestamp_next(struct keyx *kx, uint64_t now_ns, uint8_t out[KEYX_TIMESTAMP_LEN])
{
	uint64_t wall = kx->realtime_ns != 0 ? kx->realtime_ns + (now_ns - kx->start_ns) : now_ns;

	if (wall <= kx->last_wall_ns)
		wall = kx->last_wall_ns + 1;
	kx->last_wall_ns = wall;
	keyx_msg_timestamp_encode(wall, out);
}

/* Write and send a new message 1 (fresh ephemeral, index and timestamp). */
static int
keyx_initiation_send(struct keyx *kx, uint32_t peer_id, uint64_t now_ns, struct keyx_events *out)
{
	struct keyx_peer *p = &kx->peers[peer_id];
	uint8_t msg[KEYX_INIT_LEN], ts[KEYX_TIMESTAMP_LEN];
	struct noise_handshake hs;
	uint32_t index;
	size_t len = 0;
	uint64_t jitter;
	int rc;

	keyx_initiation_drop(kx, p);
	memset(&hs, 0, sizeof(hs));
	rc = noise_handshake_init(&hs, &kx->suite, true, (const uint8_t *)KEYX_PROLOGUE,
	    strlen(KEYX_PROLOGUE), kx->private_key, p->public_key);
	if (rc == 0)
		rc = keyx_ephemeral_pick(kx, &hs);
	if (rc != 0)
		goto out;
	keyx_timestamp_next(kx, now_ns, ts);
	rc = noise_handshake_write_message(&hs, ts, sizeof(ts), msg + KEYX_INIT_NOISE_OFF,
	    KEYX_NOISE1_LEN, &len);
	if (rc == 0 && len != KEYX_NOISE1_LEN)
		rc = -EIO;
	if (rc != 0)
		goto out;
	rc = keyx_index_alloc(kx, peer_id, KEYX_SLOT_INIT, &index);
	if (rc != 0)
		goto out;
	keyx_msg_header_encode(msg, KEYX_MSG_INIT);
	keyx_put32(msg + KEYX_INIT_SENDER_OFF, index);
	rc = keyx_msg_macs_write(msg, KEYX_MSG_INIT, p->mac1_key, keyx_peer_cookie(p, now_ns));
	if (rc != 0) {
		keyx_index_free(kx, index);
		goto out;
	}
	memcpy(p->last_mac1, msg + KEYX_INIT_MAC1_OFF, KEYX_MAC_LEN);
	p->has_last_mac1 = true;
	p->init.active = true;
	p->init.hs = hs;
	p->init.local_index = index;
	jitter = keyx_random64(kx) % (KEYX_RETRY_JITTER_NS + 1);
	p->init.next_retry_ns = now_ns + kx->retry_ns + jitter;
	p->status.last_handshake_attempt_ns = now_ns;
	keyx_event_send(kx, out, peer_id, NULL, msg, sizeof(msg));
out:
	OPENSSL_cleanse(&hs, sizeof(hs));
	OPENSSL_cleanse(ts, sizeof(ts));
	if (rc != 0)
		p->status.last_error = rc;
	return rc;
}

static void
keyx_initiation_start(struct keyx *kx, uint32_t peer_id, uint64_t now_ns, struct keyx_events *out)
{
	struct keyx_peer *p = &kx->peers[peer_id];

	if (p->passive)
		return;
	p->attempt_start_ns = now_ns;
	p->status.handshakes_initiated++;
	(void)keyx_initiation_send(kx, peer_id, now_ns, out);
}

/*
 * Whether to start a handshake with a peer that has none in flight. Only the
 * initiator of the current pair rekeys on time, so two sides do not race; the other
 * side waits KEYX_REKEY_SLACK_NS longer. A PENDING pair younger than a retry period
 * means a confirm is probably on its way; an older one newer than our current pair
 * means the peer uses keys whose confirm we lost, and will drop our current receive
 * key after the overlap: we handshake ourselves.
 */
static bool
keyx_peer_should_start(const struct keyx *kx, struct keyx_peer *p, uint64_t now_ns)
{
	const struct keyx_pair *cur = keyx_pair_current(p), *pending = NULL;
	uint64_t confirm_wait = kx->retry_ns + KEYX_RETRY_JITTER_NS;
	uint64_t age;
	unsigned i;

	for (i = 0; i < KEYX_PAIRS; i++) {
		const struct keyx_pair *c = &p->pairs[i];

		if (c->state == KEYX_PAIR_PENDING &&
		    (pending == NULL || c->created_ns > pending->created_ns))
			pending = c;
	}
	if (pending != NULL && now_ns - pending->created_ns < confirm_wait)
		return false;
	if (cur == NULL)
		return true;
	if (pending != NULL && pending->created_ns >= cur->created_ns)
		return true;
	if (p->sent_packets >= kx->rekey_after_messages)
		return true;
	age = now_ns - cur->created_ns;
	if (cur->initiator)
		return age >= kx->rekey_after_ns;
	return age >= kx->rekey_after_ns + KEYX_REKEY_SLACK_NS;
}

/* --- Timers ------------------------------------------------------------------------- */

static bool
keyx_pair_is_due(const struct keyx_pair *pair, uint64_t now_ns)
{
	if (pair->state == KEYX_PAIR_FREE)
		return false;
	if (now_ns - pair->created_ns >= pair->reject_after_ns)
		return true;
	return pair->state == KEYX_PAIR_OLD && now_ns >= pair->expire_ns;
}

/* Uninstall pairs past reject_after or their overlap; CLEAR when none is left. */
static void
keyx_peer_expire(struct keyx *kx, uint32_t peer_id, uint64_t now_ns, struct keyx_events *out)
{
	struct keyx_peer *p = &kx->peers[peer_id];
	unsigned i, live = 0, due = 0;

	for (i = 0; i < KEYX_PAIRS; i++) {
		if (p->pairs[i].state != KEYX_PAIR_FREE)
			live++;
		if (keyx_pair_is_due(&p->pairs[i], now_ns))
			due++;
	}
	if (due == 0)
		return;
	if (due == live)
		keyx_event_key(kx, out, KEYX_EVENT_CLEAR, peer_id, 0, 0, NULL);
	for (i = 0; i < KEYX_PAIRS; i++) {
		struct keyx_pair *pair = &p->pairs[i];

		if (!keyx_pair_is_due(pair, now_ns))
			continue;
		if (due != live && pair->state == KEYX_PAIR_CURRENT)
			keyx_event_key(kx, out, KEYX_EVENT_EXPIRE_SEND, peer_id, pair->remote_index,
			    pair->local_index, NULL);
		if (due != live)
			keyx_event_key(kx, out, KEYX_EVENT_EXPIRE_RECV, peer_id, pair->local_index,
			    0, NULL);
		keyx_pair_drop(kx, pair);
	}
}

static void
keyx_peer_tick(struct keyx *kx, uint32_t peer_id, uint64_t now_ns, struct keyx_events *out)
{
	struct keyx_peer *p = &kx->peers[peer_id];

	keyx_peer_expire(kx, peer_id, now_ns, out);
	if (p->has_cookie && keyx_peer_cookie(p, now_ns) == NULL) {
		OPENSSL_cleanse(p->cookie, sizeof(p->cookie));
		p->has_cookie = false;
	}
	if (p->init.active) {
		if (now_ns < p->init.next_retry_ns)
			return;
		if (now_ns - p->attempt_start_ns >= KEYX_ATTEMPT_NS) {
			/* Give up this attempt; the next tick starts a fresh one. */
			keyx_initiation_drop(kx, p);
			p->status.last_error = -ETIMEDOUT;
			return;
		}
		(void)keyx_initiation_send(kx, peer_id, now_ns, out);
		return;
	}
	if (keyx_peer_should_start(kx, p, now_ns))
		keyx_initiation_start(kx, peer_id, now_ns, out);
}

int
keyx_cookie_secret_refresh(struct keyx *kx, uint64_t now_ns)
{
	uint8_t fresh[KEYX_KEY_LEN];
	int rc;

	if (!keyx_cookie_secret_is_stale(&kx->cookie, now_ns))
		return 0;
	rc = keyx_random(kx, fresh, sizeof(fresh));
	if (rc == 0)
		keyx_cookie_secret_set(&kx->cookie, fresh, now_ns);
	OPENSSL_cleanse(fresh, sizeof(fresh));
	return rc;
}

void
keyx_tick(struct keyx *kx, uint64_t now_ns, struct keyx_events *out)
{
	uint32_t n;

	if (kx == NULL || out == NULL)
		return;
	(void)keyx_cookie_secret_refresh(kx, now_ns);
	/* Stop while every peer's events still fit; the next tick goes on from there. */
	for (n = 0; n < kx->peer_count; n++) {
		uint32_t id = (kx->tick_cursor + n) % kx->peer_count;

		if (out->count + KEYX_TICK_EVENTS_PER_PEER > KEYX_EVENTS_MAX) {
			kx->tick_cursor = id;
			return;
		}
		keyx_peer_tick(kx, id, now_ns, out);
	}
}

void
keyx_peer_want(struct keyx *kx, uint32_t peer_id, uint64_t now_ns, struct keyx_events *out)
{
	struct keyx_peer *p;

	if (kx == NULL || out == NULL || peer_id >= kx->peer_count)
		return;
	p = &kx->peers[peer_id];
	if (p->init.active || keyx_pair_current(p) != NULL)
		return;
	if (keyx_peer_should_start(kx, p, now_ns))
		keyx_initiation_start(kx, peer_id, now_ns, out);
}

void
keyx_note_sent(struct keyx *kx, uint32_t peer_id, uint64_t packets_under_current_send_key)
{
	if (kx == NULL || peer_id >= kx->peer_count)
		return;
	kx->peers[peer_id].sent_packets = packets_under_current_send_key;
}

void
keyx_note_received(struct keyx *kx, uint32_t local_index, uint64_t now_ns, struct keyx_events *out)
{
	uint32_t peer_id;
	unsigned slot;

	if (kx == NULL || out == NULL || keyx_index_lookup(kx, local_index, &peer_id, &slot) != 0 ||
	    slot >= KEYX_PAIRS)
		return;
	if (kx->peers[peer_id].pairs[slot].state == KEYX_PAIR_PENDING)
		keyx_pair_confirm(kx, peer_id, &kx->peers[peer_id].pairs[slot], now_ns, out);
}

/* --- Lifecycle ---------------------------------------------------------------------- */

static uint64_t
keyx_default(uint64_t v, uint64_t dflt)
{
	return v != 0 ? v : dflt;
}

/* Whether a peer's public key gives a non-zero shared secret with ours (not low order). */
static int
keyx_peer_key_check(struct keyx *kx, const uint8_t public_key[KEYX_KEY_LEN])
{
	uint8_t msg[KEYX_NOISE1_LEN], ts[KEYX_TIMESTAMP_LEN] = {0};
	struct noise_handshake hs;
	size_t len;
	int rc;

	memset(&hs, 0, sizeof(hs));
	rc = noise_handshake_init(&hs, &kx->suite, true, NULL, 0, kx->private_key, public_key);
	if (rc == 0)
		rc = noise_handshake_write_message(&hs, ts, sizeof(ts), msg, sizeof(msg), &len);
	noise_handshake_fini(&hs);
	if (rc == -EBADMSG)
		rc = -EINVAL;
	return rc;
}

static int
keyx_peers_init(struct keyx *kx, const struct keyx_config *cfg)
{
	uint32_t i;
	int rc;

	for (i = 0; i < kx->peer_count; i++) {
		struct keyx_peer *p = &kx->peers[i];

		memcpy(p->public_key, cfg->peers[i].public_key, KEYX_KEY_LEN);
		p->passive = cfg->peers[i].passive;
		if (memcmp(p->public_key, kx->public_key, KEYX_KEY_LEN) == 0)
			return -EINVAL;
		rc = hash_add(kx->by_key, p->public_key, i, NULL);
		if (rc != 0)
			return rc == -EEXIST ? -EINVAL : rc;
		rc = keyx_peer_key_check(kx, p->public_key);
		if (rc == 0)
			rc = keyx_msg_derive_key(KEYX_LABEL_MAC1, p->public_key, p->mac1_key);
		if (rc == 0)
			rc = keyx_msg_derive_key(KEYX_LABEL_COOKIE, p->public_key,
			    p->cookie_open_key);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
keyx_new(const struct keyx_config *cfg, uint64_t now_ns, struct keyx **out)
{
	struct keyx *kx;
	uint64_t seed;
	uint32_t cap;
	int rc;

	if (cfg == NULL || out == NULL || (cfg->peers == NULL && cfg->peer_count > 0) ||
	    cfg->peer_count > UINT32_MAX / KEYX_SLOTS / 2 ||
	    cfg->rekey_after_messages > KEYX_DATA_SEQ_MAX)
		return -EINVAL;
	*out = NULL;
	kx = calloc(1, sizeof(*kx));
	if (kx == NULL)
		return -ENOMEM;
	memcpy(kx->private_key, cfg->private_key, KEYX_KEY_LEN);
	kx->rekey_after_ns = keyx_default(cfg->rekey_after_ns, KEYX_REKEY_AFTER_NS_DEFAULT);
	kx->rekey_after_messages =
	    keyx_default(cfg->rekey_after_messages, KEYX_REKEY_AFTER_MESSAGES_DEFAULT);
	kx->reject_after_ns = keyx_default(cfg->reject_after_ns, KEYX_REJECT_AFTER_NS_DEFAULT);
	kx->overlap_ns = keyx_default(cfg->overlap_ns, KEYX_OVERLAP_NS_DEFAULT);
	kx->retry_ns = keyx_default(cfg->retry_ns, KEYX_RETRY_NS_DEFAULT);
	kx->start_ns = now_ns;
	kx->realtime_ns = cfg->realtime_ns;
	kx->random = cfg->random;
	kx->random_arg = cfg->random_arg;
	kx->peer_count = (uint32_t)cfg->peer_count;

	rc = noise_suite_init(&kx->suite, "ChaChaPoly", "BLAKE2s");
	if (rc != 0)
		goto fail;
	rc = noise_handshake_init(&kx->responder, &kx->suite, false, (const uint8_t *)KEYX_PROLOGUE,
	    strlen(KEYX_PROLOGUE), kx->private_key, NULL);
	if (rc != 0)
		goto fail;
	memcpy(kx->public_key, kx->responder.s_pub, KEYX_KEY_LEN);
	rc = keyx_msg_derive_key(KEYX_LABEL_MAC1, kx->public_key, kx->mac1_key);
	if (rc != 0)
		goto fail;
	seed = keyx_random64(kx) | 1;
	rc = keyx_cookie_init(&kx->cookie, kx->public_key,
	    cfg->handshakes_per_s_max != 0 ? cfg->handshakes_per_s_max :
	                                     KEYX_HANDSHAKES_PER_S_DEFAULT,
	    seed, now_ns);
	if (rc != 0)
		goto fail;

	cap = kx->peer_count * (KEYX_PAIRS + 1);
	kx->by_index = hash_new(cap > 0 ? cap : 1, sizeof(uint32_t), seed ^ 0x5bd1e995u);
	kx->by_key =
	    hash_new(kx->peer_count > 0 ? kx->peer_count : 1, KEYX_KEY_LEN, seed ^ 0x9e3779b9u);
	kx->peers = calloc(kx->peer_count > 0 ? kx->peer_count : 1, sizeof(*kx->peers));
	if (kx->by_index == NULL || kx->by_key == NULL || kx->peers == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = keyx_peers_init(kx, cfg);
	if (rc != 0)
		goto fail;
	*out = kx;
	return 0;
fail:
	keyx_free(kx);
	return rc == -EBADMSG ? -EINVAL : rc;
}

void
keyx_free(struct keyx *kx)
{
	uint32_t i;

	if (kx == NULL)
		return;
	if (kx->peers != NULL) {
		for (i = 0; i < kx->peer_count; i++)
			noise_handshake_fini(&kx->peers[i].init.hs);
		OPENSSL_cleanse(kx->peers, (size_t)kx->peer_count * sizeof(*kx->peers));
		free(kx->peers);
	}
	hash_free(kx->by_index);
	hash_free(kx->by_key);
	keyx_cookie_fini(&kx->cookie);
	noise_handshake_fini(&kx->responder);
	OPENSSL_cleanse(kx, sizeof(*kx));
	free(kx);
}

void
keyx_set_timers(struct keyx *kx, uint64_t rekey_after_ns, uint64_t reject_after_ns,
    uint64_t overlap_ns)
{
	if (kx == NULL)
		return;
	kx->rekey_after_ns = keyx_default(rekey_after_ns, KEYX_REKEY_AFTER_NS_DEFAULT);
	kx->reject_after_ns = keyx_default(reject_after_ns, KEYX_REJECT_AFTER_NS_DEFAULT);
	kx->overlap_ns = keyx_default(overlap_ns, KEYX_OVERLAP_NS_DEFAULT);
	/* A longer rekey time must not outlast the live keys: they may live as long. */
	for (uint32_t i = 0; i < kx->peer_count; i++)
		for (unsigned j = 0; j < KEYX_PAIRS; j++) {
			struct keyx_pair *pair = &kx->peers[i].pairs[j];

			if (pair->state != KEYX_PAIR_FREE &&
			    pair->reject_after_ns < kx->reject_after_ns)
				pair->reject_after_ns = kx->reject_after_ns;
		}
}

/* --- Status ------------------------------------------------------------------------- */

const char *
keyx_peer_state_name(enum keyx_peer_state s)
{
	switch (s) {
	case KEYX_PEER_NO_KEY:
		return "no-key";
	case KEYX_PEER_HANDSHAKING:
		return "handshaking";
	case KEYX_PEER_ESTABLISHED:
		return "established";
	case KEYX_PEER_REKEYING:
		return "rekeying";
	}
	return "unknown";
}

int
keyx_peer_status(const struct keyx *kx, uint32_t peer_id, struct keyx_peer_status *out)
{
	const struct keyx_peer *p;
	const struct keyx_pair *cur = NULL;
	unsigned i;

	if (kx == NULL || out == NULL || peer_id >= kx->peer_count)
		return -ENOENT;
	p = &kx->peers[peer_id];
	*out = p->status;
	out->has_send = out->has_recv = false;
	out->send_index = out->recv_index = 0;
	for (i = 0; i < KEYX_PAIRS; i++) {
		if (p->pairs[i].state != KEYX_PAIR_FREE)
			out->has_recv = true;
		if (p->pairs[i].state == KEYX_PAIR_CURRENT)
			cur = &p->pairs[i];
	}
	if (cur != NULL) {
		out->has_send = true;
		out->send_index = cur->remote_index;
		out->recv_index = cur->local_index;
		out->state = p->init.active ? KEYX_PEER_REKEYING : KEYX_PEER_ESTABLISHED;
	} else {
		out->state = p->init.active ? KEYX_PEER_HANDSHAKING : KEYX_PEER_NO_KEY;
	}
	return 0;
}

size_t
keyx_peer_count(const struct keyx *kx)
{
	return kx != NULL ? kx->peer_count : 0;
}

void
keyx_stats(const struct keyx *kx, struct keyx_stats *out)
{
	if (out == NULL)
		return;
	if (kx == NULL)
		memset(out, 0, sizeof(*out));
	else
		*out = kx->stats;
}
