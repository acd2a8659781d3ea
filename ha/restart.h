/* Restart policy for a VM that stopped on a healthy host, as a pure
 * function with the clock passed in.
 *
 * The coordinator asks restart_decide() when a domain dies or reboots, acts
 * on the verdict, and calls restart_record() for every restart it makes
 * (IN_PLACE or ELSEWHERE; not for RECREATE, which is no failure).  The
 * history belongs to the VM's replicated record; `agentctl vm cleanup`
 * clears it with restart_reset().  A lost host is not decided here: the
 * caller places the VMs of a fenced host elsewhere, always.
 */
#ifndef XM_RESTART_H
#define XM_RESTART_H

#include <stddef.h>
#include <stdint.h>

#include "vmconf.h"

/* The history keeps the newest restarts only, so a limit above this
 * (ha_max_restarts) cannot be proven and is treated as this value. */
#define RESTART_HISTORY_MAX 32

struct restart_history {
	uint32_t n;
	uint64_t at_ms[RESTART_HISTORY_MAX];   /* when, the caller's clock */
	uint32_t host[RESTART_HISTORY_MAX];    /* where the VM had died */
};                                         /* oldest first, newest last */

enum vm_exit {
	VM_EXIT_POWEROFF,               /* clean shutdown from inside */
	VM_EXIT_CRASH,                  /* crash or unexplained death */
	VM_EXIT_REBOOT,                 /* guest-initiated reboot */
	VM_EXIT_STOPPED_BY_ADMIN,
};

enum restart_verdict {
	RESTART_NO,             /* policy says stay stopped */
	RESTART_IN_PLACE,
	RESTART_ELSEWHERE,
	RESTART_RECREATE,       /* guest reboot: recreate in place, no failure */
	RESTART_FAILED,         /* limit hit: the VM goes to failed */
};

/*
 * What to do with a VM that stopped on `host` (a node id) at now_ms.
 * Rules, first match wins:
 *   admin stop                     -> NO
 *   guest reboot                   -> RECREATE (whatever ha_restart says)
 *   poweroff, ha_restart != always -> NO
 *   crash, ha_restart == never     -> NO
 *   restarts in the last ha_restart_window seconds >= ha_max_restarts
 *                                  -> FAILED
 *   crash, and this is at least the second death on `host` in the window
 *   (recorded ones plus this one)  -> ELSEWHERE
 *   otherwise                      -> IN_PLACE
 * A restart counts in the window while now_ms - at_ms < window (a restart
 * exactly window seconds old has expired; a window of 0 counts nothing).
 * A poweroff under `always` counts against the limit but never moves the
 * VM: a guest that shuts itself down says nothing about the host.
 * why (may be NULL) gets one sentence, e.g. "restarted 3 times in 600 s".
 * Invalid arguments (NULL ha or h, a history with n > RESTART_HISTORY_MAX,
 * unknown enum values) give NO with the reason.
 */
enum restart_verdict restart_decide(const struct vm_ha *ha,
				    const struct restart_history *h,
				    uint32_t host, enum vm_exit how,
				    uint64_t now_ms, char *why, size_t whylen);

/* Note a restart after a death on `host`; the oldest entry drops out when
 * the history is full.  NULL h is ignored. */
void restart_record(struct restart_history *h, uint32_t host, uint64_t now_ms);

/* Forget every restart (`agentctl vm cleanup`).  Accepts NULL. */
void restart_reset(struct restart_history *h);

/* Restarts in the last window_s seconds (for status "restarts"). */
uint32_t restart_count(const struct restart_history *h, uint32_t window_s,
		       uint64_t now_ms);

const char *restart_verdict_name(enum restart_verdict v);  /* "in-place" ... */

#endif
