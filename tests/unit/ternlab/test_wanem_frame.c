/*
 * ternlab-wanem's look into frames (tools/ternlab/wanem_frame.h): which frames the
 * drop-syn-data middlebox takes for TCP SYNs carrying data.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "test_rand.h"
#include "wanem_frame.h"

/*
 * An Ethernet frame of IPv4 (v6 false) or IPv6 with TCP flags and payload bytes of data
 * after a TCP header of doff words; vlan adds an 802.1Q tag. Returns its length.
 */
static size_t
frame_build(uint8_t *f, bool v6, bool vlan, uint8_t flags, uint8_t doff, size_t payload)
{
	size_t off = 12, ip, l4_len = (size_t)doff * 4 + payload;

	memset(f, 0, 256);
	if (vlan) {
		f[off++] = 0x81;
		f[off++] = 0x00;
		off += 2;
	}
	f[off++] = v6 ? 0x86 : 0x08;
	f[off++] = v6 ? 0xdd : 0x00;
	ip = off;
	if (v6) {
		f[ip] = 0x60;
		f[ip + 4] = (uint8_t)(l4_len >> 8);
		f[ip + 5] = (uint8_t)l4_len;
		f[ip + 6] = 6;
		off += 40;
	} else {
		f[ip] = 0x45;
		f[ip + 2] = (uint8_t)((20 + l4_len) >> 8);
		f[ip + 3] = (uint8_t)(20 + l4_len);
		f[ip + 9] = 6;
		off += 20;
	}
	f[off + 12] = (uint8_t)(doff << 4);
	f[off + 13] = flags;
	return off + l4_len;
}

static void
test_wanem_frame_syn_with_data(void **state)
{
	uint8_t f[256];

	(void)state;
	for (int v6 = 0; v6 < 2; v6++)
		for (int vlan = 0; vlan < 2; vlan++) {
			assert_true(
			    wanem_frame_is_tcp_syn_data(f, frame_build(f, v6, vlan, 0x02, 5, 40)));
			assert_true(wanem_frame_is_tcp_syn_data(f,
			    frame_build(f, v6, vlan, 0x12, 8, 1))); /* SYN-ACK, options */
			/* A plain SYN (options are not data), data without SYN, a short TCP. */
			assert_false(
			    wanem_frame_is_tcp_syn_data(f, frame_build(f, v6, vlan, 0x02, 10, 0)));
			assert_false(
			    wanem_frame_is_tcp_syn_data(f, frame_build(f, v6, vlan, 0x18, 5, 100)));
			assert_false(
			    wanem_frame_is_tcp_syn_data(f, frame_build(f, v6, vlan, 0x02, 4, 40)));
		}
}

static void
test_wanem_frame_not_tcp_or_cut(void **state)
{
	uint8_t f[256];
	size_t n = frame_build(f, false, false, 0x02, 5, 40);

	(void)state;
	f[14 + 9] = 17; /* UDP */
	assert_false(wanem_frame_is_tcp_syn_data(f, n));
	n = frame_build(f, false, false, 0x02, 5, 40);
	f[14 + 7] = 1; /* a later fragment */
	assert_false(wanem_frame_is_tcp_syn_data(f, n));
	n = frame_build(f, false, false, 0x02, 5, 40);
	assert_false(wanem_frame_is_tcp_syn_data(f, n - 1)); /* the IP length is past the end */
	/* Ethernet padding after the IP length is not data. */
	n = frame_build(f, false, false, 0x02, 5, 0);
	assert_false(wanem_frame_is_tcp_syn_data(f, n + 6));
	n = frame_build(f, false, false, 0x02, 5, 40);
	f[12] = 0x08;
	f[13] = 0x06; /* ARP */
	assert_false(wanem_frame_is_tcp_syn_data(f, n));
	assert_false(wanem_frame_is_tcp_syn_data(f, 13));
}

/* IPv6 with a destination options header, then TCP; and a fragment header. */
static void
test_wanem_frame_ipv6_extension_headers(void **state)
{
	uint8_t f[256], g[256];
	size_t n = frame_build(f, true, false, 0x02, 5, 40), l4_len = n - 54;

	(void)state;
	memcpy(g, f, 54);
	g[14 + 6] = 60; /* destination options */
	g[14 + 4] = (uint8_t)((l4_len + 8) >> 8);
	g[14 + 5] = (uint8_t)(l4_len + 8);
	memset(g + 54, 0, 8);
	g[54] = 6;
	memcpy(g + 62, f + 54, l4_len);
	assert_true(wanem_frame_is_tcp_syn_data(g, n + 8));
	g[14 + 6] = 44; /* a fragment header: first fragment */
	assert_true(wanem_frame_is_tcp_syn_data(g, n + 8));
	g[54 + 3] = 0x08; /* offset 1: a later fragment */
	assert_false(wanem_frame_is_tcp_syn_data(g, n + 8));
}

/* Random bytes, cut anywhere: never read past the end (ASan), and the prefix rule holds. */
static void
test_wanem_frame_random_bytes(void **state)
{
	uint64_t rng = test_seed();
	uint8_t f[256];

	(void)state;
	for (int i = 0; i < 100000; i++) {
		size_t n = (size_t)test_rand_below(&rng, sizeof(f) + 1);

		for (size_t k = 0; k < n; k++)
			f[k] = (uint8_t)test_rand(&rng);
		if (n >= 14 && test_rand_below(&rng, 2)) {
			f[12] = 0x08;
			f[13] = 0x00;
			if (n >= 34) {
				f[14] = 0x45;
				f[14 + 9] = 6;
			}
		}
		(void)wanem_frame_is_tcp_syn_data(f, n);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wanem_frame_syn_with_data),
	    cmocka_unit_test(test_wanem_frame_not_tcp_or_cut),
	    cmocka_unit_test(test_wanem_frame_ipv6_extension_headers),
	    cmocka_unit_test(test_wanem_frame_random_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
