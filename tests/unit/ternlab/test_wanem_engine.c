/* Unit tests of the ternlab-wanem impairment engine, driven by a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_rand.h"
#include "wanem_engine.h"

#define MS 1000000ull
#define US 1000ull

static struct wanem *
engine_new(uint32_t capacity, uint64_t seed)
{
	struct wanem_config cfg = {.capacity = capacity, .seed = seed};
	struct wanem *w = NULL;

	assert_int_equal(wanem_new(&cfg, &w), 0);
	assert_non_null(w);
	return w;
}

static void
engine_set(struct wanem *w, const struct wanem_params *p)
{
	assert_int_equal(wanem_set(w, p), 0);
}

static void
test_wanem_new_bad_capacity_rejected(void **state)
{
	struct wanem_config cfg = {.capacity = 0};
	struct wanem *w = (struct wanem *)&cfg;

	(void)state;
	assert_int_equal(wanem_new(&cfg, &w), -EINVAL);
	assert_null(w);
	cfg.capacity = WANEM_CAPACITY_MAX + 1;
	assert_int_equal(wanem_new(&cfg, &w), -EINVAL);
	wanem_free(NULL);
}

static void
test_wanem_enqueue_perfect_link_immediate(void **state)
{
	struct wanem *w = engine_new(8, 1);
	uint32_t refs[8], lens[8];

	(void)state;
	assert_int_equal(wanem_next_deadline(w, WANEM_DIR_A_TO_B), UINT64_MAX);
	assert_int_equal(wanem_enqueue(w, WANEM_DIR_A_TO_B, 7, 100, 5000), WANEM_QUEUED);
	assert_int_equal(wanem_next_deadline(w, WANEM_DIR_A_TO_B), 5000);
	assert_int_equal(wanem_dequeue_ready(w, WANEM_DIR_B_TO_A, 5000, refs, lens, 8), 0);
	assert_int_equal(wanem_dequeue_ready(w, WANEM_DIR_A_TO_B, 5000, refs, lens, 8), 1);
	assert_int_equal(refs[0], 7);
	assert_int_equal(lens[0], 100);
	wanem_free(w);
}

static void
test_wanem_dequeue_delay_exact(void **state)
{
	struct wanem *w = engine_new(64, 1);
	struct wanem_params p;
	struct wanem_counters c;
	uint32_t refs[64];
	uint64_t t0 = 123456789;

	(void)state;
	wanem_params_init(&p);
	p.delay_ns = 40 * MS;
	engine_set(w, &p);
	for (uint32_t i = 0; i < 10; i++)
		assert_int_equal(wanem_enqueue(w, WANEM_DIR_B_TO_A, i, 1000, t0 + i * US),
		    WANEM_QUEUED);
	assert_int_equal(wanem_next_deadline(w, WANEM_DIR_B_TO_A), t0 + 40 * MS);
	assert_int_equal(wanem_dequeue_ready(w, WANEM_DIR_B_TO_A, t0 + 40 * MS - 1, refs, NULL, 64),
	    0);
	for (uint32_t i = 0; i < 10; i++) {
		uint64_t due = t0 + i * US + 40 * MS;

		assert_int_equal(wanem_next_deadline(w, WANEM_DIR_B_TO_A), due);
		assert_int_equal(wanem_dequeue_ready(w, WANEM_DIR_B_TO_A, due, refs, NULL, 64), 1);
		assert_int_equal(refs[0], i);
	}
	wanem_counters_get(w, WANEM_DIR_B_TO_A, &c);
	assert_int_equal(c.rx_packets, 10);
	assert_int_equal(c.tx_packets, 10);
	assert_int_equal(c.tx_bytes, 10000);
	assert_int_equal(c.queue_packets, 0);
	wanem_free(w);
}

/*
 * Runs n packets spaced gap apart through a 10 ms +- 5 ms link; checks order and bounds.
 * Returns the mean and standard deviation of the extra time each packet spent.
 */
static void
jitter_run(enum wanem_jitter_dist dist, uint64_t gap, double *mean, double *sd)
{
	const uint64_t delay = 10 * MS, jitter = 5 * MS;
	const uint32_t n = 20000;
	struct wanem *w = engine_new(n, 42);
	struct wanem_params p;
	uint32_t refs[256];
	uint32_t next = 0, enq = 0;
	uint64_t now = 0;
	double sum = 0, sum2 = 0;

	wanem_params_init(&p);
	p.delay_ns = delay;
	p.jitter_ns = jitter;
	p.jitter_dist = dist;
	engine_set(w, &p);
	while (next < n) {
		uint64_t arrival = (uint64_t)enq * gap;
		uint64_t deadline = wanem_next_deadline(w, WANEM_DIR_A_TO_B);

		if (enq < n && arrival <= deadline) {
			now = arrival;
			assert_int_equal(wanem_enqueue(w, WANEM_DIR_A_TO_B, enq, 100, now),
			    WANEM_QUEUED);
			enq++;
			continue;
		}
		assert_true(deadline >= now);
		now = deadline;
		size_t got = wanem_dequeue_ready(w, WANEM_DIR_A_TO_B, now, refs, NULL, 256);

		assert_true(got >= 1);
		for (size_t i = 0; i < got; i++) {
			uint64_t extra = now - (uint64_t)refs[i] * gap;

			assert_int_equal(refs[i], next); /* no reordering */
			next++;
			assert_true(extra >= delay - jitter);
			assert_true(extra <= delay + jitter);
			sum += (double)extra;
			sum2 += (double)extra * (double)extra;
		}
	}
	*mean = sum / n;
	*sd = sqrt(sum2 / n - *mean * *mean);
	wanem_free(w);
}

static void
test_wanem_dequeue_uniform_jitter_bounded_in_order(void **state)
{
	double mean, sd;

	(void)state;
	/* Packets further apart than the jitter range never wait for each other: the
	 * samples show through unchanged (uniform over +-5 ms: sd 5/sqrt(3) ms). */
	jitter_run(WANEM_JITTER_UNIFORM, 11 * MS, &mean, &sd);
	printf("# uniform, sparse: mean %.3f ms sd %.3f ms\n", mean / MS, sd / MS);
	assert_true(fabs(mean - 10 * MS) < 0.1 * MS);
	assert_true(fabs(sd - 5 * MS / sqrt(3)) < 0.05 * 5 * MS / sqrt(3));
	/* Dense traffic: a packet waits for the latest of those before it, so the extra
	 * time moves toward delay + jitter (the price of no reordering). */
	jitter_run(WANEM_JITTER_UNIFORM, 100 * US, &mean, &sd);
	printf("# uniform, dense: mean %.3f ms sd %.3f ms\n", mean / MS, sd / MS);
	assert_true(mean > 13 * MS);
}

static void
test_wanem_dequeue_normal_jitter_bounded_in_order(void **state)
{
	double mean, sd;

	(void)state;
	/* Irwin-Hall of 4: sd = jitter / sqrt(12). */
	jitter_run(WANEM_JITTER_NORMAL, 11 * MS, &mean, &sd);
	printf("# normal, sparse: mean %.3f ms sd %.3f ms\n", mean / MS, sd / MS);
	assert_true(fabs(mean - 10 * MS) < 0.1 * MS);
	assert_true(fabs(sd - 5 * MS / sqrt(12)) < 0.05 * 5 * MS / sqrt(12));
	jitter_run(WANEM_JITTER_NORMAL, 100 * US, &mean, &sd);
	printf("# normal, dense: mean %.3f ms sd %.3f ms\n", mean / MS, sd / MS);
}

static void
test_wanem_enqueue_jitter_larger_than_delay_never_early(void **state)
{
	struct wanem *w = engine_new(16, 3);
	struct wanem_params p;
	uint32_t refs[16];

	(void)state;
	wanem_params_init(&p);
	p.delay_ns = 1 * MS;
	p.jitter_ns = 5 * MS;
	engine_set(w, &p);
	for (uint32_t i = 0; i < 16; i++)
		assert_int_equal(wanem_enqueue(w, WANEM_DIR_A_TO_B, i, 60, 1000), WANEM_QUEUED);
	assert_true(wanem_next_deadline(w, WANEM_DIR_A_TO_B) >= 1000);
	assert_int_equal(wanem_dequeue_ready(w, WANEM_DIR_A_TO_B, 1000 + 6 * MS, refs, NULL, 16),
	    16);
	wanem_free(w);
}

static void
test_wanem_enqueue_random_loss_rate(void **state)
{
	const uint32_t n = 100000;
	struct wanem *w = engine_new(4, 2024);
	struct wanem_params p;
	struct wanem_counters c;
	uint32_t refs[4];
	double mean = n * 0.02, sigma = sqrt(n * 0.02 * 0.98);

	(void)state;
	wanem_params_init(&p);
	p.loss_ppm = 20000; /* 2% */
	engine_set(w, &p);
	for (uint32_t i = 0; i < n; i++) {
		enum wanem_verdict v = wanem_enqueue(w, WANEM_DIR_A_TO_B, i, 1400, i);

		assert_true(v == WANEM_QUEUED || v == WANEM_DROP_LOSS);
		wanem_dequeue_ready(w, WANEM_DIR_A_TO_B, i, refs, NULL, 4);
	}
	wanem_counters_get(w, WANEM_DIR_A_TO_B, &c);
	printf("# loss: %llu of %u (expected %.0f +- %.0f)\n",
	    (unsigned long long)c.drops[WANEM_DROP_LOSS], n, mean, sigma);
	assert_true(fabs((double)c.drops[WANEM_DROP_LOSS] - mean) < 5 * sigma);
	assert_int_equal(c.tx_packets + c.drops[WANEM_DROP_LOSS], n);
	assert_int_equal(c.drop_bytes, c.drops[WANEM_DROP_LOSS] * 1400);
	wanem_free(w);
}

static void
test_wanem_enqueue_loss_extremes(void **state)
{
	struct wanem *w = engine_new(1000, 5);
	struct wanem_params p;

	(void)state;
	wanem_params_init(&p);
	p.loss_ppm = WANEM_PPM_ONE;
	engine_set(w, &p);
	for (uint32_t i = 0; i < 1000; i++)
		assert_int_equal(wanem_enqueue(w, WANEM_DIR_A_TO_B, i, 64, i), WANEM_DROP_LOSS);
	p.loss_ppm = 0;
	engine_set(w, &p);
	for (uint32_t i = 0; i < 1000; i++)
		assert_int_equal(wanem_enqueue(w, WANEM_DIR_A_TO_B, i, 64, 1000 + i), WANEM_QUEUED);
	wanem_free(w);
}

static void
test_wanem_enqueue_gilbert_elliott_mean_burst(void **state)
{
	const uint32_t n = 1000000;
	struct wanem *w = engine_new(4, 77);
	struct wanem_params p;
	struct wanem_counters c;
	uint32_t refs[4];
	uint64_t bursts = 0, lost = 0;
	bool in_burst = false;
	double mean_burst, loss_frac, want_frac = 0.01 / (0.01 + 0.30);

	(void)state;
	wanem_params_init(&p);
	p.burst_p_ppm = 10000;  /* 1% */
	p.burst_r_ppm = 300000; /* 30%: mean burst 3.33 packets */
	p.burst_h_ppm = WANEM_PPM_ONE;
	engine_set(w, &p);
	for (uint32_t i = 0; i < n; i++) {
		enum wanem_verdict v = wanem_enqueue(w, WANEM_DIR_B_TO_A, i, 100, i);

		if (v == WANEM_DROP_BURST_LOSS) {
			lost++;
			if (!in_burst)
				bursts++;
			in_burst = true;
		} else {
			assert_int_equal(v, WANEM_QUEUED);
			in_burst = false;
			assert_int_equal(wanem_dequeue_ready(w, WANEM_DIR_B_TO_A, i, refs, NULL, 4),
			    1);
		}
	}
	wanem_counters_get(w, WANEM_DIR_B_TO_A, &c);
	assert_int_equal(c.drops[WANEM_DROP_BURST_LOSS], lost);
	mean_burst = (double)lost / (double)bursts;
	loss_frac = (double)lost / n;
	printf("# burst loss: %llu lost in %llu bursts, mean %.3f (want 3.333), loss %.4f (want "
	       "%.4f)\n",
	    (unsigned long long)lost, (unsigned long long)bursts, mean_burst, loss_frac, want_frac);
	assert_true(fabs(mean_burst - 1 / 0.30) < 0.05 * (1 / 0.30));
	assert_true(fabs(loss_frac - want_frac) < 0.05 * want_frac);
	wanem_free(w);
}

/* Offers 1400-byte packets at twice the rate for 1.5 s; counts what leaves in [0, 1 s]. */
static void
rate_run(uint64_t rate_bps)
{
	const uint32_t len = 1400;
	const uint64_t gap = (uint64_t)len * 8 * 1000000000ull / (2 * rate_bps);
	const uint64_t end = 1500 * MS;
	struct wanem *w = engine_new(1u << 20, 9);
	struct wanem_params p;
	struct wanem_counters c;
	uint32_t refs[64];
	uint64_t now = 0, arrivals = 0, sent_bits = 0;
	double got;

	wanem_params_init(&p);
	p.rate_bps = rate_bps;
	p.delay_ns = 20 * MS;
	engine_set(w, &p);
	for (;;) {
		uint64_t arrival = arrivals * gap;
		uint64_t deadline = wanem_next_deadline(w, WANEM_DIR_A_TO_B);

		if (arrival <= deadline && arrival < end) {
			now = arrival;
			assert_int_equal(wanem_enqueue(w, WANEM_DIR_A_TO_B, (uint32_t)arrivals, len,
			                     now),
			    WANEM_QUEUED);
			arrivals++;
			continue;
		}
		if (deadline > end)
			break;
		assert_true(deadline >= now);
		now = deadline;
		/* The deadline is exact: nothing a nanosecond before, something at it. */
		if (now > 0)
			assert_int_equal(wanem_dequeue_ready(w, WANEM_DIR_A_TO_B, now - 1, refs,
			                     NULL, 64),
			    0);
		size_t got_n = wanem_dequeue_ready(w, WANEM_DIR_A_TO_B, now, refs, NULL, 64);

		assert_true(got_n >= 1);
		if (now > 200 * MS && now <= 1200 * MS)
			sent_bits += got_n * len * 8;
	}
	/* Bits that left in one second of steady state, after the first burst. */
	got = (double)sent_bits;
	printf("# rate %llu bit/s: %.0f bits in 1 s (%.3f%%)\n", (unsigned long long)rate_bps, got,
	    100.0 * (got - (double)rate_bps) / (double)rate_bps);
	assert_true(fabs(got - (double)rate_bps) < 0.01 * (double)rate_bps);
	wanem_counters_get(w, WANEM_DIR_A_TO_B, &c);
	assert_int_equal(c.rx_packets, c.tx_packets + c.queue_packets);
	wanem_free(w);
}

static void
test_wanem_dequeue_rate_limit_throughput(void **state)
{
	(void)state;
	rate_run(20000000ull);   /* 20 mbit */
	rate_run(1000000000ull); /* 1 gbit */
	rate_run(2000000ull);    /* 2 mbit */
}

static void
test_wanem_dequeue_oversized_packet_passes_full_bucket(void **state)
{
	struct wanem *w = engine_new(8, 1);
	struct wanem_params p;
	uint32_t refs[8];
	uint64_t d;

	(void)state;
	wanem_params_init(&p);
	p.rate_bps = 8000000; /* 1 byte per us */
	p.rate_burst_bytes = 1000;
	engine_set(w, &p);
	assert_int_equal(wanem_enqueue(w, WANEM_DIR_A_TO_B, 1, 9000, 0), WANEM_QUEUED);
	assert_int_equal(wanem_enqueue(w, WANEM_DIR_A_TO_B, 2, 1000, 0), WANEM_QUEUED);
	assert_int_equal(wanem_dequeue_ready(w, WANEM_DIR_A_TO_B, 0, refs, NULL, 8), 1);
	/* The bucket is 8000 bytes in debt: the next 1000 bytes wait 9 ms. */
	d = wanem_next_deadline(w, WANEM_DIR_A_TO_B);
	assert_int_equal(d, 9 * MS);
	assert_int_equal(wanem_dequeue_ready(w, WANEM_DIR_A_TO_B, d, refs, NULL, 8), 1);
	assert_int_equal(refs[0], 2);
	wanem_free(w);
}

static void
test_wanem_enqueue_queue_full_dropped(void **state)
{
	struct wanem *w = engine_new(64, 1);
	struct wanem_params p;
	struct wanem_counters c;
	uint32_t refs[64];

	(void)state;
	wanem_params_init(&p);
	p.delay_ns = 1 * MS;
	p.queue_packets = 10;
	engine_set(w, &p);
	for (uint32_t i = 0; i < 15; i++)
		assert_int_equal(wanem_enqueue(w, WANEM_DIR_A_TO_B, i, 500, 0),
		    i < 10 ? WANEM_QUEUED : WANEM_DROP_QUEUE_FULL);
	wanem_counters_get(w, WANEM_DIR_A_TO_B, &c);
	assert_int_equal(c.drops[WANEM_DROP_QUEUE_FULL], 5);
	assert_int_equal(c.queue_packets, 10);
	assert_int_equal(c.queue_bytes, 5000);
	assert_int_equal(wanem_dequeue_ready(w, WANEM_DIR_A_TO_B, 1 * MS, refs, NULL, 64), 10);

	/* A byte limit: three 1000-byte packets fit in 3000 bytes, the fourth does not. */
	p.queue_packets = 0;
	p.queue_bytes = 3000;
	engine_set(w, &p);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(wanem_enqueue(w, WANEM_DIR_A_TO_B, i, 1000, 2 * MS),
		    i < 3 ? WANEM_QUEUED : WANEM_DROP_QUEUE_FULL);

	/* The engine's capacity is the limit when none is set. */
	p.queue_bytes = 0;
	engine_set(w, &p);
	for (uint32_t i = 3; i < 70; i++)
		assert_int_equal(wanem_enqueue(w, WANEM_DIR_A_TO_B, i, 1000, 2 * MS),
		    i < 64 ? WANEM_QUEUED : WANEM_DROP_QUEUE_FULL);
	wanem_free(w);
}

static void
test_wanem_enqueue_outage_drops_all(void **state)
{
	struct wanem *w = engine_new(64, 1);
	struct wanem_params p;
	struct wanem_counters c;

	(void)state;
	wanem_params_init(&p);
	p.outage = true;
	engine_set(w, &p);
	for (uint32_t i = 0; i < 20; i++) {
		assert_int_equal(wanem_enqueue(w, WANEM_DIR_A_TO_B, i, 100, i), WANEM_DROP_OUTAGE);
		assert_int_equal(wanem_enqueue(w, WANEM_DIR_B_TO_A, i, 100, i), WANEM_DROP_OUTAGE);
	}
	wanem_counters_get(w, WANEM_DIR_B_TO_A, &c);
	assert_int_equal(c.drops[WANEM_DROP_OUTAGE], 20);
	assert_int_equal(c.tx_packets, 0);
	p.outage = false;
	engine_set(w, &p);
	assert_int_equal(wanem_enqueue(w, WANEM_DIR_A_TO_B, 99, 100, 100), WANEM_QUEUED);
	wanem_free(w);
}

/* The middlebox drops flagged frames only, in the direction it is on, drawing nothing. */
static void
test_wanem_enqueue_drop_syn_data(void **state)
{
	struct wanem *w = engine_new(64, 1);
	struct wanem_params p;
	struct wanem_counters c;
	uint32_t refs[8];

	(void)state;
	wanem_params_init(&p);
	p.drop_syn_data = true;
	assert_int_equal(wanem_set_dir(w, WANEM_DIR_A_TO_B, &p), 0);
	assert_int_equal(wanem_enqueue_flags(w, WANEM_DIR_A_TO_B, 1, 100, WANEM_FRAME_TCP_SYN_DATA,
	                     0),
	    WANEM_DROP_SYN_DATA);
	assert_int_equal(wanem_enqueue_flags(w, WANEM_DIR_A_TO_B, 2, 100, 0, 0), WANEM_QUEUED);
	assert_int_equal(wanem_enqueue(w, WANEM_DIR_A_TO_B, 3, 100, 0), WANEM_QUEUED);
	assert_int_equal(wanem_enqueue_flags(w, WANEM_DIR_B_TO_A, 4, 100, WANEM_FRAME_TCP_SYN_DATA,
	                     0),
	    WANEM_QUEUED);
	wanem_counters_get(w, WANEM_DIR_A_TO_B, &c);
	assert_int_equal(c.drops[WANEM_DROP_SYN_DATA], 1);
	assert_int_equal(c.rx_packets, 3);
	assert_int_equal(wanem_dequeue_ready(w, WANEM_DIR_A_TO_B, 0, refs, NULL, 8), 2);
	assert_int_equal(refs[0], 2);
	assert_int_equal(wanem_dequeue_ready(w, WANEM_DIR_B_TO_A, 0, refs, NULL, 8), 1);
	assert_string_equal(wanem_verdict_name(WANEM_DROP_SYN_DATA), "syn-data");
	wanem_free(w);
}

static void
test_wanem_set_replaces_for_new_packets(void **state)
{
	struct wanem *w = engine_new(64, 1);
	struct wanem_params p, got;
	uint32_t refs[8];

	(void)state;
	wanem_params_init(&p);
	p.delay_ns = 100 * MS;
	p.loss_ppm = 5000;
	engine_set(w, &p);
	assert_int_equal(wanem_enqueue(w, WANEM_DIR_A_TO_B, 1, 100, 0), WANEM_QUEUED);
	wanem_params_init(&p);
	engine_set(w, &p);
	for (int d = 0; d < WANEM_DIR_COUNT; d++) {
		wanem_get_dir(w, (enum wanem_dir)d, &got);
		assert_true(wanem_params_equal(&got, &p));
	}
	/* Sent with no delay, but it may not overtake the first. */
	assert_int_equal(wanem_enqueue(w, WANEM_DIR_A_TO_B, 2, 100, 1 * MS), WANEM_QUEUED);
	assert_int_equal(wanem_dequeue_ready(w, WANEM_DIR_A_TO_B, 1 * MS, refs, NULL, 8), 0);
	assert_int_equal(wanem_dequeue_ready(w, WANEM_DIR_A_TO_B, 100 * MS, refs, NULL, 8), 2);
	assert_int_equal(refs[0], 1);
	assert_int_equal(refs[1], 2);
	/* With the queue empty, new packets go at once. */
	assert_int_equal(wanem_enqueue(w, WANEM_DIR_A_TO_B, 3, 100, 101 * MS), WANEM_QUEUED);
	assert_int_equal(wanem_dequeue_ready(w, WANEM_DIR_A_TO_B, 101 * MS, refs, NULL, 8), 1);

	/* A bad set changes nothing. */
	p.queue_packets = 65;
	assert_int_equal(wanem_set(w, &p), -ERANGE);
	p.queue_packets = 0;
	p.loss_ppm = WANEM_PPM_ONE + 1;
	assert_int_equal(wanem_set(w, &p), -EINVAL);
	wanem_get_dir(w, WANEM_DIR_B_TO_A, &got);
	assert_int_equal(got.loss_ppm, 0);
	wanem_free(w);
}

static void
test_wanem_set_dir_loss_one_direction_only(void **state)
{
	struct wanem *w = engine_new(64, 1);
	struct wanem_params p, perfect, got;
	struct wanem_counters ab, ba;
	uint32_t refs[64];

	(void)state;
	wanem_params_init(&perfect);
	wanem_params_init(&p);
	p.loss_ppm = WANEM_PPM_ONE;
	assert_int_equal(wanem_set_dir(w, WANEM_DIR_A_TO_B, &p), 0);
	wanem_get_dir(w, WANEM_DIR_A_TO_B, &got);
	assert_true(wanem_params_equal(&got, &p));
	wanem_get_dir(w, WANEM_DIR_B_TO_A, &got);
	assert_true(wanem_params_equal(&got, &perfect));
	for (uint32_t i = 0; i < 20; i++) {
		assert_int_equal(wanem_enqueue(w, WANEM_DIR_A_TO_B, i, 100, i), WANEM_DROP_LOSS);
		assert_int_equal(wanem_enqueue(w, WANEM_DIR_B_TO_A, i, 100, i), WANEM_QUEUED);
	}
	assert_int_equal(wanem_dequeue_ready(w, WANEM_DIR_A_TO_B, 20, refs, NULL, 64), 0);
	assert_int_equal(wanem_dequeue_ready(w, WANEM_DIR_B_TO_A, 20, refs, NULL, 64), 20);
	wanem_counters_get(w, WANEM_DIR_A_TO_B, &ab);
	wanem_counters_get(w, WANEM_DIR_B_TO_A, &ba);
	assert_int_equal(ab.drops[WANEM_DROP_LOSS], 20);
	assert_int_equal(ab.tx_packets, 0);
	assert_int_equal(ba.drops[WANEM_DROP_LOSS], 0);
	assert_int_equal(ba.tx_packets, 20);

	/* Clearing that direction alone brings it back; the other was never touched. */
	assert_int_equal(wanem_set_dir(w, WANEM_DIR_A_TO_B, &perfect), 0);
	assert_int_equal(wanem_enqueue(w, WANEM_DIR_A_TO_B, 99, 100, 30), WANEM_QUEUED);
	assert_int_equal(wanem_dequeue_ready(w, WANEM_DIR_A_TO_B, 30, refs, NULL, 64), 1);

	/* A bad set of one direction changes nothing. */
	p.loss_ppm = WANEM_PPM_ONE + 1;
	assert_int_equal(wanem_set_dir(w, WANEM_DIR_B_TO_A, &p), -EINVAL);
	p.loss_ppm = 0;
	p.queue_packets = 65;
	assert_int_equal(wanem_set_dir(w, WANEM_DIR_B_TO_A, &p), -ERANGE);
	wanem_get_dir(w, WANEM_DIR_B_TO_A, &got);
	assert_true(wanem_params_equal(&got, &perfect));
	wanem_free(w);
}

static void
test_wanem_set_dirs_delay_per_direction(void **state)
{
	struct wanem *w = engine_new(64, 1);
	struct wanem_params p[WANEM_DIR_COUNT], got;
	uint32_t refs[8];

	(void)state;
	wanem_params_init(&p[WANEM_DIR_A_TO_B]);
	wanem_params_init(&p[WANEM_DIR_B_TO_A]);
	p[WANEM_DIR_A_TO_B].delay_ns = 10 * MS;
	p[WANEM_DIR_B_TO_A].delay_ns = 30 * MS;
	assert_int_equal(wanem_set_dirs(w, p), 0);
	assert_int_equal(wanem_enqueue(w, WANEM_DIR_A_TO_B, 1, 100, 0), WANEM_QUEUED);
	assert_int_equal(wanem_enqueue(w, WANEM_DIR_B_TO_A, 2, 100, 0), WANEM_QUEUED);
	assert_int_equal(wanem_next_deadline(w, WANEM_DIR_A_TO_B), 10 * MS);
	assert_int_equal(wanem_next_deadline(w, WANEM_DIR_B_TO_A), 30 * MS);
	assert_int_equal(wanem_dequeue_ready(w, WANEM_DIR_B_TO_A, 10 * MS, refs, NULL, 8), 0);
	assert_int_equal(wanem_dequeue_ready(w, WANEM_DIR_A_TO_B, 10 * MS, refs, NULL, 8), 1);
	assert_int_equal(wanem_dequeue_ready(w, WANEM_DIR_B_TO_A, 30 * MS, refs, NULL, 8), 1);

	/* Rate limits are per direction too: a_to_b limited, b_to_a not. */
	wanem_params_init(&p[WANEM_DIR_A_TO_B]);
	wanem_params_init(&p[WANEM_DIR_B_TO_A]);
	p[WANEM_DIR_A_TO_B].rate_bps = 1000000;
	p[WANEM_DIR_A_TO_B].rate_burst_bytes = 1000;
	assert_int_equal(wanem_set_dirs(w, p), 0);
	for (uint32_t i = 0; i < 3; i++) {
		assert_int_equal(wanem_enqueue(w, WANEM_DIR_A_TO_B, i, 1000, 100 * MS),
		    WANEM_QUEUED);
		assert_int_equal(wanem_enqueue(w, WANEM_DIR_B_TO_A, i, 1000, 100 * MS),
		    WANEM_QUEUED);
	}
	assert_int_equal(wanem_dequeue_ready(w, WANEM_DIR_B_TO_A, 100 * MS, refs, NULL, 8), 3);
	assert_int_equal(wanem_dequeue_ready(w, WANEM_DIR_A_TO_B, 100 * MS, refs, NULL, 8), 1);
	/* 1000 bytes at 1 Mbit/s: 8 ms each. */
	assert_int_equal(wanem_next_deadline(w, WANEM_DIR_A_TO_B), 108 * MS);

	/* Both or neither: a bad b_to_a leaves a_to_b as it was too. */
	p[WANEM_DIR_A_TO_B].rate_bps = 0;
	p[WANEM_DIR_B_TO_A].queue_packets = 65;
	assert_int_equal(wanem_set_dirs(w, p), -ERANGE);
	wanem_get_dir(w, WANEM_DIR_A_TO_B, &got);
	assert_int_equal(got.rate_bps, 1000000);
	wanem_free(w);
}

static void
test_wanem_flush_returns_held_refs(void **state)
{
	struct wanem *w = engine_new(8, 1);
	struct wanem_params p;
	struct wanem_counters c;
	uint32_t refs[8];

	(void)state;
	wanem_params_init(&p);
	p.delay_ns = 1 * MS;
	engine_set(w, &p);
	for (uint32_t i = 0; i < 5; i++)
		assert_int_equal(wanem_enqueue(w, WANEM_DIR_B_TO_A, 10 + i, 100, 0), WANEM_QUEUED);
	assert_int_equal(wanem_flush(w, WANEM_DIR_B_TO_A, refs, 3), 3);
	assert_int_equal(refs[0], 10);
	assert_int_equal(wanem_flush(w, WANEM_DIR_B_TO_A, refs, 8), 2);
	assert_int_equal(refs[1], 14);
	wanem_counters_get(w, WANEM_DIR_B_TO_A, &c);
	assert_int_equal(c.queue_packets, 0);
	assert_int_equal(c.queue_bytes, 0);
	assert_int_equal(wanem_next_deadline(w, WANEM_DIR_B_TO_A), UINT64_MAX);
	wanem_free(w);
}

static void
test_wanem_verdict_name_all(void **state)
{
	(void)state;
	assert_string_equal(wanem_verdict_name(WANEM_QUEUED), "queued");
	assert_string_equal(wanem_verdict_name(WANEM_DROP_BURST_LOSS), "burst-loss");
	assert_string_equal(wanem_verdict_name(WANEM_DROP_QUEUE_FULL), "queue-full");
	assert_string_equal(wanem_verdict_name(WANEM_VERDICT_COUNT), "?");
}

/*
 * Random operations against a model that knows each packet's arrival, the delay and
 * jitter in force when it arrived, and the order: the engine must keep FIFO order,
 * never release a packet early, count every packet exactly once, respect the queue
 * limit, and give exact deadlines.
 */
struct model_pkt {
	uint64_t earliest; /* arrival + delay - jitter, at least arrival */
	uint32_t len;
};

static void
test_wanem_model_random(void **state)
{
	uint64_t seed = test_seed(), rng = seed;
	const uint32_t cap = 256;
	struct wanem_config cfg = {.capacity = cap, .seed = seed};
	struct wanem *w = NULL;
	struct wanem_params p[WANEM_DIR_COUNT], np;
	static struct model_pkt pkts[WANEM_DIR_COUNT][200000];
	uint32_t next_ref[WANEM_DIR_COUNT] = {0, 0}, next_out[WANEM_DIR_COUNT] = {0, 0};
	uint64_t held_bytes[WANEM_DIR_COUNT] = {0, 0}, drops[WANEM_DIR_COUNT] = {0, 0};
	uint64_t now = 0;
	uint32_t refs[64], lens[64];

	(void)state;
	assert_int_equal(wanem_new(&cfg, &w), 0);
	wanem_params_init(&p[0]);
	wanem_params_init(&p[1]);
	for (int op = 0; op < 150000; op++) {
		enum wanem_dir d = (enum wanem_dir)test_rand_below(&rng, 2);
		uint64_t r = test_rand_below(&rng, 100);

		now += test_rand_below(&rng, 200 * US);
		if (r < 2) {
			wanem_params_init(&np);
			np.delay_ns = test_rand_below(&rng, 4) * MS;
			np.jitter_ns = test_rand_below(&rng, 3) * MS;
			np.jitter_dist = (enum wanem_jitter_dist)test_rand_below(&rng, 2);
			np.loss_ppm = (uint32_t)test_rand_below(&rng, 3) * 50000;
			np.burst_p_ppm = (uint32_t)test_rand_below(&rng, 2) * 20000;
			np.burst_r_ppm = np.burst_p_ppm != 0 ? 500000 : 0;
			np.burst_h_ppm = np.burst_p_ppm != 0 ? 800000 : 0;
			np.rate_bps = test_rand_below(&rng, 3) * 5000000;
			np.queue_packets = (uint32_t)test_rand_below(&rng, cap + 1);
			np.queue_bytes = test_rand_below(&rng, 2) * 100000;
			np.outage = test_rand_below(&rng, 10) == 0;
			/* Half the time both directions, else the one drawn above. */
			if (test_rand_below(&rng, 2)) {
				assert_int_equal(wanem_set(w, &np), 0);
				p[0] = p[1] = np;
			} else {
				assert_int_equal(wanem_set_dir(w, d, &np), 0);
				p[d] = np;
			}
		} else if (r < 60 && next_ref[d] < 200000) {
			uint32_t len = 60 + (uint32_t)test_rand_below(&rng, 1440);
			uint32_t limit = p[d].queue_packets != 0 ? p[d].queue_packets : cap;
			uint32_t held;
			struct wanem_counters c;
			enum wanem_verdict v;

			wanem_counters_get(w, d, &c);
			held = c.queue_packets;
			v = wanem_enqueue(w, d, next_ref[d], len, now);
			if (v == WANEM_QUEUED) {
				assert_false(p[d].outage);
				assert_true(held < limit);
				assert_true(p[d].queue_bytes == 0 ||
				    c.queue_bytes + len <= p[d].queue_bytes);
				pkts[d][next_ref[d]].len = len;
				pkts[d][next_ref[d]].earliest = p[d].delay_ns > p[d].jitter_ns ?
				    now + p[d].delay_ns - p[d].jitter_ns :
				    now;
				held_bytes[d] += len;
				next_ref[d]++;
			} else {
				drops[d]++;
				if (v == WANEM_DROP_QUEUE_FULL)
					assert_true(held >= limit ||
					    (p[d].queue_bytes != 0 &&
					        c.queue_bytes + len > p[d].queue_bytes));
				else if (v == WANEM_DROP_OUTAGE)
					assert_true(p[d].outage);
				else if (v == WANEM_DROP_LOSS)
					assert_true(p[d].loss_ppm != 0);
				else
					assert_int_equal(v, WANEM_DROP_BURST_LOSS);
			}
		} else {
			uint64_t deadline = wanem_next_deadline(w, d);
			size_t n;

			if (deadline != UINT64_MAX && deadline > now && test_rand_below(&rng, 2)) {
				assert_int_equal(wanem_dequeue_ready(w, d, deadline - 1, refs, lens,
				                     64),
				    0);
				now = deadline;
			}
			n = wanem_dequeue_ready(w, d, now, refs, lens, 64);
			if (deadline <= now)
				assert_true(n >= 1);
			for (size_t i = 0; i < n; i++) {
				assert_int_equal(refs[i], next_out[d]);
				assert_int_equal(lens[i], pkts[d][refs[i]].len);
				assert_true(now >= pkts[d][refs[i]].earliest);
				held_bytes[d] -= lens[i];
				next_out[d]++;
			}
		}
	}
	for (int d = 0; d < WANEM_DIR_COUNT; d++) {
		struct wanem_counters c;

		wanem_counters_get(w, (enum wanem_dir)d, &c);
		assert_int_equal(c.queue_packets, next_ref[d] - next_out[d]);
		assert_int_equal(c.queue_bytes, held_bytes[d]);
		assert_int_equal(c.tx_packets, next_out[d]);
		assert_int_equal(c.rx_packets, c.tx_packets + c.queue_packets + drops[d]);
	}
	wanem_free(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wanem_new_bad_capacity_rejected),
	    cmocka_unit_test(test_wanem_enqueue_perfect_link_immediate),
	    cmocka_unit_test(test_wanem_dequeue_delay_exact),
	    cmocka_unit_test(test_wanem_dequeue_uniform_jitter_bounded_in_order),
	    cmocka_unit_test(test_wanem_dequeue_normal_jitter_bounded_in_order),
	    cmocka_unit_test(test_wanem_enqueue_jitter_larger_than_delay_never_early),
	    cmocka_unit_test(test_wanem_enqueue_random_loss_rate),
	    cmocka_unit_test(test_wanem_enqueue_loss_extremes),
	    cmocka_unit_test(test_wanem_enqueue_gilbert_elliott_mean_burst),
	    cmocka_unit_test(test_wanem_dequeue_rate_limit_throughput),
	    cmocka_unit_test(test_wanem_dequeue_oversized_packet_passes_full_bucket),
	    cmocka_unit_test(test_wanem_enqueue_queue_full_dropped),
	    cmocka_unit_test(test_wanem_enqueue_outage_drops_all),
	    cmocka_unit_test(test_wanem_enqueue_drop_syn_data),
	    cmocka_unit_test(test_wanem_set_replaces_for_new_packets),
	    cmocka_unit_test(test_wanem_set_dir_loss_one_direction_only),
	    cmocka_unit_test(test_wanem_set_dirs_delay_per_direction),
	    cmocka_unit_test(test_wanem_flush_returns_held_refs),
	    cmocka_unit_test(test_wanem_verdict_name_all),
	    cmocka_unit_test(test_wanem_model_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
