/* `agentctl node confirm-down HOST` and `agentctl vm reset-state VM` in
 * xenmeshd: an admin's word that a lost host is off.
 *
 * Part of the agentctl endpoint, like ctl_fence.c: ctl_server.c checks
 * that the client may make changes and hands the request here; this file
 * asks for more (root, quorum, a host that is unclean, the host name
 * typed back), builds the note "manually confirmed by USER (uid U) from
 * NODE" and submits OpConfirmDown (ha/confirm.h) through
 * ctl_server_submit(), which the coordinator validates again.  The
 * restart that follows is the normal recovery path's (ha/decide.c).
 */
#ifndef XM_CTL_CONFIRM_H
#define XM_CTL_CONFIRM_H

#include <stdint.h>

#include <qb/qbipcs.h>

#include "agent.h"
#include "xenmesh.pb-c.h"

/* CTL_NODE_CONFIRM_DOWN (args: host, the host name typed) and
 * CTL_VM_RESET_STATE (args: vm, its host's name typed), confirmed_by the
 * SUDO_USER of agentctl.  Answered on c, now or when decided. */
void ctl_confirm_request(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
			 const Xenmesh__CtlRequest *req);

#endif
