/* agentctl vm backup, vm restore and backup list in xenmeshd: the
 * cluster side of agent/backup.c.  Part of the agentctl endpoint
 * (ctl_server.c), like ctl_storage.c.
 *
 * The job runs on the active SAN node, where the volumes are and where
 * the backups are kept ([storage] backup_dir, or --dest): another node
 * refuses, naming it (the request is not forwarded: agentctl talks to the
 * local agent only, and the backup directory is the SAN node's).  One job
 * at a time per node.  A restore makes its volumes and defines the VM
 * through the replicated state, like volume create and vm define.
 *
 * CTL_BACKUP_LIST answers with one line per backup in the message:
 *   VM \t STAMP \t TIME_S \t BYTES \t STATUS \t VOLUMES \t WHY
 * (VOLUMES "disk:bytes disk:bytes"; WHY "" unless damaged/incomplete),
 * which agentctl shows as a table or as JSON. */
#ifndef XM_CTL_BACKUP_H
#define XM_CTL_BACKUP_H

#include <stdint.h>

#include <qb/qbipcs.h>

#include "agent.h"
#include "xenmesh.pb-c.h"

void ctl_backup_request(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
			const Xenmesh__CtlRequest *req);
/* The agent stops: a job in flight is abandoned (its client answered). */
void ctl_backup_stop(struct agent *a);

#endif
