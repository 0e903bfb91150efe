/*
 * Session migration for failover (svr-profile section 7, docs/protocol.md "Failover"):
 * the ingress moves a session to another path of the same peer with a new waypoint
 * pair and sends forward metadata again; the egress re-binds it by its UUID
 * (svr_wan_first). See svr_transform.h for the contract.
 */
#include <errno.h>
#include <netinet/in.h>

#include "session/session_table.h"
#include "svr/svr_ctrl.h"
#include "svr/svr_transform.h"
#include "svr/svr_transform_int.h"
#include "svr/svr_waypoint.h"

/*
 * Gives ingress session s (at index) a new waypoint pair on path to_id and the carriage
 * tcp_as_udp says for TCP, then asks for forward metadata again. Errors as
 * svr_session_migrate() (not counted here); on error nothing changed.
 */
static int
svr_session_move(struct svr_router *rt, struct session *s, uint32_t index, uint16_t to_id,
    bool tcp_as_udp)
{
	const struct svr_path *from = &rt->paths[s->path_id], *to = &rt->paths[to_id];
	struct session_key wan_key;
	uint16_t local_port, peer_port, old_port;
	uint32_t carriage;
	uint8_t wan_proto;
	int rc;

	/* Another peer is another egress: it holds no state for this session. */
	if (to->peer_id != from->peer_id)
		return -EXDEV;
	if (to->local.family != to->remote.family)
		return -EAFNOSUPPORT;
	if (svr_waypoint_ports_get(to->ports, &local_port, &peer_port) < 0)
		return -EADDRNOTAVAIL;
	/*
	 * TCP takes the carriage asked for (the UDP transform, or TCP); UDP and the
	 * port-less protocols ride UDP everywhere.
	 */
	carriage = s->flags & (SVR_SESSION_AS_UDP | SVR_SESSION_UDP_TRANSFORM);
	wan_proto = s->wan_key.proto;
	if (s->lan_key.proto == IPPROTO_TCP) {
		carriage = tcp_as_udp ? SVR_SESSION_AS_UDP | SVR_SESSION_UDP_TRANSFORM : 0;
		wan_proto = tcp_as_udp ? IPPROTO_UDP : IPPROTO_TCP;
	}
	session_key_set(&wan_key, to->local.family, wan_proto, to->wan_zone, to->remote.bytes,
	    to->local.bytes, peer_port, local_port);
	old_port = s->wan_key.dport;
	rc = session_table_rekey_wan(rt->sessions, index, &wan_key);
	if (rc < 0) {
		svr_waypoint_ports_put(to->ports, local_port);
		return rc;
	}
	svr_waypoint_ports_put(from->ports, old_port);
	s->path_id = to_id;
	if (to->learn)
		svr_uuid_index_add(rt, s, index);
	/*
	 * Forward metadata again until the egress answers from the new tuple; the
	 * protection bits stay (same peer keys, and the payload's associated data is the
	 * UUID, not the tuple). The new path may differ from the old in family.
	 */
	s->flags =
	    (s->flags &
	        ~(uint32_t)(SVR_SESSION_XLATE | SVR_SESSION_AS_UDP | SVR_SESSION_UDP_TRANSFORM)) |
	    SVR_SESSION_FWD_META | carriage |
	    (to->local.family != s->lan_key.family ? SVR_SESSION_XLATE : 0);
	svr_deltas_compute(s, SESSION_DIR_LAN_TO_WAN, &s->lan_key, &s->wan_key);
	svr_deltas_compute(s, SESSION_DIR_WAN_TO_LAN, &s->wan_key, &s->lan_key);
	return 0;
}

int
svr_session_migrate(struct svr_router *rt, uint32_t index, uint16_t new_path_id, uint64_t now_ns)
{
	struct session *s = session_table_get(rt->sessions, index);
	int rc;

	(void)now_ns;
	if (s == NULL)
		return -ENOENT;
	/* Only the router that chose the waypoint pair may choose another. */
	if (s->role != SESSION_ROLE_INGRESS || s->path_id >= rt->path_count)
		return -EPERM;
	if (new_path_id == s->path_id)
		return -EALREADY;
	rc = new_path_id < rt->path_count ?
	    svr_session_move(rt, s, index, new_path_id, rt->paths[new_path_id].udp_transform) :
	    -EINVAL;
	if (rc < 0) {
		rt->stats.migrate_failures++;
		return rc;
	}
	rt->stats.migrations++;
	return 0;
}

int
svr_session_udp_transform(struct svr_router *rt, uint32_t index)
{
	struct session *s = session_table_get(rt->sessions, index);
	int rc;

	if (s == NULL)
		return -ENOENT;
	if (s->role != SESSION_ROLE_INGRESS || s->path_id >= rt->path_count)
		return -EPERM;
	if (s->lan_key.proto != IPPROTO_TCP)
		return -EPROTONOSUPPORT;
	if (s->flags & SVR_SESSION_UDP_TRANSFORM)
		return -EALREADY;
	rc = svr_session_move(rt, s, index, s->path_id, true);
	if (rc == 0)
		rt->stats.udp_transform_moves++;
	return rc;
}

unsigned
svr_sessions_migrate_path(struct svr_router *rt, uint16_t from_path, unsigned budget,
    uint64_t now_ns)
{
	unsigned moved = 0;

	if (!rt->sweep.active || rt->sweep.from_path != from_path) {
		rt->sweep.active = true;
		rt->sweep.from_path = from_path;
		rt->sweep.next = 0;
	}
	for (; budget > 0; budget--) {
		uint32_t index = session_table_next(rt->sessions, rt->sweep.next);
		struct session *s;
		uint16_t to;

		if (index == SESSION_INDEX_NONE) {
			rt->sweep.active = false;
			break;
		}
		s = session_table_get(rt->sessions, index);
		/* A second leg is reconsidered with its session, below. */
		if (s->flags & SVR_SESSION_ALIAS) {
			rt->sweep.next = index + 1;
			continue;
		}
		if (s->role == SESSION_ROLE_INGRESS && (s->flags & SVR_SESSION_DUP) &&
		    s->path_id != from_path) {
			struct session *a = svr_dup_alias_find(rt, index, NULL);

			/* Room for the keep-alives of both legs, or resume here next call. */
			if (rt->ctrl_out_count + 2 > SVR_CTRL_OUT_MAX)
				break;
			if (a != NULL &&
			    (a->path_id == from_path || a->path_id >= rt->path_count) &&
			    svr_dup_leg_check(rt, s, index, a, true, now_ns))
				moved++;
		}
		if (s->role == SESSION_ROLE_INGRESS && s->path_id == from_path) {
			/* No room for its keep-alives: resume with this session next call. */
			if (rt->ctrl_out_count + 2 > SVR_CTRL_OUT_MAX)
				break;
			/* SVR_PATH_DROP has no packet to drop here: the session stays. */
			to = rt->path_pick != NULL ? rt->path_pick(rt, s, rt->path_pick_arg) :
			                             SVR_PATH_NONE;
			/*
			 * The egress re-binds from the keep-alive alone, so a session whose
			 * client is silent (a download) moves too.
			 */
			if (to < rt->path_count && to != from_path &&
			    svr_session_migrate(rt, index, to, now_ns) == 0) {
				svr_control_send_leg(rt, s, s, SVR_CONTROL_KEEPALIVE, true);
				moved++;
			}
			/* The second leg may now share the first's path, or have a better one. */
			if (s->flags & SVR_SESSION_DUP) {
				struct session *a = svr_dup_alias_find(rt, index, NULL);

				if (a != NULL && svr_dup_leg_check(rt, s, index, a, true, now_ns))
					moved++;
			}
		}
		rt->sweep.next = index + 1;
	}
	return moved;
}

bool
svr_sessions_migrate_done(const struct svr_router *rt, uint16_t from_path)
{
	return !rt->sweep.active || rt->sweep.from_path != from_path;
}
