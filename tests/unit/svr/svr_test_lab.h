/*
 * Shared by the SVR two-router unit tests: two routers of one tenant ("blue") and one
 * service ("web"), each with one WAN path to the other, the host and waypoint addresses
 * of the picture below, the verdict loop a worker runs around the transforms, and
 * builders for the host packets (IP headers from tests/unit/pkt/pkt_test_build.h).
 *
 *   host A --- router A (wp 203.0.113.1) ==== WAN ==== router B (wp 198.51.100.2) --- host B
 *   10.0.1.10                                                                   10.0.2.20
 *
 * The policy of every lab: a new session from the WAN must name tenant "blue".
 * Everything asserts with cmocka; nothing here is thread-safe.
 */
#ifndef TERN_TESTS_SVR_TEST_LAB_H
#define TERN_TESTS_SVR_TEST_LAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkt/pkt_buf.h"
#include "svr/svr_keys.h"
#include "svr/svr_transform.h"

#define SVR_TEST_NS       1000000000ull
#define SVR_TEST_LAN_PORT 1
#define SVR_TEST_WAN_PORT 2
#define SVR_TEST_IDX_A    0x11111101u /* A's receive index */
#define SVR_TEST_IDX_B    0x22222202u /* B's receive index */

/* A cmocka setup function that returns call (which may use state). */
#define SVR_TEST_SETUP(name, call)                                                                 \
	static int name(void **state)                                                              \
	{                                                                                          \
		return call;                                                                       \
	}

struct crypto_aead;
struct session;

struct svr_test_router {
	struct svr_router rt;
	struct pkt_drop_counters drops;
	struct svr_path path;
	uint32_t lan_ports[1];
	struct svr_peer_keys keys[1]; /* the peer's, used when security is on */
	uint8_t encrypt;              /* enum svr_encrypt_mode of the service */
};

struct svr_test_lab {
	struct pkt_pool *pool;
	struct svr_test_router a, b;
	uint8_t family;     /* of the hosts */
	uint8_t wan_family; /* of the waypoints: another family makes the routers translate */
	uint64_t now_ns;
	/*
	 * The IPv4 id hosts put in their packets. An IPv4 header rebuilt after an IPv6 WAN
	 * has id 0 (the id means nothing to an unfragmented DF packet), so those labs send 0.
	 */
	uint16_t ip_id;
	/* What svr_test_lab_keys_install() gives A to send with and B to send with. */
	uint8_t key_ab[32], key_ba[32];
};

/*
 * Both routers (session tables seeded with table_seed, security as given, no keys yet)
 * and a pool of pool_size buffers; the clock at 1000 s.
 */
void svr_test_lab_init(struct svr_test_lab *lab, uint8_t family, uint8_t wan_family,
    unsigned pool_size, uint64_t table_seed, bool security);

/*
 * Crosswise keys: A sends with key_ab under B's receive index SVR_TEST_IDX_B, B with
 * key_ba under A's SVR_TEST_IDX_A.
 */
void svr_test_lab_keys_install(struct svr_test_lab *lab);

/* An AES-256-GCM context of key (asserts). */
struct crypto_aead *svr_test_aead_new(const uint8_t key[32]);

/* Frees both routers (and their pending control packets); every buffer must be back. */
void svr_test_lab_fini(struct svr_test_lab *lab);

/* The address of host A or host B, and the waypoint (WAN) address of router A or B. */
const char *svr_test_host_addr(const struct svr_test_lab *lab, bool a);
const char *svr_test_waypoint_addr(const struct svr_test_lab *lab, bool a);

/*
 * Runs n parsed LAN packets through r (new sessions take the service's encrypt mode)
 * and n parsed WAN packets; verdicts[i] is TO_WAN / TO_LAN for a packet let through.
 */
void svr_test_router_lan(struct svr_test_lab *lab, struct svr_test_router *r, struct pkt_buf **pkts,
    unsigned n, enum svr_verdict *verdicts);
void svr_test_router_wan(struct svr_test_lab *lab, struct svr_test_router *r, struct pkt_buf **pkts,
    unsigned n, enum svr_verdict *verdicts);

/* Builds an IP packet (the lab's IPv4 id) around an L4 segment, with valid checksums. */
size_t svr_test_packet_build(const struct svr_test_lab *lab, uint8_t *out, uint8_t family,
    const char *src, const char *dst, uint8_t proto, const uint8_t *l4, size_t l4_len);

/* The same from host A or B to the other host. */
size_t svr_test_host_packet(const struct svr_test_lab *lab, uint8_t *out, bool from_a,
    uint8_t proto, const uint8_t *l4, size_t l4_len);

/* L4 segments at l4; each returns its length. */
size_t svr_test_tcp_segment(uint8_t *l4, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
    uint8_t flags, const void *data, size_t n);
size_t svr_test_udp_datagram(uint8_t *l4, uint16_t sport, uint16_t dport, const void *data,
    size_t n);
/* An echo request or reply with a 32-byte payload. */
size_t svr_test_icmp_echo(uint8_t *l4, uint8_t family, bool request, uint16_t id, uint16_t seq,
    const char payload[32]);

/* Prints every drop reason either router counted; the sum of r's drop counters. */
void svr_test_drops_print(const struct svr_test_lab *lab);
uint64_t svr_test_drops_total(const struct svr_test_router *r);

/* The drops of both routers; no drop at all (printing them first if there are). */
uint64_t svr_test_lab_drops(const struct svr_test_lab *lab);
void svr_test_lab_assert_no_drops(const struct svr_test_lab *lab);

/* Is needle (a string) anywhere in hay[0..n)? For "no plaintext on the wire" checks. */
bool svr_test_contains(const uint8_t *hay, size_t n, const char *needle);

/* The session of router r whose LAN tuple has port cport (either side), or NULL. */
struct session *svr_test_session_of(struct svr_test_router *r, uint16_t cport, uint32_t *index);

#endif
