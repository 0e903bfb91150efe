/*
 * The API's drop list ({"reason", "count"} entries, one per pkt_drop reason, from the
 * worker) gets the drops counted on the control thread (handshakes, probes) added under
 * the same names, so each reason has one count whichever thread dropped the packet.
 *
 * Threads: the control thread (it owns the list being built).
 */
#ifndef TERN_ROUTER_ROUTER_DROPS_H
#define TERN_ROUTER_ROUTER_DROPS_H

#include <jansson.h>
#include <stdint.h>

#include "pkt/pkt_drop.h"

/* Adds n to the entry of reason in list (an entry that is missing stays missing). */
void router_drops_add(json_t *list, enum pkt_drop_reason reason, uint64_t n);

#endif
