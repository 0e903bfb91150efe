/*
 * Writes the seed corpus of fuzz_svr_secure: runs of genuine sealed packets for the
 * fuzz target's router (fuzz_svr_router.h). A mirror of that router runs every record
 * as the fuzz target will; its peer (the same key, the addresses swapped) makes the WAN
 * packets: sealed first packets, encrypted payloads of the sessions the runs set up and
 * sealed control packets, plus damaged copies. Checks that each genuine run opens.
 * Usage: gen_fuzz_svr_secure_corpus <dir>  (tests/fuzz/corpus/fuzz_svr_secure)
 */
#include <stdio.h>

#include "../../unit/pkt/pkt_test_build.h"
#include "fuzz_svr_router.h"

#define OP_LAN   0x01
#define OP_ON    (SVR_ENCRYPT_ON << 1)
#define OP_OFF   (SVR_ENCRYPT_OFF << 1)
#define OP_FLUSH 0x40
#define OP_MORE  0x80

static const uint8_t host_peer[4] = {10, 0, 1, 10}, host_here[4] = {10, 0, 2, 20};

struct gen {
	struct fuzz_svr_router here, peer;
	uint8_t seed[16384];
	size_t seed_len;
	uint8_t wire[PKT_BUF_DATA_MAX]; /* the last packet the peer sent */
	size_t wire_len;
	uint8_t ctrl[SVR_CTRL_OUT_MAX][512]; /* the peer's last control packets */
	size_t ctrl_len[SVR_CTRL_OUT_MAX];
	unsigned ctrl_count;
};

static void
gen_start(struct gen *g)
{
	static struct pkt_pool *pool_here, *pool_peer;

	if (pool_here == NULL) {
		pool_here = pkt_pool_new(SVR_CTRL_OUT_MAX + 4);
		pool_peer = pkt_pool_new(SVR_CTRL_OUT_MAX + 4);
		if (pool_here == NULL || pool_peer == NULL)
			abort();
	}
	fuzz_svr_router_init(&g->here, pool_here, true, false);
	fuzz_svr_router_init(&g->peer, pool_peer, true, true);
	g->seed_len = 0;
	g->ctrl_count = 0;
}

static void
gen_write(struct gen *g, const char *dir, const char *name)
{
	char path[4096];
	FILE *out;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	out = fopen(path, "wb");
	if (out == NULL || fwrite(g->seed, 1, g->seed_len, out) != g->seed_len ||
	    fclose(out) != 0) {
		perror(path);
		exit(1);
	}
}

static void
gen_end(struct gen *g, const char *dir, const char *name)
{
	gen_write(g, dir, name);
	fuzz_svr_router_fini(&g->here);
	fuzz_svr_router_fini(&g->peer);
}

static void
gen_append(struct gen *g, uint8_t op, const uint8_t *pkt, size_t len)
{
	if (g->seed_len + 3 + len > sizeof(g->seed))
		abort();
	g->seed[g->seed_len] = op | OP_MORE;
	tb_be16(g->seed + g->seed_len + 1, (uint16_t)len);
	memcpy(g->seed + g->seed_len + 3, pkt, len);
	g->seed_len += 3 + len;
}

/* The peer receives p (a packet of ours toward the WAN); whatever it lets out is dropped. */
static void
gen_peer_wan(struct gen *g, struct pkt_buf *p)
{
	struct pkt_buf *out = fuzz_svr_router_input(&g->peer, true, 0, pkt_buf_data(p), p->len);

	if (out != NULL)
		pkt_pool_put(g->peer.pool, out);
}

/* Keeps the peer's control packets for the records that follow, then settles it. */
static void
gen_peer_settle(struct gen *g)
{
	g->ctrl_count = 0;
	for (unsigned i = 0; i < g->peer.rt.ctrl_out_count; i++) {
		struct pkt_buf *c = g->peer.rt.ctrl_out[i];

		if (c->len > sizeof(g->ctrl[0]))
			abort();
		memcpy(g->ctrl[g->ctrl_count], pkt_buf_data(c), c->len);
		g->ctrl_len[g->ctrl_count++] = c->len;
	}
	fuzz_svr_router_settle(&g->peer);
}

/*
 * One record for the fuzz target's router, run by its mirror here; what it sends toward
 * the WAN (the packet, then its control packets) reaches the peer. Returns whether the
 * packet got through.
 */
static bool
gen_record(struct gen *g, uint8_t op, const uint8_t *pkt, size_t len)
{
	struct pkt_buf *out;

	gen_append(g, op, pkt, len);
	out = fuzz_svr_router_input(&g->here, !(op & OP_LAN), op >> 1 & 3, pkt, len);
	if (out != NULL) {
		if (op & OP_LAN)
			gen_peer_wan(g, out);
		pkt_pool_put(g->here.pool, out);
	}
	if (op & OP_FLUSH)
		svr_router_flush(&g->here.rt);
	for (unsigned i = 0; i < g->here.rt.ctrl_out_count; i++)
		gen_peer_wan(g, g->here.rt.ctrl_out[i]);
	fuzz_svr_router_settle(&g->here);
	gen_peer_settle(g);
	return out != NULL;
}

/* A UDP packet between the hosts (from the peer's host when from_peer). */
static size_t
gen_udp(uint8_t *pkt, bool from_peer, uint16_t sport, uint16_t dport, const char *text)
{
	size_t n = strlen(text), l4 = 8 + n;

	tb_ipv4_hdr_addr(pkt, TB_PROTO_UDP, 20 + l4, 0, 0x4000, from_peer ? host_peer : host_here,
	    from_peer ? host_here : host_peer, NULL, 0);
	tb_udp(pkt + 20, sport, dport, n);
	memcpy(pkt + 28, text, n);
	tb_be16(pkt + 26, tb_l4_csum(pkt, false, TB_PROTO_UDP, pkt + 20, l4, 6));
	return 20 + l4;
}

static size_t
gen_tcp(uint8_t *pkt, bool from_peer, uint16_t sport, uint16_t dport, uint8_t flags,
    const char *text)
{
	size_t n = strlen(text), l4 = 20 + n;

	tb_ipv4_hdr_addr(pkt, TB_PROTO_TCP, 20 + l4, 0, 0x4000, from_peer ? host_peer : host_here,
	    from_peer ? host_here : host_peer, NULL, 0);
	tb_tcp(pkt + 20, sport, dport, flags, NULL, 0);
	memcpy(pkt + 40, text, n);
	tb_be16(pkt + 36, tb_l4_csum(pkt, false, TB_PROTO_TCP, pkt + 20, l4, 16));
	return 20 + l4;
}

/* The peer's host sends pkt: the peer's wire packet lands in g->wire. */
static void
gen_peer_send(struct gen *g, const uint8_t *pkt, size_t len, uint8_t encrypt)
{
	struct pkt_buf *out = fuzz_svr_router_input(&g->peer, false, encrypt, pkt, len);

	if (out == NULL) {
		fprintf(stderr, "gen: the peer dropped a host packet\n");
		exit(1);
	}
	memcpy(g->wire, pkt_buf_data(out), out->len);
	g->wire_len = out->len;
	pkt_pool_put(g->peer.pool, out);
	gen_peer_settle(g);
}

/* Fails the generator (with the drops the mirror counted) unless ok. */
static void
gen_expect(const struct gen *g, bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "gen: %s\n", what);
	for (int i = 0; i < PKT_DROP_COUNT; i++)
		if (g->here.drops.count[i] != 0)
			fprintf(stderr, "  drop %s: %llu\n", pkt_drop_reason_name(i),
			    (unsigned long long)g->here.drops.count[i]);
	exit(1);
}

/* A sealed first packet from the peer, alone, in each encrypt mode. */
static void
gen_first(struct gen *g, const char *dir)
{
	static const struct {
		const char *name;
		uint8_t op;
	} modes[] = {{"sealed-first-udp", 0}, {"sealed-first-udp-on", OP_ON},
	    {"sealed-first-udp-off", OP_OFF}};
	uint8_t pkt[256];

	for (unsigned i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		gen_start(g);
		gen_peer_send(g, pkt, gen_udp(pkt, true, 40000, 53, "query-first"), 0);
		gen_expect(g, gen_record(g, modes[i].op, g->wire, g->wire_len),
		    "first packet dropped");
		gen_expect(g, g->here.rt.stats.meta_opened == 1, "first packet not opened");
		gen_end(g, dir, modes[i].name);
	}
	/* The same first packet twice: the second is a replay. */
	gen_start(g);
	gen_peer_send(g, pkt, gen_udp(pkt, true, 40001, 53, "query-replayed"), 0);
	gen_record(g, 0, g->wire, g->wire_len);
	gen_record(g, 0, g->wire, g->wire_len);
	gen_expect(g, g->here.drops.count[PKT_DROP_SEC_REPLAY] == 1, "replay not seen");
	gen_end(g, dir, "sealed-first-replayed");
}

/*
 * A UDP session the peer opens: queries from the peer's host, answers from ours (their
 * reverse metadata and decisions reach the peer), idle passes that send acks, then
 * encrypted payloads without metadata. bad_last flips a bit of the last payload.
 */
static void
gen_udp_session(struct gen *g, const char *dir, const char *name, bool bad_last)
{
	uint8_t pkt[256];

	gen_start(g);
	for (int i = 0; i < 6; i++) {
		gen_peer_send(g, pkt, gen_udp(pkt, true, 40002, 53, "SECRET-query"), 0);
		if (i == 5 && bad_last) {
			/* The tag, under a UDP checksum that still holds. */
			g->wire[g->wire_len - 1] ^= 0x10;
			tb_be16(g->wire + 26,
			    tb_l4_csum(g->wire, false, TB_PROTO_UDP, g->wire + 20, g->wire_len - 20,
			        6));
		}
		gen_record(g, i >= 3 ? OP_FLUSH : 0, g->wire, g->wire_len);
		/* The peer's acks (control packets when idle) come back to us. */
		svr_router_flush(&g->peer.rt);
		gen_peer_settle(g);
		for (unsigned k = 0, n = g->ctrl_count; k < n; k++)
			gen_record(g, 0, g->ctrl[k], g->ctrl_len[k]);
		if (i < 4)
			gen_record(g, OP_LAN | OP_FLUSH, pkt,
			    gen_udp(pkt, false, 53, 40002, "SECRET-answer"));
	}
	gen_expect(g, g->here.rt.stats.payload_opened >= 3, "no payload opened");
	if (bad_last)
		gen_expect(g, g->here.drops.count[PKT_DROP_SEC_AUTH_FAILED] == 1,
		    "bad tag not seen");
	fprintf(stderr, "%s: meta opened %llu, payload opened %llu, control rx %llu\n", name,
	    (unsigned long long)g->here.rt.stats.meta_opened,
	    (unsigned long long)g->here.rt.stats.payload_opened,
	    (unsigned long long)g->here.rt.stats.control_rx);
	gen_end(g, dir, name);
}

/* A TCP connection the peer opens: handshake, then a request and an answer, twice. */
static void
gen_tcp_session(struct gen *g, const char *dir)
{
	uint8_t pkt[256];

	gen_start(g);
	gen_peer_send(g, pkt, gen_tcp(pkt, true, 50000, 80, 0x02, ""), 0);
	gen_record(g, 0, g->wire, g->wire_len);
	gen_record(g, OP_LAN, pkt, gen_tcp(pkt, false, 80, 50000, 0x12, ""));
	for (int i = 0; i < 3; i++) {
		gen_peer_send(g, pkt, gen_tcp(pkt, true, 50000, 80, 0x18, "GET /SECRET"), 0);
		gen_record(g, 0, g->wire, g->wire_len);
		gen_record(g, OP_LAN | OP_FLUSH, pkt,
		    gen_tcp(pkt, false, 80, 50000, 0x18, "HTTP/1.1 200 OK"));
	}
	gen_expect(g, g->here.rt.stats.payload_opened >= 2, "no TCP payload opened");
	gen_end(g, dir, "sealed-tcp-session");
}

/*
 * Our host sends one way: after the fourth forward metadata packet the peer sends a
 * sealed disable-forward-metadata control packet, which comes back to us.
 */
static void
gen_one_way(struct gen *g, const char *dir)
{
	uint8_t pkt[256];
	bool ctrl = false;

	gen_start(g);
	for (int i = 0; i < 6; i++) {
		gen_record(g, OP_LAN, pkt, gen_udp(pkt, false, 5004, 6000, "SECRET-stream"));
		svr_router_flush(&g->peer.rt);
		gen_peer_settle(g);
		for (unsigned k = 0, n = g->ctrl_count; k < n; k++) {
			gen_record(g, 0, g->ctrl[k], g->ctrl_len[k]);
			ctrl = true;
		}
	}
	gen_expect(g, ctrl && g->here.rt.stats.control_rx >= 1, "no control packet");
	gen_end(g, dir, "sealed-control-one-way");
}

int
main(int argc, char **argv)
{
	static struct gen g;

	if (argc != 2) {
		fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
		return 2;
	}
	gen_first(&g, argv[1]);
	gen_udp_session(&g, argv[1], "sealed-udp-session", false);
	gen_udp_session(&g, argv[1], "sealed-udp-session-bad-tag", true);
	gen_tcp_session(&g, argv[1]);
	gen_one_way(&g, argv[1]);
	return 0;
}
