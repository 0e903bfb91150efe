/* The NAT relay between routers; see router_nat.h. */
#include "router/router_nat.h"

#include <netinet/in.h>
#include <string.h>

#include "lib/buf.h"
#include "pkt/pkt_csum.h"
#include "pkt/pkt_parse.h"
#include "session/session_table.h"
#include "svr/svr_transform.h"

/* Writes the IP and UDP lengths of a datagram of ip_len bytes. */
static void
router_nat_set_len(uint8_t *d, const struct pkt_info *info, size_t ip_len)
{
	if (info->family == ADDR_FAMILY_V4) {
		buf_store_be16(d + 2, (uint16_t)ip_len);
		/* pkt_parse() checks the header: it must be right before the reparse. */
		buf_store_be16(d + 10, 0);
		buf_store_be16(d + 10, pkt_csum_ipv4_header(d, info->l4_off));
	} else {
		buf_store_be16(d + 4, (uint16_t)(ip_len - 40));
	}
	buf_store_be16(d + info->l4_off + 4, (uint16_t)(ip_len - info->l4_off));
}

int
router_nat_relay_wrap(struct pkt_buf *p, uint16_t relay_port, uint16_t mtu,
    enum pkt_drop_reason *reason)
{
	struct pkt_info *info = &p->info;
	size_t ip_len = (size_t)info->ip_len + ROUTER_NAT_RELAY_HDR_LEN;
	uint16_t sport = info->sport, dport = info->dport;
	uint8_t *d;

	if (info->l4_proto != IPPROTO_UDP || !(info->flags & PKT_INFO_HAS_PORTS) ||
	    (info->flags & PKT_INFO_FRAGMENT)) {
		*reason = PKT_DROP_PROTO_UNSUPPORTED;
		return -1;
	}
	if ((mtu != 0 && ip_len > mtu) || ip_len > UINT16_MAX) {
		*reason = PKT_DROP_NAT_RELAY_TOO_BIG;
		return -1;
	}
	if (p->len > info->ip_len)
		(void)pkt_buf_trim(p, info->ip_len);
	if (pkt_buf_insert(p, info->payload_off, ROUTER_NAT_RELAY_HDR_LEN) < 0) {
		*reason = PKT_DROP_PKT_NO_HEADROOM;
		return -1;
	}
	d = p->buf + p->head;
	d[info->payload_off] = ROUTER_NAT_RELAY_TYPE;
	d[info->payload_off + 1] = ROUTER_NAT_RELAY_VERSION;
	buf_store_be16(d + info->payload_off + 2, 0);
	buf_store_be16(d + info->payload_off + 4, sport);
	buf_store_be16(d + info->payload_off + 6, dport);
	buf_store_be16(d + info->l4_off, ROUTER_NAT_PROBE_PORT);
	buf_store_be16(d + info->l4_off + 2, relay_port);
	router_nat_set_len(d, info, ip_len);
	if (pkt_parse(p, reason) < 0)
		return -1;
	pkt_csum_fill(p->buf + p->head, &p->info);
	return 0;
}

bool
router_nat_is_relay(const struct pkt_buf *p)
{
	const struct pkt_info *info = &p->info;

	return info->l4_proto == IPPROTO_UDP && (info->flags & PKT_INFO_HAS_PORTS) &&
	    !(info->flags & PKT_INFO_FRAGMENT) && info->dport == ROUTER_NAT_PROBE_PORT &&
	    info->ip_len > info->payload_off &&
	    p->buf[p->head + info->payload_off] == ROUTER_NAT_RELAY_TYPE;
}

int
router_nat_relay_unwrap(struct pkt_buf *p, enum pkt_drop_reason *reason)
{
	struct pkt_info *info = &p->info;
	uint8_t *d = p->buf + p->head;
	const uint8_t *h = d + info->payload_off;
	uint16_t sport, dport;

	if (!router_nat_is_relay(p) ||
	    (size_t)info->ip_len - info->payload_off < ROUTER_NAT_RELAY_HDR_LEN ||
	    h[1] != ROUTER_NAT_RELAY_VERSION || buf_load_be16(h + 2) != 0) {
		*reason = PKT_DROP_NAT_RELAY_MALFORMED;
		return -1;
	}
	sport = buf_load_be16(h + 4);
	dport = buf_load_be16(h + 6);
	if (sport == 0 || dport == 0) {
		*reason = PKT_DROP_NAT_RELAY_MALFORMED;
		return -1;
	}
	/* The wrapper's checksum is the only one that covers the inner bytes: check it. */
	if (!pkt_csum_verify(d, info)) {
		*reason = PKT_DROP_L4_BAD_CHECKSUM;
		return -1;
	}
	if (p->len > info->ip_len)
		(void)pkt_buf_trim(p, info->ip_len);
	if (pkt_buf_remove(p, info->payload_off, ROUTER_NAT_RELAY_HDR_LEN) < 0) {
		*reason = PKT_DROP_NAT_RELAY_MALFORMED;
		return -1;
	}
	d = p->buf + p->head;
	buf_store_be16(d + info->l4_off, sport);
	buf_store_be16(d + info->l4_off + 2, dport);
	router_nat_set_len(d, info, (size_t)info->ip_len - ROUTER_NAT_RELAY_HDR_LEN);
	if (pkt_parse(p, reason) < 0)
		return -1;
	pkt_csum_fill(p->buf + p->head, &p->info);
	return 0;
}

void
router_nat_sweep_rebind(struct router_nat_sweep *sw, uint8_t *rebind, uint16_t path,
    uint64_t now_ns)
{
	rebind[path] = 1;
	sw->next = 0;
	sw->active = true;
	sw->started = true;
	sw->started_ns = now_ns;
}

unsigned
router_nat_sweep_run(struct router_nat_sweep *sw, struct svr_router *rt, uint8_t *rebind,
    uint64_t now_ns, unsigned budget, void (*flush)(void *arg), void *arg)
{
	unsigned sent = 0;

	if (!sw->active) {
		if (sw->started && now_ns - sw->started_ns < ROUTER_NAT_KEEPALIVE_NS)
			return 0;
		sw->active = true;
		sw->started = true;
		sw->next = 0;
		sw->started_ns = now_ns;
	}
	for (; budget > 0; budget--) {
		uint32_t index = session_table_next(rt->sessions, sw->next);
		const struct session *s;

		if (index == SESSION_INDEX_NONE) {
			sw->active = false;
			memset(rebind, 0, rt->path_count);
			break;
		}
		sw->next = index + 1;
		s = session_table_get(rt->sessions, index);
		if (s->path_id >= rt->path_count || !rt->paths[s->path_id].behind_nat)
			continue;
		/* Idle: last_seen counts both directions; a NAT's timer does too. */
		if (!rebind[s->path_id] && now_ns - s->last_seen_ns < ROUTER_NAT_KEEPALIVE_NS)
			continue;
		if (rt->ctrl_out_count >= SVR_CTRL_OUT_MAX)
			flush(arg);
		if (svr_session_keepalive(rt, index) == 0)
			sent++;
	}
	return sent;
}
