/* `agentctl vm create` and `agentctl template list|show` in xenmeshd.
 *
 * Templates live on the SAN nodes ([storage] template_dir), so these are
 * answered by a SAN node: template list/show by any SAN node (both hold
 * the same templates), vm create by the active SAN node only, since it
 * writes into the volumes it serves.  Typed elsewhere, they are forwarded
 * there before they reach these handlers (agent/ctl_forward.h); what
 * reaches them elsewhere (no active SAN node, a forward that came to the
 * wrong node) is refused naming the node to run it on.
 *
 * vm create checks everything it can up front (name free, template
 * readable, addresses, MAC unused, sizes and free space, the xl.cfg the
 * skeleton gives) and then runs the job of agent/vmcreate.h; the client's
 * answer waits for the end of it (and for the start request with
 * --start).  The cluster side of the job is the usual one: volumes through
 * the replicated volume ops (made by the SAN pass), the VM through the
 * replicated define, which gives a vif without mac= a cluster-unique MAC.
 */
#ifndef XM_CTL_CREATE_H
#define XM_CTL_CREATE_H

#include <stdint.h>

#include <qb/qbipcs.h>

#include "agent.h"
#include "xenmesh.pb-c.h"

/* CTL_VM_CREATE or CTL_TEMPLATE, from a client allowed to make it. */
void ctl_create_request(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
			const Xenmesh__CtlRequest *req);
/* At the agent's stop. */
void ctl_create_stop(struct agent *a);

#endif
