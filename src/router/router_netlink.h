/*
 * Kernel interface configuration over rtnetlink (libmnl): links up or down, MTU, IPv4
 * and IPv6 addresses, and routes through a device, in the main table or another one.
 * ternd uses it to set up its LAN TUN devices and the policy-routing tables beside them.
 *
 * A handle holds one netlink socket and its receive buffer, so a burst of changes at
 * start or on reload costs no socket per call. Every call sends one request with
 * NLM_F_ACK and waits (at most ROUTER_NETLINK_TIMEOUT_MS) for the kernel's answer, so
 * when it returns the change is made or refused. The kernel's refusal (NLMSG_ERROR) is
 * returned as its negative errno, and its extended-ack text, when it sent one, is kept
 * for the caller's log (router_netlink_error_text()).
 *
 * Idempotence is the caller's: adding an address or a route that exists returns -EEXIST
 * (the kernel's answer to NLM_F_EXCL), deleting one that does not returns -EADDRNOTAVAIL
 * (address) or -ESRCH (route). Routes are installed with protocol
 * ROUTER_NETLINK_RTPROT, so `ip route show proto 4` lists what ternd added.
 *
 * The socket lives in the network namespace its thread was in at router_netlink_open();
 * interface names are looked up there too (over the same socket), not in the caller's.
 *
 * Threads: a handle belongs to one thread at a time (the control thread); calls on one
 * handle are never concurrent. Nothing here is on the data path.
 */
#ifndef TERN_ROUTER_NETLINK_H
#define TERN_ROUTER_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"

/* How long a call waits for the kernel's answer before -ETIMEDOUT. */
#define ROUTER_NETLINK_TIMEOUT_MS 5000
/* The rtm_protocol of the routes we add: RTPROT_STATIC, as `ip route add` would. */
#define ROUTER_NETLINK_RTPROT 4
/* The longest extended-ack text kept, with its NUL. */
#define ROUTER_NETLINK_ERROR_TEXT_MAX 128

struct router_netlink;

/*
 * Opens a NETLINK_ROUTE socket in the current network namespace. *out is the caller's
 * (router_netlink_close()). -ENOMEM, or the negative errno of socket() or bind().
 */
int router_netlink_open(struct router_netlink **out);
/* Closes the socket and frees nl (accepts NULL). */
void router_netlink_close(struct router_netlink *nl);

/*
 * The extended-ack text of the last refused call ("Nexthop device is not up"), or "" when
 * the kernel gave none or the last call succeeded. Borrowed: valid until the next call.
 */
const char *router_netlink_error_text(const struct router_netlink *nl);

/*
 * The index of interface ifname in the handle's namespace into *index. -EINVAL for a
 * NULL, empty or too long name (IFNAMSIZ bytes or more), -ENODEV when there is none.
 */
int router_netlink_link_index(struct router_netlink *nl, const char *ifname, uint32_t *index);

/*
 * Sets interface ifname administratively up or down. -EINVAL bad name, -ENODEV no such
 * interface, or the kernel's refusal.
 */
int router_netlink_link_set_up(struct router_netlink *nl, const char *ifname, bool up);

/*
 * Sets the MTU of ifname. -EINVAL bad name or an MTU the device refuses (the kernel
 * checks its own bounds; an IPv6-enabled device below 1280 loses IPv6), -ENODEV.
 */
int router_netlink_link_set_mtu(struct router_netlink *nl, const char *ifname, uint32_t mtu);

/*
 * Adds address a with prefix length len (the on-link subnet, as in 10.0.0.1/24) to
 * ifname; for IPv4 the subnet's broadcast address is set too. -EINVAL bad name or
 * len longer than the family, -EAFNOSUPPORT family none, -ENODEV, -EEXIST when ifname
 * has it already, or the kernel's refusal.
 */
int router_netlink_addr_add(struct router_netlink *nl, const char *ifname, const struct addr *a,
    unsigned len);
/* Removes it: the same errors, and -EADDRNOTAVAIL when ifname does not have it. */
int router_netlink_addr_del(struct router_netlink *nl, const char *ifname, const struct addr *a,
    unsigned len);

/*
 * Adds a unicast route to dst through ifname, on link when gw is NULL or through the
 * gateway gw (same family as dst), in routing table table (0 means main, 254).
 * -EINVAL bad name or gateway of another family, -EAFNOSUPPORT, -ENODEV no such
 * interface, -EEXIST the route is there, -ENETUNREACH gateway not reachable, or the
 * kernel's refusal.
 */
int router_netlink_route_add(struct router_netlink *nl, const struct prefix *dst,
    const char *ifname, const struct addr *gw, uint32_t table);
/* Removes that route: the same errors, and -ESRCH when there is no such route. */
int router_netlink_route_del(struct router_netlink *nl, const struct prefix *dst,
    const char *ifname, const struct addr *gw, uint32_t table);

/*
 * Policy routing: a rule "from any iif ifname lookup table" at priority, for family
 * (ADDR_FAMILY_V4 or ADDR_FAMILY_V6). ternd gives each LAN segment with an "interface" a
 * table and two such rules (its hosts' interface and its TUN), so segments with the same
 * addresses each reach, and are answered through, their own routes. -EINVAL bad name or
 * table 0, -EAFNOSUPPORT, -EEXIST (add: the same rule is there), -ENOENT (del: it is
 * not), or the kernel's refusal. The interface need not exist yet (the kernel matches
 * the name).
 */
int router_netlink_rule_add(struct router_netlink *nl, uint8_t family, const char *ifname,
    uint32_t table, uint32_t priority);
int router_netlink_rule_del(struct router_netlink *nl, uint8_t family, const char *ifname,
    uint32_t table, uint32_t priority);

/*
 * Builds the rule request the two calls above send, into buf (len bytes, 8-byte
 * aligned), for tests: the message length, or -EINVAL / -EAFNOSUPPORT / -ENOSPC.
 * type is RTM_NEWRULE or RTM_DELRULE.
 */
int router_netlink_rule_msg(void *buf, size_t len, uint16_t type, uint8_t family,
    const char *ifname, uint32_t table, uint32_t priority);

#endif
