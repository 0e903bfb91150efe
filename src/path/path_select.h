/*
 * Path selection for a new session (svr-profile section 7): given a service policy and
 * the quality of each path to the peer, choose one path and record why.
 *
 * The rules, in order:
 * 1. Paths that are not up are out (verdict DOWN).
 * 2. Each remaining path is checked against the SLA limits in the order latency,
 *    jitter, loss, MOS; the first limit it breaks is recorded with the measured value
 *    and the limit (verdict BREAKS_SLA).
 * 3. Among the paths that meet the SLA the lowest cost wins; costlier ones get
 *    COSTLIER.
 * 4. Several paths at the lowest cost: quality breaks the tie. The paths whose MOS is
 *    within PATH_SELECT_MOS_TOLERANCE of the best MOS stay; of those, the paths whose
 *    latency is within PATH_SELECT_LATENCY_TOLERANCE_US of the lowest latency stay;
 *    the others get WORSE_QUALITY. Tolerances keep measurement noise from steering
 *    traffic: a 0.05 MOS or 2 ms difference is not a better path.
 * 5. Still several paths: load is shared per session by rendezvous hashing on
 *    flow_hash (the same hash over the same equal set gives the same path; a path that
 *    joins or leaves the set moves only the sessions that hash to it). The others get
 *    LOAD_SHARED_ELSEWHERE.
 * 6. No up path meets the SLA: with PATH_NO_PATH_BEST_EFFORT the path of best quality
 *    is chosen (quality first, because the SLA already failed: highest MOS within the
 *    tolerance, then lowest latency within the tolerance, then lowest cost, then the
 *    flow hash), reason BEST_EFFORT; with PATH_NO_PATH_DROP the result is -ENETUNREACH.
 * 7. No path up at all: -EHOSTUNREACH.
 *
 * For PATH_RESILIENCY_DUPLICATE the choice also names a second path: the next path the
 * same rules would choose with the first one removed.
 *
 * Everything here is a pure function over caller-owned values: no allocation, no I/O,
 * callable from any thread. Cost: O(n) per selection for n <= PATH_SELECT_CANDIDATES_MAX.
 */
#ifndef TERN_PATH_PATH_SELECT_H
#define TERN_PATH_PATH_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Most candidates one selection considers (and records a verdict for). */
#define PATH_SELECT_CANDIDATES_MAX 16
/* Largest vector cost. */
#define PATH_SELECT_COST_MAX 1000000u
/* Two MOS values closer than this are equal quality. */
#define PATH_SELECT_MOS_TOLERANCE 0.1
/* Two latencies closer than this (microseconds) are equal quality. */
#define PATH_SELECT_LATENCY_TOLERANCE_US 5000u
/* Shortest buffer path_choice_format() fills without cutting for 16 candidates. */
#define PATH_CHOICE_TEXT_MAX 2048

/*
 * What happens to sessions when their path fails (service policy "resiliency"). Failover
 * is 0 so that a zeroed policy is the default one.
 */
enum path_resiliency {
	PATH_RESILIENCY_FAILOVER = 0,            /* move when the path dies or breaks the SLA */
	PATH_RESILIENCY_NONE = 1,                /* sessions never move */
	PATH_RESILIENCY_REVERTIBLE_FAILOVER = 2, /* also move back to a preferred path */
	PATH_RESILIENCY_DUPLICATE = 3,           /* send over two paths; moves as revertible */
};

/* What a session gets when no up path meets the SLA (service policy "no_path"). */
enum path_no_path {
	PATH_NO_PATH_BEST_EFFORT = 0, /* the best-quality up path */
	PATH_NO_PATH_DROP = 1,        /* no path: the session is refused */
};

/* The SLA limits, in the order they are checked. */
enum path_sla_limit {
	PATH_SLA_NONE = 0, /* meets every limit */
	PATH_SLA_MAX_LATENCY = 1,
	PATH_SLA_MAX_JITTER = 2,
	PATH_SLA_MAX_LOSS = 3,
	PATH_SLA_MIN_MOS = 4,
};

/* The cost of one vector label (borrowed: the name belongs to the caller's config). */
struct path_vector_cost {
	const char *vector;
	uint32_t cost; /* 0..PATH_SELECT_COST_MAX */
};

/*
 * A service policy as path selection sees it. A zeroed struct is "no SLA, every path
 * costs 0, failover, best effort".
 */
struct path_select_policy {
	uint32_t max_latency_us; /* 0: no limit */
	uint32_t max_jitter_us;  /* 0: no limit */
	bool has_max_loss;       /* false: no loss limit */
	double max_loss_pct;     /* 0..100; a path with more loss breaks the SLA */
	double min_mos;          /* 0: no limit; else 1.0..4.5 */
	const struct path_vector_cost *vector_costs; /* borrowed, vector_cost_count entries */
	size_t vector_cost_count;
	uint32_t default_cost; /* paths without a listed vector */
	uint8_t resiliency;    /* enum path_resiliency */
	uint8_t no_path;       /* enum path_no_path */
};

/* One path's state at selection time, filled by the caller. */
struct path_candidate {
	uint32_t path_id; /* the caller's id (router_config path id); opaque here */
	bool up;
	uint32_t latency_us; /* one way (half the round trip) */
	uint32_t jitter_us;
	double loss_pct; /* 0..100 */
	double mos;      /* 1.0..4.5 */
	uint32_t cost;   /* from path_select_cost() */
};

enum path_verdict_kind {
	PATH_VERDICT_DOWN = 1,
	PATH_VERDICT_BREAKS_SLA = 2,            /* limit, value, limit_value say which */
	PATH_VERDICT_COSTLIER = 3,              /* meets the SLA, cost above the chosen */
	PATH_VERDICT_WORSE_QUALITY = 4,         /* same cost, lost the quality tie-break */
	PATH_VERDICT_LOAD_SHARED_ELSEWHERE = 5, /* equal to the chosen; the hash chose another */
	PATH_VERDICT_CHOSEN = 6,
};

/* Why the chosen path won. */
enum path_reason {
	PATH_REASON_SLA_MET_LOWEST_COST = 1,   /* the only path at the lowest cost */
	PATH_REASON_TIE_BROKEN_BY_QUALITY = 2, /* same lowest cost; better quality */
	PATH_REASON_LOAD_SHARED = 3,           /* equal paths; the flow hash chose */
	PATH_REASON_BEST_EFFORT = 4,           /* no path meets the SLA; best quality */
};

struct path_verdict {
	uint32_t path_id;
	uint8_t kind;       /* enum path_verdict_kind */
	uint8_t limit;      /* enum path_sla_limit: the first limit broken, or NONE */
	double value;       /* the measured value that broke it (us for latency/jitter, %, MOS) */
	double limit_value; /* the limit, same unit */
	uint32_t cost;
	double mos;
	uint32_t latency_us;
};

/* The decision for one session, kept with it for `ternctl show session`. */
struct path_choice {
	int result;          /* what path_select() returned */
	uint32_t path_id;    /* the chosen path's path_id */
	uint32_t index;      /* its index in the candidates */
	uint8_t reason;      /* enum path_reason */
	bool sla_met;        /* false only with PATH_REASON_BEST_EFFORT */
	uint8_t equal_count; /* paths the load was shared over (1 when not shared) */
	bool has_second;     /* PATH_RESILIENCY_DUPLICATE with a second up path */
	uint32_t second_path_id;
	uint32_t second_index;
	uint32_t count; /* verdicts[0..count): one per candidate, in candidate order */
	struct path_verdict verdicts[PATH_SELECT_CANDIDATES_MAX];
};

/*
 * The cost of a path whose WAN carries the nvec labels in vectors: the lowest cost of
 * those labels listed in pol->vector_costs, or pol->default_cost when none is listed
 * (and when nvec is 0).
 */
uint32_t path_select_cost(const struct path_select_policy *pol, const char *const *vectors,
    size_t nvec);

/*
 * The first SLA limit cand breaks (enum path_sla_limit), PATH_SLA_NONE when it meets
 * them all. value and limit_value (either may be NULL) get the measurement and the
 * limit. Does not look at cand->up.
 */
uint8_t path_select_sla_check(const struct path_select_policy *pol,
    const struct path_candidate *cand, double *value, double *limit_value);

/*
 * Chooses a path among the n candidates for a session whose flow hash is flow_hash
 * and fills *out (always: verdicts are recorded even on failure, for the explanation).
 * Returns 0, -EHOSTUNREACH (no candidate up), -ENETUNREACH (none meets the SLA and the
 * policy drops), or -E2BIG (n > PATH_SELECT_CANDIDATES_MAX; *out then holds nothing).
 * n == 0 gives -EHOSTUNREACH.
 */
int path_select(const struct path_select_policy *pol, const struct path_candidate *cands, size_t n,
    uint64_t flow_hash, struct path_choice *out);

/*
 * Writes the operator's explanation of choice into buf (len bytes, always
 * NUL-terminated when len > 0), e.g. "considered 2 paths: wan0 breaks max-latency
 * (212 ms > 150 ms); lte meets the SLA at cost 100: chosen". path_names[i] names
 * candidate i (path_names or an entry may be NULL: "path <path_id>"). A refused session
 * (choice->result < 0) is explained too. Returns the length of the full text (like
 * snprintf; >= len means it was cut).
 */
int path_choice_format(const struct path_choice *choice, const char *const *path_names, char *buf,
    size_t len);

/*
 * Whether a session on current should move to a new path, given a fresh choice made
 * for it (path_select() with the session's flow hash, returned 0):
 * - PATH_RESILIENCY_NONE: never;
 * - current down: yes (when the choice is another path);
 * - current breaks the SLA: yes when the choice meets it;
 * - PATH_RESILIENCY_FAILOVER: otherwise stay;
 * - PATH_RESILIENCY_REVERTIBLE_FAILOVER and DUPLICATE: also move when the choice is
 *   strictly preferred: cheaper, or of the same cost and better quality beyond the
 *   tolerances. A choice that differs only by load sharing does not move a session.
 */
bool path_select_should_move(const struct path_select_policy *pol,
    const struct path_candidate *current, const struct path_choice *choice);

#endif
