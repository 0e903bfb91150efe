/* The SVR counters of the `status` API result; see router_status.h. */
#include "router/router_status.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "svr/svr_protect.h"

struct router_status_counter {
	const char *name;
	size_t offset; /* of a uint64_t in struct svr_stats */
};

#define COUNTER(name, field)                                                                       \
	{                                                                                          \
		name, offsetof(struct svr_stats, field)                                            \
	}

/* In the order of docs/api.md; the first seven are the older names, kept in place. */
static const struct router_status_counter router_status_counters[] = {
    COUNTER("metadata_sent", meta_tx),
    COUNTER("metadata_received", meta_rx),
    COUNTER("sessions_rebound", rebinds),
    COUNTER("sessions_replaced", replaced),
    COUNTER("duplicate_copies_sent", dup_tx),
    COUNTER("duplicate_copies_filtered", dup_filtered),
    COUNTER("duplicate_copies_stale", dup_stale),
    COUNTER("duplicate_legs", dup_legs),
    COUNTER("duplicate_leg_moves", dup_leg_moves),
    COUNTER("duplicate_leg_failures", dup_leg_failures),
    COUNTER("metadata_false_positive_blocks", false_positive_tx),
    COUNTER("metadata_split", meta_split),
    COUNTER("control_sent", control_tx),
    COUNTER("control_received", control_rx),
    COUNTER("sessions_rebound_ingress", ingress_rebinds),
    COUNTER("keepalives_sent", keepalives_tx),
    COUNTER("enable_metadata_sent", enable_meta_tx),
    COUNTER("sessions_migrated", migrations),
    COUNTER("session_migrate_failures", migrate_failures),
    COUNTER("down_path_packets_sent", down_path_tx),
    COUNTER("udp_transform_moves", udp_transform_moves),
    COUNTER("mss_clamped", mss_clamped),
    COUNTER("metadata_sealed", meta_sealed),
    COUNTER("metadata_opened", meta_opened),
    COUNTER("payloads_sealed", payload_sealed),
    COUNTER("payloads_opened", payload_opened),
    COUNTER("payloads_clear", payload_clear),
    COUNTER("protection_acks_sent", prot_acks_tx),
    COUNTER("icmp_errors_sent", icmp_errors_tx),
    COUNTER("icmp_errors_received", icmp_errors_rx),
};

#undef COUNTER

#define ROUTER_STATUS_COUNTERS (sizeof(router_status_counters) / sizeof(router_status_counters[0]))

/* Every counter has a name: the table and the decisions array cover the whole struct. */
_Static_assert(sizeof(struct svr_stats) ==
        (ROUTER_STATUS_COUNTERS + SVR_PROT_REASON_COUNT) * sizeof(uint64_t),
    "a counter of struct svr_stats has no name in router_status_counters");

static int
router_status_set(json_t *o, const char *name, uint64_t v)
{
	return json_object_set_new(o, name, json_integer((json_int_t)v)) < 0 ? -ENOMEM : 0;
}

int
router_status_svr_add(json_t *o, const struct svr_stats *st)
{
	char name[64];
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < ROUTER_STATUS_COUNTERS; i++) {
		uint64_t v;

		/* memcpy, not a cast: the offset is a field's, but the compiler cannot know. */
		memcpy(&v, (const char *)st + router_status_counters[i].offset, sizeof(v));
		rc = router_status_set(o, router_status_counters[i].name, v);
	}
	/* Protection decisions by reason: "forced-on" becomes protection_decisions_forced_on. */
	for (unsigned r = 0; rc == 0 && r < SVR_PROT_REASON_COUNT; r++) {
		snprintf(name, sizeof(name), "protection_decisions_%s",
		    svr_protection_reason_name((uint8_t)r));
		for (char *p = name; *p != '\0'; p++)
			if (*p == '-')
				*p = '_';
		rc = router_status_set(o, name, st->decisions[r]);
	}
	return rc;
}
