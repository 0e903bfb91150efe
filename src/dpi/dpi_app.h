/*
 * Application identification with nDPI (the Debian libndpi 4.2): which application a
 * session's first packets belong to ("TLS", "HTTP", "DNS", "Google", ...), for services
 * defined by application name and for per-application statistics.
 *
 * Structure: one nDPI detection module and a pool of flow states fixed when made; a
 * session takes a slot for its first packets (dpi_app_start), feeds whole IP packets of
 * both directions as they are on the LAN (dpi_app_feed), and the slot goes back when
 * nDPI has decided, when the packet budget is spent (then nDPI's best guess is taken)
 * or when the session ends first (dpi_app_stop). A session that finds the pool empty is
 * counted as not inspected; the pool never grows.
 *
 * Allocation: nothing per packet on our side; nDPI itself keeps a few strings of a flow
 * it dissects (a TLS ClientHello's fields, say) on its heap until the slot is returned.
 * That is nDPI's, bounded by the pool, and freed when a slot is reset.
 *
 * Application ids are nDPI's protocol ids (1..dpi_app_count()-1; 0 is "Unknown").
 *
 * Threads: a struct dpi_app belongs to one thread. dpi_app_known() may be called from
 * any thread (it uses a module of its own, made once).
 */
#ifndef TERN_DPI_DPI_APP_H
#define TERN_DPI_DPI_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DPI_APP_UNKNOWN 0
#define DPI_SLOT_NONE   UINT32_MAX
#define DPI_FLOWS_MAX   (1u << 20)
#define DPI_PACKETS_MAX 64u

struct dpi_app;

struct dpi_app_stats {
	uint64_t started;       /* sessions given a slot */
	uint64_t not_inspected; /* sessions that found the pool empty */
	uint64_t detected;      /* decided by nDPI within the budget */
	uint64_t given_up;      /* budget spent: nDPI's guess (maybe Unknown) taken */
	uint64_t stopped;       /* the session ended before a decision */
	uint32_t in_use;        /* slots taken now */
};

/*
 * A pool of flows flow states, each inspecting at most max_packets packets
 * (1..DPI_PACKETS_MAX). NULL with errno: EINVAL for a size out of range, ENOMEM, or
 * ENOTSUP when nDPI cannot be initialised.
 */
struct dpi_app *dpi_app_new(uint32_t flows, uint32_t max_packets);
void dpi_app_free(struct dpi_app *d); /* accepts NULL */

/* A slot for a new session in *slot; -ENOSPC when the pool is empty (counted). */
int dpi_app_start(struct dpi_app *d, uint32_t *slot);
/*
 * Feeds one IP packet (l3, len bytes, from the IP header) of the slot's session at
 * now_ns. Returns 1 when the application is known (then *app is set, the slot is
 * returned and must not be used again), 0 while more packets are needed.
 */
int dpi_app_feed(struct dpi_app *d, uint32_t slot, const uint8_t *l3, size_t len, uint64_t now_ns,
    uint16_t *app);
/* Returns a slot whose session ended before a decision. */
void dpi_app_stop(struct dpi_app *d, uint32_t slot);

/* nDPI's name of app ("Unknown" for 0 or an id out of range); borrowed, static. */
const char *dpi_app_name(const struct dpi_app *d, uint16_t app);
/* Number of application ids (names 0..count-1). */
uint32_t dpi_app_count(const struct dpi_app *d);
/* The id of an application name, any case, or -ENOENT. */
int dpi_app_lookup(const struct dpi_app *d, const char *name);
const struct dpi_app_stats *dpi_app_stats(const struct dpi_app *d);
/*
 * A reload: the counters of the pool d replaces (from) go on in d, so they never fall.
 * Its flows still inspecting stop with it and count as stopped; in_use stays d's own.
 */
void dpi_app_stats_carry(struct dpi_app *d, const struct dpi_app_stats *from);

/* Is name one of nDPI's application names (any case)? For the configuration check. */
bool dpi_app_known(const char *name);

#endif
