/* Peer keys on the control thread; see router_keys.h. */
#include "router/router_keys.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crypto/crypto_aead.h"
#include "crypto/crypto_key.h"
#include "lib/log.h"
#include "pkt/pkt_drop.h"
#include "svr/svr_keys.h"

/* Key operations waiting for the worker; the worker drains within a poll interval. */
#define ROUTER_KEYS_QUEUE_MAX 256
#define ROUTER_KEYS_NS        1000000000ull

struct router_keys_slot {
	bool valid;
	uint32_t index;
	uint32_t age;
	uint8_t key[KEYX_KEY_LEN];
};

/* The mirror of one peer's live keys, to replay into a rebuilt worker. */
struct router_keys_peer {
	struct router_keys_slot send;
	struct router_keys_slot recv[SVR_KEYS_RECV_SLOTS];
	_Atomic uint64_t sent; /* published by the worker */
};

struct router_keys {
	const struct router_config *cfg;
	struct keyx *kx;
	int *fds; /* by WAN id; -1 where the socket could not be opened */
	size_t fd_count;
	struct router_keys_peer *peers;
	uint32_t age_next;
	uint64_t last_tick_ns;
	uint64_t queue_full; /* key operations lost because the worker did not drain */
	uint64_t send_errors;
	pthread_mutex_t lock;
	atomic_bool pending;
	struct router_worker_key_op queue[ROUTER_KEYS_QUEUE_MAX];
	unsigned queued;
	struct keyx_events events;
};

static void
router_keys_slot_wipe(struct router_keys_slot *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
}

static bool
router_keys_push(struct router_keys *rk, const struct router_worker_key_op *op)
{
	bool ok;

	pthread_mutex_lock(&rk->lock);
	ok = rk->queued < ROUTER_KEYS_QUEUE_MAX;
	if (ok) {
		rk->queue[rk->queued++] = *op;
		atomic_store_explicit(&rk->pending, true, memory_order_release);
	}
	pthread_mutex_unlock(&rk->lock);
	if (!ok) {
		rk->queue_full++;
		crypto_aead_free(op->aead);
		log_warning("peer key queue full: a key operation for peer %u is lost",
		    op->peer_id);
	}
	return ok;
}

/* Queues an install of key (copied into a new AEAD context) for the worker. */
static void
router_keys_push_install(struct router_keys *rk, enum router_worker_key_kind kind, uint32_t peer_id,
    uint32_t index, const uint8_t key[KEYX_KEY_LEN])
{
	struct router_worker_key_op op = {.kind = kind, .peer_id = peer_id, .index = index};
	int rc = crypto_aead_new((enum crypto_aead_alg)rk->cfg->security.cipher, key, &op.aead);

	if (rc < 0) {
		log_error_errno(rc, "cannot make a cipher context for peer %s",
		    rk->cfg->peers[peer_id].name);
		return;
	}
	router_keys_push(rk, &op);
}

static void
router_keys_push_op(struct router_keys *rk, enum router_worker_key_kind kind, uint32_t peer_id,
    uint32_t index)
{
	struct router_worker_key_op op = {.kind = kind, .peer_id = peer_id, .index = index};

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

/* The socket address of (a, port). */
static socklen_t
router_keys_sockaddr(const struct addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == ADDR_FAMILY_V4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->bytes, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, a->bytes, 16);
	return sizeof(*sin6);
}

static void
router_keys_send_datagram(struct router_keys *rk, uint32_t wan, const struct addr *to,
    uint16_t port, const uint8_t *msg, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	if (wan >= rk->fd_count || rk->fds[wan] < 0)
		return;
	sl = router_keys_sockaddr(to, port, &ss);
	if (sendto(rk->fds[wan], msg, len, MSG_DONTWAIT, (struct sockaddr *)&ss, sl) < 0)
		rk->send_errors++;
}

static void
router_keys_handle_events(struct router_keys *rk)
{
	struct keyx_events *ev = &rk->events;

	for (unsigned i = 0; i < ev->count; i++) {
		struct keyx_event *e = &ev->ev[i];
		struct router_keys_peer *p;
		struct router_keys_slot *slot;

		if (e->peer_id >= rk->cfg->peer_count)
			continue;
		p = &rk->peers[e->peer_id];
		switch (e->kind) {
		case KEYX_EVENT_SEND:
			if (e->to.addr.family == ADDR_FAMILY_NONE) {
				const struct router_config_peer *peer = &rk->cfg->peers[e->peer_id];

				for (uint32_t j = 0; j < peer->path_count; j++) {
					const struct router_config_path *path =
					    &rk->cfg->paths[peer->path_first + j];

					router_keys_send_datagram(rk, path->wan_id, &path->remote,
					    KEYX_PORT, e->msg, e->len);
				}
			} else {
				router_keys_send_datagram(rk, e->to.local_id, &e->to.addr,
				    e->to.port, e->msg, e->len);
			}
			break;
		case KEYX_EVENT_INSTALL_RECV:
			slot = router_keys_mirror_recv_slot(p, e->index);
			router_keys_slot_wipe(slot);
			*slot = (struct router_keys_slot){.valid = true,
			    .index = e->index,
			    .age = rk->age_next++};
			memcpy(slot->key, e->key, KEYX_KEY_LEN);
			router_keys_push_install(rk, ROUTER_WORKER_KEY_INSTALL_RECV, e->peer_id,
			    e->index, e->key);
			break;
		case KEYX_EVENT_INSTALL_SEND:
			router_keys_slot_wipe(&p->send);
			p->send = (struct router_keys_slot){.valid = true, .index = e->index};
			memcpy(p->send.key, e->key, KEYX_KEY_LEN);
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
			if (p->send.valid && p->send.index == e->index)
				router_keys_slot_wipe(&p->send);
			router_keys_push_op(rk, ROUTER_WORKER_KEY_EXPIRE_SEND, e->peer_id,
			    e->index);
			break;
		case KEYX_EVENT_CLEAR:
			router_keys_slot_wipe(&p->send);
			for (unsigned j = 0; j < SVR_KEYS_RECV_SLOTS; j++)
				router_keys_slot_wipe(&p->recv[j]);
			router_keys_push_op(rk, ROUTER_WORKER_KEY_CLEAR, e->peer_id, 0);
			break;
		}
		OPENSSL_cleanse(e->key, sizeof(e->key));
	}
	if (ev->overflow > 0)
		log_warning("key exchange: %llu events did not fit in one batch",
		    (unsigned long long)ev->overflow);
	ev->count = 0;
	ev->overflow = 0;
}

static int
router_keys_socket_open(const struct addr *waypoint, int *out, char *why, size_t why_len)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1, fd, err, family = waypoint->family == ADDR_FAMILY_V4 ? AF_INET : AF_INET6;
	char text[ADDR_TEXT_MAX];

	sl = router_keys_sockaddr(waypoint, KEYX_PORT, &ss);
	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* The waypoint may be configured on the device a moment after ternd starts. */
	if (family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	else
		setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
		goto fail;
	*out = fd;
	return 0;
fail:
	err = errno;
	addr_format(waypoint, text, sizeof(text));
	snprintf(why, why_len, "cannot open the key exchange socket on %s port %d: %s", text,
	    KEYX_PORT, strerror(err));
	if (fd >= 0)
		close(fd);
	return -err;
}

int
router_keys_new(const struct router_config *cfg, uint64_t now_ns, struct router_keys **out,
    char *why, size_t why_len)
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
	pthread_mutex_init(&rk->lock, NULL);
	rk->fd_count = cfg->wan_count;
	rk->fds = calloc(cfg->wan_count ? cfg->wan_count : 1, sizeof(*rk->fds));
	rk->peers = calloc(cfg->peer_count ? cfg->peer_count : 1, sizeof(*rk->peers));
	peers = calloc(cfg->peer_count ? cfg->peer_count : 1, sizeof(*peers));
	if (rk->fds == NULL || rk->peers == NULL || peers == NULL)
		goto oom;
	for (size_t i = 0; i < rk->fd_count; i++)
		rk->fds[i] = -1;
	memset(&kc, 0, sizeof(kc));
	rc = crypto_key_read_private_file(cfg->security.private_key_file, kc.private_key, why,
	    why_len);
	if (rc < 0)
		goto fail;
	for (size_t i = 0; i < cfg->peer_count; i++)
		memcpy(peers[i].public_key, cfg->peers[i].public_key, KEYX_KEY_LEN);
	kc.peers = peers;
	kc.peer_count = cfg->peer_count;
	kc.rekey_after_ns = cfg->security.rekey_after_s * ROUTER_KEYS_NS;
	kc.reject_after_ns = kc.rekey_after_ns + 60 * ROUTER_KEYS_NS;
	/* The previous key must retire before the next rekey, or slots run short. */
	kc.overlap_ns = kc.rekey_after_ns / 2 < KEYX_OVERLAP_NS_DEFAULT ? kc.rekey_after_ns / 2 :
	                                                                  KEYX_OVERLAP_NS_DEFAULT;
	clock_gettime(CLOCK_REALTIME, &rt);
	kc.realtime_ns = (uint64_t)rt.tv_sec * ROUTER_KEYS_NS + (uint64_t)rt.tv_nsec;
	rc = keyx_new(&kc, now_ns, &rk->kx);
	OPENSSL_cleanse(kc.private_key, sizeof(kc.private_key));
	if (rc < 0) {
		snprintf(why, why_len,
		    "the key exchange refuses the keys (%s): a peer's public key may be this "
		    "router's own, or not a usable X25519 key",
		    strerror(-rc));
		goto fail;
	}
	for (size_t i = 0; i < rk->fd_count; i++) {
		rc = router_keys_socket_open(&cfg->wans[i].waypoint, &rk->fds[i], why, why_len);
		if (rc < 0)
			goto fail;
	}
	rk->last_tick_ns = now_ns;
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
	for (size_t i = 0; rk->fds != NULL && i < rk->fd_count; i++)
		if (rk->fds[i] >= 0)
			close(rk->fds[i]);
	free(rk->fds);
	if (rk->peers != NULL) {
		OPENSSL_cleanse(rk->peers, sizeof(*rk->peers) * rk->cfg->peer_count);
		free(rk->peers);
	}
	for (unsigned i = 0; i < rk->queued; i++)
		crypto_aead_free(rk->queue[i].aead);
	OPENSSL_cleanse(&rk->events, sizeof(rk->events));
	pthread_mutex_destroy(&rk->lock);
	free(rk);
}

bool
router_keys_config_same(const struct router_config *cur, const struct router_config *next)
{
	const struct router_config_security *a = &cur->security, *b = &next->security;

	if (a->private_key_file == NULL || b->private_key_file == NULL ||
	    strcmp(a->private_key_file, b->private_key_file) != 0 || a->cipher != b->cipher ||
	    a->rekey_after_s != b->rekey_after_s || cur->peer_count != next->peer_count ||
	    cur->wan_count != next->wan_count)
		return false;
	for (size_t i = 0; i < cur->peer_count; i++)
		if (strcmp(cur->peers[i].name, next->peers[i].name) != 0 ||
		    memcmp(cur->peers[i].public_key, next->peers[i].public_key, KEYX_KEY_LEN) != 0)
			return false;
	return true;
}

void
router_keys_set_config(struct router_keys *rk, const struct router_config *cfg)
{
	rk->cfg = cfg;
}

size_t
router_keys_fds(const struct router_keys *rk, int *fds, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < rk->fd_count && n < max; i++)
		if (rk->fds[i] >= 0)
			fds[n++] = rk->fds[i];
	return n;
}

void
router_keys_on_readable(struct router_keys *rk, uint64_t now_ns)
{
	uint8_t buf[KEYX_MSG_MAX + 1];

	for (size_t wan = 0; wan < rk->fd_count; wan++) {
		/* Bounded: a flood can not keep the control thread from its other work. */
		for (unsigned n = 0; n < 64 && rk->fds[wan] >= 0; n++) {
			struct sockaddr_storage ss;
			socklen_t sl = sizeof(ss);
			struct keyx_endpoint from;
			ssize_t len = recvfrom(rk->fds[wan], buf, sizeof(buf), MSG_DONTWAIT,
			    (struct sockaddr *)&ss, &sl);

			if (len < 0)
				break;
			memset(&from, 0, sizeof(from));
			from.local_id = (uint32_t)wan;
			if (ss.ss_family == AF_INET) {
				const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;

				addr_set_v4(&from.addr, (const uint8_t *)&sin->sin_addr);
				from.port = ntohs(sin->sin_port);
			} else if (ss.ss_family == AF_INET6) {
				const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;

				addr_set_v6(&from.addr, (const uint8_t *)&sin6->sin6_addr);
				from.port = ntohs(sin6->sin6_port);
			} else {
				continue;
			}
			/* Refusals are counted by the key exchange; nothing else to do. */
			(void)keyx_receive(rk->kx, &from, buf, (size_t)len, now_ns, &rk->events);
			router_keys_handle_events(rk);
		}
	}
}

void
router_keys_tick(struct router_keys *rk, uint64_t now_ns)
{
	for (size_t i = 0; i < rk->cfg->peer_count; i++)
		keyx_note_sent(rk->kx, (uint32_t)i, atomic_load(&rk->peers[i].sent));
	keyx_tick(rk->kx, now_ns, &rk->events);
	router_keys_handle_events(rk);
	rk->last_tick_ns = now_ns;
}

void
router_keys_replay(struct router_keys *rk)
{
	for (size_t i = 0; i < rk->cfg->peer_count; i++) {
		struct router_keys_peer *p = &rk->peers[i];
		struct router_keys_slot *order[SVR_KEYS_RECV_SLOTS];
		unsigned n = 0;

		for (unsigned j = 0; j < SVR_KEYS_RECV_SLOTS; j++)
			if (p->recv[j].valid)
				order[n++] = &p->recv[j];
		/* Oldest first, so the worker evicts in the same order the mirror does. */
		for (unsigned a = 1; a < n; a++)
			for (unsigned b = a; b > 0 && order[b - 1]->age > order[b]->age; b--) {
				struct router_keys_slot *t = order[b];

				order[b] = order[b - 1];
				order[b - 1] = t;
			}
		for (unsigned j = 0; j < n; j++)
			router_keys_push_install(rk, ROUTER_WORKER_KEY_INSTALL_RECV, (uint32_t)i,
			    order[j]->index, order[j]->key);
		if (p->send.valid)
			router_keys_push_install(rk, ROUTER_WORKER_KEY_INSTALL_SEND, (uint32_t)i,
			    p->send.index, p->send.key);
	}
}

bool
router_keys_pending(struct router_keys *rk)
{
	return atomic_load_explicit(&rk->pending, memory_order_acquire);
}

void
router_keys_drain(struct router_keys *rk, struct router_worker *w)
{
	struct router_worker_key_op ops[ROUTER_KEYS_QUEUE_MAX];
	unsigned n;

	pthread_mutex_lock(&rk->lock);
	n = rk->queued;
	memcpy(ops, rk->queue, n * sizeof(ops[0]));
	rk->queued = 0;
	atomic_store_explicit(&rk->pending, false, memory_order_release);
	pthread_mutex_unlock(&rk->lock);
	for (unsigned i = 0; i < n; i++)
		router_worker_key_apply(w, &ops[i]);
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

static void
router_keys_drop_add(json_t *list, enum pkt_drop_reason reason, uint64_t n)
{
	const char *name = pkt_drop_reason_name(reason);
	size_t i;
	json_t *e;

	json_array_foreach(list, i, e)
	{
		const char *r = json_string_value(json_object_get(e, "reason"));

		if (r != NULL && strcmp(r, name) == 0) {
			json_object_set_new(e, "count",
			    json_integer(
			        json_integer_value(json_object_get(e, "count")) + (json_int_t)n));
			return;
		}
	}
}

void
router_keys_drops_add(const struct router_keys *rk, json_t *list)
{
	struct keyx_stats st;

	keyx_stats(rk->kx, &st);
	router_keys_drop_add(list, PKT_DROP_SEC_BAD_COOKIE, st.bad_cookie);
	router_keys_drop_add(list, PKT_DROP_SEC_HANDSHAKE_REJECTED,
	    st.handshake_rejected + st.replayed + st.malformed);
	router_keys_drop_add(list, PKT_DROP_SEC_HANDSHAKE_RATE_LIMITED, st.rate_limited);
	router_keys_drop_add(list, PKT_DROP_SEC_AUTH_FAILED, st.auth_failed);
	router_keys_drop_add(list, PKT_DROP_SEC_UNKNOWN_KEY_INDEX, st.unknown_index);
}
