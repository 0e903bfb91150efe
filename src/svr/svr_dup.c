/*
 * Packet duplication (svr-profile section 7, docs/protocol.md "Packet duplication"): the
 * second leg of a duplicated session, kept as an alias entry of the session table, its
 * moves between paths, and the per-packet part (the copy, the sequence, the filter's
 * use) around the transforms of svr_transform.c; the filter itself is svr_dup_window.c.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "lib/buf.h"
#include "pkt/pkt_buf.h"
#include "session/session_table.h"
#include "svr/svr_transform.h"
#include "svr/svr_transform_int.h"
#include "svr/svr_waypoint.h"

void
svr_dup_state_load(const struct session *alias, struct svr_dup_state *st)
{
	memcpy(st, alias->owner_data, sizeof(*st));
}

void
svr_dup_state_store(struct session *alias, const struct svr_dup_state *st)
{
	memcpy(alias->owner_data, st, sizeof(*st));
}

static void
svr_dup_alias_key(struct session_key *key, uint32_t primary, uint16_t zone)
{
	uint8_t src[16] = {0}, dst[16] = {0};

	buf_store_be32(src, primary);
	/* UDP: an alias idles out like a UDP session (180 s) unless its session is used. */
	session_key_set(key, ADDR_FAMILY_V4, IPPROTO_UDP, zone, src, dst, 0, 0);
}

struct session *
svr_dup_alias_find(struct svr_router *rt, uint32_t primary, uint32_t *alias_index)
{
	const struct session *s = session_table_get(rt->sessions, primary);
	struct session_key key;
	struct session *a;
	uint32_t ai;

	if (s == NULL)
		return NULL;
	svr_dup_alias_key(&key, primary, SVR_ALIAS_ZONE);
	ai = session_table_lookup(rt->sessions, &key, session_key_hash(rt->sessions, &key), NULL);
	if (ai == SESSION_INDEX_NONE)
		return NULL;
	a = session_table_at(rt->sessions, ai);
	/* An alias of an earlier session at the same index is not this one's. */
	if (!(a->flags & SVR_SESSION_ALIAS) || a->created_ns != s->created_ns)
		return NULL;
	if (alias_index != NULL)
		*alias_index = ai;
	return a;
}

struct session *
svr_dup_primary_of(struct svr_router *rt, const struct session *alias, uint32_t *primary_index)
{
	uint32_t pi = buf_load_be32(alias->lan_key.src);
	struct session *s = session_table_get(rt->sessions, pi);

	if (s == NULL || !(s->flags & SVR_SESSION_DUP) || (s->flags & SVR_SESSION_ALIAS) ||
	    s->created_ns != alias->created_ns)
		return NULL;
	if (primary_index != NULL)
		*primary_index = pi;
	return s;
}

uint32_t
svr_session_alias(struct svr_router *rt, uint32_t index)
{
	uint32_t ai;

	return svr_dup_alias_find(rt, index, &ai) != NULL ? ai : SESSION_INDEX_NONE;
}

void
svr_dup_alias_release(struct svr_router *rt, const struct session *alias)
{
	/* The ingress allocated the leg's pair; its own (even) port is where the peer sends. */
	if (alias->role == SESSION_ROLE_INGRESS && alias->path_id < rt->path_count)
		svr_waypoint_ports_put(rt->paths[alias->path_id].ports, alias->wan_key.dport);
}

void
svr_dup_alias_drop(struct svr_router *rt, uint32_t primary)
{
	uint32_t ai;
	struct session *a = svr_dup_alias_find(rt, primary, &ai);

	if (a == NULL)
		return;
	svr_dup_alias_release(rt, a);
	session_table_delete(rt->sessions, ai);
}

int
svr_dup_alias_add(struct svr_router *rt, uint32_t primary, uint16_t path_id, bool leg1,
    uint64_t now_ns, uint32_t *alias_index)
{
	struct session *s = session_table_get(rt->sessions, primary), *a;
	struct session_key lan_key, wan_key;
	struct svr_dup_state st;
	uint32_t ai;
	int rc;

	if (s == NULL)
		return -ENOENT;
	svr_dup_alias_key(&lan_key, primary, SVR_ALIAS_ZONE);
	svr_dup_alias_key(&wan_key, primary, SVR_ALIAS_UNBOUND_ZONE);
	rc = session_table_insert(rt->sessions, &lan_key, &wan_key, now_ns, &ai);
	if (rc == -EEXIST) {
		/* Left by an earlier session at this index: it is nobody's now. */
		uint32_t old = session_table_lookup(rt->sessions, &lan_key,
		    session_key_hash(rt->sessions, &lan_key), NULL);

		if (old != SESSION_INDEX_NONE) {
			svr_dup_alias_release(rt, session_table_at(rt->sessions, old));
			session_table_delete(rt->sessions, old);
		}
		rc = session_table_insert(rt->sessions, &lan_key, &wan_key, now_ns, &ai);
	}
	if (rc < 0) {
		s->flags &= ~(uint32_t)SVR_SESSION_DUP;
		rt->stats.dup_leg_failures++;
		return rc;
	}
	a = session_table_at(rt->sessions, ai);
	a->role = s->role;
	a->tenant_id = s->tenant_id;
	a->service_id = s->service_id;
	a->path_id = SVR_PATH_NONE;
	a->flags = SVR_SESSION_ALIAS | (leg1 ? SVR_SESSION_LEG1 : 0);
	a->created_ns = s->created_ns; /* ties it to this session, not to the index */
	memset(&st, 0, sizeof(st));
	svr_dup_window_init(&st.rx);
	svr_dup_state_store(a, &st);
	s->flags |= SVR_SESSION_DUP;
	rt->stats.dup_legs++;
	if (path_id != SVR_PATH_NONE && s->role == SESSION_ROLE_INGRESS)
		(void)svr_session_dup_move(rt, primary, path_id, now_ns);
	if (alias_index != NULL)
		*alias_index = ai;
	return 0;
}

int
svr_session_dup_move(struct svr_router *rt, uint32_t index, uint16_t new_path_id, uint64_t now_ns)
{
	struct session *s = session_table_get(rt->sessions, index), *a;
	const struct svr_path *to;
	struct session_key wan_key;
	uint16_t local_port, peer_port, old_port, old_path;
	uint32_t carriage, ai;
	uint8_t wan_proto;
	int rc;

	(void)now_ns;
	if (s == NULL || !(s->flags & SVR_SESSION_DUP) ||
	    (a = svr_dup_alias_find(rt, index, &ai)) == NULL)
		return -ENOENT;
	if (s->role != SESSION_ROLE_INGRESS || s->path_id >= rt->path_count)
		return -EPERM;
	if (new_path_id == a->path_id)
		return -EALREADY;
	/* Both legs on one path would be one path paying twice. */
	if (new_path_id >= rt->path_count || new_path_id == s->path_id) {
		rc = -EINVAL;
		goto fail;
	}
	to = &rt->paths[new_path_id];
	if (to->peer_id != rt->paths[s->path_id].peer_id) {
		rc = -EXDEV;
		goto fail;
	}
	if (to->local.family != to->remote.family) {
		rc = -EAFNOSUPPORT;
		goto fail;
	}
	if (svr_waypoint_ports_get(to->ports, &local_port, &peer_port) < 0) {
		rc = -EADDRNOTAVAIL;
		goto fail;
	}
	/* Each leg takes its own path's carriage, as a moved session does. */
	carriage = s->flags & SVR_SESSION_AS_UDP;
	wan_proto = carriage ? IPPROTO_UDP : s->lan_key.proto;
	if (s->lan_key.proto == IPPROTO_TCP) {
		carriage = to->udp_transform ? SVR_SESSION_AS_UDP | SVR_SESSION_UDP_TRANSFORM : 0;
		wan_proto = to->udp_transform ? IPPROTO_UDP : IPPROTO_TCP;
	}
	session_key_set(&wan_key, to->local.family, wan_proto, to->wan_zone, to->remote.bytes,
	    to->local.bytes, peer_port, local_port);
	old_port = a->wan_key.dport;
	old_path = a->path_id;
	rc = session_table_rekey_wan(rt->sessions, ai, &wan_key);
	if (rc < 0) {
		svr_waypoint_ports_put(to->ports, local_port);
		goto fail;
	}
	if (old_path < rt->path_count)
		svr_waypoint_ports_put(rt->paths[old_path].ports, old_port);
	a->path_id = new_path_id;
	/* Forward metadata on this leg until the egress answers on it (same UUID). */
	a->flags = SVR_SESSION_ALIAS | SVR_SESSION_LEG1 | SVR_SESSION_FWD_META | carriage |
	    (to->local.family != s->lan_key.family ? SVR_SESSION_XLATE : 0);
	rt->stats.dup_leg_moves++;
	return 0;
fail:
	rt->stats.dup_leg_failures++;
	return rc;
}

bool
svr_dup_leg_check(struct svr_router *rt, struct session *s, uint32_t index, struct session *alias,
    bool keepalive, uint64_t now_ns)
{
	uint16_t to;

	if (rt->dup_path_pick == NULL || s->role != SESSION_ROLE_INGRESS)
		return false;
	if (!keepalive && alias->path_id < rt->path_count && alias->path_id != s->path_id &&
	    rt->paths[alias->path_id].state == SVR_PATH_UP)
		return false;
	to = rt->dup_path_pick(rt, s, alias->path_id, rt->path_pick_arg);
	if (to >= rt->path_count || to == alias->path_id || to == s->path_id ||
	    svr_session_dup_move(rt, index, to, now_ns) < 0)
		return false;
	if (keepalive)
		svr_control_send_leg(rt, s, alias, SVR_CONTROL_KEEPALIVE, true);
	return true;
}

/*
 * A packet of a duplicated session toward the peer: the next sequence of the direction,
 * a copy of the host packet for the second leg when that leg has a path of its own that
 * is up, then each through the slow path on its leg (the copy is sealed on its own, so
 * the peer's replay window sees two counters). The copy goes out through rt->ctrl_out.
 * The first packet's verdict is returned.
 */
enum svr_verdict
svr_lan_dup_send(struct svr_router *rt, struct pkt_buf *p, struct session *s, uint32_t index,
    uint64_t now_ns)
{
	struct svr_dup_tag tag0, tag1;
	struct svr_dup_state st;
	struct pkt_buf *c = NULL;
	enum svr_verdict v;
	struct session *a;
	uint32_t ai;

	a = svr_dup_alias_find(rt, index, &ai);
	/* The leg idled out (or was never made): make it again, or go on with one leg. */
	if (a == NULL &&
	    svr_dup_alias_add(rt, index, SVR_PATH_NONE,
	        s->role == SESSION_ROLE_INGRESS || !(s->flags & SVR_SESSION_LEG1), now_ns,
	        &ai) == 0)
		a = session_table_at(rt->sessions, ai);
	if (a == NULL)
		return svr_lan_to_wan_slow(rt, p, s, s, NULL, false, now_ns);
	(void)svr_dup_leg_check(rt, s, index, a, false, now_ns);
	svr_dup_state_load(a, &st);
	st.tx_seq++;
	svr_dup_state_store(a, &st);
	a->last_seen_ns = now_ns; /* the leg lives as long as its session is used */
	tag0.leg = (s->flags & SVR_SESSION_LEG1) ? 1 : 0;
	tag1.leg = (a->flags & SVR_SESSION_LEG1) ? 1 : 0;
	tag0.seq = tag1.seq = st.tx_seq;
	if (a->path_id < rt->path_count && a->path_id != s->path_id &&
	    rt->paths[a->path_id].state == SVR_PATH_UP) {
		if (rt->ctrl_out_count >= SVR_CTRL_OUT_MAX || rt->pool == NULL ||
		    (c = pkt_pool_get(rt->pool)) == NULL) {
			pkt_drop_count(rt->drops, PKT_DROP_PKT_POOL_EMPTY);
		} else {
			(void)pkt_buf_set(c, p->buf + p->head, p->len);
			c->info = p->info;
			c->user = p->user;
			c->rx_ns = p->rx_ns;
		}
	}
	v = svr_lan_to_wan_slow(rt, p, s, s, &tag0, false, now_ns);
	if (c == NULL)
		return v;
	if (v == SVR_VERDICT_TO_WAN &&
	    svr_lan_to_wan_slow(rt, c, s, a, &tag1, true, now_ns) == SVR_VERDICT_TO_WAN) {
		rt->ctrl_out[rt->ctrl_out_count++] = c;
		rt->stats.dup_tx++;
	} else {
		pkt_pool_put(rt->pool, c);
	}
	return v;
}

/*
 * The duplicate filter of a duplicated session's packet with sequence seq (its alias,
 * w when the packet came on the second leg, holds the window): 0 to deliver it (marked
 * delivered now), or -EALREADY / -ESTALE, counted in rt->stats (not a drop: the other
 * copy was, or may have been, delivered).
 */
int
svr_dup_filter(struct svr_router *rt, struct session *s, uint32_t index, struct session *w,
    uint32_t seq)
{
	struct session *a = w != s ? w : svr_dup_alias_find(rt, index, NULL);
	struct svr_dup_state st;
	uint64_t seq64;
	int rc;

	if (a == NULL)
		return 0; /* no window (the leg could not be made): nothing to filter against */
	svr_dup_state_load(a, &st);
	seq64 = svr_dup_window_extend(&st.rx, seq);
	rc = svr_dup_window_check(&st.rx, seq64);
	if (rc == 0) {
		svr_dup_window_update(&st.rx, seq64);
		svr_dup_state_store(a, &st);
	} else if (rc == -EALREADY) {
		rt->stats.dup_filtered++;
	} else {
		rt->stats.dup_stale++;
	}
	a->last_seen_ns = s->last_seen_ns;
	return rc;
}

/*
 * svr_wan_first() for the other leg of duplicated session s (index): forward metadata on
 * a new tuple with the leg the session's own WAN key does not carry. The tuple becomes
 * the alias's WAN key (the alias is made if it idled out, with the session marked
 * duplicated if it was not yet); reverse copies leave on it from now on. Data is filtered
 * like any copy: its twin may have been delivered already.
 */
enum svr_verdict
svr_wan_first_leg(struct svr_router *rt, struct pkt_buf *p, const struct svr_meta *m,
    const struct svr_accept *accept, struct session *s, uint32_t index,
    const struct session_key *wan_key, const struct svr_seal_protection *prot, size_t block_len,
    uint64_t now_ns)
{
	const struct svr_ctx *ctx = &m->fwd_ctx;
	bool control = m->present & SVR_META_F_CONTROL, leg1 = m->dup_leg == 1;
	bool carried = wan_key->proto == IPPROTO_UDP && ctx->proto != IPPROTO_UDP;
	bool carried_tcp = carried && ctx->proto == IPPROTO_TCP;
	struct session *a;
	uint32_t ai;

	a = svr_dup_alias_find(rt, index, &ai);
	if (a == NULL) {
		if (svr_dup_alias_add(rt, index, SVR_PATH_NONE, leg1, now_ns, &ai) < 0) {
			pkt_drop_count(rt->drops, PKT_DROP_SESSION_TABLE_FULL);
			return SVR_VERDICT_DROP;
		}
		a = session_table_at(rt->sessions, ai);
	}
	if (session_table_rekey_wan(rt->sessions, ai, wan_key) < 0) {
		pkt_drop_count(rt->drops, PKT_DROP_SVR_SESSION_CONFLICT);
		return SVR_VERDICT_DROP;
	}
	if (a->path_id == SVR_PATH_NONE || a->path_id != accept->path_id)
		rt->stats.dup_legs++;
	a->path_id = accept->path_id;
	a->flags = SVR_SESSION_ALIAS | (leg1 ? SVR_SESSION_LEG1 : 0) |
	    (carried ? SVR_SESSION_AS_UDP : 0) | (carried_tcp ? SVR_SESSION_UDP_TRANSFORM : 0) |
	    (ctx->src.family != wan_key->family ? SVR_SESSION_XLATE : 0);
	a->last_seen_ns = now_ns;
	/* The ingress waits for an answer on this leg too. */
	s->flags |= SVR_SESSION_REV_META;
	if (rt->security)
		svr_rx_decision_apply(rt, s, index, prot);
	p->user = index;
	if (control) {
		rt->stats.control_rx++;
		return SVR_VERDICT_CONSUMED;
	}
	rt->stats.meta_rx++;
	if (svr_dup_filter(rt, s, index, a, m->dup_seq) < 0)
		return SVR_VERDICT_CONSUMED;
	return svr_wan_restore_slow(rt, p, s, a, block_len, now_ns);
}
