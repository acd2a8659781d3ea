/* Who may use agentctl's endpoint in xenmeshd; part of ctl_server.c,
 * kept in its own file for size.
 *
 * Reads are allowed to root and cfg.read_group, mutations to root and
 * cfg.admin_group, by the credentials libqb reports for the connection
 * and the group database.  A refusal is answered with -EACCES and a
 * message that says what is missing, and kept in the event log.
 */
#ifndef XM_CTL_ACCESS_H
#define XM_CTL_ACCESS_H

#include <stdbool.h>
#include <sys/types.h>

#include <qb/qbipcs.h>

#include "agent.h"

/* What a connected client may do, decided once when it connects. */
struct ctl_client {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	bool may_read;
	bool may_admin;
};

/* Fills cl (uid, gid and the rights) for a client connecting with uid and
 * gid under cfg's groups.  An unresolvable group is logged and grants
 * nothing. */
void ctl_access_decide(struct ctl_client *cl, const struct xm_config *cfg,
		       uid_t uid, gid_t gid);
/* Answers c (may be NULL) "permission denied: WHAT needs root or group
 * ..." for an admin command or a read, logged and kept in a's event log
 * with cl's uid. */
void ctl_access_refuse(struct agent *a, qb_ipcs_connection_t *c,
		       const struct ctl_client *cl, const char *what,
		       bool admin);

#endif
