/*
 * The in-memory rig of the worker tests: ternd workers built from real configurations
 * and joined back to back by io_mem links, packets made and injected by the test's hosts,
 * the workers polled in turn, and what a host received compared with what was sent.
 *
 * The standard rig (struct worker_rig) is the two-site one most tests use:
 *
 *   host a1 --lan-- worker site-a --wan-- worker site-b --lan-- host b1
 *   10.1.0.10        wp 192.0.2.1          wp 192.0.2.2          10.2.0.20
 *
 * site-a has two LANs (lan_a[0], lan_a[1]), site-b one. Tests with another topology keep
 * their own setup and use the helpers that take the pieces.
 */
#ifndef TERN_TEST_WORKER_RIG_H
#define TERN_TEST_WORKER_RIG_H

#include <stddef.h>
#include <stdint.h>

#include "io/io_mem.h"
#include "router/router_config.h"
#include "router/router_worker.h"

/*
 * site-a of the standard rig as JSON text: LANs corp (10.1.0.0/24, lan_a[0]) and guest
 * (10.1.1.0/24, lan_a[1]) of the tenants of those names, waypoint 192.0.2.1, peer site-b
 * at 192.0.2.2. tenants: the members of "tenants" (corp and guest at least); rest: the
 * members after "peers" ("services", "rules"...), each after a comma.
 */
#define WORKER_RIG_SITE_A(tenants, rest)                                                            \
	"{ \"router\": { \"name\": \"site-a\" },"                                                   \
	"  \"tenants\": [ " tenants " ],"                                                           \
	"  \"lan\": [ { \"name\": \"corp\", \"tenant\": \"corp\", \"address\": \"10.1.0.1/24\","    \
	"             \"prefixes\": [\"10.1.0.0/24\"] },"                                           \
	"           { \"name\": \"guest\", \"tenant\": \"guest\", \"address\": \"10.1.1.1/24\","    \
	"             \"prefixes\": [\"10.1.1.0/24\"] } ],"                                         \
	"  \"wan\": [ { \"name\": \"wan0\", \"device\": \"wan0\", \"waypoint\": \"192.0.2.1\" } ]," \
	"  \"peers\": [ { \"name\": \"site-b\", \"paths\": [ { \"wan\": \"wan0\", \"remote\": "     \
	"\"192.0.2.2\" } ] } ]" rest " }"

/*
 * site-b of the standard rig: one LAN corp (10.2.0.0/24), waypoint 192.0.2.2, peer site-a
 * at 192.0.2.1; it serves b-web (10.2.0.0/24) to corp only and nothing else.
 */
extern const char worker_rig_site_b[];

/* Parses text, printing its errors and failing the test unless it is valid. */
struct router_config *worker_rig_config_parse(const char *text);

/*
 * An IPv4 UDP, TCP or ICMP echo packet with valid checksums into out; returns its length.
 * TCP carries tcp_flags and tcp_window; for ICMP, sport 0 makes an echo reply (else a
 * request) and dport is the identifier.
 */
size_t worker_rig_packet_bytes(uint8_t *out, const char *src, const char *dst, uint8_t proto,
    uint16_t sport, uint16_t dport, uint8_t tcp_flags, uint16_t tcp_window, const uint8_t *payload,
    size_t n);

/* A UDP packet or a TCP SYN (or an ICMP echo) carrying the string payload. */
size_t worker_rig_packet_make(uint8_t *out, const char *src, const char *dst, uint8_t proto,
    uint16_t sport, uint16_t dport, const char *payload);

/* The host on lan (its end 0) sends the packet. */
void worker_rig_inject(struct pkt_pool *pool, struct io_mem_link *lan, const uint8_t *bytes,
    size_t len);

/* Polls the NULL-terminated workers in turn, rounds times. */
void worker_rig_poll(struct router_worker *const *workers, int rounds, uint64_t now_ns);

/* Prints w's non-zero drop counters (why a packet did not arrive). */
void worker_rig_drops_print(const char *who, struct router_worker *w);

/*
 * The host on lan received exactly one packet, equal to bytes; on another count prints
 * the drops of the NULL-terminated workers (named a, then b, or a, hub, b for three)
 * and fails naming the test's line.
 */
void worker_rig_expect_one_at(struct pkt_pool *pool, struct io_mem_link *lan, const uint8_t *bytes,
    size_t len, struct router_worker *const *workers, int line);

/* The host on lan received nothing. */
void worker_rig_expect_nothing(struct io_mem_link *lan);

/* Frees what the host on lan received; returns how many packets that was. */
unsigned worker_rig_drain(struct pkt_pool *pool, struct io_mem_link *lan);

struct worker_rig {
	struct pkt_pool *pool;
	struct router_config *cfg_a, *cfg_b;
	struct io_mem_link *lan_a[2], *lan_b, *wan;
	struct io_port *a_lans[2], *a_wans[1], *b_lans[1], *b_wans[1];
	struct router_worker *a, *b;
	uint64_t now_ns;
};

/* Builds the two-site rig from the two configurations (clock at 1 s). */
void worker_rig_setup(struct worker_rig *r, const char *text_a, const char *text_b);

/* Frees it, checking that every packet went back to the pool. */
void worker_rig_teardown(struct worker_rig *r);

/* Polls site-a then site-b, four rounds: enough for a packet and its answer. */
void worker_rig_run(struct worker_rig *r);

#define worker_rig_expect_delivered(r, lan, bytes, len)                                            \
	worker_rig_expect_one_at((r)->pool, lan, bytes, len,                                       \
	    (struct router_worker *const[]){(r)->a, (r)->b, NULL}, __LINE__)

#endif
