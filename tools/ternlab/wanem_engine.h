/*
 * The impairment engine of ternlab-wanem: what happens to each frame between the two
 * interfaces of an emulated WAN link (delay, jitter, random and bursty loss, a rate
 * limit, a full outage). Pure logic with an injected clock and no I/O, so the tests
 * drive it with a fake clock.
 *
 * Packets are held by reference: the caller owns the buffers and hands the engine a
 * 32-bit ref (a buffer index) and a length; the engine gives the ref back from
 * wanem_dequeue_ready() when the packet is due, or refuses it at wanem_enqueue() with a
 * drop reason (the caller then keeps the buffer). Each direction has a FIFO ring of
 * fixed capacity, allocated once by wanem_new(); nothing is allocated per packet.
 *
 * Invariants:
 * - No reordering. A packet's release time is max(arrival + delay + jitter sample, the
 *   previous packet's release time in that direction), so the queue stays a FIFO and
 *   jitter stretches gaps instead of swapping packets. (netem reorders with jitter
 *   unless rate-limited; real WAN paths rarely do, and TCP misreads reordering as loss.)
 * - The rate limit is a token bucket applied at the head of the queue: a packet leaves at
 *   the later of its release time and the time its bits are in the bucket. A packet
 *   larger than the bucket leaves when the bucket is full, and the bucket goes negative.
 * - The queue limit (packets and bytes) counts every packet held, whether it waits for
 *   its delay or for tokens; a packet that would exceed it is tail-dropped.
 * - Each direction has its own parameters (a test may lose a SYN-ACK but not its SYN).
 *   wanem_set() gives both directions the same ones, wanem_set_dir() changes one and
 *   wanem_set_dirs() gives each its own; each replaces a direction's parameters at once.
 *   Delay, jitter, loss and outage apply to packets enqueued afterwards; the rate and
 *   queue limits apply at once (packets already held keep their release times).
 * - One PRNG serves both directions, so a seed repeats a run when the traffic repeats.
 *
 * Threads: one engine belongs to one thread; no locks.
 */
#ifndef TERN_TOOLS_TERNLAB_WANEM_ENGINE_H
#define TERN_TOOLS_TERNLAB_WANEM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum wanem_dir {
	WANEM_DIR_A_TO_B = 0,
	WANEM_DIR_B_TO_A = 1,
	WANEM_DIR_COUNT = 2,
};

/* Why the engine refused a packet: X(NAME, "kebab-name"), in the order they are checked. */
#define WANEM_DROP_LIST(X)                                                                         \
	X(OUTAGE, "outage")                                                                        \
	X(SYN_DATA, "syn-data")                                                                    \
	X(LOSS, "loss")                                                                            \
	X(BURST_LOSS, "burst-loss")                                                                \
	X(QUEUE_FULL, "queue-full")

/* The verdict of wanem_enqueue(): WANEM_QUEUED or the reason it was dropped. */
enum wanem_verdict {
	WANEM_QUEUED = 0,
#define WANEM_X_ENUM(name, text) WANEM_DROP_##name,
	WANEM_DROP_LIST(WANEM_X_ENUM)
#undef WANEM_X_ENUM
	WANEM_VERDICT_COUNT,
};

/* "queued", or the kebab name of a drop reason; "?" out of range. */
const char *wanem_verdict_name(enum wanem_verdict v);

enum wanem_jitter_dist {
	WANEM_JITTER_UNIFORM = 0, /* uniform over [-jitter, +jitter] */
	WANEM_JITTER_NORMAL = 1,  /* sum of 4 uniforms: bell-shaped, sigma ~ jitter/3.5, bounded */
};

/* Probabilities are in parts per million: 1000000 = 100%, 10000 = 1%. */
#define WANEM_PPM_ONE 1000000u

/* Upper bounds the parser and wanem_set() enforce. */
#define WANEM_DELAY_MAX_NS    (60ull * 1000000000ull)
#define WANEM_RATE_MAX_BPS    (400ull * 1000000000ull)
#define WANEM_RATE_BURST_MAX  (256u * 1024u * 1024u)
#define WANEM_QUEUE_BYTES_MAX (1ull << 40)
#define WANEM_FRAME_LEN_MAX   65535u
/* Bucket size when rate_burst_bytes is 0: 1 ms at the rate, and at least two frames. */
#define WANEM_RATE_BURST_MIN 3028u

/* Impairments of one direction. All zero: a perfect link. */
struct wanem_params {
	uint64_t delay_ns;
	uint64_t jitter_ns; /* each packet gets delay + a sample in [-jitter, +jitter], >= 0 */
	enum wanem_jitter_dist jitter_dist;
	uint32_t loss_ppm; /* independent random loss */
	/* Gilbert-Elliott bursty loss, on when burst_p_ppm > 0: in the good state a packet
	 * moves to bad with probability p, in bad back to good with r (mean burst 1/r
	 * packets); a packet in the bad state is lost with probability h. */
	uint32_t burst_p_ppm;
	uint32_t burst_r_ppm;
	uint32_t burst_h_ppm;
	uint64_t rate_bps;         /* 0: no rate limit */
	uint32_t rate_burst_bytes; /* bucket size; 0: the default above */
	uint32_t queue_packets;    /* 0: the engine's capacity */
	uint64_t queue_bytes;      /* 0: no byte limit */
	bool outage;               /* drop everything */
	/*
	 * A middlebox: drop TCP segments with SYN set that carry data (the frames the
	 * caller flags WANEM_FRAME_TCP_SYN_DATA), as some firewalls do to SVR SYNs.
	 */
	bool drop_syn_data;
};

/* What the caller found in a frame (wanem_enqueue_flags()). */
#define WANEM_FRAME_TCP_SYN_DATA 1u /* a TCP segment with SYN set and payload */

struct wanem_counters {
	uint64_t rx_packets; /* offered to wanem_enqueue() */
	uint64_t rx_bytes;
	uint64_t tx_packets; /* given back by wanem_dequeue_ready() */
	uint64_t tx_bytes;
	uint64_t drops[WANEM_VERDICT_COUNT]; /* by verdict; [WANEM_QUEUED] stays 0 */
	uint64_t drop_bytes;
	uint32_t queue_packets; /* held now */
	uint64_t queue_bytes;
};

struct wanem_config {
	uint32_t capacity; /* packets held per direction, 1..WANEM_CAPACITY_MAX */
	uint64_t seed;     /* of the engine's PRNG (jitter and loss draws) */
};

#define WANEM_CAPACITY_MAX (1u << 22)

struct wanem;

/* The perfect link: every field zero, so loss-free, no delay, no limits. */
void wanem_params_init(struct wanem_params *p);
/* true if a and b describe the same impairments. */
bool wanem_params_equal(const struct wanem_params *a, const struct wanem_params *b);
/*
 * Checks p against the bounds above and the engine capacity (capacity 0: skip that
 * check). Returns 0, -EINVAL for a value out of its range or -ERANGE for a queue limit
 * above the capacity.
 */
int wanem_params_check(const struct wanem_params *p, uint32_t capacity);

/*
 * Allocates an engine with the perfect-link parameters; *out is owned by the caller,
 * freed with wanem_free(). Returns 0, -EINVAL for a bad capacity, -ENOMEM.
 */
int wanem_new(const struct wanem_config *cfg, struct wanem **out);
/* Frees w (NULL is fine). Refs still held are forgotten: the caller owns their buffers. */
void wanem_free(struct wanem *w);
uint32_t wanem_capacity(const struct wanem *w);

/*
 * Replaces the parameters of both directions with p (see the header comment). Returns 0,
 * or -EINVAL/-ERANGE as wanem_params_check() and then nothing changed.
 */
int wanem_set(struct wanem *w, const struct wanem_params *p);
/* Replaces the parameters of dir only; errors as wanem_set(). */
int wanem_set_dir(struct wanem *w, enum wanem_dir dir, const struct wanem_params *p);
/*
 * Gives each direction its own parameters, p[WANEM_DIR_A_TO_B] and p[WANEM_DIR_B_TO_A],
 * both or neither: errors as wanem_set(), and then neither changed.
 */
int wanem_set_dirs(struct wanem *w, const struct wanem_params p[WANEM_DIR_COUNT]);
/* Copies dir's current parameters to *out. */
void wanem_get_dir(const struct wanem *w, enum wanem_dir dir, struct wanem_params *out);

/*
 * Offers a frame of len bytes (1..WANEM_FRAME_LEN_MAX) that arrived at now_ns. Returns
 * WANEM_QUEUED (the engine holds ref until wanem_dequeue_ready() returns it) or the
 * drop reason (the caller keeps ref). now_ns must not go backwards per direction.
 */
enum wanem_verdict wanem_enqueue(struct wanem *w, enum wanem_dir dir, uint32_t ref, uint32_t len,
    uint64_t now_ns);
/*
 * As wanem_enqueue() for a frame the caller has looked into: flags (WANEM_FRAME_*) say
 * what it is, for the impairments that depend on content (drop_syn_data, checked after
 * the outage and before the losses, so it draws nothing from the PRNG).
 */
enum wanem_verdict wanem_enqueue_flags(struct wanem *w, enum wanem_dir dir, uint32_t ref,
    uint32_t len, uint32_t flags, uint64_t now_ns);

/*
 * Moves up to max packets that are due at now_ns out of the queue, in arrival order,
 * into refs[] (and their lengths into lens[] if not NULL). Returns how many; the caller
 * owns them again.
 */
size_t wanem_dequeue_ready(struct wanem *w, enum wanem_dir dir, uint64_t now_ns, uint32_t *refs,
    uint32_t *lens, size_t max);

/*
 * When the head of dir's queue is due (release time and tokens), in ns; UINT64_MAX
 * when the queue is empty. For the caller's poll timeout.
 */
uint64_t wanem_next_deadline(const struct wanem *w, enum wanem_dir dir);

/*
 * Empties dir's queue into refs[] (up to max per call, oldest first) without counting
 * them as sent, e.g. to return buffers at exit. Returns how many.
 */
size_t wanem_flush(struct wanem *w, enum wanem_dir dir, uint32_t *refs, size_t max);

void wanem_counters_get(const struct wanem *w, enum wanem_dir dir, struct wanem_counters *out);

#endif
