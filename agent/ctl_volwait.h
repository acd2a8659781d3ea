/* A volume made or removed for one of agentctl's long handlers (vm create,
 * vm restore): the op is submitted to the cluster as `agentctl volume`
 * would, then the replicated state is polled until the volume has settled
 * here, or 120 s have passed.
 *
 * Every answer comes exactly once, later, from the loop, never from inside
 * the call that started the wait: the jobs' env contracts want that. */
#ifndef XM_CTL_VOLWAIT_H
#define XM_CTL_VOLWAIT_H

#include <stdbool.h>
#include <stdint.h>

#include "agent.h"
#include "ctl_vm.h"
#include "voltable.h"

/* rc 0: the volume is ready and its device may be written here (under
 * DRBD: Primary and UpToDate here), or, for a removal, gone.  Else -errno
 * with why, a sentence naming the volume.  recorded: the volume's record
 * exists (made, or failed on the SAN), so undoing must remove it. */
typedef void volwait_fn(void *data, int rc, bool recorded, const char *why);

struct volwait {
	struct agent *a;
	uint32_t uid;                   /* who asked (event log) */
	char vol[VOL_NAME_MAX];
	bool removing;
	unsigned tries;
	qb_loop_timer_handle timer;
	volwait_fn *cb;                 /* NULL: no wait in flight */
	void *data;
	int fail_rc;                    /* volwait_fail: said from the loop */
	char fail_why[256];
};

void volwait_init(struct volwait *w, struct agent *a, uint32_t uid);
/* Create volume VM-DISK of bytes, then wait until it is ready here.
 * purpose ends the op's log line ("for vm create"). */
void volwait_create(struct volwait *w, const char *vm, const char *disk,
		    uint64_t bytes, const char *purpose, volwait_fn *cb, void *data);
/* Remove vol (forget it when it failed), then wait until it is gone; it
 * being absent already is answered 0.  0, or -ENOMEM (then cb is never
 * called) when no timer can be armed. */
int volwait_remove(struct volwait *w, const char *vol, const char *purpose,
		   volwait_fn *cb, void *data);
/* Answer rc with why from the loop (a request refused before any op);
 * 0, or -ENOMEM as volwait_remove. */
int volwait_fail(struct volwait *w, int rc, const char *why, volwait_fn *cb,
		 void *data);
/* Stop polling (the waiting side is going away; cb is not called). */
void volwait_stop(struct volwait *w);

/* Submit the removal of vol without waiting: VOLUME_REMOVE when it
 * failed (nothing on disk to take down), else VOLUME_SET removing; then
 * (may be NULL) gets the cluster's answer.  false when there is no such
 * volume (nothing submitted, then not called). */
bool volwait_remove_submit(struct agent *a, uint32_t uid, const char *vol,
			   const char *purpose, ctl_then_fn *then, void *then_data);

#endif
