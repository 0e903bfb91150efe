/*
 * Fuzz target for the SVR transforms of a router with security on (sealed metadata,
 * encrypted payloads, adaptive decisions) and keys installed for its one peer, with
 * untrusted input: the first input byte picks
 * the side (even: a packet from the WAN at an egress, odd: from the LAN at an ingress),
 * the rest is the packet. State carries over between inputs (sessions created by one
 * input are hit by the next), as it does in a router.
 *
 * Invariants: nothing crashes or leaks (every buffer returns to the pool), and every
 * packet the transforms let through still parses as a valid IP packet.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkt/pkt_parse.h"
#include "session/session_table.h"
#include "svr/svr_transform.h"
#include "crypto/crypto_aead.h"
#include "svr/svr_keys.h"
#include "svr/svr_waypoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const tenants[] = {"blue"};
static const char *const services[] = {"dns"};
static const uint32_t lan_ports[] = {1};

static struct svr_router rt;
static struct pkt_drop_counters drops;
static struct svr_path path;
static struct pkt_pool *pool;
static uint64_t clock_ns;
static struct svr_peer_keys keys;

static void
fuzz_keys_install(void)
{
	uint8_t key[CRYPTO_AEAD_KEY_LEN];
	struct crypto_aead *send, *recv;

	memset(key, 0x42, sizeof(key));
	if (crypto_aead_new(CRYPTO_AEAD_AES_256_GCM, key, &send) < 0 ||
	    crypto_aead_new(CRYPTO_AEAD_AES_256_GCM, key, &recv) < 0)
		abort();
	svr_peer_keys_init(&keys);
	/* Same key both ways: a packet sealed here also opens here. */
	crypto_aead_free(svr_peer_keys_install_send(&keys, 0x01020304u, send));
	crypto_aead_free(svr_peer_keys_install_recv(&keys, 0x01020304u, recv));
}

static void
fuzz_init(void)
{
	struct session_table_config cfg;
	uint8_t local[4] = {198, 51, 100, 2}, remote[4] = {203, 0, 113, 1};

	session_table_config_default(&cfg, 64);
	cfg.seed = 1;
	rt.sessions = session_table_new(&cfg, 0);
	pool = pkt_pool_new(SVR_CTRL_OUT_MAX + 4);
	path.ports = svr_waypoint_ports_new(SVR_WAYPOINT_PORT_FIRST, SVR_WAYPOINT_PORT_FIRST + 63);
	if (rt.sessions == NULL || pool == NULL || path.ports == NULL)
		abort();
	addr_set_v4(&path.local, local);
	addr_set_v4(&path.remote, remote);
	path.wan_zone = SESSION_ZONE_WAN | 1;
	path.wan_port = 2;
	rt.drops = &drops;
	rt.pool = pool;
	rt.name = "fuzz";
	rt.tenant_names = tenants;
	rt.tenant_count = 1;
	rt.service_names = services;
	rt.service_count = 1;
	rt.paths = &path;
	rt.path_count = 1;
	rt.lan_ports = lan_ports;
	rt.uuid_state[0] = 1;
	fuzz_keys_install();
	rt.security = true;
	rt.peer_keys = &keys;
	rt.peer_count = 1;
	rt.tcp_mss_max[0] = 1300;
	rt.tcp_mss_max[1] = 1280;
}

static void
on_expire(struct session *s, uint32_t index, void *arg)
{
	(void)index;
	svr_session_release(arg, s);
}

static void
fuzz_check_output(struct pkt_buf *p)
{
	struct pkt_info info;
	enum pkt_drop_reason reason;

	if (pkt_parse_bytes(pkt_buf_data(p), p->len, &info, &reason) < 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum pkt_drop_reason reason;
	enum svr_verdict v;
	struct pkt_buf *p;
	bool from_wan;

	if (rt.sessions == NULL)
		fuzz_init();
	/* Long runs restart the sequence: a reused nonce is harmless with this public key. */
	if ((keys.send.next_seq & 0xffff) == 0xffff)
		keys.send.next_seq = 0;
	if (size < 1 || size - 1 > PKT_BUF_DATA_MAX)
		return 0;
	from_wan = (data[0] & 1) == 0;
	clock_ns += 1000000000ull;
	p = pkt_pool_get(pool);
	if (p == NULL || pkt_buf_set(p, data + 1, size - 1) < 0)
		abort();
	if (pkt_parse(p, &reason) < 0) {
		pkt_pool_put(pool, p);
		return 0;
	}
	if (from_wan) {
		svr_wan_rx_burst(&rt, &p, 1, path.wan_zone, &v, clock_ns);
		if (v == SVR_VERDICT_NEW_SESSION) {
			struct svr_meta m;
			struct svr_accept accept = {.encrypt = data[0] >> 1 & 3};

			v = svr_wan_decode(&rt, p, &m) == 0 ?
			    svr_wan_first(&rt, p, &m, &accept, clock_ns) :
			    SVR_VERDICT_DROP;
		}
	} else {
		svr_lan_rx_burst(&rt, &p, 1, 0, &v, clock_ns);
		if (v == SVR_VERDICT_NEW_SESSION) {
			struct svr_route route = {.encrypt = data[0] >> 1 & 3};

			v = svr_lan_first(&rt, p, 0, &route, clock_ns);
		}
	}
	if (v == SVR_VERDICT_TO_LAN || v == SVR_VERDICT_TO_WAN)
		fuzz_check_output(p);
	pkt_pool_put(pool, p);
	for (unsigned i = 0; i < rt.ctrl_out_count; i++) {
		fuzz_check_output(rt.ctrl_out[i]);
		pkt_pool_put(pool, rt.ctrl_out[i]);
	}
	rt.ctrl_out_count = 0;
	/* Sessions idle for 10 s (ICMP, opening TCP) go; keeps the small table turning. */
	session_table_expire(rt.sessions, clock_ns, on_expire, &rt);
	if (pkt_pool_available(pool) != pkt_pool_capacity(pool))
		abort();
	return 0;
}
