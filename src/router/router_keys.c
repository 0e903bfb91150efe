/* Peer keys on the control thread; see router_keys.h. */
#include "router/router_keys.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto_aead.h"
#include "crypto/crypto_key.h"
#include "lib/log.h"
#include "pkt/pkt_drop.h"
#include "router/router_drops.h"
#include "router/router_ops.h"
#include "router/router_wansock.h"
#include "svr/svr_keys.h"

#define ROUTER_KEYS_NS 1000000000ull
/* HKDF label of the probe keys: probes get a key of their own (docs/protocol.md). */
#define ROUTER_KEYS_PROBE_LABEL "tern probe v1"

struct router_keys_slot {
	bool valid;
	uint32_t index;
	uint32_t age;
	uint8_t key[KEYX_KEY_LEN];
	struct crypto_aead *probe; /* the probe key derived from key (NULL if that failed) */
};

/* The mirror of one peer's live keys: the probe keys derive from it (the worker holds its own). */
struct router_keys_peer {
	struct router_keys_slot send;
	struct router_keys_slot recv[SVR_KEYS_RECV_SLOTS];
	_Atomic uint64_t sent; /* published by the worker */
	uint32_t next_path;    /* the path the next handshake message goes by */
};

struct router_keys {
	const struct router_config *cfg;
	struct keyx *kx;
	uint8_t public_key[KEYX_KEY_LEN]; /* ours, to tell a changed key file at a reload */
	struct router_ops *ops;           /* borrowed: to the worker */
	struct router_wansock *ws;        /* borrowed: UDP 1280 */
	struct router_keys_peer *peers;
	uint32_t age_next;
	void (*probe_hook)(void *arg, uint32_t peer_id, struct crypto_aead *key, uint32_t index);
	void *probe_arg;
	bool (*endpoint_hook)(void *arg, uint32_t path_id, struct addr *to, uint16_t *port);
	void *endpoint_arg;
	struct keyx_events events;
};

static void
router_keys_slot_wipe(struct router_keys_slot *s)
{
	crypto_aead_free(s->probe);
	OPENSSL_cleanse(s, sizeof(*s));
}

/* Fills the slot with key and its probe key. */
static void
router_keys_slot_set(struct router_keys *rk, struct router_keys_slot *s, uint32_t index,
    const uint8_t key[KEYX_KEY_LEN])
{
	uint8_t probe[KEYX_KEY_LEN];

	router_keys_slot_wipe(s);
	*s = (struct router_keys_slot){.valid = true, .index = index, .age = rk->age_next++};
	memcpy(s->key, key, KEYX_KEY_LEN);
	if (crypto_key_derive(key, ROUTER_KEYS_PROBE_LABEL, probe) < 0 ||
	    crypto_aead_new(CRYPTO_AEAD_AES_256_GCM, probe, &s->probe) < 0)
		s->probe = NULL;
	OPENSSL_cleanse(probe, sizeof(probe));
}

static void
router_keys_push(struct router_keys *rk, const struct router_worker_op *op)
{
	router_ops_push(rk->ops, op);
}

/* Queues an install of key (copied into a new AEAD context) for the worker. */
static void
router_keys_push_install(struct router_keys *rk, enum router_worker_op_kind kind, uint32_t peer_id,
    uint32_t index, const uint8_t key[KEYX_KEY_LEN])
{
	struct router_worker_op op = {.kind = kind, .peer_id = peer_id, .index = index};
	int rc = crypto_aead_new((enum crypto_aead_alg)rk->cfg->security.cipher, key, &op.aead);

	if (rc < 0) {
		log_error_errno(rc, "cannot make a cipher context for peer %s",
		    rk->cfg->peers[peer_id].name);
		return;
	}
	router_keys_push(rk, &op);
}

static void
router_keys_push_op(struct router_keys *rk, enum router_worker_op_kind kind, uint32_t peer_id,
    uint32_t index)
{
	struct router_worker_op op = {.kind = kind, .peer_id = peer_id, .index = index};

	router_keys_push(rk, &op);
}

/* The mirror keeps what svr_peer_keys keeps: same index, same low byte, else the oldest. */
static struct router_keys_slot *
router_keys_mirror_recv_slot(struct router_keys_peer *p, uint32_t index)
{
	struct router_keys_slot *pick = NULL;

	for (unsigned i = 0; i < SVR_KEYS_RECV_SLOTS; i++)
		if (p->recv[i].valid && p->recv[i].index == index)
			return &p->recv[i];
	for (unsigned i = 0; i < SVR_KEYS_RECV_SLOTS; i++)
		if (p->recv[i].valid && (p->recv[i].index & 0xff) == (index & 0xff))
			return &p->recv[i];
	for (unsigned i = 0; i < SVR_KEYS_RECV_SLOTS; i++) {
		if (!p->recv[i].valid)
			return &p->recv[i];
		if (pick == NULL || p->recv[i].age < pick->age)
			pick = &p->recv[i];
	}
	return pick;
}

/* Tells the prober the peer's probe send key (or that there is none). */
static void
router_keys_probe_send(struct router_keys *rk, uint32_t peer_id)
{
	const struct router_keys_slot *s = &rk->peers[peer_id].send;

	if (rk->probe_hook != NULL)
		rk->probe_hook(rk->probe_arg, peer_id, s->valid ? s->probe : NULL, s->index);
}

static void
router_keys_handle_events(struct router_keys *rk)
{
	struct keyx_events *ev = &rk->events;

	for (unsigned i = 0; i < ev->count; i++) {
		struct keyx_event *e = &ev->ev[i];
		struct router_keys_peer *p;
		struct router_keys_slot old;

		if (e->peer_id >= rk->cfg->peer_count)
			goto next;
		p = &rk->peers[e->peer_id];
		switch (e->kind) {
		case KEYX_EVENT_SEND:
			if (e->to.addr.family == ADDR_FAMILY_NONE) {
				const struct router_config_peer *peer = &rk->cfg->peers[e->peer_id];

				/*
				 * One path per message, the next one each time: the same
				 * initiation over every path would reach the peer twice and the
				 * second copy would be refused as a replay. A retry (1 s later)
				 * tries the next path, so a dead path costs one retry.
				 */
				const struct router_config_path *path = NULL;
				struct addr to;
				uint16_t port = KEYX_PORT;

				/* A peer behind a NAT is reached where its probes came from. */
				for (uint32_t n = 0; n < peer->path_count && path == NULL; n++) {
					uint32_t id =
					    peer->path_first + p->next_path++ % peer->path_count;

					path = &rk->cfg->paths[id];
					to = path->remote;
					if (path->remote_auto &&
					    (rk->endpoint_hook == NULL ||
					        !rk->endpoint_hook(rk->endpoint_arg, id, &to,
					            &port)))
						path = NULL;
				}
				if (path != NULL)
					router_wansock_send(rk->ws, path->wan_id, &to, port, e->msg,
					    e->len);
			} else {
				router_wansock_send(rk->ws, e->to.local_id, &e->to.addr, e->to.port,
				    e->msg, e->len);
			}
			break;
		case KEYX_EVENT_INSTALL_RECV:
			router_keys_slot_set(rk, router_keys_mirror_recv_slot(p, e->index),
			    e->index, e->key);
			router_keys_push_install(rk, ROUTER_WORKER_KEY_INSTALL_RECV, e->peer_id,
			    e->index, e->key);
			break;
		case KEYX_EVENT_INSTALL_SEND:
			/* The prober borrows the probe key: switch it before the old one dies. */
			old = p->send;
			memset(&p->send, 0, sizeof(p->send));
			router_keys_slot_set(rk, &p->send, e->index, e->key);
			router_keys_probe_send(rk, e->peer_id);
			router_keys_slot_wipe(&old);
			atomic_store(&p->sent, 0);
			router_keys_push_install(rk, ROUTER_WORKER_KEY_INSTALL_SEND, e->peer_id,
			    e->index, e->key);
			break;
		case KEYX_EVENT_EXPIRE_RECV:
			for (unsigned j = 0; j < SVR_KEYS_RECV_SLOTS; j++)
				if (p->recv[j].valid && p->recv[j].index == e->index)
					router_keys_slot_wipe(&p->recv[j]);
			router_keys_push_op(rk, ROUTER_WORKER_KEY_EXPIRE_RECV, e->peer_id,
			    e->index);
			break;
		case KEYX_EVENT_EXPIRE_SEND:
			if (p->send.valid && p->send.index == e->index) {
				p->send.valid = false;
				router_keys_probe_send(rk, e->peer_id);
				router_keys_slot_wipe(&p->send);
			}
			router_keys_push_op(rk, ROUTER_WORKER_KEY_EXPIRE_SEND, e->peer_id,
			    e->index);
			break;
		case KEYX_EVENT_CLEAR:
			p->send.valid = false;
			router_keys_probe_send(rk, e->peer_id);
			router_keys_slot_wipe(&p->send);
			for (unsigned j = 0; j < SVR_KEYS_RECV_SLOTS; j++)
				router_keys_slot_wipe(&p->recv[j]);
			router_keys_push_op(rk, ROUTER_WORKER_KEY_CLEAR, e->peer_id, 0);
			break;
		}
next:
		OPENSSL_cleanse(e->key, sizeof(e->key));
	}
	if (ev->overflow > 0)
		log_warning("key exchange: %llu events did not fit in one batch",
		    (unsigned long long)ev->overflow);
	ev->count = 0;
	ev->overflow = 0;
}

/* The key exchange's timers for cfg's rekey_after_s. */
static void
router_keys_timers(const struct router_config *cfg, uint64_t *rekey_ns, uint64_t *reject_ns,
    uint64_t *overlap_ns)
{
	*rekey_ns = cfg->security.rekey_after_s * ROUTER_KEYS_NS;
	*reject_ns = *rekey_ns + 60 * ROUTER_KEYS_NS;
	/* The previous key must retire before the next rekey, or slots run short. */
	*overlap_ns =
	    *rekey_ns / 2 < KEYX_OVERLAP_NS_DEFAULT ? *rekey_ns / 2 : KEYX_OVERLAP_NS_DEFAULT;
}

int
router_keys_new(const struct router_config *cfg, struct router_ops *ops, struct router_wansock *ws,
    uint64_t now_ns, struct router_keys **out, char *why, size_t why_len)
{
	struct keyx_peer_config *peers = NULL;
	struct keyx_config kc;
	struct router_keys *rk;
	struct timespec rt;
	int rc = -ENOMEM;

	*out = NULL;
	if (cfg->security.private_key_file == NULL) {
		snprintf(why, why_len, "no private key file");
		return -EINVAL;
	}
	rk = calloc(1, sizeof(*rk));
	if (rk == NULL)
		goto oom;
	rk->cfg = cfg;
	rk->ops = ops;
	rk->ws = ws;
	rk->peers = calloc(cfg->peer_count ? cfg->peer_count : 1, sizeof(*rk->peers));
	peers = calloc(cfg->peer_count ? cfg->peer_count : 1, sizeof(*peers));
	if (rk->peers == NULL || peers == NULL)
		goto oom;
	memset(&kc, 0, sizeof(kc));
	rc = crypto_key_read_private_file(cfg->security.private_key_file, kc.private_key, why,
	    why_len);
	if (rc < 0)
		goto fail;
	for (size_t i = 0; i < cfg->peer_count; i++) {
		const struct router_config_peer *peer = &cfg->peers[i];

		memcpy(peers[i].public_key, peer->public_key, KEYX_KEY_LEN);
		/* Behind a NAT on every path: only it can start (docs/decisions/0008-nat.md). */
		peers[i].passive = true;
		for (uint32_t j = 0; j < peer->path_count; j++)
			if (!cfg->paths[peer->path_first + j].remote_auto)
				peers[i].passive = false;
	}
	kc.peers = peers;
	kc.peer_count = cfg->peer_count;
	router_keys_timers(cfg, &kc.rekey_after_ns, &kc.reject_after_ns, &kc.overlap_ns);
	clock_gettime(CLOCK_REALTIME, &rt);
	kc.realtime_ns = (uint64_t)rt.tv_sec * ROUTER_KEYS_NS + (uint64_t)rt.tv_nsec;
	rc = keyx_new(&kc, now_ns, &rk->kx);
	if (rc == 0)
		rc = crypto_key_public(kc.private_key, rk->public_key);
	OPENSSL_cleanse(kc.private_key, sizeof(kc.private_key));
	if (rc < 0) {
		snprintf(why, why_len,
		    "the key exchange refuses the keys (%s): a peer's public key may be this "
		    "router's own, or not a usable X25519 key",
		    strerror(-rc));
		goto fail;
	}
	free(peers);
	*out = rk;
	return 0;
oom:
	snprintf(why, why_len, "out of memory");
	rc = -ENOMEM;
fail:
	free(peers);
	router_keys_free(rk);
	return rc;
}

void
router_keys_free(struct router_keys *rk)
{
	if (rk == NULL)
		return;
	keyx_free(rk->kx);
	if (rk->peers != NULL) {
		for (size_t i = 0; i < rk->cfg->peer_count; i++) {
			router_keys_slot_wipe(&rk->peers[i].send);
			for (unsigned j = 0; j < SVR_KEYS_RECV_SLOTS; j++)
				router_keys_slot_wipe(&rk->peers[i].recv[j]);
		}
		free(rk->peers);
	}
	OPENSSL_cleanse(&rk->events, sizeof(rk->events));
	free(rk);
}

bool
router_keys_config_same(const struct router_config *cur, const struct router_config *next)
{
	const struct router_config_security *a = &cur->security, *b = &next->security;

	/* Not rekey_after_s: a timer, router_keys_set_config() applies it to live keys. */
	if (a->private_key_file == NULL || b->private_key_file == NULL ||
	    strcmp(a->private_key_file, b->private_key_file) != 0 || a->cipher != b->cipher ||
	    cur->peer_count != next->peer_count || cur->wan_count != next->wan_count)
		return false;
	for (size_t i = 0; i < cur->peer_count; i++)
		if (strcmp(cur->peers[i].name, next->peers[i].name) != 0 ||
		    memcmp(cur->peers[i].public_key, next->peers[i].public_key, KEYX_KEY_LEN) != 0)
			return false;
	return true;
}

bool
router_keys_private_key_same(const struct router_keys *rk, const struct router_config *next)
{
	uint8_t priv[KEYX_KEY_LEN], pub[KEYX_KEY_LEN];
	char why[256];
	bool same;

	if (next->security.private_key_file == NULL)
		return false;
	same = crypto_key_read_private_file(next->security.private_key_file, priv, why,
	           sizeof(why)) == 0 &&
	    crypto_key_public(priv, pub) == 0 &&
	    CRYPTO_memcmp(pub, rk->public_key, KEYX_KEY_LEN) == 0;
	OPENSSL_cleanse(priv, sizeof(priv));
	return same;
}

void
router_keys_set_config(struct router_keys *rk, const struct router_config *cfg)
{
	uint64_t rekey_ns, reject_ns, overlap_ns;

	rk->cfg = cfg;
	router_keys_timers(cfg, &rekey_ns, &reject_ns, &overlap_ns);
	keyx_set_timers(rk->kx, rekey_ns, reject_ns, overlap_ns);
}

void
router_keys_set_probe_hook(struct router_keys *rk,
    void (*hook)(void *arg, uint32_t peer_id, struct crypto_aead *key, uint32_t index), void *arg)
{
	rk->probe_hook = hook;
	rk->probe_arg = arg;
	for (size_t i = 0; i < rk->cfg->peer_count; i++)
		router_keys_probe_send(rk, (uint32_t)i);
}

void
router_keys_set_endpoint_hook(struct router_keys *rk,
    bool (*hook)(void *arg, uint32_t path_id, struct addr *to, uint16_t *port), void *arg)
{
	rk->endpoint_hook = hook;
	rk->endpoint_arg = arg;
}

struct crypto_aead *
router_keys_probe_open_key(struct router_keys *rk, uint32_t peer_id, uint32_t index)
{
	if (peer_id >= rk->cfg->peer_count)
		return NULL;
	for (unsigned j = 0; j < SVR_KEYS_RECV_SLOTS; j++) {
		const struct router_keys_slot *s = &rk->peers[peer_id].recv[j];

		if (s->valid && s->index == index)
			return s->probe;
	}
	return NULL;
}

void
router_keys_receive(struct router_keys *rk, uint32_t wan, const struct addr *from,
    uint16_t from_port, const uint8_t *msg, size_t len, uint64_t now_ns)
{
	struct keyx_endpoint ep = {.addr = *from, .port = from_port, .local_id = wan};

	/* Refusals are counted by the key exchange; nothing else to do. */
	(void)keyx_receive(rk->kx, &ep, msg, len, now_ns, &rk->events);
	router_keys_handle_events(rk);
}

void
router_keys_tick(struct router_keys *rk, uint64_t now_ns)
{
	for (size_t i = 0; i < rk->cfg->peer_count; i++)
		keyx_note_sent(rk->kx, (uint32_t)i, atomic_load(&rk->peers[i].sent));
	keyx_tick(rk->kx, now_ns, &rk->events);
	router_keys_handle_events(rk);
}

void
router_keys_publish_sent(struct router_keys *rk, uint32_t peer_id, uint64_t sent)
{
	if (peer_id < rk->cfg->peer_count)
		atomic_store_explicit(&rk->peers[peer_id].sent, sent, memory_order_relaxed);
}

static json_int_t
router_keys_age_s(uint64_t now_ns, uint64_t then_ns)
{
	return then_ns == 0 || now_ns < then_ns ? -1 :
	                                          (json_int_t)((now_ns - then_ns) / ROUTER_KEYS_NS);
}

json_t *
router_keys_peer_json(const struct router_keys *rk, uint32_t peer_id, uint64_t now_ns)
{
	struct keyx_peer_status st;

	if (keyx_peer_status(rk->kx, peer_id, &st) < 0)
		return json_null();
	return json_pack("{s:s, s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s}", "state",
	    keyx_peer_state_name(st.state), "has_send_key", st.has_send, "has_recv_key",
	    st.has_recv, "send_index", (json_int_t)st.send_index, "recv_index",
	    (json_int_t)st.recv_index, "key_age_s",
	    router_keys_age_s(now_ns, st.key_established_ns), "last_rekey_s_ago",
	    router_keys_age_s(now_ns, st.last_rekey_ns), "handshakes_initiated",
	    (json_int_t)st.handshakes_initiated, "handshakes_completed",
	    (json_int_t)st.handshakes_completed, "rekeys", (json_int_t)st.rekeys, "last_error",
	    st.last_error == 0 ? "" : strerror(-st.last_error));
}

void
router_keys_drops_count(const struct router_keys *rk, struct pkt_drop_counters *c)
{
	struct keyx_stats st;

	keyx_stats(rk->kx, &st);
	c->count[PKT_DROP_SEC_BAD_COOKIE] += st.bad_cookie;
	c->count[PKT_DROP_SEC_HANDSHAKE_REJECTED] +=
	    st.handshake_rejected + st.replayed + st.malformed;
	c->count[PKT_DROP_SEC_HANDSHAKE_RATE_LIMITED] += st.rate_limited;
	c->count[PKT_DROP_SEC_AUTH_FAILED] += st.auth_failed;
	c->count[PKT_DROP_SEC_UNKNOWN_KEY_INDEX] += st.unknown_index;
}

void
router_keys_drops_add(const struct router_keys *rk, json_t *list)
{
	struct pkt_drop_counters c;

	memset(&c, 0, sizeof(c));
	router_keys_drops_count(rk, &c);
	for (int i = 0; i < PKT_DROP_COUNT; i++)
		if (c.count[i] != 0)
			router_drops_add(list, (enum pkt_drop_reason)i, c.count[i]);
}
