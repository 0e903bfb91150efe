/*
 * Time for timers, timeouts and timestamps: nanoseconds of CLOCK_MONOTONIC, as the
 * house style names time (uint64_t, no wall clock, never goes back).
 *
 * Threads: any.
 */
#ifndef TERN_LIB_CLOCK_H
#define TERN_LIB_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t
clock_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
