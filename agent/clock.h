/* The agent's two clocks, in milliseconds.
 *
 * Timeouts and deadlines use the monotonic clock: a wall-clock jump must
 * not fire or stall them.  Replicated records (restart history, event
 * times) carry wall-clock time: a coordinator on another host must be able
 * to compare them.
 */
#ifndef XM_CLOCK_H
#define XM_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t
clock_ms(clockid_t id)
{
	struct timespec ts;

	(void)clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline uint64_t
mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

static inline uint64_t
wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

#endif
