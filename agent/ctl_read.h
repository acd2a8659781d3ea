/* agentctl's read commands in xenmeshd (ctl_read.c): each answers the
 * client c at once (an error answer when it cannot). */
#ifndef XM_CTL_READ_H
#define XM_CTL_READ_H

#include <stdint.h>

#include <qb/qbipcs.h>

#include "agent.h"

/* status, node list, vm list; `vm show VM` asks for that VM's xl.cfg. */
void ctl_read_status(struct agent *a, qb_ipcs_connection_t *c, const char *keep_config);
/* A status answer plus, on a SAN node, its target daemon's view. */
void ctl_read_storage_status(struct agent *a, qb_ipcs_connection_t *c);
void ctl_read_events(struct agent *a, qb_ipcs_connection_t *c, uint64_t since);
void ctl_read_fence_history(struct agent *a, qb_ipcs_connection_t *c);

#endif
