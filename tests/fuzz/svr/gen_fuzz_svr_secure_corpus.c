/*
 * Writes the seed corpus of fuzz_svr_secure: runs of genuine sealed packets for the
 * fuzz target's router (fuzz_svr_router.h). A mirror of that router runs every record
 * as the fuzz target will; its peer (the same key, the addresses swapped) makes the WAN
 * packets: sealed first packets, encrypted payloads of the sessions the runs set up and
 * sealed control packets, plus damaged copies. Checks that each genuine run opens.
 * It also writes ICMP error carriers (docs/protocol.md section 19), genuine and
 * malformed, as runs for fuzz_svr_secure and, without security, as single packets for
 * fuzz_svr_transform (whose router keeps its sessions from one input to the next: the
 * seed icmp-0-session-first opens the session the others name).
 * Usage: gen_fuzz_svr_secure_corpus <dir> [<transform dir>]
 *   (tests/fuzz/corpus/fuzz_svr_secure tests/fuzz/corpus/fuzz_svr_transform)
 */
#include <stdio.h>

#include "../../unit/pkt/pkt_test_build.h"
#include "fuzz_svr_router.h"
#include "svr/svr_seal.h"

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
	uint8_t out[PKT_BUF_DATA_MAX]; /* the last packet the mirror let through */
	size_t out_len;
	uint8_t delivered[PKT_BUF_DATA_MAX]; /* the last packet the peer let through */
	size_t delivered_len;
	uint8_t ctrl[SVR_CTRL_OUT_MAX][512]; /* the peer's last control packets */
	size_t ctrl_len[SVR_CTRL_OUT_MAX];
	unsigned ctrl_count;
};

static void
gen_start_mode(struct gen *g, bool security)
{
	static struct pkt_pool *pool_here, *pool_peer;

	if (pool_here == NULL) {
		pool_here = pkt_pool_new(SVR_CTRL_OUT_MAX + 4);
		pool_peer = pkt_pool_new(SVR_CTRL_OUT_MAX + 4);
		if (pool_here == NULL || pool_peer == NULL)
			abort();
	}
	fuzz_svr_router_init(&g->here, pool_here, security, false);
	fuzz_svr_router_init(&g->peer, pool_peer, security, true);
	g->seed_len = 0;
	g->ctrl_count = 0;
}

static void
gen_start(struct gen *g)
{
	gen_start_mode(g, true);
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

	if (out != NULL) {
		memcpy(g->delivered, pkt_buf_data(out), out->len);
		g->delivered_len = out->len;
		pkt_pool_put(g->peer.pool, out);
	}
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
		memcpy(g->out, pkt_buf_data(out), out->len);
		g->out_len = out->len;
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

/* ---- ICMP errors carried along their session (docs/protocol.md section 19) ---- */

/* Carrier variants (gen_carrier). */
#define CARRIER_WRONG_UUID 0x01 /* TLV 6 names another session */
#define CARRIER_NO_MSG     0x02 /* TLV 20 without 0x8004 */
#define CARRIER_SHORT_MSG  0x04 /* 0x8004 of 4 bytes (under the 8 of an ICMP header) */
#define CARRIER_OVERRUN    0x08 /* 0x8004's length runs past the payload section */
#define CARRIER_LONG_MSG   0x10 /* 0x8004 of 420 bytes (a sender cuts at 400): malformed */
#define CARRIER_V6_LOC     0x20 /* TLV 21 (IPv6 location) for an IPv4 session */
#define CARRIER_TCP_INSIDE 0x40 /* the embedded packet says TCP, the session is UDP */

/* A port unreachable from the host that got pkt (the whole of it, as delivered), to its sender. */
static size_t
gen_icmp_unreach(uint8_t *err, const uint8_t *pkt, size_t len)
{
	tb_ipv4_hdr_addr(err, TB_PROTO_ICMP, 28 + len, 0, 0, pkt + 16, pkt + 12, NULL, 0);
	memset(err + 20, 0, 8);
	err[20] = 3; /* destination unreachable */
	err[21] = 3; /* port unreachable */
	memcpy(err + 28, pkt, len);
	tb_be16(err + 22, tb_csum(err + 20, 8 + len));
	return 28 + len;
}

/*
 * A carrier from the peer for its only session, made as svr_lan_icmp_err() makes one
 * (sealed with the peer's key when security is on) but damaged as flags say, on the IP
 * and UDP header of the genuine carrier g->wire. msg: the ICMP message from its type byte.
 */
static size_t
gen_carrier(struct gen *g, uint8_t *pkt, const uint8_t *msg, size_t msg_len, unsigned flags)
{
	static const uint8_t loc_v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	uint8_t block[SVR_META_MAX_LEN + SVR_SEAL_OVERHEAD], value[SVR_META_MAX_LEN];
	const struct session *s =
	    session_table_get(g->peer.rt.sessions, session_table_next(g->peer.rt.sessions, 0));
	struct svr_meta m;
	size_t len, tlv_len;

	memset(&m, 0, sizeof(m));
	m.present = SVR_META_F_UUID | SVR_META_F_ICMP_ERROR_LOC;
	memcpy(m.uuid, s->uuid, sizeof(m.uuid));
	if (flags & CARRIER_WRONG_UUID)
		m.uuid[15] ^= 0x01;
	if (flags & CARRIER_V6_LOC)
		addr_set_v6(&m.icmp_error_loc, loc_v6);
	else
		addr_set_v4(&m.icmp_error_loc, host_peer);
	if (g->peer.rt.security) {
		m.present |= SVR_META_F_SECURITY_ID;
		m.security_id = FUZZ_SVR_KEY_INDEX;
	}
	if (svr_meta_encode(&m, block, SVR_META_MAX_LEN, &len) < 0)
		abort();
	memset(value, 0, sizeof(value));
	memcpy(value, msg, msg_len);
	if (flags & CARRIER_SHORT_MSG)
		msg_len = 4;
	if (flags & CARRIER_LONG_MSG)
		msg_len = 420;
	if (flags & CARRIER_TCP_INSIDE) {
		value[8 + 9] = TB_PROTO_TCP;
		tb_be16(value + 8 + 10, 0);
		tb_be16(value + 8 + 10, tb_csum(value + 8, 20));
	}
	tlv_len = flags & CARRIER_OVERRUN ? msg_len + 64 : msg_len;
	if (!(flags & CARRIER_NO_MSG)) {
		tb_be16(block + len, SVR_TLV_TERN_ICMP_ERROR);
		tb_be16(block + len + 2, (uint16_t)tlv_len);
		memcpy(block + len + 4, value, msg_len);
		tb_be16(block + SVR_META_COOKIE_LEN + 2,
		    (uint16_t)(svr_meta_payload_len(block) + 4 + msg_len));
		len += 4 + msg_len;
	}
	if (g->peer.rt.security && svr_seal_block(&g->peer.keys, block, &len, sizeof(block)) < 0)
		abort();
	memcpy(pkt, g->wire, 28);
	memcpy(pkt + 28, block, len);
	tb_be16(pkt + 2, (uint16_t)(28 + len));
	tb_be16(pkt + 10, 0);
	tb_be16(pkt + 10, tb_csum(pkt, 20));
	tb_be16(pkt + 24, (uint16_t)(8 + len));
	tb_be16(pkt + 26, 0);
	tb_be16(pkt + 26, tb_l4_csum(pkt, false, TB_PROTO_UDP, pkt + 20, 8 + len, 6));
	return 28 + len;
}

/* One packet as a seed of fuzz_svr_transform: its side byte, then the packet. */
static void
gen_write_single(const char *dir, const char *name, uint8_t op, const uint8_t *pkt, size_t len)
{
	char path[4096];
	FILE *out;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	out = fopen(path, "wb");
	if (out == NULL || fputc(op, out) == EOF || fwrite(pkt, 1, len, out) != len ||
	    fclose(out) != 0) {
		perror(path);
		exit(1);
	}
}

/*
 * One seed per carrier variant (and one for an error at our LAN): the peer's host opens
 * a UDP session, ours answers, then the last record is the ICMP error. With security the
 * seeds are runs for fuzz_svr_secure in dir ("sealed-icmp-..."); without, each record is
 * a seed of its own for fuzz_svr_transform in dir ("icmp-...").
 */
static void
gen_icmp(struct gen *g, const char *dir, bool security)
{
	static const struct {
		const char *name;
		unsigned flags;
		enum pkt_drop_reason drop; /* PKT_DROP_COUNT: delivered to our host */
	} variants[] = {
	    {"carrier", 0, PKT_DROP_COUNT},
	    {"carrier-wrong-uuid", CARRIER_WRONG_UUID, PKT_DROP_SVR_CONTEXT_MISMATCH},
	    {"carrier-no-8004", CARRIER_NO_MSG, PKT_DROP_FW_ICMP_ERROR_MALFORMED},
	    {"carrier-8004-short", CARRIER_SHORT_MSG, PKT_DROP_FW_ICMP_ERROR_MALFORMED},
	    {"carrier-8004-overrun", CARRIER_OVERRUN, PKT_DROP_META_TLV_OVERRUN},
	    {"carrier-8004-long", CARRIER_LONG_MSG, PKT_DROP_FW_ICMP_ERROR_MALFORMED},
	    {"carrier-v6-location", CARRIER_V6_LOC, PKT_DROP_PROTO_UNSUPPORTED},
	    {"carrier-tcp-inside", CARRIER_TCP_INSIDE, PKT_DROP_FW_ICMP_ERROR_MALFORMED},
	    {"lan-error", 0, PKT_DROP_COUNT},
	};
	uint8_t pkt[1024], err[1024], carrier[1024];
	char name[128];
	size_t n;

	for (unsigned i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		bool lan = strcmp(variants[i].name, "lan-error") == 0;

		gen_start_mode(g, security);
		gen_peer_send(g, pkt, gen_udp(pkt, true, 40003, 53, "query-icmp"), 0);
		gen_expect(g, gen_record(g, 0, g->wire, g->wire_len), "icmp: first packet dropped");
		if (!security && i == 0)
			gen_write_single(dir, "icmp-0-session-first", 0, g->wire, g->wire_len);
		if (lan) {
			/* Our host refuses the query it got: the error goes to the peer's host. */
			n = gen_icmp_unreach(err, g->out, g->out_len);
			gen_expect(g, gen_record(g, OP_LAN, err, n), "icmp: LAN error not carried");
			gen_expect(g,
			    g->here.rt.stats.icmp_errors_tx == 1 &&
			        g->peer.rt.stats.icmp_errors_rx == 1,
			    "icmp: LAN error not delivered at the peer");
			if (!security)
				gen_write_single(dir, "icmp-lan-error", OP_LAN, err, n);
		} else {
			/* Our host answers; the peer's host refuses the answer. */
			gen_record(g, OP_LAN, pkt, gen_udp(pkt, false, 53, 40003, "answer-icmp"));
			n = gen_icmp_unreach(err, g->delivered, g->delivered_len);
			gen_peer_send(g, err, n, 0);
			n = variants[i].flags == 0 ?
			    g->wire_len :
			    gen_carrier(g, carrier, err + 20, n - 20, variants[i].flags);
			if (variants[i].flags == 0)
				memcpy(carrier, g->wire, n);
			gen_record(g, 0, carrier, n);
			if (variants[i].drop == PKT_DROP_COUNT)
				gen_expect(g, g->here.rt.stats.icmp_errors_rx == 1,
				    "icmp: carrier not delivered");
			else
				gen_expect(g, g->here.drops.count[variants[i].drop] == 1,
				    "icmp: carrier not dropped as expected");
			if (!security) {
				snprintf(name, sizeof(name), "icmp-%s", variants[i].name);
				gen_write_single(dir, name, 0, carrier, n);
			}
		}
		snprintf(name, sizeof(name), "sealed-icmp-%s", variants[i].name);
		if (security)
			gen_end(g, dir, name);
		else {
			fuzz_svr_router_fini(&g->here);
			fuzz_svr_router_fini(&g->peer);
		}
	}
}

int
main(int argc, char **argv)
{
	static struct gen g;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: %s <corpus dir> [<transform corpus dir>]\n", argv[0]);
		return 2;
	}
	gen_first(&g, argv[1]);
	gen_udp_session(&g, argv[1], "sealed-udp-session", false);
	gen_udp_session(&g, argv[1], "sealed-udp-session-bad-tag", true);
	gen_tcp_session(&g, argv[1]);
	gen_one_way(&g, argv[1]);
	gen_icmp(&g, argv[1], true);
	if (argc == 3)
		gen_icmp(&g, argv[2], false);
	return 0;
}
