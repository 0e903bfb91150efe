/* Local internet breakout with source NAT; see router_breakout.h. */
#include "router/router_breakout.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "pkt/pkt_csum.h"
#include "pkt/pkt_parse.h"
#include "svr/svr_waypoint.h"

struct router_breakout {
	struct session_table *sessions;
	struct addr *wan_addrs;
	struct svr_waypoint_ports **ports; /* by WAN link */
	size_t wan_count;
};

int
router_breakout_new(const struct session_table_config *scfg, uint32_t capacity,
    const struct addr *wan_addrs, size_t wan_count, uint16_t port_first, uint16_t port_last,
    uint64_t now_ns, struct router_breakout **out)
{
	struct session_table_config c = *scfg;
	struct router_breakout *b;

	*out = NULL;
	if (wan_count == 0 || port_first == 0 || port_first > port_last || capacity == 0)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return -ENOMEM;
	c.capacity = capacity;
	b->wan_count = wan_count;
	b->sessions = session_table_new(&c, now_ns);
	b->wan_addrs = calloc(wan_count, sizeof(*b->wan_addrs));
	b->ports = calloc(wan_count, sizeof(*b->ports));
	if (b->sessions == NULL || b->wan_addrs == NULL || b->ports == NULL)
		goto fail;
	memcpy(b->wan_addrs, wan_addrs, wan_count * sizeof(*wan_addrs));
	for (size_t i = 0; i < wan_count; i++) {
		b->ports[i] = svr_waypoint_ports_new(port_first, port_last);
		if (b->ports[i] == NULL)
			goto fail;
	}
	*out = b;
	return 0;
fail:
	router_breakout_free(b);
	return -ENOMEM;
}

void
router_breakout_free(struct router_breakout *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; b->ports != NULL && i < b->wan_count; i++)
		svr_waypoint_ports_free(b->ports[i]);
	free(b->ports);
	free(b->wan_addrs);
	session_table_free(b->sessions);
	free(b);
}

static bool
router_breakout_key(const struct pkt_buf *p, uint16_t zone, struct session_key *key)
{
	const struct pkt_info *info = &p->info;
	const uint8_t *d = p->buf + p->head;

	if ((info->flags & PKT_INFO_FRAGMENT) || !(info->flags & PKT_INFO_HAS_PORTS) ||
	    (info->l4_proto != IPPROTO_TCP && info->l4_proto != IPPROTO_UDP))
		return false;
	session_key_set(key, info->family, info->l4_proto, zone, d + pkt_info_src_off(info),
	    d + pkt_info_dst_off(info), info->sport, info->dport);
	return true;
}

static uint32_t
router_breakout_lookup(const struct router_breakout *b, const struct pkt_buf *p, uint16_t zone)
{
	struct session_key key;

	if (!router_breakout_key(p, zone, &key))
		return SESSION_INDEX_NONE;
	return session_table_lookup(b->sessions, &key, session_key_hash(b->sessions, &key), NULL);
}

uint32_t
router_breakout_lan_lookup(const struct router_breakout *b, const struct pkt_buf *p, uint16_t zone)
{
	return router_breakout_lookup(b, p, zone);
}

uint32_t
router_breakout_wan_lookup(const struct router_breakout *b, const struct pkt_buf *p, uint32_t wan)
{
	if (wan >= b->wan_count)
		return SESSION_INDEX_NONE;
	return router_breakout_lookup(b, p, (uint16_t)(SESSION_ZONE_WAN | wan));
}

/*
 * The checksum deltas of a packet that arrives with key in and leaves with the reverse of
 * out as its tuple (out->dst becomes its source, out->src its destination).
 */
static void
router_breakout_deltas(struct session *s, enum session_dir dir, const struct session_key *in,
    const struct session_key *out)
{
	size_t alen = in->family == ADDR_FAMILY_V4 ? 4 : 16;
	uint32_t l3, l4;

	l3 = pkt_csum_delta_add(0, in->src, out->dst, alen);
	l3 = pkt_csum_delta_add(l3, in->dst, out->src, alen);
	l4 = pkt_csum_delta_add16(l3, in->sport, out->dport);
	l4 = pkt_csum_delta_add16(l4, in->dport, out->sport);
	s->csum_delta_l3[dir] = pkt_csum_fold(l3);
	s->csum_delta_l4[dir] = pkt_csum_fold(l4);
}

int
router_breakout_open(struct router_breakout *b, const struct pkt_buf *p, uint16_t zone,
    uint32_t wan, uint16_t tenant_id, uint16_t service_id, uint64_t now_ns, uint32_t *index,
    enum pkt_drop_reason *reason)
{
	struct session_key lan_key, wan_key;
	uint16_t port, unused;
	struct session *s;
	int rc;

	if (wan >= b->wan_count || !router_breakout_key(p, zone, &lan_key) ||
	    b->wan_addrs[wan].family != p->info.family) {
		*reason = PKT_DROP_ROUTER_BREAKOUT_UNSUPPORTED;
		return -EPROTONOSUPPORT;
	}
	if (svr_waypoint_ports_get(b->ports[wan], &port, &unused) < 0) {
		*reason = PKT_DROP_ROUTER_BREAKOUT_PORTS_EXHAUSTED;
		return -EADDRNOTAVAIL;
	}
	/* What the destination's answers carry: it to us, at the NAT port. */
	session_key_set(&wan_key, lan_key.family, lan_key.proto, (uint16_t)(SESSION_ZONE_WAN | wan),
	    lan_key.dst, b->wan_addrs[wan].bytes, lan_key.dport, port);
	rc = session_table_insert(b->sessions, &lan_key, &wan_key, now_ns, index);
	if (rc < 0) {
		svr_waypoint_ports_put(b->ports[wan], port);
		*reason =
		    rc == -ENOSPC ? PKT_DROP_SESSION_TABLE_FULL : PKT_DROP_SVR_SESSION_CONFLICT;
		return rc;
	}
	s = session_table_get(b->sessions, *index);
	s->role = SESSION_ROLE_BREAKOUT;
	s->tenant_id = tenant_id;
	s->service_id = service_id;
	s->path_id = (uint16_t)wan;
	/* Random bits are not needed: the id only names the session in listings. */
	memcpy(s->uuid, index, sizeof(*index));
	router_breakout_deltas(s, SESSION_DIR_LAN_TO_WAN, &s->lan_key, &s->wan_key);
	router_breakout_deltas(s, SESSION_DIR_WAN_TO_LAN, &s->wan_key, &s->lan_key);
	return 0;
}

/* Writes the reverse of key as p's tuple and applies the session's deltas for dir. */
static void
router_breakout_rewrite(struct pkt_buf *p, const struct session *s, enum session_dir dir,
    const struct session_key *key)
{
	struct pkt_info *info = &p->info;
	uint8_t *d = p->buf + p->head;
	size_t alen = info->family == ADDR_FAMILY_V4 ? 4 : 16;
	int csum_off = pkt_csum_l4_field_off(info->l4_proto);

	memcpy(d + pkt_info_src_off(info), key->dst, alen);
	memcpy(d + pkt_info_dst_off(info), key->src, alen);
	buf_store_be16(d + info->l4_off, key->dport);
	buf_store_be16(d + info->l4_off + 2, key->sport);
	info->sport = key->dport;
	info->dport = key->sport;
	if (info->family == ADDR_FAMILY_V4)
		pkt_csum_apply_delta(d + 10, s->csum_delta_l3[dir], false);
	if (csum_off >= 0)
		pkt_csum_apply_delta(d + info->l4_off + (size_t)csum_off, s->csum_delta_l4[dir],
		    info->l4_proto == IPPROTO_UDP);
}

uint32_t
router_breakout_out(struct router_breakout *b, struct pkt_buf *p, uint32_t index, uint64_t now_ns)
{
	struct session *s = session_table_at(b->sessions, index);

	session_on_packet(b->sessions, s, SESSION_DIR_LAN_TO_WAN, p->info.tcp_flags, p->len,
	    now_ns);
	router_breakout_rewrite(p, s, SESSION_DIR_LAN_TO_WAN, &s->wan_key);
	return s->path_id;
}

const struct session *
router_breakout_in(struct router_breakout *b, struct pkt_buf *p, uint32_t index, uint64_t now_ns)
{
	struct session *s = session_table_at(b->sessions, index);

	session_on_packet(b->sessions, s, SESSION_DIR_WAN_TO_LAN, p->info.tcp_flags, p->len,
	    now_ns);
	router_breakout_rewrite(p, s, SESSION_DIR_WAN_TO_LAN, &s->lan_key);
	return s;
}

struct router_breakout_expiry {
	struct router_breakout *b;
	void (*on_end)(const struct session *s, void *arg);
	void *arg;
};

static void
router_breakout_on_expire(struct session *s, uint32_t index, void *arg)
{
	struct router_breakout_expiry *e = arg;

	(void)index;
	if (s->path_id < e->b->wan_count)
		svr_waypoint_ports_put(e->b->ports[s->path_id], s->wan_key.dport);
	if (e->on_end != NULL)
		e->on_end(s, e->arg);
}

unsigned
router_breakout_expire(struct router_breakout *b, uint64_t now_ns,
    void (*on_end)(const struct session *s, void *arg), void *arg)
{
	struct router_breakout_expiry e = {.b = b, .on_end = on_end, .arg = arg};

	return session_table_expire(b->sessions, now_ns, router_breakout_on_expire, &e);
}

void
router_breakout_close(struct router_breakout *b, uint32_t index)
{
	struct session *s = session_table_get(b->sessions, index);

	if (s == NULL)
		return;
	if (s->path_id < b->wan_count)
		svr_waypoint_ports_put(b->ports[s->path_id], s->wan_key.dport);
	session_table_delete(b->sessions, index);
}

struct session_table *
router_breakout_sessions(struct router_breakout *b)
{
	return b->sessions;
}

uint32_t
router_breakout_ports_free(const struct router_breakout *b, uint32_t wan)
{
	if (wan >= b->wan_count)
		return 0;
	return svr_waypoint_ports_capacity(b->ports[wan]) -
	    svr_waypoint_ports_in_use(b->ports[wan]);
}
