/* agentctl's commands about this agent itself, part of ctl_server.c:
 *   CTL_METRICS     the Prometheus text in the answer's message (a read)
 *   CTL_LOG_LEVEL   args: level name; qb_log's priority now (admin)
 * The level stays until the agent restarts ([log] level then). */
#ifndef XM_CTL_ADMIN_H
#define XM_CTL_ADMIN_H

#include <stdint.h>

#include <qb/qbipcs.h>

#include "agent.h"

void ctl_admin_request(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
		       const Xenmesh__CtlRequest *req);

#endif
