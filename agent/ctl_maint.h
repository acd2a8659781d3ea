/* The planned-maintenance commands of agentctl in xenmeshd: vm migrate,
 * node drain / undrain, cluster maintenance.  Part of the agentctl
 * endpoint (ctl_server.c), like ctl_vm.c. */
#ifndef XM_CTL_MAINT_H
#define XM_CTL_MAINT_H

#include <stdint.h>

#include <qb/qbipcs.h>

#include "agent.h"
#include "xenmesh.pb-c.h"

/* CTL_VM_MIGRATE, CTL_NODE_DRAIN, CTL_NODE_UNDRAIN, CTL_CLUSTER_MAINTENANCE
 * from a client allowed to make them; answered on c. */
void ctl_maint_request(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
		       const Xenmesh__CtlRequest *req);

#endif
