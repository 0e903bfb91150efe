/*
 * Shared by the SVR unit tests of sessions that change paths (test_svr_failover.c,
 * test_svr_udp_transform.c): the two-router lab of svr_test_lab.h with two links
 * between the routers, each a path at both ends.
 *
 *                      path 0: 203.0.113.1   ==== link 0 ==== 198.51.100.2
 *   host A -- router A                                                      router B -- host B
 *   10.0.1.10          path 1: 203.0.113.101 ==== link 1 ==== 198.51.100.102      10.0.2.20
 *
 * A test may add more paths of its own (svr_test_links_path_add); only links 0 and 1
 * carry packets. Marking a path down sets its state at both routers (what the worker does
 * when the prober says so) and cuts its link: what is sent on it is lost. A link may be
 * "UDP only" (a middlebox drops TCP): a TCP packet put on it fails the test; or drop TCP
 * segments that have SYN set and carry data (as every SVR SYN does): those are lost. Every
 * packet put on a link is parsed and counted; the last data packet is kept.
 * Everything asserts with cmocka; nothing here is thread-safe.
 */
#ifndef TERN_TESTS_SVR_TEST_LINKS_H
#define TERN_TESTS_SVR_TEST_LINKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkt/pkt_parse.h"
#include "svr/svr_keys.h"
#include "svr/svr_meta.h"
#include "svr/svr_transform.h"
#include "svr_test_lab.h"

#define SVR_TEST_LINKS       2 /* links between A and B */
#define SVR_TEST_LINKS_PATHS 3 /* paths a router may have */
#define SVR_TEST_WIRE_MAX    4096

enum svr_test_outcome {
	SVR_TEST_DELIVERED, /* checked byte for byte */
	SVR_TEST_LOST,      /* sent on a dead link */
	SVR_TEST_DROPPED    /* by a router */
};

struct svr_test_links {
	struct svr_test_lab base;
	bool security;
	struct svr_path paths[2][SVR_TEST_LINKS_PATHS]; /* [0] router A's, [1] router B's */
	bool link_dead[SVR_TEST_LINKS];
	bool link_udp_only[SVR_TEST_LINKS];
	bool link_drop_syn_data[SVR_TEST_LINKS]; /* a middlebox loses TCP SYNs with data */
	/* The egresses' firewall (struct svr_accept): new TCP sessions begin with a SYN,
	 * and every new TCP session is refused as over the half-open cap. */
	bool fw_syn_required, fw_half_open_full;
	uint16_t first_path; /* where new sessions open (0 unless the test says) */
	uint16_t prefer;     /* the path the test's path_pick prefers; the model sets it */
	uint16_t tcp_port;   /* of the TCP server at B */
	/* Copies of the peers' keys that only read the wire (their replay windows are theirs). */
	struct svr_peer_keys inspect[2]; /* [0] opens what A sends, [1] what B sends */
	uint8_t wire[SVR_TEST_WIRE_MAX]; /* the last data packet on a link */
	size_t wire_len;
	uint16_t wire_path;
	bool wire_from_a;
	uint64_t wire_udp, wire_tcp; /* packets seen on the links, data and control */
	/*
	 * A middlebox on the links (a NAT): sees every packet put on link k after it was
	 * checked and may rewrite it (it re-parses it then); false loses it. NULL: none.
	 */
	bool (*middlebox)(struct svr_test_links *l, struct pkt_buf *p, bool from_a, uint16_t k);
	/*
	 * As the worker does toward a peer behind a NAT: a packet without metadata on an
	 * unknown tuple of a learn path is answered with svr_wan_enable_meta().
	 */
	bool nat_enable_meta;
};

/*
 * The lab (pool of 256, sessions seeded with table_seed, keys installed when security
 * is on) with paths 0 and 1 at both routers, all up; pick (with arg) is both routers'
 * path_pick.
 */
void svr_test_links_init(struct svr_test_links *l, uint8_t family, uint8_t wan_family,
    uint64_t table_seed, bool security,
    uint16_t (*pick)(struct svr_router *rt, const struct session *s, void *arg), void *arg);

/* Frees the paths it or the test added, then the lab (every buffer must be back). */
void svr_test_links_fini(struct svr_test_links *l);

/* The waypoint address of router A or B on link 0 or 1. */
const char *svr_test_links_waypoint_addr(const struct svr_test_links *l, bool a, int k);

/* Path k of router A (a) or B from local to remote, on WAN port SVR_TEST_WAN_PORT + k. */
struct svr_path *svr_test_links_path_add(struct svr_test_links *l, bool a, uint16_t k,
    const char *local, const char *remote);

/* The worker's reaction to the prober: path k is down (or up) at both routers. */
void svr_test_links_path_set(struct svr_test_links *l, int k, bool up);

/* One host packet into router tx from the LAN: its verdict (new sessions on first_path). */
enum svr_verdict svr_test_links_lan_in(struct svr_test_links *l, struct svr_test_router *tx,
    struct pkt_buf *p);

/*
 * A wire packet arrives at router r over link k: the host packet, or NULL (consumed).
 * *out (if not NULL): the verdict.
 */
struct pkt_buf *svr_test_links_wan_in(struct svr_test_links *l, struct svr_test_router *r,
    struct pkt_buf *p, uint16_t k, enum svr_verdict *out);

/* Control packets each router originated cross their links; returns those consumed. */
unsigned svr_test_links_ctrl_deliver(struct svr_test_links *l);

/* A host packet from A or B through both routers. *path: the link it took (-1: none). */
enum svr_test_outcome svr_test_links_xmit(struct svr_test_links *l, bool from_a, uint8_t proto,
    const uint8_t *l4, size_t l4_len, int *path);

/*
 * A TCP segment between client port cport at A and tcp_port at B (the client's sequence
 * numbers start at 1000, the server's at 9000), and a UDP datagram between cport and
 * 5004; data is a string (NULL: none, TCP only).
 */
size_t svr_test_links_tcp_build(const struct svr_test_links *l, uint8_t *l4, bool from_a,
    uint16_t cport, uint8_t flags, const char *data);
enum svr_test_outcome svr_test_links_tcp_send(struct svr_test_links *l, bool from_a, uint16_t cport,
    uint8_t flags, const char *data, int *path);
enum svr_test_outcome svr_test_links_udp_send(struct svr_test_links *l, bool from_a, uint16_t cport,
    const char *data, int *path);

/* The last wire packet carries no plaintext "SECRET" (checked with security on only). */
void svr_test_links_assert_wire_sealed(const struct svr_test_links *l);

/*
 * The last wire packet, copied into copy: its info, and its block decoded into *m
 * (opened with a copy of the receiver's key when sealed). Returns the block's wire
 * length, 0 when none.
 */
size_t svr_test_links_wire_meta(struct svr_test_links *l, struct pkt_info *info, struct svr_meta *m,
    uint8_t copy[SVR_TEST_WIRE_MAX]);

/* Both routers hold the session of cport with the same UUID, on path. */
void svr_test_links_assert_same_session(struct svr_test_links *l, uint16_t cport, uint16_t path);

/*
 * The randomized model both tests run: flows (client ports 41000 + i, TCP where
 * tcp_flow(i)) open at A and talk both ways while paths go down and up and sweeps run.
 * Every delivered packet is intact (xmit checks), packets are lost only on dead links,
 * no router counts a drop but svr-control-no-session, and neither router ever holds
 * more than one session per flow. The hooks (each may be NULL) add what a test checks.
 */
#define SVR_TEST_MODEL_FLOWS_MAX 16
struct svr_test_links_model {
	unsigned flows, steps;
	bool (*tcp_flow)(unsigned i);
	/* Before each packet: may draw from rng to vary the lab. */
	void (*before_send)(struct svr_test_links *l, uint64_t *rng);
	/* After each packet, with the number of flows opened so far. */
	void (*after_send)(struct svr_test_links *l, bool tcp, unsigned n_open);
	/* At the end, for each flow both routers know. */
	void (*flow_check)(const struct session *a, const struct session *b);
};
void svr_test_links_model_run(struct svr_test_links *l, const struct svr_test_links_model *m);

#endif
