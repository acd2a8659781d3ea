/* The coordinator's work in xenmeshd: turn the HA decisions (ha/decide.c)
 * into committed updates, and run the fence chain of every unclean host.
 * Only the coordinator acts; on every other node these do nothing. */
#ifndef XM_COORD_H
#define XM_COORD_H

#include "agent.h"

int coord_start(struct agent *a);
void coord_stop(struct agent *a);
/* Look at the state again (coalesced, from the loop). */
void coord_kick(struct agent *a);
/* A host reported something about a domain (replica_ops.host_event). */
void coord_host_event(struct agent *a, uint32_t host, const Xenmesh__HostEvent *ev);
/* One line per fence step of every host, newest last (agentctl fence history). */
size_t coord_fence_history(struct agent *a, char *buf, size_t len);

#endif
