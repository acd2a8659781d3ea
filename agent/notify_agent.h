/* xenmeshd under systemd: READY=1 once joined and synced, STATUS= with
 * quorum and coordinator, WATCHDOG=1 from the main loop, STOPPING=1 on
 * SIGTERM (notify.h).  Without $NOTIFY_SOCKET these do nothing. */
#ifndef XM_NOTIFY_AGENT_H
#define XM_NOTIFY_AGENT_H

#include "agent.h"

/* After the loop exists; a->notify is set (NULL only without memory). */
void notify_agent_start(struct agent *a);
/* STOPPING=1 with why as the status. */
void notify_agent_stopping(struct agent *a, const char *why);
void notify_agent_stop(struct agent *a);

#endif
