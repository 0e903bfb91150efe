/*
 * Fuzz target for pkt_icmp_err_parse()/pkt_icmp_err_rewrite(): any packet the parser
 * takes as an ICMP error either refuses its embedded packet or gives offsets inside the
 * datagram; a rewrite to another tuple keeps the error parseable, its checksum right,
 * and the embedded packet parsing to the new tuple.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkt/pkt_csum.h"
#include "pkt/pkt_icmp_err.h"
#include "pkt/pkt_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok)
{
	if (!ok)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t x4[4] = {100, 64, 1, 2}, y4[4] = {172, 16, 3, 4};
	static const uint8_t x6[16] = {0xfd, 1, [15] = 2}, y6[16] = {0xfd, 3, [15] = 4};
	uint8_t buf[2048];
	struct pkt_info info, again;
	struct pkt_icmp_err e, e2;
	enum pkt_drop_reason reason;
	struct addr s, d;

	if (size > sizeof(buf))
		return 0;
	memcpy(buf, data, size);
	if (pkt_parse_bytes(buf, size, &info, &reason) != 0 ||
	    !(info.flags & PKT_INFO_ICMP_ERROR) || (info.flags & PKT_INFO_FRAGMENT))
		return 0;
	if (pkt_icmp_err_parse(buf, &info, &e) != 0)
		return 0;
	check(e.inner_off == info.payload_off && e.inner_off + e.inner_len == info.ip_len);
	check(!e.has_ports ||
	    (e.inner_l4_off > e.inner_off && e.inner_l4_off + PKT_ICMP_ERR_L4_MIN <= info.ip_len));
	if (info.family == ADDR_FAMILY_V4) {
		addr_set_v4(&s, x4);
		addr_set_v4(&d, y4);
	} else {
		addr_set_v6(&s, x6);
		addr_set_v6(&d, y6);
	}
	check(pkt_icmp_err_rewrite(buf, &info, &e, &s, 1234, &d, 4321) == 0);
	check(pkt_parse_bytes(buf, size, &again, &reason) == 0);
	check(pkt_csum_verify(buf, &again));
	check(pkt_icmp_err_parse(buf, &again, &e2) == 0);
	check(addr_equal(&e2.src, &s) && addr_equal(&e2.dst, &d));
	check(e2.has_ports == e.has_ports && (!e2.has_ports || e2.sport == 1234));
	return 0;
}
