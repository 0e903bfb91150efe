/*
 * The control plane's UDP sockets on the waypoints: one per WAN interface, bound to its
 * waypoint address on port 1280, shared by the peer key exchange (message types 1..4)
 * and the path probes (type 16). The kernel delivers these datagrams (the data path's
 * packet socket and nftables rules cover only the waypoint port range), so the control
 * thread reads them with ordinary sockets.
 *
 * Threads: the control thread only.
 */
#ifndef TERN_ROUTER_ROUTER_WANSOCK_H
#define TERN_ROUTER_ROUTER_WANSOCK_H

#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "router/router_config.h"

#define ROUTER_WANSOCK_PORT 1280
/* Datagrams read per socket per call, so a flood cannot hold the control thread. */
#define ROUTER_WANSOCK_BURST 64

struct router_wansock;

/* A datagram read: which WAN it came in on and from where. */
typedef void (*router_wansock_rx_fn)(void *arg, uint32_t wan, const struct addr *from,
    uint16_t from_port, const uint8_t *msg, size_t len);

/*
 * Opens and binds one socket per WAN of cfg. 0 and *out, or a negative errno with
 * why[0..why_len) naming the waypoint and the system error.
 */
int router_wansock_new(const struct router_config *cfg, struct router_wansock **out, char *why,
    size_t why_len);
void router_wansock_free(struct router_wansock *ws); /* NULL accepted */

/* The sockets to poll for POLLIN, into fds[0..max); returns the count. */
size_t router_wansock_fds(const struct router_wansock *ws, int *fds, size_t max);
/* Reads what is waiting (at most ROUTER_WANSOCK_BURST per socket) and hands it to rx. */
void router_wansock_read(struct router_wansock *ws, router_wansock_rx_fn rx, void *arg);
/* Sends msg from WAN wan's waypoint to to:port. 0 or a negative errno (counted). */
int router_wansock_send(struct router_wansock *ws, uint32_t wan, const struct addr *to,
    uint16_t port, const uint8_t *msg, size_t len);
/* Datagrams that could not be sent. */
unsigned long long router_wansock_send_errors(const struct router_wansock *ws);

#endif
