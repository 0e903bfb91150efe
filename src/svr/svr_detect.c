/*
 * UDP transform detection (docs/protocol.md "UDP transform"): a middlebox that drops
 * TCP SYNs carrying data drops every SVR SYN, so the host's SYN retransmissions are the
 * signal. Nothing comes back from the egress for them (it never saw one), and a SYN
 * that the UDP transform carries gets through; the session moves to the transform on
 * its own path and the router remembers the path. See svr_transform.h for the contract.
 */
#include <netinet/in.h>

#include "session/session_table.h"
#include "svr/svr_transform.h"

bool
svr_udp_transform_detect(struct svr_router *rt, struct session *s, uint32_t index)
{
	uint16_t path = s->path_id;

	/*
	 * Only the ingress chooses a carriage; a reverse packet of any kind means SYNs
	 * get through (the server may simply be slow), and a host that retransmits a SYN
	 * has sent nothing else on the session yet, so its forward count is its SYNs.
	 */
	if (s->role != SESSION_ROLE_INGRESS || path >= rt->path_count ||
	    !rt->paths[path].udp_transform_detect || s->lan_key.proto != IPPROTO_TCP ||
	    (s->flags & SVR_SESSION_UDP_TRANSFORM) || s->packets[SESSION_DIR_WAN_TO_LAN] != 0 ||
	    s->packets[SESSION_DIR_LAN_TO_WAN] < SVR_UDP_TRANSFORM_DETECT_SYNS)
		return false;
	if (svr_session_udp_transform(rt, index) < 0)
		return false; /* no pair free: the SYN goes as before, and the next one retries */
	if (rt->on_udp_transform_detected != NULL)
		rt->on_udp_transform_detected(rt, path, rt->udp_transform_arg);
	return true;
}
