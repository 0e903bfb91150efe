/*
 * Two SVR routers with security on and crosswise keys, joined by direct calls:
 *
 *   host A -- router A (wp 203.0.113.1) ==== wire ==== router B (wp 198.51.100.2) -- host B
 *
 * Router A sends with key K_ab under B's receive index, B with K_ba under A's. Every
 * exchange checks that the other host receives what was sent byte for byte, what the
 * wire carried (trailer or not, no plaintext) and the drop counters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "crypto/crypto_aead.h"
#include "lib/buf.h"
#include "pkt/pkt_csum.h"
#include "pkt/pkt_parse.h"
#include "session/session_table.h"
#include "svr/svr_keys.h"
#include "svr/svr_meta.h"
#include "svr/svr_seal.h"
#include "svr/svr_transform.h"
#include "svr/svr_waypoint.h"
#include "svr_test_lab.h"
#include "test_rand.h"

#define WIRE_MAX 4096

struct lab {
	struct svr_test_lab base;
	uint8_t wire[WIRE_MAX]; /* the last data packet on the wire */
	size_t wire_len;
};

static struct lab the_lab;

static int
lab_setup(void **state, uint8_t family, uint8_t wan_family)
{
	struct lab *lab = &the_lab;

	memset(lab, 0, sizeof(*lab));
	svr_test_lab_init(&lab->base, family, wan_family, 128, 7, true);
	svr_test_lab_keys_install(&lab->base);
	*state = lab;
	return 0;
}

SVR_TEST_SETUP(setup_v4, lab_setup(state, ADDR_FAMILY_V4, ADDR_FAMILY_V4))
SVR_TEST_SETUP(setup_v6, lab_setup(state, ADDR_FAMILY_V6, ADDR_FAMILY_V6))
SVR_TEST_SETUP(setup_v4_over_v6, lab_setup(state, ADDR_FAMILY_V4, ADDR_FAMILY_V6))
SVR_TEST_SETUP(setup_v6_over_v4, lab_setup(state, ADDR_FAMILY_V6, ADDR_FAMILY_V4))

static int
lab_teardown(void **state)
{
	struct lab *lab = *state;

	svr_test_lab_fini(&lab->base);
	return 0;
}

/* The TCP segments of these tests ack 1 when they carry the ACK flag. */
static size_t
tcp_segment(uint8_t *l4, uint16_t sport, uint16_t dport, uint32_t seq, uint8_t flags,
    const void *data, size_t n)
{
	return svr_test_tcp_segment(l4, sport, dport, seq, flags & 0x10 ? 1 : 0, flags, data, n);
}

static size_t
icmp_echo(uint8_t *l4, uint8_t family, bool request, uint16_t id, uint16_t seq)
{
	return svr_test_icmp_echo(l4, family, request, id, seq, "SECRET-icmp-payload-0123456789ab");
}

/* A host packet into router r from the LAN: the wire packet, or NULL if dropped. */
static struct pkt_buf *
lan_in(struct lab *lab, struct svr_test_router *r, const uint8_t *bytes, size_t len)
{
	struct pkt_buf *p = pkt_pool_get(lab->base.pool);
	enum pkt_drop_reason reason;
	enum svr_verdict v;

	assert_non_null(p);
	assert_int_equal(pkt_buf_set(p, bytes, len), 0);
	assert_int_equal(pkt_parse(p, &reason), 0);
	svr_test_router_lan(&lab->base, r, &p, 1, &v);
	if (v != SVR_VERDICT_TO_WAN) {
		pkt_pool_put(lab->base.pool, p);
		return NULL;
	}
	return p;
}

/* A wire packet into router r from the WAN (consumed): the host packet or NULL. */
static struct pkt_buf *
wan_in(struct lab *lab, struct svr_test_router *r, struct pkt_buf *p)
{
	enum pkt_drop_reason reason;
	enum svr_verdict v = SVR_VERDICT_DROP;

	if (pkt_parse(p, &reason) == 0)
		svr_test_router_wan(&lab->base, r, &p, 1, &v);
	if (v != SVR_VERDICT_TO_LAN) {
		pkt_pool_put(lab->base.pool, p);
		return NULL;
	}
	return p;
}

/* Delivers the control packets each router originated to the other. */
static void
ctrl_deliver(struct lab *lab)
{
	struct svr_test_router *from[2] = {&lab->base.a, &lab->base.b},
	                       *to[2] = {&lab->base.b, &lab->base.a};

	for (int k = 0; k < 2; k++) {
		unsigned n = from[k]->rt.ctrl_out_count;
		struct pkt_buf *c[SVR_CTRL_OUT_MAX];

		memcpy(c, from[k]->rt.ctrl_out, n * sizeof(c[0]));
		from[k]->rt.ctrl_out_count = 0;
		for (unsigned i = 0; i < n; i++)
			assert_null(wan_in(lab, to[k], c[i]));
	}
}

/*
 * Sends a host packet from A or B: returns the wire length; the other host must get
 * exactly the packet (expect_ok) or nothing.
 */
static size_t
send_pkt(struct lab *lab, bool from_a, uint8_t proto, const uint8_t *l4, size_t l4_len,
    bool expect_ok)
{
	uint8_t sent[2048];
	size_t len = svr_test_host_packet(&lab->base, sent, from_a, proto, l4, l4_len);
	struct pkt_buf *w = lan_in(lab, from_a ? &lab->base.a : &lab->base.b, sent, len), *h;

	if (w == NULL) {
		svr_test_drops_print(&lab->base);
		fail_msg("the sending router dropped the packet");
	}
	memcpy(lab->wire, w->buf + w->head, w->len);
	lab->wire_len = w->len;
	h = wan_in(lab, from_a ? &lab->base.b : &lab->base.a, w);
	if (!expect_ok) {
		assert_null(h);
		ctrl_deliver(lab);
		return lab->wire_len;
	}
	if (h == NULL)
		svr_test_drops_print(&lab->base);
	assert_non_null(h);
	assert_int_equal(h->len, len);
	if (memcmp(h->buf + h->head, sent, len) != 0) {
		for (size_t i = 0; i < len; i++)
			if (h->buf[h->head + i] != sent[i])
				print_message("differs at %zu: %02x want %02x\n", i,
				    h->buf[h->head + i], sent[i]);
	}
	assert_memory_equal(h->buf + h->head, sent, len);
	pkt_pool_put(lab->base.pool, h);
	ctrl_deliver(lab);
	return lab->wire_len;
}

static const char http_req[] = "GET /SECRET HTTP/1.1\r\nHost: x\r\n\r\n";
static const char http_resp[] = "HTTP/1.1 200 OK\r\n\r\nSECRET body";

static void
tcp_conversation(struct lab *lab)
{
	uint8_t l4[512];
	size_t n, wire, plain_hdr = lab->base.wan_family == ADDR_FAMILY_V4 ? 20 : 40;

	n = tcp_segment(l4, 50000, 80, 1000, 0x02, NULL, 0);
	send_pkt(lab, true, IPPROTO_TCP, l4, n, true);
	n = tcp_segment(l4, 80, 50000, 9000, 0x12, NULL, 0);
	send_pkt(lab, false, IPPROTO_TCP, l4, n, true);
	for (int i = 0; i < 4; i++) {
		n = tcp_segment(l4, 50000, 80, 1001, 0x18, http_req, sizeof(http_req) - 1);
		wire = send_pkt(lab, true, IPPROTO_TCP, l4, n, true);
		assert_false(svr_test_contains(lab->wire, lab->wire_len, "SECRET"));
		if (i >= 2) /* acked, no more metadata: exactly the trailer */
			assert_int_equal(wire, plain_hdr + n + CRYPTO_AEAD_TRAILER_LEN);
		n = tcp_segment(l4, 80, 50000, 9001, 0x18, http_resp, sizeof(http_resp) - 1);
		wire = send_pkt(lab, false, IPPROTO_TCP, l4, n, true);
		assert_false(svr_test_contains(lab->wire, lab->wire_len, "SECRET"));
		if (i >= 2)
			assert_int_equal(wire, plain_hdr + n + CRYPTO_AEAD_TRAILER_LEN);
	}
	assert_int_equal(svr_test_lab_drops(&lab->base), 0);
	assert_true(lab->base.a.rt.stats.payload_sealed >= 4);
	assert_true(lab->base.b.rt.stats.payload_opened >= 4);
	assert_true(lab->base.a.rt.stats.meta_sealed > 0);
	assert_int_equal(lab->base.a.rt.stats.decisions[SVR_PROT_REASON_AUTO], 1);
}

static void
test_secure_tcp(void **state)
{
	tcp_conversation(*state);
}

static void
test_secure_udp_icmp(void **state)
{
	struct lab *lab = *state;
	uint8_t l4[512];
	size_t n;

	for (int i = 0; i < 5; i++) {
		n = svr_test_udp_datagram(l4, 40000, 53, "SECRET-query", 12);
		send_pkt(lab, true, IPPROTO_UDP, l4, n, true);
		assert_false(svr_test_contains(lab->wire, lab->wire_len, "SECRET"));
		n = svr_test_udp_datagram(l4, 53, 40000, "SECRET-answer", 13);
		send_pkt(lab, false, IPPROTO_UDP, l4, n, true);
		assert_false(svr_test_contains(lab->wire, lab->wire_len, "SECRET"));
	}
	for (int i = 0; i < 3; i++) {
		uint8_t proto = lab->base.family == ADDR_FAMILY_V4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;

		n = icmp_echo(l4, lab->base.family, true, 7, (uint16_t)i);
		send_pkt(lab, true, proto, l4, n, true);
		assert_false(svr_test_contains(lab->wire, lab->wire_len, "SECRET"));
		n = icmp_echo(l4, lab->base.family, false, 7, (uint16_t)i);
		send_pkt(lab, false, proto, l4, n, true);
		assert_false(svr_test_contains(lab->wire, lab->wire_len, "SECRET"));
	}
	assert_int_equal(svr_test_lab_drops(&lab->base), 0);
}

/* A one-way UDP flow: the receiver acks with a sealed control packet. */
static void
test_secure_udp_one_way_acked(void **state)
{
	struct lab *lab = *state;
	uint8_t l4[512];
	size_t n, wire = 0;

	for (int i = 0; i < 6; i++) {
		n = svr_test_udp_datagram(l4, 40000, 5004, "SECRET-stream", 13);
		wire = send_pkt(lab, true, IPPROTO_UDP, l4, n, true);
		svr_router_flush(&lab->base.b.rt); /* the worker goes idle */
		ctrl_deliver(lab);
	}
	assert_true(lab->base.b.rt.stats.prot_acks_tx >= 1);
	assert_int_equal(wire, (size_t)(lab->base.wan_family == ADDR_FAMILY_V4 ? 20 : 40) + n + 24);
	assert_int_equal(svr_test_lab_drops(&lab->base), 0);
}

static const uint8_t tls_record[] = {0x16, 0x03, 0x01, 0x00, 0x10, 'S', 'E', 'C', 'R', 'E', 'T',
    '-', 't', 'l', 's', '-', 'h', 'e', 'l', 'l', 'o'};
static const uint8_t quic_initial[] = {0xc3, 0x00, 0x00, 0x00, 0x01, 0x08, 1, 2, 3, 4, 5, 6, 7, 8,
    0x08, 8, 7, 6, 5, 4, 3, 2, 1, 'S', 'E', 'C', 'R', 'E', 'T', 0x00, 0x40, 0x20};

static void
test_secure_already_encrypted_is_clear(void **state)
{
	struct lab *lab = *state;
	uint8_t l4[512];
	size_t n, wire, hdr = lab->base.wan_family == ADDR_FAMILY_V4 ? 20 : 40;
	struct svr_protection prot;
	struct session *s;

	n = tcp_segment(l4, 50001, 443, 1000, 0x02, NULL, 0);
	send_pkt(lab, true, IPPROTO_TCP, l4, n, true);
	n = tcp_segment(l4, 443, 50001, 9000, 0x12, NULL, 0);
	send_pkt(lab, false, IPPROTO_TCP, l4, n, true);
	for (int i = 0; i < 4; i++) {
		n = tcp_segment(l4, 50001, 443, 1001, 0x18, tls_record, sizeof(tls_record));
		wire = send_pkt(lab, true, IPPROTO_TCP, l4, n, true);
		if (i >= 2)
			assert_int_equal(wire, hdr + n); /* no trailer, no block */
		n = tcp_segment(l4, 443, 50001, 9001, 0x18, tls_record, sizeof(tls_record));
		wire = send_pkt(lab, false, IPPROTO_TCP, l4, n, true);
		if (i >= 2)
			assert_int_equal(wire, hdr + n);
	}
	for (int i = 0; i < 4; i++) {
		n = svr_test_udp_datagram(l4, 40001, 443, quic_initial, sizeof(quic_initial));
		wire = send_pkt(lab, true, IPPROTO_UDP, l4, n, true);
		if (i >= 2)
			assert_int_equal(wire, hdr + n);
		n = svr_test_udp_datagram(l4, 443, 40001, quic_initial, sizeof(quic_initial));
		send_pkt(lab, false, IPPROTO_UDP, l4, n, true);
	}
	assert_int_equal(lab->base.a.rt.stats.payload_sealed, 0);
	assert_int_equal(lab->base.a.rt.stats.decisions[1], 1); /* tls */
	assert_int_equal(lab->base.a.rt.stats.decisions[3], 1); /* quic */
	s = session_table_get(lab->base.a.rt.sessions,
	    session_table_next(lab->base.a.rt.sessions, 0));
	assert_non_null(s);
	svr_session_protection(s, &prot);
	assert_true(prot.dir[SESSION_DIR_LAN_TO_WAN].decided);
	assert_false(prot.dir[SESSION_DIR_LAN_TO_WAN].encrypted);
	assert_true(prot.dir[SESSION_DIR_LAN_TO_WAN].acked);
	assert_true(prot.dir[SESSION_DIR_WAN_TO_LAN].decided);
	assert_string_equal(prot.dir[SESSION_DIR_LAN_TO_WAN].reason_name, "tls");
	assert_int_equal(svr_test_lab_drops(&lab->base), 0);
}

static void
test_secure_forced_on_off(void **state)
{
	struct lab *lab = *state;
	uint8_t l4[512];
	size_t n;

	lab->base.a.encrypt = SVR_ENCRYPT_ON;
	for (int i = 0; i < 3; i++) {
		n = svr_test_udp_datagram(l4, 40002, 443, tls_record, sizeof(tls_record));
		send_pkt(lab, true, IPPROTO_UDP, l4, n, true);
		assert_false(svr_test_contains(lab->wire, lab->wire_len, "SECRET"));
	}
	assert_int_equal(lab->base.a.rt.stats.decisions[SVR_PROT_REASON_FORCED_ON], 1);
	lab->base.a.encrypt = SVR_ENCRYPT_OFF;
	for (int i = 0; i < 3; i++) {
		n = svr_test_udp_datagram(l4, 40003, 80, http_req, sizeof(http_req) - 1);
		send_pkt(lab, true, IPPROTO_UDP, l4, n, true);
		assert_true(svr_test_contains(lab->wire, lab->wire_len, "SECRET"));
	}
	assert_int_equal(lab->base.a.rt.stats.decisions[SVR_PROT_REASON_FORCED_OFF], 1);
	assert_int_equal(svr_test_lab_drops(&lab->base), 0);
}

/* Delivers a copy of the last wire packet to B with one bit flipped at off (checksums fixed). */
static void
deliver_flipped(struct lab *lab, size_t off, enum pkt_drop_reason expect)
{
	struct pkt_buf *w = pkt_pool_get(lab->base.pool);
	enum pkt_drop_reason reason;
	uint64_t before = lab->base.b.drops.count[expect];

	assert_non_null(w);
	assert_int_equal(pkt_buf_set(w, lab->wire, lab->wire_len), 0);
	if (off != SIZE_MAX)
		w->buf[w->head + off] ^= 0x10;
	assert_int_equal(pkt_parse(w, &reason), 0);
	pkt_csum_fill(w->buf + w->head, &w->info);
	assert_null(wan_in(lab, &lab->base.b, w));
	assert_int_equal(lab->base.b.drops.count[expect], before + 1);
}

/*
 * A sends a UDP datagram; B first gets a copy with a bit flipped at off (from the end
 * when negative): dropped for expect; then the real one, intact; then a replay of it.
 */
static void
send_tampered(struct lab *lab, long off, enum pkt_drop_reason expect)
{
	uint8_t l4[64], sent[256];
	size_t n, len;
	struct pkt_buf *w, *h;

	n = svr_test_udp_datagram(l4, 40004, 7, "SECRET-echo", 11);
	len = svr_test_host_packet(&lab->base, sent, true, IPPROTO_UDP, l4, n);
	w = lan_in(lab, &lab->base.a, sent, len);
	assert_non_null(w);
	memcpy(lab->wire, w->buf + w->head, w->len);
	lab->wire_len = w->len;
	deliver_flipped(lab, off < 0 ? (size_t)((long)lab->wire_len + off) : (size_t)off, expect);
	h = wan_in(lab, &lab->base.b, w);
	assert_non_null(h);
	assert_int_equal(h->len, len);
	assert_memory_equal(h->buf + h->head, sent, len);
	pkt_pool_put(lab->base.pool, h);
	deliver_flipped(lab, SIZE_MAX, PKT_DROP_SEC_REPLAY);
	ctrl_deliver(lab);
}

static void
test_secure_tamper_and_replay(void **state)
{
	struct lab *lab = *state;
	uint8_t l4[512];
	size_t n, hdr = lab->base.wan_family == ADDR_FAMILY_V4 ? 20 : 40;
	struct pkt_buf *w;

	/* Sealed forward metadata of the first packet, one bit off: no session at B. */
	send_tampered(lab, (long)(hdr + 8 + 12 + 8 + 3), PKT_DROP_SEC_AUTH_FAILED);
	assert_int_equal(lab->base.b.drops.count[PKT_DROP_SEC_AUTH_FAILED], 1);
	/* The header TLVs are authenticated too (the security id's last byte). */
	send_tampered(lab, (long)(hdr + 8 + 12 + 7), PKT_DROP_SEC_UNKNOWN_KEY_INDEX);
	for (int i = 0; i < 3; i++) {
		n = svr_test_udp_datagram(l4, 7, 40004, "SECRET-back", 11);
		send_pkt(lab, false, IPPROTO_UDP, l4, n, true);
		n = svr_test_udp_datagram(l4, 40004, 7, "SECRET-echo", 11);
		send_pkt(lab, true, IPPROTO_UDP, l4, n, true);
	}
	/* Encrypted payload (no metadata any more), one bit off; the session goes on. */
	send_tampered(lab, -30, PKT_DROP_SEC_AUTH_FAILED);
	send_tampered(lab, -1, PKT_DROP_SEC_AUTH_FAILED);        /* the tag */
	send_tampered(lab, -24, PKT_DROP_SEC_UNKNOWN_KEY_INDEX); /* the counter's key byte */
	assert_int_equal(lab->base.b.drops.count[PKT_DROP_SEC_AUTH_FAILED], 3);
	/* An unsealed block toward a secure router. */
	{
		uint8_t block[64];
		size_t blen;
		struct svr_meta m = {.present = SVR_META_F_DISABLE_FWD_META};
		enum pkt_drop_reason reason;

		assert_int_equal(svr_meta_encode(&m, block, sizeof(block), &blen), 0);
		w = pkt_pool_get(lab->base.pool);
		memcpy(l4, lab->wire + hdr, 8);
		memcpy(l4 + 8, block, blen);
		assert_int_equal(pkt_buf_set(w, lab->wire, hdr), 0);
		memcpy(pkt_buf_put(w, 8 + blen), l4, 8 + blen);
		buf_store_be16(w->buf + w->head + hdr + 4, (uint16_t)(8 + blen));
		if (hdr == 20) {
			buf_store_be16(w->buf + w->head + 2, (uint16_t)(hdr + 8 + blen));
			buf_store_be16(w->buf + w->head + 10, 0);
			buf_store_be16(w->buf + w->head + 10,
			    pkt_csum_ipv4_header(w->buf + w->head, 20));
		} else {
			buf_store_be16(w->buf + w->head + 4, (uint16_t)(8 + blen));
		}
		assert_int_equal(pkt_parse(w, &reason), 0);
		pkt_csum_fill(w->buf + w->head, &w->info);
		assert_null(wan_in(lab, &lab->base.b, w));
		assert_int_equal(lab->base.b.drops.count[PKT_DROP_SEC_META_UNSEALED], 1);
	}
}

static void
test_secure_wrong_peer_keys(void **state)
{
	struct lab *lab = *state;
	uint8_t l4[512], other[32];
	size_t n;

	memset(other, 0x5a, sizeof(other));
	crypto_aead_free(svr_peer_keys_install_recv(&lab->base.b.keys[0], SVR_TEST_IDX_B,
	    svr_test_aead_new(other)));
	n = svr_test_udp_datagram(l4, 40005, 7, "SECRET", 6);
	send_pkt(lab, true, IPPROTO_UDP, l4, n, false);
	assert_int_equal(lab->base.b.drops.count[PKT_DROP_SEC_AUTH_FAILED], 1);
	assert_int_equal(session_table_count(lab->base.b.rt.sessions), 0);
}

static void
test_secure_rekey(void **state)
{
	struct lab *lab = *state;
	uint8_t l4[512], k2[32];
	size_t n;
	struct pkt_buf *held[2], *h;
	const uint32_t idx_b2 = 0x33333303u;

	for (int i = 0; i < 3; i++) {
		n = svr_test_udp_datagram(l4, 40006, 9, "SECRET-x", 8);
		send_pkt(lab, true, IPPROTO_UDP, l4, n, true);
		n = svr_test_udp_datagram(l4, 9, 40006, "SECRET-y", 8);
		send_pkt(lab, false, IPPROTO_UDP, l4, n, true);
	}
	/* Two packets in flight under the old key. */
	for (int i = 0; i < 2; i++) {
		uint8_t sent[256];
		size_t len;

		n = svr_test_udp_datagram(l4, 40006, 9, "SECRET-old", 10);
		len = svr_test_host_packet(&lab->base, sent, true, IPPROTO_UDP, l4, n);
		held[i] = lan_in(lab, &lab->base.a, sent, len);
		assert_non_null(held[i]);
	}
	memset(k2, 0xc2, sizeof(k2));
	crypto_aead_free(
	    svr_peer_keys_install_recv(&lab->base.b.keys[0], idx_b2, svr_test_aead_new(k2)));
	crypto_aead_free(
	    svr_peer_keys_install_send(&lab->base.a.keys[0], idx_b2, svr_test_aead_new(k2)));
	assert_int_equal(svr_peer_keys_send_count(&lab->base.a.keys[0]), 0);
	n = svr_test_udp_datagram(l4, 40006, 9, "SECRET-new", 10);
	send_pkt(lab, true, IPPROTO_UDP, l4, n, true);
	h = wan_in(lab, &lab->base.b, held[0]); /* overlap: the old key still opens */
	assert_non_null(h);
	pkt_pool_put(lab->base.pool, h);
	crypto_aead_free(svr_peer_keys_expire_recv(&lab->base.b.keys[0], SVR_TEST_IDX_B));
	assert_null(wan_in(lab, &lab->base.b, held[1]));
	assert_int_equal(lab->base.b.drops.count[PKT_DROP_SEC_UNKNOWN_KEY_INDEX], 1);
	n = svr_test_udp_datagram(l4, 40006, 9, "SECRET-new", 10);
	send_pkt(lab, true, IPPROTO_UDP, l4, n, true);
}

static void
test_secure_no_send_key(void **state)
{
	struct lab *lab = *state;
	struct crypto_aead *freed[SVR_KEYS_CTX_MAX];
	unsigned nfreed;
	uint8_t l4[64], sent[256];
	size_t n, len;

	svr_peer_keys_clear(&lab->base.a.keys[0], freed, &nfreed);
	assert_int_equal(nfreed, 2);
	for (unsigned i = 0; i < nfreed; i++)
		crypto_aead_free(freed[i]);
	n = svr_test_udp_datagram(l4, 40007, 9, "x", 1);
	len = svr_test_host_packet(&lab->base, sent, true, IPPROTO_UDP, l4, n);
	assert_null(lan_in(lab, &lab->base.a, sent, len));
	assert_int_equal(lab->base.a.drops.count[PKT_DROP_SEC_NO_KEY], 1);
	assert_int_equal(session_table_count(lab->base.a.rt.sessions), 0);
}

static void
test_secure_key_exhausted(void **state)
{
	struct lab *lab = *state;
	uint8_t l4[64], sent[256];
	size_t n, len;

	lab->base.a.keys[0].send.next_seq = SVR_KEYS_SEQ_LIMIT;
	n = svr_test_udp_datagram(l4, 40008, 9, "x", 1);
	len = svr_test_host_packet(&lab->base, sent, true, IPPROTO_UDP, l4, n);
	assert_null(lan_in(lab, &lab->base.a, sent, len));
	assert_int_equal(lab->base.a.drops.count[PKT_DROP_SEC_KEY_EXHAUSTED], 1);
}

static void
test_secure_mss_clamp(void **state)
{
	struct lab *lab = *state;
	uint8_t l4[64], sent[256];
	size_t len, hdr = lab->base.family == ADDR_FAMILY_V4 ? 20 : 40;
	struct pkt_buf *w, *h;
	enum pkt_drop_reason reason;

	lab->base.a.rt.tcp_mss_max[0] = lab->base.a.rt.tcp_mss_max[1] = 1300;
	memset(l4, 0, 28);
	buf_store_be16(l4, 50010);
	buf_store_be16(l4 + 2, 22);
	l4[12] = 7 << 4;
	l4[13] = 0x02;
	l4[20] = 1; /* NOP: the MSS value lands on an odd offset */
	l4[21] = 2;
	l4[22] = 4;
	buf_store_be16(l4 + 23, 1460);
	l4[25] = 1;
	l4[26] = 1;
	l4[27] = 0;
	len = svr_test_host_packet(&lab->base, sent, true, IPPROTO_TCP, l4, 28);
	w = lan_in(lab, &lab->base.a, sent, len);
	assert_non_null(w);
	h = wan_in(lab, &lab->base.b, w);
	assert_non_null(h);
	assert_int_equal(pkt_parse(h, &reason), 0);
	assert_true(pkt_csum_verify(h->buf + h->head, &h->info));
	assert_int_equal(buf_load_be16(h->buf + h->head + hdr + 23), 1300);
	assert_int_equal(lab->base.a.rt.stats.mss_clamped, 1);
	pkt_pool_put(lab->base.pool, h);
}

/*
 * Random UDP sessions with random payload kinds in both directions, random losses,
 * reordering and rekeys: every packet that reaches the other router arrives intact.
 */
static void
test_secure_random_model(void **state)
{
	struct lab *lab = *state;
	uint64_t rng = test_seed();
	struct pkt_buf *held[8];
	uint8_t held_sent[8][256];
	size_t held_len[8];
	bool held_to_b[8];
	unsigned nheld = 0;
	uint32_t idx_b = SVR_TEST_IDX_B, gen = 4;
	uint64_t delivered = 0;
	bool seen[6][3] = {{false}};

	for (int step = 0; step < 3000; step++) {
		unsigned sess = (unsigned)test_rand_below(&rng, 6),
		         kind = (unsigned)test_rand_below(&rng, 3);
		bool from_a = test_rand_below(&rng, 2) == 0;
		uint8_t l4[256], sent[256];
		size_t n, len;
		struct pkt_buf *w;

		if (kind == 0)
			n = svr_test_udp_datagram(l4, from_a ? 41000 + sess : 5000,
			    from_a ? 5000 : 41000 + sess, "SECRET-model", 12);
		else if (kind == 1)
			n = svr_test_udp_datagram(l4, from_a ? 42000 + sess : 443,
			    from_a ? 443 : 42000 + sess, quic_initial, sizeof(quic_initial));
		else
			n = svr_test_udp_datagram(l4, from_a ? 43000 + sess : 443,
			    from_a ? 443 : 43000 + sess, tls_record, sizeof(tls_record));
		/* Only A opens sessions: B answers only flows it has seen (else it opens its own).
		 */
		if (!from_a && !seen[sess][kind]) {
			from_a = true;
			buf_store_be16(l4, buf_load_be16(l4 + 2));
			buf_store_be16(l4 + 2, kind == 0 ? 5000 : 443);
		}
		len = svr_test_host_packet(&lab->base, sent, from_a, IPPROTO_UDP, l4, n);
		w = lan_in(lab, from_a ? &lab->base.a : &lab->base.b, sent, len);
		if (w == NULL)
			continue; /* B has no session for it yet */
		assert_false(kind == 0 && svr_test_contains(w->buf + w->head, w->len, "SECRET"));
		if (test_rand_below(&rng, 10) == 0) {
			pkt_pool_put(lab->base.pool, w); /* lost */
		} else if (nheld < 8 && test_rand_below(&rng, 4) == 0) {
			held[nheld] = w;
			memcpy(held_sent[nheld], sent, len);
			held_len[nheld] = len;
			held_to_b[nheld++] = from_a;
		} else {
			struct pkt_buf *h = wan_in(lab, from_a ? &lab->base.b : &lab->base.a, w);

			if (h != NULL) {
				seen[sess][kind] = true;
				assert_int_equal(h->len, len);
				assert_memory_equal(h->buf + h->head, sent, len);
				pkt_pool_put(lab->base.pool, h);
				delivered++;
			}
		}
		if (nheld > 0 && test_rand_below(&rng, 3) == 0) {
			unsigned i = (unsigned)test_rand_below(&rng, nheld);
			struct pkt_buf *h =
			    wan_in(lab, held_to_b[i] ? &lab->base.b : &lab->base.a, held[i]);

			if (h != NULL) {
				assert_int_equal(h->len, held_len[i]);
				assert_memory_equal(h->buf + h->head, held_sent[i], held_len[i]);
				pkt_pool_put(lab->base.pool, h);
			}
			held[i] = held[--nheld];
			memcpy(held_sent[i], held_sent[nheld], held_len[nheld]);
			held_len[i] = held_len[nheld];
			held_to_b[i] = held_to_b[nheld];
		}
		if (test_rand_below(&rng, 4) == 0) {
			svr_router_flush(&lab->base.a.rt);
			svr_router_flush(&lab->base.b.rt);
		}
		ctrl_deliver(lab);
		if (test_rand_below(&rng, 500) == 0 && nheld == 0) {
			/* Rekey A -> B: new receive key, then send key, then the old one expires.
			 */
			uint8_t key[32];
			uint32_t old = idx_b;

			memset(key, (int)gen, sizeof(key));
			idx_b = (gen++ << 8) | (uint8_t)(old + 1);
			crypto_aead_free(svr_peer_keys_install_recv(&lab->base.b.keys[0], idx_b,
			    svr_test_aead_new(key)));
			crypto_aead_free(svr_peer_keys_install_send(&lab->base.a.keys[0], idx_b,
			    svr_test_aead_new(key)));
			crypto_aead_free(svr_peer_keys_expire_recv(&lab->base.b.keys[0], old));
		}
	}
	while (nheld > 0)
		pkt_pool_put(lab->base.pool, held[--nheld]);
	assert_true(delivered > 1000);
	/* The only drops a lossy, reordering path may cause. */
	for (int i = 0; i < PKT_DROP_COUNT; i++) {
		if (i == PKT_DROP_SEC_DECISION_MISSING)
			continue;
		if (lab->base.a.drops.count[i] + lab->base.b.drops.count[i] != 0)
			svr_test_drops_print(&lab->base);
		assert_int_equal(lab->base.a.drops.count[i] + lab->base.b.drops.count[i], 0);
	}
}

#define SECURE_TESTS(setup)                                                                        \
	cmocka_unit_test_setup_teardown(test_secure_tcp, setup, lab_teardown),                     \
	    cmocka_unit_test_setup_teardown(test_secure_udp_icmp, setup, lab_teardown),            \
	    cmocka_unit_test_setup_teardown(test_secure_udp_one_way_acked, setup, lab_teardown),   \
	    cmocka_unit_test_setup_teardown(test_secure_already_encrypted_is_clear, setup,         \
	        lab_teardown),                                                                     \
	    cmocka_unit_test_setup_teardown(test_secure_tamper_and_replay, setup, lab_teardown),   \
	    cmocka_unit_test_setup_teardown(test_secure_rekey, setup, lab_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    SECURE_TESTS(setup_v4),
	    SECURE_TESTS(setup_v6),
	    SECURE_TESTS(setup_v4_over_v6),
	    SECURE_TESTS(setup_v6_over_v4),
	    cmocka_unit_test_setup_teardown(test_secure_forced_on_off, setup_v4, lab_teardown),
	    cmocka_unit_test_setup_teardown(test_secure_wrong_peer_keys, setup_v4, lab_teardown),
	    cmocka_unit_test_setup_teardown(test_secure_no_send_key, setup_v4, lab_teardown),
	    cmocka_unit_test_setup_teardown(test_secure_key_exhausted, setup_v4, lab_teardown),
	    cmocka_unit_test_setup_teardown(test_secure_mss_clamp, setup_v4, lab_teardown),
	    cmocka_unit_test_setup_teardown(test_secure_mss_clamp, setup_v6, lab_teardown),
	    cmocka_unit_test_setup_teardown(test_secure_random_model, setup_v4, lab_teardown),
	    cmocka_unit_test_setup_teardown(test_secure_random_model, setup_v4_over_v6,
	        lab_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
