/* Who may use agentctl's endpoint (see ctl_access.h).
 *
 * The rights are decided once when a client connects (from ctl_server.c's
 * accept callback); ctl_server.c checks them per request against whether
 * the command changes state, and has a refusal answered here.
 */
#define LOG_SUBSYS "ctl"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "ctl_access.h"
#include "ctl_vm.h"
#include "log.h"

#define GROUPS_START    64
#define GROUPS_MAX      65536
#define CTL_REFUSAL_MAX (256 + 2 * XM_GROUP_MAX)     /* reason, two groups */

/*
 * Is uid (connected with conn_gid) a member of group: by the gid it
 * connected with, its primary group or a supplementary group from the
 * group database (SO_PEERCRED reports uid and gid only).  The daemon is
 * single-threaded, so the plain NSS calls are safe here.
 */
static bool
ctl_in_group(uid_t uid, gid_t conn_gid, const char *group)
{
	char user[256];
	const struct passwd *pw;
	const struct group *gr;
	gid_t gid, pw_gid, *groups = NULL;
	int ngroups = GROUPS_START, i;
	bool found = false;

	if (group[0] == '\0')
		return false;
	errno = 0;
	gr = getgrnam(group);
	if (gr == NULL) {
		log_warn("group %s of [ipc] cannot be resolved: %s, ignoring",
			 group, errno ? strerror(errno) : "no such group");
		return false;
	}
	gid = gr->gr_gid;
	if (conn_gid == gid)
		return true;
	pw = getpwuid(uid);
	if (pw == NULL)
		return false;           /* no passwd entry: its gid only */
	if (pw->pw_gid == gid)
		return true;
	/* copied: getgrouplist may reuse NSS's static storage */
	(void)snprintf(user, sizeof(user), "%s", pw->pw_name);
	pw_gid = pw->pw_gid;
	for (;;) {
		int n = ngroups;
		gid_t *ng = realloc(groups, (size_t)n * sizeof(*groups));

		if (ng == NULL)
			goto out_free;
		groups = ng;
		if (getgrouplist(user, pw_gid, groups, &n) >= 0) {
			ngroups = n;
			break;
		}
		/* n now says how many there are */
		if (n <= ngroups || n > GROUPS_MAX)
			goto out_free;
		ngroups = n;
	}
	for (i = 0; i < ngroups && !found; i++)
		found = groups[i] == gid;
out_free:
	free(groups);
	return found;
}

void
ctl_access_decide(struct ctl_client *cl, const struct xm_config *cfg,
		  uid_t uid, gid_t gid)
{
	cl->uid = uid;
	cl->gid = gid;
	if (uid == 0) {
		cl->may_read = cl->may_admin = true;
	} else {
		cl->may_admin = ctl_in_group(uid, gid, cfg->admin_group);
		cl->may_read = cl->may_admin ||
			ctl_in_group(uid, gid, cfg->read_group);
	}
}

/* "permission denied: node maintenance needs root or group xm-admin",
 * logged and kept in the event log with the uid. */
void
ctl_access_refuse(struct agent *a, qb_ipcs_connection_t *c,
		  const struct ctl_client *cl, const char *what, bool admin)
{
	const struct xm_config *cfg = &a->cfg;
	const char *g1 = admin ? "" : cfg->read_group;
	const char *g2 = cfg->admin_group;
	char msg[CTL_REFUSAL_MAX];

	if (g1[0] == '\0' || strcmp(g1, g2) == 0) {
		g1 = g2;
		g2 = "";
	}
	if (g1[0] == '\0')
		(void)snprintf(msg, sizeof(msg), "permission denied: %.96s needs root",
			       what);
	else if (g2[0] == '\0')
		(void)snprintf(msg, sizeof(msg),
			       "permission denied: %.96s needs root or group %s",
			       what, g1);
	else
		(void)snprintf(msg, sizeof(msg),
			       "permission denied: %.96s needs root or group %s or %s",
			       what, g1, g2);
	log_warn("uid %u (pid %d) refused: %s", (unsigned)cl->uid, (int)cl->pid,
		 msg);
	(void)eventlog_add(&a->events, a->rep.st.epoch, a->rep.st.seq, 0,
			   "access", "uid %u refused: %s", (unsigned)cl->uid,
			   what);
	ctl_server_reply(c, -EACCES, msg);
}
