/* The self-fence guard: multicast a heartbeat, pet the watchdog only while
 * quorate and our own heartbeat comes back (fencing/selffence.c), and on
 * losing either destroy this host's HA domains and stop petting, so that
 * the watchdog resets the host by the deadline W the others wait for. */
#ifndef XM_GUARD_H
#define XM_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "agent.h"

/* Opens the configured watchdog.  A dom0 without a usable one runs but
 * reports watchdog 0, so it takes no HA VMs (the reason is logged). */
int guard_start(struct agent *a);
/* clean: a deliberate stop with no HA domain left may disarm the watchdog */
void guard_stop(struct agent *a, bool clean);
void guard_quorum(struct agent *a, bool quorate);
/* Before a domain is created here: arm the watchdog (it is armed only
 * while HA domains run).  0, or a negative errno with why (no usable
 * watchdog, self-fence begun, not quorate). */
int guard_prepare_start(struct agent *a, char *why, size_t whylen);
/* The cluster marked this host unclean while it is a member (a failed stop
 * escalated, or `agentctl node fence`): self-fence at once. */
void guard_fenced_by_cluster(struct agent *a);
/* A heartbeat from this node came back through the group. */
void guard_heartbeat_back(struct agent *a);
/* The watchdog timeout in seconds, 0 when there is no usable watchdog. */
uint32_t guard_watchdog_s(const struct agent *a);
/* Why HA VMs are refused on this host, NULL when they are not. */
const char *guard_refusal(const struct agent *a);

#endif
