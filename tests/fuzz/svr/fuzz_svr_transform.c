/*
 * Fuzz target for the SVR transforms with untrusted input: the first input byte picks
 * the side (bit 0 clear: a packet from the WAN at an egress, set: from the LAN at an
 * ingress) and whether the path has the UDP transform (bit 1: TCP sessions the packet
 * opens travel as UDP); the rest is the packet. State carries over between inputs (sessions created
 * by one input are hit by the next), as it does in a router.
 *
 * Invariants: nothing crashes or leaks (every buffer returns to the pool), and every
 * packet the transforms let through still parses as a valid IP packet.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_svr_router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fuzz_svr_router router;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt_buf *p;

	if (router.pool == NULL) {
		struct pkt_pool *pool = pkt_pool_new(SVR_CTRL_OUT_MAX + 4);

		if (pool == NULL)
			abort();
		fuzz_svr_router_init(&router, pool, false, false);
	}
	if (size < 1 || size - 1 > PKT_BUF_DATA_MAX)
		return 0;
	router.path.udp_transform = (data[0] & 2) != 0;
	p = fuzz_svr_router_input(&router, (data[0] & 1) == 0, 0, data + 1, size - 1);
	if (p != NULL)
		pkt_pool_put(router.pool, p);
	fuzz_svr_router_settle(&router);
	return 0;
}
