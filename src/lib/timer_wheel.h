/*
 * A hashed timer wheel over intrusive nodes: a struct timer_wheel_node lives inside
 * each of the caller's objects (one array of capacity objects, stride bytes apart), and
 * a timer is named by its object's index. Add, delete and re-arm are O(1); no memory is
 * allocated after timer_wheel_new().
 *
 * Time is cut into ticks of tick_ns counted from the now_ns given to timer_wheel_new().
 * A timer due at expire_ns is put at the first tick boundary at or after it, so it
 * never fires early and fires at most one tick (plus the caller's advance interval)
 * late. Each node keeps its absolute expiry tick, so a timeout longer than the wheel's
 * span (slots * tick_ns) simply stays in its slot for more revolutions.
 *
 * timer_wheel_advance() fires due timers in non-decreasing expiry tick order. It steps
 * tick by tick only while the gap is shorter than one revolution; over a longer gap
 * (an idle hour, a suspended process) it visits each slot once, gathers what is due
 * and sorts it, so the work is bounded by slots + armed timers, never by the gap.
 *
 * Invariants: a node is armed iff its expire_tick is non-zero, so a zeroed node is a
 * disarmed one (timer_wheel_new() also disarms every node). The wheel owns the node's
 * fields: the caller never writes them while the timer is armed.
 *
 * Callbacks: a fired timer is disarmed before its callback runs. The callback may add
 * (re-arm) or delete any timer, including itself and timers due in the same advance;
 * it must not call timer_wheel_advance() (a nested call does nothing). A timer armed
 * for a tick the wheel has already reached fires at the next tick.
 *
 * Threads: a wheel belongs to one thread; no locks.
 */
#ifndef TERN_LIB_TIMER_WHEEL_H
#define TERN_LIB_TIMER_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIMER_WHEEL_CAPACITY_MAX 0x7ffffffeu
#define TIMER_WHEEL_SLOTS_MAX    (1u << 24)

/* Embedded in the caller's object; 16 bytes. All fields belong to the wheel. */
struct timer_wheel_node {
	uint32_t next;
	uint32_t prev;
	uint64_t expire_tick; /* 0 while not armed */
};

struct timer_wheel;

/*
 * A wheel for the capacity (1..TIMER_WHEEL_CAPACITY_MAX) nodes at nodes, nodes + stride,
 * ... (nodes and stride aligned for struct timer_wheel_node); the caller keeps that
 * memory alive until timer_wheel_free() and the wheel disarms every node now. slots is
 * rounded up to a power of two (1..TIMER_WHEEL_SLOTS_MAX); a span of slots * tick_ns
 * that covers the usual timeout avoids revisiting nodes. tick_ns >= 1.
 * NULL on ENOMEM or a bad argument.
 */
struct timer_wheel *timer_wheel_new(void *nodes, size_t stride, uint32_t capacity, uint32_t slots,
    uint64_t tick_ns, uint64_t now_ns);
void timer_wheel_free(struct timer_wheel *w); /* accepts NULL; leaves the nodes alone */

/* Arms timer id to fire at expire_ns, or moves it there if armed. -EINVAL: bad id. */
int timer_wheel_add(struct timer_wheel *w, uint32_t id, uint64_t expire_ns);
/* Disarms timer id. -ENOENT if it was not armed, -EINVAL for a bad id. */
int timer_wheel_del(struct timer_wheel *w, uint32_t id);
/* False for a bad id. */
bool timer_wheel_is_armed(const struct timer_wheel *w, uint32_t id);
/* The tick boundary at which timer id becomes due, or 0 if it is not armed. */
uint64_t timer_wheel_expiry_ns(const struct timer_wheel *w, uint32_t id);

/*
 * Moves the wheel to now_ns and calls fn(w, id, arg) for every timer due by then (fn
 * may be NULL: due timers are just disarmed). Time never goes back: an earlier now_ns
 * does nothing. Returns how many timers fired.
 */
unsigned timer_wheel_advance(struct timer_wheel *w, uint64_t now_ns,
    void (*fn)(struct timer_wheel *w, uint32_t id, void *arg), void *arg);

uint32_t timer_wheel_count(const struct timer_wheel *w); /* armed timers */
uint64_t timer_wheel_tick_ns(const struct timer_wheel *w);
/* Every byte the wheel allocated (the nodes are the caller's). */
size_t timer_wheel_memory_bytes(const struct timer_wheel *w);

#endif
