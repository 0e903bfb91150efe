/*
 * Fuzz target for pkt_parse_bytes()/pkt_parse(): any bytes either drop under a named
 * reason or give a pkt_info whose offsets stay inside the packet and agree with the
 * headers they came from; then the checksum code runs over the parsed packet, filling
 * checksums keeps it parseable with the same result, and pkt_set_ip_len() with the
 * current length changes nothing the parser sees.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "pkt/pkt_buf.h"
#include "pkt/pkt_csum.h"
#include "pkt/pkt_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok)
{
	if (!ok)
		abort();
}

static void
check_info(const uint8_t *data, size_t size, const struct pkt_info *info)
{
	size_t min_hdr = info->family == ADDR_FAMILY_V4 ? 20 : 40;
	struct addr a;

	check(info->family == ADDR_FAMILY_V4 || info->family == ADDR_FAMILY_V6);
	check(info->ip_len <= size);
	check(info->l4_off >= min_hdr);
	check(info->l4_off <= info->payload_off && info->payload_off <= info->ip_len);
	check((data[0] >> 4) == info->family);
	if (info->family == ADDR_FAMILY_V4) {
		check(info->ip_len == buf_load_be16(data + 2));
		check(info->frag_hdr_off == 0);
	} else {
		check(info->ip_len == 40 + (size_t)buf_load_be16(data + 4));
		check(info->frag_hdr_off == 0 ||
		    (info->frag_hdr_off >= 40 && info->frag_hdr_off + 8u <= info->l4_off));
	}
	if (info->flags & PKT_INFO_FIRST_FRAGMENT)
		check((info->flags & PKT_INFO_FRAGMENT) && info->frag_off_bytes == 0);
	if (info->flags & PKT_INFO_FRAGMENT) {
		if (!(info->flags & PKT_INFO_FIRST_FRAGMENT))
			check(info->frag_off_bytes != 0 && !(info->flags & PKT_INFO_HAS_L4) &&
			    info->payload_off == info->l4_off);
		if (info->family == ADDR_FAMILY_V6)
			check(info->frag_hdr_off != 0);
	} else {
		check(info->frag_off_bytes == 0 && info->frag_id == 0);
	}
	if (info->flags & PKT_INFO_HAS_PORTS)
		check((info->flags & PKT_INFO_HAS_L4) &&
		    (info->l4_proto == IPPROTO_TCP || info->l4_proto == IPPROTO_UDP));
	if (info->flags & PKT_INFO_ICMP_ERROR)
		check(info->flags & PKT_INFO_HAS_L4);
	if (info->flags & PKT_INFO_HAS_L4) {
		const uint8_t *l4 = data + info->l4_off;
		size_t hdr = info->payload_off - info->l4_off;

		switch (info->l4_proto) {
		case IPPROTO_TCP:
			check(hdr == (size_t)(l4[12] >> 4) * 4 && hdr >= 20);
			check(info->sport == buf_load_be16(l4) &&
			    info->dport == buf_load_be16(l4 + 2));
			break;
		case IPPROTO_UDP:
			check(hdr == 8);
			if (!(info->flags & PKT_INFO_FRAGMENT))
				check(buf_load_be16(l4 + 4) == info->ip_len - info->l4_off);
			break;
		case IPPROTO_ICMP:
			check(
			    hdr == 8 && info->family == ADDR_FAMILY_V4 && info->icmp_type == l4[0]);
			break;
		case IPPROTO_ICMPV6:
			check(
			    hdr == 8 && info->family == ADDR_FAMILY_V6 && info->icmp_type == l4[0]);
			break;
		default:
			check(0);
		}
	} else {
		check(info->payload_off == info->l4_off && info->sport == 0 && info->dport == 0);
	}
	pkt_info_src(info, data, &a);
	check(a.family == info->family);
	pkt_info_dst(info, data, &a);
	check(pkt_info_src_off(info) + pkt_info_addr_len(info) <= min_hdr);
	check(pkt_info_dst_off(info) + pkt_info_addr_len(info) <= min_hdr);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pkt_pool *pool;
	struct pkt_info info, again;
	enum pkt_drop_reason reason = PKT_DROP_COUNT;
	struct pkt_buf *p;
	uint8_t *copy;
	int err;

	err = pkt_parse_bytes(data, size, &info, &reason);
	if (err != 0) {
		check(err == -EBADMSG && reason < PKT_DROP_COUNT);
		return 0;
	}
	check_info(data, size, &info);
	(void)pkt_csum_verify(data, &info);
	(void)pkt_csum_l4(data, &info);

	/* Filling the checksums makes them verify and changes nothing the parser reads. */
	copy = malloc(size);
	check(copy != NULL);
	memcpy(copy, data, size);
	pkt_csum_fill(copy, &info);
	check(pkt_csum_verify(copy, &info));
	check(pkt_parse_bytes(copy, size, &again, &reason) == 0);
	check(memcmp(&info, &again, sizeof(info)) == 0);
	/* Setting the length it already has keeps the packet valid and the same. */
	pkt_set_ip_len(copy, &again, info.ip_len);
	check(pkt_parse_bytes(copy, size, &again, &reason) == 0);
	check(memcmp(&info, &again, sizeof(info)) == 0);
	free(copy);

	/* The buffer path agrees with the bytes path and trims the link padding. */
	if (size > PKT_BUF_DATA_MAX)
		return 0;
	if (pool == NULL)
		pool = pkt_pool_new(1);
	check(pool != NULL);
	p = pkt_pool_get(pool);
	check(p != NULL);
	check(pkt_buf_set(p, data, size) == 0);
	check(pkt_parse(p, &reason) == 0);
	check(p->len == info.ip_len && memcmp(&p->info, &info, sizeof(info)) == 0);
	pkt_pool_put(pool, p);
	return 0;
}
