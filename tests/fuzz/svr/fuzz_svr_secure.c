/*
 * Fuzz target for the SVR transforms of a router with security on (sealed metadata,
 * encrypted payloads, adaptive decisions, protection acks) and keys installed for its
 * one peer (fuzz_svr_router.h), with untrusted input: a run of up to
 * FUZZ_SVR_SECURE_RECORDS packets, each behind an op byte:
 *
 *   bit 0      0: the packet comes from the WAN (at an egress), 1: from the LAN (ingress)
 *   bits 1-2   the service's encrypt mode for a new session (3 is out of range)
 *   bit 6      the worker goes idle after the packet (svr_router_flush)
 *   bit 7      a 2-byte big-endian packet length follows and another record comes after
 *              the packet; clear: the rest of the input is the packet
 *
 * Every input meets a fresh router (sessions, replay windows, sequences), so a genuine
 * sealed packet opens whatever ran before it and a session one record sets up is hit by
 * the next; gen_fuzz_svr_secure_corpus writes such runs.
 *
 * Invariants: nothing crashes or leaks (every buffer returns to the pool), and every
 * packet the transforms let through still parses as a valid IP packet.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_svr_router.h"

#define FUZZ_SVR_SECURE_RECORDS 16
#define FUZZ_SVR_OP_LAN         0x01
#define FUZZ_SVR_OP_FLUSH       0x40
#define FUZZ_SVR_OP_MORE        0x80

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pkt_pool *pool;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_svr_router router;

	if (pool == NULL && (pool = pkt_pool_new(SVR_CTRL_OUT_MAX + 4)) == NULL)
		abort();
	fuzz_svr_router_init(&router, pool, true, false);
	for (unsigned r = 0; r < FUZZ_SVR_SECURE_RECORDS && size >= 1; r++) {
		uint8_t op = data[0];
		size_t len = size - 1, skip = 1;
		struct pkt_buf *p;

		if (op & FUZZ_SVR_OP_MORE) {
			if (size < 3)
				break;
			len = (size_t)data[1] << 8 | data[2];
			skip = 3;
			if (len > size - skip)
				len = size - skip;
		}
		if (len > PKT_BUF_DATA_MAX)
			break;
		p = fuzz_svr_router_input(&router, !(op & FUZZ_SVR_OP_LAN), op >> 1 & 3,
		    data + skip, len);
		if (p != NULL)
			pkt_pool_put(pool, p);
		if (op & FUZZ_SVR_OP_FLUSH)
			svr_router_flush(&router.rt);
		fuzz_svr_router_settle(&router);
		if (!(op & FUZZ_SVR_OP_MORE))
			break;
		data += skip + len;
		size -= skip + len;
	}
	fuzz_svr_router_fini(&router);
	return 0;
}
