/*
 * Path quality arithmetic (svr-profile section 7): the simplified ITU-T G.107 E-model
 * MOS, the RFC 3550 interarrival jitter estimator, and the loss window that turns the
 * peer's echoes and receive counters into the loss of our own probes.
 *
 * Loss method (docs/protocol.md, "Path probes"): every probe of the peer reports the
 * highest sequence s of ours it accepted and how many of ours it accepted in all, c.
 * We remember c per reported s in a ring of the last PATH_LOSS_WINDOW_MAX sequences.
 * Over a window of n probes ending at the newest report (s1, c1), with the oldest
 * remembered report (s0, c0) at or after s1 - n: lost = (s1 - s0) - (c1 - c0), and
 * loss = lost / (s1 - s0). Probes that are still in flight are never counted lost,
 * because the window ends at a sequence the peer has already answered. When our
 * probes stop arriving while the peer's still do, the peer keeps reporting the same
 * s1; the probes sent since then that are older than one round trip plus two
 * intervals count as lost as well (path_loss_pct()'s unanswered argument).
 *
 * Threads: pure functions and caller-owned values.
 */
#ifndef TERN_PATH_PATH_METRICS_H
#define TERN_PATH_PATH_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#define PATH_LOSS_WINDOW_MAX 256

/*
 * MOS for a one-way latency, jitter (both us) and loss (percent), clamped to 1..4.5 (the
 * cubic dips below 1 for R under about 6.5). A clean path: 4.40.
 */
double path_mos(double latency_us, double jitter_us, double loss_pct);

/*
 * RFC 3550 section 6.4.1: J += (|D| - J) / 16, D the difference of the transit times
 * of two consecutive probes. Kept in ns, x16 for precision.
 */
struct path_jitter {
	bool have_prev;
	uint64_t prev_tx_ns, prev_rx_ns;
	uint64_t j16_ns; /* 16 * J */
};

void path_jitter_add(struct path_jitter *j, uint64_t tx_ns, uint64_t rx_ns);
uint64_t path_jitter_ns(const struct path_jitter *j);

struct path_loss {
	uint32_t seq[PATH_LOSS_WINDOW_MAX]; /* the reported sequence held by the slot */
	uint32_t count[PATH_LOSS_WINDOW_MAX];
	bool used[PATH_LOSS_WINDOW_MAX];
	bool have_last;
	uint32_t last_seq, last_count; /* the newest report */
};

void path_loss_reset(struct path_loss *l);
/*
 * The peer reports (echo_seq, rx_count). Reports older than the newest are ignored; a
 * receive counter that went backwards (the peer re-created the path) resets the ring.
 */
void path_loss_report(struct path_loss *l, uint32_t echo_seq, uint32_t rx_count);
/*
 * Loss in percent over the window (1..PATH_LOSS_WINDOW_MAX probes), counting also
 * unanswered probes of ours sent after the newest report that should have been
 * answered by now. 0 without reports.
 */
double path_loss_pct(const struct path_loss *l, uint32_t window, uint32_t unanswered);

#endif
