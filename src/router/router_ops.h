/*
 * The hand-over from the control thread to the data-plane worker: a bounded queue of
 * struct router_worker_op (keys from the key exchange, path states from the prober).
 * The worker drains it between bursts when one relaxed-acquire atomic load says there
 * is something, so the data path takes the queue's mutex only then, never per packet.
 *
 * An operation that does not fit is lost, counted and logged, and its AEAD context
 * freed; with the worker draining within a poll interval (10 ms) and a few operations
 * per peer per rekey or path change, the queue does not fill in practice.
 *
 * Threads: push on the control thread, pending/drain on the worker thread.
 */
#ifndef TERN_ROUTER_ROUTER_OPS_H
#define TERN_ROUTER_ROUTER_OPS_H

#include <stdbool.h>

#include "router/router_worker.h"

struct router_ops;

int router_ops_new(struct router_ops **out); /* 0 or -ENOMEM */
/* Frees the queue and the AEAD contexts of operations never drained; NULL accepted. */
void router_ops_free(struct router_ops *q);

/* Control thread: queues op (taking its aead); false when the queue was full. */
bool router_ops_push(struct router_ops *q, const struct router_worker_op *op);
/* Operations lost because the queue was full. */
unsigned long long router_ops_lost(const struct router_ops *q);

/* Worker thread: is there anything to drain? */
bool router_ops_pending(struct router_ops *q);
/* Worker thread: applies every queued operation to w, in order. */
void router_ops_drain(struct router_ops *q, struct router_worker *w);

#endif
