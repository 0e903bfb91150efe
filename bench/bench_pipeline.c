/*
 * bench_pipeline: the SVR data path, memory to memory, on one core, in batches of 32.
 *
 *   new sessions: parse, session miss, waypoint pair, session insert, forward
 *                 metadata, rewrite, full checksums (svr_lan_first) for N distinct flows;
 *   fast path:    parse, burst session lookup in the table of N sessions (random flow
 *                 per packet, so lookups miss the caches as real traffic does), rewrite
 *                 to the waypoint tuple, RFC 1624 checksum update; 64- and 1400-byte
 *                 IPv4/UDP packets.
 *
 * Packets are made in place by a generator that writes a flow's source address and
 * port and adjusts both checksums incrementally; its cost is measured alone in the same
 * run and reported (generator_ns_per_packet), and the headline rates include it, so
 * they are conservative. Every verdict is checked: a benchmark that dropped packets
 * fails instead of reporting a rate.
 *
 * Prints human lines, then one JSON object as the last line.
 * Usage: bench_pipeline [--sessions N] [--packets N]
 */
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"
#include "pkt/pkt_csum.h"
#include "pkt/pkt_parse.h"
#include "session/session_table.h"
#include "svr/svr_transform.h"
#include "svr/svr_waypoint.h"

#define BATCH    32
#define NPATHS   64
#define BASE_SRC 0x0a000000u /* 10.0.0.0: flow i comes from 10.0.0.0 + i/16 */

struct bench {
	struct svr_router rt;
	struct pkt_drop_counters drops;
	struct svr_path paths[NPATHS];
	struct pkt_pool *pool;
	struct pkt_buf *bufs[BATCH];
	uint8_t template64[64];
	uint8_t template1400[1400];
	uint32_t sessions;
	uint64_t rng;
};

static const char *const tenant_names[] = {"corp"};
static const char *const service_names[] = {"bench"};
static const uint32_t lan_ports[] = {1};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
fail(const char *what)
{
	fprintf(stderr, "bench_pipeline: %s\n", what);
	exit(1);
}

static void
template_build(uint8_t *t, size_t len)
{
	struct pkt_info info;
	enum pkt_drop_reason reason;

	memset(t, 0, len);
	t[0] = 0x45;
	buf_store_be16(t + 2, (uint16_t)len);
	t[8] = 64;
	t[9] = IPPROTO_UDP;
	buf_store_be32(t + 12, BASE_SRC);
	buf_store_be32(t + 16, 0x0a090001); /* 10.9.0.1, the service */
	buf_store_be16(t + 20, 1024);
	buf_store_be16(t + 22, 4789);
	buf_store_be16(t + 24, (uint16_t)(len - 20));
	for (size_t i = 28; i < len; i++)
		t[i] = (uint8_t)i;
	buf_store_be16(t + 10, pkt_csum_ipv4_header(t, 20));
	if (pkt_parse_bytes(t, len, &info, &reason) < 0)
		fail("template does not parse");
	pkt_csum_fill(t, &info);
}

/* Flow i: source 10.0.0.0 + i/16, source port 1024 + i%16 (host order values). */
static void
flow_tuple(uint32_t i, uint32_t *src, uint16_t *sport)
{
	*src = BASE_SRC + (i >> 4);
	*sport = (uint16_t)(1024 + (i & 15));
}

/*
 * Makes buffer p carry flow i: copies the template's headers (payload bytes are never
 * changed by the fast path, so they stay from the first fill) and adjusts checksums.
 */
static void
packet_make(struct pkt_buf *p, const uint8_t *template, size_t len, uint32_t i, bool full)
{
	uint8_t *d;
	uint32_t src, delta;
	uint16_t sport;

	p->head = PKT_BUF_HEADROOM;
	p->len = (uint16_t)len;
	d = p->buf + p->head;
	/* Two calls with constant sizes: a variable one became a slow "rep movsq". */
	if (full)
		memcpy(d, template, len);
	else
		memcpy(d, template, 28);
	flow_tuple(i, &src, &sport);
	delta = pkt_csum_delta_add16(0, (uint16_t)(BASE_SRC >> 16), (uint16_t)(src >> 16));
	delta = pkt_csum_delta_add16(delta, (uint16_t)BASE_SRC, (uint16_t)src);
	buf_store_be32(d + 12, src);
	pkt_csum_apply_delta(d + 10, delta, false);
	delta = pkt_csum_delta_add16(delta, 1024, sport);
	buf_store_be16(d + 20, sport);
	pkt_csum_apply_delta(d + 26, delta, true);
}

static void
bench_init(struct bench *b, uint32_t sessions)
{
	struct session_table_config cfg;

	memset(b, 0, sizeof(*b));
	b->sessions = sessions;
	session_table_config_default(&cfg, sessions);
	b->rt.sessions = session_table_new(&cfg, now_ns());
	b->pool = pkt_pool_new(BATCH * 2);
	if (b->rt.sessions == NULL || b->pool == NULL)
		fail("out of memory");
	b->rt.drops = &b->drops;
	b->rt.pool = b->pool;
	b->rt.name = "bench-a";
	b->rt.tenant_names = tenant_names;
	b->rt.tenant_count = 1;
	b->rt.service_names = service_names;
	b->rt.service_count = 1;
	b->rt.lan_ports = lan_ports;
	for (unsigned i = 0; i < NPATHS; i++) {
		uint8_t local[4] = {203, 0, 113, 1}, remote[4] = {198, 51, 100, (uint8_t)i};

		addr_set_v4(&b->paths[i].local, local);
		addr_set_v4(&b->paths[i].remote, remote);
		b->paths[i].wan_zone = SESSION_ZONE_WAN | 1;
		b->paths[i].wan_port = 2;
		b->paths[i].ports = svr_waypoint_ports_new(SVR_WAYPOINT_PORT_FIRST, 65535);
		if (b->paths[i].ports == NULL)
			fail("out of memory");
	}
	b->rt.paths = b->paths;
	b->rt.path_count = NPATHS;
	if (svr_router_seed(&b->rt) < 0)
		fail("getrandom failed");
	if (pkt_pool_get_burst(b->pool, b->bufs, BATCH) != BATCH)
		fail("pool");
	template_build(b->template64, sizeof(b->template64));
	template_build(b->template1400, sizeof(b->template1400));
	b->rng = 0x9e3779b97f4a7c15ull;
}

static uint32_t
bench_random_flow(struct bench *b)
{
	b->rng ^= b->rng << 13;
	b->rng ^= b->rng >> 7;
	b->rng ^= b->rng << 17;
	/* Multiply-shift instead of %: a division would cost the generator ~10 ns. */
	return (uint32_t)(((b->rng >> 32) * (uint64_t)b->sessions) >> 32);
}

static void
parse_batch(struct bench *b)
{
	enum pkt_drop_reason reason;

	for (unsigned k = 0; k < BATCH; k++)
		if (pkt_parse(b->bufs[k], &reason) < 0)
			fail(pkt_drop_reason_name(reason));
}

/* Phase 1: one new session per packet. Returns the elapsed ns. */
static uint64_t
bench_new_sessions(struct bench *b)
{
	enum svr_verdict verdicts[BATCH];
	uint64_t start = now_ns();

	for (uint32_t i = 0; i < b->sessions; i += BATCH) {
		for (unsigned k = 0; k < BATCH; k++)
			packet_make(b->bufs[k], b->template64, 64, (i + k) % b->sessions, true);
		parse_batch(b);
		svr_lan_rx_burst(&b->rt, b->bufs, BATCH, 0, verdicts, start);
		for (unsigned k = 0; k < BATCH && i + k < b->sessions; k++) {
			struct svr_route route = {.path_id = (uint16_t)((i + k) % NPATHS)};

			if (verdicts[k] != SVR_VERDICT_NEW_SESSION)
				fail("a new flow matched a session");
			if (svr_lan_first(&b->rt, b->bufs[k], 0, &route, start) !=
			    SVR_VERDICT_TO_WAN)
				fail("a first packet was dropped");
		}
	}
	return now_ns() - start;
}

/* Phase 2: the fast path over random flows of the table. */
static uint64_t
bench_fast_path(struct bench *b, const uint8_t *template, size_t len, uint64_t packets)
{
	enum svr_verdict verdicts[BATCH];
	uint64_t start, now;

	for (unsigned k = 0; k < BATCH; k++)
		packet_make(b->bufs[k], template, len, 0, true);
	start = now = now_ns();
	for (uint64_t n = 0; n < packets; n += BATCH) {
		for (unsigned k = 0; k < BATCH; k++)
			packet_make(b->bufs[k], template, len, bench_random_flow(b), false);
		parse_batch(b);
		svr_lan_rx_burst(&b->rt, b->bufs, BATCH, 0, verdicts, now);
		for (unsigned k = 0; k < BATCH; k++)
			if (verdicts[k] != SVR_VERDICT_TO_WAN)
				fail("a fast-path packet was not forwarded");
	}
	return now_ns() - start;
}

/* The generator alone, to show how much of the fast-path time is not the router's. */
static uint64_t
bench_generator(struct bench *b, const uint8_t *template, size_t len, uint64_t packets)
{
	uint64_t start = now_ns();
	volatile uint8_t sink = 0;

	for (uint64_t n = 0; n < packets; n += BATCH) {
		for (unsigned k = 0; k < BATCH; k++)
			packet_make(b->bufs[k], template, len, bench_random_flow(b), false);
		sink ^= b->bufs[0]->buf[PKT_BUF_HEADROOM + 12];
	}
	(void)sink;
	return now_ns() - start;
}

/* The benchmark measures established sessions: as if reverse metadata had arrived. */
static void
bench_complete_handshakes(struct bench *b)
{
	for (uint32_t i = 0; i < session_table_capacity(b->rt.sessions); i++) {
		struct session *s = session_table_get(b->rt.sessions, i);

		if (s != NULL)
			s->flags &= ~(uint32_t)SVR_SESSION_FWD_META;
	}
}

int
main(int argc, char **argv)
{
	uint32_t sessions = 1000000;
	uint64_t packets = 32000000;
	static struct bench b;
	uint64_t t_new, t_64, t_1400, t_gen64, t_gen1400;
	double bytes_per_session;
	cpu_set_t cpus;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--sessions") == 0 && i + 1 < argc)
			sessions = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--packets") == 0 && i + 1 < argc)
			packets = strtoull(argv[++i], NULL, 10);
		else
			fail("usage: bench_pipeline [--sessions N] [--packets N]");
	}
	if (sessions < BATCH || sessions > NPATHS * 24576u || packets < BATCH)
		fail("--sessions must be 32..1572864 and --packets at least 32");
	/* One core, as the target says; the other runs the rest of the machine. */
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);

	bench_init(&b, sessions);
	t_new = bench_new_sessions(&b);
	if (session_table_count(b.rt.sessions) != sessions)
		fail("session count differs from the flows sent");
	bench_complete_handshakes(&b);
	t_64 = bench_fast_path(&b, b.template64, 64, packets);
	t_gen64 = bench_generator(&b, b.template64, 64, packets);
	t_1400 = bench_fast_path(&b, b.template1400, 1400, packets);
	t_gen1400 = bench_generator(&b, b.template1400, 1400, packets);
	bytes_per_session = (double)session_table_memory_bytes(b.rt.sessions) /
	    session_table_capacity(b.rt.sessions);

	printf("sessions: %u in a table of %u, %.1f bytes per session slot\n", sessions,
	    session_table_capacity(b.rt.sessions), bytes_per_session);
	printf("new sessions: %.0f per second (%.0f ns each)\n", sessions * 1e9 / (double)t_new,
	    (double)t_new / sessions);
	printf("fast path 64 B: %.2f Mpps (%.1f ns per packet, generator %.1f ns of it)\n",
	    packets * 1e3 / (double)t_64, (double)t_64 / (double)packets,
	    (double)t_gen64 / (double)packets);
	printf("fast path 1400 B: %.2f Mpps (%.1f ns per packet, generator %.1f ns of it)\n",
	    packets * 1e3 / (double)t_1400, (double)t_1400 / (double)packets,
	    (double)t_gen1400 / (double)packets);
	printf("{\"bench\":\"pipeline\",\"sessions\":%u,\"batch\":%d,\"packets\":%llu,"
	       "\"fastpath_64b_mpps\":%.3f,\"fastpath_1400b_mpps\":%.3f,"
	       "\"new_sessions_per_s\":%.0f,\"bytes_per_session\":%.1f,"
	       "\"generator_ns_per_packet_64b\":%.2f,\"generator_ns_per_packet_1400b\":%.2f}\n",
	    sessions, BATCH, (unsigned long long)packets, packets * 1e3 / (double)t_64,
	    packets * 1e3 / (double)t_1400, sessions * 1e9 / (double)t_new, bytes_per_session,
	    (double)t_gen64 / (double)packets, (double)t_gen1400 / (double)packets);

	pkt_pool_put_burst(b.pool, b.bufs, BATCH);
	for (unsigned i = 0; i < NPATHS; i++)
		svr_waypoint_ports_free(b.paths[i].ports);
	session_table_free(b.rt.sessions);
	pkt_pool_free(b.pool);
	return 0;
}
