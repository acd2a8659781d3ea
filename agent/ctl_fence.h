/* The fencing side of agentctl in xenmeshd: `fence config` (show, set,
 * clear), `node fence HOST`, and the failover capacity (admission check)
 * of a status answer.
 *
 * Part of the agentctl endpoint, like ctl_vm.c: ctl_server.c checks the
 * client's rights and hands the request here; a change goes back through
 * ctl_server_submit() (ctl_vm.h).  `fence history` is answered by
 * ctl_server.c itself, since it is a status answer with events.
 *
 * The pieces without a connection (config check and view, admission) are
 * pure and exported for the tests.
 */
#ifndef XM_CTL_FENCE_H
#define XM_CTL_FENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qb/qbipcs.h>

#include "agent.h"
#include "placement.h"
#include "state.h"
#include "xenmesh.pb-c.h"

#define CTL_FENCE_MSG_MAX 512

/* ---- pure ------------------------------------------------------------ */

/*
 * Would the cluster restart every HA VM if any one host failed?  Hosts are
 * the dom0 nodes of st (eligible: online, no maintenance or standby, a
 * watchdog), their free memory their total minus the VMs active there;
 * the VMs counted are those wanted running with ha_restart other than
 * never, running (or starting, migrating) on a host.  0 or the errors of
 * placement_admission(); rep is ~90 KB: allocate it.
 */
int ctl_fence_admission(const struct state *st, struct admission_report *rep);

/*
 * Checks the text of `fence config set` from file (for messages).  0 with
 * the answer on success in msg ("fence configuration replaced: 2 hosts
 * (h1, h2)", plus "; not known to the cluster: h9" for hosts the node
 * table lacks), or -EINVAL with "FILE: line N: HOST: ..." in msg.
 */
int ctl_fence_config_check(const struct state *st, const char *file,
			   const char *text, char *msg, size_t len);

/*
 * What `fence config` shows of the replicated text stored (NULL: none):
 * the canonical form, one line per host, values of keys containing
 * "pass" as *** when redact.  0 with *text malloc'd ("" when there is no
 * configuration); -EINVAL with msg when the stored text does not parse
 * (not shown redacted: a password could not be told apart), -ENOMEM.
 */
int ctl_fence_config_show(const char *stored, bool redact, char **text,
			  char *msg, size_t len);

/* ---- status answer ---------------------------------------------------- */

/* What ctl_fence_view_fill() points the ClusterView to. */
struct ctl_fence_view {
	struct admission_report *rep;
	char *lines[PLACEMENT_MAX_HOSTS];
};

/* Sets admission_ok and admission of cv from st; on failure leaves them
 * unset (the answer says nothing rather than something wrong). */
int ctl_fence_view_fill(const struct state *st, Xenmesh__ClusterView *cv,
			struct ctl_fence_view *fv);
void ctl_fence_view_free(struct ctl_fence_view *fv);  /* zeroed is fine */

/* ---- requests --------------------------------------------------------- */

/* CTL_FENCE_CONFIG (a read), CTL_FENCE_CONFIG_SET, CTL_FENCE_CONFIG_CLEAR
 * and CTL_NODE_FENCE (changes) from a client allowed to make them; uid 0
 * may ask for the secrets.  Answered on c, now or when decided. */
void ctl_fence_request(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
		       const Xenmesh__CtlRequest *req);

#endif
