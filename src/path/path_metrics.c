/* MOS, jitter and the loss window (path_metrics.h). */
#include "path/path_metrics.h"

#include <string.h>

/* A transit difference beyond this is a clock step, not jitter; it is capped. */
#define JITTER_D_MAX_NS (10ull * 1000000000ull)

double
path_mos(double latency_us, double jitter_us, double loss_pct)
{
	double eff_ms = latency_us / 1000.0 + 2.0 * jitter_us / 1000.0 + 10.0;
	double r, mos;

	if (eff_ms < 160.0)
		r = 93.2 - eff_ms / 40.0;
	else
		r = 93.2 - (eff_ms - 120.0) / 10.0;
	r -= 2.5 * loss_pct;
	if (r < 0.0)
		r = 0.0;
	if (r > 100.0)
		r = 100.0;
	mos = 1.0 + 0.035 * r + 7e-6 * r * (r - 60.0) * (100.0 - r);
	/* The cubic dips just below 1 for R under ~6.5; MOS is defined on 1..4.5. */
	return mos < 1.0 ? 1.0 : mos > 4.5 ? 4.5 : mos;
}

void
path_jitter_add(struct path_jitter *j, uint64_t tx_ns, uint64_t rx_ns)
{
	if (j->have_prev) {
		/* Unsigned wrap then sign: the difference of two transit times. */
		uint64_t d = (rx_ns - j->prev_rx_ns) - (tx_ns - j->prev_tx_ns);
		uint64_t abs_d = (d >> 63) ? -d : d;

		if (abs_d > JITTER_D_MAX_NS)
			abs_d = JITTER_D_MAX_NS;
		/* RFC 3550 A.8, J kept scaled by 16. */
		j->j16_ns += abs_d - ((j->j16_ns + 8) >> 4);
	}
	j->have_prev = true;
	j->prev_tx_ns = tx_ns;
	j->prev_rx_ns = rx_ns;
}

uint64_t
path_jitter_ns(const struct path_jitter *j)
{
	return j->j16_ns >> 4;
}

void
path_loss_reset(struct path_loss *l)
{
	memset(l, 0, sizeof(*l));
}

static void
loss_record(struct path_loss *l, uint32_t seq, uint32_t count)
{
	unsigned slot = seq % PATH_LOSS_WINDOW_MAX;

	l->seq[slot] = seq;
	l->count[slot] = count;
	l->used[slot] = true;
	l->have_last = true;
	l->last_seq = seq;
	l->last_count = count;
}

void
path_loss_report(struct path_loss *l, uint32_t echo_seq, uint32_t rx_count)
{
	if (l->have_last) {
		uint32_t ds = echo_seq - l->last_seq;
		uint32_t dc = rx_count - l->last_count;

		if (ds == 0 || ds > UINT32_MAX / 2)
			return; /* not newer */
		/* The peer counts backwards or more than we sent: it started over. */
		if (rx_count < l->last_count || dc > ds)
			path_loss_reset(l);
	}
	loss_record(l, echo_seq, rx_count);
}

double
path_loss_pct(const struct path_loss *l, uint32_t window, uint32_t unanswered)
{
	uint32_t back, sent, lost;

	if (!l->have_last)
		return 0.0;
	if (window == 0)
		window = 1;
	if (window > PATH_LOSS_WINDOW_MAX)
		window = PATH_LOSS_WINDOW_MAX;
	if (unanswered >= window)
		return 100.0;
	/* The oldest remembered report inside the window. */
	for (back = window - unanswered; back > 0; back--) {
		uint32_t s = l->last_seq - back;
		unsigned slot = s % PATH_LOSS_WINDOW_MAX;

		if (l->used[slot] && l->seq[slot] == s)
			break;
	}
	if (back == 0) {
		if (unanswered == 0)
			return 0.0;
		/* Only the newest report: it was answered, the rest were not. */
		return 100.0 * unanswered / (unanswered + 1);
	}
	sent = back + unanswered;
	lost = back - (l->last_count - l->count[(l->last_seq - back) % PATH_LOSS_WINDOW_MAX]) +
	    unanswered;
	if (lost > sent)
		lost = 0; /* cannot happen: path_loss_report() resets first */
	return 100.0 * lost / sent;
}
