/*
 * Unit tests of the path probe wire format, the quality arithmetic (MOS, RFC 3550
 * jitter, the loss window) and the event log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "path/path_log.h"
#include "path/path_metrics.h"
#include "path/path_probe.h"

static struct path_probe
probe_sample(void)
{
	struct path_probe p;

	memset(&p, 0, sizeof(p));
	p.flags = PATH_PROBE_FLAG_AUTH | PATH_PROBE_FLAG_ECHO;
	p.key_index = 0x01020304;
	p.sender_token = 0x05060708;
	p.receiver_token = 0x090a0b0c;
	p.seq = 0x0d0e0f10;
	p.tx_ns = 0x1112131415161718ull;
	p.echo_seq = 0x191a1b1c;
	p.echo_tx_ns = 0x1d1e1f2021222324ull;
	p.echo_delay_us = 0x25262728;
	p.rx_count = 0x292a2b2c;
	for (int i = 0; i < PATH_PROBE_TAG_LEN; i++)
		p.tag[i] = (uint8_t)(0x30 + i);
	return p;
}

static void
test_path_probe_encode_is_the_documented_layout(void **state)
{
	static const uint8_t want[PATH_PROBE_LEN] = {16, 3, 1, 0, 0x01, 0x02, 0x03, 0x04, 0x05,
	    0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13,
	    0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21,
	    0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x30, 0x31, 0x32,
	    0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f};
	struct path_probe p = probe_sample(), back;
	uint8_t msg[PATH_PROBE_LEN], again[PATH_PROBE_LEN];

	(void)state;
	path_probe_encode(msg, &p);
	assert_memory_equal(msg, want, sizeof(want));
	assert_int_equal(path_probe_decode(msg, sizeof(msg), &back), 0);
	assert_int_equal(back.echo_tx_ns, p.echo_tx_ns);
	assert_int_equal(back.rx_count, p.rx_count);
	path_probe_encode(again, &back);
	assert_memory_equal(again, want, sizeof(want));
	assert_true(path_probe_is_probe(msg, sizeof(msg)));
}

static void
test_path_probe_observed_v4_is_the_documented_layout(void **state)
{
	static const uint8_t obs[20] = {4, 0, 0x9c, 0x41, 203, 0, 113, 7};
	static const uint8_t a4[4] = {203, 0, 113, 7};
	struct path_probe p = probe_sample(), back;
	uint8_t msg[PATH_PROBE_LEN_MAX], again[PATH_PROBE_LEN_MAX];

	(void)state;
	p.flags |= PATH_PROBE_FLAG_OBSERVED;
	addr_set_v4(&p.observed, a4);
	p.observed_port = 40001;
	assert_int_equal(path_probe_len(&p), 84);
	assert_int_equal(path_probe_ad_len(&p), 68);
	path_probe_encode(msg, &p);
	assert_int_equal(msg[1], 0x07);
	assert_memory_equal(msg + 48, obs, sizeof(obs));
	assert_int_equal(msg[68], 0x30); /* the tag follows */
	assert_int_equal(path_probe_decode(msg, sizeof(msg), &back), 0);
	assert_true(addr_equal(&back.observed, &p.observed));
	assert_int_equal(back.observed_port, 40001);
	assert_memory_equal(back.tag, p.tag, sizeof(p.tag));
	path_probe_encode(again, &back);
	assert_memory_equal(again, msg, sizeof(msg));
	/* The flag decides the length: exactly one of the two sizes fits each form. */
	assert_int_equal(path_probe_decode(msg, PATH_PROBE_LEN, &back), -EBADMSG);
	assert_int_equal(path_probe_decode(msg, PATH_PROBE_LEN_MAX - 1, &back), -EBADMSG);
	msg[1] &= (uint8_t)~PATH_PROBE_FLAG_OBSERVED;
	assert_int_equal(path_probe_decode(msg, PATH_PROBE_LEN_MAX, &back), -EBADMSG);
}

static void
test_path_probe_observed_v6_and_malformed(void **state)
{
	struct path_probe p = probe_sample(), back;
	uint8_t msg[PATH_PROBE_LEN_MAX];

	(void)state;
	p.flags |= PATH_PROBE_FLAG_OBSERVED;
	assert_int_equal(addr_parse("2001:db8::77", &p.observed), 0);
	p.observed_port = 1280;
	path_probe_encode(msg, &p);
	assert_int_equal(msg[48], 6);
	assert_int_equal(path_probe_decode(msg, sizeof(msg), &back), 0);
	assert_true(addr_equal(&back.observed, &p.observed));
	/* Unknown family, reserved byte, IPv4 padding. */
	msg[48] = 5;
	assert_int_equal(path_probe_decode(msg, sizeof(msg), &back), -EBADMSG);
	msg[48] = 6;
	msg[49] = 1;
	assert_int_equal(path_probe_decode(msg, sizeof(msg), &back), -EBADMSG);
	msg[49] = 0;
	msg[48] = 4; /* an IPv4 address with 12 nonzero trailing bytes */
	assert_int_equal(path_probe_decode(msg, sizeof(msg), &back), -EBADMSG);
}

static void
test_path_probe_decode_rejects_malformed(void **state)
{
	struct path_probe p = probe_sample(), back;
	uint8_t msg[PATH_PROBE_LEN + 1];

	(void)state;
	path_probe_encode(msg, &p);
	assert_int_equal(path_probe_decode(msg, PATH_PROBE_LEN - 1, &back), -EBADMSG);
	assert_int_equal(path_probe_decode(msg, PATH_PROBE_LEN + 1, &back), -EBADMSG);
	assert_int_equal(path_probe_decode(NULL, PATH_PROBE_LEN, &back), -EBADMSG);
	for (int off = 0; off < 4; off++) {
		uint8_t saved = msg[off];

		msg[off] ^= (off == 1) ? 0x80 : 0x01;
		assert_int_equal(path_probe_decode(msg, PATH_PROBE_LEN, &back), -EBADMSG);
		msg[off] = saved;
	}
	/* Sender token 0. */
	p.sender_token = 0;
	path_probe_encode(msg, &p);
	assert_int_equal(path_probe_decode(msg, PATH_PROBE_LEN, &back), -EBADMSG);
	/* A plain probe must carry neither key index nor tag. */
	p = probe_sample();
	p.flags = PATH_PROBE_FLAG_ECHO;
	path_probe_encode(msg, &p);
	assert_int_equal(path_probe_decode(msg, PATH_PROBE_LEN, &back), -EBADMSG);
	p.key_index = 0;
	path_probe_encode(msg, &p);
	assert_int_equal(path_probe_decode(msg, PATH_PROBE_LEN, &back), -EBADMSG);
	memset(p.tag, 0, sizeof(p.tag));
	path_probe_encode(msg, &p);
	assert_int_equal(path_probe_decode(msg, PATH_PROBE_LEN, &back), 0);
	/* Key exchange types are not probes. */
	msg[0] = 1;
	assert_false(path_probe_is_probe(msg, PATH_PROBE_LEN));
	assert_false(path_probe_is_probe(msg, 0));
}

static void
test_path_probe_nonce_is_zero4_token_seq(void **state)
{
	static const uint8_t want[12] = {0, 0, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd, 0, 0, 1, 2};
	uint8_t nonce[12];

	(void)state;
	path_probe_nonce(nonce, 0xaabbccdd, 0x102);
	assert_memory_equal(nonce, want, sizeof(want));
}

static void
test_path_mos_clean_path_is_4_40(void **state)
{
	(void)state;
	assert_true(fabs(path_mos(0, 0, 0) - 4.40) < 0.01);
	/* 20 ms one way, 2 ms jitter: eff 34 ms, R = 93.2 - 0.85. */
	{
		double r = 93.2 - 34.0 / 40.0;
		double want = 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);

		assert_true(fabs(path_mos(20000, 2000, 0) - want) < 1e-9);
	}
	/* Above 160 ms effective the slope steepens. */
	{
		double r = 93.2 - (210.0 - 120.0) / 10.0;
		double want = 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);

		assert_true(fabs(path_mos(200000, 0, 0) - want) < 1e-9);
	}
	/* Loss: 2.5 R per percent. */
	{
		double r = 93.2 - 0.25 - 2.5 * 5;
		double want = 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);

		assert_true(fabs(path_mos(0, 0, 5) - want) < 1e-9);
	}
	/* R clamps at 0: MOS 1. */
	assert_true(fabs(path_mos(0, 0, 100) - 1.0) < 1e-9);
	assert_true(path_mos(0, 0, 0) > path_mos(50000, 0, 0));
}

static void
test_path_jitter_follows_rfc3550(void **state)
{
	struct path_jitter j;
	double ref = 0;
	uint64_t tx = 1000, rx = 5000;

	(void)state;
	memset(&j, 0, sizeof(j));
	path_jitter_add(&j, tx, rx);
	assert_int_equal(path_jitter_ns(&j), 0);
	/* Constant transit: no jitter. */
	for (int i = 0; i < 100; i++)
		path_jitter_add(&j, tx += 100000000, rx += 100000000);
	assert_int_equal(path_jitter_ns(&j), 0);
	/* Transit alternating +1 ms, 0: |D| = 1 ms each time, J converges to 1 ms. */
	for (int i = 0; i < 400; i++) {
		tx += 100000000;
		rx += 100000000 + ((i % 2) ? -1000000 : 1000000);
		path_jitter_add(&j, tx, rx);
		ref += (1000000.0 - ref) / 16;
	}
	assert_true(fabs((double)path_jitter_ns(&j) - ref) < 2000);
	assert_true(path_jitter_ns(&j) > 990000 && path_jitter_ns(&j) <= 1000000);
	/* A wild clock step is capped, not overflowed. */
	path_jitter_add(&j, UINT64_MAX, 0);
	assert_true(path_jitter_ns(&j) <= 10ull * 1000000000ull);
}

static void
test_path_loss_window_counts_our_lost_probes(void **state)
{
	struct path_loss l;
	uint32_t c = 0;

	(void)state;
	path_loss_reset(&l);
	assert_true(path_loss_pct(&l, 50, 0) == 0.0);
	/* 100 probes, every 10th lost: the peer echoes each one it receives. */
	for (uint32_t s = 1; s <= 100; s++) {
		if (s % 10 == 0)
			continue;
		path_loss_report(&l, s, ++c);
	}
	/* Window 50 ending at 99: reports 49..99, 5 lost of 50. */
	assert_true(fabs(path_loss_pct(&l, 50, 0) - 10.0) < 0.01);
	/* Older and equal reports change nothing. */
	path_loss_report(&l, 50, 3);
	path_loss_report(&l, 99, c);
	assert_true(fabs(path_loss_pct(&l, 50, 0) - 10.0) < 0.01);
	/* Unanswered probes after the newest report count as lost. */
	assert_true(fabs(path_loss_pct(&l, 50, 10) - 100.0 * 14 / 50) < 0.01);
	assert_true(path_loss_pct(&l, 50, 50) == 100.0);
	/* The peer started over (counter went back): the window restarts. */
	path_loss_report(&l, 101, 1);
	assert_true(path_loss_pct(&l, 50, 0) == 0.0);
	path_loss_report(&l, 102, 2);
	assert_true(path_loss_pct(&l, 50, 0) == 0.0);
	path_loss_report(&l, 104, 3);
	assert_true(fabs(path_loss_pct(&l, 50, 0) - 100.0 / 3) < 0.01);
}

static void
test_path_log_keeps_the_last_entries(void **state)
{
	static struct path_log log;
	struct path_log_entry e;

	(void)state;
	path_log_init(&log);
	assert_int_equal(path_log_count(&log), 0);
	assert_null(path_log_get(&log, 0));
	memset(&e, 0, sizeof(e));
	for (uint32_t i = 0; i < PATH_LOG_SIZE + 10; i++) {
		e.ts_ns = i;
		e.kind = PATH_LOG_STATE;
		path_log_append(&log, &e);
	}
	assert_int_equal(path_log_count(&log), PATH_LOG_SIZE);
	assert_int_equal(log.dropped, 10);
	assert_int_equal(path_log_get(&log, 0)->ts_ns, 10);
	assert_int_equal(path_log_get(&log, PATH_LOG_SIZE - 1)->ts_ns, PATH_LOG_SIZE + 9);
	assert_null(path_log_get(&log, PATH_LOG_SIZE));
	assert_string_equal(path_log_kind_name(PATH_LOG_FAILOVER), "failover");
	assert_string_equal(path_log_kind_name(PATH_LOG_UDP_TRANSFORM), "udp-transform-detected");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_path_probe_encode_is_the_documented_layout),
	    cmocka_unit_test(test_path_probe_decode_rejects_malformed),
	    cmocka_unit_test(test_path_probe_observed_v4_is_the_documented_layout),
	    cmocka_unit_test(test_path_probe_observed_v6_and_malformed),
	    cmocka_unit_test(test_path_probe_nonce_is_zero4_token_seq),
	    cmocka_unit_test(test_path_mos_clean_path_is_4_40),
	    cmocka_unit_test(test_path_jitter_follows_rfc3550),
	    cmocka_unit_test(test_path_loss_window_counts_our_lost_probes),
	    cmocka_unit_test(test_path_log_keeps_the_last_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
