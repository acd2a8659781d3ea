/* The storage commands of agentctl in xenmeshd: volume create and remove.
 * Part of the agentctl endpoint (ctl_server.c), like ctl_vm.c. */
#ifndef XM_CTL_STORAGE_H
#define XM_CTL_STORAGE_H

#include <stdint.h>

#include <qb/qbipcs.h>

#include "agent.h"
#include "xenmesh.pb-c.h"

/* CTL_VOLUME_CREATE (args VM DISK BYTES) or CTL_VOLUME_REMOVE (args
 * VOLUME) from a client allowed to make it; answered on c. */
void ctl_storage_request(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
			 const Xenmesh__CtlRequest *req);

#endif
