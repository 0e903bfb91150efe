/* Application identification with nDPI; see dpi_app.h. */
#include "dpi/dpi_app.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ndpi_api.h>

struct dpi_slot {
	uint32_t next_free; /* free list link while free */
	uint8_t packets;    /* fed so far */
	bool busy;
};

struct dpi_app {
	struct ndpi_detection_module_struct *mod;
	uint8_t *flows; /* flow_size bytes per slot */
	size_t flow_size;
	struct dpi_slot *slots;
	uint32_t capacity, free_head;
	uint32_t max_packets;
	uint32_t proto_count;
	struct dpi_app_stats stats;
};

static struct ndpi_detection_module_struct *
dpi_module_new(void)
{
	struct ndpi_detection_module_struct *m = ndpi_init_detection_module(ndpi_no_prefs);
	NDPI_PROTOCOL_BITMASK all;

	if (m == NULL)
		return NULL;
	NDPI_BITMASK_SET_ALL(all);
	ndpi_set_protocol_detection_bitmask2(m, &all);
	ndpi_finalize_initialization(m);
	return m;
}

static inline struct ndpi_flow_struct *
dpi_flow(const struct dpi_app *d, uint32_t slot)
{
	return (struct ndpi_flow_struct *)(void *)(d->flows + (size_t)slot * d->flow_size);
}

struct dpi_app *
dpi_app_new(uint32_t flows, uint32_t max_packets)
{
	struct dpi_app *d;

	if (flows == 0 || flows > DPI_FLOWS_MAX || max_packets == 0 ||
	    max_packets > DPI_PACKETS_MAX) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->capacity = flows;
	d->max_packets = max_packets;
	/* Slots are cache-line multiples so neighbours never share a line. */
	d->flow_size = (ndpi_detection_get_sizeof_ndpi_flow_struct() + 63u) & ~(size_t)63u;
	d->flows = aligned_alloc(64, d->flow_size * flows);
	d->slots = calloc(flows, sizeof(*d->slots));
	d->mod = dpi_module_new();
	if (d->flows == NULL || d->slots == NULL || d->mod == NULL) {
		int err = d->mod == NULL && d->flows != NULL && d->slots != NULL ? ENOTSUP : ENOMEM;

		dpi_app_free(d);
		errno = err;
		return NULL;
	}
	/* Touched now, so the data path never faults a page in. */
	memset(d->flows, 0, d->flow_size * flows);
	for (uint32_t i = 0; i < flows; i++)
		d->slots[i].next_free = i + 1 < flows ? i + 1 : DPI_SLOT_NONE;
	d->free_head = 0;
	d->proto_count = ndpi_get_num_supported_protocols(d->mod);
	return d;
}

void
dpi_app_free(struct dpi_app *d)
{
	if (d == NULL)
		return;
	for (uint32_t i = 0; d->slots != NULL && d->flows != NULL && i < d->capacity; i++)
		if (d->slots[i].busy)
			ndpi_free_flow_data(dpi_flow(d, i));
	if (d->mod != NULL)
		ndpi_exit_detection_module(d->mod);
	free(d->flows);
	free(d->slots);
	free(d);
}

int
dpi_app_start(struct dpi_app *d, uint32_t *slot)
{
	uint32_t s = d->free_head;

	if (s == DPI_SLOT_NONE) {
		d->stats.not_inspected++;
		*slot = DPI_SLOT_NONE;
		return -ENOSPC;
	}
	d->free_head = d->slots[s].next_free;
	d->slots[s].busy = true;
	d->slots[s].packets = 0;
	memset(dpi_flow(d, s), 0, d->flow_size);
	d->stats.started++;
	d->stats.in_use++;
	*slot = s;
	return 0;
}

static void
dpi_slot_put(struct dpi_app *d, uint32_t s)
{
	ndpi_free_flow_data(dpi_flow(d, s));
	d->slots[s].busy = false;
	d->slots[s].next_free = d->free_head;
	d->free_head = s;
	d->stats.in_use--;
}

static uint16_t
dpi_app_of(ndpi_protocol p)
{
	return p.app_protocol != NDPI_PROTOCOL_UNKNOWN ? p.app_protocol : p.master_protocol;
}

int
dpi_app_feed(struct dpi_app *d, uint32_t slot, const uint8_t *l3, size_t len, uint64_t now_ns,
    uint16_t *app)
{
	struct ndpi_flow_struct *f;
	ndpi_protocol p;
	uint8_t guessed = 0;

	if (slot >= d->capacity || !d->slots[slot].busy)
		return 0;
	f = dpi_flow(d, slot);
	p = ndpi_detection_process_packet(d->mod, f, l3,
	    (unsigned short)(len > 65535 ? 65535 : len), now_ns / 1000000u);
	d->slots[slot].packets++;
	/* The first answer is kept: nDPI's further dissection (certificates, say) refines
	 * little that a service is defined by, and costs a flow state for longer. */
	if (dpi_app_of(p) != NDPI_PROTOCOL_UNKNOWN) {
		d->stats.detected++;
	} else if (d->slots[slot].packets < d->max_packets) {
		return 0;
	} else {
		p = ndpi_detection_giveup(d->mod, f, 1, &guessed);
		d->stats.given_up++;
	}
	*app = dpi_app_of(p);
	if (*app >= d->proto_count)
		*app = DPI_APP_UNKNOWN;
	dpi_slot_put(d, slot);
	return 1;
}

void
dpi_app_stop(struct dpi_app *d, uint32_t slot)
{
	if (slot >= d->capacity || !d->slots[slot].busy)
		return;
	d->stats.stopped++;
	dpi_slot_put(d, slot);
}

const char *
dpi_app_name(const struct dpi_app *d, uint16_t app)
{
	const char *name = app < d->proto_count ? ndpi_get_proto_name(d->mod, app) : NULL;

	return name != NULL ? name : "Unknown";
}

uint32_t
dpi_app_count(const struct dpi_app *d)
{
	return d->proto_count;
}

int
dpi_app_lookup(const struct dpi_app *d, const char *name)
{
	for (uint32_t i = 0; i < d->proto_count; i++) {
		const char *n = ndpi_get_proto_name(d->mod, (uint16_t)i);

		if (n != NULL && strcasecmp(n, name) == 0)
			return (int)i;
	}
	return -ENOENT;
}

const struct dpi_app_stats *
dpi_app_stats(const struct dpi_app *d)
{
	return &d->stats;
}

void
dpi_app_stats_carry(struct dpi_app *d, const struct dpi_app_stats *from)
{
	d->stats.started += from->started;
	d->stats.not_inspected += from->not_inspected;
	d->stats.detected += from->detected;
	d->stats.given_up += from->given_up;
	d->stats.stopped += from->stopped + from->in_use;
}

static pthread_once_t dpi_known_once = PTHREAD_ONCE_INIT;
static struct dpi_app *dpi_known_app;

static void
dpi_known_init(void)
{
	dpi_known_app = dpi_app_new(1, 1);
}

bool
dpi_app_known(const char *name)
{
	pthread_once(&dpi_known_once, dpi_known_init);
	return dpi_known_app != NULL && dpi_app_lookup(dpi_known_app, name) >= 0;
}
