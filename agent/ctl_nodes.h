/* `agentctl node add` and `node forget` in xenmeshd: hosts entering and
 * leaving the cluster.  Part of the agentctl endpoint (ctl_server.c).
 *
 * The asking node makes the whole new nodelist (from the replicated one,
 * or from its own corosync.conf before the first change) and submits it
 * with the version it was made from; the coordinator validates it again
 * (ha/nodetable.c) and every agent writes it into its corosync.conf
 * (agent/nodeconf.c).  Root only: this rewrites corosync's configuration
 * on every node.
 */
#ifndef XM_CTL_NODES_H
#define XM_CTL_NODES_H

#include <stdint.h>

#include <qb/qbipcs.h>

#include "agent.h"
#include "xenmesh.pb-c.h"

/* CTL_NODE_ADD, CTL_NODE_FORGET; answered on c. */
void ctl_nodes_request(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
		       const Xenmesh__CtlRequest *req);

#endif
