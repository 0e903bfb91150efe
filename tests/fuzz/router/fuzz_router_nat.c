/*
 * Fuzz target of the NAT relay's unwrapper (router_nat.h): an arbitrary IP packet as it
 * would arrive on a WAN. Whatever router_nat_is_relay() takes is unwrapped or refused
 * with a named reason; an unwrapped packet parses, carries the ports of its relay header
 * and is exactly 8 bytes shorter, and wrapping it again gives the same bytes back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkt/pkt_parse.h"
#include "router/router_nat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
	if (!cond)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pkt_pool *pool;
	enum pkt_drop_reason reason = PKT_DROP_COUNT;
	struct pkt_buf *p;
	uint16_t sport, dport, relay_port;
	size_t len;

	if (pool == NULL && (pool = pkt_pool_new(2)) == NULL)
		abort();
	p = pkt_pool_get(pool);
	check(p != NULL);
	if (pkt_buf_set(p, data, size) != 0 || pkt_parse(p, &reason) != 0 ||
	    !router_nat_is_relay(p)) {
		pkt_pool_put(pool, p);
		return 0;
	}
	len = p->info.ip_len;
	relay_port = p->info.dport;
	if (p->info.ip_len - p->info.payload_off >= ROUTER_NAT_RELAY_HDR_LEN) {
		const uint8_t *h = p->buf + p->head + p->info.payload_off;

		sport = (uint16_t)(h[4] << 8 | h[5]);
		dport = (uint16_t)(h[6] << 8 | h[7]);
	} else {
		sport = dport = 0;
	}
	if (router_nat_relay_unwrap(p, &reason) < 0) {
		check(reason < PKT_DROP_COUNT);
		pkt_pool_put(pool, p);
		return 0;
	}
	check((size_t)p->info.ip_len + ROUTER_NAT_RELAY_HDR_LEN == len);
	check(p->info.sport == sport && p->info.dport == dport);
	check(router_nat_relay_wrap(p, relay_port, 0, &reason) == 0);
	check(p->info.ip_len == len && p->info.dport == relay_port);
	pkt_pool_put(pool, p);
	return 0;
}
