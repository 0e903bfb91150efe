/*
 * bench_dpi: what application identification (src/dpi, nDPI) costs a worker per new
 * session. Each session takes a flow state from a pool of 1024, is fed the packets of
 * a TCP handshake and a TLS 1.3 ClientHello (captured from OpenSSL, the SNI learner's
 * sample) until nDPI names it, and gives the state back: what router_learn does for an
 * HTTPS session. Also a UDP session whose first packet is one nDPI does not know
 * (given up after the 8-packet budget, the worst case).
 *
 * Usage: bench_dpi [--sessions N] [--runs R]; the last line is one JSON object.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tests/unit/policy/policy_tls_samples.h"
#include "dpi/dpi_app.h"

static uint64_t
bench_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* An IPv4 packet between 10.1.0.10:40000 and 10.2.0.10:443 (proto 6 or 17). */
static size_t
packet(uint8_t *o, uint8_t proto, int from_client, uint8_t flags, uint32_t seq, uint32_t ack,
    const uint8_t *payload, size_t n)
{
	const uint8_t a[4] = {10, 1, 0, 10}, b[4] = {10, 2, 0, 10};
	size_t l4 = proto == 6 ? 20 : 8, len = 20 + l4 + n;
	uint16_t sport = from_client ? 40000 : 443, dport = from_client ? 443 : 40000;

	memset(o, 0, 20 + l4);
	o[0] = 0x45;
	o[2] = (uint8_t)(len >> 8);
	o[3] = (uint8_t)len;
	o[8] = 64;
	o[9] = proto;
	memcpy(o + 12, from_client ? a : b, 4);
	memcpy(o + 16, from_client ? b : a, 4);
	o[20] = (uint8_t)(sport >> 8);
	o[21] = (uint8_t)sport;
	o[22] = (uint8_t)(dport >> 8);
	o[23] = (uint8_t)dport;
	if (proto == 6) {
		put32(o + 24, seq);
		put32(o + 28, ack);
		o[32] = 0x50;
		o[33] = flags;
		o[34] = o[35] = 0xff;
	} else {
		o[24] = (uint8_t)((8 + n) >> 8);
		o[25] = (uint8_t)(8 + n);
	}
	if (n > 0) /* memcpy must not see NULL, even for 0 bytes */
		memcpy(o + 20 + l4, payload, n);
	return len;
}

/* ns per session for n sessions of the packets pkts (k of them); *named: how many named. */
static double
run(struct dpi_app *d, uint8_t (*pkts)[1500], const size_t *lens, int k, unsigned n,
    unsigned *named)
{
	uint64_t t0 = bench_now();

	*named = 0;
	for (unsigned i = 0; i < n; i++) {
		uint32_t slot;
		uint16_t app = 0;
		int done = 0;

		if (dpi_app_start(d, &slot) < 0)
			abort();
		for (int j = 0; !done; j = (j + 1) % k)
			done = dpi_app_feed(d, slot, pkts[j], lens[j], (uint64_t)i * 1000000ull + j,
			    &app);
		*named += app != DPI_APP_UNKNOWN;
	}
	return (double)(bench_now() - t0) / n;
}

int
main(int argc, char **argv)
{
	static uint8_t tls[4][1500], udp[1][1500];
	size_t tls_len[4], udp_len[1];
	unsigned sessions = 200000, runs = 3, named_tls = 0, named_udp = 0;
	double best_tls = 1e18, best_udp = 1e18;
	const uint8_t junk[64] = {0x42, 0x17, 0x99};
	struct dpi_app *d;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--sessions") == 0)
			sessions = (unsigned)strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--runs") == 0)
			runs = (unsigned)strtoul(argv[i + 1], NULL, 10);
	}
	if (sessions == 0 || runs == 0)
		return 2;
	d = dpi_app_new(1024, 8);
	if (d == NULL)
		return 1;
	tls_len[0] = packet(tls[0], 6, 1, 0x02, 1000, 0, NULL, 0);
	tls_len[1] = packet(tls[1], 6, 0, 0x12, 5000, 1001, NULL, 0);
	tls_len[2] = packet(tls[2], 6, 1, 0x10, 1001, 5001, NULL, 0);
	tls_len[3] =
	    packet(tls[3], 6, 1, 0x18, 1001, 5001, policy_sample_ch13, sizeof(policy_sample_ch13));
	udp_len[0] = packet(udp[0], 17, 1, 0, 0, 0, junk, sizeof(junk));
	for (unsigned r = 0; r < runs; r++) {
		double t = run(d, tls, tls_len, 4, sessions, &named_tls);

		best_tls = t < best_tls ? t : best_tls;
		t = run(d, udp, udp_len, 1, sessions / 4 ? sessions / 4 : 1, &named_udp);
		best_udp = t < best_udp ? t : best_udp;
	}
	printf("TLS session (handshake + ClientHello): %.0f ns, %u of %u named\n", best_tls,
	    named_tls, sessions);
	printf("unknown UDP session (8 packets, given up): %.0f ns\n", best_udp);
	printf("{\"bench\":\"dpi\",\"sessions\":%u,\"runs\":%u,\"tls_ns_per_session\":%.0f,"
	       "\"unknown_udp_ns_per_session\":%.0f,\"tls_named\":%u}\n",
	    sessions, runs, best_tls, best_udp, named_tls);
	dpi_app_free(d);
	return named_tls == sessions ? 0 : 1;
}
