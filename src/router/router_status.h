/*
 * The SVR transforms' counters (struct svr_stats) as members of the `status` API
 * result (docs/api.md): one table names every counter, so a counter added to the
 * struct without a name fails to build.
 *
 * Threads: the control thread (it owns the object being built; the counters are read
 * as they are, like the rest of status).
 */
#ifndef TERN_ROUTER_ROUTER_STATUS_H
#define TERN_ROUTER_ROUTER_STATUS_H

#include <jansson.h>

#include "svr/svr_transform.h"

/*
 * Sets one integer member of o per counter of st (names in docs/api.md), in the
 * documented order. Returns 0, or -ENOMEM (o may then hold some of them).
 */
int router_status_svr_add(json_t *o, const struct svr_stats *st);

#endif
