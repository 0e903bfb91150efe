/* The impairment engine: see wanem_engine.h. */
#include "wanem_engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Token bucket units: bit-nanoseconds, so a packet costs len * 8 * 1e9 and one
 * nanosecond refills rate_bps of them; integer arithmetic stays exact at any rate. */
#define NS_PER_S 1000000000ull

struct wanem_slot {
	uint64_t release_ns;
	uint32_t ref;
	uint32_t len;
};

struct wanem_queue {
	struct wanem_slot *slots;
	uint32_t head;  /* index of the oldest packet */
	uint32_t count; /* packets held */
	uint64_t bytes;
	uint64_t last_release_ns; /* release time of the newest packet, for the FIFO rule */
	int64_t tokens;           /* bit-ns; may go negative after an oversized packet */
	uint64_t tokens_ns;       /* time tokens was last brought up to date */
	bool ge_bad;              /* Gilbert-Elliott state */
	struct wanem_params p;    /* this direction's impairments */
	int64_t burst_tokens;     /* bucket size in bit-ns for p's rate */
	struct wanem_counters ctr;
};

struct wanem {
	uint32_t capacity;
	uint64_t rng; /* one PRNG for both directions: --seed repeats a run exactly */
	struct wanem_queue q[WANEM_DIR_COUNT];
};

static const char *const wanem_verdict_names[WANEM_VERDICT_COUNT] = {[WANEM_QUEUED] = "queued",
#define WANEM_X_NAME(name, text) [WANEM_DROP_##name] = text,
    WANEM_DROP_LIST(WANEM_X_NAME)
#undef WANEM_X_NAME
};

const char *
wanem_verdict_name(enum wanem_verdict v)
{
	if ((unsigned)v >= WANEM_VERDICT_COUNT)
		return "?";
	return wanem_verdict_names[v];
}

/* splitmix64: small, fast and good enough for loss and jitter draws. */
static uint64_t
wanem_rand(struct wanem *w)
{
	uint64_t z = (w->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* true with probability ppm / 1e6; no draw when the answer is certain. */
static bool
wanem_chance(struct wanem *w, uint32_t ppm)
{
	if (ppm == 0)
		return false;
	if (ppm >= WANEM_PPM_ONE)
		return true;
	return (uint32_t)(((wanem_rand(w) >> 32) * WANEM_PPM_ONE) >> 32) < ppm;
}

/* A uniform draw in [0, n], n < 2^63 (modulo bias below 2^-30 for delays). */
static uint64_t
wanem_rand_upto(struct wanem *w, uint64_t n)
{
	return wanem_rand(w) % (n + 1);
}

void
wanem_params_init(struct wanem_params *p)
{
	memset(p, 0, sizeof(*p));
	p->jitter_dist = WANEM_JITTER_UNIFORM;
}

bool
wanem_params_equal(const struct wanem_params *a, const struct wanem_params *b)
{
	return a->delay_ns == b->delay_ns && a->jitter_ns == b->jitter_ns &&
	    a->jitter_dist == b->jitter_dist && a->loss_ppm == b->loss_ppm &&
	    a->burst_p_ppm == b->burst_p_ppm && a->burst_r_ppm == b->burst_r_ppm &&
	    a->burst_h_ppm == b->burst_h_ppm && a->rate_bps == b->rate_bps &&
	    a->rate_burst_bytes == b->rate_burst_bytes && a->queue_packets == b->queue_packets &&
	    a->queue_bytes == b->queue_bytes && a->outage == b->outage &&
	    a->drop_syn_data == b->drop_syn_data;
}

int
wanem_params_check(const struct wanem_params *p, uint32_t capacity)
{
	if (p->delay_ns > WANEM_DELAY_MAX_NS || p->jitter_ns > WANEM_DELAY_MAX_NS)
		return -EINVAL;
	if (p->jitter_dist != WANEM_JITTER_UNIFORM && p->jitter_dist != WANEM_JITTER_NORMAL)
		return -EINVAL;
	if (p->loss_ppm > WANEM_PPM_ONE || p->burst_p_ppm > WANEM_PPM_ONE ||
	    p->burst_r_ppm > WANEM_PPM_ONE || p->burst_h_ppm > WANEM_PPM_ONE)
		return -EINVAL;
	if (p->rate_bps > WANEM_RATE_MAX_BPS || p->rate_burst_bytes > WANEM_RATE_BURST_MAX)
		return -EINVAL;
	if (p->queue_bytes > WANEM_QUEUE_BYTES_MAX)
		return -EINVAL;
	if (capacity != 0 && p->queue_packets > capacity)
		return -ERANGE;
	return 0;
}

int
wanem_new(const struct wanem_config *cfg, struct wanem **out)
{
	struct wanem *w = NULL;

	*out = NULL;
	if (cfg->capacity == 0 || cfg->capacity > WANEM_CAPACITY_MAX)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->capacity = cfg->capacity;
	w->rng = cfg->seed;
	for (int d = 0; d < WANEM_DIR_COUNT; d++) {
		wanem_params_init(&w->q[d].p);
		w->q[d].slots = calloc(cfg->capacity, sizeof(w->q[d].slots[0]));
		if (w->q[d].slots == NULL) {
			wanem_free(w);
			return -ENOMEM;
		}
	}
	*out = w;
	return 0;
}

void
wanem_free(struct wanem *w)
{
	if (w == NULL)
		return;
	for (int d = 0; d < WANEM_DIR_COUNT; d++)
		free(w->q[d].slots);
	free(w);
}

uint32_t
wanem_capacity(const struct wanem *w)
{
	return w->capacity;
}

static int64_t
wanem_burst_tokens(const struct wanem_params *p)
{
	uint64_t bytes = p->rate_burst_bytes;

	if (bytes == 0) {
		bytes = p->rate_bps / 8 / 1000; /* 1 ms at the rate */
		if (bytes < WANEM_RATE_BURST_MIN)
			bytes = WANEM_RATE_BURST_MIN;
		if (bytes > WANEM_RATE_BURST_MAX)
			bytes = WANEM_RATE_BURST_MAX;
	}
	return (int64_t)(bytes * 8 * NS_PER_S);
}

/* Applies already checked parameters to one direction. */
static void
wanem_queue_set(struct wanem_queue *q, const struct wanem_params *p)
{
	bool had_rate = q->p.rate_bps != 0;

	q->p = *p;
	q->burst_tokens = wanem_burst_tokens(p);
	/* A new limit starts with a full bucket; a changed one keeps what it had. */
	if (!had_rate || q->tokens > q->burst_tokens)
		q->tokens = q->burst_tokens;
	if (p->burst_p_ppm == 0)
		q->ge_bad = false;
}

int
wanem_set_dirs(struct wanem *w, const struct wanem_params p[WANEM_DIR_COUNT])
{
	int rc = 0;

	/* Both are checked before either changes: a command applies whole or not at all. */
	for (int d = 0; d < WANEM_DIR_COUNT && rc == 0; d++)
		rc = wanem_params_check(&p[d], w->capacity);
	if (rc < 0)
		return rc;
	for (int d = 0; d < WANEM_DIR_COUNT; d++)
		wanem_queue_set(&w->q[d], &p[d]);
	return 0;
}

int
wanem_set_dir(struct wanem *w, enum wanem_dir dir, const struct wanem_params *p)
{
	int rc = wanem_params_check(p, w->capacity);

	if (rc < 0)
		return rc;
	wanem_queue_set(&w->q[dir], p);
	return 0;
}

int
wanem_set(struct wanem *w, const struct wanem_params *p)
{
	const struct wanem_params both[WANEM_DIR_COUNT] = {*p, *p};

	return wanem_set_dirs(w, both);
}

void
wanem_get_dir(const struct wanem *w, enum wanem_dir dir, struct wanem_params *out)
{
	*out = w->q[dir].p;
}

/* The jitter sample for one packet, in [-jitter, +jitter]. */
static int64_t
wanem_jitter_sample(struct wanem *w, const struct wanem_params *p)
{
	uint64_t j = p->jitter_ns;

	if (j == 0)
		return 0;
	if (p->jitter_dist == WANEM_JITTER_NORMAL) {
		/* Irwin-Hall: four uniforms over [0, 2j] summed and scaled back: mean 0,
		 * sigma j/sqrt(12), never outside the bounds. */
		uint64_t sum = 0;

		for (int i = 0; i < 4; i++)
			sum += wanem_rand_upto(w, 2 * j);
		return (int64_t)(sum / 4) - (int64_t)j;
	}
	return (int64_t)wanem_rand_upto(w, 2 * j) - (int64_t)j;
}

enum wanem_verdict
wanem_enqueue(struct wanem *w, enum wanem_dir dir, uint32_t ref, uint32_t len, uint64_t now_ns)
{
	return wanem_enqueue_flags(w, dir, ref, len, 0, now_ns);
}

enum wanem_verdict
wanem_enqueue_flags(struct wanem *w, enum wanem_dir dir, uint32_t ref, uint32_t len, uint32_t flags,
    uint64_t now_ns)
{
	struct wanem_queue *q = &w->q[dir];
	const struct wanem_params *p = &q->p;
	enum wanem_verdict v = WANEM_QUEUED;
	uint32_t limit = p->queue_packets != 0 ? p->queue_packets : w->capacity;
	int64_t offset;
	uint64_t release;

	q->ctr.rx_packets++;
	q->ctr.rx_bytes += len;
	if (p->outage) {
		v = WANEM_DROP_OUTAGE;
		goto drop;
	}
	if (p->drop_syn_data && (flags & WANEM_FRAME_TCP_SYN_DATA)) {
		v = WANEM_DROP_SYN_DATA;
		goto drop;
	}
	if (wanem_chance(w, p->loss_ppm)) {
		v = WANEM_DROP_LOSS;
		goto drop;
	}
	if (p->burst_p_ppm != 0) {
		/* The state moves first, so the first packet after a good->bad change is
		 * in the burst and a burst lasts 1/r packets on average. */
		if (q->ge_bad)
			q->ge_bad = !wanem_chance(w, p->burst_r_ppm);
		else
			q->ge_bad = wanem_chance(w, p->burst_p_ppm);
		if (q->ge_bad && wanem_chance(w, p->burst_h_ppm)) {
			v = WANEM_DROP_BURST_LOSS;
			goto drop;
		}
	}
	if (q->count >= limit || (p->queue_bytes != 0 && q->bytes + len > p->queue_bytes)) {
		v = WANEM_DROP_QUEUE_FULL;
		goto drop;
	}

	offset = (int64_t)p->delay_ns + wanem_jitter_sample(w, p);
	release = offset > 0 ? now_ns + (uint64_t)offset : now_ns;
	if (q->count > 0 && release < q->last_release_ns)
		release = q->last_release_ns; /* no reordering: see the header */
	q->last_release_ns = release;

	struct wanem_slot *s = &q->slots[(q->head + q->count) % w->capacity];

	s->release_ns = release;
	s->ref = ref;
	s->len = len;
	q->count++;
	q->bytes += len;
	return WANEM_QUEUED;

drop:
	q->ctr.drops[v]++;
	q->ctr.drop_bytes += len;
	return v;
}

/* Brings the bucket up to now_ns (never backwards), capped at the bucket size. */
static void
wanem_tokens_refill(struct wanem_queue *q, uint64_t now_ns)
{
	uint64_t elapsed, room;

	if (now_ns <= q->tokens_ns)
		return;
	elapsed = now_ns - q->tokens_ns;
	q->tokens_ns = now_ns;
	if (q->tokens >= q->burst_tokens)
		return;
	room = (uint64_t)(q->burst_tokens - q->tokens);
	/* elapsed * rate may overflow; if it would exceed the room, the bucket is full. */
	if (elapsed > room / q->p.rate_bps)
		q->tokens = q->burst_tokens;
	else
		q->tokens += (int64_t)(elapsed * q->p.rate_bps);
	if (q->tokens > q->burst_tokens)
		q->tokens = q->burst_tokens;
}

static int64_t
wanem_cost(uint32_t len)
{
	return (int64_t)len * 8 * (int64_t)NS_PER_S;
}

/* Tokens a packet needs before it may go: its cost, or a full bucket if it is larger. */
static int64_t
wanem_need(const struct wanem_queue *q, uint32_t len)
{
	int64_t cost = wanem_cost(len);

	return cost < q->burst_tokens ? cost : q->burst_tokens;
}

size_t
wanem_dequeue_ready(struct wanem *w, enum wanem_dir dir, uint64_t now_ns, uint32_t *refs,
    uint32_t *lens, size_t max)
{
	struct wanem_queue *q = &w->q[dir];
	size_t n = 0;

	if (q->p.rate_bps != 0)
		wanem_tokens_refill(q, now_ns);
	while (n < max && q->count > 0) {
		struct wanem_slot *s = &q->slots[q->head];

		if (s->release_ns > now_ns)
			break;
		if (q->p.rate_bps != 0) {
			if (q->tokens < wanem_need(q, s->len))
				break;
			q->tokens -= wanem_cost(s->len);
		}
		refs[n] = s->ref;
		if (lens != NULL)
			lens[n] = s->len;
		n++;
		q->ctr.tx_packets++;
		q->ctr.tx_bytes += s->len;
		q->bytes -= s->len;
		q->count--;
		q->head = (q->head + 1) % w->capacity;
	}
	return n;
}

uint64_t
wanem_next_deadline(const struct wanem *w, enum wanem_dir dir)
{
	const struct wanem_queue *q = &w->q[dir];
	const struct wanem_slot *s;
	uint64_t t, elapsed, wait;
	int64_t tokens, need;

	if (q->count == 0)
		return UINT64_MAX;
	s = &q->slots[q->head];
	if (q->p.rate_bps == 0)
		return s->release_ns;
	/* Tokens at the release time (or now, if the bucket was refilled later). */
	t = s->release_ns > q->tokens_ns ? s->release_ns : q->tokens_ns;
	elapsed = t - q->tokens_ns;
	tokens = q->tokens;
	need = wanem_need(q, s->len);
	if (tokens < need) {
		uint64_t missing = (uint64_t)(need - tokens);

		if (elapsed >= missing / q->p.rate_bps + 1)
			return t;
		tokens += (int64_t)(elapsed * q->p.rate_bps);
	}
	if (tokens >= need)
		return t;
	wait = ((uint64_t)(need - tokens) + q->p.rate_bps - 1) / q->p.rate_bps;
	return t + wait;
}

size_t
wanem_flush(struct wanem *w, enum wanem_dir dir, uint32_t *refs, size_t max)
{
	struct wanem_queue *q = &w->q[dir];
	size_t n = 0;

	while (n < max && q->count > 0) {
		struct wanem_slot *s = &q->slots[q->head];

		refs[n++] = s->ref;
		q->bytes -= s->len;
		q->count--;
		q->head = (q->head + 1) % w->capacity;
	}
	return n;
}

void
wanem_counters_get(const struct wanem *w, enum wanem_dir dir, struct wanem_counters *out)
{
	const struct wanem_queue *q = &w->q[dir];

	*out = q->ctr;
	out->queue_packets = q->count;
	out->queue_bytes = q->bytes;
}
