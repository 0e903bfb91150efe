/*
 * The router the SVR transform fuzz targets drive, shared with the corpus generator so
 * its seeds meet the same router: tenant "blue", service "dns", one WAN path from
 * 198.51.100.2 to the peer 203.0.113.1, a 64-session table and 64 waypoint ports. With
 * security the router holds one fixed key under one index for both directions, so a
 * packet sealed by it (or by its mirror image, the peer) opens at it.
 *
 * fuzz_svr_router_input() runs one packet the way a worker does and aborts when a
 * packet it lets through no longer parses; fuzz_svr_router_settle() then drains the
 * control packets, expires idle sessions and aborts if a buffer leaked.
 */
#ifndef TERN_TESTS_FUZZ_SVR_ROUTER_H
#define TERN_TESTS_FUZZ_SVR_ROUTER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto_aead.h"
#include "pkt/pkt_parse.h"
#include "session/session_table.h"
#include "svr/svr_keys.h"
#include "svr/svr_transform.h"
#include "svr/svr_waypoint.h"

#define FUZZ_SVR_KEY_INDEX 0x01020304u
#define FUZZ_SVR_KEY_BYTE  0x42
#define FUZZ_SVR_TICK_NS   1000000000ull /* the clock advances this much per packet */

struct fuzz_svr_router {
	struct svr_router rt;
	struct pkt_drop_counters drops;
	struct svr_path path;
	struct svr_peer_keys keys;
	struct pkt_pool *pool;
	uint64_t clock_ns;
};

static const char *const fuzz_svr_tenants[] = {"blue"};
static const char *const fuzz_svr_services[] = {"dns"};
static const uint32_t fuzz_svr_lan_ports[] = {1};

/*
 * A fresh router at clock 0 on pool (SVR_CTRL_OUT_MAX + 4 buffers suffice); peer: the
 * other end of the path (addresses swapped), as the corpus generator runs it.
 */
static inline void
fuzz_svr_router_init(struct fuzz_svr_router *f, struct pkt_pool *pool, bool security, bool peer)
{
	static const uint8_t here[4] = {198, 51, 100, 2}, there[4] = {203, 0, 113, 1};
	struct session_table_config cfg;

	memset(f, 0, sizeof(*f));
	f->pool = pool;
	session_table_config_default(&cfg, 64);
	cfg.seed = 1;
	/* The clock moves a tick per packet: a finer wheel costs each fresh router time. */
	cfg.tick_ns = FUZZ_SVR_TICK_NS;
	f->rt.sessions = session_table_new(&cfg, 0);
	f->path.ports =
	    svr_waypoint_ports_new(SVR_WAYPOINT_PORT_FIRST, SVR_WAYPOINT_PORT_FIRST + 63);
	if (f->rt.sessions == NULL || f->path.ports == NULL)
		abort();
	addr_set_v4(&f->path.local, peer ? there : here);
	addr_set_v4(&f->path.remote, peer ? here : there);
	f->path.wan_zone = SESSION_ZONE_WAN | 1;
	f->path.wan_port = 2;
	f->rt.drops = &f->drops;
	f->rt.pool = pool;
	f->rt.name = "fuzz";
	f->rt.tenant_names = fuzz_svr_tenants;
	f->rt.tenant_count = 1;
	f->rt.service_names = fuzz_svr_services;
	f->rt.service_count = 1;
	f->rt.paths = &f->path;
	f->rt.path_count = 1;
	f->rt.lan_ports = fuzz_svr_lan_ports;
	f->rt.uuid_state[0] = peer ? 2 : 1;
	svr_peer_keys_init(&f->keys);
	if (security) {
		uint8_t key[CRYPTO_AEAD_KEY_LEN];
		struct crypto_aead *send, *recv;

		memset(key, FUZZ_SVR_KEY_BYTE, sizeof(key));
		if (crypto_aead_new(CRYPTO_AEAD_AES_256_GCM, key, &send) < 0 ||
		    crypto_aead_new(CRYPTO_AEAD_AES_256_GCM, key, &recv) < 0)
			abort();
		crypto_aead_free(svr_peer_keys_install_send(&f->keys, FUZZ_SVR_KEY_INDEX, send));
		crypto_aead_free(svr_peer_keys_install_recv(&f->keys, FUZZ_SVR_KEY_INDEX, recv));
		f->rt.security = true;
		f->rt.peer_keys = &f->keys;
		f->rt.peer_count = 1;
		f->rt.tcp_mss_max[0] = 1300;
		f->rt.tcp_mss_max[1] = 1280;
	}
}

static inline void
fuzz_svr_router_fini(struct fuzz_svr_router *f)
{
	session_table_free(f->rt.sessions);
	svr_waypoint_ports_free(f->path.ports);
	svr_peer_keys_fini(&f->keys);
}

static inline void
fuzz_svr_on_expire(struct session *s, uint32_t index, void *arg)
{
	(void)index;
	svr_session_release(arg, s);
}

static inline void
fuzz_svr_check_output(struct pkt_buf *p)
{
	struct pkt_info info;
	enum pkt_drop_reason reason;

	if (pkt_parse_bytes(pkt_buf_data(p), p->len, &info, &reason) < 0)
		abort();
}

/*
 * One packet from the WAN (at an egress) or the LAN (at an ingress), a tick after the
 * last; encrypt is the service's mode for a new session. Returns the packet the router
 * lets through (the caller puts it back) or NULL.
 */
static inline struct pkt_buf *
fuzz_svr_router_input(struct fuzz_svr_router *f, bool from_wan, uint8_t encrypt,
    const uint8_t *data, size_t len)
{
	enum pkt_drop_reason reason;
	enum svr_verdict v;
	struct pkt_buf *p;

	f->clock_ns += FUZZ_SVR_TICK_NS;
	p = pkt_pool_get(f->pool);
	if (p == NULL || pkt_buf_set(p, data, len) < 0)
		abort();
	if (pkt_parse(p, &reason) < 0) {
		pkt_pool_put(f->pool, p);
		return NULL;
	}
	if (from_wan) {
		svr_wan_rx_burst(&f->rt, &p, 1, f->path.wan_zone, &v, f->clock_ns);
		if (v == SVR_VERDICT_NEW_SESSION) {
			struct svr_meta m;
			struct svr_accept accept = {.encrypt = encrypt};

			v = svr_wan_decode(&f->rt, p, &m) == 0 ?
			    svr_wan_first(&f->rt, p, &m, &accept, f->clock_ns) :
			    SVR_VERDICT_DROP;
		}
	} else {
		svr_lan_rx_burst(&f->rt, &p, 1, 0, &v, f->clock_ns);
		if (v == SVR_VERDICT_NEW_SESSION) {
			struct svr_route route = {.encrypt = encrypt};

			v = svr_lan_first(&f->rt, p, 0, &route, f->clock_ns);
		}
	}
	if (v != SVR_VERDICT_TO_LAN && v != SVR_VERDICT_TO_WAN) {
		pkt_pool_put(f->pool, p);
		return NULL;
	}
	fuzz_svr_check_output(p);
	return p;
}

/* After a packet: drops the control packets (checked), expires, checks the pool. */
static inline void
fuzz_svr_router_settle(struct fuzz_svr_router *f)
{
	for (unsigned i = 0; i < f->rt.ctrl_out_count; i++) {
		fuzz_svr_check_output(f->rt.ctrl_out[i]);
		pkt_pool_put(f->pool, f->rt.ctrl_out[i]);
	}
	f->rt.ctrl_out_count = 0;
	/* Sessions idle for 10 s (ICMP, opening TCP) go; keeps the small table turning. */
	session_table_expire(f->rt.sessions, f->clock_ns, fuzz_svr_on_expire, &f->rt);
	if (pkt_pool_available(f->pool) != pkt_pool_capacity(f->pool))
		abort();
}

#endif
