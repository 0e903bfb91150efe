/*
 * Waypoint port allocation. The initiating router picks both ports of a session's
 * waypoint pair: an even port for itself and the next (odd) port for the peer, from
 * 16384 up, so sessions opened at the same moment from both ends never collide.
 *
 * Freed pairs go to the back of a FIFO so a pair is reused as late as possible (stale
 * packets of an old session should not land in a new one). Exhaustion is an error the
 * caller counts (WAYPOINT_PORTS_EXHAUSTED), never a crash; freeing a pair that is not
 * allocated is refused (-EINVAL) so a double free cannot corrupt the pool.
 *
 * Threads: one allocator per (local waypoint, peer) owned by one thread.
 */
#ifndef TERN_SVR_WAYPOINT_H
#define TERN_SVR_WAYPOINT_H

#include <stdint.h>

#define SVR_WAYPOINT_PORT_FIRST 16384

struct svr_waypoint_ports;

/*
 * Pairs from first (rounded up to even) to last inclusive. NULL on allocation failure
 * or an empty range.
 */
struct svr_waypoint_ports *svr_waypoint_ports_new(uint16_t first, uint16_t last);
void svr_waypoint_ports_free(struct svr_waypoint_ports *w);
/* 0 and the pair, or -EADDRNOTAVAIL when every pair is in use. */
int svr_waypoint_ports_get(struct svr_waypoint_ports *w, uint16_t *local_port, uint16_t *peer_port);
/* Returns the pair whose local (even) port is given; -EINVAL if it is not allocated. */
int svr_waypoint_ports_put(struct svr_waypoint_ports *w, uint16_t local_port);
/*
 * Takes the pair of local_port out of the free ones (a reload keeps a session's pair in
 * a new pool). O(free pairs): a control operation, never per packet. -EINVAL: not a
 * pair's local port; -EADDRINUSE: already out.
 */
int svr_waypoint_ports_take(struct svr_waypoint_ports *w, uint16_t local_port);
uint32_t svr_waypoint_ports_in_use(const struct svr_waypoint_ports *w);
uint32_t svr_waypoint_ports_capacity(const struct svr_waypoint_ports *w);

#endif
