/*
 * The path prober (path_prober.h): per path, probe scheduling, authentication, replay
 * window, metrics and the UNKNOWN/UP/DOWN/HOLD_DOWN state machine with flap damping.
 */
#include "path/path_prober.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto_aead.h"

#define NS_PER_US      1000ull
#define KEY_SLOTS      4  /* keyx keeps up to four live key pairs per peer */
#define REPLAY_WINDOW  64 /* probes of one key that may arrive out of order */
#define LATENCY_EWMA   8  /* the average moves 1/8 of the way to each sample */
#define ECHO_DELAY_MAX UINT32_MAX

struct replay_slot {
	bool used;
	uint32_t key_index;
	uint32_t top;    /* highest sequence accepted under the key */
	uint64_t bitmap; /* bit i: top - i accepted */
	uint64_t last_use;
};

struct path {
	struct path_spec spec; /* cfg resolved */
	struct addr remote_now;
	uint16_t remote_port;

	uint8_t state;
	uint64_t since_ns;
	uint64_t hold_down_ns;  /* in force */
	uint64_t hold_start_ns; /* HOLD_DOWN: since when answers are continuous */
	uint64_t up_since_ns;   /* UP: when it came up */
	uint64_t decay_mark_ns; /* UP: start of the current stable flap window */
	uint32_t flaps;

	/* Our side. */
	uint64_t next_tx_ns;
	uint32_t seq_first, seq_next;
	uint32_t sent_seq[PATH_LOSS_WINDOW_MAX];
	uint64_t sent_tx_ns[PATH_LOSS_WINDOW_MAX];
	bool have_acked;
	uint32_t acked_high; /* newest of our probes the peer acknowledged */
	uint64_t last_answer_ns;

	/* The peer's side. */
	uint32_t peer_token;
	bool have_rx;
	uint32_t rx_key_index; /* key of the probe we echo */
	uint32_t rx_high_seq;
	uint64_t rx_high_tx_ns, rx_high_at_ns;
	uint32_t rx_count;
	struct replay_slot replay[KEY_SLOTS];
	uint64_t replay_clock;
	struct addr rx_from; /* source of the newest accepted probe */
	uint16_t rx_from_port;
	bool learned;       /* spec.learn: remote_now is the peer's address */
	bool peer_observes; /* the peer sent an OBSERVED probe: it reads ours too */
	bool has_reflexive; /* ours as the peer sees it */
	struct addr reflexive;
	uint16_t reflexive_port;
	uint32_t binding_changes;

	/* Metrics. */
	bool measured;
	uint64_t rtt_ns, latency_avg_ns;
	struct path_jitter jitter;
	struct path_loss loss;
	double loss_pct;

	uint64_t probes_sent, probes_received, bytes_sent, bytes_received;
};

struct peer_key {
	bool used;
	uint32_t peer_id;
	struct crypto_aead *key; /* borrowed */
	uint32_t key_index;
};

struct path_prober {
	struct path_prober_config cfg;
	struct path *paths; /* [0, count) in add order */
	size_t count;
	struct peer_key *keys; /* cfg.paths_max entries: no more peers than paths */
	uint32_t seq_floor;    /* first sequence of a new path: above all ever used */
	struct path_prober_stats stats;
	struct path_log log;
};

const char *
path_state_name(enum path_state s)
{
	switch (s) {
	case PATH_STATE_UNKNOWN:
		return "unknown";
	case PATH_STATE_UP:
		return "up";
	case PATH_STATE_DOWN:
		return "down";
	case PATH_STATE_HOLD_DOWN:
		return "hold-down";
	}
	return "invalid";
}

const char *
path_change_reason_name(enum path_change_reason r)
{
	switch (r) {
	case PATH_CHANGE_FIRST_ANSWER:
		return "first-answer";
	case PATH_CHANGE_MISSED:
		return "probes-missed";
	case PATH_CHANGE_FLAPPED:
		return "flapped";
	case PATH_CHANGE_ANSWERED:
		return "answered-again";
	case PATH_CHANGE_HOLD_DOWN_DONE:
		return "hold-down-done";
	}
	return "invalid";
}

static uint64_t
pick(uint64_t a, uint64_t b, uint64_t dflt)
{
	return a != 0 ? a : b != 0 ? b : dflt;
}

void
path_config_resolve(struct path_config *out, const struct path_config *path,
    const struct path_config *peer)
{
	static const struct path_config none;
	struct path_config r;

	if (path == NULL)
		path = &none;
	if (peer == NULL)
		peer = &none;
	memset(&r, 0, sizeof(r));
	r.interval_ns = pick(path->interval_ns, peer->interval_ns, PATH_INTERVAL_NS_DEFAULT);
	r.down_after = (uint32_t)pick(path->down_after, peer->down_after, PATH_DOWN_AFTER_DEFAULT);
	r.loss_window =
	    (uint32_t)pick(path->loss_window, peer->loss_window, PATH_LOSS_WINDOW_DEFAULT);
	r.hold_down_ns = pick(path->hold_down_ns, peer->hold_down_ns, PATH_HOLD_DOWN_NS_DEFAULT);
	r.hold_down_max_ns =
	    pick(path->hold_down_max_ns, peer->hold_down_max_ns, PATH_HOLD_DOWN_MAX_NS_DEFAULT);
	r.flap_window_ns =
	    pick(path->flap_window_ns, peer->flap_window_ns, PATH_FLAP_WINDOW_NS_DEFAULT);
	r.remote_port = (uint16_t)pick(path->remote_port, peer->remote_port, PATH_PROBE_PORT);
	*out = r;
}

static bool
config_valid(const struct path_config *c)
{
	/* Bounds keep every product of two timers far from overflowing 64 bits. */
	return c->interval_ns >= PATH_INTERVAL_NS_MIN &&
	    c->interval_ns <= 3600ull * 1000000000ull && c->down_after >= 1 &&
	    c->down_after <= 1000 && c->loss_window >= 1 &&
	    c->loss_window <= PATH_LOSS_WINDOW_MAX && c->hold_down_ns <= c->hold_down_max_ns &&
	    c->hold_down_max_ns <= 86400ull * 1000000000ull &&
	    c->flap_window_ns <= 86400ull * 1000000000ull;
}

int
path_prober_new(const struct path_prober_config *cfg, uint64_t now_ns, struct path_prober **out)
{
	struct path_prober *p;

	(void)now_ns;
	if (cfg == NULL || out == NULL || cfg->paths_max > PATH_PATHS_MAX_LIMIT)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	p->cfg = *cfg;
	if (p->cfg.paths_max == 0)
		p->cfg.paths_max = PATH_PATHS_MAX_DEFAULT;
	p->paths = calloc(p->cfg.paths_max, sizeof(*p->paths));
	p->keys = calloc(p->cfg.paths_max, sizeof(*p->keys));
	if (p->paths == NULL || p->keys == NULL) {
		path_prober_free(p);
		return -ENOMEM;
	}
	p->seq_floor = 1;
	path_log_init(&p->log);
	*out = p;
	return 0;
}

void
path_prober_free(struct path_prober *p)
{
	if (p == NULL)
		return;
	free(p->paths);
	free(p->keys);
	free(p);
}

static struct path *
path_find(struct path_prober *p, uint32_t path_id)
{
	for (size_t i = 0; i < p->count; i++)
		if (p->paths[i].spec.path_id == path_id)
			return &p->paths[i];
	return NULL;
}

static const struct path *
path_find_const(const struct path_prober *p, uint32_t path_id)
{
	return path_find((struct path_prober *)p, path_id);
}

static bool authenticated(const struct path_prober *p);

int
path_prober_add_path(struct path_prober *p, const struct path_spec *spec, uint64_t now_ns)
{
	struct path *path;
	struct path_config cfg;

	if (p == NULL || spec == NULL || spec->path_id == 0 ||
	    (spec->remote.family != ADDR_FAMILY_V4 && spec->remote.family != ADDR_FAMILY_V6) ||
	    (spec->local.family != ADDR_FAMILY_NONE && spec->local.family != spec->remote.family))
		return -EINVAL;
	path_config_resolve(&cfg, &spec->cfg, NULL);
	if (!config_valid(&cfg))
		return -EINVAL;
	if (spec->learn && !authenticated(p))
		return -EINVAL; /* a plain probe could point the path anywhere */
	if (path_find(p, spec->path_id) != NULL)
		return -EEXIST;
	if (p->count >= p->cfg.paths_max)
		return -ENOSPC;
	path = &p->paths[p->count++];
	memset(path, 0, sizeof(*path));
	path->spec = *spec;
	path->spec.cfg = cfg;
	path->remote_now = spec->remote;
	path->remote_port = cfg.remote_port;
	path->state = PATH_STATE_UNKNOWN;
	path->since_ns = now_ns;
	path->hold_down_ns = cfg.hold_down_ns;
	path->next_tx_ns = now_ns;
	path->seq_first = path->seq_next = p->seq_floor;
	path_loss_reset(&path->loss);
	return 0;
}

int
path_prober_del_path(struct path_prober *p, uint32_t path_id)
{
	struct path *path = p != NULL ? path_find(p, path_id) : NULL;
	size_t i;

	if (path == NULL)
		return -ENOENT;
	/* A path added again under the same token must not reuse a nonce. */
	if (path->seq_next > p->seq_floor)
		p->seq_floor = path->seq_next;
	i = (size_t)(path - p->paths);
	memmove(&p->paths[i], &p->paths[i + 1], (p->count - i - 1) * sizeof(*p->paths));
	p->count--;
	return 0;
}

void
path_prober_carry(struct path_prober *to, const struct path_prober *from)
{
	uint32_t floor;

	if (to == NULL || from == NULL)
		return;
	floor = from->seq_floor > to->seq_floor ? from->seq_floor : to->seq_floor;
	for (size_t i = 0; i < from->count; i++)
		if (from->paths[i].seq_next > floor)
			floor = from->paths[i].seq_next;
	to->seq_floor = floor;
	for (size_t i = 0; i < to->count; i++) {
		struct path *path = &to->paths[i];

		if (path->seq_next == path->seq_first && path->seq_first < floor)
			path->seq_first = path->seq_next = floor;
		for (size_t k = 0; k < from->count; k++) {
			const struct path *old = &from->paths[k];

			if (old->spec.peer_id != path->spec.peer_id ||
			    old->spec.local_id != path->spec.local_id ||
			    !addr_equal(&old->spec.remote, &path->spec.remote))
				continue;
			memcpy(path->replay, old->replay, sizeof(path->replay));
			path->replay_clock = old->replay_clock;
			break;
		}
	}
}

int
path_prober_carry_path(struct path_prober *to, uint32_t to_id, const struct path_prober *from,
    uint32_t from_id)
{
	struct path *path = to != NULL ? path_find(to, to_id) : NULL;
	const struct path *old = from != NULL ? path_find_const(from, from_id) : NULL;
	struct path_spec spec;
	uint32_t seq_first, seq_next;
	const struct path_config *c;

	if (path == NULL || old == NULL)
		return -ENOENT;
	spec = path->spec;
	seq_first = path->seq_first;
	seq_next = path->seq_next;
	*path = *old;
	path->spec = spec;
	c = &path->spec.cfg;
	if (path->hold_down_ns < c->hold_down_ns)
		path->hold_down_ns = c->hold_down_ns;
	if (path->hold_down_ns > c->hold_down_max_ns)
		path->hold_down_ns = c->hold_down_max_ns;
	if (old->spec.path_id != spec.path_id) {
		/* Another token: from's sequences of this token may be another path's. */
		path->seq_first = seq_first;
		path->seq_next = seq_next;
		memset(path->sent_seq, 0, sizeof(path->sent_seq));
		memset(path->sent_tx_ns, 0, sizeof(path->sent_tx_ns));
		path->have_acked = false;
		path_loss_reset(&path->loss);
	}
	return 0;
}

static struct peer_key *
peer_key_find(struct path_prober *p, uint32_t peer_id)
{
	for (size_t i = 0; i < p->cfg.paths_max; i++)
		if (p->keys[i].used && p->keys[i].peer_id == peer_id)
			return &p->keys[i];
	return NULL;
}

void
path_prober_set_send_key(struct path_prober *p, uint32_t peer_id, struct crypto_aead *key,
    uint32_t key_index)
{
	struct peer_key *k;

	if (p == NULL)
		return;
	k = peer_key_find(p, peer_id);
	if (key == NULL) {
		if (k != NULL)
			memset(k, 0, sizeof(*k));
		return;
	}
	for (size_t i = 0; k == NULL && i < p->cfg.paths_max; i++)
		if (!p->keys[i].used)
			k = &p->keys[i];
	if (k == NULL)
		return; /* more peers with keys than paths: none of them can be probed anyway */
	k->used = true;
	k->peer_id = peer_id;
	k->key = key;
	k->key_index = key_index;
}

static bool
authenticated(const struct path_prober *p)
{
	return p->cfg.open_key != NULL;
}

/* Appends a STATE event and a log entry; the path's fields are already updated. */
static void
path_change(struct path_prober *p, struct path *path, enum path_state to,
    enum path_change_reason reason, uint64_t now_ns, struct path_events *out)
{
	struct path_log_entry e;
	uint8_t from = path->state;

	path->state = (uint8_t)to;
	path->since_ns = now_ns;
	memset(&e, 0, sizeof(e));
	e.ts_ns = now_ns;
	e.kind = PATH_LOG_STATE;
	e.old_state = from;
	e.new_state = (uint8_t)to;
	e.reason = (uint8_t)reason;
	e.peer_id = path->spec.peer_id;
	e.path_id = path->spec.path_id;
	e.flaps = path->flaps;
	e.hold_down_ns = path->hold_down_ns;
	path_log_append(&p->log, &e);
	if (out == NULL)
		return;
	if (out->count >= PATH_EVENTS_MAX) {
		out->overflow++;
		p->stats.events_overflow++;
		return;
	}
	struct path_event *ev = &out->ev[out->count++];

	memset(ev, 0, sizeof(*ev));
	ev->kind = PATH_EVENT_STATE;
	ev->peer_id = path->spec.peer_id;
	ev->path_id = path->spec.path_id;
	ev->old_state = from;
	ev->new_state = (uint8_t)to;
	ev->reason = (uint8_t)reason;
	ev->flaps = path->flaps;
	ev->hold_down_ns = path->hold_down_ns;
	ev->ts_ns = now_ns;
}

/* Call this when the peer acknowledges a probe of ours newer than any before. */
static void
path_on_answer(struct path_prober *p, struct path *path, uint64_t now_ns, struct path_events *out)
{
	path->last_answer_ns = now_ns;
	switch (path->state) {
	case PATH_STATE_UNKNOWN:
		path->up_since_ns = path->decay_mark_ns = now_ns;
		path_change(p, path, PATH_STATE_UP, PATH_CHANGE_FIRST_ANSWER, now_ns, out);
		break;
	case PATH_STATE_DOWN:
		path->hold_start_ns = now_ns;
		path_change(p, path, PATH_STATE_HOLD_DOWN, PATH_CHANGE_ANSWERED, now_ns, out);
		break;
	default:
		break;
	}
}

/* Call this when down_after intervals passed without an answer. */
static void
path_on_probe_timeout(struct path_prober *p, struct path *path, uint64_t now_ns,
    struct path_events *out)
{
	const struct path_config *c = &path->spec.cfg;
	bool flapped =
	    path->state == PATH_STATE_HOLD_DOWN || now_ns - path->up_since_ns < c->flap_window_ns;

	if (flapped) {
		path->flaps++;
		path->hold_down_ns = path->hold_down_ns * 2 > c->hold_down_max_ns ?
		    c->hold_down_max_ns :
		    path->hold_down_ns * 2;
	}
	path_change(p, path, PATH_STATE_DOWN, flapped ? PATH_CHANGE_FLAPPED : PATH_CHANGE_MISSED,
	    now_ns, out);
}

static void
path_timers(struct path_prober *p, struct path *path, uint64_t now_ns, struct path_events *out)
{
	const struct path_config *c = &path->spec.cfg;
	uint64_t dead_ns = c->down_after * c->interval_ns;

	switch (path->state) {
	case PATH_STATE_UP:
		if (now_ns - path->last_answer_ns > dead_ns) {
			path_on_probe_timeout(p, path, now_ns, out);
			break;
		}
		/* Stability pays back flap damping, one halving per flap window. */
		if (path->hold_down_ns > c->hold_down_ns &&
		    now_ns - path->decay_mark_ns >= c->flap_window_ns) {
			path->hold_down_ns /= 2;
			if (path->hold_down_ns < c->hold_down_ns)
				path->hold_down_ns = c->hold_down_ns;
			path->decay_mark_ns = now_ns;
		}
		break;
	case PATH_STATE_HOLD_DOWN:
		if (now_ns - path->last_answer_ns > dead_ns) {
			path_on_probe_timeout(p, path, now_ns, out);
		} else if (now_ns - path->hold_start_ns >= path->hold_down_ns) {
			path->up_since_ns = path->decay_mark_ns = now_ns;
			path_change(p, path, PATH_STATE_UP, PATH_CHANGE_HOLD_DOWN_DONE, now_ns,
			    out);
		}
		break;
	default:
		break;
	}
}

/*
 * Our probes after the newest acknowledged one that are older than a round trip plus
 * two intervals: the peer would have acknowledged them by now.
 */
static uint32_t
path_unanswered(const struct path *path, uint64_t now_ns)
{
	uint64_t grace = path->rtt_ns + 2 * path->spec.cfg.interval_ns;
	uint32_t n = 0;

	if (!path->loss.have_last || now_ns < grace)
		return 0;
	for (uint32_t s = path->loss.last_seq + 1; s != path->seq_next; s++) {
		unsigned slot = s % PATH_LOSS_WINDOW_MAX;

		if (path->sent_seq[slot] != s || path->sent_tx_ns[slot] > now_ns - grace ||
		    n >= PATH_LOSS_WINDOW_MAX)
			break;
		n++;
	}
	return n;
}

static void
path_update_loss(struct path *path, uint64_t now_ns)
{
	path->loss_pct =
	    path_loss_pct(&path->loss, path->spec.cfg.loss_window, path_unanswered(path, now_ns));
}

static int
path_seal(struct path_prober *p, struct path *path, uint8_t msg[PATH_PROBE_LEN_MAX], size_t *len,
    uint64_t now_ns)
{
	struct path_probe pr;
	struct peer_key *k = NULL;
	uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], none[1];

	if (authenticated(p)) {
		k = peer_key_find(p, path->spec.peer_id);
		if (k == NULL) {
			p->stats.tx_no_key++;
			return -ENOKEY;
		}
	}
	if (path->seq_next == UINT32_MAX) {
		p->stats.tx_failed++;
		return -ERANGE; /* 13 years of probes on one path: add it again */
	}
	memset(&pr, 0, sizeof(pr));
	pr.flags = k != NULL ? PATH_PROBE_FLAG_AUTH : 0;
	pr.key_index = k != NULL ? k->key_index : 0;
	pr.sender_token = path->spec.path_id;
	pr.receiver_token = path->peer_token;
	pr.seq = path->seq_next;
	pr.tx_ns = now_ns;
	if (path->have_rx) {
		uint64_t delay_us = (now_ns - path->rx_high_at_ns) / NS_PER_US;

		pr.flags |= PATH_PROBE_FLAG_ECHO;
		pr.echo_seq = path->rx_high_seq;
		pr.echo_tx_ns = path->rx_high_tx_ns;
		pr.echo_delay_us = delay_us > ECHO_DELAY_MAX ? ECHO_DELAY_MAX : (uint32_t)delay_us;
		pr.rx_count = path->rx_count;
		/* Only to a peer that reads it (see path_probe.h). */
		if (path->spec.learn || path->peer_observes) {
			pr.flags |= PATH_PROBE_FLAG_OBSERVED;
			pr.observed = path->rx_from;
			pr.observed_port = path->rx_from_port;
		}
	}
	path_probe_encode(msg, &pr);
	*len = path_probe_len(&pr);
	if (k != NULL) {
		path_probe_nonce(nonce, pr.sender_token, pr.seq);
		if (crypto_aead_seal_nonce(k->key, nonce, msg, path_probe_ad_len(&pr), none, 0,
		        msg + path_probe_ad_len(&pr)) != 0) {
			p->stats.tx_failed++;
			return -EIO;
		}
	}
	return 0;
}

static void
path_send(struct path_prober *p, struct path *path, uint64_t now_ns, struct path_events *out)
{
	struct path_event *ev = &out->ev[out->count];
	unsigned slot = path->seq_next % PATH_LOSS_WINDOW_MAX;

	size_t len;

	if (path_seal(p, path, ev->msg, &len, now_ns) != 0)
		return;
	ev->kind = PATH_EVENT_SEND;
	ev->peer_id = path->spec.peer_id;
	ev->path_id = path->spec.path_id;
	ev->local_id = path->spec.local_id;
	ev->remote = path->remote_now;
	ev->remote_port = path->remote_port;
	ev->len = len;
	ev->old_state = ev->new_state = path->state;
	ev->reason = 0;
	ev->flaps = 0;
	ev->hold_down_ns = 0;
	ev->ts_ns = now_ns;
	out->count++;
	path->sent_seq[slot] = path->seq_next;
	path->sent_tx_ns[slot] = now_ns;
	path->seq_next++;
	path->probes_sent++;
	path->bytes_sent += len;
	p->stats.tx_probes++;
	path_update_loss(path, now_ns);
}

void
path_prober_tick(struct path_prober *p, uint64_t now_ns, struct path_events *out)
{
	for (size_t i = 0; i < p->count; i++) {
		struct path *path = &p->paths[i];
		uint64_t interval = path->spec.cfg.interval_ns;

		path_timers(p, path, now_ns, out);
		if (now_ns < path->next_tx_ns || out->count >= PATH_EVENTS_MAX)
			continue;
		/* A learn path has nowhere to send until its peer is heard. */
		if (path->spec.learn && !path->learned) {
			path->next_tx_ns = now_ns + interval;
			continue;
		}
		path_send(p, path, now_ns, out);
		/* Keep the cadence; after a long pause do not send a burst to catch up. */
		path->next_tx_ns += interval;
		if (path->next_tx_ns <= now_ns)
			path->next_tx_ns = now_ns + interval;
	}
}

uint64_t
path_prober_next_ns(const struct path_prober *p)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i < p->count; i++) {
		const struct path *path = &p->paths[i];
		const struct path_config *c = &path->spec.cfg;
		uint64_t t = path->next_tx_ns;

		if (path->state == PATH_STATE_UP || path->state == PATH_STATE_HOLD_DOWN) {
			uint64_t dead = path->last_answer_ns + c->down_after * c->interval_ns + 1;

			if (dead < t)
				t = dead;
		}
		if (path->state == PATH_STATE_HOLD_DOWN &&
		    path->hold_start_ns + path->hold_down_ns < t)
			t = path->hold_start_ns + path->hold_down_ns;
		if (t < next)
			next = t;
	}
	return next;
}

/*
 * The path a probe belongs to: by the token the sender echoed (survives NAT), else by
 * the WAN it came in on and its source address (first contact).
 */
static struct path *
path_lookup(struct path_prober *p, uint32_t local_id, const struct addr *from,
    const struct path_probe *pr)
{
	struct path *path;

	if (pr->receiver_token != 0) {
		path = path_find(p, pr->receiver_token);
		if (path != NULL && path->spec.local_id == local_id)
			return path;
	}
	for (size_t i = 0; i < p->count; i++) {
		path = &p->paths[i];
		if (path->spec.local_id == local_id && !path->spec.learn &&
		    (addr_equal(&path->spec.remote, from) || addr_equal(&path->remote_now, from)))
			return path;
	}
	/*
	 * A peer behind a NAT, first contact or a new mapping: a learn path of this WAN not
	 * bound to another sender, whose peer has a key of that index (the tag decides).
	 */
	for (size_t i = 0; i < p->count; i++) {
		path = &p->paths[i];
		if (path->spec.local_id == local_id && path->spec.learn &&
		    from->family == path->spec.remote.family &&
		    (path->peer_token == 0 || path->peer_token == pr->sender_token) &&
		    p->cfg.open_key(p->cfg.open_key_arg, path->spec.peer_id, pr->key_index) != NULL)
			return path;
	}
	return NULL;
}

/* Appends a BINDING event and its log entry. */
static void
path_binding(struct path_prober *p, struct path *path, enum path_binding_kind kind,
    const struct addr *addr, uint16_t port, uint16_t old_port, uint64_t now_ns,
    struct path_events *out)
{
	struct path_log_entry e;
	struct path_event *ev;

	memset(&e, 0, sizeof(e));
	e.ts_ns = now_ns;
	e.kind = PATH_LOG_NAT_BINDING;
	e.reason = (uint8_t)kind;
	e.peer_id = path->spec.peer_id;
	e.path_id = path->spec.path_id;
	e.addr = *addr;
	e.port = port;
	e.old_port = old_port;
	path_log_append(&p->log, &e);
	if (out == NULL)
		return;
	if (out->count >= PATH_EVENTS_MAX) {
		out->overflow++;
		p->stats.events_overflow++;
		return;
	}
	ev = &out->ev[out->count++];
	memset(ev, 0, sizeof(*ev));
	ev->kind = PATH_EVENT_BINDING;
	ev->peer_id = path->spec.peer_id;
	ev->path_id = path->spec.path_id;
	ev->local_id = path->spec.local_id;
	ev->remote = *addr;
	ev->remote_port = port;
	ev->reason = (uint8_t)kind;
	ev->ts_ns = now_ns;
}

/* An authenticated probe, the newest on its path, came from from:port. */
static void
path_take_source(struct path_prober *p, struct path *path, const struct path_probe *pr,
    const struct addr *from, uint16_t from_port, uint64_t now_ns, struct path_events *out)
{
	path->rx_from = *from;
	path->rx_from_port = from_port;
	/* Authenticated roaming: follow the peer behind a NAT that moved it. */
	if (authenticated(p) &&
	    (!addr_equal(&path->remote_now, from) || path->remote_port != from_port ||
	        (path->spec.learn && !path->learned))) {
		uint16_t old_port = path->remote_port;
		bool first = path->spec.learn && !path->learned;

		path->remote_now = *from;
		path->remote_port = from_port;
		path->learned = true;
		path_binding(p, path, first ? PATH_BINDING_PEER_LEARNED : PATH_BINDING_PEER_MOVED,
		    from, from_port, first ? 0 : old_port, now_ns, out);
		/* Our next probe tells the peer where it is now: send it at once. */
		path->next_tx_ns = now_ns;
	}
	if (!(pr->flags & PATH_PROBE_FLAG_OBSERVED))
		return;
	path->peer_observes = true;
	if (path->has_reflexive && addr_equal(&path->reflexive, &pr->observed) &&
	    path->reflexive_port == pr->observed_port)
		return;
	{
		uint16_t old_port = path->has_reflexive ? path->reflexive_port : 0;
		bool first = !path->has_reflexive;

		if (!first)
			path->binding_changes++;
		path->has_reflexive = true;
		path->reflexive = pr->observed;
		path->reflexive_port = pr->observed_port;
		path_binding(p, path, first ? PATH_BINDING_OURS_SEEN : PATH_BINDING_OURS_CHANGED,
		    &pr->observed, pr->observed_port, old_port, now_ns, out);
	}
}

/* The replay slot of key_index, or the one it would replace. */
static struct replay_slot *
replay_slot(struct path *path, uint32_t key_index, bool *fresh)
{
	struct replay_slot *victim = &path->replay[0];

	for (int i = 0; i < KEY_SLOTS; i++) {
		struct replay_slot *s = &path->replay[i];

		if (s->used && s->key_index == key_index) {
			*fresh = false;
			return s;
		}
		if (!s->used || (victim->used && s->last_use < victim->last_use))
			victim = s;
	}
	*fresh = true;
	return victim;
}

/* Whether seq is acceptable under slot; too old for a plain probe restarts the window. */
static bool
replay_check(const struct replay_slot *s, bool fresh, uint32_t seq, bool plain)
{
	uint32_t behind = s->top - seq;

	if (fresh || (int32_t)(seq - s->top) > 0)
		return true;
	if (behind >= REPLAY_WINDOW)
		return plain; /* an unauthenticated sender that restarted; see path_prober.h */
	return !(s->bitmap & (1ull << behind));
}

static void
replay_accept(struct path *path, struct replay_slot *s, bool fresh, uint32_t key_index,
    uint32_t seq)
{
	int32_t ahead = (int32_t)(seq - s->top);
	uint32_t behind = s->top - seq;

	if (!fresh && ahead <= 0 && behind >= REPLAY_WINDOW)
		fresh = true; /* a plain sender that restarted */
	if (fresh) {
		s->used = true;
		s->key_index = key_index;
		s->top = seq;
		s->bitmap = 1;
	} else if (ahead > 0) {
		s->bitmap = (uint32_t)ahead >= REPLAY_WINDOW ? 0 : s->bitmap << ahead;
		s->bitmap |= 1;
		s->top = seq;
	} else {
		s->bitmap |= 1ull << behind;
	}
	s->last_use = ++path->replay_clock;
}

/* Takes the echo of our own probe: answers, round trip, loss. */
static void
path_take_echo(struct path_prober *p, struct path *path, const struct path_probe *pr,
    uint64_t now_ns, struct path_events *out)
{
	unsigned slot = pr->echo_seq % PATH_LOSS_WINDOW_MAX;
	uint64_t delay_ns = (uint64_t)pr->echo_delay_us * NS_PER_US;
	uint64_t rtt;

	if (!(pr->flags & PATH_PROBE_FLAG_ECHO))
		return;
	/* Only an echo of a probe we sent, with its timestamp, counts. */
	if (pr->echo_seq - path->seq_first >= path->seq_next - path->seq_first ||
	    path->sent_seq[slot] != pr->echo_seq || path->sent_tx_ns[slot] != pr->echo_tx_ns ||
	    pr->echo_tx_ns > now_ns) {
		p->stats.stale_echo++;
		return;
	}
	path_loss_report(&path->loss, pr->echo_seq, pr->rx_count);
	path_update_loss(path, now_ns);
	if (path->have_acked && (int32_t)(pr->echo_seq - path->acked_high) <= 0)
		return;
	path->have_acked = true;
	path->acked_high = pr->echo_seq;
	rtt = now_ns - pr->echo_tx_ns;
	rtt = delay_ns < rtt ? rtt - delay_ns : 0;
	path->rtt_ns = rtt;
	if (!path->measured)
		path->latency_avg_ns = rtt / 2;
	else
		path->latency_avg_ns = path->latency_avg_ns - path->latency_avg_ns / LATENCY_EWMA +
		    (rtt / 2) / LATENCY_EWMA;
	path->measured = true;
	path_on_answer(p, path, now_ns, out);
}

int
path_prober_receive(struct path_prober *p, uint32_t local_id, const struct addr *from,
    uint16_t from_port, const uint8_t *msg, size_t len, uint64_t now_ns, struct path_events *out)
{
	struct path_probe pr;
	struct path *path;
	struct replay_slot *rs;
	bool fresh, newest;

	if (path_probe_decode(msg, len, &pr) != 0) {
		p->stats.malformed++;
		return -EBADMSG;
	}
	path = path_lookup(p, local_id, from, &pr);
	if (path == NULL) {
		p->stats.unknown_path++;
		return -ENOENT;
	}
	if (authenticated(p) != ((pr.flags & PATH_PROBE_FLAG_AUTH) != 0)) {
		p->stats.bad_tag++;
		return -EBADMSG;
	}
	if (authenticated(p)) {
		struct crypto_aead *key =
		    p->cfg.open_key(p->cfg.open_key_arg, path->spec.peer_id, pr.key_index);
		uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], none[1];

		if (key == NULL) {
			p->stats.unknown_key++;
			return -ENOKEY;
		}
		path_probe_nonce(nonce, pr.sender_token, pr.seq);
		if (crypto_aead_open_nonce(key, nonce, msg, path_probe_ad_len(&pr), none, 0,
		        pr.tag) != 0) {
			p->stats.bad_tag++;
			return -EBADMSG;
		}
	}
	rs = replay_slot(path, pr.key_index, &fresh);
	if (!replay_check(rs, fresh, pr.seq, !authenticated(p))) {
		p->stats.replayed++;
		return -EALREADY;
	}
	/* The echo we send names the newest probe of the newest key. */
	newest = !path->have_rx || pr.key_index != path->rx_key_index ||
	    (int32_t)(pr.seq - path->rx_high_seq) > 0;
	replay_accept(path, rs, fresh, pr.key_index, pr.seq);
	p->stats.rx_probes++;
	path->probes_received++;
	path->bytes_received += len;
	path->rx_count++;
	path->peer_token = pr.sender_token;
	if (newest) {
		if (path->have_rx && pr.key_index != path->rx_key_index)
			memset(&path->jitter, 0, sizeof(path->jitter));
		path->have_rx = true;
		path->rx_key_index = pr.key_index;
		path->rx_high_seq = pr.seq;
		path->rx_high_tx_ns = pr.tx_ns;
		path->rx_high_at_ns = now_ns;
		path_jitter_add(&path->jitter, pr.tx_ns, now_ns);
		path_take_source(p, path, &pr, from, from_port, now_ns, out);
	}
	path_take_echo(p, path, &pr, now_ns, out);
	return 0;
}

static void
status_fill(const struct path *path, struct path_status *out)
{
	memset(out, 0, sizeof(*out));
	out->peer_id = path->spec.peer_id;
	out->path_id = path->spec.path_id;
	out->local_id = path->spec.local_id;
	out->local = path->spec.local;
	out->remote = path->remote_now;
	out->remote_port = path->remote_port;
	out->learn = path->spec.learn;
	out->learned = path->learned;
	out->has_reflexive = path->has_reflexive;
	out->reflexive = path->reflexive;
	out->reflexive_port = path->reflexive_port;
	out->binding_changes = path->binding_changes;
	out->state = path->state;
	out->since_ns = path->since_ns;
	out->hold_down_ns = path->hold_down_ns;
	if (path->state == PATH_STATE_HOLD_DOWN)
		out->hold_down_until_ns = path->hold_start_ns + path->hold_down_ns;
	out->flaps = path->flaps;
	out->measured = path->measured;
	if (path->measured) {
		uint64_t jitter_ns = path_jitter_ns(&path->jitter);

		out->rtt_us = (uint32_t)(path->rtt_ns / NS_PER_US);
		out->latency_us = (uint32_t)(path->rtt_ns / 2 / NS_PER_US);
		out->latency_avg_us = (uint32_t)(path->latency_avg_ns / NS_PER_US);
		out->jitter_us = (uint32_t)(jitter_ns / NS_PER_US);
		out->loss_pct = path->loss_pct;
		out->mos = path_mos((double)path->latency_avg_ns / NS_PER_US,
		    (double)jitter_ns / NS_PER_US, path->loss_pct);
	}
	out->probes_sent = path->probes_sent;
	out->probes_received = path->probes_received;
	out->bytes_sent = path->bytes_sent;
	out->bytes_received = path->bytes_received;
	out->last_answer_ns = path->last_answer_ns;
	out->cfg = path->spec.cfg;
}

int
path_prober_status(const struct path_prober *p, uint32_t path_id, struct path_status *out)
{
	const struct path *path = path_find_const(p, path_id);

	if (path == NULL)
		return -ENOENT;
	status_fill(path, out);
	return 0;
}

size_t
path_prober_path_count(const struct path_prober *p)
{
	return p->count;
}

int
path_prober_status_at(const struct path_prober *p, size_t index, struct path_status *out)
{
	if (index >= p->count)
		return -ENOENT;
	status_fill(&p->paths[index], out);
	return 0;
}

void
path_prober_stats(const struct path_prober *p, struct path_prober_stats *out)
{
	*out = p->stats;
}

struct path_log *
path_prober_log(struct path_prober *p)
{
	return &p->log;
}
