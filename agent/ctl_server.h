/* agentctl's IPC endpoint in xenmeshd (libqb ipcs "xenmesh").
 *
 * Requests and responses are wire frames of CtlRequest/CtlResponse behind
 * libqb's request/response headers.  Reads are allowed to root and
 * cfg.read_group, mutations to root and cfg.admin_group (from the client
 * credentials libqb reports); refusals get -EACCES and an event.
 */
#ifndef XM_CTL_SERVER_H
#define XM_CTL_SERVER_H

#include <stdint.h>

#include "agent.h"

#define XM_IPC_NAME "xenmesh"
#define XM_IPC_MSG_STATUS 1     /* qb_ipc_request_header.id of every request */
/* An answer carries the whole replicated state (without the xl.cfg texts):
 * about 1.3 MB at 10,000 VMs with their SAN volumes (bench/snapshot).  The
 * ring buffers are sparse shared memory: only what is written is used. */
#define XM_IPC_MAX_MSG (8 * 1024 * 1024)

int ctl_server_start(struct agent *a);
void ctl_server_stop(struct agent *a);
/* The replica finished request req_id (see replica_ops.request_done). */
void ctl_server_request_done(struct agent *a, uint64_t req_id, int result,
			     const char *reason);

#endif
