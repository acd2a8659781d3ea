/* An admin's word that a lost host is off, in xenmeshd (see ctl_confirm.h).
 *
 * Every check that can refuse runs before anything is submitted, in the
 * order an admin needs the answers: may this user say it at all (root),
 * can the cluster act on it (quorum: without it the local state may be
 * stale and nothing would be committed anyway), is it a host that is lost
 * and not fenced, and did the admin type that host's name.  A refusal
 * changes nothing.  The coordinator validates the op once more against
 * the state it commits on (ha/confirm.c), so a host that rejoined or got
 * fenced meanwhile is not confirmed.
 */
#define LOG_SUBSYS "ctl"

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "confirm.h"
#include "ctl_confirm.h"
#include "ctl_vm.h"
#include "log.h"
#include "xm_error.h"

#define CONFIRM_MSG_MAX  512
#define CONFIRM_LIST_MAX 8      /* VMs named in the answer, then "..." */

/* As replica_request() would refuse, but before the checks that read the
 * state: a partition without quorum may hold a stale one. */
static int
cluster_ready(const struct agent *a, char *msg, size_t len)
{
	const struct replica *r = &a->rep;

	if (!r->joined || !r->synced) {
		xm_why(msg, len, "%s", xm_strerror(XM_ESYNCING));
		return XM_ESYNCING;
	}
	if (!r->quorum.quorate) {
		xm_why(msg, len, "no quorum: %s", r->quorum.reason);
		return XM_ENOQUORUM;
	}
	if (r->coordinator == 0) {
		xm_why(msg, len, "%s", xm_strerror(XM_ENOCOORD));
		return XM_ENOCOORD;
	}
	return 0;
}

/* The note for uid asking on this node, with the SUDO_USER it sent. */
static int
note_make(struct agent *a, uint32_t uid, const char *sudo_user, char *note,
	  size_t len, char *msg, size_t msglen)
{
	const struct node_rec *self = state_node(&a->rep.st, a->rep.local_id);
	struct passwd pw, *res = NULL;
	char buf[1024];

	/* the uid is the kernel's word (libqb's peer credentials); the
	 * name is for people reading the log */
	if (getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &res) != 0)
		res = NULL;
	return confirm_note(note, len, res != NULL ? res->pw_name : NULL, uid,
			    sudo_user, self != NULL ? self->name : NULL, msg,
			    msglen);
}

/* "web1, db1" (at most CONFIRM_LIST_MAX names, then "and N more"). */
static void
restarts_text(const struct state *st, uint32_t host, char *buf, size_t len)
{
	const char *names[CONFIRM_LIST_MAX];
	size_t n = confirm_restarts(st, host, names, CONFIRM_LIST_MAX), i, used;

	if (n == 0) {
		xm_why(buf, len, "no HA VM waits for it");
		return;
	}
	xm_why(buf, len, "%zu VM%s restart%s through the normal recovery path: ",
		n, n == 1 ? "" : "s", n == 1 ? "s" : "");
	for (i = 0; i < n && i < CONFIRM_LIST_MAX; i++) {
		used = strlen(buf);
		if (used + 1 >= len)
			return;
		(void)snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
			       names[i]);
	}
	used = strlen(buf);
	if (n > CONFIRM_LIST_MAX && used + 1 < len)
		(void)snprintf(buf + used, len - used, " and %zu more",
			       n - CONFIRM_LIST_MAX);
}

static void
confirm(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
	const Xenmesh__CtlRequest *req, bool vm)
{
	const char *cmd = vm ? "vm reset-state" : "node confirm-down";
	Xenmesh__OpConfirmDown cd = XENMESH__OP_CONFIRM_DOWN__INIT;
	Xenmesh__Op op = XENMESH__OP__INIT;
	const struct node_rec *host = NULL;
	char msg[CONFIRM_MSG_MAX], note[CONFIRM_NOTE_MAX];
	char list[CTL_MUTATION_TEXT_MAX];
	struct ctl_mutation m;
	int rc;

	/* a person's word that a machine is off: not for a delegated group */
	if (uid != 0) {
		log_warn("uid %u refused: %s", (unsigned)uid, cmd);
		(void)eventlog_add(&a->events, a->rep.st.epoch, a->rep.st.seq, 0,
				   "access", "uid %u refused: %s", (unsigned)uid,
				   cmd);
		xm_why(msg, sizeof(msg), "permission denied: %s needs root", cmd);
		ctl_server_reply(c, -EACCES, msg);
		return;
	}
	if (req->n_args != 2 || req->args[0][0] == '\0') {
		xm_why(msg, sizeof(msg), "%s needs a %s name and the host name "
			"typed to confirm it", cmd, vm ? "VM" : "host");
		ctl_server_reply(c, -EINVAL, msg);
		return;
	}
	rc = cluster_ready(a, msg, sizeof(msg));
	if (rc == 0)
		rc = vm ? confirm_vm_check(&a->rep.st, req->args[0], &host, msg,
					   sizeof(msg)) :
			confirm_host_check(&a->rep.st, req->args[0], &host, msg,
					   sizeof(msg));
	/* unclean but back in the group: its agent runs, so the host is not
	 * off, whatever anyone checked; its own fence settles it */
	for (size_t i = 0; rc == 0 && i < a->rep.n_members; i++) {
		if (a->rep.members[i].nodeid != host->id)
			continue;
		xm_why(msg, sizeof(msg), "%s is in the cluster's membership "
			"again (its agent runs): it is not off; its fence "
			"completes without a confirmation", host->name);
		rc = -EBUSY;
	}
	if (rc < 0) {
		log_info("uid %u: %s %s refused: %s", (unsigned)uid, cmd,
			 req->args[0], msg);
		ctl_server_reply(c, rc, msg);
		return;
	}
	/* the name typed back is the confirmation: agentctl asks for it (or
	 * takes --yes-i-checked HOST); checked here too, so that no client
	 * can skip it */
	if (strcmp(req->args[1], host->name) != 0) {
		if (req->args[1][0] == '\0')
			xm_why(msg, sizeof(msg), "%s %s: not confirmed; nothing "
				"changed", vm ? "VM" : "host", req->args[0]);
		else if (vm)
			xm_why(msg, sizeof(msg), "VM %s is on %s: the host name "
				"confirmed (%.64s) is not %s; nothing changed",
				req->args[0], host->name, req->args[1], host->name);
		else
			xm_why(msg, sizeof(msg), "the host name confirmed (%.64s) "
				"is not %s; nothing changed", req->args[1],
				host->name);
		log_info("uid %u: %s %s refused: %s", (unsigned)uid, cmd,
			 req->args[0], msg);
		ctl_server_reply(c, -EINVAL, msg);
		return;
	}
	rc = note_make(a, uid, req->confirmed_by, note, sizeof(note), msg,
		       sizeof(msg));
	if (rc < 0) {
		ctl_server_reply(c, rc, msg);
		return;
	}

	memset(&m, 0, sizeof(m));
	m.uid = uid;
	m.node = host->id;
	cd.host = host->id;
	cd.note = note;
	if (vm) {
		cd.vm = req->args[0];
		xm_why(m.what, sizeof(m.what), "vm reset-state %.64s (host %s)",
			req->args[0], host->name);
		xm_why(m.done, sizeof(m.done), "VM %.64s declared stopped (%s); "
			"it starts again as the admin wants it, once no host is "
			"unclean", req->args[0], note);
		log_warn("uid %u declares VM %s stopped, its host %s being off: "
			 "%s", (unsigned)uid, req->args[0], host->name, note);
	} else {
		restarts_text(&a->rep.st, host->id, list, sizeof(list));
		xm_why(m.what, sizeof(m.what), "node confirm-down %s", host->name);
		xm_why(m.done, sizeof(m.done), "%s confirmed down and fenced "
			"(%s); %s", host->name, note, list);
		log_warn("uid %u confirms %s down, every fence method having "
			 "failed: %s", (unsigned)uid, host->name, note);
	}
	op.kind_case = XENMESH__OP__KIND_CONFIRM_DOWN;
	op.confirm_down = &cd;
	ctl_server_submit(a, c, &m, &op);
}

void
ctl_confirm_request(struct agent *a, qb_ipcs_connection_t *c, uint32_t uid,
		    const Xenmesh__CtlRequest *req)
{
	switch (req->command) {
	case XENMESH__CTL_COMMAND__CTL_NODE_CONFIRM_DOWN:
		confirm(a, c, uid, req, false);
		break;
	case XENMESH__CTL_COMMAND__CTL_VM_RESET_STATE:
		confirm(a, c, uid, req, true);
		break;
	default:
		ctl_server_reply(c, -EOPNOTSUPP, "not a confirmation command");
		break;
	}
}
