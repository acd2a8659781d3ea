/* Saving the replicated state to this node's state file, loudly.
 *
 * A save that fails (disk full, read-only state directory) loses nothing
 * in the cluster: the other members hold the state.  But this node could
 * not come back with it after a power loss, so the failure is logged and
 * put in the event log once, shown by `agentctl status` for as long as it
 * lasts, and the save is retried every second until it succeeds.
 */
#ifndef XM_SAVE_H
#define XM_SAVE_H

#include <stdint.h>

#include <qb/qbloop.h>

#define STATE_SAVE_RETRY_MS 1000

struct state_save {
	char error[320];        /* why the last save failed; "" when saved */
	uint64_t since_ms;      /* wall clock of the first failure, 0: saved */
	qb_loop_timer_handle retry;
};

struct agent;

/* Save the current state now (after each applied update or sync). */
void state_save(struct agent *a);
/* Stop retrying (agent shutdown). */
void state_save_stop(struct agent *a);

#endif
