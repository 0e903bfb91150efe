/* Control-to-worker operations; see router_ops.h. */
#include "router/router_ops.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

#define ROUTER_OPS_MAX 1024

struct router_ops {
	pthread_mutex_t lock;
	atomic_bool pending;
	unsigned count;
	atomic_ullong lost;
	struct router_worker_op ops[ROUTER_OPS_MAX];
	struct router_worker_op draining[ROUTER_OPS_MAX]; /* worker's copy, off the lock */
};

int
router_ops_new(struct router_ops **out)
{
	struct router_ops *q = calloc(1, sizeof(*q));

	*out = NULL;
	if (q == NULL)
		return -ENOMEM;
	pthread_mutex_init(&q->lock, NULL);
	*out = q;
	return 0;
}

void
router_ops_free(struct router_ops *q)
{
	if (q == NULL)
		return;
	for (unsigned i = 0; i < q->count; i++)
		crypto_aead_free(q->ops[i].aead);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

bool
router_ops_push(struct router_ops *q, const struct router_worker_op *op)
{
	bool ok;

	pthread_mutex_lock(&q->lock);
	ok = q->count < ROUTER_OPS_MAX;
	if (ok) {
		q->ops[q->count++] = *op;
		atomic_store_explicit(&q->pending, true, memory_order_release);
	}
	pthread_mutex_unlock(&q->lock);
	if (!ok) {
		atomic_fetch_add(&q->lost, 1);
		crypto_aead_free(op->aead);
		log_warning("the worker's operation queue is full: an operation (kind %d) is lost",
		    (int)op->kind);
	}
	return ok;
}

unsigned long long
router_ops_lost(const struct router_ops *q)
{
	return atomic_load(&q->lost);
}

bool
router_ops_pending(struct router_ops *q)
{
	return atomic_load_explicit(&q->pending, memory_order_acquire);
}

void
router_ops_drain(struct router_ops *q, struct router_worker *w)
{
	unsigned n;

	pthread_mutex_lock(&q->lock);
	n = q->count;
	memcpy(q->draining, q->ops, n * sizeof(q->ops[0]));
	q->count = 0;
	atomic_store_explicit(&q->pending, false, memory_order_release);
	pthread_mutex_unlock(&q->lock);
	for (unsigned i = 0; i < n; i++)
		router_worker_op_apply(w, &q->draining[i]);
}
